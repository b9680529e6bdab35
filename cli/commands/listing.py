"""What `list` and `purge` show, for the local compiledir and the remote tier alike."""

from __future__ import annotations

import argparse
import fnmatch
from typing import Any, Callable

from .. import format as fmt
from ..output import Output

__all__ = [
    "SORTS",
    "select_entries",
    "list_doc",
    "list_summary",
    "entries_table",
    "purge_doc",
    "purge_report",
]

#: --sort choices: the entry field and whether larger comes first.
SORTS: dict[str, tuple[str, bool]] = {
    "used": ("last_used", True),
    "age": ("created", False),
    "size": ("size", True),
    "hits": ("hits", True),
    "key": ("key", False),
}


def select_entries(
    every: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The entries matching --kind/--host sorted by --sort/--reverse, and the first --limit."""
    chosen = [
        e
        for e in every
        if (args.kind is None or fnmatch.fnmatchcase(str(e.get("kind")), args.kind))
        and (args.host is None or fnmatch.fnmatchcase(str(e.get("host")), args.host))
    ]
    field, descending = SORTS[args.sort]
    chosen.sort(
        key=lambda e: e.get(field) or 0, reverse=descending != args.reverse
    )  # None (unreadable meta) as 0
    return chosen, (chosen[: args.limit] if args.limit else chosen)


def list_doc(
    where: dict[str, str],
    every: list[dict[str, Any]],
    chosen: list[dict[str, Any]],
    shown: list[dict[str, Any]],
    to_json: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The `list` JSON document of both tiers: ``where`` (the cache's path or URL), then the
    counts of ``every`` entry, the ``chosen`` (matching) and the ``shown`` ones, the chosen
    ones' size and the shown entries."""
    return {
        **where,
        "total": len(every),
        "matched": len(chosen),
        "shown": len(shown),
        "size": sum(e["size"] for e in chosen),
        "entries": [to_json(e) for e in shown],
    }


def list_summary(doc: dict[str, Any], matched: str) -> str:
    """The line under `list`'s table: ``matched`` (the matching entries, counted in words), their
    size, and how many of them the table shows where --limit cut it."""
    summary = f"{matched}, {fmt.size(doc['size'])}"
    if doc["shown"] < doc["matched"]:
        summary = f"showing {doc['shown']:,} of {summary}"
    return summary


def entries_table(out: Output, shown: list[dict[str, Any]]) -> None:
    if shown:
        out.table(
            ["KEY", "KIND", "SIZE", "CREATED", "LAST USED", "HITS", "HOST"],
            [
                [
                    fmt.short_key(e["key"]),
                    e.get("kind") or "?",
                    fmt.size(e["size"]),
                    fmt.age(e.get("created")),
                    fmt.age(e.get("last_used")),
                    fmt.count(e.get("hits") or 0),
                    e.get("host") or "?",
                ]
                for e in shown
            ],
            right=[2, 5],
        )


def purge_doc(
    removed: list[dict[str, Any]],
    after: list[dict[str, Any]],
    to_json: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The `purge` JSON fields shared by both tiers (a dry run removed nothing yet)."""
    gone = {e["key"] for e in removed}
    left = [e for e in after if e["key"] not in gone]
    return {
        "removed": [to_json(e) for e in removed],
        "count": len(removed),
        "bytes": sum(e["size"] for e in removed),
        "remaining": {"entries": len(left), "size": sum(e["size"] for e in left)},
    }


def purge_report(
    out: Output,
    doc: dict[str, Any],
    removed: list[dict[str, Any]],
    *,
    noun: tuple[str, str],
    where: str,
    dry_run: bool,
) -> None:
    """The human output of `purge`: the removed entries and a one-line summary."""
    if removed:
        out.table(
            ["KEY", "KIND", "SIZE", "LAST USED", "HOST"],
            [
                [
                    fmt.short_key(e["key"]),
                    e.get("kind") or "?",
                    fmt.size(e["size"]),
                    fmt.age(e.get("last_used")),
                    e.get("host") or "?",
                ]
                for e in removed
            ],
            right=[2],
        )
    what = f"{fmt.count(doc['count'], *noun)} ({fmt.size(doc['bytes'])})"
    rest = (
        f"{fmt.count(doc['remaining']['entries'], 'entry', 'entries')} ({fmt.size(doc['remaining']['size'])})"
    )
    if not removed:
        out.line(f"nothing to remove; {rest} in {where}")
    elif dry_run:
        out.line(f"would remove {what}; {rest} would remain (dry run: nothing was removed)")
    else:
        out.line(f"removed {what}; {rest} remain" + (f" in {where}" if where != "the cache" else ""))
