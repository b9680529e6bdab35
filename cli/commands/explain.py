"""``explain``: which key components differ, i.e. why two runs did not share an entry."""

from __future__ import annotations

import argparse
from typing import Any

from .. import format as fmt
from ..api import CliError, UsageError, resolve_key
from ..output import Output
from .common import add_command, compiledir_for, path_text

__all__ = ["register"]


def _side(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": entry["key"],
        "kind": entry.get("kind"),
        "host": entry.get("host"),
        "created": entry.get("created"),
    }


def _explain_keys(args: argparse.Namespace) -> dict[str, Any]:
    from fncache.cache import CacheKey
    from fncache.cache.keys import describe

    cache = compiledir_for(args)
    a, b = (resolve_key(cache, k) for k in args.keys)
    try:
        ka, kb = (CacheKey(e["kind"], e["components"]) for e in (a, b))
    except (KeyError, TypeError, ValueError) as e:
        raise CliError(f"an entry's metadata has no usable key ({e}); run `fncache verify`") from None
    diffs = ka.explain(kb)
    return {
        "a": _side(a),
        "b": _side(b),
        "same": not diffs,
        "differences": [{"component": n, "meaning": describe(n), "a": va, "b": vb} for n, va, vb in diffs],
    }


def _run_function(args: argparse.Namespace, out: Output) -> int:
    from .explain_function import explain_function, render_function

    doc = explain_function(compiledir_for(args), args.function)
    if out.json_mode:
        out.emit_json(doc)
    else:
        render_function(doc, out)
    return 0


def run_explain(args: argparse.Namespace, out: Output) -> int:
    if args.function is not None:
        if args.keys:
            raise UsageError("give either KEY1 KEY2 or --function FILE, not both")
        return _run_function(args, out)
    if len(args.keys) != 2:
        raise UsageError(f"give two keys (KEY1 KEY2) or --function FILE.pkl; got {len(args.keys)} key(s)")
    doc = _explain_keys(args)
    if out.json_mode:
        out.emit_json(doc)
        return 0
    for label in ("a", "b"):
        side = doc[label]
        out.line(
            f"{label}  {side['key']}  {side.get('kind') or '?'}"
            + (f"  built on {side['host']} {fmt.age(side.get('created'))}" if side.get("host") else "")
        )
    diffs = doc["differences"]
    for d in diffs:
        out.line(d["component"])
        out.lines([f"  {text}" for text in fmt.value_difference(d["a"], d["b"])])
        out.line(f"  ({d['meaning']})")
    if doc["same"]:
        out.line("same key: both are the same entry")
    else:
        verb = "differs" if len(diffs) == 1 else "differ"
        out.line(f"{fmt.count(len(diffs), 'component')} {verb}: {', '.join(d['component'] for d in diffs)}")
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = add_command(
        sub,
        common,
        "explain",
        run_explain,
        "which key components differ between two entries",
        "Say which key components (march flags, compiler version, a flag, the graph...) differ "
        "between two entries, or between a pickled function's keys and what this host computes.",
    )
    p.add_argument("keys", metavar="KEY", nargs="*", help="two entries' keys (unique prefixes)")
    p.add_argument(
        "--function", metavar="FILE", type=path_text, help="a pickled fncache function (pickle.dump(f, file))"
    )
