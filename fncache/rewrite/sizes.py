"""`sizes`: a `ReducedSize` (how many elements a reduction combined, e.g. the count a mean's
gradient divides by) reads its sizes from the variables they come from, not from the reduced
value: through elementwise ops (the broadcast of their inputs' sizes), products, dimshuffles,
reductions and `SumToShape`. The count then no longer waits for the value it counts, so a
gradient whose only link to a row-wise value was its count fuses with it (`rowpass`). A size
read as ``u.shape[d]`` (or ``u.shape`` as a whole) is read from those variables too, static
sizes included, so ``u`` is not computed for it alone;
it then raises where computing ``u`` would: it checks every broadcast of the elementwise ops
and reductions it passes over (along each axis, not only ``d``) and that no max or min among
them reduces an axis of size 0, and it is not taken where one of them reads a value that is
then no longer computed or raises for some values (an integer power)."""

from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Variable, toposort
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from ..tensor.basic import constant
from ..tensor.elemwise import Elemwise, elemwise
from ..tensor.grad_ops import ReducedSize
from ..tensor.pyop import BroadcastCheck, check_value
from ..tensor.reduction import Reduce
from ..tensor.shape_ops import DimShuffle, MakeVector, Shape, shape
from ..tensor.size_sources import Ref, broadcast_refs, size_sources
from ..tensor.subtensor import Subtensor
from .local import local_pass
from .registry import register

#: the ops a size read passes over (`size_key` not checking)
_PASSED = (Elemwise, Reduce, DimShuffle)


#: `size_key`'s answers for a graph, (id, dim, checking), and `_broadcast_key`'s, (id of the
#: node, dim): the variable or node (so the id stays its own), the key and the leaves
Keys = dict[tuple, tuple[object, tuple[frozenset, list[Ref]]]]


def _union(parts: list[tuple[frozenset, list[Ref]]]) -> tuple[frozenset, list[Ref]]:
    key: frozenset = frozenset()
    leaves: list[Ref] = []
    for k, refs in parts:
        key |= k
        leaves += [r for r in refs if not any(r[0] is u and r[1] == f for u, f in leaves)]
    return key, leaves


def size_key(
    v: Variable, d: int, checking: bool = True, memo: Keys | None = None
) -> tuple[frozenset, list[Ref]]:
    """Where dim ``d`` of ``v`` gets its size, followed back as far as `size_sources` goes (not
    ``checking``: only through ops that check no sizes but a broadcast's, not products or
    `SumToShape`): (a key, equal for two dims of equal sizes: the leaves' identities and static
    sizes; the leaves of unknown size). Static 1s add nothing to a broadcast and are left out.
    Each dim is followed once (``memo`` keeps the answers for later calls on the same graph), so
    a value read along several paths (``u * u + u``, repeated) costs no more than one."""
    memo = {} if memo is None else memo
    todo: list[Ref] = [(v, d)]
    while todo:
        u, e = todo[-1]
        if (id(u), e, checking) in memo:
            todo.pop()
            continue
        n = u.type.shape[e]
        op = u.owner.op if u.owner is not None else None
        src = size_sources(u, e) if n is None and (checking or isinstance(op, _PASSED)) else None
        if src is None:
            key = frozenset() if n == 1 else frozenset({(id(u), e) if n is None else ("static", n)})
            memo[(id(u), e, checking)] = (u, (key, [(u, e)] if n is None else []))
            todo.pop()
            continue
        missing = [r for r in src if (id(r[0]), r[1], checking) not in memo]
        if missing:
            todo.extend(missing)
            continue
        memo[(id(u), e, checking)] = (u, _union([memo[(id(r[0]), r[1], checking)][1] for r in src]))
        todo.pop()
    return memo[(id(v), d, checking)][1]


def _lift(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, ReducedSize):
        return None
    entries: list[list[Ref]] = [[(node.inputs[k], d) for k, d in refs] for refs in node.op.spec]
    changed = False
    for refs in entries:
        k = 0
        while k < len(refs):
            v, d = refs[k]
            src = size_sources(v, d) if v.type.shape[d] is None else ([] if v.type.shape[d] == 1 else None)
            if src is None:
                k += 1
                continue
            new: list[Ref] = []
            for r in src:
                if not any(r[0] is u and r[1] == e for u, e in refs + new):
                    new.append(r)
            refs[k : k + 1] = new
            changed = True
    if not changed:
        return None
    likes: list[Variable] = []
    spec = []
    for refs in entries:
        if not refs:
            continue
        for v, _ in refs:
            if not any(v is u for u in likes):
                likes.append(v)
        spec.append(tuple((next(i for i, u in enumerate(likes) if u is v), d) for v, d in refs))
    if not spec:  # every size was statically 1
        return [constant(np.ones((), dtype=node.op.dtype))]
    return [ReducedSize(tuple(spec), node.op.dtype)(*likes)]


def size_of(key: frozenset, leaves: list[Ref], axis: int, op: str, x: Variable | None = None) -> Variable:
    """The size `size_key` found ``key`` and ``leaves`` for: the one it comes from, or numpy's
    broadcast of several (each 1 or the same), checked when the function runs as the
    elementwise op named ``op`` checks it along its ``axis`` (`BroadcastCheck`: the
    BroadcastError computing it raises). Given ``x``: ``x``, under that check."""
    full, sizes = _broadcast_size(key, leaves)
    if len(sizes) < 2:
        return full if x is None else x
    fits = [elemwise("or_", elemwise("eq", s, 1), elemwise("eq", s, full)) for s in sizes]
    ok = fits[0]
    for f in fits[1:]:
        ok = elemwise("and_", ok, f)
    return BroadcastCheck(op, axis)(full if x is None else x, ok, *sizes)


def _broadcast_size(key: frozenset, leaves: list[Ref]) -> tuple[Variable, list[Variable]]:
    """numpy's broadcast of the sizes `size_key` found ``key`` and ``leaves`` for, unchecked,
    and those sizes."""
    sizes = [constant(np.int64(r[1])) for r in key if r[0] == "static"]
    sizes += [shape(u)[e] for u, e in leaves]
    if not sizes:
        return constant(np.int64(1)), sizes
    full = sizes[0]
    for s in sizes[1:]:
        full = elemwise("switch", elemwise("eq", s, 1), full, s)
    return full, sizes


def _broadcast_key(node: Apply, d: int, nd: int, memo: Keys) -> tuple[frozenset, list[Ref]]:
    """`size_key` (not checking) of dim ``d`` of the broadcast of ``node``'s inputs (``nd``
    dims), remembered in ``memo``."""
    if (id(node), d) not in memo:
        refs = broadcast_refs(node.inputs, d, nd)
        memo[(id(node), d)] = (node, _union([size_key(v, e, False, memo) for v, e in refs]))
    return memo[(id(node), d)][1]


_EMPTY_MSG = (
    "{op}: zero-size array to reduction operation {kind}imum which has no identity (its axis "
    "{axis} is of size {{0}}); give a non-empty axis"
)


def _checked_read(out: Variable, u: Variable, leaves: list[Ref], memo: Keys) -> Variable | None:
    """``out``, a size of ``u`` that `size_key` found ``leaves`` for, under the
    checks computing ``u`` makes in the elementwise ops and reductions it passes over (their
    broadcasts along each axis, a max or min of a non-empty axis); None where those do not
    raise all that computing ``u`` would: a max or min of an axis of static size 0, an
    elementwise op that checks its operands' values (an integer power), or a value another op
    computes that the checks do not read (a product reduced to a scalar: its inner
    sizes are checked by computing it).

    Each broadcast is checked at the op that broadcasts (an op of two or more sized operands
    there; a unary op or a reduction passes its operand's sizes on), inputs first, and before
    any empty max or min: a failing check raises the error computing ``u`` raises first, naming
    its op (``sub`` of ``(X - y) * z``, not ``mul``; ``mul`` of ``exp(X * y)``, not ``exp``)."""
    read = list(leaves)
    todo, seen, outside = [u], set(), []
    broadcasts: dict[int, list[tuple[int, frozenset, list[Ref]]]] = {}  # by node: axis, sizes, refs
    empties: list[tuple[Reduce, int, frozenset, list[Ref]]] = []
    while todo:
        v = todo.pop()
        node = v.owner
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if not isinstance(node.op, _PASSED):
            outside.append(v)
            continue
        body = node.op.composite if isinstance(node.op, Elemwise) else getattr(node.op, "pre", None)
        if body is not None and body.may_raise:  # an error of the values, which only computing them raises
            return None
        todo.extend(node.inputs)
        if isinstance(node.op, DimShuffle):
            continue
        nd = max(x.ndim for x in node.inputs)
        for j in range(nd):
            sizes, refs = _broadcast_key(node, j, nd, memo)
            if len(sizes) > 1 and len(broadcast_refs(node.inputs, j, nd)) > 1:
                read += refs
                broadcasts.setdefault(id(node), []).append((j, sizes, refs))
            op = node.op
            if isinstance(op, Reduce) and op.kind in ("max", "min") and j in op.axes:
                if ("static", 0) in sizes:
                    return None
                if not any(r[0] == "static" for r in sizes):
                    read += refs
                    empties.append((op, j, sizes, refs))
    if any(not any(v is r[0] for r in read) for v in outside):
        return None
    checked: set[frozenset] = set()
    for node in toposort([u], outside) if broadcasts else ():
        for j, sizes, refs in broadcasts.get(id(node), ()):
            if sizes not in checked:
                checked.add(sizes)
                out = size_of(sizes, refs, j, str(node.op), out)
    for op, j, sizes, refs in empties:
        # the sizes are checked above: this check runs after them (``out`` is its input)
        n = _broadcast_size(sizes, refs)[0]
        name = str(op).replace("{", "{{").replace("}", "}}")  # the message is formatted
        msg = _EMPTY_MSG.format(op=name, kind=op.kind, axis=j)
        out = check_value(out, elemwise("neq", n, 0), msg, n, removable=False)
    return out


def _size_read(u: Variable, d: int, memo: Keys) -> Variable | None:
    """``u.shape[d]`` read from the variables that size comes from (``(X @ W + b).shape[1]`` is
    ``W.shape[1]`` broadcast with ``b.shape[0]``, ``exp(a).shape[0]`` of an ``a`` of static
    size 2 is 2), so reading it does not keep ``u`` computed: a softmax whose size
    `categorical_crossentropy` checks its class indices against, a value only the branch of an
    ``ifelse`` not taken reads, say. The sizes a product or a type declares are checked by
    computing the value (a product's inner sizes, reshape's, specify_shape's): read from past
    elementwise ops, reductions and dimshuffles only (`_checked_read` refuses a value computed
    by another op that the read would no longer compute, static sizes and all)."""
    key, leaves = size_key(u, d, False, memo)
    if any(v is u for v, _ in leaves):
        return None
    # unchecked here: `_checked_read` checks the sizes at the ops that broadcast them
    return _checked_read(_broadcast_size(key, leaves)[0], u, leaves, memo)


def _shape_entry(node: Apply, memo: Keys) -> list[Variable] | None:
    """``u.shape[d]`` as `_size_read` reads it; an entry of a vector of sizes (`_shape_vector`)
    as that size."""
    if not isinstance(node.op, Subtensor) or len(node.op.idx) != 1 or node.op.idx[0][0] != "i":
        return None
    at = node.op.idx[0][1]
    sh = node.inputs[0].owner
    if at is None or at[0] != "c" or sh is None:
        return None
    if isinstance(sh.op, MakeVector):
        k = at[1]
        if -len(sh.inputs) <= k < len(sh.inputs) and sh.inputs[k].type == node.outputs[0].type:
            return [sh.inputs[k]]
        return None
    if not isinstance(sh.op, Shape) or sh.inputs[0].owner is None:
        return None
    u = sh.inputs[0]
    out = _size_read(u, at[1] + u.ndim if at[1] < 0 else at[1], memo)
    return [out] if out is not None and out.type == node.outputs[0].type else None


def _shape_vector(node: Apply, memo: Keys) -> list[Variable] | None:
    """``u.shape`` read as a whole (its product, an array of that shape) as the vector of
    `_size_read`'s sizes, where each dim has one."""
    if not isinstance(node.op, Shape) or node.inputs[0].owner is None:
        return None
    u = node.inputs[0]
    if not isinstance(u.type, TensorType) or u.ndim == 0:
        return None
    reads = [_size_read(u, d, memo) for d in range(u.ndim)]
    if any(r is None or r.type != _SIZE for r in reads):
        return None
    whole = _whole_shape(reads)
    if whole is not None and whole.type == node.outputs[0].type:
        return [whole]
    return [MakeVector()(*reads)]


def _whole_shape(reads: list[Variable]) -> Variable | None:
    """The shape of one variable ``v`` when ``reads`` are its dims in order (``v.shape[0]``,
    ``v.shape[1]``, ...), so that ``(x ** 2).shape`` becomes ``x.shape`` rather than a vector
    made again of its entries."""
    owners = [r.owner for r in reads]
    if any(o is None or not isinstance(o.op, Subtensor) or len(o.op.idx) != 1 for o in owners):
        return None
    shapes = [o.inputs[0].owner for o in owners]
    if any(sh is None or not isinstance(sh.op, Shape) for sh in shapes):
        return None
    # one variable's shape, though maybe read through several Shape nodes not merged yet
    if len({sh.inputs[0] for sh in shapes}) != 1 or shapes[0].inputs[0].ndim != len(reads):
        return None
    if [o.op.idx[0] for o in owners] != [("i", ("c", d)) for d in range(len(reads))]:
        return None
    return shapes[0].outputs[0]


_SIZE = TensorType("int64", ())


@register("sizes", "fast_run")
def sizes(fgraph: FunctionGraph) -> bool:
    # a size read walks back from a node the pass visits, through nodes it visited already
    # (their inputs redirected to the replacements made): what lies there does not change, so
    # each dim's key is found once for the pass
    memo: Keys = {}
    return local_pass(
        fgraph, lambda node: _lift(node) or _shape_entry(node, memo) or _shape_vector(node, memo)
    )
