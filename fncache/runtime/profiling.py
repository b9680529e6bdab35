"""``fc.function(..., profile=True)``: Theano's per-function profile, reduced to what fncache
can measure without slowing other functions down: the time spent compiling (or loading from
the cache), and the number and total time of the calls (README "Compiling")."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

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

    def summary(self, file: IO[str] | None = None) -> str:
        """Write the profile to ``file`` (standard error by default, as Theano) and return it."""
        per_call = self.fct_call_time / self.fct_callcount if self.fct_callcount else 0.0
        text = (
            f"Function profiling\n==================\n  Message: {self.message}\n"
            f"  Time in {self.fct_callcount} calls to Function.__call__: {self.fct_call_time:.6e}s\n"
            f"  Time per call: {per_call:.6e}s\n"
            f"  Time to compile (or load from the cache): {self.compile_time:.6e}s\n"
        )
        (sys.stderr if file is None else file).write(text)
        return text


def profile_stats(profile: Any, name: str) -> ProfileStats | None:
    """The stats object ``fc.function``'s ``profile`` argument asks for, None for none."""
    if profile is None or profile is False:
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
    cls = type(f)
    f.__class__ = type(
        cls.__name__,
        (cls,),
        {"__call__": __call__, "__module__": cls.__module__, "__qualname__": cls.__qualname__},
    )
    f.profile = stats
    return f
