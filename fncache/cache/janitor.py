"""Removal of what crashed or finished processes leave behind, cheaply and without a cache scan.

Only small directories are listed, each through a descriptor that follows no link (see
:mod:`.safedir`), and only names of the shape the cache gives are deleted: ``tmp/`` holds
in-flight builds, ``trash/`` deletions in progress, ``quarantine/`` and ``failed/`` what was
set aside.  A process runs this at most once
every ``INTERVAL`` seconds and only on a miss (never on the hit path); ``verify`` and ``purge``
run it unconditionally.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import time
from pathlib import Path
from typing import Callable

from .locks import pid_alive
from ..fs.layout import Layout
from ..fs.safedir import Foreign, describe, lstat_at, names, open_dir, remove

__all__ = ["Janitor"]

log = logging.getLogger("fncache.cache")

INTERVAL = 300.0
#: A staging dir older than this is abandoned even if its pid lives (pid reuse, or another host).
STAGING_MAX_AGE = 3600.0
#: Deletion of a trash item older than this was interrupted; finish it.
TRASH_MAX_AGE = 600.0
#: Set-aside material is kept this long for inspection.
KEEP_ASIDE = 7 * 86400.0


#: The names the cache gives in each place (tmp: ``<host>.<pid>.<rand>``; trash: ``<name>.<rand>``;
#: quarantine: ``<digest>.<time>.<rand>``; failed: a plain file name); nothing else is touched.
_SHAPES = {
    "tmp": re.compile(r"[^/]+\.[0-9]+\.[0-9a-f]+"),
    "trash": re.compile(r"[^/]+\.[0-9a-f]+"),
    "quarantine": re.compile(r"[0-9a-f]{64}\.[0-9]+\.[0-9a-f]+"),
    "failed": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*"),
}
#: Interrupted atomic replaces of ``.<name>.json.<...>`` files (host records, stats, size.json).
_LEFTOVER = re.compile(r"\.[^/]*\.json\..+")


def _age(st: os.stat_result, now: float) -> float:
    return now - st.st_mtime


def _staging_is_stale(name: str, st: os.stat_result, host: str, now: float) -> bool:
    """Staging dirs are named ``<host>.<pid>.<random>``: stale when that pid is dead here, or old."""
    parts = name.rsplit(".", 2)
    if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not pid_alive(int(parts[1])):
        return True
    return _age(st, now) > STAGING_MAX_AGE


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

    def run(self, *, clear_aside: bool = False, foreign: list[str] | None = None) -> list[str]:
        """Clean now; ``clear_aside`` also empties quarantine/ and failed/ whatever their age.

        Each directory is walked through a descriptor opened without following links; names
        of a shape the cache never gives, and links in place of its directories, are appended
        to ``foreign`` (logged when it is None), never deleted or followed.
        """
        removed: list[str] = []
        seen: list[str] = [] if foreign is None else foreign
        with self._lock:
            self._last = time.monotonic()
            now = time.time()
            rules = (
                ("tmp", lambda n, st: _staging_is_stale(n, st, self.host, now)),
                ("trash", lambda n, st: _age(st, now) > TRASH_MAX_AGE),
                ("quarantine", lambda n, st: clear_aside or _age(st, now) > KEEP_ASIDE),
                ("failed", lambda n, st: clear_aside or _age(st, now) > KEEP_ASIDE),
            )
            for where, stale in rules:
                self._clean(where, _SHAPES[where], stale, removed, seen, report_names=True)
            for where in ("", "hosts", "stats"):
                self._clean(
                    where,
                    _LEFTOVER,
                    lambda n, st: not stat.S_ISDIR(st.st_mode) and _age(st, now) > TRASH_MAX_AGE,
                    removed,
                    seen,
                    report_names=False,
                )
        if removed:
            log.info("fncache: cleaned %d leftovers (%s)", len(removed), ", ".join(removed[:5]))
        if foreign is None:
            for why in seen:
                log.warning("fncache: %s", why)
        return removed

    def _clean(
        self,
        where: str,
        shape: re.Pattern[str],
        stale: Callable[[str, os.stat_result], bool],
        removed: list[str],
        foreign: list[str],
        *,
        report_names: bool,
    ) -> None:
        """Delete the stale items of ``where`` whose names have ``shape``; a link in place of
        ``where`` goes to ``foreign``, and so do other names with ``report_names``."""
        base = self.layout.root / where
        try:
            dfd = open_dir(self.layout.root, (where,) if where else ())
        except Foreign as e:
            foreign.append(str(e))
            return
        except OSError:
            return
        try:
            for name in names(dfd):
                if not shape.fullmatch(name):
                    if report_names:
                        foreign.append(describe(base / name))
                    continue
                try:
                    st = lstat_at(dfd, name)
                    if st is not None and stale(name, st):
                        remove(dfd, name)
                        removed.append(str(Path(where, name)))
                except OSError as e:
                    log.debug("fncache: cannot clean %s: %s", base / name, e)
        finally:
            os.close(dfd)
