"""Values have the type their variables declare and numpy's dtype: reductions accumulating
in bool, arange of symbolic bounds."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_bool_accumulator_tests_values_against_zero(mode: str) -> None:
    """numpy adds bools by ``or`` and multiplies them by ``and``: ``sum(x, dtype=bool)`` of 0.5
    is True, ``prod`` of 256 is True; the C loops truncated them to a byte (0.5 and 256 gave
    False) in the accumulator and in the cast of the result."""
    v, i, m = ft.dvector("v"), ft.lvector("i"), ft.dmatrix("m")
    outs = [
        ft.sum(v, dtype="bool"),
        ft.sum(i, dtype="bool"),
        ft.prod(i, dtype="bool"),
        ft.sum(i, dtype="bool", acc_dtype="int64"),
        ft.mean(v, dtype="bool"),
        ft.sum(m, axis=1, dtype="bool"),
        ft.prod(m, axis=0, dtype="bool"),
        ft.mean(m, axis=0, dtype="bool"),
    ]
    vv, iv = np.array([0.5, -0.25]), np.array([256, 2])
    mv = np.array([[0.5, 0.0], [0.25, -0.5]])
    want = [
        np.sum(vv, dtype=bool),
        np.sum(iv, dtype=bool),
        np.prod(iv, dtype=bool),
        np.sum(iv, dtype="int64").astype(bool),
        np.mean(vv, dtype=bool),
        np.sum(mv, axis=1, dtype=bool),
        np.prod(mv, axis=0, dtype=bool),
        np.mean(mv, axis=0, dtype=bool),
    ]
    for k, (got, w) in enumerate(zip(fc.function([v, i, m], outs, mode=mode)(vv, iv, mv), want)):
        assert got.dtype == bool and np.array_equal(got, w), (k, got, w)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_arange_takes_numpy_dtype_of_symbolic_bounds(mode: str) -> None:
    """numpy's arange takes its bounds as Python numbers: an int8 or uint8 bound gives int64, a
    float32 one float64, a uint64 one float64; a complex ``dtype`` counts from real bounds
    (complex bounds count no values, which made ``arange(n, dtype=complex128)`` empty)."""
    outs, want = [], []
    ins, vals = [], []
    for dt in ("int8", "uint8", "int32", "uint32", "uint64", "float32"):
        x = ft.tensor(f"n_{dt}", dt, shape=())
        v = np.asarray(4, dtype=dt)
        ins.append(x)
        vals.append(v)
        outs += [ft.arange(x), ft.arange(1, x), ft.arange(x, dtype="complex128"), ft.arange(0.5, x)]
        want += [np.arange(v), np.arange(1, v), np.arange(v, dtype="complex128"), np.arange(0.5, v)]
    outs.append(ft.arange(np.int8(3)))
    want.append(np.arange(np.int8(3)))
    for got, o, w in zip(fc.function(ins, outs, mode=mode)(*vals), outs, want):
        assert got.dtype == w.dtype == o.dtype and np.array_equal(got, w), (o, got, w)
