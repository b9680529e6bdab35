"""``fc.printing``: ``debugprint`` (one line per node, :mod:`fncache.graph.debugprint`) and ``pp``, an
expression of a graph in infix notation, e.g. ``((x * 2.0) + exp(y))``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Constant, Variable, toposort
from ..tensor.elemwise import Elemwise
from ..graph.debugprint import debugprint

__all__ = ["debugprint", "pp"]

_INFIX = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "true_div": "/",
    "floor_div": "//",
    "mod": "%",
    "pow": "**",
    "eq": "==",
    "neq": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and_": "&",
    "or_": "|",
    "xor": "^",
    "lshift": "<<",
    "rshift": ">>",
}
_PREFIX = {"neg": "-", "invert": "~"}


def _call(name: str, args: list[str]) -> str:
    if name in _INFIX and len(args) == 2:
        return f"({args[0]} {_INFIX[name]} {args[1]})"
    if name in _PREFIX and len(args) == 1:
        return f"{_PREFIX[name]}{args[0]}"
    return f"{name}({', '.join(args)})"


def _root(v: Variable) -> str:
    if isinstance(v, Constant):
        data = np.asarray(v.data)
        return repr(data.item()) if data.ndim == 0 else f"constant{list(data.shape)}"
    return v.name or f"<{v.type.dtype}{list(v.type.shape)}>"


def _node_texts(node: Any, args: list[str]) -> list[str]:
    """The text of each output of ``node`` given its inputs' texts: an elementwise body is
    written out step by step (a fused loop reads as the expression it computes)."""
    if isinstance(node.op, Elemwise):
        comp = node.op.composite
        steps: list[str] = []
        for name, refs, _ in comp.steps:
            parts = [args[k] if kind == "in" else steps[k] for kind, k in refs]
            op = name.split(":", 1)
            steps.append(f"cast({parts[0]}, {op[1]})" if op[0] == "cast" else _call(name, parts))
        return [steps[j] for j in comp.outputs]
    text = _call(str(node.op), args)
    if len(node.outputs) == 1:
        return [text]
    return [f"{text}[{k}]" for k in range(len(node.outputs))]


def pp(obj: Any) -> str:
    """The expression computing ``obj`` (a variable, a list of them, or a compiled Function:
    its optimized outputs), in infix notation; inputs by name, constants by value. Shared parts
    of the graph are written out each time they are used."""
    if hasattr(obj, "optimized_graph"):
        outs = list(obj.optimized_graph.outputs)
    else:
        outs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if not all(isinstance(v, Variable) for v in outs):
        raise TypeError(f"pp: expected a variable, a list of variables or a Function, got {obj!r}")
    text: dict[int, str] = {}
    for node in toposort(outs):  # iterative: a long chain does not recurse
        args = [text[id(v)] if id(v) in text else _root(v) for v in node.inputs]
        for o, t in zip(node.outputs, _node_texts(node, args)):
            text[id(o)] = t
    lines = [text[id(v)] if id(v) in text else _root(v) for v in outs]
    return "\n".join(lines)
