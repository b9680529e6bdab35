"""Values the same all along a row are computed once per row, not once per element.

A fused loop over rows reads a per-row value (a reduction's result kept as a column, ``(m, 1)``)
once per row; the steps of its body that read only such values (a layer norm's
``sqrt(var + eps)``, a log-softmax's ``log(sum)``) are computed before the loop along the row,
where gcc left them in it (it cannot move a load the loop's stores might alias out of the loop)
and computed them again for every vector of the row. A costly value the loop repeats along
another axis (a per-column ``(1, n)`` value with ``keepdims``) is not fused into it but stays a
loop over its own elements. The values match numpy's, for rows of every length (0 and 1
included) and inputs read with strides."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen.c_module import render_module
from fncache.graph.fgraph import FunctionGraph
from fncache.runtime.compile import optimize_graph
from fcutil import RTOL, assert_same, compiled, numpy_errstate

EPS = 1e-5


def _layer_norm(T: Any, x: Any, axis: int) -> Any:
    mu = x.mean(axis=axis, keepdims=True)
    return (x - mu) / T.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + EPS)


def _rows(T: Any, x: Any, y: Any, z: Any) -> dict[str, Any]:
    """Graphs without a max, defined for rows of length 0, written once for fncache's
    ``ft`` and numpy (``T``): ``z`` is a stack of rows along a third axis."""
    return {
        "layer_norm": _layer_norm(T, x, 1),
        "layer_norm_3d": _layer_norm(T, z, 2),
        "layer_norm_row_sums": _layer_norm(T, x, 1).sum(axis=1),
        "scaled_column_sums": (x / T.sqrt(T.abs(y).sum(axis=1, keepdims=True) + 1)).sum(axis=0),
        "standardise": (x - x.mean(axis=0)) / x.std(axis=0),
        "standardise_keepdims": _layer_norm(T, x, 0),
        "row_unit": x / T.sqrt((x * x).sum(axis=1, keepdims=True)),
        "cosine": (x * y).sum(axis=1) / (T.sqrt((x * x).sum(axis=1)) * T.sqrt((y * y).sum(axis=1))),
        "column_share": x / x.sum(axis=0),
    }


def _max(T: Any, x: Any) -> dict[str, Any]:
    """Softmax and log-softmax written by hand (a max: rows of length 1 at least)."""
    m = x.max(axis=1, keepdims=True)
    e = T.exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    return {"softmax": e / s, "log_softmax": x - m - T.log(s), "softmax_by_inverse": e * (1 / s)}


def _graphs(kind: str, x: Any, y: Any, z: Any) -> dict[str, Any]:
    T = np if isinstance(x, np.ndarray) else ft
    return _rows(T, x, y, z) if kind == "rows" else _max(T, x)


@compiled
def _function(kind: str, dtype: str) -> tuple[fc.Function, list[str]]:
    x, y, z = ft.matrix("x", dtype=dtype), ft.matrix("y", dtype=dtype), ft.tensor3("z", dtype=dtype)
    graphs = _graphs(kind, x, y, z)
    return fc.function([x, y, z], list(graphs.values()), on_unused_input="ignore"), list(graphs)


def _inputs(shape: tuple[int, int], dtype: str, layout: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of ``shape`` stored as ``layout``: C order, a transpose, every other column."""
    rng = np.random.default_rng(seed)
    m, n = shape
    made = []
    for _ in range(2):
        if layout == "transposed":
            a = rng.uniform(0.5, 3.0, (n, m)).astype(dtype).T
        elif layout == "strided":
            a = rng.uniform(0.5, 3.0, (m, 2 * n)).astype(dtype)[:, ::2]
        else:
            a = rng.uniform(0.5, 3.0, (m, n)).astype(dtype)
        a *= np.where(rng.random(a.shape) < 0.3, -1, 1).astype(dtype)
        made.append(a)
    return made[0], made[1]


SHAPES = [(6, 37), (3, 1), (1, 9), (0, 5), (4, 0)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
def test_per_row_values_match_numpy(dtype: str, layout: str) -> None:
    for kind in ("rows", "max"):
        f, names = _function(kind, dtype)
        for k, shape in enumerate(SHAPES):
            if kind == "max" and shape[1] == 0:
                continue  # a max of no values raises in both (test_broadcast_reduce)
            x, y = _inputs(shape, dtype, layout, seed=k)
            z = np.stack([x, y])
            with warnings.catch_warnings(), numpy_errstate():
                warnings.simplefilter("ignore", RuntimeWarning)  # means of no values
                got = f(x, y, z)
                want = _graphs(kind, x, y, z)
            for name, g in zip(names, got):
                w = want[name].astype(dtype)
                # sums of signed values cancel: the tolerance is relative to the terms' size
                atol = 100 * RTOL[dtype] * max(1.0, float(np.abs(x).sum())) if "sums" in name else None
                assert_same(g, w, f"{name} of {shape} {dtype} {layout}", rtol=10 * RTOL[dtype], atol=atol)


def _optimized(ins: list[ft.TensorVariable], out: ft.TensorVariable) -> FunctionGraph:
    return optimize_graph(FunctionGraph(ins, [out]), fc.Mode())


def _kernel(fg: FunctionGraph, role: str) -> str:
    """The text of the kernel ``role`` (rows, gen) of the node computing ``fg``'s output."""
    source = render_module(fg, n_explicit=len(fg.inputs), single=True).source
    start = source.index(f"_{role}(", source.rindex("/* node"))
    return source[start : source.index("\n}\n", start)]


def test_per_row_steps_are_computed_before_the_loop_along_the_row() -> None:
    x, y, z = ft.matrix("x"), ft.matrix("y"), ft.tensor3("z")
    graphs = {**_rows(ft, x, y, z), **_max(ft, x)}
    for name, role, per_row in [
        ("layer_norm", "rows", r"fc_sqrt_float64\("),
        ("layer_norm_3d", "rows", r"fc_sqrt_float64\("),
        ("row_unit", "rows", r"fc_sqrt_float64\("),
        ("log_softmax", "rows", r"fc_log_float64\("),
        ("softmax_by_inverse", "rows", r"/ p\d+\[b\d+\]"),
        ("layer_norm_row_sums", "gen", r"fc_sqrt_float64\("),
        ("scaled_column_sums", "gen", r"fc_sqrt_float64\("),
    ]:
        kernel = _kernel(_optimized([x, y, z], graphs[name]), role)
        at = kernel.index("for (npy_intp j")
        assert len(re.findall(per_row, kernel[:at])) == 1, f"{name}: not once per row\n{kernel}"
        assert not re.search(per_row, kernel[at:]), f"{name}: in the loop along the row\n{kernel}"
    # an entry's own division stays in the loop (hoisting 1/s would change the bits of e / s)
    kernel = _kernel(_optimized([x], graphs["softmax"]), "rows")
    at = kernel.index("for (npy_intp j")
    assert "/ p1[b1]" in kernel[at:], kernel


def test_costly_value_repeated_along_another_axis_keeps_its_own_loop() -> None:
    """``(x - mu) / sqrt(var + eps)`` with ``(1, n)`` statistics: the sqrt runs over the n
    columns, not over every element of the ``(m, n)`` loop; a cheap value is still fused."""
    x = ft.matrix("x")
    fg = _optimized([x], _layer_norm(ft, x, 0))
    sqrt = [n for n in fg.toposort() if "sqrt" in str(n.op)]
    assert len(sqrt) == 1 and sqrt[0].outputs[0].type.shape == (1, None), fg.toposort()
    cmu = x.mean(axis=0, keepdims=True)
    fg = _optimized([x], x / (cmu + 1))
    assert [str(n.op) for n in fg.toposort() if "add" in str(n.op)] == ["Composite{add,true_div}"], (
        fg.toposort()
    )
