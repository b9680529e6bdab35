"""Theano's ``pool.pool_3d`` and ``pool.max_pool_2d_same_size`` (``ft.signal.pool``), built
from the 2-d pooling ops of :mod:`.pool`, so they run and differentiate as those do.

Every pooling mode is separable: the max (or sum) of a 3-d window is the max (or sum) over
depth of the 2-d windows' maxima (sums), and a mean is the mean over depth of the 2-d means,
because the count of entries (padding excluded or included) of a 3-d window is the product
of its count over depth and its count over rows and cols. So ``pool_3d`` pools the last two
dims, then the depth dim (moved next to last, with a window of one col)."""

from __future__ import annotations

from typing import Any


from ...graph.args import as_int
from ...graph.basic import Variable
from ..basic import as_tensor_variable
from ..shape_ops import dimshuffle
from .pool import MODES, MaxPoolGrad, pool_2d, theano_older_names

__all__ = ["pool_3d", "max_pool_2d_same_size"]


def _triple(value: Any, what: str, minimum: int, example: str) -> tuple[int, int, int]:
    items = value
    ok = isinstance(items, (tuple, list)) and len(items) == 3
    ok = ok and all(as_int(v) is not None for v in items)
    if not ok or min(items) < minimum:
        raise ValueError(
            f"pool_3d: {what} must be three ints >= {minimum} (depth, rows, cols), got {value!r}; e.g. "
            f"{what}={example}"
        )
    return as_int(items[0]), as_int(items[1]), as_int(items[2])


def pool_3d(
    input: Any,
    ws: Any = None,
    ignore_border: bool = True,
    stride: Any = None,
    pad: Any = (0, 0, 0),
    mode: str = "max",
    ds: Any = None,
    st: Any = None,
    padding: Any = None,
) -> Variable:
    """Pool the windows of the last three dims of ``input`` (3 or more dims), as Theano's
    ``pool_3d``: windows of ``ws = (depth, rows, cols)`` every ``stride`` (default ``ws``),
    the input padded by ``pad`` each side; ``mode`` and ``ignore_border`` as ``pool_2d``'s,
    and so are Theano's older names ``ds``, ``st`` and ``padding``."""
    names = theano_older_names(
        "pool_3d", dict(ws=ws, stride=stride, pad=pad), dict(ds=ds, st=st, padding=padding)
    )
    ws, stride, pad = names["ws"], names["stride"], names["pad"]
    x = as_tensor_variable(input)
    if x.ndim < 3:
        raise TypeError(
            f"pool_3d: input must have 3 or more dims (it pools the last three), got {x.type} ({x.ndim} dims)"
        )
    w = _triple(ws, "ws", 1, "(2, 2, 2)")
    st = w if stride is None else _triple(stride, "stride", 1, "(2, 2, 2)")
    p = _triple(pad, "pad", 0, "(1, 1, 1)")
    if mode not in MODES:
        raise ValueError(f"pool_3d: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if p != (0, 0, 0) and not ignore_border:
        raise ValueError(f"pool_3d: pad={p} needs ignore_border=True (Theano pads only then)")
    if any(p[d] >= w[d] for d in range(3)):
        raise ValueError(
            f"pool_3d: pad={p} must be smaller than ws={w} in each dim, or a window could hold only padding"
        )
    plane = pool_2d(x, w[1:], ignore_border, st[1:], p[1:], mode)
    n = x.ndim
    depth_last = list(range(n - 3)) + [n - 2, n - 3, n - 1]  # (..., rows, depth, cols): a swap
    pooled = pool_2d(dimshuffle(plane, depth_last), (w[0], 1), ignore_border, (st[0], 1), (p[0], 0), mode)
    return dimshuffle(pooled, depth_last)


def max_pool_2d_same_size(input: Any, patch_size: Any) -> Variable:
    """Theano's ``max_pool_2d_same_size``: ``input``'s shape, each window of ``patch_size``
    (whole windows only) keeping its maximum where it is (every entry equal to it) and zeros
    elsewhere; entries outside every whole window are 0."""
    z = pool_2d(input, patch_size, ignore_border=True)
    # the max pool's gradient with the pooled maxima as the output gradient: each max in place
    return z.owner.op.with_mode(MaxPoolGrad)(z.owner.inputs[0], z, z)
