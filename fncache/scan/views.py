"""``fncache.scan.views``, PyTensor's module of ``map``, ``reduce``, ``foldl`` and ``foldr``
(loops written with ``scan``: ``fncache/tensor/scan_views.py``)."""

from __future__ import annotations

from ..tensor.scan_views import foldl, foldr, map, reduce

__all__ = ["foldl", "foldr", "map", "reduce"]
