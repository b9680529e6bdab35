"""``theano.scan_module.scan_utils``: ``until`` (a step's stop condition) and ``clone``."""

from __future__ import annotations

from ..tensor.replace import clone
from ..tensor.scan import until

__all__ = ["clone", "until"]
