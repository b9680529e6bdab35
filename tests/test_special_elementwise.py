"""The elementwise functions beside the special ones: the Bessel functions of real order
``iv ive kv kve yv`` (and ``jve``), Owen's T, scipy's ``xlogy logit expit``, numpy's ``sinc cbrt
logaddexp2 ldexp frexp`` and PyTensor's two roundings, against scipy and numpy in both modes
(float64 and float32), against mpmath values at 40 digits where scipy is less accurate; their
gradients by finite differences; fused into one C loop; on the emulated CUDA device; and a
cache hit in a fresh process.

Y oscillates: near its zeros no double algorithm is accurate relative to the value, so it is
compared relative to the envelope hypot(J, Y).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import special  # the reference (a test dependency)

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_second_process_compiles_nothing, fd_check_grads, in_tests_dir, numpy_errstate

BESSEL = ("iv", "ive", "kv", "kve", "yv")


def _grid(small: bool) -> tuple[np.ndarray, np.ndarray]:
    """Orders (integers, fractions, negative ones, large ones) by arguments over 1e-5 .. 2000."""
    rng = np.random.default_rng(5)
    orders = np.concatenate([np.arange(-6, 7, 1.0), [0.5, -0.5, 1.5, -2.5, 0.25, 60.3, 250.7, -35.5]])
    orders = np.concatenate([orders, rng.uniform(-30, 30, 8 if small else 40)])
    xs = np.concatenate([np.logspace(-5, 3.3, 30 if small else 90), rng.uniform(0, 60, 20 if small else 60)])
    xs = np.concatenate([xs, [2.0, 1.999, 2.001, 25.0, 24.99]])
    v, x = np.meshgrid(orders, xs)
    return v.ravel(), x.ravel()


def _compare(name: str, got: np.ndarray, v: np.ndarray, x: np.ndarray, rtol: float) -> None:
    """got against scipy where scipy's value is finite and normal (its overflow and underflow
    thresholds differ from fncache's by a little); NaN exactly where scipy's."""
    with numpy_errstate():
        want = getattr(special, name)(v, x)
        scale = np.hypot(special.jv(v, x), want) if name == "yv" else np.abs(want)
        rounded = want.astype(got.dtype).astype(np.float64)
    assert not (np.isnan(got) ^ np.isnan(want)).any(), (name, v[np.isnan(got) ^ np.isnan(want)])
    tiny = np.finfo(got.dtype).tiny
    keep = np.isfinite(want) & (scale > 1e3 * tiny) & (scale < np.finfo(got.dtype).max / 1e3)
    with numpy_errstate():
        err = np.where(keep, np.abs(got.astype(np.float64) - rounded) / scale, 0.0)
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, f"{name}({v[worst]!r}, {x[worst]!r}) = {got[worst]!r}, scipy {want[worst]!r}"


@pytest.mark.parametrize("mode", MODES)
def test_bessel_values_match_scipy_in_float64(mode: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    vs, xs = _grid(small=mode == "FAST_COMPILE")
    for name, got in zip(BESSEL, f(vs, xs)):
        assert got.dtype == np.float64
        # scipy itself is off by up to ~1e-12 at some large orders (see the mpmath table)
        _compare(name, got, vs, xs, 2e-12)


@pytest.mark.parametrize("mode", MODES)
def test_bessel_float32_and_negative_arguments(mode: str) -> None:
    v, x = ft.fvector("v"), ft.fvector("x")
    f = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    vs, xs = _grid(small=True)
    vs, xs = vs.astype(np.float32), xs.astype(np.float32)
    for name, got in zip(BESSEL, f(vs, xs)):
        assert got.dtype == np.float32
        _compare(name, got, vs.astype(np.float64), xs.astype(np.float64), 3e-6)
    # negative x: integer orders of I by I_n(-x) = (-1)^n I_n(x); NaN for the rest
    d = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    orders = np.array([0.0, 1.0, 2.0, -3.0, 0.5, -1.5], np.float32)
    neg = np.full(6, -2.5, np.float32)
    for name, got in zip(BESSEL, d(orders, neg)):
        with numpy_errstate():
            want = getattr(special, name)(orders.astype(np.float64), -2.5)
        np.testing.assert_allclose(got, want, rtol=2e-6, err_msg=name)


#: (name, v, x, value) from mpmath at 40 digits, rounded to double: where scipy is off by up to
#: 1e-12 (large orders and arguments, negative orders' cancellation) or overflows early
MPMATH = [
    ("iv", -27.984865481672138, 17.921767969135356, 0.0013216634785819174),
    ("iv", 0.3, 700.0, 1.5294949494921786e302),
    ("iv", 2.5, 0.001, 1.6820884681626111e-09),
    ("iv", 100.3, 150.0, 3.4290234694322704e49),
    ("ive", 1000.0, 100000.0, 8.50051889987059e-06),
    ("ive", -1.7, 40.0, 0.06100517519257823),
    ("kv", 0.0, 1.9, 0.1288459792760475),
    ("kv", 0.5, 2.1, 0.10590875899695358),
    ("kv", 500.7, 761.2242325956447, 1.743560105740927e-263),
    ("kv", -3.3, 0.01, 52608477.68415241),
    ("kve", 3000.0, 1000000.0, 0.11281909455032331),
    ("kve", 0.2, 25.0, 0.2496324013569155),
    ("yv", 0.0, 1.0, 0.08825696421567696),
    ("yv", -55.5, 1232.4130900551127, 0.01260915757922633),
    ("yv", 3000.0, 1000000.0, -0.00017057641555376254),
    ("yv", 7.25, 12.5, 0.15455440727249864),
    ("yv", -2.3, 3.3, 0.278448943527273),
    ("yv", 0.49, 1.999, 0.24109001706318492),
]


@pytest.mark.parametrize("mode", MODES)
def test_bessel_against_mpmath(mode: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    vs = np.array([r[1] for r in MPMATH])
    xs = np.array([r[2] for r in MPMATH])
    got = dict(zip(BESSEL, f(vs, xs)))
    for k, (name, *_, want) in enumerate(MPMATH):
        assert abs(got[name][k] - want) <= 5e-14 * abs(want), (name, vs[k], xs[k], got[name][k], want)


@pytest.mark.parametrize("mode", MODES)
def test_bessel_special_values(mode: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    inf, nan = np.inf, np.nan
    vs = np.array([0.0, 1.0, 2.5, -0.5, -1.5, -2.0, 0.0, 2.5, 1.0, 0.5, inf, nan, 1.0])
    xs = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, inf, inf, -inf, -1.0, 1.0, 1.0, nan])
    want = {
        # at 0 the limits: I_v for negative non-integer v is the series' first term's infinity,
        # of the sign of 1 / gamma(v + 1) (scipy gives +inf and, for ive, NaN)
        "iv": [1, 0, 0, inf, -inf, 0, inf, inf, -inf, nan, nan, nan, nan],
        "ive": [1, 0, 0, inf, -inf, 0, 0, 0, 0, nan, nan, nan, nan],
        "kv": [inf] * 6 + [0, 0, nan, nan, nan, nan, nan],
        "kve": [inf] * 6 + [0, 0, nan, nan, nan, nan, nan],
        # Y_{-v} = cos(v pi) Y_v + sin(v pi) J_v: 0 at 0 for the half-integers
        "yv": [-inf, -inf, -inf, 0, 0, -inf, 0, 0, nan, nan, nan, nan, nan],
    }
    for name, got in zip(BESSEL, f(vs, xs)):
        np.testing.assert_array_equal(got, np.array(want[name], float), err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_bessel_large_orders(mode: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    f = fc.function([v, x], [getattr(ft, n)(v, x) for n in BESSEL], mode=mode)
    vs = np.array([2e5, -99999.5, 3000.0, 1e6])
    xs = np.array([1.0, 1e6, 1e6, 1e6])
    got = dict(zip(BESSEL, f(vs, xs)))
    # past 1e5 steps of the recurrences: the power series (iv), overflow (kv, yv) or NaN
    np.testing.assert_array_equal(got["iv"][[0, 1]], [0.0, np.inf])
    assert got["kv"][0] == np.inf and got["yv"][0] == -np.inf
    # ive of a negative order where K exp(x) overflows but K exp(-x) is 0: not inf * 0
    assert got["ive"][1] == 0.0
    np.testing.assert_allclose(got["kve"][2], 0.11281909455032331, rtol=1e-14)  # mpmath
    np.testing.assert_allclose(got["yv"][2], -0.00017057641555376254, rtol=1e-12)  # mpmath
    assert np.isnan(got["kv"][3]) and np.isnan(got["yv"][3])


def test_jve_is_jv_for_real_arguments() -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    vs, xs = np.array([0.0, 2.5, -1.0, 7.3]), np.array([0.3, 4.0, -2.0, 30.0])
    got = fc.function([v, x], ft.jve(v, x))(vs, xs)
    np.testing.assert_allclose(got, special.jve(vs, xs), rtol=1e-13)


#: (h, a, T(h, a)) from mpmath at 40 digits: tiny values, large a, and where scipy is off by 1e-12
OWENS_T_MPMATH = [
    (5.6546338854147296, 1.1636556842250094e-05, 2.1105065491361403e-13),
    (0.3, 0.7, 0.09231560573042745),
    (2.0, -3.5, -0.011375065974087085),
    (-13.020519814940627, 692.7224518092085, 2.3383001989865817e-39),
    (25.584053038031247, 0.16976991655035545, 5.739447815777081e-145),
    (0.0, 1.0, 0.125),
    (0.001, 50.0, 0.24681334740565555),
    (7.5, 1.0, 1.595445836455397e-14),
]


@pytest.mark.parametrize("mode", MODES)
def test_owens_t_against_scipy_and_mpmath(mode: str) -> None:
    h, a = ft.dvector("h"), ft.dvector("a")
    f = fc.function([h, a], ft.owens_t(h, a), mode=mode)
    rng = np.random.default_rng(4)
    hs = np.concatenate([rng.uniform(-10, 10, 1500), 10 ** rng.uniform(-5, 1.5, 500)])
    as_ = np.concatenate([rng.uniform(-5, 5, 1500), 10 ** rng.uniform(-5, 3, 500)])
    got, want = f(hs, as_), special.owens_t(hs, as_)
    keep = np.abs(want) > 1e-300
    np.testing.assert_allclose(got[keep], want[keep], rtol=3e-12, atol=0)
    table = np.array(OWENS_T_MPMATH)
    np.testing.assert_allclose(f(table[:, 0], table[:, 1]), table[:, 2], rtol=1e-13, atol=0)
    inf, nan = np.inf, np.nan
    edge_h = np.array([inf, -inf, 1.0, 1.0, 0.0, 2.0, nan, 1.0])
    edge_a = np.array([0.5, 3.0, inf, -inf, inf, 0.0, 1.0, nan])
    np.testing.assert_allclose(f(edge_h, edge_a), special.owens_t(edge_h, edge_a), rtol=1e-15, atol=0)
    h32, a32 = ft.fvector("h"), ft.fvector("a")
    f32 = fc.function([h32, a32], ft.owens_t(h32, a32), mode=mode)
    got32 = f32(hs.astype(np.float32), as_.astype(np.float32))
    assert got32.dtype == np.float32
    want32 = special.owens_t(hs.astype(np.float32).astype(float), as_.astype(np.float32).astype(float))
    keep = np.abs(want32) > 1e-30
    np.testing.assert_allclose(got32[keep], want32[keep], rtol=2e-6, atol=0)


@pytest.mark.parametrize("mode", MODES)
def test_owens_t_gradients(mode: str) -> None:
    h, a = ft.dvector("h"), ft.dvector("a")
    cases = {"owens_t": (lambda h, a: ft.owens_t(h, a), [0, 1])}
    values = [[np.array([-2.1, -0.4, 0.0, 0.7, 1.9, 3.2]), np.array([0.3, -1.7, 2.5, 0.9, -0.2, 4.0])]]
    fd_check_grads([h, a], cases, values, mode=mode)


def _elementary_cases(x: object, y: object, i: object) -> dict[str, tuple[object, object]]:
    """(fncache expression, numpy / scipy function of the arrays) per name."""
    m, e = ft.frexp(x)
    return {
        "xlogy": (ft.xlogy(y, ft.abs(x)), lambda a, b, n: special.xlogy(b, np.abs(a))),
        "logit": (ft.logit(y), lambda a, b, n: special.logit(b)),
        "expit": (ft.expit(x), lambda a, b, n: special.expit(a)),
        "sinc": (ft.sinc(x), lambda a, b, n: np.sinc(a)),
        "cbrt": (ft.cbrt(x), lambda a, b, n: np.cbrt(a)),
        "logaddexp2": (ft.logaddexp2(x, y), lambda a, b, n: np.logaddexp2(a, b)),
        "ldexp": (ft.ldexp(x, i), lambda a, b, n: np.ldexp(a, n)),
        "frexp_m": (m, lambda a, b, n: np.frexp(a)[0]),
        "frexp_e": (e, lambda a, b, n: np.frexp(a)[1]),
        "half_to_even": (ft.round_half_to_even(x), lambda a, b, n: np.round(a)),
        "round": (ft.round(x), lambda a, b, n: np.round(a)),
        # C's round: away from zero at the exact halves (x - trunc(x) is exact), else nearest
        "half_away": (
            ft.round(x, "half_away_from_zero"),
            lambda a, b, n: np.where(np.abs(a - np.trunc(a)) == 0.5, np.trunc(a) + np.sign(a), np.round(a)),
        ),
    }


def _elementary_arguments(dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    x = np.concatenate(
        [
            rng.uniform(-40, 40, 300),
            [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, 3.0, 1e-30, -1e30, np.inf, -np.inf, np.nan],
        ]
    ).astype(dtype)
    y = np.concatenate(
        [rng.uniform(0, 1, 300), [0.0, 1.0, 0.5, 1e-20, 0.999, 0.3, 0.0, 2.0, np.nan, 0.7, 0.1]]
    )
    y = np.concatenate([y, [0.2, 0.3, 0.4]]).astype(dtype)
    i = rng.integers(-140, 140, x.size).astype(np.int32)
    return x, y, i


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elementary_functions_match_numpy_and_scipy(mode: str, dtype: str) -> None:
    x, y = ft.vector("x", dtype=dtype), ft.vector("y", dtype=dtype)
    i = ft.ivector("i")
    cases = _elementary_cases(x, y, i)
    f = fc.function([x, y, i], [c[0] for c in cases.values()], mode=mode)
    a, b, n = _elementary_arguments(dtype)
    exact = ("ldexp", "frexp_m", "frexp_e", "half_to_even", "round", "half_away")
    for (name, (_, ref)), got in zip(cases.items(), f(a, b, n)):
        with numpy_errstate():
            want = np.asarray(ref(a, b, n))
        assert got.dtype == (np.int32 if name == "frexp_e" else np.dtype(dtype)), name
        rtol = 0 if name in exact else (4e-15 if dtype == "float64" else 2e-6)
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=rtol, atol=0, err_msg=name)


def test_rounding_modes_and_their_errors() -> None:
    x = ft.dvector("x")
    f = fc.function([x], [ft.round_half_away_from_zero(x), ft.round_half_to_even(x)])
    xs = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, -0.4, 7.0])
    away, even = f(xs)
    np.testing.assert_array_equal(away, [1.0, 2.0, 3.0, -1.0, -3.0, 0.0, -0.0, 7.0])
    assert np.signbit(away[6])
    np.testing.assert_array_equal(even, [0.0, 2.0, 2.0, -0.0, -2.0, 0.0, -0.0, 7.0])
    with pytest.raises(
        ValueError, match="round: mode must be None or one of .*half_to_even.*half_away_from_zero.*half_up"
    ):
        ft.round(x, "half_up")
    with pytest.raises(TypeError, match="ldexp: the exponent i must be an integer tensor.*float64.*cast"):
        ft.ldexp(x, x)
    np.testing.assert_array_equal(fc.function([x], x.round("half_away_from_zero"))(xs), away)
    n = ft.lvector("n")  # ints stay ints
    assert fc.function([n], ft.round_half_away_from_zero(n))(np.array([3, -4])).tolist() == [3, -4]


#: argument sets whose cost sum(e**2 + e) is not dominated by one huge value
BESSEL_GRAD_X = [np.array([0.9, 1.7, 2.3, 4.1, 7.9, 13.0, 27.5])]


@pytest.mark.parametrize("mode", MODES)
def test_bessel_gradients_in_x(mode: str) -> None:
    x, n = ft.dvector("x"), ft.lscalar("n")
    cases = {
        f"{name}_{order}": (lambda x, n, name=name, order=order: getattr(ft, name)(order, x), [0])
        for name in BESSEL
        for order in (0.0, 2.5, -1.3)
    }
    cases["iv_int"] = (lambda x, n: ft.iv(n, x) / 1e4, [0])
    cases["yv_int"] = (lambda x, n: ft.yv(n, x + 1), [0])
    cases["jve"] = (lambda x, n: ft.jve(1.5, x), [0])
    # iv and ive on both signs of x (an integer order)
    cases["ive_neg"] = (lambda x, n: ft.ive(n, -x), [0])
    scale = {"iv": 1e-11, "kv": 1.0}
    for k in list(cases):
        name = k.split("_")[0]
        if name in scale:  # iv grows as exp(x): keep the cost in range
            build = cases[k][0]
            cases[k] = (lambda x, n, b=build, s=scale[name]: s * b(x, n), [0])
    fd_check_grads(
        [x, n], cases, [[BESSEL_GRAD_X[0], np.array(3)], [BESSEL_GRAD_X[0][2:], np.array(-2)]], mode=mode
    )


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_have_no_gradient_in_a_float_order(name: str) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    with pytest.raises(
        NotImplementedError, match=f"{name}.* no gradient in its order v.*a constant or an int"
    ):
        fc.grad(ft.sum(getattr(ft, name)(v, x)), [x, v])


@pytest.mark.parametrize("mode", MODES)
def test_elementary_gradients(mode: str) -> None:
    x, y, i = ft.dvector("x"), ft.dvector("y"), ft.lvector("i")
    cases = {
        "xlogy": (lambda x, y, i: ft.xlogy(x, y), [0, 1]),
        "logit": (lambda x, y, i: ft.logit(y), [1]),
        "sinc": (lambda x, y, i: ft.sinc(x), [0]),
        "cbrt": (lambda x, y, i: ft.cbrt(x), [0]),
        "logaddexp2": (lambda x, y, i: ft.logaddexp2(x, y), [0, 1]),
        "ldexp": (lambda x, y, i: ft.ldexp(x, i), [0]),
        "frexp": (lambda x, y, i: ft.frexp(x)[0] * ft.cast(ft.frexp(x)[1], "float64"), [0]),
    }
    values = [
        np.array([-2.7, -0.6, 0.3, 1.1, 3.9]),
        np.array([0.05, 0.3, 0.5, 0.8, 0.97]),
        np.array([-3, 0, 1, 4, 2]),
    ]
    fd_check_grads([x, y, i], cases, [values], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_sinc_gradient_at_zero_is_the_limit(mode: str) -> None:
    x = ft.dvector("x")
    g = fc.function([x], fc.grad(ft.sum(ft.sinc(x)), x), mode=mode)
    xs = np.array([0.0, 0.5, -1.25])
    with numpy_errstate():
        want = np.where(
            xs == 0, 0.0, (np.cos(np.pi * xs) * np.pi * xs - np.sin(np.pi * xs)) / (np.pi * xs**2)
        )
    np.testing.assert_allclose(g(xs), want, rtol=1e-13, atol=0)
    assert not np.isnan(g(xs)).any()


def test_the_functions_fuse_into_one_loop() -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    out = ft.iv(v, x) * ft.kve(v, x) + ft.yv(v, x + 1) - ft.ive(v, x) / (1 + ft.kv(v, x))
    out = out + ft.sinc(x) + ft.cbrt(x) + ft.logaddexp2(v, x) + ft.frexp(x)[0] + ft.xlogy(v, x)
    out = out + ft.owens_t(x, v)
    f = fc.function([v, x], out)
    nodes = f.optimized_graph.toposort()
    assert len(nodes) == 1, [str(n.op) for n in nodes]
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 8, 400), rng.uniform(0.01, 30, 400)
    want = (
        special.iv(a, b) * special.kve(a, b)
        + special.yv(a, b + 1)
        - special.ive(a, b) / (1 + special.kv(a, b))
    )
    want = want + np.sinc(b) + np.cbrt(b) + np.logaddexp2(a, b) + np.frexp(b)[0] + special.xlogy(a, b)
    want = want + special.owens_t(b, a)
    np.testing.assert_allclose(f(a, b), want, rtol=1e-11)


def test_constant_arguments_fold_to_the_same_values() -> None:
    # constant folding computes with the numpy versions of the C helpers
    vs, xs = np.array([0.0, 1.5, -2.3, 40.2]), np.array([0.5, 3.0, 30.0, 50.0])
    for name in BESSEL:
        folded = fc.function([], getattr(ft, name)(ft.constant(vs), ft.constant(xs)))()
        v, x = ft.dvector("v"), ft.dvector("x")
        np.testing.assert_allclose(folded, fc.function([v, x], getattr(ft, name)(v, x))(vs, xs), rtol=1e-14)


# -- CUDA (emulated device) -----------------------------------------------------------------
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_on_the_emulated_cuda_device(emulated) -> None:
    v, x = ft.dvector("v"), ft.dvector("x")
    outs = [getattr(ft, n)(v, x) for n in BESSEL] + [ft.cbrt(x), ft.logaddexp2(v, x), ft.sinc(x)]
    outs += [ft.round_half_away_from_zero(x), ft.frexp(x)[0], ft.owens_t(x / 10, v)]
    vs, xs = np.tile(np.array([0.0, 1.0, 2.5, -1.3, 7.7]), 40), np.linspace(0.01, 60, 200)
    want = fc.function([v, x], outs, mode="FAST_COMPILE")(vs, xs)
    got = fc.function([v, x], outs, mode=CUDA)(vs, xs)
    for k, (g, w) in enumerate(zip(got, want)):
        g = g.get() if hasattr(g, "get") else g
        np.testing.assert_allclose(g, w, rtol=1e-13, err_msg=str(k))


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "") + (
        "v, x = ft.dvector('v'), ft.dvector('x')\n"
        "f = fc.function([v, x], ft.kv(v, x) + ft.yv(v, x) * ft.ive(v, x) + ft.sinc(x) + ft.frexp(x)[0])\n"
        "r = f(np.linspace(-3, 3, 101), np.linspace(0.1, 30, 101))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r.sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
