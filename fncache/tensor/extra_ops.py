"""numpy's and Theano's small array functions, built from existing ops: ``roll diff tril triu
tri diag alloc_diag fill_diagonal choose select piecewise broadcast_to broadcast_arrays
nan_to_num sgn iround fill identity_like batched_dot batched_tensordot isclose allclose largest
smallest default logical_and logical_or logical_xor logical_not fmax fmin heaviside isposinf
isneginf``.

As PyTensor's ``tensor.extra_ops`` this module also offers ``cumsum cumprod repeat squeeze``
(:mod:`.array_ops`), and loads on first use the ones whose modules ``import fncache`` does not:
``searchsorted bincount unique Unique`` (:mod:`.data_ops`), ``compress ravel_multi_index
unravel_index to_one_hot fill_diagonal_offset`` (:mod:`.index_ops`) and ``linspace logspace
geomspace`` (:mod:`.grids`).

Each is a composition of subtensors, concatenations, dimshuffles, elementwise ops and
``matmul``, so it fuses with its neighbours, compiles to C where those ops do, keys and pickles
as they do, and differentiates through their gradient rules: no new op is needed.
"""

from __future__ import annotations

import importlib
from typing import Any, Sequence

import numpy as np

from ..graph.basic import Variable
from ..graph.types import is_complex, is_float, is_int, normalize_dtype
from .array_ops import (
    axes_count,
    cumprod,
    cumsum,
    diagonal,
    expand_dims,
    matmul,
    repeat,
    specify_shape,
    squeeze,
)
from ..graph.args import as_int, int_arg
from .basic import as_tensor_variable, constant, weak_numbers_cast
from .creation import alloc, arange, eye, zeros
from .elemwise import cast, elemwise
from .inc_subtensor import set_subtensor
from .pyop import check_value
from .reduction import all as all_
from .reduction import one_axis, ordered_axes
from .shape_ops import concatenate, dim_sizes, dimshuffle, flatten, reshape, shape, sizes_checked
from .size_args import size_arg
from .op_call import op_call

__all__ = [
    "roll",
    "diff",
    "tril",
    "triu",
    "tri",
    "diag",
    "broadcast_to",
    "broadcast_arrays",
    "nan_to_num",
    "sgn",
    "iround",
    "round",
    "round_half_to_even",
    "round_half_away_from_zero",
    "isposinf",
    "isneginf",
    "ceil_intdiv",
    "divmod",
    "fill",
    "identity_like",
    "batched_dot",
    "batched_tensordot",
    "isclose",
    "allclose",
    "fill_diagonal",
    "choose",
    "select",
    "piecewise",
    "alloc_diag",
    "largest",
    "smallest",
    "default",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "fmax",
    "fmin",
    "cumsum",
    "cumprod",
    "repeat",
    "squeeze",
]

#: PyTensor's extra_ops names from modules loaded when first asked for.
_LAZY = {
    **dict.fromkeys(("searchsorted", "bincount", "unique", "Unique"), "data_ops"),
    **dict.fromkeys(
        ("compress", "ravel_multi_index", "unravel_index", "to_one_hot", "fill_diagonal_offset"), "index_ops"
    ),
    **dict.fromkeys(("RavelMultiIndex", "UnravelIndex"), "index_ops"),
    **dict.fromkeys(("linspace", "logspace", "geomspace", "bartlett"), "grids"),
    **dict.fromkeys(("broadcast_shape", "concat_with_broadcast"), "arrange"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__package__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def int_scalar(value: Any, what: str, name: str) -> Variable:
    """``value`` (an int or a symbolic int scalar) as an int64 scalar."""
    v = as_tensor_variable(value)
    if v.ndim != 0 or not is_int(v.dtype):
        raise TypeError(f"{what}: {name} must be an int or an int scalar, got {value!r} ({v.type})")
    return cast(v, "int64")


def _along(x: Variable, axis: int, index: Any) -> Variable:
    """``x[index]`` along ``axis`` (a slice), the other axes whole."""
    return x[(slice(None),) * axis + (index,)]


def roll(x: Any, shift: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """numpy.roll: elements shifted by ``shift`` along ``axis`` (of the flattened ``x`` when
    None), those pushed off the end coming back at the start. ``shift`` is an int, a symbolic
    int scalar, or (with a tuple of axes) one of those per axis. Two slices concatenated."""
    v = as_tensor_variable(x)
    if axis is None:
        if isinstance(shift, (tuple, list)):
            raise ValueError(f"roll: without an axis the shift must be one int, got {shift!r}")
        return reshape(roll(flatten(v), shift, 0), v.shape, ndim=v.ndim)
    axes = ordered_axes(axis, v.ndim, "roll")
    shifts = tuple(shift) if isinstance(shift, (tuple, list)) else (shift,) * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(
            f"roll: {len(shifts)} shifts {shifts!r} for {len(axes)} axes {axes}; give one shift per axis"
        )
    out = v
    for ax, s in zip(axes, shifts):
        sv = int_scalar(s, "roll", "a shift")
        n = out.shape[ax]
        # Python's modulo: a shift of -1 or n + 1 is a shift of n - 1 or 1; a 0-size axis gives 0
        # (integer modulo by zero is 0), two empty-or-whole slices
        cut = n - elemwise("mod", sv, n)
        out = concatenate([_along(out, ax, slice(cut, None)), _along(out, ax, slice(None, cut))], axis=ax)
    # the two pieces of a symbolic cut are x's size together: x's static sizes are the result's
    return specify_shape(out, v.type.shape) if any(s is not None for s in v.type.shape) else out


def diff(x: Any, n: int = 1, axis: int = -1) -> Variable:
    """numpy.diff: the ``n``-th differences along ``axis`` (``x[1:] - x[:-1]``, repeated; for
    bool, ``!=`` as numpy)."""
    v = as_tensor_variable(x)
    n = int_arg(n, "diff", "n", minimum=0)
    if v.ndim == 0:
        raise ValueError("diff: a 0-d tensor has no axis to take differences along; give a 1-d or more")
    ax = one_axis(axis, v.ndim, "diff")
    op = "neq" if v.dtype == "bool" else "sub"
    for _ in range(n):
        v = elemwise(op, _along(v, ax, slice(1, None)), _along(v, ax, slice(None, -1)))
    return v


def _triangle(m: Any, k: Any, keep: str, what: str) -> Variable:
    """``m`` with the elements outside a triangle of its last two dims zeroed: those with
    ``j - i`` on the ``keep`` side ("le" for tril, "ge" for triu) of ``k``."""
    v = as_tensor_variable(m)
    if v.ndim == 0:
        raise ValueError(f"{what}: takes a tensor of 1 or more dims, got a 0-d {v.type}")
    kv = int_scalar(k, what, "k")
    # numpy: a vector is the row of a square matrix
    rows = v.shape[-1] if v.ndim == 1 else v.shape[-2]
    i = dimshuffle(arange(rows), (0, "x"))
    j = dimshuffle(arange(v.shape[-1]), ("x", 0))
    mask = elemwise(keep, j - i, kv)
    return elemwise("switch", mask, v, constant(np.zeros((), v.dtype)))


def tril(m: Any, k: Any = 0) -> Variable:
    """numpy.tril: the lower triangle of the last two dims (``j <= i + k`` kept, the rest 0); a
    vector is the row of a square matrix. An elementwise select with an index mask (it fuses)."""
    return _triangle(m, k, "le", "tril")


def triu(m: Any, k: Any = 0) -> Variable:
    """numpy.triu: the upper triangle of the last two dims (``j >= i + k`` kept, the rest 0)."""
    return _triangle(m, k, "ge", "triu")


def tri(N: Any, M: Any = None, k: Any = 0, dtype: Any = "float64") -> Variable:
    """numpy.tri: an ``N`` x ``M`` (``N`` x ``N``) matrix of ``dtype``, 1 where ``j <= i + k`` and
    0 elsewhere; the sizes and ``k`` are ints or symbolic int scalars."""
    dt = normalize_dtype(dtype, "tri")
    rows = arange(int_scalar(N, "tri", "N"))
    cols = rows if M is None else arange(int_scalar(M, "tri", "M"))
    kv = int_scalar(k, "tri", "k")
    mask = elemwise("le", dimshuffle(cols, ("x", 0)) - dimshuffle(rows, (0, "x")), kv)
    return cast(mask, dt)


def diag(v: Any, k: Any = 0) -> Variable:
    """numpy.diag: of a vector, the square matrix with it on the ``k``-th diagonal (above the
    main one for ``k > 0``, below for ``k < 0``; an int or a symbolic int scalar) and zeros
    elsewhere; of a matrix, its ``k``-th diagonal (:func:`diagonal`). A select with an index
    mask, so it fuses and differentiates."""
    x = as_tensor_variable(v)
    k = size_arg(k, "diag", "k", minimum=None)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(
            f"diag: takes a vector (to build a matrix) or a matrix (to read a diagonal), got {x.type}"
        )
    return alloc_diag(x, k)


def alloc_diag(diag: Any, offset: Any = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """PyTensor's ``alloc_diag``: zeros with the last dim of ``diag`` on the ``offset``-th
    diagonal of the dims ``axis1`` and ``axis2`` of the result (one more dim than ``diag``;
    its other dims are ``diag``'s leading ones, in order), so ``diagonal(alloc_diag(v)) == v``;
    ``offset`` an int or a symbolic int scalar. A select with an index mask, so it fuses and
    differentiates."""
    x = as_tensor_variable(diag)
    k = size_arg(offset, "alloc_diag", "offset", minimum=None)
    if x.ndim == 0:
        raise ValueError(f"alloc_diag: takes a vector (or a stack of them), got a 0-d {x.type}")
    a1, a2 = sorted(ordered_axes((axis1, axis2), x.ndim + 1, "alloc_diag"))
    lead = list(range(x.ndim - 1))
    # the vector padded to the matrix's size, read along the rows (k >= 0) or the columns
    symbolic = isinstance(k, Variable)
    width = elemwise("abs", k) if symbolic else abs(k)
    padded = concatenate([x, zeros((*dim_sizes(x)[:-1], width), x.dtype)], axis=-1) if symbolic or k else x
    size = dim_sizes(padded)[-1]  # an int where known: the result's static sizes
    i = dimshuffle(arange(size), (0, "x"))
    j = dimshuffle(arange(size), ("x", 0))
    rows = dimshuffle(padded, [*lead, x.ndim - 1, "x"])
    cols = dimshuffle(padded, [*lead, "x", x.ndim - 1])
    if symbolic:  # which of the two, when the function runs
        along = elemwise("switch", elemwise("ge", k, 0), rows, cols)
    else:
        along = rows if k >= 0 else cols
    square = elemwise("switch", elemwise("eq", j - i, k), along, constant(np.zeros((), x.dtype)))
    # the two new dims (last in ``square``) moved to axis1 and axis2
    order = iter(lead)
    pattern = [x.ndim - 1 if d == a1 else x.ndim if d == a2 else next(order) for d in range(x.ndim + 1)]
    return dimshuffle(square, pattern)


def broadcast_to(x: Any, shape: Any) -> Variable:
    """numpy.broadcast_to: ``x`` broadcast to ``shape`` (ints or symbolic int scalars); a new
    array rather than numpy's read-only view (a function's outputs are arrays of their own).
    Sizes that do not broadcast raise ValueError; a result too large for memory MemoryError
    naming broadcast_to."""
    v = as_tensor_variable(x)
    shp = (
        (shape,) if as_int(shape) is not None or (isinstance(shape, Variable) and shape.ndim == 0) else shape
    )
    if isinstance(shp, (tuple, list)) and len(shp) < v.ndim:
        raise ValueError(
            f"broadcast_to: the shape {tuple(shp)!r} has fewer dims than {v.type} ({v.ndim}); "
            "give at least one size per dim of x"
        )
    out = alloc(v, shp, what="broadcast_to")
    out.owner.tag["made_by"] = ("broadcast_to", _BROADCAST_TO_FIX)
    return out


_BROADCAST_TO_FIX = (
    "unlike numpy's read-only view, broadcast_to makes a new array (a function's outputs are "
    "arrays of their own); check the shape, or compute with x itself, which elementwise ops "
    "broadcast without copying (a sum of broadcast_to(x, (n,) + x.shape) is n * x.sum(0))"
)


def broadcast_arrays(*args: Any) -> tuple[Variable, ...]:
    """numpy.broadcast_arrays: the tensors broadcast against each other, each keeping its
    dtype (a tuple, as numpy's); shapes that do not broadcast raise ValueError. Each is an
    elementwise select against a bool tensor of the common shape, so it fuses, and its gradient
    is the output's summed back to the input's shape."""
    vs = [as_tensor_variable(a) for a in args]
    if len(vs) < 2:
        return tuple(vs)
    common = elemwise("eq", vs[0], vs[0])
    for v in vs[1:]:
        common = elemwise("and_", common, elemwise("eq", v, v))
    # the select's type is the value's (bool joins any dtype without changing it)
    return tuple(elemwise("switch", constant(True), v, common) for v in vs)


def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Variable:
    """numpy.nan_to_num: NaN replaced by ``nan``, +inf by ``posinf`` (default: the dtype's
    largest finite value), -inf by ``neginf`` (its most negative); integers and bools
    unchanged. The gradient passes through where ``x`` is finite and is 0 elsewhere."""
    v = as_tensor_variable(x)
    if is_complex(v.dtype):
        raise TypeError(
            f"nan_to_num: complex tensors are not supported, got {v.type}; apply it to z.real and z.imag"
        )
    if not is_float(v.dtype):
        return v
    big = float(np.finfo(v.dtype).max)
    hi = big if posinf is None else posinf
    lo = -big if neginf is None else neginf
    for name, val in (("nan", nan), ("posinf", hi), ("neginf", lo)):
        if isinstance(val, Variable) or not isinstance(val, (int, float, np.integer, np.floating)):
            raise TypeError(f"nan_to_num: {name} must be a Python number, got {val!r}")

    def c(val: float) -> Variable:
        return constant(np.asarray(val, v.dtype))

    out = elemwise("switch", elemwise("isnan", v), c(nan), v)
    out = elemwise("switch", elemwise("eq", v, np.inf), c(hi), out)
    return elemwise("switch", elemwise("eq", v, -np.inf), c(lo), out)


def sgn(x: Any) -> Variable:
    """Theano's name for :func:`sign`."""
    return elemwise("sign", x)


#: PyTensor's rounding modes for ``round`` and ``iround``.
ROUND_MODES = ("half_to_even", "half_away_from_zero")


def round(x: Any, mode: str | None = None) -> Variable:
    """PyTensor's ``round(x, mode=None)``: ``"half_to_even"`` (the default, numpy.round) or
    ``"half_away_from_zero"`` (C's ``round``)."""
    if mode is None or mode == "half_to_even":
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)
    raise ValueError(f"round: mode must be None or one of {ROUND_MODES}, got {mode!r}")


@op_call
def round_half_to_even(x: Any) -> Variable:
    """Elementwise rounding to the nearest integer, a half to the even one (numpy.round)."""
    return elemwise("round", x)


@op_call
def round_half_away_from_zero(x: Any) -> Variable:
    """Elementwise rounding to the nearest integer, a half away from zero (C's ``round``:
    ``2.5 -> 3``, ``-2.5 -> -3``, 0.49999999999999994 -> 0)."""
    return elemwise("round_half_away_from_zero", x)


def iround(x: Any, mode: str | None = None) -> Variable:
    """Theano's ``iround``: :func:`round` (``mode`` as its) cast to int64."""
    return cast(round(x, mode), "int64")


def ceil_intdiv(a: Any, b: Any) -> Variable:
    """PyTensor's ``ceil_intdiv``: integer division rounded up, ``a // b`` plus one where the
    division leaves a remainder (for integers; floats give ``ceil(a / b)`` the same way)."""
    q = elemwise("floor_div", a, b)
    return elemwise("add", q, cast(elemwise("neq", elemwise("mod", a, b), 0), q.dtype))


def divmod(a: Any, b: Any) -> list[Variable]:
    """numpy.divmod: ``[a // b, a % b]`` (Python's sign convention)."""
    return [elemwise("floor_div", a, b), elemwise("mod", a, b)]


@op_call
def fill(model: Any, value: Any) -> Variable:
    """Theano's ``fill``: ``value`` broadcast to the shape of ``model`` (``model`` and ``value``
    broadcast together), of ``value``'s dtype; a Python number takes ``model``'s dtype where
    it fits it, as numpy's weak scalars do (2.0 fills a float32 model in float32, 3.5 an int
    model in float64, not as 3). ``model`` gets no gradient."""
    mv = as_tensor_variable(model)
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        val = weak_numbers_cast([mv, value])[1]
    else:
        val = as_tensor_variable(value)
    out = elemwise("switch", constant(True), val, mv)
    return out if out.dtype == val.dtype else cast(out, val.dtype)


def identity_like(x: Any, dtype: Any = None) -> Variable:
    """Theano's ``identity_like``: the identity matrix of ``x``'s shape (a matrix), of ``x``'s
    dtype or ``dtype`` (PyTensor's argument)."""
    dtype = None if dtype is None else normalize_dtype(dtype, "identity_like")  # named as its own, not eye's
    v = as_tensor_variable(x)
    if v.ndim != 2:
        raise ValueError(f"identity_like: takes a matrix, got {v.type}; give a 2-d tensor")
    return eye(*dim_sizes(v), 0, v.dtype if dtype is None else dtype)


_BATCH_SIZES = "{}: the batch sizes (dim 0) are {{}} and {{}}; give equal sizes (or 1, which broadcasts)"
_SUMMED = "the summed dims must have equal sizes"


def batched_dot(a: Any, b: Any) -> Variable:
    """PyTensor's ``batched_dot``: ``dot`` of ``a[i]`` and ``b[i]`` for each i of the first
    (batch) dim. With a batch of scalars (1-d) it is a broadcast product; 2-d and 3-d operands
    are batched vectors and matrices (``matmul`` of the stacks)."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    for name, v in (("a", va), ("b", vb)):
        if v.ndim == 0:
            raise TypeError(f"batched_dot: {name} must have a batch dim, got a 0-d {v.type}")
        if v.ndim > 3:
            raise ValueError(
                f"batched_dot: {name} has {v.ndim} dims, batched_dot takes 1 to 3 (a batch of "
                "scalars, vectors or matrices); use ft.tensordot or ft.matmul for more"
            )
    # the sizes checked here, so that a mismatch names this function, not matmul or mul
    sa, sb = dim_sizes(va), dim_sizes(vb)
    va = sizes_checked(va, sa[0], sb[0], _BATCH_SIZES.format("batched_dot"), broadcast=True)
    if min(va.ndim, vb.ndim) > 1:
        msg = f"batched_dot: the last dim of a (size {{}}) and dim 1 of b (size {{}}) differ; {_SUMMED}"
        va = sizes_checked(va, sa[-1], sb[1], msg)
    if va.ndim == 1:
        return dimshuffle(va, [0] + ["x"] * (vb.ndim - 1)) * vb
    if vb.ndim == 1:
        return va * dimshuffle(vb, [0] + ["x"] * (va.ndim - 1))
    dropped = []
    if va.ndim == 2:
        va = expand_dims(va, 1)
        dropped.append(1)
    if vb.ndim == 2:
        vb = expand_dims(vb, 2)
        dropped.append(2)
    out = matmul(va, vb)
    return squeeze(out, dropped) if dropped else out


def batched_tensordot(x: Any, y: Any, axes: int | Sequence[Any] = 2) -> Variable:
    """Theano's ``batched_tensordot``: :func:`tensordot` of ``x[i]`` and ``y[i]`` for each i of
    the first (batch) dim. ``axes`` an int n (the last n dims of ``x`` with the first n non-batch
    dims of ``y``) or a pair of axis lists, counted with the batch dim (which they must not name).
    The result has the batch dim, ``x``'s other dims, then ``y``'s (an ``einsum``)."""
    from .einsum import einsum

    vx, vy = as_tensor_variable(x), as_tensor_variable(y)
    for name, v in (("x", vx), ("y", vy)):
        if v.ndim < 1:
            raise TypeError(f"batched_tensordot: {name} must have a batch dim, got a 0-d {v.type}")
    n = axes_count(axes, "batched_tensordot")
    if n is not None:
        if not 0 <= n < min(vx.ndim, vy.ndim):
            raise ValueError(
                f"batched_tensordot: axes={n} is out of range for {vx.type} and {vy.type}; give at "
                f"most {min(vx.ndim, vy.ndim) - 1} (the dims after the batch dim)"
            )
        xa, ya = tuple(range(vx.ndim - n, vx.ndim)), tuple(range(1, n + 1))
    else:
        if isinstance(axes, Variable) or not isinstance(axes, (tuple, list)) or len(axes) != 2:
            raise TypeError(f"batched_tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
        xa = ordered_axes(axes[0], vx.ndim, "batched_tensordot")
        ya = ordered_axes(axes[1], vy.ndim, "batched_tensordot")
        if len(xa) != len(ya) or 0 in xa or 0 in ya:
            raise ValueError(
                f"batched_tensordot: axes {axes!r} must name as many axes of x as of y, none of "
                "them the batch dim 0"
            )
    # the sizes checked here, so that a mismatch names this function's axes, not einsum's letters
    # (on x, which einsum's own checks then read)
    sx, sy = dim_sizes(vx), dim_sizes(vy)
    vx = sizes_checked(vx, sx[0], sy[0], _BATCH_SIZES.format("batched_tensordot"), broadcast=True)
    for i, j in zip(xa, ya):
        msg = f"batched_tensordot: axis {i} of x (size {{}}) and axis {j} of y (size {{}}) differ; {_SUMMED}"
        vx = sizes_checked(vx, sx[i], sy[j], msg)
    letters = iter("bcdefghijklmnopqrstuvwxyzBCDEFGHIJKLMNOPQRSTUVWXYZ")
    xs = ["a"] + [next(letters) for _ in range(vx.ndim - 1)]
    ys = ["a"] + [next(letters) for _ in range(vy.ndim - 1)]
    for i, j in zip(xa, ya):
        ys[j] = xs[i]
    out = (
        ["a"]
        + [c for d, c in enumerate(xs) if d and d not in xa]
        + [c for d, c in enumerate(ys) if d and d not in ya]
    )
    return einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", vx, vy)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Variable:
    """numpy.isclose: ``|a - b| <= atol + rtol * |b|`` for a finite ``b``, or ``a == b`` (equal
    infinities); NaNs equal each other only with ``equal_nan``. ``b`` is compared as a float, as
    numpy does (an unsigned difference cannot wrap)."""
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    for name, val in (("rtol", rtol), ("atol", atol)):
        if isinstance(val, (bool, np.bool_)) or not isinstance(val, (int, float, np.integer, np.floating)):
            raise TypeError(f"isclose: {name} must be a Python number, got {val!r}")
    if is_complex(va.dtype) or is_complex(vb.dtype):
        raise TypeError(f"isclose: complex tensors are not supported, got {va.type} and {vb.type}")
    fb = vb if is_float(vb.dtype) else cast(vb, "float64")
    near = elemwise("le", elemwise("abs", va - fb), atol + rtol * elemwise("abs", fb))
    out = elemwise("or_", elemwise("and_", near, elemwise("isfinite", fb)), elemwise("eq", va, fb))
    if equal_nan:
        out = elemwise("or_", out, elemwise("and_", elemwise("isnan", va), elemwise("isnan", fb)))
    return out


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Variable:
    """numpy.allclose: every element :func:`isclose` (a bool scalar)."""
    return all_(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def fill_diagonal(a: Any, val: Any) -> Variable:
    """numpy.fill_diagonal as a function (PyTensor's): a copy of the matrix ``a`` with its main
    diagonal set to the scalar ``val`` (cast to ``a``'s dtype); the first ``min(n, m)`` rows of
    a tall matrix, as numpy without ``wrap``. A write into the diagonal's strided slice."""
    v = as_tensor_variable(a)
    if v.ndim != 2:
        raise ValueError(f"fill_diagonal: takes a matrix, got {v.type}; index a matrix out of it first")
    val_v = as_tensor_variable(val)
    if val_v.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val!r} ({val_v.type})")
    return reshape(set_subtensor(diagonal(v), cast(val_v, v.dtype)), shape(v), ndim=2)


def choose(a: Any, choices: Any, mode: str = "raise") -> Variable:
    """numpy.choose: ``choices[a]`` elementwise, ``a`` (ints) and a choice broadcast together.
    ``choices`` is a list or tuple of tensors (a chain of selects: it fuses) or one tensor whose
    first dim holds the choices, as numpy and PyTensor take an array (an indexing of it, its
    length known only when the function runs). ``mode`` is numpy's: ``"raise"`` (an index
    outside ``[0, len(choices))`` raises when the function runs), ``"wrap"`` (taken modulo
    the number of choices) or ``"clip"`` (limited to the first and last choice). The gradient
    reaches the chosen elements."""
    idx = as_tensor_variable(a)
    if not is_int(idx.dtype):
        raise TypeError(f"choose: a must hold ints (indices into choices), got {idx.type}")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip' (numpy's), got {mode!r}")
    stacked = isinstance(choices, (Variable, np.ndarray))
    if stacked:
        table = as_tensor_variable(choices)
        if table.ndim == 0:
            raise ValueError(
                f"choose: choices must have a first dim holding the choices, got the scalar {table.type};"
                " pass a list of tensors or a tensor of at least one dim"
            )
        n: Any = shape(table)[0]
    elif isinstance(choices, (list, tuple)) and choices:
        n = len(choices)
    else:
        raise TypeError(
            f"choose: choices must be a non-empty list or tuple of tensors, or one tensor whose first"
            f" dim holds them, got {choices!r}"
        )
    if mode == "wrap":
        idx = elemwise("mod", idx, cast(n, idx.dtype) if stacked else n)
    elif mode == "clip":
        idx = elemwise("minimum", elemwise("maximum", idx, 0), elemwise("sub", n, 1))
    else:
        inside = elemwise("and_", elemwise("ge", idx, 0), elemwise("lt", idx, n))
        bound = "number of choices" if stacked else n
        idx = check_value(
            idx,
            all_(inside),
            f"choose: an index of a is outside [0, {bound}), a = {{0}}; give indices into the choices, or pass"
            " mode='wrap' or mode='clip'",
            idx,
        )
    if stacked:
        return _choose_from_stacked(idx, table)
    out = as_tensor_variable(choices[0])
    for k in range(1, n):
        out = elemwise("switch", elemwise("eq", idx, k), choices[k], out)
    # with one choice the value is that choice, broadcast against a
    return out if n > 1 else elemwise("switch", elemwise("eq", idx, 0), out, out)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Variable:
    """numpy.select: elementwise the choice of the first condition that holds, ``default``
    where none does; conditions, choices and default broadcast together (a chain of selects)."""
    if isinstance(condlist, Variable) or isinstance(choicelist, Variable):
        raise TypeError(
            "select: condlist and choicelist must be lists of tensors; for a stacked tensor pass list(...)"
        )
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: {len(condlist)} conditions for {len(choicelist)} choices; give one choice per condition"
        )
    conds = [as_tensor_variable(c) for c in condlist]
    for k, c in enumerate(conds):
        if c.dtype != "bool":
            raise TypeError(
                f"select: condition {k} must be a bool tensor, got {c.type}; compare first (x > 0)"
            )
    choices = [as_tensor_variable(c) for c in choicelist]
    if isinstance(default, Variable) or not choices:
        out = as_tensor_variable(default)
    else:
        # a Python number takes the choices' dtype where it fits, as numpy's weak scalars
        dt = np.result_type(*[np.dtype(c.dtype) for c in choices], default).name
        out = constant(np.asarray(default, dt))
    for c, choice in zip(reversed(conds), reversed(choices)):
        out = elemwise("switch", c, choice, out)
    return out


def piecewise(x: Any, condlist: Any, funclist: Sequence[Any]) -> Variable:
    """numpy.piecewise: ``funclist[k](x)`` (or the number ``funclist[k]``) where
    ``condlist[k]`` holds, the later condition winning where several do, 0 elsewhere (or the
    one extra function's value, numpy's *otherwise*), of ``x``'s dtype. Each function is
    applied to the whole of ``x`` (so it must work elementwise), and the gradient goes through
    the function whose value is taken."""
    v = as_tensor_variable(x)
    conds = [condlist] if isinstance(condlist, Variable) and condlist.ndim == v.ndim else list(condlist)
    conds = [as_tensor_variable(c) for c in conds]
    for k, c in enumerate(conds):
        if c.dtype != "bool":
            raise TypeError(
                f"piecewise: condition {k} must be a bool tensor, got {c.type}; compare first (x > 0)"
            )
    funcs = list(funclist)
    if len(funcs) == len(conds) + 1:
        anyc = constant(False)
        for c in conds:
            anyc = elemwise("or_", anyc, c)
        conds.append(elemwise("invert", anyc))
    elif len(funcs) != len(conds):
        raise ValueError(
            f"piecewise: {len(funcs)} functions for {len(conds)} conditions; give one per "
            "condition, and at most one more for where none holds"
        )
    out = elemwise("switch", constant(True), constant(np.zeros((), v.dtype)), v)
    for c, fn in zip(conds, funcs):
        value = as_tensor_variable(fn(v) if callable(fn) else fn)
        out = elemwise("switch", c, cast(value, v.dtype) if value.dtype != v.dtype else value, out)
    return out


def _choose_from_stacked(idx: Variable, table: Variable) -> Variable:
    """``table[idx[p], p]`` at each position ``p`` of ``idx`` broadcast against ``table[0]``: the
    table broadcast to ``(n,) + that shape``, flattened behind its first dim, and indexed with
    the flattened indices and their positions."""
    idx = elemwise("add", idx, zeros(shape(table)[1:], dtype=idx.dtype))
    # each choice's dims line up with the broadcast index's last ones
    table = dimshuffle(table, [0] + ["x"] * (idx.ndim - table.ndim + 1) + list(range(1, table.ndim)))
    full = alloc(table, shape(table)[0], *dim_sizes(idx))
    flat = reshape(full, (shape(table)[0], -1), ndim=2)
    picked = flat[flatten(idx), arange(shape(flat)[1])]
    return reshape(picked, shape(idx), ndim=idx.ndim)


def largest(*args: Any) -> Variable:
    """PyTensor's ``largest``: the elementwise largest of the arguments, broadcast together (of
    two, ``switch(a > b, a, b)``, so a NaN in ``a`` gives ``b``; of one or more than two, their
    ``max`` with NaN propagating)."""
    return _extreme(args, "gt", "largest")


def smallest(*args: Any) -> Variable:
    """PyTensor's ``smallest``: the elementwise smallest of the arguments (of two,
    ``switch(a < b, a, b)``; of one or more than two, their ``min``)."""
    return _extreme(args, "lt", "smallest")


def _extreme(args: tuple, cmp: str, what: str) -> Variable:
    if not args:
        raise TypeError(f"{what}: takes one or more tensors, got none")
    if len(args) == 2:
        a, b = args
        return elemwise("switch", elemwise(cmp, a, b), a, b)
    # max / min of the arguments stacked, as PyTensor's, but broadcasting them: an elementwise
    # maximum / minimum of each in turn (NaN propagating, as the reduction)
    out = as_tensor_variable(args[0])
    for a in args[1:]:
        out = elemwise("maximum" if cmp == "gt" else "minimum", out, a)
    return out


def default(x: Any, default: Any) -> Variable:
    """Theano's ``default``: ``x``, or ``default`` where ``x`` is None. A compiled function's
    inputs always hold arrays, so the choice is made when the graph is built; the two must
    have one type (dtype and dims), as Theano's requires."""
    d = as_tensor_variable(default)
    if x is None:
        return d
    v = as_tensor_variable(x)
    if v.dtype != d.dtype or v.ndim != d.ndim:
        raise TypeError(
            f"default: x is {v.type} and default is {d.type}; they must have the same dtype and "
            "number of dims (cast one of them)"
        )
    return v


def _truth(x: Any) -> Variable:
    if isinstance(x, (int, float)) and not isinstance(x, (bool, np.generic)):
        # a Python number's truth is known: no dtype need hold it (1e300 under floatX=float32)
        return constant(np.bool_(x != 0))
    v = as_tensor_variable(x)
    return v if v.dtype == "bool" else elemwise("neq", v, constant(np.zeros((), v.dtype)))


def logical_and(a: Any, b: Any) -> Variable:
    """numpy.logical_and: bool, each operand read as true where non-zero."""
    return elemwise("and_", _truth(a), _truth(b))


def logical_or(a: Any, b: Any) -> Variable:
    """numpy.logical_or: bool, each operand read as true where non-zero."""
    return elemwise("or_", _truth(a), _truth(b))


def logical_xor(a: Any, b: Any) -> Variable:
    """numpy.logical_xor: bool, each operand read as true where non-zero."""
    return elemwise("xor", _truth(a), _truth(b))


def logical_not(a: Any) -> Variable:
    """numpy.logical_not: bool, true where ``a`` is zero."""
    return elemwise("invert", _truth(a))


def fmax(a: Any, b: Any) -> Variable:
    """numpy.fmax: the elementwise maximum ignoring a NaN (NaN only where both are); the
    gradient goes to the operand taken."""
    return _nan_ignoring("maximum", a, b)


def fmin(a: Any, b: Any) -> Variable:
    """numpy.fmin: the elementwise minimum ignoring a NaN (NaN only where both are)."""
    return _nan_ignoring("minimum", a, b)


def _nan_ignoring(op: str, a: Any, b: Any) -> Variable:
    va, vb = as_tensor_variable(a), as_tensor_variable(b)
    out = elemwise(op, va, vb)
    if not (is_float(va.dtype) or is_float(vb.dtype)):
        return out
    return elemwise("switch", elemwise("isnan", vb), va, elemwise("switch", elemwise("isnan", va), vb, out))


def heaviside(x1: Any, x2: Any) -> Variable:
    """numpy.heaviside: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0`` (NaN
    where ``x1`` is NaN), broadcast together; the gradient reaches ``x2`` where it is taken."""
    v1, v2 = as_tensor_variable(x1), as_tensor_variable(x2)
    # numpy's loops are float ones (float16 for small ints, which fncache computes in float32)
    dt = np.result_type(v1.dtype, v2.dtype, np.float16).name
    dt = "float32" if dt == "float16" else dt
    if is_complex(dt):
        raise TypeError(f"heaviside: takes real numbers, got {v1.type} and {v2.type}")
    one, zero = constant(np.ones((), dt)), constant(np.zeros((), dt))
    step = elemwise("switch", elemwise("gt", v1, 0), one, elemwise("switch", elemwise("lt", v1, 0), zero, v2))
    if is_float(dt):
        step = elemwise("switch", elemwise("isnan", v1), cast(v1, dt), step)
    return cast(step, dt) if step.dtype != dt else step


def isposinf(x: Any) -> Variable:
    """numpy.isposinf: bool, true at +inf."""
    return _is_inf(x, np.inf, "isposinf")


def isneginf(x: Any) -> Variable:
    """numpy.isneginf: bool, true at -inf."""
    return _is_inf(x, -np.inf, "isneginf")


def _is_inf(x: Any, inf: float, what: str) -> Variable:
    v = as_tensor_variable(x)
    if is_complex(v.dtype):
        raise TypeError(f"{what}: takes real numbers, got {v.type}; test z.real and z.imag")
    if not is_float(v.dtype):
        return elemwise("neq", v, v)  # all False, of v's shape
    return elemwise("eq", v, constant(np.asarray(inf, v.dtype)))
