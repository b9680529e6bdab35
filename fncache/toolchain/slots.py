"""How many compiler processes this process runs at once: one per core it may use. A function
with inner graphs starts the compiler on each of its kernel libraries as soon as the library's
source is known, and they would otherwise all run together (a loop's step, its gradient's step,
the outer graph's library, each in one or two parts); a call beyond the cores only adds its
share of switching and memory. A call that finds every slot taken waits in line, and is started
as soon as a running one ends, by the thread that collected that one's output: whoever wants its
result only waits for it.

Each running call has such a thread: it reads the call's output as it comes (a compiler that
writes more than a pipe holds never stops half-way because nobody reads it yet) and reaps the
process when it ends.
"""

from __future__ import annotations

import collections
import os
import threading
from typing import Any

from .process import start_tool

__all__ = ["Call", "compiler_slots"]


def compiler_slots() -> int:
    """How many compiler processes may run at once: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


_lock = threading.Lock()
_running = 0
_waiting: collections.deque[Call] = collections.deque()


class Call:
    """One compiler command, started at once if a slot is free, else when one frees; its
    temporary files in ``tmpdir`` if given."""

    def __init__(self, argv: list[str], tmpdir: str | None = None) -> None:
        self.argv = argv
        self.tmpdir = tmpdir
        self.proc: Any = None  # the process, once started
        self._result: tuple[int, str, str] | BaseException | None = None
        self._done = threading.Event()
        with _lock:
            if _running < compiler_slots():
                self._start()
            else:
                _waiting.append(self)

    def result(self) -> tuple[int, str, str]:
        """(return code, stdout, stderr), once the command has ended; the error that kept it from
        starting (``OSError``: no such compiler) or its output from being collected, raised."""
        self._done.wait()
        result = self._result
        if isinstance(result, BaseException):
            raise result
        assert result is not None
        return result

    def cancel(self) -> None:
        """Take the command out of the line, or kill it and wait until it is reaped."""
        with _lock:
            if self.proc is None:
                if self in _waiting:
                    _waiting.remove(self)
                    self._finish((-9, "", "cancelled before it started"))
                return
        if self.proc.poll() is None:
            self.proc.kill()
        self._done.wait()

    def _start(self) -> None:
        """Start the process (the caller holds the lock); a failure to start (any error: the
        thread collecting the call before it starts it, and must go on with the line) is its
        result."""
        global _running
        try:
            self.proc = start_tool(self.argv, self.tmpdir)
        except Exception as e:
            self._finish(e)
            return
        _running += 1
        try:
            threading.Thread(target=self._collect, name="fncache-compiler", daemon=True).start()
        except Exception as e:  # nothing would collect it: stopped, and that is its result
            _running -= 1
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
            self._finish(e)

    def _collect(self) -> None:
        global _running
        result: tuple[int, str, str] | BaseException
        try:
            out, err = self.proc.communicate()
            result = (self.proc.returncode, out, err)
        except BaseException as e:  # whatever it is, the slot is given back and the waiter told
            result = e
            self.proc.kill()
            self.proc.wait()
        finally:
            with _lock:
                _running -= 1
                while _waiting and _running < compiler_slots():
                    _waiting.popleft()._start()
            self._finish(result)

    def _finish(self, result: tuple[int, str, str] | BaseException) -> None:
        self._result = result
        self._done.set()


def _after_fork_in_child() -> None:
    """A forked child runs none of its parent's compilers, and may find the lock held."""
    global _lock, _running
    _lock = threading.Lock()
    _running = 0
    _waiting.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
