"""Scalar ops for the numpy ufuncs beyond the core table of :mod:`scalar_ops`: inverse
hyperbolics, ``arctan2 hypot fmod copysign nextafter``, ``trunc isfinite signbit exp2 deg2rad
rad2deg reciprocal square``, the shifts, ``logaddexp``, the complex parts ``real imag conj
angle`` and their inverse ``complex``, the special functions numpy lacks (``erfc erfinv erfcinv gammaln gamma``: the Python
linker computes them with Python's ``math`` module, erfinv and erfcinv by the C helper's
algorithm; ``erfcx`` and the Bessel functions ``jv j0 j1 i0 i1 i0e i1e`` by their C helpers'
algorithms in :mod:`special_reference`; the incomplete gamma and beta functions ``gammainc
gammaincc gammaincinv gammainccinv betainc betaincinv`` and the derivatives in their shape parameters
``gammainc_da betainc_da betainc_db`` in :mod:`gamma_reference`; the Bessel functions ``iv ive kv
kve yv`` and ``owens_t`` by their C helpers' algorithms in :mod:`special_reference`), ``cbrt
logaddexp2 ldexp``, ``frexp``'s two parts and rounding half away from zero.

Importing this module registers the ops in ``scalar_ops.SCALAR_OPS`` (``scalar_ops`` imports it
last), so they fuse, key, pickle and render in C and CUDA exactly like the core ones. Their C
helpers are ``FC_MATH_HELPERS`` / ``FC_INT_MATH_HELPERS`` in ``fncache/codegen/prelude.h``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from . import special_reference
from .scalar_ops import SCALAR_OPS, ScalarOp

__all__ = ["MATH_OPS", "erfinv_reference", "erfcinv_reference"]


def _float_result(x: np.ndarray) -> np.dtype:
    """The float dtype a transcendental gives for ``x`` (float16 made float32, as fncache does)."""
    dt = np.result_type(np.asarray(x), np.float16)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _from_math(fn: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    """A numpy function applying ``fn`` from Python's math module elementwise (float64 inside)."""
    vec = np.frompyfunc(fn, 1, 1)

    def f(x: np.ndarray) -> np.ndarray:
        dt = _float_result(x)
        out = np.asarray(vec(np.asarray(x).astype(np.float64)), dtype=np.float64)
        return out.astype(dt)

    f.__name__ = fn.__name__
    return f


def _gamma(x: float) -> float:
    # math.gamma raises where C's tgamma returns: +-inf at +-0, NaN at the negative integers
    # and -inf, +-inf past the float range (1 / x for a tiny x)
    try:
        return math.gamma(x)
    except ValueError:
        return math.copysign(math.inf, x) if x == 0 else math.nan
    except OverflowError:  # past the float range: +inf, or -inf for a tiny negative x
        return math.copysign(math.inf, x)


def _reciprocal(x: np.ndarray) -> np.ndarray:
    # numpy's integer reciprocal of 0 is whatever converting inf to an integer gives on the
    # platform (INT_MIN on x86-64 for 32/64-bit ints, 0 for smaller ones); fncache gives 0.
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        r = np.reciprocal(x)
    if x.dtype.kind in "biu":
        r = np.where(x == 0, np.zeros((), r.dtype), r)
    return r


def _ldexp(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """numpy's ldexp; the exponent may arrive converted to the float compute type (as in C),
    and is clamped as the C helper clamps it."""
    return np.ldexp(x, np.clip(np.asarray(e), -4000, 4000).astype(np.int32))


def _complex(re: np.ndarray, im: np.ndarray) -> np.ndarray:
    """The complex numbers of the parts ``re`` and ``im`` (real): each part stored as it is (an
    infinite part leaves the other alone, where ``re + 1j * im`` would make a NaN), in the
    smallest complex type that holds both (numpy's promotion with complex64)."""
    re, im = np.asarray(re), np.asarray(im)
    out = np.empty(np.broadcast_shapes(re.shape, im.shape), np.result_type(re.dtype, im.dtype, np.complex64))
    out.real, out.imag = re, im
    return out


def _round_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (C's round): x - trunc(x) is exact, so halves are found
    exactly (floor(|x| + 0.5) would round 0.49999999999999994 up)."""
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return x.copy()
    t = np.trunc(x)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(x.dtype)


_erf64 = np.frompyfunc(math.erf, 1, 1)
_erfc64 = np.frompyfunc(math.erfc, 1, 1)


def _erfc_tail_newton(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """One Newton step on log erfc(x) = log(c) with log erfc(x) = log(erfcx(x)) - x**2: the C
    helper ``fc_erfc_tail_newton`` (erfc(x) itself is subnormal for the smallest c)."""
    r = special_reference.erfcx(x)
    return x + (np.log(r) - x * x - np.log(c)) * r * 0.8862269254527580


def _erfinv_core(a: np.ndarray, c: np.ndarray, steps: int) -> np.ndarray:
    """x >= 0 with erf(x) = a, given c = 1 - a exactly: the C helper ``fc_erfinv_core``."""
    with np.errstate(all="ignore"):
        w = -np.log(c * (1 + a))
        lo, hi = w - 2.5, np.sqrt(w) - 3
        p_lo = np.polyval(
            [
                2.81022636e-08,
                3.43273939e-07,
                -3.5233877e-06,
                -4.39150654e-06,
                0.00021858087,
                -0.00125372503,
                -0.00417768164,
                0.246640727,
                1.50140941,
            ],
            lo,
        )
        p_hi = np.polyval(
            [
                -0.000200214257,
                0.000100950558,
                0.00134934322,
                -0.00367342844,
                0.00573950773,
                -0.0076224613,
                0.00943887047,
                1.00167406,
                2.83297682,
            ],
            hi,
        )
        x = np.where(w < 5, p_lo, p_hi) * a
        # the far tail (erfcinv only): from erfc's asymptotic form, by fixed-point steps
        lc = -np.log(c)
        far = np.sqrt(lc)
        for _ in range(2):
            far = np.sqrt(lc - np.log(1.7724538509055160 * far))
        x = np.where(c < 1e-16, far, x)
        for _ in range(steps):
            xs = np.nan_to_num(x)
            d = 1.1283791670955126 * np.exp(-x * x)
            e = np.asarray(_erfc64(xs), dtype=np.float64)
            u = (np.asarray(_erf64(xs), dtype=np.float64) - a) / d
            newton = np.where(d > 0, x + (np.log(e) - np.log(c)) * e / d, x)
            x = np.where(c < 1e-16, _erfc_tail_newton(xs, c), np.where(a < 0.5, x - u / (1 + x * u), newton))
        return np.where(c > 0, x, np.where(c == 0, np.inf, np.nan))


def erfinv_reference(y: np.ndarray) -> np.ndarray:
    """The inverse error function, by the algorithm of the C helper ``fc_erfinv``: Giles's
    single-precision rational start, then Halley steps on erf (below 0.5) or Newton
    steps on log erfc (above)."""
    dt = _float_result(y)
    y = np.asarray(y).astype(np.float64)
    a = np.abs(y)
    # as the C helper: 4 steps for double, 2 for float
    return np.copysign(_erfinv_core(a, 1 - a, dt.itemsize // 2), y).astype(dt)


def erfcinv_reference(y: np.ndarray) -> np.ndarray:
    """The inverse complementary error function, by the C helper ``fc_erfcinv``'s algorithm:
    erfinv(1 - y) with 1 - y known exactly (from y) below 1, -erfinv(y - 1) above."""
    dt = _float_result(y)
    y = np.asarray(y).astype(np.float64)
    below = y < 1
    a = np.where(below, 1 - y, y - 1)
    x = _erfinv_core(a, np.where(below, y, 2 - y), dt.itemsize // 2)
    return np.where(below, x, -x).astype(dt)


def _gamma_reference(name: str) -> Callable[..., np.ndarray]:
    """The Python version of a C helper of the incomplete gamma / beta family, its module
    loaded on the first call (``import fncache`` does not load it)."""

    def f(*xs: np.ndarray) -> np.ndarray:
        from . import gamma_reference

        return getattr(gamma_reference, name)(*xs)

    f.__name__ = name
    return f


MATH_OPS: list[ScalarOp] = [
    ScalarOp("arctan2", 2, np.arctan2, "fc_atan2_$T($0, $1)", compute="float"),
    ScalarOp("hypot", 2, np.hypot, "fc_hypot_$T($0, $1)", compute="float"),
    ScalarOp("fmod", 2, np.fmod, "fc_fmod_$T($0, $1)"),
    ScalarOp("copysign", 2, np.copysign, "fc_copysign_$T($0, $1)", compute="float"),
    ScalarOp("nextafter", 2, np.nextafter, "fc_nextafter_$T($0, $1)", compute="float"),
    ScalarOp("logaddexp", 2, np.logaddexp, "fc_logaddexp_$T($0, $1)", compute="float"),
    ScalarOp("lshift", 2, np.left_shift, "fc_lshift_$T($0, $1)"),
    ScalarOp("rshift", 2, np.right_shift, "fc_rshift_$T($0, $1)"),
    ScalarOp("arcsinh", 1, np.arcsinh, "fc_asinh_$T($0)", compute="float"),
    ScalarOp("arccosh", 1, np.arccosh, "fc_acosh_$T($0)", compute="float"),
    ScalarOp("arctanh", 1, np.arctanh, "fc_atanh_$T($0)", compute="float"),
    ScalarOp("exp2", 1, np.exp2, "fc_exp2_$T($0)", compute="float"),
    ScalarOp("deg2rad", 1, np.deg2rad, "fc_deg2rad_$T($0)", compute="float"),
    ScalarOp("rad2deg", 1, np.rad2deg, "fc_rad2deg_$T($0)", compute="float"),
    ScalarOp("erfc", 1, _from_math(math.erfc), "fc_erfc_$T($0)", compute="float"),
    ScalarOp("erfinv", 1, erfinv_reference, "fc_erfinv_$T($0)", compute="float"),
    ScalarOp("erfcinv", 1, erfcinv_reference, "fc_erfcinv_$T($0)", compute="float"),
    ScalarOp("gammaln", 1, _from_math(special_reference.c_lgamma), "fc_gammaln_$T($0)", compute="float"),
    ScalarOp("gamma", 1, _from_math(_gamma), "fc_gamma_$T($0)", compute="float"),
    ScalarOp("jv", 2, special_reference.jv, "fc_jv_$T($0, $1)", compute="float"),
    *(
        ScalarOp(name, 2, getattr(special_reference, name), f"fc_{name}_$T($0, $1)", compute="float")
        for name in ("iv", "ive", "kv", "kve", "yv", "owens_t")
    ),
    *(
        ScalarOp(name, 1, getattr(special_reference, name), f"fc_{name}_$T($0)", compute="float")
        for name in ("erfcx", "j0", "j1", "i0", "i1", "i0e", "i1e")
    ),
    *(
        ScalarOp(name, 2, _gamma_reference(name), f"fc_{name}_$T($0, $1)", compute="float")
        for name in ("gammainc", "gammaincc", "gammainc_da", "gammaincinv", "gammainccinv")
    ),
    *(
        ScalarOp(name, 3, _gamma_reference(name), f"fc_{name}_$T($0, $1, $2)", compute="float")
        for name in ("betainc", "betainc_da", "betainc_db", "betaincinv")
    ),
    ScalarOp("cbrt", 1, np.cbrt, "fc_cbrt_$T($0)", compute="float"),
    ScalarOp("logaddexp2", 2, np.logaddexp2, "fc_logaddexp2_$T($0, $1)", compute="float"),
    ScalarOp("ldexp", 2, _ldexp, "fc_ldexp_$T($0, $1)", compute="float"),
    ScalarOp("frexp_mantissa", 1, lambda x: np.frexp(x)[0], "fc_frexp_mantissa_$T($0)", compute="float"),
    ScalarOp("frexp_exponent", 1, lambda x: np.frexp(x)[1], "fc_frexp_exponent_$T($0)", compute="float"),
    ScalarOp("round_half_away_from_zero", 1, _round_away, "fc_round_$T($0)", c_int="$0", c_bool="$0"),
    ScalarOp("trunc", 1, np.trunc, "fc_trunc_$T($0)", c_int="$0", c_bool="$0"),
    ScalarOp("square", 1, np.square, "($0 * $0)", c_bool="$0"),
    ScalarOp("reciprocal", 1, _reciprocal, "(1 / $0)", c_int="fc_reciprocal_$T($0)"),
    # complex parts: the C expressions serve real inputs (complex values are computed by numpy)
    ScalarOp("real", 1, np.real, "$0"),
    ScalarOp("imag", 1, np.imag, "0"),
    ScalarOp("conj", 1, np.conjugate, "$0"),
    ScalarOp("angle", 1, np.angle, "fc_atan2_$T(0, $0)", compute="float"),
    # its output is complex, so numpy always computes it: the C expression is never rendered
    ScalarOp("complex", 2, _complex, "$0"),
    ScalarOp("isfinite", 1, np.isfinite, "fc_isfinite_$T($0)", c_int="1", c_bool="1", compute="common"),
    ScalarOp("signbit", 1, np.signbit, "fc_signbit_$T($0)", c_int="(($0) < 0)", c_bool="0", compute="common"),
]

for _op in MATH_OPS:
    assert _op.name not in SCALAR_OPS, _op.name
    SCALAR_OPS[_op.name] = _op
