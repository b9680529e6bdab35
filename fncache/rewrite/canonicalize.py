"""`canonicalize`: algebraic simplifications that are exact in floating point (NaN, inf and
the sign of zero included) or strictly more accurate: x*1, x+(-0.0), x-0, x/1, x**1, --x, log(exp(x)), x**2 -> sqr,
x**0.5 -> sqrt, x**-1 -> reciprocal (as numpy's ``x**-1`` is), switch on a constant condition,
nested dimshuffles, and dimshuffles that only prepend broadcast dims to an elementwise input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.basic import Apply, Constant, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_complex, is_float
from ..tensor.elemwise import Elemwise, elemwise, single_step
from ..tensor.shape_ops import DimShuffle, dimshuffle
from .local import local_pass
from .registry import register


#: Binary ops with a unit: the constant operand that leaves the other one unchanged (exactly,
#: NaN and inf included), and the positions it may take.
UNITS: dict[str, tuple[int, tuple[int, ...]]] = {
    "add": (0, (1, 0)),
    "mul": (1, (1, 0)),
    "sub": (0, (1,)),
    "true_div": (1, (1,)),
    "pow": (1, (1,)),
}

#: The sign a float zero must have to be a unit: -0.0 + 0.0 is 0.0, so only x + (-0.0) is x
#: for every float x (-0.0 included), and x - 0.0 is x, where x - (-0.0) is x + 0.0.
_ZERO_SIGN = {"add": -1.0, "sub": 1.0}


def is_unit(name: str, c: Any, out_dtype: str) -> bool:
    """The constant value ``c`` is the unit of binary op ``name`` (in :data:`UNITS`) for a
    result of ``out_dtype``: a zero added to or subtracted from a float also keeps the sign of
    a -0.0 (an integer zero is a float 0.0 there, and a real zero has a 0.0 imaginary part)."""
    if c != UNITS[name][0]:
        return False
    sign = _ZERO_SIGN.get(name)
    if sign is None or not (is_float(out_dtype) or is_complex(out_dtype)):
        return True
    zeros = (c.real, c.imag) if is_complex(out_dtype) else (float(c),)
    return all(math.copysign(1.0, z) == sign for z in zeros)


def const_value(v: Variable) -> Any:
    """The value of a constant whose elements are all equal (zeros of one sign), else None."""
    if isinstance(v, Constant) and v.data.size >= 1:
        flat = v.data.reshape(-1)
        if (flat == flat[0]).all() and all(len(set(np.signbit(p).tolist())) == 1 for p in _float_parts(flat)):
            return flat[0].item()
    return None


def _float_parts(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """The float arrays whose signs make ``a``'s value: its real and imaginary parts, itself, or
    none for an integer array."""
    if a.dtype.kind == "c":
        return (a.real, a.imag)
    return (a,) if a.dtype.kind == "f" else ()


def can_stand_for(out: Variable, x: Variable) -> bool:
    """``x`` can stand for ``out``: same dtype and ndim, and ``x`` is not broadcast by it: each
    of ``out``'s sizes is ``x``'s or unknown. A size of ``x`` known only when the function runs
    may be 1, which numpy broadcasts to the size ``out`` knows (``x * ones(3)`` of a length-1
    ``x`` has length 3)."""
    return (
        x.dtype == out.dtype
        and x.ndim == out.ndim
        and all(b is None or a == b for a, b in zip(x.type.shape, out.type.shape))
    )


def cannot_grow(x: Variable, other: Variable) -> bool:
    """Broadcasting ``other`` against ``x`` leaves ``x``'s shape: each of ``other``'s axes is 1
    or the same known size (an unknown size may be larger at run time)."""
    return other.ndim <= x.ndim and all(
        b == 1 or (b is not None and a == b) for a, b in zip(x.type.shape[::-1], other.type.shape[::-1])
    )


def _without_leading_broadcasts(node: Apply) -> list[Variable] | None:
    """The elementwise ``node`` reading, in place of a dimshuffle that only prepends broadcast
    dims (``x[None]``), its input directly: elementwise ops broadcast a lower-rank input the
    same way, so the outputs' types are unchanged and a step (a view made on every call) goes."""
    ins, changed = list(node.inputs), False
    for k, v in enumerate(ins):
        op = v.owner.op if v.owner is not None else None
        if isinstance(op, DimShuffle):
            lead = len(op.pattern) - op.in_ndim
            if lead > 0 and op.pattern == ("x",) * lead + tuple(range(op.in_ndim)):
                ins[k], changed = v.owner.inputs[0], True
    if not changed:
        return None
    outs = node.op.make_node(*ins).outputs
    if [o.type for o in outs] != [o.type for o in node.outputs]:
        return None
    return outs


def producer(v: Variable) -> tuple[str, list[Variable]] | None:
    """(scalar op name, inputs) of the unfused one-step elementwise node making ``v``."""
    return single_step(v.owner) if v.owner is not None else None


def _rewrite(node: Apply) -> list[Variable] | None:
    if isinstance(node.op, DimShuffle):
        x = node.inputs[0]
        if x.owner is not None and isinstance(x.owner.op, DimShuffle):
            inner = x.owner.op.pattern
            pat = tuple("x" if p == "x" else inner[p] for p in node.op.pattern)
            return [dimshuffle(x.owner.inputs[0], pat)]
        return None
    if isinstance(node.op, Elemwise):
        lifted = _without_leading_broadcasts(node)
        if lifted is not None:
            return lifted
    s = single_step(node)
    if s is None:
        return None
    name, ins = s
    out = node.outputs[0]
    if name in UNITS and len(ins) == 2:
        for b in UNITS[name][1]:
            c = const_value(ins[b])
            if (
                c is not None
                and is_unit(name, c, out.dtype)
                and can_stand_for(out, ins[1 - b])
                and ins[b].ndim <= out.ndim
            ):
                return [ins[1 - b]]
    if name == "pow" and is_float(out.dtype) and can_stand_for(out, ins[0]):
        c = const_value(ins[1])
        if c == 2 and ins[1].ndim <= out.ndim:
            return [elemwise("sqr", ins[0])]
        if c == 0.5 and ins[1].ndim <= out.ndim:
            return [elemwise("sqrt", ins[0])]
        if c == -1 and ins[1].ndim <= out.ndim:
            return [elemwise("reciprocal", ins[0])]
    if name == "switch" and len(ins) == 3:
        # A constant condition picks one branch everywhere (gradients build switch(True, g, 0)),
        # where neither the condition nor the other branch can broadcast it to a larger shape.
        c = const_value(ins[0])
        if c is not None:
            pick, other = (ins[1], ins[2]) if c else (ins[2], ins[1])
            if can_stand_for(out, pick) and cannot_grow(pick, ins[0]) and cannot_grow(pick, other):
                return [pick]
    p = producer(ins[0]) if len(ins) == 1 else None
    if name == "neg" and p and p[0] == "neg" and can_stand_for(out, p[1][0]):
        return [p[1][0]]
    if name == "log" and p and p[0] == "exp" and can_stand_for(out, p[1][0]):
        return [p[1][0]]
    return None


@register("canonicalize", "fast_run")
def canonicalize(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
