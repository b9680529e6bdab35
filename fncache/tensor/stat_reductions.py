"""numpy's and PyTensor's reductions built from the core ones: ``max_and_argmax ptp median
quantile percentile nanquantile nanpercentile nanmedian average count_nonzero nansum nanprod
nanmean nanvar nanstd nanmax nanmin nanargmax nanargmin nancumsum nancumprod trapezoid cov
corrcoef``.
Compositions of reductions, ``sort``, indexing and elementwise selects, so they compile and
differentiate as those do."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex, is_float, is_int
from .advanced_subtensor import take, take_along_axis
from .array_ops import cumprod, cumsum, diagonal, sort, squeeze
from ..graph.args import int_arg
from .basic import as_tensor_variable, constant
from .blas import dot
from .creation import alloc
from .elemwise import as_float64, cast, elemwise, float64_result
from .reduction import all as all_
from .reduction import any as any_
from .pyop import check_value
from .reduction import (
    argmax,
    argmin,
    filled_when_empty,
    keep_reduced_dims,
    keepdims_flag,
    mean,
    normalize_axes,
    one_axis,
)
from .reduction import max as max_
from .reduction import min as min_
from .reduction import prod
from .reduction import sum as sum_
from .shape_ops import concatenate, dim_sizes, dimshuffle, flatten, reshape, shape

__all__ = [
    "max_and_argmax",
    "ptp",
    "median",
    "quantile",
    "percentile",
    "nanquantile",
    "nanpercentile",
    "nanmedian",
    "nansum",
    "nanprod",
    "nanmean",
    "nanvar",
    "nanstd",
    "nanmax",
    "nanmin",
    "nanargmax",
    "nanargmin",
    "nancumsum",
    "nancumprod",
    "average",
    "count_nonzero",
    "trapezoid",
    "cov",
    "corrcoef",
]


def max_and_argmax(a: Any, axis: Any = None, keepdims: bool = False) -> list[Variable]:
    """PyTensor's ``max_and_argmax``: ``[max(a, axis), argmax(a, axis)]``."""
    return [max_(a, axis=axis, keepdims=keepdims), argmax(a, axis=axis, keepdims=keepdims)]


def ptp(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.ptp: ``max - min`` along ``axis`` (the gradient goes to the extremes)."""
    v = as_tensor_variable(a)
    if v.dtype == "bool":
        raise TypeError(f"ptp: bool tensors have no difference, got {v.type}; cast to an int first")
    normalize_axes(axis, v.ndim, "ptp")  # an axis out of range named as ptp's, not max's
    return max_(v, axis=axis, keepdims=keepdims) - min_(v, axis=axis, keepdims=keepdims)


def _real_values(a: Any, what: str) -> Variable:
    """``a`` as the order statistics read it: floats as they are, ints and bools as float64."""
    v = as_tensor_variable(a)
    if is_int(v.dtype) or v.dtype == "bool":
        return as_float64(what, v)[0]
    if not is_float(v.dtype):
        raise TypeError(f"{what}: takes real numbers, got {v.type}")
    return v


def _sorted_along(v: Variable, axes: tuple[int, ...]) -> tuple[Variable, int]:
    """``v`` sorted along the one axis the reduced ``axes`` make, and that axis: several are
    moved to the end and merged into one, as numpy does (none: a size-1 one, each value its own
    order statistic)."""
    if len(axes) == 1:
        return sort(v, axes[0]), axes[0]
    kept = [d for d in range(v.ndim) if d not in axes]
    t = dimshuffle(v, [*kept, *axes] if axes else [*kept, "x"])
    ax = len(kept)
    return sort(flatten(t, ax + 1) if len(axes) > 1 else t, ax), ax


def median(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.median along an axis, several axes (a tuple) or all the elements: the middle of the
    sorted values, the mean of the two middle ones for an even count (float64 for ints); NaN
    where the values hold a NaN, as numpy, or where the axes hold nothing (numpy's NaN of an
    empty mean). Several axes are moved to the end and merged into one, as numpy does. The
    gradient goes to the middle element(s)."""
    v = _real_values(a, "median")
    ndim = v.ndim
    axes = normalize_axes(axis, ndim, "median")

    def build() -> Variable:
        s, ax = _sorted_along(v, axes)
        n = s.shape[ax]
        head = (slice(None),) * ax
        lo, hi = s[head + (elemwise("floor_div", n - 1, 2),)], s[head + (elemwise("floor_div", n, 2),)]
        med = (lo + hi) / 2
        nan = constant(np.asarray(np.nan, med.dtype))
        return elemwise("switch", elemwise("isnan", s[head + (-1,)]), nan, med)

    dtype = "float64" if is_int(v.dtype) or v.dtype == "bool" else v.dtype
    return keep_reduced_dims(filled_when_empty(v, axes, np.nan, dtype, build), axes, keepdims)


def _continuous_index(alpha: float, beta: float) -> Callable[[Variable, Variable], Variable]:
    """Hyndman and Fan's continuous methods: numpy's virtual index
    ``n q + (alpha + q (1 - alpha - beta)) - 1``, in numpy's order of operations."""
    c = 1 - alpha - beta
    return lambda n, q: n * q + (alpha + q * c) - 1


def _shifted(p: Variable, c: float) -> Variable:
    """``p - c`` for a product ``p`` (``c`` a multiple of 0.5), exactly numpy's value where that
    is an integer: the compiler may contract ``p - c`` into one multiply-add, whose single
    rounding can miss the integer numpy's two roundings land on (and with it the order
    statistic a discrete method picks)."""
    base = elemwise("floor", p) + (c % 1)  # the value of p at which p - c is an integer
    return elemwise("switch", elemwise("eq", p, base), base - c, p - c)


def _to_boundary(index: Variable, previous: Callable[[Variable, Variable], Variable]) -> Variable:
    """numpy's discrete methods: the order statistic before ``index`` where ``previous(gamma,
    index)`` holds, else the one after it, and never before the first."""
    below = elemwise("floor", index)
    chosen = elemwise("switch", previous(index - below, index), below, below + 1)
    return elemwise("maximum", chosen, constant(np.zeros((), chosen.dtype)))


def _gamma_where(cond: Callable[[Variable, Variable], Variable], yes: float, no: float) -> Callable:
    """A rule replacing the interpolation weight by ``yes`` where ``cond(gamma, index)`` holds,
    else by ``no`` (numpy's ``_get_gamma_mask``)."""

    def fix(gamma: Variable, index: Variable) -> Variable:
        dt = gamma.dtype
        return elemwise(
            "switch", cond(gamma, index), constant(np.asarray(yes, dt)), constant(np.asarray(no, dt))
        )

    return fix


def _is_zero(v: Variable) -> Variable:
    return elemwise("eq", v, constant(np.zeros((), v.dtype)))


def _linear_index(n: Variable, q: Variable) -> Variable:
    return (n - 1) * q


def _midpoint(index: Variable) -> Variable:
    return 0.5 * (elemwise("floor", index) + elemwise("ceil", index))


#: numpy's quantile methods, one row each: the virtual index in the sorted values of a slice of
#: ``n`` values (``n`` a float of the levels' dtype) at the levels ``q``, and how the weight of
#: the value after it is fixed (None: a discrete method, whose index is an order statistic and
#: whose result keeps the data's dtype)
_QUANTILE_METHODS: dict[str, tuple[Callable[[Variable, Variable], Variable], Callable | None]] = {
    "inverted_cdf": (lambda n, q: _to_boundary(_shifted(n * q, 1), lambda g, i: _is_zero(g)), None),
    "averaged_inverted_cdf": (
        lambda n, q: _shifted(n * q, 1),
        _gamma_where(lambda g, i: _is_zero(g), 0.5, 1.0),
    ),
    "closest_observation": (
        # the nearest even order statistic (1-based) where the index falls on one exactly
        lambda n, q: _to_boundary(
            _shifted(n * q, 1.5),
            lambda g, i: elemwise(
                "and_", _is_zero(g), elemwise("eq", elemwise("mod", elemwise("floor", i), 2), 1)
            ),
        ),
        None,
    ),
    "interpolated_inverted_cdf": (_continuous_index(0, 1), lambda g, i: g),
    "hazen": (_continuous_index(0.5, 0.5), lambda g, i: g),
    "weibull": (_continuous_index(0, 0), lambda g, i: g),
    "linear": (_linear_index, lambda g, i: g),
    "median_unbiased": (_continuous_index(1 / 3.0, 1 / 3.0), lambda g, i: g),
    "normal_unbiased": (_continuous_index(3 / 8.0, 3 / 8.0), lambda g, i: g),
    "lower": (lambda n, q: elemwise("floor", _linear_index(n, q)), None),
    "higher": (lambda n, q: elemwise("ceil", _linear_index(n, q)), None),
    "midpoint": (
        lambda n, q: _midpoint(_linear_index(n, q)),
        _gamma_where(lambda g, i: _is_zero(elemwise("mod", i, 1)), 0.0, 0.5),
    ),
    # numpy.around: a half to the even one
    "nearest": (lambda n, q: elemwise("round", _linear_index(n, q)), None),
}


def _quantile_levels(q: Any, data_dtype: str, scale: float, what: str) -> Variable:
    """``q`` divided by ``scale`` as numpy's quantile reads it: a Python number takes the float
    data's dtype (numpy's weak scalar), an array or list is float64, a symbolic value keeps
    its float dtype (ints: float64); a constant outside [0, 1] raises ValueError here, a
    symbolic one when the function runs."""
    bounds = f"[0, {scale:g}]"
    if isinstance(q, Variable):
        qv = as_tensor_variable(q)
        if not (is_float(qv.dtype) or is_int(qv.dtype)):
            raise TypeError(f"{what}: q must hold real numbers, got {qv.type}")
        qv = qv if is_float(qv.dtype) else cast(qv, "float64")
        inside = all_(elemwise("and_", elemwise("ge", qv, 0), elemwise("le", qv, scale)))
        qv = check_value(
            qv, inside, f"{what}: q must be in the range {bounds}, got {{0}}; give levels inside it", qv
        )
        return qv / constant(np.asarray(scale, qv.dtype)) if scale != 1 else qv
    weak = isinstance(q, (int, float)) and not isinstance(q, bool)
    arr = np.asarray(q, dtype=data_dtype if weak else None)
    if arr.dtype.kind not in "iuf" or arr.dtype == bool:
        raise TypeError(f"{what}: q must be a number, a list of numbers or a symbolic tensor, got {q!r}")
    # integer levels (0 and 1) stay ints: numpy then takes the values themselves
    arr = np.true_divide(arr, scale) if scale != 1 else arr
    if arr.size and not (np.all(arr >= 0) and np.all(arr <= 1)):
        raise ValueError(f"{what}: q must be in the range {bounds}, got {q!r}; give levels inside it")
    return constant(arr)


#: the methods whose virtual index of integer levels numpy computes in integers
_INTEGER_WEIGHT = ("averaged_inverted_cdf", "interpolated_inverted_cdf", "weibull")


def _quantile(
    a: Any, q: Any, axis: Any, keepdims: bool, method: str, scale: float, what: str, skip_nan: bool = False
) -> Variable:
    if not isinstance(method, str) or method not in _QUANTILE_METHODS:
        raise ValueError(
            f"{what}: method {method!r} is not supported; give one of {', '.join(_QUANTILE_METHODS)} "
            "(numpy's methods; 'linear' is the default)"
        )
    index_of, fix_gamma = _QUANTILE_METHODS[method]
    given = as_tensor_variable(a)
    v = _real_values(given, what)
    skip_nan = skip_nan and is_float(given.dtype)  # numpy's nan-functions of ints are the others
    qv = _quantile_levels(q, v.dtype, scale, what)
    discrete = fix_gamma is None
    # integer levels (0 and 1): numpy reads the first and last values themselves where the
    # virtual index stays an integer, keeping the data's dtype (with an integer weight:
    # promoted with int64); elsewhere they are floats
    whole = method == "linear" or discrete
    if is_int(qv.dtype) and (skip_nan or not (whole or method in _INTEGER_WEIGHT)):
        qv = cast(qv, v.dtype if skip_nan and whole else "float64")
    if (discrete or is_int(qv.dtype)) and (is_int(given.dtype) or given.dtype == "bool"):
        v = given  # an order statistic keeps the data's dtype, as numpy's
    ndim = v.ndim
    axes = normalize_axes(axis, ndim, what)
    s, ax = _sorted_along(v, axes)
    s = dimshuffle(s, [d for d in range(s.ndim) if d != ax] + [ax])  # the sorted axis last
    if not skip_nan:
        s = _some_values(s, what)
    n = s.shape[-1]
    if is_int(qv.dtype):
        # the index in int64: a uint64 level times the int64 size would promote to float64
        res = take(s, cast(qv, "int64") * (n - 1), axis=-1)
        dt = given.dtype if whole else np.result_type(given.dtype, qv.dtype).name
        res = cast(res, dt) if res.dtype != dt else res
        return _levels_first(_nan_where_nan(s, res, qv.ndim), qv.ndim, axes, ndim, keepdims)
    levels = qv
    if skip_nan:
        # one NaN after each slice: an empty slice reads it (numpy's NaN) where it would read
        # past its end; the others never reach it
        pad = alloc(constant(np.asarray(np.nan, s.dtype)), *dim_sizes(s)[:-1], 1)
        s = concatenate([s, pad], axis=-1)
        # the NaNs sort last: each slice's values are its first `count`, the levels flattened
        # into one last dim to index every slice at its own places
        n = sum_(elemwise("invert", elemwise("isnan", s)), axis=-1, keepdims=True)
        levels = flatten(qv) if qv.ndim != 1 else qv

    def gather(index: Variable) -> Variable:
        index = cast(index, "int64")
        return take_along_axis(s, index, axis=-1) if skip_nan else take(s, index, axis=-1)

    virtual = index_of(cast(n, qv.dtype), levels)
    if discrete:
        res = gather(virtual)
    else:
        # numpy's interpolation: between the sorted values at the virtual index's floor and the
        # next one, both the last value at or past the end (the first before the start), with
        # the method's weight of the next one
        last = cast(n - 1, qv.dtype)
        above, below = elemwise("ge", virtual, last), elemwise("lt", virtual, 0)
        zero, floor = constant(np.zeros((), qv.dtype)), elemwise("floor", virtual)
        lo = elemwise("switch", above, last, elemwise("switch", below, zero, floor))
        hi = elemwise("switch", above, last, elemwise("switch", below, zero, floor + 1))
        start = elemwise(
            "switch", above, constant(np.asarray(-1, qv.dtype)), elemwise("switch", below, zero, floor)
        )
        gamma = fix_gamma(virtual - start, virtual)
        below_v, above_v = gather(lo), gather(hi)
        diff = above_v - below_v
        res = elemwise(
            "switch", elemwise("ge", gamma, 0.5), above_v - diff * (1 - gamma), below_v + diff * gamma
        )
        if not isinstance(q, Variable) and isinstance(q, (int, float)):
            res = cast(res, v.dtype) if res.dtype != v.dtype else res  # numpy's weak gamma
    if skip_nan:
        # a slice of NaNs only reads its last value, NaN, as numpy's
        kept = tuple(dim_sizes(s)[:-1])
        res = reshape(res, kept + tuple(qv.shape[d] for d in range(qv.ndim)), ndim=len(kept) + qv.ndim)
        return _levels_first(res, qv.ndim, axes, ndim, keepdims)
    return _levels_first(_nan_where_nan(s, res, qv.ndim), qv.ndim, axes, ndim, keepdims)


def _some_values(s: Variable, what: str) -> Variable:
    """``s`` (the values sorted along its last dim) checked to hold some values there: a
    quantile of none is numpy's IndexError from inside it, here a ValueError naming ``what``."""
    fix = "give at least one value per slice (nan-functions give NaN for none)"
    if s.type.shape[-1] == 0:
        raise ValueError(f"{what}: no values to take the quantile of (the reduced size is 0); {fix}")
    if s.type.shape[-1] is not None:
        return s
    msg = f"{what}: no values to take the quantile of (sorted slices of shape {{0}}); {fix}"
    return check_value(s, elemwise("gt", s.shape[-1], 0), msg, shape(s))


def nanquantile(a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear") -> Variable:
    """numpy.nanquantile: :func:`quantile` of the non-NaN values of each slice (NaN for a slice
    of NaNs only); the sorted values read at places that depend on each slice's count."""
    return _quantile(a, q, axis, keepdims, method, 1.0, "nanquantile", skip_nan=True)


def nanpercentile(
    a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear"
) -> Variable:
    """numpy.nanpercentile: :func:`nanquantile` of ``q / 100``."""
    return _quantile(a, q, axis, keepdims, method, 100.0, "nanpercentile", skip_nan=True)


def nanmedian(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanmedian: the median of the non-NaN values of each slice (:func:`nanquantile` at
    0.5, the midpoint of the two middle values up to rounding)."""
    return _quantile(a, 0.5, axis, keepdims, "linear", 1.0, "nanmedian", skip_nan=True)


def _nan_where_nan(s: Variable, res: Variable, q_ndim: int) -> Variable:
    """``res`` (kept dims, then the levels' dims) NaN where the sorted slice of ``s`` ends in a
    NaN (holds one), as numpy's quantiles."""
    if not is_float(res.dtype):
        return res
    nan_slices = elemwise("isnan", s[..., -1])
    nan_slices = dimshuffle(nan_slices, list(range(nan_slices.ndim)) + ["x"] * q_ndim)
    return elemwise("switch", nan_slices, constant(np.asarray(np.nan, res.dtype)), res)


def _levels_first(res: Variable, q_ndim: int, axes: tuple[int, ...], ndim: int, keepdims: bool) -> Variable:
    """``res`` with the levels' dims first, then the kept dims (size-1 dims for the reduced
    ones with ``keepdims``)."""
    keepdims = keepdims_flag(keepdims)
    kept = res.ndim - q_ndim
    pattern: list[Any] = list(range(kept, kept + q_ndim))
    k = 0
    for d in range(ndim):
        if d in axes:
            if keepdims:
                pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return dimshuffle(res, pattern)


def quantile(a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear") -> Variable:
    """numpy.quantile with any of numpy's methods (``_QUANTILE_METHODS``; ``"linear"`` the
    default): the ``q``-th quantiles (``q`` a number in [0, 1], a list or a symbolic scalar or
    tensor of them) of ``a`` along an axis, several axes or all the elements; the result has
    ``q``'s dims first, then the kept dims (size-1 reduced dims with ``keepdims``); float64 for
    int data (a discrete method's order statistic keeps the data's dtype), the data's float
    dtype for a Python number ``q``, as numpy; NaN where the values hold a NaN. Sorted values
    and an interpolation between two of them, so the gradient goes to those two elements."""
    return _quantile(a, q, axis, keepdims, method, 1.0, "quantile")


def percentile(a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear") -> Variable:
    """numpy.percentile: :func:`quantile` of ``q / 100`` (``q`` in [0, 100])."""
    return _quantile(a, q, axis, keepdims, method, 100.0, "percentile")


def _nan_as(v: Variable, value: float) -> Variable:
    return elemwise("switch", elemwise("isnan", v), constant(np.asarray(value, v.dtype)), v)


def nansum(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nansum: the sum with NaNs counted as 0 (they get no gradient)."""
    v = as_tensor_variable(a)
    return sum_(_nan_as(v, 0.0) if is_float(v.dtype) else v, axis=axis, keepdims=keepdims)


def nanprod(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanprod: the product with NaNs counted as 1 (they get no gradient)."""
    v = as_tensor_variable(a)
    return prod(_nan_as(v, 1.0) if is_float(v.dtype) else v, axis=axis, keepdims=keepdims)


def _nan_moments(
    a: Any, axis: Any, what: str
) -> tuple[Variable, Variable, Variable, Variable, tuple[int, ...]]:
    """``a`` as floats (ints and bools as float64, as numpy's mean), where it is not NaN, the
    count of such values and their mean along ``axis`` (kept as size-1 dims), and the reduced
    axes."""
    v = as_tensor_variable(a)
    if is_int(v.dtype) or v.dtype == "bool":
        (v,) = as_float64(what, v)
    elif not is_float(v.dtype):
        raise TypeError(f"{what}: takes real numbers, got {v.type}")
    axes = normalize_axes(axis, v.ndim, what)
    valid = elemwise("invert", elemwise("isnan", v))
    count = sum_(valid, axis=axes, keepdims=True)
    avg = sum_(_nan_as(v, 0.0), axis=axes, keepdims=True) / cast(count, v.dtype)
    return v, valid, count, avg, axes


def _drop_kept(r: Variable, axes: tuple[int, ...], keepdims: bool) -> Variable:
    return r if keepdims or not axes else squeeze(r, axes)


def nanmean(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanmean: the mean of the non-NaN values (NaN for a slice of NaNs only); float64
    for ints. The gradient reaches the non-NaN values."""
    _, _, _, avg, axes = _nan_moments(a, axis, "nanmean")
    return _drop_kept(avg, axes, keepdims)


def nanvar(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Variable:
    """numpy.nanvar: the variance of the non-NaN values, divided by their count less ``ddof``
    (NaN where that is not positive, as numpy's)."""
    return _nanvar(a, axis, ddof, keepdims, "nanvar")


def _nanvar(a: Any, axis: Any, ddof: Any, keepdims: bool, what: str) -> Variable:
    ddof = int_arg(ddof, what, "ddof")
    v, valid, count, avg, axes = _nan_moments(a, axis, what)
    dev = elemwise("switch", valid, v - avg, constant(np.zeros((), v.dtype)))
    dof = count - int(ddof)
    var = sum_(dev * dev, axis=axes, keepdims=True) / cast(dof, v.dtype)
    var = elemwise("switch", elemwise("le", dof, 0), constant(np.asarray(np.nan, v.dtype)), var)
    return _drop_kept(var, axes, keepdims)


def nanstd(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Variable:
    """numpy.nanstd: the square root of :func:`nanvar`."""
    return elemwise("sqrt", _nanvar(a, axis, ddof, keepdims, "nanstd"))


def _nan_extreme(a: Any, axis: Any, keepdims: bool, largest: bool) -> Variable:
    v = as_tensor_variable(a)
    normalize_axes(axis, v.ndim, "nanmax" if largest else "nanmin")  # not max's or min's
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


def _nan_arg(a: Any, axis: Any, keepdims: bool, largest: bool) -> Variable:
    v = as_tensor_variable(a)
    what = "nanargmax" if largest else "nanargmin"
    arg = argmax if largest else argmin
    if not is_float(v.dtype):
        return arg(v, axis=axis, keepdims=keepdims)
    v = check_value(
        v,
        elemwise("invert", any_(all_(elemwise("isnan", v), axis=axis))),
        f"{what}: a slice holds only NaNs, and has no {'largest' if largest else 'smallest'} value; "
        f"use {'argmax' if largest else 'argmin'} (NaN first) or fill the NaNs (nan_to_num)",
    )
    return arg(_nan_as(v, -np.inf if largest else np.inf), axis=axis, keepdims=keepdims)


def nanargmax(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanargmax: the index of the largest value ignoring NaNs (int64); a slice of NaNs
    only raises ``AssertionError`` when the function runs (numpy's ValueError)."""
    return _nan_arg(a, axis, keepdims, largest=True)


def nanargmin(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.nanargmin: the index of the smallest value ignoring NaNs (int64)."""
    return _nan_arg(a, axis, keepdims, largest=False)


def nancumsum(a: Any, axis: int | None = None) -> Variable:
    """numpy.nancumsum: the running sum with NaNs counted as 0 (``axis=None`` flattens)."""
    v = as_tensor_variable(a)
    return cumsum(_nan_as(v, 0.0) if is_float(v.dtype) else v, axis=axis)


def nancumprod(a: Any, axis: int | None = None) -> Variable:
    """numpy.nancumprod: the running product with NaNs counted as 1."""
    v = as_tensor_variable(a)
    return cumprod(_nan_as(v, 1.0) if is_float(v.dtype) else v, axis=axis)


def count_nonzero(a: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.count_nonzero: how many elements are non-zero (int64), along ``axis``."""
    v = as_tensor_variable(a)
    normalize_axes(axis, v.ndim, "count_nonzero")  # an axis out of range named as its own, not sum's
    nonzero = v if v.dtype == "bool" else elemwise("neq", v, constant(np.zeros((), v.dtype)))
    return sum_(nonzero, axis=axis, keepdims=keepdims, dtype="int64")


def average(
    a: Any, axis: Any = None, weights: Any = None, returned: bool = False, keepdims: bool = False
) -> Any:
    """numpy.average: the mean along ``axis``, or with ``weights`` (of ``a``'s shape, or a vector
    along the one ``axis``) ``sum(a * w) / sum(w)``; float64 for ints. ``returned`` gives the
    pair ``(average, sum of the weights)`` (the count without weights), the second broadcast
    to the first's shape. Weights summing to zero raise ``AssertionError`` when the function
    runs (numpy's ZeroDivisionError)."""
    v = as_tensor_variable(a)
    if is_complex(v.dtype):
        raise TypeError(f"average: takes real numbers, got {v.type}")
    axes = normalize_axes(axis, v.ndim, "average")
    if weights is None:
        avg = mean(v, axis=axes, keepdims=keepdims)
        if not returned:
            return avg
        count = constant(np.ones((), avg.dtype))
        for ax in axes:
            count = count * cast(v.shape[ax], avg.dtype)
        return avg, elemwise("switch", constant(True), count, elemwise("eq", avg, avg))
    w = as_tensor_variable(weights)
    if is_complex(w.dtype):
        raise TypeError(f"average: weights must be real, got {w.type}")
    if w.ndim != v.ndim:
        if w.ndim != 1 or len(axes) != 1:
            raise ValueError(
                f"average: weights {w.type} for a {v.type} along {axis!r}; give weights of a's shape, "
                "or a vector along one axis"
            )
        w = dimshuffle(w, ["x"] * axes[0] + [0] + ["x"] * (v.ndim - 1 - axes[0]))
    dt = np.result_type(v.dtype, w.dtype, *(["f8"] if not is_float(v.dtype) else [])).name
    v, w = cast(v, dt), cast(w, dt)
    w = elemwise("switch", constant(True), w, elemwise("eq", v, v))  # the weights at a's shape
    scale = sum_(w, axis=axes, keepdims=keepdims)
    scale = check_value(
        scale,
        all_(elemwise("neq", scale, 0)),
        "average: the weights sum to zero and cannot normalize; give weights with a non-zero sum",
    )
    avg = sum_(v * w, axis=axes, keepdims=keepdims) / scale
    return (avg, elemwise("switch", constant(True), scale, elemwise("eq", avg, avg))) if returned else avg


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Variable:
    """numpy.trapezoid: the integral of ``y`` along ``axis`` by the trapezoidal rule, at the
    sample points ``x`` (a vector along the axis, or of ``y``'s shape) or spaced ``dx`` (a
    number or a symbolic scalar); numpy's formula ``sum(d * (y[1:] + y[:-1]) / 2.0)``."""
    v = as_tensor_variable(y)
    if v.ndim == 0:
        raise ValueError(f"trapezoid: y must have an axis to integrate along, got a 0-d {v.type}")
    ax = one_axis(axis, v.ndim, "trapezoid")
    head = (slice(None),) * ax
    if x is None:
        # a Python number is weak, as in numpy: it takes a float y's dtype
        d = (
            as_tensor_variable(dx)
            if isinstance(dx, Variable)
            else constant(np.asarray(dx, np.result_type(v.dtype, dx)))
        )
        if d.ndim != 0:
            raise ValueError(f"trapezoid: dx must be a scalar, got {d.type}; give the points as x")
    else:
        xv = as_tensor_variable(x)
        if xv.ndim == 1:
            d = xv[1:] - xv[:-1]
            d = dimshuffle(d, ["x"] * ax + [0] + ["x"] * (v.ndim - 1 - ax))
        elif xv.ndim == v.ndim:
            d = xv[head + (slice(1, None),)] - xv[head + (slice(None, -1),)]
        else:
            raise ValueError(
                f"trapezoid: x {xv.type} for y {v.type}; give a vector along the axis or x of y's shape"
            )
    pairs = v[head + (slice(1, None),)] + v[head + (slice(None, -1),)]
    return sum_(d * pairs / 2.0, axis=ax)


def _variables_in_rows(m: Any, rowvar: bool, what: str, name: str) -> Variable:
    """``m`` as numpy.cov reads it: a matrix with one variable per row (per column with
    ``rowvar=False``, whatever its shape: numpy 2 transposes a single row too), in float64
    (numpy's dtype for the result); a vector is one variable."""
    v = as_tensor_variable(m)
    if v.ndim > 2 or is_complex(v.dtype):
        raise ValueError(f"{what}: {name} must be a real vector or matrix, got {v.type}")
    (v,) = as_float64(what, v)
    if v.ndim < 2:
        return reshape(v, (1, -1))
    return v if rowvar else v.T


def _y_variables_in_rows(y: Any, rowvar: bool) -> Variable:
    """``y`` as numpy.cov reads it: as ``m``, except that with ``rowvar=False`` a single row
    stays one variable (numpy transposes ``y`` only when it has more than one row), decided on
    the run-time number of rows where the graph does not know it."""
    v = _variables_in_rows(y, True, "cov", "y")
    rows = v.type.shape[0]
    if rowvar or rows == 1:
        return v
    if rows is not None:
        return v.T
    from .ifelse import ifelse  # ifelse's module loads its op with the first call

    return ifelse(elemwise("eq", v.shape[0], 1), v, v.T)


def _weights(w: Any, n: Any, what: str, name: str, ints: bool) -> Variable:
    v = as_tensor_variable(w)
    if v.ndim != 1:
        raise ValueError(f"{what}: {name} must be a vector (one weight per observation), got {v.type}")
    if ints and not is_int(v.dtype):
        raise TypeError(f"{what}: {name} must hold ints (repeat counts), got {v.type}")
    fits = all_(elemwise("ge", v, 0)) & elemwise("eq", v.shape[0], n)
    v = check_value(
        v,
        fits,
        f"{what}: {name} must be non-negative, one per observation: got {{0}} for {{1}} observations",
        v,
        n,
    )
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
    ``aweights`` per observation as numpy's; float64 (float32 for float32 data under
    ``floatX=float32``, as PyTensor's). The size-1 dims known when the graph is
    built are squeezed out (one variable gives a 0-d variance; one known only at run time a
    (1, 1) matrix, numpy's 0-d variance being of another number of dims). Differentiable."""
    if ddof is None:
        ddof = 0 if bias else 1
    else:
        ddof = int_arg(ddof, "cov", "ddof", fix="or None for N - 1 (N with bias)")
    data = [as_tensor_variable(a) for a in (m, y, aweights) if a is not None]
    return float64_result(_cov(m, y, rowvar, ddof, fweights, aweights), *data)


def _cov(m: Any, y: Any, rowvar: bool, ddof: int, fweights: Any, aweights: Any) -> Variable:
    """numpy.cov's float64 result (:func:`cov`, ``ddof`` given)."""
    x = _variables_in_rows(m, rowvar, "cov", "m")
    if y is None:
        return _cov_of_rows(x, ddof, fweights, aweights)
    # numpy gives an empty result for no variables in m, whatever y holds
    none = reshape(x[:0, :0], (0, 0))
    if x.type.shape[0] == 0:
        return none
    c = _cov_of_rows(concatenate([x, _y_variables_in_rows(y, rowvar)], axis=0), ddof, fweights, aweights)
    if x.type.shape[0] is not None:
        return c
    from .ifelse import ifelse  # ifelse's module loads its op with the first call

    return ifelse(elemwise("eq", x.shape[0], 0), none, c)


def _cov_of_rows(x: Variable, ddof: int, fweights: Any, aweights: Any) -> Variable:
    """numpy.cov of the variables in the rows of the float64 matrix ``x``."""
    n = x.shape[1]
    w = None if fweights is None else _weights(fweights, n, "cov", "fweights", ints=True)
    if aweights is not None:
        a = _weights(aweights, n, "cov", "aweights", ints=False)
        w = a if w is None else w * a
    if w is None:
        avg, fact = mean(x, axis=1), cast(n, "float64") - ddof
    else:
        w_sum = sum_(w)
        w_sum = check_value(
            w_sum,
            elemwise("neq", w_sum, 0),
            "cov: the weights sum to zero and cannot normalize; give weights with a non-zero sum",
        )
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
