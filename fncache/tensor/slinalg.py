"""scipy.linalg's solvers and factorization as PyTensor's ``tensor.slinalg`` offers them:
``cholesky``, ``solve``, ``solve_triangular`` and ``kron``, computed with numpy.linalg (fncache
does not depend on scipy).

As in :mod:`.nlinalg`, each op's ``perform`` calls LAPACK through numpy, in both linkers (a
Python step in the C linker, the host under the CUDA renderer). ``solve_triangular`` reads only
the named triangle of ``a`` and solves with numpy's general solver (LU of the triangle, the same
solution as a triangular solve, for O(n^3) rather than O(n^2) work).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .array_ops import swap_last
from .basic import as_tensor_variable
from .elemwise import broadcast_static_shape
from .nlinalg import eigvalsh, flag, linalg_input, run_linalg, square_input, symmetric_from
from .nlinalg import system_operands
from .shape_ops import dim_sizes, dimshuffle, reshape

__all__ = [
    "Cholesky",
    "Solve",
    "SolveTriangular",
    "cholesky",
    "solve",
    "solve_triangular",
    "kron",
    "eigvalsh",  # PyTensor's slinalg offers it (scipy's generalized form)
]


class Cholesky(Op):
    """numpy.linalg.cholesky: the lower factor L (``L @ L.T == a``) of a symmetric positive
    definite matrix or a stack of them; only the lower triangle of ``a`` is read."""

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg("cholesky", np.linalg.cholesky, inputs[0])
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def _solved_type(a: Variable, b: Variable) -> TensorType:
    """numpy.linalg.solve's result: a vector ``b`` is one right-hand side for each matrix of
    ``a``; otherwise ``b`` is a matrix (or a stack) of them, the batch dims broadcast."""
    n = a.type.shape[-1] if a.type.shape[-1] is not None else a.type.shape[-2]
    if b.ndim == 1:
        return TensorType(b.dtype, a.type.shape[:-2] + (n if n is not None else b.type.shape[0],))
    batch = broadcast_static_shape([a.type.shape[:-2], b.type.shape[:-2]], "solve")
    return TensorType(b.dtype, batch + (n if n is not None else b.type.shape[-2], b.type.shape[-1]))


def _check_system(a: np.ndarray, b: np.ndarray, what: str) -> None:
    rows = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != a.shape[-2] or rows != a.shape[-1]:
        raise ValueError(
            f"{what}: a has shape {a.shape} and b {b.shape}; a must be square and b have as many rows as a"
        )


class Solve(Op):
    """numpy.linalg.solve(a, b) of a square matrix and a vector or a matrix of right-hand sides."""

    def make_node(self, a: Variable, b: Variable) -> Apply:
        return Apply(self, [a, b], [_solved_type(a, b)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        _check_system(a, b, "solve")
        res = run_linalg("solve", np.linalg.solve, a, b)
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


class SolveTriangular(Op):
    """``x`` with ``t @ x == b``, ``t`` the lower (``lower``) or upper triangle of ``a``."""

    __props__ = ("lower",)

    def __init__(self, lower: bool) -> None:
        self.lower = bool(lower)

    def make_node(self, a: Variable, b: Variable) -> Apply:
        return Apply(self, [a, b], [_solved_type(a, b)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        _check_system(a, b, "solve_triangular")
        t = np.tril(a) if self.lower else np.triu(a)
        res = run_linalg("solve_triangular", np.linalg.solve, t, b)
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def cholesky(x: Any, lower: bool = True) -> Variable:
    """The Cholesky factor of a symmetric positive definite matrix (or of each in a stack):
    lower ``L`` with ``L @ L.T == x`` reading x's lower triangle, or with ``lower=False`` upper
    ``U`` with ``U.T @ U == x`` reading its upper triangle (scipy's convention). A matrix that is
    not positive definite raises numpy's ``LinAlgError`` when the function runs."""
    v = square_input(x, "cholesky")
    if lower:
        return Cholesky()(v)
    # the lower factor of x.T (whose lower triangle is x's upper one), transposed
    return swap_last(Cholesky()(swap_last(v)))


def _system(a: Any, b: Any, what: str) -> tuple[Variable, Variable]:
    """``a`` (a square matrix or a stack) and ``b`` (a vector, a matrix or a stack of
    matrices, numpy.linalg.solve's) in one float dtype, their sizes checked where known."""
    va = square_input(a, what)
    vb = linalg_input(
        b,
        what,
        range(1, 64),
        "b as a vector, a matrix of right-hand sides or a stack of them (1 or more dims)",
    )
    if vb.ndim > 1:
        broadcast_static_shape([va.type.shape[:-2], vb.type.shape[:-2]], what)
    return system_operands(what, va, vb, va.type.shape[-1], vb.type.shape[0 if vb.ndim == 1 else -2])


def solve(a: Any, b: Any, assume_a: str = "gen", lower: bool = False) -> Variable:
    """scipy.linalg.solve: ``x`` with ``a @ x == b``, ``b`` a vector or a matrix of right-hand
    sides. ``assume_a="gen"`` reads all of ``a``; ``"sym"`` reads only its upper triangle (the
    lower one with ``lower=True``) and mirrors it. A singular ``a`` raises numpy's
    ``LinAlgError`` when the function runs. Stacks as numpy.linalg.solve's: ``a`` ``(..., M,
    M)``, ``b`` ``(M,)`` (one right-hand side for every matrix) or ``(..., M, K)``."""
    if assume_a not in ("gen", "sym"):
        raise ValueError(
            f"solve: assume_a={assume_a!r} is not supported; use 'gen' (any square a) or 'sym' "
            "(a symmetric a read from one triangle): for a positive definite or Hermitian a "
            "they give the same solution"
        )
    va, vb = _system(a, b, "solve")
    return Solve()(symmetric_from(va, bool(lower)) if assume_a == "sym" else va, vb)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Variable:
    """scipy.linalg.solve_triangular: ``x`` with ``t @ x == b``, ``t`` the upper triangle of ``a``
    (the lower one with ``lower=True``; the other is not read). A zero on the diagonal raises
    numpy's ``LinAlgError`` when the function runs."""
    low = flag(lower, "solve_triangular", "lower")
    va, vb = _system(a, b, "solve_triangular")
    return SolveTriangular(low)(va, vb)


def kron(a: Any, b: Any) -> Variable:
    """numpy.kron: the Kronecker product, each entry of ``a`` scaling a copy of ``b`` (the
    operand with fewer dims gets leading size-1 dims first); one broadcast product and a
    reshape, so it differentiates as they do."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    nd = max(va.ndim, vb.ndim)
    if nd == 0:
        return va * vb
    va = dimshuffle(va, ["x"] * (nd - va.ndim) + list(range(va.ndim)))
    vb = dimshuffle(vb, ["x"] * (nd - vb.ndim) + list(range(vb.ndim)))
    # a's dims at even places, b's at odd ones: (a0, b0, a1, b1, ...)
    prod = dimshuffle(va, [p for d in range(nd) for p in (d, "x")]) * dimshuffle(
        vb, [p for d in range(nd) for p in ("x", d)]
    )
    return reshape(prod, [sa * sb for sa, sb in zip(dim_sizes(va), dim_sizes(vb))])


#: PyTensor's further names, in .linalg_extra (loaded when first asked for)
_EXTRA = ("expm", "Expm", "cho_solve", "lu", "lu_factor", "lu_solve", "LUFactor", "block_diag")
_EXTRA += ("solve_discrete_lyapunov", "solve_continuous_lyapunov")


def __getattr__(name: str) -> Any:
    if name in _EXTRA:
        from . import linalg_extra

        return getattr(linalg_extra, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
