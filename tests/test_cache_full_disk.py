"""A full or read-only compiledir, on a real small tmpfs: whole entries or none, results still computed.

Mounting needs root (CI runs as root); elsewhere these tests are skipped, saying why.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.toolchain import compile_shared_object
from fncache.cache import Compiledir, function_key
from fncache.config import config
from fncache.errors import CompileError

SIZE = 8 << 20


@pytest.fixture
def small(tmp_path):
    """A fresh tmpfs of SIZE bytes, unmounted afterwards."""
    where = tmp_path / "small"
    where.mkdir()
    p = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {p.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path, leave: int) -> Path:
    """Fill the filesystem of ``where`` but about ``leave`` bytes; returns the filler file."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 16, 4096, 1):
            try:
                while os.write(fd, b"\0" * chunk) == chunk:
                    pass
            except OSError as e:
                assert e.errno == errno.ENOSPC
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    finally:
        os.close(fd)
    return filler


def fkey(i):
    return function_key(f"disk-{i}", "FAST_RUN", {"floatX": "float64"})


def unpublished_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "uncached" in r.getMessage()]


def test_a_nearly_full_disk_never_publishes_a_half_written_entry(small, caplog):
    cd = Compiledir(small / "cd")
    cd.put_bytes(fkey("first"), {"a": b"1"}, {})  # the compiledir exists before the disk fills
    note = "n" * 6000  # a meta.json larger than one page
    results = []
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        for i, leave in enumerate(range(0, 64 << 10, 3 << 10)):
            filler = fill(small, leave)
            data = bytes([i % 251]) * (5000 + 977 * i)
            entry = cd.put_bytes(fkey(i), {"a.bin": data, "b.bin": data[:100]}, {"note": note})
            results.append(entry.read_bytes("a.bin") == data and entry.read_bytes("b.bin") == data[:100])
            filler.unlink()
    assert all(results), "every call gets its data, published or not"
    report = cd.verify(repair=False)
    assert report["bad"] == [], report["reasons"]
    assert 3 <= report["checked"] < 23, report["checked"]  # some fitted, some did not
    assert len(unpublished_warnings(caplog)) == 1, "one warning per process, not one per call"


def _function_result(caplog) -> None:
    x = ft.vector("x")
    with caplog.at_level(logging.WARNING, logger="fncache.cache"):
        f = fc.function([x], ft.exp(x) * 2 + ft.tanh(x))
        g = fc.function([x], ft.sqrt(ft.abs(x)) - 1)
    v = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(f(v), np.exp(v) * 2 + np.tanh(v))
    np.testing.assert_allclose(g(v), np.sqrt(np.abs(v)) - 1)
    assert len(unpublished_warnings(caplog)) == 1, [r.getMessage() for r in caplog.records]


def test_a_full_compiledir_still_computes_the_result(small, caplog):
    with config.change_flags(compiledir=str(small / "cd")):
        Compiledir().info()
        fill(small, 0)
        _function_result(caplog)


def test_a_read_only_compiledir_still_computes_the_result(small, caplog):
    with config.change_flags(compiledir=str(small / "cd")):
        Compiledir().info()
        subprocess.run(["mount", "-o", "remount,ro", str(small)], check=True)
        _function_result(caplog)
        assert "read-only" in unpublished_warnings(caplog)[0].lower()


def test_a_compile_error_on_a_full_disk_keeps_the_compiler_output(small):
    cd = Compiledir(small / "cd")
    cd.info()
    fill(small, 0)

    def build(staging: Path) -> None:
        compile_shared_object("int broken( {", staging, "broken", python_ext=False)

    with config.change_flags(compiledir=str(small / "cd")):
        with pytest.raises(CompileError, match="error:"):
            cd.get_or_build(fkey("broken"), build)
