"""One linear pass applying a local rewrite to every node (the building block of most passes).

Nodes are visited in dependency order; each node's inputs are first redirected to the
replacements made earlier in the pass, so a pass costs O(nodes) however many nodes it changes.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph

__all__ = ["local_pass", "client_counts"]

LocalFn = Callable[[Apply], "Sequence[Variable] | None"]


def client_counts(fgraph: FunctionGraph) -> dict[int, int]:
    """id(variable) -> number of uses (graph outputs count as uses)."""
    counts: dict[int, int] = {}
    for node in fgraph.toposort():
        for v in node.inputs:
            counts[id(v)] = counts.get(id(v), 0) + 1
    for v in fgraph.outputs:
        counts[id(v)] = counts.get(id(v), 0) + 1
    return counts


def local_pass(fgraph: FunctionGraph, fn: LocalFn) -> bool:
    memo: dict[int, Variable] = {}

    def resolve(v: Variable) -> Variable:
        while id(v) in memo:
            v = memo[id(v)]
        return v

    changed = False
    for node in fgraph.toposort():
        node.inputs = [resolve(v) for v in node.inputs]
        new = fn(node)
        if new is None:
            continue
        for old, rep in zip(node.outputs, new):
            if rep is old:
                continue
            if rep.owner is not None:  # errors still point at user code and name its function
                for k in ("trace", "origin", "made_by"):
                    if k not in rep.owner.tag and k in node.tag:
                        rep.owner.tag[k] = node.tag[k]
            if rep.dtype != old.dtype or rep.ndim != old.ndim:
                raise TypeError(f"rewrite of {node} changed {old.type} into {rep.type}")
            memo[id(old)] = rep
            changed = True
    if changed:
        fgraph.outputs = [resolve(v) for v in fgraph.outputs]
    return changed
