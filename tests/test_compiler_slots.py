"""A compiler call run in a slot (``toolchain/slots.py``) always ends for whoever waits on it:

* output that is no UTF-8 (a flag or a path of another encoding in gcc's message) is read, not
  lost to a decoding error in the thread collecting it (which left the waiter waiting forever
  and the slot taken);
* whatever else stops the collecting thread is raised to the waiter, and the slot is given
  back to the next call in line;
* a whole compile with such a flag raises gcc's CompileError, its command and log kept;
* a call whose collecting thread cannot start is stopped, its process reaped and its pipes closed.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import CompileError
from fncache.toolchain import slots

#: a flag whose last byte (0xe9, Latin-1's é) is no UTF-8, as os.environ gives such bytes
FOREIGN_FLAG = "-fno-caf\udce9"


def _within(seconds: float, fn):
    """fn()'s result or its exception, failing (not hanging) if it takes longer."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the test
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still waiting after {seconds} s (the call never ended for its waiter)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_output_that_is_no_utf8_is_read_and_the_slot_given_back():
    before = slots._running
    script = "import sys; sys.stderr.buffer.write(b'bad \\xe9 byte\\n'); sys.exit(3)"
    call = slots.Call([sys.executable, "-c", script])
    code, out, err = _within(30, call.result)
    assert (code, out, err) == (3, "", "bad \ufffd byte\n")
    assert slots._running == before


def test_a_failure_collecting_the_output_reaches_the_waiter_and_frees_the_slot(monkeypatch):
    one_more = slots._running + 1  # one slot for these calls
    monkeypatch.setattr(slots, "compiler_slots", lambda: one_more)
    real = slots.start_tool

    def start(argv, tmpdir=None):
        proc = real(argv, tmpdir)
        if argv[-1] == "first":

            def broken(*args, **kwargs):
                raise RuntimeError("the pipe's reader failed")

            proc.communicate = broken
        return proc

    monkeypatch.setattr(slots, "start_tool", start)
    first = slots.Call([sys.executable, "-c", "import time; time.sleep(0.2)", "first"])
    second = slots.Call([sys.executable, "-c", "print('second ran')", "second"])  # waits in line
    with pytest.raises(RuntimeError, match="the pipe's reader failed"):
        _within(30, first.result)
    assert first.proc.poll() is not None  # killed and reaped, not left running
    assert _within(30, second.result) == (0, "second ran\n", "")


def test_a_compile_with_a_flag_of_another_encoding_raises_gccs_error(tmp_path: Path):
    x = ft.dvector("x")
    with fc.config.change_flags(compiledir=str(tmp_path / "cd"), cxxflags=f"-O2 {FOREIGN_FLAG}"):
        with pytest.raises(CompileError) as raised:
            _within(120, lambda: fc.function([x], ft.exp(x) * 2 + 1))
    message = str(raised.value)
    assert "unrecognized command-line option" in message and "\ufffd" in message
    kept = Path(message.split("source kept at: ")[1].split()[0])
    log = kept.with_suffix(".log").read_bytes()
    assert b"-fno-caf\xe9" in log  # the command as the compiler got it, byte for byte


def test_a_call_that_cannot_start_when_its_turn_comes_tells_its_waiter(monkeypatch):
    """A call waiting in line is started by the thread that collected the call before it; its
    failure to start (any error: a flag with a NUL byte is a ValueError) is its result, and the
    calls after it in line still run."""
    one_more = slots._running + 1  # one slot for these calls
    monkeypatch.setattr(slots, "compiler_slots", lambda: one_more)
    real = slots.start_tool

    def start(argv, tmpdir=None):
        if argv[-1] == "broken":
            raise ValueError("embedded null byte")
        return real(argv, tmpdir)

    monkeypatch.setattr(slots, "start_tool", start)
    first = slots.Call([sys.executable, "-c", "import time; time.sleep(0.2)", "first"])
    broken = slots.Call([sys.executable, "-c", "pass", "broken"])  # waits in line
    last = slots.Call([sys.executable, "-c", "print('last ran')", "last"])  # waits in line
    assert _within(30, first.result)[0] == 0
    with pytest.raises(ValueError, match="embedded null byte"):
        _within(30, broken.result)
    assert _within(30, last.result) == (0, "last ran\n", "")


def test_a_call_whose_collecting_thread_cannot_start_frees_its_process_and_slot(monkeypatch):
    """No thread can start (the process's thread limit): the started process is stopped and
    reaped, its pipes closed (not left open for the life of the interpreter), the slot given
    back, and the error is the call's result."""
    before = slots._running
    started = []
    real = slots.start_tool

    def start(argv, tmpdir=None):
        started.append(real(argv, tmpdir))
        return started[-1]

    class NoThread(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(slots, "start_tool", start)
    monkeypatch.setattr(slots.threading, "Thread", NoThread)
    call = slots.Call([sys.executable, "-c", "import time; time.sleep(30)"])
    with pytest.raises(RuntimeError, match="can't start new thread"):
        _within(30, call.result)
    (proc,) = started
    assert proc.returncode is not None
    assert proc.stdout.closed and proc.stderr.closed
    assert slots._running == before
