"""``zeros_like``/``ones_like``/``full_like`` of a computed value: numpy computes its operand,
so an error computing it is raised (a 0-d value's too); where computing it cannot raise, its
sizes come from the values it is computed from and its data is not computed."""

from __future__ import annotations

import numpy as np
import pytest
from fcutil import MODES, assert_same

import fncache as fc
import fncache.tensor as ft
from fncache.tensor.elemwise import Elemwise
from fncache.tensor.reduction import Reduce

LIKES = {
    "zeros_like": (lambda v: ft.zeros_like(v), np.zeros_like),
    "ones_like": (lambda v: ft.ones_like(v, dtype="int32"), lambda a: np.ones_like(a, dtype="int32")),
    "full_like": (lambda v: ft.full_like(v, 2.5), lambda a: np.full_like(a, 2.5)),
}


def _computes(f, kind: type) -> bool:
    return any(isinstance(n.op, kind) for n in f.maker.fgraph.toposort())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("like", sorted(LIKES))
def test_operand_errors_are_raised(like: str, mode: str) -> None:
    build, np_like = LIKES[like]
    x, y = ft.dvectors("x", "y")
    i, j = ft.lscalars("i", "j")
    s = ft.dscalar("s")
    outs = [
        build(ft.sum(x + y)),  # a 0-d value whose computation checks sizes
        build(x + y),
        build(i**j),  # an integer power raises for a negative exponent
        build(ft.assert_op(s, ft.gt(s, 0), "s must be positive")),
    ]
    fs = [fc.function([x, y, i, j, s], o, mode=mode, on_unused_input="ignore") for o in outs]
    ok = (np.ones(3), np.ones(3), 2, 3, 1.0)
    wants = [np_like(np.sum(ok[0] + ok[1])), np_like(ok[0] + ok[1]), np_like(np.int64(2) ** 3), np_like(1.0)]
    for f, want in zip(fs, wants):
        assert_same(f(*ok), want, like)
    with pytest.raises(ValueError, match="broadcast"):
        fs[0](np.ones(3), np.ones(4), 2, 3, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        fs[1](np.ones(3), np.ones(4), 2, 3, 1.0)
    with pytest.raises(ValueError, match="negative"):
        fs[2](np.ones(3), np.ones(3), 2, -1, 1.0)
    with pytest.raises(AssertionError, match="s must be positive"):
        fs[3](np.ones(3), np.ones(3), 2, 3, -1.0)


@pytest.mark.parametrize("mode", MODES)
def test_sizes_without_computing_data(mode: str) -> None:
    """Values that cannot raise are not computed: their sizes come from their inputs."""
    x = ft.dvector("x")
    m = ft.dmatrix("m")
    s = ft.dscalar("s")
    row = ft.tensor("row", "float64", shape=(1, None))
    col = ft.tensor("col", "float64", shape=(None, 1))
    cases = {
        "0-d": (ft.ones_like(ft.exp(s) * 2), lambda xv, mv, sv, rv, cv: np.ones_like(np.exp(sv) * 2)),
        "vector": (
            ft.full_like(ft.exp(x) + 1, 3),
            lambda xv, mv, sv, rv, cv: np.full_like(np.exp(xv) + 1, 3),
        ),
        "matrix, a reduction": (
            ft.zeros_like(ft.sum(ft.exp(m), axis=0) * s),
            lambda xv, mv, sv, rv, cv: np.zeros_like(np.sum(np.exp(mv), axis=0) * sv),
        ),
        "a broadcast row": (
            ft.zeros_like(ft.exp(row) * s + col),
            lambda xv, mv, sv, rv, cv: np.zeros_like(np.exp(rv) * sv + cv),
        ),
        "transposed": (ft.ones_like(ft.exp(m).T), lambda xv, mv, sv, rv, cv: np.ones_like(np.exp(mv).T)),
    }
    f = fc.function([x, m, s, row, col], [o for o, _ in cases.values()], mode=mode, on_unused_input="ignore")
    assert not any(
        isinstance(n.op, Elemwise) and any(st[0] == "exp" for st in n.op.composite.steps)
        for n in f.maker.fgraph.toposort()
    ), "a value only sized was computed"
    assert not _computes(f, Reduce)
    args = (np.arange(3.0), np.ones((2, 3)), 0.5, np.ones((1, 2)), np.ones((4, 1)))
    for (name, (_, want)), got in zip(cases.items(), f(*args)):
        assert_same(got, want(*args), name)


def test_static_shapes_kept() -> None:
    x = ft.tensor("x", "float64", shape=(None, 4))
    y = ft.tensor("y", "float64", shape=(3, 1))
    assert ft.zeros_like(x + y).type.shape == (3, 4)
    assert ft.ones_like(ft.sum(x + y)).type.shape == ()
    assert ft.full_like(ft.exp(x), 1).type.shape == (None, 4)
