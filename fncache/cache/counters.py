"""Usage counters that cost a hit one ``write()`` and take no lock.

Each process appends one short line per event (hit, miss, compile) to the log of its host and
day, ``stats/<host>.<YYYYMMDD>.log``, opened with ``O_APPEND``: appends of a few dozen bytes from
processes of one host are atomic (on NFS too, since one client serialises its own appends), so
there is no lock and no shared index to rewrite.  Readers (``info``, ``stats``, ``entries``) sum
the logs.  So that logs do not pile up, the first process of a day on a host folds that host's
logs older than yesterday into ``stats/<host>.summary.json`` under a per-host lock that only
processes of that host take.  The summary records which logs it folded, so a crash between
writing the summary and deleting the logs cannot count them twice.

Last use of an entry is not logged: it is the mtime of its ``meta.json`` (see entry.py).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..fs.layout import Layout
from ..fs.perms import chmod_file
from ..fs.safedir import Foreign, opened, parse_json, read_file, replace_file

__all__ = ["StatsLog", "Totals", "read_totals"]

log = logging.getLogger("fncache.cache")

#: The day's log is appended to; never through a link planted under its name.
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC

EVENTS = ("hit", "miss", "compile")
_COUNTERS = ("hits", "misses", "compiles", "compile_seconds", "saved_seconds")


def _day(t: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(t))


def _zero() -> dict[str, float]:
    return dict.fromkeys(_COUNTERS, 0)


class Totals:
    """Counters per host and kind, and hits per entry digest. (A plain class, not a dataclass:
    a cache hit imports this module, and making a dataclass costs about a millisecond.)"""

    __slots__ = ("by_host_kind", "hits_by_entry")

    def __init__(self) -> None:
        self.by_host_kind: dict[str, dict[str, dict[str, float]]] = {}
        self.hits_by_entry: dict[str, int] = {}

    def add_line(self, host: str, line: str) -> None:
        parts = line.split()
        if len(parts) != 4 or parts[0] not in EVENTS:
            return  # a torn line from a process killed mid-write: ignore it
        event, kind, digest, seconds = parts
        try:
            secs = float(seconds)
        except ValueError:
            return
        c = self.by_host_kind.setdefault(host, {}).setdefault(kind, _zero())
        if event == "hit":
            c["hits"] += 1
            c["saved_seconds"] += secs
            self.hits_by_entry[digest] = self.hits_by_entry.get(digest, 0) + 1
        elif event == "miss":
            c["misses"] += 1
        else:
            c["compiles"] += 1
            c["compile_seconds"] += secs

    def merge(self, data: dict[str, Any]) -> None:
        for host, kinds in data.get("by_host_kind", {}).items():
            for kind, counters in kinds.items():
                c = self.by_host_kind.setdefault(host, {}).setdefault(kind, _zero())
                for name in _COUNTERS:
                    c[name] += counters.get(name, 0)
        for digest, n in data.get("hits_by_entry", {}).items():
            self.hits_by_entry[digest] = self.hits_by_entry.get(digest, 0) + n

    def total(self, name: str) -> float:
        return sum(c[name] for kinds in self.by_host_kind.values() for c in kinds.values())

    def per_host(self) -> dict[str, dict[str, float]]:
        out = {}
        for host, kinds in self.by_host_kind.items():
            acc = _zero()
            for c in kinds.values():
                for name in _COUNTERS:
                    acc[name] += c[name]
            out[host] = acc
        return out

    def per_kind(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for kinds in self.by_host_kind.values():
            for kind, c in kinds.items():
                acc = out.setdefault(kind, _zero())
                for name in _COUNTERS:
                    acc[name] += c[name]
        return out


def _parse_log_name(name: str) -> tuple[str, str] | None:
    """``<host>.<YYYYMMDD>.log`` -> (host, day)."""
    if not name.endswith(".log"):
        return None
    host, _, day = name[:-4].rpartition(".")
    return (host, day) if host and len(day) == 8 and day.isdigit() else None


def _read_log(path: Path, host: str, totals: Totals) -> None:
    try:  # never through a link, never blocking on a FIFO planted under a log's name
        text = read_file(path)[0].decode(errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        totals.add_line(host, line)


def _summary_path(layout: Layout, host: str) -> Path:
    return layout.stats / f"{host}.summary.json"


def _load_summary(path: Path) -> dict[str, Any]:
    """A host's summary with only the well-typed parts kept: the file is written by any process
    of any host, so a damaged or foreign one must not make ``stats`` fail (it is reported)."""
    try:
        data = parse_json(read_file(path)[0])
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.warning("fncache: ignoring the unreadable stats summary %s: %s", path, e)
        return {}
    if not isinstance(data, dict):
        data = {"by_host_kind": data}
    dropped: list[str] = []

    def mapping(value: Any, what: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        dropped.append(what)
        return {}

    by_host_kind: dict[str, dict[str, dict[str, float]]] = {}
    for host, kinds in mapping(data.get("by_host_kind", {}), "by_host_kind").items():
        for kind, counters in mapping(kinds, f"host {host!r}").items():
            counters = mapping(counters, f"kind {kind!r}")
            good = {name: n for name, n in counters.items() if name in _COUNTERS and _is_count(n)}
            if len(good) != len(counters):
                dropped.append(f"counters of {host!r}/{kind!r}")
            by_host_kind.setdefault(host, {})[kind] = good
    hits = mapping(data.get("hits_by_entry", {}), "hits_by_entry")
    hits_by_entry = {d: n for d, n in hits.items() if _is_count(n) and isinstance(n, int)}
    if len(hits_by_entry) != len(hits):
        dropped.append("hits_by_entry")
    folded = data.get("folded", [])
    if not (isinstance(folded, list) and all(isinstance(n, str) for n in folded)):
        dropped.append("folded")
        folded = []
    if dropped:
        log.warning(
            "fncache: stats summary %s has malformed parts (%s); ignoring them", path, ", ".join(dropped)
        )
    return {"by_host_kind": by_host_kind, "hits_by_entry": hits_by_entry, "folded": folded}


def _is_count(n: Any) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 0 and n == n and n != float("inf")


def read_totals(layout: Layout) -> Totals:
    """Sum every host's summary and every log not yet folded into it."""
    totals = Totals()
    try:
        names = sorted(os.listdir(layout.stats))
    except FileNotFoundError:
        return totals
    folded: set[str] = set()
    for name in names:
        if name.endswith(".summary.json"):
            data = _load_summary(layout.stats / name)
            totals.merge(data)
            folded.update(data.get("folded", []))
    for name in names:
        parsed = _parse_log_name(name)
        if parsed and name not in folded:
            _read_log(layout.stats / name, parsed[0], totals)
    return totals


class StatsLog:
    """This process's appender for one compiledir; also folds this host's old logs once a day."""

    def __init__(self, layout: Layout, host: str):
        self.layout = layout
        self.host = host
        self._fd: int | None = None
        self._fd_day = ""
        self._fd_pid = 0
        self._lock = threading.Lock()

    def record(self, event: str, kind: str, digest: str, seconds: float = 0.0) -> None:
        """Append one event; never raises (statistics must not break a lookup)."""
        line = f"{event} {kind} {digest} {seconds:.6f}\n".encode()
        try:
            os.write(self._handle(), line)
        except OSError as e:
            log.debug("fncache stats: cannot append to %s: %s", self.layout.stats, e)
            self._fd = None

    def _handle(self) -> int:
        now = time.time()
        day = _day(now)
        fd = self._fd
        if fd is not None and day == self._fd_day and self._fd_pid == os.getpid():
            return fd
        with self._lock:
            if self._fd is not None and self._fd_pid == os.getpid():
                os.close(self._fd)
            path = self.layout.stats / f"{self.host}.{day}.log"
            mode = self.layout.file_mode or 0o644
            try:
                fd = os.open(path, _APPEND, mode)
            except FileNotFoundError:
                os.makedirs(self.layout.stats, exist_ok=True)
                fd = os.open(path, _APPEND, mode)
            chmod_file(fd, self.layout.file_mode)
            self._fd, self._fd_day, self._fd_pid = fd, day, os.getpid()
            self.fold(older_than_day=_day(now - 86400))
            return fd

    def fold(self, older_than_day: str) -> None:
        """Fold this host's logs of days before ``older_than_day`` into its summary (skips if busy)."""
        old = []
        try:
            for name in os.listdir(self.layout.stats):
                parsed = _parse_log_name(name)
                if parsed and parsed[0] == self.host and parsed[1] < older_than_day:
                    old.append(name)
        except OSError:
            return
        if not old:
            return
        import filelock

        mode = {"mode": self.layout.file_mode} if self.layout.file_mode is not None else {}
        guard = filelock.FileLock(str(self.layout.stats / f"{self.host}.fold.lock"), timeout=0, **mode)
        try:
            guard.acquire()
        except (filelock.Timeout, OSError):
            return
        try:
            self._fold_locked(old)
        except (OSError, Foreign) as e:  # statistics must not break a lookup; next day tries again
            log.debug("fncache stats: cannot fold %s: %s", self.layout.stats, e)
        finally:
            guard.release()

    def _fold_locked(self, old: list[str]) -> None:
        path = _summary_path(self.layout, self.host)
        summary = _load_summary(path)
        done = set(summary.get("folded", []))
        totals = Totals()
        totals.merge(summary)
        fresh = [n for n in old if n not in done]
        for name in fresh:
            _read_log(self.layout.stats / name, self.host, totals)
        entries_dir = self.layout.entries
        hits = {d: n for d, n in totals.hits_by_entry.items() if (entries_dir / d[:2] / d).exists()}
        new = {
            "by_host_kind": totals.by_host_kind,
            "hits_by_entry": hits,
            "folded": sorted(fresh),
            "updated": time.time(),
        }
        replace_file(path, json.dumps(new, sort_keys=True).encode(), self.layout.file_mode)
        with opened(self.layout.root, "stats") as dfd:  # never deletes through a planted link
            for name in old:
                try:
                    os.unlink(name, dir_fd=dfd)
                except FileNotFoundError:
                    pass
