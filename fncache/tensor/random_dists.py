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

Compiled functions draw bernoulli, binomial, poisson, exponential, gamma, beta, lognormal,
laplace, logistic, gumbel and truncated_normal with a run-time step (codegen/c_random.c) that
writes these transforms element by element, the same operations in the same order (a Python
float meeting a float32 parameter rounds to float32, as numpy's rule has it), so the two give the
same bits: a change to a transform here is a change to its C version too.
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
    """Draw every element of ``out`` (C-contiguous) by its index, on ``config.threads``."""
    c_runtime().random_fill(kind, out, key, call, int(config.threads), a, b)
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
}
