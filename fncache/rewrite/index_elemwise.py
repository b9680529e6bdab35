"""`index_elemwise`: an elementwise function of one input, indexed with int arrays along every
axis one of which is ``arange(n)``, is the function of the entries indexed: it runs on those
alone. ``log(softmax(z))[arange(n), y]``, the tutorials' negative log-likelihood, takes ``n``
logarithms instead of one per score. Exact: the same function of the same values, the index
checked against the same shape; ``arange(n)`` picks each of its axis's entries at most once,
so the result holds no more entries than the input, and the function runs no more often."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.advanced_subtensor import AdvancedSubtensor
from ..tensor.creation import arange_stop
from ..tensor.elemwise import Elemwise
from .local import local_pass
from .registry import register


def _rewrite(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, AdvancedSubtensor):
        return None
    x, index = node.inputs[0], node.inputs[1:]
    fn = x.owner
    if fn is None or not isinstance(fn.op, Elemwise) or len(fn.inputs) != 1 or len(fn.outputs) != 1:
        return None
    if node.op.key != tuple(("a", k) for k in range(x.ndim)) or len(index) != x.ndim:
        return None
    if any(a.ndim != 1 for a in index) or all(arange_stop(a) is None for a in index):
        return None
    a = fn.inputs[0]
    # one input: the function's result has the input's shape, which the index then reads
    if a.ndim != x.ndim:
        return None
    out = fn.op(node.op(a, *index))
    return [out] if out.type == node.outputs[0].type else None


@register("index_elemwise", "fast_run")
def index_elemwise(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
