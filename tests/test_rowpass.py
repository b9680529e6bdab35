"""The gradient of a linear model in one pass over X (`rowpass` rewrite, `RowPass` node): it
applies by structure, keeps results within rounding of the unfused graph and of numpy (shapes
that are not a multiple of the block, 0 and 1 rows, strided and transposed X, float32,
threads), falls back to the unfused semantics where rows broadcast, and leaves alone the
graphs it cannot fuse. Also the count a mean's gradient divides by (`ReducedSize`)."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.blas import Dot, RowPass
from fncache.tensor.grad_ops import ReducedSize

UNFUSED = fc.Mode().excluding("rowpass")
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-4, atol=2e-5)}


def _logreg(dtype: str = "float64"):
    """Inputs and [xent, gw, gb] of a logistic regression's mean cross-entropy."""
    x, y = ft.matrix("x", dtype), ft.vector("y", dtype)
    w, b = ft.vector("w", dtype), ft.scalar("b", dtype)
    p = ft.sigmoid(ft.dot(x, w) + b)
    xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
    gw, gb = fc.grad(xent.mean() + 0.01 * (w**2).sum(), [w, b])
    return [x, y, w, b], [xent, gw, gb]


def _logreg_ref(x, y, w, b):
    x, y, w, b = (np.asarray(a, dtype="float64") for a in (x, y, w, b))
    p = 1 / (1 + np.exp(-(x @ w + b)))
    gz = (p - y) / max(len(y), 1)
    return -y * np.log(p) - (1 - y) * np.log(1 - p), x.T @ gz + 0.02 * w, gz.sum()


def _data(m: int, n: int, dtype: str = "float64", seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((m, n)).astype(dtype),
        rng.integers(0, 2, m).astype(dtype),
        (rng.standard_normal(n) * 0.1).astype(dtype),
        np.asarray(0.3, dtype=dtype),
    )


def _kinds(f) -> list[type]:
    return [type(n.op) for n in f.optimized_graph.toposort()]


def _close(got, want, dtype: str, what: str) -> None:
    for g, w_, name in zip(got, want, ("xent", "gw", "gb")):
        assert g.dtype == np.dtype(dtype) and g.shape == np.shape(w_), f"{what} {name}"
        np.testing.assert_allclose(g, w_, err_msg=f"{what} {name}", **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m,n", [(0, 5), (1, 5), (1, 1), (7, 3), (17, 33), (401, 65), (16, 784), (33, 0)])
def test_logistic_gradient_is_one_pass_and_matches(dtype: str, m: int, n: int) -> None:
    ins, outs = _logreg(dtype)
    f, u = fc.function(ins, outs), fc.function(ins, outs, mode=UNFUSED)
    assert RowPass in _kinds(f) and Dot not in _kinds(f), fc.debugprint(f)
    assert RowPass not in _kinds(u) and f.cache_key != u.cache_key
    args = _data(m, n, dtype)
    with np.errstate(all="ignore"):
        want = _logreg_ref(*args)
    got = f(*args)
    _close(got, u(*args), dtype, f"fused vs unfused {m}x{n}")
    if m:  # a mean over no rows is NaN in both graphs (and 0/0 in the reference)
        _close(got, want, dtype, f"vs numpy {m}x{n}")


@pytest.mark.parametrize("layout", ["strided", "transposed", "negative"])
def test_strided_and_transposed_x(layout: str) -> None:
    ins, outs = _logreg()
    f = fc.function(ins, outs)
    x, y, w, b = _data(37, 21)
    big = np.random.default_rng(1).standard_normal((80, 70))
    x = {
        "strided": big[::2, 1::3][:37, :21],
        "transposed": np.asfortranarray(x),
        "negative": big[::-2, ::-3][:37, :21],
    }[layout]
    assert not x.flags.c_contiguous
    _close(f(x, y, w, b), _logreg_ref(x, y, w, b), "float64", layout)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [3, 5, 16, 40, 784])
def test_x_at_every_offset_from_a_cache_line(dtype: str, n: int) -> None:
    """The products start with scalar columns up to X's first 64-byte boundary: X at each
    element offset from a line (rows of 64-byte multiples or not, fewer columns than the
    offset) gives numpy's result."""
    ins, outs = _logreg(dtype)
    f = fc.function(ins, outs)
    x, y, w, b = _data(9, n, dtype)
    size = np.dtype(dtype).itemsize
    buf = np.empty(x.size + 64 // size + 16, dtype)
    base = (-buf.ctypes.data % 64) // size  # buf[base] starts a cache line
    for off in range(64 // size):
        xo = buf[base + off : base + off + x.size].reshape(x.shape)
        xo[...] = x
        assert xo.ctypes.data % 64 == off * size
        _close(f(xo, y, w, b), _logreg_ref(x, y, w, b), dtype, f"X {off * size} bytes off a line")


def test_rows_that_broadcast_run_the_unfused_semantics() -> None:
    """One row of X against five labels: numpy broadcasts z over the labels and the gradient
    sums them back (SumToShape); the fused step takes the node's own perform for it."""
    ins, outs = _logreg()
    f, u = fc.function(ins, outs), fc.function(ins, outs, mode=UNFUSED)
    x, _, w, b = _data(1, 4)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    _close(f(x, y, w, b), u(x, y, w, b), "float64", "broadcast rows")
    p = 1 / (1 + np.exp(-(x @ w + b)))
    np.testing.assert_allclose(f(x, y, w, b)[1], x[0] * ((p - y) / 5).sum() + 0.02 * w, rtol=1e-12)
    x5, _, w5, b5 = _data(5, 4)  # one label for five rows
    _close(f(x5, y[:1], w5, b5), u(x5, y[:1], w5, b5), "float64", "one label")
    with pytest.raises(ValueError, match="broadcast"):
        f(*_data(4, 3)[:1], y, *_data(4, 3)[2:])


def test_threads_give_the_same_result() -> None:
    ins, outs = _logreg()
    args = _data(1100, 40)
    with fc.config.change_flags(threads=2):
        f = fc.function(ins, outs)
        first = f(*args)
        for _ in range(3):
            for a, b_ in zip(f(*args), first):
                np.testing.assert_array_equal(a, b_)
    _close(first, _logreg_ref(*args), "float64", "2 threads")


def test_pickled_function_keeps_the_pass() -> None:
    import pickle

    ins, outs = _logreg()
    f = fc.function(ins, outs)
    g = pickle.loads(pickle.dumps(f))
    assert RowPass in _kinds(g) and g.cache_key == f.cache_key
    args = _data(20, 7)
    for a, b_ in zip(g(*args), f(*args)):
        np.testing.assert_array_equal(a, b_)


def test_python_linker_runs_the_node_perform() -> None:
    ins, outs = _logreg()
    f = fc.function(ins, outs, mode=fc.Mode(linker="py"))
    assert RowPass in _kinds(f)
    args = _data(9, 4)
    _close(f(*args), _logreg_ref(*args), "float64", "py linker")


def test_other_linear_models_fuse_too() -> None:
    """Least squares with a sample weight, a hinge loss: the same one pass, both models' in one
    (`rowpass_merge`: two products of one X). (Two gradients of one ``z``: the second stays a
    product, reading z from the first pass.)"""
    x, y, s, w, v = (ft.dmatrix("x"), ft.dvector("y"), ft.dvector("s"), ft.dvector("w"), ft.dvector("v"))
    r = ft.dot(x, w) - y
    g_ls = fc.grad(ft.sum(s * r**2), w)
    g_hinge = fc.grad(ft.sum(ft.maximum(0, 1 - y * ft.dot(x, v))), v)
    f = fc.function([x, y, s, w, v], [g_ls, g_hinge])
    passes = [n.op for n in f.optimized_graph.toposort() if isinstance(n.op, RowPass)]
    assert [p.products for p in passes] == [2] and Dot not in _kinds(f), fc.debugprint(f)
    rng = np.random.default_rng(3)
    xv, yv, sv, wv = (
        rng.standard_normal((23, 6)),
        rng.choice([-1.0, 1.0], 23),
        rng.random(23),
        rng.standard_normal(6),
    )
    got = f(xv, yv, sv, wv, wv)
    np.testing.assert_allclose(got[0], xv.T @ (2 * sv * (xv @ wv - yv)), rtol=1e-10)
    np.testing.assert_allclose(got[1], -xv.T @ (yv * (1 - yv * (xv @ wv) > 0)), rtol=1e-10)
    shared_z = fc.function([x, y, s, w], [g_ls, fc.grad(ft.sum(ft.maximum(0, 1 - y * r)), w)])
    assert _kinds(shared_z).count(RowPass) == 1
    got2 = shared_z(xv, yv, sv, wv)
    np.testing.assert_allclose(got2[0], got[0], rtol=1e-12)
    np.testing.assert_allclose(got2[1], -xv.T @ (yv * (1 - yv * (xv @ wv - yv) > 0)), rtol=1e-10)


def _fuses(ins, g) -> bool:
    return RowPass in _kinds(fc.function(ins, g, on_unused_input="ignore"))


def test_rewrite_does_not_apply_where_it_cannot_fuse() -> None:
    x, x2 = ft.dmatrix("x"), ft.dmatrix("x2")
    w, w2, y = ft.dvector("w"), ft.dvector("w2"), ft.dvector("y")
    z = ft.dot(x, w)
    ins = [x, x2, w, w2, y]
    assert _fuses(ins, ft.dot(x.T, ft.tanh(z) * y))
    assert _fuses(ins, ft.dot(x.T, z))  # the normal equations' X.T @ (X @ w)
    # g depends on a reduction over the rows of z
    assert not _fuses(ins, ft.dot(x.T, z - z.mean()))
    assert not _fuses(ins, fc.grad(ft.sum(ft.exp(z)) / ft.sum(z), w))
    # another matrix, a second product with X, X read as a row value
    assert not _fuses(ins, ft.dot(x2.T, ft.tanh(z)))
    assert not _fuses(ins, ft.dot(x.T, ft.tanh(z) * ft.dot(x, w2)))
    # w read along the rows (a square X)
    assert not _fuses(ins, ft.dot(x.T, ft.tanh(z) * w))
    # mixed dtypes, a matrix gradient
    xf = ft.fmatrix("xf")
    assert not _fuses([xf, w], ft.dot(xf.T, ft.tanh(ft.dot(xf, w))))
    wm = ft.dmatrix("wm")
    assert not _fuses([x, wm], ft.dot(x.T, ft.tanh(ft.dot(x, wm))))
    # the results of the ones that do not fuse are still right
    f = fc.function(
        ins,
        [
            ft.dot(x.T, z - z.mean()),
            ft.dot(x.T, ft.tanh(z) * ft.dot(x, w2)),
            ft.dot(x.T, ft.tanh(z) * w),
            ft.dot(x.T, z),
        ],
        on_unused_input="ignore",
    )
    rng = np.random.default_rng(4)
    xv, wv, w2v = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    zv = xv @ wv
    got = f(xv, xv, wv, w2v, np.ones(3))
    np.testing.assert_allclose(got[0], xv.T @ (zv - zv.mean()), rtol=1e-12)
    np.testing.assert_allclose(got[1], xv.T @ (np.tanh(zv) * (xv @ w2v)), rtol=1e-12)
    np.testing.assert_allclose(got[2], xv.T @ (np.tanh(zv) * wv), rtol=1e-12)
    np.testing.assert_allclose(got[3], xv.T @ zv, rtol=1e-12)


def test_training_loop_with_shared_weights_matches_the_unfused_loop() -> None:
    """The tutorial's loop with updates: 20 steps, fused and unfused, within rounding."""

    def build(mode):
        x, y = ft.dmatrix("x"), ft.dvector("y")
        w, b = fc.shared(np.zeros(30), name="w"), fc.shared(0.0, name="b")
        p = 1 / (1 + ft.exp(-ft.dot(x, w) - b))
        xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
        gw, gb = fc.grad(xent.mean() + 0.01 * (w**2).sum(), [w, b])
        return fc.function([x, y], xent, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=mode), w

    (f, wf), (u, wu) = build(None), build(UNFUSED)
    x, y, _, _ = _data(50, 30)
    for step in range(20):
        np.testing.assert_allclose(f(x, y), u(x, y), rtol=1e-10, err_msg=f"step {step}")
        np.testing.assert_allclose(wf.get_value(), wu.get_value(), rtol=1e-10, atol=1e-14)


def test_gradient_programs_have_no_python_steps() -> None:
    """Fused or not, the logistic gradient runs natively: RowPass, ReducedSize and SumToShape
    are run-time steps (each calls its perform only off its fast path)."""
    from fncache.codegen import c_program
    from fncache.codegen.c_module import render_module

    ins, outs = _logreg()
    for mode, kind in ((None, c_program.ST_ROWPASS), (UNFUSED, c_program.ST_SUM_TO_SHAPE)):
        f = fc.function(ins, outs, mode=mode)
        kinds = [st[0] for st in render_module(f.optimized_graph, n_explicit=4, single=False).program[4]]
        assert kind in kinds and c_program.ST_REDUCED_SIZE in kinds, fc.debugprint(f)
        assert c_program.ST_PERFORM not in kinds, fc.debugprint(f)


def test_cuda_modes_skip_cpu_only_rewrites() -> None:
    from fncache.rewrite import selected

    assert "rowpass" in {r.name for r in selected(fc.Mode(device="cpu"))}
    cuda = {r.name for r in selected(fc.Mode(device="cuda"))}
    assert "rowpass" not in cuda and {"fusion", "sizes"} <= cuda


# -- the element count of a mean's gradient ---------------------------------------------------------
def test_mean_gradient_counts_from_shapes() -> None:
    """The count is read from the shapes the mean's input is broadcast from (not from the
    input itself), natively, including run-time broadcasting; sizes that do not broadcast
    raise as numpy does."""
    a, c = ft.dvector("a"), ft.dvector("c")
    g = fc.grad(ft.mean(ft.exp(a) * c), a)
    for mode in (None, fc.Mode(linker="py")):
        f = fc.function([a, c], g, mode=mode)
        sizes = [n for n in f.optimized_graph.toposort() if isinstance(n.op, ReducedSize)]
        assert sizes and all(v.owner is None for n in sizes for v in n.inputs), fc.debugprint(f)
        av = np.array([0.5, -1.0, 2.0])
        np.testing.assert_allclose(f(av, np.array([2.0])), np.exp(av) * 2 / 3, rtol=1e-12)
        np.testing.assert_allclose(f(np.array([0.5]), np.ones(4)), [np.exp(0.5)], rtol=1e-12)
        with pytest.raises(ValueError, match="broadcast"):
            f(av, np.ones(4))


def test_reduced_size_op() -> None:
    x, y = ft.dmatrix("x"), ft.dvector("y")
    n = ReducedSize((((0, 0), (1, 0)), ((0, 1),)), "float32")(x, y)
    assert n.dtype == "float32" and n.ndim == 0
    with pytest.raises(ValueError, match="does not match"):
        ReducedSize((((0, 2),),), "float64")(x)
    for mode in (None, fc.Mode(linker="py")):
        f = fc.function([x, y], n, mode=mode)
        assert f(np.ones((3, 4)), np.ones(3)) == 12 and f(np.ones((1, 4)), np.ones(5)) == 20
        assert f(np.ones((0, 4)), np.ones(1)) == 0
        with pytest.raises(ValueError, match="cannot be broadcast"):
            f(np.ones((3, 4)), np.ones(2))
