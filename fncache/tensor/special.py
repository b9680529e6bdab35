"""Special functions composed from elementwise ops: ``psi`` (digamma), ``polygamma`` and
PyTensor's ``tri_gamma log1mexp log1pexp xlogx xlogy0``. Each is a short chain of scalar ops, so it fuses into the
surrounding C loop and differentiates through the ops' rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.basic import Variable
from .basic import as_tensor_variable, constant, is_python_int
from .elemwise import elemwise

__all__ = ["psi", "digamma", "polygamma", "tri_gamma", "log1mexp", "log1pexp", "xlogx", "xlogy0"]


def psi(x: Any) -> Variable:
    """psi(x), the derivative of ``gammaln`` (log |gamma(x)|), from elementwise ops: the
    recurrence psi(x) = psi(x + 8) - sum 1/(x + k) lifts the argument to where the asymptotic
    series (Bernoulli terms to 1/t**12) is exact to ~1e-14, and negative arguments use the
    reflection psi(x) = psi(1 - x) - pi / tan(pi x). The negative integers (poles of either
    sign) give NaN, as scipy's. Ints and bools give float64."""
    x = as_tensor_variable(x)
    neg = elemwise("lt", x, 0)
    pole = elemwise("and_", neg, elemwise("eq", x, elemwise("floor", x)))
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
    out = elemwise("switch", neg, out - math.pi / elemwise("tan", math.pi * x), out)
    return elemwise("switch", pole, constant(np.asarray(np.nan, out.dtype)), out)


digamma = psi

#: the Bernoulli numbers B_2 .. B_14, of the asymptotic series of the polygamma functions
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
#: the argument is lifted by this much before the series: its first omitted term is then below
#: 1e-15 of the value for the orders up to 6
_SHIFT = 16


def polygamma(n: int, x: Any) -> Variable:
    """scipy's ``polygamma(n, x)``: the ``n``-th derivative of :func:`psi`, for ``x > 0`` (NaN
    for ``x <= 0``, but for the orders 0 and 1: :func:`psi` and :func:`tri_gamma` reflect
    negative arguments). ``n`` a non-negative int. The recurrence lifts ``x`` by 16, where the
    asymptotic series (Bernoulli terms to B_14) is exact to ~1e-15 for the orders up to 6 (its
    error grows with ``n``: ~1e-12 at 10); the lifted terms ``n! / (x + k)**(n + 1)`` are
    added back."""
    if not is_python_int(n) or n < 0:
        raise TypeError(f"polygamma: n (the order) must be a non-negative int, got {n!r}")
    n = int(n)
    x = as_tensor_variable(x)
    if n == 0:
        return psi(x)
    if n == 1:
        return tri_gamma(x)
    out = _polygamma_series(n, x)
    return elemwise("switch", elemwise("gt", x, 0), out, constant(np.asarray(np.nan, out.dtype)))


def tri_gamma(x: Any) -> Variable:
    """PyTensor's ``tri_gamma``: ``polygamma(1, x)`` for every real ``x``; negative arguments
    use the reflection ``pi**2 / sin(pi x)**2 - tri_gamma(1 - x)``, and 0 and the negative
    integers (its poles) give +inf, as scipy's."""
    x = as_tensor_variable(x)
    neg = elemwise("le", x, 0)
    series = _polygamma_series(1, elemwise("switch", neg, 1 - x, x))
    reflected = math.pi**2 / elemwise("sqr", elemwise("sin", math.pi * x)) - series
    out = elemwise("switch", neg, reflected, series)
    pole = elemwise("and_", neg, elemwise("eq", x, elemwise("floor", x)))
    return elemwise("switch", pole, constant(np.asarray(np.inf, out.dtype)), out)


def _polygamma_series(n: int, x: Variable) -> Variable:
    """polygamma(n, x) for ``x > 0`` by the lifted asymptotic series (see :func:`polygamma`)."""
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)**(n + 1)
    t = x + _SHIFT
    w = 1 / elemwise("sqr", t)
    # sum_k B_2k (2k + n - 1)! / (2k)! / t**(2k + n), Horner in w = 1 / t**2
    coef = [b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) for k, b in enumerate(_BERNOULLI, 1)]
    series = coef[-1] * w
    for c in reversed(coef[:-1]):
        series = (series + c) * w
    lead = math.factorial(n - 1) + math.factorial(n) / 2 / t + series
    out = lead / elemwise("pow", t, n)
    shift = 0
    for k in range(_SHIFT):
        shift = shift + 1 / elemwise("pow", x + k, n + 1)
    return sign * (out + math.factorial(n) * shift)


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


# PyTensor's tensor.special also holds softmax and log_softmax (axis=None: every entry)
from .softmax_losses import special_log_softmax as log_softmax, special_softmax as softmax  # noqa: E402

__all__ += ["softmax", "log_softmax"]
