"""``device="cuda"``: render the optimized graph to one CUDA module, get its cubin from the
compiledir or compile it with nvcc (once across processes and hosts), and wrap it in a runner.

Nothing here needs a GPU except with ``cuda_arch="auto"`` (the arch is the device's): with an
explicit ``cuda_arch`` a login node renders, compiles and caches the kernels, and the function
raises :class:`fncache.GpuError` only when called.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable

from ...cache.keys import cuda_module_key
from ...config import config
from ...tensor.elemwise import report_float64
from ...graph.fgraph import FunctionGraph
from ...mode import Mode
from . import device
from ...toolchain.nvcc import NVCC_FLAGS, compile_cubin, require_nvcc
from .render import CudaSource, render_graph
from .runtime import CudaRunner

__all__ = ["build_cuda_runner", "check_gpu_float64"]

log = logging.getLogger(__name__)

CUBIN = "kernels.cubin"
SOURCE = "kernels.cu"


def check_gpu_float64(fgraph: FunctionGraph, name: str, csrc: CudaSource) -> None:
    """``warn_float64`` on the GPU: float64 work runs at a fraction of float32 speed on most
    GPUs (and doubles memory traffic), so every node the GPU computes in float64 is named.
    Nodes the runner keeps on the host (shapes, sizes, Python ops, views) cost the GPU
    nothing and are not named: the warning points at what to change."""
    if config.warn_float64 == "ignore":
        return
    order = fgraph.toposort()
    nodes = [order[i] for i in csrc.on_device if any(o.dtype == "float64" for o in order[i].outputs)]
    if not nodes:
        return
    listed = ", ".join(str(n.op)[:60] for n in nodes[:5]) + (" ..." if len(nodes) > 5 else "")
    msg = (
        f"function {name!r} computes float64 on the GPU in {len(nodes)} node(s): {listed}. "
        "GPUs run float64 at a fraction of float32 speed: use float32 inputs and constants "
        "(fc.config.floatX='float32'), or set fc.config.warn_float64='ignore'."
    )
    report_float64(msg, stacklevel=6)  # the caller of fc.function


def build_cuda_runner(
    fgraph: FunctionGraph,
    mode: Mode,
    name: str,
    *,
    n_explicit: int,
    single: bool,
    converter: Callable[[int, Any], Any] | None = None,
    on_error: Callable[[BaseException], BaseException] | None = None,
    on_kwargs: Callable[..., Any] | None = None,
) -> CudaRunner:
    """The runner of ``fgraph`` on the GPU (see the module docstring); the Function binds its
    updates with :meth:`CudaRunner.bind_updates`."""
    csrc = render_graph(fgraph)
    check_gpu_float64(fgraph, name, csrc)
    arch = device.resolve_arch()
    nvcc = require_nvcc()
    key = cuda_module_key(csrc.source, cuda_arch=arch, nvcc_version=nvcc.version, nvcc_flags=NVCC_FLAGS)
    from ...cache import cache

    module = "fc_cuda_" + key.digest[:24]

    def build(staging: Path) -> dict:
        t0 = time.perf_counter()
        cubin = compile_cubin(csrc.source, arch, staging, module, nvcc)
        cubin.rename(staging / CUBIN)
        (staging / f"{module}.cu").rename(staging / SOURCE)
        return {
            "compile_seconds": time.perf_counter() - t0,
            "module": module,
            "cubin": CUBIN,
            "source": SOURCE,
            "cuda_arch": arch,
            "nvcc": nvcc.version,
            "kernels": len(csrc.kernel_names),
        }

    entry = cache.get_or_build(key, build)
    if config.cache_verify_hits:  # the cubin is left out: nvcc output is not compared byte for byte
        from ...cache.hitcheck import check_hit

        check_hit(key, entry.meta, {"source": (entry.read_bytes(SOURCE), csrc.source)})
    runner = CudaRunner(
        fgraph,
        csrc,
        entry.read_bytes(CUBIN),
        key.digest,
        arch,
        nvcc.version,
        name=name,
        n_explicit=n_explicit,
        single=single,
        allow_gc=bool(config.allow_gc),
        converter=converter or _no_converter,
        on_error=on_error,
        on_kwargs=on_kwargs,
    )
    if config.cuda_arch == "auto":
        runner.ready()  # this host is the target: report driver / load problems now
    return runner


def _no_converter(i: int, value: Any) -> Any:
    raise TypeError(f"input {i}: expected a numpy array or a GPU array, got {type(value).__name__}")
