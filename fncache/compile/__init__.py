"""``fncache.compile``, where Theano and PyTensor users look for the compiler's front door
(``theano.compile``): ``function``, ``function_dump``, ``shared``, ``SharedVariable``, ``Mode``, ``In``, ``Param``, ``Out``,
the modules ``builders`` (``OpFromGraph``), ``ops`` (``as_op``, ``wrap_py``), ``mode`` (``get_default_mode``, ``get_mode``),
``nanguardmode`` (``NanGuardMode``), ``debugmode`` (``DebugMode`` and its errors),
``monitormode`` (``MonitorMode``), ``sharedvalue`` and ``profiling`` (``ProfileStats``). Each name is the one of ``fncache`` / ``fncache.tensor`` (README "Compiling");
this package only gives them Theano's places. Not to be confused with
``fncache.runtime.compile``, the compiler itself."""

from __future__ import annotations

from ..runtime.function import Function, function, function_dump
from ..runtime.io import In, Out, Param
from ..tensor.shared import SharedVariable, shared
from . import builders, debugmode, mode, monitormode, nanguardmode, ops, profiling, sharedvalue
from .builders import OpFromGraph
from .debugmode import DebugMode
from .mode import Mode, get_default_mode, get_mode
from .monitormode import MonitorMode
from .nanguardmode import NanGuardMode
from .ops import as_op, wrap_py
from .profiling import ProfileStats

__all__ = [
    "DebugMode",
    "Function",
    "In",
    "Mode",
    "MonitorMode",
    "NanGuardMode",
    "OpFromGraph",
    "Out",
    "Param",
    "ProfileStats",
    "SharedVariable",
    "as_op",
    "builders",
    "debugmode",
    "function",
    "function_dump",
    "get_default_mode",
    "get_mode",
    "mode",
    "monitormode",
    "nanguardmode",
    "ops",
    "profiling",
    "shared",
    "sharedvalue",
    "wrap_py",
]
