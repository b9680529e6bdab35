"""numpy.linalg's matrix functions (PyTensor's ``tensor.nlinalg``): ``matrix_inverse`` (``inv``),
``det``, ``slogdet``, ``pinv``, the factorizations ``eigh`` (``eigvalsh``), ``eig``, ``svd`` and
``qr``, ``lstsq``, ``matrix_power``, ``norm``, ``tensorinv``, ``tensorsolve``, ``matrix_dot``,
``multi_dot`` and ``trace``.

The factorizations are LAPACK's, through numpy: the ops' ``perform`` calls numpy.linalg in both
linkers (the C linker runs it as a Python step, as for every op without a C kernel; under the
CUDA renderer it runs on the host). A generated loop would be a slower LU than LAPACK's. Stacks
of matrices (more than 2 dims) are handled as numpy handles them, one matrix per leading index.
Integers and bools become float64 (as numpy's), float32 stays float32. Complex matrices are
taken where LAPACK's complex routines give numpy's results (``inv det slogdet pinv eig eigh
eigvalsh svd qr lstsq matrix_power norm tensorinv tensorsolve``; the real results of a complex
matrix, singular values and ``eigh``'s eigenvalues, are real as numpy's) and refused with a
``TypeError`` saying what to do elsewhere.
"""

from __future__ import annotations

import itertools
from functools import lru_cache, reduce
from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, complex_of, is_complex, is_float, real_of
from .array_ops import conj_swap_last, matmul, swap_last, trace
from ..graph.args import flag, int_arg, one_of
from .basic import as_tensor_variable
from .blas import dot
from .creation import eye, zeros_like
from .elemwise import as_float64, cast, elemwise
from .extra_ops import tril, triu
from .reduction import keep_reduced_dims, ordered_axes
from .reduction import max as max_
from .reduction import min as min_
from .reduction import sum as sum_
from .shape_ops import concatenate, dim_sizes, dimshuffle, reshape, sizes_checked
from .op_call import op_call

__all__ = [
    "MatrixInverse",
    "Det",
    "SlogDet",
    "Pinv",
    "Eigh",
    "Eig",
    "SVD",
    "QR",
    "Lstsq",
    "matrix_inverse",
    "inv",
    "det",
    "slogdet",
    "pinv",
    "eigh",
    "eigvalsh",
    "eig",
    "svd",
    "qr",
    "lstsq",
    "matrix_power",
    "norm",
    "tensorinv",
    "tensorsolve",
    "matrix_dot",
    "multi_dot",
    "trace",
]


#: What to do with a complex matrix, for a function that takes real ones only.
COMPLEX_FIX = (
    "give real matrices (float32, float64, or integers, computed in float64); a complex linear "
    "system A z = b is the real one [[Re A, -Im A], [Im A, Re A]] [Re z; Im z] = [Re b; Im b]"
)


def linalg_input(
    x: Any, what: str, ndims: range, takes: str, complex_ok: bool = False, fix: str = COMPLEX_FIX
) -> Variable:
    """``x`` as a float tensor a linear-algebra function takes: real (integers and bools become
    float64, as numpy's; complex too where ``complex_ok``, else refused saying ``fix``) with a
    number of dims in ``ndims`` (``takes`` says which in words)."""
    v = as_tensor_variable(x)
    if is_complex(v.dtype) and not complex_ok:
        raise TypeError(f"{what}: complex matrices are not supported, got {v.type}; {fix}")
    if v.ndim not in ndims:
        raise ValueError(f"{what}: takes {takes}, got {v.type} ({v.ndim} dims)")
    if not is_float(v.dtype) and not is_complex(v.dtype):
        (v,) = as_float64(what, v)
    return v


#: The dims of a stack of matrices (numpy.linalg's ``(..., M, M)``).
STACKS = range(2, 64)


def check_square(v: Variable, what: str) -> Variable:
    """``v``, its last two dims checked square where their sizes are known."""
    n, m = v.type.shape[-2:]
    if n is not None and m is not None and n != m:
        raise ValueError(
            f"{what}: the last two dims must be square, got {v.type}; give a square matrix (or a "
            "stack of them), or use pinv / lstsq for a rectangular one"
        )
    return v


class CheckValue(Op):
    """``x`` itself, checked when the function runs, the error naming ``what``: ``check`` is
    ``"square"`` (its last two dims; numpy's ``LinAlgError``, a ``ValueError``: for a function
    built of products, where a rectangular matrix would otherwise fail in a product or not at
    all) or ``"finite"`` (no infinity or NaN; scipy's ``check_finite=True``, ``ValueError``)."""

    __props__ = ("what", "check")
    view_map = {0: [0]}

    def __init__(self, what: str, check: str) -> None:
        if check not in ("square", "finite"):
            raise ValueError(f"CheckValue: check must be 'square' or 'finite', got {check!r}")
        self.what = what
        self.check = check

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        if self.check == "square" and x.shape[-1] != x.shape[-2]:
            raise np.linalg.LinAlgError(
                f"{self.what}: the last two dims must be square, got shape {x.shape}; give a square "
                "matrix (or a stack of them)"
            )
        if self.check == "finite" and not np.isfinite(x).all():
            raise ValueError(
                f"{self.what}: the array of shape {x.shape} holds infinities or NaNs "
                "(check_finite=True, scipy's check); give finite values, or check_finite=False"
            )
        return [x]


def finite(v: Variable, check: Any, what: str) -> Variable:
    """``v``, checked finite when the function runs if ``check`` (scipy's ``check_finite``,
    a flag) is true."""
    return CheckValue(what, "finite")(v) if flag(check, what, "check_finite") else v


def square_input(
    x: Any,
    what: str,
    ndims: range = STACKS,
    takes: str = "",
    complex_ok: bool = False,
    fix: str = COMPLEX_FIX,
) -> Variable:
    """:func:`linalg_input` whose last two dims are checked square where their sizes are known."""
    takes = takes or "a square matrix or a stack of them (2 or more dims)"
    v = linalg_input(x, what, ndims, takes, complex_ok, fix)
    return check_square(v, what)


def matrix_input(x: Any, what: str, complex_ok: bool = False) -> Variable:
    """:func:`linalg_input` of a matrix or a stack of them, of any (known or not) sizes."""
    return linalg_input(x, what, STACKS, "a matrix or a stack of them (2 or more dims)", complex_ok)


def system_operands(
    what: str, va: Variable, vb: Variable, rows_a: int | None, rows_b: int | None
) -> tuple[Variable, Variable]:
    """``a`` and ``b`` of a linear system in one float (or complex) dtype, numpy's for the
    pair (double precision if either is), ``b``'s rows (``rows_b``) checked against ``a``'s
    where both are known."""
    if rows_a is not None and rows_b is not None and rows_a != rows_b:
        raise ValueError(f"{what}: a is {va.type} and b is {vb.type}: b needs {rows_a} rows, as a has")
    dt = np.result_type(va.dtype, vb.dtype).name
    return cast(va, dt), cast(vb, dt)


def rows_checked(
    what: str, va: Variable, vb: Variable, dim_a: int, dim_b: int, names: tuple[str, str] = ("a", "b")
) -> Variable:
    """``vb``, checked when the function runs to have as many rows (its dim ``dim_b``) as ``va``
    has (its dim ``dim_a``), ``names`` theirs in the error: for a function built on other solves
    (``lu_solve`` on triangular ones), which would otherwise solve with a part of ``b`` or name
    the solve they call."""
    a, b = names
    msg = f"{what}: {b} needs {{}} rows, as {a} has, and has {{}}; give {b} as many rows as {a}"
    return sizes_checked(vb, dim_sizes(va)[dim_a], dim_sizes(vb)[dim_b], msg)


def symmetric_from(v: Variable, lower: bool) -> Variable:
    """The symmetric matrix (per matrix of a stack) of ``v``'s lower (or upper) triangle; a
    complex one's Hermitian matrix, as LAPACK reads it (the real part of the diagonal)."""
    if not is_complex(v.dtype):
        return tril(v) + swap_last(tril(v, -1)) if lower else triu(v) + swap_last(triu(v, 1))
    half = tril(v, -1) if lower else triu(v, 1)
    return half + conj_swap_last(half) + eye(v.shape[-1], dtype=v.dtype) * elemwise("real", v)


def _side(v: Variable) -> int | None:
    """The size of a square matrix (of a stack) where either of its last two dims is known."""
    n, m = v.type.shape[-2:]
    return n if n is not None else m


def _smaller(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else min(a, b)


#: What to do about numpy.linalg's errors, by the start of their message.
_FIXES = {
    "Singular matrix": "for a singular or rank-deficient matrix use pinv or lstsq",
    "Matrix is not positive definite": (
        "give a symmetric positive definite matrix (add a small multiple of the identity if it "
        "is only positive semi-definite, or use eigh / solve for an indefinite one)"
    ),
    "Last 2 dimensions of the array must be square": "give square matrices",
    "SVD did not converge": "check the input for NaN and inf",
    "Eigenvalues did not converge": "check the input for NaN and inf",
}


def run_linalg(what: str, fn: Callable[..., Any], *args: np.ndarray) -> Any:
    """``fn(*args)``, numpy.linalg's errors (a singular or not positive definite matrix, a
    non-square one) re-raised naming the function, the shapes it was given and the fix."""
    shapes = ", ".join(str(a.shape) for a in args)
    try:
        with np.errstate(all="ignore"):  # as the C kernels: IEEE results, no warnings
            return fn(*args)
    except np.linalg.LinAlgError as e:
        fix = next((f"; {v}" for k, v in _FIXES.items() if str(e).startswith(k)), "")
        raise np.linalg.LinAlgError(f"{what}: {e} (input shapes {shapes}){fix}") from None
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
        batch = x.type.shape[:-2]
        return Apply(self, [x], [TensorType(x.dtype, batch), TensorType(real_of(x.dtype), batch)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sign, logdet = run_linalg("slogdet", np.linalg.slogdet, inputs[0])
        return [np.asarray(r, dtype=o.dtype) for r, o in zip((sign, logdet), node.outputs)]


def _products_but_one(s: np.ndarray) -> np.ndarray:
    """``prod_{j != i} s_j`` for each ``i`` along the last axis, without a division (a zero
    among the ``s`` is fine)."""
    if s.shape[-1] == 0:
        return s.copy()
    ones = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    return before * after


def _svd_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(U, s, Vh, det(U) det(Vh))`` of a stack of square matrices."""
    u, s, vh = np.linalg.svd(x)
    return u, s, vh, np.linalg.det(u) * np.linalg.det(vh)


def _cofactors_by_svd(x: np.ndarray) -> np.ndarray:
    """The matrix of cofactors of each matrix of the stack ``x`` from its SVD ``U S Vh``:
    ``det(U) det(Vh) conj(U) adj(S) conj(Vh)``, ``adj(S)`` the products of all singular
    values but one. Polynomial in ``x``, so right for a singular matrix too."""
    u, s, vh, phase = _svd_parts(x)
    return phase[..., None, None] * (np.conj(u) * _products_but_one(s)[..., None, :]) @ np.conj(vh)


def _flat_stack(x: np.ndarray) -> np.ndarray:
    """The matrices of the stack ``x`` along one batch dim."""
    return x.reshape((int(np.prod(x.shape[:-2])),) + x.shape[-2:])


def _inverses(flat: np.ndarray, finite: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(indices, inverses)`` of the matrices of ``flat`` (where ``finite``) LU inverts: one
    group, or one each where one of them is singular (numpy's inv of a stack then fails)."""
    at = np.flatnonzero(finite)
    try:
        return [(at, np.linalg.inv(flat[at]))] if len(at) else []
    except np.linalg.LinAlgError:
        pass
    groups = []
    for i in at:
        try:
            groups.append((np.array([i]), np.linalg.inv(flat[i : i + 1])))
        except np.linalg.LinAlgError:
            pass
    return groups


def cofactors(x: np.ndarray, over_det: bool) -> np.ndarray:
    """The matrix of cofactors ``det(x) inv(x)^T`` of each matrix of a stack (det's gradient,
    finite for every matrix), or with ``over_det`` the cofactors over det, ``inv(x)^T``
    (log|det|'s gradient; at a singular matrix inf or NaN, as log|det| is -inf there). From
    the inverse where LU finds one (det times it is accurate however ill-conditioned the
    matrix, the two from the same factors), from the SVD where it does not."""
    wide = np.complex128 if np.iscomplexobj(x) else np.float64
    flat = _flat_stack(x).astype(wide)
    out = np.full(flat.shape, np.nan, wide)
    with np.errstate(all="ignore"):
        finite = np.isfinite(flat).all(axis=(-2, -1))
        singular = finite.copy()
        for at, inv in _inverses(flat, finite):
            scale = 1.0 if over_det else np.linalg.det(flat[at])[:, None, None]
            out[at] = scale * inv.transpose(0, 2, 1)
            singular[at] = False
        if singular.any():
            cof = _cofactors_by_svd(flat[singular])
            out[singular] = cof / np.linalg.det(flat[singular])[:, None, None] if over_det else cof
    return out.reshape(x.shape)


def cofactors_grad(x: np.ndarray, *gs: np.ndarray) -> np.ndarray:
    """The gradient in ``x`` of ``D^m det(x)[gs[0], ..., gs[-1]]``, det's ``m = len(gs)``-th
    derivative along the directions ``gs`` (one: the gradient of ``sum(g * cofactors(x))``,
    det's second derivative), for real matrices (per matrix of a stack). Polynomial in ``x``, so finite at a singular matrix too: with ``x = U S
    Vh``, det(x + E) is ``det(U) det(Vh) det(S + U^T E V)``, whose derivatives at the diagonal
    ``S`` are sums over the principal blocks of the rotated directions (:func:`_diagonal_det_grad`)."""
    n = x.shape[-1]
    flat = _flat_stack(x).astype(np.float64)
    dirs = [_flat_stack(np.broadcast_to(g, x.shape)).astype(np.float64) for g in gs]
    out = np.full(flat.shape, np.nan)
    finite = np.isfinite(flat).all(axis=(-2, -1))
    if finite.any():
        u, s, vh, phase = _svd_parts(flat[finite])
        hs = [u.transpose(0, 2, 1) @ g[finite] @ vh.transpose(0, 2, 1) for g in dirs]
        if len(hs) == 1:
            # the second derivative in closed form: U (diag(Q diag(H)) - (H^T o Q)) Vh, Q[i, j]
            # the product of the singular values but the i-th and j-th (0 on the diagonal)
            h = hs[0]
            eye_n = np.eye(n, dtype=bool)
            q = np.where(eye_n, 0.0, _products_but_one(np.where(eye_n, 1.0, s[:, None, :])))
            gamma = -(h.transpose(0, 2, 1) * q)
            gamma[:, eye_n] += (q @ np.diagonal(h, axis1=1, axis2=2)[..., None])[..., 0]
        else:
            gamma = _diagonal_det_grad(s, hs)
        out[finite] = phase[:, None, None] * (u @ gamma @ vh)
    return out.reshape(x.shape)


def _diagonal_det_grad(s: np.ndarray, hs: list[np.ndarray]) -> np.ndarray:
    """``d/dE D^k det(diag(s))[hs..., E]`` (``k = len(hs) + 1``) for stacks of singular values
    ``s`` and directions ``hs``: det(S + H) sums, over the row sets R, the product of the
    singular values off R times det(H[R, R]), so the k-th derivative sums over the sets of k
    rows that product times the derivative of the block's mixed discriminant
    (:func:`_mixed_terms`). Zero when k exceeds the size (det is a polynomial of that degree)."""
    batch, n = s.shape
    k = len(hs) + 1
    if k > n:
        return np.zeros((batch, n, n))
    rows = np.array(list(itertools.combinations(range(n), k)), dtype=np.intp).reshape(-1, k)
    off = np.array([sorted(set(range(n)) - set(r)) for r in rows], dtype=np.intp).reshape(len(rows), n - k)
    weight = np.prod(s[:, off], axis=-1)  # (batch, sets)
    blocks = np.stack(
        [h[:, rows[:, :, None], rows[:, None, :]] for h in hs], axis=2
    )  # (batch, sets, k - 1, k, k)
    signs, which, row, col, target = _mixed_terms(k)
    terms = signs * np.prod(blocks[:, :, which, row, col], axis=-1)  # (batch, sets, terms)
    grad = terms @ target  # (batch, sets, k * k)
    flat_at = (rows[:, :, None] * n + rows[:, None, :]).reshape(-1)
    placed = np.zeros((flat_at.size, n * n))
    placed[np.arange(flat_at.size), flat_at] = 1.0
    return ((weight[:, :, None] * grad).reshape(batch, -1) @ placed).reshape(batch, n, n)


@lru_cache(maxsize=None)
def _mixed_terms(k: int) -> tuple[np.ndarray, ...]:
    """The terms of the gradient in ``E`` of the mixed discriminant of ``k x k`` blocks
    ``(A_0, ..., A_{k-2}, E)`` (det's k-th derivative, every way of giving each direction one
    row of the block): for each permutation ``p`` (sign), row ``r0`` (``E``'s) and order of the
    directions on the other rows, the product of ``A_j[r, p(r)]``, added at ``(r0, p(r0))``.
    As arrays: the signs, the direction, row and column of each factor, and each term's
    one-hot target among the ``k * k`` entries."""
    signs, which, row, col, at = [], [], [], [], []
    for perm in itertools.permutations(range(k)):
        inversions = sum(perm[i] > perm[j] for i in range(k) for j in range(i + 1, k))
        for r0 in range(k):
            others = [r for r in range(k) if r != r0]
            for order in itertools.permutations(range(k - 1)):
                signs.append(-1.0 if inversions % 2 else 1.0)
                which.append(order)
                row.append(others)
                col.append([perm[r] for r in others])
                at.append(r0 * k + perm[r0])
    target = np.zeros((len(at), k * k))
    target[np.arange(len(at)), at] = 1.0
    return (np.array(signs), *(np.array(v, dtype=np.intp) for v in (which, row, col)), target)


class Cofactors(Op):
    """The matrix of cofactors of a square matrix (of each of a stack), ``det(x) inv(x)^T``:
    det's gradient, finite at a singular matrix too (:func:`cofactors`); with ``over_det``,
    ``inv(x)^T``, log|det|'s gradient, inf or NaN at a singular matrix."""

    __props__ = ("over_det",)

    def __init__(self, over_det: bool = False) -> None:
        self.over_det = bool(over_det)

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [cofactors(inputs[0], self.over_det).astype(node.outputs[0].dtype, copy=False)]


class CofactorsGrad(Op):
    """The gradient in a real ``x`` of det's ``len(gs)``-th derivative along ``gs``
    (:func:`cofactors_grad`): with one ``g``, of ``sum(g * Cofactors()(x))``, det's second
    derivative; with more, its higher ones. Finite at a singular matrix too."""

    def make_node(self, x: Variable, *gs: Variable) -> Apply:
        return Apply(self, [x, *gs], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [cofactors_grad(*inputs).astype(node.outputs[0].dtype, copy=False)]


class Pinv(Op):
    """numpy.linalg.pinv: the Moore-Penrose pseudo-inverse (from the SVD) of a matrix or a stack
    of matrices, ``(..., M, N)`` to ``(..., N, M)``."""

    __props__ = ("hermitian",)

    def __init__(self, hermitian: bool = False) -> None:
        self.hermitian = bool(hermitian)

    def make_node(self, x: Variable) -> Apply:
        m, n = x.type.shape[-2:]
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape[:-2] + (n, m))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg("pinv", lambda a: np.linalg.pinv(a, hermitian=self.hermitian), inputs[0])
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


class Eigh(Op):
    """numpy.linalg.eigh: the eigenvalues (ascending) and eigenvectors (columns) of a symmetric
    matrix or a stack of them, reading only the lower (``UPLO="L"``) or upper triangle."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:
        self.UPLO = UPLO

    def make_node(self, x: Variable) -> Apply:
        n = _side(x)
        batch = x.type.shape[:-2]
        w = TensorType(real_of(x.dtype), batch + (n,))  # a Hermitian matrix's are real
        return Apply(self, [x], [w, TensorType(x.dtype, batch + (n, n))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        w, v = run_linalg("eigh", lambda a: np.linalg.eigh(a, UPLO=self.UPLO), inputs[0])
        return [np.asarray(r, dtype=o.dtype) for r, o in zip((w, v), node.outputs)]


class Eig(Op):
    """numpy.linalg.eig of a general square matrix or a stack of them: eigenvalues and
    eigenvectors (columns), always complex (numpy's dtype depends on the values: real where
    every eigenvalue is). It has no gradient, as no complex value has."""

    #: what a gradient through its outputs is told to do instead
    grad_hint = (
        "eig has no gradient; for a symmetric matrix use ft.eigh (or ft.eigvalsh), whose "
        "gradients are implemented"
    )

    def make_node(self, x: Variable) -> Apply:
        n, dt = _side(x), complex_of(x.dtype)
        batch = x.type.shape[:-2]
        return Apply(self, [x], [TensorType(dt, batch + (n,)), TensorType(dt, batch + (n, n))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        w, v = run_linalg("eig", np.linalg.eig, inputs[0])
        dt = node.outputs[0].dtype
        return [np.asarray(w, dtype=dt), np.asarray(v, dtype=dt)]


class SVD(Op):
    """numpy.linalg.svd of a matrix or a stack of them: ``(U, s, Vh)`` with ``compute_uv``,
    else the singular values ``s`` (descending) alone; ``full_matrices`` makes ``U`` and
    ``Vh`` square."""

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True) -> None:
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x: Variable) -> Apply:
        batch, (m, n) = x.type.shape[:-2], x.type.shape[-2:]
        k = _smaller(m, n)
        s = TensorType(real_of(x.dtype), batch + (k,))
        if not self.compute_uv:
            return Apply(self, [x], [s])
        u, vh = (batch + (m, m), batch + (n, n)) if self.full_matrices else (batch + (m, k), batch + (k, n))
        return Apply(self, [x], [TensorType(x.dtype, u), s, TensorType(x.dtype, vh)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg(
            "svd",
            lambda a: np.linalg.svd(a, full_matrices=self.full_matrices, compute_uv=self.compute_uv),
            inputs[0],
        )
        res = res if self.compute_uv else (res,)
        return [np.asarray(r, dtype=o.dtype) for r, o in zip(res, node.outputs)]


#: numpy.linalg.qr's modes fncache computes.
QR_MODES = ("reduced", "complete", "r", "raw")


class QR(Op):
    """numpy.linalg.qr of a matrix or a stack of them: ``(Q, R)`` in modes ``"reduced"`` (``Q``
    ``(..., M, K)``, ``R`` ``(..., K, N)``, K = min(M, N)) and ``"complete"`` (``Q`` square),
    ``R`` alone in mode ``"r"``, LAPACK's Householder form ``(h, tau)`` in mode ``"raw"`` (``h``
    ``(..., N, M)``, transposed as numpy's, ``tau`` ``(..., K)``)."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "reduced") -> None:
        self.mode = mode

    def make_node(self, x: Variable) -> Apply:
        batch, (m, n) = x.type.shape[:-2], x.type.shape[-2:]
        k = m if self.mode == "complete" else _smaller(m, n)
        if self.mode == "raw":
            return Apply(self, [x], [TensorType(x.dtype, batch + (n, m)), TensorType(x.dtype, batch + (k,))])
        r = TensorType(x.dtype, batch + (k, n))
        if self.mode == "r":
            return Apply(self, [x], [r])
        return Apply(self, [x], [TensorType(x.dtype, batch + (m, k)), r])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = run_linalg("qr", lambda a: np.linalg.qr(a, mode=self.mode), inputs[0])
        res = (res,) if self.mode == "r" else res
        return [np.asarray(r, dtype=o.dtype) for r, o in zip(res, node.outputs)]


class Lstsq(Op):
    """numpy.linalg.lstsq(a, b, rcond): the least-squares solution ``x``, the residuals (a sum
    of squares per column of ``b``; empty when ``a`` is rank deficient or not tall), the rank
    of ``a`` (int32) and its singular values. ``rcond`` is the op's (a number or None) or, with
    ``rcond_input``, a third input (a symbolic scalar)."""

    __props__ = ("rcond", "rcond_input")

    def __init__(self, rcond: float | None = None, rcond_input: bool = False) -> None:
        self.rcond = rcond
        self.rcond_input = bool(rcond_input)

    def make_node(self, a: Variable, b: Variable, *rcond: Variable) -> Apply:
        (m, n), dt, real = a.type.shape, a.dtype, real_of(a.dtype)
        x = TensorType(dt, (n,) + b.type.shape[1:])
        outs = [x, TensorType(real, (None,)), TensorType("int32", ()), TensorType(real, (_smaller(m, n),))]
        return Apply(self, [a, b, *rcond], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        rcond = float(inputs[2]) if self.rcond_input else self.rcond
        res = run_linalg("lstsq", lambda a, b: np.linalg.lstsq(a, b, rcond=rcond), *inputs[:2])
        return [np.asarray(r, dtype=o.dtype) for r, o in zip(res, node.outputs)]


@op_call
def matrix_inverse(x: Any) -> Variable:
    """numpy.linalg.inv: the inverse of a square matrix (or of each in a stack). A singular
    matrix raises numpy's ``LinAlgError`` when the function runs, naming ``matrix_inverse``."""
    return MatrixInverse()(square_input(x, "matrix_inverse", complex_ok=True))


inv = matrix_inverse


@op_call
def det(x: Any) -> Variable:
    """numpy.linalg.det: the determinant of a square matrix (or of each in a stack)."""
    return Det()(square_input(x, "det", complex_ok=True))


def slogdet(x: Any) -> tuple[Variable, Variable]:
    """numpy.linalg.slogdet: ``(sign, log|det|)``, without det's overflow for large matrices."""
    sign, logdet = SlogDet()(square_input(x, "slogdet", complex_ok=True))
    return sign, logdet


def matrix_dot(*args: Any) -> Variable:
    """``dot(dot(a, b), c)...``: the product of the matrices (or vectors) in order."""
    if not args:
        raise TypeError("matrix_dot: give at least one matrix")
    vs = [as_tensor_variable(a) for a in args]
    out = vs[0]
    for k, v in enumerate(vs[1:], 1):
        if out.ndim and v.ndim:  # (a 0-d one multiplies)
            msg = (
                f"matrix_dot: the product of arguments 0 to {k - 1} and argument {k} {v.type} are "
                "not aligned: {} columns, {} rows; give matrices whose adjacent sizes match"
            )
            v = sizes_checked(v, dim_sizes(out)[-1], dim_sizes(v)[max(v.ndim - 2, 0)], msg)
        out = dot(out, v)
    return out


def multi_dot(arrays: Sequence[Any]) -> Variable:
    """numpy.linalg.multi_dot: the product of the matrices ``arrays`` (the first may be a row
    vector, the last a column one, as 1-d tensors; two arrays of any dims are numpy's ``dot``
    of them, as numpy's multi_dot), multiplied in the order that takes the
    fewest scalar products, numpy's choice for the same sizes (``dot`` of each pair, so the
    gradient is dot's). The order is chosen when the graph is built, from the static sizes:
    where one of them is not known it is left to right (numpy's is chosen by the sizes at run
    time: the values agree to rounding, and for integer operands of different dtypes an
    intermediate product can wrap in its own dtype as in numpy's other order)."""
    if isinstance(arrays, Variable) or not isinstance(arrays, (list, tuple)):
        raise TypeError(
            f"multi_dot: arrays must be a list or tuple of tensors (numpy's multi_dot([a, b, c])), got "
            f"{type(arrays).__name__} {arrays!r}; give [a, b, ...]"
        )
    vs = [as_tensor_variable(a) for a in arrays]
    n = len(vs)
    if n < 2:
        raise ValueError(f"multi_dot: takes at least two arrays, got {n}; a single array is its own product")
    for k, v in enumerate(vs):
        if n > 2 and v.ndim != 2 and not (v.ndim == 1 and k in (0, n - 1)):
            raise ValueError(
                f"multi_dot: array {k} is {v.type} ({v.ndim} dims); of three or more arrays the first "
                "and last must be 1-d or 2-d and the others 2-d, as numpy's (two arrays are numpy's "
                "dot of any dims); ft.matmul multiplies stacks of matrices"
            )
    for k in range(n - 1):
        if vs[k].ndim == 0 or vs[k + 1].ndim == 0:
            continue  # a 0-d array scales the other (numpy's dot of two)
        msg = (
            f"multi_dot: array {k} {vs[k].type} and array {k + 1} {vs[k + 1].type} are not aligned: "
            "{} columns, {} rows; give arrays whose adjacent sizes match"
        )
        # the rows are the second-to-last axis of an N-d array (numpy's dot of two)
        rows = dim_sizes(vs[k + 1])[0 if vs[k + 1].ndim == 1 else -2]
        vs[k + 1] = sizes_checked(vs[k + 1], dim_sizes(vs[k])[-1], rows, msg)
    if n == 2:
        return dot(vs[0], vs[1])
    split = _chain_order([v.type.shape for v in vs])

    def product(i: int, j: int) -> Variable:
        if i == j:
            return vs[i]
        return dot(product(i, split[i][j]), product(split[i][j] + 1, j))

    return product(0, n - 1)


def _chain_order(shapes: list[tuple[int | None, ...]]) -> list[list[int]]:
    """numpy's order for multiplying a chain of matrices of ``shapes`` (a 1-d first or last one
    a row or a column): ``split[i][j]`` is where the product of the ``i``-th to ``j``-th splits
    (the fewest scalar products, the first such split; numpy's ``_multi_dot_matrix_chain_order``
    and, for three, ``_multi_dot_three``, which agree). Left to right where a size is unknown."""
    n = len(shapes)
    rows = [1 if len(shapes[0]) == 1 else shapes[0][0]]
    # the size between two matrices, static on either side (checked equal when both are)
    rows += [b[0] if b[0] is not None else a[-1] for a, b in zip(shapes[:-1], shapes[1:])]
    p = rows + [1 if len(shapes[-1]) == 1 else shapes[-1][-1]]
    split = [[j - 1 for j in range(n)] for _ in range(n)]  # left to right: the last one split off
    if None in p:
        return split
    cost = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if best is None or q < best:
                    best, split[i][j] = q, k
            cost[i][j] = best
    return split


def overwrite_hints(what: str, **hints: Any) -> None:
    """scipy's and PyTensor's ``overwrite_a``/``overwrite_b``: leave LAPACK the input's memory
    to work in. fncache never writes into the values a function is given, so each flag is
    checked True or False and changes nothing (the result is the same either way)."""
    for name, value in hints.items():
        flag(value, what, name)


def pinv(x: Any, hermitian: bool = False) -> Variable:
    """numpy.linalg.pinv: the pseudo-inverse of a matrix (or of each in a stack), ``(M, N)`` to
    ``(N, M)``; ``hermitian=True`` computes it from the eigenvalues of a symmetric ``x``."""
    if flag(hermitian, "pinv", "hermitian"):
        return Pinv(True)(square_input(x, "pinv", complex_ok=True))
    return Pinv()(matrix_input(x, "pinv", complex_ok=True))


def _uplo(UPLO: Any, what: str) -> str:
    if UPLO not in ("L", "U"):
        raise ValueError(
            f"{what}: UPLO must be 'L' (read the lower triangle) or 'U' (the upper one), got {UPLO!r}"
        )
    return UPLO


#: What to do with a complex generalized eigenproblem, which fncache solves for real ones only.
_GENERALIZED_FIX = (
    "the generalized problem (with b) takes real matrices; for a Hermitian a and b = L L^H "
    "solve the standard one of L^-1 a L^-H (eigh of a complex matrix is supported)"
)


def _eigh_of(what: str, a: Any, b: Any, UPLO: Any, lower: Any) -> tuple[Variable, Variable, Variable | None]:
    """``(w, y, li)``: the eigenvalues and eigenvectors of ``a`` read from one triangle
    (``UPLO``, or PyTensor's ``lower``), ``li`` None; with ``b`` (symmetric positive definite,
    the same triangle read, scipy's) those of ``L^-1 a L^-T``, ``b = L L^T``, and ``L^-1``."""
    if lower is not None:
        UPLO = "L" if flag(lower, what, "lower") else "U"
    low = _uplo(UPLO, what) == "L"
    va = square_input(a, what, complex_ok=b is None, fix=_GENERALIZED_FIX)
    if b is None:
        w, y = Eigh(UPLO)(va)
        return w, y, None
    from .slinalg import cholesky

    # the lower factor of b's lower triangle, or the transposed upper factor of its upper one
    vb = square_input(b, what, fix=_GENERALIZED_FIX)
    vb = rows_checked(what, va, vb, -1, -1)
    factor = cholesky(vb, lower=low)
    li = MatrixInverse()(factor if low else swap_last(factor))
    w, y = Eigh()(matmul(matmul(li, symmetric_from(va, low)), swap_last(li)))
    return w, y, li


#: scipy's (and PyTensor's) LAPACK drivers of eigh, taken and left to numpy's choice
_EIGH_DRIVERS = (None, "ev", "evd", "evr", "evx", "gv", "gvd", "gvx")


def eigh(
    a: Any, UPLO: Any = "L", b: Any = None, lower: Any = None, driver: Any = None
) -> tuple[Variable, Variable]:
    """numpy.linalg.eigh: ``(w, v)``, the eigenvalues (ascending) and the eigenvectors (the
    columns of ``v``) of a symmetric matrix (or of each in a stack), reading only its lower
    triangle (``UPLO="U"``: the upper one). PyTensor's ``eigh(a, b=None, lower=True)`` too: a
    second argument that is not ``"L"`` or ``"U"`` is its ``b`` (symmetric positive
    definite), for scipy's generalized problem ``a v = w b v`` with ``v^T b v = I`` (each
    vector up to its sign), the same triangle of ``a`` and ``b`` read; ``driver`` (LAPACK's
    choice) is accepted and numpy's used."""
    if driver not in _EIGH_DRIVERS:
        raise ValueError(f"eigh: driver must be None or one of {_EIGH_DRIVERS[1:]} (scipy's), got {driver!r}")
    if not isinstance(UPLO, str) and UPLO is not None:
        # PyTensor's order, eigh(a, b, lower, UPLO): each argument moved to its place
        pt_uplo = lower if isinstance(lower, str) else "L"
        UPLO, b, lower = pt_uplo, UPLO, (lower if b is None else b)
    w, y, li = _eigh_of("eigh", a, b, UPLO, lower)
    return (w, y) if li is None else (w, matmul(swap_last(li), y))


def eigvalsh(a: Any, b: Any = None, UPLO: Any = "L", lower: Any = None) -> Variable:
    """numpy.linalg.eigvalsh: the eigenvalues (ascending) of a symmetric matrix (or of each in
    a stack); with ``b`` (a symmetric positive definite matrix, as scipy's) those of the
    generalized problem ``a v = w b v``, reading the same triangle of ``a`` and ``b``.
    numpy's ``eigvalsh(a, "U")`` and PyTensor's ``eigvalsh(a, b, False)`` (``lower``) are
    read as they mean."""
    if isinstance(b, str):
        UPLO, b = b, None
    if isinstance(UPLO, (bool, np.bool_)):
        UPLO, lower = "L", UPLO
    return _eigh_of("eigvalsh", a, b, UPLO, lower)[0]


def eig(a: Any) -> tuple[Variable, Variable]:
    """numpy.linalg.eig: ``(w, v)``, the eigenvalues and eigenvectors (columns of ``v``) of a
    square matrix (or of each in a stack), as complex numbers (complex64 for float32). It has
    no gradient: use ``eigh`` for a symmetric matrix."""
    w, v = Eig()(square_input(a, "eig", complex_ok=True))
    return w, v


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """numpy.linalg.svd: ``(U, s, Vh)`` with ``a == U[..., :K] * s @ Vh[..., :K, :]`` (a
    stack: per matrix), or the singular values ``s`` alone when ``compute_uv=False``."""
    op = SVD(flag(full_matrices, "svd", "full_matrices"), flag(compute_uv, "svd", "compute_uv"))
    return op(matrix_input(a, "svd", complex_ok=True))


def qr(a: Any, mode: str = "reduced") -> Any:
    """numpy.linalg.qr: ``(Q, R)`` (mode ``"reduced"`` or ``"complete"``), ``R`` alone
    (``"r"``) or LAPACK's Householder reflectors ``(h, tau)`` (``"raw"``, which has no gradient),
    of a matrix or of each in a stack."""
    if mode not in QR_MODES:
        raise ValueError(
            f"qr: mode={mode!r} is not supported; use 'reduced' (Q (M, K), R (K, N)), 'complete' "
            "(Q (M, M), R (M, N)), 'r' (R alone) or 'raw' (LAPACK's Householder reflectors)"
        )
    return QR(mode)(matrix_input(a, "qr", complex_ok=True))


@op_call
def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Variable, Variable, Variable, Variable]:
    """numpy.linalg.lstsq: ``(x, residuals, rank, s)``, ``x`` minimizing ``|b - a x|`` for a
    matrix ``a`` ``(M, N)`` and ``b`` a vector or a matrix of right-hand sides (no stacks);
    ``rcond`` (a number, a symbolic real scalar as PyTensor's, or None for machine precision)
    cuts off small singular values."""
    symbolic = isinstance(rcond, Variable)
    if symbolic and (
        rcond.ndim != 0 or not (is_float(rcond.dtype) or rcond.dtype.startswith(("int", "uint")))
    ):
        raise TypeError(f"lstsq: rcond must be a number, None or a symbolic scalar, got {rcond.type}")
    if (
        not symbolic
        and rcond is not None
        and (
            isinstance(rcond, (bool, np.bool_))
            or not isinstance(rcond, (int, float, np.integer, np.floating))
        )
    ):
        raise TypeError(f"lstsq: rcond must be a number, None or a symbolic scalar, got {rcond!r}")
    va = linalg_input(a, "lstsq", range(2, 3), "a as a matrix (2 dims)", complex_ok=True)
    vb = linalg_input(
        b,
        "lstsq",
        range(1, 3),
        "b as a vector or a matrix of right-hand sides (1 or 2 dims)",
        complex_ok=True,
    )
    va, vb = system_operands("lstsq", va, vb, va.type.shape[0], vb.type.shape[0])
    if symbolic:
        x, residuals, rank, s = Lstsq(rcond_input=True)(va, vb, rcond)
    else:
        x, residuals, rank, s = Lstsq(None if rcond is None else float(rcond))(va, vb)
    return x, residuals, rank, s


def matrix_power(M: Any, n: int) -> Variable:
    """numpy.linalg.matrix_power: ``M @ M @ ... `` (n times, by repeated squaring) of a square
    matrix (or of each in a stack); the identity for ``n == 0``, powers of the inverse for
    ``n < 0``. Integers stay integers for ``n >= 0``, as numpy's."""
    n = int_arg(
        n, "matrix_power", "n", fix="for a real power of a symmetric matrix raise the eigenvalues of eigh"
    )
    if n < 0:
        v = MatrixInverse()(square_input(M, "matrix_power", complex_ok=True))
    else:
        v = as_tensor_variable(M)
        if v.ndim < 2:
            raise ValueError(
                f"matrix_power: takes a square matrix or a stack of them (2 or more dims), got {v.type} ({v.ndim} dims)"
            )
        check_square(v, "matrix_power")
        if None in v.type.shape[-2:]:
            v = CheckValue("matrix_power", "square")(v)
    k = abs(int(n))
    if k == 0:
        return zeros_like(v) + eye(v.shape[-1], dtype=v.dtype)
    result, square = None, v
    while k:
        if k & 1:
            result = square if result is None else matmul(result, square)
        k >>= 1
        if k:
            square = matmul(square, square)
    return result


def _largest(mag: Variable, axis: Any, along: int, keepdims: bool) -> Variable:
    """The largest of the nonnegative ``mag`` over ``axis`` (whose other axes have size 1), 0
    where there are none: numpy's largest-magnitude norms of an empty vector or matrix are 0,
    not an error. A zero is joined on along ``along``."""
    zero = zeros_like(sum_(mag, axis=along, keepdims=True))
    return max_(concatenate([zero, mag], axis=along), axis=axis, keepdims=keepdims)


def _vector_norm(x: Variable, ord: Any, ax: tuple[int, ...], keepdims: bool) -> Variable:
    mag = elemwise("abs", x)
    if ord is None or ord == 2:
        return elemwise("sqrt", sum_(elemwise("sqr", mag), axis=ax, keepdims=keepdims))
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; a vector takes a number, inf or -inf")
    if ord == np.inf:
        return _largest(mag, ax, ax[0], keepdims)
    if ord == -np.inf:
        return min_(mag, axis=ax, keepdims=keepdims)
    if ord == 0:
        return cast(sum_(elemwise("neq", x, 0), axis=ax, keepdims=keepdims), x.dtype)
    if ord == 1:
        return sum_(mag, axis=ax, keepdims=keepdims)
    p = float(ord)
    return elemwise("pow", sum_(elemwise("pow", mag, p), axis=ax, keepdims=keepdims), 1.0 / p)


#: The matrix norms summing magnitudes: (the axis summed over, whether the largest sum is taken).
_SUMMED = {1: (0, True), -1: (0, False), np.inf: (1, True), -np.inf: (1, False)}


def _matrix_norm(
    x: Variable, ord: Any, ax: tuple[int, int], keepdims: bool, matrices: Variable | None = None
) -> Variable:
    """The matrix norm ``ord`` of ``x`` (magnitudes) over ``ax``; the spectral ones from the
    singular values of ``matrices`` (the complex matrices ``x`` is the magnitudes of), or of
    ``x`` itself."""
    if ord is None or ord == "fro":
        return elemwise("sqrt", sum_(elemwise("sqr", x), axis=ax, keepdims=keepdims))
    if ord in (2, -2, "nuc"):
        # the singular values of each matrix, the two axes moved last
        m = x if matrices is None else matrices
        s = SVD(False, False)(dimshuffle(m, [d for d in range(m.ndim) if d not in ax] + list(ax)))
        if ord == 2:
            red = _largest(s, -1, -1, False)
        else:
            red = {-2: min_, "nuc": sum_}[ord](s, axis=-1)
        return keep_reduced_dims(red, tuple(sorted(ax)), keepdims)
    if isinstance(ord, str) or not one_of(ord, _SUMMED):
        raise ValueError(
            f"norm: ord={ord!r} is not a matrix norm; use None or 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        )
    summed, largest = _SUMMED[ord]
    sums = sum_(elemwise("abs", x), axis=ax[summed], keepdims=True)
    if largest:
        return _largest(sums, ax, ax[1 - summed], keepdims)
    return min_(sums, axis=ax, keepdims=keepdims)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Variable:
    """numpy.linalg.norm: a vector norm (``ord`` None or 2, 1, inf, -inf, 0 or any number) over
    one axis, a matrix norm (None or 'fro', 'nuc', 1, -1, 2, -2, inf, -inf) over two (rows,
    columns); with ``axis=None`` a 1-d ``x`` has a vector norm and a 2-d one a matrix norm, and
    with ``ord=None`` any ``x`` the 2-norm of all its entries. Integers are computed in float64.
    A complex ``x`` has the norm of its magnitudes (the same value), but for the spectral matrix
    norms (2, -2, 'nuc'): the singular values of the complex matrix."""
    xv = as_tensor_variable(x)
    matrices = None
    if is_complex(xv.dtype):
        matrices, x = xv, elemwise("abs", xv)
    v = linalg_input(x, "norm", range(0, 64), "a tensor")
    if axis is None:
        if ord is None:
            return elemwise("sqrt", sum_(elemwise("sqr", v), keepdims=keepdims))
        if v.ndim not in (1, 2):
            raise ValueError(
                f"norm: ord={ord!r} without axis takes a vector or a matrix, got {v.type} ({v.ndim} "
                "dims); give axis= (one axis: a vector norm, two: a matrix norm)"
            )
        axis = tuple(range(v.ndim))
    ax = ordered_axes(axis, v.ndim, "norm")
    if len(ax) == 1:
        return _vector_norm(v, ord, ax, keepdims)
    if len(ax) == 2:
        return _matrix_norm(v, ord, (ax[0], ax[1]), keepdims, matrices)
    raise ValueError(f"norm: axis takes one axis (a vector norm) or two (a matrix norm), got {axis!r}")


def _count(sizes: Any) -> Any:
    """The product of ``sizes`` (ints, or symbolic sizes where one is not known)."""
    return reduce(lambda p, s: p * s, sizes, 1)


def tensorinv(a: Any, ind: int = 2) -> Variable:
    """numpy.linalg.tensorinv: the inverse of ``a`` as a linear map from its last dims to its
    first ``ind`` ones (``a`` reshaped to a square matrix, inverted, reshaped back), of shape
    ``a.shape[ind:] + a.shape[:ind]``."""
    v = linalg_input(a, "tensorinv", range(1, 64), "a tensor of 1 or more dims", complex_ok=True)
    ind = int_arg(ind, "tensorinv", "ind", minimum=1)
    if not ind < max(v.ndim, 2):
        raise ValueError(
            f"tensorinv: ind must be an int between 1 and {v.ndim - 1}, got {ind!r} for {v.type}"
        )
    rows, cols = dim_sizes(v)[:ind], dim_sizes(v)[ind:]
    square = reshape(v, [_count(rows), _count(cols)])
    return reshape(matrix_inverse(square), cols + rows)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Variable:
    """numpy.linalg.tensorsolve: ``x`` with ``tensordot(a, x, x.ndim) == b``, ``axes`` (of
    ``a``) moved last first; ``a`` reshaped to a square matrix and solved."""
    from .slinalg import solve

    va = linalg_input(a, "tensorsolve", range(1, 64), "a tensor of 1 or more dims", complex_ok=True)
    vb = linalg_input(b, "tensorsolve", range(0, 64), "b as a tensor", complex_ok=True)
    if axes is not None:
        moved = ordered_axes(axes, va.ndim, "tensorsolve")
        va = dimshuffle(va, [d for d in range(va.ndim) if d not in moved] + list(moved))
    if vb.ndim > va.ndim:
        raise ValueError(
            f"tensorsolve: b ({vb.type}) has more dims than a ({va.type}); a's first dims are b's"
        )
    rest = dim_sizes(va)[vb.ndim :]
    for d, (n, m) in enumerate(zip(dim_sizes(va), dim_sizes(vb))):
        msg = f"tensorsolve: dim {d} of a (size {{}}) and of b (size {{}}) differ; a's first dims are b's"
        vb = sizes_checked(vb, n, m, msg)
    x = solve(reshape(va, [_count(dim_sizes(vb)), _count(rest)]), reshape(vb, [-1]))
    return reshape(x, rest)


#: PyTensor's further names, in .linalg_extra (loaded when first asked for)
_EXTRA = ("alloc_diag", "extract_diag")


def __getattr__(name: str) -> Any:
    if name in _EXTRA:
        from . import linalg_extra

        return getattr(linalg_extra, name)
    if name == "kron":  # PyTensor's nlinalg offers slinalg's kron too
        from .slinalg import kron

        return kron
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
