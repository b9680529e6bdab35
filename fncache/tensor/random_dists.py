"""The distributions of ``fc.RandomStream`` beyond uniform, normal, integers, choice and
permutation: their checks and their transforms of the run-time's Philox words.

A draw reads its words through a ``Source`` -- a stream key (seed, variable) and the call --
whose ``uniform``, ``normal`` and ``exponential`` give element i of the run-time's fill
(codegen/c_random.c) for each element position i asked for. A transform that needs more words
than one per element (a rejection's further attempts, a gamma's second variate) reads them from
a *sub-stream*: ``src.sub(a, b)`` keys Philox with (seed, philox((variable, a, b, SUB), (seed,
SUB))[0]), a key of its own for each path, so element i of a draw still depends only on the
key, the call, i and its own parameters. Logs and exps are the run-time's (``math``), so the
numbers are the same bits on every x86-64 host: the numpy arithmetic here is + - * / sqrt and
floor only, each rounded once.

Compiled functions draw every distribution here but multinomial, dirichlet, categorical and
multivariate_normal's ``eigh`` and ``svd`` methods (whose factors are numpy's LAPACK's) with a
run-time step (codegen/c_random.c) that writes these transforms element by element, the same
operations in the same order (a Python float meeting a float32 parameter rounds to float32, as
numpy's rule has it), so the two give the same bits: a change to a transform here is a change to
its C version too. multivariate_normal's Cholesky factor is the run-time's on both paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..config import config
from .hooks import c_runtime

__all__ = ["Source", "Distribution", "DISTRIBUTIONS", "fill", "UNIFORM", "NORMAL", "EXPONENTIAL", "BOUNDED"]

#: the run-time's fill kinds (c_random.c)
UNIFORM, NORMAL, EXPONENTIAL, BOUNDED = range(4)

#: the tag of sub-stream keys (the last counter word and the second key word of their Philox)
_SUB = 0x5EED_5AB5_7EA3_0001


def fill(
    kind: int, out: np.ndarray, key: tuple[int, int], call: int, a: float = 0.0, b: Any = 1.0
) -> np.ndarray:
    """Draw every element of ``out`` (C-contiguous) by its index, on ``config.loop_threads()``."""
    c_runtime().random_fill(kind, out, key, call, config.loop_threads(), a, b)
    return out


def log(x: np.ndarray) -> np.ndarray:
    """The run-time's log of a float64 array (a new array)."""
    out = np.array(x, dtype=np.float64, order="C")
    c_runtime().random_math(0, out)
    return out


def exp(x: np.ndarray) -> np.ndarray:
    """The run-time's exp of a float64 array (a new array)."""
    out = np.array(x, dtype=np.float64, order="C")
    c_runtime().random_math(1, out)
    return out


class Source:
    """The words of one draw: element ``pos[j]`` of the fill keyed by ``key`` at ``call``."""

    def __init__(self, key: tuple[int, int], call: int) -> None:
        self.key = key
        self.call = call

    def sub(self, a: int, b: int = 0) -> "Source":
        """The sub-stream at path (a, b): a key of its own."""
        word = c_runtime().philox((self.key[1], a, b, _SUB), (self.key[0], _SUB))[0]
        return Source((self.key[0], word), self.call)

    def _take(self, kind: int, pos: np.ndarray) -> np.ndarray:
        n = int(pos.max()) + 1 if pos.size else 0
        return fill(kind, np.empty(n), self.key, self.call)[pos]

    def uniform(self, pos: np.ndarray) -> np.ndarray:
        """Uniform on [0, 1), 53 bits."""
        return self._take(UNIFORM, pos)

    def normal(self, pos: np.ndarray) -> np.ndarray:
        return self._take(NORMAL, pos)

    def exponential(self, pos: np.ndarray) -> np.ndarray:
        """Standard exponential, -log of a uniform on (0, 1]."""
        return self._take(EXPONENTIAL, pos)


# -- the transforms: each takes the source, the element positions and its parameters, flat and
#    broadcast to the positions' shape, and returns float64 or int64 values ------------------


def _log1m(q: np.ndarray) -> np.ndarray:
    """log(1 - q) for 0 <= q <= 1/2, by its series below 1e-4 (where 1 - q loses q's bits)."""
    small = q < 1e-4
    series = -q * (1.0 + q * (0.5 + q * (1.0 / 3.0 + q * 0.25)))
    return np.where(small, series, log(1.0 - q))


def _invert(u: np.ndarray, first: np.ndarray, step: Callable, limit: np.ndarray) -> np.ndarray:
    """The least x with cdf(x) > u, cdf summed from pmf(0) = ``first`` and pmf(x) = pmf(x - 1)
    * step(x, rows); at most ``limit``, and no further once pmf has underflowed past its mode.
    The elements still searching are kept packed (``rows``: their places)."""
    x = np.zeros(u.shape, np.int64)
    rows = np.flatnonzero((u >= first) & (limit > 0))
    uu, pmf, cdf, lim = u[rows], first[rows], first[rows].copy(), limit[rows]
    k = 0
    while rows.size:
        k += 1
        pmf = pmf * step(k, rows)
        cdf = cdf + pmf
        go = (uu >= cdf) & (lim > k) & (pmf > 0)
        x[rows[~go]] = k
        rows, uu, pmf, cdf, lim = rows[go], uu[go], pmf[go], cdf[go], lim[go]
    return x


def _std_gamma(src: Source, pos: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gamma(alpha, 1) and its log (alpha > 0; 0 gives 0): Marsaglia and Tsang's method, attempt
    t from sub-streams (1, t) (the normal) and (2, t) (the exponential); alpha < 1 as
    Gamma(alpha + 1) * U**(1/alpha), U**(1/alpha) = exp(-E/alpha), E from sub-stream (3, 0)."""
    small = alpha < 1
    d = np.where(small, alpha + 1.0, alpha) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    g = np.zeros(alpha.shape)
    rows = np.flatnonzero(alpha > 0)
    t = 0
    while rows.size:
        z, e = src.sub(1, t).normal(pos[rows]), src.sub(2, t).exponential(pos[rows])
        dd, cz = d[rows], c[rows] * z
        w = cz * (3.0 + cz * (3.0 + cz))  # (1 + cz)**3 - 1, without its cancellation
        ok = cz > -1.0
        # d (1 - v**3 + log v**3) = -d (w - log(1 + w)): a large d times a difference of about
        # w**2 / 2, so by its series where w is small
        series = w * w * (0.5 - w * (1.0 / 3.0 - w * (0.25 - w * (0.2 - w / 6.0))))
        direct = w - log(np.where(ok, 1.0 + w, 1.0))
        accept = ok & (-e < 0.5 * z * z - dd * np.where(np.abs(w) < 0.01, series, direct))
        g[rows[accept]] = (dd + dd * w)[accept]
        rows = rows[~accept]
        t += 1
    lg = log(g)
    if small.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.where(small, lg - src.sub(3).exponential(pos) / alpha, lg)
        g = np.where(small, exp(lg), g)
    return g, lg


def _beta(src: Source, pos: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Ga / (Ga + Gb) as 1 / (1 + exp(log Gb - log Ga)): no underflow for small a and b."""
    la = _std_gamma(src.sub(1), pos, a)[1]
    lb = _std_gamma(src.sub(2), pos, b)[1]
    return 1.0 / (1.0 + exp(lb - la))


def _binomial(src: Source, pos: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Knuth's splitting (TAOCP 3.4.1 F) while n min(p, 1 - p) > 30: the a-th smallest of n
    uniforms is X ~ Beta(a, n + 1 - a) (sub-stream (1, round)); below it are Bin(a - 1, p / X)
    of the successes, or all a of them and Bin(n - a, (p - X) / (1 - X)) above. Knuth takes a =
    1 + n // 2; a = 1 + floor(n p), the order statistic nearest p, leaves a binomial of about
    sqrt(n p) in place of n p / 2, so a round takes the count near inversion's reach. Then inversion
    of a uniform u (sub-stream (2, 0)) with p <= 1/2 (n - Bin(n, 1 - p) otherwise); for n = 1
    that is ``u >= 1 - p``."""
    n = n.astype(np.int64)
    k = np.zeros(n.shape, np.int64)
    m, q = n.copy(), p.astype(np.float64).copy()
    r = 0
    while True:
        rows = np.flatnonzero(m * np.minimum(q, 1.0 - q) > 30)
        if not rows.size:
            break
        a = np.minimum(1 + np.floor(m[rows] * q[rows]).astype(np.int64), m[rows])
        b = m[rows] + 1 - a
        x = _beta(src.sub(1, r), pos[rows], a.astype(np.float64), b.astype(np.float64))
        below = x >= q[rows]
        qr = q[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            q[rows] = np.where(below, qr / x, (qr - x) / (1.0 - x))
        q[rows] = np.clip(q[rows], 0.0, 1.0)
        m[rows] = np.where(below, a - 1, b - 1)
        k[rows] += np.where(below, 0, a)
        r += 1
    flip = q > 0.5
    q = np.where(flip, 1.0 - q, q)
    u = src.sub(2).uniform(pos)
    x = ((u >= 1.0 - q) & (m == 1)).astype(np.int64)  # n = 1 (dropout's masks): cdf(0) = 1 - q
    rows = np.flatnonzero(m > 1)
    if rows.size:
        mr, qr = m[rows], q[rows]
        ratio = qr / (1.0 - qr)

        def step(x: int, r: np.ndarray) -> np.ndarray:
            return (mr[r] - x + 1) / x * ratio[r]

        x[rows] = _invert(u[rows], exp(mr * _log1m(qr)), step, mr)
    return k + np.where(flip, m - x, x)


_HALF_LOG_2PI = 0.9189385332046727417803297


def _stirling_tail(k: np.ndarray) -> np.ndarray:
    """log(k!) - (k log k - k + log(2 pi k) / 2) for k >= 20: Stirling's series (its first
    omitted term below 2e-15 relative)."""
    inv = 1.0 / k
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))


def _log_poisson_pmf(k: np.ndarray, d: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """log(lam**k exp(-lam) / k!) of int k >= 0, d = k - lam. Below k = 20 by exact
    factorials' logs; from 20 as -lam ((1 + x) log(1 + x) - x) - log(2 pi k) / 2 - Stirling's
    tail, x = d / lam, the bracket by its series below |x| = 0.01: the terms of the direct
    formula are each about k log lam and cancel to a few units, which float64 keeps only while
    lam is below about 1e12."""
    table = log(np.array([float(math.factorial(j)) for j in range(20)]))
    low = -lam + k * log(lam) - table[np.clip(k, 0, 19)]
    kk = np.maximum(k, 20).astype(np.float64)
    x = d / lam
    series = (
        x
        * x
        * (1.0 / 2.0 - x * (1.0 / 6.0 - x * (1.0 / 12.0 - x * (1.0 / 20.0 - x * (1.0 / 30.0 - x / 42.0)))))
    )
    direct = (1.0 + x) * log(np.maximum(1.0 + x, 1e-300)) - x
    bracket = np.where(np.abs(x) < 0.01, series, direct)
    high = -lam * bracket - 0.5 * log(kk) - _HALF_LOG_2PI - _stirling_tail(kk)
    return np.where(k < 20, low, high)


def _poisson(src: Source, pos: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Inversion of a uniform below lam = 10; Hormann's PTRS (1993) from 10, attempt t from
    sub-streams (1, t) and (2, t). Its candidate is floor(lam) + floor(offset + frac(lam)) in
    int64, exact at any lam (floor(offset + lam) in float64 would round to lam's spacing)."""
    lam = lam.astype(np.float64)
    small = lam < 10
    out = _invert(
        src.uniform(pos),
        exp(-np.where(small, lam, 0.0)),
        lambda x, rows: lam[rows] / x,
        np.where(small, np.iinfo(np.int64).max, 0),
    )
    rows = np.flatnonzero(~small)
    t = 0
    while rows.size:
        la = lam[rows]
        whole = np.floor(la)
        slam = np.sqrt(la)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2.0)
        u = src.sub(1, t).uniform(pos[rows]) - 0.5
        v = src.sub(2, t).uniform(pos[rows])
        us = 0.5 - np.abs(u)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            off = np.floor((2.0 * a / us + b) * u + (la - whole) + 0.43)
            quick = (us >= 0.07) & (v <= vr)
            skip = ~np.isfinite(off) | (off < -whole) | (off > 1e17) | ((us < 0.013) & (v > us))
            off = np.where(skip, 0.0, off)
            k = whole.astype(np.int64) + off.astype(np.int64)
            lhs = log(v) + log(invalpha) - log(a / (us * us) + b)
            rhs = _log_poisson_pmf(k, off + (whole - la), la)
        accept = ~skip & (quick | (lhs <= rhs))
        out[rows[accept]] = k[accept]
        rows = rows[~accept]
        t += 1
    return out


def _truncated_normal(src: Source, pos: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """loc + scale z, z a standard normal redrawn while |z| > 2: attempt 0 the variable's own
    normal, attempt t from sub-stream (1, t)."""
    z = src.normal(pos)
    rows = np.flatnonzero(np.abs(z) > 2.0)
    t = 1
    while rows.size:
        z[rows] = src.sub(1, t).normal(pos[rows])
        rows = rows[np.abs(z[rows]) > 2.0]
        t += 1
    return loc + scale * z


def _multinomial(src: Source, pos: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Category c as Bin(what is left of n, p_c / (p_c + ... + p_last)) from sub-stream (4, c),
    the last category taking the rest."""
    kcat = p.shape[-1]
    out = np.zeros(p.shape, np.int64)
    left = n.astype(np.int64).copy()
    tail = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]  # p_c + ... + p_last, added in one order
    for c in range(kcat - 1):
        rows = np.flatnonzero(left > 0)
        if not rows.size:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip(np.where(tail[rows, c] > 0, p[rows, c] / tail[rows, c], 0.0), 0.0, 1.0)
        got = _binomial(src.sub(4, c), pos[rows], left[rows], share)
        out[rows, c] = got
        left[rows] -= got
    out[:, -1] = left
    return out


def _dirichlet(src: Source, pos: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Gammas (category c from sub-stream (5, c)) over their sum, scaled by their largest log."""
    lg = np.stack([_std_gamma(src.sub(5, c), pos, alpha[:, c])[1] for c in range(alpha.shape[1])], axis=1)
    w = exp(lg - lg.max(axis=1, keepdims=True))
    return w / np.cumsum(w, axis=1)[:, -1:]


def _categorical(src: Source, pos: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The number of entries of cumsum(p) / sum(p) at or below a uniform (as ``choice``)."""
    cdf = np.cumsum(p, axis=1)
    cdf = cdf / cdf[:, -1:]
    u = src.uniform(pos)
    return np.minimum(np.count_nonzero(cdf <= u[:, None], axis=1), p.shape[1] - 1).astype(np.int64)


def _scaled(loc: np.ndarray, scale: np.ndarray, x: np.ndarray) -> np.ndarray:
    return loc + scale * x


# -- PyTensor's further distributions, built from the draws above -------------------------


def _f64(x: np.ndarray) -> np.ndarray:
    """A parameter in float64: these transforms compute in float64 whatever the parameters' type
    (the sample is cast to its dtype after), which the run-time's steps of them do too."""
    return np.asarray(x, dtype=np.float64)


def _halfnormal(src: Source, pos: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """loc + scale |z|."""
    return _f64(loc) + _f64(scale) * np.abs(src.normal(pos))


def _ratio(src: Source, pos: np.ndarray) -> np.ndarray:
    """A standard Cauchy: the ratio of two normals (the second from sub-stream (1, 0))."""
    return src.normal(pos) / src.sub(1).normal(pos)


def _cauchy(src: Source, pos: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _f64(loc) + _f64(scale) * _ratio(src, pos)


def _halfcauchy(src: Source, pos: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _f64(loc) + _f64(scale) * np.abs(_ratio(src, pos))


def _invgamma(src: Source, pos: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """scale / Gamma(shape, 1) (PyTensor's 1 / gamma(shape, 1 / scale))."""
    return _f64(scale) / _std_gamma(src, pos, _f64(shape))[0]


def _weibull(src: Source, pos: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """E**(1 / shape) as exp(log E / shape); 0 for shape 0 (numpy's)."""
    a = _f64(shape)
    return np.where(a == 0, 0.0, exp(log(src.exponential(pos)) / a))


def _pareto(src: Source, pos: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """scale U**(-1 / b) as scale exp(E / b): scipy's pareto, at least ``scale``."""
    return _f64(scale) * exp(src.exponential(pos) / _f64(b))


def _wald(src: Source, pos: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Michael, Schucany and Haas (1976), numpy's method: the smaller root x of the inverse
    Gaussian's chi-square of a normal z (y = mean z**2), kept with probability mean / (mean +
    x), else mean**2 / x (the uniform from sub-stream (1, 0)). The root mean + mean / (2 scale)
    (y - sqrt(4 scale y + y**2)) is written mean 4 scale y / (y + sqrt(y (4 scale + y)))**2,
    which has no cancellation where y is large."""
    mu, lam = _f64(mean), _f64(scale)
    z = src.normal(pos)
    y = mu * (z * z)
    root = y + np.sqrt(y * (4.0 * lam + y))
    x = np.where(y > 0, mu * (4.0 * lam * y) / (root * root), mu)
    u = src.sub(1).uniform(pos)
    return np.where(u <= mu / (mu + x), x, mu * mu / x)


def _truncexpon(
    src: Source, pos: np.ndarray, b: np.ndarray, loc: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Inversion: -log(1 - u (1 - exp(-b))), at most b (scipy's truncexpon, on [0, b] before
    loc and scale); 1 - exp(-b) by its series below b = 1e-4."""
    bb = _f64(b)
    series = bb * (1.0 - bb * (0.5 - bb * (1.0 / 6.0 - bb / 24.0)))
    mass = np.where(bb < 1e-4, series, 1.0 - exp(-bb))
    x = np.minimum(-_log1m(src.uniform(pos) * mass), bb)
    return _f64(loc) + _f64(scale) * x


def _triangular(
    src: Source, pos: np.ndarray, left: np.ndarray, mode: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """numpy's inversion of a uniform u: left + sqrt(u (right - left) (mode - left)) up to the
    mode's share of the base, right - sqrt((1 - u) (right - left) (right - mode)) past it."""
    lo, mo, hi = _f64(left), _f64(mode), _f64(right)
    base = hi - lo
    u = src.uniform(pos)
    below = lo + np.sqrt(u * ((mo - lo) * base))
    above = hi - np.sqrt((1.0 - u) * ((hi - mo) * base))
    return np.where(u <= (mo - lo) / base, below, above)


def _t(src: Source, pos: np.ndarray, df: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """loc + scale z / sqrt(V / df), V = 2 Gamma(df / 2) a chi-square (sub-stream (4, 0))."""
    d = _f64(df)
    g = _std_gamma(src.sub(4), pos, d * 0.5)[0]
    return _f64(loc) + _f64(scale) * (src.normal(pos) / np.sqrt((g + g) / d))


def _gengamma(
    src: Source, pos: np.ndarray, alpha: np.ndarray, p: np.ndarray, lambd: np.ndarray
) -> np.ndarray:
    """lambd Gamma(alpha / p)**(1 / p), the power through the gamma's log (scipy's gengamma
    with a = alpha / p, c = p, scale = lambd)."""
    pp = _f64(p)
    return _f64(lambd) * exp(_std_gamma(src, pos, _f64(alpha) / pp)[1] / pp)


def _geometric(src: Source, pos: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Trials to the first success, inversion: ceil(E / -log(1 - p)), at least 1 (and at most
    9.2e18, within int64)."""
    x = np.ceil(src.exponential(pos) / -_log1m(_f64(p)))
    return np.clip(x, 1.0, 9.2e18).astype(np.int64)


def _negative_binomial(src: Source, pos: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Failures before the n-th success: Poisson(Gamma(n) (1 - p) / p), numpy's gamma-Poisson
    mixture (the Poisson from sub-stream (6, 0)); its mean is capped at the Poisson's 1e18."""
    pp = _f64(p)
    lam = _std_gamma(src, pos, _f64(n))[0] * ((1.0 - pp) / pp)
    return _poisson(src.sub(6), pos, np.minimum(lam, 1e18))


def _beta_binomial(src: Source, pos: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bin(n, Beta(a, b)): the beta from sub-stream (7, 0), the binomial from (8, 0)."""
    p = _beta(src.sub(7), pos, _f64(a), _f64(b))
    return _binomial(src.sub(8), pos, n, p)


def _log_factorial(k: np.ndarray) -> np.ndarray:
    """log(k!) of int k >= 0: exact factorials' logs below 20, Stirling's series from there."""
    table = log(np.array([float(math.factorial(j)) for j in range(20)]))
    kk = np.maximum(k, 20).astype(np.float64)
    high = (kk + 0.5) * log(kk) - kk + _HALF_LOG_2PI + _stirling_tail(kk)
    return np.where(k < 20, table[np.clip(k, 0, 19)], high)


def _hypergeometric(
    src: Source, pos: np.ndarray, ngood: np.ndarray, nbad: np.ndarray, nsample: np.ndarray
) -> np.ndarray:
    """Good items among nsample drawn without replacement. By symmetry nsample <= half the
    population (else the items left behind are drawn) and ngood <= nbad (else the bad ones
    are counted); then inversion of a uniform from k0 = ten standard deviations below the mean
    (the mass below k0 is under 1e-20), pmf(k0) from log-factorials (Stirling's series: about
    1e-6 relative at populations of 1e9) and pmf(k) = pmf(k - 1) (g - k + 1) (m - k + 1) /
    (k (b - m + k)), in float64 (exact: the counts are below 1e9). An element takes
    O(sqrt(nsample)) steps."""
    g0, b0, m0 = (np.asarray(x).astype(np.int64) for x in (ngood, nbad, nsample))
    total = g0 + b0
    rest = m0 > total // 2
    m = np.where(rest, total - m0, m0)
    swap = g0 > b0
    g, b = np.where(swap, b0, g0), np.where(swap, g0, b0)
    mean = m * (g / np.maximum(total, 1))
    var = mean * (b / np.maximum(total, 1)) * ((total - m) / np.maximum(total - 1, 1))
    k0 = np.maximum(np.floor(mean - 10.0 * np.sqrt(var)), 0.0).astype(np.int64)
    first = exp(
        _log_factorial(g)
        - _log_factorial(k0)
        - _log_factorial(g - k0)
        + _log_factorial(b)
        - _log_factorial(m - k0)
        - _log_factorial(b - m + k0)
        - _log_factorial(total)
        + _log_factorial(m)
        + _log_factorial(total - m)
    )

    gf, bf, mf = g.astype(np.float64), b.astype(np.float64), m.astype(np.float64)

    def step(j: int, rows: np.ndarray) -> np.ndarray:
        k = (k0[rows] + j).astype(np.float64)
        return (gf[rows] - k + 1.0) * (mf[rows] - k + 1.0) / (k * (bf[rows] - mf[rows] + k))

    x = k0 + _invert(src.uniform(pos), first, step, np.minimum(m, g) - k0)
    x = np.where(swap, m - x, x)
    return np.where(rest, g0 - x, x)


def _atan(r: np.ndarray) -> np.ndarray:
    """arctan of r >= 0 (inf included) with + - * / and sqrt only, the same bits everywhere:
    pi/2 - atan(1/r) above 1, two halvings atan(t) = 2 atan(t / (1 + sqrt(1 + t**2))) to
    |t| <= tan(pi/16), then the series to t**23 (its next term below 1e-18)."""
    inv = r > 1.0
    with np.errstate(divide="ignore"):
        t = np.where(inv, 1.0 / r, r)
    for _ in range(2):
        t = t / (1.0 + np.sqrt(1.0 + t * t))
    t2 = t * t
    series = np.full(t.shape, 1.0 / 23.0)
    for j in range(21, 0, -2):
        series = series * -t2 + 1.0 / j
    a = 4.0 * (t * series)
    return np.where(inv, math.pi / 2 - a, a)


def _vonmises(src: Source, pos: np.ndarray, mu: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Best and Fisher's (1979) rejection, numpy's constants: attempt t's cos(pi U) is the cosine
    of the uniform direction of two normals (sub-streams (1, t), (2, t)), its uniform from (3,
    t); the sign from sub-stream (4, 0). kappa < 1e-8 is uniform on [-pi, pi), kappa > 1e6 a
    normal of variance 1 / kappa about mu; the result is wrapped to [-pi, pi] as numpy wraps it.
    arccos is 2 atan(sqrt((1 - w) / (1 + w))) of this file's atan."""
    m, k = _f64(mu), _f64(kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 1.0 + np.sqrt(1.0 + 4.0 * k * k)
        rho = (r - np.sqrt(2.0 * r)) / (2.0 * k)
        s = np.where(k < 1e-5, 1.0 / k, (1.0 + rho * rho) / (2.0 * rho))
    w = np.zeros(k.shape)
    rows = np.flatnonzero((k >= 1e-8) & (k <= 1e6))
    t = 0
    while rows.size:
        z1, z2 = src.sub(1, t).normal(pos[rows]), src.sub(2, t).normal(pos[rows])
        v = src.sub(3, t).uniform(pos[rows])
        c = z1 / np.sqrt(z1 * z1 + z2 * z2)
        sr, kr = s[rows], k[rows]
        wr = (1.0 + sr * c) / (sr + c)
        y = kr * (sr - wr)
        accept = (y * (2.0 - y) - v >= 0) | (log(y / v) + 1.0 - y >= 0)
        w[rows[accept]] = wr[accept]
        rows = rows[~accept]
        t += 1
    w = np.clip(w, -1.0, 1.0)
    with np.errstate(divide="ignore"):
        angle = 2.0 * _atan(np.sqrt((1.0 - w) / (1.0 + w)))
    angle = np.where(src.sub(4).uniform(pos) < 0.5, -angle, angle)
    angle = np.where(k > 1e6, src.sub(5).normal(pos) / np.sqrt(k), angle)
    x = m + angle
    wrapped = np.fmod(np.abs(x) + math.pi, 2.0 * math.pi) - math.pi
    x = np.where(x < 0, -wrapped, wrapped)
    return np.where(k < 1e-8, math.pi * (2.0 * src.uniform(pos) - 1.0), x)


def _mvn_factor(cov: np.ndarray, method: str) -> np.ndarray:
    """A with A A^T = cov for each matrix of cov (..., n, n): its Cholesky factor (the
    run-time's, which its step computes too: the same bits on every host, where LAPACK's
    blocking and kernels differ), or the eigenvectors (``eigh``) or left singular vectors
    (``svd``, both numpy's LAPACK) scaled by the square roots of their values (eigenvalues
    below 0 by rounding taken as 0)."""
    if method == "cholesky":
        factor = np.array(cov, dtype=np.float64, order="C")
        if not c_runtime().random_cholesky(factor):
            raise ValueError(
                "cov is not positive definite, which method='cholesky' needs; give "
                "method='eigh' or method='svd' for a positive semi-definite cov"
            )
        return factor
    if method == "svd":
        a, s, _ = np.linalg.svd(cov)
        return a * np.sqrt(s)[..., None, :]
    w, a = np.linalg.eigh(cov)
    return a * np.sqrt(np.maximum(w, 0.0))[..., None, :]


def _mvn(method: str) -> Callable[..., np.ndarray]:
    def sample(src: Source, pos: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
        """mean + A z, z the normals at positions pos * n + j; A factored once where every row
        has the same cov (a cov broadcast against size), and A z summed over j in order."""
        n = mean.shape[-1]
        cov = _f64(cov)
        same = cov.shape[0] > 1 and bool(np.all(cov == cov[:1]))
        a = _mvn_factor(cov[:1] if same else cov, method)
        z = src.normal(pos[:, None] * n + np.arange(n)) if n else np.zeros((len(pos), 0))
        out = _f64(mean).copy()
        for j in range(n):
            out += a[:, :, j] * z[:, None, j]
        return out

    return sample


# -- the checks: each raises ValueError naming the parameter -------------------------------


def _finite(name: str, x: np.ndarray) -> None:
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got {x[~np.isfinite(x)].flat[0]}")


def _at_least(name: str, x: np.ndarray, low: float, strict: bool = False) -> None:
    bad = ~(x > low) if strict else ~(x >= low)
    if np.any(bad):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {np.asarray(x)[bad].flat[0]}")


def _probability(name: str, p: np.ndarray) -> None:
    bad = ~((p >= 0) & (p <= 1))
    if np.any(bad):
        raise ValueError(f"{name} must be in [0, 1], got {np.asarray(p)[bad].flat[0]}")


def _integral(name: str, x: np.ndarray) -> None:
    if np.any(np.asarray(x) != np.floor(x)):
        raise ValueError(
            f"{name} must be a whole number, got {np.asarray(x)[np.asarray(x) != np.floor(x)].flat[0]}"
        )


def _check_pvals(name: str, p: np.ndarray) -> None:
    if p.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one category (its last axis is empty)")
    if not np.all((p >= 0) & np.isfinite(p)):
        raise ValueError(f"{name} must be non-negative and finite")
    sums = np.cumsum(p, axis=-1, dtype=np.float64)[..., -1]
    # the tolerance of choice's p: float32 probabilities (a softmax's) sum to 1 less closely
    tol = np.sqrt(np.finfo(p.dtype if p.dtype.kind == "f" else np.float64).eps)
    bad = np.abs(sums - 1.0) > tol
    if np.any(bad):
        raise ValueError(
            f"{name} must sum to 1 along its last axis, a row sums to {sums[bad].flat[0]!r}; divide by the sum first"
        )


@dataclass(frozen=True)
class Distribution:
    """A distribution's parameters (``core``: how many of the last ones carry a category axis),
    its check of their values and its transform."""

    params: tuple[str, ...]
    check: Callable[..., None]
    sample: Callable[..., np.ndarray]
    core: int = 0  # 1: the last parameter's last axis holds the categories
    core_out: bool = False  # the sample has the category axis too
    #: each parameter's number of core axes, where they are not ``core``'s (multivariate_normal:
    #: the mean's vector and the covariance's matrix)
    core_ndims: tuple[int, ...] = ()

    def ndims(self) -> tuple[int, ...]:
        """Each parameter's number of core axes (the last ones)."""
        return self.core_ndims or (0,) * (len(self.params) - self.core) + (1,) * self.core


def _check_binomial(n: np.ndarray, p: np.ndarray) -> None:
    _at_least("n", n, 0)
    _integral("n", n)
    _probability("p", p)


def _check_scale(loc: np.ndarray, scale: np.ndarray) -> None:
    _finite("loc", loc)
    _at_least("scale", scale, 0)
    _finite("scale", scale)


def _gamma(src: Source, pos: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _std_gamma(src, pos, shape)[0] * scale


def _check_gamma(shape: np.ndarray, scale: np.ndarray) -> None:
    _at_least("shape", shape, 0)
    _finite("shape", shape)
    _at_least("scale", scale, 0)
    _finite("scale", scale)


def _check_beta(a: np.ndarray, b: np.ndarray) -> None:
    for name, x in (("a", a), ("b", b)):
        _at_least(name, x, 0, strict=True)
        _finite(name, x)


def _check_multinomial(n: np.ndarray, pvals: np.ndarray) -> None:
    _at_least("n", n, 0)
    _integral("n", n)
    _check_pvals("pvals", pvals)


def _check_alpha(alpha: np.ndarray) -> None:
    if alpha.shape[-1] == 0:
        raise ValueError("alpha must have at least one category (its last axis is empty)")
    _at_least("alpha", alpha, 0, strict=True)
    _finite("alpha", alpha)


def _check_lam(lam: np.ndarray) -> None:
    _at_least("lam", lam, 0)
    if np.any(lam > 1e18):
        raise ValueError(
            f"lam must be at most 1e18 (the counts stay within int64), got {lam[lam > 1e18].flat[0]}"
        )


def _check_lognormal(mean: np.ndarray, sigma: np.ndarray) -> None:
    _finite("mean", mean)
    _at_least("sigma", sigma, 0)
    _finite("sigma", sigma)


def _check_scale_only(scale: np.ndarray) -> None:
    _at_least("scale", scale, 0)
    _finite("scale", scale)


def _check_positive(**params: np.ndarray) -> None:
    """Each parameter finite and above 0."""
    for name, x in params.items():
        _at_least(name, x, 0, strict=True)
        _finite(name, x)


def _check_loc_positive(loc: np.ndarray, **params: np.ndarray) -> None:
    """A finite ``loc``, the other parameters finite and above 0."""
    _finite("loc", loc)
    _check_positive(**params)


def _check_invgamma(shape: np.ndarray, scale: np.ndarray) -> None:
    _check_positive(shape=shape)
    _at_least("scale", scale, 0)
    _finite("scale", scale)


def _check_weibull(shape: np.ndarray) -> None:
    _at_least("shape", shape, 0)
    _finite("shape", shape)


def _check_triangular(left: np.ndarray, mode: np.ndarray, right: np.ndarray) -> None:
    for name, x in (("left", left), ("mode", mode), ("right", right)):
        _finite(name, x)
    if np.any(left > mode) or np.any(mode > right):
        raise ValueError("left <= mode <= right must hold, a mode is outside [left, right]")
    if np.any(left >= right):
        raise ValueError("left < right must hold, a left is at or above its right")


def _check_open_probability(p: np.ndarray) -> None:
    bad = ~((p > 0) & (p <= 1))
    if np.any(bad):
        raise ValueError(f"p must be in (0, 1], got {np.asarray(p)[bad].flat[0]}")


def _check_negative_binomial(n: np.ndarray, p: np.ndarray) -> None:
    _check_positive(n=n)
    _check_open_probability(p)


def _check_beta_binomial(n: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    _at_least("n", n, 0)
    _integral("n", n)
    _check_beta(a, b)


def _check_hypergeometric(ngood: np.ndarray, nbad: np.ndarray, nsample: np.ndarray) -> None:
    for name, x in (("ngood", ngood), ("nbad", nbad), ("nsample", nsample)):
        _at_least(name, x, 0)
        _integral(name, x)
    for name, x in (("ngood", ngood), ("nbad", nbad)):
        if np.any(x >= 10**9):
            raise ValueError(
                f"{name} must be below 1e9 (numpy's bound), got {np.asarray(x)[x >= 10**9].flat[0]}"
            )
    total = np.asarray(ngood).astype(np.int64) + np.asarray(nbad).astype(np.int64)
    if np.any(np.asarray(nsample) > total):
        raise ValueError("nsample must be at most ngood + nbad (the items drawn without replacement)")


def _check_vonmises(mu: np.ndarray, kappa: np.ndarray) -> None:
    _finite("mu", mu)
    _at_least("kappa", kappa, 0)
    _finite("kappa", kappa)


def _check_mvn(mean: np.ndarray, cov: np.ndarray) -> None:
    n = mean.shape[-1]
    if cov.shape[-2:] != (n, n):
        raise ValueError(
            f"cov's last two axes must be ({n}, {n}) for a mean of {n} (its last axis), got {cov.shape[-2:]}"
        )
    _finite("mean", mean)
    _finite("cov", cov)


DISTRIBUTIONS: dict[str, Distribution] = {
    "bernoulli": Distribution(
        ("p",), lambda p: _probability("p", p), lambda src, pos, p: (src.uniform(pos) < p).astype(np.int64)
    ),
    "binomial": Distribution(("n", "p"), _check_binomial, _binomial),
    "poisson": Distribution(("lam",), _check_lam, _poisson),
    "exponential": Distribution(
        ("scale",), _check_scale_only, lambda src, pos, scale: src.exponential(pos) * scale
    ),
    "gamma": Distribution(("shape", "scale"), _check_gamma, _gamma),
    "beta": Distribution(("a", "b"), _check_beta, _beta),
    "truncated_normal": Distribution(("loc", "scale"), _check_scale, _truncated_normal),
    "lognormal": Distribution(
        ("mean", "sigma"),
        _check_lognormal,
        lambda src, pos, mean, sigma: exp(mean + sigma * src.normal(pos)),
    ),
    "laplace": Distribution(
        ("loc", "scale"),
        _check_scale,
        lambda src, pos, loc, scale: _scaled(loc, scale, src.exponential(pos) - src.sub(1).exponential(pos)),
    ),
    "logistic": Distribution(
        ("loc", "scale"),
        _check_scale,
        lambda src, pos, loc, scale: _scaled(
            loc, scale, log(src.exponential(pos)) - log(src.sub(1).exponential(pos))
        ),
    ),
    "gumbel": Distribution(
        ("loc", "scale"),
        _check_scale,
        lambda src, pos, loc, scale: _scaled(loc, scale, -log(src.exponential(pos))),
    ),
    "multinomial": Distribution(("n", "pvals"), _check_multinomial, _multinomial, core=1, core_out=True),
    "dirichlet": Distribution(("alpha",), _check_alpha, _dirichlet, core=1, core_out=True),
    "categorical": Distribution(("p",), lambda p: _check_pvals("p", p), _categorical, core=1),
    "halfnormal": Distribution(("loc", "scale"), _check_scale, _halfnormal),
    "cauchy": Distribution(("loc", "scale"), _check_scale, _cauchy),
    "halfcauchy": Distribution(("loc", "scale"), _check_scale, _halfcauchy),
    "invgamma": Distribution(("shape", "scale"), _check_invgamma, _invgamma),
    "weibull": Distribution(("shape",), _check_weibull, _weibull),
    "pareto": Distribution(("b", "scale"), _check_positive, _pareto),
    "wald": Distribution(("mean", "scale"), _check_positive, _wald),
    "truncexpon": Distribution(("b", "loc", "scale"), _check_loc_positive, _truncexpon),
    "triangular": Distribution(("left", "mode", "right"), _check_triangular, _triangular),
    "t": Distribution(("df", "loc", "scale"), _check_loc_positive, _t),
    "gengamma": Distribution(("alpha", "p", "lambd"), _check_positive, _gengamma),
    "geometric": Distribution(("p",), _check_open_probability, _geometric),
    "negative_binomial": Distribution(("n", "p"), _check_negative_binomial, _negative_binomial),
    "beta_binomial": Distribution(("n", "a", "b"), _check_beta_binomial, _beta_binomial),
    "hypergeometric": Distribution(("ngood", "nbad", "nsample"), _check_hypergeometric, _hypergeometric),
    "vonmises": Distribution(("mu", "kappa"), _check_vonmises, _vonmises),
    **{
        "multivariate_normal" + ("" if method == "cholesky" else f"_{method}"): Distribution(
            ("mean", "cov"), _check_mvn, _mvn(method), core_ndims=(1, 2), core_out=True
        )
        for method in ("cholesky", "eigh", "svd")
    },
}
