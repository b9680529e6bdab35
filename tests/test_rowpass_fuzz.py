"""Property test: random linear models' costs, gradients and Hessian-vector products (the graphs
the `rowpass` and `rowpass_merge` rewrites make one pass over X) give numpy's results compiled
in FAST_RUN (C) and FAST_COMPILE, for X in every layout the C pass reads differently.

A model is a loss (logistic, squared, softplus, hinge, squared hinge, Poisson) of
``X @ w + b`` against labels ``y`` (or ``2 y - 1``), with or without a bias (a single value, one
per row, or a length-1 vector broadcast over the rows) and sample weights, summed or averaged,
with or without an L2 penalty, z sometimes scaled by a scalar input; one to three models share
X (the input, its transpose or a slice of it in the graph), y (any float or int dtype) and
sometimes w, and the function returns their costs, gradients w.r.t. w and b (and X),
sometimes a Hessian-vector product, a model's per-row loss or its ``X @ w``, and sometimes
``X @ u`` beside. w has X's dtype or the other float dtype (numpy's upcast: no row pass then,
the same results). Each example compiles its graph once and feeds it several shapes (0 to 13
rows and columns, columns not a multiple of the vector width, now and then more rows than a
block holds or a few hundred rows split over two threads) and layouts of X (C or Fortran
order, transposed, every other row or column, a column offset in a wider array, reversed,
unaligned, one row broadcast, against a page nothing may read), vectors contiguous or strided;
results a call returned stay as they were through later calls; then sizes that do not match
(w one too long, a row vector one too long) raise ValueError in both modes.

The reference is numpy in float64 with the derivatives written out; each element's tolerance
scales with the sum of the magnitudes that make it (float32's looser). The run is
deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 and raise FNCACHE_HYPOTHESIS_EXAMPLES to explore.
"""

from __future__ import annotations

import ctypes
import mmap
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from fcutil import fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@dataclass(frozen=True)
class Loss:
    """A loss of ``z`` and a label ``t``: the graph's, and numpy's value, first and second
    derivatives in z. ``signed``: t is ``2 y - 1`` (in {-1, 1}), else y (in {0, 1})."""

    sym: Callable[[Any, Any], Any]
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    d1: Callable[[np.ndarray, np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray, np.ndarray], np.ndarray]
    signed: bool


LOSSES = {
    "logistic": Loss(
        lambda z, t: -t * ft.log(ft.sigmoid(z)) - (1 - t) * ft.log(1 - ft.sigmoid(z)),
        lambda z, t: -t * np.log(_sigmoid(z)) - (1 - t) * np.log(1 - _sigmoid(z)),
        lambda z, t: _sigmoid(z) - t,
        lambda z, t: _sigmoid(z) * (1 - _sigmoid(z)),
        False,
    ),
    "squared": Loss(
        lambda z, t: 0.5 * (z - t) ** 2,
        lambda z, t: 0.5 * (z - t) ** 2,
        lambda z, t: z - t,
        lambda z, t: np.ones_like(z),
        False,
    ),
    "softplus": Loss(
        lambda z, t: ft.softplus(-t * z),
        lambda z, t: np.logaddexp(0, -t * z),
        lambda z, t: -t * _sigmoid(-t * z),
        lambda z, t: t * t * _sigmoid(-t * z) * (1 - _sigmoid(-t * z)),
        True,
    ),
    "hinge": Loss(
        lambda z, t: ft.maximum(0, 1 - t * z),
        lambda z, t: np.maximum(0, 1 - t * z),
        lambda z, t: -t * (1 - t * z > 0),
        lambda z, t: np.zeros_like(z),
        True,
    ),
    "sqhinge": Loss(
        lambda z, t: ft.maximum(0, 1 - t * z) ** 2,
        lambda z, t: np.maximum(0, 1 - t * z) ** 2,
        lambda z, t: -2 * t * np.maximum(0, 1 - t * z),
        lambda z, t: 2 * t * t * (1 - t * z > 0),
        True,
    ),
    "poisson": Loss(
        lambda z, t: ft.exp(z) - t * z,
        lambda z, t: np.exp(z) - t * z,
        lambda z, t: np.exp(z) - t,
        lambda z, t: np.exp(z),
        False,
    ),
}
BIASES = ("none", "scalar", "rows", "one")
#: How X is stored (`_layout`).
X_LAYOUTS = ("c", "f", "T", "rows2", "cols2", "col1", "rev", "unaligned", "bcast", "edge", "edgeF", "edgeR")
LAM = 0.01
TOL = {"float64": 1e-11, "float32": 2e-4}


@dataclass
class Model:
    """One linear model on the shared X: its loss, bias, weights, reduction and outputs."""

    loss: str
    bias: str
    weighted: bool
    mean: bool
    wmean: bool  # weighted: divided by the weights' sum
    l2: bool
    hvp: bool
    rows_out: str  # "", "loss" (the per-row loss) or "z" (X @ w)
    scaled: bool = False  # z times a scalar input
    share_w: bool = False  # the previous model's w
    gx: bool = False  # the gradient w.r.t. X too


@dataclass
class Spec:
    """One example: the graph's parts and the (shape, layout) cases it is fed."""

    xdt: str
    wdt: str
    ydt: str
    xview: str  # X in the graph: the input itself, its transpose ("T"), [:, 1:] ("cols1"), [::-1] ("rev")
    models: list[Model]
    beside: bool
    cases: list[tuple[int, int, str, bool]] = field(default_factory=list)  # m, n, X layout, strided vectors
    threads: bool = False

    def text(self) -> str:
        return (
            f"X {self.xdt}{self.xview and ' view ' + self.xview}, w {self.wdt}, y {self.ydt}, beside={self.beside}: "
            + "; ".join(map(str, self.models))
        )


def generate(seed: int) -> Spec:
    """Example ``seed``: the graph's parts, and the shapes and layouts it is fed."""
    rng = random.Random(seed)
    xdt = rng.choice(("float64", "float32"))
    wdt = xdt if rng.random() < 0.8 else {"float64": "float32", "float32": "float64"}[xdt]
    models = [
        Model(
            loss=rng.choice(sorted(LOSSES)),
            bias=rng.choice(BIASES),
            weighted=rng.random() < 0.4,
            mean=rng.random() < 0.5,
            wmean=rng.random() < 0.3,
            l2=rng.random() < 0.5,
            hvp=rng.random() < 0.4,
            rows_out=rng.choice(("", "", "loss", "z")),
            scaled=rng.random() < 0.2,
            share_w=k > 0 and rng.random() < 0.2,
            gx=rng.random() < 0.2,
        )
        for k in range(rng.choice((1, 1, 2, 3)))
    ]
    ydt = rng.choice((np.result_type(xdt, wdt).name,) * 3 + ("float32", "float64", "int8", "int64"))
    xview = rng.choice(("", "", "", "T", "cols1", "rev"))
    spec = Spec(xdt, wdt, ydt, xview, models, beside=rng.random() < 0.3, threads=rng.random() < 0.25)
    ms, ns = (0, 1, 3, 4, 5, 7, 8, 13), (0, 1, 3, 4, 5, 7, 9, 17, 33)
    for _ in range(4):
        spec.cases.append((rng.choice(ms), rng.choice(ns), rng.choice(X_LAYOUTS), rng.random() < 0.2))
    if rng.random() < 0.3:  # more rows than a block holds
        spec.cases.append((rng.choice((65, 99)), rng.choice((31, 64, 100)), rng.choice(X_LAYOUTS), False))
    if spec.threads:  # enough rows and elements for the pass to be split into chunks
        spec.cases.append((rng.choice((257, 300)), rng.choice((129, 131)), rng.choice(X_LAYOUTS), False))
    return spec


def build(spec: Spec) -> tuple[list, list]:
    """The graph's inputs (X, y, then each model's w, its b, s, v; then u) and outputs."""
    cdt = np.result_type(spec.xdt, spec.wdt).name
    xin, y = ft.matrix("X", spec.xdt), ft.vector("y", spec.ydt)
    X = {"": xin, "T": xin.T, "cols1": xin[:, 1:], "rev": xin[::-1]}[spec.xview]
    ins, outs = [xin, y], []
    for k, mod in enumerate(spec.models):
        loss = LOSSES[mod.loss]
        if not mod.share_w:
            w = ft.vector(f"w{k}", spec.wdt)
            ins.append(w)
        z = ft.dot(X, w)
        c = None
        if mod.scaled:
            c = ft.scalar(f"c{k}", cdt)
            ins.append(c)
        b = None
        if mod.bias != "none":
            shape = {"scalar": (), "rows": (None,), "one": (1,)}[mod.bias]
            b = ft.tensor(f"b{k}", cdt, shape=shape)
            ins.append(b)
            z = z + b
        if c is not None:
            z = z * c
        rowloss = loss.sym(z, 2 * y - 1 if loss.signed else y)
        s = None
        if mod.weighted:
            s = ft.vector(f"s{k}", cdt)
            ins.append(s)
            rowloss = rowloss * s
        if s is not None and mod.wmean:
            cost = rowloss.sum() / s.sum()
        else:
            cost = rowloss.mean() if mod.mean else rowloss.sum()
        if mod.l2:
            cost = cost + LAM * (w**2).sum()
        grads = fc.grad(cost, [w] if b is None else [w, b])
        outs += [cost, *grads]
        if mod.gx:
            outs.append(fc.grad(cost, xin))
        if mod.hvp:
            v = ft.vector(f"v{k}", spec.wdt)
            ins.append(v)
            outs.append(fc.grad(ft.sum(grads[0] * v), w))
        if mod.rows_out:
            outs.append(rowloss if mod.rows_out == "loss" else z)
    if spec.beside:
        u = ft.vector("u", spec.wdt)
        ins.append(u)
        outs.append(ft.dot(X, u))
    return ins, outs


#: mprotect's protection of a page nothing may read or write.
_PROT_NONE = 0


def _guarded(nbytes: int, before: bool) -> np.ndarray:
    """``nbytes`` bytes that a page nothing may read follows (or, ``before``, precedes): a read
    out of bounds is a segmentation fault, not an unnoticed wrong value."""
    page = mmap.PAGESIZE
    size = -(-max(nbytes, 1) // page) * page + page
    buf = np.frombuffer(mmap.mmap(-1, size), np.uint8)
    guard = buf.ctypes.data if before else buf.ctypes.data + size - page
    assert ctypes.CDLL(None).mprotect(ctypes.c_void_p(guard), ctypes.c_size_t(page), _PROT_NONE) == 0
    return buf[page : page + nbytes] if before else buf[size - page - nbytes : size - page]


def _layout(a: np.ndarray, layout: str, rng: np.random.Generator) -> np.ndarray:
    """``a`` (C-contiguous) as an array of the same values stored as ``layout`` says."""
    m, n = a.shape
    if layout.startswith("edge"):
        out = _guarded(a.nbytes, layout == "edgeR").view(a.dtype)
        if layout == "edgeF":
            out = out.reshape((n, m)).T
        elif layout == "edgeR":
            out = out.reshape(a.shape)[::-1, ::-1]
        else:
            out = out.reshape(a.shape)
        out[...] = a
        return out
    if layout == "f":
        return np.asfortranarray(a)
    if layout == "T":
        return np.ascontiguousarray(a.T).T
    if layout == "rows2":
        big = rng.standard_normal((2 * m, n)).astype(a.dtype)
        big[::2] = a
        return big[::2]
    if layout == "cols2":
        big = rng.standard_normal((m, 2 * n)).astype(a.dtype)
        big[:, ::2] = a
        return big[:, ::2]
    if layout == "col1":  # rows start one element after wherever the wider array's do
        big = rng.standard_normal((m, n + 3)).astype(a.dtype)
        big[:, 1 : n + 1] = a
        return big[:, 1 : n + 1]
    if layout == "rev":
        return np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    if layout == "unaligned":  # not aligned to the element size
        raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
        out = raw[1:].view(a.dtype).reshape(a.shape)
        out[...] = a
        return out
    if layout == "bcast":  # every row the first (a row stride of 0)
        row = a[0] if m else np.zeros(n, a.dtype)
        return np.broadcast_to(row, (m, n))
    return a


def _vec(a: np.ndarray, strided: bool | str) -> np.ndarray:
    """``a`` as it is, every other element of a longer array, or (``"edge"``) right before a
    page nothing may read."""
    if strided == "edge":
        out = _guarded(a.nbytes, False).view(a.dtype)
        out[...] = a
        return out
    if not strided:
        return a
    big = np.zeros(2 * a.size, a.dtype)
    big[::2] = a
    return big[::2]


def values(spec: Spec, m: int, n: int, layout: str, strided: bool, seed: int) -> list[np.ndarray]:
    """Inputs in the order `build` takes them."""
    rng = np.random.default_rng(seed)
    cdt = np.result_type(spec.xdt, spec.wdt)
    if layout.startswith("edge"):
        strided = "edge"
    X = rng.standard_normal((m, n)).astype(spec.xdt)
    xin = {
        "": X,
        "T": X.T,
        "rev": X[::-1],
        "cols1": np.hstack([rng.standard_normal((m, 1)).astype(X.dtype), X]),
    }
    vals = [
        _layout(np.ascontiguousarray(xin[spec.xview]), layout, rng),
        _vec(rng.integers(0, 2, m).astype(spec.ydt), strided),
    ]
    scale = 1 / np.sqrt(max(n, 1))  # z of the order of 1
    for mod in spec.models:
        if not mod.share_w:
            vals.append(_vec((rng.standard_normal(n) * scale).astype(spec.wdt), strided))
        if mod.scaled:
            vals.append(np.asarray(rng.uniform(0.5, 1.5), cdt))
        if mod.bias == "scalar":
            vals.append(np.asarray(rng.standard_normal() * 0.3, cdt))
        elif mod.bias == "rows":
            vals.append(_vec((rng.standard_normal(m) * 0.3).astype(cdt), strided))
        elif mod.bias == "one":
            vals.append((rng.standard_normal(1) * 0.3).astype(cdt))
        if mod.weighted:
            vals.append(_vec(rng.uniform(0.1, 2.0, m).astype(cdt), strided))
        if mod.hvp:
            vals.append(_vec(rng.standard_normal(n).astype(spec.wdt), strided))
    if spec.beside:
        vals.append(_vec(rng.standard_normal(n).astype(spec.wdt), strided))
    return vals


def reference(spec: Spec, vals: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(value, scale) of each output in float64: the scale sums the magnitudes of the terms
    (and of the error a rounded z carries into them), which a rounding error is relative to."""
    vals = [np.asarray(a, dtype="float64") for a in vals]
    X = {"": lambda a: a, "T": lambda a: a.T, "cols1": lambda a: a[:, 1:], "rev": lambda a: a[::-1]}[
        spec.xview
    ](vals[0])

    def on_input(g: np.ndarray) -> np.ndarray:
        """A gradient w.r.t. the X of the graph as one w.r.t. the input it is a view of."""
        if spec.xview == "cols1":
            return np.hstack([np.zeros((g.shape[0], 1)), g])
        return {"": g, "T": g.T, "rev": g[::-1]}[spec.xview]

    y, rest = vals[1], iter(vals[2:])
    ax = np.abs(X)
    got, w = [], None
    for mod in spec.models:
        loss = LOSSES[mod.loss]
        w = w if mod.share_w else next(rest)
        c = next(rest) if mod.scaled else 1.0
        b = next(rest) if mod.bias != "none" else 0.0
        s = next(rest) if mod.weighted else 1.0
        z = (X @ w + b) * c
        dz = (ax @ np.abs(w) + np.abs(b)) * c  # what z's rounding error is relative to
        t = 2 * y - 1 if loss.signed else y
        # (inf over no rows: the sums are empty)
        if mod.weighted and mod.wmean:
            d = 1 / np.sum(s)
        else:
            d = np.float64(1) / X.shape[0] if mod.mean else 1.0
        f, d1, d2 = loss.f(z, t), loss.d1(z, t), loss.d2(z, t)
        rowloss, rowscale = s * f, np.abs(s) * (np.abs(f) + np.abs(d1) * dz)
        gz, gzscale = d * s * d1 * c, d * np.abs(s) * (np.abs(d1) + np.abs(d2) * dz) * c
        cost = d * rowloss.sum() + LAM * (w @ w) * mod.l2
        got.append((cost, d * rowscale.sum() + LAM * w @ w))
        got.append((X.T @ gz + 2 * LAM * w * mod.l2, ax.T @ gzscale + 2 * LAM * np.abs(w)))
        if mod.bias == "scalar":
            got.append((gz.sum(), gzscale.sum()))
        elif mod.bias == "rows":
            got.append((gz, gzscale))
        elif mod.bias == "one":
            got.append((gz.sum(keepdims=True), gzscale.sum(keepdims=True)))
        if mod.gx:
            got.append((on_input(np.outer(gz, w)), on_input(np.outer(gzscale, np.abs(w)))))
        if mod.hvp:
            v = next(rest)
            xv = X @ v
            h = d * s * d2 * c * c
            got.append(
                (
                    X.T @ (h * xv) + 2 * LAM * v * mod.l2,
                    ax.T @ (np.abs(h) * (ax @ np.abs(v))) + 2 * LAM * np.abs(v),
                )
            )
        if mod.rows_out == "loss":
            got.append((rowloss, rowscale))
        elif mod.rows_out == "z":
            got.append((z, dz))
    if spec.beside:
        u = next(rest)
        got.append((X @ u, ax @ np.abs(u)))
    return got


def _close(got: np.ndarray, want: np.ndarray, scale: np.ndarray, dtype: str, what: str) -> None:
    assert got.shape == np.shape(want), f"{what}: shape {got.shape}, want {np.shape(want)}"
    bound = TOL[dtype] * (1 + np.abs(want) + scale)
    err = np.abs(got.astype("float64") - want)
    bad = ~(err <= bound) & ~(np.isnan(got) & np.isnan(want))
    assert not bad.any(), (
        f"{what}: got {got[bad]}, want {np.asarray(want)[bad]} (err {err[bad]}, bound {bound[bad]})"
    )


def check(seed: int) -> None:
    """Compile example ``seed`` in both modes; each case's outputs against numpy's."""
    spec = generate(seed)
    ins, outs = build(spec)
    fast_run = fc.function(ins, outs, on_unused_input="ignore")
    fast_compile = fc.function(ins, outs, mode="FAST_COMPILE", on_unused_input="ignore")
    with fc.config.change_flags(threads=2):  # the same program (a cache hit), run on 2 threads
        threaded = fc.function(ins, outs, on_unused_input="ignore")
    tol_dt = "float32" if "float32" in (spec.xdt, spec.wdt) else "float64"
    returned = []  # (an array a call returned, a copy): later calls must not write into it
    for j, (m, n, layout, strided) in enumerate(spec.cases):
        vals = values(spec, m, n, layout, strided, seed + j)
        with np.errstate(all="ignore"):
            wants = reference(spec, vals)
        runs = [("FAST_RUN", fast_run), ("FAST_COMPILE", fast_compile)]
        if spec.threads:
            runs.append(("FAST_RUN 2 threads", threaded))
        results = {}
        for label, f in runs:
            what = f"seed={seed} {label} X {m}x{n} {layout}{' strided' if strided else ''}: {spec.text()}"
            with np.errstate(all="ignore"):
                results[label] = f(*vals)
            for k, (got, (want, scale)) in enumerate(zip(results[label], wants)):
                _close(got, want, scale, tol_dt, f"{what} output {k}")
                returned.append((got, got.copy(), f"{what} output {k}"))
        for got, ref in zip(results["FAST_RUN"], results["FAST_COMPILE"]):
            assert got.dtype == ref.dtype, f"seed={seed}: dtype {got.dtype}, FAST_COMPILE {ref.dtype}"
    for got, copy, what in returned:
        np.testing.assert_array_equal(got, copy, err_msg=f"{what}: changed by a later call")
    check_sizes(spec, fast_run, fast_compile, seed)


def check_sizes(spec: Spec, fast_run: fc.Function, fast_compile: fc.Function, seed: int) -> None:
    """A w one too long, and a row vector (y, a row bias, sample weights) one too long: a
    ValueError in both modes."""
    m, n = 6, 5
    vals = values(spec, m, n, "c", False, seed)
    rows = [k for k, a in enumerate(vals) if k > 0 and a.ndim == 1 and a.size == m]
    cols = [k for k, a in enumerate(vals) if a.ndim == 1 and a.size == n]
    for k, size in ((cols[0], n + 1), (random.Random(seed).choice(rows), m + 1)):
        bad = list(vals)
        bad[k] = np.resize(vals[k], size)
        for label, f in (("FAST_RUN", fast_run), ("FAST_COMPILE", fast_compile)):
            with pytest.raises(ValueError), np.errstate(all="ignore"):
                f(*bad)
                pytest.fail(f"seed={seed} {label}: input {k} of size {size} ran: {spec.text()}")


@pytest.mark.filterwarnings("ignore:.*Mean of empty slice")
@fuzz_settings(6)
@given(seed=st.integers(0, 2**31))
def test_random_row_pass_graphs(seed: int) -> None:
    check(seed)
