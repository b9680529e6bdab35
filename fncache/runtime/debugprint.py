"""``fc.debugprint``: a readable text of a graph or of a compiled function's optimized graph."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Apply, Constant, Variable
from ..graph.fgraph import FunctionGraph

__all__ = ["debugprint", "graph_of"]


def _lines(fg: FunctionGraph) -> list[str]:
    names: dict[int, str] = {}
    for k, v in enumerate(fg.inputs):
        names[id(v)] = v.name or f"in{k}"
    out = []
    for n, node in enumerate(fg.toposort()):
        args = []
        for v in node.inputs:
            if id(v) not in names:
                names[id(v)] = repr(v) if isinstance(v, Constant) else (v.name or f"?{id(v)}")
            args.append(names[id(v)])
        outs = []
        for j, o in enumerate(node.outputs):
            names[id(o)] = o.name or f"t{n}" + (f".{j}" if len(node.outputs) > 1 else "")
            outs.append(f"{names[id(o)]}: {o.type.dtype}{list(o.type.shape)}")
        out.append(f"{', '.join(outs)} = {node.op}({', '.join(args)})")
    out.append("return " + ", ".join(names.get(id(v), repr(v)) for v in fg.outputs))
    return out


def graph_of(obj: Any, what: str) -> tuple[FunctionGraph, str]:
    """The graph to show of ``obj`` (a Function: its optimized graph; a FunctionGraph; a
    variable or list of them, or an apply node's outputs: their graph) and a heading naming it;
    ``what`` names the caller in the error for anything else."""
    if hasattr(obj, "optimized_graph"):
        return obj.optimized_graph, f"Function {obj.name!r} (key {obj.cache_key[:16]}), optimized graph:"
    if isinstance(obj, FunctionGraph):
        return obj, "Graph:"
    outs = list(obj.outputs if isinstance(obj, Apply) else obj if isinstance(obj, (list, tuple)) else [obj])
    if not all(isinstance(v, Variable) for v in outs):
        raise TypeError(f"{what}: expected a Function, a graph, variables or a node, got {obj!r}")
    from ..graph.basic import ancestors

    roots = [v for v in ancestors(outs) if v.owner is None and not isinstance(v, Constant)]
    return FunctionGraph(roots, outs, clone=False), "Graph:"


def debugprint(obj: Any, file: Any = None) -> str:
    """Text of ``obj`` (a Function: its optimized graph; a variable or list: its graph; an
    apply node, as Theano's ``MonitorMode`` examples print one: its outputs' graph). Printed to
    ``file`` when given; always returned."""
    fg, head = graph_of(obj, "debugprint")
    text = "\n".join([head] + ["  " + ln for ln in _lines(fg)])
    if file is not None:
        print(text, file=file)
    return text
