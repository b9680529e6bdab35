"""Second derivatives of squares and Hessian-vector products of linear models, taken apart:
the optimized graph computes no power for the derivative of ``x ** c`` with a constant ``c``
(``x ** 1`` is x, ``x ** 0`` is 1), and the values equal numpy's derivatives by hand, NaN and
inf included."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.blas import RowPass


def _steps(f: fc.Function) -> list[str]:
    """The scalar steps of every fused loop of ``f``'s optimized graph, row passes' included."""
    names = []
    for node in f.optimized_graph.toposort():
        ops = [op for op, _ in node.op.nodes] if isinstance(node.op, RowPass) else [node.op]
        for op in ops:
            comp = getattr(op, "composite", None)
            if comp is not None and not callable(comp):
                names += [name for name, _, _ in comp.steps]
    return names


@pytest.mark.parametrize("c", [2, 2.0, 3])
def test_second_derivative_of_a_power_builds_no_power_of_one_or_zero(c: float) -> None:
    x = ft.dvector("x")
    g = fc.grad(ft.sum(x**c), x)
    f = fc.function([x], [g, fc.grad(ft.sum(g), x)])
    assert "pow" not in _steps(f), fc.debugprint(f)
    xv = np.array([-2.5, 0.0, 1.5, np.nan, np.inf, -np.inf])
    with np.errstate(all="ignore"):
        want = [c * xv ** (c - 1), c * (c - 1) * xv ** (c - 2) if c != 2 else np.full(6, 2.0)]
    for got, exp in zip(f(xv), want):
        np.testing.assert_array_equal(got, exp)


def test_derivative_of_a_first_power_is_its_gradient_everywhere() -> None:
    x = ft.dvector("x")
    f = fc.function([x], fc.grad(ft.sum(x**1.0 * 3.0), x))
    np.testing.assert_array_equal(f(np.array([0.0, np.nan, -np.inf, 2.0])), np.full(4, 3.0))


def test_hessian_vector_product_of_a_linear_regression() -> None:
    X, y, v, w = ft.dmatrix("X"), ft.dvector("y"), ft.dvector("v"), ft.dvector("w")
    cost = 0.5 * ft.mean((ft.dot(X, w) - y) ** 2) + 0.005 * ft.sum(w**2)
    g = fc.grad(cost, w)
    f = fc.function([X, y, v, w], [g, fc.grad(ft.sum(g * v), w)])
    assert "pow" not in _steps(f), fc.debugprint(f)
    rng = np.random.default_rng(3)
    Xv, yv, vv, wv = (
        rng.standard_normal((37, 9)),
        rng.standard_normal(37),
        rng.standard_normal(9),
        rng.standard_normal(9),
    )
    got_g, got_hv = f(Xv, yv, vv, wv)
    np.testing.assert_allclose(got_g, Xv.T @ (Xv @ wv - yv) / 37 + 0.01 * wv, rtol=1e-12)
    np.testing.assert_allclose(got_hv, Xv.T @ (Xv @ vv) / 37 + 0.01 * vv, rtol=1e-12)
