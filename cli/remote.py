"""``--remote`` for ``fncache info|stats|list|purge``: the same views of the remote tier
(docs/remote.md) instead of the compiledir.

:func:`install` adds the option to those subcommands once they exist (one call in cli/main.py)
and routes a command given ``--remote`` to the handler here, so the command modules need not know
the remote tier exists.  ``--remote`` alone means ``config.remote_cache``; ``--remote URL`` names
another store.  An unreachable store is an error (exit 1), not a silent fallback.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import format as fmt
from .api import UsageError
from .commands.common import Handler
from .commands.maintain import purge_criteria
from .commands.listing import entries_table, list_doc, list_summary, purge_doc, purge_report, select_entries
from .output import Output

__all__ = ["install"]

#: The fields of a remote entry in JSON output (a remote entry has no local path or file list).
ENTRY_FIELDS = ("key", "kind", "size", "created", "last_used", "hits", "host", "march", "compile_seconds")


def _api() -> Any:
    from fncache.cache import remote

    return remote


def _url(args: argparse.Namespace) -> str | None:
    """``--remote URL``, checked as ``config.remote_cache`` is (a usage error naming the option),
    else ``config.remote_cache`` (None: the API says how to set it)."""
    from fncache.config import config, parse_remote_url

    if not args.remote:
        return config.remote_cache
    try:
        parse_remote_url(args.remote)
    except ValueError as e:
        raise UsageError(f"--remote: {e}") from None
    return args.remote


def _entry(e: dict[str, Any]) -> dict[str, Any]:
    return {name: e.get(name) for name in ENTRY_FIELDS}


def run_info(args: argparse.Namespace, out: Output) -> int:
    doc = _api().remote_info(_url(args))
    if out.json_mode:
        out.emit_json(doc)
        return 0
    cap = f"of {fmt.size(doc['maxmemory'])}" if doc.get("maxmemory") else "(no maxmemory: unbounded)"
    out.fields(
        [
            ("remote cache", doc["url"]),
            ("server", f"{doc['backend']} {doc.get('server_version') or '?'}"),
            (
                "memory",
                f"{fmt.size(doc.get('used_memory'))} used {cap}; maxmemory-policy {doc.get('maxmemory_policy')}",
            ),
            ("entries", f"{fmt.count(doc['entries'])}  ({fmt.size(doc['size'])})"),
            ("building", fmt.count(doc["claims"], "claim") + " held by hosts compiling now"),
            (
                "lookups",
                (
                    f"{fmt.count(doc['hits'], 'hit')}, {fmt.count(doc['misses'], 'miss', 'misses')} "
                    f"({fmt.percent(doc['hit_rate'])} hit rate), "
                    f"{fmt.count(doc['uploads'], 'upload')}"
                ),
            ),
        ]
    )
    return 0


def run_stats(args: argparse.Namespace, out: Output) -> int:
    doc = _api().remote_stats(_url(args))
    if out.json_mode:
        out.emit_json(doc)
        return 0

    def rate(c: dict[str, Any]) -> str:
        n = c["hits"] + c["misses"]
        return fmt.percent(c["hits"] / n if n else None)

    rows = [("total", doc)] + [(f"host {h}", c) for h, c in sorted(doc["per_host"].items())]
    out.table(
        ["SCOPE", "HITS", "MISSES", "UPLOADS", "HIT RATE"],
        [
            [scope, fmt.count(c["hits"]), fmt.count(c["misses"]), fmt.count(c["uploads"]), rate(c)]
            for scope, c in rows
        ],
        right=[1, 2, 3, 4],
    )
    out.line(f"remote cache {doc['url']}: lookups after a local miss; uploads of fresh compiles")
    return 0


def run_list(args: argparse.Namespace, out: Output) -> int:
    every = _api().remote_list(_url(args))
    chosen, shown = select_entries(every, args)
    doc = list_doc({"url": _api().redact(_url(args))}, every, chosen, shown, _entry)
    if out.json_mode:
        out.emit_json(doc)
        return 0
    entries_table(out, shown)
    summary = list_summary(doc, fmt.count(len(chosen), "remote entry", "remote entries"))
    if len(chosen) < len(every):
        summary += f" ({fmt.count(len(every))} in {doc['url']})"
    out.line(summary)
    return 0


def run_purge(args: argparse.Namespace, out: Output) -> int:
    criteria = purge_criteria(args)
    api = _api()
    with out.activity("checking what to purge remotely" if args.dry_run else "purging the remote cache"):
        removed = api.remote_purge(
            _url(args),
            older_than=criteria["older_than_seconds"],
            max_size=criteria["max_size_bytes"],
            all=criteria["all"],
            dry_run=args.dry_run,
        )
        after = api.remote_list(_url(args))
    doc = {
        "url": api.redact(_url(args)),
        "dry_run": bool(args.dry_run),
        "criteria": criteria,
        **purge_doc(removed, after, _entry),
    }
    if out.json_mode:
        out.emit_json(doc)
        return 0
    purge_report(
        out, doc, removed, noun=("remote entry", "remote entries"), where=doc["url"], dry_run=args.dry_run
    )
    return 0


HANDLERS: dict[str, Handler] = {"info": run_info, "stats": run_stats, "list": run_list, "purge": run_purge}


def _either(remote: Handler, local: Handler) -> Handler:
    def handler(args: argparse.Namespace, out: Output) -> int:
        return remote(args, out) if args.remote is not None else local(args, out)

    return handler


def install(sub: argparse._SubParsersAction) -> None:
    """Give ``info``, ``stats``, ``list`` and ``purge`` a ``--remote [URL]`` option."""
    for name, remote_handler in HANDLERS.items():
        parser = sub.choices[name]
        parser.add_argument(
            "--remote",
            nargs="?",
            const="",
            default=None,
            metavar="URL",
            help="the remote cache tier instead of the compiledir: config.remote_cache, or URL "
            "(docs/remote.md)",
        )
        parser.set_defaults(handler=_either(remote_handler, parser.get_default("handler")))
