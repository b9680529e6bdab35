"""Changing a compiledir safely while jobs use it: ``purge``, ``unlock``, ``verify``.

The safety itself is the cache's (entries are renamed away atomically, in-flight builds live
outside ``entries/``, readers verify before loading); these commands choose, report and exit.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import format as fmt
from ..api import UsageError
from ..output import Output
from .common import add_command, compiledir_for, entry_json
from .listing import purge_doc, purge_report

__all__ = ["register"]


# -- purge -------------------------------------------------------------------------------------
def purge_criteria(args: argparse.Namespace) -> dict[str, Any]:
    """Validate purge's options into seconds and bytes; bad values are usage errors (exit 2)."""
    from fncache.cache.purge_policy import parse_age, parse_max_size

    if not (args.all or args.older_than is not None or args.max_size is not None):
        raise UsageError("say what to remove: --all, --older-than AGE and/or --max-size SIZE")
    if args.all and (args.older_than is not None or args.max_size is not None):
        raise UsageError("--all removes every entry; it cannot be combined with --older-than or --max-size")
    try:
        older = parse_age(args.older_than) if args.older_than is not None else None
    except ValueError as e:
        raise UsageError(f"--older-than: {e}") from None
    try:
        limit = parse_max_size(args.max_size, every="--all") if args.max_size is not None else None
    except ValueError as e:
        raise UsageError(f"--max-size: {e}") from None
    return {"all": bool(args.all), "older_than_seconds": older, "max_size_bytes": limit}


def run_purge(args: argparse.Namespace, out: Output) -> int:
    cache = compiledir_for(args)
    criteria = purge_criteria(args)
    verb = "checking what to purge" if args.dry_run else "purging"
    with out.activity(f"{verb} {cache.path}"):
        removed = cache.purge(
            older_than=criteria["older_than_seconds"],
            max_size=criteria["max_size_bytes"],
            all=criteria["all"],
            dry_run=args.dry_run,
        )
        after = cache.entries()
    doc = {"dry_run": bool(args.dry_run), "criteria": criteria, **purge_doc(removed, after, entry_json)}
    if out.json_mode:
        out.emit_json(doc)
        return 0
    purge_report(out, doc, removed, noun=("entry", "entries"), where="the cache", dry_run=args.dry_run)
    return 0


# -- unlock ------------------------------------------------------------------------------------
def run_unlock(args: argparse.Namespace, out: Output) -> int:
    cache = compiledir_for(args)
    locks = cache.unlock(force=args.force)
    doc = {
        "force": bool(args.force),
        "locks": [
            {k: lock.get(k) for k in ("key", "mode", "state", "action", "host", "pid", "what")}
            for lock in locks
        ],
        "removed": sum(1 for lock in locks if lock.get("action") in ("removed", "broken")),
        "live": sum(1 for lock in locks if lock.get("state") == "live" and lock.get("action") == "none"),
    }
    if out.json_mode:
        out.emit_json(doc)
        return 0
    if locks:
        out.table(
            ["KEY", "MODE", "STATE", "ACTION", "HOLDER", "BUILDING"],
            [
                [
                    fmt.short_key(lock["key"]),
                    lock["mode"],
                    lock["state"],
                    lock["action"],
                    f"pid {lock['pid']} on {lock['host']}" if lock["host"] else "unknown",
                    lock["what"] or "-",
                ]
                for lock in doc["locks"]
            ],
        )
    summary = f"removed {fmt.count(doc['removed'], 'lock')}"
    if doc["live"]:
        summary += (
            f"; {fmt.count(doc['live'], 'live lock')} held by running processes left alone "
            "(--force breaks them; their builds may then run twice, harmlessly)"
        )
    out.line(summary if locks else "no locks held")
    return 0


# -- verify ------------------------------------------------------------------------------------
def run_verify(args: argparse.Namespace, out: Output) -> int:
    cache = compiledir_for(args)
    with out.activity(f"verifying {cache.path}"):
        report = cache.verify(repair=args.repair)
    repaired = set(report.get("repaired", []))
    reasons = report.get("reasons", {})
    bad = [{"key": k, "reason": reasons.get(k, "damaged"), "repaired": k in repaired} for k in report["bad"]]
    foreign = list(report.get("foreign", []))
    doc = {
        "repair": bool(args.repair),
        "checked": report["checked"],
        "bad": bad,
        "repaired": len(repaired),
        "foreign": foreign,
        "ok": all(b["repaired"] for b in bad) and not foreign,
    }
    if out.json_mode:
        out.emit_json(doc)
        return 0 if doc["ok"] else 1
    if bad:
        out.table(
            ["KEY", "STATUS", "REASON"],
            [[fmt.short_key(b["key"]), "removed" if b["repaired"] else "bad", b["reason"]] for b in bad],
        )
    for why in foreign:
        out.line(f"not touched: {why}")
    checked = fmt.count(doc["checked"], "entry", "entries")
    if not bad and not foreign:
        out.line(f"checked {checked}: all good")
    elif not bad:
        out.line(f"checked {checked}: all good; {len(foreign):,} thing(s) the cache did not make (above)")
    elif doc["ok"]:
        out.line(f"checked {checked}: {len(bad):,} bad, all removed (processes rebuild them on next use)")
    else:
        out.line(
            f"checked {checked}: {len(bad):,} bad"
            + (f", {len(repaired):,} removed" if repaired else "")
            + (
                ""
                if args.repair
                else "; run `fncache verify --repair` to remove them (processes rebuild them on next use)"
            )
        )
    return 0 if doc["ok"] else 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "purge",
        run_purge,
        "remove entries by age, by total size, or all",
        "Remove entries: those unused for --older-than, then the least recently used until the "
        "cache fits --max-size; or --all. Safe while other processes use the cache.",
    )
    p.add_argument("--older-than", metavar="AGE", help="entries unused for this long: 30d, 12h, 15m, 45s, 2w")
    p.add_argument(
        "--max-size",
        metavar="SIZE",
        help="evict least recently used entries down to this: 2GB, 500MB (not 0: --all removes every entry)",
    )
    p.add_argument("--all", action="store_true", help="remove every entry")
    p.add_argument(
        "--dry-run", action="store_true", help="show exactly what would be removed; remove nothing"
    )
    p = add_command(
        sub, common, "unlock", run_unlock, "remove stale build locks (live holders only with --force)"
    )
    p.add_argument("--force", action="store_true", help="also break locks whose holder is alive")
    p = add_command(
        sub,
        common,
        "verify",
        run_verify,
        "check every entry's checksums; report (and with --repair remove) bad ones",
        "Check every entry's checksums, key and signature. Exit status 1 when bad entries remain.",
    )
    p.add_argument("--repair", action="store_true", help="remove bad entries and leftovers of crashed builds")
