"""`logistic`: the logistic function and its logarithm, spelled out with ``exp`` or ``tanh``,
recognised as `sigmoid` and `softplus`, whose C helpers stay finite where the spelled-out forms
overflow (``1 + exp(800)`` is inf, so ``log(1 + exp(800))`` is inf and ``1 - 1/(1 + exp(-800))``
is 0) or cancel (``0.5 * tanh(-20) + 0.5`` is 0, not 4.2e-18):

* ``1 / (1 + exp(x))`` and ``reciprocal(1 + exp(x))`` -> ``sigmoid(-x)`` (so
  ``1 / (1 + exp(-x))`` -> ``sigmoid(x)``; canonicalize makes ``v**-1`` ``reciprocal(v)``),
* ``exp(x) / (1 + exp(x))`` -> ``sigmoid(x)``,
* ``1 - sigmoid(x)`` and ``1 + -sigmoid(x)`` -> ``sigmoid(-x)``,
* ``0.5 + 0.5 * tanh(z)``, ``0.5 * (1 + tanh(z))`` and ``(1 + tanh(z)) / 2`` (each product
  either way round, ``tanh(z) / 2`` for ``0.5 * tanh(z)``) -> ``sigmoid(2 z)``, and with ``-``
  for the ``+`` -> ``sigmoid(-2 z)``; ``2 z`` is ``x`` where ``z`` is ``0.5 * x`` or ``x / 2``,
  else ``z + z`` (exact),
* ``log(1 + exp(x))`` and ``log1p(exp(x))`` -> ``softplus(x)``,
* ``log(sigmoid(x))`` -> ``-softplus(-x)`` and ``log1p(-sigmoid(x))`` -> ``-softplus(x)`` (so
  ``log(1 - sigmoid(x))`` -> ``-softplus(x)``, and the logarithm of every spelling above).

The constants are exact (a ``1`` close to 1, such as 1 + 1e-9, stays what it says), in either
operand of a ``+`` or ``*``, and may not broadcast the result to a larger shape than ``x``'s.
``x`` is a float of the result's dtype: ``exp`` of an integer is a float of another dtype, and a
float32 ``x`` next to a float64 ``1`` gives a float64 result that ``sigmoid(x)`` would not.
`sigmoid_products` then makes the gradients' quotients of these terms products of sigmoids."""

from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_float
from ..tensor.elemwise import elemwise
from .canonicalize import can_stand_for, cannot_grow, const_value, producer, single_step
from .local import local_pass
from .registry import register

__all__ = ["is_one", "one_plus_exp", "negated", "halving_of", "logistic"]


def is_const(c: Variable, value: float, x: Variable) -> bool:
    """``c`` is a constant whose elements all equal ``value`` and that does not broadcast ``x``
    to a larger shape."""
    v = const_value(c)
    return v is not None and not isinstance(v, bool) and v == value and cannot_grow(x, c)


def is_one(c: Variable, x: Variable) -> bool:
    """``c`` is a constant of ones that does not broadcast ``x`` to a larger shape."""
    return is_const(c, 1, x)


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


def _operand(v: Variable, op: str, value: float, where: tuple[int, ...] = (0, 1)) -> Variable | None:
    """``u`` where ``v`` is ``op(c, u)`` (or ``op(u, c)``, by ``where``: the places ``c`` may
    take) for a constant ``c`` equal to ``value`` and ``u`` able to stand for ``v``."""
    p = producer(v)
    if p is None or p[0] != op or len(p[1]) != 2:
        return None
    for k in where:
        u = p[1][1 - k]
        if is_const(p[1][k], value, u) and can_stand_for(v, u):
            return u
    return None


def halving_of(v: Variable) -> Variable | None:
    """``u`` where ``v`` is ``0.5 * u``, ``u * 0.5`` or ``u / 2``."""
    u = _operand(v, "mul", 0.5)
    return u if u is not None else _operand(v, "true_div", 2, where=(1,))


def _plus_minus(v: Variable, value: float) -> tuple[bool, Variable] | None:
    """``(False, u)`` where ``v`` is ``value + u`` or ``u + value``, ``(True, u)`` where it is
    ``value - u``."""
    u = _operand(v, "add", value)
    if u is not None:
        return False, u
    u = _operand(v, "sub", value, where=(0,))
    return None if u is None else (True, u)


def _doubled(z: Variable) -> Variable:
    """``2 z`` exactly: ``x`` where ``z`` is half of ``x``, else ``z + z``."""
    x = halving_of(z)
    return x if x is not None else elemwise("add", z, z)


def _tanh_logistic(v: Variable) -> Variable | None:
    """The argument of the sigmoid ``v`` is, spelled with ``tanh``: ``0.5 * (1 ± tanh(z))``
    or ``0.5 ± 0.5 * tanh(z)`` (`halving_of` spells each half) is ``sigmoid(±2 z)``."""
    u = halving_of(v)
    pm = _plus_minus(u, 1) if u is not None else _plus_minus(v, 0.5)
    if pm is None:
        return None
    minus, t = pm
    if u is None:
        t = halving_of(t)
    q = producer(t) if t is not None else None
    if not q or q[0] != "tanh" or not can_stand_for(t, q[1][0]):
        return None
    x = _doubled(q[1][0])
    return negated(x) if minus else x


def _negated_sigmoid(v: Variable) -> Variable | None:
    """``x`` where ``v`` is ``-sigmoid(x)``."""
    p = producer(v)
    q = producer(p[1][0]) if p and p[0] == "neg" else None
    return q[1][0] if q and q[0] == "sigmoid" else None


def _rewrite(node: Apply) -> list[Variable] | None:
    s = single_step(node)
    if s is None:
        return None
    name, ins = s
    out = node.outputs[0]
    if not is_float(out.dtype):
        return None
    if name in ("add", "sub", "mul", "true_div"):
        x = _tanh_logistic(out)
        if x is not None:
            return [elemwise("sigmoid", x)]
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
    if name == "add":
        for one, v in (ins, ins[::-1]):
            x = _negated_sigmoid(v)
            if x is not None and is_one(one, v) and can_stand_for(out, x):
                return [elemwise("sigmoid", negated(x))]
        return None
    p = producer(ins[0])
    if name == "log" and p and p[0] == "sigmoid" and can_stand_for(out, p[1][0]):
        return [elemwise("neg", elemwise("softplus", negated(p[1][0])))]
    if name == "log1p":
        x = _negated_sigmoid(ins[0])
        if x is not None and can_stand_for(out, x):
            return [elemwise("neg", elemwise("softplus", x))]
    if name == "log":
        x = one_plus_exp(ins[0])
    elif name == "log1p":
        x = p[1][0] if p and p[0] == "exp" else None
    else:
        return None
    if x is None or not can_stand_for(out, x):
        return None
    return [elemwise("softplus", x)]


@register("logistic", "fast_run")
def logistic(fgraph: FunctionGraph) -> bool:
    return local_pass(fgraph, _rewrite)
