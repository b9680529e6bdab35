"""Every argument given as a dict or as a sequence of (key, value) pairs (a function's
``updates`` and ``givens``, ``clone_replace``'s, ``graph_replace``'s, ``clone``'s and
``vectorize_graph``'s ``replace``) takes both spellings alike and refuses anything else with
one message naming the argument and what was given."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

x, y = ft.dvector("x"), ft.dvector("y")
s = fc.shared(np.zeros(3), name="s")
X = ft.dmatrix("X")

#: (the argument as its errors name it, a call that passes the argument ``value``)
USERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("updates", lambda value: fc.function([x], x, updates=value)),
    ("givens", lambda value: fc.function([y], x + y, givens=value)),
    ("clone_replace: replace", lambda value: fc.clone_replace(x * 2, replace=value)),
    ("graph_replace: replace", lambda value: fc.graph_replace(x * 2, replace=value)),
    ("clone: replace", lambda value: fc.clone(x * 2, replace=value)),
    ("vectorize_graph: replace", lambda value: ft.vectorize_graph(x * 2, replace=value)),
]
IDS = [u[0] for u in USERS]

BAD: list[tuple[Any, str]] = [
    (5, r"got int 5$"),
    ("xy", r"got str 'xy'$"),
    ([x], r"got x at position 0 of list$"),
    ([(x, y, y)], r"got \(x, y, y\) at position 0 of list$"),
    (((x, y), 3), r"got 3 at position 1 of tuple$"),
]


@pytest.mark.parametrize("what,call", USERS, ids=IDS)
@pytest.mark.parametrize("value,given", BAD, ids=["int", "str", "not_a_pair", "a_triple", "second_bad"])
def test_bad_pairs_name_the_argument_and_what_was_given(
    what: str, call: Callable[[Any], Any], value: Any, given: str
) -> None:
    form = r" must be a dict \{\w[\w ]*: \w[\w ]*\} or a sequence of \(\w[\w ]*, \w[\w ]*\) pairs, "
    with pytest.raises(TypeError, match="^" + what.replace("(", r"\(") + form + given):
        call(value)


def _value(out: Any, given: dict) -> np.ndarray:
    return fc.function(list(given), out, mode=fc.Mode(linker="py"))(*given.values())


@pytest.mark.parametrize("spelling", ["dict", "list", "tuple", "mapping", "generator"])
def test_every_spelling_of_pairs_gives_the_same_replacement(spelling: str) -> None:
    pairs = [(x, y * 3)]
    value = {
        "dict": dict(pairs),
        "list": pairs,
        "tuple": tuple(pairs),
        "mapping": MappingProxyType(dict(pairs)),
        "generator": (p for p in pairs),
    }[spelling]
    assert np.array_equal(_value(fc.clone_replace(x + 1, replace=value), {y: np.arange(3.0)}), [1, 4, 7])


@pytest.mark.parametrize("spelling", ["dict", "ordered", "list", "none"])
def test_every_spelling_of_updates_is_taken(spelling: str) -> None:
    value = {"dict": {s: s + x}, "ordered": OrderedDict([(s, s + x)]), "list": [[s, s + x]], "none": None}[
        spelling
    ]
    s.set_value(np.zeros(3))
    fc.function([x], x, updates=value, mode=fc.Mode(linker="py"))(np.ones(3))
    assert np.array_equal(s.get_value(), np.zeros(3) if value is None else np.ones(3))


def test_vectorize_graph_takes_pairs_and_a_dict_alike() -> None:
    out = ft.exp(x) + 1
    a = ft.vectorize_graph(out, replace={x: X})
    b = ft.vectorize_graph(out, replace=[(x, X)])
    vals = np.arange(6.0).reshape(2, 3) / 4
    assert np.array_equal(_value(a, {X: vals}), _value(b, {X: vals}))
    assert np.allclose(_value(a, {X: vals}), np.exp(vals) + 1)
