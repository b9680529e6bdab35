"""The CUDA backend on a real GPU (docs/cuda.md). Marked ``gpu``; skipped when pycuda or a device
is missing. ``benchmarks/gpu/run_gpu.sh`` runs it on a bare GPU machine.

The numpy differential suite (the same graph as the emulated one in test_cuda_codegen.py) with
numpy and GPUArray inputs, run-time-size Jacobians and Hessians, shared variables kept on the
device, pickling a GPU function, the out-of-memory error, an arch mismatch, and a warm start from
the cache in a fresh process.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen.cuda import device
from fcutil import assert_same
from test_cuda_codegen import check_differential, check_jacobians, differential_reference


def _why_no_gpu() -> str | None:
    try:
        import pycuda.driver as drv
    except ImportError as e:
        return f"pycuda cannot be imported ({e})"
    try:
        drv.init()
        if drv.Device.count() == 0:
            return "no CUDA device"
    except Exception as e:
        return f"no usable CUDA driver/device ({e})"
    return None


_REASON = _why_no_gpu()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]
CUDA = fc.Mode(device="cuda")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gpu():
    """The real pycuda backend, kernels built for this device."""
    old = device.set_backend(None)
    try:
        with fc.config.change_flags(cuda_arch="auto"):
            yield device.backend()
    finally:
        device.set_backend(old)


def test_differential_suite_on_device(gpu):
    from pycuda import gpuarray

    inputs, outs, values, want = differential_reference()
    names = list(outs)
    f = fc.function(inputs, list(outs.values()), mode=CUDA)
    got = f(*values)
    assert all(isinstance(g, gpuarray.GPUArray) for g in got)
    check_differential(got, want, names)
    dev = [gpuarray.to_gpu(v) if isinstance(v, np.ndarray) and v.ndim else v for v in values]
    check_differential(f(*dev), want, names)


def test_gpuarray_inputs_in_place_and_strided(gpu):
    from pycuda import gpuarray

    X = ft.fmatrix("X")
    f = fc.function([X], [X * 2 + 1, X.sum(axis=0), X.sum(axis=1)], mode=CUDA)
    a = np.random.default_rng(0).standard_normal((300, 200)).astype("float32")
    t = gpuarray.to_gpu(np.ascontiguousarray(a.T)).transpose()  # a strided view
    r = f(t)
    assert_same(r[0].get(), a * 2 + 1, "strided elementwise")
    np.testing.assert_allclose(r[1].get(), a.sum(axis=0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(r[2].get(), a.sum(axis=1), rtol=1e-5, atol=1e-4)
    with pytest.raises(TypeError, match="GPU array of dtype float64"):
        f(gpuarray.to_gpu(a.astype("float64")))


def test_jacobians_and_hessians(gpu):
    from pycuda import gpuarray

    check_jacobians(gpuarray.to_gpu)


def test_large_reductions_split_across_blocks(gpu):
    x = ft.fvector("x")
    X = ft.fmatrix("X")
    f = fc.function([x, X], [ft.sum((x - 0.5) ** 2), ft.max(x), X.sum(axis=0), X.mean(axis=1)], mode=CUDA)
    rng = np.random.default_rng(1)
    xv = rng.random(10**7).astype("float32")
    Xv = rng.random((100_000, 3)).astype("float32")
    s, m, c, r = (v.get() for v in f(xv, Xv))
    np.testing.assert_allclose(s, np.sum((xv.astype("float64") - 0.5) ** 2), rtol=1e-6)
    assert m == xv.max()
    np.testing.assert_allclose(c, Xv.astype("float64").sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(r, Xv.astype("float64").mean(axis=1), rtol=1e-6)


def test_dot_against_numpy(gpu):
    A, B = ft.fmatrix("A"), ft.fmatrix("B")
    f = fc.function([A, B], [ft.dot(A, B), ft.dot(A.T, A), ft.dot(A[:, ::2], B[::2, :])], mode=CUDA)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((512, 384)).astype("float32")
    b = rng.standard_normal((384, 256)).astype("float32")
    r = [v.get() for v in f(a, b)]
    for got, want in zip(r, [a @ b, a.T @ a, a[:, ::2] @ b[::2, :]]):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)


def test_shared_updates_stay_on_device(gpu):
    w = fc.shared(np.zeros(64, dtype="float32"), name="w")
    x = ft.fmatrix("x")
    t = ft.fvector("t")
    err = ft.dot(x, w) - t
    step = fc.function([x, t], ft.sum(err**2), updates=[(w, w - 0.1 * ft.dot(x.T, err) / 256)], mode=CUDA)
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((256, 64)).astype("float32")
    tv = xv @ rng.standard_normal(64).astype("float32")
    uploads = []
    real = gpu.htod
    gpu.htod = lambda ptr, host: (uploads.append(host.nbytes), real(ptr, host))[1]
    try:
        wv = np.zeros(64)
        for _ in range(10):
            step(xv, tv)
            wv = wv - 0.1 * xv.T.astype("float64") @ (xv @ wv - tv) / 256
    finally:
        gpu.htod = real
    np.testing.assert_allclose(w.get_value(), wv, rtol=1e-3, atol=1e-4)
    assert uploads.count(w.get_value().nbytes) == 1  # once, then updated on the device


def test_pickled_gpu_function(gpu):
    acc = fc.shared(np.zeros(5, dtype="float32"), name="acc")
    x = ft.fvector("x")
    f = fc.function([x], ft.exp(x) + acc, updates=[(acc, acc + x)], mode=CUDA)
    v = np.arange(5, dtype="float32")
    f(v)
    g = pickle.loads(pickle.dumps(f))
    assert g.mode.device == "cuda"
    np.testing.assert_allclose(g(v).get(), np.exp(v) + v, rtol=1e-6)
    np.testing.assert_allclose(f(v).get(), np.exp(v) + v, rtol=1e-6)


def test_out_of_memory_names_the_sizes(gpu):
    too_much = gpu.info.total_memory * 2
    with pytest.raises(fc.GpuMemoryError) as e:
        gpu.alloc(too_much, "a test buffer")
    assert isinstance(e.value, MemoryError)
    msg = str(e.value)
    assert f"{too_much:,} bytes" in msg and "free" in msg and f"{gpu.info.total_memory:,}" in msg


def test_arch_mismatch_names_device_and_versions(gpu):
    other = "sm_80" if gpu.info.cc[0] != 8 else "sm_90"
    x = ft.fvector("x")
    with fc.config.change_flags(cuda_arch=other):
        f = fc.function([x], x * 3, mode=CUDA)
        with pytest.raises(fc.GpuError) as e:
            f(np.ones(4, "float32"))
    msg = str(e.value)
    assert other in msg and gpu.info.name in msg and gpu.info.arch in msg and "nvcc" in msg


def test_warm_start_from_cache(tmp_path):
    """A fresh process with a populated cache compiles nothing; prints its timing next to
    CUDA context creation plus one launch (the benchmark reports these properly)."""
    script = textwrap.dedent("""
        import json, sys, time
        t0 = time.perf_counter()
        import numpy as np, fncache as fc
        from fncache import tensor as ft
        x, y = ft.fvector("x"), ft.fvector("y")
        f = fc.function([x, y], ft.sum((x - y) ** 2), mode=fc.Mode(device="cuda"))
        r = float(f(np.ones(1000, "float32"), np.zeros(1000, "float32")).get())
        print(json.dumps({"seconds": time.perf_counter() - t0, "result": r,
                          "compiles": fc.cache.info()["compiles"]}))
    """)
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"}
    runs = []
    for _ in range(2):
        p = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert p.returncode == 0, p.stderr
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    assert runs[0]["result"] == runs[1]["result"] == 1000.0
    assert runs[1]["compiles"] == runs[0]["compiles"]  # the warm process compiled nothing
    print(f"cold {runs[0]['seconds']:.3f}s, warm {runs[1]['seconds']:.3f}s")
