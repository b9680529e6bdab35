"""The installed ``fncache`` command against a real compiledir, one subprocess per invocation.

A compiledir is populated once per module by compiling real functions (and a few synthetic
entries, so that some one-digit key prefix is surely ambiguous); tests that change it work on a
copy.  Every subcommand is checked in its human and its JSON form, with its exit status.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

#: Fields docs/cli.md promises for each entry in JSON listings.
ENTRY_FIELDS = {
    "key",
    "kind",
    "size",
    "created",
    "last_used",
    "hits",
    "host",
    "march",
    "compile_seconds",
    "files",
    "path",
}
N_SYNTHETIC = 20  # > 16, so two synthetic keys share their first hex digit

POPULATE = r"""
import pickle, sys
import numpy as np
import fncache as fc
from fncache import tensor as ft
from fncache.cache import CacheKey, cache

out = sys.argv[1]
x, y = ft.vector("x"), ft.vector("y")
a, b = np.linspace(-1, 1, 7), np.linspace(0, 2, 7)
f = fc.function([x, y], ft.exp(x) * y, name="expxy")
g = fc.function([x], ft.sin(x) + 1, name="sinx")
h = fc.function([x, y], ft.sum((x - y) ** 2), name="sqdist")
assert np.allclose(f(a, b), np.exp(a) * b) and np.allclose(g(a), np.sin(a) + 1)
assert np.allclose(h(a, b), np.sum((a - b) ** 2))
fc.function([x, y], ft.exp(x) * y, name="expxy")(a, b)   # hits
with open(out + "/expxy.pkl", "wb") as fh:
    pickle.dump(f, fh)
with fc.config.change_flags(march="-march=x86-64"):         # the same graph for another CPU
    assert np.allclose(fc.function([x, y], ft.exp(x) * y)(a, b), np.exp(a) * b)
for i in range(int(sys.argv[2])):
    cache.put_bytes(CacheKey("synthetic", {"i": str(i)}), {"blob.bin": b"z" * (100 + i)},
                    {"compile_seconds": 0.25})
"""


# -- running the command ------------------------------------------------------------------------
def fncache_command() -> list[str]:
    """The installed console script, else the module (``pip install -e .`` provides the script)."""
    found = shutil.which("fncache")
    return [found] if found else [sys.executable, "-m", "fncache_cli.main"]


def clean_env(**flags: str) -> dict[str, str]:
    """This process's environment with FNCACHE_FLAGS replaced by ``flags``."""
    env = {k: v for k, v in os.environ.items() if k != "FNCACHE_FLAGS"}
    if flags:
        env["FNCACHE_FLAGS"] = ",".join(f"{k}={v}" for k, v in flags.items())
    return env


def run_cli(
    *args: str | Path,
    env: dict[str, str] | None = None,
    expect: int | None = 0,
    command: list[str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [*(command or fncache_command()), *map(str, args)],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        timeout=timeout,
        check=False,
    )
    if expect is not None:
        assert proc.returncode == expect, (
            f"fncache {' '.join(map(str, args))}: exit {proc.returncode}, "
            f"expected {expect}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def run_json(*args: str | Path, **kw: Any) -> Any:
    return json.loads(run_cli(*args, "--json", **kw).stdout)


# -- the populated compiledir -------------------------------------------------------------------
@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("cli")
    cd = base / "compiledir"
    subprocess.run(
        [sys.executable, "-c", POPULATE, str(base), str(N_SYNTHETIC)],
        check=True,
        env=clean_env(compiledir=str(cd)),
        timeout=600,
    )
    entries = run_json("list", "--compiledir", cd)["entries"]
    return {"dir": cd, "pickle": base / "expxy.pkl", "entries": entries, "keys": [e["key"] for e in entries]}


@pytest.fixture
def scratch(populated: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the populated compiledir, for tests that change it."""
    dest = tmp_path / "compiledir"
    shutil.copytree(populated["dir"], dest, symlinks=True)
    return dest


def kinds(entries: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e["kind"]] = out.get(e["kind"], 0) + 1
    return out


def shared_prefix(keys: list[str]) -> str:
    """A one-digit prefix that at least two keys share."""
    firsts = [k[0] for k in keys]
    return next(c for c in firsts if firsts.count(c) > 1)


# -- info ---------------------------------------------------------------------------------------
def test_info_human_and_json(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    doc = run_json("info", "--compiledir", cd)
    assert set(doc) == {
        "path",
        "host",
        "platform",
        "march",
        "vector_width",
        "tuning",
        "lock_mode",
        "filesystem",
        "signed",
        "entries",
        "size",
        "size_exact",
        "max_size",
        "hits",
        "misses",
        "compiles",
        "hit_rate",
        "compile_seconds",
        "saved_seconds",
    }
    assert doc["vector_width"] in ("default", "128", "256", "512")
    # what this host's detection measured, and what detecting it cost (kept in the host record)
    assert doc["tuning"]["vector_width"] == doc["vector_width"]
    took = doc["tuning"]["detect_seconds"]  # None only in a record older than the figure
    assert took is None or (isinstance(took, float) and took > 0)
    assert "default" in doc["tuning"]["ns_per_element"] or not doc["tuning"]["ns_per_element"]
    assert doc["path"] == str(cd)
    assert doc["entries"] == len(populated["keys"]) and doc["size"] > 0 and doc["size_exact"] is False
    assert doc["hits"] >= 2 and doc["compiles"] >= 4 + N_SYNTHETIC and doc["misses"] >= 4
    assert doc["platform"].startswith(sys.platform) and doc["lock_mode"] in ("flock", "lease")
    assert set(doc["filesystem"]) == {
        "fstype",
        "flock_across_clients",
        "flock_works",
        "exchange_rename",
        "exists_errno",
        "lock_mode",
    }
    assert doc["hit_rate"] == pytest.approx(doc["hits"] / (doc["hits"] + doc["misses"]))
    exact = run_json("info", "--exact", "--compiledir", cd)
    assert exact["size_exact"] is True and exact["entries"] == doc["entries"]
    assert exact["size"] == sum(e["size"] for e in populated["entries"])

    text = run_cli("info", env=clean_env(compiledir=str(cd))).stdout  # FNCACHE_FLAGS names it too
    for label in (
        "compiledir",
        "host",
        "march",
        "vector width",
        "lock mode",
        "filesystem",
        "entries",
        "lookups",
        "compiling",
    ):
        assert any(line.startswith(label) for line in text.splitlines()), (label, text)
    assert str(cd) in text and f"{doc['entries']}  (about " in text and "hit rate" in text


def test_options_before_the_command_and_module_entry_point(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    assert run_json("--compiledir", cd, "info")["entries"] == len(populated["keys"])
    proc = run_cli("list", "--json", "--compiledir", cd, command=[sys.executable, "-m", "fncache_cli.main"])
    assert json.loads(proc.stdout)["total"] == len(populated["keys"])


def test_cli_does_not_import_the_compiler_for_info(populated: dict[str, Any]) -> None:
    code = (
        "import sys; from fncache_cli.main import main; rc = main(['info', '--json', '--compiledir', sys.argv[1]]); "
        "sys.stderr.write(repr(sorted(m for m in ('numpy', 'fncache.tensor') if m in sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(populated["dir"])],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=True,
    )
    assert proc.stderr.strip() == "[]"


# -- list ---------------------------------------------------------------------------------------
def test_list_human_and_json(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    doc = run_json("list", "--compiledir", cd)
    assert set(doc) == {"path", "total", "matched", "shown", "size", "entries"}
    assert doc["total"] == doc["matched"] == doc["shown"] == len(doc["entries"]) == len(populated["keys"])
    assert all(set(e) == ENTRY_FIELDS for e in doc["entries"])
    found = kinds(doc["entries"])
    assert found["kernel_library"] == 4 and found["synthetic"] == N_SYNTHETIC and found["function"] >= 3
    used = [e["last_used"] for e in doc["entries"]]
    assert used == sorted(used, reverse=True)  # default: most recently used first

    lines = run_cli("list", "--compiledir", cd).stdout.splitlines()
    assert lines[0].split() == ["KEY", "KIND", "SIZE", "CREATED", "LAST", "USED", "HITS", "HOST"]
    assert len(lines) == 1 + doc["total"] + 1
    assert lines[-1] == f"{doc['total']} entries, {lines[-1].split(', ')[1]}"
    header = lines[0]
    for row in lines[1:-1]:  # aligned: every SIZE ends where the header's SIZE ends
        end = header.index("SIZE") + len("SIZE")
        assert row[end - 1] == "B" and row[end] == " ", row
        assert any(u in row for u in (" B ", " KB ", " MB ")) and (" ago" in row or "just now" in row)


def test_list_filters_sort_and_limit(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    doc = run_json("list", "--kind", "kernel_library", "--compiledir", cd)
    assert doc["matched"] == 4 and {e["kind"] for e in doc["entries"]} == {"kernel_library"}
    assert run_json("list", "--kind", "k*", "--compiledir", cd)["matched"] == 4
    host = doc["entries"][0]["host"]
    assert run_json("list", "--host", host, "--compiledir", cd)["matched"] == doc["total"]
    nobody = run_json("list", "--host", "no-such-host", "--compiledir", cd)
    assert nobody["matched"] == 0 and nobody["entries"] == [] and nobody["total"] == doc["total"]
    text = run_cli("list", "--host", "no-such-host", "--compiledir", cd).stdout
    assert text.strip() == f"0 entries matching host=no-such-host, 0 B ({doc['total']} in the cache)"

    sizes = [e["size"] for e in run_json("list", "--sort", "size", "--compiledir", cd)["entries"]]
    assert sizes == sorted(sizes, reverse=True)
    assert [
        e["size"] for e in run_json("list", "--sort", "size", "--reverse", "--compiledir", cd)["entries"]
    ] == sorted(sizes)
    created = [e["created"] for e in run_json("list", "--sort", "age", "--compiledir", cd)["entries"]]
    assert created == sorted(created)  # oldest first
    hits = [e["hits"] for e in run_json("list", "--sort", "hits", "--compiledir", cd)["entries"]]
    assert hits == sorted(hits, reverse=True) and hits[0] >= 1

    top = run_json("list", "--sort", "size", "--limit", "3", "--compiledir", cd)
    assert top["shown"] == 3 and [e["size"] for e in top["entries"]] == sizes[:3]
    last = run_cli("list", "--limit", "3", "--compiledir", cd).stdout.splitlines()[-1]
    assert last.startswith(f"showing 3 of {doc['total']} entries")
    for bad in (["--limit", "0"], ["--limit", "x"], ["--sort", "colour"]):
        proc = run_cli("list", *bad, "--compiledir", cd, expect=2)
        assert "usage: fncache list" in proc.stderr


# -- show ---------------------------------------------------------------------------------------
def test_show_entry_by_unique_prefix(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    module = next(e for e in populated["entries"] if e["kind"] == "kernel_library")
    prefix = next(
        module["key"][:n]
        for n in range(4, 64)
        if sum(k.startswith(module["key"][:n]) for k in populated["keys"]) == 1
    )
    doc = run_json("show", prefix, "--compiledir", cd)
    assert ENTRY_FIELDS <= set(doc) and {"platform", "components", "meta", "source"} <= set(doc)
    assert doc["key"] == module["key"] and doc["kind"] == "kernel_library"
    assert {"march", "flags", "compiler", "source_sha256"} <= set(doc["components"])
    assert {f["name"] for f in doc["files"]} == set(module["files"])
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in doc["files"])
    assert doc["source"]["name"].endswith(".c") and "FC_EXPORT void fc_k" in doc["source"]["text"]

    text = run_cli("show", prefix, "--compiledir", cd).stdout
    assert text.startswith(f"key        {module['key']}\nkind       kernel_library\n")
    for section in ("\nfiles\n", "\nkey components", "\nmetadata\n", f"\nsource ({doc['source']['name']}, "):
        assert section in text
    assert "  march  " in text or "  march " in text
    quiet = run_json("show", prefix, "--no-source", "--compiledir", cd)
    assert quiet["source"] is None
    assert "\nsource (" not in run_cli("show", prefix, "--no-source", "--compiledir", cd).stdout


def test_show_ambiguous_unknown_and_bad_keys(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    prefix = shared_prefix(populated["keys"])
    matching = sorted(k for k in populated["keys"] if k.startswith(prefix))
    proc = run_cli("show", prefix, "--compiledir", cd, expect=1)
    assert f"key prefix '{prefix}' is ambiguous: it matches {len(matching)} entries" in proc.stderr
    assert all(k in proc.stderr for k in matching) and proc.stdout == ""
    err = json.loads(run_cli("show", prefix, "--json", "--compiledir", cd, expect=1).stdout)["error"]
    assert sorted(c["key"] for c in err["candidates"]) == matching and "ambiguous" in err["message"]

    first = populated["keys"][0]  # a prefix that matches nothing but shares 5 digits with a key
    unknown = next(
        first[:5] + c
        for c in "0123456789abcdef"
        if not any(k.startswith(first[:5] + c) for k in populated["keys"])
    )
    proc = run_cli("show", unknown, "--compiledir", cd, expect=1)
    assert f"no entry has a key starting with '{unknown}'" in proc.stderr
    near = next(
        m for n in range(5, 0, -1) if (m := sorted(k for k in populated["keys"] if k.startswith(unknown[:n])))
    )
    assert first in near and all(k in proc.stderr for k in near[:20])  # keys sharing the longest prefix
    proc = run_cli("show", "not-hex", "--compiledir", cd, expect=2)
    assert "usage: fncache show" in proc.stderr and "hexadecimal" in proc.stderr
    assert "usage: fncache show" in run_cli("show", "--compiledir", cd, expect=2).stderr


# -- stats --------------------------------------------------------------------------------------
def test_stats_human_and_json(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    doc = run_json("stats", "--compiledir", cd)
    counters = {"hits", "misses", "compiles", "hit_rate", "compile_seconds", "saved_seconds"}
    assert set(doc) == counters | {"per_host", "per_kind"}
    assert set(doc["per_kind"]) == {"kernel_library", "function", "synthetic"}
    assert all(set(c) == counters for c in [*doc["per_host"].values(), *doc["per_kind"].values()])
    assert doc["per_kind"]["synthetic"]["compiles"] == N_SYNTHETIC
    assert doc["per_kind"]["synthetic"]["compile_seconds"] == pytest.approx(0.25 * N_SYNTHETIC)
    assert sum(c["hits"] for c in doc["per_host"].values()) == doc["hits"] >= 2
    assert doc["compiles"] == sum(c["compiles"] for c in doc["per_kind"].values())
    assert doc["saved_seconds"] > 0 and 0 < doc["hit_rate"] < 1

    lines = run_cli("stats", "--compiledir", cd).stdout.splitlines()
    assert lines[0].split() == [
        "SCOPE",
        "HITS",
        "MISSES",
        "COMPILES",
        "HIT",
        "RATE",
        "COMPILE",
        "TIME",
        "SAVED",
    ]
    scopes = [line.split("  ")[0].strip() for line in lines[1:-1]]
    assert (
        scopes[0] == "total"
        and "kind kernel_library" in scopes
        and any(s.startswith("host ") for s in scopes)
    )
    assert lines[-1].startswith(f"{doc['hit_rate'] * 100:.1f}% of {doc['hits'] + doc['misses']} lookups hit")


# -- purge --------------------------------------------------------------------------------------
def test_purge_usage_errors(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    for args, message in (
        (["purge"], "say what to remove"),
        (["purge", "--older-than", "3 fortnights"], "--older-than"),
        (["purge", "--max-size", "big"], "--max-size"),
        (["purge", "--max-size", "0.5"], "whole number of bytes"),  # was 0: every entry removed
        (["purge", "--all", "--older-than", "1d"], "cannot be combined"),
    ):
        proc = run_cli(*args, "--compiledir", cd, expect=2)
        assert "usage: fncache purge" in proc.stderr and message in proc.stderr
    assert run_json("list", "--compiledir", cd)["total"] == len(populated["keys"])  # nothing touched


def test_purge_dry_run_shows_exactly_what_goes(scratch: Path) -> None:
    before = run_json("list", "--sort", "used", "--reverse", "--compiledir", scratch)["entries"]  # LRU first
    total = sum(e["size"] for e in before)
    limit = total // 2
    dry = run_json("purge", "--max-size", str(limit), "--dry-run", "--compiledir", scratch)
    assert set(dry) == {"dry_run", "criteria", "removed", "count", "bytes", "remaining"}
    assert dry["dry_run"] is True and dry["criteria"] == {
        "all": False,
        "older_than_seconds": None,
        "max_size_bytes": limit,
    }
    assert all(set(e) == ENTRY_FIELDS for e in dry["removed"])
    assert dry["remaining"]["size"] <= limit < dry["remaining"]["size"] + dry["removed"][-1]["size"]
    assert dry["bytes"] + dry["remaining"]["size"] == total
    assert run_json("list", "--compiledir", scratch)["total"] == len(before)  # a dry run removes nothing

    text = run_cli(
        "purge", "--max-size", str(limit), "--dry-run", "--compiledir", scratch
    ).stdout.splitlines()
    assert (
        text[0].split() == ["KEY", "KIND", "SIZE", "LAST", "USED", "HOST"] and len(text) == dry["count"] + 2
    )
    assert (
        text[-1].startswith(f"would remove {dry['count']} entries (")
        and "dry run: nothing was removed" in text[-1]
    )
    real = run_json("purge", "--max-size", str(limit), "--compiledir", scratch)
    assert real["dry_run"] is False
    assert sorted(e["key"] for e in real["removed"]) == sorted(e["key"] for e in dry["removed"])
    left = run_json("list", "--compiledir", scratch)
    assert left["total"] == len(before) - dry["count"] and left["size"] <= limit


def test_purge_by_age_and_all(scratch: Path) -> None:
    n = run_json("list", "--compiledir", scratch)["total"]
    old = run_json("purge", "--older-than", "30d", "--compiledir", scratch)
    assert old["count"] == 0 and old["remaining"]["entries"] == n
    assert run_cli("purge", "--older-than", "30d", "--compiledir", scratch).stdout.startswith(
        f"nothing to remove; {n} entries ("
    )
    text = run_cli("purge", "--all", "--compiledir", scratch).stdout.splitlines()
    assert (
        len(text) == n + 2
        and text[-1].startswith(f"removed {n} entries (")
        and text[-1].endswith("0 entries (0 B) remain")
    )
    assert run_json("list", "--compiledir", scratch)["total"] == 0
    assert run_json("purge", "--older-than", "0s", "--compiledir", scratch)["count"] == 0


# -- verify -------------------------------------------------------------------------------------
def test_verify_reports_and_repairs_damage(scratch: Path) -> None:
    n = run_json("list", "--compiledir", scratch)["total"]
    clean = run_json("verify", "--compiledir", scratch)
    assert clean == {"repair": False, "checked": n, "bad": [], "repaired": 0, "foreign": [], "ok": True}
    proc = run_cli("verify", "--compiledir", scratch)
    assert (
        proc.stdout.strip() == f"checked {n} entries: all good" and proc.stderr == ""
    )  # no progress when piped

    module = next(e for e in run_json("list", "--kind", "kernel_library", "--compiledir", scratch)["entries"])
    library = next(Path(module["path"]) / f for f in module["files"] if f.endswith(".so"))
    library.write_bytes(library.read_bytes()[:100])  # truncated, as by a full disk
    found = run_json("verify", "--compiledir", scratch, expect=1)
    assert found["ok"] is False and found["checked"] == n and found["repaired"] == 0
    assert [b["key"] for b in found["bad"]] == [module["key"]] and found["bad"][0]["repaired"] is False
    assert "checksum" in found["bad"][0]["reason"] or "size" in found["bad"][0]["reason"]
    text = run_cli("verify", "--compiledir", scratch, expect=1).stdout
    assert module["key"][:16] in text and "fncache verify --repair" in text.splitlines()[-1]
    assert run_json("list", "--compiledir", scratch)["total"] == n  # reporting removes nothing

    fixed = run_cli("verify", "--repair", "--compiledir", scratch).stdout
    assert module["key"][:16] in fixed and "all removed" in fixed.splitlines()[-1]
    assert run_json("verify", "--compiledir", scratch)["ok"] is True
    assert run_json("list", "--compiledir", scratch)["total"] == n - 1


# -- unlock (no locks; live and stale locks are in test_cli_concurrency.py) -------------------
def test_unlock_with_no_locks(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    assert run_json("unlock", "--compiledir", cd) == {"force": False, "locks": [], "removed": 0, "live": 0}
    assert run_cli("unlock", "--force", "--compiledir", cd).stdout.strip() == "no locks held"


# -- explain ------------------------------------------------------------------------------------
def test_explain_two_keys(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    modules = [e for e in populated["entries"] if e["kind"] == "kernel_library"]
    by_march: dict[str, dict[str, Any]] = {}
    for e in modules:
        by_march.setdefault(e["march"], e)
    generic, native = by_march["-march=x86-64"], next(e for m, e in by_march.items() if m != "-march=x86-64")
    doc = run_json("explain", native["key"][:12], generic["key"][:12], "--compiledir", cd)
    assert set(doc) == {"a", "b", "same", "differences"} and doc["same"] is False
    assert doc["a"]["key"] == native["key"] and doc["b"]["key"] == generic["key"]
    diffs = {d["component"]: d for d in doc["differences"]}
    assert {"march", "flags"} <= set(diffs) and diffs["march"]["b"] == "-march=x86-64"

    lines = run_cli("explain", native["key"], generic["key"], "--compiledir", cd).stdout.splitlines()
    assert lines[0].startswith(f"a  {native['key']}  kernel_library") and lines[1].startswith(
        f"b  {generic['key']}"
    )
    march = lines.index("march")
    assert (
        lines[march + 1].startswith("  only in a: -march=")
        and lines[march + 2] == "  only in b: -march=x86-64"
    )
    assert lines[-1].startswith(f"{len(diffs)} components differ: ") and "march" in lines[-1]

    same = run_json("explain", native["key"], native["key"], "--compiledir", cd)
    assert same["same"] is True and same["differences"] == []
    assert (
        run_cli("explain", native["key"], native["key"], "--compiledir", cd).stdout.splitlines()[-1]
        == "same key: both are the same entry"
    )
    kinds_differ = run_json(
        "explain",
        native["key"],
        next(e["key"] for e in populated["entries"] if e["kind"] == "function"),
        "--compiledir",
        cd,
    )
    assert kinds_differ["differences"][0]["component"] == "kind"


def test_explain_errors(populated: dict[str, Any]) -> None:
    cd = populated["dir"]
    key = populated["keys"][0]
    assert "usage: fncache explain" in run_cli("explain", key, "--compiledir", cd, expect=2).stderr
    assert "usage: fncache explain" in run_cli("explain", "--compiledir", cd, expect=2).stderr
    assert (
        "not both"
        in run_cli("explain", key, "--function", populated["pickle"], "--compiledir", cd, expect=2).stderr
    )
    assert (
        "ambiguous"
        in run_cli("explain", key, shared_prefix(populated["keys"]), "--compiledir", cd, expect=1).stderr
    )


def test_explain_pickled_function_on_another_cpu(tmp_path: Path) -> None:
    # Its own compiledir and pickle, made just before: the key's compiler_source component hashes
    # fncache's code, so a pickle made earlier in a tree being edited would (rightly) miss.
    scratch, pickled = tmp_path / "compiledir", tmp_path / "expxy.pkl"
    subprocess.run(
        [sys.executable, "-c", POPULATE, str(tmp_path), "0"],
        check=True,
        env=clean_env(compiledir=str(scratch)),
        timeout=600,
    )
    env = clean_env(compiledir=str(scratch), march="-march=x86-64")
    same_cpu = run_json("explain", "--function", pickled, env=clean_env(compiledir=str(scratch)))
    assert set(same_cpu) == {"file", "function", "load", "keys"} and same_cpu["function"] == "expxy"
    assert same_cpu["load"]["compiles"] == 0  # this host's module was in the cache
    function_level, module_level = same_cpu["keys"]
    assert function_level["level"] == "function" and function_level["in_cache"] is True
    assert function_level["compared_with"] == []  # this host computes the key the pickle carries
    assert module_level["level"] == "module" and module_level["in_cache"] is True
    other = {c["key"]: c for c in module_level["compared_with"]}
    assert len(other) == 1 and {d["component"] for d in next(iter(other.values()))["differences"]} >= {
        "march"
    }

    text = run_cli("explain", "--function", pickled, env=env).stdout
    assert text.startswith(f"{pickled}: function 'expxy' loaded on this host with")
    assert "module key" in text and "built from the same source" in text and "    march\n" in text
    assert "      only in this host: -march=x86-64" in text

    not_pickle = tmp_path / "f.pkl"
    not_pickle.write_bytes(b"not a pickle")
    assert (
        "could not be unpickled"
        in run_cli("explain", "--function", not_pickle, "--compiledir", scratch, expect=1).stderr
    )
    assert (
        "cannot read"
        in run_cli(
            "explain", "--function", tmp_path / "missing.pkl", "--compiledir", scratch, expect=1
        ).stderr
    )


# -- export / import ----------------------------------------------------------------------------
def test_export_and_import(populated: dict[str, Any], tmp_path: Path) -> None:
    cd = populated["dir"]
    bundle = tmp_path / "all.tar.gz"
    doc = run_json("export", bundle, "--compiledir", cd)
    assert set(doc) == {"path", "exported", "count", "size", "skipped"}
    assert sorted(doc["exported"]) == sorted(populated["keys"]) and doc["skipped"] == [] and doc["size"] > 0
    with tarfile.open(bundle) as tar:
        assert "fncache-bundle.json" in tar.getnames()

    fresh = (
        tmp_path / "node2" / "compiledir"
    )  # import may create the compiledir: that is how a node is seeded
    imported = run_json("import", bundle, "--compiledir", fresh)
    assert set(imported) == {"path", "origin", "imported", "already_present", "rejected", "bytes"}
    assert sorted(imported["imported"]) == sorted(populated["keys"]) and imported["rejected"] == []
    assert sorted(e["key"] for e in run_json("list", "--compiledir", fresh)["entries"]) == sorted(
        populated["keys"]
    )
    again = run_cli("import", bundle, "--compiledir", fresh).stdout.strip()
    assert again.endswith(f"; {len(populated['keys'])} already present, 0 rejected")
    assert again.startswith("imported 0 entries (0 B) from ")

    one = populated["entries"][0]
    part = tmp_path / "one.tar"
    text = run_cli("export", part, one["key"][:12], "--compiledir", cd).stdout.strip()
    assert text.startswith("exported 1 entry (") and text.endswith(f"to {part}")
    single = tmp_path / "single" / "compiledir"
    assert run_json("import", part, "--compiledir", single)["imported"] == [one["key"]]


def test_export_import_errors(populated: dict[str, Any], tmp_path: Path) -> None:
    cd = populated["dir"]
    proc = run_cli("export", tmp_path / "x.tar", "f" * 64, "--compiledir", cd, expect=1)
    assert "no entry has a key starting with" in proc.stderr and not (tmp_path / "x.tar").exists()
    assert (
        "ambiguous"
        in run_cli(
            "export", tmp_path / "x.tar", shared_prefix(populated["keys"]), "--compiledir", cd, expect=1
        ).stderr
    )
    assert (
        "no such archive"
        in run_cli("import", tmp_path / "missing.tar", "--compiledir", tmp_path / "new", expect=1).stderr
    )
    assert not (tmp_path / "new").exists()
    garbage = tmp_path / "garbage.tar"
    garbage.write_text("this is not a tar archive\n" * 40)
    assert (
        "cannot read cache archive"
        in run_cli("import", garbage, "--compiledir", tmp_path / "new2", expect=1).stderr
    )
    assert "usage: fncache export" in run_cli("export", "--compiledir", cd, expect=2).stderr


# -- demo ---------------------------------------------------------------------------------------
def test_demo_cold_then_warm(tmp_path: Path) -> None:
    doc = run_json("demo", env=clean_env(compiledir=str(tmp_path / "unused")))
    assert doc["temporary"] is True and not Path(doc["compiledir"]).exists()  # cleaned up
    assert not (tmp_path / "unused").exists()  # without --compiledir, the user's cache is not touched
    assert (
        doc["n"] == 10**6
        and doc["expression"] == "exp(x)*y + sin(z)/(1+x*x)"
        and doc["matches_numpy"] is True
    )
    assert doc["cold"]["compiles"] >= 2 and doc["warm"] == {"hits": 2, "misses": 0, "compiles": 0}
    assert doc["warm_seconds"] < doc["cold_seconds"] and doc["max_error"] <= 1e-10

    cd = tmp_path / "mine"
    lines = run_cli("demo", "--compiledir", cd).stdout.splitlines()
    assert lines[0].startswith("f(x, y, z) = exp(x)*y + sin(z)/(1+x*x)")
    assert [line.split()[0] for line in lines[1:-1]] == ["compiledir", "run", "cold", "warm", "per", "result"]
    assert "matches numpy" in lines[-2] and lines[-1].endswith("results match numpy")
    second = run_json("demo", "--compiledir", cd)  # a used compiledir: still a real cold build
    assert (
        second["temporary"] is False and second["cold"]["compiles"] >= 1 and second["warm"]["compiles"] == 0
    )
    assert run_json("list", "--kind", "kernel_library", "--compiledir", cd)["matched"] == 2


# -- errors -------------------------------------------------------------------------------------
def test_missing_or_foreign_compiledir_is_a_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    for command in (
        ["info"],
        ["list"],
        ["show", "ab"],
        ["stats"],
        ["purge", "--all"],
        ["unlock"],
        ["verify"],
        ["explain", "ab", "cd"],
        ["export", str(tmp_path / "x.tar")],
    ):
        proc = run_cli(*command, "--compiledir", missing, expect=1)
        assert proc.stderr.startswith(f"fncache: error: compiledir {missing} does not exist"), proc.stderr
    assert not missing.exists()  # looking must not create a cache
    err = json.loads(run_cli("list", "--json", env=clean_env(compiledir=str(missing)), expect=1).stdout)
    assert "does not exist" in err["error"]["message"] and err["error"]["hint"]

    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    proc = run_cli("purge", "--all", "--compiledir", foreign, expect=1)
    assert "does not look like an fncache compiledir" in proc.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    bad_flags = run_cli("info", env={**clean_env(), "FNCACHE_FLAGS": "nonsense"}, expect=1)
    assert "FNCACHE_FLAGS" in bad_flags.stderr


def test_bad_input_is_one_line_naming_it(populated: dict[str, Any], tmp_path: Path) -> None:
    """Bad flags, paths and archive names: one line on stderr naming the input, exit 1 for a
    failure and 2 for a malformed argument, and nothing written."""
    cd, garbage = populated["dir"], tmp_path / "garbage.tar"
    garbage.write_text("not a tar archive\n")
    cases: list[tuple[list[str | Path], dict[str, str], int, list[str]]] = [
        # a flag name that is none is the user's error, not "a bug in fncache"
        (["info"], {"compiledir": str(cd), "floatx": "float32"}, 1, ["unknown flag 'floatx'", "'floatX'?"]),
        (["list"], {"compiledir": str(cd), "threads": "x"}, 1, ["flag 'threads'", "got 'x'"]),
        (["info", "--compiledir", ""], {}, 2, ["--compiledir", "empty"]),
        (["demo", "--compiledir", ""], {}, 2, ["--compiledir", "empty"]),  # not a temporary one
        # longer than a key: refused at once (the search for the closest keys ran one lookup
        # per digit: 20 s for 100000)
        (["show", "a" * 1000, "--compiledir", cd], {}, 2, ["at most 64", "1000 digits"]),
        (["list", "--compiledir", "'/tmp/x'"], {}, 2, ["--compiledir", "quotes"]),
        (["export", tmp_path / "all.zip", "--compiledir", cd], {}, 2, ["all.zip", ".tar.gz"]),
        (["export", tmp_path / "-", "--compiledir", cd], {}, 2, ["-'", ".tar.gz"]),
        (["import", tmp_path, "--compiledir", tmp_path / "new"], {}, 1, [f"{tmp_path}: not a regular file"]),
        (["info", "--remote", "redis://:s3cret@[::1/0", "--compiledir", cd], {}, 2, ["--remote", "bad host"]),
        (["stats", "--remote", "redis://:s3cret@h:port/0", "--compiledir", cd], {}, 2, ["bad host or port"]),
        (["import", garbage, "--compiledir", tmp_path / "new"], {}, 1, [str(garbage)]),
    ]
    for args, flags, status, says in cases:
        err = run_cli(*args, env=clean_env(**flags), expect=status).stderr
        lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
        assert len(lines) == 1 and "a bug in fncache" not in err, (args, err)
        assert all(s in lines[0] for s in says) and "s3cret" not in err, (args, err)
    assert not (tmp_path / "all.zip").exists() and not (tmp_path / "-").exists()


def test_usage_errors_exit_2() -> None:
    assert "invalid choice" in run_cli("frobnicate", expect=2).stderr
    assert "a command is required" in run_cli(expect=2).stderr
    assert "unrecognized arguments" in run_cli("info", "--colour", expect=2).stderr
    assert run_cli("--help").stdout.startswith("usage: fncache")
    assert run_cli("--version").stdout.startswith("fncache ")


# -- damaged records on disk: one line, never a traceback ------------------------------------------
def test_malformed_stats_summaries_are_ignored_not_fatal(scratch: Path) -> None:
    before = run_json("stats", "--compiledir", scratch)
    stats_dir = scratch / "stats"
    stats_dir.mkdir(exist_ok=True)
    for i, doc in enumerate(
        [
            {
                "by_host_kind": {"h": {"kernel_library": {"hits": "many", "misses": None}}},
                "hits_by_entry": [1],
                "folded": 3,
            },
            {"by_host_kind": 5, "hits_by_entry": {"ab": "x"}},
            {"by_host_kind": {"h": ["kernel_library"]}},
            ["not", "a", "summary"],
            "just text",
        ]
    ):
        (stats_dir / f"bad{i}.summary.json").write_text(json.dumps(doc))
    (stats_dir / "torn.summary.json").write_bytes(b'{"by_host_kind": {"h"')
    for command in ("stats", "info"):
        run_cli(command, "--compiledir", scratch)  # exit 0, no traceback
    after = run_json("stats", "--compiledir", scratch)
    assert after["hits"] == before["hits"] and after["compiles"] == before["compiles"]


def test_a_lock_holder_record_with_a_bad_pid_is_an_unknown_holder(scratch: Path) -> None:
    shard = scratch / "locks" / "ab"
    shard.mkdir(parents=True, exist_ok=True)
    digest = "ab" + "0" * 62
    for mode in ("flock", "lease"):
        for record in (
            {"host": os.uname().nodename, "pid": "12x"},
            {"host": os.uname().nodename, "pid": [1]},
            {"host": 3, "pid": 1.5},
            ["x"],
        ):
            (shard / f"{digest}.{mode}").write_bytes(b"")
            (shard / f"{digest}.holder").write_text(json.dumps(record))
            run_cli("unlock", "--compiledir", scratch)
            (shard / f"{digest}.{mode}").write_bytes(b"")
            run_cli("unlock", "--json", "--compiledir", scratch)
        for p in shard.iterdir():
            p.unlink()


def test_a_truncated_archive_is_one_line(populated: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "all.tar.gz"
    run_cli("export", archive, "--compiledir", populated["dir"])
    data = archive.read_bytes()
    for cut in (len(data) // 2, len(data) * 3 // 4, 200):
        cut_path = tmp_path / f"cut{cut}.tar.gz"
        cut_path.write_bytes(data[:cut])
        err = run_cli("import", cut_path, "--compiledir", tmp_path / f"new{cut}", expect=1).stderr
        assert len(err.strip().splitlines()) == 1 and str(cut_path) in err, err


def test_import_refuses_files_the_metadata_does_not_list(populated: dict[str, Any], tmp_path: Path) -> None:
    import io
    import tarfile

    archive, planted = tmp_path / "all.tar", tmp_path / "planted.tar"
    run_cli("export", archive, "--compiledir", populated["dir"])
    with tarfile.open(archive) as src, tarfile.open(planted, "w") as dst:
        members = src.getmembers()
        victim = next(m.name.split("/")[1] for m in members if m.name.startswith("entries/"))
        for m in members:
            dst.addfile(m, src.extractfile(m))
        extra = tarfile.TarInfo(f"entries/{victim}/extra.so")
        extra.size = 4
        dst.addfile(extra, io.BytesIO(b"\x7fELF"))
    doc = json.loads(run_cli("import", planted, "--json", "--compiledir", tmp_path / "new", expect=1).stdout)
    assert victim not in doc["imported"]
    assert any(b["key"] == victim and "does not list" in b["reason"] for b in doc["rejected"])
    assert not list((tmp_path / "new").rglob("extra.so"))
