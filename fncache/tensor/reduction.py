"""Reductions: sum prod max min mean var std all any (one :class:`Reduce` op) and argmax/argmin."""

from __future__ import annotations

import builtins
import warnings
from typing import Any, Callable

import numpy as np

from ..graph.args import as_int, entry_point, int_arg
from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex, is_float, is_int, normalize_dtype
from . import scalar_ops as S
from .basic import as_tensor_variable
from .elemwise import as_float64, check_float64, elemwise, runtime_broadcast_shape

__all__ = [
    "Reduce",
    "ArgReduce",
    "sum",
    "prod",
    "max",
    "min",
    "mean",
    "var",
    "std",
    "argmax",
    "argmin",
    "all",
    "any",
    "normalize_axes",
    "one_axis",
    "norm",
]

_NP_REDUCE = {
    "add": np.add,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
    "and": np.logical_and,
    "or": np.logical_or,
}


def axis_index(a: Any, what: str, axis: Any = None) -> int:
    """An axis as numpy takes one: an int, a numpy integer or a 0-d integer array (or a
    symbolic integer scalar known when the graph is built, as ``int_arg`` reads one)."""
    n = as_int(a)
    if n is not None:
        return n
    if isinstance(a, Variable):
        return int_arg(a, what, "axis", kind="None, an int or a tuple of ints")
    raise TypeError(
        f"{what}: axis must be None, an int or a tuple of ints, got {a if axis is None else axis!r}"
    )


def ordered_axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """Axes as numpy takes them (an int, a tuple or list, 0-d integer arrays), in the order
    given, each checked against ``ndim``, made non-negative and not repeated."""
    if isinstance(axis, np.ndarray) and axis.ndim == 0:
        axes: tuple = (axis,)
    elif isinstance(axis, (tuple, list, np.ndarray)):
        axes = tuple(axis)
    else:
        axes = (axis,)
    out: list[int] = []
    for a in axes:
        a = axis_index(a, what, axis)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"{what}: axis {a} is out of bounds for a tensor of ndim {ndim}")
        a = a % ndim
        if a in out:
            raise ValueError(f"{what}: axis {a} is repeated in {axis!r}")
        out.append(a)
    return tuple(out)


def one_axis(axis: Any, ndim: int, what: str) -> int:
    """The one axis an op works along (an int as numpy takes one, not a sequence of axes),
    checked against ``ndim`` and made non-negative."""
    return ordered_axes(int_arg(axis, what, "axis"), ndim, what)[0]


def normalize_axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """``None`` -> all axes; ints and tuples checked against ``ndim``, made non-negative and
    sorted."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(ordered_axes(axis, ndim, what)))


class Reduce(Op):
    """Reduce ``kind`` over ``axes``; ``pre`` is an optional fused elementwise body applied to
    the inputs first (so ``sum((x-y)**2)`` is one pass with no temporary).

    kind: add mul max min and or mean; ``ddof`` only for mean (variance denominators);
    ``acc_dtype`` (add mul mean) the type the loop accumulates in, None for the backend's own
    choice (float64 for float32 sums and for means).
    """

    __props__ = ("kind", "axes", "out_dtype", "pre", "ddof", "acc_dtype")

    def __init__(
        self,
        kind: str,
        axes: tuple[int, ...],
        out_dtype: str,
        pre: S.Composite | None = None,
        ddof: int = 0,
        acc_dtype: str | None = None,
    ) -> None:
        self.kind = kind
        self.axes = tuple(axes)
        self.out_dtype = out_dtype
        self.pre = pre
        self.ddof = int(ddof)
        self.acc_dtype = acc_dtype

    def with_pre(self, pre: S.Composite | None) -> "Reduce":
        """This reduction with the fused elementwise body ``pre``."""
        return Reduce(self.kind, self.axes, self.out_dtype, pre, self.ddof, self.acc_dtype)

    def __str__(self) -> str:
        name = {
            "add": "Sum",
            "mul": "Prod",
            "max": "Max",
            "min": "Min",
            "and": "All",
            "or": "Any",
            "mean": "Mean",
        }[self.kind]
        pre = f"{{{self.pre!r}}}" if self.pre is not None else ""
        return f"{name}{pre}{{axes={list(self.axes)}}}"

    def make_node(self, *inputs: Variable) -> Apply:
        from .elemwise import broadcast_static_shape

        shape = broadcast_static_shape([i.type.shape for i in inputs], str(self))
        out_shape = tuple(s for d, s in enumerate(shape) if d not in self.axes)
        return Apply(self, inputs, [TensorType(self.out_dtype, out_shape)])

    def empty_mean_warning(self) -> str:
        """numpy's warning for a mean of no values (or no more than ``ddof``), whose result is
        NaN: given where the reduced size is that small, so no other call pays for it."""
        what = "Mean of empty slice" if self.ddof == 0 else "Degrees of freedom <= 0 for slice"
        return f"{self}: {what} (the result is NaN, as numpy's)"

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        if self.pre is not None:
            shape = runtime_broadcast_shape(inputs, str(self))
            x = np.broadcast_to(self.pre.evaluate(inputs)[0], shape)
        with np.errstate(all="ignore"):
            if self.kind == "mean":
                n = int(np.prod([x.shape[a] for a in self.axes]))
                # real means accumulate in float64, as the C backend's do
                acc = self.acc_dtype or (x.dtype.name if is_complex(x.dtype.name) else "float64")
                s = np.add.reduce(as_accumulated(x, acc), axis=self.axes, dtype=acc)
                res = np.true_divide(s, builtins.max(n - self.ddof, 0))
                if is_int(self.out_dtype):  # NaN of no values
                    res = S.float_to_int(res, self.out_dtype)
                if n <= self.ddof:
                    warnings.warn(self.empty_mean_warning(), RuntimeWarning, stacklevel=2)
            elif self.kind in ("max", "min"):
                if builtins.any(x.shape[a] == 0 for a in self.axes):
                    raise ValueError(
                        f"{self}: zero-size array to reduction operation "
                        f"{self.kind}imum which has no identity (shape {x.shape})"
                    )
                res = _NP_REDUCE[self.kind].reduce(x, axis=self.axes)
            elif self.kind in ("and", "or"):
                res = _NP_REDUCE[self.kind].reduce(x.astype(bool), axis=self.axes)
            else:
                # float32 sums and products accumulate in float64, as the C backend's do
                acc = self.acc_dtype or ("float64" if self.out_dtype == "float32" else self.out_dtype)
                res = _NP_REDUCE[self.kind].reduce(as_accumulated(x, acc), axis=self.axes, dtype=acc)
        return [np.asarray(res, dtype=self.out_dtype)]


class ArgReduce(Op):
    """argmax / argmin over one axis (``None``: the flattened tensor); int64 result."""

    __props__ = ("kind", "axis")

    def __init__(self, kind: str, axis: int | None) -> None:
        self.kind = kind
        self.axis = axis

    def make_node(self, x: Variable) -> Apply:
        shape = () if self.axis is None else tuple(s for d, s in enumerate(x.type.shape) if d != self.axis)
        return Apply(self, [x], [TensorType("int64", shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        # As numpy: only an empty reduced axis is an error ((3, 0) along axis 0 gives []).
        if x.size == 0 if self.axis is None else x.shape[self.axis] == 0:
            raise ValueError(
                f"{self.kind}: attempt to get {self.kind} of an empty sequence (shape {x.shape})"
            )
        f = np.argmax if self.kind == "argmax" else np.argmin
        return [np.asarray(f(x, axis=self.axis), dtype="int64")]


def filled_when_empty(
    x: Variable, axes: tuple[int, ...], fill: float, dtype: str, build: Callable[[], Variable]
) -> Variable:
    """``build()``, a reduction of ``x`` over ``axes`` (their dims dropped) of ``dtype``, or
    ``fill`` in its shape where those axes hold nothing: the value numpy or scipy give a
    reduction of nothing that ``build`` computes through an element (the median reads the
    middle one, logsumexp the maximum), which would raise. The choice is lazy (``ifelse``), so
    the reduction is not computed then; where the sizes are known, no choice is made at all
    (and an axis known empty builds nothing: reading an element of it is refused at once)."""
    from .shape_ops import dim_sizes

    sizes = dim_sizes(x)
    reduced = [sizes[d] for d in axes]
    if builtins.all(isinstance(n, int) and n > 0 for n in reduced):
        return build()
    from .creation import alloc

    filled = alloc(np.asarray(fill, dtype), *[n for d, n in enumerate(sizes) if d not in axes])
    if builtins.any(isinstance(n, int) and n == 0 for n in reduced):
        return filled
    from .ifelse import ifelse  # ifelse's module loads its op with the first call

    unknown = [elemwise("eq", n, 0) for n in reduced if not isinstance(n, int)]
    empty = unknown[0]
    for e in unknown[1:]:
        empty = elemwise("or_", empty, e)
    return ifelse(empty, filled, build())


def keepdims_flag(keepdims: Any) -> bool:
    """``keepdims`` as numpy takes it (a bool, or an int as a flag), else a TypeError naming
    the function the user called: any other value's truth would be a guess."""
    if isinstance(keepdims, (bool, np.bool_)) or as_int(keepdims) is not None:
        return bool(keepdims)
    raise TypeError(f"{entry_point('a reduction')}: keepdims must be True or False, got {keepdims!r}")


def keep_reduced_dims(res: Variable, axes: tuple[int, ...], keepdims: bool) -> Variable:
    """``res`` with the reduced ``axes`` of its input put back as size-1 dims, if ``keepdims``."""
    if not keepdims_flag(keepdims):
        return res
    from .shape_ops import with_new_axes

    return with_new_axes(res, axes)


def as_accumulated(x: np.ndarray, acc: str) -> np.ndarray:
    """``x`` as the reduction's loop adds or multiplies it: numpy converts each value to the
    accumulator's dtype first, floats to an integer one by fncache's rule, as the C loops."""
    if is_float(x.dtype.name) and is_int(acc):
        return S.float_to_int(x, acc)
    return x


def _sum_dtype(dt: str) -> str:
    if dt in ("bool", "int8", "int16", "int32"):
        return "int64"
    if dt in ("uint8", "uint16", "uint32"):
        return "uint64"  # as numpy: unsigned sums stay unsigned
    return dt


#: The front-end function of each reduction kind, for error messages.
_FRONT_NAME = {"add": "sum", "mul": "prod", "and": "all", "or": "any"}


def _checked_acc_dtype(what: str, in_dtype: str, acc_dtype: Any) -> str | None:
    """``acc_dtype`` as PyTensor takes it: a type holding every value of the input (a float or
    complex one for integer input), never bool (which cannot hold a sum)."""
    if acc_dtype is None:
        return None
    acc = normalize_dtype(acc_dtype, f"{what}: acc_dtype")
    discrete_in = not (is_float(in_dtype) or is_complex(in_dtype))
    if acc != "bool" and (
        discrete_in and (is_float(acc) or is_complex(acc)) or np.promote_types(in_dtype, acc).name == acc
    ):
        return acc
    least = "a number type" if acc == "bool" else f"at least {np.promote_types(in_dtype, acc).name}"
    raise TypeError(
        f"{what}: acc_dtype {acc} cannot accumulate {in_dtype} input without losing values. Use "
        f"an acc_dtype {least}, leave acc_dtype out, or give dtype= to cast only the result."
    )


#: the leading arguments of the reductions whose third one is not ``keepdims``
_ORDERS = {
    **dict.fromkeys(("sum", "prod", "mean"), "(x, axis, dtype, keepdims, acc_dtype)"),
    **dict.fromkeys(("var", "std"), "(x, axis, ddof, keepdims, corrected)"),
}


def _check_order(what: str, keepdims: Any, dtype: Any) -> None:
    """Refuses a ``keepdims`` that is no flag and a flag given as ``dtype``: the arguments of
    numpy's order (``keepdims`` third) read in PyTensor's (``dtype`` or ``ddof`` third), or
    the other way round, would otherwise change the result's type or shape unnoticed."""
    sig = _ORDERS.get(what, "(x, axis, keepdims)")
    if not isinstance(keepdims, (bool, np.bool_)) and not (
        isinstance(keepdims, (int, np.integer)) and keepdims in (0, 1)
    ):
        raise TypeError(
            f"{what}: keepdims must be True or False, got {keepdims!r}; the arguments are "
            f"PyTensor's {what}{sig}: give keepdims= and the others by keyword"
        )
    if isinstance(dtype, (bool, np.bool_)):
        raise TypeError(
            f"{what}: dtype must be a dtype, got {dtype!r}; the arguments are PyTensor's "
            f"{what}{sig}: give keepdims={dtype!r} by keyword"
        )


def _reduce(
    kind: str, x: Any, axis: Any, keepdims: bool, dtype: Any = None, ddof: int = 0, acc_dtype: Any = None
) -> Variable:
    v = as_tensor_variable(x)
    what = _FRONT_NAME.get(kind, kind)
    _check_order(what, keepdims, dtype)
    axes = normalize_axes(axis, v.ndim, what)
    acc = _checked_acc_dtype(what, v.dtype, acc_dtype)
    if kind in ("add", "mul"):
        out = normalize_dtype(dtype, f"{what}: dtype") if dtype is not None else _sum_dtype(v.dtype)
    elif kind in ("and", "or"):
        out = "bool"
    elif kind == "mean":
        if dtype is not None:
            out = normalize_dtype(dtype, f"{what}: dtype")
            if acc is None and not (is_float(out) or is_complex(out)):
                acc = out  # as numpy: an integer mean adds in that type, the quotient truncated
        else:
            out = v.dtype if is_float(v.dtype) or is_complex(v.dtype) else "float64"
        check_float64(kind, [v.dtype], out)
    else:
        out = v.dtype
    res = Reduce(kind, axes, out, ddof=ddof, acc_dtype=acc)(v)
    return keep_reduced_dims(res, axes, keepdims)


def sum(
    x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, acc_dtype: Any = None
) -> Variable:
    """numpy's sum, its arguments in PyTensor's order; ``dtype`` is the result's type,
    ``acc_dtype`` (PyTensor's) the one the loop adds in."""
    return _reduce("add", x, axis, keepdims, dtype, acc_dtype=acc_dtype)


def prod(
    x: Any,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool = False,
    acc_dtype: Any = None,
    no_zeros_in_input: bool = False,
) -> Variable:
    """numpy's prod; ``dtype`` and ``acc_dtype`` as :func:`sum`'s. ``no_zeros_in_input`` is
    PyTensor's promise that no element is 0, taken so its code runs unchanged: the gradient is
    right with zeros too, so it changes nothing."""
    return _reduce("mul", x, axis, keepdims, dtype, acc_dtype=acc_dtype)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _reduce("max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _reduce("min", x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _reduce("and", x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _reduce("or", x, axis, keepdims)


def mean(
    x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, acc_dtype: Any = None
) -> Variable:
    """numpy's mean, its arguments in PyTensor's order; ``dtype`` is the result's type (an integer one: added in that type and
    the quotient truncated, as numpy), ``acc_dtype`` (PyTensor's) the type the loop adds in."""
    return _reduce("mean", x, axis, keepdims, dtype, acc_dtype=acc_dtype)


def norm(x: Any, L: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """PyTensor's ``x.norm(L, axis)``: ``(sum |x|**L)**(1/L)`` over ``axis`` (L=2 the root of the
    sum of squares, L=1 the sum of magnitudes); the largest magnitude for ``L = inf``."""
    if isinstance(L, (bool, np.bool_)) or not isinstance(L, (int, float, np.integer, np.floating)):
        raise TypeError(f"norm: L must be a Python or numpy number, got {L!r}")
    if not L > 0:  # NaN too
        raise ValueError(
            f"norm: L must be a positive number or inf, got {L!r}; for the count of nonzero "
            "entries use ft.sum(ft.neq(x, 0))"
        )
    mag = elemwise("abs", x)
    if np.isinf(L):
        return max(mag, axis=axis, keepdims=keepdims)
    return elemwise("pow", sum(elemwise("pow", mag, L), axis=axis, keepdims=keepdims), 1.0 / L)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Variable:
    """numpy.var, its arguments in PyTensor's order (``ddof`` third): the mean of ``|x - mean(x)|**2`` along ``axis``, divided by ``N - ddof``
    rather than ``N``. ``corrected=True`` (PyTensor's) uses the corrected two-pass algorithm:
    it subtracts ``sum(x - mean(x))**2 / (N (N - ddof))``, zero but for the rounding of the
    mean, which removes that rounding's error from the result."""
    return _var(x, axis, keepdims, ddof, corrected, "var")


def _var(x: Any, axis: Any, keepdims: bool, ddof: Any, corrected: bool, what: str) -> Variable:
    _check_order(what, keepdims, None)
    normalize_axes(axis, as_tensor_variable(x).ndim, what)  # an axis out of range named as var's or std's
    ddof = int_arg(ddof, what, "ddof")
    v = as_tensor_variable(x)
    if not is_float(v.dtype) and not is_complex(v.dtype):
        (v,) = as_float64(what, v)
    d = v - mean(v, axis=axis, keepdims=True)
    size = elemwise("abs", d) if is_complex(v.dtype) else d  # numpy: a real number for complex x
    res = _reduce("mean", elemwise("sqr", size), axis, keepdims, ddof=ddof)
    if not corrected:
        return res
    # sum(d)**2 / (N (N - ddof)) as the product of sum(d) / N and sum(d) / (N - ddof)
    first, second = _reduce("mean", d, axis, keepdims), _reduce("mean", d, axis, keepdims, ddof=ddof)
    if is_complex(v.dtype):
        first, second = elemwise("abs", first), elemwise("abs", second)
    return res - first * second


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Variable:
    """numpy.std: the square root of :func:`var` (``corrected`` as there)."""
    return elemwise("sqrt", _var(x, axis, keepdims, ddof, corrected, "std"))


def _arg(kind: str, x: Any, axis: Any, keepdims: bool) -> Variable:
    v = as_tensor_variable(x)
    multi = axis is not None and as_int(axis) is None
    axes = normalize_axes(axis, v.ndim, kind)
    if axis is None or axes == tuple(range(v.ndim)) and v.ndim:
        res = ArgReduce(kind, None)(v)
    elif not multi or len(axes) == 1:
        res = ArgReduce(kind, axes[0])(v)
    else:
        res = ArgReduce(kind, v.ndim - len(axes))(_merge_axes_last(v, axes))
    return keep_reduced_dims(res, axes, keepdims)


def _merge_axes_last(v: Variable, axes: tuple[int, ...]) -> Variable:
    """``v`` with ``axes`` moved last and merged into one (size 1 for no axes): the flat index
    over several axes is an argmax over that one, as in PyTensor."""
    from .shape_ops import dimshuffle, reshape, shape

    keep = [d for d in range(v.ndim) if d not in axes]
    moved = dimshuffle(v, keep + list(axes))
    s = shape(v)
    size: Any = 1
    for a in axes:
        size = size * s[a]
    return reshape(moved, [s[d] for d in keep] + [size], ndim=len(keep) + 1)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _arg("argmax", x, axis, keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return _arg("argmin", x, axis, keepdims)
