"""Gradients: every differentiable op against central finite differences in float64 (random
values and shapes, static and run-time broadcasting), jacobian/hessian, as_op gradients, the
Theano tutorial's logistic regression trained step by step against numpy, and gradient
functions that are cached and pickled like any other."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

from fcutil import fd_check_grads, keys_in_fresh_processes

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-7


def _rand(rng: np.random.Generator, shape: tuple, lo: float = -2.0, hi: float = 2.0):
    return rng.uniform(lo, hi, size=shape)


# -- elementwise math, comparisons, switch/clip/maximum with broadcasting -------------------------
ELEMWISE = {
    "add_mul_sub_div": (lambda a, b, p, s, r: (a + b) * a - b / (p + 1) + s * r, [0, 1, 2, 3, 4]),
    "neg_pow_scalar": (lambda a, b, p, s, r: -(a**3) + p**2.5 + 2.0**b, [0, 1, 2]),
    "pow_both": (lambda a, b, p, s, r: p ** (b * 0.5), [1, 2]),
    "exp_log": (lambda a, b, p, s, r: ft.exp(a * 0.5) * ft.log(p) + ft.log1p(p) - ft.expm1(b), [0, 1, 2]),
    "log2_log10_sqrt": (lambda a, b, p, s, r: ft.log2(p) + ft.log10(p * 3) * ft.sqrt(p), [2]),
    "sqr_abs_sign": (lambda a, b, p, s, r: ft.sqr(a) * ft.abs(b) + ft.sign(a) * b, [0, 1]),
    "trig": (
        lambda a, b, p, s, r: (
            ft.sin(a) * ft.cos(b) + ft.tan(p) + ft.arcsin(p) - ft.arccos(p * 0.9) + ft.arctan(a)
        ),
        [0, 1, 2],
    ),
    "hyperbolic": (lambda a, b, p, s, r: ft.sinh(a * 0.5) + ft.cosh(b * 0.5) * ft.tanh(a), [0, 1]),
    "sigmoid_softplus_erf": (lambda a, b, p, s, r: ft.sigmoid(a) * ft.softplus(b) + ft.erf(a), [0, 1]),
    "maximum_minimum": (lambda a, b, p, s, r: ft.maximum(a, b) * 2 + ft.minimum(a, r), [0, 1, 4]),
    "clip": (lambda a, b, p, s, r: ft.clip(a, -0.5, 0.7) * b, [0, 1]),
    "switch_where": (
        lambda a, b, p, s, r: ft.switch(a > b, a * 2, ft.sin(b)) + ft.where(ft.eq(a, b) | (a < 0), s, r),
        [0, 1, 3, 4],
    ),
    "piecewise_constant": (
        lambda a, b, p, s, r: ft.floor(a) * b + ft.round(b) + ft.ceil(a) + a // 1.5 + (a % 1.5) * b,
        [0, 1],
    ),
    "casts": (
        lambda a, b, p, s, r: a * ft.cast(b > 0, "float64") + ft.cast(ft.cast(a, "int64"), "float64"),
        [0, 1],
    ),
    "scalar_and_row_broadcast": (lambda a, b, p, s, r: ft.exp(s) * a + r * b * s, [0, 1, 3, 4]),
}


def _elemwise_inputs() -> list:
    return [
        ft.dmatrix("a"),
        ft.dmatrix("b"),
        ft.dmatrix("p"),
        ft.dscalar("s"),
        ft.TensorType("float64", (1, None))("r"),
    ]


def test_elemwise_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    sets = []
    # run-time broadcasting of dims declared of unknown size, both ways
    for sa, sb, sp in [
        ((3, 4), (3, 4), (3, 4)),
        ((3, 4), (1, 4), (3, 1)),
        ((2, 1), (1, 3), (1, 1)),
        ((1, 5), (4, 1), (4, 5)),
    ]:
        n = max(sa[1], sb[1], sp[1])
        sets.append(
            [_rand(rng, sa), _rand(rng, sb), _rand(rng, sp, 0.2, 0.9), _rand(rng, ()), _rand(rng, (1, n))]
        )
    fd_check_grads(_elemwise_inputs(), ELEMWISE, sets)


def test_elemwise_gradients_python_linker() -> None:
    rng = np.random.default_rng(1)
    sets = [
        [
            _rand(rng, (3, 4)),
            _rand(rng, (1, 4)),
            _rand(rng, (3, 1), 0.2, 0.9),
            _rand(rng, ()),
            _rand(rng, (1, 4)),
        ]
    ]
    fd_check_grads(_elemwise_inputs(), ELEMWISE, sets, mode=fc.Mode(linker="py"))


# -- reductions -------------------------------------------------------------------------------
def _reduction_cases() -> dict:
    cases: dict = {}
    for ax in (None, 0, 1, (0, 2), -1):
        for kd in (False, True):
            k = f"{ax}-{kd}"
            cases[f"sum {k}"] = (lambda x, ax=ax, kd=kd: x.sum(axis=ax, keepdims=kd), [0])
            cases[f"prod {k}"] = (lambda x, ax=ax, kd=kd: ft.prod(x, axis=ax, keepdims=kd), [0])
            cases[f"max {k}"] = (lambda x, ax=ax, kd=kd: ft.max(x, axis=ax, keepdims=kd), [0])
            cases[f"min {k}"] = (lambda x, ax=ax, kd=kd: x.min(axis=ax, keepdims=kd), [0])
            cases[f"mean {k}"] = (lambda x, ax=ax, kd=kd: ft.mean(x, axis=ax, keepdims=kd), [0])
            cases[f"var {k}"] = (lambda x, ax=ax, kd=kd: ft.var(x, axis=ax, keepdims=kd), [0])
            cases[f"std {k}"] = (lambda x, ax=ax, kd=kd: x.std(axis=ax, keepdims=kd, ddof=1), [0])
    cases["argmax_times_x"] = (lambda x: ft.cast(ft.argmax(x, axis=1), "float64") * x.sum(1), [0])
    cases["all_any"] = (lambda x: x.sum() * ft.cast(ft.all(x > -9) & ft.any(x > 0), "float64"), [0])
    return cases


def test_reduction_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x = ft.tensor("x", "float64", 3)
    sets = [[_rand(rng, (2, 3, 4), 0.5, 1.5)], [_rand(rng, (3, 2, 2), -1.5, 1.5)]]
    fd_check_grads([x], _reduction_cases(), sets)


def test_prod_gradient_with_zeros() -> None:
    x = ft.dmatrix("x")
    g = fc.grad(ft.prod(x, axis=1).sum() + ft.prod(x), x)
    f = fc.function([x], g)
    v = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, -2.0, 4.0]])
    want = np.zeros_like(v)
    for i, j in np.ndindex(v.shape):
        others = np.delete(v[i], j)
        want[i, j] = np.prod(others)  # the row product's derivative; prod(x) is 0 with 2 zeros
        rest = np.delete(v.ravel(), i * 3 + j)
        want[i, j] += np.prod(rest)
    np.testing.assert_allclose(f(v), want, rtol=1e-12)


# -- dot, shapes and indexing ---------------------------------------------------------------
STRUCTURAL = {
    "dot_mm": (lambda m, n, u, w, i: ft.dot(m, n), [0, 1]),
    "matmul_vm": (lambda m, n, u, w, i: w @ n, [1, 3]),
    "dot_mv": (lambda m, n, u, w, i: ft.dot(m, u), [0, 2]),
    "dot_vv": (lambda m, n, u, w, i: ft.dot(u, u * 2), [2]),
    "transpose_dimshuffle": (
        lambda m, n, u, w, i: m.T.dimshuffle("x", 1, 0, "x") * u[None, None, :, None],
        [0, 2],
    ),
    "reshape_flatten": (
        lambda m, n, u, w, i: m.reshape((4, 3)).flatten() * ft.reshape(n, (-1,))[:12],
        [0, 1],
    ),
    "reshape_symbolic": (lambda m, n, u, w, i: m.reshape(m.shape[0] * m.shape[1]), [0]),
    "index_int_slice": (lambda m, n, u, w, i: m[1] * 2 + m[:, 1:3].sum() + m[::-1, ::2].sum(0)[0], [0]),
    "index_symbolic": (lambda m, n, u, w, i: m[i, 1:] * u[i : i + 2].sum() + n[: i + 1, -1].sum(), [0, 1, 2]),
    "index_negative_newaxis": (lambda m, n, u, w, i: m[-1, None, ...] * u[None, -4:], [0, 2]),
    "concatenate": (lambda m, n, u, w, i: ft.concatenate([m, n.T[:3]], axis=0) * 1.5, [0, 1]),
    "concatenate_axis1": (
        lambda m, n, u, w, i: ft.concatenate([m, w[:3].dimshuffle(0, "x")], axis=1) ** 2,
        [0, 3],
    ),
    "stack": (lambda m, n, u, w, i: ft.stack([u, w, u * w[::-1]], axis=1), [2, 3]),
    "assert": (lambda m, n, u, w, i: ft.assert_op(m, ft.all(m > -10)) * 2, [0]),
}


def test_structural_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(3)
    inputs = [ft.dmatrix("m"), ft.dmatrix("n"), ft.dvector("u"), ft.dvector("w"), ft.lscalar("i")]
    sets = [
        [_rand(rng, (3, 4)), _rand(rng, (4, 3)), _rand(rng, (4,)), _rand(rng, (4,)), np.array(1)],
        [_rand(rng, (3, 4)), _rand(rng, (4, 3)), _rand(rng, (4,)), _rand(rng, (4,)), np.array(0)],
    ]
    fd_check_grads(inputs, STRUCTURAL, sets)


def test_static_shapes_and_float32_keep_types() -> None:
    x = ft.TensorType("float32", (2, 1))("x")
    y = ft.fvector("y")
    g = fc.grad((x * y + 1.0).sum(), [x, y])
    assert [v.type for v in g] == [x.type, y.type]
    f = fc.function([x, y], g)
    xv, yv = np.ones((2, 1), "float32"), np.arange(3, dtype="float32")
    gx, gy = f(xv, yv)
    np.testing.assert_allclose(gx, [[3.0], [3.0]])
    np.testing.assert_allclose(gy, [2.0, 2.0, 2.0])
    assert gx.dtype == gy.dtype == np.float32
    c = fc.grad(ft.cast(x, "float32").sum() + ft.cast(x, "float64").sum(), x)
    np.testing.assert_array_equal(fc.function([x], c)(xv), np.full((2, 1), 2.0, "float32"))


# -- the driver: fused graphs, options, errors ----------------------------------------------
def test_gradient_graph_is_optimized_and_fused() -> None:
    x = ft.dvector("x")
    g = fc.grad(ft.sum(ft.exp(ft.sin(x) * 2.0) + ft.log1p(ft.sqr(x))), x)
    f = fc.function([x], g)
    assert len(f.optimized_graph.toposort()) == 1, fc.debugprint(f)
    v = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(f(v), np.exp(np.sin(v) * 2) * 2 * np.cos(v) + 2 * v / (1 + v * v), rtol=1e-12)


def test_multiple_wrt_chains_and_consider_constant() -> None:
    x = ft.dvector("x")
    h = ft.sin(x)
    c = (h * h).sum()
    gx, gh = ft.grad(c, [x, h])
    gx_const = ft.grad(c + (x * 3).sum(), x, consider_constant=[h])
    f = fc.function([x], [gx, gh, gx_const])
    v = np.array([0.1, 0.7, -1.2])
    got = f(v)
    np.testing.assert_allclose(got[0], 2 * np.sin(v) * np.cos(v), rtol=1e-12)
    np.testing.assert_allclose(got[1], 2 * np.sin(v), rtol=1e-12)
    np.testing.assert_allclose(got[2], [3.0, 3.0, 3.0])


def test_disconnected_inputs() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    c = (x * 2).sum()
    with pytest.raises(ValueError, match="does not depend on y"):
        fc.grad(c, [x, y])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gy = fc.grad(c, y, disconnected_inputs="warn")
    assert any("does not depend on y" in str(m.message) for m in w)
    gy2 = fc.grad(c, y, disconnected_inputs="ignore")
    f = fc.function([x, y], [gy, gy2], on_unused_input="ignore")
    for r in f(np.ones(2), np.ones(3)):
        np.testing.assert_array_equal(r, np.zeros(3))
    # connected only through a comparison: a zero gradient, not an error
    gz = fc.grad(ft.cast(x > 0, "float64").sum() + (y * 1.0).sum(), x)
    np.testing.assert_array_equal(fc.function([x], gz)(np.ones(2)), np.zeros(2))


def test_grad_refusals() -> None:
    x = ft.dvector("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        fc.grad(x * 2, x)
    # an integer cost is taken, as PyTensor takes it: a step function, its gradient zero
    g = fc.function([x], fc.grad(ft.argmax(x), x))
    np.testing.assert_array_equal(g(np.array([1.0, 3.0, 2.0])), np.zeros(3))
    with pytest.raises(TypeError, match="dtype int64"):
        fc.grad(x.sum(), ft.lvector("i"))
    with pytest.raises(TypeError, match="wrt must be symbolic"):
        fc.grad(x.sum(), [np.ones(2)])
    with pytest.raises(ValueError, match="disconnected_inputs"):
        fc.grad(x.sum(), x, disconnected_inputs="maybe")

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dscalar])
    def opaque(v):
        return np.sum(v)

    with pytest.raises(NotImplementedError, match="grad=fn"):
        fc.grad(opaque(x), x)


# -- as_op(grad=...), jacobian, hessian ---------------------------------------------------------
def test_as_op_grad() -> None:
    """The black-box likelihood idiom: the gradient is itself a Python op."""

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
    def loglike_grad(theta):
        return -theta * np.exp(-(theta**2))

    def grad_fn(inputs, output_grads):
        return [output_grads[0] * loglike_grad(inputs[0])]

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dscalar], grad=grad_fn)
    def loglike(theta):
        return np.asarray(0.5 * np.sum(np.exp(-(theta**2))))

    theta = ft.dvector("theta")
    cost = loglike(theta) * 3.0 + ft.sum(theta)
    f = fc.function([theta], [cost, fc.grad(cost, theta)])
    v = np.array([0.3, -1.0, 2.0])
    c, g = f(v)
    np.testing.assert_allclose(g, -3 * v * np.exp(-(v**2)) + 1, rtol=1e-12)
    fd = [(f(v + EPS * e)[0] - f(v - EPS * e)[0]) / (2 * EPS) for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=RTOL)


def test_jacobian_and_hessian() -> None:
    x = ft.tensor("x", "float64", shape=(3,))
    m = ft.tensor("m", "float64", shape=(2, 3))
    y = ft.exp(x) * x[::-1]
    jx = ft.jacobian(y, x)
    jm = ft.jacobian(ft.dot(m, x), [m, x])
    hx = ft.hessian(ft.sum(x**3) + x[0] * x[1], x)
    f = fc.function([x, m], [jx, *jm, hx])
    v, mv = np.array([0.5, -1.0, 2.0]), np.arange(6.0).reshape(2, 3)
    got = f(v, mv)
    want_jx = np.diag(np.exp(v) * v[::-1]) + np.exp(v)[:, None] * np.eye(3)[::-1]
    np.testing.assert_allclose(got[0], want_jx, rtol=1e-12)
    want_jm = np.zeros((2, 2, 3))
    want_jm[0, 0], want_jm[1, 1] = v, v
    np.testing.assert_allclose(got[1], want_jm, rtol=1e-12)
    np.testing.assert_allclose(got[2], mv, rtol=1e-12)
    want_h = np.diag(6 * v)
    want_h[0, 1] = want_h[1, 0] = 1.0
    np.testing.assert_allclose(got[3], want_h, rtol=1e-12)
    # the same with sizes known only at run time (tests/test_jacobian.py covers them in depth)
    xd, md = ft.dvector("xd"), ft.dmatrix("md")
    fd = fc.function(
        [xd, md],
        [
            ft.jacobian(ft.exp(xd) * xd[::-1], xd),
            *ft.jacobian(ft.dot(md, xd), [md, xd]),
            ft.hessian(ft.sum(xd**3) + xd[0] * xd[1], xd),
        ],
    )
    for g, w in zip(fd(v, mv), got):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# -- the Theano tutorial: logistic regression ------------------------------------------------------
def _logistic_regression(n: int = 400, feats: int = 784, seed: int = 0):
    rng = np.random.default_rng(seed)
    data_x, data_y = rng.standard_normal((n, feats)), rng.integers(0, 2, n).astype("float64")
    # The tutorial draws w ~ N(0, 1): then |x.w| ~ 28 and p_1 rounds to exactly 0 or 1, where
    # its log(1 - p_1) is -inf and every later value NaN, in numpy as well. Small weights keep
    # the comparison about numbers.
    w0 = rng.standard_normal(feats) * 0.01
    x, y = ft.dmatrix("x"), ft.dvector("y")
    w, b = fc.shared(w0.copy(), name="w"), fc.shared(0.0, name="b")
    p_1 = 1 / (1 + ft.exp(-ft.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * ft.log(p_1) - (1 - y) * ft.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = ft.grad(cost, [w, b])
    train = fc.function([x, y], [prediction, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    return train, w, b, data_x, data_y, w0


def _numpy_step(wv, bv, dx, dy):
    p = 1 / (1 + np.exp(-dx.dot(wv) - bv))
    xent = -dy * np.log(p) - (1 - dy) * np.log(1 - p)
    gp = (-dy / p + (1 - dy) / (1 - p)) / len(dy)
    gz = gp * p * (1 - p)
    gw = dx.T.dot(gz) + 0.02 * wv
    return p > 0.5, xent, wv - 0.1 * gw, bv - 0.1 * gz.sum()


def test_logistic_regression_tutorial_matches_numpy_step_by_step() -> None:
    train, w, b, dx, dy, w0 = _logistic_regression()
    # forward product, row-wise loss and gradient, X.T @ g: one pass over X (rowpass); every
    # step of its program is native (no call into Python)
    assert [type(n.op).__name__ for n in train.optimized_graph.toposort()].count("RowPass") == 1
    from fncache.codegen import c_program
    from fncache.codegen.c_module import render_module

    program = render_module(train.optimized_graph, n_explicit=2, single=False).program
    assert c_program.ST_PERFORM not in [st[0] for st in program[4]]
    wv, bv = w0.copy(), 0.0
    for step in range(25):
        pred, xent = train(dx, dy)
        want_pred, want_xent, wv, bv = _numpy_step(wv, bv, dx, dy)
        assert np.isfinite(want_xent).all() and np.isfinite(wv).all()
        np.testing.assert_array_equal(pred, want_pred, err_msg=f"step {step}")
        np.testing.assert_allclose(xent, want_xent, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
        np.testing.assert_allclose(w.get_value(), wv, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
        np.testing.assert_allclose(b.get_value(), bv, rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
    assert not np.allclose(wv, w0) and 0 < pred.sum() < len(pred)


def test_gradient_function_is_cached_and_pickles(tmp_path) -> None:
    def build():
        x, y = ft.dmatrix("x"), ft.dvector("y")
        w = ft.dvector("w")
        cost = ft.mean(ft.softplus(-y * ft.dot(x, w))) + 0.1 * ft.sum(w**2)
        return fc.function([x, y, w], [cost, fc.grad(cost, w)])

    f1, f2 = build(), build()
    assert f1.cache_key == f2.cache_key
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((6, 4)), rng.choice([-1.0, 1.0], 6), rng.standard_normal(4))
    want = f1(*args)
    g = pickle.loads(pickle.dumps(f1))
    for got, w in zip(g(*args), want):
        np.testing.assert_array_equal(got, w)
    x, y, w = args
    np.testing.assert_allclose(want[1], -(x.T @ (y / (1 + np.exp(y * (x @ w))))) / 6 + 0.2 * w, rtol=1e-12)


def test_whole_slices_keep_their_input_size_so_no_sum_back() -> None:
    """x[::-1] and x[:] have x's length, so x * x[::-1] cannot broadcast either operand and
    its gradient needs no run-time sum (SumToShape); a partial slice x[1:] may have length 1
    against y, and y's gradient is still summed where it was broadcast."""
    from fncache.tensor.grad_ops import SumToShape

    x, y = ft.dvector("x"), ft.dvector("y")
    whole = fc.grad(ft.sum(ft.exp(x) * x[::-1] + x[:] * x), x)
    f = fc.function([x], whole)
    assert not any(isinstance(n.op, SumToShape) for n in f.optimized_graph.toposort()), fc.debugprint(f)
    for n in (0, 1, 2, 5):
        v = np.linspace(-1.0, 2.0, n)
        np.testing.assert_allclose(f(v), np.exp(v) * v[::-1] + np.exp(v[::-1]) + 2 * v, rtol=1e-14)
    part = fc.grad(ft.sum(x[1:] * y), [x, y])
    g = fc.function([x, y], part)
    assert any(isinstance(n.op, SumToShape) for n in g.optimized_graph.toposort()), fc.debugprint(g)
    xv, yv = np.array([3.0, -1.0, 2.0, 5.0]), np.array([0.5])
    gx, gy = g(xv, yv)
    np.testing.assert_allclose(gx, [0.0, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(gy, [xv[1:].sum()])
    gx, gy = g(xv, np.arange(3.0))
    np.testing.assert_allclose(gx, [0.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(gy, xv[1:])


def test_broadcast_against_a_static_size() -> None:
    """An operand of unknown size broadcast against one of static size 5: its gradient is
    summed to size 1 at run time, and its type does not claim size 5."""
    a = ft.dvector("a")
    s = ft.TensorType("float64", (5,))("s")
    ga = fc.grad((a * s).sum(), a)
    assert ga.type.shape == (None,)
    f = fc.function([a, s], ga)
    sv = np.arange(5.0)
    np.testing.assert_allclose(f(np.array([2.0]), sv), [sv.sum()])
    np.testing.assert_allclose(f(np.ones(5), sv), sv)


KEY_CODE = """
import fncache as fc
from fncache import tensor as ft
vs = [ft.dvector(n) for n in "abcdef"]
e = (vs[0] * vs[1]) * (vs[2] * vs[3]) * (vs[4] * vs[5])
g = fc.grad(ft.sum(ft.sin(e)), vs)
print(fc.function(vs, g).cache_key)
"""


def test_gradient_cache_key_is_the_same_in_every_process(tmp_path) -> None:
    """Gradients that sum over a dim broadcast from several operands build the same graph (and
    cache key) in every process, whatever the variables' ids."""
    keys = keys_in_fresh_processes(KEY_CODE, tmp_path, 3)
    assert len(keys) == 1, keys
