"""`broadcast_reduce`: a reduction over the broadcast dims of an array made by broadcasting
(``alloc``, ``broadcast_to``, ``full``, and elementwise ops with one such input, as
``ones((n, m)) * x``) reduces the value before it is broadcast, so ``broadcast_to(x, (10**6,
10**6)).sum()`` allocates nothing of that size.

Each broadcast dim that is reduced keeps at most one copy of the value: the array becomes
``alloc(u, ..., minimum(n, 1), ...)``, whose checks are the original's (a negative size, a
value that does not broadcast), and whose reduction has the original's empty case (an axis of
length 0 gives the reduction's identity, or max/min's error). max, min, any, all and mean of
the copies are the value's; a sum is ``n`` times it and a product its ``n``-th power, both
computed in the reduction's accumulation type and then cast to its result type (integers wrap
as numpy's do, the product's power by repeated squaring: the same wrapped value)."""

from __future__ import annotations

from typing import Sequence

from ..graph.basic import Apply, Constant, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_complex, is_float
from ..tensor.creation import Alloc, alloc
from ..tensor.elemwise import Elemwise, cast, elemwise, single_step
from ..tensor.reduction import Reduce
from ..tensor.shape_ops import MakeVector, constant_entries, shape
from .local import local_pass
from .registry import register

#: How many elementwise ops a broadcast is looked for through (a chain of them is one loop).
_MAX_DEPTH = 8

Broadcast = tuple[Variable, list[Variable], list["int | None"], str]


def _static(v: Variable, ndim: int) -> tuple:
    """``v``'s static shape as broadcasting sees it in ``ndim`` dims (leading 1s)."""
    return (1,) * (ndim - v.ndim) + v.type.shape


def _of_alloc(x: Variable) -> Broadcast | None:
    """``x = alloc(value, shp)`` as (the value, x's sizes, those known now, the function its
    errors name)."""
    value, shp = x.owner.inputs
    known = constant_entries(shp) or (None,) * x.ndim
    entries = shp.owner.inputs if shp.owner is not None and isinstance(shp.owner.op, MakeVector) else ()
    # an int64 entry as it is (a clamped one is seen as clamped); others as the vector has them
    # (its op checks that an unsigned one fits)
    sizes = [e if e.dtype == "int64" else shp[d] for d, e in enumerate(entries)] or [
        shp[d] for d in range(x.ndim)
    ]
    return value, sizes, list(known), x.owner.op.what


def _of_elemwise(x: Variable, depth: int) -> Broadcast | None:
    """``x``, an elementwise op of one broadcast input, as the op of its value broadcast to the
    sizes of both. Only where the sizes alone decide what the original's broadcasting checks:
    every dim of the value is 1, or its size a constant other than 1 (the value cannot then be
    larger there than the result)."""
    node = x.owner
    if len(node.outputs) != 1:
        return None
    found = [(k, _broadcast(v, depth + 1)) for k, v in enumerate(node.inputs) if v.ndim == x.ndim]
    found = [(k, b) for k, b in found if b is not None]
    if len(found) != 1:
        return None
    k, (u, sizes, known, what) = found[0]
    if not all(s == 1 or (n is not None and n != 1) for s, n in zip(_static(u, x.ndim), known)):
        return None
    ins = list(node.inputs)
    ins[k] = u
    small = node.op.make_node(*ins).outputs[0]
    if small.type.dtype != x.dtype:
        return None
    ds, lead = shape(small), x.ndim - small.ndim
    out_sizes, out_known = [], []
    for d, (s, n) in enumerate(zip(sizes, known)):
        if n is not None and n != 1 or _static(small, x.ndim)[d] == 1:
            out_sizes.append(s)
            out_known.append(n)
        else:  # the other inputs' size where the broadcast one is 1
            out_sizes.append(elemwise("switch", elemwise("eq", s, 1), ds[d - lead], s))
            out_known.append(None)
    return small, out_sizes, out_known, what


def _broadcast(x: Variable, depth: int = 0) -> Broadcast | None:
    if x.owner is None or depth > _MAX_DEPTH:
        return None
    if isinstance(x.owner.op, Alloc):
        return _of_alloc(x)
    if isinstance(x.owner.op, Elemwise):
        return _of_elemwise(x, depth)
    return None


def _at_most_one(s: Variable, n: int | None) -> bool:
    """The size ``s`` (known now as ``n``) is 0 or 1, or clamped to at most 1 already."""
    if n is not None:
        return n <= 1
    step = single_step(s.owner) if s.owner is not None else None
    return (
        step is not None
        and step[0] == "minimum"
        and any(isinstance(c, Constant) and c.data.size == 1 and c.data <= 1 for c in step[1])
    )


def _product(sizes: Sequence[Variable], dtype: str) -> Variable:
    out = cast(sizes[0], dtype)
    for s in sizes[1:]:
        out = elemwise("mul", out, cast(s, dtype))
    return out


def _exponent_dtype(acc: str) -> str:
    """The type of a power's count for a product accumulated in ``acc``: wide enough for any
    count, and one numpy's power of an ``acc`` base keeps in ``acc``'s kind."""
    if is_float(acc) or is_complex(acc):
        return "float64"
    return "uint64" if acc.startswith("uint") else "int64"


def _reduce_of_broadcast(node: Apply) -> list[Variable] | None:
    op = node.op
    if not isinstance(op, Reduce) or op.pre is not None or len(node.inputs) != 1:
        return None
    mean_acc = op.acc_dtype or "float64"
    if op.kind == "mean" and (op.ddof or not (is_float(mean_acc) or is_complex(mean_acc))):
        return None  # an integer mean's sum wraps before its division
    b = _broadcast(node.inputs[0])
    if b is None:
        return None
    u, sizes, known, what = b
    copies = [d for d in op.axes if _static(u, len(sizes))[d] == 1 and not _at_most_one(sizes[d], known[d])]
    if not copies:
        return None
    one = [elemwise("minimum", sizes[d], 1) if d in copies else sizes[d] for d in range(len(sizes))]
    small = alloc(u, *one, what=what)
    if op.kind not in ("add", "mul"):
        return [op(small)]
    n = [sizes[d] for d in copies]
    acc = op.acc_dtype or ("float64" if op.out_dtype == "float32" else op.out_dtype)
    r = Reduce(op.kind, op.axes, acc, acc_dtype=op.acc_dtype)(small)
    if op.kind == "add":
        res = elemwise("mul", r, _product(n, acc))
    else:  # a power by squaring wraps as the product does; its exponent must not
        res = elemwise("pow", r, _product(n, _exponent_dtype(acc)))
    return [cast(res, op.out_dtype)]


@register("broadcast_reduce", "fast_run", "fast_compile")
def broadcast_reduce(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _reduce_of_broadcast)
