"""The remote tier's administrative commands (``fncache info|stats|list|purge --remote``).

Unlike the tier behind the compiledir, a command reports a failing store as a
:class:`~fncache.errors.CacheError` naming it, and waits at most :data:`ADMIN_TIMEOUT` in all.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..config import config
from ..errors import CacheError
from .remote_backend import RemoteError, backend_for, on_daemon_thread, redact

__all__ = ["remote_info", "remote_stats", "remote_list", "remote_purge", "ADMIN_TIMEOUT"]

#: The most an administrative command waits in all.
ADMIN_TIMEOUT = 300.0

T = TypeVar("T")


class _Admin:
    """A backend for one administrative command: failures are :class:`CacheError` messages, not warnings."""

    def __init__(self, url: str | None):
        url = url or config.remote_cache
        if not url:
            raise CacheError(
                "no remote cache: set config.remote_cache (FNCACHE_FLAGS=remote_cache=redis://HOST:PORT/DB)"
            )
        self.url = url
        try:
            self.backend = backend_for(url, config.remote_timeout)
        except (ImportError, ValueError) as e:
            raise CacheError(f"remote cache {redact(url)}: {e}") from None

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, bounded by :data:`ADMIN_TIMEOUT` in all (each command by ``remote_timeout``):
        a store that keeps answering (an endless SCAN) cannot hold a command for ever either."""
        done, outcome = on_daemon_thread(fn, args)
        if not done.wait(ADMIN_TIMEOUT):
            raise CacheError(f"remote cache {redact(self.url)}: no complete answer within {ADMIN_TIMEOUT:g}s")
        result, error = outcome
        if isinstance(error, RemoteError):
            raise CacheError(f"remote cache {redact(self.url)}: {error}") from None
        if isinstance(error, Exception):  # a reply of the wrong shape, met past the backend's checks
            raise CacheError(
                f"remote cache {redact(self.url)}: unexpected reply ({type(error).__name__}: {error})"
            ) from None
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


def remote_purge(
    url: str | None = None,
    older_than: float | str | None = None,
    max_size: int | str | None = None,
    all: bool = False,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Remove stored entries as ``Compiledir.purge`` removes local ones: every one (``all``), those
    unused for ``older_than``, then least recently used ones until the store holds ``max_size``.
    Returns the removed (with ``dry_run``: the would-be removed) entries."""
    from .purge_policy import PurgePolicy

    policy = PurgePolicy.of(older_than, max_size, all)
    admin = _Admin(url)
    stored = admin(admin.backend.entries)
    chosen = policy.select(
        stored, size=lambda e: e["size"], last_used=lambda e: e.get("last_used") or e.get("created") or 0.0
    )
    if not dry_run and chosen:
        admin(admin.backend.delete, [e["key"] for e in chosen])
    return chosen
