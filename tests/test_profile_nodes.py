"""``fc.function(..., profile=True)``'s per-node times (Theano's ProfileStats "Class" and "Apply"
sections): every node of the optimized graph timed on both linkers (each step of the C
run-time's program, each perform of the Python linker), the expensive one reported as taking
most of the time."""

from __future__ import annotations

import io

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.compile.profiling import ProfileStats

MODES = ["FAST_RUN", "FAST_COMPILE"]


def _big_and_cheap(mode: str, profile: object, name: str = "f") -> fc.Function:
    a, v = ft.dmatrix("a"), ft.dvector("v")
    return fc.function(
        [a, v], [ft.dot(a, a), (v * 2).sum() + 1, ft.exp(v)], profile=profile, mode=mode, name=name
    )


@pytest.mark.parametrize("mode", MODES)
def test_every_node_is_timed_and_the_large_dot_leads(mode: str) -> None:
    f = _big_and_cheap(mode, True, "train")
    av, vv = np.random.default_rng(0).normal(size=(400, 400)), np.arange(5.0)
    for _ in range(3):
        prod, total, ex = f(av, vv)
    np.testing.assert_allclose(prod, av @ av, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(total, 2 * vv.sum() + 1, rtol=1e-15)
    np.testing.assert_allclose(ex, np.exp(vv), rtol=1e-15)
    stats = f.profile
    rows = stats.apply_records()
    nodes = f.optimized_graph.toposort()
    # each node of the optimized graph once, at its place in the order the function runs them
    assert sorted((k, id(node)) for _, k, node, _, _ in rows) == [(k, id(n)) for k, n in enumerate(nodes)]
    assert all(runs == 3 and t >= 0 for *_, t, runs in rows)
    name, _, top, t_top, _ = rows[0]
    assert name == "train" and type(top.op).__name__ == "Dot"
    total = sum(r[3] for r in rows)
    assert t_top > 0.5 * total and total <= stats.fct_call_time * 1.05
    assert stats.apply_time[top] == t_top and stats.apply_callcount[top] == 3
    text = stats.summary(io.StringIO())
    lines = text.splitlines()
    assert "Class" in lines and "Apply" in lines
    header = lines.index("<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>")
    first = lines[header + 1].split()
    assert float(first[0].rstrip("%")) > 50.0 and lines[header + 1].endswith("  Dot(a, a)")
    shares = [float(line.split()[0].rstrip("%")) for line in lines[header + 1 : header + 1 + len(rows)]]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 100.0) < 0.5
    cls = lines[lines.index("Class") + 3].split()
    assert cls[-1] == "Dot" and float(cls[0].rstrip("%")) > 50.0
    # at most n_apply_to_print nodes, the rest summed
    short = stats.summary(io.StringIO(), n_apply_to_print=1)
    assert f"remaining {len(rows) - 1} nodes" in short


@pytest.mark.parametrize("mode", MODES)
def test_shared_stats_name_each_function_and_reruns_count(mode: str) -> None:
    mine = ProfileStats("both")
    f = _big_and_cheap(mode, mine, "first")
    x = ft.dvector("x")
    g = fc.function([x], ft.tanh(x) * 3, profile=mine, mode=mode, name="second")
    av, vv = np.eye(3), np.ones(2)
    f(av, vv)
    g(vv)
    g(vv)
    rows = mine.apply_records()
    assert {name for name, *_ in rows} == {"first", "second"}
    assert all(runs == (1 if name == "first" else 2) for name, *_, runs in rows)
    text = mine.summary(io.StringIO())
    assert "first: Dot(a, a)" in text and "second: " in text
    if mode == "FAST_RUN":  # f.fn() re-runs the C program: its steps are timed too
        g.fn(n_calls=3)
        assert all(runs == 5 for name, *_, runs in mine.apply_records() if name == "second")


def test_a_profile_before_any_call_says_so() -> None:
    f = _big_and_cheap("FAST_RUN", True)
    assert f.profile.apply_records() and all(runs == 0 for *_, runs in f.profile.apply_records())
    assert (
        ProfileStats("none")
        .summary(io.StringIO())
        .endswith("No node was timed (no call yet, or a back end that does not time nodes)\n")
    )
