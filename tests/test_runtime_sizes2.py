"""Sizes and shapes given to compiled functions at run time that numpy answers with its own
words or a result of another dtype: each gives numpy's result or a ValueError naming the op,
what it was given and the fix, in the C mode and FAST_COMPILE."""

from __future__ import annotations

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
