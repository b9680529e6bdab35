"""scipy.linalg's solvers and factorization as PyTensor's ``tensor.slinalg`` offers them:
``cholesky``, ``solve``, ``solve_triangular`` and ``kron``, computed with numpy.linalg (fncache
does not depend on scipy). PyTensor's further names load on first use: those built of these ops
or computed with numpy from :mod:`.linalg_extra`, those computed by scipy (``qr schur qz ordqz
solve_discrete_are``) from :mod:`.linalg_scipy`.

As in :mod:`.nlinalg`, each op's ``perform`` calls LAPACK through numpy, in both linkers (a
Python step in the C linker, the host under the CUDA renderer). ``solve_triangular`` reads only
the named triangle of ``a`` and solves with numpy's general solver (LU of the triangle, the same
solution as a triangular solve, for O(n^3) rather than O(n^2) work).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.args import one_of
from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .array_ops import swap_last
from .creation import eye
from .basic import as_tensor_variable
from .elemwise import broadcast_static_shape, elemwise
from .extra_ops import tril, triu
from .nlinalg import eigvalsh, finite, flag, linalg_input, run_linalg, square_input, symmetric_from
from .nlinalg import overwrite_hints, system_operands
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
    "solve_lower_triangular",
    "solve_upper_triangular",
    "solve_symmetric",
]


class Cholesky(Op):
    """numpy.linalg.cholesky: the lower factor L (``L @ L.T == a``) of a symmetric positive
    definite matrix or a stack of them; only the lower triangle of ``a`` is read. A matrix that
    is not positive definite raises (``on_error="raise"``) or gets a factor of NaN
    (``on_error="nan"``; the other matrices of a stack get theirs)."""

    __props__ = ("on_error",)

    def __init__(self, on_error: str = "raise") -> None:
        self.on_error = on_error

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, dt = inputs[0], node.outputs[0].dtype
        if self.on_error == "raise":
            return [np.asarray(run_linalg("cholesky", np.linalg.cholesky, x), dtype=dt)]
        out = np.empty(x.shape, dtype=dt)
        for i in np.ndindex(x.shape[:-2]):
            try:
                out[i] = np.linalg.cholesky(x[i])
            except np.linalg.LinAlgError:
                out[i] = np.nan
        return [out]


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


#: cholesky's ``on_error`` values (PyTensor's)
CHOLESKY_ON_ERROR = ("raise", "nan")


def cholesky(
    x: Any, lower: bool = True, on_error: str = "raise", check_finite: bool = False, overwrite_a: bool = False
) -> Variable:
    """The Cholesky factor of a symmetric positive definite matrix (or of each in a stack):
    lower ``L`` with ``L @ L.T == x`` reading x's lower triangle, or with ``lower=False`` upper
    ``U`` with ``U.T @ U == x`` reading its upper triangle (scipy's convention). A matrix that is
    not positive definite raises numpy's ``LinAlgError`` when the function runs, or with
    ``on_error="nan"`` (PyTensor's) gets a factor of NaN. ``check_finite=True`` (scipy's check;
    off by default, as PyTensor's) raises ``ValueError`` for an infinity or NaN in ``x``;
    ``overwrite_a`` as :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("cholesky", overwrite_a=overwrite_a)
    if on_error not in CHOLESKY_ON_ERROR:
        raise ValueError(f"cholesky: on_error must be one of {CHOLESKY_ON_ERROR}, got {on_error!r}")
    v = finite(square_input(x, "cholesky", complex_ok=True), check_finite, "cholesky")
    op = Cholesky(on_error)
    if flag(lower, "cholesky", "lower"):
        return op(v)
    # the lower factor of x.T (whose lower triangle is x's upper one), transposed
    return swap_last(op(swap_last(v)))


_B_TAKES = {
    None: "b as a vector, a matrix of right-hand sides or a stack of them (1 or more dims)",
    1: "b as a vector or a stack of them (1 or more dims) with b_ndim=1",
    2: "b as a matrix of right-hand sides or a stack of them (2 or more dims) with b_ndim=2",
}


#: What to do with a complex system solve takes real only (a Hermitian one, mirrored with
#: conjugates, which fncache does not read).
_HERMITIAN_FIX = (
    "assume_a='her' and 'pos' read real matrices only; give the whole complex matrix with "
    "assume_a='gen' (a Hermitian matrix is a general one)"
)


def _system(
    a: Any, b: Any, what: str, b_ndim: int | None = None, check_finite: bool = False, complex_ok: bool = True
) -> tuple[Variable, Variable]:
    """``a`` (a square matrix or a stack) and ``b`` (a vector, a matrix or a stack of
    matrices, numpy.linalg.solve's) in one float dtype, their sizes checked where known.
    ``b_ndim`` (PyTensor's) says how many of b's dims one right-hand side has: 1 makes a ``b``
    of more dims a stack of vectors (given as columns: see :func:`_solved`); ``check_finite``
    checks both finite when the function runs (scipy's check); complex operands are refused
    unless ``complex_ok``."""
    if b_ndim not in (None, 1, 2) or isinstance(b_ndim, bool):
        raise ValueError(f"{what}: b_ndim must be None, 1 or 2, got {b_ndim!r}")
    va = finite(square_input(a, what, complex_ok=complex_ok, fix=_HERMITIAN_FIX), check_finite, what)
    vb = linalg_input(b, what, range(b_ndim or 1, 64), _B_TAKES[b_ndim], complex_ok, _HERMITIAN_FIX)
    vb = finite(vb, check_finite, what)
    if b_ndim == 1 and vb.ndim > 1:
        vb = dimshuffle(vb, list(range(vb.ndim)) + ["x"])
    if vb.ndim > 1:
        broadcast_static_shape([va.type.shape[:-2], vb.type.shape[:-2]], what)
    return system_operands(what, va, vb, va.type.shape[-1], vb.type.shape[0 if vb.ndim == 1 else -2])


def _solved(x: Variable, b: Any, b_ndim: int | None) -> Variable:
    """The solution ``x`` of a system built by :func:`_system`: a stack of vectors (``b_ndim=1``)
    given as columns gets its columns back as rows."""
    return x[..., 0] if b_ndim == 1 and as_tensor_variable(b).ndim > 1 else x


def _on_diagonal(a: Variable, diagonal: Any, rest: Any) -> Variable:
    """``diagonal`` on the diagonal of each matrix of ``a``, ``rest`` off it: a select, so the
    entries not chosen are not read (a NaN there stays out)."""
    return elemwise("switch", eye(a.shape[-1], dtype="bool"), diagonal, rest)


#: The ``assume_a`` of a Hermitian ``a`` (mirrored with conjugates: fncache solves it for real
#: matrices only, where it is the symmetric one).
SOLVE_ASSUME_A_HERMITIAN = {"her": True, "hermitian": True, "pos": True, "positive definite": True}

#: scipy.linalg.solve's ``assume_a`` (long and short spellings) and what fncache reads of ``a``:
#: all of it, one triangle mirrored (a symmetric, Hermitian or positive definite ``a``), one
#: triangle alone (a triangular ``a``), its diagonal or its three middle diagonals.
SOLVE_ASSUME_A = {
    "gen": "gen",
    "general": "gen",
    "banded": "gen",
    "sym": "sym",
    "symmetric": "sym",
    "her": "sym",
    "hermitian": "sym",
    "pos": "sym",
    "positive definite": "sym",
    "upper triangular": "upper",
    "lower triangular": "lower",
    "diagonal": "diagonal",
    "tridiagonal": "tridiagonal",
}


def solve(
    a: Any,
    b: Any,
    assume_a: str = "gen",
    lower: bool = False,
    transposed: bool = False,
    b_ndim: int | None = None,
    check_finite: bool = True,
    overwrite_a: bool = False,
    overwrite_b: bool = False,
) -> Variable:
    """scipy.linalg.solve: ``x`` with ``a @ x == b`` (``a.T @ x == b`` with ``transposed``),
    ``b`` a vector or a matrix of right-hand sides. ``assume_a`` is scipy's (any of its
    spellings, :data:`SOLVE_ASSUME_A`) and says which entries of ``a`` are read: all of them
    (``"gen"``, ``"banded"``), its upper triangle mirrored (``"sym"``, ``"her"``, ``"pos"``; the
    lower one with ``lower=True``), one triangle (``"upper triangular"``, ``"lower
    triangular"``), the diagonal (``"diagonal"``) or the three middle diagonals
    (``"tridiagonal"``). A singular ``a`` raises numpy's ``LinAlgError`` when the function
    runs. Stacks as numpy.linalg.solve's: ``a`` ``(..., M, M)``, ``b`` ``(M,)`` (one right-hand
    side for every matrix) or ``(..., M, K)``; ``b_ndim=1`` (PyTensor's) makes ``b`` ``(...,
    M)`` a stack of vectors. ``check_finite`` (scipy's, on by default) raises ``ValueError``
    for an infinity or NaN in ``a`` or ``b`` when the function runs; ``overwrite_a`` and
    ``overwrite_b`` as :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("solve", overwrite_a=overwrite_a, overwrite_b=overwrite_b)
    kind = SOLVE_ASSUME_A.get(assume_a) if isinstance(assume_a, str) else None
    if kind is None:
        raise ValueError(
            f"solve: assume_a must be one of {sorted(SOLVE_ASSUME_A)} (scipy's), got {assume_a!r}"
        )
    low, trans = flag(lower, "solve", "lower"), flag(transposed, "solve", "transposed")
    if kind in ("upper", "lower"):
        return solve_triangular(
            a, b, trans=int(trans), lower=kind == "lower", b_ndim=b_ndim, check_finite=check_finite
        )
    hermitian = SOLVE_ASSUME_A_HERMITIAN.get(assume_a, False)
    va, vb = _system(a, b, "solve", b_ndim, check_finite, complex_ok=not hermitian)
    if kind == "sym":
        va = symmetric_from(va, low)
    elif kind == "diagonal":
        va = _on_diagonal(va, va, 0)
    elif kind == "tridiagonal":
        va = triu(tril(va, 1), -1)
    return _solved(Solve()(swap_last(va) if trans else va, vb), b, b_ndim)


#: scipy.linalg.solve_triangular's ``trans``: the system with ``a`` (0), ``a.T`` (1) or
#: ``a.conj().T`` (2; ``a.T`` for a real ``a``)
SOLVE_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


def solve_triangular(
    a: Any,
    b: Any,
    trans: int | str = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    b_ndim: int | None = None,
    check_finite: bool = True,
) -> Variable:
    """scipy.linalg.solve_triangular: ``x`` with ``t @ x == b``, ``t`` the upper triangle of ``a``
    (the lower one with ``lower=True``; the other is not read), ``t.T`` with ``trans`` 1, 2,
    ``"T"`` or ``"C"``; ``unit_diagonal=True`` takes t's diagonal as ones (a's is not read). A
    zero on the diagonal raises numpy's ``LinAlgError`` when the function runs. ``b_ndim`` and
    ``check_finite`` as :func:`solve`'s."""
    if isinstance(trans, bool) or not one_of(trans, SOLVE_TRANS):
        raise ValueError(
            f"solve_triangular: trans must be one of {list(SOLVE_TRANS)} (scipy's), got {trans!r}"
        )
    low = flag(lower, "solve_triangular", "lower")
    unit = flag(unit_diagonal, "solve_triangular", "unit_diagonal")
    va, vb = _system(a, b, "solve_triangular", b_ndim, check_finite)
    if unit:
        va = _on_diagonal(va, 1, va)
    if SOLVE_TRANS[trans]:
        # the named triangle of a, transposed, is the other triangle of a.T
        va, low = swap_last(va), not low
        if SOLVE_TRANS[trans] == 2 and is_complex(va.dtype):
            va = elemwise("conj", va)
    return _solved(SolveTriangular(low)(va, vb), b, b_ndim)


def solve_lower_triangular(a: Any, b: Any) -> Variable:
    """Theano's ``slinalg.solve_lower_triangular``: :func:`solve_triangular` with ``lower=True``."""
    return solve_triangular(a, b, lower=True)


def solve_upper_triangular(a: Any, b: Any) -> Variable:
    """Theano's ``slinalg.solve_upper_triangular``: :func:`solve_triangular` of the upper triangle."""
    return solve_triangular(a, b, lower=False)


def solve_symmetric(a: Any, b: Any) -> Variable:
    """Theano's ``slinalg.solve_symmetric``: Theano solved it as a general system (all of ``a``
    read, its gradient not mirrored), and so does this, :func:`solve`."""
    return solve(a, b)


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
_EXTRA += ("solve_discrete_lyapunov", "solve_continuous_lyapunov", "solve_sylvester", "pivot_to_permutation")
#: those computed by scipy, in .linalg_scipy (slinalg's ``qr`` is scipy's, nlinalg's numpy's)
_SCIPY = ("schur", "qz", "ordqz", "qr", "solve_discrete_are", "tridiagonal_lu_factor", "tridiagonal_lu_solve")


def __getattr__(name: str) -> Any:
    if name in _EXTRA:
        from . import linalg_extra

        return getattr(linalg_extra, name)
    if name in _SCIPY:
        from . import linalg_scipy

        return getattr(linalg_scipy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
