"""`log_softmax`: the log of a softmax, ``log(exp(d) / s)`` (``d`` the scores less their
maximum, ``s`` the sums of ``exp(d)``), is ``d - log(s)``, as Theano's and PyTensor's rewrite
of the same name makes it: finite where a probability underflows to 0 (``log(0)`` is -inf
there), no exponential or division per score when only the log-probabilities are read, and
NaN where the softmax is (a row holding +inf, NaN, or only -inf). Elsewhere it is within a
few ulps of the log of the softmax.

Runs before `index_elemwise` (registered first), so an indexed log-probability
``log(softmax(z))[arange(n), y]`` becomes ``z[arange(n), y] - max - log(s)`` per row there, and
the gradient's shortcut (``tensor/softmax_xent_grad.py``) reads the same ``d`` and ``s``."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.elemwise import elemwise, single_step
from ..tensor.softmax_xent_grad import softmax_parts
from .local import local_pass
from .registry import register

__all__ = ["log_softmax"]


def _rewrite(node: Apply) -> list[Variable] | None:
    step = single_step(node)
    if step is None or step[0] != "log":
        return None
    sm = softmax_parts(step[1][0], marked=False)
    if sm is None:
        return None
    out = elemwise("sub", sm.d, elemwise("log", sm.s))
    return [out] if out.type == node.outputs[0].type else None


@register("log_softmax", "fast_run")
def log_softmax(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
