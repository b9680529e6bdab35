"""Size cap with least-recently-used eviction, without scanning the cache on every write.

A running total lives in ``size.json``; each publish adds its size to it (read, add, atomic
replace: no lock, so two simultaneous publishes can lose one addition, an undercount that the
next scan corrects).  The cache is scanned only when the total says it is over the cap, when
``size.json`` is missing, or once a day; an eviction then removes least recently used entries
down to 90% of the cap, so the next scan is many writes away.  Only one process evicts at a
time (a non-blocking lock: others skip, they do not wait).

Eviction renames an entry into ``trash/`` before deleting it, so a reader holding it open keeps
reading consistent files; entries used in the last ``RECENT_GRACE`` seconds are never evicted,
so a process that has just verified an entry can still read its larger files again.  Entries
being written are in ``tmp/`` and cannot be evicted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .entry import META, is_digest, remove_dir
from ..fs.layout import Layout
from ..fs.safedir import Foreign, describe, names, open_dir, open_sub, parse_json, read_file, replace_file

__all__ = ["EntryStat", "scan", "note_added", "evict_to", "write_size", "read_size", "rescan", "RECENT_GRACE"]

log = logging.getLogger("fncache.cache")

RECENT_GRACE = 10.0
RESCAN_SECONDS = 86400.0
LOW_WATER = 0.9
_SIZE_FILE = "size.json"
_SHARD = re.compile(r"[0-9a-f]{2}")
#: A meta.json is a few KiB; one larger than this is damage, not something to read into memory.
_META_LIMIT = 1 << 24


@dataclass
class EntryStat:
    """What eviction and listings need of one entry: found by one stat and one small read."""

    digest: str
    path: Path
    size: int
    last_used: float
    meta: dict[str, Any] | None


def scan(
    layout: Layout, shards: list[str] | None = None, *, foreign: list[str] | None = None
) -> list[EntryStat]:
    """Every published entry (or those of the given two-hex-digit shards), with size and last use.

    An entry whose ``meta.json`` is missing or unreadable is listed with ``meta=None`` and the
    size of its directory, so it can be evicted or reported by verify.  The walk never follows
    a link: links and names the cache never gives (anything but ``<2 hex>/<digest>`` directories)
    are not listed but appended to ``foreign`` (logged as warnings when it is None).
    """
    out: list[EntryStat] = []
    seen: list[str] = [] if foreign is None else foreign
    try:
        efd = open_dir(layout.root, ("entries",))
    except FileNotFoundError:
        return out
    except Foreign as e:
        seen.append(str(e))
        efd = None
    if efd is not None:
        try:
            _scan_entries(layout, efd, shards, out, seen)
        finally:
            os.close(efd)
    if foreign is None:
        for why in seen:
            log.warning("fncache: %s", why)
    return out


def _scan_entries(
    layout: Layout, efd: int, shards: list[str] | None, out: list[EntryStat], foreign: list[str]
) -> None:
    for shard in shards if shards is not None else names(efd):
        base = layout.entries / shard
        if not _SHARD.fullmatch(shard):
            foreign.append(describe(base))
            continue
        try:
            sfd = open_sub(efd, shard, base)
        except Foreign as e:
            foreign.append(str(e))
            continue
        if sfd is None:
            continue
        try:
            for digest in names(sfd):
                path = base / digest
                if not (is_digest(digest) and digest.startswith(shard)):
                    foreign.append(describe(path))
                    continue
                try:
                    dfd = open_sub(sfd, digest, path)
                except Foreign:
                    foreign.append(describe(path))
                    continue
                if dfd is not None:
                    try:
                        out.append(_entry_stat(digest, path, dfd))
                    finally:
                        os.close(dfd)
        finally:
            os.close(sfd)


def _entry_stat(digest: str, path: Path, dfd: int) -> EntryStat:
    try:
        raw, st = read_file(META, dfd, limit=_META_LIMIT)
        meta = parse_json(raw)
        size = int(meta["size"]) + st.st_size
        last = st.st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        meta, last = None, _mtime(dfd)
        size = _dir_size(dfd)
    return EntryStat(digest, path, size, last, meta if isinstance(meta, dict) else None)


def _mtime(dfd: int) -> float:
    try:
        return os.fstat(dfd).st_mtime
    except OSError:
        return 0.0


def _dir_size(dfd: int) -> int:
    total = 0
    try:
        for item in os.scandir(dfd):
            try:
                total += item.stat(follow_symlinks=False).st_size
            except OSError:
                pass
    except OSError:
        pass
    return total


def read_size(layout: Layout) -> dict[str, Any] | None:
    try:
        data = parse_json(read_file(layout.root / _SIZE_FILE, limit=_META_LIMIT)[0])
        if isinstance(data, dict) and isinstance(data.get("bytes"), int):
            return data
    except (OSError, ValueError):
        pass
    return None


def write_size(layout: Layout, total: int, count: int, scanned: float) -> None:
    path = layout.root / _SIZE_FILE
    data = json.dumps({"bytes": max(0, total), "entries": max(0, count), "scanned": scanned}).encode()
    try:
        replace_file(path, data, layout.file_mode)
    except OSError as e:
        log.debug("cannot write %s: %s", path, e)


def rescan(layout: Layout) -> list[EntryStat]:
    stats = [s for s in scan(layout) if s.digest and is_digest(s.digest)]
    write_size(layout, sum(s.size for s in stats), len(stats), time.time())
    return stats


def note_added(layout: Layout, nbytes: int, cap: int) -> list[EntryStat]:
    """Account for a newly published entry; evict if that takes the cache over ``cap`` (0 = no cap)."""
    data = read_size(layout)
    if data is None or time.time() - float(data.get("scanned", 0)) > RESCAN_SECONDS:
        stats = rescan(layout)
        total = sum(s.size for s in stats)
    else:
        total = data["bytes"] + nbytes
        write_size(layout, total, int(data.get("entries", 0)) + 1, float(data["scanned"]))
    if cap and total > cap:
        return evict_to(layout, int(cap * LOW_WATER))
    return []


def evict_to(layout: Layout, target: int) -> list[EntryStat]:
    """Remove least recently used entries until the cache holds at most ``target`` bytes."""
    import filelock

    mode = {"mode": layout.file_mode} if layout.file_mode is not None else {}
    guard = filelock.FileLock(str(layout.root / "evict.lock"), timeout=0, **mode)
    try:
        guard.acquire()
    except filelock.Timeout:
        return []  # someone else is evicting right now
    try:
        stats = scan(layout)
        total = sum(s.size for s in stats)
        removed = []
        now = time.time()
        for s in sorted(stats, key=lambda s: s.last_used):
            if total <= target:
                break
            if now - s.last_used < RECENT_GRACE:
                continue
            if remove_dir(s.path, layout):
                total -= s.size
                removed.append(s)
        write_size(layout, total, len(stats) - len(removed), time.time())
        if removed:
            log.info(
                "fncache: evicted %d least recently used entries (%d bytes) to stay under the cap",
                len(removed),
                sum(s.size for s in removed),
            )
        return removed
    finally:
        guard.release()
