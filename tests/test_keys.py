"""Soundness of the cache keys (the random-graph tests compute keys without compiling).

* op identity is the canonical text of class and props: ops that print alike but differ never
  share it, and it is what equality (hence `merge`) reads;
* every code-changing flag is read by the kind of key ``config`` says;
* thousands of random graph pairs: graphs computing different things (by the ops' own numpy
  ``perform``) never share a function key, and the same graph built in another order, with other
  names and other constant objects, always does; module keys follow their kernel source;
* ``cache_verify_hits`` (on for this whole module) rebuilds every hit and names the key and what
  differs when an entry does not match.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.cache.keys import COMPONENTS, kernel_library_key, cuda_module_key, describe
from fncache.config import CODE_FLAG_KEYS, config
from fncache.graph.basic import Constant, toposort
from fncache.graph.canonical import canonical
from fncache.graph.fgraph import FunctionGraph
from fncache.mode import get_mode
from fncache.runtime.compile import function_key as graph_function_key
from fncache.tensor import scalar_ops as S
from fncache.tensor.elemwise import Elemwise


pytestmark = pytest.mark.verify_hits


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path):
    """Each test has its own compiledir: some store entries that do not match their keys."""
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def test_hits_are_verified_in_this_module():
    assert config.cache_verify_hits


# -- op identity ----------------------------------------------------------------------------------


def _fused(second: int) -> Elemwise:
    """(in0 - in1) * in<second>: one fused loop whose display text does not show ``second``."""
    return Elemwise(
        S.Composite(
            ("float64", "float64"),
            [("sub", (("in", 0), ("in", 1)), "float64"), ("mul", (("s", 0), ("in", second)), "float64")],
            [1],
        )
    )


def test_fused_ops_that_print_alike_have_different_identities():
    a, b = _fused(0), _fused(1)
    assert str(a) == str(b) and repr(a.composite) == repr(b.composite)
    assert a != b and a.signature() != b.signature()
    assert a == _fused(0) and hash(a) == hash(_fused(0)) and a.signature() == _fused(0).signature()
    x, y = ft.dvector("x"), ft.dvector("y")
    ka, kb = (graph_function_key(FunctionGraph([x, y], [op(x, y)]), get_mode(None)) for op in (a, b))
    assert ka != kb and [d[0] for d in ka.explain(kb)] == ["graph_sha256"]


def test_graphs_holding_optimized_fused_ops_get_their_own_keys():
    x, y = ft.dvector("x"), ft.dvector("y")
    f, g = fc.function([x, y], (x - y) * x), fc.function([x, y], (x - y) * y)
    fo, go = f.optimized_graph, g.optimized_graph
    assert graph_function_key(fo, f.mode) != graph_function_key(go, g.mode)
    v = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    assert not np.allclose(f(*v), g(*v))


_NAN = float("nan")
_OTHER_NAN = float(np.array([0x7FF8000000000ABC], dtype="uint64").view("float64")[0])


@pytest.mark.parametrize(
    "a, b",
    [
        (1, 1.0),
        (1, True),
        (0, False),
        ((1, 2), [1, 2]),
        ("1", 1),
        (np.float32(1), np.float64(1)),
        (0.1, 0.1 + 1e-17 * 3),
        (np.zeros(3), np.zeros(3, "float32")),
        ({"a": 1}, {"a": 2}),
        (0.0, -0.0),
        # a NaN's sign and payload (copysign reads the sign; arithmetic carries the payload)
        (_NAN, -_NAN),
        (_NAN, _OTHER_NAN),
        ((1.0, _NAN), (1.0, -_NAN)),
        ([_NAN], [_OTHER_NAN]),
        (np.float32(_NAN), np.float32(-_NAN)),
    ],
)
def test_canonical_text_tells_apart_values_python_calls_equal_or_prints_alike(a, b):
    assert canonical(a) != canonical(b)


def test_canonical_text_ignores_what_does_not_change_a_value():
    assert canonical({"a": 1, "b": (2, None)}) == canonical({"b": (2, None), "a": 1})
    assert canonical(frozenset({3, 1, 2})) == canonical(frozenset({2, 3, 1}))
    assert canonical(np.arange(4)) == canonical(np.arange(4).copy())
    assert canonical((1.0, _NAN)) == canonical((1.0, float("nan"))) == canonical((1.0, np.nan))
    assert canonical(np.add) == canonical(np.add) != canonical(np.subtract)
    assert canonical(len) != canonical(abs) and canonical(int) != canonical(float)
    assert canonical(fc.TensorType("float32", (None, 3))) == canonical(fc.TensorType("float32", (None, 3)))
    assert canonical(fc.TensorType("float32", (None, 3))) != canonical(fc.TensorType("float32", (None, 4)))


def test_python_ops_are_identified_by_their_function_and_an_unpicklable_one_runs_uncached():
    import threading

    lock = threading.Lock()

    def double(a):
        with lock:
            return a * 2

    op = ft.as_op(ft.dvector().type, ft.dvector().type)(double)
    x = ft.dvector("x")
    f = fc.function([x], op(x) + 1)
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])
    triple = ft.as_op(ft.dvector().type, ft.dvector().type)(lambda a: a * 3)
    quad = ft.as_op(ft.dvector().type, ft.dvector().type)(lambda a: a * 4)
    assert triple != quad and triple.signature() != quad.signature()


KEY_SCRIPT = """
import numpy as np, fncache as fc
from fncache import tensor as ft
from fncache.graph.fgraph import FunctionGraph
from fncache.mode import get_mode
from fncache.runtime.compile import function_key
x, m = ft.dvector("x"), ft.dmatrix("m")
scale = ft.as_op(ft.dvector().type, ft.dvector().type)(lambda a: a * 3)
out = ft.sum(ft.exp(m[1:, ::2]), axis=0) + scale(x) * np.arange(3.0) + ft.max(x)
f = fc.function([x, m], out)
print(function_key(FunctionGraph([x, m], [out]), get_mode(None)).digest,
      function_key(f.optimized_graph, f.mode).digest)
"""


def test_keys_are_the_same_in_every_process(tmp_path):
    """No component depends on object ids, hash seeds or set order: two processes with other
    hash seeds compute the same keys for an original and an optimized graph."""
    import os
    import subprocess
    import sys

    outs = []
    for seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"},
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout.split()[-2:])
    assert outs[0] == outs[1] and len(outs[0]) == 2


def test_a_key_is_a_value_that_cannot_change():
    import copy
    import pickle

    from fncache.cache.keys import CacheKey

    key = CacheKey("function", {"graph": "g", "mode": "m"})
    same = CacheKey("function", {"mode": "m", "graph": "g"})
    assert key == same and hash(key) == hash(same) and len({key, same}) == 1
    assert key != CacheKey("function", {"graph": "g", "mode": "other"}) and key != key.digest
    assert pickle.loads(pickle.dumps(key)) == key == copy.deepcopy(key)
    assert CacheKey("function").components == {}
    for change in (
        lambda: setattr(key, "kind", "cuda"),
        lambda: delattr(key, "components"),
        lambda: key.components.__setitem__("graph", "h"),
    ):
        with pytest.raises((AttributeError, TypeError)):
            change()
    assert key == same
    with pytest.raises(ValueError, match="kind must be a word"):
        CacheKey("no spaces allowed")
    with pytest.raises(TypeError, match="must map str to str"):
        CacheKey("function", {"graph": 1})


# -- flags and components -------------------------------------------------------------------------


def test_every_code_flag_is_read_by_the_key_config_names():
    assert set(CODE_FLAG_KEYS.values()) <= {"function", "kernel_library", "cuda"}
    x = ft.dvector("x")
    fg = FunctionGraph([x], [ft.exp(x)])
    changed = {
        "floatX": "float32",
        "device": "cuda",
        "cxxflags": "-O1",
        "gcc__cxxflags": "-O2",
        "march": "none",
        "vector_width": "128",
        "cxx": "cc",
        "cuda_arch": "sm_80",
    }
    assert set(changed) == set(CODE_FLAG_KEYS), "give each code flag another value to try"

    def keys():
        from fncache.codegen.cuda.device import resolve_arch

        return {
            "function": graph_function_key(fg, get_mode("FAST_RUN")),
            "kernel_library": kernel_library_key("int x;", extra_flags=[]),
            "cuda": cuda_module_key("src", cuda_arch=resolve_arch(), nvcc_version="13.0", nvcc_flags=[]),
        }

    with config.change_flags(cuda_arch="sm_90", march="-march=x86-64", vector_width="256"):
        base = keys()
        for name, kind in CODE_FLAG_KEYS.items():
            if name == "cxx":
                continue  # another compiler name may be the same compiler: its version is the component
            with config.change_flags(**{name: changed[name]}):
                now = keys()
            assert now[kind] != base[kind], f"flag {name} does not change the {kind} key"
            for other in set(now) - {kind, "function"}:
                assert now[other] == base[other], f"flag {name} changes the {other} key"
    assert kernel_library_key("int x;", extra_flags=[]).components["compiler"]


def test_every_component_is_described():
    x = ft.dvector("x")
    names = set(graph_function_key(FunctionGraph([x], [x * 2]), get_mode(None)).components)
    names |= set(kernel_library_key("int x;", extra_flags=[]).components)
    names |= set(cuda_module_key("s", cuda_arch="sm_90", nvcc_version="1", nvcc_flags=[]).components)
    for name in sorted(names):
        assert name in COMPONENTS or name.startswith("flag."), name
        assert describe(name) and not describe(name).startswith("a component of another"), name
    assert "floatX" in describe("flag.floatX")


# -- random graph pairs ---------------------------------------------------------------------------

UNARY = {"float": ("neg", "abs", "exp", "sin", "sqr", "tanh"), "int": ("neg", "abs", "sqr")}
BINARY = ("add", "sub", "mul", "maximum", "minimum")
DTYPES = ("float64", "float32", "int64")
_SYM = {
    "neg": lambda a: -a,
    "abs": ft.abs,
    "exp": ft.exp,
    "sin": ft.sin,
    "sqr": ft.sqr,
    "tanh": ft.tanh,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "maximum": ft.maximum,
    "minimum": ft.minimum,
}


def random_expr(rng: np.random.Generator, n_in: int, depth: int) -> tuple:
    """("in", k) | ("const", v) | ("un", op, e) | ("bin", op, a, b) | ("red", kind, axis, e)
    | ("where", a, b, c, d): where(a > b, c, d)."""
    if depth == 0 or rng.random() < 0.2:
        return (
            ("in", int(rng.integers(n_in)))
            if rng.random() < 0.85
            else ("const", [0.5, 2.0, -1.0, 3][int(rng.integers(4))])
        )
    r = rng.random()
    if r < 0.3:
        return ("un", UNARY["float"][int(rng.integers(6))], random_expr(rng, n_in, depth - 1))
    if r < 0.75:
        return (
            "bin",
            BINARY[int(rng.integers(5))],
            random_expr(rng, n_in, depth - 1),
            random_expr(rng, n_in, depth - 1),
        )
    if r < 0.9:
        return (
            "red",
            ("sum", "max")[int(rng.integers(2))],
            (None, 0)[int(rng.integers(2))],
            random_expr(rng, n_in, depth - 1),
        )
    return ("where",) + tuple(random_expr(rng, n_in, depth - 1) for _ in range(4))


def mutate(rng: np.random.Generator, e: tuple, n_in: int) -> tuple:
    """``e`` with one random change (an op, an operand order, a constant, a subtree, an axis)."""
    tag = e[0]
    kids = {"un": [2], "bin": [2, 3], "red": [3], "where": [1, 2, 3, 4]}.get(tag, [])
    if kids and rng.random() < 0.6:
        i = kids[int(rng.integers(len(kids)))]
        return e[:i] + (mutate(rng, e[i], n_in),) + e[i + 1 :]
    if tag == "un":
        return ("un", UNARY["float"][int(rng.integers(6))], e[2])
    if tag == "bin":
        return (
            ("bin", e[1], e[3], e[2])
            if rng.random() < 0.5
            else ("bin", BINARY[int(rng.integers(5))], e[2], e[3])
        )
    if tag == "red":
        return (
            ("red", e[1], None if e[2] == 0 else 0, e[3])
            if rng.random() < 0.5
            else ("red", "max" if e[1] == "sum" else "sum", e[2], e[3])
        )
    if tag == "const":
        return ("const", e[1] + 1)
    if tag == "in":
        return ("in", (e[1] + 1) % n_in)
    return random_expr(rng, n_in, 2)


def build(e: tuple, vs: list, reverse: bool, names: list[str]) -> object:
    """The symbolic graph of ``e``; ``reverse`` builds operands right to left and names every
    intermediate, so the same graph comes from another construction order with other names."""
    tag = e[0]
    if tag == "in":
        return vs[e[1]]
    if tag == "const":
        return e[1]  # a new constant object each time it is built
    kids = {"un": [2], "bin": [2, 3], "red": [3], "where": [1, 2, 3, 4]}[tag]
    order = kids[::-1] if reverse else kids
    built = {i: build(e[i], vs, reverse, names) for i in order}
    args = [built[i] for i in kids]
    if tag == "un":
        out = _SYM[e[1]](args[0])
    elif tag == "bin":
        out = _SYM[e[1]](*args)
    elif tag == "red":
        x = ft.as_tensor_variable(args[0])
        out = getattr(ft, e[1])(x, axis=e[2] if x.ndim else None)
    else:
        out = ft.where(ft.as_tensor_variable(args[0]) > args[1], args[2], args[3])
    if reverse and hasattr(out, "name"):
        out.name = names.pop() if names else None
    return out


def perform(fg: FunctionGraph, values: list[np.ndarray]) -> np.ndarray:
    """The graph's value by its ops' own numpy ``perform``: what it computes."""
    env = {id(v): x for v, x in zip(fg.inputs, values)}
    with np.errstate(all="ignore"):
        for node in toposort(fg.outputs, blockers=fg.inputs):
            ins = [v.data if isinstance(v, Constant) else env[id(v)] for v in node.inputs]
            for o, r in zip(node.outputs, node.op.perform(node, ins)):
                env[id(o)] = r
    out = fg.outputs[0]
    return out.data if isinstance(out, Constant) else env[id(out)]


def _graph(case: tuple, reverse: bool) -> FunctionGraph:
    dtypes, ndims, e = case
    pre = "u" if reverse else "i"
    vs = [ft.tensor(f"{pre}{k}", dt, nd) for k, (dt, nd) in enumerate(zip(dtypes, ndims))]
    out = ft.as_tensor_variable(build(e, vs, reverse, [f"t{k}" for k in range(40)]))
    return FunctionGraph(vs, [out])


def _same_value(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _cases(seed: int, n: int) -> Iterator[tuple]:
    """``n`` random (input dtypes, input ndims, expression, mutated expression)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < n:
        n_in = int(rng.integers(1, 4))
        dtypes = tuple(DTYPES[int(rng.integers(3))] for _ in range(n_in))
        ndims = tuple(int(rng.integers(0, 3)) for _ in range(n_in))
        e = random_expr(rng, n_in, int(rng.integers(1, 5)))
        if e[0] in ("in", "const"):
            continue
        made += 1
        yield dtypes, ndims, e, mutate(rng, e, n_in)


def _inputs(case: tuple, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((3,) * nd) * 3).astype(dt) for dt, nd in zip(case[0], case[1])]


def test_random_graph_pairs_share_function_keys_exactly_when_they_are_the_same_graph():
    mode = get_mode("FAST_RUN")
    same = different = 0
    for k, (dtypes, ndims, e, m) in enumerate(_cases(1234, 3000)):
        if different >= 1000:
            break
        a = _graph((dtypes, ndims, e), reverse=False)
        a_again = _graph((dtypes, ndims, e), reverse=True)
        b = _graph((dtypes, ndims, m), reverse=False)
        key_a = graph_function_key(a, mode)
        assert graph_function_key(a_again, mode) == key_a, f"same graph, other key: {e}"
        same += 1
        vals = _inputs((dtypes, ndims), k)
        if _same_value(perform(a, vals), perform(b, vals)):
            continue  # the change computes the same here (x+y vs y+x, max of a constant...)
        different += 1
        assert graph_function_key(b, mode) != key_a, f"{e} and {m} compute different things"
    assert same >= 1000 and different >= 1000, (same, different)


def test_random_optimized_graph_pairs_keys_follow_what_they_compute():
    """Optimized graphs hold fused loops (what ``f.optimized_graph`` gives a user to compile
    again): as originals they share a function key exactly when they are the same graph.
    Module keys name the kernel library: two graphs share one exactly when they render the
    same kernels (their programs, which wire the kernels, come from the function entry)."""
    from fncache.codegen.c_linker import module_key_for
    from fncache.codegen.c_module import render_module
    from fncache.runtime.compile import optimize_graph

    mode = get_mode("FAST_RUN")
    different = distinct_modules = 0
    for k, (dtypes, ndims, e, m) in enumerate(_cases(99, 3000)):
        if different >= 1000:
            break
        opt = [
            optimize_graph(_graph(case, reverse), mode)
            for case, reverse in (
                ((dtypes, ndims, e), False),
                ((dtypes, ndims, e), True),
                ((dtypes, ndims, m), False),
            )
        ]
        fkeys = [graph_function_key(g, mode) for g in opt]
        mods = [render_module(g, n_explicit=len(dtypes), single=True) for g in opt]
        mkeys = [module_key_for(mod.source) for mod in mods]
        assert fkeys[0] == fkeys[1] and mkeys[0] == mkeys[1], f"same graph, other key: {e}"
        assert (mkeys[0] == mkeys[2]) == (mods[0].source == mods[2].source)
        vals = _inputs((dtypes, ndims), k)
        if _same_value(perform(opt[0], vals), perform(opt[2], vals)):
            continue
        different += 1
        assert fkeys[0] != fkeys[2], f"optimized {e} and {m} compute different things"
        distinct_modules += mkeys[0] != mkeys[2]
    assert different >= 1000 and distinct_modules > 500, (different, distinct_modules)


# -- verification mode ----------------------------------------------------------------------------


def test_verified_hits_pass_for_a_sound_entry():
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + x)
    g = fc.function([x], ft.exp(x) * 2 + x)  # a hit at both levels, rebuilt and compared
    stats = fc.cache.stats()
    assert stats["hits"] >= 2
    np.testing.assert_allclose(g(np.arange(3.0)), f(np.arange(3.0)))


def test_a_function_entry_that_does_not_match_its_rebuild_raises_naming_key_and_part():
    import pickle
    from fncache.graph.serialize import dumps, encode_graph
    from fncache.runtime.compile import GRAPH_FILE, optimize_graph

    x, y = ft.dvector("x"), ft.dvector("y")
    fg = FunctionGraph([x, y], [(x - y) * x])
    other = FunctionGraph([x, y], [(x - y) * y])
    mode = get_mode("FAST_RUN")
    key = graph_function_key(fg, mode)
    # An unsound key: the entry under fg's key holds another graph's optimization.
    fc.cache.put_bytes(key, {GRAPH_FILE: dumps(encode_graph(optimize_graph(other, mode)))}, {})
    with pytest.raises(fc.CacheError, match=rf"{key.digest}.*function key.*optimized graph differs"):
        fc.function([x, y], (x - y) * x)
    with config.change_flags(cache_verify_hits=False):  # what the unsound key silently serves
        f = fc.function([x, y], (x - y) * x)
    assert f(np.array([1.0]), np.array([3.0]))[0] == -6.0
    assert pickle.loads(pickle.dumps(_fused(0))) == _fused(0)


def test_a_kernel_library_that_does_not_match_its_rebuild_raises_naming_key_and_part():
    from fncache.codegen.c_linker import compile_module, module_key_for
    from fncache.codegen.c_module import render_module
    from fncache.runtime.compile import optimize_graph

    x = ft.dvector("x")
    mode = get_mode("FAST_RUN")
    mods = [
        render_module(optimize_graph(FunctionGraph([x], [out]), mode), n_explicit=1, single=True)
        for out in (ft.exp(x) + 1, ft.sin(x) + 1)
    ]
    key = module_key_for(mods[0].source)
    with config.change_flags(cache_verify_hits=False):
        compile_module(mods[1], key)  # stored under the first module's key
    with pytest.raises(fc.CacheError, match=rf"{key.digest}.*kernel_library key.*source differs"):
        compile_module(mods[0], key)
    compile_module(mods[1], module_key_for(mods[1].source))  # its own key: built, then verified


def test_a_cuda_entry_whose_source_does_not_match_its_rebuild_raises_naming_key_and_part():
    from fncache.codegen.cuda.linker import CUBIN, SOURCE
    from fncache.toolchain.nvcc import NVCC_FLAGS, find_nvcc
    from fncache.codegen.cuda.render import render_graph
    from fncache.runtime.compile import optimize_graph

    nvcc = find_nvcc()
    if nvcc is None:
        pytest.skip("nvcc (CUDA toolkit) not installed")
    mode = fc.Mode(device="cuda")
    x, y = ft.fvector("x"), ft.fvector("y")
    with config.change_flags(cuda_arch="sm_90"):
        source = render_graph(optimize_graph(FunctionGraph([x, y], [ft.exp(x) * y]), mode)).source
        key = cuda_module_key(source, cuda_arch="sm_90", nvcc_version=nvcc.version, nvcc_flags=NVCC_FLAGS)
        fc.cache.put_bytes(key, {CUBIN: b"never loaded", SOURCE: source.replace("exp", "sin").encode()}, {})
        with pytest.raises(fc.CacheError, match=rf"{key.digest}.*cuda key.*source differs"):
            fc.function([x, y], ft.exp(x) * y, mode=mode)


def test_explain_says_what_each_differing_component_is(tmp_path):
    import json
    import os
    import shutil
    import subprocess
    import sys

    x = ft.dvector("x")
    keys = []
    for floatx in ("float64", "float32"):
        with config.change_flags(floatX=floatx):
            key = graph_function_key(FunctionGraph([x], [x * 2]), get_mode(None))
            fc.cache.put_bytes(key, {"graph.pkl": b"-"}, {})
            keys.append(key.digest)
    command = [shutil.which("fncache")] if shutil.which("fncache") else [sys.executable, "-m", "cli.main"]
    env = {k: v for k, v in os.environ.items() if k != "FNCACHE_FLAGS"}
    run = [*command, "explain", *keys, "--compiledir", config.compiledir]
    doc = json.loads(
        subprocess.run(
            [*run, "--json"], capture_output=True, text=True, check=True, env=env, timeout=300
        ).stdout
    )
    assert [(d["component"], d["meaning"]) for d in doc["differences"]] == [
        ("flag.floatX", describe("flag.floatX"))
    ]
    text = subprocess.run(run, capture_output=True, text=True, check=True, env=env, timeout=300).stdout
    assert f"  ({describe('flag.floatX')})" in text.splitlines()


def test_a_shared_variable_and_an_input_of_one_type_do_not_share_a_key(caplog) -> None:
    """``function([q], q.sum())`` and ``function([], u.sum())`` for a shared ``u`` of q's type
    are different functions: one key made the second load the first's entry (whose graph reads
    a shared value it does not have) and rebuild it on every compile."""
    u = fc.shared(np.array([1, 2], dtype="uint8"))
    q = ft.tensor("q", "uint8", 1)
    f, g = fc.function([], u.sum()), fc.function([q], q.sum())
    assert f.cache_key != g.cache_key
    with caplog.at_level("WARNING", logger="fncache"):
        for _ in range(2):
            assert fc.function([q], q.sum())(np.array([3, 4], "uint8")) == 7
            assert fc.function([], u.sum())() == 3
    assert "could not be loaded" not in caplog.text
