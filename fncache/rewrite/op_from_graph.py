"""`inline_op_from_graph`: every `OpFromGraph` node becomes its graph, applied to the node's
inputs (nested ones too). The gradients were taken before the function is compiled, with the
op's overrides; what is left is the forward computation, which then merges, fuses and is
cached as if the user had written it out. A mode without this rewrite runs each node's graph
as an inner function of its own."""

from __future__ import annotations

from ..graph.fgraph import FunctionGraph
from ..tensor.op_from_graph import OpFromGraph, inline_graph
from .local import local_pass
from .registry import register


@register("inline_op_from_graph", "fast_run", "fast_compile")
def inline_op_from_graph(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, lambda node: inline_graph(node) if isinstance(node.op, OpFromGraph) else None)
