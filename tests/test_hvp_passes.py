"""Second derivatives of squares and Hessian-vector products of linear models, taken apart:
the optimized graph computes no power for the derivative of ``x ** c`` with a constant ``c``
(``x ** 1`` is x, ``x ** 0`` is 1); a gradient and a Hessian-vector product of a linear model
are one pass over X (`rowpass_merge`: a `RowPass` of two products), not where the second
product's vector waits for the first's result; the values equal numpy's derivatives by hand
(NaN and inf included), and the unmerged graph's on the fallback paths (rows numpy
broadcasts, the Python linker, strided X, threads)."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.blas import Dot, RowPass

UNMERGED = fc.Mode().excluding("rowpass_merge")
LAM = 0.01


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


def _hvp(dtype: str = "float64") -> tuple[list, list]:
    """Inputs and [cost, gradient, Hessian-vector product] of an L2-regularised least squares."""
    X, y, v, w = ft.matrix("X", dtype), ft.vector("y", dtype), ft.vector("v", dtype), ft.vector("w", dtype)
    cost = 0.5 * ft.mean((ft.dot(X, w) - y) ** 2) + 0.5 * LAM * ft.sum(w**2)
    g = fc.grad(cost, w)
    return [X, y, v, w], [cost, g, fc.grad(ft.sum(g * v), w)]


def _hvp_ref(X, y, v, w) -> list:
    m = X.shape[0]
    r = X @ w - y
    return [0.5 * np.mean(r**2) + 0.5 * LAM * w @ w, X.T @ r / m + LAM * w, X.T @ (X @ v) / m + LAM * v]


def _hvp_data(m: int, n: int, dtype: str = "float64", seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in ((m, n), (m,), (n,), (n,))]


def _passes(f: fc.Function) -> list[int]:
    return [n.op.products for n in f.optimized_graph.toposort() if isinstance(n.op, RowPass)]


@pytest.mark.filterwarnings("ignore:.*Mean of empty slice")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m,n", [(0, 4), (1, 1), (7, 3), (130, 33), (401, 65)])
def test_gradient_and_hessian_vector_product_are_one_pass(dtype: str, m: int, n: int) -> None:
    ins, outs = _hvp(dtype)
    f, u = fc.function(ins, outs), fc.function(ins, outs, mode=UNMERGED)
    assert _passes(f) == [2] and Dot not in [type(n.op) for n in f.optimized_graph.toposort()], fc.debugprint(
        f
    )
    assert _passes(u) == [1, 1]
    args = _hvp_data(m, n, dtype)
    got, unmerged = f(*args), u(*args)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    for a, b in zip(got, unmerged):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, **tol)
    if m:  # a mean over no rows is NaN in both graphs
        for a, b in zip(got, _hvp_ref(*(x.astype("float64") for x in args))):
            np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("layout", ["strided", "transposed"])
def test_one_pass_on_strided_and_transposed_x(layout: str) -> None:
    f = fc.function(*_hvp())
    X, y, v, w = _hvp_data(37, 21)
    big = np.random.default_rng(1).standard_normal((80, 70))
    X = big[::2, 1::3][:37, :21] if layout == "strided" else np.asfortranarray(X)
    for a, b in zip(f(X, y, v, w), _hvp_ref(X, y, v, w)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_one_pass_on_two_threads_gives_the_same_bits_every_call() -> None:
    args = _hvp_data(1100, 40)
    with fc.config.change_flags(threads=2):
        f = fc.function(*_hvp())
        first = f(*args)
        for _ in range(3):
            for a, b in zip(f(*args), first):
                np.testing.assert_array_equal(a, b)
    for a, b in zip(first, _hvp_ref(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_rows_numpy_broadcasts_and_the_python_linker_run_the_unmerged_semantics() -> None:
    """One label for five rows (the C step hands the node to its perform), a vector ``v`` of
    length 1 (broadcast against the gradient, whose shape the product keeps), and the Python
    linker: each as the unmerged graph computes it."""
    ins, outs = _hvp()
    u = fc.function(ins, outs, mode=UNMERGED)
    X, y, v, w = _hvp_data(5, 4)
    for f in (fc.function(ins, outs), fc.function(ins, outs, mode=fc.Mode(linker="py"))):
        assert _passes(f) == [2]
        for args in ([X, y[:1], v, w], [X, y, v[:1], w], [X, y, v, w]):
            got, want = f(*args), u(*args)
            for a, b in zip(got, want):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(f(X, y, v[:1], w)[2], _hvp_ref(X, y, np.repeat(v[:1], 4), w)[2], rtol=1e-12)
    with pytest.raises(ValueError):
        f(X, y[:3], v, w)


def test_a_pass_whose_vector_waits_for_the_first_is_not_merged() -> None:
    """Two steps of gradient descent: the second gradient is at ``w - g``, which needs the
    whole first pass."""
    X, y, w = ft.dmatrix("X"), ft.dvector("y"), ft.dvector("w")
    g1 = fc.grad(0.5 * ft.sum((ft.dot(X, w) - y) ** 2), w)
    w2 = w - 0.01 * g1
    g2 = fc.grad(0.5 * ft.sum((ft.dot(X, w2) - y) ** 2), w2)
    f = fc.function([X, y, w], [g1, g2])
    assert _passes(f) == [1, 1], fc.debugprint(f)
    Xv, yv, _, wv = _hvp_data(20, 6)
    want1 = Xv.T @ (Xv @ wv - yv)
    want2 = Xv.T @ (Xv @ (wv - 0.01 * want1) - yv)
    for a, b in zip(f(Xv, yv, wv), (want1, want2)):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("m", [23, 1])
def test_three_models_on_one_x_are_one_pass_of_three_products(m: int) -> None:
    """Products two at a time, then one; rows four at a time, then one (23 and 1 rows)."""
    X, y = ft.dmatrix("X"), ft.dvector("y")
    ws = [ft.dvector(f"w{k}") for k in range(3)]
    gs = [fc.grad(0.5 * ft.sum((ft.dot(X, w) - y) ** 2) * (k + 1), w) for k, w in enumerate(ws)]
    f = fc.function([X, y, *ws], gs)
    assert _passes(f) == [3], fc.debugprint(f)
    Xv, yv, _, _ = _hvp_data(m, 7)
    wvs = [np.random.default_rng(k).standard_normal(7) for k in range(3)]
    for k, (got, wv) in enumerate(zip(f(Xv, yv, *wvs), wvs)):
        np.testing.assert_allclose(got, (k + 1) * Xv.T @ (Xv @ wv - yv), rtol=1e-10, atol=1e-12)


def test_gradient_and_hessian_vector_product_without_the_cost_are_one_pass() -> None:
    """The second gradient's vector is linked (for its shape only) to the first gradient,
    ``X.T @ r / m + lam * w``: that link goes to w, which has its shape whenever the function
    runs, so the second product does not wait for the first pass: one pass, whether the cost
    is an output or not; a ``v`` of length 1 is still broadcast against the gradient."""
    ins, outs = _hvp()
    f, u = fc.function(ins, outs[1:]), fc.function(ins, outs[1:], mode=UNMERGED)
    assert _passes(f) == [2], fc.debugprint(f)
    X, y, v, w = _hvp_data(23, 6)
    for args in ([X, y, v, w], [X, y, v[:1], w]):
        for a, b in zip(f(*args), u(*args)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(f(X, y, v, w)[1], _hvp_ref(X, y, v, w)[2], rtol=1e-12)
    with pytest.raises(ValueError):
        f(X, y, v[:4], w)
