"""The compile pipeline: function-level cache lookup (a hit skips the optimizer and code
generation), optimization, and linking the optimized graph into a runner."""
from __future__ import annotations

import logging
import pickle
from typing import Any, Sequence

from ..config import config
from ..graph.basic import clone_graph
from ..graph.fgraph import FunctionGraph
from ..graph.serialize import decode_graph, dumps, encode_graph, graph_signature
from ..mode import Mode
from ..rewrite import optimize

__all__ = ["optimize_or_load", "build_runner", "optimize_graph"]

log = logging.getLogger(__name__)

GRAPH_FILE = "graph.pkl"


def optimize_graph(original: FunctionGraph, mode: Mode) -> FunctionGraph:
    """A rewritten copy of ``original`` (which is left untouched)."""
    ins, outs, _ = clone_graph(original.inputs, original.outputs)
    return optimize(FunctionGraph(ins, outs, clone=False), mode)


def function_key(original: FunctionGraph, mode: Mode) -> Any:
    from ..cache.keys import function_key as fkey
    from ..codegen.fingerprint import compiler_fingerprint
    return fkey(graph_signature(original), mode.signature(),
                {**config.code_flags(), "compiler_source": compiler_fingerprint()})


def optimize_or_load(original: FunctionGraph, mode: Mode, shared: Sequence[Any]
                     ) -> tuple[FunctionGraph, str]:
    """The optimized graph for ``original`` under ``mode``, from the compiledir when present."""
    from ..cache import cache
    key = function_key(original, mode)
    entry = cache.get(key)
    if entry is not None:
        try:
            enc = pickle.loads(entry.read_bytes(GRAPH_FILE))
            return decode_graph(enc, shared), key.digest
        except Exception as e:  # a bad entry must never stop the user: rebuild it
            log.warning("fncache: function entry %s could not be loaded (%s); rebuilding",
                        key.digest[:16], e)
    optimized = optimize_graph(original, mode)
    try:
        payload = dumps(encode_graph(optimized, shared))
    except Exception as e:  # graphs with unpicklable user objects still run, uncached
        log.info("fncache: not caching function %s: its graph cannot be pickled (%s)",
                 key.digest[:16], e)
        return optimized, key.digest
    cache.put_bytes(key, {GRAPH_FILE: payload}, {"nodes": len(optimized.toposort())})
    return optimized, key.digest


def build_runner(optimized: FunctionGraph, mode: Mode, name: str, *, n_explicit: int,
                 single: bool, converter: Any, on_error: Any, on_kwargs: Any) -> Any:
    """A callable running ``optimized``: numpy for ``linker='py'``, native code for ``'c'``."""
    if mode.device == "cuda":
        from ..codegen.cuda.linker import build_cuda_runner
        return build_cuda_runner(optimized, mode, name)
    if mode.linker == "py":
        from .linker_py import PyRunner
        return PyRunner(optimized, allow_gc=config.allow_gc)
    from ..codegen.c_linker import build_c_runner
    return build_c_runner(optimized, name, n_explicit=n_explicit, single=single,
                          converter=converter, on_error=on_error, on_kwargs=on_kwargs)
