"""``fncache.printing``, where Theano and PyTensor users look for it: ``from fncache.printing
import pp, debugprint`` (``fncache/runtime/printing.py``)."""

from __future__ import annotations

from .runtime.printing import debugprint, pp

__all__ = ["debugprint", "pp"]
