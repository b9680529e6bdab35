"""The array ops that run as native steps of the C run-time (cumsum/cumprod, eye, repeat and its
gradient, tile, sort/argsort and sort's gradient, small stacked matmul, 2x2 max ``pool_2d`` and
its gradient), and one LeNet layer
(``ft.nnet.conv2d`` -> ``pool_2d`` -> tanh, forward and the gradient in the filters): time per
call of small functions, fncache against numpy written by hand and PyTensor C.

    python benchmarks/array_steps.py [--rounds 15] [--quick]

Each round times every implementation of a row once (enough calls to last 10 ms, 2 ms with
``--quick``; the LeNet layer one call); the figure is the minimum over the rounds, so load on a shared machine hits
all of them alike. Everything runs on one thread: fncache with ``threads = 1``, numpy's and
PyTensor's BLAS limited to 1 (threadpoolctl). Every implementation's result is checked against
the numpy one before it is timed. Ratios: competitor time / fncache time (2x: fncache twice as
fast). No column runs these ops as Python steps: the run-time has no switch for it short of
changing its tables. The CPU model and the load average before and after are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backends import get_fncache, get_pytensor, machine, one_blas_thread  # noqa: E402
from timing import Unavailable, fmt_seconds, measure  # noqa: E402

#: A PyTensor call slower than this is not timed (its cell says how long the first call took).
PYTENSOR_SLOW_S = 3.0


@dataclass
class Case:
    """One row: ``graph(T, lib)`` builds (inputs, outputs) with ``T`` = ``ft`` or
    ``pytensor.tensor`` and ``lib`` = ``fc`` or ``pytensor`` (for ``grad``); ``numpy`` computes
    the same outputs (a list) by hand from ``args``."""

    label: str
    graph: Callable[[Any, Any], tuple[list, list]]
    args: tuple
    numpy: Callable[..., list]
    rtol: float = 1e-12
    atol: float = 0.0


def _repeat_grad(x: np.ndarray, r: np.ndarray, w: np.ndarray) -> list:
    return [np.bincount(np.repeat(np.arange(x.size), r), weights=w, minlength=x.size)]


def _sort_grad(x: np.ndarray, w: np.ndarray) -> list:
    g = np.empty_like(x)
    g[np.argsort(x)] = w
    return [g]


def _lenet_graph(T: Any, lib: Any) -> tuple[list, list]:
    x, W = T.ftensor4("x"), T.ftensor4("W")
    if lib.__name__ == "pytensor":
        # PyTensor 3 dropped Theano's nnet conv2d and signal.pool (only signal.convolve2d of
        # single matrices is left)
        raise Unavailable(f"PyTensor {lib.__version__} has no nnet.conv2d nor signal.pool.pool_2d")
    out = T.tanh(T.signal.pool.pool_2d(T.nnet.conv2d(x, W), (2, 2), ignore_border=True, mode="max"))
    return [x, W], [out, lib.grad(out.sum(), W)]


def _pool_graph(grad: bool) -> Callable[[Any, Any], tuple[list, list]]:
    def graph(T: Any, lib: Any) -> tuple[list, list]:
        if lib.__name__ == "pytensor":
            raise Unavailable(f"PyTensor {lib.__version__} has no signal.pool.pool_2d")
        x, w = T.ftensor4("x"), T.ftensor4("w")
        pooled = T.signal.pool.pool_2d(x, (2, 2), ignore_border=True, mode="max")
        return ([x, w], [lib.grad((pooled * w).sum(), x)]) if grad else ([x], [pooled])

    return graph


def _pool_numpy(x: np.ndarray, w: np.ndarray | None = None) -> list:
    """2x2 max pooling as the maximum of the four strided taps (several times faster in numpy
    than a reduction over a reshape's window dims); its gradient for the output gradient ``w``
    to every entry equal to its window's max, tap by tap."""
    taps = [(Ellipsis, slice(u, None, 2), slice(v, None, 2)) for u in (0, 1) for v in (0, 1)]
    pooled = np.maximum(np.maximum(x[taps[0]], x[taps[1]]), np.maximum(x[taps[2]], x[taps[3]]))
    if w is None:
        return [pooled]
    g = np.empty_like(x)
    for tap in taps:
        g[tap] = np.where(x[tap] == pooled, w, np.float32(0))
    return [g]


def _lenet_numpy(x: np.ndarray, W: np.ndarray) -> list:
    """conv2d (a true convolution: the filters flipped) as one product of the 5x5 windows,
    2x2 max pooling by a reshape, tanh; then back to the filters."""
    nf, _, kr, kc = W.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kr, kc), axis=(2, 3))  # b c i j u v
    conv = np.tensordot(win, W[:, :, ::-1, ::-1], axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    b, _, r, c = conv.shape
    blocks = conv.reshape(b, nf, r // 2, 2, c // 2, 2)
    pooled = blocks.max(axis=(3, 5))
    out = np.tanh(pooled)
    d = (1 - out * out)[:, :, :, None, :, None] * (blocks == pooled[:, :, :, None, :, None])
    gW = np.tensordot(d.reshape(conv.shape), win, axes=([0, 2, 3], [0, 2, 3]))
    return [out, gW[:, :, ::-1, ::-1]]


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    v100 = rng.standard_normal(100)
    counts = rng.integers(0, 4, 100)
    w_rep = rng.standard_normal(int(counts.sum()))
    w100 = rng.standard_normal(100)
    batch = 50 if quick else 500
    img = rng.standard_normal((batch, 1, 28, 28)).astype("float32")
    filt = (rng.standard_normal((20, 1, 5, 5)) * 0.2).astype("float32")
    maps = rng.standard_normal((64, 20, 24, 24)).astype("float32")
    pooled_grad = rng.standard_normal((64, 20, 12, 12)).astype("float32")
    return [
        Case(
            "cumsum, 100 float64",
            lambda T, _: ([x := T.dvector("x")], [T.cumsum(x)]),
            (v100,),
            lambda x: [np.cumsum(x)],
        ),
        Case(
            "cumprod axis 0, 10x10 int64",
            lambda T, _: ([x := T.lmatrix("x")], [T.cumprod(x, axis=0)]),
            (rng.integers(-3, 4, (10, 10)),),
            lambda x: [np.cumprod(x, axis=0)],
        ),
        Case(
            "eye(n), n = 10", lambda T, _: ([n := T.lscalar("n")], [T.eye(n)]), (10,), lambda n: [np.eye(n)]
        ),
        # the same with n given as a 0-d array: what converting a Python int costs a call
        Case(
            "eye(n), n = np.array(10)",
            lambda T, _: ([n := T.lscalar("n")], [T.eye(n)]),
            (np.array(10),),
            lambda n: [np.eye(n)],
        ),
        Case(
            "repeat(x, counts), 100",
            lambda T, _: ([x := T.dvector("x"), r := T.lvector("r")], [T.repeat(x, r)]),
            (v100, counts),
            lambda x, r: [np.repeat(x, r)],
        ),
        Case(
            "tile 10x10 by (2, 3)",
            lambda T, _: ([x := T.dmatrix("x")], [T.tile(x, (2, 3))]),
            (rng.standard_normal((10, 10)),),
            lambda x: [np.tile(x, (2, 3))],
        ),
        Case(
            "grad of sum(repeat(x, counts) * w)",
            lambda T, lib: (
                [x := T.dvector("x"), r := T.lvector("r"), w := T.dvector("w")],
                [lib.grad((T.repeat(x, r) * w).sum(), x)],
            ),
            (v100, counts, w_rep),
            _repeat_grad,
        ),
        Case(
            "sort, 100 float64",
            lambda T, _: ([x := T.dvector("x")], [T.sort(x)]),
            (v100,),
            lambda x: [np.sort(x)],
        ),
        Case(
            "argsort, 100 float64",
            lambda T, _: ([x := T.dvector("x")], [T.argsort(x)]),
            (v100,),
            lambda x: [np.argsort(x)],
        ),
        Case(
            "grad of sum(sort(x) * w)",
            lambda T, lib: ([x := T.dvector("x"), w := T.dvector("w")], [lib.grad((T.sort(x) * w).sum(), x)]),
            (v100, w100),
            _sort_grad,
        ),
        Case(
            "(4,3,5) @ (5,2)",
            lambda T, _: ([a := T.dtensor3("a"), b := T.dmatrix("b")], [a @ b]),
            (rng.standard_normal((4, 3, 5)), rng.standard_normal((5, 2))),
            lambda a, b: [a @ b],
        ),
        Case(
            "(16,8,8) @ (16,8,8)",
            lambda T, _: ([a := T.dtensor3("a"), b := T.dtensor3("b")], [a @ b]),
            (rng.standard_normal((16, 8, 8)), rng.standard_normal((16, 8, 8))),
            lambda a, b: [a @ b],
        ),
        Case("2x2 max pool_2d, 64x20x24x24 f32", _pool_graph(False), (maps,), _pool_numpy),
        Case("grad of sum(pool_2d(x) * w), same", _pool_graph(True), (maps, pooled_grad), _pool_numpy),
        Case(
            f"LeNet layer {batch}x1x28x28 f32, fwd+grad",
            _lenet_graph,
            (img, filt),
            _lenet_numpy,
            rtol=1e-4,
            atol=1e-3,
        ),
    ]


def _calls(case: Case) -> dict[str, Callable[[], Any] | str]:
    """Each implementation's call with the row's arguments, checked against numpy, or the
    reason it is not there."""
    fc, ft = get_fncache()
    want = case.numpy(*case.args)
    calls: dict[str, Callable[[], Any] | str] = {}

    def pytensor_fn() -> Callable[..., Any]:
        pytensor, pt, mode = get_pytensor()
        ins, outs = case.graph(pt, pytensor)
        return pytensor.function(ins, outs, mode=mode)

    builders = {"fncache": lambda: fc.function(*case.graph(ft, fc)), "pytensor-C": pytensor_fn}
    for name, build in builders.items():
        try:
            f = build()
        except Unavailable as e:
            calls[name] = f"n/a ({e})"
            continue
        except Exception as e:  # noqa: BLE001 - a competitor that cannot build empties its cell
            calls[name] = f"n/a ({type(e).__name__}: {str(e).splitlines()[0][:80]})"
            continue
        got = f(*case.args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=case.rtol, atol=case.atol, err_msg=f"{case.label}: {name}")
        calls[name] = lambda f=f: f(*case.args)
    calls["numpy"] = lambda: case.numpy(*case.args)
    return calls


def _time_row(calls: dict[str, Callable[[], Any] | str], rounds: int, quick: bool) -> dict[str, float | str]:
    """Minimum seconds per call over interleaved rounds; each round sizes its calls once."""
    live = {k: c for k, c in calls.items() if callable(c)}
    best: dict[str, float | str] = {k: c for k, c in calls.items() if not callable(c)}
    number: dict[str, int] = {}
    for k, call in live.items():
        first = measure("call()", {"call": call}, repeats=1, warmup=1, number=1).min
        if k == "pytensor-C" and first > PYTENSOR_SLOW_S:
            best[k] = f"n/a ({first:.1f} s per call)"
            continue
        number[k] = measure(
            "call()", {"call": call}, repeats=1, warmup=0, min_repeat_time=0.002 if quick else 0.01
        ).number
    for _ in range(rounds):
        for k, n in number.items():
            t = measure("call()", {"call": live[k]}, repeats=1, warmup=0, number=n).min
            best[k] = min(best.get(k, float("inf")), t)  # type: ignore[type-var]
    return best


def _ratio(other: float | str | None, fncache: float | str | None) -> str:
    if isinstance(other, float) and isinstance(fncache, float):
        return f"{other / fncache:.2f}x"
    return "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="3 rounds, shorter timings, LeNet batch of 50")
    args = p.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    fc, _ = get_fncache()
    fc.config.threads = 1
    load0 = os.getloadavg()[0]
    with one_blas_thread(), tempfile.TemporaryDirectory(prefix="fncache-array-steps-") as cdir:
        fc.config.compiledir = cdir
        rows = [(case.label, _time_row(_calls(case), rounds, args.quick)) for case in cases(args.quick)]
    info = machine()
    print(
        f"CPU: {info.get('cpu', '?')} ({info['cpus']} CPUs); one thread everywhere; min over {rounds} "
        f"interleaved rounds; load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    cols = ("fncache", "numpy", "pytensor-C")
    print(
        f"{'row':38s} {'fncache':>10s} {'numpy':>10s} {'pytensor-C':>11s} {'numpy/fc':>9s} {'pytensor/fc':>12s}"
    )
    notes = []
    for label, best in rows:
        cells = []
        for col in cols:
            v = best.get(col)
            if isinstance(v, float):
                cells.append(fmt_seconds(v))
            else:
                notes.append(f"{label}, {col}: {v}")
                cells.append("n/a")
        print(
            f"{label:38s} {cells[0]:>10s} {cells[1]:>10s} {cells[2]:>11s} "
            f"{_ratio(best.get('numpy'), best.get('fncache')):>9s} "
            f"{_ratio(best.get('pytensor-C'), best.get('fncache')):>12s}"
        )
    for note in notes:
        print(f"  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
