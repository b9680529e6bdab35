"""numpy's and PyTensor's reductions built from the core ones: ``max_and_argmax ptp median
nansum nanmax nanmin``. Compositions of reductions, ``sort``, indexing and elementwise selects,
so they compile and differentiate as those do."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_float, is_int
from .array_ops import sort
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise
from .reduction import all as all_
from .reduction import argmax, keep_reduced_dims, normalize_axes
from .reduction import max as max_
from .reduction import min as min_
from .reduction import sum as sum_
from .shape_ops import dimshuffle, flatten

__all__ = ["max_and_argmax", "ptp", "median", "nansum", "nanmax", "nanmin"]


def max_and_argmax(a: Any, axis: Any = None, keepdims: bool = False) -> list[Variable]:
    """PyTensor's ``max_and_argmax``: ``[max(a, axis), argmax(a, axis)]``."""
    return [max_(a, axis=axis, keepdims=keepdims), argmax(a, axis=axis, keepdims=keepdims)]


def ptp(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.ptp: ``max - min`` along ``axis`` (the gradient goes to the extremes)."""
    v = as_tensor_variable(a)
    if v.dtype == "bool":
        raise TypeError(f"ptp: bool tensors have no difference, got {v.type}; cast to an int first")
    return max_(v, axis=axis, keepdims=keepdims) - min_(v, axis=axis, keepdims=keepdims)


def median(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.median along an axis, several axes (a tuple) or all the elements: the middle of the
    sorted values, the mean of the two middle ones for an even count (float64 for ints); NaN
    where the values hold a NaN, as numpy. Several axes are moved to the end and merged into
    one, as numpy does. The gradient goes to the middle element(s)."""
    v = as_tensor_variable(a)
    if is_int(v.dtype) or v.dtype == "bool":
        v = cast(v, "float64")
    elif not is_float(v.dtype):
        raise TypeError(f"median: takes real numbers, got {v.type}")
    ndim = v.ndim
    axes = normalize_axes(axis, ndim, "median")
    if len(axes) == 1:
        ax = axes[0]
        s = sort(v, ax)
    else:
        # the reduced axes last, merged into one (none: a size-1 one, each value its own median)
        kept = [d for d in range(ndim) if d not in axes]
        t = dimshuffle(v, [*kept, *axes] if axes else [*kept, "x"])
        ax = len(kept)
        s = sort(flatten(t, ax + 1) if len(axes) > 1 else t, ax)
    n = s.shape[ax]
    head = (slice(None),) * ax
    lo, hi = s[head + (elemwise("floor_div", n - 1, 2),)], s[head + (elemwise("floor_div", n, 2),)]
    med = (lo + hi) / 2
    med = elemwise("switch", elemwise("isnan", s[head + (-1,)]), constant(np.asarray(np.nan, med.dtype)), med)
    return keep_reduced_dims(med, axes, ndim, keepdims)


def _nan_as(v: Variable, value: float) -> Variable:
    return elemwise("switch", elemwise("isnan", v), constant(np.asarray(value, v.dtype)), v)


def nansum(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nansum: the sum with NaNs counted as 0 (they get no gradient)."""
    v = as_tensor_variable(a)
    return sum_(_nan_as(v, 0.0) if is_float(v.dtype) else v, axis=axis, keepdims=keepdims)


def _nan_extreme(a: Any, axis: Any, keepdims: bool, largest: bool) -> Variable:
    v = as_tensor_variable(a)
    reduce = max_ if largest else min_
    if not is_float(v.dtype):
        return reduce(v, axis=axis, keepdims=keepdims)
    m = reduce(_nan_as(v, -np.inf if largest else np.inf), axis=axis, keepdims=keepdims)
    # numpy's value for a slice of NaNs only is NaN
    all_nan = all_(elemwise("isnan", v), axis=axis, keepdims=keepdims)
    return elemwise("switch", all_nan, constant(np.asarray(np.nan, v.dtype)), m)


def nanmax(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanmax: the largest value ignoring NaNs (NaN for a slice of NaNs only)."""
    return _nan_extreme(a, axis, keepdims, largest=True)


def nanmin(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanmin: the smallest value ignoring NaNs (NaN for a slice of NaNs only)."""
    return _nan_extreme(a, axis, keepdims, largest=False)
