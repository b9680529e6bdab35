"""``fncache.compile.monitormode``: Theano's place for ``fc.MonitorMode`` (``fncache/mode.py``)
and for ``detect_nan``, the NaN finder Theano's and PyTensor's debugging FAQ writes out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..mode import MonitorMode
from ..printing import debugprint

__all__ = ["MonitorMode", "detect_nan"]


def detect_nan(i: int, node: Any, fn: Any) -> None:
    """A ``post_func`` for ``MonitorMode``: when an output of ``node`` holds a NaN, print
    ``*** NaN detected ***``, the node's graph, its inputs and its outputs (as the FAQ's)."""
    for output in fn.outputs:
        if isinstance(output[0], np.ndarray) and np.isnan(output[0]).any():
            print("*** NaN detected ***")
            debugprint(node)
            print(f"Inputs : {[input[0] for input in fn.inputs]}")
            print(f"Outputs: {[output[0] for output in fn.outputs]}")
            break
