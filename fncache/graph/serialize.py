"""Flat graph encoding: for cache keys (a canonical text hash) and for pickles (no recursion).

A graph is stored as a list of root variables and a list of nodes in dependency order whose
inputs refer to earlier variables by index, so a 10,000-node chain pickles and hashes without
deep recursion. Ops holding user callables are encoded with cloudpickle.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any, Sequence

from .basic import Apply, Constant, Variable, toposort
from .fgraph import FunctionGraph

__all__ = ["graph_signature", "encode_graph", "decode_graph"]


def _index_graph(
    inputs: Sequence[Variable], outputs: Sequence[Variable]
) -> tuple[list[Variable], list[Apply], dict[int, int]]:
    """Roots (the inputs first, then constants and other roots in order of first use) get
    indices 0..R-1, then each node's outputs in dependency order."""
    nodes = toposort(outputs, blockers=inputs)
    roots: list[Variable] = list(inputs)
    index: dict[int, int] = {id(v): i for i, v in enumerate(roots)}
    produced = {id(o) for node in nodes for o in node.outputs}
    for v in [v for node in nodes for v in node.inputs] + list(outputs):
        if id(v) not in index and id(v) not in produced:
            index[id(v)] = len(roots)
            roots.append(v)
    for node in nodes:
        for o in node.outputs:
            index[id(o)] = len(index)
    return roots, nodes, index


def graph_signature(fgraph: FunctionGraph) -> str:
    """sha256 of a canonical text of the graph: equal graphs (up to variable identity and
    names) give equal signatures, so they share cache entries. A root holding its own value (a
    shared variable) is told from an explicit input of the same type."""
    roots, nodes, index = _index_graph(fgraph.inputs, fgraph.outputs)
    h = hashlib.sha256()
    n_in = len(fgraph.inputs)
    # Variables are numbered by first appearance so the text does not depend on object ids.
    for k, v in enumerate(roots):
        if isinstance(v, Constant):
            h.update(f"C{k}:{v.type!r}:{v.signature()}\n".encode())
        else:
            kind = "S" if v.holds_value else "I" if k < n_in else "R"
            h.update(f"{kind}{k}:{v.type!r}\n".encode())
    for node in nodes:
        ins = ",".join(str(index[id(v)]) for v in node.inputs)
        h.update(f"N:{node.op.signature()}({ins})\n".encode())
    h.update(("O:" + ",".join(str(index[id(v)]) for v in fgraph.outputs)).encode())
    return h.hexdigest()


def encode_graph(fgraph: FunctionGraph, shared: Sequence[Variable] = ()) -> dict[str, Any]:
    """A picklable flat description. Shared variables are referenced by position in
    ``shared`` (their values travel separately)."""
    roots, nodes, index = _index_graph(fgraph.inputs, fgraph.outputs)
    shared_pos = {id(s): i for i, s in enumerate(shared)}
    enc_roots = []
    for v in roots:
        if isinstance(v, Constant):
            enc_roots.append(("const", v.type, v.data, v.name))
        elif id(v) in shared_pos:
            enc_roots.append(("shared", shared_pos[id(v)]))
        else:
            enc_roots.append(("input", v.type, v.name))
    # Node provenance (the creation trace, the original node's position and the user's function
    # that made it) is kept so that run-time errors of a loaded graph still name the user's
    # source line and function.
    enc_nodes = [
        (
            node.op,
            [index[id(v)] for v in node.inputs],
            [o.name for o in node.outputs],
            {k: node.tag[k] for k in ("trace", "origin", "made_by") if k in node.tag},
        )
        for node in nodes
    ]
    return {
        "version": 1,
        "roots": enc_roots,
        "n_inputs": len(fgraph.inputs),
        "nodes": enc_nodes,
        "outputs": [index[id(v)] for v in fgraph.outputs],
    }


def decode_graph(enc: dict[str, Any], shared: Sequence[Variable] = ()) -> FunctionGraph:
    vars_: list[Variable] = []
    for r in enc["roots"]:
        if r[0] == "const":
            vars_.append(r[1].make_constant(r[2], name=r[3]))
        elif r[0] == "shared":
            vars_.append(shared[r[1]])
        else:
            vars_.append(r[1].make_variable(r[2]))
    for op, ins, names, *tag in enc["nodes"]:
        node = op.make_node(*[vars_[i] for i in ins])
        node.tag.update(tag[0] if tag else {})
        for o, n in zip(node.outputs, names):
            o.name = n
        vars_.extend(node.outputs)
    return FunctionGraph(vars_[: enc["n_inputs"]], [vars_[i] for i in enc["outputs"]], clone=False)


def dumps(obj: Any) -> bytes:
    """Pickle, falling back to cloudpickle for user callables (lambdas, closures)."""
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        import cloudpickle

        return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
