"""The compiledir cache (SPEC §6, §8): keys, entries and the shared, crash-safe compiledir.

``cache`` follows ``config.compiledir``; it touches no disk until first used.
"""
from .compiledir import Compiledir, Entry
from .keys import CacheKey, function_key, module_key

__all__ = ["CacheKey", "Compiledir", "Entry", "cache", "function_key", "module_key"]

cache = Compiledir()
