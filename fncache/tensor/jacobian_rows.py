"""The rows of a Jacobian whose number is known only at run time.

fncache has no symbolic loop, so ``jacobian`` cannot build one gradient graph per element of an
expression whose size is unknown when the graph is built. `JacobianRows` is that loop as one op:
its inner graph is ``grad(flat[k], wrt)`` for a scalar int64 ``k``, and at run time it evaluates
the inner graph, compiled by fncache like any function (optimized, cached, keyed), for
k = 0..n-1 and stacks the rows. Everything the inner graph reads that does not depend on ``k``
(the forward values, shapes, shared variables) is computed once, outside, and passed in. Its
gradient (``grad_rules.py``) is another `JacobianRows` over the rows' own gradients, summed, so
Jacobians and Hessians can be differentiated again.

The op's identity (its one prop) is the inner graph's signature, the same canonical hash a
function key is built from, so equal inner graphs merge and key alike. A pickle carries the
inner graph's flat encoding, and the signature is recomputed from it where it is loaded.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Apply, Constant, Op, Variable, clone_graph, toposort
from ..graph.fgraph import FunctionGraph
from ..graph.serialize import decode_graph, encode_graph, graph_signature
from ..graph.types import TensorType
from .hooks import c_runtime, function_compiler

__all__ = ["JacobianRows", "jacobian_rows"]


class JacobianRows(Op):
    """Inputs: ``rows`` (a vector: its length n is the number of rows), one variable per output
    whose shape is the shape of a row (the ``wrt`` of each gradient; only its shape is read),
    then the values the inner graph reads (its inputs after ``k``). Output ``j`` stacks, for
    k = 0..n-1, the inner graph's output ``j`` at ``k``: shape ``(n,) + wrt_j.shape``."""

    __props__ = ("inner_key",)

    def __init__(self, inner: FunctionGraph) -> None:
        self._use(inner)

    def _use(self, inner: FunctionGraph) -> None:
        self.inner = inner
        self.inner_key = graph_signature(inner)
        #: compiled inner functions by mode signature (None: the default mode); never pickled
        self.functions: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"inner": encode_graph(self.inner)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The identity is recomputed from the graph itself, never trusted from the pickle.
        self._use(decode_graph(state["inner"]))

    def __str__(self) -> str:
        return f"JacobianRows{{{self.inner_key[:12]}}}"

    @property
    def n_outputs(self) -> int:
        return len(self.inner.outputs)

    def make_node(self, rows: Variable, *args: Variable) -> Apply:
        n_out, params = self.n_outputs, self.inner.inputs[1:]
        if rows.ndim != 1 or len(args) != n_out + len(params):
            raise ValueError(
                f"{self}: expected a vector of rows, {n_out} row-shape variables and "
                f"{len(params)} values, got {rows.type} and {len(args)} variables"
            )
        likes, values = args[:n_out], args[n_out:]
        for k, (v, p) in enumerate(zip(values, params)):
            if v.dtype != p.dtype or v.ndim != p.ndim:
                raise TypeError(f"{self}: value {k} must be {p.type}, got {v.type}")
        out_types = []
        for like, o in zip(likes, self.inner.outputs):
            if like.ndim != o.ndim:
                raise TypeError(f"{self}: a row is {o.type}, its shape variable is {like.type}")
            out_types.append(TensorType(o.dtype, (rows.type.shape[0],) + like.type.shape))
        return Apply(self, [rows, *args], out_types)

    def rows_of(self, k: Variable, values: Sequence[Variable]) -> list[Variable]:
        """The inner graph's outputs as a graph of ``k`` and ``values`` (in place of its
        inputs): one row of each output, for building graphs over it (its gradient)."""
        inputs = self.inner.inputs
        replace = {inputs[0]: k, **{p: v for p, v in zip(inputs[1:], values)}}
        return clone_graph(inputs, self.inner.outputs, replace=replace)[1]

    def _compile(self, mode: Any) -> Any:
        return function_compiler()(
            list(self.inner.inputs),
            list(self.inner.outputs),
            mode=mode,
            name="jacobian_rows",
            on_unused_input="ignore",
            trust_input=True,  # the values come from the outer function, exactly typed
        )

    def function(self, mode: Any = None, build: Callable[[], Any] | None = None) -> Any:
        """The inner graph compiled under ``mode`` (None: the default mode), once per mode.
        ``build``: makes that function instead of compiling the inner graph (an unpickled
        function brings its inner functions along), under the same flags."""
        key = None if mode is None else mode.signature()
        fn = self.functions.get(key)
        if fn is None:
            # It runs once per row on same-sized values: its intermediates are kept and reused
            # from row to row (allow_gc off) rather than allocated for each.
            with config.change_flags(allow_gc=False):
                fn = build() if build is not None else self._compile(mode)
            self.functions[key] = fn
        return fn

    def performer(self, node: Apply) -> Callable[..., list[np.ndarray]]:
        """The node's outputs as a function of its inputs: the C run-time's row loop bound to
        the inner function. The C run-time calls it for the node with no Python frame."""
        # The run-time compiles the inner graph under the outer function's mode when it links
        # the outer one; a node evaluated elsewhere (constant folding) uses the default mode.
        fn = node.tag.get("inner_function") or self.function()
        typenums = tuple(np.dtype(o.dtype).num for o in node.outputs)
        # fn.__call__: the native runner itself for a C function, which the run-time's loop
        # runs row by row without calling it
        return functools.partial(
            c_runtime().rows, fn.__call__, typenums, functools.partial(self._bad_row, fn)
        )

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return self.performer(node)(*inputs)

    def _bad_row(self, fn: Any, k: int, j: int, rows: np.ndarray, *args: np.ndarray) -> None:
        """Raise the error for row ``k`` of output ``j``, not of its row-shape input's shape
        or of its dtype (the run-time's loop found it)."""
        likes, values = args[: self.n_outputs], args[self.n_outputs :]
        row = fn(np.asarray(k, dtype=np.int64), *values)[j]
        want = np.dtype(self.inner.outputs[j].dtype)
        raise ValueError(
            f"{self}: row {k} of output {j} is {row.dtype}{list(row.shape)}, expected "
            f"{want}{list(likes[j].shape)}"
        )


def _outer_values(k: Variable, outputs: Sequence[Variable]) -> list[Variable]:
    """The variables the part of the graph that depends on ``k`` reads without depending on
    ``k`` (constants excepted: they stay in the inner graph), in a deterministic order."""
    order = toposort(outputs)
    dep = {id(k)}
    for node in order:
        if any(id(v) in dep for v in node.inputs):
            dep.update(id(o) for o in node.outputs)
    found: list[Variable] = []
    seen: set[int] = set()

    def take(v: Variable) -> None:
        if id(v) not in dep and id(v) not in seen and not isinstance(v, Constant):
            seen.add(id(v))
            found.append(v)

    for node in order:
        if id(node.outputs[0]) in dep:
            for v in node.inputs:
                take(v)
    for o in outputs:
        take(o)
    return found


def jacobian_rows(rows: Variable, k: Variable, outputs: Sequence[Variable], wrt: Sequence[Variable]) -> list:
    """For each of ``outputs`` (functions of the int64 scalar input ``k``, of ``wrt``'s shapes),
    its values at k = 0..len(rows)-1, stacked: one ``(len(rows),) + wrt_j.shape`` variable each."""
    values = _outer_values(k, outputs)
    fresh = {v: v.type.make_variable(v.name) for v in [k, *values]}
    ins, outs, _ = clone_graph([k, *values], list(outputs), replace=fresh)
    op = JacobianRows(FunctionGraph(ins, outs, clone=False))
    res = op(rows, *wrt, *values)
    return list(res) if isinstance(res, list) else [res]  # a copy: never the node's own list
