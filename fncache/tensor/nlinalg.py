"""numpy.linalg's matrix functions (PyTensor's ``tensor.nlinalg``): ``matrix_inverse`` (``inv``),
``det``, ``slogdet``, ``matrix_dot`` and ``trace``.

The factorizations are LAPACK's, through numpy: the ops' ``perform`` calls numpy.linalg in both
linkers (the C linker runs it as a Python step, as for every op without a C kernel; under the
CUDA renderer it runs on the host). A generated loop would be a slower LU than LAPACK's. Stacks
of matrices (more than 2 dims) are handled as numpy handles them, one matrix per leading index.
Real inputs only: integers and bools become float64 (as numpy's), float32 stays float32.
"""

from __future__ import annotations

from functools import reduce
from typing import Any, Callable

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex, is_float
from .array_ops import trace
from .basic import as_tensor_variable
from .blas import dot
from .elemwise import cast, check_float64

__all__ = [
    "MatrixInverse",
    "Det",
    "SlogDet",
    "matrix_inverse",
    "inv",
    "det",
    "slogdet",
    "matrix_dot",
    "trace",
    "linalg_input",
    "square_input",
    "run_linalg",
]


def linalg_input(x: Any, what: str, ndims: range, takes: str) -> Variable:
    """``x`` as a float tensor a linear-algebra function takes: real (integers and bools become
    float64, as numpy's) with a number of dims in ``ndims`` (``takes`` says which in words)."""
    v = as_tensor_variable(x)
    if is_complex(v.dtype):
        raise TypeError(
            f"{what}: complex matrices are not supported, got {v.type}; only float32 and float64 "
            "(and integers, computed in float64)"
        )
    if v.ndim not in ndims:
        raise ValueError(f"{what}: takes {takes}, got {v.type} ({v.ndim} dims)")
    if not is_float(v.dtype):
        check_float64(what, [v.dtype], "float64")
        v = cast(v, "float64")
    return v


#: The dims of a stack of matrices (numpy.linalg's ``(..., M, M)``).
STACKS = range(2, 64)


def square_input(x: Any, what: str, ndims: range = STACKS, takes: str = "") -> Variable:
    """:func:`linalg_input` whose last two dims are checked square where their sizes are known."""
    v = linalg_input(x, what, ndims, takes or "a square matrix or a stack of them (2 or more dims)")
    n, m = v.type.shape[-2:]
    if n is not None and m is not None and n != m:
        raise ValueError(f"{what}: the last two dims must be square, got {v.type}")
    return v


def run_linalg(what: str, fn: Callable[..., Any], *args: np.ndarray) -> Any:
    """``fn(*args)``, numpy.linalg's errors (a singular or not positive definite matrix, a
    non-square one) re-raised naming the function and the shapes it was given."""
    shapes = ", ".join(str(a.shape) for a in args)
    try:
        with np.errstate(all="ignore"):  # as the C kernels: IEEE results, no warnings
            return fn(*args)
    except np.linalg.LinAlgError as e:
        raise np.linalg.LinAlgError(f"{what}: {e} (input shapes {shapes})") from None
    except ValueError as e:
        raise ValueError(f"{what}: {e} (input shapes {shapes})") from None


class MatrixInverse(Op):
    """numpy.linalg.inv of a matrix or a stack of matrices."""

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg("matrix_inverse", np.linalg.inv, inputs[0])
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


class Det(Op):
    """numpy.linalg.det of a matrix or a stack of matrices."""

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape[:-2])])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg("det", np.linalg.det, inputs[0])
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


class SlogDet(Op):
    """numpy.linalg.slogdet: (sign, log |det|) of a matrix or a stack of matrices."""

    def make_node(self, x: Variable) -> Apply:
        t = TensorType(x.dtype, x.type.shape[:-2])
        return Apply(self, [x], [t, t])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sign, logdet = run_linalg("slogdet", np.linalg.slogdet, inputs[0])
        dt = node.outputs[0].dtype
        return [np.asarray(sign, dtype=dt), np.asarray(logdet, dtype=dt)]


def matrix_inverse(x: Any) -> Variable:
    """numpy.linalg.inv: the inverse of a square matrix (or of each in a stack). A singular
    matrix raises numpy's ``LinAlgError`` when the function runs, naming ``matrix_inverse``."""
    return MatrixInverse()(square_input(x, "matrix_inverse"))


inv = matrix_inverse


def det(x: Any) -> Variable:
    """numpy.linalg.det: the determinant of a square matrix (or of each in a stack)."""
    return Det()(square_input(x, "det"))


def slogdet(x: Any) -> tuple[Variable, Variable]:
    """numpy.linalg.slogdet: ``(sign, log|det|)``, without det's overflow for large matrices."""
    sign, logdet = SlogDet()(square_input(x, "slogdet"))
    return sign, logdet


def matrix_dot(*args: Any) -> Variable:
    """``dot(dot(a, b), c)...``: the product of the matrices (or vectors) in order."""
    if not args:
        raise TypeError("matrix_dot: give at least one matrix")
    return reduce(dot, [as_tensor_variable(a) for a in args])
