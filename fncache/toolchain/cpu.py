"""This process's CPU, read with ``cpuid``, and the instruction-set features code needs.

Why ``cpuid`` and not ``/proc/cpuinfo``: the file describes the machine the kernel booted on,
while ``cpuid`` answers for the CPU that executes this process: an emulator
(``qemu-x86_64 -cpu Nehalem``), a VM migrated to an older host, or a container pinned to a
CPU model all make the two differ.  ``cpuid`` is also what gcc's ``-march=native`` reads.

Features are named as gcc's ``-m<feature>`` options (``avx2``, ``sse4.2``, ``avx512f``), so the
features a kernel library needs are the ISA macros its compiler defines for its flags
(``__AVX2__`` -> ``avx2``), and checking a library against this CPU is a set difference.  The
C run-time reads the CPU once per process (microseconds, xgetbv included: AVX and AVX-512 need
the OS to save their registers, or their instructions fault).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any, Iterable

from ..errors import CompileError

__all__ = [
    "cpu_features",
    "cpu_fingerprint",
    "isa_of",
    "isa_of_macros",
    "remember_isa",
    "missing_features",
    "check_features",
    "known_features",
    "cpu_flags",
    "flag_features",
    "entry_missing_features",
]

log = logging.getLogger(__name__)

_info: dict[str, Any] | None = None
_fingerprint: str | None = None
#: what :func:`entry_missing_features` answered, by the entry's ``isa`` and ``march``: every
#: lookup of a kernel library asks, and the answer depends on this process's CPU alone
_missing_memo: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}
_MISSING_MEMO_MAX = 64  # one or two march strings per host: a bound against odd entries
_isa_memo: dict[tuple[str, ...], frozenset[str]] = {}

#: ISA macros whose name does not follow ``__<FEATURE>__`` with ``_`` for ``.``/``-``.
_MACRO_ALIASES = {"LAHF_SAHF": "sahf", "GCC_HAVE_SYNC_COMPARE_AND_SWAP_16": "cx16"}


def _cpu() -> dict[str, Any]:
    global _info
    if _info is None:
        try:  # the toolchain's own extension: no numpy, no code generator (`fncache info` reads this)
            from . import _cpuid
        except ImportError as e:
            raise ImportError(
                f"fncache's cpuid probe (fncache.toolchain._cpuid) is not built: {e}; "
                f"it is compiled when fncache is installed; reinstall with `pip install .` (or "
                f"`pip install -e .` in a source checkout), with a C compiler available"
            ) from e
        _info = dict(_cpuid.cpu_info())
    return _info


def is_x86() -> bool:
    return os.uname().machine.lower() in ("x86_64", "amd64", "i386", "i686")


def cpu_features() -> frozenset[str]:
    """The features this CPU and OS can run (gcc ``-m`` option names), read once per process."""
    return frozenset(_cpu()["features"])


def known_features() -> frozenset[str]:
    """Every feature the run-time can ask ``cpuid`` about."""
    return frozenset(_cpu()["known"])


def cpu_fingerprint() -> str:
    """16 hex digits naming this CPU as the code sees it: vendor, family/model/stepping and
    features from ``cpuid`` (on other platforms: ``/proc/cpuinfo``'s model and flags)."""
    global _fingerprint
    if _fingerprint is None:
        h = hashlib.sha256(os.uname().machine.encode())
        if is_x86():
            info = _cpu()
            h.update(f"|{info['vendor']}|{info['signature']:#x}|".encode())
            h.update(",".join(sorted(info["features"])).encode())
        else:
            h.update(_proc_cpuinfo())
        _fingerprint = h.hexdigest()[:16]
    return _fingerprint


def _proc_cpuinfo() -> bytes:
    try:
        with open("/proc/cpuinfo", "rb") as f:
            block = f.read(16384).split(b"\n\n", 1)[0]
    except OSError:
        return b""
    return b"\n".join(
        ln
        for ln in block.splitlines()
        if ln.split(b":", 1)[0].strip() in (b"model name", b"Features", b"CPU part")
    )


def isa_of(cxx: list[str], flags: list[str]) -> frozenset[str]:
    """The features code built by ``cxx`` with ``flags`` may use: the compiler's own ISA macros
    for those flags (one preprocessor run, memoised per process).

    Asking the compiler covers every way flags select a CPU (``-march=haswell``, ``-mavx2``,
    ``-mno-avx``, clang's ``-mcpu``) and a compiler whose default target is above the platform
    baseline (``--with-arch=x86-64-v3``) without a table of CPUs here.  Raises CompileError when
    the compiler cannot be run with those flags.
    """
    if not is_x86():
        return frozenset()
    memo = (*cxx, "\0", *flags)
    found = _isa_memo.get(memo)
    if found is not None:
        return found
    import subprocess  # only when flags are new to this process: not on the import path

    from .process import run_tool

    argv = [*cxx, *flags, "-dM", "-E", "-x", "c", "-"]
    try:
        proc = run_tool(argv)
    except (OSError, subprocess.SubprocessError) as e:
        raise CompileError(
            f"cannot run the compiler {cxx[0]!r} to read which CPU features "
            f"flags {' '.join(flags) or '(none)'} select: {e}"
        ) from None
    if proc.returncode != 0:
        raise CompileError(
            f"the compiler {' '.join(cxx)!r} rejects the flags "
            f"{' '.join(flags)!r}: {proc.stderr.strip()[-2000:]}; fix config.march "
            f"or config.cxxflags / config.gcc__cxxflags"
        )
    found = _isa_memo[memo] = isa_of_macros(proc.stdout)
    return found


def isa_of_macros(macros: str) -> frozenset[str]:
    """The features named by a compiler's ``-dM -E`` output (``#define __AVX2__ 1`` -> ``avx2``)."""
    known = known_features()
    out = set()
    for line in macros.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "#define" or not parts[1].startswith("__"):
            continue
        name = parts[1].strip("_")
        feature = _MACRO_ALIASES.get(name) or name.lower().replace("_", ".")
        for candidate in (feature, feature.replace(".", "-")):
            if candidate in known:
                out.add(candidate)
    return frozenset(out)


def remember_isa(cxx: list[str], flags: list[str], isa: frozenset[str]) -> None:
    """Record what :func:`isa_of` would answer for ``flags``, read from a preprocessor run
    that gave the compiler the same options (detection's ``-march=native -dM -E``)."""
    if is_x86():
        _isa_memo[(*cxx, "\0", *flags)] = isa


def missing_features(required: Iterable[str]) -> list[str]:
    """The features of ``required`` this CPU lacks, sorted ([] on non-x86 platforms, where
    nothing is recorded)."""
    if not is_x86():
        return []
    return sorted(set(required) - cpu_features())


def flag_features(flags: Iterable[str]) -> set[str]:
    """The features named outright by ``-m<feature>`` flags (no compiler run)."""
    known = known_features()
    return {t[2:] for t in flags if t.startswith("-m") and t[2:] in known}


def entry_missing_features(meta: dict[str, Any]) -> list[str]:
    """What a cache entry's library needs that this CPU lacks: its recorded ``isa`` and the
    ``-m<feature>`` flags of its ``march``.  A malformed ``isa`` counts as a missing feature:
    an entry that cannot say what it needs is not loaded."""
    isa = meta.get("isa", [])
    if not isinstance(isa, list) or not all(isinstance(f, str) for f in isa):
        return ["(unreadable isa in its metadata)"]
    march = meta.get("march", "")
    if not isinstance(march, str):
        march = ""
    memo = (tuple(isa), march)
    found = _missing_memo.get(memo)
    if found is None:
        flags = march.split()
        # generic code, or no native code at all (function entries): nothing to miss
        found = tuple(missing_features({*isa, *flag_features(flags)})) if isa or flags else ()
        if len(_missing_memo) < _MISSING_MEMO_MAX:
            _missing_memo[memo] = found
    return list(found)


def check_features(required: Iterable[str], what: str) -> None:
    """Raise CompileError when ``what`` (a library, a record) needs features this CPU lacks:
    running it would end the process with SIGILL."""
    missing = missing_features(required)
    if missing:
        raise CompileError(
            f"{what} needs CPU features this CPU lacks ({', '.join(missing)}); it is not loaded"
        )


def cpu_flags() -> list[str]:
    """Compiler flags for exactly this CPU's features, from ``cpuid``: what is built when the
    compiler's own ``-march=native`` describes another CPU (it runs natively while this process
    runs under an emulator, say)."""
    if not is_x86():
        return []
    return [
        "-march=x86-64",
        "-mtune=generic",
        *(f"-m{f}" for f in sorted(cpu_features()) if f not in ("mmx", "sse", "sse2", "fxsr")),
    ]
