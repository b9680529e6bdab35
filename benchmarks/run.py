#!/usr/bin/env python
"""Run the fncache benchmark suite: every workload, every implementation, side by side.

    python benchmarks/run.py                  # everything, full sizes (several minutes)
    python benchmarks/run.py --quick          # small sizes, few repeats (a smoke run)
    python benchmarks/run.py --only W1,W2 --json out.json

Workloads (--only): W1 W2 W3 train overhead cold import warm pickle.
See benchmarks/README.md for what each figure is.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import shutil
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
sys.path.insert(1, REPO_ROOT)  # time the working tree's fncache

GROUPS = ("W1", "W2", "W3", "train", "overhead", "cold", "import", "warm", "pickle")


@dataclasses.dataclass
class Config:
    quick: bool
    workdir: str
    n: int = 10_000_000  # W1 / W2 array length
    repeats: int = 7
    min_repeat_time: float = 0.2
    overhead_repeats: int = 7
    overhead_min_time: float = 0.2
    cold_n: int = 1000  # W1 length for cold compile (compile dominates)
    cold_trials: int = 3
    import_trials: int = 5
    warm_trials: int = 5
    fill_more: int = 300  # the warm hit after 300 more functions
    fill_big: int = 1000  # the warm hit in a cache of 10 vs 1,000 entries
    child_timeout: float = 900
    memo: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def make(cls, quick, workdir):
        if quick:
            return cls(
                quick,
                workdir,
                n=1_000_000,
                repeats=3,
                min_repeat_time=0.05,
                overhead_repeats=3,
                overhead_min_time=0.05,
                cold_trials=1,
                import_trials=3,
                warm_trials=3,
                fill_more=30,
                fill_big=100,
            )
        return cls(quick, workdir)

    def overhead(self):
        return dataclasses.replace(
            self, repeats=self.overhead_repeats, min_repeat_time=self.overhead_min_time
        )

    def path(self, name):
        return os.path.join(self.workdir, name)

    def newdir(self, name):
        p = self.path(name)
        if os.path.exists(p):
            shutil.rmtree(p)
        os.makedirs(p)
        return p


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(GROUPS))
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    p.add_argument("--n", type=int, help="W1/W2 array length (default 10^7, --quick 10^6)")
    p.add_argument(
        "--fill",
        type=int,
        nargs=2,
        metavar=("MORE", "BIG"),
        help="warm: functions added for the '+N' figure, and the big cache size "
        "(default 300 1000, --quick 30 100)",
    )
    p.add_argument(
        "--workdir",
        help="where compiledirs and pickles go (default: a new temp dir, removed at the end unless --keep)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args(argv)
    groups = [g.strip() for g in a.only.split(",") if g.strip()] or list(GROUPS)
    lower = {g.lower(): g for g in GROUPS}
    bad = [g for g in groups if g.lower() not in lower]
    if bad:
        p.error(f"unknown workload(s) {bad}; choose from {', '.join(GROUPS)}")
    a.groups = [lower[g.lower()] for g in groups]
    return a


def main(argv=None):
    args = parse_args(argv)
    # Fresh-process figures are taken as in a normal installation, bytecode cached: with
    # PYTHONDONTWRITEBYTECODE set, each fresh process would compile fncache's sources again (an
    # editable checkout has no .pyc from pip) while the pip-installed rivals load theirs.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        print("# PYTHONDONTWRITEBYTECODE was set: unset for the benchmark's processes")
    workdir = args.workdir or tempfile.mkdtemp(prefix="fncache-bench-")
    os.makedirs(workdir, exist_ok=True)
    cfg = Config.make(args.quick, workdir)
    if args.n:
        cfg.n = args.n
    if args.fill:
        cfg.fill_more, cfg.fill_big = args.fill

    # The in-process fncache gets its own fresh compiledir (before fncache is imported).
    from fresh import fncache_env

    os.environ.update(fncache_env(cfg.newdir("fncache-inproc")))

    import backends
    import fresh
    import report
    import steady

    runners = {
        "W1": steady.run_w1,
        "W2": steady.run_w2,
        "W3": steady.run_w3,
        "train": lambda c: steady.run_train(c) + fresh.run_train_fresh(c),
        "overhead": steady.run_overhead,
        "cold": fresh.run_cold,
        "import": fresh.run_import,
        "warm": fresh.run_warm,
        "pickle": fresh.run_pickle,
    }

    meta = {
        "command": " ".join(["python", "benchmarks/run.py"] + (argv if argv is not None else sys.argv[1:])),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": backends.versions(),
        "machine": backends.machine(),
        "config": {k: v for k, v in dataclasses.asdict(cfg).items() if k != "memo"},
    }
    v, m = meta["versions"], meta["machine"]
    print(f"# {meta['command']}   ({meta['date']})")
    print(f"# {m.get('cpu', '?')}, {m['cpus']} cpus, {m.get('gcc')}")
    print("# " + ", ".join(f"{k} {val}" for k, val in v.items()))
    print(f"# W1/W2 n={cfg.n:,}, repeats={cfg.repeats}, workdir={workdir}")
    sys.stdout.flush()

    rows = []
    t_start = time.perf_counter()
    try:
        for g in args.groups:
            t0 = time.perf_counter()
            print(f"running {g} ...", file=sys.stderr, flush=True)
            try:
                rows += runners[g](cfg)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # noqa: BLE001 - a broken group must not stop the others
                from timing import Row

                rows.append(Row(g, f"{g}_error", f"{g}: harness error", note=f"{type(e).__name__}: {e}"))
            print(f"  {g} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    targets = report.evaluate_targets(rows)
    print()
    print(
        "Time per implementation (min of repeats); (Nx) = that column's time / fncache's "
        "time: > 1 means fncache is faster."
    )
    print()
    print(report.format_table(rows))
    notes = report.format_notes(rows)
    if notes:
        print("\nNotes:")
        print(notes)
    groups_run = {r.group for r in rows}
    print("\nTargets:")
    print(report.format_targets(targets))
    print(f"\ntotal {time.perf_counter() - t_start:.0f}s; groups: {', '.join(args.groups)}")
    if args.json:
        meta["groups"] = sorted(groups_run)
        with open(args.json, "w") as fh:
            fh.write(report.to_json(meta, rows, targets))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
