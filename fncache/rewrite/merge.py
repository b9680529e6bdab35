"""`merge`: common-subexpression elimination (equal constants, equal ops on equal inputs)."""

from __future__ import annotations

from ..graph.basic import Constant, Variable
from ..graph.fgraph import FunctionGraph
from .local import local_pass
from .registry import register


@register("merge", "fast_run", "fast_compile")
def merge(fgraph: FunctionGraph) -> bool:
    consts: dict[tuple, Variable] = {}
    seen: dict[tuple, list[Variable]] = {}

    def fn(node):
        # Equal constants feeding this node become one variable.
        for i, v in enumerate(node.inputs):
            if isinstance(v, Constant):
                key = (v.type, v.signature())
                node.inputs[i] = consts.setdefault(key, v)
        if getattr(node.op, "side_effects", False):
            return None  # a user's callable or a Print: each runs where it was put
        key = (node.op, tuple(id(v) for v in node.inputs))
        if key in seen:
            return seen[key]
        seen[key] = node.outputs
        return None

    return local_pass(fgraph, fn)
