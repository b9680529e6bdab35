"""`logistic`: the logistic function and its logarithm, spelled out with ``exp``, recognised as
`sigmoid` and `softplus`, whose C helpers stay finite where the spelled-out forms overflow
(``1 + exp(800)`` is inf, so ``log(1 + exp(800))`` is inf and ``1 - 1/(1 + exp(-800))`` is 0):

* ``1 / (1 + exp(x))`` and ``reciprocal(1 + exp(x))`` -> ``sigmoid(-x)`` (so
  ``1 / (1 + exp(-x))`` -> ``sigmoid(x)``),
* ``exp(x) / (1 + exp(x))`` -> ``sigmoid(x)``,
* ``1 - sigmoid(x)`` -> ``sigmoid(-x)``,
* ``log(1 + exp(x))`` and ``log1p(exp(x))`` -> ``softplus(x)``.

The ``1`` is a constant whose elements all equal 1 exactly (a constant close to 1, such as
1 + 1e-9, stays what it says), in either operand of the ``+``, and it may not broadcast the
result to a larger shape than ``x``'s. ``x`` is a float of the result's dtype: ``exp`` of an
integer is a float of another dtype, and a float32 ``x`` next to a float64 ``1`` gives a
float64 result that ``sigmoid(x)`` would not. Canonicalize then turns ``log(sigmoid(x))`` into
``-softplus(-x)``, and `sigmoid_products` the gradients' quotients of these terms into
products of sigmoids."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_float
from ..tensor.elemwise import elemwise
from .canonicalize import can_stand_for, cannot_grow, const_value, producer, single_step
from .local import local_pass
from .registry import register

__all__ = ["is_one", "one_plus_exp", "negated", "logistic"]


def is_one(c: Variable, x: Variable) -> bool:
    """``c`` is a constant of ones that does not broadcast ``x`` to a larger shape."""
    v = const_value(c)
    return v is not None and not isinstance(v, bool) and v == 1 and cannot_grow(x, c)


def one_plus_exp(v: Variable) -> Variable | None:
    """``x`` where ``v`` is ``1 + exp(x)`` or ``exp(x) + 1`` with ``x`` able to stand for
    ``v`` (a float of its dtype and shape), else None."""
    p = producer(v)
    if p is None or p[0] != "add" or not is_float(v.dtype):
        return None
    for one, e in (p[1], p[1][::-1]):
        q = producer(e)
        if q and q[0] == "exp" and is_one(one, e) and can_stand_for(v, q[1][0]) and can_stand_for(v, e):
            return q[1][0]
    return None


def negated(x: Variable) -> Variable:
    """``-x``, without a double negation."""
    p = producer(x)
    return p[1][0] if p and p[0] == "neg" else elemwise("neg", x)


def _rewrite(node: Apply) -> list[Variable] | None:
    s = single_step(node)
    if s is None:
        return None
    name, ins = s
    out = node.outputs[0]
    if not is_float(out.dtype):
        return None
    if name == "reciprocal":
        x = one_plus_exp(ins[0])
        return None if x is None else [elemwise("sigmoid", negated(x))]
    if name == "true_div":
        x = one_plus_exp(ins[1])
        if x is None or not can_stand_for(out, ins[1]):
            return None
        if is_one(ins[0], x):
            return [elemwise("sigmoid", negated(x))]
        q = producer(ins[0])
        if q and q[0] == "exp" and q[1][0] is x:
            return [elemwise("sigmoid", x)]
        return None
    if name == "sub":
        q = producer(ins[1])
        if q and q[0] == "sigmoid" and is_one(ins[0], ins[1]) and can_stand_for(out, q[1][0]):
            return [elemwise("sigmoid", negated(q[1][0]))]
        return None
    if name == "log":
        x = one_plus_exp(ins[0])
    elif name == "log1p":
        q = producer(ins[0])
        x = q[1][0] if q and q[0] == "exp" else None
    else:
        return None
    if x is None or not can_stand_for(out, x):
        return None
    return [elemwise("softplus", x)]


@register("logistic", "fast_run")
def logistic(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
