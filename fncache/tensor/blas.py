"""Matrix products for 1-D and 2-D operands (numpy ``dot`` semantics, BLAS speed in C)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, normalize_dtype
from .basic import as_tensor_variable
from .elemwise import check_float64

__all__ = ["Dot", "dot", "matmul"]


class Dot(Op):
    """``a @ b`` for 1-D/2-D ``a`` and ``b``. The C backend calls numpy's BLAS-backed product."""

    def make_node(self, a: Variable, b: Variable) -> Apply:
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"dot: operands must be 1-D or 2-D, got ndim {a.ndim} and {b.ndim}")
        if a.dtype == "bool" and b.dtype == "bool":
            dt = "bool"
        else:
            dt = normalize_dtype(np.result_type(np.dtype(a.dtype), np.dtype(b.dtype)))
        check_float64("dot", [a.dtype, b.dtype], dt)
        ka = a.type.shape[-1]
        kb = b.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(f"dot: shapes {a.type.shape} and {b.type.shape} are not aligned: "
                             f"{ka} (dim {a.ndim - 1}) != {kb} (dim 0)")
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[0]} (dim 0)")
        return [np.asarray(np.dot(a, b), dtype=node.outputs[0].dtype)]


def dot(a: Any, b: Any) -> Variable:
    return Dot()(as_tensor_variable(a), as_tensor_variable(b))


def matmul(a: Any, b: Any) -> Variable:
    """``a @ b`` (numpy.matmul): 1-D and 2-D operands are a :class:`Dot`, stacks of matrices a
    batched product (``array_ops.MatMul``); a 0-d operand is an error, as in numpy."""
    from .array_ops import matmul as batched
    return batched(a, b)
