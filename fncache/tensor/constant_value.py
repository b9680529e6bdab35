"""The value of a variable known before any function runs: Theano/PyTensor's
``get_scalar_constant_value`` and ``get_underlying_scalar_constant_value`` (README
"Compiling"), which graph-building code uses to specialize on a constant (a static size, a
constant exponent)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NotScalarConstantError
from ..graph.basic import Constant, Variable, has_side_effects
from .elemwise import Elemwise
from .pyop import CheckAndRaise
from .random import RandomDraw, RandomVariable
from .shape_ops import Shape, dim_read

__all__ = [
    "NotScalarConstantError",
    "get_scalar_constant_value",
    "get_underlying_scalar_constant_value",
    "get_vector_length",
]

#: The largest intermediate value evaluated while digging (as the ``constant_folding`` rewrite
#: limits what it folds): a constant scalar is never hidden behind a large computation.
_MAX_SIZE = 1 << 16


def get_underlying_scalar_constant_value(
    v: Any,
    elemwise: bool = True,
    only_process_constants: bool = False,
    max_recur: int = 10,
    raise_not_constant: bool = True,
) -> Any:
    """The scalar behind ``v`` as a 0-d array of its dtype: a Python number, a numpy value, a
    constant, or the result of ops on constants and static shapes (at most ``max_recur`` ops
    deep; through elementwise ops only with ``elemwise``; none with
    ``only_process_constants``), evaluated now. An array whose elements are all one value
    (``ft.alloc(2.0, 3)``) gives that value. Raises ``NotScalarConstantError`` when the value
    is only known when a function runs (it reads an input, a shared variable, a random draw
    or a Python op), or with ``raise_not_constant=False`` (PyTensor's) returns ``v`` itself."""
    try:
        return _underlying(v, elemwise, only_process_constants, max_recur)
    except NotScalarConstantError:
        if raise_not_constant:
            raise
        return v


def _underlying(v: Any, elemwise: bool, only_process_constants: bool, max_recur: int) -> np.ndarray:
    if not isinstance(v, Variable):
        try:
            data = np.asarray(v)
        except Exception:
            raise NotScalarConstantError(f"{v!r} is not a number, an array or a variable") from None
        if data.dtype == object:
            raise NotScalarConstantError(f"{v!r} is not a number, an array or a variable")
        return _unique(data, v)
    return np.array(_unique(_value(v, max_recur, elemwise, only_process_constants), v), dtype=v.dtype)


def get_scalar_constant_value(
    v: Any,
    elemwise: bool = True,
    only_process_constants: bool = False,
    max_recur: int = 10,
    raise_not_constant: bool = True,
) -> Any:
    """:func:`get_underlying_scalar_constant_value` of a 0-d ``v`` (a variable of another
    ``ndim`` raises ``NotScalarConstantError``, as PyTensor's). With
    ``raise_not_constant=False``, ``v`` itself comes back instead of the error."""
    if isinstance(v, Variable) and v.ndim != 0:
        if raise_not_constant:
            raise NotScalarConstantError(f"{v!r} is not a scalar: its type is {v.type}")
        return v
    return get_underlying_scalar_constant_value(
        v, elemwise, only_process_constants, max_recur, raise_not_constant
    )


def get_vector_length(v: Any) -> int:
    """PyTensor's ``get_vector_length``: the length of the vector ``v`` known when the graph is
    built (a list, a tuple, a constant, a static size, or the shape of a tensor, whose length
    is its number of dims). ``ValueError`` when it is only known when a function runs."""
    from .basic import as_tensor_variable

    if isinstance(v, (list, tuple)):
        return len(v)
    var = as_tensor_variable(v)
    if var.ndim != 1:
        raise TypeError(f"get_vector_length: takes a vector (1 dim), got {var.type}")
    if var.type.shape[0] is not None:
        return int(var.type.shape[0])
    if var.owner is not None and isinstance(var.owner.op, Shape):
        return var.owner.inputs[0].ndim
    raise ValueError(
        f"get_vector_length: the length of {var!r} is only known when the function runs; declare it"
        " with ft.specify_shape(v, (n,))"
    )


def _value(v: Variable, depth: int, elemwise: bool, only_constants: bool) -> np.ndarray:
    if isinstance(v, Constant):
        return v.data
    node = v.owner
    if node is None or only_constants or depth <= 0:
        raise NotScalarConstantError(f"{v!r} is not a constant")
    op = node.op
    if isinstance(op, Shape) and None not in node.inputs[0].type.shape:
        return np.asarray(node.inputs[0].type.shape, dtype="int64")
    size = _static_size(v)
    if size is not None:
        return np.asarray(size, dtype="int64")
    # user code, printing, assertions and draws are evaluated when the function runs, never here
    if (
        has_side_effects(op)
        or isinstance(op, (CheckAndRaise, RandomDraw, RandomVariable, Shape))
        or (isinstance(op, Elemwise) and not elemwise)
    ):
        raise NotScalarConstantError(f"{v!r} is computed by {op} when the function runs")
    ins = [_value(i, depth - 1, elemwise, only_constants) for i in node.inputs]
    if any(np.size(a) > _MAX_SIZE for a in ins):
        raise NotScalarConstantError(f"{v!r} is computed from arrays too large to evaluate now")
    return np.asarray(op.perform(node, ins)[v.index])


def _static_size(v: Variable) -> int | None:
    """The static size ``x.shape[k]`` (``k`` a constant) reads, where ``x``'s type declares it
    though not all of ``x``'s sizes."""
    read = dim_read(v)
    return None if read is None else read[0].type.shape[read[1]]


def _unique(data: np.ndarray, v: Any) -> np.ndarray:
    flat = data.reshape(-1)
    if flat.size == 0 or not np.array_equal(
        flat, np.full_like(flat, flat[0]), equal_nan=flat.dtype.kind in "fc"
    ):
        raise NotScalarConstantError(f"{v!r} is not one scalar value (shape {data.shape})")
    return np.array(flat[0])
