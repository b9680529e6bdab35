"""numpy's and PyTensor's index arithmetic and masked writes: ``ravel_multi_index
unravel_index compress to_one_hot fill_diagonal_offset`` (PyTensor's ``tensor.extra_ops``),
``inverse_permutation permute_row_elements tril_indices triu_indices tril_indices_from
triu_indices_from``.

``ravel_multi_index`` and ``unravel_index`` run numpy's own functions (a Python step between
the C kernels, as the ops of :mod:`.data_ops`): their results are integer indices, without a
gradient. The others are compositions of indexing and elementwise selects, so they fuse,
compile and differentiate as those do.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_int, normalize_dtype
from .advanced_subtensor import take_named
from .basic import as_tensor_variable
from .creation import arange
from .elemwise import broadcast_static_shape, cast, elemwise
from .extra_ops import int_scalar
from .pyop import check_value
from .reduction import all as all_
from .shape_ops import dimshuffle, stack
from .size_args import size_arg

__all__ = [
    "RavelMultiIndex",
    "UnravelIndex",
    "ravel_multi_index",
    "unravel_index",
    "compress",
    "to_one_hot",
    "fill_diagonal_offset",
    "inverse_permutation",
    "permute_row_elements",
    "tril_indices",
    "triu_indices",
    "tril_indices_from",
    "triu_indices_from",
]

_MODES = ("raise", "wrap", "clip")


def _order(order: Any, what: str) -> str:
    if order not in ("C", "F"):
        raise ValueError(f"{what}: order must be 'C' (row-major) or 'F' (column-major), got {order!r}")
    return order


def _dims(dims: Any, what: str) -> Variable:
    """The shape ``dims`` (a sequence of ints or int scalars, or an int vector of known
    length) as an int64 vector."""
    if isinstance(dims, (tuple, list)):
        if not dims:
            raise ValueError(f"{what}: dims must name at least one dim, got {dims!r}")
        return stack([int_scalar(d, what, "each entry of dims") for d in dims])
    v = as_tensor_variable(dims)
    if v.ndim != 1 or not is_int(v.dtype):
        raise TypeError(f"{what}: dims must be a tuple of ints or an int vector, got {dims!r} ({v.type})")
    if v.type.shape[0] is None:
        raise ValueError(
            f"{what}: the number of dims must be known when the graph is built, got {v.type}; "
            "pass a tuple of int scalars (x.shape[0], x.shape[1]) or ft.specify_shape the vector"
        )
    return cast(v, "int64")


def _run_index_fn(what: str, fn: Any, *args: Any, **kw: Any) -> Any:
    """numpy's ``fn``, its errors re-raised naming the function."""
    try:
        return fn(*args, **kw)
    except (ValueError, IndexError, TypeError) as e:
        raise type(e)(f"{what}: {e}") from None


class RavelMultiIndex(Op):
    """numpy.ravel_multi_index: int64 flat indices of the multi-index (one int array per dim,
    broadcast together) into an array of shape ``dims`` (the last input)."""

    __props__ = ("mode", "order")

    def __init__(self, mode: str = "raise", order: str = "C") -> None:
        self.mode = mode
        self.order = order

    def make_node(self, *inputs: Variable) -> Apply:
        shape = broadcast_static_shape([i.type.shape for i in inputs[:-1]], "ravel_multi_index")
        return Apply(self, list(inputs), [TensorType("int64", shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        *index, dims = inputs
        if len(index) != len(dims):
            raise ValueError(
                f"ravel_multi_index: {len(index)} index arrays for the {len(dims)} dims {tuple(dims)}; give one per dim"
            )
        res = _run_index_fn(
            "ravel_multi_index",
            np.ravel_multi_index,
            tuple(index),
            tuple(dims),
            mode=self.mode,
            order=self.order,
        )
        return [np.asarray(res, dtype=np.int64)]


def ravel_multi_index(
    multi_index: Sequence[Any], dims: Any, mode: str = "raise", order: str = "C"
) -> Variable:
    """numpy.ravel_multi_index (PyTensor's): the flat indices (int64) of ``multi_index``, a
    tuple of int arrays (one per dim, broadcast together), into an array of shape ``dims``.
    ``mode`` says what an index out of its dim does: ``"raise"`` (ValueError when the function
    runs), ``"wrap"`` around or ``"clip"`` to the dim; ``order`` ``"C"`` or ``"F"``."""
    if isinstance(multi_index, Variable) or not isinstance(multi_index, (tuple, list)):
        raise TypeError(
            f"ravel_multi_index: multi_index must be a tuple or a list of int arrays, got {multi_index!r}; "
            "for a stacked matrix pass tuple(m)"
        )
    if mode not in _MODES:
        raise ValueError(f"ravel_multi_index: mode must be one of {_MODES}, got {mode!r}")
    index = [as_tensor_variable(i) for i in multi_index]
    for k, i in enumerate(index):
        if not is_int(i.dtype):
            raise TypeError(f"ravel_multi_index: index array {k} must hold ints, got {i.type}")
    d = _dims(dims, "ravel_multi_index")
    if d.type.shape[0] != len(index):
        raise ValueError(
            f"ravel_multi_index: {len(index)} index arrays for {d.type.shape[0]} dims; give one per dim"
        )
    return RavelMultiIndex(mode, _order(order, "ravel_multi_index"))(*index, d)


class UnravelIndex(Op):
    """numpy.unravel_index: one int64 array of coordinates per dim of ``dims``, each of the
    shape of ``indices``."""

    __props__ = ("order", "ndims")

    def __init__(self, order: str, ndims: int) -> None:
        self.order = order
        self.ndims = ndims

    def make_node(self, indices: Variable, dims: Variable) -> Apply:
        return Apply(
            self, [indices, dims], [TensorType("int64", indices.type.shape) for _ in range(self.ndims)]
        )

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        indices, dims = inputs
        res = _run_index_fn("unravel_index", np.unravel_index, indices, tuple(dims), order=self.order)
        return [np.array(r, dtype=np.int64) for r in res]


def unravel_index(indices: Any, dims: Any, order: str = "C") -> tuple[Variable, ...]:
    """numpy.unravel_index (PyTensor's): the coordinates (a tuple of int64 arrays of the
    shape of ``indices``, one per dim) of the flat ``indices`` into an array of shape
    ``dims``. An index out of range raises ValueError when the function runs."""
    v = as_tensor_variable(indices)
    if not is_int(v.dtype):
        raise TypeError(f"unravel_index: indices must hold ints, got {v.type}")
    d = _dims(dims, "unravel_index")
    out = UnravelIndex(_order(order, "unravel_index"), d.type.shape[0])(v, d)
    return tuple(out) if isinstance(out, list) else (out,)


def compress(condition: Any, x: Any, axis: int | None = None) -> Variable:
    """numpy.compress: the slices of ``x`` along ``axis`` (of the flattened ``x`` without one)
    where the vector ``condition`` is non-zero; a shorter ``condition`` leaves the rest out, a
    true entry beyond the axis raises IndexError when the function runs. Indexing by its
    non-zero positions, so the gradient reaches the slices taken."""
    from .data_ops import flatnonzero

    c = as_tensor_variable(condition)
    if c.ndim != 1:
        raise ValueError(f"compress: condition must be a vector (1 dim), got {c.type}")
    fix = "the condition has a true entry past the axis: give one no longer than the axis, or false there"
    return take_named(x, flatnonzero(c), axis, "raise", "compress", fix)


def to_one_hot(y: Any, nb_class: Any, dtype: Any = None) -> Variable:
    """PyTensor's ``to_one_hot``: the matrix ``(len(y), nb_class)`` whose row ``i`` is 1 at
    column ``y[i]`` and 0 elsewhere, of ``dtype`` (default ``config.floatX``). A class outside
    ``[0, nb_class)`` (an int or a symbolic int scalar) raises when the function runs, a
    negative ``nb_class`` ValueError. A comparison with ``arange``, so it fuses."""
    v = as_tensor_variable(y)
    if v.ndim != 1 or not is_int(v.dtype):
        raise TypeError(f"to_one_hot: y must be an int vector of class indices, got {v.type}")
    n = size_arg(nb_class, "to_one_hot", "nb_class")
    dt = normalize_dtype(dtype, "to_one_hot")
    inside = all_(elemwise("and_", elemwise("ge", v, 0), elemwise("lt", v, n)))
    v = check_value(
        v,
        inside,
        "to_one_hot: a class of y is outside [0, nb_class) = [0, {1}), y = {0}; give class indices below nb_class",
        v,
        n,
    )
    hot = elemwise("eq", dimshuffle(v, (0, "x")), dimshuffle(arange(n), ("x", 0)))
    return cast(hot, dt)


def fill_diagonal_offset(a: Any, val: Any, offset: Any) -> Variable:
    """PyTensor's ``fill_diagonal_offset``: a copy of the matrix ``a`` with its ``offset``-th
    diagonal (above the main one for ``offset > 0``, below for ``< 0``; an int or a symbolic
    int scalar) set to the scalar ``val`` (cast to ``a``'s dtype), not wrapped for a tall
    matrix. An elementwise select with an index mask: the gradient reaches ``a`` off that
    diagonal and ``val`` as the sum along it."""
    v = as_tensor_variable(a)
    if v.ndim != 2:
        raise ValueError(
            f"fill_diagonal_offset: takes a matrix, got {v.type}; index a matrix out of it first"
        )
    val_v = as_tensor_variable(val)
    if val_v.ndim != 0:
        raise TypeError(f"fill_diagonal_offset: val must be a scalar, got {val!r} ({val_v.type})")
    k = int_scalar(offset, "fill_diagonal_offset", "offset")
    i = dimshuffle(arange(v.shape[0]), (0, "x"))
    j = dimshuffle(arange(v.shape[1]), ("x", 0))
    on = elemwise("eq", j - i, k)
    return elemwise("switch", on, cast(val_v, v.dtype), v)


def inverse_permutation(perm: Any) -> Variable:
    """PyTensor's ``inverse_permutation``: the inverse of the permutation of ``0..n-1`` on the
    last dim of ``perm`` (each row of a matrix its own), of ``perm``'s dtype: ``out[perm[i]]
    = i``, so ``x[perm][inverse_permutation(perm)]`` is ``x``."""
    from .array_ops import argsort

    v = as_tensor_variable(perm)
    if v.ndim < 1 or not is_int(v.dtype):
        raise TypeError(f"inverse_permutation: perm must be an int tensor of at least 1 dim, got {v.type}")
    return cast(argsort(v, axis=-1), v.dtype)


def permute_row_elements(x: Any, y: Any, inverse: bool = False) -> Variable:
    """PyTensor's ``permute_row_elements``: each row (last dim) of ``x`` permuted by the
    permutation in the matching row of ``y`` (``out[..., i] = x[..., y[..., i]]``; with
    ``inverse``, ``out[..., y[..., i]] = x[..., i]``), the leading dims of ``x`` and ``y``
    broadcast together (one permutation for every row, or every permutation of one row)."""
    from .advanced_subtensor import take_along_axis
    from .arrange import atleast_Nd
    from .extra_ops import broadcast_arrays
    from .creation import alloc
    from .shape_ops import dim_sizes

    xv, yv = as_tensor_variable(x), as_tensor_variable(y)
    if xv.ndim < 1 or yv.ndim < 1 or not is_int(yv.dtype):
        raise TypeError(
            f"permute_row_elements: x must have at least 1 dim and y be an int tensor of at least 1"
            f" dim, got {xv.type} and {yv.type}"
        )
    if inverse:
        yv = inverse_permutation(yv)
    nd = max(xv.ndim, yv.ndim)
    xv, yv = atleast_Nd(xv, n=nd), atleast_Nd(yv, n=nd)
    lead = broadcast_arrays(xv[..., 0], yv[..., 0])[0]
    xb = alloc(xv, *dim_sizes(lead), dim_sizes(xv)[-1])
    yb = alloc(yv, *dim_sizes(lead), dim_sizes(yv)[-1])
    return take_along_axis(xb, yb, -1)


def _triangle_indices(n: Any, k: Any, m: Any, upper: bool, what: str) -> tuple[Variable, Variable]:
    from .data_ops import nonzero
    from .extra_ops import tri

    int_scalar(n, what, "n")
    if m is not None:
        int_scalar(m, what, "m")
    k_v = int_scalar(k, what, "k")
    if upper:
        mask = elemwise("invert", tri(n, m, k_v - 1, dtype="bool"))
    else:
        mask = tri(n, m, k_v, dtype="bool")
    return nonzero(mask)


def tril_indices(n: Any, k: Any = 0, m: Any = None) -> tuple[Variable, Variable]:
    """numpy.tril_indices: the (row, column) int64 indices of the lower triangle of an
    ``(n, m)`` array (``m`` defaults to ``n``), the ``k``-th diagonal and below, in row-major
    order; ``n``, ``k``, ``m`` ints or symbolic int scalars."""
    return _triangle_indices(n, k, m, False, "tril_indices")


def triu_indices(n: Any, k: Any = 0, m: Any = None) -> tuple[Variable, Variable]:
    """numpy.triu_indices: as :func:`tril_indices`, of the ``k``-th diagonal and above."""
    return _triangle_indices(n, k, m, True, "triu_indices")


def _matrix_sizes(arr: Any, what: str) -> tuple[Variable, Variable]:
    a = as_tensor_variable(arr)
    if a.ndim != 2:
        raise ValueError(f"{what}: takes a matrix, got {a.type}")
    return a.shape[0], a.shape[1]


def tril_indices_from(arr: Any, k: Any = 0) -> tuple[Variable, Variable]:
    """numpy.tril_indices_from: :func:`tril_indices` of the matrix ``arr``'s shape."""
    n, m = _matrix_sizes(arr, "tril_indices_from")
    return tril_indices(n, k, m)


def triu_indices_from(arr: Any, k: Any = 0) -> tuple[Variable, Variable]:
    """numpy.triu_indices_from: :func:`triu_indices` of the matrix ``arr``'s shape."""
    n, m = _matrix_sizes(arr, "triu_indices_from")
    return triu_indices(n, k, m)
