"""``theano.scan_module.scan_op``: the loop's op, ``Scan`` (``isinstance(node.op, Scan)``)."""

from __future__ import annotations

from ..tensor.scan import Scan

__all__ = ["Scan"]
