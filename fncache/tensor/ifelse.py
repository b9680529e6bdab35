"""``ifelse(cond, then, else)``: one branch's values or the other's, chosen by a scalar condition,
computing only the branch taken in a compiled function (the ops: ``ifelse_op.py``). Unlike
``switch``, the branches may have different shapes and nothing is broadcast."""

from __future__ import annotations

from typing import Any

from ..graph.types import TensorType
from .basic import as_tensor_variable

__all__ = ["ifelse"]


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """``then_branch`` where the scalar ``condition`` is true, else ``else_branch`` (each a
    variable or a list of them, pairwise of the same dtype and number of dimensions). In a
    compiled function only the branch taken is computed (see the module's doc)."""
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
        if not isinstance(a.type, TensorType) or not isinstance(b.type, TensorType):
            # a sparse matrix: the node's outputs are arrays, which such a value is not
            kind = "do not match" if a.type != b.type else "are sparse matrices"
            raise TypeError(
                f"ifelse: output {k}: the branches' types {a.type} and {b.type} {kind}; ifelse "
                "chooses between arrays: convert both with fncache.sparse.dense_from_sparse (and "
                "back with csr_from_dense/csc_from_dense)"
            )
        if a.dtype != b.dtype or a.ndim != b.ndim:
            raise TypeError(
                f"ifelse: output {k}: the then-branch is {a.type!r} but the else-branch {b.type!r}; "
                f"they need the same dtype and number of dimensions (cast one with ft.cast(v, '{a.dtype}'))"
            )
    from .ifelse_op import IfElse  # loaded with the first ifelse: see ifelse_op's doc

    res = IfElse(len(thens))(cond, *thens, *elses)
    outs = list(res) if isinstance(res, list) else [res]
    if name is not None:
        for o in outs:
            o.name = name
    return outs[0] if single else outs
