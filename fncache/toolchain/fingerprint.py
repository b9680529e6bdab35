"""A hash of the compiler's own source (front end, rewrites, code generators).

It is a named key component of every function and module entry, so upgrading or editing
fncache can never serve an entry built by different compiler code (a stale cache is the
classic reason users delete ~/.theano). It hashes file *contents* (a reinstall of the same
version keeps every entry valid) and remembers the result in the user's cache directory
(``~/.cache/fncache-fingerprint/``, or under ``$XDG_CACHE_HOME``), keyed by the install's path and its
files' sizes and mtimes, so a process normally pays one ``stat`` per file (other hashes of
those files are remembered with it: :func:`remembered`).  Nothing is ever
written into the installed package: pip does not remove such files, and a leftover
``fncache/`` directory in site-packages shadows a later editable install.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Callable

from ..config import user_cache_dir

__all__ = ["compiler_fingerprint", "remembered"]

_PARTS = ("graph", "tensor", "rewrite", "codegen", "runtime", "mode.py", "config.py")
_SUFFIXES = (".py", ".c", ".h", ".cuh")
_fp: str | None = None
#: the memo file, the stamp of the files it was computed from, and the values remembered with
#: it under that stamp (:func:`remembered`); set by :func:`compiler_fingerprint`
_memo: tuple[str, str, dict[str, str | None]] | None = None


def _stat_dir(root: str, rel: str, out: list[tuple[str, os.stat_result]]) -> None:
    """Append ``(path relative to root, stat)`` of the source files under ``rel``: this
    directory's files by name, then its subdirectories by name (``__pycache__`` left out).
    One ``scandir`` per directory: a warm cache hit in a fresh process pays this walk."""
    with os.scandir(os.path.join(root, rel)) as it:
        entries = sorted(it, key=lambda e: e.name)
    subdirs = []
    for e in entries:
        if e.is_dir():
            if e.name != "__pycache__" and not e.is_symlink():  # as os.walk: links not followed
                subdirs.append(e.name)
        elif e.name.endswith(_SUFFIXES):
            out.append((os.path.join(rel, e.name), e.stat()))
    for d in subdirs:
        _stat_dir(root, os.path.join(rel, d), out)


def _files(root: str) -> list[tuple[str, os.stat_result]]:
    """The compiler's source files, relative to the package root, in a stable order, with
    their ``stat``."""
    out: list[tuple[str, os.stat_result]] = []
    for part in _PARTS:
        p = os.path.join(root, part)
        if os.path.isdir(p):
            _stat_dir(root, part, out)
        elif os.path.isfile(p):
            out.append((part, os.stat(p)))
    return out


def compiler_fingerprint() -> str:
    global _fp, _memo
    if _fp is not None:
        return _fp
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = _files(root)
    stamp = hashlib.sha256()
    for f, st in files:
        stamp.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    memo = os.path.join(
        user_cache_dir("fncache-fingerprint"), hashlib.sha256(root.encode()).hexdigest()[:16] + ".json"
    )
    try:
        with open(memo) as fh:
            saved = json.load(fh)
        if saved.get("stamp") == stamp.hexdigest():
            derived = saved.get("derived", {})
            ok = isinstance(derived, dict) and all(isinstance(v, (str, type(None))) for v in derived.values())
            _memo = (memo, stamp.hexdigest(), derived if ok else {})
            _fp = str(saved["fingerprint"])
            return _fp
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.sha256()
    for f, _ in files:
        h.update(f.encode())
        with open(os.path.join(root, f), "rb") as fh:
            h.update(fh.read())
    _fp = h.hexdigest()[:16]
    _memo = (memo, stamp.hexdigest(), {})
    _save()
    return _fp


def remembered(name: str, compute: Callable[[], str | None]) -> str | None:
    """``compute()``, a value that depends on the compiler's source files alone (e.g. a hash of
    some of them), remembered with the fingerprint under the same stamp: computed again only
    when one of those files changed (their sizes and mtimes), not in every process."""
    compiler_fingerprint()
    if _memo is None:  # the fingerprint was set from outside (a test): nothing to remember with
        return compute()
    derived = _memo[2]
    if name not in derived:
        derived[name] = compute()
        _save()
    return derived[name]


def _save() -> None:
    """Write the memo file (the fingerprint, its stamp, the values remembered with it)."""
    if _memo is None:
        return
    memo, stamp, derived = _memo
    try:
        os.makedirs(os.path.dirname(memo), exist_ok=True)
        tmp = f"{memo}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump({"stamp": stamp, "fingerprint": _fp, "derived": derived}, fh)
        os.replace(tmp, memo)
    except OSError:
        pass  # no writable cache directory: each process recomputes it (a few ms)
