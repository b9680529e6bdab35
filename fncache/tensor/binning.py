"""numpy functions that place values among sorted break points: ``digitize interp histogram``,
and PyTensor's ``interpolate1d``.

Each is ``searchsorted`` (numpy's own binary search, a Python step between the C kernels)
followed by elementwise selects, indexing and ``bincount``, so the arithmetic around the search
fuses and compiles to C. ``digitize`` and the counts of ``histogram`` are integers and have no
gradient; ``interp`` differentiates with respect to the values ``fp`` (and ``x`` and ``xp``
where the interpolant is smooth), a weighted ``histogram`` with respect to its weights.
Conditions numpy checks on the values (sorted bins, matching lengths) are checked when the
function runs by an ``Assert`` naming the function and the fix.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.types import is_complex, is_float, is_int
from .advanced_subtensor import take
from .array_ops import argsort, tensordot
from ..graph.args import as_int
from .basic import as_tensor_variable, constant
from .creation import arange
from .data_ops import bincount, searchsorted
from .elemwise import cast, elemwise
from .pyop import check_value
from .reduction import all as all_
from .reduction import max as max_
from .reduction import min as min_
from .reduction import sum as sum_
from .shape_ops import concatenate, dimshuffle, flatten
from .size_args import size_arg

__all__ = ["digitize", "interp", "interpolate1d", "histogram"]


def _real(value: Any, what: str, name: str) -> Variable:
    v = as_tensor_variable(value)
    if is_complex(v.dtype) or not (is_float(v.dtype) or is_int(v.dtype) or v.dtype == "bool"):
        raise TypeError(f"{what}: {name} must hold real numbers, got {v.type}")
    return v


def _vector(value: Any, what: str, name: str) -> Variable:
    v = _real(value, what, name)
    if v.ndim != 1:
        raise ValueError(f"{what}: {name} must be a vector (1-d), got {v.type}")
    return v


def _sorted_pairs(b: Variable, cmp: str) -> Variable:
    """No neighbouring pair of ``b`` compares ``cmp`` (``gt``: ``b`` never decreases)."""
    return all_(elemwise("invert", elemwise(cmp, b[:-1], b[1:])))


def digitize(x: Any, bins: Any, right: bool = False) -> Variable:
    """numpy.digitize: for each value of ``x`` the index of the bin of the monotonic vector
    ``bins`` it falls in (``bins[i-1] <= x < bins[i]`` for increasing bins, ``bins[i-1] < x <=
    bins[i]`` with ``right``; the mirror image for decreasing bins); int64, of ``x``'s shape.
    Bins neither increasing nor decreasing raise AssertionError when the function runs."""
    xv = _real(x, "digitize", "x")
    b = _vector(bins, "digitize", "bins")
    side = "left" if right else "right"
    increasing = _sorted_pairs(b, "gt")
    monotonic = elemwise("or_", increasing, _sorted_pairs(b, "lt"))
    b = check_value(
        b,
        monotonic,
        "digitize: bins must be monotonically increasing or decreasing, got {0}; sort them first",
        b,
    )
    up = searchsorted(b, xv, side=side)
    down = b.shape[0] - searchsorted(b[::-1], xv, side=side)
    return elemwise("switch", increasing, up, down)


def _scalar(value: Any, what: str, name: str) -> Variable:
    v = _real(value, what, name)
    if v.ndim != 0:
        raise ValueError(f"{what}: {name} must be a scalar, got {v.type}")
    return cast(v, "float64")


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Variable:
    """numpy.interp: the piecewise linear interpolant through the points ``(xp, fp)`` (``xp``
    increasing) at ``x``, float64 of ``x``'s shape, computed as numpy's loop does (the exact
    ``fp`` at a point of ``xp``, ``left`` / ``right`` (default ``fp[0]`` / ``fp[-1]``) outside,
    NaN for a NaN ``x``); with ``period`` the points repeat with that period and ``left`` and
    ``right`` are ignored. ``left``, ``right`` and ``period`` are numbers or symbolic scalars.
    Empty or unequal ``xp`` and ``fp`` raise AssertionError when the function runs. The gradient
    reaches ``fp`` (the two values each result is drawn between), ``x`` and ``xp``."""
    xv = cast(_real(x, "interp", "x"), "float64")
    xpv = cast(_vector(xp, "interp", "xp"), "float64")
    fpv = cast(_vector(fp, "interp", "fp"), "float64")
    n_xp, n_fp = xpv.type.shape[0], fpv.type.shape[0]
    if n_xp is not None and n_fp is not None and n_xp != n_fp:
        raise ValueError(f"interp: xp has {n_xp} points and fp {n_fp} values; give one value per point")
    fits = elemwise("and_", elemwise("eq", xpv.shape[0], fpv.shape[0]), elemwise("gt", xpv.shape[0], 0))
    xpv = check_value(
        xpv,
        fits,
        "interp: xp and fp must be non-empty and of one length, got {0} points and {1} values; give one value per point",
        xpv.shape[0],
        fpv.shape[0],
    )
    if period is not None:
        if not isinstance(period, Variable) and period == 0:
            raise ValueError("interp: period must be a non-zero value, got 0")
        p = _scalar(period, "interp", "period")
        p = elemwise("abs", check_value(p, elemwise("neq", p, 0), "interp: period must be a non-zero value"))
        left = right = None
        xv, xpv = elemwise("mod", xv, p), elemwise("mod", xpv, p)
        order = argsort(xpv)
        xpv, fpv = take(xpv, order), take(fpv, order)
        xpv = concatenate([xpv[-1:] - p, xpv, xpv[:1] + p])
        fpv = concatenate([fpv[-1:], fpv, fpv[:1]])
    n = xpv.shape[0]
    # the interval [xp[j], xp[j + 1]] holding x (clamped to the first and the last)
    j = elemwise("maximum", elemwise("minimum", searchsorted(xpv, xv, side="right") - 1, n - 2), 0)
    k = elemwise("minimum", j + 1, n - 1)
    x0, x1, y0, y1 = take(xpv, j), take(xpv, k), take(fpv, j), take(fpv, k)
    slope = (y1 - y0) / (x1 - x0)
    inside = slope * (xv - x0) + y0
    # numpy's fallbacks for a NaN (an infinite slope): from the other end, then a flat piece
    inside = elemwise("switch", elemwise("isnan", inside), slope * (xv - x1) + y1, inside)
    flat = elemwise("and_", elemwise("isnan", inside), elemwise("eq", y0, y1))
    res = elemwise("switch", flat, y0, inside)
    res = elemwise("switch", elemwise("eq", xv, x0), y0, res)
    res = elemwise("switch", elemwise("eq", xv, xpv[-1]), fpv[-1], res)
    lo = fpv[0] if left is None else _scalar(left, "interp", "left")
    hi = fpv[-1] if right is None else _scalar(right, "interp", "right")
    res = elemwise("switch", elemwise("lt", xv, xpv[0]), lo, res)
    res = elemwise("switch", elemwise("gt", xv, xpv[-1]), hi, res)
    # a NaN x gives NaN, except against a single point (numpy then gives fp[0])
    return elemwise("switch", elemwise("and_", elemwise("isnan", xv), elemwise("gt", n, 1)), xv, res)


def _range_ends(a: Variable, range: Any) -> tuple[Variable, Variable, str]:
    """The outer bin edges numpy's histogram takes: ``range``, or the smallest and largest
    value (0 and 1 for no values), widened by 0.5 each way when they are equal; and the dtype
    of the edges (the data's float dtype, float64 for ints or a float64 range)."""
    if range is None:
        # of no values: 0 and 1; the extremes propagate a NaN, refused below as numpy does
        has = elemwise("gt", a.shape[0], 0)
        lo = min_(concatenate([a, constant(np.asarray([_extreme(a.dtype, 1)], a.dtype))]))
        hi = max_(concatenate([a, constant(np.asarray([_extreme(a.dtype, -1)], a.dtype))]))
        first, last = elemwise("switch", has, lo, 0), elemwise("switch", has, hi, 1)
        finite = elemwise("and_", elemwise("isfinite", first), elemwise("isfinite", last))
        first = check_value(
            first,
            finite,
            "histogram: the autodetected range is not finite, ({0}, {1}) (the values hold NaN or inf); give range",
            first,
            last,
        )
        kinds: list[Any] = [np.dtype(a.dtype)]
    else:
        if isinstance(range, Variable) or not isinstance(range, (tuple, list)) or len(range) != 2:
            raise TypeError(
                f"histogram: range must be a pair (min, max) of numbers or symbolic scalars, got {range!r}"
            )
        lo, hi = range
        if not isinstance(lo, Variable) and not isinstance(hi, Variable):
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError(f"histogram: the range [{lo}, {hi}] is not finite; give finite ends")
            if lo > hi:
                raise ValueError(f"histogram: range {range!r} has max below min; give (min, max)")
        first, last = (_real(e, "histogram", "range") for e in (lo, hi))
        ok = elemwise(
            "and_", elemwise("le", first, last), elemwise("isfinite", first) & elemwise("isfinite", last)
        )
        if isinstance(lo, Variable) or isinstance(hi, Variable):
            first = check_value(
                first,
                ok,
                "histogram: range must be finite with min <= max, got ({0}, {1}); give (min, max)",
                first,
                last,
            )
        kinds = [np.dtype(e.dtype) if isinstance(e, Variable) else e for e in (lo, hi)]
    equal = elemwise("eq", first, last)
    first = elemwise("switch", equal, first - 0.5, first)
    last = elemwise("switch", equal, last + 0.5, last)
    edge_dtype = np.result_type(*kinds, a.dtype)
    if edge_dtype.kind != "f":
        edge_dtype = np.result_type(edge_dtype, float)
    return first, last, edge_dtype.name


def _extreme(dtype: str, sign: int) -> Any:
    """The largest value of ``dtype`` (``sign`` 1), or the smallest (-1)."""
    if is_float(dtype):
        return sign * np.inf
    info = np.iinfo(dtype)
    return info.max if sign > 0 else info.min


def _uniform_edges(first: Variable, last: Variable, nbins: int | Variable, dtype: str) -> Variable:
    """numpy's ``linspace(first, last, nbins + 1)`` to the bit, in ``dtype``: ``i * step +
    first``, the last set to ``last``. The product is a ``tensordot``, which the C kernels cannot
    contract with the addition into a fused multiply-add: its single rounding can move an edge
    by one unit in the last place, and a value on that edge into the next bin."""
    dt = np.result_type(np.dtype(first.dtype), np.dtype(last.dtype), 1.0).name
    s, e = cast(first, dt), cast(last, dt)
    step = (e - s) / (constant(np.asarray(nbins, dt)) if isinstance(nbins, int) else cast(nbins, dt))
    i = arange(0, nbins + 1, dtype=dt)
    y = tensordot(dimshuffle(i, (0, "x")), dimshuffle(step, ("x",)), axes=1) + s
    y = elemwise("switch", elemwise("eq", arange(nbins + 1), nbins), e, y)
    return cast(y, dtype) if y.dtype != dtype else y


#: interpolate1d's methods: the value between the two neighbouring points (``linear``), of
#: the nearer one (``nearest``), of the one at or below (``first``), at or above (``last``), or
#: the mean of the two (``mean``)
INTERPOLATION_METHODS = ("linear", "nearest", "first", "last", "mean")


def interpolate1d(
    x: Any,
    y: Any,
    method: str = "linear",
    left_pad: Any = None,
    right_pad: Any = None,
    extrapolate: bool = True,
) -> Callable[[Any], Variable]:
    """PyTensor's ``interpolate1d``: a function of ``x_hat`` (a tensor of any shape) giving,
    elementwise, the interpolant of the points ``(x, y)`` (two vectors of one length, sorted
    by ``x`` here) by ``method`` (:data:`INTERPOLATION_METHODS`). With ``extrapolate`` (the
    default) points outside ``x``'s range continue the first or last piece; without it they
    get ``left_pad`` / ``right_pad`` (default ``y[0]`` / ``y[-1]``). ``x_hat`` at or below
    ``x[0]`` counts as outside on the left (PyTensor's search)."""
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"interpolate1d: method must be one of {INTERPOLATION_METHODS}, got {method!r}")
    if not isinstance(extrapolate, (bool, np.bool_)):
        raise TypeError(f"interpolate1d: extrapolate must be True or False, got {extrapolate!r}")
    xv, yv = _vector(x, "interpolate1d", "x"), _vector(y, "interpolate1d", "y")
    if None not in (xv.type.shape[0], yv.type.shape[0]) and xv.type.shape[0] != yv.type.shape[0]:
        raise ValueError(
            f"interpolate1d: x has {xv.type.shape[0]} points and y {yv.type.shape[0]} values; give one value per point"
        )
    order = argsort(xv)
    xv, yv = take(xv, order), take(yv, order)
    left = yv[0] if left_pad is None else _real(left_pad, "interpolate1d", "left_pad")
    right = yv[-1] if right_pad is None else _real(right_pad, "interpolate1d", "right_pad")

    def interpolate(x_hat: Any) -> Variable:
        xh = _real(x_hat, "interpolate1d", "x_hat")
        n = xv.shape[0]
        idx = searchsorted(xv, xh)

        def clipped(lo: Any, i: Any) -> Variable:
            return elemwise("maximum", elemwise("minimum", i, n - 1), lo)

        if method == "first":
            out = take(yv, clipped(0, idx - 1))
        elif method == "last":
            out = take(yv, clipped(0, idx))
        else:
            hi = clipped(1, idx)
            x0, x1, y0, y1 = take(xv, hi - 1), take(xv, hi), take(yv, hi - 1), take(yv, hi)
            if method == "linear":
                out = y0 + (xh - x0) / (x1 - x0) * (y1 - y0)
            elif method == "nearest":
                out = elemwise("switch", elemwise("le", xh - x0, x1 - xh), y0, y1)
            else:
                out = (y0 + y1) / 2
        if extrapolate:
            return out
        return elemwise(
            "switch", elemwise("eq", idx, 0), left, elemwise("switch", elemwise("eq", idx, n), right, out)
        )

    return interpolate


def histogram(
    a: Any, bins: Any = 10, range: Any = None, density: bool | None = None, weights: Any = None
) -> tuple[Variable, Variable]:
    """numpy.histogram: ``(counts, edges)`` of the values of ``a`` (flattened) in ``bins``: an
    int or a symbolic int scalar (that many equal bins over ``range``, or over the smallest to the largest value, as
    numpy computes the edges) or the increasing bin edges (a list or a symbolic vector; the
    last bin includes its right edge). Counts are int64, or the sums of ``weights`` (of
    ``a``'s shape, in their dtype); ``density`` divides by the bin widths and the total
    (float64). Values outside the edges (and NaN) are not counted. The counts have no
    gradient, weighted sums differentiate with respect to the weights."""
    av = _real(a, "histogram", "a")
    if av.dtype == "bool":
        raise TypeError(f"histogram: a holds bools ({av.type}); cast it to an int dtype first")
    if density not in (None, True, False):
        raise TypeError(f"histogram: density must be True, False or None, got {density!r}")
    w = None
    if weights is not None:
        w = _real(weights, "histogram", "weights")
        if w.ndim != av.ndim:
            raise ValueError(f"histogram: weights {w.type} for a {av.type}; give weights of a's shape")
        same = all_(elemwise("eq", w.shape, av.shape)) if av.ndim else constant(True)
        w = flatten(
            check_value(
                w,
                same,
                "histogram: weights must have the same shape as a, got {0} and {1}",
                w.shape,
                av.shape,
            )
        )
    av = flatten(av)
    if (
        as_int(bins) is not None
        or isinstance(bins, (float, np.floating))
        or (isinstance(bins, Variable) and bins.ndim == 0)
    ):
        first, last, edge_dtype = _range_ends(av, range)
        edges = _uniform_edges(first, last, size_arg(bins, "histogram", "bins", minimum=1), edge_dtype)
    elif isinstance(bins, (str, bool)) or bins is None:
        raise TypeError(
            f"histogram: bins must be an int or a vector of increasing edges, got {bins!r} (numpy's "
            "named estimators are not supported)"
        )
    else:
        edges = _vector(bins, "histogram", "bins")
        if isinstance(edges, Constant) and edges.data.size == 0:
            raise ValueError(
                f"histogram: the bin edges {bins!r} are empty; give at least one edge, or a count of bins"
            )
        if isinstance(edges, Constant) and np.any(np.diff(edges.data) < 0):
            raise ValueError(f"histogram: the bin edges {bins!r} must increase monotonically; sort them")
        increasing = elemwise("and_", _sorted_pairs(edges, "gt"), elemwise("gt", edges.shape[0], 0))
        edges = check_value(
            edges,
            increasing,
            "histogram: the bin edges must be non-empty and increase monotonically, got {0}; sort them",
            edges,
        )
    nbins = edges.shape[0] - 1
    # bin i holds edges[i] <= value < edges[i + 1], the last also its right edge; the others
    # (outside, NaN) go to an extra bin nbins, dropped, which one more index always makes
    at = searchsorted(edges, av, side="right") - 1
    at = elemwise("switch", elemwise("eq", av, edges[-1]), nbins - 1, at)
    at = elemwise("switch", elemwise("lt", at, 0), nbins, at)
    at = concatenate([at, nbins.dimshuffle("x")])
    if w is None:
        counts = bincount(at)[:nbins]
    else:
        wz = concatenate([cast(w, "float64"), constant(np.zeros(1))])
        counts = bincount(at, weights=wz)[:nbins]
        counts = cast(counts, w.dtype) if w.dtype != counts.dtype else counts
    if density:
        widths = cast(edges[1:] - edges[:-1], "float64")
        counts = cast(counts, "float64") / widths / cast(sum_(counts), "float64")
    return counts, edges
