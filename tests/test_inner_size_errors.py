"""Size errors raised inside inner graphs (a ``scan`` step, an ``OpFromGraph``, an ``ifelse``
branch) name the user's variables and their sizes in every mode, and FAST_RUN names the same
ones as FAST_COMPILE, whatever the rewrites made of the graph (a row pass, a loop checking
sizes only, the count a mean's gradient divides by)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from test_fused_size_errors import _hvp as fused_hvp

import fncache as fc
from fncache import tensor as ft
from fncache.errors import BroadcastError, NotAlignedError
from fncache.ifelse import ifelse
from fncache.tensor.op_from_graph import OpFromGraph

MODES = ["FAST_RUN", "FAST_COMPILE"]
R = np.random.default_rng(0)


def _logistic_grad(x: Any, y: Any, w: Any, b: Any, reduce: str) -> list:
    """The gradient of a logistic regression's cross-entropy, summed or averaged over rows."""
    p = ft.sigmoid(ft.dot(x, w) + b)
    xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
    return fc.grad(getattr(xent, reduce)(), [w, b])


def _scan_over_weights(reduce: str) -> tuple[list, list]:
    """A step per weight vector, the data given as non-sequences: ``-Y`` and ``1 - Y`` are
    computed once outside the step."""
    X, Y, W, B = ft.dmatrix("X"), ft.dvector("Y"), ft.dmatrix("W"), ft.dvector("B")

    def step(w: Any, b: Any, x: Any, y: Any) -> tuple:
        gw, gb = _logistic_grad(x, y, w, b, reduce)
        return w - 0.1 * gw, b - 0.1 * gb

    out, _ = fc.scan(step, sequences=[W, B], non_sequences=[X, Y])
    return [X, Y, W, B], out


def _scan_over_minibatches(reduce: str) -> tuple[list, list]:
    """Gradient descent over minibatches: ``X[t]`` and ``Y[t]`` rows, ``w`` and ``b`` updated."""
    X, Y, w, b = ft.dtensor3("X"), ft.dmatrix("Y"), ft.dvector("w"), ft.dscalar("b")

    def step(x: Any, y: Any, w: Any, b: Any) -> tuple:
        gw, gb = _logistic_grad(x, y, w, b, reduce)
        return w - 0.1 * gw, b - 0.1 * gb

    out, _ = fc.scan(step, sequences=[X, Y], outputs_info=[w, b])
    return [X, Y, w, b], out


def _op_from_graph(reduce: str) -> tuple[list, list]:
    x, y, w, b = ft.dmatrix("x"), ft.dvector("y"), ft.dvector("w"), ft.dscalar("b")
    op = OpFromGraph([x, y, w, b], _logistic_grad(x, y, w, b, reduce))
    X, Y, W, B = ft.dmatrix("X"), ft.dvector("Y"), ft.dvector("W"), ft.dscalar("B")
    return [X, Y, W, B], op(X, Y, W, B)


def _ifelse_branch(reduce: str) -> tuple[list, list]:
    c, X, Y, w, b = ft.bscalar("c"), ft.dmatrix("X"), ft.dvector("Y"), ft.dvector("w"), ft.dscalar("b")
    gw, gb = _logistic_grad(X, Y, w, b, reduce)
    return [c, X, Y, w, b], [ifelse(c, gw, w), ifelse(c, gb, b)]


def _scan_elemwise() -> tuple[list, list]:
    xs, u = ft.dmatrix("xs"), ft.dvector("u")
    res, _ = fc.scan(lambda x_t, u: ft.exp(x_t) * (2 * u) + x_t, sequences=[xs], non_sequences=[u])
    return [xs, u], [res]


def _ofg_elemwise(named: bool) -> tuple[list, list]:
    a, c = (ft.dvector("a"), ft.dvector("c")) if named else (ft.dvector(), ft.dvector())
    op = OpFromGraph([a, c], [ft.exp(a) * c + 1])
    x, y = ft.dvectors("x", "y")
    return [x, y], [op(x, y)]


def _ifelse_elemwise() -> tuple[list, list]:
    c, x, y = ft.bscalar("c"), ft.dvector("x"), ft.dvector("y")
    return [c, x, y], [ifelse(c, ft.exp(x) * y, x)]


def _ifelse_dot() -> tuple[list, list]:
    c, x, y = ft.bscalar("c"), ft.dmatrix("x"), ft.dvector("y")
    return [c, x, y], [ifelse(c, ft.dot(x, y) * 2, y)]


def _ifelse_outside_value() -> tuple[list, list]:
    """``-y`` is read by both the branch and the rest of the graph: computed once outside the
    branch, it comes into the branch's function unnamed."""
    c, x, y = ft.bscalar("c"), ft.dvector("x"), ft.dvector("y")
    ny = -y
    return [c, x, y], [ifelse(c, ft.exp(x) * ny, x + ny.sum()), ny.sum()]


def _scan_mean_of_a_sum() -> tuple[list, list]:
    """The count of ``mean((a_t + b) * c)``'s gradient reads the sizes of ``a_t``, ``b`` and
    ``c`` in FAST_RUN: it named all three, the unfused graph's ``mul`` only ``c``."""
    A, b, c = ft.dmatrix("A"), ft.dvector("b"), ft.dvector("c")
    res, _ = fc.scan(
        lambda a_t, b, c: fc.grad(ft.mean((a_t + b) * c), a_t), sequences=[A], non_sequences=[b, c]
    )
    return [A, b, c], [res]


def _scan_outside_product() -> tuple[list, list]:
    """The step reads ``x @ w``, computed outside it: named by x, whose rows it has."""
    x, w, U = ft.dmatrix("x"), ft.dvector("w"), ft.dmatrix("U")
    res, _ = fc.scan(lambda u_t, z: ft.exp(z) * u_t, sequences=[U], non_sequences=[ft.dot(x, w)])
    return [x, w, U], [res]


def _rows(n_x: int, n_y: int, n_w: int) -> list[np.ndarray]:
    """Data of ``n_x`` rows of 3 features, ``n_y`` labels and ``n_w`` weights."""
    return [R.random((n_x, 3)), R.random(n_y), R.random(n_w), np.asarray(0.1)]


LABELS = ["Y has size 5 along axis 0", "X has size 4 along axis 0"]

#: graph -> (the graph, [(values given, the sizes the message must say)...]); each graph is
#: compiled once per mode and called with each of its values
CASES: dict[str, tuple[Callable[[], tuple[list, list]], list[tuple[list, list[str]]]]] = {}
for reduce in ("sum", "mean"):
    CASES |= {
        f"scan_step_{reduce}": (
            lambda reduce=reduce: _scan_over_weights(reduce),
            [
                ([R.random((4, 3)), R.random(5), R.random((2, 3)), R.random(2)], LABELS),
                (
                    [R.random((4, 3)), R.random(4), R.random((2, 2)), R.random(2)],
                    ["X has size 3 along axis 1", "W[t] has size 2 along axis 0"],
                ),
            ],
        ),
        f"scan_minibatches_{reduce}": (
            lambda reduce=reduce: _scan_over_minibatches(reduce),
            [
                (
                    [R.random((2, 4, 3)), R.random((2, 5)), R.random(3), np.asarray(0.1)],
                    ["Y[t] has size 5 along axis 0", "X[t] has size 4 along axis 0"],
                ),
                (
                    [R.random((2, 4, 3)), R.random((2, 4)), R.random(2), np.asarray(0.1)],
                    ["X[t] has size 3 along axis 1", "w[t-1] has size 2 along axis 0"],
                ),
            ],
        ),
        f"op_from_graph_{reduce}": (lambda reduce=reduce: _op_from_graph(reduce), [(_rows(4, 5, 3), LABELS)]),
        f"ifelse_{reduce}": (
            lambda reduce=reduce: _ifelse_branch(reduce),
            [
                ([np.int8(1), *_rows(4, 5, 3)], LABELS),
                ([np.int8(1), *_rows(4, 4, 2)], ["X has size 3 along axis 1", "w has size 2 along axis 0"]),
            ],
        ),
    }
X_Y = ["x has size 3 along axis 0", "y has size 4 along axis 0"]
CASES |= {
    "scan_mean_of_a_sum": (
        _scan_mean_of_a_sum,
        [([np.ones((2, 3)), np.ones(3), np.ones(4)], ["c has size 4 along axis 0"])],
    ),
    "scan_outside_product": (
        _scan_outside_product,
        [
            (
                [np.ones((4, 3)), np.ones(3), np.ones((2, 5))],
                ["x has size 4 along axis 0", "U[t] has size 5 along axis 0"],
            )
        ],
    ),
    "scan_elemwise": (
        _scan_elemwise,
        [([np.ones((3, 4)), np.ones(5)], ["xs[t] has size 4 along axis 0", "u has size 5 along axis 0"])],
    ),
    # an inner input the user named is named so; an unnamed one by the outer input given
    "op_from_graph_elemwise_named": (lambda: _ofg_elemwise(True), [([np.ones(3), np.ones(4)], X_Y)]),
    "op_from_graph_elemwise_unnamed": (lambda: _ofg_elemwise(False), [([np.ones(3), np.ones(4)], X_Y)]),
    "ifelse_elemwise": (_ifelse_elemwise, [([np.int8(1), np.ones(3), np.ones(4)], X_Y)]),
    "ifelse_outside_value": (_ifelse_outside_value, [([np.int8(1), np.ones(3), np.ones(4)], X_Y)]),
    "ifelse_dot": (
        _ifelse_dot,
        [
            (
                [np.int8(1), np.ones((3, 3)), np.ones(4)],
                ["x has size 3 along axis 1", "y has size 4 along axis 0"],
            )
        ],
    ),
}


def _named(e: BaseException) -> set[str]:
    """The user's variables the error names, from the data it carries."""
    if isinstance(e, NotAlignedError):
        return {n for n in e.names if n}
    assert isinstance(e, BroadcastError), type(e)
    return {name for _, name, _, _ in e.sizes if name}


def _said(f: Any, values: list, said: list[str]) -> set[str]:
    """The variables named by the size error ``f`` raises given ``values``, which must say
    ``said``."""
    with pytest.raises((BroadcastError, NotAlignedError)) as info:
        f(*values)
    e, message = info.value, str(info.value)
    assert isinstance(e, ValueError)
    assert all(s in message for s in said), message
    assert "Composite" not in message and "ReducedSize" not in message, message
    # where the error locates a named input among the function's, it is that input
    located = {
        name: k for k, name, _, _ in getattr(e, "sizes", ()) if k is not None and name in f.input_names
    }
    assert all(f.input_names[k] == name for name, k in located.items()), (located, f.input_names)
    return _named(e)


@pytest.mark.parametrize("case", list(CASES))
def test_an_inner_graphs_size_error_names_the_users_variables_in_every_mode(case: str) -> None:
    graph, calls = CASES[case]
    named: dict[str, list[set[str]]] = {}
    for mode in MODES:
        f = fc.function(*graph(), mode=mode)
        named[mode] = [_said(f, values, said) for values, said in calls]
    assert named["FAST_RUN"] == named["FAST_COMPILE"], named


@pytest.mark.parametrize("mode", MODES)
def test_an_op_from_graph_kept_whole_names_its_inputs(mode: str) -> None:
    """An ``OpFromGraph`` the mode does not put inline runs as a function of its own: its error
    names the op's inputs the user named, and an unnamed one by the outer input given."""
    kept = fc.mode.get_mode(mode).excluding("inline_op_from_graph")
    f = fc.function(*_ofg_elemwise(True), mode=kept)
    assert _said(f, [np.ones(3), np.ones(4)], ["a has size 3 along axis 0", "c has size 4 along axis 0"])
    f = fc.function(*_ofg_elemwise(False), mode=kept)
    assert _said(f, [np.ones(3), np.ones(4)], X_Y) == {"x", "y"}


def _scan_outside_dot() -> tuple[list, list]:
    """The step's product reads ``2 * W``, computed once outside the step: named by W."""
    xs, W = ft.dmatrix("xs"), ft.dmatrix("W")
    res, _ = fc.scan(lambda x_t, w: ft.dot(x_t, w), sequences=[xs], non_sequences=[2 * W])
    return [xs, W], [res]


def _ifelse_outside_dot() -> tuple[list, list]:
    """The branch's product reads ``2 * W``, which the rest of the graph reads too: computed
    once outside the branch."""
    c, x, W = ft.bscalar("c"), ft.dvector("x"), ft.dmatrix("W")
    W2 = 2 * W
    return [c, x, W], [ifelse(c, ft.dot(x, W2), W2.sum(0)), W2.sum()]


def _ofg_outside_dot() -> tuple[list, list]:
    a, b = ft.dvector("a"), ft.dmatrix("b")
    op = OpFromGraph([a, b], [ft.exp(ft.dot(a, b))])
    x, W = ft.dvector("x"), ft.dmatrix("W")
    return [x, W], [op(x, 2 * W)]


def _nested_scan(product: bool) -> tuple[list, list]:
    """A loop in a loop's step reading a value computed outside both (``2 * U``): a broadcast
    (``exp(z) * u``) or a product (``dot(z, u)``) there names U."""
    Z, U = ft.dtensor3("Z"), (ft.dmatrix("U") if product else ft.dvector("U"))

    def outer(z_t: Any, u: Any) -> Any:
        body = (lambda r, u: ft.dot(r, u)) if product else (lambda r, u: ft.exp(r) * u)
        inner, _ = fc.scan(body, sequences=[z_t], non_sequences=[u])
        return inner

    res, _ = fc.scan(outer, sequences=[Z], non_sequences=[2 * U])
    return [Z, U], [res]


def _nested_scan_positions() -> tuple[list, list]:
    """``2 * U`` is the inner loop's second input but the outer step's third (after ``V``):
    an error located among the inner loop's inputs must not name the outer step's second."""
    Z, V, U = ft.dtensor3("Z"), ft.dvector("V"), ft.dvector("U")

    def outer(z_t: Any, v: Any, u: Any) -> Any:
        inner, _ = fc.scan(lambda r, u: ft.exp(r) * u, sequences=[z_t], non_sequences=[u])
        return inner + v

    res, _ = fc.scan(outer, sequences=[Z], non_sequences=[V, 2 * U])
    return [Z, V, U], [res]


def _scan_in_op_from_graph() -> tuple[list, list]:
    """The op's inputs unnamed: its loop's are named by the outer inputs given."""
    a, u = ft.dmatrix(), ft.dvector()
    inner, _ = fc.scan(lambda r, u: ft.exp(r) * u, sequences=[a], non_sequences=[u])
    op = OpFromGraph([a, u], [inner])
    X, U = ft.dmatrix("X"), ft.dvector("U")
    return [X, U], [op(X, 2 * U)]


def _ifelse_in_scan() -> tuple[list, list]:
    c, Z, U = ft.bscalar("c"), ft.dmatrix("Z"), ft.dvector("U")
    res, _ = fc.scan(
        lambda z_t, u, c: ifelse(c, ft.exp(z_t) * u, z_t), sequences=[Z], non_sequences=[2 * U, c]
    )
    return [c, Z, U], [res]


W_X = ["W has size 4 along axis 0"]
NESTED: dict[str, tuple[Callable[[], tuple[list, list]], list[tuple[list, list[str]]]]] = {
    "scan_outside_dot": (
        _scan_outside_dot,
        [([np.ones((2, 3)), np.ones((4, 2))], ["W has size 4 along axis 0"])],
    ),
    "ifelse_outside_dot": (_ifelse_outside_dot, [([np.int8(1), np.ones(3), np.ones((4, 2))], W_X)]),
    "op_from_graph_outside_dot": (_ofg_outside_dot, [([np.ones(3), np.ones((4, 2))], W_X)]),
    "nested_scan_broadcast": (
        lambda: _nested_scan(False),
        [([np.ones((2, 3, 4)), np.ones(5)], ["U has size 5 along axis 0"])],
    ),
    "nested_scan_dot": (
        lambda: _nested_scan(True),
        [([np.ones((2, 3, 3)), np.ones((4, 2))], ["U has size 4 along axis 0"])],
    ),
    "nested_scan_positions": (
        _nested_scan_positions,
        [([np.ones((2, 3, 4)), np.ones(4), np.ones(5)], ["U has size 5 along axis 0"])],
    ),
    "scan_in_op_from_graph": (
        _scan_in_op_from_graph,
        [([np.ones((3, 4)), np.ones(5)], ["U has size 5 along axis 0"])],
    ),
    "ifelse_in_scan": (
        _ifelse_in_scan,
        [([np.int8(1), np.ones((3, 4)), np.ones(5)], ["U has size 5 along axis 0"])],
    ),
}


@pytest.mark.parametrize("case", list(NESTED))
def test_a_value_computed_outside_the_inner_graphs_is_named_by_its_input(case: str) -> None:
    """A product's operand, or a value of a loop nested in another inner graph, computed outside
    every inner graph is named by the user's input it has its size of, in every mode."""
    graph, calls = NESTED[case]
    named = {}
    for mode in MODES:
        f = fc.function(*graph(), mode=mode)
        named[mode] = [_said(f, values, said) for values, said in calls]
    assert named["FAST_RUN"] == named["FAST_COMPILE"], named


def _hvp() -> tuple[list, list]:
    """The check of ``g * v`` in a Hessian-vector product is, in FAST_RUN, a loop of a
    shape-only input: named after the user's ``mul`` only through the graph it was made from."""
    ins, outs, _ = fused_hvp()
    return ins, outs


PICKLED = {
    **CASES,
    **NESTED,
    "hvp": (_hvp, [([*fused_hvp()[2][:3], np.ones(6)], ["v has size 6 along axis 0"])]),
}


@pytest.mark.parametrize(
    "case", ["hvp", "scan_step_mean", "scan_mean_of_a_sum", "ifelse_sum", "scan_outside_dot"]
)
def test_an_unpickled_function_names_what_the_function_pickled_named(case: str) -> None:
    """Tags, which link the optimized graph to the user's, are not pickled: an unpickled
    function finds them again at its first error."""
    graph, calls = PICKLED[case]
    for mode in MODES:
        f = fc.function(*graph(), mode=mode)
        g = pickle.loads(pickle.dumps(f))
        for values, said in calls:
            assert _said(g, values, said) == _said(f, values, said)
            assert str(_raised(g, values)) == str(_raised(f, values))


def _raised(f: Any, values: list) -> BaseException:
    with pytest.raises(ValueError) as info:
        f(*values)
    return info.value


_FRESH = """
import pickle, sys
import numpy as np
import fncache as fc
sys.path.insert(0, {tests!r})
from test_inner_size_errors import PICKLED, _raised
said = []
for case in {cases!r}:
    graph, calls = PICKLED[case]
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        for f in (pickle.load(open({pickles!r} + case + mode, "rb")), fc.function(*graph(), mode=mode)):
            said += [str(_raised(f, values)) for values, _ in calls]
pickle.dump(said, open({pickles!r} + "said", "wb"))
"""


def test_a_fresh_process_names_what_the_compiling_one_named(tmp_path: Any) -> None:
    """A pickle loaded in a fresh process, and the same graph compiled there (a warm cache hit,
    the compiledir being shared), name what the function compiled cold named."""
    cases = ["hvp", "scan_mean_of_a_sum", "nested_scan_dot"]
    said = []
    for case in cases:
        graph, calls = PICKLED[case]
        for mode in MODES:
            f = fc.function(*graph(), mode=mode)
            (tmp_path / (case + mode)).write_bytes(pickle.dumps(f))
            said += [str(_raised(f, values)) for values, _ in calls] * 2
    script = _FRESH.format(tests=str(Path(__file__).parent), cases=cases, pickles=f"{tmp_path}/")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert pickle.loads((tmp_path / "said").read_bytes()) == said
