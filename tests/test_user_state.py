"""A test session never writes into the user's own cache.

fncache keeps per-user state under ``$XDG_CACHE_HOME`` (else ``~/.cache``): the default
compiledir, the private host records and the compiler fingerprint's memo. ``tests/conftest.py``
points ``XDG_CACHE_HOME`` at a directory of the session's own before fncache is imported, every
process a test starts inherits it, and a session that changes anything under the real user
cache's ``fncache*`` directories fails. Checked here with real pytest sessions whose ``HOME`` is
an empty directory:

* tests that write every kind of per-user state (fake compilers' host records from fresh
  processes, a compile in this process) leave that ``HOME`` empty;
* a test that does write into ``~/.cache/fncache-hosts`` fails its session, and says where;
* with ``XDG_CACHE_HOME`` unset or empty, per-user state goes under ``~/.cache`` (a ``HOME`` of
  the test's own).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fncache.config import user_cache_dir
from fncache.toolchain import march

REPO = Path(__file__).resolve().parent.parent

#: Tests that write per-user state: host records of a fake compiler and of gcc from fresh
#: processes, a missing compiler's, and the compiler fingerprint's memo from a compile here.
_WRITERS = [
    "tests/test_toolchain.py::test_detection_runs_once_per_host_and_compiler",
    "tests/test_errors.py::test_compile_error_bad_compiler",
]


def _pytest_with_home(home: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """A pytest session as a user whose ``HOME`` is ``home`` and who set no ``XDG_CACHE_HOME``."""
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "FNCACHE_TEST_COMPILEDIR")}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_test_session_leaves_the_users_cache_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = _pytest_with_home(home, _WRITERS, REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout, proc.stdout[-3000:]
    assert sorted(home.rglob("*")) == []


def test_a_session_that_writes_into_the_users_cache_fails(tmp_path):
    home, suite = tmp_path / "home", tmp_path / "suite"
    home.mkdir()
    (suite / "tests").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "conftest.py", suite / "tests" / "conftest.py")
    (suite / "tests" / "test_leak.py").write_text(
        "from pathlib import Path\n\n\n"
        "def test_leak():\n"
        "    path = Path.home() / '.cache' / 'fncache-hosts'\n"
        "    path.mkdir(parents=True)\n"
        "    (path / 'leaked.json').write_text('{}')\n"
    )
    proc = _pytest_with_home(home, ["tests"], suite)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed" in proc.stdout
    assert "changed 2 path(s) under the user's cache" in proc.stdout, proc.stdout[-3000:]
    assert str(home / ".cache" / "fncache-hosts" / "leaked.json") in proc.stdout


def test_per_user_state_defaults_to_the_home_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    default = tmp_path / ".cache" / "fncache-hosts"
    for xdg in (None, ""):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME")
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        assert user_cache_dir("fncache-hosts") == str(default)
    assert march.user_host_dir() == default
    assert default.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir("fncache") == str(tmp_path / "xdg" / "fncache")
