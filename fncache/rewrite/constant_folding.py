"""`constant_folding`: evaluate nodes whose inputs are all constants (small results only, so
the graph and its cache key stay small), and the shapes of inputs and constants that are
statically known. The shape of a computed value is read from the value: its type's sizes were
inferred when the graph was built and are checked by its op when it runs (a reshape, a sum
of mismatched sizes, a ``specify_shape``), which a folded shape would skip."""

from __future__ import annotations

import numpy as np

from ..graph.basic import Constant, has_side_effects
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from ..tensor.basic import constant
from ..tensor.pyop import CheckAndRaise
from ..tensor.shape_ops import Shape
from .local import local_pass
from .registry import register

MAX_FOLDED_SIZE = 1 << 16


@register("constant_folding", "fast_run", "fast_compile")
def constant_folding(fgraph: FunctionGraph) -> bool:
    def fn(node):
        if isinstance(node.op, Shape):
            x = node.inputs[0]
            if x.owner is None and None not in x.type.shape:
                return [constant(np.asarray(x.type.shape, dtype="int64"))]
        if isinstance(node.op, CheckAndRaise) or has_side_effects(node.op):
            return None
        if not all(isinstance(v, Constant) for v in node.inputs):
            return None
        if not all(isinstance(o.type, TensorType) for o in node.outputs):
            return None  # a sparse matrix is no array constant: it is computed when the function runs
        try:
            outs = node.op.perform(node, [v.data for v in node.inputs])
        except Exception:  # the error will be raised at run time, where the user expects it
            return None
        if any(np.asarray(o).size > MAX_FOLDED_SIZE for o in outs):
            return None
        return [constant(np.array(o), dtype=v.dtype) for o, v in zip(outs, node.outputs)]

    return local_pass(fgraph, fn)
