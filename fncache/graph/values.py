"""Values given for a ``TensorType``: converted to an aligned, native-order ndarray of exactly
that type, or refused with a TypeError that says where, what was expected, what was given and
the fix. Function inputs (``fncache/runtime/inputs.py``) and ``TensorType.filter`` share it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import config
from .basic import Variable

if TYPE_CHECKING:
    from .types import TensorType

__all__ = ["convert_value", "describe_value", "plain_scalar"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: numpy scalar type -> dtype name, for the exact-type fast path below.
_SCALAR_DTYPE = {
    np.dtype(name).type: name
    for name in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64 complex64 complex128".split()
    )
}


#: (config.version, floatX) of the last read: reading a flag costs a microsecond, more than the
#: fast path below takes
_floatx_memo: tuple[int, str] = (-1, "")


def _floatx() -> str:
    global _floatx_memo
    version = config.version
    if _floatx_memo[0] != version:
        _floatx_memo = (version, config.floatX)
    return _floatx_memo[1]


def plain_scalar(t: TensorType, value: Any, allow_downcast: bool | None) -> np.ndarray | None:
    """A 0-d array for the scalars that convert without a question, else None: a Python float
    for float64, or for float32 when ``allow_downcast`` is None and floatX is float32 (that
    rounds it, PyTensor's rule), an int64-range int for int64 or float64 (numpy casts int64 to
    float64 as safe), a bool for bool, a numpy scalar of the type's own dtype. Scalar inputs
    such as a learning rate come with every call: the general path below (numpy's dtype names
    and casting rules) costs several microseconds, this one a fraction of one."""
    kind = type(value)
    dtype = t.dtype
    if (
        (
            kind is float
            and (
                dtype == "float64"
                or (
                    dtype == "float32"
                    and allow_downcast is None
                    and -_FLOAT32_MAX <= value <= _FLOAT32_MAX  # no overflow to inf (nor nan)
                    and _floatx() == "float32"
                )
            )
        )
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
    t: TensorType,
    value: Any,
    allow_downcast: bool | None,
    where: str,
    strict: bool = False,
    fix: str | None = None,
) -> np.ndarray:
    """``value`` as an aligned, native-order ndarray of exactly ``t``. ``strict``: only an
    ndarray of ``t``'s dtype is accepted (Theano's ``filter(strict=True)``). ``allow_downcast``
    (PyTensor's ``allow_input_downcast``): True casts anything; False takes safe casts, and
    numbers, numpy scalars and lists of them that convert exactly; None (the default) also
    rounds one float (a Python float or a numpy scalar) into floatX, PyTensor's rule, unless
    it would overflow to inf. ``fix``: what a refusal of a wrong dtype or ndim tells to do
    where the value is no function input (an op's output: the op must change, not the call)."""
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
    # Python numbers, numpy scalars and lists of them are taken when they convert exactly, as
    # PyTensor takes them (np.int64(3) into an int32 input); an array's dtype is its own, and
    # converts only by a safe cast.
    untyped = isinstance(value, (bool, int, float, complex, list, tuple, np.generic))
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
            f"{describe_value(value)}. "
            + (
                fix
                or f"Fix: reshape the data (e.g. np.reshape/np.atleast_{max(t.ndim, 1)}d) or declare "
                f"the input with ndim={arr.ndim}"
            )
            + "."
        )
    for d, (s, v) in enumerate(zip(t.shape, arr.shape)):
        if s is not None and s != v:
            raise TypeError(f"{where}: dim {d} must have size {s} (declared), got shape {arr.shape}")
    if arr.dtype.name != t.dtype:
        target = np.dtype(t.dtype)
        if not (np.can_cast(arr.dtype, target, "safe") or allow_downcast):
            refused = (
                _refusal(t, value, arr, target, allow_downcast, fix)
                if untyped
                else f"could lose data. {_fix(t, fix)}."
            )
            if refused:
                raise TypeError(
                    f"{where}: expected {_expected(t)}, got {describe_value(value)}; converting "
                    f"{arr.dtype} to {t.dtype} {refused}"
                )
        with np.errstate(all="ignore"):
            arr = arr.astype(target)
    return native_array(arr)


def _fix(t: TensorType, fix: str | None = None) -> str:
    return fix or (
        f"Fix: cast it yourself (np.asarray(x, dtype='{t.dtype}')), or pass allow_input_downcast=True "
        "to fc.function (fc.In: allow_downcast=True)"
    )


def _refusal(
    t: TensorType,
    value: Any,
    arr: np.ndarray,
    target: np.dtype,
    allow_downcast: bool | None,
    fix: str | None = None,
) -> str:
    """Why a number or list ``value`` (``arr``) that no safe cast takes to ``target`` is
    refused, with the fix; "" where it is taken: when it converts exactly, or when
    ``allow_downcast`` is None and it is one float and ``target`` is floatX (PyTensor's rule:
    a literal ``0.1`` goes into a float32 input when float32 is the configured float), unless
    it would overflow to inf (PyTensor's inf is a wrong result nothing reports)."""
    if arr.dtype.kind == "c" and target.kind != "c":
        return f"could lose data (the imaginary part). {_fix(t, fix)}."
    with np.errstate(all="ignore"):
        cast = arr.astype(target)
    if np.array_equal(cast, arr, equal_nan=arr.dtype.kind in "fc"):
        return ""
    one_float = isinstance(value, (float, np.floating))
    if allow_downcast is None and one_float and t.dtype == _floatx():
        if not np.isinf(cast) or np.isinf(arr):
            return ""
        return (
            f"overflows to inf ({t.dtype}'s largest is {np.finfo(target).max:.7g}). Fix: pass a "
            f"value {t.dtype} holds, or allow_input_downcast=True to take inf."
        )
    how = "does not give the same values"
    if allow_downcast is False:
        floatx = f", or None (the default) with floatX={t.dtype}" if one_float and target.kind == "f" else ""
        return f"{how}, and downcasting is off (allow_downcast False). {_fix(t, fix)}{floatx}."
    if one_float and target.kind == "f":
        return (
            f"{how}; a Python float is rounded only into floatX ({_floatx()} now). "
            f"{_fix(t, fix)}, or set floatX={t.dtype}."
        )
    if arr.dtype.kind == "f" and target.kind == "f":  # PyTensor rounds one float, never a list
        return f"{how}; a list of floats is not rounded, only one float into floatX. {_fix(t, fix)}."
    return f"{how}. {_fix(t, fix)}."
