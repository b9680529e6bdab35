"""What a Theano or PyTensor script meets on its first day with ``import fncache as theano``:
each case is built the same way with either library and its values are compared with numpy's
and with PyTensor 3.0.7's answer, recorded here (the CI does not install PyTensor; where it is
installed, a test checks the record against it). Where fncache answers otherwise on purpose,
the case says so with the words of docs/porting.md.

- ``grad(cost, wrt, known_grads={v: g})``: ``g`` is ``v``'s whole gradient, as in Theano and
  PyTensor, not added to what the cost sends back through ``v``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
import fncache.gradient as fg
import fncache.tensor as ft

X = np.array([1.0, 2.0, 3.0])
PY = fc.Mode(linker="py")


def _cases(lib: SimpleNamespace) -> dict[str, tuple[Callable[[], Any], list]]:
    """Each case: (a builder of ``(inputs, outputs)`` with ``lib``, the inputs' values). ``L``:
    the top module, ``T``: its tensor module, ``G``: its gradient module."""
    L, T, G = lib.L, lib.T, lib.G
    x = T.dvector("x")
    y = x**2
    c = (y * 3).sum()

    def known(cost: Any, wrt: Any, given: dict) -> Callable[[], Any]:
        return lambda: ([x], L.grad(cost, wrt, known_grads=given))

    return {
        # known_grads: the gradient given for a variable is all of it
        "known_grads and a cost through it": (
            known(y.sum() + x.sum(), x, {y: 2 * T.ones_like(y)}),
            [X],
        ),
        "known_grads of a chain": (known(None, x, {y: T.ones_like(y), y * 3: T.ones_like(y)}), [X]),
        "known_grads asked for": (known((y * 3).sum(), [x, y], {y: T.ones_like(y)}), [X]),
        "known_grads disconnected on the cost's path": (
            known((y * 3).sum() + x.sum(), x, {y: G.DisconnectedType()()}),
            [X],
        ),
        "known_grads of the cost and a variable": (
            known(c, x, {c: 2 * T.ones_like(c), y: T.ones_like(y)}),
            [X],
        ),
    }


def _numpy_answers() -> dict[str, Any]:
    """The gradients by hand: a known gradient replaces the cost's."""
    return {
        "known_grads and a cost through it": 2 * 2 * X + 1,
        "known_grads of a chain": 2 * X,
        "known_grads asked for": [2 * X, np.ones(3)],
        "known_grads disconnected on the cost's path": np.ones(3),
        "known_grads of the cost and a variable": 2 * X,
    }


#: PyTensor 3.0.7's values (FAST_RUN), rounded to 12 digits: the same as numpy's above.
RECORDED = {
    "known_grads and a cost through it": [5.0, 9.0, 13.0],
    "known_grads of a chain": [2.0, 4.0, 6.0],
    "known_grads asked for": [[2.0, 4.0, 6.0], [1.0, 1.0, 1.0]],
    "known_grads disconnected on the cost's path": [1.0, 1.0, 1.0],
    "known_grads of the cost and a variable": [2.0, 4.0, 6.0],
}

FNCACHE = SimpleNamespace(L=fc, T=ft, G=fg)


def _values(lib: SimpleNamespace, name: str, **function_args: Any) -> Any:
    build, args = _cases(lib)[name]
    inputs, outputs = build()
    out = lib.L.function(inputs, outputs, on_unused_input="ignore", **function_args)(*args)
    return [np.asarray(o).tolist() for o in out] if isinstance(out, list) else np.asarray(out).tolist()


def _close(a: Any, b: Any) -> bool:
    """Equal values, each a list of results of several shapes or one result."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except ValueError:  # results of several shapes
        return len(a) == len(b) and all(_close(u, v) for u, v in zip(a, b))
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_gradient_is_numpys_and_pytensors(name: str) -> None:
    got = _values(FNCACHE, name, mode=PY)
    expected = _numpy_answers()[name]
    assert not np.isnan(np.hstack([np.ravel(g) for g in (got if isinstance(got, list) else [got])])).any()
    assert _close(got, expected), (name, got, expected)
    assert _close(got, RECORDED[name]), (name, got, RECORDED[name])


def test_compiled_gradients_are_the_same() -> None:
    """The C linker's values for a few of the cases (the rest run numpy's code above)."""
    for name in ("known_grads and a cost through it", "known_grads of a chain"):
        assert _close(_values(FNCACHE, name), RECORDED[name]), name


def test_lop_of_outputs_that_depend_on_each_other_sums_them() -> None:
    """``Lop([y, y.sum()], x, [v, 1])`` is the vector-Jacobian product of both outputs (README
    "Gradients": ``sum_i eval_points[i] . d f[i]/d w``); PyTensor's, made with ``known_grads``,
    keeps only ``y``'s (``[2, 4, 6]`` here): docs/porting.md says so."""
    x = ft.dvector("x")
    y = x**2
    g = fc.Lop([y, y.sum()], x, [ft.ones_like(y), ft.constant(1.0)])
    assert np.array_equal(fc.function([x], g, mode=PY)(X), 2 * X * 2)


def test_record_is_pytensors() -> None:
    """The record against the installed PyTensor (skipped where it is not)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.gradient as pg
    import pytensor.tensor as pt

    lib = SimpleNamespace(L=pytensor, T=pt, G=pg)
    for name, recorded in RECORDED.items():
        assert _close(_values(lib, name), recorded), name
