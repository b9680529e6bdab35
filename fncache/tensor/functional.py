"""``fncache.tensor.functional``, PyTensor's module path of ``vectorize``
(``from pytensor.tensor.functional import vectorize``): the front end's own."""

from __future__ import annotations

from .vectorize import vectorize

__all__ = ["vectorize"]
