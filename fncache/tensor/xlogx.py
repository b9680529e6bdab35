"""``fncache.tensor.xlogx``, Theano's module path of ``xlogx`` (``x * log(x)``, 0 at 0) and
``xlogy0`` (``x * log(y)``, 0 where x is 0): the front end's functions of ``ft.special``."""

from __future__ import annotations

from .special import xlogx, xlogy0

__all__ = ["xlogx", "xlogy0"]
