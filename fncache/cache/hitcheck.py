"""Verification of cache hits (flag ``cache_verify_hits``): a hit is compared with a rebuild.

A key is sound when everything that changes what is built is one of its components. With the
flag on, the linkers rebuild what a hit would have saved (the optimized graph, the generated
source, the compiled library) and hand both to :func:`check_hit`, which raises
:class:`~fncache.errors.CacheError` naming the key and what differs. Off by default: a rebuild
costs what the cache saves. The test suite turns it on for its key tests.
"""

from __future__ import annotations

import hashlib
from typing import Mapping

from ..errors import CacheError
from .keys import CacheKey

__all__ = ["check_hit"]


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def check_hit(
    key: CacheKey, stored_meta: Mapping[str, object], parts: Mapping[str, tuple[bytes | str, bytes | str]]
) -> None:
    """Raise CacheError unless the entry found for ``key`` matches a rebuild.

    ``stored_meta`` is the entry's metadata: the key components it records must be the ones
    computed now. ``parts`` maps what the entry holds (e.g. ``"optimized graph"``) to its
    stored and rebuilt forms, compared by content.
    """
    recorded = stored_meta.get("components")
    if isinstance(recorded, Mapping):
        for name, mine, theirs in key.explain(
            CacheKey(str(stored_meta.get("kind", key.kind)), {str(k): str(v) for k, v in recorded.items()})
        ):
            raise CacheError(
                f"cache entry {key.digest} ({key.kind} key) records key component {name!r} as "
                f"{theirs!r}, but this lookup computes {mine!r}: the entry was stored under another "
                "key's digest (damaged or forged metadata)"
            )
    for name, (stored, rebuilt) in parts.items():
        if _sha256(stored) != _sha256(rebuilt):
            raise CacheError(
                f"cache entry {key.digest} ({key.kind} key) does not match a rebuild: its {name} "
                f"differs (stored sha256 {_sha256(stored)[:16]}, rebuilt {_sha256(rebuilt)[:16]}). "
                f"Something that changes the {name} is not a component of the key; the key's "
                f"components are {', '.join(sorted(key.components))}"
            )
