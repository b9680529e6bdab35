"""The gradient of a softmax classifier's cross-entropy is ``(softmax(z) - one_hot(y)) * scale``
in every spelling Theano and PyTensor users write: no scatter of the loss's gradient into zeros,
no division by the softmax (0 / 0 where a probability underflows), no backward pass of the
softmax. Checked against numpy's closed form, central differences and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensorGrad
from fncache.tensor.reduction import Reduce

from fcutil import assert_pickles_round_trip


def _rows(z, y):
    return ft.arange(y.shape[0]), y


#: name: (cost of the scores z, class indices y and one-hot targets t; mean over rows)
FORMS = {
    "-mean(log(softmax)[i, y])": (lambda z, y, t: -ft.mean(ft.log(ft.softmax(z))[_rows(z, y)]), True),
    "-log(softmax)[i, y].sum()": (lambda z, y, t: -ft.log(ft.softmax(z))[_rows(z, y)].sum(), False),
    "-mean(log_softmax[i, y])": (lambda z, y, t: -ft.mean(ft.log_softmax(z)[_rows(z, y)]), True),
    "-log_softmax[i, y].sum()": (lambda z, y, t: -ft.log_softmax(z)[_rows(z, y)].sum(), False),
    "cce(softmax, y).mean()": (
        lambda z, y, t: ft.nnet.categorical_crossentropy(ft.softmax(z), y).mean(),
        True,
    ),
    "cce(softmax, y).sum()": (
        lambda z, y, t: ft.nnet.categorical_crossentropy(ft.softmax(z), y).sum(),
        False,
    ),
    "cce(softmax, one_hot).mean()": (
        lambda z, y, t: ft.nnet.categorical_crossentropy(ft.softmax(z), t).mean(),
        True,
    ),
    "crossentropy_softmax_1hot(z, y)": (
        lambda z, y, t: ft.nnet.crossentropy_softmax_1hot(z, y)[0].mean(),
        True,
    ),
}
INDEXED = [name for name in FORMS if "cce" not in name and "1hot" not in name]


def _inputs(dtype: str):
    return (
        ft.matrix("x", dtype=dtype),
        ft.matrix("W", dtype=dtype),
        ft.vector("b", dtype=dtype),
        ft.ivector("y"),
    )


def _data(n: int, m: int, k: int, dtype: str, seed: int = 0):
    r = np.random.default_rng(seed)
    x = (r.standard_normal((n, m)) * 2).astype(dtype)
    W = r.standard_normal((m, k)).astype(dtype)
    b = r.standard_normal(k).astype(dtype)
    y = r.integers(0, k, n).astype(np.int32)
    return x, W, b, y


def _numpy(x, W, b, y, mean: bool):
    """(cost, dW, db) of the cross-entropy of softmax(x W + b), in float64."""
    z = x.astype(float) @ W.astype(float) + b
    a = z - z.max(axis=1, keepdims=True)
    e = np.exp(a)
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    nll = -(a[rows, y] - np.log(e.sum(axis=1)))
    gz = p.copy()
    gz[rows, y] -= 1
    scale = 1 / len(y) if mean else 1.0
    gz *= scale
    return nll.sum() * scale, x.T.astype(float) @ gz, gz.sum(axis=0)


def _one_hot(y: np.ndarray, k: int, dtype: str) -> np.ndarray:
    return np.eye(k, dtype=dtype)[y]


#: the Python linker (no C to compile) with fast_run's rewrites: the optimized graph, quickly
PY_FAST_RUN = fc.Mode("py", "fast_run")


#: one form of each kind, compiled to C (the others have the same loops)
C_FORMS = ["-mean(log(softmax)[i, y])", "-log_softmax[i, y].sum()", "cce(softmax, y).mean()"]


def _all_forms(mode, names: list[str]) -> tuple:
    """A function of the costs of ``names`` and their gradients in W and b, float64 and
    float32, and its arguments."""
    ins, outs, args = [], [], []
    for dtype in ("float64", "float32"):
        x, W, b, y = _inputs(dtype)
        t = ft.matrix("t", dtype=dtype)
        z = ft.dot(x, W) + b
        for build, _ in (FORMS[name] for name in names):
            cost = build(z, y, t)
            outs += [cost, *fc.grad(cost, [W, b])]
        ins += [x, W, b, y, t]
        xv, Wv, bv, yv = _data(7, 5, 11, dtype)
        args += [xv, Wv, bv, yv, _one_hot(yv, 11, dtype)]
    return fc.function(ins, outs, mode=mode, on_unused_input="ignore"), args


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "py fast_run"])
def test_cost_and_gradient_match_numpy(mode: str) -> None:
    names = C_FORMS if mode == "FAST_RUN" else list(FORMS)
    f, args = _all_forms(PY_FAST_RUN if mode == "py fast_run" else mode, names)
    got = f(*args)
    for dtype, vals in zip(("float64", "float32"), (args[:4], args[5:9])):
        rtol = 1e-11 if dtype == "float64" else 2e-5
        for name, (_, mean) in ((name, FORMS[name]) for name in names):
            outs = [got.pop(0) for _ in range(3)]
            for g, w, what in zip(outs, _numpy(*vals, mean), ("cost", "dW", "db")):
                assert g.dtype == dtype, (name, what)
                np.testing.assert_allclose(
                    g, w, rtol=rtol, atol=rtol * 1e-2, err_msg=f"{name} {what} {dtype}"
                )


def test_gradients_match_central_differences() -> None:
    x, W, b, y = _inputs("float64")
    t = ft.dmatrix("t")
    z = ft.dot(x, W) + b
    costs = [FORMS[name][0](z, y, t) for name in (*INDEXED[1:3], *list(FORMS)[-3:])]
    # the softmax read by a second term too: its gradient adds to the shortcut's
    costs.append(costs[0] + ft.sum(ft.softmax(z) ** 2))
    ins = [x, W, b, y, t]
    f_cost = fc.function(ins, costs, mode=PY_FAST_RUN)
    f_grad = fc.function(ins, [g for c in costs for g in fc.grad(c, [x, W, b])], mode=PY_FAST_RUN)
    xv, Wv, bv, yv = _data(3, 2, 4, "float64", seed=1)
    vals = [xv, Wv, bv, yv, _one_hot(yv, 4, "float64")]
    got = f_grad(*vals)
    eps = 1e-6
    for j in range(3):
        for idx in np.ndindex(vals[j].shape):
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            up[j][idx] += eps
            down[j][idx] -= eps
            fd = (np.array(f_cost(*up)) - np.array(f_cost(*down))) / (2 * eps)
            for c in range(len(costs)):
                np.testing.assert_allclose(
                    got[3 * c + j][idx], fd[c], rtol=1e-6, atol=1e-8, err_msg=f"cost {c}"
                )


def _row_reductions(f) -> list:
    return [
        n
        for n in f.optimized_graph.toposort()
        if isinstance(n.op, Reduce) and n.inputs[0].ndim == 2 and n.op.axes == (1,)
    ]


@pytest.mark.parametrize("name", INDEXED + ["cce(softmax, y).mean()"])
def test_gradient_has_no_scatter_and_no_backward_pass_of_the_softmax(name: str) -> None:
    x, W, b, y = _inputs("float64")
    cost = FORMS[name][0](ft.dot(x, W) + b, y, None)
    f = fc.function([x, W, b, y], [cost, *fc.grad(cost, [W, b])], mode=PY_FAST_RUN)
    nodes = f.optimized_graph.toposort()
    assert not [n for n in nodes if isinstance(n.op, (AdvancedSubtensorGrad, AdvancedIncSubtensor))], nodes
    # the forward's max and sum per row, none more (the loss reads one entry per row)
    assert len(_row_reductions(f)) == 2, nodes


def test_log_of_a_softmax_indexed_takes_one_log_per_row() -> None:
    """``log(softmax(z))[arange(n), y]`` is ``z[arange(n), y] - max - log(s)`` per row: n
    logarithms, not one per score; the index is checked as before."""
    z, y = ft.dmatrix("z"), ft.ivector("y")
    cost = FORMS["-mean(log(softmax)[i, y])"][0](z, y, None)
    f = fc.function([z, y], cost, mode=PY_FAST_RUN)
    logs = [
        n
        for n in f.optimized_graph.toposort()
        if "log" in str(n.op).replace("{", ",").replace("}", ",").split(",")
    ]
    assert logs and all(v.ndim < 2 or v.type.shape[1] == 1 for n in logs for v in n.inputs), logs
    zv = np.random.default_rng(5).standard_normal((4, 3)) * 5
    yv = np.array([2, 0, 1, 1], np.int32)
    want = -np.mean(scipy.special.log_softmax(zv, axis=1)[np.arange(4), yv])
    np.testing.assert_allclose(f(zv, yv), want, rtol=1e-15)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        f(zv, np.array([3, 0, 1, 1], np.int32))


def test_underflowing_probabilities_give_the_closed_form() -> None:
    """A probability that underflows to 0 made the quotient of the scatter by the softmax 0 / 0:
    a NaN row of the gradient of ``log(softmax(z))[arange(n), y]``."""
    z, y = ft.dmatrix("z"), ft.ivector("y")
    costs = [FORMS[name][0](z, y, None) for name in FORMS if "one_hot" not in name]
    f = fc.function([z, y], [fc.grad(c, z) for c in costs], mode=PY_FAST_RUN)
    zv = np.array([[0.0, -800.0, 1.0], [3.0, 2.0, -900.0], [1.0, 1.0, 1.0]])
    yv = np.array([0, 1, 2], np.int32)
    p = np.exp(zv - zv.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for got, name in zip(f(zv, yv), [n for n in FORMS if "one_hot" not in n]):
        want = (p - np.eye(3)[yv]) / (3 if FORMS[name][1] else 1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, err_msg=name)


def test_second_derivatives() -> None:
    """Hessians of the loss in the scores: per row ``(diag(p) - p p^T) / n``, and central
    differences of the gradient."""
    v, y = ft.dvector("v"), ft.ivector("y")
    n, k = 2, 3
    z = v.reshape((n, k))
    names = ["-mean(log(softmax)[i, y])", "-mean(log_softmax[i, y])", "cce(softmax, y).mean()"]
    costs = [FORMS[name][0](z, y, None) for name in names]
    hess = fc.function([v, y], [ft.hessian(c, v) for c in costs], mode=PY_FAST_RUN)
    grads = fc.function([v, y], [fc.grad(c, v) for c in costs], mode=PY_FAST_RUN)
    vv = np.random.default_rng(2).standard_normal(n * k)
    yv = np.array([2, 0], np.int32)
    p = np.exp(vv.reshape(n, k))
    p /= p.sum(axis=1, keepdims=True)
    want = np.zeros((n * k, n * k))
    for i in range(n):
        want[i * k : (i + 1) * k, i * k : (i + 1) * k] = (np.diag(p[i]) - np.outer(p[i], p[i])) / n
    eps = 1e-6
    fd = np.zeros((len(names), n * k, n * k))
    for j in range(n * k):
        up, down = vv.copy(), vv.copy()
        up[j] += eps
        down[j] -= eps
        fd[:, :, j] = (np.array(grads(up, yv)) - np.array(grads(down, yv))) / (2 * eps)
    for name, h, d in zip(names, hess(vv, yv), fd):
        np.testing.assert_allclose(h, want, rtol=1e-11, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(d, want, rtol=1e-6, atol=1e-8, err_msg=name)


def test_pickles_with_the_same_key_and_values() -> None:
    f, args = _all_forms("FAST_RUN", C_FORMS)  # compiled already: the same key
    assert_pickles_round_trip(f, *args)


def test_class_indices_out_of_range_rows_and_negative_ones() -> None:
    z, y = ft.dmatrix("z"), ft.ivector("y")
    names = INDEXED[::2] + ["cce(softmax, y).mean()"]
    fs = {
        name: fc.function([z, y], fc.grad(FORMS[name][0](z, y, None), z), mode=PY_FAST_RUN) for name in names
    }
    zv = np.random.default_rng(3).standard_normal((4, 3))
    for f in fs.values():
        for bad in ([0, 3, 1, 2], [0, 1, -4, 2]):
            with pytest.raises((IndexError, ValueError), match="out of|outside|in \\[-k, k\\)"):
                f(zv, np.array(bad, np.int32))
    p = np.exp(zv) / np.exp(zv).sum(axis=1, keepdims=True)
    yv = np.array([0, -1, 1, -3], np.int32)
    for name in INDEXED[::2]:
        # numpy's negative indices count from the end, as the indexing reads them
        np.testing.assert_allclose(fs[name](zv, yv), (p - np.eye(3)[yv % 3]) / 4, rtol=1e-12, err_msg=name)
        # fewer labels than rows: the rows the one-hot rows stand for are all of them
        with pytest.raises(ValueError, match="n = 3 for 4 rows.*one class index per row"):
            fs[name](zv, np.array([0, 1, 2], np.int32))


def test_variables_of_the_pattern_asked_for_or_held_constant_take_the_general_path() -> None:
    z, y = ft.dmatrix("z"), ft.ivector("y")
    p = ft.softmax(z)
    lp = ft.log(p)
    cost = -ft.mean(lp[_rows(z, y)])
    g_lp, g_z = fc.grad(cost, [lp, z])
    g_const = fc.grad(cost, z, consider_constant=[p], disconnected_inputs="ignore")
    f = fc.function([z, y], [g_lp, g_z, g_const], mode=PY_FAST_RUN)
    zv = np.random.default_rng(4).standard_normal((3, 4))
    yv = np.array([1, 3, 0], np.int32)
    got_lp, got_z, got_const = f(zv, yv)
    pv = np.exp(zv) / np.exp(zv).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got_lp, -np.eye(4)[yv] / 3, rtol=1e-12)
    np.testing.assert_allclose(got_z, (pv - np.eye(4)[yv]) / 3, rtol=1e-12, atol=1e-17)
    np.testing.assert_array_equal(got_const, np.zeros((3, 4)))
