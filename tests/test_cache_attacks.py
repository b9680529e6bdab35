"""The compiledir under attack and faults: planted links, FIFOs and directories, metadata damage.

Every attack uses the real thing (real symbolic links, real FIFOs, real racing processes); the
full-disk cases are in test_cache_full_disk.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import signal
import sys
import time
from pathlib import Path

import pytest

from fncache.cache import Compiledir, function_key
from fncache.cache.entry import META
from fncache.config import config

HEX = "0123456789abcdef"


def fkey(i: int | str):
    return function_key(f"attack-{i}", "FAST_RUN", {"floatX": "float64"})


@pytest.fixture
def cd(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd"), lock_timeout=60):
        yield Compiledir()


def _old(path: Path) -> None:
    t = time.time() - 30 * 86400
    os.utime(path, (t, t), follow_symlinks=False)


def _victim(base: Path, shard: str) -> list[Path]:
    """A directory outside the compiledir whose names look like the cache's own, all stale."""
    base.mkdir(parents=True)
    files = []
    digest = shard + HEX[:14] * 4 + "ab"[:2]
    names = [
        digest,
        f"{digest}.1700000000.abcdef",
        f"host.1.{HEX[:12]}",
        f"x.{HEX[:8]}",
        "precious.txt",
        shard,
    ]
    for name in names:
        d = base / name
        d.mkdir()
        (d / META).write_text(json.dumps({"size": 1, "files": {}}))
        (d / "data").write_text("keep me")
        files += [d / META, d / "data"]
        _old(d)
    (base / ".a.json.1").write_text("keep me")
    _old(base / ".a.json.1")
    files.append(base / ".a.json.1")
    return files


PLACES = ["entries/<shard>", "entries", "trash", "tmp", "quarantine", "failed", "hosts", "stats"]


@pytest.mark.parametrize("place", PLACES)
def test_a_planted_link_never_makes_maintenance_delete_outside(cd, tmp_path, place, caplog):
    entry = cd.put_bytes(fkey(0), {"a.bin": b"x" * 10}, {})
    shard = entry.key.digest[:2]
    rel = place.replace("<shard>", shard)
    victim = tmp_path / "victim"
    files = _victim(victim, shard)
    if rel == "entries":
        (victim / shard / entry.key.digest).mkdir()
        (victim / shard / entry.key.digest / "data").write_text("keep me")
        files.append(victim / shard / entry.key.digest / "data")
    target = tmp_path / "cd" / rel
    os.rename(target, tmp_path / "moved-away")  # the attacker may write the compiledir
    os.symlink(victim, target)
    # an ordinary compiling process: its janitor cleans trash/ tmp/ ... on a miss
    cd._root().janitor._last = -1e9
    built = cd.get_or_build(fkey(1), lambda d: (d / "b.bin").write_bytes(b"y") and None)
    assert built.read_bytes("b.bin") == b"y"
    report = cd.verify(repair=True)
    assert any(str(target) in why for why in report["foreign"]), report["foreign"]
    cd.purge(all=True)
    cd._root().janitor.run(clear_aside=True)
    cd.get(fkey(0))
    assert [f for f in files if not f.exists()] == []
    assert os.path.islink(target), "a link is reported, never removed or followed"


def test_a_link_in_place_of_an_entry_is_damage_and_moved_aside_not_followed(cd, tmp_path):
    entry = cd.put_bytes(fkey(0), {"a.bin": b"x" * 10}, {})
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "a.bin").write_bytes(b"x" * 10)
    os.rename(entry.path, tmp_path / "old")
    os.rename(tmp_path / "old" / META, victim / META)
    os.symlink(victim, entry.path)
    assert cd.get(fkey(0)) is None
    assert not os.path.lexists(entry.path)
    cd.verify(repair=True)
    assert (victim / META).exists() and (victim / "a.bin").exists()
    assert cd.get_or_build(fkey(0), lambda d: (d / "a.bin").write_bytes(b"x" * 10) and None) is not None


@pytest.mark.parametrize("sub", ["trash", "hosts", "tmp"])
def test_a_new_process_refuses_a_compiledir_with_a_link_for_a_directory(tmp_path, sub):
    root = tmp_path / "cd"
    Compiledir(root).put_bytes(fkey(0), {"a": b"1"}, {})
    (tmp_path / "elsewhere").mkdir()
    os.rename(root / sub, tmp_path / "gone")
    os.symlink(tmp_path / "elsewhere", root / sub)
    code = f"from fncache.cache import Compiledir; Compiledir({str(root)!r}).info()"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and f"{root / sub} is a symbolic link" in p.stderr, p.stderr[-2000:]


@pytest.mark.parametrize("where", ["hosts", "stats", "tmp", "entries/<shard>", "locks/<shard>"])
def test_permission_check_covers_every_directory_the_cache_writes(tmp_path, where):
    root = tmp_path / "cd"
    entry = Compiledir(root).put_bytes(fkey(0), {"a": b"1"}, {})
    path = root / where.replace("<shard>", entry.key.digest[:2])
    path.mkdir(exist_ok=True)
    os.chmod(path, 0o777)
    code = (
        f"from fncache.cache import Compiledir, function_key; c = Compiledir({str(root)!r}); c.info(); "
        f"c.get(function_key('attack-0', 'FAST_RUN', {{'floatX': 'float64'}}))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and f"{path} is writable by every user" in p.stderr, p.stderr[-2000:]


def test_cli_verify_reports_a_link_and_exits_1(cd, tmp_path):
    entry = cd.put_bytes(fkey(0), {"a": b"1"}, {})
    shard = tmp_path / "cd" / "entries" / entry.key.digest[:2]
    victim = tmp_path / "victim"
    os.rename(shard, victim)
    os.symlink(victim, shard)
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"}
    p = subprocess.run(
        [sys.executable, "-m", "fncache_cli.main", "verify", "--repair"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    assert p.returncode == 1 and "symbolic link" in p.stdout + p.stderr, p.stdout + p.stderr
    assert (victim / entry.key.digest / META).exists()


# -- load exactly the verified bytes ------------------------------------------------------------

VICTIM = """
import sys, numpy as np, fncache as fc, fncache.tensor as ft
fc.config.compiledir, fc.config.signing_key = sys.argv[1], sys.argv[2]
x = ft.vector("x")
f = fc.function([x], ft.exp(x) * 2 + 1)
v = np.arange(4.0)
assert np.allclose(f(v), np.exp(v) * 2 + 1)
"""

ATTACKER = """
import os, sys, time
lib, evil, stop = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
good = open(lib, "rb").read()
tmp = lib + ".swap"
while not os.path.exists(stop):
    for data in (evil, good):
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, lib)
        except OSError:  # the entry was set aside: wait for the rebuilt one
            time.sleep(0.01)
        time.sleep(0.0005)
"""


def _signed_kernel_entry(tmp_path: Path) -> tuple[Path, Path]:
    """A compiledir holding one signed kernel library entry; returns (compiledir, key file)."""
    cdir, keyfile = tmp_path / "cd", tmp_path / "key"
    keyfile.write_bytes(b"team secret")
    subprocess.run([sys.executable, "-c", VICTIM, str(cdir), str(keyfile)], check=True, timeout=300)
    return cdir, keyfile


def test_a_library_swapped_after_verification_never_runs(tmp_path):
    from fncache.toolchain import compile_shared_object

    cdir, keyfile = _signed_kernel_entry(tmp_path)
    [meta_path] = [
        p
        for p in (cdir / "entries").glob("*/*/meta.json")
        if json.loads(p.read_text()).get("kind") == "kernel_library"
    ]
    lib = meta_path.parent / json.loads(meta_path.read_text())["library"]
    marker = tmp_path / "PWNED"
    evil = compile_shared_object(
        "#include <stdio.h>\n__attribute__((constructor)) static void own(void) "
        f'{{ FILE *f = fopen("{marker}", "a"); if (f) {{ fputs("x", f); fclose(f); }} }}\n'
        "int fc_errflag;\n",
        tmp_path,
        "evil",
        python_ext=False,
    )
    stop = tmp_path / "stop"
    attacker = subprocess.Popen([sys.executable, "-c", ATTACKER, str(lib), str(evil), str(stop)])
    try:
        failures = []
        for _ in range(6):  # 12 victims, two at a time
            pair = [
                subprocess.Popen(
                    [sys.executable, "-c", VICTIM, str(cdir), str(keyfile)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            for v in pair:
                err = v.communicate(timeout=300)[1]
                if v.returncode:
                    failures.append(err[-1500:])
    finally:
        stop.touch()
        attacker.wait(timeout=60)
    assert not marker.exists(), f"a swapped library ran its constructor {len(marker.read_text())} time(s)"
    assert failures == []


# -- a FIFO or a directory where an entry file belongs ----------------------------------------

LOOKUP = """
import sys
from fncache.cache import Compiledir, function_key
c = Compiledir(sys.argv[1])
k = function_key("attack-0", "FAST_RUN", {"floatX": "float64"})
print("found" if c.get(k) is not None else "missing")
r = c.verify(repair=True)
print(len(r["bad"]), len(r["repaired"]), r["checked"])
print("rebuilt" if c.put_bytes(k, {"a.bin": b"x" * 10}, {}).read_bytes("a.bin") == b"x" * 10 else "?")
"""


@pytest.mark.parametrize("name", ["a.bin", META])
@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_in_place_of_a_file_is_damage_never_a_hang(cd, tmp_path, name, kind):
    entry = cd.put_bytes(fkey(0), {"a.bin": b"x" * 10}, {})
    others = [cd.put_bytes(fkey(i), {"a.bin": b"y" * 10}, {}) for i in (1, 2)]
    (entry.path / name).unlink()
    if kind == "fifo":
        os.mkfifo(entry.path / name)
    else:
        (entry.path / name).mkdir()
    p = subprocess.run(
        [sys.executable, "-c", LOOKUP, str(tmp_path / "cd")], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stderr[-2000:]
    found, counts, rebuilt = p.stdout.split("\n")[:3]
    assert found == "missing" and rebuilt == "rebuilt"
    assert counts == "0 0 2", "the damaged entry was set aside at lookup; verify checks the other two"
    assert all(cd.get(o.key) is not None for o in others)


def test_verify_repair_goes_on_past_a_fifo_and_a_directory(cd, tmp_path):
    entries = [cd.put_bytes(fkey(i), {"a.bin": bytes([i]) * 10}, {}) for i in range(4)]
    (entries[0].path / "a.bin").unlink()
    os.mkfifo(entries[0].path / "a.bin")
    (entries[1].path / META).unlink()
    (entries[1].path / META).mkdir()
    report = cd.verify(repair=True)
    assert sorted(report["repaired"]) == sorted([entries[0].key.digest, entries[1].key.digest])
    assert "not a regular file" in report["reasons"][entries[0].key.digest]
    assert cd.verify()["checked"] == 2 and cd.info()["entries"] == 2


# -- metadata damage ---------------------------------------------------------------------------


def _flips(raw: bytes):
    """One bit flipped in every byte (the bit cycles), and every bit of the library and module names."""
    for i in range(len(raw)):
        yield i, 1 << (i % 8)
    meta = json.loads(raw)
    for field in ("library", "module"):
        start = raw.index(json.dumps(meta[field]).encode())
        for i in range(start + 1, start + len(json.dumps(meta[field])) - 1):
            for bit in range(8):
                yield i, 1 << bit


def test_every_bit_flip_in_meta_json_is_detected(tmp_path):
    from fncache.cache.entry import Damaged, read_entry

    cdir, keyfile = _signed_kernel_entry(tmp_path)
    [meta_path] = [
        p
        for p in (cdir / "entries").glob("*/*/meta.json")
        if json.loads(p.read_text()).get("kind") == "kernel_library"
    ]
    raw = meta_path.read_bytes()
    meta = json.loads(raw)
    undetected = []
    for signed in (False, True):  # without a key the signature is not read: it is the one field left out
        with config.change_flags(signing_key=str(keyfile) if signed else ""):
            for i, bit in _flips(raw):
                flipped = bytearray(raw)
                flipped[i] ^= bit
                meta_path.write_bytes(bytes(flipped))
                try:
                    found = read_entry(meta_path.parent, meta_path.parent.name, None, touch=False)
                except Damaged:
                    continue
                if found is None or {k: v for k, v in found[0].meta.items() if signed or k != "hmac"} != {
                    k: v for k, v in meta.items() if signed or k != "hmac"
                }:
                    undetected.append((signed, i, bit, bytes(flipped[max(0, i - 20) : i + 20])))
    assert undetected == []


def test_a_library_that_verifies_but_does_not_load_is_set_aside_and_rebuilt(tmp_path, caplog):
    import hashlib
    import numpy as np
    import fncache as fc
    import fncache.tensor as ft
    from fncache.cache.entry import _meta_sha256

    cdir = tmp_path / "cd"
    with config.change_flags(compiledir=str(cdir)):
        x = ft.vector("x")
        fc.function([x], ft.exp(x) * 3)
    [meta_path] = [
        p
        for p in (cdir / "entries").glob("*/*/meta.json")
        if json.loads(p.read_text()).get("kind") == "kernel_library"
    ]
    meta = json.loads(meta_path.read_text())
    junk = b"\x7fELF not really a library"
    (meta_path.parent / meta["library"]).write_bytes(junk)
    meta["files"][meta["library"]] = {"sha256": hashlib.sha256(junk).hexdigest(), "size": len(junk)}
    meta["meta_sha256"] = _meta_sha256(meta)  # consistent: only the load can tell
    meta_path.write_text(json.dumps(meta))
    code = (
        "import sys, numpy as np, fncache as fc, fncache.tensor as ft\n"
        "fc.config.compiledir = sys.argv[1]\nx = ft.vector('x')\n"
        "print(fc.function([x], ft.exp(x) * 3)(np.arange(3.0)).tolist())\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(cdir)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout) == pytest.approx((np.exp(np.arange(3.0)) * 3).tolist())
    assert "does not load" in p.stderr and len(list((cdir / "quarantine").iterdir())) == 1


def test_links_planted_under_the_names_of_logs_and_size_files_are_never_written_through(cd, tmp_path):
    import threading
    from fncache.cache.counters import _day

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    cd.put_bytes(fkey(0), {"a": b"1"}, {})
    root = tmp_path / "cd"
    log_name = root / "stats" / f"{os.uname().nodename}.{_day(time.time())}.log"
    log_name.unlink(missing_ok=True)
    os.symlink(victim, log_name)
    for name in (f".size.json.{os.getpid()}", f".size.json.{os.getpid()}.{threading.get_ident()}"):
        os.symlink(victim, root / name)
    os.mkfifo(root / "stats" / "otherhost.20200101.log")
    fresh = Compiledir(root)
    from fncache.cache import compiledir as compiledir_module

    compiledir_module._roots.clear()  # a new appender opens the day's log again
    fresh.put_bytes(fkey(1), {"a": b"2"}, {})
    fresh.get(fkey(1))
    fresh.purge(max_size="1GB")
    assert fresh.stats()["hits"] >= 0  # reading the logs does not block on the FIFO
    assert victim.read_text() == "keep me\n"


def test_unlock_never_deletes_through_a_linked_lock_shard(cd, tmp_path):
    cd.put_bytes(fkey(0), {"a": b"1"}, {})
    victim = tmp_path / "victim"
    victim.mkdir()
    digest = "ab" * 32
    files = [
        victim / f"{digest}.flock",
        victim / f"{digest}.lease",
        victim / f"{digest}.holder",
        victim / "other.holder",
    ]
    for f in files:
        f.write_text('{"host": "gone", "pid": 1}')
        _old(f)
    os.mkfifo(victim / f"{'cd' * 32}.holder")
    (tmp_path / "cd" / "locks" / "ab").mkdir(exist_ok=True)
    os.rmdir(tmp_path / "cd" / "locks" / "ab")
    os.symlink(victim, tmp_path / "cd" / "locks" / "ab")
    real = tmp_path / "cd" / "locks" / "cd"
    real.mkdir(exist_ok=True)
    os.mkfifo(real / f"{'cd' * 32}.holder")
    cd.unlock(force=True)  # neither deletes through the link nor blocks on the FIFO
    assert all(f.exists() for f in files)


# -- descriptors: a process that loads many kernel libraries ----------------------------------

MANY_LIBRARIES = """
import os, sys
import numpy as np
import fncache as fc, fncache.tensor as ft
fc.config.compiledir = sys.argv[1]
x = ft.dvector("x")
def fds():
    return len(os.listdir("/proc/self/fd"))
fc.function([x], x + 0.5)(np.zeros(1))
before = fds()
def chain(v, k):  # k + 1 nodes: every k makes another loop, so another library
    for i in range(k + 1):
        v = ft.sin(v) if i % 2 else ft.cos(v)
    return v
fs = [fc.function([x], chain(x, k)) for k in range(40)]
# each library computes its own function: none is taken for another one loaded before it
v = np.array([0.3])
for k, f in enumerate(fs):
    want = v
    for i in range(k + 1):
        want = np.sin(want) if i % 2 else np.cos(want)
    np.testing.assert_allclose(f(v), want, rtol=1e-14)
print(fds() - before, len({f.cache_key for f in fs}))
"""


def test_loading_many_kernel_libraries_holds_no_descriptor_per_library(tmp_path):
    # a long-running process (a notebook, a test session) loads thousands: one descriptor each
    # would run into the usual limit of 1024 open files
    r = subprocess.run(
        [sys.executable, "-c", MANY_LIBRARIES, str(tmp_path / "cd")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    grew, functions = map(int, r.stdout.split()[-2:])
    assert functions == 40 and grew < 5, r.stdout


LOAD_DIRS = """
import os, sys
import numpy as np
import fncache as fc, fncache.tensor as ft
from fncache.codegen import c_linker
fc.config.compiledir = sys.argv[1]
tmp = os.environ["TMPDIR"]
x = ft.dvector("x")
v = np.array([0.25])
np.testing.assert_allclose(fc.function([x], ft.sin(x) + 1)(v), np.sin(v) + 1)
user = os.path.join(tmp, f"fncache-load-{os.getuid()}")
assert os.listdir(tmp) == [os.path.basename(user)] and os.stat(user).st_mode & 0o777 == 0o700
dirs = os.listdir(user)
assert len(dirs) == 1 and os.listdir(os.path.join(user, dirs[0])) == [], dirs  # links go at once
for how in ("os._exit", "exit, its parent's directory gone"):
    pid = os.fork()
    if pid == 0:
        if how != "os._exit":
            os.rmdir(os.path.join(user, dirs[0]))
        np.testing.assert_allclose(fc.function([x], ft.cos(x) * len(how))(v), np.cos(v) * len(how))
        if how == "os._exit":
            os._exit(0)
        sys.exit(0)
    assert os.waitpid(pid, 0)[1] == 0
np.testing.assert_allclose(fc.function([x], ft.tanh(x) - 2)(v), np.tanh(v) - 2)  # a new directory
print(len(os.listdir(user)))
"""


def test_libraries_are_loaded_through_one_directory_per_process_removed_at_exit(tmp_path):
    """Each library is opened through a link of its own in a private directory: one per
    process (a directory per load costs a mkdir and an rmdir on every warm hit), emptied after
    each load and removed when its process exits; a forked child uses its parent's, and makes
    (and removes) its own once that is gone. Nothing is left behind in $TMPDIR."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    r = subprocess.run(
        [sys.executable, "-c", LOAD_DIRS, str(tmp_path / "cd")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == "1"  # while running: its own directory only
    assert list(tmp.iterdir()) == []


KILLED_WHILE_LOADED = """
import os, signal, sys
import numpy as np
import fncache as fc, fncache.tensor as ft
fc.config.compiledir = sys.argv[1]
x = ft.dvector("x")
v = np.array([0.5])
np.testing.assert_allclose(fc.function([x], ft.exp(x) * float(sys.argv[2]))(v), np.exp(v) * float(sys.argv[2]))
if sys.argv[3] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
print(sorted(os.listdir(os.path.join(os.environ["TMPDIR"], f"fncache-load-{os.getuid()}"))))
"""


def test_load_directories_of_killed_processes_are_removed_by_the_next_process(tmp_path):
    """A process killed outright (kill -9, the out-of-memory killer, a scheduler's time limit)
    cannot remove its load directory; the next process to make one removes those whose process
    is gone, so a node's /tmp does not collect one per killed job. A directory of a process
    still running is kept."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    user = tmp / f"fncache-load-{os.getuid()}"
    env = {**os.environ, "TMPDIR": str(tmp)}

    def run(k: int, how: str) -> subprocess.CompletedProcess:
        args = [sys.executable, "-c", KILLED_WHILE_LOADED, str(tmp_path / "cd"), str(k), how]
        return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)

    gone: list[str] = []
    for k in (2, 3):
        r = run(k, "kill")
        assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
        left = sorted(p.name for p in user.iterdir())
        assert len(left) == 1 and left[0] not in gone, (left, gone)  # its own only: at exit nothing ran
        gone += left

    # a running process's directory (its pid is alive) stays through another's sweep
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        (user / f"{alive.pid}-0123456789abcdef").mkdir(mode=0o700)
        r = run(4, "stay")
        assert r.returncode == 0, r.stderr[-2000:]
        seen = eval(r.stdout.strip().splitlines()[-1])
        assert not set(gone) & set(seen), (gone, seen)  # the killed ones' are gone
        assert f"{alive.pid}-0123456789abcdef" in seen and len(seen) == 2, seen  # its own besides
        assert sorted(p.name for p in user.iterdir()) == [f"{alive.pid}-0123456789abcdef"]
    finally:
        alive.communicate(b"")
    r = run(5, "stay")  # now that one is gone too, and the user's directory goes at exit
    assert r.returncode == 0, r.stderr[-2000:]
    assert list(tmp.iterdir()) == []
