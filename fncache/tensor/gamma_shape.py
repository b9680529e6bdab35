"""The second derivative of the regularized lower incomplete gamma function ``P(k, x)`` in its
shape ``k`` (``GammaincDkk``): what differentiating ``gammainc``'s derivative in k
(``gammainc_da``) in k again gives, so ``gammainc``, ``gammaincc`` and their inverses have
second derivatives in k.

With the density ``f(t) = t**(k - 1) e**-t / gamma(k)``, ``d2 P / dk2 = int_0^x f(t) ((log t -
psi(k))**2 - psi1(k)) dt``, and ``-int_x^inf`` of the same, since ``P(k, inf) = 1`` for every
k. Below the mean (``x < k``) it is P's power series ``sum_n T_n``, ``T_n = x**(k + n) e**-x /
gamma(k + n + 1)``, differentiated twice term by term: ``T_n ((log x - psi(k + n + 1))**2 -
psi1(k + n + 1))``, the digammas carried along by their recurrences. Above it the upper integral
(the lower one would be a difference of nearly equal terms where Q = 1 - P is small), by
Gauss-Legendre panels over the span where the integrand is above 1e-22 of its value at x: the
integrand decreases from x on, log-concave. Both are accurate to about 1e-12 of the terms'
sizes; near a zero of the derivative that is its absolute accuracy.

An elementwise op with a numpy ``perform`` (a Python step under the C linker), as
``Hyp2F1Grad``: its gradient in x is the integrand at x, in closed form; in k (a third
derivative) it is refused where one is needed.
"""

from __future__ import annotations

import math

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .elemwise import broadcast_static_shape
from .gamma_reference import _digamma_pos, _trigamma_pos

__all__ = ["GammaincDkk", "gammainc_dkk"]

#: Gauss-Legendre nodes and weights on [0, 1] of one panel of the upper integral
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2
_PANELS = 48
_MAX_TERMS = 1_000_000


def _lower_series(k: float, x: float) -> float:
    """sum_n T_n ((log x - psi(k + n + 1))**2 - psi1(k + n + 1)), for x < k + 1."""
    log_t = k * math.log(x) - x - math.lgamma(k + 1.0)
    if log_t < -745.0:  # every term underflows: P and its derivatives are 0 to double precision
        return 0.0
    lx = math.log(x)
    psi, psi1 = _digamma_pos(k + 1.0), _trigamma_pos(k + 1.0)
    t, total = 1.0, 0.0  # T_n / T_0
    for n in range(_MAX_TERMS):
        d = lx - psi
        term = t * (d * d - psi1)
        total += term
        if n > 2 and t < 1e-17 * max(abs(total), 1e-300) and x < k + n + 1.0:
            break
        t *= x / (k + n + 1.0)
        psi += 1.0 / (k + n + 1.0)
        psi1 -= 1.0 / ((k + n + 1.0) * (k + n + 1.0))
    return math.exp(log_t) * total


def _upper_integral(k: float, x: float) -> float:
    """int_x^inf f(t) ((log t - psi(k))**2 - psi1(k)) dt, for x >= k + 1 - 1 (the integrand
    decreases from x on)."""
    lg, psi, psi1 = math.lgamma(k), _digamma_pos(k), _trigamma_pos(k)

    def log_f(t: np.ndarray) -> np.ndarray:
        return (k - 1.0) * np.log(t) - t - lg

    # the span where log f drops by 50: doubling from the decay length at x
    top = log_f(np.array(x))
    span = 1.0 / max(1.0 - (k - 1.0) / x, 1e-3)
    while log_f(np.array(x + span)) > top - 50.0:
        span *= 2.0
    edges = x + span * np.arange(_PANELS + 1) / _PANELS
    width = np.diff(edges)
    ts = edges[:-1, None] + width[:, None] * _NODES[None, :]
    d = np.log(ts) - psi
    vals = np.exp(log_f(ts)) * (d * d - psi1)
    return float(np.sum(vals * _WEIGHTS[None, :] * width[:, None]))


def _dkk(k: float, x: float) -> float:
    if not (k >= 0.0 and x >= 0.0) or (k == 0.0 and x == 0.0) or k == math.inf:
        return math.nan if not (k >= 0.0 and x >= 0.0) or k == x else 0.0
    if x == 0.0 or x == math.inf or k == 0.0:
        return 0.0
    if x < k + 1.0:
        return _lower_series(k, x)
    return -_upper_integral(k, x)


_dkk_ufunc = np.frompyfunc(_dkk, 2, 1)


def gammainc_dkk(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d2 P(k, x) / dk2, elementwise (float64)."""
    with np.errstate(all="ignore"):
        return np.asarray(_dkk_ufunc(np.asarray(k, np.float64), np.asarray(x, np.float64)), np.float64)


class GammaincDkk(Op):
    """The second derivative of ``gammainc(k, x)`` in ``k``, elementwise over the broadcast
    operands (float64; float32 for float32 operands)."""

    __props__ = ()

    def make_node(self, k: Variable, x: Variable) -> Apply:
        shape = broadcast_static_shape([k.type.shape, x.type.shape], "gammainc")
        dt = "float32" if k.dtype == x.dtype == "float32" else "float64"
        return Apply(self, [k, x], [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [gammainc_dkk(*inputs).astype(node.outputs[0].dtype)]
