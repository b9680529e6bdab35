"""The rows of a Jacobian whose number is known only at run time.

fncache has no symbolic loop, so ``jacobian`` cannot build one gradient graph per element of an
expression whose size is unknown when the graph is built. `JacobianRows` is that loop as one op:
its inner graph is ``grad(flat[k], wrt)`` for a scalar int64 ``k``, and at run time it evaluates
the inner graph, compiled by fncache like any function (optimized, cached, keyed), for
k = 0..n-1 and stacks the rows. Everything the inner graph reads that does not depend on ``k``
(the forward values, shapes, shared variables) is computed once, outside, and passed in. Its
gradient (``grad_rules.py``) is another `JacobianRows` over the rows' own gradients, summed, so
Jacobians and Hessians can be differentiated again.

The op's identity (its one prop) is the inner graph's signature (`InnerGraphOp`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply, Variable, clone_graph
from ..graph.types import TensorType
from .hooks import c_runtime
from .inner_graph import InnerGraphOp, lift_inner_graph

__all__ = ["JacobianRows", "jacobian_rows"]


class JacobianRows(InnerGraphOp):
    """Inputs: ``rows`` (a vector: its length n is the number of rows), one variable per output
    whose shape is the shape of a row (the ``wrt`` of each gradient; only its shape is read),
    then the values the inner graph reads (its inputs after ``k``). Output ``j`` stacks, for
    k = 0..n-1, the inner graph's output ``j`` at ``k``: shape ``(n,) + wrt_j.shape``."""

    inner_name = "jacobian_rows"

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

    def performer(self, node: Apply) -> Callable[..., list[np.ndarray]]:
        """The node's outputs as a function of its inputs: the C run-time's row loop bound to
        the inner function. The C run-time calls it for the node with no Python frame."""
        # The run-time compiles the inner graph under the outer function's mode when it links
        # the outer one; a node evaluated elsewhere (constant folding) uses the default mode.
        fn = self.node_function(node)
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


def jacobian_rows(rows: Variable, k: Variable, outputs: Sequence[Variable], wrt: Sequence[Variable]) -> list:
    """For each of ``outputs`` (functions of the int64 scalar input ``k``, of ``wrt``'s shapes),
    its values at k = 0..len(rows)-1, stacked: one ``(len(rows),) + wrt_j.shape`` variable each."""
    inner, values = lift_inner_graph([k], outputs)
    op = JacobianRows(inner)
    res = op(rows, *wrt, *values)
    return list(res) if isinstance(res, list) else [res]  # a copy: never the node's own list
