"""`inplace`: an elementwise op writes its result into an input buffer that dies there.

Only intermediates qualify: never a function input, a constant, a shared value, a view of
anything, or a variable used elsewhere. The C backend still checks at run time that the buffer
has the output's shape and is contiguous before reusing it.
"""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.elemwise import Elemwise
from .destroyed import owns_buffer
from .local import client_counts, local_pass
from .registry import register


@register("inplace", "fast_run", phase="late")
def inplace(fgraph: FunctionGraph) -> bool:
    counts = client_counts(fgraph)

    def fn(node: Apply) -> list[Variable] | None:
        if not isinstance(node.op, Elemwise) or node.op.inplace or len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        for k, v in enumerate(node.inputs):
            if (
                owns_buffer(v)
                and counts.get(id(v), 0) == 1
                and v.dtype == out.dtype
                and v.ndim == out.ndim
                and node.inputs.count(v) == 1
            ):
                return Elemwise(node.op.composite, ((0, k),)).make_node(*node.inputs).outputs
        return None

    return local_pass(fgraph, fn)
