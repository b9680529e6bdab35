"""The gradient API beyond ``grad`` that Theano/PyTensor code uses: ``grad``'s known_grads,
return_disconnected and add_names, ``Lop``/``Rop`` (against directional finite differences
and closed forms), ``hessian_vector_product``, the gradient markers (zero_grad,
disconnected_grad, grad_clip, grad_scale, consider_constant: identity forward, gone from the
optimized graph, keyed and pickled) and ``verify_grad`` (passes right gradients, catches a
wrong one)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.grad_markers import GradClip, GradMarker, GradScale, ZeroGrad
from fncache.tensor.grad_ops import SumToShape

from fcutil import FD_EPS, fd_check_grads, keys_in_fresh_processes
from test_grad import _rand


def _ops(f: fc.Function) -> list:
    return [n.op for n in f.optimized_graph.toposort()]


# -- grad: known_grads, return_disconnected, add_names ------------------------------------------
def test_known_grads_without_a_cost_and_with_one() -> None:
    W, x = ft.dmatrix("W"), ft.dvector("x")
    gy = ft.dvector("gy")
    y = ft.tanh(ft.dot(W, x))
    c = ft.sum(x**2)
    only_known = fc.grad(None, x, known_grads={y: gy})
    both = fc.grad(c, [x, W], known_grads={y: gy})
    scaled = fc.grad(c, x, known_grads={c: ft.constant(3.0)})  # replaces the seed 1
    f = fc.function([W, x, gy], [only_known, *both, scaled])
    rng = np.random.default_rng(0)
    Wv, xv, gv = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    d = gv * (1 - np.tanh(Wv @ xv) ** 2)
    got = f(Wv, xv, gv)
    np.testing.assert_allclose(got[0], Wv.T @ d, rtol=1e-12)
    np.testing.assert_allclose(got[1], Wv.T @ d + 2 * xv, rtol=1e-12)
    np.testing.assert_allclose(got[2], np.outer(d, xv), rtol=1e-12)
    np.testing.assert_allclose(got[3], 6 * xv, rtol=1e-12)


def test_known_grads_of_a_wrt_variable_and_a_python_number() -> None:
    x = ft.dvector("x")
    g = fc.grad(None, x, known_grads={x: np.array([1.0, 2.0])})
    f = fc.function([x], g)
    np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 2.0])
    # x's gradient must have x's shape: checked when the function runs
    with pytest.raises(AssertionError, match="known_grads does not have the variable's shape"):
        f(np.zeros(3))


def test_return_disconnected() -> None:
    x, z = ft.dvector("x"), ft.dvector("z")
    c = ft.sum(x**2)
    gx, gz = fc.grad(c, [x, z], disconnected_inputs="ignore")
    np.testing.assert_array_equal(fc.function([z], gz)(np.ones(3)), np.zeros(3))
    gx, gz = fc.grad(c, [x, z], disconnected_inputs="ignore", return_disconnected="none")
    assert gz is None and gx is not None
    # PyTensor's placeholder
    gx, gz = fc.grad(c, [x, z], disconnected_inputs="ignore", return_disconnected="disconnected")
    assert isinstance(gz.type, fc.gradient.DisconnectedType) and gx is not None
    # connected only through a comparison: zeros, not None (as before)
    gz = fc.grad(ft.sum(x * (z > 0)), z, return_disconnected="none")
    assert gz is not None
    with pytest.raises(ValueError, match="does not depend on"):
        fc.grad(c, z, return_disconnected="none")


def test_add_names_and_positional_compatibility() -> None:
    x = ft.dvector("x")
    c = ft.sum(ft.exp(x))
    c.name = "c"
    assert fc.grad(c, x).name == "(dc/dx)"
    assert fc.grad(c, x, None, "raise", False).name is None
    anon = fc.grad(ft.sum(ft.exp(x)), x)
    assert anon.name is None


def test_grad_argument_errors() -> None:
    x, i = ft.dvector("x"), ft.lvector("i")
    c = ft.sum(x)
    with pytest.raises(ValueError, match="cost and known_grads are both None"):
        fc.grad(None, x)
    with pytest.raises(ValueError, match="return_disconnected must be one of 'zero', 'none'"):
        fc.grad(c, x, return_disconnected="zeros")
    with pytest.raises(ValueError, match="null_gradients must be one of 'raise', 'return', got 'nan'"):
        fc.grad(c, x, null_gradients="nan")
    with pytest.raises(TypeError, match="known_grads must be a dict"):
        fc.grad(None, x, known_grads=[(x, x)])
    with pytest.raises(TypeError, match="dtype int64; gradients flow only through float"):
        fc.grad(None, x, known_grads={i: ft.dvector()})
    with pytest.raises(ValueError, match="does not match the variable's"):
        fc.grad(None, x, known_grads={x: ft.dmatrix()})
    with pytest.raises(TypeError, match="must be of a float dtype"):
        fc.grad(None, x, known_grads={x: i})
    with pytest.raises(TypeError, match="known_grads=.*ft.Lop"):
        fc.grad(x * 2, x)


# -- Lop / Rop ----------------------------------------------------------------------------------
def _directional(fn, args: list, dirs: list, eps: float = FD_EPS) -> list:
    """(f(args + eps dirs) - f(args - eps dirs)) / 2 eps, per output of ``fn``."""
    up = fn(*[a + eps * d for a, d in zip(args, dirs)])
    down = fn(*[a - eps * d for a, d in zip(args, dirs)])
    return [(u - w) / (2 * eps) for u, w in zip(up, down)]


def test_rop_of_several_non_scalar_outputs_matches_directional_differences() -> None:
    W, x = ft.dmatrix("W"), ft.dvector("x")
    V, v = ft.dmatrix("V"), ft.dvector("v")
    ys = [ft.tanh(ft.dot(W, x)), ft.sum(x**2) * W, ft.sum(ft.exp(W))]
    jv = ft.Rop(ys, [W, x], [V, v])
    assert isinstance(jv, list) and [r.ndim for r in jv] == [1, 2, 0]
    f_y = fc.function([W, x], ys)
    f_jv = fc.function([W, x, V, v], jv)
    rng = np.random.default_rng(1)
    for n, m in [(3, 4), (1, 5), (2, 1)]:
        args = [rng.standard_normal((n, m)), rng.standard_normal(m)]
        dirs = [rng.standard_normal((n, m)), rng.standard_normal(m)]
        for got, want in zip(f_jv(*args, *dirs), _directional(f_y, args, dirs)):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_rop_is_jacobian_times_vector_and_needs_no_run_time_broadcast_check() -> None:
    x, v = ft.dvector("x"), ft.dvector("v")
    y = ft.sin(x) * ft.sum(x**2) * x[::-1]
    f = fc.function([x, v], [ft.Rop(y, x, v), ft.dot(ft.jacobian(y, x), v)])
    # the stand-in for the cotangent is y itself: no SumToShape, no marker left
    assert not any(isinstance(op, (SumToShape, GradMarker)) for op in _ops(f)), fc.debugprint(f)
    rng = np.random.default_rng(2)
    for n in (0, 1, 5):
        got, want = f(rng.standard_normal(n), rng.standard_normal(n))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_lop_of_a_matrix_output_matches_the_closed_form() -> None:
    A, X, U = ft.dmatrix("A"), ft.dmatrix("X"), ft.dmatrix("U")
    y = ft.tanh(ft.dot(A, X))
    ga, gx = ft.Lop(y, [A, X], U)
    single = ft.Lop(y, X, U)
    f = fc.function([A, X, U], [ga, gx, single])
    rng = np.random.default_rng(3)
    a, x, u = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    d = u * (1 - np.tanh(a @ x) ** 2)
    got = f(a, x, u)
    np.testing.assert_allclose(got[0], d @ x.T, rtol=1e-12)
    np.testing.assert_allclose(got[1], a.T @ d, rtol=1e-12)
    np.testing.assert_allclose(got[2], a.T @ d, rtol=1e-12)


def test_lop_and_rop_are_adjoint() -> None:
    """<u, J v> == <J^T u, v> for two outputs and two inputs at random points."""
    a, b = ft.dvector("a"), ft.dmatrix("b")
    va, vb, u1, u2 = ft.dvector("va"), ft.dmatrix("vb"), ft.dvector("u1"), ft.dscalar("u2")
    ys = [ft.dot(b, ft.exp(a)), ft.sum(b * ft.sin(a))]
    jv = ft.Rop(ys, [a, b], [va, vb])
    jtu = ft.Lop(ys, [a, b], [u1, u2])
    lhs = ft.sum(u1 * jv[0]) + u2 * jv[1]
    rhs = ft.sum(jtu[0] * va) + ft.sum(jtu[1] * vb)
    f = fc.function([a, b, va, vb, u1, u2], [lhs, rhs])
    rng = np.random.default_rng(4)
    vals = [rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(3)]
    vals += [rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(())]
    left, right = f(*vals)
    np.testing.assert_allclose(left, right, rtol=1e-12)


def test_rop_identity_and_disconnected_outputs() -> None:
    x, z, v = ft.dvector("x"), ft.dvector("z"), ft.dvector("v")
    ident = fc.function([x, v], ft.Rop(x, x, v))
    np.testing.assert_array_equal(ident(np.ones(2), np.array([1.0, -1.0])), [1.0, -1.0])
    with pytest.raises(AssertionError, match="eval_points does not have the variable's shape"):
        ident(np.ones(3), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="does not depend on any of wrt"):
        ft.Rop([x * 2, z * 2], x, v)
    r = ft.Rop([x * 2, z * 2], x, v, disconnected_outputs="ignore")
    f = fc.function([x, z, v], r, on_unused_input="ignore")
    got = f(np.ones(2), np.ones(3), np.array([1.0, -1.0]))
    np.testing.assert_array_equal(got[0], [2.0, -2.0])
    np.testing.assert_array_equal(got[1], np.zeros(3))
    with pytest.warns(UserWarning, match="does not depend"):
        r = ft.Rop([x * 2, z * 2], x, v, disconnected_outputs="warn", return_disconnected="none")
    assert r[1] is None


def test_lop_rop_argument_errors() -> None:
    x, v, m = ft.dvector("x"), ft.dvector("v"), ft.dmatrix("m")
    with pytest.raises(ValueError, match="Rop: 1 wrt but 2 eval_points"):
        ft.Rop(x * 2, x, [v, v])
    with pytest.raises(ValueError, match="does not match the variable's"):
        ft.Rop(x * 2, x, m)
    with pytest.raises(ValueError, match="Lop: 2 f but 1 eval_points"):
        ft.Lop([x, x], x, [v])
    with pytest.raises(ValueError, match="does not match the variable's"):
        ft.Lop(ft.sum(x), x, v)
    with pytest.raises(ValueError, match="disconnected_outputs must be one of"):
        ft.Rop(x, x, v, disconnected_outputs="no")
    with pytest.raises(TypeError, match="Rop: wrt must be symbolic variables"):
        ft.Rop(x, [np.ones(2)], v)


def test_hessian_vector_product() -> None:
    x, p = ft.dvector("x"), ft.dvector("p")
    rosen = ft.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    a, q = ft.dvector("a"), ft.dvector("q")
    linear = ft.sum(x * 3.0) + ft.sum(a**3)
    hp = ft.hessian_vector_product(rosen, x, p)
    both = ft.hessian_vector_product(linear, [x, a], [p, q])
    f = fc.function([x, p, a, q], [hp, ft.dot(ft.hessian(rosen, x), p), *both])
    rng = np.random.default_rng(5)
    xv, pv, av, qv = (rng.standard_normal(5) for _ in range(4))
    got = f(xv, pv, av, qv)
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)
    np.testing.assert_array_equal(got[2], np.zeros(5))  # linear in x: zeros, no error
    np.testing.assert_allclose(got[3], 6 * av * qv, rtol=1e-12)


# -- gradient markers ---------------------------------------------------------------------------
def test_markers_gradients_and_no_trace_in_the_optimized_graph() -> None:
    x = ft.dvector("x")
    cases = {
        "zero_grad": (ft.zero_grad(ft.exp(x)) * x, lambda v: np.exp(v)),
        "consider_constant": (ft.consider_constant(ft.exp(x)) * x, lambda v: np.exp(v)),
        "grad_clip": (ft.grad_clip(x, -1.0, 1.0) ** 2, lambda v: np.clip(2 * v, -1, 1)),
        "grad_scale": (ft.exp(ft.grad_scale(2 * x, -3.0)), lambda v: -6 * np.exp(2 * v)),
        "disconnected_grad": (ft.disconnected_grad(x**2) + x, lambda v: np.ones_like(v)),
    }
    outs = []
    for e, _ in cases.values():
        outs += [e, fc.grad(ft.sum(e), x)]
    plain = [ft.exp(x) * x, ft.exp(x) * x, x**2, ft.exp(2 * x), x**2 + x]
    xv = np.array([-2.0, -0.3, 0.0, 0.4, 1.5])
    for mode in ("FAST_RUN", "FAST_COMPILE", fc.Mode("c", None), fc.Mode("py")):
        f = fc.function([x], outs + plain, mode=mode)
        if not isinstance(mode, fc.Mode) or mode.optimizer is not None:
            assert not any(isinstance(op, GradMarker) for op in _ops(f)), (mode, fc.debugprint(f))
        got = f(xv)
        for k, (name, (_, want_grad)) in enumerate(cases.items()):
            np.testing.assert_allclose(got[2 * k], got[len(outs) + k], rtol=1e-15, err_msg=name)
            np.testing.assert_allclose(got[2 * k + 1], want_grad(xv), rtol=1e-12, err_msg=f"{name} {mode}")


def test_marker_output_of_an_input_and_fusion() -> None:
    x = ft.dvector("x")
    f = fc.function([x], [ft.zero_grad(x), ft.exp(ft.grad_scale(x * 2, 3.0)) + 1])
    xv = np.array([0.5, -1.0])
    got = f(xv)
    np.testing.assert_array_equal(got[0], xv)
    np.testing.assert_allclose(got[1], np.exp(2 * xv) + 1, rtol=1e-15)
    assert len(_ops(f)) == 1, fc.debugprint(f)  # the exp and the add fuse across the marker


def test_zero_grad_stays_connected_disconnected_grad_does_not() -> None:
    x = ft.dvector("x")
    g = fc.grad(ft.sum(ft.zero_grad(x)), x)  # no error: x is connected
    np.testing.assert_array_equal(fc.function([x], g)(np.ones(3)), np.zeros(3))
    with pytest.raises(ValueError, match="only through consider_constant or disconnected_grad"):
        fc.grad(ft.sum(ft.disconnected_grad(x)), x)
    assert fc.grad(ft.sum(ft.disconnected_grad(x)), x, return_disconnected="none",
                   disconnected_inputs="ignore") is None  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc.grad(ft.sum(ft.disconnected_grad(x) * x), x)  # connected the other way


def test_markers_key_and_pickle(tmp_path) -> None:
    assert GradClip(-1, 1) == GradClip(-1.0, 1.0) and hash(GradClip(-1, 1)) == hash(GradClip(-1.0, 1.0))
    assert GradClip(-1, 1) != GradClip(-1, 2) and GradScale(2) != GradScale(3)
    assert ZeroGrad() == pickle.loads(pickle.dumps(ZeroGrad()))

    def build(bound: float) -> fc.Function:
        x = ft.dvector("x")
        c = ft.sum(ft.grad_clip(ft.sin(x), -bound, bound) * 3)
        return fc.function([x], [c, fc.grad(c, x)])  # the marker is in the original graph

    f1, f2, f3 = build(0.5), build(0.5), build(2.0)
    assert f1.cache_key == f2.cache_key != f3.cache_key
    assert any(isinstance(n.op, GradClip) for n in f1.original_graph.toposort())
    xv = np.array([0.0, 1.0, 2.0])
    want = [3 * np.sin(xv).sum(), np.clip(3.0, -0.5, 0.5) * np.cos(xv)]
    for f in (f1, pickle.loads(pickle.dumps(f1)), fc.loads(fc.dumps(f1))):
        for got, w in zip(f(xv), want):
            np.testing.assert_allclose(got, w, rtol=1e-14)
    y = ft.grad_scale(ft.dvector("y"), 2.0)
    y2 = pickle.loads(pickle.dumps(y))
    assert isinstance(y2.owner.op, GradScale) and y2.owner.op.multiplier == 2.0


def test_marker_argument_errors() -> None:
    x = ft.dvector("x")
    with pytest.raises(ValueError, match=r"grad_clip: lower_bound \(2.0\) is above upper_bound \(1.0\)"):
        ft.grad_clip(x, 2, 1)
    with pytest.raises(TypeError, match="grad_clip: lower_bound must be a Python number, got the symbolic"):
        ft.grad_clip(x, ft.dscalar("lo"), 1)
    with pytest.raises(ValueError, match="grad_clip: upper_bound must be a number, got NaN"):
        ft.grad_clip(x, 0, float("nan"))
    with pytest.raises(TypeError, match="grad_scale: multiplier must be a real number, got 'a'"):
        ft.grad_scale(x, "a")
    with pytest.raises(ValueError, match="grad_scale: multiplier must be finite"):
        ft.grad_scale(x, float("inf"))
    with pytest.raises(TypeError, match="zero_grad: x must be a tensor variable or a numeric value"):
        ft.zero_grad("abc")


# -- verify_grad --------------------------------------------------------------------------------
def test_verify_grad_passes_right_gradients() -> None:
    ft.verify_grad(ft.tanh, [np.asarray([[2, 3, 4], [-1, 3.3, 9.9]])], rng=np.random.default_rng(23098))
    ft.verify_grad(
        lambda a, b: ft.dot(a, b) * ft.sum(a), [_rand(np.random.default_rng(0), (2, 3)), np.ones(3)], rng=1
    )
    ft.verify_grad(lambda a: ft.sum(a**2), [np.float32([1.0, 2.0])], rng=np.random.RandomState(0), n_tests=1)


def test_verify_grad_catches_a_wrong_gradient() -> None:
    triple = ft.as_op([ft.dvector], [ft.dvector], grad=lambda ins, gs: [gs[0] * 2.0])(lambda v: v * 3)
    with pytest.raises(fc.GradientError, match=r"argument 0 \(shape \(4,\)\) at position \(\d,\)") as info:
        ft.verify_grad(triple, [np.linspace(0.1, 1, 4)], rng=0)
    err = info.value
    assert isinstance(err, AssertionError) and isinstance(err, fc.FncacheError)
    assert err.arg == 0 and err.analytic == pytest.approx(err.numeric * 2 / 3, rel=1e-6)


def test_verify_grad_argument_errors() -> None:
    with pytest.raises(TypeError, match="pt must be a list or tuple"):
        ft.verify_grad(ft.exp, np.ones(3))
    with pytest.raises(TypeError, match="argument 0 of pt has dtype int64"):
        ft.verify_grad(ft.exp, [np.arange(3)])
    with pytest.raises(ValueError, match="n_tests must be a positive int"):
        ft.verify_grad(ft.exp, [np.ones(3)], n_tests=0)
    with pytest.raises(TypeError, match="rng must be None, an int seed"):
        ft.verify_grad(ft.exp, [np.ones(3)], rng="seed")
    with pytest.raises(ValueError, match="abs_tol must be a positive number"):
        ft.verify_grad(ft.exp, [np.ones(3)], abs_tol=-1)
    with pytest.raises(TypeError, match="fun must return one symbolic variable"):
        ft.verify_grad(lambda a: [a, a], [np.ones(3)])


def test_markers_inside_finite_difference_check() -> None:
    """grad_scale(e, 1) and grad_clip with wide bounds change nothing: the usual check holds."""
    cases = {
        "scale_one": (lambda a, b: ft.grad_scale(a * b, 1.0) * ft.sin(a), [0, 1]),
        "wide_clip": (lambda a, b: ft.exp(ft.grad_clip(a - b, -1e9, 1e9)), [0, 1]),
    }
    rng = np.random.default_rng(7)
    fd_check_grads([ft.dmatrix("a"), ft.dmatrix("b")], cases, [[_rand(rng, (2, 3)), _rand(rng, (1, 3))]])


def test_hessian_vector_product_argument_errors() -> None:
    x, p = ft.dvector("x"), ft.dvector("p")
    with pytest.raises(TypeError, match=r"unexpected arguments \['known_grads'\]"):
        ft.hessian_vector_product(ft.sum(x**3), x, p, known_grads={})
    with pytest.raises(ValueError, match="does not match the variable's"):
        ft.hessian_vector_product(ft.sum(x**3), x, ft.dmatrix())


MARKER_KEY_CODE = """
import fncache as fc
from fncache import tensor as ft
a, b, v, w = (ft.dvector(n) for n in "abvw")
e = ft.grad_clip(a * b, -1, 1) * ft.grad_scale(ft.zero_grad(a) + ft.disconnected_grad(b), 2)
outs = [e, *fc.grad(ft.sum(ft.sin(e)), [a, b]), ft.Rop(ft.exp(e), [a, b], [v, w])]
print(fc.function([a, b, v, w], outs).cache_key)
"""


def test_marker_and_rop_cache_keys_are_the_same_in_every_process(tmp_path) -> None:
    keys = keys_in_fresh_processes(MARKER_KEY_CODE, tmp_path, 2)
    assert len(keys) == 1, keys
