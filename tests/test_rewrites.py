"""The optimizer does real work: fusion (W1 is one loop, W2 one fused reduction), merge,
constant folding, canonicalization (x*1, log(exp(x)), ...), and the tags that switch them off.
Every graph is also checked against numpy, so a rewrite can never change a result."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import Constant
from fncache.tensor.elemwise import Elemwise
from fncache.tensor.reduction import Reduce
from fcutil import MODES, assert_same, sample


def _nodes(f) -> list:
    return f.optimized_graph.toposort()


def _kinds(f) -> list[str]:
    return [type(n.op).__name__ for n in _nodes(f)]


def _w1():
    x, y, z = ft.vector("x"), ft.vector("y"), ft.vector("z")
    return [x, y, z], ft.exp(x) * y + ft.sin(z) / (1 + x * x)


def _w1_ref(x, y, z):
    return np.exp(x) * y + np.sin(z) / (1 + x * x)


def test_w1_is_one_elemwise_node() -> None:
    ins, w1 = _w1()
    f = fc.function(ins, w1)
    nodes = _nodes(f)
    assert len(nodes) == 1 and isinstance(nodes[0].op, Elemwise), fc.debugprint(f)
    vals = [sample("float64", (1000,), k) for k in range(3)]
    assert_same(f(*vals), _w1_ref(*vals), "W1")
    vals32 = [v.astype("float32") for v in vals]
    x, y, z = (ft.vector(n, "float32") for n in "xyz")
    f32 = fc.function([x, y, z], ft.exp(x) * y + ft.sin(z) / (1 + x * x))
    assert len(_nodes(f32)) == 1
    assert_same(f32(*vals32), _w1_ref(*vals32).astype("float32"), "W1 float32", rtol=1e-5)


def test_excluding_fusion_leaves_several_nodes() -> None:
    ins, w1 = _w1()
    f = fc.function(ins, w1, mode=fc.Mode().excluding("fusion"))
    assert _kinds(f).count("Elemwise") >= 5, fc.debugprint(f)
    vals = [sample("float64", (50,), k) for k in range(3)]
    assert_same(f(*vals), _w1_ref(*vals), "W1 unfused")
    g = fc.function(ins, w1, mode="FAST_COMPILE")
    assert len(_nodes(g)) >= 5
    assert_same(g(*vals), _w1_ref(*vals), "W1 FAST_COMPILE")
    assert len(f.original_graph.toposort()) >= 5


def test_w2_is_one_fused_reduction() -> None:
    x, y = ft.vector("x"), ft.vector("y")
    f = fc.function([x, y], ft.sum((x - y) ** 2))
    nodes = _nodes(f)
    assert len(nodes) == 1, fc.debugprint(f)
    assert isinstance(nodes[0].op, Reduce) and nodes[0].op.pre is not None
    xv, yv = sample("float64", (100_000,), 1, special=False), sample("float64", (100_000,), 2, special=False)
    assert_same(f(xv, yv), np.sum((xv - yv) ** 2), "W2", rtol=1e-10)
    assert_same(f(xv[::2], yv[::-2]), np.sum((xv[::2] - yv[::-2]) ** 2), "W2 strided", rtol=1e-10)
    m = ft.matrix("m")
    g = fc.function([m, y], ft.mean((m - y) ** 2, axis=1))
    assert len(_nodes(g)) == 1 and _nodes(g)[0].op.pre is not None
    mv = sample("float64", (30, 40), 3, special=False)
    assert_same(g(mv, yv[:40]), np.mean((mv - yv[:40]) ** 2, axis=1), "fused mean")


def test_merge_removes_duplicates() -> None:
    x = ft.vector("x")
    a, b = ft.exp(x) * 2, ft.exp(x) * 2
    f = fc.function([x], [a, b, ft.exp(x) + ft.exp(x)], mode=fc.Mode().excluding("fusion"))
    names = [str(n.op) for n in _nodes(f)]
    assert names.count("exp") == 1 and names.count("mul") == 1, names
    g = fc.function([x], [a, b], mode="FAST_COMPILE")
    assert len(_nodes(g)) == 2  # exp and mul, once each
    v = np.array([0.0, 1.0])
    for out in f(v)[:2] + g(v):
        assert_same(out, np.exp(v) * 2, "merged")
    assert_same(f(v)[2], 2 * np.exp(v), "exp(x) + exp(x)")


@pytest.mark.parametrize("mode", MODES)
def test_constant_folding(mode: str) -> None:
    x = ft.vector("x")
    c = ft.constant(np.arange(4.0))
    e = x * ft.exp(ft.constant(2.0)) + c.sum() + ft.sqrt(c)[2]
    f = fc.function([x], e, mode=mode)
    for n in _nodes(f):
        assert not all(isinstance(v, Constant) for v in n.inputs), fc.debugprint(f)
    assert "Sum" not in " ".join(map(str, _nodes(f))) and "sqrt" not in " ".join(
        str(n.op) for n in _nodes(f)
    ), fc.debugprint(f)
    v = np.array([1.0, -2.0])
    assert_same(f(v), v * np.exp(2.0) + 6.0 + np.sqrt(2.0), "folded")
    s = ft.matrix("s")
    g = fc.function([s], s.reshape((s.shape[0], -1)) + s.shape[1], mode=mode)
    assert_same(g(np.ones((2, 3))), np.full((2, 3), 4.0), "shape arithmetic")


def test_constant_folding_excluded() -> None:
    x = ft.vector("x")
    e = x + ft.exp(ft.constant(1.0))
    f = fc.function([x], e, mode=fc.Mode(linker="py", optimizer=None))
    assert any(str(n.op) == "exp" for n in _nodes(f))
    g = fc.function([x], e, mode=fc.Mode(linker="py", optimizer=None).including("constant_folding"))
    assert not any(str(n.op) == "exp" for n in _nodes(g))
    assert_same(f(np.zeros(1)), g(np.zeros(1)), "same result")


@pytest.mark.parametrize(
    "expr,ref",
    [
        (lambda x: x * 1, lambda v: v),
        (lambda x: 1 * x, lambda v: v),
        (lambda x: x + np.float64(-0.0), lambda v: v),
        (lambda x: x - 0, lambda v: v),
        (lambda x: x / 1, lambda v: v),
        (lambda x: x**1, lambda v: v),
        (lambda x: -(-x), lambda v: v),  # noqa: B002
        (lambda x: ft.log(ft.exp(x)), lambda v: v),
    ],
    ids=["x*1", "1*x", "x+(-0.0)", "x-0", "x/1", "x**1", "--x", "log(exp(x))"],
)
def test_canonicalize_removes(expr, ref) -> None:
    x = ft.vector("x")
    f = fc.function([x], expr(x))
    assert _nodes(f) == [], fc.debugprint(f)
    v = np.array([0.5, -2.0, np.nan, np.inf, -0.0])
    out = f(v)
    assert_same(out, ref(v), "canonicalized")
    assert not np.shares_memory(out, v)
    g = fc.function([x], expr(x), mode=fc.Mode().excluding("canonicalize"))
    assert _nodes(g), "excluding('canonicalize') keeps the op"


def test_canonicalize_keeps_what_changes_results() -> None:
    """Rewrites that would change NaN/inf results, dtypes or shapes are not applied."""
    x = ft.vector("x")
    i8 = ft.vector("i", "int8")
    cases = [
        (x * 0, lambda v, w: v * 0),
        (x - x, lambda v, w: v - v),
        (x / x, lambda v, w: v / v),
        (x * np.ones((3, 1)), lambda v, w: v * np.ones((3, 1))),
        (i8 * 1.0, lambda v, w: w * 1.0),
        (i8 + 0, lambda v, w: w + np.int8(0)),
        (x**2, lambda v, w: v**2),
        (x**0.5, lambda v, w: v**0.5),
    ]
    f = fc.function([x, i8], [c for c, _ in cases], on_unused_input="ignore")
    v = np.array([0.5, np.nan, np.inf, -4.0])
    w = np.array([1, -128, 127, 0], "int8")
    with np.errstate(all="ignore"):
        for k, (got, (_, ref)) in enumerate(zip(f(v, w), cases)):
            assert_same(got, ref(v, w), f"case {k}")


def test_switch_on_a_constant_condition_picks_its_branch() -> None:
    """switch(True, a, b) is a and switch(False, b, a) is a (NaN and inf included) where b
    cannot broadcast a; a branch the switch may broadcast (a scalar, a length-1 axis, an axis
    of unknown length against another) keeps the node and its result."""
    x, y = ft.vector("x"), ft.vector("y")
    v = np.array([0.5, np.nan, np.inf, -0.0])
    w = np.array([-1.0, 2.0, np.nan, 3.0])
    x4 = ft.tensor("x4", "float64", shape=(4,))
    for ins, expr in (
        ([x], ft.switch(np.bool_(True), x, 1.5)),
        ([x], ft.switch(np.bool_(False), 1.5, x)),
        ([x4], ft.switch(np.array([True, True, True, True]), x4, np.ones(4))),
    ):
        f = fc.function(ins, expr)
        assert _nodes(f) == [], fc.debugprint(f)
        assert_same(f(v), v, str(expr))
    f = fc.function([x], ft.switch(np.bool_(True), 0.0, x))
    assert _nodes(f), "a scalar branch is broadcast: the switch stays"
    assert_same(f(v), np.zeros(4), "switch(True, 0.0, x)")
    f = fc.function([x, y], ft.switch(np.bool_(True), x, y))
    assert_same(f(np.array([7.0]), w), np.full(4, 7.0), "a branch of run-time length 1 is broadcast")
    g = ft.tensor("g", "float64", shape=(1,))
    f = fc.function([g, y], ft.switch(np.bool_(True), g, y))
    assert_same(f(np.array([7.0]), w), np.full(4, 7.0), "a branch of static length 1 is broadcast")
    f = fc.function([x], ft.switch(np.array([True, False, True, True]), x, 2 * x))
    assert_same(f(v), np.where([True, False, True, True], v, 2 * v), "a mixed condition")


def test_elementwise_inputs_lose_dimshuffles_that_only_prepend_broadcast_dims() -> None:
    """x * s[None] and m + v[None, :] read s and v directly (elementwise broadcasting does the
    same); a dimshuffle that transposes, or that gives the output its rank, stays."""
    s, x, m, v = ft.scalar("s"), ft.vector("x"), ft.matrix("m"), ft.vector("v")
    sv, xv = np.float64(-1.5), np.array([0.5, np.nan, np.inf, -0.0])
    mv, vv = np.arange(12.0).reshape(3, 4), np.array([1.0, -2.0, 0.25, 8.0])
    f = fc.function([s, x, m, v], [x * s.dimshuffle("x"), m + v.dimshuffle("x", 0)])
    assert "DimShuffle" not in _kinds(f), fc.debugprint(f)
    got = f(sv, xv, mv, vv)
    assert_same(got[0], xv * sv, "x * s[None]")
    assert_same(got[1], mv + vv[None, :], "m + v[None, :]")
    g = fc.function([s, m], [s.dimshuffle("x") * 2.0, m * m.dimshuffle(1, 0)[:, :3]])
    assert _kinds(g).count("DimShuffle") == 2, fc.debugprint(g)
    got = g(sv, mv[:3, :3])
    assert_same(got[0], np.array([sv * 2.0]), "s[None] * 2 keeps its rank")
    assert_same(got[1], mv[:3, :3] * mv[:3, :3].T, "a transpose stays")


@pytest.mark.parametrize("mode", MODES)
def test_log_sigmoid_is_stable(mode: str) -> None:
    x = ft.vector("x")
    f = fc.function([x], [ft.log(ft.sigmoid(x)), ft.log(1 - ft.sigmoid(x))], mode=mode)
    v = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    a, b = f(v)
    if mode == "FAST_RUN":  # logistic rewrites both into softplus: exact and finite
        assert_same(a, -np.logaddexp(0, -v), "log(sigmoid(x))")
        assert_same(b, -np.logaddexp(0, v), "log(1 - sigmoid(x))")
    else:  # FAST_COMPILE computes what was written, as numpy does
        with np.errstate(all="ignore"):
            sig = 1 / (1 + np.exp(-v))
            assert_same(a, np.log(sig), "naive log(sigmoid(x))")
            assert_same(b, np.log(1 - sig), "naive log(1 - sigmoid(x))")


def test_fusion_with_shared_intermediate_and_broadcast() -> None:
    x, m = ft.vector("x"), ft.matrix("m")
    t = ft.exp(x)
    outs = [t * 2, t + m, (m * t).sum(axis=0), ft.tanh(m.T) + x.dimshuffle(0, "x")]
    f = fc.function([x, m], outs)
    xv, mv = sample("float64", (4,), 1), sample("float64", (3, 4), 2)
    want = [np.exp(xv) * 2, np.exp(xv) + mv, (mv * np.exp(xv)).sum(axis=0), np.tanh(mv.T) + xv[:, None]]
    for k, (g, w) in enumerate(zip(f(xv, mv), want)):
        assert_same(g, w, f"output {k}")


def test_inspection() -> None:
    ins, w1 = _w1()
    f = fc.function(ins, w1, name="w1")
    text = fc.debugprint(f)
    assert "Composite" in text and "w1" in text
    assert re.fullmatch(r"[0-9a-f]{16,}", f.cache_key)
    a, b, c = ft.vector("a"), ft.vector("b"), ft.vector("c")
    g = fc.function([a, b, c], ft.exp(a) * b + ft.sin(c) / (1 + a * a))
    assert g.cache_key == f.cache_key  # names do not matter
    h = fc.function(ins, w1, mode="FAST_COMPILE")
    assert h.cache_key != f.cache_key
    k = fc.function(ins, w1 + 1)
    assert k.cache_key != f.cache_key
    assert len(f.original_graph.toposort()) > len(f.optimized_graph.toposort())
    assert "Graph" in fc.debugprint(w1) and "exp" in fc.debugprint([w1])


def _body_ops(f) -> list[str]:
    return [name for n in _nodes(f) if isinstance(n.op, Elemwise) for name, _, _ in n.op.composite.steps]


def test_a_fused_loop_drops_steps_its_constant_inputs_decide() -> None:
    """Inside a fused loop a switch on a constant condition is its branch, and x + 0, x - 0,
    x * 1, x / 1 are x, even where the node-level rewrite must keep them (the other operand
    broadcasts them): the loop keeps every input, so its shape is still numpy's. Results
    match numpy for NaN, inf, -0.0, empty and length-1 inputs, broadcast both ways."""
    x, y = ft.vector("x"), ft.vector("y")
    zero, one = ft.constant(0.0), ft.constant(1.0)
    expr = (
        ft.exp(x) * ft.switch(np.bool_(True), 1.0, y)
        + ft.switch(np.bool_(False), y, x * 2.0) * ft.switch(np.bool_(True), zero, y) ** 2
        - ft.sin(y) / ft.switch(np.bool_(True), one, x)
        + ft.switch(np.bool_(True), x, y) * ft.switch(np.array(True), one, x)
    )

    def ref(a, b):
        bb = np.broadcast_to(b, np.broadcast(a, b).shape)
        return (
            np.exp(a) * np.ones_like(bb)
            + (a * 2.0) * np.zeros_like(bb) ** 2
            - np.sin(b) / np.ones_like(a)
            + np.broadcast_to(a, bb.shape) * 1.0
        )

    f = fc.function([x, y], expr)
    assert len(_nodes(f)) == 1, fc.debugprint(f)
    assert "switch" not in _body_ops(f), fc.debugprint(f)
    unsimplified = fc.function([x, y], expr, mode=fc.Mode().excluding("composite_constants"))
    assert _body_ops(unsimplified).count("switch") >= 4
    assert len(_body_ops(f)) < len(_body_ops(unsimplified))
    special = np.array([0.5, np.nan, np.inf, -0.0, -np.inf, 3.0])
    with np.errstate(all="ignore"):
        for a, b in (
            (special, special[::-1].copy()),
            (np.array([2.0]), special),
            (special, np.array([-1.5])),
            (np.zeros(0), np.zeros(0)),
            (np.array([-0.0]), np.array([0.0])),
        ):
            assert_same(f(a, b), ref(a, b), f"{a.shape} {b.shape}")
            assert_same(f(a, b), unsimplified(a, b), f"{a.shape} {b.shape}: as before")
    m = ft.matrix("m")
    g = fc.function([m, x], ft.switch(np.bool_(True), 1.0, m) * ft.exp(x))
    mv, xv = sample("float64", (3, 4), 2), sample("float64", (4,), 3)
    with np.errstate(all="ignore"):
        assert_same(g(mv, xv), np.ones((3, 4)) * np.exp(xv), "a matrix broadcasts the vector")
    assert "switch" not in _body_ops(g), fc.debugprint(g)


def test_a_fused_loop_keeps_steps_that_change_results() -> None:
    """0 * x is NaN where x is inf or NaN, a switch on a condition that varies picks per
    element, and a unit of another dtype would change the step's type: all stay."""
    x = ft.vector("x")
    mask = np.array([True, False, True])
    f = fc.function([x], ft.switch(np.bool_(True), 0.0, x) * ft.exp(x) + ft.switch(mask, x, 2.0 * x))
    ops = _body_ops(f)
    assert "switch" in ops and "mul" in ops, fc.debugprint(f)
    v = np.array([np.inf, 1.0, np.nan])
    with np.errstate(all="ignore"):
        assert_same(f(v), np.zeros(3) * np.exp(v) + np.where(mask, v, 2.0 * v), "kept")


def test_the_sum_of_a_jacobian_row_seed_is_its_one() -> None:
    """A Hessian's rows sum their one-hot seed (the gradient of sum(x)**2): that sum is the
    seed's one, as the seed's index is in range for every row, so no row reduces anything.
    The gradient of x[k] for any k is not such a seed: its sum stays, and checks k."""
    from fncache.tensor.grad_ops import SubtensorGrad
    from fncache.tensor.jacobian_rows import JacobianRows

    x, k = ft.dvector("x"), ft.lscalar("k")
    h = fc.function([x], ft.hessian(ft.sum(ft.exp(x) * x) + ft.sum(x) ** 2, x))
    (rows,) = [n for n in _nodes(h) if isinstance(n.op, JacobianRows)]
    inner = rows.tag["inner_function"]
    assert not any(isinstance(n.op, Reduce) for n in _nodes(inner)), fc.debugprint(inner)
    for n in (0, 1, 2, 7):
        v = np.linspace(-1.0, 1.5, n)
        np.testing.assert_allclose(h(v), np.diag(np.exp(v) * (2 + v)) + 2.0, rtol=1e-14)
    f = fc.function([x, k], ft.sum(fc.grad(x[k] * 3.0, x)))
    assert any(isinstance(n.op, Reduce) for n in _nodes(f)), fc.debugprint(f)
    assert_same(f(np.ones(4), 2), np.float64(3.0), "x[k]'s gradient summed")
    with pytest.raises(IndexError):
        f(np.ones(4), 4)
    g = ft.fscalar("g")
    seed = SubtensorGrad((("i", ("v", 0)),), in_range=True)(x, g, k)
    f = fc.function([x, g, k], [ft.sum(seed, dtype="float64"), ft.sum(seed)])
    assert not any(isinstance(n.op, Reduce) for n in _nodes(f)), fc.debugprint(f)
    got = f(np.zeros(3), np.float32(1.25), 1)
    assert_same(got[0], np.float64(1.25), "summed in float64")
    assert_same(got[1], np.float32(1.25), "summed in float32")
    # numpy's sum starts from 0.0: a -0.0 written among zeros sums to 0.0
    assert not np.signbit(f(np.zeros(3), np.float32(-0.0), 1)).any(), "the sum of -0.0 and zeros"
    m = ft.dmatrix("m")
    row_seed = SubtensorGrad((("i", ("v", 0)),), in_range=True)(m, ft.dvector("r"), k)
    f = fc.function([m, row_seed.owner.inputs[1], k], ft.sum(row_seed))
    assert any(isinstance(n.op, Reduce) for n in _nodes(f)), "a row written, not one value: summed"
    assert_same(f(np.zeros((3, 2)), np.array([1.5, 2.0]), 2), np.float64(3.5), "row seed")


_PASS_ORDER = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
import fncache as fc
from fncache.rewrite import selected
print(" ".join(r.name for r in selected(fc.Mode("py", "fast_run"))))
"""


def test_the_passes_run_in_one_order_whatever_was_imported_first() -> None:
    """A process that imported the rewrite modules in another order (alphabetically, as a walk
    of the package does) runs the passes in the same order: `log_softmax` before
    `index_elemwise` (the other way round, a picked log-probability stayed the log of the
    softmax, -inf where a probability underflows)."""
    from fcutil import run_python

    import fncache.rewrite as rw

    modules = sorted(
        f"fncache.rewrite.{p.stem}" for p in Path(rw.__file__).parent.glob("*.py") if p.stem != "__init__"
    )
    plain = run_python(_PASS_ORDER).split()
    assert plain.index("log_softmax") < plain.index("index_elemwise")
    assert run_python(_PASS_ORDER, *modules).split() == plain
    assert run_python(_PASS_ORDER, *reversed(modules)).split() == plain
