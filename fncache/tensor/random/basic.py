"""``fncache.tensor.random.basic``: PyTensor's random functions (``pt.random.normal(loc,
scale, size=..., rng=...)``), each a draw of the ``RandomStream`` method of the same name.

``rng`` is the stream to draw from (``fc.RandomStream(seed)``, reproducible); without one the
draw gets a stream of its own with a fresh seed, as PyTensor's draws without an ``rng`` get a
fresh generator. As every fncache draw, its value changes on every call of the function (the
stream's counter is a default update), where PyTensor's repeats unless given an update."""

from __future__ import annotations

from typing import Any, Callable

from ...graph.basic import Variable
from . import DRAWS, RandomStream

__all__ = list(DRAWS)


def _stream(rng: Any, what: str) -> RandomStream:
    if rng is None:
        return RandomStream()
    if isinstance(rng, RandomStream):
        return rng
    raise TypeError(
        f"{what}: rng must be an fc.RandomStream (or None for a fresh seed), got {type(rng).__name__}; "
        f"make one with fc.RandomStream(seed) and pass it as rng=, or call its method: stream.{what}(...)"
    )


def _draw(name: str) -> Callable[..., Variable]:
    method = getattr(RandomStream, name)

    def draw(*args: Any, rng: RandomStream | None = None, **kwargs: Any) -> Variable:
        return getattr(_stream(rng, name), name)(*args, **kwargs)

    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = f"{method.__doc__}\n\nDrawn from ``rng`` (an ``fc.RandomStream``; None: a fresh seed)."
    return draw


globals().update({name: _draw(name) for name in DRAWS})
