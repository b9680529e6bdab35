"""The CUDA compiler: find ``nvcc``, read its version, compile a module to a cubin for one arch.

Only ``nvcc`` is needed here, never a GPU or the driver, which is what lets a login node fill
the compiledir for GPU hosts (``config.cuda_arch = "sm_90"``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .compiler import compile_error, run_compiler
from .process import run_tool
from ..errors import GpuError

__all__ = ["Nvcc", "find_nvcc", "require_nvcc", "compile_cubin", "cubin_sm", "NVCC_FLAGS", "arch_number"]

log = logging.getLogger(__name__)

#: Flags of every compile (part of the cache key). IEEE math (no --use_fast_math): results must
#: match numpy's NaN/inf behaviour, as the C backend's do. The suppressed front-end diagnostics
#: (spelled the way every CUDA 11+ nvcc accepts) are about scalar helpers a module does not use
#: and unsigned comparisons in the shared helper macros.
NVCC_FLAGS = (
    "-cubin",
    "-O3",
    "-std=c++17",
    "-Xcudafe",
    "--diag_suppress=177",
    "-Xcudafe",
    "--diag_suppress=186",
    "-Xcudafe",
    "--diag_suppress=514",
)

_found: dict[tuple[str, int, int], "Nvcc"] = {}


@dataclass(frozen=True)
class Nvcc:
    path: str
    version: str  # e.g. "13.0.88"

    @property
    def release(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)


def _candidates() -> list[str]:
    out = []
    if os.environ.get("FNCACHE_NVCC"):
        out.append(os.environ["FNCACHE_NVCC"])
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            out.append(os.path.join(os.environ[var], "bin", "nvcc"))
    which = shutil.which("nvcc")
    if which:
        out.append(which)
    out.append("/usr/local/cuda/bin/nvcc")
    return out


def find_nvcc() -> Nvcc | None:
    """The first usable nvcc of ``$FNCACHE_NVCC``, ``$CUDA_HOME/bin``, ``$CUDA_PATH/bin``,
    ``PATH``, ``/usr/local/cuda/bin``; its version is read once per binary (path, size, mtime)."""
    for cand in _candidates():
        try:
            st = os.stat(cand)
        except OSError:
            continue
        memo = (cand, st.st_size, int(st.st_mtime))
        if memo in _found:
            return _found[memo]
        try:
            proc = run_tool([cand, "--version"])
        except (OSError, subprocess.SubprocessError) as e:
            log.debug("cannot run %s --version: %s", cand, e)
            continue
        m = re.search(r"\bV(\d+\.\d+\.\d+)", proc.stdout) or re.search(r"release (\d+\.\d+)", proc.stdout)
        if proc.returncode != 0 or not m:
            log.debug("%s --version gave no version: %s", cand, proc.stdout[-200:])
            continue
        _found[memo] = Nvcc(cand, m.group(1))
        return _found[memo]
    return None


def require_nvcc() -> Nvcc:
    nvcc = find_nvcc()
    if nvcc is None:
        raise GpuError(
            "device='cuda' needs the CUDA compiler nvcc (from the CUDA toolkit), and none was "
            "found (looked at $FNCACHE_NVCC, $CUDA_HOME/bin, $CUDA_PATH/bin, PATH, "
            "/usr/local/cuda/bin). Install the toolkit or point CUDA_HOME at it. nvcc is also "
            "needed on GPU hosts whose kernels are already cached: its version is part of the "
            "cache key."
        )
    return nvcc


def arch_number(arch: str) -> int:
    """``sm_90`` -> 90, ``sm_90a`` -> 90."""
    return int(re.fullmatch(r"sm_(\d+)[a-z]?", arch).group(1))  # type: ignore[union-attr]


def cubin_sm(image: bytes) -> int | None:
    """The SM number a cubin was built for (from its ELF header), or None if it is no cubin."""
    if len(image) < 52 or image[:4] != b"\x7fELF" or image[4] != 2:
        return None
    machine = struct.unpack_from("<H", image, 18)[0]
    if machine != 190:  # EM_CUDA
        return None
    return (struct.unpack_from("<I", image, 48)[0] >> 8) & 0xFF


def compile_cubin(source: str, arch: str, out_dir: Path, name: str, nvcc: Nvcc | None = None) -> Path:
    """Write ``out_dir/<name>.cu`` and compile it to ``out_dir/<name>.cubin`` for ``arch``.

    Raises :class:`GpuError` when this toolkit cannot target ``arch`` (an arch / toolkit
    mismatch, not a bug in the source) and :class:`CompileError` (command, stderr tail, kept
    source) for any other failure.
    """
    nvcc = nvcc or require_nvcc()
    out_dir = Path(out_dir)
    src = out_dir / f"{name}.cu"
    src.write_text(source)
    target = out_dir / f"{name}.cubin"
    command = [nvcc.path, *NVCC_FLAGS, f"-arch={arch}", "-o", str(target), str(src)]
    t0 = time.perf_counter()
    failure = run_compiler(command, target, hint="install the CUDA toolkit or put nvcc on PATH")
    if failure is not None:
        reason, stderr = failure
        if "Unsupported gpu architecture" in stderr or "is not defined for option 'gpu-arch" in stderr:
            raise GpuError(
                f"the CUDA toolkit at {nvcc.path} (nvcc {nvcc.version}) cannot compile for "
                f"{arch}: {stderr.strip().splitlines()[-1] if stderr.strip() else reason}. "
                "Use a toolkit that supports this architecture (see `nvcc --list-gpu-arch`), "
                "or set fc.config.cuda_arch to an architecture it supports."
            )
        raise compile_error(f"compiling CUDA module {name}", failure, command, source, name, suffix=".cu")
    log.debug("nvcc compiled %s for %s in %.3fs", name, arch, time.perf_counter() - t0)
    return target
