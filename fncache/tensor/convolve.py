"""1-D discrete convolution and cross-correlation: numpy's ``convolve correlate`` and
PyTensor's ``signal.convolve1d`` (which also takes stacks of signals).

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
from .pyop import assert_op
from .reduction import sum as sum_
from .shape_ops import concatenate, dim_sizes, dimshuffle

__all__ = ["convolve", "correlate", "convolve1d"]

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
    va = assert_op(va, both, f"{what}: the signals must not be empty; give at least one value in each")
    return va, vv


def _correlate_full(a: Variable, v: Variable) -> Variable:
    """Every overlap of ``v`` with ``a`` along their last axes: ``c[k] = sum_j a[k + j - (m -
    1)] * v[j]`` for k in [0, n + m - 1), ``a`` taken as 0 outside; the leading dims broadcast."""
    n, m = a.shape[-1], v.shape[-1]
    # no padding for an empty v, which the signals' check then refuses
    pad = zeros(tuple(dim_sizes(a)[:-1]) + (elemwise("maximum", m - 1, 0),), a.dtype)
    padded = concatenate([pad, a, pad], axis=-1)
    windows = take(padded, dimshuffle(arange(n + m - 1), (0, "x")) + dimshuffle(arange(m), ("x", 0)), axis=-1)
    nd = max(a.ndim, v.ndim)
    vb = dimshuffle(v, ["x"] * (nd - v.ndim) + list(range(v.ndim - 1)) + ["x", v.ndim - 1])
    dtype = np.result_type(a.dtype, v.dtype).name
    out = sum_(elemwise("mul", windows, vb), axis=-1)
    return cast(out, dtype) if out.dtype != dtype else out


def _cut(full: Variable, n: Variable, m: Variable, mode: str, what: str, correlating: bool) -> Variable:
    """The part of the full result numpy's ``mode`` keeps: all of it, the ``max(n, m)`` values
    about its centre, or the ``|n - m| + 1`` where the signals overlap whole."""
    if mode not in _MODES:
        raise ValueError(f"{what}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if mode == "full":
        return full
    short = elemwise("minimum", n, m)
    if mode == "valid":
        return full[..., short - 1 : full.shape[-1] - (short - 1)]
    start = elemwise("floor_div", short - 1, 2)
    if correlating:
        # numpy's correlation centres the other way when the second signal is the longer
        start = elemwise("switch", elemwise("lt", n, m), elemwise("floor_div", short, 2), start)
    return full[..., start : start + elemwise("maximum", n, m)]


def convolve(a: Any, v: Any, mode: str = "full") -> Variable:
    """numpy.convolve: the discrete linear convolution of the vectors ``a`` and ``v``, of length
    ``n + m - 1`` (``mode="full"``), ``max(n, m)`` (``"same"``, centred as numpy's) or ``|n - m|
    + 1`` (``"valid"``); numpy's dtype (the signals' together)."""
    va, vv = _signals(a, v, "convolve", one_d=True)
    return _cut(_correlate_full(va, vv[::-1]), va.shape[0], vv.shape[0], mode, "convolve", False)


def correlate(a: Any, v: Any, mode: str = "valid") -> Variable:
    """numpy.correlate: the cross-correlation ``c[k] = sum_n a[n + k] * v[n]`` of the real
    vectors ``a`` and ``v``, with numpy's modes (``"valid"`` by default, ``"same"``,
    ``"full"``) and its dtype."""
    va, vv = _signals(a, v, "correlate", one_d=True)
    return _cut(_correlate_full(va, vv), va.shape[0], vv.shape[0], mode, "correlate", True)


def convolve1d(in1: Any, in2: Any, mode: str = "full") -> Variable:
    """PyTensor's ``signal.convolve1d``: :func:`convolve` along the last axis, with the leading
    dims of ``in1`` and ``in2`` broadcast against each other (a stack of signals each
    convolved with its filter)."""
    va, vv = _signals(in1, in2, "convolve1d", one_d=False)
    full = _correlate_full(va, vv[..., ::-1])
    return _cut(full, va.shape[-1], vv.shape[-1], mode, "convolve1d", False)
