"""``fncache.sparse.basic``, PyTensor's module path of the sparse ops (``sparse.basic.neg``):
those of ``fncache/tensor/sparse/basic.py``."""

from __future__ import annotations

from ..tensor.sparse.basic import *  # noqa: F401,F403
from ..tensor.sparse.basic import __all__ as __all__  # noqa: PLE0605
