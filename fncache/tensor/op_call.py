"""PyTensor's keywords of an Op's call, ``name=`` and ``return_list=``, on fncache's functions.

In PyTensor ``pt.exp``, ``pt.add``, ``pt.switch``, ``pt.linalg.det`` ... are Op instances, and
calling one takes ``name="y"`` (the output's name, ``name_0``, ``name_1``, ... for several) and
``return_list=True`` (the outputs as a list); here they are functions, which :func:`op_call`
gives the same two keywords.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

from ..graph.basic import Variable, output_names

F = TypeVar("F", bound=Callable[..., Any])

_KEYWORDS = (
    inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"),
    inspect.Parameter("return_list", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool"),
)


def _named(out: Variable, name: str, inputs: tuple[Any, ...]) -> Variable:
    """``out`` named ``name``; a copy where ``out`` is a variable the caller holds already (an
    input returned unchanged, as ``add(x)`` is ``x``, or a graph input), which keeps its name."""
    if out.owner is None or any(out is a for a in inputs):
        return out.copy(name=name)
    out.name = name
    return out


def op_call(fn: F) -> F:
    """``fn`` taking PyTensor's ``name=`` and ``return_list=`` keywords besides its own."""

    @functools.wraps(fn)
    def call(*args: Any, name: str | None = None, return_list: bool = False, **kwargs: Any) -> Any:
        if name is not None:  # a name that is no string is refused before the graph is built
            output_names(name, 1, fn.__name__)
        out = fn(*args, **kwargs)
        several = isinstance(out, (tuple, list))
        if name is not None:
            inputs = args + tuple(kwargs.values())
            outs = list(out) if several else [out]
            outs = [_named(o, n, inputs) for o, n in zip(outs, output_names(name, len(outs), fn.__name__))]
            out = type(out)(outs) if several else outs[0]
        if return_list:
            return list(out) if several else [out]
        return out

    # the errors that name the function the user called read the outermost fncache frame's
    # code name (graph.args.entry_point): this wrapper's frame is ``fn``'s, by its name
    call.__code__ = call.__code__.replace(co_name=fn.__name__, co_qualname=fn.__qualname__)
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    params = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    call.__signature__ = sig.replace(parameters=[*params, *_KEYWORDS, *var_kw])  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]
