"""`scan_unused_outputs`: a `Scan` node computes no stacked output nothing reads.

The gradient of a loop gives every float input of the step its gradient (a rule does not know
which ones are wanted): an RNN trained on data computes, at each backward step, the gradient of
the data's row too, and stacks it. Here a node whose map outputs (those not fed back) are not
all read is replaced by one whose step graph lacks the unread ones, and an unread output that
is fed back (an older value of an output with taps) keeps only its last value, unstacked.
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
        read = [bool(counts.get(id(o), 0)) for o in node.outputs]  # (and a stop's step count)
        keep = [j for j, (k, r) in enumerate(zip(op.kinds, read)) if k != "map" or r]
        kinds = ["last" if k == "rec" and not r else k for k, r in zip(op.kinds, read)]
        if len(keep) == len(op.kinds) and kinds == list(op.kinds):
            return None
        cond = op.inner.outputs[len(op.kinds) :]  # a stop condition stays
        new = op.derived([*(op.inner.outputs[j] for j in keep), *cond], [kinds[j] for j in keep])
        new_outs = new.make_node(*node.inputs).outputs
        out = list(node.outputs)  # an unread output is left as it is: nothing reads it
        for j, v in zip([*keep, len(op.kinds)], new_outs):
            if read[j]:
                out[j] = v
        return out

    return local_pass(fgraph, fn)
