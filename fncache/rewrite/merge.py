"""`merge`: common-subexpression elimination (equal constants, equal ops on equal inputs
declaring output types that do not contradict each other)."""

from __future__ import annotations

from ..graph.basic import Constant, Variable, merges
from ..graph.fgraph import FunctionGraph
from ..graph.types import fits_type
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
        # by identity (class, props, a user op's attributes and code), not by a user's __eq__,
        # which may call ops equal that compute differently
        key = (node.op.signature(), tuple(id(v) for v in node.inputs))
        first = seen.get(key)
        if first is None:
            seen[key] = node.outputs
        # not over other static sizes: a user's make_node may declare them from a setting
        elif all(fits_type(o.type, f.type) or fits_type(f.type, o.type) for o, f in zip(node.outputs, first)):
            return first
        return None

    return local_pass(fgraph, fn)
