"""Array creation: ``alloc zeros ones full zeros_like ones_like full_like arange eye``.

These ops run numpy (``np.full``, ``np.arange``, ``np.eye``) in both linkers: filling memory is
all they do, numpy's loops are C already, and a generated kernel would buy nothing. Sizes may be
Python ints or symbolic int scalars; each constant size is a static size (``zeros((n, 3))``
is (None, 3)), so the ops' outputs broadcast and fuse like any other tensor.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..config import config
from ..graph.args import as_int
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_int, normalize_dtype
from .basic import as_tensor_variable, constant
from .elemwise import cast
from .shape_ops import as_shape_vector, constant_entries, shape

__all__ = [
    "Alloc",
    "ARange",
    "Eye",
    "alloc",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty",
    "empty_like",
    "arange",
    "eye",
]


def _int_scalar(x: Any, what: str) -> Variable:
    v = as_tensor_variable(x)
    if v.ndim != 0 or not (is_int(v.dtype) or v.dtype == "bool"):
        raise TypeError(f"{what} must be an int or a symbolic int scalar, got {v.type}")
    return v


def _size(a: np.ndarray, what: str) -> int:
    n = operator.index(a.item())
    if n < 0:
        raise ValueError(f"{what}: negative dimensions are not allowed (got {n})")
    return n


class Alloc(Op):
    """A new array of the shape given by the int vector input, filled with the value input
    (broadcast as numpy broadcasts it)."""

    __props__ = ("ndim",)

    def __init__(self, ndim: int) -> None:
        self.ndim = ndim

    def make_node(self, value: Variable, shp: Variable) -> Apply:
        if value.ndim > self.ndim:
            raise ValueError(
                f"alloc: the value has {value.ndim} dims, more than the {self.ndim} of the shape"
            )
        # the constant entries are the output's sizes (a run gives those or fails)
        static: tuple = constant_entries(shp) or (None,) * self.ndim
        if any(s is not None and s < 0 for s in static):
            shown = tuple("?" if s is None else s for s in static)
            raise ValueError(f"alloc: negative dimensions are not allowed: {shown}")
        static = list(static)
        lead = self.ndim - value.ndim
        for d, s in enumerate(value.type.shape):
            if s is None or s == 1:
                continue
            if static[lead + d] is None:
                static[lead + d] = s  # a symbolic size where the value's is known can only be it
            elif static[lead + d] != s:
                shown = tuple("?" if t is None else t for t in static)
                raise ValueError(
                    f"alloc: the value has static shape {value.type.shape}, which cannot be broadcast"
                    f" to the shape {shown} (its dim {d} of size {s} needs a size {s} there, or a"
                    " value of size 1)"
                )
        static = tuple(static)
        return Apply(self, [value, shp], [TensorType(value.dtype, static)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        value, shp = inputs
        dims = tuple(_size(np.asarray(s), "alloc") for s in shp)
        out = np.empty(dims, dtype=node.outputs[0].dtype)
        try:
            np.copyto(out, value)
        except ValueError:
            raise ValueError(
                f"alloc: a value of shape {np.shape(value)} cannot be broadcast to the shape {dims}"
            ) from None
        return [out]


def alloc(value: Any, *shape: Any) -> Variable:
    """``value`` broadcast to ``shape`` (ints or symbolic int scalars) in a new array."""
    v = as_tensor_variable(value)
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, Variable, np.ndarray)):
        shape = shape[0]
    vec = as_shape_vector(list(shape) if isinstance(shape, tuple) else shape, "alloc")
    n = vec.type.shape[0]
    if n is None:
        raise TypeError(
            "alloc: the shape vector's length must be known; give the sizes as a list of ints or int scalars"
        )
    return Alloc(n)(v, vec)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Variable:
    """numpy.full: ``shape`` an int, a sequence of ints / int scalars or an int vector."""
    if isinstance(fill_value, Variable):
        v = fill_value if dtype is None else cast(fill_value, dtype)
    else:
        v = constant(fill_value, dtype=None if dtype is None else normalize_dtype(dtype))
    if v.ndim:
        raise ValueError(f"full: fill_value must be a scalar, got {v.type}")
    shp = (
        [shape]
        if as_int(shape) is not None or (isinstance(shape, (Variable, np.ndarray)) and shape.ndim == 0)
        else shape
    )
    return alloc(v, shp)


def zeros(shape: Any, dtype: Any = None) -> Variable:
    """numpy.zeros (default dtype ``config.floatX``)."""
    return full(shape, 0, normalize_dtype(dtype, "zeros"))


def ones(shape: Any, dtype: Any = None) -> Variable:
    """numpy.ones (default dtype ``config.floatX``)."""
    return full(shape, 1, normalize_dtype(dtype, "ones"))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Variable:
    v = as_tensor_variable(x)
    dt = v.dtype if dtype is None else normalize_dtype(dtype, "full_like")
    # the static sizes stay static (the result broadcasts and fuses like x)
    shp: Any = list(v.type.shape)
    if v.owner is not None and v.ndim and None not in shp:
        # a computed value's sizes come from computing it (its op checks that they fit, as
        # numpy's would): read them, and keep the static ones in the result's type
        from .array_ops import specify_shape

        run = shape(v)
        return specify_shape(full([run[d] for d in range(v.ndim)], fill_value, dt), shp)
    if None in shp:
        run = shape(v)
        shp = [run[d] if s is None else s for d, s in enumerate(shp)]
    return full(shp, fill_value, dt)


def zeros_like(x: Any, dtype: Any = None) -> Variable:
    """numpy.zeros_like: the shape of ``x`` and its dtype (or ``dtype``)."""
    return full_like(x, 0, dtype)


def ones_like(x: Any, dtype: Any = None) -> Variable:
    """numpy.ones_like: the shape of ``x`` and its dtype (or ``dtype``)."""
    return full_like(x, 1, dtype)


def empty(shape: Any, dtype: Any = None) -> Variable:
    """numpy.empty: an array of ``shape`` whose values the caller will overwrite (default dtype
    ``config.floatX``). It holds zeros, so a value read before it is written is 0, not
    numpy's leftover memory."""
    return zeros(shape, normalize_dtype(dtype, "empty"))


def empty_like(x: Any, dtype: Any = None) -> Variable:
    """numpy.empty_like: :func:`empty` of ``x``'s shape and dtype (or ``dtype``)."""
    return zeros_like(x, dtype)


class ARange(Op):
    """numpy.arange(start, stop, step) of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, start: Variable, stop: Variable, step: Variable) -> Apply:
        n: int | None = None
        if all(isinstance(v, Constant) for v in (start, stop, step)):
            n = len(self._run(start.data, stop.data, step.data))
        return Apply(self, [start, stop, step], [TensorType(self.dtype, (n,))])

    def _run(self, start: Any, stop: Any, step: Any) -> np.ndarray:
        if step == 0:
            raise ValueError("arange: step must not be zero")
        bounds = [np.asarray(b) for b in (start, stop, step)]
        # Integer bounds as Python ints: numpy's arange takes stop - start in the scalars' own
        # type, and bounds a whole int64 apart wrap to an empty (or wrong) range.
        args = [b.item() if b.dtype.kind in "iu" else b[()] for b in bounds]
        return np.arange(*args, dtype=self.dtype)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [self._run(*inputs)]


#: The dtype numpy's arange gives bounds of each kind (uint64 ones are kept apart)
_ARANGE_KIND = {"b": np.int64, "i": np.int64, "u": np.int64, "f": np.float64, "c": np.complex128}


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Variable:
    """numpy.arange: Python numbers or symbolic scalars; the dtype is numpy's for the
    arguments (int64 for ints, float64 for floats) unless ``dtype`` is given."""
    if stop is None:
        start, stop = 0, start
    args = [as_tensor_variable(a) if isinstance(a, Variable) else a for a in (start, stop, step)]
    if dtype is None:
        # numpy's arange takes its bounds as Python numbers: int8 or float32 bounds give int64
        # or float64 (uint64 stays, and promotes with int64 to float64, below)
        dts = [np.result_type(a.dtype if isinstance(a, Variable) else a) for a in args]
        kinds = [np.uint64 if d == np.uint64 else _ARANGE_KIND[d.kind] for d in dts]
        if np.uint64 in kinds:
            # numpy promotes the bounds with its default int64, which takes no uint64: float64
            kinds.append(np.int64)
        dtype = normalize_dtype(np.result_type(*kinds), "arange")
    else:
        dtype = normalize_dtype(dtype, "arange")
    # a constant bound holds its value and the dtype's kind, but a complex dtype's bounds stay
    # real: numpy's arange of complex bounds counts no values (arange(0j, 4, 1 + 0j) is empty)
    real = np.dtype(dtype).type(0).real.dtype
    vs = []
    for a, what in zip(args, ("start", "stop", "step")):
        v = (
            as_tensor_variable(a)
            if isinstance(a, Variable)
            else constant(np.asarray(a, dtype=np.result_type(a, real)))
        )
        if v.ndim:
            raise ValueError(f"arange: {what} must be a scalar, got {v.type}")
        if v.dtype == "bool":
            raise TypeError(f"arange: {what} must be a number, got a bool")
        vs.append(v)
    return ARange(dtype)(*vs)


class Eye(Op):
    """numpy.eye(n, m, k) of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, n: Variable, m: Variable, k: Variable) -> Apply:
        shape = tuple(int(v.data) if isinstance(v, Constant) else None for v in (n, m))
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        n, m, k = (operator.index(a.item()) for a in inputs)
        _size(np.asarray(n), "eye")
        _size(np.asarray(m), "eye")
        return [np.eye(n, m, k, dtype=self.dtype)]


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = None) -> Variable:
    """numpy.eye (default dtype ``config.floatX``): ones on the k-th diagonal of an n x m matrix."""
    dt = normalize_dtype(dtype or config.floatX, "eye")
    nv = _int_scalar(n, "eye: n")
    mv = nv if m is None else _int_scalar(m, "eye: m")
    for v, what in ((nv, "n"), (mv, "m")):
        if isinstance(v, Constant) and int(v.data) < 0:
            raise ValueError(f"eye: {what} must not be negative, got {int(v.data)}")
    return Eye(dt)(nv, mv, _int_scalar(k, "eye: k"))
