"""The compiledir under real concurrency: many processes, two simulated hosts, SIGKILLs, stuck holders.

Every worker is a separate Python process compiling real C extensions with gcc through
``Compiledir.get_or_build`` and loading them; nothing is mocked.
"""

from __future__ import annotations

import collections
import importlib.machinery
import importlib.util
import json
import os
import random
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fncache.toolchain import compile_shared_object, ext_suffix
from fncache.cache import Compiledir, module_key
from fncache.config import config
from fncache.errors import CacheError, LockTimeout

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

EXT_TEMPLATE = """#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong($value); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "$name", NULL, -1, methods};
PyMODINIT_FUNC PyInit_$name(void) { return PyModule_Create(&def); }
"""

WORKER = r"""
import importlib.machinery, importlib.util, json, os, string, sys, time
spec = json.loads(sys.argv[1])
from fncache.config import config
config.compiledir = spec["compiledir"]
for k, v in spec.get("flags", {}).items():
    setattr(config, k, v)
from fncache.toolchain import compile_shared_object, ext_suffix
from fncache.cache import Compiledir, module_key
cd = Compiledir()
built = []
def source(name, value):
    return string.Template(spec["template"]).substitute(name=name, value=value)
def builder(name, value):
    def build(staging):
        built.append(name)
        if spec.get("announce"):
            open(spec["announce"], "w").write(str(os.getpid()))
        time.sleep(spec.get("build_sleep", 0))
        compile_shared_object(source(name, value), staging, name)
        return {"library": name + ext_suffix()}
    return build
if spec.get("ready"):
    open(spec["ready"], "w").close()
if spec.get("go"):
    deadline = time.time() + 120
    while not os.path.exists(spec["go"]) and time.time() < deadline:
        time.sleep(0.005)
results, keys = {}, {}
for name, value in spec["jobs"]:
    key = module_key("kernel_library", source(name, value))
    entry = cd.get_or_build(key, builder(name, value))
    lib = str(entry.file(entry.meta["library"]))
    loader = importlib.machinery.ExtensionFileLoader(name, lib)
    mod = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, lib, loader=loader))
    loader.exec_module(mod)
    results[name] = mod.value()
    keys[name] = key.digest
print(json.dumps({"pid": os.getpid(), "results": results, "built": built, "keys": keys}))
"""


def source(name: str, value: int) -> str:
    return string.Template(EXT_TEMPLATE).substitute(name=name, value=value)


def builder(name: str, value: int):
    def build(staging: Path) -> dict:
        compile_shared_object(source(name, value), staging, name)
        return {"library": f"{name}{ext_suffix()}"}

    return build


def load_value(entry) -> int:
    name = entry.meta["library"].split(".")[0]
    path = str(entry.file(entry.meta["library"]))
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location(name, path, loader=loader)
    )
    loader.exec_module(module)
    return module.value()


def start(compiledir: Path, jobs: list[tuple[str, int]], **spec) -> subprocess.Popen:
    spec = {"compiledir": str(compiledir), "jobs": jobs, "template": EXT_TEMPLATE, **spec}
    spec = {k: (str(v) if isinstance(v, Path) else v) for k, v in spec.items()}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def finish(proc: subprocess.Popen, timeout: float = 180) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.communicate()[1]}")
        assert time.monotonic() < deadline, f"worker never wrote {path}"
        time.sleep(0.005)


def start_together(
    tmp_path: Path, compiledir: Path, job_lists: list[list[tuple[str, int]]], flag_sets: list[dict]
) -> list[dict]:
    """Start one worker per job list, release them at the same instant, collect their reports."""
    go = tmp_path / "go"
    procs = [
        start(compiledir, jobs, flags=flags, ready=tmp_path / f"ready{i}", go=go)
        for i, (jobs, flags) in enumerate(zip(job_lists, flag_sets))
    ]
    for i, p in enumerate(procs):
        wait_for(tmp_path / f"ready{i}", p)
    go.touch()
    return [finish(p) for p in procs]


def assert_clean(compiledir: Path) -> None:
    """Every published entry is whole and verifies; nothing half-built is visible."""
    for shard in (compiledir / "entries").iterdir():
        for entry in shard.iterdir():
            assert (entry / "meta.json").is_file(), f"half entry {entry}"
    report = Compiledir(compiledir).verify(repair=False)
    assert report["bad"] == [], report


@pytest.mark.parametrize("lock_mode", ["flock", "lease"])
def test_eight_processes_compile_each_key_exactly_once(tmp_path, lock_mode):
    compiledir = tmp_path / "cd"
    shared = [(f"s{i}_{lock_mode}", 100 + i) for i in range(6)]
    job_lists = []
    for w in range(8):
        jobs = shared + [(f"p{w}_{j}_{lock_mode}", 1000 * w + j) for j in range(3)]
        random.Random(w).shuffle(jobs)  # different orders make processes collide on different keys
        job_lists.append(jobs)
    outs = start_together(tmp_path, compiledir, job_lists, [{"lock_mode": lock_mode}] * 8)
    for jobs, out in zip(job_lists, outs):
        assert out["results"] == dict(jobs)
    builds = collections.Counter(name for out in outs for name in out["built"])
    assert sum(builds.values()) == 6 + 24 and set(builds.values()) == {1}
    info = Compiledir(compiledir).info()
    assert (info["entries"], info["compiles"]) == (30, 30)
    assert info["hits"] + info["misses"] == 8 * 9
    assert_clean(compiledir)
    assert not list((compiledir / "tmp").iterdir())
    leftovers = [p for p in (compiledir / "locks").rglob("*") if p.is_file()]
    assert all(p.suffix == ".flock" for p in leftovers) and len(leftovers) <= 30


def test_two_hosts_compile_their_own_code_and_a_third_compiles_nothing(tmp_path):
    compiledir = tmp_path / "cd"
    jobs = [("h0", 1), ("h1", 2), ("h2", 3)]
    native, generic = start_together(
        tmp_path, compiledir, [jobs, jobs], [{"march": "auto"}, {"march": "-march=x86-64"}]
    )
    assert native["built"] == generic["built"] == ["h0", "h1", "h2"]
    assert set(native["keys"].values()).isdisjoint(generic["keys"].values())
    assert native["results"] == generic["results"] == dict(jobs)
    third = finish(start(compiledir, jobs, flags={"march": "-march=x86-64"}))
    assert third["built"] == [] and third["keys"] == generic["keys"] and third["results"] == dict(jobs)
    cd = Compiledir(compiledir)
    rows = cd.entries()
    assert len(rows) == 6 and cd.info()["compiles"] == 6
    assert {r["march"] for r in rows if r["key"] in generic["keys"].values()} == {"-march=x86-64"}


def test_sigkill_at_random_moments_of_a_build(tmp_path):
    compiledir = tmp_path / "cd"
    rng = random.Random(20240611)
    cd = Compiledir(compiledir)
    moments: collections.Counter[str] = collections.Counter()
    for trial in range(10):
        mode = ("flock", "lease")[trial % 2]
        name, value = f"k{trial}", 70 + trial
        announce = tmp_path / f"started{trial}"
        proc = start(compiledir, [(name, value)], flags={"lock_mode": mode}, announce=announce)
        if trial % 3 == 0:  # anywhere: start-up, lock, compile, publish, load
            time.sleep(rng.uniform(0.2, 1.5))
        else:  # inside the build (lock held, compiler running, sealing, renaming)
            wait_for(announce, proc)
            time.sleep(0.0 if trial == 1 else rng.uniform(0.0, 0.4))  # trial 1: surely mid-compile
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_clean(compiledir)
        with config.change_flags(compiledir=str(compiledir), lock_mode=mode, lock_timeout=60):
            key = module_key("kernel_library", source(name, value))
            published = (compiledir / "entries" / key.digest[:2] / key.digest).exists()
            moments[
                ("after publish" if published else "mid-build") if announce.exists() else "before build"
            ] += 1
            t0 = time.monotonic()
            entry = cd.get_or_build(key, builder(name, value))
            elapsed = time.monotonic() - t0
        assert load_value(entry) == value
        assert elapsed < 15, f"trial {trial} ({mode}) waited {elapsed:.1f}s for a dead process's lock"
    print("kill moments:", dict(moments))
    assert moments["mid-build"] >= 1, moments
    report = cd.verify(repair=True)
    assert report["bad"] == [] and report["checked"] == 10
    assert not list((compiledir / "tmp").iterdir()), "staging dirs of killed builds were not cleaned"


@pytest.mark.parametrize("lock_mode", ["flock", "lease"])
def test_lock_timeout_names_the_holder_and_unlock_clears_a_dead_one(tmp_path, lock_mode):
    compiledir = tmp_path / "cd"
    announce = tmp_path / "holding"
    proc = start(compiledir, [("lt", 9)], flags={"lock_mode": lock_mode}, announce=announce, build_sleep=120)
    try:
        wait_for(announce, proc)
        cd = Compiledir(compiledir)
        key = module_key("kernel_library", source("lt", 9))
        with config.change_flags(compiledir=str(compiledir), lock_mode=lock_mode, lock_timeout=0.5):
            with pytest.raises(LockTimeout) as info:
                cd.get_or_build(key, builder("lt", 9))
            msg = str(info.value)
            assert f"pid {proc.pid}" in msg and os.uname().nodename in msg and "fncache unlock" in msg
            (live,) = cd.unlock()
            assert (live["state"], live["action"], live["pid"]) == ("live", "none", proc.pid)
            proc.kill()
            proc.wait()
            (dead,) = cd.unlock()
            assert (dead["state"], dead["action"], dead["pid"]) == ("stale", "removed", proc.pid)
            assert not [p for p in (compiledir / "locks").rglob("*") if p.is_file()]
            assert cd.unlock() == []
            t0 = time.monotonic()
            assert load_value(cd.get_or_build(key, builder("lt", 9))) == 9
            assert time.monotonic() - t0 < 15
    finally:
        proc.kill()
        proc.wait()


def test_unlock_force_breaks_a_live_lease(tmp_path):
    compiledir = tmp_path / "cd"
    announce = tmp_path / "holding"
    proc = start(compiledir, [("lf", 4)], flags={"lock_mode": "lease"}, announce=announce, build_sleep=120)
    try:
        wait_for(announce, proc)
        cd = Compiledir(compiledir)
        with config.change_flags(compiledir=str(compiledir), lock_mode="lease", lock_timeout=30):
            (broken,) = cd.unlock(force=True)
            assert (broken["state"], broken["action"]) == ("live", "broken")
            t0 = time.monotonic()
            entry = cd.get_or_build(module_key("kernel_library", source("lf", 4)), builder("lf", 4))
            assert load_value(entry) == 4 and time.monotonic() - t0 < 15
    finally:
        proc.kill()
        proc.wait()


def test_a_waiter_with_another_lease_seconds_is_told_to_agree(tmp_path):
    compiledir = tmp_path / "cd"
    announce = tmp_path / "holding"
    proc = start(
        compiledir,
        [("ls", 5)],
        flags={"lock_mode": "lease", "lease_seconds": 30},
        announce=announce,
        build_sleep=120,
    )
    try:
        wait_for(announce, proc)
        with pytest.raises(ValueError, match="lease_seconds"):
            config.lease_seconds = 0
        with config.change_flags(
            compiledir=str(compiledir), lock_mode="lease", lease_seconds=5, lock_timeout=10
        ):
            with pytest.raises(CacheError, match="same config.lease_seconds"):
                Compiledir(compiledir).get_or_build(
                    module_key("kernel_library", source("ls", 5)), builder("ls", 5)
                )
    finally:
        proc.kill()
        proc.wait()


def test_this_hosts_lease_holders_are_recognised_as_filelock_names_them(tmp_path):
    """A dead holder's lease is broken at once only when its marker names this host exactly as
    filelock writes it (host name, and the pid namespace outside the initial one)."""
    code = (
        "import filelock, sys; from fncache.cache.locks import _lease_host; "
        "lease = filelock.SoftFileLease(sys.argv[1]); lease.acquire(); "
        "print(lease.owner.hostname == _lease_host()); lease.release()"
    )
    runs = [[sys.executable, "-c", code, str(tmp_path / "a.lease")]]
    if os.geteuid() == 0:  # and in a pid namespace of its own
        runs.append(
            [
                "unshare",
                "--pid",
                "--fork",
                "--mount-proc",
                sys.executable,
                "-c",
                code,
                str(tmp_path / "b.lease"),
            ]
        )
    for cmd in runs:
        out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60)
        assert out.stdout.strip() == "True", (cmd[0], out.stdout, out.stderr)
