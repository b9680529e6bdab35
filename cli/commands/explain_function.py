"""``explain --function FILE.pkl``: why a pickled function hit or missed the cache on this host.

The operator's question is "I shipped f.pkl to this node and it compiled again: why?".  The file
is loaded exactly as a worker loads it (``pickle.load``, which builds this host's native module
if the cache lacks it, as the worker would), counting the cache events that caused; then this
host's two keys are set against the cache:

* the function key the pickle carries, against the one this host computes from the function's
  original graph (they differ when fncache's version, the compiler or a code flag differs);
* this host's module key, against every module entry of the compiledir generated from the same
  source (other hosts, other march flags, other compilers): the components that differ are why
  those entries could not serve this host.

Module keys come from the compiler's own ``render_module`` and ``module_key_for``, as the
pickling code computes them for embedded modules.
"""

from __future__ import annotations

from typing import Any

from .. import format as fmt
from ..api import CliError, is_fncache_error
from ..output import Output

__all__ = ["explain_function", "render_function"]


def _differences(mine: Any, kind: str, components: dict[str, str]) -> list[dict[str, Any]]:
    from fncache.cache import CacheKey
    from fncache.cache.keys import describe

    return [
        {"component": n, "meaning": describe(n), "a": a, "b": b}
        for n, a, b in mine.explain(CacheKey(kind, components))
    ]


def _function_level(cache: Any, f: Any) -> dict[str, Any]:
    from fncache.config import config
    from fncache.runtime.compile import function_key

    with config.change_flags(**f.code_flags):
        mine = function_key(f.original_graph, f.mode)
    level = {
        "level": "function",
        "key": mine.digest,
        "in_cache": bool(cache.find(mine.digest)),
        "compared_with": [],
    }
    if f.cache_key != mine.digest:
        found = cache.find(f.cache_key)
        other = {
            "key": f.cache_key,
            "host": found[0].get("host") if found else None,
            "relation": "the key the pickle carries",
            "differences": _differences(mine, found[0]["kind"], found[0]["components"]) if found else None,
        }
        level["compared_with"].append(other)
    return level


def _module_level(cache: Any, f: Any) -> dict[str, Any]:
    if f.mode.linker != "c" or f.mode.device == "cuda":
        return {
            "level": "module",
            "key": None,
            "in_cache": None,
            "compared_with": [],
            "note": f"no CPU native module (linker={f.mode.linker}, device={f.mode.device})",
        }
    from fncache.codegen.c_linker import module_key_for
    from fncache.codegen.c_module import render_module
    from fncache.config import config

    with config.change_flags(**f.code_flags):
        mod = render_module(
            f.optimized_graph, n_explicit=len(f.inputs), single=f.single_output and not f.shared_variables
        )
        if not mod.source:
            return {
                "level": "module",
                "key": None,
                "in_cache": None,
                "compared_with": [],
                "note": "no kernels to compile (BLAS products, views and Python ops only)",
            }
        mine = module_key_for(mod.source)
    source = mine.components.get("source_sha256")
    same_source = [
        e
        for e in cache.entries()
        if e.get("kind") == mine.kind and (e.get("components") or {}).get("source_sha256") == source
    ]
    return {
        "level": "module",
        "key": mine.digest,
        "in_cache": any(e["key"] == mine.digest for e in same_source),
        "compared_with": [
            {
                "key": e["key"],
                "host": e.get("host"),
                "relation": "built from the same source",
                "differences": _differences(mine, e["kind"], e["components"]),
            }
            for e in sorted(same_source, key=lambda e: e["key"])
            if e["key"] != mine.digest
        ],
    }


def explain_function(cache: Any, path: str) -> dict[str, Any]:
    """Load the pickled function at ``path`` as a worker would and explain its keys (module doc)."""
    import os
    import pickle

    import fncache as fc
    from fncache.fs.safedir import open_regular

    before = cache.stats()
    try:
        with os.fdopen(open_regular(path), "rb") as fh:  # a FIFO is refused, not waited on
            f = pickle.load(fh)
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    except Exception as e:  # whatever unpickling raises is about the file, unless fncache says otherwise
        if is_fncache_error(e):
            raise
        raise CliError(f"{path} could not be unpickled: {type(e).__name__}: {e}") from None
    if not isinstance(f, fc.Function):
        raise CliError(f"{path} holds a {type(f).__name__}, not a pickled fncache function")
    after = cache.stats()
    return {
        "file": str(path),
        "function": f.name,
        "load": {k: int(after[k] - before[k]) for k in ("hits", "misses", "compiles")},
        "keys": [_function_level(cache, f), _module_level(cache, f)],
    }


def render_function(doc: dict[str, Any], out: Output) -> None:
    load = doc["load"]
    out.line(
        f"{doc['file']}: function {doc['function']!r} loaded on this host with "
        f"{fmt.count(load['hits'], 'hit')}, {fmt.count(load['misses'], 'miss', 'misses')}, "
        f"{fmt.count(load['compiles'], 'compile')}"
    )
    differing = 0
    for level in doc["keys"]:
        if level["key"] is None:
            out.line(f"{level['level']} key: {level['note']}")
            continue
        state = "in the cache" if level["in_cache"] else "not in the cache"
        out.line(f"{level['level']} key {fmt.short_key(level['key'])} (this host): {state}")
        for other in level["compared_with"]:
            host = f" on {other['host']}" if other.get("host") else ""
            out.line(f"  vs {fmt.short_key(other['key'])}{host}, {other['relation']}:")
            if other["differences"] is None:
                out.line("    (not in this compiledir, so its components are unknown)")
                continue
            differing += 1
            for d in other["differences"]:
                out.line(f"    {d['component']}")
                out.lines(
                    [f"      {t}" for t in fmt.value_difference(d["a"], d["b"], ("this host", "other"))]
                )
                out.line(f"      ({d['meaning']})")
    if differing:
        verb = "differs" if differing == 1 else "differ"
        out.line(
            f"{fmt.count(differing, 'other entry', 'other entries')} {verb} from this host's keys "
            "in the components listed"
        )
    else:
        out.line("no entry built elsewhere differs from this host's keys")
