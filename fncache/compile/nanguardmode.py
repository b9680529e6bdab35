"""``fncache.compile.nanguardmode.NanGuardMode``: Theano's place for ``fc.NanGuardMode``
(``fncache/mode.py``)."""

from __future__ import annotations

from ..mode import NanGuardMode

__all__ = ["NanGuardMode"]
