"""The precompiled prelude: built once in the background, used by later builds, never able to
make a build fail (a damaged header means a compile without it)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.build import compiler
from fncache.build.pch import HEADER

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def _compile_w1(tmp_path: Path, tag: str):
    """A fresh compiledir and a graph whose module is new, so gcc really runs."""
    with fc.config.change_flags(compiledir=str(tmp_path / f"cd-{tag}")):
        x, y = ft.dvector("x"), ft.dvector("y")
        f = fc.function([x, y], ft.exp(x) * y + 1.5)
        a, b = np.linspace(-1, 1, 7), np.linspace(2, 3, 7)
        np.testing.assert_allclose(f(a, b), np.exp(a) * b + 1.5, rtol=1e-12)
        return fc.cache.info()["compiles"]


def _gch(root: Path, timeout: float = 120.0) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = list(root.glob(f"fncache-hosts/pch/*/{HEADER}.gch"))
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the precompiled prelude was never built")


def test_built_in_background_then_used(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    used: list[bool] = []
    real = compiler._precompiled

    def spy(prelude, source, flags):
        found = real(prelude, source, flags)
        used.append(found is not None)
        return found

    monkeypatch.setattr(compiler, "_precompiled", spy)
    assert _compile_w1(tmp_path, "first") >= 1
    assert used == [False]                      # none yet: compiled without, build started
    gch = _gch(tmp_path / "xdg")
    assert gch.stat().st_size > 1_000_000
    assert (gch.parent.parent.parent.stat().st_mode & 0o077) == 0   # private to the user
    _compile_w1(tmp_path, "second")
    assert used == [False, True]                # the next build used it, and its module works


def test_damaged_header_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _compile_w1(tmp_path, "first")
    gch = _gch(tmp_path / "xdg")
    gch.write_bytes(b"not a precompiled header" * 100)
    assert _compile_w1(tmp_path, "second") >= 1  # still compiles and computes the right answer


def test_old_headers_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for k in range(6):  # six flag sets, e.g. six cxxflags values over time
        with fc.config.change_flags(cxxflags=f"-O3 -DFNCACHE_PCH_TEST={k}"):
            _compile_w1(tmp_path, f"v{k}")
            _gch(tmp_path / "xdg")  # let this one finish before the next starts
    kept = list((tmp_path / "xdg" / "fncache-hosts" / "pch").iterdir())
    assert 1 <= len(kept) <= 4
