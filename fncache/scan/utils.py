"""``fncache.scan.utils``, PyTensor's module of ``until``, the stop condition a step returns."""

from __future__ import annotations

from ..tensor.scan import until

__all__ = ["until"]
