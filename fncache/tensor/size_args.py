"""Size and count arguments (a pad width, a number of points, a declared size, a count of
elements) given as a Python int or, as PyTensor takes them, a symbolic int scalar.

``size_arg`` gives the Python int where the value is known when the graph is built (an int, a
constant, a static size such as ``x.shape[0]``), so the result keeps static sizes; otherwise the
int64 scalar, checked when the function runs: a value below the minimum raises numpy's
``ValueError`` naming the function, the argument and the value given.
"""

from __future__ import annotations

from typing import Any

from ..graph.args import as_int, int_arg, int_kind
from ..graph.basic import Variable
from ..graph.types import is_int
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .pyop import check_value
from .shape_ops import static_int

__all__ = ["size_arg"]


def size_arg(value: Any, op: str, what: str, *, minimum: int | None = 0) -> int | Variable:
    """``value``, the argument ``what`` of ``op``: a Python int where known when the graph is
    built (ValueError there below ``minimum``), else an int64 scalar that raises ValueError when
    the function runs with a value below ``minimum`` (None: any int). A symbolic scalar that is
    not an int (a float), or a tensor that is not 0-d, is a TypeError naming ``op`` and ``what``."""
    if not isinstance(value, Variable) or as_int(value) is not None:
        return int_arg(value, op, what, minimum=minimum)
    v = as_tensor_variable(value)
    if v.ndim != 0 or not is_int(v.dtype):
        raise TypeError(
            f"{op}: {what} must be {int_kind(minimum)} or a symbolic int scalar, got {value!r} "
            f"({v.type}); give an int scalar (ft.cast(value, 'int64') makes one of a float)"
        )
    known = static_int(v)
    if known is not None:
        return int_arg(known, op, what, minimum=minimum)
    v = cast(v, "int64") if v.dtype != "int64" else v
    if minimum is None:
        return v
    msg = f"{op}: {what} must be {int_kind(minimum)}, got {{}}"
    return check_value(v, elemwise("ge", v, minimum), msg, v)
