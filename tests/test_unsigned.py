"""uint16, uint32 and uint64 against numpy in both modes: every elementwise op of the core and
extended tables, numpy's (NEP 50) promotion with signed, float and Python-number operands,
reductions, and wrap-around at the type's limits."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, numpy_errstate, sample
import test_elemwise as E
import test_numpy_math as M

UINTS = ("uint16", "uint32", "uint64")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", UINTS)
def test_core_elementwise_ops(mode: str, dtype: str) -> None:
    f, names = E.unary_fn(dtype, 2, mode)
    for shape in [(3, 4), (0, 4), (5, 7)]:
        E._check_group(f, names, E.UNARY, [sample(dtype, shape, seed=1)], f"{dtype}{shape}")
    g, bnames = E.binary_fn(dtype, dtype, 2, 2, mode)
    for k, (sa, sb) in enumerate(E.SHAPES_2D):
        args = [sample(dtype, sa, seed=10 + k), sample(dtype, sb, seed=20 + k)]
        E._check_group(g, bnames, E.BINARY, args, f"{dtype} {sa}x{sb}")
    p, pnames = E.pow_fn(dtype, dtype, 2, 2, mode)
    E._check_group(
        p, pnames, E.POW, [sample(dtype, (3, 4), 3), E._exponent(dtype, (3, 4), 4)], f"{dtype} pow"
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", UINTS)
def test_extended_elementwise_ops(mode: str, dtype: str) -> None:
    f, names = M.unary_fn("unary", dtype, 2, mode)
    M._check_all(f, names, M.UNARY, [sample(dtype, (4, 6), seed=2)], dtype)
    g, bnames = M.binary_fn("binary", dtype, dtype, 2, 2, mode)
    M._check_all(g, bnames, M.BINARY, [sample(dtype, (3, 4), 5), sample(dtype, (1, 4), 6)], dtype)
    s, snames = M.binary_fn("shifts", dtype, dtype, 1, 1, mode)
    bits = 8 * np.dtype(dtype).itemsize
    amounts = np.resize(np.array([0, 1, bits - 1, bits, bits + 5, 3], dtype), 30)
    M._check_all(s, snames, M.SHIFTS, [sample(dtype, (30,), 7), amounts], f"{dtype} shifts")


MIXED = [
    ("uint16", "int16"),
    ("uint32", "int32"),
    ("uint64", "int64"),
    ("uint64", "float32"),
    ("uint32", "float32"),
    ("uint16", "uint64"),
    ("uint8", "uint32"),
    ("bool", "uint16"),
    ("int8", "uint64"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("da,db", MIXED)
def test_promotion_with_other_dtypes(mode: str, da: str, db: str) -> None:
    """numpy's rules: uint64 with a signed int is float64, uint32 with int32 is int64, ..."""
    f, names = E.binary_fn(da, db, 2, 2, mode, E.MIXED_OPS)
    args = [sample(da, (3, 4), seed=1), sample(db, (1, 4), seed=2)]
    E._check_group(f, names, E.BINARY, args, f"{da},{db}")


@pytest.mark.parametrize("dtype", UINTS)
def test_python_numbers_are_weak_and_limits_wrap(dtype: str) -> None:
    x = ft.vector("x", dtype)
    info = np.iinfo(dtype)
    f = fc.function([x], [x + 1, x * 2, 3 - x, x // 2, x > 5, x * 0.5])
    v = np.array([0, 1, 5, info.max], dtype)
    with numpy_errstate():
        want = [v + 1, v * 2, 3 - v, v // 2, v > 5, v * 0.5]
    for k, (g, w) in enumerate(zip(f(v), want)):
        assert_same(g, w, f"expression {k}")
    with pytest.raises(OverflowError):
        x + (-1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", UINTS)
def test_reductions(mode: str, dtype: str) -> None:
    x = ft.matrix("x", dtype)
    outs = [
        x.sum(),
        x.sum(axis=0),
        ft.prod(x, axis=1),
        x.max(axis=1),
        ft.min(x),
        x.mean(),
        x.argmax(axis=0),
        ft.cumsum(x, axis=1),
        ft.sort(x, axis=0),
    ]
    refs = [
        np.sum,
        lambda v: v.sum(axis=0),
        lambda v: np.prod(v, axis=1),
        lambda v: v.max(axis=1),
        np.min,
        np.mean,
        lambda v: v.argmax(axis=0),
        lambda v: np.cumsum(v, axis=1),
        lambda v: np.sort(v, axis=0),
    ]
    f = fc.function([x], outs, mode=mode)
    big = sample(dtype, (300, 40), seed=3)
    for v in (sample(dtype, (5, 7), seed=4), big, big[::-2, ::3]):
        for k, (g, r) in enumerate(zip(f(v), refs)):
            assert_same(g, r(v), f"reduction {k} of {v.shape}")


def test_refused_dtypes_name_the_op_and_what_it_accepts() -> None:
    x = ft.vector("x", "uint32")
    with pytest.raises(
        TypeError,
        match="invert is not defined for dtypes float32; it accepts "
        "bool, int8, int16, int32, int64, uint8, uint16, "
        "uint32, uint64:",
    ):
        ft.invert(ft.vector("f", "float32"))
    with pytest.raises(
        TypeError,
        match=r"lshift is not defined for dtypes float64, uint32; "
        r"it accepts bool, int8",
    ):
        ft.dvector("d") << x
