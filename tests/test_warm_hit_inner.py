"""A warm hit of a function holding inner functions (a loop's step and its gradient's, a lazy
``ifelse``'s branches) looks up one function entry: the outer function's entry carries the
entries of its inner functions, and each inner function, keyed as any other, is found there.

* a fresh process's hit makes one function-entry lookup, one library lookup and load per
  function with kernels, compiles nothing, and computes what the cold function computed (and
  numpy), also with the inner functions' own entries gone;
* a carried entry changed or missing is refused with the outer entry (a logged warning): that
  entry is rebuilt, the inner functions found by their own entries, and the next hit again looks
  up one function entry;
* a carried entry that verifies but does not load is rebuilt (a logged warning), and the
  function still computes numpy's values;
* a loop's op taken from the graph being compiled: the hit runs the user's own op, and an
  entry naming a node that runs no inner graph is rebuilt.
* a function reading a loop another function of the process compiled first (the op compiles
  its step once) still carries the step's entry and the step's own inner functions'.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.cache.keys import CacheKey
from fncache.config import config
from fncache.graph.fgraph import FunctionGraph
from fncache.graph.basic import toposort
from fncache.graph.serialize import canonical_form, dumps, encode_graph
from fncache.mode import get_mode
from fncache.runtime.compile import CARRIED_FIELD, GRAPH_FILE, function_key, optimize_graph
from fncache.tensor.inner_graph import InnerGraphOp

#: A loop through ``scan`` (its values and their gradient: two inner functions) and a lazy
#: ``ifelse`` on its last step (two more), compiled in a fresh process; prints the counts of
#: lookups by kind and of library loads, the compiles, and the ops; saves the results.
CHILD = """
import sys, json, numpy as np
import fncache as fc
from fncache import tensor as ft
import fncache.cache.compiledir as _cd, fncache.codegen.c_linker as _cl
counts = {"function": 0, "kernel_library": 0, "loads": 0}
_get, _load = _cd.Compiledir.get, _cl._load_bytes
def get(self, key):
    counts[key.kind] = counts.get(key.kind, 0) + 1
    return _get(self, key)
def load(*a, **k):
    counts["loads"] += 1
    return _load(*a, **k)
_cd.Compiledir.get, _cl._load_bytes = get, load
rng = np.random.default_rng(5)
X, W0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((2, 2))
x, c = ft.tensor3("x"), ft.dscalar("c")
W = fc.shared(W0, name="W")
hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + h), sequences=x,
                outputs_info=ft.zeros((x.shape[1], 2)))
last = hs[-1]
f = fc.function([x, c], [hs, fc.grad((hs ** 2).sum(), W),
                         fc.ifelse(c > 0, ft.exp(last).sum(axis=0), (last * last).sum(axis=0) - 1)])
results = [a for cond in (1.0, -1.0) for a in f(X, cond)]
np.savez(sys.argv[1], *results)
ops = sorted({type(n.op).__name__ for n in f.optimized_graph.toposort()})
print(json.dumps({"counts": counts, "compiles": fc.cache.info()["compiles"], "ops": ops}))
"""


def _child(cd: Path, out: Path) -> tuple[dict, list[np.ndarray], str]:
    """Run CHILD on compiledir ``cd``: its report, its results and its log."""
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={cd}"}
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(out)], capture_output=True, text=True, timeout=300, env=env
    )
    assert r.returncode == 0, r.stderr
    with np.load(out) as saved:
        results = [saved[f"arr_{k}"] for k in range(len(saved.files))]
    return json.loads(r.stdout.splitlines()[-1]), results, r.stderr


def _numpy(X: np.ndarray, W: np.ndarray) -> list[np.ndarray]:
    """The loop's values and each branch of the ``ifelse``, as numpy computes them."""
    h, hs = np.zeros((X.shape[1], 2)), []
    for t in range(X.shape[0]):
        h = np.tanh(X[t] @ W + h)
        hs.append(h)
    return [np.array(hs), np.exp(h).sum(axis=0), (h * h).sum(axis=0) - 1]


def _outer_entry(cd: Path) -> Path:
    """The one function entry of ``cd`` that carries others."""
    (found,) = [
        m.parent for m in cd.glob("entries/*/*/meta.json") if json.loads(m.read_text()).get(CARRIED_FIELD)
    ]
    return found


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[np.ndarray]]:
    """A compiledir CHILD filled (copy it before changing it), CHILD's report and results; the
    results checked against numpy's."""
    tmp = tmp_path_factory.mktemp("filled")
    cd = tmp / "cd"
    report, results, _ = _child(cd, tmp / "cold.npz")
    assert {"Scan", "LazyIfElse"} <= set(report["ops"])
    rng = np.random.default_rng(5)
    X, W0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((2, 2))
    hs, then, other = _numpy(X, W0)
    for got, want in zip((results[0], results[2], results[3], results[5]), (hs, then, hs, other)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    return cd, report, results


def _copy(filled: tuple[Path, dict, list[np.ndarray]], tmp_path: Path) -> tuple[Path, dict, list[np.ndarray]]:
    cd, report, results = filled
    shutil.copytree(cd, tmp_path / "cd", symlinks=True)
    return tmp_path / "cd", report, results


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b) == 6
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_a_warm_hit_looks_up_one_function_entry_and_computes_what_the_cold_function_did(filled, tmp_path):
    cd, cold, cold_results = _copy(filled, tmp_path)
    functions = cold["counts"]["function"]
    assert functions == 5  # the outer function, the step, its gradient's, the two branches
    carried = json.loads((_outer_entry(cd) / "meta.json").read_text())[CARRIED_FIELD]
    assert len(carried) == functions - 1
    hit, results, _ = _child(cd, tmp_path / "hit.npz")
    assert hit["compiles"] == cold["compiles"]
    libraries = hit["counts"]["kernel_library"]
    assert hit["counts"]["function"] == 1 and 1 <= libraries <= functions
    assert hit["counts"]["loads"] == libraries
    _same(results, cold_results)
    # the inner functions' own entries are not needed: the outer entry carries them
    for digest in carried:
        shutil.rmtree(next(cd.glob(f"entries/*/{digest}")))
    again, results, _ = _child(cd, tmp_path / "again.npz")
    assert again["compiles"] == cold["compiles"] and again["counts"] == hit["counts"]
    _same(results, cold_results)


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_damaged_or_missing_carried_entry_is_set_aside_and_its_function_rebuilt(filled, tmp_path, damage):
    cd, cold, cold_results = _copy(filled, tmp_path)
    outer = _outer_entry(cd)
    carried = json.loads((outer / "meta.json").read_text())[CARRIED_FIELD]
    target = outer / next(iter(carried.values()))["graph"]
    if damage == "missing":
        target.unlink()
    else:
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x55
        target.write_bytes(bytes(data))
    hit, results, log = _child(cd, tmp_path / "hit.npz")
    assert "damaged cache entry" in log and "it will be rebuilt" in log
    assert len(list((cd / "quarantine").iterdir())) == 1
    # the outer function's entry alone is built again; its inner functions are found by their
    # own entries, and the entry published again carries them
    assert hit["compiles"] == cold["compiles"] + 1
    assert hit["counts"]["function"] == cold["counts"]["function"]
    _same(results, cold_results)
    again, results, _ = _child(cd, tmp_path / "again.npz")
    assert again["compiles"] == hit["compiles"] and again["counts"]["function"] == 1
    _same(results, cold_results)


@pytest.fixture
def own_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield tmp_path / "cd"


def _loop() -> tuple[ft.TensorVariable, ft.TensorVariable]:
    x = ft.dmatrix("x")
    hs, _ = fc.scan(lambda xt, h: ft.tanh(xt + 0.5 * h), sequences=x, outputs_info=ft.zeros_like(x[0]))
    return x, hs


def _loop_numpy(a: np.ndarray) -> np.ndarray:
    h, out = np.zeros(a.shape[1]), []
    for row in a:
        h = np.tanh(row + 0.5 * h)
        out.append(h)
    return np.array(out)


def test_a_carried_entry_that_does_not_load_is_rebuilt(own_compiledir, caplog):
    x, hs = _loop()
    f = fc.function([x], hs)
    (found,) = fc.cache.find(f.cache_key)
    meta, path = found["meta"], Path(found["path"])
    (record,) = meta[CARRIED_FIELD].values()
    files = {name: (path / name).read_bytes() for name in meta["files"]}
    files[record["graph"]] = dumps({"not": "a graph"})  # sealed with the entry: it verifies
    shutil.rmtree(path)
    fc.cache.put_bytes(
        CacheKey("function", meta["components"]), files, {k: meta[k] for k in ("nodes", CARRIED_FIELD)}
    )
    x, hs = _loop()  # the same graph, built again: its loop's step compiles anew
    g = fc.function([x], hs)
    assert "could not be loaded" in caplog.text and "rebuilding" in caplog.text
    a = np.random.default_rng(2).standard_normal((5, 3))
    np.testing.assert_allclose(g(a), _loop_numpy(a), rtol=1e-12)


def test_a_hit_runs_the_users_own_loop_op_and_refuses_an_entry_naming_another_node(own_compiledir, caplog):
    x, hs = _loop()
    (user_op,) = {n.op for n in toposort([hs]) if isinstance(n.op, InnerGraphOp)}
    fc.function([x], hs)
    hit = fc.function([x], hs)
    (loop,) = [n.op for n in hit.optimized_graph.toposort() if isinstance(n.op, InnerGraphOp)]
    assert loop is user_op  # taken from the graph being compiled: not decoded, not hashed again

    # an entry whose loop names a node of the graph that runs no inner graph
    fc.cache.purge(all=True)
    x, hs = _loop()
    mode = get_mode(None)
    original = FunctionGraph([x], [hs], clone=True)
    key = function_key(original, mode)
    optimized = optimize_graph(original, mode)
    form = canonical_form(original.inputs, original.outputs, mode.merges())
    plain = next(k for k, n in enumerate(form.nodes) if not isinstance(n.op, InnerGraphOp))
    payload = dumps(
        encode_graph(optimized), refer=lambda obj: plain if isinstance(obj, InnerGraphOp) else None
    )
    fc.cache.put_bytes(key, {GRAPH_FILE: payload}, {"nodes": 1})
    g = fc.function([x], hs)
    assert g.cache_key == key.digest
    assert "could not be loaded" in caplog.text and "runs no inner graph" in caplog.text
    a = np.random.default_rng(3).standard_normal((4, 2))
    np.testing.assert_allclose(g(a), _loop_numpy(a), rtol=1e-12)


def _nested_loop() -> tuple:
    """A loop whose step holds another loop and a lazy ``ifelse``, and numpy's values of it."""
    x = ft.dmatrix("x")

    def step(row, acc):
        inner, _ = fc.scan(lambda a, s: s + a * a, sequences=row, outputs_info=ft.constant(0.0))
        return acc + fc.ifelse(inner[-1] > 1.0, inner[-1], -inner[-1])

    ys, _ = fc.scan(step, sequences=x, outputs_info=ft.constant(0.0))
    return x, ys


def test_an_entry_carries_the_inner_functions_another_function_compiled_first(own_compiledir):
    """The second function's loop was compiled by the first (one op: its step compiles once):
    the second's entry still carries the step's entry and the step's own inner functions'."""
    x, ys = _nested_loop()
    first = fc.function([x], ys[-1])
    second = fc.function([x], [ys, ys.sum()])
    carried = [fc.cache.find(f.cache_key)[0]["meta"].get(CARRIED_FIELD) for f in (first, second)]
    assert carried[0] and len(carried[0]) == 4  # the step, its loop and the two branches
    assert carried[1] == carried[0]
    X = np.arange(12.0).reshape(4, 3) / 10
    sums = (X * X).sum(axis=1)
    want = np.cumsum(np.where(sums > 1.0, sums, -sums))
    got = second(X)
    np.testing.assert_allclose(got[0], want, rtol=1e-12)
    np.testing.assert_allclose(got[1], want.sum(), rtol=1e-12)
    np.testing.assert_allclose(first(X), want[-1], rtol=1e-12)
