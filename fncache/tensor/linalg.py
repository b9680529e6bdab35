"""``fncache.tensor.linalg``, PyTensor's module of the linear-algebra functions
(``from pytensor.tensor.linalg import norm, solve``): those of ``ft.nlinalg`` and
``ft.slinalg`` under one module path."""

from __future__ import annotations

from .linalg_extra import (
    block_diag,
    cho_solve,
    expm,
    lu,
    lu_factor,
    lu_solve,
    solve_continuous_lyapunov,
    solve_discrete_lyapunov,
)
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
    qr,
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
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_continuous_lyapunov",
    "solve_discrete_lyapunov",
    "solve_triangular",
    "svd",
    "tensorinv",
    "tensorsolve",
    "trace",
]
