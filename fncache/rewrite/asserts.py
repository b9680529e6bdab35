"""`local_remove_all_assert` (unsafe, off unless included): drop run-time assertions."""

from __future__ import annotations

from ..graph.fgraph import FunctionGraph
from ..tensor.pyop import Assert
from .local import local_pass
from .registry import register


@register("local_remove_all_assert", "unsafe")
def remove_all_assert(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, lambda node: [node.inputs[0]] if isinstance(node.op, Assert) else None)
