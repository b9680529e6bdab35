"""Compile once, ship the function to a pool of spawned worker processes sharing one compiledir.

Every worker unpickles the function (its optimized graph, its shared variables) and loads the
native module from the compiledir: no optimizer run and no compile in any worker.  Run::

    python examples/ship_process_pool.py [--workers 4] [--compiledir DIR]

Without ``--compiledir`` a fresh temporary compiledir is used, so the counts shown are exact.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import fncache as fc
from fncache import tensor as ft

log = logging.getLogger("ship_process_pool")


def build() -> fc.Function:
    """W3 (logistic-regression loss) with its parameters in shared variables."""
    rng = np.random.default_rng(0)
    w = fc.shared(rng.normal(size=8), name="w")
    b = fc.shared(np.float64(0.1), name="b")
    X, t = ft.dmatrix("X"), ft.dvector("t")
    p = ft.sigmoid(X @ w + b)
    return fc.function([X, t], ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p)), name="w3")


def evaluate(f: fc.Function, seed: int) -> tuple[int, int, float]:
    """Runs in a worker: ``f`` arrives pickled as a task argument."""
    rng = np.random.default_rng(seed)
    X, t = rng.normal(size=(1000, 8)), (rng.random(1000) > 0.5).astype("float64")
    return os.getpid(), seed, float(f(X, t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--compiledir", default=None)
    opts = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    compiledir = opts.compiledir or tempfile.mkdtemp(prefix="fncache-example-")
    fc.config.compiledir = compiledir
    os.environ["FNCACHE_FLAGS"] = f"compiledir={compiledir}"  # spawned workers read it at import

    t0 = time.perf_counter()
    f = build()
    log.info("compiled %s in %.2f s; pickle: %d bytes", f, time.perf_counter() - t0, len(fc.dumps(f)))
    before = fc.cache.info()["compiles"]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(opts.workers, mp_context=ctx) as pool:
        seeds = range(2 * opts.workers)
        results = list(pool.map(evaluate, [f] * len(seeds), seeds))
    for pid, seed, loss in results:
        assert loss == evaluate(f, seed)[2], "a worker computed something else"
        log.info("worker %d: batch %d loss %.12f", pid, seed, loss)
    info = fc.cache.info()
    log.info(
        "%d workers, %d distinct processes, compiles in workers: %d (total in %s: %d)",
        opts.workers,
        len({r[0] for r in results}),
        info["compiles"] - before,
        compiledir,
        info["compiles"],
    )


if __name__ == "__main__":
    main()
