"""Variable constructors: ``ft.vector``, ``ft.matrix``..., constants and conversions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import config
from ..graph.basic import Variable
from ..graph.types import DTYPES, TensorType, normalize_dtype
from .variable import TensorConstant, TensorVariable

__all__ = ["tensor", "scalar", "vector", "matrix", "constant", "as_tensor_variable", "tensor3", "tensor4"]


def tensor(
    name: str | None = None, dtype: Any = None, ndim: int | None = None, shape: tuple | None = None
) -> TensorVariable:
    """A symbolic input of ``dtype`` (default ``config.floatX``) with ``ndim`` dims.

    ``shape`` may give static sizes (``None`` for unknown); a static 1 marks a broadcastable dim.
    """
    if isinstance(name, (np.dtype, type)) or name in DTYPES:
        raise TypeError(f"tensor(): the first argument is the name; did you mean tensor(dtype={name!r})?")
    if shape is None:
        if ndim is None:
            raise TypeError("tensor(): give ndim (or shape)")
        shape = (None,) * int(ndim)
    elif ndim is not None and ndim != len(shape):
        raise TypeError(f"tensor(): ndim={ndim} does not match shape={shape}")
    return TensorType(normalize_dtype(dtype, f"tensor {name!r}"), shape).make_variable(name)


def scalar(name: str | None = None, dtype: Any = None) -> TensorVariable:
    return tensor(name, dtype, 0)


def vector(name: str | None = None, dtype: Any = None) -> TensorVariable:
    return tensor(name, dtype, 1)


def matrix(name: str | None = None, dtype: Any = None) -> TensorVariable:
    return tensor(name, dtype, 2)


def tensor3(name: str | None = None, dtype: Any = None) -> TensorVariable:
    return tensor(name, dtype, 3)


def tensor4(name: str | None = None, dtype: Any = None) -> TensorVariable:
    return tensor(name, dtype, 4)


def constant(value: Any, name: str | None = None, dtype: Any = None) -> TensorConstant:
    """A constant. Python floats become ``config.floatX`` unless ``dtype`` is given."""
    if isinstance(value, Variable):
        raise TypeError(f"constant(): {value!r} is already symbolic")
    if dtype is None and isinstance(value, float):
        dtype = config.floatX
    arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=np.dtype(dtype))
    if arr.dtype.kind in "OUSV":
        raise TypeError(
            f"constant(): cannot make a numeric constant from {value!r} (numpy dtype {arr.dtype})"
        )
    dt = normalize_dtype(arr.dtype, "constant")
    arr = arr.astype(dt, copy=False)
    return TensorConstant(TensorType(dt, arr.shape), arr, name=name)


def as_tensor_variable(x: Any, name: str | None = None) -> Variable:
    """Variables pass through; numbers, lists and arrays become constants."""
    if isinstance(x, Variable):
        return x
    return constant(x, name=name)


def _shorthands() -> dict[str, TensorType]:
    """``dvector``, ``fmatrix``...: types, as in Theano; calling one makes a variable."""
    out: dict[str, TensorType] = {}
    for prefix, dt in (("f", "float32"), ("d", "float64"), ("i", "int32"), ("l", "int64"), ("b", "bool")):
        for kind, nd in (("scalar", 0), ("vector", 1), ("matrix", 2), ("tensor3", 3), ("tensor4", 4)):
            out[prefix + kind] = TensorType(dt, (None,) * nd)
    return out


_SHORTHANDS = _shorthands()
globals().update(_SHORTHANDS)
__all__ += list(_SHORTHANDS)
