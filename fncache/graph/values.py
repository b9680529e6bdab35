"""Values given for a ``TensorType``: converted to an aligned, native-order ndarray of exactly
that type, or refused with a TypeError that says where, what was expected, what was given and
the fix. Function inputs (``fncache/runtime/inputs.py``) and ``TensorType.filter`` share it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .basic import Variable

if TYPE_CHECKING:
    from .types import TensorType

__all__ = ["convert_value", "describe_value"]


def describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array with {value.ndim} dim(s) (shape {value.shape})"
    return f"{type(value).__name__} {value!r}"[:200]


def _expected(t: TensorType) -> str:
    return f"a {t.dtype} array with {t.ndim} dim(s)"


def convert_value(
    t: TensorType, value: Any, allow_downcast: bool, where: str, strict: bool = False
) -> np.ndarray:
    """``value`` as an aligned, native-order ndarray of exactly ``t``. ``strict``: only an
    ndarray of ``t``'s dtype is accepted (Theano's ``filter(strict=True)``)."""
    from .types import native_array

    if isinstance(value, Variable):
        raise TypeError(
            f"{where}: expected {_expected(t)}, got the symbolic variable {value!r}; pass a "
            "numeric value (a symbolic one is an input of the graph, not a value)"
        )
    if strict and not (isinstance(value, np.ndarray) and value.dtype.name == t.dtype):
        raise TypeError(
            f"{where}: strict conversion expects an ndarray of dtype {t.dtype}, got "
            f"{describe_value(value)}; convert it first (np.asarray(x, dtype='{t.dtype}'))"
        )
    # Python numbers and lists of them carry no dtype of their own (numpy's weak scalars).
    untyped = isinstance(value, (bool, int, float, complex, list, tuple)) and not isinstance(
        value, np.generic
    )
    if hasattr(value, "get") and type(value).__module__.startswith("pycuda"):
        value = value.get()
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists and the like
        raise TypeError(
            f"{where}: expected {_expected(t)}, got {describe_value(value)} that "
            f"numpy cannot turn into an array ({e})"
        ) from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{where}: expected {_expected(t)}, got {describe_value(value)} "
            f"(numpy dtype {arr.dtype}). Pass numeric data."
        )
    if arr.ndim != t.ndim:
        raise TypeError(
            f"{where}: wrong number of dimensions: expected {_expected(t)}, got "
            f"{describe_value(value)}. Fix: reshape the data (e.g. np.reshape/np.atleast_"
            f"{max(t.ndim, 1)}d) or declare the input with ndim={arr.ndim}."
        )
    for d, (s, v) in enumerate(zip(t.shape, arr.shape)):
        if s is not None and s != v:
            raise TypeError(f"{where}: dim {d} must have size {s} (declared), got shape {arr.shape}")
    if arr.dtype.name != t.dtype:
        target = np.dtype(t.dtype)
        ok = np.can_cast(arr.dtype, target, "safe")
        if not ok and untyped:
            # Untyped values are accepted when they convert exactly (floats: to any float,
            # complex numbers: to any complex dtype).
            with np.errstate(all="ignore"):
                cast = arr.astype(target) if arr.dtype.kind != "c" or target.kind == "c" else None
            ok = cast is not None and (
                bool(np.array_equal(cast, arr)) or (arr.dtype.kind in "fc" and target.kind == arr.dtype.kind)
            )
        if not ok and not allow_downcast:
            raise TypeError(
                f"{where}: expected {_expected(t)}, got {describe_value(value)}; converting "
                f"{arr.dtype} to {t.dtype} could lose data. Fix: cast it yourself "
                f"(np.asarray(x, dtype='{t.dtype}')), or compile with "
                "allow_input_downcast=True."
            )
        arr = arr.astype(target)
    return native_array(arr)
