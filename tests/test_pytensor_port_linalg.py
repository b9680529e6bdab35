"""Numeric cases ported from PyTensor's test_blas.py (gemm / gemv / ger written as ordinary
graphs: transposed, strided, aliased and empty operands, size-1 dims, float32/float64 mixing),
test_nlinalg.py, test_slinalg.py and test_elemwise.py's CAReduce cases, against numpy/scipy in
both modes. Each table is compiled as one function per mode (one gcc call in FAST_RUN)."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest
import scipy.linalg as sl

import fncache as fc
from fncache import tensor as ft
from fncache.tensor import linalg as la
from fncache.tensor import nlinalg
from fcutil import FD_ATOL, MODES, assert_same, compiled, fd_gradient

RNG = np.random.default_rng(1234)


def _r(*shape: int, dt: str = "float64") -> np.ndarray:
    return RNG.standard_normal(shape).astype(dt)


A = _r(4, 4)
SPD = A @ A.T + 4 * np.eye(4)
B = _r(4, 3)
LU = sl.lu_factor(A)

#: name -> (builder on symbolic inputs, numpy/scipy reference, inputs)
Case = tuple[str, Callable[..., Any], Callable[..., Any], tuple[np.ndarray, ...]]

BLAS: list[Case] = [
    *[
        (
            f"gemm x,y {dx} z {dz}",
            lambda x, y, z: 2.5 * ft.dot(x, y) + 0.5 * z,
            lambda x, y, z: 2.5 * (x @ y) + 0.5 * z,
            (_r(3, 5, dt=dx), _r(5, 2, dt=dx), _r(3, 2, dt=dz)),
        )
        for dx in ("float32", "float64")
        for dz in ("float32", "float64")
    ],
    ("gemm transposed", lambda x, y: ft.dot(x.T, y.T), lambda x, y: x.T @ y.T, (_r(5, 3), _r(2, 5))),
    (
        "gemm strided",
        lambda x, y, z: z * 0.5 + ft.dot(x[::2, ::-1], y[:, ::3]),
        lambda x, y, z: z * 0.5 + x[::2, ::-1] @ y[:, ::3],
        (_r(6, 4), _r(4, 7), _r(3, 3)),
    ),
    ("gemm z aliases x", lambda x: 0.5 * x + 2 * ft.dot(x, x), lambda x: 0.5 * x + 2 * (x @ x), (_r(3, 3),)),
    ("gemm z aliases x.T", lambda x: x - ft.dot(x.T, x), lambda x: x - x.T @ x, (_r(3, 3),)),
    (
        "two gemms on one z",
        lambda x, y: x + ft.dot(x, y) + ft.dot(y, x) - 3 * ft.dot(x.T, y),
        lambda x, y: x + x @ y + y @ x - 3 * (x.T @ y),
        (_r(3, 3), _r(3, 3)),
    ),
    (
        "gemm scalar alpha float32, beta float64",
        lambda x, y, a, b: a * ft.dot(x, y) + b * x,
        lambda x, y, a, b: a * (x @ y) + b * x,
        (_r(3, 3), _r(3, 3), np.float32(2.0), np.float64(-1.0)),
    ),
    (
        "gemm float32 operands, float64 alpha",
        lambda x, y, a: a * ft.dot(x, y) + x,
        lambda x, y, a: a * (x @ y) + x,
        (_r(3, 3, dt="float32"), _r(3, 3, dt="float32"), np.array(0.1)),
    ),
    (
        "gemm z broadcast row",
        lambda x, y, z: z + ft.dot(x, y),
        lambda x, y, z: z + x @ y,
        (_r(2, 4), _r(4, 3), _r(3)),
    ),
    (
        "gemm z broadcast col",
        lambda x, y, z: z + ft.dot(x, y),
        lambda x, y, z: z + x @ y,
        (_r(2, 4), _r(4, 3), _r(2, 1)),
    ),
    *[
        (
            f"gemm empty {sx}x{sy}",
            lambda x, y: 2 * ft.dot(x, y) + 1.0,
            lambda x, y: 2 * (x @ y) + 1.0,
            (_r(*sx), _r(*sy)),
        )
        for sx, sy in [
            ((0, 3), (3, 2)),
            ((3, 0), (0, 2)),
            ((3, 2), (2, 0)),
            ((1, 1), (1, 1)),
            ((0, 0), (0, 0)),
        ]
    ],
    (
        "gemv",
        lambda a, x, y: 0.7 * ft.dot(a, x) + y * 2,
        lambda a, x, y: 0.7 * (a @ x) + y * 2,
        (_r(3, 4), _r(4), _r(3)),
    ),
    (
        "gemv empty rows",
        lambda a, x, y: ft.dot(a, x) + y,
        lambda a, x, y: a @ x + y,
        (_r(0, 4), _r(4), _r(0)),
    ),
    (
        "gemv transposed empty",
        lambda a, x, y: ft.dot(a.T, x) + y,
        lambda a, x, y: a.T @ x + y,
        (_r(0, 4), _r(0), _r(4)),
    ),
    ("gemv y size 1", lambda a, x, y: y + ft.dot(a, x), lambda a, x, y: y + a @ x, (_r(3, 4), _r(4), _r(1))),
    ("gemv float32 matrix", lambda a, x: ft.dot(a, x), lambda a, x: a @ x, (_r(3, 4, dt="float32"), _r(4))),
    (
        "ger",
        lambda a, x, y: a + 0.3 * ft.outer(x, y),
        lambda a, x, y: a + 0.3 * np.outer(x, y),
        (_r(3, 4), _r(3), _r(4)),
    ),
    (
        "ger mixed float32/float64",
        lambda a, x, y: a + 0.3 * ft.outer(x, y),
        lambda a, x, y: a + 0.3 * np.outer(x, y),
        (_r(3, 4, dt="float32"), _r(3, dt="float32"), _r(4)),
    ),
    (
        "ger aliased",
        lambda a: a + ft.outer(a[0], a[:, 1]),
        lambda a: a + np.outer(a[0], a[:, 1]),
        (_r(3, 3),),
    ),
    (
        "ger negative strides",
        lambda a, x, y: a - 2 * ft.outer(x[::-1], y[::2]),
        lambda a, x, y: a - 2 * np.outer(x[::-1], y[::2]),
        (_r(3, 4), _r(3), _r(8)),
    ),
    ("ger empty", lambda x, y: ft.outer(x, y) + 1, lambda x, y: np.outer(x, y) + 1, (_r(0), _r(3))),
    (
        "dot int8 wraps",
        ft.dot,
        np.dot,
        (np.arange(6, dtype="int8").reshape(2, 3) * 50, np.arange(6, dtype="int8").reshape(3, 2) * 50),
    ),
    (
        "dot int32 float32",
        ft.dot,
        np.dot,
        (np.arange(6, dtype="int32").reshape(2, 3), _r(3, 2, dt="float32")),
    ),
    ("dot uint8", ft.dot, np.dot, (np.full((3, 200), 2, "uint8"), np.full((200,), 3, "uint8"))),
    ("dot int64 exact", ft.dot, np.dot, (np.full((2, 3), 2**40), np.full((3, 2), 2**22))),
    ("dot bool", ft.dot, np.dot, (np.ones((2, 3), bool), np.ones((3, 2), bool))),
    ("dot empty vectors", ft.dot, np.dot, (_r(0), _r(0))),
    ("dot 3d x 2d", ft.dot, np.dot, (_r(2, 3, 4), _r(4, 5))),
    ("dot 3d x 3d", ft.dot, np.dot, (_r(2, 3, 4), _r(6, 4, 5))),
    ("dot scalar", ft.dot, np.dot, (_r(), _r(3, 2))),
    ("matmul broadcast batch", ft.matmul, np.matmul, (_r(2, 1, 3, 4), _r(5, 4, 2))),
    (
        "tensordot",
        lambda x, y: ft.tensordot(x, y, axes=[[0, 2], [1, 0]]),
        lambda x, y: np.tensordot(x, y, axes=[[0, 2], [1, 0]]),
        (_r(2, 3, 4), _r(4, 2, 5)),
    ),
    ("batched_dot", ft.batched_dot, lambda x, y: np.einsum("bij,bjk->bik", x, y), (_r(3, 2, 4), _r(3, 4, 5))),
    (
        "sum of empty dot",
        lambda x, y: ft.sum(ft.dot(x, y), axis=0, keepdims=True),
        lambda x, y: np.sum(x @ y, axis=0, keepdims=True),
        (_r(0, 3), _r(3, 4)),
    ),
]

NLINALG: list[Case] = [
    ("det", la.det, np.linalg.det, (A,)),
    ("det 0x0", la.det, np.linalg.det, (_r(0, 0),)),
    ("det batched", la.det, np.linalg.det, (_r(2, 3, 3),)),
    ("det int", la.det, np.linalg.det, (np.array([[2, 1], [1, 3]]),)),
    ("det float32", la.det, np.linalg.det, (A.astype("float32"),)),
    ("inv", la.inv, np.linalg.inv, (A,)),
    ("inv 0x0", la.inv, np.linalg.inv, (_r(0, 0),)),
    ("inv float32", la.inv, np.linalg.inv, (A.astype("float32"),)),
    ("pinv", la.pinv, np.linalg.pinv, (_r(3, 5),)),
    (
        "pinv hermitian",
        lambda x: la.pinv(x, hermitian=True),
        lambda x: np.linalg.pinv(x, hermitian=True),
        (SPD,),
    ),
    ("slogdet", lambda x: list(la.slogdet(x)), lambda x: list(np.linalg.slogdet(x)), (A,)),
    ("slogdet negative", lambda x: list(la.slogdet(x)), lambda x: list(np.linalg.slogdet(x)), (-np.eye(3),)),
    (
        "slogdet singular",
        lambda x: list(la.slogdet(x)),
        lambda x: list(np.linalg.slogdet(x)),
        (np.zeros((3, 3)),),
    ),
    ("eigh values", lambda x: la.eigh(x)[0], lambda x: np.linalg.eigh(x)[0], (SPD,)),
    ("eigh upper", lambda x: la.eigh(x, "U")[0], lambda x: np.linalg.eigh(x, "U")[0], (A,)),
    ("eigvalsh", la.eigvalsh, np.linalg.eigvalsh, (A,)),
    (
        "svd values",
        lambda x: la.svd(x, compute_uv=False),
        lambda x: np.linalg.svd(x, compute_uv=False),
        (_r(3, 5),),
    ),
    ("qr r", lambda x: nlinalg.qr(x, mode="r"), lambda x: np.linalg.qr(x, mode="r"), (_r(5, 3),)),
    ("matrix_power 3", lambda x: la.matrix_power(x, 3), lambda x: np.linalg.matrix_power(x, 3), (A,)),
    ("matrix_power 0", lambda x: la.matrix_power(x, 0), lambda x: np.linalg.matrix_power(x, 0), (A,)),
    ("matrix_power -2", lambda x: la.matrix_power(x, -2), lambda x: np.linalg.matrix_power(x, -2), (A,)),
    (
        "matrix_power int",
        lambda x: la.matrix_power(x, 2),
        lambda x: np.linalg.matrix_power(x, 2),
        (np.arange(9).reshape(3, 3),),
    ),
    ("trace", la.trace, np.trace, (_r(3, 4),)),
    ("trace int8", la.trace, np.trace, (np.full((3, 3), 100, dtype="int8"),)),
    (
        "tensorinv",
        lambda x: la.tensorinv(x, ind=2),
        lambda x: np.linalg.tensorinv(x, ind=2),
        (_r(4, 6, 8, 3),),
    ),
    ("tensorsolve", la.tensorsolve, np.linalg.tensorsolve, (_r(2, 3, 6), _r(2, 3))),
    (
        "lstsq",
        lambda a, b: list(la.lstsq(a, b, rcond=None)),
        lambda a, b: list(np.linalg.lstsq(a, b, rcond=None)),
        (_r(5, 3), _r(5, 2)),
    ),
    *[
        (
            f"norm matrix ord={o}",
            lambda x, o=o: la.norm(x, ord=o),
            lambda x, o=o: np.linalg.norm(x, ord=o),
            (_r(3, 4),),
        )
        for o in (None, "fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2)
    ],
    *[
        (
            f"norm vector ord={o}",
            lambda x, o=o: la.norm(x, ord=o),
            lambda x, o=o: np.linalg.norm(x, ord=o),
            (_r(5),),
        )
        for o in (None, 0, 1, 2, 3, 0.5, np.inf, -np.inf, -1)
    ],
    (
        "norm axis pair keepdims",
        lambda x: la.norm(x, ord=2, axis=(0, 2), keepdims=True),
        lambda x: np.linalg.norm(x, ord=2, axis=(0, 2), keepdims=True),
        (_r(3, 2, 4),),
    ),
    ("norm empty", la.norm, np.linalg.norm, (_r(0, 3),)),
    # numpy's largest-magnitude norms of no values are 0 (its smallest-magnitude ones raise)
    ("norm vector inf empty", lambda x: la.norm(x, np.inf), lambda x: np.linalg.norm(x, np.inf), (_r(0),)),
    *[
        (
            f"norm matrix ord={o} {sh}",
            lambda x, o=o: la.norm(x, o),
            lambda x, o=o: np.linalg.norm(x, o),
            (_r(*sh),),
        )
        for o in (np.inf, 1, 2)
        for sh in ((0, 3), (3, 0), (0, 0))
    ],
    ("norm int", la.norm, np.linalg.norm, (np.arange(5),)),
]

SLINALG: list[Case] = [
    ("cholesky", la.cholesky, np.linalg.cholesky, (SPD,)),
    ("cholesky upper", lambda x: la.cholesky(x, lower=False), lambda x: sl.cholesky(x, lower=False), (SPD,)),
    ("cholesky 0x0", la.cholesky, np.linalg.cholesky, (_r(0, 0),)),
    ("cholesky float32", la.cholesky, np.linalg.cholesky, (SPD.astype("float32"),)),
    *[
        (
            f"solve {a} {kind}",
            lambda x, y, a=a: la.solve(x, y, assume_a=a),
            lambda x, y, a=a: sl.solve(x, y, assume_a=a),
            (SPD, b),
        )
        for a in ("gen", "sym", "pos")
        for kind, b in (("matrix", _r(4, 2)), ("vector", _r(4)))
    ],
    (
        "solve sym lower",
        lambda x, y: la.solve(x, y, assume_a="sym", lower=True),
        lambda x, y: sl.solve(x, y, assume_a="sym", lower=True),
        (np.tril(SPD) + np.triu(_r(4, 4), 1), _r(4)),
    ),
    (
        "solve transposed",
        lambda x, y: la.solve(x, y, transposed=True),
        lambda x, y: sl.solve(x, y, transposed=True),
        (A, _r(4)),
    ),
    ("solve float32/float64", la.solve, sl.solve, (A.astype("float32"), _r(4))),
    ("solve int", la.solve, sl.solve, (np.array([[2, 1], [1, 3]]), np.array([1, 2]))),
    ("solve empty", la.solve, sl.solve, (_r(0, 0), _r(0, 2))),
    *[
        (
            f"solve_triangular trans={t} lower={lo} unit={u}",
            lambda x, y, t=t, lo=lo, u=u: la.solve_triangular(x, y, trans=t, lower=lo, unit_diagonal=u),
            lambda x, y, t=t, lo=lo, u=u: sl.solve_triangular(x, y, trans=t, lower=lo, unit_diagonal=u),
            (A + 5 * np.eye(4), B),
        )
        for t in (0, 1, 2, "N", "T")
        for lo in (True, False)
        for u in (True, False)
    ],
    ("kron", la.kron, np.kron, (_r(2, 3), _r(3, 2))),
    ("kron 3d", la.kron, np.kron, (_r(2, 1, 3), _r(3, 2))),
    ("kron 1d", la.kron, np.kron, (_r(2), _r(3))),
    ("expm", la.expm, sl.expm, (A * 0.3,)),
    ("expm 0x0", la.expm, sl.expm, (_r(0, 0),)),
    ("expm float32", la.expm, sl.expm, ((A * 0.3).astype("float32"),)),
    ("block_diag", la.block_diag, sl.block_diag, (_r(2, 3), _r(1, 2))),
    (
        "block_diag mixed dtypes",
        la.block_diag,
        sl.block_diag,
        (_r(2, 3, dt="float32"), np.ones((1, 2), "int32")),
    ),
    (
        "cho_solve",
        lambda c, b: la.cho_solve((c, True), b),
        lambda c, b: sl.cho_solve((c, True), b),
        (np.linalg.cholesky(SPD), _r(4, 2)),
    ),
    (
        "cho_solve upper",
        lambda c, b: la.cho_solve((c, False), b),
        lambda c, b: sl.cho_solve((c, False), b),
        (np.linalg.cholesky(SPD).T.copy(), _r(4)),
    ),
    ("lu", lambda a: list(la.lu(a)), lambda a: list(sl.lu(a)), (_r(4, 3),)),
    (
        "lu permute_l",
        lambda a: list(la.lu(a, permute_l=True)),
        lambda a: list(sl.lu(a, permute_l=True)),
        (_r(3, 4),),
    ),
    (
        "lu p_indices",
        lambda a: list(la.lu(a, p_indices=True)),
        lambda a: list(sl.lu(a, p_indices=True)),
        (A,),
    ),
    ("lu_factor", lambda a: list(la.lu_factor(a)), lambda a: list(sl.lu_factor(a)), (A,)),
    (
        "lu_solve",
        lambda lu, p, b: la.lu_solve((lu, p), b),
        lambda lu, p, b: sl.lu_solve((lu, p), b),
        (LU[0], LU[1], _r(4, 2)),
    ),
    (
        "lu_solve trans",
        lambda lu, p, b: la.lu_solve((lu, p), b, trans=1),
        lambda lu, p, b: sl.lu_solve((lu, p), b, trans=1),
        (LU[0], LU[1], _r(4)),
    ),
    (
        "continuous lyapunov",
        la.solve_continuous_lyapunov,
        sl.solve_continuous_lyapunov,
        (A - 8 * np.eye(4), SPD),
    ),
    ("discrete lyapunov", la.solve_discrete_lyapunov, sl.solve_discrete_lyapunov, (A * 0.2, SPD)),
    ("sylvester", la.solve_sylvester, sl.solve_sylvester, (A, _r(4, 4) + 9 * np.eye(4), _r(4, 4))),
    (
        "generalized eigvalsh",
        la.eigvalsh,
        lambda a, b: sl.eigh(a, b, eigvals_only=True),
        (SPD, SPD + np.eye(4)),
    ),
    ("qr r (scipy's: M rows)", lambda a: la.qr(a, mode="r"), lambda a: sl.qr(a, mode="r")[0], (_r(5, 3),)),
    (
        "qr economic",
        lambda a: la.qr(a, mode="economic")[1],
        lambda a: sl.qr(a, mode="economic")[1],
        (_r(5, 3),),
    ),
    (
        "qr pivoting",
        lambda a: la.qr(a, mode="economic", pivoting=True)[2],
        lambda a: sl.qr(a, mode="economic", pivoting=True)[2],
        (_r(5, 3),),
    ),
]

_X3 = _r(3, 4, 5)
_INTS = {
    dt: (np.arange(24) % 7 * 40).astype(dt).reshape(4, 6)
    for dt in ("int8", "uint8", "int16", "int32", "bool", "float32")
}

CAREDUCE: list[Case] = [
    *[
        (
            f"{nm} axis={ax} keepdims={kd}",
            lambda v, f=f, ax=ax, kd=kd: f(v, axis=ax, keepdims=kd),
            lambda v, g=g, ax=ax, kd=kd: g(v, axis=ax, keepdims=kd),
            (_X3,),
        )
        for nm, f, g in (("sum", ft.sum, np.sum), ("max", ft.max, np.max), ("prod", ft.prod, np.prod))
        for ax in (None, 0, -1, (0, 2), (-1, -3), ())
        for kd in (False, True)
    ],
    *[
        (f"{nm} {dt}", lambda v, f=f: f(v, axis=1), lambda v, g=g: g(v, axis=1), (_INTS[dt],))
        for dt in _INTS
        for nm, f, g in (
            ("sum", ft.sum, np.sum),
            ("prod", ft.prod, np.prod),
            ("max", ft.max, np.max),
            ("all", ft.all, np.all),
            ("mean", ft.mean, np.mean),
        )
    ],
    *[
        (
            f"{nm} {dt} dtype={odt}",
            lambda v, f=f, o=odt: f(v, axis=1, dtype=o),
            lambda v, g=g, o=odt: g(v, axis=1, dtype=o),
            (_INTS[dt],),
        )
        for dt in _INTS
        for odt in ("int8", "uint8", "int64", "float32", "float64")
        for nm, f, g in (("sum", ft.sum, np.sum), ("prod", ft.prod, np.prod))
    ],
    *[
        (
            f"sum {dt} acc_dtype={acc}",
            lambda v, a=acc: ft.sum(v, axis=1, acc_dtype=a),
            lambda v: np.sum(v, axis=1),
            (_INTS[dt],),
        )
        for dt in ("int8", "uint8", "int16", "bool")
        for acc in ("int64", "float64")
    ],
    *[
        (
            f"{nm} empty {sh} axis={ax}",
            lambda v, f=f, ax=ax: f(v, axis=ax),
            lambda v, g=g, ax=ax: g(v, axis=ax),
            (_r(*sh),),
        )
        for nm, f, g in (
            ("sum", ft.sum, np.sum),
            ("prod", ft.prod, np.prod),
            ("all", ft.all, np.all),
            ("any", ft.any, np.any),
        )
        for sh, ax in (((0, 3), 0), ((0, 3), 1), ((3, 0), 1), ((0,), None), ((0, 3), None))
    ],
    (
        "max over a non-empty axis of an empty array",
        lambda v: ft.max(v, axis=1),
        lambda v: np.max(v, axis=1),
        (_r(0, 3),),
    ),
    (
        "max nan",
        lambda v: ft.max(v, axis=0),
        lambda v: np.max(v, axis=0),
        (np.array([[1.0, np.nan], [np.nan, 2.0]]),),
    ),
    ("min nan", ft.min, np.min, (np.array([1.0, np.nan, 0.0]),)),
    ("argmax nan", ft.argmax, np.argmax, (np.array([1.0, np.nan, 5.0]),)),
    (
        "argmax keepdims",
        lambda v: ft.argmax(v, axis=1, keepdims=True),
        lambda v: np.argmax(v, axis=1, keepdims=True),
        (_X3,),
    ),
    (
        "argmin uint8 keepdims",
        lambda v: ft.argmin(v, axis=-1, keepdims=True),
        lambda v: np.argmin(v, axis=-1, keepdims=True),
        (np.array([[3, 1, 1], [2, 2, 0]], "uint8"),),
    ),
    ("sum int64 wraps", ft.sum, np.sum, (np.full(4, 2**62),)),
    ("sum uint64 wraps", ft.sum, np.sum, (np.full(4, 2**63, dtype="uint64"),)),
    ("prod uint8", ft.prod, np.prod, (np.array([200, 3], dtype="uint8"),)),
    ("max uint64", ft.max, np.max, (np.array([2**63 + 5, 3], dtype="uint64"),)),
    (
        "max bool",
        lambda v: ft.max(v, axis=0),
        lambda v: np.max(v, axis=0),
        (np.array([[True, False], [False, False]]),),
    ),
    (
        "prod bool",
        lambda v: ft.prod(v, axis=0),
        lambda v: np.prod(v, axis=0),
        (np.array([[True, False], [True, True]]),),
    ),
    ("sum complex", lambda v: ft.sum(v, axis=0), lambda v: np.sum(v, axis=0), (_r(3, 2) + 1j * _r(3, 2),)),
    ("all nan", ft.all, np.all, (np.array([np.nan, 1.0]),)),
    ("any negative zero", ft.any, np.any, (np.array([-0.0, 0.0]),)),
    ("max -inf", lambda v: ft.max(v, axis=1), lambda v: np.max(v, axis=1), (np.full((2, 3), -np.inf),)),
    ("dimshuffle", lambda v: v.dimshuffle(2, "x", 0, 1) + 0, lambda v: v.transpose(2, 0, 1)[:, None], (_X3,)),
    (
        "sum of a strided transpose",
        lambda v: ft.sum(v[::-1, ::2].T, axis=0, keepdims=True),
        lambda v: np.sum(v[::-1, ::2].T, axis=0, keepdims=True),
        (_X3,),
    ),
    (
        "var ddof keepdims",
        lambda v: ft.var(v, axis=(0, 2), ddof=1, keepdims=True),
        lambda v: np.var(v, axis=(0, 2), ddof=1, keepdims=True),
        (_X3,),
    ),
]

TABLES = {"blas": BLAS, "nlinalg": NLINALG, "slinalg": SLINALG, "careduce": CAREDUCE}


def _symbolic(v: np.ndarray) -> Any:
    return ft.tensor(dtype=v.dtype.name, shape=(None,) * v.ndim)


@compiled
def table_fn(table: str, mode: str) -> Any:
    """One function computing every case of ``table``: inputs and outputs concatenated."""
    ins: list[Any] = []
    outs: list[Any] = []
    for _, build, _, vals in TABLES[table]:
        xs = [_symbolic(v) for v in vals]
        ins += xs
        out = build(*xs)
        outs += out if isinstance(out, list) else [out]
    return fc.function(ins, outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("table", sorted(TABLES))
def test_against_numpy_and_scipy(table: str, mode: str) -> None:
    got = iter(table_fn(table, mode)(*[v for case in TABLES[table] for v in case[3]]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, _, ref, vals in TABLES[table]:
            want = ref(*vals)
            for w in want if isinstance(want, list) else [want]:
                w = np.asarray(w)
                tol = 1e-4 if w.dtype in (np.float32, np.complex64) else 1e-9
                g = next(got)
                if w.dtype.kind == "c":
                    # assert_same's infinity check does not take complex values
                    assert (g.dtype, g.shape) == (w.dtype, w.shape), name
                    np.testing.assert_allclose(g, w, rtol=tol, err_msg=name)
                else:
                    assert_same(g, w, name, rtol=tol, atol=tol)


#: Invalid input at run time: a clear LinAlgError / ValueError, as numpy and scipy give.
BAD: list[Case] = [
    ("dot shape mismatch", ft.dot, np.dot, (_r(2, 3), _r(4, 2))),
    ("inv of a singular matrix", la.inv, np.linalg.inv, (np.zeros((2, 2)),)),
    ("cholesky of a non-positive-definite matrix", la.cholesky, np.linalg.cholesky, (-SPD,)),
    ("solve with a singular matrix", la.solve, sl.solve, (np.zeros((2, 2)), _r(2))),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_invalid_input_raises_like_numpy(case: Case, mode: str) -> None:
    _, build, ref, vals = case
    with pytest.raises(Exception) as want:
        ref(*vals)
    xs = [_symbolic(v) for v in vals]
    with pytest.raises(type(want.value)):
        fc.function(xs, build(*xs), mode=mode)(*vals)


_C = np.linalg.cholesky(SPD)
_ONES42 = np.ones((4, 2))

#: Gradients PyTensor checks with verify_grad: builder of one differentiable input, reference.
GRADS: list[Case] = [
    ("det", la.det, np.linalg.det, (A,)),
    ("inv", la.inv, np.linalg.inv, (A,)),
    ("pinv", la.pinv, np.linalg.pinv, (_r(3, 5),)),
    ("slogdet", lambda x: la.slogdet(x)[1], lambda x: np.linalg.slogdet(x)[1], (A,)),
    ("cholesky (reads the lower triangle)", la.cholesky, np.linalg.cholesky, (SPD,)),
    (
        "cholesky upper (reads the upper triangle)",
        lambda x: la.cholesky(x, lower=False),
        lambda x: sl.cholesky(x, lower=False),
        (SPD,),
    ),
    ("solve a", lambda x: la.solve(x, B), lambda x: np.linalg.solve(x, B), (A,)),
    ("solve sym", lambda x: la.solve(x, B, assume_a="sym"), lambda x: sl.solve(x, B, assume_a="sym"), (SPD,)),
    (
        "solve pos b",
        lambda x: la.solve(SPD, x, assume_a="pos"),
        lambda x: sl.solve(SPD, x, assume_a="pos"),
        (B,),
    ),
    (
        "solve transposed",
        lambda x: la.solve(x, B, transposed=True),
        lambda x: sl.solve(x, B, transposed=True),
        (A,),
    ),
    (
        "solve_triangular a",
        lambda x: la.solve_triangular(x, B, lower=True),
        lambda x: sl.solve_triangular(x, B, lower=True),
        (A + 5 * np.eye(4),),
    ),
    (
        "solve_triangular trans upper unit",
        lambda x: la.solve_triangular(x, B, trans=1, lower=False, unit_diagonal=True),
        lambda x: sl.solve_triangular(x, B, trans=1, lower=False, unit_diagonal=True),
        (A + 5 * np.eye(4),),
    ),
    (
        "solve_triangular b",
        lambda x: la.solve_triangular(_C, x, trans="C", lower=True),
        lambda x: sl.solve_triangular(_C, x, trans="C", lower=True),
        (B,),
    ),
    ("eigh values", lambda x: la.eigh(x)[0], lambda x: np.linalg.eigh(x)[0], (SPD,)),
    (
        "svd values",
        lambda x: la.svd(x, compute_uv=False),
        lambda x: np.linalg.svd(x, compute_uv=False),
        (_r(3, 5),),
    ),
    ("matrix_power 3", lambda x: la.matrix_power(x, 3), lambda x: np.linalg.matrix_power(x, 3), (A,)),
    ("matrix_power -2", lambda x: la.matrix_power(x, -2), lambda x: np.linalg.matrix_power(x, -2), (A,)),
    ("norm nuc", lambda x: la.norm(x, "nuc"), lambda x: np.linalg.norm(x, "nuc"), (_r(3, 4),)),
    ("norm 2", lambda x: la.norm(x, 2), lambda x: np.linalg.norm(x, 2), (_r(3, 4),)),
    ("norm vector 3", lambda x: la.norm(x, 3), lambda x: np.linalg.norm(x, 3), (_r(5),)),
    ("expm", la.expm, sl.expm, (A * 0.3,)),
    ("kron", lambda x: la.kron(x, B), lambda x: np.kron(x, B), (_r(2, 3),)),
    (
        "continuous lyapunov",
        lambda x: la.solve_continuous_lyapunov(x, SPD),
        lambda x: sl.solve_continuous_lyapunov(x, SPD),
        (A - 8 * np.eye(4),),
    ),
    (
        "discrete lyapunov",
        lambda x: la.solve_discrete_lyapunov(x, SPD),
        lambda x: sl.solve_discrete_lyapunov(x, SPD),
        (A * 0.2,),
    ),
    ("cho_solve", lambda x: la.cho_solve((x, True), B), lambda x: sl.cho_solve((x, True), B), (_C,)),
    ("lu_solve b", lambda x: la.lu_solve(LU, x), lambda x: sl.lu_solve(LU, x), (B,)),
    ("qr r", lambda x: nlinalg.qr(x, mode="r"), lambda x: np.linalg.qr(x, mode="r"), (_r(5, 3),)),
    ("tensorinv", lambda x: la.tensorinv(x, ind=2), lambda x: np.linalg.tensorinv(x, ind=2), (_r(2, 3, 6),)),
    (
        "lstsq",
        lambda x: la.lstsq(x, _ONES42, rcond=None)[0],
        lambda x: np.linalg.lstsq(x, _ONES42, rcond=None)[0],
        (_r(4, 3),),
    ),
    (
        "prod with zeros",
        lambda x: ft.prod(x, axis=1),
        lambda x: np.prod(x, axis=1),
        (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]),),
    ),
    (
        "max",
        lambda x: ft.max(x, axis=1),
        lambda x: np.max(x, axis=1),
        (np.array([[1.0, 3.0, 2.0], [0.5, 0.0, 1.0]]),),
    ),
    (
        "gemm",
        lambda x: 2 * ft.dot(x.T, B) + 0.5 * x[:3].T.sum(),
        lambda x: 2 * (x.T @ B) + 0.5 * x[:3].T.sum(),
        (_r(4, 2),),
    ),
    (
        "batched_dot",
        lambda x: ft.batched_dot(x, np.ones((2, 4, 3))),
        lambda x: np.einsum("bij,bjk->bik", x, np.ones((2, 4, 3))),
        (_r(2, 3, 4),),
    ),
    ("var ddof", lambda x: ft.var(x, axis=0, ddof=1), lambda x: np.var(x, axis=0, ddof=1), (_r(4, 3),)),
]
_WEIGHTS = [RNG.standard_normal(np.shape(ref(*vals))) for _, _, ref, vals in GRADS]


@compiled
def grads_fn(mode: str) -> Any:
    """Gradients of every weighted case in one function (each case has its own input)."""
    xs = [_symbolic(vals[0]) for _, _, _, vals in GRADS]
    cost = sum(ft.sum(build(x) * w) for x, (_, build, _, _), w in zip(xs, GRADS, _WEIGHTS))
    return fc.function(xs, fc.grad(cost, xs), mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    got = grads_fn(mode)(*[vals[0] for _, _, _, vals in GRADS])
    for g, (name, _, ref, vals), w in zip(got, GRADS, _WEIGHTS):
        want = fd_gradient(lambda a, ref=ref, w=w: float(np.sum(ref(a) * w)), vals[0])
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=max(FD_ATOL, 1e-6), err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_lu_and_tensorinv_of_empty_matrices_keep_their_shapes(mode: str) -> None:
    """Deliberately unlike scipy (P (0, 0) for an (M, 0) matrix) and numpy (tensorinv of an empty
    map raises): P is (M, M) so that P @ L @ U is the matrix again (docs/porting.md)."""
    x = ft.dmatrix()
    p, lo, up = fc.function([x], list(la.lu(x)), mode=mode)(np.zeros((3, 0)))
    assert (p.shape, lo.shape, up.shape) == ((3, 3), (3, 0), (0, 0))
    assert_same(p @ lo @ up, np.zeros((3, 0)), "lu (3, 0)")
    assert fc.function([x], la.lu(x, p_indices=True)[0], mode=mode)(np.zeros((3, 0))).shape == (3,)
    assert_same(fc.function([x], la.tensorinv(x, ind=1), mode=mode)(np.zeros((0, 0))), np.zeros((0, 0)))
