"""``ifelse(cond, then, else)``: one branch's values or the other's, chosen by a scalar condition.

Unlike PyTensor's lazy ``ifelse``, both branches are computed before the choice: the run-times
(the numpy linker and the C run-time) run a graph's nodes in one fixed order and have no
conditional jump. So the result is right but nothing is saved, and an error in the branch not
taken (an assertion, a shape mismatch) still raises. Unlike ``switch``, the branches may have
different shapes (only dtype and number of dimensions must agree) and nothing is broadcast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .basic import as_tensor_variable

__all__ = ["IfElse", "ifelse"]


class IfElse(Op):
    """Inputs ``(cond, then_1..then_n, else_1..else_n)``; outputs ``n`` copies of the chosen
    branch (copies, so nothing downstream overwrites an input it does not own)."""

    __props__ = ("n_outs",)

    def __init__(self, n_outs: int) -> None:
        self.n_outs = int(n_outs)

    def make_node(self, cond: Variable, *branches: Variable) -> Apply:
        n = self.n_outs
        outs = []
        for a, b in zip(branches[:n], branches[n:]):
            shape = tuple(s if s == t else None for s, t in zip(a.type.shape, b.type.shape))
            outs.append(TensorType(a.dtype, shape))
        return Apply(self, [cond, *branches], outs)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        n = self.n_outs
        chosen = inputs[1 : 1 + n] if inputs[0] else inputs[1 + n :]
        return [np.array(v, copy=True) for v in chosen]


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """``then_branch`` where the scalar ``condition`` is true, else ``else_branch`` (each a
    variable or a list of them, pairwise of the same dtype and number of dimensions). Both
    branches are computed (see the module's doc)."""
    cond = as_tensor_variable(condition)
    if cond.ndim != 0:
        raise TypeError(
            f"ifelse: the condition must be a scalar (0-d), got {cond.type!r}; reduce it first, "
            "e.g. ft.all(c), or use ft.switch for an elementwise choice"
        )
    single = not isinstance(then_branch, (list, tuple))
    thens = [as_tensor_variable(v) for v in ([then_branch] if single else then_branch)]
    elses = [as_tensor_variable(v) for v in ([else_branch] if single else else_branch)]
    if single != (not isinstance(else_branch, (list, tuple))) or len(thens) != len(elses):
        raise ValueError(
            f"ifelse: the branches must both be one variable or lists of the same length, "
            f"got {len(thens)} and {len(elses)}"
        )
    if not thens:
        raise ValueError("ifelse: the branches are empty; give at least one variable")
    for k, (a, b) in enumerate(zip(thens, elses)):
        if a.dtype != b.dtype or a.ndim != b.ndim:
            raise TypeError(
                f"ifelse: output {k}: the then-branch is {a.type!r} but the else-branch {b.type!r}; "
                f"they need the same dtype and number of dimensions (cast one with ft.cast(v, '{a.dtype}'))"
            )
    res = IfElse(len(thens))(cond, *thens, *elses)
    outs = list(res) if isinstance(res, list) else [res]
    if name is not None:
        for o in outs:
            o.name = name
    return outs[0] if single else outs
