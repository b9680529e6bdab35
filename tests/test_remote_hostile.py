"""The remote tier against a misbehaving Redis endpoint: a real server on loopback that answers
with huge lengths, 200,000 nested arrays, garbage, one byte every 0.5 s, or nothing at all.

The promise under test: no call fails because of the endpoint, each process pays at most one
``remote_timeout`` for it, and the process exits normally.  The client side runs as a real
subprocess (the exit is part of the promise) under a timeout; the server runs here, on threads.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from fncache.cache.resp import ProtocolError, RespClient

MAX_BULK, MAX_DEPTH = 512 << 20, 8

REPO = Path(__file__).resolve().parent.parent


def _drip(conn: socket.socket, data: bytes) -> None:
    for i in range(len(data)):
        conn.sendall(data[i : i + 1])
        time.sleep(0.5)


#: What each endpoint answers to whatever it is sent (it reads the command first).
BEHAVIOURS = {
    "huge_bulk": lambda conn: conn.sendall(b"$9223372036854775807\r\nabc"),
    "big_bulk_then_silence": lambda conn: conn.sendall(b"$%d\r\n" % (MAX_BULK - 1) + b"x" * 1000),
    "nested_arrays": lambda conn: conn.sendall(b"*1\r\n" * 200_000 + b":1\r\n"),
    "huge_array": lambda conn: conn.sendall(b"*2147483647\r\n" + b":1\r\n" * 1000),
    "garbage": lambda conn: conn.sendall(b"\r\n".join(random.Random(7).randbytes(37) for _ in range(100))),
    "long_line": lambda conn: conn.sendall(b"+" + b"A" * (1 << 20)),
    "drip": lambda conn: _drip(conn, b"*1000\r\n" + b":1\r\n" * 1000),
    "frozen": lambda conn: time.sleep(3600),
    "wrong_types": lambda conn: conn.sendall(b"*3\r\n:1\r\n:2\r\n:3\r\n" * 10 + b":5\r\n" * 10),
}


def _endless_scan(conn: socket.socket) -> None:
    """Answer every command with a SCAN page of one new key and a new cursor, for ever."""
    n = 0
    while True:
        n += 1
        key = b"fncache:1:entry:%064x" % n
        conn.sendall(b"*2\r\n$%d\r\n%d\r\n*1\r\n$%d\r\n%s\r\n" % (len(str(n)), n, len(key), key))
        if not conn.recv(65536):
            return


BEHAVIOURS["endless_scan"] = _endless_scan


class HostileServer:
    """A TCP endpoint on 127.0.0.1 that answers every connection the way ``behaviour`` says."""

    def __init__(self, behaviour: str):
        self.behaviour = BEHAVIOURS[behaviour]
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            self.behaviour(conn)
        except OSError:
            pass  # the client gave up on us

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    srv = HostileServer(request.param)
    yield srv
    srv.close()


# -- the client alone: bounded, without recursion, within one deadline -------------------------------


@pytest.mark.parametrize(
    "hostile, error",
    [
        ("huge_bulk", "bulk string length .* out of bounds"),
        ("nested_arrays", f"nested deeper than {MAX_DEPTH}"),
        ("huge_array", "array length .* out of bounds"),
        ("garbage", "unknown reply type|not an integer|out of bounds"),
        ("long_line", "longer than"),
    ],
    indirect=["hostile"],
)
def test_client_refuses_replies_out_of_bounds_at_once(hostile: HostileServer, error: str) -> None:
    c = RespClient(hostile.url, 5.0)
    t0 = time.monotonic()
    with pytest.raises(ProtocolError, match=error):
        c.execute("GET", "k")
    assert time.monotonic() - t0 < 2.0


@pytest.mark.parametrize("hostile", ["drip", "frozen", "big_bulk_then_silence"], indirect=True)
def test_client_gives_each_command_one_deadline(hostile: HostileServer) -> None:
    """A server that drips a byte every 0.5 s never resets the clock: the whole reply must come
    within the timeout (a per-recv timeout would wait for ever)."""
    c = RespClient(hostile.url, 1.0)
    for _ in range(2):
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            c.execute("GET", "k")
        assert 0.9 < time.monotonic() - t0 < 1.6


# -- a process using the tier: its calls succeed, pay one timeout, and it exits ----------------------

CLIENT = r"""
import json, sys, time, uuid
from pathlib import Path
from fncache.cache import Compiledir
from fncache.cache.keys import CacheKey
cd = Compiledir(Path(sys.argv[1]))
times, got = [], []
for i in range(6):
    def build(staging, i=i):
        (staging / "lib.bin").write_bytes(b"value%d" % i)
        return {"library": "lib.bin"}
    t0 = time.monotonic()
    entry = cd.get_or_build(CacheKey("kernel_library", {"n": str(i), "nonce": uuid.uuid4().hex}), build)
    times.append(time.monotonic() - t0)
    got.append(entry.read_bytes("lib.bin").decode())
print(json.dumps({"times": times, "got": got, "at": time.time()}), flush=True)
"""

FUNCTION_CLIENT = r"""
import json, time
import numpy as np
import fncache as fc
import fncache.tensor as ft
x = ft.dvector("x")
t0 = time.monotonic()
out = fc.function([x], ft.exp(x) * 2.0 + 1.0)(np.arange(3.0))
print(json.dumps({"ok": bool(np.allclose(out, np.exp(np.arange(3.0)) * 2.0 + 1.0)),
                  "seconds": time.monotonic() - t0, "at": time.time()}), flush=True)
"""


def run_client(script: str, url: str, tmp_path: Path, timeout: float = 1.0) -> tuple[dict, str, float]:
    """Run ``script`` in a fresh process; its report, its stderr and the seconds from its report
    (its last act) to its exit (the exit must not wait on the endpoint)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},remote_cache={url},remote_timeout={timeout}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "cd")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the process did not exit within 60 s; it printed {out!r}; stderr: {err[-2000:]}")
    exited = time.time()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    report = json.loads(out.splitlines()[-1])
    return report, err, exited - report["at"]


@pytest.mark.parametrize("hostile", sorted(set(BEHAVIOURS) - {"endless_scan"}), indirect=True)
def test_a_hostile_endpoint_costs_one_timeout_and_never_keeps_the_process(
    hostile: HostileServer, tmp_path: Path
) -> None:
    report, err, exit_seconds = run_client(CLIENT, hostile.url, tmp_path, timeout=1.0)
    assert report["got"] == [f"value{i}" for i in range(6)]
    times = report["times"]
    assert times[0] < 1.0 + 1.5, times  # at most one remote_timeout (and the build, on a busy machine)
    assert max(times[1:]) < 0.5, times  # the breaker is open: Redis is not touched again
    assert exit_seconds < 5.0, exit_seconds
    warnings = [line for line in err.splitlines() if "remote cache" in line and "unavailable" in line]
    assert len(warnings) == 1, err


@pytest.mark.parametrize("hostile", ["drip", "nested_arrays"], indirect=True)
def test_a_function_compiles_and_runs_beside_a_hostile_endpoint(
    hostile: HostileServer, tmp_path: Path
) -> None:
    report, _, exit_seconds = run_client(FUNCTION_CLIENT, hostile.url, tmp_path, timeout=1.0)
    assert report["ok"]
    assert exit_seconds < 5.0, exit_seconds


def test_a_dead_endpoint_costs_nothing_and_the_process_exits(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    report, err, exit_seconds = run_client(CLIENT, url, tmp_path, timeout=1.0)
    assert report["got"] == [f"value{i}" for i in range(6)]
    assert max(report["times"]) < 1.0
    assert exit_seconds < 5.0


@pytest.mark.parametrize("hostile", ["endless_scan", "wrong_types", "nested_arrays"], indirect=True)
def test_administrative_commands_end_with_one_error(
    hostile: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fncache list|info --remote`` against such an endpoint: a CacheError naming it, in bounded time."""
    import fncache as fc
    from fncache.cache import remote, remote_admin

    monkeypatch.setattr(remote_admin, "ADMIN_TIMEOUT", 2.0)
    for command in (remote.remote_list, remote.remote_info):
        t0 = time.monotonic()
        with (
            fc.config.change_flags(remote_timeout=1.0),
            pytest.raises(fc.CacheError, match="remote cache redis://"),
        ):
            command(hostile.url)
        assert time.monotonic() - t0 < 3.5
