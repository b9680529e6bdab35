"""W4's training step, interleaved: fncache, fncache without the one-pass gradient (`rowpass`
excluded), the step written by hand in numpy, and PyTensor C, side by side in one process.

    python benchmarks/train_step.py [--rounds 15]

A last row times numpy's `X @ w` alone (one read of X, BLAS on the same threads), and each
step's time is also given in those reads: the step reads X twice at least, for `X @ w` and
`X.T @ g`, unless one read serves both. Each round times every implementation once (min of 3 repeats of 100 calls); the figure is the
minimum over the rounds, so a burst of load on a shared machine hits all of them alike. Every
implementation is checked on its first step's xent first. Every implementation runs on one
thread: fncache with threads=1, numpy's and PyTensor's BLAS limited to 1 (``--threads N`` gives
fncache's run-time N, ``--blas-threads N`` gives BLAS N). The load average before and after is printed: figures taken on a loaded
machine say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads as W  # noqa: E402
from backends import Unavailable, get_fncache, get_pytensor  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


def _steps(threads: int) -> dict:
    X, y, w0 = W.w4_inputs()
    fc, ft = get_fncache()
    fc.config.threads = threads
    steps = {}
    for name, mode in (("fncache", None), ("fncache, rowpass excluded", fc.Mode().excluding("rowpass"))):
        ins, outs, upd = W.w4_graph(ft, fc, w0)
        steps[name] = fc.function(ins, outs, updates=upd, mode=mode)
    steps["numpy (by hand)"] = W.W4NumpyStep(w0)
    try:
        pytensor, pt, mode = get_pytensor()
        ins, outs, upd = W.w4_graph(pt, pytensor, w0)
        steps["pytensor-C"] = pytensor.function(ins, outs, mode=mode, updates=upd)
    except Unavailable as e:
        print(f"pytensor-C: n/a ({e})")
    ref = W.w4_ref(X, y, w0)
    for name, f in steps.items():
        np.testing.assert_allclose(f(X, y)[1], ref, rtol=1e-9, err_msg=name)
    calls = {name: (lambda f=f: f(X, y)) for name, f in steps.items()}
    # Not a training step: one product over X, the least any step that reads X costs (a step
    # reads X twice, for X @ w and X.T @ g, unless both come from one read).
    calls[ONE_READ] = lambda: X @ w0
    return calls


ONE_READ = "numpy X @ w alone (1 read)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--threads", type=int, default=1, help="fncache's run-time threads (config.threads)")
    p.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for numpy and PyTensor")
    args = p.parse_args(argv)
    threadpool_limits(limits=args.blas_threads, user_api="blas")
    load0 = os.getloadavg()[0]
    calls = _steps(args.threads)
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(args.rounds):
        for name, call in calls.items():
            best[name] = min(best[name], min(timeit.repeat(call, number=100, repeat=3)) / 100)
    print(
        f"W4 training step, X {W.W4_SHAPE[0]}x{W.W4_SHAPE[1]} float64, min over {args.rounds} "
        f"interleaved rounds, fncache on {args.threads} thread(s), BLAS on {args.blas_threads}; "
        f"load average {load0:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    ref = best.get("pytensor-C")
    for name, t in best.items():
        ratio = f"   pytensor-C / this = {ref / t:.2f}x" if ref and name != ONE_READ else ""
        reads = f"   = {t / best[ONE_READ]:.2f} reads of X" if name != ONE_READ else ""
        print(f"  {name:28s} {t * 1e6:7.1f} µs{ratio}{reads}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
