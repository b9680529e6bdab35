"""``fncache`` while other processes use the compiledir: purging and verifying under a compiling
process, and unlocking the locks of live and of killed builders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import clean_env, run_cli, run_json

#: Each graph is a chain of a different length, so each needs its own native module.
COMPILER = r"""
import sys
import numpy as np
import fncache as fc
from fncache import tensor as ft

x = ft.vector("x")
a = np.linspace(-2, 2, 101)
for i in range(int(sys.argv[1])):
    expr, want = x, a.copy()
    for j in range(i + 1):
        expr, want = ft.sin(expr) + (j + 2), np.sin(want) + (j + 2)  # |d/dx| <= 1: no error growth
    for _ in range(2):  # the second build hits the cache, or rebuilds if a purge came between
        got = fc.function([x], expr)(a)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (i, got, want)
print("all results correct")
"""

#: Takes a key's build lock and holds it (the build sleeps) until killed.
HOLDER = r"""
import os, sys, time
from pathlib import Path
from fncache.cache import CacheKey, Compiledir

def build(staging):
    Path(sys.argv[2]).write_text(str(os.getpid()))
    time.sleep(300)
    (staging / "never.bin").write_bytes(b"")

Compiledir(sys.argv[1]).get_or_build(CacheKey("locktest", {"holder": sys.argv[3]}), build)
"""


def test_purge_and_verify_while_another_process_compiles(tmp_path: Path) -> None:
    cd = tmp_path / "compiledir"
    compiler = subprocess.Popen(
        [sys.executable, "-c", COMPILER, "12"],
        env=clean_env(compiledir=str(cd)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    purged = 0
    rounds = 0
    try:
        while not cd.joinpath("entries").is_dir() and compiler.poll() is None:
            time.sleep(0.05)
        while compiler.poll() is None:
            purged += run_json("purge", "--all", "--compiledir", cd)["count"]  # exit status 0 checked
            report = run_json("verify", "--repair", "--compiledir", cd)
            assert report["ok"] and report["bad"] == [], report
            rounds += 1
        out, err = compiler.communicate(timeout=600)
    finally:
        if compiler.poll() is None:
            compiler.kill()
    assert compiler.returncode == 0, err
    assert "all results correct" in out
    assert rounds >= 2 and purged >= 1, (rounds, purged)  # the purges really overlapped the compiles
    assert run_json("verify", "--compiledir", cd)["ok"] is True


def _start_holder(cd: Path, marker: Path, name: str, lock_mode: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cd), str(marker), name],
        env=clean_env(compiledir=str(cd), lock_mode=lock_mode),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert holder.poll() is None, holder.stderr.read() if holder.stderr else ""
        assert time.monotonic() < deadline, "the lock holder never started building"
        time.sleep(0.05)
    return holder


@pytest.mark.parametrize("lock_mode", ["flock", "lease"])
def test_unlock_live_and_stale_locks(tmp_path: Path, lock_mode: str) -> None:
    cd = tmp_path / "compiledir"
    live = _start_holder(cd, tmp_path / "live.started", "live", lock_mode)
    try:
        doc = run_json("unlock", "--compiledir", cd)
        assert doc["removed"] == 0 and doc["live"] == 1 and doc["force"] is False
        (lock,) = doc["locks"]
        assert lock["state"] == "live" and lock["action"] == "none" and lock["mode"] == lock_mode
        assert lock["pid"] == live.pid and lock["host"] == os.uname().nodename
        text = run_cli("unlock", "--compiledir", cd).stdout.splitlines()
        assert text[0].split() == ["KEY", "MODE", "STATE", "ACTION", "HOLDER", "BUILDING"]
        assert f"pid {live.pid} on " in text[1] and "live" in text[1]
        assert text[-1].startswith("removed 0 locks; 1 live lock held by running processes left alone")

        forced = run_json("unlock", "--force", "--compiledir", cd)
        assert forced["removed"] == 1 and [x["action"] for x in forced["locks"]] == ["broken"]
    finally:
        live.kill()
        live.wait()

    dead = _start_holder(cd, tmp_path / "dead.started", "dead", lock_mode)
    os.kill(dead.pid, signal.SIGKILL)  # killed mid-build: its lock (record) stays behind
    dead.wait()
    doc = run_json("unlock", "--compiledir", cd)
    stale = [x for x in doc["locks"] if x["pid"] == dead.pid]
    assert [(x["state"], x["action"]) for x in stale] == [("stale", "removed")] and doc["removed"] == 1
    assert run_cli("unlock", "--compiledir", cd).stdout.strip() == "no locks held"
