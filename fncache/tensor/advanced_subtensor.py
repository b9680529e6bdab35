"""Advanced indexing, numpy's: int index arrays (``x[ivec]``, ``x[:, ivec]``,
``x[ivec, jvec]``, ``x[arange(n), y]``) and boolean masks (``x[x > 0]``), mixed with ints,
slices and new axes; writing into such a region (``set_subtensor``/``inc_subtensor`` of
``x[idx]``, repeated indices accumulating as ``np.add.at``); and the two ops their gradients
need (`AdvancedSubtensorGrad`, `AdvancedSetGrad`).

A *key* lists one entry per index position: ``("a", k)`` the int array that is input ``k``
after ``x`` (``y`` too for the writing op), ``("b", k, nd)`` the boolean mask that is input
``k``, over ``nd`` axes (numpy reads it as the ``nd`` int arrays of its true positions),
``("i", ref)`` an int, ``("s", start, stop, step)`` a slice, ``("n",)`` a new axis, ``("e",)``
an ellipsis standing for no dims; after them, ``("k", axis, sizes)`` checks that ``x``'s dims
from ``axis`` have the sizes of a constant mask (read as int arrays where the graph is built)
that ``x``'s static shape did not tell. A ref is ``None``, ``("c", int)`` or ``("v", k)`` (a
symbolic int scalar input), as in basic indexing. Where the index arrays' dims go follows numpy: in
place of the array and int entries where those are adjacent, first otherwise (a new axis, a
slice or an ellipsis, even of no dims, between two of them parts them).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

from ..graph.args import int_arg
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_int
from .basic import as_tensor_variable
from .elemwise import broadcast_static_shape, elemwise
from .subtensor import index_ref, python_index

__all__ = [
    "AdvancedSubtensor",
    "AdvancedIncSubtensor",
    "AdvancedSubtensorGrad",
    "AdvancedSetGrad",
    "advanced_getitem",
    "advanced_key",
    "index_width",
    "is_advanced",
    "take",
]

_INTP_MAX = np.iinfo(np.intp).max

#: numpy's ufunc.at runs on its legacy iterators, which take at most 32 dims: an array or an
#: index of more crashes it (numpy 2 arrays have up to 64)
_AT_MAX_DIMS = 32


def _add_at(out: np.ndarray, index: tuple, y: Any, region_ndim: int) -> None:
    """``np.add.at(out, index, y)`` (a repeated index adds each of its values) for a C-contiguous
    ``out`` and a region ``out[index]`` of ``region_ndim`` dims; where ``out``, ``y`` or an index
    array has more dims than numpy's ``ufunc.at`` takes, the same sums through the flat
    positions the index selects (a 1-D ``add.at``)."""
    # numpy's ufunc.at reads a y of fewer dims than the region wrongly (2.4: a vector out, an
    # index matrix and a vector y add uninitialized values): y gets the region's dims first
    y = np.reshape(y, (1,) * (region_ndim - np.ndim(y)) + np.shape(y))
    parts = index if isinstance(index, tuple) else (index,)
    if max([out.ndim, np.ndim(y)] + [np.ndim(i) for i in parts if isinstance(i, np.ndarray)]) <= _AT_MAX_DIMS:
        np.add.at(out, index, y)
        return
    where = np.arange(out.size).reshape(out.shape)[index]
    np.add.at(out.reshape(-1), where.reshape(-1), np.broadcast_to(y, where.shape).reshape(-1))


def _str_key(key: tuple) -> str:
    def r(ref: Any) -> str:
        return "" if ref is None else (str(ref[1]) if ref[0] == "c" else f"${ref[1]}")

    parts = []
    for e in key:
        if e[0] == "a":
            parts.append(f"@{e[1]}")
        elif e[0] == "b":
            parts.append(f"mask@{e[1]}")
        elif e[0] == "n":
            parts.append("None")
        elif e[0] == "e":
            parts.append("...")
        elif e[0] == "k":
            parts.append(f"mask{e[2]}@axis{e[1]}")
        elif e[0] == "i":
            parts.append(r(e[1]))
        else:
            parts.append(":".join([r(e[1]), r(e[2])] + ([r(e[3])] if e[3] is not None else [])))
    return ", ".join(parts)


def _width(e: tuple) -> int:
    """How many axes of ``x`` a key entry indexes."""
    return 0 if e[0] in ("n", "e", "k") else (e[2] if e[0] == "b" else 1)


def _x_axes(key: tuple) -> list[int | None]:
    """Per key entry, the (first) axis of ``x`` it indexes (``None`` for a new axis or an
    ellipsis of no dims)."""
    axes: list[int | None] = []
    d = 0
    for e in key:
        axes.append(None if e[0] in ("n", "e", "k") else d)
        d += _width(e)
    return axes


def _broadcast_static(shapes: Sequence[Sequence[int | None]], what: str) -> tuple[int | None, ...]:
    """numpy's broadcast of the index arrays' shapes, ``None`` for a size not known yet; index
    arrays that do not broadcast are numpy's IndexError."""
    try:
        return broadcast_static_shape([tuple(s) for s in shapes], what)
    except ValueError:
        raise IndexError(
            f"{what}: shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(str(tuple(s)) for s in shapes)
        ) from None


def _slice_len(n: int | None, e: tuple) -> int | None:
    if n is None or not all(r is None or r[0] == "c" for r in e[1:]):
        return None
    return len(range(n)[slice(*[None if r is None else r[1] for r in e[1:]])])


def _result_shape(
    key: tuple, x_shape: Sequence[int | None], arg_shapes: Sequence[Sequence[int | None]], what: str
) -> tuple[int | None, ...]:
    """The shape of ``x[key]`` (``None`` where not known), numpy's: the broadcast index arrays'
    dims in place of the array and int entries where those are adjacent in the key, first
    otherwise; slices keep a dim each, new axes add one."""
    adv = [k for k, e in enumerate(key) if e[0] in ("a", "b", "i")]
    # a mask is the int arrays of its true positions: one dim, of a size the data sets
    bshape = _broadcast_static(
        [arg_shapes[e[1]] if e[0] == "a" else (None,) for e in key if e[0] in ("a", "b")], what
    )
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    out: list[int | None] = [] if adjacent else list(bshape)
    for k, (e, d) in enumerate(zip(key, _x_axes(key))):
        if e[0] == "n":
            out.append(1)
        elif e[0] == "s":
            out.append(_slice_len(x_shape[d], e))  # type: ignore[index]
        elif adjacent and k == adv[0]:
            out.extend(bshape)
    n_used = sum(_width(e) for e in key)
    return tuple(out) + tuple(x_shape[n_used:])


class _AdvancedIndexOp(Op):
    """What the advanced indexing ops share: the key, and turning it and the inputs into
    numpy's index."""

    key: tuple
    #: Inputs before the index ones: x (and y for the writing op).
    n_lead = 1

    def index_of(self, x_shape: Sequence[int], inputs: Sequence[Any]) -> tuple:
        """The numpy index of the key for these input values. numpy checks the entries when
        indexing (`numpy_errors` names the op); a uint64 entry beyond int64 is checked here,
        since numpy would read it as a negative index."""
        args = list(inputs[self.n_lead :])
        out: list[Any] = []
        for e, d in zip(self.key, _x_axes(self.key)):
            if e[0] == "n":
                out.append(None)
            elif e[0] == "e":
                out.append(Ellipsis)
            elif e[0] == "k":
                with self.numpy_errors(x_shape):
                    _check_mask_size(x_shape, e[1], e[2])
            elif e[0] == "a":
                a = np.asarray(args[e[1]])
                if a.dtype == np.uint64 and a.size and a.max() > _INTP_MAX:
                    raise IndexError(
                        f"{self}: index {int(a.max())} is out of bounds for axis {d} with size {x_shape[d]}"  # type: ignore[index]
                    )
                out.append(a)
            elif e[0] == "b":
                out.append(np.asarray(args[e[1]]))
            else:
                s = python_index((e,), args)[0]
                if isinstance(s, slice) and s.step == 0:
                    raise ValueError(f"{self}: slice step cannot be zero")
                out.append(s)
        return tuple(out)

    @contextmanager
    def numpy_errors(self, x_shape: Sequence[int]) -> Iterator[None]:
        """numpy's ``IndexError`` (an index out of range, arrays that do not broadcast) with
        the op's name and the input's shape."""
        try:
            yield
        except IndexError as e:
            raise IndexError(f"{self}: {e} (input shape {tuple(x_shape)})") from None

    def region_type(self, x: Variable, args: Sequence[Variable]) -> TensorType:
        return TensorType(
            x.dtype, _result_shape(self.key, x.type.shape, [a.type.shape for a in args], str(self))
        )


class AdvancedSubtensor(_AdvancedIndexOp):
    """``x[key]`` with index arrays: a new array (numpy's advanced indexing copies)."""

    __props__ = ("key",)

    def __init__(self, key: tuple) -> None:
        self.key = tuple(key)

    def __str__(self) -> str:
        return f"AdvancedSubtensor[{_str_key(self.key)}]"

    def make_node(self, x: Variable, *args: Variable) -> Apply:
        return Apply(self, [x, *args], [self.region_type(x, args)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        index = self.index_of(x.shape, inputs)
        with self.numpy_errors(x.shape):
            return [x[index]]


class AdvancedIncSubtensor(_AdvancedIndexOp):
    """``x`` copied, with ``y`` written at (``set_instead_of_inc``: the last write of a
    repeated index wins, as numpy's assignment) or added to (repeats accumulate, ``np.add.at``)
    ``x[key]``. Inputs: ``x``, ``y`` (of ``x``'s dtype), then the index ones."""

    __props__ = ("key", "set_instead_of_inc")
    n_lead = 2

    def __init__(self, key: tuple, set_instead_of_inc: bool) -> None:
        self.key = tuple(key)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self) -> str:
        return (
            "AdvancedSet" if self.set_instead_of_inc else "AdvancedInc"
        ) + f"Subtensor[{_str_key(self.key)}]"

    def make_node(self, x: Variable, y: Variable, *args: Variable) -> Apply:
        from .inc_subtensor import check_fits

        if y.dtype != x.dtype:
            raise TypeError(f"{self}: y's dtype {y.dtype} is not x's {x.dtype} (cast it first)")
        what = "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"
        check_fits(what, self.region_type(x, args).shape, y.type.shape)
        return Apply(self, [x, y, *args], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, y = inputs[0], inputs[1]
        out = np.array(x, copy=True, order="C")
        index = self.index_of(x.shape, inputs)
        with self.numpy_errors(x.shape):
            self._write(out, index, y, self.region_type(node.inputs[0], node.inputs[2:]).ndim)
        return [out]

    def _write(self, out: np.ndarray, index: tuple, y: np.ndarray, region_ndim: int) -> None:
        try:
            if self.set_instead_of_inc:
                out[index] = y
            else:
                _add_at(out, index, y, region_ndim)
        except ValueError as e:
            raise ValueError(
                f"{self}: y of shape {np.shape(y)} does not fit the region x[idx]: {e}"
            ) from None


class AdvancedSubtensorGrad(_AdvancedIndexOp):
    """The gradient of ``x[key]``: zeros of ``x``'s shape (and ``g``'s dtype) with ``g`` added
    at the key, a repeated index getting the sum of its gradients (``np.add.at``). Only ``x``'s
    shape is read: no zeros tensor is built and copied, as an inc into ``zeros_like(x)`` would.
    Inputs: ``x``, ``g`` (the region's shape), then the index ones."""

    __props__ = ("key",)
    n_lead = 2

    def __init__(self, key: tuple) -> None:
        self.key = tuple(key)

    def __str__(self) -> str:
        return f"AdvancedSubtensorGrad[{_str_key(self.key)}]"

    def make_node(self, x: Variable, g: Variable, *args: Variable) -> Apply:
        return Apply(self, [x, g, *args], [TensorType(g.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g = inputs[0], inputs[1]
        out = np.zeros(x.shape, dtype=node.outputs[0].dtype)
        index = self.index_of(x.shape, inputs)
        with self.numpy_errors(x.shape):
            _add_at(out, index, g, np.ndim(g))
        return [out]


class AdvancedSetGrad(_AdvancedIndexOp):
    """The gradient of a set's ``y``: ``g[key]`` with 0 where a later write of a repeated index
    overwrote this one (only the write that stays reaches the output). Inputs: ``g`` (of the
    set's ``x``'s shape), then the index ones."""

    __props__ = ("key",)

    def __init__(self, key: tuple) -> None:
        self.key = tuple(key)

    def __str__(self) -> str:
        return f"AdvancedSetGrad[{_str_key(self.key)}]"

    def make_node(self, g: Variable, *args: Variable) -> Apply:
        return Apply(self, [g, *args], [self.region_type(g, args)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        g = inputs[0]
        index = self.index_of(g.shape, inputs)
        with self.numpy_errors(g.shape):
            region = g[index]
        # Number the region's writes, write the numbers as the set writes y: each position
        # keeps the number of the write that stays.
        ids = np.arange(region.size, dtype=np.intp).reshape(region.shape)
        winner = np.full(g.shape, -1, dtype=np.intp)
        winner[index] = ids
        return [np.where(winner[index] == ids, region, np.zeros((), g.dtype))]


# -- building the key ---------------------------------------------------------------------------
def _is_array_index(k: Any) -> bool:
    if isinstance(k, Variable):
        return k.ndim > 0 or k.dtype == "bool"
    if isinstance(k, (list, np.ndarray)):
        return True
    return isinstance(k, (bool, np.bool_))


def index_width(k: Any) -> int:
    """How many axes of the indexed tensor an entry of an indexing key indexes: a boolean
    mask's ndim, 1 for anything else."""
    if isinstance(k, Variable):
        return k.ndim if k.dtype == "bool" and k.ndim else 1
    if isinstance(k, (list, np.ndarray)):
        a = np.asarray(k)
        return a.ndim if a.dtype == bool and a.ndim else 1
    return 1


def is_advanced(key: tuple) -> bool:
    """Whether an indexing key has an index array (or a boolean mask) among its entries."""
    return any(_is_array_index(k) for k in key)


def _index_array(k: Any, position: int) -> Variable:
    """The index array (an int one, or a boolean mask) of key entry ``position``, checked."""
    if isinstance(k, list) and any(isinstance(e, Variable) for e in k):
        from .shape_ops import stack

        k = stack([as_tensor_variable(e) for e in k])  # x[[i, 0]] with a symbolic i
    if isinstance(k, (list, np.ndarray)) and not isinstance(k, Variable):
        a = np.asarray(k)
        if a.size == 0 and a.dtype.kind == "f":  # numpy reads [] as an empty index list
            a = a.astype(np.intp)
        k = a
    zero_d = (
        f"index entry {position}: a 0-d boolean index (x[True]) is not supported; add an axis with"
        " x[None] instead"
    )
    if isinstance(k, bool):
        raise TypeError(
            f"{zero_d}; a Python bool index probably comes from == or != between symbolic variables,"
            " which compare identity: make the mask with ft.eq(a, b) or ft.neq(a, b)"
        )
    v = as_tensor_variable(k)
    if v.dtype == "bool" and v.ndim == 0:
        raise TypeError(zero_d)
    if v.dtype == "bool":
        return v
    if not is_int(v.dtype):
        raise TypeError(
            f"index entry {position}: index arrays must have an int dtype, got {v.type}; cast the"
            " index first, e.g. ft.cast(idx, 'int64')"
        )
    return v


def _check_mask_size(x_shape: Sequence[int | None], axis: int, sizes: Sequence[int | None]) -> None:
    """numpy's IndexError for a mask of ``sizes`` indexing dims of ``x_shape`` from ``axis``
    (``None``: a size not known yet, taken to fit)."""
    for d, (n, m) in enumerate(zip(x_shape[axis:], sizes)):
        if n is not None and m is not None and n != m:
            raise IndexError(
                f"boolean index did not match indexed array along axis {axis + d}; size of"
                f" axis is {n} but size of corresponding boolean axis is {m}"
            )


def _mask_entries(
    x: Variable, mask: Variable, axis: int, args: list[Variable], checks: list[tuple]
) -> list[tuple]:
    """The key entries of a boolean mask indexing ``x`` from ``axis`` (its inputs appended to
    ``args``): a constant mask's true positions, known now, as int arrays; a symbolic mask as
    itself. Its shape is checked against ``x``'s static sizes; a constant mask's against the
    others when the function runs (the check appended to ``checks``), as its positions alone
    do not tell its size."""
    known = x.type.shape[axis : axis + mask.ndim]
    if len(known) < mask.ndim:
        raise IndexError(f"too many indices: a {mask.ndim}-d mask at axis {axis} of a {x.ndim}-d tensor")
    _check_mask_size(x.type.shape, axis, mask.type.shape)
    if not isinstance(mask, Constant):
        args.append(mask)
        return [("b", len(args) - 1, mask.ndim)]
    if None in known:
        checks.append(("k", axis, tuple(mask.data.shape)))
    entries = []
    for a in np.nonzero(mask.data):
        args.append(as_tensor_variable(a.astype(np.int64)))
        entries.append(("a", len(args) - 1))
    return entries


def advanced_key(x: Variable, key: tuple) -> tuple[tuple, list[Variable]]:
    """The key of ``x[key]`` (``...`` already expanded, unless it stands for no dims) and its index inputs."""
    args: list[Variable] = []
    out: list[tuple] = []
    out_of_range: list[str] = []  # of constant index arrays
    checks: list[tuple] = []  # of constant masks' sizes
    axes = 0
    for pos, k in enumerate(key):
        if k is None or k is Ellipsis:
            out.append(("n",) if k is None else ("e",))
            continue
        if isinstance(k, slice):
            e = ("s",) + tuple(
                index_ref(v, what, args)
                for v, what in ((k.start, "start"), (k.stop, "stop"), (k.step, "step"))
            )
            if e[3] == ("c", 0):
                raise ValueError("slice step cannot be zero")
            out.append(e)
        elif _is_array_index(k):
            v = _index_array(k, pos)
            if v.dtype == "bool":
                out.extend(_mask_entries(x, v, axes, args, checks))
                axes += v.ndim
                continue
            n = x.type.shape[axes]
            if isinstance(v, Constant) and n is not None and v.data.size:
                lo, hi = int(v.data.min()), int(v.data.max())
                bad = hi if hi >= n else (lo if lo < -n else None)
                if bad is not None:
                    out_of_range.append(f"index {bad} is out of bounds for axis {axes} with size {n}")
            args.append(v)
            out.append(("a", len(args) - 1))
        else:
            ref = index_ref(k, "entry", args)
            n = x.type.shape[axes]
            if ref[0] == "c" and n is not None and not -n <= ref[1] < n:
                raise IndexError(f"index {ref[1]} is out of bounds for axis {axes} with size {n}")
            out.append(("i", ref))
        axes += 1
    # numpy checks an index array's entries as it reads them, none where the index arrays
    # broadcast to an empty shape (x[[5], []] is empty): refused now where the broadcast
    # shape is known not to be empty, else when the function runs
    if out_of_range:
        # (a symbolic mask's true positions: a count known when the function runs)
        shapes = [args[e[1]].type.shape if e[0] == "a" else (None,) for e in out if e[0] in ("a", "b")]
        if all(n is not None and n > 0 for n in _broadcast_static(shapes, "indexing")):
            raise IndexError(out_of_range[0])
    return tuple(out + checks), args


def advanced_getitem(x: Variable, key: tuple) -> Variable:
    """``x[key]`` for a key with index arrays (``...`` already expanded, unless it stands for no dims)."""
    k, args = advanced_key(x, key)
    return AdvancedSubtensor(k)(x, *args)


#: What an index out of range of ``take`` (``mode='raise'``) or ``take_along_axis`` asks for.
_IN_RANGE = "give indices in [-n, n) for an axis of size n"


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> Variable:
    """numpy's ``take``: the elements of ``a`` at ``indices`` along ``axis`` (``None``: ``a``
    flattened), of shape ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``. Indices out
    of range raise ``IndexError`` (``mode='raise'``), wrap around (``'wrap'``: modulo the
    axis's size) or are clipped to it (``'clip'``: negative ones to the first element)."""
    if mode == "raise":
        fix = f"{_IN_RANGE}, or mode='wrap' or mode='clip'"
        fix += " (axis=None: the axis of the flattened a)" if axis is None else ""
    else:
        fix = f"mode={mode!r} has no element to take from an empty axis (numpy: 'cannot do a non-empty take')"
    return take_named(a, indices, axis, mode, "take", fix)


def take_named(a: Any, indices: Any, axis: int | None, mode: str, what: str, fix: str) -> Variable:
    """``take`` for the function ``what`` the user called: its errors name it, and an index
    out of range gives ``fix``, when the graph is built and when the function runs."""
    from .shape_ops import flatten

    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"{what}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a = as_tensor_variable(a)
    if axis is None:
        a, axis = flatten(a), 0
    axis = int_arg(axis, what, "axis", fix="or None for the flattened tensor")
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(f"{what}: axis {axis!r} is out of range for a tensor of ndim {a.ndim}")
    axis %= a.ndim
    idx = _index_array(indices, axis)
    if idx.dtype == "bool":
        raise TypeError(f"{what}: indices must be ints, got booleans (to select with a mask: a[mask])")
    n = a.shape[axis]
    if mode == "wrap":
        idx = elemwise("mod", idx, n)
    elif mode == "clip":
        idx = elemwise("minimum", elemwise("maximum", idx, 0), elemwise("sub", n, 1))
    return _indexing_named(a, (slice(None),) * axis + (idx,), what, fix)


def _indexing_named(a: Variable, key: tuple, what: str, fix: str) -> Variable:
    """``a[key]`` whose index out of range names ``what``, the function the user called, and
    ``fix``: checked now where the graph knows the indices and the size, else by the indexing
    node's error when the function runs (its ``made_by``)."""
    from .subtensor import getitem

    try:
        out = getitem(a, key)
    except IndexError as e:
        raise IndexError(f"{what}: {e}; {fix}") from None
    if out.owner is not None and isinstance(out.owner.op, AdvancedSubtensor):
        out.owner.tag["made_by"] = (what, fix)
    return out


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Variable:
    """numpy's ``take_along_axis``: ``arr`` indexed along ``axis`` by the int ``indices`` (of
    ``arr``'s ndim, its other dims broadcasting against ``arr``'s; ``axis=None`` takes from the
    flattened ``arr`` with a vector of indices), as ``argsort``'s or ``argmax(keepdims=True)``'s
    results index. Advanced indexing with an ``arange`` per other dim, so the gradient reaches
    the elements taken."""
    from .creation import arange
    from .shape_ops import dimshuffle, flatten

    a, idx = as_tensor_variable(arr), as_tensor_variable(indices)
    if not (idx.dtype.startswith("int") or idx.dtype.startswith("uint")):
        raise TypeError(f"take_along_axis: indices must hold ints, got {idx.type}")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None the indices must be a vector, got {idx.type}")
        a, axis = flatten(a), 0
    if idx.ndim != a.ndim:
        raise ValueError(
            f"take_along_axis: indices {idx.type} and arr {a.type} must have the same number of "
            "dims; add size-1 dims (keepdims=True, or ft.expand_dims)"
        )
    axis = int_arg(axis, "take_along_axis", "axis", fix="or None for the flattened tensor")
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(
            f"take_along_axis: axis {axis!r} is out of range for a tensor of ndim {a.ndim}"
        )
    axis %= a.ndim
    key = [
        idx if d == axis else dimshuffle(arange(a.shape[d]), ["x"] * d + [0] + ["x"] * (a.ndim - 1 - d))
        for d in range(a.ndim)
    ]
    return _indexing_named(a, tuple(key), "take_along_axis", _IN_RANGE)
