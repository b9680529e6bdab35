"""Lazy loading of the implementations compared, with the settings the benchmark uses.

Each ``get_*`` returns the module (configured) or raises :class:`timing.Unavailable`
with the reason, so a missing competitor only empties its own column.
"""

from __future__ import annotations

import contextlib
import functools
import os

from timing import Unavailable


@functools.lru_cache(maxsize=None)
def _get_fncache():
    try:
        import fncache as fc
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        raise Unavailable(f"import fncache failed: {type(e).__name__}: {e}") from None
    if not hasattr(fc, "function"):
        raise Unavailable("fncache.function missing (core not landed yet)")
    try:
        from fncache import tensor as ft
    except Exception as e:  # noqa: BLE001
        raise Unavailable(f"import fncache.tensor failed: {type(e).__name__}: {e}") from None
    if not hasattr(ft, "vector"):
        raise Unavailable("fncache.tensor.vector missing (front end not landed yet)")
    return fc, ft


def get_fncache():
    """(fc, ft) — fncache and fncache.tensor, or Unavailable."""
    return _get_fncache()


@contextlib.contextmanager
def fncache_flags(fc, **flags):
    """Set fncache config flags for a block (change_flags when it exists, else setattr)."""
    cf = getattr(fc.config, "change_flags", None)
    if cf is not None:
        with cf(**flags):
            yield
        return
    old = {k: getattr(fc.config, k) for k in flags}
    try:
        for k, v in flags.items():
            setattr(fc.config, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(fc.config, k, v)


def one_blas_thread():
    """A context that runs numpy's and PyTensor's BLAS calls on one thread (threadpoolctl), for
    figures labelled "1 thread": fncache runs them with ``threads=1``, and a competitor's BLAS
    left at its default would use every core. Without threadpoolctl: Unavailable."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise Unavailable("threadpoolctl missing (pip install -e '.[bench]')") from None
    return threadpool_limits(limits=1, user_api="blas")


@functools.lru_cache(maxsize=None)
def get_numexpr():
    try:
        import numexpr as ne
    except Exception as e:  # noqa: BLE001
        raise Unavailable(f"numexpr not installed ({type(e).__name__})") from None
    ne.set_num_threads(1)
    if hasattr(ne, "set_vml_num_threads"):
        ne.set_vml_num_threads(1)
    return ne


@functools.lru_cache(maxsize=None)
def get_numba():
    try:
        import numba
    except Exception as e:  # noqa: BLE001
        raise Unavailable(f"numba not installed ({type(e).__name__}: {e})") from None
    return numba


@functools.lru_cache(maxsize=None)
def get_pytensor():
    """(pytensor, pytensor.tensor, mode) with PyTensor's C virtual machine linker.

    PyTensor >= 2.x spells the C VM linker ``"cvm"`` (VMLinker(use_cloop=True), C thunks);
    its default linker became numba in 3.x, so the mode is given explicitly.
    """
    import warnings

    # pip-installed PyTensor links no BLAS for its C code (its Gemv/Gemm then call scipy's
    # BLAS from Python); the warning is expected here and documented in the README.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode
    except Exception as e:  # noqa: BLE001
        raise Unavailable(f"pytensor not installed ({type(e).__name__}: {e})") from None
    if not pytensor.config.cxx:
        raise Unavailable("pytensor has no C compiler (config.cxx empty): C backend unusable")
    mode = Mode(linker="cvm", optimizer="fast_run")
    return pytensor, pt, mode


PYTENSOR_MODE_SRC = 'from pytensor.compile.mode import Mode; MODE = Mode(linker="cvm", optimizer="fast_run")'


def versions() -> dict:
    out = {}
    import platform

    import numpy

    out["python"] = platform.python_version()
    out["numpy"] = numpy.__version__
    for name in ("numexpr", "numba", "llvmlite", "pytensor", "scipy"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "?")
        except Exception:  # noqa: BLE001
            out[name] = None
    try:
        fc, _ = get_fncache()
        out["fncache"] = getattr(fc, "__version__", "?")
    except Unavailable as e:
        out["fncache"] = f"n/a ({e})"
    return out


def machine() -> dict:
    import platform

    info = {"cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import subprocess

        cc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, timeout=10)
        info["gcc"] = cc.stdout.splitlines()[0] if cc.stdout else None
    except Exception:  # noqa: BLE001
        info["gcc"] = None
    return info
