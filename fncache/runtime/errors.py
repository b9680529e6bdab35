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
    return "\n".join(lines)


def annotate_runtime_error(
    e: BaseException, node: Apply, inputs: Sequence[Any] | None = None
) -> BaseException:
    """The exception to raise for ``e`` raised while running ``node``."""
    if config.exception_verbosity != "high":
        if hasattr(e, "add_note"):
            e.add_note(
                "HINT: set fc.config.exception_verbosity='high' to see the graph node "
                "and the source line that created it."
            )
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
