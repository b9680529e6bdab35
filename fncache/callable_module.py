"""Modules that are also callable as a function of the same name (``fc.ifelse``, ``fc.scan``).

Theano's and PyTensor's paths make ``fncache.ifelse`` and ``fncache.scan`` modules
(``from fncache.scan.utils import until``) where ``fc.ifelse(...)`` and ``fc.scan(...)`` are
functions. Importing a submodule binds it as an attribute of its package, so the module is
what ``fc.scan`` ends up being; calling it calls the function."""

from __future__ import annotations

import sys
import types
from typing import Any, Callable


def make_callable(module_name: str, fn: Callable[..., Any]) -> None:
    """Make the loaded module ``module_name`` callable as ``fn`` (``inspect.signature`` of the
    module is ``fn``'s)."""

    class CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

    # an error naming the function the user called reads the outermost fncache frame's code
    # name (graph.args.entry_point): this frame is ``fn``'s, by its name
    CallableModule.__call__.__code__ = CallableModule.__call__.__code__.replace(co_name=fn.__name__)
    module = sys.modules[module_name]
    module.__class__ = CallableModule
    module.__wrapped__ = fn  # type: ignore[attr-defined]
