"""A fused loop's inputs that do not broadcast raise an error naming the op the user wrote
(the step of the loop whose operands do not broadcast, or the user's op the loop was made
from where a shape-only input sets the size) and each named input of the mismatched axis, as
the unfused graph's does: not the loop's internal first step (``identity``) or its whole body
(``Composite{add,exp,mul}``)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

MODES = ["FAST_RUN", "FAST_COMPILE"]


def _hvp() -> tuple[list, list, list[np.ndarray]]:
    """A gradient and a Hessian-vector product without the cost among the outputs: in FAST_RUN
    the check of ``g * v`` is a loop broadcasting ``v`` like ``w``, the size of ``g``."""
    X = ft.dmatrix("X")
    w, v = ft.dvectors("w", "v")
    y = ft.dvector("y")
    g = fc.grad(0.5 * ((X @ w - y) ** 2).mean() + 0.005 * (w**2).sum(), w)
    r = np.random.default_rng(0)
    return (
        [X, y, w, v],
        [g, fc.grad((g * v).sum(), w)],
        [r.random((4, 5)), r.random(4), r.random(5), r.random(6)],
    )


def _chain() -> tuple[list, list, list[np.ndarray]]:
    """One fused loop ``exp(a + b) * c``; ``b`` is one element too long for ``a``."""
    a, b, c = ft.dvectors("a", "b", "c")
    return [a, b, c], [ft.exp(a + b) * c], [np.ones(5), np.ones(6), np.ones(5)]


def _reduction() -> tuple[list, list, list[np.ndarray]]:
    """A row sum broadcast against ``c``, one element too long for M's rows."""
    M = ft.dmatrix("M")
    c = ft.dvector("c")
    return [M, c], [M.sum(axis=1) * c + 1], [np.ones((4, 5)), np.ones(5)]


def _reduced_body() -> tuple[list, list, list[np.ndarray]]:
    """A sum whose loop body is ``(a - b) ** 2``."""
    a, b = ft.dvectors("a", "b")
    return [a, b], [((a - b) ** 2).sum()], [np.ones(3), np.ones(2)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("graph", "op", "named", "size"),
    [
        (_hvp, "mul", "v", 5),
        (_chain, "add", "b", 5),
        (_reduction, "mul", "c", 4),
        (_reduced_body, "sub", "a", 2),
    ],
    ids=["hvp", "chain", "reduction", "reduced_body"],
)
def test_a_fused_loop_size_error_names_the_users_op_and_input(
    graph: Callable[[], tuple[list, list, list[np.ndarray]]], op: str, named: str, size: int, mode: str
) -> None:
    ins, outs, values = graph()
    f = fc.function(ins, outs, mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(*values)
    message = str(info.value)
    assert message.startswith(f"{op}: "), message
    assert "identity" not in message and "Composite" not in message, message
    assert f" {named} " in message and "along axis" in message, message
    # the named input is the one at fault: given the size of the others, the function runs
    fixed = [x[:size] if i.name == named else x for i, x in zip(ins, values)]
    assert all(np.isfinite(o).all() for o in f(*fixed))


@pytest.mark.parametrize("mode", MODES)
def test_a_size_error_names_this_functions_inputs_on_a_cache_hit(mode: str) -> None:
    """Names are not in a function's key: an entry another function stored for the same graph
    under other names is hit, and the error still names this function's inputs."""
    x, y = ft.dvectors("x", "y")
    fc.function([x, y], [((x - y) ** 2).sum() * 3.5], mode=mode)
    a, b = ft.dvectors("a", "b")
    f = fc.function([a, b], [((a - b) ** 2).sum() * 3.5], mode=mode)
    with pytest.raises(ValueError, match="cannot be broadcast together") as info:
        f(np.ones(3), np.ones(2))
    message = str(info.value)
    assert " a has size 3" in message and " b has size 2" in message, message
    assert " x " not in message and " y " not in message, message
