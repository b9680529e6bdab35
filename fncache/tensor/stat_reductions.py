"""numpy's and PyTensor's reductions built from the core ones: ``max_and_argmax ptp median
nansum nanmax nanmin cov corrcoef``. Compositions of reductions, ``sort``, indexing and elementwise selects,
so they compile and differentiate as those do."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex, is_float, is_int
from .array_ops import diagonal, sort, squeeze
from .basic import as_tensor_variable, constant, is_python_int
from .blas import dot
from .elemwise import cast, elemwise
from .reduction import all as all_
from .pyop import assert_op
from .reduction import argmax, keep_reduced_dims, mean, normalize_axes
from .reduction import max as max_
from .reduction import min as min_
from .reduction import sum as sum_
from .shape_ops import concatenate, dimshuffle, flatten, reshape

__all__ = ["max_and_argmax", "ptp", "median", "nansum", "nanmax", "nanmin", "cov", "corrcoef"]


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


def _variables_in_rows(m: Any, rowvar: bool, what: str, name: str) -> Variable:
    """``m`` as numpy.cov reads it: a matrix with one variable per row, in float64 (numpy's
    dtype for the result); a vector is one variable."""
    v = as_tensor_variable(m)
    if v.ndim > 2 or is_complex(v.dtype):
        raise ValueError(f"{what}: {name} must be a real vector or matrix, got {v.type}")
    v = cast(v, "float64") if v.dtype != "float64" else v
    if v.ndim < 2:
        return reshape(v, (1, -1))
    # numpy transposes for rowvar=False unless there is a single observation row
    return v.T if not rowvar and v.type.shape[0] != 1 else v


def _weights(w: Any, n: Any, what: str, name: str, ints: bool) -> Variable:
    v = as_tensor_variable(w)
    if v.ndim != 1:
        raise ValueError(f"{what}: {name} must be a vector (one weight per observation), got {v.type}")
    if ints and not is_int(v.dtype):
        raise TypeError(f"{what}: {name} must hold ints (repeat counts), got {v.type}")
    fits = all_(elemwise("ge", v, 0)) & elemwise("eq", v.shape[0], n)
    v = assert_op(v, fits, f"{what}: {name} must be non-negative, one per observation")
    return cast(v, "float64")


def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
    fweights: Any = None,
    aweights: Any = None,
) -> Variable:
    """numpy.cov: the covariance matrix of the variables of ``m`` (rows; columns with
    ``rowvar=False``) and those of ``y``, normalized by ``N - 1`` (``N`` with ``bias``, ``N -
    ddof`` with ``ddof``), with integer frequency weights ``fweights`` and observation weights
    ``aweights`` per observation as numpy's; float64. The size-1 dims known when the graph is
    built are squeezed out (one variable gives a 0-d variance). Differentiable."""
    x = _variables_in_rows(m, rowvar, "cov", "m")
    if y is not None:
        x = concatenate([x, _variables_in_rows(y, rowvar, "cov", "y")], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    elif not is_python_int(ddof):
        raise TypeError(f"cov: ddof must be an int or None, got {ddof!r}")
    n = x.shape[1]
    w = None if fweights is None else _weights(fweights, n, "cov", "fweights", ints=True)
    if aweights is not None:
        a = _weights(aweights, n, "cov", "aweights", ints=False)
        w = a if w is None else w * a
    if w is None:
        avg, fact = mean(x, axis=1), cast(n, "float64") - ddof
    else:
        w_sum = sum_(w)
        avg = sum_(x * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * sum_(w * a) / w_sum
    # numpy: a non-positive number of degrees of freedom divides by 0 (inf and NaN)
    fact = elemwise("maximum", fact, 0.0)
    d = x - dimshuffle(avg, (0, "x"))
    c = dot(d, (d if w is None else d * w).T) / fact
    return squeeze(c)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True) -> Variable:
    """numpy.corrcoef: the Pearson correlation coefficients of the variables (rows, or columns
    with ``rowvar=False``) of ``x`` and ``y``: ``cov`` divided by the outer product of the
    standard deviations, clipped to [-1, 1]; float64. Differentiable inside (-1, 1)."""
    c = cov(x, y, rowvar)
    if c.ndim == 0:
        return c / c
    std = elemwise("sqrt", diagonal(c))
    r = c / dimshuffle(std, (0, "x")) / dimshuffle(std, ("x", 0))
    return elemwise("minimum", elemwise("maximum", r, -1.0), 1.0)
