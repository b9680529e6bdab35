"""``erfcx`` and the Bessel functions ``jv j0 j1 i0 i1 i0e i1e`` against scipy.special (float64 to
~1e-13, float32 to its precision) in both modes, at large, small, negative and special
arguments; against values of mpmath at 40 digits where scipy itself is inaccurate; their
gradients by finite differences; fused into one C loop; on the emulated CUDA device; and a
cache hit in a fresh process.

J oscillates: near its zeros no double algorithm (scipy's neither) is accurate relative to the
value, so it is compared relative to the envelope min(1, sqrt(2 / (pi x))) where |x| is above
the order (below, J is monotonic and compared relative to its value).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_second_process_compiles_nothing, fd_check_grads, numpy_errstate, in_tests_dir

NAMES = ("erfcx", "j0", "j1", "i0", "i1", "i0e", "i1e")


def _arguments() -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.concatenate(
        [
            np.linspace(-60, 60, 24001),
            rng.uniform(-700, 700, 2000),
            np.logspace(-300, 2.8, 400),
            -np.logspace(-300, 2.8, 400),
            [0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, 2.0, 25.0, 24.999999, 12.0, -26.5, -27.0],
        ]
    )


def _scale(name: str, x: np.ndarray, want: np.ndarray) -> np.ndarray:
    if name in ("j0", "j1"):
        with numpy_errstate():
            return np.minimum(1.0, np.sqrt(2 / np.pi / np.abs(x)))
    return np.abs(want)


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    """scipy's values where they are accurate. scipy (Cephes) gives NaN for j0 / j1 at +-inf,
    where the limit 0 is taken here; its i0 / i1 overflow a little before the result does
    (above 709.78), and its erfcx loses up to 7e-14 below -20 (where exp(x^2) is large):
    those arguments are checked against mpmath below instead."""
    with numpy_errstate():
        want = getattr(special, name)(x)
    if name in ("j0", "j1"):
        want = np.where(np.isinf(x), 0.0, want)
    return want


def _compare(name: str, got: np.ndarray, x: np.ndarray, rtol: float) -> None:
    """got against scipy's value rounded to got's dtype."""
    with numpy_errstate():
        want = _reference(name, x).astype(got.dtype).astype(np.float64)
    keep = ~((name in ("i0", "i1") and np.abs(x) > 709) | ((name == "erfcx") & (x < -20)))
    got, want, xs = got[keep], want[keep], x[keep]
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert not (np.isnan(got) ^ np.isnan(want)).any(), (name, xs[np.isnan(got) ^ np.isnan(want)])
    with numpy_errstate():
        err = np.where(same, 0.0, np.abs(got.astype(np.float64) - want) / _scale(name, xs, want))
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, f"{name}({xs[worst]!r}) = {got[worst]!r}, scipy {want[worst]!r}"


@pytest.mark.parametrize("mode", MODES)
def test_values_match_scipy_in_float64(mode: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], [getattr(ft, n)(x) for n in NAMES], mode=mode)
    xs = _arguments()
    for name, got in zip(NAMES, f(xs)):
        assert got.dtype == np.float64
        _compare(name, got, xs, 1e-13)


@pytest.mark.parametrize("mode", MODES)
def test_values_match_scipy_in_float32_and_ints_give_float64(mode: str) -> None:
    x, i = ft.fvector("x"), ft.ivector("i")
    f = fc.function(
        [x, i], [getattr(ft, n)(x) for n in NAMES] + [getattr(ft, n)(i) for n in NAMES], mode=mode
    )
    xs = np.concatenate([np.linspace(-80, 80, 4001), [0.0, -0.0, np.inf, -np.inf, np.nan]]).astype("float32")
    ints = np.arange(-40, 41, dtype="int32")
    outs = f(xs, ints)
    for name, got, got_int in zip(NAMES, outs[: len(NAMES)], outs[len(NAMES) :]):
        assert got.dtype == np.float32 and got_int.dtype == np.float64, name
        _compare(name, got, xs.astype(np.float64), 2e-7)
        _compare(name, got_int, ints.astype(np.float64), 1e-13)


#: (name, x, value) from mpmath at 40 digits, rounded to double: huge arguments (j0 / j1 need
#: x's own sine and cosine, which scipy approximates), i0 / i1 just below their overflow, and
#: erfcx at large negative x.
MPMATH = [
    ("j0", 1e300, -7.860673062724093e-151),
    ("j1", 1e300, -1.3681360450342481e-151),
    ("j0", 1e10, 2.175591750246892e-06),
    ("i0", 713.14338189, 7.738082846016416e307),
    ("erfcx", -24.202800000000003, 5.013134659967585e254),
]

#: (v, x, J_v(x)) from mpmath at 40 digits: negative non-integer orders near x = |v| and a
#: large order at large x, where scipy errs by up to 1e-12 of the envelope; a huge x; a value
#: below the smallest normal (scipy 0); a negative x with an odd order
MPMATH_JV = [
    (-20.9832, 18.1, 0.001613013897518188),
    (-9.833, 9.8, -0.00579128452184518),
    (100.3, 864.778, -0.017412474621838512),
    (2.5, 1e10, 3.889735305067045e-06),
    (-28.0, 1e-10, 1.221854e-318),
    (7.0, -3.5, -0.006743000315638399),
]


@pytest.mark.parametrize("mode", MODES)
def test_extreme_arguments_against_mpmath(mode: str) -> None:
    x = ft.dscalar("x")
    fs = {n: fc.function([x], getattr(ft, n)(x), mode=mode) for n in {m[0] for m in MPMATH}}
    for name, arg, want in MPMATH:
        got = float(fs[name](arg))
        assert abs(got - want) <= 1e-15 * abs(want), (name, arg, got, want)


@pytest.mark.parametrize("mode", MODES)
def test_jv_against_mpmath(mode: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], ft.jv(v, x), mode=mode)
    vs, xs, want = (np.array(c) for c in zip(*MPMATH_JV))
    got = f(vs, xs)
    scale = np.maximum(
        np.abs(want), np.minimum(1.0, np.sqrt(2 / np.pi / np.abs(xs))) * (np.abs(xs) > np.abs(vs))
    )
    np.testing.assert_array_less(np.abs(got - want), 2e-13 * scale + 1e-322)


def _jv_grid() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12)
    orders = np.concatenate(
        [
            np.arange(-30.0, 31.0),
            rng.uniform(-30, 30, 40),
            [0.5, -0.5, 1e-9, -1e-9, 99.0, 100.3, -100.3, 200.5, 250.0],
        ]
    )
    xs = np.concatenate(
        [
            np.linspace(-120, 120, 481),
            rng.uniform(0, 1000, 40),
            np.logspace(-8, 0, 12),
            [0.0, -0.0],
        ]
    )
    vv, xx = np.meshgrid(orders, xs)
    return vv.ravel(), xx.ravel()


def _jv_scale(v: np.ndarray, x: np.ndarray, want: np.ndarray) -> np.ndarray:
    with numpy_errstate():
        env = np.where(np.abs(x) > np.abs(v), np.minimum(1.0, np.sqrt(2 / np.pi / np.abs(x))), 0.0)
    # below 1e-280 absolutely: scipy's large orders underflow to 0 long before the value does
    return np.maximum(np.abs(want), env) + 1e-280


@pytest.mark.parametrize("mode", MODES)
def test_jv_matches_scipy(mode: str) -> None:
    """Orders of both signs, integer and not, at negative, zero, tiny and large x; within
    2e-12 of the envelope (scipy's own error near |x| = |v| for negative orders and at large
    orders; fncache's is below 2e-13 there, test_jv_against_mpmath)."""
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], [ft.jv(v, x), ft.jv(ft.cast(v, "float32"), ft.cast(x, "float32"))], mode=mode)
    vs, xs = _jv_grid()
    got, got32 = f(vs, xs)
    with numpy_errstate():
        want = special.jv(vs, xs)
    assert got.dtype == np.float64 and got32.dtype == np.float32
    assert_nan_where(got, want, "jv")
    with numpy_errstate():
        err = np.where((got == want) | np.isnan(want), 0.0, np.abs(got - want) / _jv_scale(vs, xs, want))
    worst = int(np.argmax(err))
    assert err[worst] <= 2e-12, f"jv({vs[worst]!r}, {xs[worst]!r}) = {got[worst]!r}, scipy {want[worst]!r}"
    # float32: scipy's value at the float32 arguments, rounded
    v32, x32 = vs.astype(np.float32), xs.astype(np.float32)
    with numpy_errstate():
        want32 = special.jv(v32.astype(np.float64), x32.astype(np.float64))
        err = np.where(
            (got32 == want32.astype(np.float32)) | np.isnan(want32),
            0.0,
            np.abs(got32 - want32) / _jv_scale(v32, x32, want32),
        )
    assert err.max() <= 2e-7, (vs[err.argmax()], xs[err.argmax()])


def assert_nan_where(got: np.ndarray, want: np.ndarray, what: str) -> None:
    bad = np.isnan(got) != np.isnan(want)
    assert not bad.any(), (what, np.flatnonzero(bad)[:5])


def test_jv_special_cases() -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], ft.jv(v, x))
    cases = [
        (2.5, -1.0, np.nan),  # complex there
        (3.0, -0.0, 0.0),
        (0.0, 0.0, 1.0),
        (-2.5, 0.0, np.inf),  # the sign of the series' first term: gamma(-1.5) > 0
        (-1.5, 0.0, -np.inf),  # gamma(-0.5) < 0
        (np.inf, 1.0, np.nan),
        (-np.inf, 1.0, np.nan),
        (2.0, np.inf, 0.0),
        (-3.5, np.inf, 0.0),  # scipy: NaN (the limit is 0)
        (4.0, -np.inf, 0.0),
        (2.5, -np.inf, np.nan),
        (np.nan, 1.0, np.nan),
        (1.0, np.nan, np.nan),
        (2e4, 10.0, 0.0),  # a huge order in the power series' range underflows
        (2e4, 1000.0, np.nan),  # beyond it: not computed
    ]
    vs, xs, want = (np.array(c) for c in zip(*cases))
    np.testing.assert_array_equal(f(vs, xs), want)


def test_special_values() -> None:
    x = ft.dvector("x")
    f = fc.function([x], [getattr(ft, n)(x) for n in NAMES])
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    got = dict(zip(NAMES, f(xs)))
    nan = np.nan
    want = {
        "erfcx": [1.0, 1.0, 0.0, np.inf, nan],
        "j0": [1.0, 1.0, 0.0, 0.0, nan],
        "j1": [0.0, -0.0, 0.0, 0.0, nan],
        "i0": [1.0, 1.0, np.inf, np.inf, nan],
        "i1": [0.0, -0.0, np.inf, -np.inf, nan],
        "i0e": [1.0, 1.0, 0.0, 0.0, nan],
        "i1e": [0.0, -0.0, 0.0, -0.0, nan],
    }
    for name, w in want.items():
        np.testing.assert_array_equal(got[name], w, err_msg=name)
        np.testing.assert_array_equal(np.signbit(got[name][:4]), np.signbit(w[:4]), err_msg=name)


def test_the_functions_fuse_into_one_loop() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    out = ft.j0(x) * ft.i1e(y) + ft.erfcx(x - y) - ft.j1(y) / (1 + ft.i0(x)) + ft.i1(x) * ft.i0e(y)
    out = out + ft.jv(ft.abs(y) / 3, ft.abs(x))
    f = fc.function([x, y], out)
    nodes = f.optimized_graph.toposort()
    assert len(nodes) == 1, [str(n.op) for n in nodes]
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-30, 30, 500), rng.uniform(-30, 30, 500)
    want = (
        special.j0(a) * special.i1e(b)
        + special.erfcx(a - b)
        - special.j1(b) / (1 + special.i0(a))
        + special.i1(a) * special.i0e(b)
        + special.jv(np.abs(b) / 3, np.abs(a))
    )
    np.testing.assert_allclose(f(a, b), want, rtol=1e-12)
    np.testing.assert_allclose(f(a[::3], b[::3]), want[::3], rtol=1e-12)


#: argument sets per group of functions: each group's cost, sum(e**2 + e) over the arguments,
#: must not be dominated by one huge value (its rounding would swamp the finite differences)
GRAD_GROUPS = {
    ("j0", "j1", "i0e", "i1e"): [-31.0, -7.3, -2.1, -0.4, 0.3, 1.7, 3.0, 8.9, 26.2],
    ("i0", "i1"): [-4.2, -2.1, -0.4, 0.03, 1.7, 3.0, 5.5],
    ("erfcx",): [-1.3, -0.4, 0.02, 0.6, 3.0, 11.5, 12.5, 40.0],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("names", list(GRAD_GROUPS))
def test_gradients_against_finite_differences(mode: str, names: tuple[str, ...]) -> None:
    x = ft.dvector("x")
    cases = {name: (lambda v, n=name: getattr(ft, n)(v), [0]) for name in names}
    fd_check_grads([x], cases, [[np.array(GRAD_GROUPS[names])]], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_jv_gradient_in_x(mode: str) -> None:
    x, n = ft.dvector("x"), ft.lscalar("n")
    cases = {
        "half": (lambda x, n: ft.jv(2.5, x), [0]),
        "negative_order": (lambda x, n: ft.jv(-1.3, x), [0]),
        "int_order": (lambda x, n: ft.jv(n, x), [0]),
    }
    values = [
        [np.array([0.7, 2.2, 5.9, 13.1, 30.4]), np.array(3)],
        [np.array([1.1, 4.0, 26.0]), np.array(-2)],
    ]
    fd_check_grads([x, n], cases, values, mode=mode)


def test_jv_has_no_gradient_in_a_float_order() -> None:
    # refused where the order depends on a variable differentiated; in x alone it is defined
    v, x = ft.dvector("v"), ft.dvector("x")
    with pytest.raises(NotImplementedError, match="jv.* no gradient in its order v.*a constant or an int"):
        fc.grad(ft.sum(ft.jv(v, x)), [v, x])
    with pytest.raises(NotImplementedError, match="jv.* no gradient in its order v"):
        fc.grad(ft.sum(ft.jv(x * 0.5, x)), x)
    assert fc.grad(ft.sum(ft.jv(v, x)), x).ndim == 1


@pytest.mark.parametrize("mode", MODES)
def test_gradients_at_zero_take_the_limit(mode: str) -> None:
    x = ft.dvector("x")
    grads = [fc.grad(ft.sum(getattr(ft, n)(x)), x) for n in ("j1", "i1", "i0e", "i1e", "j0", "i0")]
    got = fc.function([x], grads, mode=mode)(np.zeros(2))
    # j1' = j0 - j1 / x, i1' = i0 - i1 / x and i1e' both tend to 1/2; j0', i0' are 0 and i0e'
    # is i1e - sign(x) i0e, 0 at 0 (sign(0) = 0), as scipy's convention for |x| at 0
    for g, w in zip(got, (0.5, 0.5, 0.0, 0.5, 0.0, 0.0)):
        np.testing.assert_array_equal(g, [w, w])


def test_erfcx_gradient_is_the_closed_form() -> None:
    x = ft.dvector("x")
    g = fc.function([x], fc.grad(ft.sum(ft.erfcx(x)), x))
    xs = np.array([-3.0, -0.5, 0.0, 0.5, 4.0, 30.0, 1e4])
    want = 2 * xs * special.erfcx(xs) - 2 / np.sqrt(np.pi)
    np.testing.assert_allclose(g(xs), want, rtol=1e-9, atol=1e-15)


def test_constant_arguments_fold_to_the_same_values() -> None:
    # constant folding computes with the numpy versions of the C helpers
    xs = np.array([-30.0, -3.0, 0.5, 4.0, 20.0, 40.0])
    for name in NAMES:
        f = fc.function([], getattr(ft, name)(ft.constant(xs)))
        _compare(name, f(), xs, 1e-13)


# -- CUDA (emulated device) -----------------------------------------------------------------
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_on_the_emulated_cuda_device(emulated) -> None:
    x, y = ft.dvector("x"), ft.fvector("y")
    outs = [getattr(ft, n)(x) for n in NAMES] + [getattr(ft, n)(y) for n in NAMES]
    outs += [ft.jv(x[::-1] / 2, x), ft.jv(y[::-1] / 2, y)]
    xs = np.concatenate([np.linspace(-40, 40, 801), [0.0, np.inf, -np.inf, np.nan]])
    ys = xs.astype("float32")
    want = fc.function([x, y], outs, mode="FAST_COMPILE")(xs, ys)
    got = fc.function([x, y], outs, mode=CUDA)(xs, ys)
    for name, g, w in zip(NAMES + NAMES + ("jv", "jv"), got, want):
        g = g.get() if hasattr(g, "get") else g
        np.testing.assert_allclose(g, w, rtol=1e-13 if w.dtype == np.float64 else 1e-6, err_msg=name)


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "") + (
        "x = ft.dvector('x')\n"
        "f = fc.function([x], ft.j1(x) + ft.erfcx(x) * ft.i0e(x) + ft.jv(2.5, x ** 2))\n"
        "r = f(np.linspace(-30, 30, 101))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r.sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
