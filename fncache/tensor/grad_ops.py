"""Ops that gradient graphs need and forward graphs do not: summing a gradient back to the
shape of an input that was broadcast at run time, placing a slice's gradient into zeros of
the sliced tensor's shape, and the number of elements a reduction combined (a mean's
gradient divides by it)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..errors import BroadcastError
from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .subtensor import Subtensor

__all__ = ["SumToShape", "SubtensorGrad", "ReducedSize", "SortGrad", "RepeatGrad", "ZerosSum"]


class SumToShape(Op):
    """``g`` summed (keeping dims) over the dims that numpy broadcast at run time: the gradient
    of an input whose size-1 dims were broadcast. ``spec`` lists ``(axis, refs)``: ``g`` is
    summed over ``axis`` when it is not 1 there and every ``(k, dim)`` of ``refs`` (input
    ``k``, 1 = the first after ``g``, of which only the shape is read) has size 1 at ``dim``:
    those are the dims whose broadcast the input's was. Where nothing was broadcast the result
    is ``g`` itself (the C run-time does that without calling Python)."""

    __props__ = ("spec",)
    view_map = {0: [0]}

    def __init__(self, spec: tuple) -> None:
        self.spec = tuple((int(a), tuple((int(k), int(d)) for k, d in refs)) for a, refs in spec)

    def make_node(self, g: Variable, *likes: Variable) -> Apply:
        for a, refs in self.spec:
            if not (
                0 <= a < g.ndim
                and refs
                and all(1 <= k <= len(likes) and 0 <= d < likes[k - 1].ndim for k, d in refs)
            ):
                raise ValueError(f"{self}: entry {(a, refs)} does not match the inputs")
        shape = list(g.type.shape)
        for a, refs in self.spec:
            sizes = [likes[k - 1].type.shape[d] for k, d in refs]
            if all(s == 1 for s in sizes):
                shape[a] = 1  # summed, or 1 already
            elif not any(s is not None and s != 1 for s in sizes):
                # a summed axis may become 1: its size is unknown, whatever g's static size
                shape[a] = 1 if shape[a] == 1 else None
        return Apply(self, [g, *likes], [TensorType(g.dtype, tuple(shape))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        g = inputs[0]
        axes = tuple(
            a for a, refs in self.spec if g.shape[a] != 1 and all(inputs[k].shape[d] == 1 for k, d in refs)
        )
        if not axes:
            return [g]
        return [np.add.reduce(g, axis=axes, keepdims=True, dtype=g.dtype)]


class SubtensorGrad(Op):
    """Zeros of ``x``'s shape (and ``g``'s dtype) with ``g`` written at ``x[idx]``: the
    gradient of basic indexing. ``idx`` is a :class:`Subtensor` index structure.
    ``in_range``: whoever built the node guarantees the index is in range whenever it runs (a
    Jacobian's row seed: row k of k < len(x)), so rewrites may take the result's sum to be
    ``g`` without the check; the op itself still checks the index wherever it runs."""

    __props__ = ("idx", "in_range")
    in_range = False  # for ops pickled before the prop existed

    def __init__(self, idx: tuple, in_range: bool = False) -> None:
        self.idx = tuple(idx)
        self.in_range = bool(in_range)

    def __str__(self) -> str:
        return "Grad" + str(Subtensor(self.idx))

    def make_node(self, x: Variable, g: Variable, *bounds: Variable) -> Apply:
        return Apply(self, [x, g, *bounds], [TensorType(g.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g, bounds = inputs[0], inputs[1], inputs[2:]
        out = np.zeros(x.shape, dtype=node.outputs[0].dtype)
        out[Subtensor(self.idx).python_index(list(bounds))] = g
        return [out]


class ReducedSize(Op):
    """The number of elements a reduction combines, read from shapes only (no data): the
    product, over ``spec``'s entries (one per reduced axis), of the size numpy's broadcasting
    gives the sizes of the listed ``(k, dim)`` pairs (input ``k``'s size at ``dim``), as a 0-d
    ``dtype``. An entry lists several pairs when the reduced axis is the broadcast of several
    inputs' axes (rewrites read it from the variables that hold it, not from the reduced value:
    `rewrite.sizes`). Sizes that cannot be broadcast together raise ``ValueError``."""

    __props__ = ("spec", "dtype")

    def __init__(self, spec: tuple, dtype: str) -> None:
        self.spec = tuple(tuple((int(k), int(d)) for k, d in refs) for refs in spec)
        self.dtype = str(dtype)

    def make_node(self, *likes: Variable) -> Apply:
        for refs in self.spec:
            if not all(0 <= k < len(likes) and 0 <= d < likes[k].ndim for k, d in refs):
                raise ValueError(f"{self}: entry {refs} does not match the inputs {[v.type for v in likes]}")
        return Apply(self, list(likes), [TensorType(self.dtype, ())])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        n = 1
        for refs in self.spec:
            sizes = [inputs[k].shape[d] for k, d in refs]
            big = {s for s in sizes if s != 1}
            if len(big) > 1:
                raise BroadcastError(
                    f"{self}: sizes {sizes} cannot be broadcast together (numpy broadcasting rules)",
                    str(self),
                    [np.shape(i) for i in inputs],
                )
            n *= big.pop() if big else 1
        if np.dtype(self.dtype).kind in "iu" and n > np.iinfo(self.dtype).max:
            # views with zero strides (np.broadcast_to) can broadcast to such counts
            raise ValueError(
                f"{self}: the reduction would combine {n} elements, more than an array can hold; "
                "give smaller inputs"
            )
        return [np.asarray(n, dtype=self.dtype)]


#: numpy's sort, argsort and take/put_along_axis run on its legacy iterators, which take at
#: most 32 dims (numpy 2's arrays have up to 64)
_LANES_MAX_DIMS = 32


def along_lanes(fn: Callable[..., np.ndarray], axis: int, *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays, axis)`` for arrays of one shape, each lane along ``axis`` on its own (a
    sort, a gather along the sort's order). Past the dims numpy's iterators take, the same
    lanes as 3-d arrays (the dims before ``axis``, ``axis``, the dims after), the result in
    the arrays' shape again: numpy's result, which depends on each lane alone."""
    shape = arrays[0].shape
    if len(shape) <= _LANES_MAX_DIMS:
        return fn(*arrays, axis)
    ax = axis % len(shape)
    lanes = (math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1 :]))
    return fn(*(a.reshape(lanes) for a in arrays), 1).reshape(shape)


class SortGrad(Op):
    """The gradient of ``sort(x, axis)``: ``g`` (shaped like the sorted values) put back at
    the positions the values came from, ``out`` with ``out[argsort(x)] = g`` along ``axis``
    (``None``: ``x`` flattened, the result of ``x``'s shape). ``gather`` is the adjoint
    (``g[argsort(x)]``, the gradient of this op's ``g``). Ties are ordered as numpy's argsort
    orders them, the one sort itself uses."""

    __props__ = ("axis", "gather")

    def __init__(self, axis: int | None, gather: bool = False) -> None:
        self.axis = axis
        self.gather = bool(gather)

    def make_node(self, x: Variable, g: Variable) -> Apply:
        shape = g.type.shape if self.gather else x.type.shape
        return Apply(self, [x, g], [TensorType(g.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, g = inputs
        axis = -1 if self.axis is None else self.axis
        flat = x.reshape(-1) if self.axis is None else x
        if self.gather:
            return [along_lanes(_gather_sorted, axis, flat, g)]
        out = np.zeros(flat.shape, dtype=g.dtype)
        return [along_lanes(_scatter_sorted, axis, flat, g, out).reshape(x.shape)]


def _gather_sorted(x: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    return np.take_along_axis(g, np.argsort(x, axis=axis), axis=axis)


def _scatter_sorted(x: np.ndarray, g: np.ndarray, out: np.ndarray, axis: int) -> np.ndarray:
    """``out`` (zeros) with ``g`` put where ``x``'s sorted values came from."""
    np.put_along_axis(out, np.argsort(x, axis=axis), g, axis=axis)
    return out


class RepeatGrad(Op):
    """The gradient of ``repeat(x, repeats, axis)`` for a vector of ``repeats``: ``g`` summed
    over each element's run of copies along ``axis`` (a run of 0 copies gets 0)."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def make_node(self, g: Variable, repeats: Variable) -> Apply:
        shape = list(g.type.shape)
        shape[self.axis] = repeats.type.shape[0]
        return Apply(self, [g, repeats], [TensorType(g.dtype, tuple(shape))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        g, r = inputs
        shape = list(g.shape)
        shape[self.axis] = len(r)
        out = np.zeros(shape, dtype=g.dtype)
        # reduceat sums from each start to the next; runs of no copies are left out (their
        # start is the next run's) and keep 0
        filled = np.flatnonzero(r > 0)
        if filled.size:
            starts = (np.cumsum(r) - r)[filled]
            index = [slice(None)] * g.ndim
            index[self.axis] = filled
            out[tuple(index)] = np.add.reduceat(g, starts, axis=self.axis, dtype=g.dtype)
        return [out]


class ZerosSum(Op):
    """The sum over ``axes`` (dims kept) of ``x``'s elements that are 0: always 0, so it is
    made without reading ``x``, and its gradient is 1 at each of those elements. A product's
    gradient writes a term that is 0 because of a zero as that zero times the rest: the same
    value, and second derivatives at zeros that are exact, at no cost to the gradient."""

    __props__ = ("axes",)

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = tuple(int(a) for a in axes)

    def make_node(self, x: Variable) -> Apply:
        shape = tuple(1 if d in self.axes else s for d, s in enumerate(x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        shape = tuple(1 if d in self.axes else s for d, s in enumerate(inputs[0].shape))
        return [np.zeros(shape, dtype=node.outputs[0].dtype)]
