"""The forward pass of a softmax classifier's cross-entropy reads one log-probability per row:
``log(softmax(z))[arange(n), y]`` and ``log_softmax(z)[arange(n), y]`` are
``z[arange(n), y] - max - log(sum(exp(z - max)))`` per row, with no matrix of log-probabilities
(`log_softmax` and `index_elemwise`). Checked against scipy on extreme scores, against the
graph without those rewrites (values and gradients), and by the optimized graph's nodes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import fncache as fc
from fncache import tensor as ft
from fncache.errors import BroadcastError
from fncache.tensor.blas import Dot

PY_FAST_RUN = fc.Mode("py", "fast_run")
#: fast_run without the two rewrites: the graph as it was built, the reference
PLAIN = PY_FAST_RUN.excluding("log_softmax", "index_elemwise")


def _rows(y):
    return ft.arange(y.shape[0]), y


#: name: per-row negative log-likelihood of the scores z for the class indices y
PER_ROW = {
    "log(softmax)[i, y]": lambda z, y: -ft.log(ft.softmax(z))[_rows(y)],
    "log_softmax[i, y]": lambda z, y: -ft.log_softmax(z)[_rows(y)],
    "cce(softmax, y)": lambda z, y: ft.nnet.categorical_crossentropy(ft.softmax(z), y),
}

#: rows scipy's functions must agree on: large, tiny, -inf, +inf and NaN scores
EXTREME = np.array(
    [
        [0.5, -1.0, 2.0],
        [1e300, -1e300, 0.0],
        [0.0, -800.0, 1.0],
        [-np.inf, 2.0, 3.0],
        [-np.inf, -np.inf, 1.0],
        [np.inf, 1.0, 0.0],
        [np.nan, 1.0, 0.0],
        [-np.inf, -np.inf, -np.inf],
        [-1e300, -1e300, -1e300],
    ]
)


def _want(z: np.ndarray, y: np.ndarray, name: str) -> np.ndarray:
    """scipy's negative log-probabilities; a log of a softmax is NaN on the rows where the
    softmax is (a row holding +inf or NaN, or only -inf), as numpy's log of scipy's softmax."""
    with np.errstate(all="ignore"):
        want = -scipy.special.log_softmax(z, axis=1)[np.arange(len(y)), y]
        if name != "log_softmax[i, y]":
            want[np.isnan(scipy.special.softmax(z, axis=1)).any(axis=1)] = np.nan
    return want


@pytest.mark.parametrize("dtype, mode", [("float64", "py"), ("float32", "py"), ("float32", "FAST_RUN")])
def test_per_row_losses_match_scipy_on_extreme_scores(dtype: str, mode: str) -> None:
    z, y = ft.matrix("z", dtype=dtype), ft.ivector("y")
    mode = PY_FAST_RUN if mode == "py" else mode
    f = fc.function([z, y], [build(z, y) for build in PER_ROW.values()], mode=mode)
    with np.errstate(over="ignore"):
        zv = EXTREME.astype(dtype)
    for yv in (np.array([0, 1, 1, 0, 1, 2, 1, 0, 2], np.int32), np.full(9, 2, np.int32)):
        with np.errstate(all="ignore"):
            got = f(zv, yv)
        for name, g in zip(PER_ROW, got):
            want = _want(zv.astype(float), yv, name)
            assert g.dtype == dtype
            tol = 4 * np.finfo(dtype).eps
            np.testing.assert_allclose(g, want.astype(dtype), rtol=tol, atol=tol, err_msg=f"{name} {yv}")


def test_one_class_and_no_rows() -> None:
    z, y = ft.dmatrix("z"), ft.ivector("y")
    f = fc.function([z, y], [build(z, y) for build in PER_ROW.values()], mode=PY_FAST_RUN)
    for got in f(np.array([[3.0], [-1e300]]), np.array([0, 0], np.int32)):
        np.testing.assert_array_equal(got, [0.0, 0.0])
    for got in f(np.zeros((0, 4)), np.zeros(0, np.int32)):
        assert got.shape == (0,)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cost_and_gradient_agree_with_the_graph_as_built(dtype: str) -> None:
    """The cost and update of a training function (the gradient's softmax shares the row max
    and sum with the cost), and the cost alone, within a few ulps of the graph without the
    rewrites; the full log-probability matrix, also an output, is scipy's log-softmax."""
    x, W, b, y = (
        ft.matrix("x", dtype=dtype),
        ft.matrix("W", dtype=dtype),
        ft.vector("b", dtype=dtype),
        ft.ivector("y"),
    )
    z = ft.dot(x, W) + b
    costs = [ft.mean(build(z, y)) for build in PER_ROW.values()] + [
        ft.sum(PER_ROW["log_softmax[i, y]"](z, y))
    ]
    outs = [g for c in costs for g in (c, *fc.grad(c, [W, b]))]
    r = np.random.default_rng(0)
    args = [
        r.standard_normal((6, 4)) * 3,
        r.standard_normal((4, 5)),
        r.standard_normal(5),
        r.integers(0, 5, 6),
    ]
    args = [a.astype(dtype) for a in args[:3]] + [args[3].astype(np.int32)]
    tol = 8 * np.finfo(dtype).eps
    for ins_outs in (outs, costs):
        got = fc.function([x, W, b, y], ins_outs, mode=PY_FAST_RUN)(*args)
        want = fc.function([x, W, b, y], ins_outs, mode=PLAIN)(*args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    full = ft.log(ft.softmax(z))
    f = fc.function([x, W, b, y], [full, -full[_rows(y)]], mode=PY_FAST_RUN)
    big = [args[0] * 300, args[1], args[2] * 300, args[3]]  # probabilities that underflow
    zv = big[0].astype(float) @ big[1] + big[2]
    m, picked = f(*big)
    # float32: the product rounded in float32 (scores near 1000)
    near = 1e-5 if dtype == "float32" else tol
    np.testing.assert_allclose(m, scipy.special.log_softmax(zv, axis=1), rtol=near, atol=near)
    np.testing.assert_array_equal(picked, -m[np.arange(6), args[3]])


@pytest.mark.parametrize("name", list(PER_ROW))
def test_cost_alone_builds_no_matrix_but_the_product(name: str) -> None:
    x, W, b, y = ft.dmatrix("x"), ft.dmatrix("W"), ft.dvector("b"), ft.ivector("y")
    cost = ft.mean(PER_ROW[name](ft.dot(x, W) + b, y))
    f = fc.function([x, W, b, y], cost, mode=PY_FAST_RUN)
    matrices = [
        n
        for n in f.optimized_graph.toposort()
        if any(o.ndim == 2 and o.type.shape[1] != 1 for o in n.outputs) and not isinstance(n.op, Dot)
    ]
    assert not matrices, matrices


def test_an_indexed_sum_broadcasts_as_numpy() -> None:
    """``(a + b)[arange(n), y]`` indexes ``a`` and ``b`` apart: a ``b`` of one entry broadcast
    when the function runs is read at 0, sizes that do not broadcast still raise."""
    a, b, y = ft.dmatrix("a"), ft.dvector("b"), ft.ivector("y")
    f = fc.function([a, b, y], (ft.exp(a) + b)[ft.arange(y.shape[0]), y], mode=PY_FAST_RUN)
    av = np.arange(12.0).reshape(3, 4) / 10
    yv = np.array([3, -1, 0], np.int32)
    for bv in (np.array([2.0, 3.0, 4.0, 5.0]), np.array([7.0])):
        np.testing.assert_allclose(f(av, bv, yv), (np.exp(av) + bv)[np.arange(3), yv], rtol=1e-15)
    with pytest.raises(BroadcastError, match=r"^add: .*a has size 4 along axis 1, b has size 3 along axis 0"):
        f(av, np.ones(3), np.array([0, 1, 2], np.int32))
    with pytest.raises(IndexError):
        f(av, np.ones(4), np.array([0, 4, 2], np.int32))
    col = fc.function([a, b, y], (ft.exp(a[:, :1]) + b)[ft.arange(y.shape[0]), y], mode=PY_FAST_RUN)
    av1 = av[:, :1]
    np.testing.assert_allclose(
        col(av, np.ones(4), yv), (np.exp(av1) + np.ones(4))[np.arange(3), yv], rtol=1e-15
    )
    with pytest.raises(IndexError):
        col(av, np.ones(1), np.array([0, 1, 0], np.int32))


def test_a_size_read_from_where_it_comes_from_still_checks() -> None:
    """``u.shape[d]`` is read from the sizes ``u`` broadcasts (so the softmax is not computed
    for ``categorical_crossentropy``'s check of ``y``); sizes that do not broadcast, and a
    product's inner sizes, still raise as computing ``u`` does."""
    x, W, b = ft.dmatrix("x"), ft.dmatrix("W"), ft.dvector("b")
    z = ft.dot(x, W) + b
    f = fc.function([x, W, b], [ft.exp(z).shape[1], ft.dot(x, W).shape[0] * 0], mode="FAST_RUN")
    got = f(np.ones((2, 3)), np.ones((3, 4)), np.ones(1))
    assert [int(g) for g in got] == [4, 0]
    for bad in (
        [np.ones((2, 3)), np.ones((3, 4)), np.ones(3)],
        [np.ones((2, 3)), np.ones((2, 4)), np.ones(4)],
    ):
        with pytest.raises(ValueError):
            f(*bad)
