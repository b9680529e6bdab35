"""Shape ops: DimShuffle (transpose / add or drop broadcastable axes), Shape, Reshape,
MakeVector, Concatenate; and the front-end helpers built on them."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import MAX_DIMS, TensorType, is_int
from ..graph.args import as_int, int_arg, op_at_entry, sequence_arg, use_known_int
from .basic import as_tensor_variable, constant
from .reduction import axis_index, one_axis, ordered_axes
from .subtensor import Subtensor

__all__ = [
    "DimShuffle",
    "dim_read",
    "Shape",
    "Reshape",
    "MakeVector",
    "Concatenate",
    "dimshuffle",
    "transpose",
    "shape",
    "dim_sizes",
    "reshape",
    "flatten",
    "concatenate",
    "stack",
    "as_shape_vector",
    "check_array_fits",
]


class DimShuffle(Op):
    """Theano's dimshuffle: ``new_order`` (kept as ``pattern``) lists the dims of an input of
    ``input_ndim`` dims (``in_ndim``) in their new order, ``'x'`` inserts a broadcastable dim,
    and input dims left out must be broadcastable (they are dropped). Always a view of its
    input."""

    __props__ = ("in_ndim", "pattern")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int | Sequence[bool], new_order: Sequence[Any]) -> None:
        # PyTensor's argument names (``DimShuffle(input_ndim=2, new_order=[1, 0])``); Theano's
        # first argument was the input's broadcast pattern (``DimShuffle((False, False), [1, 0])``)
        if not isinstance(input_ndim, (int, np.integer)):
            input_ndim = len(input_ndim)
        self.in_ndim = int(input_ndim)
        self.pattern = checked_pattern(new_order, self.in_ndim)
        kept = [p for p in self.pattern if p != "x"]
        self.dropped = tuple(d for d in range(self.in_ndim) if d not in kept)
        self.perm = tuple(kept) + self.dropped

    @property
    def input_ndim(self) -> int:
        """PyTensor's name of ``in_ndim``."""
        return self.in_ndim

    @property
    def new_order(self) -> tuple:
        """PyTensor's name of ``pattern``."""
        return self.pattern

    def make_node(self, x: Variable) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != self.in_ndim:
            raise TypeError(
                f"DimShuffle(input_ndim={self.in_ndim}, new_order={list(self.pattern)}) was given "
                f"{x!r} of ndim {x.ndim}: make the op for that ndim (or use x.dimshuffle(...))"
            )
        for d in self.dropped:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"dimshuffle{self.pattern}: input dim {d} of {x!r} (type {x.type}) is not "
                    "broadcastable, so it cannot be dropped; keep it in the pattern"
                )
        shape = tuple(1 if p == "x" else x.type.shape[p] for p in self.pattern)
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        for d in self.dropped:
            if x.shape[d] != 1:
                raise ValueError(
                    f"{self}: dim {d} has size {x.shape[d]} at run time but was "
                    "declared broadcastable (size 1)"
                )
        y = np.transpose(x, self.perm)
        shape = [1 if p == "x" else x.shape[p] for p in self.pattern]
        return [y.reshape(shape)]


def checked_pattern(pattern: Sequence[Any], ndim: int) -> tuple:
    """``pattern`` as a dimshuffle's tuple of input dims and ``'x'``, checked against ``ndim``."""
    bad = [p for p in pattern if not (isinstance(p, str) and p == "x" or known_int(p) is not None)]
    if bad:
        raise TypeError(
            f"dimshuffle{tuple(pattern)}: each entry is an input dim (an int) or 'x' (a new dim of "
            f"size 1), got {bad[0]!r}"
        )
    pat = tuple("x" if isinstance(p, str) else known_int(p) for p in pattern)
    kept = [p for p in pat if p != "x"]
    if len(set(kept)) != len(kept) or any(not 0 <= p < ndim for p in kept):
        raise ValueError(
            f"dimshuffle{tuple(pattern)}: invalid pattern for a tensor of ndim {ndim}; "
            "each input dim may appear at most once, 'x' adds a dim"
        )
    return pat


def dimshuffle(x: Any, pattern: Sequence[Any]) -> Variable:
    """``x`` with its dims reordered by ``pattern`` (Theano's and PyTensor's ``dimshuffle``).
    A dim left out is dropped: as in PyTensor, one of a size unknown until the function runs
    is declared 1 (``specify_shape``, checked when it runs: a squeeze); one of a static size
    other than 1 is refused now."""
    v = as_tensor_variable(x)
    pat = checked_pattern(pattern, v.ndim)
    if pat == tuple(range(v.ndim)):
        return v
    unknown = [d for d in range(v.ndim) if d not in pat and v.type.shape[d] is None]
    if unknown and TensorType.shape_specifier is not None:
        v = TensorType.shape_specifier(v, tuple(1 if d in unknown else None for d in range(v.ndim)))
    return DimShuffle(v.ndim, pat)(v)


def with_new_axes(x: Variable, axes: Sequence[int]) -> Variable:
    """``x`` with size-1 dims at ``axes`` (distinct positions in the result), its own dims
    following in order between them."""
    own = iter(range(x.ndim))
    return dimshuffle(x, ["x" if d in axes else next(own) for d in range(x.ndim + len(axes))])


def transpose(x: Any, axes: Sequence[int] | None = None) -> Variable:
    v = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(v.ndim)))
    axes = ordered_axes(axes, v.ndim, "transpose")
    if sorted(axes) != list(range(v.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {v.ndim} dims")
    out = dimshuffle(v, axes)
    if v.name and out is not v and list(axes) == list(reversed(range(v.ndim))):
        out.name = f"{v.name}.T"  # PyTensor's name of a full transpose (graphs print it)
    return out


class Shape(Op):
    """The run-time shape of a tensor, as an int64 vector."""

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType("int64", (x.ndim,))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(inputs[0].shape, dtype="int64")]


def dim_read(v: Variable) -> tuple[Variable, int] | None:
    """``(x, k)`` where ``v`` is ``x.shape[k]`` with ``k`` a constant (made non-negative), else
    None."""
    node = v.owner
    if node is None or not isinstance(node.op, Subtensor) or len(node.op.idx) != 1:
        return None
    entry = node.op.idx[0]  # ("i", index) for an integer index; a slice's entry is longer
    at = entry[1] if entry[0] == "i" else None
    sh = node.inputs[0].owner
    if at is None or at[0] != "c" or sh is None or not isinstance(sh.op, Shape):
        return None
    x = sh.inputs[0]
    return (x, at[1] % x.ndim) if -x.ndim <= at[1] < x.ndim else None


def shape(x: Any) -> Variable:
    v = as_tensor_variable(x)
    if isinstance(v, Constant):
        return constant(np.asarray(v.data.shape, dtype="int64"))
    if v.ndim == 0:
        # the empty shape of a 0-d tensor reads nothing (ft.ones(s.shape) needs no input s);
        # other static sizes stay a Shape of x (its static type tells alloc and reshape the
        # sizes), so a function of x.shape alone still takes x
        return constant(np.zeros(0, dtype="int64"))
    return Shape()(v)


def dim_sizes(x: Variable) -> list:
    """``x``'s dim sizes: ints where the type knows them, else read from its shape."""
    return [s if s is not None else shape(x)[d] for d, s in enumerate(x.type.shape)]


class MakeVector(Op):
    """Build an int64 vector from int scalars (the symbolic shape given to ``what``)."""

    __props__ = ("what",)

    def __init__(self, what: str = "shape") -> None:
        self.what = what

    def __str__(self) -> str:
        return "MakeVector"  # ``what`` only words its error messages

    def make_node(self, *xs: Variable) -> Apply:
        return Apply(self, xs, [TensorType("int64", (len(xs),))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        sizes = [int(i) for i in inputs]
        for k, n in enumerate(sizes):
            if not _INT64_MIN <= n <= _INT64_MAX:
                # A uint64 entry this large is no size; numpy would fail to convert it.
                raise ValueError(f"{self.what}: shape entry {k} is {n}, beyond the largest size (2**63 - 1)")
        return [np.asarray(sizes, dtype="int64")]


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def check_array_fits(what: str, shape: Sequence[int], itemsize: int, fix: str) -> None:
    """Raise ValueError where an array of ``shape`` (exact Python ints) and ``itemsize`` cannot
    exist: its byte count passes the largest npy_intp. numpy's repeat (and tile, which calls it)
    adds sizes without an overflow check: a total that wraps gets a small array written far past
    its end, so the sizes that reach it are checked here first."""
    count = 1
    for n in shape:
        count *= int(n)  # a numpy integer's product would wrap
    if count * max(itemsize, 1) > _INT64_MAX:
        raise ValueError(
            f"{what}: the result would have shape {tuple(shape)} ({count} elements of {itemsize} "
            f"bytes), more than an array can hold; {fix}"
        )


def sizes_checked(x: Variable, a: Any, b: Any, msg: str, *, broadcast: bool = False) -> Variable:
    """``x``, where the sizes ``a`` and ``b`` (ints where static, else symbolic int scalars, as
    `dim_sizes` gives them) must be equal, or with ``broadcast`` one of them 1: static ones that
    are not raise ``ValueError`` now, others are checked when the function runs. ``msg``, whose
    two ``{}`` are the sizes, names the function the user called and the fix: a front end
    built on another op (``batched_dot`` on ``matmul``) checks here so that its error is not
    that op's."""
    from .elemwise import elemwise
    from .pyop import check_value

    if isinstance(a, int) and isinstance(b, int):
        if a != b and not (broadcast and 1 in (a, b)):
            raise ValueError(msg.format(a, b))
        return x
    ok = elemwise("eq", a, b)
    if broadcast:
        ok = elemwise("or_", ok, elemwise("or_", elemwise("eq", a, 1), elemwise("eq", b, 1)))
    return check_value(x, ok, msg, a, b)


def broadcast_checked(x: Variable, sa: Sequence[Any], sb: Sequence[Any], what: str, names: str) -> Variable:
    """``x``, where the stack sizes ``sa`` and ``sb`` (as `dim_sizes` gives them) must broadcast
    as numpy's, aligned from the last: `sizes_checked` of each pair, ``names`` ("of x1 and
    x2") saying whose they are in ``what``'s error."""
    for k, (na, nb) in enumerate(zip(reversed(sa), reversed(sb))):
        x = sizes_checked(
            x,
            na,
            nb,
            f"{what}: the stack dims {names} do not broadcast: sizes {{}} and {{}} at dim {-1 - k} "
            "of the stacks; give sizes that are equal or 1",
            broadcast=True,
        )
    return x


def constant_entries(shp: Variable) -> tuple[int | None, ...] | None:
    """The entries of a shape vector known when the graph is built (None where an entry is
    symbolic), or None where not even its length is known."""
    if isinstance(shp, Constant):
        return tuple(int(s) for s in shp.data)
    if shp.owner is not None and isinstance(shp.owner.op, Shape):
        return tuple(shp.owner.inputs[0].type.shape)
    if shp.owner is not None and isinstance(shp.owner.op, MakeVector):
        return tuple(static_int(i) for i in shp.owner.inputs)
    if shp.owner is not None and isinstance(shp.owner.op, Subtensor):
        # a constant slice of a shape vector: x.shape[1:], x.shape[::-1]
        idx, whole = shp.owner.op.idx, constant_entries(shp.owner.inputs[0])
        if (
            whole is not None
            and len(idx) == 1
            and idx[0][0] == "s"
            and all(r is None or r[0] == "c" for r in idx[0][1:])
        ):
            return whole[slice(*[None if r is None else r[1] for r in idx[0][1:]])]
    return None


def static_int(v: Variable) -> int | None:
    """The int a symbolic int scalar is known to be when the graph is built (a constant, a
    static size ``x.shape[0]``, or arithmetic on those such as ``x.shape[0] - 1``), else None.
    Ops take it as a static size or a constant bound: the declared sizes it reads are checked
    when the function runs."""
    from .constant_value import NotScalarConstantError, get_underlying_scalar_constant_value

    if isinstance(v, Constant):
        data = v.data
    elif v.owner is None:
        return None
    else:
        try:
            data = get_underlying_scalar_constant_value(v)
        except NotScalarConstantError:
            return None
    return int(data) if _INT64_MIN <= int(data) <= _INT64_MAX else None


def known_int(value: Any) -> int | None:
    """``value`` as a Python int where it is known when the graph is built: numpy's ints
    (``as_int``), or the `static_int` of a symbolic integer scalar (not a bool; a constant
    graph such as ``ft.constant(2)``); else None. How ``int_arg`` reads a count or an axis."""
    if not isinstance(value, Variable):
        return as_int(value)
    if not isinstance(value.type, TensorType) or value.ndim != 0 or not is_int(value.dtype):
        return None
    return static_int(value)


use_known_int(known_int)


def as_shape_vector(shp: Any, what: str) -> Variable:
    """A shape given to ``what`` as ints and/or symbolic int scalars (or a symbolic int
    vector)."""
    if isinstance(shp, Constant) and shp.data.size == 0 and shp.ndim == 1:
        return constant(np.zeros(0, dtype="int64"))  # numpy's empty shape, of any dtype
    if isinstance(shp, Variable):
        if shp.ndim == 0 and is_int(shp.dtype):
            return MakeVector(what)(shp)  # a symbolic length: reshape(x, n)
        if shp.ndim != 1 or not is_int(shp.dtype):
            raise TypeError(
                f"{what}: the shape must be an int vector or an int scalar, got {shp.type}; "
                "cast it with ft.cast(shape, 'int64')"
            )
        return shp
    if isinstance(shp, np.ndarray) and shp.ndim == 0:
        shp = shp.item()
    items = list(shp) if isinstance(shp, (list, tuple, np.ndarray)) else [shp]
    if all(as_int(i) is not None for i in items):
        return constant(np.asarray([int_arg(i, what, "a shape entry") for i in items], dtype="int64"))
    vs = [as_tensor_variable(i) for i in items]
    for i in vs:
        if i.ndim != 0 or not is_int(i.dtype):
            raise TypeError(
                f"{what}: each shape entry must be an int or an int scalar, got {i.type}; "
                "cast it with ft.cast(entry, 'int64')"
            )
    return MakeVector(what)(*vs)


class Reshape(Op):
    """numpy reshape (a view when possible); ``-1`` infers one dim."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int) -> None:
        self.ndim = ndim

    def make_node(self, x: Variable, shp: Variable) -> Apply:
        static: tuple = (None,) * self.ndim
        if shp.ndim != 1 or shp.type.shape[0] not in (None, self.ndim):
            raise ValueError(
                _ndim_mismatch(
                    self.ndim, tuple(int(v) for v in shp.data) if isinstance(shp, Constant) else shp.type
                )
            )
        entries = constant_entries(shp)
        if entries is not None:  # symbolic entries stay unknown
            static = tuple(None if s is None or s < 0 else s for s in entries)
            static = _inferred_entry(static, entries, x.type.shape)
        return Apply(self, [x, shp], [TensorType(x.dtype, static)])

    def check_length(self, shp: np.ndarray) -> None:
        """The output type promises ``self.ndim`` dims: a run-time shape of another length
        would return an array whose ndim contradicts it (every linker calls this)."""
        if len(shp) != self.ndim:
            raise ValueError(_ndim_mismatch(self.ndim, tuple(int(s) for s in shp)))

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, shp = inputs
        self.check_length(shp)
        try:
            return [np.reshape(x, tuple(int(s) for s in shp))]
        except ValueError as e:
            raise ValueError(
                f"reshape: cannot reshape an array of shape {x.shape} into {tuple(int(s) for s in shp)}: {e}"
            ) from None


def _inferred_entry(static: tuple, entries: Sequence[int | None], in_shape: tuple) -> tuple:
    """``static`` with its one ``-1`` or symbolic entry's size filled in where it is known:
    every other entry constant and every size of the input static (``reshape(x, (-1,))`` and
    ``reshape(x, (n,))`` of a ``(2, 3)`` tensor are ``(6,)``; a run with another ``n`` fails)."""
    unknown = [d for d, e in enumerate(entries) if e is None or e == -1]
    if len(unknown) != 1 or None in in_shape:
        return static
    known = int(np.prod([e for e in entries if e is not None and e >= 0]))
    size = int(np.prod(in_shape))
    if known == 0 or size % known:
        return static  # no size fits: the run-time check names the shapes
    return tuple(size // known if d == unknown[0] else s for d, s in enumerate(static))


def _ndim_mismatch(ndim: int, given: Any) -> str:
    return (
        f"reshape: ndim={ndim} was declared but the shape given is {given} (length "
        f"{given.shape[0] if isinstance(given, TensorType) else len(given)}); give a shape "
        f"of length {ndim} or declare ndim equal to the shape's length"
    )


def reshape(x: Any, shp: Any, ndim: int | None = None) -> Variable:
    v = as_tensor_variable(x)
    vec = as_shape_vector(shp, "reshape")
    n = vec.type.shape[0] if ndim is None else int_arg(ndim, "reshape", "ndim", minimum=0, maximum=MAX_DIMS)
    if n is None:
        raise TypeError("reshape: give ndim= when the shape is a symbolic vector")
    if isinstance(vec, Constant):
        data = vec.data
        if (data < -1).any() or (data == -1).sum() > 1:
            raise ValueError(f"reshape: invalid shape {tuple(int(d) for d in data)}")
        known = int(np.prod(data[data >= 0]))
        size = None if None in v.type.shape else int(np.prod(v.type.shape))
        if size is not None and (
            (-1 not in data and known != size) or (-1 in data and (known == 0 or size % known))
        ):
            raise ValueError(
                f"reshape: cannot reshape shape {v.type.shape} into {tuple(int(d) for d in data)}"
            )
    return Reshape(n)(v, vec)


def flatten(x: Any, ndim: int = 1) -> Variable:
    v = as_tensor_variable(x)
    ndim = int_arg(ndim, "flatten", "ndim", minimum=0, maximum=MAX_DIMS)
    if ndim < 1 or ndim > max(v.ndim, 1):
        raise ValueError(f"flatten: ndim must be in 1..{max(v.ndim, 1)}, got {ndim}")
    sizes = dim_sizes(v)
    # the product of the flattened sizes rather than -1, which an array of no elements leaves
    # undefined (numpy's reshape(0, -1) raises); static sizes stay static (ints)
    last = int(np.prod([s for s in sizes[ndim - 1 :] if isinstance(s, int)], dtype="int64"))
    for s in sizes[ndim - 1 :]:
        if not isinstance(s, int):
            last = s * last
    return reshape(v, sizes[: ndim - 1] + [last], ndim=ndim)


class Concatenate(Op):
    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def make_node(self, *xs: Variable) -> Apply:
        from ..graph.types import normalize_dtype

        nd = xs[0].ndim
        for x in xs:
            if x.ndim != nd:
                raise ValueError(
                    f"{op_at_entry('concatenate')}: all inputs must have the same ndim; got {[x.ndim for x in xs]}"
                )
        dt = normalize_dtype(np.result_type(*[np.dtype(x.dtype) for x in xs]))
        shape = []
        for d in range(nd):
            dims = [x.type.shape[d] for x in xs]
            if d == self.axis:
                shape.append(None if None in dims else sum(dims))
            else:
                known = {s for s in dims if s is not None}
                if len(known) > 1:
                    raise ValueError(f"{op_at_entry('concatenate')}: input shapes differ in dim {d}: {dims}")
                shape.append(known.pop() if known else None)
        return Apply(self, xs, [TensorType(dt, tuple(shape))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        try:
            return [np.concatenate(inputs, axis=self.axis).astype(node.outputs[0].dtype, copy=False)]
        except ValueError as e:
            raise ValueError(
                f"concatenate(axis={self.axis}): shapes {[i.shape for i in inputs]}: {e}"
            ) from None


def swapaxes(x: Any, axis1: int, axis2: int) -> Variable:
    """numpy.swapaxes: ``x`` with two axes exchanged."""
    v = as_tensor_variable(x)
    a, b = (one_axis(ax, v.ndim, "swapaxes") for ax in (axis1, axis2))
    perm = list(range(v.ndim))
    perm[a], perm[b] = b, a
    return transpose(v, perm)


def concatenate(seq: Sequence[Any], axis: int | None = 0) -> Variable:
    """numpy.concatenate; ``axis=None`` joins the flattened tensors."""
    vs = [as_tensor_variable(x) for x in sequence_arg(seq, "concatenate", "seq")]
    if not vs:
        raise ValueError("concatenate: need at least one tensor")
    if axis is None:
        vs, axis = [flatten(v) for v in vs], 0
    nd = vs[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use ft.stack")
    axis = axis_index(axis, "concatenate")
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"concatenate: axis {axis} is out of bounds for ndim {nd}")
    return Concatenate(axis % nd)(*vs)


def stack(seq: Sequence[Any], *more: Any, axis: Any = None) -> Variable:
    """numpy's ``stack``: ``stack([a, b, c], axis=0)`` (the axis also positional). Theano's
    older ``stack(a, b, c)``, tensors as separate arguments (the axis then by keyword only),
    still works with a DeprecationWarning."""
    if isinstance(seq, Variable):
        warnings.warn(
            "stack(a, b, ...) is Theano's deprecated form; pass the tensors as one list: "
            "stack([a, b, ...], axis=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        seq, more = [seq, *more], ()
    if len(more) > 1 or (more and axis is not None):
        raise TypeError(
            f"stack: takes the tensors as one list and one axis, got {len(more) + 1} positional "
            "arguments" + (" and axis=" if axis is not None else "") + "; call stack([a, b, ...], axis=...)"
        )
    axis = more[0] if more else 0 if axis is None else axis
    vs = [as_tensor_variable(x) for x in sequence_arg(seq, "stack", "seq")]
    if not vs:
        raise ValueError("stack: need at least one tensor")
    nd = vs[0].ndim
    if any(v.ndim != nd for v in vs):
        raise ValueError(
            f"stack: the tensors must have the same number of dims, got {[v.ndim for v in vs]} "
            f"({', '.join(map(str, vs))}); reshape or broadcast them first"
        )
    axis = axis_index(axis, "stack")
    if not -(nd + 1) <= axis <= nd:
        raise np.exceptions.AxisError(f"stack: axis {axis} is out of bounds for ndim {nd + 1}")
    axis = axis % (nd + 1)
    pattern = list(range(nd))
    pattern.insert(axis, "x")
    return Concatenate(axis)(*[dimshuffle(v, pattern) for v in vs])
