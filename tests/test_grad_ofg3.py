"""`fc.OpFromGraph` shapes and gradient overrides against the cache, second derivatives of
complex parameters (refused, as PyTensor gives none), second-order gradients through
``ft.optimize``'s solutions against differences of the first, and the cases of PyTensor's
``tests/test_gradient.py`` that failed here (placeholders in ``known_grads``, tuples of
``wrt``, ``Rop`` through zero derivatives, connection patterns, ``subgraph_grad``)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import DisconnectedInputError, NullTypeGradError
from fncache.gradient import DisconnectedType, NullType
from fncache.tensor.op_from_graph import OpFromGraph

PY = fc.Mode(linker="py")
#: the op's nodes kept, each running its graph as an inner function
KEPT = fc.Mode(linker="c").excluding("inline_op_from_graph")
MODES = pytest.mark.parametrize("mode", [None, PY, KEPT], ids=["inline", "py", "kept"])
RNG = np.random.default_rng(20261203)


def _ops(f: fc.Function) -> list[str]:
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


# -- OpFromGraph: shapes -------------------------------------------------------------------------


def test_shape_of_an_inline_op_is_the_shape_of_the_graph_written_out() -> None:
    """Put inline, the op's output shape compiles to the nodes the graph written out gives (shapes are those of computed values, docs/porting.md): no inner function runs."""
    x, y = ft.dmatrix("x"), ft.dmatrix("y")
    op = OpFromGraph([x, y], [ft.dot(ft.exp(x), y)])
    f = fc.function([x, y], op(x, y).shape)
    written = fc.function([x, y], ft.dot(ft.exp(x), y).shape)
    assert "OpFromGraph" not in _ops(f)
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == [
        str(n.op) for n in written.maker.fgraph.toposort()
    ]
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.ones((3, 5))), [2, 5])


def test_shape_of_a_kept_op_runs_its_graph_and_refuses_what_the_graph_refuses() -> None:
    x, y = ft.dmatrix("x"), ft.dmatrix("y")
    op = OpFromGraph([x, y], [ft.exp(x) + y])
    f = fc.function([x, y], op(x, y).shape, mode=KEPT)
    assert _ops(f) == ["OpFromGraph", "Shape"]
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.ones((1, 3))), [2, 3])
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((4, 3)))


# -- OpFromGraph: overrides are not part of the identity, yet never share a gradient ------------


def _sines() -> tuple[ft.TensorVariable, list[OpFromGraph]]:
    """Three equal ops (one graph, ``sin``) whose gradients are 1, 2 and 3 times the true one."""
    x = ft.dvector("x")

    def scaled(c: float):  # noqa: ANN202
        return None if c == 1.0 else (lambda i, o, g: [c * ft.cos(i[0]) * g[0]])

    return x, [OpFromGraph([x], [ft.sin(x)], lop_overrides=scaled(c)) for c in (1.0, 2.0, 3.0)]


@MODES
def test_equal_ops_with_other_overrides_give_their_own_gradients(mode: fc.Mode | None) -> None:
    """The ops are equal (one forward function, one cache entry), but each gradient is built
    from its own op's override, in one function or in several, nested, unpickled, through
    ``jacobian``/``hessian`` and through ``scan``."""
    _, ops = _sines()
    assert ops[0] == ops[1] == ops[2]
    v, m = ft.dvector("v"), ft.dmatrix("m")
    xv = RNG.normal(size=(4, 3))
    nested = [OpFromGraph([v], [op(v) * 2.0]) for op in ops]
    assert nested[0] == nested[1]
    unpickled = [pickle.loads(pickle.dumps(op)) for op in ops]
    scans = [fc.scan(lambda a, op=op: op(a), sequences=[m])[0] for op in ops]
    builders = {
        "grad": (lambda op: fc.grad(op(v).sum(), v), np.cos(xv[0])),
        "nested": (lambda k: fc.grad(nested[k](v).sum(), v), 2 * np.cos(xv[0])),
        "unpickled": (lambda k: fc.grad(unpickled[k](v).sum(), v), np.cos(xv[0])),
        "jacobian": (lambda op: ft.jacobian(op(v), v), np.diag(np.cos(xv[0]))),
        "hessian": (lambda op: ft.hessian(op(v).sum(), v), np.diag(-np.sin(xv[0]))),
        "scan": (lambda k: fc.grad(scans[k].sum(), m), np.cos(xv)),
    }
    by_index = {"nested", "unpickled", "scan"}
    outs, wants = [], []
    for name, (build, base) in builders.items():
        for k, op in enumerate(ops):
            outs.append(build(k if name in by_index else op))
            wants.append((k + 1) * base)
    together = fc.function([v, m], outs, mode=mode, on_unused_input="ignore")
    for got, want in zip(together(xv[0], xv), wants):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # one function each: equal forward graphs, yet no gradient comes from another's entry
    for k in range(3):
        alone = fc.function([v], fc.grad(ops[k](v).sum(), v), mode=mode)
        np.testing.assert_allclose(alone(xv[0]), (k + 1) * np.cos(xv[0]), rtol=1e-12)
    forward = {fc.function([v], op(v), mode=mode).cache_key for op in ops}
    assert len(forward) == 1


@MODES
def test_equal_ops_with_other_rop_overrides_give_their_own_products(mode: fc.Mode | None) -> None:
    x, p = ft.dvector("x"), ft.dvector("p")
    ops = [
        OpFromGraph([x], [ft.sin(x)], rop_overrides=lambda i, q, c=c: [c * ft.cos(i[0]) * q[0]])
        for c in (1.0, 2.0)
    ]
    assert ops[0] == ops[1]
    outs = [fc.Rop(op(x), x, p, use_op_rop_implementation=True) for op in ops]
    f = fc.function([x, p], outs, mode=mode)
    xv, pv = RNG.normal(size=(2, 5))
    for k, got in enumerate(f(xv, pv)):
        np.testing.assert_allclose(got, (k + 1) * np.cos(xv) * pv, rtol=1e-12)


# -- second derivatives in complex variables: refused, as PyTensor refuses them ------------------


def _complex_cases() -> dict[str, tuple]:
    z, x, c = ft.zvector("z"), ft.dvector("x"), ft.cvector("c")
    s = ft.zscalar("s")
    cost = ft.sum(ft.abs(z * z - 1) ** 2 + ft.real(ft.exp(z))) + ft.sum(x**2)
    return {
        "hessian": (lambda: ft.hessian(cost, z), "hessian", "complex128"),
        "hessian vectorized": (lambda: ft.hessian(cost, z, vectorize=True), "hessian", "complex128"),
        "hessian in a list": (lambda: ft.hessian(cost, [x, z]), "hessian", "complex128"),
        "fc.gradient.hessian": (lambda: fc.gradient.hessian(cost, z), "hessian", "complex128"),
        "jacobian": (lambda: ft.jacobian(z * z, z), "jacobian", "complex128"),
        "jacobian vectorized": (lambda: ft.jacobian(z * z, z, vectorize=True), "jacobian", "complex128"),
        "jacobian in a list": (lambda: ft.jacobian(z * x, [x, z]), "jacobian", "complex128"),
        "jacobian complex64": (lambda: ft.jacobian(c**2, c), "jacobian", "complex64"),
        "jacobian of a scalar": (lambda: ft.jacobian(s**2, s), "jacobian", "complex128"),
    }


@pytest.mark.parametrize("case", list(_complex_cases()))
def test_complex_second_derivatives_are_refused_naming_function_dtype_and_fix(case: str) -> None:
    build, name, dtype = _complex_cases()[case]
    with pytest.raises(TypeError, match=rf"^{name}: .*{dtype}.*ft\.jacobian\(ft\.real\(.*ft\.imag\("):
        build()


def test_pytensor_refuses_them_too() -> None:
    """The refusals follow PyTensor, whose ``hessian`` and ``jacobian`` give no answer here
    (so there is none to match)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    z = pt.zvector("z")
    cost = (pt.real(z) ** 2 * pt.imag(z)).sum()
    for build in (lambda: pytensor.gradient.hessian(cost, z), lambda: pytensor.gradient.jacobian(z * z, z)):
        with pytest.raises((TypeError, AssertionError)):
            build()


# -- ft.optimize: second derivatives of a solution -----------------------------------------------


def _fd_rows(fn, p: np.ndarray, eps: float = 1e-4) -> np.ndarray:  # noqa: ANN001
    """Central differences of the gradient ``fn(p)`` (a whole solve and its implicit gradient,
    accurate to about 1e-9): ``out.shape + p.shape``, to about 1e-5 of its size."""
    cols = []
    for idx in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[idx] += eps
        down[idx] -= eps
        cols.append((np.asarray(fn(up)) - np.asarray(fn(down))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(fn(p)) + p.shape)


@pytest.mark.parametrize("mode", [None, PY], ids=["c", "py"])
def test_hessian_of_a_minimum_in_its_parameters_matches_differences_of_its_gradient(
    mode: fc.Mode | None,
) -> None:
    """The implicit gradient is itself a graph of the solution and the parameters (its linear
    solve included), so differentiating it again gives the second derivatives: ``hessian`` in
    one parameter and ``grad`` of a gradient across two."""
    x, a, b = ft.dvector("x"), ft.dvector("a"), ft.dscalar("b")
    obj = ((x - a) ** 2).sum() + b * (x**4).sum() + (x[:-1] * x[1:]).sum() * 0.1
    sol, _ = ft.optimize.minimize(obj, x, optimizer_kwargs={"tol": 1e-12})
    cost = (ft.sin(sol) * ft.arange(1, 4)).sum() + (sol**2).sum() * b
    ga, gb = fc.grad(cost, [a, b])
    f = fc.function([x, a, b], [ga, gb, ft.hessian(cost, a), *fc.grad(gb, [a, b])], mode=mode)
    x0, a0, b0 = np.zeros(3), np.array([1.0, -2.0, 0.5]), 0.7
    _, _, h_aa, h_ba, h_bb = f(x0, a0, b0)
    np.testing.assert_allclose(h_aa, _fd_rows(lambda p: f(x0, p, b0)[0], a0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h_ba, _fd_rows(lambda p: f(x0, p, b0)[1], a0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h_bb, _fd_rows(lambda p: f(x0, a0, float(p))[1], np.array(b0)), rtol=1e-4)
    np.testing.assert_allclose(h_aa, h_aa.T, atol=1e-8)


def test_hessian_of_a_root_in_its_parameters_matches_differences_of_its_gradient() -> None:
    y, c = ft.dvector("y"), ft.dvector("c")
    r, _ = ft.optimize.root(y**3 + y - c + 0.1 * y[::-1], y, optimizer_kwargs={"tol": 1e-12})
    cost = (ft.exp(r) * c).sum()
    f = fc.function([y, c], [fc.grad(cost, c), ft.hessian(cost, c)])
    y0, c0 = np.zeros(3), np.array([0.5, 1.5, -0.3])
    np.testing.assert_allclose(f(y0, c0)[1], _fd_rows(lambda p: f(y0, p)[0], c0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["minimize_scalar", "root_scalar"])
def test_second_derivative_of_a_scalar_solution(kind: str) -> None:
    s, t = ft.dscalar("s"), ft.dscalar("t")
    if kind == "minimize_scalar":
        sol, _ = ft.optimize.minimize_scalar((s - t) ** 2 + s**4, s, optimizer_kwargs={"tol": 1e-12})
    else:
        sol, _ = ft.optimize.root_scalar(
            s**3 + s - t, s, method="newton", jac=True, optimizer_kwargs={"xtol": 1e-14}
        )
    g = fc.grad(ft.exp(sol) * t, t)
    f = fc.function([s, t], [g, fc.grad(g, t)])
    np.testing.assert_allclose(
        f(0.0, 0.8)[1], _fd_rows(lambda p: f(0.0, float(p))[0], np.array(0.8)), rtol=1e-4
    )


# -- PyTensor's tests/test_gradient.py cases -------------------------------------------------------


def test_hessian_vector_product_reads_no_value_it_does_not_need() -> None:
    """PyTensor's ``test_multiple_wrt``: ``x`` and ``y`` do not matter to the product of
    ``(x**2 - y**2).sum()``'s Hessian with ``p`` (NaN there gives the product), nor to the
    Hessian itself: the gradient a broadcast (``fill``) sends to the variable giving only its
    shape is none, not zeros times a derivative that may be NaN."""
    x, y, px, py = (ft.dvector(n) for n in ("x", "y", "p_x", "p_y"))
    cost = (x**2 - y**2).sum()
    hx, hy = ft.hessian_vector_product(cost, wrt=[x, y], p=[px, py])
    f = fc.function([x, y, px, py], [hx, hy, ft.hessian(cost, x)], on_unused_input="ignore")
    got = f(np.full(3, np.nan), np.full(3, np.nan), [1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    np.testing.assert_allclose(got[0], [2, 4, 6])
    np.testing.assert_allclose(got[1], [-6, -4, -2])
    np.testing.assert_allclose(got[2], 2 * np.eye(3))


@pytest.mark.parametrize("kind", ["null", "disconnected"])
def test_known_grads_placeholders(kind: str) -> None:
    """PyTensor's ``test_undefined_cost_grad`` and ``test_disconnected_cost_grad``: a known
    gradient that is undefined (``NullType()()``) raises ``NullTypeGradError`` naming the
    variable; a disconnected one (``DisconnectedType()()``) leaves the variables it reaches
    disconnected: ``DisconnectedInputError`` under ``disconnected_inputs="raise"``, zeros
    under ``"ignore"``, and the other known gradients still count."""
    x, y, w = ft.dscalar("x"), ft.dscalar("y"), ft.dscalar("w")
    cost = x + y
    other = w * 3.0
    if kind == "null":
        with pytest.raises(NullTypeGradError, match=r"known_grads.*add"):
            fc.grad(cost, [x, y], known_grads={cost: NullType("no reason")()})
        # none reaching the variables asked for: nothing is undefined
        gw = fc.grad(None, w, known_grads={cost: NullType()(), other: ft.constant(2.0)})
        assert float(fc.function([], gw)()) == 6.0
        return
    with pytest.raises(DisconnectedInputError):
        fc.grad(cost, [x, y], known_grads={cost: DisconnectedType()()}, disconnected_inputs="raise")
    gx, gw = fc.grad(
        None,
        [x, w],
        known_grads={cost: DisconnectedType()(), other: ft.constant(2.0)},
        disconnected_inputs="ignore",
    )
    f = fc.function([x, w], [gx, gw], on_unused_input="ignore")
    assert [float(v) for v in f(1.0, 1.0)] == [0.0, 6.0]


def test_jacobian_keeps_the_container_it_is_given() -> None:
    """PyTensor's ``test_jacobian_vector``: a tuple of variables gives a tuple, a list a
    list, a variable a variable (as ``grad``)."""
    x = ft.dvector("x")
    y = x * 2
    assert isinstance(ft.jacobian(y, (x,)), tuple) and isinstance(ft.jacobian(y, [x]), list)
    assert isinstance(fc.grad(y.sum(), (x,)), tuple) and isinstance(fc.grad(y.sum(), [x]), list)
    f = fc.function([x], ft.jacobian(y, (x,))[0])
    np.testing.assert_allclose(f(np.arange(4.0)), 2 * np.eye(4))


@pytest.mark.parametrize("use_op", [False, True])
def test_rop_through_a_zero_derivative_is_zero_not_disconnected(use_op: bool) -> None:
    """PyTensor's ``TestZeroGrad.test_rop``: ``zero_grad(x)`` stays connected to ``x`` (as
    ``grad`` has it), so its product is zeros; so are those of ``round``, ``sign`` and an
    integer step (PyTensor's too). A variable reached only through ``disconnected_grad``, or
    not at all, is still disconnected."""
    x, v, z = ft.dvector("x"), ft.dvector("v"), ft.dvector("z")
    steps = [fc.gradient.zero_grad(x), ft.round(x), ft.sign(x), ft.cast(ft.argmax(x), "float64") * x[0] * 0]
    outs = fc.Rop(steps, x, v, use_op_rop_implementation=use_op)
    f = fc.function([x, v], outs, on_unused_input="ignore")
    for got in f(np.array([0.5, -1.5, 2.0]), np.ones(3)):
        assert not np.any(got)
    for cut in (fc.gradient.disconnected_grad(x), z * 2):
        with pytest.raises(DisconnectedInputError, match="does not depend on any of wrt"):
            fc.Rop(cut, x, v, use_op_rop_implementation=use_op)


def test_disconnected_grad_inside_an_op_from_graph_stays_disconnected() -> None:
    """PyTensor's ``TestDisconnectedGrad.test_connection_pattern``: the marker's pattern is
    ``[[False]]``, so an ``OpFromGraph`` whose output reaches an input only through it is
    disconnected from it as the graph written out is (it used to give zeros silently)."""
    x, v, w = ft.dvector("x"), ft.dvector("v"), ft.dvector("w")
    marked = fc.gradient.disconnected_grad(x)
    assert marked.owner.op.connection_pattern(marked.owner) == [[False]]
    op = OpFromGraph([x, w], [fc.gradient.disconnected_grad(x) * 2 + w])
    assert op.connection_pattern(None) == [[False], [True]]
    for cost in (op(v, w).sum(), (fc.gradient.disconnected_grad(v) * 2 + w).sum()):
        with pytest.raises(DisconnectedInputError):
            fc.grad(cost, v)
        gv, gw = fc.grad(cost, [v, w], disconnected_inputs="ignore")
        f = fc.function([v, w], [gv, gw])
        got = f(np.ones(3), np.ones(3))
        np.testing.assert_array_equal(got[0], np.zeros(3))
        np.testing.assert_array_equal(got[1], np.ones(3))


def test_subgraph_grad_layer_by_layer_equals_the_full_gradient() -> None:
    """PyTensor's ``test_subgraph_grad``: two layers' parameter gradients taken one part at
    a time (each part's ``end`` gradients starting the next) equal the whole gradient."""
    rng = np.random.default_rng(5)
    w1, w2 = fc.shared(rng.normal(size=(3, 4)), name="w1"), fc.shared(rng.normal(size=(4, 2)), name="w2")
    x, t = ft.dvector("x"), ft.dvector("t")
    a1 = ft.tanh(ft.dot(x, w1))
    a2 = ft.tanh(ft.dot(a1, w2))
    cost2 = ft.sqr(a2 - t).sum() + ft.sqr(w2.sum())
    cost1 = ft.sqr(w1.sum())
    whole = fc.function([t, x], fc.grad(cost2 + cost1, [w2, w1]))
    start, parts = None, []
    for params, end, cost in (([w2], [a1], cost2), ([w1], [x], cost1)):
        g, ends = fc.gradient.subgraph_grad(wrt=params, end=end, start=start, cost=cost)
        start = dict(zip(end, ends))
        parts.extend(g)
    g, ends, from_start, from_cost = fc.gradient.subgraph_grad(
        [w1], [x], start=start, cost=cost1, details=True
    )
    assert len(from_start) == len(from_cost) == 2
    vals = [rng.normal(size=2), rng.normal(size=3)]
    for want, got in zip(whole(*vals), fc.function([t, x], parts)(*vals)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="subgraph_grad: give cost, start"):
        fc.gradient.subgraph_grad([w1], [x])
    with pytest.raises(TypeError, match="subgraph_grad: wrt must be a list"):
        fc.gradient.subgraph_grad(w1, [x], cost=cost1)


def test_an_output_an_op_says_is_not_connected_needs_no_gradient() -> None:
    """PyTensor's ``test_disconnected_nan``: ``x`` reaches ``f`` but not ``g`` (``Op1``'s
    ``connection_pattern``), so ``Op2``'s undefined gradient for ``g`` is never asked for."""

    class Op1(fc.Op):
        __props__ = ()

        def make_node(self, x):  # noqa: ANN001, ANN202
            return fc.Apply(self, [x], [x.type(), ft.dscalar()])

        def connection_pattern(self, node):  # noqa: ANN001, ANN202
            return [[True, False]]

        def grad(self, inputs, output_grads):  # noqa: ANN001, ANN202
            return [inputs[0] * 0 + output_grads[0]]

        def perform(self, node, inputs, outputs):  # noqa: ANN001, ANN202
            outputs[0][0], outputs[1][0] = inputs[0] * 2, np.asarray(1.0)

    class Op2(fc.Op):
        __props__ = ()

        def make_node(self, f, g):  # noqa: ANN001, ANN202
            return fc.Apply(self, [f, g], [ft.dscalar()])

        def grad(self, inputs, output_grads):  # noqa: ANN001, ANN202
            return [ft.ones_like(inputs[0]) * output_grads[0], NullType("g has none")()]

        def perform(self, node, inputs, outputs):  # noqa: ANN001, ANN202
            outputs[0][0] = np.asarray(inputs[0].sum() * inputs[1])

    x = ft.dvector("x")
    f, g = Op1()(x)
    gx = fc.grad(Op2()(f, g), x)
    np.testing.assert_allclose(fc.function([x], gx, mode=PY)(np.arange(3.0)), np.ones(3))
    # where the undefined gradient is needed, it still raises
    with pytest.raises(NullTypeGradError, match="g has none"):
        fc.grad(Op2()(x.sum(), x.sum()), x)
