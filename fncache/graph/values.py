"""Values given for a ``TensorType``: converted to an aligned, native-order ndarray of exactly
that type, or refused with a TypeError that says where, what was expected, what was given and
the fix. Function inputs (``fncache/runtime/inputs.py``) and ``TensorType.filter`` share it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .basic import Variable

if TYPE_CHECKING:
    from .types import TensorType

__all__ = ["convert_value", "describe_value", "plain_scalar"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

#: numpy scalar type -> dtype name, for the exact-type fast path below.
_SCALAR_DTYPE = {
    np.dtype(name).type: name
    for name in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64 complex64 complex128".split()
    )
}


def plain_scalar(t: TensorType, value: Any, allow_downcast: bool | None) -> np.ndarray | None:
    """A 0-d array for the scalars that convert without a question, else None: a Python float
    for float64, or for float32 unless ``allow_downcast`` is False (that rounds it), an
    int64-range int for int64 or float64 (numpy casts int64 to float64 as safe), a bool for
    bool, a numpy scalar of the type's own dtype. Scalar inputs such as a learning rate come
    with every call: the general path below (numpy's dtype names and casting rules) costs
    several microseconds, this one a fraction of one."""
    kind = type(value)
    dtype = t.dtype
    if (
        (kind is float and (dtype == "float64" or (dtype == "float32" and allow_downcast is not False)))
        or (kind is int and (dtype == "int64" or dtype == "float64") and _INT64_MIN <= value <= _INT64_MAX)
        or (kind is bool and dtype == "bool")
        or _SCALAR_DTYPE.get(kind) == dtype
    ):
        return np.array(value, dtype=dtype)
    return None


def describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array with {value.ndim} dim(s) (shape {value.shape})"
    return f"{type(value).__name__} {value!r}"[:200]


def _expected(t: TensorType) -> str:
    return f"a {t.dtype} array with {t.ndim} dim(s)"


def convert_value(
    t: TensorType, value: Any, allow_downcast: bool | None, where: str, strict: bool = False
) -> np.ndarray:
    """``value`` as an aligned, native-order ndarray of exactly ``t``. ``strict``: only an
    ndarray of ``t``'s dtype is accepted (Theano's ``filter(strict=True)``). ``allow_downcast``
    (PyTensor's ``allow_input_downcast``): True casts anything; None (the default) takes safe
    casts, values that convert exactly, and Python floats (np.float64 included, and lists of
    them) rounded into any float dtype; False takes only safe casts and values that convert exactly."""
    if t.ndim == 0 and not strict:
        fast = plain_scalar(t, value, allow_downcast)
        if fast is not None:
            return fast
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
    # Python numbers and lists of them carry no dtype of their own (numpy's weak scalars). An
    # np.float64 is a Python float too (its subclass), taken as one as Theano and PyTensor take
    # it: a learning rate that numpy computed (``0.5 * 0.95 ** epoch``) goes into a float32 input.
    untyped = isinstance(value, float) or (
        isinstance(value, (bool, int, complex, list, tuple)) and not isinstance(value, np.generic)
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
            # Untyped values are accepted when they convert exactly; unless allow_downcast is
            # False, floats also when rounded to any float dtype (complex: to any complex).
            with np.errstate(all="ignore"):
                cast = arr.astype(target) if arr.dtype.kind != "c" or target.kind == "c" else None
            ok = cast is not None and (
                bool(np.array_equal(cast, arr, equal_nan=arr.dtype.kind in "fc"))
                or (allow_downcast is None and arr.dtype.kind in "fc" and target.kind == arr.dtype.kind)
            )
        if not ok and not allow_downcast:
            if untyped and allow_downcast is False and arr.dtype.kind == target.kind:
                problem = "does not give the same values, and downcasting is off (allow_downcast False)"
                other = (
                    "pass allow_input_downcast=None (Python floats rounded) or True (anything cast) "
                    "to fc.function (fc.In: allow_downcast=)"
                )
            else:
                problem, other = "could lose data", "compile with allow_input_downcast=True"
            raise TypeError(
                f"{where}: expected {_expected(t)}, got {describe_value(value)}; converting "
                f"{arr.dtype} to {t.dtype} {problem}. Fix: cast it yourself "
                f"(np.asarray(x, dtype='{t.dtype}')), or {other}."
            )
        arr = arr.astype(target)
    return native_array(arr)
