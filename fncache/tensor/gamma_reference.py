"""Python versions of the C helpers ``fc_gammainc fc_gammaincc fc_gammainc_da fc_gammaincinv
fc_gammainccinv fc_betainc fc_betainc_da fc_betainc_db fc_betaincinv`` of ``fncache/codegen/prelude.h``, step
for step the same algorithms (see the C helpers for why each is accurate where it is used): the
Python linker and constant folding compute with them, so every backend gives the same values
(to rounding). Each element is computed in float64 by a scalar function; the ufuncs give
float32 for float32 and float16 inputs, as the C helpers do.

The series and continued fractions stop at a relative change below 1e-16, so an element costs
tens to hundreds of Python steps: this is the reference, the C loops are the fast path.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from .special_reference import c_lgamma, float_op

__all__ = [
    "gammainc",
    "gammaincc",
    "gammainc_da",
    "gammaincinv",
    "gammainccinv",
    "betainc",
    "betainc_da",
    "betainc_db",
    "betaincinv",
]

_EPS = 1e-16
_TINY = 1e-300
_ITMAX = 100000
_NAN = math.nan
_INF = math.inf
#: zeta(k) / k for k = 2..26, the Taylor coefficients of log gamma(1 + a) (as the C helper)
_ZETA_K = (
    0.8224670334241132,
    0.40068563438653143,
    0.27058080842778454,
    0.207385551028674,
    0.16955717699740822,
    0.14404989676884614,
    0.12550966952474304,
    0.11133426586956469,
    0.10009945751278179,
    0.09095401714582904,
    0.083353840546109,
    0.0769325164113522,
    0.07143294629536134,
    0.06666870588242046,
    0.06250095514121304,
    0.05882397865868458,
    0.055555767627403614,
    0.05263167937961666,
    0.05000004769810169,
    0.04761907033014223,
    0.04545455629320467,
    0.04347826605304026,
    0.04166666915034121,
    0.04000000119214014,
    0.03846153903467519,
)


def _exp(v: float) -> float:
    # C's exp: +inf past the range instead of OverflowError
    return math.exp(v) if v < 709.8 else _INF


def _fma(x: float, y: float, z: float) -> float:
    # x * y + z rounded once, as C's fma (math.fma is Python 3.13's)
    return float(Fraction(x) * Fraction(y) + Fraction(z))


def _log1pmx(lr: float, d: float) -> float:
    if not abs(d) < 0.3:
        return lr - d
    p = d * d
    s = -0.5 * p
    for k in range(3, 60):
        p *= -d
        t = p / k
        s -= t
        if abs(t) < 1e-17 * abs(s):
            break
    return s


def stirling_corr(a: Any) -> Any:
    """log gamma(a) less Stirling's formula, for a >= 10 (a float, or an array)."""
    w = 1.0 / (a * a)
    c = 3617.0 / 122400
    for v in (1.0 / 156, 691.0 / 360360, 1.0 / 1188, 1.0 / 1680, 1.0 / 1260, 1.0 / 360, 1.0 / 12):
        c = v - w * c
    return c / a


def _lgamma1p(a: float) -> float:
    if not a < 0.2:
        return c_lgamma(1.0 + a)
    s = 0.0
    for k in range(24, -1, -1):
        s = (-_ZETA_K[k] if k & 1 else _ZETA_K[k]) + a * s
    return a * (a * s - 0.5772156649015329)


def digamma_pos(a: float) -> float:
    s = 0.0
    while a < 16.0:
        s -= 1.0 / a
        a += 1.0
    return digamma_large(a, s)


def digamma_large(a: Any, s: Any = 0.0, log: Callable[[Any], Any] = math.log) -> Any:
    """``s`` plus digamma of a >= 16 (a float, or an array with ``np.log``): its asymptotic
    series, added to ``s`` term by term as the recurrence's sum always was (one rounding)."""
    w = 1.0 / (a * a)
    c = 691.0 / 32760
    for v in (1.0 / 132, 1.0 / 240, 1.0 / 252, 1.0 / 120, 1.0 / 12):
        c = v - w * c
    return s + log(a) - 0.5 / a - w * c


def _igam_fac(a: float, x: float) -> float:
    if a < 10.0:
        return _exp(a * math.log(x) - x - c_lgamma(a))
    # x / a underflows to 0 for a tiny x and a huge a: C's log gives -inf there, math.log raises
    ratio = x / a
    lr = math.log(ratio) if ratio > 0.0 else -_INF
    return _exp(a * _log1pmx(lr, (x - a) / a) - stirling_corr(a)) * math.sqrt(a / 6.283185307179586)


def _igam_small(a: float, x: float, upper: bool) -> tuple[float, float]:
    """a < 1, x < 1.5: Q = 1 - x^a / gamma(1 + a) (1 + a sum), P that product."""
    e = a * math.log(x) - _lgamma1p(a)
    xa = _exp(e)
    s = ds = 0.0
    t = 1.0
    for n in range(1, 60):
        t *= -x / n
        s += t / (a + n)
        ds -= t / ((a + n) * (a + n))
        if abs(t) < 1e-17 * abs(s):
            break
    r = -math.expm1(e) - xa * a * s
    dxa = xa * (math.log(x) - digamma_pos(1.0 + a))
    da = dxa * (1.0 + a * s) + xa * (s + a * ds)
    return (r if upper else xa * (1.0 + a * s)), da


def _igam_series(a: float, x: float, fac: float, dfac: float, want_da: bool) -> tuple[float, float]:
    """P by its power series (x < a + 1) and dP/da."""
    t = 1.0 / a
    dt = -t / a
    s, ds = t, dt
    n = 1
    while n < _ITMAX:
        t *= x / (a + n)
        dt = dt * x / (a + n) - t / (a + n)
        s += t
        ds += dt
        # without want_da, on the value alone (the derivative's terms under- or overflow for a huge a)
        if t < _EPS * s and (not want_da or abs(dt) <= _EPS * abs(ds)):
            break
        n += 1
    return (fac * s if n < _ITMAX else _NAN), fac * (dfac * s + ds)


def _igam_cf(a: float, x: float, fac: float, dfac: float, want_da: bool) -> tuple[float, float]:
    """Q by its continued fraction (modified Lentz, with derivatives in a) and dP/da."""
    b = x + 1.0 - a
    c, dc = 1.0 / _TINY, 0.0
    d = 1.0 / b
    dd = d * d
    h, dh = d, dd
    n = 1
    while n < _ITMAX:
        an = -n * (n - a)
        b += 2.0
        dn = an * d + b
        dd0 = n * d + an * dd - 1.0
        if abs(dn) < _TINY:
            dn = _TINY
        dc = -1.0 + (n * c - an * dc) / (c * c)
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / dn
        dd = -dd0 * d * d
        de = d * c
        dde = dd * c + d * dc
        dh = dh * de + h * dde
        h *= de
        if abs(de - 1.0) < _EPS and (not want_da or abs(dde) < _EPS * (1.0 + abs(dh / h))):
            break
        n += 1
    return (fac * h if n < _ITMAX else _NAN), -fac * (dfac * h + dh)


#: the uniform asymptotic expansion of P and Q (Temme's; DLMF 8.12) is used for a above this
#: with |x - a| / a below _TEMME_SPREAD, where the series and continued fraction need of the order
#: of sqrt(a) steps (and lose accuracy); its first omitted term is below 1e-28 from a = 20 on
_TEMME_A = 20.0
_TEMME_SPREAD = 0.3
#: how many terms c_k(eta) a^-k, and how many powers of eta in each c_k (|eta| < 0.35 here)
_TEMME_K = 25
_TEMME_N = 25


def _bernoulli(n: int) -> list[Fraction]:
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


def _gamma_star(k_max: int) -> list[Fraction]:
    """g_0..g_k_max of gamma*(a) = gamma(a) / (sqrt(2 pi / a) (a / e)^a) ~ sum_k g_k a^-k (DLMF
    5.11.3): the exponential of Stirling's series sum_j B_2j / (2j (2j - 1)) a^(1 - 2j)."""
    b = _bernoulli(k_max + 1)
    s = [Fraction(0)] * (k_max + 1)
    for j in range(1, (k_max + 1) // 2 + 1):
        s[2 * j - 1] = b[2 * j] / (2 * j * (2 * j - 1))
    e = [Fraction(1)] + [Fraction(0)] * k_max
    for n in range(1, k_max + 1):  # e' = s' e, coefficient by coefficient
        e[n] = sum(k * s[k] * e[n - k] for k in range(1, n + 1)) / n
    return e


@functools.cache
def temme_coefficients() -> tuple[tuple[float, ...], ...]:
    """The Taylor coefficients in eta of Temme's c_0(eta)..c_{K-1}(eta) (DLMF 8.12.8-8.12.9:
    c_0 = 1 / (lambda - 1) - 1 / eta, c_k = c_{k-1}'(eta) / eta + (-1)^k g_k / (lambda - 1), with
    lambda = x / a and eta^2 / 2 = lambda - 1 - log(lambda)), computed exactly in rationals: the
    C helper's table is these, rounded (a test checks that)."""
    m_top = _TEMME_N + 2 * _TEMME_K + 2  # each step (1/eta) d/deta loses two orders
    # mu = lambda - 1 = sum_n m_n eta^n solves mu mu' = eta (1 + mu), m_1 = 1
    m = [Fraction(0), Fraction(1)] + [Fraction(0)] * m_top
    for k in range(2, m_top + 2):
        m[k] = (m[k - 1] - sum(m[i] * (k + 1 - i) * m[k + 1 - i] for i in range(2, k))) / (k + 1)
    # 1 / (lambda - 1) = (1 / eta) / (mu / eta): entry j is the coefficient of eta^(j - 1)
    inv = [Fraction(1)] + [Fraction(0)] * m_top
    for n in range(1, m_top + 1):
        inv[n] = -sum(m[k + 1] * inv[n - k] for k in range(1, n + 1))
    g = _gamma_star(_TEMME_K)
    c = inv[:]
    c[0] -= 1
    rows = []
    for k in range(_TEMME_K):
        if k:
            c = [(j + 1) * c[j + 2] if j + 2 <= m_top else Fraction(0) for j in range(m_top + 1)]
            c = [cj + (-1) ** k * g[k] * ij for cj, ij in zip(c, inv)]
        if c[0]:  # the poles cancel: c_k is a power series
            raise AssertionError(f"Temme coefficient c_{k} has a pole")
        rows.append(tuple(float(v) for v in c[1 : _TEMME_N + 1]))
    return tuple(rows)


def _igam_temme(a: float, x: float, upper: bool) -> tuple[float, float]:
    """P (Q with ``upper``) = erfc(-+eta sqrt(a / 2)) / 2 -+ R, R = e^(-a eta^2 / 2) / sqrt(2 pi a)
    sum_k c_k(eta) a^-k, for a > _TEMME_A and |x - a| / a < _TEMME_SPREAD; and dP/da, the
    expansion differentiated (d eta / da = -sigma / (a eta); the C helper's comment has the
    formula)."""
    sigma = (x - a) / a
    half_eta2 = -_log1pmx(math.log(x / a), sigma)
    eta = math.copysign(math.sqrt(2.0 * half_eta2), sigma)
    e = _exp(-a * half_eta2) / math.sqrt(6.283185307179586 * a)
    s, ds, ks, w = 0.0, 0.0, 0.0, 1.0
    for k, row in enumerate(temme_coefficients()):
        ck = dck = 0.0
        for v in reversed(row):
            dck = dck * eta + ck
            ck = ck * eta + v
        s += ck * w
        ds += dck * w
        ks += k * ck * w
        w /= a
        if w < 1e-18:  # the next terms are below the rounding of s
            break
    ratio = 1.0 if eta == 0.0 else sigma / eta
    da = -e * (ratio - 0.5 * eta + s * (math.log(x / a) - 0.5 / a) - ratio / a * ds - ks / a)
    sign = 1.0 if upper else -1.0
    return 0.5 * math.erfc(sign * eta * math.sqrt(0.5 * a)) + sign * e * s, da


def _igam_main(a: float, x: float, upper: bool, want_da: bool = True) -> tuple[float, float]:
    """P(a, x) (Q with ``upper``) and dP/da (NaN without ``want_da``) for a > 0, 0 < x < inf."""
    if a > _TEMME_A and abs(x - a) < _TEMME_SPREAD * a:
        return _igam_temme(a, x, upper)
    if a < 1.0 and x < 1.5:
        return _igam_small(a, x, upper)
    fac = _igam_fac(a, x)
    dfac = math.log(x) - digamma_pos(a)
    if not want_da and fac == 0.0:  # underflow: P (below a + 1) or Q (above) is 0
        return (0.0 if (x < a + 1.0) == (not upper) else 1.0), _NAN
    if x < a + 1.0:
        r, da = _igam_series(a, x, fac, dfac, want_da)
        return (1.0 - r if upper else r), da
    r, da = _igam_cf(a, x, fac, dfac, want_da)
    return (r if upper else 1.0 - r), da


def _igam_edge(a: float, x: float) -> float | None:
    """P at scipy's special arguments, None elsewhere."""
    if not (a >= 0.0 and x >= 0.0) or (a == 0.0 and x == 0.0) or (a == x == _INF):
        return _NAN
    if x == 0.0:
        return 0.0
    if a == 0.0 or x == _INF:
        return 1.0
    if a == _INF:
        return 0.0
    return None


def _gammainc(a: float, x: float) -> float:
    p = _igam_edge(a, x)
    return p if p is not None else _igam_main(a, x, False, False)[0]


def _gammaincc(a: float, x: float) -> float:
    p = _igam_edge(a, x)
    return 1.0 - p if p is not None else _igam_main(a, x, True, False)[0]


def _gammainc_da(a: float, x: float) -> float:
    p = _igam_edge(a, x)
    if p is not None:
        return 0.0 if p == p else p
    return _igam_main(a, x, False)[1]


def _normal_tail(pp: float) -> float:
    t = math.sqrt(-2.0 * math.log(pp))
    return t - (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481))


def _halley_step(x: float, u: float, c: float, hi: float) -> tuple[float, float]:
    """The new x and the step (C's fc_halley_step)."""
    t = u * c
    s = u / (1.0 - 0.5 * (t if t < 1.0 else 1.0))  # NaN gives 1, as in C
    if s >= x:
        s = 0.5 * x
    if s <= x - hi:
        s = 0.5 * (x - hi)
    return x - s, s


def _igam_start(a: float, p: float, q: float) -> float:
    if a <= 1.0:
        u = a * (0.253 + a * 0.12)  # 1 - t, which rounds to 0 for a tiny a (see the C helper)
        t = 1.0 - u
        if p < t:
            return (p / t) ** (1.0 / a)
        return max(1.0 - math.log(q / u), 0.05) if u > 0.0 else 0.05  # C: q / 0 = inf
    pp = p if p < 0.5 else q
    lg = c_lgamma(a)
    xs = _exp((math.log(p) + lg + math.log(a)) / a)
    xl = -math.log(q) - lg
    if xs < 0.2 * (a + 1.0):
        return xs
    if xl > 3.0 * (a + 1.0):
        x = xl
        for _ in range(4):
            x = xl + (a - 1.0) * math.log(x)
        return x
    x = _normal_tail(pp) if p < 0.5 else -_normal_tail(pp)
    t = 1.0 - 1.0 / (9.0 * a) - x / (3.0 * math.sqrt(a))
    return max(a * t * t * t, 1e-3 * a)


def _igam_inv(a: float, p: float, q: float) -> float:
    if not (a >= 0.0 and p >= 0.0 and q >= 0.0) or a == _INF:
        return _NAN
    if p == 0.0:
        return 0.0
    if q == 0.0:
        return _INF
    if a == 0.0:
        return _NAN
    x = _igam_start(a, p, q)
    k = 0
    while k < 100 and x > 0.0:
        err = _igam_main(a, x, False, False)[0] - p if p < 0.5 else q - _igam_main(a, x, True, False)[0]
        dens = _igam_fac(a, x) / x
        if not dens > 0.0 or err != err:
            break
        x, step = _halley_step(x, err / dens, (a - 1.0) / x - 1.0, _INF)
        if abs(step) <= 1e-14 * x:
            break
        k += 1
    return x


def lbeta(a: float, b: float) -> float:
    lo, hi = (a, b) if a < b else (b, a)
    s = a + b
    if lo >= 10.0:
        return lbeta_large(lo, hi, s, math)
    if hi >= 10.0:
        return lbeta_one_large(lo, hi, s, math, c_lgamma)
    return c_lgamma(lo) + c_lgamma(hi) - c_lgamma(s)


def lbeta_large(lo: Any, hi: Any, s: Any, m: Any) -> Any:
    """log B(lo, hi), lo <= hi, s = lo + hi, for lo >= 10: Stirling's series, where the logs of
    gamma would cancel (floats with ``m`` math, or arrays with numpy)."""
    return (
        0.9189385332046728
        - 0.5 * m.log(hi)
        + (lo - 0.5) * m.log(lo / s)
        - hi * m.log1p(lo / hi)
        + stirling_corr(lo)
        + stirling_corr(hi)
        - stirling_corr(s)
    )


def lbeta_one_large(lo: Any, hi: Any, s: Any, m: Any, lgamma: Callable[[Any], Any]) -> Any:
    """log B(lo, hi) as `lbeta_large` for hi >= 10 > lo: Stirling's series for the large ones."""
    return (
        lgamma(lo) - (hi - 0.5) * m.log1p(lo / hi) - lo * m.log(s) + lo + stirling_corr(hi) - stirling_corr(s)
    )


def _beta_front(a: float, b: float, x: float) -> float:
    y = 1.0 - x
    s = a + b
    if a < 10.0 or b < 10.0:
        lx = a * math.log(x) + b * math.log1p(-x) if x <= 0.5 else a * math.log1p(-y) + b * math.log(y)
        return _exp(lx - lbeta(a, b))
    if x <= 0.5:
        e = _fma(x, s, -a)
        lu, lv = math.log(x), math.log1p(-x)
    else:
        e = -_fma(y, s, -b)
        lu, lv = math.log1p(-y), math.log(y)
    lu += math.log1p(b / a)
    lv += math.log1p(a / b)
    corr = stirling_corr(s) - stirling_corr(a) - stirling_corr(b)
    return math.sqrt(a * b / (6.283185307179586 * s)) * _exp(
        a * _log1pmx(lu, e / a) + b * _log1pmx(lv, -e / b) + corr
    )


# (value, d/da, d/db) triples: the C helper's fc_dual
def _mul(x: tuple, y: tuple) -> tuple:
    return (x[0] * y[0], x[1] * y[0] + x[0] * y[1], x[2] * y[0] + x[0] * y[2])


def _div(x: tuple, y: tuple) -> tuple:
    q = x[0] / y[0]
    return (q, (x[1] - q * y[1]) / y[0], (x[2] - q * y[2]) / y[0])


def _add(x: tuple, c: float) -> tuple:
    return (x[0] + c, x[1], x[2])


def _scale(x: tuple, c: float) -> tuple:
    return (c * x[0], c * x[1], c * x[2])


def _clamp(x: tuple) -> tuple:
    return (_TINY, x[1], x[2]) if abs(x[0]) < _TINY else x


def _lentz_step(aa: tuple, d: tuple, c: tuple, h: tuple) -> tuple[tuple, tuple, tuple, tuple]:
    d = _clamp(_add(_mul(aa, d), 1.0))
    c = _clamp(_add(_div(aa, c), 1.0))
    d = _div((1.0, 0.0, 0.0), d)
    de = _mul(d, c)
    return d, c, _mul(h, de), de


def _betacf(p: tuple, q: tuple, x: float) -> tuple:
    pq = (p[0] + q[0], p[1] + q[1], p[2] + q[2])
    c = (1.0, 0.0, 0.0)
    d = _clamp(_add(_scale(_div(pq, _add(p, 1.0)), -x), 1.0))
    d = _div(c, d)
    h = d
    for m in range(1, _ITMAX):
        aa = _scale(_div(_add(q, -m), _mul(_add(p, 2.0 * m - 1.0), _add(p, 2.0 * m))), m * x)
        d, c, h, _ = _lentz_step(aa, d, c, h)
        aa = _scale(_div(_mul(_add(p, m), _add(pq, m)), _mul(_add(p, 2.0 * m), _add(p, 2.0 * m + 1.0))), -x)
        d, c, h, de = _lentz_step(aa, d, c, h)
        if abs(de[0] - 1.0) < _EPS and abs(de[1]) + abs(de[2]) < _EPS:
            return h
    return (_NAN, _NAN, _NAN)


def trigamma_pos(a: float) -> float:
    s = 0.0
    while a < 16.0:
        s += 1.0 / (a * a)
        a += 1.0
    return trigamma_large(a, s)


def trigamma_large(a: Any, s: Any = 0.0) -> Any:
    """``s`` plus trigamma of a >= 16 (a float, or an array): its asymptotic series, added to
    ``s`` term by term (as `digamma_large`)."""
    w = 1.0 / (a * a)
    c = 7.0 / 6
    for v in (691.0 / 2730, 5.0 / 66, 1.0 / 30, 1.0 / 42, 1.0 / 30, 1.0 / 6):
        c = v - w * c
    return s + 1.0 / a + 0.5 * w + w / a * c


def _betainc_tiny_b(a: float, b: float, y: float) -> tuple:
    """I_x(a, b) to first order in a tiny b, with y = 1 - x: the C helper ``fc_betainc_tiny_b``."""
    eps, euler, ay = 2.220446049250313e-16, 0.5772156649015329, a * y
    t, dt = y - ay, -y
    if a * eps <= 2e-2:
        c, dc = math.log(y) + digamma_pos(a + 1.0) - 1.0 / a + euler + t, trigamma_pos(a + 1.0) + dt
        w = (b / a) / a
    else:
        c, dc, w = math.log(ay) + euler + t, dt, b / a
    tol = 5.0 * eps * abs(c)
    s = ds = 0.0
    j = 2.0
    while j < _ITMAX:
        dt = dt * (y - ay / j) - t * y / j
        t *= y - ay / j
        aj = t / j
        s += aj
        ds += dt / j
        if abs(aj) <= tol and abs(dt / j) <= 5.0 * eps * abs(dc):
            break
        j += 1.0
    return (-b * (c + s), -w - b * (dc + ds), -(c + s))


_STIRLING = (1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360, 1.0 / 156)


def _lgamma_diff(a: float, b: float) -> float:
    """lgamma(a + b) - lgamma(a) for 0 < b < 1 to a few ulps of b: the C helper ``fc_lgamma_diff``."""
    s = 0.0
    while a < 10.0:
        s -= math.log1p(b / a)
        a += 1.0
    u, v, d = 1.0 / a, 1.0 / (a + b), -b / (a * (a + b))
    vn = sn = 1.0
    corr = 0.0
    for n in range(1, 14):
        if n & 1:
            corr += _STIRLING[n // 2] * sn
        vn *= v
        sn = u * sn + vn
    return s + (a - 0.5) * math.log1p(b / a) + b * math.log(a + b) - b + corr * d


_PSI_ASYMP = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760, 1.0 / 12)


def _digamma_diff(a: float, b: float) -> float:
    """psi(a + b) - psi(a) for 0 < b < 1 to a few ulps of it: the C helper ``fc_digamma_diff``."""
    s = 0.0
    while a < 10.0:
        s += b / a / (a + b)  # b / a first: a (a + b) underflows for a tiny a
        a += 1.0
    u, v, d = 1.0 / a, 1.0 / (a + b), -b / (a * (a + b))
    vn = sn = 1.0
    corr = 0.0
    for n in range(1, 15):
        if not n & 1:
            corr += _PSI_ASYMP[n // 2 - 1] * sn
        vn *= v
        sn = u * sn + vn
    return s + math.log1p(b / a) - 0.5 * d - d * corr


def _betainc_small_b(a: float, b: float, y: float) -> tuple:
    """I_{1-y}(a, b) for b < 1 where it is small, with its derivatives in a and b: the C helper
    ``fc_betainc_small_b``."""
    lg = b * math.log(y) - _lgamma1p(b) + _lgamma_diff(a, b)
    la = _digamma_diff(a, b)
    lb = math.log(y) - digamma_pos(1.0 + b) + digamma_pos(a + b)
    c, dc, t, ta, tb, n = 1.0, 0.0, 0.0, 0.0, 0.0, 1.0
    while n < _ITMAX:
        dc = (dc * (n - a) - c) * y / n
        c *= (n - a) * y / n
        t += c / (b + n)
        ta += dc / (b + n)
        tb -= c / ((b + n) * (b + n))
        if abs(c) <= 1e-17 * abs(t) and abs(dc) <= 1e-17 * abs(ta):
            break
        n += 1.0
    e = _exp(lg)
    w = 1.0 + b * t
    return (-math.expm1(lg) - e * b * t, -e * (w * la + b * ta), -e * (w * lb + t + b * tb))


def _betainc_dual(a: float, b: float, x: float, upper: bool = False) -> tuple:
    """I_x(a, b) (1 - I_x(a, b) with ``upper``) and its derivatives in a and b: the C helper
    ``fc_betainc_dual``."""
    if not (a >= 0.0 and b >= 0.0 and 0.0 <= x <= 1.0) or (a == b == 0.0) or (a == b == _INF):
        return (_NAN, _NAN, _NAN)
    if x in (0.0, 1.0):
        v = x
    elif a == 0.0 or b == _INF:
        v = 1.0
    elif b == 0.0 or a == _INF:
        v = 0.0
    else:
        v = -1.0
    if v >= 0.0:
        return (1.0 - v if upper else v, 0.0, 0.0)
    if b <= 2.220446049250313e-16 * min(a, 1.0) and 1.0 - x <= 0.5 and a * (1.0 - x) <= 1.0:
        v, va, vb = _betainc_tiny_b(a, b, 1.0 - x)
        return (1.0 - v, -va, -vb) if upper else (v, va, vb)
    ab = digamma_pos(a + b)
    swap = not x * (a + b + 2.0) < a + 1.0
    # f h is I on the direct side, 1 - I on the swapped one, f the prefactor over the shape of
    # that side (its derivative in it without 1 / p**2, as the C helper's)
    f = _beta_front(a, b, x) / (b if swap else a)
    da = math.log(x) - digamma_pos(a if swap else a + 1.0) + ab
    db = math.log1p(-x) - digamma_pos(b + 1.0 if swap else b) + ab
    pa, pb = (a, 1.0, 0.0), (b, 0.0, 1.0)
    h = _betacf(pb, pa, 1.0 - x) if swap else _betacf(pa, pb, x)
    # q = 1 - f h and its derivatives qa, qb as the C helper's, by the series where it is small
    v = f * h[0]
    q = 1.0 - v
    qa, qb = -f * (da * h[0] + h[1]), -f * (db * h[0] + h[2])
    if q < 0.5 and (b if swap else a) < 1.0:
        q, sa, sb = _betainc_small_b(a, b, 1.0 - x) if swap else _betainc_small_b(b, a, x)
        v = 1.0 - q
        qa, qb = (sa, sb) if swap else (sb, sa)
    sg = 1.0 if swap != upper else -1.0
    if swap != upper:
        v = q
    v = min(max(v, 0.0), 1.0)  # a probability (the C helper's clamp)
    return (v, sg * qa, sg * qb)


def _betainc_start(a: float, b: float, p: float, q: float, lb: float) -> float:
    t = _exp((math.log(a * p) + lb) / a)
    u = (math.log(b * q) + lb) / b
    if p < 1e-8 or t < 0.2 * a / (a + b):
        return t
    if q < 1e-8 or _exp(u) < 0.2 * b / (a + b):
        return -math.expm1(u)
    if a >= 1.0 and b >= 1.0:
        pp = p if p < 0.5 else q
        x = _normal_tail(pp) if p < 0.5 else -_normal_tail(pp)
        lam = (x * x - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0))
        w = x * math.sqrt(lam + h) / h - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (
            lam + 5.0 / 6.0 - 2.0 / (3.0 * h)
        )
        return a / (a + b * _exp(2.0 * w))
    w = _exp(a * math.log(a / (a + b)) - lb) / a
    return t if p * (w + _exp(b * math.log(b / (a + b)) - lb) / b) < w else -math.expm1(u)


def _betainc_inv(a: float, b: float, p: float, q: float) -> float:
    if not (a > 0.0 and b > 0.0 and p >= 0.0 and q >= 0.0) or (a == b == _INF):
        return _NAN
    if p == 0.0 or b == _INF:
        return 0.0
    if q == 0.0 or a == _INF:
        return 1.0
    x = _betainc_start(a, b, p, q, lbeta(a, b))
    if b <= 2.220446049250313e-16 * min(a, 1.0):
        # a tiny b: the C helper's start from I ~ b (-log(1 - x) - psi(a) - gamma)
        w = -p / b - digamma_pos(a) - 0.5772156649015329
        if w < 0.0:
            x = min(x, -math.expm1(w))
    k = 0
    while k < 100 and 0.0 < x < 1.0:
        err = _betainc_dual(a, b, x)[0] - p if p < 0.5 else q - _betainc_dual(a, b, x, True)[0]
        dens = _beta_front(a, b, x) / (x * (1.0 - x))
        if not dens > 0.0 or err != err:
            break
        x, step = _halley_step(x, err / dens, (a - 1.0) / x - (b - 1.0) / (1.0 - x), 1.0)
        if abs(step) <= 1e-14 * x:
            break
        k += 1
    return x


def _ufunc(name: str, fn, nin: int):
    vec = np.frompyfunc(fn, nin, 1)
    return float_op(name, lambda *xs: np.asarray(vec(*xs), dtype=np.float64))


gammainc = _ufunc("gammainc", _gammainc, 2)
gammaincc = _ufunc("gammaincc", _gammaincc, 2)
gammainc_da = _ufunc("gammainc_da", _gammainc_da, 2)
gammaincinv = _ufunc("gammaincinv", lambda a, y: _igam_inv(a, y, 1.0 - y), 2)
gammainccinv = _ufunc("gammainccinv", lambda a, y: _igam_inv(a, 1.0 - y, y), 2)
betainc = _ufunc("betainc", lambda a, b, x: _betainc_dual(a, b, x)[0], 3)
betainc_da = _ufunc("betainc_da", lambda a, b, x: _betainc_dual(a, b, x)[1], 3)
betainc_db = _ufunc("betainc_db", lambda a, b, x: _betainc_dual(a, b, x)[2], 3)
betaincinv = _ufunc("betaincinv", lambda a, b, y: _betainc_inv(a, b, y, 1.0 - y), 3)
