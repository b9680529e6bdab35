"""``fncache.scan.checkpoints``, PyTensor's module of ``scan_checkpoints``
(``fncache/tensor/scan_checkpoints.py``)."""

from __future__ import annotations

from ..tensor.scan_checkpoints import scan_checkpoints

__all__ = ["scan_checkpoints"]
