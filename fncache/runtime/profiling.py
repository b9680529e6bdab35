"""``fc.function(..., profile=True)``: Theano's per-function profile, reduced to what fncache
can measure without slowing other functions down: the time spent compiling (or loading from
the cache), the number and total time of the calls, and the time of each node of the
optimized graph (each step of the C run-time's program, each perform of the Python linker),
measured only in the functions compiled with a profile (README "Compiling")."""

from __future__ import annotations

import atexit
import sys
import time
from collections import defaultdict
from typing import IO, Any, Callable

from ..graph.basic import Apply

#: what reads one function's node times: (node, seconds, runs) per node
NodeTimes = Callable[[], list[tuple[Apply, float, int]]]

__all__ = ["ProfileStats", "profile_stats", "profiled"]


class ProfileStats:
    """What ``f.profile`` holds for a function compiled with ``profile=True`` (or a name, or
    this object, which several functions may then share, as Theano's)."""

    def __init__(self, message: str = "") -> None:
        self.message = message
        #: calls made with ``f(...)`` (``f.fn()`` re-runs are not counted)
        self.fct_callcount = 0
        #: seconds spent in those calls, conversions of the inputs included
        self.fct_call_time = 0.0
        #: seconds ``fc.function`` took: optimizing and compiling, or loading from the cache
        self.compile_time = 0.0
        #: each profiled function's name and the reader of its node times
        self._node_times: list[tuple[str, NodeTimes]] = []

    def add_node_times(self, function_name: str, read: NodeTimes) -> None:
        """Count the node times ``read`` returns (one function's) in this profile."""
        self._node_times.append((function_name, read))

    def apply_records(self) -> list[tuple[str, int, Apply, float, int]]:
        """(function name, the node's place in the order its function runs them, node,
        seconds, runs) for every node of the profiled functions, the longest first. The times count every run of the function, ``f.fn()`` re-runs
        included; a node running an inner function (``scan``, a lazy ``ifelse``) counts it."""
        rows = [
            (name, k, node, t, runs)
            for name, read in self._node_times
            for k, (node, t, runs) in enumerate(read())
        ]
        return sorted(rows, key=lambda r: -r[3])

    @property
    def apply_time(self) -> dict[Apply, float]:
        """Theano's ``apply_time``: seconds per node."""
        return {node: t for _, _, node, t, _ in self.apply_records()}

    @property
    def apply_callcount(self) -> dict[Apply, int]:
        """Theano's ``apply_callcount``: runs per node."""
        return {node: runs for _, _, node, _, runs in self.apply_records()}

    def summary(self, file: IO[str] | None = None, n_apply_to_print: int = 20) -> str:
        """Write the profile to ``file`` (standard error by default, as Theano) and return it:
        the calls, then the time of each class of op and of the ``n_apply_to_print`` longest
        nodes, each as a share of the time of all nodes."""
        per_call = self.fct_call_time / self.fct_callcount if self.fct_callcount else 0.0
        text = (
            f"Function profiling\n==================\n  Message: {self.message}\n"
            f"  Time in {self.fct_callcount} calls to Function.__call__: {self.fct_call_time:.6e}s\n"
            f"  Time per call: {per_call:.6e}s\n"
            f"  Time to compile (or load from the cache): {self.compile_time:.6e}s\n"
        )
        text += _nodes_summary(self.apply_records(), n_apply_to_print)
        (sys.stderr if file is None else file).write(text)
        return text


def _nodes_summary(rows: list[tuple[str, int, Apply, float, int]], n_apply: int) -> str:
    """Theano's "Class" and "Apply" sections of a profile's text."""
    total = sum(r[3] for r in rows)
    if not rows:
        return "  No node was timed (no call yet, or a back end that does not time nodes)\n"
    text = f"  Time in all nodes: {total:.6e}s\n\nClass\n---\n<% time> <sum %> <time> <#nodes> <class>\n"
    by_class: dict[str, list] = defaultdict(lambda: [0.0, 0])
    for _, _, node, t, _ in rows:
        cell = by_class[type(node.op).__name__]
        cell[0] += t
        cell[1] += 1
    text += _share_lines(
        sorted(by_class.items(), key=lambda kv: -kv[1][0]),
        total,
        lambda kv: (kv[1][0], f"{kv[1][1]:>8d}  {kv[0]}"),
    )
    several = len({name for name, *_ in rows}) > 1
    text += "\nApply\n------\n<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>\n"

    def apply_cols(r: tuple) -> tuple[float, str]:
        name, k, node, t, runs = r
        where = f"{name}: " if several else ""
        shown = f"{where}{node}"
        if len(shown) > 120:
            shown = shown[:117] + "..."
        return t, f"{t / runs if runs else 0.0:.2e}s  {runs:>6d}  {k:>4d}  {shown}"

    text += _share_lines(rows[:n_apply], total, apply_cols)
    if len(rows) > n_apply:
        text += (
            f"   ... (remaining {len(rows) - n_apply} nodes take {sum(r[3] for r in rows[n_apply:]):.2e}s)\n"
        )
    return text


def _share_lines(items: list, total: float, cols: Callable[[Any], tuple[float, str]]) -> str:
    """One line per item: its share of ``total``, the running sum of shares, its time and the
    rest of its columns."""
    out, acc = [], 0.0
    for item in items:
        t, rest = cols(item)
        share = 100.0 * t / total if total else 0.0
        acc += share
        out.append(f"  {share:5.1f}%  {acc:5.1f}%  {t:.3e}s  {rest}\n")
    return "".join(out)


#: The functions profiled because ``config.profile`` was on, in the order they were compiled:
#: their summaries are written at exit, as Theano's ``profile=True`` flag does.
_AT_EXIT: list[ProfileStats] = []


def _summaries_at_exit() -> None:
    for stats in _AT_EXIT:
        stats.summary()


def profile_stats(profile: Any, name: str) -> ProfileStats | None:
    """The stats object ``fc.function``'s ``profile`` argument asks for, None for none; with no
    ``profile`` given, ``config.profile`` on profiles the function and prints its summary at exit."""
    if profile is None:
        from ..config import config

        if not config.profile:
            return None
        if not _AT_EXIT:
            atexit.register(_summaries_at_exit)
        _AT_EXIT.append(ProfileStats(name))
        return _AT_EXIT[-1]
    if profile is False:
        return None
    if profile is True:
        return ProfileStats(name)
    if isinstance(profile, str):
        return ProfileStats(profile)
    if isinstance(profile, ProfileStats):
        return profile
    raise TypeError(f"function: profile must be None, False, True, a name or a ProfileStats, got {profile!r}")


def profiled(f: Any, stats: ProfileStats, compile_time: float) -> Any:
    """``f`` with every call counted and timed into ``stats`` (``f.profile``)."""
    inner = f.__call__  # the native runner itself, or the call bound to f

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            stats.fct_call_time += time.perf_counter() - t0
            stats.fct_callcount += 1

    stats.compile_time += compile_time
    read = f.time_nodes()
    if read is not None:
        stats.add_node_times(f.name, read)
    cls = type(f)
    f.__class__ = type(
        cls.__name__,
        (cls,),
        {"__call__": __call__, "__module__": cls.__module__, "__qualname__": cls.__qualname__},
    )
    f.profile = stats
    return f
