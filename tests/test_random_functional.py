"""PyTensor's functional random API: random states (``fc.shared(np.random.default_rng(s))``,
``pt.random.shared_rng``, a symbolic ``pt.random.rng``) and draws that return ``(next_rng,
draw)``, on fncache's counter-based streams. Statistical checks use fixed seeds: the numbers are
the same on every run, so a bound either holds or fails for good, never by chance."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats

import fncache as fc
import fncache.tensor as pt
from fncache.tensor.random import RandomDraw, RandomVariable
from fncache.tensor.random.type import RandomGeneratorType, random_generator_type, state_from_generator
from fncache.tensor.random.variable import RandomGeneratorSharedVariable, RandomGeneratorVariable

N = 40_000

#: ``np.random.default_rng(42)``'s state: the next word of its PCG64 (numpy keeps bit
#: generators' words fixed across versions), counter 0
STATE_42 = [14276969152011380360, 0]
#: sha256 of the draws of `_digest_of_draws`, a change of which is a change of the numbers
REGRESSION = "0623cd0845e09cc4f45d0f7bcc95627579f704f0030df4a07816eb7417ec6f22"


def _hex(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _digest_of_draws(mode: str = "FAST_RUN") -> str:
    """Two calls of a function chaining a normal, a binomial, a gamma and an integers draw."""
    rng = fc.shared(np.random.default_rng(42), name="rng")
    r1, a = pt.random.normal(1.0, 2.0, size=(7,), rng=rng, return_next_rng=True)
    r2, b = pt.random.binomial(20, 0.3, size=(7,), rng=r1, return_next_rng=True)
    r3, c = pt.random.gamma(2.5, 1.0, size=(7,), rng=r2, return_next_rng=True)
    r4, d = pt.random.integers(0, 1000, size=(7,), rng=r3, return_next_rng=True)
    f = fc.function([], [a, b, c, d], updates={rng: r4}, mode=mode)
    return _hex(f() + f() + [rng.get_value()])


# -- making random states ------------------------------------------------------------------------


def test_shared_generator_is_a_random_state_seeded_from_the_generator() -> None:
    g = np.random.default_rng(42)
    before = g.bit_generator.state
    rng = fc.shared(g, name="rng")
    assert isinstance(rng, RandomGeneratorSharedVariable)
    assert isinstance(rng.type, RandomGeneratorType) and rng.type == random_generator_type
    assert rng.get_value().tolist() == STATE_42
    assert g.bit_generator.state == before  # the generator is read, not advanced
    assert fc.shared(np.random.default_rng(43)).get_value()[0] != STATE_42[0]
    assert pt.random.shared_rng(seed=42).get_value().tolist() == STATE_42
    assert pt.random.shared_rng(np.random.default_rng(42)).get_value().tolist() == STATE_42


def test_a_function_draws_new_numbers_only_where_it_updates_the_state() -> None:
    rng = fc.shared(np.random.default_rng(42))
    next_rng, x = pt.random.normal(0, 1, size=(3,), rng=rng, return_next_rng=True)
    frozen = fc.function([], x)
    assert np.array_equal(frozen(), frozen())  # PyTensor's rule: no update, the same state
    saved = rng.get_value()
    f = fc.function([], x, updates={rng: next_rng})
    first, second, third = f(), f(), f()
    assert not np.array_equal(first, second) and not np.array_equal(second, third)
    assert rng.get_value().tolist() == [STATE_42[0], 3]
    fourth = frozen()  # it reads the state the updates left
    rng.set_value(saved)
    assert np.array_equal(f(), first) and np.array_equal(f(), second) and np.array_equal(f(), third)
    assert np.array_equal(f(), fourth)


def test_set_value_takes_a_generator_a_seed_or_a_saved_state() -> None:
    rng = pt.random.shared_rng(seed=1, name="rng")
    next_rng, x = rng.uniform(size=(4,))
    f = fc.function([], x, updates={rng: next_rng})
    rng.set_value(np.random.default_rng(7))
    a = [f(), f()]
    rng.set_value(seed=7)
    b = [f(), f()]
    rng.set_value(np.array([state_from_generator(np.random.default_rng(7), "t")[0], 1], dtype=np.uint64))
    c = f()
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and np.array_equal(c, a[1])


def test_owner_outputs_are_next_rng_and_the_draw() -> None:
    rng = fc.shared(np.random.default_rng(0))
    x = pt.random.normal(rng=rng)  # without return_next_rng: the draw only, as PyTensor's
    assert isinstance(x.owner.op, RandomDraw) and x.owner.inputs[0] is rng
    next_rng, same = x.owner.outputs
    assert same is x and isinstance(next_rng, RandomGeneratorVariable)
    f = fc.function([], x, updates={rng: next_rng})
    assert f() != f()
    # PyTensor's older tutorial: the next state as the shared state's default update
    rng.default_update = next_rng
    g = fc.function([], x)
    before = rng.get_value()[1]
    assert g() != g() and rng.get_value()[1] == before + 2
    # no rng: a fresh shared state, as PyTensor's
    fresh_next, y = pt.random.normal(size=2, return_next_rng=True)
    assert isinstance(y.owner.inputs[0], RandomGeneratorSharedVariable) and y.owner.outputs[0] is fresh_next


def test_two_draws_chained_through_next_rng_are_independent() -> None:
    rng = pt.random.shared_rng(seed=3)
    r1, x = pt.random.normal(size=(N,), rng=rng, return_next_rng=True)
    r2, y = r1.normal(size=(N,))
    _, z = pt.random.normal(size=(N,), rng=rng, return_next_rng=True)  # the same state again
    xv, yv, zv = fc.function([], [x, y, z], updates={rng: r2})()
    assert abs(np.corrcoef(xv, yv)[0, 1]) < 6 / np.sqrt(N)
    assert np.array_equal(xv, zv)  # a state drawn from twice repeats itself, as PyTensor's
    assert rng.get_value()[1] == 2


def test_the_methods_warn_when_a_state_is_drawn_from_twice() -> None:
    r = pt.random.rng("r")
    r.normal()
    with pytest.warns(UserWarning, match="already been drawn from"):
        r.normal()


# -- symbolic states -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [pt.random.rng, random_generator_type, lambda name: RandomGeneratorType()(name)]
)
def test_a_symbolic_state_takes_a_saved_state_or_a_generator(make) -> None:
    r = make("rng")
    assert isinstance(r, RandomGeneratorVariable)
    next_rng, x = pt.random.poisson(3.0, size=(5,), rng=r, return_next_rng=True)
    f = fc.function([r], [next_rng, x])
    shared = fc.shared(np.random.default_rng(11))
    s1, a = f(shared.get_value())
    assert s1.tolist() == [shared.get_value()[0], 1]
    _, b = f(np.random.default_rng(11))  # the generator is converted as fc.shared converts it
    _, c = f(s1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # the same numbers as the shared state's draw
    _, d = pt.random.poisson(3.0, size=(5,), rng=shared, return_next_rng=True)
    assert np.array_equal(fc.function([], d)(), a)


def test_a_state_threads_through_scan() -> None:
    rng = pt.random.shared_rng(seed=5)

    def step(prev):
        return pt.random.normal(size=(), rng=prev, return_next_rng=True)

    (states, draws), _ = fc.scan(step, outputs_info=[rng, None], n_steps=4)
    f = fc.function([], draws, updates={rng: states[-1]})
    a, b = f(), f()
    assert len(set(a.tolist())) == 4 and not np.array_equal(a, b)
    # a draw chained after the loop takes its last state
    _, after = pt.random.normal(size=(), rng=states[-1], return_next_rng=True)
    rng.set_value(seed=5)
    assert fc.function([], after)() not in a


# -- the numbers --------------------------------------------------------------------------------


def _moments(sample: np.ndarray, dist) -> None:
    """Mean and variance within 6 standard errors of the distribution's (fixed seed)."""
    m, v, k = (float(t) for t in dist.stats(moments="mvk"))
    n = sample.size
    assert abs(sample.mean() - m) < 6 * np.sqrt(v / n), (sample.mean(), m)
    assert abs(sample.var() - v) < 6 * v * np.sqrt((k + 2) / n), (sample.var(), v)


DISTS = [
    ("normal", (2.0, 3.0), stats.norm(2, 3)),
    ("uniform", (-1.0, 4.0), stats.uniform(-1, 5)),
    ("standard_normal", (), stats.norm()),
    ("exponential", (2.0,), stats.expon(scale=2)),
    ("gamma", (2.5, 1.5), stats.gamma(2.5, scale=1 / 1.5)),  # PyTensor's second argument: the rate
    ("beta", (2.0, 3.0), stats.beta(2, 3)),
    ("lognormal", (0.0, 0.5), stats.lognorm(0.5)),
    ("laplace", (1.0, 2.0), stats.laplace(1, 2)),
    ("logistic", (1.0, 2.0), stats.logistic(1, 2)),
    ("gumbel", (1.0, 2.0), stats.gumbel_r(1, 2)),
    ("truncated_normal", (0.0, 1.0), stats.truncnorm(-2, 2)),
    ("poisson", (4.0,), stats.poisson(4)),
    ("binomial", (10, 0.3), stats.binom(10, 0.3)),
    ("bernoulli", (0.3,), stats.bernoulli(0.3)),
    ("integers", (0, 10), stats.randint(0, 10)),
    ("categorical", ([0.2, 0.5, 0.3],), stats.rv_discrete(values=([0, 1, 2], [0.2, 0.5, 0.3]))),
]


def test_distributions_have_the_moments_of_numpys() -> None:
    """All draws chained from one state in one function, so each has its own counter."""
    rng = pt.random.shared_rng(seed=2024)
    state, samples = rng, []
    for name, params, _ in DISTS:
        state, x = getattr(pt.random, name)(*params, size=(N,), rng=state, return_next_rng=True)
        samples.append(x)
    values = fc.function([], samples)()
    for (name, _, dist), sample in zip(DISTS, values):
        _moments(sample, dist)
        if name not in ("poisson", "binomial", "bernoulli", "integers", "categorical"):
            assert stats.kstest(sample, dist.cdf).pvalue > 1e-3, name


def test_compiled_draws_are_the_numpy_steps_numbers() -> None:
    """FAST_RUN draws with the run-time's native steps (the random_state rewrite), FAST_COMPILE
    with the op's perform: the same bits."""
    rng = pt.random.shared_rng(seed=9)
    state, outs = rng, []
    for name, params, _ in DISTS:
        state, x = getattr(pt.random, name)(*params, size=(257,), rng=state, return_next_rng=True)
        outs.append(x)
    f = fc.function([], [*outs, state])
    ops = {type(n.op) for n in f.optimized_graph.toposort()}
    assert RandomVariable in ops and RandomDraw not in ops
    g = fc.function([], [*outs, state], mode="FAST_COMPILE")
    for a, b in zip(f(), g()):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_numbers_are_the_committed_regression_vector() -> None:
    assert _digest_of_draws() == REGRESSION
    assert _digest_of_draws("FAST_COMPILE") == REGRESSION


def test_same_numbers_in_a_fresh_process(tmp_path) -> None:
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_random_functional import _digest_of_draws
        print(_digest_of_draws())
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, timeout=300, capture_output=True, text=True
    )
    assert out.stdout.split()[-1] == REGRESSION


def test_a_pickled_function_goes_on_with_its_state() -> None:
    rng = fc.shared(np.random.default_rng(5), name="rng")
    next_rng, x = pt.random.gamma(2.0, size=(4,), rng=rng, return_next_rng=True)
    f = fc.function([], x, updates={rng: next_rng})
    f()
    g = pickle.loads(pickle.dumps(f))  # carries the state's value, [seed, 1]
    a, b = g(), g()
    assert np.array_equal(f(), a) and np.array_equal(f(), b)
    (state,) = g.shared_variables
    assert state.get_value().tolist() == [rng.get_value()[0], 3]
    # the loaded state is a random state still: it takes a generator or a seed
    assert isinstance(state, RandomGeneratorSharedVariable) and state.name == "rng"
    state.set_value(seed=5)
    rng.set_value(np.random.default_rng(5))
    assert np.array_equal(g(), f())


def test_functions_pickled_with_their_state_share_one_state() -> None:
    """A training function that advances a state and another that draws from it, pickled
    together with the state: loaded, they share one state again, and it is a random state."""
    rng = fc.shared(np.random.default_rng(42), name="rng")
    next_rng, x = pt.random.normal(0, 1, size=(3,), rng=rng, return_next_rng=True)
    f, g = fc.function([], x, updates={rng: next_rng}), fc.function([], x)
    f()
    f2, g2, rng2 = pickle.loads(pickle.dumps((f, g, rng)))
    assert isinstance(rng2, RandomGeneratorSharedVariable) and rng2.name == "rng"
    assert f2.shared_variables == [rng2] and g2.shared_variables == [rng2]
    assert np.array_equal(f2(), f()) and np.array_equal(g2(), g())  # both moved on together
    rng2.set_value(np.random.default_rng(1))
    rng.set_value(np.random.default_rng(1))
    assert np.array_equal(g2(), g())

    class Forged:  # a random state's pickle holding another value
        def __reduce__(self):
            from fncache.tensor.shared import _unpickle_shared

            return _unpickle_shared, (
                RandomGeneratorSharedVariable,
                np.zeros(2, np.uint32),
                "rng",
                (None,),
                False,
            )

    with pytest.raises(fc.PickleError, match="random state 'rng' is malformed: its value is uint32"):
        pickle.loads(pickle.dumps(Forged()))


# -- refusals -------------------------------------------------------------------------------------


def test_bad_rng_arguments_are_refused_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"normal: rng must be .*rng=fc.shared\(generator\)"):
        pt.random.normal(rng=np.random.default_rng(1))
    with pytest.raises(TypeError, match="not a random state; make one with pt.random.shared_rng"):
        pt.random.normal(rng=pt.dvector("v"))
    with pytest.raises(TypeError, match="make a random state with"):
        pt.random.normal(rng=5)
    with pytest.raises(ValueError, match="return_next_rng=True needs a random state"):
        pt.random.normal(rng=fc.RandomStream(1), return_next_rng=True)
    with pytest.raises(TypeError, match="return_next_rng must be True or False"):
        pt.random.normal(rng=pt.random.rng(), return_next_rng="yes")
    with pytest.raises(AttributeError, match=r"no 'default_rng'.*shared_rng\(seed=...\)"):
        pt.random.default_rng  # noqa: B018


def test_bad_state_values_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="give a numpy Generator, a state"):
        pt.random.shared_rng()
    with pytest.raises(ValueError, match="not both"):
        pt.random.shared_rng(np.random.default_rng(1), seed=1)
    with pytest.raises(ValueError, match="is not a seed np.random.default_rng takes"):
        pt.random.shared_rng(seed=-1)
    with pytest.raises(TypeError, match="RandomState.*np.random.default_rng"):
        fc.shared(np.random.RandomState(1))
    with pytest.raises(TypeError, match=r"np.random.Generator\(bit_generator\)"):
        pt.random.shared_rng(np.random.PCG64(1))
    with pytest.raises(TypeError, match="no shape to declare"):
        fc.shared(np.random.default_rng(1), shape=(2,))
    rng = pt.random.shared_rng(seed=1, name="rng")
    with pytest.raises(TypeError, match="dim 0 must have size 2"):
        rng.set_value(np.zeros(3, dtype=np.uint64))
    assert rng.get_value()[1] == 0
    # a RandomStream draw's counter is no random state
    counter = fc.RandomStream(1).normal().owner.inputs[0]
    with pytest.raises(TypeError, match=r"Only a random state \(fc.shared\(np.random.default_rng"):
        counter.set_value(np.random.default_rng(1))
    r = pt.random.rng("r")
    f = fc.function([r], pt.random.normal(rng=r))
    with pytest.raises(TypeError, match="RandomState"):
        f(np.random.RandomState(0))
    m = pt.dscalar("m")
    with pytest.raises(TypeError, match="no gradient"):
        fc.grad(pt.random.normal(m, rng=r), m)


def test_a_payload_claiming_a_random_state_for_another_value_is_refused(monkeypatch) -> None:
    from fncache.runtime import pickling

    w = fc.shared(np.arange(3.0), name="w")
    f = fc.function([], w * 2.0)
    monkeypatch.setattr(
        pickling,
        "_shared_record",
        lambda sv, beside: (sv.name, sv.get_value(), sv.type.shape, sv.strict, pickling.RANDOM_STATE),
    )
    data = fc.dumps(f)
    monkeypatch.undo()
    with pytest.raises(fc.PickleError, match="field 'shared'"):
        fc.loads(data)


# -- the same script under PyTensor ------------------------------------------------------------

_IDIOMS = """
import json, sys, warnings
import numpy as np
if sys.argv[1] == "pytensor":
    import pytensor
    import pytensor.tensor as pt
else:
    import fncache as pytensor
    import fncache.tensor as pt
warnings.simplefilter("ignore")
rng = pytensor.shared(np.random.default_rng(42))
out = pt.random.normal(0, 1, size=(3,), rng=rng, return_next_rng=True)
next_rng, x = out
res = {"pair": isinstance(out, tuple) and len(out) == 2}
res["owner_outputs"] = list(x.owner.outputs) == [next_rng, x]
res["draw_only"] = not isinstance(pt.random.normal(rng=rng), tuple)
frozen = pytensor.function([], x)
res["no_update_repeats"] = bool(np.array_equal(frozen(), frozen()))
f = pytensor.function([], x, updates={rng: next_rng})
saved = rng.get_value()
a, b = f(), f()
res["update_draws_new"] = not np.array_equal(a, b)
rng.set_value(saved)
res["set_value_replays"] = bool(np.array_equal(f(), a))
_, y = next_rng.normal(size=(3,))
xs, ys = pytensor.function([], [x, y])()
res["chained_differ"] = not np.array_equal(xs, ys)
s = pt.random.type.random_generator_type("s")
s_next, z = pt.random.normal(size=(2,), rng=s, return_next_rng=True)
h = pytensor.function([s], [s_next, z])
s1, z1 = h(rng.get_value())
res["input_not_changed"] = bool(np.array_equal(h(rng.get_value())[1], z1))
res["next_state_draws_new"] = not np.array_equal(h(s1)[1], z1)
rng.set_value(np.random.default_rng(7))
u = f()
rng.set_value(seed=7)
res["seed_is_default_rng"] = bool(np.array_equal(f(), u))
print(json.dumps(res))
"""


def test_the_idioms_behave_as_under_pytensor(tmp_path) -> None:
    """One script, run with ``import pytensor`` and with ``import fncache as pytensor``: every
    behaviour it checks (not the numbers, which differ) is PyTensor's."""
    pytest.importorskip("pytensor")
    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTENSOR_FLAGS=f"cxx=,mode=FAST_COMPILE,base_compiledir={tmp_path / 'pytensor'}",
    )
    results = {}
    for lib in ("pytensor", "fncache"):
        out = subprocess.run(
            [sys.executable, "-c", _IDIOMS, lib],
            env=env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        )
        results[lib] = out.stdout.split("\n")[-2]
    assert results["fncache"] == results["pytensor"]
    assert "false" not in results["fncache"]
