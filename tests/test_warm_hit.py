"""A warm hit keys the kernel library from the hash its function entry records, not by
rendering the library's source again; the key stays that of the source.

* the program rendered alone is the program of the full render, for every kind of step;
* the recorded hash is the hash of the source the loaded graph renders to, so the library's key
  is the one a full render gives (and another graph records another hash, hence another key);
* a hit renders no kernel source, in this process and in a fresh one, and computes what numpy does;
* a library missing from the cache is rendered, checked against the record, built and used; a
  record that does not match (or is malformed) is never built under, and the function still runs;
* ``cache_verify_hits`` renders and compares in full, as before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.cache.keys import kernel_library_key, source_sha256
from fncache.codegen import c_module
from fncache.codegen.c_linker import module_key_for
from fncache.codegen.c_module import render_module
from fncache.config import config
from fcutil import count_renders
from fncache.graph.fgraph import FunctionGraph
from fncache.graph.serialize import dumps, encode_graph
from fncache.mode import get_mode
from fncache.runtime.compile import (
    GRAPH_FILE,
    KERNEL_SOURCE_FIELD,
    function_key,
    optimize_graph,
)


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def _no_source_rendering(monkeypatch):
    def refuse() -> str:
        raise AssertionError("a kernel library's source was rendered")

    monkeypatch.setattr(c_module, "prelude_text", refuse)


def _train_graph():
    """The tutorial's logistic-regression training step (gradients, updates, a row pass)."""
    rng = np.random.default_rng(0)
    x, y = ft.dmatrix("x"), ft.dvector("y")
    w, b = fc.shared(rng.standard_normal(7) * 0.1, name="w"), fc.shared(0.0, name="b")
    p = 1 / (1 + ft.exp(-ft.dot(x, w) - b))
    xent = -y * ft.log(p) - (1 - y) * ft.log(1 - p)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = fc.grad(cost, [w, b])
    return [x, y], [p > 0.5, xent], [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]


def _graphs() -> list[FunctionGraph]:
    """Optimized graphs with every kind of step: flat and strided loops, full and partial
    reductions (max tracks NaN), row passes, products, dimshuffles, argmax, complex fallbacks,
    and a graph with no kernels at all."""
    x, m = ft.dvector("x"), ft.dmatrix("m")
    z = ft.vector("z", dtype="complex128")
    mode = get_mode("FAST_RUN")
    outs = [
        [ft.exp(x) * 2 + x],
        [ft.sum(m * m, axis=0), ft.max(m), ft.mean(ft.sin(m), axis=1)],
        [ft.argmax(m, axis=1), m.T + 1.0],
        [ft.dot(m, x)],
        [z * z + 1],
    ]
    graphs = [optimize_graph(FunctionGraph([x, m, z], o), mode) for o in outs]
    ins, out, upd = _train_graph()
    graphs.append(fc.function(ins, out, updates=upd).optimized_graph)
    return graphs


def test_the_program_rendered_alone_is_the_full_renders_program():
    kinds = set()
    for g in _graphs():
        for n_explicit, single in ((len(g.inputs), True), (0, False)):
            full = render_module(g, n_explicit=n_explicit, single=single)
            alone = render_module(g, n_explicit=n_explicit, single=single, source=False)
            assert alone.source is None
            assert alone.program == full.program
            assert alone.has_kernels == full.has_kernels == bool(full.source)
            assert alone.fallbacks == full.fallbacks and alone.node_of == full.node_of
            assert [c is d for c, d in zip(alone.constants, full.constants)] == [True] * len(full.constants)
            # the source depends on the graph alone: one record serves every call site
            assert full.source == render_module(g, n_explicit=1, single=not single).source
            kinds |= {step[0] for step in full.program[4]}
    from fncache.codegen import c_program as P

    assert {P.ST_ELEMWISE, P.ST_REDUCE, P.ST_ROWPASS, P.ST_DOT, P.ST_PERFORM} <= kinds


def test_a_key_from_the_recorded_hash_is_the_key_of_the_source():
    source = "double f(double x) { return x; }"
    by_source = kernel_library_key(source, extra_flags=["-fwrapv"])
    assert kernel_library_key(sha256=source_sha256(source), extra_flags=["-fwrapv"]) == by_source
    other = kernel_library_key(source + " ", extra_flags=["-fwrapv"])
    assert [d[0] for d in by_source.explain(other)] == ["source_sha256"]
    with pytest.raises(ValueError, match="source_sha256 must be 64 lowercase hex"):
        kernel_library_key(sha256="ABC", extra_flags=[])
    with pytest.raises(TypeError, match="exactly one"):
        kernel_library_key(source, sha256=source_sha256(source), extra_flags=[])
    with pytest.raises(TypeError, match="exactly one"):
        kernel_library_key(extra_flags=[])


def _function_meta(f) -> dict:
    """The meta.json of ``f``'s function entry."""
    (found,) = fc.cache.find(f.cache_key)
    assert found["kind"] == "function"
    return found["meta"]


def test_the_function_entry_records_the_hash_of_the_source_its_graph_renders_to():
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + x)
    g = fc.function([x], ft.sin(x) * 2 + x)
    records = []
    for fn in (f, g):
        hit = fc.function(fn.inputs, fn.outputs[0])  # its graph decoded from the entry
        record = _function_meta(fn)[KERNEL_SOURCE_FIELD]
        for graph in (fn.optimized_graph, hit.optimized_graph):
            source = render_module(graph, n_explicit=1, single=True).source
            assert record == source_sha256(source)
            assert module_key_for(sha256=record) == module_key_for(source)
        records.append(record)
    assert records[0] != records[1]  # another graph, another source: another library key
    # a graph without kernels records nothing (nothing to key)
    m = ft.dmatrix("m")
    h = fc.function([m, x], ft.dot(m, x))
    meta = _function_meta(h)
    assert KERNEL_SOURCE_FIELD not in meta


def test_a_warm_hit_renders_no_kernel_source_and_computes_what_numpy_does(monkeypatch):
    ins, out, upd = _train_graph()
    first = fc.function(ins, out, updates=upd)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 7)), rng.integers(0, 2, 20).astype(float)
    w0 = first.shared_variables[0].get_value().copy()
    compiles = fc.cache.info()["compiles"]
    _no_source_rendering(monkeypatch)
    ins, out, upd = _train_graph()  # the same graph, built again
    hit = fc.function(ins, out, updates=upd)
    assert fc.cache.info()["compiles"] == compiles
    pred, xent = hit(X, y)
    p = 1 / (1 + np.exp(-(X @ w0)))
    np.testing.assert_allclose(xent, -y * np.log(p) - (1 - y) * np.log(1 - p), rtol=1e-12)
    np.testing.assert_array_equal(pred, p > 0.5)
    gw = X.T @ (p - y) / len(y) + 0.02 * w0
    np.testing.assert_allclose(hit.shared_variables[0].get_value(), w0 - 0.1 * gw, rtol=1e-12)


#: Modules a warm hit has no use for: the optimizer, and what only a build, a lease, the
#: maintenance, the remote tier or a failed compile needs (each costs a fresh process a
#: millisecond or more to import); and ``dataclasses``: the classes a hit makes are plain
#: classes or named tuples (a dataclass costs about a millisecond to make).
NOT_ON_A_HIT = (
    "fncache.rewrite",
    "fncache.cache.locks",
    "fncache.cache.janitor",
    "fncache.cache.evict",
    "fncache.cache.fsprobe",
    "fncache.cache.install",
    "fncache.cache.remote",
    "fncache.cache.tiers",
    "dataclasses",
    "socket",
    "tempfile",
    "secrets",
    "random",
    "subprocess",
    "filelock",
    "fncache.runtime.linker_py",
    "shlex",
)


def test_a_warm_hit_in_a_fresh_process_renders_no_kernel_source_and_imports_only_what_it_needs(tmp_path):
    child = (
        "import sys, numpy as np\n"
        "before = set(sys.modules)\n"
        "import fncache as fc\n"
        "from fncache import tensor as ft\n"
        "from fncache.codegen import c_module\n"
        f"fc.config.compiledir = {str(tmp_path / 'cd')!r}\n"
        "if sys.argv[1] == 'hit':\n"
        "    def refuse():\n"
        "        raise AssertionError('a kernel library source was rendered')\n"
        "    c_module.prelude_text = refuse\n"
        "x, m = ft.dvector('x'), ft.dmatrix('m')\n"
        "f = fc.function([x, m], [ft.exp(x) * 2 + x, ft.sum(m * m, axis=0)])\n"
        "a, b = np.linspace(0, 1, 5), np.arange(15.0).reshape(3, 5)\n"
        "r = f(a, b)\n"
        "assert np.allclose(r[0], np.exp(a) * 2 + a) and np.allclose(r[1], (b * b).sum(0))\n"
        f"extra = sorted(m for m in {NOT_ON_A_HIT!r} if m in sys.modules and m not in before)\n"
        "assert sys.argv[1] == 'fill' or not extra, extra\n"
        "print(fc.cache.info()['compiles'])\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", child, what], capture_output=True, text=True, timeout=300)
        for what in ("fill", "hit")
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert int(runs[0].stdout.split()[-1]) >= 1
    assert runs[1].stdout.split()[-1] == runs[0].stdout.split()[-1]  # the hit compiled nothing


#: A tanh RNN through ``scan`` and its gradient (backpropagation through time), in a fresh
#: process: ``fill`` compiles it, ``hit`` must compile nothing and import nothing of
#: NOT_ON_A_HIT; the step's scale is the second argument; values checked against numpy's.
SCAN_CHILD = """
import sys, numpy as np
import fncache as fc
from fncache import tensor as ft
what, c = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(3)
X, W0, U0 = rng.standard_normal((5, 3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((2, 2))
x = ft.tensor3("x")
W, U = fc.shared(W0, name="W"), fc.shared(U0, name="U")
hs, _ = fc.scan(lambda xt, h: ft.tanh(c * ft.dot(xt, W) + ft.dot(h, U)), sequences=x,
                outputs_info=ft.zeros((x.shape[1], 2)))
cost = (hs[-1] ** 2).sum()
before = set(sys.modules)  # the graph built: what the hit itself imports from here on
f = fc.function([x], [hs, fc.grad(cost, W)])
got_hs, got_dw = f(X)
h, want_hs = np.zeros((3, 2)), []
for t in range(5):
    h = np.tanh(c * X[t] @ W0 + h @ U0)
    want_hs.append(h)
dh, dw = 2 * want_hs[-1], np.zeros_like(W0)
for t in reversed(range(5)):
    da = dh * (1 - want_hs[t] ** 2)
    dw += c * X[t].T @ da
    dh = da @ U0.T
assert np.allclose(got_hs, want_hs, rtol=1e-12, atol=0), (got_hs, want_hs)
assert np.allclose(got_dw, dw, rtol=1e-10, atol=0), (got_dw, dw)
extra = sorted(m for m in NOT_ON_A_HIT if m in sys.modules and m not in before)
assert what != "hit" or not extra, extra
print(fc.cache.info()["compiles"])  # after the check: it imports what a hit does not
"""


#: Counts, in the child, of the lookups (``Compiledir.get``), the entries read and verified
#: (``read_entry``: checksums, metadata, CPU features) and the kernel libraries loaded.
COUNTING = """
import json
import fncache.cache.compiledir as _cd, fncache.codegen.c_linker as _cl
counts = {"lookups": 0, "verified": 0, "loads": 0}
def _count(owner, name, what):
    inner = getattr(owner, name)
    def counted(*a, **k):
        counts[what] += 1
        return inner(*a, **k)
    setattr(owner, name, counted)
_count(_cd.Compiledir, "get", "lookups")
_count(_cd, "read_entry", "verified")
_count(_cl, "_load_bytes", "loads")
"""


def _scan_child(env: dict, what: str, scale: str = "1.0") -> tuple[int, dict]:
    """Run SCAN_CHILD in a fresh process: the compiledir's count of compiles after the run, and
    the lookups, verifications and library loads the run made (COUNTING)."""
    code = f"NOT_ON_A_HIT = {NOT_ON_A_HIT!r}\n{COUNTING}{SCAN_CHILD}print(json.dumps(counts))\n"
    r = subprocess.run(
        [sys.executable, "-c", code, what, scale], capture_output=True, text=True, timeout=300, env=env
    )
    assert r.returncode == 0, r.stderr
    *_, compiles, counts = r.stdout.splitlines()
    return int(compiles), json.loads(counts)


def test_a_scan_functions_warm_hit_in_a_fresh_process_computes_what_numpy_does_and_a_changed_step_misses(
    tmp_path,
):
    """The outer function and the loop's two inner functions (the step and its gradient's)
    are all found: a fresh process compiles nothing, imports only what a hit needs, and gets
    numpy's values; the same loop with another step compiles again. The hit looks up and
    verifies one function entry, the outer one's, which carries the two inner functions'
    entries, and each of the three functions' kernel libraries once (no lookup made twice, no
    library loaded twice)."""
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"}
    filled, _ = _scan_child(env, "fill")
    assert filled >= 3  # the outer function, the step and the gradient's step
    compiles, counts = _scan_child(env, "hit")
    assert compiles == filled
    assert counts == {"lookups": 4, "verified": 4, "loads": 3}
    assert _scan_child(env, "changed step", "0.5")[0] > filled


def test_a_tampered_entry_of_a_scan_functions_inner_function_is_refused_on_a_warm_hit(tmp_path):
    """A byte changed in each entry the loop's functions have (graphs and kernel libraries,
    the inner functions' too): a fresh process's hit verifies each, sets each aside and builds
    it again, and computes numpy's values; it loads nothing that did not verify."""
    cd = tmp_path / "cd"
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={cd}"}
    filled, _ = _scan_child(env, "fill")
    tampered = 0
    for meta_file in cd.glob("entries/*/*/meta.json"):
        meta = json.loads(meta_file.read_text())
        name = meta.get("library") or GRAPH_FILE  # what a hit loads: the library, the graph
        path = meta_file.parent / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x55
        path.write_bytes(bytes(data))
        tampered += 1
    assert tampered == 6  # three functions, each a function entry and a kernel library
    compiles, counts = _scan_child(env, "tampered")  # a hit that rebuilds: a miss's imports
    assert counts["loads"] == 3  # each library built again, then loaded: never a tampered one
    assert len(list((cd / "quarantine").iterdir())) == tampered
    assert compiles == 2 * filled  # each entry built again, once
    assert _scan_child(env, "hit")[0] == compiles  # the rebuilt entries verify


def test_a_library_missing_from_the_cache_is_rendered_checked_and_built_again():
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + x)
    meta = _function_meta(f)
    key = module_key_for(sha256=meta[KERNEL_SOURCE_FIELD])
    shutil.rmtree(fc.cache.get(key).path)  # evicted by another process; the function entry stays
    compiles = fc.cache.info()["compiles"]
    g = fc.function([x], ft.exp(x) * 2 + x)
    assert fc.cache.info()["compiles"] == compiles + 1
    assert fc.cache.get(key) is not None  # built under the key its record names
    a = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(g(a), np.exp(a) * 2 + a)


@pytest.mark.parametrize("record", ["0" * 64, "not a hash", 42])
def test_a_record_that_does_not_match_is_never_built_under_and_the_function_runs(record, caplog):
    x = ft.dvector("x")
    out = ft.exp(x) * 3 - x
    mode = get_mode(None)
    original = FunctionGraph([x], [out], clone=True)
    key = function_key(original, mode)
    optimized = optimize_graph(original, mode)
    fc.cache.put_bytes(
        key, {GRAPH_FILE: dumps(encode_graph(optimized))}, {"nodes": 1, KERNEL_SOURCE_FIELD: record}
    )
    f = fc.function([x], out)
    a = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(f(a), np.exp(a) * 3 - a)
    if record == "0" * 64:
        assert "is not the one its function entry records" in caplog.text
        assert fc.cache.get(module_key_for(sha256=record)) is None  # nothing built under it
    source = render_module(f.optimized_graph, n_explicit=1, single=True).source
    assert fc.cache.get(module_key_for(source)) is not None  # the library, keyed by its source


def test_verified_hits_still_render_and_compare_the_source(monkeypatch):
    x = ft.dvector("x")
    fc.function([x], ft.exp(x) * 2 + x)
    calls = count_renders(monkeypatch)
    with config.change_flags(cache_verify_hits=True):
        g = fc.function([x], ft.exp(x) * 2 + x)
    assert calls
    np.testing.assert_allclose(g(np.arange(3.0)), np.exp(np.arange(3.0)) * 2 + np.arange(3.0))


def test_the_renderer_reads_no_flags_so_the_source_depends_on_the_graph_alone():
    """The record is keyed by the function key, which holds only function-level flags: a
    renderer that read a flag (or the environment) would make the record stale under another
    value. Give such a flag to the module key instead, and stop recording (compile.py)."""
    import importlib

    for name in ("c_module", "c_nodes", "c_types", "c_program"):
        module = importlib.import_module(f"fncache.codegen.{name}")
        assert "config" not in vars(module) and "os" not in vars(module), name
