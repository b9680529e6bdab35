"""Evenly spaced values and coordinate grids: numpy's ``linspace logspace geomspace meshgrid
bartlett`` and PyTensor's ``mgrid`` ``ogrid``, built on ``arange`` with elementwise arithmetic and
dimshuffles (so the values follow numpy's rounding and the gradient reaches a symbolic start or
stop, or the coordinate vectors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex, is_float, is_int, normalize_dtype
from ..graph.args import as_int, op_at_entry
from .basic import as_tensor_variable, constant
from .creation import alloc, arange, number_arg
from .elemwise import cast, elemwise
from .extra_ops import broadcast_arrays
from .pyop import check_value
from .scalar_ops import default_float, result_type
from .shape_ops import dimshuffle, flatten
from .size_args import size_arg

__all__ = ["linspace", "logspace", "geomspace", "meshgrid", "bartlett", "mgrid", "ogrid"]


def _scalar_in(value: Any, dt: str, what: str, fn: str = "linspace") -> Variable:
    v = as_tensor_variable(value) if isinstance(value, Variable) else constant(np.asarray(value, dt))
    if v.ndim != 0:
        raise ValueError(f"{op_at_entry(fn)}: {what} must be a scalar, got {v.type}; {fn} takes no arrays")
    return cast(v, dt) if v.dtype != dt else v


def _check_range_args(fn: str, num: Any, axis: Any, *values: tuple[Any, str]) -> int | Variable:
    """The arguments numpy's evenly spaced ranges share: ``num`` (returned as a Python int
    where known when the graph is built, else the int64 scalar checked when the function
    runs), real scalars, and ``axis`` 0 (one range, so there is no other axis to put it along)."""
    n = size_arg(num, fn, "num")
    if as_int(axis) not in (0, -1):
        # numpy's error for an int axis its 1-d result does not have
        err = ValueError if as_int(axis) is None else np.exceptions.AxisError
        raise err(f"{fn}: axis must be 0 (start and stop are scalars, the result one vector), got {axis!r}")
    for value, what in values:
        if what != "base" and not isinstance(value, Variable):
            number_arg(value, fn, what)  # numpy's ranges take arrays of ends; these take scalars
        if isinstance(value, (complex, np.complexfloating)) or (
            isinstance(value, Variable) and is_complex(value.dtype)
        ):
            raise TypeError(f"{fn}: {what} must be real, got {value!r}")
    return n


def _numpy_operand(value: Any) -> Any:
    """What numpy's type promotion sees for ``value``: a symbolic value's dtype, a number as
    itself (a Python number is weak, as in numpy 2)."""
    return np.dtype(value.dtype) if isinstance(value, Variable) else value


def _last_of(i: Variable, num: int | Variable) -> Variable:
    """Where the range ``i`` of ``num`` values holds its last one, when there are 2 or more
    (numpy sets that one to ``stop``; a single value stays ``start``)."""
    last = elemwise("eq", i, num - 1)
    return last if isinstance(num, int) else elemwise("and_", last, elemwise("gt", i, 0))


def linspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Variable | tuple[Variable, Variable]:
    """numpy.linspace: ``num`` values from ``start`` to ``stop`` (included when ``endpoint``),
    computed as numpy does (``i * step + start``, the last one set to ``stop``); ``start`` and
    ``stop`` numbers or symbolic scalars, ``num`` an int or a symbolic int scalar (a negative
    one raises ValueError when the function runs). The dtype is numpy's (float64 for ints,
    float32 stays float32; under ``floatX=float32`` float32 for ints and Python floats, as
    PyTensor's); an int ``dtype`` floors, as numpy does. ``retstep``: also the step,
    a scalar of the values' float dtype (NaN where there is none: fewer than two values, or one
    without ``endpoint``), as numpy's."""
    num = _check_range_args("linspace", num, axis, (start, "start"), (stop, "stop"))
    dt = normalize_dtype(result_type(_numpy_operand(start), _numpy_operand(stop)), "linspace")
    dt = dt if is_float(dt) else default_float()  # numpy's float64 for ints
    s, e = _scalar_in(start, dt, "start"), _scalar_in(stop, dt, "stop")
    i = arange(0, num, dtype=dt)
    div = num - 1 if endpoint else num
    nan = constant(np.asarray(np.nan, dt))
    if not isinstance(div, int) or div > 0:
        # a symbolic count that leaves no step (one value, or none) divides by 1: the one
        # value is start, as numpy's
        d = constant(np.asarray(div, dt)) if isinstance(div, int) else cast(elemwise("maximum", div, 1), dt)
        step = (e - s) / d
        y = i * step + s
        if endpoint:
            y = elemwise("switch", _last_of(i, num), e, y)
        if not isinstance(div, int):
            step = elemwise("switch", elemwise("gt", div, 0), step, nan)
    else:
        # 0 or 1 values: numpy's step is NaN there and the one value is start
        y = i * (e - s) + s
        step = nan
    if dtype is not None:
        out = normalize_dtype(dtype, "linspace")
        y = cast(elemwise("floor", y) if is_int(out) else y, out)
    return (y, step) if retstep else y


def logspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    base: Any = 10.0,
    endpoint: bool = True,
    dtype: Any = None,
    axis: int = 0,
) -> Variable:
    """numpy.logspace: ``base ** linspace(start, stop, num, endpoint)``; ``start``, ``stop`` and
    ``base`` numbers or symbolic scalars, ``num`` as :func:`linspace`'s. The dtype is numpy's; a ``dtype``
    converts as numpy's ``astype`` (an int dtype truncates). The arguments are in PyTensor's
    order (``base`` fourth); a fourth argument True or False is numpy's ``endpoint``, numpy's
    order (``logspace(0, 2, 5, False, 2.0)``)."""
    if isinstance(base, (bool, np.bool_)):  # numpy's order: endpoint fourth, base fifth
        base, endpoint = (10.0 if isinstance(endpoint, (bool, np.bool_)) else endpoint), base
    endpoint = _endpoint_flag("logspace", endpoint)
    num = _check_range_args("logspace", num, axis, (start, "start"), (stop, "stop"), (base, "base"))
    b = as_tensor_variable(base) if isinstance(base, Variable) else base
    if isinstance(b, Variable) and b.ndim != 0:
        raise ValueError(f"logspace: base must be a scalar, got {b.type}; logspace takes no arrays")
    y = elemwise("pow", b, linspace(start, stop, num, endpoint))
    return y if dtype is None else cast(y, normalize_dtype(dtype, "logspace"))


def _endpoint_flag(what: str, endpoint: Any) -> bool:
    """``endpoint`` checked a flag: a number there is the ``base`` of the other order (numpy's
    and PyTensor's put them the other way round), which must not pass for True."""
    if not isinstance(endpoint, (bool, np.bool_)):
        raise TypeError(
            f"{what}: endpoint must be True or False, got {endpoint!r}; give base= and endpoint= "
            "by keyword (numpy's and PyTensor's orders of the arguments after num differ)"
        )
    return bool(endpoint)


def geomspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    endpoint: bool = True,
    dtype: Any = None,
    axis: int = 0,
    *,
    base: Any = 10.0,
) -> Variable:
    """numpy.geomspace: ``num`` values from ``start`` to ``stop`` in a geometric progression,
    computed as numpy does (``logspace`` of the ``log10`` of the ends divided by the sign of
    ``start``; the first value set to ``start`` and, with ``endpoint``, the last to ``stop``).
    ``start`` and ``stop`` are non-zero numbers or symbolic scalars (a zero number raises
    ValueError, a symbolic zero AssertionError when the function runs); ends of different signs
    give NaN, as numpy's. ``num`` as :func:`linspace`'s.
    float64 (under ``floatX=float32`` float32 for ends that are Python numbers or float32, as
    PyTensor's) unless ``dtype`` (an int dtype floors, as numpy's). The arguments are in numpy's
    order; ``base`` (PyTensor's, by keyword) is the base of the logarithms the progression is
    computed in, which the values do not depend on: numpy's computation is kept."""
    endpoint = _endpoint_flag("geomspace", endpoint)
    num = _check_range_args("geomspace", num, axis, (start, "start"), (stop, "stop"), (base, "base"))
    for value, what in ((start, "start"), (stop, "stop")):
        if not isinstance(value, Variable) and value == 0:
            raise ValueError(
                f"geomspace: {what} is 0, and a geometric sequence cannot include zero; give non-zero ends"
            )
    out = None if dtype is None else normalize_dtype(dtype, "geomspace")
    # numpy's working dtype: the ends as floats (a number as float64), with the dtype asked for
    # (float64 when none is); under floatX=float32 a number and no dtype are float32
    ends = [result_type(_numpy_operand(v), 1.0) for v in (start, stop)]
    dt = normalize_dtype(np.result_type(*ends, np.dtype(out or default_float())), "geomspace")
    s, e = _scalar_in(start, dt, "start", "geomspace"), _scalar_in(stop, dt, "stop", "geomspace")
    if isinstance(start, Variable) or isinstance(stop, Variable):
        nonzero = elemwise("and_", elemwise("neq", s, 0), elemwise("neq", e, 0))
        s = check_value(
            s,
            nonzero,
            "geomspace: start or stop is 0 (start={0}, stop={1}), and a geometric sequence cannot "
            "include zero; give non-zero ends",
            s,
            e,
        )
    sign = elemwise("sign", s)
    s, e = s / sign, e / sign
    y = logspace(elemwise("log10", s), elemwise("log10", e), num, endpoint=endpoint, dtype=dt)
    i = arange(0, num)
    y = elemwise("switch", elemwise("eq", i, 0), s, y)
    if endpoint and (not isinstance(num, int) or num > 1):
        y = elemwise("switch", _last_of(i, num), e, y)
    y = y * sign
    if out is None:
        return y
    return cast(elemwise("floor", y) if is_int(out) else y, out)


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple[Variable, ...]:
    """numpy.meshgrid: coordinate arrays from the coordinate vectors ``xi`` (each flattened),
    one per vector, of the shape ``(len(x0), len(x1), ...)`` with ``indexing="ij"`` or
    ``(len(x1), len(x0), ...)`` with ``"xy"`` (the first two swapped, numpy's default); with
    ``sparse`` each keeps its own length along its axis and size 1 along the others (they
    broadcast together). Dimshuffles (and for full grids ``broadcast_arrays``), so the
    gradient reaches the vectors. ``copy`` is accepted for numpy's signature: the results are
    always new arrays."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    vs = [flatten(as_tensor_variable(x)) for x in xi]
    n = len(vs)
    places = list(range(n))
    if indexing == "xy" and n > 1:
        places[0], places[1] = 1, 0
    shaped = [dimshuffle(v, ["x"] * p + [0] + ["x"] * (n - 1 - p)) for v, p in zip(vs, places)]
    if sparse or n < 2:
        return tuple(shaped)
    return broadcast_arrays(*shaped)


def bartlett(M: Any) -> Variable:
    """numpy.bartlett: the triangular window of ``M`` points (an int or a symbolic int scalar;
    empty for ``M < 1``), float64."""
    m = as_tensor_variable(M)
    if m.ndim != 0 or not is_int(m.dtype):
        raise TypeError(f"bartlett: M must be an int or a symbolic int scalar, got {M!r} ({m.type})")
    m = cast(m, "float64")
    n = arange(1 - m, m, 2.0)
    div = elemwise("maximum", m - 1, 1.0)  # M == 1: the one point 0 gives 1
    return elemwise("switch", elemwise("le", n, 0), 1 + n / div, 1 - n / div)


class _Grid:
    """``mgrid[a:b:s, ...]`` and ``ogrid[...]``: numpy's slice spellings, a complex step
    ``nj`` giving ``n`` points from ``a`` to ``b`` included."""

    def __init__(self, sparse: bool) -> None:
        self.sparse = sparse
        self.name = "ogrid" if sparse else "mgrid"

    def __repr__(self) -> str:
        return f"ft.{self.name}"

    def _range(self, sl: Any) -> Variable:
        if not isinstance(sl, slice) or sl.stop is None:
            raise TypeError(f"{self.name}: index it with slices start:stop[:step], got {sl!r}")
        start = 0 if sl.start is None else sl.start
        step = 1 if sl.step is None else sl.step
        if isinstance(step, complex):
            return linspace(start, sl.stop, int(abs(step.imag)))
        return arange(start, sl.stop, step)

    def __getitem__(self, key: Any) -> Variable | list[Variable]:
        if not isinstance(key, tuple):
            return self._range(key)
        if not key:
            raise TypeError(f"{self.name}: give at least one slice")
        ranges = [self._range(sl) for sl in key]
        # numpy's one dtype for every axis: float as soon as one axis is
        dt = normalize_dtype(np.result_type(*[r.dtype for r in ranges]), self.name)
        ranges = [cast(r, dt) if r.dtype != dt else r for r in ranges]
        n = len(ranges)
        shaped = [dimshuffle(r, ["x"] * d + [0] + ["x"] * (n - 1 - d)) for d, r in enumerate(ranges)]
        if self.sparse:
            return shaped
        lengths = [r.shape[0] for r in ranges]
        return [alloc(r, *lengths) for r in shaped]


mgrid = _Grid(sparse=False)
mgrid.__doc__ = """PyTensor's ``mgrid``: ``mgrid[0:3, 0:4]`` is the list of the coordinate grids,
each of the full shape (3, 4); ``ft.stack`` of it is numpy's array."""
ogrid = _Grid(sparse=True)
ogrid.__doc__ = """PyTensor's ``ogrid``: the coordinate ranges, each a vector along its own axis
and broadcastable along the others (shapes (3, 1) and (1, 4) for ``ogrid[0:3, 0:4]``)."""
