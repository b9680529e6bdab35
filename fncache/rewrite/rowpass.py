"""`rowpass`: ``X.T @ g``, where ``g`` is computed row by row from ``z = X @ w`` (elementwise
ops on vectors aligned with X's rows and on single values, and `SumToShape`s that can only sum
where a row input was broadcast), becomes one `RowPass` node: the C backend then reads X once
per call instead of twice (the forward product and the gradient's). Every gradient of a linear
model has this shape (logistic or linear regression, GLMs, a hinge loss...).

The match is by structure. It does not apply (the graph stays as it is) where ``g`` depends on
anything else computed from z: a reduction over the rows (a softmax's normalizer, a mean of z),
an index, another matrix's product, a second ``X @ w2``; where ``w`` is read along the rows;
where the product is with another matrix than the one of ``z``; where the dtypes differ or are
not float32/float64. A second gradient of the same ``z`` stays a product (it reads ``z`` from
the first pass).
Runs after `fusion` (phase ``fused``), so the region is a few fused loops.
"""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph, users_by_id
from ..graph.types import is_complex
from ..tensor.blas import Dot, RowPass
from ..tensor.elemwise import Elemwise
from ..tensor.grad_ops import SumToShape
from ..tensor.shape_ops import DimShuffle
from .registry import register

__all__ = ["rowpass"]

FLOATS = ("float32", "float64")
#: Graphs with more such products than this are left after this many (each match rescans).
MAX_MATCHES = 64


def _transposed(v: Variable) -> Variable | None:
    """The matrix ``v`` is the transpose of, if it is one."""
    p = v.owner
    if (
        p is not None
        and isinstance(p.op, DimShuffle)
        and p.op.pattern == (1, 0)
        and not p.op.dropped
        and p.inputs[0].ndim == 2
    ):
        return p.inputs[0]
    return None


def _is_z(v: Variable, x: Variable) -> bool:
    p = v.owner
    return (
        p is not None
        and isinstance(p.op, Dot)
        and p.inputs[0] is x
        and p.inputs[1].ndim == 1
        and p.inputs[1].dtype == x.dtype == v.dtype
    )


def _region(g: Variable, x: Variable, order: list[Apply]) -> tuple[Variable, list[Apply]] | None:
    """(z, the nodes between z and ``g`` in order) when ``g`` is a row-wise function of one
    ``z = x @ w``; None when it is not."""
    wanted = {id(g)}  # g and the values it is computed from, back to z and the leaves
    zs: dict[int, Variable] = {}
    for node in reversed(order):
        if not any(id(o) in wanted for o in node.outputs):
            continue
        if _is_z(node.outputs[0], x):
            zs[id(node.outputs[0])] = node.outputs[0]
            continue
        wanted.update(id(v) for v in node.inputs)
    if len(zs) != 1:
        return None
    z = next(iter(zs.values()))
    on_z = {id(z)}  # values computed from z
    region = []
    for node in order:
        if not any(id(o) in wanted for o in node.outputs) or not any(id(v) in on_z for v in node.inputs):
            continue
        if not _row_wise(node, x, z, on_z):
            return None
        on_z.add(id(node.outputs[0]))
        region.append(node)
    return z, region


def _row_wise(node: Apply, x: Variable, z: Variable, on_z: set[int]) -> bool:
    """Whether ``node`` computes one row of its result from the same row of its inputs."""
    out = node.outputs[0]
    if len(node.outputs) != 1 or out.ndim != 1 or is_complex(out.dtype):
        return False
    if isinstance(node.op, Elemwise):
        return (
            not node.op.inplace
            and all(v.ndim <= 1 and not is_complex(v.dtype) for v in node.inputs)
            and not any(is_complex(dt) for _, _, dt in node.op.composite.steps)
        )
    if isinstance(node.op, SumToShape):
        # The identity where every size it compares is X's row count (each is, in the loop).
        likes = node.inputs
        return all(a == 0 for a, _ in node.op.spec) and all(
            d == 0
            and (likes[k] is x or id(likes[k]) in on_z or likes[k].ndim == 1 and likes[k].type.shape[0] != 1)
            for _, refs in node.op.spec
            for k, d in refs
        )
    return False


def _match(
    node: Apply, order: list[Apply], users: dict[int, list[Apply]], out_ids: set[int]
) -> tuple[Apply, dict[int, Variable]] | None:
    if not isinstance(node.op, Dot) or len(node.inputs) != 2:
        return None
    xt, g = node.inputs
    x = _transposed(xt)
    gw = node.outputs[0]
    if x is None or g.ndim != 1 or not (x.dtype == g.dtype == gw.dtype) or x.dtype not in FLOATS:
        return None
    found = _region(g, x, order)
    if found is None:
        return None
    z, region = found
    w = z.owner.inputs[1]
    inside = {id(n) for n in region}
    values: list[Variable] = [x, w]
    index: dict[int, int] = {id(x): 0, id(w): 1}
    for n in region:  # the leaves: inputs not computed from z, each read as a row or a value
        for v in n.inputs:
            if v is w:
                return None  # w read along X's rows (or its size compared with theirs)
            if v is x and isinstance(n.op, SumToShape):
                continue  # X's row count, which the loop has
            if id(v) in index or id(v) == id(z) or v.owner is not None and id(v.owner) in inside:
                continue
            if v.ndim > 1:
                return None
            index[id(v)] = len(values)
            values.append(v)
    n_in = len(values)
    index[id(z)] = n_in
    spec = []
    for j, n in enumerate(region):
        spec.append((n.op, tuple(index[id(v)] for v in n.inputs)))
        index[id(n.outputs[0])] = n_in + 1 + j
    # Row values read outside the region (or returned) become outputs too.
    kept = [
        v
        for v in [z, *(n.outputs[0] for n in region)]
        if id(v) in out_ids or any(id(u) not in inside and u is not node for u in users.get(id(v), []))
    ]
    op = RowPass(tuple(spec), (index[id(g)], *(index[id(v)] for v in kept)))
    new = op.make_node(*values)
    if "origin" in node.tag:
        new.tag["origin"] = node.tag["origin"]
    repl = {id(gw): new.outputs[0]}
    repl.update({id(v): o for v, o in zip(kept, new.outputs[1:])})
    return new, repl


def _replace(fgraph: FunctionGraph, repl: dict[int, Variable]) -> None:
    for n in fgraph.toposort():
        n.inputs = [repl.get(id(v), v) for v in n.inputs]
    fgraph.outputs = [repl.get(id(v), v) for v in fgraph.outputs]


@register("rowpass", "fast_run", "cpu", phase="fused")
def rowpass(fgraph: FunctionGraph) -> bool:
    changed = False
    for _ in range(MAX_MATCHES):
        order = fgraph.toposort()
        users = users_by_id(order)
        out_ids = {id(v) for v in fgraph.outputs}
        for node in order:
            m = _match(node, order, users, out_ids)
            if m is not None:
                _replace(fgraph, m[1])
                changed = True
                break
        else:
            return changed
    return changed
