"""Shared timing helpers and the result model of the benchmark suite.

Steady-state figures use :func:`measure` (``timeit`` with the statement inlined, so no
lambda or wrapper call is timed; warm-up first; min and median over repeats).
Fresh-process figures use :func:`run_fresh`: the child prints one ``BENCH_RESULT {json}``
line with its own internal timing, and the parent measures the child's wall time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from dataclasses import asdict, dataclass, field

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)

# Columns of the table, in order.  Every row fills some of them.
COLUMNS = ("fncache", "numpy", "numexpr", "numba", "pytensor", "handc")
COLUMN_TITLES = {
    "fncache": "fncache",
    "numpy": "numpy",
    "numexpr": "numexpr(1t)",
    "numba": "numba",
    "pytensor": "pytensor-C",
    "handc": "hand C (libmvec)",
}


class Unavailable(Exception):
    """An implementation cannot be run here (not installed, not landed, no compiler...)."""


class WrongResult(Exception):
    """An implementation's result does not match numpy's; it is never timed."""


@dataclass
class Cell:
    status: str  # "ok" | "n/a" | "FAIL" | "-" (not applicable)
    value: float | None = None  # primary figure: min seconds (or bytes for sizes)
    median: float | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def ok(cls, value, median=None, **extra):
        return cls("ok", value, value if median is None else median, "", extra)

    @classmethod
    def na(cls, reason):
        return cls("n/a", reason=str(reason))

    @classmethod
    def fail(cls, reason):
        return cls("FAIL", reason=str(reason))

    @classmethod
    def from_exception(cls, exc):
        if isinstance(exc, WrongResult):
            return cls.fail(str(exc))
        if isinstance(exc, Unavailable):
            return cls.na(str(exc))
        return cls.na(f"{type(exc).__name__}: {exc}")


@dataclass
class Row:
    group: str  # W1, W2, W3, overhead, cold, import, warm, pickle
    key: str  # stable id, used in JSON and targets
    label: str  # what the figure is, shown in the table
    cells: dict = field(default_factory=dict)  # column -> Cell
    unit: str = "s"  # "s" or "bytes"
    note: str = ""

    def cell(self, col):
        return self.cells.get(col)

    def value(self, col):
        c = self.cells.get(col)
        return c.value if c is not None and c.status == "ok" else None

    def to_json(self):
        d = asdict(self)
        return d


# ----------------------------------------------------------------------------------------
# steady-state timing


@dataclass
class Timing:
    min: float
    median: float
    number: int
    repeats: int


def measure(
    stmt: str,
    env: dict,
    *,
    repeats: int = 5,
    warmup: int = 1,
    min_repeat_time: float = 0.2,
    number: int | None = None,
) -> Timing:
    """Time ``stmt`` (evaluated with ``env`` as globals), seconds per execution.

    ``warmup`` executions first (JIT, caches, page faults); then ``number`` executions per
    repeat, chosen so that one repeat lasts at least ``min_repeat_time`` unless given.
    """
    timer = timeit.Timer(stmt, globals=env)
    if warmup:
        timer.timeit(number=warmup)
    if number is None:
        number = 1
        while True:
            t = timer.timeit(number=number)
            if t >= min_repeat_time or number >= 10_000_000:
                break
            # aim a bit above the target, never more than x10 per step
            grow = min(10.0, max(2.0, 1.2 * min_repeat_time / max(t, 1e-9)))
            number = int(number * grow) + 1
    times = [t / number for t in timer.repeat(repeat=repeats, number=number)]
    return Timing(min(times), statistics.median(times), number, repeats)


def measure_pair(
    a: tuple, b: tuple, *, repeats: int = 5, warmup: int = 1, min_repeat_time: float = 0.2
) -> tuple[Timing, Timing]:
    """Time two statements in alternation, seconds per execution of each: ``a`` and ``b`` are
    ``(stmt, env, ctx_factory)``. Each repeat times ``a`` then ``b`` (the same number of
    executions per repeat, sized on the slower one), so load that comes and goes on a shared
    machine falls on both alike and their ratio (1 thread vs all cores, say) stays fair."""
    got = measure_interleaved(
        {"a": a, "b": b}, repeats=repeats, warmup=warmup, min_repeat_time=min_repeat_time
    )
    return got["a"], got["b"]


def measure_interleaved(
    entries: dict, *, repeats: int = 5, warmup: int = 1, min_repeat_time: float = 0.2
) -> dict:
    """Time several statements in rounds, seconds per execution of each: ``entries`` maps a
    name to ``(stmt, env, ctx_factory)`` (``stmt`` a string or a callable, ``env`` its
    globals). Each round times every entry once, in order, with the same number of executions
    (sized on the slowest), so load that comes and goes falls on all alike. Returns a
    :class:`Timing` per name: min and median over the ``repeats`` rounds."""
    timers = {name: (timeit.Timer(stmt, globals=env), ctx) for name, (stmt, env, ctx) in entries.items()}
    number = 1
    for timer, ctx in timers.values():
        with ctx():
            if warmup:
                timer.timeit(number=warmup)
            while timer.timeit(number=number) < min_repeat_time and number < 10_000_000:
                number *= 2
    times: dict = {name: [] for name in timers}
    for _ in range(repeats):
        for name, (timer, ctx) in timers.items():
            with ctx():
                times[name].append(timer.timeit(number=number) / number)
    return {name: Timing(min(t), statistics.median(t), number, repeats) for name, t in times.items()}


# ----------------------------------------------------------------------------------------
# fresh processes

RESULT_TAG = "BENCH_RESULT "


def child_env(extra: dict | None = None) -> dict:
    """Environment for a child: repo root and benchmarks/ importable; extra vars set."""
    env = dict(os.environ)
    path = [REPO_ROOT, BENCH_DIR]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


@dataclass
class FreshResult:
    wall: float
    data: dict | None
    error: str = ""
    wrong: bool = False  # the child computed a wrong answer (FAIL, not n/a)

    def cell_or_none(self):
        """The n/a or FAIL cell when the child did not succeed, else None."""
        if self.error:
            return Cell.fail(self.error) if self.wrong else Cell.na(self.error)
        return None


def run_fresh(code: str, env_extra: dict | None = None, timeout: float = 900) -> FreshResult:
    """Run ``code`` in a fresh interpreter; return its BENCH_RESULT dict and the wall time."""
    env = child_env(env_extra)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
        )
    except subprocess.TimeoutExpired:
        return FreshResult(time.perf_counter() - t0, None, f"timed out after {timeout:.0f}s")
    wall = time.perf_counter() - t0
    data = None
    for line in p.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            data = json.loads(line[len(RESULT_TAG) :])
    if data is None:
        tail = (p.stderr or p.stdout).strip().splitlines()
        msg = tail[-1] if tail else f"exit {p.returncode}, no output"
        return FreshResult(wall, None, msg)
    if data.get("error"):
        return FreshResult(wall, data, data["error"], bool(data.get("wrong")))
    return FreshResult(wall, data)


# Prelude every child runs first: prints the result line, reports errors as data.
CHILD_PRELUDE = r"""
import json as _json, sys as _sys, time as _time
class Unavailable(Exception):
    pass
def _report(**kw):
    print("BENCH_RESULT " + _json.dumps(kw), flush=True)
"""


def child_code(body: str) -> str:
    """Wrap a child body so that any exception is reported as {"error": ...}."""
    indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return (
        CHILD_PRELUDE + "try:\n" + indented + "\nexcept BaseException as _e:\n"
        "    _msg = str(_e) if type(_e).__name__ == 'Unavailable' else "
        "f'{type(_e).__name__}: {_e}'\n"
        "    _report(error=_msg[:300],\n"
        "            wrong=type(_e).__name__ == 'WrongResult')\n"
    )


# ----------------------------------------------------------------------------------------
# formatting


def fmt_seconds(s: float) -> str:
    if s is None:
        return "?"
    a = abs(s)
    if a < 1e-6:
        return f"{s * 1e9:.3g} ns"
    if a < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if a < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_bytes(b: float) -> str:
    if b is None:
        return "?"
    if b < 1024:
        return f"{b:.0f} B"
    if b < 1024**2:
        return f"{b / 1024:.3g} KiB"
    return f"{b / 1024**2:.3g} MiB"


def fmt_value(v: float, unit: str) -> str:
    return fmt_bytes(v) if unit == "bytes" else fmt_seconds(v)
