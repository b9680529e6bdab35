"""``ft.signal``: the image-signal functions of Theano's and PyTensor's ``tensor.signal``
(``from fncache.tensor.signal import pool``; ``pool.pool_2d``), and Theano's older
``downsample.max_pool_2d``."""

from __future__ import annotations

from . import downsample, pool

__all__ = ["downsample", "pool"]
