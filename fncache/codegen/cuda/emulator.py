"""A backend that runs the generated CUDA kernels on the CPU, for tests and for debugging
kernels on machines without a GPU.

``device.set_backend(EmulatorBackend("sm_90"))`` makes every ``device="cuda"`` function run its
*unchanged* kernel source compiled by g++ against ``emulate.cuh`` (each GPU thread a fiber, so
barriers and warp shuffles behave as on a GPU), with "device memory" in host RAM and cuBLAS
replaced by a numpy reading of the same column-major arguments. Everything else (runner,
geometry, views, shared variables, errors) is the real code. It checks logic, not speed or
the GPU's floating-point details (fused multiply-add, math library ulps).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import struct
import subprocess
import tempfile
import weakref
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ...errors import CompileError
from .arrays import DevArray
from .blas import GemmArgs, OP_N
from .device import DeviceInfo
from .memory import DeviceMemory

__all__ = ["EmulatorBackend", "EmuArray"]

log = logging.getLogger(__name__)


class _Buffer:
    """Emulated device memory: host bytes, freed (and uncounted) when unreferenced."""

    __slots__ = ("data", "__weakref__")

    def __init__(self, nbytes: int) -> None:
        self.data = np.empty(nbytes, dtype=np.uint8)

    def __int__(self) -> int:
        return self.data.ctypes.data


class EmuArray:
    """What an emulated function returns in place of a pycuda GPUArray."""

    def __init__(self, a: DevArray, backend: "EmulatorBackend") -> None:
        self.shape, self.dtype, self._a, self._backend = a.shape, a.dtype, a, backend

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self._a
        return {
            "shape": a.shape,
            "strides": tuple(s * a.itemsize for s in a.strides),
            "data": (a.ptr, False),
            "typestr": a.dtype.str,
            "version": 3,
        }

    def get(self) -> np.ndarray:
        from .runtime import download

        return download(self._backend, self._a)

    @classmethod
    def from_numpy(cls, backend: "EmulatorBackend", host: np.ndarray) -> "EmuArray":
        """An emulated device array holding a copy of ``host`` (as ``gpuarray.to_gpu``)."""
        from .runtime import upload

        return cls(upload(backend, host, "test data"), backend)


class _Module:
    def __init__(self, lib: ctypes.CDLL, formats: dict[str, str]) -> None:
        self._lib = lib
        self.functions = {
            name: (lib, ctypes.cast(getattr(lib, f"fc_emu_{name}"), ctypes.c_void_p), fmt)
            for name, fmt in formats.items()
        }

    def take_errflag(self) -> int:
        flag = ctypes.c_int.in_dll(self._lib, "fc_errflag")
        value, flag.value = flag.value, 0
        return value


class _Blas:
    """cuBLAS's column-major gemm, read from and written to emulated memory with numpy."""

    @staticmethod
    def _view(ptr: int, rows: int, cols: int, ld: int, dtype: np.dtype) -> np.ndarray:
        n = (cols - 1) * ld + rows if rows and cols else 0
        raw = (ctypes.c_char * max(n * dtype.itemsize, 1)).from_address(ptr)
        flat = np.frombuffer(raw, dtype=dtype, count=n)
        return np.lib.stride_tricks.as_strided(flat, (rows, cols), (dtype.itemsize, ld * dtype.itemsize))

    def gemm(self, dtype: str, g: GemmArgs, x: int, y: int, c: int) -> None:
        dt = np.dtype(dtype)
        X = self._view(x, g.m, g.k, g.ld_x, dt) if g.op_x == OP_N else self._view(x, g.k, g.m, g.ld_x, dt).T
        Y = self._view(y, g.k, g.n, g.ld_y, dt) if g.op_y == OP_N else self._view(y, g.n, g.k, g.ld_y, dt).T
        C = self._view(c, g.m, g.n, g.ld_c, dt)
        C[...] = X @ Y


class EmulatorBackend:
    """The backend interface of :class:`~fncache.codegen.cuda.device.PycudaBackend`, on the CPU.

    ``memory_limit`` caps the emulated device memory (to exercise out-of-memory handling).
    """

    def __init__(
        self, arch: str = "sm_90", sm_count: int = 2, memory_limit: int = 1 << 34, driver: str = "13.0"
    ) -> None:
        from .device import parse_arch

        major, minor, _ = parse_arch(arch)
        self.info = DeviceInfo(
            name="fncache CPU emulator",
            ordinal=0,
            cc=(major, minor),
            sm_count=sm_count,
            total_memory=memory_limit,
            driver=driver,
            pycuda="none (emulated)",
        )
        self._limit = memory_limit
        self._used = 0
        self._blas = _Blas()
        self.launches = 0
        self.memory = DeviceMemory(
            self._allocate, lambda: None, self._mem_info, lambda e: isinstance(e, MemoryError)
        )
        self._lib: ctypes.CDLL | None = None

    # -- memory --------------------------------------------------------------------------
    def _allocate(self, nbytes: int) -> _Buffer:
        if self._used + nbytes > self._limit:
            raise MemoryError("emulated out of memory")
        buf = _Buffer(nbytes)
        self._used += nbytes
        weakref.finalize(buf, self._release, nbytes)
        return buf

    def _release(self, nbytes: int) -> None:
        self._used -= nbytes

    def _mem_info(self) -> tuple[int, int]:
        return self._limit - self._used, self._limit

    def alloc(self, nbytes: int, what: str) -> Any:
        return self.memory.alloc(nbytes, what)

    def htod(self, ptr: int, host: np.ndarray) -> None:
        ctypes.memmove(ptr, np.ascontiguousarray(host).ctypes.data, host.nbytes)

    def dtoh(self, host: np.ndarray, ptr: int) -> None:
        ctypes.memmove(host.ctypes.data, ptr, host.nbytes)

    def dtod(self, dst: int, src: int, nbytes: int) -> None:
        ctypes.memmove(dst, src, nbytes)

    def memset0(self, ptr: int, nbytes: int) -> None:
        ctypes.memset(ptr, 0, nbytes)

    def wrap(self, a: DevArray) -> EmuArray:
        return EmuArray(a, self)

    # -- kernels -------------------------------------------------------------------------
    def load_module(self, image: bytes, source: str, formats: dict[str, str]) -> _Module:
        return _Module(_compile(source), formats)

    def launch(
        self,
        fn: tuple[ctypes.CDLL, ctypes.c_void_p, str],
        grid: tuple[int, int],
        block: tuple[int, int, int],
        args: Sequence[int],
    ) -> None:
        lib, thunk, fmt = fn
        buf = ctypes.create_string_buffer(struct.pack(fmt, *args), struct.calcsize(fmt) or 1)
        if lib.fc_emu_launch(thunk, buf, grid[0], grid[1], block[0]) != 0:
            raise RuntimeError(f"emulator: block of {block[0]} threads is too large")
        self.launches += 1

    def blas(self) -> _Blas:
        return self._blas

    def ensure_current(self) -> None:
        """The emulator has no context to make current."""


_BUILT: dict[str, ctypes.CDLL] = {}


def _compile(source: str) -> ctypes.CDLL:
    """Build ``source`` as a host library against emulate.cuh (once per source per process;
    the .so is kept under the temp dir, keyed by the source's hash)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    lib = _BUILT.get(digest)
    if lib is not None:
        return lib
    where = Path(tempfile.gettempdir()) / f"fncache-emulator-{os.getuid()}"
    where.mkdir(mode=0o700, exist_ok=True)
    so = where / f"emu_{digest}.so"
    if not so.exists():
        header = resources.files("fncache.codegen.cuda").joinpath("emulate.cuh")
        src = where / f"emu_{digest}.{os.getpid()}.cu"
        src.write_text(source)
        tmp = so.with_suffix(f".{os.getpid()}.tmp")
        command = [
            "g++",
            "-x",
            "c++",
            "-std=c++17",
            "-O1",
            "-shared",
            "-fPIC",
            "-DFC_EMULATE",
            "-w",
            "-include",
            str(header),
            "-o",
            str(tmp),
            str(src),
        ]
        proc = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        src.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise CompileError(
                f"emulator: g++ failed on the generated CUDA source: "
                f"{' '.join(command)}\n{proc.stderr[-4000:]}"
            )
        os.replace(tmp, so)
    lib = ctypes.CDLL(str(so))
    lib.fc_emu_launch.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_uint,
    ]
    lib.fc_emu_launch.restype = ctypes.c_int
    _BUILT[digest] = lib
    return lib
