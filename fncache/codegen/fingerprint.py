"""A hash of the compiler's own source (front end, rewrites, code generators).

It is a named key component of every function and module entry, so upgrading or editing
fncache can never serve an entry built by different compiler code (a stale cache is the
classic reason users delete ~/.theano). Computed once per process: a few ms.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["compiler_fingerprint"]

_PARTS = ("graph", "tensor", "rewrite", "codegen", "runtime", "mode.py", "config.py")
_fp: str | None = None


def compiler_fingerprint() -> str:
    global _fp
    if _fp is None:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for part in _PARTS:
            p = root / part
            files = sorted(p.rglob("*")) if p.is_dir() else [p]
            for f in files:
                if f.suffix in (".py", ".h", ".cuh") and f.is_file():
                    h.update(str(f.relative_to(root)).encode())
                    h.update(f.read_bytes())
        _fp = h.hexdigest()[:16]
    return _fp
