"""`ifelse_lazy`: an `IfElse` runs only the branch it takes.

For each `IfElse` node (the last in dependency order first, so an outer one takes an inner one
its branch alone needs), the nodes only one branch needs, those whose every output is read
by that branch alone (by the `IfElse` at that branch's inputs, or by another such node) and is
no output of the function, move into that branch's inner graph, and a `LazyIfElse` takes the
node's place: it reads the condition and the values the branches take from the rest of the
graph, and runs the taken branch's inner function. What the rest of the graph or both
branches read stays outside, computed once. A node whose branches need nothing of their own is
left as it is (there is nothing to skip), and one whose condition is a constant is replaced by
the branch it takes. The inner functions are compiled under the outer function's mode, so an
`IfElse` inside a branch is made lazy in turn. The gradient of an `ifelse` reads each branch's
value for the shape of its zeros, so in a function that also computes it, both branches'
values are computed (what only one branch's gradient needs is still skipped).
"""

from __future__ import annotations

import sys

from ..graph.basic import Apply, Constant, Variable, clone_graph
from ..graph.fgraph import FunctionGraph
from .registry import register

__all__ = ["lazy_ifelse"]


def _uses(order: list[Apply], outputs: list[Variable]) -> dict[int, list[tuple[Apply | None, int]]]:
    """id(variable) -> its readers, as (node, input position); a function output is (None, -1)."""
    uses: dict[int, list[tuple[Apply | None, int]]] = {}
    for node in order:
        for k, v in enumerate(node.inputs):
            uses.setdefault(id(v), []).append((node, k))
    for v in outputs:
        uses.setdefault(id(v), []).append((None, -1))
    return uses


def _branch_nodes(
    node: Apply, positions: range, order: list[Apply], uses: dict[int, list[tuple[Apply | None, int]]]
) -> list[Apply]:
    """The nodes before ``node`` in ``order`` whose outputs only ``node``'s inputs at
    ``positions`` read, directly or through other such nodes, in dependency order."""
    mine: set[int] = set()
    for m in reversed(order[: order.index(node)]):
        readers = [r for o in m.outputs for r in uses.get(id(o), ())]
        if readers and all(
            (r is node and k in positions) or (r is not None and id(r) in mine) for r, k in readers
        ):
            mine.add(id(m))
    return [m for m in order if id(m) in mine]


def _values(moved: list[Apply], outputs: list[Variable]) -> list[Variable]:
    """What the moved nodes and the branch outputs read from outside the moved nodes (constants
    excepted: they stay in the inner graph), in a deterministic order."""
    made = {id(o) for m in moved for o in m.outputs}
    found: list[Variable] = []
    seen: set[int] = set()
    for v in [i for m in moved for i in m.inputs] + outputs:
        if id(v) not in made and id(v) not in seen and not isinstance(v, Constant):
            seen.add(id(v))
            found.append(v)
    return found


@register("ifelse_lazy", "fast_run", "fast_compile", phase="branches")
def lazy_ifelse(fgraph: FunctionGraph) -> bool:
    # A graph holds an IfElse only once its module is loaded (building or unpickling one
    # imports it): any other graph neither imports it nor is walked here.
    module = sys.modules.get("fncache.tensor.ifelse_op")
    if module is None:
        return False
    IfElse, LazyIfElse = module.IfElse, module.LazyIfElse
    done: set[int] = set()
    changed = False
    while True:
        order = fgraph.toposort()
        todo = [n for n in order if isinstance(n.op, IfElse) and id(n) not in done]
        if not todo:
            return changed
        node = todo[-1]
        done.add(id(node))
        n, cond = node.op.n_outs, node.inputs[0]
        if isinstance(cond, Constant):  # known when compiling: the branch taken is the node
            _replace(fgraph, order, node, node.inputs[1 : 1 + n] if cond.data else node.inputs[1 + n :])
            changed = True
            continue
        uses = _uses(order, fgraph.outputs)
        moved = _branch_nodes(node, range(1, 1 + n), order, uses)
        moved += _branch_nodes(node, range(1 + n, 1 + 2 * n), order, uses)
        if not moved:
            continue
        branch_outs = node.inputs[1:]
        values = _values(moved, branch_outs)
        fresh = {v: v.type.make_variable(v.name) for v in values}
        ins, outs, _ = clone_graph(values, branch_outs, replace=fresh)
        op = LazyIfElse(FunctionGraph(ins, outs, clone=False), n)
        lazy = op.make_node(cond, *values)
        for k in ("trace", "origin"):
            if k in node.tag:
                lazy.tag[k] = node.tag[k]
        _replace(fgraph, order, node, lazy.outputs)
        changed = True


def _replace(fgraph: FunctionGraph, order: list[Apply], node: Apply, new: list[Variable]) -> None:
    """Every reader of ``node``'s outputs (in ``order``, the graph's nodes) reads ``new``."""
    by = {id(o): r for o, r in zip(node.outputs, new)}
    for m in order:
        m.inputs = [by.get(id(v), v) for v in m.inputs]
    fgraph.outputs = [by.get(id(v), v) for v in fgraph.outputs]
