"""The gradients of every differentiable linear-algebra function (``ft.linalg``, which holds
``ft.nlinalg``'s and ``ft.slinalg``'s) against fourth-order central differences of the same
cost computed by numpy and scipy, in float64, in both modes, stacks of matrices wherever the
function takes them. Each case is written once, as a function of a namespace: ``ft.linalg``'s
functions for the symbolic graph, numpy's and scipy's (:data:`REF`) for the reference, so the
values are checked too. Eigenvector and singular-vector costs are sign-invariant (squares, or
products that rebuild a matrix). Also: Hessians, ``Rop``/``Lop``, the gradients' dtypes and
shapes (float32 too) and integer inputs."""

from __future__ import annotations

from contextlib import nullcontext
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, fd4_differences, symbolic_like

sl = pytest.importorskip("scipy.linalg")
try:  # the references' thousands of tiny LAPACK calls are many times slower with BLAS threads
    from threadpoolctl import threadpool_limits
except ImportError:

    def threadpool_limits(limits: int) -> Any:
        return nullcontext()


def _with_b_ndim(solver: Callable[..., Any]) -> Callable[..., Any]:
    """scipy's ``solve`` or ``solve_triangular`` taking PyTensor's ``b_ndim=1`` (``b`` a stack of
    vectors, each solved with its matrix)."""

    def solve(a: np.ndarray, b: np.ndarray, *args: Any, b_ndim: int | None = None, **kw: Any) -> np.ndarray:
        if b_ndim == 1:
            return solver(a, b[..., None], *args, **kw)[..., 0]
        return solver(a, b, *args, **kw)

    return solve


def _riccati_limit(a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The stabilizing solution of the discrete algebraic Riccati equation as the limit of its
    recursion from ``Q``, for a stable ``a`` (a geometric convergence; scipy's Schur method
    takes 30 ms a call, too slow for the differences)."""
    x = q
    for _ in range(80):
        x = a.mT @ x @ a - a.mT @ x @ b @ np.linalg.solve(r + b.mT @ x @ b, b.mT @ x @ a) + q
    return x


def _eigh(a: np.ndarray, UPLO: str = "L", b: Any = None, lower: Any = None) -> Any:
    """numpy's eigh, or scipy's generalized one given ``b`` (fncache's takes both)."""
    if b is None:
        return np.linalg.eigh(a, UPLO)
    return sl.eigh(a, b, lower=lower is not False)


#: the names the cases use, as numpy and scipy compute them
REF = SimpleNamespace(
    det=np.linalg.det,
    slogdet=np.linalg.slogdet,
    inv=np.linalg.inv,
    pinv=np.linalg.pinv,
    solve=_with_b_ndim(sl.solve),
    solve_triangular=_with_b_ndim(sl.solve_triangular),
    cholesky=lambda a, lower=True: sl.cholesky(a, lower=lower),  # PyTensor's default: lower
    cho_solve=sl.cho_solve,
    lu=sl.lu,
    lu_factor=sl.lu_factor,
    lu_solve=sl.lu_solve,
    eigh=_eigh,
    eigvalsh=sl.eigvalsh,
    svd=np.linalg.svd,
    qr=sl.qr,
    nqr=np.linalg.qr,
    lstsq=np.linalg.lstsq,
    matrix_power=np.linalg.matrix_power,
    matrix_dot=np.linalg.multi_dot,
    norm=np.linalg.norm,
    expm=sl.expm,
    trace=np.trace,
    kron=np.kron,
    tensorinv=np.linalg.tensorinv,
    tensorsolve=np.linalg.tensorsolve,
    solve_continuous_lyapunov=sl.solve_continuous_lyapunov,
    solve_discrete_lyapunov=sl.solve_discrete_lyapunov,
    solve_sylvester=sl.solve_sylvester,
    solve_discrete_are=_riccati_limit,
    block_diag=sl.block_diag,
    eye=np.eye,
    # Theano's slinalg names: scipy's triangular solves and, for the symmetric one, its general
    # solve (Theano's)
    solve_lower_triangular=lambda a, b: sl.solve_triangular(a, b, lower=True),
    solve_upper_triangular=lambda a, b: sl.solve_triangular(a, b, lower=False),
    solve_symmetric=sl.solve,
)

#: the same names in fncache
FT = SimpleNamespace(**{k: getattr(ft.linalg, k, getattr(ft.slinalg, k, None)) for k in vars(REF)})
FT.nqr, FT.matrix_dot = ft.nlinalg.qr, lambda ms: ft.linalg.matrix_dot(*ms)
FT.eye = lambda n: ft.eye(n, dtype="float64")

RNG = np.random.default_rng(2026)


def _gen(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


def _square(*shape: int) -> np.ndarray:
    """Well-conditioned square matrices: random plus a multiple of the identity."""
    return _gen(*shape) + 2.5 * np.eye(shape[-1])


def _spectrum(values: list[float], *batch: int) -> np.ndarray:
    """Symmetric matrices with the eigenvalues ``values`` (distinct, spaced), random vectors."""
    q = np.linalg.qr(_gen(*batch, len(values), len(values)))[0]
    return (q * np.array(values)) @ q.swapaxes(-1, -2)


def _singular(values: list[float], m: int, *batch: int) -> np.ndarray:
    """``m x k`` (or ``k x m`` for ``m < 0``) matrices with the singular values ``values``."""
    k = len(values)
    u = np.linalg.qr(_gen(*batch, abs(m), k))[0]
    v = np.linalg.qr(_gen(*batch, k, k))[0]
    a = (u * np.array(values)) @ v.swapaxes(-1, -2)
    return a if m > 0 else a.swapaxes(-1, -2)


def _sign_free(v: Any, n: int) -> Any:
    """Squares of the ``n`` eigen- or singular vectors (columns), weighted: the same for either
    sign of a column."""
    return v * v * np.linspace(0.5, 2.0, n)


def _gram_past(q: Any, k: int) -> Any:
    """``Q2 @ Q2.T`` of the columns past ``k``: unique whatever basis of their span LAPACK picks."""
    return q[..., :, k:] @ q[..., :, k:].mT


def _usv(L: Any, a: Any) -> Any:
    """``U diag(s**2) Vh``: sign-invariant (a column of U changes sign with the row of Vh),
    and each factor's gradient contributes."""
    u, s, vh = L.svd(a, full_matrices=False)
    return (u * (s * s)[..., None, :]) @ vh


def _eigh_cost(L: Any, a: Any, uplo: str, n: int) -> Any:
    w, v = L.eigh(a, uplo)
    return [w * 0.3, _sign_free(v, n), (v * np.linspace(1.0, 2.0, n)) @ v.mT]


def _lstsq(L: Any, a: Any, b: Any) -> Any:
    x, res, _, s = L.lstsq(a, b)
    return [x, res, s]


def _dare(L: Any, a: Any, b: Any, q0: Any, r0: Any) -> Any:
    # Q and R symmetric positive definite, as the equation assumes
    return L.solve_discrete_are(a, b, q0 @ q0.mT + 0.5 * L.eye(2), r0 @ r0.mT + L.eye(1))


def _lu(L: Any, a: Any) -> Any:
    p, low, up = L.lu(a)
    pl, up2 = L.lu(a, permute_l=True)
    return [low, up * 0.5, pl, up2]


#: name: (cost builder of a namespace and the inputs, input values); the builder returns an
#: expression or a list of them, each summed into the cost as ``sum(e**2 + e)``
CASES: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    # -- determinants and inverses
    "det": (lambda L, a: L.det(a), [np.stack([_square(3, 3), -_square(3, 3)])]),
    "slogdet": (lambda L, a: [L.slogdet(a)[0] * L.slogdet(a)[1], L.slogdet(a)[1]], [_square(2, 3, 3)]),
    "inv": (lambda L, a: L.inv(a), [_square(2, 3, 3)]),
    "pinv_tall": (lambda L, a: L.pinv(a), [_singular([3.0, 2.0, 1.0], 4, 2)]),
    "pinv_wide": (lambda L, a: L.pinv(a), [_singular([3.0, 1.5], -3)]),
    "pinv_hermitian": (
        lambda L, a: L.pinv(a, hermitian=True),
        [_spectrum([1.0, -2.0, 4.0], 2) + _gen(2, 3, 3) * 0.3],
    ),
    "matrix_power": (
        lambda L, a: [L.matrix_power(a, n) * 0.1 for n in (-2, -1, 0, 1, 2, 3)],
        [_square(2, 3, 3) * 0.5],
    ),
    "matrix_dot": (lambda L, a, b, c: L.matrix_dot([a, b, c]), [_gen(2, 3), _gen(3, 4), _gen(4, 2)]),
    "trace": (lambda L, a: [L.trace(a), L.trace(a, 1), L.trace(a, -1)], [_gen(3, 4)]),
    "kron": (
        lambda L, a, b, v: [L.kron(a, b), L.kron(v, b), L.kron(a[None], b[:, None])],
        [_gen(2, 3), _gen(3, 2), _gen(2)],
    ),
    "tensorinv": (
        lambda L, a, b: [L.tensorinv(a, 2), L.tensorinv(b, 1)],
        [_square(6, 6).reshape(2, 3, 6), _square(4, 4).reshape(4, 2, 2)],
    ),
    "tensorsolve": (
        lambda L, a, b, c: [L.tensorsolve(a, b), L.tensorsolve(c, b, axes=(0,))],
        [_square(6, 6).reshape(6, 2, 3), _gen(6), np.moveaxis(_square(6, 6).reshape(6, 2, 3), -1, 0)],
    ),
    "norm_vector": (
        lambda L, v: (
            [L.norm(v, o, axis=-1) for o in (None, 1, 2, 3, 0.5, -1.5, np.inf, -np.inf, 0)]
            + [L.norm(v, 2, axis=0, keepdims=True)]
        ),
        [_gen(2, 4)],
    ),
    "norm_matrix": (
        lambda L, a: (
            [L.norm(a, o, axis=(1, 2)) for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)]
            + [L.norm(a, 1, axis=(2, 1), keepdims=True), L.norm(a[0]), L.norm(a[0], "fro")]
        ),
        [_gen(2, 3, 4)],
    ),
    "expm": (lambda L, a: L.expm(a), [_gen(2, 3, 3) * 0.8]),
    "expm_large": (lambda L, a: L.expm(a), [_gen(3, 3) * 2.5]),
    "block_diag": (
        lambda L, a, v, b: [L.block_diag(a, v, b), L.block_diag(a[None] * 2, b[None])],
        [_gen(2, 2), _gen(3), _gen(3, 1)],
    ),
    # -- linear systems
    "solve": (lambda L, a, b: L.solve(a, b), [_square(2, 3, 3), _gen(2, 3, 2)]),
    "solve_vector": (lambda L, a, b: L.solve(a, b), [_square(3, 3), _gen(3)]),
    "solve_broadcast": (
        lambda L, a, b: [L.solve(a, b), L.solve(b[0, :, :3], a)],
        [_square(3, 3), _gen(2, 3, 4)],
    ),
    "solve_stacked_vectors": (
        lambda L, a, b, c: [
            L.solve(a, b, b_ndim=1),
            L.solve(c, b, b_ndim=1),
            L.solve_triangular(a, b, trans=1, b_ndim=1),
        ],
        [_square(2, 3, 3), _gen(2, 3), _square(2, 1, 3, 3)],
    ),
    "solve_broadcast_both": (lambda L, a, b: L.solve(a, b), [_square(2, 1, 3, 3), _gen(3, 3, 2)]),
    "one_by_one": (
        lambda L, a: [
            L.inv(a),
            L.det(a),
            L.cholesky(a),
            L.eigh(a)[0],
            L.svd(a)[1],
            L.qr(a)[1],
            L.expm(a),
            L.pinv(a),
        ],
        [np.array([[1.7]])],
    ),
    "solve_transposed": (lambda L, a, b: L.solve(a, b, transposed=True), [_square(2, 3, 3), _gen(2, 3, 2)]),
    "solve_sym": (
        lambda L, a, b: [L.solve(a, b, assume_a="sym"), L.solve(a, b, assume_a="sym", lower=True)],
        [_spectrum([-1.0, 2.0, 3.0], 2) + _gen(2, 3, 3) * 0.1, _gen(2, 3, 2)],
    ),
    "solve_pos": (
        lambda L, a, b: [L.solve(a, b, assume_a="pos"), L.solve(a, b, assume_a="her", lower=True)],
        [_spectrum([1.0, 2.0, 3.0], 2) + _gen(2, 3, 3) * 0.1, _gen(2, 3, 2)],
    ),
    "solve_structured": (
        lambda L, a, b: [
            L.solve(a, b, assume_a=kind)
            for kind in ("diagonal", "tridiagonal", "upper triangular", "lower triangular")
        ],
        [_square(4, 4), _gen(4, 2)],
    ),
    "solve_banded": (
        lambda L, a, b: L.solve(a, b, assume_a="banded"),
        [np.triu(np.tril(_square(4, 4), 1), -1), _gen(4, 2)],
    ),
    "solve_triangular": (
        lambda L, a, b: [
            L.solve_triangular(a, b, trans=t, lower=low, unit_diagonal=unit)
            for t, low, unit in (
                (0, False, False),
                (0, True, True),
                (1, False, True),
                (2, True, False),
                ("T", False, False),
            )
        ],
        [_square(3, 3), _gen(3, 2)],
    ),
    "theano_solvers": (
        lambda L, a, b: [
            L.solve_lower_triangular(a, b),
            L.solve_upper_triangular(a, b),
            L.solve_symmetric(a, b),
        ],
        [_square(3, 3), _gen(3, 2)],
    ),
    "solve_triangular_vector": (
        lambda L, a, b: [L.solve_triangular(a, b, lower=True), L.solve_triangular(a, b, trans=1)],
        [_square(3, 3), _gen(3)],
    ),
    "cholesky": (
        lambda L, a: [L.cholesky(a, lower=True), L.cholesky(a, lower=False) * 0.5],
        [_spectrum([1.0, 2.0, 3.5], 2, 2) + _gen(2, 2, 3, 3) * 0.05],
    ),
    "cho_solve": (
        lambda L, c, b: [L.cho_solve((c, True), b), L.cho_solve((c.mT, False), b)],
        [np.linalg.cholesky(_spectrum([1.0, 2.0, 3.5], 2)) + _gen(2, 3, 3) * 0.05, _gen(2, 3, 2)],
    ),
    "lu": (lambda L, a: _lu(L, a), [_square(2, 3, 3)]),
    "lu_indices": (lambda L, a: L.lu(a, p_indices=True)[1:], [_square(3, 3)]),
    "lu_factor_solve": (
        lambda L, a, b, v: [
            L.lu_factor(a)[0],
            L.lu_solve(L.lu_factor(a), b),
            L.lu_solve(L.lu_factor(a), v, trans=1),
        ],
        [_square(3, 3), _gen(3, 2), _gen(3)],
    ),
    "lstsq_tall": (_lstsq, [_singular([3.0, 2.0, 1.0], 5), _gen(5, 2)]),
    "lstsq_vector": (_lstsq, [_singular([3.0, 2.0, 1.0], 4), _gen(4)]),
    "lstsq_cut_off": (
        lambda L, a, b: [L.lstsq(a, b, rcond=1e-2)[0], L.lstsq(a, b[:, 0], rcond=1e-2)[0]],
        [_singular([3.0, 2.0, 1e-7], 5), _gen(5, 2)],
    ),
    "lstsq_wide": (lambda L, a, b: _lstsq(L, a, b)[0::2], [_singular([3.0, 1.0], -3), _gen(2)]),
    "continuous_lyapunov": (
        lambda L, a, q: L.solve_continuous_lyapunov(a, q),
        [_square(2, 3, 3), _gen(2, 3, 3)],
    ),
    "discrete_lyapunov": (
        lambda L, a, q: [L.solve_discrete_lyapunov(a, q), L.solve_discrete_lyapunov(a, q, method="bilinear")],
        [_gen(2, 3, 3) * 0.3, _gen(2, 3, 3)],
    ),
    "sylvester": (
        lambda L, a, b, q: L.solve_sylvester(a, b, q),
        [_square(2, 2, 2), _square(3, 3), _gen(2, 3)],
    ),
    "discrete_are": (_dare, [_gen(2, 2) * 0.4, _gen(2, 2, 1), _gen(2, 2), _gen(1, 1)]),
    # -- spectral factorizations: distinct eigenvalues and singular values
    "eigh": (
        lambda L, a: _eigh_cost(L, a, "L", 3),
        [_spectrum([-1.0, 0.5, 2.0], 2, 2) + _gen(2, 2, 3, 3) * 0.05],
    ),
    "eigh_upper": (
        lambda L, a: _eigh_cost(L, a, "U", 4),
        [_spectrum([1.0, 2.0, 4.0, 7.0]) + _gen(4, 4) * 0.05],
    ),
    "eigh_generalized": (
        lambda L, a, b: [
            L.eigh(a, b=b)[0],
            _sign_free(L.eigh(a, b=b)[1], 3),
            _sign_free(L.eigh(a, b=b, lower=False)[1], 3),
        ],
        [
            _spectrum([-1.0, 0.5, 2.0], 2) + _gen(2, 3, 3) * 0.3,
            _spectrum([1.0, 2.0, 3.0], 2) + _gen(2, 3, 3) * 0.3,
        ],
    ),
    "eigvalsh": (
        lambda L, a, b: [L.eigvalsh(a), L.eigvalsh(a, b), L.eigvalsh(a, b, lower=False) * 0.5],
        [
            _spectrum([-1.0, 0.5, 2.0], 2) + _gen(2, 3, 3) * 0.3,
            _spectrum([1.0, 2.0, 3.0], 2) + _gen(2, 3, 3) * 0.3,
        ],
    ),
    "svd_values": (
        lambda L, a, w: [L.svd(a, compute_uv=False), L.svd(w, compute_uv=False), L.svd(a)[1]],
        [_singular([3.0, 2.0, 0.5], 4, 2), _singular([2.0, 1.0], -3, 2)],
    ),
    "svd_vectors": (
        lambda L, a: [_sign_free(L.svd(a, False)[0], 3), _sign_free(L.svd(a, False)[2].mT, 3)],
        [_singular([3.0, 2.0, 0.5], 4, 2)],
    ),
    "svd_vectors_wide": (
        lambda L, a: [_sign_free(L.svd(a, False)[0], 2), _sign_free(L.svd(a, False)[2].mT, 2)],
        [_singular([3.0, 2.0], -4, 2)],
    ),
    "svd_usv": (
        lambda L, a, w, s: [_usv(L, a), _usv(L, w), _usv(L, s)],
        [_gen(2, 4, 3), _gen(3, 5), _gen(3, 3)],
    ),
    "svd_full": (
        lambda L, a, w: [
            _gram_past(L.svd(a)[0], 2),
            _gram_past(L.svd(w)[2].mT, 2),
            _sign_free(L.svd(a)[0][..., :2], 2),
        ],
        [_singular([3.0, 1.0], 4, 2), _singular([2.0, 1.0], -4)],
    ),
    "qr_numpy": (
        lambda L, a, w: [
            L.nqr(a)[0],
            L.nqr(a)[1],
            L.nqr(a, "r"),
            L.nqr(w)[0] * L.nqr(w)[1][..., :1, :1],
            L.nqr(w, "r"),
            _gram_past(L.nqr(a, "complete")[0], 3),
            L.nqr(a, "complete")[1],
        ],
        [_gen(2, 5, 3), _gen(2, 3, 5)],
    ),
    "qr_scipy": (
        lambda L, a, w: [
            L.qr(a, mode="economic")[0],
            L.qr(a, mode="economic")[1],
            L.qr(a, mode="r")[0] if isinstance(L.qr(a, mode="r"), tuple) else L.qr(a, mode="r"),
            L.qr(w)[0],
            L.qr(w)[1],
            _gram_past(L.qr(a)[0], 3),
        ],
        [_gen(5, 3), _gen(3, 4)],
    ),
}


#: cases run again with every size known when the graph is built (the rules split the
#: factors at a known column there)
KNOWN_SIZES = {name + "_known_sizes" for name in ("svd_full", "qr_numpy")}
CASES.update({name: CASES[name.removesuffix("_known_sizes")] for name in KNOWN_SIZES})

#: Hessians of scalar costs of tiny matrices (against differences of differences)
HESSIANS: dict[str, tuple[Callable[..., Any], np.ndarray]] = {
    "det": (lambda L, a: L.det(a), _square(2, 2)),
    "eigh_vectors": (
        lambda L, a: _sign_free(L.eigh(a)[1], 2).sum(),
        _spectrum([-1.0, 2.5]) + _gen(2, 2) * 0.1,
    ),
    "inv": (lambda L, a: (L.inv(a) * np.array([[1.0, -2.0], [0.5, 3.0]])).sum(), _square(2, 2)),
    "solve": (lambda L, a: (L.solve(a, np.array([1.0, -2.0])) ** 2).sum(), _square(2, 2)),
    "cholesky": (lambda L, a: (L.cholesky(a) ** 3).sum(), _spectrum([1.0, 2.5]) + _gen(2, 2) * 0.1),
    "eigvalsh": (lambda L, a: (L.eigvalsh(a) ** 3).sum(), _spectrum([-1.0, 2.5]) + _gen(2, 2) * 0.1),
}

#: Jacobian-vector (Rop) and vector-Jacobian (Lop) products
PRODUCTS: dict[str, tuple[Callable[..., Any], np.ndarray]] = {
    "inv": (lambda L, a: L.inv(a), _square(3, 3)),
    "solve": (lambda L, a: L.solve(a, np.array([1.0, -2.0, 0.5])), _square(3, 3)),
    "cholesky": (lambda L, a: L.cholesky(a), _spectrum([1.0, 2.0, 3.5])),
    "eigh": (lambda L, a: L.eigh(a)[0], _spectrum([-1.0, 0.5, 2.0]) + _gen(3, 3) * 0.1),
    "svd": (lambda L, a: L.svd(a, compute_uv=False), _singular([3.0, 2.0, 0.5], 4)),
    "expm": (lambda L, a: L.expm(a), _gen(3, 3) * 0.8),
    "qr": (lambda L, a: L.qr(a)[1], _gen(3, 3)),
    "pinv": (lambda L, a: L.pinv(a), _singular([3.0, 1.5], -3)),
}

#: the cases whose gradients are computed in float32 too, by the C kernels (FAST_RUN)
FLOAT32 = ("cholesky", "eigh_upper", "lstsq_tall", "discrete_lyapunov")


def _cost(L: Any, name: str, xs: list) -> Any:
    built = CASES[name][0](L, *xs)
    total = 0
    for e in built if isinstance(built, (list, tuple)) else [built]:
        total = total + (e * e + e).sum()
    return total


def _along(fn: Callable[[np.ndarray], Any], x: np.ndarray, v: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Fourth-order central difference of ``fn`` at ``x`` along ``v``."""
    f = [np.asarray(fn(x + k * h * v)) for k in (2, 1, -1, -2)]
    return (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)


def _with(xs: list[np.ndarray], j: int, y: np.ndarray) -> list[np.ndarray]:
    return xs[:j] + [y] + xs[j + 1 :]


def _reference_gradients(name: str) -> tuple[float, list[np.ndarray]]:
    xs = CASES[name][1]
    cost = _cost(REF, name, xs)
    return cost, [
        fd4_differences(lambda y, j=j: _cost(REF, name, _with(xs, j, y)), x) for j, x in enumerate(xs)
    ]


def _close(got: np.ndarray, want: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    """Within ``rtol`` of the largest entry of ``want`` (and of each entry): fourth-order
    differences of O(1) inputs are good to about 1e-9 of the gradient's scale."""
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-3)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


class _Checks:
    """Outputs of one function (one compile per mode) with the checks of their values."""

    def __init__(self) -> None:
        self.inputs: list[tuple[Any, np.ndarray]] = []
        self.outputs: list[Any] = []
        self.checks: list[tuple[int, int, Callable[[list[np.ndarray]], None]]] = []

    def symbolic(self, values: list[np.ndarray], known_sizes: bool = False) -> list[Any]:
        ins = [
            ft.tensor(dtype=v.dtype.name, shape=v.shape) if known_sizes else symbolic_like(v) for v in values
        ]
        self.inputs += zip(ins, values)
        return ins

    def add(self, outputs: list[Any], check: Callable[[list[np.ndarray]], None]) -> None:
        self.checks.append((len(self.outputs), len(outputs), check))
        self.outputs += outputs

    def run(self, mode: str) -> None:
        # the graph and its C kernels are FAST_RUN's; the C compiler's own optimizations only
        # make the compile of these many kernels several times slower
        with fc.config.change_flags(cxxflags="-O0"):
            f = fc.function([i for i, _ in self.inputs], self.outputs, mode=mode, on_unused_input="ignore")
        got = f(*[v for _, v in self.inputs])
        for at, n, check in self.checks:
            check(got[at : at + n])


#: each case's cost and differences, computed once for both modes
REFERENCES: dict[str, tuple[float, list[np.ndarray]]] = {}


def _check_case(name: str, mode: str, dtype: str = "float64") -> Callable[[list[np.ndarray]], None]:
    rtol = 1e-6 if dtype == "float64" else 2e-3

    def check(got: list[np.ndarray]) -> None:
        if name not in REFERENCES:
            with threadpool_limits(1):
                REFERENCES[name] = _reference_gradients(name)
        cost, grads = REFERENCES[name]
        np.testing.assert_allclose(got[0], cost, rtol=rtol * 1e-3 if dtype == "float64" else rtol)
        for j, (g, want) in enumerate(zip(got[1:], grads)):
            assert g.dtype == dtype, f"{name}: the gradient of input {j} is {g.dtype}, the input {dtype}"
            _close(g, want, f"{name} ({dtype}, {mode}): the gradient of input {j}", rtol)

    return check


def _hessian_check(name: str) -> Callable[[list[np.ndarray]], None]:
    build, x = HESSIANS[name]
    with threadpool_limits(1):
        want = fd4_differences(lambda y: fd4_differences(lambda z: build(REF, z), y), x)

    def check(got: list[np.ndarray]) -> None:
        _close(got[0], want, f"the Hessian of {name}", 1e-5)

    return check


def _products_check(name: str, v: np.ndarray, u: np.ndarray) -> Callable[[list[np.ndarray]], None]:
    build, x = PRODUCTS[name]
    with threadpool_limits(1):
        want_r = _along(lambda y: build(REF, y), x, v)
        want_l = fd4_differences(lambda y: (u * build(REF, y)).sum(), x)

    def check(got: list[np.ndarray]) -> None:
        _close(got[0], want_r, f"Rop of {name}")
        _close(got[1], want_l, f"Lop of {name}")

    return check


def _int_outputs_check(got: list[np.ndarray]) -> None:
    assert not np.any(got[0]), "integer outputs (pivots, permutations, ranks) have a zero gradient"


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_fourth_order_differences(mode: str) -> None:
    """Every case's cost and gradients (float64, and float32 for some in FAST_RUN), the
    Hessians (FAST_COMPILE), the Jacobian products and the zero gradient of integer outputs, in
    one function."""
    checks = _Checks()
    for name, (_, xs) in CASES.items():
        for dtype in ("float64", "float32") if name in FLOAT32 and mode == "FAST_RUN" else ("float64",):
            ins = checks.symbolic([x.astype(dtype) for x in xs], name in KNOWN_SIZES)
            cost = _cost(FT, name, ins)
            checks.add([cost, *fc.grad(cost, ins)], _check_case(name, mode, dtype))
    # the Hessians (a scan of gradients each) in one mode: their C compile is the slowest part,
    # and FAST_RUN's second-order graphs are checked through Rop and Lop below
    for name, (build, x) in HESSIANS.items() if mode == "FAST_COMPILE" else ():
        (a,) = checks.symbolic([x])
        checks.add([ft.hessian(build(FT, a), a)], _hessian_check(name))
    rng = np.random.default_rng(3)
    for name, (build, x) in PRODUCTS.items():
        v, u = rng.normal(size=x.shape), rng.normal(size=np.shape(build(REF, x)))
        a, sv, su = checks.symbolic([x, v, u])
        e = build(FT, a)
        checks.add([fc.Rop(e, a, sv), fc.Lop(e, a, su)], _products_check(name, v, u))
    a, b = checks.symbolic([_square(3, 3), _gen(3)])
    count = [FT.lu_factor(a)[1], FT.lu(a, p_indices=True)[0], FT.lstsq(a, b)[2], FT.qr(a, pivoting=True)[2]]
    checks.add(
        [fc.grad(sum(ft.cast(c, "float64").sum() for c in count) + a.sum() * 0, a)], _int_outputs_check
    )
    checks.run(mode)


def test_gradient_types_and_integer_inputs() -> None:
    """Each case's gradients have their float32 inputs' types (float64 ones: in the test
    above), also where the result is float64 (the discrete Lyapunov solution); a gradient with
    respect to an integer input is refused, naming it and the cast to make."""
    for name, (_, xs) in CASES.items():
        ins = [ft.tensor(f"x{j}", "float32", shape=(None,) * x.ndim) for j, x in enumerate(xs)]
        for x, g in zip(ins, fc.grad(_cost(FT, name, ins), ins)):
            assert g.type == x.type, f"{name}: the gradient of {x.type} is {g.type}"
        ins = [ft.tensor(f"i{j}", "int32", shape=(None,) * x.ndim) for j, x in enumerate(xs)]
        with pytest.raises(
            TypeError, match=r"cannot differentiate with respect to i0 of dtype int32.*ft.cast"
        ):
            fc.grad(_cost(FT, name, ins), ins[0])


def test_eigh_and_eigvalsh_read_numpy_s_and_pytensor_s_positional_arguments() -> None:
    """numpy's ``eigvalsh(a, "U")``, PyTensor's ``eigvalsh(a, b, False)`` (``lower``) and
    ``eigh(a, b)`` (the generalized problem) mean what they mean there; an unknown LAPACK
    driver is named."""
    a, b = _spectrum([-1.0, 0.5, 2.0]) + _gen(3, 3), _spectrum([1.0, 2.0, 3.0]) + _gen(3, 3) * 0.3
    A, B = ft.dmatrix("A"), ft.dmatrix("B")
    outs = [
        ft.linalg.eigvalsh(A, "U"),
        ft.linalg.eigvalsh(A, B, False),
        ft.linalg.eigh(A, B, driver="gvd")[0],
    ]
    got = fc.function([A, B], outs, mode="FAST_COMPILE")(a, b)
    want = [np.linalg.eigvalsh(a, "U"), sl.eigvalsh(a, b, lower=False), sl.eigvalsh(a, b)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"eigh: driver must be None or one of .*'evr'.*got 'fast'"):
        ft.linalg.eigh(A, driver="fast")
