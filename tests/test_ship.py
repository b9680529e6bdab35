"""Shipping compiled functions to other processes (README "Pickling and shipping"), with real processes: fresh
interpreters, a spawn ``ProcessPoolExecutor`` and a Dask ``LocalCluster``, sharing a compiledir.

Compiles are counted from ``fc.cache.info()["compiles"]`` / ``fc.cache.stats()["per_kind"]``,
which sum the events of every process that used the compiledir.  A function entry (the
optimized graph) and a ``kernel_library`` entry (the native code) each count as one compile when
created; unpickling never creates a function entry, so a receiver's only possible compile is
its native module.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fcutil import damaged_inner_module, rows_functions
from fncache import tensor as ft

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import ship_worker  # noqa: E402  (the far side of every test here)

OTHER_CPU = "-march=x86-64"
NO_COMPILER = "cxx=/nonexistent/cc"


def _w3_shared() -> tuple[fc.Function, tuple]:
    """W3 with its parameters in shared variables and a step counter updated on each call."""
    rng = np.random.default_rng(7)
    w = fc.shared(rng.normal(size=4), name="w")
    b = fc.shared(np.float64(0.25), name="b")
    steps = fc.shared(np.int64(0), name="steps")
    X, t = ft.dmatrix("X"), ft.dvector("t")
    p = ft.sigmoid(X @ w + b)
    loss = ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p))
    f = fc.function([X, t], loss, updates=[(steps, steps + 1)], name="w3s")
    args = (rng.normal(size=(64, 4)), (rng.random(64) > 0.5).astype("float64"))
    return f, args


def _steps(f: fc.Function) -> fc.SharedVariable:
    return next(s for s in f._shared if s.name == "steps")


def _pyop() -> tuple[fc.Function, tuple]:
    scale = 3.0
    vec = ft.dvector().type
    op = ft.as_op([vec], [vec])(lambda a: np.cumsum(a) * scale)
    x = ft.dvector("x")
    return fc.function([x], op(ft.exp(x)) + 1.0, name="pyop"), (np.linspace(0, 1, 7),)


def _fresh(
    tmp_path: Path, payload: bytes, args: tuple, compiledir: Path, *, flags: str = "", **options: Any
) -> dict[str, Any]:
    """Run ship_worker.py in a fresh interpreter on ``compiledir`` (plus FNCACHE_FLAGS ``flags``)."""
    req, res = tmp_path / "request.pkl", tmp_path / "result.pkl"
    req.write_bytes(pickle.dumps((payload, args, options)))
    env = {**os.environ, "FNCACHE_FLAGS": ",".join(filter(None, [f"compiledir={compiledir}", flags]))}
    proc = subprocess.run(
        [sys.executable, str(HERE / "ship_worker.py"), str(req), str(res)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return pickle.loads(res.read_bytes())


def _differing_components(compiledir: Path) -> dict[str, set]:
    """The key components that differ between the compiledir's native modules: why a receiver
    on the same CPU compiled its own (a host record that chose other flags, say)."""
    seen: dict[str, set] = {}
    for meta in compiledir.glob("entries/*/*/meta.json"):
        for k, v in json.loads(meta.read_text()).get("components", {}).items():
            seen.setdefault(k, set()).add(str(v))
    return {k: v for k, v in seen.items() if len(v) > 1}


@pytest.fixture
def cdir(tmp_path: Path):
    """A fresh compiledir for this test, in this process and (via FNCACHE_FLAGS) its children."""
    d = tmp_path / "compiledir"
    with fc.config.change_flags(compiledir=str(d)):
        yield d


def test_fresh_process_same_cpu_loads_without_compiling(cdir, tmp_path):
    f, args = _w3_shared()
    f(*args)  # steps = 1 when shipped
    want = f(*args)  # steps = 2 when shipped
    assert fc.cache.info()["compiles"] == 2  # the function entry and its module
    r = _fresh(tmp_path, pickle.dumps(f), args, cdir, call_again=True)
    assert r["compiles"] == 0, _differing_components(cdir)
    assert r["out"].tobytes() == f(*args).tobytes() == want.tobytes()
    assert r["shared"]["steps"] == 3 and r["shared2"]["steps"] == 4  # restored at 2, then updated
    np.testing.assert_array_equal(r["shared"]["w"], next(s for s in f._shared if s.name == "w").get_value())
    assert r["shared"]["b"] == 0.25
    assert r["cache_key"] == f.cache_key
    assert fc.cache.info()["compiles"] == 2


def test_fresh_process_other_cpu_compiles_once_for_itself(cdir, tmp_path):
    f, args = _w3_shared()
    want = f(*args)
    _steps(f).set_value(np.int64(0))
    r = _fresh(tmp_path, pickle.dumps(f), args, cdir, flags=f"march={OTHER_CPU}")
    assert r["march"] == OTHER_CPU
    assert r["compiles"] == 1 and r["library_compiles"] == 2  # its own module, nothing else
    assert r["code_flags"]["march"] == OTHER_CPU
    # Not bit-identical: code for another instruction set may round the last bit differently
    # (measured: 1 ulp on W3, from FMA contraction and vector width).
    np.testing.assert_allclose(r["out"], want, rtol=1e-14)
    r2 = _fresh(tmp_path, pickle.dumps(f), args, cdir, flags=f"march={OTHER_CPU}")
    assert r2["compiles"] == 0 and r2["out"].tobytes() == r["out"].tobytes()


def test_embedded_native_module_runs_where_there_is_no_compiler(tmp_path):
    f, args = _pyop()
    want = f(*args)
    payload = fc.dumps(f, embed_native=True)
    empty = tmp_path / "empty-compiledir"
    r = _fresh(tmp_path, payload, args, empty, flags=NO_COMPILER, fc_loads=True)
    assert r["compiles"] == 0
    assert r["out"].tobytes() == want.tobytes()
    with pytest.raises(AssertionError, match="CompileError"):  # the control: nothing embedded
        _fresh(tmp_path, fc.dumps(f), args, empty, flags=NO_COMPILER, fc_loads=True)


@pytest.mark.parametrize("which", ["jacobian", "hessian"])
def test_embedded_inner_functions_run_where_there_is_no_compiler(which, tmp_path):
    """The inner functions of run-time-size Jacobians travel with the outer module: the worker
    compiles nothing and writes nothing to its compiledir."""
    f, args, want = rows_functions()[which]
    mine = f(*args)
    payload = fc.dumps(f, embed_native=True)
    empty = tmp_path / "empty-compiledir"
    r = _fresh(tmp_path, payload, args, empty, flags=NO_COMPILER, fc_loads=True)
    assert r["compiles"] == 0
    for got, ours, numpy_value in zip(r["out"], mine, want):
        assert got.tobytes() == ours.tobytes()
        np.testing.assert_allclose(got, numpy_value, rtol=1e-12, atol=1e-15)
    assert [p for p in empty.rglob("*") if p.is_file()] == []
    # A changed byte in an inner module (the payload resealed): refused, so this worker would
    # have to compile it, and has no compiler.
    with pytest.raises(AssertionError, match="CompileError"):
        _fresh(tmp_path, damaged_inner_module(payload), args, empty, flags=NO_COMPILER, fc_loads=True)


def _pool(n: int) -> tuple[ProcessPoolExecutor, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n)
    return ProcessPoolExecutor(n, mp_context=ctx, initializer=ship_worker.init, initargs=(barrier,)), barrier


@pytest.mark.parametrize("make", [_w3_shared, _pyop], ids=["w3", "python-op"])
def test_spawn_pool_of_4_shares_one_compile(make, cdir, monkeypatch):
    monkeypatch.setenv("FNCACHE_FLAGS", f"compiledir={cdir}")
    f, args = make()
    compiles = fc.cache.info()["compiles"]
    pool, _ = _pool(4)
    with pool:
        results = [r.result(timeout=300) for r in [pool.submit(ship_worker.call, f, args) for _ in range(4)]]
    assert len({r["pid"] for r in results}) == 4
    assert all(r["compiledir"] == str(cdir) for r in results)
    want = f(*args)
    for r in results:
        assert r["out"].tobytes() == want.tobytes()
    assert fc.cache.info()["compiles"] == compiles  # none in any worker
    assert fc.cache.stats()["per_kind"]["kernel_library"]["compiles"] == 1


def test_spawn_pool_with_a_cold_compiledir_compiles_once_in_total(tmp_path, monkeypatch):
    """Four workers unpickle at once into an empty compiledir: one compiles, three wait."""
    f, args = _w3_shared()
    want = f(*args)
    _steps(f).set_value(np.int64(0))
    cold = tmp_path / "cold"
    monkeypatch.setenv("FNCACHE_FLAGS", f"compiledir={cold}")
    pool, _ = _pool(4)
    with pool:
        results = [r.result(timeout=300) for r in [pool.submit(ship_worker.call, f, args) for _ in range(4)]]
    assert len({r["pid"] for r in results}) == 4
    for r in results:
        assert r["out"].tobytes() == want.tobytes() and r["shared"]["steps"] == 1
    with fc.config.change_flags(compiledir=str(cold)):
        info = fc.cache.info()
        assert info["compiles"] == 1 and info["entries"] == 1
        assert fc.cache.stats()["per_kind"]["kernel_library"]["compiles"] == 1


def test_dask_local_cluster(cdir, monkeypatch):
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is not installed (pip install distributed)"
    )
    monkeypatch.setenv("FNCACHE_FLAGS", f"compiledir={cdir}")
    f, args = _w3_shared()
    g, gargs = _pyop()
    wv = fc.shared(np.arange(4.0), name="w")
    x = ft.dvector("x")
    py = fc.Mode(linker="py")  # no native module, so the counts below stay f's and g's
    train = fc.function([x], (x * wv).sum(), updates=[(wv, wv + x)], name="train", mode=py)
    predict = fc.function([x], (x + wv).sum(), name="predict", mode=py)
    compiles = fc.cache.info()["compiles"]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = list(client.scheduler_info()["workers"])
        assert len(workers) == 2
        futures = [
            client.submit(ship_worker.call, fn, a, workers=[w], pure=False)
            for w in workers
            for fn, a in ((f, args), (g, gargs))
        ]
        results = client.gather(futures)
        # functions and their shared variable as arguments of one task: one object there too
        shared = client.submit(ship_worker.train_then_predict, train, predict, wv, np.ones(4), pure=False)
        shared = shared.result(timeout=300)
    assert shared["same"] and shared["predicted"] == np.arange(1.0, 5.0).sum()
    np.testing.assert_array_equal(shared["w"], np.arange(1.0, 5.0))
    assert len({r["pid"] for r in results}) == 2
    assert all(r["compiledir"] == str(cdir) for r in results)
    want_f, want_g = f(*args), g(*gargs)
    for r, want in zip(results, [want_f, want_g] * 2):
        assert r["out"].tobytes() == want.tobytes()
    assert fc.cache.info()["compiles"] == compiles
    assert fc.cache.stats()["per_kind"]["kernel_library"]["compiles"] == 2  # f's and g's, once each
