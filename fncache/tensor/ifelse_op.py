"""The ops of ``ifelse(cond, then, else)`` (``ifelse.py``): one branch's values or the other's,
chosen by a scalar condition.

Lazy, as Theano/PyTensor's: only the branch taken is computed. ``ifelse`` builds an `IfElse`
node over both branches' values, which is what the gradient and the cache key read. When a
function is compiled, the ``ifelse_lazy`` rewrite (``rewrite/ifelse_lazy.py``) moves the nodes
that only one branch needs (nothing else in the graph reads them) into that branch's inner graph
and puts a `LazyIfElse` node in the `IfElse`'s place: it reads the condition and runs the inner
function of the branch taken, so the other branch's nodes cost nothing and their errors (an
assertion, a shape mismatch, an index out of range) do not raise. Nodes the rest of the graph
also reads stay outside and are computed once, whichever branch is taken (as are the values
both branches read). The gradient of an ``ifelse`` is an ``ifelse`` of the same condition over
each branch's gradients (``grad_rules.py``), made lazy with it, so a function computing both
runs only the taken branch's forward and backward work. Unlike ``switch``, the branches may
have different shapes (only dtype and number of dimensions must agree) and nothing is
broadcast. This module is loaded with the first ``ifelse`` (or gradient): only then does
compiling look for its nodes.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from .inner_graph import SIZE_ERRORS, InnerGraphOp, StartedInner

__all__ = ["IfElse", "IfElseBranch", "LazyIfElse"]


def _output_types(thens: Sequence[Variable], elses: Sequence[Variable]) -> list[TensorType]:
    """Output ``k`` has branch ``k``'s dtype and the static sizes both branches agree on."""
    return [
        TensorType(a.dtype, tuple(s if s == t else None for s, t in zip(a.type.shape, b.type.shape)))
        for a, b in zip(thens, elses)
    ]


class IfElse(Op):
    """Inputs ``(cond, then_1..then_n, else_1..else_n)``; outputs ``n`` copies of the chosen
    branch (copies, so nothing downstream overwrites an input it does not own). As built, both
    branches' values are its inputs; a compiled function runs a `LazyIfElse` in its place."""

    __props__ = ("n_outs",)

    def __init__(self, n_outs: int) -> None:
        self.n_outs = int(n_outs)

    def make_node(self, cond: Variable, *branches: Variable) -> Apply:
        n = self.n_outs
        return Apply(self, [cond, *branches], _output_types(branches[:n], branches[n:]))

    def branch_side(self, k: int) -> int | None:
        """The side input ``k`` is read on: 0 (then), 1 (else), None (the condition)."""
        return None if k == 0 else int(k > self.n_outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        n = self.n_outs
        chosen = inputs[1 : 1 + n] if inputs[0] else inputs[1 + n :]
        return [np.array(v, copy=True) for v in chosen]


class IfElseBranch(InnerGraphOp):
    """One branch of a `LazyIfElse`: its inner graph (all the node's values in, the branch's
    outputs out), compiled and cached as one function. Never a node's op: it lives in its
    `LazyIfElse`, which names it for linking and pickling (`inner_ops`)."""

    inner_name = "ifelse_branch"


class LazyIfElse(InnerGraphOp):
    """Inputs ``(cond, value_1..value_m)``. The inner graph takes the values and returns the
    then-branch's ``n_outs`` outputs followed by the else-branch's; each branch is compiled as
    a function of its own (`IfElseBranch`), and the node runs only the one ``cond`` picks."""

    __props__ = ("inner_key", "n_outs")

    inner_name = "ifelse"
    not_pickled = InnerGraphOp.not_pickled | {"branches"}

    def __init__(self, inner: FunctionGraph, n_outs: int) -> None:
        self.n_outs = int(n_outs)
        super().__init__(inner)

    def _use(self, inner: FunctionGraph) -> None:
        super()._use(inner)
        n, ins = self.n_outs, inner.inputs
        self.branches = (
            IfElseBranch(FunctionGraph(ins, inner.outputs[:n], clone=False)),
            IfElseBranch(FunctionGraph(ins, inner.outputs[n:], clone=False)),
        )

    def __str__(self) -> str:
        return f"LazyIfElse{{{self.n_outs}, {self.inner_key[:12]}}}"

    def inner_ops(self) -> tuple[InnerGraphOp, ...]:
        return self.branches

    def start(self, mode: Any = None) -> StartedInner:
        """Both branches' compiles started (their compilers run at once); the result, called,
        gives the two functions."""
        started: list[StartedInner] = []

        def close() -> None:
            for s in started:
                s.close()

        try:
            for b in self.branches:
                started.append(b.start(mode))
        except BaseException:
            close()
            raise
        return StartedInner(lambda: tuple(s() for s in started), close)

    def function(self, mode: Any = None, build: Any = None) -> tuple[Any, Any]:
        """The two branches' functions under ``mode`` (each compiled once per mode)."""
        if build is not None:
            raise TypeError(f"{self}: each branch is built on its own (inner_ops)")
        return self.start(mode)()

    def make_node(self, cond: Variable, *values: Variable) -> Apply:
        params = self.inner.inputs
        if cond.ndim != 0 or len(values) != len(params):
            raise ValueError(
                f"{self}: expected a scalar condition and {len(params)} values, got {cond.type} "
                f"and {len(values)} values"
            )
        for k, (v, p) in enumerate(zip(values, params)):
            if v.dtype != p.dtype or v.ndim != p.ndim:
                raise TypeError(f"{self}: value {k} must be {p.type}, got {v.type}")
        outs = self.inner.outputs
        return Apply(self, [cond, *values], _output_types(outs[: self.n_outs], outs[self.n_outs :]))

    def performer(self, node: Apply) -> Callable[..., list[np.ndarray]]:
        """The node's outputs as a function of its inputs: the taken branch's function called
        on the values. The C run-time calls it for the node directly."""
        # fn.__call__: the native runner itself for a C function (no Function frame between)
        then_call, else_call = (fn.__call__ for fn in self.node_function(node))

        def run(cond: np.ndarray, *values: np.ndarray) -> list[np.ndarray]:
            try:
                return (then_call if cond else else_call)(*values)
            except SIZE_ERRORS as e:
                raise self.named_outside(e, node) from None

        return run

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return list(self.performer(node)(*inputs))

    def given_whole(self, node: Apply) -> dict[int, Variable]:
        return dict(enumerate(node.inputs[1:]))
