"""The compiledir cache: keys, entries and the shared, crash-safe compiledir.

``cache`` is the compiledir of ``config.compiledir`` (it follows that flag and touches no disk
until first used).  Its operations are also this package's own attributes, so that ``fc.cache``
is both the compiledir (``fc.cache.info()``, ``fc.cache.path``) and this package
(``fc.cache.remote.remote_info()``): no attribute of ``fncache`` hides a subpackage.
"""

from __future__ import annotations

import importlib
from typing import Any

from .compiledir import Compiledir, Entry
from .keys import CacheKey, function_key, module_key

__all__ = ["CacheKey", "Compiledir", "Entry", "cache", "function_key", "module_key"]

cache = Compiledir()

# The default compiledir's public API, read on each access so that it follows ``cache``.
# No submodule of this package may take one of these names.
_COMPILEDIR_API = frozenset(
    {
        "path",
        "get",
        "has",
        "get_or_build",
        "put_bytes",
        "set_aside",
        "info",
        "filesystem",
        "entries",
        "find",
        "explain",
        "purge",
        "verify",
        "unlock",
        "usage",
        "stats",
        "export",
        "import_",
    }
)


def __getattr__(name: str) -> Any:
    if name in _COMPILEDIR_API:
        return getattr(cache, name)
    if not name.startswith("_"):  # a submodule not imported yet (a lookup imports few of them)
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'fncache.cache' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _COMPILEDIR_API)
