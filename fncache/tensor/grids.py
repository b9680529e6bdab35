"""Evenly spaced values and coordinate grids: numpy's ``linspace logspace geomspace bartlett``
and PyTensor's ``mgrid ogrid``, built on ``arange`` with elementwise arithmetic (so the values follow numpy's rounding
and the gradient reaches a symbolic start or stop)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex, is_int, normalize_dtype
from .basic import as_tensor_variable, constant, is_python_int
from .creation import alloc, arange
from .elemwise import cast, elemwise
from .shape_ops import dimshuffle

__all__ = ["linspace", "logspace", "geomspace", "bartlett", "mgrid", "ogrid"]


def _scalar_in(value: Any, dt: str, what: str) -> Variable:
    v = as_tensor_variable(value) if isinstance(value, Variable) else constant(np.asarray(value, dt))
    if v.ndim != 0:
        raise ValueError(f"linspace: {what} must be a scalar, got {v.type}; linspace takes no arrays")
    return cast(v, dt) if v.dtype != dt else v


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None) -> Variable:
    """numpy.linspace: ``num`` values from ``start`` to ``stop`` (included when ``endpoint``),
    computed as numpy does (``i * step + start``, the last one set to ``stop``); ``start`` and
    ``stop`` numbers or symbolic scalars, ``num`` an int. The dtype is numpy's (float64 for
    ints, float32 stays float32); an int ``dtype`` floors, as numpy does."""
    if not is_python_int(num):
        raise TypeError(f"linspace: num must be an int, got {num!r}")
    if num < 0:
        raise ValueError(f"linspace: num must not be negative, got {num}")
    for value, what in ((start, "start"), (stop, "stop")):
        if isinstance(value, (complex, np.complexfloating)) or (
            isinstance(value, Variable) and is_complex(value.dtype)
        ):
            raise TypeError(f"linspace: {what} must be real, got {value!r}")
    dt = normalize_dtype(
        np.result_type(*[np.dtype(a.dtype) if isinstance(a, Variable) else a for a in (start, stop)], 1.0),
        "linspace",
    )
    s, e = _scalar_in(start, dt, "start"), _scalar_in(stop, dt, "stop")
    num = int(num)
    i = arange(0, num, dtype=dt)
    div = num - 1 if endpoint else num
    if div > 0:
        y = i * ((e - s) / constant(np.asarray(div, dt))) + s
        if endpoint:
            y = elemwise("switch", elemwise("eq", i, num - 1), e, y)
    else:
        # 0 or 1 values: numpy's step is NaN there and the one value is start
        y = i * (e - s) + s
    if dtype is None:
        return y
    out = normalize_dtype(dtype, "linspace")
    return cast(elemwise("floor", y) if is_int(out) else y, out)


def logspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0, dtype: Any = None
) -> Variable:
    """numpy.logspace: ``base ** linspace(start, stop, num, endpoint)``; an int ``dtype``
    truncates, as numpy's cast does."""
    y = elemwise("pow", base, linspace(start, stop, num, endpoint))
    if dtype is None:
        return y
    return cast(y, normalize_dtype(dtype, "logspace"))


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None) -> Variable:
    """numpy.geomspace: ``num`` values from ``start`` to ``stop`` (of one sign, not 0) evenly
    spaced on a log scale: the sign times ``10 ** linspace(log10|start|, log10|stop|)``, with
    the first value ``start`` and the last ``stop`` exactly, as numpy sets them."""
    for value, what in ((start, "start"), (stop, "stop")):
        if not isinstance(value, Variable) and np.ndim(value) == 0 and value == 0:
            raise ValueError(f"geomspace: {what} must not be 0 (a geometric sequence never reaches 0)")
    s, e = (as_tensor_variable(v) for v in (start, stop))
    sign = elemwise("sign", s)
    y = elemwise(
        "mul",
        sign,
        logspace(elemwise("log10", elemwise("abs", s)), elemwise("log10", elemwise("abs", e)), num, endpoint),
    )
    i = arange(0, int(num))
    y = elemwise("switch", elemwise("eq", i, 0), cast(s, y.dtype), y)
    if endpoint and num > 1:
        y = elemwise("switch", elemwise("eq", i, int(num) - 1), cast(e, y.dtype), y)
    if dtype is None:
        return y
    return cast(y, normalize_dtype(dtype, "geomspace"))


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
