"""Copies for the inputs an op overwrites (its ``destroy_map``) where their value is read
elsewhere.

Theano's and PyTensor's ops may declare ``destroy_map = {output: [input, ...]}`` and write
their result into an input's buffer. That is safe only where nothing else ever reads the
value: an intermediate that owns its buffer (no view of anything) and that only this node
reads, once. Everywhere else (a function input, which is the caller's array; a shared
variable's value; a constant; a value another node or the caller also reads, in whatever order
the nodes run; a view of any of those) the op is given a copy to overwrite instead, so that the
caller's arrays, the shared values and what the rest of the graph reads never change. The
elementwise `inplace` rewrite only makes safe in-place nodes, which this leaves as they are.

Run on every compiled graph after the mode's rewrites, whatever the mode (it is no rewrite a
mode can exclude: without it an op's declared overwrite is a wrong result).
"""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from ..tensor.elemwise import elemwise
from .local import client_counts

__all__ = ["owns_buffer", "copy_destroyed_inputs"]


def owns_buffer(v: Variable) -> bool:
    """Whether ``v`` is an intermediate whose buffer is its own: its op neither views nor
    overwrites an input for it, nor may return one as it is."""
    p = v.owner
    return (
        p is not None
        and not p.op.may_return_input
        and v.index not in p.op.view_map
        and v.index not in p.op.destroy_map
    )


def _may_overwrite(node: Apply, k: int, counts: dict[int, int]) -> bool:
    v = node.inputs[k]
    return owns_buffer(v) and counts.get(id(v), 0) == 1


def copy_destroyed_inputs(fgraph: FunctionGraph) -> FunctionGraph:
    """``fgraph`` (changed in place) with each input an op overwrites that is read elsewhere
    replaced, for that node only, by a copy of it."""
    nodes = [n for n in fgraph.toposort() if n.op.destroy_map]
    if not nodes:
        return fgraph
    counts = client_counts(fgraph)
    for node in nodes:
        destroyed = sorted({k for ins in node.op.destroy_map.values() for k in ins})
        unsafe = [k for k in destroyed if not _may_overwrite(node, k, counts)]
        if not unsafe:
            continue
        inputs = list(node.inputs)
        for k in unsafe:
            if not isinstance(inputs[k].type, TensorType):
                raise TypeError(
                    f"{node.op} declares it overwrites its input {k} ({inputs[k]!r}, a "
                    f"{inputs[k].type}), whose value is read elsewhere (the caller's, a shared "
                    "value's, or another node's); fncache copies only dense tensors for an op "
                    "to overwrite: copy the value in perform and drop the input from destroy_map"
                )
            inputs[k] = elemwise("identity", inputs[k])
            if "origin" in node.tag:  # its errors name the line that made the op's node
                inputs[k].owner.tag["origin"] = node.tag["origin"]
        node.inputs = inputs
    return fgraph
