"""Training steps beyond W4, side by side on one thread: fncache, PyTensor C and the step
written by hand in numpy (the gradients derived on paper).

    python benchmarks/train_models.py [--rounds 9] [--only mlp64,mlp32,softmax,softmax1k,rnn,conv,hvp]

mlp64, mlp32  2-layer MLP 784 -> 256 tanh -> 10 softmax, cross-entropy, batch 128 (float64, float32)
softmax       softmax regression 784 -> 10, batch 128
softmax1k     softmax regression 256 -> 1000, batch 128 (many classes: the loss's gradient counts)
rnn           tanh RNN through ``scan``: 50 steps, batch 16, 32 inputs, hidden 64, a linear
              read-out of the last state, backpropagation through time
conv          conv2d (8 filters 5x5 on 32 images 1x28x28) + tanh + 2x2 max pool + softmax
hvp           L2-regularised linear regression (1000 x 200): the cost, its gradient and a
              Hessian-vector product (a gradient of a gradient)

Every step is an SGD update of shared weights (hvp: of w, and it also returns H v). Each
implementation is checked first: its costs of two steps (the second after its update) match
numpy's. Then the steps are timed in interleaved rounds (timing.measure_interleaved: each
round calls every implementation the same number of times); a figure is the median over the
rounds. fncache runs with threads=1, numpy's and PyTensor's BLAS are limited to one thread
(threadpoolctl). PyTensor 3 has no conv2d or pool op: its conv cell says n/a.

    python benchmarks/train_models.py --compile 3 [--only ...]

times compiling instead, each figure in a fresh process from ``function()`` to the first
result (the graph and data made before the clock starts): cold, into an empty compiledir, and
warm, a new process on the compiledir the cold one filled (PyTensor still optimizes there;
fncache loads the function). The minimum over the given number of trials, each cold one with
its own compiledir.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from backends import Unavailable, get_fncache, get_pytensor, one_blas_thread  # noqa: E402
from timing import fmt_seconds, measure_interleaved  # noqa: E402

LR = 0.1
BATCH = 128
RNN = dict(steps=50, batch=16, inputs=32, hidden=64)
CONV = dict(batch=32, filters=8, size=5, image=28)
HVP = dict(rows=1000, cols=200, lam=0.01)


# ----------------------------------------------------------------------------------------
# data and initial weights


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def classifier_data(
    dtype: str, hidden: int | None, seed: int = 10, inputs: int = 784, classes: int = 10
) -> tuple:
    """(X, y) and the initial weights [W1, b1, W2, b2] (an MLP) or [W, b] (hidden None)."""
    r = _rng(seed)
    X = r.standard_normal((BATCH, inputs)).astype(dtype)
    y = r.integers(0, classes, BATCH).astype(np.int32)
    sizes = [inputs, classes] if hidden is None else [inputs, hidden, classes]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [(r.standard_normal((a, b)) / np.sqrt(a)).astype(dtype), np.zeros(b, dtype)]
    return (X, y), params


def rnn_data(seed: int = 11) -> tuple:
    r = _rng(seed)
    T, B, n_in, H = RNN["steps"], RNN["batch"], RNN["inputs"], RNN["hidden"]
    x = r.standard_normal((T, B, n_in))
    t = r.standard_normal((B, 1))
    # spectral radius below 1: the loop is not chaotic, both sides' rounding stays small
    params = [
        r.standard_normal((n_in, H)) / np.sqrt(n_in),
        r.standard_normal((H, H)) * 0.9 / np.sqrt(H),
        np.zeros(H),
        r.standard_normal((H, 1)) / np.sqrt(H),
    ]
    return (x, t), params


def conv_data(seed: int = 12) -> tuple:
    r = _rng(seed)
    B, K, S, N = CONV["batch"], CONV["filters"], CONV["size"], CONV["image"]
    X = r.standard_normal((B, 1, N, N))
    y = r.integers(0, 10, B).astype(np.int32)
    flat = K * ((N - S + 1) // 2) ** 2
    params = [
        r.standard_normal((K, 1, S, S)) / S,
        np.zeros(K),
        r.standard_normal((flat, 10)) / np.sqrt(flat),
        np.zeros(10),
    ]
    return (X, y), params


def hvp_data(seed: int = 13) -> tuple:
    r = _rng(seed)
    n, m = HVP["rows"], HVP["cols"]
    X = r.standard_normal((n, m))
    y = X @ r.standard_normal(m) + r.standard_normal(n) * 0.1
    v = r.standard_normal(m)
    return (X, y, v), [np.zeros(m)]


# ----------------------------------------------------------------------------------------
# symbolic graphs: fncache (T=ft, lib=fc) and PyTensor (T=pt, lib=pytensor) share the Theano
# spelling; each returns (inputs, [cost, ...], updates)


def _sgd(lib: Any, cost: Any, params: list) -> list:
    lr = np.asarray(LR, dtype=params[0].dtype)
    return [(p, p - lr * g) for p, g in zip(params, lib.grad(cost, params))]


def _nll(T: Any, z: Any, y: Any) -> Any:
    """The tutorial's negative log-likelihood of the classes ``y`` under softmax(z)."""
    p = T.special.softmax(z, axis=-1)
    return -T.mean(T.log(p)[T.arange(y.shape[0]), y])


def classifier_graph(T: Any, lib: Any, params0: list, dtype: str) -> tuple:
    X, y = T.matrix("X", dtype=dtype), T.ivector("y")
    params = [lib.shared(p.copy(), name=f"p{k}") for k, p in enumerate(params0)]
    h = X
    for W, b in zip(params[:-2:2], params[1:-2:2]):
        h = T.tanh(T.dot(h, W) + b)
    cost = _nll(T, T.dot(h, params[-2]) + params[-1], y)
    return [X, y], [cost], _sgd(lib, cost, params)


def rnn_graph(T: Any, lib: Any, params0: list) -> tuple:
    x, t = T.tensor3("x", dtype="float64"), T.dmatrix("t")
    W, U, b, V = (lib.shared(p.copy(), name=n) for p, n in zip(params0, "WUbV"))
    h0 = T.zeros((x.shape[1], RNN["hidden"]), dtype="float64")
    hs, _ = lib.scan(lambda xt, h: T.tanh(T.dot(xt, W) + T.dot(h, U) + b), sequences=x, outputs_info=h0)
    cost = T.mean((T.dot(hs[-1], V) - t) ** 2)
    return [x, t], [cost], _sgd(lib, cost, [W, U, b, V])


def conv_graph(T: Any, lib: Any, params0: list) -> tuple:
    if not hasattr(T, "nnet"):
        raise Unavailable(f"{lib.__name__} has no conv2d or pool_2d (no tensor.nnet module)")
    X, y = T.tensor4("X", dtype="float64"), T.ivector("y")
    F, c, Wd, bd = (lib.shared(p.copy(), name=n) for p, n in zip(params0, ("F", "c", "Wd", "bd")))
    a = T.tanh(T.nnet.conv2d(X, F) + c.dimshuffle("x", 0, "x", "x"))
    pooled = T.signal.pool.pool_2d(a, ws=(2, 2), ignore_border=True)
    cost = _nll(T, T.dot(pooled.flatten(2), Wd) + bd, y)
    return [X, y], [cost], _sgd(lib, cost, [F, c, Wd, bd])


def hvp_graph(T: Any, lib: Any, params0: list) -> tuple:
    X, y, v = T.dmatrix("X"), T.dvector("y"), T.dvector("v")
    w = lib.shared(params0[0].copy(), name="w")
    cost = 0.5 * T.mean((T.dot(X, w) - y) ** 2) + 0.5 * HVP["lam"] * T.sum(w**2)
    g = lib.grad(cost, w)
    Hv = lib.grad(T.sum(g * v), w)
    return [X, y, v], [cost, Hv], [(w, w - LR * g)]


# ----------------------------------------------------------------------------------------
# numpy by hand: each a callable step holding its weights, returning [cost, ...]


def _softmax_nll(z: np.ndarray, y: np.ndarray) -> tuple:
    """(cost, d cost / d z) of the mean negative log-likelihood of softmax(z)."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = y.shape[0]
    rows = np.arange(n)
    cost = -np.mean(z[rows, y] - np.log(s[:, 0]))
    gz = e / s
    gz[rows, y] -= 1
    gz /= n
    return cost, gz


class ClassifierNumpy:
    def __init__(self, params0: list) -> None:
        self.p = [p.copy() for p in params0]

    def __call__(self, X: np.ndarray, y: np.ndarray) -> list:
        p, lr = self.p, np.asarray(LR, dtype=self.p[0].dtype)
        hs = [X]
        for W, b in zip(p[:-2:2], p[1:-2:2]):
            hs.append(np.tanh(hs[-1] @ W + b))
        cost, g = _softmax_nll(hs[-1] @ p[-2] + p[-1], y)
        grads = []
        for k in range(len(p) // 2 - 1, -1, -1):
            grads[:0] = [hs[k].T @ g, g.sum(axis=0)]
            if k:
                g = (g @ p[2 * k].T) * (1 - hs[k] * hs[k])
        self.p = [a - lr * ga for a, ga in zip(p, grads)]
        return [cost]


class RnnNumpy:
    def __init__(self, params0: list) -> None:
        self.p = [p.copy() for p in params0]

    def __call__(self, x: np.ndarray, t: np.ndarray) -> list:
        W, U, b, V = self.p
        hs = [np.zeros((x.shape[1], U.shape[0]))]
        for xt in x:
            hs.append(np.tanh(xt @ W + hs[-1] @ U + b))
        r = hs[-1] @ V - t
        cost = np.mean(r**2)
        gr = 2 * r / r.size
        gV = hs[-1].T @ gr
        gh = gr @ V.T
        gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
        for k in range(len(x), 0, -1):
            da = gh * (1 - hs[k] * hs[k])
            gW += x[k - 1].T @ da
            gU += hs[k - 1].T @ da
            gb += da.sum(axis=0)
            gh = da @ U.T
        self.p = [a - LR * ga for a, ga in zip(self.p, (gW, gU, gb, gV))]
        return [cost]


class ConvNumpy:
    def __init__(self, params0: list) -> None:
        self.p = [p.copy() for p in params0]

    def __call__(self, X: np.ndarray, y: np.ndarray) -> list:
        F, c, Wd, bd = self.p
        S = F.shape[-1]
        win = np.lib.stride_tricks.sliding_window_view(X, (S, S), axis=(2, 3))  # b c i j u v
        Ff = F[:, :, ::-1, ::-1]  # conv2d flips its filters (a convolution, not a correlation)
        z = np.tensordot(win, Ff, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + c[:, None, None]
        a = np.tanh(z)
        B, K, R, C = a.shape
        blocks = a.reshape(B, K, R // 2, 2, C // 2, 2)
        pooled = blocks.max(axis=(3, 5))
        cost, gz = _softmax_nll(pooled.reshape(B, -1) @ Wd + bd, y)
        gWd, gbd = pooled.reshape(B, -1).T @ gz, gz.sum(axis=0)
        gp = (gz @ Wd.T).reshape(pooled.shape)[:, :, :, None, :, None]
        # the gradient of a max goes to every entry equal to its window's max
        ga = np.where(blocks == pooled[:, :, :, None, :, None], gp, 0.0).reshape(a.shape)
        gza = ga * (1 - a * a)
        gFf = np.tensordot(gza, win, axes=([0, 2, 3], [0, 2, 3]))
        grads = (gFf[:, :, ::-1, ::-1], gza.sum(axis=(0, 2, 3)), gWd, gbd)
        self.p = [p - LR * g for p, g in zip(self.p, grads)]
        return [cost]


class HvpNumpy:
    def __init__(self, params0: list) -> None:
        self.w = params0[0].copy()

    def __call__(self, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> list:
        n, lam, w = X.shape[0], HVP["lam"], self.w
        r = X @ w - y
        cost = 0.5 * np.mean(r**2) + 0.5 * lam * np.sum(w**2)
        g = X.T @ r / n + lam * w
        Hv = X.T @ (X @ v) / n + lam * v
        self.w = w - LR * g
        return [cost, Hv]


# ----------------------------------------------------------------------------------------
# the models: (title, data, graph builder (T, lib, params0), numpy step, dtype)


def _classifier(dtype: str) -> Callable:
    return lambda T, lib, params0: classifier_graph(T, lib, params0, dtype)


MODELS = {
    "mlp64": ("MLP 784-256-10, batch 128, float64", lambda: classifier_data("float64", 256),
              _classifier("float64"), ClassifierNumpy, "float64"),
    "mlp32": ("MLP 784-256-10, batch 128, float32", lambda: classifier_data("float32", 256),
              _classifier("float32"), ClassifierNumpy, "float32"),
    "softmax": ("softmax regression 784-10, batch 128", lambda: classifier_data("float64", None),
                _classifier("float64"), ClassifierNumpy, "float64"),
    "softmax1k": ("softmax regression 256-1000, batch 128",
                  lambda: classifier_data("float64", None, inputs=256, classes=1000),
                  _classifier("float64"), ClassifierNumpy, "float64"),
    "rnn": ("RNN scan 50 steps, batch 16, hidden 64, BPTT", rnn_data, rnn_graph, RnnNumpy, "float64"),
    "conv": ("conv2d 8x5x5 + pool 2x2 + softmax, batch 32", conv_data, conv_graph, ConvNumpy, "float64"),
    "hvp": ("L2 linear regression 1000x200, grad + Hv", hvp_data, hvp_graph, HvpNumpy, "float64"),
}  # fmt: skip


def build_steps(key: str, only: tuple = ("fncache", "pytensor-C", "numpy")) -> tuple:
    """(data, {implementation: step}): each step checked against numpy's over two calls."""
    _, make_data, graph, numpy_step, dtype = MODELS[key]
    data, params0 = make_data()
    steps: dict = {}
    if "fncache" in only:
        fc, ft = get_fncache()
        fc.config.threads = 1
        ins, outs, upd = graph(ft, fc, params0)
        steps["fncache"] = fc.function(ins, outs, updates=upd)
    if "pytensor-C" in only:
        try:
            pytensor, pt, mode = get_pytensor()
            ins, outs, upd = graph(pt, pytensor, params0)
            steps["pytensor-C"] = pytensor.function(ins, outs, updates=upd, mode=mode)
        except Unavailable as e:
            steps["pytensor-C"] = e
    steps["numpy"] = numpy_step(params0)
    ref = numpy_step(params0)
    want = [ref(*data), ref(*data)]
    rtol = 2e-4 if dtype == "float32" else 1e-7
    for name, f in steps.items():
        if isinstance(f, Exception):
            continue
        for k in range(2):
            for got, exp in zip(f(*data), want[k]):
                np.testing.assert_allclose(got, exp, rtol=rtol, atol=rtol * 1e-3, err_msg=f"{key} {name}")
    return data, steps


def compile_child(key: str, impl: str) -> None:
    """In a fresh process: print the seconds from ``function()`` to the first result."""
    _, make_data, graph, _, _ = MODELS[key]
    data, params0 = make_data()
    if impl == "fncache":
        fc, ft = get_fncache()
        fc.config.threads = 1  # as the steps are timed: the first call is then not a thread pool's
        ins, outs, upd = graph(ft, fc, params0)
        t0 = time.perf_counter()
        fc.function(ins, outs, updates=upd)(*data)
    else:
        warnings.filterwarnings("ignore", message="Scan return signature")
        pytensor, pt, mode = get_pytensor()
        try:
            ins, outs, upd = graph(pt, pytensor, params0)
        except Unavailable:
            print("nan")
            return
        t0 = time.perf_counter()
        pytensor.function(ins, outs, updates=upd, mode=mode)(*data)
    print(time.perf_counter() - t0)


def compile_times(keys: list[str], trials: int) -> None:
    """Cold and warm compile of each model, fncache beside PyTensor C (see the docstring)."""
    print(
        f"compile -> first result, fresh processes, minimum of {trials}; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'':48s} {'fc cold':>9s} {'pt cold':>9s} {'fc warm':>9s} {'pt warm':>9s}   cold pt/fc  warm pt/fc"
    )
    for key in keys:
        best: dict = {}
        for impl, flags in (("fncache", "FNCACHE_FLAGS"), ("pytensor", "PYTENSOR_FLAGS")):
            for _ in range(trials):
                with tempfile.TemporaryDirectory(prefix=f"train-compile-{impl}-") as d:
                    env = dict(os.environ, **{flags: f"compiledir={d}"})
                    for kind in ("cold", "warm"):
                        out = subprocess.run(
                            [sys.executable, os.path.abspath(__file__), "--child", key, impl],
                            env=env, capture_output=True, text=True, check=False,
                        )  # fmt: skip
                        if out.returncode:
                            raise RuntimeError(f"{key} {impl} {kind}: {out.stderr[-2000:]}")
                        t = float(out.stdout.split()[-1])
                        best[impl, kind] = min(best.get((impl, kind), t), t)
        cells = [best[i, k] for k in ("cold", "warm") for i in ("fncache", "pytensor")]
        ratios = [cells[1] / cells[0], cells[3] / cells[2]]  # NaN: PyTensor has no such op
        print(
            f"  {MODELS[key][0]:46s} " + " ".join(f"{'n/a' if c != c else fmt_seconds(c):>9s}" for c in cells)
            + "   " + " ".join(f"{'n/a' if r != r else f'{r:.1f}x':>10s}" for r in ratios)
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--only", default=",".join(MODELS), help="models, comma-separated")
    p.add_argument("--compile", type=int, default=0, metavar="TRIALS", help="time compiling instead")
    p.add_argument("--child", nargs=2, metavar=("MODEL", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    if args.child:
        with one_blas_thread():
            compile_child(*args.child)
        return 0
    if args.compile:
        compile_times(keys, args.compile)
        return 0
    # PyTensor 3 announces a change of scan's return value; both spellings agree here
    warnings.filterwarnings("ignore", message="Scan return signature")
    load0 = os.getloadavg()[0]
    results = {}
    with one_blas_thread():
        for key in keys:
            data, steps = build_steps(key)
            entries = {
                name: (lambda f=f, data=data: f(*data), {}, contextlib.nullcontext)
                for name, f in steps.items()
                if not isinstance(f, Exception)
            }
            timed = measure_interleaved(entries, repeats=args.rounds, min_repeat_time=0.05)
            results[key] = {name: timed.get(name, f) for name, f in steps.items()}
    print(
        f"training steps, median over {args.rounds} interleaved rounds, one thread; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(f"{'':48s} {'fncache':>10s} {'pytensor-C':>10s} {'numpy':>10s}   pytensor/fc  numpy/fc")
    for key, row in results.items():
        cells, ratios = [], []
        for name in ("fncache", "pytensor-C", "numpy"):
            r = row[name]
            cells.append(f"{fmt_seconds(r.median):>10s}" if not isinstance(r, Exception) else f"{'n/a':>10s}")
        for name in ("pytensor-C", "numpy"):
            r = row[name]
            ratios.append("n/a" if isinstance(r, Exception) else f"{r.median / row['fncache'].median:.2f}x")
        print(f"  {MODELS[key][0]:46s} {' '.join(cells)}   {ratios[0]:>10s} {ratios[1]:>9s}")
    for key, row in results.items():
        for name, r in row.items():
            if isinstance(r, Exception):
                print(f"  {key} {name}: n/a ({r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
