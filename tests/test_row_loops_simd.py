"""Loops over rows are vectorized like flat loops: an elementwise loop with an operand
broadcast (such as a layer's bias), also when it writes over its input, and a reduction along
the last axis (a softmax's max and sum per row).

A layer ``tanh(dot(X, W) + b)`` is one in-place loop over the product's rows. Without
``omp simd`` on its inner loop gcc guards the vector code with a check that the output does
not overlap the inputs; in place it always does, so every element went through the scalar
``tanhf``/``tanh`` (a 2-layer MLP's training step spent a third of its time there, 20 to 40
times the flat loop's cost). In place the output is the input itself, element for element (the
run-time reuses only a C-contiguous input of the output's shape), so the iterations are
independent."""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen.c_module import render_module
from fncache.graph.basic import graph_inputs


def _layer(dtype: str, bias: bool = True) -> fc.Function:
    X, W, b = ft.matrix("X", dtype=dtype), ft.matrix("W", dtype=dtype), ft.vector("b", dtype=dtype)
    z = ft.dot(X, W)
    return fc.function([X, W, b], ft.tanh(z + b if bias else z), on_unused_input="ignore")


def _data(dtype: str, m: int, k: int, n: int) -> tuple:
    r = np.random.default_rng(0)
    return (
        r.standard_normal((m, k)).astype(dtype),
        (r.standard_normal((k, n)) / np.sqrt(k)).astype(dtype),
        r.standard_normal(n).astype(dtype),
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(128, 64, 256), (7, 5, 37), (1, 3, 1)])
def test_layer_in_place_over_rows_matches_numpy(dtype: str, shape: tuple) -> None:
    f = _layer(dtype)
    loop = [n for n in f.optimized_graph.toposort() if "tanh" in str(n.op)]
    assert len(loop) == 1 and dict(loop[0].op.inplace) == {0: 0}, loop  # writes over dot's result
    x, w, b = _data(dtype, *shape)
    want = np.tanh(x.astype(np.float64) @ w.astype(np.float64) + b)
    tol = 1e-5 if dtype == "float32" else 1e-12
    got = f(x, w, b)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_rows_kernel_inner_loop_is_simd() -> None:
    source = render_module(_layer("float32").optimized_graph, n_explicit=3, single=True).source
    rows = source[source.index("_rows(") : source.index("\n}\n", source.index("_rows("))]
    assert re.search(r"#pragma omp simd\s+for \(npy_intp j = 0; j < inner; j\+\+\)", rows), rows


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_column_broadcast_is_read_once_per_row(dtype: str) -> None:
    """An operand of static size 1 along the last axis (a softmax's max and sum per row) is
    read once per row, not gathered per element; softmax of contiguous and transposed inputs
    matches numpy's."""
    x = ft.matrix("x", dtype=dtype)
    m = ft.matrix("m", dtype=dtype, shape=(None, 1))
    fg = fc.function([x, m], ft.exp(x - m)).optimized_graph
    source = render_module(fg, n_explicit=2, single=True).source
    rows = source[source.index("_rows(") : source.index("\n}\n", source.index("_rows("))]
    assert "p1[b1]" in rows and "p1[b1 + j" not in rows, rows
    f = fc.function([x], [ft.softmax(x), ft.softmax(x.T)])
    a = np.random.default_rng(3).standard_normal((7, 37)).astype(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-14
    for got, v in zip(f(a), (a, a.T)):
        e = np.exp(v.astype(np.float64) - v.max(axis=1, keepdims=True))
        np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=tol, atol=tol)


# -- reductions along the last axis --------------------------------------------------------
# Each row folds into one element: the loop kept it in memory, each element waiting for the
# last one's store, unvectorized (128x1000 float64: sum per row 1.15 ms, numpy's 24 µs).

REDUCTIONS = [
    ("sum", lambda x, ax: x.sum(axis=ax), lambda a, ax: a.sum(axis=ax)),
    ("max", lambda x, ax: x.max(axis=ax), lambda a, ax: a.max(axis=ax)),
    ("min", lambda x, ax: x.min(axis=ax), lambda a, ax: a.min(axis=ax)),
    ("mean", lambda x, ax: x.mean(axis=ax), lambda a, ax: a.mean(axis=ax)),
    ("prod", lambda x, ax: (x * 0.01 + 1).prod(axis=ax), lambda a, ax: (a * 0.01 + 1).prod(axis=ax)),
    ("any", lambda x, ax: ft.any(x > 1, axis=ax), lambda a, ax: np.any(a > 1, axis=ax)),
]


@pytest.mark.parametrize(
    "dtype, kinds",
    [("float64", "sum max mean prod any"), ("float32", "max min"), ("int32", "sum max")],
)
def test_reductions_over_rows_match_numpy(dtype: str, kinds: str) -> None:
    """Reductions along axes that fold rows into one element: the last (of a contiguous input
    and of a transposed one, not unit steps), the first and last of 3 dims (several rows into
    each, one holding a NaN)."""
    x = ft.tensor3("x", dtype=dtype)
    cases = [(kind, ax, t) for kind in kinds.split() for ax, t in ((2, False), (2, True), ((0, 2), False))]
    sym = {kind: s for kind, s, _ in REDUCTIONS}
    ref = {kind: r for kind, _, r in REDUCTIONS}
    f = fc.function([x], [sym[kind](x.dimshuffle(2, 1, 0) if t else x, ax) for kind, ax, t in cases])
    a = (np.random.default_rng(1).standard_normal((3, 5, 37)) * 3).astype(dtype)
    if dtype != "int32":
        a[1, 2, 7] = np.nan
    tol = 1e-5 if dtype == "float32" else 1e-12
    for (kind, ax, t), got in zip(cases, f(a)):
        exp = ref[kind](a.transpose(2, 1, 0) if t else a, ax)
        assert got.dtype == exp.dtype, (kind, ax, t, got.dtype, exp.dtype)
        np.testing.assert_allclose(got, exp, rtol=tol, atol=tol, err_msg=f"{kind} axes {ax} transposed {t}")


def test_reduction_over_rows_folds_in_a_register() -> None:
    """A sum per row keeps its row's total in a vectorized register reduction (it was folded
    through memory, each element waiting for the last one's store: some 60 times a sum per
    column), and gives numpy's sums."""
    x = ft.dmatrix("x")
    f = fc.function([x], x.sum(axis=1))
    source = render_module(f.optimized_graph, n_explicit=1, single=True).source
    assert re.search(r"#pragma omp simd reduction\(\+:a\)\s+for \(npy_intp j = 0; j < inner; j\+\+\)", source)
    a = np.random.default_rng(2).standard_normal((256, 512))
    np.testing.assert_allclose(f(a), a.sum(axis=1), rtol=1e-12)


# -- only the loops the run-time can call --------------------------------------------------
# gcc spends most of a cold compile on the kernels' loops: a loop the run-time never reaches
# (rows of unit steps along a single axis, which are flat inputs and get the flat kernel; a
# reduced last axis tested at run time, which the axes decide) costs compile time for nothing.


def _kernel(source: str, name: str) -> str:
    start = source.index(f" {name}(")
    return source[start : source.index("\n}\n", start)]


def _inner_loops(kernel: str) -> int:
    return kernel.count("for (npy_intp j = 0; j < inner; j++)")


@pytest.mark.parametrize(
    "make, loops",
    [
        (lambda v, w, m, c: v * 2 + w, {"rows": 1}),  # one axis: the strided loop alone
        (lambda v, w, m, c: ft.exp(m + c), {"rows": 2}),  # a row broadcast: unit steps and strided
        (lambda v, w, m, c: v.sum(), {"gen": 1}),
        (lambda v, w, m, c: m.max(axis=1), {"gen": 2}),  # each row into one element
        (lambda v, w, m, c: m.sum(axis=0), {"gen": 2}),  # each row into distinct ones
    ],
)
def test_kernels_hold_only_loops_the_run_time_calls(make: Callable, loops: dict) -> None:
    ins = [ft.dvector("v"), ft.dvector("w"), ft.dmatrix("m"), ft.dvector("c")]
    out = make(*ins)
    used = [x for x in ins if x in graph_inputs([out])]
    source = render_module(fc.function(used, out).optimized_graph, n_explicit=len(used), single=True).source
    for kind, count in loops.items():
        names = re.findall(rf" (fc_k\d+_{kind})\(", source)
        assert len(names) == 1, (kind, names)
        kernel = _kernel(source, names[0])
        assert _inner_loops(kernel) == count, kernel
        assert "ost[" not in kernel.split("ob += c * ost[d];")[-1], kernel  # the axes decided it


def test_loops_off_the_flat_path_match_numpy() -> None:
    """Elementwise loops and reductions given strided views, reversed ones and transposed
    matrices (the kernels' row loops, not the flat ones) give numpy's values."""
    v, w, m = ft.dvector("v"), ft.dvector("w"), ft.dmatrix("m")
    outs = [v * 2 + w, v.sum(), v.max(), m.max(axis=1), m.sum(axis=0), m.mean(axis=0), m.min(axis=1)]
    f = fc.function([v, w, m], outs)
    r = np.random.default_rng(4)
    a, b, c = r.standard_normal(40), r.standard_normal(60), r.standard_normal((9, 23))
    c[3, 5] = np.nan
    for args in ((a[::2], b[::3], c[:, ::2]), (a[::-2], b[::-3], c.T[:, :9]), (a[:20], b[:20], c)):
        x, y, z = args
        want = [x * 2 + y, x.sum(), x.max(), z.max(axis=1), z.sum(axis=0), z.mean(axis=0), z.min(axis=1)]
        for got, exp in zip(f(*args), want):
            np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12)
