"""The edge cases of the linear-algebra gradients and dtypes: ``det`` (and its Hessian) at
singular matrices, where there is no inverse but the gradient (the matrix of cofactors) is
finite; ``slogdet`` there (log|det| = -inf, a gradient that is not finite, not an error);
``lstsq`` whose ``rcond`` drops singular values that are not 0; and complex matrices, against
numpy, or refused with a ``TypeError`` that names the function, the dtype and what to do.
Gradients against fourth-order central differences of numpy's, in float64."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import fd4_differences, symbolic_like

RNG = np.random.default_rng(2027)


def _of_rank(n: int, rank: int, *batch: int) -> np.ndarray:
    """``n x n`` matrices of rank ``rank`` (random factors)."""
    return RNG.normal(size=(*batch, n, rank)) @ RNG.normal(size=(*batch, rank, n))


def _with_singular_values(values: list[float], m: int, n: int) -> np.ndarray:
    """An ``m x n`` matrix with the singular values ``values`` (random singular vectors)."""
    k = len(values)
    u = np.linalg.qr(RNG.normal(size=(m, m)))[0][:, :k]
    v = np.linalg.qr(RNG.normal(size=(n, n)))[0][:, :k]
    return (u * np.array(values)) @ v.T


def _close(got: np.ndarray, want: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    """Within ``rtol`` of the largest entry of ``want`` (and of each entry)."""
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-3)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def test_det_gradient_and_hessian_at_singular_matrices() -> None:
    """det's gradient is the matrix of cofactors, finite for every matrix: at rank n - 1 (a
    rank-one gradient) and rank n - 2 (a zero gradient, a Hessian that is not), in a stack
    with a regular matrix, as numpy's differences; the Hessian too."""
    stack = np.stack([_of_rank(4, 4), _of_rank(4, 3), _of_rank(4, 2)])
    x = symbolic_like(stack)
    weights = np.array([0.5, -1.0, 2.0])
    cost = ft.sum(ft.det(x) * weights)
    m = symbolic_like(stack[0])
    outs = [fc.grad(cost, x)] + [ft.hessian(ft.det(m), m)]
    f = fc.function([x, m], outs, mode="FAST_COMPILE")
    grad_stack, _ = f(stack, stack[0])
    want = fd4_differences(lambda y: (np.linalg.det(y) * weights).sum(), stack)
    _close(grad_stack, want, "det's gradient at ranks 4, 3 and 2")
    assert np.abs(want[1]).max() > 0.1 and np.abs(want[2]).max() < 1e-9  # the cases they are
    for rank in (3, 2):
        a = _of_rank(3, rank)
        hess = f(stack, a)[1]
        want = fd4_differences(lambda y: fd4_differences(np.linalg.det, y), a)
        _close(hess, want, f"det's Hessian at rank {rank}", 1e-5)


def test_slogdet_at_a_singular_matrix_is_minus_inf_with_a_gradient_that_is_not_finite() -> None:
    """numpy's (0, -inf) at an exactly singular matrix; log|det|'s gradient (inv(x)^T where
    there is one) is inf or NaN there, not an error about an inverse; the regular matrix of
    the stack keeps its gradient."""
    stack = np.stack([_of_rank(3, 3), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])])
    x = symbolic_like(stack)
    sign, logdet = ft.slogdet(x)
    f = fc.function([x], [sign, logdet, fc.grad(ft.sum(logdet), x)], mode="FAST_COMPILE")
    got_sign, got_logdet, grad = f(stack)
    want_sign, want_logdet = np.linalg.slogdet(stack)
    np.testing.assert_array_equal(got_sign, want_sign)
    np.testing.assert_array_equal(got_logdet, want_logdet)
    assert want_logdet[1] == -np.inf
    _close(grad[0], np.linalg.inv(stack[0]).T, "log|det|'s gradient of the regular matrix", 1e-12)
    assert not np.isfinite(grad[1]).any(), grad[1]


#: (singular values, rows, columns, b's shape, rcond): the cut-off drops values that are not
#: 0, far from it (the rank is constant near the point); the square one also has a 0
LSTSQ_TRUNCATED = [
    ([3.0, 2.0, 0.5, 0.3], 5, 4, (5, 2), 0.2),
    ([3.0, 0.5, 0.3], 3, 5, (3,), 0.2),
    ([3.0, 2.0, 0.4, 0.0], 4, 4, (4, 2), 0.2),
]


@pytest.mark.parametrize("values, m, n, b_shape, rcond", LSTSQ_TRUNCATED)
def test_lstsq_gradient_where_rcond_drops_singular_values_that_are_not_zero(
    values: list[float], m: int, n: int, b_shape: tuple[int, ...], rcond: float
) -> None:
    """The gradient of numpy's truncated solution (the kept singular vectors turn as ``a``
    moves), in ``a`` and ``b``, for a tall, a wide and a square rank-deficient ``a``, with
    ``rcond`` a number and a symbolic scalar."""
    a0, b0 = _with_singular_values(values, m, n), RNG.normal(size=b_shape)
    w = RNG.normal(size=(n,) + b_shape[1:])
    a, b, r = symbolic_like(a0), symbolic_like(b0), ft.dscalar("r")
    costs = [ft.sum(ft.linalg.lstsq(a, b, rcond=rc)[0] * w) for rc in (rcond, r)]
    f = fc.function([a, b, r], [g for c in costs for g in fc.grad(c, [a, b])], mode="FAST_COMPILE")
    got = f(a0, b0, rcond)

    def cost(y: np.ndarray, z: np.ndarray) -> float:
        return float((np.linalg.lstsq(y, z, rcond=rcond)[0] * w).sum())

    assert np.linalg.lstsq(a0, b0, rcond=rcond)[2] < len([v for v in values if v > 0])
    want = [fd4_differences(lambda y: cost(y, b0), a0), fd4_differences(lambda z: cost(a0, z), b0)]
    for i, g in enumerate(got):
        _close(g, want[i % 2], f"lstsq(rcond={rcond}) {'ab'[i % 2]}'s gradient ({i // 2}: symbolic rcond)")


def _complex(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape) + 1j * RNG.normal(size=shape)


def _complex_differences(fn: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    """``dC/dRe + i dC/dIm`` of a real cost of complex ``z`` (fncache's convention)."""
    re = fd4_differences(lambda x: fn(x + 1j * z.imag), z.real)
    im = fd4_differences(lambda y: fn(z.real + 1j * y), z.imag)
    return re + 1j * im


#: Complex-differentiable functions of a complex matrix ``z`` (and ``w``): fncache's and
#: numpy's (scipy's)
HOLOMORPHIC: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "det": (lambda L, z, w: L.det(z), lambda z, w: np.linalg.det(z)),
    "inv": (lambda L, z, w: L.inv(z), lambda z, w: np.linalg.inv(z)),
    "solve": (lambda L, z, w: L.solve(z, w), lambda z, w: np.linalg.solve(z, w)),
    "solve_triangular": (
        lambda L, z, w: L.solve_triangular(z, w, trans="C"),
        lambda z, w: np.linalg.solve(np.triu(z).conj().T, w),
    ),
    "matrix_power": (lambda L, z, w: L.matrix_power(z, -2), lambda z, w: np.linalg.matrix_power(z, -2)),
    "expm": (lambda L, z, w: L.expm(z * 0.5), None),
    # log|det| and the sign, a complex number of modulus 1 turning with the phase of det
    "slogdet": (
        lambda L, z, w: L.slogdet(z)[1] * (1.5 + 0.5j) + L.slogdet(z)[0] * (2 - 1j),
        lambda z, w: np.linalg.slogdet(z)[1] * (1.5 + 0.5j) + np.linalg.slogdet(z)[0] * (2 - 1j),
    ),
}


def test_complex_matrices_differentiate_through_the_complex_differentiable_functions() -> None:
    """det, slogdet, inv, solve, solve_triangular (``trans="C"``: the conjugate transpose),
    powers and expm of a complex matrix: values as numpy's and scipy's, and the gradient of a
    real cost, ``dC/dRe + i dC/dIm``, against their differences."""
    sl = pytest.importorskip("scipy.linalg")
    z0, w0 = _complex(3, 3) + 3 * np.eye(3), _complex(3, 2)
    z, w = symbolic_like(z0), symbolic_like(w0)
    outs = []
    for build, _ in HOLOMORPHIC.values():
        v = build(ft.linalg, z, w)
        cost = ft.sum(ft.abs(v) ** 2 + ft.real(v * (0.5 - 1j)))
        outs += [v, *fc.grad(cost, [z, w], disconnected_inputs="ignore")]
    got = fc.function([z, w], outs, mode="FAST_COMPILE")(z0, w0)
    for i, (name, (_, ref)) in enumerate(HOLOMORPHIC.items()):
        ref = ref or (lambda zz, ww: sl.expm(zz * 0.5))

        def cost_of(zz: np.ndarray, ww: np.ndarray, ref: Any = ref) -> float:
            v = np.asarray(ref(zz, ww))
            return float(np.sum(np.abs(v) ** 2 + np.real(v * (0.5 - 1j))))

        value, gz, gw = got[3 * i : 3 * i + 3]
        _close(value, np.asarray(ref(z0, w0)), f"{name}: the value", 1e-12)
        _close(gz, _complex_differences(lambda zz: cost_of(zz, w0), z0), f"{name}: d/dz")
        _close(gw, _complex_differences(lambda ww: cost_of(z0, ww), w0), f"{name}: d/dw")


def _weights(v: Any) -> np.ndarray:
    """Fixed complex weights shaped as ``v`` (a numpy value) for a real cost of it."""
    return np.cos(np.arange(np.size(v)) * 0.7).reshape(np.shape(v)) * (1 - 0.5j)


def _phase_free_cost(xp: Any, outs: Any) -> Any:
    """A real cost of factors that their phases (a complex eigenvector's, a pair of singular
    vectors', a rotation of a complement's basis) do not change: ``|f|^2`` and the
    eigenvalues or singular values (real) weighted; ``xp`` is numpy or fncache.tensor."""
    total = 0.0
    for f, w in outs:
        total = total + xp.sum(xp.abs(f) ** 2 * np.real(w)) + xp.sum(xp.real(f * w))
    return total


def _factor_cases(L: Any, z: Any, c: Any) -> dict[str, tuple[list, list]]:
    """name -> the phase-free factors computed by ``L`` (fncache's linalg, or numpy's and
    scipy's functions) of ``z`` (square) and ``c`` (tall)."""
    w, v = L.eigh(z, "U")
    u, s, vh = L.svd(c, full_matrices=True)
    uf = u[..., :, 2:]
    uu, _, vvh = L.svd(z)
    q, r = L.qr(c)
    # positive definite, with values cholesky does not read: in the other triangle, and an
    # imaginary part on the diagonal
    pd = z @ z.conj().T + 3 * np.eye(3) + 1j * np.eye(3) * z.real
    return {
        "eigvalsh": [L.eigvalsh(z)],
        "eigh": [w, v * v.conj(), v[..., :, :1] @ v[..., :, :1].conj().T],
        "svd(compute_uv=False)": [L.svd(c, compute_uv=False)],
        "svd": [
            s,
            uu * uu.conj(),
            uu @ vvh,
            vvh.conj() * vvh,
            uf @ uf.conj().T,
            u[..., :, :2] @ vh[..., :2, :],
        ],
        "cholesky": [
            L.cholesky(pd + z * np.tri(3, k=-1).T, lower=True),
            L.cholesky(pd + z * np.tri(3, k=-1), lower=False),
        ],
        "qr": [*L.qr(c, mode="economic"), *L.qr(c.T, mode="economic"), *L.qr(z, mode="economic")],
        "qr(full)": [q[..., :, :2], q[..., :, 2:] @ q[..., :, 2:].conj().T, r],
        "pinv": [L.pinv(c), L.pinv(z, hermitian=True)],
        "norm": [L.norm(z, 2), L.norm(c, -2), L.norm(z, "nuc")],
        "lstsq": [*L.lstsq(c, c * c)[:2], *L.lstsq(c, c[..., :, 0] * c[..., :, 1])[:2], L.lstsq(c, c)[3]],
        # c's singular values are 3 and 1: rcond=0.5 drops the second
        "lstsq(rcond)": [L.lstsq(c, c * c, rcond=0.5)[0]],
    }


def test_complex_factorizations_differentiate_through_complex_matrices() -> None:
    """eigh and eigvalsh, svd (its singular values alone too), cholesky, qr, pinv, lstsq and
    the spectral norms of complex matrices: the gradient ``dC/dRe + i dC/dIm`` of a real cost of the factors that
    their phases do not change, against the differences of numpy's and scipy's (each reads the
    same triangle, the real part of its diagonal, as fncache's)."""
    sl = pytest.importorskip("scipy.linalg")

    class Ref:
        """numpy.linalg with scipy's cholesky and qr, as fncache's linalg."""

        def __getattr__(self, name: str) -> Any:
            return getattr(np.linalg, name)

        cholesky, qr = staticmethod(sl.cholesky), staticmethod(sl.qr)

    u0, v0 = np.linalg.qr(_complex(4, 2))[0], np.linalg.qr(_complex(2, 2))[0]
    z0, c0 = _complex(3, 3), u0 @ np.diag([3.0, 1.0]) @ v0.conj().T
    z, c = symbolic_like(z0), symbolic_like(c0)
    got_cases = _factor_cases(ft.linalg, z, c)
    want_cases = _factor_cases(Ref(), z0, c0)
    outs = []
    for name, fs in got_cases.items():
        ws = [_weights(f) for f in want_cases[name]]
        outs += fc.grad(_phase_free_cost(ft, zip(fs, ws)), [z, c], disconnected_inputs="ignore")
    got = fc.function([z, c], outs, mode="FAST_COMPILE")(z0, c0)
    for i, name in enumerate(got_cases):
        ws = [_weights(f) for f in want_cases[name]]

        def cost(zz: np.ndarray, cc: np.ndarray, name: str = name, ws: list = ws) -> float:
            return float(_phase_free_cost(np, zip(_factor_cases(Ref(), zz, cc)[name], ws)))

        _close(got[2 * i], _complex_differences(lambda zz: cost(zz, c0), z0), f"{name}: d/dz")
        _close(got[2 * i + 1], _complex_differences(lambda cc: cost(z0, cc), c0), f"{name}: d/dc")


def test_real_only_linalg_functions_refuse_a_complex_matrix_saying_what_to_do() -> None:
    """The functions that take real matrices only refuse a complex one when the graph is
    built, naming the function, the type and the fix."""
    z = ft.zmatrix("z")
    L = ft.linalg
    for build, fix in [
        (lambda: L.solve(z, z, assume_a="her"), r"solve: .*complex128.*assume_a='gen'"),
        (lambda: L.eigh(z, b=z), r"eigh: .*complex128.*the generalized problem .*takes real matrices"),
        (lambda: L.cho_solve((z, True), z), r"cho_solve: .*complex128.*\[\[Re A, -Im A\], \[Im A, Re A\]\]"),
        (lambda: L.solve_discrete_are(z, z, z, z), r"solve_discrete_are: .*complex128.*give real matrices"),
    ]:
        with pytest.raises(TypeError, match=fix):
            build()


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
def test_complex_transposed_solve_uses_the_transpose_not_the_conjugate_transpose(mode: Any) -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)) + 4 * np.eye(4)
    b = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
    A, B = ft.zmatrix("A"), ft.zmatrix("B")
    x = fc.function([A, B], ft.linalg.solve(A, B, transposed=True), mode=mode)(a, b)
    np.testing.assert_allclose(x, np.linalg.solve(a.T, b), rtol=1e-12)
    assert not np.allclose(x, np.linalg.solve(a.conj().T, b))
