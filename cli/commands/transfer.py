"""Moving entries between compiledirs as one archive: ``export`` and ``import``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import format as fmt
from ..api import UsageError, resolve_key
from ..output import Output
from .common import add_command, compiledir_for, path_text

__all__ = ["register"]


def run_export(args: argparse.Namespace, out: Output) -> int:
    from fncache.cache.bundle import archive_compression

    try:
        archive_compression(Path(args.path))
    except ValueError as e:
        raise UsageError(str(e)) from None
    cache = compiledir_for(args)
    # Each KEY must name one entry, as for `show`: a typo must fail, not export a different set.
    keys = [resolve_key(cache, k)["key"] for k in args.keys] if args.keys else None
    with out.activity(f"exporting to {args.path}"):
        report = cache.export(args.path, keys)
    skipped = [{"key": s.get("key"), "reason": s.get("reason")} for s in report.get("skipped", [])]
    doc = {
        "path": report["path"],
        "exported": list(report["exported"]),
        "count": len(report["exported"]),
        "size": report.get("size", 0),
        "skipped": skipped,
    }
    if out.json_mode:
        out.emit_json(doc)
    else:
        for s in skipped:
            out.warn(f"skipped {fmt.short_key(str(s['key']))}: {s['reason']}")
        out.line(
            f"exported {fmt.count(doc['count'], 'entry', 'entries')} ({fmt.size(doc['size'])}) to {doc['path']}"
            + (f"; {fmt.count(len(skipped), 'entry', 'entries')} skipped" if skipped else "")
        )
    return 1 if skipped else 0


def run_import(args: argparse.Namespace, out: Output) -> int:
    # Importing into a new compiledir is how a node is seeded; the cache refuses what is no
    # readable archive before it creates or changes anything.
    cache = compiledir_for(args, create=True)
    with out.activity(f"importing {args.path}"):
        report = cache.import_(args.path)
    bad = [{"key": b.get("key"), "reason": b.get("reason")} for b in report.get("bad", [])]
    doc = {
        "path": report["path"],
        "origin": report.get("origin"),
        "imported": list(report["imported"]),
        "already_present": list(report.get("skipped", [])),
        "rejected": bad,
        "bytes": report.get("bytes", 0),
    }
    if out.json_mode:
        out.emit_json(doc)
    else:
        for b in bad:
            out.warn(f"rejected {b['key']}: {b['reason']}")
        origin = f" (exported on {doc['origin']})" if doc["origin"] else ""
        out.line(
            f"imported {fmt.count(len(doc['imported']), 'entry', 'entries')} ({fmt.size(doc['bytes'])}) from "
            f"{doc['path']}{origin}; {len(doc['already_present']):,} already present, {len(bad):,} rejected"
        )
    return 1 if bad else 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "export",
        run_export,
        "write entries (all, or the given keys) to one archive",
        "Write entries into one tar archive (.tar, .tar.gz, .tar.xz) for `fncache import` on another "
        "machine. Damaged entries are skipped (exit status 1).",
    )
    p.add_argument("path", metavar="PATH", type=path_text, help="the archive to write")
    p.add_argument(
        "keys", metavar="KEY", nargs="*", help="entries to export (unique key prefixes); default: all"
    )
    p = add_command(
        sub,
        common,
        "import",
        run_import,
        "add the entries of an archive made by `fncache export`",
        "Add the entries of an archive made by `fncache export`; each is verified before it is "
        "published. Entries that fail verification are rejected (exit status 1).",
    )
    p.add_argument("path", metavar="PATH", type=path_text, help="the archive to read")
