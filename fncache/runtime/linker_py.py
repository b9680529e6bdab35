"""The Python linker: runs the optimized graph node by node with numpy (``linker="py"``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import aliases_storage
from ..graph.fgraph import FunctionGraph
from ..graph.slots import plan_slots
from .errors import annotate_runtime_error

__all__ = ["PyRunner"]


class PyRunner:
    """Callable on the fgraph's inputs (explicit inputs then shared values); returns the list
    of all fgraph outputs."""

    def __init__(self, fgraph: FunctionGraph, allow_gc: bool = True) -> None:
        self.fgraph = fgraph
        plan = plan_slots(fgraph)
        self.nodes = plan.nodes
        self.allow_gc = allow_gc
        self.n_inputs = plan.n_inputs
        self.n_slots = plan.n_slots
        self.consts = plan.consts
        self.plan = list(zip(plan.nodes, plan.ins, plan.outs))
        self.out_slots = plan.out_slots
        # Outputs that may view an input, a constant or a shared value are copied on return.
        self.copy_outs = [aliases_storage(v) for v in fgraph.outputs]
        # Free a slot after its last use (allow_gc); the caller's inputs are the caller's.
        self.dies = [[s for s in dying if s >= self.n_inputs] for dying in plan.dying]

    def __call__(self, *inputs: Any) -> list[np.ndarray]:
        store: list[Any] = [None] * self.n_slots
        store[: self.n_inputs] = inputs
        for s, data in self.consts:
            store[s] = data
        for step, (node, ins, outs) in enumerate(self.plan):
            try:
                res = node.op.perform(node, [store[i] for i in ins])
            except Exception as e:
                raise annotate_runtime_error(e, node, [store[i] for i in ins]) from None
            for s, r in zip(outs, res):
                store[s] = r
            if self.allow_gc:
                for s in self.dies[step]:
                    store[s] = None
        return [np.array(store[s]) if copy else store[s] for s, copy in zip(self.out_slots, self.copy_outs)]

    def free(self) -> None:
        """Nothing is kept between calls by this linker."""
