"""``fncache.tensor.linalg``, PyTensor's module of the linear-algebra functions
(``from pytensor.tensor.linalg import norm, solve``): those of ``ft.nlinalg`` and
``ft.slinalg`` under one module path. Its ``qr`` is PyTensor's, ``slinalg.qr`` (scipy's modes,
``"full"`` by default, and ``pivoting``), not numpy's ``nlinalg.qr``."""

from __future__ import annotations

from .linalg_extra import (
    block_diag,
    cho_solve,
    expm,
    lu,
    lu_factor,
    lu_solve,
    pivot_to_permutation,
    solve_continuous_lyapunov,
    solve_discrete_lyapunov,
    solve_sylvester,
)
from .linalg_scipy import ordqz, qr, qz, schur, solve_discrete_are
from .nlinalg import (
    det,
    eig,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_dot,
    matrix_inverse,
    matrix_power,
    norm,
    pinv,
    slogdet,
    svd,
    tensorinv,
    tensorsolve,
    trace,
)
from .slinalg import cholesky, kron, solve, solve_triangular

__all__ = [
    "block_diag",
    "cho_solve",
    "cholesky",
    "det",
    "eig",
    "eigh",
    "eigvalsh",
    "expm",
    "inv",
    "kron",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_solve",
    "matrix_dot",
    "matrix_inverse",
    "matrix_power",
    "norm",
    "ordqz",
    "pinv",
    "pivot_to_permutation",
    "qr",
    "qz",
    "schur",
    "slogdet",
    "solve",
    "solve_continuous_lyapunov",
    "solve_discrete_are",
    "solve_discrete_lyapunov",
    "solve_sylvester",
    "solve_triangular",
    "svd",
    "tensorinv",
    "tensorsolve",
    "trace",
]
