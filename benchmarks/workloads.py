"""The workloads (compiler speed, cache, pickles), written once for every implementation.

This module imports only numpy at the top, so fresh child processes can import it without
skewing their timings; each implementation's builder imports its library itself.

W1  exp(x)*y + sin(z)/(1+x*x)                    elementwise, float64 and float32
W2  sum((x-y)**2)                                 fused reduction
W3  mean(-t*log(p)-(1-t)*log(1-p)), p=sigmoid(X@w+b)   logistic-regression loss
W4  one training step of the Theano tutorial's logistic regression (gradients and updates)
G   an LSTM cell's gates on a small batch (concatenate, a product, four slices of symbolic
    bounds): what a small recurrent model spends per step outside its arithmetic
"""

from __future__ import annotations

import numpy as np

W1_TEXT = "exp(x)*y + sin(z)/(1+x*x)"
W2_TEXT = "sum((x-y)**2)"
W3_TEXT = "mean(-t*log(p)-(1-t)*log(1-p)), p=sigmoid(X@w+b)"
W3_SHAPE = (1000, 100)
W4_TEXT = "logreg training step: grad(xent.mean() + 0.01*sum(w**2), [w, b]), updates"
W4_SHAPE = (400, 784)
W4_LR = 0.1
G_SHAPE = (4, 8)  # batch, cell size

# ----------------------------------------------------------------------------------------
# data


def w1_inputs(n, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(n).astype(dtype) for _ in range(3))


def w2_inputs(n, dtype="float64", seed=1):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(n).astype(dtype) for _ in range(2))


def w3_inputs(shape=W3_SHAPE, seed=2):
    rng = np.random.default_rng(seed)
    m, k = shape
    X = rng.standard_normal((m, k))
    w = rng.standard_normal(k) * 0.1
    b = np.float64(0.1)
    t = rng.integers(0, 2, m).astype(np.float64)
    return X, w, b, t


def w4_inputs(shape=W4_SHAPE, seed=4):
    """The tutorial's data (400x784 float64, 0/1 labels) and initial weights. The tutorial's
    w ~ N(0, 1) makes p exactly 0 or 1 (log(0): NaN from the first step, in every
    implementation); scaled by 0.01 the steps stay finite."""
    rng = np.random.default_rng(seed)
    n, feats = shape
    X = rng.standard_normal((n, feats))
    y = rng.integers(0, 2, n).astype(np.float64)
    w0 = rng.standard_normal(feats) * 0.01
    return X, y, w0


# ----------------------------------------------------------------------------------------
# numpy: the reference and a competitor


def w1_numpy(x, y, z):
    return np.exp(x) * y + np.sin(z) / (1 + x * x)


def w2_numpy(x, y):
    return np.sum((x - y) ** 2)


def w3_numpy(X, w, b, t):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p))


class W4NumpyStep:
    """The training step written by hand in numpy (the gradients derived on paper)."""

    def __init__(self, w0):
        self.w, self.b = w0.copy(), 0.0

    def __call__(self, X, y):
        p = 1.0 / (1.0 + np.exp(-X.dot(self.w) - self.b))
        xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        gz = (p - y) / y.shape[0]  # d mean(xent) / d (X.w + b)
        self.w = self.w - W4_LR * (X.T.dot(gz) + 0.02 * self.w)
        self.b = self.b - W4_LR * gz.sum()
        return p > 0.5, xent


def w4_ref(X, y, w0):
    """xent of the first step."""
    return W4NumpyStep(w0)(X, y)[1]


def gates_inputs(shape=G_SHAPE, seed=5):
    b, n = shape
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((b, n)),
        rng.standard_normal((b, n)),
        rng.standard_normal((b, n)),
        rng.standard_normal((2 * n, 4 * n)) * 0.3,
    )


def gates_numpy(x, h, c, Wt):
    z = np.concatenate([x, h], axis=1) @ Wt
    n = h.shape[1]
    i, f, o = (1 / (1 + np.exp(-z[:, k * n : (k + 1) * n])) for k in range(3))
    return o * np.tanh(f * c + i * np.tanh(z[:, 3 * n :]))


def gates_graph(T):
    x, h, c, Wt = T.dmatrix("x"), T.dmatrix("h"), T.dmatrix("c"), T.dmatrix("W")
    z = T.dot(T.concatenate([x, h], axis=1), Wt)
    n = h.shape[1]
    i, f, o = (T.sigmoid(z[:, k * n : (k + 1) * n]) for k in range(3))
    return [x, h, c, Wt], o * T.tanh(f * c + i * T.tanh(z[:, 3 * n :]))


def w1_ref(x, y, z):
    """float64 reference (also for float32 inputs)."""
    return w1_numpy(x.astype(np.float64), y.astype(np.float64), z.astype(np.float64))


def w2_ref(x, y):
    return w2_numpy(x.astype(np.float64), y.astype(np.float64))


def w3_ref(X, w, b, t):
    return w3_numpy(X, w, b, t)


def w1_scale(x, y, z):
    """Magnitude of W1's terms, |exp(x)*y| + |sin(z)/(1+x*x)|, in float64.

    W1's two terms cancel for some elements, so an error of one ulp in a term becomes a huge
    error *relative to the result*; errors are measured relative to this scale instead.
    """
    x, y, z = (a.astype(np.float64) for a in (x, y, z))
    return np.abs(np.exp(x) * y) + np.abs(np.sin(z) / (1 + x * x))


def check(result, ref, dtype="float64", scale=None):
    """Raise WrongResult unless ``result`` matches the float64 reference ``ref``.

    The test is np.allclose's, |result - ref| <= atol + rtol * m, with m = |ref| or, where
    ``scale`` is given, max(|ref|, scale) (see w1_scale).  Returns the max relative error
    |result - ref| / m (for the JSON record).  Array outputs must also have numpy's output
    dtype; a scalar result may come back as a 0-d array or a number.
    """
    from timing import WrongResult

    ref = np.asarray(ref, dtype=np.float64)
    if result is None:
        raise WrongResult("returned None")
    if isinstance(result, (list, tuple)) and len(result) == 1:
        result = result[0]
    res = np.asarray(result)
    if ref.ndim > 0:
        if res.shape != ref.shape:
            raise WrongResult(f"shape {res.shape} != {ref.shape}")
        if res.dtype != np.dtype(dtype):
            raise WrongResult(f"dtype {res.dtype} != numpy's {np.dtype(dtype)}")
    elif res.size != 1:
        raise WrongResult(f"expected a scalar, got shape {res.shape}")
    res = res.reshape(ref.shape).astype(np.float64)
    if np.dtype(dtype) == np.float32:
        rtol, atol = 2e-5, 1e-6
    else:
        rtol, atol = 1e-7, 1e-12
    mag = np.abs(ref) if scale is None else np.maximum(np.abs(ref), scale)
    diff = np.abs(res - ref)
    with np.errstate(invalid="ignore"):
        bad = ~(diff <= atol + rtol * mag)
    bad &= ~(np.isnan(res) & np.isnan(ref))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise WrongResult(
            f"wrong: {int(bad.sum())} elements off, e.g. {res.ravel()[i]!r} vs {ref.ravel()[i]!r}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / np.maximum(mag, np.finfo(np.float64).tiny)
    return float(np.nanmax(rel)) if rel.size else 0.0


# ----------------------------------------------------------------------------------------
# numexpr (1 thread: backends.get_numexpr sets it)

NE_W1 = "exp(x)*y + sin(z)/(1+x*x)"
NE_W2 = "sum((x-y)**2)"


def w3_numexpr(ne, X, w, b, t):
    """numexpr has no matmul: numpy's X@w (BLAS), then numexpr for the rest."""
    z = X @ w + b  # noqa: F841 - used by name inside the expressions
    p = ne.evaluate("1/(1+exp(-z))")  # noqa: F841
    return ne.evaluate("sum(-t*log(p)-(1-t)*log(1-p))") / t.shape[0]


# ----------------------------------------------------------------------------------------
# numba: @njit, explicit loops (its fastest idiomatic form), serial, no fastmath


def make_numba_w1():
    from numba import njit

    @njit
    def w1(x, y, z):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = np.exp(x[i]) * y[i] + np.sin(z[i]) / (1 + x[i] * x[i])
        return out

    return w1


def make_numba_w2():
    from numba import njit

    @njit
    def w2(x, y):
        acc = 0.0
        for i in range(x.shape[0]):
            d = x[i] - y[i]
            acc += d * d
        return acc

    return w2


def make_numba_w3():
    from numba import njit

    @njit
    def w3(X, w, b, t):
        z = np.dot(X, w)
        acc = 0.0
        for i in range(z.shape[0]):
            p = 1.0 / (1.0 + np.exp(-(z[i] + b)))
            acc += -t[i] * np.log(p) - (1.0 - t[i]) * np.log(1.0 - p)
        return acc / z.shape[0]

    return w3


# ----------------------------------------------------------------------------------------
# symbolic graphs: fncache (ft) and PyTensor (pt) share the Theano spelling


def w1_graph(T, dtype="float64"):
    x, y, z = (T.vector(n, dtype=dtype) for n in "xyz")
    return [x, y, z], T.exp(x) * y + T.sin(z) / (1 + x * x)


def w2_graph(T, dtype="float64"):
    x, y = (T.vector(n, dtype=dtype) for n in "xy")
    return [x, y], T.sum((x - y) ** 2)


def w3_graph(T):
    X = T.matrix("X", dtype="float64")
    w = T.vector("w", dtype="float64")
    b = T.scalar("b", dtype="float64")
    t = T.vector("t", dtype="float64")
    p = T.sigmoid(X @ w + b)
    return [X, w, b, t], T.mean(-t * T.log(p) - (1 - t) * T.log(1 - p))


def w4_graph(T, lib, w0):
    """The tutorial's ``train`` graph for fncache (T=ft, lib=fc) or PyTensor (T=pt,
    lib=pytensor): (inputs, [prediction, xent], updates of w and b with their gradients)."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = lib.shared(w0.copy(), name="w"), lib.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = lib.grad(cost, [w, b])
    return [x, y], [p_1 > 0.5, xent], [(w, w - W4_LR * gw), (b, b - W4_LR * gb)]


def filler_graph(T, i):
    """The i-th of many small distinct functions used to grow a cache."""
    x = T.vector("x", dtype="float64")
    return [x], T.sin(x) * (1000.5 + i) + x
