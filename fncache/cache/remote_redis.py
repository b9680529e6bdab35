"""The Redis store of the remote tier (``remote_cache = "redis://host:port/db"`` or ``rediss://``).

It speaks to Redis through :mod:`fncache.cache.resp` (a small RESP client: importing redis-py
would cost ~160 ms, more than a small compile).  Keys, all under ``fncache:1:`` (the 1 is the layout version: a new layout never misreads an old one)::

    entry:<digest>   one blob per entry: meta.json and every file (entry_blob.pack_entry)
    claim:<digest>   the build claim: "<host>:<pid>:<rand>", PX-expiring, renewed by its builder
    index            hash digest -> JSON summary (kind, size, created, host, march, compile_seconds)
    used, hits       hashes digest -> last use (epoch seconds), hit count
    stats            hash: hits, misses, uploads, and <counter>@<host> per host

Redis is the cache's size cap here: give it ``maxmemory`` and ``maxmemory-policy allkeys-lru``
(docs/remote.md).  An entry is written with its index line in one MULTI; an entry evicted by
Redis leaves a dangling index line, which ``entries()`` drops.

The client never retries and gives each command one deadline of ``remote_timeout``: the tier
(tiers.py) owns timing and failure policy, and every client error, like every reply of the
wrong shape, leaves here as :class:`~fncache.cache.remote.RemoteError`
(:class:`~fncache.cache.remote.RemoteFull` for OOM).
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any, Iterator, Mapping

from ..fs.safedir import parse_json
from .remote_backend import RemoteBackend, RemoteError, RemoteFull
from .resp import RespClient, RespError

__all__ = ["RedisBackend"]

PREFIX = "fncache:1:"
ENTRY, CLAIM = PREFIX + "entry:", PREFIX + "claim:"
INDEX, USED, HITS, STATS = PREFIX + "index", PREFIX + "used", PREFIX + "hits", PREFIX + "stats"
_COUNTERS = ("hits", "misses", "uploads")

# Compare-and-act on the claim, so a builder whose claim expired never touches its successor's.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _is_oom(e: BaseException) -> bool:
    return "maxmemory" in str(e) or str(e).startswith("OOM")


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """The client's errors (server replies, sockets, protocol) as the tier's two exception types;
    a reply of the wrong shape (a hostile or broken server) is a RemoteError too."""
    try:
        yield
    except (RespError, OSError) as e:
        if _is_oom(e):
            raise RemoteFull(str(e)) from None
        raise RemoteError(f"{type(e).__name__}: {e}") from None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
        raise RemoteError(f"unexpected reply from the server ({type(e).__name__}: {e})") from None


def _blob(reply: Any) -> bytes | None:
    """A GET reply: bytes or None, or the error it is raised."""
    if reply is None or isinstance(_raised(reply), bytes):
        return reply
    raise RemoteError(f"GET answered {type(reply).__name__}, not a string")


def _raised(reply: Any) -> Any:
    """A pipelined reply, or its error raised."""
    if isinstance(reply, RespError):
        raise reply
    return reply


def _hash(flat: list[bytes]) -> dict[str, bytes]:
    return {k.decode(): v for k, v in zip(flat[::2], flat[1::2])}


class RedisBackend(RemoteBackend):
    """One RESP client (one connection, thread-safe) for one URL."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self._r = RespClient(url, timeout)  # ValueError for a malformed URL

    def lookup(self, digest: str, host: str) -> bytes | None:
        with _translated():
            blob = _blob(self._r.execute("GET", ENTRY + digest))
        event = "hits" if blob is not None else "misses"
        counters = (
            [("HSET", USED, digest, f"{time.time():.3f}"), ("HINCRBY", HITS, digest, 1)]
            if blob is not None
            else []
        )
        counters += [("HINCRBY", STATS, event, 1), ("HINCRBY", STATS, f"{event}@{host}", 1)]
        try:
            with _translated():
                for reply in self._r.pipeline(counters):
                    _raised(reply)
        except RemoteFull:
            pass  # counters are not worth failing a read for: a full Redis still serves entries
        return blob

    def try_claim(self, digest: str, token: str, ttl: float) -> tuple[bytes | None, bool, str | None]:
        with _translated():
            blob, won, holder = self._r.pipeline(
                [
                    ("GET", ENTRY + digest),
                    ("SET", CLAIM + digest, token, "NX", "PX", int(ttl * 1000)),
                    ("GET", CLAIM + digest),
                ]
            )
            blob = _blob(blob)
            if isinstance(won, RespError):  # a full Redis refuses the claim but still serves the entry
                if blob is not None:
                    return blob, False, None
                raise won
            _raised(holder)
        return blob, won == b"OK", holder.decode(errors="replace") if isinstance(holder, bytes) else None

    def renew(self, digest: str, token: str, ttl: float) -> bool:
        with _translated():
            return bool(self._r.script(_RENEW, [CLAIM + digest], [token, int(ttl * 1000)]))

    def release(self, digest: str, token: str) -> None:
        with _translated():
            self._r.script(_RELEASE, [CLAIM + digest], [token])

    def store(self, digest: str, blob: bytes, summary: Mapping[str, Any], host: str) -> None:
        with _translated():
            replies = self._r.pipeline(
                [
                    ("SET", ENTRY + digest, blob),
                    ("HSET", INDEX, digest, json.dumps(dict(summary), sort_keys=True, default=str)),
                    ("HSET", USED, digest, f"{time.time():.3f}"),
                    ("HINCRBY", STATS, "uploads", 1),
                    ("HINCRBY", STATS, f"uploads@{host}", 1),
                ],
                transaction=True,
            )
            for reply in replies:
                _raised(reply)

    def _digests(self) -> list[str]:
        n = len(ENTRY)
        return [k[n:].decode() for k in self._r.scan_iter(match=ENTRY + "*", count=1000)]

    def entries(self) -> list[dict[str, Any]]:
        with _translated():
            digests = self._digests()
            index, used, hits = (
                _hash(_raised(r))
                for r in self._r.pipeline([("HGETALL", INDEX), ("HGETALL", USED), ("HGETALL", HITS)])
            )
            unindexed = [d for d in digests if d not in index]
            sizes = dict(
                zip(
                    unindexed,
                    (_raised(r) for r in self._r.pipeline([("STRLEN", ENTRY + d) for d in unindexed])),
                )
            )
            dangling = set(index) - set(digests)  # evicted by Redis (allkeys-lru): forget their lines
            if dangling:
                self._r.execute("HDEL", INDEX, *dangling)
        out = []
        for d in digests:
            try:
                summary = parse_json(index[d]) if d in index else {"size": sizes[d]}
            except ValueError:
                summary = {"size": sizes.get(d, 0)}
            out.append(
                {
                    "key": d,
                    "kind": summary.get("kind"),
                    "size": int(summary.get("size") or 0),
                    "created": summary.get("created"),
                    "last_used": float(used[d]) if d in used else summary.get("created"),
                    "hits": int(hits.get(d, 0)),
                    "host": summary.get("host"),
                    "march": summary.get("march"),
                    "compile_seconds": summary.get("compile_seconds"),
                }
            )
        return out

    def delete(self, digests: list[str]) -> int:
        if not digests:
            return 0
        with _translated():
            replies = self._r.pipeline(
                [
                    ("DEL", *(ENTRY + d for d in digests)),
                    *(("HDEL", h, *digests) for h in (INDEX, USED, HITS)),
                ],
                transaction=True,
            )
            return int(_raised(replies[0]))

    def info(self) -> dict[str, Any]:
        with _translated():
            server = self._r.info()
            entries = self.entries()
            claims = sum(1 for _ in self._r.scan_iter(match=CLAIM + "*", count=1000))
        return {
            "backend": "redis",
            "server_version": server.get("redis_version"),
            "used_memory": server.get("used_memory"),
            "maxmemory": server.get("maxmemory"),
            "maxmemory_policy": server.get("maxmemory_policy"),
            "entries": len(entries),
            "size": sum(e["size"] for e in entries),
            "claims": claims,
        }

    def stats(self) -> dict[str, Any]:
        with _translated():
            raw = {k.decode(): int(v) for k, v in self._r.hgetall(STATS).items()}
        totals = {c: raw.get(c, 0) for c in _COUNTERS}
        per_host: dict[str, dict[str, int]] = {}
        for name, n in raw.items():
            counter, _, host = name.partition("@")
            if host and counter in _COUNTERS:
                per_host.setdefault(host, dict.fromkeys(_COUNTERS, 0))[counter] = n
        lookups = totals["hits"] + totals["misses"]
        return {**totals, "hit_rate": totals["hits"] / lookups if lookups else None, "per_host": per_host}
