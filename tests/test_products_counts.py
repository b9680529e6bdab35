"""Products and counts against numpy: ``repeat``'s static shapes (never contradicting the
result), counts that fix the graph (refused with a clear error when symbolic, read when a
constant graph holds them)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import fd_check_grads

# -- repeat: static shapes ---------------------------------------------------------------------

#: (x's value, whether x's static shape is declared, counts, axis): counts as numpy takes them
#: (an int, a single count in a vector, one per element, 0), some given as a constant graph
REPEAT_CASES: list[tuple[np.ndarray, bool, Any, int | None]] = [
    (np.arange(3.0), False, 3, None),
    (np.arange(3.0), True, 3, None),
    (np.arange(3.0), False, 0, None),
    (np.arange(3.0), False, [2], None),
    (np.arange(3.0), True, [2], None),
    (np.arange(3.0), True, np.array([2], "uint8"), 0),
    (np.arange(3.0), False, [1, 0, 2], None),
    (np.arange(3.0), False, [1, 0, 2], -1),
    (np.zeros(0), False, [5], None),
    (np.arange(6.0).reshape(2, 3), True, 2, None),
    (np.arange(6.0).reshape(2, 3), False, 2, 1),
    (np.arange(6.0).reshape(2, 3), True, 2, 1),
    (np.arange(6.0).reshape(2, 3), False, [3], 1),
    (np.arange(6.0).reshape(2, 3), False, [3, 1], 0),
    (np.arange(6.0).reshape(2, 3), True, np.int8(4), 0),
    (np.arange(6.0).reshape(2, 3), True, "constant 3", 1),
    (np.arange(6.0).reshape(2, 3), True, "folded 3", 0),
    (np.array(2.0), False, 3, 0),
    (np.array(2.0), True, [3], -1),
]


def _counts(r: Any) -> tuple[Any, Any]:
    """The counts as given to ``ft.repeat`` and as numpy takes them."""
    if r == "constant 3":
        return ft.constant(3), 3
    if r == "folded 3":
        return ft.constant(1) + 2, 3
    return r, r


def test_repeat_declares_numpys_length_where_it_is_known() -> None:
    """The static shape of ``repeat`` is the result's wherever the counts and the sizes they
    multiply are known (a single count in a vector is numpy's broadcast count, 0 makes 0
    whatever x's size), and never another."""
    ins, outs, vals, wants, known = [], [], [], [], []
    for k, (a, static, r, axis) in enumerate(REPEAT_CASES):
        x = ft.tensor(f"x{k}", "float64", shape=a.shape if static else (None,) * a.ndim)
        given, counts = _counts(r)
        out = ft.repeat(x, given, axis=axis)
        want = np.repeat(a, counts, axis=axis)
        ins.append(x)
        outs.append(out)
        vals.append(a)
        wants.append(want)
        flat = np.asarray(counts).reshape(-1)
        one = flat.size == 1
        size_known = static or a.ndim == 0 or (one and flat[0] == 0) or not one
        known.append(size_known)
    got = fc.function(ins, outs, mode="FAST_COMPILE")(*vals)
    for case, out, g, w, size_known in zip(REPEAT_CASES, outs, got, wants, known):
        np.testing.assert_array_equal(g, w, err_msg=str(case))
        assert out.ndim == w.ndim, case
        for s, n in zip(out.type.shape, w.shape):
            assert s is None or s == n, f"{case}: static shape {out.type.shape}, numpy's {w.shape}"
        length_axis = 0 if case[3] is None or w.ndim == 1 else case[3]
        assert (out.type.shape[length_axis] is not None) == size_known, f"{case}: {out.type.shape}"


def test_repeat_gradient_by_a_single_count_at_run_time() -> None:
    """A vector of counts whose length is known only when the function runs may hold numpy's
    single count for every element: the gradient sums each element's copies."""
    x, r = ft.dvector("x"), ft.lvector("r")
    w = np.linspace(-1.0, 2.0, 6)
    f = fc.function([x, r], fc.grad(ft.sum(ft.repeat(x, r) * w[:6]), x), mode="FAST_COMPILE")
    np.testing.assert_allclose(f(np.arange(3.0), np.array([2])), w.reshape(3, 2).sum(axis=1))
    np.testing.assert_allclose(f(np.arange(3.0), np.array([1, 2, 3])), [w[0], w[1] + w[2], w[3:].sum()])
    fd_check_grads(
        [x],
        {
            "repeat by 2": (lambda v: ft.repeat(v, [2]), [0]),
            "repeat by counts": (lambda v: ft.repeat(v, [1, 0, 2]), [0]),
        },
        [[np.array([0.5, -1.0, 2.0])]],
        mode="FAST_COMPILE",
    )


# -- counts that fix the graph -------------------------------------------------------------------

m, t3, v = ft.dmatrix("m"), ft.dtensor3("t3"), ft.dvector("v")

#: (function, argument, the graph built with the count k): each count decides the number of
#: outputs or dims, or the graph's structure, so it must be known when the graph is built
COUNTS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("split", "n_splits", lambda k: ft.split(v, [1, 3], k)),
    ("split", "the number of sections", lambda k: ft.split(m, k, axis=1)),
    ("tensordot", "axes", lambda k: ft.tensordot(m, m.T, k)),
    ("batched_tensordot", "axes", lambda k: ft.batched_tensordot(t3, t3, k)),
    ("diff", "n", lambda k: ft.diff(m, k)),
    ("matrix_power", "n", lambda k: ft.matrix_power(m, k)),
    ("rot90", "k", lambda k: ft.rot90(m, k)),
    ("flatten", "ndim", lambda k: ft.flatten(t3, k)),
    ("reshape", "ndim", lambda k: ft.reshape(t3, (6, 4), ndim=k)),
    ("sum", "axis", lambda k: ft.sum(t3, axis=k)),
    ("concatenate", "axis", lambda k: ft.concatenate([m, m], axis=k)),
]


@pytest.mark.parametrize("what,arg,build", COUNTS, ids=[f"{c[0]} {c[1]}" for c in COUNTS])
def test_a_symbolic_count_is_refused_naming_the_function_the_argument_and_the_fix(
    what: str, arg: str, build: Callable[[Any], Any]
) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^{what}: {arg} must be .*, got the symbolic k \(TensorType\(int32, \(\)\)\), whose value "
        r"is known only when the function runs; give a Python int or a constant integer \(ft.constant\(2\)",
    ):
        build(ft.iscalar("k"))
    with pytest.raises(
        TypeError, match=rf"^{what}: {arg} must be .*, got the symbolic .*not an integer scalar"
    ):
        build(ft.constant(1.0))


def test_a_count_read_from_a_static_size_or_a_constant_is_that_int() -> None:
    """PyTensor refuses ``diff(x, pt.constant(2))`` and ``flatten(x, pt.constant(2))``
    (``TensorVariable cannot be converted``); a constant graph is its value here, a static size
    too, with the static shape the int gives."""
    sized = ft.tensor("sized", "float64", shape=(None, 2, 4))
    for k in (ft.constant(np.int16(2)), sized.shape[1], ft.constant(5) - 3):
        assert ft.flatten(sized, k).type.shape == (None, 8)
        assert ft.diff(sized, k, axis=2).type.shape == (None, 2, 2)
        assert len(ft.split(sized, k, axis=1)) == 2
        assert ft.tensordot(sized, ft.dmatrix(), k - 1).ndim == 3
