"""A precompiled header of the generated modules' prelude (Python.h, numpy's headers, helpers).

Parsing those headers is ~0.1 s of every gcc call, about a third of a small module's build. The
header is precompiled once per host, compiler and flag set, in this user's private host
directory (never in a shared compiledir: whoever can write a .gch chooses the code compiled
with it). The first compile that finds none starts the build in a detached process and
compiles without it; later compiles, in any process and any compiledir, use it. A module built
with it is the same code as one built without, so it is not part of any cache key; if gcc
rejects it, the module is compiled again without it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Sequence

from .march import cxx_command, user_host_dir

__all__ = ["HEADER", "prelude_pch"]

log = logging.getLogger(__name__)

HEADER = "fc_prelude.h"
_BUILD_GRACE = 120.0  # seconds an unfinished build is trusted to still be running
_KEEP = 4             # precompiled headers kept per user (one per compiler and flag set)


def prelude_pch(prelude: str, flags: Sequence[str], compiler_version: str) -> Path | None:
    """The directory holding ``fc_prelude.h`` and its ``.gch`` for these flags, or None (a
    build is then started in the background)."""
    root = user_host_dir()
    if root is None:
        return None
    tag = hashlib.sha256("\0".join([prelude, *cxx_command(), compiler_version, *flags])
                         .encode()).hexdigest()[:20]
    pdir = root / "pch" / tag
    if (pdir / f"{HEADER}.gch").is_file():
        try:
            os.utime(pdir)  # recently used: kept when old ones are pruned
        except OSError:
            pass
        return pdir
    _prune(root / "pch")
    _start_build(pdir, prelude, flags)
    return None


def _prune(parent: Path) -> None:
    """Keep the most recently used headers only (each is ~15 MB; flag sets come and go)."""
    import shutil
    try:
        dirs = sorted((d for d in parent.iterdir() if d.is_dir()),
                      key=lambda d: d.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in dirs[_KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def _start_build(pdir: Path, prelude: str, flags: Sequence[str]) -> None:
    marker = pdir / "building"
    try:
        if time.time() - marker.stat().st_mtime < _BUILD_GRACE:
            return  # another process is building it
    except OSError:
        pass
    try:
        pdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker.touch()
        tmp = pdir / f".{HEADER}.{os.getpid()}"
        tmp.write_text(prelude)
        os.replace(tmp, pdir / HEADER)
    except OSError as e:
        log.debug("not precompiling the prelude: %s", e)
        return
    out = pdir / f".{HEADER}.gch.{os.getpid()}"
    final = pdir / f"{HEADER}.gch"
    build = shlex.join([*cxx_command(), *flags, "-x", "c-header", str(pdir / HEADER),
                        "-o", str(out)])
    script = (f"{build} && mv -f {shlex.quote(str(out))} {shlex.quote(str(final))}; "
              f"rm -f {shlex.quote(str(out))} {shlex.quote(str(marker))}")
    try:
        subprocess.Popen(["/bin/sh", "-c", script], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        log.debug("precompiling the prelude in %s", pdir)
    except OSError as e:
        log.debug("not precompiling the prelude: %s", e)
