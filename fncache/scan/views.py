"""``fncache.scan.views``, PyTensor's module of ``map``, ``reduce``, ``foldl``, ``foldr`` and
``filter`` (loops written with ``scan``: ``fncache/tensor/scan_views.py``)."""

from __future__ import annotations

from ..tensor.scan_views import filter, foldl, foldr, map, reduce

__all__ = ["filter", "foldl", "foldr", "map", "reduce"]
