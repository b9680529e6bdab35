"""The limit on this machine: W1 and W2 as hand-written C loops with glibc's vector math.

One plain loop per workload, ``#pragma omp simd`` with ``exp``/``sin`` declared ``omp declare
simd`` so gcc calls libmvec (``_ZGV*``), built with ``-O3 -march=native -fno-math-errno``: NaN
and infinities are kept (no ``-ffast-math``), as fncache keeps them.  One copy per vector width
(the compiler's default, 256 and 512 bits); the column shows a width's copy, and the main rows
the fastest copy.  Each call allocates its output, as every other column does.
"""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
import tempfile

import numpy as np

from timing import Unavailable

WIDTHS = ("default", "256", "512")

_SOURCE = """
#pragma omp declare simd notinbranch
double exp(double);
#pragma omp declare simd notinbranch
double sin(double);
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
float sinf(float);
#define W1(NAME, T, EXP, SIN, ATTR) ATTR void NAME(long n, const T *x, const T *y, const T *z, T *o) \\
    { _Pragma("omp simd") for (long i = 0; i < n; i++) o[i] = EXP(x[i]) * y[i] + SIN(z[i]) / (1 + x[i] * x[i]); }
#define W2(NAME, ATTR) ATTR double NAME(long n, const double *x, const double *y) \\
    { double s = 0; _Pragma("omp simd reduction(+:s)") for (long i = 0; i < n; i++) \\
      { double d = x[i] - y[i]; s += d * d; } return s; }
"""


def _attr(width: str) -> str:
    return "" if width == "default" else f'__attribute__((target("prefer-vector-width={width}")))'


@functools.lru_cache(maxsize=None)
def library() -> ctypes.CDLL:
    """Compile (once per process) and load the hand-written loops."""
    src = [_SOURCE]
    for w in WIDTHS:
        src += [
            f"W1(w1_f64_{w}, double, exp, sin, {_attr(w)})",
            f"W1(w1_f32_{w}, float, expf, sinf, {_attr(w)})",
            f"W2(w2_{w}, {_attr(w)})",
        ]
    d = tempfile.mkdtemp(prefix="fncache-bench-handc-")
    so = os.path.join(d, "handc.so")
    try:
        proc = subprocess.run(
            [
                "gcc",
                "-O3",
                "-march=native",
                "-fopenmp-simd",
                "-fno-math-errno",
                "-shared",
                "-fPIC",
                "-x",
                "c",
                "-",
                "-o",
                so,
                "-lmvec",
                "-lm",
            ],
            input="\n".join(src) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise Unavailable(f"gcc: {e}") from None
    if proc.returncode != 0:
        raise Unavailable(f"gcc failed: {proc.stderr.strip()[-300:]}")
    return ctypes.CDLL(so)


def w1(width: str, dtype: str):
    """A callable ``(x, y, z) -> out`` running the hand-written W1 loop of ``width``."""
    fn = getattr(library(), f"w1_{'f64' if dtype == 'float64' else 'f32'}_{width}")
    fn.restype = None
    ptr = ctypes.c_void_p

    def call(x, y, z):
        o = np.empty_like(x)
        fn(
            ctypes.c_long(x.shape[0]),
            ptr(x.ctypes.data),
            ptr(y.ctypes.data),
            ptr(z.ctypes.data),
            ptr(o.ctypes.data),
        )
        return o

    return call


def w2(width: str):
    """A callable ``(x, y) -> float`` running the hand-written W2 loop of ``width``."""
    fn = getattr(library(), f"w2_{width}")
    fn.restype = ctypes.c_double
    ptr = ctypes.c_void_p

    def call(x, y):
        return fn(ctypes.c_long(x.shape[0]), ptr(x.ctypes.data), ptr(y.ctypes.data))

    return call


def runnable_widths() -> list[str]:
    """The widths this CPU has registers for (wider copies would only repeat the default)."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        pass
    return [
        w
        for w in WIDTHS
        if w == "default" or (w == "256" and " avx" in flags) or (w == "512" and " avx512f" in flags)
    ]
