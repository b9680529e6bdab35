"""What runs on the far side in test_ship*.py: spawned pool workers, Dask workers, fresh processes.

Kept apart from the test modules so that a worker imports fncache and numpy only (not pytest).
Run as a script, it is the "fresh process": ``python ship_worker.py REQUEST RESULT`` reads a
pickled ``(payload, args, options)`` request, unpickles the function from ``payload`` (or loads it
with ``fc.loads`` when ``options["fc_loads"]``), calls it and pickles back what the test checks.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from typing import Any

_barrier: Any = None
_waited = threading.local()


def init(barrier: Any) -> None:
    """Pool initializer: remember a barrier so each worker's first task waits for the others,
    which proves every worker ran a task (not one busy worker running them all)."""
    global _barrier
    _barrier = barrier


def call(f: Any, args: tuple) -> dict[str, Any]:
    """Run a function shipped as a task argument (the pool or Dask unpickled it already)."""
    if _barrier is not None and not getattr(_waited, "done", False):
        _waited.done = True
        _barrier.wait(timeout=300)
    import fncache as fc

    out = f(*args)
    return {
        "out": out,
        "pid": os.getpid(),
        "shared": {s.name: s.get_value() for s in f._shared},
        "compiledir": fc.config.compiledir,
    }


def train_then_predict(f: Any, g: Any, w: Any, x: Any) -> dict[str, Any]:
    """Run ``f`` (which updates ``w``) once, then ``g`` (which reads it); hand all three back."""
    f(x)
    return {
        "same": all(w is fn.shared_variables[0] for fn in (f, g)),
        "predicted": g(x * 0),
        "w": w.get_value(),
        "functions": (f, g, w),
    }


def main(request_path: str, result_path: str) -> None:
    with open(request_path, "rb") as fh:
        payload, args, options = pickle.load(fh)
    t0 = time.perf_counter()
    import fncache as fc

    t_import = time.perf_counter() - t0
    before = fc.cache.info()
    t1 = time.perf_counter()
    f = fc.loads(payload) if options.get("fc_loads") else pickle.loads(payload)
    out = f(*args)
    t_load = time.perf_counter() - t1
    after = fc.cache.info()
    per_kind = fc.cache.stats()["per_kind"]
    result = {
        "out": out,
        "shared": {s.name: s.get_value() for s in f._shared},
        "compiles": after["compiles"] - before["compiles"],
        "library_compiles": per_kind.get("kernel_library", {}).get("compiles", 0),
        "march": after["march"],
        "seconds_import": t_import,
        "seconds_load_call": t_load,
        "cache_key": f.cache_key,
        "code_flags": f.code_flags,
    }
    if options.get("call_again"):
        result["out2"] = f(*args)
        result["shared2"] = {s.name: s.get_value() for s in f._shared}
    with open(result_path, "wb") as fh:
        pickle.dump(result, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
