"""How long `fncache list` and `fncache info` take on a compiledir of 10,000 entries.

Targets: `list` under 2 s and `info` under 0.5 s, each as a fresh process (what an operator
waits for).  Entries are synthetic but real: published through the cache API (`put_bytes`), with
a usage log of hits, so every code path of a real compiledir is read.  Prints the figures; it is
a benchmark, not a timed test.

    python benchmarks/cli_bench.py [--entries 10000] [--repeats 5] [--compiledir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TARGETS = {"list": 2.0, "info": 0.5}
#: One lookup in this many is repeated as a hit, so the usage log holds hits as well as compiles.
HIT_EVERY = 4


def _populate(args: tuple[str, int, int]) -> int:
    """Publish entries ``start..stop`` of a synthetic population (run in a worker process)."""
    path, start, stop = args
    from fncache.cache import CacheKey, Compiledir

    cache = Compiledir(path)
    kinds = ("kernel_library", "function")
    for i in range(start, stop):
        key = CacheKey(kinds[i % 2], {"schema": "1", "bench": "cli", "index": str(i)})
        body = (f"synthetic entry {i}\n" * (1 + i % 50)).encode()
        cache.put_bytes(key, {"payload.bin": body}, {"compile_seconds": 0.05 + (i % 7) / 10})
        if i % HIT_EVERY == 0:
            cache.get(key)
    return stop - start


def populate(path: str, n: int) -> float:
    """Fill ``path`` with ``n`` entries using every core; returns the seconds it took."""
    workers = max(1, os.cpu_count() or 1)
    step = -(-n // (workers * 8))
    chunks = [(path, s, min(s + step, n)) for s in range(0, n, step)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = sum(pool.map(_populate, chunks))
    assert done == n
    return time.perf_counter() - t0


def fncache_command() -> list[str]:
    """The installed console script itself (not a version-manager shim in front of it)."""
    beside = Path(sysconfig.get_path("scripts")) / "fncache"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("fncache")
    return [found] if found else [sys.executable, "-m", "fncache_cli.main"]


def time_command(argv: list[str], repeats: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compiledir", help="use (and keep) this compiledir; populated if it has no entries")
    opts = parser.parse_args()
    path = opts.compiledir or tempfile.mkdtemp(prefix="fncache-cli-bench-")
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={path}"}
    try:
        if not (Path(path) / "entries").is_dir():
            secs = populate(path, opts.entries)
            print(f"populated {opts.entries:,} entries in {secs:.1f} s ({path})")
        cmd = fncache_command()
        print(f"command: {' '.join(cmd)}")
        baseline = time_command([sys.executable, "-c", "pass"], opts.repeats, env)
        print(
            f"{'python -c pass':<22} min {min(baseline):6.3f} s   median {statistics.median(baseline):6.3f} s"
            "   (interpreter start-up, for scale)"
        )
        time_command([*cmd, "info"], 1, env)  # first run: march detection for this compiledir's host file
        for name, argv in (
            ("fncache info", [*cmd, "info"]),
            ("fncache list", [*cmd, "list"]),
            ("fncache info --json", [*cmd, "info", "--json"]),
            ("fncache list --json", [*cmd, "list", "--json"]),
        ):
            times = time_command(argv, opts.repeats, env)
            target = TARGETS[argv[1]]
            verdict = "ok" if statistics.median(times) < target else "OVER TARGET"
            print(
                f"{name:<22} min {min(times):6.3f} s   median {statistics.median(times):6.3f} s"
                f"   target < {target} s: {verdict}"
            )
    finally:
        if opts.compiledir is None:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
