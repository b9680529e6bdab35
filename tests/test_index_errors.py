"""Indices out of range given to ``take``, ``compress`` and ``take_along_axis`` raise numpy's
``IndexError`` naming the function called (not the indexing op it is made of), the index, the
axis and its size, and the fix, when the graph is built and when the function runs, in both
modes; in-range indices (negative ones too) give numpy's values."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from fcutil import MODES

import fncache as fc
import fncache.tensor as ft

_TAKE_FIX = r"give indices in \[-n, n\) for an axis of size n, or mode='wrap' or mode='clip'"


def _cases() -> list:
    """(function's name, build(x, i), numpy's, good indices, bad indices, message after the name)."""
    return [
        (
            "take",
            lambda x, i: ft.take(x, i, axis=0),
            lambda x, i: np.take(x, i, axis=0),
            [1, -2, 0],
            [0, 2],
            r"index 2 is out of bounds for axis 0 with size 2 .*; " + _TAKE_FIX,
        ),
        (
            "take",
            lambda x, i: x.take(i, axis=-1),
            lambda x, i: x.take(i, axis=-1),
            [2, -3],
            [-4],
            r"index -4 is out of bounds for axis 1 with size 3 .*; " + _TAKE_FIX,
        ),
        (
            "take",
            lambda x, i: ft.take(x, i),
            lambda x, i: np.take(x, i),
            [5, -6],
            [6],
            r"index 6 is out of bounds for axis 0 with size 6 .*; " + _TAKE_FIX + " .*flattened",
        ),
        (
            "take",
            lambda x, i: ft.take(x[:0], i, mode="clip"),
            lambda x, i: np.take(x[:0], i, mode="clip"),
            [],
            [1],
            r"index -1 is out of bounds for axis 0 with size 0 .*; mode='clip' has no element to take from an empty axis",
        ),
        (
            "compress",
            lambda x, i: ft.compress(i, x, axis=1),
            lambda x, i: np.compress(i, x, axis=1),
            [0, 1, 1],
            [0, 0, 0, 1],
            r"index 3 is out of bounds for axis 1 with size 3 .*; the condition has a true entry past "
            r"the axis: give one no longer than the axis, or false there",
        ),
        (
            "take_along_axis",
            lambda x, i: ft.take_along_axis(x, i[None, :], axis=1),
            lambda x, i: np.take_along_axis(x, i[None, :], axis=1),
            [2, -1, 0],
            [1, 3],
            r"index 3 is out of bounds for axis 1 with size 3 .*; give indices in \[-n, n\) for an "
            r"axis of size n",
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_run_time_index_errors_name_the_function(mode: str) -> None:
    x, i = ft.dmatrix("x"), ft.lvector("i")
    xv = np.arange(6.0).reshape(2, 3)
    for name, build, ref, good, bad, message in _cases():
        f = fc.function([x, i], build(x, i), mode=mode)
        good_v, bad_v = np.array(good, dtype=np.int64), np.array(bad, dtype=np.int64)
        np.testing.assert_array_equal(f(xv, good_v), ref(xv, good_v), err_msg=name)
        with pytest.raises(IndexError):
            ref(xv, bad_v)
        with pytest.raises(IndexError, match=rf"^{name} \(AdvancedSubtensor.*\): {message}"):
            f(xv, bad_v)


def test_build_time_index_errors_name_the_function() -> None:
    t = ft.tensor("t", "float64", shape=(2, 3))
    with pytest.raises(
        IndexError, match=rf"^take: index 2 is out of bounds for axis 0 with size 2; {_TAKE_FIX}"
    ):
        ft.take(t, [0, 2], axis=0)
    # a constant condition is not read when the graph is built: the run names compress
    f = fc.function([t], ft.compress(np.array([0, 0, 0, 1]), t, axis=1))
    with pytest.raises(IndexError, match=r"^compress \(AdvancedSubtensor.*\): index 3 .* the condition"):
        f(np.zeros((2, 3)))
    # its other axes are indexed by aranges of t's sizes: of static sizes, known to be non-empty
    # when the graph is built, which names take_along_axis then; of unknown ones, not (numpy
    # accepts out-of-range indices that broadcast to nothing), so the run names it
    with pytest.raises(
        IndexError, match=r"^take_along_axis: index -4 is out of bounds for axis 1 with size 3"
    ):
        ft.take_along_axis(t, np.array([[-4]]), axis=1)
    u = ft.dmatrix("u")
    f = fc.function([u], ft.take_along_axis(u, np.array([[-4]]), axis=1))
    with pytest.raises(
        IndexError,
        match=r"^take_along_axis \(AdvancedSubtensor.*\): index -4 is out of bounds for axis 1 with size 3",
    ):
        f(np.zeros((2, 3)))
    assert f(np.zeros((0, 3))).shape == (0, 1)


@pytest.mark.parametrize("mode", MODES)
def test_an_unpickled_function_names_the_function(mode: str) -> None:
    x, i = ft.dmatrix("x"), ft.lvector("i")
    f = pickle.loads(pickle.dumps(fc.function([x, i], ft.take(x, i, axis=1) * 2, mode=mode)))
    with pytest.raises(
        IndexError, match=r"^take \(AdvancedSubtensor.*\): index 3 is out of bounds for axis 1"
    ):
        f(np.zeros((2, 3)), np.array([3]))
