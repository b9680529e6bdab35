"""Pooling over the last two dims (``pool.pool_2d``, Theano's and PyTensor's
``tensor.signal.pool.pool_2d``) and the ops of its gradients.

``Pool`` takes the max, the sum or the mean of each window; ``MaxPoolGrad`` sends a max
window's output gradient to every input equal to the window's max (ties each get all of it, as
Theano's ``MaxPoolGrad``); ``AveragePoolGrad`` spreads a sum or mean window's gradient over the
window; ``MaxPoolGradGrad`` gathers, for each window, the entries at its max (the gradient of
``MaxPoolGrad`` with respect to its output gradient). The four ops share their props and one
numpy engine: a window reduction is folded tap by tap (``ws[0] * ws[1]`` strided slices of the
padded input, each one whole-array operation), and a gradient is added back the same way. The C
back end runs the four ops on float32 and float64 as steps of its run-time (``run_pool`` in
``codegen/c_steps.c``: the same operations in the same order, so the same results); other dtypes
and the other back ends run this engine.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterator

import numpy as np

from ...graph.basic import Apply, Op, Variable
from ...graph.types import TensorType, is_complex, is_float
from ..basic import as_tensor_variable
from ..conv import int_pair

__all__ = ["Pool", "MaxPoolGrad", "AveragePoolGrad", "MaxPoolGradGrad", "POOL_OPS", "pool_2d"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")
Pair = tuple[int, int]


def _out_size(v: int, ws: int, st: int, ignore_border: bool) -> int:
    """Theano's count of windows along a (padded) dim of ``v``: whole windows only with
    ``ignore_border``, else also a last partial one."""
    if ignore_border:
        return max(0, (v - ws) // st + 1)
    if st >= ws:
        return (v - 1) // st + 1
    return max(0, (v - 1 - ws + st) // st) + 1


class _PoolOp(Op):
    """The props and the engine the pooling ops share."""

    __props__ = ("ws", "stride", "pad", "ignore_border", "mode")

    def __init__(self, ws: Pair, stride: Pair, pad: Pair, ignore_border: bool, mode: str) -> None:
        what = type(self).__name__
        self.ws = int_pair(ws, what, "ws", 1, "(2, 2)")
        self.stride = int_pair(stride, what, "stride", 1, "(2, 2)")
        self.pad = int_pair(pad, what, "pad", 0, "(1, 1)")
        self.ignore_border = bool(ignore_border)
        self.mode = str(mode)

    def with_mode(self, kind: type[_PoolOp]) -> _PoolOp:
        return kind(self.ws, self.stride, self.pad, self.ignore_border, self.mode)

    def out_shape(self, shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        out = tuple(
            None
            if shape[d - 2] is None
            else _out_size(shape[d - 2] + 2 * self.pad[d], self.ws[d], self.stride[d], self.ignore_border)  # type: ignore[operator]
            for d in range(2)
        )
        return shape[:-2] + out

    # -- the numpy engine -------------------------------------------------------------------
    def padded_size(self, shape: tuple[int, ...], out: Pair) -> tuple[int, int]:
        """The rows and cols of the input padded ``pad`` each side, then up to the end of the
        last window."""
        return tuple(  # type: ignore[return-value]
            max(shape[d - 2] + 2 * self.pad[d], (out[d] - 1) * self.stride[d] + self.ws[d]) for d in range(2)
        )

    def padded(self, x: np.ndarray, out: Pair, fill: Any) -> np.ndarray:
        """``x`` padded with ``fill`` to :meth:`padded_size` (``x`` itself where that adds nothing)."""
        size = self.padded_size(x.shape, out)
        if size == x.shape[-2:]:
            return x
        y = np.full(x.shape[:-2] + size, fill, dtype=x.dtype)
        y[..., self.pad[0] : self.pad[0] + x.shape[-2], self.pad[1] : self.pad[1] + x.shape[-1]] = x
        return y

    def taps(self, out: Pair) -> Iterator[tuple[Any, slice, slice]]:
        """For each window tap, the index where it reads the padded input for every window
        (strided slices of ``out``'s shape): a reduction over the windows is ``ws[0] * ws[1]``
        whole-array operations, several times faster in numpy than reducing the two window dims
        of a ``sliding_window_view``."""
        (s0, s1), ends = self.stride, [(out[d] - 1) * self.stride[d] + 1 for d in range(2)]
        for u in range(self.ws[0]):
            for v in range(self.ws[1]):
                yield Ellipsis, slice(u, u + ends[0], s0), slice(v, v + ends[1], s1)

    def spread(
        self, contrib: Callable[[Any], np.ndarray], x_shape: tuple[int, ...], out: Pair, dtype: Any
    ) -> np.ndarray:
        """``contrib(tap)`` of every tap added back where the tap read, the padding cut off:
        the adjoint of reading the windows."""
        acc = np.zeros(x_shape[:-2] + self.padded_size(x_shape, out), dtype=dtype)
        # windows that do not overlap (LeNet's 2x2 every 2) write each entry once: stored, not added
        overlap = self.stride[0] < self.ws[0] or self.stride[1] < self.ws[1]
        for tap in self.taps(out):
            if overlap:
                acc[tap] += contrib(tap)
            else:
                acc[tap] = contrib(tap)
        p0, p1 = self.pad
        return np.ascontiguousarray(acc[..., p0 : p0 + x_shape[-2], p1 : p1 + x_shape[-1]])

    def geometry(self, shape: tuple[int, ...]) -> Pair:
        return self.out_shape(shape)[-2:]  # type: ignore[return-value]

    def lowest(self, dtype: np.dtype) -> Any:
        """What padding holds for a max: below every value, so a window's max is never it."""
        return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min

    def divisor(self, x_shape: tuple[int, ...], out: Pair, dtype: np.dtype) -> np.ndarray:
        """How many inputs each window of a mean counts: the padding too for
        ``average_inc_pad``, not for ``average_exc_pad``; never past the padded input."""
        counts = []
        for d in range(2):
            v, p = x_shape[d - 2] + 2 * self.pad[d], self.pad[d]
            start = np.arange(out[d]) * self.stride[d]
            end = np.minimum(start + self.ws[d], v)
            if self.mode == "average_exc_pad":
                start, end = np.maximum(start, p), np.minimum(end, v - p)
            counts.append(end - start)
        return np.multiply.outer(counts[0], counts[1]).astype(dtype)

    def reduce(self, x: np.ndarray, out: Pair) -> np.ndarray:
        """The max or the sum of each window of ``x`` (a new array)."""
        fold = np.maximum if self.mode == "max" else np.add
        y = self.padded(x, out, self.lowest(x.dtype) if self.mode == "max" else 0)
        res = None
        for tap in self.taps(out):
            res = y[tap].copy() if res is None else fold(res, y[tap], out=res)
        return res  # type: ignore[return-value]


class Pool(_PoolOp):
    """The max, sum or mean of each window of the last two dims."""

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [TensorType(x.dtype, self.out_shape(x.type.shape))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        out = self.geometry(x.shape)
        if 0 in out:
            return [np.zeros(x.shape[:-2] + out, dtype=x.dtype)]
        res = self.reduce(x, out)
        if self.mode.startswith("average"):
            res /= self.divisor(x.shape, out, x.dtype)
        return [res]


class MaxPoolGrad(_PoolOp):
    """The gradient of a max ``Pool`` (output ``z``) for its output gradient ``gz``."""

    def make_node(self, x: Variable, z: Variable, gz: Variable) -> Apply:
        return Apply(self, [x, z, gz], [TensorType(gz.dtype, x.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, z, gz = inputs
        out = z.shape[-2:]
        if 0 in out:
            return [np.zeros(x.shape, dtype=gz.dtype)]
        y = self.padded(x, out, self.lowest(x.dtype))
        return [self.spread(lambda tap: np.where(y[tap] == z, gz, 0), x.shape, out, gz.dtype)]


class MaxPoolGradGrad(_PoolOp):
    """The gradient of ``MaxPoolGrad(x, z, gz)`` with respect to ``gz``, for its output
    gradient ``h``: the sum of ``h`` over each window's max entries."""

    def make_node(self, x: Variable, z: Variable, h: Variable) -> Apply:
        return Apply(self, [x, z, h], [TensorType(h.dtype, z.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x, z, h = inputs
        out = z.shape[-2:]
        res = np.zeros(z.shape, dtype=h.dtype)
        if 0 in out:
            return [res]
        y, hp = self.padded(x, out, self.lowest(x.dtype)), self.padded(h, out, 0)
        for tap in self.taps(out):
            res += np.where(y[tap] == z, hp[tap], 0)
        return [res]


class AveragePoolGrad(_PoolOp):
    """The gradient of a sum or mean ``Pool`` for its output gradient ``gz``; only the shape of
    ``x_like`` (the pooled input) is read."""

    def make_node(self, x_like: Variable, gz: Variable) -> Apply:
        return Apply(self, [x_like, gz], [TensorType(gz.dtype, x_like.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x_like, gz = inputs
        out = gz.shape[-2:]
        if 0 in out:
            return [np.zeros(x_like.shape, dtype=gz.dtype)]
        if self.mode != "sum":
            gz = gz / self.divisor(x_like.shape, out, gz.dtype)
        return [self.spread(lambda tap: gz, x_like.shape, out, gz.dtype)]


#: The pooling ops in the order the C run-time's pooling step numbers them (its ``op`` int; its
#: ``mode`` int is the index in ``MODES``).
POOL_OPS = (Pool, MaxPoolGrad, AveragePoolGrad, MaxPoolGradGrad)


#: What each of Theano's older pooling argument names stands for: (its newer name, what it gives)
OLDER_NAMES = {"ds": ("ws", "window size"), "st": ("stride", "stride"), "padding": ("pad", "padding")}


def theano_older_names(what: str, given: dict[str, Any], older: dict[str, Any]) -> dict[str, Any]:
    """The arguments ``given`` (newer names; None, or zeros for ``pad``, where left out) with
    those given under Theano 1.0's older names (``ds``, ``st``, ``padding``) put in, each with
    a DeprecationWarning, as Theano's ``pool_2d`` and ``pool_3d`` took them."""
    out = dict(given)
    for old, value in older.items():
        if value is None:
            continue
        new, label = OLDER_NAMES[old]
        current = out[new]
        if current is not None and not (new == "pad" and not np.any(current)):
            raise TypeError(f"{what}: give the {label} as {new} or {old}, not both")
        warnings.warn(
            f"{what}: {old!r} is Theano's older name for {new!r}; write {new}=...",
            DeprecationWarning,
            stacklevel=3,
        )
        out[new] = value
    if out["ws"] is None:
        example = "(2, 2)" if what == "pool_2d" else "(2, 2, 2)"
        raise TypeError(f"{what}: give the window size ws, e.g. ws={example}")
    return out


def pool_2d(
    input: Any,
    ws: Any = None,
    ignore_border: bool = True,
    stride: Any = None,
    pad: Any = (0, 0),
    mode: str = "max",
    ds: Any = None,
    st: Any = None,
    padding: Any = None,
) -> Variable:
    """Pool the windows of the last two dims of ``input`` (any tensor of 2 or more dims), as
    Theano's ``pool_2d``: windows of ``ws = (rows, cols)`` every ``stride`` (default ``ws``:
    windows that do not overlap), the input padded with ``pad = (rows, cols)`` each side.

    ``mode``: ``'max'``, ``'sum'``, ``'average_inc_pad'`` (the mean over the window, padding
    counted) or ``'average_exc_pad'`` (padding not counted); padding never wins a max.
    ``ignore_border=True`` keeps whole windows only; False adds a last partial window where the
    input does not divide (padding then must be 0). The gradient of a max goes to every entry
    equal to its window's max. ``ds``, ``st`` and ``padding`` are Theano's older names of
    ``ws``, ``stride`` and ``pad`` (deprecated)."""
    names = theano_older_names(
        "pool_2d", dict(ws=ws, stride=stride, pad=pad), dict(ds=ds, st=st, padding=padding)
    )
    ws, stride, pad = names["ws"], names["stride"], names["pad"]
    x = as_tensor_variable(input)
    if x.ndim < 2:
        raise TypeError(
            f"pool_2d: input must have 2 or more dims (it pools the last two), got {x.type} "
            f"({x.ndim} dims); reshape it, e.g. x.reshape((1, n))"
        )
    if mode not in MODES:
        raise ValueError(f"pool_2d: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if is_complex(x.dtype) or x.dtype == "bool" or (mode.startswith("average") and not is_float(x.dtype)):
        raise TypeError(
            f"pool_2d: mode={mode!r} takes a real input{' of a float dtype' if mode.startswith('average') else ''}, "
            f"got {x.type}; cast it first, e.g. ft.cast(x, 'float64')"
        )
    if not isinstance(ignore_border, (bool, np.bool_)):
        raise TypeError(f"pool_2d: ignore_border must be True or False, got {ignore_border!r}")
    w = int_pair(ws, "pool_2d", "ws", 1, "(2, 2)")
    st = w if stride is None else int_pair(stride, "pool_2d", "stride", 1, "(2, 2)")
    p = int_pair(pad, "pool_2d", "pad", 0, "(1, 1)")
    if p != (0, 0) and not ignore_border:
        raise ValueError(f"pool_2d: pad={p} needs ignore_border=True (Theano pads only then)")
    if p[0] >= w[0] or p[1] >= w[1]:
        raise ValueError(
            f"pool_2d: pad={p} must be smaller than ws={w} in each dim, or a window could hold only padding"
        )
    return Pool(w, st, p, bool(ignore_border), mode)(x)


def __getattr__(name: str) -> Any:
    # Theano's pool_3d and max_pool_2d_same_size, composed from the ops above, load on first use
    if name in ("pool_3d", "max_pool_2d_same_size"):
        from . import pool_3d as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
