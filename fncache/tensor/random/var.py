"""``fncache.tensor.random.var``, PyTensor's older module path of
``RandomGeneratorSharedVariable`` (``fncache/tensor/random/variable.py``)."""

from __future__ import annotations

from .variable import RandomGeneratorSharedVariable

__all__ = ["RandomGeneratorSharedVariable"]
