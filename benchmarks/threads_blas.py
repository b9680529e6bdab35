"""A BLAS product followed by fncache's loops, per call: the loop threads' wait policy against
numpy's BLAS threads.

    python benchmarks/threads_blas.py [--rounds 3] [--sizes 40000,100000,300000,1000000]

Graphs of X (n x 8) and w: ``(X @ w).sum()``, ``exp(X @ w).sum()`` and ``exp(X @ w)``, the same
graphs in numpy, and a plain ``sum``/``exp`` of n values. Each wait policy runs in a process of
its own (libgomp reads it once, when it loads): ``passive`` (what fncache sets),
``spin300k`` (libgomp's default, GOMP_SPINCOUNT=300000), and the processes alternate, rounds
times, so load that comes and goes hits them alike. In each process fncache runs with
``threads=1`` and the default threads, in turns of 20 calls with numpy's. The figures are
microseconds per call over every call: median, 99th percentile and maximum. The load average
before and after is printed; on a shared machine compare the columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

POLICIES = {"passive": {}, "spin300k": {"GOMP_SPINCOUNT": "300000"}}
GRAPHS = ("dot_sum", "dot_exp_sum", "dot_exp", "sum", "exp")


def _functions(graph: str) -> dict[str, Callable[..., Any]]:
    """numpy's and fncache's (threads=1 and the default) forms of one graph of (X, w)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import fncache as fc
    from fncache import tensor as ft

    X, w = ft.dmatrix("X"), ft.dvector("w")
    z = ft.dot(X, w)
    expr = {"dot_sum": z.sum(), "dot_exp_sum": ft.exp(z).sum(), "dot_exp": ft.exp(z)}
    expr.update(sum=X.sum(), exp=ft.exp(X))
    ref = {
        "dot_sum": lambda X, w: (X @ w).sum(),
        "dot_exp_sum": lambda X, w: np.exp(X @ w).sum(),
        "dot_exp": lambda X, w: np.exp(X @ w),
        "sum": lambda X, w: X.sum(),
        "exp": lambda X, w: np.exp(X),
    }
    fs: dict[str, Callable[..., Any]] = {"numpy": ref[graph]}
    for t in (1, 0):
        with fc.config.change_flags(threads=t):
            fs[f"threads={t}"] = fc.function([X, w], expr[graph], on_unused_input="ignore")
    return fs


def child(graph: str, sizes: list[int], out: str, turns: int = 8, per: int = 20) -> None:
    """Time one graph at every size in this process; write the call times (ns) to `out`."""
    fs = _functions(graph)
    found: dict[str, dict[str, list[int]]] = {}
    for n in sizes:
        rows = n if graph.startswith("dot") else n // 8
        a = (np.random.default_rng(0).standard_normal((rows, 8)), np.ones(8))
        times: dict[str, list[int]] = {k: [] for k in fs}
        for f in fs.values():
            for _ in range(10):
                f(*a)
        for _ in range(turns):
            for k, f in fs.items():
                for _ in range(per):
                    t0 = time.perf_counter_ns()
                    f(*a)
                    times[k].append(time.perf_counter_ns() - t0)
        found[str(n)] = times
    with open(out, "w") as fh:
        json.dump(found, fh)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="40000,100000,300000,1000000")
    ap.add_argument("--graphs", default="dot_sum,sum")
    ap.add_argument("--child", nargs=2, metavar=("GRAPH", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        child(args.child[0], sizes, args.child[1])
        return
    print(f"# load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        for graph in args.graphs.split(","):
            if graph not in GRAPHS:
                raise SystemExit(f"threads_blas: unknown graph {graph!r}; one of {', '.join(GRAPHS)}")
            pool: dict[tuple[int, str, str], list[int]] = {}
            for _ in range(args.rounds):
                for policy, extra in POLICIES.items():
                    env = {
                        k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
                    }
                    env.update(extra, FNCACHE_FLAGS=f"compiledir={tmp}/cd")
                    out = os.path.join(tmp, "times.json")
                    cmd = [sys.executable, __file__, "--sizes", args.sizes, "--child", graph, out]
                    subprocess.run(cmd, env=env, check=True)
                    with open(out) as fh:
                        for n, times in json.load(fh).items():
                            for k, t in times.items():
                                pool.setdefault((int(n), policy, k), []).extend(t)
            for (n, policy, k), t in sorted(pool.items()):
                us = np.array(t) / 1000
                print(
                    f"{graph:12s} n={n:8d} {policy:9s} {k:10s} median {np.median(us):9.1f} us"
                    f"  p99 {np.percentile(us, 99):9.1f}  max {us.max():9.1f}  ({len(us)} calls)"
                )
    print(f"# load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
