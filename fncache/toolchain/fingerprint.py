"""A hash of the compiler's own source (front end, rewrites, code generators).

It is a named key component of every function and module entry, so upgrading or editing
fncache can never serve an entry built by different compiler code (a stale cache is the
classic reason users delete ~/.theano). It hashes file *contents* (a reinstall of the same
version keeps every entry valid) and remembers the result in the user's cache directory
(``~/.cache/fncache-fingerprint/``, or under ``$XDG_CACHE_HOME``), keyed by the install's path and its
files' sizes and mtimes, so a process normally pays one ``stat`` per file.  Nothing is ever
written into the installed package: pip does not remove such files, and a leftover
``fncache/`` directory in site-packages shadows a later editable install.
"""

from __future__ import annotations

import hashlib
import json
import os

from ..config import user_cache_dir

__all__ = ["compiler_fingerprint"]

_PARTS = ("graph", "tensor", "rewrite", "codegen", "runtime", "mode.py", "config.py")
_SUFFIXES = (".py", ".c", ".h", ".cuh")
_fp: str | None = None


def _files(root: str) -> list[str]:
    """The compiler's source files, relative to the package root, in a stable order."""
    out: list[str] = []
    for part in _PARTS:
        p = os.path.join(root, part)
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                rel = os.path.relpath(dirpath, root)
                out += [os.path.join(rel, f) for f in sorted(filenames) if f.endswith(_SUFFIXES)]
        elif os.path.isfile(p):
            out.append(part)
    return out


def compiler_fingerprint() -> str:
    global _fp
    if _fp is not None:
        return _fp
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = _files(root)
    stamp = hashlib.sha256()
    for f in files:
        st = os.stat(os.path.join(root, f))
        stamp.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    memo = os.path.join(
        user_cache_dir("fncache-fingerprint"), hashlib.sha256(root.encode()).hexdigest()[:16] + ".json"
    )
    try:
        with open(memo) as fh:
            saved = json.load(fh)
        if saved.get("stamp") == stamp.hexdigest():
            _fp = str(saved["fingerprint"])
            return _fp
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode())
        with open(os.path.join(root, f), "rb") as fh:
            h.update(fh.read())
    _fp = h.hexdigest()[:16]
    try:
        os.makedirs(os.path.dirname(memo), exist_ok=True)
        tmp = f"{memo}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump({"stamp": stamp.hexdigest(), "fingerprint": _fp}, fh)
        os.replace(tmp, memo)
    except OSError:
        pass  # no writable cache directory: each process recomputes it (a few ms)
    return _fp
