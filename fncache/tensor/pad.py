"""``fncache.tensor.pad``, PyTensor's module path of ``pad``
(``from pytensor.tensor.pad import pad``): the front end's own (``ft.pad`` stays the function)."""

from __future__ import annotations

from .arrange import pad

__all__ = ["pad"]
