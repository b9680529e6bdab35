"""`composite_constants`: the body of a fused loop simplified where some of its inputs are
constants. Canonicalize makes the same simplifications node by node, but only where the
node's output keeps the shape of what replaces it; inside a loop body the node's inputs
still decide the loop's shape (they all stay), so the rules apply to every step: a switch on
a constant condition is the branch it picks, and x + (-0.0), x - 0, x * 1, x / 1 and x ** 1 are x
(exact, NaN and inf included: canonicalize's `UNITS`). Steps no output needs any more are dropped.

Gradients leave such steps in the body: ``broadcast_like`` is a switch on True, and the
gradient of its shape-only input a switch on True that picks zero.

An input no step reads is kept only for its shape: a single value goes, and so does an input
whose shape another input has whenever the function runs (numpy would raise otherwise): the
size of an elementwise result's dim that only one input sets, a product's operand dims that
must match, a dim a dimshuffle moves, a row pass's vectors and products (X's columns). A gradient
of a gradient takes such a model from the first gradient's result (``v`` broadcast like
``X.T @ r``, the size of ``w``): dropped, or where nothing else has its shape (``v`` broadcast
like ``X.T @ r / m + lam * w``) replaced by a graph input that has it (``w``), the second
product no longer waits for the first (`rowpass_merge` then makes both one pass over X). A dim
of an elementwise result that several inputs set has their size where the rules tie them all.
A value computed in the function goes only where another node reads it (so computing it
still raises what it raises: an index out of range, a product of sizes that do not match, a
check), and a step of the body that raises for some values (an integer power) stays."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.blas import Dot, RowPass
from ..tensor.elemwise import Elemwise
from ..tensor.scalar_ops import Composite, step_may_raise
from ..tensor.shape_ops import DimShuffle
from .canonicalize import UNITS, const_value, is_unit
from .local import local_pass
from .registry import register
from ..tensor.size_sources import broadcast_refs

Ref = tuple[str, int]


def _same_as(name: str, refs: tuple[Ref, ...], const: dict[int, Any], out_dtype: str) -> Ref | None:
    """The operand a step always equals, given the constant inputs' values, or None."""

    def value(r: Ref) -> Any:
        return const.get(r[1]) if r[0] == "in" else None

    if name == "switch" and len(refs) == 3:
        c = value(refs[0])
        return None if c is None else refs[1] if c else refs[2]
    if name in UNITS and len(refs) == 2:
        for b in UNITS[name][1]:
            c = value(refs[b])
            if c is not None and is_unit(name, c, out_dtype):
                return refs[1 - b]
    return None


def simplify_body(comp: Composite, const: dict[int, Any]) -> Composite | None:
    """``comp`` with the steps that equal one of their operands (given the values ``const``
    of the inputs that are constants) replaced by it and unused steps dropped; None when no
    step simplifies."""

    def dtype(r: Ref) -> str:
        return comp.in_dtypes[r[1]] if r[0] == "in" else comp.steps[r[1]][2]

    equal: dict[int, Ref] = {}  # step -> the (earlier) ref it equals
    steps: list[tuple[str, tuple[Ref, ...], str]] = []
    for j, (name, refs, dt) in enumerate(comp.steps):
        refs = tuple(equal.get(k, (kind, k)) if kind == "s" else (kind, k) for kind, k in refs)
        same = _same_as(name, refs, const, dt)
        if same is not None and dtype(same) == dt:
            equal[j] = same
            # An output stays a step of its own (an output is a step, never an input).
            steps.append(("identity", (same,), dt) if j in comp.outputs else (name, refs, dt))
        else:
            steps.append((name, refs, dt))
    if not equal:
        return None
    # a step that raises for some values (an integer power) stays: computing the values raises
    live: set[int] = set(comp.outputs) | {j for j, st in enumerate(steps) if step_may_raise(st[0], st[2])}
    for j in range(len(steps) - 1, -1, -1):
        if j in live:
            live.update(k for kind, k in steps[j][1] if kind == "s")
    renum = {j: n for n, j in enumerate(sorted(live))}
    kept = [
        (name, tuple(("s", renum[k]) if kind == "s" else (kind, k) for kind, k in refs), dt)
        for j, (name, refs, dt) in enumerate(steps)
        if j in live
    ]
    return Composite(comp.in_dtypes, kept, [renum[j] for j in comp.outputs])


class SizeClasses:
    """Which dims of a graph's variables have equal sizes whenever the function runs (a
    union-find over (variable, dim)): see the module's docstring for the rules."""

    def __init__(self, fgraph: FunctionGraph) -> None:
        self.parent: dict[Any, Any] = {}
        self.inputs = list(fgraph.inputs)
        order = fgraph.toposort()
        for node in order:
            op, ins, outs = node.op, node.inputs, node.outputs
            for v in (*ins, *outs):
                for d, n in enumerate(v.type.shape):
                    if n is not None:
                        self._union((id(v), d), ("static", n))
            if isinstance(op, Elemwise):
                for out in outs:
                    for d in range(out.ndim):
                        refs = broadcast_refs(ins, d, out.ndim)
                        if len(refs) == 1:
                            self._union((id(out), d), (id(refs[0][0]), refs[0][1]))
            elif isinstance(op, DimShuffle):
                for d, src in enumerate(op.pattern):
                    if src != "x":
                        self._union((id(outs[0]), d), (id(ins[0]), src))
            elif isinstance(op, Dot):
                a, b = ins
                self._union((id(a), a.ndim - 1), (id(b), 0))
                if a.ndim == 2:
                    self._union((id(outs[0]), 0), (id(a), 0))
                if b.ndim == 2:
                    self._union((id(outs[0]), outs[0].ndim - 1), (id(b), 1))
            elif isinstance(op, RowPass):  # (its row values may be broadcast to more rows)
                for k in range(op.products):
                    self._union((id(ins[0]), 1), (id(ins[1 + k]), 0))
                    self._union((id(ins[0]), 1), (id(outs[k]), 0))
        # A dim several inputs set has their size where they all have one (a gradient's
        # ``X.T @ r + lam * w``); those sizes may be tied by a later node.
        changed = True
        while changed:
            changed = False
            for node in order:
                if not isinstance(node.op, Elemwise):
                    continue
                for out in node.outputs:
                    for d in range(out.ndim):
                        roots = {
                            self._find((id(v), vd)) for v, vd in broadcast_refs(node.inputs, d, out.ndim)
                        }
                        if len(roots) == 1 and self._find((id(out), d)) not in roots:
                            self._union((id(out), d), roots.pop())
                            changed = True

    def _find(self, k: Any) -> Any:
        root = k
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while k != root:  # path compression
            self.parent[k], k = root, self.parent.get(k, k)
        return root

    def _union(self, a: Any, b: Any) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[ra] = rb

    def alias(self, new: Variable, old: Variable) -> None:
        """``new`` replaces ``old``: the same shape."""
        for d in range(old.ndim):
            self._union((id(new), d), (id(old), d))

    def same_shape(self, a: Variable, b: Variable) -> bool:
        return a.ndim == b.ndim and all(
            self._find((id(a), d)) == self._find((id(b), d)) for d in range(a.ndim)
        )


class Readers:
    """How many nodes (and outputs) of the graph read each variable, as the pass changes it: a
    value one loop reads for its shape only goes from that loop only where another node reads
    it, so it is still computed and raises what computing it raises (an index out of range, a
    product of sizes that do not match, a check)."""

    def __init__(self, fgraph: FunctionGraph) -> None:
        self.count: dict[int, tuple[Variable, int]] = {}  # the variable kept: its id stays its own
        for node in fgraph.toposort():
            self.add(node.inputs, 1)
        self.add(fgraph.outputs, 1)

    def add(self, vs: list[Variable], n: int) -> None:
        for v in vs:
            self.count[id(v)] = (v, self.count.get(id(v), (v, 0))[1] + n)

    def read_elsewhere(self, v: Variable) -> bool:
        return v.owner is None or self.count.get(id(v), (v, 0))[1] > 1


def _without_shape_copies(
    comp: Composite, inputs: list[Variable], sizes: SizeClasses, readers: Readers
) -> tuple | None:
    """(body, inputs) without the inputs no step reads whose shape another input has (or that
    are single values), and with those computed in the function whose shape a graph input has
    taking that input instead (the loop no longer waits for them); None when every input stays.
    A value computed in the function that no other node reads stays (`Readers`)."""
    read = {k for _, refs, _ in comp.steps for kind, k in refs if kind == "in"}
    read |= {k for k, v in enumerate(inputs) if not readers.read_elsewhere(v)}
    models = {}  # a shape-only input computed in the function -> a graph input of its shape
    for k in set(range(len(inputs))) - read:
        v = inputs[k]
        if v.owner is not None and v.ndim:
            model = next((g for g in sizes.inputs if sizes.same_shape(v, g)), None)
            if model is not None:
                models[k] = model
    if models:
        inputs = [models.get(k, v) for k, v in enumerate(inputs)]
        comp = Composite([v.dtype for v in inputs], comp.steps, comp.outputs)
    dropped: set[int] = set()
    # inputs computed in the function go first, so a graph input (the cheapest model) stays
    for k in sorted(set(range(len(inputs))) - read, key=lambda k: inputs[k].owner is None):
        v = inputs[k]
        if v.ndim == 0 or any(
            j != k and j not in dropped and sizes.same_shape(v, inputs[j]) for j in range(len(inputs))
        ):
            dropped.add(k)
    if not dropped and models:
        return comp, inputs
    if not dropped or len(dropped) == len(inputs):
        return None
    kept = [k for k in range(len(inputs)) if k not in dropped]
    renum = {k: n for n, k in enumerate(kept)}
    steps = [
        (name, tuple((kind, renum[k]) if kind == "in" else (kind, k) for kind, k in refs), dt)
        for name, refs, dt in comp.steps
    ]
    body = Composite([comp.in_dtypes[k] for k in kept], steps, comp.outputs)
    return body, [inputs[k] for k in kept]


def _rewrite(node: Apply, sizes: SizeClasses, readers: Readers) -> list[Variable] | None:
    if not isinstance(node.op, Elemwise) or node.op.inplace:
        return None
    const = {k: c for k, v in enumerate(node.inputs) if (c := const_value(v)) is not None}
    body = simplify_body(node.op.composite, const) if const else None
    inputs = list(node.inputs)
    fewer = _without_shape_copies(body or node.op.composite, inputs, sizes, readers)
    if fewer is not None:
        body, inputs = fewer
    if body is None:
        return None
    outs = Elemwise(body).make_node(*inputs).outputs
    if [o.type for o in outs] != [o.type for o in node.outputs]:
        return None
    for new, old in zip(outs, node.outputs):
        sizes.alias(new, old)
    readers.add(node.inputs, -1)
    readers.add(inputs, 1)
    return outs


@register("composite_constants", "fast_run", phase="fused")
def composite_constants(fgraph: FunctionGraph) -> bool:
    sizes = SizeClasses(fgraph)
    readers = Readers(fgraph)
    return local_pass(fgraph, lambda node: _rewrite(node, sizes, readers))
