"""Cache-key fuzzing: random small graphs and one-place mutations of them, compiled through one
shared compiledir.

The worst bug a cache can have is two computations sharing a key (a hit then runs another
graph's code); the next worst is one computation missing its own entry. So, for random graphs
of elementwise ops, reductions (axis, keepdims), dimshuffles, reshapes, indexing, dot, casts and
constants of many values and dtypes (-0.0 and 0.0, NaN, 1, 1.0 and True, large ints), and a
mutation of each that changes one thing:

* a graph and a mutation whose numpy results differ never share a function key, and each,
  compiled from a compiledir the other warmed, computes its own numpy result;
* the same graph built again (other variables, other names, other constant objects, some of
  its repeated subexpressions built once and read twice, or written twice) has the same key and
  is a function-entry hit; under a mode without ``merge`` those stay apart;
* pickled functions loaded in a fresh process (one for all of them) compute the same results,
  from the compiledir, without a function-entry miss.

Values are numpy's on fixed inputs (with NaN, infinities and signed zeros), so an example whose
numpy value is undefined behaviour in C (NaN cast to an int, an int product that overflows) is
left out when it is drawn. FNCACHE_HYPOTHESIS_EXAMPLES (and FNCACHE_HYPOTHESIS_RANDOM) explore
more.
"""

from __future__ import annotations

import functools
import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.graph.fgraph import FunctionGraph
from fncache.graph.serialize import canonical_form
from fncache.mode import get_mode
from fncache.runtime.compile import function_key
from fcutil import assert_same, fuzz_settings

# -- the fixed inputs -----------------------------------------------------------------------------

_SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.5, 2.5, 1e300, -3.0, 0.25, 7.0]
#: name -> (dtype, declared shape, value). ``r1`` declares its first dimension broadcastable,
#: ``rn`` (same dtype and rank) does not.
INPUTS: dict[str, tuple[str, tuple, np.ndarray]] = {
    "x": ("float64", (None, None), np.array(_SPECIAL).reshape(3, 4)),
    "y": ("float32", (None,), np.array([0.5, -0.0, 3.0, -2.0], dtype="float32")),
    "i": ("int64", (None, None), np.array([[0, 1, -2, 3], [5, -5, 4, 2], [-1, 0, 2, 1]])),
    "b": ("bool", (None,), np.array([True, False, True, True])),
    "r1": ("float64", (1, None), np.array([[1.0, -0.0, 2.0, -4.0]])),
    "rn": (
        "float64",
        (None, None),
        np.array([[0.5, 1.0, -1.0, 2.0], [3.0, -0.0, 0.0, 1.0], [2.0, 2.0, -2.0, 8.0]]),
    ),
}
NAMES = tuple(INPUTS)

# -- ops: (symbolic, numpy) -----------------------------------------------------------------------

UNARY: dict[str, tuple[Callable, Callable]] = {
    "neg": (lambda a: -a, np.negative),
    "abs": (ft.abs, np.abs),
    "exp": (ft.exp, np.exp),
    "sin": (ft.sin, np.sin),
    "sqrt": (ft.sqrt, np.sqrt),
    "floor": (ft.floor, np.floor),
    "sign": (ft.sign, np.sign),
    "sqr": (ft.sqr, np.square),
    "isnan": (ft.isnan, np.isnan),
    "invert": (ft.invert, np.invert),
}
BINARY: dict[str, tuple[Callable, Callable]] = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "true_div": (ft.true_div, np.true_divide),
    "maximum": (ft.maximum, np.maximum),
    "minimum": (ft.minimum, np.minimum),
    "eq": (ft.eq, np.equal),
    "lt": (ft.lt, np.less),
}
_TAKE_AT = np.array([0, 5, -1, 13])
#: ops with one parameter: name -> (its values, symbolic, numpy)
PARAM: dict[str, tuple[tuple, Callable, Callable]] = {
    "round": (
        ("half_to_even", "half_away_from_zero"),
        lambda a, p: ft.round(a, mode=p),
        lambda a, p: np.round(a) if p == "half_to_even" else np.sign(a) * np.floor(np.abs(a) + 0.5),
    ),
    "cumsum": ((None, 0, -1), lambda a, p: ft.cumsum(a, axis=p), lambda a, p: np.cumsum(a, axis=p)),
    "cumprod": ((None, 0, -1), lambda a, p: ft.cumprod(a, axis=p), lambda a, p: np.cumprod(a, axis=p)),
    "take": (
        ("clip", "wrap"),
        lambda a, p: ft.take(a, ft.constant(_TAKE_AT), mode=p),
        lambda a, p: np.take(a, _TAKE_AT, mode=p),
    ),
    "pad": (
        ("constant", "edge", "reflect", "wrap"),
        lambda a, p: ft.pad(a, 1, mode=p),
        lambda a, p: np.pad(a, 1, mode=p),
    ),
    "diff": ((1, 2), lambda a, p: ft.diff(a, n=p), lambda a, p: np.diff(a, n=p)),
    "roll": ((1, -1, 2), lambda a, p: ft.roll(a, p), lambda a, p: np.roll(a, p)),
}
REDUCE = ("sum", "max", "min", "prod", "argmax")
CASTS = ("float64", "float32", "int64", "int8", "uint8", "bool")
CONST_VALUES = (0.0, -0.0, np.nan, 1, 1.0, True, 2**40, -1, 0.5, np.inf, 3)
PY_VALUES = (0.0, -0.0, 1, 1.0, True, False, 2, 2**40, -1)
INDEX = (("int", 0), ("int", -1), ("int", 1), ("slice", None, None, -1), ("slice", 1, None, None), ("col", 1))

# An expression: ("in", name) | ("const", value, dtype) | ("py", value)
# | ("op", kind, params, children): kind "un", "bin", "red", "T", "addaxis", "flatten", "reshape",
# "index", "dot", "cast", "where", "param" (an op of PARAM and its parameter).


def _index_np(v: np.ndarray, spec: tuple) -> np.ndarray:
    if spec[0] == "int":
        return v[spec[1]]
    if spec[0] == "slice":
        return v[slice(*spec[1:])]
    return v[:, spec[1]]


def _index_sym(v: Any, spec: tuple) -> Any:
    if spec[0] == "int":
        return v[spec[1]]
    if spec[0] == "slice":
        return v[slice(*spec[1:])]
    return v[:, spec[1]]


def _np_red(kind: str, v: np.ndarray, axis: int | None, keepdims: bool) -> np.ndarray:
    return np.asarray(getattr(np, kind)(v, axis=axis, keepdims=keepdims))


def evaluate(
    e: tuple,
    leaf: Callable[[tuple], Any],
    sym: bool,
    share: frozenset = frozenset(),
    built: dict | None = None,
) -> Any:
    """The value of ``e``: symbolic (``sym``) or numpy's, with ``leaf`` giving each leaf. A
    subexpression whose text is in ``share`` is built once and read wherever it occurs
    (``built`` keeps it); any other is built again at each occurrence."""
    text = repr(e) if share else ""
    if text in share:
        built = {} if built is None else built
        if text not in built:
            built[text] = evaluate(e, leaf, sym, share - {text}, built)
        return built[text]
    if e[0] != "op":
        return leaf(e)
    _, kind, p, kids = e
    a = [evaluate(k, leaf, sym, share, built) for k in kids]
    if kind == "un":
        return UNARY[p[0]][0 if sym else 1](a[0])
    if kind == "bin":
        return BINARY[p[0]][0 if sym else 1](*a)
    if kind == "red":
        if sym:
            return getattr(ft, p[0])(a[0], axis=p[1], keepdims=p[2])
        return _np_red(p[0], a[0], p[1], p[2])
    if kind == "T":
        return a[0].T
    if kind == "addaxis":
        return a[0].dimshuffle("x", *range(a[0].ndim)) if sym else a[0][None]
    if kind == "flatten":
        return ft.flatten(a[0]) if sym else a[0].reshape(-1)
    if kind == "reshape":
        return ft.reshape(a[0], p[0]) if sym else a[0].reshape(p[0])
    if kind == "index":
        return (_index_sym if sym else _index_np)(a[0], p[0])
    if kind == "dot":
        return ft.dot(a[0], a[1]) if sym else np.dot(a[0], a[1])
    if kind == "cast":
        return ft.cast(a[0], p[0]) if sym else np.asarray(a[0]).astype(p[0])
    if kind == "param":
        return PARAM[p[0]][1 if sym else 2](a[0], p[1])
    if kind == "where":
        return ft.switch(a[0], a[1], a[2]) if sym else np.where(a[0], a[1], a[2])
    raise AssertionError(kind)


def numpy_value(e: tuple) -> np.ndarray:
    """numpy's value of ``e`` on the fixed inputs (read-only: it is memoized)."""
    # memoized by the text as well: 0.0 == -0.0 and 1 == 1.0 == True, as tuples and as hashes
    return _numpy_value(repr(e), e)


@functools.lru_cache(maxsize=4096)
def _numpy_value(text: str, e: tuple) -> np.ndarray:
    def leaf(t: tuple) -> Any:
        if t[0] == "in":
            return INPUTS[t[1]][2]
        if t[0] == "const":
            return np.asarray(t[1], dtype=t[2])
        return t[1]

    with np.errstate(all="ignore"):
        out = np.array(evaluate(e, leaf, sym=False))
    out.setflags(write=False)
    return out


def symbolic(e: tuple, inputs: dict[str, Any], share: frozenset = frozenset()) -> Any:
    """The graph of ``e`` on ``inputs``; each constant a new object, and each occurrence of a
    subexpression new nodes, but for those whose text is in ``share`` (built once)."""

    def leaf(t: tuple) -> Any:
        if t[0] == "in":
            return inputs[t[1]]
        if t[0] == "const":
            return ft.constant(np.asarray(t[1], dtype=t[2]))
        return t[1]

    return ft.as_tensor_variable(evaluate(e, leaf, sym=True, share=share, built={}))


def fresh_inputs(prefix: str) -> list[Any]:
    return [ft.tensor(f"{prefix}{n}", dt, shape=shape) for n, (dt, shape, _) in INPUTS.items()]


def _node_ok(e: tuple) -> bool:
    """Whether numpy's value of node ``e`` (its operands already checked) is one C computes too:
    no float made an int unless it is finite and fits, no int cast that wraps, no int result
    beyond 2**53 (an overflow)."""
    try:
        got = numpy_value(e)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    kids = [numpy_value(k) for k in e[3]]
    if e[1] == "dot" and min(k.ndim for k in kids) == 0:
        return False  # numpy's dot by a 0-d array skips IEEE rules (0 * inf gives 0); ft.dot multiplies
    if e[1] == "cast" and np.dtype(e[2][0]).kind in "iu":
        src, info = kids[0].astype("float64"), np.iinfo(e[2][0])
        if src.dtype.kind in "fiu" and not (
            np.all(np.isfinite(src)) and np.all((src >= info.min) & (src <= info.max))
        ):
            return False
    if (
        got.dtype.kind in "iu"
        and e[1] in ("un", "bin", "red", "dot")
        and not (e[1] == "un" and e[2][0] == "invert")
    ):
        with np.errstate(all="ignore"):
            # the node alone, on its operands' values made float64
            wide = evaluate(
                e[:3] + (tuple(("w", k) for k in range(len(kids))),),
                lambda t: kids[t[1]].astype("float64"),
                sym=False,
            )
        if np.any(np.abs(np.asarray(wide, dtype="float64")) > 2.0**53):
            return False
    return True


def _builds(e: tuple) -> bool:
    """Whether fncache builds ``e``, with numpy's dtype: where the two promote differently (a
    bool squared is int8 in numpy, bool in PyTensor and fncache; a float of a bool is float16 in
    numpy) the other dtype tests are the judge, not this one."""
    try:
        out = symbolic(e, dict(zip(NAMES, fresh_inputs("c"))))
    except (TypeError, ValueError, IndexError, OverflowError, NotImplementedError):
        return False
    return out.dtype == numpy_value(e).dtype


def _defined(e: tuple) -> bool:
    """Every node of ``e`` passes :func:`_node_ok`, and fncache builds it."""

    def nodes_ok(t: tuple) -> bool:
        return t[0] != "op" or (all(nodes_ok(k) for k in t[3]) and _node_ok(t))

    return nodes_ok(e) and _builds(e)


# -- strategies ----------------------------------------------------------------------------------


def _leaf(data: st.DataObject) -> tuple:
    r = data.draw(st.integers(0, 9))
    if r < 7:
        return ("in", data.draw(st.sampled_from(NAMES)))
    return ("const", data.draw(st.sampled_from(CONST_VALUES)), data.draw(st.sampled_from(CASTS)))


def _const_ok(t: tuple) -> bool:
    """A constant whose value its dtype holds exactly (no NaN made an int, no 2**40 made int8)."""
    v = np.asarray(t[1])
    with np.errstate(all="ignore"):
        held = v.astype(t[2])
    return bool(np.array_equal(held.astype(v.dtype), v, equal_nan=True) and np.signbit(held) == np.signbit(v))


def _node(data: st.DataObject, kind: str, kids: list[tuple]) -> tuple:
    if kind == "un":
        p: tuple = (data.draw(st.sampled_from(sorted(UNARY))),)
    elif kind == "bin":
        p = (data.draw(st.sampled_from(sorted(BINARY))),)
    elif kind == "red":
        nd = numpy_value(kids[0]).ndim
        p = (
            data.draw(st.sampled_from(REDUCE)),
            data.draw(st.sampled_from([None, *range(nd), *([-1] if nd else [])])),
            data.draw(st.booleans()),
        )
    elif kind == "reshape":
        size = numpy_value(kids[0]).size
        p = (
            data.draw(
                st.sampled_from([(-1,), (2, -1), (-1, 2), (1, -1)] if size % 2 == 0 else [(-1,), (1, -1)])
            ),
        )
    elif kind == "index":
        p = (data.draw(st.sampled_from(INDEX)),)
    elif kind == "cast":
        p = (data.draw(st.sampled_from(CASTS)),)
    elif kind == "param":
        name = data.draw(st.sampled_from(sorted(PARAM)))
        p = (name, data.draw(st.sampled_from(PARAM[name][0])))
    else:
        p = ()
    return ("op", kind, p, tuple(kids))


ARITY = {
    "un": 1,
    "bin": 2,
    "red": 1,
    "T": 1,
    "addaxis": 1,
    "flatten": 1,
    "reshape": 1,
    "index": 1,
    "dot": 2,
    "cast": 1,
    "where": 3,
    "param": 1,
}


def _expr(data: st.DataObject, depth: int) -> tuple:
    if depth == 0 or data.draw(st.integers(0, 5)) == 0:
        leaf = _leaf(data)
        return leaf if leaf[0] == "in" or _const_ok(leaf) else ("in", "x")
    kind = data.draw(st.sampled_from(sorted(ARITY)))
    kids = [_expr(data, depth - 1) for _ in range(ARITY[kind])]
    if len(kids) > 1 and data.draw(st.integers(0, 3)) == 0:
        kids[-1] = kids[0]  # a repeat: written twice, or once and read twice (``share``)
    if kind == "bin" and data.draw(st.integers(0, 3)) == 0:
        kids[1] = ("py", data.draw(st.sampled_from(PY_VALUES)))
    node = _node(data, kind, kids)
    return node if _node_ok(node) and _builds(node) else kids[0]


def _positions(e: tuple, path: tuple = ()) -> list[tuple]:
    out = [path]
    if e[0] == "op":
        for k, kid in enumerate(e[3]):
            out += _positions(kid, path + (k,))
    return out


def _at(e: tuple, path: tuple) -> tuple:
    return e if not path else _at(e[3][path[0]], path[1:])


def _replace(e: tuple, path: tuple, new: tuple) -> tuple:
    if not path:
        return new
    kids = list(e[3])
    kids[path[0]] = _replace(kids[path[0]], path[1:], new)
    return e[:3] + (tuple(kids),)


def _changed(data: st.DataObject, t: tuple) -> tuple:
    """``t`` with one thing changed: an input, a constant's value or dtype, an op or one of its
    parameters, an operand order."""
    if t[0] == "in":
        return ("in", data.draw(st.sampled_from([n for n in NAMES if n != t[1]])))
    if t[0] == "py":
        return ("py", data.draw(st.sampled_from([v for v in PY_VALUES if repr(v) != repr(t[1])])))
    if t[0] == "const":
        if data.draw(st.booleans()):
            return ("const", t[1], data.draw(st.sampled_from([d for d in CASTS if d != t[2]])))
        return ("const", data.draw(st.sampled_from([v for v in CONST_VALUES if repr(v) != repr(t[1])])), t[2])
    _, kind, p, kids = t
    if kind in ("bin", "dot", "where") and data.draw(st.booleans()):
        order = data.draw(st.permutations(range(len(kids))))
        return ("op", kind, p, tuple(kids[k] for k in order))
    if kind == "red":
        which = data.draw(st.integers(0, 2))
        options = {0: REDUCE, 1: [None, 0, 1, -1], 2: [True, False]}[which]
        new = list(p)
        new[which] = data.draw(st.sampled_from([o for o in options if o != p[which]]))
        return ("op", kind, tuple(new), kids)
    if kind in ("T", "addaxis", "flatten"):
        return (
            "op",
            data.draw(st.sampled_from([k for k in ("T", "addaxis", "flatten") if k != kind])),
            (),
            kids,
        )
    choices = {
        "un": sorted(UNARY),
        "bin": sorted(BINARY),
        "index": INDEX,
        "cast": CASTS,
        "reshape": [(-1,), (2, -1), (-1, 2), (1, -1)],
    }
    if kind in choices:
        return ("op", kind, (data.draw(st.sampled_from([c for c in choices[kind] if c != p[0]])),), kids)
    if kind == "dot":
        return ("op", "bin", ("mul",), kids)
    if kind == "param":
        if data.draw(st.booleans()):
            return (
                "op",
                kind,
                (p[0], data.draw(st.sampled_from([v for v in PARAM[p[0]][0] if v != p[1]]))),
                kids,
            )
        name = data.draw(st.sampled_from([n for n in PARAM if n != p[0]]))
        return ("op", kind, (name, PARAM[name][0][0]), kids)
    return ("op", "where", (), (kids[0], kids[2], kids[1]))


@st.composite
def graph_and_mutation(draw: Any) -> tuple[tuple, tuple]:
    data = draw(st.data())
    e = _expr(data, data.draw(st.integers(1, 4)))
    positions = _positions(e)
    path = data.draw(st.sampled_from(positions))
    new = _changed(data, _at(e, path))
    m = _replace(e, path, new)
    assume(all(_const_ok(t) for t in (_at(m, q) for q in _positions(m)) if t[0] == "const"))
    assume(_defined(m))
    return e, m


def repeats(e: tuple) -> list[str]:
    """The texts of the subexpressions (ops and constants) that ``e`` holds more than once."""
    count = Counter(repr(t) for t in (_at(e, q) for q in _positions(e)) if t[0] in ("op", "const"))
    return sorted(text for text, n in count.items() if n > 1)


@st.composite
def graph_mutation_and_sharing(draw: Any) -> tuple[tuple, tuple, frozenset]:
    """A graph, its mutation, and some of the graph's repeats to build once: the graph built
    with them shared computes what it computes written out (one node made two, or two equal
    nodes made one), so it must have its key."""
    e, m = draw(graph_and_mutation())
    if draw(st.booleans()):  # a repeat at the top, the mutation in its first copy
        op = ("op", "bin", (draw(st.sampled_from(sorted(BINARY))),))
        twice, changed = op + ((e, e),), op + ((m, e),)
        if _defined(twice) and _defined(changed):
            e, m = twice, changed
    found = repeats(e)
    return e, m, frozenset(draw(st.sets(st.sampled_from(found), min_size=1))) if found else frozenset()


def differ(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two results differ: dtype, shape, or any value bit (the sign of a zero too),
    NaN's sign and payload apart (numpy's own kernels for one value differ in them)."""
    return a.dtype != b.dtype or a.shape != b.shape or _bits(a) != _bits(b)


def _bits(v: np.ndarray) -> bytes:
    if v.dtype.kind == "f":
        v = np.where(np.isnan(v), np.nan, v).astype(v.dtype)
    return v.tobytes()


def graph_of(e: tuple, prefix: str, share: frozenset = frozenset()) -> FunctionGraph:
    ins = fresh_inputs(prefix)
    out = symbolic(e, dict(zip(NAMES, ins)), share)
    if prefix != "a":
        out.name = f"{prefix}_out"
    return FunctionGraph(ins, [out])


# -- (1, 2) keys without compiling ----------------------------------------------------------------


def _parts(fg: FunctionGraph) -> int:
    """How many nodes and constants ``fg`` has, each counted as often as it was made."""
    form = canonical_form(fg.inputs, fg.outputs)
    return len(form.roots) + len(form.nodes)


@fuzz_settings(150)
@given(graph_mutation_and_sharing())
def test_keys_tell_apart_what_computes_differently_and_match_the_same_graph(case):
    e, m, share = case
    mode = get_mode("FAST_RUN")
    ka = function_key(graph_of(e, "a"), mode)
    assert function_key(graph_of(e, "renamed_"), mode) == ka, f"the same graph, another key: {e}"
    if share:
        event("repeats built once")
        shared = graph_of(e, "s", share)
        assert function_key(shared, mode) == ka, f"{e} with {sorted(share)} built once, another key"
        # a mode without `merge` runs the nodes as written: its keys keep apart graphs that
        # have other numbers of nodes or constants (``y.T`` of a vector makes none)
        plain, written = mode.excluding("merge"), graph_of(e, "a")
        if _parts(shared) != _parts(written):
            assert function_key(shared, plain) != function_key(written, plain), f"{e}: {sorted(share)}"
    if differ(numpy_value(e), numpy_value(m)):
        event("the mutation computes something else")
        kb = function_key(graph_of(m, "a", share), mode)
        assert kb != ka, f"{e} and {m} compute different things but share key {ka.digest[:16]}"


# -- (1, 2) compiled through one compiledir -------------------------------------------------------


@pytest.fixture(scope="module")
def shared_compiledir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keyfuzz") / "cd"


def _function_counts() -> tuple[int, int]:
    kind = fc.cache.stats()["per_kind"].get("function", {})
    return int(kind.get("hits", 0)), int(kind.get("misses", 0))


def compile_expr(
    e: tuple, prefix: str, nan_check: bool = False, share: frozenset = frozenset()
) -> fc.Function:
    """``e`` compiled, taking every input (its repeats in ``share`` built once); ``nan_check``
    adds a second output, ``isnan(x)`` (what ``-ffast-math`` compiles to false)."""
    ins = fresh_inputs(prefix)
    out = symbolic(e, dict(zip(NAMES, ins)), share)
    return fc.function(ins, [out, ft.isnan(ins[0])] if nan_check else out, on_unused_input="ignore")


def _args() -> list[np.ndarray]:
    return [v.copy() for _, _, v in INPUTS.values()]


def check_result(f: fc.Function, e: tuple, what: str) -> None:
    # the sign of a zero is not compared: min, max and sums may give either (numpy's too)
    assert_same(np.asarray(f(*_args())), numpy_value(e), f"{what}: {e}")


@fuzz_settings(20)
@given(graph_mutation_and_sharing())
def test_a_graph_and_its_mutation_each_compute_their_own_result_from_one_compiledir(shared_compiledir, case):
    """The graph built again has some of its repeats built once (``share``): still a hit."""
    e, m, share = case
    with config.change_flags(compiledir=str(shared_compiledir)):
        fa = compile_expr(e, "a")
        fb = compile_expr(m, "b", share=share)
        hits, misses = _function_counts()
        again = compile_expr(e, "again_", share=share)
        assert _function_counts() == (hits + 1, misses), (
            f"the same graph missed its entry: {e} {sorted(share)}"
        )
        assert again.cache_key == fa.cache_key
        if differ(numpy_value(e), numpy_value(m)):
            assert fb.cache_key != fa.cache_key, f"{e} and {m} share a key"
        for f, x, what in ((fa, e, "graph"), (fb, m, "mutation"), (again, e, "graph from the cache")):
            check_result(f, x, what)


FLAG_SETS = (
    {"floatX": "float32"},
    {"cxxflags": "-O2 -ffast-math"},
    {"floatX": "float32", "cxxflags": "-O2 -ffast-math"},
)


@fuzz_settings(8)
@given(graph_and_mutation(), st.sampled_from(FLAG_SETS))
def test_code_compiled_under_other_flags_is_never_handed_to_the_default_flags(shared_compiledir, pair, flags):
    """floatX is part of the function key; cxxflags only of the kernel library's (the function
    entry is the same on every host and for every compiler flag): a cache warmed under other
    flags still gives the default flags their own code."""
    e = pair[0]
    with config.change_flags(compiledir=str(shared_compiledir), **flags):
        warm = compile_expr(e, "w", nan_check=True)
    with config.change_flags(compiledir=str(shared_compiledir)):
        f = compile_expr(e, "d", nan_check=True)
    assert (f.cache_key != warm.cache_key) == ("floatX" in flags), f"{flags}: {e}"
    got, nans = f(*_args())
    assert_same(np.asarray(got), numpy_value(e), f"default flags after {flags}: {e}")
    assert_same(nans, np.isnan(INPUTS["x"][2]), f"isnan(x) with default flags after {flags}")


# -- (3) pickles loaded in a fresh process --------------------------------------------------------

_LOAD_ALL = """
import pickle, sys
import fncache as fc
from fncache.config import config
with open(sys.argv[1], "rb") as fh:
    blobs, args = pickle.load(fh)
with config.change_flags(compiledir=sys.argv[2]):
    results = [pickle.loads(b)(*args) for b in blobs]
    misses = fc.cache.stats()["per_kind"].get("function", {}).get("misses", 0)
with open(sys.argv[1], "wb") as fh:
    pickle.dump((results, misses), fh)
"""


def test_pickled_functions_compute_the_same_in_a_fresh_process(shared_compiledir, tmp_path):
    made: list[tuple[tuple, bytes]] = []

    @fuzz_settings(8)
    @given(graph_and_mutation())
    def collect(pair):
        with config.change_flags(compiledir=str(shared_compiledir)):
            for x in pair:
                made.append((x, pickle.dumps(compile_expr(x, "p"))))

    collect()
    with config.change_flags(compiledir=str(shared_compiledir)):
        misses_before = _function_counts()[1]
    path = tmp_path / "functions.pkl"
    path.write_bytes(pickle.dumps(([b for _, b in made], _args())))
    subprocess.run(
        [sys.executable, "-c", _LOAD_ALL, str(path), str(shared_compiledir)], check=True, timeout=300
    )
    results, misses = pickle.loads(path.read_bytes())
    assert misses == misses_before, "a pickled function missed its function entry in another process"
    for (x, _), got in zip(made, results):
        assert_same(np.asarray(got), numpy_value(x), f"loaded in a fresh process: {x}")
