"""The GPU as the runner uses it: pycuda import, device query, context, memory, kernel loading,
and the clear errors (GpuError) when any of it is missing or does not match.

The runner talks to a *backend* (the methods of :class:`PycudaBackend`), created on first use.
:func:`set_backend` installs another implementation; the test-suite uses it to run the same
runner and kernels in a CPU emulation of the CUDA execution model.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ...config import config
from ...errors import GpuError
from .arrays import DevArray
from .memory import DeviceMemory

__all__ = [
    "DeviceInfo",
    "PycudaBackend",
    "backend",
    "set_backend",
    "import_pycuda",
    "resolve_arch",
    "check_arch",
    "arch_runs_on",
    "parse_arch",
    "INSTALL_HINT",
]

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install it with: pip install 'fncache[cuda]' (pycuda builds against the CUDA "
    "toolkit and needs the NVIDIA driver's libcuda)."
)

_backend: Any = None


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    ordinal: int
    cc: tuple[int, int]  # compute capability
    sm_count: int
    total_memory: int
    driver: str  # highest CUDA version the driver supports, e.g. "12.4"
    pycuda: str  # pycuda version and the CUDA it was built for

    @property
    def arch(self) -> str:
        return f"sm_{self.cc[0]}{self.cc[1]}"

    def describe(self) -> str:
        return (
            f"{self.name} (device {self.ordinal}, compute capability "
            f"{self.cc[0]}.{self.cc[1]}, driver supporting CUDA {self.driver})"
        )


def import_pycuda() -> Any:
    """``pycuda.driver``, or a GpuError saying what is missing and how to install it."""
    try:
        import pycuda.driver as drv
    except ImportError as e:
        if "libcuda" in str(e):
            raise GpuError(
                f"device='cuda': pycuda is installed but cannot load the NVIDIA driver "
                f"library ({e}); this machine has no usable NVIDIA driver/GPU. Run on "
                "a GPU host, or set fc.config.cuda_arch (e.g. 'sm_90') to only build "
                "the kernels here."
            ) from None
        raise GpuError(
            f"device='cuda' needs pycuda, which cannot be imported ({e}). "
            f"{INSTALL_HINT} To only build the kernels on a machine without a GPU, "
            "set fc.config.cuda_arch to the GPU hosts' architecture (e.g. 'sm_90')."
        ) from None
    return drv


def _version(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


class PycudaBackend:
    """Device 0 (or ``$CUDA_DEVICE``, pycuda's convention, or the device of a context already
    current) through pycuda, in the device's primary context so CuPy, PyTorch and cuBLAS share
    pointers with us."""

    def __init__(self) -> None:
        drv = import_pycuda()
        self.drv = drv
        try:
            drv.init()
            count = drv.Device.count()
        except Exception as e:
            raise GpuError(
                f"device='cuda': the CUDA driver could not be initialised ({e}): no "
                "NVIDIA GPU is visible, or the driver is older than the CUDA version "
                f"pycuda was built for ({'.'.join(map(str, drv.get_version()))})."
            ) from None
        if count == 0:
            raise GpuError(
                "device='cuda': the CUDA driver sees no device (check CUDA_VISIBLE_DEVICES and nvidia-smi)."
            )
        ctx = drv.Context.get_current()
        if ctx is None:
            ordinal = int(os.environ.get("CUDA_DEVICE", "0"))
            dev = drv.Device(ordinal)
            ctx = dev.retain_primary_context()
            ctx.push()
            self._pushed = ctx
            atexit.register(self._release)
        else:
            dev = ctx.get_device()
            bus = dev.pci_bus_id()
            ordinal = next((i for i in range(count) if drv.Device(i).pci_bus_id() == bus), 0)
        self.context = ctx
        from pycuda import gpuarray
        from pycuda.tools import DeviceMemoryPool
        import pycuda

        self._gpuarray = gpuarray
        self._pool = DeviceMemoryPool()
        self.memory = DeviceMemory(self._pool.allocate, self._pool.free_held, drv.mem_get_info, self._is_oom)
        self.info = DeviceInfo(
            name=dev.name(),
            ordinal=ordinal,
            cc=tuple(dev.compute_capability()),
            sm_count=dev.get_attribute(drv.device_attribute.MULTIPROCESSOR_COUNT),
            total_memory=dev.total_memory(),
            driver=_version(drv.get_driver_version()),
            pycuda=f"{pycuda.VERSION_TEXT} (built for CUDA {'.'.join(map(str, drv.get_version()))})",
        )
        self._blas: Any = None
        log.info("fncache: using %s", self.info.describe())

    def _release(self) -> None:
        """At exit: return the pool's blocks while the context is current, then pop it
        (pycuda aborts the process if its context stack is not empty at exit)."""
        try:
            pool = getattr(self, "_pool", None)  # absent if __init__ failed after the push
            if pool is not None:
                pool.free_held()
            self._pushed.pop()
        except Exception as e:  # interpreter shutdown: nothing more to do
            log.debug("releasing the CUDA context at exit failed: %s", e)

    def _is_oom(self, e: BaseException) -> bool:
        return isinstance(e, (MemoryError, self.drv.MemoryError)) or "out of memory" in str(e).lower()

    # -- memory --------------------------------------------------------------------------
    def alloc(self, nbytes: int, what: str) -> Any:
        return self.memory.alloc(nbytes, what)

    def htod(self, ptr: int, host: np.ndarray) -> None:
        if host.nbytes:
            self.drv.memcpy_htod(ptr, host)

    def dtoh(self, host: np.ndarray, ptr: int) -> None:
        if host.nbytes:
            self.drv.memcpy_dtoh(host, ptr)

    def dtod(self, dst: int, src: int, nbytes: int) -> None:
        if nbytes:
            self.drv.memcpy_dtod(dst, src, nbytes)

    def memset0(self, ptr: int, nbytes: int) -> None:
        if nbytes:
            self.drv.memset_d8(ptr, 0, nbytes)

    def wrap(self, a: DevArray) -> Any:
        """The caller's handle of a fresh result: a pycuda GPUArray owning the allocation."""
        return self._gpuarray.GPUArray(
            a.shape,
            a.dtype,
            gpudata=a.base if a.size else None,
            strides=tuple(s * a.itemsize for s in a.strides),
        )

    # -- kernels -------------------------------------------------------------------------
    def load_module(self, image: bytes, source: str, formats: dict[str, str]) -> "PycudaModule":
        return PycudaModule(self.drv, self.drv.module_from_buffer(image), formats)

    def launch(
        self, fn: Any, grid: tuple[int, int], block: tuple[int, int, int], args: Sequence[int]
    ) -> None:
        fn.prepared_call(grid, block, *args)

    def blas(self) -> Any:
        if self._blas is None:
            from .blas import Cublas

            self._blas = Cublas()
        return self._blas

    def ensure_current(self) -> None:
        if self.drv.Context.get_current() is None:
            self.context.push()


class PycudaModule:
    def __init__(self, drv: Any, module: Any, formats: dict[str, str]) -> None:
        self._drv = drv
        self._module = module
        self.functions = {name: module.get_function(name).prepare(fmt) for name, fmt in formats.items()}

    def take_errflag(self) -> int:
        """Read and clear the module's ``fc_errflag`` (waits for the queued kernels)."""
        ptr, _ = self._module.get_global("fc_errflag")
        flag = np.zeros(1, dtype=np.int32)
        self._drv.memcpy_dtoh(flag, ptr)
        if flag[0]:
            self._drv.memset_d32(ptr, 0, 1)
        return int(flag[0])


def backend() -> Any:
    """The process's GPU backend, created on first use (raises GpuError when there is none)."""
    global _backend
    if _backend is None:
        _backend = PycudaBackend()
    return _backend


def set_backend(b: Any) -> Any:
    """Install another backend (``None``: back to pycuda on next use); returns the old one."""
    global _backend
    old, _backend = _backend, b
    return old


def resolve_arch() -> str:
    """``config.cuda_arch``, with ``auto`` replaced by the device's own architecture (which
    needs pycuda and a device: the GpuError says which is missing)."""
    if config.cuda_arch != "auto":
        return config.cuda_arch
    return backend().info.arch


def parse_arch(arch: str) -> tuple[int, int, str]:
    m = re.fullmatch(r"sm_(\d+)(\d)([a-z]?)", arch)
    if not m:
        raise ValueError(f"not a CUDA architecture: {arch!r}")
    return int(m.group(1)), int(m.group(2)), m.group(3)


def arch_runs_on(arch: str, cc: tuple[int, int]) -> bool:
    """Whether a cubin for ``arch`` runs on a device of compute capability ``cc``: same major
    version and a minor at least the cubin's; ``a`` (architecture-specific) cubins only on
    exactly their device."""
    major, minor, suffix = parse_arch(arch)
    if suffix == "a":
        return cc == (major, minor)
    return cc[0] == major and cc[1] >= minor


def check_arch(arch: str, info: DeviceInfo, nvcc_version: str) -> None:
    """Raise a GpuError when kernels built for ``arch`` by ``nvcc_version`` cannot
    run on the device: it names the device, its compute capability, the arch and versions."""
    versions = f"nvcc {nvcc_version}, driver CUDA {info.driver}, pycuda {info.pycuda}"
    if not arch_runs_on(arch, info.cc):
        raise GpuError(
            f"the kernels were compiled for {arch}, which {info.describe()} cannot run "
            f"(it needs {info.arch}). Set fc.config.cuda_arch='auto' (or '{info.arch}') on this "
            f"host, or fill the cache for {info.arch} from the login node. Versions: {versions}."
        )
    toolkit_major = int(nvcc_version.split(".")[0])
    driver_major = int(info.driver.split(".")[0])
    if driver_major < toolkit_major:
        raise GpuError(
            f"the kernels for {arch} were compiled by CUDA {nvcc_version}, newer than the NVIDIA "
            f"driver of {info.describe()} supports (CUDA {info.driver}): update the driver, or "
            f"compile with a CUDA {driver_major}.x toolkit (set CUDA_HOME). Versions: {versions}."
        )
