"""``fncache.scan``, PyTensor's package of the loop (``from fncache.scan.utils import until``,
``from fncache.scan.basic import scan``, ``fncache.scan.views``, ``fncache.scan.checkpoints``,
``fncache.scan.op``): the front end's ``scan`` (``fncache/tensor/scan.py``) and its views under
those module paths. The package is also callable as the function, so ``fc.scan(fn, ...)``
works as before (``fc.scan.scan`` and ``ft.scan`` are the function itself)."""

from __future__ import annotations

import importlib
from typing import Any

from ..callable_module import make_callable
from ..tensor.scan import Scan, scan, until

__all__ = ["Scan", "scan", "until", "map", "reduce", "foldl", "foldr", "filter", "scan_checkpoints"]  # noqa: F822

#: names of the other modules, loaded on first use (a loop needs neither)
_LAZY = {
    **dict.fromkeys(("map", "reduce", "foldl", "foldr", "filter"), "views"),
    "scan_checkpoints": "checkpoints",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __package__), name)
    if name in ("basic", "utils", "views", "checkpoints", "op"):
        return importlib.import_module(f".{name}", __package__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


make_callable(__name__, scan)
