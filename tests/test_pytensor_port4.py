"""What PyTensor's own tests check of sorting, linear algebra (``nlinalg``, ``slinalg``), the
special functions of ``tensor.special``, elementwise ops and reductions, products and ``scan``,
written again for fncache (the first rounds, ``test_pytensor_port3.py``,
``test_extra_ops_port.py`` and ``test_grad_ported*.py``, have creation, indexing, math, shapes
and the gradients of the array functions): values and dtypes against numpy and scipy,
gradients against central finite differences in float64, static shapes, scipy's keywords
(``solve``'s every ``assume_a``, ``transposed`` and ``b_ndim``, ``solve_triangular``'s ``trans``
and ``unit_diagonal``, ``cholesky``'s ``on_error``, every ``check_finite``), symbolic axes and
``stable`` sorts, norms of complex tensors, ``scan``'s updates as pairs, 0-d integer arrays
taken as ints, and clear errors for bad arguments and at run time.

Where fncache follows numpy rather than PyTensor (``kron`` of two vectors, ``norm`` of a stack
without ``axis``, a sum of bools in int64) the numpy result is checked. Each case runs under
the Python linker (a compile costs nothing there); each area also runs once compiled to C,
every case one output of one function."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import scipy.linalg as sla
from scipy import special

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.scan import until
from fcutil import (
    as_list,
    assert_same,
    fd_check_case,
    fd_check_grads,
    on_slice,
    run_case,
    run_cases_in_one_function,
    symbolic_like,
)

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261204)
sl, nl = ft.slinalg, ft.nlinalg

#: (expression builder, reference, input values[, relative tolerance]): both take the inputs
#: in order and return one array or a list of them.
Case = tuple


def _u(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.asarray(RNG.uniform(lo, hi, size=shape))


def _spd(n: int) -> np.ndarray:
    m = RNG.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def _i(v: int) -> np.ndarray:
    return np.asarray(v, dtype="int64")


M, X3, V = _u(3, 4), _u(2, 3, 4), _u(6)
SQ, PD, TALL = _u(4, 4), _spd(4), _u(5, 3)
TIES = np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [0.0, 0.0, 5.0, 0.0, -1.0]])
B4, B42 = _u(4), _u(4, 2)
W234 = np.arange(24.0).reshape(2, 3, 4)  # weights that make a cost of every entry differ


def _solve_as(kind: str) -> np.ndarray:
    """PD made into the matrix scipy's ``assume_a=kind`` takes (its other entries zero)."""
    if kind == "diagonal":
        return np.diag(np.diag(PD))
    if kind in ("tridiagonal", "banded"):
        return np.triu(np.tril(PD, 1), -1)
    if kind == "upper triangular":
        return np.triu(PD)
    if kind == "lower triangular":
        return np.tril(PD)
    return PD


# -- sorting (tests/tensor/test_sort.py) -------------------------------------------------------
SORT: dict[str, Case] = {
    "sort_default_last_axis": (ft.sort, np.sort, (M,)),
    "sort_axis_none": (lambda a: ft.sort(a, None), lambda a: np.sort(a, None), (X3,)),
    "sort_symbolic_axis": (
        lambda a, k: [ft.sort(a, k), ft.sort(a, -k - 1)],
        lambda a, k: [np.sort(a, int(k)), np.sort(a, -int(k) - 1)],
        (X3, _i(1)),
    ),
    "sort_symbolic_int8_axis_mergesort": (
        lambda a, k: ft.sort(a, k, "mergesort"),
        lambda a, k: np.sort(a, int(k)),
        (M, np.asarray(0, dtype="int8")),
    ),
    "sort_stable_and_methods": (
        lambda a: [ft.sort(a, stable=True), a.sort(0, stable=False), a.argsort(stable=True)],
        lambda a: [np.sort(a, stable=True), np.sort(a, 0), np.argsort(a, stable=True)],
        (TIES,),
    ),
    "sort_ints_and_nan_last": (
        lambda a, b: [ft.sort(a), ft.sort(b, 0)],
        lambda a, b: [np.sort(a), np.sort(b, 0)],
        (np.array([3, -1, 7, 0], dtype="int16"), np.array([[np.nan, 1.0], [-np.inf, np.nan], [2.0, 0.0]])),
    ),
    "argsort_default": (ft.argsort, np.argsort, (M,)),
    "argsort_axis_none": (lambda a: ft.argsort(a, None), lambda a: np.argsort(a, None), (X3,)),
    "argsort_symbolic_axis": (
        lambda a, k: ft.argsort(a, k),
        lambda a, k: np.argsort(a, int(k)),
        (X3, _i(0)),
    ),
    "argsort_stable_ties": (
        lambda a: [ft.argsort(a, stable=True), ft.argsort(a, kind="mergesort"), ft.argsort(a, 0, "stable")],
        lambda a: [np.argsort(a, stable=True), np.argsort(a, kind="stable"), np.argsort(a, 0, kind="stable")],
        (TIES,),
    ),
    "argsort_symbolic_axis_stable": (
        lambda a, k: ft.argsort(a, k, stable=True),
        lambda a, k: np.argsort(a, int(k), stable=True),
        (TIES, _i(-1)),
    ),
}

# -- numpy.linalg's (tests/tensor/test_nlinalg.py) ---------------------------------------------
_QR_MODES = ("reduced", "complete", "r")


def _kron_cases() -> dict[str, Case]:
    out = {}
    for s0 in [(2,), (2, 3), (2, 3, 2)]:
        for s1 in [(3,), (3, 2), (2, 1, 2)]:
            name = "kron_" + "x".join(map(str, s0)) + "_" + "x".join(map(str, s1))
            out[name] = (sl.kron, np.kron, (_u(*s0), _u(*s1)))
    return out


NLINALG: dict[str, Case] = {
    "pinv_wide": (ft.pinv, np.linalg.pinv, (_u(3, 5),), 1e-9),
    "pinv_float32": (ft.pinv, np.linalg.pinv, (_u(4, 2).astype("float32"),), 1e-4),
    "matrix_inverse": (ft.matrix_inverse, np.linalg.inv, (SQ,), 1e-9),
    "matrix_dot_of_four": (
        lambda a, b, c, d: nl.matrix_dot(a, b, c, d),
        lambda a, b, c, d: a @ b @ c @ d,
        (SQ, SQ.T, PD, SQ),
        1e-12,
    ),
    **{
        f"qr_{mode}": (
            lambda a, mode=mode: ft.qr(a, mode),
            lambda a, mode=mode: np.linalg.qr(a, mode),
            (TALL,),
            1e-9,
        )
        for mode in _QR_MODES
    },
    "qr_raw": (
        lambda a, s: [*ft.qr(a, "raw"), *ft.qr(s, "raw")],
        lambda a, s: [*np.linalg.qr(a, "raw"), *np.linalg.qr(s, "raw")],
        (TALL, X3),
        1e-9,
    ),
    "qr_wide_complete": (lambda a: ft.qr(a, "complete"), lambda a: np.linalg.qr(a, "complete"), (M,), 1e-9),
    **{
        f"svd_{name}_full{full}_uv{uv}": (
            lambda a, full=full, uv=uv: ft.svd(a, full_matrices=full, compute_uv=uv),
            lambda a, full=full, uv=uv: [np.abs(r) for r in as_list(np.linalg.svd(a, full, uv))],
            (v,),
            1e-9,
        )
        for name, v in [("square", SQ), ("tall", TALL), ("wide", M), ("stack", X3)]
        for full in (True, False)
        for uv in (True, False)
    },
    "tensorsolve_float32_by_float64": (
        ft.tensorsolve,
        np.linalg.tensorsolve,
        (np.eye(24, dtype="float32").reshape(6, 4, 2, 12), _u(6, 4)),
        1e-12,
    ),
    "tensorsolve_int32_by_float64": (
        ft.tensorsolve,
        np.linalg.tensorsolve,
        (np.eye(24, dtype="int32").reshape(6, 4, 2, 12), _u(6, 4)),
        1e-12,
    ),
    "det": (ft.det, np.linalg.det, (_u(5, 5),), 1e-9),
    "slogdet": (ft.slogdet, np.linalg.slogdet, (_u(5, 5),), 1e-9),
    "trace_rectangular": (
        lambda a, b: [ft.trace(a), ft.trace(b)],
        lambda a, b: [np.trace(a), np.trace(b)],
        (M, M.T),
        1e-12,
    ),
    "eigh_lower_and_upper": (
        lambda a: [ft.eigh(a)[0], ft.eigh(a, "U")[0], ft.eigvalsh(a)],
        lambda a: [np.linalg.eigh(a)[0], np.linalg.eigh(a, "U")[0], np.linalg.eigvalsh(a)],
        (PD,),
        1e-9,
    ),
    "lstsq_ints_symbolic_rcond": (
        lambda a, b, r: ft.lstsq(a, b, r)[0],
        lambda a, b, r: np.linalg.lstsq(a, b, rcond=float(r))[0],
        (np.array([[2, 1], [3, 4]]), np.array([[17, 20], [43, 50]]), _i(1)),
        1e-9,
    ),
    "lstsq_symbolic_rcond_cuts_small_singular_values": (
        lambda a, b, r: ft.lstsq(a, b, r)[:3],
        lambda a, b, r: list(np.linalg.lstsq(a, b, rcond=float(r))[:3]),
        (np.diag([1.0, 1e-3, 1.0])[:, :2] + 0.0, _u(3), np.asarray(1e-2)),
        1e-9,
    ),
    **{
        f"matrix_power_{n}": (
            lambda a, n=n: ft.matrix_power(a, n),
            lambda a, n=n: np.linalg.matrix_power(a, n),
            (np.array([[0.1231101, 0.72381381], [0.28748201, 0.43036511]]),),
            1e-9,
        )
        for n in (-1, 0, 1, 2, 3, 11)
    },
    **{
        f"norm_{'vector' if len(core) == 1 else 'matrix'}_{o}_keepdims{kd}": (
            lambda a, o=o, kd=kd: nl.norm(a, o, keepdims=kd),
            lambda a, o=o, kd=kd: np.linalg.norm(a, o, keepdims=kd),
            (_u(*core),),
            1e-9,
        )
        for core in [(4,), (4, 3)]
        for o in [None, np.inf, -np.inf, 1, -1, 2, -2]
        for kd in (True, False)
    },
    **{
        f"norm_complex_{'vector' if len(core) == 1 else 'matrix'}_{o}": (
            lambda a, o=o: nl.norm(a, o),
            lambda a, o=o: np.linalg.norm(a, o),
            ((_u(*core) + 1j * _u(*core)).astype("complex128" if len(core) == 1 else "complex64"),),
            1e-5,
        )
        for core in [(4,), (4, 3)]
        for o in [None, np.inf, -np.inf, 1, -1] + ([2, -2, 0, 3] if len(core) == 1 else ["fro"])
    },
    "norm_of_rows": (lambda a: nl.norm(a, 1, axis=-1), lambda a: np.linalg.norm(a, 1, axis=-1), (M,), 1e-12),
    "tensorinv_ind_1_and_2": (
        lambda a, b: [ft.tensorinv(a, ind=1), ft.tensorinv(b)],
        lambda a, b: [np.linalg.tensorinv(a, ind=1), np.linalg.tensorinv(b)],
        (_u(6, 2, 3), _u(2, 3, 6)),
        1e-9,
    ),
    "kron_commutes_with_pinv": (
        lambda a, b: ft.pinv(sl.kron(a, b)),
        lambda a, b: np.kron(np.linalg.pinv(a), np.linalg.pinv(b)),
        (_u(2, 3), _u(4, 3, 2)),
        1e-9,
    ),
    **_kron_cases(),
}

# -- scipy.linalg's (tests/tensor/test_slinalg.py) ---------------------------------------------
_ASSUME = ("gen", "general", "sym", "symmetric", "her", "hermitian", "pos", "positive definite")
_ASSUME += ("diagonal", "tridiagonal", "banded", "upper triangular", "lower triangular")

SLINALG: dict[str, Case] = {
    "cholesky_lower_and_upper": (
        lambda a: [sl.cholesky(a), sl.cholesky(a, lower=False)],
        lambda a: [sla.cholesky(a, lower=True), sla.cholesky(a)],
        (PD,),
        1e-12,
    ),
    "cholesky_on_error_nan": (
        lambda a, b: [sl.cholesky(a, on_error="nan"), sl.cholesky(b, on_error="nan")],
        lambda a, b: [np.linalg.cholesky(a), np.full((4, 4), np.nan)],
        (PD, -PD),
        1e-12,
    ),
    "cholesky_on_error_nan_in_a_stack": (
        lambda a: sl.cholesky(a, on_error="nan"),
        lambda a: np.stack([np.linalg.cholesky(a[0]), np.full((4, 4), np.nan)]),
        (np.stack([PD, -PD]),),
        1e-12,
    ),
    **{
        f"solve_assume_{kind.replace(' ', '_')}": (
            lambda a, b, c, kind=kind: [sl.solve(a, b, assume_a=kind), sl.solve(a, c, assume_a=kind)],
            lambda a, b, c, kind=kind: [sla.solve(a, b, assume_a=kind), sla.solve(a, c, assume_a=kind)],
            (_solve_as(kind), B4, B42),
            1e-9,
        )
        for kind in _ASSUME
    },
    "solve_sym_lower": (
        lambda a, b: sl.solve(a, b, assume_a="sym", lower=True),
        lambda a, b: sla.solve(a, b, assume_a="sym", lower=True),
        (np.tril(PD) + np.triu(SQ, 1), B4),
        1e-9,
    ),
    "solve_pos_reads_one_triangle": (
        lambda a, b: [sl.solve(a, b, assume_a="pos"), sl.solve(a.T, b, assume_a="pos", lower=True)],
        lambda a, b: [sla.solve(a, b, assume_a="pos"), sla.solve(a.T, b, assume_a="pos", lower=True)],
        (np.triu(PD) + np.tril(SQ, -1), B4),
        1e-9,
    ),
    "solve_transposed": (
        lambda a, b, c: [sl.solve(a, b, transposed=True), sl.solve(a, c, transposed=True)],
        lambda a, b, c: [sla.solve(a, b, transposed=True), sla.solve(a, c, transposed=True)],
        (SQ, B4, B42),
        1e-9,
    ),
    "solve_b_ndim_1_batches_vectors": (
        lambda a, b: sl.solve(a, b, b_ndim=1),
        lambda a, b: np.stack([np.linalg.solve(a, r) for r in b]),
        (SQ, _u(3, 4)),
        1e-9,
    ),
    "solve_b_ndim_2": (
        lambda a, b: sl.solve(a, b, b_ndim=2),
        np.linalg.solve,
        (np.stack([SQ, PD]), _u(2, 4, 3)),
        1e-9,
    ),
    **{
        f"solve_triangular_trans_{trans}_unit_{unit}": (
            lambda a, b, trans=trans, unit=unit: [
                sl.solve_triangular(a, b, trans=trans, lower=True, unit_diagonal=unit),
                sl.solve_triangular(a, b, trans=trans, unit_diagonal=unit),
            ],
            lambda a, b, trans=trans, unit=unit: [
                sla.solve_triangular(a, b, trans=trans, lower=True, unit_diagonal=unit),
                sla.solve_triangular(a, b, trans=trans, unit_diagonal=unit),
            ],
            (PD + SQ, B42),
            1e-9,
        )
        for trans in (0, 1, 2, "N", "T", "C")
        for unit in (False, True)
    },
    "solve_triangular_b_ndim_1": (
        lambda a, b: sl.solve_triangular(a, b, lower=True, b_ndim=1),
        lambda a, b: np.stack([sla.solve_triangular(a, r, lower=True) for r in b]),
        (PD, _u(3, 4)),
        1e-9,
    ),
    "cho_solve_upper": (
        lambda c, b: sl.cho_solve((c, False), b),
        lambda c, b: sla.cho_solve((c, False), b),
        (sla.cholesky(PD), B42),
        1e-9,
    ),
    "lu_solve_transposed": (
        lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=1),
        lambda a, b: sla.lu_solve(sla.lu_factor(a), b, trans=1),
        (SQ, B42),
        1e-9,
    ),
    "lu_rectangular": (lambda a: sl.lu(a), sla.lu, (TALL,), 1e-9),
    "lu_permute_l": (lambda a: sl.lu(a, permute_l=True), lambda a: sla.lu(a, permute_l=True), (SQ,), 1e-9),
    "expm": (sl.expm, sla.expm, (SQ / 2,), 1e-9),
    "solve_discrete_lyapunov_both_methods": (
        lambda a, q: [
            sl.solve_discrete_lyapunov(a, q, "direct"),
            sl.solve_discrete_lyapunov(a, q, "bilinear"),
        ],
        lambda a, q: [
            sla.solve_discrete_lyapunov(a, q, "direct"),
            sla.solve_discrete_lyapunov(a, q, "bilinear"),
        ],
        (SQ / 4, PD),
        1e-8,
    ),
    "solve_continuous_lyapunov": (
        sl.solve_continuous_lyapunov,
        sla.solve_continuous_lyapunov,
        (SQ - 4 * np.eye(4), PD),
        1e-8,
    ),
    "block_diag_of_three": (
        lambda a, b, c: sl.block_diag(a, b, c),
        sla.block_diag,
        (M, _u(1, 2), _u(2, 2)),
        1e-12,
    ),
    "eigvalsh_generalized": (sl.eigvalsh, sla.eigvalsh, (PD, PD + np.eye(4)), 1e-9),
}

# -- tensor.special (tests/tensor/test_special.py, test_math_scipy.py) --------------------------
_AXES = [None, 0, 1, -1, (0, 1), (0, 2), (1, 2), (0, 1, 2)]

SPECIAL: dict[str, Case] = {
    **{
        f"softmax_family_axis_{ax}": (
            lambda a, ax=ax: [
                ft.special.softmax(a, axis=ax),
                ft.special.log_softmax(a, axis=ax),
                ft.logsumexp(a, axis=ax),
            ],
            lambda a, ax=ax: [
                special.softmax(a, axis=ax),
                special.log_softmax(a, axis=ax),
                special.logsumexp(a, axis=ax),
            ],
            (X3 * 30,),
            1e-12,
        )
        for ax in _AXES
    },
    "poch": (
        lambda z, m: ft.special.poch(z, m),
        special.poch,
        (np.array([0.5, 1.0, 2.5, 7.0, 3.0, -1.5]), np.array([0.0, 1.0, 2.0, 3.5, -0.5, 2.0])),
        1e-12,
    ),
    "poch_integer_m": (
        lambda z, m: ft.special.poch(z, m),
        special.poch,
        (np.array([1.5, 2.0, 3.0]), np.array([0, 1, 4], dtype="int64")),
        1e-12,
    ),
    "factorial": (
        lambda n: ft.special.factorial(n),
        special.factorial,
        (np.array([0, 1, 2, 5, 10, 20, -1], dtype="int64"),),
        1e-12,
    ),
    "factorial_of_floats": (
        lambda n: ft.special.factorial(n),
        lambda n: special.factorial(n, exact=False),
        (np.array([0.0, 0.5, 3.5, 7.0, -2.5]),),
        1e-12,
    ),
    "beta": (
        lambda a, b: ft.special.beta(a, b),
        special.beta,
        (np.array([0.5, 1.0, 2.0, 30.0, 200.0, -0.5]), np.array([0.5, 3.0, 2.5, 40.0, 300.0, 1.5])),
        1e-11,
    ),
    "betaln": (
        ft.special.betaln,
        special.betaln,
        (np.array([0.5, 1.0, 2.0, 30.0, 200.0]), np.array([0.5, 3.0, 2.5, 40.0, 300.0])),
        1e-12,
    ),
}

# -- elementwise ops and reductions (tests/tensor/test_elemwise.py) -----------------------------
_I8 = np.array([[1, -2, 3], [0, 5, -6]], dtype="int8")
_U8 = np.array([[200, 1, 7], [0, 255, 3]], dtype="uint8")
_B = np.array([[True, False, True], [True, True, True]])

ELEMWISE: dict[str, Case] = {
    "variadic_add_and_mul": (
        lambda a, b, c: [ft.add(a, b, c), ft.mul(a, b, c), ft.add(a, b, c, a), ft.add(a), ft.mul(a)],
        lambda a, b, c: [a + b + c, a * b * c, a + b + c + a, a, a],
        (M, M[:1], M[:, :1]),
        1e-12,
    ),
    "variadic_add_of_mixed_dtypes": (
        lambda a, b, c: [ft.add(a, b, c), ft.mul(c, b, a)],
        lambda a, b, c: [a + b + c, c * b * a],
        (_I8, _U8, np.float32(1.5) * np.ones((2, 3), "float32")),
        1e-6,
    ),
    "fill_method": (
        lambda a, b: [a.fill(3.5), b.fill(a[0, 0])],
        lambda a, b: [np.full(a.shape, 3.5), np.full(b.shape, a[0, 0])],
        (M, _U8),
        1e-12,
    ),
    "dimshuffle_patterns": (
        lambda a: [a.dimshuffle(1, "x", 0), a.dimshuffle([1, 0]), a.dimshuffle("x", 0, "x", 1)],
        lambda a: [a.T[:, None, :], a.T, a[None, :, None, :]],
        (M,),
        1e-12,
    ),
    **{
        f"reductions_{dt}": (
            lambda a: (
                [ft.sum(a), ft.prod(a, axis=0), ft.max(a, axis=1), ft.min(a), ft.mean(a, axis=-1)]
                + [
                    ft.any(a),
                    ft.all(a, axis=0),
                    ft.sum(a, dtype="float32"),
                    ft.sum(a, axis=(0, 1), keepdims=True),
                ]
            ),
            lambda a: (
                [np.sum(a), np.prod(a, axis=0), np.max(a, axis=1), np.min(a), np.mean(a, axis=-1)]
                + [
                    np.any(a),
                    np.all(a, axis=0),
                    np.sum(a, dtype="float32"),
                    np.sum(a, axis=(0, 1), keepdims=True),
                ]
            ),
            (v,),
            1e-6,
        )
        for dt, v in [
            ("bool", _B),
            ("int8", _I8),
            ("uint8", _U8),
            ("float32", M.astype("float32")),
            ("float64", M),
        ]
    },
    "reductions_over_empty_axes": (
        lambda a: [ft.sum(a, axis=0), ft.prod(a, axis=1), ft.any(a > 0, axis=0), ft.all(a > 0)],
        lambda a: [np.sum(a, 0), np.prod(a, 1), np.any(a > 0, 0), np.all(a > 0)],
        (np.zeros((0, 3)),),
        1e-12,
    ),
}

# -- products (the user-visible side of tests/tensor/test_blas.py) -------------------------------
BLAS: dict[str, Case] = {
    "gemm_shape": (
        lambda z, a, x, y, b: b * z + a * ft.dot(x, y),
        lambda z, a, x, y, b: b * z + a * (x @ y),
        (_u(3, 2), np.asarray(0.7), M, _u(4, 2), np.asarray(-1.3)),
        1e-12,
    ),
    "gemm_transposed_operands": (
        lambda z, x, y: z - ft.dot(x.T, y.T),
        lambda z, x, y: z - x.T @ y.T,
        (_u(4, 2), M, _u(2, 3)),
        1e-12,
    ),
    "gemv_and_ger": (
        lambda A, x, y, v: [v + 2 * ft.dot(A, x), A + 0.5 * ft.outer(y, x)],
        lambda A, x, y, v: [v + 2 * (A @ x), A + 0.5 * np.outer(y, x)],
        (M, _u(4), _u(3), _u(3)),
        1e-12,
    ),
    "dot_mixed_dtypes": (
        lambda a, b, c: [ft.dot(a, b), ft.dot(c, b), ft.dot(a, c.T)],
        lambda a, b, c: [a @ b, c @ b, a @ c.T],
        (M.astype("float32"), _u(4, 2), np.array([[1, 2, 3, 4]], dtype="int32")),
        1e-6,
    ),
    "dot_of_stacks": (
        lambda a, b: [ft.dot(a, b), ft.matmul(a, b[None].repeat(2, 0))],
        lambda a, b: [np.dot(a, b), np.matmul(a, b[None].repeat(2, 0))],
        (X3, _u(4, 5)),
        1e-12,
    ),
    "batched_dot_of_each_rank": (
        lambda a, b, c: [
            ft.batched_dot(a, b),
            ft.batched_dot(a, c),
            ft.batched_dot(c, c),
            ft.batched_dot(c[:, 0], b),
        ],
        lambda a, b, c: [
            np.einsum("bij,bjk->bik", a, b),
            np.einsum("bij,bj->bi", a, c),
            (c * c).sum(1),
            c[:, 0, None, None] * b,
        ],
        (X3, _u(2, 4, 5), _u(2, 4)),
        1e-12,
    ),
    "batched_tensordot": (
        lambda a, b: [ft.batched_tensordot(a, b, [[2], [1]]), ft.batched_tensordot(a, b, 1)],
        lambda a, b: [np.einsum("bij,bjk->bik", a, b)] * 2,
        (X3, _u(2, 4, 5)),
        1e-12,
    ),
    "matvec_vecmat_vecdot": (
        lambda a, v, w: [ft.matvec(a, v), ft.vecmat(w, a), ft.vecdot(a, a, axis=1)],
        lambda a, v, w: [np.matvec(a, v), np.vecmat(w, a), np.vecdot(a, a, axis=1)],
        (X3, _u(2, 4), _u(3)),
        1e-12,
    ),
    "dot_of_empty": (ft.dot, np.dot, (np.zeros((3, 0)), np.zeros((0, 2))), 1e-12),
}


# -- scan (tests/scan/test_basic.py) ----------------------------------------------------------
def _scan_power(a: Any, k: Any) -> Any:
    out, _ = fc.scan(lambda prev, a: prev * a, outputs_info=ft.ones_like(a), non_sequences=a, n_steps=k)
    return out


def _scan_taps(x: Any, h0: Any) -> Any:
    out, _ = fc.scan(
        lambda x2, x1, h3, h1: x2 + x1 * h3 - 0.5 * h1,
        sequences={"input": x, "taps": [-2, 1]},
        outputs_info={"initial": h0, "taps": [-3, -1]},
    )
    return out


def _np_taps(x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    h = list(h0)
    for t in range(2, len(x) - 1):
        h.append(x[t - 2] + x[t + 1] * h[-3] - 0.5 * h[-1])
    return np.array(h[3:])


def _scan_backwards_two_outputs(x: Any, s: Any) -> Any:
    out, _ = fc.scan(lambda x, acc: [x * 2, acc + x], sequences=x, outputs_info=[None, s], go_backwards=True)
    return out


def _scan_foldr(x: Any, s: Any) -> Any:
    return [fc.foldl(lambda x, acc: acc * 0.5 - x, x, s)[0], fc.foldr(lambda x, acc: acc * 0.5 - x, x, s)[0]]


def _np_fold(x: np.ndarray, s: np.ndarray) -> list[np.ndarray]:
    left, right = s, s
    for v in x:
        left = left * 0.5 - v
    for v in x[::-1]:
        right = right * 0.5 - v
    return [left, right]


SCAN: dict[str, Case] = {
    "power_by_non_sequence": (
        _scan_power,
        lambda a, k: np.cumprod(np.ones((int(k), 3)) * a, 0),
        (_u(3), _i(4)),
    ),
    "n_steps_a_0d_array": (
        lambda a: fc.scan(lambda p: p * a, outputs_info=a, n_steps=np.array(3))[0],
        lambda a: np.stack([a**2, a**3, a**4]),
        (_u(2),),
    ),
    "zero_steps": (_scan_power, lambda a, k: np.zeros((0, 3)), (_u(3), _i(0))),
    "sequence_and_output_taps": (_scan_taps, _np_taps, (_u(8), _u(3))),
    "go_backwards_with_an_output_not_fed_back": (
        _scan_backwards_two_outputs,
        lambda x, s: [x[::-1] * 2, s + np.cumsum(x[::-1])],
        (_u(5), np.asarray(0.25)),
    ),
    "foldl_and_foldr": (_scan_foldr, _np_fold, (_u(5), np.asarray(1.5))),
    "map_over_rows": (
        lambda m: fc.map(lambda r: ft.sort(r) * ft.sum(r), m)[0],
        lambda m: np.sort(m, 1) * m.sum(1)[:, None],
        (M,),
    ),
    "integer_carry": (
        lambda k: fc.scan(
            lambda i, acc: acc + i * i, sequences=ft.arange(k), outputs_info=ft.constant(np.int64(0))
        )[0],
        lambda k: np.cumsum(np.arange(int(k)) ** 2),
        (_i(5),),
    ),
}

AREAS = {
    "sort": SORT,
    "nlinalg": NLINALG,
    "slinalg": SLINALG,
    "special": SPECIAL,
    "elemwise": ELEMWISE,
    "blas": BLAS,
    "scan": SCAN,
}
ALL = [(area, name) for area, cases in AREAS.items() for name in cases]


def _check_case(name: str, got: list, case: Case) -> None:
    _, ref, vals = case[:3]
    rtol = case[3] if len(case) > 3 else None
    with np.errstate(all="ignore"):
        want = as_list(ref(*vals))
    assert len(got) == len(want), name
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        if name.startswith("svd"):  # singular vectors are unique up to sign
            g = np.abs(g)
        assert_same(g, w, f"{name} output {k}", rtol=rtol, atol=None if rtol is None else rtol * 1e-2)


@pytest.mark.parametrize("area, name", ALL, ids=[f"{a}-{n}" for a, n in ALL])
def test_values_match_numpy_and_scipy(area: str, name: str) -> None:
    build, _, vals = AREAS[area][name][:3]
    _check_case(name, run_case(build, vals, PY), AREAS[area][name])


@pytest.mark.parametrize("area", list(AREAS))
def test_values_compiled_to_c(area: str) -> None:
    """Every case of the area as outputs of one compiled function (one gcc call)."""
    cases = AREAS[area]
    got = run_cases_in_one_function({name: (case[0], case[2]) for name, case in cases.items()})
    for name, case in cases.items():
        _check_case(name, got[name], case)


# -- gradients against central finite differences ----------------------------------------------
def _svd_cost(which: str) -> Callable[..., Any]:
    """The factors ``which`` names (``u``, ``s``, ``v``) of a reduced svd, summed, each singular
    vector times the sign of its largest entry (fixed near the point: the cost is smooth)."""

    def build(a: Any) -> Any:
        u, s, vh = ft.svd(a, full_matrices=False)
        terms = []
        if "u" in which:
            terms.append(ft.sum(u * ft.sgn(ft.sum(u, axis=0))))
        if "s" in which:
            terms.append(ft.sum(s))
        if "v" in which:
            terms.append(ft.sum(vh * ft.sgn(ft.sum(vh, axis=1, keepdims=True))))
        return ft.add(*terms) if len(terms) > 1 else terms[0]

    return build


GRADS: dict[str, tuple[Callable[..., Any], tuple]] = {
    **{f"sort_axis_{ax}": (lambda a, ax=ax: ft.sort(a, ax) * W234, (X3,)) for ax in (-3, -2, -1, 0, 1, 2)},
    "sort_axis_none": (lambda a: ft.sort(a, None) * ft.arange(24), (X3,)),
    "sort_symbolic_axis": (lambda a, k: ft.sort(a, k) * W234, (X3, _i(1))),
    "pinv": (ft.pinv, (_u(3, 4),)),
    "matrix_inverse": (ft.matrix_inverse, (SQ,)),
    "det": (ft.det, (_u(4, 4),)),
    "matrix_power_3": (lambda a: ft.matrix_power(a, 3), (SQ / 2,)),
    "matrix_power_minus_2": (lambda a: ft.matrix_power(a, -2), (SQ + 3 * np.eye(4),)),
    "slogdet": (lambda a: ft.slogdet(a)[1], (_u(4, 4),)),
    **{
        f"qr_{mode}_{shape}": (
            lambda a, mode=mode: ft.sum(ft.qr(a, mode)[1]) if mode != "r" else ft.qr(a, mode),
            (_u(*shape),),
        )
        for mode in _QR_MODES
        for shape in [(3, 3), (5, 3)]
    },
    "qr_reduced_q": (lambda a: ft.qr(a)[0], (TALL,)),
    **{
        f"svd_{which}_{shape}": (_svd_cost(which), (_u(*shape),))
        for which in ("u", "s", "v", "usv")
        for shape in [(3, 3), (4, 3), (3, 4)]
    },
    "svd_values_only": (lambda a: ft.svd(a, compute_uv=False), (_u(4, 3),)),
    "eigh_of_a_gram_matrix": (
        lambda a: [ft.eigh(ft.dot(a, a.T))[0], ft.eigh(ft.dot(a, a.T), "U")[0]][1],
        (_u(4, 4),),
    ),
    "tensorinv": (lambda a: ft.tensorinv(a, ind=1), (_u(4, 2, 2) + np.eye(4).reshape(4, 2, 2),)),
    "lstsq_symbolic_rcond": (lambda a, b: ft.lstsq(a, b, ft.constant(1e-10))[0], (TALL, _u(5))),
    "cholesky_on_error_nan": (lambda a: sl.cholesky(ft.dot(a, a.T) + 4 * ft.eye(4), on_error="nan"), (SQ,)),
    "cholesky_upper_of_a_gram_matrix": (
        lambda a: sl.cholesky(ft.dot(a, a.T) + ft.eye(4), lower=False),
        (SQ,),
    ),
    "eigvalsh_generalized": (
        lambda a, b: ft.dot(sl.eigvalsh(a + a.T, b), ft.arange(1.0, 5.0)),
        (SQ, PD + 3 * np.eye(4)),
    ),
    "expm_symmetric": (sl.expm, (SQ + SQ.T,)),
    "expm_real_spectrum": (
        sl.expm,
        (np.diag([1.0, 2.0, 0.5, 1.5]) @ (SQ + SQ.T) @ np.diag([1.0, 0.5, 2.0, 1 / 1.5]),),
    ),
    "expm_complex_spectrum": (sl.expm, (SQ,)),
    "solve_gen_lower_ignored": (lambda a, b: sl.solve(a, b, lower=True), (0.5 * SQ + np.eye(4), B42)),
    "solve_transposed": (lambda a, b: sl.solve(a, b, transposed=True), (SQ + 3 * np.eye(4), B42)),
    "solve_pos_lower": (lambda a, b: sl.solve(a, b, assume_a="pos", lower=True), (PD, B4)),
    "solve_diagonal": (lambda a, b: sl.solve(a, b, assume_a="diagonal"), (PD, B42)),
    "solve_tridiagonal": (lambda a, b: sl.solve(a, b, assume_a="tridiagonal"), (PD, B42)),
    "solve_b_ndim_1": (lambda a, b: sl.solve(a, b, b_ndim=1), (PD, _u(3, 4))),
    **{
        f"solve_triangular_trans_{trans}_unit": (
            lambda a, b, trans=trans: sl.solve_triangular(
                a, b, trans=trans, lower=trans == "T", unit_diagonal=True
            ),
            (SQ / 4, B42),
        )
        for trans in ("N", "T")
    },
    "softmax_axis_tuple": (lambda a: ft.special.softmax(a, axis=(0, 2)), (X3,)),
    "log_softmax_axis_none": (lambda a: ft.special.log_softmax(a, axis=None), (X3,)),
    "logsumexp_axis_1": (lambda a: ft.logsumexp(a, axis=1, keepdims=True), (X3,)),
    "poch": (lambda z, m: ft.special.poch(z, m), (_u(5, lo=0.5, hi=3), _u(5, lo=0.5, hi=3))),
    "factorial": (lambda n: ft.special.factorial(n), (_u(5, lo=0.2, hi=4),)),
    "beta": (lambda a, b: ft.special.beta(a, b), (_u(5, lo=0.5, hi=3), _u(5, lo=0.5, hi=3))),
    "variadic_add_mul": (lambda a, b, c: ft.add(a, b, c) * ft.mul(a, b, c), (M, M[:1], M[:, :1])),
    "gemm_shape": (lambda z, a, x, y: 0.5 * z + a * ft.dot(x, y.T), (_u(3, 2), np.asarray(0.7), M, _u(2, 4))),
    "scan_taps": (_scan_taps, (_u(7), _u(3, lo=0.2, hi=0.8))),
    "scan_power": (lambda a: _scan_power(a, 3), (_u(3),)),
    "scan_backwards": (lambda x, s: _scan_backwards_two_outputs(x, s)[1], (_u(5), np.asarray(0.25))),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_finite_differences(name: str) -> None:
    fd_check_case(name, *GRADS[name], mode=PY)


def test_gradients_compiled_to_c() -> None:
    """One case of each area, all in one function."""
    names = [
        "sort_symbolic_axis",
        "svd_usv_(4, 3)",
        "solve_triangular_trans_T_unit",
        "poch",
        "variadic_add_mul",
    ]
    names += ["scan_taps"]
    ins, cases, values = [], {}, []
    for name in names:
        build, vals = GRADS[name]
        vals = tuple(np.asarray(v) for v in vals)
        at = len(ins)
        ins += [symbolic_like(v) for v in vals]
        values += list(vals)
        used = [at + k for k, v in enumerate(vals) if v.dtype.kind == "f"]
        cases[name] = (on_slice(build, at, len(vals)), used)
    fd_check_grads(ins, cases, [values], mode="FAST_RUN")


def test_the_gradient_of_argsort_is_zero() -> None:
    x = ft.dtensor3("x")
    g = fc.grad(ft.sum(ft.argsort(x, axis=-3) * x), x)  # the indices times x: their factor alone
    assert_same(fc.function([x], g, mode=PY)(X3), np.argsort(X3, 0).astype("float64"))


# -- static shapes and dtypes ------------------------------------------------------------------
def _static() -> dict[str, tuple[Callable[[], Any], tuple, str]]:
    t234 = ft.tensor(shape=(2, 3, 4))
    a33, b32 = ft.tensor(shape=(3, 3)), ft.tensor(shape=(3, 2))
    k = ft.lscalar("k")
    return {
        "sort": (lambda: ft.sort(t234), (2, 3, 4), "float64"),
        "sort_axis_none": (lambda: ft.sort(t234, None), (24,), "float64"),
        "sort_symbolic_axis": (lambda: ft.sort(t234, k), (2, 3, 4), "float64"),
        "argsort_symbolic_axis": (lambda: ft.argsort(t234, k, stable=True), (2, 3, 4), "int64"),
        "det": (lambda: ft.det(ft.matrix()), (), "float64"),
        "slogdet_sign": (lambda: ft.slogdet(ft.fmatrix())[0], (), "float32"),
        "svd_s": (lambda: ft.svd(ft.tensor(shape=(5, 4, 3)), compute_uv=False), (5, 3), "float64"),
        "qr_complete_q": (lambda: ft.qr(ft.tensor(shape=(5, 3)), "complete")[0], (5, 5), "float64"),
        "tensorsolve_upcast": (
            lambda: ft.tensorsolve(ft.tensor4(dtype="float32"), ft.matrix(dtype="float64")),
            (None, None),
            "float64",
        ),
        "qr_raw_h": (lambda: ft.qr(ft.tensor(shape=(5, 3)), "raw")[0], (3, 5), "float64"),
        "qr_raw_tau": (lambda: ft.qr(ft.tensor(shape=(2, 3, 4)), "raw")[1], (2, 3), "float64"),
        "cholesky_nan": (lambda: sl.cholesky(a33, on_error="nan"), (3, 3), "float64"),
        "solve_transposed": (lambda: sl.solve(a33, b32, transposed=True), (3, 2), "float64"),
        "solve_b_ndim_1": (lambda: sl.solve(a33, ft.tensor(shape=(5, 3)), b_ndim=1), (5, 3), "float64"),
        "solve_triangular_float32": (
            lambda: sl.solve_triangular(ft.fmatrix(), ft.fvector(), trans="T"),
            (None,),
            "float32",
        ),
        "poch_int_m": (lambda: ft.special.poch(ft.fvector(), ft.ivector()), (None,), "float64"),
        "factorial_int": (lambda: ft.special.factorial(ft.ivector()), (None,), "float64"),
        "factorial_float32": (lambda: ft.special.factorial(ft.fvector()), (None,), "float32"),
        "beta_float32": (lambda: ft.special.beta(ft.fvector(), ft.fvector()), (None,), "float32"),
        "variadic_add": (
            lambda: ft.add(ft.tensor(shape=(1, 3)), ft.tensor(shape=(2, 1)), ft.tensor(shape=(3,))),
            (2, 3),
            "float64",
        ),
        "variadic_mul_dtypes": (
            lambda: ft.mul(ft.vector(dtype="int8"), ft.vector(dtype="uint8"), ft.iscalar()),
            (None,),
            "int32",
        ),
    }


STATIC = list(_static())


@pytest.mark.parametrize("name", STATIC)
def test_static_shapes_and_dtypes(name: str) -> None:
    build, shape, dtype = _static()[name]
    expr = build()
    assert expr.type.shape == shape, name
    assert expr.dtype == dtype, name


# -- bad arguments: a clear error naming the function and the fix --------------------------------
def _bad() -> dict[str, tuple[Callable[[], Any], type, str]]:
    x, v, k = ft.matrix("x"), ft.vector("v"), ft.lscalar("k")
    return {
        "sort_float_axis": (
            lambda: ft.sort(x, ft.fscalar()),
            TypeError,
            "sort: axis must be None, an int.*integer scalar.*float32",
        ),
        "argsort_float_axis": (
            lambda: ft.argsort(x, ft.fscalar()),
            TypeError,
            "argsort: axis must be None.*float32",
        ),
        "sort_vector_axis": (
            lambda: ft.sort(x, ft.lvector()),
            TypeError,
            "sort: axis must be None.*int64, \\(\\?\\)",
        ),
        "sort_bad_kind": (lambda: ft.sort(x, kind="hanoi"), ValueError, "sort: kind must be one of"),
        "sort_kind_and_stable": (
            lambda: ft.sort(x, kind="quicksort", stable=True),
            ValueError,
            "sort: give kind or stable, not both",
        ),
        "argsort_kind_and_stable": (
            lambda: ft.argsort(x, kind="heapsort", stable=False),
            ValueError,
            "argsort: give kind or stable, not both",
        ),
        "sort_order": (lambda: ft.argsort(x, order=[]), ValueError, "argsort: order .* must be None"),
        "sort_axis_out_of_range": (lambda: ft.sort(x, 2), ValueError, "sort: axis 2 is out of bounds"),
        "qr_raw_gradient": (
            lambda: fc.grad(ft.sum(ft.qr(x, "raw")[0]), x),
            NotImplementedError,
            "grad: qr's mode='raw' .* has no gradient",
        ),
        "qr_bad_mode": (lambda: ft.qr(x, "economic"), ValueError, "qr: mode='economic' is not supported"),
        "det_not_square": (
            lambda: ft.det(ft.tensor(shape=(5, 7))),
            ValueError,
            "det: the last two dims must be square",
        ),
        "trace_of_a_vector": (lambda: ft.trace(v), ValueError, "takes a tensor of 2 or more dims"),
        "norm_fro_of_a_vector": (lambda: nl.norm(v, "fro"), ValueError, "norm: ord='fro' is a matrix norm"),
        "norm_0_of_a_matrix": (lambda: nl.norm(x, 0), ValueError, "norm: ord=0 is not a matrix norm"),
        "norm_of_a_scalar": (
            lambda: nl.norm(ft.scalar(), 2),
            ValueError,
            "norm: ord=2 without axis takes a vector or a matrix",
        ),
        "lyapunov_of_a_complex_matrix": (
            lambda: ft.slinalg.solve_continuous_lyapunov(ft.zmatrix(), ft.zmatrix()),
            TypeError,
            "solve_continuous_lyapunov: complex matrices are not supported, got .*complex128.*give real",
        ),
        "norm_symbolic_axis": (
            lambda: nl.norm(x, axis=ft.iscalar()),
            TypeError,
            "norm: axis must be None, an int",
        ),
        "lstsq_vector_a": (lambda: ft.lstsq(v, v, 1.0), ValueError, "lstsq: takes a as a matrix"),
        "lstsq_vector_rcond": (
            lambda: ft.lstsq(x, v, v),
            TypeError,
            "lstsq: rcond must be a number, None or a symbolic scalar",
        ),
        "matrix_power_float_n": (
            lambda: ft.matrix_power(x, 1.5),
            TypeError,
            "matrix_power: n must be an int",
        ),
        "cholesky_on_error": (
            lambda: sl.cholesky(x, on_error="zero"),
            ValueError,
            "cholesky: on_error must be one of",
        ),
        "solve_assume_a": (
            lambda: sl.solve(x, v, assume_a="psd"),
            ValueError,
            "solve: assume_a must be one of",
        ),
        "solve_b_ndim": (lambda: sl.solve(x, v, b_ndim=3), ValueError, "solve: b_ndim must be None, 1 or 2"),
        "solve_b_ndim_2_of_a_vector": (
            lambda: sl.solve(x, v, b_ndim=2),
            ValueError,
            "solve: takes b as a matrix.*b_ndim=2",
        ),
        "solve_transposed_flag": (
            lambda: sl.solve(x, v, transposed="yes"),
            TypeError,
            "solve: transposed must be True or False",
        ),
        "solve_triangular_trans": (
            lambda: sl.solve_triangular(x, v, trans=3),
            ValueError,
            "solve_triangular: trans must be one of",
        ),
        "solve_triangular_unit": (
            lambda: sl.solve_triangular(x, v, unit_diagonal=None),
            TypeError,
            "solve_triangular: unit_diagonal must be True or False",
        ),
        "solve_rows": (
            lambda: sl.solve(ft.tensor(shape=(3, 3)), ft.tensor(shape=(4, 2))),
            ValueError,
            "solve: a is .* b needs 3 rows",
        ),
        "solve_discrete_lyapunov_method": (
            lambda: sl.solve_discrete_lyapunov(x, x, method="foo"),
            ValueError,
            "solve_discrete_lyapunov: method must be",
        ),
        "softmax_axis": (
            lambda: ft.special.softmax(ft.tensor3(), axis=3),
            ValueError,
            "softmax: axis 3 is out of bounds",
        ),
        "add_of_nothing": (lambda: ft.add(), TypeError, "add: give at least one operand"),
        "mul_of_nothing": (lambda: ft.mul(), TypeError, "mul: give at least one operand"),
        "dimshuffle_letter": (
            lambda: x.dimshuffle(0, "y", 1),
            TypeError,
            r"dimshuffle\(0, 'y', 1\): each entry is an input dim \(an int\) or 'x'.*got 'y'",
        ),
        "dimshuffle_float": (
            lambda: x.dimshuffle(1.0, 0),
            TypeError,
            r"dimshuffle\(1.0, 0\): each entry .*got 1.0",
        ),
        "dimshuffle_string_digit": (lambda: ft.dimshuffle(x, ["1", 0]), TypeError, "got '1'"),
        "dimshuffle_repeat": (lambda: x.dimshuffle(0, 0), ValueError, r"dimshuffle\(0, 0\): invalid pattern"),
        "dimshuffle_drop": (
            lambda: ft.tensor("x", dtype="float64", shape=(2, None)).dimshuffle(1),
            ValueError,
            "input dim 0 of x .* is not broadcastable",
        ),
        "dimshuffle_past_numpy_max_dims": (
            lambda: ft.dscalar().dimshuffle(*(("x",) * 65)),
            ValueError,
            "TensorType: 65 dims, more than numpy's arrays have",
        ),
        "reshape_past_numpy_max_dims": (
            lambda: ft.reshape(ft.dvector(), (1,) * 70),
            ValueError,
            "TensorType: 70 dims",
        ),
        "tensordot_float_axes": (
            lambda: ft.tensordot(x, x, np.array(1.0)),
            TypeError,
            "tensordot: axes must be an int .* or a pair",
        ),
        "sum_repeated_axis": (lambda: ft.sum(x, axis=(0, -2)), ValueError, "sum: axis 0 is repeated"),
        "sum_float_axis": (
            lambda: ft.sum(x, axis=1.0),
            TypeError,
            "sum: axis must be None, an int or a tuple of ints",
        ),
        "add_static_shapes": (
            lambda: ft.tensor(shape=(2, 3)) + ft.tensor(shape=(4, 3)),
            ValueError,
            "add: shapes \\(2, 3\\), \\(4, 3\\) cannot be broadcast",
        ),
        "scan_float_n_steps": (
            lambda: fc.scan(lambda p: p * 2, outputs_info=ft.scalar(), n_steps=ft.scalar()),
            TypeError,
            "scan: n_steps must be an integer scalar",
        ),
        "scan_step_changes_dtype": (
            lambda: fc.scan(lambda p: ft.cast(p, "float32"), outputs_info=ft.dscalar(), n_steps=3),
            TypeError,
            "scan: output 0 of fn is .*float32.* initial value .*float64",
        ),
        "scan_strict_reads_an_outside_shared_variable": (
            lambda: fc.scan(
                lambda h: ft.dot(fc.shared(np.eye(2), "w_out"), h), outputs_info=v, n_steps=k, strict=True
            ),
            ValueError,
            "scan: strict=True and fn reads w_out, a shared variable",
        ),
    }


BAD = list(_bad())


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_name_the_function_and_the_fix(name: str) -> None:
    call, exc, match = _bad()[name]
    with pytest.raises(exc, match=match):
        call()


def _run_time_errors() -> dict[str, tuple[Callable[[], Any], list, tuple, type, str]]:
    x, v, k, s = ft.dmatrix("x"), ft.dvector("v"), ft.lscalar("k"), ft.dscalar("s")
    singular = np.array([[1.0, 0, 0], [0, 1, 0], [0, 1, 0]])
    return {
        "sort_axis_out_of_range": (
            lambda: ft.sort(x, k),
            [x, k],
            (M, _i(2)),
            ValueError,
            "sort: axis 2 is out of bounds for .* ndim 2",
        ),
        "sort_of_a_vector_axis_out_of_range": (
            lambda: ft.sort(v, k),
            [v, k],
            (V, _i(1)),
            ValueError,
            "sort: axis 1 is out of bounds for a tensor of ndim 1",
        ),
        "argsort_axis_out_of_range": (
            lambda: ft.argsort(x, k),
            [x, k],
            (M, _i(-3)),
            ValueError,
            "argsort: axis -3 is out of bounds",
        ),
        "inverse_of_a_singular_matrix": (
            lambda: ft.matrix_inverse(x),
            [x],
            (singular,),
            np.linalg.LinAlgError,
            "matrix_inverse: Singular",
        ),
        "cholesky_raises": (
            lambda: sl.cholesky(x),
            [x],
            (-PD,),
            np.linalg.LinAlgError,
            "cholesky: Matrix is not positive definite",
        ),
        "solve_singular": (
            lambda: sl.solve(x, v),
            [x, v],
            (singular, _u(3)),
            np.linalg.LinAlgError,
            "solve: Singular",
        ),
        "matrix_power_not_square": (lambda: ft.matrix_power(x, 3), [x], (M,), ValueError, "matrix_power"),
        "max_of_nothing": (
            lambda: ft.max(x),
            [x],
            (np.zeros((0, 3)),),
            ValueError,
            "zero-size array to reduction operation maximum",
        ),
        "scan_negative_steps": (
            lambda: fc.scan(lambda p: p * 2, outputs_info=s, n_steps=k)[0],
            [s, k],
            (np.asarray(1.0), _i(-1)),
            ValueError,
            "n_steps is -1; scan runs a non-negative number of steps",
        ),
    }


@pytest.mark.parametrize("name", list(_run_time_errors()))
@pytest.mark.parametrize("mode", [PY, "FAST_RUN"], ids=["py", "c"])
def test_run_time_errors_name_the_function(name: str, mode: Any) -> None:
    build, ins, vals, exc, match = _run_time_errors()[name]
    out = build()
    f = fc.function(ins, out, mode=mode, on_unused_input="ignore")
    with pytest.raises(exc, match=match):
        f(*vals)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_matrix_power_of_a_rectangular_matrix_raises_for_every_power(n: int) -> None:
    x = ft.dmatrix("x")
    f = fc.function([x], ft.matrix_power(x, n), mode=PY)
    with pytest.raises(
        np.linalg.LinAlgError, match="matrix_power: the last two dims must be square, got shape"
    ):
        f(M)
    assert_same(f(SQ), np.linalg.matrix_power(SQ, n), rtol=1e-12)


@pytest.mark.parametrize("form", ["dict", "pairs", "outputs_then_pairs", "pairs_then_until"])
def test_scan_takes_updates_as_a_dict_or_a_list_of_pairs(form: str) -> None:
    """PyTensor's fn may give its updates as a list of ``(shared, new value)`` pairs too; such a
    list alone was taken for two outputs, the update dropped without a word."""
    total, x = fc.shared(np.float64(0.0), name="total"), ft.dvector("x")
    steps = {
        "dict": lambda v: {total: total + v},
        "pairs": lambda v: [(total, total + v)],
        "outputs_then_pairs": lambda v: (v * 2, [(total, total + v)]),
        "pairs_then_until": lambda v: ([(total, total + v)], until(total + v > 2)),
    }
    out, updates = fc.scan(steps[form], sequences=x)
    f = fc.function([x], out if form == "outputs_then_pairs" else [], updates=updates, mode=PY)
    got = f(np.arange(5.0))
    assert total.get_value() == (3.0 if form == "pairs_then_until" else 10.0)
    if form == "outputs_then_pairs":
        assert_same(got, np.arange(5.0) * 2)


def test_scan_refuses_updates_or_until_before_the_outputs() -> None:
    total, x = fc.shared(np.float64(0.0), name="total"), ft.dvector("x")
    with pytest.raises(TypeError, match="scan: fn returned updates as output 0; return the outputs first"):
        fc.scan(lambda v: ([(total, total + v)], v * 2), sequences=x)
    with pytest.raises(TypeError, match="scan: fn returned until as output 0; return the outputs first"):
        fc.scan(lambda v: (until(v > 0), v * 2), sequences=x)


def _check_finite_cases() -> dict[str, tuple[Callable[..., Any], int, bool]]:
    """(builder of a and b, how many of them it reads, whether it checks by default)."""
    return {
        "cholesky": (lambda a, b, **kw: sl.cholesky(a, **kw), 1, False),
        "solve": (lambda a, b, **kw: sl.solve(a, b, **kw), 2, True),
        "solve_pos": (lambda a, b, **kw: sl.solve(a, b, assume_a="pos", **kw), 2, True),
        "solve_triangular": (lambda a, b, **kw: sl.solve_triangular(a, b, **kw), 2, True),
        "cho_solve": (lambda a, b, **kw: sl.cho_solve((a, True), b, **kw), 2, True),
        "lu": (lambda a, b, **kw: sl.lu(a, **kw)[2], 1, True),
        "lu_factor": (lambda a, b, **kw: sl.lu_factor(a, **kw)[0], 1, True),
        "lu_solve": (lambda a, b, **kw: sl.lu_solve((a, ft.arange(4, dtype="int32")), b, **kw), 2, True),
    }


@pytest.mark.parametrize("name", list(_check_finite_cases()))
def test_check_finite_raises_for_an_infinity_or_nan_when_asked(name: str) -> None:
    """scipy's ``check_finite``: True raises ``ValueError`` naming the function for a NaN or an
    infinity in any operand; False (and each function's default: PyTensor's) computes on."""
    build, n_read, default = _check_finite_cases()[name]
    a, b = ft.dmatrix("a"), ft.dvector("b")
    what = name.split("_pos")[0]
    f_checked = fc.function([a, b], build(a, b, check_finite=True), mode=PY, on_unused_input="ignore")
    f_default = fc.function([a, b], build(a, b), mode=PY, on_unused_input="ignore")
    f_unchecked = fc.function([a, b], build(a, b, check_finite=False), mode=PY, on_unused_input="ignore")
    good = (np.tril(PD) if name != "solve_triangular" else PD, B4)
    assert_same(f_checked(*good), f_unchecked(*good), name)
    for k in range(n_read):
        for bad_value in (np.nan, np.inf):
            bad = [v.copy() for v in good]
            bad[k].flat[1] = bad_value
            with pytest.raises(ValueError, match=f"{what}: the array of shape .* holds infinities or NaNs"):
                f_checked(*bad)
            with np.errstate(all="ignore"):
                try:
                    f_unchecked(*bad)  # numpy's LAPACK: NaN out, or its own LinAlgError
                except np.linalg.LinAlgError:
                    pass
            if default:
                with pytest.raises(ValueError, match="holds infinities or NaNs"):
                    f_default(*bad)


def test_check_finite_must_be_a_flag() -> None:
    with pytest.raises(TypeError, match="solve: check_finite must be True or False"):
        sl.solve(ft.dmatrix(), ft.dvector(), check_finite="no")


def test_the_gradient_of_a_cholesky_factor_of_nan_is_nan() -> None:
    """on_error="nan": an indefinite matrix gets a factor of NaN and a gradient of NaN; "raise"
    raises for the gradient as for the factor."""
    x = ft.dmatrix("x")
    indefinite = np.array([[1.0, 0.2], [0.2, -2.0]])
    for mode in (PY, "FAST_RUN"):
        f = fc.function([x], fc.grad(ft.sum(sl.cholesky(x, on_error="nan")), x), mode=mode)
        assert np.isnan(f(indefinite)).all()
        f = fc.function([x], fc.grad(ft.sum(sl.cholesky(x)), x), mode=mode)
        with pytest.raises(np.linalg.LinAlgError, match="cholesky: Matrix is not positive definite"):
            f(indefinite)


def test_0d_integer_arrays_are_taken_as_ints() -> None:
    """numpy takes a 0-d integer array wherever it takes an int (operator.index), and so does
    PyTensor for these counts; they were refused (or failed with a bare TypeError)."""
    x, k = ft.dmatrix("x"), np.array(2)
    outs = [
        ft.matrix_power(x, k),
        ft.flatten(x, np.array(1)),
        ft.topk(x, k),
        ft.tensordot(x, x.T, np.array(1)),
        fc.scan(lambda p: p * 2, outputs_info=x[0], n_steps=k)[0],
        ft.sum(x, axis=np.array(1)),
    ]
    wants = [
        SQ @ SQ,
        SQ.ravel(),
        np.sort(SQ, 1)[:, ::-1][:, :2],
        SQ @ SQ.T,
        np.stack([SQ[0] * 2, SQ[0] * 4]),
        SQ.sum(1),
    ]
    got = fc.function([x], outs, mode=PY)(SQ)
    for k_, (g, w) in enumerate(zip(got, wants)):
        assert_same(g, w, f"output {k_}", rtol=1e-12)


def test_entries_scipy_does_not_read_can_hold_anything() -> None:
    """A NaN where scipy does not read (off the diagonal of a diagonal system, outside the three
    middle diagonals of a tridiagonal one, on the diagonal with unit_diagonal) changes nothing."""
    a, b = ft.dmatrix("a"), ft.dvector("b")
    diag = np.diag([2.0, 3.0, 4.0])
    tri = diag + np.diag([1.0, 1.0], 1) + np.diag([1.0, 1.0], -1)
    low = np.tril(SQ[:3, :3]) + 3 * np.eye(3)
    for m in (diag, tri):
        m[0, 2] = m[2, 0] = np.nan
    low[1, 1] = np.inf
    kw = dict(check_finite=False)
    cases = [
        (sl.solve(a, b, assume_a="diagonal", **kw), diag, sla.solve(diag, B4[:3], assume_a="diagonal", **kw)),
        (
            sl.solve(a, b, assume_a="tridiagonal", **kw),
            tri,
            sla.solve(tri, B4[:3], assume_a="tridiagonal", **kw),
        ),
        (
            sl.solve_triangular(a, b, lower=True, unit_diagonal=True, **kw),
            low,
            sla.solve_triangular(low, B4[:3], lower=True, unit_diagonal=True, **kw),
        ),
    ]
    for mode in (PY, "FAST_RUN"):
        f = fc.function([a, b], [c[0] for c in cases], mode=mode)
        for k, c in enumerate(cases):
            assert_same(f(c[1], B4[:3])[k], c[2], f"case {k}", rtol=1e-12)


@pytest.mark.parametrize(
    "build",
    [
        lambda x, k: ft.split(x, [1, 2], k(2)),
        lambda x, k: [ft.diff(x, n=k(1))],
        lambda x, k: [ft.bincount(ft.cast(x, "int64"), minlength=k(5))],
    ],
    ids=["split", "diff", "bincount"],
)
def test_counts_given_as_0d_integer_arrays_as_numpy_takes_them(build) -> None:
    # numpy takes a 0-d integer array wherever it takes an int count (operator.index)
    x = ft.dvector("x")
    v = np.array([1.0, 2.0, 4.0])
    run = [fc.function([x], build(x, k), mode=fc.Mode(linker="py"))(v) for k in (np.array, int)]
    assert len(run[0]) == len(run[1])
    for a, b in zip(*run):
        np.testing.assert_array_equal(a, b)
