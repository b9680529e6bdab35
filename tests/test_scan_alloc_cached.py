"""A loop whose step reads a shape with constant sizes (``broadcast_to(x_t, (2, n))``) is
stored in the cache: the step's nodes declare the same static sizes when the stored graph is
made again from its ops, so a second compile of the same loop hits, and computes what numpy
does.

The shape vector ``(2, n)`` depends on no row of the loop; were it taken from outside as an
opaque value, the step's ``Alloc`` would declare ``(2, ?)`` when built and ``(?, ?)`` when
rebuilt from the stored graph, and the entry would be refused on every compile. The same
holds where ``givens`` (or the inputs) replace such a shape vector by an input.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pytest

import fncache as fc
from fcutil import function_misses
from fncache import tensor as ft
from fncache.config import config

X = np.arange(6.0).reshape(3, 2)
N = 2

#: (step of a row ``x_t`` and the size ``n``, numpy's result for one row)
STEPS: dict[str, tuple[Callable, Callable]] = {
    "broadcast_to": (
        lambda x_t, n: ft.broadcast_to(x_t, (2, n)),
        lambda r: np.broadcast_to(r, (2, N)),
    ),
    "alloc": (lambda x_t, n: ft.alloc(x_t, 2, n), lambda r: np.broadcast_to(r, (2, N))),
    "full of a row's value": (
        lambda x_t, n: ft.full((2, n), x_t[0]),
        lambda r: np.full((2, N), r[0]),
    ),
    "ones_like": (
        lambda x_t, n: ft.ones_like(ft.broadcast_to(x_t, (2, n))),
        lambda r: np.ones((2, N)),
    ),
    "reshape": (
        lambda x_t, n: ft.reshape(ft.concatenate([x_t, 2 * x_t]), (2, n)),
        lambda r: np.concatenate([r, 2 * r]).reshape(2, N),
    ),
    "zeros plus a row": (
        lambda x_t, n: ft.zeros((2, n)) + x_t,
        lambda r: np.zeros((2, N)) + r,
    ),
    "tile": (lambda x_t, n: ft.tile(x_t, (2, n)), lambda r: np.tile(r, (2, N))),
    "specify_shape": (
        lambda x_t, n: ft.specify_shape(ft.broadcast_to(x_t, (2, n)), (2, None)) * 3,
        lambda r: np.broadcast_to(r, (2, N)) * 3,
    ),
}


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def _compiled(step: Callable) -> fc.Function:
    x, n = ft.dmatrix("x"), ft.lscalar("n")
    out, _ = fc.scan(step, sequences=[x], non_sequences=[n])
    return fc.function([x, n], out)


@pytest.mark.parametrize("name", list(STEPS))
def test_a_loop_reading_a_shape_with_constant_sizes_is_cached_and_computes_what_numpy_does(name, caplog):
    step, expected = STEPS[name]
    with caplog.at_level(logging.WARNING, logger="fncache"):
        first = _compiled(step)
    assert "not caching" not in caplog.text
    misses = function_misses()
    hit = _compiled(step)  # the same loop, built again: found in the cache
    assert function_misses() == misses
    want = np.stack([expected(r) for r in X])
    for f in (first, hit):
        got = f(X, N)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("how", ["givens", "an input"])
def test_a_shape_with_constant_sizes_replaced_by_an_input_declares_no_size_it_does_not_know(how, caplog):
    """``broadcast_to(x, (2, n))`` declares 2 rows; its shape vector replaced by an input (by
    ``givens``, or listed as the function's input) no longer says so: the node reading it is
    made again on the input and declares (?, ?), so the function computes numpy's value for
    another first size, and its entry is stored and found."""
    x, n, s = ft.dvector("x"), ft.lscalar("n"), ft.lvector("s")
    y = ft.broadcast_to(x, (2, n))
    shp = y.owner.inputs[1]

    def compiled() -> fc.Function:
        if how == "givens":
            return fc.function([x, s], y, givens={shp: s})
        return fc.function([x, shp], y)

    with caplog.at_level(logging.WARNING, logger="fncache"):
        f = compiled()
    assert "not caching" not in caplog.text
    assert f.optimized_graph.outputs[0].type.shape[0] is None  # 2 rows no longer known
    xv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(xv, np.array([4, 3])), np.broadcast_to(xv, (4, 3)))
    misses = function_misses()
    compiled()
    assert function_misses() == misses
