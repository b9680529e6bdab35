"""Private work directories under $TMPDIR (``fncache/fs/workdirs.py``): what a process killed
outright leaves there is removed by the next process making one, and nothing else is.

A work directory whose process runs, or whose lock is held (a process of another pid namespace
sharing /tmp may look gone), is kept. The compiles that leave such directories behind when
killed are in ``tests/test_cache_inner_races.py``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile

from fncache.fs.workdirs import WorkDir


def test_a_work_directory_is_private_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # $TMPDIR, as read once
    with WorkDir() as work:
        (work.path / "out.so").write_bytes(b"x")
        assert work.path.parent == tmp_path / f"fncache-work-{os.getuid()}"
        assert work.path.name.startswith(f"{os.getpid()}-")
        assert work.path.stat().st_mode & 0o777 == 0o700 and work.path.parent.stat().st_mode & 0o777 == 0o700
    assert list(tmp_path.iterdir()) == []


def test_making_one_removes_those_of_gone_processes_only(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # $TMPDIR, as read once
    user = tmp_path / f"fncache-work-{os.getuid()}"
    user.mkdir(mode=0o700)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(gone.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        left, locked, running = (
            user / f"{pid}-{tag}" for pid, tag in ((dead, "a"), (dead, "b"), (alive.pid, "c"))
        )
        for d in (left, locked, running):
            (d / "sub").mkdir(parents=True)
            (d / "sub" / "cc1.o").write_bytes(b"o")
        held = os.open(locked, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(held, fcntl.LOCK_EX)  # as a process of another pid namespace holds its own
            with WorkDir() as work:  # the gone process's unlocked directory is removed
                assert {p.name for p in user.iterdir()} == {locked.name, running.name, work.path.name}
        finally:
            os.close(held)
        with WorkDir() as work:  # and the other once its lock is let go
            assert {p.name for p in user.iterdir()} == {running.name, work.path.name}
        assert [p.name for p in user.iterdir()] == [running.name]
    finally:
        alive.communicate(b"")
