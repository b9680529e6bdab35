"""The tier logic between the compiledir and a remote store: deadlines, a circuit breaker,
compile-once claims across hosts, and fetch-verify-install.

The compiledir asks its tier for three things, in one place each (see compiledir.py):

* :meth:`Tier.fetch` on a local miss: the remote copy of the entry, installed as every entry is
  (:func:`.install.install_bytes`: staged, fsynced, verified by the very code that verifies a
  local lookup, published with one rename).  A bad remote copy is logged and ignored; the fresh
  build that follows overwrites it.
* :meth:`Tier.claim` before a build: compile-once across hosts.  The builder takes an expiring
  claim in the store (``SET NX PX``) and a heartbeat thread renews it; other hosts poll (with
  backoff, at most ``lock_timeout``) until the entry appears, or the claim expires and they take
  it themselves.
* :meth:`Tier.push` after a fresh build: the entry goes to the store too.

``Tier`` itself is the tier of a compiledir without ``config.remote_cache``: it does nothing, so
the compiledir needs no branches.  :class:`RemoteTier` adds a store (:class:`.remote_backend.RemoteBackend`).

A store that is unreachable, slow, full or hostile must never fail or stall a compile, nor keep
the process from exiting: every store operation runs on a daemon thread and the caller stops
waiting after ``config.remote_timeout``; any exception of an operation is a store failure; a
failed or abandoned operation is reported through the tier's ``warn`` (one warning per process
and URL: :mod:`.remote`) and opens a circuit breaker, so for ``RETRY_AFTER`` seconds every call
uses the local tier alone without touching the store.  A full store (out of memory) only stops
writes; reads go on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from types import TracebackType
from typing import Any, Callable, TypeVar

from ..config import config
from ..errors import CacheError
from ..fs.layout import Layout
from . import evict
from .entry import Damaged, Entry, Unwritable
from .entry_blob import entry_summary, pack_entry, unpack_entry
from .install import install_bytes
from .keys import CacheKey
from .remote_backend import RemoteBackend, RemoteError, RemoteFull, on_daemon_thread, redact

__all__ = ["Tier", "RemoteTier", "Claim", "CLAIM_TTL", "RETRY_AFTER"]

log = logging.getLogger("fncache.cache")

#: A claim not renewed for this long is dead (its host crashed); the heartbeat renews it every third.
CLAIM_TTL = 15.0
#: After a failure the store is left alone this long; then one call tries it again.
RETRY_AFTER = 30.0
_POLL_FIRST, _POLL_MAX, _POLL_GROWTH = 0.02, 0.5, 1.5

T = TypeVar("T")


class _Unavailable(Exception):
    """A store operation was skipped (breaker open) or failed: the caller goes on with the local tier."""


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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
                if not self._remote.call(
                    self._remote.backend.renew, self._digest, self._token, CLAIM_TTL, write=True
                ):
                    log.info(
                        "fncache: lost the remote build claim of %s (it expired); building anyway",
                        self._digest[:16],
                    )
                    return
            except _Unavailable:
                return

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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

    def __init__(self, backend: RemoteBackend, warn: Callable[[str, str], None]):
        self.backend = backend
        self._warn = warn  # (url, message): how this process reports a failing store
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
            done, outcome = on_daemon_thread(fn, args)
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
            log.debug(
                "fncache: remote cache %s operation %s failed",
                self.url,
                getattr(fn, "__name__", fn),
                exc_info=error,
            )
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
        what = (
            "is full; storing entries locally only"
            if full
            else "is unavailable; using the local compiledir alone"
        )
        self._warn(
            self.backend.url,
            f"fncache: remote cache {self.url} {what} ({reason}); trying it again in "
            f"{RETRY_AFTER:g}s. Further remote cache failures are logged at debug level.",
        )

    def fetch(self, key: CacheKey, layout: Layout, host: str) -> Entry | None:
        try:
            blob = self.call(self.backend.lookup, key.digest, host)
        except _Unavailable:
            return None
        return self._install(key, blob, layout, host) if blob is not None else None

    def claim(self, key: CacheKey, layout: Layout, host: str) -> Claim:
        token = f"{host}:{os.getpid()}:{os.urandom(4).hex()}"
        deadline = time.monotonic() + config.lock_timeout
        delay = _POLL_FIRST
        announced = False
        while True:
            try:
                blob, won, holder = self.call(
                    self.backend.try_claim, key.digest, token, CLAIM_TTL, write=True
                )
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
                return Claim(
                    self, host
                )  # a claim lately outlived lock_timeout: the store's claims are not waited on
            if now >= deadline:
                # A holder that never delivers (its host is stuck, or the store lies about claims):
                # build here, and wait on no claim of this store for a while, so that such a store
                # costs one lock_timeout per RETRY_AFTER, not one per key.
                self._waits_off_until = now + RETRY_AFTER
                log.warning(
                    "fncache: waited %gs (config.lock_timeout) for %s to build %s (%s) in the remote cache "
                    "%s; building it here, and not waiting on its build claims for %gs",
                    config.lock_timeout,
                    _who(holder),
                    key.digest[:16],
                    key.kind,
                    self.url,
                    RETRY_AFTER,
                )
                return Claim(self, host)
            if not announced:
                announced = True
                log.info(
                    "fncache: %s is building %s (%s); waiting for it in the remote cache %s",
                    _who(holder),
                    key.digest[:16],
                    key.kind,
                    self.url,
                )
            time.sleep(min(delay, deadline - now))
            delay = min(delay * _POLL_GROWTH, _POLL_MAX)

    def push(self, entry: Entry, host: str) -> None:
        try:
            blob = pack_entry(entry)
        except (OSError, KeyError, CacheError) as e:  # evicted or replaced since it was published
            log.debug("fncache: not uploading %s: %s", entry.key.digest[:16], e)
            return
        try:
            self.call(
                self.backend.store, entry.key.digest, blob, entry_summary(entry, len(blob)), host, write=True
            )
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
            log.warning(
                "fncache: ignoring the remote copy of cache entry %s (%s) from %s: %s; it will be "
                "built here and overwritten",
                key.digest[:16],
                key.kind,
                self.url,
                e,
            )
            return None
        except Unwritable:  # the compiledir takes nothing now: the caller builds privately
            raise
        except (
            OSError,
            CacheError,
        ) as e:  # e.g. a blob larger than the free space: the store must not fail the call
            log.warning(
                "fncache: cannot stage the remote copy of cache entry %s (%s) from %s: %s; building it here",
                key.digest[:16],
                key.kind,
                self.url,
                e,
            )
            return None
        if done.published:
            evict.note_added(layout, done.size, config.cache_max_size)
        return done.entry


def _who(token: str | None) -> str:
    host, _, rest = (token or "").partition(":")
    pid = rest.partition(":")[0]
    return f"pid {pid} on host {host}" if host and pid else "another host"
