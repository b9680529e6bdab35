"""Cold compiles of functions with inner graphs, each from ``function()`` to the first result in
a fresh process on an empty compiledir (the graph and data made before the clock starts):

rnn     the tanh RNN of ``train_models.py`` (a ``scan`` and its gradient's): three kernel libraries
ifelse  a lazy ``ifelse`` whose two branches have kernels of their own: three kernel libraries
ofg     two ``OpFromGraph`` ops kept as inner functions (a mode without ``inline_op_from_graph``)
mlp64   the float64 MLP of ``train_models.py``, no inner graph: one library in two parts

    python benchmarks/cold_inner.py [--rounds 5] [--only rnn,ifelse,ofg,mlp64] [--against DIR]

``--against DIR``: another fncache source tree (an earlier commit, extracted with its compiled
run-time), timed alternately with this one round by round, so both see the same load. Each
figure: the fastest and the median over the rounds. The compiler's own CPU time in the child
(``RUSAGE_CHILDREN``) is shown beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = ("rnn", "ifelse", "ofg", "mlp64")


def _graph(fc, ft, key: str) -> tuple:
    """(function arguments, its keyword options, the values of a call) of model ``key``."""
    import numpy as np

    if key in ("rnn", "mlp64"):
        import train_models as tm

        _, make_data, graph, _, _ = tm.MODELS[key]
        data, params0 = make_data()
        ins, outs, upd = graph(ft, fc, params0)
        return (ins, outs), {"updates": upd}, data
    x, y = ft.dvector("x"), ft.dvector("y")
    v, w = np.linspace(0.1, 2, 1000), np.linspace(-1, 1, 1000)
    if key == "ifelse":
        c = ft.dscalar("c")
        then = ft.exp(x) * ft.sin(y) + ft.tanh(x * y) - ft.sqrt(x + 2) * ft.cos(y)
        other = ft.log1p(x * x) * ft.cos(y) - ft.erf(x) + ft.arctan(y) / (1 + x)
        return ([c, x, y], fc.ifelse(ft.gt(c, 0), then, other) * 2 + x), {}, (1.0, v, w)
    a, b = ft.dvector("a"), ft.dvector("b")
    first = fc.OpFromGraph([a, b], [ft.exp(a) * ft.sin(b) + ft.tanh(a * b)])
    second = fc.OpFromGraph([a, b], [ft.log1p(a * a) * ft.cos(b) - ft.erf(a)])
    mode = fc.Mode(linker="c").excluding("inline_op_from_graph")
    return ([x, y], first(x, y) * second(y, x) + x), {"mode": mode}, (v, w)


def child(key: str) -> None:
    """In a fresh process: print the seconds from ``function()`` to the first result, and the
    compiler's CPU seconds."""
    sys.path.insert(0, HERE)
    import fncache as fc
    from fncache import tensor as ft

    fc.config.threads = 1
    args, options, data = _graph(fc, ft, key)
    t0 = time.perf_counter()
    fc.function(*args, **options)(*data)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(wall, usage.ru_utime + usage.ru_stime)


def _one(tree: str, key: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="cold-inner-") as d:
        env = dict(os.environ, FNCACHE_FLAGS=f"compiledir={d}", PYTHONPATH=tree)
        script = os.path.join(HERE, "cold_inner.py")
        out = subprocess.run(
            [sys.executable, script, "--child", key, "--tree", tree], env=env, capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(f"{key} in {tree}: {out.stderr[-2000:]}")
        wall, gcc = map(float, out.stdout.split()[-2:])
        return wall, gcc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--only", default=",".join(MODELS))
    p.add_argument("--against", metavar="DIR", help="another fncache source tree, timed alternately")
    p.add_argument("--child", metavar="MODEL", help=argparse.SUPPRESS)
    p.add_argument("--tree", default=ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.tree)
        child(args.child)
        return 0
    trees = {"this": ROOT}
    if args.against:
        trees = {"against": os.path.abspath(args.against), **trees}
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    print(
        f"cold compile -> first result, fresh processes, {args.rounds} rounds, nproc {os.cpu_count()}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for key in keys:
            for name, tree in trees.items():
                times.setdefault((key, name), []).append(_one(tree, key))
    print(f"load average after {os.getloadavg()[0]:.2f}")
    print(f"{'':8s} {'tree':8s} {'fastest':>9s} {'median':>9s} {'gcc CPU, fastest':>17s}")
    for (key, name), runs in times.items():
        walls = [w for w, _ in runs]
        print(
            f"{key:8s} {name:8s} {min(walls):8.3f}s {statistics.median(walls):8.3f}s "
            f"{min(g for _, g in runs):16.3f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
