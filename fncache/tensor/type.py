"""``fncache.tensor.type``, where Theano and PyTensor keep ``TensorType`` and the variable
constructors (``from pytensor.tensor.type import TensorType, dmatrix, tensor``): those of
``fncache.tensor`` (``fncache/tensor/basic.py``) under that module path."""

from __future__ import annotations

from ..graph.types import TensorType
from .basic import *  # noqa: F401,F403  (the constructors: dvector, fmatrix, tensor, scalar...)
from .basic import __all__ as _constructors

__all__ = [
    "TensorType",
    *(name for name in _constructors if name not in ("constant", "as_tensor_variable", "as_tensor")),
]
