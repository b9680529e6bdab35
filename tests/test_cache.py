"""The compiledir in one process: lookup, build, damage, verify, purge, eviction, signing, permissions.

Multi-process behaviour (compile-once, kills, lock timeouts) is in test_cache_concurrency.py.
"""

from __future__ import annotations

import importlib.machinery
import io
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from fncache.toolchain import compile_shared_object, ext_suffix
from fncache.cache import CacheKey, Compiledir, Entry, function_key, module_key
from fncache.cache import cache as default_cache
from fncache.config import config
from fncache.errors import CacheError
from fcutil import ext_source


def builder(name: str, value: int):
    """A build callback as the compiler core writes one: compile into the staging dir, say what it made."""

    def build(staging: Path) -> dict:
        compile_shared_object(ext_source(name, value), staging, name)
        return {"library": f"{name}{ext_suffix()}", "source": f"{name}.c"}

    return build


def load(entry: Entry):
    name = entry.meta["library"].split(".")[0]
    path = str(entry.file(entry.meta["library"]))
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location(name, path, loader=loader)
    )
    loader.exec_module(module)
    return module


@pytest.fixture
def cd(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd"), lock_timeout=60):
        yield Compiledir()


def fkey(i: int | str) -> CacheKey:
    return function_key(f"graph-{i}", "FAST_RUN", {"floatX": "float64"})


def age(entry_path: Path, seconds_ago: float) -> None:
    """Pretend an entry was last used ``seconds_ago`` (last use is meta.json's mtime)."""
    t = time.time() - seconds_ago
    os.utime(entry_path / "meta.json", (t, t))


# -- keys -----------------------------------------------------------------------------------------


def test_key_digest_is_canonical_and_explains_differences():
    a = CacheKey("kernel_library", {"x": "1", "y": "2"})
    b = CacheKey("kernel_library", {"y": "2", "x": "1"})
    c = CacheKey("kernel_library", {"x": "1", "y": "3", "z": "0"})
    assert a == b and a.digest == b.digest and hash(a) == hash(b) and len(a.digest) == 64
    assert a.explain(c) == [("y", "2", "3"), ("z", None, "0")]
    assert CacheKey("function", {"x": "1", "y": "2"}).explain(a)[0] == ("kind", "function", "kernel_library")
    import pickle

    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(TypeError):
        CacheKey("kernel_library", {"x": 1})


def test_module_key_names_every_component_and_depends_on_march(cd):
    k = module_key("kernel_library", "int x;")
    for name in (
        "fncache",
        "source_sha256",
        "compiler",
        "flags",
        "march",
        "numpy_abi",
        "python_abi",
        "platform",
    ):
        assert k.components[name], name
    with config.change_flags(march="-march=x86-64"):
        generic = module_key("kernel_library", "int x;")
        assert generic.components["march"] == "-march=x86-64"
        assert "-march=x86-64" in generic.components["flags"]
    assert generic != k, "a host with other march flags must get other module keys"
    assert module_key("cuda", "int x;", cuda_arch="sm_90").components["cuda_arch"] == "sm_90"
    with pytest.raises(ValueError):
        module_key("kernel_library", "int x;", march="-march=evil")


def test_function_key_is_host_independent(cd):
    k = function_key("g", "FAST_RUN", {"floatX": "float32", "march": "auto"})
    assert "march" not in k.components and "compiler" not in k.components
    with config.change_flags(march="-march=x86-64", cxx="clang"):
        assert function_key("g", "FAST_RUN", {"floatX": "float32", "march": "auto"}) == k
    assert function_key("g", "FAST_RUN", {"floatX": "float64", "march": "auto"}) != k


# -- build, hit, load -----------------------------------------------------------------------------


def test_build_once_then_hit_and_load(cd, tmp_path):
    assert not (tmp_path / "cd").exists(), "constructing a Compiledir must not touch the disk"
    key = module_key("kernel_library", ext_source("c_one", 11))
    calls = []

    def build(staging):
        calls.append(staging)
        return builder("c_one", 11)(staging)

    entry = cd.get_or_build(key, build)
    assert load(entry).value() == 11
    again = cd.get_or_build(key, build)
    assert len(calls) == 1 and again.path == entry.path
    assert os.stat(tmp_path / "cd").st_mode & 0o777 == 0o700
    assert not list((tmp_path / "cd" / "tmp").iterdir()), "staging dir left behind"
    meta = entry.meta
    assert (
        meta["kind"] == "kernel_library"
        and meta["compile_seconds"] > 0
        and meta["host"] == os.uname().nodename
    )
    assert meta["march"] == key.components["march"] and meta["source"] == "c_one.c"
    assert set(meta["files"]) == {"c_one.c", f"c_one{ext_suffix()}"}
    assert entry.read_bytes("c_one.c") == ext_source("c_one", 11).encode()
    info = cd.info()
    assert (info["entries"], info["compiles"], info["hits"], info["misses"]) == (1, 1, 1, 1)
    assert info["path"] == str(tmp_path / "cd") and info["platform"] and info["size"] > 0
    (row,) = cd.entries()
    assert row["key"] == key.digest and row["hits"] == 1 and row["compile_seconds"] == meta["compile_seconds"]
    for field in ("kind", "size", "created", "last_used", "host", "march"):
        assert row[field] is not None, field
    (shown,) = cd.find(key.digest[:6])
    assert shown["meta"]["source"] == "c_one.c"
    stats = cd.stats()
    assert stats["per_kind"]["kernel_library"]["compiles"] == 1 and stats["saved_seconds"] > 0


def test_default_cache_follows_config(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "a")):
        default_cache.put_bytes(fkey("d"), {"f.pkl": b"a"}, {})
        assert default_cache.path == tmp_path / "a" and default_cache.info()["entries"] == 1
    with config.change_flags(compiledir=str(tmp_path / "b")):
        assert default_cache.get(fkey("d")) is None


def test_put_bytes_and_build_failures_leave_nothing(cd, tmp_path):
    entry = cd.put_bytes(fkey(1), {"graph.pkl": b"payload"}, {"note": "x"})
    assert cd.get(fkey(1)).read_bytes("graph.pkl") == b"payload" and entry.meta["note"] == "x"
    assert cd.put_bytes(fkey(1), {"graph.pkl": b"payload"}, {}).path == entry.path
    with pytest.raises(ValueError):
        cd.put_bytes(fkey(2), {"../evil": b""}, {})

    def failing(staging):
        (staging / "half.so").write_bytes(b"\x7fELF")
        raise RuntimeError("compiler exploded")

    with pytest.raises(RuntimeError):
        cd.get_or_build(fkey(3), failing)
    assert cd.get(fkey(3)) is None
    assert not list((tmp_path / "cd" / "tmp").iterdir())
    assert cd.verify()["bad"] == []


# -- damage -----------------------------------------------------------------------------------


def _damage_truncate(entry: Entry) -> None:
    lib = entry.file(entry.meta["library"])
    lib.write_bytes(lib.read_bytes()[: lib.stat().st_size // 2])


def _damage_garble_meta(entry: Entry) -> None:
    (entry.path / "meta.json").write_bytes(b'{"files": {"x": ')


def _damage_delete(entry: Entry) -> None:
    entry.file(entry.meta["library"]).unlink()


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_garble_meta, _damage_delete])
def test_damaged_entry_is_detected_moved_aside_and_rebuilt(cd, tmp_path, caplog, damage):
    name = f"dmg_{damage.__name__.strip('_')}"
    key = module_key("kernel_library", ext_source(name, 5))
    entry = cd.get_or_build(key, builder(name, 5))
    damage(entry)
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        assert cd.get(key) is None
    assert any("damaged cache entry" in r.getMessage() for r in caplog.records)
    assert len(list((tmp_path / "cd" / "quarantine").iterdir())) == 1
    rebuilt = cd.get_or_build(key, builder(name, 5))
    assert load(rebuilt).value() == 5
    assert cd.verify() == {"checked": 1, "bad": [], "repaired": [], "reasons": {}, "foreign": []}


def test_verify_repair_leaves_a_clean_cache(cd, tmp_path):
    good = [cd.put_bytes(fkey(i), {"a.bin": bytes([i]) * 100}, {}) for i in range(4)]
    (good[0].path / "a.bin").write_bytes(b"evil")
    (good[1].path / "meta.json").unlink()
    (tmp_path / "cd" / "entries" / "zz").mkdir()
    (tmp_path / "cd" / "entries" / "zz" / "not-a-digest").mkdir()
    stale = tmp_path / "cd" / "tmp" / f"{os.uname().nodename}.999999999.abcdef"
    stale.mkdir()
    (stale / "half.so").write_bytes(b"x")
    report = cd.verify(repair=False)
    assert report["checked"] == 4 and sorted(report["bad"]) == sorted(
        [good[0].key.digest, good[1].key.digest]
    )
    assert len(report["foreign"]) == 1 and "entries/zz" in report["foreign"][0]
    assert report["repaired"] == [] and good[0].path.exists()
    report = cd.verify(repair=True)
    assert sorted(report["repaired"]) == sorted(report["bad"]) and len(report["bad"]) == 2
    # what the cache did not make is reported, never deleted
    assert (tmp_path / "cd" / "entries" / "zz" / "not-a-digest").is_dir()
    (tmp_path / "cd" / "entries" / "zz" / "not-a-digest").rmdir()
    (tmp_path / "cd" / "entries" / "zz").rmdir()
    assert cd.verify() == {"checked": 2, "bad": [], "repaired": [], "reasons": {}, "foreign": []}
    assert not stale.exists()
    assert cd.info()["entries"] == 2 and cd.get(fkey(2)) is not None


# -- signing ----------------------------------------------------------------------------------


def test_signed_entries(cd, tmp_path, caplog):
    keyfile = tmp_path / "key"
    keyfile.write_bytes(b"team secret")
    cd.put_bytes(fkey("u"), {"a": b"1"}, {})
    with config.change_flags(signing_key=str(keyfile)):
        signed = cd.put_bytes(fkey("s"), {"a": b"2"}, {})
        assert len(signed.meta["hmac"]) == 64
        assert cd.get(fkey("s")) is not None
        with caplog.at_level(logging.WARNING, logger="fncache.cache"):
            assert cd.get(fkey("u")) is None, "an unsigned entry must be refused when signing is on"
        meta = json.loads((signed.path / "meta.json").read_text())
        meta["compile_seconds"] = 99  # any edit of the metadata breaks the signature
        (signed.path / "meta.json").write_text(json.dumps(meta))
        assert cd.get(fkey("s")) is None
    other = tmp_path / "other"
    other.write_bytes(b"another key")
    with config.change_flags(signing_key=str(keyfile)):
        cd.put_bytes(fkey("t"), {"a": b"3"}, {})
    assert cd.get(fkey("t")) is not None, "without a key, signatures are not required"
    with config.change_flags(signing_key=str(other)):
        assert cd.get(fkey("t")) is None


# -- permissions ------------------------------------------------------------------------------


def test_writable_by_others_is_refused_unless_opted_in(tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o777)
    with pytest.raises(CacheError, match="allow_shared_compiledir"):
        Compiledir(root).get(fkey(0))
    os.chmod(root, 0o2770)
    with pytest.raises(CacheError, match="writable by group"):
        Compiledir(root).info()
    with config.change_flags(allow_shared_compiledir=True):
        entry = Compiledir(root).put_bytes(fkey(0), {"a": b"1"}, {})
        assert os.stat(entry.path).st_mode & 0o070 == 0o070, "group must be able to use shared entries"
        assert os.stat(entry.path / "a").st_mode & 0o060 == 0o060
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "entries").mkdir()
    os.chmod(private / "entries", 0o777)
    with pytest.raises(CacheError, match="entries"):
        Compiledir(private).info()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_compiledir_owned_by_someone_else_is_refused(tmp_path):
    root = tmp_path / "theirs"
    root.mkdir(mode=0o700)
    os.chown(root, 12345, 12345)
    with pytest.raises(CacheError, match="owned by uid 12345"):
        Compiledir(root).info()


# -- purge, eviction, O(1) lookup ------------------------------------------------------------


def test_purge_by_age_size_all_and_dry_run(cd):
    entries = [cd.put_bytes(fkey(i), {"a.bin": b"x" * 1000}, {}) for i in range(6)]
    for i, e in enumerate(entries):
        age(e.path, (6 - i) * 86400)  # entry 0 unused for 6 days ... entry 5 for 1 day
    dry = cd.purge(older_than="3.5d", dry_run=True)
    assert {r["key"] for r in dry} == {e.key.digest for e in entries[:3]}
    assert cd.info()["entries"] == 6
    assert len(cd.purge(older_than=3.5 * 86400)) == 3 and cd.info()["entries"] == 3
    size_each = cd.entries()[0]["size"]
    removed = cd.purge(max_size=size_each * 2 + 10)
    assert [r["key"] for r in removed] == [entries[3].key.digest]  # least recently used first
    assert cd.info()["size"] <= size_each * 2 + 10
    assert len(cd.purge(all=True)) == 2 and cd.info()["entries"] == 0
    with pytest.raises(ValueError):
        cd.purge()


def test_lru_eviction_under_size_cap(cd):
    payload = b"z" * 10_000
    with config.change_flags(cache_max_size=75_000):
        entries = [cd.put_bytes(fkey(i), {"a.bin": payload}, {}) for i in range(6)]
        for i, e in enumerate(entries):
            age(e.path, 1000 - i)  # oldest first
        assert cd.get(entries[0].key) is not None  # a hit makes entry 0 the most recently used
        for i in range(6, 9):
            cd.put_bytes(fkey(i), {"a.bin": payload}, {})
        info = cd.info()
        assert info["size"] <= 75_000
        present = {e["key"] for e in cd.entries()}
        assert entries[0].key.digest in present, "the recently used entry was evicted"
        assert entries[1].key.digest not in present and entries[2].key.digest not in present
        assert {fkey(i).digest for i in range(6, 9)} <= present


def test_lookup_cost_does_not_grow_with_entries(cd):
    target = cd.put_bytes(fkey("t"), {"a.bin": b"q" * 20_000}, {})
    absent = fkey("absent")

    def timing() -> tuple[float, float]:
        hits, misses = [], []
        for _ in range(100):
            t0 = time.perf_counter()
            assert cd.get(target.key) is not None
            t1 = time.perf_counter()
            assert cd.get(absent) is None
            misses.append(time.perf_counter() - t1)
            hits.append(t1 - t0)
        return statistics.median(hits), statistics.median(misses)

    for i in range(9):
        cd.put_bytes(fkey(i), {"a.bin": b"x"}, {})
    small_hit, small_miss = timing()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:  # publishing waits on fsync; threads overlap those waits
        list(pool.map(lambda i: cd.put_bytes(fkey(i), {"a.bin": b"x"}, {}), range(9, 1000)))
    assert cd.info()["entries"] == 1001
    big_hit, big_miss = timing()
    # O(1): a scan of 1,000 entries would cost 100x more; allow a generous factor for a noisy machine
    assert big_hit < 5 * small_hit + 1e-3, (small_hit, big_hit)
    assert big_miss < 5 * small_miss + 1e-3, (small_miss, big_miss)


# -- statistics, export / import, explain ----------------------------------------------------


def test_usage_logs_of_earlier_days_are_folded_exactly(cd, tmp_path):
    e = cd.put_bytes(fkey("s"), {"a": b"1"}, {"compile_seconds": 2.0})
    host = os.uname().nodename
    old = tmp_path / "cd" / "stats" / f"{host}.20000101.log"
    old.write_text(f"hit function {e.key.digest} 2.0\n" * 5 + "miss function abc 0\n" + "hit function trunc")
    fresh = Compiledir(tmp_path / "cd")  # same dir, through a path-bound instance
    assert fresh.stats()["hits"] == 5
    # a new process folds old logs on its first event
    code = (
        "from fncache.cache import Compiledir, function_key;"
        f"Compiledir({str(tmp_path / 'cd')!r}).get(function_key('graph-s', 'FAST_RUN', {{'floatX': 'float64'}}))"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert not old.exists() and (tmp_path / "cd" / "stats" / f"{host}.summary.json").exists()
    stats = fresh.stats()
    assert stats["hits"] == 6 and stats["misses"] == 1 and stats["compiles"] == 1
    assert stats["saved_seconds"] == pytest.approx(12.0)
    assert [r["hits"] for r in fresh.entries()] == [6]


def test_export_refuses_a_name_that_says_no_compression(cd, tmp_path):
    cd.put_bytes(fkey("e"), {"a": b"1"}, {})
    for name in ("bundle.zip", "bundle", ".tar.gz", "-"):
        with pytest.raises(ValueError, match=rf"ends in \.tar, \.tar\.gz.*got '.*{name}'"):
            cd.export(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cd"]
    assert cd.export(tmp_path / "b.tgz")["exported"] and tarfile.open(tmp_path / "b.tgz", "r:gz")


def test_export_import_roundtrip_verifies(cd, tmp_path):
    key = module_key("kernel_library", ext_source("exp_mod", 3))
    cd.get_or_build(key, builder("exp_mod", 3))
    cd.put_bytes(fkey("e"), {"a": b"1"}, {})
    archive = tmp_path / "bundle.tar.gz"
    report = cd.export(archive)
    assert len(report["exported"]) == 2
    other = Compiledir(tmp_path / "other")
    result = other.import_(archive)
    assert sorted(result["imported"]) == sorted(report["exported"]) and result["bad"] == []
    assert load(other.get(key)).value() == 3
    assert other.import_(archive)["skipped"] == result["imported"]
    # a tampered archive: the library changed, its meta.json did not
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w") as dst:
        for m in src:
            data = src.extractfile(m).read()
            if m.name.endswith(ext_suffix()):
                data = data[:-1] + bytes([data[-1] ^ 1])
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    third = Compiledir(tmp_path / "third")
    result = third.import_(tampered)
    assert [b["key"] for b in result["bad"]] == [key.digest] and len(result["imported"]) == 1
    assert third.get(key) is None


def test_explain_names_the_components_that_differ(cd):
    cd.put_bytes(function_key("g", "FAST_RUN", {"floatX": "float64"}), {"a": b"1"}, {})
    why = cd.explain(function_key("g", "FAST_RUN", {"floatX": "float32"}))
    assert not why["found"] and [d[0] for d in why["differences"]] == ["flag.floatX"]


@pytest.mark.parametrize("lock_mode", ["flock", "lease"])
def test_threads_of_one_process_build_a_key_once(cd, lock_mode):
    import threading

    calls = []

    def build(staging):
        calls.append(1)
        time.sleep(0.2)
        (staging / "a.bin").write_bytes(b"built")
        return {}

    results = []
    with config.change_flags(lock_mode=lock_mode):
        threads = [
            threading.Thread(target=lambda: results.append(cd.get_or_build(fkey("thr"), build)))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(calls) == 1 and len(results) == 4
    assert {e.read_bytes("a.bin") for e in results} == {b"built"}


def test_lock_mode_auto_picks_by_what_the_filesystem_does(tmp_path):
    from fncache.cache.fsprobe import LOCAL_FS
    from fncache.cache.locks import filesystem_type, lock_mode_for
    from fncache.fs.perms import layout_for

    assert filesystem_type("/proc/self") == "proc"
    fs = Compiledir(tmp_path).filesystem()
    assert fs["fstype"] == filesystem_type(tmp_path)
    assert fs["flock_works"] is True  # this machine's own disk: flock excludes a second open file
    assert fs["flock_across_clients"] is (fs["fstype"] in LOCAL_FS)
    assert fs["exists_errno"] in ("ENOTEMPTY", "EEXIST")
    assert not list((tmp_path / "tmp").iterdir())  # the probe cleans up after itself
    with config.change_flags(lock_mode="auto"):
        assert (
            lock_mode_for(layout_for(tmp_path))
            == fs["lock_mode"]
            == ("flock" if fs["fstype"] in LOCAL_FS else "lease")
        )
    with config.change_flags(lock_mode="lease"):
        assert lock_mode_for(tmp_path) == "lease"
    # A compiledir the probe cannot write into (here its staging dir turned into a file after
    # the cache checked its layout; such a file is refused by the next process): lease, and why.
    from fncache.cache.fsprobe import fs_behaviour

    blocked = layout_for(tmp_path / "blocked")
    blocked.tmp.rmdir()
    blocked.tmp.write_bytes(b"")
    fs = fs_behaviour(blocked, "hostA").as_dict()
    assert fs["exists_errno"].startswith("not probed") and fs["lock_mode"] == "lease"


def test_publish_reports_a_failed_rename_that_no_entry_explains(tmp_path):
    from fncache.cache.entry import publish
    from fncache.fs.perms import layout_for

    layout = layout_for(tmp_path / "cd")
    staging = tmp_path / "cd" / "staging"
    staging.mkdir()
    (staging / "f").write_bytes(b"x")
    shard = tmp_path / "cd" / "entries" / "ab"
    shard.parent.mkdir(exist_ok=True)
    shard.write_bytes(b"")  # a file where the shard directory belongs
    final = shard / ("ab" * 32)
    with pytest.raises(CacheError) as info:
        publish(staging, final, layout)
    assert str(staging) in str(info.value) and str(final) in str(info.value)
    # An entry already in place explains any failure: the caller then verifies and uses it.
    shard.unlink()
    final.mkdir(parents=True)
    (final / "other").write_bytes(b"y")
    assert publish(staging, final, layout) is False
    assert (staging / "f").exists() and not (final / "f").exists()
