"""``fncache.tensor.sharedvar``: Theano/PyTensor's module path of the tensor shared variable
class, for ``isinstance(v, TensorSharedVariable)`` checks (``fc.shared`` makes them; README
"Compiling", shared variables)."""

from __future__ import annotations

from .shared import SharedVariable, shared

#: fncache's shared variables are all tensors: the one class is Theano's tensor subclass too.
TensorSharedVariable = SharedVariable

__all__ = ["SharedVariable", "TensorSharedVariable", "shared"]
