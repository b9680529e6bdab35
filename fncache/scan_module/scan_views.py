"""``theano.scan_module.scan_views``: ``map``, ``reduce``, ``foldl`` and ``foldr``."""

from __future__ import annotations

from ..tensor.scan_views import foldl, foldr, map, reduce

__all__ = ["foldl", "foldr", "map", "reduce"]
