"""`composite_constants`: the body of a fused loop simplified where some of its inputs are
constants. Canonicalize makes the same simplifications node by node, but only where the
node's output keeps the shape of what replaces it; inside a loop body the node's inputs
still decide the loop's shape (they all stay), so the rules apply to every step: a switch on
a constant condition is the branch it picks, and x + (-0.0), x - 0, x * 1, x / 1 and x ** 1 are x
(exact, NaN and inf included: canonicalize's `UNITS`). Steps no output needs any more are dropped.

Gradients leave such steps in the body: ``broadcast_like`` is a switch on True, and the
gradient of its shape-only input a switch on True that picks zero."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.elemwise import Elemwise
from ..tensor.scalar_ops import Composite
from .canonicalize import UNITS, const_value, is_unit
from .local import local_pass
from .registry import register

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
    live: set[int] = set(comp.outputs)
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


def _rewrite(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, Elemwise) or node.op.inplace:
        return None
    const = {k: c for k, v in enumerate(node.inputs) if (c := const_value(v)) is not None}
    if not const:
        return None
    body = simplify_body(node.op.composite, const)
    if body is None:
        return None
    return Elemwise(body).make_node(*node.inputs).outputs


@register("composite_constants", "fast_run", phase="fused")
def composite_constants(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
