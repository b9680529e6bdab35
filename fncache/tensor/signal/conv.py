"""``fncache.tensor.signal.conv``: Theano's ``tensor.signal.conv.conv2d``, the 2-d convolution
of images with filters (``scipy.signal.convolve2d`` for each image and filter), without the
channels of the neural-network ``conv2d`` (``ft.nnet.conv2d``) that computes it."""

from __future__ import annotations

from typing import Any, Sequence

from ...graph.basic import Variable
from ...graph.types import shape_entries
from ..basic import as_tensor_variable
from ..conv import conv2d as _nnet_conv2d
from ..shape_ops import dimshuffle

__all__ = ["conv2d"]


def _as_stack(v: Variable, shape: Sequence[int | None] | None, what: str) -> tuple[Variable, Any]:
    """``v`` (one image or filter, or a stack of them) as the 4-d operand of ``ft.nnet.conv2d``
    (one channel), and ``shape`` declared in that layout."""
    if v.ndim not in (2, 3):
        raise TypeError(
            f"signal.conv.conv2d: {what} must be a matrix (one {what[:-1]}) or a 3-d tensor "
            f"(a stack of them: count, rows, cols), got {v.type}; for channels use ft.nnet.conv2d"
        )
    if shape is not None and len(shape_entries(shape, f"signal.conv.conv2d: {what[:-1]}_shape")) != v.ndim:
        raise ValueError(
            f"signal.conv.conv2d: {what[:-1]}_shape must have {v.ndim} entries for the {v.ndim}-d "
            f"{what} ({'count, ' if v.ndim == 3 else ''}rows, cols), got {shape!r}"
        )
    if v.ndim == 2:
        return dimshuffle(v, ["x", "x", 0, 1]), None if shape is None else (1, 1, *shape)
    return dimshuffle(v, [0, "x", 1, 2]), None if shape is None else (shape[0], 1, *tuple(shape)[1:])


def conv2d(
    input: Any,
    filters: Any,
    image_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode: str = "valid",
    subsample: Any = (1, 1),
) -> Variable:
    """The convolution of ``input`` (an image, or a stack ``(images, rows, cols)``) with
    ``filters`` (a filter, or a stack ``(filters, frows, fcols)``), as Theano's
    ``signal.conv.conv2d``: each image convolved with each filter (flipped, a true
    convolution), ``border_mode`` ``'valid'`` or ``'full'`` as ``scipy.signal.convolve2d``'s
    mode, ``subsample`` the stride. The result is ``(images, filters, rows, cols)``, without
    the axis of an operand given as a matrix: two matrices give a matrix.
    ``image_shape``/``filter_shape`` declare sizes (None for unknown)."""
    if border_mode not in ("valid", "full"):
        raise ValueError(
            f"signal.conv.conv2d: border_mode must be 'valid' or 'full' (scipy.signal.convolve2d's "
            f"modes), got {border_mode!r}; ft.nnet.conv2d takes 'half' and explicit padding"
        )
    x, w = as_tensor_variable(input), as_tensor_variable(filters)
    x4, x_shape = _as_stack(x, image_shape, "images")
    w4, w_shape = _as_stack(w, filter_shape, "filters")
    out = _nnet_conv2d(
        x4, w4, input_shape=x_shape, filter_shape=w_shape, border_mode=border_mode, subsample=subsample
    )
    if x.ndim == 2 and w.ndim == 2:
        return out[0, 0]
    if x.ndim == 2:
        return out[0]
    if w.ndim == 2:
        return out[:, 0]
    return out
