"""A hash of the compiler's own source (front end, rewrites, code generators).

It is a named key component of every function and module entry, so upgrading or editing
fncache can never serve an entry built by different compiler code (a stale cache is the
classic reason users delete ~/.theano). It hashes file *contents* (a reinstall of the same
version keeps every entry valid) and remembers the result next to the package, keyed by the
files' sizes and mtimes, so a process normally pays one ``stat`` per file.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["compiler_fingerprint"]

_PARTS = ("graph", "tensor", "rewrite", "codegen", "runtime", "mode.py", "config.py")
_SUFFIXES = (".py", ".h", ".cuh")
_fp: str | None = None


def _files(root: Path) -> list[Path]:
    out: list[Path] = []
    for part in _PARTS:
        p = root / part
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                out += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(_SUFFIXES)]
        elif p.is_file():
            out.append(p)
    return out


def compiler_fingerprint() -> str:
    global _fp
    if _fp is not None:
        return _fp
    root = Path(__file__).resolve().parent.parent
    files = _files(root)
    stamp = hashlib.sha256()
    for f in files:
        st = f.stat()
        stamp.update(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    memo = root / "__pycache__" / "fncache-fingerprint.json"
    try:
        saved = json.loads(memo.read_text())
        if saved.get("stamp") == stamp.hexdigest():
            _fp = str(saved["fingerprint"])
            return _fp
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    _fp = h.hexdigest()[:16]
    try:
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"stamp": stamp.hexdigest(), "fingerprint": _fp}))
        os.replace(tmp, memo)
    except OSError:
        pass  # a read-only install recomputes it each process (a few ms)
    return _fp
