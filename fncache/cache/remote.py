"""The remote tier (docs/remote.md): compiledir entries shared through a store such as Redis, for hosts
that share no filesystem (Kubernetes pods, cloud batch jobs, CI runners).

The local compiledir stays the first tier and the only place code is ever loaded from.  The
compiledir asks the tier for three things, in one place each (see compiledir.py):

* :meth:`Tier.fetch` on a local miss: the remote copy of the entry, written into a private
  staging directory, verified there by the very code that verifies a local lookup (checksums,
  key, HMAC) and published with the usual atomic rename.  A bad remote copy is logged and
  ignored; the fresh build that follows overwrites it.
* :meth:`Tier.claim` before a build: compile-once across hosts.  The builder takes an expiring
  claim in the store (``SET NX PX``) and a heartbeat thread renews it; other hosts poll (with
  backoff, at most ``lock_timeout``) until the entry appears, or the claim expires and they take
  it themselves.
* :meth:`Tier.push` after a fresh build: the entry goes to the store too.

``Tier`` itself is the tier of a compiledir without ``config.remote_cache``: it does nothing, so
the compiledir needs no branches.  :class:`RemoteTier` adds a store behind one small interface,
:class:`RemoteBackend` (as Triton's runtime/cache.py has one interface for file and remote
backends); the Redis backend lives in remote_redis.py (with its small RESP client, resp.py) and
is imported only when a URL names it, so ``import fncache`` and local hits never import it.

A store that is unreachable, slow, full or hostile must never fail or stall a compile, nor keep
the process from exiting: every store operation runs on a daemon thread and the caller stops
waiting after ``config.remote_timeout``; any exception of an operation is a store failure; a
failed or abandoned operation logs ONE warning per process and URL and opens a circuit
breaker, so for ``RETRY_AFTER`` seconds every call uses the local tier alone without touching
the store.  A full store (out of memory) only stops writes; reads go on.
"""
from __future__ import annotations

import abc
import importlib
import json
import logging
import os
import secrets
import threading
import time
from types import TracebackType
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..config import config
from ..errors import CacheError
from . import evict
from .entry import META, Damaged, Entry, Unwritable, valid_file_name
from .install import install_bytes
from .keys import CacheKey
from .purge_policy import PurgePolicy
from ..fs.perms import Layout

__all__ = ["Tier", "RemoteTier", "RemoteBackend", "RemoteError", "RemoteFull", "Claim", "remote_tier", "backend_for",
           "pack_entry", "unpack_entry", "redact", "remote_info", "remote_stats", "remote_list",
           "remote_purge", "CLAIM_TTL", "RETRY_AFTER", "ADMIN_TIMEOUT"]

log = logging.getLogger("fncache.cache")

#: A claim not renewed for this long is dead (its host crashed); the heartbeat renews it every third.
CLAIM_TTL = 15.0
#: After a failure the store is left alone this long; then one call tries it again.
RETRY_AFTER = 30.0
#: The most an administrative command (``fncache list|info|stats|purge --remote``) waits in all.
ADMIN_TIMEOUT = 300.0
_POLL_FIRST, _POLL_MAX, _POLL_GROWTH = 0.02, 0.5, 1.5
_MAGIC = b"fncache-entry 1\n"
_MAX_HEADER = 1 << 16
_BACKENDS = {"redis": ("fncache.cache.remote_redis", "RedisBackend"),
             "rediss": ("fncache.cache.remote_redis", "RedisBackend"),
             "unix": ("fncache.cache.remote_redis", "RedisBackend")}

T = TypeVar("T")


class RemoteError(Exception):
    """The store failed (unreachable, timed out, refused); backends raise only this (or RemoteFull)."""


class RemoteFull(RemoteError):
    """The store refused a write because it is out of memory; reads still work."""


class _Unavailable(Exception):
    """A store operation was skipped (breaker open) or failed: the caller goes on with the local tier."""


def redact(url: str) -> str:
    """``url`` without its password, for logs and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# -- the entry as one blob ----------------------------------------------------------------------

def pack_entry(entry: Entry) -> bytes:
    """One blob holding ``meta.json`` and every file of a verified local entry.

    Format: a magic line, one JSON line ``[[name, size], ...]`` (``meta.json`` first), then the
    contents back to back.  One value per entry means a reader gets all files or none.
    """
    names = [META, *entry.files]
    datas = [(entry.path / META).read_bytes(), *(entry.read_bytes(n) for n in entry.files)]
    header = json.dumps([[n, len(d)] for n, d in zip(names, datas)], separators=(",", ":")).encode()
    return b"".join([_MAGIC, header, b"\n", *datas])


def unpack_entry(blob: bytes) -> dict[str, bytes]:
    """The files of a blob made by :func:`pack_entry`; :class:`Damaged` if it is not one."""
    if not blob.startswith(_MAGIC):
        raise Damaged("not an fncache entry blob")
    end = blob.find(b"\n", len(_MAGIC), len(_MAGIC) + _MAX_HEADER)
    if end < 0:
        raise Damaged("blob header is missing or too long")
    try:
        listing = json.loads(blob[len(_MAGIC):end])
    except ValueError:
        raise Damaged("blob header is not JSON") from None
    if not isinstance(listing, list) or not all(
            isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) and isinstance(i[1], int)
            and i[1] >= 0 for i in listing):
        raise Damaged("blob header is not a file list")
    names = [n for n, _ in listing]
    if names[:1] != [META] or len(set(names)) != len(names) or not all(valid_file_name(n) for n in names[1:]):
        raise Damaged("blob lists bad or repeated file names")
    if sum(size for _, size in listing) != len(blob) - end - 1:
        raise Damaged("blob is truncated or has trailing bytes")
    files, pos = {}, end + 1
    for name, size in listing:
        files[name] = blob[pos:pos + size]
        pos += size
    return files


def _summary(entry: Entry, blob_size: int) -> dict[str, Any]:
    """What ``fncache list --remote`` shows of an entry without downloading it."""
    meta = entry.meta
    return {"kind": entry.key.kind, "size": blob_size, "created": meta.get("created"), "host": meta.get("host"),
            "march": meta.get("march"), "compile_seconds": meta.get("compile_seconds")}


# -- the store interface -------------------------------------------------------------------------

class RemoteBackend(abc.ABC):
    """A store of entry blobs and claims, addressed by key digest; used from several threads.

    Operations raise :class:`RemoteError` (or :class:`RemoteFull`) and nothing else when the
    store fails.  Each is at most a couple of round trips: the tier bounds their time.
    """

    url: str

    @abc.abstractmethod
    def lookup(self, digest: str, host: str) -> bytes | None:
        """The entry's blob, or None; counts a hit or a miss for ``host``."""

    @abc.abstractmethod
    def try_claim(self, digest: str, token: str, ttl: float) -> tuple[bytes | None, bool, str | None]:
        """In one round trip: the entry's blob (or None), whether ``token`` now holds the build
        claim (set only if nobody holds it, expiring after ``ttl`` seconds), and the holder's token."""

    @abc.abstractmethod
    def renew(self, digest: str, token: str, ttl: float) -> bool:
        """Extend the claim to ``ttl`` seconds from now if ``token`` still holds it."""

    @abc.abstractmethod
    def release(self, digest: str, token: str) -> None:
        """Drop the claim if ``token`` still holds it (never someone else's)."""

    @abc.abstractmethod
    def store(self, digest: str, blob: bytes, summary: Mapping[str, Any], host: str) -> None:
        """Write (or overwrite) the entry's blob and its summary, as one step."""

    @abc.abstractmethod
    def entries(self) -> list[dict[str, Any]]:
        """Every stored entry: key, kind, size, created, last_used, hits, host, march, compile_seconds."""

    @abc.abstractmethod
    def delete(self, digests: list[str]) -> int:
        """Remove entries; returns how many existed."""

    @abc.abstractmethod
    def info(self) -> dict[str, Any]:
        """The store's own figures (server, memory, entries, size, claims in flight)."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Hits, misses and uploads, in total and per host."""


def backend_for(url: str, timeout: float) -> RemoteBackend:
    """The backend named by ``url``'s scheme, its module imported now (remote_redis for ``redis://``)."""
    scheme = urlsplit(url).scheme
    if scheme not in _BACKENDS:
        raise ValueError(f"remote_cache: unsupported URL scheme {scheme!r} in {redact(url)!r}; "
                         f"expected one of {', '.join(sorted(_BACKENDS))}")
    module, cls = _BACKENDS[scheme]
    return getattr(importlib.import_module(module), cls)(url, timeout)


# -- the tiers -----------------------------------------------------------------------------------

class Claim:
    """What :meth:`Tier.claim` gives a builder: ``entry`` when another host built the key while we
    waited, else the go-ahead to build it here (this base class: without holding a claim, as when
    there is no store or it is unavailable).  :meth:`push` uploads what was built.
    """

    def __init__(self, tier: Tier, host: str, *, entry: Entry | None = None):
        self.entry = entry
        self._tier = tier
        self._host = host

    def push(self, entry: Entry) -> None:
        """Send the freshly built ``entry`` to the store (a no-op without one)."""
        self._tier.push(entry, self._host)

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass


class _HeldClaim(Claim):
    """A claim this process holds in the store: renewed by a heartbeat until the ``with`` block
    ends (after :meth:`push`), then released."""

    def __init__(self, tier: RemoteTier, host: str, key: CacheKey, token: str):
        super().__init__(tier, host)
        self._remote = tier
        self._digest = key.digest
        self._token = token
        self._stop = threading.Event()
        threading.Thread(target=self._heartbeat, name="fncache-claim", daemon=True).start()

    def _heartbeat(self) -> None:
        """Renew the claim every third of its lifetime, so it expires only when this host dies."""
        while not self._stop.wait(CLAIM_TTL / 3):
            try:
                if not self._remote.call(self._remote.backend.renew, self._digest, self._token, CLAIM_TTL,
                                         write=True):
                    log.info("fncache: lost the remote build claim of %s (it expired); building anyway",
                             self._digest[:16])
                    return
            except _Unavailable:
                return

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        try:
            self._remote.call(self._remote.backend.release, self._digest, self._token, write=True)
        except _Unavailable:
            pass  # it expires by itself


class Tier:
    """The remote tier of a compiledir without ``config.remote_cache``: nothing is remote."""

    def fetch(self, key: CacheKey, layout: Layout, host: str) -> Entry | None:
        """The entry from the store, published locally and verified; None when absent or bad."""
        return None

    def claim(self, key: CacheKey, layout: Layout, host: str) -> Claim:
        """Wait while another host builds ``key``; the claim to build it here, or its entry."""
        return Claim(self, host)

    def push(self, entry: Entry, host: str) -> None:
        """Store a freshly built local entry remotely too."""


class RemoteTier(Tier):
    """A store behind the compiledir, with deadlines, a circuit breaker and one warning."""

    def __init__(self, backend: RemoteBackend):
        self.backend = backend
        self.url = redact(backend.url)
        self._down_until = 0.0
        self._full_until = 0.0
        self._failing = False
        self._waits_off_until = 0.0
        self._bad_blobs: set[int] = set()

    def call(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        """``fn(*args)`` on a worker, waiting at most ``remote_timeout``; :class:`_Unavailable`
        when the breaker is open (for writes: also while the store is full) or the call fails.

        Any exception of the operation counts as a failure of the store (a hostile or broken
        server can make a backend raise anything), never as the caller's."""
        now = time.monotonic()
        if now < self._down_until or (write and now < self._full_until):
            raise _Unavailable
        timeout = config.remote_timeout
        try:
            done, outcome = _on_daemon_thread(fn, args)
        except RuntimeError as e:  # the interpreter is shutting down (a compile in an atexit hook)
            log.debug("fncache: remote cache %s not used: %s", self.url, e)
            raise _Unavailable from None
        if not done.wait(timeout):
            self._trip(f"no answer within remote_timeout={timeout:g}s", full=False)
            raise _Unavailable
        result, error = outcome
        if isinstance(error, RemoteFull):
            self._trip(f"out of memory: {error}", full=True)
            raise _Unavailable
        if isinstance(error, RemoteError):
            self._trip(str(error), full=False)
            raise _Unavailable
        if error is not None:
            log.debug("fncache: remote cache %s operation %s failed", self.url, getattr(fn, "__name__", fn),
                      exc_info=error)
            self._trip(f"{type(error).__name__}: {error}", full=False)
            raise _Unavailable
        if self._failing and now >= max(self._down_until, self._full_until):
            self._failing = False
            log.info("fncache: remote cache %s answers again", self.url)
        return result  # type: ignore[return-value]

    def _trip(self, reason: str, *, full: bool) -> None:
        until = time.monotonic() + RETRY_AFTER
        if full:
            self._full_until = until
        else:
            self._down_until = until
        self._failing = True
        what = "is full; storing entries locally only" if full else "is unavailable; using the local compiledir alone"
        _warn_once(self.backend.url, f"fncache: remote cache {self.url} {what} ({reason}); trying it again in "
                                     f"{RETRY_AFTER:g}s. Further remote cache failures are logged at debug level.")

    def fetch(self, key: CacheKey, layout: Layout, host: str) -> Entry | None:
        try:
            blob = self.call(self.backend.lookup, key.digest, host)
        except _Unavailable:
            return None
        return self._install(key, blob, layout, host) if blob is not None else None

    def claim(self, key: CacheKey, layout: Layout, host: str) -> Claim:
        token = f"{host}:{os.getpid()}:{secrets.token_hex(4)}"
        deadline = time.monotonic() + config.lock_timeout
        delay = _POLL_FIRST
        announced = False
        while True:
            try:
                blob, won, holder = self.call(self.backend.try_claim, key.digest, token, CLAIM_TTL, write=True)
            except _Unavailable:
                return Claim(self, host)  # build here, unclaimed: at worst a key is built twice
            entry = self._install(key, blob, layout, host) if blob is not None else None
            if entry is not None:  # built by another host (and a good copy)
                if won:
                    try:
                        self.call(self.backend.release, key.digest, token, write=True)
                    except _Unavailable:
                        pass
                return Claim(self, host, entry=entry)
            if won:
                return _HeldClaim(self, host, key, token)
            now = time.monotonic()
            if now < self._waits_off_until:
                return Claim(self, host)  # a claim lately outlived lock_timeout: the store's claims are not waited on
            if now >= deadline:
                # A holder that never delivers (its host is stuck, or the store lies about claims):
                # build here, and wait on no claim of this store for a while, so that such a store
                # costs one lock_timeout per RETRY_AFTER, not one per key.
                self._waits_off_until = now + RETRY_AFTER
                log.warning("fncache: waited %gs (config.lock_timeout) for %s to build %s (%s) in the remote cache "
                            "%s; building it here, and not waiting on its build claims for %gs",
                            config.lock_timeout, _who(holder), key.digest[:16], key.kind, self.url, RETRY_AFTER)
                return Claim(self, host)
            if not announced:
                announced = True
                log.info("fncache: %s is building %s (%s); waiting for it in the remote cache %s", _who(holder),
                         key.digest[:16], key.kind, self.url)
            time.sleep(min(delay, deadline - now))
            delay = min(delay * _POLL_GROWTH, _POLL_MAX)

    def push(self, entry: Entry, host: str) -> None:
        try:
            blob = pack_entry(entry)
        except (OSError, KeyError, CacheError) as e:  # evicted or replaced since it was published
            log.debug("fncache: not uploading %s: %s", entry.key.digest[:16], e)
            return
        try:
            self.call(self.backend.store, entry.key.digest, blob, _summary(entry, len(blob)), host, write=True)
        except _Unavailable:
            pass

    def _install(self, key: CacheKey, blob: bytes, layout: Layout, host: str) -> Entry | None:
        """Install the blob's entry as a local lookup would find it (:func:`.install.install_bytes`)."""
        if hash(blob) in self._bad_blobs:  # seen and reported already (e.g. while polling)
            return None
        try:
            done = install_bytes(layout, host, key, unpack_entry(blob))
        except Damaged as e:
            self._bad_blobs.add(hash(blob))
            log.warning("fncache: ignoring the remote copy of cache entry %s (%s) from %s: %s; it will be "
                        "built here and overwritten", key.digest[:16], key.kind, self.url, e)
            return None
        except Unwritable:  # the compiledir takes nothing now: the caller builds privately
            raise
        except (OSError, CacheError) as e:  # e.g. a blob larger than the free space: the store must not fail the call
            log.warning("fncache: cannot stage the remote copy of cache entry %s (%s) from %s: %s; building "
                        "it here", key.digest[:16], key.kind, self.url, e)
            return None
        if done.published:
            evict.note_added(layout, done.size, config.cache_max_size)
        return done.entry


def _on_daemon_thread(fn: Callable[..., T], args: tuple) -> tuple[threading.Event, list[Any]]:
    """Start ``fn(*args)`` on a daemon thread: an event set when it ends, and ``[result, exception]``.

    Daemon threads, not an executor's workers: the interpreter joins those at exit, so a socket
    that a server keeps alive by dripping bytes would keep the process from exiting.  An
    abandoned operation ends by itself at the client's own deadline (``remote_timeout``)."""
    done = threading.Event()
    outcome: list[Any] = [None, None]

    def run() -> None:
        try:
            outcome[0] = fn(*args)
        except BaseException as e:  # reported to the caller, who counts it as a store failure
            outcome[1] = e
        finally:
            done.set()

    threading.Thread(target=run, name="fncache-remote", daemon=True).start()
    return done, outcome


def _who(token: str | None) -> str:
    host, _, rest = (token or "").partition(":")
    pid = rest.partition(":")[0]
    return f"pid {pid} on host {host}" if host and pid else "another host"


_LOCAL_ONLY = Tier()
_tiers: dict[tuple[str, float], Tier] = {}
_tiers_lock = threading.Lock()
_warned: set[str] = set()


def _warn_once(url: str, message: str) -> None:
    """The one warning a process gives per store URL; later failures go to the debug log."""
    with _tiers_lock:
        first = url not in _warned
        _warned.add(url)
    log.log(logging.WARNING if first else logging.DEBUG, "%s", message)


def remote_tier() -> Tier:
    """The tier of ``config.remote_cache`` (one per URL and timeout per process): a no-op without one."""
    url = config.remote_cache
    if url is None:
        return _LOCAL_ONLY
    memo = (url, config.remote_timeout)
    tier = _tiers.get(memo)
    if tier is None:
        with _tiers_lock:
            tier = _tiers.get(memo)
        if tier is None:
            try:
                tier = RemoteTier(backend_for(url, memo[1]))
            except ValueError as e:  # a bad URL: local alone, for good
                _warn_once(url, f"fncache: remote cache {redact(url)} cannot be used: {e}; using the "
                                f"local compiledir alone")
                tier = _LOCAL_ONLY
            with _tiers_lock:
                tier = _tiers.setdefault(memo, tier)
    return tier


def _forget_tiers() -> None:
    """A forked child must not share the parent's sockets and worker threads: it opens its own."""
    _tiers.clear()


os.register_at_fork(after_in_child=_forget_tiers)


# -- administration (``fncache info|stats|list|purge --remote``) -----------------------------------

class _Admin:
    """A backend for one administrative command: failures are :class:`CacheError` messages, not warnings."""

    def __init__(self, url: str | None):
        url = url or config.remote_cache
        if not url:
            raise CacheError("no remote cache: set config.remote_cache "
                             "(FNCACHE_FLAGS=remote_cache=redis://HOST:PORT/DB)")
        self.url = url
        try:
            self.backend = backend_for(url, config.remote_timeout)
        except (ImportError, ValueError) as e:
            raise CacheError(f"remote cache {redact(url)}: {e}") from None

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, bounded by :data:`ADMIN_TIMEOUT` in all (each command by ``remote_timeout``):
        a store that keeps answering (an endless SCAN) cannot hold a command for ever either."""
        done, outcome = _on_daemon_thread(fn, args)
        if not done.wait(ADMIN_TIMEOUT):
            raise CacheError(f"remote cache {redact(self.url)}: no complete answer within {ADMIN_TIMEOUT:g}s")
        result, error = outcome
        if isinstance(error, RemoteError):
            raise CacheError(f"remote cache {redact(self.url)}: {error}") from None
        if isinstance(error, Exception):  # a reply of the wrong shape, met past the backend's checks
            raise CacheError(f"remote cache {redact(self.url)}: unexpected reply "
                             f"({type(error).__name__}: {error})") from None
        if error is not None:
            raise error
        return result  # type: ignore[return-value]


def remote_info(url: str | None = None) -> dict[str, Any]:
    """The store's URL (password hidden), server, memory, entry count, size, claims and counters."""
    admin = _Admin(url)
    return {"url": redact(admin.url), **admin(admin.backend.info), **admin(admin.backend.stats)}


def remote_stats(url: str | None = None) -> dict[str, Any]:
    """Remote hits, misses and uploads, in total and per host."""
    admin = _Admin(url)
    return {"url": redact(admin.url), **admin(admin.backend.stats)}


def remote_list(url: str | None = None) -> list[dict[str, Any]]:
    """One dict per stored entry (the fields of ``Compiledir.entries()`` that a store knows)."""
    admin = _Admin(url)
    return admin(admin.backend.entries)


def remote_purge(url: str | None = None, older_than: float | str | None = None, max_size: int | str | None = None,
                 all: bool = False, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove stored entries as ``Compiledir.purge`` removes local ones: every one (``all``), those
    unused for ``older_than``, then least recently used ones until the store holds ``max_size``.
    Returns the removed (with ``dry_run``: the would-be removed) entries."""
    policy = PurgePolicy.of(older_than, max_size, all)
    admin = _Admin(url)
    stored = admin(admin.backend.entries)
    chosen = policy.select(stored, size=lambda e: e["size"],
                           last_used=lambda e: e.get("last_used") or e.get("created") or 0.0)
    if not dry_run and chosen:
        admin(admin.backend.delete, [e["key"] for e in chosen])
    return chosen
