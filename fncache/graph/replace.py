"""``fncache.graph.replace``, PyTensor's module path of the graph substitutions
(``from pytensor.graph.replace import clone_replace, graph_replace, vectorize_graph``).

They are written in the front end (``fncache/tensor/replace.py``, ``fncache/tensor/vectorize.py``):
a replacement is checked and built as a tensor expression. This module only gives them
PyTensor's places: it alone in the graph package reads the front end, loaded by its import
or by the first use of ``fncache.graph.clone_replace``, ``graph_replace`` or
``vectorize_graph`` (PyTensor's ``pytensor.graph`` names), so ``import fncache.graph`` loads
none of the front end."""

from __future__ import annotations

from ..tensor.replace import clone_replace, graph_replace
from ..tensor.vectorize import vectorize_graph

__all__ = ["clone_replace", "graph_replace", "vectorize_graph"]
