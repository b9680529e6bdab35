"""``fncache.compile.profiling``: Theano's module of ``ProfileStats``, what ``f.profile`` of a
function compiled with ``profile=True`` holds (README "Compiling")."""

from __future__ import annotations

from ..runtime.profiling import ProfileStats

__all__ = ["ProfileStats"]
