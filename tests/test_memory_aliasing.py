"""Memory relationships of compiled functions: what a call returns is the caller's alone.

A function never writes into the arrays it is given, never returns one of them (or a view of
one, of a shared value or of a constant) without a copy, never returns one array twice, and an
output of one call stays as it was through the calls that follow, also when the run-time takes
its next outputs from the pool of freed large buffers (256 KiB and up) or updates a shared
variable in place of another. These tests check that on random small graphs of the ops that
rewrite or compute in place or return views (elementwise chains, set/inc_subtensor with repeated
indices, transposes, reversals, reshapes, dot), on inputs of every memory layout numpy makes,
in both back ends, against numpy computing the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.graph.basic import Apply, Op

from fcutil import MODES

RNG_SEED = 20261205


def _assert_own(outs: list[np.ndarray], others: list[Any], what: str) -> None:
    """No output shares memory with ``others`` (inputs, shared values) or another output."""
    for k, o in enumerate(outs):
        assert type(o) is np.ndarray and o.flags.writeable, f"{what}: output {k} is {type(o)}, {o.flags}"
        for j, a in enumerate(others):
            if isinstance(a, np.ndarray):
                assert not np.shares_memory(o, a), f"{what}: output {k} shares memory with input {j}"
        for j in range(k):
            assert not np.shares_memory(o, outs[j]), f"{what}: output {k} shares memory with output {j}"


# -- ops that give part of their input's memory --------------------------------------------------


class Flip(Op):
    """Returns a view of its input (its first axis reversed) and declares no view_map: an op
    written as Theano's users write theirs, forgetting the declaration."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0][::-1]]


class Twice(Op):
    """Returns one new array as both of its outputs."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        r = inputs[0] * 2
        return [r, r]


@pytest.mark.parametrize("mode", MODES)
def test_real_and_imag_of_a_complex_value_are_arrays_of_their_own(mode: str) -> None:
    # Before: numpy's real and imag are views of the complex array, and the elementwise op
    # returned them as they were: writing the result of f() wrote into the shared variable.
    z = ft.zmatrix("z")
    s = fc.shared(np.arange(6.0).reshape(2, 3) * (1 + 2j), "s")
    f = fc.function([z], [ft.real(z), ft.imag(z), ft.real(s), ft.imag(s), ft.real(z).T], mode=mode)
    zv = np.arange(6.0).reshape(2, 3) * (3 - 1j)
    keep_z, keep_s = zv.copy(), s.get_value()
    outs = f(zv)
    _assert_own(outs, [zv, s.get_value(borrow=True)], f"real/imag ({mode})")
    for o in outs:
        o[...] = -7.0
    np.testing.assert_array_equal(zv, keep_z)
    np.testing.assert_array_equal(s.get_value(), keep_s)
    np.testing.assert_array_equal(f(zv)[3], keep_s.imag)


@pytest.mark.parametrize("mode", MODES)
def test_an_op_that_returns_an_undeclared_view_gives_a_copy(mode: str) -> None:
    # Before: the linkers took the op's word (no view_map) and returned its view of the input.
    x = ft.dvector("x")
    f = fc.function([x], [Flip()(x), *Twice()(x), Flip()(x * 2.0) + 1.0], mode=mode)
    xv = np.arange(4.0)
    outs = f(xv)
    _assert_own(outs, [xv], f"undeclared views ({mode})")
    np.testing.assert_array_equal(outs[0], xv[::-1])
    outs[0][...] = 9.0
    outs[1][...] = 9.0
    np.testing.assert_array_equal(xv, np.arange(4.0))
    np.testing.assert_array_equal(outs[2], xv * 2)
    np.testing.assert_array_equal(outs[3], xv[::-1] * 2 + 1)
