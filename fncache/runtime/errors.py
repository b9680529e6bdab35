"""Run-time error reporting: with ``exception_verbosity='high'`` an error names the graph node
and the user source line that created it (Theano's most useful debugging aid)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import config
from ..errors import BroadcastError, NotAlignedError
from ..graph.basic import Apply, Variable, format_trace
from ..tensor.blas import Dot, RowPass
from ..tensor.elemwise import Elemwise, broadcast_shapes, sized_like, users_name
from ..tensor.grad_ops import ReducedSize
from ..tensor.pyop import BroadcastCheck
from ..tensor.reduction import Reduce
from ..tensor.shape_ops import dim_read
from ..tensor.scalar_ops import Composite
from ..tensor.size_sources import size_source

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


def _loop_body(op: Any) -> Composite | None:
    """The scalar body of an elementwise loop or of a reduction's fused loop."""
    if isinstance(op, Elemwise):
        return op.composite
    if isinstance(op, Reduce):
        return op.pre
    return None


def _failing_step(body: Composite, shapes: Sequence[tuple[int, ...]]) -> tuple[str, list] | None:
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


def _step_reads(body: Composite) -> list[list[int]]:
    """The loop inputs each step of ``body`` reads, itself or through the steps it reads: a
    step's shape is theirs broadcast, each aligned at the right."""
    reads: list[list[int]] = []
    for _, refs, _ in body.steps:
        reads.append(list(dict.fromkeys(k for r in refs for k in ([r[1]] if r[0] == "in" else reads[r[1]]))))
    return reads


#: An operand of a failed broadcast: the variable it is (None: a value computed in the node) and
#: its shape.
Operand = tuple[Variable | None, tuple[int, ...]]


def _disagreeing(operands: Sequence[Operand]) -> list[tuple[Variable | None, int, int]]:
    """Along the first axis where the operands' sizes do not broadcast, each operand whose size
    there is not 1: its variable, its own axis and its size (none where all broadcast)."""
    nd = max((len(s) for _, s in operands), default=0)
    for d in range(nd):
        at = [(v, d - nd + len(s), s[d - nd + len(s)]) for v, s in operands if d >= nd - len(s)]
        big = [x for x in at if x[2] != 1]
        if len({n for _, _, n in big}) > 1:
            return big
    return []


def _sizes(
    at: Sequence[tuple[Variable | None, int, int]], graph_inputs: Sequence[Variable]
) -> list[tuple[int | None, str | None, int, int]]:
    """``at`` (:func:`_disagreeing`) as a BroadcastError's ``sizes``: each operand as the
    variable and axis it has its size of (``size_source``: the rows of ``x @ w`` are x's, as
    the count of a mean's gradient reads them once rewritten, so that every mode names the
    same inputs), that variable's position among ``graph_inputs`` (the inputs of the function
    that raised) and the user's name for it."""
    out = []
    for v, axis, n in at:
        if v is not None:
            v, axis = size_source(v, axis)
        out.append((_position(v, graph_inputs), users_name(v), axis, n))
    return out


def _position(v: Variable | None, graph_inputs: Sequence[Variable]) -> int | None:
    """The position of ``v`` among ``graph_inputs``, or None: a variable of the user's graph
    (:func:`_failing_written`) is at the input standing for it."""
    return next((k for k, u in enumerate(graph_inputs) if v is u or v is u.tag.get("written")), None)


def _read_by(node: Apply | None, v: Variable | None) -> bool:
    """Whether the user's ``node`` reads the function's input ``v`` itself (``v`` is a copy of
    the user's input with its name: the optimized graph is made from a copy of the user's)."""
    if node is None or v is None or v.owner is not None or not v.name:
        return False
    return any(u.owner is None and u.name == v.name for u in node.inputs)


def _written_as(v: Variable) -> Variable | None:
    """The variable of the user's graph that ``v``, of the optimized graph, is: the input it
    stands for (its ``written`` tag: the optimized graph is made from a copy of the user's),
    or the output of the user's node its node computes (``written``); None for a value the
    rewrites made."""
    if v.owner is None:
        return v.tag.get("written", v)
    made = v.owner.tag.get("written")
    return made.outputs[v.index] if made is not None and v.index < len(made.outputs) else None


def _elementwise_ancestry(node: Apply) -> list[Apply]:
    """The elementwise nodes ``node`` reads through elementwise nodes, and ``node`` where it is
    one, inputs first."""
    order: list[Apply] = []
    seen: set[int] = set()
    todo: list[tuple[Apply, bool]] = [(node, False)]
    while todo:
        n, done = todo.pop()
        if done:
            if isinstance(n.op, Elemwise):
                order.append(n)
        elif id(n) not in seen:
            seen.add(id(n))
            todo.append((n, True))
            todo += [
                (i.owner, False) for i in n.inputs if i.owner is not None and isinstance(i.owner.op, Elemwise)
            ]
    return order


def _failing_written(
    written: Apply | None, inputs: Sequence[Variable | None], shapes: Sequence[tuple[int, ...]]
) -> tuple[str, list[Operand]] | None:
    """The user's elementwise node whose operands do not broadcast, found by broadcasting again,
    through the elementwise nodes of the user's graph that a node (a loop, a count) was made
    from (``written``) or reads, ``shapes``, those of that node's ``inputs``, each at the
    user's variable it is (:func:`_written_as`), and static shapes: its op's name and its
    operands of known shape. None where no such node is found (a size the node reads stands
    for a value computed otherwise: a product's)."""
    if written is None:
        return None
    known: dict[int, tuple[int, ...]] = {}
    for v, s in zip(inputs, shapes):
        u = None if v is None else _written_as(v)
        if u is not None and u.ndim == len(s):
            known[id(u)] = s
    for n in _elementwise_ancestry(written):
        have: list[Operand] = []
        for i in n.inputs:
            s = known.get(id(i))
            static = i.type.shape
            if s is None and None not in static:
                s = tuple(static)  # type: ignore[arg-type]
            if s is not None:
                have.append((i, s))
        shape = broadcast_shapes(*(s for _, s in have))
        if shape is None:
            return str(n.op), have
        if len(have) == len(n.inputs):
            known.update((id(o), shape) for o in n.outputs)
    return None


def _unbroadcast_sizes(e: BroadcastError, node: Apply, graph_inputs: Sequence[Variable]) -> BaseException:
    """A count of elements (`ReducedSize`) read from sizes that do not broadcast: named by the
    user's node that fails in the graph of the value counted, where it is found, else by the
    function that made the count (a mean's) and the inputs the sizes are read from."""
    shapes = e.shapes
    if len(shapes) != len(node.inputs):
        return e
    found = _failing_written(node.tag.get("written"), node.inputs, shapes)
    if found is not None:
        # the sizes meet in an elementwise node of the user's the count's value is made by
        return _not_broadcast(*found, graph_inputs)
    for refs in node.op.spec:
        at = [(node.inputs[k], d, shapes[k][d]) for k, d in refs if d < len(shapes[k])]
        big = [x for x in at if x[2] != 1]
        if len({n for _, _, n in big}) > 1:
            break
    else:
        return e
    name, fix = node.tag.get("made_by") or (str(node.op), "check the shapes of the inputs")
    head = f"{name}: sizes {[n for _, _, n in at]} cannot be broadcast together (numpy broadcasting rules)"
    return BroadcastError(head, name, shapes, _sizes(big, graph_inputs), fix)


def _unbroadcast_check(e: BroadcastError, node: Apply, graph_inputs: Sequence[Variable]) -> BaseException:
    """Sizes read from a value's inputs (`BroadcastCheck`, in place of computing the value)
    that do not broadcast, named by the inputs they are read from."""
    sizes = node.inputs[2:]
    if len(sizes) != len(e.shapes):
        return e
    at = [(*(dim_read(s) or (None, 0)), n[0]) for s, n in zip(sizes, e.shapes) if n and n[0] != 1]
    return e.with_sizes(_sizes(at, graph_inputs))


def _region_source(node: Apply, r: int) -> Variable | None:
    """The input of the row pass ``node`` that the value ``r`` of its region (its inputs, then
    the products ``X @ w``, then its nodes' outputs) has every size of, through the region's
    elementwise nodes as :func:`sized_like` goes through a graph's: ``X`` for a product (its
    one axis is X's rows, axis 0); None for another computed value."""
    op: RowPass = node.op
    made = node.tag.get("rowpass_inner")  # the region's nodes as its perform made them
    n_in = len(node.inputs)
    producers: dict[int, tuple[Any, Sequence[int], Apply]] = {}
    k = n_in + op.products
    for (region_op, refs), made_node in zip(op.nodes, made[1] if made else ()):
        for _ in made_node.outputs:
            producers[k], k = (region_op, refs, made_node), k + 1
    while r >= n_in:
        if r < n_in + op.products:
            return node.inputs[0]  # a product ``X @ w`` has X's rows
        if r not in producers or not isinstance(producers[r][0], Elemwise):
            return None
        _, refs, made_node = producers[r]
        sized = [q for q, v in zip(refs, made_node.inputs) if not all(n == 1 for n in v.type.shape)]
        if len(sized) != 1 or made_node.inputs[refs.index(sized[0])].ndim != made_node.outputs[0].ndim:
            return None
        r = sized[0]
    return node.inputs[r]


def _unbroadcast(e: BaseException, node: Apply, graph_inputs: Sequence[Variable]) -> BaseException:
    """Operands that do not broadcast, named as the user wrote them, from the shapes the error
    carries (:class:`~fncache.errors.BroadcastError`): a loop's error names the step whose
    operands fail (``sub`` of a sum of ``(a - b) ** 2``, not the sum; ``add`` of
    ``exp(a + b) * c``, not the whole body), or, where the size comes from a shape-only input no
    step reads, the user's node that fails in the graph the loop was made from (``written``:
    the ``mul`` of ``-y * log(p)``, not the ``switch`` the loop checks sizes for), else that
    node's op (a Hessian-vector product's ``mul``, not the ``identity`` left of it), and each
    input of the user's of the axis that differs; a row pass's error the node of its region
    that failed, with that node's inputs; any other error as it is."""
    if not isinstance(e, BroadcastError) or not e.shapes:
        return e
    if isinstance(node.op, ReducedSize):
        return _unbroadcast_sizes(e, node, graph_inputs)
    if isinstance(node.op, BroadcastCheck):
        return _unbroadcast_check(e, node, graph_inputs)
    op = node.op
    inputs: list[Variable | None] = [*node.inputs]
    written: Apply | None = node.tag.get("written")
    if isinstance(op, RowPass) and e.part is not None and e.part < len(op.nodes):
        op, refs = op.nodes[e.part]
        inputs = [_region_source(node, r) for r in refs]
        written = None  # the region's node: its own op, as the user wrote it
    shapes, body = e.shapes, _loop_body(op)
    if body is None or len(shapes) != len(inputs):
        # not a loop's own error: one of an inner function (a loop's step) passing through
        # its outer node is said already, in the inner function's words
        return e
    failing = _failing_step(body, shapes)
    if failing is not None:
        name, refs = failing
        shown = [s for _, s in refs]
        # a step's operand computed in the loop has the size of the loop's inputs it reads
        reads = _step_reads(body)
        operands: list[Operand] = [
            (inputs[k], shapes[k]) for (kind, j), _ in refs for k in ([j] if kind == "in" else reads[j])
        ]
    elif (found := _failing_written(written, inputs, shapes)) is not None:
        # the loop checks the sizes of the values the user's op reads: the user's node whose
        # operands fail, as the unfused graph raises it
        return _not_broadcast(*found, graph_inputs)
    else:
        # a shape-only input stands for the size of a value the user's op reads: named only
        # where that op reads the input itself
        read = {k for _, refs, _ in body.steps for kind, k in refs if kind == "in"}
        name = str(written.op) if written is not None else e.op or str(op)
        operands = [
            (v if k in read or _read_by(written, v) else None, s)
            for k, (v, s) in enumerate(zip(inputs, shapes))
        ]
        shown = [s for _, s in operands]
    return _not_broadcast(name, operands, graph_inputs, shown)


def _not_broadcast(
    name: str,
    operands: Sequence[Operand],
    graph_inputs: Sequence[Variable],
    shown: Sequence[tuple[int, ...]] | None = None,
) -> BroadcastError:
    """The error of the user's op ``name`` whose ``operands`` do not broadcast, showing their
    shapes (or ``shown``)."""
    shown = [s for _, s in operands] if shown is None else shown
    return BroadcastError(
        f"{name}: input shapes {list(shown)} cannot be broadcast together (numpy broadcasting rules)",
        name,
        shown,
        _sizes(_disagreeing(operands), graph_inputs),
    )


def _unaligned(e: NotAlignedError, node: Apply, graph_inputs: Sequence[Variable]) -> BaseException:
    """A product's operands that do not align, named as the user's inputs they have every size
    of (:func:`sized_like`: ``2 * w`` is w) and located
    among ``graph_inputs``, so that an inner function's error is named from outside: a
    `Dot`'s, or a row pass's ``X`` and the ``w`` of the product that failed."""
    if isinstance(node.op, Dot):
        operands = node.inputs
    elif isinstance(node.op, RowPass) and e.part is not None:
        operands = [node.inputs[0], node.inputs[1 + e.part]]
    else:
        return e
    if len(operands) != 2 or len(e.shapes) != 2:
        return e
    sized = [sized_like(v) for v in operands]
    return e.located(
        [
            (_position(u, graph_inputs), users_name(u), axis, s[axis])
            for u, s, axis in zip(sized, e.shapes, e.inner_axes())
        ]
    )


def _named_error(e: BaseException, node: Apply, graph_inputs: Sequence[Variable]) -> BaseException:
    """numpy's error for a size no array can have, as the same kind of error with numpy's words
    after ``node``'s op and before the fix; an index out of range of a node made by a user's
    function (``made_by``: ``take``'s indexing) as an ``IndexError`` naming that function and
    its fix, and a failed size check so made (an update's) as a ``ValueError`` naming its
    place; a loop's inputs that do not broadcast by the op and inputs the user wrote
    (:func:`_unbroadcast`), a product's that do not align by the user's inputs
    (:func:`_unaligned`); any other error as it is."""
    e = (
        _unaligned(e, node, graph_inputs)
        if isinstance(e, NotAlignedError)
        else _unbroadcast(e, node, graph_inputs)
    )
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
    e: BaseException,
    node: Apply,
    inputs: Sequence[Any] | None = None,
    graph_inputs: Sequence[Variable] = (),
) -> BaseException:
    """The exception to raise for ``e`` raised while running ``node`` (given ``inputs``) of a
    function whose graph's inputs are ``graph_inputs`` (a size error tells which of them it
    names, for a loop to name its step's inputs as its own user wrote them)."""
    e = _named_error(e, node, graph_inputs)
    if config.exception_verbosity != "high":
        # an error of an inner function (a loop's step) passes through its outer node too
        if hasattr(e, "add_note") and _HINT not in getattr(e, "__notes__", ()):
            e.add_note(_HINT)
        return e
    extra = describe_node(node, inputs)
    try:
        new = type(e)(f"{e}\n{extra}")
        new.__cause__ = e
        # what the error carries beside its message: its data (a BroadcastError's op, shapes
        # and sizes) and its notes (the step of a loop it was raised in)
        new.__dict__.update(vars(e))
        return new
    except Exception:
        if hasattr(e, "add_note"):
            e.add_note(extra)
        return e
