"""fncache: symbolic array expressions compiled to native code, cached safely everywhere.

``import fncache as fc; from fncache import tensor as ft`` — see README.md and SPEC.
"""
from __future__ import annotations

import logging
from typing import Any

from . import tensor
from .config import config
from .errors import (CacheError, CompileError, Float64Error, FncacheError, GpuError,
                     GpuMemoryError, LockTimeout, PickleError)
from .graph.types import TensorType
from .mode import Mode
from .runtime.debugprint import debugprint
from .runtime.function import Function, function
from .runtime.shared import SharedVariable, shared

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["tensor", "config", "function", "Function", "shared", "SharedVariable", "Mode",
           "debugprint", "cache", "TensorType", "FncacheError", "CompileError", "LockTimeout",
           "PickleError", "Float64Error", "GpuError", "GpuMemoryError", "CacheError",
           "__version__"]


def __getattr__(name: str) -> Any:
    # fc.cache is created on first use so that `import fncache` touches no disk.
    if name == "cache":
        from .cache import cache
        return cache
    raise AttributeError(f"module 'fncache' has no attribute {name!r}")
