"""Advanced indexing in the C run-time: its native step against the op's numpy code run as a
step (what the run-time does for ops without a native version), and numpy itself.

``python benchmarks/adv_index.py [--repeats 300]`` times, for each form, one compiled function
with the native step and one with the step forced to the op's perform, called alternately in
one process (A/B interleaved, so both see the same machine load); each figure is the minimum
over the repeats. The forms: an embedding lookup ``W[i]`` (W 10000 x 64 float64, 512 rows),
its gradient (``np.add.at`` of 512 rows into zeros of W's shape), the tutorial's
``M[arange(n), y]`` (M 256 x 10) and its gradient.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import numpy as np

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_nodes


def _best(f: Callable[..., Any], args: tuple, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f(*args)
        best = min(best, time.perf_counter() - t)
    return best * 1e6


def _forms() -> dict[str, tuple[list, Any, tuple, Callable[[], Any]]]:
    rng = np.random.default_rng(0)
    W, i, g = ft.dmatrix("W"), ft.lvector("i"), ft.dmatrix("g")
    M, y, gy = ft.dmatrix("M"), ft.lvector("y"), ft.dvector("gy")
    Wv, iv, gv = rng.standard_normal((10000, 64)), rng.integers(0, 10000, 512), rng.standard_normal((512, 64))
    Mv, yv, gyv = rng.standard_normal((256, 10)), rng.integers(0, 10, 256), rng.standard_normal(256)
    rows = ft.arange(y.shape[0])

    def add_at(shape: tuple, index: Any, values: np.ndarray) -> np.ndarray:
        out = np.zeros(shape)
        np.add.at(out, index, values)
        return out

    return {
        "W[i]": ([W, i], W[i], (Wv, iv), lambda: Wv[iv]),
        "grad of W[i]": (
            [W, i, g],
            fc.grad(None, W, known_grads={W[i]: g}),
            (Wv, iv, gv),
            lambda: add_at(Wv.shape, iv, gv),
        ),
        "M[arange(n), y]": ([M, y], M[rows, y], (Mv, yv), lambda: Mv[np.arange(256), yv]),
        "grad of M[arange(n), y]": (
            [M, y, gy],
            fc.grad(None, M, known_grads={M[rows, y]: gy}),
            (Mv, yv, gyv),
            lambda: add_at(Mv.shape, (np.arange(256), yv), gyv),
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=300)
    opts = ap.parse_args()
    native_mode = c_nodes.adv_index_mode
    print(
        f"{'form':26s} {'native step':>12s} {'perform step':>13s} {'numpy':>9s}   (us, min of {opts.repeats})"
    )
    for name, (inputs, out, args, ref) in _forms().items():
        native = fc.function(inputs, out)
        c_nodes.adv_index_mode = lambda node: None  # type: ignore[assignment]
        try:
            performed = fc.function(inputs, out)
        finally:
            c_nodes.adv_index_mode = native_mode  # type: ignore[assignment]
        want = ref()
        for f in (native, performed):
            np.testing.assert_allclose(f(*args), want, rtol=1e-12)
        best = {"native": float("inf"), "perform": float("inf"), "numpy": float("inf")}
        for _ in range(5):  # rounds, alternating the three
            best["native"] = min(best["native"], _best(native, args, opts.repeats // 5))
            best["perform"] = min(best["perform"], _best(performed, args, opts.repeats // 5))
            best["numpy"] = min(best["numpy"], _best(ref, (), opts.repeats // 5))
        print(f"{name:26s} {best['native']:12.1f} {best['perform']:13.1f} {best['numpy']:9.1f}")


if __name__ == "__main__":
    main()
