"""What test_qemu.py runs on each side of a mixed cluster: this machine's CPU, or the same Python
under ``qemu-x86_64 -cpu Nehalem``. One process does it all (qemu costs seconds a process).

    python qemu_probe.py OUT [IN]

Each graph below is built, pickled to ``OUT`` before its first call (so a receiver starts from
the same shared values; ``pickle.dumps(f)`` and ``fc.dumps(f, embed_native=True)``), and called.
With ``IN``, the functions the other side pickled there are loaded and called too (an embedded
library must be refused where it needs features this CPU lacks), every other graph before it is
built: each way round, the first compiles what this host lacks, from the sender's optimized graph
or from the graph built here, and the second finds it. Every call is compared with the same
computation in numpy: the largest difference relative to the largest reference value. Prints one
JSON line: those errors, what each step compiled, why embedded libraries were refused, digests of
the random draws, the host's march flags and the ops each graph runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

import fncache as fc
from fncache import tensor as ft
from fncache.gradient import Rop, hessian_vector_product
from fncache.toolchain import host_march_flags
from fncache.toolchain.cpu import cpu_features

# rows (a row pass takes 4 at a time: 2 are left over), features, classes, learning rate
M, N, K, LR = 42, 30, 5, 0.1
T, B, H = 6, 3, 4  # scan: steps, batch, hidden size
RNG = np.random.default_rng(20261205)
X = RNG.standard_normal((M, N))
Y01 = RNG.integers(0, 2, M).astype(np.float64)
YK = RNG.integers(0, K, M)
W0 = RNG.standard_normal(N) * 0.1
WK0 = RNG.standard_normal((N, K)) * 0.1
V = RNG.standard_normal(N)
XS = RNG.standard_normal((T, B, H))
WH0 = RNG.standard_normal((H, H)) * 0.5

#: a graph: what builds its function, the arguments of each call, and numpy's outputs for those
#: calls in order (None where numpy has no value: a random draw, compared between hosts instead)
Case = tuple[Callable[[], Any], list[tuple], list[list[Any]]]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _xent(p: Any, y: Any, log: Callable) -> Any:
    return -y * log(p) - (1 - y) * log(1 - p)


def logreg_step() -> Case:
    """The Theano tutorial's training step: cost, ``fc.grad`` of w and b, updates (a row pass)."""

    def build() -> Any:
        x, y = ft.dmatrix("x"), ft.dvector("y")
        w, b = fc.shared(W0.copy(), name="w"), fc.shared(0.0, name="b")
        cost = _xent(1 / (1 + ft.exp(-ft.dot(x, w) - b)), y, ft.log).mean() + 0.01 * (w**2).sum()
        gw, gb = fc.grad(cost, [w, b])
        return fc.function([x, y], [cost, gw, gb], updates=[(w, w - LR * gw), (b, b - LR * gb)])

    w, b, want = W0.copy(), 0.0, []
    for _ in range(3):
        p = _sigmoid(X @ w + b)
        gz = (p - Y01) / M
        gw, gb = X.T @ gz + 0.02 * w, gz.sum()
        want.append([np.mean(_xent(p, Y01, np.log)) + 0.01 * np.sum(w**2), gw, gb])
        w, b = w - LR * gw, b - LR * gb
    # the last call with X stored by columns, which a row pass sweeps by columns
    return build, [(X, Y01), (X, Y01), (np.asfortranarray(X), Y01)], want


def softmax_step() -> Case:
    """Softmax regression: the cross-entropy of class indices, its one-pass gradient, updates."""

    def build() -> Any:
        x, y = ft.dmatrix("x"), ft.lvector("y")
        w, b = fc.shared(WK0.copy(), name="W"), fc.shared(np.zeros(K), name="b")
        cost = ft.nnet.categorical_crossentropy(ft.nnet.softmax(ft.dot(x, w) + b), y).mean()
        gw, gb = fc.grad(cost, [w, b])
        return fc.function([x, y], [cost, gw, gb], updates=[(w, w - LR * gw), (b, b - LR * gb)])

    w, b, want = WK0.copy(), np.zeros(K), []
    for _ in range(3):
        s = X @ w + b
        e = np.exp(s - s.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        d = p.copy()
        d[np.arange(M), YK] -= 1
        d /= M
        want.append([np.mean(-np.log(p[np.arange(M), YK])), X.T @ d, d.sum(axis=0)])
        w, b = w - LR * (X.T @ d), b - LR * d.sum(axis=0)
    return build, [(X, YK)] * 3, want


def rnn_grad() -> Case:
    """A scan (a tanh RNN) and its gradient through the loop, and a cumulative sum by scan."""

    def build() -> Any:
        xs, wh = ft.dtensor3("xs"), ft.dmatrix("wh")
        hs, _ = fc.scan(
            lambda x_t, h, w: ft.tanh(x_t + ft.dot(h, w)),
            sequences=xs,
            outputs_info=ft.zeros((B, H)),
            non_sequences=wh,
        )
        cums, _ = fc.scan(lambda x_t, acc: acc + x_t, sequences=xs, outputs_info=ft.zeros((B, H)))
        cost = (hs**2).sum()
        return fc.function([xs, wh], [cost, fc.grad(cost, wh), cums])

    hs = [np.zeros((B, H))]
    for t in range(T):
        hs.append(np.tanh(XS[t] + hs[-1] @ WH0))
    g, dh = np.zeros((H, H)), np.zeros((B, H))
    for t in reversed(range(T)):  # back through time: hs[t + 1] is step t's state
        dz = (dh + 2 * hs[t + 1]) * (1 - hs[t + 1] ** 2)
        g += hs[t].T @ dz
        dh = dz @ WH0.T
    return build, [(XS, WH0)], [[np.sum(np.square(hs)), g, np.cumsum(XS, axis=0)]]


def hvp() -> Case:
    """A Hessian-vector product of the logistic loss (two products of one X) and an R-op."""

    def build() -> Any:
        x, y, w, v = ft.dmatrix("x"), ft.dvector("y"), ft.dvector("w"), ft.dvector("v")
        p = ft.nnet.sigmoid(ft.dot(x, w))
        cost = _xent(p, y, ft.log).mean() + 0.01 * (w**2).sum()
        return fc.function([x, y, w, v], [hessian_vector_product(cost, w, v), Rop(p, w, v)])

    p = _sigmoid(X @ W0)
    rv = p * (1 - p) * (X @ V)
    return build, [(X, Y01, W0, V)], [[X.T @ rv / M + 0.02 * V, rv]]


def reductions() -> Case:
    """Reductions over either axis, and a random draw (its bits are compared between hosts)."""

    def build() -> Any:
        x = ft.dmatrix("x")
        draw = fc.RandomStream(7).normal(size=(M, N))
        return fc.function([x], [x.max(axis=0), ft.argmin(x, axis=1), ft.logsumexp(x, axis=1), x.var(), draw])

    return build, [(X,)], [[X.max(axis=0), X.argmin(axis=1), np.log(np.exp(X).sum(axis=1)), X.var(), None]]


CASES: dict[str, Callable[[], Case]] = {
    f.__name__: f for f in (logreg_step, softmax_step, rnn_grad, hvp, reductions)
}


def _errors(f: Any, calls: list[tuple], want: list[list[Any]]) -> tuple[float, list[str]]:
    """The largest relative difference from numpy over every output of every call, and a digest
    of each output numpy has no value for."""
    err, digests = 0.0, []
    for args, expected in zip(calls, want):
        for got, ref in zip(f(*args), expected):
            got = np.asarray(got)
            if ref is None:
                digests.append(hashlib.sha256(got.tobytes()).hexdigest()[:16])
                continue
            ref = np.asarray(ref)
            if got.shape != ref.shape:
                return float("inf"), digests
            err = max(err, float(np.max(np.abs(got - ref))) / max(float(np.max(np.abs(ref))), 1e-300))
    return err, digests


class _Refusals(logging.Handler):
    """Why embedded native libraries were not used (pickling logs it at INFO level)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "not using the embedded native module" in record.getMessage():
            self.reasons.append(str(record.args[-1]))


def _compiles() -> int:
    return int(fc.cache.stats()["compiles"])


def main(out: Path, inbox: Path | None) -> dict[str, Any]:
    refusals = _Refusals()
    pickling = logging.getLogger("fncache.runtime.pickling")
    pickling.addHandler(refusals)
    pickling.setLevel(logging.INFO)
    report: dict[str, Any] = {"errors": {}, "digests": {}, "ops": {}, "compiled": {}}

    def load(name: str, calls: list[tuple], want: list[list[Any]]) -> None:
        for kind, loads in (("pickle", pickle.loads), ("embedded", fc.loads)):
            f = loads((inbox / f"{name}.{kind}").read_bytes())
            report["errors"][f"{kind} {name}"], report["digests"][f"{kind} {name}"] = _errors(f, calls, want)

    def build(name: str, calls: list[tuple], want: list[list[Any]]) -> None:
        f = make()
        (out / f"{name}.pickle").write_bytes(pickle.dumps(f))
        (out / f"{name}.embedded").write_bytes(fc.dumps(f, embed_native=True))
        report["errors"][name], report["digests"][name] = _errors(f, calls, want)
        report["ops"][name] = sorted({type(n.op).__name__ for n in f.optimized_graph.apply_nodes})

    for i, (name, case) in enumerate(CASES.items()):
        make, calls, want = case()
        steps = [("build", build)] + ([("load", load)] if inbox is not None else [])
        for step, run in steps[:: -1 if i % 2 else 1]:
            n = _compiles()
            run(name, calls, want)
            report["compiled"][f"{step} {name}"] = _compiles() - n
    report["refused"] = refusals.reasons
    report["march"] = host_march_flags()
    report["avx"] = "avx" in cpu_features()
    return report


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)))
