"""Test values (Theano/PyTensor's ``config.compute_test_value``): with the flag on, each node
the front end builds is evaluated at once on its inputs' test values (``x.tag.test_value``,
a constant's value, a shared variable's), and its outputs get theirs. A shape error then
raises at graph-building time, at the line that built the node, instead of when a compiled
function runs. README "Configuration".

Inner graphs (a loop's step, the rows of a Jacobian, a loop's gradient) are built on
stand-ins with the flag off; the node running one is evaluated as a whole. So only a graph's
roots are asked for test values: a result that has none (computed where the flag was off)
just leaves the nodes reading it unevaluated."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..config import config

if TYPE_CHECKING:
    from .basic import Apply, Variable

__all__ = ["compute_test_values", "get_test_value"]


def get_test_value(v: "Variable") -> Any:
    """``v``'s test value: a constant's value, a shared variable's, or ``v.tag.test_value``
    converted to ``v``'s type. AttributeError when it has none."""
    data = getattr(v, "data", None)
    if data is not None:  # a constant
        return data
    if v.holds_value:
        return v.get_value(borrow=True)  # type: ignore[attr-defined]
    if v.owner is not None and "test_value" not in v.tag:
        _fill_above(v)
    if "test_value" not in v.tag:
        raise AttributeError(
            f"{v!r} has no test value; set {v!r}.tag.test_value = <an array of type {v.type}>"
        )
    try:
        return v.type.filter(v.tag["test_value"], allow_downcast=True)
    except (TypeError, ValueError) as e:
        raise type(e)(f"the test value of {v!r} does not fit its type: {e}") from None


def compute_test_values(node: "Apply") -> None:
    """Give ``node``'s outputs their test values, as ``config.compute_test_value`` asks: when
    a root it reads has none, nothing ('ignore'), a warning ('warn') or an error ('raise')."""
    values = []
    for k, v in enumerate(node.inputs):
        try:
            values.append(get_test_value(v))
        except AttributeError as e:
            if v.owner is not None:
                return
            msg = f"compute_test_value: input {k} of {node.op}: {e}"
            if config.compute_test_value == "raise":
                raise ValueError(f"{msg} (or set config.compute_test_value to 'ignore' or 'off')") from None
            if config.compute_test_value == "warn":
                warnings.warn(msg, stacklevel=4)
            return
    _evaluate(node, values)


def _fill_above(v: "Variable") -> None:
    """Test values for the nodes ``v`` depends on that were built without them (where the
    flag was off: an inner graph's outer values, a rewrite's nodes) and whose roots have them;
    a node reading a root without one (an inner graph's stand-in) stays without, silently."""
    from .basic import toposort

    for node in toposort([v]):
        if all("test_value" in o.tag for o in node.outputs):
            continue
        try:
            values = [_known(i) for i in node.inputs]
        except AttributeError:
            continue
        _evaluate(node, values)


def _known(v: "Variable") -> Any:
    """``v``'s test value where it has one now (the walk above fills them in order)."""
    if v.owner is not None and "test_value" not in v.tag:
        raise AttributeError(v)
    return get_test_value(v)


def _evaluate(node: "Apply", values: list) -> None:
    try:
        outs = node.op.perform(node, values)
    except Exception as e:
        e.add_note(
            f"(raised computing the test value of {node.op} on inputs of shapes "
            f"{[getattr(a, 'shape', ()) for a in values]}; config.compute_test_value is "
            f"{config.compute_test_value!r})"
        )
        raise
    for o, value in zip(node.outputs, outs):
        o.tag["test_value"] = value
