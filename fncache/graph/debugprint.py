"""``fc.debugprint``: a readable text of a graph or of a compiled function's optimized graph
(which it reads as ``optimized_graph``: the printing needs nothing above the graph layer)."""

from __future__ import annotations

import sys
from typing import Any

from .args import int_arg
from .basic import Apply, Constant, Variable, ancestors
from .fgraph import FunctionGraph

__all__ = ["debugprint", "graph_of", "print_graph"]


def _near_outputs(fg: FunctionGraph, depth: int) -> set[int]:
    """The ids of the nodes at most ``depth`` nodes up from an output (its own node is 1)."""
    near: set[int] = set()
    level = [v.owner for v in fg.outputs if v.owner is not None]
    for _ in range(depth):
        level = [n for n in level if id(n) not in near]
        near.update(id(n) for n in level)
        level = [v.owner for n in level for v in n.inputs if v.owner is not None]
    return near


def _above_names(fg: FunctionGraph) -> set[int]:
    """The ids of the nodes reached from the outputs without going above a named variable
    (``stop_on_name``): an output's own node is always shown."""
    seen: set[int] = set()
    stack = [v.owner for v in fg.outputs if v.owner is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack += [v.owner for v in node.inputs if v.owner is not None and not v.name]
    return seen


#: PyTensor's ``debugprint`` keywords that change nothing here: every line shows its outputs'
#: types and names them by name or place, and values are not printed
_IGNORED = frozenset(
    {
        "ids",
        "id_type",
        "done",
        "used_ids",
        "print_type",
        "print_storage",
        "print_op_info",
        "print_fgraph_inputs",
        "print_shape",
        "print_memory_map",
    }
)


def _maps(node: Apply, destroy: bool, view: bool) -> str:
    """`` d={...}`` / `` v={...}``: the node's destroy and view maps, where asked and not empty."""
    text = ""
    for asked, label, attr in ((destroy, "d", "destroy_map"), (view, "v", "view_map")):
        found = getattr(node.op, attr, None) if asked else None
        if found:
            text += f" {label}={dict(found)}"
    return text


def _lines(
    fg: FunctionGraph,
    depth: int = -1,
    stop_on_name: bool = False,
    destroy_map: bool = False,
    view_map: bool = False,
) -> list[str]:
    names: dict[int, str] = {}
    for k, v in enumerate(fg.inputs):
        names[id(v)] = v.name or f"in{k}"
    shown = _near_outputs(fg, depth) if depth >= 0 else None
    if stop_on_name:
        above = _above_names(fg)
        shown = above if shown is None else shown & above
    out = []
    for n, node in enumerate(fg.toposort()):
        if shown is not None and id(node) not in shown:
            continue
        args = []
        for v in node.inputs:
            if id(v) not in names:
                # a constant, or the output of a node left out by ``depth``: its own repr
                shown_as_is = isinstance(v, Constant) or v.owner is not None
                names[id(v)] = repr(v) if shown_as_is else (v.name or f"?{id(v)}")
            args.append(names[id(v)])
        outs = []
        for j, o in enumerate(node.outputs):
            names[id(o)] = o.name or f"t{n}" + (f".{j}" if len(node.outputs) > 1 else "")
            outs.append(f"{names[id(o)]}: {o.type.dtype}{list(o.type.shape)}")
        out.append(f"{', '.join(outs)} = {node.op}({', '.join(args)}){_maps(node, destroy_map, view_map)}")
    out.append("return " + ", ".join(names.get(id(v), repr(v)) for v in fg.outputs))
    return out


def _inner_lines(fg: FunctionGraph, indent: str) -> list[str]:
    """The graphs of the ops holding one (a loop's step, an ``OpFromGraph``), each once, after
    the graph that applies them (PyTensor's "Inner graphs:"), theirs nested under them."""
    out: list[str] = []
    seen: set[int] = set()
    for node in fg.toposort():
        inner = getattr(node.op, "inner", None)
        if not isinstance(inner, FunctionGraph) or id(inner) in seen:
            continue
        seen.add(id(inner))
        ins = ", ".join(v.name or f"in{k}" for k, v in enumerate(inner.inputs))
        out.append(f"{indent}Inner graph of {node.op} ({ins}):")
        out += [indent + "  " + ln for ln in _lines(inner)] + _inner_lines(inner, indent + "  ")
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
    roots = [v for v in ancestors(outs) if v.owner is None and not isinstance(v, Constant)]
    return FunctionGraph(roots, outs, clone=False), "Graph:"


def debugprint(
    obj: Any,
    file: Any = None,
    depth: int = -1,
    stop_on_name: bool = False,
    print_destroy_map: bool = False,
    print_view_map: bool = False,
    **options: Any,
) -> str:
    """Text of ``obj`` (a Function: its optimized graph; a variable or list: its graph; an
    apply node, as Theano's ``MonitorMode`` examples print one: its outputs' graph). Printed to
    ``file`` when given (PyTensor's ``file="str"``: not printed); always returned. ``depth`` (Theano's and PyTensor's): only the nodes
    at most that many nodes up from an output (-1: all); ``stop_on_name``: not the nodes above
    a named variable; ``print_destroy_map`` / ``print_view_map``: each node's maps (``d={0:
    [0]}``). PyTensor's other keywords (``id_type``, ``print_type``, ``print_storage``, ...)
    are taken and change nothing: each line already shows its outputs' types. The graphs of
    ops holding one (a ``scan``'s step, an ``OpFromGraph``) follow, each once."""
    unknown = sorted(set(options) - _IGNORED)
    if unknown:
        raise TypeError(
            f"debugprint: unknown keyword {unknown[0]!r}; it takes file, depth, stop_on_name, "
            f"print_destroy_map, print_view_map and PyTensor's {', '.join(sorted(_IGNORED))}"
        )
    depth = int_arg(depth, "debugprint", "depth", fix="-1 for the whole graph")
    fg, head = graph_of(obj, "debugprint")
    lines = _lines(fg, depth, bool(stop_on_name), bool(print_destroy_map), bool(print_view_map))
    text = "\n".join([head] + ["  " + ln for ln in lines] + _inner_lines(fg, "  "))
    if file is not None and not (isinstance(file, str) and file == "str"):  # PyTensor's "str": return it only
        print(text, file=file)
    return text


def print_graph(
    obj: Any,
    depth: int = -1,
    print_type: bool = False,
    print_shape: Any = False,
    file: Any = None,
    **options: Any,
) -> str:
    """``obj``'s text printed as Theano's and PyTensor's ``debugprint`` prints it: to standard
    output when ``file`` is None, nowhere when ``file == "str"``, else to ``file``. Returns the
    text. The arguments are in PyTensor's order; Theano's fourth, ``file``, is read as it
    (a writable object given as ``print_shape``). ``print_type``, ``print_shape`` and
    ``options``: :func:`debugprint`'s."""
    if hasattr(print_shape, "write") and file is None:  # Theano's debugprint(obj, depth, print_type, file)
        file, print_shape = print_shape, False
    options.update(print_type=print_type, print_shape=print_shape)
    if file == "str":
        return debugprint(obj, depth=depth, **options)
    return debugprint(obj, file=sys.stdout if file is None else file, depth=depth, **options)
