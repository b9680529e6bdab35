"""The typed graph: types, variables, apply nodes, ops and function graphs."""

from .basic import Apply, Constant, Op, Variable, ancestors, clone_graph, graph_inputs, toposort
from .fgraph import FunctionGraph
from .types import TensorType

__all__ = [
    "Apply",
    "Constant",
    "Op",
    "Variable",
    "ancestors",
    "clone_graph",
    "graph_inputs",
    "toposort",
    "FunctionGraph",
    "TensorType",
]
