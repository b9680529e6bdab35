"""Property test of FAST_RUN's softmax and logistic rewrites (`log_softmax`, `index_elemwise`,
`sizes`, `logistic`, `sigmoid_products`, the softmax cross-entropy's shortcut gradient and the
fusion of their results): random graphs of softmax / log_softmax / logsumexp /
categorical_crossentropy, picks ``e[arange(m), y]`` of those and of elementwise mixes of a
matrix with rows, columns and scalars broadcast when the function runs, reductions over axes,
sizes read as ``u.shape[d]``, and the sigmoid and softplus spellings, in float32 and float64,
with 0 or 1 rows or classes and extreme scores (+-800, +-1e300, +-inf, NaN).

FAST_RUN (C) and FAST_COMPILE (numpy, the graph as written) are each compared with numpy and
scipy computing the same thing: where a rewrite is meant to differ from what is written (a
log-probability that stays finite where the probability underflows, a softplus that does not
overflow) FAST_RUN is compared with the exact function and FAST_COMPILE with the expression as
written. Gradients are compared with numpy's closed forms on the rows where they are defined
(finite scores), and between the two modes everywhere. An index numpy refuses is an error in
both modes, naming it. The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 and raise
FNCACHE_HYPOTHESIS_EXAMPLES to explore new examples.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import scipy.special as sp

hypothesis = pytest.importorskip("hypothesis")
from fcutil import compiled, fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

#: relative tolerance of a value computed in each dtype, scaled by the row's largest score
TOL = {"float64": 1e-12, "float32": 2e-5}
#: what an error about a bad index or size says
INDEX_ERROR = re.compile(r"index|out of|outside|\[-k, k\)|broadcast|rows", re.I)
EXTREMES = (800.0, -800.0, 1e300, -1e300, np.inf, -np.inf, np.nan)


def _finite_scale(z: np.ndarray) -> np.ndarray:
    """The largest finite ``|z|`` of each row, at least 1 (rounding errors scale with it)."""
    a = np.where(np.isfinite(z), np.abs(z), 0.0)
    return np.maximum(a.max(axis=1, initial=0.0), 1.0)


def _close(got: np.ndarray, want: np.ndarray, dtype: str, scale: Any, what: str) -> None:
    """``got`` of ``dtype`` equals ``want`` (float64): NaN and infinities in the same places,
    finite values within the dtype's tolerance times ``scale`` (broadcast against them)."""
    got = np.asarray(got)
    with np.errstate(all="ignore"):
        want = np.asarray(want, dtype=float).astype(dtype).astype(float)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, want {dtype}"
    g = got.astype(float)
    assert np.array_equal(np.isnan(g), np.isnan(want)), (
        f"{what}: NaN at {np.isnan(g)}, want {np.isnan(want)}\n{g}\n{want}"
    )
    assert np.array_equal(np.isposinf(g), np.isposinf(want)), f"{what}: +inf\n{g}\n{want}"
    assert np.array_equal(np.isneginf(g), np.isneginf(want)), f"{what}: -inf\n{g}\n{want}"
    ok = np.isfinite(want)
    with np.errstate(all="ignore"):
        bound = TOL[dtype] * (np.abs(want) + np.broadcast_to(scale, want.shape))
        assert (np.abs(g - want)[ok] <= bound[ok]).all(), f"{what}:\n{g}\nwant\n{want}"


def _both(f_run: Callable, f_compile: Callable, args: list) -> tuple[Any, Any]:
    """Both modes' results, or the exception each raised."""
    out = []
    for f in (f_run, f_compile):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out.append(f(*args))
        except (IndexError, ValueError) as e:
            out.append(e)
    return out[0], out[1]


def _raises(got: Any, what: str) -> None:
    assert isinstance(got, (IndexError, ValueError)), f"{what}: numpy raises, got {got!r}"
    assert INDEX_ERROR.search(str(got)), f"{what}: the error does not name the index or size: {got}"


# -- the scores and the class indices ---------------------------------------------------------


@st.composite
def scores(draw: Any, dtype: str) -> np.ndarray:
    """An ``n x k`` matrix (0 or 1 rows or classes among them) of normal scores of a random
    scale, some entries or rows replaced by extremes."""
    n, k = draw(st.sampled_from((0, 1, 2, 3, 5))), draw(st.sampled_from((1, 2, 3, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    z = rng.standard_normal((n, k)) * draw(st.sampled_from((1.0, 5.0, 300.0)))
    for _ in range(draw(st.integers(0, 4)) if z.size else 0):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, k - 1))
        v = draw(st.sampled_from(EXTREMES))
        if draw(st.booleans()):
            z[i, j] = v
        else:
            z[i] = v
    with np.errstate(over="ignore"):
        return z.astype(dtype)


def _float64_softmax(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(softmax, log_softmax, log of the softmax as written, that log rewritten) of ``z``'s
    rows: scipy's softmax and log-softmax in float64, numpy's log of the softmax computed in
    ``z``'s dtype as FAST_COMPILE computes it (``-inf`` where a probability underflows; sums
    accumulated in float64, as fncache's), and FAST_RUN's (the log-softmax, NaN where the
    softmax is: a row holding +inf or NaN, or only -inf)."""
    zf = z.astype(float)
    with np.errstate(all="ignore"):
        p = sp.softmax(zf, axis=1) if z.size else np.zeros(z.shape)
        ls = sp.log_softmax(zf, axis=1) if z.size else np.zeros(z.shape)
        rewritten = np.where(np.isnan(p).any(axis=1, keepdims=True), np.nan, ls)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        written = np.log(e / e.sum(axis=1, keepdims=True, dtype=float).astype(z.dtype))
        return p, ls, written, rewritten


# -- picks of a softmax's log-probabilities and of elementwise mixes ---------------------------

#: name: (symbolic matrix of z, row r, column c, scalar s; numpy's for each mode (FAST_RUN,
#: FAST_COMPILE), from (z, r, c, s) of the dtype)
MATRICES: dict[str, tuple[Callable, Callable]] = {
    "log(softmax(z))": (
        lambda z, r, c, s: ft.log(ft.softmax(z)),
        lambda z, r, c, s: (_float64_softmax(z)[3], _float64_softmax(z)[2]),
    ),
    "log_softmax(z)": (
        lambda z, r, c, s: ft.log_softmax(z),
        lambda z, r, c, s: (_float64_softmax(z)[1],) * 2,
    ),
    "softmax(z)": (lambda z, r, c, s: ft.softmax(z), lambda z, r, c, s: (_float64_softmax(z)[0],) * 2),
    "log(softmax(z + r))": (
        lambda z, r, c, s: ft.log(ft.softmax(z + r)),
        lambda z, r, c, s: (_float64_softmax(z + r)[3], _float64_softmax(z + r)[2]),
    ),
    "exp(z) * r + c": (
        lambda z, r, c, s: ft.exp(z) * r + c,
        lambda z, r, c, s: (np.exp(z) * r + c,) * 2,
    ),
    "z * s - r": (lambda z, r, c, s: z * s - r, lambda z, r, c, s: (z * s - r,) * 2),
    "c + r": (lambda z, r, c, s: c + r, lambda z, r, c, s: (c + r,) * 2),
    "where(z > c, z, r)": (
        lambda z, r, c, s: ft.where(z > c, z, r),
        lambda z, r, c, s: (np.where(z > c, z, r),) * 2,
    ),
}


@st.composite
def picks(draw: Any) -> dict:
    dtype = draw(st.sampled_from(("float64", "float32")))
    z = draw(scores(dtype))
    n, k = z.shape
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # rows and columns broadcast when the function runs (size 1) or of z's sizes
    r = rng.standard_normal(draw(st.sampled_from((k, 1)))).astype(dtype)
    c = rng.standard_normal((draw(st.sampled_from((n, 1))), 1)).astype(dtype)
    # the rows picked: arange(m) for m of z's rows or others, or with an offset
    m = draw(st.sampled_from((n, n, n, 1, max(n - 1, 0), n + 1)))
    start = draw(st.sampled_from((0, 0, 0, 1, -1)))
    y_dtype = draw(st.sampled_from(("int32", "int64", "uint8")))
    lo = 0 if y_dtype == "uint8" else -k - draw(st.sampled_from((0, 0, 1)))
    hi = k + draw(st.sampled_from((0, 0, 0, 1)))
    y_len = draw(st.sampled_from((m, m, 1)))
    y = rng.integers(lo, hi, y_len).astype(y_dtype)
    return {
        "dtype": dtype,
        "z": z,
        "r": r,
        "c": c,
        "s": np.asarray(draw(st.sampled_from((0.5, -2.0, 0.0))), dtype),
        "start": start,
        "m": m,
        "y": y,
        "matrix": draw(st.sampled_from(sorted(MATRICES))),
        "reduce": draw(st.sampled_from(("sum", "mean", "max"))),
    }


def _pick_function(case: dict, mode: str) -> Callable:
    dtype, start = case["dtype"], case["start"]
    z, r, c = ft.matrix("z", dtype=dtype), ft.vector("r", dtype=dtype), ft.matrix("c", dtype=dtype)
    s, m, y = ft.scalar("s", dtype=dtype), ft.lscalar("m"), ft.vector("y", dtype=case["y"].dtype)
    e = MATRICES[case["matrix"]][0](z, r, c, s)
    rows = ft.arange(m) if start == 0 else ft.arange(start, start + m)
    picked = e[rows, y]
    outs = [picked, getattr(ft, case["reduce"])(picked)]
    return fc.function([z, r, c, s, m, y], outs, mode=mode, on_unused_input="ignore")


@fuzz_settings(6)
@given(case=picks())
def test_picks_of_log_probabilities_and_elementwise_mixes(case: dict) -> None:
    """``e[arange(m), y]`` (and its sum, mean or max) in both modes is numpy's indexing of
    numpy's ``e``; where numpy refuses the index or the shapes, both modes raise, naming it."""
    dtype, z, r, c, s = case["dtype"], case["z"], case["r"], case["c"], case["s"]
    args = [z, r, c, s, case["m"], case["y"]]
    got = _both(_pick_function(case, "FAST_RUN"), _pick_function(case, "FAST_COMPILE"), args)
    rows = np.arange(case["start"], case["start"] + case["m"])
    scale = _finite_scale(z) if z.shape[0] else np.ones(0)
    with np.errstate(all="ignore"):
        try:
            wants = MATRICES[case["matrix"]][1](z, r, c, s)
        except ValueError:  # shapes that do not broadcast
            for g, mode in zip(got, ("FAST_RUN", "FAST_COMPILE")):
                _raises(g, f"{mode} {case['matrix']}")
            return
    for g, want, mode in zip(got, wants, ("FAST_RUN", "FAST_COMPILE")):
        what = f"{mode} {case['matrix']}[arange({case['start']}, +{case['m']}), {case['y']!r}]"
        try:
            want_pick = want[rows, case["y"].astype(np.int64)]
            row_scale = np.broadcast_to(scale[rows], want_pick.shape) if want.shape[0] == len(scale) else 1.0
        except IndexError:
            _raises(g, what)
            continue
        red = case["reduce"]
        if red == "max" and want_pick.size == 0:  # numpy's max of nothing raises
            assert isinstance(g, ValueError), f"{what}: the max of no picks gave {g!r}"
            continue
        assert not isinstance(g, Exception), f"{what}: numpy gives {want_pick}, fncache raised {g!r}"
        _close(g[0], want_pick, dtype, row_scale, what)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no picks is NaN
            want_red = getattr(np, red)(want_pick)
        big = np.max(np.where(np.isfinite(want_pick), np.abs(want_pick), 0), initial=1.0) * max(
            want_pick.size, 1
        )
        _close(g[1], want_red, dtype, big, f"{what} {red}")


# -- row-wise reductions, the losses and their gradients ---------------------------------------


LOSSES = ("-log(softmax)[i, y]", "-log_softmax[i, y]", "cce(softmax, y)", "-sum(log_softmax[i, y]) / n")


def _losses(z: Any, y: Any, red: str) -> list[Any]:
    """The losses `LOSSES` names, each the sum or mean (``red``) over the rows."""
    ar = ft.arange(y.shape[0])
    lp, ls = ft.log(ft.softmax(z)), ft.log_softmax(z)
    cost = {"sum": ft.sum, "mean": ft.mean}[red]
    # a mean written as a sum over the number of rows, read from z's shape
    n = ft.cast(z.shape[0], z.dtype) if red == "mean" else 1
    return [
        -cost(lp[ar, y]),
        -cost(ls[ar, y]),
        cost(ft.nnet.categorical_crossentropy(ft.softmax(z), y)),
        -ft.sum(ls[ar, y]) / n,
    ]


@st.composite
def rows_cases(draw: Any, dtype: str, y_dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores and one class index per row, now and then one out of range (negative: numpy's
    indexing takes it, `categorical_crossentropy` does not)."""
    z = draw(scores(dtype))
    n, k = z.shape
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    y = rng.integers(0, k, n).astype(y_dtype)
    if n and draw(st.integers(0, 4)) == 0:
        bad = (k, k + 3) if y_dtype == "uint8" else (k, -1, -k - 1)
        y[draw(st.integers(0, n - 1))] = draw(st.sampled_from(bad))
    return z, y


@compiled
def _rows_function(dtype: str, y_dtype: str, red: str, mode: str) -> Callable:
    z, y = ft.matrix("z", dtype=dtype), ft.vector("y", dtype=y_dtype)
    losses = _losses(z, y, red)
    outs = [
        ft.logsumexp(z, axis=1),
        ft.logsumexp(z, axis=0),
        ft.mean(ft.log_softmax(z), axis=1),
        ft.max(ft.log_softmax(z), axis=1),
        ft.sum(ft.softmax(z), axis=0),
        ft.nnet.categorical_crossentropy(ft.softmax(z), y),
        *losses,
        *fc.grad(ft.add(*losses), [z]),
        fc.grad(ft.sum(ft.logsumexp(z, axis=1)), z),
    ]
    return fc.function([z, y], outs, mode=mode)


def _gradient_want(z: np.ndarray, y: np.ndarray, red: str) -> np.ndarray:
    """The gradient of the sum of the four losses: 4 (p - one_hot(y)) per row (over n for a
    mean), on the rows of finite scores (NaN elsewhere: not compared)."""
    n, k = z.shape
    p = _float64_softmax(z)[0]
    g = 4 * (p - np.eye(k)[y.astype(np.int64) % k]) / (n if red == "mean" else 1)
    return np.where(np.isfinite(z).all(axis=1, keepdims=True), g, np.nan)


@fuzz_settings(1)
@given(data=st.data())
def test_losses_reductions_and_gradients(data: Any) -> None:
    """logsumexp over each axis, means and maxima of log-probabilities, the per-row and mean
    cross-entropy in each spelling and their gradients, in both modes, against scipy; a class
    index out of range raises in both, naming it. Each function (one per dtype, class indices'
    dtype and sum or mean) runs on several inputs."""
    dtype = data.draw(st.sampled_from(("float64", "float32")), label="dtype")
    y_dtype = data.draw(st.sampled_from(("int32", "int64", "uint8")), label="y dtype")
    red = data.draw(st.sampled_from(("sum", "mean")), label="reduction")
    fs = [_rows_function(dtype, y_dtype, red, mode) for mode in ("FAST_RUN", "FAST_COMPILE")]
    for _ in range(4):
        z, y = data.draw(rows_cases(dtype, y_dtype), label="z, y")
        _check_losses(z, y, red, _both(*fs, [z, y]))


def _check_losses(z: np.ndarray, y: np.ndarray, red: str, got: tuple) -> None:
    dtype = z.dtype.name
    n, k = z.shape
    yi = y.astype(np.int64)
    if ((yi < -k) | (yi >= k)).any() or (yi < 0).any():
        # categorical_crossentropy takes [0, k) only; the indexing [-k, k)
        for g, mode in zip(got, ("FAST_RUN", "FAST_COMPILE")):
            _raises(g, f"{mode} y = {y} for {k} classes")
        return
    p, ls, log_p, rewritten = _float64_softmax(z)
    zf = z.astype(float)
    scale = _finite_scale(z) if n else np.ones(0)
    with np.errstate(all="ignore"):
        lse1 = sp.logsumexp(zf, axis=1) if n else np.zeros(0)
        lse0 = sp.logsumexp(zf, axis=0) if n else np.full(k, -np.inf)
        picked = ls[np.arange(n), yi]
        mean = (lambda v: v.mean()) if red == "mean" else (lambda v: v.sum())
    rows_finite = (~np.isnan(p).any(axis=1)) if n else np.ones(0, bool)
    for g, mode in zip(got, ("FAST_RUN", "FAST_COMPILE")):
        assert not isinstance(g, Exception), f"{mode}: raised {g!r}"
        log_probs = rewritten if mode == "FAST_RUN" else log_p
        col_scale = np.max(scale, initial=1.0)
        _close(g[0], lse1, dtype, scale, f"{mode} logsumexp axis 1")
        _close(g[1], lse0, dtype, col_scale, f"{mode} logsumexp axis 0")
        with np.errstate(all="ignore"):
            _close(g[2], ls.mean(axis=1), dtype, scale, f"{mode} mean(log_softmax)")
            _close(g[3], ls.max(axis=1), dtype, scale, f"{mode} max(log_softmax)")
            _close(g[4], p.sum(axis=0), dtype, 1.0, f"{mode} sum(softmax, 0)")
        # categorical_crossentropy takes the log-softmax of a softmax: finite where it underflows
        cce = np.where(rows_finite, -picked, np.nan)
        _close(g[5], cce, dtype, scale, f"{mode} cce per row")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no rows is NaN
            wants = [
                -mean(log_probs[np.arange(n), yi]),
                -mean(picked),
                mean(cce),
                -picked.sum() / (n if red == "mean" else 1),
            ]
        total = np.max(scale, initial=1.0) * max(n, 1)
        for name, v, w in zip(LOSSES, g[6:10], wants):
            with np.errstate(all="ignore"):
                _close(v, w, dtype, total, f"{mode} {name} {red}")
        grad = g[10]
        want = _gradient_want(z, y, red)
        finite_rows = np.isfinite(z).all(axis=1)
        _close(grad[finite_rows], want[finite_rows], dtype, 4.0, f"{mode} gradient of the losses")
        _close(g[11][finite_rows], p[finite_rows], dtype, 1.0, f"{mode} gradient of logsumexp")
    # where a gradient is not defined, the two modes still agree on where it is NaN
    for k_out in (10, 11):
        a, b = got[0][k_out], got[1][k_out]
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"output {k_out}: NaN differs\n{a}\n{b}"


# -- the logistic function and its logarithm, spelled out --------------------------------------

#: name: (symbolic, numpy's as written, the exact function, its derivative)
SPELLINGS: dict[str, tuple[Callable, Callable, Callable, Callable]] = {
    "1 / (1 + exp(-x))": (
        lambda x: 1 / (1 + ft.exp(-x)),
        lambda x: 1 / (1 + np.exp(-x)),
        sp.expit,
        lambda x: sp.expit(x) * sp.expit(-x),
    ),
    "(1 + exp(x)) ** -1": (
        lambda x: (1 + ft.exp(x)) ** -1,
        lambda x: (1 + np.exp(x)) ** -1,
        lambda x: sp.expit(-x),
        lambda x: -sp.expit(x) * sp.expit(-x),
    ),
    "exp(x) / (1 + exp(x))": (
        lambda x: ft.exp(x) / (1 + ft.exp(x)),
        lambda x: np.exp(x) / (1 + np.exp(x)),
        sp.expit,
        lambda x: sp.expit(x) * sp.expit(-x),
    ),
    "1 - sigmoid(x)": (
        lambda x: 1 - ft.sigmoid(x),
        lambda x: 1 - sp.expit(x),
        lambda x: sp.expit(-x),
        lambda x: -sp.expit(x) * sp.expit(-x),
    ),
    "0.5 + 0.5 * tanh(x / 2)": (
        lambda x: 0.5 + 0.5 * ft.tanh(x / 2),
        lambda x: 0.5 + 0.5 * np.tanh(x / 2),
        sp.expit,
        lambda x: sp.expit(x) * sp.expit(-x),
    ),
    "(1 - tanh(x)) / 2": (
        lambda x: (1 - ft.tanh(x)) / 2,
        lambda x: (1 - np.tanh(x)) / 2,
        lambda x: sp.expit(-2 * x),
        lambda x: -2 * sp.expit(2 * x) * sp.expit(-2 * x),
    ),
    "exp(x) / (1 + exp(x)) ** 2": (
        lambda x: ft.exp(x) / (1 + ft.exp(x)) ** 2,
        lambda x: np.exp(x) / (1 + np.exp(x)) ** 2,
        lambda x: sp.expit(x) * sp.expit(-x),
        lambda x: sp.expit(x) * sp.expit(-x) * (sp.expit(-x) - sp.expit(x)),
    ),
    "sigmoid(x) * (1 - sigmoid(x))": (
        lambda x: ft.sigmoid(x) * (1 - ft.sigmoid(x)),
        lambda x: sp.expit(x) * (1 - sp.expit(x)),
        lambda x: sp.expit(x) * sp.expit(-x),
        lambda x: sp.expit(x) * sp.expit(-x) * (sp.expit(-x) - sp.expit(x)),
    ),
    "log(1 + exp(x))": (
        lambda x: ft.log(1 + ft.exp(x)),
        lambda x: np.log(1 + np.exp(x)),
        lambda x: np.logaddexp(0, x),
        sp.expit,
    ),
    "log1p(exp(x))": (
        lambda x: ft.log1p(ft.exp(x)),
        lambda x: np.log1p(np.exp(x)),
        lambda x: np.logaddexp(0, x),
        sp.expit,
    ),
    "log(sigmoid(x))": (
        lambda x: ft.log(ft.sigmoid(x)),
        lambda x: np.log(sp.expit(x)),
        sp.log_expit,
        lambda x: sp.expit(-x),
    ),
    "log(1 - sigmoid(x))": (
        lambda x: ft.log(1 - ft.sigmoid(x)),
        lambda x: np.log(1 - sp.expit(x)),
        lambda x: sp.log_expit(-x),
        lambda x: -sp.expit(x),
    ),
    "log1p(-sigmoid(x))": (
        lambda x: ft.log1p(-ft.sigmoid(x)),
        lambda x: np.log1p(-sp.expit(x)),
        lambda x: sp.log_expit(-x),
        lambda x: -sp.expit(x),
    ),
    "log(1 / (1 + exp(-x)))": (
        lambda x: ft.log(1 / (1 + ft.exp(-x))),
        lambda x: np.log(1 / (1 + np.exp(-x))),
        sp.log_expit,
        lambda x: sp.expit(-x),
    ),
}


@st.composite
def logistic_cases(draw: Any) -> dict:
    dtype = draw(st.sampled_from(("float64", "float32")))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.sampled_from((0, 1, 4, 9)))
    x = rng.standard_normal(n) * draw(st.sampled_from((1.0, 30.0, 1000.0)))
    for _ in range(draw(st.integers(0, 3)) if n else 0):
        x[draw(st.integers(0, n - 1))] = draw(st.sampled_from(EXTREMES))
    names = draw(st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=1, max_size=4, unique=True))
    with np.errstate(over="ignore"):
        return {"dtype": dtype, "x": x.astype(dtype), "names": names, "sum": draw(st.booleans())}


@fuzz_settings(5)
@given(case=logistic_cases())
def test_logistic_spellings_and_their_gradients(case: dict) -> None:
    """Each spelling in FAST_RUN is the exact function (scipy's expit, log_expit, logaddexp)
    and its gradient the exact derivative, also where the spelling overflows or cancels;
    FAST_COMPILE computes what is written (numpy's value of the same expression)."""
    dtype, x, names = case["dtype"], case["x"], case["names"]
    v = ft.vector("x", dtype=dtype)
    exprs = [SPELLINGS[name][0](v) for name in names]
    # a sum of the spellings fuses them into one loop; apart, each is its own output
    exprs = [ft.add(*exprs)] if case["sum"] else exprs
    outs = [*exprs, *(fc.grad(ft.sum(e), v) for e in exprs)]
    f_run, f_compile = (fc.function([v], outs, mode=mode) for mode in ("FAST_RUN", "FAST_COMPILE"))
    got_run, got_compile = _both(f_run, f_compile, [x])
    xf = x.astype(float)
    with np.errstate(all="ignore"):
        exact = [SPELLINGS[name][2](xf) for name in names]
        written = [SPELLINGS[name][1](x).astype(float) for name in names]
        slopes = [SPELLINGS[name][3](xf) for name in names]
    if case["sum"]:
        exact, written, slopes = [sum(exact)], [sum(written)], [sum(slopes)]
    scale = np.where(np.isfinite(xf), np.abs(xf), 0) + 1
    label = " + ".join(names)
    for k in range(len(exprs)):
        _close(got_run[k], exact[k], dtype, scale * len(names), f"FAST_RUN {label}")
        _close(got_compile[k], written[k], dtype, scale * len(names), f"FAST_COMPILE {label}")
        grad = got_run[len(exprs) + k]
        ok = np.isfinite(xf)
        _close(grad[ok], slopes[k][ok], dtype, 4.0 * len(names), f"FAST_RUN gradient of {label}")


# -- sizes read as u.shape[d] ------------------------------------------------------------------

#: name: (symbolic of matrices a, b, vector r; numpy's)
SIZED: dict[str, tuple[Callable, Callable]] = {
    "a + b": (lambda a, b, r: a + b, lambda a, b, r: a + b),
    "exp(a) * r": (lambda a, b, r: ft.exp(a) * r, lambda a, b, r: np.exp(a) * r),
    "sum(a * b, axis=1)": (lambda a, b, r: ft.sum(a * b, axis=1), lambda a, b, r: np.sum(a * b, axis=1)),
    "max(a, axis=1)": (lambda a, b, r: ft.max(a, axis=1), lambda a, b, r: np.max(a, axis=1)),
    "softmax(a + r)": (lambda a, b, r: ft.softmax(a + r), lambda a, b, r: sp.softmax(a + r, axis=1)),
    "log_softmax(a).T * b": (
        lambda a, b, r: ft.log_softmax(a).T * b,
        lambda a, b, r: sp.log_softmax(a, axis=1).T * b,
    ),
    "a * sum(dot(a, b))": (lambda a, b, r: a * ft.sum(ft.dot(a, b)), lambda a, b, r: a * np.sum(a @ b)),
    "min(a.T + r[:, None], axis=0)": (
        lambda a, b, r: ft.min(a.T + r.dimshuffle(0, "x"), axis=0),
        lambda a, b, r: np.min(a.T + r[:, None], axis=0),
    ),
}


@st.composite
def sized_cases(draw: Any) -> dict:
    sizes = [draw(st.sampled_from((0, 1, 2, 3))) for _ in range(6)]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return {
        "name": draw(st.sampled_from(sorted(SIZED))),
        "dim": draw(st.integers(0, 1)),
        "args": [
            rng.standard_normal(sizes[:2]),
            rng.standard_normal(sizes[2:4]),
            rng.standard_normal(sizes[4]),
        ],
    }


@fuzz_settings(8)
@given(case=sized_cases())
def test_a_size_read_raises_where_computing_the_value_does(case: dict) -> None:
    """``u.shape[d]`` alone (and in arithmetic: ``2 * u.shape[d] + 1``) is the size of numpy's
    ``u``; where numpy cannot compute ``u`` (sizes that do not broadcast along any axis, a max
    of an empty axis) both modes raise ValueError, though FAST_RUN reads the size from where
    it comes from."""
    a, b, r = ft.dmatrix("a"), ft.dmatrix("b"), ft.dvector("r")
    u = SIZED[case["name"]][0](a, b, r)
    d = min(case["dim"], u.ndim - 1)
    outs = [u.shape[d], 2 * u.shape[d] + 1]
    fs = [
        fc.function([a, b, r], outs, mode=mode, on_unused_input="ignore")
        for mode in ("FAST_RUN", "FAST_COMPILE")
    ]
    got = _both(*fs, case["args"])
    try:
        with np.errstate(all="ignore"):
            n = SIZED[case["name"]][1](*case["args"]).shape[d]
    except ValueError:
        for g, mode in zip(got, ("FAST_RUN", "FAST_COMPILE")):
            assert isinstance(g, ValueError), f"{mode} {case['name']}.shape[{d}]: numpy raises, got {g!r}"
        return
    for g, mode in zip(got, ("FAST_RUN", "FAST_COMPILE")):
        assert not isinstance(g, Exception), f"{mode} {case['name']}.shape[{d}]: raised {g!r}"
        assert [int(v) for v in g] == [n, 2 * n + 1], f"{mode} {case['name']}.shape[{d}]"


def test_a_size_read_checks_the_axes_it_does_not_read() -> None:
    """The cases FAST_RUN answered from its inputs' sizes alone, where computing ``u`` raises:
    ``(a + b).shape[0]`` for ``(3, 4)`` and ``(3, 5)`` inputs was 3, ``max(a, axis=1).shape[0]``
    of a ``(3, 0)`` ``a`` was 3, and so was ``(a * sum(dot(a, b.T))).shape[0]`` though the
    product's sizes are not aligned."""
    a, b = ft.dmatrix("a"), ft.dmatrix("b")
    cases = [
        ((a + b).shape[0], [np.ones((3, 4)), np.ones((3, 5))], "do not broadcast"),
        (ft.sum(a * b, axis=1).shape[0], [np.ones((3, 4)), np.ones((3, 5))], "do not broadcast"),
        (ft.max(a, axis=1).shape[0], [np.ones((3, 0)), np.ones((1, 1))], "zero-size"),
        ((a * ft.sum(ft.dot(a, b.T))).shape[0], [np.ones((3, 4)), np.ones((3, 5))], "aligned"),
    ]
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        for size, args, words in cases:
            f = fc.function([a, b], size, mode=mode, on_unused_input="ignore")
            with pytest.raises(ValueError, match="broadcast" if words == "do not broadcast" else words):
                f(*args)
            assert int(f(np.ones((3, 1)), np.ones((3, 1)))) == 3


def test_a_size_read_follows_each_value_once() -> None:
    """A value read twice in each of 40 steps (``u = tanh(u) * u + u``): its size is read from
    the input it comes from, each step followed once. Each path through the steps was followed
    apart before (2**40 of them: the compile did not end)."""
    a = ft.dmatrix("a")
    u = a
    for _ in range(40):
        u = ft.tanh(u) * u + u
    f = fc.function([a], [u.shape[0], u.shape[1] * 2], mode=fc.Mode("py", "fast_run"))
    assert [int(v) for v in f(np.ones((3, 2)))] == [3, 4]
    assert not any(n.outputs[0].ndim == 2 for n in f.optimized_graph.toposort()), "u is computed"


def test_a_quotient_of_sigmoids_cancels_in_a_deep_gradient() -> None:
    """The gradient of the sum of four spellings at x = -800 is 1: ``g / sigmoid(x) *
    sigmoid(x) * sigmoid(-x)`` (``log(sigmoid(x))``'s) cancels, its ``-x`` compared by its
    structure. It was NaN (inf * 0): ``-x`` had been keyed first deep inside another factor,
    where keys stop at a depth and compare by identity, and kept that key at the top."""
    x = ft.dvector("x")
    e = (
        ft.log(ft.sigmoid(x))
        + ft.sigmoid(x) * (1 - ft.sigmoid(x))
        + (1 + ft.exp(x)) ** -1
        + (1 - ft.tanh(x)) / 2
    )
    f = fc.function([x], fc.grad(ft.sum(e), x), mode=fc.Mode("py", "fast_run"))
    xv = np.array([-800.0, -30.0, 0.5, 30.0])
    # 1 - s written as expit(-x), without its rounding
    s, c, t, u = sp.expit(xv), sp.expit(-xv), sp.expit(2 * xv), sp.expit(-2 * xv)
    want = c + s * c * (c - s) - s * c - 2 * t * u
    np.testing.assert_allclose(f(xv), want, rtol=1e-12, atol=1e-300)


def test_the_spelled_out_derivative_of_the_sigmoid_differentiates_finitely() -> None:
    """The gradient of ``exp(x) / (1 + exp(x)) ** 2`` holds ``exp(x)**2 * (1 + exp(x)) /
    (1 + exp(x))**4``: made sigmoids, a ``1 + exp(x)`` was left above beside a
    ``sigmoid(-x)``, inf * 0 (NaN) at x = 800 where the derivative is 0; their product is 1."""
    x = ft.dvector("x")
    f = fc.function([x], fc.grad(ft.sum(ft.exp(x) / (1 + ft.exp(x)) ** 2), x), mode=fc.Mode("py", "fast_run"))
    xv = np.array([800.0, 30.0, 0.5, -30.0, -800.0])
    s, c = sp.expit(xv), sp.expit(-xv)  # 1 - s without its rounding
    np.testing.assert_allclose(f(xv), s * c * (c - s), rtol=1e-12, atol=1e-300)
