"""Bad sizes given to ``broadcast_to`` and ``tile`` raise errors naming the function called
(not the ``alloc`` it is made of), what it was given and the fix, when the graph is built
and when the function runs, in both modes."""

from __future__ import annotations

import numpy as np
import pytest
from fcutil import MODES

import fncache as fc
import fncache.tensor as ft


def test_build_time_errors_name_the_function() -> None:
    t = ft.tensor("t", "float64", shape=(3,))
    cases = [
        (lambda: ft.broadcast_to(t, (2, 4)), r"^broadcast_to: the value has static shape \(3,\).*\(2, 4\)"),
        (
            lambda: ft.broadcast_to(t, (-1, 3)),
            r"^broadcast_to: negative dimensions .*\(-1, 3\); give sizes >= 0",
        ),
        (lambda: ft.tile(t, (ft.lscalar("n"), -2)), r"^tile: negative dimensions"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=message):
            build()
    with pytest.raises(TypeError, match="^broadcast_to: each shape entry must be an int"):
        ft.broadcast_to(t, (ft.dscalar("s"), 3))


@pytest.mark.parametrize("mode", MODES)
def test_run_time_errors_name_the_function(mode: str) -> None:
    v = ft.dvector("v")
    n = ft.lscalar("n")
    b = fc.function([v, n], ft.broadcast_to(v, (n, 3)), mode=mode)
    np.testing.assert_array_equal(b(np.ones(3), 2), np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"^broadcast_to: negative dimensions are not allowed \(got -2\); give"
    ):
        b(np.ones(3), -2)
    with pytest.raises(
        ValueError, match=r"^broadcast_to: a value of shape \(4,\) cannot be broadcast to the shape \(2, 3\)"
    ):
        b(np.ones(4), 2)
    # a reduction of the broadcast reduces the value (broadcast_reduce): the same errors
    r = fc.function([v, n], ft.broadcast_to(v, (n, 3)).sum(axis=0), mode=mode)
    with pytest.raises(
        ValueError, match=r"^broadcast_to: negative dimensions are not allowed \(got -2\); give"
    ):
        r(np.ones(3), -2)
    with pytest.raises(ValueError, match=r"^broadcast_to: a value of shape \(4,\) cannot be broadcast"):
        r(np.ones(4), 2)
    t = fc.function([v, n], ft.tile(v, (n, 2)), mode=mode)
    np.testing.assert_array_equal(t(np.arange(3.0), 2), np.tile(np.arange(3.0), (2, 2)))
    with pytest.raises(
        ValueError, match=r"^tile: reps must be non-negative, got \[-2, 2\]; give counts >= 0"
    ):
        t(np.arange(3.0), -2)
    with pytest.raises(MemoryError, match="^tile"):
        t(np.arange(3.0), 2**40)
