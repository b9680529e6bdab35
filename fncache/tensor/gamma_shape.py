"""Second derivatives of the regularized incomplete gamma and beta functions in their shapes:
``GammaincDkk``, P(k, x)'s in k twice, and ``BetaincD2``, I_x(a, b)'s in a and/or b: what
differentiating ``gammainc_da``, ``betainc_da`` and ``betainc_db`` in the shapes again gives, so
``gammainc``, ``gammaincc``, ``betainc`` and their inverses have second derivatives in them.

With the density f, each is the integral of f times the second derivative of log f (plus the
square of the first): for gammainc ``d2 P / dk2 = int_0^x f(t) ((log t - psi(k))**2 -
psi1(k)) dt``, and ``-int_x^inf`` of the same, since ``P(k, inf) = 1`` for every k. Below the
mean (``x < k + 1``) it is P's power series ``sum_n T_n``, ``T_n = x**(k + n) e**-x /
gamma(k + n + 1)``, differentiated twice term by term: ``T_n ((log x - psi(k + n + 1))**2 -
psi1(k + n + 1))``, the digammas carried along by their recurrences. Above it the upper integral
(the lower one would be a difference of nearly equal terms where Q = 1 - P is small), by
Gauss-Legendre panels over the span where the integrand is above 1e-22 of its value at x: the
integrand decreases from x on, log-concave. For betainc the integral on the side of the mean
x is on (``I_x(a, b) = 1 - I_{1-x}(b, a)`` above it), with ``t = x u**(1 / a)``, by tanh-sinh
quadrature (its integrand has logarithms at the ends). Each is accurate to about 1e-10 of the
terms' sizes (within 1e-6 of differences of the first derivatives over the shapes and x
``tests/test_grad_higher.py`` takes); near a zero of the derivative that is its absolute
accuracy.

Elementwise ops with a numpy ``perform`` (a Python step under the C linker), as
``Hyp2F1Grad``: their gradients in x are closed forms (``grad_rules.py``); in the shapes (third
derivatives) they are refused where one is needed.
"""

from __future__ import annotations

import math

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .elemwise import broadcast_static_shape
from .gamma_reference import digamma_pos, lbeta, trigamma_pos

__all__ = ["GammaincDkk", "BetaincD2"]

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
    psi, psi1 = digamma_pos(k + 1.0), trigamma_pos(k + 1.0)
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
    lg, psi, psi1 = math.lgamma(k), digamma_pos(k), trigamma_pos(k)

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


class _ScalarLoop(Op):
    """An elementwise op whose value at each element is the Python function :meth:`scalar` of
    the broadcast operands, computed in float64 (a float32 result where every operand is
    float32): the step both second derivatives below share."""

    #: the function differentiated, as a size error names it
    of: str

    def scalar(self, *operands: float) -> float:
        raise NotImplementedError

    def node(self, *operands: Variable) -> Apply:
        shape = broadcast_static_shape([v.type.shape for v in operands], self.of)
        dt = "float32" if all(v.dtype == "float32" for v in operands) else "float64"
        return Apply(self, list(operands), [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        loop = np.frompyfunc(self.scalar, len(inputs), 1)
        with np.errstate(all="ignore"):
            values = loop(*[np.asarray(v, np.float64) for v in inputs])
        return [np.asarray(values, np.float64).astype(node.outputs[0].dtype)]


class GammaincDkk(_ScalarLoop):
    """The second derivative of ``gammainc(k, x)`` in ``k``, elementwise over the broadcast
    operands (float64; float32 for float32 operands)."""

    __props__ = ()
    of = "gammainc"

    def make_node(self, k: Variable, x: Variable) -> Apply:
        return self.node(k, x)

    def scalar(self, k: float, x: float) -> float:
        return _dkk(k, x)


# -- betainc's second derivatives in its shapes ---------------------------------------------------
#: tanh-sinh nodes on (0, 1), as log(u) and log(1 - u) (exact near either end), and weights: the
#: integrands below have logarithmic and algebraic singularities at the ends
_STEP = 1.0 / 24
_S = np.arange(-4.0, 4.0 + _STEP / 2, _STEP)
_W = 0.5 * np.pi * np.sinh(_S)
_LOG_U, _LOG_1MU = -np.log1p(np.exp(-2 * _W)), -np.log1p(np.exp(2 * _W))
_U_WEIGHTS = _STEP * 0.5 * np.pi * np.cosh(_S) / (2 * np.cosh(_W) ** 2)


def _beta_lower(a: float, b: float, x: float, i: int, j: int) -> float:
    """int_0^x f(t) (L_i L_j + C_ij) dt, f = t**(a - 1) (1 - t)**(b - 1) / B(a, b), L_0 =
    log t - psi(a) + psi(a + b), L_1 = log(1 - t) - psi(b) + psi(a + b), C the second
    derivatives of -log B: the second derivative of I_x(a, b) in shapes i and j. With t = x
    u**(1 / a), t**(a - 1) dt is x**a / a du: the integrand is smooth but for logarithms at the
    ends, which tanh-sinh's nodes take in (to about 1e-13)."""
    ab, ab1 = digamma_pos(a + b), trigamma_pos(a + b)
    log_t = math.log(x) + _LOG_U / a
    t = np.exp(log_t)
    log_1mt = np.log1p(-t)
    ls = [log_t - digamma_pos(a) + ab, log_1mt - digamma_pos(b) + ab]
    c = {(0, 0): ab1 - trigamma_pos(a), (0, 1): ab1, (1, 1): ab1 - trigamma_pos(b)}[(i, j)]
    # the prefactor x**a / (a B(a, b)) inside the exponent: alone it overflows for large shapes
    front = a * math.log(x) - math.log(a) - lbeta(a, b)
    vals = np.exp((b - 1.0) * log_1mt + front) * (ls[i] * ls[j] + c)
    return float(np.sum(vals * _U_WEIGHTS))


def _beta_d2(a: float, b: float, x: float, i: int, j: int) -> float:
    if not (a >= 0.0 and b >= 0.0 and 0.0 <= x <= 1.0) or a == b == 0.0 or a == b == math.inf:
        return math.nan  # as betainc's (and its first derivatives')
    if x in (0.0, 1.0) or 0.0 in (a, b) or math.inf in (a, b):
        return 0.0  # a constant 0 or 1 there
    if x * (a + b) <= a:  # below the mean
        return _beta_lower(a, b, x, i, j)
    # I_x(a, b) = 1 - I_{1-x}(b, a): the shapes swap
    return -_beta_lower(b, a, 1.0 - x, 1 - j, 1 - i)


class BetaincD2(_ScalarLoop):
    """The second derivative of ``betainc(a, b, x)`` in the shapes ``wrt``, a pair ``(i, j)``,
    ``i <= j``, 0 for a and 1 for b, elementwise over the broadcast operands."""

    __props__ = ("wrt",)
    of = "betainc"

    def __init__(self, wrt: tuple[int, int]) -> None:
        self.wrt = tuple(sorted(int(k) for k in wrt))

    def make_node(self, a: Variable, b: Variable, x: Variable) -> Apply:
        return self.node(a, b, x)

    def scalar(self, a: float, b: float, x: float) -> float:
        return _beta_d2(a, b, x, *self.wrt)
