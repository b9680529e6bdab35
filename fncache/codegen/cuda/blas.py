"""Matrix products on the GPU through cuBLAS, called directly (ctypes on libcublas).

cuBLAS is column-major; our arrays are row-major views with arbitrary strides. A row-major
``C = A @ B`` is the column-major ``C^T = B^T A^T``, and a view whose rows or columns are
unit-stride is a column-major matrix (or its transpose) with a leading dimension, so
transposed and sliced operands need no copy. Only operands with no unit stride (or broadcast
ones) are copied to contiguous memory first. :func:`gemm_args` is that mapping, pure Python
and tested against numpy without a GPU.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ...errors import GpuError

__all__ = ["matrix_layout", "GemmArgs", "gemm_args", "Cublas", "as_matrix"]

log = logging.getLogger(__name__)

OP_N, OP_T = 0, 1
_INT_MAX = 2**31 - 1


def matrix_layout(rows: int, cols: int, s0: int, s1: int) -> tuple[str, int] | None:
    """How cuBLAS can read a (rows, cols) matrix with element strides (s0, s1):
    ``("M", ld)`` when it is column-major itself, ``("MT", ld)`` when its transpose is
    (i.e. it is row-major), or None when neither dimension is unit-stride."""
    if (s0 == 1 or rows == 1) and (cols == 1 or s1 >= max(1, rows)):
        return "M", (s1 if cols > 1 else max(rows, 1))
    if (s1 == 1 or cols == 1) and (rows == 1 or s0 >= max(1, cols)):
        return "MT", (s0 if rows > 1 else max(cols, 1))
    return None


def as_matrix(shape: Sequence[int], strides: Sequence[int], left: bool) -> tuple[int, int, int, int]:
    """(rows, cols, s0, s1) of a dot operand: a vector is a row (left) or a column (right)."""
    if len(shape) == 2:
        return shape[0], shape[1], strides[0], strides[1]
    n, s = shape[0], strides[0]
    return (1, n, n * s, s) if left else (n, 1, s, 1)


@dataclass(frozen=True)
class GemmArgs:
    """Arguments of one column-major gemm computing row-major ``C = A @ B`` (C contiguous
    m x n): ``C^T (n x m) = op_x(X) op_y(Y)`` with X = B's memory and Y = A's."""

    op_x: int
    op_y: int
    m: int
    n: int
    k: int
    ld_x: int
    ld_y: int
    ld_c: int


def gemm_args(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> tuple[GemmArgs | None, bool, bool]:
    """The gemm for ``A @ B`` given (rows, cols, s0, s1) of A (m x k) and B (k x n), and which
    operands must be copied to contiguous memory first (then call again with C strides)."""
    la = matrix_layout(*a)
    lb = matrix_layout(*b)
    if la is None or lb is None:
        return None, la is None, lb is None
    m, k, n = a[0], a[1], b[1]
    if max(m, n, k, la[1], lb[1]) > _INT_MAX:
        raise ValueError(
            f"dot: operands of shapes ({m}, {k}) and ({k}, {n}) exceed cuBLAS's 32-bit dimensions"
        )
    # X must read as B^T (n x k): B^T column-major is B stored "MT" (no transpose), else B
    # column-major (k x n) transposed. Likewise Y as A^T (k x m).
    op_x = OP_N if lb[0] == "MT" else OP_T
    op_y = OP_N if la[0] == "MT" else OP_T
    return GemmArgs(op_x, op_y, n, m, k, lb[1], la[1], max(n, 1)), False, False


_STATUS = {
    1: "NOT_INITIALIZED",
    3: "ALLOC_FAILED",
    7: "INVALID_VALUE",
    8: "ARCH_MISMATCH",
    11: "MAPPING_ERROR",
    13: "EXECUTION_FAILED",
    14: "INTERNAL_ERROR",
    15: "NOT_SUPPORTED",
    16: "LICENSE_ERROR",
}


def _library_candidates() -> list[str]:
    names = ["libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"]
    dirs: list[Path] = []
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            dirs.append(Path(os.environ[var]) / "lib64")
    dirs.append(Path("/usr/local/cuda/lib64"))
    try:  # the pip wheels: nvidia/cublas/lib (CUDA 12), nvidia/cu13/lib (CUDA 13)
        import nvidia  # type: ignore[import-not-found]

        dirs += [d for root in nvidia.__path__ for d in sorted(Path(root).glob("*/lib"))]
    except ImportError:
        pass
    out = [str(d / nm) for d in dirs for nm in names if (d / nm).exists()]
    found = ctypes.util.find_library("cublas")
    return out + ([found] if found else []) + names


class Cublas:
    """One cuBLAS handle on the current device (created on first use of a product)."""

    def __init__(self) -> None:
        tried = []
        lib = None
        for cand in _library_candidates():
            try:
                lib = ctypes.CDLL(cand)
                break
            except OSError as e:
                tried.append(f"{cand} ({e})")
        if lib is None:
            raise GpuError(
                "dot/matmul on the GPU uses cuBLAS, and libcublas could not be "
                f"loaded (tried: {'; '.join(tried[:6])}). Install the CUDA toolkit's "
                "libraries or `pip install nvidia-cublas-cu12`, or set CUDA_HOME."
            )
        self._lib = lib
        ptr = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int,
        ]
        for name in ("cublasSgemm_v2", "cublasDgemm_v2"):
            fn = getattr(lib, name)
            fn.argtypes = ptr
            fn.restype = ctypes.c_int
        handle = ctypes.c_void_p()
        self._check(lib.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate")
        self._handle = handle

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != 0:
            raise GpuError(f"cuBLAS {what} failed: CUBLAS_STATUS_{_STATUS.get(status, status)}")

    def gemm(self, dtype: str, g: GemmArgs, x: int, y: int, c: int) -> None:
        """``C = op_x(X) op_y(Y)`` (column-major), enqueued on the default stream."""
        if dtype == "float32":
            fn, ct = self._lib.cublasSgemm_v2, ctypes.c_float
        else:
            fn, ct = self._lib.cublasDgemm_v2, ctypes.c_double
        one, zero = ct(1.0), ct(0.0)
        self._check(
            fn(
                self._handle,
                g.op_x,
                g.op_y,
                g.m,
                g.n,
                g.k,
                ctypes.byref(one),
                x,
                g.ld_x,
                y,
                g.ld_y,
                ctypes.byref(zero),
                c,
                g.ld_c,
            ),
            f"{dtype} gemm",
        )
