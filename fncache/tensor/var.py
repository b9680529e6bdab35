"""``fncache.tensor.var``, Theano's module path of the tensor variable classes
(``from theano.tensor.var import TensorVariable``; PyTensor's is ``fncache.tensor.variable``):
for ``isinstance`` checks in ported code."""

from __future__ import annotations

from .sharedvar import TensorSharedVariable
from .variable import TensorConstant, TensorVariable

__all__ = ["TensorConstant", "TensorSharedVariable", "TensorVariable"]
