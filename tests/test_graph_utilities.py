"""PyTensor's graph utilities (``pytensor.graph.basic``, ``pytensor.graph.traversal``) walk an
fncache graph as they walk PyTensor's: the same graphs built in both libraries, every variable
named, give the same results in the same order, compared by name.

``EXPECTED`` holds PyTensor's results: ``test_fncache_gives_pytensors_results`` compares
fncache's with them, and ``test_expected_are_pytensors_results`` checks them against PyTensor
itself where it is installed (the CI does not install it).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.graph import basic, traversal

ROOT = Path(__file__).resolve().parent.parent


def _named(v: Any, name: str) -> Any:
    v.name = name
    return v


def build(lib: ModuleType) -> dict[str, Any]:
    """The graphs the cases walk, built with ``lib`` (fncache or pytensor), by name: shared
    subexpressions, a constant, a shared variable, a node of two outputs and an op running an
    inner graph."""
    t = importlib.import_module(f"{lib.__name__}.tensor")
    x, y, m = t.dvector("x"), t.dvector("y"), t.dmatrix("m")
    two = t.constant(np.full(3, 2.0), name="two")
    s = lib.shared(np.ones(3), name="s")
    a = _named(x + y, "a")
    b = _named(a * x, "b")
    c = _named(t.exp(a), "c")
    w, v = t.linalg.eigh(m)
    p, q = t.dvector("p"), t.dvector("q")
    ofg = importlib.import_module(f"{lib.__name__}.compile.builders").OpFromGraph(
        [p, q], [_named(p * q, "inner")]
    )
    g = {
        "x": x,
        "y": y,
        "m": m,
        "two": two,
        "s": s,
        "a": a,
        "b": b,
        "c": c,
        "o1": _named(b - c, "o1"),
        "o2": _named(a * two, "o2"),
        "o3": _named(s * y, "o3"),
        "w": _named(w, "w"),
        "v": _named(v, "v"),
    }
    g["ws"] = _named(w.sum(), "ws")
    g["vs"] = _named(v.sum(), "vs")
    g["e"] = _named(g["ws"] + g["vs"], "e")
    g["f"] = _named(ofg(x, a), "f")
    return g


def key(r: Any) -> Any:
    """A result with each variable read as its name, each node as ``@`` and its outputs'."""
    if isinstance(r, (bool, str)) or r is None:
        return r
    if hasattr(r, "outputs"):
        return "@" + "/".join(o.name for o in r.outputs)
    if hasattr(r, "owner"):
        return r.name
    if isinstance(r, dict):
        # a map of copies: PyTensor's maps an op too where its copy has another one
        return [
            (key(k), key(v), v is k) for k, v in r.items() if hasattr(k, "owner") or hasattr(k, "outputs")
        ]
    if isinstance(r, tuple):
        return tuple(key(v) for v in r)
    return [key(v) for v in r]


def _parents(n: Any) -> Any:
    return n.get_parents()


def _owners(g: dict[str, Any], *names: str) -> list[Any]:
    return [g[n].owner for n in names]


#: name: what it computes, from the graphs by name, PyTensor's ``traversal`` and ``basic``
CASES: dict[str, Callable[[dict[str, Any], Any, Any], Any]] = {
    "walk_bfs": lambda g, t, b: t.walk([g["o1"], g["o2"]], _parents),
    "walk_dfs": lambda g, t, b: t.walk([g["o1"], g["o2"]], _parents, bfs=False),
    "walk_children": lambda g, t, b: t.walk([g["e"]], _parents, False, True),
    "vars_between": lambda g, t, b: t.vars_between([g["a"]], [g["o1"], g["o2"]]),
    "vars_between_sibling_output": lambda g, t, b: t.vars_between([g["m"]], [g["ws"]]),
    "orphans_between": lambda g, t, b: t.orphans_between([g["x"]], [g["o1"], g["o3"], g["o2"]]),
    "applys_between": lambda g, t, b: t.applys_between([g["a"]], [g["o1"], g["o2"]]),
    "applys_between_roots": lambda g, t, b: t.applys_between(
        [g["x"], g["y"], g["m"]], [g["e"], g["o3"], g["w"]]
    ),
    "apply_depends_on": lambda g, t, b: t.apply_depends_on(g["o1"].owner, g["a"].owner),
    "apply_depends_on_itself": lambda g, t, b: t.apply_depends_on(g["a"].owner, g["a"].owner),
    "apply_depends_on_none": lambda g, t, b: t.apply_depends_on(g["o2"].owner, _owners(g, "b", "c")),
    "variable_depends_on": lambda g, t, b: t.variable_depends_on(g["o1"], g["x"]),
    "variable_depends_on_sibling": lambda g, t, b: t.variable_depends_on(g["ws"], g["v"]),
    "variable_depends_on_several": lambda g, t, b: t.variable_depends_on(g["o2"], [g["c"], g["y"]]),
    "truncated_graph_inputs": lambda g, t, b: t.truncated_graph_inputs([g["o1"], g["o2"], g["o1"]]),
    "truncated_graph_inputs_a": lambda g, t, b: t.truncated_graph_inputs([g["o1"], g["o2"]], [g["a"]]),
    "truncated_graph_inputs_a_x": lambda g, t, b: t.truncated_graph_inputs([g["o1"]], [g["a"], g["x"]]),
    "truncated_graph_inputs_c": lambda g, t, b: t.truncated_graph_inputs([g["o1"], g["o3"]], [g["c"]]),
    "truncated_graph_inputs_disconnected": lambda g, t, b: t.truncated_graph_inputs([g["o2"]], [g["m"]]),
    "general_toposort": lambda g, t, b: t.general_toposort([g["o1"], g["o2"]], _parents),
    "general_toposort_two_outputs": lambda g, t, b: t.general_toposort([g["e"], g["f"]], _parents),
    "ancestors": lambda g, t, b: t.ancestors([g["o1"], g["o2"]]),
    "ancestors_blocked": lambda g, t, b: t.ancestors([g["o1"], g["o3"]], [g["a"]]),
    "toposort": lambda g, t, b: t.toposort([g["o1"], g["o2"], g["e"]]),
    "toposort_blocked": lambda g, t, b: t.toposort([g["o1"], g["o2"], g["f"]], [g["a"]]),
    "io_toposort": lambda g, t, b: t.io_toposort([g["x"], g["y"]], [g["o1"], g["o2"]]),
    "io_toposort_blocked": lambda g, t, b: t.io_toposort([g["a"]], [g["o1"], g["o2"], g["f"]]),
    "io_toposort_two_outputs": lambda g, t, b: t.io_toposort([g["m"]], [g["e"], g["w"]]),
    "io_toposort_orderings": lambda g, t, b: t.io_toposort(
        [g["x"], g["y"]], [g["o1"], g["o2"]], {g["b"].owner: [g["c"].owner]}
    ),
    "io_toposort_orderings_reversed": lambda g, t, b: t.io_toposort(
        [g["x"], g["y"]], [g["o1"], g["o2"]], {g["c"].owner: [g["b"].owner, g["o2"].owner]}
    ),
    "get_var_by_name": lambda g, t, b: t.get_var_by_name([g["o1"], g["f"]], "a"),
    "get_var_by_name_inner": lambda g, t, b: t.get_var_by_name([g["f"]], "inner"),
    "get_var_by_name_none": lambda g, t, b: t.get_var_by_name([g["o1"]], "inner"),
    "clone_get_equiv": lambda g, t, b: b.clone_get_equiv([g["x"], g["y"]], [g["o1"], g["o2"]]),
    "clone_get_equiv_kept_inputs": lambda g, t, b: b.clone_get_equiv(
        [g["x"]], [g["o1"], g["o2"]], copy_inputs=False
    ),
    "clone_get_equiv_kept_orphans": lambda g, t, b: b.clone_get_equiv(
        [g["a"]], [g["o2"], g["o3"]], copy_orphans=False
    ),
    "clone_get_equiv_memo": lambda g, t, b: b.clone_get_equiv(
        [g["x"], g["y"]], [g["o1"]], memo={g["a"]: g["y"]}
    ),
}

#: PyTensor 3.0.7's results
EXPECTED: dict[str, Any] = {
    "walk_bfs": ["o1", "o2", "@o1", "@o2", "b", "c", "a", "two", "@b", "@c", "@a", "x", "y"],
    "walk_dfs": ["o2", "@o2", "two", "a", "@a", "y", "x", "o1", "@o1", "c", "@c", "b", "@b"],
    "walk_children": [
        ("e", ["@e"]),
        ("@e", ["ws", "vs"]),
        ("vs", ["@vs"]),
        ("@vs", ["v"]),
        ("v", ["@w/v"]),
        ("@w/v", ["m"]),
        ("m", []),
        ("ws", ["@ws"]),
        ("@ws", ["w"]),
        ("w", ["@w/v"]),
    ],
    "vars_between": ["o2", "two", "a", "o1", "c", "b", "x"],
    "vars_between_sibling_output": ["ws", "w", "v", "m"],
    "orphans_between": ["two", "y", "s"],
    "applys_between": ["@o2", "@a", "@o1", "@c", "@b"],
    "applys_between_roots": ["@w/v", "@o3", "@e", "@vs", "@ws"],
    "apply_depends_on": True,
    "apply_depends_on_itself": True,
    "apply_depends_on_none": False,
    "variable_depends_on": True,
    "variable_depends_on_sibling": False,
    "variable_depends_on_several": True,
    "truncated_graph_inputs": ["o1", "o2"],
    "truncated_graph_inputs_a": ["two", "a", "x"],
    "truncated_graph_inputs_a_x": ["a", "y", "x"],
    "truncated_graph_inputs_c": ["o3", "c", "b"],
    "truncated_graph_inputs_disconnected": ["o2"],
    "general_toposort": ["two", "y", "x", "@a", "a", "@o2", "@c", "@b", "o2", "c", "b", "@o1", "o1"],
    "general_toposort_two_outputs": [
        "y",
        "x",
        "m",
        "@a",
        "@w/v",
        "a",
        "v",
        "w",
        "@f",
        "@vs",
        "@ws",
        "f",
        "vs",
        "ws",
        "@e",
        "e",
    ],
    "ancestors": ["o2", "two", "a", "y", "x", "o1", "c", "b"],
    "ancestors_blocked": ["o3", "y", "s", "o1", "c", "a", "b", "x"],
    "toposort": ["@w/v", "@vs", "@ws", "@e", "@a", "@o2", "@c", "@b", "@o1"],
    "toposort_blocked": ["@f", "@o2", "@c", "@b", "@o1"],
    "io_toposort": ["@a", "@o2", "@c", "@b", "@o1"],
    "io_toposort_blocked": ["@f", "@o2", "@c", "@b", "@o1"],
    "io_toposort_two_outputs": ["@w/v", "@vs", "@ws", "@e"],
    "io_toposort_orderings": ["@a", "@o2", "@c", "@b", "@o1"],
    "io_toposort_orderings_reversed": ["@a", "@o2", "@b", "@c", "@o1"],
    "get_var_by_name": ("a",),
    "get_var_by_name_inner": ("inner",),
    "get_var_by_name_none": (),
    "clone_get_equiv": [
        ("x", "x", False),
        ("y", "y", False),
        ("@a", "@a", False),
        ("a", "a", False),
        ("two", "two", True),
        ("@o2", "@o2", False),
        ("o2", "o2", False),
        ("@c", "@c", False),
        ("c", "c", False),
        ("@b", "@b", False),
        ("b", "b", False),
        ("@o1", "@o1", False),
        ("o1", "o1", False),
    ],
    "clone_get_equiv_kept_inputs": [
        ("x", "x", True),
        ("y", "y", False),
        ("@a", "@a", False),
        ("a", "a", False),
        ("two", "two", True),
        ("@o2", "@o2", False),
        ("o2", "o2", False),
        ("@c", "@c", False),
        ("c", "c", False),
        ("@b", "@b", False),
        ("b", "b", False),
        ("@o1", "@o1", False),
        ("o1", "o1", False),
    ],
    "clone_get_equiv_kept_orphans": [
        ("a", "a", False),
        ("s", "s", True),
        ("y", "y", True),
        ("@o3", "@o3", False),
        ("o3", "o3", False),
        ("two", "two", True),
        ("@o2", "@o2", False),
        ("o2", "o2", False),
    ],
    "clone_get_equiv_memo": [
        ("a", "y", False),
        ("x", "x", False),
        ("y", "y", False),
        ("@c", "@c", False),
        ("c", "c", False),
        ("@b", "@b", False),
        ("b", "b", False),
        ("@o1", "@o1", False),
        ("o1", "o1", False),
    ],
}


def run_case(name: str, lib: ModuleType) -> Any:
    g = build(lib)
    t = importlib.import_module(f"{lib.__name__}.graph.traversal")
    b = importlib.import_module(f"{lib.__name__}.graph.basic")
    return key(CASES[name](g, t, b))


def test_graphs_are_named() -> None:
    """Every variable of the graphs has a name: a result's names say which variable it is."""
    g = build(fc)
    assert all(v.name for v in traversal.ancestors(list(g.values())))
    assert len({v.name for v in traversal.ancestors(list(g.values()))}) == len(
        traversal.ancestors(list(g.values()))
    )


@pytest.mark.parametrize("name", CASES)
def test_fncache_gives_pytensors_results(name: str) -> None:
    assert run_case(name, fc) == EXPECTED[name]


@pytest.mark.parametrize("name", CASES)
def test_expected_are_pytensors_results(name: str) -> None:
    pytensor = pytest.importorskip("pytensor")
    assert run_case(name, pytensor) == EXPECTED[name]


def test_clone_get_equiv_keeps_shared_variables() -> None:
    """A shared variable maps to itself (PyTensor's copy is another variable of the same
    container): the copied graph reads and updates the one value."""
    g = build(fc)
    memo = basic.clone_get_equiv([g["y"]], [g["o3"]])
    new = memo[g["o3"]]
    assert memo[g["s"]] is g["s"] and new is not g["o3"] and new.owner.inputs == [g["s"], memo[g["y"]]]
    np.testing.assert_array_equal(fc.function([memo[g["y"]]], new)(np.arange(3.0)), np.arange(3.0))


def test_refused_arguments_are_named() -> None:
    g = build(fc)
    with pytest.raises(ValueError, match="general_toposort: deps_cache"):
        traversal.general_toposort([g["o1"]], _parents, deps_cache={})
    with pytest.raises(ValueError, match="io_toposort: clients"):
        traversal.io_toposort([g["x"]], [g["o1"]], clients={})
    with pytest.raises(TypeError, match="clone_get_equiv: unexpected keywords \\['copy'\\]"):
        basic.clone_get_equiv([g["x"]], [g["o1"]], copy=True)


def test_node_and_atomic_variable_classes() -> None:
    """PyTensor's base classes: a variable and a node are ``Node``s, a constant an
    ``AtomicVariable``, an input none."""
    g = build(fc)
    assert all(isinstance(v, basic.Node) for v in (g["x"], g["a"], g["a"].owner, g["two"]))
    assert isinstance(g["two"], basic.AtomicVariable) and isinstance(ft.constant(1.0), basic.AtomicVariable)
    assert not isinstance(g["x"], basic.AtomicVariable) and not isinstance(g["s"], basic.AtomicVariable)
    assert traversal.Node is basic.Node


def test_graph_package_loads_replace_on_first_use() -> None:
    """``fncache.graph.clone_replace`` in a process that has not loaded ``fncache.graph.replace``
    yet (it recursed until the stack ran out)."""
    code = "import fncache.graph as g; assert g.clone_replace is g.replace.clone_replace"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


#: Dependencies by name, for ``general_toposort`` on plain objects: ``o`` reads ``a`` twice
#: and ``b`` reads ``x`` twice, as a node reading one input twice (``x + x``) does.
TWICE = {"o": ["a", "a", "b"], "a": ["x"], "b": ["x", "x"], "x": [], "w": ["o", "x", "o"]}


def test_a_node_reading_one_dependency_twice_comes_once_after_it() -> None:
    order = traversal.general_toposort(["w"], TWICE.__getitem__)
    assert order == ["x", "b", "a", "o", "w"]  # PyTensor's order (checked below)
    x = ft.dvector("x")
    doubled = x + x
    squared = doubled * doubled
    assert traversal.io_toposort([x], [squared]) == [doubled.owner, squared.owner]
    pytest.importorskip("pytensor")
    assert (
        importlib.import_module("pytensor.graph.traversal").general_toposort(["w"], TWICE.__getitem__)
        == order
    )


def _traced_lines(run: Callable[[], Any]) -> int:
    """The lines ``run`` executes in ``fncache/graph/traversal.py``: an operation count."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if frame.f_code.co_filename != traversal.__file__:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_a_wide_node_and_a_long_chain_sort_in_linear_steps() -> None:
    """A node waiting on n distinct dependencies (each read twice) costs the walk steps in
    proportion to n, not n squared (the list of what it still waits on once was filtered anew
    each time one was given); and a chain of thousands of nodes sorts without recursion."""

    def wide(n: int) -> list[Any]:
        deps = {"top": [k for k in range(n) for _ in (0, 1)], **{k: [] for k in range(n)}}
        order = traversal.general_toposort(["top"], deps.__getitem__)
        assert order[-1] == "top" and sorted(order[:-1]) == list(range(n))
        return order

    small, large = _traced_lines(lambda: wide(300)), _traced_lines(lambda: wide(1200))
    assert large < 4.5 * small, (small, large)  # quadratic would be about 16 times
    n = 5000
    chain = {k: [k - 1, k - 1] if k else [] for k in range(n)}
    assert traversal.general_toposort([n - 1], chain.__getitem__) == list(range(n))
