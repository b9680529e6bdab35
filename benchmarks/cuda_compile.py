"""Cold compile of a CUDA module of special functions, side by side: the iterative helpers as
called device functions (``FC_OUTLINE``, what fncache renders) and force-inlined at every call
site (the same source with that one definition changed), compiled by nvcc with fncache's flags.

    python benchmarks/cuda_compile.py [--arch sm_90] [--rounds 2]

Needs nvcc and g++, no GPU: the module is rendered through the CPU emulator's device. Prints,
per variant, the minimum wall and CPU seconds of nvcc (children's user + system time) over
``--rounds`` compiles and the cubin's size.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

OUTLINED = "#define FC_OUTLINE static __device__ __noinline__"
INLINED = "#define FC_OUTLINE static __device__ __forceinline__"


def module_source(arch: str) -> str:
    """The CUDA source fncache renders for nine incomplete gamma / beta outputs (the emulated
    special-function test's module)."""
    import fncache as fc
    from fncache import tensor as ft
    from fncache.codegen.cuda import device
    from fncache.codegen.cuda.emulator import EmulatorBackend
    from fncache.codegen.cuda.render import render_graph

    device.set_backend(EmulatorBackend(arch))
    k, x, y = ft.dvector("k"), ft.dvector("x"), ft.fvector("y")
    outs = [ft.gammainc(k, x), ft.gammaincc(k, x), ft.gammaincinv(k, x / 50), ft.gammainccinv(k, x / 50)]
    outs += [ft.betainc(k, x, x / 50), ft.erfcinv(x / 25), ft.gammainc(y, y), ft.betainc(y, y, y / 50)]
    outs += [ft.betaincinv(k, x, x / 50)]
    with fc.config.change_flags(cuda_arch=arch, compiledir=tempfile.mkdtemp(prefix="fncache-cuda-bench-")):
        f = fc.function([k, x, y], outs, mode=fc.Mode(device="cuda"))
    return render_graph(f.optimized_graph).source


def compile_once(source: str, arch: str, name: str) -> tuple[float, float, int]:
    """(wall s, nvcc CPU s, cubin bytes) of one compile."""
    from fncache.toolchain.nvcc import compile_cubin

    out = Path(tempfile.mkdtemp(prefix="fncache-cuda-bench-"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cubin = compile_cubin(source, arch, out, name)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, os.path.getsize(cubin)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    source = module_source(args.arch)
    if OUTLINED not in source:
        raise SystemExit(f"the rendered module does not define FC_OUTLINE as {OUTLINED!r}")
    variants = {"outlined (fncache)": source, "force-inlined": source.replace(OUTLINED, INLINED)}
    results = {}
    for r in range(args.rounds):
        for label, src in variants.items():  # alternated: a busy moment hits both alike
            got = compile_once(src, args.arch, f"v{len(results)}_{r}")
            best = results.get(label)
            results[label] = got if best is None else (min(best[0], got[0]), min(best[1], got[1]), got[2])
    print(f"nvcc {args.arch}, {len(source) // 1024} KiB of source, best of {args.rounds}:")
    for label, (wall, cpu, size) in results.items():
        print(f"  {label:20s} wall {wall:6.1f} s   cpu {cpu:6.1f} s   cubin {size / 1e6:5.2f} MB")
    base, inl = results["outlined (fncache)"], results["force-inlined"]
    print(f"  force-inlined / outlined: wall {inl[0] / base[0]:.2f}x, cpu {inl[1] / base[1]:.2f}x")


if __name__ == "__main__":
    main()
