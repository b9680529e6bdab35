"""Compile once, ship the function to a Dask cluster whose workers share one compiledir.

Dask pickles task arguments; a pickled fncache function holds its optimized graph and shared
values, and each worker loads the native module from the shared compiledir (or compiles it once,
for its own CPU, if it has other march flags).  Needs ``pip install distributed``.  Run::

    python examples/ship_dask.py [--workers 2] [--compiledir DIR]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile

import numpy as np

import fncache as fc
from fncache import tensor as ft

log = logging.getLogger("ship_dask")


def build() -> fc.Function:
    """W3 (logistic-regression loss) with its parameters in shared variables."""
    rng = np.random.default_rng(0)
    w = fc.shared(rng.normal(size=8), name="w")
    b = fc.shared(np.float64(0.1), name="b")
    X, t = ft.dmatrix("X"), ft.dvector("t")
    p = ft.sigmoid(X @ w + b)
    return fc.function([X, t], ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p)), name="w3")


def evaluate(f: fc.Function, seed: int) -> tuple[int, int, float]:
    """Runs on a worker (Dask ships this function by value: it is defined in __main__)."""
    rng = np.random.default_rng(seed)
    X, t = rng.normal(size=(1000, 8)), (rng.random(1000) > 0.5).astype("float64")
    return os.getpid(), seed, float(f(X, t))


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compiledir", default=None)
    opts = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    compiledir = opts.compiledir or tempfile.mkdtemp(prefix="fncache-example-")
    fc.config.compiledir = compiledir
    os.environ["FNCACHE_FLAGS"] = f"compiledir={compiledir}"  # worker processes inherit it

    f = build()
    before = fc.cache.info()["compiles"]
    with (
        LocalCluster(
            n_workers=opts.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        shipped = client.scatter(f, broadcast=True)  # pickled once, unpickled once per worker
        futures = [client.submit(evaluate, shipped, seed, pure=False) for seed in range(4 * opts.workers)]
        results = client.gather(futures)
    for pid, seed, loss in results:
        assert loss == evaluate(f, seed)[2], "a worker computed something else"
        log.info("worker pid %d: batch %d loss %.12f", pid, seed, loss)
    info = fc.cache.info()
    log.info(
        "%d worker processes used, compiles in workers: %d (total in %s: %d)",
        len({r[0] for r in results}),
        info["compiles"] - before,
        compiledir,
        info["compiles"],
    )


if __name__ == "__main__":
    main()
