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


#: compiler calls that only answer a question (no compile, no temporary file)
QUERIES = ("-dump", "--version", "-print-", "--help")


def test_every_compiler_call_of_a_new_hosts_detection_keeps_its_temporary_files_in_a_work_directory(
    tmp_path,
):
    """Detecting a new host (``-march=native`` expanded, the vector widths' kernel built
    alongside and timed) and compiling a function: every compiler call gets a TMPDIR inside the
    user's work directories, or writes no temporary file (``-pipe``, a preprocessor run), so a
    process killed during any of them leaves nothing that the next one does not remove."""
    log = tmp_path / "calls.log"
    cc = tmp_path / "cc"
    cc.write_text(f'#!/bin/sh\nprintf "%s\\t%s\\n" "$TMPDIR" "$*" >> {log}\nexec gcc "$@"\n')
    cc.chmod(0o755)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),  # no host record yet: detection runs
        "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},cxx={cc}",
    }
    program = (
        "import numpy as np, fncache as fc\n"
        "from fncache import tensor as ft\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], ft.exp(x) * 2)\n"
        "assert np.allclose(f(np.ones(3)), 2 * np.e)\n"
    )
    subprocess.run([sys.executable, "-c", program], env=env, check=True, timeout=300)
    calls = [ln.split("\t", 1) for ln in log.read_text().splitlines()]
    work = str(tmp / f"fncache-work-{os.getuid()}")

    def writes_temps(argv: str) -> bool:
        """A compile and link writes its object files as temporary files (-pipe or not); a
        question, a preprocessor run or a -pipe compile without linking writes none."""
        words = argv.split()
        return not (argv.startswith(QUERIES) or "-E" in words or ("-c" in words and "-pipe" in words))

    writing = [(d, argv) for d, argv in calls if writes_temps(argv)]
    assert len(writing) >= 2, calls  # the vector widths' kernel and the function's library at least
    assert all(d.startswith(work + os.sep) for d, _ in writing), writing
    assert list(tmp.iterdir()) == []  # and every work directory is gone
