"""``fncache.sparse``, where Theano and PyTensor users look for sparse matrices (``import
pytensor.sparse as sparse``): the front end's ``fncache/tensor/sparse/`` under that module path.
scipy is needed (it is imported on first use of a sparse value)."""

from __future__ import annotations

from ..tensor.sparse import *  # noqa: F401,F403
from ..tensor.sparse import __all__ as __all__  # noqa: PLE0605
from . import basic  # noqa: F401  (``fncache.sparse.basic.neg``, as PyTensor's module path)
