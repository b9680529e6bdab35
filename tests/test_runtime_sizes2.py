"""Sizes and shapes given to compiled functions at run time that numpy answers with its own
words or a result of another dtype: each gives numpy's result or a ValueError naming the op,
what it was given and the fix, in the C mode and FAST_COMPILE."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

MODES = [None, "FAST_COMPILE"]


@pytest.mark.parametrize("mode", MODES)
def test_split_sizes_that_miss_the_axis_name_the_sizes_and_the_length(mode) -> None:
    x, s = ft.dvector("x"), ft.lvector("s")
    f = fc.function([x, s], ft.split(x, s, 2), mode=mode)
    for bad in ([2, 2], [6, -1], [1, 1, 3]):
        sizes = str(bad).replace("[", r"\[").replace("]", r"\]")
        with pytest.raises(
            ValueError, match=rf"^split: the sizes {sizes} .* the length 5 of axis 0.*give sizes"
        ):
            f(np.arange(5.0), np.array(bad))
    got = f(np.arange(5.0), np.array([2, 3]))
    for g, w in zip(got, np.split(np.arange(5.0), [2])):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("mode", MODES)
def test_sorts_of_more_dims_than_numpys_iterators_take_are_numpys(mode) -> None:
    # numpy's sort, argsort and take/put_along_axis refuse more than 32 dims (a RuntimeError
    # naming no op); its arrays have up to 64
    shape = (2,) + (1,) * 33 + (3,)
    xv = np.random.default_rng(0).permutation(6).astype(float).reshape(shape)
    with pytest.raises(RuntimeError, match="32 dimensions"):
        np.sort(xv)
    x = ft.TensorType("float64", (None,) * len(shape))("x")
    outs = [
        ft.sort(x),
        ft.argsort(x),
        ft.argsort(x, axis=0, stable=True),
        ft.sort(x, axis=None),
        fc.grad((ft.sort(x) * np.arange(3.0)).sum(), x),
    ]
    f = fc.function([x], outs, mode=mode)
    flat = xv.reshape(2, 3)
    sorted_grad = np.zeros((2, 3))
    np.put_along_axis(sorted_grad, np.argsort(flat), np.broadcast_to(np.arange(3.0), (2, 3)), -1)
    want = [np.sort(flat), np.argsort(flat), np.argsort(flat, axis=0, stable=True), np.sort(flat, axis=None)]
    got = f(xv)
    for g, w in zip(got[:3], want[:3]):
        assert g.shape == shape
        np.testing.assert_array_equal(g.reshape(2, 3), w)
    np.testing.assert_array_equal(got[3], want[3])
    np.testing.assert_array_equal(got[4].reshape(2, 3), sorted_grad)


@pytest.mark.parametrize("mode", MODES)
def test_arange_of_uint64_bounds_has_numpys_dtype(mode) -> None:
    # numpy 2 promotes arange's bounds with its default int64: with a uint64 that is float64
    a, b = ft.lscalar("a"), ft.scalar("b", dtype="uint64")
    cases = [
        ([a, b], ft.arange(a, b), (np.int64(-2), np.uint64(5))),
        ([b], ft.arange(b), (np.uint64(5),)),
        ([b], ft.arange(b, 0, -1), (np.uint64(5),)),
        ([], ft.arange(np.uint64(5)), ()),
        ([], ft.arange(np.int64(1), np.uint64(5)), ()),
    ]
    wants = [
        np.arange(np.int64(-2), np.uint64(5)),
        np.arange(np.uint64(5)),
        np.arange(5.0, 0, -1),  # numpy's own wraps the uint64 step and refuses the length
        np.arange(np.uint64(5)),
        np.arange(np.int64(1), np.uint64(5)),
    ]
    for (ins, out, args), want in zip(cases, wants):
        assert want.dtype == np.float64 and out.dtype == "float64"
        got = fc.function(ins, out, mode=mode)(*args)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", MODES)
def test_means_of_nothing_warn_as_numpys(mode) -> None:
    x = ft.dmatrix("x")
    f = fc.function([x], [ft.mean(x, axis=0), ft.mean(x)], mode=mode)
    for xv in [np.zeros((0, 3)), np.zeros((0, 0))]:
        with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
            with np.errstate(invalid="ignore"):
                want = [np.mean(xv, axis=0), np.mean(xv)]
        with pytest.warns(RuntimeWarning, match=r"^Mean\{.*Mean of empty slice.*NaN"):
            got = f(xv)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    v = fc.function([x], ft.var(x, axis=1, ddof=1), mode=mode)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0 for slice"):
        np.testing.assert_array_equal(v(np.ones((2, 1))), np.full(2, np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the mean of each of no columns: no mean of nothing, no warning (as numpy)
        g = fc.function([x], ft.mean(x, axis=0), mode=mode)
        np.testing.assert_array_equal(g(np.zeros((3, 0))), np.mean(np.zeros((3, 0)), axis=0))
        np.testing.assert_array_equal(f(np.ones((2, 3)))[1], 1.0)
        np.testing.assert_array_equal(v(np.ones((2, 2))), np.zeros(2))


@pytest.mark.parametrize("mode", MODES)
def test_broadcast_to_past_memory_names_broadcast_to_and_the_fix(mode) -> None:
    # numpy returns a read-only view; a function's outputs are arrays of their own
    x, n = ft.dvector("x"), ft.lscalar("n")
    f = fc.function([x, n], ft.broadcast_to(x, (n, 3)), mode=mode)
    with pytest.raises(MemoryError, match=r"^broadcast_to \(Alloc.*shape \(1099511627776, 3\).*x itself"):
        f(np.ones(3), 2**40)
    np.testing.assert_array_equal(f(np.arange(3.0), 2), np.broadcast_to(np.arange(3.0), (2, 3)))
    # a reduction of it reduces x itself (the broadcast_reduce rewrite): no array that size
    g = fc.function([x, n], ft.broadcast_to(x, (n, 3)).sum(), mode=mode)
    assert g(np.ones(3), 2**40) == 3.0 * 2**40
