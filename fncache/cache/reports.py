"""What the compiledir reports about itself (``fc.cache.info()``, ``entries()``, ``stats()``, ...):
the dicts the ``fncache`` command prints, read from the layout without changing it.

The compiledir's core (lookup, build, publish) is compiledir.py; these are its reports.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ..config import config
from ..fs.layout import Layout
from . import evict
from .counters import read_totals
from .entry import is_digest
from .fsprobe import fs_behaviour
from .keys import CacheKey
from .locks import lock_mode_for

__all__ = ["entry_dict", "info", "filesystem", "entries", "find", "explain", "usage", "stats"]


def entry_dict(s: evict.EntryStat, hits: Mapping[str, int], *, full: bool = False) -> dict[str, Any]:
    """The dict of one entry that listings and reports show (``full``: with its metadata)."""
    meta = s.meta or {}
    out = {
        "key": s.digest,
        "kind": meta.get("kind"),
        "size": s.size,
        "created": meta.get("created"),
        "last_used": s.last_used,
        "hits": hits.get(s.digest, 0),
        "host": meta.get("host"),
        "march": meta.get("march"),
        "compile_seconds": meta.get("compile_seconds"),
        "components": meta.get("components", {}),
        "files": sorted(meta.get("files", {})),
        "path": str(s.path),
    }
    if full:
        out["meta"] = meta
    return out


def info(layout: Layout, host: str) -> dict[str, Any]:
    """Path, host, platform, march, entry count, size and counters summed over every process."""
    from ..toolchain.march import host_march_flags, host_platform_tag

    scanned = [s for s in evict.scan(layout) if is_digest(s.digest)]
    totals = read_totals(layout)
    try:
        march = " ".join(host_march_flags())
    except Exception as e:  # info must work even when the compiler is broken
        march = f"unknown ({e})"
    return {
        "path": str(layout.root),
        "entries": len(scanned),
        "size": sum(s.size for s in scanned),
        "hits": int(totals.total("hits")),
        "misses": int(totals.total("misses")),
        "compiles": int(totals.total("compiles")),
        "compile_seconds": totals.total("compile_seconds"),
        "saved_seconds": totals.total("saved_seconds"),
        "host": host,
        "platform": host_platform_tag(),
        "march": march,
        "max_size": config.cache_max_size,
        "lock_mode": lock_mode_for(layout),
        "filesystem": filesystem(layout, host),
        "signed": bool(config.signing_key),
    }


def filesystem(layout: Layout, host: str) -> dict[str, Any]:
    """What the compiledir's filesystem was found to do (probed once per process): its type,
    whether flock works and reaches other clients, whether exchange renames work, the errno
    of a rename onto an existing entry, and the lock mode ``auto`` picks there."""
    return fs_behaviour(layout, host).as_dict()


def entries(layout: Layout) -> list[dict[str, Any]]:
    """One dict per entry: key, kind, size, created, last_used, hits, host, march, compile_seconds, ..."""
    hits = read_totals(layout).hits_by_entry
    return [entry_dict(s, hits) for s in evict.scan(layout) if is_digest(s.digest)]


def find(layout: Layout, prefix: str) -> list[dict[str, Any]]:
    """Entries whose key starts with ``prefix`` (with their full metadata), for ``fncache show``."""
    prefix = prefix.strip().lower()
    if not re.fullmatch(r"[0-9a-f]+", prefix):
        raise ValueError(f"a cache key is hexadecimal; got {prefix!r}")
    if len(prefix) > 64:
        raise ValueError(f"a cache key has at most 64 hex digits; got {len(prefix)} digits")
    if len(prefix) >= 2:
        shards = [prefix[:2]]
    else:
        try:
            shards = [n for n in os.listdir(layout.entries) if n.startswith(prefix)]
        except FileNotFoundError:
            shards = []
    hits = read_totals(layout).hits_by_entry
    return [
        entry_dict(s, hits, full=True)
        for s in evict.scan(layout, shards)
        if s.digest.startswith(prefix) and is_digest(s.digest)
    ]


def explain(layout: Layout, key: CacheKey) -> dict[str, Any]:
    """Why ``key`` misses: the stored entry of the same kind with the fewest differing components.

    A diagnostic (it reads every entry's metadata), not for hot paths.
    """
    if layout.entry_dir(key.digest).is_dir():
        return {"key": key.digest, "found": True, "closest": key.digest, "differences": []}
    best: tuple[int, str, list] | None = None
    for s in evict.scan(layout):
        if not s.meta or s.meta.get("kind") != key.kind or not isinstance(s.meta.get("components"), dict):
            continue
        try:
            diffs = key.explain(CacheKey(key.kind, s.meta["components"]))
        except (TypeError, ValueError):
            continue
        if best is None or len(diffs) < best[0]:
            best = (len(diffs), s.digest, diffs)
    return {
        "key": key.digest,
        "found": False,
        "closest": best[1] if best else None,
        "differences": best[2] if best else [],
    }


def usage(layout: Layout) -> dict[str, Any]:
    """Entry count and size without reading any entry, for ``fncache info`` on big caches.

    ``entries`` is exact (one listing per shard directory).  ``size`` is the running total kept
    for the size cap (``size.json``): concurrent publishes can undercount it until the next
    scan (purge, verify, eviction or the daily rescan) corrects it; ``scanned`` says when that
    was.  :func:`info` scans every entry instead.  Without a running total yet, this scans once.
    """
    count = 0
    try:
        shards = os.listdir(layout.entries)
    except FileNotFoundError:
        shards = []
    for shard in shards:
        try:
            count += sum(1 for name in os.listdir(layout.entries / shard) if is_digest(name))
        except (FileNotFoundError, NotADirectoryError):
            pass
    data = evict.read_size(layout)
    if data is None:
        evict.rescan(layout)
        data = evict.read_size(layout) or {"bytes": 0}
    scanned = data.get("scanned")
    return {
        "entries": count,
        "size": int(data["bytes"]),
        "scanned": float(scanned) if isinstance(scanned, (int, float)) else None,
    }


def stats(layout: Layout) -> dict[str, Any]:
    """Hits, misses, compiles, compile seconds spent and saved: in total, per host and per kind."""
    totals = read_totals(layout)
    lookups = totals.total("hits") + totals.total("misses")
    return {
        "hits": int(totals.total("hits")),
        "misses": int(totals.total("misses")),
        "compiles": int(totals.total("compiles")),
        "compile_seconds": totals.total("compile_seconds"),
        "saved_seconds": totals.total("saved_seconds"),
        "hit_rate": totals.total("hits") / lookups if lookups else None,
        "per_host": totals.per_host(),
        "per_kind": totals.per_kind(),
    }
