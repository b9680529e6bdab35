"""``softmax``, ``log_softmax`` and ``logsumexp``, built from max, exp, sum and log so the
optimizer fuses them (the subtraction and exponential become the body of the sum: one pass,
no temporary). Each subtracts the maximum along ``axis`` first, so large inputs do not
overflow; an all ``-inf`` slice gives ``-inf`` from ``logsumexp`` (as scipy does) instead of NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_float, upcast_float
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .grad_markers import zero_grad
from .reduction import filled_when_empty, keep_reduced_dims, normalize_axes
from .reduction import max as max_
from .reduction import sum as sum_

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _float_input(x: Any) -> Variable:
    """``x`` as a float tensor; a 0-d one reduces over no axes, as scipy's (an axis it has not
    is refused by the reduction)."""
    v = as_tensor_variable(x)
    if not is_float(v.dtype):
        # as numpy's exp: float64 for wide integers, float32 for bool and 8/16-bit ones
        v = cast(v, upcast_float(v.dtype))
    return v


def _shifted(v: Variable, axis: Any, what: str, finite: bool = True) -> tuple[Variable, Variable]:
    """(x - m, m) where m is the max over ``axis`` (kept as size-1 dims), with (``finite``)
    non-finite maxima replaced by 0 so an all -inf or +inf slice does not turn into NaN here."""
    axes = normalize_axes(axis, v.ndim, what)
    m = max_(v, axis=axes, keepdims=True)
    if finite:
        m = elemwise("switch", elemwise("isfinite", m), m, 0)
    # The results do not depend on the shift (softmax(x - m) is softmax(x) for any m, and
    # logsumexp adds m back): its gradient terms cancel exactly, so none is built. Built, they
    # cost a reduction and a pass over x per gradient (the max's mask, x == m).
    m = zero_grad(m)
    return elemwise("sub", v, m), m


def softmax(x: Any, axis: Any = -1) -> Variable:
    """exp(x) / sum(exp(x), axis), computed as exp(x - max) / sum(exp(x - max))."""
    v = _float_input(x)
    # The maximum itself, even where it is not finite: a slice holding +inf or NaN is NaN
    # throughout (0 / NaN), as scipy's and PyTensor's (a shift by 0 there would give 0 for the
    # finite values beside a +inf, and NaN for those that overflow)
    d, _ = _shifted(v, axis, "softmax", finite=False)
    e = elemwise("exp", d)
    return elemwise("true_div", e, sum_(e, axis=axis, keepdims=True))


def log_softmax(x: Any, axis: Any = -1) -> Variable:
    """x - logsumexp(x, axis), computed as (x - max) - log(sum(exp(x - max)))."""
    v = _float_input(x)
    d, _ = _shifted(v, axis, "log_softmax")
    return elemwise("sub", d, elemwise("log", sum_(elemwise("exp", d), axis=axis, keepdims=True)))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """log(sum(exp(x), axis)), computed as max + log(sum(exp(x - max))); -inf (the log of an
    empty sum) where the axes hold nothing, as scipy's and PyTensor's."""
    v = _float_input(x)
    axes = normalize_axes(axis, v.ndim, "logsumexp")

    def build() -> Variable:
        from .shape_ops import dimshuffle

        d, m = _shifted(v, axes, "logsumexp")
        out = elemwise("add", elemwise("log", sum_(elemwise("exp", d), axis=axes, keepdims=True)), m)
        return dimshuffle(out, [d for d in range(v.ndim) if d not in axes])

    out = filled_when_empty(v, axes, -np.inf, v.dtype, build)
    return keep_reduced_dims(out, axes, keepdims)
