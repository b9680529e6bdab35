"""Ops that gradient graphs need and forward graphs do not: summing a gradient back to the
shape of an input that was broadcast at run time, and placing a slice's gradient into zeros of
the sliced tensor's shape."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .subtensor import Subtensor

__all__ = ["SumToShape", "SubtensorGrad"]


class SumToShape(Op):
    """``g`` summed (keeping dims) over those of ``axes`` where ``like`` has size 1 and ``g``
    does not: the gradient of an input whose size-1 dims numpy broadcast at run time. Only
    ``like``'s shape is read. Where nothing was broadcast the result is ``g`` itself."""

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = tuple(axes)

    def make_node(self, g: Variable, like: Variable) -> Apply:
        if g.ndim != like.ndim:
            raise ValueError(f"{self}: gradient ndim {g.ndim} differs from the input's "
                             f"{like.ndim}")
        shape = tuple(like.type.shape[d] if d in self.axes else s
                      for d, s in enumerate(g.type.shape))
        return Apply(self, [g, like], [TensorType(g.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        g, like = inputs
        axes = tuple(a for a in self.axes if like.shape[a] == 1 and g.shape[a] != 1)
        if not axes:
            return [g]
        return [np.add.reduce(g, axis=axes, keepdims=True, dtype=g.dtype)]


class SubtensorGrad(Op):
    """Zeros of ``x``'s shape (and ``g``'s dtype) with ``g`` written at ``x[idx]``: the
    gradient of basic indexing. ``idx`` is a :class:`Subtensor` index structure."""

    __props__ = ("idx",)

    def __init__(self, idx: tuple) -> None:
        self.idx = tuple(idx)

    def __str__(self) -> str:
        return "Grad" + str(Subtensor(self.idx))

    def make_node(self, x: Variable, g: Variable, *bounds: Variable) -> Apply:
        return Apply(self, [x, g, *bounds], [TensorType(g.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g, bounds = inputs[0], inputs[1], inputs[2:]
        out = np.zeros(x.shape, dtype=node.outputs[0].dtype)
        out[Subtensor(self.idx).python_index(list(bounds))] = g
        return [out]

