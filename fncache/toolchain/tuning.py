"""Pick the code shape that is fastest on this CPU, measured once per host.

The same ``-march`` flags are not the same speed everywhere: gcc's ``-mtune`` for some CPUs
prefers 128-bit vectors, so a loop of ``exp``/``sin`` calls glibc's SSE vector math
(``_ZGVbN2v_exp``) on a CPU whose AVX2 or AVX-512 variants are much faster, and on others the
wider variants are slower.  When a host's flags are first detected, one small library holding
a W1-like kernel (``exp(x)*y + sin(z)/(1+x*x)`` over 4096 float64) is compiled once, with one
copy of the kernel per candidate vector width (``target("prefer-vector-width=N")``), and the
copies are timed in interleaved rounds, in three batches.  A width other than the compiler's
default is chosen only when it wins clearly (:func:`decide`) in every batch: two hosts with the same CPU under different load
then make the same choice.  The choice is remembered in the host record and becomes the
``vector_width`` component of every module key.  Cost: one compiler run and a few
milliseconds of timing, once per host and compiler; ``config.vector_width`` pins it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from .process import as_c_source

__all__ = [
    "WIDTHS",
    "candidates",
    "build_argv",
    "choose_vector_width",
    "decide",
    "width_flags",
    "BUDGET",
    "MARGIN",
]

log = logging.getLogger(__name__)

#: Vector widths fncache knows: gcc's default for the -mtune, or a preference for N bits.
WIDTHS = ("default", "128", "256", "512")
#: Most seconds the timing rounds may take (they normally take a few milliseconds).
BUDGET = 0.1
#: How much faster than the default another width must be to be chosen: 8 %, both in its best
#: time and in the median of its per-round ratios (timing noise is not a reason to differ).
MARGIN = 0.08
#: Interleaved timing rounds (each times every candidate once); at least 5 even past BUDGET.
ROUNDS = 30
#: Calls per width in a round, the fastest counted: on a busy machine one call in a few is slowed
#: (another process on the core or its sibling), and a round whose one call was would otherwise
#: move the median of the per-round ratios by itself.
REPEATS = 3
#: Separate batches of rounds, each decided on its own: a width other than the default is chosen
#: only when every batch chooses it, so a passing phase of the machine (another process's burst,
#: a frequency change) that favours one width during one batch does not become the host's choice.
BATCHES = 3

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


def build_argv(cxx: list[str], flags: list[str], widths: list[str], directory: Path) -> list[str]:
    """The compiler call that builds the timing library for ``widths`` with ``flags`` as
    ``directory/tune.so`` (its source is written to ``directory`` now)."""
    source = directory / "tune.c"
    source.write_text(_render(widths))
    return [
        *cxx,
        *flags,
        "-O3",
        "-pipe",
        "-fopenmp-simd",
        "-fno-math-errno",
        "-shared",
        "-fPIC",
        *as_c_source(source),
        "-o",
        str(directory / "tune.so"),
        "-lmvec",
        "-lm",
    ]


def choose_vector_width(
    cxx: list[str], flags: list[str], isa: frozenset[str], built: Path | None = None
) -> dict | None:
    """``{"vector_width": choice, "ns_per_element": {width: ns}}`` for code built with ``flags``
    (features ``isa``, which this CPU has: the caller checked); None when there is nothing to
    choose from or the kernel cannot be built (the caller then uses the compiler's default).
    ``built``: the library :func:`build_argv` made for ``candidates(isa)`` with flags that
    compile the same code (detection builds it alongside its own compiler runs)."""
    import ctypes  # only when a host is detected: not on the import path
    import subprocess
    from ..fs.workdirs import WorkDir

    from .process import run_tool

    widths = candidates(isa)
    if len(widths) < 2:
        return None
    t0 = time.perf_counter()
    with WorkDir() as work:
        d = work.path
        if built is None:
            argv = build_argv(cxx, flags, widths, d)
            try:
                proc = run_tool(argv, tmpdir=str(d))
            except (OSError, subprocess.SubprocessError) as e:
                log.info("vector width tuning: cannot run the compiler (%s); using the default", e)
                return None
            if proc.returncode != 0:
                log.info(
                    "vector width tuning: the test kernel did not compile; using the default: %s",
                    proc.stderr.strip()[-500:],
                )
                return None
            built = d / "tune.so"
        t1 = time.perf_counter()
        lib = ctypes.CDLL(str(built))
        deadline = time.perf_counter() + BUDGET
        batches = [_time(lib, widths, deadline=deadline) for _ in range(BATCHES)]
    rounds = [r for batch in batches for r in batch]
    best = {w: min(r[w] for r in rounds) for w in widths}
    choices = {decide(batch) for batch in batches}
    choice = choices.pop() if len(choices) == 1 else "default"
    log.info(
        "vector width tuning: %s ns/element -> %s (compile %.0f ms, timing %.1f ms, %d rounds)",
        {w: round(v, 2) for w, v in best.items()},
        choice,
        1e3 * (t1 - t0),
        1e3 * (time.perf_counter() - t1),
        len(rounds),
    )
    return {"vector_width": choice, "ns_per_element": {w: round(v, 3) for w, v in best.items()}}


def decide(rounds: list[dict[str, float]]) -> str:
    """The width to build for, from interleaved timing rounds (each: width -> ns per element).

    ``default`` unless another width is at least :data:`MARGIN` faster both in its best time and
    in the median of its ratio to the default within the same round; among several such, the
    one with the best time.  The best time alone would follow one lucky round; the paired
    median follows what is typical even while the machine's load drifts between rounds.
    """
    widths = list(rounds[0])
    best = {w: min(r[w] for r in rounds) for w in widths}
    clear = []
    for w in widths:
        if w == "default":
            continue
        ratios = sorted(r[w] / r["default"] for r in rounds)
        median = (
            ratios[len(ratios) // 2]
            if len(ratios) % 2
            else (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
        )
        if best[w] * (1 + MARGIN) <= best["default"] and median * (1 + MARGIN) <= 1:
            clear.append(w)
    return min(clear, key=lambda w: best[w]) if clear else "default"


def _time(lib: Any, widths: list[str], deadline: float) -> list[dict[str, float]]:
    """Interleaved rounds of ns per element of each width's kernel (the order rotates, so no
    width always runs first): :data:`ROUNDS` rounds, or fewer (at least five) past the deadline."""
    import ctypes

    import numpy as np

    rng = np.random.default_rng(0)
    x, y, z = (rng.uniform(-3, 3, _N) for _ in range(3))
    out = np.empty(_N)
    args = [ctypes.c_long(_N), *(ctypes.c_void_p(a.ctypes.data) for a in (x, y, z, out))]
    kernels = []
    for w in widths:
        fn = getattr(lib, f"fc_tune_{w}")
        fn.restype = None
        fn(*args)  # warm: page in the code and glibc's vector math
        kernels.append((w, fn))
    rounds = []
    for k in range(ROUNDS):
        times = {}
        for w, fn in kernels[k % len(kernels) :] + kernels[: k % len(kernels)]:
            best = None
            for _ in range(REPEATS):
                t = time.perf_counter_ns()
                fn(*args)
                t = time.perf_counter_ns() - t
                best = t if best is None or t < best else best
            times[w] = best / _N
        rounds.append(times)
        if k >= 4 and time.perf_counter() > deadline:
            break
    return rounds
