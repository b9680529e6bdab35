"""The Python linker: runs the optimized graph node by node with numpy (``linker="py"``)."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..graph.basic import Apply, copied_outputs, node_performer, own_storage, undeclared_outputs
from ..graph.fgraph import FunctionGraph
from ..graph.slots import plan_slots
from .errors import annotate_runtime_error

__all__ = ["PyRunner", "NodeHooks", "non_finite", "holds_object", "is_sparse"]


def is_sparse(value: Any) -> bool:
    """Whether ``value`` is a scipy.sparse matrix (a value of ``fncache.sparse``; scipy is not
    imported for the question: none exists before it is)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(value)


def holds_object(v: Any) -> bool:
    """Whether variable ``v``'s values are not arrays: a scipy.sparse matrix of
    ``fncache.sparse``, which only the Python linker runs."""
    # a variable has a sparse type only once its module is loaded: no import for the question
    sparse = sys.modules.get("fncache.tensor.sparse.type")
    return sparse is not None and isinstance(v.type, sparse.SparseTensorType)


def _plain(values: list[Any]) -> list[Any]:
    """A node's outputs with each ndarray subclass (np.matrix, a masked array) made a plain
    array of the same memory, as the C run-time takes them: a matrix's ``*``, sums and indexing
    are not what the graph's later nodes and the caller expect."""
    for v in values:
        if type(v) is not np.ndarray and isinstance(v, np.ndarray):
            return [a.view(np.ndarray) if isinstance(a, np.ndarray) else a for a in values]
    return values


class NodeHooks(Protocol):
    """What sees each node of one call of a :class:`PyRunner` (``fc.DebugMode``'s checks,
    ``fc.MonitorMode``'s functions): the values ``before`` returns are the node's inputs, the
    ones ``after`` returns its outputs."""

    def before(self, step: int, node: Apply, inputs: list[Any]) -> list[Any]: ...

    def after(self, step: int, node: Apply, inputs: list[Any], outputs: list[Any]) -> list[Any]: ...


class PyRunner:
    """Callable on the fgraph's inputs (explicit inputs then shared values); returns the list
    of all fgraph outputs. ``hooks``: makes the :class:`NodeHooks` of each call; ``checked``:
    False runs each user's op's perform without converting its values to the declared types
    (``node_performer``), which the hooks then check."""

    def __init__(
        self,
        fgraph: FunctionGraph,
        allow_gc: bool = True,
        guard: str = "",
        hooks: Callable[[], NodeHooks] | None = None,
        checked: bool = True,
    ) -> None:
        self.fgraph = fgraph
        self.hooks = hooks
        #: the checks of ``fc.NanGuardMode`` on every value: "n" NaN, "i" infinities, "b" big
        self.guard = guard
        plan = plan_slots(fgraph)
        self.nodes = plan.nodes
        self.allow_gc = allow_gc
        self.n_inputs = plan.n_inputs
        self.n_slots = plan.n_slots
        self.consts = plan.consts
        # each node's perform bound once (its params asked for here, not at every call)
        self.plan = [
            (node, node_performer(node, checked), ins, outs)
            for node, ins, outs in zip(plan.nodes, plan.ins, plan.outs)
        ]
        self.out_slots = plan.out_slots
        # each node's outputs that must not share memory with its inputs (the op declares no
        # view): checked after the hooks, so DebugMode still sees (and reports) the op's own
        self.own = [undeclared_outputs(node) for node in plan.nodes]
        # Outputs that may view an input, a constant, a shared value or an earlier output are
        # copied on return (by their type, for a value that is not an array: a sparse matrix).
        self.copy_outs = [
            getattr(v.type, "copy_value", np.array) if copied else None
            for v, copied in zip(fgraph.outputs, copied_outputs(fgraph.outputs))
        ]
        # Free a slot after its last use (allow_gc); the caller's inputs are the caller's.
        self.dies = [[s for s in dying if s >= self.n_inputs] for dying in plan.dying]

    def __call__(self, *inputs: Any) -> list[np.ndarray]:
        return self.run(inputs, self.hooks() if self.hooks is not None else None)

    def run(self, inputs: Sequence[Any], hooks: NodeHooks | None = None) -> list[np.ndarray]:
        """One call on ``inputs``; ``hooks`` (one object per call) see each node's values."""
        store: list[Any] = [None] * self.n_slots
        store[: self.n_inputs] = inputs
        if self.guard:
            for k, (v, value) in enumerate(zip(self.fgraph.inputs, inputs)):
                _guard(self.guard, value, f"input {k} ({v.name or repr(v)})")
        for s, data in self.consts:
            store[s] = data
        for step, (node, perform, ins, outs) in enumerate(self.plan):
            values = [store[i] for i in ins]
            if hooks is not None:
                values = hooks.before(step, node, values)
            try:
                res = perform(values)
            except Exception as e:
                raise annotate_runtime_error(e, node, values, self.fgraph.inputs) from None
            if hooks is not None:
                res = hooks.after(step, node, values, res)
            if self.own[step]:
                res = own_storage(res, values, self.own[step])
            res = _plain(res)
            if self.guard:
                for j, r in enumerate(res):
                    _guard(self.guard, r, f"output {j} of {node.op} (inputs {[str(v) for v in node.inputs]})")
            for s, r in zip(outs, res):
                store[s] = r
            if self.allow_gc:
                for s in self.dies[step]:
                    store[s] = None
        return [
            store[s] if copy is None else copy(store[s]) for s, copy in zip(self.out_slots, self.copy_outs)
        ]

    def free(self) -> None:
        """Nothing is kept between calls by this linker."""

    def time_nodes(self) -> Callable[[], list[tuple[Apply, float, int]]]:
        """Time each node of the calls that follow (its perform is wrapped, so a runner that
        does not time pays nothing); returns what reads (node, seconds, runs) per node."""
        cells = [[0.0, 0] for _ in self.plan]
        self.plan = [
            (node, _timed(perform, cell), ins, outs)
            for (node, perform, ins, outs), cell in zip(self.plan, cells)
        ]
        nodes = [node for node, *_ in self.plan]
        return lambda: [(node, float(t), int(runs)) for node, (t, runs) in zip(nodes, cells)]


def _timed(perform: Callable[[list], list], cell: list) -> Callable[[list], list]:
    """``perform`` adding its time and one run to ``cell`` at each call."""

    def run(inputs: list) -> list:
        t0 = time.perf_counter()
        try:
            return perform(inputs)
        finally:
            cell[0] += time.perf_counter() - t0
            cell[1] += 1

    return run


def non_finite(checks: str, value: Any) -> str | None:
    """What ``value`` holds of the checks asked ("n" NaN, "i" infinities, "b" absolute values
    above 1e10), in words; None when nothing. Floating and complex arrays only (integers hold
    neither NaN nor infinities)."""
    if is_sparse(value):
        value = value.data  # a sparse matrix (fncache.sparse): its stored values
    a = np.asarray(value)
    if a.dtype.kind not in "fc" or a.size == 0:
        return None
    return (
        ("n" in checks and bool(np.isnan(a).any()) and "NaN")
        or ("i" in checks and bool(np.isinf(a).any()) and "an infinity")
        or (
            "b" in checks
            and bool((np.abs(a[np.isfinite(a)]) > 1e10).any())
            and "a value above 1e10 in absolute value"
        )
        or None
    )


def _guard(checks: str, value: Any, what: str) -> None:
    """``fc.NanGuardMode``'s check of one value."""
    found = non_finite(checks, value)
    if found:
        raise AssertionError(f"NanGuardMode found {found} in {what}")
