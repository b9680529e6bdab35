"""Discrete convolution and cross-correlation: numpy's ``convolve correlate``, PyTensor's
``signal.convolve1d`` (which also takes stacks of signals) and ``signal.convolve2d``
(scipy's, over the last two dims of stacks of images).

Each output value is a dot product of the second signal with a window of the first (padded
with zeros): the windows are one indexing of the padded signal by a matrix of positions, the
products and their sum an elementwise loop and a reduction, so it compiles to C where those do
and differentiates with respect to both signals through their gradient rules. Empty signals
raise AssertionError when the function runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex
from .advanced_subtensor import take
from .basic import as_tensor_variable
from .creation import arange, zeros
from .elemwise import cast, elemwise
from .pyop import check_value
from .reduction import sum as sum_
from .shape_ops import concatenate, dim_sizes, dimshuffle

__all__ = ["convolve", "correlate", "convolve1d", "convolve2d"]

_MODES = ("full", "same", "valid")


def _signals(a: Any, v: Any, what: str, one_d: bool) -> tuple[Variable, Variable]:
    va, vv = as_tensor_variable(a), as_tensor_variable(v)
    for name, t in (("a", va), ("v", vv)):
        if is_complex(t.dtype):
            raise TypeError(f"{what}: complex signals are not supported, got {t.type} for {name}")
        if t.ndim == 0 or (one_d and t.ndim != 1):
            want = "a vector (1-d)" if one_d else "1 or more dims (the signal along the last)"
            raise ValueError(f"{what}: {name} must be {want}, got {t.type}")
    both = elemwise("and_", elemwise("gt", va.shape[-1], 0), elemwise("gt", vv.shape[-1], 0))
    va = check_value(
        va,
        both,
        f"{what}: the signals must not be empty, got shapes {{0}} and {{1}}; give at least one value in each",
        va.shape,
        vv.shape,
    )
    return va, vv


def _correlate_full(a: Variable, v: Variable) -> Variable:
    """Every overlap of ``v`` with ``a`` along their last axes: ``c[k] = sum_j a[k + j - (m -
    1)] * v[j]`` for k in [0, n + m - 1), ``a`` taken as 0 outside; the leading dims broadcast."""
    n, m = dim_sizes(a)[-1], dim_sizes(v)[-1]  # ints where known: the result's static size
    # no padding for an empty v, which the signals' check then refuses
    pad = zeros(tuple(dim_sizes(a)[:-1]) + (elemwise("maximum", m - 1, 0),), a.dtype)
    padded = concatenate([pad, a, pad], axis=-1)
    windows = take(padded, dimshuffle(arange(n + m - 1), (0, "x")) + dimshuffle(arange(m), ("x", 0)), axis=-1)
    nd = max(a.ndim, v.ndim)
    vb = dimshuffle(v, ["x"] * (nd - v.ndim) + list(range(v.ndim - 1)) + ["x", v.ndim - 1])
    dtype = np.result_type(a.dtype, v.dtype).name
    out = sum_(elemwise("mul", windows, vb), axis=-1)
    return cast(out, dtype) if out.dtype != dtype else out


def _lengths(a: Variable, v: Variable) -> list:
    """The signals' lengths (their last dims): ints where static, so the cut keeps them."""
    return [dim_sizes(a)[-1], dim_sizes(v)[-1]]


def _cut(
    full: Variable, n: Any, m: Any, mode: str, what: str, correlating: bool, same_as_first: bool = False
) -> Variable:
    """The part of the full result numpy's ``mode`` keeps: all of it, the ``max(n, m)`` values
    about its centre, or the ``|n - m| + 1`` where the signals overlap whole. With
    ``same_as_first`` (scipy's and PyTensor's rule) ``"same"`` keeps the first signal's ``n``
    values instead, from ``(m - 1) // 2``: numpy's where ``n >= m``. Lengths known when the
    graph is built (ints) cut a constant slice, of a static size."""
    if mode not in _MODES:
        raise ValueError(f"{what}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if mode == "full":
        return full
    if mode == "same" and same_as_first:
        start = (m - 1) // 2 if isinstance(m, int) else elemwise("floor_div", m - 1, 2)
        return full[..., start : start + n]
    known = isinstance(n, int) and isinstance(m, int)
    short = min(n, m) if known else elemwise("minimum", n, m)
    if mode == "valid":
        return full[..., short - 1 : dim_sizes(full)[-1] - (short - 1)]
    if known:
        # numpy's correlation centres the other way when the second signal is the longer
        start = short // 2 if correlating and n < m else (short - 1) // 2
        return full[..., start : start + max(n, m)]
    start = elemwise("floor_div", short - 1, 2)
    if correlating:
        start = elemwise("switch", elemwise("lt", n, m), elemwise("floor_div", short, 2), start)
    return full[..., start : start + elemwise("maximum", n, m)]


def convolve(a: Any, v: Any, mode: str = "full") -> Variable:
    """numpy.convolve: the discrete linear convolution of the vectors ``a`` and ``v``, of length
    ``n + m - 1`` (``mode="full"``), ``max(n, m)`` (``"same"``, centred as numpy's) or ``|n - m|
    + 1`` (``"valid"``); numpy's dtype (the signals' together)."""
    va, vv = _signals(a, v, "convolve", one_d=True)
    return _cut(_correlate_full(va, vv[::-1]), *_lengths(va, vv), mode, "convolve", False)


def correlate(a: Any, v: Any, mode: str = "valid") -> Variable:
    """numpy.correlate: the cross-correlation ``c[k] = sum_n a[n + k] * v[n]`` of the real
    vectors ``a`` and ``v``, with numpy's modes (``"valid"`` by default, ``"same"``,
    ``"full"``) and its dtype."""
    va, vv = _signals(a, v, "correlate", one_d=True)
    return _cut(_correlate_full(va, vv), *_lengths(va, vv), mode, "correlate", True)


def convolve1d(in1: Any, in2: Any, mode: str = "full") -> Variable:
    """PyTensor's ``signal.convolve1d``: :func:`convolve` along the last axis, with the leading
    dims of ``in1`` and ``in2`` broadcast against each other (a stack of signals each
    convolved with its filter). ``mode="same"`` keeps ``in1``'s length, as PyTensor's (and
    scipy's): numpy's ``convolve`` keeps the longer signal's."""
    va, vv = _signals(in1, in2, "convolve1d", one_d=False)
    full = _correlate_full(va, vv[..., ::-1])
    return _cut(full, *_lengths(va, vv), mode, "convolve1d", False, same_as_first=True)


_BOUNDARIES = ("fill", "wrap", "symm")


def _source_index(pos: Variable, n: Variable, boundary: str) -> tuple[Variable, Variable | None]:
    """The entry of a dim of size ``n`` that the (possibly outside) positions ``pos`` read, by
    scipy's ``boundary`` rule, and for ``fill`` whether each position is inside."""
    if boundary == "wrap":
        return elemwise("mod", pos, n), None
    if boundary == "symm":  # mirrored about the edges, the edge entry repeated
        r = elemwise("mod", pos, 2 * n)
        return elemwise("switch", elemwise("ge", r, n), 2 * n - 1 - r, r), None
    inside = elemwise("and_", elemwise("ge", pos, 0), elemwise("lt", pos, n))
    return elemwise("minimum", elemwise("maximum", pos, 0), n - 1), inside


def convolve2d(
    in1: Any, in2: Any, mode: str = "full", boundary: str = "fill", fillvalue: Any = 0, method: str = "auto"
) -> Variable:
    """PyTensor's ``signal.convolve2d`` (scipy's ``convolve2d`` over the last two dims, the
    leading dims of ``in1`` (..., N, M) and ``in2`` (..., K, L) broadcast): ``mode`` ``full``
    (N + K - 1, M + L - 1), ``same`` (in1's size, centred as scipy's) or ``valid`` (where the
    smaller fits whole in the larger, which must be so in both dims); ``boundary`` ``fill``
    (``fillvalue`` outside ``in1``), ``wrap`` or ``symm``. Every output entry is the sum of
    products of ``in2`` with a window of ``in1`` read by index arithmetic, so it compiles to C
    and differentiates with respect to both inputs (and a symbolic ``fillvalue``); ``method``
    is accepted and changes nothing."""
    if mode not in _MODES:
        raise ValueError(f"convolve2d: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if boundary not in _BOUNDARIES:
        raise ValueError(f"convolve2d: boundary must be one of {', '.join(_BOUNDARIES)}, got {boundary!r}")
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"convolve2d: method must be 'auto', 'direct' or 'fft', got {method!r}")
    va, vk = as_tensor_variable(in1), as_tensor_variable(in2)
    for name, t in (("in1", va), ("in2", vk)):
        if is_complex(t.dtype):
            raise TypeError(f"convolve2d: complex inputs are not supported, got {t.type} for {name}")
        if t.ndim < 2:
            raise ValueError(f"convolve2d: {name} must have 2 or more dims (an image last), got {t.type}")
    n, m, k, l_ = va.shape[-2], va.shape[-1], vk.shape[-2], vk.shape[-1]
    sizes = [va.shape[-2] * va.shape[-1], vk.shape[-2] * vk.shape[-1]]
    ok = elemwise("and_", elemwise("gt", sizes[0], 0), elemwise("gt", sizes[1], 0))
    if mode == "valid":
        rows_in1 = elemwise("ge", n, k)
        fits = elemwise("eq", rows_in1, elemwise("ge", m, l_))
        ok = elemwise(
            "and_", ok, elemwise("or_", fits, elemwise("and_", elemwise("eq", n, k), elemwise("eq", m, l_)))
        )
    va = check_value(
        va,
        ok,
        "convolve2d: the images must not be empty, and in 'valid' mode one must be at least as "
        "large as the other in both dims; got shapes {0} and {1}",
        va.shape,
        vk.shape,
    )
    dtype = np.result_type(va.dtype, vk.dtype).name
    if mode == "valid":
        # only whole overlaps: whichever input is the smaller, the positions past in1 add 0
        boundary, fillvalue = "fill", 0
    # the output's first position in full-mode coordinates, and its size, per dim
    first, count = [], []
    for size, ksize in ((n, k), (m, l_)):
        if mode == "full":
            first.append(0)
            count.append(size + ksize - 1)
        elif mode == "same":
            first.append(elemwise("floor_div", ksize - 1, 2))
            count.append(size)
        else:
            first.append(elemwise("minimum", size, ksize) - 1)
            count.append(elemwise("abs", size - ksize) + 1)
    rows = dimshuffle(arange(count[0]) + first[0], (0, "x")) - dimshuffle(arange(k), ("x", 0))
    cols = dimshuffle(arange(count[1]) + first[1], (0, "x")) - dimshuffle(arange(l_), ("x", 0))
    r_idx, r_in = _source_index(rows, n, boundary)
    c_idx, c_in = _source_index(cols, m, boundary)
    windows = va[..., dimshuffle(r_idx, (0, "x", 1, "x")), dimshuffle(c_idx, ("x", 0, "x", 1))]
    if boundary == "fill":
        inside = elemwise("and_", dimshuffle(r_in, (0, "x", 1, "x")), dimshuffle(c_in, ("x", 0, "x", 1)))
        fill = cast(as_tensor_variable(fillvalue), va.dtype)
        windows = elemwise("switch", inside, windows, fill)
    kernel = dimshuffle(vk, list(range(vk.ndim - 2)) + ["x", "x", vk.ndim - 2, vk.ndim - 1])
    out = sum_(elemwise("mul", windows, kernel), axis=(-2, -1))
    return cast(out, dtype) if out.dtype != dtype else out
