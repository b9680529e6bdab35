"""No false hit from what a graph's ops do not say themselves: two functions alike but for one
detail never share a function entry, in one process or two.

The details: the types a node declares for its outputs (a static size or a dtype a user's
``make_node`` reads from a module setting, ``as_op``'s ``otypes``, ``specify_shape``, a class of
one name in two modules), a user's op's attributes, closures and the module values its
``perform`` reads (the optimizer runs it on constants), constants alike in value but not in
dtype, shape or bits, the function's input and state types, and the mode. A graph whose nodes
a hit could not make again (their ``make_node`` declares other types now) runs uncached. Each pair is compiled
into one compiledir in sequence, then the first side again: the keys must differ, the first
side built again must hit its own entry, and each function must compute numpy's values. Another
process compiling the first sides from the compiledir this one filled must hit every one (no
false miss either), but for an op whose attribute has no canonical form: it is keyed for its
process only.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.graph.canonical import type_text
from fncache.raise_op import assert_op
from fcutil import assert_same, function_misses

PY = fc.Mode(linker="py")
V = np.array([1.5, -2.25, 3.0, 4.0])
B = np.array([5, -7, 100, 0], dtype="int8")

# -- users' ops ------------------------------------------------------------------------------------

#: Module settings the ops below read, as a user's module may: a size and a dtype their
#: ``make_node`` declares, a factor their ``perform`` multiplies by.
HEAD = 1
OUT_DTYPE = "float64"
FACTOR = 2.0


@contextlib.contextmanager
def setting(name: str, value: Any) -> Iterator[None]:
    """This module's setting ``name`` is ``value`` meanwhile."""
    old = globals()[name]
    globals()[name] = value
    try:
        yield
    finally:
        globals()[name] = old


class Head(fc.Op):
    """The first ``HEAD`` entries: a static size of its output its ``make_node`` reads."""

    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [ft.TensorType(x.dtype, (HEAD,))()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0][: node.outputs[0].type.shape[0]].copy()


class Converted(fc.Op):
    """Its input in the dtype ``OUT_DTYPE`` its ``make_node`` reads."""

    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [ft.TensorType(OUT_DTYPE, x.type.shape)()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0].astype(node.outputs[0].type.dtype)


class Scaled(fc.Op):
    """Its input times ``FACTOR``, read when it runs (the optimizer runs it on a constant)."""

    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * FACTOR


class Signed(fc.Op):
    """Its input with the sign of the array it holds (not a prop): -0.0 and 0.0 differ."""

    __props__ = ()

    def __init__(self, sign: np.ndarray) -> None:
        self.sign = sign

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = np.copysign(inputs[0], self.sign)


class Locked(fc.Op):
    """Its input plus ``k``; it holds a lock, which has no canonical form."""

    __props__ = ("k",)

    def __init__(self, k: float) -> None:
        self.k = k
        self.lock = threading.Lock()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node: Any, inputs: list, out: list) -> None:
        with self.lock:
            out[0][0] = inputs[0] + self.k


#: Module values that ops below read, changed in place between two compiles (a notebook's cell
#: run again): the same objects, holding other values.
TABLE = [2.0]
SETTINGS = {"factor": 2.0}
WEIGHTS = np.array([2.0])
NAMESPACE = types.SimpleNamespace(factor=2.0)


class Settings:
    """A user's settings object, its attribute assigned in place."""

    def __init__(self) -> None:
        self.factor = 2.0


CONFIG = Settings()


class Unary(fc.Op):
    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])


class ReadsList(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * TABLE[0]


class ReadsDict(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * SETTINGS["factor"]


class ReadsArray(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * WEIGHTS


class ReadsNamespace(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * NAMESPACE.factor


class ReadsObject(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * CONFIG.factor


class ReadsClassAttribute(Unary):
    factor = 2.0

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.factor


#: What the ops below count their runs in: a module name they assign, a class attribute, a
#: module dict they fill in place.
CALLS = 0
MEMO: dict = {}


class CountsByName(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        global CALLS
        CALLS += 1
        out[0][0] = inputs[0] * 2.0


class CountsInClass(Unary):
    runs = 0

    def perform(self, node: Any, inputs: list, out: list) -> None:
        type(self).runs += 1
        out[0][0] = inputs[0] * 2.0


class CountsInMemo(Unary):
    def perform(self, node: Any, inputs: list, out: list) -> None:
        MEMO[node.inputs[0].type.shape] = MEMO.get(node.inputs[0].type.shape, 0) + 1
        out[0][0] = inputs[0] * 2.0


RUNS = {
    CountsByName: lambda: CALLS,
    CountsInClass: lambda: CountsInClass.runs,
    CountsInMemo: lambda: sum(MEMO.values()),
}


#: One op made once and used by every graph (as Theano's tutorial does): its identity was
#: computed by the first compile.
READS_LIST = ReadsList()
_A = ft.dvector("a")
#: An OpFromGraph made once, its inner graph's identity computed when it was made.
READS_LIST_GRAPH = fc.OpFromGraph([_A], [ReadsList()(_A)])


@contextlib.contextmanager
def changed(target: Any, key: Any, value: Any) -> Iterator[None]:
    """``target[key]`` (an attribute where ``key`` names one of an object's, every item of an
    array where ``key`` is ``...``) is ``value`` meanwhile: the same object, changed in place."""
    by_attribute = isinstance(key, str) and not isinstance(target, dict)
    put = setattr if by_attribute else operator.setitem
    old = getattr(target, key) if by_attribute else target[key]
    old = old.copy() if isinstance(old, np.ndarray) else old
    put(target, key, value)
    try:
        yield
    finally:
        put(target, key, old)


def scaler(k: float) -> type:
    """An op class multiplying by ``k``, which its ``perform`` closes over: each call's class has
    one name (``scaler.<locals>.Scale``) and one code, and computes with its own ``k``."""

    class Scale(fc.Op):
        __props__ = ()

        def make_node(self, x: Any) -> fc.Apply:
            x = ft.as_tensor_variable(x)
            return fc.Apply(self, [x], [x.type()])

        def perform(self, node: Any, inputs: list, out: list) -> None:
            out[0][0] = inputs[0] * k

    return Scale


_TWIN_SOURCE = """
import fncache as fc
from fncache import tensor as ft

class Twin(fc.Op):
    __props__ = ()
    dtype = {dtype!r}

    def make_node(self, x):
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [ft.TensorType(self.dtype, x.type.shape)()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].astype(self.dtype)
"""
#: One module name, one class name, two modules (a notebook's cell run again, two scripts
#: that are both ``__main__``): their ``Twin`` classes differ in a class attribute only.
_twin_modules: dict[str, types.ModuleType] = {}


def twin(dtype: str) -> type:
    """``Twin`` of a module named ``user_ops`` converting to ``dtype``."""
    module = _twin_modules.get(dtype)
    if module is None:
        module = _twin_modules[dtype] = types.ModuleType("user_ops")
        exec(_TWIN_SOURCE.format(dtype=dtype), module.__dict__)
    return module.Twin


# -- pairs -----------------------------------------------------------------------------------------


class Pair(NamedTuple):
    """A function ``build(side)`` makes for side 0 or 1: the function, its arguments and
    numpy's values of its outputs (a list)."""

    name: str
    build: Callable[[int], tuple[fc.Function, tuple, list]]
    #: False: a hit could not make the graph again (its make_node reads a setting changed
    #: since the nodes were made), so the function runs uncached
    stored: bool = True
    #: compare every bit with numpy's values (a NaN's payload, a zero's sign)
    exact: bool = False


def _head(mode: Any) -> Callable[[int], tuple[fc.Function, tuple, list]]:
    def build(side: int) -> tuple[fc.Function, tuple, list]:
        n = (1, 3)[side]
        with setting("HEAD", n):
            v = ft.dvector("v")
            h = Head()(v)
            f = fc.function([v], [h.sum(axis=0), ft.max(h), h], mode=mode)
        return f, (V,), [V[:n].sum(), V[:n].max(), V[:n]]

    return build


def _converted(side: int) -> tuple[fc.Function, tuple, list]:
    dtype = ("float64", "int64")[side]
    with setting("OUT_DTYPE", dtype):
        v = ft.dvector("v")
        c = Converted()(v)
        f = fc.function([v], [c[1:], c.reshape((2, 2))], mode=PY)
    want = V.astype(dtype)
    return f, (V,), [want[1:], want.reshape(2, 2)]


def _head_merged(side: int) -> tuple[fc.Function, tuple, list]:
    # two nodes of one op on one input, declaring other sizes: never one node
    v = ft.dvector("v")
    with setting("HEAD", 1):
        one = Head()(v)
    with setting("HEAD", (3, 2)[side]):
        more = Head()(v)
    f = fc.function([v], [one.sum(axis=0), more.sum(axis=0)], mode=PY)
    return f, (V,), [V[:1].sum(), V[: (3, 2)[side]].sum()]


def _as_op(side: int) -> tuple[fc.Function, tuple, list]:
    out = (ft.dvector, ft.fvector)[side]
    op = ft.as_op([ft.dvector], [out])(lambda a: a * 0.1)
    v = ft.dvector("v")
    f = fc.function([v], op(v)[1:], mode=PY)
    return f, (V,), [(V * 0.1).astype(out.dtype)[1:]]


def _specify_shape(side: int) -> tuple[fc.Function, tuple, list]:
    v = ft.dvector("v")
    s = ft.specify_shape(v, ((5,), (None,))[side])
    f = fc.function([v], s.shape[0] * 1.0, mode=PY)
    w = np.arange(5.0 - side)  # side 1 takes a size side 0 declares it cannot have
    return f, (w,), [np.float64(len(w))]


def _twins(side: int) -> tuple[fc.Function, tuple, list]:
    dtype = ("float32", "int64")[side]
    v = ft.dvector("v")
    f = fc.function([v], twin(dtype)()(v)[1:], mode=PY)
    return f, (V,), [V.astype(dtype)[1:]]


def _closure(side: int) -> tuple[fc.Function, tuple, list]:
    k = (2.0, 3.0)[side]
    v = ft.dvector("v")
    f = fc.function([v], scaler(k)()(v), mode=PY)
    return f, (V,), [V * k]


def _attribute_array(side: int) -> tuple[fc.Function, tuple, list]:
    sign = np.array([(0.0, -0.0)[side]])
    v = ft.dvector("v")
    f = fc.function([v], Signed(sign)(v), mode=PY)
    return f, (V,), [np.copysign(V, sign)]


def _global_read_by_perform(side: int) -> tuple[fc.Function, tuple, list]:
    # the optimizer computes Scaled(c) once, at compile time: the factor it read must key it
    k = (2.0, 3.0)[side]
    c = np.array([1.0, 2.0, 3.0, 4.0])
    with setting("FACTOR", k):
        v = ft.dvector("v")
        f = fc.function([v], v + Scaled()(ft.constant(c)), mode=PY)
    return f, (V,), [V + c * k]


def _global_read_inside(kind: str) -> Callable[[int], tuple[fc.Function, tuple, list]]:
    """``_global_read_by_perform`` with ``Scaled`` in an inner graph (``kind``: an
    ``OpFromGraph`` or a ``scan`` step), whose identity was computed before the key's."""

    def build(side: int) -> tuple[fc.Function, tuple, list]:
        k = (2.0, 3.0)[side]
        c = np.array([1.0, 2.0, 3.0, 4.0])
        with setting("FACTOR", k):
            v = ft.dvector("v")
            if kind == "OpFromGraph":
                a = ft.dvector("a")
                scaled = fc.OpFromGraph([a], [Scaled()(a)])(ft.constant(c))
            else:
                scaled = fc.scan(lambda row: Scaled()(row), sequences=[ft.constant(c.reshape(2, 2))])[0]
            f = fc.function([v], v + scaled.flatten(), mode=PY)
        return f, (V,), [V + c * k]

    return build


def _in_place(
    target: Any, key: Any, op: Callable[[], fc.Op], inside: str = "", mode: Any = PY
) -> Callable[[int], tuple[fc.Function, tuple, list]]:
    """``_global_read_inside``'s graph (``inside``: "" for none) of ``op()``, whose ``perform``
    multiplies by ``target[key]``, changed in place (``changed``) to the side's factor."""

    def build(side: int) -> tuple[fc.Function, tuple, list]:
        k = (2.0, 3.0)[side]
        c = np.array([1.0, 2.0, 3.0, 4.0])
        with changed(target, key, np.array([k]) if target is WEIGHTS else k):
            v = ft.dvector("v")
            if inside == "OpFromGraph":
                a = ft.dvector("a")
                scaled = fc.OpFromGraph([a], [op()(a)])(ft.constant(c))
            elif inside == "one OpFromGraph":
                scaled = READS_LIST_GRAPH(ft.constant(c))
            elif inside == "scan":
                scaled = fc.scan(lambda row: op()(row), sequences=[ft.constant(c.reshape(2, 2))])[0]
            else:
                scaled = op()(ft.constant(c))
            f = fc.function([v], v + scaled.flatten(), mode=mode)
        return f, (V,), [V + c * k]

    return build


def _int_constant(side: int) -> tuple[fc.Function, tuple, list]:
    c = (np.int32(3), np.int64(3))[side]
    b = ft.TensorType("int8", (None,))("b")
    f = fc.function([b], b + ft.constant(np.asarray(c)), mode=PY)
    return f, (B,), [B + np.asarray(c)]


def _constant_ndim(side: int) -> tuple[fc.Function, tuple, list]:
    c = (np.array(2.0), np.array([2.0]))[side]
    s = ft.dscalar("s")
    f = fc.function([s], s + ft.constant(c), mode=PY)
    return f, (np.float64(1.5),), [1.5 + c]


#: float32 NaNs of two payloads: arithmetic carries the payload into its result
NAN32 = np.array([0x7FC00001, 0x7FC00ABC], dtype="uint32").view("float32")


def _nan_payload32(side: int) -> tuple[fc.Function, tuple, list]:
    f32 = ft.fvector("f")
    f = fc.function([f32], f32 + ft.constant(NAN32[side]), mode=PY)
    x = V.astype("float32")
    return f, (x,), [x + NAN32[side]]


def _input_static_size(side: int) -> tuple[fc.Function, tuple, list]:
    v = ft.TensorType("float64", ((4,), (None,))[side])("v")
    f = fc.function([v], v.shape[0] * 1.0, mode=PY)
    w = np.arange(4.0 + side)
    return f, (w,), [np.float64(len(w))]


def _input_dtype(side: int) -> tuple[fc.Function, tuple, list]:
    dtype = ("float64", "float32")[side]
    v = ft.TensorType(dtype, (None,))("v")
    f = fc.function([v], [v[1:], v.reshape((2, 2))], mode=PY)
    w = V.astype(dtype)
    return f, (w,), [w[1:], w.reshape(2, 2)]


def _state_dtype(side: int) -> tuple[fc.Function, tuple, list]:
    dtype = ("float64", "float32")[side]
    v = ft.TensorType(dtype, (None,))("v")
    acc = fc.shared(np.zeros(4, dtype=dtype), name="acc")
    f = fc.function([v], acc[1:], updates=[(acc, acc + v)], mode=PY)
    w = V.astype(dtype)
    return f, (w,), [np.zeros(3, dtype=dtype)]


def _assert_removed(side: int) -> tuple[fc.Function, tuple, list]:
    # the unsafe rewrite drops the check: the function compiled without it must still check
    v = ft.dvector("v")
    mode = (PY.including("local_remove_all_assert"), PY)[side]
    f = fc.function([v], assert_op(v, ft.all(v > 0)) * 2.0, mode=mode)
    return f, (V,), [V * 2.0] if side == 0 else RAISES


PAIRS = [
    # the types a node declares
    Pair("a static size make_node reads", _head(PY)),
    Pair("a static size make_node reads, C linker", _head("FAST_RUN")),
    Pair("a dtype make_node reads", _converted),
    Pair("two nodes of one op declaring other sizes", _head_merged, stored=False),
    Pair("as_op's otypes", _as_op),
    Pair("specify_shape", _specify_shape),
    Pair("one class name in two modules", _twins),
    # a user's op
    Pair("a closure of the op's class", _closure),
    Pair("an array attribute, -0.0 or 0.0", _attribute_array, exact=True),
    Pair("a module value perform reads", _global_read_by_perform),
    Pair("a module value perform reads, in an OpFromGraph", _global_read_inside("OpFromGraph")),
    Pair("a module value perform reads, in a scan", _global_read_inside("scan")),
    # a module value or class attribute perform reads, changed in place (the optimizer runs
    # perform on a constant)
    Pair("a list's item perform reads, changed in place", _in_place(TABLE, 0, ReadsList)),
    Pair("a list's item, C linker", _in_place(TABLE, 0, ReadsList, mode="FAST_RUN")),
    Pair("a list's item, one op instance", _in_place(TABLE, 0, lambda: READS_LIST)),
    Pair("a list's item, in an OpFromGraph", _in_place(TABLE, 0, ReadsList, "OpFromGraph")),
    Pair("a list's item, in a scan", _in_place(TABLE, 0, ReadsList, "scan")),
    Pair("a list's item, one OpFromGraph", _in_place(TABLE, 0, ReadsList, "one OpFromGraph")),
    Pair(
        "a list's item, one OpFromGraph, C linker",
        _in_place(TABLE, 0, ReadsList, "one OpFromGraph", "FAST_RUN"),
    ),
    Pair("a dict's value perform reads, changed in place", _in_place(SETTINGS, "factor", ReadsDict)),
    Pair("an array perform reads, changed in place", _in_place(WEIGHTS, ..., ReadsArray)),
    Pair("a SimpleNamespace's attribute perform reads", _in_place(NAMESPACE, "factor", ReadsNamespace)),
    Pair("a user's object's attribute perform reads", _in_place(CONFIG, "factor", ReadsObject)),
    Pair(
        "a class attribute perform reads, assigned",
        _in_place(ReadsClassAttribute, "factor", ReadsClassAttribute),
    ),
    # constants
    Pair("int32 or int64 three", _int_constant),
    Pair("0-d or 1-element constant", _constant_ndim),
    Pair("float32 NaN payload", _nan_payload32, exact=True),
    # the function's inputs and mode
    Pair("an input's static size", _input_static_size),
    Pair("an input's dtype", _input_dtype),
    Pair("a state's dtype", _state_dtype),
    Pair("asserts removed", _assert_removed),
]


#: What a function must do instead of returning values: raise AssertionError.
RAISES: list = []


STORED = {p.name: p.stored for p in PAIRS}


def _check(f: fc.Function, args: tuple, wants: list, what: str, exact: bool = False) -> None:
    if wants is RAISES:
        with pytest.raises(AssertionError):
            f(*args)
        return
    got = f(*args)
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(wants), what
    for k, (g, w) in enumerate(zip(got, wants)):
        w = np.asarray(w)
        assert_same(np.asarray(g), w, f"{what}, output {k}")
        if exact:
            assert np.asarray(g).tobytes() == w.tobytes(), (
                f"{what}, output {k}: {g!r} is not {w!r} bit for bit"
            )


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path: Path) -> Iterator[None]:
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_functions_alike_but_for_one_detail_keep_their_own_entries(pair: Pair) -> None:
    first = pair.build(0)
    second = pair.build(1)  # compiled after the first is stored
    assert first[0].cache_key != second[0].cache_key, f"{pair.name}: two functions share a key"
    misses = function_misses()
    again = pair.build(0)
    assert again[0].cache_key == first[0].cache_key, (
        f"{pair.name}: the first side built again has another key"
    )
    hit = function_misses() == misses
    assert hit == pair.stored, f"{pair.name}: the first side built again {'missed' if pair.stored else 'hit'}"
    for (f, args, wants), what in ((first, "first"), (second, "second"), (again, "again")):
        _check(f, args, wants, f"{pair.name}, {what}", pair.exact)


@pytest.mark.parametrize("op", list(RUNS), ids=lambda op: op.__name__)
def test_what_an_op_writes_as_it_runs_neither_keys_it_nor_is_run_at_compile_time(op: type) -> None:
    """An op whose perform counts its runs (in a module name it assigns, its class attribute,
    a module dict it fills) compiled again after running is a hit, not a new entry per run; it
    is never run at compile time (its count is its runs'), nor are its two nodes one."""
    runs = RUNS[op]
    c = np.array([1.0, 2.0])
    keys = []
    for _ in range(2):
        v = ft.dvector("v")
        misses, before = function_misses(), runs()
        f = fc.function([v], [op()(v), op()(v), v[:2] + op()(ft.constant(c))], mode=PY)
        assert runs() == before, f"{op.__name__} ran at compile time"
        keys.append((f.cache_key, function_misses() - misses))
        for _ in range(2):
            _check(f, (V,), [V * 2, V * 2, V[:2] + c * 2], op.__name__)
        assert runs() == before + 6, f"{op.__name__}: 3 nodes, 2 runs"
    assert keys[1] == (keys[0][0], 0), f"{op.__name__} compiled again after running: {keys}"


def test_a_graph_whose_nodes_learn_static_sizes_when_made_again_is_stored_and_hit() -> None:
    # the inner graph, inlined and folded, gives a constant of static size 4: the add reading
    # it, made again when the entry is loaded, declares (4,) where the optimized node kept the
    # (?,) of the op's output, which is no change
    c = np.array([0.0, 1.0, 2.0, 3.0])
    fs = []
    for _ in range(2):
        v, a = ft.dvector("v"), ft.dvector("a")
        misses = function_misses()
        fs.append(fc.function([v], v + fc.OpFromGraph([a], [ft.exp(a)])(ft.constant(c)), mode=PY))
    assert function_misses() == misses, "the second compile missed the first's entry"
    assert fs[0].cache_key == fs[1].cache_key
    for f in fs:
        _check(f, (V,), [V + np.exp(c)], "folded constant")


def test_an_op_whose_attribute_has_no_canonical_form_never_shares_another_ops_key() -> None:
    v = ft.dvector("v")
    op, twin_op = Locked(1.0), Locked(1.0)  # equal props, each its own lock
    fs = [fc.function([v], o(v), mode=PY) for o in (op, twin_op, op)]
    assert fs[0].cache_key != fs[1].cache_key, "two ops with no canonical text share a key"
    assert fs[2].cache_key == fs[0].cache_key, "one op instance keys alike twice in its process"
    for f in fs:
        _check(f, (V,), [V + 1.0], "Locked")


def test_a_types_text_names_what_it_is_not_how_it_prints() -> None:
    class Labelled:
        """A user's type whose repr leaves out its size."""

        def __init__(self, size: int) -> None:
            self.size = size

        def __repr__(self) -> str:
            return "Labelled"

    class Unhashable:
        def __init__(self) -> None:
            self.lock = threading.Lock()

    assert type_text(Labelled(2)) != type_text(Labelled(3))
    assert type_text(Labelled(2)) == type_text(Labelled(2))
    odd = Unhashable()
    assert type_text(odd) == type_text(odd) != type_text(Unhashable())
    # fncache's types: by their repr, a subclass by its class too
    assert type_text(ft.TensorType("float64", (None, 1))) == "TensorType(float64, (?,1))"
    assert type_text(ft.TensorType("float64", (1,))) != type_text(ft.TensorType("float64", (None,)))

    class Mine(ft.TensorType):
        __slots__ = ()

    assert type_text(Mine("float64", (2,))) != type_text(ft.TensorType("float64", (2,)))


# -- another process -------------------------------------------------------------------------------

_SECOND_PROCESS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import test_key_types as t
from fncache.config import config
with config.change_flags(compiledir=sys.argv[2]):
    print(json.dumps(t.first_sides_again()))
"""


def first_sides_again() -> dict[str, Any]:
    """The first sides compiled (and checked against numpy) in this process, by name: each
    one's key and whether it missed the compiledir, and the key of a ``Locked`` op."""
    found = {}
    for pair in PAIRS:
        misses = function_misses()
        f, args, wants = pair.build(0)
        _check(f, args, wants, f"{pair.name}, in another process", pair.exact)
        found[pair.name] = [f.cache_key, function_misses() != misses]
    v = ft.dvector("v")
    found["Locked"] = [fc.function([v], Locked(1.0)(v), mode=PY).cache_key, True]
    return found


def test_another_process_hits_the_first_sides_and_keys_its_own_ops_with_no_canonical_form(
    tmp_path: Path,
) -> None:
    compiledir = tmp_path / "shared"
    with config.change_flags(compiledir=str(compiledir)):
        first = first_sides_again()
    done = subprocess.run(
        [sys.executable, "-c", _SECOND_PROCESS, str(Path(__file__).parent), str(compiledir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FNCACHE_FLAGS": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (key, missed) in found.items():
        if name == "Locked":
            assert key != first[name][0], "an op with no canonical form shares a key with another process's"
        else:
            assert key == first[name][0], f"{name}: another key in another process"
            assert not missed or not STORED[name], f"{name}: another process missed the entry this one stored"
