"""Replacing variables of a graph by other expressions: ``fc.clone_replace``,
``fc.graph_replace`` and ``fc.function(..., givens=...)`` share one check and one substitution.

A replacement must have the type of the variable it stands for: the same dtype and number of
dimensions (nothing is cast silently: a float32 batch standing for a float64 ``x`` would change
every result), and no static size that contradicts the variable's. A static size the variable
declares and the replacement does not is checked when the function runs (`specify_shape`), so
the ops that rely on it (a broadcastable dimension) stay right. PyTensor's
``rebuild_strict=False`` lifts the first rule: a replacement of another dtype or number of
dimensions is taken, and the nodes that read it are made again by their ops, so their types
follow the new one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.args import pairs_arg
from ..graph.basic import Apply, Constant, Variable, ancestors, substitute
from .basic import as_tensor_variable

__all__ = [
    "clone",
    "clone_replace",
    "graph_replace",
    "replacement_map",
    "fit_static_shape",
    "fit_update",
    "remake",
]


def fit_static_shape(want: tuple[int | None, ...], expr: Variable, what: str) -> Variable:
    """``expr`` standing where a value of static shape ``want`` is expected: a contradicting
    static size is refused now, an unknown one checked at run time (``what`` names the place
    in both errors: the check's ``made_by``)."""
    if all(s is None for s in want):
        return expr
    fix = "give one of those sizes"
    if any(w is not None and h is not None and w != h for w, h in zip(want, expr.type.shape)):
        raise ValueError(f"{what} {expr.type.shape}; {fix}")
    if all(w is None or w == h for w, h in zip(want, expr.type.shape)):
        return expr
    from .array_ops import specify_shape

    out = specify_shape(expr, tuple(w if w is not None else h for w, h in zip(want, expr.type.shape)))
    out.owner.tag["made_by"] = (what, fix)
    return out


def fit_update(sv: Any, expr: Any, what: str) -> Variable:
    """``expr``, the new value of the shared variable ``sv``, fitted to its type: the same
    number of dimensions, a dtype of the same kind cast, a static size ``sv`` declares checked
    when the function runs (a contradicting one refused now). The one rule of every update:
    ``fc.function``'s, a variable's own ``default_update`` and a loop step's (``what`` names
    them in errors: "updates", "default_update", "scan: fn's updates")."""
    from ..graph.types import TensorType
    from .shared import SharedVariable

    if not isinstance(sv, SharedVariable):
        raise TypeError(f"{what}: {sv!r} is not a shared variable (make it with fc.shared)")
    if not isinstance(sv.type, TensorType):  # a sparse matrix: an update of its very type
        if not isinstance(expr, Variable) or expr.type != sv.type:
            got = expr.type if isinstance(expr, Variable) else type(expr).__name__
            raise TypeError(
                f"{what}: {sv!r} holds a {sv.type}; its update must be a symbolic sparse matrix of "
                f"that type, got {got} (fncache.sparse.cast or csr_from_dense/csc_from_dense convert)"
            )
        return expr
    expr = as_tensor_variable(expr)
    if expr.ndim != sv.ndim:
        raise TypeError(
            f"{what}: {sv!r} is a {sv.type} ({sv.ndim} dims) but its update {expr!r} is a "
            f"{expr.type} ({expr.ndim} dims); reshape or dimshuffle the update to {sv.ndim} dims"
        )
    if expr.dtype != sv.dtype:
        if not np.can_cast(expr.dtype, sv.dtype, "same_kind"):
            raise TypeError(
                f"{what}: {sv!r} is {sv.dtype} but its update is {expr.dtype}; "
                f"cast the expression with ft.cast(expr, '{sv.dtype}')"
            )
        from .elemwise import cast

        expr = cast(expr, sv.dtype)
    return fit_static_shape(
        sv.type.shape, expr, f"{what}: {sv!r} has static shape {sv.type.shape}, its update"
    )


def replacement_map(replace: Any, what: str = "replace", strict: bool = True) -> dict[Variable, Variable]:
    """``replace`` (a dict or (variable, expression) pairs) checked: each key a symbolic,
    non-constant variable, each value an expression of the key's type (see the module's doc),
    or with ``strict=False`` (PyTensor's ``rebuild_strict=False``) of any dtype and number of
    dimensions, the graph then rebuilt on it (:func:`~fncache.graph.basic.substitute`).
    ``what`` names the argument in errors ("givens", "clone_replace: replace")."""
    out: dict[Variable, Variable] = {}
    for key, value in pairs_arg(replace, what):
        if not isinstance(key, Variable) or isinstance(key, Constant):
            raise TypeError(
                f"{what}: a key must be a symbolic variable (an input such as ft.matrix('x') or a "
                f"shared variable), got {type(key).__name__} {key!r}"
            )
        if key in out:
            raise ValueError(f"{what}: {key!r} is replaced twice")
        try:
            new = as_tensor_variable(value)
        except Exception as e:
            raise TypeError(f"{what}: the replacement of {key!r} is not an expression: {e}") from None
        if strict and (new.ndim != key.ndim or new.dtype != key.dtype):
            fix = (
                f"cast it with ft.cast(expr, '{key.dtype}')"
                if new.ndim == key.ndim
                else "reshape or dimshuffle it to that number of dimensions"
            )
            raise TypeError(
                f"{what}: {key!r} has type {key.type!r} but its replacement {new!r} has type "
                f"{new.type!r}; a replacement needs the same dtype and number of dimensions "
                f"(or rebuild_strict=False, which rebuilds the graph on the new type): {fix}"
            )
        out[key] = (
            fit_static_shape(
                key.type.shape, new, f"{what}: {key!r} has static shape {key.type.shape}, its replacement"
            )
            if new.ndim == key.ndim
            else new
        )
    return out


def _replayed(composite: Any, inputs: list[Variable]) -> list[Variable]:
    """An elementwise body's steps applied anew by the front end to ``inputs``: each step's
    dtype follows its new inputs (numpy's promotion, Python numbers weak as when the
    expression was written), a cast keeps its target."""
    from .elemwise import cast, elemwise

    # a Python number of the expression (x * 2) takes its dtype from the new operands again
    given = [v.tag.get("weak_number", v) if isinstance(v, Constant) else v for v in inputs]
    done: list[Any] = []
    for name, refs, dtype in composite.steps:
        args = [given[k] if where == "in" else done[k] for where, k in refs]
        done.append(cast(args[0], dtype) if name.startswith("cast:") else elemwise(name, *args))
    return [done[j] for j in composite.outputs]


def remake(node: Apply, inputs: list[Variable]) -> list[Variable]:
    """The outputs of ``node``'s computation on ``inputs``, some of another dtype or number of
    dimensions than the node's own (``rebuild_strict=False``): elementwise ops are built again
    by the front end, a reduction that keeps its input's dtype keeps the new one (of as many
    dimensions: its axes are numbers), and the ops
    whose outputs follow their inputs' types are made again by their ``make_node``. Any other
    op is refused (``TypeError``): it was built for its inputs' dtypes."""
    from .array_ops import SpecifyShape
    from .blas import Dot
    from .elemwise import Elemwise
    from .pyop import CheckAndRaise
    from .reduction import ArgReduce, Reduce
    from .shape_ops import Concatenate, DimShuffle, Reshape, Shape
    from .subtensor import Subtensor

    op = node.op
    try:
        if isinstance(op, Elemwise):
            return _replayed(op.composite, inputs)
        old = node.inputs[0]
        if (
            isinstance(op, Reduce)
            and op.pre is None
            and op.out_dtype == old.dtype
            and inputs[0].ndim == old.ndim
        ):
            kept = Reduce(op.kind, op.axes, inputs[0].dtype, None, op.ddof, op.acc_dtype)
            return kept.make_node(*inputs).outputs
        following = (
            DimShuffle,
            Subtensor,
            Reshape,
            Shape,
            Dot,
            Concatenate,
            ArgReduce,
            SpecifyShape,
            CheckAndRaise,
        )
        if isinstance(op, following):
            return op.make_node(*inputs).outputs
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"rebuild_strict=False: {op} cannot take inputs of types {[v.type for v in inputs]}: {e}"
        ) from e
    was = [v.type for v in node.inputs]
    raise TypeError(
        f"rebuild_strict=False: {op} was built for inputs of types {was} and cannot be rebuilt "
        f"on {[v.type for v in inputs]} (fncache rebuilds elementwise ops, reductions that keep "
        "their input's dtype, dimshuffles, indexing, reshapes, shapes, dot, concatenate and "
        "checks); cast the replacement to the type it replaces, or build the expression on the "
        "new variable"
    )


def _apply(outputs: Any, mapping: dict[Variable, Variable], rebuild: bool = False) -> Any:
    single = not isinstance(outputs, (list, tuple))
    outs = [as_tensor_variable(o) for o in ([outputs] if single else outputs)]
    new = substitute(outs, mapping, remake if rebuild else None)
    return new[0] if single else new


def _strict_flag(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def clone_replace(output: Any, replace: Any = None, *, rebuild_strict: bool = True) -> Any:
    """``output`` (a variable or a list) with the variables of ``replace`` (a dict or pairs)
    replaced by the given expressions; the replacements themselves are taken as they are.
    The parts of the graph that do not depend on a replaced variable are shared, not copied
    (graphs are never changed in place, so sharing them is safe). ``rebuild_strict=False``
    (PyTensor's) takes a replacement of another dtype or number of dimensions and makes the
    nodes that read it again, so their types follow (a float64 stand-in for a float32 ``x``
    makes ``exp(x)`` float64)."""
    strict = _strict_flag(rebuild_strict, "clone_replace: rebuild_strict")
    return _apply(output, replacement_map(replace, "clone_replace: replace", strict), not strict)


def graph_replace(outputs: Any, replace: Any = None, *, strict: bool = True) -> Any:
    """As :func:`clone_replace`; with ``strict`` (the default) a key that ``outputs`` do not
    depend on is an error rather than ignored."""
    mapping = replacement_map(replace, "graph_replace: replace")
    if strict and mapping:
        single = not isinstance(outputs, (list, tuple))
        used = {id(v) for v in ancestors([as_tensor_variable(o) for o in ([outputs] if single else outputs)])}
        unused = [k for k in mapping if id(k) not in used]
        if unused:
            raise ValueError(
                f"graph_replace: the outputs do not depend on {unused}; remove those keys or "
                "pass strict=False"
            )
    return _apply(outputs, mapping)


def clone(output: Any, replace: Any = None, strict: bool = True, share_inputs: bool = True) -> Any:
    """Theano's ``theano.clone``: :func:`clone_replace`, and with ``share_inputs=False`` the
    graph's inputs (not its constants or shared variables) are replaced by new variables of the
    same types and names too, so the copy reads none of the original's inputs. ``strict`` is
    Theano's ``rebuild_strict``: False takes a replacement of another type and rebuilds the
    nodes that read it."""
    strict = _strict_flag(strict, "clone: strict")
    mapping = replacement_map(replace, "clone: replace", strict)
    if not share_inputs:
        single = not isinstance(output, (list, tuple))
        outs = [as_tensor_variable(o) for o in ([output] if single else output)]
        for v in ancestors(outs, blockers=list(mapping)):
            if v.owner is None and v not in mapping and not isinstance(v, Constant) and not v.holds_value:
                mapping[v] = v.clone()
    return _apply(output, mapping, not strict)
