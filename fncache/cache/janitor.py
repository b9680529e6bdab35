"""Removal of what crashed or finished processes leave behind, cheaply and without a cache scan.

Only small directories are listed: ``tmp/`` holds in-flight builds, ``trash/`` deletions in
progress, ``quarantine/`` and ``failed/`` what was set aside.  A process runs this at most once
every ``INTERVAL`` seconds and only on a miss (never on the hit path); ``verify`` and ``purge``
run it unconditionally.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

from .locks import pid_alive
from .perms import Layout

__all__ = ["Janitor"]

log = logging.getLogger("fncache.cache")

INTERVAL = 300.0
#: A staging dir older than this is abandoned even if its pid lives (pid reuse, or another host).
STAGING_MAX_AGE = 3600.0
#: Deletion of a trash item older than this was interrupted; finish it.
TRASH_MAX_AGE = 600.0
#: Set-aside material is kept this long for inspection.
KEEP_ASIDE = 7 * 86400.0


def _age(path: Path, now: float) -> float:
    try:
        return now - os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _names(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _staging_is_stale(name: str, path: Path, host: str, now: float) -> bool:
    """Staging dirs are named ``<host>.<pid>.<random>``: stale when that pid is dead here, or old."""
    parts = name.rsplit(".", 2)
    if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not pid_alive(int(parts[1])):
        return True
    return _age(path, now) > STAGING_MAX_AGE


class Janitor:
    """Per-process, per-compiledir cleaner with a rate limit."""

    def __init__(self, layout: Layout, host: str):
        self.layout = layout
        self.host = host
        self._last = 0.0
        self._lock = threading.Lock()

    def maybe_run(self) -> None:
        if time.monotonic() - self._last >= INTERVAL:
            self.run()

    def run(self, *, clear_aside: bool = False) -> list[str]:
        """Clean now; ``clear_aside`` also empties quarantine/ and failed/ whatever their age."""
        removed: list[str] = []
        with self._lock:
            self._last = time.monotonic()
            now = time.time()
            rules = ((self.layout.tmp, lambda n, p: _staging_is_stale(n, p, self.host, now)),
                     (self.layout.trash, lambda n, p: _age(p, now) > TRASH_MAX_AGE),
                     (self.layout.quarantine, lambda n, p: clear_aside or _age(p, now) > KEEP_ASIDE),
                     (self.layout.failed, lambda n, p: clear_aside or _age(p, now) > KEEP_ASIDE))
            for base, stale in rules:
                for name in _names(base):
                    path = base / name
                    if stale(name, path):
                        _remove(path)
                        removed.append(str(path.relative_to(self.layout.root)))
            leftovers = [(d, n) for d in (self.layout.root, self.layout.hosts, self.layout.stats)
                         for n in _names(d) if n.startswith(".") and ".json." in n]  # interrupted replaces
            for d, name in leftovers:
                if _age(d / name, now) > TRASH_MAX_AGE:
                    _remove(d / name)
        if removed:
            log.info("fncache: cleaned %d leftovers (%s)", len(removed), ", ".join(removed[:5]))
        return removed
