"""The compiledir: one cache shared by every process and host (docs/cache.md).

Layout under the root (see the modules named for each part)::

    entries/<d[:2]>/<digest>/   published entries: files + meta.json        (entry.py)
    tmp/<host>.<pid>.<rand>/    private staging of in-flight builds          (entry.py, janitor.py)
    locks/<d[:2]>/<digest>.*    per-key build locks and holder records       (locks.py)
    stats/<host>.<day>.log      append-only usage events, folded daily       (counters.py)
    size.json                   running total for the size cap               (evict.py)
    quarantine/ trash/ failed/  set aside, being deleted, failed compiles     (janitor.py)
    hosts/<host>.json           this host's detected march and compiler      (toolchain/march.py)

A lookup is O(1): it opens the entry's directory by its digest and verifies the entry; nothing
is listed and no lock is taken.  Only a miss takes the key's lock.  What only a miss or the
maintenance needs (locks, the janitor, the size cap, installing, the remote tier) is imported
where it is used: a warm hit in a fresh process does not pay those imports.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..config import config
from ..errors import CacheError, CompileError
from .entry import (
    META,
    UNWRITABLE,
    Damaged,
    Entry,
    Unwritable,
    is_digest,
    quarantine,
    read_entry,
    remove_dir,
    seal,
    stage,
    unpublished_entry,
    valid_file_name,
    write_error,
)
from .keys import CacheKey
from ..fs.layout import Layout
from ..fs.perms import check_dirs, layout_for
from .counters import StatsLog

if TYPE_CHECKING:
    from .janitor import Janitor

__all__ = ["Compiledir", "Entry"]

log = logging.getLogger("fncache.cache")

#: A compile that fails with less free space than this in the compiledir is retried elsewhere.
LOW_SPACE = 64 << 20


def _disk_trouble(root: Path) -> Unwritable | None:
    """Why the filesystem of ``root`` cannot take a build (read-only, nearly full), or None."""
    try:
        st = os.statvfs(root)
    except OSError as e:
        return Unwritable(f"cannot inspect the filesystem of {root}: {e.strerror}")
    if st.f_flag & os.ST_RDONLY:
        return Unwritable(f"the compiledir {root} is on a read-only filesystem")
    free = st.f_bavail * st.f_frsize
    if free < LOW_SPACE:
        return Unwritable(f"the filesystem of the compiledir {root} is nearly full ({free:,} bytes free)")
    return None


def _host() -> str:
    return os.uname().nodename or "localhost"


class _Root:
    """Per-process state of one compiledir path: layout, stats appender, janitor."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.host = _host()
        self.stats = StatsLog(layout, self.host)
        self._janitor: Janitor | None = None
        self._warned = False
        self._shards_ok: set[str] = set()

    @property
    def janitor(self) -> Janitor:
        """Made on first use: only a build and the maintenance need one."""
        if self._janitor is None:
            from .janitor import Janitor

            self._janitor = Janitor(self.layout, self.host)
        return self._janitor

    def check_shard(self, digest: str) -> None:
        """The permission check of the key's fan-out directories, once per process and shard."""
        shard = digest[:2]
        if shard not in self._shards_ok:
            check_dirs([self.layout.entries / shard, self.layout.locks / shard])
            self._shards_ok.add(shard)

    def warn_unwritable(self, why: CacheError) -> None:
        """One warning per process and compiledir that results are computed but not cached."""
        if not self._warned:
            self._warned = True
            log.warning(
                "fncache: %s; compiling in a private temporary directory instead, uncached "
                "(free space in %s or make it writable to cache again)",
                why,
                self.layout.root,
            )


_roots: dict[tuple[str, bool], _Root] = {}
_roots_lock = threading.Lock()


def _first_missing(path: Path) -> Path | None:
    """The top-most of ``path`` and its parents that does not exist: what creating ``path`` makes."""
    top, here = None, Path(os.path.abspath(path))
    while not os.path.lexists(here):
        top, here = here, here.parent
    return top


def _remove_empty_dirs(top: Path) -> None:
    """Remove ``top`` and the directories under it, deepest first, as far as they are empty: what
    another process may have written meanwhile stays."""
    for where, _, _ in os.walk(top, topdown=False):
        try:
            os.rmdir(where)
        except OSError:
            pass


class Compiledir:
    """A compiledir. ``Compiledir()`` follows ``config.compiledir``; ``Compiledir(path)`` is fixed.

    Constructing one touches no disk; the directory is created (0o700) or its permissions
    checked on first use.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self._fixed = Path(os.path.abspath(os.path.expanduser(os.fspath(path)))) if path is not None else None

    @property
    def path(self) -> Path:
        return self._fixed if self._fixed is not None else Path(config.compiledir)

    def __repr__(self) -> str:
        return f"Compiledir({str(self.path)!r})"

    def _root(self) -> _Root:
        memo = (str(self.path), bool(config.allow_shared_compiledir))
        root = _roots.get(memo)
        if root is None:
            with _roots_lock:
                root = _roots.get(memo)
                if root is None:
                    root = _roots[memo] = _Root(layout_for(memo[0]))
        return root

    # -- lookup and build ---------------------------------------------------------------------

    def _lookup(self, root: _Root, key: CacheKey) -> Entry | None:
        root.check_shard(key.digest)
        path = root.layout.entry_dir(key.digest)
        try:
            found = read_entry(path, key.digest, key, touch=True)
        except Damaged as e:
            quarantine(path, str(e), root.layout, expected_ino=e.ino)
            return None
        return found[0] if found is not None else None

    def set_aside(self, entry: Entry, reason: str) -> None:
        """Quarantine a published entry that verified but proved unusable (e.g. its library does
        not load), so the next lookup rebuilds it; an unpublished entry is simply dropped."""
        root = self._root()
        if entry.path.parent.parent == root.layout.entries:
            quarantine(entry.path, reason, root.layout)

    def get(self, key: CacheKey) -> Entry | None:
        """The verified entry of ``key`` or None; damaged entries are logged and moved aside. O(1).

        A local miss asks the remote tier (``config.remote_cache``), which publishes what it finds here.
        """
        root = self._root()
        entry = self._lookup(root, key)
        if entry is None:
            from .remote import remote_tier

            try:
                entry = remote_tier().fetch(key, root.layout, root.host)
            except Unwritable as e:  # found remotely but cannot be kept here: build it privately
                root.warn_unwritable(e)
        if entry is None:
            root.stats.record("miss", key.kind, key.digest)
        else:
            saved = entry.meta.get("compile_seconds", 0.0)
            root.stats.record("hit", key.kind, key.digest, saved if isinstance(saved, (int, float)) else 0.0)
        return entry

    def has(self, key: CacheKey) -> bool:
        """Whether an entry of ``key`` is published here: a glance (no verification, no counters,
        no remote tier) for deciding whether to start building ahead; :meth:`get` decides."""
        return (self._root().layout.entry_dir(key.digest) / META).is_file()

    def get_or_build(self, key: CacheKey, build: Callable[[Path], Mapping[str, Any] | None]) -> Entry:
        """The entry of ``key``, built once across all processes if missing.

        ``build(staging_dir)`` writes plain files into the private ``staging_dir`` and returns
        extra metadata (``compile_seconds`` is measured when it does not say).  Only the process
        holding the key's lock builds; the others wait, then load its entry.  With a remote tier,
        that process also claims the key there: other hosts wait for its entry instead of building.
        When the compiledir is full or read-only the build runs in a private temporary directory
        and the entry is returned unpublished, its files held in memory (one warning per process).
        """
        entry = self.get(key)
        if entry is not None:
            return entry
        root = self._root()
        try:
            return self._build_shared(root, key, build)
        except Unwritable as e:
            return self._build_private(root, key, build, e)
        except OSError as e:  # the lock file or staging directory could not be created
            if e.errno not in UNWRITABLE:
                raise
            return self._build_private(root, key, build, write_error(e, root.layout.root))
        except CompileError:  # the compiler may have failed for want of space: then try privately
            trouble = _disk_trouble(root.layout.root)
            if trouble is None:
                raise
            return self._build_private(root, key, build, trouble)

    def _build_shared(
        self, root: _Root, key: CacheKey, build: Callable[[Path], Mapping[str, Any] | None]
    ) -> Entry:
        from . import evict
        from .locks import KeyLock
        from .remote import remote_tier

        root.janitor.maybe_run()
        with KeyLock(root.layout, key.digest, key.kind) as lock:
            entry = self._lookup(root, key)
            if entry is not None:  # built by the process we waited for
                lock.discard()
                return entry
            with remote_tier().claim(key, root.layout, root.host) as claim:
                if claim.entry is not None:  # built by the host we waited for
                    lock.discard()
                    return claim.entry
                staging = stage(root.layout, root.host)
                try:
                    t0 = time.perf_counter()
                    extra = dict(build(staging) or {})
                    extra.setdefault("compile_seconds", time.perf_counter() - t0)
                    entry, nbytes = self._publish(root, key, staging, extra)
                finally:
                    remove_dir(staging, root.layout)  # never raises: a build's own error stays the one seen
                claim.push(entry)
            lock.discard()
        root.stats.record("compile", key.kind, key.digest, float(extra["compile_seconds"]))
        evict.note_added(root.layout, nbytes, config.cache_max_size)
        return entry

    def _build_private(
        self, root: _Root, key: CacheKey, build: Callable[[Path], Mapping[str, Any] | None], why: CacheError
    ) -> Entry:
        """Build in a private temporary directory and keep the result in memory, unpublished: a
        full or read-only compiledir costs the cache, never the user's result."""
        from ..fs.workdirs import WorkDir  # here: a warm hit should not pay this import

        root.warn_unwritable(why)
        with WorkDir() as work:
            d = work.path
            extra = dict(build(d) or {})
            files = {}
            for item in os.scandir(d):
                if item.is_file(follow_symlinks=False) and valid_file_name(item.name):
                    files[item.name] = Path(item.path).read_bytes()
            return unpublished_entry(key, d, files, extra)

    def _publish(self, root: _Root, key: CacheKey, staging: Path, extra: dict[str, Any]) -> tuple[Entry, int]:
        """Seal a build's staging directory and install it; the entry and the bytes it added
        (0 when another writer's entry of the key won the race and is handed out instead)."""
        from ..toolchain.march import host_platform_tag
        from .install import install_staged

        seal(staging, key, extra, root.layout, host=root.host, platform=host_platform_tag())
        try:
            done = install_staged(root.layout, staging, key.digest, key, built_here=True)
        except Damaged as e:  # changed between sealing and publishing (a failing disk, a stray writer)
            raise CacheError(
                f"the entry built for key {key.digest[:16]} ({key.kind}) did not verify before "
                f"publishing: {e}; nothing was published"
            ) from None
        return done.entry, done.size

    def put_bytes(self, key: CacheKey, files: Mapping[str, bytes], meta: Mapping[str, Any]) -> Entry:
        """Publish a small entry from bytes (function entries, imports); no lock: equal keys mean equal content."""
        root = self._root()
        bad = [n for n in files if not valid_file_name(n)]
        if bad or not files:
            raise ValueError(f"put_bytes: need at least one file with a plain name; bad names: {bad}")
        existing = self._lookup(root, key)
        if existing is not None:
            return existing
        from . import evict
        from .install import write_files
        from .remote import remote_tier

        extra = dict(meta)
        try:
            staging = stage(root.layout, root.host)
            try:
                write_files(staging, files)
                entry, nbytes = self._publish(root, key, staging, extra)
            finally:
                remove_dir(staging, root.layout)
        except OSError as e:
            if e.errno not in UNWRITABLE:
                raise
            root.warn_unwritable(write_error(e, root.layout.tmp))
            return unpublished_entry(key, root.layout.tmp, dict(files), extra)
        except Unwritable as e:
            root.warn_unwritable(e)
            return unpublished_entry(key, root.layout.tmp, dict(files), extra)
        if nbytes:
            remote_tier().push(entry, root.host)
            secs = extra.get("compile_seconds", 0.0)
            root.stats.record(
                "compile", key.kind, key.digest, secs if isinstance(secs, (int, float)) else 0.0
            )
            evict.note_added(root.layout, nbytes, config.cache_max_size)
        return entry

    # -- reports (reports.py, imported when asked for: a lookup needs none of it) ------------

    def info(self) -> dict[str, Any]:
        """Path, host, platform, march, entry count, size and counters summed over every process."""
        from . import reports

        root = self._root()
        return reports.info(root.layout, root.host)

    def filesystem(self) -> dict[str, Any]:
        """What the compiledir's filesystem was found to do (probed once per process): its type,
        whether flock works and reaches other clients, whether exchange renames work, the errno
        of a rename onto an existing entry, and the lock mode ``auto`` picks there."""
        from . import reports

        root = self._root()
        return reports.filesystem(root.layout, root.host)

    def entries(self) -> list[dict[str, Any]]:
        """One dict per entry: key, kind, size, created, last_used, hits, host, march, compile_seconds, ..."""
        from . import reports

        return reports.entries(self._root().layout)

    def find(self, prefix: str) -> list[dict[str, Any]]:
        """Entries whose key starts with ``prefix`` (with their full metadata), for ``fncache show``."""
        from . import reports

        return reports.find(self._root().layout, prefix)

    def explain(self, key: CacheKey) -> dict[str, Any]:
        """Why ``key`` misses: the stored entry of the same kind with the fewest differing components.
        A diagnostic (it reads every entry's metadata), not for hot paths."""
        from . import reports

        return reports.explain(self._root().layout, key)

    def usage(self) -> dict[str, Any]:
        """Entry count and size without reading any entry, for ``fncache info`` on big caches
        (the size is the running total kept for the size cap; see :func:`.reports.usage`)."""
        from . import reports

        return reports.usage(self._root().layout)

    def stats(self) -> dict[str, Any]:
        """Hits, misses, compiles, compile seconds spent and saved: in total, per host and per kind."""
        from . import reports

        return reports.stats(self._root().layout)

    # -- maintenance (docs/cli.md) ----------------------------------------------------------

    def purge(
        self,
        older_than: float | str | None = None,
        max_size: int | str | None = None,
        all: bool = False,
        dry_run: bool = False,
    ) -> list[dict[str, Any]]:
        """Remove entries: every one (``all``), those unused for ``older_than`` (seconds or ``"30d"``),
        then least recently used ones until the cache fits ``max_size`` (bytes or ``"2GB"``).
        Returns the removed (with ``dry_run``: the would-be removed) entries."""
        from . import evict, reports
        from .counters import read_totals
        from .purge_policy import PurgePolicy

        policy = PurgePolicy.of(older_than, max_size, all)
        root = self._root()
        hits = read_totals(root.layout).hits_by_entry
        scanned = evict.scan(root.layout)
        chosen = policy.select(scanned, size=lambda s: s.size, last_used=lambda s: s.last_used)
        report = [reports.entry_dict(s, hits) for s in chosen]
        if not dry_run:
            removed = [s for s in chosen if remove_dir(s.path, root.layout)]
            chosen_keys = {s.digest for s in chosen}
            kept = [s for s in scanned if s.digest not in chosen_keys]
            evict.write_size(root.layout, sum(s.size for s in kept), len(kept), time.time())
            root.janitor.run()
            gone = {s.digest for s in removed}
            report = [r for r in report if r["key"] in gone]
        return report

    def verify(self, repair: bool = True) -> dict[str, Any]:
        """Check every entry (checksums, metadata, key, HMAC); with ``repair`` remove bad ones and leftovers.

        ``foreign`` lists what the cache did not make (links, unexpected names) with what to do
        about it; it is never followed, deleted or repaired.
        """
        from . import evict

        root = self._root()
        checked, bad, repaired, reasons = 0, [], [], {}
        foreign: list[str] = []
        kept: list[evict.EntryStat] = []
        for s in evict.scan(root.layout, foreign=foreign):
            checked += 1
            try:
                if read_entry(s.path, s.digest, None, touch=False) is None:
                    checked -= 1  # removed meanwhile by a purge or eviction: not damage
                    continue
                kept.append(s)
                continue
            except Damaged as e:
                reason = str(e)
            bad.append(s.digest)
            reasons[s.digest] = reason
            if repair and remove_dir(s.path, root.layout):
                repaired.append(s.digest)
            elif not repair:
                kept.append(s)
        if repair:
            evict.write_size(root.layout, sum(s.size for s in kept), len(kept), time.time())
            root.janitor.run(clear_aside=True, foreign=foreign)
        return {"checked": checked, "bad": bad, "repaired": repaired, "reasons": reasons, "foreign": foreign}

    def unlock(self, force: bool = False) -> list[dict[str, Any]]:
        """Remove stale locks (holder dead, or a lease nobody refreshed); live ones only with ``force``."""
        from .locks import unlock_all

        return unlock_all(self._root().layout, force=force)

    def _resolve(self, keys: Iterable[CacheKey | str] | None) -> list[str]:
        from . import evict

        root = self._root()
        every = [s.digest for s in evict.scan(root.layout) if is_digest(s.digest)]
        if keys is None:
            return every
        out: list[str] = []
        for k in keys:
            prefix = k.digest if isinstance(k, CacheKey) else str(k).lower()
            out.extend(d for d in every if d.startswith(prefix) and d not in out)
        return out

    def export(
        self, path: str | os.PathLike[str], keys: Iterable[CacheKey | str] | None = None
    ) -> dict[str, Any]:
        """Write the given entries (keys, digests or prefixes; all when None) into one tar archive."""
        from .bundle import export_entries

        root = self._root()
        return export_entries(root.layout, Path(path), self._resolve(keys), root.host)

    def import_(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Import an archive made by :meth:`export`; every entry is verified before it is published.

        A failed import leaves no trace: what is not a readable archive is refused before the
        compiledir is touched, and a compiledir that an import created and that then failed
        (a truncated archive, one without fncache's manifest) is removed again."""
        from . import evict
        from .bundle import import_entries, open_archive

        with open_archive(Path(path)) as tar:
            created = _first_missing(self.path)
            try:
                root = self._root()
                report = import_entries(root.layout, tar, Path(path), root.host)
            except BaseException:
                if created is not None:
                    _remove_empty_dirs(created)
                raise
        if report["bytes"]:
            evict.note_added(root.layout, report["bytes"], config.cache_max_size)
        return report
