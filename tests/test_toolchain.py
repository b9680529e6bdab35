"""The build layer: march detection remembered per host, one-call compilation, CompileError.

Real gcc, real processes; a wrapper script around gcc records every compiler invocation so we
can see what a later process did *not* run.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fncache
from fncache.toolchain import (
    compile_flags,
    compile_shared_object,
    compiler_id,
    ext_suffix,
    host_march_flags,
    host_platform_tag,
)
from fncache.config import config
from fncache.errors import CompileError
from fncache.toolchain.process import split_args
from fncache.toolchain.tuning import width_flags
from fcutil import ext_source, fuzz_settings

REPO = Path(fncache.__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def load_ext(name: str, path: Path):
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield tmp_path / "cd"


@pytest.fixture
def logging_gcc(tmp_path):
    """A gcc wrapper that appends each argv to a log: proof of which compiler runs happened."""
    log = tmp_path / "gcc.log"
    script = tmp_path / "bin" / "loggcc"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec gcc "$@"\n')
    script.chmod(0o755)
    return script, log


def test_march_auto_expands_native(compiledir):
    flags = host_march_flags()
    if not flags:
        pytest.skip("this gcc/CPU gives no -march=native expansion (fallback to generic code)")
    assert any(f.startswith("-march=") and f != "-march=native" for f in flags)
    assert "-march=native" not in flags
    assert all(f.startswith(("-m", "--param=")) for f in flags)
    # a fresh process detects the same and remembers it on disk for this host
    assert _probe(compiledir, "gcc")["march"] == flags
    hosts = list((compiledir / "hosts").glob("*.json"))
    assert len(hosts) == 1
    record = json.loads(hosts[0].read_text())
    # the record keeps the detected flags and the vector width timed best here (its flag, if
    # any, follows them: which width wins depends on the timing, so on the load)
    assert any(
        isinstance(r, dict) and r.get("flags", []) + width_flags(r.get("vector_width", "default")) == flags
        for r in record.values()
    )


def test_march_override_and_none(compiledir):
    with config.change_flags(march="-march=x86-64 -mtune=generic"):
        assert host_march_flags() == ["-march=x86-64", "-mtune=generic"]
        assert compile_flags()[-4:] == ["-march=x86-64", "-mtune=generic", "-shared", "-fPIC"]
    with config.change_flags(march="none"):
        assert host_march_flags() == []
        assert compile_flags() == ["-O3", "-shared", "-fPIC"]
    with config.change_flags(cxxflags="-O2 -g"):
        assert compile_flags()[:2] == ["-O2", "-g"]


def _probe(compiledir: Path, cxx: Path | str) -> dict:
    code = (
        "import json; from fncache.config import config; from fncache.toolchain import *;"
        f"config.compiledir = {str(compiledir)!r}; config.cxx = {str(cxx)!r};"
        "print(json.dumps({'march': host_march_flags(), 'id': compiler_id()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_detection_runs_once_per_host_and_compiler(compiledir, logging_gcc):
    script, log = logging_gcc
    first = _probe(compiledir, script)
    runs = log.read_text().splitlines()
    assert any("-march=native" in r for r in runs) and any("--version" in r for r in runs)
    second = _probe(compiledir, script)
    assert second == first
    assert log.read_text().splitlines() == runs, "a later process ran the compiler again"
    # a changed compiler binary (new mtime) is detected again
    os.utime(script, (1, 1))
    _probe(compiledir, script)
    assert len(log.read_text().splitlines()) > len(runs)


def test_detection_is_three_compiler_runs(compiledir, logging_gcc):
    """Detecting a host and tuning its vector width costs three compiler runs, started together:
    -march=native's cc1 line and ISA macros, the driver's defaults, and the timing library
    (built with -march=native: for gcc the same code as with the expanded flags)."""
    from fncache.toolchain.cpu import cpu_features
    from fncache.toolchain.tuning import candidates

    script, log = logging_gcc
    flags = _probe(compiledir, script)["march"]
    if not flags or len(candidates(cpu_features())) < 2:
        pytest.skip("no -march=native expansion or a single vector width on this CPU")
    runs = [r for r in log.read_text().splitlines() if "--version" not in r and "-dump" not in r]
    assert sorted(runs) == sorted(
        [
            "-march=native -dM -E -v -",
            "-E -v -",
            next(r for r in runs if r.startswith("-march=native -O3") and "tune.c" in r),
        ]
    ), runs


def test_tampered_host_file_is_not_trusted(compiledir):
    flags = _probe(compiledir, "gcc")["march"]
    path = next((compiledir / "hosts").glob("*.json"))
    records = json.loads(path.read_text())
    for rec in records.values():
        if "flags" in rec:
            rec["flags"] = ["-fplugin=/tmp/evil.so"]
    path.write_text(json.dumps(records))
    code = (
        "import json; from fncache.config import config; from fncache.toolchain import host_march_flags;"
        f"config.compiledir = {str(compiledir)!r}; print(json.dumps(host_march_flags()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == flags


def test_compiler_id_and_platform(compiledir):
    cid = compiler_id()
    assert set(cid) >= {"cxx", "version", "target"}
    assert os.path.isabs(cid["cxx"])
    assert cid["version"] != "unknown" and cid["target"] != "unknown"
    assert re.fullmatch(r"[a-z0-9]+-[A-Za-z0-9_]+-[a-z]+\d+", host_platform_tag())


def test_compile_and_load_extension(compiledir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lib = compile_shared_object(ext_source("bt_ext", 7), out, "bt_ext", libs=["m"])
    assert lib == out / f"bt_ext{ext_suffix()}"
    assert (out / "bt_ext.c").is_file()
    assert load_ext("bt_ext", lib).value() == 7


def test_plain_shared_object(compiledir, tmp_path):
    lib = compile_shared_object("int answer(void) { return 41 + 1; }\n", tmp_path, "plain", python_ext=False)
    import ctypes

    assert lib.suffix == ".so" and ctypes.CDLL(str(lib)).answer() == 42


def test_compile_error_names_command_stderr_and_kept_source(compiledir, tmp_path):
    source = "int broken(void) { return undefined_symbol_xyz + ; }\n"
    with pytest.raises(CompileError) as info:
        compile_shared_object(source, tmp_path, "broken", python_ext=False)
    msg = str(info.value)
    assert "command: " in msg and "gcc" in msg and "-shared" in msg
    assert "undefined_symbol_xyz" in msg  # the compiler's own diagnostics
    kept = Path(re.search(r"source kept at: (\S+)", msg).group(1))
    assert kept.read_text() == source
    assert kept.parent == compiledir / "failed"
    assert kept.with_suffix(".log").is_file()


_TWO_PARTS = """
#if !defined(FC_LIB_PART) || FC_LIB_PART == 0
int first(void) { return 40; }
#endif
#if !defined(FC_LIB_PART) || FC_LIB_PART == 1
int second(void) { return BODY; }
#endif
"""


def test_a_source_in_parts_is_compiled_by_one_call_per_part_and_linked_into_one_library(compiledir, tmp_path):
    import ctypes

    lib = compile_shared_object(_TWO_PARTS.replace("BODY", "2"), tmp_path, "two", python_ext=False, parts=2)
    so = ctypes.CDLL(str(lib))
    assert so.first() + so.second() == 42
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.c", "two.so"]  # no objects left
    with pytest.raises(CompileError) as info:  # the failing part's call is the one reported
        compile_shared_object(
            _TWO_PARTS.replace("BODY", "2 +"), tmp_path, "broken", python_ext=False, parts=2
        )
    assert "-DFC_LIB_PART=1" in str(info.value) and "-DFC_LIB_PART=0" not in str(info.value)
    assert not list(tmp_path.glob("*.o"))


def test_missing_compiler_is_a_compile_error(compiledir, tmp_path):
    with config.change_flags(cxx="/nonexistent/cc", march="none"):
        with pytest.raises(CompileError, match="could not start the compiler"):
            compile_shared_object("int x;\n", tmp_path, "x", python_ext=False)


@pytest.mark.parametrize("flags", ["-O2 -ffast-math", "-Ofast"])
def test_a_fast_math_kernel_library_leaves_the_process_float_modes(compiledir, flags: str) -> None:
    """gcc links a library built with -ffast-math (or -Ofast) with a constructor that sets
    flush-to-zero and denormals-are-zero for the thread that loads it: every later float
    operation of the process, numpy's and Python's included, would read and make subnormals
    as 0. Loading a kernel library keeps the loader's float modes. A fresh process: a test
    that broke them would break every test after it."""
    code = f"""
import math, numpy as np, fncache as fc, fncache.tensor as ft
from fncache.config import config
config.compiledir = {str(compiledir)!r}
tiny = np.float64(5e-324)
assert tiny * 1.0 > 0 and math.log(5e-324) < -744
with config.change_flags(cxxflags={flags!r}):
    x = ft.dvector("x")
    f = fc.function([x], x * 2.0 + 1.0, mode="FAST_RUN")
    assert f(np.array([1.0]))[0] == 3.0
# numpy's multiply, the C run-time's own loops and Python's float all keep subnormals
assert tiny * 1.0 > 0, "flush-to-zero: numpy's 5e-324 * 1.0 is 0"
assert np.float32(1e-45) * np.float32(1.0) > 0
assert math.log(5e-324) < -744, "denormals-are-zero: math.log(5e-324) read 0"
g = fc.function([x], x * 1.0, mode="FAST_RUN")
assert g(np.array([5e-324]))[0] > 0, "a later function flushed a subnormal"
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


_ARG_CHARS = " \t\r\n\x0b\x0c\xa0\x85\"'\\#$=-.,~[]()*?;&|<>`aZ0é\x00"


@given(st.text(alphabet=_ARG_CHARS, max_size=12))
@fuzz_settings(300)
def test_flags_split_as_shlex_splits_them_whatever_they_quote(text: str) -> None:
    """The compiler command and flags are split as shlex splits them (its quotes, escapes and
    blanks, and its error on an open quote), also where shlex is not imported for them."""
    import shlex

    def split(f):
        try:
            return f(text)
        except ValueError:
            return "open quote"

    assert split(split_args) == split(shlex.split)


def test_a_value_remembered_with_the_compiler_fingerprint_is_computed_again_when_a_source_changes(
    tmp_path, monkeypatch
):
    """``fingerprint.remembered`` (the run-time's source hash, checked against the built
    run-time in every process): kept in the fingerprint's memo and read from it by the next
    process, computed again when a source file's size or mtime changed, as the fingerprint."""
    from types import SimpleNamespace

    from fncache.toolchain import fingerprint

    real_files = fingerprint._files
    edited: list[str] = []

    def files(root: str) -> list:
        found = real_files(root)
        return [
            (f, SimpleNamespace(st_size=st.st_size, st_mtime_ns=st.st_mtime_ns + (f in edited)))
            for f, st in found
        ]

    monkeypatch.setattr(fingerprint, "_files", files)
    monkeypatch.setattr(fingerprint, "user_cache_dir", lambda name: str(tmp_path / name))
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return f"value {len(calls)}"

    def fresh_process() -> None:
        monkeypatch.setattr(fingerprint, "_fp", None)
        monkeypatch.setattr(fingerprint, "_memo", None)

    fresh_process()
    assert fingerprint.remembered("x", compute) == "value 1"
    assert fingerprint.remembered("x", compute) == "value 1" and len(calls) == 1
    first = fingerprint.compiler_fingerprint()
    fresh_process()
    assert fingerprint.remembered("x", compute) == "value 1" and len(calls) == 1  # read from the memo
    edited.append("codegen/c_steps.c")  # a run-time source edited: its mtime moves
    fresh_process()
    assert fingerprint.remembered("x", compute) == "value 2"
    assert fingerprint.compiler_fingerprint() == first  # the same contents: the same fingerprint
