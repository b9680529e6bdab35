"""Loops that read a value per row (or per column): softmax, log-softmax and layer norm written
by hand, rows scaled to unit length, columns standardised with ``keepdims``; fncache beside
numpy, one thread.

    python benchmarks/row_values.py [--rounds 9]

Each function is checked against numpy first. A figure is the least CPU time
(``time.process_time``: steadier than the wall clock on a shared machine) per call over the
rounds, each round 100 calls of each function in turn. To compare two versions of fncache, run
the script with ``PYTHONPATH`` at each checkout in turn (each with its own compiledir).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backends import get_fncache  # noqa: E402
from timing import fmt_seconds  # noqa: E402

CALLS = 100
EPS = 1e-5


def _softmax(T: Any, x: Any) -> Any:
    e = T.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(T: Any, x: Any) -> Any:
    m = x.max(axis=1, keepdims=True)
    return x - m - T.log(T.exp(x - m).sum(axis=1, keepdims=True))


def _normalise(T: Any, x: Any, axis: int) -> Any:
    """A layer norm (axis 1) or a standardisation of the columns (axis 0), without its gain."""
    mu = x.mean(axis=axis, keepdims=True)
    return (x - mu) / T.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + EPS)


def _unit_rows(T: Any, x: Any) -> Any:
    return x / T.sqrt((x * x).sum(axis=1, keepdims=True))


#: (name, graph over a module of array functions: fncache's ``ft`` or numpy, rows, columns)
CASES: list[tuple[str, Callable[[Any, Any], Any], int, int]] = [
    ("softmax by hand", _softmax, 128, 1000),
    ("softmax by hand", _softmax, 1000, 10),
    ("log-softmax by hand", _log_softmax, 128, 1000),
    ("layer norm", lambda T, x: _normalise(T, x, 1), 256, 512),
    ("rows to unit length", _unit_rows, 256, 512),
    ("columns standardised (keepdims)", lambda T, x: _normalise(T, x, 0), 256, 512),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    fc, ft = get_fncache()
    fc.config.threads = 1
    r = np.random.default_rng(0)
    runs = []
    for name, graph, m, n in CASES:
        xv = r.standard_normal((m, n))
        x = ft.dmatrix("x")
        f = fc.function([x], graph(ft, x))
        np.testing.assert_allclose(f(xv), graph(np, xv), rtol=1e-12, atol=1e-12, err_msg=name)
        runs += [
            (f"{name} {m}x{n}", "fncache", f, xv),
            (f"{name} {m}x{n}", "numpy", lambda a, g=graph: g(np, a), xv),
        ]
    best: dict = {}
    for _ in range(args.rounds):
        for case, impl, f, xv in runs:
            t = time.process_time()
            for _ in range(CALLS):
                f(xv)
            per_call = (time.process_time() - t) / CALLS
            best[case, impl] = min(best.get((case, impl), per_call), per_call)
    print(f"least CPU time per call over {args.rounds} rounds of {CALLS} calls, one thread")
    print(f"  {'':44s}{'fncache':>10s}{'numpy':>10s}  numpy/fc")
    for case in dict.fromkeys(c for c, _, _, _ in runs):
        fcv, npv = best[case, "fncache"], best[case, "numpy"]
        print(f"  {case:44s}{fmt_seconds(fcv):>10s}{fmt_seconds(npv):>10s}  {npv / fcv:7.2f}x")


if __name__ == "__main__":
    main()
