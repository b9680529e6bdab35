"""No false hit from state a user's op reads that changes between two compiles, in one process
or two, and no compile per run from state its code writes.

* An op's own attributes changed after a function was compiled with it (``op.factor = 3``, an
  item of a list it holds, an attribute of an object it holds, a prop of an op declaring
  ``__props__``; an ``as_op`` function's closure): the next compile keys it by its state then,
  and computes numpy's values; set back, it hits the first entry.
  The same inside an ``OpFromGraph`` or a scan's step made once; an op holding an array of
  objects (what its items hold cannot be compared) is compiled anew each time.
* State the op's code writes through calls (``np.copyto(BUF, x)``, ``out=BUF``, a helper
  writing its argument, a local name for a module list, ``self.buf.fill(0)``, a class list
  appended through ``self``) marks it as writing state: it is never run at compile time, and
  a compile after it ran hits the entry of the compile before; the hit runs the user's own op
  object, so state it keeps on itself (a running total) is the user's.
* A value larger than ``canonical.MAX_COMPARED`` read by the op (a module array, an array
  the op holds, an ``as_op`` closure's array) changed in place: a new key, numpy's values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.graph.basic import has_side_effects
from fncache.graph.canonical import MAX_COMPARED, writes_state
from fcutil import assert_same, function_misses, in_tests_dir, run_python

PY = fc.Mode(linker="py")
V = np.array([1.5, -2.25, 3.0, 4.0])
#: Above the contents a key compares item by item: hashed in full.
BIG = MAX_COMPARED // 8 + 1000


class Unary(fc.Op):
    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])


# -- an op's own state ---------------------------------------------------------------------------


class Factor(Unary):
    """Its input times the attribute ``factor`` (no ``__props__``)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.factor


class PropFactor(Factor):
    """``Factor`` declaring ``factor`` its prop, as PyTensor's ops do."""

    __props__ = ("factor",)


class TableFactor(Unary):
    """Its input times the first item of a list it holds."""

    def __init__(self) -> None:
        self.table = [2.0]

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.table[0]


class Settings:
    def __init__(self) -> None:
        self.factor = 2.0


class NestedFactor(Unary):
    """Its input times an attribute of an object it holds."""

    def __init__(self) -> None:
        self.settings = Settings()

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.settings.factor


class BigFactor(Unary):
    """Its input times the first item of an array it holds, larger than a key compares item
    by item."""

    def __init__(self) -> None:
        self.weights = np.full(BIG, 2.0)

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.weights[0]


#: A module array larger than a key compares item by item, read by ``ReadsBig``.
BIG_WEIGHTS = np.full(BIG, 2.0)


class ReadsBig(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * BIG_WEIGHTS[0]


def _closing_over(held: Any) -> Callable[[np.ndarray], np.ndarray]:
    def times(a: np.ndarray) -> np.ndarray:
        return a * held[0]

    return times


SMALL_HELD = [2.0]
BIG_HELD = np.full(BIG, 2.0)
#: ``as_op`` functions made once (as a decorator at a module's top does), closing over a list
#: and over an array larger than a key compares item by item.
TIMES_SMALL = ft.as_op([ft.dvector], [ft.dvector])(_closing_over(SMALL_HELD))
TIMES_BIG = ft.as_op([ft.dvector], [ft.dvector])(_closing_over(BIG_HELD))

FACTOR_OP = Factor(2.0)
#: Ops inside an ``OpFromGraph`` and a scan's step made once, whose identities were computed
#: when their inner graphs were.
INNER_OP = Factor(2.0)
_A = ft.dvector("a")
INNER_GRAPH = fc.OpFromGraph([_A], [INNER_OP(_A)])
STEP_OP = Factor(2.0)


def _scanned(x: Any) -> Any:
    return fc.scan(lambda row: STEP_OP(row), sequences=[ft.as_tensor_variable(x).reshape((2, 2))])[
        0
    ].flatten()


PROP_OP = PropFactor(2.0)
TABLE_OP = TableFactor()
NESTED_OP = NestedFactor()
BIG_OP = BigFactor()


def _set(target: Any, key: Any) -> Callable[[float], None]:
    """Sets ``target``'s item or attribute ``key`` (an object's attribute where ``key`` is a
    string and ``target`` no dict) to a factor, in place."""
    if isinstance(key, str):
        return lambda k: setattr(target, key, k)
    return lambda k: target.__setitem__(key, k)


#: name: (the op, applied to a variable, and how to change what it multiplies by, in place)
CHANGES: dict[str, tuple[Callable[[Any], Any], Callable[[float], None]]] = {
    "an attribute": (FACTOR_OP, _set(FACTOR_OP, "factor")),
    "an attribute, in an OpFromGraph": (INNER_GRAPH, _set(INNER_OP, "factor")),
    "an attribute, in a scan's step": (_scanned, _set(STEP_OP, "factor")),
    "a prop": (PROP_OP, _set(PROP_OP, "factor")),
    "an item of a list it holds": (TABLE_OP, _set(TABLE_OP.table, 0)),
    "an attribute of an object it holds": (NESTED_OP, _set(NESTED_OP.settings, "factor")),
    "an as_op closure's list": (TIMES_SMALL, _set(SMALL_HELD, 0)),
    "an array it holds, large": (BIG_OP, _set(BIG_OP.weights, 0)),
    "a module array, large": (ReadsBig(), _set(BIG_WEIGHTS, 0)),
    "an as_op closure's array, large": (TIMES_BIG, _set(BIG_HELD, 0)),
}


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path: Path) -> Iterator[None]:
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def _compiled(op: Any, folded: bool, mode: Any) -> fc.Function:
    """``v + op(v)``, or with ``folded`` ``v + op(V)`` (the optimizer may run the op on the
    constant at compile time)."""
    v = ft.dvector("v")
    return fc.function([v], v + op(ft.constant(V) if folded else v), mode=mode)


@pytest.mark.parametrize("folded", [False, True], ids=["input", "constant"])
@pytest.mark.parametrize("what", list(CHANGES))
def test_an_op_changed_after_a_compile_is_keyed_by_what_it_is_at_the_next(what: str, folded: bool) -> None:
    op, set_factor = CHANGES[what]
    keys = []
    try:
        for k in (2.0, 3.0, 2.0):
            set_factor(k)
            misses = function_misses()
            f = _compiled(op, folded, PY)
            assert_same(f(V), V + V * k, f"{what}, factor {k}")
            keys.append((f.cache_key, function_misses() - misses))
    finally:
        set_factor(2.0)
    assert keys[1][0] != keys[0][0], f"{what}: changed, it kept its key"
    assert keys[2] == (keys[0][0], 0), f"{what}: set back, it did not hit its first entry"


class HoldsObjects(Unary):
    """Its input times the first item of an array of objects it holds: no key can compare
    what the items hold."""

    def __init__(self) -> None:
        self.held = np.array([[2.0]], dtype=object)

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.held[0][0]


def test_an_op_holding_an_array_of_objects_is_compiled_anew_each_time() -> None:
    op = HoldsObjects()
    keys = set()
    for k in (2.0, 3.0, 3.0):
        op.held[0][0] = k
        misses = function_misses()
        f = _compiled(op, True, PY)
        assert function_misses() == misses + 1, "answered from an entry"
        assert_same(f(V), V + V * k, f"factor {k}")
        keys.add(f.cache_key)
    assert len(keys) == 3


def test_an_op_changed_after_a_compile_to_c_is_keyed_by_what_it_is_at_the_next() -> None:
    op = Factor(2.0)
    f = _compiled(op, True, "FAST_RUN")
    op.factor = 3.0
    g = _compiled(op, True, "FAST_RUN")
    assert g.cache_key != f.cache_key
    assert_same(g(V), V + V * 3.0, "C linker")


_FRESH = """
from test_key_mutation import Factor, _compiled, V
op = Factor(float(sys.argv[2]))
f = _compiled(op, True, fc.Mode(linker="py"))
print(f.cache_key, (f(V) == V + V * op.factor).all())
"""


def test_another_process_hits_the_entry_of_an_op_changed_here(tmp_path: Path) -> None:
    """An op changed after a compile here, compiled again, stores the entry of its new state:
    another process making the op with that state hits it."""
    compiledir = tmp_path / "shared"
    with config.change_flags(compiledir=str(compiledir)):
        op = Factor(2.0)
        first = _compiled(op, True, PY)
        op.factor = 3.0
        second = _compiled(op, True, PY)
        assert_same(second(V), V + V * 3.0, "changed")
    code = in_tests_dir(compiledir, "") + _FRESH
    for factor, here in (("2.0", first), ("3.0", second)):
        key, right = run_python(code, str(Path(__file__).parent), factor).split()
        assert (key, right) == (here.cache_key, "True"), f"factor {factor}"


# -- state an op's code writes through calls ---------------------------------------------------------

BUF = np.zeros(4)
LOG: list = []


def _fill(buf: np.ndarray, values: np.ndarray) -> None:
    buf[:] = values


class CopiesInto(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        np.copyto(BUF, inputs[0])
        out[0][0] = BUF * 2.0


class WritesOut(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        np.multiply(inputs[0], 2.0, out=BUF)
        out[0][0] = BUF.copy()


class FillsThroughHelper(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        _fill(BUF, inputs[0])
        out[0][0] = BUF * 2.0


class AppendsThroughLocal(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        log = LOG
        log.append(len(log))
        out[0][0] = inputs[0] * 2.0


class AppendsToClassList(Unary):
    seen: list = []

    def perform(self, node: Any, inputs: list, out: list) -> None:
        self.seen.append(len(self.seen))
        out[0][0] = inputs[0] * 2.0


class FillsOwnBuffer(Unary):
    def __init__(self) -> None:
        self.buf = np.zeros(4)

    def perform(self, node: Any, inputs: list, out: list) -> None:
        self.buf.fill(0.0)
        np.copyto(self.buf, inputs[0])
        out[0][0] = self.buf * 2.0


WRITERS = [CopiesInto, WritesOut, FillsThroughHelper, AppendsThroughLocal, AppendsToClassList, FillsOwnBuffer]


@pytest.mark.parametrize("cls", WRITERS, ids=lambda c: c.__name__)
def test_state_written_through_calls_is_state_the_op_keeps(cls: type) -> None:
    """The op writes state: never run at compile time (its node on a constant stays a node),
    and a compile after it ran on other values hits; its values are numpy's."""
    assert writes_state(cls), f"{cls.__name__}: the state it writes is not seen"
    op = cls()
    assert has_side_effects(op)
    keys = []
    for k in range(3):
        misses = function_misses()
        v = ft.dvector("v")
        f = fc.function([v], [op(v), v + op(ft.constant(V))], mode=PY)
        keys.append((f.cache_key, function_misses() - misses))
        assert any(node.op is op or type(node.op) is cls for node in f.maker.fgraph.toposort()), (
            f"{cls.__name__} was run at compile time"
        )
        w = V + k
        for got, want in zip(f(w), [w * 2.0, w + V * 2.0]):
            assert_same(got, want, cls.__name__)
    assert keys[1] == keys[2] == (keys[0][0], 0), f"{cls.__name__} compiled again after running: {keys}"


class Accumulates(Unary):
    """The sum of the inputs of all its runs: state it keeps on itself, and returns."""

    def __init__(self) -> None:
        self.total = np.zeros(4)

    def perform(self, node: Any, inputs: list, out: list) -> None:
        np.add(self.total, inputs[0], out=self.total)
        out[0][0] = self.total.copy()


def test_a_hit_runs_the_users_own_op_and_the_state_it_keeps() -> None:
    """The attributes an op writes as it runs are left out of its key: a compile after it ran
    hits, and the function runs the user's op object (as the function compiled on the miss
    does), not the entry's copy, so both add to the one total, as numpy's sums."""
    op = Accumulates()
    fs = []
    for _ in range(2):
        misses = function_misses()
        v = ft.dvector("v")
        fs.append(fc.function([v], op(v), mode=PY))
        fs[-1](V)
    assert function_misses() == misses, "compiled again after running"
    assert fs[0].cache_key == fs[1].cache_key
    assert_same(fs[0](V), V * 3, "the first function, third run")
    assert_same(fs[1](V), V * 4, "the second function, after three runs")
    assert_same(op.total, V * 4, "the user's op")


#: A module array an op reads through a call, changed in place between two compiles.
WEIGHTS = np.array([2.0])


class ReadsThroughCall(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = np.multiply(inputs[0], WEIGHTS)


def test_a_module_array_read_through_a_call_gives_its_values_then() -> None:
    """A module array passed to a call (``np.multiply(x, W)``) may be written there: its op
    runs when the function runs, reading the array as it is then, in place or assigned anew."""
    global WEIGHTS
    old = WEIGHTS
    try:
        for k in (2.0, 3.0):
            WEIGHTS[0] = k
            f = _compiled(ReadsThroughCall(), True, PY)
            assert_same(f(V), V + V * k, f"changed in place to {k}")
        WEIGHTS = np.array([5.0])
        f = _compiled(ReadsThroughCall(), True, PY)
        assert_same(f(V), V + V * 5.0, "assigned anew")
    finally:
        WEIGHTS = old
        WEIGHTS[0] = 2.0


def _memoizing() -> tuple[Callable[[np.ndarray], np.ndarray], dict, list]:
    """A function doubling its input that keeps a memo and a count of its runs in the
    variables it closes over."""
    memo: dict = {}
    runs = 0

    def double(a: np.ndarray) -> np.ndarray:
        nonlocal runs
        runs += 1
        memo[a.tobytes()] = a * 2.0
        return memo[a.tobytes()]

    return double, memo, [lambda: runs]


def test_what_an_as_op_function_writes_of_its_closure_is_state_it_keeps() -> None:
    """A memo and a count in an ``as_op`` function's closure: a compile after it ran hits, and
    the hit runs the user's function (its memo and count grow)."""
    double, memo, runs = _memoizing()
    op = ft.as_op([ft.dvector], [ft.dvector])(double)
    keys = []
    for k in range(3):
        misses = function_misses()
        v = ft.dvector("v")
        f = fc.function([v], v + op(v), mode=PY)
        keys.append((f.cache_key, function_misses() - misses))
        assert_same(f(V + k), (V + k) * 3.0, f"run {k}")
    assert keys[1] == keys[2] == (keys[0][0], 0), f"compiled again after running: {keys}"
    assert runs[0]() == 3 and len(memo) == 3
