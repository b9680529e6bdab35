"""A random draw's state, as Theano's and PyTensor's users reach it: the draw's ``rng`` (Theano's
``x.rng``, PyTensor's ``x.owner.inputs[0]``) and ``update``, its ``get_value``/``set_value``
to save and restore where a stream is, ``state_updates``/``updates()``, ``seed()``,
``gen_seedgen`` and MRG's ``rstate``. Restoring a state draws the same numbers again; functions
sharing a stream advance it one call at a time."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.shared_randomstreams import MRG_RandomStreams, RandomStreams

MODES = ["FAST_RUN", "FAST_COMPILE"]


@pytest.mark.parametrize("mode", MODES)
def test_theano_tutorial_rng_of_a_draw(mode: str) -> None:
    """Theano's "Using Random Numbers": the draws' generators, and restoring one between two
    functions that share it."""
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = fc.function([], rv_u, mode=mode)
    g = fc.function([], rv_n, no_default_updates=True, mode=mode)
    nearly_zeros = fc.function([], rv_u + rv_u - 2 * rv_u, mode=mode)
    assert isinstance(rv_u.rng, fc.SharedVariable) and rv_u.rng is rv_u.owner.inputs[0]
    assert rv_u.update == (rv_u.rng, rv_u.rng.default_update)
    assert srng.state_updates[:2] == [rv_u.update, rv_n.update] == srng.updates()
    f_val0, f_val1 = f(), f()
    assert np.all(f_val0 != f_val1)
    g_val0, g_val1 = g(), g()
    np.testing.assert_array_equal(g_val0, g_val1)  # g does not advance its generator
    np.testing.assert_allclose(nearly_zeros(), np.zeros((2, 2)), atol=1e-15)  # one draw a call

    state_after_v0 = rv_u.rng.get_value()
    nearly_zeros()  # advances rv_u's generator: f shares it
    v1 = f()
    rv_u.rng.set_value(state_after_v0)
    v2 = f()
    v3 = f()
    assert np.all(v2 != v1)
    np.testing.assert_array_equal(v3, v1)
    assert int(rv_u.rng.get_value()) == 5 and int(rv_n.rng.get_value()) == 0


@pytest.mark.parametrize("mode", MODES)
def test_pytensor_rng_input_saves_and_restores(mode: str) -> None:
    rs = fc.RandomStream(7)
    x = rs.normal(size=3)
    rng = x.owner.inputs[0]
    assert rng is x.rng and rng.default_update is x.owner.outputs[0]
    saved = rng.get_value()
    f = fc.function([], x, mode=mode)
    a, b = f(), f()
    rng.set_value(saved)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_array_equal(f(), b)
    # as a fresh stream of the same seed making the same draws
    twin = fc.RandomStream(7).normal(size=3)
    h = fc.function([], twin, mode=mode)
    np.testing.assert_array_equal(h(), a)
    # a state set ahead skips the draws in between
    rng.set_value(np.array(1, dtype=np.uint64))
    np.testing.assert_array_equal(f(), b)


@pytest.mark.parametrize("mode", MODES)
def test_functions_sharing_a_stream_advance_it_in_turn(mode: str) -> None:
    srng = RandomStreams(seed=11)
    x = srng.uniform((4,))
    f1 = fc.function([], x, mode=mode)
    f2 = fc.function([], [x * 2, x.sum()], mode=mode)
    got = [f1(), f2()[0] / 2, f1(), f2()[1]]
    ref_x = RandomStreams(seed=11).uniform((4,))
    ref = fc.function([], ref_x, mode=mode)
    want = [ref() for _ in range(4)]
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_allclose(got[3], want[3].sum(), rtol=1e-15)
    assert int(x.rng.get_value()) == 4
    assert len({a.tobytes() for a in want}) == 4


def test_whole_stream_saved_through_state_updates() -> None:
    """The MRG backup idiom: every generator's value from ``state_updates``, restored later."""
    srng = MRG_RandomStreams(seed=1234)
    mult = srng.multinomial(pvals=[[0.3, 0.3, 0.4]])
    u = srng.uniform((3,))
    f = fc.function([], [mult, u])
    saved = [s.get_value() for s, _ in srng.state_updates]
    first = [f() for _ in range(3)]
    for (s, _), v in zip(srng.state_updates, saved):
        s.set_value(v)
    again = [f() for _ in range(3)]
    for a, b in zip(first, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_copy_random_state_between_graphs() -> None:
    """Theano's tutorial ``copy_random_state``: two streams of different seeds, out of sync,
    then in sync once one's ``rstate`` and generators are copied into the other."""
    g1, g2 = MRG_RandomStreams(seed=123), MRG_RandomStreams(seed=987)
    y1, y2 = g1.uniform(size=(1,)), g2.uniform(size=(1,))
    f1, f2 = fc.function([], y1), fc.function([], y2)
    assert f1() != f2()
    g2.rstate = g1.rstate
    for su1, su2 in zip(g1.state_updates, g2.state_updates):
        su2[0].set_value(su1[0].get_value())
    np.testing.assert_array_equal(f1(), f2())
    np.testing.assert_array_equal(f1(), f2())
    with pytest.raises(TypeError, match="rstate: expected another stream's rstate"):
        g2.rstate = -1


def test_seed_and_gen_seedgen() -> None:
    srng = RandomStreams(seed=234)
    assert srng.gen_seedgen.randint(2**30) == np.random.RandomState(234).randint(2**30)
    x = srng.normal((2,))
    f = fc.function([], x)
    first = f()
    f()
    srng.seed(234)  # every draw back to its first numbers
    np.testing.assert_array_equal(f(), first)
    assert srng.gen_seedgen.randint(2**30) == np.random.RandomState(234).randint(2**30)
    srng.seed(902340)
    assert int(x.rng.get_value()) == 0 and np.any(f() != first)
    rs = fc.RandomStream(3)
    assert rs.gen_seedgen.entropy == 3
    rs.seed(5)
    assert rs.gen_seedgen.entropy == 5
    assert isinstance(ft.dvector("v") * 2, fc.Variable) and not hasattr(ft.dvector("v"), "rng")


@pytest.mark.parametrize(
    "value", [np.random.default_rng(42), np.random.RandomState(42), np.random.PCG64(42)], ids=type
)
def test_setting_a_numpy_generator_as_a_draws_rng_says_how_to_reseed(value) -> None:
    srng = RandomStreams(seed=234)
    u = srng.uniform((2,))
    f = fc.function([], u)
    first = f()
    with pytest.raises(TypeError, match=r"rng_234_0.*numpy .*(Generator|RandomState|PCG64).*seed\(n\)"):
        u.rng.set_value(value)
    assert u.rng.get_value() == 1  # old value kept: the next draw is the stream's second
    srng.seed(234)
    np.testing.assert_array_equal(f(), first)
