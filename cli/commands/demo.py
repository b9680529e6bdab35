"""``demo``: compile and run a sample function twice, to show a cold and a warm (cached) start.

Runs on a fresh machine right after ``pip install``: by default it compiles into a new temporary
compiledir and removes it afterwards.  With ``--compiledir`` it uses that directory, so to keep
the first build cold however often the demo ran there before, every run compiles with a define
of its own (``-DFNCACHE_DEMO_RUN=<random>`` added to ``cxxflags``): that changes the native
module's key, not its code or its results.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import tempfile
import time
from typing import Any

from .. import format as fmt
from ..api import CliError
from ..output import Output
from .common import add_command, compiledir_for

__all__ = ["register"]

N = 10**6
EXPRESSION = "exp(x)*y + sin(z)/(1+x*x)"
#: The demo fails when compiled and numpy results differ by more than this, relative to the size
#: of the terms (W1's two terms can cancel, so relative-to-result errors mean nothing).
TOLERANCE = 1e-10
_REPEATS = 5


def _measure(cache: Any, build: Any) -> tuple[float, Any, Any, dict[str, int]]:
    """Time ``build()`` (compile + first call) and count the cache events it caused."""
    before = cache.stats()
    t0 = time.perf_counter()
    f, result = build()
    seconds = time.perf_counter() - t0
    after = cache.stats()
    return seconds, f, result, {k: int(after[k] - before[k]) for k in ("hits", "misses", "compiles")}


def _run(cache: Any, out: Output) -> dict[str, Any]:
    import fncache as fc
    import numpy as np

    from fncache import tensor as ft

    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(N) for _ in range(3))
    x, y, z = ft.vector("x"), ft.vector("y"), ft.vector("z")
    expr = ft.exp(x) * y + ft.sin(z) / (1 + x * x)

    def build() -> tuple[Any, Any]:
        f = fc.function([x, y, z], expr, name="demo")
        return f, f(a, b, c)

    with out.activity("cold: optimizing and compiling"):
        cold, _, first, cold_events = _measure(cache, build)
    warm, g, second, warm_events = _measure(cache, build)
    call = min(_timed(lambda: g(a, b, c)) for _ in range(_REPEATS))
    numpy_call = min(_timed(lambda: np.exp(a) * b + np.sin(c) / (1 + a * a)) for _ in range(_REPEATS))
    reference = np.exp(a) * b + np.sin(c) / (1 + a * a)
    scale = np.abs(np.exp(a) * b) + np.abs(np.sin(c) / (1 + a * a))
    error = float(max(np.max(np.abs(r - reference) / scale) for r in (first, second)))
    return {
        "cold_seconds": cold,
        "warm_seconds": warm,
        "speedup": cold / warm if warm else None,
        "cold": cold_events,
        "warm": warm_events,
        "call_seconds": call,
        "numpy_seconds": numpy_call,
        "max_error": error,
        "matches_numpy": error <= TOLERANCE,
    }


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_demo(args: argparse.Namespace, out: Output) -> int:
    given = getattr(args, "compiledir", None)
    path = given if given is not None else tempfile.mkdtemp(prefix="fncache-demo-")
    try:
        cache = compiledir_for(argparse.Namespace(compiledir=path), create=True)
        from fncache.config import config

        define = f"-DFNCACHE_DEMO_RUN={secrets.randbelow(2**62)}"
        with config.change_flags(cxxflags=f"{config.cxxflags} {define}"):
            results = _run(cache, out)
    finally:
        if given is None:
            shutil.rmtree(path, ignore_errors=True)
    doc = {
        "compiledir": str(path),
        "temporary": given is None,
        "expression": EXPRESSION,
        "define": define,
        "n": N,
        "dtype": "float64",
        **results,
    }
    ok = doc["matches_numpy"] and doc["warm"]["compiles"] == 0
    if out.json_mode:
        out.emit_json(doc)
    else:
        _render(doc, out)
    if not ok:
        raise CliError(
            "the demo failed: "
            + (
                "compiled results differ from numpy"
                if not doc["matches_numpy"]
                else "the second build was not served by the cache"
            )
        )
    return 0


def _render(doc: dict[str, Any], out: Output) -> None:
    where = f"{doc['compiledir']} (temporary, removed afterwards)" if doc["temporary"] else doc["compiledir"]
    cold, warm = doc["cold"], doc["warm"]
    width = max(len(fmt.duration(doc[k])) for k in ("cold_seconds", "warm_seconds", "call_seconds"))

    def timing(key: str) -> str:
        return fmt.duration(doc[key]).rjust(width)

    speed = f"{doc['speedup']:.0f}x faster" if doc["speedup"] else ""
    out.line(f"f(x, y, z) = {EXPRESSION}   on 3 x {doc['n']:,} {doc['dtype']}")
    out.fields(
        [
            ("compiledir", where),
            ("run key", f"cxxflags += {doc['define']}  (so that this run compiles cold)"),
            (
                "cold",
                (
                    f"{timing('cold_seconds')}  fc.function + first call with nothing cached: "
                    f"{fmt.count(cold['compiles'], 'entry', 'entries')} built (optimizer + C compiler)"
                ),
            ),
            (
                "warm",
                (
                    f"{timing('warm_seconds')}  the same graph again: {fmt.count(warm['hits'], 'cache hit')}, "
                    f"{fmt.count(warm['compiles'], 'compile')} ({speed})"
                ),
            ),
            ("per call", f"{timing('call_seconds')}  (numpy: {fmt.duration(doc['numpy_seconds'])})"),
            (
                "result",
                ("matches" if doc["matches_numpy"] else "DIFFERS FROM")
                + f" numpy (max error {doc['max_error']:.1e} relative to the terms)",
            ),
        ]
    )
    out.line(
        f"warm start {speed} than cold; "
        + ("results match numpy" if doc["matches_numpy"] else "results differ from numpy")
    )


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    add_command(
        sub,
        common,
        "demo",
        run_demo,
        "compile and run a sample function twice: cold, then warm (cached)",
        f"Compile f(x, y, z) = {EXPRESSION} on {N:,} float64 values and run it, then build it again "
        "from the cache, printing both timings and checking the results against numpy. Uses a "
        "temporary compiledir unless --compiledir is given.",
    )
