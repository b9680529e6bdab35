"""Each elementwise function beyond the core set inside a fused W1-like expression, against
numpy's ufunc for that function alone, side by side in one run.

    python benchmarks/numpy_ops.py [--n 10000000] [--repeats 5] [--only arctan2,hypot,random]

For each function OP, fncache times ``exp(x)*y + OP(z...)/(1+x*x)`` compiled as one fused loop
on 1 thread ("with op") and the same loop with OP's first operand in its place ("without");
their difference is what OP costs inside the fused loop. numpy times ``np.OP(z...)`` alone on
the same float64 arrays (int64 for the shifts: ``(OP(i, j) ^ (3*i + 1)) + j``). ``ratio`` is
OP's cost in the loop / numpy's OP alone: the target is <= 1. "all threads" is the whole
expression with the default thread count. erfc, erfinv and gammaln have no numpy ufunc. The
timings of one row are interleaved (one repeat of each per round, minimum over the rounds), so a
burst of load on a shared machine hits them all.

The last row (``--only random`` alone) is ``RandomStream.normal`` of n float64 on one thread and
on the default threads against numpy's ``Generator.normal``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import measure  # noqa: E402

log = logging.getLogger("numpy_ops")

#: name -> (numpy ufunc or None, arity, input domain); the domain names the arrays OP reads
OPS = {
    "arctan2": (np.arctan2, "zy"),
    "hypot": (np.hypot, "zy"),
    "fmod": (np.fmod, "zy"),
    "copysign": (np.copysign, "zy"),
    "nextafter": (np.nextafter, "zy"),
    "logaddexp": (np.logaddexp, "zy"),
    "arcsinh": (np.arcsinh, "z"),
    "arccosh": (np.arccosh, "w"),
    "arctanh": (np.arctanh, "t"),
    "exp2": (np.exp2, "z"),
    "deg2rad": (np.deg2rad, "z"),
    "rad2deg": (np.rad2deg, "z"),
    "trunc": (np.trunc, "z"),
    "square": (np.square, "z"),
    "reciprocal": (np.reciprocal, "z"),
    "isfinite": (np.isfinite, "z"),
    "signbit": (np.signbit, "z"),
    "erfc": (None, "z"),
    "erfinv": (None, "t"),
    "gammaln": (None, "w"),
    "left_shift": (np.left_shift, "ij"),
    "right_shift": (np.right_shift, "ij"),
}


def _inputs(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal(n) for _ in range(3))
    return {
        "x": x,
        "y": y,
        "z": z,
        "w": 1 + np.abs(z),
        "t": np.tanh(z),
        "i": rng.integers(-1000, 1000, n),
        "j": rng.integers(0, 70, n),
    }


def _fused(fc, ft, name: str | None, domain: str):
    """The compiled expression around OP (``name=None``: OP's first operand in its place) and
    the names of its inputs, in order."""
    used = domain if domain == "ij" else "xy" + "".join(c for c in domain if c not in "xy")
    v = {c: ft.lvector(c) if c in "ij" else ft.dvector(c) for c in used}
    op = v[domain[0]] if name is None else getattr(ft, name)(*[v[c] for c in domain])
    if domain == "ij":
        out = (op ^ (v["i"] * 3 + 1)) + v["j"]
    else:
        out = ft.exp(v["x"]) * v["y"] + ft.cast(op, "float64") / (1 + v["x"] * v["x"])
    return fc.function([v[c] for c in used], out), list(used)


def _interleaved(stmts: dict[str, str], env: dict, repeats: int) -> dict[str, float]:
    """Minimum seconds of each statement over ``repeats`` rounds, one repeat of every statement
    per round: on a shared machine a burst of load then hits all of them, not one."""
    best = dict.fromkeys(stmts, float("inf"))
    for _ in range(repeats):
        for k, stmt in stmts.items():
            best[k] = min(best[k], measure(stmt, env, repeats=1).min)
    return best


def _random_normal(fc, n: int, repeats: int) -> None:
    """RandomStream.normal of n float64 (Philox4x64-10 and fncache's ziggurat, in C), on one
    thread and on the default threads, against numpy's Generator.normal (default PCG64, and
    SFC64, numpy's fastest bit generator)."""
    rs = fc.RandomStream(0)
    f = fc.function([], rs.normal(size=n))

    def one_thread() -> None:
        with fc.config.change_flags(threads=1):  # read when the draw runs
            f()

    env = {
        "f": f,
        "f1": one_thread,
        "pcg": np.random.default_rng(0),
        "sfc": np.random.Generator(np.random.SFC64(0)),
        "n": n,
    }
    t = _interleaved(
        {"f": "f()", "f1": "f1()", "pcg": "pcg.normal(size=n)", "sfc": "sfc.normal(size=n)"}, env, repeats
    )
    threads = fc.config.threads or os.cpu_count()
    log.info(
        "RandomStream.normal(size=%d): %.1fms (%d threads), %.1fms (1 thread); numpy "
        "Generator.normal: %.1fms (PCG64), %.1fms (SFC64); fncache / PCG64 = %.2fx, "
        "%.2fx on 1 thread (target <= 1)",
        n,
        t["f"] * 1e3,
        threads,
        t["f1"] * 1e3,
        t["pcg"] * 1e3,
        t["sfc"] * 1e3,
        t["f"] / t["pcg"],
        t["f1"] / t["pcg"],
    )


def _op_rows(fc, ft, names: list[str], n: int, repeats: int) -> None:
    """One row per op: its cost in the fused loop against numpy's op alone."""
    data = _inputs(n)
    log.info(
        "n = %d float64 (int64 for the shifts); minimum of %d repeats; ratio = the op's "
        "cost in the fused loop (1 thread) / numpy's op alone",
        n,
        repeats,
    )
    log.info(
        "%-12s %11s %11s %11s %11s %8s %12s",
        "op",
        "with op",
        "without",
        "op cost",
        "numpy op",
        "ratio",
        "all threads",
    )
    misses = []
    for name in names:
        ufunc, domain = OPS[name]
        with fc.config.change_flags(threads=1):  # the run-time's threads: set at compile
            f1, arg_names = _fused(fc, ft, name, domain)
            f0, _ = _fused(fc, ft, None, domain)
        fa, _ = _fused(fc, ft, name, domain)
        env = {"f1": f1, "f0": f0, "fa": fa, **{k: data[k] for k in set(arg_names) | set(domain)}}
        call = "(" + ", ".join(arg_names) + ")"
        stmts = {"f1": "f1" + call, "f0": "f0" + call, "fa": "fa" + call}
        if ufunc is not None:
            env["op"] = ufunc
            stmts["op"] = "op(" + ", ".join(domain) + ")"
        with np.errstate(all="ignore"):
            t = _interleaved(stmts, env, repeats)
        t1, t0, ta = t["f1"], t["f0"], t["fa"]
        cost = max(t1 - t0, 0.0)
        if ufunc is None:
            log.info(
                "%-12s %9.1fms %9.1fms %9.1fms %11s %8s %10.1fms",
                name,
                t1 * 1e3,
                t0 * 1e3,
                cost * 1e3,
                "n/a",
                "-",
                ta * 1e3,
            )
            continue
        tn = t["op"]
        ratio = cost / tn
        if ratio > 1:
            misses.append(name)
        log.info(
            "%-12s %9.1fms %9.1fms %9.1fms %9.1fms %7.2fx %10.1fms",
            name,
            t1 * 1e3,
            t0 * 1e3,
            cost * 1e3,
            tn * 1e3,
            ratio,
            ta * 1e3,
        )
    log.info(
        "target (ratio <= 1): %s", "met for every op" if not misses else "missed for " + ", ".join(misses)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--only", default="")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import fncache as fc
    from fncache import tensor as ft

    only = [s for s in a.only.split(",") if s]
    unknown = set(only) - set(OPS) - {"random"}
    if unknown:
        p.error(f"--only: no op {', '.join(sorted(unknown))}; give names of {', '.join(OPS)} or random")
    names = [s for s in only if s != "random"] if only else list(OPS)
    if names:
        _op_rows(fc, ft, names, a.n, a.repeats)
    if not only or "random" in only:
        _random_normal(fc, a.n, a.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
