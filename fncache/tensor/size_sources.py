"""Where a value's size along an axis comes from: the inputs numpy broadcasts into it, through
elementwise ops, reductions, dimshuffles, `SumToShape` and products. The `sizes` rewrite reads
a count from them instead of the value; a size error names the input a computed operand has
its size of."""

from __future__ import annotations

from ..graph.basic import Variable
from .blas import Dot
from .elemwise import Elemwise
from .grad_ops import SumToShape
from .reduction import Reduce
from .shape_ops import DimShuffle

__all__ = ["Ref", "broadcast_refs", "size_source", "size_sources"]

#: a variable's dim
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


def size_sources(v: Variable, d: int) -> list[Ref] | None:
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


def size_source(v: Variable, d: int) -> Ref:
    """The variable and dim that ``v``'s size along dim ``d`` is read from: ``(v, d)``, or,
    through each op whose size there is one input's (an elementwise op's only input not of
    size 1 there, a product's, a dimshuffle's, a reduction's), that input's: ``-y`` has y's
    sizes, the rows of ``sigmoid(x @ w + b)`` are x's dim 0."""
    while v.owner is not None:
        src = size_sources(v, d)
        if not src or len(src) != 1:
            break
        v, d = src[0]
    return v, d
