"""Sparse matrices (``fncache.sparse``, Theano's ``theano.sparse`` and PyTensor's
``pytensor.sparse``): the type and its variables (``type.py``) and the ops (``basic.py``).
Values are scipy.sparse csr or csc matrices; docs/sparse.md."""

from __future__ import annotations

from .basic import *  # noqa: F401,F403
from .basic import __all__ as _ops
from .type import (
    SparseConstant,
    SparseSharedVariable,
    SparseTensorType,
    SparseVariable,
    is_sparse_value,
    is_sparse_variable,
    sparse_shared,
)

#: PyTensor's ``pytensor.sparse.shared``: a shared variable holding a scipy.sparse matrix
shared = sparse_shared
#: Theano's name of the type
SparseType = SparseTensorType

__all__ = [
    *_ops,
    "SparseTensorType",
    "SparseType",
    "SparseVariable",
    "SparseConstant",
    "SparseSharedVariable",
    "is_sparse_value",
    "is_sparse_variable",
    "shared",
]
