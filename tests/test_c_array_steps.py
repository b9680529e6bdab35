"""`cumsum`/`cumprod` (`CumOp`), `eye`, `repeat` (and its gradient) and `tile` run as steps of
the C run-time, not as calls into Python's perform: checked against numpy and the Python linker
for every dtype, every axis and the flattened input, non-contiguous and empty inputs and integer
wraparound; what the native steps leave to numpy (complex products, a negative size or count)
reaches the op's perform, which gives the same result or raises the same error as in Python.
The products (dot, @, tensordot, batched matmul) of infinities and NaNs report no
floating-point flag in either linker."""

from __future__ import annotations

import concurrent.futures
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_program
from fncache.graph.types import DTYPES
from fcutil import fd_check_grads
from test_c_shape_steps import _both, _kinds, _steps


def _native(f, op_prefix: str) -> None:
    """No step of ``f`` for ops named ``op_prefix...`` is a call into Python."""
    names = [name for _, name in _steps(f)]
    assert any(name.startswith(op_prefix) for name in names), names
    assert not [
        name for kind, name in _steps(f) if kind == c_program.ST_PERFORM and name.startswith(op_prefix)
    ]


def _values(dtype: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -5), min(info.max, 5), shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_cumsum_and_cumprod_are_native_and_match_numpy(dtype: str) -> None:
    x = ft.TensorType(dtype, (None, None, None))("x")
    outs, wants = [], []
    for axis in (None, 0, 1, 2, -1):
        outs += [ft.cumsum(x, axis=axis), ft.cumprod(x, axis=axis)]
        wants += [lambda v, a=axis: np.cumsum(v, axis=a), lambda v, a=axis: np.cumprod(v, axis=a)]
    c, py = _both([x], outs)
    assert c_program.ST_CUMOP in _kinds(c)
    _native(c, "CumOp")
    rng = np.random.default_rng(0)
    base = _values(dtype, (4, 5, 6), rng)
    for xv in (
        base,
        base.transpose(2, 0, 1),  # not contiguous
        base[:, ::-2, 1:],  # strided, negative step
        np.zeros((3, 0, 2), dtype),
        np.zeros((0, 4, 1), dtype),
        base[:1, :1, :1],
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # as the perform: IEEE results, no warnings
            for f in (c, py):
                for got, want, out in zip(f(xv), wants, outs):
                    w = np.asarray(want(xv), dtype=out.dtype)
                    assert got.dtype == w.dtype == np.dtype(out.dtype), (got.dtype, w.dtype, out.dtype)
                    assert got.shape == w.shape
                    # the same additions and products in the same order: the same bits
                    np.testing.assert_array_equal(got, w)


def test_cumop_wraps_integers_and_overflows_floats_as_numpy() -> None:
    for dtype, xv in (
        ("int64", np.array([2**62, 2**62, 2**62, -5], "int64")),
        ("int32", np.array([2**30, 2**30, 2**30, 7], "int32")),  # accumulates in int64: no wrap
        ("uint64", np.array([2**63, 2**63, 3], "uint64")),
        ("int8", np.array([-128, -128, 100], "int8")),
        ("float32", np.array([3e38, 3e38, -np.inf, np.nan], "float32")),
        ("float64", np.array([1e308, 1e308, 1e308, 0.0], "float64")),
    ):
        x = ft.TensorType(dtype, (None,))("x")
        c, py = _both([x], [ft.cumsum(x), ft.cumprod(x)])
        _native(c, "CumOp")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for f in (c, py):
                got = f(xv)
                with np.errstate(all="ignore"):
                    want = [np.cumsum(xv), np.cumprod(xv)]
                for g, w in zip(got, want):
                    assert g.dtype == w.dtype
                    np.testing.assert_array_equal(g, w)


def test_cumop_of_a_0d_input_and_its_gradient() -> None:
    s = ft.dscalar("s")
    c, py = _both([s], [ft.cumsum(s), ft.cumprod(s)])
    _native(c, "CumOp")
    for f in (c, py):
        a, b = f(np.float64(2.5))
        assert a.shape == b.shape == (1,) and a[0] == b[0] == 2.5
    # the gradient (a reversed cumsum) runs natively too
    x = ft.dvector("x")
    g = fc.grad(ft.sum(ft.cumsum(x) * ft.arange(5.0)), x)
    c, py = _both([x], [g])
    xv = np.arange(5.0)
    want = np.cumsum(np.arange(5.0)[::-1])[::-1]
    for f in (c, py):
        np.testing.assert_array_equal(f(xv)[0], want)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_eye_is_native_and_matches_numpy(dtype: str) -> None:
    n, m, k = ft.lscalar("n"), ft.iscalar("m"), ft.TensorType("int8", ())("k")
    outs = [ft.eye(n, m, k, dtype=dtype), ft.eye(n, dtype=dtype), ft.eye(3, m, dtype=dtype)]
    c, py = _both([n, m, k], outs)
    assert _kinds(c).count(c_program.ST_EYE) == 3
    _native(c, "Eye")
    for nv, mv, kv in ((3, 4, 1), (4, 3, -2), (0, 2, 0), (3, 3, 5), (2, 5, -7), (5, 5, 0), (1, 0, 0)):
        want = [np.eye(nv, mv, kv, dtype=dtype), np.eye(nv, dtype=dtype), np.eye(3, mv, dtype=dtype)]
        for f in (c, py):
            for got, w in zip(f(np.int64(nv), np.int32(mv), np.int8(kv)), want):
                assert got.dtype == w.dtype and got.shape == w.shape
                np.testing.assert_array_equal(got, w)


def test_eye_refusals_come_from_the_perform() -> None:
    n, m = ft.lscalar("n"), ft.TensorType("uint64", ())("m")
    c, py = _both([n, m], [ft.eye(n), ft.eye(n, m)])
    _native(c, "Eye")
    for f in (c, py):
        with pytest.raises(ValueError, match=r"eye: negative dimensions are not allowed \(got -2\)"):
            f(np.int64(-2), np.uint64(3))
        # a uint64 size (which int_scalar does not read) is numpy's
        got = f(np.int64(2), np.uint64(3))
        np.testing.assert_array_equal(got[1], np.eye(2, 3))


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_repeat_and_tile_are_native_and_match_numpy(dtype: str) -> None:
    x = ft.TensorType(dtype, (None, None))("x")
    n, rv = ft.TensorType("int32", ())("n"), ft.TensorType("uint8", (None,))("rv")
    cases = [
        (ft.repeat(x, n), lambda xv, nv, r: np.repeat(xv, nv)),
        (ft.repeat(x, n, axis=1), lambda xv, nv, r: np.repeat(xv, nv, axis=1)),
        (ft.repeat(x, rv, axis=0), lambda xv, nv, r: np.repeat(xv, r, axis=0)),
        (ft.repeat(x, [1, 0, 2], axis=-1), lambda xv, nv, r: np.repeat(xv, [1, 0, 2], axis=-1)),
        (ft.tile(x, 3), lambda xv, nv, r: np.tile(xv, 3)),
        (ft.tile(x, (2, 1, 3)), lambda xv, nv, r: np.tile(xv, (2, 1, 3))),
        (ft.tile(x, (0, 2)), lambda xv, nv, r: np.tile(xv, (0, 2))),
        (ft.tile(x, ()), lambda xv, nv, r: np.tile(xv, ())),
    ]
    c, py = _both([x, n, rv], [out for out, _ in cases])
    kinds = _kinds(c)
    assert kinds.count(c_program.ST_REPEAT) == 4 and kinds.count(c_program.ST_TILE) == 4
    _native(c, "Repeat")
    _native(c, "Tile")
    base = _values(dtype, (4, 3), np.random.default_rng(1))
    for xv, nv, r in (
        (base, 2, [1, 0, 3, 2]),
        (base[::-1], 0, [0, 0, 0, 0]),  # not contiguous; no copies at all
        (base.T[:, :3], 1, [2, 2, 2]),
        (np.zeros((0, 3), dtype), 3, []),
    ):
        args = (xv, np.int32(nv), np.asarray(r, "uint8"))
        for f in (c, py):
            for got, (out, want) in zip(f(*args), cases):
                w = want(*args)
                assert got.dtype == w.dtype == np.dtype(out.dtype) and got.shape == w.shape
                np.testing.assert_array_equal(got, w)
    # tile of a 0-d input: its reps make the dims
    s = ft.TensorType(dtype, ())("s")
    c, py = _both([s], [ft.tile(s, (2, 3)), ft.tile(s, ())])
    _native(c, "Tile")
    sv = _values(dtype, (), np.random.default_rng(2))
    for f in (c, py):
        a, b = f(sv)
        np.testing.assert_array_equal(a, np.tile(sv, (2, 3)))
        assert b.shape == () and b == sv


def test_repeat_refusals_come_from_the_perform() -> None:
    x, n, rv = ft.dvector("x"), ft.lscalar("n"), ft.lvector("rv")
    c, py = _both([x, n, rv], [ft.repeat(x, n), ft.repeat(x, rv)])
    _native(c, "Repeat")
    xv = np.arange(3.0)
    for f in (c, py):
        with pytest.raises(
            ValueError, match=r"repeat: \(3,\) with repeats of shape \(\) along axis None: .*negative"
        ):
            f(xv, np.int64(-1), np.ones(3, "int64"))
        with pytest.raises(ValueError, match=r"repeat: \(3,\) with repeats of shape \(3,\) .*negative"):
            f(xv, np.int64(1), np.array([1, -1, 2]))
        with pytest.raises(ValueError, match=r"repeat: \(3,\) with repeats of shape \(2,\) along axis None"):
            f(xv, np.int64(1), np.array([1, 2]))


def _run_sums(w: np.ndarray, counts: np.ndarray, axis: int) -> np.ndarray:
    """``w`` summed over consecutive runs of ``counts`` entries along ``axis``."""
    runs = np.split(np.moveaxis(w, axis, 0), np.cumsum(counts)[:-1])
    return np.moveaxis(np.stack([run.sum(axis=0) for run in runs]), 0, axis)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("axis", [0, 1])
def test_repeat_gradient_is_native_and_matches_numpy(dtype: str, axis: int) -> None:
    x = ft.TensorType(dtype, (None, None))("x")
    rv = ft.TensorType("int32", (None,))("rv")
    w = ft.TensorType(dtype, (None, None))("w")
    # the gradient of sum(repeat(x, rv, axis) * w): w summed over each run of copies
    c, py = _both([x, rv, w], [fc.grad(ft.sum(ft.repeat(x, rv, axis=axis) * w), x)])
    _native(c, "RepeatGrad")
    assert c_program.ST_REPEAT_GRAD in _kinds(c)
    rng = np.random.default_rng(3)
    tol = {"float64": 1e-12, "float32": 1e-5}[dtype]
    for counts in ([2, 0, 3], [0, 0, 0], [1, 1, 1], [5, 1, 0]):
        rv_ = np.asarray(counts, "int32")
        xv = rng.standard_normal((3, 3)).astype(dtype)
        shape = list(xv.shape)
        shape[axis] = int(rv_.sum())
        wv = rng.standard_normal(shape).astype(dtype)
        want = _run_sums(wv, rv_, axis)
        for f in (c, py):
            (got,) = f(xv, rv_, wv)
            assert got.dtype == np.dtype(dtype) and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_repeat_gradient_matches_finite_differences() -> None:
    x, rv = ft.dmatrix("x"), ft.lvector("rv")
    fd_check_grads(
        [x, rv],
        {
            "axis0": (lambda x, rv: ft.repeat(x, rv, axis=0), [0]),
            "axis1": (lambda x, rv: ft.repeat(x, rv, axis=1), [0]),
            "flat": (lambda x, rv: ft.repeat(x, ft.concatenate([rv, rv, rv])), [0]),
        },
        [[np.random.default_rng(4).standard_normal((3, 3)), np.array([2, 0, 3])]],
    )


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_sort_and_argsort_are_native_and_match_numpy(dtype: str) -> None:
    x = ft.TensorType(dtype, (None, None))("x")
    axes = (None, 0, 1, -1)
    outs = [ft.sort(x, axis=a) for a in axes] + [ft.argsort(x, axis=a) for a in axes]
    wants = [lambda v, a=a: np.sort(v, axis=a) for a in axes] + [
        lambda v, a=a: np.argsort(v, axis=a) for a in axes
    ]
    c, py = _both([x], outs)
    assert _kinds(c).count(c_program.ST_SORT) == 6  # (axis 1 and -1: one node each)
    _native(c, "Sort")
    rng = np.random.default_rng(5)
    base = _values(dtype, (6, 5), rng)  # small values: many ties
    if dtype.startswith("float"):
        base[1, 2], base[3, 0], base[0, 4] = np.nan, -0.0, np.inf
    for xv in (base, base.T, base[::-2, 1:], np.zeros((0, 3), dtype), np.zeros((4, 0), dtype)):
        for f in (c, py):
            for got, want, out in zip(f(xv), wants, outs):
                w = want(xv)
                assert got.dtype == w.dtype == np.dtype(out.dtype) and got.shape == w.shape
                np.testing.assert_array_equal(got, w)
                if dtype.startswith("float"):  # -0.0 and 0.0 in numpy's order
                    np.testing.assert_array_equal(np.signbit(got), np.signbit(w))


def test_sort_gradients_are_native_and_match_numpy() -> None:
    x = ft.dmatrix("x")
    w = ft.dmatrix("w")
    wf = ft.dvector("wf")
    outs = [
        fc.grad(ft.sum(ft.sort(x, axis=0) * w), x),
        fc.grad(ft.sum(ft.sort(x, axis=1) * w), x),
        fc.grad(ft.sum(ft.sort(x, axis=None) * wf), x),
    ]
    # the gradient of the gradient (SortGrad's gather)
    gw = fc.grad(ft.sum(outs[1] ** 2), w)
    c, py = _both([x, w, wf], [*outs, gw])
    _native(c, "SortGrad")
    assert c_program.ST_SORT_GRAD in _kinds(c)
    rng = np.random.default_rng(6)
    xv = rng.integers(0, 3, (4, 5)).astype("float64")  # ties: numpy's argsort orders them
    xv[1, 1] = 1e3
    wv, wfv = rng.standard_normal((4, 5)), rng.standard_normal(20)
    want = []
    for axis in (0, 1):
        out = np.zeros_like(xv)
        np.put_along_axis(out, np.argsort(xv, axis=axis), wv, axis=axis)
        want.append(out)
    flat = np.zeros(20)
    flat[np.argsort(xv, axis=None)] = wfv
    want.append(flat.reshape(4, 5))
    want.append(2 * np.take_along_axis(want[1], np.argsort(xv, axis=1), axis=1))
    for f in (c, py):
        for got, w_ in zip(f(xv, wv, wfv), want):
            assert got.dtype == w_.dtype and got.shape == w_.shape
            np.testing.assert_array_equal(got, w_)
    # on non-contiguous inputs
    for f in (c, py):
        got = f(np.asfortranarray(xv), wv.T.copy().T, wfv[::-1].copy()[::-1])
        for g_, w_ in zip(got, want):
            np.testing.assert_array_equal(g_, w_)
    fd_check_grads(
        [x],
        {
            "axis0": (lambda x: ft.sort(x, axis=0), [0]),
            "flat": (lambda x: ft.sort(x, axis=None) * ft.arange(1.0, 13.0), [0]),
        },
        [[rng.standard_normal((3, 4))]],
    )


MATMUL_SHAPES = [
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast both ways
    ((4,), (2, 4, 5)),  # a 1-D operand: one row, dropped
    ((2, 3, 4), (4,)),  # one column, dropped
    ((2, 3, 0), (2, 0, 5)),  # k == 0: zeros
    ((0, 3, 4), (4, 5)),  # an empty batch
    ((1, 1, 1), (1, 1, 1)),
    ((2, 40, 40), (2, 40, 40)),  # a large stack: numpy's BLAS through the perform
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batched_matmul_is_native_and_matches_numpy(dtype: str) -> None:
    rng = np.random.default_rng(7)
    tol = {"float64": 1e-12, "float32": 1e-5}[dtype]
    for ashape, bshape in MATMUL_SHAPES:
        a = ft.TensorType(dtype, (None,) * len(ashape))("a")
        b = ft.TensorType(dtype, (None,) * len(bshape))("b")
        c, py = _both([a, b], [a @ b])
        assert _kinds(c) == [c_program.ST_MATMUL]
        av, bv = rng.standard_normal(ashape).astype(dtype), rng.standard_normal(bshape).astype(dtype)
        want = np.matmul(av, bv)
        for args in ((av, bv), (np.asfortranarray(av), bv[..., ::-1].copy()[..., ::-1])):  # not contiguous
            for f in (c, py):
                (got,) = f(*args)
                assert got.dtype == np.dtype(dtype) and got.shape == want.shape, (ashape, bshape)
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_batched_matmul_of_infinities_and_nans_warns_of_nothing() -> None:
    a, b = ft.tensor3("a"), ft.dmatrix("b")
    c, py = _both([a, b], [a @ b])
    av, bv = np.ones((2, 2, 3)), np.ones((3, 2))
    av[0, 1, 2], av[1, 0, 0], bv[1, 1] = np.inf, -np.inf, np.nan
    with np.errstate(all="ignore"):
        want = np.matmul(av, bv)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (c, py):
            np.testing.assert_array_equal(f(av, bv)[0], want)


def _infinities_and_nans(shape: tuple, dtype: str, rng: np.random.Generator) -> np.ndarray:
    """Ones, zeros, infinities of both signs and NaNs: products of them meet inf * 0 and
    inf - inf, which set numpy's 'invalid' flag."""
    pick = np.array([1.0, 0.0, np.inf, -np.inf, np.nan, 2.0], dtype)
    return pick[rng.integers(0, len(pick), shape)]


PRODUCTS = {
    "dot_2d": ((3, 4), (4, 5), lambda a, b: ft.dot(a, b), np.dot),
    "matmul_1d": ((4,), (4,), lambda a, b: a @ b, np.matmul),
    "matmul_matrix_vector": ((3, 4), (4,), lambda a, b: a @ b, np.matmul),
    "matmul_vector_matrix": ((4,), (4, 5), lambda a, b: a @ b, np.matmul),
    "matmul_blas_sized": ((48, 40), (40, 36), lambda a, b: a @ b, np.matmul),
    "dot_3d": ((2, 3, 4), (4, 5), lambda a, b: ft.dot(a, b), np.dot),
    "tensordot": (
        (2, 3, 4),
        (4, 3, 5),
        lambda a, b: ft.tensordot(a, b, ([1, 2], [1, 0])),
        lambda a, b: np.tensordot(a, b, ([1, 2], [1, 0])),
    ),
    "matmul_small_stack": ((2, 3, 4), (4, 5), lambda a, b: a @ b, np.matmul),
    "matmul_large_stack": ((30, 20, 16), (16, 24), lambda a, b: a @ b, np.matmul),
    "dot_then_elementwise": (
        (3, 4),
        (4, 5),
        lambda a, b: ft.dot(a, b) * 2 + 1,
        lambda a, b: np.dot(a, b) * 2 + 1,
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_of_infinities_and_nans_warn_of_nothing(name: str, dtype: str) -> None:
    """dot, @, tensordot and batched matmul meeting inf * 0 and inf - inf give numpy's NaNs
    and, in both linkers, no floating-point warning, nor an error under np.errstate(all="raise")
    (numpy's own products report one): IEEE results, as the compiled kernels give."""
    ashape, bshape, build, ref = PRODUCTS[name]
    a, b = ft.tensor("a", dtype, len(ashape)), ft.tensor("b", dtype, len(bshape))
    c, py = _both([a, b], [build(a, b)])
    assert {c_program.ST_DOT, c_program.ST_TENSORDOT, c_program.ST_MATMUL} & set(_kinds(c)), name
    state = np.geterr()
    rng = np.random.default_rng(len(name))
    for _ in range(3):
        av, bv = _infinities_and_nans(ashape, dtype, rng), _infinities_and_nans(bshape, dtype, rng)
        with np.errstate(all="ignore"):
            want = np.asarray(ref(av, bv), dtype)
        assert np.isnan(want).any(), name  # the values do meet an invalid operation
        for f in (c, py):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                (got,) = f(av, bv)
                with np.errstate(all="raise"):
                    (again,) = f(av, bv)
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(again, want)
    assert np.geterr() == state  # the caller's error state is left as it was


def test_products_in_threads_at_once_warn_of_nothing() -> None:
    """Threads running one compiled product at once, each with numpy's default error state
    or under np.errstate(all="raise"): each gets numpy's NaNs, no warning and no error."""
    a, b = ft.dmatrix("a"), ft.dmatrix("b")
    f = fc.function([a, b], [ft.dot(a, b), ft.tensordot(a, b, 1) + 1])
    rng = np.random.default_rng(11)
    av, bv = _infinities_and_nans((40, 30), "float64", rng), _infinities_and_nans((30, 20), "float64", rng)
    with np.errstate(all="ignore"):
        want = np.dot(av, bv)

    def run(k: int) -> list:
        with np.errstate(all="raise" if k % 2 else "warn"):
            return [f(av, bv) for _ in range(50)]

    # the warning filters are the process's: set once, around every thread
    with warnings.catch_warnings(), concurrent.futures.ThreadPoolExecutor(4) as pool:
        warnings.simplefilter("error")
        for results in pool.map(run, range(8)):
            for got, plus_one in results:
                np.testing.assert_array_equal(got, want)
                np.testing.assert_array_equal(plus_one, want + 1)


def test_batched_matmul_refusals_come_from_the_perform() -> None:
    a, b = ft.tensor3("a"), ft.tensor3("b")
    c, py = _both([a, b], [a @ b])
    for f in (c, py):
        with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3, 4\) and \(2, 5, 6\)"):
            f(np.ones((2, 3, 4)), np.ones((2, 5, 6)))
        with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3, 4\) and \(3, 4, 6\)"):
            f(np.ones((2, 3, 4)), np.ones((3, 4, 6)))
    # mixed dtypes run numpy's matmul (its promotion), natively where they are one float type
    x, y = ft.TensorType("int32", (None, None, None))("x"), ft.fmatrix("y")
    c, py = _both([x, y], [x @ y])
    xv, yv = np.arange(24, dtype="int32").reshape(2, 3, 4), np.ones((4, 2), "float32")
    for f in (c, py):
        (got,) = f(xv, yv)
        assert got.dtype == np.matmul(xv, yv).dtype
        np.testing.assert_array_equal(got, np.matmul(xv, yv))


def test_batched_matmul_gradient_matches_finite_differences() -> None:
    a, b = ft.tensor3("a"), ft.dmatrix("b")
    rng = np.random.default_rng(8)
    fd_check_grads(
        [a, b],
        {
            "ab": (lambda a, b: a @ b, [0, 1]),
            "bcast": (lambda a, b: ft.dimshuffle(b, ("x", 0, 1)) @ a, [0, 1]),
        },
        [[rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 3))]],
    )
