"""``fncache.compile.monitormode``: Theano's place for ``fc.MonitorMode`` (``fncache/mode.py``)."""

from __future__ import annotations

from ..mode import MonitorMode

__all__ = ["MonitorMode"]
