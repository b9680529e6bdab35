"""This host's CPU flags (``-march=native`` expanded) and platform tag, remembered per host.

Why expand ``-march=native``: a cache key holding the literal ``-march=native`` is the same on
every host, so a mixed cluster would load code built for a richer CPU and die with SIGILL
(sccache #2140, Theano #4783).  The expanded flags name exactly what the code may use, so hosts
with identical CPUs share entries and others never load them.

Detection costs three compiler runs and the vector width's timing (0.1-0.2 s, see
toolchain/tuning.py), so its result is kept in the user's private
``~/.cache/fncache-hosts/<hostname>.json`` (and shown in ``<compiledir>/hosts/<hostname>.json``)
keyed by the compiler binary (path, size, mtime) and the CPU as ``cpuid`` reports it: a later
process on this host pays one small file read.  A record is a hint: one naming a CPU feature
this process's CPU lacks is discarded and the host detected again (see toolchain/cpu.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..config import config, user_cache_dir
from ..fs.safedir import parse_json
from .cpu import (
    check_features,
    cpu_features,
    cpu_fingerprint,
    cpu_flags,
    flag_features,
    isa_of,
    isa_of_macros,
    remember_isa,
)
from .tuning import WIDTHS, build_argv, candidates, choose_vector_width, width_flags
from .process import join_args, run_side_by_side, split_args

__all__ = [
    "host_march_flags",
    "host_vector_width",
    "host_tuning",
    "host_isa",
    "host_platform_tag",
    "host_name",
    "cxx_command",
    "host_memo",
]

log = logging.getLogger(__name__)

#: Tokens a detected march list may hold; anything else read back from a host file is ignored,
#: so a tampered host file cannot smuggle e.g. ``-fplugin=`` into every compile.
_SAFE_TOKEN = re.compile(r"-m[A-Za-z0-9][A-Za-z0-9_.=+,-]*|--param=[A-Za-z0-9_-]+=[0-9]+")

_MAC_DOMAIN = b"fncache host record v1\0"  # a host record's MAC never passes for an entry's

_lock = threading.RLock()
_march_by_cxx: dict[str, dict] = {}
_records_read: dict[Path, tuple[tuple[int, int, int], dict]] = {}  # path -> (its stat, its records)
_fast: tuple[int, list[str], str] | None = None
_platform_tag: str | None = None


def host_name() -> str:
    """The node name (``os.uname`` avoids importing :mod:`socket` on the hit path)."""
    return os.uname().nodename or "localhost"


def cxx_command() -> list[str]:
    """``config.cxx`` as an argv prefix (it may hold a wrapper, e.g. ``ccache gcc``)."""
    cmd = split_args(config.cxx)
    if not cmd:
        raise ValueError(
            "config.cxx is '' (no C compiler, Theano's meaning): the modes given by name run the "
            "Python linker, but this function asks for compiled code (an fc.Mode with linker 'c', "
            "DebugMode); set config.cxx to a compiler (e.g. 'gcc'), or use fc.Mode(linker='py')"
        )
    return cmd


def host_platform_tag() -> str:
    """``<os>-<machine>-<python tag>``, e.g. ``linux-x86_64-cp311``: what a binary entry needs to match."""
    global _platform_tag
    if _platform_tag is None:
        impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
        _platform_tag = (
            f"{sys.platform}-{os.uname().machine}-{impl}{sys.version_info.major}{sys.version_info.minor}"
        )
    return _platform_tag


def _compiler_file_stamp(program: str) -> str:
    """Identify the compiler binary without running it: resolved path, size and mtime."""
    path = shutil.which(program) or program
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
        return f"{real}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return real


def _shared_host_file() -> tuple[Path, int | None] | None:
    """``<compiledir>/hosts/<host>.json``: what the cache's tools show about each host."""
    from ..fs.perms import layout_for
    from ..errors import CacheError

    try:
        layout = layout_for(config.compiledir)
        return layout.hosts / f"{host_name()}.json", layout.file_mode
    except (CacheError, OSError) as e:
        log.debug("not remembering host data in the compiledir: %s", e)
        return None


def user_host_dir() -> Path | None:
    """This user's private directory for per-host data (0700, refused if others can write it),
    or None when there is none."""
    user_dir = Path(user_cache_dir("fncache-hosts"))
    try:
        user_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = user_dir.stat()
        if st.st_uid == os.getuid() and not st.st_mode & 0o022:
            return user_dir
        log.debug("not using %s for host data: it is not private to this user", user_dir)
    except OSError as e:
        log.debug("no per-user host data: %s", e)
    return None


def _record_mac(key: bytes, memo_key: str, rec: dict) -> str:
    body = json.dumps({k: v for k, v in rec.items() if k != "hmac"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, _MAC_DOMAIN + memo_key.encode() + b"\0" + body.encode(), hashlib.sha256).hexdigest()


def _read_records(path: Path) -> dict:
    """The records in the host file at ``path`` ({} when there is none), read once per process
    while the file stays the same: a later call costs one ``stat``, and a file another process
    has replaced since (a writer always replaces it whole) is read again. The dict returned is
    shared: copy it before changing it."""
    try:
        st = os.stat(path)
    except OSError:
        return {}
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    seen = _records_read.get(path)
    if seen is not None and seen[0] == stamp:
        return seen[1]
    try:
        loaded = parse_json(path.read_bytes())
    except (OSError, ValueError):
        return {}
    records = loaded if isinstance(loaded, dict) else {}
    _records_read[path] = (stamp, records)
    return records


def _compiler_unchanged(memo_key: str) -> bool:
    """Whether the compiler binary a record's key names is still there as it was (same path,
    size and mtime): a record whose binary is gone or changed can never be read again. A key
    this cannot take apart is kept."""
    parts = memo_key.split("|")
    if len(parts) != 4:
        return True
    path, size, mtime = (["", "", ""] + parts[2].rsplit(":", 2))[-3:]
    if not (size.isdigit() and mtime.isdigit()):
        return False  # no size and mtime: the binary was missing when the record was made
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # e.g. another user's directory: not ours to judge
    return (st.st_size, st.st_mtime_ns) == (int(size), int(mtime))


def _write_record(path: Path, mode: int | None, memo_key: str, rec: dict) -> None:
    """Add ``rec`` to the host file at ``path`` (atomic replace; a lost race costs a recompute),
    dropping the records of compiler binaries that are gone or have changed since: without
    that, every compiler upgrade, deleted environment or temporary toolchain would leave its
    records behind for good, and every process reads the whole file."""
    records = _read_records(path)
    if records.get(memo_key) == rec:
        return
    records = {k: v for k, v in records.items() if _compiler_unchanged(k)}
    records[memo_key] = rec
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        tmp.write_text(json.dumps(records, indent=1, sort_keys=True))
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        log.debug("could not write %s: %s", path, e)
        tmp.unlink(missing_ok=True)


def _checked(
    rec: object,
    what: str,
    path: Path,
    memo_key: str,
    key: bytes | None,
    trusted: bool,
    valid: Callable[[dict], bool],
    verify: Callable[[dict], bool] | None,
) -> dict | None:
    """``rec`` without its signature when it may be used, else None (and why, in the log)."""
    if not isinstance(rec, dict):
        return None
    if key is not None:
        mac = rec.get("hmac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _record_mac(key, memo_key, rec)):
            log.warning(
                "fncache: ignoring the %s record in %s: it is not signed with "
                "config.signing_key; detecting again",
                what,
                path,
            )
            return None
        trusted = True
    plain = {k: v for k, v in rec.items() if k != "hmac"}
    if valid(plain) and (trusted or verify is None or verify(plain)):
        return plain
    log.warning(
        "fncache: ignoring the %s record in %s: it does not fit this CPU or compiler; detecting again",
        what,
        path,
    )
    return None


def host_memo(
    what: str,
    compute: Callable[[dict | None], dict],
    valid: Callable[[dict], bool],
    *,
    verify: Callable[[dict], bool] | None = None,
) -> dict:
    """Return ``compute()`` for this host, compiler and CPU, remembered in the host files.

    Records are hints, never trusted blindly.  The user's private file (``~/.cache/fncache-hosts``)
    is read; the compiledir's ``hosts/<host>.json`` only when there is no private one, since
    anyone who can write the compiledir can write it.  ``valid`` checks every record read back
    (e.g. that its CPU features are this CPU's); ``verify``, when given, additionally checks a
    record from the compiledir that no ``signing_key`` vouches for (it may run the compiler).
    With ``config.signing_key`` set, records carry an HMAC and one without a good one is ignored.
    A bad or missing record is recomputed and written to both files; a record is never copied
    from the compiledir into the private file.  ``compute`` is given the private file's record
    that was refused (None when there was none): its fields are unverified, so it may only take
    from it what it confirms itself.
    """
    from ..fs.signing import signing_key

    cxx = cxx_command()
    memo_key = f"{what}|{' '.join(cxx)}|{_compiler_file_stamp(cxx[0])}|{cpu_fingerprint()}"
    key = signing_key()
    user_dir = user_host_dir()
    private = (user_dir / f"{host_name()}.json", 0o600) if user_dir is not None else None
    shared = _shared_host_file()
    place, trusted = (private, True) if private is not None else (shared, False)
    refused = None
    if place is not None:
        rec = _read_records(place[0]).get(memo_key)
        found = _checked(rec, what, place[0], memo_key, key, trusted, valid, verify)
        if found is not None:
            if place is private and shared is not None:  # show it in the compiledir too
                _write_record(shared[0], shared[1], memo_key, rec)
            return found
        if place is private and isinstance(rec, dict):
            refused = {k: v for k, v in rec.items() if k != "hmac"}
    rec = compute(refused)
    stored = {**rec, "hmac": _record_mac(key, memo_key, rec)} if key is not None else rec
    if _compiler_unchanged(memo_key):  # nothing is kept about a compiler that is not there
        for place in (private, shared):
            if place is not None:
                _write_record(place[0], place[1], memo_key, stored)
    return rec


def _cc1_line(stderr: str) -> list[str] | None:
    """The tokens of the cc1 line (gcc) or -cc1 line (clang) a ``-v`` driver call printed."""
    for line in stderr.splitlines():
        tokens = split_args(line) if line.startswith(" ") else []
        if tokens and (os.path.basename(tokens[0]) in ("cc1", "cc1plus") or "-cc1" in tokens[1:2]):
            return tokens
    return None


def _arch_units(tokens: list[str]) -> list[str]:
    """The target-describing tokens of a cc1 line, ``--param x=y`` folded into ``--param=x=y``."""
    units = []
    it = iter(tokens)
    for t in it:
        if t == "--param":
            units.append(f"--param={next(it, '')}")
        elif t.startswith("--param="):
            units.append(t)
        elif t.startswith("-m") and not t.startswith("-mllvm"):
            units.append(t)
    return units


def _test_compile(cxx: list[str], flags: list[str]) -> bool:
    """Compile a small vectorisable loop with ``flags``: catches an assembler too old for the CPU."""
    import subprocess

    from .process import run_tool

    program = (
        "double f(const double *a, const double *b, int n)"
        "{double s = 0; for (int i = 0; i < n; ++i) s += a[i] * b[i]; return s;}\n"
    )
    try:
        # -pipe: the assembler reads the compiler's output from a pipe, so a run killed
        # outright leaves no temporary file behind
        proc = run_tool([*cxx, *flags, "-pipe", "-O2", "-x", "c", "-c", "-", "-o", os.devnull], input=program)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def _native_flags(
    cxx: list[str], alongside: list[str] | None = None, tmpdir: str | None = None
) -> tuple[list[str], str | None, bool]:
    """``-march=native`` expanded by the compiler ([]: generic code, when anything fails), the
    ISA macros the compiler defines for it when they are those of the expanded flags too (gcc:
    its driver hands cc1 exactly the expanded options), else None, and whether the compiler call
    ``alongside`` (run at the same time, its temporary files in ``tmpdir``) succeeded.

    One run asks for both (``-dM -E -v``); the run without ``-march`` that names the driver's
    own defaults goes alongside it."""
    runs = run_side_by_side(
        [
            [*cxx, "-march=native", "-dM", "-E", "-v", "-"],
            [*cxx, "-E", "-v", "-"],
            *([alongside] if alongside else []),
        ],
        tmpdir,
    )
    other_ok = alongside is not None and runs[2] is not None and runs[2][0] == 0
    native, plain = (_cc1_line(r[2]) if r is not None else None for r in runs[:2])
    if native is None or plain is None:
        log.warning("march detection: %s printed no cc1 line; building generic code", cxx[0])
        return [], None, other_ok
    macros: str | None = None
    if "-cc1" in native[1:2]:  # clang: only the CPU name maps cleanly onto a driver flag
        cpu = native[native.index("-target-cpu") + 1] if "-target-cpu" in native else None
        flags = [f"-march={cpu}"] if cpu else []
    else:
        base = set(_arch_units(plain))
        flags = [u for u in _arch_units(native) if u not in base]
        macros = runs[0][1] if runs[0] is not None else None
    if not any(f.startswith("-march=") for f in flags):
        log.warning("march detection: no -march= in %s's native flags; building generic code", cxx[0])
        return [], None, other_ok
    return flags, macros, other_ok


def _earlier_width(earlier: dict | None, flags: list[str], isa: frozenset[str]) -> dict | None:
    """The vector width an earlier detection of this host chose, when its record describes the
    same flags as this detection: a width measured again can differ (timings move with the
    machine's load), and a host whose processes chose differently would split its cache, e.g.
    between its processes with and without ``signing_key`` (those refuse a record without the
    key's signature).  The width only shapes code for speed: it never selects a CPU feature."""
    if not earlier or earlier.get("flags") != flags or earlier.get("isa") != sorted(isa):
        return None
    width, ns = earlier.get("vector_width"), earlier.get("ns_per_element")
    if width not in candidates(isa) or not isinstance(ns, dict):
        return None
    if not all(w in WIDTHS and isinstance(t, (int, float)) for w, t in ns.items()):
        return None
    return {"vector_width": width, "ns_per_element": dict(ns)}


def _detect(cxx: list[str], earlier: dict | None = None) -> dict:
    """This CPU's flags and the features they select: the compiler's ``-march=native`` when it
    describes this CPU, else flags made from ``cpuid`` (the compiler runs on another CPU than
    this process, e.g. natively while Python runs under an emulator), else generic code.
    ``detect_seconds`` says what detecting and tuning cost (also logged).

    The vector width's timing library is compiled with ``-march=native`` at the same time as
    the detection runs: with gcc that is the same code as with the expanded flags (its driver
    expands them for cc1), so it is used when the expanded flags turn out to be gcc's own for
    this CPU, and built again with the final flags otherwise.  ``earlier``: this host's refused
    record, whose vector width is kept when it describes the same flags (:func:`_earlier_width`)."""
    from ..fs.workdirs import WorkDir

    t0 = time.perf_counter()
    with WorkDir() as work:
        d = work.path
        guess = candidates(cpu_features())
        early = build_argv(cxx, ["-march=native"], guess, d) if len(guess) > 1 else None
        flags, native_macros, early_ok = _native_flags(cxx, alongside=early, tmpdir=str(d))
        if flags and native_macros is not None:
            remember_isa(cxx, flags, isa_of_macros(native_macros))
        isa = isa_of(cxx, flags) if flags else frozenset()
        missing = sorted(isa - cpu_features())
        built = (
            d / "tune.so"
            if (early_ok and native_macros is not None and not missing and candidates(isa) == guess)
            else None
        )
        if missing:
            log.warning(
                "march detection: %s's -march=native selects CPU features this process's "
                "CPU lacks (%s): the compiler runs on another CPU. Building for this "
                "CPU's own features (cpuid) instead",
                cxx[0],
                ", ".join(missing),
            )
            flags = cpu_flags()
            isa = isa_of(cxx, flags) if flags else frozenset()
            if not isa <= cpu_features():
                log.warning(
                    "march detection: %s cannot target this CPU exactly; building generic code", cxx[0]
                )
                flags, isa = [], frozenset()
        tuned = choose_vector_width(cxx, flags, isa, built=built) if flags else None
    kept = _earlier_width(earlier, flags, isa) if tuned is not None else None
    if kept is not None and kept["vector_width"] != tuned["vector_width"]:
        log.info(
            "vector width: keeping %s, chosen when this host was detected before (measured now: %s)",
            kept["vector_width"],
            tuned["vector_width"],
        )
    tuned = kept or tuned
    # The tuning kernel was compiled and run with these flags: that is the test compile.
    if flags and tuned is None and not _test_compile(cxx, flags):
        log.warning("march detection: a test compile with %s failed; building generic code", join_args(flags))
        flags, isa = [], frozenset()
    seconds = time.perf_counter() - t0
    log.info(
        "march detection for %s: %s, vector width %s, %.0f ms (once per host and compiler)",
        cxx[0],
        next((f for f in flags if f.startswith("-march=")), "generic code"),
        (tuned or {}).get("vector_width", "default"),
        1e3 * seconds,
    )
    return {
        "flags": flags,
        "isa": sorted(isa),
        **(tuned or {"vector_width": "default", "ns_per_element": {}}),
        "detect_seconds": round(seconds, 3),
    }


def _valid_march(rec: dict) -> bool:
    """A march record may be used on this CPU: safe tokens, and neither its recorded features
    nor its ``-m<feature>`` flags name a feature this CPU lacks."""
    flags, isa = rec.get("flags"), rec.get("isa")
    if rec.get("vector_width") not in WIDTHS or not isinstance(rec.get("ns_per_element"), dict):
        return False
    if not (
        isinstance(flags, list)
        and isinstance(isa, list)
        and all(isinstance(t, str) and _SAFE_TOKEN.fullmatch(t) for t in flags)
        and all(isinstance(f, str) for f in isa)
    ):
        return False
    return (set(isa) | flag_features(flags)) <= cpu_features()


def _verified_march(cxx: list[str]) -> Callable[[dict], bool]:
    """For a record nobody vouches for: the compiler itself says what its flags select."""

    def verify(rec: dict) -> bool:
        from ..errors import CompileError

        try:
            return isa_of(cxx, rec["flags"]) == frozenset(rec["isa"])
        except CompileError:
            return False

    return verify


def _auto_record() -> dict:
    cxx = cxx_command()
    key = " ".join(cxx)
    found = _march_by_cxx.get(key)
    if found is None:
        found = _march_by_cxx[key] = host_memo(
            "march", lambda earlier: _detect(cxx, earlier), _valid_march, verify=_verified_march(cxx)
        )
    return found


def _explicit_flags(value: str) -> list[str]:
    """``config.march`` given as flags: used when this CPU can run what they select, else this
    CPU's detected flags (code it cannot run would end the process with SIGILL)."""
    from ..errors import CompileError

    flags = split_args(value)
    try:
        check_features(isa_of(cxx_command(), flags), f"code built with config.march={value!r}")
    except CompileError as e:
        log.warning("fncache: %s; building for this CPU (march=auto) instead", e)
        return list(_auto_record()["flags"])
    return flags


def host_march_flags() -> list[str]:
    """This host's target flags per ``config.march``: ``auto`` (detected), ``none`` ([]), or a
    flags string, then the vector width's flag; never flags selecting CPU features this
    process's CPU lacks.

    Memoised per process (re-evaluated when any flag changes) and, for ``auto``, per host on disk.
    """
    return list(_target()[0])


def host_isa() -> frozenset[str]:
    """The CPU features this host's detected flags select, as the compiler reported them at
    detection (``march=auto``)."""
    return frozenset(_auto_record()["isa"])


def host_tuning() -> dict:
    """What this host's detection measured (``march=auto``): ``ns_per_element`` per vector
    width timed, the width it chose, and ``detect_seconds`` (None in a record written before
    that was kept)."""
    rec = _auto_record()
    return {
        "vector_width": rec["vector_width"],
        "ns_per_element": dict(rec["ns_per_element"]),
        "detect_seconds": rec.get("detect_seconds"),
    }


def host_vector_width() -> str:
    """The vector width code is built for: ``config.vector_width``, or with ``auto`` what was
    measured fastest on this CPU when it was detected (``default`` unless ``march=auto``)."""
    return _target()[1]


def _target() -> tuple[list[str], str]:
    global _fast
    fast = _fast
    if fast is not None and fast[0] == config.version:
        return fast[1], fast[2]
    with _lock:
        value = config.march.strip()
        width = config.vector_width
        if value == "auto":
            rec = _auto_record()
            flags = list(rec["flags"])
            if width == "auto":
                width = rec["vector_width"]
        elif value == "none":
            flags = []
        else:
            flags = _explicit_flags(value)
        if width == "auto":
            width = "default"
        flags += width_flags(width)
        _fast = (config.version, flags, width)
        return flags, width
