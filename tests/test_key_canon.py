"""A function's key names what it computes, not how the graph was written down:

* a subexpression written twice (two separate but equal nodes, equal constants) and written
  once (one node read twice) is one function entry, at any depth and across several outputs,
  whenever the mode merges equal nodes (the optimizer would make them one node anyway);
* ``updates`` given in another order are one function entry, and each function still stores
  each update in its own shared variable;
* what must stay apart does: two draws of a random stream are two draws, a ``Print``, a loop
  whose step prints or a user's Python op written twice runs twice, and a mode that does not
  merge keeps the graph as written.

Hits run with ``cache_verify_hits``: each hit is optimized again and compared with its entry.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.printing import Print
from fcutil import assert_same, fuzz_settings

pytestmark = pytest.mark.verify_hits

PY = fc.Mode(linker="py")


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def _counts() -> tuple[int, int]:
    kind = fc.cache.stats()["per_kind"].get("function", {})
    return int(kind.get("hits", 0)), int(kind.get("misses", 0))


def _compiles(build, mode=PY) -> tuple[list[fc.Function], int]:
    """The functions each ``build()`` returns the arguments of, compiled in order, and how many
    function entries they compiled (misses)."""
    before = _counts()[1]
    fs = [fc.function(*args, mode=mode, **kw) for args, kw in build]
    return fs, _counts()[1] - before


X = np.array([1.5, -2.0, 0.25])
Y = np.array([0.5, 3.0, -1.0])


def _twice_and_once():
    """(twice written, written once, numpy's values) of several outputs: a repeat, a nested
    repeat (the inner repeat inside the outer one), equal constants, a repeat across outputs."""
    x, y = ft.dvector("x"), ft.dvector("y")

    def written(k):  # every call makes new nodes and new constant objects
        return ft.exp((x + y) * 2.0 + 1.0) if k else x + y

    twice = [
        written(0) * written(0),
        (written(1) - written(0)) / (written(1) + written(0)),
        ft.sin(written(0)),
        ft.cos(written(0)) + 1.0,
    ]
    s, e = written(0), written(1)
    once = [s * s, (e - s) / (e + s), ft.sin(s), ft.cos(s) + 1.0]
    sv, ev = X + Y, np.exp((X + Y) * 2.0 + 1.0)
    want = [sv * sv, (ev - sv) / (ev + sv), np.sin(sv), np.cos(sv) + 1.0]
    return [x, y], twice, once, want


@pytest.mark.parametrize("mode", [PY, fc.Mode(linker="c")], ids=["py", "c"])
def test_a_subexpression_written_twice_or_once_is_one_compile(mode):
    ins, twice, once, want = _twice_and_once()
    (ft_twice, ft_once), misses = _compiles([((ins, twice), {}), ((ins, once), {})], mode)
    assert misses == 1 and ft_twice.cache_key == ft_once.cache_key
    for f in (ft_twice, ft_once):
        for got, w in zip(f(X, Y), want):
            assert_same(got, w)


def test_the_other_order_of_compiles_and_one_output_alone_hit_too():
    ins, twice, once, _ = _twice_and_once()
    (a, b, c, d), misses = _compiles(
        [((ins, once), {}), ((ins, twice), {}), ((ins, once[:1]), {}), ((ins, twice[:1]), {})]
    )
    assert misses == 2 and a.cache_key == b.cache_key and c.cache_key == d.cache_key != a.cache_key


def test_other_names_another_construction_order_and_a_pickled_graph_hit():
    def built(first_a: bool, names: str):
        x, y = ft.dvector(names[0]), ft.dvector(names[1])
        s = fc.shared(X.copy(), name=names[2])
        if first_a:
            a, b = ft.exp(x) * s, ft.sin(y) + 1.0
        else:
            b, a = ft.sin(y) + 1.0, ft.exp(x) * s
        return ([x, y], [a - b, a * b]), {"updates": [(s, s * 0.5)]}

    (args, kw) = built(True, "xys")
    args, kw["updates"] = pickle.loads(pickle.dumps((args, kw["updates"])))
    fs, misses = _compiles([built(True, "xys"), built(False, "xys"), built(False, "pqr"), (args, kw)])
    assert misses == 1 and len({f.cache_key for f in fs}) == 1
    for f in fs:
        a = np.exp(X) * X
        for got, want in zip(f(X, Y), (a - (np.sin(Y) + 1.0), a * (np.sin(Y) + 1.0))):
            assert_same(got, want)


def test_outputs_and_inputs_keep_their_order():
    x, y = ft.dvector("x"), ft.dvector("y")
    a, b = ft.exp(x) - y, x * y
    cases = (([x, y], [a, b]), ([x, y], [b, a]), ([y, x], [a, b]))
    assert len({fc.function(ins, outs, mode=PY).cache_key for ins, outs in cases}) == 3


@pytest.mark.parametrize("mode", [PY, fc.Mode(linker="c")], ids=["py", "c"])
def test_an_output_written_twice_listed_twice_or_viewed_is_its_own_array(mode):
    """Each output is an array of its own, as in PyTensor: writing one never changes another,
    also where two equal outputs became one node (they share a key)."""
    x, y = ft.dvector("x"), ft.dvector("y")
    a = ft.exp(x) - y
    builds = [
        (([x, y], [ft.exp(x) - y, ft.exp(x) - y]), {}),
        (([x, y], [a, a]), {}),
        (([x, y], [a, a.dimshuffle("x", 0)[0], a[::-1]]), {}),
    ]
    fs, misses = _compiles(builds, mode)
    assert misses == 2 and fs[0].cache_key == fs[1].cache_key
    want = np.exp(X) - Y
    for f in fs:
        outs = f(X, Y)
        outs[0][:] = 0.0
        for k, got in enumerate(outs[1:], 1):
            assert_same(got, want if k == 1 else want[::-1], f"output {k}")
            assert not np.shares_memory(got, outs[0])


def test_repeats_that_differ_in_a_constant_its_dtype_an_op_or_an_axis_stay_apart():
    """Two near-equal subexpressions are not one: the sign of a zero constant, a constant's
    dtype, the op, a reduction's axis. Each function computes numpy's value."""
    x, y, m = ft.dvector("x"), ft.fvector("y"), ft.dmatrix("m")
    yv, mv = Y.astype("float32"), np.arange(6.0).reshape(2, 3) - 2.5
    c32, c64 = np.float32(0.1), np.float64(0.1)
    cases = [  # (one subexpression, the near-equal one, numpy's values of both)
        (lambda: x * 0.0, lambda: x * -0.0, X * 0.0, X * -0.0),
        (lambda: y + ft.constant(c32), lambda: y + ft.constant(c64), yv + c32, yv + c64),
        (lambda: ft.maximum(x, -x), lambda: ft.minimum(x, -x), np.maximum(X, -X), np.minimum(X, -X)),
        (lambda: ft.sum(m, axis=0), lambda: ft.sum(m, axis=1)[[0, 1, 1]], mv.sum(0), mv.sum(1)[[0, 1, 1]]),
    ]
    for one, other, one_v, other_v in cases:
        a = one()
        near = fc.function([x, y, m], a + other(), mode=PY, on_unused_input="ignore")
        same = fc.function([x, y, m], a + a, mode=PY, on_unused_input="ignore")
        assert near.cache_key != same.cache_key
        assert_same(near(X, yv, mv), one_v + other_v)
        assert_same(same(X, yv, mv), one_v + one_v)


def test_a_mode_that_does_not_merge_keeps_the_graph_as_written():
    """Without `merge` (optimizer None, or excluding it) the function runs the nodes it was
    given: the repeat is its own entry, as the user asked."""
    ins, twice, once, want = _twice_and_once()
    for mode in (fc.Mode(linker="py", optimizer=None), PY.excluding("merge")):
        (f, g), misses = _compiles([((ins, twice), {}), ((ins, once), {})], mode)
        assert misses == 2 and f.cache_key != g.cache_key
        if mode.optimizer is None:
            assert len(f.optimized_graph.toposort()) > len(g.optimized_graph.toposort())
        for got, w in zip(f(X, Y), want):
            assert_same(got, w)


def test_errors_of_a_hit_name_the_line_of_the_function_that_hit():
    """The entry's nodes record which node of the canonical text they come from: a hit by a
    graph written another way (its repeat once) still names its own source lines."""
    x = ft.dvector("x")
    i = ft.lscalar("i")
    fc.function([x, i], (ft.exp(x * 2.0) + ft.exp(x * 2.0))[i], mode=PY)
    s = ft.exp(x * 2.0)
    once_v = (s + s)[i]  # THE LINE
    line = next(k for k, text in enumerate(open(__file__), 1) if "# THE LINE" in text and "next(" not in text)
    once = fc.function([x, i], once_v, mode=PY)
    assert _counts() == (1, 1)
    with config.change_flags(exception_verbosity="high"), pytest.raises(IndexError) as info:
        once(X, 7)
    assert f"line {line}" in str(info.value), str(info.value)


def test_errors_of_a_node_written_twice_name_both_lines():
    """Two equal nodes are one node of the optimized graph (and one node of the key's text): its
    error names the line of each, in this function and in one that hits its entry."""
    x = ft.dvector("x")
    i = ft.lscalar("i")
    lines = {}
    for attempt in range(2):  # the second compile is a hit
        first = ft.exp(x * 2.0)[i]  # FIRST COPY
        second = ft.exp(x * 2.0)[i]  # SECOND COPY
        f = fc.function([x, i], first + second, mode=PY)
        with config.change_flags(exception_verbosity="high"), pytest.raises(IndexError) as info:
            f(X, 7)
        for mark in ("FIRST COPY", "SECOND COPY"):
            lines[mark] = next(
                k for k, t in enumerate(open(__file__), 1) if f"# {mark}" in t and "for mark" not in t
            )
            assert f"line {lines[mark]}" in str(info.value), (attempt, str(info.value))
    assert _counts() == (1, 1)


# -- updates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [PY, fc.Mode(linker="c")], ids=["py", "c"])
def test_updates_in_any_order_are_one_compile_and_each_stores_its_own(mode):
    x = ft.dvector("x")
    start = {"a": X.copy(), "b": Y.copy(), "c": np.zeros(3), "m": np.ones(3), "v": np.full(3, 2.0)}
    sv = {k: fc.shared(v.copy(), name=k) for k, v in start.items()}
    a, b, c, m, v = sv.values()
    # a and b swap (each reads the other's old value), c reads both and v (a velocity: read by
    # an update only), m is read by nothing but its own update, of v's form
    pairs = [(a, b * 1.0), (b, a + x), (c, a * b + v), (m, m * 0.5 + x), (v, v * 0.5 + x)]

    def want(n_calls: int) -> dict[str, np.ndarray]:
        s = {k: val.copy() for k, val in start.items()}
        for _ in range(n_calls):
            s = {
                "a": s["b"] * 1.0,
                "b": s["a"] + X,
                "c": s["a"] * s["b"] + s["v"],
                "m": s["m"] * 0.5 + X,
                "v": s["v"] * 0.5 + X,
            }
        return s

    # every hit here is verified (optimized and, for C, compiled again): a few orders for C
    orders = list(itertools.permutations(range(5)))[:: 17 if mode.linker == "py" else 50]
    build = [(([x], (a * 2.0).sum() + c.sum()), {"updates": [pairs[k] for k in order]}) for order in orders]
    fs, misses = _compiles(build, mode)
    assert misses == 1 and len({f.cache_key for f in fs}) == 1
    for f in fs:
        for name, s in sv.items():
            s.set_value(start[name].copy())
        out = [f(X) for _ in range(2)]
        for name, s in sv.items():
            assert_same(s.get_value(), want(2)[name], name)
        assert_same(np.asarray(out[1]), np.asarray((want(1)["a"] * 2.0).sum() + want(1)["c"].sum()))


#: An update no output reads: (what it stores, the shared variables it reads); ``x`` is the input.
UPDATE_FORMS = {
    "scaled": (lambda s, x: s[0] * 0.5, 1),
    "shifted": (lambda s, x: s[0] + x, 1),
    "sum": (lambda s, x: s[0] + s[1], 2),
    "difference": (lambda s, x: s[0] - s[1], 2),
}


@fuzz_settings(10)
@given(st.data())
def test_updates_no_output_reads_are_one_compile_in_any_order(data):
    """Updates alike in type and in the form of their expression (``a <- b * 0.5``,
    ``b <- c * 0.5``) are told apart by what they read and what reads them: a chain, a swap,
    a variable read by another update or by none. Each function stores its own values."""
    n = data.draw(st.integers(3, 5), "shared variables")
    targets = data.draw(st.permutations(range(n)))[: data.draw(st.integers(2, n), "updates")]
    updates = []
    for t in targets:
        form = data.draw(st.sampled_from(sorted(UPDATE_FORMS)))
        reads = [data.draw(st.integers(0, n - 1)) for _ in range(UPDATE_FORMS[form][1])]
        updates.append((t, form, reads))
    start = [X * (k + 1) + k for k in range(n)]
    x = ft.dvector("x")
    sv = [fc.shared(v.copy(), name=f"s{k}") for k, v in enumerate(start)]
    pairs = [(sv[t], UPDATE_FORMS[form][0]([sv[r] for r in reads], x)) for t, form, reads in updates]
    want = [v.copy() for v in start]
    for t, form, reads in updates:
        want[t] = UPDATE_FORMS[form][0]([start[r] for r in reads], X)
    orders = [data.draw(st.permutations(range(len(pairs))), "order") for _ in range(3)]
    fs, misses = _compiles([(([x], x.sum()), {"updates": [pairs[k] for k in order]}) for order in orders])
    assert misses <= 1 and len({f.cache_key for f in fs}) == 1, updates
    for f in fs:
        for s, v in zip(sv, start):
            s.set_value(v.copy())
        f(X)
        for k, s in enumerate(sv):
            assert_same(s.get_value(), want[k], f"s{k} after {updates}")


def test_updates_as_a_dict_and_with_a_random_streams_counter_hit_in_any_order():
    rs = fc.RandomStream(3)
    x = ft.dvector("x")
    a, b = fc.shared(np.zeros(3), name="a"), fc.shared(np.zeros(3), name="b")
    draw = rs.normal(size=(3,))
    fs, misses = _compiles(
        [
            (([x], draw + x), {"updates": {a: a + draw, b: b - x}}),
            (([x], draw + x), {"updates": {b: b - x, a: a + draw}}),
        ]
    )
    assert misses == 1 and fs[0].cache_key == fs[1].cache_key
    a.set_value(np.zeros(3))
    got = fs[1](X)
    assert_same(a.get_value(), got - X) and assert_same(b.get_value(), -X)


def test_updates_that_compute_different_things_do_not_share_a_key():
    x = ft.dvector("x")
    a, b = fc.shared(np.zeros(3), name="a"), fc.shared(np.zeros(3), name="b")
    out = (a - b).sum()
    f = fc.function([x], out, updates=[(a, a + x), (b, b * 2.0)], mode=PY)
    g = fc.function([x], out, updates=[(a, a * 2.0), (b, b + x)], mode=PY)
    assert f.cache_key != g.cache_key
    f(X)
    assert_same(a.get_value(), X) and assert_same(b.get_value(), np.zeros(3))


# -- what is never one node ----------------------------------------------------------------------


def test_two_draws_of_a_random_stream_stay_two_draws():
    rs = fc.RandomStream(11)
    two = rs.normal(size=(4,)), rs.normal(size=(4,))
    f_two = fc.function([], two[0] - two[1], mode=PY)
    f_one = fc.function([], two[0] - two[0], mode=PY)
    assert f_two.cache_key != f_one.cache_key
    assert np.all(f_two() != 0.0) and np.all(f_one() == 0.0)
    for draw in (lambda: rs.uniform(size=(4,)), lambda: ft.random.uniform(size=(4,))):
        u, w = fc.function([], [draw(), draw()], mode=PY)()
        assert not np.array_equal(u, w)


def test_draws_from_one_random_state_are_one_value_as_in_pytensor():
    """A draw is a function of the state it reads (PyTensor's functional draws): two equal draws
    from one state are the same numbers, so the graph written twice is the graph written once;
    a draw from the next state is another draw."""
    rng = fc.shared(np.random.default_rng(5))
    nxt, first = ft.random.normal(0.0, 1.0, size=(4,), rng=rng, return_next_rng=True)
    again = ft.random.normal(0.0, 1.0, size=(4,), rng=rng)
    later = ft.random.normal(0.0, 1.0, size=(4,), rng=nxt)
    for mode in (PY, fc.Mode(linker="py", optimizer=None)):
        f = fc.function([], [first, again, later], mode=mode)
        a, b, c = f()
        assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert (
        fc.function([], first - again, mode=PY).cache_key == fc.function([], first - first, mode=PY).cache_key
    )


def test_pytensor_draws_from_one_state_are_one_value_too():
    """What the test above takes from PyTensor: its two equal draws from one state agree."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    state = pytensor.shared(np.random.default_rng(5))
    draws = [pt.random.normal(0.0, 1.0, size=(4,), rng=state, return_next_rng=True)[1] for _ in range(2)]
    a, b = pytensor.function([], draws, mode="FAST_COMPILE")()
    assert np.array_equal(a, b)


def test_a_print_a_loop_that_prints_or_a_python_op_written_twice_runs_twice(capsys):
    """Never one node, nor one key with the graph that has one of them: each runs where it was
    put (a loop whose step prints was once made one loop, printing once per step)."""
    x = ft.dvector("x")
    calls = []

    @ft.as_op(ft.dvector().type, ft.dvector().type)
    def counted(a):
        calls.append(1)
        return a * 2

    def scanned():  # a loop whose step prints: the loop has the print's side effects
        return fc.scan(lambda a: Print("step")(a) * 1.0, sequences=[x])[0]

    p, loop = Print("seen")(x), scanned()
    cases = [
        (Print("seen")(x) + Print("seen")(x), p + p, "seen __str__"),
        (scanned() + scanned(), loop + loop, "step __str__"),
        (counted(x) + counted(x), None, None),
    ]
    for twice, once, text in cases:
        calls.clear()
        f = fc.function([x], twice, mode=PY)
        assert_same(f(X), 2 * X if once is not None else 4 * X)
        if once is None:
            assert len(calls) == 2
            continue
        g = fc.function([x], once, mode=PY)
        assert g.cache_key != f.cache_key
        capsys.readouterr()
        f(X[:1])
        assert capsys.readouterr().out.count(text) == 2, text
        g(X[:1])
        assert capsys.readouterr().out.count(text) == 1, text
