"""``fncache.tensor.shape``, PyTensor's module path of the shape functions
(``from pytensor.tensor.shape import specify_shape, shape_padleft``): the front end's own,
and PyTensor's ``shape_i`` and ``shape_tuple``."""

from __future__ import annotations

from typing import Any

from ..graph.args import int_arg
from ..graph.basic import Variable
from .array_ops import (
    SpecifyShape,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    specify_broadcastable,
    specify_shape,
    unbroadcast,
)
from .basic import as_tensor_variable, constant
from .shape_ops import Reshape, Shape, reshape, shape

__all__ = [
    "Reshape",
    "Shape",
    "SpecifyShape",
    "reshape",
    "shape",
    "shape_i",
    "shape_padaxis",
    "shape_padleft",
    "shape_padright",
    "shape_tuple",
    "specify_broadcastable",
    "specify_shape",
    "unbroadcast",
]


def shape_i(x: Any, i: int, fgraph: Any = None) -> Variable:
    """PyTensor's ``shape_i``: the size of dim ``i`` of ``x`` (negative counts from the end),
    a constant where the static shape knows it. ``fgraph`` (PyTensor's: a graph whose shape
    feature may know the size) is taken and not read: the static shape is what is known."""
    v = as_tensor_variable(x)
    i = int_arg(i, "shape_i", "i")
    if not -v.ndim <= i < v.ndim:
        raise ValueError(f"shape_i: dim {i} is out of range for {v.type} ({v.ndim} dims)")
    known = v.type.shape[i]
    return constant(known, dtype="int64") if known is not None else shape(v)[i]


def shape_tuple(x: Any) -> tuple[Variable, ...]:
    """PyTensor's ``shape_tuple``: one ``shape_i`` per dim of ``x``."""
    v = as_tensor_variable(x)
    return tuple(shape_i(v, i) for i in range(v.ndim))
