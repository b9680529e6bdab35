"""`fusion`: chains of elementwise ops become one loop, and an elementwise producer feeding a
reduction becomes the reduction's loop body (``sum((x-y)**2)``: one pass, no temporary)."""
from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.elemwise import Elemwise
from ..tensor.reduction import Reduce
from ..tensor.scalar_ops import Composite
from .local import client_counts, local_pass
from .registry import register

MAX_INPUTS = 24


def _inline(outer: Composite, outer_inputs: list[Variable], slot: int, inner: Composite,
            inner_inputs: list[Variable]) -> tuple[Composite, list[Variable]]:
    """``outer`` with its input ``slot`` replaced by ``inner``'s single output."""
    inputs: list[Variable] = []
    pos: dict[int, int] = {}

    def at(v: Variable) -> int:
        if id(v) not in pos:
            pos[id(v)] = len(inputs)
            inputs.append(v)
        return pos[id(v)]

    for k, v in enumerate(outer_inputs):
        if k != slot:
            at(v)
    steps = []
    for name, refs, dt in inner.steps:
        steps.append((name, tuple(("in", at(inner_inputs[k])) if kind == "in" else (kind, k)
                                  for kind, k in refs), dt))
    shift = len(inner.steps)
    inner_out = inner.outputs[0]
    for name, refs, dt in outer.steps:
        new_refs = []
        for kind, k in refs:
            if kind == "s":
                new_refs.append(("s", k + shift))
            elif k == slot:
                new_refs.append(("s", inner_out))
            else:
                new_refs.append(("in", at(outer_inputs[k])))
        steps.append((name, tuple(new_refs), dt))
    comp = Composite([v.dtype for v in inputs], steps, [j + shift for j in outer.outputs])
    return comp, inputs


def _fusable(v: Variable, counts: dict[int, int], ndim: int) -> bool:
    p = v.owner
    return (p is not None and isinstance(p.op, Elemwise) and len(p.outputs) == 1
            and not p.op.inplace and counts.get(id(v), 0) == 1 and v.ndim == ndim)


@register("fusion", "fast_run", phase="fusion")
def fusion(fgraph: FunctionGraph) -> bool:
    any_change = False
    while True:
        counts = client_counts(fgraph)

        def fuse_elemwise(node: Apply) -> list[Variable] | None:
            if not isinstance(node.op, Elemwise) or node.op.inplace:
                return None
            comp, inputs = node.op.composite, list(node.inputs)
            fused = False
            for _ in range(64):
                slot = next((k for k, v in enumerate(inputs)
                             if _fusable(v, counts, node.outputs[0].ndim)), None)
                if slot is None:
                    break
                p = inputs[slot].owner
                new_comp, new_inputs = _inline(comp, inputs, slot, p.op.composite, p.inputs)
                if len(new_inputs) > MAX_INPUTS:
                    break
                comp, inputs, fused = new_comp, new_inputs, True
            if not fused:
                return None
            return Elemwise(comp).make_node(*inputs).outputs

        changed = local_pass(fgraph, fuse_elemwise)
        counts = client_counts(fgraph)

        def fuse_reduce(node: Apply) -> list[Variable] | None:
            if not isinstance(node.op, Reduce) or node.op.pre is not None:
                return None
            x = node.inputs[0]
            if not _fusable(x, counts, x.ndim):
                return None
            p = x.owner
            op = node.op
            return Reduce(op.kind, op.axes, op.out_dtype, pre=p.op.composite,
                          ddof=op.ddof).make_node(*p.inputs).outputs

        changed |= local_pass(fgraph, fuse_reduce)
        any_change |= changed
        if not changed:
            return any_change
