"""The remote tier (docs/remote.md): compiledir entries shared through a store such as Redis, for hosts
that share no filesystem (Kubernetes pods, cloud batch jobs, CI runners).

The local compiledir stays the first tier and the only place code is ever loaded from.  The
parts, one job each:

* :mod:`.remote_backend` — the small interface a store implements (:class:`RemoteBackend`), the
  table of backends by URL scheme; :mod:`.remote_redis` — the Redis backend (its RESP client is
  :mod:`.resp`);
* :mod:`.entry_blob` — an entry as one blob;
* :mod:`.tiers` — the tier logic: deadlines, circuit breaker, claims, fetch-verify-install;
* :mod:`.remote_admin` — the administrative commands;
* this module — the tier of ``config.remote_cache`` for this process (one per URL, one warning
  per URL), and the public names of all of the above.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from typing import Any

from ..config import config
from .entry import Damaged
from .entry_blob import pack_entry, unpack_entry
from .remote_backend import RemoteBackend, RemoteError, RemoteFull, backend_for, redact
from .tiers import CLAIM_TTL, RETRY_AFTER, Claim, RemoteTier, Tier

#: The administrative commands, imported on first use (a compile or a lookup needs none of them).
_ADMIN = ("remote_info", "remote_stats", "remote_list", "remote_purge", "ADMIN_TIMEOUT")

__all__ = [
    "Tier",
    "RemoteTier",
    "RemoteBackend",
    "RemoteError",
    "RemoteFull",
    "Claim",
    "remote_tier",
    "backend_for",
    "pack_entry",
    "unpack_entry",
    "redact",
    "CLAIM_TTL",
    "RETRY_AFTER",
    "Damaged",
    *_ADMIN,
]

log = logging.getLogger("fncache.cache")

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
                tier = RemoteTier(backend_for(url, memo[1]), _warn_once)
            except ValueError as e:  # a bad URL: local alone, for good
                _warn_once(
                    url,
                    f"fncache: remote cache {redact(url)} cannot be used: {e}; using the "
                    f"local compiledir alone",
                )
                tier = _LOCAL_ONLY
            with _tiers_lock:
                tier = _tiers.setdefault(memo, tier)
    return tier


def _forget_tiers() -> None:
    """A forked child must not share the parent's sockets and worker threads: it opens its own."""
    _tiers.clear()


os.register_at_fork(after_in_child=_forget_tiers)


def __getattr__(name: str) -> Any:
    if name in _ADMIN:
        return getattr(importlib.import_module("fncache.cache.remote_admin"), name)
    raise AttributeError(f"module 'fncache.cache.remote' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ADMIN))
