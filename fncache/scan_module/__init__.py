"""``fncache.scan_module``, Theano's package of the loop, so that ``theano.scan_module.until(...)``
(the stop condition of Theano's scan tutorial), ``theano.scan_module.scan``,
``theano.scan_module.scan_utils.until`` and ``theano.scan_module.scan_op.Scan`` port with
``import fncache as theano``: the same objects as ``fncache.scan``'s (PyTensor's paths)."""

from __future__ import annotations

from ..tensor.replace import clone
from ..tensor.scan import Scan, scan, until
from ..tensor.scan_checkpoints import scan_checkpoints
from ..tensor.scan_views import foldl, foldr, map, reduce
from . import scan_op, scan_utils, scan_views

__all__ = [
    "Scan",
    "clone",
    "foldl",
    "foldr",
    "map",
    "reduce",
    "scan",
    "scan_checkpoints",
    "scan_op",
    "scan_utils",
    "scan_views",
    "until",
]
