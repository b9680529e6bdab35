"""A fused loop's inputs that do not broadcast raise an error naming the op the user wrote
(the step of the loop whose operands do not broadcast, or the user's op the loop was made
from where a shape-only input sets the size) and each named input of the mismatched axis, as
the unfused graph's does: not the loop's internal first step (``identity``) or its whole body
(``Composite{add,exp,mul}``)."""

from __future__ import annotations

import pickle
from typing import Callable

import numpy as np
import pytest
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: F401  (emulated: a fixture)

import fncache as fc
from fncache import tensor as ft
from fncache.errors import BroadcastError, NotAlignedError
from fncache.runtime.errors import annotate_runtime_error
from fncache.tensor.blas import RowPass
from fncache.tensor.elemwise import Elemwise

MODES = ["FAST_RUN", "FAST_COMPILE"]


def _hvp() -> tuple[list, list, list[np.ndarray]]:
    """A gradient and a Hessian-vector product without the cost among the outputs: in FAST_RUN
    the check of ``g * v`` is a loop broadcasting ``v`` like ``w``, the size of ``g``."""
    X = ft.dmatrix("X")
    w, v = ft.dvectors("w", "v")
    y = ft.dvector("y")
    g = fc.grad(0.5 * ((X @ w - y) ** 2).mean() + 0.005 * (w**2).sum(), w)
    r = np.random.default_rng(0)
    return (
        [X, y, w, v],
        [g, fc.grad((g * v).sum(), w)],
        [r.random((4, 5)), r.random(4), r.random(5), r.random(6)],
    )


def _chain() -> tuple[list, list, list[np.ndarray]]:
    """One fused loop ``exp(a + b) * c``; ``b`` is one element too long for ``a``."""
    a, b, c = ft.dvectors("a", "b", "c")
    return [a, b, c], [ft.exp(a + b) * c], [np.ones(5), np.ones(6), np.ones(5)]


def _reduction() -> tuple[list, list, list[np.ndarray]]:
    """A row sum broadcast against ``c``, one element too long for M's rows."""
    M = ft.dmatrix("M")
    c = ft.dvector("c")
    return [M, c], [M.sum(axis=1) * c + 1], [np.ones((4, 5)), np.ones(5)]


def _reduced_body() -> tuple[list, list, list[np.ndarray]]:
    """A sum whose loop body is ``(a - b) ** 2``."""
    a, b = ft.dvectors("a", "b")
    return [a, b], [((a - b) ** 2).sum()], [np.ones(3), np.ones(2)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("graph", "op", "named", "size"),
    [
        (_hvp, "mul", "v", 5),
        (_chain, "add", "b", 5),
        (_reduction, "mul", "c", 4),
        (_reduced_body, "sub", "a", 2),
    ],
    ids=["hvp", "chain", "reduction", "reduced_body"],
)
def test_a_fused_loop_size_error_names_the_users_op_and_input(
    graph: Callable[[], tuple[list, list, list[np.ndarray]]], op: str, named: str, size: int, mode: str
) -> None:
    ins, outs, values = graph()
    f = fc.function(ins, outs, mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(*values)
    message = str(info.value)
    assert message.startswith(f"{op}: "), message
    assert "identity" not in message and "Composite" not in message, message
    assert f" {named} " in message and "along axis" in message, message
    # the named input is the one at fault: given the size of the others, the function runs
    fixed = [x[:size] if i.name == named else x for i, x in zip(ins, values)]
    assert all(np.isfinite(o).all() for o in f(*fixed))


@pytest.mark.parametrize("mode", MODES)
def test_a_size_error_names_this_functions_inputs_on_a_cache_hit(mode: str) -> None:
    """Names are not in a function's key: an entry another function stored for the same graph
    under other names is hit, and the error still names this function's inputs."""
    x, y = ft.dvectors("x", "y")
    fc.function([x, y], [((x - y) ** 2).sum() * 3.5], mode=mode)
    a, b = ft.dvectors("a", "b")
    f = fc.function([a, b], [((a - b) ** 2).sum() * 3.5], mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(np.ones(3), np.ones(2))
    message = str(info.value)
    assert " a has size 3" in message and " b has size 2" in message, message
    assert " x " not in message and " y " not in message, message


@pytest.mark.parametrize("mode", MODES)
def test_the_error_carries_the_op_and_the_shapes_as_data(mode: str) -> None:
    """The run-time (the C steps, the Python linker) hands the shapes to Python as data: the
    error is a BroadcastError (a ValueError) with the op and its operands' shapes, which a
    pickle keeps."""
    ins, outs, values = _chain()
    f = fc.function(ins, outs, mode=mode)
    with pytest.raises(BroadcastError) as info:
        f(*values)
    e = info.value
    assert isinstance(e, ValueError) and e.op == "add" and e.shapes == ((5,), (6,)), (e.op, e.shapes)
    again = pickle.loads(pickle.dumps(e))
    assert (str(again), again.op, again.shapes) == (str(e), e.op, e.shapes)


def test_the_wording_comes_from_the_data_not_the_message() -> None:
    """The error is said again from its shapes, whatever its text; a ValueError that only reads
    like one (no data) is left as it is."""
    ins, outs, values = _chain()
    f = fc.function(ins, outs, mode="FAST_RUN")
    (node,) = [n for n in f.optimized_graph.toposort() if isinstance(n.op, Elemwise)]
    given = {i.name: np.shape(v) for i, v in zip(ins, values)}
    said = annotate_runtime_error(
        BroadcastError("the loop failed", "loop", [given[i.name] for i in node.inputs]), node
    )
    assert str(said).startswith("add: input shapes [(5,), (6,)] cannot be broadcast"), said
    assert "a has size 5 along axis 0, b has size 6 along axis 0" in str(said), said
    text = f"{node.op}: input shapes {[given[i.name] for i in node.inputs]} cannot be broadcast together (numpy broadcasting rules)"
    assert str(annotate_runtime_error(ValueError(text), node)) == text


@pytest.mark.parametrize("mode", MODES)
def test_a_shape_only_input_is_not_named_for_the_value_it_stands_for(mode: str) -> None:
    """In FAST_RUN the check of ``g * v`` is a loop reading ``v`` whose size comes from ``w``
    (the rewrites read ``g``'s size from ``w``'s): the error named ``w``, which the user's
    ``mul`` does not read; it names ``v`` and the computed ``g``, as the unfused graph's does."""
    ins, outs, values = _hvp()
    f = fc.function(ins, outs, mode=mode)
    with pytest.raises(ValueError) as info:
        f(*values)
    message = str(info.value)
    assert message.startswith("mul: ") and " w " not in message, message
    assert "v has size 6 along axis 0 where a value computed in the function has size 5" in message, message


def _logistic(reduce: str) -> tuple[list, list, list[np.ndarray]]:
    """A logistic regression's cross-entropy (summed or averaged) and its gradient, fused into
    a row pass in FAST_RUN; ``y`` has one label more than ``x`` has rows."""
    x, y = ft.dmatrix("x"), ft.dvector("y")
    w, b = ft.dvector("w"), ft.dscalar("b")
    p = ft.sigmoid(ft.dot(x, w) + b)
    xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
    gw, gb = fc.grad(getattr(xent, reduce)() + 0.01 * (w**2).sum(), [w, b])
    r = np.random.default_rng(1)
    return [x, y, w, b], [xent, gw, gb], [r.random((4, 3)), r.random(5), r.random(3), np.asarray(0.3)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_row_pass_size_error_names_the_users_op_and_input(reduce: str, mode: str) -> None:
    """The row pass runs its region's nodes on unfused semantics where rows do not match: its
    error named the region's whole body (``Composite{add,softplus,...}``) and no input, and the
    count of a mean's gradient (``ReducedSize``) its own op; both now name the user's op (the
    ``mul`` of ``-y * log(p)``, the mean) and ``y``."""
    ins, outs, values = _logistic(reduce)
    f = fc.function(ins, outs, mode=mode)
    if mode == "FAST_RUN":
        assert any(isinstance(n.op, RowPass) for n in f.optimized_graph.toposort())
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(*values)
    message = str(info.value)
    assert message.startswith(("mul: ", "mean: ")), message
    assert "Composite" not in message and "ReducedSize" not in message, message
    assert "y has size 5 along axis 0" in message and "give y" in message, message
    values[1] = values[1][:4]
    assert all(np.isfinite(o).all() for o in f(*values))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_products_size_error_names_the_users_inputs(reduce: str, mode: str) -> None:
    """``x @ w`` of a ``w`` one element short, in the row pass of a logistic regression's
    gradient (FAST_RUN) or a product of its own: the error named ``dot`` and the shapes but
    not ``x`` and ``w``; it names them, and carries the op and the shapes as data (a pickle
    keeps them), as a broadcast error does."""
    ins, outs, values = _logistic(reduce)
    values[1], values[2] = values[1][:4], values[2][:2]
    f = fc.function(ins, outs, mode=mode)
    if mode == "FAST_RUN":
        assert any(isinstance(n.op, RowPass) for n in f.optimized_graph.toposort())
    with pytest.raises(NotAlignedError) as info:
        f(*values)
    e, message = info.value, str(info.value)
    assert isinstance(e, ValueError) and (e.op, e.shapes) == ("dot", ((4, 3), (2,))), (e.op, e.shapes)
    assert message.startswith("dot (also a @ b and matmul): shapes (4, 3) and (2,) are not aligned"), message
    assert "x has size 3 along axis 1, w has size 2 along axis 0; give w" in message, message
    again = pickle.loads(pickle.dumps(e))
    assert (str(again), again.op, again.shapes) == (message, e.op, e.shapes)
    # a product of a computed operand names only the user's input
    x, w = ft.dmatrix("x"), ft.dvector("w")
    g = fc.function([x, w], ft.dot(ft.exp(x).T, w) * 2, mode=mode)
    with pytest.raises(
        NotAlignedError, match=r"not aligned: 4 \(dim 1\) != 3 \(dim 0\): w has size 3"
    ) as info:
        g(np.ones((4, 3)), np.ones(3))
    assert " x " not in str(info.value), info.value


@pytest.mark.parametrize("mode", MODES)
def test_a_mean_gradients_count_names_the_users_inputs(mode: str) -> None:
    """The count a mean's gradient divides by is read from the sizes ``a`` and ``c`` before
    the loop broadcasting them runs: its error names them (and the mean, not ``ReducedSize``)."""
    a, c = ft.dvectors("a", "c")
    f = fc.function([a, c], fc.grad(ft.mean(ft.exp(a) * c), a), mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(np.ones(3), np.ones(4))
    message = str(info.value)
    assert message.startswith(("mul: ", "mean: ")) and "ReducedSize" not in message, message
    assert "a has size 3 along axis 0" in message and "c has size 4 along axis 0" in message, message


@pytest.mark.parametrize("mode", MODES)
def test_a_scan_step_size_error_names_the_users_op_and_inputs(mode: str) -> None:
    """A loop's step (its own compiled function) names the step's op and the loop's inputs as
    the step reads them (``xs[t]``, a row; ``u``, a non-sequence; ``h[t-1]``, a state)."""
    xs, u, h0 = ft.dmatrix("xs"), ft.dvector("u"), ft.dvector("h")
    res, _ = fc.scan(lambda x_t, u: ((x_t - u) ** 2).sum(), sequences=[xs], non_sequences=[u])
    f = fc.function([xs, u], res, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 4)), np.ones(5))
    message = str(info.value)
    assert message.startswith("sub: input shapes [(4,), (5,)]"), message
    assert "xs[t] has size 4 along axis 0, u has size 5 along axis 0" in message, message
    res, _ = fc.scan(lambda x_t, h: ft.tanh(x_t + h), sequences=[xs], outputs_info=[h0])
    f = fc.function([xs, h0], res, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 4)), np.ones(5))
    assert "xs[t] has size 4 along axis 0, h[t-1] has size 5 along axis 0" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_scan_step_error_is_not_said_again_by_the_loop_node(mode: str) -> None:
    """The step's error passes through the loop's own node: with as many shapes as that node
    has inputs (``n_steps`` and ``xs``), it was said again as the loop's (``Scan{...}: ... xs
    has size 5``), naming the wrong op and input with the wrong size."""
    xs = ft.dmatrix("xs")
    res, _ = fc.scan(lambda x_t: x_t + ft.constant(np.arange(5.0)), sequences=[xs])
    f = fc.function([xs], res, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 4)))
    message = str(info.value)
    assert message.startswith("add: input shapes [(4,), (5,)]") and "Scan" not in message, message
    assert "xs[t] has size 4 along axis 0" in message, message


@pytest.mark.parametrize("mode", MODES)
def test_a_scan_step_names_the_inputs_of_values_computed_outside_the_step(mode: str) -> None:
    """What fn reads without depending on the step's own inputs (``2 * u``, ``-y``) is computed
    once, outside the loop, and comes into the step as an unnamed input: the step's error said
    "a value computed in the function"; the loop names it by the user's input it has the sizes
    of (``u``, ``y``)."""
    xs, u = ft.dmatrix("xs"), ft.dvector("u")
    res, _ = fc.scan(lambda x_t, u: ft.exp(x_t) * (2 * u), sequences=[xs], non_sequences=[u])
    f = fc.function([xs, u], res, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 4)), np.ones(5))
    message = str(info.value)
    assert message.startswith("mul: input shapes [(4,), (5,)]"), message
    assert "xs[t] has size 4 along axis 0, u has size 5 along axis 0; give xs[t] and u" in message, message
    assert "raised in step 0" in message or any("raised in step 0" in n for n in info.value.__notes__)


@pytest.mark.parametrize("mode", MODES)
def test_a_scan_steps_logistic_gradient_names_the_labels(mode: str) -> None:
    """A loop whose step is a logistic regression's mean gradient (in FAST_RUN a row pass and
    the mean's count): ``-y`` and ``1 - y`` are computed outside the step, and its error names
    ``y``."""
    ws, x, y = ft.dmatrix("ws"), ft.dmatrix("x"), ft.dvector("y")

    def step(w_t, x, y):
        p = ft.sigmoid(ft.dot(x, w_t))
        return fc.grad((-y * ft.log(p) - (1 - y) * ft.log(1 - p)).mean(), w_t)

    res, _ = fc.scan(step, sequences=[ws], non_sequences=[x, y])
    f = fc.function([ws, x, y], res, mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(np.ones((2, 3)), np.ones((4, 3)), np.ones(5))
    message = str(info.value)
    assert "y has size 5 along axis 0" in message and "give y" in message, message
    assert f(np.ones((2, 3)), np.ones((4, 3)), np.ones(4)).shape == (2, 3)


@pytest.mark.parametrize("mode", MODES)
def test_with_verbosity_high_the_error_keeps_its_data_and_notes(mode: str) -> None:
    """exception_verbosity='high' makes the error again with the node's description: it keeps
    the data (op, shapes, sizes) and the loop's note of the step it was raised in (which the
    Python linker's copy dropped)."""
    xs, u = ft.dmatrix("xs"), ft.dvector("u")
    res, _ = fc.scan(lambda x_t, u: ft.exp(x_t) * (2 * u), sequences=[xs], non_sequences=[u])
    f = fc.function([xs, u], res, mode=mode)
    with fc.config.change_flags(exception_verbosity="high"), pytest.raises(BroadcastError) as info:
        f(np.ones((3, 4)), np.ones(5))
    e = info.value
    assert "Apply node that caused the error" in str(e) and "u has size 5 along axis 0" in str(e), e
    assert e.op == "mul" and e.shapes == ((4,), (5,)) and (1, "u", 0, 5) in e.sizes, (e.op, e.shapes, e.sizes)
    assert any("raised in step 0" in n for n in getattr(e, "__notes__", ())), getattr(e, "__notes__", None)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "read",
    [
        lambda u: u.shape,  # read whole: zeros_like, ones(u.shape)
        lambda u: u.shape[1],
        lambda u: ft.zeros_like(u),
        lambda u: ft.ones((u * 2).shape).sum(),
    ],
    ids=["shape", "shape-entry", "zeros_like", "ones-of-its-shape"],
)
def test_a_shape_read_from_the_inputs_raises_the_broadcast_error_of_computing_the_value(
    read: Callable, mode: str
) -> None:
    """FAST_RUN reads ``(x * y).shape`` from ``x`` and ``y`` without computing the product; its
    check of their sizes raises the BroadcastError computing it raises (in FAST_COMPILE), naming
    the op and the user's inputs, not an anonymous ArgumentValueError."""
    x, y = ft.dmatrix("x"), ft.dvector("y")
    f = fc.function([x, y], read(x * y), mode=mode)
    assert np.size(f(np.ones((2, 3)), np.ones(3))) >= 1
    with pytest.raises(BroadcastError) as raised:
        f(np.ones((2, 3)), np.ones(4))
    e = raised.value
    assert str(e).startswith("mul: "), str(e)
    assert "x has size 3 along axis 1, y has size 4 along axis 0; give x and y sizes that match" in str(e)
    assert e.op == "mul" and [(k, name, axis, n) for k, name, axis, n in e.sizes] == [
        (0, "x", 1, 3),
        (1, "y", 0, 4),
    ]
    back = pickle.loads(pickle.dumps(e))
    assert str(back) == str(e) and back.sizes == e.sizes


@needs_emulator
def test_a_shape_read_on_the_cuda_device_raises_the_same_broadcast_error(emulated) -> None:  # noqa: F811
    """The CUDA runner raises a failed check's error as the op makes it (emulated device)."""
    x, y = ft.dmatrix("x"), ft.dvector("y")
    f = fc.function([x, y], ft.zeros_like(x * y), mode=CUDA)
    with pytest.raises(
        BroadcastError, match=r"^mul: .*x has size 3 along axis 1, y has size 4 along axis 0; give x"
    ):
        f(np.ones((2, 3)), np.ones(4))


@pytest.mark.parametrize(
    "read, sizes, op",
    [
        # a unary op and a reduction of a broadcast do not broadcast: the op under them does
        (lambda X, y, z: ft.exp(X * y).shape[0], ((2, 3), (4,), (3,)), "mul"),
        (lambda X, y, z: (X * y).sum(axis=1).shape, ((2, 3), (4,), (3,)), "mul"),
        (lambda X, y, z: ft.zeros_like(ft.exp(X - y).max(axis=-1)), ((2, 3), (4,), (3,)), "sub"),
        # the first op that fails, inputs first, as computing the value raises it
        (lambda X, y, z: ((X - y) * z).shape[1], ((2, 3), (4,), (3,)), "sub"),
        (lambda X, y, z: ((X - y) * z).sum(axis=1).shape, ((2, 3), (4,), (3,)), "sub"),
        (lambda X, y, z: ((X - y) * z).shape[1], ((2, 3), (3,), (4,)), "mul"),
        # an axis of size 0 that does not broadcast: the broadcast error, not the empty max's
        (lambda X, y, z: (X * y).max(axis=1).shape, ((2, 0), (4,), (0,)), "mul"),
    ],
    ids=["unary", "sum", "max-of-unary", "first-of-two", "sum-first-of-two", "second-of-two", "empty"],
)
def test_a_shape_read_names_the_op_that_fails_first_as_computing_the_value(
    read: Callable, sizes: tuple, op: str
) -> None:
    """FAST_RUN's shape read checks the sizes of the user's ops it passes over: a failing check
    names the op computing the value (FAST_COMPILE) fails in, never a unary op or a reduction
    above it (``exp: sizes [3, 4] cannot be broadcast together``), and the op that fails first
    where several broadcast."""
    X, y, z = ft.dmatrix("X"), ft.dvector("y"), ft.dvector("z")
    args = [np.ones(s) for s in sizes]
    said = {}
    for mode in MODES:
        f = fc.function([X, y, z], read(X, y, z), mode=mode, on_unused_input="ignore")
        with pytest.raises(BroadcastError) as raised:
            f(*args)
        said[mode] = raised.value
    for mode, e in said.items():
        assert e.op == op and str(e).startswith(f"{op}: "), (mode, str(e))
    # each input the unfused graph names, named alike (a value computed in it, X - y, is named
    # by the inputs it has its sizes of where only its sizes are read)
    named = [s for s in said["FAST_COMPILE"].sizes if s[1] is not None]
    assert named and set(named) <= set(said["FAST_RUN"].sizes), {m: e.sizes for m, e in said.items()}
