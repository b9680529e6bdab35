"""The Redis store of the remote tier (``remote_cache = "redis://host:port/db"`` or ``rediss://``).

Imported only when a URL names Redis, so ``import fncache`` never imports redis-py.  Keys, all
under ``fncache:1:`` (the 1 is the layout version: a new layout never misreads an old one)::

    entry:<digest>   one blob per entry: meta.json and every file (remote.pack_entry)
    claim:<digest>   the build claim: "<host>:<pid>:<rand>", PX-expiring, renewed by its builder
    index            hash digest -> JSON summary (kind, size, created, host, march, compile_seconds)
    used, hits       hashes digest -> last use (epoch seconds), hit count
    stats            hash: hits, misses, uploads, and <counter>@<host> per host

Redis is the cache's size cap here: give it ``maxmemory`` and ``maxmemory-policy allkeys-lru``
(docs/remote.md).  An entry is written with its index line in one MULTI; an entry evicted by
Redis leaves a dangling index line, which ``entries()`` drops.

The client never retries and never waits longer than ``remote_timeout`` on a socket: the tier
(remote.py) owns timing and failure policy, and every redis-py error leaves here as
:class:`~fncache.cache.remote.RemoteError` (:class:`~fncache.cache.remote.RemoteFull` for OOM).
"""
from __future__ import annotations

import contextlib
import json
import time
from typing import Any, Iterator, Mapping

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .remote import RemoteBackend, RemoteError, RemoteFull

__all__ = ["RedisBackend"]

PREFIX = "fncache:1:"
ENTRY, CLAIM = PREFIX + "entry:", PREFIX + "claim:"
INDEX, USED, HITS, STATS = PREFIX + "index", PREFIX + "used", PREFIX + "hits", PREFIX + "stats"
_COUNTERS = ("hits", "misses", "uploads")

# Compare-and-act on the claim, so a builder whose claim expired never touches its successor's.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _is_oom(e: BaseException) -> bool:
    oom = getattr(redis.exceptions, "OutOfMemoryError", None)  # redis-py >= 4.4; older: a ResponseError
    return (oom is not None and isinstance(e, oom)) or "maxmemory" in str(e) or str(e).startswith("OOM")


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """redis-py's errors (and socket errors it lets through) as the tier's two exception types."""
    try:
        yield
    except (redis.RedisError, OSError) as e:
        if _is_oom(e):
            raise RemoteFull(str(e)) from None
        raise RemoteError(f"{type(e).__name__}: {e}") from None


class RedisBackend(RemoteBackend):
    """One redis-py client (a thread-safe connection pool) for one URL."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self._r = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                       retry=Retry(NoBackoff(), 0), retry_on_timeout=False,
                                       health_check_interval=0)
        self._renew = self._r.register_script(_RENEW)
        self._release = self._r.register_script(_RELEASE)

    def lookup(self, digest: str, host: str) -> bytes | None:
        with _translated():
            blob: bytes | None = self._r.get(ENTRY + digest)  # type: ignore[assignment]  # no decode_responses
        event = "hits" if blob is not None else "misses"
        pipe = self._r.pipeline(transaction=False)
        if blob is not None:
            pipe.hset(USED, digest, f"{time.time():.3f}")
            pipe.hincrby(HITS, digest, 1)
        pipe.hincrby(STATS, event, 1)
        pipe.hincrby(STATS, f"{event}@{host}", 1)
        try:
            with _translated():
                pipe.execute()
        except RemoteFull:
            pass  # counters are not worth failing a read for: a full Redis still serves entries
        return blob

    def try_claim(self, digest: str, token: str, ttl: float) -> tuple[bytes | None, bool, str | None]:
        pipe = self._r.pipeline(transaction=False)
        pipe.get(ENTRY + digest)
        pipe.set(CLAIM + digest, token, nx=True, px=int(ttl * 1000))
        pipe.get(CLAIM + digest)
        with _translated():
            blob, won, holder = pipe.execute(raise_on_error=False)
        if isinstance(blob, Exception):
            with _translated():
                raise blob
        if isinstance(won, Exception):  # a full Redis refuses the claim but still serves the entry
            if blob is not None:
                return blob, False, None
            with _translated():
                raise won
        return blob, bool(won), holder.decode(errors="replace") if isinstance(holder, bytes) else None

    def renew(self, digest: str, token: str, ttl: float) -> bool:
        with _translated():
            return bool(self._renew(keys=[CLAIM + digest], args=[token, int(ttl * 1000)]))

    def release(self, digest: str, token: str) -> None:
        with _translated():
            self._release(keys=[CLAIM + digest], args=[token])

    def store(self, digest: str, blob: bytes, summary: Mapping[str, Any], host: str) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.set(ENTRY + digest, blob)
        pipe.hset(INDEX, digest, json.dumps(dict(summary), sort_keys=True, default=str))
        pipe.hset(USED, digest, f"{time.time():.3f}")
        pipe.hincrby(STATS, "uploads", 1)
        pipe.hincrby(STATS, f"uploads@{host}", 1)
        with _translated():
            pipe.execute()

    def _digests(self) -> list[str]:
        n = len(ENTRY)
        return [k[n:].decode() for k in self._r.scan_iter(match=ENTRY + "*", count=1000)]

    def entries(self) -> list[dict[str, Any]]:
        with _translated():
            digests = self._digests()
            pipe = self._r.pipeline(transaction=False)
            pipe.hgetall(INDEX)
            pipe.hgetall(USED)
            pipe.hgetall(HITS)
            index, used, hits = ({k.decode(): v for k, v in h.items()} for h in pipe.execute())
            unindexed = [d for d in digests if d not in index]
            pipe = self._r.pipeline(transaction=False)
            for d in unindexed:
                pipe.strlen(ENTRY + d)
            sizes = dict(zip(unindexed, pipe.execute()))
            dangling = set(index) - set(digests)  # evicted by Redis (allkeys-lru): forget their lines
            if dangling:
                self._r.hdel(INDEX, *dangling)
        out = []
        for d in digests:
            try:
                summary = json.loads(index[d]) if d in index else {"size": sizes[d]}
            except ValueError:
                summary = {"size": sizes.get(d, 0)}
            out.append({"key": d, "kind": summary.get("kind"), "size": int(summary.get("size") or 0),
                        "created": summary.get("created"),
                        "last_used": float(used[d]) if d in used else summary.get("created"),
                        "hits": int(hits.get(d, 0)), "host": summary.get("host"), "march": summary.get("march"),
                        "compile_seconds": summary.get("compile_seconds")})
        return out

    def delete(self, digests: list[str]) -> int:
        if not digests:
            return 0
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(*(ENTRY + d for d in digests))
        for h in (INDEX, USED, HITS):
            pipe.hdel(h, *digests)
        with _translated():
            return int(pipe.execute()[0])

    def info(self) -> dict[str, Any]:
        with _translated():
            server = self._r.info()
            entries = self.entries()
            claims = sum(1 for _ in self._r.scan_iter(match=CLAIM + "*", count=1000))
        return {"backend": "redis", "server_version": server.get("redis_version"),
                "used_memory": server.get("used_memory"), "maxmemory": server.get("maxmemory"),
                "maxmemory_policy": server.get("maxmemory_policy"), "entries": len(entries),
                "size": sum(e["size"] for e in entries), "claims": claims}

    def stats(self) -> dict[str, Any]:
        with _translated():
            raw = {k.decode(): int(v) for k, v in self._r.hgetall(STATS).items()}  # type: ignore[union-attr]
        totals = {c: raw.get(c, 0) for c in _COUNTERS}
        per_host: dict[str, dict[str, int]] = {}
        for name, n in raw.items():
            counter, _, host = name.partition("@")
            if host and counter in _COUNTERS:
                per_host.setdefault(host, dict.fromkeys(_COUNTERS, 0))[counter] = n
        lookups = totals["hits"] + totals["misses"]
        return {**totals, "hit_rate": totals["hits"] / lookups if lookups else None, "per_host": per_host}
