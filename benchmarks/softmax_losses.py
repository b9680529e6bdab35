"""The softmax classifier's loss, spelling by spelling: the cost alone (what a validation pass
computes) and a training step (cost and update), for ``z = X @ W + b``, one thread.

    python benchmarks/softmax_losses.py [--features 256] [--classes 1000] [--rounds 9]

The spellings: ``-mean(log(softmax(z))[arange(n), y])`` (the tutorial's),
``-mean(log_softmax(z)[arange(n), y])`` and ``mean(categorical_crossentropy(softmax(z), y))``,
batch 128. A figure is the least CPU time (``time.process_time``: steadier than the wall clock
on a shared machine) per call over the rounds, each round 100 calls of each function in turn.
Few features make the product small, so the loss's own passes show."""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backends import get_fncache, one_blas_thread  # noqa: E402
from timing import fmt_seconds  # noqa: E402

BATCH = 128
CALLS = 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", type=int, default=256)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    fc, ft = get_fncache()
    fc.config.threads = 1
    r = np.random.default_rng(0)
    xv = r.standard_normal((BATCH, args.features))
    yv = r.integers(0, args.classes, BATCH).astype(np.int32)
    x, y = ft.dmatrix("x"), ft.ivector("y")
    W = fc.shared(r.standard_normal((args.features, args.classes)) * 0.01)
    b = fc.shared(np.zeros(args.classes))
    z = ft.dot(x, W) + b
    rows = (ft.arange(y.shape[0]), y)
    costs = {
        "-mean(log(softmax(z))[arange(n), y])": -ft.mean(ft.log(ft.softmax(z))[rows]),
        "-mean(log_softmax(z)[arange(n), y])": -ft.mean(ft.log_softmax(z)[rows]),
        "mean(categorical_crossentropy(softmax(z), y))": ft.mean(
            ft.nnet.categorical_crossentropy(ft.softmax(z), y)
        ),
    }
    fns = {}
    for name, cost in costs.items():
        gW, gb = fc.grad(cost, [W, b])
        # a zero step keeps the weights, so every round times the same values
        step = [(W, W - 0.0 * gW), (b, b - 0.0 * gb)]
        fns[(name, "cost")] = fc.function([x, y], cost)
        fns[(name, "step")] = fc.function([x, y], cost, updates=step)
    best = dict.fromkeys(fns, float("inf"))
    with one_blas_thread():
        for _ in range(args.rounds):
            for key, f in fns.items():
                f(xv, yv)
                t = time.process_time()
                for _ in range(CALLS):
                    f(xv, yv)
                best[key] = min(best[key], (time.process_time() - t) / CALLS)
    print(
        f"batch {BATCH}, {args.features} features, {args.classes} classes; least CPU time per call "
        f"over {args.rounds} rounds; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  {'spelling':48s} {'cost':>10s} {'step':>10s}")
    for name in costs:
        print(
            f"  {name:48s} {fmt_seconds(best[(name, 'cost')]):>10s} {fmt_seconds(best[(name, 'step')]):>10s}"
        )


if __name__ == "__main__":
    main()
