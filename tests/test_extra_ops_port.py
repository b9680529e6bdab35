"""The names a port of Theano/PyTensor scripts asks for beyond the core ones: ``ft.extra_ops``
(``compress ravel_multi_index unravel_index to_one_hot fill_diagonal_offset Unique`` and the
names it shares with ``ft``), ``largest smallest default``, ``topk argtopk topk_and_argtopk``,
``cov corrcoef``, ``var``/``std`` with ``corrected`` and the ``nonzero`` methods. Against
numpy in both linkers over several shapes, dtypes and axes; gradients against central finite
differences; bad arguments; the modules loading only when first asked for."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled, fd_check_grads, numpy_errstate, run_python, sample

eo = ft.extra_ops


@compiled
def extra_ops_fn(dtype: str, mode: str):
    x, c = ft.tensor("x", dtype, 2), ft.tensor("c", "bool", 1)
    i, j, k = ft.lvector("i"), ft.ivector("j"), ft.iscalar("k")
    outs = {
        "cumsum": (eo.cumsum(x, 1), lambda x, c, i, j, k: np.cumsum(x, 1)),
        "cumprod": (eo.cumprod(x), lambda x, c, i, j, k: np.cumprod(x)),
        "repeat": (eo.repeat(x, 2, 0), lambda x, c, i, j, k: np.repeat(x, 2, 0)),
        "squeeze": (eo.squeeze(x[:1], 0), lambda x, c, i, j, k: x[:1].reshape(x.shape[1:])),
        "diff": (eo.diff(x, 1, 0), lambda x, c, i, j, k: np.diff(x, 1, 0)),
        "compress_0": (eo.compress(c, x, 0), lambda x, c, i, j, k: np.compress(c, x, 0)),
        "compress_flat": (eo.compress(c, x), lambda x, c, i, j, k: np.compress(c, x)),
        "compress_1": (
            ft.compress(c[: x.shape[1]], x, axis=1),
            lambda x, c, i, j, k: np.compress(c[: x.shape[1]], x, 1),
        ),
        "fill_diag_offset": (
            eo.fill_diagonal_offset(x, 7, k),
            lambda x, c, i, j, k: _fill_offset(x, 7, int(k)),
        ),
        "fill_diag_offset_neg": (
            ft.fill_diagonal_offset(x, 3, -k - 1),
            lambda x, c, i, j, k: _fill_offset(x, 3, -int(k) - 1),
        ),
        "largest": (ft.largest(x, x[::-1]), lambda x, c, i, j, k: np.where(x > x[::-1], x, x[::-1])),
        "largest3": (
            ft.largest(x, 2, x[::-1]),
            lambda x, c, i, j, k: np.max(
                np.stack(np.broadcast_arrays(x, np.asarray(2, x.dtype), x[::-1])), 0
            ),
        ),
        "smallest": (
            ft.smallest(x, x[:, ::-1]),
            lambda x, c, i, j, k: np.where(x < x[:, ::-1], x, x[:, ::-1]),
        ),
        "smallest1": (ft.smallest(x), lambda x, c, i, j, k: x),
        "nonzero_values": (x.nonzero_values(), lambda x, c, i, j, k: x[x != 0]),
        "nonzero_0": (x.nonzero()[0], lambda x, c, i, j, k: np.nonzero(x)[0]),
        "nonzero_matrix": (x.nonzero(return_matrix=True), lambda x, c, i, j, k: np.array(np.nonzero(x))),
        "unique_inverse": (
            eo.Unique(return_inverse=True)(x)[1],
            lambda x, c, i, j, k: np.unique(x, return_inverse=True)[1],
        ),
    }
    names = list(outs)
    f = fc.function([x, c, i, j, k], [outs[n][0] for n in names], mode=mode, on_unused_input="ignore")
    return f, names, {n: outs[n][1] for n in names}


def _fill_offset(x: np.ndarray, val: float, k: int) -> np.ndarray:
    out = x.copy()
    rows, cols = np.indices(x.shape)
    out[cols - rows == k] = val
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "int64"])
def test_against_numpy_over_random_shapes(dtype: str, mode: str) -> None:
    f, names, refs = extra_ops_fn(dtype, mode)
    rng = np.random.default_rng(11)
    for trial, shape in enumerate([(3, 4), (1, 5), (4, 1), (5, 5), (2, 7)]):
        x = sample(dtype, shape, seed=trial, special=False)
        c = rng.integers(0, 2, size=shape[0]).astype(bool)
        args = (x, c, np.arange(2), np.arange(2, dtype="int32"), np.int32(trial % 3))
        for name, got in zip(names, f(*args)):
            assert_same(got, refs[name](*args), f"{name} {dtype} {shape}")


@pytest.mark.parametrize("mode", MODES)
def test_index_conversions_against_numpy(mode: str) -> None:
    i, j, flat = ft.ivector("i"), ft.lvector("j"), ft.lmatrix("flat")
    n = ft.lscalar("n")
    outs = [
        eo.ravel_multi_index((i, j), (3, 4)),
        eo.ravel_multi_index((i, j), (3, 4), order="F"),
        eo.ravel_multi_index((i, j), (2, n), mode="wrap"),
        ft.ravel_multi_index([i, j], ft.as_tensor_variable(np.array([2, 3])), mode="clip"),
        *eo.unravel_index(flat, (3, 4)),
        *ft.unravel_index(flat, (n, 2, 2), order="F"),
        eo.unravel_index(j, [12])[0],
    ]
    f = fc.function([i, j, flat, n], outs, mode=mode)
    iv, jv, fv = np.array([0, 2, 1], "int32"), np.array([3, 1, 0]), np.array([[0, 11, 5], [7, 2, 3]])
    got = f(iv, jv, fv, 3)
    want = [
        np.ravel_multi_index((iv, jv), (3, 4)),
        np.ravel_multi_index((iv, jv), (3, 4), order="F"),
        np.ravel_multi_index((iv, jv), (2, 3), mode="wrap"),
        np.ravel_multi_index((iv, jv), (2, 3), mode="clip"),
        *np.unravel_index(fv, (3, 4)),
        *np.unravel_index(fv, (3, 2, 2), order="F"),
        np.unravel_index(jv, (12,))[0],
    ]
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w.astype("int64"), f"output {k}")
    with pytest.raises(ValueError, match="ravel_multi_index: invalid entry in coordinates array"):
        f(np.array([3, 0, 0], "int32"), jv, fv, 3)
    with pytest.raises(ValueError, match="unravel_index: index 12 is out of bounds"):
        f(iv, jv, np.array([[12]]), 3)


@pytest.mark.parametrize("mode", MODES)
def test_to_one_hot_and_unique(mode: str) -> None:
    y = ft.ivector("y")
    x = ft.matrix("x")
    outs = [eo.to_one_hot(y, 4), ft.to_one_hot(y, 5, dtype="int8")]
    outs += eo.Unique(True, True, True)(x)
    outs += eo.Unique(return_index=True, axis=1)(x)
    outs += [eo.Unique()(x), eo.unique(x, axis=-2)]
    f = fc.function([y, x], outs, mode=mode)
    yv = np.array([0, 3, 1, 3], "int32")
    xv = np.array([[1.0, 2.0, 1.0], [2.0, 5.0, 2.0], [1.0, 2.0, 1.0]])
    got = f(yv, xv)
    assert_same(got[0], np.eye(4, dtype=fc.config.floatX)[yv], "to_one_hot")
    assert_same(got[1], np.eye(5, dtype="int8")[yv], "to_one_hot int8")
    for g, w in zip(got[2:6], np.unique(xv, return_index=True, return_inverse=True, return_counts=True)):
        assert_same(g, w.astype(g.dtype) if w.dtype.kind == "i" else w, "unique")
    for g, w in zip(got[6:8], np.unique(xv, return_index=True, axis=1)):
        assert_same(g, w.astype(g.dtype) if w.dtype.kind == "i" else w, "unique axis=1")
    assert_same(got[8], np.unique(xv), "Unique()")
    assert_same(got[9], np.unique(xv, axis=0), "unique axis=-2")
    with pytest.raises(AssertionError, match=r"to_one_hot: a class of y is outside \[0, nb_class\)"):
        f(np.array([0, 4], "int32"), xv)
    with pytest.raises(AssertionError, match="to_one_hot"):
        f(np.array([-1], "int32"), xv)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8"])
def test_topk_against_numpy_sort(dtype: str, mode: str) -> None:
    x = ft.tensor("x", dtype, 3)
    cases = [(2, -1), (-3, -1), (1, 0), (-1, 1), (4, 2), (-4, -1)]
    outs = []
    for kth, axis in cases:
        vals, idx = ft.topk_and_argtopk(x, kth, axis=axis)
        outs += [ft.topk(x, kth, axis), ft.argtopk(x, kth, axis=axis, idx_dtype="int32"), vals, idx]
    f = fc.function([x], outs, mode=mode)
    for seed, shape in enumerate([(2, 3, 4), (3, 4, 4), (1, 2, 5)]):
        xv = sample(dtype, shape, seed=seed, special=False)
        got = iter(f(xv))
        for kth, axis in cases:
            order = np.argsort(xv, axis=axis, kind="stable")
            n = xv.shape[axis]
            take = np.arange(n - 1, n - 1 - kth, -1) if kth > 0 else np.arange(-kth)
            want_vals = np.take(np.sort(xv, axis=axis), take, axis=axis)
            v1, i1, v2, i2 = next(got), next(got), next(got), next(got)
            assert_same(v1, want_vals, f"topk {kth} {axis} {shape}")
            assert_same(v2, want_vals, f"topk_and_argtopk {kth} {axis}")
            assert i1.dtype == np.int32 and i2.dtype == np.int64
            # the indices point at the values (ties may come in either order)
            assert_same(np.take_along_axis(xv, i1.astype(np.int64), axis=axis), want_vals, f"argtopk {kth}")
            assert_same(np.take_along_axis(xv, i2, axis=axis), want_vals, f"argtopk {kth}")
            assert np.all(np.sort(i2, axis=axis) == np.sort(np.take(order, take, axis=axis), axis=axis)) or (
                len(np.unique(xv)) < xv.size
            )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_cov_and_corrcoef_against_numpy(dtype: str, mode: str) -> None:
    m, y, v = ft.tensor("m", dtype, 2), ft.tensor("y", dtype, 2), ft.tensor("v", dtype, 1)
    fw, aw = ft.lvector("fw"), ft.dvector("aw")
    outs = {
        "cov": (ft.cov(m), lambda m, y, v, fw, aw: np.cov(m)),
        "cov_y": (ft.cov(m, y), lambda m, y, v, fw, aw: np.cov(m, y)),
        "cov_cols": (ft.cov(m, rowvar=False), lambda m, y, v, fw, aw: np.cov(m, rowvar=False)),
        "cov_bias": (ft.cov(m, bias=True), lambda m, y, v, fw, aw: np.cov(m, bias=True)),
        "cov_ddof": (ft.cov(m, ddof=0), lambda m, y, v, fw, aw: np.cov(m, ddof=0)),
        "cov_vec": (ft.cov(v), lambda m, y, v, fw, aw: np.cov(v)),
        "cov_vec_m": (ft.cov(v, m), lambda m, y, v, fw, aw: np.cov(v, m)),
        "cov_fw": (ft.cov(m, fweights=fw), lambda m, y, v, fw, aw: np.cov(m, fweights=fw)),
        "cov_aw": (ft.cov(m, aweights=aw), lambda m, y, v, fw, aw: np.cov(m, aweights=aw)),
        "cov_both": (
            ft.cov(m, fweights=fw, aweights=aw, ddof=2),
            lambda m, y, v, fw, aw: np.cov(m, fweights=fw, aweights=aw, ddof=2),
        ),
        "cov_aw_bias": (
            ft.cov(m, aweights=aw, bias=True),
            lambda m, y, v, fw, aw: np.cov(m, aweights=aw, bias=True),
        ),
        "corrcoef": (ft.corrcoef(m), lambda m, y, v, fw, aw: np.corrcoef(m)),
        "corrcoef_y": (
            ft.corrcoef(m, y, rowvar=False),
            lambda m, y, v, fw, aw: np.corrcoef(m, y, rowvar=False),
        ),
        "corrcoef_vec": (ft.corrcoef(v), lambda m, y, v, fw, aw: np.corrcoef(v)),
    }
    names = list(outs)
    f = fc.function([m, y, v, fw, aw], [outs[n][0] for n in names], mode=mode)
    rng = np.random.default_rng(2)
    for r, c in [(3, 5), (2, 6), (4, 4)]:
        mv = (rng.normal(size=(r, c)) * 4).astype(dtype)
        yv = (rng.normal(size=(r, c)) * 4).astype(dtype)
        vv = (rng.normal(size=c) * 4).astype(dtype)
        fwv, awv = rng.integers(1, 4, size=c), rng.uniform(0.5, 2.0, size=c)
        args = (mv, yv, vv, fwv, awv)
        for name, got in zip(names, f(*args)):
            with numpy_errstate():  # an int row may be constant: NaN correlations, as numpy's
                want = outs[name][1](*args)
            assert_same(got, want, f"{name} {dtype} {(r, c)}", rtol=1e-10, atol=1e-12)


def test_cov_of_one_observation_divides_by_zero_as_numpy() -> None:
    m = ft.matrix("m")
    f = fc.function([m], ft.cov(m))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.cov(np.array([[1.0], [2.0]]))
    assert_same(f(np.array([[1.0], [2.0]])), want, "one observation")


_COV_M = [(1, 3), (3, 1), (1, 1), (2, 3), (3,), (0, 3), (2, 0)]
_COV_Y = [None, (1, 3), (2, 3), (3,)]


def _cov_cases() -> list[tuple[str, tuple, tuple | None, bool, bool, dict]]:
    """Every (function, m's shape, y's shape, rowvar, static shapes, keywords) of the shapes
    above; corrcoef, the normalizations and the weights without y."""
    cases = []
    for ms, ys, rowvar, static in itertools.product(_COV_M, _COV_Y, (True, False), (True, False)):
        cases.append(("cov", ms, ys, rowvar, static, {}))
        if ys is None:
            for kw in ({"bias": True}, {"ddof": 2}, {"fweights": 1, "aweights": 1}):
                cases.append(("cov", ms, ys, rowvar, static, kw))
            cases.append(("corrcoef", ms, ys, rowvar, static, {}))
    return cases


def _cov_graph(fn: str, ms: tuple, ys: tuple | None, rowvar: bool, static: bool, kw: dict, seed: int):
    """The inputs, the output and numpy's value (or the exception it raises) of one case."""
    rng = np.random.default_rng(seed)
    mv = rng.normal(size=ms)
    yv = None if ys is None else rng.normal(size=ys)
    n_obs = ms[-1] if len(ms) == 1 or rowvar else ms[0]
    draw = {
        "fweights": lambda: rng.integers(1, 4, size=n_obs),
        "aweights": lambda: rng.uniform(0.5, 2, size=n_obs),
    }
    weights = {k: draw[k]() for k in kw if k in draw}
    values = [mv] + ([] if yv is None else [yv]) + list(weights.values())
    ins = [
        ft.tensor(f"i{k}", v.dtype, shape=v.shape if static else (None,) * v.ndim)
        for k, v in enumerate(values)
    ]
    args = {**kw, **dict(zip(weights, ins[len(ins) - len(weights) :]))}
    try:
        with numpy_errstate(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = getattr(np, fn)(mv, yv, rowvar=rowvar, **{**kw, **weights})
    except (ValueError, ZeroDivisionError) as e:
        want = e
    build = lambda: getattr(ft, fn)(ins[0], None if yv is None else ins[1], rowvar=rowvar, **args)  # noqa: E731
    return ins, values, build, want


def _check_cov(got: np.ndarray, out: Any, want: np.ndarray, what: str) -> None:
    # the declared type is the value's; a single variable known only at run time is not
    # squeezed (the number of dims is fixed when the graph is built): (1, 1) for numpy's 0-d
    assert got.dtype == out.dtype and got.ndim == out.ndim, f"{what}: {got.dtype} {got.shape} for {out.type}"
    assert all(s is None or s == g for s, g in zip(out.type.shape, got.shape)), (
        f"{what}: {got.shape} for {out.type}"
    )
    if want.ndim == 0 and out.ndim == 2 and out.type.shape == (None, None):
        want = want.reshape(1, 1)
    assert_same(got, want, what, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_cov_corrcoef_of_every_shape_against_numpy(mode: str) -> None:
    """cov and corrcoef over single rows and columns, vectors, no variables or observations,
    with y, rowvar, ddof and weights, the shapes static or known only at run time: numpy's
    values and shapes, or its ValueError (built in one function per mode; the normalizations
    and weights, whose shapes are those of plain cov, in FAST_COMPILE only: one C compile less
    large)."""
    ins, outs, vals, wants, whats = [], [], [], [], []
    for k, case in enumerate(_cov_cases()):
        if mode != "FAST_COMPILE" and case[-1]:
            continue
        i, v, build, want = _cov_graph(*case, seed=k)
        what = f"{case}"
        if isinstance(want, Exception):
            if mode == "FAST_COMPILE":  # refused when built or when run, as numpy refuses
                # (weights of sum 0: fncache's run-time check, AssertionError, for numpy's ZeroDivisionError)
                with pytest.raises((ValueError, AssertionError)), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fc.function(i, build(), mode=mode, on_unused_input="ignore")(*v)
            continue
        ins += i
        outs.append(build())
        vals += v
        wants.append(want)
        whats.append(what)
    f = fc.function(ins, outs, mode=mode, on_unused_input="ignore")  # y of an m of no variables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's empty-mean warnings, checked elsewhere
        got = f(*vals)
    for g, o, w, what in zip(got, outs, wants, whats):
        _check_cov(g, o, w, what)


@pytest.mark.parametrize("mode", MODES)
def test_var_std_corrected(mode: str) -> None:
    x = ft.tensor("x", "float32", 2)
    outs = [
        ft.var(x, corrected=True),
        ft.var(x, axis=0, ddof=1, corrected=True),
        x.std(axis=1, keepdims=True, corrected=True),
        ft.std(x, axis=(0, 1), ddof=2, corrected=True),
        x.var(axis=1, ddof=1, corrected=True),
    ]
    f = fc.function([x], outs, mode=mode)
    rng = np.random.default_rng(4)
    xv = (rng.normal(size=(40, 30)) + 3000.0).astype("float32")
    x64 = xv.astype(np.float64)
    want = [
        np.var(x64),
        np.var(x64, axis=0, ddof=1),
        np.std(x64, axis=1, keepdims=True),
        np.std(x64, ddof=2),
        np.var(x64, axis=1, ddof=1),
    ]
    for k, (g, w) in enumerate(zip(f(xv), want)):
        assert g.dtype == np.float32 and g.shape == w.shape, k
        np.testing.assert_allclose(g, w, rtol=2e-3, err_msg=f"output {k}")
    # the correction removes the rounding of the mean: closer to the float64 variance
    # than the uncorrected float32 one, with an offset far larger than the spread
    big = (rng.normal(size=4000) + 1e4).astype("float32")[None]
    plain = fc.function([x], ft.var(x), mode=mode)(big)
    corr = fc.function([x], ft.var(x, corrected=True), mode=mode)(big)
    exact = np.var(big.astype(np.float64))
    assert abs(corr - exact) <= abs(plain - exact)
    z = ft.tensor("z", "complex128", 1)
    zv = np.array([1 + 2j, 3 - 1j, -2 + 0.5j])
    assert_same(fc.function([z], ft.var(z, ddof=1, corrected=True), mode=mode)(zv), np.var(zv, ddof=1))


def test_default() -> None:
    x, d = ft.vector("x"), ft.vector("d")
    assert ft.default(x, d) is x
    f = fc.function([d], ft.default(None, d) * 2)
    assert_same(f(np.array([1.0, 2.0])), np.array([2.0, 4.0]))
    assert ft.default(None, 3).data == 3
    with pytest.raises(TypeError, match=r"default: x is .* and default is .*; they must have the same dtype"):
        ft.default(x, ft.matrix("m"))
    with pytest.raises(TypeError, match="default: x is"):
        ft.default(ft.ivector("i"), d)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    x, y, w = ft.matrix("x"), ft.matrix("y"), ft.vector("w")
    cases = {
        "compress": (lambda x, y, w: eo.compress(np.array([True, False, True]), x, axis=1), [0]),
        "fill_diagonal_offset": (lambda x, y, w: eo.fill_diagonal_offset(x, w[0], 1), [0, 2]),
        "fill_diagonal_offset_neg": (lambda x, y, w: ft.fill_diagonal_offset(x, w[1] * 2, -1), [0, 2]),
        "largest": (lambda x, y, w: ft.largest(x, y), [0, 1]),
        "largest3": (lambda x, y, w: ft.largest(x, y, w[:3]), [0, 1, 2]),
        "smallest": (lambda x, y, w: ft.smallest(x, y * 2), [0, 1]),
        "topk": (lambda x, y, w: ft.topk(x, 2), [0]),
        "topk_smallest": (lambda x, y, w: ft.topk(x, -2, axis=0), [0]),
        "topk_pair": (lambda x, y, w: ft.topk_and_argtopk(y, 1)[0], [1]),
        "cov": (lambda x, y, w: ft.cov(x), [0]),
        "cov_aw": (lambda x, y, w: ft.cov(x, y, aweights=ft.sqr(w[:3]) + 1), [0, 1, 2]),
        "corrcoef": (lambda x, y, w: ft.corrcoef(x, rowvar=False), [0]),
        "var_corrected": (lambda x, y, w: ft.var(x, axis=0, ddof=1, corrected=True), [0]),
        "std_corrected": (lambda x, y, w: ft.std(x, corrected=True), [0]),
        "nonzero_values": (lambda x, y, w: x.nonzero_values(), [0]),
        "alloc_diag": (lambda x, y, w: eo.alloc_diag(x, 1, axis1=0, axis2=2), [0]),
    }
    rng = np.random.default_rng(9)
    values = [[rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=4)] for _ in range(2)]
    fd_check_grads([x, y, w], cases, values, mode=mode)


def test_bad_arguments_name_the_function_what_was_given_and_the_fix() -> None:
    x, v, i = ft.matrix("x"), ft.vector("v"), ft.ivector("i")
    with pytest.raises(ValueError, match="compress: condition must be a vector"):
        eo.compress(x, x)
    f = fc.function([v, x], eo.compress(v, x, axis=0))
    with pytest.raises(IndexError, match="out of range|out of bounds"):
        f(np.array([0.0, 0.0, 1.0]), np.zeros((2, 2)))
    with pytest.raises(TypeError, match="ravel_multi_index: multi_index must be a tuple or a list"):
        eo.ravel_multi_index(x, (2, 2))
    with pytest.raises(ValueError, match="ravel_multi_index: mode must be one of"):
        eo.ravel_multi_index((i, i), (2, 2), mode="bounce")
    with pytest.raises(TypeError, match="ravel_multi_index: index array 1 must hold ints"):
        eo.ravel_multi_index((i, v), (2, 2))
    with pytest.raises(ValueError, match="ravel_multi_index: 2 index arrays for 3 dims"):
        eo.ravel_multi_index((i, i), (2, 2, 2))
    with pytest.raises(ValueError, match="ravel_multi_index: order must be 'C'"):
        eo.ravel_multi_index((i, i), (2, 2), order="K")
    with pytest.raises(ValueError, match="unravel_index: the number of dims must be known"):
        eo.unravel_index(i, ft.lvector("d"))
    with pytest.raises(TypeError, match="unravel_index: indices must hold ints"):
        eo.unravel_index(v, (2, 2))
    with pytest.raises(TypeError, match="unravel_index: dims must be a tuple of ints"):
        eo.unravel_index(i, x)
    with pytest.raises(TypeError, match="to_one_hot: y must be an int vector"):
        eo.to_one_hot(v, 3)
    with pytest.raises(TypeError, match="to_one_hot: nb_class must be a non-negative int"):
        eo.to_one_hot(i, 2.5)
    with pytest.raises(ValueError, match="fill_diagonal_offset: takes a matrix"):
        eo.fill_diagonal_offset(v, 1, 0)
    with pytest.raises(TypeError, match="fill_diagonal_offset: val must be a scalar"):
        eo.fill_diagonal_offset(x, v, 0)
    with pytest.raises(TypeError, match="fill_diagonal_offset: offset must be an int"):
        eo.fill_diagonal_offset(x, 1, 0.5)
    with pytest.raises(ValueError, match="Unique: axis must be a non-negative int, got -1"):
        eo.Unique(axis=-1)
    with pytest.raises(ValueError, match="unique: axis 2 is out of bounds"):
        eo.Unique(axis=2)(x)
    with pytest.raises(TypeError, match="unique: complex tensors are not supported"):
        eo.Unique()(ft.tensor("z", "complex128", 1))
    with pytest.raises(TypeError, match="largest: takes one or more tensors"):
        ft.largest()
    with pytest.raises(ValueError, match="topk: kth must be a non-zero int"):
        ft.topk(x, 0)
    with pytest.raises(TypeError, match="argtopk: kth must be an int or a symbolic int scalar, got k"):
        ft.argtopk(x, ft.dscalar("k"))
    with pytest.raises(ValueError, match="topk: kth=5 asks for 5 elements of an axis of 3"):
        ft.topk(ft.tensor("s", "float64", shape=(2, 3)), 5)
    with pytest.raises(ValueError, match="topk: a 0-d tensor has no axis"):
        ft.topk(ft.scalar("s"), 1)
    with pytest.raises(TypeError, match="argtopk: idx_dtype must be an int dtype"):
        ft.argtopk(x, 1, idx_dtype="float32")
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        ft.topk(x, 1, axis=2)
    g = fc.function([x], ft.topk(x, -3))
    with pytest.raises(
        AssertionError, match=r"topk: kth=-3 asks for 3 elements of axis 1, which holds 2; give \|kth\| <= 2"
    ):
        g(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="cov: m must be a real vector or matrix"):
        ft.cov(ft.tensor("t", "float64", 3))
    with pytest.raises(TypeError, match="cov: fweights must hold ints"):
        ft.cov(x, fweights=v)
    with pytest.raises(ValueError, match="cov: aweights must be a vector"):
        ft.cov(x, aweights=x)
    with pytest.raises(TypeError, match="cov: ddof must be an int, got 0.5; .*or None for N - 1"):
        ft.cov(x, ddof=0.5)
    h = fc.function([x, v], ft.cov(x, aweights=v))
    with pytest.raises(AssertionError, match="cov: aweights must be non-negative, one per observation"):
        h(np.ones((2, 3)), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(AssertionError, match="cov: aweights must be non-negative, one per observation"):
        h(np.ones((2, 3)), np.array([1.0, 1.0]))
    with pytest.raises(AttributeError, match="module 'fncache.tensor.extra_ops' has no attribute 'nope'"):
        eo.nope  # noqa: B018


def test_modules_load_only_when_asked_for() -> None:
    code = (
        "import sys\n"
        "from fncache import tensor as ft\n"
        "mods = ('fncache.tensor.topk', 'fncache.tensor.index_ops', 'fncache.tensor.data_ops', "
        "'fncache.tensor.stat_reductions')\n"
        "print([m for m in mods if m in sys.modules])\n"
        "ft.extra_ops.to_one_hot, ft.topk\n"
        "print([m for m in mods if m in sys.modules], callable(ft.topk), ft.extra_ops.Unique.__name__)\n"
        "eo = ft.extra_ops\n"
        "print(eo.searchsorted is ft.searchsorted, eo.bincount is ft.bincount, eo.cumsum is ft.cumsum,"
        " eo.compress is ft.compress, eo.repeat is ft.repeat, eo.squeeze is ft.squeeze)\n"
    )
    lines = run_python(code).splitlines()
    assert lines[0] == "[]"
    assert lines[1] == "['fncache.tensor.topk', 'fncache.tensor.index_ops'] True Unique"
    assert lines[2] == "True True True True True True"
