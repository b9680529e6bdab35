"""The typed graph: types, variables, apply nodes, ops and function graphs."""

import importlib
from typing import Any

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

#: PyTensor's ``pytensor.graph`` names of the substitutions the front end writes
#: (``fncache.graph.replace``), loaded on first use: importing the graph package loads none of it
_REPLACE = ("clone_replace", "graph_replace", "vectorize_graph")


def __getattr__(name: str) -> Any:
    if name in _REPLACE or name == "replace":
        # not `from . import replace`: that asks this module for the attribute first, which
        # comes back here before the submodule is loaded
        replace = importlib.import_module(f"{__name__}.replace")
        return replace if name == "replace" else getattr(replace, name)
    raise AttributeError(f"module 'fncache.graph' has no attribute {name!r}")
