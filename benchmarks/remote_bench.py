"""The Redis remote tier: a warm hit through the remote tier versus a local hit versus a
compile, in one run.

    python benchmarks/remote_bench.py [--repeats 5] [--json FILE]

Starts its own ``redis-server`` on a free 127.0.0.1 port (data in a temp dir, killed at the end)
and measures, for the W3 workload (logistic-regression loss, see workloads.py):

* fresh process, ``fc.function(W3)`` + first call (what a pod or CI job sees; imports and input
  data excluded, timed by the child):
    - compile:     empty compiledir, empty Redis: optimize, generate, gcc, publish, upload;
    - local hit:   the compiledir holds W3 (Redis is not touched);
    - remote hit:  an empty compiledir of a "new host", Redis holds W3: two remote lookups
                   (function entry, native module), each verified and published locally.
      The import of the Redis backend (fncache.cache.remote_redis and its RESP client) happens
      inside this figure (the first remote lookup imports it); it is also measured alone.
* in process, one ``Compiledir.get`` of W3's native module: local hit vs remote hit (local miss,
  fetch, verify, publish), the client already connected.

Figures are min and median over the repeats.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
log = logging.getLogger("remote_bench")

CHILD = r"""
import json, sys, time
import numpy as np
import fncache as fc
from fncache import tensor as ft
import workloads as W
args = W.w3_inputs()
ref = W.w3_ref(*args)
before = fc.cache.info()
t0 = time.perf_counter()
inputs, output = W.w3_graph(ft)
f = fc.function(inputs, output)
out = f(*args)
seconds = time.perf_counter() - t0
after = fc.cache.info()
assert abs(float(out) - float(ref)) <= 1e-9 * abs(float(ref)), (out, ref)
print(json.dumps({"seconds": seconds, "compiles": after["compiles"] - before["compiles"],
                  "redis_imported": "redis" in sys.modules}))
"""

IMPORT_BACKEND = (
    "import time, fncache; t = time.perf_counter(); import fncache.cache.remote_redis; "
    "print(time.perf_counter() - t)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    """A private redis-server on loopback; returns the process and its port."""
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.01)
    proc.kill()
    proc.wait()
    sys.exit("redis-server did not start")


def run_child(compiledir: Path, url: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        "FNCACHE_FLAGS": f"compiledir={compiledir},remote_cache={url}",
    }
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_figures(work: Path, url: str, flush: Callable[[], Any], repeats: int) -> dict[str, list[dict]]:
    """Fresh-process figures; ``flush()`` empties Redis."""
    out: dict[str, list[dict]] = {"compile": [], "local_hit": [], "remote_hit": []}
    for i in range(max(2, repeats // 2)):
        flush()
        out["compile"].append(run_child(work / f"compile{i}", url))
    warm = work / "compile0"
    for _ in range(repeats):
        out["local_hit"].append(run_child(warm, url))
    flush()
    run_child(work / "seed", url)  # Redis holds W3 from a host of its own
    for i in range(repeats):
        out["remote_hit"].append(run_child(work / f"newhost{i}", url))
    return out


def in_process_figures(work: Path, url: str, repeats: int) -> tuple[dict[str, list[float]], int]:
    """``Compiledir.get`` of W3's native module: local hit vs remote hit, client connected.
    Also returns the module entry's size in bytes."""
    sys.path[:0] = [str(REPO), str(HERE)]
    import workloads as W

    import fncache as fc
    from fncache import tensor as ft
    from fncache.cache import CacheKey, Compiledir

    out: dict[str, list[float]] = {"local_hit": [], "remote_hit": []}
    with fc.config.change_flags(compiledir=str(work / "inproc-seed"), remote_cache=url):
        inputs, output = W.w3_graph(ft)
        fc.function(inputs, output)(*W.w3_inputs())  # compiled here, uploaded to Redis
        module = next(e for e in fc.cache.entries() if e["kind"] == "kernel_library")
        key = CacheKey("kernel_library", module["components"])
        seed = Compiledir(work / "inproc-seed")
        seed.get(key)  # warm the client and the page cache
        for _ in range(repeats * 10):
            t0 = time.perf_counter()
            assert seed.get(key) is not None
            out["local_hit"].append(time.perf_counter() - t0)
        for i in range(repeats * 10):
            host = Compiledir(work / f"inproc-host{i}")
            host.info()  # create the compiledir outside the timing
            t0 = time.perf_counter()
            assert host.get(key) is not None
            out["remote_hit"].append(time.perf_counter() - t0)
    return out, module["size"]


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    work = Path(tempfile.mkdtemp(prefix="fncache-remote-bench-"))
    proc, port = start_redis(work / "redis")
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        log.info("redis-server %s on 127.0.0.1:%d; work dir %s", client.info()["redis_version"], port, work)
        fresh = fresh_figures(work, url, client.flushall, args.repeats)
        assert all(r["compiles"] == 0 for r in fresh["local_hit"] + fresh["remote_hit"]), fresh
        assert not any(r["redis_imported"] for r in fresh["local_hit"] + fresh["remote_hit"]), (
            "a child imported redis-py"
        )
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        imports = [
            float(
                subprocess.run(
                    [sys.executable, "-c", IMPORT_BACKEND],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                ).stdout
            )
            for _ in range(args.repeats)
        ]
        client.flushall()
        inproc, module_bytes = in_process_figures(work, url, args.repeats)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)

    figures = {
        "fresh_compile": summary([r["seconds"] for r in fresh["compile"]]),
        "fresh_local_hit": summary([r["seconds"] for r in fresh["local_hit"]]),
        "fresh_remote_hit": summary([r["seconds"] for r in fresh["remote_hit"]]),
        "import_backend": summary(imports),
        "get_local_hit": summary(inproc["local_hit"]),
        "get_remote_hit": summary(inproc["remote_hit"]),
    }
    rows = [
        ("fresh process: fc.function(W3) + 1st call", None),
        ("  compile (empty compiledir, empty Redis)", "fresh_compile"),
        ("  local hit", "fresh_local_hit"),
        ("  remote hit (new host: local miss, Redis hit)", "fresh_remote_hit"),
        ("    of which importing the Redis backend (alone)", "import_backend"),
        (f"in process: Compiledir.get(W3 module, {module_bytes / 1e3:.0f} kB)", None),
        ("  local hit", "get_local_hit"),
        ("  remote hit (fetch, verify, publish)", "get_remote_hit"),
    ]
    print(f"\n{'':52s}{'min':>10s}{'median':>10s}{'n':>5s}")
    for label, name in rows:
        if name is None:
            print(label)
            continue
        s = figures[name]
        print(f"{label:52s}{s['min'] * 1e3:>8.2f}ms{s['median'] * 1e3:>8.2f}ms{s['n']:>5d}")
    c, lh, rh = (figures[n]["median"] for n in ("fresh_compile", "fresh_local_hit", "fresh_remote_hit"))
    print(
        f"\nfresh process, medians: compile / remote hit = {c / rh:.1f}x; remote hit / local hit = {rh / lh:.1f}x"
    )
    g_l, g_r = figures["get_local_hit"]["median"], figures["get_remote_hit"]["median"]
    print(f"in process, medians: remote get / local get = {g_r / g_l:.1f}x (+{(g_r - g_l) * 1e3:.2f} ms)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
