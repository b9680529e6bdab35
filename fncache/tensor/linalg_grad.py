"""The gradient rules of numpy.linalg's factorizations (:mod:`.nlinalg`): ``pinv``, ``eigh``,
``svd``, ``qr`` and ``lstsq``, registered with `gradient.register_grad` (``eig``'s outputs are
complex, through which no gradient flows).

Each rule is a graph of matrix products and triangular solves on the factors the forward op
already computed, per matrix of a stack (``matmul`` and ``swap_last`` on the last two dims, an
identity matrix broadcast over the batch dims). The formulas hold where the factorization is
differentiable: distinct eigenvalues (``eigh``) and singular values (``svd``'s ``U``/``Vh``),
full rank (``qr``, ``pinv`` and ``lstsq``, whose rank must not change near the point).
"""

from __future__ import annotations

from typing import Any

from ..graph.basic import Apply, Variable
from .array_ops import matmul, swap_last
from .creation import eye
from .extra_ops import tril, triu
from .gradient import backprop, register_grad
from .nlinalg import QR, SVD, Eigh, Lstsq, Pinv
from .shape_ops import dimshuffle
from .slinalg import SolveTriangular

__all__: list[str] = []


def _eye(v: Variable, n: Any) -> Variable:
    """The n x n identity in ``v``'s dtype (it broadcasts over a stack's batch dims)."""
    return eye(n, dtype=v.dtype)


def _row(v: Variable) -> Variable:
    """``v[..., None, :]``: a vector (per matrix) scaling the columns of a matrix."""
    return dimshuffle(v, list(range(v.ndim - 1)) + ["x", v.ndim - 1])


def _col(v: Variable) -> Variable:
    """``v[..., :, None]``: a vector (per matrix) scaling the rows of a matrix."""
    return dimshuffle(v, list(range(v.ndim)) + ["x"])


def _gaps(values: Variable, eye_k: Variable) -> Variable:
    """``1 / (values_j - values_i)`` off the diagonal, 0 on it (no division by zero there)."""
    return (1 - eye_k) / (_row(values) - _col(values) + eye_k)


def _read_triangle(g: Variable, lower: bool) -> Variable:
    """The gradient ``g`` of a symmetric matrix built from one triangle of the input: each
    entry of that triangle moves two entries (one on the diagonal), the other triangle none."""
    if lower:
        return tril(g) + swap_last(triu(g, 1))
    return triu(g) + swap_last(tril(g, -1))


@register_grad(Pinv)
def _pinv(node: Apply, out_grads: list) -> list:
    """Golub and Pereyra's derivative of the pseudo-inverse (as PyTensor's), for ``x`` of
    constant rank: ``(-z g^T z + z z^T g (I - x z) + (I - z x) g z^T z)^T``."""
    x, z, g = node.inputs[0], node.outputs[0], out_grads[0]
    zt, gt = swap_last(z), swap_last(g)
    left = _eye(x, x.shape[-2]) - matmul(x, z)
    right = _eye(x, x.shape[-1]) - matmul(z, x)
    grad = -matmul(matmul(z, gt), z)
    grad = grad + matmul(matmul(matmul(z, zt), g), left) + matmul(matmul(right, g), matmul(zt, z))
    grad = swap_last(grad)
    # hermitian=True reads the lower triangle (numpy's eigh)
    return [_read_triangle(grad, True) if node.op.hermitian else grad]


@register_grad(Eigh)
def _eigh(node: Apply, out_grads: list) -> list:
    """``V (diag(gw) + F o (V^T gV)) V^T``, F the inverse eigenvalue gaps (as PyTensor's
    EighGrad), kept to the triangle eigh reads."""
    x = node.inputs[0]
    w, v = node.outputs
    gw, gv = out_grads
    eye_n = _eye(x, x.shape[-1])
    vt = swap_last(v)
    inner = 0 if gw is None else eye_n * _row(gw)
    if gv is not None:
        inner = inner + _gaps(w, eye_n) * matmul(vt, gv)
    return [_read_triangle(matmul(matmul(v, inner), vt), node.op.UPLO == "L")]


def _svd_factors(node: Apply, out_grads: list) -> tuple[Variable, ...]:
    """``(U, s, Vh, gU, gs, gVh)`` of the reduced SVD: ``compute_uv=False`` computes the
    factors again, ``full_matrices=True`` keeps the first min(M, N) columns of ``U`` (rows of
    ``Vh``), whose gradients are refused (the others are not unique)."""
    x = node.inputs[0]
    if not node.op.compute_uv:
        u, s, vh = SVD(False, True)(x)
        return u, s, vh, None, out_grads[0], None
    u, s, vh = node.outputs
    gu, gs, gvh = out_grads
    if node.op.full_matrices:
        if gu is not None or gvh is not None:
            raise NotImplementedError(
                f"grad: svd(full_matrices=True) of {x.type}: U and Vh have columns (rows) beyond "
                "min(M, N) that are not unique, so they have no gradient; use "
                "svd(x, full_matrices=False) (the singular values' gradient is implemented for both)"
            )
        k = s.shape[-1]
        u, vh = u[..., :, :k], vh[..., :k, :]
    return u, s, vh, gu, gs, gvh


@register_grad(SVD)
def _svd(node: Apply, out_grads: list) -> list:
    """``U (diag(gs) + (J + J^T) S + S (K + K^T)) Vh`` plus the parts of ``gU`` and ``gV``
    outside the spans of ``U`` and ``V`` (a rectangular ``x``), J and K the projections of
    ``gU`` and ``gV`` divided by the gaps of the squared singular values."""
    x = node.inputs[0]
    u, s, vh, gu, gs, gvh = _svd_factors(node, out_grads)
    eye_k = _eye(x, s.shape[-1])
    inner = 0 if gs is None else eye_k * _row(gs)
    extra = 0
    if gu is not None or gvh is not None:
        gaps = _gaps(s * s, eye_k)
    if gu is not None:
        j = gaps * matmul(swap_last(u), gu)
        inner = inner + (j + swap_last(j)) * _row(s)
        off_u = _eye(x, x.shape[-2]) - matmul(u, swap_last(u))
        extra = extra + matmul(matmul(off_u, gu / _row(s)), vh)
    if gvh is not None:
        v, gv = swap_last(vh), swap_last(gvh)
        k = gaps * matmul(vh, gv)
        inner = inner + _col(s) * (k + swap_last(k))
        off_v = _eye(x, x.shape[-1]) - matmul(v, vh)
        extra = extra + matmul(matmul(u, swap_last(gv / _row(s))), off_v)
    return [matmul(matmul(u, inner), vh) + extra]


@register_grad(QR)
def _qr(node: Apply, out_grads: list) -> list:
    """Walter and Lehmann's derivative of the reduced QR of a square or tall ``x`` (M >= N):
    ``(gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q``, copyltu mirroring the lower
    triangle onto the upper one."""
    x = node.inputs[0]
    m, n = x.type.shape[-2:]
    if node.op.mode == "complete" or (m is not None and n is not None and m < n):
        raise NotImplementedError(
            f"grad: qr(mode={node.op.mode!r}) of {x.type}: the gradient is implemented for the "
            "reduced QR (mode 'reduced' or 'r') of a square or tall matrix (M >= N); for a wide "
            "one differentiate qr of its transpose"
        )
    if node.op.mode == "r":
        q, r = QR("reduced")(x)
        gq, gr = None, out_grads[0]
    else:
        (q, r), (gq, gr) = node.outputs, out_grads
    mm = 0
    if gr is not None:
        mm = matmul(r, swap_last(gr))
    if gq is not None:
        mm = mm - matmul(swap_last(gq), q)
    b = matmul(q, tril(mm) + swap_last(tril(mm, -1)))
    if gq is not None:
        b = b + gq
    # b R^-T: R x = b^T solved with R's upper triangle, transposed
    return [swap_last(SolveTriangular(False)(r, swap_last(b)))]


@register_grad(Lstsq)
def _lstsq(node: Apply, out_grads: list) -> list:
    """``x`` as ``pinv(a) @ b`` and ``s`` as the singular values of ``a``, differentiated as
    those (a of constant rank)."""
    a, b = node.inputs
    gx, gres, _, gs = out_grads
    if gres is not None:
        raise NotImplementedError(
            f"grad: the residuals of lstsq (of {a.type} and {b.type}) have no gradient (their "
            "shape depends on the rank); differentiate ft.sum(ft.sqr(b - ft.dot(a, x)), axis=0) "
            "computed from lstsq's x instead"
        )
    outs, grads = [], []
    if gx is not None:
        outs.append(matmul(Pinv()(a), b))
        grads.append(gx)
    if gs is not None:
        outs.append(SVD(False, False)(a))
        grads.append(gs)
    found = backprop(outs, grads, [a, b])
    return [found.get(id(a)), found.get(id(b))]
