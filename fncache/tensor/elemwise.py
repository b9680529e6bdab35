"""Elementwise ops. Every elementwise op is a :class:`Composite` loop body, so a single op and
a fused chain are the same thing to the optimizer and to the code generators.

``ft.elemwise`` is this module (Theano's and PyTensor's ``T.elemwise.Elemwise``,
``T.elemwise.DimShuffle``), callable as :func:`elemwise`."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..callable_module import make_callable
from ..config import config
from ..errors import BroadcastError, Float64Error, OutOfRangeError
from ..graph.basic import Apply, Constant, Op, Variable, own_storage
from ..graph.types import TensorType, is_complex, is_float, normalize_dtype
from . import scalar_ops as S

__all__ = [
    "DimShuffle",  # noqa: F822  (loaded on first use: __getattr__ below)
    "Elemwise",
    "elemwise",
    "cast",
    "broadcast_static_shape",
    "broadcast_shapes",
    "check_float64",
    "as_float64",
    "float64_result",
    "report_float64",
    "runtime_broadcast_shape",
    "sized_like",
    "single_step",
    "users_name",
]


def broadcast_static_shape(shapes: Sequence[tuple[int | None, ...]], what: str) -> tuple:
    """numpy broadcasting of static shapes (unknown dims stay unknown)."""
    nd = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for d in range(nd):
        dims = [s[d - nd + len(s)] for s in shapes if d - nd + len(s) >= 0]
        known = {x for x in dims if x is not None and x != 1}
        if len(known) > 1:
            raise ValueError(
                f"{what}: shapes {', '.join(map(str, shapes))} cannot be broadcast "
                f"together (dimension {d} has sizes {sorted(known)})"
            )
        if known:
            out.append(known.pop())
        elif dims and all(x == 1 for x in dims):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...] | None:
    """numpy's broadcast of run-time shapes, or None where they do not broadcast. Computed here:
    ``np.broadcast_shapes`` runs on numpy's legacy iterators, which refuse more than 32 dims
    (numpy 2's arrays have up to 64)."""
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        for d, n in enumerate(s, nd - len(s)):
            if n != 1:
                if out[d] != 1 and out[d] != n:
                    return None
                out[d] = n
    return tuple(out)


def sized_like(v: Variable | None) -> Variable | None:
    """The variable ``v`` has every size of: itself, or, through elementwise ops whose other
    inputs are all of size 1 (``-y``, ``log(y + 1)``), the one input they are applied to."""
    while v is not None and v.owner is not None and isinstance(v.owner.op, Elemwise):
        sized = [u for u in v.owner.inputs if not all(n == 1 for n in u.type.shape)]
        if len(sized) != 1 or sized[0].ndim != v.ndim:
            break
        v = sized[0]
    return v


def users_name(v: Variable | None) -> str | None:
    """The user's name for ``v`` where it is an input of the function the user named (not a
    value computed in it, nor a constant): what a size error calls it."""
    if v is None or v.owner is not None or isinstance(v, Constant) or not v.name:
        return None
    return v.name


def runtime_broadcast_shape(inputs: Sequence[np.ndarray], what: str) -> tuple[int, ...]:
    """The broadcast shape of run-time values, or a ValueError naming the op and the shapes
    (numpy's own message names neither the op nor, for fused loops, all the inputs)."""
    shapes = [np.shape(i) for i in inputs]
    shape = broadcast_shapes(*shapes)
    if shape is None:
        raise BroadcastError.of(what, shapes)
    return shape


class Elemwise(Op):
    """Apply ``composite`` elementwise with numpy broadcasting.

    ``inplace`` maps an output index to the input index whose buffer it may overwrite (set by
    the `inplace` rewrite only for intermediates that die here).
    """

    __props__ = ("composite", "inplace")
    owns_outputs = True  # perform copies what numpy returns as a view (real, imag)

    def __init__(self, composite: S.Composite, inplace: tuple[tuple[int, int], ...] = ()) -> None:
        self.composite = composite
        self.inplace = tuple(inplace)

    @property
    def destroy_map(self) -> dict[int, list[int]]:  # type: ignore[override]
        return {o: [i] for o, i in self.inplace}

    def __str__(self) -> str:
        names = [s[0] for s in self.composite.steps]
        body = names[0] if len(names) == 1 else "Composite{" + ",".join(names) + "}"
        return body + ("_inplace" if self.inplace else "")

    def make_node(self, *inputs: Variable) -> Apply:
        for v in inputs:
            if not isinstance(v.type, TensorType):
                raise TypeError(
                    f"{self}: {v!r} is a {v.type}, not a tensor; elementwise functions of a sparse "
                    "matrix are fncache.sparse's (sparse.add, sparse.mul, structured_exp, ...), or "
                    "make it dense first (x.toarray())"
                )
        shape = broadcast_static_shape([i.type.shape for i in inputs], str(self))
        return Apply(self, inputs, [TensorType(d, shape) for d in self.composite.out_dtypes])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        shape = runtime_broadcast_shape(inputs, str(self))
        outs = self.composite.evaluate(inputs)
        outs = [np.array(np.broadcast_to(o, shape)) if o.shape != shape else o for o in outs]
        # numpy's real and imag of a complex array are views of it; the results never are
        return own_storage(outs, inputs, range(len(outs)))


def single_step(node: Apply) -> tuple[str, list[Variable]] | None:
    """(scalar op name, inputs) of an unfused one-step elementwise node."""
    if not isinstance(node.op, Elemwise) or len(node.op.composite.steps) != 1:
        return None
    name, refs, _ = node.op.composite.steps[0]
    return name, [node.inputs[k] for _, k in refs]


def check_float64(name: str, in_dtypes: Sequence[str], out: str, fix: str | None = None) -> None:
    """``warn_float64`` flags float64 results created from non-float64 inputs; ``fix`` says
    what to do (by default: make the inputs float32)."""
    if out != "float64" or config.warn_float64 == "ignore" or "float64" in in_dtypes:
        return
    fix = fix or "Cast an input to float32 (ft.cast(x, 'float32')) or use float32 constants"
    msg = (
        f"{name}: creates a float64 result from inputs of dtype {', '.join(in_dtypes)}. "
        f"{fix}, or set fc.config.warn_float64='ignore'."
    )
    report_float64(msg, stacklevel=4)


def report_float64(msg: str, stacklevel: int) -> None:
    """Do what ``warn_float64`` says with ``msg``: raise `Float64Error`, or warn from the
    caller ``stacklevel`` frames up, then, with Theano's ``'pdb'``, stop in the debugger where
    the float64 is made (``up`` reaches the line that made it)."""
    if config.warn_float64 == "raise":
        raise Float64Error(msg)
    warnings.warn(msg, stacklevel=stacklevel + 1)
    if config.warn_float64 == "pdb":
        import pdb

        pdb.set_trace()


def as_float64(what: str, *vs: Variable) -> list[Variable]:
    """``vs`` cast to float64 for a function ``what`` that computes in float64 only, the cast
    told to ``warn_float64`` (as an elementwise op's) where none of them is float64 and the
    result is float64: a function whose operands can be float32 gives its result through
    :func:`float64_result`, float32 under ``floatX=float32``, made in float64 as a float32
    mean is summed in float64, in silence."""
    if not _float32_result(vs):
        fix = f"{what} computes in float64 only: cast its result (ft.cast(y, 'float32'))"
        check_float64(what, [v.dtype for v in vs], "float64", fix)
    return [cast(v, "float64") for v in vs]


def float64_result(result: Variable, *operands: Variable) -> Variable:
    """``result`` of a function that computes in float64 only (its ``operands`` made float64 by
    :func:`as_float64`) in that function's dtype: float64, as numpy's and scipy's, but float32
    under ``floatX=float32`` where the operands promote to float32 (PyTensor's dtype; the
    float64 result rounded once)."""
    return cast(result, "float32") if _float32_result(operands) else result


def _float32_result(operands: Sequence[Variable]) -> bool:
    return config.floatX == "float32" and S.result_type(*[v.dtype for v in operands]) == np.float32


def _int_for_a_float_op(op: str, args: Sequence[Any], k: int, strong_dt: list[np.dtype]) -> Variable | None:
    """The constant for Python int ``args[k]``, which the integer dtype it meets cannot hold,
    where op ``op`` has no integer loop: numpy converts the int straight to the op's float
    (``int8_vector / 300`` is float64, ``arctan2(uint8_vector, -1)`` float16, where
    ``int8_vector + 300`` raises OverflowError). The constant is of the smallest dtype holding
    the value that leaves the op's result dtype the one the number would give in range (an
    integer one, or that float's); None where the op has an integer loop (numpy raises)."""
    from .basic import constant

    def dtypes(number_dt: Any) -> list[str]:
        return [
            str(number_dt if i == k else S.result_type(*strong_dt, a) if _is_python_number(a) else a.dtype)
            for i, a in enumerate(args)
        ]

    a = args[k]
    in_range = S.result_type(*strong_dt, a)
    try:
        want = S.out_dtype(op, dtypes(in_range))
    except TypeError:
        return None
    if not (is_float(want) or is_complex(want)):
        return None
    real = np.dtype(want).type(0).real.dtype
    for cand in (np.min_scalar_type(a), np.result_type(np.min_scalar_type(a), np.int8), real):
        try:
            fits = S.out_dtype(op, dtypes(cand)) == want
        except TypeError:
            continue
        if fits and (cand.kind == "f" or np.iinfo(cand).min <= a <= np.iinfo(cand).max):
            with np.errstate(over="ignore"):
                return constant(np.asarray(a, dtype=cand))
    return None


def _is_python_number(a: Any) -> bool:
    return isinstance(a, (bool, int, float, complex)) and not isinstance(a, np.generic)


def as_strong(
    args: Sequence[Any], weak_from: Sequence[int], what: str, op: str | None = None
) -> list[Variable]:
    """Turn Python numbers into constants of numpy's weak-promotion dtype (NEP 50): they take
    the dtype of the typed operands they meet (``float32_vector * 2.0`` stays float32; a
    Python float is float32 under ``floatX=float32``, ``scalar_ops.result_type``). A Python
    bool is refused (``basic.refuse_python_bool``), named after ``what`` where the user called
    no public function (an operator). ``op``, the scalar op the numbers are operands of, lets
    an int its operand's integer dtype cannot hold through where that op computes in a float
    (:func:`_int_for_a_float_op`)."""
    from .basic import as_array, as_tensor_variable, constant, refuse_python_bool

    strong_dt = [
        np.dtype(a.dtype if isinstance(a, Variable) else as_array(a).dtype)
        for i, a in enumerate(args)
        if i in weak_from and not _is_python_number(a)
    ]
    out: list[Variable] = []
    for k, a in enumerate(args):
        if not _is_python_number(a):
            out.append(as_tensor_variable(a))
            continue
        refuse_python_bool(a, what)
        dt = S.result_type(*strong_dt, a) if strong_dt else None
        if k not in weak_from:
            # switch's condition: a constant of its own dtype (a float is floatX's, inf beyond
            # it), not the branches'
            dt = S.result_type(a) if isinstance(a, (float, complex)) else None
        if dt is not None and isinstance(a, (float, complex)) and np.dtype(dt).kind in "fc":
            # numpy's: a float beyond a float32 operand's range is its inf there (1e300 * x)
            with np.errstate(over="ignore"):
                a_dt: Any = np.asarray(a, dtype=dt)
        else:
            a_dt = a
        try:
            c = constant(a_dt, dtype=dt)
        except OverflowError:  # numpy's class: int8_vector + 300 raises there too
            c = _int_for_a_float_op(op, args, k, strong_dt) if op is not None else None
            if c is None:
                raise OutOfRangeError(
                    f"the number {a!r} does not fit dtype {dt} of the other operand; cast that operand"
                    " to a wider dtype first (ft.cast(x, 'int64')) or give a number in its range"
                ) from None
        # a graph rebuilt on operands of other dtypes (rebuild_strict=False) promotes it anew
        c.tag.weak_number = a
        out.append(c)
    return out


#: each comparison with its operands swapped
_SWAPPED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "neq": "neq"}


def _beyond_the_dtype(name: str, args: Sequence[Any]) -> Variable | None:
    """numpy 2 compares an integer tensor with a Python int its dtype cannot hold
    (``uint8_vector < 300`` is all True, ``== -1`` all False) where other ops raise
    OverflowError: the answer is the same for every element, so the comparison is made with the
    dtype's own limit in a way that gives it. None for any other call."""
    if name not in _SWAPPED or len(args) != 2:
        return None
    k = next((i for i, a in enumerate(args) if type(a) is int), None)
    if k is None or _is_python_number(args[1 - k]):
        return None
    from .basic import as_tensor_variable

    x = as_tensor_variable(args[1 - k])
    if not x.dtype.startswith(("int", "uint")):
        return None
    info = np.iinfo(x.dtype)
    c = args[k]
    if info.min <= c <= info.max:
        return None
    op = name if k == 1 else _SWAPPED[name]  # as ``x op c``
    above = c > info.max
    holds = {"lt": above, "le": above, "gt": not above, "ge": not above, "eq": False, "neq": True}[op]
    if above:
        return elemwise("le" if holds else "gt", x, int(info.max))
    return elemwise("ge" if holds else "lt", x, int(info.min))


def elemwise(name: str, *args: Any) -> Variable:
    """Build scalar op ``name`` applied elementwise to ``args`` (variables, arrays, numbers)."""
    op = S.get(name)
    if len(args) != op.nin:
        raise TypeError(f"{name} takes {op.nin} inputs, got {len(args)}")
    beyond = _beyond_the_dtype(name, args)
    if beyond is not None:
        return beyond
    weak_from = tuple(range(1, 3)) if name == "switch" else tuple(range(len(args)))
    inputs = as_strong(args, weak_from, name, op=name)
    dtypes = [v.dtype for v in inputs]
    out = S.out_dtype(name, dtypes)
    check_float64(name, dtypes, out)
    comp = S.Composite(dtypes, [(name, [("in", k) for k in range(len(inputs))], out)], [0])
    return Elemwise(comp)(*inputs)


def cast(x: Any, dtype: Any) -> Variable:
    """``x`` converted to ``dtype`` (numpy's ``astype`` semantics)."""
    from .basic import as_tensor_variable

    v = as_tensor_variable(x)
    dt = normalize_dtype(dtype, "cast")
    if v.dtype == dt:
        return v
    comp = S.Composite([v.dtype], [(f"cast:{dt}", [("in", 0)], dt)], [0])
    return Elemwise(comp)(v)


def __getattr__(name: str) -> Any:
    # Theano's and PyTensor's tensor.elemwise also holds DimShuffle; fncache's is in shape_ops,
    # which imports this module, so it is looked up on first use
    if name == "DimShuffle":
        from .shape_ops import DimShuffle

        return DimShuffle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


make_callable(__name__, elemwise)
