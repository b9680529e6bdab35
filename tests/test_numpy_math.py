"""Differential tests of the numpy ufuncs beyond the core set (``fncache/tensor/scalar_math.py``),
the named operator functions and softmax / log_softmax / logsumexp, against numpy in both
modes: values, dtypes, shapes, NaN/inf, signed zeros, strided, broadcast and 0-size inputs, in
fused loops, through pickles and on the emulated CUDA device.

numpy has no erfc / erfinv / gammaln: their references are Python's ``math.erfc`` and
``math.lgamma`` and, for erfinv, bisection on ``math.erfc`` (independent of the C algorithm).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import DTYPES, FLOAT_DTYPES, INT_DTYPES, MODES, assert_same, compiled, numpy_errstate, sample
from test_elemwise import _build, _np_dtype, _reference

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _lgamma(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # the poles: C's lgamma (and scipy's gammaln) give +inf
        return math.inf


_lgamma_vec = np.vectorize(_lgamma, otypes=[np.float64])


def _float_like(a: np.ndarray) -> np.dtype:
    dt = np.result_type(a.dtype, np.float16)
    return np.dtype("float32") if dt == np.float16 else dt


def _erfinv_bisect(y: np.ndarray) -> np.ndarray:
    """erfinv by 200 bisection steps on erf (erfc above 0.5, where 1 - y is exact), and its
    Taylor series below 1e-4 (the next term is below 1e-17 relative)."""
    a = np.abs(y.astype(np.float64))
    lo, hi = np.zeros_like(a), np.full_like(a, 30.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        below = np.where(a < 0.5, _erf(mid) < a, _erfc(mid) > 1 - a)  # the root is above mid
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    with numpy_errstate():
        x = np.where(a < 1, (lo + hi) / 2, np.where(a == 1, np.inf, np.nan))
        x = np.where(a < 1e-4, math.sqrt(math.pi) / 2 * (a + math.pi / 12 * a**3), x)
    return np.copysign(x, y).astype(_float_like(y))


#: name -> (symbolic builder, numpy reference)
UNARY = {
    "arcsinh": (ft.arcsinh, np.arcsinh),
    "arccosh": (ft.arccosh, np.arccosh),
    "arctanh": (ft.arctanh, np.arctanh),
    "exp2": (ft.exp2, np.exp2),
    "deg2rad": (ft.deg2rad, np.deg2rad),
    "rad2deg": (ft.rad2deg, np.rad2deg),
    "trunc": (ft.trunc, np.trunc),
    "square": (ft.square, np.square),
    "isfinite": (ft.isfinite, np.isfinite),
    "signbit": (ft.signbit, np.signbit),
    "erfc": (ft.erfc, lambda a: _erfc(a).astype(_float_like(a))),
    "gammaln": (ft.gammaln, lambda a: _lgamma_vec(a).astype(_float_like(a))),
    "neg_fn": (ft.neg, np.negative),
    "invert_fn": (ft.invert, np.invert),
}
#: reciprocal is tested apart: numpy's integer reciprocal of 0 depends on the platform.
RECIPROCAL = {"reciprocal": (ft.reciprocal, np.reciprocal)}

BINARY = {
    "arctan2": (ft.arctan2, np.arctan2),
    "hypot": (ft.hypot, np.hypot),
    "fmod": (ft.fmod, np.fmod),
    "copysign": (ft.copysign, np.copysign),
    "nextafter": (ft.nextafter, np.nextafter),
    "logaddexp": (ft.logaddexp, np.logaddexp),
    "add_fn": (ft.add, np.add),
    "sub_fn": (ft.sub, np.subtract),
    "mul_fn": (ft.mul, np.multiply),
    "true_div_fn": (ft.true_div, np.true_divide),
    "int_div_fn": (ft.int_div, np.floor_divide),
    "mod_fn": (ft.mod, np.remainder),
    "lt_fn": (ft.lt, np.less),
    "gt_fn": (ft.gt, np.greater),
    "le_fn": (ft.le, np.less_equal),
    "ge_fn": (ft.ge, np.greater_equal),
    "and_fn": (ft.and_, np.bitwise_and),
    "or_fn": (ft.or_, np.bitwise_or),
    "xor_fn": (ft.xor, np.bitwise_xor),
}
SHIFTS = {
    "lshift": (lambda a, b: a << b, np.left_shift),
    "rshift": (lambda a, b: a >> b, np.right_shift),
    "left_shift": (ft.left_shift, np.left_shift),
    "right_shift": (ft.right_shift, np.right_shift),
}

#: float64 values where numpy defines the sign of a zero result, or a special value
SPECIAL = np.array(
    [
        np.nan,
        np.inf,
        -np.inf,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1e-300,
        -1e-300,
        2.0,
        1e300,
        -7.25,
        0.999999,
        -3.0,
    ]
)


def assert_signed_zeros(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Where numpy's result is a float zero, fncache's zero has the same sign."""
    if want.dtype.kind != "f":
        return
    zero = want == 0
    assert np.array_equal(np.signbit(got[zero]), np.signbit(want[zero])), (
        f"{what}: signs of zeros differ: got {got[zero]}, numpy {want[zero]}"
    )


#: absolute tolerances where the result crosses zero away from x = 0: gammaln at x = 1 and 2
#: (glibc's lgamma and Python's math.lgamma differ in the last bits of 1 + tiny there)
ATOL_NEAR_ROOTS = {"float64": 1e-14, "float32": 1e-6}


def _check_all(f, names: list[str], table: dict, args: list[np.ndarray], what: str) -> None:
    failures = []
    for name, g in zip(names, f(*args)):
        want = _reference(table[name][1], *args)
        atol = ATOL_NEAR_ROOTS.get(g.dtype.name) if name == "gammaln" else None
        try:
            assert_same(g, want, name, atol=atol)
            assert_signed_zeros(g, want, name)
        except AssertionError as e:
            failures.append(f"{name}: {str(e)[:400]}")
    assert not failures, f"{what}:\n" + "\n".join(failures)


@compiled
def unary_fn(table_name: str, dtype: str, ndim: int, mode: str):
    x = ft.tensor("x", dtype, ndim)
    names, outs = _build(TABLES[table_name], [x])
    return fc.function([x], outs, mode=mode), names


@compiled
def binary_fn(table_name: str, da: str, db: str, nda: int, ndb: int, mode: str):
    a, b = ft.tensor("a", da, nda), ft.tensor("b", db, ndb)
    names, outs = _build(TABLES[table_name], [a, b])
    return fc.function([a, b], outs, mode=mode), names


TABLES = {"unary": UNARY, "reciprocal": RECIPROCAL, "binary": BINARY, "shifts": SHIFTS}


# -- unary --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary(mode: str, dtype: str) -> None:
    f, names = unary_fn("unary", dtype, 2, mode)
    for shape in [(3, 4), (0, 4), (1, 1), (5, 7)]:
        _check_all(f, names, UNARY, [sample(dtype, shape, seed=1)], f"{dtype}{shape}")
    big = sample(dtype, (12, 16), seed=2)
    for label, v in {"stepped": big[::2, ::3], "reversed": big[::-3, ::-2], "transposed": big.T}.items():
        _check_all(f, names, UNARY, [v], f"{dtype} {label}")
    _check_all(f, names, UNARY, [sample(dtype, (300, 200), seed=3)], f"{dtype} threaded")


@pytest.mark.parametrize("mode", MODES)
def test_unary_special_values_and_signed_zeros(mode: str) -> None:
    f, names = unary_fn("unary", "float64", 1, mode)
    _check_all(f, names, UNARY, [SPECIAL], "special")
    got = dict(zip(names, f(np.array([-0.0, -0.4, 0.0]))))
    assert np.signbit(got["trunc"]).tolist() == [True, True, False]
    assert got["signbit"].tolist() == [True, True, False]
    assert got["gammaln"][0] == np.inf and got["gammaln"][2] == np.inf


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reciprocal(mode: str, dtype: str) -> None:
    """numpy's reciprocal, except an integer 0 (numpy's value depends on the platform): 0."""
    f, names = unary_fn("reciprocal", dtype, 1, mode)
    v = sample(dtype, (40,), seed=4)
    if dtype in FLOAT_DTYPES:
        _check_all(f, names, RECIPROCAL, [v], dtype)
        with numpy_errstate():
            special = SPECIAL.astype(dtype)
        _check_all(f, names, RECIPROCAL, [special], dtype)
        return
    (got,) = f(v)
    with numpy_errstate():
        want = np.reciprocal(v)
    nz = v != 0
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got[nz], want[nz])
    assert (got[~nz] == 0).all()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_erfinv_against_bisection(mode: str, dtype: str) -> None:
    x = ft.vector("x", dtype)
    f = fc.function([x], [ft.erfinv(x)], mode=mode)
    tiny = 1e-300 if dtype == "float64" else 1e-37
    y = np.concatenate(
        [
            np.linspace(-1, 1, 201),
            1 - np.logspace(-15, -1, 30),
            -np.logspace(np.log10(tiny), -1, 30),
            [-0.0, np.nan, 1.5, -1.0],
        ]
    )
    y = y.astype(dtype)
    (got,) = f(y)
    want = _erfinv_bisect(y)
    assert_same(got, want, "erfinv", rtol=1e-13 if dtype == "float64" else 2e-6)
    assert_signed_zeros(got, want, "erfinv")
    assert got[-4] == 0 and np.signbit(got[-4]) and np.isnan(got[-3]) and np.isnan(got[-2])
    assert got[-1] == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_refused_dtypes_name_the_op_and_what_it_accepts(dtype: str) -> None:
    x = ft.vector("x", dtype)
    for name, (sym, npf) in {**UNARY, **SHIFTS}.items():
        args = [x] * (2 if name in SHIFTS else 1)
        if _np_dtype(npf, *[np.ones(1, dtype)] * len(args)) is None:
            with pytest.raises(TypeError, match=rf"{dtype}.*accepts"):
                sym(*args)


# -- binary -------------------------------------------------------------------------------
SHAPES = [((3, 4), (3, 4)), ((1, 4), (3, 1)), ((3, 4), (1, 1)), ((0, 4), (1, 4)), ((3, 0), (3, 1))]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary(mode: str, dtype: str) -> None:
    f, names = binary_fn("binary", dtype, dtype, 2, 2, mode)
    for k, (sa, sb) in enumerate(SHAPES):
        args = [sample(dtype, sa, seed=10 + k), sample(dtype, sb, seed=20 + k)]
        _check_all(f, names, BINARY, args, f"{dtype} {sa}x{sb}")
    big_a, big_b = sample(dtype, (6, 8), 4), sample(dtype, (8, 6), 5)
    _check_all(f, names, BINARY, [big_a[::2, ::2], big_b[::-2, ::-2].T[:3]], f"{dtype} strided")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "da,db",
    [
        ("int8", "float32"),
        ("uint8", "int16"),
        ("bool", "int32"),
        ("float32", "float64"),
        ("int64", "float32"),
    ],
)
def test_binary_mixed_dtypes_and_broadcasting(mode: str, da: str, db: str) -> None:
    f, names = binary_fn("binary", da, db, 3, 1, mode)
    args = [sample(da, (2, 3, 5), seed=1), sample(db, (5,), seed=2)]
    _check_all(f, names, BINARY, args, f"{da},{db}")


@pytest.mark.parametrize("mode", MODES)
def test_binary_special_values_and_signed_zeros(mode: str) -> None:
    f, names = binary_fn("binary", "float64", "float64", 2, 2, mode)
    a, b = np.meshgrid(SPECIAL, SPECIAL)
    _check_all(f, names, BINARY, [a, b], "special")
    got = dict(zip(names, f(np.array([[-0.0, 0.0, -0.0]]), np.array([[1.0, -1.0, -1.0]]))))
    assert got["arctan2"].tolist() == [[-0.0, np.pi, -np.pi]]
    assert np.signbit(got["arctan2"][0, 0]) and np.signbit(got["fmod"][0, 0])


def _fmod_cases(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Pairs that reach every path of the C fmod: random bit patterns (subnormals, NaNs with
    either sign, infinities, ratios up to 2^2000 and down to 2^-2000), every pair of special
    values, quotients within an ulp of an integer (where |x|/|y| rounds up), quotients on
    either side of 2^52 (2^23), exact multiples (signed zeros) and subnormal divisors."""
    ft_, it = np.dtype(dtype), np.dtype(f"uint{8 * np.dtype(dtype).itemsize}")
    rng = np.random.default_rng(11)
    n = 20_000
    rand_x = rng.integers(0, np.iinfo(it).max, n, dtype=it, endpoint=True).view(ft_)
    rand_y = rng.integers(0, np.iinfo(it).max, n, dtype=it, endpoint=True).view(ft_)
    info = np.finfo(ft_)
    special = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            -np.nan,
            info.smallest_subnormal,
            -info.smallest_subnormal,
            info.tiny,
            info.max,
            -info.max,
            1.0,
            -1.0,
            3.0,
            0.1,
            -7.5,
            2.0 ** (info.nmant + 1),
            2.0**info.nmant + 1,
        ],
        ft_,
    )
    sx, sy = (v.ravel() for v in np.meshgrid(special, special))
    y = rng.uniform(0.1, 10, n).astype(ft_) * rng.choice(np.array([-1, 1], ft_), n)
    k = rng.integers(-(10**6), 10**6, n).astype(ft_)
    near = np.nextafter(k * y, k * y + rng.choice(np.array([-1, 1], ft_), n) * np.abs(y))
    big = rng.integers(1, 8, n).astype(ft_) * ft_.type(2.0**info.nmant)
    big = np.nextafter(big, rng.choice(np.array([0, np.inf], ft_), n))
    tiny_y = rng.integers(1, 1000, n).astype(it).view(ft_)  # subnormal divisors
    xs = [rand_x, sx, near, k * y, big * np.abs(y), rand_x]
    ys = [rand_y, sy, y, y, y, tiny_y]
    return np.concatenate(xs).astype(ft_), np.concatenate(ys).astype(ft_)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fmod_is_bit_exact_on_every_path(mode: str, dtype: str) -> None:
    """fncache's fmod vectorizes through its own exact remainder, with libm for the lanes it
    does not cover: every bit (signs of zeros, which NaN stays NaN) must match numpy's, alone
    and inside a fused loop."""
    a, b = ft.vector("a", dtype), ft.vector("b", dtype)
    f = fc.function([a, b], [ft.fmod(a, b), ft.fmod(a, b) * 1 + ft.exp(a * 0)], mode=mode)
    x, y = _fmod_cases(dtype)
    got, fused = f(x, y)
    with numpy_errstate():
        want = np.fmod(x, y)
        want_fused = want * 1 + np.exp(x * 0)
    for g, w, what in ((got, want, "fmod"), (fused, want_fused, "fused fmod")):
        assert g.dtype == w.dtype, what
        nan = np.isnan(w)
        assert np.array_equal(np.isnan(g), nan), what
        bad = np.flatnonzero((g.view(f"u{g.itemsize}") != w.view(f"u{w.itemsize}")) & ~nan)
        assert bad.size == 0, (
            f"{what}: fmod({x[bad[:5]]}, {y[bad[:5]]}) = {g[bad[:5]]}, numpy gives {w[bad[:5]]}"
        )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("bool",) + INT_DTYPES)
def test_shifts_including_out_of_range_amounts(mode: str, dtype: str) -> None:
    f, names = binary_fn("shifts", dtype, dtype, 1, 1, mode)
    bits = 8 * np.dtype(dtype).itemsize
    a = sample(dtype, (64,), seed=5)
    if dtype == "bool":
        b = sample(dtype, (64,), seed=6)
    else:
        info = np.iinfo(dtype)
        b = np.resize(
            np.array([0, 1, 3, bits - 1, bits, bits + 1, min(info.max, 200), max(info.min, -1)], dtype), 64
        )
    _check_all(f, names, SHIFTS, [a, b], f"{dtype} shifts")
    _check_all(f, names, SHIFTS, [a[::-3], b[:22]], f"{dtype} strided shifts")


# -- fusion, keys, pickles ------------------------------------------------------------------
def _w1_like(x, y, z):
    return (
        ft.exp(x) * y
        + ft.arctan2(z, x) / (1 + ft.hypot(x, y))
        + ft.logaddexp(x, z)
        - ft.erfc(y) * ft.arcsinh(z)
        + ft.fmod(x, 0.7)
        + ft.copysign(ft.exp2(y), x)
    )


def _w1_like_numpy(x, y, z):
    return (
        np.exp(x) * y
        + np.arctan2(z, x) / (1 + np.hypot(x, y))
        + np.logaddexp(x, z)
        - _erfc(y) * np.arcsinh(z)
        + np.fmod(x, 0.7)
        + np.copysign(np.exp2(y), x)
    )


@pytest.mark.parametrize("mode", MODES)
def test_new_ops_fuse_into_one_loop(mode: str) -> None:
    x, y, z = ft.dvector("x"), ft.dvector("y"), ft.dvector("z")
    f = fc.function([x, y, z], _w1_like(x, y, z), mode=mode)
    if mode == "FAST_RUN":
        nodes = f.optimized_graph.toposort()
        assert len(nodes) == 1, [str(n.op) for n in nodes]
    vals = [sample("float64", (1000,), seed=s) for s in (1, 2, 3)]
    with numpy_errstate():
        want = _w1_like_numpy(*vals)
    assert_same(f(*vals), want, "fused", rtol=1e-11)
    strided = [v[::3] for v in vals]
    with numpy_errstate():
        assert_same(f(*strided), _w1_like_numpy(*strided), "fused strided", rtol=1e-11)


def test_each_new_op_has_its_own_key_and_pickles() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    keys = set()
    vals = [sample("float64", (50,), seed=7), sample("float64", (50,), seed=8)]
    for name in ("arctan2", "hypot", "fmod", "copysign", "nextafter", "logaddexp"):
        f = fc.function([x, y], getattr(ft, name)(x, y))
        keys.add(f.cache_key)
        g = pickle.loads(pickle.dumps(f))
        assert_same(g(*vals), f(*vals), name)
    assert len(keys) == 6


# -- softmax ------------------------------------------------------------------------------
def _np_logsumexp(a: np.ndarray, axis, keepdims: bool = False) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with numpy_errstate():
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_softmax(a: np.ndarray, axis) -> np.ndarray:
    # scipy's: shifted by the maximum itself, so a slice holding +inf or NaN is NaN throughout
    with numpy_errstate():
        e = np.exp(a - np.max(a, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def _np_log_softmax(a: np.ndarray, axis) -> np.ndarray:
    d = a - np.where(np.isfinite(m := np.max(a, axis=axis, keepdims=True)), m, 0)
    with numpy_errstate():
        return d - np.log(np.sum(np.exp(d), axis=axis, keepdims=True))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_family_is_stable(mode: str, dtype: str) -> None:
    x = ft.matrix("x", dtype)
    f = fc.function(
        [x],
        [
            ft.softmax(x),
            ft.softmax(x, axis=0),
            ft.log_softmax(x),
            ft.logsumexp(x, axis=1),
            ft.logsumexp(x),
            ft.logsumexp(x, axis=0, keepdims=True),
        ],
        mode=mode,
    )
    a = np.array(
        [[1000.0, 1001.0, -np.inf], [-np.inf, -np.inf, -np.inf], [1, 2, 3], [-1000.0, -1000.0, -1000.0]],
        dtype,
    )
    for v in (a, sample(dtype, (5, 7), seed=9, special=False), a.T.copy().T):
        with numpy_errstate():
            want = [
                _np_softmax(v, -1),
                _np_softmax(v, 0),
                _np_log_softmax(v, -1),
                _np_logsumexp(v, 1),
                _np_logsumexp(v, None),
                _np_logsumexp(v, 0, True),
            ]
        for k, (g, w) in enumerate(zip(f(v), want)):
            assert_same(g, np.asarray(w, dtype), f"output {k} of {v.shape}")
    # large values: exp(x) alone overflows, the shifted form does not
    got = f(np.array([[710.0, 711.0]], dtype))
    assert np.isfinite(got[0]).all() and np.isfinite(got[3]).all()
    # 0-size along the kept axis; reducing over an empty axis raises as numpy's max does
    g = fc.function([x], [ft.softmax(x), ft.log_softmax(x), ft.logsumexp(x, axis=1)], mode=mode)
    for k, out in enumerate(g(np.zeros((0, 3), dtype))):
        assert out.shape == ((0,) if k == 2 else (0, 3)) and out.dtype == dtype
    with pytest.raises(ValueError, match="zero-size"):
        f(np.zeros((0, 3), dtype))


def test_softmax_fuses_its_exponential_into_the_sum() -> None:
    """Fused in the function, or in the branch a lazy ifelse runs where the axis is not empty
    (an empty one gives -inf without reducing)."""
    x = ft.dmatrix("x")
    f = fc.function([x], ft.logsumexp(x, axis=1))
    ops = []
    for node in f.optimized_graph.toposort():
        ops.append(str(node.op))
        if "LazyIfElse" in str(node.op):
            ops += [str(m.op) for g in node.op.node_function(node) for m in g.optimized_graph.toposort()]
    assert any(o.startswith("Sum{Composite{") and "exp" in o for o in ops), ops


# -- CUDA (emulated device) -----------------------------------------------------------------
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_new_ops_on_the_emulated_cuda_device(emulated) -> None:
    x, y = ft.fvector("x"), ft.fvector("y")
    d, e = ft.dvector("d"), ft.dvector("e")
    i, j = ft.lvector("i"), ft.lvector("j")
    outs = [
        _w1_like(d, e, d[::-1]),
        ft.erfinv(ft.tanh(x)),
        ft.gammaln(y),
        ft.trunc(x),
        ft.isfinite(x) & ft.signbit(y),
        ft.nextafter(x, y),
        ft.reciprocal(x),
        (i << (j % 70)) + (i >> (j % 70)) + ft.fmod(i, j),
        ft.rad2deg(ft.deg2rad(d)),
        ft.square(x) + ft.arccosh(ft.abs(y) + 1) + ft.arctanh(ft.tanh(y)),
    ]
    # ops computed by numpy run on the host between the kernels
    outs += [
        ft.sort(x) * 2,
        ft.cumsum(d) + ft.arange(301),
        ft.tensordot(d[:20], e[:20], 1),
        ft.softmax(d) + 1,
        ft.logsumexp(e),
    ]
    rng = np.random.default_rng(3)
    vals = [
        rng.standard_normal(301).astype("float32"),
        rng.standard_normal(301).astype("float32"),
        rng.standard_normal(301),
        rng.standard_normal(301),
        rng.integers(-50, 50, 301),
        rng.integers(-80, 80, 301),
    ]
    vals[0][:4] = [np.nan, np.inf, -0.0, 0.0]
    want = fc.function([x, y, d, e, i, j], outs, mode="FAST_COMPILE")(*vals)
    got = fc.function([x, y, d, e, i, j], outs, mode=CUDA)(*vals)
    for k, (g, w) in enumerate(zip(got, want)):
        g = g.get() if hasattr(g, "get") else g
        if w.dtype == np.float32:
            assert_same(g, w, f"output {k}", rtol=2e-5, atol=2e-6)
        else:
            assert_same(g, w, f"output {k}", rtol=1e-10)
