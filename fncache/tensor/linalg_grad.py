"""The gradient rules of numpy.linalg's factorizations (:mod:`.nlinalg`): ``pinv``, ``eigh``,
``svd``, ``qr`` and ``lstsq``, registered with `gradient.register_grad` (``eig``'s outputs are
complex, through which no gradient flows).

Each rule is a graph of matrix products and triangular solves on the factors the forward op
already computed, per matrix of a stack (``matmul`` and ``swap_last`` on the last two dims, an
identity matrix broadcast over the batch dims). The formulas hold where the factorization is
differentiable: distinct eigenvalues (``eigh``) and singular values (``svd``'s ``U``/``Vh``),
full rank (``qr`` of its first min(M, N) columns, ``pinv`` and ``lstsq``, whose rank must not
change near the point).

The columns a full ``svd`` or a complete ``qr`` adds beyond min(M, N) span the complement of
the first ones, which fixes them only up to a rotation within that complement; their gradient
is the one that leaves that rotation still (:func:`_fold_complement`), exact for any cost the
rotation does not change (``Q2 @ Q2.T``, or a column times its sign where the complement has
one dimension).

A complex matrix has the same rules with conjugate transposes (its gradient ``dC/dRe + i
dC/dIm``, `gradient`'s convention), written once: ``conj_swap_last`` is ``swap_last`` for a real
one, whose graph stays as it was. A complex eigenvector, or pair of singular vectors, is unique
only up to a phase; the rules are those of a cost the phases do not change (PyTorch's).
"""

from __future__ import annotations

from typing import Any

from ..graph.basic import Apply, Variable
from ..graph.types import is_complex
from .array_ops import conj_swap_last, matmul, swap_last
from .creation import arange, eye, zeros, zeros_like
from .elemwise import elemwise
from .extra_ops import tril, triu
from .gradient import backprop, conj_grad, register_grad
from .nlinalg import QR, SVD, Eigh, Lstsq, Pinv, symmetric_from
from .shape_ops import concatenate, dimshuffle
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
    """The gradient ``g`` of a symmetric (Hermitian) matrix built from one triangle of the
    input: each entry of that triangle moves two entries (one on the diagonal), the other
    triangle none. A complex entry moves its mirror's conjugate, and LAPACK reads only the real
    part of the diagonal, whose imaginary part has no gradient."""
    if lower:
        g = tril(g) + conj_swap_last(triu(g, 1))
    else:
        g = triu(g) + conj_swap_last(tril(g, -1))
    if not is_complex(g.dtype):
        return g
    return g - 1j * _eye(g, g.shape[-1]) * elemwise("imag", g)


def _pinv_grad(x: Variable, z: Variable, g: Variable) -> Variable:
    """Golub and Pereyra's derivative of the pseudo-inverse ``z`` of ``x`` (as PyTensor's), for
    ``x`` of constant rank: ``(-z g^H z + z z^H g (I - x z) + (I - z x) g z^H z)^H``."""
    zt, gt = conj_swap_last(z), conj_swap_last(g)
    left = _eye(x, x.shape[-2]) - matmul(x, z)
    right = _eye(x, x.shape[-1]) - matmul(z, x)
    grad = -matmul(matmul(z, gt), z)
    grad = grad + matmul(matmul(matmul(z, zt), g), left) + matmul(matmul(right, g), matmul(zt, z))
    return conj_swap_last(grad)


@register_grad(Pinv, complex_values="rule")
def _pinv(node: Apply, out_grads: list) -> list:
    """`_pinv_grad`; with ``hermitian=True`` of the symmetric matrix read from x's lower
    triangle, whose pseudo-inverse ``z`` is (the other triangle may hold anything)."""
    x, z, g = node.inputs[0], node.outputs[0], out_grads[0]
    if not node.op.hermitian:
        return [_pinv_grad(x, z, g)]
    # hermitian=True reads the lower triangle (numpy's eigh)
    return [_read_triangle(_pinv_grad(symmetric_from(x, True), z, g), True)]


@register_grad(Eigh, complex_values="rule")
def _eigh(node: Apply, out_grads: list) -> list:
    """``V (diag(gw) + F o (V^H gV)) V^H``, F the inverse eigenvalue gaps (as PyTensor's
    EighGrad), kept to the triangle eigh reads. A complex eigenvector is unique only up to a
    phase: the gradient is that of a cost the phases do not change (``|v|``, ``v v^H``), as
    PyTorch's; a cost that reads them has none."""
    x = node.inputs[0]
    w, v = node.outputs
    gw, gv = out_grads
    eye_n = _eye(x, x.shape[-1])
    vt = conj_swap_last(v)
    inner = 0 if gw is None else eye_n * _row(gw)
    if gv is not None:
        inner = inner + _gaps(w, eye_n) * matmul(vt, gv)
    return [_read_triangle(matmul(matmul(v, inner), vt), node.op.UPLO == "L")]


def _fold_complement(q: Variable, gq: Variable, k: Any) -> Variable:
    """The gradient of the first ``k`` columns of an orthogonal ``q`` (per matrix) carrying that
    of its other columns ``Q2``, which span the complement of the first ones ``Q1`` and are
    unique only up to a rotation within it: ``gQ1 - Q2 gQ2^H Q1``, from ``dQ2 = -Q1 dQ1^H Q2``
    (``Q^H dQ`` antihermitian, its block within the complement 0)."""
    q1, q2 = q[..., :, :k], q[..., :, k:]
    return gq[..., :, :k] - matmul(matmul(q2, conj_swap_last(gq[..., :, k:])), q1)


def _svd_factors(node: Apply, out_grads: list) -> tuple[Variable, ...]:
    """``(U, s, Vh, gU, gs, gVh)`` of the reduced SVD: ``compute_uv=False`` computes the
    factors again, ``full_matrices=True`` keeps the first min(M, N) columns of ``U`` (rows of
    ``Vh``), the gradients of the others folded into theirs."""
    x = node.inputs[0]
    if not node.op.compute_uv:
        u, s, vh = SVD(False, True)(x)
        return u, s, vh, None, out_grads[0], None
    u, s, vh = node.outputs
    gu, gs, gvh = out_grads
    if node.op.full_matrices:
        k = s.shape[-1]
        if gu is not None:
            gu = _fold_complement(u, gu, k)
        if gvh is not None:
            gvh = conj_swap_last(_fold_complement(conj_swap_last(vh), conj_swap_last(gvh), k))
        u, vh = u[..., :, :k], vh[..., :k, :]
    return u, s, vh, gu, gs, gvh


@register_grad(SVD, complex_values="rule")
def _svd(node: Apply, out_grads: list) -> list:
    """``U (diag(gs) + (J + J^H) S + S (K + K^H)) Vh`` plus the parts of ``gU`` and ``gV``
    outside the spans of ``U`` and ``V`` (a rectangular ``x``), J and K the projections of
    ``gU`` and ``gV`` divided by the gaps of the squared singular values. A complex pair of
    singular vectors is unique only up to a common phase, which moves ``Im diag(U^H dA V)``:
    its part, ``i Im diag(U^H gU - V^H gV) / 2s``, is exact for a cost the phases do not
    change (as PyTorch's); a cost that reads them has no gradient."""
    x = node.inputs[0]
    u, s, vh, gu, gs, gvh = _svd_factors(node, out_grads)
    eye_k = _eye(x, s.shape[-1])
    inner = 0 if gs is None else eye_k * _row(gs)
    extra = 0
    if gu is not None or gvh is not None:
        gaps = _gaps(s * s, eye_k)
    phase = 0
    if gu is not None:
        uhgu = matmul(conj_swap_last(u), gu)
        j = gaps * uhgu
        inner = inner + (j + conj_swap_last(j)) * _row(s)
        off_u = _eye(x, x.shape[-2]) - matmul(u, conj_swap_last(u))
        extra = extra + matmul(matmul(off_u, gu / _row(s)), vh)
        phase = uhgu
    if gvh is not None:
        v, gv = conj_swap_last(vh), conj_swap_last(gvh)
        vhgv = matmul(vh, gv)
        k = gaps * vhgv
        inner = inner + _col(s) * (k + conj_swap_last(k))
        off_v = _eye(x, x.shape[-1]) - matmul(v, vh)
        extra = extra + matmul(matmul(u, conj_swap_last(gv / _row(s))), off_v)
        phase = phase - vhgv
    if is_complex(x.dtype) and (gu is not None or gvh is not None):
        inner = inner + 0.5j * eye_k * elemwise("imag", phase) / _row(s)
    return [matmul(matmul(u, inner), vh) + extra]


def _qr_square_or_tall(q: Variable, r: Variable, gq: Variable | None, gr: Variable | None) -> Variable:
    """Walter and Lehmann's derivative of the reduced QR of a square or tall matrix:
    ``(gQ + Q copyltu(M)) R^-H`` with ``M = R gR^H - gQ^H Q``, copyltu mirroring the lower
    triangle onto the upper one (conjugated) and keeping the real part of the diagonal (LAPACK's
    R has a real diagonal, so ``Q^H dQ``'s is imaginary)."""
    mm = 0
    if gr is not None:
        mm = matmul(r, conj_swap_last(gr))
    if gq is not None:
        mm = mm - matmul(conj_swap_last(gq), q)
    if is_complex(q.dtype):
        low = tril(mm, -1)
        mm = low + conj_swap_last(low) + _eye(q, mm.shape[-1]) * elemwise("real", mm)
    else:
        mm = tril(mm) + swap_last(tril(mm, -1))
    b = matmul(q, mm)
    if gq is not None:
        b = b + gq
    # b R^-H: R x = b^H solved with R's upper triangle, conjugate transposed
    return conj_swap_last(SolveTriangular(False)(r, conj_swap_last(b)))


@register_grad(QR, complex_values="rule")
def _qr(node: Apply, out_grads: list) -> list:
    """The reduced QR of ``x = [X | Y]``, X its first K = min(M, N) columns, is ``Q [U | V]``
    with ``Q U`` the QR of X and ``V = Q^H Y`` (as PyTorch's): X's gradient is the square or
    tall one (`_qr_square_or_tall`) with ``gQ + Y gV^H``, Y's is ``Q gV`` (none when M >= N).
    A complete QR's extra columns of Q are folded in (`_fold_complement`); the rows of R past
    K are zeros whatever x is."""
    x = node.inputs[0]
    if node.op.mode == "raw":
        raise NotImplementedError(
            "grad: qr's mode='raw' (LAPACK's Householder reflectors) has no gradient; "
            "differentiate mode='reduced' or 'complete' (Q and R)"
        )
    if node.op.mode == "r":
        q, r = QR("reduced")(x)
        gq, gr = None, out_grads[0]
    else:
        (q, r), (gq, gr) = node.outputs, out_grads
    m, n = x.type.shape[-2:]
    k = elemwise("minimum", x.shape[-2], x.shape[-1]) if m is None or n is None else min(m, n)
    if node.op.mode == "complete":
        if gq is not None:
            gq = _fold_complement(q, gq, k)
        gr = None if gr is None else gr[..., :k, :]
        q, r = q[..., :, :k], r[..., :k, :]
    y = x[..., :, k:]
    gu = gv = None
    if gr is not None:
        gu, gv = gr[..., :, :k], gr[..., :, k:]
        gy = matmul(y, conj_swap_last(gv))
        gq = gy if gq is None else gq + gy
    gx = _qr_square_or_tall(q, r[..., :, :k], gq, gu)
    return [concatenate([gx, zeros_like(y) if gv is None else matmul(q, gv)], axis=-1)]


def _residual_weights(gres: Variable, b: Variable) -> Variable:
    """``gres`` per column of ``b`` (a vector: its one column), or zeros where lstsq's
    residuals came back empty (a rank deficient or not tall ``a``): ``gres`` padded with K
    zeros and cut to its first K entries, K the number of columns."""
    k = 1 if b.ndim == 1 else b.shape[-1]
    return concatenate([gres, zeros((k,), dtype=gres.dtype)])[:k]


def _dropped_values_grad(a: Variable, rank: Variable, gz: Variable) -> Variable:
    """What `_pinv_grad` leaves out of the gradient of ``z``, the pseudo-inverse of ``a``
    truncated to its ``rank`` largest singular values, where the ones dropped are not 0: the
    kept singular vectors turn towards the dropped ones as ``a`` moves. With ``a = U S Vh``
    (thin), ``M = Vh gz U`` and, for i kept and j dropped, ``D = 1 / (s_i^2 - s_j^2)``:
    ``U (X + Y^T) Vh``, ``X_ij = D s_j (M_ij + conj(M_ji) s_j / s_i) / s_i`` and
    ``Y_ij = D s_j (M_ji + conj(M_ij) s_j / s_i) / s_i``; 0 where the dropped ``s_j`` are 0
    (the constant-rank case `_pinv_grad` is exact for)."""
    u, s, vh = SVD(False, True)(a)
    kept = elemwise("lt", arange(s.shape[-1]), rank)
    pair = elemwise("and_", _col(kept), _row(elemwise("invert", kept)))
    si = _col(elemwise("switch", kept, s, 1))  # s_i, 1 where i is dropped (never read)
    sj = _row(s)
    gap = elemwise("switch", pair, si * si - sj * sj, 1)
    d = elemwise("switch", pair, sj / (gap * si), 0)
    m = matmul(matmul(vh, gz), u)
    x = d * (m + conj_swap_last(m) * sj / si)
    y = d * (swap_last(m) + conj_grad(m) * sj / si)
    return matmul(matmul(u, x + swap_last(y)), vh)


@register_grad(Lstsq, complex_values="rule")
def _lstsq(node: Apply, out_grads: list) -> list:
    """``x`` as ``z @ b``, ``z`` the pseudo-inverse with lstsq's cut-off (``rcond``: the
    singular values it drops stay dropped, as near the point where none is at the cut-off),
    computed by the same op with the identity for ``b``: ``gb = z^T gx`` and ``a``'s as
    `_pinv_grad`'s with ``gz = gx b^T``, plus, where ``rcond`` is given and may drop singular
    values that are not 0, `_dropped_values_grad` (the default cut-off drops only values
    within rounding of 0, whose part is as small). ``s`` as the singular values of ``a``. The
    residuals ``|b - a x|^2`` per column, at the minimum over ``x``, move with ``a`` and ``b``
    alone: ``-2 r x^T`` and ``2 r`` times their gradient, ``r = b - a x``. A symbolic ``rcond``
    (a cut-off, constant near the point) gets none."""
    a, b = node.inputs[:2]
    gx, gres, _, gs = out_grads
    ga = gb = None
    if gx is not None:
        z = node.op(a, _eye(a, a.shape[0]), *node.inputs[2:])[0]
        gz = _col(gx) * _row(conj_grad(b)) if b.ndim == 1 else matmul(gx, conj_swap_last(b))
        ga, gb = _pinv_grad(a, z, gz), matmul(conj_swap_last(z), gx)
        if node.op.rcond is not None or node.op.rcond_input:
            ga = ga + _dropped_values_grad(a, node.outputs[2], gz)
    if gs is not None:
        ga_s = backprop([SVD(False, False)(a)], [gs], [a])[id(a)]
        ga = ga_s if ga is None else ga + ga_s
    if gres is not None:
        x = node.outputs[0]
        w = _residual_weights(gres, b)
        r = (b - matmul(a, x)) * (2 * (w[0] if b.ndim == 1 else w))
        ga_res = -(_col(r) * _row(conj_grad(x)) if b.ndim == 1 else matmul(r, conj_swap_last(x)))
        ga = ga_res if ga is None else ga + ga_res
        gb = r if gb is None else gb + r
    return [ga, gb] + [None] * (len(node.inputs) - 2)
