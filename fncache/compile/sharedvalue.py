"""``fncache.compile.sharedvalue``: Theano/PyTensor's module of ``shared`` and
``SharedVariable`` (``fc.shared``, README "Compiling", shared variables)."""

from __future__ import annotations

from ..tensor.shared import SharedVariable, shared

__all__ = ["SharedVariable", "shared"]
