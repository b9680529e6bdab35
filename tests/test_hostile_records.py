"""Records and names planted by someone else with write access to a shared compiledir (or by a
broken environment in $TMPDIR): numbers out of every range in lock records and work-directory
names, JSON nested too deep to parse, control characters in the names and records a command
prints.

Links, FIFOs, directories for files and swapped libraries are in test_cache_attacks.py. Every
case uses real files and real processes; the CLI runs as a command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fncache.cache import Compiledir, function_key
from fncache.cache.locks import KeyLock
from fncache.config import config
from fncache.errors import LockTimeout
from fncache.fs.perms import layout_for
from fncache.fs.workdirs import WorkDir
from fncache_cli.main import main

DIGEST = "ab" + "0" * 62
HOST = os.uname().nodename or "localhost"
#: What a terminal obeys: set its title, clear it, ring; then a newline forging a line of output.
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\nforged line"


@pytest.fixture
def cd(tmp_path: Path):
    with config.change_flags(compiledir=str(tmp_path / "cd"), lock_timeout=60):
        yield Compiledir()


def put_one(cd: Compiledir):
    """An entry in the compiledir (the CLI refuses a directory without entries/)."""
    return cd.put_bytes(function_key("hostile", "FAST_RUN", {"floatX": "float64"}), {"a": b"1"}, {})


def fncache(compiledir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(
        [sys.executable, "-m", "fncache_cli.main", *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=120,
        env={**os.environ, "FNCACHE_FLAGS": f"compiledir={compiledir}"},
        cwd=Path(__file__).parent.parent,
    )
    assert "Traceback" not in p.stderr and "a bug in fncache" not in p.stderr, p.stderr
    return p


#: holder records of this host naming a pid no kernel gives (os.kill raised OverflowError)
RECORDS = [
    '{"host": "%s", "pid": 1099511627776, "since": 1}',
    '{"host": "%s", "pid": 4611686018427387904, "since": 1}',
]


@pytest.mark.parametrize("record", RECORDS)
def test_unlock_takes_a_lock_record_naming_no_pid_for_stale(cd, tmp_path, record):
    put_one(cd)
    shard = tmp_path / "cd" / "locks" / DIGEST[:2]
    shard.mkdir(parents=True)
    (shard / f"{DIGEST}.lease").write_text("not a marker filelock reads\n")
    (shard / f"{DIGEST}.holder").write_text(record % HOST)
    p = fncache(tmp_path / "cd", "unlock")
    assert p.returncode == 0 and "removed 1 lock" in p.stdout, p.stdout + p.stderr
    assert not (shard / f"{DIGEST}.lease").exists()


@pytest.mark.parametrize("since", ["1" + "0" * 400, "1e999", "-1e999", "NaN"])
def test_a_lock_timeout_names_its_holder_whatever_time_its_record_holds(cd, tmp_path, since):
    with config.change_flags(lock_mode="flock"):
        lock = KeyLock(layout_for(tmp_path / "cd"), DIGEST, "a test build", timeout=0.3)
    lock.path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); sys.stdin.read()",
            str(lock.path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        lock.holder_path.write_text('{"host": "%s", "pid": %d, "since": %s}' % (HOST, holder.pid, since))
        with pytest.raises(LockTimeout, match="unknown holder"), lock:
            pass
    finally:
        holder.communicate("")


@pytest.mark.parametrize("pid", ["99999999999999999999", "0"])
def test_a_work_directory_named_for_no_pid_is_removed_not_a_crash(tmp_path, monkeypatch, pid):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # $TMPDIR, as read once
    user = tmp_path / f"fncache-work-{os.getuid()}"
    (user / f"{pid}-0123abcd" / "sub").mkdir(parents=True)
    user.chmod(0o700)
    with WorkDir() as work:
        assert [p.name for p in user.iterdir()] == [work.path.name]


def test_names_and_records_never_reach_the_terminal_with_their_control_characters(cd, tmp_path):
    entry = put_one(cd)
    shard = tmp_path / "cd" / "entries" / entry.key.digest[:2]
    os.symlink(f"/tmp/{ESCAPES}", shard / "link")
    (shard / f"dir{ESCAPES}").mkdir()
    locks = tmp_path / "cd" / "locks" / DIGEST[:2]
    locks.mkdir(parents=True)
    (locks / f"{DIGEST}.lease").write_text("not a marker filelock reads\n")
    (locks / f"{DIGEST}.holder").write_text(json.dumps({"host": ESCAPES, "pid": 1, "what": ESCAPES}))
    for command in (["list"], ["verify"], ["unlock"], ["info"]):
        p = fncache(tmp_path / "cd", *command)
        shown = p.stdout + p.stderr
        assert not any(c in shown for c in "\x1b\x07\x9b"), (command, shown)
        assert not any(line.startswith("forged line") for line in shown.splitlines()), (command, shown)
    assert "\\x1b]0;PWNED\\x07" in fncache(tmp_path / "cd", "verify").stdout  # shown escaped
    doc = json.loads(fncache(tmp_path / "cd", "--json", "unlock").stdout)  # JSON keeps the value
    assert doc["locks"][0]["host"] == ESCAPES, doc


#: JSON nested deeper than json.loads recurses: it raised RecursionError, which no reader caught
DEEP = "[" * 100_000 + "]" * 100_000
COMPILE = """
import numpy as np, fncache as fc, fncache.tensor as ft
x = ft.dvector("x")
print(fc.function([x], x * 2 + 1)(np.array([1.0, 2.0])).tolist())
"""


def test_json_nested_too_deep_in_any_file_of_the_compiledir_is_damage_not_a_crash(tmp_path):
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"}

    def compile_once() -> str:
        p = subprocess.run(
            [sys.executable, "-c", COMPILE], capture_output=True, text=True, env=env, timeout=120
        )
        assert p.returncode == 0, p.stderr
        return p.stdout

    assert compile_once() == "[3.0, 5.0]\n"
    root = tmp_path / "cd"
    planted = [*root.glob("entries/*/*/meta.json"), root / "size.json", *root.glob("hosts/*.json")]
    planted += [root / "stats" / f"{HOST}.summary.json", root / "locks" / DIGEST[:2] / f"{DIGEST}.holder"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DEEP)
    assert compile_once() == "[3.0, 5.0]\n"  # the entries are damage: set aside and rebuilt
    for command in (["list"], ["verify"], ["info"], ["stats"], ["unlock"], ["purge", "--older-than", "1d"]):
        assert fncache(root, *command).returncode in (0, 1)


def rewrite_meta(path: Path, **fields: object) -> None:
    """Give an entry's meta.json these fields, its checksum made again (as anyone can without a
    signing key): the entry still verifies."""
    from fncache.cache.entry import _meta_sha256

    meta = {**json.loads(path.read_text()), **fields}
    meta["meta_sha256"] = _meta_sha256(meta)
    path.write_text(json.dumps(meta))


#: numbers of an entry's metadata no float or time_t holds (each raised OverflowError in a
#: formatter or counter), and a field of the wrong type
BAD_FIELDS = [
    {"created": 1e308},
    {"created": float("nan")},
    {"size": 10**400},
    {"compile_seconds": 10**400},
    {"components": [1]},
]


def test_numbers_no_reader_takes_in_an_entrys_metadata_are_damage_not_a_crash(cd, tmp_path, capsys):
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'}"}
    run = [sys.executable, "-c", COMPILE]
    assert subprocess.run(run, capture_output=True, text=True, env=env, timeout=120).stdout == "[3.0, 5.0]\n"
    for meta in (tmp_path / "cd").glob("entries/*/*/meta.json"):  # what a hit adds to the stats
        rewrite_meta(meta, compile_seconds=10**400)
    p = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout == "[3.0, 5.0]\n", p.stderr
    for i, fields in enumerate(BAD_FIELDS):
        entry = cd.put_bytes(function_key(f"bad-{i}", "FAST_RUN", {"floatX": "float64"}), {"a": b"1"}, {})
        rewrite_meta(entry.path / "meta.json", **fields)
    shows = [["show", d.name] for d in (tmp_path / "cd").glob("entries/*/*")]
    for command in (*shows, ["list"], ["purge", "--max-size", "1KB", "--dry-run"], ["verify"]):
        assert main(["--compiledir", str(tmp_path / "cd"), *command]) in (0, 1)  # in this process
        err = capsys.readouterr().err
        assert "Traceback" not in err and "a bug in fncache" not in err, (command, err)


#: compiler flags that made gcc or the linker write a file at a path of the flag's choosing
WRITES_OUTSIDE = ["-Xlinker --output={out}", "--coverage -fprofile-note={out}"]


@pytest.mark.parametrize("flags", WRITES_OUTSIDE)
def test_no_compiler_flag_makes_a_compile_write_outside_the_compiledir(tmp_path, flags):
    out = tmp_path / "outside" / "written"
    out.parent.mkdir()
    cxxflags = flags.format(out=out)
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},cxxflags={cxxflags}"}
    p = subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode != 0 and f"flag 'cxxflags': {cxxflags.split()[-1]!r}" in p.stderr, p.stderr
    assert list(out.parent.iterdir()) == []
