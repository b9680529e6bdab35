"""fncache: symbolic array expressions compiled to native code, cached safely everywhere.

``import fncache as fc; from fncache import tensor as ft`` — see README.md and SPEC.
"""
from __future__ import annotations

from . import tensor
# fc.cache, the Compiledir of config.compiledir (no disk is touched until it is used), is bound
# here, not lazily: the first `import fncache.cache` (every compile does one) would otherwise
# leave the subpackage in its place and `fc.cache.info()` would fail.
from .cache import cache
from .config import config
from .errors import (CacheError, CompileError, Float64Error, FncacheError, GpuError,
                     GpuMemoryError, LockTimeout, PickleError)
from .graph.types import TensorType
from .mode import Mode
from .runtime.debugprint import debugprint
from .runtime.function import Function, function
from .runtime.pickling import dumps, loads
from .runtime.shared import SharedVariable, shared

__version__ = "0.1.0"

__all__ = ["tensor", "config", "function", "Function", "shared", "SharedVariable", "Mode",
           "debugprint", "cache", "TensorType", "FncacheError", "CompileError", "LockTimeout",
           "PickleError", "Float64Error", "GpuError", "GpuMemoryError", "CacheError",
           "dumps", "loads", "__version__"]

