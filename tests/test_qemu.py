"""A mixed cluster for real: one compiledir shared by this machine's CPU and the same Python run
under ``qemu-x86_64 -cpu Nehalem`` (SSE4.2, no AVX), which is what ``cpuid`` reports there while
``/proc/cpuinfo`` still describes this machine.  No process may die of SIGILL.

qemu is slow (~3 s a process here): one small function per process, a handful of processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import fncache as fc

REPO = Path(fc.__file__).resolve().parent.parent
QEMU = shutil.which("qemu-x86_64")
GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(
    QEMU is None or GCC is None, reason="needs qemu-x86_64 (apt-get install qemu-user) and gcc"
)

PROBE = """
import json, numpy as np, fncache as fc
from fncache import tensor as ft
from fncache.toolchain import host_march_flags
from fncache.toolchain.cpu import cpu_features
x, y = ft.dvector("x"), ft.dvector("y")
f = fc.function([x, y], ft.exp(x) * y + ft.sin(y), name="mixed")
a = np.linspace(-2, 2, 9)
err = float(np.max(np.abs(f(a, a[::-1].copy()) - (np.exp(a) * a[::-1] + np.sin(a[::-1])))))
print(json.dumps({"err": err, "march": host_march_flags(), "compiles": fc.cache.info()["compiles"],
                  "avx": "avx" in cpu_features()}))
"""


def _run(cd: Path, xdg: Path, *, emulated: bool, cxx: str = "gcc") -> dict:
    argv = [QEMU, "-cpu", "Nehalem", sys.executable] if emulated else [sys.executable]
    proc = subprocess.run(
        [*argv, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=240,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "XDG_CACHE_HOME": str(xdg),
            "FNCACHE_FLAGS": f"compiledir={cd},cxx={cxx}",
        },
    )
    assert proc.returncode not in (-signal.SIGILL, 128 + signal.SIGILL), (
        f"killed by SIGILL (emulated={emulated}, cxx={cxx}):\n{proc.stderr[-3000:]}"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["err"] < 1e-12
    return out


@pytest.fixture(scope="module")
def native_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mixed")
    cd, xdg = root / "cd", root / "xdg"
    native = _run(cd, xdg, emulated=False)
    if not native["avx"]:
        pytest.skip("this CPU has no AVX: a Nehalem process is not an older CPU here")
    return cd, xdg


def test_emulated_older_cpu_with_the_native_compiler_builds_for_its_own_cpu(native_cache):
    """The compiler runs natively (its -march=native describes this machine), Python runs as
    Nehalem: the host data is made from cpuid instead, and nothing built for AVX is loaded."""
    cd, xdg = native_cache
    out = _run(cd, xdg, emulated=True)
    assert out["avx"] is False
    assert not any(f in out["march"] for f in ("-mavx", "-mavx2", "-mavx512f"))
    assert "-msse4.2" in out["march"]
    # and again, from the records it left: the same flags, nothing to compile
    again = _run(cd, xdg, emulated=True)
    assert again["march"] == out["march"] and again["compiles"] == out["compiles"]


def test_emulated_compiler_and_python_build_and_run_their_own_entry(native_cache):
    cd, xdg = native_cache
    before = len(list(cd.glob("entries/*/*")))
    out = _run(cd, xdg, emulated=True, cxx=f"{QEMU} -cpu Nehalem {GCC}")
    assert "-march=nehalem" in out["march"]
    assert len(list(cd.glob("entries/*/*"))) > before
    # the native entries are intact: a native process compiles nothing
    assert _run(cd, xdg, emulated=False)["compiles"] == out["compiles"]


def test_planted_avx512_host_records_do_not_kill_an_emulated_process(native_cache):
    """The reproduction: AVX-512 flags added to every host record, in both places."""
    cd, xdg = native_cache
    files = [*cd.glob("hosts/*.json"), *xdg.glob("fncache-hosts/*.json")]
    assert files
    for path in files:
        records = json.loads(path.read_text())
        for memo, rec in records.items():
            if memo.startswith("march|"):
                rec["flags"] += ["-mavx512f", "-mavx512vl", "-mprefer-vector-width=512"]
        path.write_text(json.dumps(records))
    out = _run(cd, xdg, emulated=True)
    assert "-mavx512f" not in out["march"]
