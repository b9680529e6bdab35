"""Run-time error reporting: with ``exception_verbosity='high'`` an error names the graph node
and the user source line that created it (Theano's most useful debugging aid)."""

from __future__ import annotations

import ast
from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Apply, Constant, Variable, format_trace
from ..tensor.elemwise import Elemwise, broadcast_shapes
from ..tensor.reduction import Reduce
from ..tensor.scalar_ops import Composite

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


#: The end of a loop's run-time broadcast error (``what: input shapes [...]`` before it): the
#: C steps', the Python linker's and the CUDA runner's alike.
_UNBROADCAST = " cannot be broadcast together (numpy broadcasting rules)"


def _loop_body(node: Apply) -> Composite | None:
    """The scalar body of an elementwise loop or of a reduction's fused loop."""
    if isinstance(node.op, Elemwise):
        return node.op.composite
    if isinstance(node.op, Reduce):
        return node.op.pre
    return None


def _failing_step(body: Composite, shapes: list[tuple[int, ...]]) -> tuple[str, list] | None:
    """The first step of ``body`` whose operands' shapes do not broadcast, given the loop's
    input shapes: its op's name and operands (``("in", k)`` or ``("s", j)``, with their shapes);
    None where each step's do (a shape-only input, which no step reads, sets the size)."""
    sizes: list[tuple[int, ...]] = []
    for name, refs, _ in body.steps:
        operands = [(ref, shapes[ref[1]] if ref[0] == "in" else sizes[ref[1]]) for ref in refs]
        shape = broadcast_shapes(*(s for _, s in operands))
        if shape is None:
            return name, operands
        sizes.append(shape)
    return None


def _mismatch(operands: list, inputs: list[Variable]) -> str:
    """Which named inputs among ``operands`` (refs with their shapes) have which sizes along
    the first axis their sizes differ on, and the fix; "" where no named input is one."""
    nd = max(len(s) for _, s in operands)
    for d in range(nd):
        at = [(ref, s, s[d - nd + len(s)]) for ref, s in operands if d >= nd - len(s)]
        if len({n for _, _, n in at if n != 1}) < 2:
            continue
        named: dict[str, str] = {}
        computed: dict[int, None] = {}
        for ref, s, n in at:
            if n == 1:
                continue
            v = inputs[ref[1]] if ref[0] == "in" else None
            if v is not None and v.owner is None and not isinstance(v, Constant) and v.name:
                named.setdefault(v.name, f"{v.name} has size {n} along axis {d - nd + len(s)}")
            else:
                computed[n] = None
        if not named:
            return ""
        where = f" where a value computed in the function has size {' or '.join(map(str, computed))}"
        fix = (
            f"{' and '.join(named)} sizes that match"
            if len(named) > 1
            else f"{next(iter(named))} a size that matches"
        )
        return (
            f": {', '.join(named.values())}{where if computed else ''}; give {fix} (or 1, which broadcasts)"
        )
    return ""


def _unbroadcast_loop(e: BaseException, node: Apply) -> BaseException:
    """A loop's inputs that do not broadcast, named as the user wrote them: the error names
    the step of the loop whose operands fail (``sub`` of a sum of ``(a - b) ** 2``, not the
    sum; ``add`` of ``exp(a + b) * c``, not the whole body), or, where the size comes from a
    shape-only input no step reads, the op of the user's the loop was made from (a Hessian-vector
    product's ``mul``, not the ``identity`` left of it), and each named input of the axis that
    differs; any other error as it is."""
    text, body = str(e), _loop_body(node)
    head = f"{node.op}: input shapes "
    if (
        body is None
        or not isinstance(e, ValueError)
        or not text.startswith(head)
        or not text.endswith(_UNBROADCAST)
    ):
        return e
    try:
        shapes = [tuple(s) for s in ast.literal_eval(text[len(head) : -len(_UNBROADCAST)])]
    except (ValueError, SyntaxError, TypeError):
        return e
    if len(shapes) != len(node.inputs):
        return e
    failing = _failing_step(body, shapes)
    name, operands = failing or (
        node.tag.get("written_as", str(node.op)),
        [(("in", k), s) for k, s in enumerate(shapes)],
    )
    shown = [s for _, s in operands]
    return ValueError(f"{name}: input shapes {shown}{_UNBROADCAST}{_mismatch(operands, node.inputs)}")


def _named_error(e: BaseException, node: Apply) -> BaseException:
    """numpy's error for a size no array can have, as the same kind of error with numpy's words
    after ``node``'s op and before the fix; an index out of range of a node made by a user's
    function (``made_by``: ``take``'s indexing) as an ``IndexError`` naming that function and
    its fix, and a failed size check so made (an update's) as a ``ValueError`` naming its
    place; a loop's inputs that do not broadcast by the op and inputs the user wrote
    (:func:`_unbroadcast_loop`); any other error as it is."""
    e = _unbroadcast_loop(e, node)
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
