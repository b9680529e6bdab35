"""Jacobians and Hessians of vectors whose length is known only at run time, side by side:
fncache (`ft.jacobian`/`ft.hessian` over ``ft.dvector``: one `JacobianRows` node), PyTensor's C
backend (its `jacobian`/`hessian`, a `Scan` over the rows) and the analytic result written by
hand in numpy.

    python benchmarks/jacobian.py [--sizes 10,100,1000] [--repeats 5] [--cold 10]

Both libraries compile into fresh compiledirs under a temporary directory, so the first figure
is a cold compile (in this process, after imports); the call figures are the minimum over
``--repeats`` rounds of the mean of a timed loop. PyTensor runs on one thread. ``--cold N``
also times the cold compile of both functions in N fresh processes per library, each with fresh
compiledirs, alternating the libraries (minimum and median: one process's figure is noisy on
a shared machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

WORK = tempfile.mkdtemp(prefix="fncache-jacobian-bench-")
os.environ.setdefault("PYTENSOR_FLAGS", f"compiledir={WORK}/pytensor")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def jac_numpy(v: np.ndarray) -> np.ndarray:
    n = len(v)
    out = np.diag(np.exp(v) * v[::-1]) + np.exp(v)[:, None] * np.eye(n)[::-1]
    return out + np.diag(np.full(n, np.sin(v).sum())) + np.outer(v, np.cos(v))


def hess_numpy(v: np.ndarray) -> np.ndarray:
    return np.diag(np.exp(v) * (2 + v)) + 2.0


def build_fncache() -> tuple[Callable, Callable, float]:
    import fncache as fc
    from fncache import tensor as ft

    fc.config.compiledir = f"{WORK}/fncache"
    x = ft.dvector("x")
    t = time.perf_counter()
    jac = fc.function([x], ft.jacobian(ft.exp(x) * x[::-1] + ft.sin(x).sum() * x, x))
    hess = fc.function([x], ft.hessian(ft.sum(ft.exp(x) * x) + ft.sum(x) ** 2, x))
    return jac, hess, time.perf_counter() - t


def build_pytensor() -> tuple[Callable, Callable, float]:
    import warnings

    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    import pytensor
    import pytensor.tensor as pt
    from pytensor.gradient import hessian, jacobian

    x = pt.dvector("x")
    t = time.perf_counter()
    jac = pytensor.function([x], jacobian(pt.exp(x) * x[::-1] + pt.sin(x).sum() * x, x))
    hess = pytensor.function([x], hessian(pt.sum(pt.exp(x) * x) + pt.sum(x) ** 2, x))
    return jac, hess, time.perf_counter() - t


def per_call(fn: Callable, v: np.ndarray, repeats: int) -> float:
    fn(v)
    loops = max(3, 20000 // max(len(v), 1))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(loops):
            fn(v)
        best = min(best, (time.perf_counter() - t) / loops)
    return best


BUILDERS = {"fncache": build_fncache, "pytensor": build_pytensor}


def cold_in_fresh_processes(trials: int) -> None:
    """The cold compile of both functions, each library in ``trials`` fresh processes."""
    seconds: dict[str, list[float]] = {name: [] for name in BUILDERS}
    for _ in range(trials):
        for name in BUILDERS:
            env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={tempfile.mkdtemp(prefix='pt-')}")
            child = subprocess.run(
                [sys.executable, __file__, "--cold-child", name], env=env, capture_output=True, text=True
            )
            shutil.rmtree(env["PYTENSOR_FLAGS"].split("=", 1)[1], ignore_errors=True)
            if child.returncode != 0:
                print(f"{name}: cold compile in a fresh process failed: {child.stderr.strip()[-300:]}")
                return
            seconds[name].append(float(child.stdout.split()[-1]))
    for name, secs in seconds.items():
        print(
            f"{name}: cold compile of both functions, {trials} fresh processes: "
            f"min {min(secs) * 1e3:.0f} ms, median {statistics.median(secs) * 1e3:.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cold", type=int, default=0, metavar="N", help="cold compiles in N fresh processes")
    ap.add_argument("--cold-child", choices=list(BUILDERS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_child:  # one fresh process: compile both functions, print the seconds
        try:
            print(BUILDERS[args.cold_child]()[2])
        finally:
            shutil.rmtree(WORK, ignore_errors=True)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    impls: dict[str, Any] = {"fncache": build_fncache()}
    try:
        impls["pytensor"] = build_pytensor()
    except ImportError as e:
        print(f"pytensor: n/a ({e})")
    for name, (_, _, cold) in impls.items():
        print(f"{name}: cold compile of both functions {cold * 1e3:.0f} ms")
    if args.cold:
        cold_in_fresh_processes(args.cold)
    print(f"{'':10s} {'n':>6s} " + " ".join(f"{name:>14s}" for name in [*impls, "numpy"]))
    for what, k, ref in (("jacobian", 0, jac_numpy), ("hessian", 1, hess_numpy)):
        for n in sizes:
            v = np.linspace(-1, 1.5, n)
            for name, fns in impls.items():
                np.testing.assert_allclose(fns[k](v), ref(v), rtol=1e-9, atol=1e-12, err_msg=name)
            times = [per_call(fns[k], v, args.repeats) for fns in impls.values()]
            times.append(per_call(ref, v, args.repeats))
            print(f"{what:10s} {n:6d} " + " ".join(f"{t * 1e6:11.1f} us" for t in times))


if __name__ == "__main__":
    main()
