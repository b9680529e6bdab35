"""No false hits: two functions that compute different things never share a function entry.

Each pair below differs in exactly one detail: a constant's value, dtype or shape (the sign of a
zero, a NaN's sign, 1, 1.0 and True), an op's parameter (an axis, keepdims, a dtype, a mode, a
rounding mode, a slice bound, the order of a non-commutative op's inputs), an input's static
shape, an inner graph (a loop's step, a lazy branch), the function's input order, output
order, givens, a state input's update, a random stream's seed, the mode and floatX, and a
user's op attribute its
``__props__`` leave out. Both are compiled into one
compiledir, the second after the first is stored; their keys must differ and each must compute
numpy's value. A property test puts the pairs in random surroundings (other outputs, a near-equal
repeat of the first side, another input order, a mode that does not merge), and one subprocess
compiles the second sides from a compiledir this process filled with the first ones.

What a function entry does not hold is wired by each function itself, so functions alike but
for it share the entry and still compute their own values: which shared variable an update is
stored into, a default value, a shared variable's value, ``on_unused_input``, ``accept_inplace``, ``profile``,
``trust_input``, the function's name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.ifelse import ifelse
from fcutil import assert_same, fuzz_settings

PY = fc.Mode(linker="py")

X = np.array([[0.0, -0.0, np.nan, np.inf], [-np.inf, 1.0, -1.5, 2.5], [1e300, -3.0, 0.25, 7.5]])
V = np.array([3.0, -1.0, 2.5, -0.5])
N = np.array([2, -3, 7, 0])
F = np.array([0.5, -0.0, 3.0, -2.0], dtype="float32")
ARGS = (X, V, N, F)
#: The NaN numpy makes, the same with its sign bit set, and one with another payload.
NAN = np.float64(np.nan)
NEG_NAN = np.copysign(NAN, -1.0)
OTHER_NAN = np.array([0x7FF8000000000ABC], dtype="uint64").view("float64")[0]


def fresh() -> tuple[Any, ...]:
    """New symbolic inputs of the types of ``ARGS`` (x matrix, v vector, i int vector, f float32)."""
    return ft.dmatrix("x"), ft.dvector("v"), ft.lvector("i"), ft.fvector("f")


class Pair(NamedTuple):
    """Two expressions (symbolic and numpy, of ``(x, v, i, f)``) differing in one detail."""

    name: str
    sym: tuple[Callable[..., Any], Callable[..., Any]]
    num: tuple[Callable[..., Any], Callable[..., Any]]
    #: compare every bit of the values with numpy's (a NaN's payload too)
    exact: bool = False


def _half_away(a: np.ndarray) -> np.ndarray:
    return np.copysign(np.floor(np.abs(a) + 0.5), a)


def _diag_filled(a: np.ndarray, value: float) -> np.ndarray:
    out = a.copy()
    np.fill_diagonal(out, value)
    return out


def _cumsum_loop(go_backwards: bool) -> Callable[..., Any]:
    def build(x, v, i, f):
        return fc.scan(
            lambda a, acc: acc + a, sequences=[v], outputs_info=[ft.constant(0.0)], go_backwards=go_backwards
        )[0]

    return build


def _inner_graph(c: float) -> Callable[..., Any]:
    def build(x, v, i, f):
        a = ft.dvector()
        return fc.OpFromGraph([a], [a * c])(v)

    return build


PAIRS = [
    # constants: value, dtype, shape
    Pair(
        "zero sign",
        (lambda x, v, i, f: v * 0.0, lambda x, v, i, f: v * -0.0),
        (lambda X, V, N, F: V * 0.0, lambda X, V, N, F: V * -0.0),
    ),
    Pair(
        "NaN sign",
        (
            lambda x, v, i, f: ft.copysign(v, ft.constant(NAN)),
            lambda x, v, i, f: ft.copysign(v, ft.constant(NEG_NAN)),
        ),
        (lambda X, V, N, F: np.copysign(V, NAN), lambda X, V, N, F: np.copysign(V, NEG_NAN)),
    ),
    Pair(
        "NaN payload",
        (lambda x, v, i, f: v + ft.constant(NAN), lambda x, v, i, f: v + ft.constant(OTHER_NAN)),
        (lambda X, V, N, F: V + NAN, lambda X, V, N, F: V + OTHER_NAN),
        exact=True,
    ),
    Pair(
        "int, float, bool",
        (lambda x, v, i, f: i + 1, lambda x, v, i, f: i + 1.0),
        (lambda X, V, N, F: N + 1, lambda X, V, N, F: N + 1.0),
    ),
    Pair(
        "True or int8 one",
        (
            lambda x, v, i, f: (i > 0) + ft.constant(True),
            lambda x, v, i, f: (i > 0) + ft.constant(np.int8(1)),
        ),
        (lambda X, V, N, F: (N > 0) + True, lambda X, V, N, F: (N > 0) + np.int8(1)),
    ),
    Pair(
        "float32 or float64 constant",
        (
            lambda x, v, i, f: f + ft.constant(np.float32(0.1)),
            lambda x, v, i, f: f + ft.constant(np.float64(0.1)),
        ),
        (lambda X, V, N, F: F + np.float32(0.1), lambda X, V, N, F: F + np.float64(0.1)),
    ),
    Pair(
        "constant shape",
        (lambda x, v, i, f: v + ft.constant(np.ones(1)), lambda x, v, i, f: v[:1] + ft.constant(np.ones(()))),
        (lambda X, V, N, F: V + np.ones(1), lambda X, V, N, F: V[:1] + np.ones(())),
    ),
    Pair(
        "a big int",
        (lambda x, v, i, f: i * 2**40, lambda x, v, i, f: i * (2**40 + 1)),
        (lambda X, V, N, F: N * 2**40, lambda X, V, N, F: N * (2**40 + 1)),
    ),
    # op parameters
    Pair(
        "sum axis",
        (lambda x, v, i, f: ft.sum(x[:, :3], axis=0), lambda x, v, i, f: ft.sum(x[:, :3], axis=1)),
        (lambda X, V, N, F: X[:, :3].sum(0), lambda X, V, N, F: X[:, :3].sum(1)),
    ),
    Pair(
        "keepdims",
        (lambda x, v, i, f: ft.max(v, keepdims=True), lambda x, v, i, f: ft.max(v)),
        (lambda X, V, N, F: V.max(keepdims=True), lambda X, V, N, F: V.max()),
    ),
    Pair(
        "argmax axis",
        (lambda x, v, i, f: ft.argmax(x[1:, 1:], axis=0), lambda x, v, i, f: ft.argmax(x[1:, 1:], axis=1)),
        (lambda X, V, N, F: X[1:, 1:].argmax(0), lambda X, V, N, F: X[1:, 1:].argmax(1)),
    ),
    Pair(
        "cast dtype",
        (lambda x, v, i, f: ft.cast(v, "int8"), lambda x, v, i, f: ft.cast(v, "int16")),
        (lambda X, V, N, F: V.astype("int8"), lambda X, V, N, F: V.astype("int16")),
    ),
    Pair(
        "sum dtype",
        (lambda x, v, i, f: ft.sum(f, dtype="float32"), lambda x, v, i, f: ft.sum(f, dtype="float64")),
        (lambda X, V, N, F: F.sum(dtype="float32"), lambda X, V, N, F: F.sum(dtype="float64")),
    ),
    Pair(
        "rounding mode",
        (
            lambda x, v, i, f: ft.round(v * 1.5, mode="half_to_even"),
            lambda x, v, i, f: ft.round(v * 1.5, mode="half_away_from_zero"),
        ),
        (lambda X, V, N, F: np.round(V * 1.5), lambda X, V, N, F: _half_away(V * 1.5)),
    ),
    Pair(
        "fmod or mod",
        (lambda x, v, i, f: ft.fmod(v, 2.0), lambda x, v, i, f: ft.mod(v, 2.0)),
        (lambda X, V, N, F: np.fmod(V, 2.0), lambda X, V, N, F: np.mod(V, 2.0)),
    ),
    Pair(
        "take mode",
        (lambda x, v, i, f: ft.take(v, i, mode="clip"), lambda x, v, i, f: ft.take(v, i, mode="wrap")),
        (lambda X, V, N, F: np.take(V, N, mode="clip"), lambda X, V, N, F: np.take(V, N, mode="wrap")),
    ),
    Pair(
        "pad mode",
        (lambda x, v, i, f: ft.pad(v, 1, mode="edge"), lambda x, v, i, f: ft.pad(v, 1, mode="reflect")),
        (lambda X, V, N, F: np.pad(V, 1, mode="edge"), lambda X, V, N, F: np.pad(V, 1, mode="reflect")),
    ),
    Pair(
        "equal_nan",
        (lambda x, v, i, f: ft.isclose(x, x), lambda x, v, i, f: ft.isclose(x, x, equal_nan=True)),
        (lambda X, V, N, F: np.isclose(X, X), lambda X, V, N, F: np.isclose(X, X, equal_nan=True)),
    ),
    Pair(
        "maximum or fmax",
        (lambda x, v, i, f: ft.maximum(x, 0.0), lambda x, v, i, f: ft.fmax(x, 0.0)),
        (lambda X, V, N, F: np.maximum(X, 0.0), lambda X, V, N, F: np.fmax(X, 0.0)),
    ),
    Pair(
        "operand order",
        (lambda x, v, i, f: v - v[::-1], lambda x, v, i, f: v[::-1] - v),
        (lambda X, V, N, F: V - V[::-1], lambda X, V, N, F: V[::-1] - V),
    ),
    Pair(
        "concatenate order",
        (lambda x, v, i, f: ft.concatenate([v, v * 2.0]), lambda x, v, i, f: ft.concatenate([v * 2.0, v])),
        (lambda X, V, N, F: np.concatenate([V, V * 2]), lambda X, V, N, F: np.concatenate([V * 2, V])),
    ),
    Pair(
        "switch branches",
        (lambda x, v, i, f: ft.switch(v > 0, v, -v), lambda x, v, i, f: ft.switch(v > 0, -v, v)),
        (lambda X, V, N, F: np.where(V > 0, V, -V), lambda X, V, N, F: np.where(V > 0, -V, V)),
    ),
    Pair(
        "slice stop",
        (lambda x, v, i, f: v[1:3], lambda x, v, i, f: v[1:4]),
        (lambda X, V, N, F: V[1:3], lambda X, V, N, F: V[1:4]),
    ),
    Pair(
        "slice step",
        (lambda x, v, i, f: v[::2], lambda x, v, i, f: v[::-2]),
        (lambda X, V, N, F: V[::2], lambda X, V, N, F: V[::-2]),
    ),
    Pair(
        "negative start",
        (lambda x, v, i, f: v[-1:], lambda x, v, i, f: v[-2:]),
        (lambda X, V, N, F: V[-1:], lambda X, V, N, F: V[-2:]),
    ),
    Pair(
        "set or increment",
        (lambda x, v, i, f: ft.set_subtensor(v[1:3], 5.0), lambda x, v, i, f: ft.inc_subtensor(v[1:3], 5.0)),
        (
            lambda X, V, N, F: np.r_[V[:1], 5.0, 5.0, V[3:]],
            lambda X, V, N, F: np.r_[V[:1], V[1:3] + 5.0, V[3:]],
        ),
    ),
    Pair(
        "tril k",
        (lambda x, v, i, f: ft.tril(x, 0), lambda x, v, i, f: ft.tril(x, 1)),
        (lambda X, V, N, F: np.tril(X, 0), lambda X, V, N, F: np.tril(X, 1)),
    ),
    Pair(
        "cumsum axis",
        (lambda x, v, i, f: ft.cumsum(x, axis=0), lambda x, v, i, f: ft.cumsum(x, axis=1)),
        (lambda X, V, N, F: np.cumsum(X, 0), lambda X, V, N, F: np.cumsum(X, 1)),
    ),
    Pair(
        "diagonal value",
        (lambda x, v, i, f: ft.fill_diagonal(x, 0.0), lambda x, v, i, f: ft.fill_diagonal(x, -0.0)),
        (lambda X, V, N, F: _diag_filled(X, 0.0), lambda X, V, N, F: _diag_filled(X, -0.0)),
    ),
    Pair(
        "nan_to_num value",
        (lambda x, v, i, f: ft.nan_to_num(x, nan=0.0), lambda x, v, i, f: ft.nan_to_num(x, nan=-0.0)),
        (lambda X, V, N, F: np.nan_to_num(X, nan=0.0), lambda X, V, N, F: np.nan_to_num(X, nan=-0.0)),
    ),
    Pair(
        "broadcast pattern",
        (lambda x, v, i, f: v.dimshuffle(0, "x"), lambda x, v, i, f: v.dimshuffle("x", 0)),
        (lambda X, V, N, F: V[:, None], lambda X, V, N, F: V[None, :]),
    ),
    Pair(
        "reshape",
        (lambda x, v, i, f: x.reshape((4, 3)), lambda x, v, i, f: x.T),
        (lambda X, V, N, F: X.reshape(4, 3), lambda X, V, N, F: X.T),
    ),
    # inner graphs
    Pair(
        "loop direction",
        (_cumsum_loop(False), _cumsum_loop(True)),
        (lambda X, V, N, F: np.cumsum(V), lambda X, V, N, F: np.cumsum(V[::-1])),
    ),
    Pair(
        "inner graph constant",
        (_inner_graph(0.0), _inner_graph(-0.0)),
        (lambda X, V, N, F: V * 0.0, lambda X, V, N, F: V * -0.0),
    ),
    Pair(
        "lazy branches",
        (
            lambda x, v, i, f: ifelse(v.sum() > 0, v * 2.0, v * 3.0),
            lambda x, v, i, f: ifelse(v.sum() > 0, v * 3.0, v * 2.0),
        ),
        (lambda X, V, N, F: V * 2.0, lambda X, V, N, F: V * 3.0),
    ),
]


# -- checks ---------------------------------------------------------------------------------------


def differ(a: Any, b: Any, exact: bool = False) -> bool:
    """Whether two values differ in dtype, shape or any bit (a NaN's sign and payload only when
    ``exact``: numpy's kernels for one value may differ in them)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return True
    if a.dtype.kind == "f" and not exact:
        a, b = (np.where(np.isnan(t), np.nan, t).astype(t.dtype) for t in (a, b))
    return a.tobytes() != b.tobytes()


def check(got: Any, want: Any, exact: bool, what: str) -> None:
    assert_same(np.asarray(got), np.asarray(want), what)
    if exact:
        assert not differ(got, want, exact=True), f"{what}: {np.asarray(got)!r} is not bit for bit {want!r}"


def _function_counts() -> tuple[int, int]:
    kind = fc.cache.stats()["per_kind"].get("function", {})
    return int(kind.get("hits", 0)), int(kind.get("misses", 0))


def _values(pair: Pair, side: int) -> Any:
    with np.errstate(all="ignore"):
        return pair.num[side](*ARGS)


def compiled_side(pair: Pair, side: int, mode: fc.Mode = PY) -> fc.Function:
    x, v, i, f = fresh()
    return fc.function([x, v, i, f], pair.sym[side](x, v, i, f), mode=mode, on_unused_input="ignore")


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path: Path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_a_detail_that_changes_the_values_changes_the_key(pair: Pair) -> None:
    wants = [_values(pair, side) for side in (0, 1)]
    assert differ(*wants, exact=pair.exact), f"{pair.name}: numpy gives both sides one value"
    first = compiled_side(pair, 0)
    second = compiled_side(pair, 1)  # compiled after the first is stored
    assert first.cache_key != second.cache_key, f"{pair.name}: two computations share a key"
    again = compiled_side(pair, 0)
    assert again.cache_key == first.cache_key, f"{pair.name}: the first side built again has another key"
    for f, want, what in (
        (first, wants[0], "first"),
        (second, wants[1], "second"),
        (again, wants[0], "again"),
    ):
        check(f(*ARGS), want, pair.exact, f"{pair.name}, {what}")


# -- in random surroundings -----------------------------------------------------------------------

#: How each side is compiled: alone; after an output that does not read it; as the second of
#: two outputs whose first is the first side built again (the first side is then written twice,
#: one node under a merging mode, and the second side is a near-equal repeat of it).
CONTEXTS = ("alone", "beside", "repeat")
MODES = (PY, fc.Mode(linker="py", optimizer="fast_compile"), fc.Mode(linker="py", optimizer=None))


def _in_context(
    pair: Pair, side: int, context: str, order: tuple[int, ...], mode: fc.Mode
) -> tuple[fc.Function, list[Any]]:
    """``pair``'s ``side`` compiled in ``context``, its inputs listed in ``order``, and numpy's values."""
    ins = fresh()
    built = pair.sym[side](*ins)
    want = _values(pair, side)
    if context == "alone":
        outs, wants = [built], [want]
    elif context == "beside":
        outs, wants = [ins[1] * 2.0, built], [V * 2.0, want]
    else:
        outs, wants = [pair.sym[0](*ins), built], [_values(pair, 0), want]
    f = fc.function([ins[k] for k in order], outs, mode=mode, on_unused_input="ignore")
    return f, wants


@fuzz_settings(25)
@given(
    st.sampled_from(PAIRS),
    st.sampled_from(CONTEXTS),
    st.permutations(range(4)),
    st.sampled_from(MODES),
)
def test_pairs_in_random_surroundings_keep_their_own_keys_and_values(pair, context, order, mode) -> None:
    made = [_in_context(pair, side, context, tuple(order), mode) for side in (0, 1, 0)]
    (first, want_first), (second, want_second), (again, _) = made
    assert first.cache_key != second.cache_key, f"{pair.name} ({context}, {order}, {mode}): one key"
    assert again.cache_key == first.cache_key, (
        f"{pair.name} ({context}, {order}, {mode}): built again, another key"
    )
    args = [ARGS[k] for k in order]
    for f, wants, what in (
        (first, want_first, "first"),
        (second, want_second, "second"),
        (again, want_first, "again"),
    ):
        for k, (got, want) in enumerate(zip(f(*args), wants)):
            check(got, want, pair.exact, f"{pair.name} ({context}, {mode}), {what}, output {k}")


# -- what fc.function is given besides the outputs ------------------------------------------------

XV, YV = np.array([1.5, -2.0, 0.25]), np.array([0.5, 3.0, -1.0])


def _inputs_listed(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, y] if side == 0 else [y, x], x - y, mode=PY)
    return f, lambda f: (f(XV, YV), XV - YV if side == 0 else YV - XV)


def _outputs_listed(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, y = ft.dvector("x"), ft.dvector("y")
    outs, wants = [x - y, x * y], [XV - YV, XV * YV]
    f = fc.function([x, y], outs[::-1] if side else outs, mode=PY)
    return f, lambda f: (f(XV, YV), wants[::-1] if side else wants)


def _given(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, y, z = ft.dvector("x"), ft.dvector("y"), ft.dvector("z")
    f = fc.function([x, y], x * z, givens={z: y if side else x}, mode=PY, on_unused_input="ignore")
    return f, lambda f: (f(XV, YV), XV * (YV if side else XV))


def _state_update(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, acc = ft.dvector("x"), ft.dvector("acc")
    state = fc.In(acc, value=np.zeros(3), update=acc - x if side else acc + x)
    f = fc.function([x, state], acc, mode=PY)
    return f, lambda f: ([f(XV), f(XV)][1], -XV if side else XV)


def _mode(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2.0, mode=[PY, fc.Mode(linker="py", optimizer=None)][side])
    return f, lambda f: (f(XV), np.exp(XV) * 2.0)


def _float_x(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    with config.change_flags(floatX=["float64", "float32"][side]):
        x = ft.scalar("x")
        f = fc.function([x], x * 0.1, mode=PY)
    dtype = ["float64", "float32"][side]
    return f, lambda f: (f(1.5), np.asarray(1.5, dtype) * np.asarray(0.1, dtype))


def _static_shape(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    # a row declared broadcastable (size 1) or of unknown size: the second fails on a 2-row x
    x, y = ft.TensorType("float64", [(1, None), (None, None)][side])("x"), ft.dmatrix("y")
    f = fc.function([x, y], (x + y).sum(axis=0), mode=PY)
    xv, yv = np.arange(3.0)[None], np.ones((2, 3))
    return f, lambda f: (f(xv, yv), (xv + yv).sum(axis=0))


def _seed(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    f = fc.function([], fc.RandomStream([3, 4][side]).normal(size=(4,)), mode=PY)
    # the draws of a stream seeded so, from a compiledir of their own
    with config.change_flags(compiledir=str(Path(config.compiledir) / f"alone{side}")):
        want = fc.function([], fc.RandomStream([3, 4][side]).normal(size=(4,)), mode=PY)()
    return f, lambda f: (f(), want)


FUNCTION_DETAILS = {
    "input order": _inputs_listed,
    "output order": _outputs_listed,
    "givens": _given,
    "a state input's update": _state_update,
    "mode": _mode,
    "floatX": _float_x,
    "static shape of an input": _static_shape,
    "a random stream's seed": _seed,
}


@pytest.mark.parametrize("detail", FUNCTION_DETAILS)
def test_what_the_function_is_given_keys_it_too(detail: str) -> None:
    made = [FUNCTION_DETAILS[detail](side) for side in (0, 1)]
    assert made[0][0].cache_key != made[1][0].cache_key, detail
    for k, (f, run) in enumerate(made):
        got, want = run(f)
        for g, w in zip(*((got, want) if isinstance(got, list) else ([got], [want]))):
            assert_same(np.asarray(g), w, f"{detail}, side {k}")


def _update_into(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x = ft.dvector("x")
    a, b = fc.shared(np.zeros(3), name="a"), fc.shared(np.zeros(3), name="b")
    f = fc.function([x], (a - b).sum(), updates=[((a, b)[side], x * 2.0)], mode=PY)

    def run(f: fc.Function) -> tuple[Any, Any]:
        f(XV)
        stored = [np.zeros(3), np.zeros(3)]
        stored[side] = XV * 2.0
        return [f(XV), a.get_value(), b.get_value()], [stored[0].sum() - stored[1].sum(), *stored]

    return f, run


def _swapped_or_kept(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x = ft.dvector("x")
    a, b = fc.shared(XV.copy(), name="a"), fc.shared(YV.copy(), name="b")
    f = fc.function(
        [x], x.sum(), updates=[(a, b * 1.0), (b, a * 1.0)] if side else [(a, a * 1.0), (b, b * 1.0)], mode=PY
    )

    def run(f: fc.Function) -> tuple[Any, Any]:
        f(XV)
        return [a.get_value(), b.get_value()], [YV, XV] if side else [XV, YV]

    return f, run


def _default(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, fc.In(y, value=[XV, YV][side])], x + y, mode=PY)
    return f, lambda f: ([f(XV)], [XV + [XV, YV][side]])


def _shared_value(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
    x, s = ft.dvector("x"), fc.shared([XV, YV][side].copy(), name="s")
    f = fc.function([x], x * s, mode=PY)
    return f, lambda f: ([f(XV)], [XV * [XV, YV][side]])


def _keyword(name: str, value: Any) -> Callable[[int], tuple[fc.Function, Callable[[fc.Function], Any]]]:
    def made(side: int) -> tuple[fc.Function, Callable[[fc.Function], Any]]:
        x, y = ft.dvector("x"), ft.dvector("y")
        f = fc.function([x, y], x - y, mode=PY, **({name: value} if side else {}))
        return f, lambda f: ([f(XV, YV)], [XV - YV])

    return made


#: Details a function entry (the optimized graph) does not hold: each function wires them.
WIRED_DETAILS = {
    "the shared variable an update is stored into": _update_into,
    "updates swapped or kept": _swapped_or_kept,
    "a default value": _default,
    "a shared variable's value": _shared_value,
    "on_unused_input": _keyword("on_unused_input", "ignore"),
    "accept_inplace": _keyword("accept_inplace", True),
    "profile": _keyword("profile", True),
    "trust_input": _keyword("trust_input", True),
    "name": _keyword("name", "g"),
}


@pytest.mark.parametrize("detail", WIRED_DETAILS)
def test_what_the_entry_does_not_hold_each_function_wires_itself(detail: str) -> None:
    made = [WIRED_DETAILS[detail](side) for side in (0, 1)]
    assert made[0][0].cache_key == made[1][0].cache_key, f"{detail}: a needless miss"
    for k, (f, run) in enumerate(made):
        got, want = run(f)
        for g, w in zip(got, want):
            assert_same(np.asarray(g), np.asarray(w), f"{detail}, side {k}")


# -- another process ------------------------------------------------------------------------------

_SECOND_PROCESS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import test_key_false_hits as t
from fncache.config import config
with config.change_flags(compiledir=sys.argv[2]):
    print(json.dumps(t.second_sides()))
"""


def second_sides() -> dict[str, Any]:
    """What another process makes of the compiledir the first sides were stored in: each
    pair's second side (checked against numpy here) and its first side again, by key, and the
    first sides that missed their entries."""
    keys: dict[str, list[str]] = {}
    missed = []
    for pair in PAIRS:
        second = compiled_side(pair, 1)
        check(second(*ARGS), _values(pair, 1), pair.exact, f"{pair.name}, second side in another process")
        before = _function_counts()[1]
        keys[pair.name] = [second.cache_key, compiled_side(pair, 0).cache_key]
        if _function_counts()[1] != before:
            missed.append(pair.name)
    return {"keys": keys, "missed": missed}


def test_another_process_gets_its_own_values_from_a_compiledir_this_one_filled(tmp_path: Path) -> None:
    compiledir = tmp_path / "shared"
    with config.change_flags(compiledir=str(compiledir)):
        first = {pair.name: compiled_side(pair, 0).cache_key for pair in PAIRS}
    env = {**os.environ, "FNCACHE_FLAGS": ""}
    done = subprocess.run(
        [sys.executable, "-c", _SECOND_PROCESS, str(Path(__file__).parent), str(compiledir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (second, again) in found["keys"].items():
        assert second != first[name], f"{name}: the second side shares the first's key in another process"
        assert again == first[name], f"{name}: the first side has another key in another process"
    assert found["missed"] == [], "another process missed these first sides' entries"


# -- users' ops ------------------------------------------------------------------------------------


class _Scale(fc.Op):
    """A Theano-style op whose ``__props__`` leave out the attribute it computes with."""

    __props__ = ()

    def __init__(self, k: float) -> None:
        self.k = k

    def make_node(self, x: Any) -> Any:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.k


class _Cast(fc.Op):
    """An op whose output type its ``make_node`` reads from an attribute ``__props__`` leave out."""

    __props__ = ()

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, x: Any) -> Any:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [ft.TensorType(self.dtype, x.type.shape)()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0].astype(self.dtype)


@pytest.mark.parametrize(
    "make, values",
    [
        (lambda: (_Scale(2.0), _Scale(3.0)), (V * 2.0, V * 3.0)),
        (lambda: (_Cast("float32"), _Cast("int64")), (V.astype("float32"), V.astype("int64"))),
    ],
    ids=["an attribute", "an output type"],
)
def test_users_ops_that_differ_in_what_their_props_leave_out_keep_apart(make, values) -> None:
    """In PyTensor two such ops compile to two functions that each compute their own values (its
    cache holds C code, not graphs): so must they here, where a hit loads the other's graph."""
    fs = []
    for op, want in zip(make(), values):
        v = ft.dvector("v")
        fs.append(fc.function([v], op(v), mode=PY))
        assert_same(fs[-1](V), want, f"{op}")
    assert fs[0].cache_key != fs[1].cache_key
    again = fc.function([v], make()[0](v), mode=PY)
    assert again.cache_key == fs[0].cache_key, "an equal op built again has another key"
