"""fncache: symbolic array expressions compiled to native code, cached safely everywhere.

``import fncache as fc; from fncache import tensor as ft`` — see README.md.

The compiler (and numpy) are imported on first use of a name that needs them, so tools that
only read the cache (the ``fncache`` command) start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"  # before the cache import: cache keys read it

# fc.cache is the subpackage fncache.cache, which also answers as the compiledir of
# config.compiledir (fc.cache.info(), fc.cache.path); no disk is touched until it is used.
from . import cache  # noqa: E402
from .config import config  # noqa: E402
from .errors import (
    CacheError,
    CompileError,
    Float64Error,
    FncacheError,
    GpuError,  # noqa: E402
    GpuMemoryError,
    GradientError,
    LockTimeout,
    OutOfRangeError,
    PickleError,
)

_LAZY: dict[str, tuple[str, str | None]] = {
    "tensor": ("fncache.tensor", None),
    "function": ("fncache.runtime.function", "function"),
    "Function": ("fncache.runtime.function", "Function"),
    "function_dump": ("fncache.runtime.function", "function_dump"),
    "shared": ("fncache.tensor.shared", "shared"),
    "SharedVariable": ("fncache.tensor.shared", "SharedVariable"),
    "Mode": ("fncache.mode", "Mode"),
    "NanGuardMode": ("fncache.mode", "NanGuardMode"),
    "DebugMode": ("fncache.mode", "DebugMode"),
    "MonitorMode": ("fncache.mode", "MonitorMode"),
    "debugprint": ("fncache.graph.debugprint", "debugprint"),
    # PyTensor's ``pytensor.dprint`` prints, as ``printing.debugprint`` does
    "dprint": ("fncache.printing", "debugprint"),
    "TensorType": ("fncache.tensor", "TensorType"),  # the front end: its variables carry operators
    "grad": ("fncache.tensor.gradient", "grad"),
    "Lop": ("fncache.tensor.gradient", "Lop"),
    "scan": ("fncache.scan", None),  # a package callable as the function (PyTensor's paths)
    "until": ("fncache.tensor.scan", "until"),
    # Theano's package of the loop (its tutorial's ``theano.scan_module.until``)
    "scan_module": ("fncache.scan_module", None),
    # Theano's updates dict of a loop (``scan_updates + [(w, new_w)]``)
    "OrderedUpdates": ("fncache.tensor.updates", "OrderedUpdates"),
    "updates": ("fncache.updates", None),
    "Rop": ("fncache.tensor.gradient", "Rop"),
    "dumps": ("fncache.runtime.pickling", "dumps"),
    "loads": ("fncache.runtime.pickling", "loads"),
    "RandomStream": ("fncache.tensor.random", "RandomStream"),
    "RandomStreams": ("fncache.tensor.shared_randomstreams", "RandomStreams"),
    "MRG_RandomStreams": ("fncache.tensor.shared_randomstreams", "MRG_RandomStreams"),
    "printing": ("fncache.printing", None),
    "pp": ("fncache.runtime.printing", "pp"),
    "ifelse": ("fncache.ifelse", None),  # a module callable as the function
    "sparse": ("fncache.sparse", None),  # scipy.sparse matrices in graphs (docs/sparse.md)
    "clone_replace": ("fncache.tensor.replace", "clone_replace"),
    "graph_replace": ("fncache.tensor.replace", "graph_replace"),
    "In": ("fncache.runtime.io", "In"),
    "Param": ("fncache.runtime.io", "Param"),
    "raise_op": ("fncache.raise_op", None),
    "Out": ("fncache.runtime.io", "Out"),
    # Theano/PyTensor's places for the same things (README "Theano and PyTensor names")
    "gradient": ("fncache.gradient", None),
    "scalar": ("fncache.scalar", None),
    "compile": ("fncache.compile", None),
    "graph": ("fncache.graph", None),
    "map": ("fncache.tensor.scan_views", "map"),
    "reduce": ("fncache.tensor.scan_views", "reduce"),
    "foldl": ("fncache.tensor.scan_views", "foldl"),
    "foldr": ("fncache.tensor.scan_views", "foldr"),
    "scan_checkpoints": ("fncache.tensor.scan_checkpoints", "scan_checkpoints"),
    "Variable": ("fncache.graph.basic", "Variable"),
    "Apply": ("fncache.graph.basic", "Apply"),
    "Op": ("fncache.graph.basic", "Op"),
    "clone": ("fncache.tensor.replace", "clone"),
    "dot": ("fncache.tensor.blas", "dot"),
    "OpFromGraph": ("fncache.tensor.op_from_graph", "OpFromGraph"),
    "wrap_py": ("fncache.tensor.pyop", "wrap_py"),
    "pullback": ("fncache.tensor.gradient", "pullback"),
    "pushforward": ("fncache.tensor.gradient", "pushforward"),
    "get_mode": ("fncache.mode", "get_mode"),
}

__all__ = [
    "tensor",
    "config",
    "function",
    "function_dump",
    "Function",
    "shared",
    "SharedVariable",
    "Mode",
    "NanGuardMode",
    "DebugMode",
    "MonitorMode",
    "debugprint",
    "dprint",
    "cache",
    "TensorType",
    "FncacheError",
    "CompileError",
    "LockTimeout",
    "OutOfRangeError",
    "PickleError",
    "Float64Error",
    "GpuError",
    "GpuMemoryError",
    "CacheError",
    "dumps",
    "loads",
    "grad",
    "Lop",
    "scan",
    "until",
    "Rop",
    "GradientError",
    "RandomStream",
    "RandomStreams",
    "MRG_RandomStreams",
    "printing",
    "pp",
    "ifelse",
    "clone_replace",
    "graph_replace",
    "In",
    "Param",
    "raise_op",
    "Out",
    "gradient",
    "scalar",
    "graph",
    "foldl",
    "foldr",
    "scan_checkpoints",
    "Variable",
    "Apply",
    "Op",
    "clone",
    "dot",
    "OpFromGraph",
    "wrap_py",
    "pullback",
    "pushforward",
    "get_mode",
    "__version__",
]
# fc.compile, fc.map and fc.reduce are left out of __all__: `from fncache import *` must not
# shadow Python's own compile, map and reduce.


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fncache' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
