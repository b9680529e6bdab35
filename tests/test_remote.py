"""The Redis remote tier (docs/remote.md) against a real ``redis-server`` on a free loopback port.

Hosts are simulated by compiledirs that share no files; the only thing they share is Redis.
In-process tests use trivial builds (one file, no compiler) so that timings measure the tier;
the acceptance tests run real processes compiling real functions with gcc.  Nothing is mocked:
Redis is killed (SIGKILL), frozen (SIGSTOP) and filled to its maxmemory for real.
"""

from __future__ import annotations

import json
import logging
import platform
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install -e '.[test]')")
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (see .ci/run)")

from fncache.cache import Compiledir, remote, tiers  # noqa: E402
from fncache.cache.entry_blob import MAGIC  # noqa: E402
from fncache.cache.keys import CacheKey  # noqa: E402
from fncache.cache.remote_redis import CLAIM, ENTRY  # noqa: E402
from fncache.config import config  # noqa: E402
from test_cache_install import assert_durable, installs, synced  # noqa: E402,F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent


# -- a real redis-server ---------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a free 127.0.0.1 port, data in a temp dir, no persistence."""

    def __init__(self, workdir: Path, *args: str, password: str | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.password = password
        if password is not None:
            args = (*args, "--requirepass", password)
        for _ in range(5):  # the free port may be taken between probing and binding it: try another
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            self.proc = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                    "--protected-mode",
                    "yes",
                    *args,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError("redis-server did not start")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.client().ping():
                    return True
            except redis.ConnectionError:
                time.sleep(0.02)
        return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            db=db,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
            password=self.password,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a test froze it
            self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path_factory.mktemp("redis"))
    yield srv
    srv.stop()


@pytest.fixture
def url(server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty Redis and a process that has not met it yet (no tier, no warning given)."""
    server.client().flushall()
    monkeypatch.setattr(remote, "_tiers", {})
    monkeypatch.setattr(remote, "_warned", set())
    with config.change_flags(remote_cache=server.url(), remote_timeout=2.0):
        yield server.url()


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A server of this test alone, to kill or freeze."""
    monkeypatch.setattr(remote, "_tiers", {})
    monkeypatch.setattr(remote, "_warned", set())
    srv = RedisServer(tmp_path / "redis")
    yield srv
    srv.stop()


def host(tmp_path: Path, name: str) -> Compiledir:
    """A simulated host: its own compiledir."""
    return Compiledir(tmp_path / f"host-{name}")


def new_key(label: str = "k") -> CacheKey:
    return CacheKey("kernel_library", {"name": label, "nonce": uuid.uuid4().hex})


def writer(
    content: bytes, built: list[str], *, sleep: float = 0.0, started: threading.Event | None = None
) -> Callable[[Path], dict]:
    """A build that writes one file (and records that it ran)."""

    def build(staging: Path) -> dict:
        built.append(content.decode())
        if started is not None:
            started.set()
        time.sleep(sleep)
        (staging / "lib.bin").write_bytes(content)
        return {"library": "lib.bin"}

    return build


def remote_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.getMessage().startswith("fncache: remote cache")
    ]


# -- the blob format -------------------------------------------------------------------------------


def test_unpack_rejects_anything_but_a_whole_blob(tmp_path):
    cd = host(tmp_path, "a")
    key = new_key()
    entry = cd.get_or_build(key, writer(b"payload", []))
    blob = remote.pack_entry(entry)
    files = remote.unpack_entry(blob)
    assert files["lib.bin"] == b"payload" and list(files)[0] == "meta.json"
    for bad in (
        b"",
        b"garbage",
        blob[:-1],
        blob + b"x",
        blob.replace(b"lib.bin", b"../x.b"),
        MAGIC + b"{}\n",
        MAGIC + b'[["lib.bin",1]]\nx',
    ):
        with pytest.raises(remote.Damaged):
            remote.unpack_entry(bad)


# -- two hosts, one Redis --------------------------------------------------------------------------


def test_second_host_loads_what_the_first_built(tmp_path, url, server):
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    key = new_key()
    built: list[str] = []
    entry_a = a.get_or_build(key, writer(b"built on a", built))
    entry_b = b.get_or_build(key, writer(b"built on b", built))
    assert built == ["built on a"]
    assert entry_b.read_bytes("lib.bin") == b"built on a"
    assert entry_b.path == b.path / "entries" / key.digest[:2] / key.digest  # published in b's own compiledir
    assert b.verify(repair=False)["bad"] == []
    assert (a.info()["compiles"], b.info()["compiles"], b.info()["hits"]) == (1, 0, 1)
    assert b.get(key).meta["files"] == entry_a.meta["files"]  # now a local hit on b
    stats = remote.remote_stats(url)
    assert (stats["hits"], stats["misses"], stats["uploads"]) == (1, 1, 1)


def test_put_bytes_entries_are_shared_too(tmp_path, url):
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    key = CacheKey("function", {"graph": uuid.uuid4().hex})
    assert b.get(key) is None
    a.put_bytes(key, {"graph.pkl": b"optimized graph"}, {"nodes": 3})
    assert b.get(key).read_bytes("graph.pkl") == b"optimized graph"


def test_a_host_waits_for_the_claim_holder_and_builds_nothing(tmp_path, url, server):
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    key = new_key()
    built: list[str] = []
    started = threading.Event()
    builder = threading.Thread(
        target=a.get_or_build, args=(key, writer(b"slow", built, sleep=1.0, started=started))
    )
    builder.start()
    assert started.wait(30)
    t0 = time.monotonic()
    entry = b.get_or_build(key, writer(b"impatient", built))
    waited = time.monotonic() - t0
    builder.join()
    assert built == ["slow"] and entry.read_bytes("lib.bin") == b"slow"
    assert 0.3 < waited < 5
    assert not server.client().exists(CLAIM + key.digest)  # released after the upload


def test_an_expired_claim_is_taken_over(tmp_path, url, server):
    """A host that died while building leaves a claim that expires; the next host builds."""
    key = new_key()
    server.client().set(CLAIM + key.digest, "deadhost:4242:00", px=1200)
    built: list[str] = []
    t0 = time.monotonic()
    entry = host(tmp_path, "b").get_or_build(key, writer(b"after expiry", built))
    assert built == ["after expiry"] and entry.read_bytes("lib.bin") == b"after expiry"
    assert 1.0 < time.monotonic() - t0 < 5


def test_the_heartbeat_keeps_a_long_build_claimed(tmp_path, url, server, monkeypatch):
    monkeypatch.setattr(tiers, "CLAIM_TTL", 0.6)  # where the heartbeat reads it
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    key = new_key()
    built: list[str] = []
    started = threading.Event()
    builder = threading.Thread(
        target=a.get_or_build, args=(key, writer(b"long", built, sleep=2.0, started=started))
    )
    builder.start()
    assert started.wait(30)
    entry = b.get_or_build(key, writer(b"other", built))  # the claim outlives 3 TTLs: b waits
    builder.join()
    assert built == ["long"] and entry.read_bytes("lib.bin") == b"long"
    assert not server.client().exists(CLAIM + key.digest)


def test_waiting_is_bounded_by_lock_timeout(tmp_path, url, server, caplog):
    key = new_key()
    server.client().set(CLAIM + key.digest, "stuckhost:7:00", px=60_000)
    built: list[str] = []
    with config.change_flags(lock_timeout=0.5), caplog.at_level(logging.WARNING, logger="fncache.cache"):
        t0 = time.monotonic()
        host(tmp_path, "b").get_or_build(key, writer(b"mine", built))
    assert built == ["mine"] and time.monotonic() - t0 < 3
    assert any("pid 7 on host stuckhost" in r.getMessage() for r in caplog.records)


def test_claims_that_never_deliver_cost_one_lock_timeout_not_one_per_key(tmp_path, url, server, caplog):
    """A store whose every key is claimed by a builder that never delivers (a stuck host, or a
    store that lies about claims): one wait of lock_timeout, then this host stops waiting on claims."""
    keys = [new_key(f"stuck{i}") for i in range(5)]
    for key in keys:
        server.client().set(CLAIM + key.digest, "stuckhost:7:00", px=60_000)
    cd = host(tmp_path, "b")
    times = []
    with config.change_flags(lock_timeout=0.5), caplog.at_level(logging.WARNING, logger="fncache.cache"):
        for i, key in enumerate(keys):
            t0 = time.monotonic()
            assert (
                cd.get_or_build(key, writer(f"mine{i}".encode(), [])).read_bytes("lib.bin")
                == f"mine{i}".encode()
            )
            times.append(time.monotonic() - t0)
    assert 0.45 < times[0] < 3, times
    assert max(times[1:]) < 0.3, times


# -- bad remote entries ----------------------------------------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs (needs root, as CI runs)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("mounting a tmpfs needs root")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_remote_entry_larger_than_the_free_space_is_built_here(small_fs, url, server, caplog):
    """A (hostile or simply huge) remote copy that does not fit the compiledir's disk must not
    fail the call: it is dropped with a warning and the entry is built here."""
    key = new_key()
    files = {"meta.json": b"{}", "lib.bin": b"x" * (3 << 20)}
    header = json.dumps([[n, len(d)] for n, d in files.items()], separators=(",", ":")).encode()
    server.client().set(ENTRY + key.digest, b"fncache-entry 1\n" + header + b"\n" + b"".join(files.values()))
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        entry = Compiledir(small_fs / "cd").get_or_build(key, writer(b"small", []))
    assert entry.read_bytes("lib.bin") == b"small"
    assert any("cannot stage the remote copy" in r.getMessage() for r in caplog.records)


def _flip_last_byte(blob: bytes) -> bytes:
    return blob[:-1] + bytes([blob[-1] ^ 0xFF])


@pytest.mark.parametrize(
    "damage",
    [
        _flip_last_byte,  # a file's content no longer matches its checksum
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob.replace(b'"size"', b'"sizf"', 1),  # garbled meta.json
        lambda blob: b"not an entry at all",
    ],
)
def test_a_bad_remote_entry_is_ignored_and_overwritten(tmp_path, url, server, caplog, damage):
    a, b, c = host(tmp_path, "a"), host(tmp_path, "b"), host(tmp_path, "c")
    key = new_key()
    built: list[str] = []
    a.get_or_build(key, writer(b"good", built))
    r = server.client()
    r.set(ENTRY + key.digest, damage(r.get(ENTRY + key.digest)))
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        entry = b.get_or_build(key, writer(b"rebuilt", built))
    assert built == ["good", "rebuilt"] and entry.read_bytes("lib.bin") == b"rebuilt"
    ignored = [m for m in (r.getMessage() for r in caplog.records) if "ignoring the remote copy" in m]
    assert len(ignored) == 1, ignored
    assert not list((b.path / "entries").glob("*/*/QUARANTINED")) and b.verify(repair=False)["bad"] == []
    assert c.get_or_build(key, writer(b"never", built)).read_bytes("lib.bin") == b"rebuilt"  # overwritten
    assert built == ["good", "rebuilt"]


@pytest.mark.parametrize(
    "damage",
    [
        _flip_last_byte,
        lambda blob: blob[: len(blob) // 2],
        lambda blob: blob.replace(b'"size"', b'"sizf"', 1),
        lambda blob: blob.replace(b"good", b"evil", 1),  # same size, other content
    ],
)
def test_a_fetch_installs_verified_bytes_durably_and_never_a_bad_copy(
    tmp_path, url, server, damage, installs, synced
):
    """A fetch goes through the one install path (cache/install.py): every file and the staging
    directory fsynced before the rename, verified; a damaged copy leaves nothing published."""
    a, b, c = host(tmp_path, "a"), host(tmp_path, "b"), host(tmp_path, "c")
    key = new_key()
    a.get_or_build(key, writer(b"good", []))
    installs.clear()
    synced.paths.clear()
    entry = b.get(key)
    assert entry.read_bytes("lib.bin") == b"good"
    assert installs == [["lib.bin", "meta.json"]]
    assert_durable(entry.path, entry.files, synced)
    r = server.client()
    r.set(ENTRY + key.digest, damage(r.get(ENTRY + key.digest)))
    assert c.get(key) is None
    assert not (c.path / "entries" / key.digest[:2] / key.digest).exists()
    assert not any((c.path / "tmp").iterdir())


def test_signed_remote_entries_from_another_key_are_refused(tmp_path, url, caplog):
    key_a, key_b = tmp_path / "a.key", tmp_path / "b.key"
    key_a.write_bytes(b"secret of a")
    key_b.write_bytes(b"secret of b")
    key = new_key()
    built: list[str] = []
    with config.change_flags(signing_key=str(key_a)):
        host(tmp_path, "a").get_or_build(key, writer(b"signed by a", built))
    with (
        config.change_flags(signing_key=str(key_b)),
        caplog.at_level(logging.WARNING, logger="fncache.cache"),
    ):
        entry = host(tmp_path, "b").get_or_build(key, writer(b"signed by b", built))
        assert entry.read_bytes("lib.bin") == b"signed by b"
    assert any("HMAC" in r.getMessage() for r in caplog.records)
    with config.change_flags(signing_key=str(key_b)):
        assert (
            host(tmp_path, "c").get_or_build(key, writer(b"x", built)).read_bytes("lib.bin") == b"signed by b"
        )
    assert built == ["signed by a", "signed by b"]


# -- Redis down, frozen, full: the local tier alone, one warning, bounded waits --------------------


def _run_keys(cd: Compiledir, n: int, label: str) -> tuple[list[float], list[str]]:
    """Build ``n`` new keys; the time of each call and what each returned."""
    times, got = [], []
    for i in range(n):
        key = new_key(f"{label}{i}")
        t0 = time.monotonic()
        entry = cd.get_or_build(key, writer(f"{label}{i}".encode(), []))
        times.append(time.monotonic() - t0)
        got.append(entry.read_bytes("lib.bin").decode())
    return times, got


def test_unreachable_redis_one_warning_no_waiting(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(remote, "_tiers", {})
    monkeypatch.setattr(remote, "_warned", set())
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cd = host(tmp_path, "a")
    with (
        config.change_flags(remote_cache=f"redis://127.0.0.1:{port}/0", remote_timeout=1.0),
        caplog.at_level(logging.DEBUG, logger="fncache.cache"),
    ):
        times, got = _run_keys(cd, 10, "u")
    assert got == [f"u{i}" for i in range(10)]
    assert max(times) < 1.0
    assert len(remote_warnings(caplog)) == 1


def test_redis_killed_during_a_run(tmp_path, own_server, caplog):
    cd = host(tmp_path, "a")
    with (
        config.change_flags(remote_cache=own_server.url(), remote_timeout=1.0),
        caplog.at_level(logging.WARNING, logger="fncache.cache"),
    ):
        before, got_before = _run_keys(cd, 5, "alive")
        assert own_server.client().dbsize() >= 5  # they went to Redis
        assert remote_warnings(caplog) == []
        own_server.proc.send_signal(signal.SIGKILL)
        own_server.proc.wait()
        after, got_after = _run_keys(cd, 10, "dead")
        assert cd.get(new_key()) is None  # plain lookups too
    assert got_before + got_after == [f"alive{i}" for i in range(5)] + [f"dead{i}" for i in range(10)]
    assert max(after) < 1.0
    assert len(remote_warnings(caplog)) == 1, remote_warnings(caplog)


def test_frozen_redis_costs_one_timeout_then_nothing(tmp_path, own_server, caplog):
    """SIGSTOP: connections stay open but nothing answers; only the first call waits, and no longer
    than remote_timeout (the socket is abandoned by the caller, not waited out)."""
    cd = host(tmp_path, "a")
    timeout = 0.5
    with (
        config.change_flags(remote_cache=own_server.url(), remote_timeout=timeout),
        caplog.at_level(logging.WARNING, logger="fncache.cache"),
    ):
        _run_keys(cd, 2, "warm")  # connections are open
        own_server.proc.send_signal(signal.SIGSTOP)
        try:
            times, got = _run_keys(cd, 8, "frozen")
        finally:
            own_server.proc.send_signal(signal.SIGCONT)
    assert got == [f"frozen{i}" for i in range(8)]
    assert timeout * 0.8 < times[0] < timeout + 0.4, times
    assert max(times[1:]) < 0.2, times
    assert len(remote_warnings(caplog)) == 1


def test_full_redis_stops_uploads_but_still_serves_entries(tmp_path, own_server, caplog):
    r = own_server.client()
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    early = new_key("early")
    built: list[str] = []
    with (
        config.change_flags(remote_cache=own_server.url(), remote_timeout=1.0),
        caplog.at_level(logging.WARNING, logger="fncache.cache"),
    ):
        a.get_or_build(early, writer(b"early", built))  # stored while there was room
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", str(int(r.info("memory")["used_memory"]) // 2))  # now it is full
        with pytest.raises(redis.exceptions.ResponseError, match="maxmemory"):
            r.set("one more", b"x")
        times, got = _run_keys(a, 5, "full")
        assert got == [f"full{i}" for i in range(5)] and max(times) < 1.0
        assert b.get_or_build(early, writer(b"rebuilt", built)).read_bytes("lib.bin") == b"early"
    assert built == ["early"]
    warnings = remote_warnings(caplog)
    assert len(warnings) == 1 and "is full" in warnings[0], warnings


# -- administration --------------------------------------------------------------------------------


def test_info_list_stats_and_purge(tmp_path, url, server):
    cd = host(tmp_path, "a")
    keys = [new_key(f"p{i}") for i in range(4)]
    for i, key in enumerate(keys):
        cd.get_or_build(key, writer(b"x" * (100 * (i + 1)), []))
    server.client().hset("fncache:1:used", keys[0].digest, f"{time.time() - 7200:.3f}")  # unused for 2 h
    rows = {e["key"]: e for e in remote.remote_list()}
    assert set(rows) == {k.digest for k in keys}
    assert all(e["kind"] == "kernel_library" and e["host"] and e["size"] > 0 for e in rows.values())
    info = remote.remote_info()
    assert (info["entries"], info["uploads"], info["claims"]) == (4, 4, 0)
    assert info["url"] == url and info["server_version"]
    assert [e["key"] for e in remote.remote_purge(older_than="1h", dry_run=True)] == [keys[0].digest]
    assert len(remote.remote_list()) == 4
    assert [e["key"] for e in remote.remote_purge(older_than="1h")] == [keys[0].digest]
    total = sum(e["size"] for e in remote.remote_list())
    removed = remote.remote_purge(max_size=total - 1)
    assert len(removed) == 1 and len(remote.remote_list()) == 2
    assert len(remote.remote_purge(all=True)) == 2 and remote.remote_list() == []
    with pytest.raises(ValueError):
        remote.remote_purge()


def test_admin_reports_an_unreachable_store_as_an_error(monkeypatch):
    from fncache.errors import CacheError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CacheError, match="remote cache redis://127.0.0.1"):
        remote.remote_info(f"redis://127.0.0.1:{port}/0")
    with config.change_flags(remote_cache=None), pytest.raises(CacheError, match="no remote cache"):
        remote.remote_list()
    with pytest.raises(CacheError, match="unsupported URL scheme"):
        remote.remote_info("memcached://127.0.0.1:1")


def test_password_is_never_shown():
    assert remote.redact("redis://user:hunter2@10.0.0.1:6380/2") == "redis://user:***@10.0.0.1:6380/2"
    assert remote.redact("rediss://:hunter2@cache/0") == "rediss://:***@cache/0"
    assert remote.redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


# -- real processes, real functions, gcc -------------------------------------------------------------

WORKER = r"""
import json, logging, os, sys, time
logging.basicConfig(level=logging.INFO, format="LOG %(levelname)s %(message)s")
spec = json.loads(sys.argv[1])
import numpy as np
import fncache as fc
from fncache import tensor as ft
if spec.get("ready"):
    open(spec["ready"], "w").close()
deadline = time.time() + 120
while spec.get("go") and not os.path.exists(spec["go"]) and time.time() < deadline:
    time.sleep(0.005)
before = fc.cache.stats()
# Distinct graphs, so distinct native modules (constants alone may share one module).
FUNCS = [(lambda x: ft.exp(x) * 2.5 + ft.sin(x), lambda a: np.exp(a) * 2.5 + np.sin(a)),
         (lambda x: ft.cos(x) * x - 1.0, lambda a: np.cos(a) * a - 1.0),
         (lambda x: ft.tanh(x) + x * x, lambda a: np.tanh(a) + a * a),
         (lambda x: ft.sqrt(ft.abs(x)) * ft.expm1(x), lambda a: np.sqrt(np.abs(a)) * np.expm1(a))]
x = ft.dvector("x")
data = np.linspace(-1.0, 1.0, 7)
results, times = [], []
for i, n in enumerate(spec["funcs"]):
    if i == spec.get("pause_at"):
        open(spec["paused"], "w").close()
        while not os.path.exists(spec["resume"]) and time.time() < deadline:
            time.sleep(0.005)
    t0 = time.perf_counter()
    build, reference = FUNCS[n]
    out = fc.function([x], build(x))(data)
    times.append(time.perf_counter() - t0)
    results.append(bool(np.allclose(out, reference(data), rtol=1e-12)))
after = fc.cache.stats()  # counters of every process that used this compiledir: take the difference
def kernel_library(stats):
    return stats["per_kind"].get("kernel_library", {}).get("compiles", 0)
print(json.dumps({"results": results, "times": times, "compiles": after["compiles"] - before["compiles"],
                  "library_compiles": kernel_library(after) - kernel_library(before), "redis_imported": "redis" in sys.modules}))
"""


def start_worker(compiledir: Path, redis_url: str, funcs: list[int], **spec) -> subprocess.Popen:
    """A process of a simulated host that compiles and runs ``WORKER``'s functions ``funcs``.

    Its ``remote_timeout`` is generous: on a loaded CI machine a slow first connection must not
    count as a Redis failure here (the timeout itself is tested in-process).
    """
    flags = f"compiledir={compiledir},remote_cache={redis_url},remote_timeout=15"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FNCACHE_FLAGS": flags}
    spec = {k: str(v) if isinstance(v, Path) else v for k, v in {"funcs": funcs, **spec}.items()}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish_worker(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    report["log"] = [line for line in err.splitlines() if line.startswith("LOG ")]
    return report


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"worker exited early: {proc.communicate()[1]}"
        assert time.monotonic() < deadline, f"worker never wrote {path}"
        time.sleep(0.01)


def test_second_host_runs_a_function_without_compiling(tmp_path, url):
    first = finish_worker(start_worker(tmp_path / "host-a", url, [0]))
    assert first["results"] == [True] and first["library_compiles"] == 1
    second = finish_worker(start_worker(tmp_path / "host-b", url, [0]))
    assert second["results"] == [True] and second["compiles"] == 0, second["log"]
    again = finish_worker(start_worker(tmp_path / "host-a", url, [0]))  # a pure local hit
    assert again["results"] == [True] and again["compiles"] == 0 and not again["redis_imported"]
    assert [line for r in (first, second, again) for line in r["log"] if "WARNING" in line] == []


def test_eight_processes_on_two_hosts_compile_each_module_once(tmp_path, url):
    funcs = [1, 2, 3]
    go = tmp_path / "go"
    procs = []
    for i in range(8):
        order = funcs[i % 3 :] + funcs[: i % 3]  # different orders: they collide on different keys
        procs.append(
            start_worker(tmp_path / f"host-{i % 2}", url, order, ready=tmp_path / f"ready{i}", go=go)
        )
    for i, p in enumerate(procs):
        wait_for_file(tmp_path / f"ready{i}", p)
    go.touch()
    reports = [finish_worker(p) for p in procs]
    assert all(r["results"] == [True] * 3 for r in reports)
    modules = [e for e in remote.remote_list() if e["kind"] == "kernel_library"]
    assert len(modules) == 3
    # counters of the whole compiledir (a process's own delta would include its neighbours' work)
    assert (
        sum(
            Compiledir(tmp_path / f"host-{h}").stats()["per_kind"]["kernel_library"]["compiles"]
            for h in (0, 1)
        )
        == 3
    )
    assert [line for r in reports for line in r["log"] if "WARNING" in line] == []


def test_redis_killed_while_processes_run(tmp_path, own_server):
    url = own_server.url()
    finish_worker(start_worker(tmp_path / "host-a", url, [0, 1]))  # these two are in Redis
    paused, resume = tmp_path / "paused", tmp_path / "resume"
    proc = start_worker(tmp_path / "host-b", url, [0, 1, 2, 3], pause_at=1, paused=paused, resume=resume)
    wait_for_file(paused, proc)
    own_server.proc.send_signal(signal.SIGKILL)
    own_server.proc.wait()
    resume.touch()
    report = finish_worker(proc)
    assert report["results"] == [True] * 4
    assert report["library_compiles"] == 3  # the first came from Redis; after the kill: local alone
    warnings = [line for line in report["log"] if "remote cache" in line]
    assert len(warnings) == 1 and warnings[0].startswith("LOG WARNING"), report["log"]


# -- the command line: fncache info|stats|list|purge --remote ------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from fncache_cli.main import main

    try:
        rc = main(list(args))
    except SystemExit as e:  # usage errors exit through argparse
        rc = int(e.code)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_cli_remote_views_and_purge(tmp_path, url, capsys):
    cd = host(tmp_path, "a")
    keys = [new_key(f"c{i}") for i in range(3)]
    for key in keys:
        cd.get_or_build(key, writer(b"y" * 500, []))
    host(tmp_path, "b").get(keys[0])  # one remote hit

    rc, out, _ = run_cli(capsys, "info", "--remote", "--json")
    info = json.loads(out)
    assert rc == 0 and (info["url"], info["entries"], info["hits"], info["uploads"]) == (url, 3, 1, 3)
    rc, out, _ = run_cli(capsys, "info", "--remote")
    assert rc == 0 and "remote cache" in out and "3 uploads" in out
    rc, out, _ = run_cli(capsys, "stats", "--remote", "--json")
    stats = json.loads(out)
    assert rc == 0 and (stats["hits"], stats["misses"], stats["uploads"]) == (1, 3, 3)
    rc, out, _ = run_cli(capsys, "list", "--remote", "--json", "--limit", "2")
    listed = json.loads(out)
    assert rc == 0 and (listed["total"], listed["shown"]) == (3, 2)
    assert {e["key"] for e in listed["entries"]} <= {k.digest for k in keys}
    rc, out, _ = run_cli(capsys, "list", "--remote")
    assert rc == 0 and all(k.digest[:16] in out for k in keys) and "3 remote entries" in out

    rc, out, _ = run_cli(capsys, "purge", "--remote", "--all", "--dry-run", "--json")
    assert rc == 0 and json.loads(out)["count"] == 3 and len(remote.remote_list()) == 3
    rc, out, _ = run_cli(capsys, "purge", "--remote", "--all")
    assert rc == 0 and "removed 3 remote entries" in out and remote.remote_list() == []
    assert len(cd.entries()) == 3  # the compiledir is untouched
    rc, _, err = run_cli(capsys, "purge", "--remote")
    assert rc == 2 and "say what to remove" in err


def test_cli_remote_errors_are_messages(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, _, err = run_cli(capsys, "list", "--remote", f"redis://:pw@127.0.0.1:{port}/0")
    assert rc == 1 and "fncache: error: remote cache redis://:***@127.0.0.1" in err and "pw" not in err
    with config.change_flags(remote_cache=None):
        rc, _, err = run_cli(capsys, "info", "--remote")
    assert rc == 1 and "no remote cache" in err


# -- the RESP client (fncache/cache/resp.py) --------------------------------------------------------


def test_resp_url_parsing() -> None:
    from fncache.config import parse_remote_url as parse_url

    got = parse_url("redis://alice:p%40ss@cache.internal:6380/4")
    assert (got["host"], got["port"], got["db"], got["username"], got["password"], got["tls"]) == (
        "cache.internal",
        6380,
        4,
        "alice",
        "p@ss",
        False,
    )
    assert parse_url("rediss://h?db=2&ssl_cert_reqs=none")["db"] == 2
    assert parse_url("rediss://h")["tls"] and parse_url("rediss://h")["verify"]
    assert not parse_url("rediss://h?ssl_cert_reqs=none")["verify"]
    assert parse_url("unix:///run/redis.sock?db=3")["unix"] == "/run/redis.sock"
    for bad, words in [
        ("http://h", "scheme"),
        ("redis://", "no host"),
        ("redis://h/x", "not a number"),
        ("redis://h:99999", "port"),
        ("unix://", "socket path"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_url(bad)


def test_resp_password_database_and_unix_socket(tmp_path: Path) -> None:
    from fncache.cache.resp import RespClient, RespError

    sock = tmp_path / "r.sock"
    srv = RedisServer(
        tmp_path / "redis", "--unixsocket", str(sock), "--unixsocketperm", "700", password="s3cret"
    )
    try:
        c = RespClient(f"redis://:s3cret@127.0.0.1:{srv.port}/3", 2.0)
        assert c.execute("SET", "k", b"\x00bytes\r\n") == b"OK"
        assert srv.client(db=3).get("k") == b"\x00bytes\r\n"  # binary-safe, in database 3
        u = RespClient(f"unix://:s3cret@{sock}?db=3", 2.0)
        assert u.execute("GET", "k") == b"\x00bytes\r\n"
        with pytest.raises(RespError, match="WRONGPASS|invalid password"):
            RespClient(f"redis://:wrong@127.0.0.1:{srv.port}/0", 2.0).execute("PING")
        with pytest.raises(RespError, match="NOAUTH"):
            RespClient(f"redis://127.0.0.1:{srv.port}/0", 2.0).execute("GET", "k")
    finally:
        srv.stop()


def test_resp_pipelines_and_transactions(server: RedisServer) -> None:
    from fncache.cache.resp import RespClient, RespError

    server.client().flushall()
    c = RespClient(server.url(), 2.0)
    ok, err, n = c.pipeline([("SET", "k", "v"), ("INCR", "k"), ("STRLEN", "k")])
    assert ok == b"OK" and isinstance(err, RespError) and n == 1  # errors are values, in order
    assert c.pipeline([("SET", "a", 1), ("INCRBY", "a", 41)], transaction=True) == [b"OK", 42]
    with pytest.raises(RespError, match="EXECABORT|unknown command"):
        c.pipeline([("SET", "b", 1), ("NO-SUCH-COMMAND",)], transaction=True)
    assert c.execute("EXISTS", "b") == 0  # all or nothing
    assert c.script("return redis.call('get', KEYS[1])", ["a"], []) == b"42"  # EVAL, then EVALSHA
    assert c.script("return redis.call('get', KEYS[1])", ["a"], []) == b"42"
    c.pipeline([("SET", f"many:{i}", i) for i in range(2500)])
    assert len(set(c.scan_iter("many:*", count=100))) == 2500
    assert c.hgetall("nothing") == {}
    assert isinstance(c.info()["used_memory"], int)


def test_resp_garbage_and_dropped_replies_close_the_connection() -> None:
    """A server that answers nonsense, or hangs up halfway, is a ProtocolError; the client never
    reuses that connection, and the next command connects again."""
    import threading
    from fncache.cache.resp import ProtocolError, RespClient

    answers = [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"$10\r\nhalf", b"+PONG\r\n"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[int] = []

    def serve() -> None:
        for answer in answers:
            conn, _ = listener.accept()
            accepted.append(1)
            conn.recv(1024)
            conn.sendall(answer)
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    c = RespClient(f"redis://127.0.0.1:{listener.getsockname()[1]}", 2.0)
    with pytest.raises(ProtocolError, match="unknown reply type"):
        c.execute("PING")
    with pytest.raises(ProtocolError, match="closed in the middle"):
        c.execute("PING")
    assert c.execute("PING") == b"PONG"
    t.join(5)
    listener.close()
    assert len(accepted) == 3  # one fresh connection per command after each failure


def test_resp_tls_verifies_the_server_and_presents_a_client_certificate(tmp_path: Path) -> None:
    """rediss://: the server's certificate is checked against the given CA (a self-signed one is
    refused without it), and a server that demands client certificates gets ours."""
    from fncache.cache.resp import ProtocolError, RespClient

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (needed to make test certificates)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(cert),
            "--tls-auth-clients",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"rediss://localhost:{port}/0?ssl_ca_certs={cert}&ssl_certfile={cert}&ssl_keyfile={key}"
        deadline = time.monotonic() + 10
        while True:
            try:
                assert RespClient(url, 2.0).execute("PING") == b"PONG"
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server with TLS did not start (built without TLS?)")
                time.sleep(0.05)
        c = RespClient(url, 2.0)
        assert c.execute("SET", "k", "v") == b"OK" and c.execute("GET", "k") == b"v"
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            RespClient(f"rediss://localhost:{port}/0?ssl_certfile={cert}&ssl_keyfile={key}", 2.0).execute(
                "PING"
            )  # the system CAs do not know this server
        with pytest.raises((OSError, ProtocolError)):  # no client certificate: refused
            RespClient(f"rediss://localhost:{port}/0?ssl_ca_certs={cert}", 2.0).execute("PING")
    finally:
        proc.kill()
        proc.wait()


def test_a_remote_entry_needing_cpu_features_this_cpu_lacks_is_never_installed(tmp_path, url, caplog):
    """An entry published by a host with a richer CPU (its metadata records what the code
    needs): this host refuses the remote copy before anything could load it, and builds its own."""
    from fncache.toolchain.cpu import cpu_features, known_features

    missing = sorted(known_features() - cpu_features())
    if platform.machine() != "x86_64" or not missing:
        pytest.skip("needs an x86-64 CPU lacking some feature the run-time knows")
    a, b = host(tmp_path, "a"), host(tmp_path, "b")
    key = new_key()
    built: list[str] = []

    def richer(staging: Path) -> dict:
        (staging / "lib.bin").write_bytes(b"code for a richer CPU")
        return {"library": "lib.bin", "isa": [missing[0]]}

    a.get_or_build(key, richer)
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        entry = b.get_or_build(key, writer(b"built here", built))
    assert built == ["built here"] and entry.read_bytes("lib.bin") == b"built here"
    assert any(
        "ignoring the remote copy" in r.getMessage() and "lacks" in r.getMessage() for r in caplog.records
    )
