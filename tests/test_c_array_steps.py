"""`cumsum`/`cumprod` (`CumOp`) and `eye` run as steps of the C run-time, not as calls into
Python's perform: checked against numpy and the Python linker for every dtype, every axis and
the flattened input, non-contiguous and empty inputs and integer wraparound; what the native
steps leave to numpy (complex products, a negative size) reaches the op's perform, which gives
the same result or raises the same error as in Python."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_program
from fncache.graph.types import DTYPES
from test_c_shape_steps import _both, _kinds, _steps


def _native(f, op_prefix: str) -> None:
    """No step of ``f`` for ops named ``op_prefix...`` is a call into Python."""
    names = [name for _, name in _steps(f)]
    assert any(name.startswith(op_prefix) for name in names), names
    assert not [
        name for kind, name in _steps(f) if kind == c_program.ST_PERFORM and name.startswith(op_prefix)
    ]


def _values(dtype: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -5), min(info.max, 5), shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_cumsum_and_cumprod_are_native_and_match_numpy(dtype: str) -> None:
    x = ft.TensorType(dtype, (None, None, None))("x")
    outs, wants = [], []
    for axis in (None, 0, 1, 2, -1):
        outs += [ft.cumsum(x, axis=axis), ft.cumprod(x, axis=axis)]
        wants += [lambda v, a=axis: np.cumsum(v, axis=a), lambda v, a=axis: np.cumprod(v, axis=a)]
    c, py = _both([x], outs)
    assert c_program.ST_CUMOP in _kinds(c)
    _native(c, "CumOp")
    rng = np.random.default_rng(0)
    base = _values(dtype, (4, 5, 6), rng)
    for xv in (
        base,
        base.transpose(2, 0, 1),  # not contiguous
        base[:, ::-2, 1:],  # strided, negative step
        np.zeros((3, 0, 2), dtype),
        np.zeros((0, 4, 1), dtype),
        base[:1, :1, :1],
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # as the perform: IEEE results, no warnings
            for f in (c, py):
                for got, want, out in zip(f(xv), wants, outs):
                    w = np.asarray(want(xv), dtype=out.dtype)
                    assert got.dtype == w.dtype == np.dtype(out.dtype), (got.dtype, w.dtype, out.dtype)
                    assert got.shape == w.shape
                    # the same additions and products in the same order: the same bits
                    np.testing.assert_array_equal(got, w)


def test_cumop_wraps_integers_and_overflows_floats_as_numpy() -> None:
    for dtype, xv in (
        ("int64", np.array([2**62, 2**62, 2**62, -5], "int64")),
        ("int32", np.array([2**30, 2**30, 2**30, 7], "int32")),  # accumulates in int64: no wrap
        ("uint64", np.array([2**63, 2**63, 3], "uint64")),
        ("int8", np.array([-128, -128, 100], "int8")),
        ("float32", np.array([3e38, 3e38, -np.inf, np.nan], "float32")),
        ("float64", np.array([1e308, 1e308, 1e308, 0.0], "float64")),
    ):
        x = ft.TensorType(dtype, (None,))("x")
        c, py = _both([x], [ft.cumsum(x), ft.cumprod(x)])
        _native(c, "CumOp")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for f in (c, py):
                got = f(xv)
                with np.errstate(all="ignore"):
                    want = [np.cumsum(xv), np.cumprod(xv)]
                for g, w in zip(got, want):
                    assert g.dtype == w.dtype
                    np.testing.assert_array_equal(g, w)


def test_cumop_of_a_0d_input_and_its_gradient() -> None:
    s = ft.dscalar("s")
    c, py = _both([s], [ft.cumsum(s), ft.cumprod(s)])
    _native(c, "CumOp")
    for f in (c, py):
        a, b = f(np.float64(2.5))
        assert a.shape == b.shape == (1,) and a[0] == b[0] == 2.5
    # the gradient (a reversed cumsum) runs natively too
    x = ft.dvector("x")
    g = fc.grad(ft.sum(ft.cumsum(x) * ft.arange(5.0)), x)
    c, py = _both([x], [g])
    xv = np.arange(5.0)
    want = np.cumsum(np.arange(5.0)[::-1])[::-1]
    for f in (c, py):
        np.testing.assert_array_equal(f(xv)[0], want)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_eye_is_native_and_matches_numpy(dtype: str) -> None:
    n, m, k = ft.lscalar("n"), ft.iscalar("m"), ft.TensorType("int8", ())("k")
    outs = [ft.eye(n, m, k, dtype=dtype), ft.eye(n, dtype=dtype), ft.eye(3, m, dtype=dtype)]
    c, py = _both([n, m, k], outs)
    assert _kinds(c).count(c_program.ST_EYE) == 3
    _native(c, "Eye")
    for nv, mv, kv in ((3, 4, 1), (4, 3, -2), (0, 2, 0), (3, 3, 5), (2, 5, -7), (5, 5, 0), (1, 0, 0)):
        want = [np.eye(nv, mv, kv, dtype=dtype), np.eye(nv, dtype=dtype), np.eye(3, mv, dtype=dtype)]
        for f in (c, py):
            for got, w in zip(f(np.int64(nv), np.int32(mv), np.int8(kv)), want):
                assert got.dtype == w.dtype and got.shape == w.shape
                np.testing.assert_array_equal(got, w)


def test_eye_refusals_come_from_the_perform() -> None:
    n, m = ft.lscalar("n"), ft.TensorType("uint64", ())("m")
    c, py = _both([n, m], [ft.eye(n), ft.eye(n, m)])
    _native(c, "Eye")
    for f in (c, py):
        with pytest.raises(ValueError, match=r"eye: negative dimensions are not allowed \(got -2\)"):
            f(np.int64(-2), np.uint64(3))
        # a uint64 size (which int_scalar does not read) is numpy's
        got = f(np.int64(2), np.uint64(3))
        np.testing.assert_array_equal(got[1], np.eye(2, 3))
