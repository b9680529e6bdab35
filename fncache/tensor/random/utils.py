"""``fncache.tensor.random.utils``, PyTensor's module path of ``RandomStream``
(``from pytensor.tensor.random.utils import RandomStream``): ``fc.RandomStream``."""

from __future__ import annotations

from . import RandomStream

__all__ = ["RandomStream"]
