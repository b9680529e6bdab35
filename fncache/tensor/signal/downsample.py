"""``ft.signal.downsample``: Theano's older pooling module, as its tutorials (LeNet) call it:
``downsample.max_pool_2d(input, ds, ignore_border)`` is ``pool.pool_2d`` under its old names."""

from __future__ import annotations

from typing import Any

from ...graph.basic import Variable
from .pool import pool_2d

__all__ = ["max_pool_2d"]


def max_pool_2d(
    input: Any,
    ds: Any,
    ignore_border: bool | None = None,
    st: Any = None,
    padding: Any = (0, 0),
    mode: str = "max",
) -> Variable:
    """``pool_2d(input, ws=ds, ignore_border, stride=st, pad=padding, mode)``. As in Theano,
    ``ignore_border`` left out means False (a last partial window is kept)."""
    return pool_2d(input, ds, bool(ignore_border), stride=st, pad=padding, mode=mode)
