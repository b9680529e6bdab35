"""`local_remove_all_assert` (unsafe, off unless included): drop run-time assertions, the user's
(``Assert``) and fncache's own checks of the values its functions are given, except the ones made
not ``removable`` (``check_value``)."""

from __future__ import annotations

from ..graph.fgraph import FunctionGraph
from ..tensor.pyop import ArgumentCheck, Assert
from .local import local_pass
from .registry import register


def _is_assertion(op: object) -> bool:
    return isinstance(op, Assert) or (isinstance(op, ArgumentCheck) and op.removable)


@register("local_remove_all_assert", "unsafe")
def remove_all_assert(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, lambda node: [node.inputs[0]] if _is_assertion(node.op) else None)
