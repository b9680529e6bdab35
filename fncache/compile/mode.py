"""``fncache.compile.mode``: Theano/PyTensor's module of compilation modes (``fc.Mode``,
README "Compiling", modes)."""

from __future__ import annotations

from ..mode import FAST_COMPILE, FAST_RUN, Mode, get_mode

__all__ = ["FAST_COMPILE", "FAST_RUN", "Mode", "get_default_mode", "get_mode"]


def get_default_mode() -> Mode:
    """The mode a function compiles under when given none: ``config.mode``'s."""
    return get_mode(None)
