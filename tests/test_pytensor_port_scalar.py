"""PyTensor's scalar and special-math cases (tests/scalar/test_math.py, test_basic.py,
tests/tensor/test_math_scipy.py and test_math.py's integer division, mod, pow, clip and round)
at the edges the other differential tests leave out: infinities, NaN, signed zeros, subnormals,
huge arguments, the poles, the extremes of every integer dtype, in both modes against numpy and
scipy, and gradients against finite differences.

Where scipy's value is less accurate than fncache's (it underflows or overflows an intermediate,
or gives NaN for a limit that exists), the reference is the closed form, written beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, compiled, fd_gradient, numpy_errstate

EDGES = np.array(
    [-np.inf, -1e300, -50.5, -3.0, -2.5, -1.0, -0.5, -1e-310, -0.0, 0.0, 1e-310, 1e-20, 0.5, 1.0]
    + [1.5, 2.0, 3.0, 10.5, 30.0, 171.5, 200.0, 1e10, 1e300, np.inf, np.nan]
)

#: name -> scipy/numpy reference, on EDGES
UNARY = {
    "psi": special.psi,
    "tri_gamma": lambda x: special.polygamma(1, x),
    "erf": special.erf,
    "erfc": special.erfc,
    "erfcx": special.erfcx,
    "erfinv": special.erfinv,
    "erfcinv": special.erfcinv,
    "sigmoid": special.expit,
    "softplus": lambda x: np.logaddexp(0.0, x),
    "gamma": special.gamma,
    "logit": special.logit,
    "expm1": np.expm1,
    "log1p": np.log1p,
    "cbrt": np.cbrt,
    "sgn": np.sign,
    "round_half_to_even": np.round,
    "floor": np.floor,
    "ceil": np.ceil,
    "trunc": np.trunc,
    "abs": np.abs,
}

#: (name, argument, the value): where scipy's own value is not the limit or loses the subnormal
CLOSED_FORMS = [
    ("gammaln", 1e-310, -math.log(1e-310)),  # scipy overflows 1/x: inf
    ("gammaln", -1e-310, -math.log(1e-310)),
    ("gammaln", -3.0, math.inf),  # a pole
    ("gammaln", -np.inf, math.inf),  # C's lgamma (scipy gives -inf)
    ("j1", 1e-310, 5e-311),  # x / 2 exactly (scipy: 4.999999999974e-311)
    ("j1", -1e-310, -5e-311),
    ("i1", -0.0, -0.0),  # odd
    ("i0", np.inf, math.inf),  # scipy: NaN
    ("i1", -np.inf, -math.inf),
    ("j0", np.inf, 0.0),  # the limit (scipy: NaN)
    ("erfinv", -0.0, -0.0),  # odd
    ("log1mexp", -50.5, -math.exp(-50.5)),
]


def _closed(name: str, a: float) -> bool:
    return any(n == name and c == a and np.signbit(c) == np.signbit(a) for n, c, _ in CLOSED_FORMS)


def _same(got: np.ndarray, want: np.ndarray, rtol: float, what: str) -> None:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    bad = ~np.isclose(got, want, rtol=rtol, atol=0, equal_nan=True)
    bad |= (want == 0) & (np.signbit(got) != np.signbit(want))
    assert not bad.any(), f"{what}: at {np.nonzero(bad)[0]}: got {got[bad]}, want {want[bad]}"


@compiled
def _unary_fn(mode: str, dtype: str, names: tuple[str, ...]) -> fc.Function:
    x = ft.vector(dtype=dtype)
    return fc.function([x], [getattr(ft, n)(x) for n in names], mode=mode)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_unary_at_the_edges(mode: str, dtype: str) -> None:
    x = EDGES.astype(dtype)
    outs = _unary_fn(mode, dtype, tuple(UNARY))(x)
    for (name, ref), got in zip(UNARY.items(), outs):
        assert got.dtype == np.dtype(dtype), name
        with numpy_errstate():
            want = ref(x.astype(np.float64))
        # float32: the float64 value rounded; psi near its root at -0.504 loses relative digits
        rtol = 1e-12 if dtype == "float64" else (2e-5 if name == "psi" else 1e-5)
        # the points CLOSED_FORMS checks against their limits instead
        keep = ~np.array([_closed(name, float(e)) for e in x])
        with numpy_errstate():
            _same(got[keep], want.astype(dtype)[keep], rtol, f"{name} {dtype} {mode}")


@pytest.mark.parametrize("mode", MODES)
def test_closed_forms_where_scipy_is_off(mode: str) -> None:
    names = tuple(dict.fromkeys(n for n, _, _ in CLOSED_FORMS))
    x = np.array([a for _, a, _ in CLOSED_FORMS])
    outs = dict(zip(names, _unary_fn(mode, "float64", names)(x)))
    for i, (name, a, want) in enumerate(CLOSED_FORMS):
        _same(outs[name][i : i + 1], np.array([want]), 1e-12, f"{name}({a}) {mode}")


BINARY_V = np.array([-2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 3.5, 30.0])
BINARY_X = np.array([-3.0, -1.0, 0.0, 1e-300, 0.5, 2.0, 10.0, 100.0, 800.0, np.nan])


@pytest.mark.parametrize("mode", MODES)
def test_bessel_and_friends_of_two_arguments(mode: str) -> None:
    v, x = (a.ravel() for a in np.meshgrid(BINARY_V, BINARY_X, indexing="ij"))
    sv, sx = ft.dvector(), ft.dvector()
    names = ("jv", "iv", "kv", "betaln", "xlog1py", "owens_t")
    f = fc.function([sv, sx], [getattr(ft, n)(sv, sx) for n in names], mode=mode)
    with numpy_errstate():
        want = {n: getattr(special, n)(v, x) for n in names}
    # scipy's iv underflows (x/2)^v / Gamma(v+1) at x = 1e-300 for v = 0.5 and +-1 (fncache
    # keeps sqrt(2x/pi) and x/2); jv of order -1 at 0 is -0.0 in scipy, +0.0 here (J_1(0) = 0)
    tiny = x == 1e-300
    want["iv"] = np.where(tiny & (v == 0.5), np.sqrt(2e-300 / np.pi), want["iv"])
    want["iv"] = np.where(tiny & (np.abs(v) == 1.0), 5e-301, want["iv"])
    want["jv"] = np.where((v == -1.0) & (x == 0), 0.0, want["jv"])
    # betaln is PyTensor's formula gammaln(a) + gammaln(b) - gammaln(a + b): NaN where two of
    # a, b, a + b are poles (scipy gives inf, or the finite limit), see docs/porting.md
    with numpy_errstate():
        poles = np.isinf(special.gammaln(v)) | np.isinf(special.gammaln(x)) | np.isnan(x)
    for name, got in zip(names, f(v, x)):
        keep = ~poles if name == "betaln" else slice(None)
        _same(got[keep], want[name][keep], 1e-9, f"{name} {mode}")


INT_DTYPES = ("int8", "uint8", "int16", "int32", "int64", "uint64")


def _int_table(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Dividends at the extremes by divisors -1, 0, +-2, 7: min // -1 overflows (numpy wraps),
    division by zero is 0 in numpy for integers."""
    info = np.iinfo(dtype)
    signed = info.min < 0
    a = np.array([info.min, info.min + 1, -3 if signed else 3, 0, 1, 3, 7, info.max], dtype=dtype)
    d = [-1, 0, -2, 2, 7] if signed else [1, 0, 2, 7, 255]
    return np.repeat(a, len(d)), np.tile(np.array(d, dtype=dtype), len(a))


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_integer_division_mod_pow_at_the_extremes(mode: str, dtype: str) -> None:
    a, b = _int_table(dtype)
    sa, sb = ft.vector(dtype=dtype), ft.vector(dtype=dtype)
    f = fc.function(
        [sa, sb],
        [sa // sb, sa % sb, ft.int_div(sa, sb), sa / sb, abs(sa), -sa, ft.sgn(sa), sa ** (sb % 3)],
        mode=mode,
    )
    with numpy_errstate():
        want = [a // b, a % b, a // b, a / b, np.abs(a), -a, np.sign(a), a ** (b % 3)]
    for i, (got, w) in enumerate(zip(f(a, b), want)):
        assert got.dtype == w.dtype, (i, got.dtype, w.dtype)
        if w.dtype.kind == "f":
            _same(got, w, 1e-12, f"output {i}")
        else:
            np.testing.assert_array_equal(got, w, err_msg=f"output {i} {dtype} {mode}")


@pytest.mark.parametrize("da", ["int8", "uint8", "int64", "uint64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_mixed_dtypes_follow_numpy_2(mode: str, da: str) -> None:
    a = np.array([1, 2, 7, 100], dtype=da)
    others = ("int8", "uint8", "int64", "uint64", "float32", "float64")
    sa = ft.vector(dtype=da)
    sbs = [ft.vector(dtype=o) for o in others]
    outs = [op(sa, sb) for sb in sbs for op in (lambda p, q: p // q, lambda p, q: p % q, lambda p, q: p**q)]
    f = fc.function([sa, *sbs], outs, mode=mode)
    bs = [np.array([3, 1, 2, 0], dtype=o) for o in others]
    got = f(a, *bs)
    with numpy_errstate():
        want = [op(a, b) for b in bs for op in (np.floor_divide, np.remainder, np.power)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (da, g.dtype, w.dtype)
        _same(g, w, 1e-6, f"{da} {w.dtype}")


ROUNDING = np.array(
    [-np.inf, -2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 3.5, 1e300, np.inf, np.nan, -1e-310]
)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_round_and_clip_keep_numpys_signed_zeros(mode: str, dtype: str) -> None:
    x = ROUNDING.astype(dtype)
    s = ft.vector(dtype=dtype)
    f = fc.function(
        [s],
        [ft.round(s), ft.round_half_away_from_zero(s), ft.clip(s, -1.0, 1.0), ft.clip(s, 0.0, 0.0)]
        + [ft.clip(s, -0.0, -0.0)],
        mode=mode,
    )
    away = np.copysign(np.floor(np.abs(x) + np.asarray(0.5, dtype)), x)
    away = np.where(np.abs(x) == np.floor(np.abs(x)), x, away)  # 0.5 + huge rounds otherwise
    want = [np.round(x), away, np.clip(x, -1.0, 1.0), np.clip(x, 0.0, 0.0), np.clip(x, -0.0, -0.0)]
    for i, (g, w) in enumerate(zip(f(x), want)):
        _same(g, w.astype(dtype), 0, f"output {i} {dtype} {mode}")


GRADS = {
    "gammaln": [-2.5, 0.3, 1.5, 7.0, 50.0],
    "psi": [-2.5, 0.3, 1.5, 7.0, 50.0],
    "tri_gamma": [-2.5, 0.3, 1.5, 7.0],
    "erf": [-2.0, -0.3, 0.0, 0.5, 3.0],
    "erfc": [-2.0, -0.3, 0.0, 0.5, 3.0],
    "erfcx": [-2.0, -0.3, 0.0, 0.5, 3.0, 30.0],
    "erfinv": [-0.9, -0.3, 0.0, 0.5, 0.99],
    "erfcinv": [0.01, 0.3, 1.0, 1.5, 1.99],
    "j0": [-3.0, 0.5, 2.0, 10.0],
    "j1": [-3.0, 0.5, 2.0, 10.0],
    "i0": [-3.0, 0.5, 2.0, 10.0],
    "i1": [-3.0, 0.5, 2.0, 10.0],
    "sigmoid": [-30.0, -1.0, 0.0, 2.0, 30.0],
    "softplus": [-30.0, -1.0, 0.0, 2.0, 30.0],
    "log1mexp": [-30.0, -1.0, -0.1, -1e-3],
    "gamma": [-2.5, 0.3, 1.5, 5.0],
}


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    n = max(len(p) for p in GRADS.values())
    xs = [ft.dvector() for _ in GRADS]
    exprs = [getattr(ft, name)(x) for name, x in zip(GRADS, xs)]
    grads = [fc.grad(e.sum(), x) for e, x in zip(exprs, xs)]
    args = [np.resize(np.array(p), n) for p in GRADS.values()]
    values = fc.function(xs, exprs, mode="FAST_COMPILE")
    got = fc.function(xs, grads, mode=mode)(*args)
    for i, name in enumerate(GRADS):

        def one(v: np.ndarray, i: int = i) -> float:
            return float(np.sum(values(*args[:i], v, *args[i + 1 :])[i]))

        fd = fd_gradient(one, args[i])
        np.testing.assert_allclose(got[i], fd, rtol=1e-5, atol=1e-7, err_msg=f"{name} {mode}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_psi_and_tri_gamma_reflect_large_negative_arguments(mode: str, dtype: str) -> None:
    """The reflection's pi / tan(pi x) and pi**2 / sin(pi x)**2 must see x reduced by its nearest
    integer (exact in floating point): pi * x itself rounds away the fraction that decides the
    value once |x| is large (float32: 87232.43 gave psi 12.013 for 12.082)."""
    x = np.array([-5.568814, -88.7, -103.9, -3486.3652, -87232.43, -1e6 - 0.25, -3e7 - 0.5], dtype)
    s = ft.vector(dtype=dtype)
    got = fc.function([s], [ft.psi(s), ft.tri_gamma(s)], mode=mode)(x)
    xd = x.astype(np.float64)
    for g, w, name in zip(got, [special.psi(xd), special.polygamma(1, xd)], ["psi", "tri_gamma"]):
        _same(g, w.astype(dtype), 1e-12 if dtype == "float64" else 1e-5, f"{name} {dtype} {mode}")
