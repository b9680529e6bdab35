"""The CUDA backend without a GPU (docs/cuda.md): what runs in CI.

* pure host logic: launch geometry, reduction plans, cuBLAS argument mapping, views, arch
  checks, out-of-memory messages;
* rendering, and nvcc compiling the kernels to cubins for sm_90 and sm_80;
* the compiledir: a machine without a GPU fills it (``cuda_arch='sm_90'``) and a second
  process with the same flags compiles nothing; the GpuError / CompileError messages;
* the numpy differential suite, run with the real runner and the real generated kernels in the
  CPU emulator of the CUDA execution model (``fncache.codegen.cuda.emulator``). It checks the
  kernels' logic, not GPU speed or GPU math-library ulps: tests/test_cuda_gpu.py runs the same
  suite on a device.

nvcc-dependent tests skip only when nvcc is absent; the emulator also needs g++.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen.cuda import arrays, device, geometry
from fncache.codegen.cuda.blas import OP_N, as_matrix, gemm_args, matrix_layout
from fncache.codegen.cuda.memory import DeviceMemory, oom_message
from fncache.toolchain.nvcc import compile_cubin, cubin_sm, find_nvcc
from fncache.codegen.cuda.render import render_graph
from fncache.graph.fgraph import FunctionGraph
from fncache.runtime.compile import optimize_graph
from fcutil import assert_same, rows_functions

NVCC = find_nvcc()
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc (CUDA toolkit) not installed")
needs_emulator = pytest.mark.skipif(
    NVCC is None or shutil.which("g++") is None, reason="the emulated suite needs nvcc and g++"
)
CUDA = fc.Mode(device="cuda")


def _pycuda_importable() -> bool:
    try:
        import pycuda.driver  # noqa: F401  (the import itself is the check)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------
# The differential suite (shared with test_cuda_gpu.py): one function, many outputs, so the
# whole suite costs one nvcc compile. Reference: the same graph through the numpy linker.


def differential_case() -> tuple[list, dict[str, Any], list[np.ndarray]]:
    """(inputs, {name: output}, input values) covering fused elementwise kernels in both float
    dtypes, every broadcasting and layout path, reductions over every kind of axis set (rows
    and cols layouts, split and unsplit), integer semantics, views, concatenation and dot."""
    x, y, z = ft.fvector("x"), ft.fvector("y"), ft.fvector("z")
    X, Y = ft.fmatrix("X"), ft.fmatrix("Y")
    T = ft.dtensor3("T")
    d = ft.dvector("d")
    i, j = ft.lvector("i"), ft.lvector("j")
    b = ft.bvector("b")
    k = ft.lscalar("k")
    Xn = ft.fmatrix("Xn")
    Z, W = ft.fmatrix("Z"), ft.fmatrix("W")
    outs = {
        "w1_f32": ft.exp(x) * y + ft.sin(z) / (1 + x * x),
        "w1_f64": ft.exp(d) * d + ft.sin(d) / (1 + d * d),
        "w2": ft.sum((x - y) ** 2),
        "bcast_row": X + X[0],
        "bcast_outer": x[:37].dimshuffle(0, "x") * y[:53].dimshuffle("x", 0),
        "transposed": X.T * 2 + 1,
        "neg_stride": x[::-3] * 2,
        "sym_slice": x[k : k + 10] + 1,
        "unary": ft.sigmoid(x) + ft.softplus(y) + ft.tanh(z) + ft.erf(x),
        "switch": ft.switch(x > 0, x, 0.1 * x),
        "sum_all": T.sum(),
        "sum_ax0": X.sum(axis=0),
        "sum_ax1": X.sum(axis=1),
        "mean_02": T.mean(axis=(0, 2)),
        "var_1": T.var(axis=1),
        "std_all": ft.std(T),
        "max_nan": Xn.max(axis=1),
        "min_ax0_nan": ft.min(Xn, axis=0),
        "min_all": ft.min(T),
        "sum_cols_split": Z.sum(axis=0),  # 3 outputs: reduced range split, 2 passes
        "max_rows_split": ft.max(W * 2, axis=1),  # 4 long rows: each split over blocks
        "prod_int": ft.prod(i.reshape((8, 5)), axis=0),
        "sum_int_ax1": i.reshape((8, 5)).sum(axis=1),
        "all_b": ft.all(b),
        "any_b": ft.any(b.reshape((8, 5)), axis=1),
        "argmax": ft.argmax(X, axis=1),
        "centered": X - X.mean(axis=1, keepdims=True),
        "intops": i // (j - 3) + i % (j - 3) + i**2,
        "cast": ft.cast(x * 10, "int32") + 1,
        "concat": ft.concatenate([X, ft.cast(X * 2, "float64")], axis=1),
        "reshape_t": X.T.reshape((-1,)),
        "dot_mm": ft.dot(X, Y),
        "dot_tt": ft.dot(Y.T, X.T),
        "dot_mv": ft.dot(X, x[:53]),
        "dot_vv": ft.dot(x[:53], y[3:56]),
        "dot_strided": ft.dot(X[:, ::2], Y[::2, :]),
        "dot_int": ft.dot(i.reshape((8, 5)), j.reshape((5, 8))),
    }
    rng = np.random.default_rng(7)
    n = 3001
    xv, yv, zv = (rng.standard_normal(n).astype("float32") for _ in range(3))
    Xv = rng.standard_normal((37, 53)).astype("float32")
    Yv = rng.standard_normal((53, 29)).astype("float32")
    Tv = rng.standard_normal((5, 7, 11))
    dv = rng.standard_normal(53)
    iv = rng.integers(-20, 20, 40)
    jv = rng.integers(-5, 6, 40)
    bv = rng.random(40) > 0.05
    Xnv = Xv.copy()
    Xnv[3, 7] = np.nan
    Xnv[5, 11] = np.nan
    Zv = rng.standard_normal((2000, 3)).astype("float32")
    Wv = rng.standard_normal((4, 5000)).astype("float32")
    values = [xv, yv, zv, Xv, Yv, Tv, dv, iv, jv, bv, np.int64(100), Xnv, Zv, Wv]
    return [x, y, z, X, Y, T, d, i, j, b, k, Xn, Z, W], outs, values


def differential_reference() -> tuple[list, dict[str, Any], list[np.ndarray], list]:
    """The differential case and its reference outputs from the numpy linker."""
    inputs, outs, values = differential_case()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = fc.function(inputs, list(outs.values()), mode="FAST_COMPILE")(*values)
    return inputs, outs, values, want


def check_differential(results: list, reference: list, names: list[str]) -> None:
    for name, got, want in zip(names, results, reference):
        got = got.get() if hasattr(got, "get") else got
        want = np.asarray(want)
        if want.dtype == np.float32:
            assert_same(got, want, name, rtol=2e-5, atol=2e-6)
        elif name.startswith(("sum", "mean", "var", "std", "w2", "dot")):
            assert_same(got, want, name, rtol=1e-10, atol=1e-12)
        else:
            assert_same(got, want, name)


def check_jacobians(upload: Any) -> None:
    """Run-time-size Jacobians and Hessians (`JacobianRows` nodes) in CUDA functions, against
    numpy, with host inputs and device inputs (``upload`` makes one from a numpy array): the
    node runs on the host, its inner function compiled for the CPU, once per row; a kernel
    reading its result gets it uploaded. A payload with ``embed_native`` carries the inner
    functions' CPU modules."""
    from fncache.tensor.jacobian_rows import JacobianRows

    for name, (f, args, want) in rows_functions(CUDA).items():
        for node in f.optimized_graph.toposort():
            if isinstance(node.op, JacobianRows):
                assert node.tag["inner_function"].mode.device == "cpu"
        payload = fc.dumps(f, embed_native=True)
        assert b"\x7fELF" in payload
        for fn, values in ((f, args), (f, [upload(a) for a in args]), (fc.loads(payload), args)):
            for k, (got, w) in enumerate(zip(fn(*values), want)):
                assert_same(got.get(), w, f"{name}, output {k}")
        empty = [np.zeros((0,) * w.ndim) for w in want]  # no rows: no call of the inner function
        check_differential(f(np.zeros(0)), empty, [name] * len(want))
    x = ft.fvector("x")
    jac = ft.jacobian(ft.exp(x) * x, x)
    f = fc.function([x], [jac.sum(axis=0) * 2 + x, jac], mode=CUDA)
    v = np.linspace(-1, 1, 7).astype("float32")
    want = np.diag(np.exp(v) * (1 + v))
    check_differential(f(v), [want.sum(axis=0) * 2 + v, want], ["sum of the rows", "float32 rows"])


# ---------------------------------------------------------------------------------------
# host logic (no compiler)


def test_broadcast_and_collapse():
    assert geometry.broadcast_shape([(3, 1), (4,)], "op") == (3, 4)
    with pytest.raises(ValueError, match=r"Composite.*\(3, 2\).*\(4,\)"):
        geometry.broadcast_shape([(3, 2), (4,)], "Composite{add}")
    # a contiguous 3-D add collapses to 1-D; a row broadcast stays 2-D
    dims, sts = geometry.collapse((2, 3, 4), [(12, 4, 1), (12, 4, 1)])
    assert dims == [24] and sts == [[1], [1]]
    dims, sts = geometry.collapse((5, 6), [(6, 1), (0, 1)])
    assert dims == [5, 6] and sts == [[6, 1], [0, 1]]
    # size-1 dims vanish; the geometry is left-padded to the kernel's dims
    assert geometry.elemwise_geometry((1, 7, 1), [(7, 1, 1), (7, 1, 1)], 3) == [1, 1, 7, 0, 0, 1, 0, 0, 1]
    assert geometry.broadcast_strides((3, 1), (1, 1), (2, 3, 4)) == (0, 1, 0)


def test_reduce_plans():
    sm = 132
    full = geometry.reduce_plan((10**8,), (0,), [(1,)], 1, 1, sm)
    assert full.layout == "rows" and full.M == 1 and full.G > 100 and full.rflat == 1
    assert full.G * full.chunk >= full.R and full.chunk % full.block[0] == 0
    assert full.block[0] % 32 == 0 and full.final_block[0] % 32 == 0
    inner = geometry.reduce_plan((4096, 4096), (1,), [(4096, 1)], 1, 1, sm)
    assert inner.layout == "rows" and inner.M == 4096
    outer = geometry.reduce_plan((4096, 4096), (0,), [(4096, 1)], 1, 1, sm)
    assert outer.layout == "cols" and outer.grid[1] == outer.G
    few = geometry.reduce_plan((10**7, 3), (0,), [(3, 1)], 1, 1, sm)
    assert few.layout == "cols" and few.G > 1  # 3 outputs: the reduced range is split
    tiny = geometry.reduce_plan((1000, 4), (1,), [(4, 1)], 1, 1, sm)
    assert tiny.layout == "cols"  # 4 elements per output: a thread each
    mixed = geometry.reduce_plan((5, 7, 11), (0, 2), [(77, 11, 1)], 1, 2, sm)
    assert mixed.rflat == 0 and mixed.R == 55 and mixed.M == 7
    empty = geometry.reduce_plan((0, 5), (0,), [(5, 1)], 1, 1, sm)
    assert empty.R == 0 and empty.G == 1


def _colmajor_gemm(g, xbuf, ybuf, dt):
    """cuBLAS's semantics on flat buffers, with numpy."""

    def mat(buf, rows, cols, ld):
        return np.lib.stride_tricks.as_strided(buf, (rows, cols), (dt.itemsize, ld * dt.itemsize))

    X = mat(xbuf, g.m, g.k, g.ld_x) if g.op_x == OP_N else mat(xbuf, g.k, g.m, g.ld_x).T
    Y = mat(ybuf, g.k, g.n, g.ld_y) if g.op_y == OP_N else mat(ybuf, g.n, g.k, g.ld_y).T
    C = np.zeros(g.n * g.ld_c, dtype=dt)
    mat(C, g.m, g.n, g.ld_c)[...] = X @ Y
    return C[: g.m * g.n].reshape(g.n, g.m)  # row-major (m_rows, n_cols) of the caller's C


@pytest.mark.parametrize(
    "case",
    ["cc", "tc", "ct", "tt", "sliced", "vec_left", "vec_right", "vec_strided", "broadcast", "no_unit_stride"],
)
def test_gemm_args_against_numpy(case):
    rng = np.random.default_rng(1)
    base_a = rng.standard_normal((9, 12))
    base_b = rng.standard_normal((12, 10))
    a, b = {
        "cc": (base_a[:6, :7], base_b[:7, :5]),
        "tc": (base_a[:7, :6].T, base_b[:7, :5]),
        "ct": (base_a[:6, :7], base_b[:5, :7].T),
        "tt": (base_a[:7, :6].T, base_b[:5, :7].T),
        "sliced": (base_a[1:7, 2:9], base_b[3:10, 1:4]),
        "vec_left": (base_a[0, :7], base_b[:7, :5]),
        "vec_right": (base_a[:6, :7], base_b[2, :7]),
        "vec_strided": (base_a[:7, 1], base_b[:7, 3]),
        "broadcast": (np.broadcast_to(base_a[0, :7], (6, 7)), base_b[:7, :5]),
        "no_unit_stride": (base_a[::2, ::3][:4, :3], base_b[:3, :5]),
    }[case]
    a = np.asarray(a) if case != "broadcast" else a
    itemsize = a.itemsize
    am = as_matrix(a.shape, [s // itemsize for s in a.strides], True)
    bm = as_matrix(b.shape, [s // itemsize for s in b.strides], False)
    g, copy_a, copy_b = gemm_args(am, bm)
    if case in ("broadcast", "no_unit_stride"):
        assert g is None and copy_a and not copy_b
        a = np.ascontiguousarray(a)
        am = as_matrix(a.shape, [s // itemsize for s in a.strides], True)
        g, copy_a, copy_b = gemm_args(am, bm)
    assert g is not None and not copy_a and not copy_b

    def flat(arr):  # the memory cuBLAS is pointed at: from the array's first element on
        base = arr.base if arr.base is not None else arr
        start = (arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // itemsize
        return np.ascontiguousarray(base).reshape(-1)[start:]

    got = _colmajor_gemm(g, flat(b), flat(a), np.dtype("float64"))
    want = np.atleast_2d(a @ b) if a.ndim == 2 or b.ndim == 2 else np.array([[a @ b]])
    np.testing.assert_allclose(got.reshape(-1), want.reshape(-1), rtol=1e-12)
    assert matrix_layout(1, 1, 0, 0) is not None


def test_device_views_match_numpy():
    host = np.arange(5 * 6 * 7, dtype="float32").reshape(5, 6, 7)
    dev = arrays.DevArray(4096, host.shape, [s // 4 for s in host.strides], "float32", None)
    for key in [
        (1,),
        (slice(None, None, -2), 3),
        (slice(1, 4), slice(None), slice(6, 0, -3)),
        (-1, slice(2, None), 4),
    ]:
        v = arrays.index(dev, key)
        h = host[key]
        assert v.shape == h.shape
        assert list(v.strides) == [s // 4 for s in h.strides]
        assert v.ptr - 4096 == h.__array_interface__["data"][0] - host.__array_interface__["data"][0]
        assert not v.fresh
    t = arrays.dimshuffle(dev, (2, "x", 0, 1), (), "ds")
    assert t.shape == (7, 1, 5, 6) and t.strides == (1, 0, 42, 7)
    with pytest.raises(ValueError, match="dim 0 has size 5"):
        arrays.dimshuffle(dev, (1, 2), (0,), "ds")
    assert arrays.reshape_shape((5, 6, 7), "float32", (-1, 7)) == (30, 7)
    with pytest.raises(ValueError):
        arrays.reshape_shape((5, 6, 7), "float32", (4, -1))
    assert not t.c_contiguous() and dev.c_contiguous()
    neg = arrays.index(dev, (slice(None, None, -1),))
    assert neg.span() == (-4 * 42, 42)


def test_oom_message_and_retry():
    msg = oom_message(2 * 2**30, 10 * 2**30, 80 * 2**30, "output 0 of Composite{add}")
    assert "2.00 GiB" in msg and "10.00 GiB" in msg and "80.00 GiB" in msg
    assert "fragmented" in msg and "contiguous" in msg and "Composite{add}" in msg
    assert "fragmented" not in oom_message(20 * 2**30, 10 * 2**30, 80 * 2**30, "")

    calls = []

    def allocate(n):
        calls.append(n)
        if len(calls) == 1:
            raise MemoryError("cuMemAlloc failed: out of memory")
        return 12345

    freed = []
    mem = DeviceMemory(
        allocate, lambda: freed.append(1), lambda: (10, 100), lambda e: isinstance(e, MemoryError)
    )
    assert mem.alloc(64) == 12345 and freed == [1]  # released pooled blocks, retried
    mem = DeviceMemory(
        lambda n: (_ for _ in ()).throw(MemoryError("oom")),
        lambda: None,
        lambda: (1000, 4000),
        lambda e: True,
    )
    with pytest.raises(fc.GpuMemoryError) as info:
        mem.alloc(512, "x")
    assert isinstance(info.value, MemoryError)
    assert "512 bytes" in str(info.value) and "1,000 bytes" in str(info.value)
    assert "fragmented" in str(info.value)


def test_arch_compatibility_and_mismatch_message():
    assert device.arch_runs_on("sm_80", (8, 6)) and device.arch_runs_on("sm_90", (9, 0))
    assert not device.arch_runs_on("sm_90", (8, 0)) and not device.arch_runs_on("sm_80", (9, 0))
    assert not device.arch_runs_on("sm_90a", (9, 1)) and device.arch_runs_on("sm_90a", (9, 0))
    info = device.DeviceInfo(
        "NVIDIA A100-SXM4-80GB", 0, (8, 0), 108, 80 * 2**30, "12.4", "2024.1.2 (built for CUDA 12.4)"
    )
    with pytest.raises(fc.GpuError) as e:
        device.check_arch("sm_90", info, "12.4.131")
    for part in (
        "sm_90",
        "A100",
        "compute capability 8.0",
        "12.4.131",
        "driver CUDA 12.4",
        "2024.1.2",
        "cuda_arch",
    ):
        assert part in str(e.value)
    with pytest.raises(fc.GpuError, match="newer than the NVIDIA driver"):
        device.check_arch("sm_80", info, "13.0.88")
    device.check_arch("sm_80", info, "12.6.20")


def test_gpu_float64_flagged():
    x = ft.dvector("x")
    with fc.config.change_flags(warn_float64="raise", cuda_arch="sm_90"):
        with pytest.raises(fc.Float64Error, match="float64 on the GPU"):
            fc.function([x], ft.exp(x), mode=CUDA)
    with fc.config.change_flags(warn_float64="warn", cuda_arch="sm_90"):
        with pytest.warns(UserWarning, match="float64 on the GPU"):
            try:
                fc.function([x], ft.exp(x) + 1, mode=CUDA)
            except fc.GpuError:  # no nvcc: the warning came first
                pass


def test_gpu_float64_names_only_what_the_gpu_computes():
    """Shapes, views and sizes of float64 arrays stay on the host: no float64 warning for them,
    and a warning for GPU work names that work alone."""
    from fncache.codegen.cuda.linker import check_gpu_float64

    x, y = ft.dvector("x"), ft.fvector("y")
    host_only = FunctionGraph([x], [x.reshape((2, -1)), x.dimshuffle("x", 0), x.shape[0]])
    with fc.config.change_flags(warn_float64="raise"):
        check_gpu_float64(host_only, "views", render_graph(host_only))
    mixed = FunctionGraph([x, y], [ft.exp(x), x.reshape((2, -1)), ft.exp(y), ft.dot(x, x)])
    with fc.config.change_flags(warn_float64="raise"):
        with pytest.raises(fc.Float64Error) as e:
            check_gpu_float64(mixed, "mixed", render_graph(mixed))
    msg = str(e.value)
    assert "in 2 node(s)" in msg and "exp" in msg and "Reshape" not in msg, msg


def test_render_shares_the_c_scalar_code():
    x, y = ft.fvector("x"), ft.fvector("y")
    X = ft.fmatrix("X")
    g = FunctionGraph([x, y, X], [ft.exp(x) * y // 3, ft.sum((x - y) ** 2), X.sum(axis=0)])
    src = render_graph(optimize_graph(g, CUDA))
    s = src.source
    assert "FC_INLINE T fc_floordiv_##S" in s and "#define FC_INLINE static __device__" in s
    assert "fc_floordiv_float32(" in s  # the C backend's helper, reused
    assert "blockDim.x * gridDim.x" in s  # grid-stride loops
    assert "fc_block_reduce(" in s and "__shfl_down_sync" in s
    kinds = sorted(type(v).__name__ for v in src.specs.values())
    assert kinds == ["ElemwiseSpec", "ReduceSpec", "ReduceSpec"]
    assert ("float32", "float32", 1) in src.copies
    assert all(
        k.name in s
        for spec in src.specs.values()
        for k in ((spec.flat, spec.nd) if hasattr(spec, "flat") else (spec.rows, spec.cols, spec.final))
    )


def test_cuda_key_names_arch_and_toolkit_not_the_host(monkeypatch):
    from fncache.toolchain import nvcc as nvcc_mod
    from fncache.cache.keys import cuda_module_key

    def key(arch: str, version: str = "13.0.88"):
        return cuda_module_key("src", cuda_arch=arch, nvcc_version=version, nvcc_flags=nvcc_mod.NVCC_FLAGS)

    with fc.config.change_flags(cuda_arch="auto"):
        k_auto = key("sm_90")
    with fc.config.change_flags(cuda_arch="sm_90", march="none"):
        k_explicit = key("sm_90")
    assert k_auto == k_explicit  # a GPU host on auto finds what a login node built
    assert k_auto != key("sm_80")
    assert [d[0] for d in k_auto.explain(key("sm_90", "12.4.131"))] == ["nvcc"]
    monkeypatch.setattr(nvcc_mod, "_candidates", lambda: [])
    with pytest.raises(fc.GpuError, match="nvcc.*CUDA_HOME"):
        nvcc_mod.require_nvcc()


# ---------------------------------------------------------------------------------------
# nvcc


@needs_nvcc
def test_nvcc_compiles_the_suite_for_sm80(tmp_path):
    """The whole differential suite's module for another arch (sm_90 is compiled by the
    emulated suite and the compiledir test, through the cache)."""
    inputs, outs, _ = differential_case()
    g = FunctionGraph(inputs, list(outs.values()))
    src = render_graph(optimize_graph(g, CUDA))
    cubin = compile_cubin(src.source, "sm_80", tmp_path, "suite")
    assert cubin_sm(cubin.read_bytes()) == 80


@needs_nvcc
def test_nvcc_failure_is_a_compile_error(tmp_path):
    with pytest.raises(fc.CompileError) as e:
        compile_cubin("__global__ void k() { this is not C++; }\n", "sm_90", tmp_path, "bad")
    msg = str(e.value)
    assert "nvcc" in msg and "-arch=sm_90" in msg and "error" in msg
    kept = Path(msg.split("source kept at: ")[1].split(" ")[0])
    assert kept.suffix == ".cu" and "this is not C++" in kept.read_text()


@needs_nvcc
def test_unsupported_arch_names_the_toolkit(tmp_path):
    with pytest.raises(fc.GpuError) as e:
        compile_cubin('extern "C" __global__ void k() {}\n', "sm_35", tmp_path, "old")
    assert "sm_35" in str(e.value) and NVCC.version in str(e.value)


@needs_nvcc
def test_login_node_fills_the_cache(tmp_path):
    """cuda_arch=sm_90 without a GPU: kernels compiled and cached, GpuError only when called;
    then another process with the same flags, and a "GPU host" (the emulated sm_90 device)
    with cuda_arch=auto, find everything and compile nothing."""
    compiledir = tmp_path / "cd"
    old = device.set_backend(None)
    try:
        with fc.config.change_flags(compiledir=str(compiledir), cuda_arch="sm_90"):
            x, y = ft.fvector("x"), ft.fvector("y")
            f = fc.function([x, y], [ft.exp(x) * y, ft.sum((x - y) ** 2)], mode=CUDA)
            cuda_entries = [e for e in fc.cache.entries() if e["kind"] == "cuda"]
            assert len(cuda_entries) == 1
            found = fc.cache.find(cuda_entries[0]["key"])[0]
            meta = found["meta"]
            assert {"kernels.cubin", "kernels.cu"} <= set(meta["files"])
            assert cubin_sm((Path(found["path"]) / "kernels.cubin").read_bytes()) == 90
            assert meta["cuda_arch"] == "sm_90" and meta["nvcc"] == NVCC.version
            comps = cuda_entries[0]["components"]
            assert comps["cuda_arch"] == "sm_90" and comps["nvcc"] == NVCC.version
            assert "march" not in comps  # a cubin does not depend on the host CPU
            before = fc.cache.info()
            if not _pycuda_importable():
                with pytest.raises(fc.GpuError, match=r"pip install 'fncache\[cuda\]'"):
                    f(np.ones(3, "float32"), np.ones(3, "float32"))
        script = textwrap.dedent("""
            import json, sys, numpy as np, fncache as fc
            from fncache import tensor as ft
            if sys.argv[1] == "emulated-gpu-host":    # cuda_arch=auto on an (emulated) sm_90 device
                from fncache.codegen.cuda import device
                from fncache.codegen.cuda.emulator import EmulatorBackend
                device.set_backend(EmulatorBackend("sm_90"))
            x, y = ft.fvector("x"), ft.fvector("y")
            f = fc.function([x, y], [ft.exp(x) * y, ft.sum((x - y) ** 2)],
                            mode=fc.Mode(device="cuda"))
            info = fc.cache.info()
            if sys.argv[1] == "emulated-gpu-host":
                info["result"] = float(f(np.ones(5, "float32"), np.zeros(5, "float32"))[1].get())
            print(json.dumps(info))
        """)
        hosts = [("login-node-2", "sm_90")]
        if shutil.which("g++"):
            hosts.append(("emulated-gpu-host", "auto"))
        for host, arch in hosts:
            env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={compiledir},cuda_arch={arch}"}
            proc = subprocess.run(
                [sys.executable, "-c", script, host],
                capture_output=True,
                text=True,
                env=env,
                cwd=Path(__file__).resolve().parents[1],
                timeout=300,
            )
            assert proc.returncode == 0, proc.stderr
            after = json.loads(proc.stdout.strip().splitlines()[-1])
            assert after["compiles"] == before["compiles"], host  # nothing compiled
            assert after["entries"] == before["entries"], host
            assert after["hits"] > before["hits"], host
            if host == "emulated-gpu-host":
                assert after["result"] == 5.0
    finally:
        device.set_backend(old)


@pytest.mark.skipif(_pycuda_importable(), reason="pycuda is installed here")
def test_auto_arch_without_pycuda_says_what_is_missing():
    old = device.set_backend(None)
    try:
        x = ft.fvector("x")
        with fc.config.change_flags(cuda_arch="auto"):
            with pytest.raises(fc.GpuError) as e:
                fc.function([x], x + 1, mode=CUDA)
        assert "pycuda" in str(e.value) and "pip install 'fncache[cuda]'" in str(e.value)
    finally:
        device.set_backend(old)


# ---------------------------------------------------------------------------------------
# the emulated device: real runner, real kernels, CPU execution


@pytest.fixture
def emulated():
    from fncache.codegen.cuda.emulator import EmulatorBackend

    be = EmulatorBackend("sm_90")
    old = device.set_backend(be)
    try:
        with fc.config.change_flags(cuda_arch="sm_90"):
            yield be
    finally:
        device.set_backend(old)


@needs_emulator
def test_emulated_differential_suite(emulated):
    inputs, outs, values, want = differential_reference()
    names = list(outs)
    f = fc.function(inputs, list(outs.values()), mode=CUDA)
    assert cubin_sm(f._runner._image) == 90  # nvcc built the kernels for sm_90
    got = f(*values)
    check_differential(got, want, names)
    # again, with device-resident inputs (used in place) and a transposed (strided) one
    from fncache.codegen.cuda.emulator import EmuArray

    dev_values = [
        EmuArray.from_numpy(emulated, v) if isinstance(v, np.ndarray) and v.ndim else v for v in values
    ]
    check_differential(f(*dev_values), want, names)


@needs_emulator
def test_emulated_inputs_layouts_and_errors(emulated):
    from fncache.codegen.cuda.emulator import EmuArray

    X = ft.fmatrix("X")
    f = fc.function([X], [X * 2 + 1, X.sum(axis=0)], mode=CUDA)
    a = np.arange(12, dtype="float32").reshape(3, 4)
    at = EmuArray.from_numpy(emulated, a.T.copy())
    strided = arrays.dimshuffle(at._a, (1, 0), (), "T")  # a transposed view of device memory
    view = EmuArray(strided, emulated)
    r = f(view)
    assert_same(r[0].get(), a * 2 + 1, "strided input")
    assert_same(r[1].get(), a.sum(axis=0), "strided input sum")
    with pytest.raises(TypeError, match=r"float32 array with 2 dim.*GPU array of dtype float64"):
        f(EmuArray.from_numpy(emulated, a.astype("float64")))
    v = ft.fvector("v")
    g = fc.function([X, v], X + v, mode=CUDA)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        g(a, np.ones(5, "float32"))
    e = ft.fmatrix("e")
    h = fc.function([e], [ft.max(e, axis=0), e.sum(axis=1), e + 1], mode=CUDA)
    with pytest.raises(ValueError, match="zero-size array"):
        h(np.zeros((0, 3), "float32"))
    h2 = fc.function([e], [e.sum(axis=1), e + 1, e.sum(axis=0), ft.mean(e, axis=0)], mode=CUDA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s, p, s0, m0 = h2(np.zeros((0, 3), "float32"))
    assert s.get().shape == (0,) and p.get().shape == (0, 3)
    assert_same(s0.get(), np.zeros(3, "float32"), "sum over an empty axis")
    assert np.isnan(m0.get()).all() and m0.get().shape == (3,)
    i = ft.lvector("i")
    k = fc.function([i], i ** (i - 2), mode=CUDA)
    with pytest.raises(ValueError, match="negative integer powers"):
        k(np.arange(5, dtype="int64"))
    assert_same(k(np.arange(2, 6, dtype="int64")).get(), np.arange(2, 6) ** np.arange(0, 4))


@needs_emulator
def test_emulated_shared_updates_stay_on_device(emulated):
    w = fc.shared(np.zeros(4, dtype="float32"), name="w")
    x = ft.fmatrix("x")
    t = ft.fvector("t")
    err = ft.dot(x, w) - t
    grad = ft.dot(x.T, err) / 8
    step = fc.function([x, t], ft.sum(err**2), updates=[(w, w - 0.5 * grad)], mode=CUDA)
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((8, 4)).astype("float32")
    tv = xv @ np.array([1, -2, 3, 0.5], dtype="float32")
    wv = np.zeros(4, dtype="float32")
    uploads = []
    real_htod = emulated.htod
    emulated.htod = lambda ptr, host: (uploads.append(host.nbytes), real_htod(ptr, host))[1]
    for _ in range(20):
        loss = step(xv, tv)
        ev = xv @ wv - tv
        wv = wv - 0.5 * (xv.T @ ev) / 8
    emulated.htod = real_htod
    np.testing.assert_allclose(w.get_value(), wv, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(float(loss.get()), np.sum(ev**2), rtol=1e-3)
    # the inputs are uploaded every call, w only once (then updated on the device)
    assert uploads.count(xv.nbytes) == 20 and uploads.count(wv.nbytes) == 1
    w.set_value(np.ones(4, dtype="float32"))  # a new host value reaches the device
    step(xv, tv)
    e1 = xv @ np.ones(4) - tv
    np.testing.assert_allclose(w.get_value(), 1 - 0.5 * (xv.T @ e1) / 8, rtol=1e-4)
    # a CPU function sees the device updates
    cpu = fc.function([], w * 1, mode="FAST_COMPILE")
    assert_same(cpu(), w.get_value(), "cpu view of the shared value")


@needs_emulator
def test_emulated_out_of_memory(emulated):
    from fncache.codegen.cuda.emulator import EmulatorBackend

    small = EmulatorBackend("sm_90", memory_limit=10_000)
    device.set_backend(small)
    x = ft.fvector("x")
    f = fc.function([x], ft.exp(x) + x, mode=CUDA)
    with pytest.raises(fc.GpuMemoryError) as e:
        f(np.ones(2000, "float32"))  # 8000 bytes in, 8000 out: over 10 000
    msg = str(e.value)
    assert "8,000 bytes" in msg and "10,000 bytes" in msg and "total" in msg


@needs_emulator
def test_emulated_repeat_trust_and_buffer_reuse(emulated):
    x = ft.fvector("x")
    with fc.config.change_flags(allow_gc=False):
        f = fc.function([x], ft.sum(ft.exp(x) * 2) + ft.sum(x), mode=CUDA)
    v = np.linspace(-1, 1, 500).astype("float32")
    want = np.sum(np.exp(v.astype("float64")) * 2) + np.sum(v.astype("float64"))
    np.testing.assert_allclose(float(f(v).get()), want, rtol=1e-5)
    n = emulated.launches
    np.testing.assert_allclose(float(f.fn(3).get()), want, rtol=1e-5)
    assert emulated.launches > n
    f.trust_input = True
    np.testing.assert_allclose(float(f(v).get()), want, rtol=1e-5)
    f.free()
    np.testing.assert_allclose(float(f(x=v).get()), want, rtol=1e-5)


@needs_emulator
def test_emulated_gradient_training_step(emulated):
    """A gradient graph (fc.grad, with run-time broadcast sums and a slice's gradient) runs
    through the CUDA renderer and updates shared values on the device, as numpy computes."""
    rng = np.random.default_rng(7)
    xv, yv = rng.standard_normal((16, 5)), rng.integers(0, 2, 16).astype("float64")
    x, y = ft.dmatrix("x"), ft.dvector("y")
    w, b = fc.shared(np.zeros(5), name="w"), fc.shared(0.0, name="b")
    p = 1 / (1 + ft.exp(-ft.dot(x, w) - b))
    cost = ft.mean(-y * ft.log(p) - (1 - y) * ft.log(1 - p)) + 0.01 * (w[1:] ** 2).sum()
    gw, gb = fc.grad(cost, [w, b])
    step = fc.function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)], mode=CUDA)
    wv, bv = np.zeros(5), 0.0
    for _ in range(5):
        step(xv, yv)
        pv = 1 / (1 + np.exp(-xv @ wv - bv))
        gz = (pv - yv) / 16
        wv, bv = wv - 0.5 * (xv.T @ gz + 0.02 * np.r_[0.0, wv[1:]]), bv - 0.5 * gz.sum()
    np.testing.assert_allclose(w.get_value(), wv, rtol=1e-10)
    np.testing.assert_allclose(b.get_value(), bv, rtol=1e-10)
    with pytest.raises(ValueError, match="reshape: ndim=2 was declared"):
        s = ft.lvector("s")
        fc.function([x, s], x.reshape(s, ndim=2) * 2, mode=CUDA)(xv, np.array([2, 8, 5]))


@needs_emulator
def test_emulated_jacobians_and_hessians(emulated):
    from fncache.codegen.cuda.emulator import EmuArray

    check_jacobians(lambda a: EmuArray.from_numpy(emulated, a))


@needs_emulator
def test_emulated_uint64(emulated):
    """uint64 (unsigned sums, and its own division helpers and limits) renders for CUDA."""
    x = ft.tensor("x", "uint8", 2)
    a, b = ft.tensor("a", "uint64", 1), ft.tensor("b", "uint64", 1)
    f = fc.function([x, a, b], [x.sum(axis=0), a // b, a % b, a.min(), ft.maximum(a, b)], mode=CUDA)
    xv = np.arange(24, dtype="uint8").reshape(4, 6) * 11
    av = np.array([0, 5, 2**63 + 7, 2**64 - 1], dtype="uint64")
    bv = np.array([3, 0, 2**64 - 1, 2], dtype="uint64")
    with np.errstate(all="ignore"):
        want = [xv.sum(axis=0), av // bv, av % bv, av.min(), np.maximum(av, bv)]
    for k, (got, w) in enumerate(zip(f(xv, av, bv), want)):
        assert_same(got.get() if hasattr(got, "get") else got, w, f"output {k}")


@needs_emulator
def test_emulated_reductions_accumulate_in_acc_dtype(emulated):
    """The kernels accumulate in ``acc_dtype``: an int8 one wraps as numpy's loop does although
    warp shuffles move ints, a float32 one loses what a float64 one keeps."""
    i, x = ft.matrix("i", "int8"), ft.fmatrix("x")
    outs = [i.sum(axis=1, acc_dtype="int8"), i.sum(acc_dtype="int8"), i.prod(axis=0, acc_dtype="int8")]
    outs += [ft.mean(i, axis=1, dtype="int8"), x.sum(axis=1, acc_dtype="float32"), x.sum(axis=1)]
    f = fc.function([i, x], outs, mode=CUDA)
    iv = np.array([[100, 100, 7, -3, 90], [-128, -1, 127, 2, 3], [50, 50, 50, 50, 51]], "int8")
    xv = np.array([[2.0**24, 1, 1, 1, 1]] * 3, "float32")
    want = [np.add.reduce(iv, axis=1, dtype="int8").astype("int64")]
    want += [np.int64(np.add.reduce(iv, axis=None, dtype="int8"))]
    want += [np.multiply.reduce(iv, axis=0, dtype="int8").astype("int64"), np.mean(iv, axis=1, dtype="int8")]
    want += [
        np.add.reduce(xv, axis=1, dtype="float32"),
        np.add.reduce(xv, axis=1, dtype="float64").astype("float32"),
    ]
    for k, (g, w) in enumerate(zip(f(iv, xv), want)):
        assert_same(g.get(), w, f"output {k}", rtol=0, atol=0)


@needs_emulator
def test_emulated_lazy_ifelse(emulated):
    """A CUDA function runs a lazy ifelse on the host, as a loop: only the branch taken runs
    (the other's assertion would fail), and the kernels after it read its result uploaded."""
    c, x = ft.fscalar("c"), ft.fvector("x")
    bad = ft.assert_op(x, ft.all(ft.lt(x, 0)), "the else branch ran")
    f = fc.function([c, x], fc.ifelse(ft.gt(c, 0), ft.exp(x) * 2, ft.log(bad)) * 3, mode=CUDA)
    assert [type(n.op).__name__ for n in f.optimized_graph.toposort()][1] == "LazyIfElse"
    xv = np.array([0.5, 1.0, 2.0], dtype="float32")
    np.testing.assert_allclose(f(np.float32(1), xv).get(), np.exp(xv) * 6, rtol=1e-6)
    with pytest.raises(AssertionError, match="the else branch ran"):
        f(np.float32(-1), xv)


@needs_emulator
def test_emulated_scan(emulated):
    """A float32 RNN loop and its gradient in a CUDA function, against the same function on
    the CPU: each `Scan` node runs on the host, its step compiled for the CPU, and the kernels
    around it read its result uploaded."""
    from fncache.tensor.scan import Scan

    x, h0, W = ft.fmatrix("x"), ft.fvector("h0"), ft.fmatrix("W")
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + h), sequences=x, outputs_info=h0)
    outs = [hs * 2, *fc.grad((hs**2).sum(), [x, h0, W])]
    f, cpu = fc.function([x, h0, W], outs, mode=CUDA), fc.function([x, h0, W], outs)
    scans = [n for n in f.optimized_graph.toposort() if isinstance(n.op, Scan)]
    assert len(scans) == 2 and all(n.tag["inner_function"].mode.device == "cpu" for n in scans)
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s).astype("float32") for s in ((6, 3), (4,), (3, 4))]
    for got, want in zip(f(*args), cpu(*args)):
        np.testing.assert_allclose(got.get(), want, rtol=1e-5, atol=1e-6)
