"""``fncache.scan.basic``, PyTensor's module of ``scan`` (``fncache/tensor/scan.py``)."""

from __future__ import annotations

from ..tensor.scan import scan

__all__ = ["scan"]
