"""A mixed cluster for real: one compiledir shared by this machine's CPU and the same Python run
under ``qemu-x86_64 -cpu Nehalem`` (SSE4.2, no AVX), which is what ``cpuid`` reports there while
``/proc/cpuinfo`` still describes this machine.  No process may die of SIGILL.

A Haswell (AVX2, no AVX-512) times its vector widths. Training graphs (gradients with row passes,
scan, a Hessian-vector product) and their pickles go both ways between this CPU and a Nehalem.

qemu is slow (~3 s a process here): one small function per process, a handful of processes,
and for the training graphs one process on each side, doing them all (``qemu_probe.py``).
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
print(json.dumps({"errors": {"mixed": err}, "march": host_march_flags(), "compiles": fc.cache.info()["compiles"],
                  "avx": "avx" in cpu_features()}))
"""


def _run(
    cd: Path,
    xdg: Path,
    *,
    emulated: bool,
    cxx: str = "gcc",
    script: tuple[str, ...] = ("-c", PROBE),
    cpu: str = "Nehalem",
) -> dict:
    argv = [QEMU, "-cpu", cpu, sys.executable] if emulated else [sys.executable]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [*argv, *script],
        capture_output=True,
        text=True,
        timeout=240,
        env={
            **env,
            # bytecode written once, by the first (native) process: compiling fncache's sources
            # takes an emulated process seconds
            "PYTHONPYCACHEPREFIX": str(xdg / "pycache"),
            "PYTHONPATH": str(REPO),
            "XDG_CACHE_HOME": str(xdg),
            "FNCACHE_FLAGS": f"compiledir={cd},cxx={cxx}",
        },
    )
    assert proc.returncode not in (-signal.SIGILL, 128 + signal.SIGILL), (
        f"killed by SIGILL (as {cpu if emulated else 'this CPU'}, cxx={cxx}):\n{proc.stderr[-3000:]}"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert max(out["errors"].values()) < 1e-12, out["errors"]
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


def test_emulated_avx2_cpu_times_its_vector_widths_with_code_for_its_own_cpu(native_cache):
    """Haswell (AVX2 and FMA, no AVX-512): the vector width is timed there, so the timing library
    runs 256-bit code; it must be built for this CPU's features, not the compiler's AVX-512."""
    cd, xdg = native_cache
    out = _run(cd, xdg, emulated=True, cpu="Haswell")
    if not out["avx"]:
        pytest.skip("this qemu does not emulate AVX (qemu 7.2 and later do)")
    assert "-mavx2" in out["march"] and "-mfma" in out["march"]
    assert not any(f.startswith("-mavx512") for f in out["march"])
    records = [r for p in xdg.glob("fncache-hosts/*.json") for r in json.loads(p.read_text()).values()]
    timed = [r["ns_per_element"] for r in records if "avx2" in r.get("isa", ()) and "avx512f" not in r["isa"]]
    assert len(timed) == 1 and set(timed[0]) == {"default", "256"}


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


# -- training graphs: gradients with row passes, scan, a Hessian-vector product, pickles ------------
GRAPHS = str(Path(__file__).with_name("qemu_probe.py"))


@pytest.fixture(scope="module")
def native_graphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict]:
    """The graphs built natively into a compiledir of their own, pickled to ``native/``."""
    root = tmp_path_factory.mktemp("graphs")
    cd, xdg = root / "cd", root / "xdg"
    (root / "native").mkdir()
    out = _run(cd, xdg, emulated=False, script=(GRAPHS, str(root / "native")))
    if not out["avx"]:
        pytest.skip("this CPU has no AVX: a Nehalem process is not an older CPU here")
    # what the probe claims to cover: row passes (one with two products), loops, compiled here
    assert "RowPass" in out["ops"]["logreg_step"] and "RowPass" in out["ops"]["hvp"]
    assert "Scan" in out["ops"]["rnn_grad"]
    assert all(n > 0 for n in out["compiled"].values()), out["compiled"]
    return cd, xdg, root, out


def _graphs_run(native_graphs: tuple, side: str, inbox: str, *, emulated: bool) -> dict:
    """One side's run; an emulated one with its compiler emulated too, as a Nehalem host runs
    its own (the native compiler under an emulated Python is checked above)."""
    cd, xdg, root, native = native_graphs
    (root / side).mkdir()
    cxx = f"{QEMU} -cpu Nehalem {GCC}" if emulated else "gcc"
    out = _run(cd, xdg, emulated=emulated, cxx=cxx, script=(GRAPHS, str(root / side), str(root / inbox)))
    # a random draw is the same bits on every host, loaded or built
    assert {tuple(d) for d in out["digests"].values() if d} == {tuple(native["digests"]["reductions"])}
    return out


def test_training_graphs_and_their_pickles_run_on_an_older_cpu_and_back(native_graphs):
    """A Nehalem process and compiler over the compiledir the native one filled run the training
    graphs with numpy's values: built there, from the native `pickle.dumps` and from the native
    embedded libraries, which they must refuse. They compile their own libraries once per graph,
    whichever comes first (the optimized graphs do not depend on the host). Then a native
    process runs the Nehalem pickles from its own entries."""
    cd = native_graphs[0]
    before = len(list(cd.glob("entries/*/*")))
    old = _graphs_run(native_graphs, "nehalem", "native", emulated=True)
    assert old["avx"] is False and "-march=nehalem" in old["march"]
    for name in old["ops"]:
        first, second = sorted((old["compiled"][f"build {name}"], old["compiled"][f"load {name}"]))
        assert first == 0 < second, old["compiled"]
    assert len(list(cd.glob("entries/*/*"))) > before
    assert len(old["refused"]) >= len(old["ops"])
    assert all("CPU features this CPU lacks" in r for r in old["refused"])
    back = _graphs_run(native_graphs, "back", "nehalem", emulated=False)
    assert not any(back["compiled"].values()) and back["refused"] == []
