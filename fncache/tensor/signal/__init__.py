"""``ft.signal``: the image-signal functions of Theano's and PyTensor's ``tensor.signal``
(``from fncache.tensor.signal import pool``; ``pool.pool_2d``)."""

from __future__ import annotations

from . import pool

__all__ = ["pool"]
