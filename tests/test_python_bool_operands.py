"""A Python bool where a tensor is expected is refused, as PyTensor's ``as_tensor_variable``
refuses it: ``==`` and ``!=`` between symbolic variables compare identity (variables are hashed
by identity in a graph) and give a Python bool, so ``ft.mean(pred == y)`` would silently be
``mean(False)``. The message names the function and the fix (``ft.eq``/``ft.neq``); the explicit
forms (``ft.eq``, ``np.bool_``, ``ft.constant(True)``, a list of bools) keep numpy's values."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fcutil import assert_same
from fncache import tensor as ft

X = ft.dvector("x")
Y = ft.dvector("y")
XV = np.array([1.0, 2.0, 3.0, 4.0])
YV = np.array([1.0, 0.0, 3.0, 0.0])

#: (what the user called, the call made with the Python bool ``b``): each a place a tensor
#: belongs
MISTAKES: list[tuple[str, Callable[[Any], Any]]] = [
    ("mean", lambda b: ft.mean(b)),
    ("sum", lambda b: ft.sum(b)),
    ("switch", lambda b: ft.switch(b, X, Y)),
    ("where", lambda b: ft.where(b, X, Y)),
    ("switch", lambda b: ft.switch(ft.gt(X, 0), b, Y)),
    ("as_tensor_variable", lambda b: ft.as_tensor_variable(b)),
    ("as_tensor_variable", lambda b: ft.as_tensor_variable(b, ndim=1)),
    ("as_tensor_variable", lambda b: ft.as_tensor_variable([X[0], b])),
    ("stack", lambda b: ft.stack([X[0], b])),
    ("add", lambda b: ft.add(X, b)),
    ("mul", lambda b: X * b),
    ("mul", lambda b: b * X),
    ("logical_and", lambda b: ft.logical_and(ft.gt(X, 0), b)),
    ("maximum", lambda b: ft.maximum(X, b)),
    ("cast", lambda b: ft.cast(b, "int8")),
    ("set_subtensor", lambda b: ft.set_subtensor(X[0], b)),
    ("inc_subtensor", lambda b: ft.inc_subtensor(X[0], b)),
    ("fill", lambda b: ft.fill(X, b)),
    ("alloc", lambda b: ft.alloc(b, 3)),
    ("full", lambda b: ft.full((2,), b)),
    ("zeros_like", lambda b: ft.zeros_like(b)),
    ("clip", lambda b: ft.clip(X, b, 2.0)),
    ("cumsum", lambda b: ft.cumsum(b)),
    ("sort", lambda b: ft.sort(b)),
    ("eq", lambda b: ft.eq(X, b)),
    ("ifelse", lambda b: fc.ifelse(b, X, Y)),
    ("function", lambda b: fc.function([X, Y], b)),
    ("function", lambda b: fc.function([X, Y], [X, b])),
]


def _refused(call: Callable[[], Any], name: str) -> None:
    with pytest.raises(TypeError) as e:
        call()
    msg = str(e.value)
    assert msg.startswith(f"{name}"), msg
    for part in ("Python bool", "==", "identity", "ft.eq(a, b)", "ft.neq(a, b)", "ft.constant("):
        assert part in msg, (part, msg)


@pytest.mark.parametrize("name, call", MISTAKES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MISTAKES)])
def test_a_python_bool_for_a_tensor_is_refused(name: str, call: Callable[[Any], Any]) -> None:
    _refused(lambda: call(X == Y), name)
    _refused(lambda: call(X != Y), name)


def test_a_python_bool_index_names_the_mask_to_write() -> None:
    for key in (X == Y, (X != Y, 0)):
        with pytest.raises(
            TypeError, match=r"index entry 0: a 0-d boolean index.*x\[None\].*==.*ft\.eq\(a, b\)"
        ):
            ft.matrix("m")[key]


def test_comparison_operators_of_variables_are_identity() -> None:
    """As in PyTensor: what the mistakes above start from (and a variable against a number)."""
    assert (X == Y) is False and (X != Y) is True and (X == X) is True
    assert (X == 3) is False and (X != 3) is True
    _refused(lambda: ft.mean(X == 3), "mean")


def test_the_explicit_forms_give_numpys_values() -> None:
    f = fc.function(
        [X, Y],
        [
            ft.mean(ft.eq(X, Y)),
            ft.sum(ft.neq(X, Y)),
            ft.neq(X, Y).sum(),
            ft.switch(ft.eq(X, Y), X, -X),
            ft.where(np.bool_(True), X, Y),
            ft.switch(ft.constant(False), X, Y),
            ft.logical_and(ft.gt(X, 1), np.bool_(True)),
            ft.logical_or(ft.gt(X, 3), ft.as_tensor_variable([True, False, True, False])),
            ft.add(X, np.array(True)),
            ft.sum(X, keepdims=True),
        ],
    )
    want = [
        np.mean(XV == YV),
        np.sum(XV != YV),
        (XV != YV).sum(),
        np.where(XV == YV, XV, -XV),
        np.where(np.bool_(True), XV, YV),
        np.where(False, XV, YV),
        np.logical_and(XV > 1, np.bool_(True)),
        np.logical_or(XV > 3, np.array([True, False, True, False])),
        XV + np.array(True),
        np.sum(XV, keepdims=True),
    ]
    for k, (got, w) in enumerate(zip(f(XV, YV), want)):
        assert_same(got, np.asarray(w), f"output {k}")


def test_python_bools_as_values_and_flags_stay() -> None:
    """A list of Python bools is a bool array (numpy's and PyTensor's ``as_tensor_variable``),
    ``ft.constant`` and ``fc.shared`` take a Python bool (PyTensor's too), and flags stay flags."""
    assert ft.as_tensor_variable([True, False]).dtype == "bool"
    assert ft.as_tensor_variable((True,)).dtype == "bool"
    assert ft.as_tensor_variable([1, True]).dtype == np.asarray([1, True]).dtype
    assert ft.constant(True).data.item() is True
    assert ft.as_tensor_variable(np.bool_(False)).dtype == "bool"
    s = fc.shared(True)
    assert s.dtype == "bool" and s.get_value().item() is True
    assert ft.sum(X, keepdims=True).ndim == 1
