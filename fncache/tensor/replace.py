"""Replacing variables of a graph by other expressions: ``fc.clone_replace``,
``fc.graph_replace`` and ``fc.function(..., givens=...)`` share one check and one substitution.

A replacement must have the type of the variable it stands for: the same dtype and number of
dimensions (nothing is cast silently: a float32 batch standing for a float64 ``x`` would change
every result), and no static size that contradicts the variable's. A static size the variable
declares and the replacement does not is checked when the function runs (`specify_shape`), so
the ops that rely on it (a broadcastable dimension) stay right.
"""

from __future__ import annotations

from typing import Any

from ..graph.args import pairs_arg
from ..graph.basic import Constant, Variable, ancestors, substitute
from .basic import as_tensor_variable

__all__ = ["clone", "clone_replace", "graph_replace", "replacement_map", "fit_static_shape"]


def fit_static_shape(want: tuple[int | None, ...], expr: Variable, what: str) -> Variable:
    """``expr`` standing where a value of static shape ``want`` is expected: a contradicting
    static size is refused now (``what`` names the place), an unknown one checked at run time."""
    if all(s is None for s in want):
        return expr
    if any(w is not None and h is not None and w != h for w, h in zip(want, expr.type.shape)):
        raise ValueError(f"{what} {expr.type.shape}; give one of those sizes")
    if all(w is None or w == h for w, h in zip(want, expr.type.shape)):
        return expr
    from .array_ops import specify_shape

    return specify_shape(expr, tuple(w if w is not None else h for w, h in zip(want, expr.type.shape)))


def replacement_map(replace: Any, what: str = "replace") -> dict[Variable, Variable]:
    """``replace`` (a dict or (variable, expression) pairs) checked: each key a symbolic,
    non-constant variable, each value an expression of the key's type (see the module's doc).
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
        if new.ndim != key.ndim or new.dtype != key.dtype:
            fix = (
                f"cast it with ft.cast(expr, '{key.dtype}')"
                if new.ndim == key.ndim
                else "reshape or dimshuffle it to that number of dimensions"
            )
            raise TypeError(
                f"{what}: {key!r} has type {key.type!r} but its replacement {new!r} has type "
                f"{new.type!r}; a replacement needs the same dtype and number of dimensions: {fix}"
            )
        out[key] = fit_static_shape(
            key.type.shape, new, f"{what}: {key!r} has static shape {key.type.shape}, its replacement"
        )
    return out


def _apply(outputs: Any, mapping: dict[Variable, Variable]) -> Any:
    single = not isinstance(outputs, (list, tuple))
    outs = [as_tensor_variable(o) for o in ([outputs] if single else outputs)]
    new = substitute(outs, mapping)
    return new[0] if single else new


def clone_replace(output: Any, replace: Any = None) -> Any:
    """``output`` (a variable or a list) with the variables of ``replace`` (a dict or pairs)
    replaced by the given expressions; the replacements themselves are taken as they are.
    The parts of the graph that do not depend on a replaced variable are shared, not copied
    (graphs are never changed in place, so sharing them is safe)."""
    return _apply(output, replacement_map(replace, "clone_replace: replace"))


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
    accepted for Theano's signature: a replacement must have its key's dtype and number of
    dimensions either way (fncache casts nothing silently)."""
    del strict  # every replacement is checked as clone_replace checks it
    mapping = replacement_map(replace, "clone: replace")
    if not share_inputs:
        single = not isinstance(output, (list, tuple))
        outs = [as_tensor_variable(o) for o in ([output] if single else output)]
        for v in ancestors(outs, blockers=list(mapping)):
            if v.owner is None and v not in mapping and not isinstance(v, Constant) and not v.holds_value:
                mapping[v] = v.clone()
    return _apply(output, mapping)
