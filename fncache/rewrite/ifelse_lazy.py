"""`ifelse_lazy`: an `IfElse` runs only the branch it takes.

The `IfElse` nodes of one condition are made lazy together (the conditions in the order of
their first node, so an inner one is made lazy before the outer branch that alone needs it takes
it). First, a node between them that reads the output of one and whose values only their
branches read (a gradient's seed, computed from the forward value) is computed in each branch
from that branch's value instead (`_lift`); the nodes that then read nothing of one another
become one `IfElse` (`_merge`), so an ``ifelse`` and its gradient are usually one node whose
branches compute the value and its gradient together, fused as one function would.

A node is needed only when the condition is true when its every output is read by the
then-values of those nodes or by other such nodes, and is no output of the function
(``graph/branches.py``); likewise for false. Each such node moves into the branch of the first
`IfElse` that needs it, and a `LazyIfElse` takes that `IfElse`'s place: it reads the condition
and the values its branches take from the rest of the graph, and runs the taken branch's inner
function. A value a later `IfElse` of the condition also needs on that side (a forward value a
gradient reads when the two could not be merged) is one more output of the first: the branch's
value where it is computed, an empty array of its dtype and static sizes from the other branch, which never
reaches the later branch (that runs only when the same branch is taken). So a function
computing an ``ifelse`` and its gradient runs only the taken branch, forward and backward, each
node once. What the rest of the graph or both branches read stays outside, computed once. A
node that has nothing to move and reads no such value is left as it is (there is nothing to
skip), and one whose condition is a constant is replaced by the branch it takes. The inner
functions are compiled under the outer function's mode, so an `IfElse` inside a branch is made
lazy in turn.
"""

from __future__ import annotations

import sys

import numpy as np

from ..graph.basic import Apply, Constant, Variable, ancestors, clone_graph, substitute
from ..graph.branches import branch_regions, readers
from ..graph.fgraph import FunctionGraph
from ..tensor.basic import constant
from ..tensor.creation import alloc
from .registry import register

__all__ = ["lazy_ifelse"]


@register("ifelse_lazy", "fast_run", "fast_compile", phase="branches")
def lazy_ifelse(fgraph: FunctionGraph) -> bool:
    # A graph holds an IfElse only once its module is loaded (building or unpickling one
    # imports it): any other graph neither imports it nor is walked here.
    module = sys.modules.get("fncache.tensor.ifelse_op")
    if module is None:
        return False
    IfElse = module.IfElse
    done: set[int] = set()
    changed = False
    while True:
        order = fgraph.toposort()
        todo = [n for n in order if isinstance(n.op, IfElse) and id(n.inputs[0]) not in done]
        if not todo:
            return changed
        cond = todo[0].inputs[0]
        done.add(id(cond))
        nodes = [n for n in todo if n.inputs[0] is cond]
        if isinstance(cond, Constant):  # known when compiling: the branch taken is the node
            for node in nodes:
                n = node.op.n_outs
                _replace(fgraph, order, node, node.inputs[1 : 1 + n] if cond.data else node.inputs[1 + n :])
            changed = True
            continue
        if _lift(fgraph, order, nodes) | _merge(fgraph, nodes, IfElse):
            changed = True
            order = fgraph.toposort()
            nodes = [n for n in order if isinstance(n.op, IfElse) and n.inputs[0] is cond]
        changed = _make_lazy(fgraph, order, nodes, module.LazyIfElse) or changed


def _lift(fgraph: FunctionGraph, order: list[Apply], nodes: list[Apply]) -> bool:
    """Compute in each branch the nodes between ``nodes`` that read the output of one of them
    and whose values only their branches read (a gradient's seed from the forward value), from
    that node's branch value instead: they are then needed only on that side (where the output
    is the branch value), and the nodes no longer read one another (see `_merge`)."""
    side = _side_of
    uses = readers(order, fgraph.outputs)
    sides = branch_regions(order, uses, nodes, side)
    hosts = {id(h): h for h in nodes if id(h) not in sides}
    lifted: dict[int, Apply] = {}
    for m in reversed(order):
        found = [r for o in m.outputs for r in uses.get(id(o), ())]
        if (
            id(m) not in sides
            and id(m) not in hosts
            and found
            and all(
                r is not None
                and (id(r) in sides or id(r) in lifted or (id(r) in hosts and side(r, k) is not None))
                for r, k in found
            )
        ):
            lifted[id(m)] = m
    # only those reading an output of the nodes, directly or through one another
    reading: list[Apply] = []
    made = {id(o) for h in hosts.values() for o in h.outputs}
    for m in order:
        if id(m) in lifted and any(id(v) in made for v in m.inputs):
            reading.append(m)
            made.update(id(o) for o in m.outputs)
    if not reading:
        return False
    outs = [o for m in reading for o in m.outputs]
    for s in (0, 1):
        mapping = {
            o: h.inputs[1 + s * h.op.n_outs + k] for h in hosts.values() for k, o in enumerate(h.outputs)
        }
        by = {id(o): new for o, new in zip(outs, substitute(outs, mapping))}
        for r in order:
            if id(r) in sides and sides[id(r)][0] == s:
                r.inputs = [by.get(id(v), v) for v in r.inputs]
            elif id(r) in hosts:
                r.inputs = [by.get(id(v), v) if side(r, k) == s else v for k, v in enumerate(r.inputs)]
    return True


def _merge(fgraph: FunctionGraph, nodes: list[Apply], IfElse: type) -> bool:
    """One `IfElse` for the ``nodes`` (of one condition, in dependency order) that do not
    read one another's outputs, so that their branches are computed together. A node only a
    branch of another reads is left alone: it moves into that branch, where the other side of
    its own is never taken."""
    order = fgraph.toposort()
    inside = branch_regions(order, readers(order, fgraph.outputs), nodes, _side_of)
    group: list[Apply] = []
    for node in (n for n in nodes if id(n) not in inside):
        made = {id(o) for h in group for o in h.outputs}
        if not any(id(v) in made for v in ancestors(node.inputs)):
            group.append(node)
    if len(group) < 2:
        return False
    thens = [v for h in group for v in h.inputs[1 : 1 + h.op.n_outs]]
    elses = [v for h in group for v in h.inputs[1 + h.op.n_outs :]]
    merged = IfElse(len(thens)).make_node(group[0].inputs[0], *thens, *elses)
    by = dict(zip((id(o) for h in group for o in h.outputs), merged.outputs))
    for m in order:
        m.inputs = [by.get(id(v), v) for v in m.inputs]
    fgraph.outputs = [by.get(id(v), v) for v in fgraph.outputs]
    return True


def _side_of(host: Apply, k: int) -> int | None:
    return host.op.branch_side(k)


def _make_lazy(fgraph: FunctionGraph, order: list[Apply], nodes: list[Apply], LazyIfElse: type) -> bool:
    """Move the nodes only one branch of ``nodes`` (the `IfElse` nodes of one condition, in
    dependency order) needs into the first of them needing them; see the module's doc."""
    uses = readers(order, fgraph.outputs)
    sides = branch_regions(order, uses, nodes, _side_of)
    at = {k: first for k, (_, first) in sides.items()}
    index = {id(h): j for j, h in enumerate(nodes)}
    carried: dict[int, Variable] = {}  # id(value a later node reads) -> the output carrying it
    changed = False
    for i, node in enumerate(nodes):
        if id(node) in sides:  # read by one branch of another: it moves with that one
            continue
        n = node.op.n_outs
        moved = [m for m in order if at.get(id(m)) == i]
        # per branch, the values computed here that a later node of the condition reads
        carry: list[list[Variable]] = [[], []]
        for m in moved:
            carry[sides[id(m)][0]] += [
                o
                for o in m.outputs
                if any(
                    r is not None and at.get(id(r), index.get(id(r), -1)) > i for r, _ in uses.get(id(o), ())
                )
            ]
        branch_outs = node.inputs[1:]
        if not moved and not any(id(v) in carried for v in branch_outs):
            continue  # nothing to skip
        thens = branch_outs[:n] + carry[0] + [_empty(v) for v in carry[1]]
        elses = branch_outs[n:] + [_empty(v) for v in carry[0]] + carry[1]
        values = _values(moved, thens + elses)
        fresh = {v: v.type.make_variable(v.name) for v in values}
        ins, outs, _ = clone_graph(values, thens + elses, replace=fresh)
        op = LazyIfElse(FunctionGraph(ins, outs, clone=False), len(thens))
        lazy = op.make_node(node.inputs[0], *(carried.get(id(v), v) for v in values))
        for k in ("trace", "origin"):
            if k in node.tag:
                lazy.tag[k] = node.tag[k]
        carried.update((id(v), o) for v, o in zip(carry[0] + carry[1], lazy.outputs[n:]))
        _replace(fgraph, order, node, lazy.outputs[:n])
        changed = True
    return changed


def _empty(v: Variable) -> Variable:
    """What a branch returns for a value only the other branch computes: an array of ``v``'s
    dtype and static sizes, empty where a size is unknown. Its static sizes are ``v``'s because
    a later node of the condition declares them for the value it reads (a ``keepdims`` size 1),
    and its inner function checks them even on the side that does not read it. Every size
    known: zeros, made when the branch runs (not a constant of that size in the graph)."""
    shape = tuple(0 if s is None else s for s in v.type.shape)
    zero = np.zeros(shape if 0 in shape else (), dtype=v.dtype)
    return constant(zero) if 0 in shape else alloc(constant(zero), *shape)


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


def _replace(fgraph: FunctionGraph, order: list[Apply], node: Apply, new: list[Variable]) -> None:
    """Every reader of ``node``'s outputs (in ``order``, the graph's nodes) reads ``new``."""
    by = {id(o): r for o, r in zip(node.outputs, new)}
    for m in order:
        m.inputs = [by.get(id(v), v) for v in m.inputs]
    fgraph.outputs = [by.get(id(v), v) for v in fgraph.outputs]
