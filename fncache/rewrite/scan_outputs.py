"""`scan_unused_outputs`: a `Scan` node computes no stacked output nothing reads.

The gradient of a loop gives every float input of the step its gradient (a rule does not know
which ones are wanted): an RNN trained on data computes, at each backward step, the gradient of
the data's row too, and stacks it. Here a node whose map outputs (those not fed back) are not
all read is replaced by one whose step graph lacks the unread ones.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from .local import client_counts, local_pass
from .registry import register


@register("scan_unused_outputs", "fast_run")
def drop_unused_scan_outputs(fgraph: FunctionGraph) -> bool:
    # A graph holds a Scan only once its module is loaded (building or unpickling one imports
    # it): any other graph neither imports it nor is walked here, and a later warm hit of such
    # a graph finds no inner-graph module to look for (runtime/compile.py).
    scan = sys.modules.get("fncache.tensor.scan")
    if scan is None:
        return False
    Scan = scan.Scan
    counts = client_counts(fgraph)

    def fn(node: Apply) -> Sequence[Variable] | None:
        op = node.op
        if not isinstance(op, Scan):
            return None
        keep = [
            j for j, (k, o) in enumerate(zip(op.kinds, node.outputs)) if k != "map" or counts.get(id(o), 0)
        ]
        if len(keep) == len(op.kinds):
            return None
        cond = op.inner.outputs[len(op.kinds) :]  # a stop condition stays
        new = op.derived([*(op.inner.outputs[j] for j in keep), *cond], [op.kinds[j] for j in keep])
        new_outs = new.make_node(*node.inputs).outputs
        out = list(node.outputs)  # an unread output is left as it is: nothing reads it
        for j, v in zip([*keep, len(op.kinds)][: len(new_outs)], new_outs):
            out[j] = v
        return out

    return local_pass(fgraph, fn)
