"""The README's two install commands, one after the other, in one checkout and one venv.

``pip install .`` then ``fncache demo`` (the first command), then the editable install of the
second (``pip install -e .``: its ``[test]`` extras add nothing this test looks at, and CI's own
install runs that line whole): a file written into the installed package at run time would survive the first
install's removal, leave a ``fncache/`` directory in site-packages that Python imports as a
namespace package, and break every ``fncache`` started outside the checkout.  Slow (two real
pip installs, from pip's cache), so it is one test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fncache as fc

REPO = Path(fc.__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _sh(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def _checkout(dest: Path) -> None:
    """The repository's tracked files (what a fresh clone holds)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell which files a clone holds")
    for name in listed.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)


def test_readme_install_commands_in_sequence(tmp_path):
    src, outside = tmp_path / "fncache", tmp_path / "elsewhere"
    src.mkdir()
    outside.mkdir()
    _checkout(src)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), FNCACHE_FLAGS=f"compiledir={tmp_path / 'cd'}")
    _sh([sys.executable, "-m", "venv", ".venv"], src, env)
    bindir = src / ".venv" / "bin"
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    pip = [str(bindir / "python"), "-m", "pip", "install", "-q"]
    _sh([*pip, "."], src, env)
    _sh([str(bindir / "fncache"), "demo"], outside, env)  # the first README command, whole
    purelib = _sh(
        [str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        outside,
        env,
    ).strip()
    installed = Path(purelib) / "fncache"
    # The command-line tool is installed under a name of its own, never as a package "cli".
    assert (Path(purelib) / "fncache_cli" / "main.py").is_file() and not (Path(purelib) / "cli").exists()
    written = [
        p for p in installed.rglob("*") if p.is_file() and p.suffix != ".pyc" and "__pycache__" in p.parts
    ]
    assert not written, f"fncache wrote into its installed package: {written}"
    _sh([*pip, "-e", "."], src, env)
    assert not installed.exists(), f"{installed} was left behind by the first install"
    out = _sh(
        [str(bindir / "python"), "-c", "import fncache; print(fncache.__version__, fncache.__file__)"],
        outside,
        env,
    )
    assert out.split()[1].startswith(str(src)), out
    _sh([str(bindir / "fncache"), "demo"], outside, env)
