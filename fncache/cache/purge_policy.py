"""Which entries a purge removes, for every tier (the compiledir, the remote store).

A purge names what to remove: every entry (``all``), the entries unused for ``older_than``
(seconds or ``"30d"``), then least recently used ones until what is left fits ``max_size``
(bytes or ``"2GB"``).  The tiers differ only in how they list their entries and remove them;
the choice is made here, once.
"""

from __future__ import annotations

import math
import re
import time
from typing import Callable, Sequence, TypeVar

from ..config import parse_size

__all__ = ["PurgePolicy", "parse_age", "parse_max_size"]

T = TypeVar("T")

_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


_AGE_FORMS = "30d, 12h, 15m, 45s, 2w or a number of seconds"


def parse_age(value: float | int | str) -> float:
    """Seconds from a number or ``"30d"``, ``"12h"``, ``"15m"``, ``"45s"``, ``"2w"``: finite and >= 0
    (an age counts back from now)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        m = re.fullmatch(r"(-?)([0-9]*\.?[0-9]+)\s*([smhdw]?)", text)
        if not m:
            raise ValueError(f"expected an age such as {_AGE_FORMS}, got {value!r}")
        seconds = float(m[1] + m[2]) * _AGE_UNITS[m[3] or "s"]
    if not seconds >= 0:  # NaN too
        raise ValueError(f"an age must be >= 0 (it counts back from now): give {_AGE_FORMS}; got {value!r}")
    if math.isinf(seconds):
        raise ValueError(f"an age must be finite: give {_AGE_FORMS}; got {str(value)[:40]!r}")
    return seconds


def parse_max_size(value: int | str, every: str = "all=True") -> int:
    """A purge's size to keep, in bytes (``parse_size``), not 0: the ``cache_max_size`` flag reads 0
    as no cap, so a purge to 0 bytes would mean the opposite of the same number there; emptying
    the cache is asked for by name (``every``: how the caller spells it)."""
    size = parse_size(value)
    if size == 0:
        raise ValueError(
            f"a size of 0 is refused ({value!r}): cache_max_size=0 means no cap, so it cannot also mean "
            f"remove everything; to remove every entry use {every}, else give the size to keep (e.g. '2GB')"
        )
    return size


class PurgePolicy:
    """What a purge removes: every entry, or those unused for ``older_than`` seconds and then the
    least recently used until ``max_size`` bytes are left (either or both)."""

    __slots__ = ("every", "older_than", "max_size")

    def __init__(self, every: bool = False, older_than: float | None = None, max_size: int | None = None):
        self.every = every
        self.older_than = older_than
        self.max_size = max_size

    def __repr__(self) -> str:
        return f"PurgePolicy(every={self.every}, older_than={self.older_than}, max_size={self.max_size})"

    @classmethod
    def of(
        cls, older_than: float | str | None = None, max_size: int | str | None = None, all: bool = False
    ) -> PurgePolicy:
        """The policy of a purge call's arguments; ValueError when they name nothing to remove or
        an age or size is malformed."""
        if not all and older_than is None and max_size is None:
            raise ValueError("purge: say what to remove: all=True, older_than=... and/or max_size=...")
        return cls(
            every=bool(all),
            older_than=parse_age(older_than) if older_than is not None else None,
            max_size=parse_max_size(max_size) if max_size is not None else None,
        )

    def select(
        self,
        entries: Sequence[T],
        *,
        size: Callable[[T], int],
        last_used: Callable[[T], float],
        now: float | None = None,
    ) -> list[T]:
        """The entries to remove, least recently used first: every one, else the ones last used
        before ``now - older_than``, then more in LRU order until the rest fits ``max_size``."""
        by_use = sorted(entries, key=last_used)
        if self.every:
            return by_use
        chosen: list[T] = []
        if self.older_than is not None:
            cutoff = (time.time() if now is None else now) - self.older_than
            chosen = [e for e in by_use if last_used(e) < cutoff]
        if self.max_size is not None:
            taken = {id(e) for e in chosen}
            left = sum(size(e) for e in by_use if id(e) not in taken)
            for e in by_use:
                if left <= self.max_size:
                    break
                if id(e) not in taken:
                    chosen.append(e)
                    taken.add(id(e))
                    left -= size(e)
        return chosen
