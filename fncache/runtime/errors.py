"""Run-time error reporting: with ``exception_verbosity='high'`` an error names the graph node
and the user source line that created it (Theano's most useful debugging aid)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Apply, format_trace

__all__ = ["annotate_runtime_error", "describe_node"]


def _desc(v: Any) -> str:
    a = np.asarray(v) if not isinstance(v, np.ndarray) else v
    return f"{a.dtype}{list(a.shape)}"


def describe_node(node: Apply, inputs: Sequence[Any] | None = None) -> str:
    lines = [f"Apply node that caused the error: {node}"]
    if inputs is not None:
        lines.append("Inputs (dtype[shape]): " + ", ".join(_desc(v) for v in inputs))
    trace = format_trace(node.tag.get("trace"))
    lines.append(
        "Created at (user code):\n  " + trace
        if trace
        else "Created at: unknown (the node was made by a rewrite)"
    )
    # equal nodes the function computes once (`merge`): each line that wrote one
    lines += [
        "Also written at (the same expression, computed once):\n  " + format_trace(t)
        for t in node.tag.get("also", ())
    ]
    return "\n".join(lines)


#: How numpy words a size no array can have (a count past int64, a negative one, more bytes
#: than memory): the message names neither the op that asked for it nor the fix.
_NUMPY_SIZE_ERRORS = (
    "array is too big",
    "Unable to allocate",
    "Maximum allowed dimension exceeded",
    "Maximum allowed size exceeded",
    "negative dimensions are not allowed",
    "iterator is too large",
)


def _named_error(e: BaseException, node: Apply) -> BaseException:
    """numpy's error for a size no array can have, as the same kind of error with numpy's words
    after ``node``'s op and before the fix; an index out of range of a node made by a user's
    function (``made_by``: ``take``'s indexing) as an ``IndexError`` naming that function and
    its fix, and a failed size check so made (an update's) as a ``ValueError`` naming its
    place; any other error as it is."""
    made_by = node.tag.get("made_by")
    if isinstance(e, IndexError) and made_by is not None:
        name, fix = made_by
        return IndexError(f"{name} ({node.op}): {str(e).removeprefix(f'{node.op}: ')}; {fix}")
    if isinstance(e, ValueError) and made_by is not None and str(e).startswith("specify_shape:"):
        # a size checked where a value of declared sizes is expected (an update, a replacement)
        name, fix = made_by
        return ValueError(f"{name}: {e}; {fix}")
    if not isinstance(e, (ValueError, MemoryError)) or not str(e).startswith(_NUMPY_SIZE_ERRORS):
        return e
    kind = MemoryError if isinstance(e, MemoryError) else ValueError
    name, fix = made_by or (None, "check the shapes, counts and sizes passed in")
    return kind(
        f"{f'{name} ({node.op})' if name else node.op}: {e} (the sizes this op was given at run "
        f"time make an array that cannot be allocated; {fix})"
    )


_HINT = (
    "HINT: set fc.config.exception_verbosity='high' to see the graph node and the source line "
    "that created it."
)


def annotate_runtime_error(
    e: BaseException, node: Apply, inputs: Sequence[Any] | None = None
) -> BaseException:
    """The exception to raise for ``e`` raised while running ``node``."""
    e = _named_error(e, node)
    if config.exception_verbosity != "high":
        # an error of an inner function (a loop's step) passes through its outer node too
        if hasattr(e, "add_note") and _HINT not in getattr(e, "__notes__", ()):
            e.add_note(_HINT)
        return e
    extra = describe_node(node, inputs)
    try:
        new = type(e)(f"{e}\n{extra}")
        new.__cause__ = e
        return new
    except Exception:
        if hasattr(e, "add_note"):
            e.add_note(extra)
        return e
