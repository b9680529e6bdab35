"""``fncache.graph.traversal``, PyTensor's module path of the graph walks
(``from pytensor.graph.traversal import ancestors, explicit_graph_inputs``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .basic import Variable, ancestors, explicit_graph_inputs, graph_inputs, toposort

__all__ = [
    "ancestors",
    "explicit_graph_inputs",
    "graph_inputs",
    "orphans_between",
    "toposort",
    "vars_between",
]


def vars_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Variable]:
    """The variables ``outs`` depend on, ``outs`` and ``ins`` included, not walking past
    ``ins`` (PyTensor's ``vars_between``)."""
    return ancestors(outs, blockers=ins)


def orphans_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> Iterator[Variable]:
    """The roots ``outs`` depend on that are not in ``ins`` (the other inputs, shared variables
    and constants they read), as PyTensor's ``orphans_between``."""
    ins = list(ins)
    given = {id(i) for i in ins}
    return (v for v in vars_between(ins, outs) if v.owner is None and id(v) not in given)
