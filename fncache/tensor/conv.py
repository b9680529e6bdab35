"""2-d convolution of a batch of multi-channel images (``ft.nnet.conv2d``, Theano's and
PyTensor's ``tensor.nnet.conv2d``) and the two ops of its gradient.

Three ops share one set of props (border, subsample, filter_flip, dilation) and one numpy
engine: ``Conv2d`` (the forward convolution), ``Conv2dGradInputs`` (its gradient with respect
to the images) and ``Conv2dGradWeights`` (with respect to the filters). Each is linear in each
of its two tensor operands, and the gradient of each is again made of the three, so gradients
of gradients (a Hessian-vector product through a convolution) need no other op.

The engine is im2col and one matrix product (BLAS through numpy): the windows of the padded
images are copied once into a ``(channels * frows * fcols, batch * rows * cols)`` matrix, one
strided slice per filter position, and multiplied by the filters. For the shapes of LeNet
(batch 500, 1x28x28 images and 20 5x5 filters; then 20x12x12 and 50 5x5) this measured
faster than a ``sliding_window_view`` with ``tensordot`` or ``einsum`` (which copy the windows
in a transposed order, then transpose the result again). The image gradient is the transpose:
one matrix product, then the columns added back into the padded image (col2im), which for
LeNet's second layer needs a fifth of the memory of convolving the padded output gradient.
The ops run as Python steps in every back end.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .array_ops import specify_shape
from .basic import as_tensor_variable
from .elemwise import cast

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d", "int_pair"]

Pair = tuple[int, int]
#: A normalized border mode: 'full', 'half' (their padding depends on the filter size) or the
#: padding itself.
Border = str | Pair


def int_pair(value: Any, fn: str, what: str, minimum: int, example: str) -> Pair:
    """``value`` (an int or a pair of ints: rows, cols) as a pair of ints ``>= minimum``; else a
    ``ValueError`` naming the function ``fn``, the argument ``what`` and an ``example``."""
    items = (value, value) if isinstance(value, (int, np.integer)) else value
    ok = isinstance(items, (tuple, list)) and len(items) == 2
    ok = ok and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items)
    if not ok or min(items) < minimum:
        raise ValueError(
            f"{fn}: {what} must be a pair of ints >= {minimum} (rows, cols), got {value!r}; "
            f"e.g. {what}={example}"
        )
    return int(items[0]), int(items[1])


def _border(border_mode: Any) -> Border:
    if isinstance(border_mode, str):
        if border_mode == "valid":
            return (0, 0)
        if border_mode in ("full", "half"):
            return border_mode
    elif not isinstance(border_mode, (bool, np.bool_)) and isinstance(
        border_mode, (int, np.integer, tuple, list)
    ):
        try:
            return int_pair(border_mode, "conv2d", "border_mode", 0, "(1, 1)")
        except ValueError:
            pass
    raise ValueError(
        f"conv2d: border_mode must be 'valid', 'full', 'half', an int >= 0 or a pair of ints >= 0 "
        f"(the zero padding of rows and cols), got {border_mode!r}"
    )


def _span(k: int, dilation: int) -> int:
    """The rows (or cols) a dilated filter of ``k`` taps covers."""
    return (k - 1) * dilation + 1


def _pad(border: Border, d: int, k: int, dilation: int) -> int:
    """The zeros added each side of dim ``d`` (0 rows, 1 cols) for a filter of ``k`` taps."""
    if border == "full":
        return _span(k, dilation) - 1
    if border == "half":
        return _span(k, dilation) // 2
    return border[d]  # type: ignore[index]


def _out_size(size: int, k: int, pad: int, stride: int, dilation: int) -> int:
    return (size + 2 * pad - _span(k, dilation)) // stride + 1


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` reporting no floating-point flag (an infinity times a zero is NaN), as the
    compiled kernels and the other products (``dot``, ``tensordot``, ``matmul``) do."""
    with np.errstate(all="ignore"):
        return a @ b


class _ConvOp(Op):
    """The props and the engine the three convolution ops share."""

    __props__ = ("border", "subsample", "filter_flip", "dilation")

    def __init__(self, border: Border, subsample: Pair, filter_flip: bool, dilation: Pair) -> None:
        self.border = border if isinstance(border, str) else (int(border[0]), int(border[1]))
        self.subsample = (int(subsample[0]), int(subsample[1]))
        self.filter_flip = bool(filter_flip)
        self.dilation = (int(dilation[0]), int(dilation[1]))

    def with_ops(self) -> tuple[Conv2d, Conv2dGradInputs, Conv2dGradWeights]:
        """The three ops with these props (the gradient rules build each from the others)."""
        args = (self.border, self.subsample, self.filter_flip, self.dilation)
        return Conv2d(*args), Conv2dGradInputs(*args), Conv2dGradWeights(*args)

    def static_out(self, image: Sequence[int | None], kernel: Sequence[int | None]) -> list[int | None]:
        """The output rows and cols where the image's and the filters' sizes are known."""
        return [
            None
            if image[d] is None or kernel[d] is None
            else _out_size(
                image[d],  # type: ignore[arg-type]
                kernel[d],  # type: ignore[arg-type]
                _pad(self.border, d, kernel[d], self.dilation[d]),  # type: ignore[arg-type]
                self.subsample[d],
                self.dilation[d],
            )
            for d in range(2)
        ]

    # -- the numpy engine -------------------------------------------------------------------
    def geometry(self, image: Sequence[int], kernel: Sequence[int], who: str = "") -> tuple[Pair, Pair]:
        """(padding, output rows and cols) of ``image`` (rows, cols) under ``kernel``, checked
        (an error names ``who``, by default the op)."""
        pads = tuple(_pad(self.border, d, kernel[d], self.dilation[d]) for d in range(2))
        out = tuple(
            _out_size(image[d], kernel[d], pads[d], self.subsample[d], self.dilation[d]) for d in range(2)
        )
        if min(out) < 1:
            spans = tuple(_span(kernel[d], self.dilation[d]) for d in range(2))
            raise ValueError(
                f"{who or type(self).__name__}: the filters (dilated {spans[0]}x{spans[1]}) are larger than the "
                f"images padded to {image[0] + 2 * pads[0]}x{image[1] + 2 * pads[1]}; give larger "
                "images, smaller filters or border_mode='full' or 'half'"
            )
        return pads, out  # type: ignore[return-value]

    def _slices(self, u: int, v: int, out: Pair) -> tuple[slice, slice]:
        """Where filter tap ``(u, v)`` reads the padded image, for every output position."""
        (s0, s1), (d0, d1) = self.subsample, self.dilation
        return (
            slice(u * d0, u * d0 + (out[0] - 1) * s0 + 1, s0),
            slice(v * d1, v * d1 + (out[1] - 1) * s1 + 1, s1),
        )

    def columns(self, x: np.ndarray, kernel: Pair) -> tuple[np.ndarray, Pair]:
        """im2col: ``(channels * frows * fcols, batch * rows * cols)`` of the padded images."""
        pads, out = self.geometry(x.shape[2:], kernel)
        if pads != (0, 0):
            x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[0]), (pads[1], pads[1])))
        b, c = x.shape[:2]
        cols = np.empty((c, kernel[0], kernel[1], b) + out, dtype=x.dtype)
        for u in range(kernel[0]):
            for v in range(kernel[1]):
                rows, cs = self._slices(u, v, out)
                cols[:, u, v] = x[:, :, rows, cs].transpose(1, 0, 2, 3)
        return cols.reshape(c * kernel[0] * kernel[1], -1), out

    def taps(self, w: np.ndarray) -> np.ndarray:
        """The filters as a correlation reads them (flipped for a true convolution)."""
        return w[:, :, ::-1, ::-1] if self.filter_flip else w

    def check_channels(self, x_shape: Sequence[int], w_shape: Sequence[int]) -> None:
        if x_shape[1] != w_shape[1]:
            raise ValueError(
                f"{type(self).__name__}: the images have {x_shape[1]} channels (shape {tuple(x_shape)}) "
                f"but the filters expect {w_shape[1]} (shape {tuple(w_shape)}); the filters' dim 1 "
                "must equal the images' dim 1"
            )


class Conv2d(_ConvOp):
    """``out[b, f] = sum_c image[b, c] (*) filters[f, c]`` over the valid positions of the padded,
    strided, dilated grid (``(*)`` a correlation, or a convolution with ``filter_flip``)."""

    def make_node(self, x: Variable, w: Variable) -> Apply:
        rows, cols = self.static_out(x.type.shape[2:], w.type.shape[2:])
        return Apply(self, [x, w], [TensorType(x.dtype, (x.type.shape[0], w.type.shape[0], rows, cols))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, w = inputs
        self.check_channels(x.shape, w.shape)
        cols, out = self.columns(x, w.shape[2:])
        res = _product(self.taps(w).reshape(w.shape[0], -1), cols)
        res = res.reshape((w.shape[0], x.shape[0]) + out).transpose(1, 0, 2, 3)
        return [np.ascontiguousarray(res, dtype=node.outputs[0].dtype)]


class Conv2dGradWeights(_ConvOp):
    """The gradient of ``Conv2d(x, w)`` with respect to ``w``, for the output gradient ``g``;
    only the shape of ``w_like`` (the filters) is read."""

    def make_node(self, x: Variable, g: Variable, w_like: Variable) -> Apply:
        return Apply(self, [x, g, w_like], [TensorType(g.dtype, w_like.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g, w_like = inputs
        self.check_channels(x.shape, w_like.shape)
        cols, _ = self.columns(x, w_like.shape[2:])
        gw = _product(g.transpose(1, 0, 2, 3).reshape(g.shape[1], -1), cols.T)
        gw = self.taps(gw.reshape(w_like.shape))
        return [np.ascontiguousarray(gw, dtype=node.outputs[0].dtype)]


class Conv2dGradInputs(_ConvOp):
    """The gradient of ``Conv2d(x, w)`` with respect to ``x``, for the output gradient ``g``;
    only the shape of ``x_like`` (the images) is read (with a stride, it is not implied by
    ``g``'s)."""

    def make_node(self, w: Variable, g: Variable, x_like: Variable) -> Apply:
        shape = (g.type.shape[0], w.type.shape[1]) + x_like.type.shape[2:]
        return Apply(self, [w, g, x_like], [TensorType(g.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        w, g, x_like = inputs
        self.check_channels(x_like.shape, w.shape)
        kernel = w.shape[2:]
        pads, out = self.geometry(x_like.shape[2:], kernel)
        b, c = g.shape[0], w.shape[1]
        cols = _product(
            self.taps(w).reshape(w.shape[0], -1).T, g.transpose(1, 0, 2, 3).reshape(g.shape[1], -1)
        )
        cols = cols.reshape((c, kernel[0], kernel[1], b) + out)
        # accumulated channels first, as the columns are laid out (whole rows added at a
        # time), then transposed once: a third faster than adding into (batch, channels, ...)
        dt = node.outputs[0].dtype
        gx = np.zeros((c, b, x_like.shape[2] + 2 * pads[0], x_like.shape[3] + 2 * pads[1]), dtype=dt)
        for u in range(kernel[0]):
            for v in range(kernel[1]):
                rows, cs = self._slices(u, v, out)
                gx[:, :, rows, cs] += cols[:, u, v]
        gx = gx[:, :, pads[0] : pads[0] + x_like.shape[2], pads[1] : pads[1] + x_like.shape[3]]
        return [np.ascontiguousarray(gx.transpose(1, 0, 2, 3))]


def _operand(v: Any, what: str) -> Variable:
    t = as_tensor_variable(v)
    if t.ndim != 4:
        raise TypeError(
            f"conv2d: {what} must be a 4-d tensor {'(batch, channels, rows, cols)' if what == 'input' else '(n_filters, channels, rows, cols)'}, "
            f"got {t.type} ({t.ndim} dims); reshape it, e.g. x.reshape((batch, 1, rows, cols))"
        )
    if is_complex(t.dtype):
        raise TypeError(f"conv2d: {what} must be real (float32 or float64), got {t.type}")
    return t


def _hinted(v: Variable, shape: Any, what: str) -> Variable:
    """``v`` with the sizes ``shape`` (4 ints or None) declared, checked against its own."""
    if shape is None:
        return v
    hint = tuple(shape)
    if len(hint) != 4 or any(s is not None and not isinstance(s, (int, np.integer)) for s in hint):
        raise ValueError(f"conv2d: {what}_shape must be 4 ints (or None for unknown sizes), got {shape!r}")
    for have, want in zip(v.type.shape, hint):
        if have is not None and want is not None and have != want:
            raise ValueError(f"conv2d: {what}_shape={tuple(hint)} contradicts the {what}'s type {v.type}")
    merged = tuple(h if h is not None else s for h, s in zip(hint, v.type.shape))
    return specify_shape(v, merged) if merged != v.type.shape else v


def conv2d(
    input: Any,
    filters: Any,
    input_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    image_shape: Sequence[int | None] | None = None,
) -> Variable:
    """The 2-d convolution of Theano's ``tensor.nnet.conv2d``: ``input`` is
    ``(batch, channels, rows, cols)``, ``filters`` ``(n_filters, channels, frows, fcols)``, the
    result ``(batch, n_filters, out_rows, out_cols)``.

    ``border_mode``: ``'valid'`` (no padding: ``rows - frows + 1``), ``'full'`` (every overlap:
    ``rows + frows - 1``), ``'half'`` (``frows // 2`` zeros each side: the same size for odd
    filters), an int or a pair ``(pad_rows, pad_cols)`` of zeros added each side.
    ``subsample`` is the stride, ``filter_dilation`` the spacing of the filter taps. With
    ``filter_flip=True`` (the default) it is a true convolution (the filters are flipped), with
    False a correlation. ``input_shape``/``filter_shape`` declare sizes (None for unknown): the
    result's static shape uses them and other sizes are an error when the function runs.
    Both operands are cast to one float dtype (float32 stays float32). ``image_shape`` is
    ``input_shape``'s older name (Theano's ``tensor.nnet.conv.conv2d``, the LeNet tutorial's)."""
    if image_shape is not None:
        if input_shape is not None:
            raise TypeError("conv2d: give input_shape or its older name image_shape, not both")
        input_shape = image_shape
    x, w = _operand(input, "input"), _operand(filters, "filters")
    border = _border(border_mode)
    stride = int_pair(subsample, "conv2d", "subsample", 1, "(2, 2)")
    dilation = int_pair(filter_dilation, "conv2d", "filter_dilation", 1, "(2, 2)")
    if not isinstance(filter_flip, (bool, np.bool_)):
        raise TypeError(f"conv2d: filter_flip must be True or False, got {filter_flip!r}")
    x, w = _hinted(x, input_shape, "input"), _hinted(w, filter_shape, "filter")
    dt = "float32" if x.dtype == w.dtype == "float32" else "float64"
    x, w = cast(x, dt), cast(w, dt)
    op = Conv2d(border, stride, bool(filter_flip), dilation)
    cx, cw = x.type.shape[1], w.type.shape[1]
    if cx is not None and cw is not None and cx != cw:
        raise ValueError(
            f"conv2d: input {x.type} has {cx} channels but filters {w.type} expect {cw}; the filters' "
            "dim 1 must equal the input's dim 1"
        )
    image, kernel = x.type.shape[2:], w.type.shape[2:]
    if all(s is not None for s in image + kernel):
        op.geometry(image, kernel, "conv2d")  # type: ignore[arg-type]
    return op(x, w)
