"""Theano's ``tensor.nnet.abstract_conv`` functions: ``conv2d`` and ``conv3d``, and the ones that
name the two gradients of each on their own: ``conv2d_grad_wrt_inputs``,
``conv2d_grad_wrt_weights``, their ``conv3d_`` counterparts and ``conv2d_transpose`` (the image
gradient read as an upsampling: a "deconvolution"). They build the gradient ops of
:mod:`.conv` directly; the shapes those ops cannot infer (an image gradient's rows with a
stride, a filter gradient's taps) are given, and the output gradient's sizes are checked
against them, when the graph is built where the sizes are static and else when it runs."""

from __future__ import annotations

from typing import Any, Sequence


from ..graph.args import as_int, int_arg
from ..graph.basic import Variable
from ..graph.types import is_complex
from .basic import as_tensor_variable
from .conv import DIM_NAMES, ConvForward, conv2d, conv3d, group_split, int_pair, prepare
from .creation import zeros
from .elemwise import cast, elemwise
from .pyop import check_value
from .reduction import all as all_
from .shape_ops import concatenate, stack

__all__ = [
    "get_conv_output_shape",
    "get_conv_shape_1axis",
    "conv2d",
    "conv2d_grad_wrt_inputs",
    "conv2d_grad_wrt_weights",
    "conv2d_transpose",
    "conv3d",
    "conv3d_grad_wrt_inputs",
    "conv3d_grad_wrt_weights",
]


#: The argument names of the image gradient (the output gradient, the images' shape, the stride)
#: as ``conv2d_grad_wrt_inputs`` and ``conv2d_transpose`` call them, for their messages.
GRAD_NAMES = ("output_grad", "input_shape", "subsample")
TRANSPOSE_NAMES = ("input", "output_shape", "input_dilation")


def _output_grad(g: Any, n: int, fn: str, what: str = "output_grad") -> Variable:
    v = as_tensor_variable(g)
    if v.ndim != n + 2 or is_complex(v.dtype):
        raise TypeError(
            f"{fn}: {what} must be a real {n + 2}-d tensor (batch, n_filters, {DIM_NAMES[n]}), "
            f"got {v.type} ({v.ndim} dims)"
        )
    return v


def _shape(shape: Any, n: int, defaults: Sequence[Any], fn: str, what: str) -> list[Any]:
    """``shape`` (``n + 2`` entries: ints, symbolic int scalars or None, a None among the first
    two taking ``defaults``' entry), checked: ints stay ints (static sizes)."""
    k = n + 2
    items = list(shape) if isinstance(shape, (tuple, list)) else None
    if isinstance(shape, Variable) and shape.type.shape == (k,):
        items = [shape[i] for i in range(k)]
    if items is None or len(items) != k:
        raise ValueError(f"{fn}: {what} must be {k} sizes (batch, channels, {DIM_NAMES[n]}), got {shape!r}")
    out = []
    for item, default in zip(items, list(defaults) + [None] * n):
        if item is None:
            item = default
        if not isinstance(item, Variable) and as_int(item) is None:
            raise ValueError(
                f"{fn}: {what} must be {k} ints or int scalars (None allowed for the first two, "
                f"which are inferred), got {shape!r}"
            )
        if isinstance(item, Variable) and (item.ndim != 0 or item.dtype[:3] not in ("int", "uin")):
            raise ValueError(f"{fn}: {what} entries must be int scalars, got {item.type} in {shape!r}")
        out.append(item if isinstance(item, Variable) else as_int(item))
    return out


def _float_dtype(*vs: Variable) -> str:
    # the convolution's rule: float32 operands stay float32, anything else computes in float64
    return "float32" if all(v.dtype == "float32" for v in vs) else "float64"


def get_conv_shape_1axis(
    image_shape: Any, kernel_shape: Any, border_mode: Any, subsample: Any, dilation: Any = 1
) -> Any:
    """Theano's: the size along one axis of a convolution's output, for the input's and the
    filter's sizes along it (ints or symbolic; None if any argument is None), ``border_mode``
    ``'valid'``, ``'full'``, ``'half'``, an int padding each side or a pair (before, after),
    the stride ``subsample`` and the filter's ``dilation``."""
    if any(a is None for a in (image_shape, kernel_shape, border_mode, subsample, dilation)):
        return None
    span = (kernel_shape - 1) * dilation + 1
    if isinstance(border_mode, str) and border_mode in ("valid", "full", "half"):
        pads = {"valid": 0, "full": span - 1, "half": span // 2}[border_mode] * 2
    elif isinstance(border_mode, (tuple, list)) and len(border_mode) == 2:
        pads = border_mode[0] + border_mode[1]
    elif as_int(border_mode) is not None:
        pads = 2 * as_int(border_mode)
    else:
        raise ValueError(
            "get_conv_shape_1axis: border_mode must be 'valid', 'full', 'half', an int or a pair "
            f"(pad_before, pad_after), got {border_mode!r}"
        )
    return (image_shape + pads - span) // subsample + 1


def get_conv_output_shape(
    image_shape: Sequence[Any],
    kernel_shape: Sequence[Any],
    border_mode: Any,
    subsample: Sequence[Any],
    filter_dilation: Sequence[Any] | None = None,
) -> tuple[Any, ...]:
    """Theano's: the shape of ``conv2d``'s (or ``conv3d``'s) output for an input of
    ``image_shape`` (batch, channels, spatial sizes) and filters of ``kernel_shape``
    (n_filters, channels, spatial sizes): ``(batch, n_filters, *sizes)``, each size
    :func:`get_conv_shape_1axis`'s (``border_mode`` one for every axis, or a tuple of one per
    axis)."""
    n = len(subsample)
    dilation = list(filter_dilation) if filter_dilation is not None else [1] * n
    borders = list(border_mode) if isinstance(border_mode, (tuple, list)) else [border_mode] * n
    image, kernel = list(image_shape)[2:], list(kernel_shape)[-n:]
    sizes = [
        get_conv_shape_1axis(image[d], kernel[d], borders[d], subsample[d], dilation[d]) for d in range(n)
    ]
    return (image_shape[0], kernel_shape[0], *sizes)


def _out_sizes(op: ConvForward, image: Sequence[Any], kernel: Sequence[Any]) -> list[Any]:
    """The convolution's output sizes for ``image`` and ``kernel`` sizes that may be symbolic
    (``static_out`` takes ints only)."""
    border = op.border if isinstance(op.border, str) else list(op.border)
    return list(get_conv_output_shape([0, 0, *image], [0, 0, *kernel], border, op.subsample, op.dilation)[2:])


def _sizes(v: Variable) -> list[Any]:
    """The spatial sizes of ``v``: ints where its type knows them, else symbolic."""
    return [v.type.shape[d] if v.type.shape[d] is not None else v.shape[d] for d in range(2, v.ndim)]


def _checked(
    g: Variable,
    op: ConvForward,
    x: Variable,
    w: Variable,
    image: Sequence[Any],
    kernel: Sequence[Any],
    fn: str,
    arg_names: tuple[str, str, str] = GRAD_NAMES,
) -> Variable:
    """``g`` (an output gradient) checked to have the spatial sizes of ``op``'s convolution of
    ``x`` and ``w`` (of the given shapes, never run), whose sizes are ``image`` and ``kernel``:
    now where both are static, else when the function runs. The messages name ``fn``'s
    arguments ``arg_names`` (:data:`GRAD_NAMES`'s roles)."""
    want, have = op.static_out(x.type.shape[2:], w.type.shape[2:]), g.type.shape[2:]
    names = DIM_NAMES[op.spatial].replace(", cols", " and cols")
    what = "the output gradient" if arg_names[0] == "output_grad" else f"the {arg_names[0]}"
    check = f"check {arg_names[1]}, border_mode, {arg_names[2]} and filter_dilation"
    if any(a is not None and h is not None and a != h for a, h in zip(want, have)):
        raise ValueError(
            f"{fn}: {what} {g.type} has {'x'.join(map(str, have))} {names}, but the convolution "
            f"of the given shapes gives {'x'.join(map(str, want))} ({check})"
        )
    sizes = _out_sizes(op, image, kernel)
    ok = all_(stack([elemwise("eq", g.shape[2 + d], sizes[d]) for d in range(op.spatial)]))
    return check_value(
        g,
        ok,
        f"{fn}: {what}'s {names} {{0}} do not match the {{1}} the convolution of the given "
        f"{arg_names[1]} and filters gives ({check})",
        g.shape[2:],
        stack(sizes),
    )


def _grad_wrt_inputs(
    fn: str,
    n: int,
    output_grad: Any,
    filters: Any,
    input_shape: Any,
    conv_args: tuple,
    num_groups: Any,
    arg_names: tuple[str, str, str] = GRAD_NAMES,
) -> Variable:
    """The image gradient of the ``n``-d convolution (``fn`` and its ``arg_names`` in errors);
    ``conv_args``: the forward convolution's filter_shape, border_mode, subsample, filter_flip,
    filter_dilation. With groups, each group of filters gives the gradient of its group of
    channels."""
    g, w = _output_grad(output_grad, n, fn, arg_names[0]), as_tensor_variable(filters)
    dt = _float_dtype(g, w)
    groups = int_arg(num_groups, fn, "num_groups", minimum=1)
    channels = (
        (w.type.shape[1] if w.type.shape[1] is not None else w.shape[1]) * groups if w.ndim == n + 2 else None
    )
    shape = _shape(input_shape, n, [g.shape[0], channels], fn, arg_names[1])
    # the images only give shapes: the forward convolution's checks of the options, the
    # filters and the sizes
    op, x, w, _ = prepare(f"conv{n}d", n, zeros(shape, dtype=dt), w, None, *conv_args, groups)
    _, grad_inputs, _ = op.with_ops()
    g = _checked(cast(g, dt), op, x, w, shape[2:], _sizes(w), fn, arg_names)
    if groups == 1:
        return grad_inputs(w, g, zeros(shape, dtype="int8"))  # only its shape is read
    fg, per_group, checked = group_split(fn, groups, w, shape[1])
    g = checked(g)
    like = zeros([shape[0], per_group, *shape[2:]], dtype="int8")
    parts = [grad_inputs(w[k * fg : (k + 1) * fg], g[:, k * fg : (k + 1) * fg], like) for k in range(groups)]
    return concatenate(parts, axis=1)


def _grad_wrt_weights(
    fn: str,
    n: int,
    input: Any,
    output_grad: Any,
    filter_shape: Any,
    input_shape: Any,
    conv_args: tuple,
    num_groups: Any,
) -> Variable:
    """The filter gradient of the ``n``-d convolution (``fn`` in errors); ``conv_args``: the
    forward convolution's border_mode, subsample, filter_flip, filter_dilation. With groups,
    each group of channels gives the gradient of its group of filters."""
    x, g = as_tensor_variable(input), _output_grad(output_grad, n, fn)
    dt = _float_dtype(x, g)
    groups = int_arg(num_groups, fn, "num_groups", minimum=1)
    channels = (
        (x.type.shape[1] if x.type.shape[1] is not None else x.shape[1]) // groups
        if x.ndim == n + 2
        else None
    )
    shape = _shape(filter_shape, n, [g.shape[1], channels], fn, "filter_shape")
    op, x, w, _ = prepare(f"conv{n}d", n, x, zeros(shape, dtype=dt), input_shape, None, *conv_args, groups)
    _, _, grad_weights = op.with_ops()
    g = _checked(cast(g, dt), op, x, w, _sizes(x), shape[2:], fn)
    if groups == 1:
        return grad_weights(x, g, zeros(shape, dtype="int8"))  # only its shape is read
    fg, per_group, checked = group_split(fn, groups, w, x.shape[1])
    g = checked(g)
    like = zeros([fg, *shape[1:]], dtype="int8")
    parts = [
        grad_weights(x[:, k * per_group : (k + 1) * per_group], g[:, k * fg : (k + 1) * fg], like)
        for k in range(groups)
    ]
    return concatenate(parts, axis=0)


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
    conv_args = (filter_shape, border_mode, subsample, filter_flip, filter_dilation)
    return _grad_wrt_inputs(fn, 2, output_grad, filters, input_shape, conv_args, num_groups)


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
    conv_args = (border_mode, subsample, filter_flip, filter_dilation)
    return _grad_wrt_weights(fn, 2, input, output_grad, filter_shape, input_shape, conv_args, num_groups)


def conv3d_grad_wrt_inputs(
    output_grad: Any,
    filters: Any,
    input_shape: Sequence[Any],
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1, 1),
    num_groups: int = 1,
) -> Variable:
    """:func:`conv2d_grad_wrt_inputs` of ``conv3d``: ``input_shape`` gives 5 sizes
    ``(batch, channels, depth, rows, cols)``."""
    fn = "conv3d_grad_wrt_inputs"
    conv_args = (filter_shape, border_mode, subsample, filter_flip, filter_dilation)
    return _grad_wrt_inputs(fn, 3, output_grad, filters, input_shape, conv_args, num_groups)


def conv3d_grad_wrt_weights(
    input: Any,
    output_grad: Any,
    filter_shape: Sequence[Any],
    input_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1, 1),
    num_groups: int = 1,
) -> Variable:
    """:func:`conv2d_grad_wrt_weights` of ``conv3d``: ``filter_shape`` gives 5 sizes
    ``(n_filters, channels, fdepth, frows, fcols)``."""
    fn = "conv3d_grad_wrt_weights"
    conv_args = (border_mode, subsample, filter_flip, filter_dilation)
    return _grad_wrt_weights(fn, 3, input, output_grad, filter_shape, input_shape, conv_args, num_groups)


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
    fn = "conv2d_transpose"
    stride = int_pair(input_dilation, fn, "input_dilation", 1, "(2, 2)")
    conv_args = (filter_shape, border_mode, stride, filter_flip, filter_dilation)
    return _grad_wrt_inputs(fn, 2, input, filters, output_shape, conv_args, num_groups, TRANSPOSE_NAMES)
