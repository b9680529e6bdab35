"""A wide sweep of the special and elementwise math functions against scipy.special and numpy:
each function on grids that span the whole float64 range (subnormal, tiny, around 1, large, the
largest double, +-inf, NaN, negative arguments, the integers and half-integers where poles and
zeros sit), compiled in C (FAST_RUN) and run by the Python references (FAST_COMPILE), in float64
and float32; the result's dtype is scipy's, and NaN and the infinities fall where scipy's do.

The bound on the relative error of each function is in the table ``UNARY`` / ``BINARY``:
``rtol`` relative to the value, or to ``floor`` where the value is smaller (functions whose
zeros scipy, too, computes only to an absolute accuracy, such as gammaln near 1 and 2). Points
where scipy is itself wrong are left out of the comparison, each with the reason in ``SCIPY``
(fncache's value is the right one there; a test below checks some against mpmath's):

- ``gammaln`` of a subnormal: scipy gives inf, the value is -log(x) (about 744); at -inf C's
  ``lgamma`` (and fncache) give +inf, scipy -inf;
- ``erfcinv`` of a subnormal: scipy gives inf for the smallest and loses up to 2e-5 elsewhere
  (test_special_edges checks fncache's against mpmath's there);
- ``j0 j1`` past 1e5: scipy's lose digits (7e-11 at 2.5e6, 0.067 at 2.1e14, where fncache's
  agree with mpmath's; a test below) and give NaN at +-inf, where the limit is 0;
- ``i0 i1`` at +-inf: scipy NaN, fncache +-inf (scipy's own ``iv(0, inf)`` is inf);
- ``psi`` and ``tri_gamma`` within 1e-3 of a pole: scipy's reflection loses the digits of x - n
  (1.5e-5 at -1 + 1.9e-12, where fncache gives -1 / (x + 1) to the last digit);
- ``gammaln`` near its zeros 1 and 2 is compared to 1e-15 absolute: scipy's and C's ``lgamma``
  (which fncache's is) are accurate to about 5e-16 absolute there, not relative;
- ``iv ive`` are compared for orders below 300 and x from 1e-5 to 1e4: below, scipy gives +inf
  or NaN for a negative order where the limit (x / 2)^v / gamma(v + 1) has the sign of
  gamma(v + 1) (fncache's), and 0 for iv(0.046, 1e-300) = 1.2e-14; past order 300 NaN where
  fncache's overflow to +-inf;
- ``kv kve`` of orders past 300: scipy overflows to inf before fncache does (3.5e305 at
  order -316, x = 24.9);
- ``owens_t`` for h past 8: scipy's are off by factors of 300 to 600 (3.9e-191
  for exp(-h^2 / 2) a / (2 pi) = 2.5e-188 at h = 25.1, a = 1e-50; 1.1e-122 for 3.4e-120 at
  h = -17.8, a = 1e-50);
- ``gammainc gammaincc`` are within 1e-12 of scipy's (8e-13 at a = 2154, x = 1000, a value
  of 2.7e-219: which of the two is nearer was not decided);
- ``polygamma`` of order 2 and 3 is compared for x > 0 only, ``tri_gamma`` for x > -1e4 (scipy's
  ``zeta`` does not return for some large negative arguments).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, numpy_errstate


def _unary_grid() -> np.ndarray:
    """Log-spaced magnitudes over the float64 range, both signs, and the special points."""
    mags = np.logspace(-323, 308, 160)
    near = np.concatenate(
        [1 + np.logspace(-16, -1, 8), 1 - np.logspace(-16, -1, 8), 2 + np.logspace(-16, -1, 8)]
    )
    special_points = [
        0.0,
        -0.0,
        np.inf,
        -np.inf,
        np.nan,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
    ]
    return np.concatenate(
        [mags, -mags, special_points, [-1.7976931348623157e308], np.arange(-6, 7.0), np.arange(-6.5, 7.0)]
        + [np.linspace(-30, 30, 61), near, -near, -3 + np.logspace(-12, -1, 6), -3 - np.logspace(-12, -1, 6)]
    )


def _binary_grid() -> tuple[np.ndarray, np.ndarray]:
    """The outer product of magnitudes from 1e-300 to 1e300 (sparse) and 1e-5 to 1e5 (dense),
    with their negatives, 0, -0, +-inf, NaN and a few negative integers."""
    base = np.concatenate(
        [
            np.logspace(-300, 300, 13),
            np.logspace(-5, 5, 31),
            [0.5, 1.0, 2.0, 3.0, 10.5, 24.9, 25.1],
            -np.logspace(-5, 5, 9),
            [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -2.0, -2.5],
        ]
    )
    a, b = np.meshgrid(base, base)
    return a.ravel(), b.ravel()


def _log1mexp(x: np.ndarray) -> np.ndarray:
    return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _positive(x: np.ndarray) -> np.ndarray:
    return x > 0


def _finite_below(limit: float) -> Callable[..., np.ndarray]:
    return lambda *xs: np.all([np.abs(x) < limit for x in xs], axis=0)


def _not_near_pole(x: np.ndarray) -> np.ndarray:
    with numpy_errstate():
        return ~((x < 0) & (np.abs(x - np.round(x)) < 1e-3 * np.maximum(1.0, np.abs(x))))


def _normal(x: np.ndarray) -> np.ndarray:
    return ~((x != 0) & (np.abs(x) < 2.2250738585072014e-308))


def _iv_compared(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (np.abs(v) < 300) & (np.abs(x) >= 1e-5) & (np.abs(x) < 1e4)


def _finite(x: np.ndarray) -> np.ndarray:
    return ~np.isinf(x)


#: name -> (fncache's function, the reference, rtol, floor, the points compared (None: all))
UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], float, float, Any]] = {
    "erf": (ft.erf, special.erf, 1e-15, 0.0, None),
    "erfc": (ft.erfc, special.erfc, 5e-15, 0.0, None),
    "erfcx": (ft.erfcx, special.erfcx, 5e-15, 0.0, None),
    "erfinv": (ft.erfinv, special.erfinv, 1e-15, 0.0, None),
    "erfcinv": (ft.erfcinv, special.erfcinv, 1e-13, 0.0, _normal),
    "gammaln": (ft.gammaln, special.gammaln, 1e-14, 0.1, lambda x: _normal(x) & (x != -np.inf)),
    "gamma": (ft.gamma, special.gamma, 1e-14, 0.0, None),
    "psi": (ft.psi, special.psi, 1e-13, 0.0, _not_near_pole),
    "tri_gamma": (
        ft.tri_gamma,
        lambda x: special.polygamma(1, x),
        1e-13,
        0.0,
        lambda x: _not_near_pole(x) & (x > -1e4),
    ),
    "polygamma2": (lambda x: ft.polygamma(2, x), lambda x: special.polygamma(2, x), 1e-13, 0.0, _positive),
    "polygamma3": (lambda x: ft.polygamma(3, x), lambda x: special.polygamma(3, x), 1e-13, 0.0, _positive),
    "j0": (ft.j0, special.j0, 1e-13, 1e-16, _finite_below(1e5)),
    "j1": (ft.j1, special.j1, 1e-13, 1e-16, _finite_below(1e5)),
    "i0": (ft.i0, special.i0, 1e-14, 0.0, _finite),
    "i1": (ft.i1, special.i1, 1e-14, 0.0, lambda x: _finite(x) & _normal(x)),
    "i0e": (ft.i0e, special.i0e, 1e-14, 0.0, None),
    "i1e": (ft.i1e, special.i1e, 1e-14, 0.0, _normal),
    "expit": (ft.expit, special.expit, 1e-15, 0.0, None),
    "softplus": (ft.softplus, lambda x: np.logaddexp(0.0, x), 1e-15, 0.0, None),
    "log1pexp": (ft.log1pexp, lambda x: np.logaddexp(0.0, x), 1e-15, 0.0, None),
    "log1mexp": (ft.log1mexp, _log1mexp, 1e-15, 0.0, None),
    "xlogx": (ft.xlogx, lambda x: special.xlogy(x, x), 1e-15, 0.0, None),
    "logit": (ft.logit, special.logit, 1e-15, 0.0, None),
    "sinc": (ft.sinc, np.sinc, 1e-15, 0.0, None),
    "factorial": (ft.special.factorial, lambda x: special.factorial(x, exact=False), 1e-14, 0.0, None),
    "cbrt": (ft.cbrt, np.cbrt, 1e-15, 0.0, None),
}

#: as UNARY, for two arguments
BINARY: dict[str, tuple[Callable[[Any, Any], Any], Callable[..., np.ndarray], float, float, Any]] = {
    "xlogy": (ft.xlogy, special.xlogy, 1e-15, 0.0, None),
    "xlog1py": (ft.xlog1py, special.xlog1py, 1e-15, 0.0, None),
    "gammainc": (ft.gammainc, special.gammainc, 1e-12, 1e-300, lambda a, x: _normal(a) & _normal(x)),
    "gammaincc": (ft.gammaincc, special.gammaincc, 1e-12, 1e-300, lambda a, x: _normal(a) & _normal(x)),
    "chi2sf": (
        ft.chi2sf,
        lambda x, k: special.chdtrc(k, x),
        1e-11,
        1e-300,
        lambda x, k: _normal(x) & _normal(k),
    ),
    "logaddexp": (ft.logaddexp, np.logaddexp, 1e-15, 1e-15, None),
    "kv": (ft.kv, special.kv, 1e-12, 1e-300, lambda v, x: _finite_below(1e4)(x) & (np.abs(v) < 300)),
    "kve": (ft.kve, special.kve, 1e-12, 1e-300, lambda v, x: _finite_below(1e4)(x) & (np.abs(v) < 300)),
    "iv": (
        ft.iv,
        special.iv,
        1e-12,
        1e-300,
        lambda v, x: _iv_compared(v, x),
    ),
    "ive": (
        ft.ive,
        special.ive,
        1e-12,
        1e-300,
        lambda v, x: _iv_compared(v, x),
    ),
    "owens_t": (
        ft.owens_t,
        special.owens_t,
        1e-13,
        1e-300,
        lambda h, a: np.abs(h) < 8,
    ),
}


#: (rtol, floor) in float32 where it is not an ulp of float32: the functions composed from
#: elementwise ops compute in float32 (psi and tri_gamma's recurrence cancels a few digits near
#: psi's zero, sinc's sin(pi x) is absolute), erfcinv's float32 helper is a float algorithm
FLOAT32 = {
    "psi": (2e-5, 1.0),
    "tri_gamma": (2e-6, 0.0),
    "polygamma2": (2e-6, 0.0),
    "polygamma3": (2e-6, 0.0),
    "sinc": (1e-7, 1.0),
    "erfcinv": (1e-6, 0.0),
    "logaddexp": (5e-7, 0.0),
}


def _mismatch(
    name: str, got: np.ndarray, want: np.ndarray, rtol: float, floor: float, args: tuple
) -> str | None:
    """Why got is not want: beyond rtol (relative to max(|want|, floor)), or NaN or an infinity
    where want has none (or the reverse). Values both below the smallest normal double are
    equal (scipy's underflow thresholds are not fncache's)."""
    got = got.astype(np.float64)
    bad = (np.isnan(got) != np.isnan(want)) | (
        (np.isinf(want) | np.isinf(got)) & (got != want) & ~np.isnan(want)
    )
    if bad.any():
        return f"{name}{tuple(a[bad][:4] for a in args)} = {got[bad][:4]}, scipy {want[bad][:4]}"
    keep = np.isfinite(want) & (np.maximum(np.abs(got), np.abs(want)) >= 2.2250738585072014e-308)
    with numpy_errstate():
        err = np.where(keep, np.abs(got - want) / np.maximum(np.abs(want), floor), 0.0)
    worst = int(np.argmax(err)) if err.size else 0
    if err.size and err[worst] > rtol:
        return (
            f"{name}{tuple(a[worst] for a in args)} = {got[worst]!r}, scipy {want[worst]!r} "
            f"(relative error {err[worst]:.3g} > {rtol})"
        )
    return None


def _sweep(table: dict, mode: str, dtype: str, args: tuple) -> None:
    """Every function of ``table`` on ``args`` (one compiled function), each against its
    reference at the points it is compared at."""
    with numpy_errstate():  # the float32 grid: the doubles past its range become +-inf
        args = tuple(a.astype(dtype) for a in args)
    vs = [ft.vector(f"x{i}", dtype=dtype) for i in range(len(args))]
    names = sorted(table)
    outs = fc.function(vs, [table[n][0](*vs) for n in names], mode=mode)(*args)
    errors = []
    for name, got in zip(names, outs):
        _, ref, rtol, floor, where = table[name]
        keep = np.ones(got.shape, bool) if where is None else where(*(a.astype(np.float64) for a in args))
        kept = tuple(a[keep] for a in args)
        with numpy_errstate():
            want = np.asarray(ref(*(a.astype(np.float64) for a in kept)), np.float64)
            want_dtype = np.asarray(ref(*(a[:1] for a in kept))).dtype
        # scipy's Python-level functions (polygamma, factorial) give float64 for float32
        expected = want_dtype if isinstance(ref, np.ufunc) else np.dtype(dtype)
        if got.dtype != expected:
            errors.append(f"{name}: {got.dtype} for {dtype}, scipy {want_dtype}")
        if dtype == "float32":
            # computed in double and rounded once: within an ulp of float32 of the exact value,
            # and the float32 range decides which values overflow and underflow
            with numpy_errstate():
                want = want.astype(np.float32).astype(np.float64)
            tiny = np.abs(want) < 1e3 * np.finfo(np.float32).tiny
            got32 = got[keep].astype(np.float64)
            rtol32, floor32 = FLOAT32.get(name, (2.4e-7, 1e-37))
            message = _mismatch(
                name, np.where(tiny, 0.0, got32), np.where(tiny, 0.0, want), rtol32, max(floor, floor32), kept
            )
        else:
            message = _mismatch(name, got[keep], want, rtol, floor, kept)
        if message:
            errors.append(message)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_unary_functions_match_scipy_over_the_float64_range(mode: str, dtype: str) -> None:
    _sweep(UNARY, mode, dtype, (_unary_grid(),))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_binary_functions_match_scipy_over_the_float64_range(mode: str, dtype: str) -> None:
    _sweep(BINARY, mode, dtype, _binary_grid())


@pytest.mark.parametrize("mode", MODES)
def test_gammainc_gradient_in_the_shape_for_huge_shapes(mode: str) -> None:
    """d gammainc / da by the derivative of Temme's expansion: the series and continued
    fraction's derivatives ran out of steps past a ~ 1e9 (-1.6e-6 for -4.0e-6 at a = x = 1e10,
    NaN at 1e20). Against scipy's values by Richardson-extrapolated central differences, and at
    x = a past 1e10 against the leading term -1 / sqrt(2 pi a)."""
    a, x = ft.dvector("a"), ft.dvector("x")
    f = fc.function([a, x], ft.grad(ft.sum(ft.gammainc(a, x)), a), mode=mode)
    shapes = np.array([25.0, 30.0, 30.0, 1e3, 1e6, 1e7, 1e8, 1e8, 1e9, 1e10, 1e12, 1e15])
    xs = shapes * np.array([1.2, 0.75, 1.29, 1.001, 1.0, 0.999, 0.9999, 1.0001, 1.00001, 1.0, 1.0, 1 + 1e-7])
    got = f(shapes, xs)
    h = 1e-2 * np.sqrt(shapes)
    d1 = (special.gammainc(shapes + h, xs) - special.gammainc(shapes - h, xs)) / (2 * h)
    d2 = (special.gammainc(shapes + 2 * h, xs) - special.gammainc(shapes - 2 * h, xs)) / (4 * h)
    np.testing.assert_allclose(got, (4 * d1 - d2) / 3, rtol=1e-7)
    huge = np.array([1e10, 1e14, 1e20, 1e30])
    np.testing.assert_allclose(f(huge, huge), -1 / np.sqrt(2 * np.pi * huge), rtol=1e-9)


@pytest.mark.parametrize("mode", MODES)
def test_values_at_the_ends_of_the_range(mode: str) -> None:
    """Each was wrong: I_0 and I_1 of the largest doubles NaN (exp(x / 2) = inf times an
    underflowed scaled value), their scaled forms 0 there (2 pi x overflowed), erfcx of the
    largest double 0 (x sqrt(pi) overflowed), Owen's T NaN for a huge h or a h (h^2 / 2
    overflowed), and gammainccinv of a tiny shape -inf (its start's 1 - t rounded to 0; a
    ZeroDivisionError in the Python reference)."""
    x = ft.dvector("x")
    big = np.array([1e17, 1e20, 1e200, 1e308, 1.7976931348623157e308])
    f = fc.function([x], [ft.i0(x), ft.i1(-x), ft.i0e(x), ft.i1e(x), ft.erfcx(x)], mode=mode)
    i0, i1, i0e, i1e, erfcx = f(big)
    assert (i0 == np.inf).all() and (i1 == -np.inf).all()
    np.testing.assert_allclose(i0e, 1 / np.sqrt(2 * np.pi) / np.sqrt(big), rtol=1e-15)
    np.testing.assert_allclose(i1e, 1 / np.sqrt(2 * np.pi) / np.sqrt(big), rtol=1e-15)
    np.testing.assert_allclose(erfcx, special.erfcx(big), rtol=1e-15)
    h, a = ft.dvector("h"), ft.dvector("a")
    t = fc.function([h, a], ft.owens_t(h, a), mode=mode)
    hs = np.array([4.8e173, 1e300, 41.0, 1e-5, 1e-16, 0.5])
    as_ = np.array([1e-300, 0.5, 2.0, 4.8e173, 1e300, 1e200])
    np.testing.assert_allclose(t(hs, as_), special.owens_t(hs, as_), rtol=1e-14, atol=0)
    q = ft.dvector("q")
    inv = fc.function([a, q], ft.gammainccinv(a, q), mode=mode)
    shapes = np.array([1e-300, 1e-200, 1e-100, 1e-20])
    qs = np.array([1e-300, 1e-200, 1e-100, 1e-20])
    np.testing.assert_allclose(inv(shapes, qs), special.gammainccinv(shapes, qs), rtol=1e-12)


def test_j0_j1_of_large_arguments_against_mpmath() -> None:
    """Where scipy's j0 and j1 lose digits (the sweep compares them with scipy below 1e5 only)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs = np.array([2454353.458646543, 212345970974839.78, 3e9, 1.5e16])
    x = ft.dvector("x")
    j0, j1 = fc.function([x], [ft.j0(x), ft.j1(x)])(xs)
    np.testing.assert_allclose(j0, [float(mpmath.besselj(0, v)) for v in xs], rtol=1e-13)
    np.testing.assert_allclose(j1, [float(mpmath.besselj(1, v)) for v in xs], rtol=1e-13)
