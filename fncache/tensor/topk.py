"""Theano's ``topk``, ``argtopk`` and ``topk_and_argtopk``: the ``k`` largest (or smallest)
elements along an axis and where they are.

Slices of ``sort`` and ``argsort`` along the axis (O(n log n) rather than a partition's O(n), for
graphs that compile and differentiate as sorting does: the values' gradient goes back to the
elements they came from).
"""

from __future__ import annotations

from typing import Any

from ..graph.basic import Variable
from ..graph.types import is_complex, is_int, normalize_dtype
from .array_ops import argsort, sort
from ..graph.args import int_arg
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .pyop import assert_op
from .reduction import one_axis

__all__ = ["topk", "argtopk", "topk_and_argtopk"]


def _top(x: Any, kth: Any, axis: Any, what: str) -> tuple[Variable, int, Any]:
    """``x`` (its length along the axis checked to hold ``|kth|`` elements), the axis and the
    slice of the sorted axis that holds the answer, largest (``kth > 0``) or smallest first."""
    v = as_tensor_variable(x)
    if is_complex(v.dtype):
        raise TypeError(f"{what}: complex tensors have no order, got {v.type}")
    if v.ndim == 0:
        raise ValueError(f"{what}: a 0-d tensor has no axis to take elements along; give a 1-d or more")
    kth = int_arg(kth, what, "kth")
    if kth == 0:
        raise ValueError(
            f"{what}: kth must be a non-zero int (k > 0 for the k largest, k < 0 for the |k| smallest), got {kth!r}"
        )
    if axis is None:
        raise ValueError(f"{what}: axis must be an int, got None; flatten x first for all its elements")
    ax = one_axis(axis, v.ndim, what)
    k = abs(int(kth))
    n = v.type.shape[ax]
    if n is not None and k > n:
        raise ValueError(f"{what}: kth={kth} asks for {k} elements of an axis of {n}; give |kth| <= {n}")
    if n is None:
        fits = elemwise("le", k, v.shape[ax])
        v = assert_op(
            v, fits, f"{what}: kth={kth} asks for more elements than axis {ax} holds; give a smaller |kth|"
        )
    # ascending order: the largest are the last k, reversed; the smallest the first k
    part = slice(None, -k - 1, -1) if kth > 0 else slice(None, k)
    return v, ax, (slice(None),) * ax + (part,)


def topk(x: Any, kth: int, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64") -> Variable:
    """Theano's ``topk``: the ``kth`` largest elements of ``x`` along ``axis`` (the ``|kth|``
    smallest for a negative ``kth``), largest (smallest) first, whatever ``sorted``; NaN sorts
    above every number, as numpy.sort. Differentiable: the gradient goes to the elements taken."""
    v, ax, part = _top(x, kth, axis, "topk")
    return sort(v, ax)[part]


def argtopk(x: Any, kth: int, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64") -> Variable:
    """Theano's ``argtopk``: the indices along ``axis`` of :func:`topk`'s elements, of the int
    dtype ``idx_dtype``."""
    v, ax, part = _top(x, kth, axis, "argtopk")
    return _indices(argsort(v, ax)[part], idx_dtype)


def topk_and_argtopk(
    x: Any, kth: int, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64"
) -> tuple[Variable, Variable]:
    """Theano's ``topk_and_argtopk``: ``(topk(x, kth, axis), argtopk(x, kth, axis))``."""
    v, ax, part = _top(x, kth, axis, "topk_and_argtopk")
    return sort(v, ax)[part], _indices(argsort(v, ax)[part], idx_dtype)


def _indices(idx: Variable, idx_dtype: Any) -> Variable:
    dt = normalize_dtype(idx_dtype, "argtopk")
    if not is_int(dt):
        raise TypeError(f"argtopk: idx_dtype must be an int dtype, got {idx_dtype!r}")
    return idx if dt == idx.dtype else cast(idx, dt)
