"""What a cold compile does, and does once:

* a Jacobian's two kernel libraries (the outer graph's, the inner gradient's) are built by two
  compiler calls that run at the same time: the outer one is started, the inner function is
  compiled meanwhile, then the outer one is taken; both entries verify and the result is numpy's;
* an outer library already in the compiledir starts no compiler; an early compile that is not
  taken (the inner function fails) is stopped and its files removed;
* an early compile is only taken for the source its key names;
* a cold miss renders its kernel library's source once (the record's render is the build's).
"""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_linker, c_module
from fncache.config import config
from fncache.toolchain import compiler
from fncache.tensor.jacobian_rows import JacobianRows
from fcutil import count_renders, early_library_dirs


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


@pytest.fixture
def compiler_calls(monkeypatch):
    """The kernel library compiler calls, as events in order: ("start"|"taken", name, job)."""
    events: list[tuple[str, str, compiler.CompileJob]] = []
    start, wait = compiler.CompileJob.__init__, compiler.CompileJob.wait

    def started(self, *args, **kwargs):
        start(self, *args, **kwargs)
        events.append(("start", self.name, self))

    def waited(self):
        out = wait(self)
        events.append(("taken", self.name, self))
        return out

    monkeypatch.setattr(compiler.CompileJob, "__init__", started)
    monkeypatch.setattr(compiler.CompileJob, "wait", waited)
    return events


def _jacobian():
    x = ft.dvector("x")
    return x, ft.jacobian(ft.exp(x) * x[::-1] + ft.sin(x).sum() * x, x)


def _want(v: np.ndarray) -> np.ndarray:
    n = len(v)
    out = np.diag(np.exp(v) * v[::-1]) + np.exp(v)[:, None] * np.eye(n)[::-1]
    return out + np.diag(np.full(n, np.sin(v).sum())) + np.outer(v, np.cos(v))


def test_a_jacobians_two_libraries_compile_at_the_same_time(compiler_calls):
    x, jac = _jacobian()
    f = fc.function([x], jac)
    (node,) = [n for n in f.optimized_graph.toposort() if isinstance(n.op, JacobianRows)]
    inner = node.tag["inner_function"]
    assert [e[0] for e in compiler_calls] == ["start", "start", "taken", "taken"], compiler_calls
    outer_name, inner_name = compiler_calls[0][1], compiler_calls[1][1]
    assert outer_name != inner_name
    # the outer call was started first and taken last: the inner one ran inside it
    assert [e[1] for e in compiler_calls] == [outer_name, inner_name, inner_name, outer_name]
    assert inner.cache_key != f.cache_key
    report = fc.cache.verify(repair=False)
    assert report["bad"] == [] and report["checked"] == 4, report  # 2 libraries, 2 function entries
    libraries = {f for e in fc.cache.entries() if e["kind"] == "kernel_library" for f in e["files"]}
    assert {f"{outer_name}.so", f"{inner_name}.so"} <= libraries
    v = np.linspace(-1, 1.5, 9)
    np.testing.assert_allclose(f(v), _want(v), rtol=1e-12, atol=1e-14)


def test_an_outer_library_in_the_compiledir_starts_no_compiler(compiler_calls):
    x, jac = _jacobian()
    first = fc.function([x], jac)
    for entry in fc.cache.entries():
        if entry["kind"] == "function":
            shutil.rmtree(entry["path"])  # the function entries are gone, the libraries stay
    compiler_calls.clear()
    x, jac = _jacobian()
    again = fc.function([x], jac)
    assert compiler_calls == []  # both libraries found: nothing compiled, nothing started
    v = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(again(v), first(v), rtol=0, atol=0)


def test_an_early_compile_not_taken_is_stopped_and_removed(compiler_calls, monkeypatch):
    dirs = early_library_dirs(monkeypatch)

    def broken(self, mode=None):
        raise RuntimeError("the inner function does not compile")

    monkeypatch.setattr(JacobianRows, "start", broken)
    x, jac = _jacobian()
    with pytest.raises(RuntimeError, match="does not compile"):
        fc.function([x], jac)
    assert [e[0] for e in compiler_calls] == ["start"]  # the outer library's call, never taken
    pid = compiler_calls[0][2].calls[0].proc.pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no compiler left behind
    assert len(dirs) == 1 and not dirs[0].exists()
    assert all(e["kind"] != "kernel_library" for e in fc.cache.entries())  # nothing published


def test_an_early_compile_is_taken_only_for_the_source_its_key_names(compiler_calls):
    x = ft.dvector("x")
    graphs = [fc.function([x], e, mode=fc.Mode("py")).optimized_graph for e in (ft.exp(x) + x, ft.sin(x) * x)]
    mods = [c_module.render_module(g, n_explicit=1, single=True) for g in graphs]
    key = c_linker.module_key_for(mods[0].source)
    with c_linker.EarlyLibrary(mods[1].source, c_linker.library_name(key)) as early:
        entry = c_linker.compile_module(mods[0], key, early=early)
    assert entry.read_bytes(entry.meta["source"]).decode() == mods[0].source
    assert [e[0] for e in compiler_calls] == ["start", "start", "taken"]  # compiled again, its own


def test_a_cold_miss_renders_its_kernel_source_once(monkeypatch):
    renders = count_renders(monkeypatch)
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + x)
    assert len(renders) == 1
    assert fc.cache.info()["compiles"] >= 2  # the function entry and its library: a cold miss
    v = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(f(v), np.exp(v) * 2 + v)


def test_remembered_sources_stay_few():
    for k in range(3 * c_linker._REMEMBERED_MAX):
        c_linker.remember_source(f"/* {k} */\n")
    assert len(c_linker._remembered) == c_linker._REMEMBERED_MAX


def test_an_early_compile_that_fails_is_compiled_again_where_the_entry_is_built(compiler_calls):
    x = ft.dvector("x")
    graph = fc.function([x], ft.exp(x) + x, mode=fc.Mode("py")).optimized_graph
    mod = c_module.render_module(graph, n_explicit=1, single=True)
    key = c_linker.module_key_for(mod.source)
    with c_linker.EarlyLibrary(mod.source, c_linker.library_name(key)) as early:
        shutil.rmtree(early._dir)  # its temporary directory is gone (a full or cleaned /tmp)
        entry = c_linker.compile_module(mod, key, early=early)
    assert [e[0] for e in compiler_calls] == ["start", "start", "taken"]
    lib = c_linker.load_library(
        entry.read_bytes(entry.meta["library"]),
        entry.meta["library"],
        entry.meta["files"][entry.meta["library"]]["sha256"],
    )
    assert lib is not None


def test_nodes_with_the_same_kernels_share_one_body_and_compute_what_numpy_does():
    x, y = ft.dvector("x"), ft.dvector("y")
    a, b, c, d = ft.exp(x), ft.sin(y), ft.cos(x), ft.tanh(y)
    f = fc.function([x, y], [a, b, c, d, a * b, c * d])  # two muls of the same types
    source = c_module.render_module(f.optimized_graph, n_explicit=2, single=False).source
    kernels = source[source.index("/* node ") :]
    aliases = [ln for ln in kernels.splitlines() if "__attribute__((alias(" in ln]
    assert len(aliases) == 2, kernels  # the second mul's flat and row kernels
    # one body per distinct kernel: no two bodies are the same code under other names
    bodies = [b.split("\n/* node")[0] for b in kernels.split("FC_EXPORT ")[1:] if "alias(" not in b]
    neutral = [re.sub(r"fc_k\d+_", "fc_k#_", b) for b in bodies]
    assert len(bodies) == 2 * 5 and len(set(neutral)) == len(neutral)
    for strided in (False, True):  # contiguous inputs run the flat kernels, strided ones the rows
        v, w = np.linspace(-1, 1, 22), np.linspace(0.5, 2, 22)
        v, w = (v[::2], w[1::2]) if strided else (v[:11], w[:11])
        want = [np.exp(v), np.sin(w), np.cos(v), np.tanh(w), np.exp(v) * np.sin(w), np.cos(v) * np.tanh(w)]
        for got, expected in zip(f(v, w), want):
            np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_a_long_library_is_compiled_in_parts_at_once_and_computes_what_one_call_builds(monkeypatch, tmp_path):
    x, y = ft.dvector("x"), ft.dvector("y")
    a, b, c, d = ft.exp(x), ft.sin(y), ft.cos(x), ft.tanh(y)
    outs = [a, b, c, d, a * b, c * d]  # two muls: the second's aliases go in the first's part
    jobs: list[compiler.CompileJob] = []
    start = compiler.CompileJob.__init__

    def started(self, *args, **kwargs):
        start(self, *args, **kwargs)
        jobs.append(self)

    monkeypatch.setattr(compiler.CompileJob, "__init__", started)
    v, w = np.linspace(-1, 1, 22), np.linspace(0.5, 2, 22)
    args = [(v, w), (v[::2], w[1::2])]  # the flat kernels, the strided ones
    results = []
    for part_chars, parts in ((1, 2), (10**9, 1)):  # every library in parts; none
        monkeypatch.setattr(c_module, "PART_CHARS", part_chars)
        jobs.clear()
        # a compiledir of its own (the function entry would name the other's library); a verified
        # hit builds the parts' library again, which must be the same bytes
        with config.change_flags(compiledir=str(tmp_path / f"parts{parts}"), cache_verify_hits=parts > 1):
            f = fc.function([x, y], outs)
        source = c_module.render_module(f.optimized_graph, n_explicit=2, single=False).source
        assert c_module.library_parts(source) == parts
        assert len(jobs) == (2 if parts > 1 else 1)  # the build, and the verified hit's own
        assert all(len(job.commands) == parts for job in jobs)
        if parts > 1:  # one call per part, started together
            assert [[a for a in cmd if a.startswith("-DFC_LIB_PART")] for cmd in jobs[0].commands] == [
                ["-DFC_LIB_PART=0"],
                ["-DFC_LIB_PART=1"],
            ]
        results.append([f(*a) for a in args])
    assert not list(tmp_path.rglob("*.o"))  # entries hold the library, not its parts' objects
    for (v, w), in_parts, one_call in zip(args, *results):
        want = [np.exp(v), np.sin(w), np.cos(v), np.tanh(w), np.exp(v) * np.sin(w), np.cos(v) * np.tanh(w)]
        for got, same, expected in zip(in_parts, one_call, want):
            assert np.array_equal(got, same)
            np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_a_cold_miss_starts_its_compiler_before_publishing_its_function_entry(compiler_calls, monkeypatch):
    from fncache.cache.compiledir import Compiledir

    put = Compiledir.put_bytes

    def noted(self, key, files, meta):
        compiler_calls.append(("publish", key.kind, 0))
        return put(self, key, files, meta)

    monkeypatch.setattr(Compiledir, "put_bytes", noted)
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + x)
    assert [e[0] for e in compiler_calls] == ["start", "publish", "taken"], compiler_calls
    report = fc.cache.verify(repair=False)
    assert report["bad"] == [] and report["checked"] == 2, report
    v = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(f(v), np.exp(v) * 2 + v)
