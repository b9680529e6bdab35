"""Host records as files: read once per process, read again when another process replaced the
file, and kept only while the compiler binary they were made for is there as it was.

* a fresh process reads each host file once for the compiler's identity and the host's march
  flags together (counted with an audit hook);
* a record another process wrote since this one read the file is used, not detected again;
* records of a compiler binary that is gone or changed are dropped when the file is next
  written, in both files; a missing compiler's result is not kept at all; a key that cannot be
  taken apart is kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fncache as fc
from fncache.config import config
from fncache.toolchain import march

REPO = Path(fc.__file__).resolve().parent.parent

_COUNT_OPENS = """
import json, os, sys

opened = []


def hook(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        opened.append(os.fspath(args[0]))


sys.addaudithook(hook)
from fncache.toolchain import compiler_id, host_march_flags

compiler_id()
host_march_flags()
print(json.dumps(opened))
"""


def _opens_in_a_fresh_process(cd: Path, xdg: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _COUNT_OPENS],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "XDG_CACHE_HOME": str(xdg),
            "FNCACHE_FLAGS": f"compiledir={cd}",
        },
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_process_reads_each_host_file_once(tmp_path):
    cd, xdg = tmp_path / "cd", tmp_path / "xdg"
    _opens_in_a_fresh_process(cd, xdg)  # detects and writes both files
    files = sorted(str(p) for p in [*cd.glob("hosts/*.json"), *xdg.glob("fncache-hosts/*.json")])
    assert len(files) == 2
    opened = _opens_in_a_fresh_process(cd, xdg)
    assert sorted(p for p in opened if p in files) == files, opened


@pytest.fixture
def user_state(tmp_path, monkeypatch):
    """A private host directory and a compiledir of the test's own; returns both host files."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield (
            tmp_path / "xdg" / "fncache-hosts" / f"{march.host_name()}.json",
            tmp_path / "cd" / "hosts" / f"{march.host_name()}.json",
        )


def _memo(what: str, value: int, computed: list[int]) -> dict:
    def compute(_refused: dict | None) -> dict:
        computed.append(value)
        return {"n": value}

    return march.host_memo(what, compute, lambda r: isinstance(r.get("n"), int))


def _replace(path: Path, edit) -> None:
    """What another process's write does: the whole file replaced by a new one."""
    records = json.loads(path.read_text())
    edit(records)
    tmp = path.with_name(path.name + ".other")
    tmp.write_text(json.dumps(records))
    os.replace(tmp, path)


def test_a_record_another_process_wrote_is_used(user_state):
    private, _ = user_state
    computed: list[int] = []
    assert _memo("probe", 1, computed) == {"n": 1} and computed == [1]
    assert _memo("probe", 2, computed) == {"n": 1} and computed == [1]  # read back

    def other_process(records: dict) -> None:
        for memo_key in records:
            records[memo_key] = {"n": 7}

    _replace(private, other_process)
    assert _memo("probe", 3, computed) == {"n": 7} and computed == [1]
    # written in place (same file, another size), as a hand edit does: read again too
    private.write_text(private.read_text().replace('"n": 7', '"n": 42'))
    assert _memo("probe", 4, computed) == {"n": 42} and computed == [1]


def test_records_of_compilers_gone_or_changed_are_dropped(user_state, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("cc_gone", "cc_changed", "cc_kept", "cc_new"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(0o755)
    computed: list[int] = []
    for name in ("cc_gone", "cc_changed", "cc_kept"):
        with config.change_flags(cxx=str(bindir / name)):
            _memo("probe", 1, computed)
    for path in user_state:
        _replace(path, lambda records: records.update({"probe|a|b": {"n": 5}}))  # cannot be parsed

    (bindir / "cc_gone").unlink()
    os.utime(bindir / "cc_changed", ns=(1, 1))
    with config.change_flags(cxx=str(bindir / "cc_new")):
        _memo("probe", 1, computed)
    for path in user_state:
        kept = sorted(json.loads(path.read_text()))
        assert len(kept) == 3, kept
        assert "probe|a|b" in kept
        assert any("/cc_kept:" in k for k in kept) and any("/cc_new:" in k for k in kept)

    # a compiler that is not there: its result is used but never written
    before = [path.read_bytes() for path in user_state]
    with config.change_flags(cxx=str(tmp_path / "nonexistent" / "cc")):
        assert _memo("probe", 9, computed) == {"n": 9}
        assert _memo("probe", 9, computed) == {"n": 9}
    assert computed[-2:] == [9, 9]
    assert [path.read_bytes() for path in user_state] == before
