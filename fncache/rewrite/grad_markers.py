"""`grad_markers`: take the gradient markers (``zero_grad``, ``grad_clip``, ...) out of a
compiled graph. Forward they are the identity; what they do was done when the gradient was
built, so a function pays nothing for them and its graph optimizes as if they were absent."""

from __future__ import annotations

from ..graph.fgraph import FunctionGraph
from ..tensor.grad_markers import GradMarker
from .local import local_pass
from .registry import register


@register("grad_markers", "fast_run", "fast_compile")
def remove_grad_markers(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, lambda node: [node.inputs[0]] if isinstance(node.op, GradMarker) else None)
