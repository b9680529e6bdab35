"""Pick the code shape that is fastest on this CPU, measured once per host.

The same ``-march`` flags are not the same speed everywhere: gcc's ``-mtune`` for some CPUs
prefers 128-bit vectors, so a loop of ``exp``/``sin`` calls glibc's SSE vector math
(``_ZGVbN2v_exp``) on a CPU whose AVX2 or AVX-512 variants are much faster, and on others the
wider variants are slower.  When a host's flags are first detected, one small library holding
a W1-like kernel (``exp(x)*y + sin(z)/(1+x*x)`` over 4096 float64) is compiled once, with one
copy of the kernel per candidate vector width (``target("prefer-vector-width=N")``), and each
copy is timed, interleaved, best of several runs.  The winner (``default`` unless a wider width
is at least 5% faster) is remembered in the host record and becomes the ``vector_width``
component of every module key.  Cost: one compiler run and a few milliseconds of timing,
bounded by :data:`BUDGET` seconds, once per host and compiler; ``config.vector_width`` pins it.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

__all__ = ["WIDTHS", "candidates", "choose_vector_width", "width_flags", "BUDGET"]

log = logging.getLogger(__name__)

#: Vector widths fncache knows: gcc's default for the -mtune, or a preference for N bits.
WIDTHS = ("default", "128", "256", "512")
#: Most seconds tuning may take (compiling included) on a host's first detection.
BUDGET = 0.5
#: A wider width must beat the default by this factor to be chosen (timing noise is not a reason).
MARGIN = 0.95

_N = 4096
_SOURCE = """
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
double sin(double);
#define FC_TUNE_KERNEL(NAME, ATTR) ATTR __attribute__((visibility("default"))) \\
void NAME(long n, const double *x, const double *y, const double *z, double *o) { \\
    _Pragma("omp simd") for (long i = 0; i < n; i++) \\
        o[i] = exp(x[i]) * y[i] + sin(z[i]) / (1 + x[i] * x[i]); }
"""


def candidates(isa: frozenset[str] | set[str]) -> list[str]:
    """The widths worth timing for code using ``isa``: wider ones only where registers exist."""
    out = ["default"]
    if "avx" in isa or "avx2" in isa:
        out.append("256")
    if "avx512f" in isa:
        out.append("512")
    return out


def width_flags(width: str) -> list[str]:
    """The compiler flags of a width choice."""
    return [] if width == "default" else [f"-mprefer-vector-width={width}"]


def _render(widths: list[str]) -> str:
    lines = [_SOURCE]
    for w in widths:
        attr = "" if w == "default" else f'__attribute__((target("prefer-vector-width={w}")))'
        lines.append(f"FC_TUNE_KERNEL(fc_tune_{w}, {attr})")
    return "\n".join(lines) + "\n"


def choose_vector_width(cxx: list[str], flags: list[str], isa: frozenset[str]) -> dict | None:
    """``{"vector_width": choice, "ns_per_element": {width: ns}}`` for code built with ``flags``
    (features ``isa``, which this CPU has: the caller checked); None when there is nothing to
    choose from or the kernel cannot be built (the caller then uses the compiler's default)."""
    import ctypes  # only when a host is detected: not on the import path
    import subprocess
    import tempfile
    widths = candidates(isa)
    if len(widths) < 2:
        return None
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fncache-tune-") as d:
        lib_path = Path(d) / "tune.so"
        argv = [*cxx, *flags, "-O3", "-fopenmp-simd", "-fno-math-errno", "-shared", "-fPIC",
                "-x", "c", "-", "-o", str(lib_path), "-lmvec", "-lm"]
        try:
            proc = subprocess.run(argv, input=_render(widths), capture_output=True, text=True,
                                  timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            log.info("vector width tuning: cannot run the compiler (%s); using the default", e)
            return None
        if proc.returncode != 0:
            log.info("vector width tuning: the test kernel did not compile; using the default: %s",
                     proc.stderr.strip()[-500:])
            return None
        lib = ctypes.CDLL(str(lib_path))
        best = _time(lib, widths, deadline=t0 + BUDGET)
    default = best["default"]
    choice = min(widths, key=lambda w: best[w])
    if choice != "default" and best[choice] > MARGIN * default:
        choice = "default"
    log.info("vector width tuning: %s ns/element -> %s (%.0f ms)",
             {w: round(v, 2) for w, v in best.items()}, choice, 1e3 * (time.perf_counter() - t0))
    return {"vector_width": choice, "ns_per_element": {w: round(v, 3) for w, v in best.items()}}


def _time(lib: Any, widths: list[str], deadline: float) -> dict[str, float]:
    """Best ns per element of each width's kernel, interleaved rounds until the deadline
    (at least three rounds, at most twenty)."""
    import ctypes

    import numpy as np
    rng = np.random.default_rng(0)
    x, y, z = (rng.uniform(-3, 3, _N) for _ in range(3))
    out = np.empty(_N)
    args = [ctypes.c_long(_N), *(ctypes.c_void_p(a.ctypes.data) for a in (x, y, z, out))]
    kernels = {}
    for w in widths:
        fn = getattr(lib, f"fc_tune_{w}")
        fn.restype = None
        fn(*args)  # warm: page in the code and glibc's vector math
        kernels[w] = fn
    best = {w: float("inf") for w in widths}
    for rounds in range(20):
        for w, fn in kernels.items():
            t = time.perf_counter_ns()
            fn(*args)
            best[w] = min(best[w], (time.perf_counter_ns() - t) / _N)
        if rounds >= 2 and time.perf_counter() > deadline:
            break
    return best
