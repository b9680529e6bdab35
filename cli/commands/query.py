"""Read-only views of a compiledir: ``info``, ``list``, ``show``, ``stats``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import format as fmt
from ..api import resolve_key
from ..output import Output
from .common import add_command, compiledir_for, entry_json, pattern_text
from .listing import SORTS, entries_table, list_doc, list_summary, select_entries

if TYPE_CHECKING:
    from fncache.cache import Compiledir

__all__ = ["register"]

_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cu", ".h", ".cuh")
_MAX_SOURCE_BYTES = 1 << 20
#: Entry metadata shown in its own section of ``show`` rather than under "metadata".
_SHOWN_META = frozenset(
    {
        "key",
        "kind",
        "components",
        "files",
        "size",
        "created",
        "host",
        "platform",
        "march",
        "compile_seconds",
        "hmac",
    }
)


def _hit_rate(hits: float, misses: float) -> float | None:
    return hits / (hits + misses) if hits + misses else None


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {n}")
    return n


# -- info --------------------------------------------------------------------------------------
def _host_facts(cache: Compiledir) -> dict[str, Any]:
    """What `info` says about this host and configuration (the fields of ``Compiledir.info()``)."""
    from fncache.toolchain.march import (
        host_march_flags,
        host_name,
        host_platform_tag,
        host_tuning,
        host_vector_width,
    )
    from fncache.cache.locks import lock_mode_for
    from fncache.config import config

    try:
        march = " ".join(host_march_flags())
        width = host_vector_width()
        tuning = host_tuning() if config.march.strip() == "auto" else None
    except Exception as e:  # noqa: BLE001  (info must work even when the compiler is broken)
        march, width, tuning = f"unknown ({e})", "unknown", None
    return {
        "host": host_name(),
        "platform": host_platform_tag(),
        "march": march,
        "vector_width": width,
        "tuning": tuning,
        "lock_mode": lock_mode_for(cache.path),
        "filesystem": cache.filesystem(),
        "signed": bool(config.signing_key),
        "max_size": config.cache_max_size,
    }


def _filesystem_line(fs: dict[str, Any]) -> str:
    flock = (
        ("flock reaches every client" if fs["flock_across_clients"] else "flock stays on each client")
        if fs["flock_works"]
        else "flock does not work"
    )
    exchange = "exchange rename works" if fs["exchange_rename"] else "no exchange rename"
    return f"{fs['fstype']}: {flock}, {exchange}, an existing entry answers {fs['exists_errno']}"


def _width_line(width: str, tuning: dict[str, Any] | None) -> str:
    """The vector width built for, and what this host's detection measured to choose it."""
    if not tuning or not tuning["ns_per_element"]:
        return width
    order = ("default", "128", "256", "512")
    timed = ", ".join(
        f"{w} {ns:.2f}"
        for w, ns in sorted(
            tuning["ns_per_element"].items(), key=lambda item: order.index(item[0]) if item[0] in order else 9
        )
    )
    took = tuning["detect_seconds"]
    return (
        f"{width}  (ns per element: {timed}"
        + (f"; host detected and tuned in {took * 1e3:.0f} ms, once" if took is not None else "")
        + ")"
    )


def run_info(args: argparse.Namespace, out: Output) -> int:
    cache = compiledir_for(args)
    # usage() lists shard directories only; info() reads every entry (0.6 s per 10,000 here).
    counts = cache.info() if args.exact else cache.usage()
    stats = cache.stats()
    doc = {
        "path": str(cache.path),
        **_host_facts(cache),
        "entries": counts["entries"],
        "size": counts["size"],
        "size_exact": bool(args.exact),
    }
    doc.update({name: stats[name] for name in ("hits", "misses", "compiles")})
    doc["hit_rate"] = _hit_rate(doc["hits"], doc["misses"])
    doc.update({name: stats[name] for name in ("compile_seconds", "saved_seconds")})
    if out.json_mode:
        out.emit_json(doc)
        return 0
    cap = f"cap {fmt.size(doc['max_size'])}" if doc["max_size"] else "no size cap"
    size = (
        fmt.size(doc["size"]) if doc["size_exact"] else f"about {fmt.size(doc['size'])}, --exact to measure"
    )
    out.fields(
        [
            ("compiledir", doc["path"]),
            ("host", f"{doc['host']}  ({doc['platform']})"),
            ("march", doc["march"] or "(generic: no -march flags)"),
            ("vector width", _width_line(doc["vector_width"], doc["tuning"])),
            ("lock mode", doc["lock_mode"] + ("; entries signed (signing_key)" if doc["signed"] else "")),
            ("filesystem", _filesystem_line(doc["filesystem"])),
            ("entries", f"{fmt.count(doc['entries'])}  ({size}; {cap})"),
            (
                "lookups",
                (
                    f"{fmt.count(doc['hits'], 'hit')}, {fmt.count(doc['misses'], 'miss', 'misses')} "
                    f"({fmt.percent(doc['hit_rate'])} hit rate), {fmt.count(doc['compiles'], 'compile')}"
                ),
            ),
            (
                "compiling",
                (
                    f"{fmt.duration(doc['compile_seconds'])} spent, "
                    f"{fmt.duration(doc['saved_seconds'])} saved by hits"
                ),
            ),
        ]
    )
    return 0


# -- list --------------------------------------------------------------------------------------
def run_list(args: argparse.Namespace, out: Output) -> int:
    cache = compiledir_for(args)
    every = cache.entries()
    chosen, shown = select_entries(every, args)
    doc = list_doc({"path": str(cache.path)}, every, chosen, shown, entry_json)
    if out.json_mode:
        out.emit_json(doc)
        return 0
    entries_table(out, shown)
    filters = [f"{name}={value}" for name, value in (("kind", args.kind), ("host", args.host)) if value]
    matched = fmt.count(len(chosen), "entry", "entries") + (
        " matching " + ", ".join(filters) if filters else ""
    )
    summary = list_summary(doc, matched)
    if filters:
        summary += f" ({fmt.count(len(every))} in the cache)"
    out.line(summary)
    return 0


# -- show --------------------------------------------------------------------------------------
def _source_of(entry: dict[str, Any]) -> dict[str, str] | None:
    """The entry's source file (the one its metadata names, else the first C/CUDA file), as text."""
    meta = entry.get("meta") or {}
    files = meta.get("files") or {}
    named = meta.get("source")
    name = (
        named
        if isinstance(named, str) and named in files
        else next((n for n in sorted(files) if n.endswith(_SOURCE_SUFFIXES)), None)
    )
    if name is None:
        return None
    path = Path(entry["path"]) / name
    try:
        if path.stat().st_size > _MAX_SOURCE_BYTES:
            return {
                "name": name,
                "text": f"(not shown: larger than {fmt.size(_MAX_SOURCE_BYTES)}; see {path})",
            }
        return {"name": name, "text": path.read_text(errors="replace")}
    except OSError as e:
        return {"name": name, "text": f"(cannot read {path}: {e.strerror})"}


def run_show(args: argparse.Namespace, out: Output) -> int:
    entry = resolve_key(compiledir_for(args), args.key)
    meta = entry.get("meta") or {}
    files = meta.get("files") or {}
    doc = {
        **entry_json(entry),
        "platform": meta.get("platform"),
        "files": [
            {"name": n, "size": (files[n] or {}).get("size"), "sha256": (files[n] or {}).get("sha256")}
            for n in sorted(files)
        ],
        "components": dict(entry["components"]) if isinstance(entry.get("components"), dict) else {},
        "meta": meta,
        "source": None if args.no_source else _source_of(entry),
    }
    if out.json_mode:
        out.emit_json(doc)
        return 0
    created_by = f" on {doc['host']}" + (f", pid {meta['pid']}" if "pid" in meta else "")
    out.fields(
        [
            ("key", doc["key"]),
            ("kind", doc["kind"]),
            ("path", doc["path"]),
            ("size", f"{fmt.size(doc['size'])} in {fmt.count(len(files), 'file')}"),
            ("created", f"{fmt.timestamp(doc['created'])} ({fmt.age(doc['created'])}){created_by}"),
            ("last used", f"{fmt.timestamp(doc['last_used'])} ({fmt.age(doc['last_used'])})"),
            ("hits", fmt.count(doc["hits"] or 0)),
            ("platform", doc["platform"] or "-"),
            ("compile", fmt.duration(doc["compile_seconds"])),
        ]
    )
    out.line()
    out.line("files")
    out.lines(
        [
            "  " + row
            for row in fmt.table(
                ["NAME", "SIZE", "SHA256"],
                [[f["name"], fmt.size(f["size"]), str(f["sha256"])[:16]] for f in doc["files"]],
                right=[1],
            )
        ]
    )
    out.line()
    out.line("key components (flags, compiler, march, ...)")
    out.fields(sorted(doc["components"].items()), indent=2)
    extra = sorted((k, v) for k, v in meta.items() if k not in _SHOWN_META)
    if extra:
        out.line()
        out.line("metadata")
        out.fields(extra, indent=2)
    source = doc["source"]
    if source is not None:
        out.line()
        text = source["text"]
        out.line(f"source ({source['name']}, {fmt.count(text.count(chr(10)), 'line')})")
        out.line(text.rstrip("\n"))
    return 0


# -- stats -------------------------------------------------------------------------------------
def _counters(c: dict[str, Any]) -> dict[str, Any]:
    hits, misses = c.get("hits", 0), c.get("misses", 0)
    return {
        "hits": int(hits),
        "misses": int(misses),
        "compiles": int(c.get("compiles", 0)),
        "hit_rate": _hit_rate(hits, misses),
        "compile_seconds": float(c.get("compile_seconds", 0)),
        "saved_seconds": float(c.get("saved_seconds", 0)),
    }


def run_stats(args: argparse.Namespace, out: Output) -> int:
    stats = compiledir_for(args).stats()
    doc = {
        **_counters(stats),
        "per_host": {h: _counters(c) for h, c in sorted(stats.get("per_host", {}).items())},
        "per_kind": {k: _counters(c) for k, c in sorted(stats.get("per_kind", {}).items())},
    }
    if out.json_mode:
        out.emit_json(doc)
        return 0
    rows = (
        [("total", doc)]
        + [(f"host {h}", c) for h, c in doc["per_host"].items()]
        + [(f"kind {k}", c) for k, c in doc["per_kind"].items()]
    )
    out.table(
        ["SCOPE", "HITS", "MISSES", "COMPILES", "HIT RATE", "COMPILE TIME", "SAVED"],
        [
            [
                scope,
                fmt.count(c["hits"]),
                fmt.count(c["misses"]),
                fmt.count(c["compiles"]),
                fmt.percent(c["hit_rate"]),
                fmt.duration(c["compile_seconds"]),
                fmt.duration(c["saved_seconds"]),
            ]
            for scope, c in rows
        ],
        right=[1, 2, 3, 4, 5, 6],
    )
    lookups = doc["hits"] + doc["misses"]
    if lookups:
        out.line(
            f"{fmt.percent(doc['hit_rate'])} of {fmt.count(lookups, 'lookup')} hit; hits saved "
            f"{fmt.duration(doc['saved_seconds'])} of compiling ({fmt.duration(doc['compile_seconds'])} "
            f"spent compiling)"
        )
    else:
        out.line("no lookups recorded yet")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "info",
        run_info,
        "path, this host's platform and march flags, entry count, size, hit/miss counts",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="measure the size by reading every entry (default: the cache's running total, instant)",
    )
    p = add_command(
        sub, common, "list", run_list, "one row per entry: key, kind, size, age, last use, hits, host"
    )
    p.add_argument(
        "--kind",
        metavar="PATTERN",
        type=pattern_text,
        help="only entries of this kind (glob, e.g. kernel_library)",
    )
    p.add_argument(
        "--host",
        metavar="PATTERN",
        type=pattern_text,
        help="only entries built on this host (glob, e.g. 'node*')",
    )
    p.add_argument(
        "--sort",
        choices=sorted(SORTS),
        default="used",
        help="used: most recently used first (default); age: oldest first; size: largest first; "
        "hits: most hit first; key",
    )
    p.add_argument("--reverse", action="store_true", help="reverse the order")
    p.add_argument("--limit", type=_positive_int, metavar="N", help="show only the first N entries")
    p = add_command(
        sub, common, "show", run_show, "an entry's metadata, key components (flags), files and source"
    )
    p.add_argument("key", metavar="KEY", help="the entry's key; a unique prefix is enough")
    p.add_argument("--no-source", action="store_true", help="do not print the source file")
    add_command(
        sub,
        common,
        "stats",
        run_stats,
        "hits, misses, compiles, compile time saved and hit rate, per host and per kind",
    )
