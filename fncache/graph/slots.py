"""Where each value of a function graph lives while it runs, and when it may be dropped.

Every runner (the C run-time's program, the Python linker, the CUDA runner) holds values in a
flat list of *slots*: the graph's inputs first, then each node's inputs and outputs in
topological order (a constant gets a slot where it is first used), then any graph output not yet
placed.  A slot *dies* after the last step that reads it, unless it holds a graph output.
"""

from __future__ import annotations

import numpy as np

from .basic import Apply, Constant
from .fgraph import FunctionGraph

__all__ = ["SlotPlan", "plan_slots"]


class SlotPlan:
    """The plan. A plain class, not a dataclass or a named tuple: making one of those costs a
    quarter to a whole millisecond, and a warm cache hit in a fresh process imports this module."""

    __slots__ = ("nodes", "slot", "n_inputs", "consts", "ins", "outs", "out_slots", "dying")

    def __init__(
        self,
        *,
        nodes: list[Apply],
        slot: dict[int, int],
        n_inputs: int,
        consts: list[tuple[int, np.ndarray]],
        ins: list[list[int]],
        outs: list[list[int]],
        out_slots: list[int],
        dying: list[list[int]],
    ) -> None:
        self.nodes = nodes  # in the order they run
        self.slot = slot  # id(variable) -> its slot
        self.n_inputs = n_inputs  # the graph's inputs hold slots 0 .. n_inputs - 1
        self.consts = consts  # (slot, value) of each constant, in order of use
        self.ins = ins  # per step: the slots it reads
        self.outs = outs  # per step: the slots it writes
        self.out_slots = out_slots  # the graph outputs' slots
        self.dying = dying  # per step: the slots read last there (not outputs), sorted

    @property
    def n_slots(self) -> int:
        return len(self.slot)


def plan_slots(fgraph: FunctionGraph) -> SlotPlan:
    """The slots of ``fgraph``'s values; ValueError names a variable that nothing computes."""
    nodes = fgraph.toposort()
    slot: dict[int, int] = {}
    for v in fgraph.inputs:
        slot.setdefault(id(v), len(slot))
    consts: list[tuple[int, np.ndarray]] = []

    def ensure(v) -> int:
        if id(v) not in slot:
            slot[id(v)] = len(slot)
            if not isinstance(v, Constant):
                raise ValueError(f"variable {v!r} is not computed by the graph")
            consts.append((slot[id(v)], v.data))
        return slot[id(v)]

    ins, outs = [], []
    for node in nodes:
        ins.append([ensure(v) for v in node.inputs])
        for o in node.outputs:
            slot[id(o)] = len(slot)
        outs.append([slot[id(o)] for o in node.outputs])
    out_slots = [ensure(v) for v in fgraph.outputs]
    last: dict[int, int] = {}
    for step, read in enumerate(ins):
        for s in read:
            last[s] = step
    keep = set(out_slots)
    dying: list[list[int]] = [[] for _ in nodes]
    for s, step in last.items():
        if s not in keep:
            dying[step].append(s)
    return SlotPlan(
        nodes=nodes,
        slot=slot,
        n_inputs=len(fgraph.inputs),
        consts=consts,
        ins=ins,
        outs=outs,
        out_slots=out_slots,
        dying=[sorted(d) for d in dying],
    )
