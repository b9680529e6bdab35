"""Theano's ``tensor.nnet.abstract_conv`` functions that name the two gradients of ``conv2d``
on their own: ``conv2d_grad_wrt_inputs``, ``conv2d_grad_wrt_weights`` and ``conv2d_transpose``
(the image gradient read as an upsampling: a "deconvolution"). They build the gradient ops of
:mod:`.conv` directly; the shapes those ops cannot infer (an image gradient's rows with a
stride, a filter gradient's taps) are given, and the output gradient's sizes are checked
against them, when the graph is built where the sizes are static and else when it runs."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.basic import Variable
from .conv import _border, _ConvOp, _hinted, _operand, _out_size, _pad, int_pair
from .creation import zeros
from .elemwise import cast, elemwise
from .pyop import assert_op
from .reduction import all as all_
from .shape_ops import stack

__all__ = ["conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv2d_transpose"]


def _shape4(shape: Any, defaults: Sequence[Any], fn: str, what: str) -> list[Any]:
    """``shape`` (4 entries: ints, symbolic int scalars or None, a None among the first two
    taking ``defaults``' entry), checked: ints stay ints (static sizes)."""
    items = list(shape) if isinstance(shape, (tuple, list)) else None
    if isinstance(shape, Variable) and shape.type.shape == (4,):
        items = [shape[i] for i in range(4)]
    if items is None or len(items) != 4:
        raise ValueError(f"{fn}: {what} must be 4 sizes (batch, channels, rows, cols), got {shape!r}")
    out = []
    for item, default in zip(items, list(defaults) + [None, None]):
        if item is None:
            item = default
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer, Variable)):
            raise ValueError(
                f"{fn}: {what} must be 4 ints or int scalars (None allowed for the first two, "
                f"which are inferred), got {shape!r}"
            )
        if isinstance(item, Variable) and (item.ndim != 0 or item.dtype[:3] not in ("int", "uin")):
            raise ValueError(f"{fn}: {what} entries must be int scalars, got {item.type} in {shape!r}")
        out.append(int(item) if isinstance(item, (int, np.integer)) else item)
    return out


def _sizes(v: Variable, dims: Sequence[int]) -> list[Any]:
    """``v``'s sizes along ``dims``: ints where its type knows them, else symbolic."""
    return [v.type.shape[d] if v.type.shape[d] is not None else v.shape[d] for d in dims]


def _checked(g: Variable, op: _ConvOp, image: Sequence[Any], kernel: Sequence[Any], fn: str) -> Variable:
    """``g`` (an output gradient) asserted to have the rows and cols ``op`` gives for
    ``image`` and ``kernel`` (ints or symbolic: the check is folded where they are static)."""
    want = [
        _out_size(
            image[d],
            kernel[d],
            _pad(op.border, d, kernel[d], op.dilation[d]),
            op.subsample[d],
            op.dilation[d],
        )
        for d in range(2)
    ]
    have = g.type.shape[2:]
    if any(isinstance(want[d], int) and have[d] not in (None, want[d]) for d in range(2)):
        raise ValueError(
            f"{fn}: the output gradient {g.type} has {have[0]}x{have[1]} rows and cols, but the "
            f"convolution of the given shapes gives {want[0]}x{want[1]} (check the input shape, "
            "border_mode, subsample and filter_dilation)"
        )
    ok = all_(stack([elemwise("eq", g.shape[2 + d], want[d]) for d in range(2)]))
    return assert_op(
        g,
        ok,
        f"{fn}: the output gradient's rows and cols do not match the ones the convolution of the "
        "given input shape and filters gives (check input_shape, border_mode, subsample and "
        "filter_dilation)",
    )


def _options(
    border_mode: Any, subsample: Any, filter_flip: Any, filter_dilation: Any, num_groups: Any, fn: str
) -> tuple:
    if num_groups != 1:
        raise ValueError(
            f"{fn}: num_groups must be 1 (grouped convolutions are not supported), got {num_groups!r}"
        )
    if not isinstance(filter_flip, (bool, np.bool_)):
        raise TypeError(f"{fn}: filter_flip must be True or False, got {filter_flip!r}")
    stride = int_pair(subsample, fn, "subsample", 1, "(2, 2)")
    dilation = int_pair(filter_dilation, fn, "filter_dilation", 1, "(2, 2)")
    return _border(border_mode), stride, bool(filter_flip), dilation


def _floats(a: Variable, b: Variable) -> tuple[Variable, Variable]:
    dt = "float32" if a.dtype == b.dtype == "float32" else "float64"
    return cast(a, dt), cast(b, dt)


def conv2d_grad_wrt_inputs(
    output_grad: Any,
    filters: Any,
    input_shape: Sequence[Any],
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
) -> Variable:
    """The gradient of ``conv2d(input, filters, ...)`` with respect to ``input``, for the
    ``output_grad`` of its result (Theano's): ``input_shape`` gives the input's 4 sizes (ints,
    int scalars, or None for the batch and channels: taken from ``output_grad`` and
    ``filters``), which a stride leaves ambiguous. The other arguments are ``conv2d``'s."""
    fn = "conv2d_grad_wrt_inputs"
    g, w = _operand(output_grad, "input"), _operand(filters, "filters")
    border, stride, flip, dilation = _options(
        border_mode, subsample, filter_flip, filter_dilation, num_groups, fn
    )
    w = _hinted(w, filter_shape, "filter")
    g, w = _floats(g, w)
    shape = _shape4(input_shape, [g.shape[0], w.shape[1]], fn, "input_shape")
    op = _ConvOp(border, stride, flip, dilation)
    _, grad_inputs, _ = op.with_ops()
    x_like = zeros(shape, dtype="int8")  # only its shape is read
    g = _checked(g, op, shape[2:], _sizes(w, (2, 3)), fn)
    return grad_inputs(w, g, x_like)


def conv2d_grad_wrt_weights(
    input: Any,
    output_grad: Any,
    filter_shape: Sequence[Any],
    input_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
) -> Variable:
    """The gradient of ``conv2d(input, filters, ...)`` with respect to ``filters``, for the
    ``output_grad`` of its result (Theano's): ``filter_shape`` gives the filters' 4 sizes
    (ints, int scalars, or None for the filter count and channels: taken from ``output_grad``
    and ``input``). The other arguments are ``conv2d``'s."""
    fn = "conv2d_grad_wrt_weights"
    x, g = _operand(input, "input"), _operand(output_grad, "input")
    border, stride, flip, dilation = _options(
        border_mode, subsample, filter_flip, filter_dilation, num_groups, fn
    )
    x = _hinted(x, input_shape, "input")
    x, g = _floats(x, g)
    shape = _shape4(filter_shape, [g.shape[1], x.shape[1]], fn, "filter_shape")
    op = _ConvOp(border, stride, flip, dilation)
    _, _, grad_weights = op.with_ops()
    w_like = zeros(shape, dtype="int8")  # only its shape is read
    g = _checked(g, op, _sizes(x, (2, 3)), shape[2:], fn)
    return grad_weights(x, g, w_like)


def conv2d_transpose(
    input: Any,
    filters: Any,
    output_shape: Sequence[Any],
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    input_dilation: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
) -> Variable:
    """Theano's transposed convolution: :func:`conv2d_grad_wrt_inputs` of ``input`` read as an
    output gradient, giving images of ``output_shape``; ``input_dilation`` is the stride of the
    convolution it transposes (the upsampling factor)."""
    return conv2d_grad_wrt_inputs(
        input,
        filters,
        output_shape,
        filter_shape=filter_shape,
        border_mode=border_mode,
        subsample=input_dilation,
        filter_flip=filter_flip,
        filter_dilation=filter_dilation,
        num_groups=num_groups,
    )
