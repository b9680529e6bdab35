"""The incomplete gamma and beta family ``gammainc gammaincc gammaincinv gammainccinv betainc
betaincinv``,
``erfcinv`` and the compositions ``gammau gammal chi2sf betaln tri_gamma`` against
scipy.special in both modes (float64 over wide ranges and at the special arguments, float32,
integers), fused into one C loop, their gradients (in the shape parameters too) by finite
differences, constant folding, the emulated CUDA device, pickling and a cache hit in a fresh
process.

Where the value is tiny (below 1e-20) the exponent of x^k e^-x is large and both fncache and
scipy lose up to ~|exponent| ulps in it, so the comparison there is looser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fncache.errors import NullTypeGradError
from fcutil import (
    MODES,
    assert_pickles_round_trip,
    assert_second_process_compiles_nothing,
    fd_check_grads,
    in_tests_dir,
    numpy_errstate,
)


def _shape_grid(n: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    return np.concatenate(
        [np.logspace(-1, 2, n), rng.uniform(0.1, 100, n), [0.5, 1.0, 2.0, 9.99, 10.0, 10.01, 100.0]]
    )


def _x_grid(n: int) -> np.ndarray:
    rng = np.random.default_rng(6)
    return np.concatenate(
        [np.logspace(-8, np.log10(200), n), rng.uniform(0, 200, n), [0.0, 1.0, 1.5, 2.0, 10.0, 200.0]]
    )


def _mesh(*axes: np.ndarray) -> list[np.ndarray]:
    return [m.ravel() for m in np.meshgrid(*axes)]


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float, what: str, *args: np.ndarray) -> float:
    """got against want relatively (rtol; 3x looser below 1e-20, values below 1e-290 not
    compared: scipy flushes them), NaN exactly where want has NaN; returns the worst error."""
    assert not (np.isnan(got) ^ np.isnan(want)).any(), (
        what,
        [a[np.isnan(got) ^ np.isnan(want)][:5] for a in args],
    )
    with numpy_errstate():
        same = (got == want) | np.isnan(want) | (np.abs(want) < 1e-290)
        err = np.where(same, 0.0, np.abs(got - want) / np.abs(want))
        err = np.where(np.abs(want) < 1e-20, err / 3, err)
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, (
        f"{what}{tuple(a[worst] for a in args)} = {got[worst]!r}, scipy {want[worst]!r}"
    )
    return float(err[worst])


@pytest.mark.parametrize("mode", MODES)
def test_incomplete_gamma_matches_scipy_in_float64(mode: str) -> None:
    n = 40 if mode == "FAST_RUN" else 12  # the Python linker's reference is a Python loop
    k, x = ft.dvector("k"), ft.dvector("x")
    f = fc.function(
        [k, x], [ft.gammainc(k, x), ft.gammaincc(k, x), ft.gammal(k, x), ft.gammau(k, x)], mode=mode
    )
    ks, xs = _mesh(_shape_grid(n), _x_grid(n))
    p, q, low, up = f(ks, xs)
    with numpy_errstate():
        assert_close(p, special.gammainc(ks, xs), 2e-13, "gammainc", ks, xs)
        assert_close(q, special.gammaincc(ks, xs), 2e-13, "gammaincc", ks, xs)
        assert_close(low, special.gammainc(ks, xs) * special.gamma(ks), 3e-13, "gammal", ks, xs)
        assert_close(up, special.gammaincc(ks, xs) * special.gamma(ks), 3e-13, "gammau", ks, xs)


@pytest.mark.parametrize("mode", MODES)
def test_inverse_incomplete_gamma_matches_scipy(mode: str) -> None:
    n = 30 if mode == "FAST_RUN" else 8
    k, y = ft.dvector("k"), ft.dvector("y")
    f = fc.function([k, y], [ft.gammaincinv(k, y), ft.gammainccinv(k, y)], mode=mode)
    ys = np.concatenate([np.linspace(0, 1, n + 1), np.logspace(-300, -1, n), 1 - np.logspace(-16, -1, n)])
    ks, ys = _mesh(_shape_grid(n), ys)
    inv, cinv = f(ks, ys)
    with numpy_errstate():
        assert_close(inv, special.gammaincinv(ks, ys), 2e-13, "gammaincinv", ks, ys)
        assert_close(cinv, special.gammainccinv(ks, ys), 2e-13, "gammainccinv", ks, ys)


@pytest.mark.parametrize("mode", MODES)
def test_incomplete_beta_and_betaln_match_scipy(mode: str) -> None:
    rng = np.random.default_rng(7)
    size = 6000 if mode == "FAST_RUN" else 600
    a, b = 10 ** rng.uniform(-1, 2, size), 10 ** rng.uniform(-1, 2, size)
    x = rng.uniform(0, 1, size)
    x[::3] = np.clip(np.abs(rng.normal(a / (a + b), 0.02)), 0, 1)[::3]  # near the mean
    x[1::7] = 10 ** rng.uniform(-12, -1, x[1::7].size)
    av, bv, xv = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    f = fc.function([av, bv, xv], [ft.betainc(av, bv, xv), ft.betaln(av, bv)], mode=mode)
    got, ln = f(a, b, x)
    assert_close(got, special.betainc(a, b, x), 2e-13, "betainc", a, b, x)
    np.testing.assert_allclose(ln, special.betaln(a, b), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("mode", MODES)
def test_inverse_incomplete_beta_matches_scipy(mode: str) -> None:
    """Both tails and the middle against scipy. In the far lower tail (y below ~1e-15) scipy's
    betaincinv fails for some shapes (NaN, or values off by orders of magnitude) where
    fncache's gives betainc(a, b, x) = y: there the round trip is checked (where x is a
    normal float)."""
    rng = np.random.default_rng(8)
    size = 6000 if mode == "FAST_RUN" else 500
    a, b, y = 10 ** rng.uniform(-1, 2, size), 10 ** rng.uniform(-1, 2, size), rng.uniform(0, 1, size)
    y[::4] = 10 ** rng.uniform(-15, -1, y[::4].size)
    y[1::4] = 1 - 10 ** rng.uniform(-16, -1, y[1::4].size)
    y[2::8] = 10 ** rng.uniform(-300, -15, y[2::8].size)
    av, bv, yv = ft.dvector("a"), ft.dvector("b"), ft.dvector("y")
    f = fc.function([av, bv, yv], ft.betaincinv(av, bv, yv), mode=mode)
    got = f(a, b, y)
    far = y < 1e-15
    assert_close(got[~far], special.betaincinv(a, b, y)[~far], 2e-13, "betaincinv", a[~far], b[~far], y[~far])
    normal = far & (got > 1e-290)
    assert normal.sum() > far.sum() / 2
    np.testing.assert_allclose(special.betainc(a, b, got)[normal], y[normal], rtol=5e-13)


@pytest.mark.parametrize("mode", MODES)
def test_erfcinv_tri_gamma_and_chi2sf_match_scipy(mode: str) -> None:
    y, x, k = ft.dvector("y"), ft.dvector("x"), ft.dvector("k")
    f = fc.function([y, x, k], [ft.erfcinv(y), ft.tri_gamma(x), ft.chi2sf(x, k)], mode=mode)
    ys = np.concatenate(
        [np.linspace(-0.5, 2.5, 3001), np.logspace(-300, 0, 301), 2 - np.logspace(-16, 0, 101)]
    )
    xs = np.concatenate(
        [np.linspace(-30.25, 200, ys.size - 7), [0.0, -1.0, -7.0, np.inf, -np.inf, 1e-300, np.nan]]
    )
    ks = np.resize(_shape_grid(20), ys.size)
    inv, tri, sf = f(ys, xs, ks)
    with numpy_errstate():
        assert_close(inv, special.erfcinv(ys), 2e-15, "erfcinv", ys)
        # tri_gamma is polygamma's series (1e-15); near the poles of the reflection the value
        # is a large difference of cancelling terms
        assert_close(tri, special.polygamma(1, xs), 1e-12, "tri_gamma", xs)
        assert_close(sf, special.chdtrc(ks, np.where(xs < 0, np.nan, xs)), 2e-13, "chi2sf", xs, ks)


#: (k, x) at scipy's special values: negative, zero, infinite and NaN arguments
GAMMA_EDGES = [
    (0.0, 0.0),
    (0.0, 1.0),
    (-1.0, 1.0),
    (1.0, -1.0),
    (1.0, 0.0),
    (1.0, np.inf),
    (np.inf, 1.0),
    (np.inf, np.inf),
    (0.0, np.inf),
    (np.nan, 1.0),
    (1.0, np.nan),
    (1e-300, 1e-300),
    (0.5, 0.0),
    (3.0, 1e-320),
]
#: (k, y) at the inverses' special values
INVERSE_EDGES = [
    (0.0, 0.5),
    (1.0, 0.0),
    (1.0, 1.0),
    (1.0, -0.1),
    (1.0, 1.1),
    (-1.0, 0.5),
    (0.0, 0.0),
    (0.0, 1.0),
]
INVERSE_EDGES += [(np.inf, 0.5), (2.0, np.nan), (np.nan, 0.5)]
#: (a, b, x) at the incomplete beta function's special values
BETA_EDGES = [
    (0.0, 1.0, 0.5),
    (1.0, 0.0, 0.5),
    (0.0, 0.0, 0.5),
    (-1.0, 1.0, 0.5),
    (1.0, 1.0, -0.1),
    (1.0, 1.0, 1.1),
    (1.0, 1.0, 0.0),
    (2.0, 3.0, 1.0),
    (np.inf, 1.0, 0.5),
    (1.0, np.inf, 0.5),
    (np.inf, np.inf, 0.5),
    (0.0, np.inf, 0.5),
    (np.inf, 0.0, 0.5),
    (1.0, np.inf, 0.0),
    (2.0, 3.0, np.nan),
]


@pytest.mark.parametrize("mode", MODES)
def test_special_values_are_scipys(mode: str) -> None:
    k, x, b = ft.dvector("k"), ft.dvector("x"), ft.dvector("b")
    fg = fc.function([k, x], [ft.gammainc(k, x), ft.gammaincc(k, x)], mode=mode)
    fi = fc.function([k, x], [ft.gammaincinv(k, x), ft.gammainccinv(k, x)], mode=mode)
    fb = fc.function([k, b, x], ft.betainc(k, b, x), mode=mode)
    fe = fc.function([x], ft.erfcinv(x), mode=mode)
    with numpy_errstate():
        for f, cases, refs in (
            (fg, GAMMA_EDGES, (special.gammainc, special.gammaincc)),
            (fi, INVERSE_EDGES, (special.gammaincinv, special.gammainccinv)),
        ):
            ks, xs = (np.array(c) for c in zip(*cases))
            for got, ref in zip(f(ks, xs), refs):
                np.testing.assert_allclose(got, ref(ks, xs), rtol=1e-15, atol=0, err_msg=ref.__name__)
        a, bs, xs = (np.array(c) for c in zip(*BETA_EDGES))
        np.testing.assert_array_equal(fb(a, bs, xs), special.betainc(a, bs, xs))
        cases = [(1.0, 1.0, 0.0), (1.0, 1.0, 1.0), (2.0, 3.0, 0.0), (2.0, 3.0, 1.0), (0.0, 1.0, 0.5)]
        cases += [(1.0, 0.0, 0.5), (-1.0, 2.0, 0.5), (1.0, 1.0, -0.1), (1.0, 1.0, 1.1), (2.0, 3.0, np.nan)]
        cases += [(np.inf, 1.0, 0.5), (1.0, np.inf, 0.5), (np.inf, np.inf, 0.5)]
        a, bs, ys = (np.array(c) for c in zip(*cases))
        fbi = fc.function([k, b, x], ft.betaincinv(k, b, x), mode=mode)
        np.testing.assert_array_equal(fbi(a, bs, ys), special.betaincinv(a, bs, ys))
        ys = np.array([0.0, 2.0, -0.1, 2.1, 1.0, np.nan, 1e-300])
        np.testing.assert_array_equal(fe(ys), special.erfcinv(ys))
        assert np.signbit(fe(ys)[4])  # erfcinv(1) is -0.0, as scipy's


@pytest.mark.parametrize("mode", MODES)
def test_float32_and_int_arguments(mode: str) -> None:
    k, x, i = ft.fvector("k"), ft.fvector("x"), ft.ivector("i")
    outs = [ft.gammainc(k, x), ft.gammaincc(k, x), ft.gammaincinv(k, x / 250), ft.betainc(k, k + 1, x / 250)]
    outs += [ft.erfcinv(x / 125), ft.gammainc(i, i)]
    f = fc.function([k, x, i], outs, mode=mode)
    ks = np.linspace(0.1, 60, 200).astype("float32")
    xs = np.linspace(0, 200, 200).astype("float32")
    ints = np.arange(1, 201, dtype="int32")
    got = f(ks, xs, ints)
    assert [g.dtype for g in got] == [np.float32] * 5 + [np.float64]
    k64, x64 = ks.astype(np.float64), xs.astype(np.float64)
    want = [
        special.gammainc(k64, x64),
        special.gammaincc(k64, x64),
        special.gammaincinv(k64, (xs / np.float32(250)).astype(np.float64)),
        special.betainc(
            k64, (ks + np.float32(1)).astype(np.float64), (xs / np.float32(250)).astype(np.float64)
        ),
        special.erfcinv((xs / np.float32(125)).astype(np.float64)),
    ]
    for g, w, name in zip(got, want, ("gammainc", "gammaincc", "gammaincinv", "betainc", "erfcinv")):
        # float32's own rounding; values below float32's normal range are not compared
        w32 = w.astype(np.float32).astype(np.float64)
        keep = np.abs(w) > 1e-37
        np.testing.assert_allclose(g[keep], w32[keep], rtol=2e-7, err_msg=name)
    np.testing.assert_allclose(got[5], special.gammainc(ints, ints), rtol=2e-13)


def test_the_functions_fuse_into_one_loop() -> None:
    k, x = ft.dvector("k"), ft.dvector("x")
    out = ft.gammainc(k, x) * ft.gammaincc(k + 1, x) + ft.gammaincinv(k, ft.sigmoid(x)) / (1 + x)
    out = out + ft.betainc(k, x + 1, ft.sigmoid(x - k)) - ft.erfcinv(ft.sigmoid(k)) + ft.gammainccinv(k, 0.25)
    out = out + ft.betaincinv(k, x + 1, ft.sigmoid(x - k))
    f = fc.function([k, x], out)
    nodes = f.optimized_graph.toposort()
    assert len(nodes) == 1, [str(n.op) for n in nodes]
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.2, 40, 400), rng.uniform(0, 60, 400)
    s = special.expit
    want = special.gammainc(a, b) * special.gammaincc(a + 1, b) + special.gammaincinv(a, s(b)) / (1 + b)
    want = want + special.betainc(a, b + 1, s(b - a)) - special.erfcinv(s(a)) + special.gammainccinv(a, 0.25)
    want = want + special.betaincinv(a, b + 1, s(b - a))
    np.testing.assert_allclose(f(a, b), want, rtol=1e-12)
    np.testing.assert_allclose(f(a[::3], b[::3]), want[::3], rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gamma_gradients_against_finite_differences(mode: str) -> None:
    k, x = ft.dvector("k"), ft.dvector("x")
    both = [0, 1]
    cases = {
        "gammainc": (lambda k, x: ft.gammainc(k, x), both),
        "gammaincc": (lambda k, x: ft.gammaincc(k, x), both),
        "gammau": (lambda k, x: ft.gammau(k / 10 + 0.1, x / 5) / 10, both),  # gamma(k) stays moderate
        "gammal": (lambda k, x: ft.gammal(k / 10 + 0.1, x / 5) / 10, both),
        "chi2sf": (lambda k, x: ft.chi2sf(2 * x, 2 * k), both),
    }
    # the series region, the continued fraction's, and a < 1, x < 1.5
    values = [
        [np.array([0.3, 0.9, 2.5, 7.0, 12.0, 30.0]), np.array([0.2, 1.2, 1.0, 3.0, 14.0, 25.0])],
        [np.array([0.5, 1.7, 4.0, 11.0, 45.0]), np.array([3.0, 5.0, 9.0, 20.0, 52.0])],
    ]
    fd_check_grads([k, x], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_inverse_gamma_gradients_by_the_implicit_function_theorem(mode: str) -> None:
    k, y = ft.dvector("k"), ft.dvector("y")
    cases = {
        "gammaincinv": (lambda k, y: ft.gammaincinv(k, y) / 10, [0, 1]),
        "gammainccinv": (lambda k, y: ft.gammainccinv(k, y) / 10, [0, 1]),
    }
    values = [[np.array([0.6, 1.5, 3.0, 8.0, 25.0]), np.array([0.2, 0.35, 0.5, 0.7, 0.9])]]
    fd_check_grads([k, y], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_beta_gradients_against_finite_differences(mode: str) -> None:
    a, b, x = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    cases = {
        "betainc": (lambda a, b, x: ft.betainc(a, b, x), [0, 1, 2]),
        "betaincinv": (lambda a, b, x: ft.betaincinv(a, b, x), [0, 1, 2]),
        "betaln": (lambda a, b, x: ft.betaln(a, b) / 10, [0, 1]),
    }
    # both sides of the mean (the continued fraction of I_x(a, b) and of I_{1-x}(b, a))
    values = [
        [
            np.array([0.4, 1.5, 2.5, 7.0, 12.0]),
            np.array([0.7, 3.0, 2.0, 11.0, 30.0]),
            np.array([0.3, 0.2, 0.8, 0.45, 0.3]),
        ],
        [np.array([5.0, 0.8, 20.0]), np.array([5.0, 0.9, 15.0]), np.array([0.05, 0.97, 0.6])],
    ]
    fd_check_grads([a, b, x], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_erfcinv_and_tri_gamma_gradients(mode: str) -> None:
    y = ft.dvector("y")
    cases = {
        "erfcinv": (lambda y: ft.erfcinv(y), [0]),
        "tri_gamma": (lambda y: ft.tri_gamma(4 * y - 3) / 10, [0]),
    }
    fd_check_grads([y], cases, [[np.array([0.05, 0.3, 0.8, 1.1, 1.6, 1.93])]], mode=mode)


def test_tri_gamma_gradient_is_polygamma_2() -> None:
    x = ft.dvector("x")
    g = fc.function([x], fc.grad(ft.sum(ft.tri_gamma(x)), x))
    xs = np.array([-2.5, -0.3, 0.2, 1.0, 2.0, 3.3, 40.0])
    np.testing.assert_allclose(g(xs), special.polygamma(2, xs), rtol=1e-11)


def test_second_derivatives_in_the_shape_parameters_raise() -> None:
    """Three times in the shapes (twice is taken: ``tests/test_grad_higher.py``)."""
    k, x = ft.dscalar("k"), ft.dscalar("x")
    dkk = fc.grad(fc.grad(ft.gammainc(k, x), k), k)
    with pytest.raises(NullTypeGradError, match="GammaincDkk, the second derivative of gammainc in k"):
        fc.grad(dkk, k)
    dab = fc.grad(fc.grad(ft.betainc(k, x, 0.3), k), x)
    with pytest.raises(NullTypeGradError, match="BetaincD2.*, the second derivative of betainc in a and b"):
        fc.grad(dab, x)
    # in x the second derivative is a closed form: the density times (k - 1) / x - 1
    d2 = fc.function([k, x], fc.grad(fc.grad(ft.gammainc(k, x), x), x))
    want = 1.0**2 * np.exp(-1.0) / special.gamma(3.0) * (2.0 / 1.0 - 1)
    np.testing.assert_allclose(d2(3.0, 1.0), want, rtol=1e-14)


def test_constant_arguments_fold_to_the_same_values() -> None:
    ks, xs = np.array([0.3, 2.0, 15.0, 80.0]), np.array([0.5, 3.0, 20.0, 60.0])
    outs = [ft.gammainc(ks, xs), ft.gammaincc(ks, xs), ft.gammaincinv(ks, xs / 100), ft.betainc(ks, xs, 0.3)]
    outs.append(ft.erfcinv(ft.constant(xs / 50)))
    got = fc.function([], outs)()
    want = [
        special.gammainc(ks, xs),
        special.gammaincc(ks, xs),
        special.gammaincinv(ks, xs / 100),
        special.betainc(ks, xs, 0.3),
        special.erfcinv(xs / 50),
    ]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-13)


def test_pickled_function_round_trips() -> None:
    k, x = ft.dvector("k"), ft.dvector("x")
    f = fc.function([k, x], [ft.gammainc(k, x) + ft.betainc(k, x + 1, 0.4), ft.gammainccinv(k, 0.3)])
    assert_pickles_round_trip(f, np.linspace(0.5, 30, 50), np.linspace(0, 40, 50))


# -- CUDA (emulated device) -----------------------------------------------------------------
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_on_the_emulated_cuda_device(emulated) -> None:
    k, x, y = ft.dvector("k"), ft.dvector("x"), ft.fvector("y")
    outs = [ft.gammainc(k, x), ft.gammaincc(k, x), ft.gammaincinv(k, x / 50), ft.gammainccinv(k, x / 50)]
    outs += [ft.betainc(k, x, x / 50), ft.erfcinv(x / 25), ft.gammainc(y, y), ft.betainc(y, y, y / 50)]
    outs += [ft.betaincinv(k, x, x / 50)]
    ks = np.linspace(0.1, 60, 401)
    xs = np.concatenate([np.linspace(0, 50, 397), [0.0, np.inf, np.nan, 1e-300]])
    ys = xs.astype("float32")
    want = fc.function([k, x, y], outs, mode="FAST_COMPILE")(ks, xs, ys)
    got = fc.function([k, x, y], outs, mode=CUDA)(ks, xs, ys)
    for g, w in zip(got, want):
        g = g.get() if hasattr(g, "get") else g
        np.testing.assert_allclose(g, w, rtol=1e-13 if w.dtype == np.float64 else 1e-6)


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "") + (
        "k = ft.dvector('k')\n"
        "f = fc.function([k], ft.gammainc(k, 2 * k) + ft.gammaincinv(k, 0.3) + ft.betainc(k, k, 0.4) + ft.erfcinv(1 / k))\n"
        "r = f(np.linspace(0.5, 30, 101))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r.sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
