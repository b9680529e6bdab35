"""Fresh-process warm hits of functions holding inner functions, beside a plain function.

    python benchmarks/warm_inner.py [--rounds 20] [--only rnn,branches,plain] [--tree DIR ...]

Each workload is compiled once into a compiledir of its own (per tree), then hit by ``--rounds``
fresh processes, the trees taking turns (a busy machine slows them alike). A child times
``fc.function`` and the first call: wall time (``time.perf_counter``) and this process's CPU
time (``time.process_time``, less moved by other processes); printed are the minimum and the
median of each, and the lookups one hit made, by kind, with the kernel libraries it loaded.
``--tree``: a source tree to import fncache from (several: compared; default this one).

rnn       the RNN training step of ``train_models.py`` (a loop and its gradient's loop)
branches  two lazy ``ifelse`` and an ``OpFromGraph`` kept as one op (six functions in all)
plain     two elementwise outputs and a reduction: one function entry, one library
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from timing import BENCH_DIR, REPO_ROOT

GRAPHS = {
    "rnn": (
        "import train_models as TM\n"
        "data, params0 = TM.rnn_data()\n"
        "ins, outs, upd = TM.rnn_graph(ft, fc, params0)\n"
        "kw = dict(updates=upd)\n"
    ),
    "branches": (
        "from fncache.tensor.op_from_graph import OpFromGraph\n"
        "a, b, c = ft.dmatrix('a'), ft.dmatrix('b'), ft.dscalar('c')\n"
        "op = OpFromGraph([a, b], [ft.tanh(a) * b + a])\n"
        "r = fc.ifelse(c > 0, ft.exp(a).sum(axis=0) * 2, (b * b).sum(axis=0) - 1)\n"
        "r2 = fc.ifelse(c > 1, op(a, b) + 1, op(b, a) - 1)\n"
        "ins, outs = [a, b, c], [r, r2]\n"
        "kw = dict(mode=fc.Mode(linker='c').excluding('inline_op_from_graph'))\n"
        "rng = np.random.default_rng(0)\n"
        "data = (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), 0.5)\n"
    ),
    "plain": (
        "x, m = ft.dvector('x'), ft.dmatrix('m')\n"
        "ins, outs, kw = [x, m], [ft.exp(x) * 2 + x, ft.sum(m * m, axis=0)], {}\n"
        "data = (np.linspace(0, 1, 5), np.arange(15.0).reshape(3, 5))\n"
    ),
}

CHILD = """
import json, time, numpy as np
import fncache as fc
from fncache import tensor as ft
import fncache.cache.compiledir as _cd, fncache.codegen.c_linker as _cl
fc.config.threads = 1
counts = {"loads": 0}
_get, _load = _cd.Compiledir.get, _cl._load_bytes
def get(self, key):
    counts[key.kind] = counts.get(key.kind, 0) + 1
    return _get(self, key)
def load(*a, **k):
    counts["loads"] += 1
    return _load(*a, **k)
_cd.Compiledir.get, _cl._load_bytes = get, load
%s
t0, c0 = time.perf_counter(), time.process_time()
fc.function(ins, outs, **kw)(*data)
t, c = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"wall": t, "cpu": c, "counts": counts}))
"""


def run(tree: str, compiledir: str, what: str) -> dict:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([tree, BENCH_DIR]), FNCACHE_FLAGS=f"compiledir={compiledir}"
    )
    out = subprocess.run(
        [sys.executable, "-c", CHILD % GRAPHS[what]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
    )  # in the tree: ``-c`` puts the working directory first on the path
    if out.returncode:
        raise RuntimeError(f"{what} on {tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", default=",".join(GRAPHS))
    parser.add_argument("--tree", action="append", default=None)
    args = parser.parse_args(argv)
    trees = [os.path.abspath(t) for t in args.tree or [REPO_ROOT]]
    print(f"fresh-process warm hits, {args.rounds} rounds; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="warm-inner-") as work:
        for what in args.only.split(","):
            dirs = {t: os.path.join(work, f"{what}-{k}") for k, t in enumerate(trees)}
            for t in trees:
                run(t, dirs[t], what)  # the cold compile fills it
            got: dict[str, list[dict]] = {t: [] for t in trees}
            for _ in range(args.rounds):
                for t in trees:
                    got[t].append(run(t, dirs[t], what))
            for t in trees:
                wall, cpu = ([r[k] * 1e3 for r in got[t]] for k in ("wall", "cpu"))
                print(
                    f"  {what:9s} {t[-24:]:>24s}  wall min {min(wall):6.2f} median {statistics.median(wall):6.2f}"
                    f"  cpu min {min(cpu):6.2f} median {statistics.median(cpu):6.2f} ms  {got[t][-1]['counts']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
