"""The interface of a remote store (as Triton's runtime/cache.py has one for its remote backends),
the table of backends by URL scheme, and how a call into one is bounded.

A backend only stores and returns blobs and claims; timing and failure policy are the tier's
(:mod:`.tiers`).  The Redis backend is :mod:`.remote_redis`, imported only when a URL names it,
so ``import fncache`` and local hits never import it.
"""

from __future__ import annotations

import abc
import importlib
import threading
from typing import Any, Callable, Mapping, TypeVar

from ..config import REMOTE_SCHEMES
from ..config import redact_url as redact  # the one password hider (the config prints URLs too)

__all__ = [
    "RemoteBackend",
    "RemoteError",
    "RemoteFull",
    "backend_for",
    "redact",
    "on_daemon_thread",
    "BACKENDS",
]

T = TypeVar("T")

#: URL scheme -> (module, class) of the backend that serves it.
BACKENDS = dict.fromkeys(REMOTE_SCHEMES, ("fncache.cache.remote_redis", "RedisBackend"))


class RemoteError(Exception):
    """The store failed (unreachable, timed out, refused); backends raise only this (or RemoteFull)."""


class RemoteFull(RemoteError):
    """The store refused a write because it is out of memory; reads still work."""


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
    scheme = url.partition("://")[0].lower() if "://" in url else ""  # the backend parses the rest
    if scheme not in BACKENDS:
        raise ValueError(
            f"remote_cache: unsupported URL scheme {scheme!r} in {redact(url)!r}; "
            f"expected one of {', '.join(sorted(BACKENDS))}"
        )
    module, cls = BACKENDS[scheme]
    return getattr(importlib.import_module(module), cls)(url, timeout)


def on_daemon_thread(fn: Callable[..., T], args: tuple) -> tuple[threading.Event, list[Any]]:
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
