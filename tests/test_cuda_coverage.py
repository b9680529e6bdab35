"""Which ops a `device="cuda"` function runs on the (emulated) device, which on the host, and
that either way its values are the numpy linker's (docs/cuda.md, "What runs where").

One function with many outputs per test: each costs one nvcc compile. The classes covered:
special functions and their second derivatives (kernels), complex values and complex linear
algebra (the host), the determinant's gradient (`Cofactors`), scan with taps and
truncate_gradient, run-time pad widths / linspace num / topk k, uint64, and sparse graphs (the
Python linker, on the host).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.elemwise import Elemwise
from fcutil import assert_same
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: F401  (emulated: a fixture)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _reference(inputs: list, outs: dict[str, Any], values: list) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fc.function(inputs, list(outs.values()), mode="FAST_COMPILE")(*values)


def _check(inputs: list, outs: dict[str, Any], values: list, rtol: float = 1e-9, backend: Any = None) -> Any:
    """The CUDA function of ``outs`` gives the numpy linker's values; returns it. With the
    emulated ``backend``, again with the array inputs on the device (views of them are then
    device views the outputs copy)."""
    want = _reference(inputs, outs, values)
    f = fc.function(inputs, list(outs.values()), mode=CUDA)
    _compare(outs, f(*values), want, rtol)
    if backend is not None:
        from fncache.codegen.cuda.emulator import EmuArray

        on_device = [EmuArray.from_numpy(backend, v) if np.ndim(v) else v for v in values]
        _compare(outs, f(*on_device), want, rtol)
    return f


def _compare(outs: dict[str, Any], results: list, want: list, rtol: float) -> None:
    for name, got, w in zip(outs, results, want):
        got, w = got.get() if hasattr(got, "get") else got, np.asarray(w)
        if w.dtype.kind == "c":  # compared as (real, imaginary) parts
            assert got.dtype == w.dtype, f"{name}: dtype {got.dtype}, numpy gives {w.dtype}"
            got, w = np.stack([got.real, got.imag]), np.stack([w.real, w.imag])
        assert_same(got, w, name, rtol=rtol, atol=1e-12)


def _device_ops(f: Any) -> list[str]:
    order = f.optimized_graph.toposort()
    return [type(order[i].op).__name__ for i in f._runner._csrc.on_device]


@needs_emulator
def test_special_function_derivatives_run_as_kernels(emulated):
    """The first and second derivatives of kv in x and gammainc's derivative in its shape
    parameter (outlined device functions) are kernels with numpy's values. (jv, iv, gammaincc
    and betainc behave alike; each such function costs nvcc seconds, so one of each kind.)"""
    x, v, k = ft.dvector("x"), ft.dvector("v"), ft.dvector("k")
    dx = fc.grad(ft.kv(v, x).sum(), x)
    outs = {"kv_dx": dx, "kv_dxx": fc.grad(dx.sum(), x), "gammainc_da": fc.grad(ft.gammainc(k, x).sum(), k)}
    rng = np.random.default_rng(0)
    values = [rng.uniform(0.5, 8, 7), rng.uniform(0.2, 3, 7), rng.uniform(0.5, 5, 7)]
    f = _check([x, v, k], outs, values)
    order = f.optimized_graph.toposort()
    elemwise = {i for i, n in enumerate(order) if isinstance(n.op, Elemwise)}
    assert elemwise <= set(f._runner._csrc.on_device)


@needs_emulator
def test_complex_values_run_on_the_host(emulated):
    """Complex elementwise work, reductions and linear algebra (complex128 and complex64) run
    on the host, and the kernels around them read their real results uploaded."""
    Z, C, b = ft.zmatrix("Z"), ft.cmatrix("C"), ft.zvector("b")
    H = Z + Z.conj().T
    outs = {
        "inv": ft.linalg.inv(Z),
        "det": ft.linalg.det(Z),
        "solve": ft.linalg.solve(Z, b),
        "svd": ft.linalg.svd(Z, compute_uv=False) * 2,
        "eigh": ft.linalg.eigh(H)[0] + 1,
        "qr": abs(ft.linalg.qr(Z)[1]),
        "cholesky": ft.linalg.cholesky(H + 10 * ft.eye(4)),
        "inv_c64": ft.linalg.inv(C),
        "elemwise": Z * 2 + 1j,
        "transposed": Z.T,
        "c64_view": C[::2],
        "sum": (Z * Z).sum(axis=0),
        "abs": abs(Z) + 1,
        "real_sum": ft.real(Z * b).sum(),
        "concat": ft.concatenate([Z, Z.T], axis=0),
        "concat_cast": ft.concatenate([Z, C], axis=1),
    }
    rng = np.random.default_rng(1)
    Zv = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    values = [Zv, Zv.astype("complex64"), rng.standard_normal(4) + 1j]
    f = _check([Z, C, b], outs, values, rtol=1e-5, backend=emulated)
    assert "Elemwise" in _device_ops(f)  # the real work after abs() is a kernel


@needs_emulator
def test_determinant_scan_symbolic_sizes_and_uint64(emulated):
    """The determinant's first and second gradients (`Cofactors`, on the host) of a singular
    matrix; a scan with taps and truncate_gradient and its gradient; pad widths, linspace's
    num and topk's k given at run time; uint64 reductions, casts, sorts and products."""
    X, x, h0 = ft.dmatrix("X"), ft.dmatrix("x"), ft.dmatrix("h0")
    n, k, s = ft.lscalar("n"), ft.lscalar("k"), ft.dvector("s")
    a, b = ft.tensor("a", "uint64", 1), ft.tensor("b", "uint64", 1)
    g = fc.grad(ft.linalg.det(X), X)
    hs, _ = fc.scan(
        lambda xt, h2, h1: ft.tanh(xt + 0.5 * h2 - 0.3 * h1),
        sequences=x,
        outputs_info=[dict(initial=h0, taps=[-2, -1])],
        truncate_gradient=3,
    )
    outs = {
        "det_grad": g,
        "det_hess": fc.grad(g.sum(), X),
        "scan": hs,
        **dict(zip(("scan_dx", "scan_dh0"), fc.grad((hs**2).sum(), [x, h0]))),
        "pad": ft.pad(s, n) * 2,
        "pad_reflect": ft.pad(X, ((1, n), (n, 0)), mode="reflect"),
        "pad_edge": ft.pad(s * 2, (n, 1), mode="edge"),
        "linspace": ft.linspace(0.0, 1.0, n) + 1,
        "topk": ft.topk(s, k),
        "u_sum": a.sum() + b.sum(),
        "u_max": ft.max(a),
        "u_float": ft.cast(a, "float64") + s[:4],
        "u_shift": (a >> 3) ^ b,
        "u_cumsum": ft.cumsum(a),
        "u_sort": ft.sort(a),
        "u_dot": ft.dot(a, b),
    }
    rng = np.random.default_rng(2)
    Xv = rng.standard_normal((4, 4))
    Xv[:, 0] = Xv[:, 1]  # singular: the gradient is the cofactor matrix, not det * inv
    av = np.array([0, 5, 2**63 + 7, 2**64 - 1], dtype="uint64")
    bv = np.array([3, 0, 2**64 - 1, 2], dtype="uint64")
    values = [
        Xv,
        rng.standard_normal((7, 3)),
        rng.standard_normal((2, 3)),
        3,
        4,
        rng.standard_normal(9),
        av,
        bv,
    ]
    _check([X, x, h0, n, k, s, a, b], outs, values)


def test_sparse_graphs_run_on_the_host():
    """A graph holding sparse values runs in the Python linker on the host whatever the device:
    numpy (scipy.sparse) outputs, the numpy linker's values, no nvcc."""
    import scipy.sparse as sps

    from fncache import sparse

    S, D = sparse.csr_matrix("S", dtype="float64"), ft.dmatrix("D")
    outs = {
        "dot": sparse.dot(S, D),
        "dense": sparse.dense_from_sparse(S) * 2,
        "sum": sparse.sp_sum(S, axis=0),
        "add": sparse.add(S, D.T),
        "grad": fc.grad(sparse.dot(S, D).sum(), D),
        "mul_ss": sparse.mul(S, S),
    }
    Sv = sps.random(5, 4, 0.4, format="csr", random_state=1)
    values = [Sv, np.random.default_rng(3).standard_normal((4, 5))]
    want = _reference([S, D], outs, values)
    with fc.config.change_flags(cuda_arch="sm_90"):
        f = fc.function([S, D], list(outs.values()), mode=CUDA)
    for name, got, w in zip(outs, f(*values), want):
        if sps.issparse(w):
            assert sps.issparse(got), name
            got, w = got.toarray(), w.toarray()
        assert_same(got, w, name)
