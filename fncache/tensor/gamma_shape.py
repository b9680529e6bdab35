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
``Hyp2F1Grad``, vectorized over the elements: a series runs while any element's terms are
still above its bound (the others left), each quadrature at every element's nodes at once.
Their gradients in x are closed forms (``grad_rules.py``); in the shapes (third derivatives)
they are refused where one is needed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .elemwise import broadcast_static_shape
from .gamma_reference import digamma_large, lbeta_large, lbeta_one_large, trigamma_large
from .special_reference import c_lgamma

__all__ = ["GammaincDkk", "BetaincD2"]

#: Gauss-Legendre nodes and weights on [0, 1] of one panel of the upper integral
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2
_PANELS = 48
_MAX_TERMS = 1_000_000
#: elements whose quadrature nodes are evaluated at once, and the most terms of a series
#: summed at once (bounds the arrays' memory)
_CHUNK = 1024
_BLOCK_VALUES = 1 << 20

_lgamma = np.frompyfunc(c_lgamma, 1, 1)


def _lgammas(a: np.ndarray) -> np.ndarray:
    return _lgamma(a).astype(np.float64)


def _shifted(a: np.ndarray, inc: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``a`` raised by 1 until it is at least 16 (a > 0: 16 times at most) and the sum of
    ``inc`` of the values passed: the recurrences of digamma and trigamma."""
    a, s = np.array(a, np.float64), np.zeros(np.shape(a))
    for _ in range(16):
        low = a < 16.0
        if not low.any():
            break
        s = np.where(low, s + inc(a), s)
        a = np.where(low, a + 1.0, a)
    return a, s


def _digamma(a: np.ndarray) -> np.ndarray:
    """digamma of a > 0 (``gamma_reference.digamma_pos``, elementwise)."""
    a, s = _shifted(a, lambda v: -1.0 / v)
    return digamma_large(a, s, np.log)


def _trigamma(a: np.ndarray) -> np.ndarray:
    """trigamma of a > 0 (``gamma_reference.trigamma_pos``, elementwise)."""
    a, s = _shifted(a, lambda v: 1.0 / (v * v))
    return trigamma_large(a, s)


def _lbeta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log B(a, b) for a, b > 0 (``gamma_reference.lbeta``, elementwise)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    s = a + b
    both = lo >= 10.0
    one = ~both & (hi >= 10.0)
    neither = ~both & ~one
    out = np.empty(np.shape(s))
    out[both] = lbeta_large(lo[both], hi[both], s[both], np)
    out[one] = lbeta_one_large(lo[one], hi[one], s[one], np, _lgammas)
    out[neither] = _lgammas(lo[neither]) + _lgammas(hi[neither]) - _lgammas(s[neither])
    return out


def _lower_series(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n T_n ((log x - psi(k + n + 1))**2 - psi1(k + n + 1)), for x < k + 1: the terms of
    the elements still summing, a block of them at a time (the recurrences as running products
    and sums, so each value is the one a term-by-term loop gives), an element leaving at its
    first term below 1e-17 of its sum."""
    log_t = k * np.log(x) - x - _lgammas(k + 1.0)
    out = np.zeros(np.shape(k))
    # every term underflows: P and its derivatives are 0 to double precision
    at = np.flatnonzero(log_t >= -745.0)
    k, x = k[at], x[at]
    lx = np.log(x)
    # T_n / T_0, psi(k + n + 1), psi1(k + n + 1) and the sum before term n, from n = start
    t, psi, psi1, total = np.ones(len(at)), _digamma(k + 1.0), _trigamma(k + 1.0), np.zeros(len(at))
    start, block = 0, 16
    while len(at) and start < _MAX_TERMS:
        block = min(block, _BLOCK_VALUES // len(at) + 1)
        ns = start + np.arange(block + 1)
        den = k[:, None] + ns + 1.0  # k + n + 1
        ts = np.cumprod(np.column_stack([t, x[:, None] / den[:, :-1]]), axis=1)
        psis = np.cumsum(np.column_stack([psi, 1.0 / den[:, :-1]]), axis=1)
        psi1s = np.cumsum(np.column_stack([psi1, -1.0 / (den[:, :-1] * den[:, :-1])]), axis=1)
        d = lx[:, None] - psis[:, :-1]
        sums = np.cumsum(np.column_stack([total, ts[:, :-1] * (d * d - psi1s[:, :-1])]), axis=1)[:, 1:]
        small = ts[:, :-1] < 1e-17 * np.maximum(np.abs(sums), 1e-300)
        stop = small & (x[:, None] < den[:, :-1]) & (ns[:-1] > 2)
        first = stop.argmax(axis=1)
        done = stop[np.arange(len(at)), first]
        out[at[done]] = sums[done, first[done]]
        keep = ~done
        at, k, x, lx = at[keep], k[keep], x[keep], lx[keep]
        t, psi, psi1, total = ts[keep, -1], psis[keep, -1], psi1s[keep, -1], sums[keep, -1]
        start += block
        block *= 2
    out[at] = total  # (none is left before _MAX_TERMS)
    return np.exp(log_t) * out


def _upper_integral(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int_x^inf f(t) ((log t - psi(k))**2 - psi1(k)) dt, for x >= k + 1 - 1 (the integrand
    decreases from x on)."""
    lg, psi, psi1 = _lgammas(k), _digamma(k), _trigamma(k)

    def log_f(t: np.ndarray, at: Any = Ellipsis) -> np.ndarray:
        return (k[at, None] - 1.0) * np.log(t) - t - lg[at, None]

    # the span where log f drops by 50: doubling from the decay length at x
    top = log_f(x[:, None])[:, 0]
    span = 1.0 / np.maximum(1.0 - (k - 1.0) / x, 1e-3)
    wide = np.zeros(len(k), bool)
    while not wide.all():
        grow = np.flatnonzero(~wide)
        more = log_f((x[grow] + span[grow])[:, None], grow)[:, 0] > top[grow] - 50.0
        span[grow[more]] *= 2.0
        wide[grow[~more]] = True
    out = np.empty(len(k))
    for lo in range(0, len(k), _CHUNK):
        at = slice(lo, lo + _CHUNK)
        edges = x[at, None] + span[at, None] * np.arange(_PANELS + 1) / _PANELS
        w = np.diff(edges)
        ts = (edges[:, :-1, None] + w[..., None] * _NODES).reshape(len(edges), -1)
        d = np.log(ts) - psi[at, None]
        vals = np.exp(log_f(ts, at)) * (d * d - psi1[at, None])
        out[at] = np.sum(vals * (_WEIGHTS * w[..., None]).reshape(len(edges), -1), axis=1)
    return out


def _dkk(k: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d2 gammainc / dk2, elementwise over float64 arrays of one shape."""
    out = np.zeros(k.shape)
    bad = ~((k >= 0.0) & (x >= 0.0))
    out[bad | (k == 0.0) & (x == 0.0) | (k == np.inf) & (x == np.inf)] = np.nan
    # (elsewhere at k = 0, x = 0 or an infinity P is a constant in k)
    inside = ~bad & (k > 0.0) & (k < np.inf) & (x > 0.0) & (x < np.inf)
    lower = inside & (x < k + 1.0)
    upper = inside & ~lower
    out[lower] = _lower_series(k[lower], x[lower])
    out[upper] = -_upper_integral(k[upper], x[upper])
    return out


class _ShapeDerivative(Op):
    """An elementwise op whose values are :meth:`values` of the broadcast operands, computed
    in float64 (a float32 result where every operand is float32): the step both second
    derivatives below share."""

    #: the function differentiated, as a size error names it
    of: str

    def values(self, *operands: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def node(self, *operands: Variable) -> Apply:
        shape = broadcast_static_shape([v.type.shape for v in operands], self.of)
        dt = "float32" if all(v.dtype == "float32" for v in operands) else "float64"
        return Apply(self, list(operands), [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        flat = [v.ravel() for v in np.broadcast_arrays(*[np.asarray(v, np.float64) for v in inputs])]
        shape = np.broadcast_shapes(*[np.shape(v) for v in inputs])
        with np.errstate(all="ignore"):
            values = self.values(*flat)
        return [values.reshape(shape).astype(node.outputs[0].dtype)]


class GammaincDkk(_ShapeDerivative):
    """The second derivative of ``gammainc(k, x)`` in ``k``, elementwise over the broadcast
    operands (float64; float32 for float32 operands)."""

    __props__ = ()
    of = "gammainc"

    def make_node(self, k: Variable, x: Variable) -> Apply:
        return self.node(k, x)

    def values(self, k: np.ndarray, x: np.ndarray) -> np.ndarray:
        return _dkk(k, x)


# -- betainc's second derivatives in its shapes ---------------------------------------------------
#: tanh-sinh nodes on (0, 1), as log(u) and log(1 - u) (exact near either end), and weights: the
#: integrands below have logarithmic and algebraic singularities at the ends
_STEP = 1.0 / 24
_S = np.arange(-4.0, 4.0 + _STEP / 2, _STEP)
_W = 0.5 * np.pi * np.sinh(_S)
_LOG_U, _LOG_1MU = -np.log1p(np.exp(-2 * _W)), -np.log1p(np.exp(2 * _W))
_U_WEIGHTS = _STEP * 0.5 * np.pi * np.cosh(_S) / (2 * np.cosh(_W) ** 2)


def _beta_lower(a: np.ndarray, b: np.ndarray, x: np.ndarray, i: int, j: int) -> np.ndarray:
    """int_0^x f(t) (L_i L_j + C_ij) dt, f = t**(a - 1) (1 - t)**(b - 1) / B(a, b), L_0 =
    log t - psi(a) + psi(a + b), L_1 = log(1 - t) - psi(b) + psi(a + b), C the second
    derivatives of -log B: the second derivative of I_x(a, b) in shapes i and j. With t = x
    u**(1 / a), t**(a - 1) dt is x**a / a du: the integrand is smooth but for logarithms at the
    ends, which tanh-sinh's nodes take in (to about 1e-13)."""
    ab, ab1 = _digamma(a + b), _trigamma(a + b)
    c = ab1 - {(0, 0): _trigamma(a), (0, 1): 0.0, (1, 1): _trigamma(b)}[(i, j)]
    shifts = [ab - _digamma(a), ab - _digamma(b)]
    # the prefactor x**a / (a B(a, b)) inside the exponent: alone it overflows for large shapes
    front = a * np.log(x) - np.log(a) - _lbeta(a, b)
    out = np.empty(len(a))
    for lo in range(0, len(a), _CHUNK):
        at = slice(lo, lo + _CHUNK)
        log_t = np.log(x[at, None]) + _LOG_U / a[at, None]
        log_1mt = np.log1p(-np.exp(log_t))
        ls = [log_t + shifts[0][at, None], log_1mt + shifts[1][at, None]]
        vals = np.exp((b[at, None] - 1.0) * log_1mt + front[at, None]) * (ls[i] * ls[j] + c[at, None])
        out[at] = np.sum(vals * _U_WEIGHTS, axis=1)
    return out


# below this a shape's own second derivative cancels away (see _beta_d2)
_TINY_SHAPE = 1e-10


def _beta_d2(a: np.ndarray, b: np.ndarray, x: np.ndarray, i: int, j: int) -> np.ndarray:
    """d2 betainc / d(shape i) d(shape j), elementwise over float64 arrays of one shape."""
    out = np.zeros(a.shape)
    # as betainc's (and its first derivatives')
    bad = ~((a >= 0.0) & (b >= 0.0) & (x >= 0.0) & (x <= 1.0)) | (a == b) & ((a == 0.0) | (a == np.inf))
    out[bad] = np.nan
    # (elsewhere at x = 0 or 1, a zero or an infinite shape I is a constant 0 or 1)
    inside = ~bad & (x > 0.0) & (x < 1.0) & (a > 0.0) & (b > 0.0) & (a < np.inf) & (b < np.inf)
    lower = inside & (x * (a + b) <= a)  # below the mean
    upper = inside & ~lower
    out[lower] = _beta_lower(a[lower], b[lower], x[lower], i, j)
    # I_x(a, b) = 1 - I_{1-x}(b, a): the shapes swap
    out[upper] = -_beta_lower(b[upper], a[upper], 1.0 - x[upper], 1 - j, 1 - i)
    if i == j:
        # Twice in a shape far below the other the quadrature's terms cancel: at 1e-12 three
        # digits are left, at 1e-16 none (-0.43 for -0.236); NaN there, never such a value.
        tiny, other = (a, b) if i == 0 else (b, a)
        out[inside & (tiny < _TINY_SHAPE) & (other > 1e4 * tiny)] = np.nan
    return out


class BetaincD2(_ShapeDerivative):
    """The second derivative of ``betainc(a, b, x)`` in the shapes ``wrt``, a pair ``(i, j)``,
    ``i <= j``, 0 for a and 1 for b, elementwise over the broadcast operands."""

    __props__ = ("wrt",)
    of = "betainc"

    def __init__(self, wrt: tuple[int, int]) -> None:
        self.wrt = tuple(sorted(int(k) for k in wrt))

    def make_node(self, a: Variable, b: Variable, x: Variable) -> Apply:
        return self.node(a, b, x)

    def values(self, a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
        return _beta_d2(a, b, x, *self.wrt)
