"""scipy.linalg's further functions as PyTensor's ``tensor.slinalg`` offers them: ``expm``,
``cho_solve``, ``lu``, ``lu_factor``, ``lu_solve``, ``pivot_to_permutation``, ``block_diag``,
``solve_discrete_lyapunov``, ``solve_continuous_lyapunov`` and ``solve_sylvester``; and Theano's
``nlinalg.alloc_diag`` / ``extract_diag``.

fncache does not depend on scipy, so the two functions that need new numerics are computed
here with numpy: the matrix exponential by Higham's scaling and squaring of Padé
approximants (scipy's algorithm, "The scaling and squaring method for the matrix exponential
revisited", 2005), and the LU factorization by Gaussian elimination with partial pivoting (the
pivot row is the first of the largest magnitude, as LAPACK's getrf), one vectorized row update
per column. Everything else is a graph of existing ops (triangular solves, ``kron``, ``solve``,
concatenations), so it differentiates through their gradient rules. ``expm``'s gradient is the
Fréchet derivative read off the exponential of a block matrix (Mathias, 1996); the LU factors'
is PyTensor's formula for a square matrix.

This module loads when one of its names is first asked for (``ft.slinalg.expm``): a process
that only runs cached functions never pays for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_int
from .advanced_subtensor import take
from .array_ops import argsort, diagonal, matmul, swap_last
from .basic import as_tensor_variable
from .creation import eye, zeros
from .elemwise import as_float64, cast, elemwise, float64_result
from .extra_ops import alloc_diag, tril, triu
from .gradient import register_grad
from .pyop import check_value
from .nlinalg import (
    STACKS,
    finite,
    flag,
    linalg_input,
    overwrite_hints,
    rows_checked,
    run_linalg,
    square_input,
    system_operands,
)
from .shape_ops import concatenate, dim_sizes, dimshuffle, reshape
from .slinalg import solve, solve_triangular
from .vectorize import vectorize
from .op_call import op_call

__all__ = [
    "Expm",
    "LUFactor",
    "expm",
    "cho_solve",
    "lu",
    "lu_factor",
    "lu_solve",
    "block_diag",
    "solve_discrete_lyapunov",
    "solve_continuous_lyapunov",
    "solve_sylvester",
    "pivot_to_permutation",
    "alloc_diag",
    "extract_diag",
]

# Padé coefficients b_0..b_m of degree m, and the largest 1-norm each is accurate for in double
# precision (Higham 2005, table 2.3)
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0)
    + (3960.0, 90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0)
    + (129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0)
    + (40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}
_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1}
_THETA.update({9: 2.097847961257068e0, 13: 5.371920351148152e0})


def _pade_terms(a: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The odd (``u``) and even (``v``) parts of the degree-``m`` Padé numerator of exp(a)."""
    b = _PADE[m]
    ident = np.eye(a.shape[0])
    a2 = a @ a
    if m < 13:
        powers = [ident, a2]
        while len(powers) <= m // 2:
            powers.append(powers[-1] @ a2)
        u = a @ sum(b[2 * k + 1] * powers[k] for k in range(m // 2 + 1))
        v = sum(b[2 * k] * powers[k] for k in range(m // 2 + 1))
        return u, v
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    return u, v


def _expm(a: np.ndarray) -> np.ndarray:
    """exp of one float64 matrix: the lowest Padé degree accurate for its 1-norm, or degree 13
    of ``a / 2**s`` squared ``s`` times."""
    if a.shape[0] == 0:
        return a.copy()
    norm = np.linalg.norm(a, 1)
    if not np.isfinite(norm):
        return np.full_like(a, np.nan)
    m = next((m for m in (3, 5, 7, 9) if norm <= _THETA[m]), 13)
    s = max(0, int(np.ceil(np.log2(norm / _THETA[13])))) if m == 13 else 0
    u, v = _pade_terms(a / 2.0**s, m)
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


def _expm_stack(a: np.ndarray) -> np.ndarray:
    """:func:`_expm` of each matrix of the stack ``a`` (in float64, or complex128 for a complex
    ``a``), stacked back."""
    wide = np.complex128 if np.iscomplexobj(a) else np.float64
    out = np.empty(a.shape, wide)
    for idx in np.ndindex(a.shape[:-2]):
        out[idx] = _expm(a[idx].astype(wide))
    return out


class Expm(Op):
    """scipy.linalg.expm: the exponential of a square matrix (of each of a stack)."""

    __props__ = ()

    def make_node(self, a: Variable) -> Apply:
        return Apply(self, [a], [TensorType(a.dtype, a.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a = inputs[0]
        if a.shape[-1] != a.shape[-2]:
            raise ValueError(f"expm: takes square matrices, got shape {a.shape}; give a square matrix")
        res = run_linalg("expm", _expm_stack, a)
        return [res.astype(node.outputs[0].dtype, copy=False)]


@register_grad(Expm, complex_values="holomorphic")
def _expm_grad(node: Apply, out_grads: list) -> list:
    """The adjoint of the Fréchet derivative, ``L(a^T, g)``: the upper right block of
    ``expm([[a^T, g], [0, a^T]])``, per matrix of a stack."""
    a, g = node.inputs[0], out_grads[0]
    at = swap_last(a)
    n = a.shape[-1]
    top = concatenate([at, g], axis=-1)
    bottom = concatenate([at * 0, at], axis=-1)
    block = Expm()(concatenate([top, bottom], axis=-2))
    return [block[..., :n, n:]]


@op_call
def expm(A: Any) -> Variable:
    """scipy.linalg.expm: the matrix exponential ``sum_k A**k / k!`` of a square matrix (or of
    each of a stack; complex too), by scaling and squaring of Padé approximants.
    Differentiable."""
    return Expm()(square_input(A, "expm", complex_ok=True))


def cho_solve(
    c_and_lower: Any, b: Any, check_finite: bool = True, b_ndim: int | None = None, overwrite_b: bool = False
) -> Variable:
    """scipy.linalg.cho_solve: ``x`` with ``a @ x == b`` from the Cholesky factor ``c`` of
    ``a``, given as ``(c, lower)``: ``c`` lower with ``c @ c.T == a`` (``lower=True``) or upper
    with ``c.T @ c == a``; only that triangle of ``c`` is read. Two triangular solves, so the
    gradient reaches ``c`` and ``b``. ``b_ndim`` as :func:`~fncache.tensor.slinalg.solve`'s
    (PyTensor's: 1 makes a ``b`` of more dims a stack of vectors), ``overwrite_b`` as
    :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("cho_solve", overwrite_b=overwrite_b)
    if not isinstance(c_and_lower, (tuple, list)) or len(c_and_lower) != 2:
        raise TypeError(
            f"cho_solve: the first argument must be the pair (c, lower) that cho_factor gives, got "
            f"{c_and_lower!r}; pass (ft.slinalg.cholesky(a), True)"
        )
    c, lower = c_and_lower
    low = flag(lower, "cho_solve", "lower")
    vc = finite(square_input(c, "cho_solve"), check_finite, "cho_solve")
    b = finite(as_tensor_variable(b), check_finite, "cho_solve")
    if b.ndim:
        rows = 0 if b.ndim == 1 else -1 if b_ndim == 1 else -2
        b = rows_checked("cho_solve", vc, b, -1, rows, ("c", "b"))
    lc = vc if low else swap_last(vc)
    # with c upper, c.T is the lower factor: solve L y = b, then L^T x = y
    y = solve_triangular(lc, b, lower=True, b_ndim=b_ndim, check_finite=False)
    return solve_triangular(swap_last(lc), y, lower=False, b_ndim=b_ndim, check_finite=False)


def _getrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LAPACK getrf of one float64 matrix with numpy: the packed factors (unit lower ``L``
    below the diagonal, ``U`` on and above), LAPACK's pivots (row ``i`` was swapped with row
    ``piv[i]``, 0-based) and the row order ``perm`` (``a[perm] == L @ U``). A zero pivot
    column is skipped, as getrf does for a singular matrix."""
    lu = a.astype(np.float64, copy=True)
    m, n = lu.shape
    perm = np.arange(m)
    piv = np.zeros(min(m, n), np.int32)
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        piv[j] = p
        if p != j:
            lu[[j, p]] = lu[[p, j]]
            perm[[j, p]] = perm[[p, j]]
        if lu[j, j] != 0:
            lu[j + 1 :, j] /= lu[j, j]
            lu[j + 1 :, j + 1 :] -= np.outer(lu[j + 1 :, j], lu[j, j + 1 :])
    return lu, piv, perm


class LUFactor(Op):
    """The LU factorization with partial pivoting of a matrix (``m x n``): the packed factors,
    LAPACK's pivots (int32, scipy's ``lu_factor``) and the row order as int64 indices."""

    __props__ = ()

    def make_node(self, a: Variable) -> Apply:
        m, n = a.type.shape
        k = None if m is None or n is None else min(m, n)
        outs = [TensorType(a.dtype, (m, n)), TensorType("int32", (k,)), TensorType("int64", (m,))]
        return Apply(self, [a], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        with np.errstate(all="ignore"):  # a NaN or inf in the input gives NaN factors, no warning
            lu, piv, perm = _getrf(inputs[0])
        return [lu.astype(node.outputs[0].dtype, copy=False), piv, perm.astype(np.int64)]


@register_grad(LUFactor)
def _lu_grad(node: Apply, out_grads: list) -> list:
    """For a square ``a`` with ``a[perm] = L U``: ``L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T``
    (the gradient of the pivoted matrix, as PyTensor's LU), its rows put back in ``a``'s order;
    the packed factors' gradient splits into ``gL`` below the diagonal and ``gU`` on and above."""
    a, (packed, _, perm), g = node.inputs[0], node.outputs, out_grads[0]
    m, n = a.type.shape
    if m is not None and n is not None and m != n:
        raise NotImplementedError(
            f"grad: the LU factors of {a.type} have a gradient for a square matrix only; "
            "differentiate the factors of a square block of it"
        )
    if g is None:
        return [None]
    g = check_value(
        g,
        elemwise("eq", a.shape[0], a.shape[1]),
        "grad: the LU factors have a gradient for a square matrix only, got shape {0}; "
        "differentiate those of a square block",
        a.shape,
    )
    lower, upper = _unit_lower(packed, packed.shape[0]), triu(packed)
    inner = tril(matmul(swap_last(lower), tril(g, -1)), -1) + triu(matmul(triu(g), swap_last(upper)))
    # L^-T inner U^-T: a solve with L^T (upper) from the left, then y U^T = left as U y^T = left^T
    left = solve_triangular(swap_last(lower), inner, lower=False, check_finite=False)
    pivoted = swap_last(solve_triangular(upper, swap_last(left), lower=False, check_finite=False))
    return [pivoted[argsort(perm)]]


def _unit_lower(packed: Variable, k: Any) -> Variable:
    """The unit lower factor (``m x k``) of the packed LU factors."""
    return tril(packed[:, :k], -1) + eye(packed.shape[0], k, dtype=packed.dtype)


def lu(
    a: Any,
    permute_l: bool = False,
    check_finite: bool = True,
    p_indices: bool = False,
    overwrite_a: bool = False,
) -> Any:
    """scipy.linalg.lu: ``(P, L, U)`` with ``a == P @ L @ U`` for an ``m x n`` matrix, ``P`` a
    permutation matrix, ``L`` unit lower (``m x k``) and ``U`` upper (``k x n``), ``k = min(m,
    n)``; the pivot row of each column is the first of the largest magnitude (partial pivoting,
    as LAPACK's). ``p_indices=True`` gives the row indices ``p`` (``a == L[p] @ U``) in place of
    ``P``; ``permute_l=True`` gives ``(P @ L, U)``. ``L`` and ``U`` (and ``P @ L``) of a
    square matrix are differentiable. ``overwrite_a`` as
    :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("lu", overwrite_a=overwrite_a)
    permute = flag(permute_l, "lu", "permute_l")
    indices = flag(p_indices, "lu", "p_indices")
    v = linalg_input(a, "lu", STACKS, "a matrix or a stack of them (2 or more dims)")
    if v.ndim > 2:
        out = "(m,k),(k,n)" if permute else "(m),(m,k),(k,n)" if indices else "(m,m),(m,k),(k,n)"
        return tuple(vectorize(lambda m: lu(m, permute, check_finite, indices), f"(m,n)->{out}")(v))
    v = finite(v, check_finite, "lu")
    packed, _, perm = LUFactor()(v)
    k = elemwise("minimum", v.shape[0], v.shape[1])
    lower, upper = _unit_lower(packed, k), triu(packed[:k, :])
    if permute:
        # row r of a is row p[r] of L @ U, p the inverse of the row order
        return take(lower, argsort(perm), axis=0), upper
    p = argsort(perm)
    if indices:
        return cast(p, "int32"), lower, upper  # scipy's dtype
    return eye(v.shape[0], dtype=v.dtype)[perm].T, lower, upper


def lu_factor(a: Any, check_finite: bool = True, overwrite_a: bool = False) -> tuple[Variable, Variable]:
    """scipy.linalg.lu_factor: ``(lu, piv)``, the packed factors of a square matrix (unit lower
    ``L`` below the diagonal, ``U`` on and above) and LAPACK's int32 pivots (row ``i`` swapped
    with row ``piv[i]``), for :func:`lu_solve`. ``overwrite_a`` as
    :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("lu_factor", overwrite_a=overwrite_a)
    v = square_input(a, "lu_factor", STACKS, "a square matrix or a stack of them (2 or more dims)")
    if v.ndim > 2:
        return tuple(vectorize(lambda m: lu_factor(m, check_finite), "(m,m)->(m,m),(m)")(v))
    packed, piv, _ = LUFactor()(finite(v, check_finite, "lu_factor"))
    return packed, piv


class PivotOrder(Op):
    """The row order (int64 indices) of a sequence of LAPACK row swaps: row ``i`` swapped with
    row ``piv[i]``, in turn; for a stack of pivot vectors, one order per vector. ``what`` is the
    function the errors name."""

    __props__ = ("what",)

    def __init__(self, what: str = "lu_solve") -> None:
        self.what = what

    def make_node(self, piv: Variable, n: Variable) -> Apply:
        return Apply(self, [piv, n], [TensorType("int64", piv.type.shape[:-1] + (None,))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        piv, n = inputs
        n = int(n)
        if piv.shape[-1] > n or (piv.size and (piv.min() < 0 or piv.max() >= n)):
            raise ValueError(
                f"{self.what}: pivots {piv.tolist()} do not fit a matrix of {n} rows; give the "
                "pivots lu_factor returned for that matrix"
            )
        out = np.empty(piv.shape[:-1] + (n,), np.int64)
        for idx in np.ndindex(piv.shape[:-1]):
            perm = np.arange(n)
            for i, p in enumerate(piv[idx]):
                perm[[i, p]] = perm[[p, i]]
            out[idx] = perm
        return [out]


def pivot_to_permutation(p: Any, inverse: bool = False) -> Variable:
    """PyTensor's ``pivot_to_permutation``: LAPACK's pivots (``lu_factor``'s ``piv``: row ``i``
    swapped with row ``p[i]``, in turn) as a permutation, int64: ``perm`` with ``L @ U ==
    a[perm]`` for ``inverse=True``, its inverse (``a == (L @ U)[perm]``, scipy's ``lu``
    ``p_indices``) by default. A stack of pivot vectors gives one permutation each."""
    inv = flag(inverse, "pivot_to_permutation", "inverse")
    v = as_tensor_variable(p)
    if v.ndim < 1 or not is_int(v.dtype):
        raise TypeError(
            f"pivot_to_permutation: p must be an int vector (lu_factor's pivots) or a stack of "
            f"them, got {v.type}"
        )
    order = PivotOrder("pivot_to_permutation")(v, v.shape[-1])
    return order if inv else argsort(order, axis=-1)


def lu_solve(
    lu_and_piv: Any,
    b: Any,
    trans: int = 0,
    b_ndim: int | None = None,
    check_finite: bool = True,
    overwrite_b: bool = False,
) -> Variable:
    """scipy.linalg.lu_solve: ``x`` with ``a @ x == b`` (``trans=0``) or ``a.T @ x == b``
    (``trans=1`` or 2, the same for real matrices) from ``lu_factor(a)``'s ``(lu, piv)``. Two
    triangular solves and a row permutation, so the gradient reaches ``lu`` and ``b``. A stack
    of factors takes a vector per matrix where ``b`` has as many dims as ``piv``, else a
    matrix; ``b_ndim`` (PyTensor's, 1 or 2) says which ``b`` holds, a stack of them where it
    has more dims. ``overwrite_b`` as :func:`~fncache.tensor.nlinalg.overwrite_hints`."""
    overwrite_hints("lu_solve", overwrite_b=overwrite_b)
    if b_ndim not in (None, 1, 2) or isinstance(b_ndim, bool):
        raise ValueError(f"lu_solve: b_ndim must be None, 1 or 2, got {b_ndim!r}")
    if not isinstance(lu_and_piv, (tuple, list)) or len(lu_and_piv) != 2:
        raise TypeError(
            f"lu_solve: the first argument must be the pair (lu, piv) that lu_factor gives, got {lu_and_piv!r}"
        )
    if trans not in (0, 1, 2):
        raise ValueError(f"lu_solve: trans must be 0 (a x = b), 1 or 2 (a^T x = b), got {trans!r}")
    packed, piv = lu_and_piv
    vlu = square_input(packed, "lu_solve", STACKS, "the packed factors lu (a square matrix or a stack)")
    vpiv = as_tensor_variable(piv)
    if vpiv.ndim != vlu.ndim - 1 or not is_int(vpiv.dtype):
        raise TypeError(
            f"lu_solve: piv must be an int vector per matrix of lu {vlu.type} (lu_factor's pivots), "
            f"got {vpiv.type}"
        )
    vb = linalg_input(b, "lu_solve", range(b_ndim or 1, 64), "b as a vector or a matrix per matrix of lu")
    if vlu.ndim > 2 or (b_ndim is not None and vb.ndim > b_ndim):
        # b a vector per matrix when it has as many dims as piv (or b_ndim=1), else a matrix
        vector = vb.ndim <= vpiv.ndim if b_ndim is None else b_ndim == 1
        sig = "(m,m),(m),(m)->(m)" if vector else "(m,m),(m),(m,k)->(m,k)"

        def one(f: Variable, p: Variable, r: Variable) -> Variable:
            return lu_solve((f, p), r, trans, check_finite=check_finite)

        return vectorize(one, sig)(vlu, vpiv, vb)
    vb = linalg_input(b, "lu_solve", range(1, 3), "b as a vector or a matrix of right-hand sides")
    vlu, vb = system_operands("lu_solve", vlu, vb, vlu.type.shape[-1], vb.type.shape[0])
    vb = rows_checked("lu_solve", vlu, vb, -1, 0, ("lu", "b"))
    vlu, vb = finite(vlu, check_finite, "lu_solve"), finite(vb, check_finite, "lu_solve")
    n = vlu.shape[0]
    perm = PivotOrder()(vpiv, n)
    lower = _unit_lower(vlu, n)
    upper = triu(vlu)
    if trans == 0:
        # a = P L U with a[perm] = L U: L U x = b[perm]
        return solve_triangular(
            upper,
            solve_triangular(lower, vb[perm], lower=True, check_finite=False),
            lower=False,
            check_finite=False,
        )
    # a^T = U^T L^T P^T: U^T y = b, L^T z = y, x = P z (x[perm] = z)
    z = solve_triangular(
        swap_last(lower),
        solve_triangular(swap_last(upper), vb, lower=True, check_finite=False),
        lower=False,
        check_finite=False,
    )
    return z[argsort(perm)]


def block_diag(*matrices: Any) -> Variable:
    """scipy.linalg.block_diag: the matrices on the diagonal of a matrix of zeros, in order
    (a 0-d or 1-d input is a 1 x 1 or 1 x n block, as scipy's); of the dtype they upcast to.
    Concatenations, so the gradient reaches each block."""
    if not matrices:
        raise TypeError("block_diag: takes one or more matrices, got none")
    vs = [as_tensor_variable(m) for m in matrices]
    if any(v.ndim > 2 for v in vs):
        # stacks of matrices: one block matrix per matrix of the stacks (batch dims broadcast)
        for i, v in enumerate(vs):
            if v.ndim < 2:
                raise ValueError(
                    f"block_diag: with stacks of matrices every block needs 2 or more dims, got "
                    f"{v.type} for block {i}"
                )
        sig = ",".join(f"(r{i},c{i})" for i in range(len(vs))) + "->(r,c)"
        return vectorize(block_diag, sig)(*vs)
    blocks = []
    for i, m in enumerate(matrices):
        v = as_tensor_variable(m)
        if v.ndim > 2:
            raise ValueError(f"block_diag: takes matrices (at most 2 dims), got {v.type} for block {i}")
        blocks.append(reshape(v, (1, -1)) if v.ndim < 2 else v)
    dt = np.result_type(*[np.empty(0, b.dtype) for b in blocks]).name
    blocks = [cast(b, dt) for b in blocks]
    rows = []
    for i, b in enumerate(blocks):
        row = [zeros((b.shape[0], o.shape[1]), dt) if j != i else b for j, o in enumerate(blocks)]
        rows.append(concatenate(row, axis=1) if len(row) > 1 else b)
    return concatenate(rows, axis=0) if len(rows) > 1 else rows[0]


def _lyapunov_operands(A: Any, Q: Any, what: str) -> tuple[Variable, Variable]:
    va = square_input(A, what, takes="A as a square matrix or a stack of them (2 or more dims)")
    vq = square_input(Q, what, takes="Q as a square matrix or a stack of them (2 or more dims)")
    va, vq = system_operands(what, va, vq, va.type.shape[-1], vq.type.shape[-1])
    return va, rows_checked(what, va, vq, -1, -1, ("A", "Q"))


def solve_vectorized(op: Variable, q: Variable) -> Variable:
    """``X`` with ``op @ vec(X) == vec(q)``, vec the row-major flattening of a matrix, per
    matrix of a stack (``op`` and ``q``'s batch dims broadcast)."""
    sizes = dim_sizes(q)
    # the product, not -1: a stack of no matrices has no size to infer it from
    vec = reshape(q, sizes[:-2] + [sizes[-2] * sizes[-1]], ndim=q.ndim - 1)
    x = solve(op, vec, b_ndim=1, check_finite=False)
    return reshape(x, dim_sizes(x)[:-1] + sizes[-2:], ndim=x.ndim + 1)


def matrix_kron(a: Variable, b: Variable) -> Variable:
    """The Kronecker product of each pair of matrices of two stacks (the last two dims; the
    batch dims broadcast): ``kron`` per matrix. A broadcast product and a reshape."""
    nd = max(a.ndim, b.ndim)
    a = dimshuffle(a, ["x"] * (nd - a.ndim) + list(range(a.ndim)))
    b = dimshuffle(b, ["x"] * (nd - b.ndim) + list(range(b.ndim)))
    batch = list(range(nd - 2))
    # a's rows and columns at dims -4 and -2, b's at -3 and -1
    a = dimshuffle(a, batch + [nd - 2, "x", nd - 1, "x"])
    prod = a * dimshuffle(b, batch + ["x", nd - 2, "x", nd - 1])
    sizes = dim_sizes(prod)
    return reshape(prod, sizes[:-4] + [sizes[-4] * sizes[-3], sizes[-2] * sizes[-1]], ndim=nd)


def solve_discrete_lyapunov(A: Any, Q: Any, method: str = "direct") -> Variable:
    """scipy.linalg.solve_discrete_lyapunov: ``X`` with ``A X A^T - X + Q = 0`` (real ``A`` and
    ``Q``). Both methods (``"direct"``, ``"bilinear"``) solve the same equation as one linear
    system of size ``n**2`` in ``vec(X)`` (PyTensor's direct method): exact up to rounding,
    O(n**6) work, meant for the small systems of state-space models. float64, for float32
    operands too (scipy's dtype), but float32 for them under ``floatX=float32`` (PyTensor's).
    Differentiable."""
    if method not in ("direct", "bilinear"):
        raise ValueError(f"solve_discrete_lyapunov: method must be 'direct' or 'bilinear', got {method!r}")
    va, vq = _lyapunov_operands(A, Q, "solve_discrete_lyapunov")
    # scipy's solution is float64 for float32 operands too (both methods add float64
    # identities), as PyTensor declares
    a, q = as_float64("solve_discrete_lyapunov", va, vq)
    # vec(A X A^T) = kron(A, A) vec(X) for the row-major vec (per matrix of a stack)
    x = solve_vectorized(eye(a.shape[-1] ** 2, dtype=a.dtype) - matrix_kron(a, a), q)
    return float64_result(x, va, vq)


def solve_continuous_lyapunov(A: Any, Q: Any) -> Variable:
    """scipy.linalg.solve_continuous_lyapunov: ``X`` with ``A X + X A^T = Q`` (real ``A`` and
    ``Q``), as one linear system of size ``n**2`` in ``vec(X)``: O(n**6) work, meant for small
    systems. A singular system (``A`` and ``-A`` sharing an eigenvalue) raises numpy's
    ``LinAlgError`` when the function runs. Differentiable."""
    va, vq = _lyapunov_operands(A, Q, "solve_continuous_lyapunov")
    ident = eye(va.shape[-1], dtype=va.dtype)
    # vec(A X) = kron(A, I) vec(X), vec(X A^T) = kron(I, A) vec(X) (per matrix of a stack)
    return solve_vectorized(matrix_kron(va, ident) + matrix_kron(ident, va), vq)


def solve_sylvester(A: Any, B: Any, Q: Any) -> Variable:
    """scipy.linalg.solve_sylvester: ``X`` with ``A X + X B = Q`` for real ``A`` (M, M), ``B``
    (N, N) and ``Q`` (M, N), or stacks of them (the batch dims broadcast), as one linear system
    of size ``M * N`` in ``vec(X)`` per matrix: O((M N)**3) work, meant for small systems. A
    singular system (``A`` and ``-B`` sharing an eigenvalue) raises numpy's ``LinAlgError``
    when the function runs. Differentiable in all three."""
    what = "solve_sylvester"
    va = square_input(A, what, takes="A as a square matrix or a stack of them (2 or more dims)")
    vb = square_input(B, what, takes="B as a square matrix or a stack of them (2 or more dims)")
    vq = linalg_input(Q, what, range(2, 64), "Q as a matrix or a stack of them (2 or more dims)")
    m, n = va.type.shape[-1], vb.type.shape[-1]
    for name, got, want in (("rows", vq.type.shape[-2], m), ("columns", vq.type.shape[-1], n)):
        if got is not None and want is not None and got != want:
            raise ValueError(
                f"{what}: A is {va.type}, B {vb.type} and Q {vq.type}: Q needs {want} {name}; "
                "give A (M, M), B (N, N) and Q (M, N)"
            )
    if None in (m, n, *vq.type.shape[-2:]):
        fits = elemwise("eq", vq.shape[-2], va.shape[-1]) & elemwise("eq", vq.shape[-1], vb.shape[-1])
        vq = check_value(
            vq,
            fits,
            f"{what}: Q must be M x N for A M x M and B N x N, got Q {{0}}, A {{1}} and B {{2}}; give matching sizes",
            vq.shape,
            va.shape,
            vb.shape,
        )
    dt = "float64" if "float64" in (va.dtype, vb.dtype, vq.dtype) else "float32"
    va, vb, vq = cast(va, dt), cast(vb, dt), cast(vq, dt)
    # vec(A X) = kron(A, I_N) vec(X), vec(X B) = kron(I_M, B^T) vec(X)
    ident_m, ident_n = eye(va.shape[-1], dtype=dt), eye(vb.shape[-1], dtype=dt)
    op = matrix_kron(va, ident_n) + matrix_kron(ident_m, swap_last(vb))
    return solve_vectorized(op, vq)


def extract_diag(x: Any) -> Variable:
    """Theano's ``nlinalg.extract_diag`` and PyTensor's ``extract_diag``: the main diagonal of
    a matrix, or of the matrices on the first two dims of a tensor (``ft.diagonal(x)``)."""
    v = as_tensor_variable(x)
    if v.ndim < 2:
        raise ValueError(
            f"extract_diag: takes a matrix (or a tensor of 2 or more dims), got {v.type}; "
            "alloc_diag builds a matrix from a vector"
        )
    return diagonal(v)
