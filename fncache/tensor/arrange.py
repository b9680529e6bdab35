"""numpy's and PyTensor's functions that cut, join and rearrange arrays: ``split join
concat_with_broadcast stacklists horizontal_stack vertical_stack hstack vstack dstack
column_stack atleast_1d atleast_2d atleast_3d atleast_Nd flip fliplr flipud rot90 moveaxis
matrix_transpose broadcast_shape pad append ediff1d join_dims split_dims pack unpack``.

Each is a composition of slices, concatenations, dimshuffles and ``alloc``, so it compiles to C
where those ops do, keys and pickles as they do and differentiates through their gradient rules.
Sizes only known at run time are checked there by a check on the input (a C step), which
raises numpy's ``ValueError`` naming the function, the sizes it was given and the fix.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.types import MAX_DIMS, is_int
from ..graph.args import as_int, flag, int_arg
from .basic import as_tensor_variable, constant
from .creation import alloc
from .elemwise import cast, elemwise
from .extra_ops import broadcast_to
from .advanced_subtensor import take
from .array_ops import specify_shape
from .creation import arange
from .pyop import check_value
from .reduction import all as all_
from .reduction import max as max_
from .reduction import mean
from .reduction import min as min_
from .reduction import one_axis, ordered_axes
from .reduction import prod as prod_
from .reduction import sum as sum_
from .stat_reductions import median
from .size_args import size_arg
from .shape_ops import (
    as_shape_vector,
    known_int,
    concatenate,
    dim_sizes,
    dimshuffle,
    flatten,
    reshape,
    shape,
    stack,
    transpose,
)

__all__ = [
    "split",
    "join",
    "concat_with_broadcast",
    "stacklists",
    "horizontal_stack",
    "vertical_stack",
    "hstack",
    "vstack",
    "dstack",
    "column_stack",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "atleast_Nd",
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "moveaxis",
    "matrix_transpose",
    "broadcast_shape",
    "pad",
    "append",
    "ediff1d",
    "join_dims",
    "split_dims",
    "pack",
    "unpack",
]


def _along(x: Variable, axis: int, index: Any) -> Variable:
    """``x[index]`` along ``axis``, the other axes whole."""
    return x[(slice(None),) * axis + (index,)]


def _checked(
    x: Variable,
    static: bool | None,
    cond: Callable[[], Variable],
    msg: str,
    values: Sequence[tuple[Variable, Any]] = (),
) -> Variable:
    """``x``, with a condition on sizes checked when the graph is built where the static shapes
    decide it (``static``), else when the function runs (a C step of ``cond()``). Either way a
    failure is numpy's ``ValueError``, ``msg`` formatted with ``values`` (pairs of a symbolic
    value, read only when the check fails, and its static value, for the check at build time)."""
    if static is None:
        return check_value(x, cond(), msg, *(v for v, _ in values))
    if not static:
        raise ValueError(msg.format(*(known for _, known in values)))
    return x


def _one_axis(v: Variable, axis: Any, what: str) -> int:
    if v.ndim == 0:
        raise ValueError(f"{what}: a 0-d tensor has no axis to work along; give a 1-d or more")
    return one_axis(axis, v.ndim, what)


def split(x: Any, splits_size: Any, n_splits: int | None = None, axis: int = 0) -> list[Variable]:
    """PyTensor's ``split(x, splits_size, n_splits, axis=0)``: ``x`` cut along ``axis`` into
    ``n_splits`` pieces of the sizes ``splits_size`` (Python ints or a symbolic int vector), which
    must add up to ``x.shape[axis]`` (checked when the function runs, or when the graph is built
    if the sizes are known). Without ``n_splits`` it is ``numpy.split(x, indices_or_sections,
    axis)``: an int cuts into that many equal pieces, a sequence of ints gives the cut points."""
    v = as_tensor_variable(x)
    ax = _one_axis(v, axis, "split")
    n = shape(v)[ax]
    if n_splits is None:
        return _numpy_split(v, splits_size, ax, n)
    n_splits = int_arg(n_splits, "split", "n_splits", minimum=1)
    sizes = as_tensor_variable(list(splits_size) if isinstance(splits_size, tuple) else splits_size)
    if sizes.ndim != 1 or not is_int(sizes.dtype):
        raise TypeError(
            f"split: splits_size must be a list of ints or a symbolic int vector, got "
            f"{splits_size!r} ({sizes.type}); for numpy's split leave n_splits out"
        )
    if sizes.type.shape[0] not in (None, n_splits):
        raise ValueError(
            f"split: {sizes.type.shape[0]} sizes {splits_size!r} for n_splits={n_splits}; give one "
            "size per piece (numpy's split(x, indices, axis) takes the axis as a keyword here)"
        )
    known = None
    if isinstance(sizes, Constant):
        known, length = [int(s) for s in sizes.data], v.type.shape[ax]
        if min(known) < 0 or length is not None and sum(known) != length:
            raise ValueError(
                f"split: the sizes {known} must be non-negative and add up to the length "
                f"{length} of axis {ax} of x; give sizes that cover the axis exactly"
            )
    static = True if isinstance(sizes, Constant) and v.type.shape[ax] is not None else None
    sizes = cast(sizes, "int64")

    def sizes_fit() -> Variable:
        ok = elemwise("and_", elemwise("eq", sum_(sizes), n), all_(elemwise("ge", sizes, 0)))
        return elemwise("and_", ok, elemwise("eq", shape(sizes)[0], n_splits))

    v = _checked(
        v,
        static,
        sizes_fit,
        f"split: the sizes {{0}} must be {n_splits} non-negative ints that add up to the "
        f"length {{1}} of axis {ax} of x; give sizes that cover the axis exactly",
        [(sizes, None), (n, None)],
    )
    if known is not None:
        # constant sizes (checked above to cover the axis): each piece's static size is its own
        bounds = np.cumsum([0, *known]).tolist()
        return [
            specify_shape(_along(v, ax, slice(a, b)), v.type.shape[:ax] + (b - a,) + v.type.shape[ax + 1 :])
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
    out, start = [], constant(np.int64(0))
    for i in range(n_splits):
        stop = start + sizes[i]
        out.append(_along(v, ax, slice(start, stop)))
        start = stop
    return out


def _numpy_split(v: Variable, sections: Any, ax: int, n: Variable) -> list[Variable]:
    if as_int(sections) is not None or isinstance(sections, Variable) and sections.ndim == 0:
        k = int_arg(sections, "split", "the number of sections", minimum=1)
        length = v.type.shape[ax]
        v = _checked(
            v,
            None if length is None else length % k == 0,
            lambda: elemwise("eq", elemwise("mod", n, k), 0),
            f"split: {k} sections do not divide axis {ax} of x (length {{0}}) equally; give a "
            f"length that {k} divides or the cut points",
            [(n, length)],
        )
        # an int where the length is known: the pieces' static sizes
        step = elemwise("floor_div", n, k) if length is None else length // k
        return [_along(v, ax, slice(i * step, (i + 1) * step)) for i in range(k)]
    if isinstance(sections, (tuple, list)) and all(known_int(c) is not None for c in sections):
        cuts = [None, *(known_int(c) for c in sections), None]
        return [_along(v, ax, slice(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    raise TypeError(
        f"split: without n_splits the second argument is numpy's indices_or_sections (an int or "
        f"a sequence of ints), got {sections!r}; for sizes give n_splits as well"
    )


def join(axis: int, *tensors: Any) -> Variable:
    """PyTensor's ``join(axis, *tensors)``: ``concatenate(tensors, axis)``."""
    if not tensors:
        raise ValueError("join: give at least one tensor after the axis")
    return concatenate(tensors, axis=int_arg(axis, "join", "the axis (first argument)"))


def concat_with_broadcast(tensor_list: Sequence[Any], axis: int = 0) -> Variable:
    """PyTensor's ``concat_with_broadcast``: the tensors (of one number of dims) joined along
    ``axis``, each first broadcast on the other dims to their common sizes (a dim of size 1
    stretched to the size the others have, whether the types say so or not: sizes that do
    not broadcast raise ValueError)."""
    if isinstance(tensor_list, Variable) or not isinstance(tensor_list, (list, tuple)):
        raise TypeError(f"concat_with_broadcast: takes a list of tensors, got {tensor_list!r}")
    if not tensor_list:
        raise ValueError("concat_with_broadcast: the list is empty; give at least one tensor")
    vs = [as_tensor_variable(t) for t in tensor_list]
    ndims = [v.ndim for v in vs]
    if len(set(ndims)) != 1 or ndims[0] == 0:
        raise TypeError(
            f"concat_with_broadcast: takes tensors of one number of dims (at least 1), got ndims "
            f"{ndims}; add dims with ft.expand_dims or ft.atleast_Nd first"
        )
    ax = one_axis(axis, ndims[0], "concat_with_broadcast")
    # each other dim's size: one a type fixes (other than 1), else the largest of the sizes
    # read at run time (1 or the common size: broadcast_to refuses any other)
    common: list[Any] = [1] * ndims[0]
    for d in range(ndims[0]):
        static = {v.type.shape[d] for v in vs} - {None, 1}
        if d == ax or static:
            common[d] = min(static, default=1)
            continue
        for v in vs:
            if v.type.shape[d] is None:
                size = dim_sizes(v)[d]
                common[d] = size if isinstance(common[d], int) else elemwise("maximum", common[d], size)
    return concatenate(
        [broadcast_to(v, common[:ax] + [dim_sizes(v)[ax]] + common[ax + 1 :]) for v in vs], axis=ax
    )


def stacklists(arg: Any) -> Variable:
    """PyTensor's ``stacklists``: nested lists of scalars or tensors stacked into one tensor
    (the nesting becomes the leading dims)."""
    if isinstance(arg, (list, tuple)):
        if not arg:
            raise ValueError("stacklists: a list is empty; give at least one element per level")
        return stack([stacklists(a) for a in arg])
    return as_tensor_variable(arg)


def _atleast(x: Any, ndim: int) -> Variable:
    v = as_tensor_variable(x)
    if v.ndim >= ndim:
        return v
    # numpy's placement: a vector is a row (in the middle for 3 dims), a matrix gains a last dim
    patterns = {0: ["x"] * ndim, 1: ["x", 0, "x"][:ndim], 2: [0, 1, "x"]}
    return dimshuffle(v, patterns[v.ndim])


def _atleast_many(arys: tuple, ndim: int, what: str, n: Any, left: Any) -> Any:
    """numpy's ``atleast_<ndim>d`` of each of ``arys``, or PyTensor's (:func:`atleast_Nd`)
    where ``n`` or ``left`` is given."""
    if not arys:
        raise TypeError(f"{what}: give at least one tensor")
    if n is None and left is None:
        out = [_atleast(a, ndim) for a in arys]
    else:
        n, left = ndim if n is None else n, True if left is None else flag(left, what, "left")
        out = [atleast_Nd(a, n=n, left=left) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys: Any, n: int | None = None, left: bool | None = None) -> Any:
    """numpy.atleast_1d: a 0-d tensor becomes shape (1,); one tensor in, one out, else a list.
    ``n`` and ``left`` as PyTensor's: :func:`atleast_Nd`."""
    return _atleast_many(arys, 1, "atleast_1d", n, left)


def atleast_2d(*arys: Any, n: int | None = None, left: bool | None = None) -> Any:
    """numpy.atleast_2d: 0-d -> (1, 1), (n,) -> (1, n); ``n`` and ``left`` as PyTensor's
    (:func:`atleast_Nd`)."""
    return _atleast_many(arys, 2, "atleast_2d", n, left)


def atleast_3d(*arys: Any, n: int | None = None, left: bool | None = None) -> Any:
    """numpy.atleast_3d: 0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1). Given ``n``
    or ``left``, PyTensor's :func:`atleast_Nd` (``left=True``: (n,) -> (1, 1, n), PyTensor's
    ``atleast_3d``)."""
    return _atleast_many(arys, 3, "atleast_3d", n, left)


def atleast_Nd(arry: Any, *, n: int = 1, left: bool = True) -> Variable:
    """PyTensor's ``atleast_Nd``: ``arry`` with size-1 dims added in front (``left``) or at
    the end until it has ``n`` dims."""
    n = int_arg(n, "atleast_Nd", "n", minimum=0, maximum=MAX_DIMS)
    v = as_tensor_variable(arry)
    pad = ["x"] * max(n - v.ndim, 0)
    return dimshuffle(v, pad + list(range(v.ndim)) if left else list(range(v.ndim)) + pad)


def horizontal_stack(*tensors: Any) -> Variable:
    """numpy.hstack (PyTensor's ``horizontal_stack``): joined along axis 1, or 0 for vectors."""
    if not tensors:
        raise ValueError("horizontal_stack: give at least one tensor")
    vs = [_atleast(t, 1) for t in tensors]
    return concatenate(vs, axis=0 if vs[0].ndim == 1 else 1)


def vertical_stack(*tensors: Any) -> Variable:
    """numpy.vstack (PyTensor's ``vertical_stack``): vectors as rows, joined along axis 0."""
    if not tensors:
        raise ValueError("vertical_stack: give at least one tensor")
    return concatenate([_atleast(t, 2) for t in tensors], axis=0)


def _stack_args(tup: Any, what: str) -> list:
    """numpy's stacking functions take one sequence of arrays (PyTensor's ``horizontal_stack``
    takes them as arguments)."""
    if isinstance(tup, Variable) or not isinstance(tup, (list, tuple)) or not tup:
        raise TypeError(f"{what}: give one non-empty list or tuple of tensors, got {tup!r}")
    return list(tup)


def hstack(tup: Sequence[Any]) -> Variable:
    """numpy.hstack: :func:`horizontal_stack` of the list ``tup``."""
    return horizontal_stack(*_stack_args(tup, "hstack"))


def vstack(tup: Sequence[Any]) -> Variable:
    """numpy.vstack: :func:`vertical_stack` of the list ``tup``."""
    return vertical_stack(*_stack_args(tup, "vstack"))


def dstack(tup: Sequence[Any]) -> Variable:
    """numpy.dstack: joined along axis 2, each made at least 3-d (a vector ``(n,)`` as ``(1, n,
    1)``, a matrix ``(m, n)`` as ``(m, n, 1)``)."""
    return concatenate([_atleast(t, 3) for t in _stack_args(tup, "dstack")], axis=2)


def column_stack(tup: Sequence[Any]) -> Variable:
    """numpy.column_stack: vectors as the columns of a matrix, matrices joined along axis 1."""
    vs = [as_tensor_variable(t) for t in _stack_args(tup, "column_stack")]
    return concatenate([dimshuffle(v, (0, "x")) if v.ndim == 1 else _atleast(v, 2) for v in vs], axis=1)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """numpy.flip: the order of the elements along ``axis`` (all axes when None) reversed."""
    v = as_tensor_variable(x)
    axes = range(v.ndim) if axis is None else ordered_axes(axis, v.ndim, "flip")
    index = [slice(None)] * v.ndim
    for a in axes:
        index[a] = slice(None, None, -1)
    return v[tuple(index)] if v.ndim else v


def fliplr(m: Any) -> Variable:
    """numpy.fliplr: the columns (axis 1) in reverse order; ``m`` has 2 dims or more."""
    v = as_tensor_variable(m)
    if v.ndim < 2:
        raise ValueError(f"fliplr: takes a tensor of 2 or more dims, got {v.type}; use ft.flip for a vector")
    return flip(v, 1)


def flipud(m: Any) -> Variable:
    """numpy.flipud: the rows (axis 0) in reverse order; ``m`` has 1 dim or more."""
    v = as_tensor_variable(m)
    if v.ndim < 1:
        raise ValueError(f"flipud: takes a tensor of 1 or more dims, got a 0-d {v.type}")
    return flip(v, 0)


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Variable:
    """numpy.rot90: rotated by 90 degrees ``k`` times in the plane of ``axes`` (from the first
    axis towards the second); a flip and a transpose."""
    v = as_tensor_variable(m)
    k = int_arg(k, "rot90", "k")
    if v.ndim < 2:
        raise ValueError(f"rot90: takes a tensor of 2 or more dims, got {v.type}")
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name 2 axes, got {axes!r}")
    a0, a1 = ordered_axes(axes, v.ndim, "rot90")
    k = int(k) % 4
    if k == 0:
        return v
    if k == 2:
        return flip(v, (a0, a1))
    order = list(range(v.ndim))
    order[a0], order[a1] = a1, a0
    # numpy's: once is transpose(flip(m, a1)); three times flip(transpose(m), a1)
    return transpose(flip(v, a1), order) if k == 1 else flip(transpose(v, order), a1)


def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Variable:
    """numpy.moveaxis: the axes ``source`` moved to the places ``destination``, the others in
    their order."""
    v = as_tensor_variable(a)
    src = ordered_axes(source, v.ndim, "moveaxis")
    dst = ordered_axes(destination, v.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: {len(src)} source axes {source!r} and {len(dst)} destinations "
            f"{destination!r}; give one destination per source axis"
        )
    order = [d for d in range(v.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(v, order)


def matrix_transpose(x: Any) -> Variable:
    """The transpose of the matrices on the last two dims (numpy's ``matrix_transpose``, the
    property ``x.mT``)."""
    v = as_tensor_variable(x)
    if v.ndim < 2:
        raise ValueError(f"matrix_transpose: takes a tensor of 2 or more dims, got {v.type}")
    return transpose(v, list(range(v.ndim - 2)) + [v.ndim - 1, v.ndim - 2])


def _common_sizes(vs: list[Variable]) -> list:
    """The sizes ``vs`` broadcast to together (ints where static): those of an int8 probe, the
    elementwise sum of zeros of each one's shape (sizes that do not broadcast raise ValueError)."""
    probe = vs[0].zeros_like(dtype="int8")
    for v in vs[1:]:
        probe = elemwise("add", probe, v.zeros_like(dtype="int8"))
    return [s if s is not None else shape(probe)[d] for d, s in enumerate(probe.type.shape)]


def broadcast_shape(*arrays: Any, arrays_are_shapes: bool = False) -> tuple:
    """PyTensor's ``broadcast_shape`` (numpy's ``broadcast_shapes`` with ``arrays_are_shapes``):
    the shape the arguments (tensors, or shapes: tuples of ints and int scalars) broadcast to,
    a tuple of ints where the sizes are static and int scalars elsewhere."""
    if not arrays:
        raise TypeError("broadcast_shape: give at least one tensor or shape")
    if arrays_are_shapes:
        vs = [alloc(constant(np.int8(0)), *(s if isinstance(s, (tuple, list)) else (s,))) for s in arrays]
    else:
        vs = [as_tensor_variable(a) for a in arrays]
    return tuple(_common_sizes(vs))


_PAD_MODES = (
    "constant",
    "edge",
    "linear_ramp",
    "maximum",
    "mean",
    "median",
    "minimum",
    "reflect",
    "symmetric",
    "wrap",
)
#: the statistic each statistic mode pads with, over ``stat_length`` entries at that end
_PAD_STATS = {"maximum": max_, "minimum": min_, "mean": mean, "median": median}
#: the keyword each mode takes beyond ``pad_width`` (numpy's)
_PAD_KEYWORDS = {
    "constant": "constant_values",
    "linear_ramp": "end_values",
    "reflect": "reflect_type",
    "symmetric": "reflect_type",
    **{m: "stat_length" for m in _PAD_STATS},
}


def _pad_widths(pad_width: Any, ndim: int) -> list[tuple[int | Variable, int | Variable]]:
    """numpy's spellings of ``pad_width``: an int, ``(before, after)``, or one pair per axis,
    each width an int or a symbolic int scalar (a Python int where known when the graph is
    built; else checked not negative when the function runs). A symbolic int vector is taken
    as numpy takes an array of its length: one width, a pair, or the pairs flattened."""
    if isinstance(pad_width, Variable) and pad_width.ndim > 0:
        v = as_tensor_variable(pad_width)
        n = v.type.shape
        if v.ndim > 2 or None in n:
            raise TypeError(
                f"pad: pad_width {pad_width!r} ({v.type}) must be an int scalar, or a vector or a "
                "matrix of static shape; give a pair per axis as a list of int scalars"
            )
        entries = np.empty(n, dtype=object)
        for idx in np.ndindex(*n):
            entries[idx] = v[idx]
        pad_width = entries
    if isinstance(pad_width, Variable):  # one symbolic width
        arr = np.empty((), dtype=object)
        arr[()] = pad_width
    else:
        arr = np.asarray(pad_width, dtype=object)
    flat = arr.ravel().tolist()
    if not flat or not all(as_int(p) is not None or isinstance(p, Variable) for p in flat):
        raise TypeError(
            f"pad: pad_width must be ints or int scalars (one, a pair, or a pair per axis), got {pad_width!r}"
        )
    if any(as_int(p) is not None and as_int(p) < 0 for p in flat):
        raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
    widths = [size_arg(p, "pad", "pad_width") for p in flat]
    return _per_axis(widths, arr.shape, ndim, "pad_width", pad_width)


def _per_axis(flat: list, arr_shape: tuple, ndim: int, what: str, given: Any) -> list[tuple[Any, Any]]:
    """numpy's broadcasting of one value, a ``(before, after)`` pair or a pair per axis to one
    pair per axis."""
    idx = np.arange(len(flat)).reshape(arr_shape)
    try:
        pairs = np.broadcast_to(idx, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: {what} {given!r} does not fit a tensor of {ndim} dims; give one value, a "
            f"(before, after) pair, or {ndim} pairs"
        ) from None
    return [(flat[b], flat[e]) for b, e in pairs]


def _pad_values(values: Any, ndim: int, what: str) -> list[tuple[Any, Any]]:
    """``constant_values``/``end_values``: one number or symbolic scalar, or numbers as a pair
    or a pair per axis."""
    if isinstance(values, Variable):
        if values.ndim != 0:
            raise TypeError(f"pad: {what} must be numbers or one symbolic scalar, got {values.type}")
        return [(values, values)] * ndim
    arr = np.asarray(values, dtype=object)
    flat = arr.ravel().tolist()
    if not flat or not all(isinstance(f, (int, float, np.number, bool)) for f in flat):
        raise TypeError(
            f"pad: {what} must be numbers (one, a pair, or a pair per axis) or one symbolic "
            f"scalar, got {values!r}"
        )
    return _per_axis(flat, arr.shape, ndim, what, values)


def _stat_lengths(stat_length: Any, ndim: int) -> list[tuple[int | None, int | None]]:
    """``stat_length``: None (the whole axis), or ints >= 1 as one, a pair or a pair per axis."""
    if stat_length is None:
        return [(None, None)] * ndim
    arr = np.asarray(stat_length, dtype=object)
    flat = arr.ravel().tolist()
    if not flat or not all(f is None or as_int(f) is not None for f in flat):
        raise TypeError(f"pad: stat_length must be ints or None, got {stat_length!r}")
    if any(f is not None and f < 1 for f in flat):
        raise ValueError(f"pad: stat_length must be at least 1, got {stat_length!r}")
    return _per_axis(flat, arr.shape, ndim, "stat_length", stat_length)


def pad(
    array: Any,
    pad_width: Any,
    mode: str = "constant",
    constant_values: Any = 0,
    *,
    stat_length: Any = None,
    end_values: Any = 0,
    reflect_type: str = "even",
) -> Variable:
    """numpy.pad with its modes: ``constant`` (``constant_values``: numbers as numpy takes
    them, or a symbolic scalar), ``edge``, ``linear_ramp`` (``end_values``), ``maximum``,
    ``minimum``, ``mean`` and ``median`` (over ``stat_length`` entries at each end; integer
    means rounded half to even, as numpy's), ``reflect`` and ``symmetric`` (``reflect_type``
    ``'even'`` or ``'odd'``) and ``wrap``. Padding longer than the axis repeats the reflection
    or the period, as numpy's; every mode but ``constant`` needs a non-empty axis to pad,
    checked when the function runs where the static shape does not tell."""
    v = as_tensor_variable(array)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; give one of {', '.join(_PAD_MODES)}")
    given = {
        "stat_length": stat_length is not None,
        "end_values": not (isinstance(end_values, (int, float)) and end_values == 0),
        "reflect_type": reflect_type != "even",
    }
    extra = [k for k, on in given.items() if on and _PAD_KEYWORDS.get(mode) != k]
    if extra:
        raise ValueError(f"pad: mode {mode!r} takes no {extra[0]}; give it to a mode that uses it")
    if reflect_type not in ("even", "odd"):
        raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {reflect_type!r}")
    widths = _pad_widths(pad_width, v.ndim)
    per_axis: list[tuple[Any, Any]] = [(None, None)] * v.ndim
    if mode in ("constant", "linear_ramp"):
        raw = constant_values if mode == "constant" else end_values
        per_axis = _pad_values(raw, v.ndim, _PAD_KEYWORDS[mode])
    elif mode in _PAD_STATS:
        per_axis = _stat_lengths(stat_length, v.ndim)
    out = v
    for ax, (before, after) in enumerate(widths):
        if isinstance(before, int) and isinstance(after, int) and not before and not after:
            continue
        if mode != "constant":
            length, n = out.type.shape[ax], shape(out)[ax]
            static = None if length is None else length >= 1
            if not (isinstance(before, int) and isinstance(after, int)):
                static = static or None  # symbolic widths may be 0: known when the function runs
            out = _checked(
                out,
                static,
                lambda n=n, b=before, a=after: _can_pad(n, b, a),
                f"pad: mode {mode!r} cannot pad the empty axis {ax}; use mode 'constant'",
            )
        pieces = [
            _pad_piece(out, ax, k, mode, per_axis[ax][at_end], reflect_type, at_end)
            for k, at_end in ((before, False), (after, True))
        ]
        out = concatenate([pieces[0], out, pieces[1]], axis=ax)
    return out


def _can_pad(n: Variable, before: int | Variable, after: int | Variable) -> Variable:
    """A mode other than ``constant`` pads an axis of ``n`` entries: it has one, or (symbolic
    widths) the widths are 0 and pad nothing, as numpy's."""
    some = elemwise("ge", n, 1)
    if isinstance(before, int) and isinstance(after, int):
        return some
    return elemwise("or_", some, elemwise("eq", elemwise("add", before, after), 0))


def _along_axis(vec: Variable, ax: int, ndim: int) -> Variable:
    """A vector laid along dim ``ax`` of an ``ndim``-dim tensor, to broadcast against it."""
    return dimshuffle(vec, ["x"] * ax + [0] + ["x"] * (ndim - 1 - ax))


def _pad_piece(
    v: Variable, ax: int, k: int | Variable, mode: str, arg: Any, reflect_type: str, at_end: bool
) -> Variable:
    """The ``k`` entries (an int, or a symbolic int scalar) added before (or, ``at_end``,
    after) ``v`` along ``ax``; ``arg`` is this end's constant, end value or statistic length."""
    dims = [shape(v)[d] if d != ax else k for d in range(v.ndim)]
    if isinstance(k, int) and k == 0:
        return _along(v, ax, slice(0, 0))
    if mode == "constant":
        fill = as_tensor_variable(arg)
        return alloc(fill if fill.dtype == v.dtype else cast(fill, v.dtype), *dims)
    edge = _along(v, ax, slice(-1, None) if at_end else slice(0, 1))
    if mode == "edge":
        return alloc(edge, *dims)
    if mode in _PAD_STATS:
        region = _along(v, ax, slice(None) if arg is None else slice(-arg, None) if at_end else slice(0, arg))
        stat = _PAD_STATS[mode](region, axis=ax, keepdims=True)
        if stat.dtype != v.dtype:  # an integer mean or median: numpy rounds it half to even
            stat = cast(elemwise("round", stat) if is_int(v.dtype) else stat, v.dtype)
        return alloc(stat, *dims)
    if mode == "linear_ramp":
        # numpy's linspace(end, edge, k, endpoint=False): t * ((edge - end) / k) + end, in
        # float64, floored for an integer dtype; the end after the array runs backwards
        t = arange(k - 1, -1, -1) if at_end else arange(k)
        end = cast(as_tensor_variable(arg), "float64")
        step = elemwise(
            "true_div",
            elemwise("sub", cast(edge, "float64"), end),
            # a symbolic k of 0 ramps nothing: dividing by 1 keeps the gradient of the edge finite
            float(k) if isinstance(k, int) else cast(elemwise("maximum", k, 1), "float64"),
        )
        ramp = elemwise("add", elemwise("mul", cast(_along_axis(t, ax, v.ndim), "float64"), step), end)
        if is_int(v.dtype) or v.dtype == "bool":
            ramp = elemwise("floor", ramp)
        return cast(ramp, v.dtype)
    return _periodic_piece(v, ax, k, mode, reflect_type == "odd", at_end)


def _periodic_piece(v: Variable, ax: int, k: int | Variable, mode: str, odd: bool, at_end: bool) -> Variable:
    """``wrap``, ``reflect`` and ``symmetric`` padding of any length: the positions ``i`` past
    the end read ``v`` at ``i`` modulo the period (``n``; ``2n - 2`` reflecting about the edge
    entry, ``2n`` about the edge itself), mirrored in the period's second half. An odd
    reflection is ``2 * edge - `` the even one on the mirrored halves, and each whole period
    further adds ``2 * (last - first)``, which is what numpy's repeated reflections give."""
    n = shape(v)[ax]
    n_len = v.type.shape[ax]
    simple = isinstance(k, int) and n_len is not None and k <= n_len - (mode == "reflect") and not odd
    if simple:  # one slice of the array (reversed for a reflection)
        if mode == "wrap":
            return _along(v, ax, slice(0, k) if at_end else slice(-k, None))
        skip = 1 if mode == "reflect" else 0  # reflect leaves the edge entry out, symmetric repeats it
        if at_end:
            return _along(v, ax, slice(-1 - skip, -1 - skip - k, -1))
        return _along(v, ax, slice(k - 1 + skip, skip - 1 if skip else None, -1))
    i = arange(n, elemwise("add", n, k)) if at_end else arange(-k, 0)
    if mode == "wrap":
        return take(v, elemwise("mod", i, n), axis=ax)
    period = elemwise("mul", 2, n)
    if mode == "reflect":  # a single entry reflects onto itself
        period = elemwise("maximum", elemwise("sub", period, 2), 1)
    r = elemwise("mod", i, period)
    mirrored = elemwise("ge", r, n)
    mirror = elemwise("sub", period, r)
    if mode == "symmetric":
        mirror = elemwise("sub", mirror, 1)
    piece = take(v, elemwise("switch", mirrored, mirror, r), axis=ax)
    if not odd:
        return piece
    first, last = _along(v, ax, slice(0, 1)), _along(v, ax, slice(-1, None))
    turns = _along_axis(elemwise("floor_div", elemwise("sub", i, r), period), ax, v.ndim)
    flipped = elemwise("sub", elemwise("mul", 2, last), piece)
    base = elemwise("switch", _along_axis(mirrored, ax, v.ndim), flipped, piece)
    shift = elemwise("mul", cast(turns, v.dtype), elemwise("mul", 2, elemwise("sub", last, first)))
    return elemwise("add", base, shift)


def append(arr: Any, values: Any, axis: int | None = None) -> Variable:
    """numpy.append: ``values`` joined after ``arr`` along ``axis``; without an axis both are
    flattened first."""
    a, v = as_tensor_variable(arr), as_tensor_variable(values)
    if axis is None:
        return concatenate([flatten(a), flatten(v)], axis=0)
    return concatenate([a, v], axis=axis)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Variable:
    """numpy.ediff1d: the differences of consecutive elements of the flattened ``ary``, with
    ``to_begin`` and ``to_end`` (numbers, sequences or tensors, flattened and cast to
    ``ary``'s dtype) before and after."""
    v = flatten(as_tensor_variable(ary))
    pieces = [v[1:] - v[:-1]]
    for extra, at_end in ((to_begin, False), (to_end, True)):
        if extra is None:
            continue
        e = flatten(as_tensor_variable(extra))
        if not np.can_cast(e.dtype, v.dtype, "same_kind"):
            raise TypeError(
                f"ediff1d: {'to_end' if at_end else 'to_begin'} of {e.type} cannot be cast to "
                f"{v.dtype} (numpy's same_kind rule); cast it first"
            )
        e = cast(e, v.dtype) if e.dtype != v.dtype else e
        pieces = [*pieces, e] if at_end else [e, *pieces]
    return concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]


def _dims_product(sizes: Sequence[Any]) -> Any:
    """The product of dim sizes (ints, symbolic int scalars): an int where all are known."""
    if all(as_int(s) is not None for s in sizes):
        return math.prod(as_int(s) for s in sizes)  # exact: an int64 product would wrap
    out: Any = constant(np.int64(1))
    for s in sizes:
        out = out * s
    return out


def join_dims(x: Any, start_axis: int = 0, n_axes: int | None = None) -> Variable:
    """PyTensor's ``join_dims``: the ``n_axes`` consecutive dims of ``x`` from ``start_axis``
    made one, of their product's size (all the dims from ``start_axis`` without ``n_axes``; a
    new size-1 dim there with ``n_axes=0``). A reshape: it keeps static sizes where it can."""
    v = as_tensor_variable(x)
    nd = v.ndim
    start_axis = int_arg(start_axis, "join_dims", "start_axis")
    start = start_axis + max(1, nd) if start_axis < 0 else start_axis
    if not 0 <= start <= nd:
        raise np.exceptions.AxisError(
            f"join_dims: start_axis {start_axis} is out of bounds for a tensor of ndim {nd}; give an "
            f"axis in [{-max(1, nd)}, {nd}]"
        )
    n = nd - start if n_axes is None else int_arg(n_axes, "join_dims", "n_axes", minimum=0)
    if start + n > nd:
        raise ValueError(
            f"join_dims: n_axes {n_axes!r} from axis {start} of a tensor of ndim {nd}; give an int "
            f"in [0, {nd - start}] (or None for all the dims from start_axis)"
        )
    sizes = dim_sizes(v)
    return reshape(
        v, [*sizes[:start], _dims_product(sizes[start : start + n]), *sizes[start + n :]], ndim=nd - n + 1
    )


def split_dims(x: Any, shape: Any, axis: int = 0) -> Variable:
    """PyTensor's ``split_dims``: dim ``axis`` of ``x`` made the dims ``shape`` (an int, a
    sequence of ints and symbolic int scalars, or a symbolic int vector of static length),
    whose product must be its size (checked when the graph is built where both are known,
    else by the reshape when the function runs); ``shape=()`` drops a size-1 dim."""
    v = as_tensor_variable(x)
    ax = _one_axis(v, axis, "split_dims")
    if isinstance(shape, (Constant, np.ndarray)):
        shape = [int(d) for d in np.asarray(getattr(shape, "data", shape)).reshape(-1)]
    if isinstance(shape, Variable) and shape.ndim == 1:
        k = shape.type.shape[0]
        if k is None:
            raise TypeError(
                f"split_dims: the shape {shape.type} has no static length; give a list of sizes or "
                "a vector of known length (ft.specify_shape)"
            )
        entries: list = [shape[i] for i in range(k)]
    else:
        entries = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    for e in entries:
        if as_int(e) is not None and as_int(e) < 0:
            raise ValueError(f"split_dims: the sizes {shape!r} must be non-negative; give the dims' sizes")
    # a symbolic size is checked not negative too: the reshape would take -1 as "the rest"
    entries = [size_arg(e, "split_dims", "each size") for e in entries]
    length, total = v.type.shape[ax], _dims_product(entries)
    if length is not None and isinstance(total, int) and total != length:
        raise ValueError(
            f"split_dims: the sizes {tuple(entries)} make {total} elements, not the {length} of axis {ax}; "
            "give sizes whose product is the axis's size"
        )
    sizes = dim_sizes(v)
    return reshape(v, [*sizes[:ax], *entries, *sizes[ax + 1 :]], ndim=v.ndim - 1 + len(entries))


def _kept_axes(keep_axes: Any, what: str) -> tuple[int, int]:
    """How many leading and trailing axes ``keep_axes`` keeps, by PyTensor's rules: ``None``
    none; positive axes contiguous from 0, then negative ones contiguous up to -1."""
    if keep_axes is None:
        return 0, 0
    axes = (keep_axes,) if known_int(keep_axes) is not None else keep_axes
    if not isinstance(axes, (tuple, list)) or not all(known_int(a) is not None for a in axes):
        raise TypeError(f"{what}: keep_axes must be an int, a sequence of ints or None, got {keep_axes!r}")
    axes = [known_int(a) for a in axes]
    if not axes:
        raise ValueError(f"{what}: keep_axes=() is ambiguous; give None to ravel every axis")
    before = [a for a in axes if a >= 0]
    after = axes[len(before) :]
    if (
        any(a >= 0 for a in after)
        or before != list(range(len(before)))
        or after != list(range(-len(after), 0))
    ):
        raise ValueError(
            f"{what}: keep_axes {keep_axes!r} must be contiguous axes from 0 (0, 1, ...) followed by "
            "contiguous negative axes up to -1 (..., -2, -1), each once; the axes between them are packed"
        )
    return len(before), len(after)


def pack(*tensors: Any, keep_axes: Any = None) -> tuple[Variable, list[Variable]]:
    """PyTensor's ``pack``: the tensors with their dims between the kept leading and trailing
    axes (``keep_axes``: None, an int, or axes from 0 and up to -1) raveled into one and
    concatenated along it (``keep_axes=None``: ``concatenate([t.ravel() for t in tensors])``),
    and each tensor's raveled dims' sizes (int64 vectors) for :func:`unpack`. The kept dims must
    agree in size, as for ``concatenate``."""
    if not tensors:
        raise ValueError("pack: give at least one tensor to pack")
    before, after = _kept_axes(keep_axes, "pack")
    joined, shapes = [], []
    for i, t in enumerate(tensors):
        v = as_tensor_variable(t)
        n = v.ndim - before - after
        if n < 0:
            raise ValueError(
                f"pack: tensor {i} ({v.type}) has {v.ndim} dims, fewer than the {before + after} kept "
                f"by keep_axes={keep_axes!r}; give tensors with as many dims or keep fewer axes"
            )
        shapes.append(as_shape_vector(dim_sizes(v)[before : before + n], "pack"))
        joined.append(join_dims(v, before, n))
    return concatenate(joined, axis=before), shapes


def unpack(packed_input: Any, packed_shapes: Sequence[Any], keep_axes: Any = None) -> list[Variable]:
    """PyTensor's ``unpack``, :func:`pack`'s inverse: ``packed_input`` split along its one axis
    not kept by ``keep_axes`` (the same as given to ``pack``) into pieces of the sizes
    ``packed_shapes`` (``pack``'s second result, or sequences of ints and symbolic int
    scalars), each piece's axis made those dims."""
    v = as_tensor_variable(packed_input)
    if keep_axes is None:
        if v.ndim != 1:
            raise ValueError(
                f"unpack: keep_axes=None unpacks a vector, got {v.type}; give the keep_axes given to pack"
            )
        ax = 0
    else:
        before, after = _kept_axes(keep_axes, "unpack")
        if v.ndim != before + after + 1:
            raise ValueError(
                f"unpack: keep_axes={keep_axes!r} keeps {before + after} axes of a {v.ndim}-d input; the "
                "packed input has exactly one more axis than it keeps"
            )
        ax = before
    if not isinstance(packed_shapes, (list, tuple)) or not packed_shapes:
        raise TypeError(f"unpack: packed_shapes must be a non-empty list of shapes, got {packed_shapes!r}")
    shapes = [as_shape_vector(s, "unpack") for s in packed_shapes]
    if len(shapes) == 1:
        pieces = [v]
    else:
        sizes = [
            _dims_product([int(d) for d in s.data]) if isinstance(s, Constant) else prod_(s) for s in shapes
        ]
        size_list = (
            sizes if all(isinstance(s, int) for s in sizes) else stack([cast(s, "int64") for s in sizes])
        )
        pieces = split(v, size_list, len(shapes), axis=ax)
    return [split_dims(p, s, ax) for p, s in zip(pieces, shapes)]
