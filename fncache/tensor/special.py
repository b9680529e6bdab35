"""Special functions composed from elementwise ops: ``psi`` (digamma) and PyTensor's
``log1mexp log1pexp xlogx xlogy0``. Each is a short chain of scalar ops, so it fuses into the
surrounding C loop and differentiates through the ops' rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.basic import Variable
from .basic import as_tensor_variable, constant
from .elemwise import elemwise

__all__ = ["psi", "digamma", "log1mexp", "log1pexp", "xlogx", "xlogy0"]


def psi(x: Any) -> Variable:
    """psi(x), the derivative of ``gammaln`` (log |gamma(x)|), from elementwise ops: the
    recurrence psi(x) = psi(x + 8) - sum 1/(x + k) lifts the argument to where the asymptotic
    series (Bernoulli terms to 1/t**12) is exact to ~1e-14, and negative arguments use the
    reflection psi(x) = psi(1 - x) - pi / tan(pi x). Ints and bools give float64."""
    x = as_tensor_variable(x)
    neg = elemwise("lt", x, 0)
    u = elemwise("switch", neg, 1 - x, x)
    shift = 1 / u
    for k in range(1, 8):
        shift = shift + 1 / (u + k)
    t = u + 8
    w = 1 / elemwise("sqr", t)
    series = 691 / 32760 - w / 12
    for c in (1 / 132, 1 / 240, 1 / 252, 1 / 120, 1 / 12):
        series = c - w * series
    out = elemwise("log", t) - 0.5 / t - w * series - shift
    return elemwise("switch", neg, out - math.pi / elemwise("tan", math.pi * x), out)


digamma = psi


def _zero_where(cond: Variable, value: Variable) -> Variable:
    return elemwise("switch", cond, constant(np.zeros((), value.dtype)), value)


def log1mexp(x: Any) -> Variable:
    """PyTensor's ``log1mexp``: log(1 - exp(x)) for x <= 0, accurate at both ends (``log1p(-exp
    x)`` below -log 2, ``log(-expm1 x)`` above; NaN for x > 0)."""
    x = as_tensor_variable(x)
    return elemwise(
        "switch",
        elemwise("lt", x, -math.log(2.0)),
        elemwise("log1p", -elemwise("exp", x)),
        elemwise("log", -elemwise("expm1", x)),
    )


def log1pexp(x: Any) -> Variable:
    """PyTensor's ``log1pexp``: log(1 + exp(x)) without overflow (:func:`softplus`)."""
    return elemwise("softplus", x)


def xlogx(x: Any) -> Variable:
    """PyTensor's ``xlogx``: x * log(x), 0 at x = 0."""
    x = as_tensor_variable(x)
    return _zero_where(elemwise("eq", x, 0), x * elemwise("log", x))


def xlogy0(x: Any, y: Any) -> Variable:
    """PyTensor's ``xlogy0``: x * log(y), 0 where x = 0 (whatever y)."""
    x = as_tensor_variable(x)
    return _zero_where(elemwise("eq", x, 0), x * elemwise("log", y))
