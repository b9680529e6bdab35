"""``fncache.compile.ops``: Theano's ``theano.compile.ops.as_op`` (the spelling of many PyMC
examples), and PyTensor 3's ``wrap_py``: the front end's ``ft.as_op`` (README "Compiling", Python ops)."""

from __future__ import annotations

from ..tensor.pyop import as_op, wrap_py

__all__ = ["as_op", "wrap_py"]
