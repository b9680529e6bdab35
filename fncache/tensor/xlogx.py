"""``fncache.tensor.xlogx``, Theano's module path of ``xlogx`` (``x * log(x)``, 0 at 0) and
``xlogy0`` (``x * log(y)``, 0 where x is 0): the front end's functions of ``ft.special``.

``ft.xlogx`` is this module, callable as the function: Theano's and PyTensor's scripts call
``T.xlogx.xlogx(x)`` (the module's function), fncache's ``ft.xlogx(x)``."""

from __future__ import annotations

from ..callable_module import make_callable
from .special import xlogx, xlogy0

__all__ = ["xlogx", "xlogy0"]

make_callable(__name__, xlogx)
