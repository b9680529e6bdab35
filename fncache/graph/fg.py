"""``fncache.graph.fg``, PyTensor's module path of ``FunctionGraph``
(``from pytensor.graph.fg import FunctionGraph``; fncache's own is ``fncache.graph.fgraph``)."""

from __future__ import annotations

from .fgraph import FunctionGraph

__all__ = ["FunctionGraph"]
