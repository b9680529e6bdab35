"""Graph rewrites (merge, constant_folding, canonicalize, fusion, inplace, asserts)."""

from .registry import REWRITES, optimize, register, selected

__all__ = ["REWRITES", "optimize", "register", "selected"]
