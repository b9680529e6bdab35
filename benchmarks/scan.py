"""``fc.scan``'s time per step: a small tanh RNN, h_t = tanh(x_t W + h_{t-1} U + b), its
forward loop and its loss's gradient (the forward loop, then the backward one), against the
same loops written in numpy.

    python benchmarks/scan.py [--steps 1000] [--batch 1] [--hidden 32] [--repeats 7]

fncache compiles into a fresh compiledir under a temporary directory (the C linker: each step
is one call of the compiled step function). A figure is the minimum over ``--repeats`` calls
of the whole loop, divided by the number of steps.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any, Callable

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def best(f: Callable[..., Any], args: list, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def numpy_forward(x: np.ndarray, h: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> list:
    hs = []
    for xt in x:
        h = np.tanh(xt @ W + h @ U + b)
        hs.append(h)
    return hs


def numpy_grad(x: np.ndarray, h0: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> tuple:
    """The gradient of sum(h_t ** 2) in W, U and b, by backpropagation through time."""
    hs = numpy_forward(x, h0, W, U, b)
    gW, gU, gb, carry = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b), np.zeros_like(h0)
    for t in reversed(range(len(x))):
        da = (carry + 2 * hs[t]) * (1 - hs[t] ** 2)
        gW += x[t].T @ da
        gU += (hs[t - 1] if t else h0).T @ da
        gb += da.sum(axis=0)
        carry = da @ U.T
    return gW, gU, gb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    import fncache as fc
    from fncache import tensor as ft

    fc.config.compiledir = tempfile.mkdtemp(prefix="fncache-scan-bench-")
    T, B, H = args.steps, args.batch, args.hidden
    x, h0 = ft.dtensor3("x"), ft.dmatrix("h0")
    W, U, b = ft.dmatrix("W"), ft.dmatrix("U"), ft.dvector("b")
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + ft.dot(h, U) + b), sequences=x, outputs_info=h0)
    t = time.perf_counter()
    forward = fc.function([x, h0, W, U, b], hs)
    grads = fc.function([x, h0, W, U, b], fc.grad((hs**2).sum(), [W, U, b]))
    compile_s = time.perf_counter() - t

    rng = np.random.default_rng(0)
    # weights of spectral radius below 1: the loop is not chaotic, so both sides' rounding
    # stays small and they can be compared
    scale = 0.9 / np.sqrt(H)
    vals = [rng.normal(size=(T, B, H)), np.zeros((B, H)), rng.normal(size=(H, H)) * scale]
    vals += [rng.normal(size=(H, H)) * scale, rng.normal(size=H) * 0.1]
    np.testing.assert_allclose(forward(*vals), np.array(numpy_forward(*vals)), rtol=1e-10, atol=1e-12)
    for got, want in zip(grads(*vals), numpy_grad(*vals)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)

    rows = [
        ("forward", forward, numpy_forward),
        ("forward + gradient", grads, numpy_grad),
    ]
    print(f"tanh RNN, {T} steps, batch {B}, hidden {H}; compile (cold, both functions): {compile_s:.2f} s")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'':20} {'fncache':>14} {'numpy loop':>14}")
    for name, f, ref in rows:
        a = best(f, vals, args.repeats) / T * 1e6
        r = best(ref, vals, args.repeats) / T * 1e6
        print(f"{name:20} {a:10.2f} µs/step {r:10.2f} µs/step")


if __name__ == "__main__":
    main()
