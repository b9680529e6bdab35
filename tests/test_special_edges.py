"""Special functions at the edges of their domains, against scipy.special (and PyTensor where
it defines the behaviour), compiled in C (FAST_RUN) and by the Python references
(FAST_COMPILE), in float64 and float32: the poles of gamma in ``poch beta betaln``, ``kn`` of a
non-integer order."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, numpy_errstate


def _assert_same(
    name: str, got: np.ndarray, want: np.ndarray, rtol: float, args: tuple, floor: float = 0.0
) -> None:
    """got is want: within rtol (relative to max(|want|, floor)), the same NaN, the same
    infinities and zeros with their signs."""
    got = got.astype(np.float64)
    with numpy_errstate():
        close = np.abs(got - want) <= rtol * np.maximum(np.abs(want), floor)
    same = (got == want) | close | (np.isnan(got) & np.isnan(want))
    same &= np.isnan(want) | (np.signbit(got) == np.signbit(want))
    bad = ~same
    assert not bad.any(), f"{name}{tuple(a[bad][:6] for a in args)} = {got[bad][:6]}, scipy {want[bad][:6]}"


#: Values a sum with an integer rounds onto a pole of gamma from (poch(1e-17, -3) was inf, not
#: the product 1 / ((z - 1)(z - 2)(z - 3)) = -1/6).
NEAR_POLES = [1e-300, -1e-300, 1e-17, -3e-17, 2 + 1e-15, -2 + 4e-16]


def _pole_grid() -> tuple[np.ndarray, np.ndarray]:
    """Pairs of the integers and half-integers from -6 to 6 (-0.0 included), where gamma of
    one argument, of the other or of their sum has a pole, and of values a sum rounds onto a
    pole from."""
    v = np.concatenate([np.arange(-6, 7.0), np.arange(-5.5, 6.0), [-0.0, 0.3, -2.7], NEAR_POLES])
    a, b = np.meshgrid(v, v)
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_poch_beta_betaln_at_the_poles_of_gamma(mode: str, dtype: str) -> None:
    """Each gave NaN where one of the gammas has a pole (poch(-3, 2) for 6, beta(-1, 1) for -1,
    beta(-1.5, -1.5) for 0, betaln(-1, -1) for inf); scipy's values, signs included."""
    a, b = (v.astype(dtype).astype(np.float64) for v in _pole_grid())  # scipy sees what we do
    x, y = ft.vector("x", dtype=dtype), ft.vector("y", dtype=dtype)
    outs = fc.function(
        [x, y], [ft.special.poch(x, y), ft.special.beta(x, y), ft.special.betaln(x, y)], mode=mode
    )(a.astype(dtype), b.astype(dtype))
    # float32's gammaln sums are accurate to an ulp of the terms, not of betaln near its zeros
    rtol, floor = (1e-13, 0.0) if dtype == "float64" else (1e-5, 1.0)
    with numpy_errstate():
        for name, got, ref in zip(
            ("poch", "beta", "betaln"), outs, (special.poch, special.beta, special.betaln)
        ):
            assert got.dtype == dtype, name
            want = ref(a, b)
            if name == "poch":  # the exact 0 where scipy's own sum rounds onto a pole (NaN)
                want[(a <= 0) & (a == np.floor(a)) & (b != np.floor(b))] = 0.0
            _assert_same(name, got, want, rtol, (a, b), floor)


@pytest.mark.parametrize("mode", MODES)
def test_kn_of_a_non_integer_order_is_pytensors(mode: str) -> None:
    """PyTensor's ``kn`` is ``kv`` of the order as given; scipy's truncates a non-integer order
    (with a RuntimeWarning). fncache follows PyTensor: kv(2.7, x), not kv(2, x)."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    orders = np.array([2.7, -2.7, 0.5, 3.0, 1e-3])
    xs = np.array([1.5, 0.3, 2.0, 4.0, 10.0])
    n, x = ft.dvector("n"), ft.dvector("x")
    got = fc.function([n, x], ft.kn(n, x), mode=mode)(orders, xs)
    pn, px = pt.dvector("n"), pt.dvector("x")
    theirs = pytensor.function([pn, px], pt.kn(pn, px), mode="FAST_COMPILE")(orders, xs)
    np.testing.assert_allclose(got, theirs, rtol=1e-12)
    np.testing.assert_allclose(got, special.kv(orders, xs), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        truncated = special.kn(orders, xs)
    assert not np.allclose(got[:2], truncated[:2])


#: erfcinv of subnormals and tiny normals, by mpmath (40 digits) from log erfc(x) = log y: scipy
#: itself gives inf at 5e-324 and is off by up to 2e-5 on the subnormals (3e-12 at 1e-315)
ERFCINV_TAIL = {
    5e-324: 27.21329321081295,
    1e-323: 27.200563366536258,
    2.288e-321: 27.100364445942972,
    3.07e-317: 26.924555794721684,
    1e-315: 26.859832753310737,
    1e-310: 26.644806559364763,
    2.2250738585072014e-308: 26.54325845425098,
    1e-300: 26.209469960516124,
}
#: the same for the float32 subnormals and tiny normals (the float32 inputs as doubles)
ERFCINV_TAIL32 = {
    1.401298464324817e-45: 10.019834265884624,
    1.1770907100328463e-43: 9.797371647811218,
    9.99994610111476e-41: 9.448790050366227,
    1.0000002153053333e-39: 9.326837087870516,
    1.1699999996735163e-38: 9.194802737232664,
    3.0000000565330046e-31: 8.221625614254547,
}


@pytest.mark.parametrize("mode", MODES)
def test_erfcinv_of_subnormals_keeps_its_digits(mode: str) -> None:
    """Newton's step on log erfc took erfc(x) itself, subnormal there: 4.6e-7 relative error at
    2.3e-321 in float64, 2.7e-5 at 1.2e-43 in float32. Now within 2 ulps (float64) and the
    correctly rounded value (float32)."""
    y, y32 = ft.dvector("y"), ft.fvector("y")
    f = fc.function([y, y32], [ft.erfcinv(y), ft.erfcinv(y32)], mode=mode)
    ys, ys32 = np.array(list(ERFCINV_TAIL)), np.array(list(ERFCINV_TAIL32), np.float32)
    got, got32 = f(ys, ys32)
    np.testing.assert_allclose(got, list(ERFCINV_TAIL.values()), rtol=3e-16)
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, np.array(list(ERFCINV_TAIL32.values()), np.float32))


#: betainc(a, b, x) for a small b (or a), by mpmath (50 digits): scipy's is wrong where a is tiny too
#: (4.5e-302 for 1e-40 at a = 1e-260, b = 1e-300, x = 0.9)
BETAINC_TINY_B = {
    (1.0, 1e-300, 0.9): 2.302585092994046e-300,
    (0.5, 1e-300, 0.999): 8.293549452497793e-300,
    (5.0, 1e-300, 0.9): 5.9056009299404584e-301,
    (1e-9, 1e-300, 0.9): 1.0000000021972245e-291,
    (1e-260, 1e-300, 0.9): 1.0000000000000001e-40,
    (2.0, 1e-17, 0.7): 5.0397280432593593e-18,
    (1.0, 1e-10, 0.9): 2.302585092728951e-10,
    (2.0, 1e-06, 0.99): 3.615164141316133e-06,
    (30.0, 1e-3, 0.999): 0.0029712534198958838,
    (0.5, 0.05, 0.999): 0.33691027084974884,
    (1e-3, 1e-8, 0.7): 1.0008360354695338e-05,
    (0.2, 1e-12, 0.999999999999): 3.234286746904787e-11,
    (1e-300, 1e-9, 0.2): 1.0,
}


@pytest.mark.parametrize("mode", MODES)
def test_betainc_of_a_small_shape_and_its_range(mode: str) -> None:
    """For a small b, I_x(a, b) is small, and above the mean 1 - I_{1-x}(b, a) cancelled:
    betainc(1, 1e-300, 0.9) was -2.8e-14, (0.5, 1e-300, 0.999) NaN, (1, 1e-10, 0.9) 2.30258231e-10
    for 2.30258509e-10; near 1 for a tiny a the value was off by 1e-13. Every value of a
    tiny-shape grid lies in [0, 1] (it was 1 + 2e-14 at a = 1e-300, b = 1e-180), float64 and
    float32."""
    a, b, x = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    f = fc.function([a, b, x], ft.betainc(a, b, x), mode=mode)
    args = np.array(list(BETAINC_TINY_B)).T
    np.testing.assert_allclose(f(*args), list(BETAINC_TINY_B.values()), rtol=1e-13)
    shapes = np.concatenate([np.logspace(-300, -20, 8), np.logspace(-16, 0, 9), [2.0, 30.0, 1e3]])
    xs = np.concatenate([np.logspace(-300, -1, 6), [0.5, 0.9], 1 - np.logspace(-16, -1, 6)])
    grid = [v.ravel() for v in np.meshgrid(shapes, shapes, xs, indexing="ij")]
    a32, b32, x32 = ft.fvector("a"), ft.fvector("b"), ft.fvector("x")
    f32 = fc.function([a32, b32, x32], ft.betainc(a32, b32, x32), mode=mode)
    grid32 = [g.astype(np.float32) for g in grid]
    with numpy_errstate():
        for got, (ga, gb, _) in ((f(*grid), grid), (f32(*grid32), grid32)):
            outside = (got < 0) | (got > 1) | (np.isnan(got) & ((ga > 0) | (gb > 0)))
            assert not outside.any(), [g[outside][:4] for g in grid]


@pytest.mark.parametrize("mode", MODES)
def test_betaincinv_of_a_tiny_b(mode: str) -> None:
    """The start of betaincinv(1, 1e-300, 1e-300) rounded to 1 and stayed there; for a = 1 the
    inverse is 1 - (1 - y)**(1 / b) exactly (and scipy's elsewhere)."""
    a, b, y = ft.dvector("a"), ft.dvector("b"), ft.dvector("y")
    f = fc.function([a, b, y], ft.betaincinv(a, b, y), mode=mode)
    bs = np.array([1e-300, 1e-300, 1e-300, 1e-20, 1e-17])
    ys = np.array([1e-300, 3e-299, 1e-302, 1e-25, 1e-18])
    np.testing.assert_allclose(f(np.ones(5), bs, ys), -np.expm1(np.log1p(-ys) / bs), rtol=1e-14)
    shapes, bs, ys = (
        np.array([5.0, 0.5, 2.0]),
        np.array([1e-300, 1e-200, 1e-17]),
        np.array([3e-300, 1e-205, 1e-18]),
    )
    np.testing.assert_allclose(f(shapes, bs, ys), special.betaincinv(shapes, bs, ys), rtol=1e-13)
