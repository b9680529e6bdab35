"""Shared pytest fixtures. Keep each fixture in its own clearly marked section."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# -- per-user state (set before fncache is imported) --------------------------------------------
# fncache keeps per-user state under $XDG_CACHE_HOME (else ~/.cache): the default compiledir,
# the private host records (fncache-hosts/) and the compiler fingerprint's memo
# (fncache-fingerprint/).  A test session points XDG_CACHE_HOME at a directory of its own, so no
# test (nor any process a test starts: they inherit the environment) writes into the user's
# cache: fake compilers' host records would otherwise stay in the user's file for good.
# XDG_CONFIG_HOME is left alone: fncache reads no configuration file, and pip's lives there.
_REAL_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"))
_SESSION_USER_STATE = tempfile.mkdtemp(prefix="fncache-test-user-")
_SESSION_USER_CACHE = os.path.join(_SESSION_USER_STATE, "cache")
os.environ["XDG_CACHE_HOME"] = _SESSION_USER_CACHE

import fncache as fc  # noqa: E402  (after the environment above is set)


def _user_cache_snapshot() -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of everything under the real user cache's ``fncache*``
    directories (none: empty), links not followed; the test compiledir named by
    ``FNCACHE_TEST_COMPILEDIR`` is left out, since a session may write there on purpose."""
    keep_out = os.environ.get("FNCACHE_TEST_COMPILEDIR")
    keep_out = os.path.realpath(keep_out) if keep_out else None
    out: dict[str, tuple[int, int]] = {}
    try:
        tops = [p for p in _REAL_USER_CACHE.iterdir() if p.name.startswith("fncache")]
    except OSError:
        return out
    for top in tops:
        for root, dirs, files in os.walk(top):
            if keep_out is not None:
                dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(root, d)) != keep_out]
            for name in [".", *files]:
                path = os.path.normpath(os.path.join(root, name))
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                out[path] = (st.st_size, st.st_mtime_ns)
    return out


_USER_CACHE_BEFORE = _user_cache_snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if anything under the real user cache changed while it ran."""
    after = _user_cache_snapshot()
    changed = sorted(
        p for p in set(after) | set(_USER_CACHE_BEFORE) if after.get(p) != _USER_CACHE_BEFORE.get(p)
    )
    if changed:
        shown = "\n  ".join(changed[:20])
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = (
            f"the test session changed {len(changed)} path(s) under the user's cache {_REAL_USER_CACHE} "
            f"(tests must keep to XDG_CACHE_HOME={_SESSION_USER_CACHE}; another fncache "
            f"process run meanwhile would also show here):\n  {shown}"
        )
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_USER_STATE, ignore_errors=True)


# -- private compiledir (core test suite) ----------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def _private_compiledir(tmp_path_factory: pytest.TempPathFactory):
    """Every test session compiles into its own compiledir, never the user's cache.

    ``FNCACHE_TEST_COMPILEDIR`` names a directory to use instead (e.g. to keep a warm cache
    between runs while iterating).
    """
    path = os.environ.get("FNCACHE_TEST_COMPILEDIR") or str(tmp_path_factory.mktemp("compiledir"))
    with fc.config.change_flags(compiledir=path):
        yield path


# -- verified cache hits (tests marked verify_hits) ---------------------------------------------
@pytest.fixture(autouse=True)
def _verify_hits(request: pytest.FixtureRequest):
    """Tests marked ``verify_hits`` run with ``cache_verify_hits``: every cache hit is rebuilt
    and compared with the stored entry, so an unsound key fails the test that hit it."""
    if request.node.get_closest_marker("verify_hits") is None:
        yield
        return
    with fc.config.change_flags(cache_verify_hits=True):
        yield
