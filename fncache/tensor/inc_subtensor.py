"""Writing into a region of a tensor, as Theano's ``set_subtensor``/``inc_subtensor``: a new
tensor equal to ``x`` with ``x[idx]`` set to (or incremented by) ``y``, ``y`` broadcast to the
region as numpy's assignment broadcasts it. ``x`` itself is never modified: the op copies it,
then writes into the copy (other nodes, and the caller, may still read ``x``).

The index is the one indexing built (`Subtensor`'s structure and symbolic bounds, or an
`AdvancedSubtensor`'s key and index arrays): the first argument is ``x[idx]`` itself, as in Theano.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .basic import as_tensor_variable
from .elemwise import as_strong, cast
from .subtensor import Subtensor

__all__ = ["IncSubtensor", "set_subtensor", "inc_subtensor"]


def _function_name(set_instead_of_inc: bool) -> str:
    return "set_subtensor" if set_instead_of_inc else "inc_subtensor"


def check_fits(what: str, region: Sequence[int | None], y: Sequence[int | None]) -> None:
    """Raise ``ValueError`` unless a ``y`` of shape ``y`` broadcasts to ``region`` (``None``:
    a size not known yet, taken to fit): ``y`` has at most the region's dims, and each of its
    dims, aligned to the region's last ones, is 1 or the region's size."""
    fits = len(y) <= len(region) and all(
        s is None or r is None or s in (1, r) for r, s in zip(region[len(region) - len(y) :], y)
    )
    if not fits:
        raise ValueError(
            f"{what}: the region x[idx] has shape {tuple(region)} and y has shape {tuple(y)}, which"
            " does not broadcast to it (y may have fewer dims than the region, and each of its"
            " dims, aligned to the region's last ones, must be 1 or the region's size)"
        )


class IncSubtensor(Op):
    """``x`` copied, with ``y`` written at (``set_instead_of_inc``) or added to ``x[idx]``.
    Inputs: ``x``, ``y`` (of ``x``'s dtype), then the index's symbolic bounds."""

    __props__ = ("idx", "set_instead_of_inc")

    def __init__(self, idx: tuple, set_instead_of_inc: bool) -> None:
        self.idx = tuple(idx)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self) -> str:
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return kind + str(Subtensor(self.idx))

    def make_node(self, x: Variable, y: Variable, *bounds: Variable) -> Apply:
        if y.dtype != x.dtype:
            raise TypeError(f"{self}: y's dtype {y.dtype} is not x's {x.dtype} (cast it first)")
        region = Subtensor(self.idx).make_node(x, *bounds).outputs[0]
        check_fits(_function_name(self.set_instead_of_inc), region.type.shape, y.type.shape)
        return Apply(self, [x, y, *bounds], [TensorType(x.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, y, bounds = inputs[0], inputs[1], list(inputs[2:])
        out = np.array(x, copy=True, order="C")
        region = Subtensor(self.idx).region(out, bounds)
        check_fits(_function_name(self.set_instead_of_inc), region.shape, np.shape(y))
        if self.set_instead_of_inc:
            region[...] = y
        else:
            region += y
        return [out]


def _write(region: Any, y: Any, set_instead_of_inc: bool) -> Variable:
    what = _function_name(set_instead_of_inc)
    from .advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensor

    owner = region.owner if isinstance(region, Variable) else None
    if owner is None or not isinstance(owner.op, (Subtensor, AdvancedSubtensor)):
        hint = (
            " (x[:] and x[...] are x itself, not an indexing result: to write all of x, use"
            " ft.zeros_like(x) + y for set_subtensor, x + y for inc_subtensor)"
            if isinstance(region, Variable) and region.owner is None
            else ""
        )
        raise TypeError(
            f"{what}: the first argument must be the result of indexing a tensor, as in"
            f" {what}(x[1:3], y) or {what}(x[ivec], y); got {region!r}{hint}"
        )
    x, bounds = owner.inputs[0], owner.inputs[1:]
    # a Python number takes x's dtype where it fits (numpy's x[idx] = 200 into uint8, NEP 50),
    # and raises numpy's OverflowError where it does not
    try:
        y = as_strong([x, y], (0, 1), what)[1]
    except OverflowError:
        raise OverflowError(
            f"{what}: the Python number {y!r} is out of bounds for x's dtype {x.dtype}; give a value"
            " that fits, or cast x first"
        ) from None
    if not np.can_cast(y.dtype, x.dtype, "same_kind"):
        raise TypeError(
            f"{what}: cannot write {y.dtype} values into a {x.dtype} tensor (numpy's same-kind"
            f" casting rule); cast y first, e.g. ft.cast(y, {x.dtype!r})"
        )
    if y.dtype != x.dtype:
        y = cast(y, x.dtype)
    if isinstance(owner.op, AdvancedSubtensor):
        return AdvancedIncSubtensor(owner.op.key, set_instead_of_inc)(x, y, *bounds)
    return IncSubtensor(owner.op.idx, set_instead_of_inc)(x, y, *bounds)


def set_subtensor(
    x_region: Variable,
    y: Any,
    inplace: bool = False,
    tolerate_inc_all_constant: bool = False,
    *,
    tolerate_inplace_aliasing: bool = False,
) -> Variable:
    """A new tensor equal to ``x`` with ``x[idx]`` set to ``y``, for ``x_region = x[idx]``
    (ints and slices, symbolic bounds too, or index arrays: of a repeated index, the last
    write stays, as in numpy); ``y`` broadcasts to the region and is cast to
    ``x``'s dtype where numpy's same-kind rule allows. ``x`` is not modified.

    ``inplace``, ``tolerate_inc_all_constant`` (Theano's) and ``tolerate_inplace_aliasing``
    (PyTensor's name of it) are taken so their code runs unchanged: the result is always a new
    tensor (the compiler writes in place where no other node reads ``x``) and a write into a
    constant is always allowed."""
    return _write(x_region, y, True)


def inc_subtensor(
    x_region: Variable,
    y: Any,
    inplace: bool = False,
    set_instead_of_inc: bool = False,
    tolerate_inc_all_constant: bool = False,
    ignore_duplicates: bool = False,
    *,
    tolerate_inplace_aliasing: bool = False,
) -> Variable:
    """A new tensor equal to ``x`` with ``y`` added to ``x[idx]``, for ``x_region = x[idx]``
    (a repeated index of index arrays gets each of its values added, as ``np.add.at``);
    as `set_subtensor` otherwise (``set_instead_of_inc=True``, Theano's keyword: it is one).

    ``ignore_duplicates=True`` is PyTensor's numpy ``x[idx] += y``: each element is written
    once, from ``x[idx] + y``, so of a repeated index one write stays and the others are lost.
    ``inplace``, ``tolerate_inc_all_constant`` and ``tolerate_inplace_aliasing`` are taken as
    `set_subtensor` takes them."""
    if set_instead_of_inc not in (True, False) or ignore_duplicates not in (True, False):
        raise TypeError(
            "inc_subtensor: set_instead_of_inc and ignore_duplicates are flags (True or False),"
            f" got {set_instead_of_inc!r} and {ignore_duplicates!r}; pass y as the second"
            " argument and the flags by keyword"
        )
    if ignore_duplicates and not set_instead_of_inc:
        return _write(x_region, x_region + as_tensor_variable(y), True)
    return _write(x_region, y, bool(set_instead_of_inc))
