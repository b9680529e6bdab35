"""``ft.signal``: the image-signal functions of Theano's and PyTensor's ``tensor.signal``
(``from fncache.tensor.signal import pool``; ``pool.pool_2d``), Theano's older
``downsample.max_pool_2d``, and PyTensor's ``convolve1d`` (numpy's convolve along the last axis
of stacks of signals)."""

from __future__ import annotations

from ..convolve import convolve1d
from . import downsample, pool

__all__ = ["convolve1d", "downsample", "pool"]
