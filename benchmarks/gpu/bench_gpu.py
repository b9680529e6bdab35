"""The GPU benchmark: fncache's CUDA backend side by side with CuPy, in one run on
one device, against the targets in benchmarks/gpu/README.md.

    python benchmarks/gpu/bench_gpu.py [--n 100000000] [--json results.json] [--quick]

Every figure is measured in this run (CUDA events around repeated calls on device-resident
inputs; the minimum over trials); a competitor that is missing or fails is reported as
``n/a (reason)``, never estimated. Sections:

* copy: device-to-device copy bandwidth (bytes read + written / time), the roofline W1/W2 are
  compared with;
* W1 ``exp(x)*y + sin(z)/(1+x*x)`` and W2 ``sum((x-y)**2)`` on float32 vectors of ``--n``:
  fncache, CuPy (plain expression, ``cupy.fuse``, ``ElementwiseKernel`` / ``ReductionKernel``);
* dot 4096 x 4096 float32: fncache (cuBLAS) vs ``cupy.matmul``;
* warm start: a fresh process with a populated cache, ``fc.function`` to first result, vs a
  fresh process creating the CUDA context and launching one kernel.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

W1_CUPY = "o = exp(x) * y + sin(z) / (1.0f + x * x)"


def timed(fn: Callable[[], Any], repeat: int, trials: int) -> float:
    """Seconds per call: CUDA events around ``repeat`` calls, minimum over ``trials``."""
    import pycuda.driver as drv

    fn()
    drv.Context.synchronize()
    best = float("inf")
    for _ in range(trials):
        start, end = drv.Event(), drv.Event()
        start.record()
        for _ in range(repeat):
            fn()
        end.record()
        end.synchronize()
        best = min(best, start.time_till(end) / 1e3 / repeat)
    return best


class Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []

    def row(self, section: str, impl: str, seconds: float | None, extra: str = "", note: str = "") -> None:
        self.rows.append({"section": section, "impl": impl, "seconds": seconds, "extra": extra, "note": note})
        shown = f"{seconds * 1e3:10.3f} ms" if seconds is not None else f"{'n/a':>13}"
        print(f"{section:10} {impl:28} {shown}  {extra}{('  ' + note) if note else ''}", flush=True)

    def target(self, name: str, ok: bool | None, detail: str) -> None:
        self.targets.append(
            {"target": name, "status": {True: "PASS", False: "MISS", None: "n/a"}[ok], "detail": detail}
        )


def measure(
    rep: Report,
    section: str,
    impl: str,
    fn: Callable[[], Any],
    repeat: int,
    trials: int,
    nbytes: int | None = None,
    flops: int | None = None,
    note: str = "",
) -> float | None:
    """Time ``fn`` and add a row (bandwidth or TFLOP/s when given); a failure is a row that
    says n/a and why, so one competitor failing does not stop the run."""
    try:
        s = timed(fn, repeat, trials)
    except Exception as e:
        rep.row(section, impl, None, note=f"n/a ({type(e).__name__}: {str(e)[:120]})")
        return None
    extra = f"{nbytes / s / 1e9:8.1f} GB/s" if nbytes else ""
    extra += f"{flops / s / 1e12:8.1f} TFLOP/s" if flops else ""
    rep.row(section, impl, s, extra, note)
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**8, help="W1/W2 vector length")
    ap.add_argument("--dot", type=int, default=4096, help="dot matrix size")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--json", help="also write every figure here")
    args = ap.parse_args()
    repeat, trials = (5, 3) if args.quick else (20, 5)

    import pycuda.driver as drv
    from pycuda import gpuarray
    from fncache.codegen.cuda import device
    from fncache.toolchain.nvcc import find_nvcc

    be = device.backend()  # the primary context, shared with CuPy
    info = be.info
    try:
        import cupy as cp

        cupy_version = cp.__version__
    except Exception as e:
        cp = None
        cupy_version = f"n/a ({e})"
    nvcc = find_nvcc()
    print(
        f"device: {info.describe()}, {info.sm_count} SMs; nvcc {nvcc.version if nvcc else '?'}; "
        f"pycuda {info.pycuda}; cupy {cupy_version}; python {platform.python_version()}"
    )
    rep = Report()
    n = args.n
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(n, dtype=np.float32) for _ in range(3)]
    gx, gy, gz = (gpuarray.to_gpu(h) for h in host)
    cx = cy = cz = None
    if cp is not None:
        cx, cy, cz = (cp.asarray(h) for h in host)

    # -- copy bandwidth ---------------------------------------------------------------
    nbytes = n * 4
    dst = gpuarray.empty(n, np.float32)
    copy_s = measure(
        rep,
        "copy",
        "cuMemcpyDtoD",
        lambda: drv.memcpy_dtod(dst.gpudata, gx.gpudata, nbytes),
        repeat,
        trials,
        nbytes=2 * nbytes,
    )
    if cp is not None:
        cdst = cp.empty_like(cx)
        measure(rep, "copy", "cupy copyto", lambda: cp.copyto(cdst, cx), repeat, trials, nbytes=2 * nbytes)
    copy_bw = 2 * nbytes / copy_s if copy_s else None

    # -- W1 -----------------------------------------------------------------------------
    x, y, z = ft.fvector("x"), ft.fvector("y"), ft.fvector("z")
    f1 = fc.function([x, y, z], ft.exp(x) * y + ft.sin(z) / (1 + x * x), mode=fc.Mode(device="cuda"))
    ref = np.exp(host[0][:1000].astype("f8")) * host[1][:1000] + np.sin(host[2][:1000].astype("f8")) / (
        1 + host[0][:1000].astype("f8") ** 2
    )
    err = np.max(np.abs(f1(gx, gy, gz).get()[:1000] - ref) / (np.abs(ref) + 1))
    w1_bytes = 4 * nbytes
    w1 = measure(
        rep,
        "W1",
        "fncache",
        lambda: f1(gx, gy, gz),
        repeat,
        trials,
        nbytes=w1_bytes,
        note=f"max rel err {err:.1e}",
    )
    w1_cupy: list[float] = []
    if cp is not None:
        fused = cp.fuse(lambda a, b, c: cp.exp(a) * b + cp.sin(c) / (1 + a * a))
        ek = cp.ElementwiseKernel("float32 x, float32 y, float32 z", "float32 o", W1_CUPY, "w1")
        for impl, fn in [
            ("cupy expression", lambda: cp.exp(cx) * cy + cp.sin(cz) / (1 + cx * cx)),
            ("cupy.fuse", lambda: fused(cx, cy, cz)),
            ("cupy ElementwiseKernel", lambda: ek(cx, cy, cz)),
        ]:
            s = measure(rep, "W1", impl, fn, repeat, trials, nbytes=w1_bytes)
            if s is not None and impl != "cupy expression":
                w1_cupy.append(s)
    if w1 and copy_bw:
        frac = w1_bytes / w1 / copy_bw
        rep.target("W1 >= 85% of copy bandwidth", frac >= 0.85, f"{frac:.1%}")
    rep.target(
        "W1 no slower than cupy.fuse/ElementwiseKernel",
        (w1 <= min(w1_cupy)) if (w1 and w1_cupy) else None,
        f"fncache {w1 * 1e3:.3f} ms vs best CuPy {min(w1_cupy) * 1e3:.3f} ms"
        if (w1 and w1_cupy)
        else "not measured",
    )

    # -- W2 -----------------------------------------------------------------------------
    f2 = fc.function([x, y], ft.sum((x - y) ** 2), mode=fc.Mode(device="cuda"))
    want = np.sum((host[0].astype("f8") - host[1]) ** 2)
    got = float(f2(gx, gy).get())
    w2_bytes = 2 * nbytes
    w2 = measure(
        rep,
        "W2",
        "fncache",
        lambda: f2(gx, gy),
        repeat,
        trials,
        nbytes=w2_bytes,
        note=f"rel err {abs(got - want) / want:.1e}",
    )
    w2_cupy: list[float] = []
    if cp is not None:
        fused2 = cp.fuse(lambda a, b: cp.sum((a - b) ** 2))
        rk = cp.ReductionKernel(
            "float32 x, float32 y", "float32 z", "(x - y) * (x - y)", "a + b", "z = a", "0", "w2"
        )
        for impl, fn in [
            ("cupy expression", lambda: cp.sum((cx - cy) ** 2)),
            ("cupy.fuse", lambda: fused2(cx, cy)),
            ("cupy ReductionKernel", lambda: rk(cx, cy)),
        ]:
            s = measure(rep, "W2", impl, fn, repeat, trials, nbytes=w2_bytes)
            if s is not None:
                w2_cupy.append(s)
    if w2 and copy_bw:
        frac = w2_bytes / w2 / copy_bw
        rep.target("W2 >= 80% of copy bandwidth", frac >= 0.80, f"{frac:.1%}")
    rep.target(
        "W2 no slower than CuPy",
        (w2 <= min(w2_cupy)) if (w2 and w2_cupy) else None,
        f"fncache {w2 * 1e3:.3f} ms vs best CuPy {min(w2_cupy) * 1e3:.3f} ms"
        if (w2 and w2_cupy)
        else "not measured",
    )

    # -- dot ----------------------------------------------------------------------------
    m = args.dot
    A = rng.standard_normal((m, m), dtype=np.float32)
    B = rng.standard_normal((m, m), dtype=np.float32)
    gA, gB = gpuarray.to_gpu(A), gpuarray.to_gpu(B)
    P, Q = ft.fmatrix("P"), ft.fmatrix("Q")
    fd = fc.function([P, Q], ft.dot(P, Q), mode=fc.Mode(device="cuda"))
    flops = 2 * m**3
    dot_err = np.max(np.abs(fd(gA, gB).get()[:8] - A[:8] @ B)) / np.max(np.abs(A[:8] @ B))
    d_fc = measure(
        rep,
        "dot",
        "fncache (cuBLAS)",
        lambda: fd(gA, gB),
        repeat,
        trials,
        flops=flops,
        note=f"rel err {dot_err:.1e}",
    )
    d_cp = None
    if cp is not None:
        cA, cB = cp.asarray(A), cp.asarray(B)
        d_cp = measure(rep, "dot", "cupy.matmul", lambda: cp.matmul(cA, cB), repeat, trials, flops=flops)
    rep.target(
        "dot within 1.25x of cupy.matmul",
        (d_fc <= 1.25 * d_cp) if (d_fc and d_cp) else None,
        f"ratio {d_fc / d_cp:.2f}" if (d_fc and d_cp) else "not measured",
    )

    # -- warm start ---------------------------------------------------------------------
    warm_start(rep)

    print("\nTargets:")
    for t in rep.targets:
        print(f"  {t['status']:5} {t['target']}: {t['detail']}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "device": info.describe(),
                    "sm_count": info.sm_count,
                    "pycuda": info.pycuda,
                    "cupy": cupy_version,
                    "nvcc": nvcc.version if nvcc else None,
                    "n": n,
                    "rows": rep.rows,
                    "targets": rep.targets,
                },
                indent=1,
            )
        )
    return 0


WARM = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import fncache as fc
    from fncache import tensor as ft
    x, y = ft.fvector("x"), ft.fvector("y")
    v = np.ones(1024, "float32")
    t0 = time.perf_counter()
    f = fc.function([x, y], ft.sum((x - y) ** 2), mode=fc.Mode(device="cuda"))
    r = float(f(v, v).get())
    print(json.dumps({"seconds": time.perf_counter() - t0, "compiles": fc.cache.info()["compiles"]}))
""")

BASELINE = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    image = open(sys.argv[1], "rb").read()
    t0 = time.perf_counter()
    import pycuda.driver as drv
    drv.init()
    ctx = drv.Device(0).retain_primary_context()
    ctx.push()
    k = drv.module_from_buffer(image).get_function("k")
    buf = drv.mem_alloc(4)
    k(buf, block=(32, 1, 1), grid=(1, 1))
    ctx.synchronize()
    print(json.dumps({"seconds": time.perf_counter() - t0}))
    ctx.pop()
""")


def _fresh(code: str, env: dict, *argv: str) -> dict:
    p = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed")
    return json.loads(p.stdout.strip().splitlines()[-1])


def warm_start(rep: Report, trials: int = 5) -> None:
    """fc.function to first result in a fresh process (cache warm) vs context + one launch."""
    from fncache.toolchain.nvcc import compile_cubin

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FNCACHE_FLAGS": f"compiledir={tmp}/cd"}
        try:
            cold = _fresh(WARM, env)
            rep.row("warm", "fncache cold (compiles)", cold["seconds"])
            warm = [_fresh(WARM, env) for _ in range(trials)]
            compiled = [w["compiles"] - cold["compiles"] for w in warm]
            fc_s = min(w["seconds"] for w in warm)
            rep.row("warm", "fncache warm", fc_s, f"compiles in warm runs: {sum(compiled)}")
        except Exception as e:
            rep.row("warm", "fncache warm", None, note=f"n/a ({e})")
            rep.target("warm start within 1.5x of context + launch", None, "not measured")
            return
        from fncache.codegen.cuda import device

        cubin = compile_cubin(
            'extern "C" __global__ void k(int *p) { if (!threadIdx.x) *p = 1; }\n',
            device.backend().info.arch,
            Path(tmp),
            "baseline",
        )
        try:
            base = min(_fresh(BASELINE, env, str(cubin))["seconds"] for _ in range(trials))
            rep.row("warm", "context + module + 1 launch", base)
        except Exception as e:
            rep.row("warm", "context + module + 1 launch", None, note=f"n/a ({e})")
            base = None
        rep.target(
            "warm start within 1.5x of context + launch",
            (fc_s <= 1.5 * base) if base else None,
            f"{fc_s * 1e3:.1f} ms vs {base * 1e3:.1f} ms (x{fc_s / base:.2f})"
            if base
            else "baseline not measured",
        )


if __name__ == "__main__":
    sys.exit(main())
