"""The typed graph: types, variables, apply nodes, ops and function graphs."""

from .basic import Apply, Constant, Op, Variable, ancestors, clone, clone_graph, equal_computations
from .basic import explicit_graph_inputs, graph_inputs, toposort
from .fgraph import FunctionGraph
from .types import TensorType

__all__ = [
    "Apply",
    "Constant",
    "Op",
    "Variable",
    "ancestors",
    "clone",
    "clone_graph",
    "equal_computations",
    "explicit_graph_inputs",
    "graph_inputs",
    "toposort",
    "FunctionGraph",
    "TensorType",
]
