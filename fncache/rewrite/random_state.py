"""`random_state`: a draw from a random state (`RandomDraw`) becomes the `RandomVariable` that
draws its sample from the state's counter and seed (`RandomDraw.counter_op`), so the C
run-time's native draw steps run it; the next state is ``[seed, counter + 1]`` made from the
two words. The same numbers as the op's own perform, which runs where the pass does not."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..tensor.random import RandomDraw
from ..tensor.shape_ops import stack
from .local import local_pass
from .registry import register


def _rewrite(node: Apply) -> list[Variable] | None:
    if not isinstance(node.op, RandomDraw):
        return None
    state, size, *params = node.inputs
    seed, counter = state[0], state[1]
    new, sample = node.op.counter_op()(counter, size, *params, seed)
    return [stack([seed, new]), sample]


@register("random_state", "fast_run")
def random_state(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
