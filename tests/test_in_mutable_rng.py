"""``fc.In(rng, mutable=True)`` on a random state input: each call advances the state it is
given in place, past the draws it made, as PyTensor advances a mutable ``Generator``."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache.compile.debugmode import DebugMode
from fncache.tensor.random.type import random_generator_type

MODES = ["FAST_RUN", "FAST_COMPILE", DebugMode()]


def _two_draws() -> tuple[Any, Any, Any, Any]:
    """A state, the state after two chained draws from it, and the two draws."""
    rng = random_generator_type("rng")
    n1, x = rng.normal(0, 1, size=(3,))
    n2, y = n1.uniform(size=(2,))
    return rng, n2, x, y


@pytest.mark.parametrize("mode", MODES, ids=["c", "py", "debug"])
def test_a_state_array_is_advanced_past_the_calls_draws(mode: Any) -> None:
    rng, n2, x, y = _two_draws()
    f = fc.function([fc.In(rng, mutable=True)], [x, y], mode=mode)
    assert f.advanced_inputs == [(0, 2)]
    state = np.array([5, 7], dtype=np.uint64)
    first = f(state)
    # the state the two draws end on, as the graph's own next state says
    np.testing.assert_array_equal(state, fc.function([rng], n2)(np.array([5, 7], dtype=np.uint64)))
    second = f(state)
    np.testing.assert_array_equal(state, [5, 11])
    assert not np.allclose(first[0], second[0])
    # the second call drew what a call from the advanced state draws
    again = fc.function([rng], [x, y], mode=mode)(np.array([5, 9], dtype=np.uint64))
    for a, b in zip(second, again):
        np.testing.assert_array_equal(a, b)
    # without mutable, the caller's state is never written: every call draws the same
    g = fc.function([rng], [x, y], mode=mode)
    state = np.array([5, 7], dtype=np.uint64)
    np.testing.assert_array_equal(g(state)[0], g(state)[0])
    np.testing.assert_array_equal(state, [5, 7])


@pytest.mark.parametrize("mode", MODES, ids=["c", "py", "debug"])
def test_a_generator_is_advanced_in_place(mode: Any) -> None:
    rng, _, x, _ = _two_draws()
    f = fc.function([fc.In(rng, mutable=True)], x, mode=mode)
    gen = np.random.default_rng(0)
    a, b = f(gen), f(gen)
    assert not np.allclose(a, b)  # as PyTensor's FAST_RUN: the next call draws new numbers
    # one word of the generator per call: the same seed gives the same calls
    fresh = np.random.default_rng(0)
    np.testing.assert_array_equal(f(fresh), a)
    np.testing.assert_array_equal(f(fresh), b)
    assert gen.bit_generator.state == fresh.bit_generator.state
    # not mutable: the generator is left as it was
    g = fc.function([rng], x, mode=mode)
    gen = np.random.default_rng(0)
    np.testing.assert_array_equal(g(gen), g(gen))
    assert gen.bit_generator.state == np.random.default_rng(0).bit_generator.state


def test_a_value_that_cannot_be_advanced_in_place_is_refused() -> None:
    rng, _, x, _ = _two_draws()
    f = fc.function([fc.In(rng, mutable=True)], x)
    for bad in ([5, 7], np.array([5, 7], dtype=np.int64)):
        with pytest.raises(
            TypeError,
            match=r"input 'rng' is In\(\.\.\., mutable=True\), a random state each call advances in place; give a numpy Generator or a writeable uint64",
        ):
            f(bad)
    frozen = np.array([5, 7], dtype=np.uint64)
    frozen.setflags(write=False)
    with pytest.raises(TypeError, match="writeable uint64 state array"):
        f(frozen)


def test_pickles_copies_repeats_and_defaults_keep_it() -> None:
    rng, _, x, _ = _two_draws()
    f = fc.function([fc.In(rng, mutable=True)], x)  # one draw: the second is not computed
    for g in (pickle.loads(pickle.dumps(f)), f.copy()):
        assert g.advanced_inputs == [(0, 1)]
        state = np.array([1, 0], dtype=np.uint64)
        g(state)
        np.testing.assert_array_equal(state, [1, 1])
    state = np.array([1, 0], dtype=np.uint64)
    f(state)
    f.fn(3)  # f.fn repeats the last call: each run advances the state again
    np.testing.assert_array_equal(state, [1, 4])
    # a state the graph never draws from, or one the function keeps itself, is left alone
    other = random_generator_type("other")
    h = fc.function([fc.In(other, mutable=True), rng], x, on_unused_input="ignore")
    assert h.advanced_inputs == []
    # the default of an input is the function's own: only states the caller gives move on
    d = fc.function([fc.In(rng, mutable=True, value=np.array([3, 0], dtype=np.uint64))], x)
    np.testing.assert_array_equal(d(), d())
    mine = np.array([3, 0], dtype=np.uint64)
    d(mine)
    np.testing.assert_array_equal(mine, [3, 1])
