"""Theano/PyTensor module paths and names a ported script reaches for: ``fncache.gradient``,
``fc.map``/``reduce``/``foldl``/``foldr``/``scan_checkpoints``, ``fncache.compile``, the
graph classes with a user's own ``Op`` subclass (Theano's "Creating a new Op" tutorial),
``fc.clone``, ``fc.function(profile=...)``, ``config.compute_test_value`` and the constant
helpers. Each computes what Theano's does, checked against numpy and finite differences."""

from __future__ import annotations

import io
import pickle
import sys
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import Apply, Op

from fcutil import fd_check_grads, fd_jacobian, run_python, script_function_in_a_fresh_process

MODES = ["FAST_RUN", "FAST_COMPILE"]


# -- fncache.gradient --------------------------------------------------------------------------
def test_gradient_module_paths() -> None:
    import fncache.gradient as G
    from fncache.gradient import DisconnectedInputError, NullTypeGradError, grad

    assert fc.gradient is G is sys.modules["fncache.gradient"]
    assert grad is fc.grad is ft.grad
    for name in ("Rop", "Lop", "jacobian", "hessian", "verify_grad", "zero_grad", "grad_clip"):
        assert getattr(G, name) is getattr(ft, name), name
    for name in ("disconnected_grad", "grad_scale", "consider_constant"):
        assert getattr(G, name) is getattr(ft, name), name
    # the errors keep the clauses written against fncache's earlier ones working
    assert issubclass(DisconnectedInputError, ValueError)
    assert issubclass(NullTypeGradError, NotImplementedError) and issubclass(NullTypeGradError, TypeError)


def test_scalar_module_upcast_is_the_dtype_elementwise_ops_give() -> None:
    """``theano.scalar.upcast``, as the HMC tutorial averages a bool acceptance with it
    (``accept.mean(dtype=theano.scalar.upcast(accept.dtype, rate.dtype))``)."""
    import fncache.scalar as S

    assert fc.scalar is S is sys.modules["fncache.scalar"]
    assert S.upcast("bool", "float64") == "float64"
    assert S.upcast("int8", "int16") == "int16"
    assert S.upcast("float32") == "float32"
    assert S.upcast(np.dtype("int64"), "float32", np.float32) == "float64"
    for a, b in [("bool", "float32"), ("uint8", "int8"), ("int32", "float32"), ("int64", "complex64")]:
        assert S.upcast(a, b) == (ft.tensor(dtype=a, shape=()) + ft.tensor(dtype=b, shape=())).dtype
    with pytest.raises(TypeError, match=r"upcast: unsupported dtype 'object'"):
        S.upcast("float64", "object")
    with pytest.raises(TypeError, match=r"upcast: give at least one dtype"):
        S.upcast()


def test_function_takes_theanos_argument_order_and_no_outputs() -> None:
    """``function(inputs, outputs=None, mode=None, updates=None, givens=None,
    no_default_updates=False)`` in Theano's and PyTensor's order: ``function([x], y, mode)``,
    and ``function([], updates=...)`` (the RNN tutorial's ``normalize``) returning []."""
    x = ft.dscalar("x")
    emb = fc.shared(np.array([[3.0, 4.0], [0.0, 2.0]]), name="emb")
    normalize = fc.function(inputs=[], updates={emb: emb / ft.sqrt((emb**2).sum(axis=1)).dimshuffle(0, "x")})
    assert normalize() == []
    np.testing.assert_allclose(emb.get_value(), [[0.6, 0.8], [0.0, 1.0]])
    py = fc.Mode(linker="py")
    f = fc.function([x], x * 2, py)
    assert f.mode.linker == "py" and f(3.0) == 6.0
    s = fc.shared(1.0, name="s")
    g = fc.function([x], s * x, "FAST_COMPILE", [(s, s + x)], {x: x + 1}, True)
    assert g(1.0) == 2.0 and s.get_value() == 3.0
    with pytest.raises(TypeError, match=r"positional"):
        fc.function([x], x, None, None, None, False, "name")


def test_nanguardmode_by_name_as_theanos_mode_flag() -> None:
    """Theano took ``mode='NanGuardMode'`` (and ``THEANO_FLAGS=mode=NanGuardMode``, the usual
    way to find where a NaN comes from): NanGuardMode() with every check on."""
    x = ft.dvector("x")
    f = fc.function([x], ft.log(x) * 2, mode="NanGuardMode")
    np.testing.assert_allclose(f(np.array([1.0, np.e])), [0.0, 2.0])
    with pytest.raises(AssertionError, match=r"NaN"):
        f(np.array([-1.0]))
    assert fc.get_mode("nanguardmode") == fc.NanGuardMode()
    old = fc.config.mode
    try:
        fc.config.mode = "NanGuardMode"
        assert fc.config.mode == "NanGuardMode"
        with pytest.raises(AssertionError, match=r"NaN"):
            fc.function([x], ft.log(x))(np.array([-1.0]))
    finally:
        fc.config.mode = old
    with pytest.raises(ValueError, match=r"NanGuardMode"):
        fc.function([x], x, mode="NanGuard")


def test_grad_takes_theanos_spellings_of_return_disconnected() -> None:
    """Theano spells ``return_disconnected`` 'zero', 'None' and 'Disconnected', PyTensor all
    lower case: both are taken, by ``grad`` and ``Lop`` ('disconnected' gives PyTensor's
    placeholder, a ``DisconnectedType`` variable)."""
    x, c = ft.dvector("x"), ft.dscalar("c")
    cost = (x**2).sum()
    for spelling in ("None", "none", "Disconnected", "disconnected"):
        gx, gc = fc.grad(cost, [x, c], disconnected_inputs="ignore", return_disconnected=spelling)
        lc = fc.gradient.Lop(x**2, [x, c], x, disconnected_inputs="ignore", return_disconnected=spelling)[1]
        for got in (gc, lc):
            if spelling.lower() == "none":
                assert got is None
            else:
                assert isinstance(got.type, fc.gradient.DisconnectedType)
        assert gx is not None
    gz = fc.grad(cost, [x, c], disconnected_inputs="ignore", return_disconnected="Zero")[1]
    assert fc.function([c], gz, on_unused_input="ignore")(2.0) == 0.0
    with pytest.raises(
        ValueError, match=r"grad: return_disconnected must be one of 'zero', 'none', 'disconnected'"
    ):
        fc.grad(cost, [x, c], disconnected_inputs="ignore", return_disconnected="nothing")


def test_gradient_module_computes() -> None:
    G = fc.gradient
    x, v = ft.dvector("x"), ft.dvector("v")
    y = ft.sin(x) * x
    cost = y.sum()
    f = fc.function(
        [x, v],
        [
            G.grad(cost, x),
            G.jacobian(y, x),
            G.hessian(cost, x),
            G.Rop(y, x, v),
            G.Lop(y, x, v),
            G.grad((G.disconnected_grad(x) * x).sum(), x),
            G.grad((G.zero_grad(x) * x).sum(), x),
            G.grad(G.grad_clip(x, -0.5, 0.5).sum() * 3, x),
            G.grad(G.grad_scale(x, 2.0).sum(), x),
            G.grad((G.consider_constant(x) ** 2).sum() + x.sum(), x),
        ],
    )
    xv, vv = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    d = np.cos(xv) * xv + np.sin(xv)
    dd = -np.sin(xv) * xv + 2 * np.cos(xv)
    got = f(xv, vv)
    np.testing.assert_allclose(got[0], d, rtol=1e-12)
    np.testing.assert_allclose(got[1], np.diag(d), rtol=1e-12)
    np.testing.assert_allclose(got[2], np.diag(dd), rtol=1e-12)
    np.testing.assert_allclose(got[3], d * vv, rtol=1e-12)
    np.testing.assert_allclose(got[4], d * vv, rtol=1e-12)
    np.testing.assert_allclose(got[5], xv, rtol=1e-12)
    np.testing.assert_allclose(got[6], xv, rtol=1e-12)
    np.testing.assert_array_equal(got[7], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(got[8], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(got[9], [1.0, 1.0, 1.0])
    # the Jacobian matches central differences, as any gradient
    np.testing.assert_allclose(
        got[1], fd_jacobian(lambda a: np.sin(a) * a, [xv.copy()], 0), rtol=1e-6, atol=1e-7
    )


def test_gradient_errors_under_theano_names() -> None:
    from fncache.gradient import DisconnectedInputError, NullTypeGradError

    x, z = ft.dvector("x"), ft.dvector("z")
    with pytest.raises(DisconnectedInputError, match="does not depend on z"):
        fc.grad(x.sum(), z)
    with pytest.raises(ValueError, match="does not depend on z"):  # an older except clause
        fc.grad(x.sum(), z)
    with pytest.raises(DisconnectedInputError):
        fc.gradient.Rop(x * 2, z, np.ones(2))
    no_grad = ft.as_op([ft.dvector], [ft.dvector])(lambda a: a * 2)
    for clause in (NullTypeGradError, NotImplementedError, TypeError):
        with pytest.raises(clause, match="has no gradient"):
            fc.grad(no_grad(x).sum(), x)


def test_gradient_module_verify_grad() -> None:
    fc.gradient.verify_grad(lambda a: ft.exp(a) * a, [np.array([0.1, -0.4])], rng=0)
    wrong = ft.as_op([ft.dvector], [ft.dvector], grad=lambda i, g: [g[0] * 3.0])(lambda a: a * 2)
    with pytest.raises(fc.GradientError):
        fc.gradient.verify_grad(lambda a: wrong(a), [np.array([0.1, -0.4])], rng=0)


# -- map, reduce, foldl, foldr ------------------------------------------------------------------
def test_scan_views_are_theanos_names() -> None:
    assert {"foldl", "foldr", "scan_checkpoints"} <= set(fc.__all__)
    assert not {"map", "reduce", "compile"} & set(fc.__all__)  # a star import keeps Python's own
    assert callable(fc.map) and callable(fc.reduce)


@pytest.mark.parametrize("mode", MODES)
def test_map_values_and_gradient(mode: str) -> None:
    x, y, a = ft.dvector("x"), ft.dvector("y"), ft.dscalar("a")
    (s, p), updates = fc.map(lambda u, w, k: [u * k + w, ft.exp(u) * w], [x, y], non_sequences=a)
    assert updates == {}
    back, _ = fc.map(lambda u: u * 2, x, go_backwards=True)
    f = fc.function([x, y, a], [s, p, back], mode=mode)
    xv, yv = np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, -0.5])
    got = f(xv, yv, 3.0)
    np.testing.assert_allclose(got[0], [u * 3.0 + w for u, w in zip(xv, yv)], rtol=1e-12)
    np.testing.assert_allclose(got[1], [np.exp(u) * w for u, w in zip(xv, yv)], rtol=1e-12)
    np.testing.assert_allclose(got[2], (xv * 2)[::-1], rtol=1e-12)
    fd_check_grads(
        [x, y, a],
        {"map": (lambda x, y, a: fc.map(lambda u, w, k: ft.sin(u * k) * w, [x, y], a)[0], [0, 1, 2])},
        [[xv, yv, np.array(0.7)]],
        mode=mode,
    )


def _fold(values: np.ndarray, acc: float, backwards: bool) -> float:
    for v in values[::-1] if backwards else values:
        acc = np.tanh(acc * 0.5 + v)
    return acc


@pytest.mark.parametrize("mode", MODES)
def test_reduce_foldl_foldr_against_numpy_loops(mode: str) -> None:
    x, h0 = ft.dvector("x"), ft.dscalar("h0")
    step = lambda v, acc: ft.tanh(acc * 0.5 + v)  # noqa: E731
    left, upd = fc.foldl(step, x, h0)
    right, _ = fc.foldr(step, x, h0)
    red, _ = fc.reduce(step, x, h0)
    assert upd == {} and left.ndim == 0
    # several outputs: a list of each one's last value
    (total, count), _ = fc.reduce(lambda v, s, n: [s + v, n + 1], x, [ft.constant(0.0), ft.constant(0)])
    f = fc.function([x, h0], [left, right, red, total, count], mode=mode)
    xv = np.array([0.2, -0.7, 1.1, 0.4])
    got = f(xv, 0.3)
    np.testing.assert_allclose(got[0], _fold(xv, 0.3, False), rtol=1e-12)
    np.testing.assert_allclose(got[1], _fold(xv, 0.3, True), rtol=1e-12)
    np.testing.assert_allclose(got[2], got[0], rtol=0)
    np.testing.assert_allclose(got[3], xv.sum(), rtol=1e-12)
    assert got[4] == 4
    fd_check_grads(
        [x, h0],
        {
            "foldl": (lambda x, h: fc.foldl(step, x, h)[0], [0, 1]),
            "foldr": (lambda x, h: fc.foldr(step, x, h)[0], [0, 1]),
        },
        [[xv, np.array(0.3)]],
        mode=mode,
    )


# -- scan_checkpoints --------------------------------------------------------------------------
def _rnn(xs: np.ndarray, h: np.ndarray, W: np.ndarray) -> np.ndarray:
    out = []
    for xt in xs:
        h = np.tanh(h @ W + xt)
        out.append(h)
    return np.array(out).reshape((len(xs),) + h.shape)


@pytest.mark.parametrize("mode", MODES)
def test_scan_checkpoints_values_and_gradients(mode: str) -> None:
    x, h0, W = ft.dmatrix("x"), ft.dvector("h0"), ft.dmatrix("W")
    step = lambda xt, h, w: ft.tanh(ft.dot(h, w) + xt)  # noqa: E731
    hs, updates = fc.scan_checkpoints(step, sequences=x, outputs_info=h0, non_sequences=W, save_every_N=3)
    full, _ = fc.scan(step, sequences=x, outputs_info=h0, non_sequences=W)
    assert updates == {}
    g_ck = fc.grad(hs[-1].sum(), [x, h0, W])
    g_full = fc.grad(full[-1].sum(), [x, h0, W])
    f = fc.function([x, h0, W], [hs, *g_ck, *g_full], mode=mode)
    rng = np.random.default_rng(3)
    Wv, h0v = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)
    for n in (7, 6, 2, 1):
        xv = rng.normal(size=(n, 4))
        ref = _rnn(xv, h0v, Wv)
        got = f(xv, h0v, Wv)
        # the state at the end of each block of 3 steps, and the last one
        ends = sorted({*range(2, n, 3), n - 1})
        np.testing.assert_allclose(got[0], ref[ends], rtol=1e-12)
        for a, b in zip(got[1:4], got[4:]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    fd_check_grads(
        [x, h0, W],
        {
            "checkpoints": (
                lambda x, h, w: fc.scan_checkpoints(step, x, h, w, save_every_N=2)[0][-1],
                [0, 1, 2],
            )
        },
        [[rng.normal(size=(5, 4)), h0v, Wv]],
        mode=mode,
    )


def test_scan_checkpoints_keeps_only_the_block_states() -> None:
    """The gradient's loops store the states at the block ends (blocks x hidden), never the
    states of every step (blocks x N x hidden): the steps of a block are computed again."""
    from fncache.tensor.scan import Scan

    x, h0 = ft.dmatrix("x"), ft.dvector("h0")
    step = lambda xt, h: ft.tanh(h * 0.9 + xt)  # noqa: E731
    hs, _ = fc.scan_checkpoints(step, sequences=x, outputs_info=h0, save_every_N=4)
    g = fc.function([x, h0], fc.grad(hs[-1].sum(), h0))
    outer = [n for n in g.optimized_graph.toposort() if isinstance(n.op, Scan)]
    assert len(outer) >= 2  # the forward loop over blocks and its gradient's
    assert all(o.ndim <= 2 for n in outer for o in n.outputs)
    xv, h0v = np.random.default_rng(0).normal(size=(9, 3)), np.array([0.1, 0.2, -0.3])
    fd = fd_jacobian(lambda h: _rnn_simple(xv, h)[-1].sum(), [h0v.copy()], 0)
    np.testing.assert_allclose(g(xv, h0v), fd, rtol=1e-6, atol=1e-7)


def _rnn_simple(xs: np.ndarray, h: np.ndarray) -> np.ndarray:
    out = []
    for xt in xs:
        h = np.tanh(h * 0.9 + xt)
        out.append(h)
    return np.array(out)


def test_scan_checkpoints_with_n_steps_and_bad_arguments() -> None:
    h0 = ft.dscalar("h0")
    hs, _ = fc.scan_checkpoints(lambda h: h * 2, outputs_info=h0, n_steps=5, save_every_N=2)
    np.testing.assert_allclose(fc.function([h0], hs)(1.0), [4.0, 16.0, 32.0])
    x = ft.dvector("x")
    with pytest.raises(ValueError, match="outputs_info must be variables"):
        fc.scan_checkpoints(lambda v: v * 2, sequences=x, outputs_info=[None])
    with pytest.raises(ValueError, match="scan_checkpoints: save_every_N must be a positive int"):
        fc.scan_checkpoints(lambda v, h: h + v, sequences=x, outputs_info=h0, save_every_N=0)
    with pytest.raises(ValueError, match="give sequences or n_steps"):
        fc.scan_checkpoints(lambda h: h, outputs_info=h0)


# -- fncache.compile ---------------------------------------------------------------------------
def test_compile_module_names() -> None:
    import fncache.compile
    from fncache.compile import In, Mode, Out, SharedVariable, function, shared
    from fncache.compile.mode import get_default_mode
    from fncache.compile.ops import as_op
    from fncache.compile.sharedvalue import SharedVariable as SV2

    assert fc.compile is fncache.compile
    assert (function, shared, SharedVariable, Mode, In, Out) == (
        fc.function,
        fc.shared,
        fc.SharedVariable,
        fc.Mode,
        fc.In,
        fc.Out,
    )
    assert as_op is ft.as_op and SV2 is SharedVariable
    assert get_default_mode() == fc.Mode("c", "fast_run", device="cpu")
    with fc.config.change_flags(mode="FAST_COMPILE"):
        assert get_default_mode().linker == "py"
    # the compiler's own module is untouched
    from fncache.runtime.compile import optimize_or_load  # noqa: F401


def test_compile_ops_as_op_as_in_pymc_examples() -> None:
    from fncache.compile.ops import as_op

    @as_op(itypes=[ft.dvector, ft.dscalar], otypes=[ft.dscalar])
    def loglike(theta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return np.array(-0.5 * np.sum(theta**2) / sigma**2)

    t, s = ft.dvector("t"), ft.dscalar("s")
    w = fc.compile.shared(np.array(2.0), "w")
    f = fc.compile.function(
        [fc.compile.In(t), fc.compile.In(s, value=1.0)], fc.compile.Out(loglike(t, s) * w)
    )
    assert f(np.array([1.0, 2.0])) == -5.0 and f(np.array([1.0, 2.0]), 2.0) == -1.25


# -- graph classes, a user's Op ----------------------------------------------------------------
class DoubleOp(Op):
    """Theano's "Creating a new Op" example, as the tutorial writes it."""

    __props__ = ()

    def make_node(self, x):  # noqa: ANN001, ANN201
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2

    def infer_shape(self, fgraph, node, i0_shapes):  # noqa: ANN001, ANN201
        return i0_shapes

    def grad(self, inputs, output_grads):  # noqa: ANN001, ANN201
        return [output_grads[0] * 2]


class ScaleOp(Op):
    """An op without ``__props__``, as many Theano ops are written (they compare by identity)."""

    def __init__(self, k: float) -> None:
        self.k = k

    def make_node(self, x):  # noqa: ANN001, ANN201
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
        output_storage[0][0] = inputs[0] * self.k


@pytest.mark.parametrize("mode", MODES)
def test_user_op_without_props_is_identified_by_its_attributes(mode: str) -> None:
    """Two instances computing differently are never merged nor keyed alike (a silently wrong
    result otherwise); equal ones are the same op."""
    assert ScaleOp(2.0) == ScaleOp(2.0) and ScaleOp(2.0) != ScaleOp(3.0)
    x = ft.dvector("x")
    f = fc.function([x], [ScaleOp(2.0)(x), ScaleOp(3.0)(x), ScaleOp(2.0)(x)], mode=mode)
    xv = np.array([1.0, -2.0])
    for got, k in zip(f(xv), (2.0, 3.0, 2.0)):
        np.testing.assert_array_equal(got, xv * k)
    f2, f3 = (fc.function([x], ScaleOp(k)(x), mode=mode) for k in (2.0, 3.0))
    assert f2.cache_key != f3.cache_key
    np.testing.assert_array_equal(f3(xv), xv * 3.0)
    assert fc.function([x], ScaleOp(2.0)(x), mode=mode).cache_key == f2.cache_key


def test_graph_classes_at_the_top() -> None:
    assert (fc.Variable, fc.Apply, fc.Op) == (fc.graph.basic.Variable, Apply, Op)
    assert isinstance(ft.dvector("x"), fc.Variable) and fc.dot is ft.dot
    x = ft.dmatrix("x")
    f = fc.function([x], fc.dot(x, x.T))
    xv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(xv), xv @ xv.T, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_user_op_from_the_theano_tutorial(mode: str) -> None:
    x = ft.dmatrix("x")
    y = DoubleOp()(x)
    assert y.owner.op == DoubleOp() and y.type == x.type
    f = fc.function([x], [y, fc.grad((ft.sin(y) * y).sum(), x)], mode=mode)
    xv = np.random.default_rng(1).normal(size=(2, 3))
    out, g = f(xv)
    np.testing.assert_array_equal(out, xv * 2)
    np.testing.assert_allclose(g, 2 * (np.cos(2 * xv) * 2 * xv + np.sin(2 * xv)), rtol=1e-12)
    fd_check_grads([x], {"double": (lambda x: DoubleOp()(x) ** 3, [0])}, [[xv]], mode=mode)
    ft.verify_grad(DoubleOp(), [xv], rng=0, mode=mode)
    v = ft.dmatrix("v")
    jv = fc.function([x, v], fc.Rop(DoubleOp()(x), x, v), mode=mode)
    np.testing.assert_array_equal(jv(xv, xv + 1), 2 * (xv + 1))
    back = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(back(xv)[0], xv * 2)


def test_user_op_pickles_by_value_into_another_process(tmp_path) -> None:
    """A script's op class (in ``__main__``) travels with a pickled function: the loading
    process has no such class."""
    script = tmp_path / "make.py"
    script.write_text(
        "import pickle\n"
        "import sys\n"
        "import fncache as fc\n"
        "import fncache.tensor as ft\n\n\n"
        "class TripleOp(fc.Op):\n"
        "    __props__ = ()\n\n"
        "    def make_node(self, x):\n"
        "        x = ft.as_tensor_variable(x)\n"
        "        return fc.Apply(self, [x], [x.type()])\n\n"
        "    def perform(self, node, inputs, output_storage):\n"
        "        output_storage[0][0] = inputs[0] * 3\n\n"
        "    def grad(self, inputs, g):\n"
        "        return [g[0] * 3]\n\n\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], [TripleOp()(x), fc.grad(TripleOp()(x).sum(), x)])\n"
        "open(sys.argv[1], 'wb').write(pickle.dumps(f))\n"
    )
    out = script_function_in_a_fresh_process(script, tmp_path / "f.pkl")
    assert out.strip() == "[[3.0, 6.0], [3.0, 3.0]]"


def test_user_op_errors_name_the_op() -> None:
    class NoValue(Op):
        def make_node(self, x):  # noqa: ANN001, ANN201
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
            pass

    class WrongDtype(NoValue):
        def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
            output_storage[0][0] = inputs[0].astype("complex128")

    x = ft.dvector("x")
    with pytest.raises(ValueError, match=r"NoValue.perform stored no value in output_storage\[0\]"):
        fc.function([x], NoValue()(x), mode="FAST_COMPILE")(np.ones(2))
    with pytest.raises(TypeError, match="WrongDtype.perform: output 0"):
        fc.function([x], WrongDtype()(x), mode="FAST_COMPILE")(np.ones(2))
    with pytest.raises(ValueError, match="already an output"):
        Apply(DoubleOp(), [x], [x * 2])
    # without a grad method, the gradient names the ways to give one
    with pytest.raises(fc.gradient.NullTypeGradError, match="grad\\(inputs, output_grads\\) method"):
        fc.grad(NoValue()(x).sum(), x)


def test_clone_replace_and_share_inputs() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    w = fc.shared(np.array([1.0, 2.0]), "w")
    out = (x * w + 1).sum()
    new = fc.clone(out, replace={x: y * 2})
    f = fc.function([y], new)
    assert f(np.array([1.0, 1.0])) == 2 * 1 + 2 * 2 + 2
    copied = fc.clone(out, share_inputs=False)
    roots = fc.graph.basic.graph_inputs([copied])
    assert x not in roots and any(r.name == "x" and r.type == x.type for r in roots) and w in roots
    with pytest.raises(TypeError, match="same dtype and number of dimensions"):
        fc.clone(out, replace={x: ft.dmatrix("m")})


# -- profile -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_function_profile(mode: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], x * 2, profile=True, mode=mode, name="double")
    for _ in range(4):
        np.testing.assert_array_equal(f(np.ones(3)), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(f(x=np.ones(1)), [2.0])
    stats = f.profile
    assert stats.fct_callcount == 5 and stats.fct_call_time > 0 and stats.compile_time > 0
    buf = io.StringIO()
    text = stats.summary(file=buf)
    assert buf.getvalue() == text and "Message: double" in text and "5 calls" in text
    assert fc.function([x], x * 2, profile=False, mode=mode).profile is None
    assert fc.function([x], x * 2, profile=None, mode=mode).profile is None
    # one stats object shared by two functions adds both
    g = fc.function([x], x + 1, profile=stats, mode=mode)
    g(np.ones(2))
    assert g.profile is stats and stats.fct_callcount == 6
    from fncache.compile.profiling import ProfileStats

    mine = ProfileStats("both")
    for fn in (
        fc.function([x], x - 1, profile=mine, mode=mode),
        fc.function([x], x * 3, profile=mine, mode=mode),
    ):
        fn(np.ones(2))
    assert mine.fct_callcount == 2 and "Message: both" in mine.summary(io.StringIO())
    with pytest.raises(TypeError, match="profile must be None, False, True, a name or a ProfileStats"):
        fc.function([x], x, profile=3)


# -- compute_test_value ------------------------------------------------------------------------
def test_compute_test_value_catches_a_shape_error_where_the_graph_is_built() -> None:
    x = ft.dmatrix("x")
    x.tag.test_value = np.ones((3, 4))
    w = fc.shared(np.ones((5, 2)), "w")
    assert fc.config.compute_test_value == "off"
    ft.dot(x, w)  # nothing is evaluated while the flag is off
    with fc.config.change_flags(compute_test_value="raise"):
        y = ft.exp(x) * 2
        np.testing.assert_allclose(y.tag.test_value, np.full((3, 4), 2 * np.e), rtol=1e-12)
        np.testing.assert_allclose(y.get_test_value(), y.tag.test_value)
        assert ft.constant(1.5).get_test_value() == 1.5
        with pytest.raises(ValueError, match="not aligned") as info:
            ft.dot(y, w)
        assert "computing the test value of Dot" in "".join(info.value.__notes__)
        v = ft.dvector("v")
        with pytest.raises(ValueError, match="v has no test value; set v.tag.test_value"):
            v * 2
    with fc.config.change_flags(compute_test_value="warn"), warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        assert "test_value" not in (v * 2).tag
        assert any("v has no test value" in str(w.message) for w in ws)
    with fc.config.change_flags(compute_test_value="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "test_value" not in (v * 2).tag
        assert (x.sum() + 1).tag.test_value == 13.0
    with pytest.raises(ValueError, match="'pdb'.* is not supported"):
        fc.config.compute_test_value = "pdb"
    with pytest.raises(ValueError, match="expected one of off, ignore, warn, raise"):
        fc.config.compute_test_value = "on"
    # the compiled function is the same as without test values
    with fc.config.change_flags(compute_test_value="raise"):
        f = fc.function([x], (ft.exp(x) * 2).sum())
    assert f(np.zeros((2, 2))) == 8.0


def test_compute_test_value_through_loops_jacobians_and_gradients() -> None:
    """A loop's step and a Jacobian's rows are built on stand-ins: the node running them is
    evaluated whole, and the results (gradients included) get their test values."""
    x, h0 = ft.dmatrix("x"), ft.dvector("h0")
    xv, h0v = np.linspace(-1, 1, 15).reshape(5, 3), np.array([0.1, -0.2, 0.3])
    x.tag.test_value, h0.tag.test_value = xv, h0v
    with fc.config.change_flags(compute_test_value="raise"):
        hs, _ = fc.scan(lambda xt, h: ft.tanh(h * 0.5 + xt), sequences=x, outputs_info=h0)
        J = ft.jacobian(hs[-1], h0)
        g = fc.grad((hs[-1] ** 2).sum(), h0)
        H = ft.hessian((h0**3).sum(), h0)
        bad = ft.dmatrix("bad")
        bad.tag.test_value = np.ones((5, 4))
        with pytest.raises(ValueError, match="cannot be broadcast") as info:
            fc.scan(lambda xt, h: ft.tanh(h + xt), sequences=bad, outputs_info=h0)
        assert "computing the test value of Scan" in "".join(info.value.__notes__)
    f = fc.function([x, h0], [hs, J, g, H])
    for got, want in zip(
        [hs.tag.test_value, J.get_test_value(), g.get_test_value(), H.get_test_value()], f(xv, h0v)
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# -- constants, graph walks, module paths ------------------------------------------------------
def test_get_scalar_constant_value() -> None:
    x = ft.TensorType("float64", (3, None))("x")
    assert ft.get_scalar_constant_value(x.shape[0]) == 3
    assert ft.get_scalar_constant_value(ft.constant(2.0) * 3 + 1) == 7.0
    assert ft.get_scalar_constant_value(np.float32(2.5)).dtype == np.float32
    assert ft.get_underlying_scalar_constant_value(ft.alloc(2.0, 3)) == 2.0
    assert ft.get_underlying_scalar_constant_value(ft.constant([4, 4])) == 4
    from fncache.printing import Print

    same = ft.as_op([ft.dscalar], [ft.dscalar])(lambda a: a)
    two = ft.constant(2.0)
    for not_constant in (x.shape[1], x.sum(), two * fc.shared(1.0), Print("p")(two), same(two)):
        with pytest.raises(ft.NotScalarConstantError):
            ft.get_scalar_constant_value(not_constant)
    with pytest.raises(ft.NotScalarConstantError, match="not a scalar"):
        ft.get_scalar_constant_value(ft.alloc(2.0, 3))
    with pytest.raises(ft.NotScalarConstantError, match="not one scalar value"):
        ft.get_underlying_scalar_constant_value(ft.constant([1.0, 2.0]))
    with pytest.raises(ft.NotScalarConstantError):  # only constants themselves
        ft.get_scalar_constant_value(ft.constant(2.0) * 3, only_process_constants=True)
    with pytest.raises(ft.NotScalarConstantError):
        ft.get_scalar_constant_value(ft.exp(ft.constant(0.0)), elemwise=False)
    assert ft.get_scalar_constant_value(x.sum(), raise_not_constant=False) is not None
    assert issubclass(ft.NotScalarConstantError, ValueError)


def test_graph_inputs_get_parents_and_sharedvar() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    w = fc.shared(np.ones(2), "w")
    out = (x * w + y) * x
    roots = fc.graph.basic.graph_inputs([out])
    assert roots == [x, w, y]
    mid = x * w
    assert fc.graph.basic.graph_inputs([mid + y], blockers=[mid]) == [mid, y]
    assert out.get_parents() == [out.owner] and x.get_parents() == []
    assert out.owner.get_parents() == out.owner.inputs
    from fncache.tensor.sharedvar import TensorSharedVariable

    assert ft.sharedvar.TensorSharedVariable is TensorSharedVariable
    assert isinstance(w, TensorSharedVariable) and not isinstance(x, TensorSharedVariable)


def test_import_fncache_loads_none_of_these_modules() -> None:
    out = run_python(
        "import sys, fncache, fncache.tensor as ft; ft.dvector('x');"
        "new = ['fncache.gradient', 'fncache.compile', 'fncache.tensor.scan_views',"
        " 'fncache.tensor.scan_checkpoints', 'fncache.tensor.constant_value',"
        " 'fncache.graph.debug_values', 'fncache.runtime.profiling', 'fncache.tensor.sharedvar'];"
        "print([m for m in new if m in sys.modules])"
    )
    assert out.strip() == "[]"
