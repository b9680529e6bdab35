"""Divergences from PyTensor 3 that random programs found (the same random expression built with
``pytensor.tensor`` and ``fncache.tensor``, compiled, and its dtypes, static shapes, values and
gradients compared), each checked here against numpy or a closed form, not against PyTensor:
where a case names PyTensor's rule, the rule is what PyTensor's op defines.

Cases fncache got wrong until now:

* ``maximum``/``minimum`` at a tie gave both operands the output's gradient, so
  ``grad(sum(maximum(x, x)), x)`` was 2 (``maximum(x, x)`` is ``x``): the first operand alone
  gets it, as PyTensor's (and Theano's) rule, so the gradients sum to the output's.
"""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

MODES = ("FAST_RUN", "FAST_COMPILE")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_max_min_tie_gives_the_gradient_once(mode: str, name: str) -> None:
    op = getattr(ft, name)
    x, y = ft.dvector("x"), ft.dvector("y")
    w = np.array([1.0, 2.0, 3.0, 4.0])
    # maximum(x, x) is x; and where x == y, the derivative of maximum(t, t) in t is 1
    same = fc.grad(ft.sum(op(x, x) * w), x)
    gx, gy = fc.grad(ft.sum(op(x, y) * w), [x, y])
    f = fc.function([x, y], [same, gx, gy], mode=mode)
    xv = np.array([1.0, 2.0, 3.0, -1.0])
    yv = np.array([1.0, 0.0, 5.0, -1.0])
    got_same, got_x, got_y = f(xv, yv)
    np.testing.assert_array_equal(got_same, w)
    np.testing.assert_array_equal(got_x + got_y, w)
    # strict: the operand taken; a tie: the first operand (PyTensor's rule)
    taken_x = (xv > yv) if name in ("maximum", "fmax") else (xv < yv)
    np.testing.assert_array_equal(got_x, w * (taken_x | (xv == yv)))
