"""``fncache.ifelse``, where Theano and PyTensor users look for it: ``from fncache.ifelse import
ifelse`` (the front end's ``ifelse``, ``fncache/tensor/ifelse.py``). The module is also callable as
the function, so ``fc.ifelse(cond, then, else)`` works whether or not it was imported by name."""

from __future__ import annotations

import sys
import types
from typing import Any

from .tensor.ifelse import ifelse
from .tensor.ifelse_op import IfElse

__all__ = ["IfElse", "ifelse"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return ifelse(*args, **kwargs)


# Importing a submodule binds it as an attribute of its package, where fc.ifelse is the function.
sys.modules[__name__].__class__ = _CallableModule
