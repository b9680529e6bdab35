"""``fncache.tensor.sort``, Theano's and PyTensor's module path of the sorting functions
(``from pytensor.tensor.sort import argsort, sort, topk``): the front end's own."""

from __future__ import annotations

from .array_ops import Sort, StableArgsort, argsort, sort
from .topk import argtopk, topk, topk_and_argtopk

__all__ = ["Sort", "StableArgsort", "argsort", "argtopk", "sort", "topk", "topk_and_argtopk"]
