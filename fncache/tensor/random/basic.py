"""``fncache.tensor.random.basic``: PyTensor's random functions (``pt.random.normal(loc,
scale, size=..., rng=..., return_next_rng=True)``), each a draw of the ``RandomStream``
method of the same name.

``rng`` is a random state (``pt.random.shared_rng(seed=1)``, ``fc.shared(np.random.default_rng(1))``,
a symbolic ``pt.random.rng("rng")``, or the next state of an earlier draw): the draw is a
function of the state, ``return_next_rng=True`` returns ``(next_rng, draw)`` and, as in
PyTensor, a function draws new numbers only where it updates the state
(``updates={rng: next_rng}``). ``rng`` may also be a ``fc.RandomStream`` (reproducible), and
without one the draw gets a stream of its own with a fresh seed; such draws change on every
call of the function (the stream's counter is a default update)."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from ...graph.basic import Variable
from ..basic import as_tensor_variable
from . import DRAWS, RandomStream, StateDraws
from .type import random_generator_type

__all__ = list(DRAWS)

_MAKE_STATE = (
    "pt.random.shared_rng(seed=...) or fc.shared(np.random.default_rng(seed)) for a shared "
    "state, pt.random.rng('rng') for a function input"
)


def _is_state(rng: Any) -> bool:
    """A variable holding ``[seed, counter]``: a ``RandomGeneratorType`` one, or any uint64
    vector of two (a state carried through ``scan`` comes back as one)."""
    return isinstance(rng, Variable) and rng.type == random_generator_type


def _stream(rng: Any, what: str) -> RandomStream:
    """The stream a draw without a random state draws from, or a TypeError saying what ``rng``
    may be."""
    if rng is None:
        return RandomStream()
    if isinstance(rng, RandomStream):
        return rng
    if isinstance(rng, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        fix = f"make it a shared random state: rng=fc.shared(generator), then {what}(..., rng=rng)"
    elif isinstance(rng, Variable):
        fix = f"{rng!r} is a {rng.type!r} variable, not a random state; make one with {_MAKE_STATE}"
    else:
        fix = f"make a random state with {_MAKE_STATE}, or a stream with fc.RandomStream(seed)"
    raise TypeError(
        f"{what}: rng must be a random state, an fc.RandomStream or None (a fresh seed), got "
        f"{type(rng).__name__}; {fix}"
    )


def _gamma(shape: Any, rate: Any = None, scale: Any = None, size: Any = None, dtype: Any = None) -> Any:
    """PyTensor's ``gamma(shape, rate=None, scale=None)``: a second argument is the rate, ``1 /
    scale`` (``RandomStream.gamma``'s is numpy's scale); neither gives scale 1."""
    if rate is not None and scale is not None:
        raise ValueError("gamma: give rate or scale, not both (the scale is 1 / rate)")
    if rate is not None:
        scale = 1.0 / (rate if isinstance(rate, (int, float, np.number)) else as_tensor_variable(rate))
    return (shape, 1.0 if scale is None else scale), {"size": size, "dtype": dtype}


def _beta(alpha: Any, beta: Any, size: Any = None, dtype: Any = None) -> Any:
    """PyTensor's ``beta(alpha, beta)``: numpy's ``a`` and ``b``."""
    return (alpha, beta), {"size": size, "dtype": dtype}


def _multinomial(n: Any, p: Any, size: Any = None, dtype: Any = "int64") -> Any:
    """PyTensor's ``multinomial(n, p)``: numpy's ``pvals``."""
    return (n, p), {"size": size, "dtype": dtype}


#: PyTensor's arguments of the draws whose ``RandomStream`` methods take numpy's: each gives
#: the method's positional and keyword arguments
_PYTENSOR_ARGS: dict[str, Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "gamma": _gamma,
    "beta": _beta,
    "multinomial": _multinomial,
}


def _draw(which: str) -> Callable[..., Any]:
    method = getattr(RandomStream, which)
    adapt = _PYTENSOR_ARGS.get(which)

    def draw(
        *args: Any, rng: Any = None, return_next_rng: bool = False, name: str | None = None, **kwargs: Any
    ) -> Any:
        if not isinstance(return_next_rng, (bool, np.bool_)):
            raise TypeError(f"{which}: return_next_rng must be True or False, got {return_next_rng!r}")
        if adapt is not None:
            args, kwargs = adapt(*args, **kwargs)
        if rng is None and return_next_rng:
            from .variable import shared_rng

            rng = shared_rng(seed=None)
        if _is_state(rng):
            sample = getattr(StateDraws(rng), which)(*args, **kwargs)
        elif return_next_rng:
            raise ValueError(
                f"{which}: return_next_rng=True needs a random state as rng, got "
                f"{type(rng).__name__} (a RandomStream's draws advance their own counters: "
                f"x.owner.outputs[0]); make a state with {_MAKE_STATE}"
            )
        else:
            sample = getattr(_stream(rng, which), which)(*args, **kwargs)
        if name is not None:
            sample.name = name
        return (sample.owner.outputs[0], sample) if return_next_rng else sample

    draw.__name__ = draw.__qualname__ = which
    # the method's parameters and the three of a draw, for help() and inspect.signature
    own = list(inspect.signature(method).parameters.values())[1:]
    if adapt is not None:
        own = list(inspect.signature(adapt).parameters.values())
    extra = inspect.signature(draw).parameters
    draw.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*own, extra["rng"], extra["return_next_rng"], extra["name"]]
    )
    pytensors = f"{adapt.__doc__}\n\n" if adapt is not None else ""
    draw.__doc__ = (
        f"{method.__doc__}\n\n{pytensors}Drawn from ``rng``: a random state (with ``return_next_rng=True``, "
        "returns ``(next_rng, draw)``), an ``fc.RandomStream``, or None (a fresh seed)."
    )
    return draw


globals().update({name: _draw(name) for name in DRAWS})
