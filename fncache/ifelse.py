"""``fncache.ifelse``, where Theano and PyTensor users look for it: ``from fncache.ifelse import
ifelse`` (the front end's ``ifelse``, ``fncache/tensor/ifelse.py``). The module is also callable as
the function, so ``fc.ifelse(cond, then, else)`` works whether or not it was imported by name."""

from __future__ import annotations

from .callable_module import make_callable
from .tensor.ifelse import ifelse
from .tensor.ifelse_op import IfElse

__all__ = ["IfElse", "ifelse"]

make_callable(__name__, ifelse)
