"""``fncache.raise_op``, where PyTensor users look for it (``pytensor.raise_op``):
``CheckAndRaise(exc_type, msg)(x, *conds)`` returns ``x`` and raises ``exc_type(msg)`` where a
condition is false, ``Assert(msg)`` is the one raising ``AssertionError``, and ``assert_op`` an
``Assert()`` (``assert_op(x, *conds)``). They are the front end's ops (``fncache/tensor/pyop.py``),
which ``ft.assert_op(x, cond, msg)`` makes too."""

from __future__ import annotations

from .tensor.pyop import Assert, CheckAndRaise

__all__ = ["Assert", "CheckAndRaise", "assert_op"]

#: PyTensor's ``assert_op``: ``assert_op(x, *conds)`` raises ``AssertionError`` where a
#: condition is false.
assert_op = Assert()
