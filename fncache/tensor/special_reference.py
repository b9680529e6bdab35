"""numpy versions of the C helpers ``fc_erfcx fc_j0 fc_j1 fc_i0 fc_i1 fc_i0e fc_i1e`` of
``fncache/codegen/prelude.h``, by the same algorithms: the Python linker and constant folding
compute with them, so every backend gives the same values (to rounding). They compute in
float64 and give float32 for float32 and float16 inputs, as the C helpers do.

The algorithms (see the C helpers for why each is accurate where it is used): the power series
of J_nu and I_nu, Miller's backward recurrence for J0 / J1 between 2 and 25, the Hankel
asymptotic expansion from 25 on, and for erfcx exp(x^2) erfc(x) with x^2 split exactly below
12, the asymptotic series above.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["erfcx", "j0", "j1", "i0", "i1", "i0e", "i1e"]

#: from here on the Hankel expansion (FC_BESSEL_FAR in the C prelude)
_FAR = 25.0
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _series(x: np.ndarray, nu: int, s: float) -> np.ndarray:
    """sum_k (s x^2 / 4)^k / (k! (k + nu)!) until every term is below 1e-17 of its sum."""
    q = s * x * x * 0.25
    t = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 500):
        t = t * q / (k * (k + nu))
        total = total + t
        if not np.any(np.abs(t) > 1e-17 * np.abs(total)):
            break
    return total


def _hankel_sums(x: np.ndarray, nu: int) -> list[np.ndarray]:
    """The Hankel expansion's terms at x > 0 summed by their index mod 4, up to the smallest."""
    mu = 4.0 * nu * nu
    b = np.ones_like(x)
    prev = np.full_like(x, 2.0)
    live = np.ones(x.shape, bool)
    sums = [np.ones_like(x), np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)]
    for m in range(1, 200):
        b = b * (mu - (2.0 * m - 1.0) ** 2) / (8.0 * m * x)
        live &= (np.abs(b) < prev) & (np.abs(b) >= 1e-18)
        if not live.any():
            break
        prev = np.where(live, np.abs(b), prev)
        sums[m & 3] = sums[m & 3] + np.where(live, b, 0.0)
    return sums


def _miller(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """J0 and J1 at 2 <= x < 25 by the downward recurrence from order 2 (x // 2 + 25)."""
    n = 2 * ((0.5 * x).astype(np.int64) + 25)
    jp = np.zeros_like(x)
    j = np.ones_like(x)
    norm = np.zeros_like(x)
    for k in range(int(n.max(initial=2)), 1, -1):
        on = k <= n
        jm = np.where(on, (2.0 * k / x) * j - jp, j)
        jp = np.where(on, j, jp)
        j = jm
        if (k - 1) % 2 == 0:
            norm = norm + np.where(on, 2.0 * j, 0.0)
    j0 = (2.0 / x) * j - jp
    norm = norm + j0
    return j0 / norm, j / norm


def _far_j(x: np.ndarray, nu: int) -> np.ndarray:
    s = _hankel_sums(x, nu)
    p, q = s[0] - s[2], s[1] - s[3]
    c, sn = np.cos(x), np.sin(x)
    cw, sw = (sn - c, -(sn + c)) if nu else (c + sn, sn - c)
    return (p * cw - q * sw) / np.sqrt(math.pi * x)


def _bessel_j(a: np.ndarray, nu: int) -> np.ndarray:
    out = np.empty_like(a)
    near, mid = a < 2.0, (a >= 2.0) & (a < _FAR)
    far = ~(near | mid)
    out[near] = (0.5 * a[near] if nu else 1.0) * _series(a[near], nu, -1.0)
    out[mid] = _miller(a[mid])[nu]
    out[far] = np.where(np.isinf(a[far]), 0.0, _far_j(np.where(np.isinf(a[far]), 1.0, a[far]), nu))
    return out


def _bessel_ie(a: np.ndarray, nu: int) -> np.ndarray:
    out = np.empty_like(a)
    near = a < _FAR
    out[near] = (0.5 * a[near] if nu else 1.0) * _series(a[near], nu, 1.0) * np.exp(-a[near])
    s = _hankel_sums(a[~near], nu)
    out[~near] = (s[0] - s[1] + s[2] - s[3]) / np.sqrt(2 * math.pi * a[~near])
    return out


def _bessel_i(a: np.ndarray, nu: int) -> np.ndarray:
    # exp(a) in two halves, so the product is finite wherever I is
    near = a < _FAR
    h = np.exp(0.5 * a)
    far = np.where(np.isinf(a), np.inf, h * (_bessel_ie(np.where(near, _FAR, a), nu) * h))
    a = np.where(near, a, 0.0)
    return np.where(near, (0.5 * a if nu else 1.0) * _series(a, nu, 1.0), far)


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


def _float_op(name: str, f: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def op(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        dt = np.result_type(x, np.float16)
        dt = np.dtype(np.float32) if dt == np.float16 else dt
        with np.errstate(all="ignore"):
            out = f(np.atleast_1d(x.astype(np.float64)))
        return out.reshape(x.shape).astype(dt)

    op.__name__ = name
    return op


erfcx = _float_op("erfcx", _erfcx)
j0 = _float_op("j0", lambda x: _bessel_j(np.abs(x), 0))
j1 = _float_op("j1", _odd(lambda a: _bessel_j(a, 1)))
i0 = _float_op("i0", lambda x: _bessel_i(np.abs(x), 0))
i1 = _float_op("i1", _odd(lambda a: _bessel_i(a, 1)))
i0e = _float_op("i0e", lambda x: _bessel_ie(np.abs(x), 0))
i1e = _float_op("i1e", _odd(lambda a: _bessel_ie(a, 1)))
