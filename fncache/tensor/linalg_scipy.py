"""scipy.linalg's functions that need LAPACK routines numpy does not wrap, as PyTensor's
``tensor.slinalg`` offers them: the Schur forms ``schur``, ``qz`` and ``ordqz`` (gees, gges,
tgsen), the column-pivoted ``qr`` (geqp3), ``solve_discrete_are`` and the tridiagonal LU
factorization and solve ``tridiagonal_lu_factor`` and ``tridiagonal_lu_solve`` (gttrf, gttrs).

fncache does not depend on scipy: these ops call it from their ``perform`` (a Python step in
the C linker, the host under the CUDA renderer), one matrix of a stack at a time, and a
process without scipy gets an error naming the function when the graph is built (or, for a
graph loaded elsewhere, when it runs). ``slinalg.qr`` without pivoting is numpy's QR op, with
its gradient; ``solve_discrete_are``'s gradient is Kao and Hennequin's closed form
("Automatic differentiation of Sylvester, Lyapunov, and algebraic Riccati equations", 2020),
PyTensor's. The Schur forms have no gradient, as in PyTensor.

This module loads when one of its names is first asked for (``ft.slinalg.schur``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..graph.args import one_of
from ..graph.basic import Apply, Op, Variable
from .basic import as_tensor_variable
from ..graph.types import TensorType, complex_of
from .array_ops import diagonal, matmul, swap_last
from .elemwise import as_float64, broadcast_static_shape, cast, float64_result
from .extra_ops import triu
from .gradient import register_grad
from .linalg_extra import matrix_kron, solve_vectorized
from .creation import eye
from .nlinalg import QR, flag, linalg_input, matrix_input, overwrite_hints, square_input
from .optional_deps import scipy_module
from .slinalg import solve
from .shape_ops import dim_sizes, sizes_checked

__all__ = ["Schur", "QZ", "PivotedQR", "SolveDiscreteARE", "schur", "qz", "ordqz", "qr", "solve_discrete_are"]
__all__ += ["TridiagonalLUFactor", "TridiagonalLUSolve", "tridiagonal_lu_factor", "tridiagonal_lu_solve"]

#: the eigenvalue orders of scipy's ``sort`` (left or right half-plane, inside or outside the
#: unit circle): the selected eigenvalues come first
SCHUR_SORTS = ("lhp", "rhp", "iuc", "ouc")


def scipy_linalg(what: str) -> ModuleType:
    """scipy.linalg, or an error naming ``what`` when scipy is not installed."""
    return scipy_module("linalg", what)


def _per_matrix(
    what: str, inputs: list[np.ndarray], n_core: list[int], fn: Any, outs: list[str]
) -> list[np.ndarray]:
    """``fn`` (the core arrays to a tuple of arrays) over the broadcast batch dims of
    ``inputs`` (each with ``n_core`` core dims), the results stacked in the dtypes ``outs``.
    scipy's ValueError (a non-square matrix, sizes that do not agree) is named after ``what``,
    the function the user called, with the shapes it was given."""

    def call(*mats: np.ndarray) -> tuple:
        try:
            return fn(*mats)
        except ValueError as e:
            if str(e).startswith(what):
                raise
            shapes = ", ".join(str(m.shape) for m in mats)
            raise type(e)(
                f"{what}: {e} (given matrices of shapes {shapes}); give the shapes scipy.linalg.{what} takes"
            ) from None

    batch = np.broadcast_shapes(*[a.shape[: a.ndim - k] for a, k in zip(inputs, n_core)])
    full = [np.broadcast_to(a, batch + a.shape[a.ndim - k :]) for a, k in zip(inputs, n_core)]
    results: list[np.ndarray] | None = None
    for idx in np.ndindex(batch):
        res = call(*[a[idx] for a in full])
        if results is None:
            results = [np.empty(batch + np.shape(r), dt) for r, dt in zip(res, outs)]
        for store, r in zip(results, res):
            store[idx] = r
    if results is None:  # an empty batch: the core shapes from one matrix of zeros
        res = call(*[np.zeros(a.shape[a.ndim - k :], a.dtype) for a, k in zip(inputs, n_core)])
        results = [np.empty(batch + np.shape(r), dt) for r, dt in zip(res, outs)]
    return results


def _sort(sort: Any, what: str) -> Any:
    if sort is not None and sort not in SCHUR_SORTS:
        raise ValueError(f"{what}: sort must be None or one of {SCHUR_SORTS} (scipy's), got {sort!r}")
    return sort


def _output(output: Any, what: str) -> str:
    if output not in ("real", "complex"):
        raise ValueError(
            f"{what}: output must be 'real' (quasi-triangular real forms) or 'complex' "
            f"(triangular complex forms), got {output!r}"
        )
    return output


class Schur(Op):
    """scipy.linalg.schur: ``(T, Z)`` with ``A == Z @ T @ Z^H`` of a square matrix (of each of
    a stack), ``T`` quasi-upper triangular (``output="real"``) or upper triangular
    (``"complex"``), the eigenvalues ``sort`` selects first."""

    __props__ = ("output", "sort")

    def __init__(self, output: str = "real", sort: str | None = None) -> None:
        self.output = _output(output, "schur")
        self.sort = _sort(sort, "schur")

    def make_node(self, a: Variable) -> Apply:
        dt = a.dtype if self.output == "real" else complex_of(a.dtype)
        return Apply(self, [a], [TensorType(dt, a.type.shape), TensorType(dt, a.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sla = scipy_linalg("schur")

        def one(a: np.ndarray) -> tuple:
            if self.sort is None:
                return sla.schur(a, output=self.output)
            t, z, _ = sla.schur(a, output=self.output, sort=self.sort)
            return t, z

        return _per_matrix("schur", inputs, [2], one, [o.dtype for o in node.outputs])


class QZ(Op):
    """scipy.linalg.qz (``sort`` None) or ordqz: ``(AA, BB, Q, Z)`` with ``A == Q @ AA @ Z^H``
    and ``B == Q @ BB @ Z^H``; with ``eigenvalues`` also ``alpha`` and ``beta`` (the generalized
    eigenvalues ``alpha / beta``) after ``BB``, as ordqz returns them."""

    __props__ = ("output", "sort", "eigenvalues")

    def __init__(self, output: str = "real", sort: str | None = None, eigenvalues: bool = False) -> None:
        self.output = _output(output, "qz")
        self.sort = _sort(sort, "qz")
        self.eigenvalues = bool(eigenvalues)

    def make_node(self, a: Variable, b: Variable) -> Apply:
        dt = a.dtype if self.output == "real" else complex_of(a.dtype)
        batch = broadcast_static_shape([a.type.shape[:-2], b.type.shape[:-2]], "qz")
        mat = TensorType(dt, batch + a.type.shape[-2:])
        outs = [mat, mat]
        if self.eigenvalues:
            n = a.type.shape[-1]
            outs += [TensorType(complex_of(a.dtype), batch + (n,)), TensorType(dt, batch + (n,))]
        return Apply(self, [a, b], outs + [mat, mat])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sla = scipy_linalg("qz")

        def one(a: np.ndarray, b: np.ndarray) -> tuple:
            if a.shape == b.shape == (0, 0):
                # the forms of empty matrices are empty: LAPACK's gges refuses the workspace of
                # size 0 scipy gives it for them (f2py's error, and LAPACK's words on stdout)
                e, v = np.zeros((0, 0)), np.zeros(0)
                return (e, e, v, v, e, e) if self.eigenvalues else (e, e, e, e)
            if self.sort is None and not self.eigenvalues:
                return sla.qz(a, b, output=self.output)
            # ordqz with nothing selected keeps qz's order and gives the eigenvalues
            sort = self.sort or (lambda alpha, beta: np.zeros(np.shape(alpha), bool))
            aa, bb, alpha, beta, q, z = sla.ordqz(a, b, sort=sort, output=self.output)
            return (aa, bb, alpha, beta, q, z) if self.eigenvalues else (aa, bb, q, z)

        what = "qz" if self.sort is None and not self.eigenvalues else "ordqz"
        return _per_matrix(what, inputs, [2, 2], one, [o.dtype for o in node.outputs])


class PivotedQR(Op):
    """scipy.linalg.qr with ``pivoting=True``: the outputs of ``mode`` (``"full"``:
    ``(Q, R)``, ``"economic"``, ``"r"``: ``R`` (M, N), ``"raw"``: ``(H, tau, R)``) and the
    int32 column order ``P`` with ``A[:, P] == Q @ R``."""

    __props__ = ("mode",)

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def make_node(self, a: Variable) -> Apply:
        *batch, m, n = a.type.shape
        k = None if m is None or n is None else min(m, n)
        dt, b = a.dtype, tuple(batch)
        shapes = {
            "full": [(m, m), (m, n)],
            "economic": [(m, k), (k, n)],
            "r": [(m, n)],
            "raw": [(m, n), (k,), (k, n)],
        }[self.mode]
        outs = [TensorType(dt, b + s) for s in shapes] + [TensorType("int32", b + (n,))]
        return Apply(self, [a], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sla = scipy_linalg("qr")

        def one(a: np.ndarray) -> tuple:
            res = sla.qr(a, mode=self.mode, pivoting=True)
            if self.mode == "raw":
                (h, tau), r, p = res
                return h, tau, r, p
            return res

        return _per_matrix("qr", inputs, [2], one, [o.dtype for o in node.outputs])


#: scipy.linalg.qr's modes and numpy's names of the same (PyTensor takes both)
QR_MODES = {"full": "full", "complete": "full", "economic": "economic", "reduced": "economic"}
QR_MODES.update(r="r", raw="raw")


def schur(A: Any, output: str = "real", sort: str | None = None) -> tuple[Variable, Variable]:
    """scipy.linalg.schur: ``(T, Z)`` with ``A == Z @ T @ Z^H`` for a square matrix (or each of
    a stack), ``Z`` orthogonal (unitary); ``T`` is quasi-upper triangular (2x2 blocks for
    complex eigenvalue pairs) with ``output="real"``, upper triangular and complex with
    ``"complex"`` or a complex ``A`` (complex64 for float32 and complex64, scipy's dtypes).
    ``sort`` (``"lhp" "rhp" "iuc" "ouc"``) moves the eigenvalues it selects to the top left.
    Computed by scipy; no gradient."""
    op = Schur(_output(output, "schur"), _sort(sort, "schur"))
    scipy_linalg("schur")
    t, z = op(square_input(A, "schur", complex_ok=True))
    return t, z


def qz(
    A: Any, B: Any, output: str = "real", sort: str | None = None, return_eigenvalues: bool = False
) -> tuple[Variable, ...]:
    """scipy.linalg.qz, the generalized Schur form of a pair of square matrices (or of stacks):
    ``(AA, BB, Q, Z)`` with ``A == Q @ AA @ Z^H``, ``B == Q @ BB @ Z^H``, complex for
    ``output="complex"`` or a complex ``A`` or ``B`` (in scipy's dtypes). ``sort``
    (PyTensor's, as scipy's ordqz) orders the generalized eigenvalues; ``return_eigenvalues``
    gives ``(AA, BB, alpha, beta, Q, Z)``, ``alpha / beta`` the eigenvalues (``alpha``
    complex). Computed by scipy; no gradient."""
    op = QZ(_output(output, "qz"), _sort(sort, "qz"), flag(return_eigenvalues, "qz", "return_eigenvalues"))
    scipy_linalg("qz")
    va, vb = square_input(A, "qz", complex_ok=True), square_input(B, "qz", complex_ok=True)
    msg = f"qz: A is {va.type} and B {vb.type}, of sizes {{}} and {{}}; give two square matrices of one size"
    vb = sizes_checked(vb, dim_sizes(va)[-1], dim_sizes(vb)[-1], msg)
    dt = np.result_type(va.dtype, vb.dtype).name  # scipy's: float32 with complex64 is complex64
    return tuple(op(cast(va, dt), cast(vb, dt)))


def ordqz(A: Any, B: Any, sort: str = "lhp", output: str = "real") -> tuple[Variable, ...]:
    """scipy.linalg.ordqz: ``(AA, BB, alpha, beta, Q, Z)``, :func:`qz` with the generalized
    eigenvalues ``sort`` selects first (``"lhp" "rhp" "iuc" "ouc"``; None keeps qz's order)."""
    return qz(A, B, output=output, sort=sort, return_eigenvalues=True)


def qr(
    A: Any, mode: str = "full", overwrite_a: bool = False, pivoting: bool = False, lwork: Any = None
) -> Any:
    """scipy.linalg.qr of a real matrix (or each of a stack): ``(Q, R)`` (``mode="full"``: Q
    (M, M), R (M, N); ``"economic"``: (M, K), (K, N)), ``R`` (M, N) alone (``"r"``) or ``(H,
    tau, R)`` (``"raw"``, LAPACK's Householder reflectors); numpy's names ``"complete"`` and
    ``"reduced"`` are taken too. ``pivoting=True`` appends the int32 column order ``P`` with
    ``A[..., P] == Q @ R`` (computed by scipy, no gradient); without it, numpy's QR, whose
    ``Q`` and ``R`` are differentiable. ``overwrite_a`` (see
    :func:`~fncache.tensor.nlinalg.overwrite_hints`) and ``lwork`` (scipy's workspace size) are
    accepted and change nothing."""
    if not one_of(mode, QR_MODES):
        raise ValueError(
            f"qr: mode={mode!r} is not supported; use 'full' (Q (M, M), R (M, N)), 'economic' "
            "(Q (M, K), R (K, N)), 'r' (R (M, N) alone) or 'raw' (Householder reflectors, tau, R)"
        )
    overwrite_hints("qr", overwrite_a=overwrite_a)
    mode = QR_MODES[mode]
    v = matrix_input(A, "qr", complex_ok=True)
    if flag(pivoting, "qr", "pivoting"):
        scipy_linalg("qr")
        return tuple(PivotedQR(mode)(v))
    if mode == "r":
        # scipy's R has M rows (numpy's reduced one min(M, N)): the complete R
        return QR("complete")(v)[1]
    if mode == "raw":
        # numpy's raw reflectors are LAPACK's transposed; scipy's are not
        h, tau = QR("raw")(v)
        h = swap_last(h)
        # scipy's R: the upper triangle of the first min(M, N) rows
        return h, tau, triu(h[..., : h.shape[-1], :])
    q, r = QR("complete" if mode == "full" else "reduced")(v)
    return q, r


class SolveDiscreteARE(Op):
    """scipy.linalg.solve_discrete_are: the stabilizing ``X`` of
    ``A^T X A - X - A^T X B (R + B^T X B)^-1 B^T X A + Q = 0``, per matrix of a stack."""

    __props__ = ()

    def make_node(self, a: Variable, b: Variable, q: Variable, r: Variable) -> Apply:
        batch = broadcast_static_shape([v.type.shape[:-2] for v in (a, b, q, r)], "solve_discrete_are")
        return Apply(self, [a, b, q, r], [TensorType(a.dtype, batch + a.type.shape[-2:])])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sla = scipy_linalg("solve_discrete_are")

        def one(a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray) -> tuple:
            try:
                return (sla.solve_discrete_are(a, b, q, r),)
            except np.linalg.LinAlgError as e:
                raise np.linalg.LinAlgError(
                    f"solve_discrete_are: {e} (A {a.shape}, B {b.shape}); the pair (A, B) must be "
                    "stabilizable and R + B^T X B invertible"
                ) from None

        batch = np.broadcast_shapes(*[x.shape[:-2] for x in inputs])
        if 0 in batch:  # no matrices: X is A's size (a probe of zeros would not be stabilizable)
            return [np.empty(batch + inputs[0].shape[-2:], node.outputs[0].dtype)]
        return _per_matrix("solve_discrete_are", inputs, [2, 2, 2, 2], one, [node.outputs[0].dtype])


@register_grad(SolveDiscreteARE)
def _dare_grad(node: Apply, out_grads: list) -> list:
    """Kao and Hennequin's adjoint: with ``K = (R + B^T X B)^-1 B^T X A`` and the closed loop
    ``C = A - B K``, ``S`` solves ``C S C^T - S + sym(gX) = 0``; then ``gA = 2 X C S``,
    ``gB = -2 X C S K^T``, ``gQ = S``, ``gR = K S K^T``."""
    a, b, q, r = node.inputs
    x, g = node.outputs[0], out_grads[0]
    if g is None:
        return [None] * 4
    bt = swap_last(b)
    k = solve(r + matmul(matmul(bt, x), b), matmul(matmul(bt, x), a), check_finite=False)
    c = a - matmul(b, k)
    n = a.shape[-1]
    s = solve_vectorized(eye(n * n, dtype=a.dtype) - matrix_kron(c, c), 0.5 * (g + swap_last(g)))
    xcs = matmul(matmul(x, c), s)
    return [2 * xcs, -2 * matmul(xcs, swap_last(k)), s, matmul(matmul(k, s), swap_last(k))]


def solve_discrete_are(A: Any, B: Any, Q: Any, R: Any) -> Variable:
    """scipy.linalg.solve_discrete_are: the stabilizing solution ``X`` of the discrete
    algebraic Riccati equation ``A^T X A - X - A^T X B (R + B^T X B)^-1 B^T X A + Q = 0``
    for real ``A`` (M, M), ``B`` (M, N), symmetric ``Q`` (M, M) and ``R`` (N, N), or stacks of
    them (the batch dims broadcast). Computed by scipy, in float64 for float32 operands too
    (scipy's dtype; float32 under ``floatX=float32``, PyTensor's); differentiable in all four
    (for the symmetric ``Q`` and ``R`` the equation assumes)."""
    what = "solve_discrete_are"
    scipy_linalg(what)
    va, vq = square_input(A, what), square_input(Q, what)
    vb = matrix_input(B, what)
    vr = square_input(R, what)
    m, n = dim_sizes(va)[-1], dim_sizes(vb)[-1]
    shapes = f"A is {va.type}, B {vb.type}, Q {vq.type}, R {vr.type}"
    fix = "give A (M, M), B (M, N), Q (M, M) and R (N, N)"
    # checked when the function runs too, where scipy's error names no function
    vb = sizes_checked(vb, m, dim_sizes(vb)[-2], f"{what}: {shapes}: B's rows must be {{}}, not {{}}; {fix}")
    vq = sizes_checked(vq, m, dim_sizes(vq)[-1], f"{what}: {shapes}: Q's size must be {{}}, not {{}}; {fix}")
    vr = sizes_checked(vr, n, dim_sizes(vr)[-1], f"{what}: {shapes}: R's size must be {{}}, not {{}}; {fix}")
    # scipy solves in float64 whatever the real dtype (float32 too), as PyTensor declares
    return float64_result(SolveDiscreteARE()(*as_float64(what, va, vb, vq, vr)), va, vb, vq, vr)


def _tridiagonal_size(sizes: list[int | None], less: list[int]) -> int | None:
    """The order ``n`` of a tridiagonal system from the static lengths of its bands, band ``i``
    being ``n - less[i]`` long (None where no length is known)."""
    for size, k in zip(sizes, less):
        if size is not None:
            return size + k
    return None


def _float_of(dtypes: list[str]) -> str:
    return "float32" if all(dt == "float32" for dt in dtypes) else "float64"


class TridiagonalLUFactor(Op):
    """LAPACK's gttrf of the tridiagonal matrix with sub-, main and super-diagonals ``dl``,
    ``d``, ``du`` (of each of a stack, the batch dims broadcast): ``(dl, d, du, du2, ipiv)``,
    the factors, the second super-diagonal of ``U`` and the (1-based, LAPACK's) int32 pivots."""

    __props__ = ()

    def make_node(self, dl: Variable, d: Variable, du: Variable) -> Apply:
        batch = broadcast_static_shape([v.type.shape[:-1] for v in (dl, d, du)], "tridiagonal_lu_factor")
        n = _tridiagonal_size([v.type.shape[-1] for v in (d, dl, du)], [0, 1, 1])
        dt = _float_of([dl.dtype, d.dtype, du.dtype])
        band = [None if n is None else max(n - k, 0) for k in (1, 0, 1, 2)]
        outs = [TensorType(dt, batch + (m,)) for m in band] + [TensorType("int32", batch + (n,))]
        return Apply(self, [dl, d, du], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        dt = node.outputs[0].dtype
        gttrf = scipy_linalg("tridiagonal_lu_factor").get_lapack_funcs("gttrf", dtype=dt)

        def one(dl: np.ndarray, d: np.ndarray, du: np.ndarray) -> tuple:
            if not len(dl) == len(du) == max(len(d) - 1, 0):
                raise ValueError(
                    f"tridiagonal_lu_factor: bands of lengths {len(dl)}, {len(d)}, {len(du)}; the "
                    "sub- and super-diagonals of an n x n matrix have n - 1 entries"
                )
            *factors, info = gttrf(dl.astype(dt), d.astype(dt), du.astype(dt))
            if info > 0:
                raise np.linalg.LinAlgError(
                    f"tridiagonal_lu_factor: the matrix is singular (U[{info - 1}, {info - 1}] is "
                    "exactly zero); a system with it has no unique solution"
                )
            return tuple(factors)

        return _per_matrix("tridiagonal_lu_factor", inputs, [1, 1, 1], one, [o.dtype for o in node.outputs])


class TridiagonalLUSolve(Op):
    """LAPACK's gttrs: the solution of ``A x = b`` (``A^T x = b`` when ``transposed``) from the
    factors of :class:`TridiagonalLUFactor`, ``b`` a vector (``b_ndim=1``) or a matrix of
    right-hand sides (2), per system of a stack."""

    __props__ = ("b_ndim", "transposed")

    def __init__(self, b_ndim: int, transposed: bool = False) -> None:
        self.b_ndim = b_ndim
        self.transposed = transposed

    def make_node(self, *inputs: Variable) -> Apply:
        *bands, b = inputs
        core = [1] * 5 + [self.b_ndim]
        batch = broadcast_static_shape(
            [v.type.shape[: v.ndim - k] for v, k in zip(inputs, core)], "tridiagonal_lu_solve"
        )
        rows = b.type.shape[-self.b_ndim]
        n = _tridiagonal_size([v.type.shape[-1] for v in bands] + [rows], [1, 0, 1, 2, 0, 0])
        dt = _float_of([v.dtype for v in bands[:4]] + [b.dtype])
        core_shape = (n,) if self.b_ndim == 1 else (n, b.type.shape[-1])
        return Apply(self, list(inputs), [TensorType(dt, batch + core_shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        dt = node.outputs[0].dtype
        gttrs = scipy_linalg("tridiagonal_lu_solve").get_lapack_funcs("gttrs", dtype=dt)

        def one(
            dl: np.ndarray, d: np.ndarray, du: np.ndarray, du2: np.ndarray, ipiv: np.ndarray, b: np.ndarray
        ) -> tuple:
            if len(b) != len(d) or len(ipiv) != len(d):
                raise ValueError(
                    f"tridiagonal_lu_solve: b has {len(b)} rows and the factors are of a "
                    f"{len(d)} x {len(d)} matrix; give b one row per row of the matrix"
                )
            bands = [a.astype(dt) for a in (dl, d, du, du2)]
            x, info = gttrs(
                *bands, ipiv.astype(np.int32), b.astype(dt), trans="T" if self.transposed else "N"
            )
            if info < 0:
                raise ValueError(
                    f"tridiagonal_lu_solve: LAPACK's gttrs rejected argument {-info} of the factors"
                )
            return (x,)

        return _per_matrix(
            "tridiagonal_lu_solve", inputs, [1] * 5 + [self.b_ndim], one, [node.outputs[0].dtype]
        )


def tridiagonal_lu_factor(a: Any) -> tuple[Variable, ...]:
    """The LU factorization LAPACK's gttrf computes of a tridiagonal matrix (or each of a
    stack; only its three diagonals are read): ``(dl, d, du, du2, ipiv)``, the inputs of
    :func:`tridiagonal_lu_solve`. ``ipiv`` holds LAPACK's 1-based int32 row interchanges.
    Computed by scipy; no gradient, as in PyTensor."""
    what = "tridiagonal_lu_factor"
    scipy_linalg(what)
    va = square_input(a, what)
    bands = [diagonal(va, offset=k, axis1=-2, axis2=-1) for k in (-1, 0, 1)]
    return tuple(TridiagonalLUFactor()(*bands))


def tridiagonal_lu_solve(a_diagonals: Any, b: Any, *, b_ndim: int, transposed: bool = False) -> Variable:
    """The solution of ``A x = b`` (``A^T x = b`` with ``transposed``) by LAPACK's gttrs, from
    ``a_diagonals``, the five outputs of :func:`tridiagonal_lu_factor`; ``b`` is one right-hand
    side (``b_ndim=1``) or a matrix of them (``b_ndim=2``), with leading batch dims broadcast
    against the factors'. Computed by scipy; no gradient, as in PyTensor."""
    what = "tridiagonal_lu_solve"
    scipy_linalg(what)
    if b_ndim not in (1, 2) or isinstance(b_ndim, bool):
        raise ValueError(
            f"{what}: b_ndim must be 1 (b a vector) or 2 (a matrix of right-hand sides), got {b_ndim!r}"
        )
    flag(transposed, what, "transposed")
    if not isinstance(a_diagonals, (tuple, list)) or len(a_diagonals) != 5:
        raise TypeError(
            f"{what}: a_diagonals must be the five outputs (dl, d, du, du2, ipiv) of tridiagonal_lu_factor"
        )
    *bands, ipiv = a_diagonals
    vbands = [linalg_input(v, what, range(1, 64), "vectors (or stacks of them) for the bands") for v in bands]
    vpiv = as_tensor_variable(ipiv)
    if not vpiv.dtype.startswith(("int", "uint")) or vpiv.ndim < 1:
        raise TypeError(
            f"{what}: ipiv must be the integer pivots tridiagonal_lu_factor returns, got {vpiv.type}"
        )
    vb = linalg_input(b, what, range(b_ndim, 64), f"b with at least {b_ndim} dims (b_ndim={b_ndim})")
    return TridiagonalLUSolve(b_ndim, bool(transposed))(*vbands, vpiv, vb)
