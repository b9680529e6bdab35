"""numpy's and PyTensor's names beyond the core set, fourth part: every numpy quantile method
of ``quantile percentile nanquantile nanpercentile``, ``complex complex_from_polar``, ``pack
unpack join_dims split_dims`` and ``vectorize vectorize_graph``; against numpy in both linkers,
their errors, and their gradients against central finite differences."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import toposort
from fcutil import MODES, assert_same, compiled, fd_check_grads, numpy_errstate

METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)
DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
#: levels on the order statistics of small slices (0.5 of 4 values, 0.25 of 5) and between them
LEVELS = [0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 1.0]


# -- quantile methods --------------------------------------------------------------------------
@compiled
def quantile_methods_fn(dtype: str, mode: str) -> tuple[Any, list]:
    x, q = ft.tensor("x", dtype, 3), ft.dvector("q")
    outs, refs = [], []

    def case(out: Any, ref: Any) -> None:
        outs.append(out)
        refs.append(ref)

    for m in METHODS:
        case(
            ft.quantile(x, LEVELS, axis=(0, 2), keepdims=True, method=m),
            lambda x, q, m=m: np.quantile(x, LEVELS, axis=(0, 2), keepdims=True, method=m),
        )
        case(ft.percentile(x, 37, axis=1, method=m), lambda x, q, m=m: np.percentile(x, 37, axis=1, method=m))
        case(ft.quantile(x, q, axis=-1, method=m), lambda x, q, m=m: np.quantile(x, q, axis=-1, method=m))
        case(
            ft.quantile(x, [0, 1], axis=0, method=m),
            lambda x, q, m=m: np.quantile(x, [0, 1], axis=0, method=m),
        )
        if dtype != "int32":  # numpy's nan-functions of ints are the others
            case(
                ft.nanquantile(x, LEVELS, axis=-1, keepdims=True, method=m),
                lambda x, q, m=m: np.nanquantile(x, LEVELS, axis=-1, keepdims=True, method=m),
            )
            case(
                ft.nanpercentile(x, [15.0, 50.0, 90.0], axis=(1, 2), method=m),
                lambda x, q, m=m: np.nanpercentile(x, [15.0, 50.0, 90.0], axis=(1, 2), method=m),
            )
    return fc.function([x, q], outs, mode=mode), refs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_quantile_methods_against_numpy(dtype: str, mode: str) -> None:
    f, refs = quantile_methods_fn(dtype, mode)
    rng = np.random.default_rng(11)
    for trial in range(5):
        shape = tuple(int(d) for d in rng.integers(1 if trial < 2 else 2, 6, size=3))
        # few distinct values: ties between order statistics
        x = (
            rng.integers(-6, 7, size=shape).astype(dtype)
            if trial == 1
            else (rng.normal(size=shape) * 10).astype(dtype)
        )
        if trial >= 3 and dtype != "int32":
            x[0, 0, 0] = np.nan
            x[-1, :, -1] = np.nan  # slices of NaNs only along axis 1
            x.flat[rng.integers(0, x.size, size=x.size // 4)] = np.nan
        q = np.concatenate([rng.uniform(0, 1, size=3), [0.0, 1.0, 0.5]])
        got = f(x, q)
        tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == "float32" else {"atol": 1e-12}
        for k, (g, ref) in enumerate(zip(got, refs)):
            with numpy_errstate(), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = ref(x, q)
            assert_same(
                g, want, f"{dtype} {shape} case {k} ({METHODS[k // (len(refs) // len(METHODS))]})", **tol
            )


@pytest.mark.parametrize("mode", MODES)
def test_discrete_methods_keep_the_data_dtype(mode: str) -> None:
    x = ft.lvector("x")
    b = ft.tensor("b", "bool", 1)
    outs = [ft.quantile(x, [0.3, 0.9], method=m) for m in DISCRETE] + [ft.quantile(b, 0.5, method="lower")]
    f = fc.function([x, b], outs, mode=mode)
    xv = np.array([2**60 + 1, 3, -(2**62) + 7, 5, 2**53 + 1], dtype=np.int64)  # not exact in float64
    bv = np.array([True, False, True])
    got = f(xv, bv)
    for g, m in zip(got, DISCRETE):
        assert_same(g, np.quantile(xv, [0.3, 0.9], method=m), m)
    assert_same(got[-1], np.quantile(bv, 0.5, method="lower"), "bool lower")


@pytest.mark.parametrize("mode", MODES)
def test_quantile_method_gradients(mode: str) -> None:
    x, v = ft.dmatrix("x"), ft.dvector("v")
    # each method's gradient through quantile along an axis, or through nanpercentile (the
    # places read per slice), alternately: one graph of every method stays small to compile
    cases = {
        m: (
            (lambda x, v, m=m: ft.quantile(x, [0.13, 0.5, 0.91], axis=1, method=m).sum(axis=0))
            if k % 2
            else (lambda x, v, m=m: ft.nanpercentile(v * x[0], [42, 77], method=m)),
            [0] if k % 2 else [0, 1],
        )
        for k, m in enumerate(METHODS)
    }
    rng = np.random.default_rng(5)
    # distinct values, levels away from the places where a method's index jumps
    xv = (rng.permutation(14).reshape(2, 7) * 0.37 - 2.1) + rng.uniform(0, 0.05, (2, 7))
    vv = np.linspace(0.8, 1.4, 7)
    fd_check_grads([x, v], cases, [[xv, vv]], mode=mode)


def test_quantile_method_errors() -> None:
    m = ft.dmatrix("m")
    for bad in ("nearest_even", "", None, 3):
        with pytest.raises(
            ValueError, match=r"quantile: method .* is not supported; give one of inverted_cdf"
        ):
            ft.quantile(m, 0.5, method=bad)
    with pytest.raises(
        ValueError, match=r"nanpercentile: method 'Linear' is not supported.*'linear' is the default"
    ):
        ft.nanpercentile(m, 50, method="Linear")


# -- complex numbers from their parts ----------------------------------------------------------
def _complex_ref(re: np.ndarray, im: np.ndarray) -> np.ndarray:
    """numpy's complex numbers of the parts, each part stored as it is."""
    re, im = np.asarray(re), np.asarray(im)
    out = np.empty(np.broadcast_shapes(re.shape, im.shape), np.result_type(re, im, np.complex64))
    out.real, out.imag = re, im
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_complex_against_numpy(dtype: str, mode: str) -> None:
    x, y = ft.tensor("x", dtype, 2), ft.tensor("y", dtype, 1)
    z = ft.complex(x, y)
    outs = [
        z,
        ft.complex(y, 2.5),
        ft.real(z),
        ft.imag(z),
        ft.abs(z),
        ft.angle(z),
        ft.conj(z),
        ft.complex(ft.real(z) * 2, ft.imag(z)).sum(axis=0),
    ]
    f = fc.function([x, y], outs, mode=mode)
    rng = np.random.default_rng(4)
    xv = (rng.normal(size=(3, 4)) * 5).astype(dtype)
    yv = (rng.normal(size=4) * 5).astype(dtype)
    if dtype != "int32":
        xv[0, :3] = [np.inf, -np.inf, np.nan]  # an infinite part leaves the other as it is
        yv[1] = np.inf
    zv = _complex_ref(xv, yv)
    wants = [
        zv,
        _complex_ref(yv, np.asarray(2.5, yv.dtype if dtype != "int32" else "float64")),
        zv.real,
        zv.imag,
        np.abs(zv),
        np.angle(zv),
        np.conj(zv),
        _complex_ref(zv.real * 2, zv.imag).sum(axis=0),
    ]
    tol = 1e-5 if dtype == "float32" else 1e-12
    for k, (got, want) in enumerate(zip(f(xv, yv), wants)):
        assert got.dtype == want.dtype, f"output {k}: dtype {got.dtype}, numpy gives {want.dtype}"
        if want.dtype.kind == "c":
            assert_same(got.real, want.real, f"output {k} (real part)", rtol=tol)
            assert_same(got.imag, want.imag, f"output {k} (imaginary part)", rtol=tol)
        else:
            assert_same(got, want, f"output {k}", rtol=tol)


@pytest.mark.parametrize("mode", MODES)
def test_complex_from_polar_against_numpy(mode: str) -> None:
    r, t = ft.dvector("r"), ft.fmatrix("t")
    f = fc.function([r, t], [ft.complex_from_polar(r, t), ft.complex_from_polar(t, t)], mode=mode)
    rng = np.random.default_rng(8)
    rv, tv = rng.uniform(0, 3, 5), rng.uniform(-4, 4, (2, 5)).astype("float32")
    got, got32 = f(rv, tv)
    want = _complex_ref(rv * np.cos(tv), rv * np.sin(tv))
    want32 = _complex_ref(tv * np.cos(tv), tv * np.sin(tv))
    assert got.dtype == np.complex128 and got32.dtype == np.complex64
    # cos and sin of the float32 angles: float32 results, an ulp from numpy's in C
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got32, want32, rtol=1e-5, atol=1e-6)


def test_complex_errors() -> None:
    x, c = ft.dvector("x"), ft.cvector("c")
    with pytest.raises(
        TypeError, match=r"complex: the imag part must be a real tensor, got .*complex64.*ft\.real"
    ):
        ft.complex(x, c)
    with pytest.raises(TypeError, match=r"complex: the real part must be a real tensor"):
        ft.complex_from_polar(c, x)
    # a real cost of complex values has a gradient in the real parts: |x + 2xi| = sqrt(5) |x|
    g = fc.grad(ft.abs(ft.complex(x, x * 2)).sum(), x)
    np.testing.assert_allclose(fc.function([x], g)(np.array([-2.0, 3.0])), np.sqrt(5) * np.array([-1, 1]))
    with pytest.raises(TypeError, match=r"grad: cost must be real, .*ft\.abs\(c\)"):
        fc.grad(ft.complex(x, x * 2).sum(), x)


# -- pack, unpack, join_dims, split_dims --------------------------------------------------------
KEEP = {"none": None, "first": 0, "last_two": (-2, -1), "both_ends": (0, -1), "first_two": [0, 1]}


def _np_pack(arrays: list[np.ndarray], keep: Any) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """numpy's reference: the dims between the kept leading and trailing axes raveled and joined."""
    axes = () if keep is None else (keep,) if isinstance(keep, int) else tuple(keep)
    before, after = sum(a >= 0 for a in axes), sum(a < 0 for a in axes)
    flat = [a.reshape(a.shape[:before] + (-1,) + a.shape[a.ndim - after :]) for a in arrays]
    return np.concatenate(flat, axis=before), [a.shape[before : a.ndim - after] for a in arrays]


@pytest.mark.parametrize("mode", MODES)
def test_pack_unpack_round_trip(mode: str) -> None:
    x, y, s = ft.dtensor3("x"), ft.tensor("y", "float64", shape=(2, None, None, 3)), ft.dmatrix("s")
    outs, refs = [], []
    for name, keep in KEEP.items():
        ins = [x, y] if name != "none" else [x, s, y]
        packed, shapes = ft.pack(*ins, keep_axes=keep)
        back = ft.unpack(packed, shapes, keep_axes=keep)
        outs += [packed, *shapes, *back]
        refs.append((name, keep, len(ins)))
    f = fc.function([x, y, s], outs, mode=mode)
    rng = np.random.default_rng(9)
    xv, yv, sv = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(3, 2))
    got = iter(f(xv, yv, sv))
    for name, keep, n in refs:
        arrays = [xv, yv] if name != "none" else [xv, sv, yv]
        packed, shapes = _np_pack(arrays, keep)
        assert_same(next(got), packed, f"pack {name}")
        for k in range(n):
            assert_same(next(got), np.asarray(shapes[k], dtype="int64"), f"pack {name} shape {k}")
        for k in range(n):
            assert_same(next(got), arrays[k], f"unpack {name} piece {k}")


def test_pack_static_shapes_and_symbolic_sizes() -> None:
    a, b = ft.tensor("a", "float64", shape=(2, 3)), ft.tensor("b", "float64", shape=(4, 5, 6))
    packed, shapes = ft.pack(a, b)
    assert packed.type.shape == (126,)
    pa, pb = ft.unpack(packed, shapes)
    assert pa.type.shape == (2, 3) and pb.type.shape == (4, 5, 6)
    v, n = ft.dvector("v"), ft.lscalar("n")
    left, right = ft.unpack(v, [(n, 2), [3]])
    f = fc.function([v, n], [left, right])
    got_l, got_r = f(np.arange(9.0), 3)
    assert_same(got_l, np.arange(6.0).reshape(3, 2), "unpack symbolic size")
    assert_same(got_r, np.arange(6.0, 9.0), "unpack last piece")
    with pytest.raises(
        Exception, match=r"split: the sizes \[4, 3\] must be 2 non-negative ints that add up to the length 9"
    ):
        f(np.arange(9.0), 2)


@pytest.mark.parametrize("mode", MODES)
def test_join_and_split_dims_against_numpy(mode: str) -> None:
    x, k = ft.dtensor4("x"), ft.lscalar("k")
    cases = [
        (ft.join_dims(x), lambda a: a.reshape(-1)),
        (ft.join_dims(x, 1), lambda a: a.reshape(a.shape[0], -1)),
        (ft.join_dims(x, 1, 2), lambda a: a.reshape(a.shape[0], -1, a.shape[3])),
        (ft.join_dims(x, -1, 0), lambda a: a.reshape(a.shape[:3] + (1, a.shape[3]))),
        (ft.split_dims(ft.join_dims(x, 1, 2), (3, k), axis=1), lambda a: a),
        (ft.split_dims(x, [], axis=-1), lambda a: a[..., 0]),
        (ft.split_dims(x, 2, axis=0), lambda a: a),
    ]
    f = fc.function([x, k], [c for c, _ in cases], mode=mode)
    xv = np.random.default_rng(2).normal(size=(2, 3, 4, 1))
    for n, (got, (_, ref)) in enumerate(zip(f(xv, 4), cases)):
        assert_same(got, ref(xv), f"case {n}")
    assert ft.join_dims(ft.tensor("z", "float64", shape=(2, 3, 4, 5)), 1, 2).type.shape == (2, 12, 5)
    assert ft.split_dims(ft.tensor("z", "float64", shape=(6, 4, 6)), (2, 3), axis=-1).type.shape == (
        6,
        4,
        2,
        3,
    )


@pytest.mark.parametrize("mode", MODES)
def test_pack_gradients(mode: str) -> None:
    x, y = ft.dmatrix("x"), ft.dtensor3("y")
    cases = {
        "pack": (lambda x, y: ft.pack(x, y, keep_axes=0)[0] * ft.arange(1.0, 11.0), [0, 1]),
        "unpack": (
            lambda x, y: (
                ft.unpack(ft.pack(x, y)[0] ** 2, ft.pack(x, y)[1])[1].sum(axis=0) * ft.join_dims(x)[:4]
            ),
            [0, 1],
        ),
    }
    rng = np.random.default_rng(3)
    fd_check_grads([x, y], cases, [[rng.normal(size=(2, 2)), rng.normal(size=(2, 2, 4))]], mode=mode)


def test_pack_errors() -> None:
    x, v = ft.dtensor3("x"), ft.dvector("v")
    errors = [
        (lambda: ft.pack(), ValueError, "pack: give at least one tensor"),
        (lambda: ft.pack(x, keep_axes=1), ValueError, r"pack: keep_axes 1 must be contiguous axes from 0"),
        (lambda: ft.pack(x, keep_axes=(0, 2)), ValueError, r"pack: keep_axes \(0, 2\) must be contiguous"),
        (lambda: ft.pack(x, keep_axes=(-1, 0)), ValueError, "pack: keep_axes .* must be contiguous"),
        (lambda: ft.pack(x, keep_axes=()), ValueError, r"pack: keep_axes=\(\) is ambiguous; give None"),
        (lambda: ft.pack(x, keep_axes="0"), TypeError, "pack: keep_axes must be an int"),
        (lambda: ft.pack(x, v, keep_axes=(0, 1, -1)), ValueError, r"pack: tensor 1 .* fewer than the 3 kept"),
        (lambda: ft.unpack(x, [(2,)]), ValueError, "unpack: keep_axes=None unpacks a vector"),
        (
            lambda: ft.unpack(x, [(2,)], keep_axes=0),
            ValueError,
            "unpack: keep_axes=0 keeps 1 axes of a 3-d input",
        ),
        (lambda: ft.unpack(v, []), TypeError, "unpack: packed_shapes must be a non-empty list"),
        (
            lambda: ft.join_dims(x, 4),
            ValueError,
            r"join_dims: start_axis 4 is out of bounds .* give an axis in \[-3, 3\]",
        ),
        (
            lambda: ft.join_dims(x, 1, 3),
            ValueError,
            r"join_dims: n_axes 3 from axis 1 .* give an int in \[0, 2\]",
        ),
        (
            lambda: ft.split_dims(ft.tensor("t", "float64", shape=(6,)), (4, 2)),
            ValueError,
            "split_dims: the sizes .* make 8 elements, not the 6",
        ),
        (lambda: ft.split_dims(v, (2, -1)), ValueError, "split_dims: the sizes .* must be non-negative"),
        (lambda: ft.split_dims(v, (2.0,)), TypeError, "split_dims: each size must be a non-negative int"),
        (
            lambda: ft.split_dims(v, ft.lvector("s")),
            TypeError,
            "split_dims: the shape .* has no static length",
        ),
        (lambda: ft.split_dims(ft.dscalar("s"), 1), ValueError, "split_dims: a 0-d tensor has no axis"),
    ]
    for build, exc, pattern in errors:
        with pytest.raises(exc, match=pattern):
            build()


# -- vectorize ---------------------------------------------------------------------------------
def _core_norm(a: Any, b: Any) -> Any:
    """An elementwise and reducing core graph (every node rewritten to take the batch)."""
    return ft.sum(a * b) / (1 + ft.exp(a).max()) + ft.mean(ft.sqr(a[None, :] - b[:, None]))


def _np_core_norm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b) / (1 + np.exp(a).max()) + np.mean(np.square(a[None, :] - b[:, None]))


def _core_sorted(a: Any, s: Any) -> list:
    """A core graph with ops that have no batch rule (sort, indexing): one loop over the batch."""
    srt = ft.sort(a)
    return [srt[1:] * s, srt[0] + s]


def _np_core_sorted(a: np.ndarray, s: np.ndarray) -> tuple:
    srt = np.sort(a)
    return srt[1:] * s, srt[0] + s


def _core_halves(a: Any) -> Any:
    """Indexing, shapes and a reshape, all rewritten node by node."""
    return ft.reshape(a[1:], (2, -1)).sum(axis=0) * a.shape[0] + a[-1]


def _np_core_halves(a: np.ndarray) -> np.ndarray:
    return np.reshape(a[1:], (2, -1)).sum(axis=0) * a.shape[0] + a[-1]


def _loops(v: Any) -> bool:
    return any(type(n.op).__name__ == "Scan" for n in toposort([v]))


@pytest.mark.parametrize("mode", MODES)
def test_vectorize_against_numpy(mode: str) -> None:
    x, y, w, s = ft.dtensor3("x"), ft.dmatrix("y"), ft.dvector("w"), ft.dvector("s")
    norm = ft.vectorize(_core_norm, signature="(n),(n)->()")
    srt = ft.vectorize(_core_sorted, signature="(n),()->(m),()")
    scalar = ft.vectorize(lambda a, b: ft.switch(a > b, a - b, a * b))
    halves = ft.vectorize(_core_halves, signature="(n)->(k)")
    outs = [norm(x, y), norm(y, w), *srt(x, s), scalar(y, s[:, None]), norm(w, w), scalar(w, 2.0), halves(x)]
    assert [o.ndim for o in outs] == [2, 1, 3, 2, 2, 0, 1, 3]
    # elementwise ops, reductions, indexing and reshapes are rewritten node by node; sort loops
    assert [_loops(o) for o in outs] == [False, False, True, True, False, False, False, False]
    f = fc.function([x, y, w, s], outs, mode=mode)
    rng = np.random.default_rng(6)
    # batch dims broadcast: x's (3, 1) against y's (4,), s's (4,) against x's (3, 1)
    xv, yv, wv, sv = (
        rng.normal(size=(3, 1, 5)),
        rng.normal(size=(4, 5)),
        rng.normal(size=5),
        rng.normal(size=4),
    )
    np_norm = np.vectorize(_np_core_norm, signature="(n),(n)->()")
    np_srt = np.vectorize(_np_core_sorted, signature="(n),()->(m),()")
    np_scalar = np.vectorize(lambda a, b: a - b if a > b else a * b)
    wants = [np_norm(xv, yv), np_norm(yv, wv), *np_srt(xv, sv), np_scalar(yv, sv[:, None]), np_norm(wv, wv)]
    wants += [np_scalar(wv, 2.0), np.vectorize(_np_core_halves, signature="(n)->(k)")(xv)]
    for k, (got, want) in enumerate(zip(f(xv, yv, wv, sv), wants)):
        assert_same(got, np.asarray(want), f"output {k}", rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_vectorize_gradients(mode: str) -> None:
    x, y, s = ft.dmatrix("x"), ft.dtensor3("y"), ft.dvector("s")
    cases = {
        "by_node": (lambda x, y, s: ft.vectorize(_core_norm, "(n),(n)->()")(x, y), [0, 1]),
        "by_loop": (lambda x, y, s: ft.vectorize(_core_sorted, "(n),()->(m),()")(y, s)[0], [1, 2]),
        "indexing": (lambda x, y, s: ft.vectorize(_core_halves, "(n)->(k)")(y), [1]),
    }
    rng = np.random.default_rng(12)
    values = [rng.normal(size=(2, 3)), rng.permutation(12).reshape(2, 2, 3) * 0.31 - 1.7, rng.normal(size=2)]
    fd_check_grads([x, y, s], cases, [values], mode=mode)


def test_vectorize_graph_replaces_core_variables() -> None:
    a, b = ft.dvector("a"), ft.dscalar("b")
    core = ft.exp(a) * b + ft.sum(a)
    batch, two = ft.dmatrix("batch"), ft.dvector("two")
    out = ft.vectorize_graph(core, {a: batch, b: ft.constant(2.0)})
    out_both = ft.vectorize_graph([core, ft.sort(a)], [(a, batch), (b, two)])
    f = fc.function([batch, two], [out, *out_both])
    bv, tv = np.random.default_rng(1).normal(size=(2, 3)), np.array([0.5, -1.0])
    got, got_both, got_sorted = f(bv, tv)
    assert_same(got, np.exp(bv) * 2.0 + bv.sum(axis=1, keepdims=True), "vectorize_graph")
    assert_same(got_both, np.exp(bv) * tv[:, None] + bv.sum(axis=1, keepdims=True), "two batched")
    assert_same(got_sorted, np.sort(bv, axis=1), "sort over the batch")


def test_vectorize_errors() -> None:
    x, m = ft.dvector("x"), ft.dmatrix("m")
    errors = [
        (lambda: ft.vectorize(3), TypeError, "vectorize: func must be callable"),
        (
            lambda: ft.vectorize(ft.exp, "(n)->"),
            ValueError,
            r"vectorize: signature '\(n\)->' is not a generalized",
        ),
        (
            lambda: ft.vectorize(ft.exp, "(n),(m)->(n)")(m),
            TypeError,
            "vectorize: the signature .* names 2 inputs, got 1",
        ),
        (
            lambda: ft.vectorize(ft.exp, "(m,n)->(m,n)")(x),
            ValueError,
            "vectorize: input 0 .* fewer dims than its core dims",
        ),
        (
            lambda: ft.vectorize(ft.exp, "(n)->(),()")(m),
            ValueError,
            "vectorize: the signature .* names 2 outputs, func returned 1",
        ),
        (
            lambda: ft.vectorize(ft.exp, "(n)->()")(m),
            ValueError,
            "vectorize: output 0 of func has 1 dims, the signature",
        ),
        (
            lambda: ft.vectorize_graph(ft.exp(x), {x: ft.lmatrix("i")}),
            TypeError,
            "vectorize_graph: .* is replaced by",
        ),
        (
            lambda: ft.vectorize_graph(ft.exp(x), {x: ft.dscalar("s")}),
            TypeError,
            "vectorize_graph: .* is replaced by",
        ),
    ]
    for build, exc, pattern in errors:
        with pytest.raises(exc, match=pattern):
            build()
    c = ft.tensor("c", "float64", shape=(3,))
    with pytest.raises(ValueError, match=r"vectorize_graph: the core dims \(4,\) of the replacement"):
        ft.vectorize_graph(ft.exp(c), {c: ft.tensor("b", "float64", shape=(2, 4))})


def test_vectorize_outputs_take_every_batch_dim() -> None:
    x, y = ft.dmatrix("x"), ft.dvector("y")
    both = ft.vectorize(lambda a, b: [a * 2, ft.constant(1.5), ft.sort(ft.stack([a, b]))], "(),()->(),(),(k)")
    doubled, const, pairs = both(x, y)
    f = fc.function([x, y], [doubled, const, pairs])
    xv, yv = np.array([[1.0], [-2.0], [0.5]]), np.array([3.0, -1.0, 0.0, 2.0])
    got_d, got_c, got_p = f(xv, yv)
    assert_same(got_d, np.broadcast_to(xv * 2, (3, 4)), "an output of x alone")
    assert_same(got_c, np.full((3, 4), 1.5), "a constant output")
    assert_same(got_p, np.sort(np.stack(np.broadcast_arrays(xv, yv), axis=-1), axis=-1), "the loop's output")
    # an empty batch: the loop runs no step, its output's step shape is static
    assert [r.shape for r in f(np.zeros((0, 1)), yv)] == [(0, 4), (0, 4), (0, 4, 2)]
