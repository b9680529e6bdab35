"""``fncache.compile.builders``: PyTensor's place for ``OpFromGraph`` (``pytensor.compile.builders``,
Theano's ``theano.compile.builders``); the op is ``fncache/tensor/op_from_graph.py``'s."""

from __future__ import annotations

from ..tensor.op_from_graph import OpFromGraph

__all__ = ["OpFromGraph"]
