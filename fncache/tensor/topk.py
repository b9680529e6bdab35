"""Theano's ``topk``, ``argtopk`` and ``topk_and_argtopk``: the ``k`` largest (or smallest)
elements along an axis and where they are.

Slices of ``sort`` and ``argsort`` along the axis (O(n log n) rather than a partition's O(n), for
graphs that compile and differentiate as sorting does: the values' gradient goes back to the
elements they came from).
"""

from __future__ import annotations

from typing import Any, Callable

from ..graph.basic import Variable
from ..graph.types import is_complex, is_int, normalize_dtype
from .array_ops import argsort, sort
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .pyop import check_value
from .reduction import one_axis
from .size_args import size_arg

__all__ = ["topk", "argtopk", "topk_and_argtopk"]


def _top(x: Any, kth: Any, axis: Any, what: str) -> tuple[Variable, int, Callable[[Variable], Variable]]:
    """``x`` (its length along the axis checked to hold ``|kth|`` elements), the axis and a
    function of the sorted ``x`` (or of its argsort) that takes the answer: the largest
    (``kth > 0``) or the smallest first. ``kth`` is an int or a symbolic int scalar (a 0 or one
    too large raises ValueError when the function runs)."""
    v = as_tensor_variable(x)
    if is_complex(v.dtype):
        raise TypeError(f"{what}: complex tensors have no order, got {v.type}")
    if v.ndim == 0:
        raise ValueError(f"{what}: a 0-d tensor has no axis to take elements along; give a 1-d or more")
    kth = size_arg(kth, what, "kth", minimum=None)
    if isinstance(kth, int) and kth == 0:
        raise ValueError(
            f"{what}: kth must be a non-zero int (k > 0 for the k largest, k < 0 for the |k| smallest), got {kth!r}"
        )
    if axis is None:
        raise ValueError(f"{what}: axis must be an int, got None; flatten x first for all its elements")
    ax = one_axis(axis, v.ndim, what)
    n = v.type.shape[ax]
    lead = (slice(None),) * ax
    if isinstance(kth, int):
        k = abs(kth)
        if n is not None and k > n:
            raise ValueError(f"{what}: kth={kth} asks for {k} elements of an axis of {n}; give |kth| <= {n}")
        if n is None:
            fits = elemwise("le", k, v.shape[ax])
            v = check_value(
                v,
                fits,
                f"{what}: kth={kth} asks for {k} elements of axis {ax}, which holds {{0}}; give |kth| <= {{0}}",
                v.shape[ax],
            )
        # ascending order: the largest are the last k, reversed; the smallest the first k
        part = slice(None, -k - 1, -1) if kth > 0 else slice(None, k)
        return v, ax, lambda s: s[lead + (part,)]
    k = elemwise("abs", kth)
    ok = elemwise("and_", elemwise("neq", kth, 0), elemwise("le", k, v.shape[ax]))
    msg = f"{what}: kth must be non-zero and |kth| at most the {{0}} elements along axis {ax}, got {{1}}; give 0 < |kth| <= {{0}}"
    v = check_value(v, ok, msg, v.shape[ax], kth)

    def take(s: Variable) -> Variable:
        # the largest reversed, or the smallest: both k long, chosen when the function runs
        largest, smallest = (
            s[lead + (slice(None, None, -1),)][lead + (slice(None, k),)],
            s[lead + (slice(None, k),)],
        )
        return elemwise("switch", elemwise("gt", kth, 0), largest, smallest)

    return v, ax, take


def topk(x: Any, kth: Any, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64") -> Variable:
    """Theano's ``topk``: the ``kth`` largest elements of ``x`` along ``axis`` (the ``|kth|``
    smallest for a negative ``kth``; an int or a symbolic int scalar), largest (smallest)
    first, whatever ``sorted``; NaN sorts above every number, as numpy.sort. Differentiable:
    the gradient goes to the elements taken."""
    v, ax, take = _top(x, kth, axis, "topk")
    return take(sort(v, ax))


def argtopk(x: Any, kth: Any, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64") -> Variable:
    """Theano's ``argtopk``: the indices along ``axis`` of :func:`topk`'s elements, of the int
    dtype ``idx_dtype``."""
    v, ax, take = _top(x, kth, axis, "argtopk")
    return _indices(take(argsort(v, ax)), idx_dtype)


def topk_and_argtopk(
    x: Any, kth: Any, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64"
) -> tuple[Variable, Variable]:
    """Theano's ``topk_and_argtopk``: ``(topk(x, kth, axis), argtopk(x, kth, axis))``."""
    v, ax, take = _top(x, kth, axis, "topk_and_argtopk")
    return take(sort(v, ax)), _indices(take(argsort(v, ax)), idx_dtype)


def _indices(idx: Variable, idx_dtype: Any) -> Variable:
    dt = normalize_dtype(idx_dtype, "argtopk")
    if not is_int(dt):
        raise TypeError(f"argtopk: idx_dtype must be an int dtype, got {idx_dtype!r}")
    return idx if dt == idx.dtype else cast(idx, dt)
