"""`sizes`: a `ReducedSize` (how many elements a reduction combined, e.g. the count a mean's
gradient divides by) reads its sizes from the variables they come from, not from the reduced
value: through elementwise ops (the broadcast of their inputs' sizes), products, dimshuffles,
reductions and `SumToShape`. The count then no longer waits for the value it counts, so a
gradient whose only link to a row-wise value was its count fuses with it (`rowpass`)."""

from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.basic import constant
from ..tensor.blas import Dot
from ..tensor.elemwise import Elemwise
from ..tensor.grad_ops import ReducedSize, SumToShape
from ..tensor.reduction import Reduce
from ..tensor.shape_ops import DimShuffle
from .local import local_pass
from .registry import register

Ref = tuple[Variable, int]


def broadcast_refs(inputs: list[Variable], d: int, nd: int) -> list[Ref]:
    """The input dims numpy broadcasts into dim ``d`` of an ``nd``-dim result (inputs of size 1
    there, statically, add nothing)."""
    out = []
    for v in inputs:
        vd = d - nd + v.ndim
        if vd >= 0 and v.type.shape[vd] != 1:
            out.append((v, vd))
    return out


def _sources(v: Variable, d: int) -> list[Ref] | None:
    """Where dim ``d`` of ``v`` gets its size (its broadcast), or None to keep ``(v, d)``."""
    node = v.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, Elemwise):
        return broadcast_refs(node.inputs, d, v.ndim)
    if isinstance(op, Reduce):
        nd = max(x.ndim for x in node.inputs)
        kept = [a for a in range(nd) if a not in op.axes]
        return broadcast_refs(node.inputs, kept[d], nd)
    if isinstance(op, DimShuffle):
        p = op.pattern[d]
        return [] if p == "x" else [(node.inputs[0], p)]
    if isinstance(op, SumToShape):  # an axis it may sum over may become 1
        return None if d in {a for a, _ in op.spec} else [(node.inputs[0], d)]
    if isinstance(op, Dot):
        a, b = node.inputs
        if a.ndim == 2 and d == 0:
            return [(a, 0)]
        return [(b, 1)]  # the last dim of a product with a 2-D right operand
    return None


def _lift(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, ReducedSize):
        return None
    entries: list[list[Ref]] = [[(node.inputs[k], d) for k, d in refs] for refs in node.op.spec]
    changed = False
    for refs in entries:
        k = 0
        while k < len(refs):
            v, d = refs[k]
            src = _sources(v, d) if v.type.shape[d] is None else ([] if v.type.shape[d] == 1 else None)
            if src is None:
                k += 1
                continue
            new: list[Ref] = []
            for r in src:
                if not any(r[0] is u and r[1] == e for u, e in refs + new):
                    new.append(r)
            refs[k : k + 1] = new
            changed = True
    if not changed:
        return None
    likes: list[Variable] = []
    spec = []
    for refs in entries:
        if not refs:
            continue
        for v, _ in refs:
            if not any(v is u for u in likes):
                likes.append(v)
        spec.append(tuple((next(i for i, u in enumerate(likes) if u is v), d) for v, d in refs))
    if not spec:  # every size was statically 1
        return [constant(np.ones((), dtype=node.op.dtype))]
    return [ReducedSize(tuple(spec), node.op.dtype)(*likes)]


@register("sizes", "fast_run")
def sizes(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _lift)
