"""``fncache.printing``, where Theano and PyTensor users look for it: ``from fncache.printing
import pp, pprint, debugprint, Print`` (``fncache/runtime/printing.py``; ``Print``, the op
that prints a value each time a function computes it: ``fncache/tensor/pyop.py``;
``pydotprint``, the graph as Graphviz DOT text: ``fncache/runtime/graphviz.py``).

``debugprint`` here behaves as Theano's, so a ported script's ``debugprint(f)`` shows the graph:
with no ``file`` it prints to standard output, ``file="str"`` only returns the text, and any
other ``file`` is written to. It returns the text in every case (Theano returned the file,
which no caller reads). ``fc.debugprint`` stays the quiet form that only returns the text, so
a library can log it without writing to standard output."""

from __future__ import annotations

from .graph.debugprint import print_graph
from .runtime.graphviz import pydotprint
from .runtime.printing import pp
from .tensor.pyop import Print

__all__ = ["Print", "debugprint", "dprint", "pp", "pprint", "pydotprint"]

#: Theano's other name for ``pp``.
pprint = pp


#: The text of ``obj``'s graph (a Function: its optimized graph), one node a line, printed as
#: Theano's ``debugprint`` prints it: to standard output when ``file`` is None, nowhere when
#: ``file == "str"``, else to ``file``; ``depth``: only the nodes that many nodes up from an
#: output (-1: all). Returns the text.
debugprint = print_graph

#: PyTensor's short name for ``debugprint`` (also ``fncache.dprint``, as ``pytensor.dprint``).
dprint = debugprint
