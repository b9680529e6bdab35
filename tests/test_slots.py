"""The slot plan every runner (C program, Python linker, CUDA runner) holds values by."""

from __future__ import annotations

import numpy as np

import fncache as fc
from fncache import tensor as ft
from fncache.graph.fgraph import FunctionGraph
from fncache.graph.slots import plan_slots


def _graph() -> FunctionGraph:
    x, y = ft.dvector("x"), ft.dvector("y")
    t = ft.exp(x) + 2.0
    return FunctionGraph([x, y], [t * y, ft.sum(t * 3.0), y])


def test_the_plan_numbers_inputs_first_then_each_value_once_and_drops_a_slot_after_its_last_read():
    g = _graph()
    plan = plan_slots(g)
    assert [plan.slot[id(v)] for v in g.inputs] == [0, 1] and plan.n_inputs == 2
    written = set(range(plan.n_inputs)) | {s for s, _ in plan.consts}
    assert sorted(plan.slot.values()) == list(range(plan.n_slots))
    last_read = {}
    for step, (ins, outs) in enumerate(zip(plan.ins, plan.outs)):
        assert set(ins) <= written, "a step reads a slot nothing has written yet"
        written |= set(outs)
        for s in ins:
            last_read[s] = step
    assert plan.out_slots == [plan.slot[id(v)] for v in g.outputs]
    dying = {s: step for step, slots in enumerate(plan.dying) for s in slots}
    assert dying == {s: step for s, step in last_read.items() if s not in plan.out_slots}
    assert all(slots == sorted(slots) for slots in plan.dying)
    assert [float(v) for _, v in plan.consts] == [2.0, 3.0]  # in order of first use


def test_every_runner_computes_the_same_with_the_shared_plan():
    x, y = ft.dvector("x"), ft.dvector("y")
    t = ft.exp(x) + 2.0
    outs = [t * y, ft.sum(t * 3.0), y]
    xv, yv = np.linspace(-1, 1, 7), np.arange(7.0)
    want = [(np.exp(xv) + 2) * yv, np.sum((np.exp(xv) + 2) * 3), yv]
    for mode in (fc.Mode(linker="py"), fc.Mode(linker="c"), fc.Mode(linker="c", optimizer=None)):
        got = fc.function([x, y], outs, mode=mode)(xv, yv)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
