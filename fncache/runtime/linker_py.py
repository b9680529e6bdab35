"""The Python linker: runs the optimized graph node by node with numpy (``linker="py"``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Constant, aliases_storage
from ..graph.fgraph import FunctionGraph
from .errors import annotate_runtime_error

__all__ = ["PyRunner"]


class PyRunner:
    """Callable on the fgraph's inputs (explicit inputs then shared values); returns the list
    of all fgraph outputs."""

    def __init__(self, fgraph: FunctionGraph, allow_gc: bool = True) -> None:
        self.fgraph = fgraph
        self.nodes = fgraph.toposort()
        self.allow_gc = allow_gc
        slot: dict[int, int] = {}
        for v in fgraph.inputs:
            slot.setdefault(id(v), len(slot))
        self.n_inputs = len(fgraph.inputs)
        consts: list[tuple[int, np.ndarray]] = []
        for node in self.nodes:
            for v in node.inputs:
                if id(v) not in slot:
                    slot[id(v)] = len(slot)
                    if isinstance(v, Constant):
                        consts.append((slot[id(v)], v.data))
            for o in node.outputs:
                slot[id(o)] = len(slot)
        for v in fgraph.outputs:
            if id(v) not in slot:
                slot[id(v)] = len(slot)
                if isinstance(v, Constant):
                    consts.append((slot[id(v)], v.data))
        self.n_slots = len(slot)
        self.consts = consts
        self.plan = [(node, [slot[id(v)] for v in node.inputs],
                      [slot[id(o)] for o in node.outputs]) for node in self.nodes]
        self.out_slots = [slot[id(v)] for v in fgraph.outputs]
        # Outputs that may view an input, a constant or a shared value are copied on return.
        self.copy_outs = [aliases_storage(v) for v in fgraph.outputs]
        # Free a slot after its last use (allow_gc): the index of the step after which it dies.
        last: dict[int, int] = {}
        for step, (_, ins, _) in enumerate(self.plan):
            for s in ins:
                last[s] = step
        keep = set(self.out_slots)
        self.dies = [[s for s in set(ins) if last.get(s) == step and s not in keep
                      and s >= self.n_inputs] for step, (_, ins, _) in enumerate(self.plan)]

    def __call__(self, *inputs: Any) -> list[np.ndarray]:
        store: list[Any] = [None] * self.n_slots
        store[:self.n_inputs] = inputs
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
        return [np.array(store[s]) if copy else store[s]
                for s, copy in zip(self.out_slots, self.copy_outs)]

    def free(self) -> None:
        """Nothing is kept between calls by this linker."""
