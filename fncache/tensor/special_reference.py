"""numpy versions of the C helpers ``fc_erfcx fc_jv fc_j0 fc_j1 fc_i0 fc_i1 fc_i0e fc_i1e`` of
``fncache/codegen/prelude.h``, by the same algorithms: the Python linker and constant folding
compute with them, so every backend gives the same values (to rounding). They compute in
float64 and give float32 for float32 and float16 inputs, as the C helpers do.

The algorithms (see the C helpers for why each is accurate where it is used): the power series
of J_nu and I_nu, Miller's backward recurrence for J_nu in the middle range, the Hankel
asymptotic expansion from 25 on, and for erfcx exp(x^2) erfc(x) with x^2 split exactly below
12, the asymptotic series above.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["erfcx", "jv", "j0", "j1", "i0", "i1", "i0e", "i1e", "float_op"]

#: from here on the Hankel expansion (FC_BESSEL_FAR in the C prelude)
_FAR = 25.0
_erfc = np.frompyfunc(math.erfc, 1, 1)
_gamma = np.frompyfunc(math.gamma, 1, 1)
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _series(nu: np.ndarray, x: np.ndarray, s: float) -> np.ndarray:
    """(x/2)^nu / gamma(nu + 1) sum_k (s x^2 / 4)^k / (k! (nu + 1)_k), each element's terms
    until they are below 1e-17 of its sum (x > 0 or x = 0 with nu >= 0)."""
    nu = np.broadcast_to(nu, x.shape).astype(np.float64)
    small = nu < 170.0
    lead = np.where(
        small, 0.0, np.exp(nu * np.log(0.5 * x) - _lgamma(np.where(small, 1.0, nu + 1.0)).astype(np.float64))
    )
    lead = np.where(small, (0.5 * x) ** nu / _gamma(np.where(small, nu + 1.0, 1.0)).astype(np.float64), lead)
    q = s * 0.25 * x * x
    t, total = lead, lead
    live = np.ones(x.shape, bool)
    for k in range(1, 500):
        live &= np.abs(t) > 1e-17 * np.abs(total)
        if not live.any():
            break
        t = np.where(live, t * q / (k * (k + nu)), t)
        total = total + np.where(live, t, 0.0)
    return total


def _hankel_sums(x: np.ndarray, nu: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The Hankel expansion's terms at x > 0 summed by their index mod 4, up to the smallest
    or below 1e-18; and the first term left out."""
    mu = 4.0 * np.asarray(nu, np.float64) ** 2
    b = np.ones_like(x)
    prev = np.full_like(x, 2.0)
    left = np.zeros_like(x)
    live = np.ones(x.shape, bool)
    sums = [np.ones_like(x), np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)]
    for m in range(1, 200):
        b = b * (mu - (2.0 * m - 1.0) ** 2) / (8.0 * m * x)
        stop = live & ((np.abs(b) >= prev) | (np.abs(b) < 1e-18))
        left = np.where(stop, np.minimum(np.abs(b), prev), left)
        live &= ~stop
        if not live.any():
            break
        prev = np.where(live, np.abs(b), prev)
        sums[m & 3] = sums[m & 3] + np.where(live, b, 0.0)
    return sums, np.where(live, np.abs(b), left)


def _miller(f: np.ndarray, m: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """J_{f+m}(x) and J_{f+m+1}(x) by the downward recurrence from order
    max(m, x) + 30 + 2 sqrt(x), normalized by the Neumann series (as the C helper)."""
    top = np.maximum(m, x.astype(np.int64)) + 30 + (2.0 * np.sqrt(x)).astype(np.int64)
    n = top + (top & 1)
    gf = _gamma(1.0 + f).astype(np.float64)
    jp, j = np.zeros_like(x), np.ones_like(x)
    total, g = np.zeros_like(x), np.ones_like(x)
    a, b = np.zeros_like(x), np.zeros_like(x)
    for i in range(int(n.max(initial=2)), 0, -1):
        on = i <= n
        if i % 2 == 0:
            total = total + np.where(on, (f + i) * g * j, 0.0)
            if i > 2:
                g = np.where(on, g * (0.5 * i) / (f + 0.5 * i - 1.0), g)
        a = np.where(on & (m == i), j, a)
        b = np.where(on & (m + 1 == i), j, b)
        jn = np.where(on, (2.0 * (f + i) / x) * j - jp, j)
        jp = np.where(on, j, jp)
        j = jn
        big = np.abs(j) > 1e250
        if big.any():
            j, jp, total, a, b = (np.where(big, v * 1e-250, v) for v in (j, jp, total, a, b))
    a = np.where(m == 0, j, a)
    scale = (0.5 * x) ** f / (gf * j + (gf / g) * total)
    return a * scale, b * scale


def _far_j(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """J_nu(x) by the Hankel expansion; NaN where it leaves out a term above 1e-16."""
    ph = math.pi * np.fmod(0.5 * nu + 0.25, 2.0)
    s, left = _hankel_sums(x, nu)
    p, q = s[0] - s[2], s[1] - s[3]
    c, sn, cp, sp = np.cos(x), np.sin(x), np.cos(ph), np.sin(ph)
    out = (p * (c * cp + sn * sp) - q * (sn * cp - c * sp)) * np.sqrt(2.0 / (math.pi * x))
    return np.where(left > 1e-16, np.nan, out)


def _jv(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    v, x = np.broadcast_arrays(v, x)
    a = np.abs(x)
    whole = v == np.floor(v)
    nu = np.where(whole, np.abs(v), v)
    pole = np.copysign(np.inf, _gamma(np.where(nu < 0, nu + 1.0, 1.0)).astype(np.float64))
    special = [
        np.isnan(v) | np.isnan(x),
        np.isinf(v) | (~whole & (x < 0)),
        a == 0,
        a == np.inf,
    ]
    out = np.select(
        special, [v + x, np.nan, np.where(nu == 0, 1.0, np.where(nu > 0, 0.0, pole)), 0.0], np.nan
    )
    done = np.logical_or.reduce(special)
    negate = ~done & whole & (np.fmod(v, 2.0) != 0) & ((v < 0) != (x < 0))
    near = ~done & ((a < 2.0) | (0.25 * a * a <= np.abs(nu) + 1.0))
    out[near] = _series(nu[near], a[near], -1.0)
    done |= near | ~(np.abs(nu) <= 1e4)  # larger orders beyond the series: NaN
    far = ~done & (a >= _FAR)
    out[far] = _far_j(nu[far], a[far])
    done |= far & ~np.isnan(out)
    f = nu - np.floor(nu)
    up = ~done & (nu >= 0)
    out[up] = _miller(f[up], np.floor(nu[up]).astype(np.int64), a[up])[0]
    down = ~done & (nu < 0)
    j0, j1 = _miller(f[down], np.zeros(down.sum(), np.int64), a[down])
    steps = -np.floor(nu[down]).astype(np.int64)
    for k in range(int(steps.max(initial=0))):
        jm = (2.0 * (f[down] - k) / a[down]) * j0 - j1
        j0, j1 = np.where(k < steps, jm, j0), np.where(k < steps, j0, j1)
    out[down] = j0
    return np.where(negate, -out, out)


def _bessel_ie(a: np.ndarray, nu: int) -> np.ndarray:
    out = np.empty_like(a)
    near = a < _FAR
    out[near] = _series(nu, a[near], 1.0) * np.exp(-a[near])
    s = _hankel_sums(a[~near], nu)[0]
    out[~near] = (s[0] - s[1] + s[2] - s[3]) / np.sqrt(2 * math.pi * a[~near])
    return out


def _bessel_i(a: np.ndarray, nu: int) -> np.ndarray:
    # exp(a) in two halves, so the product is finite wherever I is
    near = a < _FAR
    h = np.exp(0.5 * a)
    far = np.where(np.isinf(a), np.inf, h * (_bessel_ie(np.where(near, _FAR, a), nu) * h))
    a = np.where(near, a, 0.0)
    return np.where(near, _series(nu, a, 1.0), far)


def _exp_sqr(x: np.ndarray) -> np.ndarray:
    # exp(x^2) with x^2's rounding error taken back: x = xh + xl with xh of 26 bits, so
    # xh^2 and 2 xh xl are exact and hi + lo is x^2 to within xl^2 (as fma in the C helper)
    xh = np.where(np.abs(x) < 1e150, (x * 134217729.0) - ((x * 134217729.0) - x), x)
    xl = x - xh
    hi = x * x
    lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl
    return np.where(hi > 710.0, np.inf, np.exp(hi) * (1.0 + lo))


def _erfcx(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    w = 0.5 / (a * a)
    t = np.ones_like(a)
    total = np.ones_like(a)
    for k in range(1, 16):
        t = t * -(2.0 * k - 1.0) * w
        total = total + t
    near = a < 12.0
    r = np.where(near, _exp_sqr(np.where(near, a, 0.0)) * np.asarray(_erfc(a), np.float64), 0.0)
    r = np.where(near, r, total / (a * math.sqrt(math.pi)))
    return np.where(x < 0, 2.0 * _exp_sqr(x) - r, r)


def _odd(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """f(|x|) given x's sign (-0 stays -0)."""
    return lambda x: np.where(x < 0, -f(np.abs(x)), np.where(x == 0, x, f(np.abs(x))))


def float_op(name: str, f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """f on the inputs broadcast and converted to float64, its result in the float type the C
    helpers give (float32 for float32 and float16 inputs)."""

    def op(*xs: np.ndarray) -> np.ndarray:
        xs = np.broadcast_arrays(*[np.asarray(x) for x in xs])
        dt = np.result_type(*xs, np.float16)
        dt = np.dtype(np.float32) if dt == np.float16 else dt
        with np.errstate(all="ignore"):
            out = f(*[np.atleast_1d(x.astype(np.float64)) for x in xs])
        return out.reshape(xs[0].shape).astype(dt)

    op.__name__ = name
    return op


erfcx = float_op("erfcx", _erfcx)
jv = float_op("jv", _jv)
j0 = float_op("j0", lambda x: _jv(np.zeros_like(x), x))
j1 = float_op("j1", lambda x: np.where(x == 0, x, _jv(np.ones_like(x), x)))  # -0 stays -0
i0 = float_op("i0", lambda x: _bessel_i(np.abs(x), 0))
i1 = float_op("i1", _odd(lambda a: _bessel_i(a, 1)))
i0e = float_op("i0e", lambda x: _bessel_ie(np.abs(x), 0))
i1e = float_op("i1e", _odd(lambda a: _bessel_ie(a, 1)))
