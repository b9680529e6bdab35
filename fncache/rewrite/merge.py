"""`merge`: common-subexpression elimination (equal constants, equal ops on equal inputs
declaring equal output types)."""

from __future__ import annotations

from ..graph.basic import Constant, Variable, merges
from ..graph.fgraph import FunctionGraph
from ..mode import MERGE_TAGS
from .local import local_pass
from .registry import register


@register(*MERGE_TAGS)
def merge(fgraph: FunctionGraph) -> bool:
    consts: dict[tuple, Variable] = {}
    seen: dict[tuple, list[Variable]] = {}

    def fn(node):
        # Equal constants feeding this node become one variable.
        for i, v in enumerate(node.inputs):
            if isinstance(v, Constant):
                key = (v.type, v.signature())
                node.inputs[i] = consts.setdefault(key, v)
        if not merges(node.op):
            return None
        # the output types too: a user's make_node may declare other types for one op and inputs
        key = (node.op, tuple(id(v) for v in node.inputs), tuple(o.type for o in node.outputs))
        if key in seen:
            return seen[key]
        seen[key] = node.outputs
        return None

    return local_pass(fgraph, fn)
