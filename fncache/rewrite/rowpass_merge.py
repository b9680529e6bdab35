"""`rowpass_merge`: two row passes over the same X (`RowPass` nodes: a gradient and a
Hessian-vector product of a linear model, or two models' gradients on one design matrix)
become one pass with two products, ``z_k = X @ w_k`` and ``X.T @ g_k`` for each, so the C
backend reads X from memory once for both. The second pass may read the first one's row
values (its rows are computed in the same loop, after the first's); it may not depend on
anything else computed from the first (its gradient ``X.T @ g``, or a row value through
another node): that waits for the whole first pass. Runs after `composite_constants`, which
drops the shape-only inputs linking a second gradient's vector to the first gradient."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph, users_by_id
from ..tensor.blas import RowPass
from .registry import register

__all__ = ["rowpass_merge"]


def _depends_on(values: list[Variable], node: Apply) -> bool:
    """Whether one of ``values`` is computed from an output of ``node``."""
    seen: set[int] = set()
    todo = list(values)
    while todo:
        p = todo.pop().owner
        if p is None or id(p) in seen:
            continue
        if p is node:
            return True
        seen.add(id(p))
        todo.extend(p.inputs)
    return False


def _merged(a: Apply, b: Apply, users: dict[int, list[Apply]], out_ids: set[int]) -> tuple | None:
    """(the merged node, {id(old output): new output}) for passes ``a`` then ``b`` over one X,
    or None where ``b`` reads more of ``a`` than its row values."""
    pa, pb = a.op.products, b.op.products
    x = a.inputs[0]
    if b.inputs[0] is not x or b.outputs[0].dtype != a.outputs[0].dtype:
        return None
    a_rows = {id(o): a.op.outs[k] for k, o in enumerate(a.outputs) if k >= pa}  # row value -> a's index
    if any(id(v) in a_rows for v in b.inputs[: 1 + pb]):
        return None  # a w of b computed by a: it waits for the whole pass
    if _depends_on([v for v in b.inputs if id(v) not in a_rows], a):
        return None
    ins: list[Variable] = [x, *a.inputs[1 : 1 + pa], *b.inputs[1 : 1 + pb]]
    index = {id(v): k for k, v in enumerate(ins)}
    for v in [*a.inputs[1 + pa :], *b.inputs[1 + pb :]]:
        if id(v) not in index and id(v) not in a_rows:
            index[id(v)] = len(ins)
            ins.append(v)
    n, na, nb = len(ins), len(a.inputs), len(b.inputs)
    z0 = n + pa + pb  # the first node result

    def in_a(r: int) -> int:
        if r == 0 or r > pa and r < na:
            return index[id(a.inputs[r])]
        if r <= pa:
            return r
        return n + (r - na) if r < na + pa else z0 + (r - na - pa)

    def in_b(r: int) -> int:
        if r < nb and id(b.inputs[r]) in a_rows:
            return in_a(a_rows[id(b.inputs[r])])
        if r == 0 or r > pb and r < nb:
            return index[id(b.inputs[r])]
        if r <= pb:
            return pa + r
        return n + pa + (r - nb) if r < nb + pb else z0 + len(a.op.nodes) + (r - nb - pb)

    nodes = [(op, tuple(in_a(r) for r in refs)) for op, refs in a.op.nodes]
    nodes += [(op, tuple(in_b(r) for r in refs)) for op, refs in b.op.nodes]
    # a's row values only b read are not returned any more
    kept_a = [
        k
        for k in range(pa, len(a.outputs))
        if id(a.outputs[k]) in out_ids or any(u is not b for u in users.get(id(a.outputs[k]), []))
    ]
    kept_b = list(range(pb, len(b.outputs)))
    outs = [
        *(in_a(r) for r in a.op.outs[:pa]),
        *(in_b(r) for r in b.op.outs[:pb]),
        *(in_a(a.op.outs[k]) for k in kept_a),
        *(in_b(b.op.outs[k]) for k in kept_b),
    ]
    new = RowPass(tuple(nodes), tuple(outs), pa + pb).make_node(*ins)
    olds = [
        *a.outputs[:pa],
        *b.outputs[:pb],
        *(a.outputs[k] for k in kept_a),
        *(b.outputs[k] for k in kept_b),
    ]
    if [o.type for o in olds] != [o.type for o in new.outputs]:
        return None
    if "origin" in a.tag:
        new.tag["origin"] = a.tag["origin"]
    return new, {id(o): v for o, v in zip(olds, new.outputs)}


@register("rowpass_merge", "fast_run", "cpu", phase="fused")
def rowpass_merge(fgraph: FunctionGraph) -> bool:
    changed = False
    while True:
        order = fgraph.toposort()
        users = users_by_id(order)
        out_ids = {id(v) for v in fgraph.outputs}
        passes = [n for n in order if isinstance(n.op, RowPass)]
        found = next(
            (
                m
                for j, b in enumerate(passes)
                for a in passes[:j]
                if (m := _merged(a, b, users, out_ids)) is not None
            ),
            None,
        )
        if found is None:
            return changed
        _, repl = found
        for node in order:
            node.inputs = [repl.get(id(v), v) for v in node.inputs]
        fgraph.outputs = [repl.get(id(v), v) for v in fgraph.outputs]
        changed = True
