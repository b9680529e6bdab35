"""Convolution of a batch of multi-channel images (``ft.nnet.conv2d``, Theano's and
PyTensor's ``tensor.nnet.conv2d``) or volumes (``ft.nnet.conv3d``, Theano's abstract
``conv3d``) and the two ops of its gradient.

Three ops share one set of props (border, subsample, filter_flip, dilation: one entry per
spatial dim) and one numpy engine, written once for any number of spatial dims:
``ConvForward`` (the forward convolution), ``ConvGradInputs`` (its gradient with respect to
the images) and ``ConvGradWeights`` (with respect to the filters); ``Conv2d``... and
``Conv3d``... are those ops by name, for graphs and messages. Each is linear in each of its two
tensor operands, and the gradient of each is again made of the three, so gradients of
gradients (a Hessian-vector product through a convolution) need no other op.

The engine is im2col and one matrix product (BLAS through numpy): the windows of the padded
images are copied once into a ``(channels * filter taps, batch * output positions)`` matrix,
one strided slice per filter tap, and multiplied by the filters. For the shapes of LeNet
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

from ..graph.args import as_int, int_arg
from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .array_ops import specify_shape
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .pyop import check_value
from .shape_ops import concatenate

__all__ = [
    "ConvForward",
    "ConvGradInputs",
    "ConvGradWeights",
    "Conv2d",
    "Conv2dGradInputs",
    "Conv2dGradWeights",
    "Conv3d",
    "Conv3dGradInputs",
    "Conv3dGradWeights",
    "conv2d",
    "conv3d",
    "convolution",
    "prepare",
    "group_split",
    "int_pair",
    "int_tuple",
]

Pair = tuple[int, int]
Sizes = tuple[int, ...]
#: A normalized border mode: 'full', 'half' (their padding depends on the filter size) or the
#: padding itself, per spatial dim an int (each side) or a pair (before, after) that differ.
Border = str | tuple[int | Pair, ...]
#: The spatial dims' names, by their number (for messages).
DIM_NAMES = {2: "rows, cols", 3: "depth, rows, cols"}


def _ints(n: int) -> str:
    return "a pair of ints" if n == 2 else f"{n} ints"


def int_tuple(value: Any, n: int, fn: str, what: str, minimum: int, example: str) -> Sizes:
    """``value`` (an int or ``n`` ints, one per spatial dim) as ``n`` ints ``>= minimum``; else
    a ``ValueError`` naming the function ``fn``, the argument ``what`` and an ``example``."""
    items = (value,) * n if as_int(value) is not None else value
    ok = isinstance(items, (tuple, list)) and len(items) == n
    ok = ok and all(as_int(v) is not None for v in items)
    if not ok or min(items) < minimum:
        raise ValueError(
            f"{fn}: {what} must be {_ints(n)} >= {minimum} ({DIM_NAMES[n]}), got {value!r}; "
            f"e.g. {what}={example}"
        )
    return tuple(as_int(v) for v in items)


def int_pair(value: Any, fn: str, what: str, minimum: int, example: str) -> Pair:
    """``value`` (an int or a pair of ints: rows, cols) as a pair of ints ``>= minimum``
    (:func:`int_tuple` of 2)."""
    return int_tuple(value, 2, fn, what, minimum, example)  # type: ignore[return-value]


def _border(border_mode: Any, n: int, fn: str) -> Border:
    if isinstance(border_mode, str):
        if border_mode == "valid":
            return (0,) * n
        if border_mode in ("full", "half"):
            return border_mode
    elif as_int(border_mode) is not None:
        if as_int(border_mode) >= 0:
            return (as_int(border_mode),) * n
    elif isinstance(border_mode, (tuple, list)) and len(border_mode) == n:
        # Theano 1.0's: per dim an int (each side) or a pair (before, after); an even pair is
        # kept as its int, so a symmetric padding names the same op however it is written
        dims: list[int | Pair] = []
        for item in border_mode:
            pair = tuple(item) if isinstance(item, (tuple, list)) else (item, item)
            sides = [as_int(v) for v in pair]
            if len(sides) != 2 or any(v is None or v < 0 for v in sides):
                break
            dims.append(sides[0] if sides[0] == sides[1] else (sides[0], sides[1]))  # type: ignore[arg-type]
        else:
            return tuple(dims)
    raise ValueError(
        f"{fn}: border_mode must be 'valid', 'full', 'half', an int >= 0 or {n} entries >= 0 "
        f"(the zero padding of {DIM_NAMES[n]}), each an int or a pair (before, after), e.g. "
        f"{str((1,) * n)} or {str(((1, 0),) + (1,) * (n - 1))}; got {border_mode!r}"
    )


def _span(k: int, dilation: int) -> int:
    """The entries a dilated filter of ``k`` taps covers along one dim."""
    return (k - 1) * dilation + 1


def _pad(border: Border, d: int, k: int, dilation: int) -> Pair:
    """The zeros added (before, after) spatial dim ``d`` for a filter of ``k`` taps."""
    if border == "full":
        side = _span(k, dilation) - 1
    elif border == "half":
        side = _span(k, dilation) // 2
    else:
        given = border[d]  # type: ignore[index]
        return given if isinstance(given, tuple) else (given, given)  # type: ignore[return-value]
    return side, side


def _out_size(size: int, k: int, pad: Pair, stride: int, dilation: int) -> int:
    return (size + pad[0] + pad[1] - _span(k, dilation)) // stride + 1


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` reporting no floating-point flag (an infinity times a zero is NaN), as the
    compiled kernels and the other products (``dot``, ``tensordot``, ``matmul``) do."""
    with np.errstate(all="ignore"):
        return a @ b


_ALL = slice(None)


class _ConvOp(Op):
    """The props and the engine the convolution ops share, for any number of spatial dims
    (the length of the props' tuples)."""

    __props__ = ("border", "subsample", "filter_flip", "dilation")

    def __init__(self, border: Border, subsample: Sizes, filter_flip: bool, dilation: Sizes) -> None:
        self.border = (
            border
            if isinstance(border, str)
            else tuple((int(p[0]), int(p[1])) if isinstance(p, tuple) else int(p) for p in border)
        )
        self.subsample = tuple(int(s) for s in subsample)
        self.filter_flip = bool(filter_flip)
        self.dilation = tuple(int(d) for d in dilation)

    @property
    def spatial(self) -> int:
        """The number of spatial dims (2 for images, 3 for volumes)."""
        return len(self.subsample)

    def with_ops(self) -> tuple[ConvForward, ConvGradInputs, ConvGradWeights]:
        """The three ops with these props (the gradient rules build each from the others)."""
        args = (self.border, self.subsample, self.filter_flip, self.dilation)
        return tuple(cls(*args) for cls in _FAMILIES[self.spatial])  # type: ignore[return-value]

    def static_out(self, image: Sequence[int | None], kernel: Sequence[int | None]) -> list[int | None]:
        """The output's spatial sizes where the image's and the filters' sizes are known."""
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
            for d in range(self.spatial)
        ]

    # -- the numpy engine -------------------------------------------------------------------
    def geometry(
        self, image: Sequence[int], kernel: Sequence[int], who: str = ""
    ) -> tuple[tuple[Pair, ...], Sizes]:
        """(padding, output sizes) of ``image`` (its spatial sizes) under ``kernel``, checked
        (an error names ``who``, by default the op)."""
        dims = range(self.spatial)
        pads = tuple(_pad(self.border, d, kernel[d], self.dilation[d]) for d in dims)
        out = tuple(
            _out_size(image[d], kernel[d], pads[d], self.subsample[d], self.dilation[d]) for d in dims
        )
        if min(out) < 1:
            spans = "x".join(str(_span(kernel[d], self.dilation[d])) for d in dims)
            padded = "x".join(str(image[d] + sum(pads[d])) for d in dims)
            raise ValueError(
                f"{who or type(self).__name__}: the filters (dilated {spans}) are larger than the "
                f"images padded to {padded}; give larger images, smaller filters or "
                "border_mode='full' or 'half'"
            )
        return pads, out

    def _slices(self, tap: Sizes, out: Sizes) -> tuple[slice, ...]:
        """Where filter tap ``tap`` reads the padded image, for every output position."""
        return tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, o, s, d in zip(tap, out, self.subsample, self.dilation)
        )

    def padded(self, x: np.ndarray, pads: tuple[Pair, ...]) -> np.ndarray:
        """``x`` with ``pads`` zeros (before, after) each spatial dim."""
        return np.pad(x, ((0, 0), (0, 0)) + pads) if any(map(any, pads)) else x

    def columns(self, x: np.ndarray, kernel: Sizes) -> tuple[np.ndarray, Sizes]:
        """im2col: ``(channels * taps, batch * output positions)`` of the padded images."""
        pads, out = self.geometry(x.shape[2:], kernel)
        x = self.padded(x, pads)
        b, c = x.shape[:2]
        cols = np.empty((c, *kernel, b, *out), dtype=x.dtype)
        for tap in np.ndindex(*kernel):
            cols[(_ALL, *tap)] = x[(_ALL, _ALL, *self._slices(tap, out))].swapaxes(0, 1)
        return cols.reshape(c * int(np.prod(kernel)), -1), out

    def taps(self, w: np.ndarray) -> np.ndarray:
        """The filters as a correlation reads them (flipped for a true convolution)."""
        return w[(_ALL, _ALL) + (slice(None, None, -1),) * self.spatial] if self.filter_flip else w

    def check_channels(self, x_shape: Sequence[int], w_shape: Sequence[int]) -> None:
        if x_shape[1] != w_shape[1]:
            raise ValueError(
                f"{type(self).__name__}: the images have {x_shape[1]} channels (shape {tuple(x_shape)}) "
                f"but the filters expect {w_shape[1]} (shape {tuple(w_shape)}); the filters' dim 1 "
                "must equal the images' dim 1"
            )


class ConvForward(_ConvOp):
    """``out[b, f] = sum_c image[b, c] (*) filters[f, c]`` over the valid positions of the padded,
    strided, dilated grid (``(*)`` a correlation, or a convolution with ``filter_flip``)."""

    def make_node(self, x: Variable, w: Variable) -> Apply:
        out = self.static_out(x.type.shape[2:], w.type.shape[2:])
        return Apply(self, [x, w], [TensorType(x.dtype, (x.type.shape[0], w.type.shape[0], *out))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, w = inputs
        self.check_channels(x.shape, w.shape)
        cols, out = self.columns(x, w.shape[2:])
        res = _product(self.taps(w).reshape(w.shape[0], -1), cols)
        res = res.reshape((w.shape[0], x.shape[0]) + out).swapaxes(0, 1)
        return [np.ascontiguousarray(res, dtype=node.outputs[0].dtype)]


class ConvGradWeights(_ConvOp):
    """The gradient of ``ConvForward(x, w)`` with respect to ``w``, for the output gradient
    ``g``; only the shape of ``w_like`` (the filters) is read."""

    def make_node(self, x: Variable, g: Variable, w_like: Variable) -> Apply:
        return Apply(self, [x, g, w_like], [TensorType(g.dtype, w_like.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g, w_like = inputs
        self.check_channels(x.shape, w_like.shape)
        cols, _ = self.columns(x, w_like.shape[2:])
        gw = _product(g.swapaxes(0, 1).reshape(g.shape[1], -1), cols.T)
        gw = self.taps(gw.reshape(w_like.shape))
        return [np.ascontiguousarray(gw, dtype=node.outputs[0].dtype)]


class ConvGradInputs(_ConvOp):
    """The gradient of ``ConvForward(x, w)`` with respect to ``x``, for the output gradient
    ``g``; only the shape of ``x_like`` (the images) is read (with a stride, it is not implied
    by ``g``'s)."""

    def make_node(self, w: Variable, g: Variable, x_like: Variable) -> Apply:
        shape = (g.type.shape[0], w.type.shape[1]) + x_like.type.shape[2:]
        return Apply(self, [w, g, x_like], [TensorType(g.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        w, g, x_like = inputs
        self.check_channels(x_like.shape, w.shape)
        kernel, image = w.shape[2:], x_like.shape[2:]
        pads, out = self.geometry(image, kernel)
        b, c = g.shape[0], w.shape[1]
        cols = _product(self.taps(w).reshape(w.shape[0], -1).T, g.swapaxes(0, 1).reshape(g.shape[1], -1))
        cols = cols.reshape((c, *kernel, b) + out)
        # accumulated channels first, as the columns are laid out (whole rows added at a
        # time), then transposed once: a third faster than adding into (batch, channels, ...)
        dt = node.outputs[0].dtype
        gx = np.zeros((c, b) + tuple(n + sum(p) for n, p in zip(image, pads)), dtype=dt)
        for tap in np.ndindex(*kernel):
            gx[(_ALL, _ALL, *self._slices(tap, out))] += cols[(_ALL, *tap)]
        gx = gx[(_ALL, _ALL) + tuple(slice(p[0], p[0] + n) for p, n in zip(pads, image))]
        return [np.ascontiguousarray(gx.swapaxes(0, 1))]


# The ops by their number of spatial dims: one engine, named for messages and graphs.
class Conv2d(ConvForward):
    """``ConvForward`` of images ``(batch, channels, rows, cols)``."""


class Conv2dGradInputs(ConvGradInputs):
    """``ConvGradInputs`` of images."""


class Conv2dGradWeights(ConvGradWeights):
    """``ConvGradWeights`` of images."""


class Conv3d(ConvForward):
    """``ConvForward`` of volumes ``(batch, channels, depth, rows, cols)``."""


class Conv3dGradInputs(ConvGradInputs):
    """``ConvGradInputs`` of volumes."""


class Conv3dGradWeights(ConvGradWeights):
    """``ConvGradWeights`` of volumes."""


_FAMILIES: dict[int, tuple[type[ConvForward], type[ConvGradInputs], type[ConvGradWeights]]] = {
    2: (Conv2d, Conv2dGradInputs, Conv2dGradWeights),
    3: (Conv3d, Conv3dGradInputs, Conv3dGradWeights),
}


def _operand(v: Any, what: str, n: int, fn: str) -> Variable:
    t = as_tensor_variable(v)
    if t.ndim != n + 2:
        lead = "batch" if what == "input" else "n_filters"
        example = ", ".join(["batch", "1"] + DIM_NAMES[n].split(", "))
        raise TypeError(
            f"{fn}: {what} must be a {n + 2}-d tensor ({lead}, channels, {DIM_NAMES[n]}), "
            f"got {t.type} ({t.ndim} dims); reshape it, e.g. x.reshape(({example}))"
        )
    if is_complex(t.dtype):
        raise TypeError(f"{fn}: {what} must be real (float32 or float64), got {t.type}")
    return t


def _hinted(v: Variable, shape: Any, what: str, fn: str) -> Variable:
    """``v`` with the sizes ``shape`` (one int or None per dim) declared, checked against its
    own."""
    if shape is None:
        return v
    hint = tuple(shape)
    if len(hint) != v.ndim or any(s is not None and as_int(s) is None for s in hint):
        raise ValueError(
            f"{fn}: {what}_shape must be {v.ndim} ints (or None for unknown sizes), got {shape!r}"
        )
    for have, want in zip(v.type.shape, hint):
        if have is not None and want is not None and have != want:
            raise ValueError(f"{fn}: {what}_shape={tuple(hint)} contradicts the {what}'s type {v.type}")
    merged = tuple(as_int(h) if h is not None else s for h, s in zip(hint, v.type.shape))
    return specify_shape(v, merged) if merged != v.type.shape else v


def prepare(
    fn: str,
    n: int,
    input: Any,
    filters: Any,
    input_shape: Sequence[int | None] | None,
    filter_shape: Sequence[int | None] | None,
    border_mode: Any,
    subsample: Any,
    filter_flip: bool,
    filter_dilation: Any,
    num_groups: Any = 1,
) -> tuple[ConvForward, Variable, Variable, int]:
    """What ``convolution`` applies: (the op, the input and the filters with their declared
    sizes, cast to one float dtype, the number of groups), the arguments checked (``fn`` in
    errors), and the sizes where they are static: the channels against the filters', and the
    filters against the padded images."""
    groups = int_arg(num_groups, fn, "num_groups", minimum=1)
    x, w = _operand(input, "input", n, fn), _operand(filters, "filters", n, fn)
    border = _border(border_mode, n, fn)
    example = str((2,) * n)
    stride = int_tuple(subsample, n, fn, "subsample", 1, example)
    dilation = int_tuple(filter_dilation, n, fn, "filter_dilation", 1, example)
    if not isinstance(filter_flip, (bool, np.bool_)):
        raise TypeError(f"{fn}: filter_flip must be True or False, got {filter_flip!r}")
    x, w = _hinted(x, input_shape, "input", fn), _hinted(w, filter_shape, "filter", fn)
    dt = "float32" if x.dtype == w.dtype == "float32" else "float64"
    x, w = cast(x, dt), cast(w, dt)
    op = _FAMILIES[n][0](border, stride, bool(filter_flip), dilation)
    cx, cw = x.type.shape[1], w.type.shape[1]
    if cx is not None and cw is not None and cx != cw * groups:
        raise ValueError(
            f"{fn}: input {x.type} has {cx} channels but filters {w.type} expect {cw}; the filters' "
            "dim 1 must equal the input's dim 1"
            if groups == 1
            else f"{fn}: the input {x.type} has {cx} channels but num_groups={groups} groups of the "
            f"filters' {cw} ({w.type}) read {groups * cw}; the input's dim 1 must be num_groups times "
            "the filters' dim 1"
        )
    image, kernel = x.type.shape[2:], w.type.shape[2:]
    if all(s is not None for s in image + kernel):
        op.geometry(image, kernel, fn)  # type: ignore[arg-type]
    return op, x, w, groups


def convolution(
    fn: str,
    n: int,
    input: Any,
    filters: Any,
    input_shape: Sequence[int | None] | None,
    filter_shape: Sequence[int | None] | None,
    border_mode: Any,
    subsample: Any,
    filter_flip: bool,
    filter_dilation: Any,
    num_groups: Any = 1,
) -> Variable:
    """The convolution over ``n`` spatial dims that ``conv2d`` and ``conv3d`` (named ``fn`` in
    errors) build: the arguments checked, the operands cast to one float dtype. With
    ``num_groups`` > 1, the input's channels and the filters are split into that many groups,
    each group of filters convolving its group of channels (one op per group, joined)."""
    op, x, w, groups = prepare(
        fn,
        n,
        input,
        filters,
        input_shape,
        filter_shape,
        border_mode,
        subsample,
        filter_flip,
        filter_dilation,
        num_groups,
    )
    if groups == 1:
        return op(x, w)
    return _grouped(op, x, w, groups, fn)


def group_split(fn: str, groups: int, w: Variable, channels: Any) -> tuple[Any, Any, Variable]:
    """(filters per group, channels per group, ``checked``) of a convolution of ``groups``
    groups with filters ``w`` over ``channels`` input channels (an int or a symbolic int
    scalar). A static filter count that does not split is refused now; ``checked(v)`` is ``v``
    with the checks that the filters and the channels split so, raising when the function runs
    (AssertionError)."""
    nf, cw = w.type.shape[0], w.type.shape[1]
    if nf is not None and nf % groups:
        raise ValueError(f"{fn}: num_groups={groups} must divide the number of filters, got {nf} ({w.type})")
    n_filters, per_group = (w.shape[0] if nf is None else nf), (w.shape[1] if cw is None else cw)
    divides = elemwise("eq", n_filters % groups, 0)
    split = elemwise("eq", channels, per_group * groups)

    def checked(v: Variable) -> Variable:
        v = check_value(
            v,
            divides,
            f"{fn}: num_groups={groups} must divide the number of filters, got {{0}}; give a multiple of it",
            n_filters,
        )
        return check_value(
            v,
            split,
            f"{fn}: the input's channels are not num_groups={groups} groups of the filters' channels (the "
            "input's dim 1, {0}, must be num_groups times the filters' dim 1, {1})",
            channels,
            per_group,
        )

    return n_filters // groups, per_group, checked


def _grouped(op: Op, x: Variable, w: Variable, groups: int, fn: str) -> Variable:
    """``op`` applied to each of ``groups`` groups of ``x``'s channels and of the filters
    ``w``, the results joined along the channels; sizes that do not split so are refused when
    the graph is built where they are static, else when the function runs (AssertionError)."""
    fg, per_group, checked = group_split(fn, groups, w, x.shape[1])
    x = checked(x)
    outs = [op(x[:, g * per_group : (g + 1) * per_group], w[g * fg : (g + 1) * fg]) for g in range(groups)]
    return concatenate(outs, axis=1)


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
    num_groups: int = 1,
) -> Variable:
    """The 2-d convolution of Theano's ``tensor.nnet.conv2d``: ``input`` is
    ``(batch, channels, rows, cols)``, ``filters`` ``(n_filters, channels, frows, fcols)``, the
    result ``(batch, n_filters, out_rows, out_cols)``.

    ``border_mode``: ``'valid'`` (no padding: ``rows - frows + 1``), ``'full'`` (every overlap:
    ``rows + frows - 1``), ``'half'`` (``frows // 2`` zeros each side: the same size for odd
    filters), an int or a pair ``(pad_rows, pad_cols)`` of zeros added each side, and
    either entry of the pair may be a pair ``(before, after)`` (Theano 1.0's asymmetric padding).
    ``subsample`` is the stride, ``filter_dilation`` the spacing of the filter taps. With
    ``filter_flip=True`` (the default) it is a true convolution (the filters are flipped), with
    False a correlation. ``input_shape``/``filter_shape`` declare sizes (None for unknown): the
    result's static shape uses them and other sizes are an error when the function runs.
    Both operands are cast to one float dtype (float32 stays float32). ``image_shape`` is
    ``input_shape``'s older name (Theano's ``tensor.nnet.conv.conv2d``, the LeNet tutorial's).
    ``num_groups`` (Theano 1.0's) splits the channels and the filters into that many groups,
    each group of filters convolving its group of channels: the filters are
    ``(n_filters, channels // num_groups, frows, fcols)``."""
    if image_shape is not None:
        if input_shape is not None:
            raise TypeError("conv2d: give input_shape or its older name image_shape, not both")
        input_shape = image_shape
    return convolution(
        "conv2d",
        2,
        input,
        filters,
        input_shape,
        filter_shape,
        border_mode,
        subsample,
        filter_flip,
        filter_dilation,
        num_groups,
    )


def conv3d(
    input: Any,
    filters: Any,
    input_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1, 1),
    num_groups: int = 1,
) -> Variable:
    """The 3-d convolution of Theano's ``tensor.nnet.conv3d`` (its abstract ``conv3d``):
    ``input`` is ``(batch, channels, depth, rows, cols)``, ``filters``
    ``(n_filters, channels, fdepth, frows, fcols)``, the result
    ``(batch, n_filters, out_depth, out_rows, out_cols)``; every argument as ``conv2d``'s with
    three sizes in place of two (``border_mode`` an int or ``(pad_depth, pad_rows, pad_cols)``).
    ``num_groups`` as ``conv2d``'s."""
    return convolution(
        "conv3d",
        3,
        input,
        filters,
        input_shape,
        filter_shape,
        border_mode,
        subsample,
        filter_flip,
        filter_dilation,
        num_groups,
    )
