"""This host's CPU flags (``-march=native`` expanded) and platform tag, remembered per host.

Why expand ``-march=native``: a cache key holding the literal ``-march=native`` is the same on
every host, so a mixed cluster would load code built for a richer CPU and die with SIGILL
(sccache #2140, Theano #4783).  The expanded flags name exactly what the code may use, so hosts
with identical CPUs share entries and others never load them.

Detection costs a few compiler runs (~30 ms), so its result is kept in
``<compiledir>/hosts/<hostname>.json`` keyed by the compiler binary (path, size, mtime) and the
CPU (``/proc/cpuinfo`` model and flags): a later process on this host pays one small file read.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import sys
import threading
from pathlib import Path
from typing import Callable

from ..config import config

__all__ = ["host_march_flags", "host_platform_tag", "host_name", "cxx_command", "host_memo"]

log = logging.getLogger(__name__)

#: Tokens a detected march list may hold; anything else read back from a host file is ignored,
#: so a tampered host file cannot smuggle e.g. ``-fplugin=`` into every compile.
_SAFE_TOKEN = re.compile(r"-m[A-Za-z0-9][A-Za-z0-9_.=+,-]*|--param=[A-Za-z0-9_-]+=[0-9]+")

_lock = threading.RLock()
_march_by_cxx: dict[str, list[str]] = {}
_fast: tuple[int, list[str]] | None = None
_platform_tag: str | None = None


def host_name() -> str:
    """The node name (``os.uname`` avoids importing :mod:`socket` on the hit path)."""
    return os.uname().nodename or "localhost"


def cxx_command() -> list[str]:
    """``config.cxx`` as an argv prefix (it may hold a wrapper, e.g. ``ccache gcc``)."""
    cmd = shlex.split(config.cxx)
    if not cmd:
        raise ValueError("config.cxx is empty")
    return cmd


def host_platform_tag() -> str:
    """``<os>-<machine>-<python tag>``, e.g. ``linux-x86_64-cp311``: what a binary entry needs to match."""
    global _platform_tag
    if _platform_tag is None:
        impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
        _platform_tag = (f"{sys.platform}-{os.uname().machine}-"
                         f"{impl}{sys.version_info.major}{sys.version_info.minor}")
    return _platform_tag


def _cpu_fingerprint() -> str:
    """Model and feature flags of the first CPU: distinguishes hosts that share a hostname (containers)."""
    try:
        with open("/proc/cpuinfo", "rb") as f:
            block = f.read(16384).split(b"\n\n", 1)[0]
    except OSError:
        return os.uname().machine
    keep = [ln for ln in block.splitlines()
            if ln.split(b":", 1)[0].strip() in (b"vendor_id", b"model name", b"flags", b"Features",
                                                   b"CPU part", b"cpu family", b"model")]
    return hashlib.sha256(b"\n".join(keep)).hexdigest()[:16]


def _compiler_fingerprint(program: str) -> str:
    """Identify the compiler binary without running it: resolved path, size and mtime."""
    path = shutil.which(program) or program
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
        return f"{real}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return real


def _host_files() -> list[tuple[Path, int | None]]:
    """Where host data is remembered, most specific first: ``<compiledir>/hosts/<host>.json``
    (what the cache's tools show), then a private per-user file, so that a new or emptied
    compiledir on a known host does not detect the CPU and compiler again."""
    from ..cache.perms import layout_for
    from ..errors import CacheError
    out: list[tuple[Path, int | None]] = []
    try:
        layout = layout_for(config.compiledir)
        out.append((layout.hosts / f"{host_name()}.json", layout.file_mode))
    except (CacheError, OSError) as e:
        log.debug("not remembering host data in the compiledir: %s", e)
    user_dir = user_host_dir()
    if user_dir is not None:
        out.append((user_dir / f"{host_name()}.json", 0o600))
    return out


def user_host_dir() -> Path | None:
    """This user's private directory for per-host data (0700, refused if others can write it),
    or None when there is none."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    user_dir = Path(base, "fncache-hosts")
    try:
        user_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = user_dir.stat()
        if st.st_uid == os.getuid() and not st.st_mode & 0o022:
            return user_dir
        log.debug("not using %s for host data: it is not private to this user", user_dir)
    except OSError as e:
        log.debug("no per-user host data: %s", e)
    return None


def host_memo(what: str, compute: Callable[[], dict], valid: Callable[[dict], bool]) -> dict:
    """Return ``compute()`` for this host, compiler and CPU, remembered in the host files.

    ``valid`` checks a remembered record before it is trusted; a bad or missing record is
    recomputed and written back (atomic replace; a lost race only costs a recomputation).
    """
    cxx = cxx_command()
    memo_key = f"{what}|{' '.join(cxx)}|{_compiler_fingerprint(cxx[0])}|{_cpu_fingerprint()}"
    places = _host_files()
    found: dict | None = None
    stale: list[tuple[Path, int | None, dict]] = []
    for path, mode in places:
        records: dict = {}
        try:
            loaded = json.loads(path.read_bytes())
            records = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            pass
        rec = records.get(memo_key)
        if found is None and isinstance(rec, dict) and valid(rec):
            found = rec
        elif rec != found or found is None:
            stale.append((path, mode, records))
    rec = found if found is not None else compute()
    for path, mode, records in stale:
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
    return rec


def _cc1_line(argv: list[str]) -> list[str] | None:
    """Run ``argv`` (a ``-E -v -`` call) and return the tokens of its cc1 line (gcc) or -cc1 line (clang)."""
    import subprocess
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("march detection: cannot run %s: %s", shlex.join(argv), e)
        return None
    for line in proc.stderr.splitlines():
        tokens = shlex.split(line) if line.startswith(" ") else []
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
    program = ("double f(const double *a, const double *b, int n)"
               "{double s = 0; for (int i = 0; i < n; ++i) s += a[i] * b[i]; return s;}\n")
    try:
        proc = subprocess.run([*cxx, *flags, "-O2", "-x", "c", "-c", "-", "-o", os.devnull],
                              input=program, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def _detect(cxx: list[str]) -> list[str]:
    """Expand ``-march=native`` as FIELD.md describes; [] (generic code) when anything fails."""
    native = _cc1_line([*cxx, "-march=native", "-E", "-v", "-"])
    plain = _cc1_line([*cxx, "-E", "-v", "-"])
    if native is None or plain is None:
        log.warning("march detection: %s printed no cc1 line; building generic code", cxx[0])
        return []
    if "-cc1" in native[1:2]:  # clang: only the CPU name maps cleanly onto a driver flag
        cpu = native[native.index("-target-cpu") + 1] if "-target-cpu" in native else None
        flags = [f"-march={cpu}"] if cpu else []
    else:
        base = set(_arch_units(plain))
        flags = [u for u in _arch_units(native) if u not in base]
    if not any(f.startswith("-march=") for f in flags):
        log.warning("march detection: no -march= in %s's native flags; building generic code", cxx[0])
        return []
    if not _test_compile(cxx, flags):
        log.warning("march detection: a test compile with %s failed; building generic code",
                    shlex.join(flags))
        return []
    return flags


def _auto_flags() -> list[str]:
    cxx = cxx_command()
    key = " ".join(cxx)
    found = _march_by_cxx.get(key)
    if found is None:
        rec = host_memo("march", lambda: {"flags": _detect(cxx)},
                        lambda r: isinstance(r.get("flags"), list)
                        and all(isinstance(t, str) and _SAFE_TOKEN.fullmatch(t) for t in r["flags"]))
        found = _march_by_cxx[key] = list(rec["flags"])
    return found


def host_march_flags() -> list[str]:
    """This host's target flags per ``config.march``: ``auto`` (detected), ``none`` ([]), or a flags string.

    Memoised per process (re-evaluated when any flag changes) and, for ``auto``, per host on disk.
    """
    global _fast
    fast = _fast
    if fast is not None and fast[0] == config.version:
        return list(fast[1])
    with _lock:
        value = config.march.strip()
        if value == "auto":
            flags = _auto_flags()
        elif value == "none":
            flags = []
        else:
            flags = shlex.split(value)
        _fast = (config.version, flags)
        return list(flags)
