"""`inline_op_from_graph`: every `OpFromGraph` node becomes its graph, applied to the node's
inputs (nested ones too). The gradients were taken before the function is compiled, with the
op's overrides; what is left is the forward computation, which then merges, fuses and is
cached as if the user had written it out. A mode without this rewrite runs each node's graph
as an inner function of its own."""

from __future__ import annotations

import sys

from ..graph.fgraph import FunctionGraph
from .local import local_pass
from .registry import register


@register("inline_op_from_graph", "fast_run", "fast_compile")
def inline_op_from_graph(fgraph: FunctionGraph) -> bool:
    # A graph holds an OpFromGraph only once its module is loaded (building or unpickling one
    # imports it): any other graph neither imports it nor is walked here.
    module = sys.modules.get("fncache.tensor.op_from_graph")
    if module is None:
        return False
    op_class, inline = module.OpFromGraph, module.inline_graph
    return local_pass(fgraph, lambda node: inline(node) if isinstance(node.op, op_class) else None)
