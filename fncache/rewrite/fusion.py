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
#: Longer fused bodies make gcc slow (a 10,000-op chain would take minutes to compile).
MAX_STEPS = 256


def _inline(
    outer: Composite, outer_inputs: list[Variable], slot: int, inner: Composite, inner_inputs: list[Variable]
) -> tuple[Composite, list[Variable]]:
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
        steps.append(
            (name, tuple(("in", at(inner_inputs[k])) if kind == "in" else (kind, k) for kind, k in refs), dt)
        )
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
    return _dedupe(inputs, steps, [j + shift for j in outer.outputs]), inputs


def _dedupe(inputs: list[Variable], steps: list[tuple], outputs: list[int]) -> Composite:
    """Merge identical steps (a producer inlined into two consumers is computed once)."""
    first: dict[tuple, int] = {}
    remap: dict[int, int] = {}
    kept: list[tuple] = []
    for j, (name, refs, dt) in enumerate(steps):
        refs = tuple(("s", remap[k]) if kind == "s" else (kind, k) for kind, k in refs)
        key = (name, refs, dt)
        if key not in first:
            first[key] = len(kept)
            kept.append(key)
        remap[j] = first[key]
    return Composite([v.dtype for v in inputs], kept, [remap[j] for j in outputs])


def _body(node: Apply) -> tuple[Composite, int] | None:
    """The fusable loop body of a node: an Elemwise's composite or a Reduce's ``pre`` (an
    identity body for a plain Reduce), with the output dimensionality of its loop."""
    if isinstance(node.op, Elemwise) and not node.op.inplace:
        return node.op.composite, node.outputs[0].ndim
    if isinstance(node.op, Reduce):
        x = node.inputs[0]
        pre = node.op.pre or Composite([x.dtype], [("identity", (("in", 0),), x.dtype)], [0])
        return pre, max(v.ndim for v in node.inputs)
    return None


def _rebuild(node: Apply, comp: Composite, inputs: list[Variable]) -> list[Variable]:
    if isinstance(node.op, Elemwise):
        return Elemwise(comp).make_node(*inputs).outputs
    op = node.op
    return op.with_pre(comp).make_node(*inputs).outputs


def _cheap_step(name: str) -> bool:
    """A scalar op about as cheap as the loop's loads and stores (no division, no function)."""
    return name in ("add", "sub", "mul", "neg", "identity") or name.startswith("cast:")


def _cheap(comp: Composite) -> bool:
    """Bodies cheap enough to recompute in every consumer (so a shared producer such as
    ``X@w + b`` still fuses into each user)."""
    return len(comp.steps) <= 2 and all(_cheap_step(name) for name, _, _ in comp.steps)


def _repeated(v: Variable, loop: list[Variable]) -> bool:
    """Whether a loop over ``loop``'s inputs reads each element of ``v`` for many elements along
    an axis other than the last while it varies along the last (a per-column value of shape
    ``(1, n)`` in an ``(m, n)`` loop): fused there, its body runs once per element of the loop,
    not once per element of ``v``. A value the same along the last axis (a per-row value,
    ``(m, 1)``) is read once per row, and the body's steps that read only such values are
    computed once per row before the loop along it (``codegen/c_nodes.py``)."""
    shape = v.type.shape
    if not shape or shape[-1] == 1:
        return False
    # the loop's inputs are aligned on their last axes, as numpy broadcasts them
    nd = len(shape)
    return any(
        shape[d] == 1 and any(d >= nd - u.ndim and u.type.shape[d - nd + u.ndim] != 1 for u in loop)
        for d in range(nd - 1)
    )


@register("fusion", "fast_run", phase="fusion")
def fusion(fgraph: FunctionGraph) -> bool:
    any_change = False
    while True:
        counts = client_counts(fgraph)
        out_ids = {id(v) for v in fgraph.outputs}

        # fusable and fuse read this iteration's counts and out_ids: local_pass below calls
        # them before the next iteration rebinds either.
        def fusable(v: Variable, ndim: int, loop: list[Variable]) -> bool:
            p = v.owner
            if (
                p is None
                or not isinstance(p.op, Elemwise)
                or len(p.outputs) != 1
                or p.op.inplace
                or v.ndim != ndim
            ):
                return False
            # a costly body of a value the loop repeats stays a loop over the value's own elements
            if _repeated(v, loop) and not all(_cheap_step(name) for name, _, _ in p.op.composite.steps):
                return False
            if counts.get(id(v), 0) == 1:  # noqa: B023
                return True
            return id(v) not in out_ids and _cheap(p.op.composite)  # noqa: B023

        def fuse(node: Apply) -> list[Variable] | None:
            body = _body(node)
            if body is None:
                return None
            comp, ndim = body
            inputs = list(node.inputs)
            fused = False
            for _ in range(64):
                slot = next((k for k, v in enumerate(inputs) if fusable(v, ndim, inputs)), None)
                if slot is None:
                    break
                p = inputs[slot].owner
                new_comp, new_inputs = _inline(comp, inputs, slot, p.op.composite, p.inputs)
                if len(new_inputs) > MAX_INPUTS or len(new_comp.steps) > MAX_STEPS:
                    break
                comp, inputs, fused = new_comp, new_inputs, True
            return _rebuild(node, comp, inputs) if fused else None

        changed = local_pass(fgraph, fuse)
        any_change |= changed
        if not changed:
            return any_change
