"""numpy array functions: ``expand_dims squeeze specify_shape repeat tile outer inner tensordot cumsum
cumprod sort argsort``, ``matmul`` on stacks of matrices, ``vecdot matvec vecmat`` and ``cross``; Theano's broadcasting helpers
``shape_padleft shape_padright shape_padaxis addbroadcast`` (``specify_broadcastable``).

``expand_dims``, ``squeeze`` and ``outer`` are built from dimshuffles and elementwise ops, so they
compile to C and fuse. The others run numpy's own function in both linkers: sorting, scans,
repetition and numpy's BLAS-backed tensordot / matmul are already C loops, and a generated
kernel would buy nothing (2-D and 1-D ``matmul`` goes to :class:`Dot`, like ``dot``).
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import MAX_DIMS, TensorType, is_complex, is_int, normalize_dtype, shape_entries
from ..graph.types import use_shape_specifier
from ..graph.args import as_int, int_arg, sequence_arg
from .basic import as_tensor_variable
from .blas import Dot, dot_protocol
from .elemwise import cast, check_float64, elemwise
from .grad_ops import along_lanes
from .reduction import normalize_axes, one_axis, ordered_axes
from .pyop import check_value
from .reduction import all as all_
from .reduction import sum as sum_
from .shape_ops import (
    broadcast_checked,
    check_array_fits,
    dim_sizes,
    dimshuffle,
    flatten,
    sizes_checked,
    stack,
    static_int,
    with_new_axes,
)
from .size_args import size_arg

__all__ = [
    "Unbroadcast",
    "unbroadcast",
    "patternbroadcast",
    "diagonal",
    "trace",
    "SpecifyShape",
    "Repeat",
    "Tile",
    "TensorDot",
    "BroadcastTensorDot",
    "CumOp",
    "Sort",
    "MatMul",
    "specify_shape",
    "specify_broadcastable",
    "addbroadcast",
    "shape_padleft",
    "shape_padright",
    "shape_padaxis",
    "expand_dims",
    "squeeze",
    "repeat",
    "tile",
    "outer",
    "inner",
    "tensordot",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
    "matmul",
    "vecdot",
    "vdot",
    "matvec",
    "vecmat",
    "cross",
    "swap_last",
]


class SpecifyShape(Op):
    """Returns ``x``, declaring its static shape (``None`` = any size); checked at run time."""

    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape: Sequence[int | None]) -> None:
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def make_node(self, x: Variable) -> Apply:
        if x.ndim != len(self.shape):
            raise ValueError(
                f"specify_shape: {x!r} has {x.ndim} dims, the shape {self.shape} has {len(self.shape)}"
            )
        out = []
        for d, (have, want) in enumerate(zip(x.type.shape, self.shape)):
            if have is not None and want is not None and have != want:
                raise ValueError(f"specify_shape: dim {d} of {x!r} is {have}, not {want}")
            out.append(want if want is not None else have)
        return Apply(self, [x], [TensorType(x.dtype, tuple(out))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        if any(w is not None and w != s for s, w in zip(x.shape, self.shape)):
            raise ValueError(
                f"specify_shape: the value has shape {x.shape}, the graph "
                f"declares {self.shape} (None = any size)"
            )
        return [x]


def specify_shape(x: Any, shape: Any) -> Variable:
    """``x`` with its shape declared: one size per dim, each an int, a symbolic int scalar or
    ``None`` (any size), or a symbolic int vector of static length. Later ops see the sizes
    known when the graph is built (ints, constants, static sizes such as ``y.shape[0]``) as
    static sizes; a value of another shape raises ValueError when the function runs, a
    symbolic size checked against the value's size there too."""
    v = as_tensor_variable(x)
    if isinstance(shape, Constant) and shape.ndim == 1:
        shape = [int(s) for s in shape.data]  # a constant vector's entries (PyTensor takes one)
    elif isinstance(shape, Variable) and shape.ndim == 1:
        if shape.type.shape[0] is None or not is_int(shape.dtype):
            raise TypeError(
                f"specify_shape: shape {shape!r} ({shape.type}) must be an int vector of static "
                "length; give a list of sizes (ints, int scalars or None)"
            )
        shape = [shape[d] for d in range(shape.type.shape[0])]
    single = (
        shape is None
        or isinstance(shape, (bool, np.bool_))
        or as_int(shape) is not None
        or (isinstance(shape, Variable) and shape.ndim == 0)
    )
    shape = (shape,) if single else shape_entries(shape, "specify_shape")
    for s in shape:
        if s is not None and not isinstance(s, Variable) and as_int(s) is None:
            raise TypeError(
                f"specify_shape: each size must be an int, an int scalar or None, got {s!r} in {shape}"
            )
        if s is not None and not isinstance(s, Variable) and s < 0:
            raise ValueError(f"specify_shape: size {s} in {shape} is negative; give a size >= 0 or None")
    if v.ndim != len(shape):
        raise ValueError(f"specify_shape: {v!r} has {v.ndim} dims, the shape {shape} has {len(shape)}")
    sizes = [None if s is None else size_arg(s, "specify_shape", "a size", minimum=None) for s in shape]
    static = tuple(s if isinstance(s, int) else None for s in sizes)
    if static != v.type.shape:
        v = SpecifyShape(static)(v)
    symbolic = [(d, s) for d, s in enumerate(sizes) if isinstance(s, Variable)]
    if symbolic:
        have = stack([v.shape[d] for d, _ in symbolic])
        want = stack([s for _, s in symbolic])
        v = check_value(
            v,
            all_(elemwise("eq", have, want)),
            f"specify_shape: the value's sizes {{}} in dims {[d for d, _ in symbolic]} are not the "
            "declared sizes {}; give a value of the declared shape",
            have,
            want,
            removable=False,
        )
    return v


use_shape_specifier(specify_shape)


def specify_broadcastable(x: Any, *axes: int) -> Variable:
    """``x`` with ``axes`` declared of size 1 (broadcastable), checked when the function runs
    (PyTensor's name; Theano's is ``addbroadcast``)."""
    return _specify_broadcastable(x, axes, "specify_broadcastable")


def addbroadcast(x: Any, *axes: int) -> Variable:
    """Theano's ``addbroadcast``: :func:`specify_broadcastable`."""
    return _specify_broadcastable(x, axes, "addbroadcast")


def _specify_broadcastable(x: Any, axes: tuple, what: str) -> Variable:
    v = as_tensor_variable(x)
    ones = ordered_axes(axes, v.ndim, what)
    if not ones:
        return v
    return specify_shape(v, tuple(1 if d in ones else s for d, s in enumerate(v.type.shape)))


class Unbroadcast(Op):
    """Returns ``x`` with the static sizes of ``axes`` forgotten (declared unknown): nothing
    changes at run time, later ops just no longer know those dims are 1."""

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: Sequence[int]) -> None:
        self.axes = tuple(sorted(axes))

    def make_node(self, x: Variable) -> Apply:
        shape = tuple(None if d in self.axes else s for d, s in enumerate(x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0]]


def unbroadcast(x: Any, *axes: int) -> Variable:
    """Theano's ``unbroadcast``: ``x`` with ``axes`` no longer broadcastable (a static size 1
    declared unknown); axes not known to be 1 are left as they are."""
    v = as_tensor_variable(x)
    ones = [d for d in ordered_axes(axes, v.ndim, "unbroadcast") if v.type.shape[d] == 1]
    return Unbroadcast(ones)(v) if ones else v


def patternbroadcast(x: Any, pattern: Sequence[bool]) -> Variable:
    """Theano's ``patternbroadcast``: dims where ``pattern`` is True declared of size 1 (checked
    when the function runs, as :func:`specify_broadcastable`), dims where it is False no longer
    broadcastable (as :func:`unbroadcast`)."""
    v = as_tensor_variable(x)
    pattern = tuple(bool(b) for b in sequence_arg(pattern, "patternbroadcast", "pattern", "bools"))
    if len(pattern) != v.ndim:
        raise ValueError(
            f"patternbroadcast: the pattern {pattern} has {len(pattern)} entries, {v} has {v.ndim} dims"
        )
    for d, (b, s) in enumerate(zip(pattern, v.type.shape)):
        if b and s not in (None, 1):
            raise ValueError(
                f"patternbroadcast: dim {d} of {v} has static size {s}, it cannot be declared "
                "broadcastable (size 1); set its pattern entry to False"
            )
    ones = _specify_broadcastable(v, tuple(d for d, b in enumerate(pattern) if b), "patternbroadcast")
    return unbroadcast(ones, *[d for d, b in enumerate(pattern) if not b])


def shape_padleft(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable dims added in front (Theano's)."""
    v = as_tensor_variable(x)
    return dimshuffle(
        v,
        ["x"] * int_arg(n_ones, "shape_padleft", "n_ones", minimum=0, maximum=MAX_DIMS) + list(range(v.ndim)),
    )


def shape_padright(x: Any, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable dims added at the end (Theano's)."""
    v = as_tensor_variable(x)
    return dimshuffle(
        v,
        list(range(v.ndim))
        + ["x"] * int_arg(n_ones, "shape_padright", "n_ones", minimum=0, maximum=MAX_DIMS),
    )


def shape_padaxis(x: Any, axis: int) -> Variable:
    """``x`` with a broadcastable dim inserted at ``axis`` (Theano's; numpy's expand_dims)."""
    return expand_dims(x, one_axis(axis, as_tensor_variable(x).ndim + 1, "shape_padaxis"))


def expand_dims(x: Any, axis: int | Sequence[int]) -> Variable:
    """numpy.expand_dims: size-1 dims inserted at ``axis`` (positions in the result)."""
    v = as_tensor_variable(x)
    # a symbolic axis is one value, refused by normalize_axes naming expand_dims (iterating it
    # raised the generic error of a variable of unknown length)
    seq = isinstance(axis, (tuple, list)) or (isinstance(axis, np.ndarray) and axis.ndim == 1)
    axes = tuple(axis) if seq else (axis,)
    return with_new_axes(v, normalize_axes(axes, v.ndim + len(axes), "expand_dims"))


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """numpy.squeeze. Without ``axis`` the dims known to be 1 when the graph is built go
    (run-time sizes are not known then); a given ``axis`` of unknown size is checked to be 1
    when the function runs."""
    v = as_tensor_variable(x)
    if axis is None:
        axes = tuple(d for d, s in enumerate(v.type.shape) if s == 1)
    else:
        axes = normalize_axes(axis, v.ndim, "squeeze")
        for d in axes:
            if v.type.shape[d] not in (None, 1):
                raise ValueError(
                    f"squeeze: cannot select an axis to squeeze out which has size "
                    f"not equal to one (dim {d} of {v!r} has size {v.type.shape[d]})"
                )
        v = specify_shape(v, [1 if d in axes else s for d, s in enumerate(v.type.shape)])
    return dimshuffle(v, [d for d in range(v.ndim) if d not in axes])


def outer(a: Any, b: Any) -> Variable:
    """numpy.outer: the flattened ``a`` times the flattened ``b`` (an elementwise product of a
    column and a row, so it fuses with what follows)."""
    fa, fb = flatten(as_tensor_variable(a)), flatten(as_tensor_variable(b))
    return elemwise("mul", dimshuffle(fa, (0, "x")), dimshuffle(fb, ("x", 0)))


def inner(a: Any, b: Any) -> Variable:
    """numpy.inner: the sum of products over the last axes of ``a`` and ``b`` (``tensordot``
    over those axes: ``a``'s other dims, then ``b``'s); a 0-d operand multiplies elementwise."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    if va.ndim == 0 or vb.ndim == 0:
        return elemwise("mul", va, vb)
    msg = "inner: the last dims differ ({} and {}); give tensors whose last dims have one length"
    va = sizes_checked(va, dim_sizes(va)[-1], dim_sizes(vb)[-1], msg)
    return tensordot(va, vb, axes=([va.ndim - 1], [vb.ndim - 1]))


def _result_dtype(name: str, *vs: Variable) -> str:
    if all(v.dtype == "bool" for v in vs):
        return "bool"
    dt = normalize_dtype(np.result_type(*[np.dtype(v.dtype) for v in vs]), name)
    check_float64(name, [v.dtype for v in vs], dt)
    return dt


def _repeated_length(counts: np.ndarray, n: int | None) -> int | None:
    """The length ``repeat`` makes of ``n`` elements (None: unknown) by the known ``counts``, or
    None where it depends on ``n``: one count (a scalar, or numpy's single count broadcast to
    every element) makes ``n`` times it (0 for a count of 0, whatever ``n``); one count per
    element makes their sum."""
    if counts.size == 1:
        c = int(counts.reshape(-1)[0])
        return 0 if c == 0 else (None if n is None else n * c)
    if n is not None and counts.size != n:
        raise ValueError(
            f"repeat: {counts.size} repeats for {n} elements; give one count per element or a single one"
        )
    total = sum(counts.tolist())  # Python's ints: a sum in int64 could wrap
    return total if total <= np.iinfo(np.int64).max else None  # (too many: refused at run time)


class Repeat(Op):
    """numpy.repeat(x, repeats, axis) (``axis=None``: of the flattened ``x``)."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None) -> None:
        self.axis = axis

    def make_node(self, x: Variable, repeats: Variable) -> Apply:
        r = repeats.data if isinstance(repeats, Constant) else None
        if r is None and repeats.ndim == 0:
            known = static_int(repeats)  # a count read from a static size: x.shape[0]
            r = None if known is None else np.asarray(known)
        if r is not None and (r < 0).any():
            # a count known only once folded (x.shape[0] - 5) is refused as a constant one is
            raise ValueError(f"repeat: repeats must not be negative, got {r}")
        src = x.type.shape if self.axis is None else (x.type.shape[self.axis],)
        total = None if r is None else _repeated_length(r, None if None in src else int(np.prod(src)))
        if self.axis is None:
            shape: tuple = (total,)
        else:
            shape = x.type.shape[: self.axis] + (total,) + x.type.shape[self.axis + 1 :]
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, r = inputs
        self._check_total(x, r)
        try:
            return [np.repeat(x, r, axis=self.axis)]
        except ValueError as e:
            raise ValueError(
                f"repeat: {x.shape} with repeats of shape {r.shape} along axis {self.axis}: {e}"
            ) from None

    def _check_total(self, x: np.ndarray, r: np.ndarray) -> None:
        """The result's exact size fits an array (``check_array_fits``); counts numpy refuses
        itself (negative, not integers, a wrong number of them) are left to it."""
        counts = np.asarray(r).ravel()
        if counts.size == 0 or counts.dtype.kind not in "iu" or (counts < 0).any():
            return
        n = x.size if self.axis is None else x.shape[self.axis]
        if counts.size == 1:
            total = n * int(counts[0])
        elif int(counts.max()) * counts.size <= np.iinfo(np.int64).max:
            total = int(counts.sum())
        else:  # a sum in int64 could wrap: Python's ints
            total = sum(counts.tolist())
        shape = [total] if self.axis is None else [*x.shape[: self.axis], total, *x.shape[self.axis + 1 :]]
        check_array_fits(
            "repeat",
            shape,
            x.itemsize,
            f"the repeats (shape {r.shape}) of {x.shape} along axis {self.axis} add up to too many",
        )


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Variable:
    """numpy.repeat: ``repeats`` an int, an int vector (one per element along ``axis``) or a
    symbolic int scalar or vector."""
    v = as_tensor_variable(x)
    r = as_tensor_variable(repeats)
    if not is_int(r.dtype) or r.ndim > 1:
        raise TypeError(f"repeat: repeats must be an int or an int vector, got {r.type}")
    if isinstance(r, Constant) and (r.data < 0).any():
        raise ValueError(f"repeat: repeats must not be negative, got {r.data}")
    if r.type.shape == (1,):
        # numpy broadcasts a single count to every element: it is the scalar count
        r = r[0]
    # numpy repeats a 0-d x along its axis 0 (or -1) as the 1-element vector it flattens to
    ax = None if axis is None else one_axis(axis, max(v.ndim, 1), "repeat")
    return Repeat(None if v.ndim == 0 else ax)(v, r)


class Tile(Op):
    """numpy.tile(x, reps) for a tuple of ints."""

    __props__ = ("reps",)

    def __init__(self, reps: tuple[int, ...]) -> None:
        self.reps = tuple(reps)

    def make_node(self, x: Variable) -> Apply:
        nd = max(x.ndim, len(self.reps))
        xs = (1,) * (nd - x.ndim) + x.type.shape
        reps = (1,) * (nd - len(self.reps)) + self.reps
        shape = tuple(None if s is None else s * r for s, r in zip(xs, reps))
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        nd = max(x.ndim, len(self.reps))
        xs = (1,) * (nd - x.ndim) + x.shape
        reps = (1,) * (nd - len(self.reps)) + self.reps
        check_array_fits(
            "tile",
            [s * r for s, r in zip(xs, reps)],
            x.itemsize,
            f"reps {self.reps} for {x.shape} are too many",
        )
        return [np.tile(x, self.reps)]


def tile(x: Any, reps: Any) -> Variable:
    """numpy.tile. ``reps`` is an int, a sequence of ints or symbolic int scalars, or a symbolic
    int vector of known length (PyTensor's forms); all-constant ``reps`` compile to one tiling
    step, symbolic ones to ``x`` broadcast along a new dim before each of its own and
    reshaped."""
    v = as_tensor_variable(x)
    if isinstance(reps, Variable) and reps.ndim == 1:
        n = reps.type.shape[0]
        if n is None:
            raise ValueError(
                f"tile: reps is the symbolic vector {reps!r} of unknown length; declare its length"
                " (ft.specify_shape(reps, (k,))) or pass a list of scalars"
            )
        reps = [reps[i] for i in range(n)]
    if as_int(reps) is not None or not isinstance(reps, (tuple, list, np.ndarray)):
        reps = (reps,)
    reps = tuple(reps)
    ints = [as_int(r) for r in reps]
    if not all(n is not None or isinstance(r, Variable) for n, r in zip(ints, reps)):
        raise TypeError(f"tile: reps must be ints or symbolic int scalars, got {reps!r}")
    if None not in ints:
        if any(n < 0 for n in ints):
            raise ValueError(f"tile: reps must be non-negative, got {reps!r}")
        return Tile(tuple(ints))(v)
    reps_v = [as_tensor_variable(r) for r in reps]
    bad = [r for r in reps_v if r.ndim != 0 or not is_int(r.dtype)]
    if bad:
        raise TypeError(f"tile: reps must be ints or symbolic int scalars, got {bad[0]!r} ({bad[0].type})")
    from .creation import alloc
    from .shape_ops import MakeVector, reshape, shape

    # the repetitions checked as given (the broadcast below sees them between x's sizes)
    ok = functools.reduce(lambda a, b: elemwise("and_", a, b), [elemwise("ge", r, 0) for r in reps_v])
    msg = "tile: reps must be non-negative, got {}; give counts >= 0"
    v = check_value(v, ok, msg, MakeVector("tile")(*reps_v))
    nd = max(v.ndim, len(reps_v))
    v = dimshuffle(v, ["x"] * (nd - v.ndim) + list(range(v.ndim)))
    reps_v = [as_tensor_variable(1)] * (nd - len(reps_v)) + reps_v
    sizes = [shape(v)[d] for d in range(nd)]
    # (r0, s0, r1, s1, ...): each dim of x behind a new one of its repetitions, then merged
    spread = dimshuffle(v, [i for d in range(nd) for i in ("x", d)])
    full = alloc(spread, *[t for r, s in zip(reps_v, sizes) for t in (r, s)], what="tile")
    full.owner.tag["made_by"] = ("tile", "check reps: the result is x's sizes times reps")
    return reshape(full, [elemwise("mul", r, s) for r, s in zip(reps_v, sizes)], ndim=nd)


class TensorDot(Op):
    """numpy.tensordot(a, b, axes=(a_axes, b_axes)) (numpy's BLAS-backed product)."""

    __props__ = ("a_axes", "b_axes")

    def __init__(self, a_axes: tuple[int, ...], b_axes: tuple[int, ...]) -> None:
        self.a_axes = tuple(a_axes)
        self.b_axes = tuple(b_axes)

    def make_node(self, a: Variable, b: Variable) -> Apply:
        for da, db in zip(self.a_axes, self.b_axes):
            sa, sb = a.type.shape[da], b.type.shape[db]
            if sa is not None and sb is not None and sa != sb:
                raise ValueError(
                    f"tensordot: shape mismatch for sum: dim {da} of a is {sa}, dim {db} of b is {sb}"
                )
        shape = tuple(s for d, s in enumerate(a.type.shape) if d not in self.a_axes) + tuple(
            s for d, s in enumerate(b.type.shape) if d not in self.b_axes
        )
        return Apply(self, [a, b], [TensorType(_result_dtype("tensordot", a, b), shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        try:
            with np.errstate(all="ignore"):  # as the C kernels: IEEE results, no warnings
                res = np.tensordot(a, b, axes=(self.a_axes, self.b_axes))
        except ValueError as e:
            raise ValueError(
                f"tensordot: shapes {a.shape} and {b.shape} along axes {self.a_axes} and {self.b_axes}: {e}"
            ) from None
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


class BroadcastTensorDot(TensorDot):
    """numpy.einsum's contraction of two operands: `TensorDot` whose contracted dims broadcast
    a size 1 against the other operand's size, as einsum's do (numpy.tensordot refuses), for a
    size 1 known only at run time (a static one einsum drops first). The operand of the larger
    size is summed over that dim first: sum_j a_0 b_j = a_0 (sum_j b_j). Where the sizes agree
    the C run-time's tensordot step runs it as any `TensorDot`; otherwise it runs this perform.
    Its gradient is `TensorDot`'s summed back to each operand's shape."""

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        for da, db in zip(self.a_axes, self.b_axes):
            na, nb = a.shape[da], b.shape[db]
            if na == nb:
                continue
            if na != 1 and nb != 1:
                raise ValueError(
                    f"einsum: a contracted subscript has sizes {na} and {nb} (dim {da} of an operand "
                    f"of shape {a.shape}, dim {db} of one of shape {b.shape}); the sizes must agree "
                    "or one be 1"
                )
            if na == 1:
                b = np.add.reduce(b, axis=db, keepdims=True, dtype=b.dtype)
            else:
                a = np.add.reduce(a, axis=da, keepdims=True, dtype=a.dtype)
        return super().perform(node, [a, b])


def axes_count(axes: Any, what: str) -> int | None:
    """``axes`` given to ``what`` as a number of axes (an int, or a symbolic integer scalar known
    when the graph is built), or None where it is a pair of axis lists; a symbolic one that
    is neither raises ``TypeError`` saying why and what to give."""
    if not isinstance(axes, Variable):
        return as_int(axes)
    return int_arg(axes, what, "axes", fix="or a pair of axis lists: they decide the result's dims")


def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Variable:
    """numpy.tensordot: ``axes`` an int (the last n of a with the first n of b) or a pair of
    axis lists."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    n = axes_count(axes, "tensordot")
    if n is not None:
        if n < 0 or n > min(va.ndim, vb.ndim):
            raise ValueError(f"tensordot: axes={n} is out of range for ndims {va.ndim} and {vb.ndim}")
        aa, ba = tuple(range(va.ndim - n, va.ndim)), tuple(range(n))
    else:
        if not (isinstance(axes, (tuple, list)) and len(axes) == 2):
            raise TypeError(
                f"tensordot: axes must be an int (the last n axes of a with the first n of b) or a "
                f"pair (a_axes, b_axes), got {axes!r}"
            )
        aa_, ba_ = axes
        aa_ = tuple(aa_) if isinstance(aa_, (tuple, list)) else (aa_,)
        ba_ = tuple(ba_) if isinstance(ba_, (tuple, list)) else (ba_,)
        if len(aa_) != len(ba_):
            raise ValueError(f"tensordot: axes {aa_} and {ba_} differ in length")
        aa = ordered_axes(aa_, va.ndim, "tensordot")
        ba = ordered_axes(ba_, vb.ndim, "tensordot")
    return TensorDot(aa, ba)(va, vb)


def _along_shape(x: Variable, axis: int | None) -> tuple:
    """Static shape of an op that runs along ``axis`` and keeps its input's shape, or along the
    flattened input when ``axis`` is None (numpy's cumsum, sort, argsort)."""
    if axis is not None:
        return x.type.shape
    return (None if None in x.type.shape else int(np.prod(x.type.shape)),)


class CumOp(Op):
    """numpy.cumsum / cumprod along ``axis`` (``None``: of the flattened input)."""

    __props__ = ("kind", "axis")

    def __init__(self, kind: str, axis: int | None) -> None:
        self.kind = kind
        self.axis = axis

    def make_node(self, x: Variable) -> Apply:
        fn = np.cumsum if self.kind == "add" else np.cumprod
        dt = normalize_dtype(fn(np.ones(1, x.dtype)).dtype, self.kind)
        return Apply(self, [x], [TensorType(dt, _along_shape(x, self.axis))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        fn = np.cumsum if self.kind == "add" else np.cumprod
        with np.errstate(all="ignore"):
            res = fn(inputs[0], axis=self.axis)
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def _axis_or_none(x: Variable, axis: Any, what: str) -> int | None:
    return None if axis is None else one_axis(axis, x.ndim, what)


def cumsum(x: Any, axis: int | None = None) -> Variable:
    """numpy.cumsum (small integers and bool accumulate in int64, as numpy)."""
    v = as_tensor_variable(x)
    return CumOp("add", _axis_or_none(v, axis, "cumsum"))(v)


def cumprod(x: Any, axis: int | None = None) -> Variable:
    """numpy.cumprod (small integers and bool accumulate in int64, as numpy)."""
    v = as_tensor_variable(x)
    return CumOp("mul", _axis_or_none(v, axis, "cumprod"))(v)


class Sort(Op):
    """numpy.sort / argsort along ``axis`` (``None``: of the flattened input); NaN sorts last."""

    __props__ = ("kind", "axis")

    def __init__(self, kind: str, axis: int | None) -> None:
        self.kind = kind
        self.axis = axis

    def make_node(self, x: Variable) -> Apply:
        dt = "int64" if self.kind == "argsort" else x.dtype
        return Apply(self, [x], [TensorType(dt, _along_shape(x, self.axis))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(self._sorted(inputs[0], "quicksort"), dtype=node.outputs[0].dtype)]

    def _sorted(self, x: np.ndarray, kind: str) -> np.ndarray:
        fn = np.argsort if self.kind == "argsort" else np.sort
        if self.axis is None:
            return fn(x, axis=None, kind=kind)
        return along_lanes(lambda a, ax: fn(a, axis=ax, kind=kind), self.axis, x)


#: numpy's sorting algorithms; the values they give are the same, the order of ties in an
#: argsort is fixed only by the stable ones.
SORT_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _sort_kind(kind: Any, order: Any, stable: Any, what: str) -> str:
    """numpy's ``kind``/``stable`` pair as one kind (``stable=True`` is ``"stable"``,
    ``False`` numpy's default)."""
    if stable is not None:
        if kind is not None:
            raise ValueError(f"{what}: give kind or stable, not both (got kind={kind!r}, stable={stable!r})")
        if not isinstance(stable, (bool, np.bool_)):
            raise TypeError(f"{what}: stable must be True, False or None, got {stable!r}")
        kind = "stable" if stable else "quicksort"
    kind = "quicksort" if kind is None else kind
    if kind not in SORT_KINDS:
        raise ValueError(f"{what}: kind must be one of {SORT_KINDS} (numpy's), got {kind!r}")
    if order is not None:
        raise ValueError(f"{what}: order (the fields of a structured array) must be None, got {order!r}")
    return kind


class CheckAxis(Op):
    """``x``, checked when the function runs that the symbolic ``axis`` (its second input) is
    one of its ``ndim`` axes (a negative one counts from the end, as numpy's); one out of
    bounds raises ``ValueError`` naming ``what``."""

    __props__ = ("ndim", "what")
    view_map = {0: [0]}

    def __init__(self, ndim: int, what: str) -> None:
        self.ndim = int(ndim)
        self.what = what

    def make_node(self, x: Variable, axis: Variable) -> Apply:
        return Apply(self, [x, axis], [x.type])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a = int(inputs[1])
        if not -self.ndim <= a < self.ndim:
            raise np.exceptions.AxisError(
                f"{self.what}: axis {a} is out of bounds for a tensor of ndim {self.ndim}"
            )
        return [inputs[0]]


def _sorted_along(v: Variable, axis: Any, what: str, build: Any) -> Variable:
    """``build(v, axis)`` for a static axis (None, an int), or for the static axis a symbolic
    integer scalar names when the function runs: one branch per axis, only the one taken
    computed (a lazy ``ifelse``), so the result has the static type and gradient of each."""
    if v.ndim == 0 and axis is not None:
        raise ValueError(f"{what}: a 0-d tensor has no axis to sort along; give axis=None")
    if not isinstance(axis, Variable):
        return build(v, _axis_or_none(v, axis, what))
    if axis.ndim != 0 or not is_int(axis.dtype):
        raise TypeError(
            f"{what}: axis must be None, an int or a symbolic integer scalar, got {axis.type}; "
            "cast a float axis with ft.cast(axis, 'int64')"
        )
    from .ifelse import ifelse  # ifelse's module loads its op with the first call

    # every branch reads the checked x, so the check runs whichever is taken (one alone too)
    checked = CheckAxis(v.ndim, what)(v, axis)
    k = elemwise("mod", axis, v.ndim)
    out = build(checked, v.ndim - 1)
    for d in range(v.ndim - 2, -1, -1):
        out = ifelse(elemwise("eq", k, d), build(checked, d), out)
    return out


def sort(
    x: Any, axis: Any = -1, kind: str | None = None, order: Any = None, *, stable: bool | None = None
) -> Variable:
    """numpy.sort (ascending; NaN last) along ``axis`` (an int, None: the flattened input, or a
    symbolic integer scalar). Every ``kind`` (``stable``) gives the same values."""
    _sort_kind(kind, order, stable, "sort")
    return _sorted_along(as_tensor_variable(x), axis, "sort", lambda v, ax: Sort("sort", ax)(v))


class StableArgsort(Sort):
    """numpy.argsort with ``kind="stable"``: equal values keep their order (numpy's own
    algorithm, run as a Python step)."""

    def __init__(self, axis: int | None) -> None:
        super().__init__("argsort", axis)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(self._sorted(inputs[0], "stable"), dtype="int64")]


def argsort(
    x: Any, axis: Any = -1, kind: str | None = None, order: Any = None, *, stable: bool | None = None
) -> Variable:
    """numpy.argsort (int64 indices) along ``axis`` (an int, None: the flattened input, or a
    symbolic integer scalar). ``kind="quicksort"`` (the default) is numpy's default algorithm,
    so ties come out as numpy's; ``"stable"`` and ``"mergesort"`` (``stable=True``) keep equal
    values in their order."""
    kind = _sort_kind(kind, order, stable, "argsort")
    op = StableArgsort if kind in ("stable", "mergesort") else lambda ax: Sort("argsort", ax)
    return _sorted_along(as_tensor_variable(x), axis, "argsort", lambda v, ax: op(ax)(v))


class MatMul(Op):
    """numpy.matmul for operands with more than 2 dims: stacks of matrices, with the leading
    (batch) dims broadcast."""

    def make_node(self, a: Variable, b: Variable) -> Apply:
        ka = a.type.shape[-1]
        kb = b.type.shape[-2] if b.ndim > 1 else b.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"matmul: shapes {a.type.shape} and {b.type.shape} are not aligned: {ka} != {kb}"
            )
        from .elemwise import broadcast_static_shape

        batch = broadcast_static_shape([a.type.shape[:-2], b.type.shape[:-2]], "matmul")
        shape = (
            batch + (a.type.shape[-2:-1] if a.ndim > 1 else ()) + (b.type.shape[-1:] if b.ndim > 1 else ())
        )
        return Apply(self, [a, b], [TensorType(_result_dtype("matmul", a, b), shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = inputs
        try:
            with np.errstate(all="ignore"):
                res = np.matmul(a, b)
        except ValueError as e:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape}: {e}") from None
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def swap_last(v: Variable) -> Variable:
    """``v`` with its last two dims swapped: the transpose of each matrix of a stack."""
    return dimshuffle(v, list(range(v.ndim - 2)) + [v.ndim - 1, v.ndim - 2])


def conj_swap_last(v: Variable) -> Variable:
    """The conjugate transpose of each matrix of a stack (`swap_last` of a real one)."""
    t = swap_last(v)
    return elemwise("conj", t) if is_complex(v.dtype) else t


def _astype(out: Variable, dtype: Any, what: str) -> Variable:
    """PyTensor's ``dtype=`` of the products: the result cast to it (None keeps its own)."""
    return out if dtype is None else cast(out, normalize_dtype(dtype, f"{what}: dtype"))


def matmul(a: Any, b: Any, dtype: Any = None) -> Variable:
    """numpy.matmul (``a @ b``): 1-D and 2-D operands as ``dot`` (BLAS in C), stacks of
    matrices (3 or more dims) batched, the batch dims broadcast; a sparse operand makes
    ``fncache.sparse.dot``. ``dtype`` (PyTensor's) casts the product to it."""
    return _astype(_matmul(a, b), dtype, "matmul")


def _matmul(a: Any, b: Any) -> Variable:
    other = dot_protocol(a, b)
    if other is not None:
        return other
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    for k, v in enumerate((va, vb)):
        if v.ndim == 0:
            raise ValueError(
                f"matmul: input operand {k} ({v!r}) has ndim 0, and @ needs at "
                "least 1 dim; multiply by a scalar with * instead"
            )
    if va.ndim <= 2 and vb.ndim <= 2:
        # static sizes that differ are refused naming matmul (the Dot op names dot)
        ka, kb = va.type.shape[-1], vb.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"matmul: shapes {va.type.shape} and {vb.type.shape} are not aligned: {ka} (dim "
                f"{va.ndim - 1}) != {kb} (dim 0); give b as many rows as a has columns"
            )
        return Dot()(va, vb)
    return MatMul()(va, vb)


def vecdot(x1: Any, x2: Any, dtype: Any = None, *, axis: int = -1) -> Variable:
    """numpy.vecdot (PyTensor's): the dot products of the vectors along ``axis`` of ``x1`` and
    ``x2``, their other dims broadcast (a fused product and a sum; ``x1`` conjugated).
    ``dtype`` (PyTensor's) casts the result to it."""
    va, vb = as_tensor_variable(x1), as_tensor_variable(x2)
    for k, v in enumerate((va, vb)):
        if v.ndim == 0:
            raise ValueError(f"vecdot: operand {k} is 0-d ({v.type}); give vectors or stacks of them")
    # numpy's axis is each operand's own (a gufunc's core dim): moved last, the rest broadcast
    va, vb = (_moved_last(v, one_axis(axis, v.ndim, "vecdot")) for v in (va, vb))
    sa, sb = dim_sizes(va), dim_sizes(vb)
    # numpy's vectors have one length: a length 1 does not broadcast (the product would)
    msg = f"vecdot: the vectors along axis {axis} have lengths {{}} and {{}}; give vectors of one length"
    vb = broadcast_checked(sizes_checked(vb, sa[-1], sb[-1], msg), sa[:-1], sb[:-1], "vecdot", "of x1 and x2")
    prod = elemwise("mul", elemwise("conj", va) if is_complex(va.dtype) else va, vb)
    return _astype(sum_(prod, axis=prod.ndim - 1, dtype=prod.dtype), dtype, "vecdot")


def vdot(a: Any, b: Any) -> Variable:
    """numpy.vdot: the dot product of ``a`` and ``b`` flattened (any shapes of one size), ``a``
    conjugated where complex; a 0-d result of numpy's dtype. A ``dot`` of two vectors, so it
    compiles to BLAS and differentiates as ``dot``."""
    fa, fb = (flatten(as_tensor_variable(v)) for v in (a, b))
    msg = "vdot: a has {} elements and b {}; vdot flattens both: give arrays of one size"
    fb = sizes_checked(fb, dim_sizes(fa)[0], dim_sizes(fb)[0], msg)
    return Dot()(elemwise("conj", fa) if is_complex(fa.dtype) else fa, fb)


def _moved_last(v: Variable, axis: int) -> Variable:
    """``v`` with its dim ``axis`` moved last (a view)."""
    return v if axis == v.ndim - 1 else dimshuffle(v, [d for d in range(v.ndim) if d != axis] + [axis])


def _product_checked(
    what: str, va: Variable, vb: Variable, summed: tuple[int, int], names: str, cores: tuple[int, int]
) -> Variable:
    """``vb``, checked that the dims ``summed`` of ``va`` and ``vb`` have one size and that their
    stacks (all but the last ``cores`` dims of each) broadcast, so that a mismatch names
    ``what`` rather than the ``matmul`` it is built on."""
    sa, sb = dim_sizes(va), dim_sizes(vb)
    msg = f"{what}: the lengths of {names} differ ({{}} and {{}}); give operands whose summed dims match"
    vb = sizes_checked(vb, sa[summed[0]], sb[summed[1]], msg)
    return broadcast_checked(vb, sa[: va.ndim - cores[0]], sb[: vb.ndim - cores[1]], what, "of x1 and x2")


def matvec(x1: Any, x2: Any, dtype: Any = None) -> Variable:
    """numpy.matvec (PyTensor's): the matrices of ``x1`` (last two dims) times the vectors of
    ``x2`` (last dim), the stacks broadcast (``matmul`` with a column); ``dtype`` as
    :func:`matmul`'s."""
    va, vb = as_tensor_variable(x1), as_tensor_variable(x2)
    if va.ndim < 2 or vb.ndim < 1:
        raise ValueError(f"matvec: takes matrices and vectors (or stacks), got {va.type} and {vb.type}")
    vb = _product_checked("matvec", va, vb, (-1, -1), "x1's columns and x2's vectors", (2, 1))
    return _astype(squeeze(matmul(va, expand_dims(vb, -1)), -1), dtype, "matvec")


def vecmat(x1: Any, x2: Any, dtype: Any = None) -> Variable:
    """numpy.vecmat (PyTensor's): the vectors of ``x1`` (conjugated) times the matrices of
    ``x2``, the stacks broadcast (``matmul`` with a row); ``dtype`` as :func:`matmul`'s."""
    va, vb = as_tensor_variable(x1), as_tensor_variable(x2)
    if va.ndim < 1 or vb.ndim < 2:
        raise ValueError(f"vecmat: takes vectors and matrices (or stacks), got {va.type} and {vb.type}")
    vb = _product_checked("vecmat", va, vb, (-1, -2), "x1's vectors and x2's rows", (1, 2))
    va = elemwise("conj", va) if is_complex(va.dtype) else va
    return _astype(squeeze(matmul(expand_dims(va, -2), vb), -2), dtype, "vecmat")


def cross(a: Any, b: Any, axis: int = -1) -> Variable:
    """numpy.cross of 3-vectors along ``axis`` of ``a`` and ``b`` (their other dims broadcast),
    the result's vectors along that axis too: elementwise products and differences, stacked."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    lasts = []
    for name, v in (("a", va), ("b", vb)):
        if v.ndim == 0:
            raise ValueError(f"cross: {name} must hold 3-vectors, got a 0-d {v.type}")
        ax = one_axis(axis, v.ndim, "cross")
        # a length known only at run time is checked too: 4-vectors would give their first 3's
        msg = (
            f"cross: {name} {v.type} has {{}} components along axis {axis} where a cross product "
            "takes {}; give 3-vectors (numpy's 2-vectors are deprecated)"
        )
        lasts.append(_moved_last(sizes_checked(v, dim_sizes(v)[ax], 3, msg), ax))
    va, vb = lasts
    vb = broadcast_checked(vb, dim_sizes(va)[:-1], dim_sizes(vb)[:-1], "cross", "of a and b")
    (a0, a1, a2), (b0, b1, b2) = ([v[..., k] for k in range(3)] for v in (va, vb))
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return _last_to(out, axis)


def _last_to(v: Variable, axis: int) -> Variable:
    """``v`` with its last axis moved to ``axis``."""
    ax = one_axis(axis, v.ndim, "cross")
    order = list(range(v.ndim - 1))
    order.insert(ax, v.ndim - 1)
    return dimshuffle(v, order)


def diagonal(x: Any, offset: Any = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """numpy.diagonal: the ``offset`` diagonal (above the main one when positive, below when
    negative; an int or a symbolic int scalar) of the matrices on the dims ``axis1``,
    ``axis2``, as the last dim of the result (the other dims in order before it). A strided
    slice of those matrices flattened, so it compiles and differentiates as indexing does."""
    v = as_tensor_variable(x)
    if v.ndim < 2:
        raise ValueError(f"diagonal: takes a tensor of 2 or more dims, got {v.type}")
    k = size_arg(offset, "diagonal", "offset", minimum=None)
    a1, a2 = ordered_axes((axis1, axis2), v.ndim, "diagonal")
    rest = [d for d in range(v.ndim) if d not in (a1, a2)]
    if rest or (a1, a2) != (0, 1):
        v = dimshuffle(v, rest + [a1, a2])
    n, m = dim_sizes(v)[-2:]
    if isinstance(n, int) and isinstance(m, int) and isinstance(k, int):
        # the matrices' static sizes: a constant slice, whose length is the result's static size
        start, length = (k, min(n, m - k)) if k >= 0 else (-k * m, min(n + k, m))
        length = max(length, 0)
    elif isinstance(k, int):
        if k >= 0:
            start, length = k, elemwise("minimum", n, m - k)
        else:
            start, length = -k * m, elemwise("minimum", n + k, m)
        length = elemwise("maximum", length, 0)
    else:
        # the diagonal starts on the first row (k >= 0) or the first column, as numpy's
        above = elemwise("ge", k, 0)
        start = elemwise("switch", above, k, -k * m)
        length = elemwise("switch", above, elemwise("minimum", n, m - k), elemwise("minimum", n + k, m))
        length = elemwise("maximum", length, 0)
    flat = flatten(v, v.ndim - 1)
    return flat[(slice(None),) * len(rest) + (slice(start, start + length * (m + 1), m + 1),)]


def trace(x: Any, offset: Any = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """numpy.trace: the sum of the ``offset`` diagonal (an int or a symbolic int scalar) on the
    dims ``axis1``, ``axis2`` (numpy's sum dtype)."""
    from .reduction import sum as sum_

    v = as_tensor_variable(x)
    if v.ndim >= 2:  # axes out of range named as trace's, not diagonal's (which refuses fewer dims)
        ordered_axes((axis1, axis2), v.ndim, "trace")
    return sum_(diagonal(v, offset, axis1, axis2), axis=-1)
