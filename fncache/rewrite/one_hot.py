"""`one_hot_sum`: the sum of zeros with one value ``g`` written at an int index is ``g``, where
the index is known to be in range (`SubtensorGrad`'s ``in_range``: the seed of a Jacobian's
row): one reduction less per row, and what only read that sum no longer depends on the row.
Exact, the sign of a zero ``g`` included: the sum of a -0.0 and zeros is 0.0, so ``g`` of a
float dtype becomes ``g + 0.0``."""

from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_complex, is_float
from ..tensor.elemwise import cast, elemwise
from ..tensor.grad_ops import SubtensorGrad
from ..tensor.reduction import Reduce
from .local import local_pass
from .registry import register


def _rewrite(node: Apply) -> list[Variable] | None:
    op, out = node.op, node.outputs[0]
    # a narrower accumulator would wrap the one value as numpy's loop does: keep the sum
    if not isinstance(op, Reduce) or op.kind != "add" or op.pre is not None or op.acc_dtype or out.ndim != 0:
        return None
    x = node.inputs[0]
    seed = x.owner.op if x.owner is not None else None
    if not (
        isinstance(seed, SubtensorGrad)
        and seed.in_range
        and len(seed.idx) == x.ndim
        and all(e[0] == "i" for e in seed.idx)
    ):
        return None
    g = x.owner.inputs[1]
    if g.ndim != 0:
        return None
    g = g if g.dtype == out.dtype else cast(g, out.dtype)
    if is_float(out.dtype) or is_complex(out.dtype):
        return [elemwise("add", g, np.zeros((), out.dtype))]
    return [g]


@register("one_hot_sum", "fast_run")
def one_hot_sum(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
