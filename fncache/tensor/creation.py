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
from ..graph.args import as_int, flag, int_arg
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_int, normalize_dtype
from .basic import as_tensor_variable, constant, refuse_python_bool
from .elemwise import Elemwise, cast
from .scalar_ops import result_type
from .shape_ops import DimShuffle, Shape, as_shape_vector, constant_entries, shape, static_int
from .op_call import op_call

__all__ = [
    "Alloc",
    "ARange",
    "arange_stop",
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
        raise ValueError(f"{what}: negative dimensions are not allowed (got {n}); give sizes >= 0")
    return n


class Alloc(Op):
    """A new array of the shape given by the int vector input, filled with the value input
    (broadcast as numpy broadcasts it). ``what`` is the function the user called (its errors
    name it: ``broadcast_to``'s sizes are the user's, not an internal op's)."""

    __props__ = ("ndim", "what")

    def __init__(self, ndim: int, what: str = "alloc") -> None:
        self.ndim = ndim
        self.what = what

    def __str__(self) -> str:
        return f"Alloc{{{self.ndim}}}"  # ``what`` only words its error messages

    def make_node(self, value: Variable, shp: Variable) -> Apply:
        if value.ndim > self.ndim:
            raise ValueError(
                f"{self.what}: the value has {value.ndim} dims, more than the {self.ndim} of the shape"
                "; give at least one size per dim of the value"
            )
        # the constant entries are the output's sizes (a run gives those or fails)
        static: tuple = constant_entries(shp) or (None,) * self.ndim
        if any(s is not None and s < 0 for s in static):
            shown = tuple("?" if s is None else s for s in static)
            raise ValueError(f"{self.what}: negative dimensions are not allowed: {shown}; give sizes >= 0")
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
                    f"{self.what}: the value has static shape {value.type.shape}, which cannot be "
                    f"broadcast to the shape {shown} (its dim {d} of size {s} needs a size {s} there, "
                    "or a value of size 1)"
                )
        static = tuple(static)
        return Apply(self, [value, shp], [TensorType(value.dtype, static)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        value, shp = inputs
        dims = tuple(_size(np.asarray(s), self.what) for s in shp)
        out = np.empty(dims, dtype=node.outputs[0].dtype)
        try:
            np.copyto(out, value)
        except ValueError:
            raise ValueError(
                f"{self.what}: a value of shape {np.shape(value)} cannot be broadcast to the shape "
                f"{dims} (each of its sizes must be 1 or the shape's size at the same place, "
                "counting from the last)"
            ) from None
        return [out]


@op_call
def alloc(value: Any, *shape: Any, what: str = "alloc") -> Variable:
    """``value`` broadcast to ``shape`` (ints or symbolic int scalars) in a new array; its
    errors name ``what``, the function the user called."""
    v = as_tensor_variable(value)
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, Variable, np.ndarray)):
        shape = shape[0]
    vec = as_shape_vector(list(shape) if isinstance(shape, tuple) else shape, what)
    n = vec.type.shape[0]
    if n is None:
        raise TypeError(
            f"{what}: the shape vector's length must be known; give the sizes as a list of ints or int scalars"
        )
    return Alloc(n, what)(v, vec)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Variable:
    """numpy.full: ``shape`` an int, a sequence of ints / int scalars or an int vector."""
    return _full(shape, fill_value, dtype, "full")


def _full(shape: Any, fill_value: Any, dtype: Any, what: str) -> Variable:
    """:func:`full`, its errors naming ``what``, the function the user called."""
    if isinstance(fill_value, Variable):
        v = fill_value if dtype is None else cast(fill_value, dtype)
    else:
        refuse_python_bool(fill_value, what)
        v = constant(fill_value, dtype=None if dtype is None else normalize_dtype(dtype))
    if v.ndim:
        raise ValueError(f"{what}: fill_value must be a scalar, got {v.type}")
    shp = (
        [shape]
        if as_int(shape) is not None or (isinstance(shape, (Variable, np.ndarray)) and shape.ndim == 0)
        else shape
    )
    return alloc(v, shp, what=what)


def zeros(shape: Any, dtype: Any = None) -> Variable:
    """numpy.zeros (default dtype ``config.floatX``)."""
    return _full(shape, 0, normalize_dtype(dtype, "zeros"), "zeros")


def ones(shape: Any, dtype: Any = None) -> Variable:
    """numpy.ones (default dtype ``config.floatX``)."""
    return _full(shape, 1, normalize_dtype(dtype, "ones"), "ones")


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Variable:
    """numpy.full_like: ``x``'s shape filled with ``fill_value``, of ``x``'s dtype (or
    ``dtype``). As numpy computes its operand, a computed ``x`` whose computation may raise (a
    size check, an integer power) is computed, and its error raised; where it cannot, its sizes
    are read from the values it is computed from and its data is not computed."""
    v = as_tensor_variable(x)
    dt = v.dtype if dtype is None else normalize_dtype(dtype, "full_like")
    sizes = _sizes_without_data(v, {})
    # the shape of the computed value (a 0-d one's too): its static sizes stay in the result's type
    return full(Shape()(v) if sizes is None else sizes, fill_value, dt)


#: How deep :func:`_sizes_without_data` looks (a longer chain is computed instead).
_MAX_SIZE_DEPTH = 32


def _sizes_without_data(v: Variable, memo: dict[int, list | None], depth: int = 0) -> list | None:
    """The sizes of ``v`` (ints where static, else symbolic), read from the inputs it is
    computed from, where computing ``v`` cannot raise: elementwise ops whose broadcasting the
    static shapes decide (in each dim at most one input not of size 1, or all of one known
    size) and that raise nothing (an integer power may), dimshuffles, and reductions that
    raise nothing on an empty axis. None elsewhere."""
    if id(v) in memo:
        return memo[id(v)]
    node = v.owner
    out: list | None = None
    if node is None:
        out = [shape(v)[d] if s is None else s for d, s in enumerate(v.type.shape)]
    elif depth < _MAX_SIZE_DEPTH:
        out = _node_sizes(node, v, memo, depth + 1)
    memo[id(v)] = out
    return out


def _node_sizes(node: Apply, v: Variable, memo: dict[int, list | None], depth: int) -> list | None:
    from .reduction import Reduce

    op = node.op
    if isinstance(op, DimShuffle):
        ins = _sizes_without_data(node.inputs[0], memo, depth)
        return None if ins is None else [1 if p == "x" else ins[p] for p in op.pattern]
    if isinstance(op, Reduce):
        if op.pre is not None or len(node.inputs) != 1 or op.kind in ("max", "min"):
            return None
        ins = _sizes_without_data(node.inputs[0], memo, depth)
        return None if ins is None else [s for d, s in enumerate(ins) if d not in op.axes]
    if not isinstance(op, Elemwise) or op.composite.may_raise:
        return None
    out: list = []
    for d in range(v.ndim):
        there = [(i, d - v.ndim + i.ndim) for i in node.inputs if d - v.ndim + i.ndim >= 0]
        grown = [(i, e) for i, e in there if i.type.shape[e] != 1]
        known = {i.type.shape[e] for i, e in grown}
        if len(grown) > 1 and (None in known or len(known) > 1):
            return None  # broadcasting is checked when the function runs
        if not grown:
            out.append(1)
        elif len(grown) > 1 or v.type.shape[d] is not None:
            out.append(v.type.shape[d])
        else:
            i, e = grown[0]
            ins = _sizes_without_data(i, memo, depth)
            if ins is None:
                return None
            out.append(ins[e])
    # every input is computed without raising too
    if any(_sizes_without_data(i, memo, depth) is None for i in node.inputs):
        return None
    return out


def zeros_like(x: Any, dtype: Any = None, opt: bool = False) -> Variable:
    """numpy.zeros_like: the shape of ``x`` and its dtype (or ``dtype``). ``opt`` (Theano's and
    PyTensor's: a constant for a constant ``x``) is taken and changes nothing: the rewrites
    fold a constant's zeros anyway."""
    flag(opt, "zeros_like", "opt")
    return full_like(x, 0, dtype)


def ones_like(x: Any, dtype: Any = None, opt: bool = False) -> Variable:
    """numpy.ones_like: the shape of ``x`` and its dtype (or ``dtype``); ``opt`` as
    :func:`zeros_like`'s."""
    flag(opt, "ones_like", "opt")
    return full_like(x, 1, dtype)


def empty(shape: Any, dtype: Any = None) -> Variable:
    """numpy.empty: an array of ``shape`` whose values the caller will overwrite (default dtype
    ``config.floatX``). It holds zeros, so a value read before it is written is 0, not
    numpy's leftover memory."""
    return _full(shape, 0, normalize_dtype(dtype, "empty"), "empty")


def empty_like(x: Any, dtype: Any = None) -> Variable:
    """numpy.empty_like: :func:`empty` of ``x``'s shape and dtype (or ``dtype``)."""
    return zeros_like(x, dtype)


class ARange(Op):
    """numpy.arange(start, stop, step) of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, start: Variable, stop: Variable, step: Variable) -> Apply:
        from .constant_value import get_scalar_constant_value

        n: int | None = None
        given = (start, stop, step)
        bounds = [get_scalar_constant_value(v, raise_not_constant=False) for v in given]
        if all(b is not v for b, v in zip(bounds, given)):
            # constants, or values read from static sizes (arange(x.shape[0]))
            n = len(self._run(*bounds))
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


def arange_stop(v: Variable) -> Variable | None:
    """``n`` where ``v`` is ``arange(0, n, 1)`` (``arange(n)``: each of ``0 .. n-1`` once)."""
    if v.owner is None or not isinstance(v.owner.op, ARange):
        return None
    start, stop, step = v.owner.inputs
    one = [isinstance(c, Constant) and c.data.ndim == 0 and c.data == w for c, w in ((start, 0), (step, 1))]
    return stop if all(one) else None


#: The dtype numpy's arange gives bounds of each kind (uint64 ones are kept apart)
_ARANGE_KIND = {"b": np.int64, "i": np.int64, "u": np.int64, "f": np.float64, "c": np.complex128}


def number_arg(a: Any, fn: str, what: str) -> None:
    """``a``, the argument ``what`` of ``fn`` given as a value where a scalar belongs (a bound of
    a range): a real or complex number (a Python or numpy one, a 0-d array) that fits numpy's
    int64 where it is an int; else a ValueError for an array or an int out of int64's range, a
    TypeError for what is no number, naming both."""
    if as_int(a) is not None:
        int_arg(a, fn, what)  # within int64, as numpy's
        return
    number = isinstance(a, (float, complex, np.generic)) or (isinstance(a, np.ndarray) and a.ndim == 0)
    if not number and isinstance(a, (list, tuple, np.ndarray)):
        raise ValueError(f"{fn}: {what} must be a scalar, got {a!r}; {fn} takes no arrays")
    if not number or np.asarray(a).dtype.kind not in "biufc":
        raise TypeError(
            f"{fn}: {what} must be a number or a symbolic scalar, got {a!r}; give an int, a float or a 0-d tensor"
        )


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Variable:
    """numpy.arange: Python numbers or symbolic scalars; the dtype is numpy's for the
    arguments (int64 for ints, float64 for floats) unless ``dtype`` is given. Under
    ``floatX=float32`` a float range is PyTensor's: of the dtype the bounds promote to,
    Python floats float32 (``arange(0, 1, 0.1)`` is float32, a float64 bound float64)."""
    if stop is None:
        start, stop = 0, start
    args = [as_tensor_variable(a) if isinstance(a, Variable) else a for a in (start, stop, step)]
    for a, what in zip(args, ("start", "stop", "step")):
        if not isinstance(a, Variable):
            number_arg(a, "arange", what)
    if dtype is None:
        # numpy's arange takes its bounds as Python numbers: int8 or float32 bounds give int64
        # or float64 (uint64 stays, and promotes with int64 to float64, below)
        dts = [np.result_type(a.dtype if isinstance(a, Variable) else a) for a in args]
        kinds = [np.uint64 if d == np.uint64 else _ARANGE_KIND[d.kind] for d in dts]
        if np.uint64 in kinds:
            # numpy promotes the bounds with its default int64, which takes no uint64: float64
            kinds.append(np.int64)
        dtype = normalize_dtype(np.result_type(*kinds), "arange")
        if dtype == "float64" and config.floatX == "float32":
            bounds = result_type(*[a.dtype if isinstance(a, Variable) else a for a in args])
            dtype = "float32" if bounds == np.float32 else dtype
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
        # constants, or values read from static sizes (eye(x.shape[0]))
        shape = (static_int(n), static_int(m))
        for size, what in zip(shape, ("n", "m")):
            if size is not None and size < 0:
                raise ValueError(f"eye: {what} must not be negative, got {size}")
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
