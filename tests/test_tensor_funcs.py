"""numpy's and PyTensor's array functions composed from existing ops (``split join stacklists
horizontal_stack vertical_stack atleast_Nd flip moveaxis pad diag tri linspace mgrid ogrid
max_and_argmax ptp median nansum nanmax nanmin isclose allclose einsum psi gamma log1mexp
log1pexp xlogx xlogy0`` and numpy's aliases) against numpy in both linkers over seeded random shapes, their
declared static shapes against the values, gradients against finite differences, bad
arguments."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled, fd_check_grads, numpy_errstate, sample

ARRAY_DTYPES = ("bool", "int16", "uint8", "int64", "float32", "float64")


def _np_split_sizes(x: np.ndarray, sizes: np.ndarray, axis: int) -> list:
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _cases(x, m, v, k, sizes):
    """name -> (symbolic expression or list of them, numpy reference of the values)."""
    cases = {
        "split_sizes": (
            lambda: ft.split(x, sizes, 3, axis=1),
            lambda x, m, v, k, s: _np_split_sizes(x, s, 1),
        ),
        "split_sections": (lambda: ft.split(m, 1, axis=0), lambda x, m, v, k, s: np.split(m, 1, axis=0)),
        "split_indices": (
            lambda: ft.split(x, [1, 3], axis=-1),
            lambda x, m, v, k, s: np.split(x, [1, 3], axis=-1),
        ),
        "join": (lambda: ft.join(1, x, x[:, :1]), lambda x, m, v, k, s: np.concatenate([x, x[:, :1]], 1)),
        "stacklists": (
            lambda: ft.stacklists([[v, v[::-1]], [v, v]]),
            lambda x, m, v, k, s: np.array([[v, v[::-1]], [v, v]]),
        ),
        "hstack_vec": (lambda: ft.horizontal_stack(v, v), lambda x, m, v, k, s: np.hstack([v, v])),
        "hstack_mat": (lambda: ft.horizontal_stack(m, m), lambda x, m, v, k, s: np.hstack([m, m])),
        "vstack": (lambda: ft.vertical_stack(v, v), lambda x, m, v, k, s: np.vstack([v, v])),
        "atleast_1d": (lambda: ft.atleast_1d(v[0]), lambda x, m, v, k, s: np.atleast_1d(v[0])),
        "atleast_2d": (lambda: ft.atleast_2d(v[0], v), lambda x, m, v, k, s: np.atleast_2d(v[0], v)),
        "atleast_3d": (
            lambda: ft.atleast_3d(v[0], v, m, x),
            lambda x, m, v, k, s: np.atleast_3d(v[0], v, m, x),
        ),
        "flip": (lambda: ft.flip(x), lambda x, m, v, k, s: np.flip(x)),
        "flip_axes": (lambda: ft.flip(x, (0, 2)), lambda x, m, v, k, s: np.flip(x, (0, 2))),
        "moveaxis": (lambda: ft.moveaxis(x, 0, -1), lambda x, m, v, k, s: np.moveaxis(x, 0, -1)),
        "moveaxis_2": (
            lambda: ft.moveaxis(x, [0, 1], [2, 0]),
            lambda x, m, v, k, s: np.moveaxis(x, [0, 1], [2, 0]),
        ),
        "pad_constant": (
            lambda: ft.pad(m, ((1, 2), (0, 3)), constant_values=3),
            lambda x, m, v, k, s: np.pad(m, ((1, 2), (0, 3)), constant_values=3),
        ),
        "pad_edge": (lambda: ft.pad(m, (2, 1), "edge"), lambda x, m, v, k, s: np.pad(m, (2, 1), "edge")),
        "pad_reflect": (lambda: ft.pad(m, 1, "reflect"), lambda x, m, v, k, s: np.pad(m, 1, "reflect")),
        "pad_symmetric": (
            lambda: ft.pad(m, ((2, 0), (1, 2)), "symmetric"),
            lambda x, m, v, k, s: np.pad(m, ((2, 0), (1, 2)), "symmetric"),
        ),
        "pad_wrap": (
            lambda: ft.pad(x, ((0, 0), (1, 3), (2, 2)), "wrap"),
            lambda x, m, v, k, s: np.pad(x, ((0, 0), (1, 3), (2, 2)), "wrap"),
        ),
        "diag_vec": (lambda: ft.diag(v), lambda x, m, v, k, s: np.diag(v)),
        "diag_vec_k": (lambda: ft.diag(v, 2), lambda x, m, v, k, s: np.diag(v, 2)),
        "diag_vec_neg": (lambda: ft.diag(v, -3), lambda x, m, v, k, s: np.diag(v, -3)),
        "diag_mat": (lambda: ft.diag(m, -1), lambda x, m, v, k, s: np.diag(m, -1)),
        "tri": (
            lambda: ft.tri(m.shape[0], m.shape[1], k, m.dtype),
            lambda x, m, v, k, s: np.tri(*m.shape, k, m.dtype),
        ),
        "tri_square": (lambda: ft.tri(3), lambda x, m, v, k, s: np.tri(3)),
        "max_and_argmax": (
            lambda: ft.max_and_argmax(x, 1),
            lambda x, m, v, k, s: [np.max(x, 1), np.argmax(x, 1)],
        ),
    }
    if x.dtype != "bool":
        cases["ptp"] = (lambda: ft.ptp(x, axis=(1, 2)), lambda x, m, v, k, s: np.ptp(x, axis=(1, 2)))
        cases["ptp_all"] = (lambda: ft.ptp(m, keepdims=True), lambda x, m, v, k, s: np.ptp(m, keepdims=True))
    return cases


@compiled
def funcs_fn(dtype: str, mode: str):
    """One function per dtype and mode; every shape and value comes at run time."""
    x, m, v = ft.tensor("x", dtype, 3), ft.tensor("m", dtype, 2), ft.tensor("v", dtype, 1)
    k, sizes = ft.iscalar("k"), ft.lvector("sizes")
    cases = {n: (build(), ref) for n, (build, ref) in _cases(x, m, v, k, sizes).items()}
    names, flat, counts = list(cases), [], []
    for n in names:
        out = cases[n][0]
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        flat += outs
        counts.append(len(outs))
    f = fc.function([x, m, v, k, sizes], flat, mode=mode, on_unused_input="ignore")
    return f, names, counts, flat, {n: cases[n][1] for n in names}


def _check_declared(var, got: np.ndarray, what: str) -> None:
    """The static shape an expression declares holds for its value."""
    assert var.type.dtype == got.dtype.name, f"{what}: declared {var.type.dtype}, got {got.dtype}"
    assert len(var.type.shape) == got.ndim, f"{what}: declared {var.type}, got shape {got.shape}"
    for d, n in zip(var.type.shape, got.shape):
        assert d is None or d == n, f"{what}: declared {var.type}, got shape {got.shape}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ARRAY_DTYPES)
def test_array_functions_against_numpy(dtype: str, mode: str) -> None:
    f, names, counts, flat, refs = funcs_fn(dtype, mode)
    rng = np.random.default_rng(ARRAY_DTYPES.index(dtype))
    for trial in range(5):
        shape = (int(rng.integers(1, 5)), 4, int(rng.integers(3, 6)))
        x = sample(dtype, tuple(2 * n for n in shape), seed=trial)[::2, ::-2, ::2]  # strided
        if trial == 0:
            shape = (0, 4, 3)  # an empty leading axis
            x = x[:0]
        m = sample(dtype, (int(rng.integers(2, 6)), int(rng.integers(2, 6))), seed=trial + 9)
        v = sample(dtype, (int(rng.integers(1, 6)),), seed=trial + 20)
        k = np.int32(rng.integers(-3, 4))
        cut = sorted(int(c) for c in rng.integers(0, 5, size=2))
        sizes = np.array([cut[0], cut[1] - cut[0], 4 - cut[1]], dtype=np.int64)
        args = (x, m, v, k, sizes)
        got = iter(zip(flat, f(*args)))
        for name, count in zip(names, counts):
            with numpy_errstate():
                want = refs[name](*args)
            want = list(want) if isinstance(want, (list, tuple)) else [want]
            assert len(want) == count, name
            for i, w in enumerate(want):
                var, g = next(got)
                what = f"{name}[{i}] {dtype} x{x.shape} m{m.shape} v{v.shape} k={k} sizes={sizes}"
                assert_same(g, w, what)
                _check_declared(var, g, what)


@compiled
def grid_fn(mode: str):
    a, b = ft.dscalar("a"), ft.fscalar("b")
    n = ft.lscalar("n")
    outs = {
        "linspace": (ft.linspace(0, 1, 7), np.linspace(0, 1, 7)),
        "linspace_open": (ft.linspace(-2, 3, 6, endpoint=False), np.linspace(-2, 3, 6, endpoint=False)),
        "linspace_sym": (ft.linspace(a, a * 3, 9), lambda a, b: np.linspace(a, a * 3, 9)),
        "linspace_f32": (ft.linspace(b, 2 * b, 5), lambda a, b: np.linspace(b, 2 * b, 5)),
        "linspace_one": (ft.linspace(a, 4, 1), lambda a, b: np.linspace(a, 4, 1)),
        "linspace_none": (ft.linspace(a, 4, 0), lambda a, b: np.linspace(a, 4, 0)),
        "linspace_int": (
            ft.linspace(-3, a, 8, dtype="int64"),
            lambda a, b: np.linspace(-3, a, 8, dtype="int64"),
        ),
        "mgrid_1": (ft.mgrid[1:7:2], np.mgrid[1:7:2]),
        "mgrid": (ft.mgrid[0:3, 1:5], list(np.mgrid[0:3, 1:5])),
        "mgrid_float": (ft.mgrid[0:2:0.5, 0:3], list(np.mgrid[0:2:0.5, 0:3])),
        "mgrid_count": (ft.mgrid[-1:1:5j, 0:n], lambda a, b, n=4: list(np.mgrid[-1:1:5j, 0:4])),
        "ogrid": (ft.ogrid[0:3, 1:5, 0:1:3j], list(np.ogrid[0:3, 1:5, 0:1:3j])),
    }
    names = list(outs)
    flat, counts = [], []
    for name in names:
        o = outs[name][0]
        o = list(o) if isinstance(o, list) else [o]
        flat += o
        counts.append(len(o))
    f = fc.function([a, b, n], flat, mode=mode, on_unused_input="ignore")
    return f, names, counts, flat, {n_: outs[n_][1] for n_ in names}


@pytest.mark.parametrize("mode", MODES)
def test_linspace_and_grids_against_numpy(mode: str) -> None:
    f, names, counts, flat, refs = grid_fn(mode)
    for a, b in ((0.25, 1.5), (-3.0, 0.0), (7.5, -2.25)):
        got = iter(zip(flat, f(a, np.float32(b), 4)))
        for name, count in zip(names, counts):
            want = refs[name]
            want = want(a, np.float32(b)) if callable(want) else want
            want = want if isinstance(want, list) else [want]
            assert len(want) == count, name
            for i, w in enumerate(want):
                var, g = next(got)
                assert_same(g, w, f"{name}[{i}] a={a} b={b}", rtol=1e-15 if g.dtype == "float64" else None)
                _check_declared(var, g, f"{name}[{i}]")


@compiled
def reductions_fn(dtype: str, mode: str):
    x, v = ft.tensor("x", dtype, 2), ft.tensor("v", dtype, 1)
    outs = {
        "median": (ft.median(x), lambda x, v: np.median(x)),
        "median_0": (ft.median(x, 0), lambda x, v: np.median(x, 0)),
        "median_1_keep": (ft.median(x, -1, keepdims=True), lambda x, v: np.median(x, -1, keepdims=True)),
        "median_vec": (ft.median(v), lambda x, v: np.median(v)),
        "nansum": (ft.nansum(x), lambda x, v: np.nansum(x)),
        "nansum_0": (ft.nansum(x, 0), lambda x, v: np.nansum(x, 0)),
        "nanmax": (ft.nanmax(x, 1), lambda x, v: np.nanmax(x, 1)),
        "nanmin_keep": (ft.nanmin(x, 0, keepdims=True), lambda x, v: np.nanmin(x, 0, keepdims=True)),
        "isclose": (ft.isclose(x, v[0]), lambda x, v: np.isclose(x, v[0])),
        "isclose_tol": (
            ft.isclose(x, x[::-1], rtol=0.5, atol=1.0, equal_nan=True),
            lambda x, v: np.isclose(x, x[::-1], rtol=0.5, atol=1.0, equal_nan=True),
        ),
        "allclose": (ft.allclose(x, x[::-1]), lambda x, v: np.allclose(x, x[::-1])),
        "allclose_self": (ft.allclose(x, x, equal_nan=True), lambda x, v: np.allclose(x, x, equal_nan=True)),
    }
    names = list(outs)
    f = fc.function([x, v], [outs[n][0] for n in names], mode=mode)
    return f, names, [outs[n][0] for n in names], {n: outs[n][1] for n in names}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("int16", "uint8", "float32", "float64"))
def test_reductions_and_closeness_against_numpy(dtype: str, mode: str) -> None:
    f, names, outs, refs = reductions_fn(dtype, mode)
    rng = np.random.default_rng(3)
    for trial in range(6):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        x = sample(dtype, shape, seed=trial, special=trial % 2 == 0)
        if dtype.startswith("float") and trial == 4:
            x[:, 0] = np.nan  # a column of NaNs only: numpy's nanmax/nanmin give NaN
        v = sample(dtype, (3,), seed=trial + 7, special=False)
        for name, var, got in zip(names, outs, f(x, v)):
            with numpy_errstate(), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # numpy's all-NaN slice warning
                want = refs[name](x, v)
            assert_same(got, want, f"{name} {dtype} x={x!r}")
            _check_declared(var, got, name)


EULER = 0.57721566490153286060651209008240243


def _psi_reference(x: float) -> float:
    """psi at integers and half-integers from their exact series (psi(n) = -gamma + H(n-1),
    psi(n + 1/2) = -gamma - 2 log 2 + sum 2 / (2k - 1)), negative ones by the reflection."""
    if x < 0:
        return _psi_reference(1 - x) - math.pi / math.tan(math.pi * x)
    if float(x).is_integer():
        return -EULER + math.fsum(1.0 / k for k in range(1, int(x)))
    n = int(x - 0.5)
    return -EULER - 2 * math.log(2.0) + math.fsum(2.0 / (2 * k - 1) for k in range(1, n + 1))


@pytest.mark.parametrize("mode", MODES)
def test_special_functions(mode: str) -> None:
    v, w = ft.dvector("v"), ft.dvector("w")
    f = fc.function(
        [v, w],
        [ft.psi(v), ft.digamma(w), ft.log1mexp(-w), ft.log1pexp(v), ft.xlogx(w), ft.xlogy0(w, v * 0)],
        mode=mode,
    )
    points = np.array([1, 2, 3, 10, 0.5, 1.5, 7.5, 40.5, 1000, -0.5, -2.5, -7.5], dtype=float)
    x = np.concatenate([[0.0, 1e-20, 1e-5, 0.3, 0.693, 0.7, 5.0, 40.0, 800.0], np.zeros(3)])
    psi_v, psi_w, l1m, l1p, xlx, xly = f(points, x)
    want = np.array([_psi_reference(p) for p in points])
    np.testing.assert_allclose(psi_v, want, rtol=1e-14, atol=1e-14)
    assert np.isinf(psi_w[0]) or np.isnan(psi_w[0])  # psi has a pole at 0
    with numpy_errstate():
        assert_same(
            l1m,
            np.where(x < math.log(2), np.log(-np.expm1(-x)), np.log1p(-np.exp(-x))),
            "log1mexp",
            rtol=1e-14,
        )
        assert_same(l1p, np.logaddexp(0, points), "log1pexp", rtol=1e-14)
        assert_same(xlx, np.where(x == 0, 0.0, x * np.log(x)), "xlogx", rtol=1e-14)
        assert_same(xly, np.where(x == 0, 0.0, x * np.log(0.0)), "xlogy0", rtol=1e-14)
    # accurate where the naive formula is not: log(1 - exp(-1e-20)) and log(1 - exp(-800))
    assert l1m[1] == pytest.approx(math.log(1e-20), rel=1e-15)
    assert l1m[8] == pytest.approx(-math.exp(-800), rel=1e-15)
    assert xlx[0] == 0.0 and xly[0] == 0.0 and xly[1] == -np.inf


def _polygamma_reference(n: int, x: float) -> float:
    """(-1)**(n+1) n! sum_k 1 / (x + k)**(n + 1): 200000 terms summed exactly rounded, the rest
    by Euler-Maclaurin."""
    terms = 200000
    t = x + terms
    total = math.fsum(1.0 / (x + k) ** (n + 1) for k in range(terms))
    total += 1 / (n * t**n) + 1 / (2 * t ** (n + 1)) + (n + 1) / (12 * t ** (n + 2))
    return (-1) ** (n + 1) * math.factorial(n) * total


@pytest.mark.parametrize("mode", MODES)
def test_polygamma_against_its_series(mode: str) -> None:
    x = ft.dvector("x")
    orders = (1, 2, 3, 6)
    f = fc.function([x], [ft.polygamma(n, x) for n in orders] + [ft.polygamma(0, x)], mode=mode)
    pts = np.array([1e-3, 0.1, 0.5, 1.0, 2.5, 7.3, 15.9, 16.0, 40.0, 1e3])
    *got, psi0 = f(np.concatenate([pts, [0.0, -1.5, np.nan]]))
    for n, g in zip(orders, got):
        want = np.array([_polygamma_reference(n, p) for p in pts])
        np.testing.assert_allclose(g[: len(pts)], want, rtol=1e-14, err_msg=f"polygamma({n})")
        if n == 1:  # tri_gamma reflects x <= 0: +inf at the pole 0, pi^2 - psi1(2.5) at -1.5
            assert g[len(pts)] == np.inf and np.isnan(g[-1])
            assert g[len(pts) + 1] == pytest.approx(math.pi**2 - _polygamma_reference(1, 2.5), rel=1e-13)
        else:
            assert np.isnan(g[len(pts) :]).all(), f"polygamma({n}) outside x > 0"
    # known values: psi1(1) = pi^2/6, psi1(1/2) = pi^2/2, psi2(1) = -2 zeta(3)
    assert got[0][3] == pytest.approx(math.pi**2 / 6, rel=1e-15)
    assert got[0][2] == pytest.approx(math.pi**2 / 2, rel=1e-15)
    assert got[1][3] == pytest.approx(-2 * 1.2020569031595942854, rel=1e-15)
    assert_same(psi0[: len(pts)], f(pts)[-1], "polygamma(0) is psi")
    with pytest.raises(ValueError, match="polygamma: n .the order. must be a non-negative int, got -1"):
        ft.polygamma(-1, x)


def _gamma_reference(x: float) -> float:
    """Python's math.gamma, with C's tgamma values where it raises."""
    try:
        return math.gamma(x)
    except ValueError:
        return math.copysign(math.inf, x) if x == 0 else math.nan
    except OverflowError:
        return math.inf


@pytest.mark.parametrize("mode", MODES)
def test_gamma_against_python_math(mode: str) -> None:
    x, y, n = ft.dvector("x"), ft.fvector("y"), ft.ivector("n")
    f = fc.function([x, y, n], [ft.gamma(x), ft.gamma(y), ft.gamma(n)], mode=mode)
    rng = np.random.default_rng(6)
    pts = np.concatenate(
        [
            [0.0, -0.0, -1.0, -7.0, 0.5, 1e-300, 171.5, 172.0, -170.5, -200.3, np.inf, -np.inf, np.nan],
            rng.uniform(-30, 60, size=40),
            rng.uniform(0, 3, size=20),
        ]
    )
    ints = np.array([-3, 0, 1, 2, 5, 20, 170, 171], dtype=np.int32)
    gx, gy, gn = f(pts, pts.astype(np.float32), ints)
    assert_same(gx, np.array([_gamma_reference(p) for p in pts]), "gamma float64", rtol=1e-13)
    with numpy_errstate():  # values past float32's range become inf, as tgammaf's
        want32 = np.array([_gamma_reference(p) for p in pts.astype(np.float32).astype(float)]).astype(
            np.float32
        )
    assert_same(gy, want32, "gamma float32", rtol=1e-5)
    assert_same(gn, np.array([_gamma_reference(float(i)) for i in ints]), "gamma int32", rtol=1e-13)


def test_numpy_aliases_are_the_operator_ops() -> None:
    a, b = ft.lvector("a"), ft.lvector("b")
    f = fc.function(
        [a, b],
        [
            ft.bitwise_and(a, b),
            ft.bitwise_or(a, b),
            ft.bitwise_xor(a, b),
            ft.bitwise_not(a),
            ft.floor_div(a, b),
        ],
    )
    x, y = np.array([5, -3, 12, 7]), np.array([3, 2, -5, 1])
    for got, want in zip(f(x, y), [x & y, x | y, x ^ y, ~x, x // y]):
        assert_same(got, want, "alias")
    assert_same(
        fc.function([c := ft.dvector("c")], ft.floor_div(c, 0.5))(np.array([1.3, -1.3])),
        np.array([2.0, -3.0]),
    )
    with pytest.raises(TypeError, match="and_ is not defined for dtypes float64"):
        ft.bitwise_and(ft.dvector(), ft.dvector())


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    x, y, v, s = ft.dmatrix("x"), ft.dtensor3("y"), ft.dvector("v"), ft.dscalar("s")
    cases = {
        "split": (
            lambda x, y, v, s: ft.concatenate(
                [p * (i + 1) for i, p in enumerate(ft.split(x, [1, 0, 2], 3, 1))], 1
            ),
            [0],
        ),
        "split_np": (lambda x, y, v, s: ft.split(y, 2, axis=0)[1] ** 2, [1]),
        "join": (lambda x, y, v, s: ft.join(0, x, x * 2), [0]),
        "stacklists": (lambda x, y, v, s: ft.stacklists([[s, s * 2], [v[0], s * v[1]]]), [2, 3]),
        "hstack": (lambda x, y, v, s: ft.horizontal_stack(v, v**2), [2]),
        "diag_vec": (lambda x, y, v, s: ft.diag(v, 1) * ft.arange(1.0, 4.0 + 1.0), [2]),
        "diag_vec_neg": (lambda x, y, v, s: ft.diag(v * v, -2), [2]),
        "diag_mat": (lambda x, y, v, s: ft.diag(x, 1) ** 2, [0]),
        "flip": (lambda x, y, v, s: ft.flip(y, (1, 2)) * y, [1]),
        "moveaxis": (lambda x, y, v, s: ft.moveaxis(y, 0, 2) * ft.arange(4.0), [1]),
        "pad_constant": (lambda x, y, v, s: ft.pad(x, 1, constant_values=s) * 2, [0, 3]),
        "pad_edge": (lambda x, y, v, s: ft.pad(x, (1, 2), "edge") ** 2, [0]),
        "pad_reflect": (lambda x, y, v, s: ft.pad(x, ((1, 2), (2, 1)), "reflect") ** 2, [0]),
        "pad_symmetric": (lambda x, y, v, s: ft.pad(y, 1, "symmetric") ** 2, [1]),
        "pad_wrap": (lambda x, y, v, s: ft.pad(v, (2, 1), "wrap") ** 2, [2]),
        "linspace": (lambda x, y, v, s: ft.linspace(s, v[0], 5) ** 2, [2, 3]),
        "max_and_argmax": (lambda x, y, v, s: ft.max_and_argmax(x, 0)[0], [0]),
        "ptp": (lambda x, y, v, s: ft.ptp(y, 1), [1]),
        "median_odd": (lambda x, y, v, s: ft.median(v), [2]),
        "median_even": (lambda x, y, v, s: ft.median(x, 0), [0]),
        "nansum": (lambda x, y, v, s: ft.nansum(x * x, 1), [0]),
        "nanmax": (lambda x, y, v, s: ft.nanmax(y, (0, 2)), [1]),
        "nanmin": (lambda x, y, v, s: ft.nanmin(x), [0]),
        "psi": (lambda x, y, v, s: ft.psi(ft.exp(v)), [2]),
        "gamma": (lambda x, y, v, s: ft.gamma(x + 2.5), [0]),
        "polygamma": (lambda x, y, v, s: ft.polygamma(2, ft.exp(x) + 1), [0]),
        "fill_diagonal": (lambda x, y, v, s: ft.fill_diagonal(x, s) * x, [0, 3]),
        "choose": (lambda x, y, v, s: ft.choose(ft.constant(np.array([1, 0, 2])), [x, x * 2, v]), [0, 2]),
        "nonzero_values": (lambda x, y, v, s: ft.nonzero_values(ft.switch(x > 0, x, 0)) ** 2, [0]),
        "second": (lambda x, y, v, s: ft.second(x, v) * x, [0, 2]),
        "bincount": (
            lambda x, y, v, s: ft.bincount(ft.constant(np.array([3, 0, 3, 1])), v[[0, 1, 2, 0]], 5),
            [2],
        ),
        "log1mexp": (lambda x, y, v, s: ft.log1mexp(-ft.exp(v)), [2]),
        "log1pexp": (lambda x, y, v, s: ft.log1pexp(x), [0]),
        "xlogx": (lambda x, y, v, s: ft.xlogx(ft.exp(x)), [0]),
        "xlogy0": (lambda x, y, v, s: ft.xlogy0(x, ft.exp(x)), [0]),
    }
    rng = np.random.default_rng(5)
    values = [
        [rng.normal(size=(4, 3)), rng.normal(size=(4, 2, 3)), rng.normal(size=3), np.array(rng.normal())]
    ]
    fd_check_grads([x, y, v, s], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_split_sizes_are_checked_when_the_function_runs(mode: str) -> None:
    x, s = ft.dmatrix("x"), ft.lvector("s")
    f = fc.function([x, s], ft.split(x, s, 2, axis=1), mode=mode)
    got = f(np.arange(6.0).reshape(2, 3), np.array([2, 1]))
    assert_same(got[0], np.arange(6.0).reshape(2, 3)[:, :2])
    for bad in ([1, 1], [4, -1], [1, 1, 1]):
        with pytest.raises(
            ValueError, match=r"split: the sizes \[.*\] must be 2 non-negative ints that add up"
        ):
            f(np.ones((2, 3)), np.array(bad))
    g = fc.function([x], ft.split(x, 2, axis=0), mode=mode)
    with pytest.raises(ValueError, match=r"split: 2 sections do not divide axis 0 of x \(length 3\)"):
        g(np.ones((3, 2)))
    p = fc.function([x], ft.pad(x, 2, "reflect"), mode=mode)
    assert_same(p(np.arange(10.0).reshape(2, 5)), np.pad(np.arange(10.0).reshape(2, 5), 2, "reflect"))
    with pytest.raises(ValueError, match="pad: mode 'reflect' cannot pad the empty axis 0"):
        p(np.ones((0, 5)))


@pytest.mark.parametrize("mode", MODES)
def test_data_dependent_functions_refuse_bad_values_when_run(mode: str) -> None:
    i, w, a = ft.lvector("i"), ft.dvector("w"), ft.lvector("a")
    f = fc.function([i, w], ft.bincount(i, w), mode=mode)
    with pytest.raises(ValueError, match="bincount: the values must not be negative, got -2"):
        f(np.array([1, -2]), np.ones(2))
    with pytest.raises(ValueError, match=r"bincount: weights of shape \(3,\) for values of shape \(2,\)"):
        f(np.array([1, 2]), np.ones(3))
    c = fc.function([a, w], ft.choose(a, [w, w * 2]), mode=mode)
    assert_same(c(np.array([1, 0, 1]), np.ones(3)), np.array([2.0, 1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"choose: an index of a is outside \[0, 2\)"):
        c(np.array([1, 2, 0]), np.ones(3))
    with pytest.raises(AssertionError, match="choose: an index of a is outside"):
        c(np.array([-1, 0, 0]), np.ones(3))


def test_bad_arguments_name_the_function_what_was_given_and_the_fix() -> None:
    x, m, v = ft.dtensor3("x"), ft.dmatrix("m"), ft.dvector("v")
    fixed = ft.tensor("t", "float64", shape=(2, 5))
    cases = [
        (
            lambda: ft.split(m, [1, 2], 3),
            ValueError,
            r"split: 2 sizes \[1, 2\] for n_splits=3; give one size per piece",
        ),
        (
            lambda: ft.split(fixed, [1, 2], 2, 1),
            ValueError,
            r"split: the sizes \[1, 2\] must be non-negative and add up to the length 5",
        ),
        (
            lambda: ft.split(m, [1.5, 2], 2),
            TypeError,
            "split: splits_size must be a list of ints or a symbolic int vector",
        ),
        (lambda: ft.split(m, v, 2), TypeError, "split: splits_size must be a list of ints"),
        (lambda: ft.split(m, [1], 0), ValueError, "split: n_splits must be a positive int, got 0"),
        (lambda: ft.split(m, 0), ValueError, "split: the number of sections must be a positive int, got 0"),
        (
            lambda: ft.split(m, "a"),
            TypeError,
            "split: without n_splits the second argument is numpy's indices_or_sections",
        ),
        (lambda: ft.split(ft.dscalar(), 2), ValueError, "split: a 0-d tensor has no axis"),
        (lambda: ft.split(m, 2, axis=2), ValueError, "split: axis 2 is out of bounds"),
        (lambda: ft.join(m, m), TypeError, "join: the axis .first argument. must be an int"),
        (lambda: ft.join(0), ValueError, "join: give at least one tensor after the axis"),
        (lambda: ft.stacklists([]), ValueError, "stacklists: a list is empty"),
        (lambda: ft.atleast_2d(), TypeError, "atleast_2d: give at least one tensor"),
        (lambda: ft.horizontal_stack(), ValueError, "horizontal_stack: give at least one tensor"),
        (lambda: ft.flip(m, 2), ValueError, "flip: axis 2 is out of bounds"),
        (
            lambda: ft.moveaxis(x, [0, 1], [2]),
            ValueError,
            "moveaxis: 2 source axes .* give one destination per source axis",
        ),
        (lambda: ft.moveaxis(x, 0, 0.5), TypeError, "moveaxis: axis must be"),
        (
            lambda: ft.pad(m, 1, "mean_"),
            ValueError,
            "pad: mode 'mean_' is not supported; give one of constant",
        ),
        (lambda: ft.pad(m, 1, "edge", stat_length=2), ValueError, "pad: mode 'edge' takes no stat_length"),
        (
            lambda: ft.pad(m, 1, "reflect", reflect_type="x"),
            ValueError,
            "pad: reflect_type must be 'even' or 'odd'",
        ),
        (lambda: ft.pad(m, 1, "mean", stat_length=0), ValueError, "pad: stat_length must be at least 1"),
        (lambda: ft.pad(m, -1), ValueError, "pad: pad_width must not be negative"),
        (lambda: ft.pad(m, 1.5), TypeError, "pad: pad_width must be ints"),
        (
            lambda: ft.pad(m, ((1, 2), (1, 2), (1, 2))),
            ValueError,
            "pad: pad_width .* does not fit a tensor of 2 dims",
        ),
        (lambda: ft.pad(m, 1, constant_values="a"), TypeError, "pad: constant_values must be numbers"),
        (lambda: ft.pad(m, 1, constant_values=(1, 2, 3)), ValueError, "pad: constant_values .* does not fit"),
        (
            lambda: ft.pad(ft.TensorType("float64", (0, 3))("e"), 2, "reflect"),
            ValueError,
            "pad: mode 'reflect' cannot pad the empty axis 0; use mode 'constant'",
        ),
        (lambda: ft.diag(x), ValueError, "diag: takes a vector .* or a matrix .*, got"),
        (lambda: ft.diag(v, 0.5), TypeError, "diag: k must be an int, got 0.5"),
        (lambda: ft.tri(3, 3, 0.5), TypeError, "tri: k must be an int or an int scalar"),
        (lambda: ft.tri(2.5), TypeError, "tri: N must be an int or an int scalar, got 2.5"),
        (lambda: ft.linspace(0, 1, -1), ValueError, "linspace: num must be a non-negative int, got -1"),
        (lambda: ft.linspace(0, 1, 2.0), TypeError, "linspace: num must be a non-negative int, got 2.0"),
        (lambda: ft.linspace(v, 1), ValueError, "linspace: start must be a scalar"),
        (lambda: ft.linspace(0, 1j), TypeError, "linspace: stop must be real"),
        (lambda: ft.mgrid[0:], TypeError, r"mgrid: index it with slices start:stop\[:step\], got slice"),
        (lambda: ft.ogrid[1, 2], TypeError, "ogrid: index it with slices"),
        (lambda: ft.ptp(ft.bvector()), TypeError, "ptp: bool tensors have no difference"),
        (lambda: ft.median(m, (0, 0)), ValueError, "median: axis 0 is repeated"),
        (lambda: ft.median(ft.zvector()), TypeError, "median: takes real numbers"),
        (lambda: ft.isclose(m, m, rtol=m), TypeError, "isclose: rtol must be a Python number"),
        (lambda: ft.isclose(ft.zvector(), v), TypeError, "isclose: complex tensors are not supported"),
        (
            lambda: ft.nonzero(ft.dscalar()),
            ValueError,
            "nonzero: takes a tensor of 1 or more dims, got a 0-d",
        ),
        (lambda: ft.unique(ft.zvector()), TypeError, "unique: complex tensors are not supported"),
        (lambda: ft.bincount(v), TypeError, "bincount: x must be an int vector, got"),
        (
            lambda: ft.bincount(ft.lvector(), minlength=-1),
            ValueError,
            "bincount: minlength must be a non-negative int, got -1",
        ),
        (
            lambda: ft.bincount(ft.lvector(), minlength=2.0),
            TypeError,
            "bincount: minlength must be a non-negative int, got 2.0",
        ),
        (lambda: ft.bincount(ft.lvector(), m), TypeError, "bincount: weights must be a real vector like x"),
        (lambda: ft.searchsorted(m, v), ValueError, "searchsorted: a must be a vector, got"),
        (
            lambda: ft.searchsorted(v, v, side="middle"),
            ValueError,
            "searchsorted: side must be 'left' or 'right'",
        ),
        (lambda: ft.searchsorted(v, v, sorter=v), TypeError, "searchsorted: sorter must be an int vector"),
        (lambda: ft.fill_diagonal(v, 1), ValueError, "fill_diagonal: takes a matrix, got"),
        (lambda: ft.fill_diagonal(m, v), TypeError, "fill_diagonal: val must be a scalar"),
        (lambda: ft.choose(v, [v, v]), TypeError, "choose: a must hold ints"),
        (
            lambda: ft.choose(ft.lvector(), "abc"),
            TypeError,
            "choose: choices must be a non-empty list or tuple of tensors, or one tensor",
        ),
        (lambda: ft.choose(ft.lvector(), []), TypeError, "choose: choices must be a non-empty list"),
    ]
    for build, exc, message in cases:
        with pytest.raises(exc, match=message):
            build()


EINSUM_SPECS = {
    "transpose": ("ij->ji", "m"),
    "implicit": ("ji", "m"),
    "total": ("ij->", "m"),
    "row_sums": ("ij->i", "m"),
    "matmul": ("ij,jk->ik", "mn"),
    "implicit_matmul": ("ij,jk", "mn"),
    "batched": ("bij,bjk->bik", "xy"),
    "keep_shared": ("ij,ij->i", "mm"),
    "outer": ("i,j->ij", "vw"),
    "three": ("ij,jk,k->ij", "mnw"),
    "chain_sum": ("bij,jk,k->", "xnw"),
    "permuted_out": ("bij,bjk->kib", "xy"),
}


@compiled
def einsum_fn(dtype: str, mode: str):
    ops = {
        "m": ft.tensor("m", dtype, 2),
        "n": ft.tensor("n", dtype, 2),
        "x": ft.tensor("x", dtype, 3),
        "y": ft.tensor("y", dtype, 3),
        "v": ft.tensor("v", dtype, 1),
        "w": ft.tensor("w", dtype, 1),
    }
    outs = [ft.einsum(spec, *[ops[c] for c in names]) for spec, names in EINSUM_SPECS.values()]
    return fc.function(list(ops.values()), outs, mode=mode), outs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("bool", "int16", "float32", "float64"))
def test_einsum_against_numpy(dtype: str, mode: str) -> None:
    f, outs = einsum_fn(dtype, mode)
    rng = np.random.default_rng(11)
    for trial in range(4):
        b, i, j, k = (int(d) for d in rng.integers(1 if trial else 0, 5, size=4))
        vals = {
            "m": sample(dtype, (i, j), seed=trial, special=False),
            "n": sample(dtype, (j, k), seed=trial + 1, special=False),
            "x": sample(dtype, (b, i, j), seed=trial + 2, special=False),
            "y": sample(dtype, (b, j, k), seed=trial + 3, special=False),
            "v": sample(dtype, (i,), seed=trial + 4, special=False),
            "w": sample(dtype, (k,), seed=trial + 5, special=False),
        }
        for (name, (spec, names)), var, got in zip(EINSUM_SPECS.items(), outs, f(*vals.values())):
            want = np.einsum(spec, *[vals[c] for c in names])
            tol = 1e-5 if dtype == "float32" else None
            assert_same(got, want, f"{name} {spec} {dtype} b,i,j,k={b, i, j, k}", rtol=tol, atol=tol)
            _check_declared(var, got, name)


@pytest.mark.parametrize("mode", MODES)
def test_einsum_gradients_against_finite_differences(mode: str) -> None:
    m, n, x, v = ft.dmatrix("m"), ft.dmatrix("n"), ft.dtensor3("x"), ft.dvector("v")
    cases = {
        "matmul": (lambda m, n, x, v: ft.einsum("ij,jk->ik", m, n), [0, 1]),
        "keep_shared": (lambda m, n, x, v: ft.einsum("ij,ij->i", m, m * 2), [0]),
        "batched": (lambda m, n, x, v: ft.einsum("bij,jk,k->bi", x, n, v), [1, 2, 3]),
        "implicit": (lambda m, n, x, v: ft.einsum("bij,i", x, v), [2, 3]),
    }
    rng = np.random.default_rng(4)
    values = [
        [rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(2, 3, 3)), rng.normal(size=3)]
    ]
    fd_check_grads([m, n, x, v], cases, values, mode=mode)


def test_einsum_bad_arguments() -> None:
    m = ft.dmatrix("m")
    fixed = ft.tensor("t", "float64", shape=(2, 3))
    cases = [
        (lambda: ft.einsum("ij", m, m), ValueError, "einsum: 'ij' names 1 operands, 2 were given"),
        (lambda: ft.einsum("i1", m), ValueError, "einsum: subscripts are letters a-z, A-Z, got '1'"),
        (
            lambda: ft.einsum("ii->i", fixed),
            ValueError,
            "einsum: the dims of the repeated subscript 'i' have sizes 2 and 3 in 'ii->i'",
        ),
        (lambda: ft.einsum("ij->ii", m), ValueError, "einsum: output subscript 'i' is repeated"),
        (lambda: ft.einsum("ij->k", m), ValueError, "einsum: output subscript 'k' names no dim"),
        (lambda: ft.einsum("ijk", m), ValueError, r"einsum: operand 0 is .* \(2 dims\) but 'ijk' names 3"),
        (lambda: ft.einsum("ij,ij", fixed, fixed.T), ValueError, "einsum: subscript 'i' has sizes 2 and 3"),
        (lambda: ft.einsum(3, m), TypeError, "einsum: the subscripts must be a string"),
        (lambda: ft.einsum("ij"), ValueError, "einsum: give at least one operand"),
    ]
    for build, exc, message in cases:
        with pytest.raises(exc, match=message):
            build()


@compiled
def data_fn(dtype: str, mode: str):
    x, i, w, s = ft.tensor("x", dtype, 2), ft.lvector("i"), ft.dvector("w"), ft.lvector("s")
    outs = {
        "nonzero": (list(ft.nonzero(x)), lambda x, i, w, s: list(np.nonzero(x))),
        "nonzero_matrix": (ft.nonzero(x, return_matrix=True), lambda x, i, w, s: np.array(np.nonzero(x))),
        "flatnonzero": (ft.flatnonzero(x), lambda x, i, w, s: np.flatnonzero(x)),
        "nonzero_values": (ft.nonzero_values(x), lambda x, i, w, s: x.ravel()[np.flatnonzero(x)]),
        "unique": (ft.unique(x), lambda x, i, w, s: np.unique(x)),
        "unique_all": (
            ft.unique(x, return_index=True, return_inverse=True, return_counts=True),
            lambda x, i, w, s: list(np.unique(x, return_index=True, return_inverse=True, return_counts=True)),
        ),
        "unique_counts": (
            ft.unique(i, return_counts=True),
            lambda x, i, w, s: list(np.unique(i, return_counts=True)),
        ),
        "bincount": (ft.bincount(i), lambda x, i, w, s: np.bincount(i)),
        "bincount_weights": (
            ft.bincount(i, w, minlength=12),
            lambda x, i, w, s: np.bincount(i, w, minlength=12),
        ),
        "fill_diagonal": (ft.fill_diagonal(x, 7), lambda x, i, w, s: _filled(x, 7)),
        "choose": (
            ft.choose(s, [x[0], x[1] * 2, x[0] - 1]),
            lambda x, i, w, s: np.choose(s, [x[0], x[1] * 2, x[0] - 1]),
        ),
        "second": (ft.second(x, s[0]), lambda x, i, w, s: np.full(x.shape, s[0])),
    }
    if dtype != "bool":
        sorted_row = ft.sort(x[0])
        outs["searchsorted"] = (
            ft.searchsorted(sorted_row, x),
            lambda x, i, w, s: np.searchsorted(np.sort(x[0]), x),
        )
        outs["searchsorted_right_sorter"] = (
            ft.searchsorted(x[0], x[1], side="right", sorter=ft.argsort(x[0])),
            lambda x, i, w, s: np.searchsorted(
                x[0], x[1], side="right", sorter=np.argsort(x[0], kind="stable")
            ),
        )
    names, flat, counts = list(outs), [], []
    for n in names:
        o = outs[n][0]
        o = list(o) if isinstance(o, list) else [o]
        flat += o
        counts.append(len(o))
    f = fc.function([x, i, w, s], flat, mode=mode)
    return f, names, counts, flat, {n: outs[n][1] for n in names}


def _filled(x: np.ndarray, val: float) -> np.ndarray:
    out = x.copy()
    np.fill_diagonal(out, val)
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("bool", "int16", "float64"))
def test_data_dependent_functions_against_numpy(dtype: str, mode: str) -> None:
    f, names, counts, flat, refs = data_fn(dtype, mode)
    rng = np.random.default_rng(12)
    for trial in range(5):
        rows, cols = int(rng.integers(2, 6)), int(rng.integers(1, 6))
        x = sample(
            dtype,
            (rows, cols),
            seed=trial,
            special=False,
            **({} if dtype == "bool" else {"low": -3, "high": 3}),
        )
        if dtype == "float64":
            x = np.round(x)  # repeated values and zeros
        i = rng.integers(0, 9, size=int(rng.integers(0, 8)))
        args = (x, i, rng.normal(size=i.size), rng.integers(0, 3, size=cols))
        got = iter(zip(flat, f(*args)))
        for name, count in zip(names, counts):
            want = refs[name](*args)
            want = want if isinstance(want, list) else [want]
            assert len(want) == count, name
            for k, wv in enumerate(want):
                var, g = next(got)
                assert_same(g, wv, f"{name}[{k}] x={x!r} i={i}")
                _check_declared(var, g, f"{name}[{k}]")
