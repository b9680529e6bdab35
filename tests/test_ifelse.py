"""``ifelse`` is lazy, as Theano/PyTensor's: in a compiled function (the C run-time and the
Python linker) the branch not taken is not computed, so its assertions, out-of-range indices and
Python ops do not run, and a function computing the gradient through it runs only the taken
branch's forward and backward work. Results against numpy for both branches, nested and
multi-output ``ifelse``, nodes shared with the rest of the graph computed once, gradients
against central finite differences (also inside a loop), the cache (a fresh process hits it), pickles, and the module paths Theano
users import from (``fncache.ifelse``, ``fncache.printing``)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

from fcutil import fd_check_grads, run_python

PY = fc.Mode(linker="py")
#: the C run-time (the default mode), the Python linker, and FAST_COMPILE's few rewrites
MODES = [None, PY, "FAST_COMPILE"]
MODE_IDS = ["c", "py", "fast_compile"]
RNG = np.random.default_rng(20261203)


def _counter(calls: list[str], tag: str) -> Any:
    """A Python op doubling a vector that records each call in ``calls``."""

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
    def count(v: np.ndarray) -> np.ndarray:
        calls.append(tag)
        return v * 2

    return count


def _counted_double(calls: list[str], tag: str) -> Any:
    """A Python op doubling a vector whose gradient is another one; the forward records
    ``tag`` in ``calls`` each time it runs, the gradient ``tag'``."""

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
    def backward(g: np.ndarray) -> np.ndarray:
        calls.append(tag + "'")
        return g * 2

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector], grad=lambda inputs, grads: [backward(grads[0])])
    def forward(v: np.ndarray) -> np.ndarray:
        calls.append(tag)
        return v * 2

    return forward


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_the_branch_not_taken_is_not_computed(mode: Any) -> None:
    c, x, i = ft.dscalar("c"), ft.dvector("x"), ft.lscalar("i")
    calls: list[str] = []
    then = _counter(calls, "then")(ft.assert_op(x, ft.all(ft.gt(x, 0)), "then needs x > 0")) + x[i]
    other = _counter(calls, "else")(ft.assert_op(ft.exp(x), ft.all(ft.lt(x, 0)), "else needs x < 0"))
    f = fc.function([c, x, i], fc.ifelse(ft.gt(c, 0), then, other), mode=mode)
    pos, neg = np.array([1.0, 2.0]), np.array([-1.0, -3.0])
    # each call meets the other branch's failing assertion and index 5 out of range of x
    np.testing.assert_array_equal(f(1.0, pos, 1), pos * 2 + pos[1])
    assert calls == ["then"]
    np.testing.assert_allclose(f(-1.0, neg, 5), np.exp(neg) * 2, rtol=1e-12)
    assert calls == ["then", "else"]
    np.testing.assert_allclose(f(0.0, neg, 7), np.exp(neg) * 2, rtol=1e-12)
    assert calls == ["then", "else", "else"]
    # the branch taken still checks what it computes
    with pytest.raises(AssertionError, match="then needs x > 0"):
        f(1.0, neg, 0)
    with pytest.raises(IndexError):
        f(1.0, pos, 5)
    with pytest.raises(AssertionError, match="else needs x < 0"):
        f(-1.0, pos, 0)
    assert calls.count("else") == 2  # the failing calls took the then-branch or failed before


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_results_match_numpy_and_shared_nodes_run_once(mode: Any) -> None:
    c, x, y = ft.dscalar("c"), ft.dvector("x"), ft.dvector("y")
    calls: list[str] = []
    shared = _counter(calls, "shared")(x)  # read by a branch and by another output
    a = fc.ifelse(ft.lt(c, 0.5), ft.sin(shared) * y[:3] + ft.sum(y), ft.cumsum(x * 3)[::-1])
    f = fc.function([c, x, y], [a, shared.sum()], mode=mode)
    for trial in range(6):
        xv, yv, cv = RNG.normal(size=3), RNG.normal(size=3 + trial), RNG.uniform()
        got, s = f(cv, xv, yv)
        want = np.sin(xv * 2) * yv[:3] + yv.sum() if cv < 0.5 else np.cumsum(xv * 3)[::-1]
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert s == pytest.approx((xv * 2).sum(), rel=1e-12)
        assert calls == ["shared"] * (trial + 1)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_nested_ifelse_runs_only_the_path_taken(mode: Any) -> None:
    c1, c2, x = ft.dscalar("c1"), ft.dscalar("c2"), ft.dvector("x")
    calls: list[str] = []
    inner = fc.ifelse(ft.gt(c2, 0), _counter(calls, "a")(x) + 1, _counter(calls, "b")(x) - 1)
    z = fc.ifelse(ft.gt(c1, 0), inner * 3, _counter(calls, "c")(ft.sqrt(x)))
    f = fc.function([c1, c2, x], z, mode=mode)
    xv = RNG.uniform(1, 2, size=4)
    cases = [(1, 1, (xv * 2 + 1) * 3, "a"), (1, -1, (xv * 2 - 1) * 3, "b"), (-1, 1, np.sqrt(xv) * 2, "c")]
    for c1v, c2v, want, tag in cases:
        calls.clear()
        np.testing.assert_allclose(f(c1v, c2v, xv), want, rtol=1e-12)
        assert calls == [tag]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_ifelses_of_one_condition_run_only_the_side_taken(mode: Any) -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    cond = ft.gt(c, 0)
    calls: list[str] = []
    # one inside the other's then-branch (its else-branch is never needed), and one apart
    inner = fc.ifelse(cond, _counter(calls, "a")(x), _counter(calls, "b")(x))
    outer = fc.ifelse(cond, inner * 2, ft.exp(x))
    apart = fc.ifelse(cond, x + 1, _counter(calls, "d")(x))
    f = fc.function([c, x], [outer, apart], mode=mode)
    xv = RNG.normal(size=3)
    got = f(-1.0, xv)
    np.testing.assert_allclose(got[0], np.exp(xv), rtol=1e-12)
    np.testing.assert_array_equal(got[1], xv * 2)
    assert calls == ["d"]
    calls.clear()
    got = f(1.0, xv)
    np.testing.assert_array_equal(got[0], xv * 4)
    np.testing.assert_array_equal(got[1], xv + 1)
    assert calls == ["a"]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_several_outputs_of_different_shapes(mode: Any) -> None:
    c, m, v = ft.bscalar("c"), ft.dmatrix("m"), ft.dvector("v")
    calls: list[str] = []
    outs = fc.ifelse(c, [m.T, _counter(calls, "then")(v), v[0]], [m[:1] * 2, v[::-1] + 1, ft.sum(m)])
    f = fc.function([c, m, v], outs, mode=mode)
    mv, vv = RNG.normal(size=(2, 3)), RNG.normal(size=5)
    t = f(True, mv, vv)
    for g, w in zip(t, [mv.T, vv * 2, vv[0]]):
        np.testing.assert_array_equal(g, w)
    e = f(False, mv, vv)
    for g, w in zip(e, [mv[:1] * 2, vv[::-1] + 1, mv.sum()]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert calls == ["then"]
    # outputs are the caller's: changing one leaves the inputs alone
    t[0][0, 0] = 99.0
    assert mv[0, 0] != 99.0


def test_the_compiled_graph_holds_the_branches_as_inner_functions() -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    f = fc.function([c, x], fc.ifelse(ft.gt(c, 0), ft.exp(x) + 1, ft.log(x)))
    # the outer graph: the condition and the node choosing a branch; exp and log are inside
    nodes = f.optimized_graph.toposort()
    assert [type(n.op).__name__ for n in nodes] == ["Elemwise", "LazyIfElse"]
    # branches that need nothing of their own keep the plain node (nothing to skip)
    y = ft.dvector("y")
    g = fc.function([c, x, y], fc.ifelse(ft.gt(c, 0), x, y), mode=PY)
    assert [type(n.op).__name__ for n in g.optimized_graph.toposort()] == ["Elemwise", "IfElse"]
    np.testing.assert_array_equal(g(0.0, np.ones(2), np.zeros(3)), np.zeros(3))


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_constant_condition_leaves_only_the_branch_taken(mode: Any) -> None:
    x = ft.dvector("x")
    bad = ft.assert_op(x, ft.all(ft.lt(x, 0)), "the else branch ran")
    outs = [fc.ifelse(ft.gt(ft.constant(2.0), 1), x, bad), fc.ifelse(ft.constant(False), bad, x * 2)]
    f = fc.function([x], outs, mode=mode)
    names = {type(n.op).__name__ for n in f.optimized_graph.toposort()}
    assert not names & {"IfElse", "LazyIfElse", "Assert"}
    xv = np.ones(2)
    a, b = f(xv)
    a[0] = 5.0  # the output is the caller's, not the input
    np.testing.assert_array_equal(xv, [1.0, 1.0])
    np.testing.assert_array_equal(b, [2.0, 2.0])


def test_excluding_the_rewrite_computes_both_branches() -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    bad = ft.assert_op(x, ft.all(ft.lt(x, 0)), "the else branch ran")
    eager = fc.function([c, x], fc.ifelse(ft.gt(c, 0), x * 2, bad), mode=PY.excluding("ifelse_lazy"))
    with pytest.raises(AssertionError, match="the else branch ran"):
        eager(1.0, np.ones(2))
    lazy = fc.function([c, x], fc.ifelse(ft.gt(c, 0), x * 2, bad), mode=PY)
    np.testing.assert_array_equal(lazy(1.0, np.ones(2)), [2.0, 2.0])


@pytest.mark.parametrize("mode", [None, PY], ids=["c", "py"])
def test_gradients_match_finite_differences(mode: Any) -> None:
    c, x, y = ft.dscalar("c"), ft.dvector("x"), ft.dvector("y")
    cases = {
        "then_or_else": (lambda c, x, y: fc.ifelse(ft.gt(c, 0), ft.exp(x) * y, ft.sin(y) * x[0]), [1, 2]),
        "nested": (
            lambda c, x, y: fc.ifelse(ft.gt(c, 0), fc.ifelse(ft.gt(c, 1), x * x, x * y), ft.tanh(y)),
            [1, 2],
        ),
        # each branch reads a variable the other does not (zeros for it on the other side),
        # a branch value is an input itself, and the cost reads a branch's node outside too
        "disjoint": (lambda c, x, y: fc.ifelse(ft.gt(c, 0), ft.exp(x), y) + ft.exp(x)[0], [1, 2]),
        "several": (
            lambda c, x, y: ft.concatenate(
                fc.ifelse(ft.gt(c, 1), [ft.sin(x * y), ft.sum(y) * x], [ft.cos(x), x * x])
            ),
            [1, 2],
        ),
        "one_output_used": (lambda c, x, y: fc.ifelse(ft.lt(c, 1), [x * y, ft.exp(y)], [x, y])[0], [1, 2]),
    }
    xv, yv = RNG.normal(size=3), RNG.normal(size=3)
    fd_check_grads([c, x, y], cases, [[np.array(cv), xv, yv] for cv in (2.0, 0.5, -1.0)], mode=mode)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_gradient_runs_only_the_branch_taken(mode: Any) -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    calls: list[str] = []
    # each branch fails an assertion when not taken: neither its value nor its gradient runs
    then = ft.exp(_counted_double(calls, "a")(ft.assert_op(x, ft.all(ft.gt(x, 0)), "then needs x > 0")))
    other = ft.sin(_counted_double(calls, "b")(ft.assert_op(x, ft.all(ft.lt(x, 0)), "else needs x < 0")))
    y = fc.ifelse(ft.gt(c, 0), then, other)
    f = fc.function([c, x], [y, fc.grad(ft.sum(ft.sqr(y)), x)], mode=mode)
    pos, neg = np.array([0.5, 0.25]), np.array([-0.5, -2.0])
    v, g = f(1.0, pos)
    np.testing.assert_allclose(v, np.exp(2 * pos), rtol=1e-12)
    np.testing.assert_allclose(g, 4 * np.exp(4 * pos), rtol=1e-12)
    assert calls == ["a", "a'"]
    calls.clear()
    v, g = f(-1.0, neg)
    np.testing.assert_allclose(v, np.sin(2 * neg), rtol=1e-12)
    np.testing.assert_allclose(g, 4 * np.sin(2 * neg) * np.cos(2 * neg), rtol=1e-12)
    assert calls == ["b", "b'"]
    # the gradient alone (its own ops: a Python op's cache key holds its closure's values)
    calls.clear()
    y = fc.ifelse(ft.gt(c, 0), ft.exp(_counted_double(calls, "c")(x)), ft.sin(_counted_double(calls, "d")(x)))
    h = fc.function([c, x], fc.grad(ft.sum(y), x), mode=mode)
    np.testing.assert_allclose(h(-1.0, neg), 2 * np.cos(2 * neg), rtol=1e-12)
    assert calls == ["d", "d'"]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_nested_gradient_runs_only_the_path_taken(mode: Any) -> None:
    c1, c2, x = ft.dscalar("c1"), ft.dscalar("c2"), ft.dvector("x")
    calls: list[str] = []
    inner = fc.ifelse(
        ft.gt(c2, 0), ft.exp(_counted_double(calls, "a")(x)), ft.sin(_counted_double(calls, "b")(x))
    )
    z = fc.ifelse(ft.gt(c1, 0), inner * 3, _counted_double(calls, "c")(ft.sqrt(x)))
    f = fc.function([c1, c2, x], [z, fc.grad(ft.sum(ft.sqr(z)), x)], mode=mode)
    xv = RNG.uniform(1, 2, size=3)
    cases = [
        (1, 1, 18 * 2 * np.exp(4 * xv), "a"),
        (1, -1, 18 * 2 * np.sin(2 * xv) * np.cos(2 * xv), "b"),
        (-1, 1, 8 * np.sqrt(xv) / (2 * np.sqrt(xv)), "c"),
    ]
    for c1v, c2v, want, tag in cases:
        calls.clear()
        np.testing.assert_allclose(f(c1v, c2v, xv)[1], want, rtol=1e-12)
        assert calls == [tag, tag + "'"]


def test_a_value_and_its_gradient_run_in_one_node() -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    y = fc.ifelse(ft.gt(c, 0), ft.exp(x) * 2, ft.sin(x))
    f = fc.function([c, x], [y, fc.grad(ft.sum(ft.sqr(y)), x)], mode=PY)
    # the gradient's seed (2 y) is computed in each branch from the branch's value, so the
    # ifelse and its gradient's read nothing of one another and become one node: each branch
    # computes its value and gradient together; nothing else is left outside
    ops = [type(n.op).__name__ for n in f.optimized_graph.toposort()]
    assert ops == ["Elemwise", "LazyIfElse"]
    # without the rewrite both branches run before the choice, with the same results
    eager = fc.function([c, x], [y, fc.grad(ft.sum(ft.sqr(y)), x)], mode=PY.excluding("ifelse_lazy"))
    xv = RNG.normal(size=4)
    for cv in (1.0, -1.0):
        for got, want in zip(f(cv, xv), eager(cv, xv)):
            np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_gradient_reading_an_output_takes_the_forward_values_from_the_forward_node(mode: Any) -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    calls: list[str] = []
    y = fc.ifelse(ft.gt(c, 0), _counted_double(calls, "a")(x), ft.sin(_counted_double(calls, "b")(x)))
    e = ft.exp(y)  # an output of the function, which the gradient reads too
    f = fc.function([c, x], [e, fc.grad(ft.sum(e), x)], mode=mode)
    lazy = [n.op for n in f.optimized_graph.toposort() if type(n.op).__name__ == "LazyIfElse"]
    # the first hands 2x (the else-branch's, whose gradient reads it) to the gradient's node
    assert [op.n_outs for op in lazy] == [2, 1]
    xv = RNG.normal(size=3)
    got = f(1.0, xv)
    np.testing.assert_allclose(got[0], np.exp(2 * xv), rtol=1e-12)
    np.testing.assert_allclose(got[1], 2 * np.exp(2 * xv), rtol=1e-12)
    assert calls == ["a", "a'"]
    calls.clear()
    got = f(-1.0, xv)
    np.testing.assert_allclose(got[0], np.exp(np.sin(2 * xv)), rtol=1e-12)
    np.testing.assert_allclose(got[1], 2 * np.exp(np.sin(2 * xv)) * np.cos(2 * xv), rtol=1e-12)
    assert calls == ["b", "b'"]


def test_gradients_with_respect_to_a_branchs_own_values_and_blocked_ones() -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")
    a = ft.exp(x)  # only the then-branch reads it
    y = fc.ifelse(ft.gt(c, 0), a * 3, ft.sin(x))
    wrt_a = fc.function([c, x], fc.grad(ft.sum(y), [x, a]), mode=PY)
    constant_a = fc.function([c, x], fc.grad(ft.sum(y * x), x, consider_constant=[a]), mode=PY)
    jac = fc.function([c, x], ft.jacobian(y, x), mode=PY)
    xv = RNG.normal(size=3)
    for cv, dx, da, dx_const, d_jac in [
        (1.0, 3 * np.exp(xv), np.full(3, 3.0), 3 * np.exp(xv), 3 * np.exp(xv)),
        (-1.0, np.cos(xv), np.zeros(3), np.sin(xv) + xv * np.cos(xv), np.cos(xv)),
    ]:
        gx, ga = wrt_a(cv, xv)
        np.testing.assert_allclose(gx, dx, rtol=1e-12)
        np.testing.assert_allclose(ga, da, rtol=1e-12)
        np.testing.assert_allclose(constant_a(cv, xv), dx_const, rtol=1e-12)
        np.testing.assert_allclose(jac(cv, xv), np.diag(d_jac), rtol=1e-12)


@pytest.mark.parametrize("mode", [None, PY], ids=["c", "py"])
def test_gradients_through_a_loop_of_ifelses_match_finite_differences(mode: Any) -> None:
    cs, x = ft.dvector("cs"), ft.dvector("x")
    calls: list[str] = []
    double = _counted_double(calls, "s")

    def step(cv: Any, h: Any) -> Any:
        return fc.ifelse(ft.gt(cv, 0), double(h) * ft.exp(h), ft.sin(h) + 1)

    out, _ = fc.scan(step, sequences=[cs], outputs_info=[x])
    cost = ft.sum(ft.sqr(out[-1]))
    f = fc.function([cs, x], [cost, fc.grad(cost, x)], mode=mode)
    xv = np.array([0.3, -0.4])

    def numeric(csv: np.ndarray, xv: np.ndarray) -> float:
        h = xv
        for cv in csv:
            h = 2 * h * np.exp(h) if cv > 0 else np.sin(h) + 1
        return float(np.sum(h**2))

    for csv in (np.array([1.0, -1.0, 1.0]), np.array([-1.0, -1.0])):
        calls.clear()
        cost_v, g = f(csv, xv)
        assert cost_v == pytest.approx(numeric(csv, xv), rel=1e-12)
        fd = [(numeric(csv, xv + 1e-6 * e) - numeric(csv, xv - 1e-6 * e)) / 2e-6 for e in np.eye(2)]
        np.testing.assert_allclose(g, fd, rtol=1e-6)
        # the steps taking the else-branch run neither the Python op nor its gradient
        taken = int(np.sum(csv > 0))
        assert calls.count("s'") == taken and calls.count("s") <= 2 * taken


# -- the cache, pickles, a fresh process ------------------------------------------------------------

BUILD_CODE = """
import numpy as np
import fncache as fc
from fncache import tensor as ft
c, x = ft.dscalar("c"), ft.dvector("x")
bad = ft.assert_op(x, ft.all(ft.lt(x, 0)), "the else branch ran")
z = fc.ifelse(ft.gt(c, 0), fc.ifelse(ft.gt(c, 1), ft.exp(x), x * 3), ft.log(bad))
f = fc.function([c, x], [z, ft.sqr(x).sum()])
"""

LOAD_CODE = """
import pickle, sys
import numpy as np
import fncache as fc
data = open(sys.argv[1], "rb").read()
f = fc.loads(data) if sys.argv[3] == "fc" else pickle.loads(data)
np.savez(sys.argv[2], *f(2.0, np.arange(1.0, 4.0)), *f(0.5, np.arange(1.0, 4.0)))
"""


def test_a_fresh_process_hits_the_cache_and_pickles_run_elsewhere(tmp_path) -> None:
    env = dict(os.environ, FNCACHE_FLAGS=f"compiledir={tmp_path / 'shared'}")

    def run(code: str, *argv: str) -> str:
        return run_python(code, *argv, env=env)

    show = BUILD_CODE + 'print(f.cache_key, fc.cache.stats()["compiles"], f(2.0, np.ones(2))[0][0])'
    (key1, compiles1, v1), (key2, compiles2, v2) = (run(show).split() for _ in range(2))
    # the second process compiled nothing (the function and its branches: all hits)
    assert key1 == key2 and int(compiles1) > 0 and int(compiles2) == int(compiles1)
    assert float(v1) == float(v2) == pytest.approx(np.e, rel=1e-12)
    ns: dict = {}
    exec(BUILD_CODE, ns)  # noqa: S102  (the same function, in this process)
    f = ns["f"]
    x = np.arange(1.0, 4.0)
    want = [*f(2.0, x), *f(0.5, x)]
    np.testing.assert_allclose(want[0], np.exp(x), rtol=1e-12)
    np.testing.assert_array_equal(want[2], x * 3)
    payloads = {"pickle": pickle.dumps(f), "fc": fc.dumps(f, embed_native=True)}
    for name, payload in payloads.items():
        (tmp_path / "f.pkl").write_bytes(payload)
        env["FNCACHE_FLAGS"] = f"compiledir={tmp_path / name}"
        run(LOAD_CODE, str(tmp_path / "f.pkl"), str(tmp_path / "out.npz"), name)
        got = np.load(tmp_path / "out.npz")
        for k, w in enumerate(want):
            np.testing.assert_array_equal(got[f"arr_{k}"], w, err_msg=name)
    g = pickle.loads(payloads["pickle"])
    assert g.cache_key == f.cache_key
    with pytest.raises(AssertionError, match="the else branch ran"):
        g(-1.0, x)


def test_the_branches_are_part_of_the_cache_key() -> None:
    c, x = ft.dscalar("c"), ft.dvector("x")

    def key(k: float) -> str:
        return fc.function([c, x], fc.ifelse(ft.gt(c, 0), x * k, ft.exp(x)), mode=PY).cache_key

    assert key(2.0) == key(2.0) != key(3.0)


def test_a_function_without_ifelse_never_loads_its_op() -> None:
    code = (
        "import sys, numpy as np, fncache as fc, fncache.tensor as ft\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], ft.exp(x).sum())\n"
        "f(np.ones(3))\n"
        "print(sorted(m for m in ('fncache.tensor.ifelse_op', 'fncache.tensor.inner_graph') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# -- module paths as in Theano ----------------------------------------------------------------------


def test_theanos_module_paths_import() -> None:
    code = (
        "import numpy as np, fncache as fc, fncache.tensor as ft\n"
        "from fncache.ifelse import ifelse, IfElse\n"
        "import fncache.printing\n"
        "from fncache.printing import pp, debugprint\n"
        "x = ft.dvector('x')\n"
        "z = ifelse(ft.gt(x.sum(), 0), x * 2, -x)\n"
        "w = fc.ifelse(ft.lt(x.sum(), 0), x, x + 1)  # still the function once the module is imported\n"
        "assert fc.ifelse.ifelse is ifelse and ft.ifelse is ifelse and isinstance(z.owner.op, IfElse)\n"
        "assert fncache.printing.pp is pp is fc.pp is fncache.printing.pprint\n"
        "print(pp(x * 2), fc.function([x], [z, w])(np.ones(2))[1].tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(x * 2.0) [2.0, 2.0]", out.stdout + out.stderr


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_value_of_known_size_carried_to_the_gradient_of_a_branch(mode: Any) -> None:
    """A value one branch computes and a later node of the condition reads (the maximum a
    gradient reuses, of static size 1 with keepdims) comes from the other branch as a stand-in;
    it was (0, 0), and the later node's branch refused it for the size 1 it declares."""
    x, c = ft.dmatrix("x"), ft.lscalar("c")
    m = ft.max(x, axis=0, keepdims=True)
    y = fc.ifelse(ft.eq(c, 0), ft.zeros_like(x[0]), ft.log(ft.sum(ft.exp(x - m), axis=0)) + m[0])
    f = fc.function([c, x], [y, fc.grad(ft.sum(y), x)], mode=mode)
    a = np.arange(6.0).reshape(2, 3) / 5
    value, grad = f(0, a)
    np.testing.assert_array_equal(value, np.zeros(3))
    np.testing.assert_array_equal(grad, np.zeros_like(a))
    value, grad = f(1, a)
    e = np.exp(a - a.max(axis=0))
    np.testing.assert_allclose(value, np.log(e.sum(axis=0)) + a.max(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grad, e / e.sum(axis=0), rtol=1e-13)


def _shape_reads(v: Any, c: Any) -> dict[str, tuple[Any, Any]]:
    """Graphs where the branch taken for ``c`` reads ``v`` and elsewhere only ``v``'s shape is
    read (outside the ifelse, or by the other branch), each with numpy's result for ``v``'s
    value and ``c``."""
    then = fc.ifelse(c, ft.sum(v), ft.constant(0.0))
    return {
        "shape[0] outside": (then + v.shape[0], lambda w, c: c * w.sum() + w.shape[0]),
        "shape[-1] outside": (then + v.shape[-1], lambda w, c: c * w.sum() + w.shape[-1]),
        "shape outside": (then + ft.prod(v.shape), lambda w, c: c * w.sum() + w.size),
        "zeros_like outside": (then + ft.zeros_like(v).sum(), lambda w, c: c * w.sum()),
        "shape in the other branch": (
            fc.ifelse(c, ft.sum(v), ft.cast(v.shape[0], "float64")),
            lambda w, c: w.sum() if c else float(w.shape[0]),
        ),
    }


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_a_value_a_branch_reads_and_elsewhere_its_shape_only_is_computed_in_the_branch(mode: Any) -> None:
    """A value only one branch reads, whose shape is read elsewhere as well: where computing it
    raises for no value (``exp``) FAST_RUN reads the shape from its input's and computes the
    value in its branch only, whether the input's sizes are known when the graph is built or not (with a
    static size FAST_RUN computed ``exp`` outside the ifelse, whichever branch was taken, as it
    did for the whole shape read as a vector); where it may raise (a factorization, an integer
    power, an index) reading its shape raises as computing it does, whichever branch is taken
    (no error skipped). Results equal numpy's both ways."""
    c = ft.lscalar("c")
    ok = np.array([[2.0, 0.5], [0.5, 3.0]])
    for a in (
        ft.dmatrix("a"),
        ft.tensor("a", "float64", shape=(2, 2)),
        ft.tensor("a", "float64", shape=(2, None)),
    ):
        for name, (out, want) in _shape_reads(ft.exp(a), c).items():
            f = fc.function([c, a], out, mode=mode)
            outer = f.optimized_graph.toposort()
            if mode != "FAST_COMPILE":  # its few rewrites read a shape from the value itself
                assert not any("exp" in str(n.op) for n in outer), (a.type, name, [str(n.op) for n in outer])
            for cv in (0, 1):
                np.testing.assert_allclose(
                    f(cv, ok), want(np.exp(ok), cv), rtol=1e-13, err_msg=f"{a.type} {name}"
                )
    i, j = ft.tensor("i", "int64", shape=(2,)), ft.tensor("j", "int64", shape=(2,))
    a = ft.tensor("a", "float64", shape=(2, 2))
    raising = {
        "cholesky": (ft.slinalg.cholesky(a), np.linalg.cholesky, np.linalg.LinAlgError),
        "an integer power": (ft.outer(i**j, ft.ones(2)), None, ValueError),
        "an index out of range": (ft.take(a, i, axis=0), None, IndexError),
    }
    good = (ok, np.array([1, 0]), np.array([1, 2]))
    bad = (-ok, np.array([2, 3]), np.array([1, -2]))
    for what, (v, ref, error) in raising.items():
        for name, (out, want) in _shape_reads(v, c).items():
            f = fc.function([c, a, i, j], out, mode=mode, on_unused_input="ignore")
            for cv in (0, 1):
                if ref is not None:
                    np.testing.assert_allclose(f(cv, *good), want(ref(ok), cv), rtol=1e-13, err_msg=name)
                with pytest.raises(error):
                    f(cv, *bad)
                    pytest.fail(f"{what}, {name}, c={cv}: no error")
