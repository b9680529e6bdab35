"""A function with several inner graphs (a loop and its gradient's loop, a lazy ifelse's two
branches) starts the compiler on every kernel library before it waits for any:

* all of them are in flight at once (each compiler call held at its start until the last one
  is started: compiled one after the other, the first would never be let go);
* no more of them run at once than there are compiler slots, the others waiting in line, and
  the result is the same, bit for bit, as numpy's within rounding;
* a compiler failing on one inner library raises its CompileError (the command, gcc's message,
  the kept source), stops and reaps the others, publishes no part of that library and leaves
  the compiledir sound;
* two inner functions whose libraries are one (the same kernels) start one compiler call.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import config
from fncache.errors import CompileError
from fncache.toolchain import compiler, slots
from fcutil import early_library_dirs


#: a compiler call held until the file named first exists
HELD = 'while [ ! -e "$0" ]; do sleep 0.005; done; exec "$@"'


def _library_of(argv: list[str]) -> str:
    return Path(argv[argv.index("-o") + 1]).name.split(".")[0]


class Recorder:
    """Every kernel library compiler process, as it starts and ends; optionally each held at
    its start until ``hold`` processes have started, and one library made to fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hold: int = 0, fail: int = 0) -> None:
        self.events: list[tuple[str, str]] = []
        self.procs: list = []
        self.libraries: list[str] = []  # in the order their first call started
        self.hold, self.fail = hold, fail
        self.go = tmp_path / "go"
        self.broken = tmp_path / "broken.h"
        self.broken.write_text("#error this inner library does not compile\n")
        self.in_flight_at_go = 0
        real = slots.start_tool

        def start(argv: list[str], tmpdir: str | None = None):
            library = _library_of(argv)
            if library not in self.libraries:
                self.libraries.append(library)
            if self.fail and self.libraries.index(library) == self.fail - 1:
                at = argv.index("-o")
                argv = [*argv[:at], "-include", str(self.broken), *argv[at:]]
            if self.hold:
                argv = ["sh", "-c", HELD, str(self.go), *argv]
            proc = real(argv, tmpdir)
            self.events.append(("start", library))
            self.procs.append(proc)
            talk = proc.communicate

            def communicate(*args, **kwargs):
                out = talk(*args, **kwargs)
                self.events.append(("end", library))
                return out

            proc.communicate = communicate
            return proc

        monkeypatch.setattr(slots, "start_tool", start)
        if hold:
            threading.Thread(target=self._let_go, daemon=True).start()

    def _let_go(self) -> None:
        deadline = time.monotonic() + 20  # never hang: compiled one by one, this many never start
        while len(self.procs) < self.hold and time.monotonic() < deadline:
            time.sleep(0.005)
        self.in_flight_at_go = len(self.procs)
        self.go.touch()

    def most_at_once(self) -> int:
        running = most = 0
        for kind, _ in self.events:
            running += 1 if kind == "start" else -1
            most = max(most, running)
        return most


@pytest.fixture
def jobs(monkeypatch):
    """The kernel libraries' compile jobs as events in order: ("made"|"taken", name)."""
    events: list[tuple[str, str]] = []
    make, wait = compiler.CompileJob.__init__, compiler.CompileJob.wait

    def made(self, *args, **kwargs):
        make(self, *args, **kwargs)
        events.append(("made", self.name))

    def waited(self):
        out = wait(self)
        events.append(("taken", self.name))
        return out

    monkeypatch.setattr(compiler.CompileJob, "__init__", made)
    monkeypatch.setattr(compiler.CompileJob, "wait", waited)
    return events


SIZES = dict(steps=4, batch=3, inputs=2, hidden=3)


def _rnn():
    """A tanh RNN's last state read out, and its gradient: a loop and the gradient's loop."""
    x, W, U, b, v = ft.tensor3("x"), ft.dmatrix("W"), ft.dmatrix("U"), ft.dvector("b"), ft.dvector("v")
    h0 = ft.zeros((x.shape[1], U.shape[0]))
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + ft.dot(h, U) + b), sequences=x, outputs_info=h0)
    cost = ft.sum(ft.dot(hs[-1], v))
    return [x, W, U, b, v], [cost, *fc.grad(cost, [W, U, b])]


def _rnn_numpy(x, W, U, b, v):
    hs = [np.zeros((x.shape[1], U.shape[0]))]
    for xt in x:
        hs.append(np.tanh(xt @ W + hs[-1] @ U + b))
    dh = np.outer(np.ones(x.shape[1]), v)
    gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    for t in reversed(range(len(x))):
        da = dh * (1 - hs[t + 1] ** 2)
        gW, gU, gb = gW + x[t].T @ da, gU + hs[t].T @ da, gb + da.sum(0)
        dh = da @ U.T
    return [(hs[-1] @ v).sum(), gW, gU, gb]


def _rnn_values():
    r = np.random.default_rng(5)
    s = SIZES
    return [
        r.standard_normal((s["steps"], s["batch"], s["inputs"])),
        r.standard_normal((s["inputs"], s["hidden"])) * 0.5,
        r.standard_normal((s["hidden"], s["hidden"])) * 0.5,
        r.standard_normal(s["hidden"]) * 0.1,
        r.standard_normal(s["hidden"]),
    ]


def _branches():
    """A lazy ifelse whose two branches compute kernels of their own, and an outer kernel."""
    c, x = ft.dscalar("c"), ft.dvector("x")
    return [c, x], fc.ifelse(ft.gt(c, 0), ft.exp(x) * x + 1, ft.log1p(x * x) - x) * 2


def _compile(build, where: Path):
    with config.change_flags(compiledir=str(where)):
        ins, outs = build()
        return fc.function(ins, outs)


@pytest.mark.parametrize("build", [_rnn, _branches], ids=["scan-and-its-gradient", "lazy-ifelse"])
def test_every_library_of_a_function_is_in_flight_at_once(build, jobs, monkeypatch, tmp_path):
    monkeypatch.setattr(slots, "compiler_slots", lambda: 8)
    calls = Recorder(monkeypatch, tmp_path, hold=3)
    f = _compile(build, tmp_path / "cd")
    assert len(calls.libraries) == 3, calls.events  # the outer library and two inner ones
    assert calls.in_flight_at_go == 3, calls.events  # all held at once: none waited for first
    assert [kind for kind, _ in jobs] == ["made"] * 3 + ["taken"] * 3, jobs
    assert jobs[0][1] == jobs[-1][1] == calls.libraries[0]  # the outer one, taken last
    if build is _rnn:
        values = _rnn_values()
        for got, want in zip(f(*values), _rnn_numpy(*values)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    else:
        v = np.linspace(0.1, 2, 7)
        np.testing.assert_allclose(f(1.0, v), (np.exp(v) * v + 1) * 2, rtol=1e-13)
        np.testing.assert_allclose(f(-1.0, v), (np.log1p(v * v) - v) * 2, rtol=1e-13)


def test_no_more_compilers_run_than_slots_and_the_result_is_the_same(jobs, monkeypatch, tmp_path):
    values = _rnn_values()
    at_once = _compile(_rnn, tmp_path / "at-once")
    monkeypatch.setattr(slots, "compiler_slots", lambda: 1)
    calls = Recorder(monkeypatch, tmp_path)
    jobs.clear()
    one_by_one = _compile(_rnn, tmp_path / "one-by-one")
    assert len(calls.libraries) == 3 and calls.most_at_once() == 1, calls.events
    # started all the same before the first was waited for: the others waited in line
    assert [kind for kind, _ in jobs] == ["made"] * 3 + ["taken"] * 3, jobs
    for got, same, want in zip(at_once(*values), one_by_one(*values), _rnn_numpy(*values)):
        assert np.array_equal(got, same)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the same entries, under the same keys, each library under its own
    keys = []
    for d in ("at-once", "one-by-one"):
        with config.change_flags(compiledir=str(tmp_path / d)):
            keys.append({(e["kind"], e["key"]) for e in fc.cache.entries()})
    assert keys[0] == keys[1]
    assert sum(kind == "kernel_library" for kind, _ in keys[0]) == 3


def test_a_failing_inner_library_raises_its_error_and_publishes_nothing_of_it(monkeypatch, tmp_path):
    dirs = early_library_dirs(monkeypatch)
    calls = Recorder(monkeypatch, tmp_path, fail=3)  # the gradient loop's step
    where = tmp_path / "cd"
    with pytest.raises(CompileError) as raised:
        _compile(_rnn, where)
    message = str(raised.value)
    bad = calls.libraries[2]
    assert f"compiling {bad} failed: exit status 1" in message
    assert "this inner library does not compile" in message and "source kept at:" in message
    for proc in calls.procs:  # every compiler reaped, none left running behind
        with pytest.raises(ChildProcessError):
            os.waitpid(proc.pid, os.WNOHANG)
    assert dirs and not any(d.exists() for d in dirs)
    with config.change_flags(compiledir=str(where)):
        entries = fc.cache.entries()
        published = [n for e in entries if e["kind"] == "kernel_library" for n in e["files"]]
        assert published and not any(n.startswith(bad) for n in published)
        report = fc.cache.verify(repair=False)
        assert report["bad"] == [], report
    monkeypatch.undo()  # the compiler works again: the same compiledir gives the function
    f = _compile(_rnn, where)
    values = _rnn_values()
    for got, want in zip(f(*values), _rnn_numpy(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_two_inner_functions_with_one_library_compile_it_once(jobs, monkeypatch, tmp_path):
    c, x, y = ft.dscalar("c"), ft.dvector("x"), ft.dvector("y")
    calls = Recorder(monkeypatch, tmp_path)
    f = _compile(lambda: ([c, x, y], fc.ifelse(ft.gt(c, 0), ft.exp(x) * 2, ft.exp(y) * 2)), tmp_path / "cd")
    # the branches' libraries are one (the same kernels): one call builds it, the second
    # branch takes the entry the first published
    assert len(calls.libraries) == 2 and len(calls.procs) == 2, calls.events
    assert [kind for kind, _ in jobs] == ["made", "made", "taken", "taken"], jobs
    v, w = np.linspace(-1, 1, 5), np.linspace(0, 2, 3)
    np.testing.assert_allclose(f(1.0, v, w), np.exp(v) * 2, rtol=1e-15)
    np.testing.assert_allclose(f(-1.0, v, w), np.exp(w) * 2, rtol=1e-15)
