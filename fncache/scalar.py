"""``fncache.scalar``, where Theano's and PyTensor's users look for dtype arithmetic:
``upcast(*dtypes)``, the dtype an elementwise op gives for inputs of those dtypes (the HMC
tutorial's ``accept.mean(dtype=theano.scalar.upcast(accept.dtype, rate.dtype))``). Their
scalar types and ops are not provided: fncache's scalars are 0-d tensors (``ft.dscalar``), and
its elementwise ops are built from the scalar ops of ``fncache.tensor.scalar_ops``."""

from __future__ import annotations

from typing import Any

from .graph.types import normalize_dtype
from .tensor import scalar_ops

__all__ = ["upcast"]


def upcast(*dtypes: Any) -> str:
    """The dtype of the sum of values of ``dtypes`` (names, numpy dtypes or types), as
    fncache's elementwise ops (numpy's promotion) give it: ``upcast('bool', 'float64')`` is
    float64."""
    if not dtypes:
        raise TypeError("upcast: give at least one dtype, e.g. upcast('int8', 'float32')")
    names = [normalize_dtype(d, "upcast") for d in dtypes]
    out = names[0]
    for name in names[1:]:
        out = scalar_ops.out_dtype("add", [out, name])
    return out
