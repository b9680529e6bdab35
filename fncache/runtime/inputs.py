"""Input checking and conversion (errors that name the input, what was expected and the fix). The C runner checks the exact-type case
itself and calls :func:`convert_input` only for everything else."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.types import TensorType
from ..graph.values import plain_scalar

__all__ = ["convert_input"]


def convert_input(
    fname: str,
    index: int,
    name: str | None,
    t: TensorType,
    value: Any,
    allow_downcast: bool | None,
    strict: bool = False,
) -> np.ndarray:
    """``value`` as an aligned, native-order ndarray of exactly ``t``, or a TypeError that
    says which input, what was expected, what was given and how to fix it. ``strict``
    (``fc.In(..., strict=True)``): only an ndarray of ``t``'s dtype is taken."""
    if t.ndim == 0 and not strict:  # before the error's wording is made: a plain scalar needs none
        fast = plain_scalar(t, value, allow_downcast)
        if fast is not None:
            return fast
    where = f"input {index}" + (f" ('{name}')" if name else "") + f" of function {fname!r}"
    return t.convert(value, allow_downcast, where, strict)
