"""``fncache.compile.ops``: Theano's ``theano.compile.ops.as_op`` (the spelling of many PyMC
examples), the front end's ``ft.as_op`` (README "Compiling", Python ops)."""

from __future__ import annotations

from ..tensor.pyop import as_op

__all__ = ["as_op"]
