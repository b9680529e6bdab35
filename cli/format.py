"""Numbers to text for people: sizes, ages, durations, counts, aligned tables.

Pure functions (no I/O) so every command renders the same way and tests can check them alone.
Sizes use the decimal units that ``--max-size`` and ``cache_max_size`` accept, so a printed
size can be pasted back into a command.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

__all__ = [
    "age",
    "count",
    "duration",
    "percent",
    "printable",
    "short_key",
    "size",
    "table",
    "timestamp",
    "value_difference",
]

_SIZE_UNITS = ("KB", "MB", "GB", "TB", "PB")
KEY_CHARS = 16  # as many hex digits of a key as the cache's own log and error messages show


def size(nbytes: float | None) -> str:
    """``512 B``, ``60.2 KB``, ``1.2 GB`` (powers of 1000)."""
    if nbytes is None:
        return "-"
    value = float(nbytes)
    if abs(value) < 1000:
        return f"{int(value)} B"
    for unit in _SIZE_UNITS:
        value /= 1000
        if abs(value) < 999.95 or unit == _SIZE_UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def age(when: float | None, now: float | None = None) -> str:
    """``just now``, ``42 s ago``, ``5 min ago``, ``3 h ago``, ``3 d ago``.

    A time in the future (clock skew between hosts sharing a cache) reads as ``just now``.
    """
    if not isinstance(when, (int, float)) or isinstance(when, bool):
        return "-"
    delta = (time.time() if now is None else now) - when
    if delta < 1:
        return "just now"
    if delta < 60:
        return f"{int(delta)} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return f"{int(delta // 86400)} d ago"


def timestamp(when: float | None) -> str:
    """Local ``YYYY-MM-DD HH:MM:SS`` of an epoch time."""
    if not isinstance(when, (int, float)) or isinstance(when, bool):
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
    except (OverflowError, OSError, ValueError):  # a record's time past what time_t holds
        return "-"


def duration(seconds: float | None) -> str:
    """``850 µs``, ``45 ms``, ``1.23 s``, ``3 min 5 s``, ``2.1 h``."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "-"
    if seconds == 0:
        return "0 s"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds / 3600:.1f} h"


def count(n: float, noun: str | None = None, plural: str | None = None) -> str:
    """``10,000`` or, with a noun, ``1 entry`` / ``10,000 entries``."""
    text = f"{int(n):,}"
    if noun is None:
        return text
    return f"{text} {noun if int(n) == 1 else (plural or noun + 's')}"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def short_key(key: str) -> str:
    return key[:KEY_CHARS]


def printable(text: str, keep: str = "") -> str:
    """``text`` with its control characters (C0, DEL, C1) written as escapes (``\\x1b``,
    ``\\n``), those in ``keep`` aside: names and records a command prints come from a shared
    compiledir, anybody's with write access there, and printed raw they would drive the reader's
    terminal (retitle it, clear it, forge lines)."""
    if text.isprintable():
        return text
    return "".join(c if c in keep or not (c < " " or "\x7f" <= c <= "\x9f") else repr(c)[1:-1] for c in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], right: Iterable[int] = ()) -> list[str]:
    """Rows aligned under their headers, two spaces apart; columns in ``right`` are right-aligned
    (numbers).  The last column is not padded, so lines carry no trailing blanks."""
    cells = [[printable(str(c)) for c in row] for row in rows]  # a cell is one line
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    right = set(right)
    last = len(headers) - 1

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, c in enumerate(row):
            if i in right:
                parts.append(c.rjust(widths[i]))
            elif i == last:
                parts.append(c)
            else:
                parts.append(c.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    return [line(list(headers))] + [line(row) for row in cells]


#: Values with at least this many space-separated tokens (flag lists) are compared token by token.
_TOKEN_DIFF_MIN = 4
#: At most this many flags of one side are printed; JSON output always has the full values.
_TOKENS_SHOWN = 12


def _tokens_only_in(a: list[str], b: list[str]) -> str:
    others = set(b)
    only = [t for t in a if t not in others]
    if len(only) > _TOKENS_SHOWN:
        return " ".join(only[:_TOKENS_SHOWN]) + f" ... (+{len(only) - _TOKENS_SHOWN} more)"
    return " ".join(only) or "-"


def value_difference(a: str | None, b: str | None, labels: tuple[str, str] = ("a", "b")) -> list[str]:
    """How two values of one component differ, for people: flag lists as the flags only one side
    has (a march string is ~90 flags of which a few differ), other values side by side."""
    ta, tb = (a or "").split(), (b or "").split()
    if a is not None and b is not None and max(len(ta), len(tb)) >= _TOKEN_DIFF_MIN:
        if set(ta) == set(tb):
            return ["same flags in another order"]
        return [
            f"only in {labels[0]}: {_tokens_only_in(ta, tb)}",
            f"only in {labels[1]}: {_tokens_only_in(tb, ta)}",
        ]
    return [
        f"{labels[0]}: {a if a is not None else '(absent)'}",
        f"{labels[1]}: {b if b is not None else '(absent)'}",
    ]
