"""``fncache.compile.debugmode``: Theano's place for ``fc.DebugMode`` (``fncache/mode.py``) and
the errors it raises (``fncache/errors.py``)."""

from __future__ import annotations

from ..errors import (
    BadDestroyMap,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
    StridesMismatch,
)
from ..mode import DebugMode

__all__ = [
    "BadDestroyMap",
    "BadThunkOutput",
    "BadViewMap",
    "DebugMode",
    "DebugModeError",
    "InvalidValueError",
    "StochasticOrder",
    "StridesMismatch",
]
