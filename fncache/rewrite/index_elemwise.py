"""`index_elemwise`: an elementwise function, indexed with int arrays along every axis one of
which is ``arange(n)``, is the function of its inputs' entries so indexed: it runs on those
alone. ``log_softmax(z)[arange(n), y]`` (and ``log(softmax(z))[arange(n), y]``, once
`log_softmax` has rewritten it) becomes ``z[arange(n), y] - max[arange(n)] - log(s)[arange(n)]``:
no matrix of log-probabilities, one value per row; ``z = X @ W + b`` goes on to
``(X @ W)[arange(n), y] + b[y]``. ``arange(n)`` picks each of its axis's entries at most once,
so the result holds no more entries than the function's, and the function runs no more often.

Exact: the same function of the same values. An input broadcast along an axis (statically of
size 1 there, or lacking the axis) is not indexed along it. The inputs that are not take the
index as it is where their sizes there are known to be equal (`sizes.size_key`: read from the
same dim); they then check it against the same size. Where two of them may differ (``X @ W``
and ``b`` along the classes), each takes entry 0 where its size is 1 and the other's is not
(numpy's broadcasting), and a check raises ValueError where the sizes do not broadcast, as the
function itself does."""

from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.advanced_subtensor import AdvancedSubtensor
from ..tensor.basic import constant
from ..tensor.creation import arange_stop
from ..tensor.elemwise import Elemwise, elemwise
from ..tensor.shape_ops import dimshuffle
from .local import local_pass
from .registry import register
from .sizes import size_key, size_of


def _axis_index(fn: Apply, x: Variable, ax: int, idx: Variable) -> dict[int, Variable]:
    """The index each input of ``fn`` (by position) takes along axis ``ax`` of its result ``x``
    for the result's index ``idx``; inputs broadcast along it are left out."""
    nd = x.ndim
    groups: dict[frozenset, tuple[list[int], list]] = {}
    for j, a in enumerate(fn.inputs):
        d = ax - nd + a.ndim
        if d < 0 or a.type.shape[d] == 1 and x.type.shape[ax] != 1:
            continue
        key, leaves = size_key(a, d)
        groups.setdefault(key, ([], leaves))[0].append(j)
    if len(groups) == 1:
        return {j: idx for j in next(iter(groups.values()))[0]}
    sizes = [size_of(key, leaves, ax, str(fn.op)) for key, (_, leaves) in groups.items()]
    every: list = []  # the leaves of all of them, each once
    for _, leaves in groups.values():
        every += [r for r in leaves if not any(r[0] is u and r[1] == e for u, e in every)]
    full = size_of(frozenset().union(*groups), every, ax, str(fn.op))
    spread = elemwise("neq", full, 1)
    zero = constant(np.zeros((), idx.dtype))
    out = {}
    for (members, _), s in zip(groups.values(), sizes):
        own = elemwise("switch", elemwise("and_", elemwise("eq", s, 1), spread), zero, idx)
        out.update((j, own) for j in members)
    return out


def _rewrite(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, AdvancedSubtensor):
        return None
    x, index = node.inputs[0], node.inputs[1:]
    fn = x.owner
    if fn is None or not isinstance(fn.op, Elemwise) or len(fn.outputs) != 1:
        return None
    if node.op.key != tuple(("a", k) for k in range(x.ndim)) or len(index) != x.ndim:
        return None
    if any(a.ndim != 1 for a in index) or all(arange_stop(a) is None for a in index):
        return None
    per_axis = [_axis_index(fn, x, ax, idx) for ax, idx in enumerate(index)]
    ins = []
    for j, a in enumerate(fn.inputs):
        lead = x.ndim - a.ndim
        kept = [d for d in range(a.ndim) if j in per_axis[lead + d]]
        # the dims left out are broadcast: of size 1
        v = dimshuffle(a, kept)
        idx = [per_axis[lead + d][j] for d in kept]
        ins.append(AdvancedSubtensor(tuple(("a", k) for k in range(len(kept))))(v, *idx) if kept else v)
    out = fn.op(*ins)
    return [out] if out.type == node.outputs[0].type else None


@register("index_elemwise", "fast_run")
def index_elemwise(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
