"""numpy functions whose results are indices or counts read off the values: ``nonzero
flatnonzero nonzero_values unique bincount searchsorted``.

The ops run numpy's own function in both linkers (a Python step between the C kernels): their
output sizes depend on the data, and numpy's loops are already C. Their outputs are integer
indices and counts, which have no gradient; ``bincount``'s weights get the gradient of their
bins, and ``nonzero_values`` is indexing by ``flatnonzero``, so it differentiates as indexing
does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex, is_float, is_int
from ..graph.args import int_arg
from .basic import as_tensor_variable, constant
from .creation import alloc
from .elemwise import check_float64, elemwise
from .reduction import one_axis
from .shape_ops import concatenate, flatten, stack
from .size_args import size_arg

__all__ = [
    "NonZero",
    "Unique",
    "BinCount",
    "SearchSorted",
    "nonzero",
    "flatnonzero",
    "nonzero_values",
    "unique",
    "bincount",
    "searchsorted",
]

# numpy 2.0 gave unique's inverse the input's shape, numpy 2.0.1 went back to 1-d for axis=None:
# the declared type follows the numpy installed
_INVERSE_KEEPS_SHAPE = np.unique(np.zeros((1, 1)), return_inverse=True)[1].ndim == 2


class NonZero(Op):
    """numpy.nonzero: one int64 vector of indices per dim of ``x``."""

    __props__ = ()

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType("int64", (None,)) for _ in range(x.ndim)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [i.astype(np.int64, copy=False) for i in np.nonzero(inputs[0])]


def nonzero(a: Any, return_matrix: bool = False) -> Any:
    """numpy.nonzero (PyTensor's): a tuple of int64 index vectors, one per dim of ``a``; with
    ``return_matrix`` the matrix stacking them (``ndim`` rows)."""
    v = as_tensor_variable(a)
    if v.ndim == 0:
        raise ValueError(f"nonzero: takes a tensor of 1 or more dims, got a 0-d {v.type}; use ft.atleast_1d")
    out = NonZero()(v)
    out = out if isinstance(out, list) else [out]
    return stack(out) if return_matrix else tuple(out)


def flatnonzero(a: Any) -> Variable:
    """numpy.flatnonzero: the indices of the non-zero elements of the flattened ``a``."""
    return NonZero()(flatten(as_tensor_variable(a)))


def nonzero_values(a: Any) -> Variable:
    """PyTensor's ``nonzero_values``: the non-zero elements of ``a`` in flattened order (indexing
    by :func:`flatnonzero`, so the gradient reaches them)."""
    v = flatten(as_tensor_variable(a))
    return v[NonZero()(v)]


class Unique(Op):
    """numpy.unique (PyTensor's op): the sorted distinct values of the flattened input (of its
    slices along ``axis``), then as asked the indices of their first occurrences, the inverse
    indices and the counts (int64). ``Unique(True, True, False)(x)`` is a list of the outputs,
    ``Unique()(x)`` the values alone."""

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(
        self,
        return_index: bool = False,
        return_inverse: bool = False,
        return_counts: bool = False,
        axis: int | None = None,
    ) -> None:
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = None if axis is None else int_arg(axis, "Unique", "axis", minimum=0)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if is_complex(x.dtype):
            raise TypeError(f"unique: complex tensors are not supported, got {x.type}")
        if self.axis is None:
            values = TensorType(x.dtype, (None,))
            inverse = x.type.shape if _INVERSE_KEEPS_SHAPE else (None,)
        else:
            if self.axis >= x.ndim:
                raise np.exceptions.AxisError(
                    f"unique: axis {self.axis} is out of bounds for {x.type} ({x.ndim} dims)"
                )
            values = TensorType(x.dtype, x.type.shape[: self.axis] + (None,) + x.type.shape[self.axis + 1 :])
            inverse = (x.type.shape[self.axis],)
        outs = [values]
        if self.return_index:
            outs.append(TensorType("int64", (None,)))
        if self.return_inverse:
            outs.append(TensorType("int64", inverse))
        if self.return_counts:
            outs.append(TensorType("int64", (None,)))
        return Apply(self, [x], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        res = np.unique(
            inputs[0],
            return_index=self.return_index,
            return_inverse=self.return_inverse,
            return_counts=self.return_counts,
            axis=self.axis,
        )
        res = res if isinstance(res, tuple) else (res,)
        return [np.asarray(r, dtype=o.dtype) for r, o in zip(res, node.outputs)]


def unique(
    ar: Any,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
) -> Any:
    """numpy.unique: the sorted distinct values (of the flattened ``ar``, or its distinct
    slices along ``axis``); with any of the ``return_*`` flags a list of the values and the
    arrays asked for, in numpy's order."""
    v = as_tensor_variable(ar)
    if axis is not None:
        axis = one_axis(axis, v.ndim, "unique")
    return Unique(return_index, return_inverse, return_counts, axis)(v)


class BinCount(Op):
    """numpy.bincount(x, weights, minlength)."""

    __props__ = ("minlength", "weighted")

    def __init__(self, minlength: int, weighted: bool) -> None:
        self.minlength = minlength
        self.weighted = weighted

    def make_node(self, x: Variable, *weights: Variable) -> Apply:
        # float weights keep their dtype (float32 sums for float32 weights, PyTensor's), summed
        # in float64 by numpy; others sum to float64, as numpy's
        dt = "int64" if not weights else weights[0].dtype if is_float(weights[0].dtype) else "float64"
        return Apply(self, [x, *weights], [TensorType(dt, (None,))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        if x.size and x.min() < 0:
            raise ValueError(
                f"bincount: the values must not be negative, got {int(x.min())}; shift them or "
                "take the absolute value first"
            )
        w = inputs[1] if self.weighted else None
        if w is not None and w.shape != x.shape:
            raise ValueError(
                f"bincount: weights of shape {w.shape} for values of shape {x.shape}; give one weight per value"
            )
        res = np.bincount(x, weights=w, minlength=self.minlength)
        return [res.astype(node.outputs[0].dtype, copy=False)]


def bincount(x: Any, weights: Any = None, minlength: Any = 0, assert_nonneg: bool = False) -> Variable:
    """numpy.bincount: how often each non-negative int of the vector ``x`` occurs (int64), or the
    sum of the ``weights`` at each (of float weights' dtype, else float64); at least ``minlength`` bins (an int or a symbolic
    int scalar; ``None`` is 0, as PyTensor's). A negative value or ``minlength`` raises
    ValueError when the function runs. ``assert_nonneg`` (PyTensor's) is taken and changes
    nothing: the values are always checked, as numpy's are."""
    if minlength is None:
        minlength = 0
    v = as_tensor_variable(x)
    if v.ndim != 1 or not (is_int(v.dtype) or v.dtype == "bool"):
        raise TypeError(f"bincount: x must be an int vector, got {v.type}")
    minlength = size_arg(minlength, "bincount", "minlength")
    weighted = weights is not None
    ins = [v]
    if weighted:
        w = as_tensor_variable(weights)
        if w.ndim != 1 or is_complex(w.dtype):
            raise TypeError(f"bincount: weights must be a real vector like x, got {w.type}")
        if not is_float(w.dtype):
            check_float64("bincount", [w.dtype], "float64")
        ins.append(w)
    if isinstance(minlength, int):
        return BinCount(minlength, weighted)(*ins)
    # a run-time minlength: the counts, then zero bins up to it
    counts = BinCount(0, weighted)(*ins)
    more = elemwise("maximum", elemwise("sub", minlength, counts.shape[0]), 0)
    return concatenate([counts, alloc(constant(np.zeros((), counts.dtype)), more)])


class SearchSorted(Op):
    """numpy.searchsorted(a, v, side): int64 insertion points of ``v`` in the sorted ``a``."""

    __props__ = ("side", "with_sorter")

    def __init__(self, side: str, with_sorter: bool) -> None:
        self.side = side
        self.with_sorter = with_sorter

    def make_node(self, a: Variable, v: Variable, *sorter: Variable) -> Apply:
        return Apply(self, [a, v, *sorter], [TensorType("int64", v.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, v = inputs[:2]
        sorter = inputs[2] if self.with_sorter else None
        if sorter is not None and sorter.shape != a.shape:
            raise ValueError(
                f"searchsorted: sorter of shape {sorter.shape} for a of shape {a.shape}; give one index per element"
            )
        try:
            res = np.searchsorted(a, v, side=self.side, sorter=sorter)
        except ValueError as e:
            raise ValueError(f"searchsorted: {e}") from None
        return [np.asarray(res, dtype=np.int64)]


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Variable:
    """numpy.searchsorted: where the elements of ``v`` would go in the sorted vector ``a`` to
    keep it sorted (the first such place for ``side="left"``, the last for ``"right"``);
    ``sorter`` the int indices that sort ``a``. int64, of ``v``'s shape."""
    va, vv = as_tensor_variable(a), as_tensor_variable(v)
    if va.ndim != 1:
        raise ValueError(f"searchsorted: a must be a vector, got {va.type}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    for name, t in (("a", va), ("v", vv)):
        if is_complex(t.dtype):
            raise TypeError(f"searchsorted: complex tensors are not supported, got {t.type} for {name}")
    if sorter is None:
        return SearchSorted(side, False)(va, vv)
    s = as_tensor_variable(sorter)
    if s.ndim != 1 or not is_int(s.dtype):
        raise TypeError(f"searchsorted: sorter must be an int vector, got {s.type}")
    return SearchSorted(side, True)(va, vv, s)
