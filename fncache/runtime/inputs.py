"""Input checking and conversion (errors that name the input, what was expected and the fix). The C runner checks the exact-type case
itself and calls :func:`convert_input` only for everything else."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.types import TensorType, native_array

__all__ = ["convert_input", "describe_value"]


def describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array with {value.ndim} dim(s) (shape {value.shape})"
    return f"{type(value).__name__} {value!r}"[:200]


def _expected(t: TensorType) -> str:
    return f"a {t.dtype} array with {t.ndim} dim(s)"


def convert_input(
    fname: str, index: int, name: str | None, t: TensorType, value: Any, allow_downcast: bool
) -> np.ndarray:
    """``value`` as an aligned, native-order ndarray of exactly ``t``, or a TypeError that
    says which input, what was expected, what was given and how to fix it."""
    where = f"input {index}" + (f" ('{name}')" if name else "") + f" of function {fname!r}"
    # Python numbers and lists of them carry no dtype of their own (numpy's weak scalars).
    untyped = isinstance(value, (bool, int, float, list, tuple)) and not isinstance(value, np.generic)
    if hasattr(value, "get") and type(value).__module__.startswith("pycuda"):
        value = value.get()
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists and the like
        raise TypeError(
            f"{where}: expected {_expected(t)}, got {describe_value(value)} that "
            f"numpy cannot turn into an array ({e})"
        ) from None
    if arr.dtype.kind not in "biuf":
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
            # Untyped values are accepted when they convert exactly (floats: to any float).
            with np.errstate(all="ignore"):
                cast = arr.astype(target)
            ok = bool(np.array_equal(cast, arr)) or (arr.dtype.kind == "f" and target.kind == "f")
        if not ok and not allow_downcast:
            raise TypeError(
                f"{where}: expected {_expected(t)}, got {describe_value(value)}; converting "
                f"{arr.dtype} to {t.dtype} could lose data. Fix: cast it yourself "
                f"(np.asarray(x, dtype='{t.dtype}')), or compile with "
                "allow_input_downcast=True."
            )
        arr = arr.astype(target)
    return native_array(arr)
