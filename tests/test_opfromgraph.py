"""``fc.OpFromGraph`` (``fncache/tensor/op_from_graph.py``): a graph packaged as one op, as
Theano's and PyTensor's, with the behaviours of PyTensor's ``tests/compile/test_builders.py``:
values against numpy, gradients against central differences and against hand-written rules,
the override forms, ``Rop``, shared variables as implicit inputs, pickles, cache keys,
``scan`` and errors. Where a function is compiled with rewrites the op's graph is put inline,
so the function is the one the graph written out gives."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import NullTypeGradError
from fncache.gradient import DisconnectedType, NullType
from fncache.tensor.op_from_graph import OpFromGraph

from fcutil import fd_check_grads, keys_in_fresh_processes

PY = fc.Mode(linker="py")
#: the op's nodes kept, each running its graph as an inner function
KEPT = fc.Mode(linker="c").excluding("inline_op_from_graph")
RNG = np.random.default_rng(20261203)


def _ops(f: fc.Function) -> list[str]:
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


def _fd(fn, args: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:  # noqa: ANN001
    """Central differences of scalar ``fn`` at ``args``, one array per argument."""
    out = []
    for k, a in enumerate(args):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi, lo = [x.copy() for x in args], [x.copy() for x in args]
            hi[k][idx] += eps
            lo[k][idx] -= eps
            g[idx] = (fn(*hi) - fn(*lo)) / (2 * eps)
        out.append(g)
    return out


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, PY, KEPT], ids=["inline", "py", "kept"])
@pytest.mark.parametrize("inline", [False, True])
def test_values_against_numpy(mode: fc.Mode | None, inline: bool) -> None:
    x, y, z = ft.dmatrix("x"), ft.dmatrix("y"), ft.dmatrix("z")
    op = OpFromGraph([x, y, z], [x + y * z], inline=inline)
    f = fc.function([x, y, z], op(x, y, z) - op(y, z, x), mode=mode)
    xv, yv, zv = RNG.normal(size=(3, 2, 3))
    for _ in range(2):  # a second call reuses the inner function's buffers
        np.testing.assert_allclose(f(xv, yv, zv), (xv + yv * zv) - (yv + zv * xv), rtol=1e-12)
    assert ("OpFromGraph" in _ops(f)) == (mode is KEPT)


@pytest.mark.parametrize("mode", [None, KEPT], ids=["inline", "kept"])
def test_sizes_change_between_nested_calls(mode: fc.Mode | None) -> None:
    x, y, z = ft.dmatrix("x"), ft.dmatrix("y"), ft.dmatrix("z")
    op = OpFromGraph([x, y], [ft.dot(x, y)])
    f = fc.function([x, y, z], op(x, op(y, z)), mode=mode)
    xv, yv, zv = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5))
    np.testing.assert_allclose(f(xv, yv, zv), xv @ (yv @ zv), rtol=1e-12)


def test_inline_gives_the_graph_written_out() -> None:
    """The compiled function's optimized graph is the hand-written one's: same fused nodes."""
    x, y = ft.dvector("x"), ft.dvector("y")
    op = OpFromGraph([x, y], [ft.exp(x) * y + 1.0])
    f = fc.function([x, y], op(x, y).sum())
    g = fc.function([x, y], (ft.exp(x) * y + 1.0).sum())
    assert "OpFromGraph" not in _ops(f)
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == [str(n.op) for n in g.maker.fgraph.toposort()]
    xv, yv = RNG.normal(size=(2, 5))
    np.testing.assert_allclose(f(xv, yv), np.sum(np.exp(xv) * yv + 1.0))


@pytest.mark.parametrize("mode", [None, KEPT], ids=["inline", "kept"])
def test_multiple_outputs_and_nesting(mode: fc.Mode | None) -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    op_ft = OpFromGraph([x, y], [x + y, x - y])
    op_ift = OpFromGraph([x, y], [(x + y) / 2, (x - y) / 2])
    u, v = ft.dvector("u"), ft.dvector("v")
    outer = OpFromGraph([u, v], op_ift(*op_ft(u, v)), name="roundtrip")  # an op made of ops
    f = fc.function([u, v], [*op_ift(*op_ft(u, v)), *outer(v, u)], mode=mode)
    uv, vv = RNG.normal(size=(2, 16))
    for got, want in zip(f(uv, vv), [uv, vv, vv, uv]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert str(outer) == "roundtrip{inline=False}"


def test_pytensor_attributes_and_clone() -> None:
    x = ft.dscalar("x")
    op = OpFromGraph([x], [x**2 / x])
    assert op.fgraph is op.inner and op.inner_inputs == op.inner.inputs
    assert fc.graph.equal_computations(op.inner_outputs, [x**2 / x], op.inner_inputs, [x])
    assert float(op.fn(3.0)[0]) == 3.0
    # compiling it leaves its graph as it was
    assert fc.graph.equal_computations(op.inner_outputs, [x**2 / x], op.inner_inputs, [x])
    twin = op.clone()
    assert twin == op and twin.fgraph is not op.fgraph and twin.inner_outputs[0] is not op.inner_outputs[0]
    assert fc.graph.equal_computations(
        twin.inner_outputs, op.inner_outputs, twin.inner_inputs, op.inner_inputs
    )


def test_output_that_is_an_input_and_constant_inputs() -> None:
    x, y = ft.dscalar("x"), ft.dscalar("y")
    c = ft.constant(1.0)
    op = OpFromGraph([x, c], [x + c, x])
    a, b = op(y, y)
    f = fc.function([y], [a, b])
    assert [float(v) for v in f(5.0)] == [10.0, 5.0]
    assert float(op(y, 2.0)[0].eval({y: 5.0})) == 7.0  # a number becomes a constant


def test_repeated_inputs_need_on_unused_input_ignore() -> None:
    x, y = ft.dscalar("x"), ft.dscalar("y")
    with pytest.raises(ValueError, match="given twice"):
        OpFromGraph([x, x, y], [x + y])
    op = OpFromGraph([x, x, y], [x + y], on_unused_input="ignore")
    assert float(op(ft.constant(1.0), x, y).eval({x: 5.0, y: 5.0})) == 10.0


# -- shared variables --------------------------------------------------------------------------


def test_shared_variables_are_implicit_inputs() -> None:
    x = ft.dvector("x")
    s = fc.shared(RNG.normal(size=3), name="s")
    op = OpFromGraph([x], [x * s + 1.0])
    assert op.shared_inputs == (s,) and op.n_explicit == 1
    node = op(x).owner
    assert node.inputs[1] is s
    f = fc.function([x], op(x))
    xv = RNG.normal(size=3)
    np.testing.assert_allclose(f(xv), xv * s.get_value() + 1.0)
    s.set_value(np.arange(3.0))
    np.testing.assert_allclose(f(xv), xv * np.arange(3.0) + 1.0)
    # another value in the shared variable's place: a variable or another shared variable
    other = ft.dvector("other")
    np.testing.assert_allclose(op(x, other).eval({x: xv, other: np.ones(3)}), xv + 1.0)
    # its gradient: the shared variable is an input like another
    g = fc.function([x], fc.grad(op(x).sum(), s))
    np.testing.assert_allclose(g(xv), xv)


def test_strict_refuses_implicit_inputs() -> None:
    x = ft.dscalar("x")
    y = fc.shared(1.0, name="y")
    with pytest.raises(ValueError, match=r"strict=True.*\[y\]"):
        OpFromGraph([x], [x + y], strict=True)
    op = OpFromGraph([x, y], [x + y], strict=True)
    out = op(x, y)
    assert float(out.eval({x: 5.0})) == 6.0
    y.set_value(2.0)
    assert float(out.eval({x: 6.0})) == 8.0
    assert float(op(y, y).eval()) == 4.0


# -- gradients ---------------------------------------------------------------------------------


def test_gradients_match_central_differences() -> None:
    x, w = ft.dvector("x"), ft.dmatrix("w")
    op = OpFromGraph([x, w], [ft.tanh(ft.dot(w, x)), ft.exp(x).sum() * w])
    nested = OpFromGraph([x, w], [op(x, w)[0] * 2.0 + op(x, w)[1].sum()])
    cases = {
        "first": (lambda x, w: op(x, w)[0], [0, 1]),
        "both": (lambda x, w: op(x, w)[0].sum() + op(x, w)[1], [0, 1]),
        "second only": (lambda x, w: op(x, w)[1], [0, 1]),
        "nested": (lambda x, w: nested(x, w), [0, 1]),
        "twice the same input": (lambda x, w: op(x, w + w.T)[0] + op(x, w)[0], [0, 1]),
    }
    values = [[RNG.normal(size=3), RNG.normal(size=(3, 3))] for _ in range(2)]
    fd_check_grads([x, w], cases, values)


@pytest.mark.parametrize("mode", [None, KEPT], ids=["inline", "kept"])
def test_grad_of_grad_and_hand_written_values(mode: fc.Mode | None) -> None:
    x, y, z = ft.dmatrix("x"), ft.dmatrix("y"), ft.dmatrix("z")
    op = OpFromGraph([x, y, z], [x + y * z])
    f1 = op(x, y, z)
    f1 = f1 - fc.grad(f1.sum(), y)
    f2 = f1 - fc.grad(ft.sum(f1 * f1), y)
    fn = fc.function([x, y, z], [f1, f2], mode=mode)
    xv, yv, zv = RNG.normal(size=(3, 2, 2))
    a = xv + yv * zv - zv
    np.testing.assert_allclose(fn(xv, yv, zv)[0], a)
    np.testing.assert_allclose(fn(xv, yv, zv)[1], a - 2 * a * zv)


def _sigmoid_grad(inputs, outputs, output_grads):  # noqa: ANN001, ANN202
    (y,) = outputs
    (g,) = output_grads
    return [y * (1.0 - y) * g]


@pytest.mark.parametrize("form", ["callable", "op", "list", "list op", "pullback", "deprecated"])
def test_lop_override_forms_give_the_rule(form: str) -> None:
    """Each form of the override gives the rule it states (here twice the true gradient of
    the logistic function, so the override, not the graph, is seen)."""
    x = ft.dvector("x")
    y = 1.0 / (1.0 + ft.exp(-x))
    yo, gy = ft.dvector("yo"), ft.dvector("gy")
    as_op = OpFromGraph([x, yo, gy], [2.0 * yo * (1.0 - yo) * gy])

    def doubled(i, o, g):  # noqa: ANN001, ANN202
        return [2.0 * r for r in _sigmoid_grad(i, o, g)]

    kwargs = {
        "callable": {"lop_overrides": doubled},
        "op": {"lop_overrides": as_op},
        "list": {"lop_overrides": [lambda i, o, g: doubled(i, o, g)[0]]},
        "list op": {"lop_overrides": [as_op]},
        "pullback": {"pullback": doubled},
        "deprecated": {"grad_overrides": lambda i, g: doubled(i, [1.0 / (1.0 + ft.exp(-i[0]))], g)},
    }[form]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        op = OpFromGraph([x], [y], **kwargs)
    assert any(issubclass(w.category, FutureWarning) for w in caught) == (form == "deprecated")
    xx = ft.dvector("xx")
    f = fc.function([xx], fc.grad(ft.sum(op(xx) * ft.arange(5)), xx), mode=PY)
    xv = RNG.normal(size=5)
    s = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(f(xv), 2 * s * (1 - s) * np.arange(5), rtol=1e-12)


def test_lop_override_giving_the_true_gradient_matches_central_differences() -> None:
    x = ft.dvector("x")
    op = OpFromGraph([x], [1.0 / (1.0 + ft.exp(-x))], lop_overrides=_sigmoid_grad)
    fd_check_grads([x], {"logistic": (lambda x: op(x) * x, [0])}, [[RNG.normal(size=4)]])


def test_list_override_mixes_defaults_disconnected_and_null() -> None:
    x, y, z = ft.dscalar("x"), ft.dscalar("y"), ft.dscalar("z")
    e = x + y * z

    def rescale_dy(inputs, outputs, output_grads):  # noqa: ANN001, ANN202
        return inputs[2] * 2

    for default in (None, "default"):
        op = OpFromGraph([x, y, z], [e], lop_overrides=[default, rescale_dy, default])
        f = fc.function([x, y, z], fc.grad(op(x, y, z), [x, y, z]), on_unused_input="ignore", mode=PY)
        assert [float(v) for v in f(2.0, 3.0, 4.0)] == [1.0, 8.0, 3.0]
    op = OpFromGraph([x, y, z], [e], lop_overrides=[DisconnectedType(), NullType("no rule for y"), "default"])
    gx, gz = fc.grad(op(x, y, z), [x, z])
    f = fc.function([x, y, z], [gx, gz], on_unused_input="ignore", mode=PY)
    assert [float(v) for v in f(2.0, 3.0, 4.0)] == [0.0, 3.0]  # disconnected: zero
    with pytest.raises(NullTypeGradError, match="no rule for y"):
        fc.grad(op(x, y, z), y)
    # a callable may return the placeholders too
    op = OpFromGraph([x, y], [x * y], lop_overrides=lambda i, o, g: [g[0] * i[1], DisconnectedType()()])
    assert float(fc.grad(op(x, y), x).eval({y: 3.0})) == 3.0


@pytest.mark.parametrize("custom", [False, True])
def test_gradients_of_some_of_the_outputs(custom: bool) -> None:
    """The cost reads some outputs only: their gradients alone flow back (an override is given
    zeros for the others)."""
    x, y = ft.dscalar("x"), ft.dscalar("y")
    out1, out2 = x + y, x * y

    def pullback_3out(inputs, outputs, output_grads):  # noqa: ANN001, ANN202
        a, b = inputs
        d1, d2, d3 = output_grads
        dx = d1 + d2 * b + d3 * (2 * a * b + b**2)
        dy = d1 + d2 * a + d3 * (a**2 + 2 * a * b)
        return [dx, dy]

    op = OpFromGraph([x, y], [out1, out2, out1 * out2], lop_overrides=pullback_3out if custom else None)
    point = [np.asarray(v) for v in RNG.normal(size=2)]
    for pick in (lambda o: o[0] + o[1] + o[2], lambda o: o[0] + o[1], lambda o: o[1] + o[2], lambda o: o[2]):
        fc.gradient.verify_grad(lambda a, b, pick=pick: pick(op(a, b)), point, rng=RNG, mode=PY)


def test_connection_pattern() -> None:
    x, y, z = ft.dmatrix("x"), ft.dmatrix("y"), ft.dmatrix("z")
    op1 = OpFromGraph([x, y, z], [x * y, y * z])
    assert op1.connection_pattern(None) == [[True, False], [True, True], [False, True]]
    m, n, p, q = (ft.dmatrix(c) for c in "mnpq")
    o1, o2 = op1(m, n, p)
    op2 = OpFromGraph([m, n, p, q], op1(o1, q, o2))  # read through the inner op's pattern
    assert op2.connection_pattern(None) == [[True, False], [True, True], [False, True], [True, True]]
    # a given pattern: y is disconnected, so grad refuses it as PyTensor does
    a, b = ft.dvector("a"), ft.dvector("b")
    op = OpFromGraph(
        [a, b],
        [b + ft.round(b)],
        lop_overrides=lambda i, o, g: [g[0], DisconnectedType()()],
        connection_pattern=[[True], [False]],
    )
    c = op(a, b)
    np.testing.assert_array_equal(fc.grad(c.sum(), a).eval({a: np.ones(5), b: np.ones(5)}), np.ones(5))
    with pytest.raises(ValueError, match="does not depend on"):
        fc.grad(c.sum(), b)
    # the graph's own pattern: an output's gradient reaches only the inputs it reads
    sq = OpFromGraph([a, b], [a**2, b**3])
    with pytest.warns(UserWarning):
        assert fc.grad(sq(a, b)[0].sum(), b, disconnected_inputs="warn", return_disconnected="none") is None
    np.testing.assert_allclose(
        fc.grad(sq(a, b)[1].sum(), b).eval({a: np.ones(1), b: np.array([2.0])}), [12.0]
    )


def test_jacobian_and_hessian_through_the_op() -> None:
    x = ft.dvector("x")
    op = OpFromGraph([x], [ft.sin(x) * x.sum()])
    jac = fc.function([x], ft.jacobian(op(x), x), mode=PY)
    xv = RNG.normal(size=4)
    want = np.diag(np.cos(xv) * xv.sum()) + np.sin(xv)[:, None]
    np.testing.assert_allclose(jac(xv), want, rtol=1e-12)
    hess = fc.function([x], ft.hessian(op(x).sum(), x), mode=PY)
    # of sum(sin(x)) * sum(x), by central differences of its gradient cos(x_i) sum(x) + sum(sin(x))
    num = np.stack([_fd(lambda v, i=i: np.cos(v[i]) * v.sum() + np.sin(v).sum(), [xv])[0] for i in range(4)])
    np.testing.assert_allclose(hess(xv), num, atol=1e-6)


# -- Rop ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_op", [False, True])
def test_rop_of_the_graph(use_op: bool) -> None:
    a, m = ft.dvector("a"), ft.dmatrix("m")
    op = OpFromGraph([a, m], [ft.dot(a, m), -ft.dot(a, m)])
    x, w, du = ft.dvector("x"), ft.dmatrix("w"), ft.dvector("du")
    y0, y1 = op(x, w)
    outs = [fc.pushforward(y, x, du, use_op_pushforward=use_op) for y in (y0, y1, y0 + y1)]
    fn = fc.function([x, w, du], outs, on_unused_input="ignore", mode=PY)
    xv, wv, dv = RNG.normal(size=4), RNG.normal(size=(4, 4)), RNG.normal(size=4)
    got = fn(xv, wv, dv)
    for g, want in zip(got, [dv @ wv, -(dv @ wv), np.zeros(4)]):
        np.testing.assert_allclose(g, want, atol=1e-12)


@pytest.mark.parametrize("form", ["callable", "op", "list"])
def test_rop_override_is_used_with_the_op_implementation(form: str) -> None:
    x, y = ft.dvector("x"), ft.dvector("y")

    def ro(inputs, points):  # noqa: ANN001, ANN202
        (a, b), (u, v) = inputs, points
        return [u * b * 2.0 + a * v * 1.5]

    u, v = ft.dvector("u"), ft.dvector("v")
    override = {
        "callable": ro,
        "op": OpFromGraph([x, y, u, v], ro([x, y], [u, v])),
        "list": [lambda i, p: ro(i, p)[0]],
    }
    op = OpFromGraph([x, y], [x * y], rop_overrides=override[form])
    xx, yy, du, dv = (ft.dvector(n) for n in ("xx", "yy", "du", "dv"))
    zz = op(xx, yy) + 0.5 * xx
    custom = fc.Rop(zz, [xx, yy], [du, dv], use_op_rop_implementation=True)
    plain = fc.Rop(zz, [xx, yy], [du, dv])  # PyTensor's default: the override is not used
    fn = fc.function([xx, yy, du, dv], [custom, plain], mode=PY)
    a, b, c, d = RNG.normal(size=(4, 6))
    got_custom, got_plain = fn(a, b, c, d)
    np.testing.assert_allclose(got_custom, a * d * 1.5 + b * c * 2.0 + 0.5 * c, rtol=1e-12)
    np.testing.assert_allclose(got_plain, a * d + b * c + 0.5 * c, rtol=1e-12)


def test_rop_list_override_with_a_default_entry() -> None:
    x = ft.dvector("x")
    op = OpFromGraph([x], [x**2, ft.sin(x)], rop_overrides=["default", lambda i, p: 3.0 * p[0]])
    xx, dx = ft.dvector("xx"), ft.dvector("dx")
    r0, r1 = (fc.Rop(o, xx, dx, use_op_rop_implementation=True) for o in op(xx))
    xv, dv = RNG.normal(size=(2, 3))
    got = fc.function([xx, dx], [r0, r1], mode=PY)(xv, dv)
    np.testing.assert_allclose(got[0], 2 * xv * dv)
    np.testing.assert_allclose(got[1], 3 * dv)


class _Double(fc.Op):
    """A user's op with a grad and an R_op (which says 3: the one Rop uses shows)."""

    def make_node(self, x):  # noqa: ANN001, ANN201
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
        output_storage[0][0] = inputs[0] * 2

    def grad(self, inputs, output_grads):  # noqa: ANN001, ANN201
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):  # noqa: ANN001, ANN201
        return [eval_points[0] * 3]


def test_rop_uses_an_ops_own_r_op_only_when_asked() -> None:
    x, v = ft.dvector("x"), ft.dvector("v")
    y = ft.sin(_Double()(x))
    f = fc.function([x, v], [fc.Rop(y, x, v, use_op_rop_implementation=True), fc.Rop(y, x, v)], mode=PY)
    xv, vv = RNG.normal(size=(2, 3))
    with_r_op, through_grad = f(xv, vv)
    np.testing.assert_allclose(with_r_op, np.cos(2 * xv) * 3 * vv)
    np.testing.assert_allclose(through_grad, np.cos(2 * xv) * 2 * vv)


def test_rop_matches_central_differences() -> None:
    x, w = ft.dvector("x"), ft.dmatrix("w")
    op = OpFromGraph([x, w], [ft.tanh(ft.dot(w, x))])
    v = ft.dvector("v")
    f = fc.function([x, w, v], fc.Rop(op(x, w), x, v, use_op_rop_implementation=True))
    xv, wv, vv = RNG.normal(size=3), RNG.normal(size=(3, 3)), RNG.normal(size=3)
    eps = 1e-6
    want = (np.tanh(wv @ (xv + eps * vv)) - np.tanh(wv @ (xv - eps * vv))) / (2 * eps)
    np.testing.assert_allclose(f(xv, wv, vv), want, atol=1e-7)


# -- scan --------------------------------------------------------------------------------------


def test_op_in_a_scan_body_and_scan_in_an_op() -> None:
    h, w = ft.dvector("h"), ft.dmatrix("w")
    step = OpFromGraph([h, w], [ft.tanh(ft.dot(w, h))], name="step")
    h0 = ft.dvector("h0")
    states, _ = fc.scan(lambda hp, w: step(hp, w), outputs_info=[h0], non_sequences=[w], n_steps=3)
    loop = OpFromGraph([h0, w], [states[-1]], name="loop")
    f = fc.function([h0, w], [states[-1], loop(h0, w)])
    hv, wv = RNG.normal(size=3), RNG.normal(size=(3, 3)) / 2
    want = hv
    for _ in range(3):
        want = np.tanh(wv @ want)
    for got in f(hv, wv):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    fd_check_grads(
        [h0, w],
        {"op in scan": (lambda h0, w: states[-1], [0, 1]), "scan in op": (lambda h0, w: loop(h0, w), [0, 1])},
        [[hv, wv]],
    )


# -- identity, cache keys and pickles -----------------------------------------------------------


def test_equal_ops_share_a_cache_entry_and_different_ones_do_not() -> None:
    x, y = ft.dscalar("x"), ft.dscalar("y")
    a, b = ft.dscalar("a"), ft.dscalar("b")
    op1, op2 = OpFromGraph([x, y], [x + y * x]), OpFromGraph([a, b], [a + b * a])
    other = OpFromGraph([x, y], [x * y + x])
    assert op1 == op2 and hash(op1) == hash(op2) and op1 != other
    f1, f2, f3 = (fc.function([x, y], op(x, y)) for op in (op1, op2, other))
    assert f1.cache_key == f2.cache_key != f3.cache_key
    # overrides change gradients only: the forward function is the same
    with_lop = OpFromGraph([x, y], [x + y * x], lop_overrides=lambda i, o, g: [g[0], g[0]])
    assert fc.function([x, y], with_lop(x, y)).cache_key == f1.cache_key
    # two equal nodes on the same inputs merge (kept as nodes: one inner function runs)
    f = fc.function([x, y], [op1(x, y), op2(x, y)], mode=KEPT)
    assert _ops(f).count("OpFromGraph") == 1 and [float(v) for v in f(2.0, 3.0)] == [8.0, 8.0]


def test_a_script_keys_alike_in_fresh_processes(tmp_path) -> None:  # noqa: ANN001
    code = (
        "import fncache as fc, fncache.tensor as ft\n"
        "x = ft.dvector('x'); s = fc.shared(1.0, name='s')\n"
        "op = fc.OpFromGraph([x], [ft.exp(x) * s], lop_overrides=lambda i, o, g: [g[0], g[0].sum()])\n"
        "print(fc.function([x], fc.grad(op(x).sum(), x) + op(x)).cache_key)\n"
    )
    assert len(keys_in_fresh_processes(code, tmp_path / "cd", 2)) == 1


@pytest.mark.parametrize("mode", [None, KEPT], ids=["inline", "kept"])
def test_pickles(mode: fc.Mode | None) -> None:
    x = ft.dvector("x")
    s = fc.shared(np.arange(3.0), name="s")
    op = OpFromGraph([x], [ft.exp(x) + s], lop_overrides=lambda i, o, g: [g[0] * 2.0, g[0]], name="expo")
    back = pickle.loads(pickle.dumps(op))
    assert back == op and back.name == "expo" and str(back) == str(op)
    # its overrides travel with it
    np.testing.assert_allclose(fc.grad(back(x).sum(), x).eval({x: np.ones(3)}), [2.0, 2.0, 2.0])
    f = fc.function([x], op(x) * 2.0, mode=mode)
    g = fc.loads(fc.dumps(f))
    xv = RNG.normal(size=3)
    np.testing.assert_allclose(g(xv), f(xv))
    np.testing.assert_allclose(pickle.loads(pickle.dumps(f))(xv), (np.exp(xv) + np.arange(3.0)) * 2.0)


# -- errors ------------------------------------------------------------------------------------


def test_bad_construction_is_refused_clearly() -> None:
    x, y = ft.dmatrix("x"), ft.dmatrix("y")
    with pytest.raises(TypeError, match="inputs must be a list"):
        OpFromGraph(x, [x])
    with pytest.raises(TypeError, match=r"outputs\[0\] must be a symbolic variable"):
        OpFromGraph([x], [1])
    with pytest.raises(NotImplementedError, match="updates and givens"):
        OpFromGraph([x], [x], updates={})
    with pytest.raises(TypeError, match="unexpected arguments.*'bogus'"):
        OpFromGraph([x], [x], bogus=1)
    with pytest.raises(ValueError, match="not among the inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(ValueError, match="lop_overrides or pullback"):
        OpFromGraph([x], [x], lop_overrides=lambda *a: a, pullback=lambda *a: a)
    with pytest.raises(TypeError, match=r"lop_overrides\[0\] must be"):
        OpFromGraph([x], [x], lop_overrides=[3])
    with pytest.raises(ValueError, match="only string entry is 'default'"):
        OpFromGraph([x], [x], lop_overrides=["defualt"])
    with pytest.raises(ValueError, match="connection_pattern must be 1 lists"):
        OpFromGraph([x], [x], connection_pattern=[[True], [True]])


def test_bad_calls_name_the_op_the_position_and_the_types() -> None:
    x, y = ft.dmatrix("x"), ft.dvector("y")
    op = OpFromGraph([x, y], [x + y], name="affine")
    with pytest.raises(TypeError, match=r"affine\{inline=False\}: expected 2 inputs, got 1"):
        op(x)
    with pytest.raises(TypeError, match=r"input 1 \(y\) must be .*float64.*got .*float32.*ft\.cast"):
        op(x, ft.fvector())
    with pytest.raises(TypeError, match=r"input 0 \(x\) must be .*got .*reshape"):
        op(y, y)
    v = ft.TensorType("float64", (3,))("v")
    op3 = OpFromGraph([v], [v * 2.0])
    with pytest.raises(TypeError, match="static shape"):
        op3(ft.TensorType("float64", (4,))())
    # an unknown size is checked when the function runs
    z = ft.dvector("z")
    f = fc.function([z], op3(z))
    np.testing.assert_allclose(f(np.ones(3)), [2.0, 2.0, 2.0])
    with pytest.raises(Exception):  # noqa: B017  (the shape check's own error)
        f(np.ones(4))


def test_bad_override_results_are_refused_when_the_gradient_is_built() -> None:
    x = ft.dvector("x")
    z = ft.dvector("z")
    op = OpFromGraph([x], [x * 2.0], lop_overrides=lambda i, o, g: [g[0], g[0]])
    with pytest.raises(ValueError, match="returned 2 gradients for 1 inputs"):
        fc.grad(op(z).sum(), z)
    op = OpFromGraph([x], [x * 2.0], lop_overrides=lambda i, o, g: g[0])
    with pytest.raises(TypeError, match="must return a list"):
        fc.grad(op(z).sum(), z)
    op = OpFromGraph([x], [x * 2.0], lop_overrides=lambda i, o, g: [ft.dmatrix()])
    with pytest.raises(ValueError, match="does not match the variable's"):
        fc.grad(op(z).sum(), z)


# -- the names PyTensor 3 has -------------------------------------------------------------------


def test_pytensor_names() -> None:
    from fncache.compile.builders import OpFromGraph as from_builders
    from fncache.graph import clone, equal_computations, explicit_graph_inputs

    assert fc.OpFromGraph is OpFromGraph is from_builders is fc.compile.OpFromGraph
    assert fc.get_mode("FAST_COMPILE").optimizer == "fast_compile"

    @fc.wrap_py(itypes=[ft.dvector], otypes=[ft.dvector])
    def twice(v):  # noqa: ANN001, ANN202
        return v * 2

    x, y = ft.dvector("x"), ft.dvector("y")
    np.testing.assert_array_equal(twice(x).eval({x: np.arange(3.0)}), [0.0, 2.0, 4.0])
    assert fc.compile.ops.wrap_py is fc.wrap_py
    s = fc.shared(1.0)
    e = x * 2 + y + s + 1.0
    assert list(explicit_graph_inputs(e)) == [x, y]
    assert equal_computations([x * 2 + 1], [x * 2 + 1]) and not equal_computations([x * 2], [y * 2])
    assert equal_computations([x * 2], [y * 2], [x], [y])
    (x2,), (e2,) = clone([x], [e])
    assert x2 is not x and equal_computations([e2], [e], [x2], [x])
    w, v = ft.dvector("w"), ft.dvector("v")
    out = ft.sin(w)
    vals = {w: np.array([0.5, 1.0]), v: np.array([2.0, 3.0])}
    np.testing.assert_allclose(fc.pullback(out, w, v).eval(vals), np.cos([0.5, 1.0]) * [2.0, 3.0])
    np.testing.assert_allclose(fc.pushforward(out, w, v).eval(vals), np.cos([0.5, 1.0]) * [2.0, 3.0])


def test_against_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    xv, wv = RNG.normal(size=3), RNG.normal(size=(3, 3))
    results = []
    # PyTensor's side inline on its Python linker: its C compiles would take seconds
    for lib, t, mode in ((pytensor, pt, pytensor.Mode(linker="py")), (fc, ft, None)):
        x, w = t.dvector("x"), t.dmatrix("w")
        op = lib.OpFromGraph([x, w], [t.tanh(t.dot(w, x)), t.exp(x)], inline=True)
        a, b = op(x, w)
        cost = (a * b).sum()
        results.append(lib.function([x, w], [a, b, *lib.grad(cost, [x, w])], mode=mode)(xv, wv))
    for mine, theirs in zip(*results[::-1]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
