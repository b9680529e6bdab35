"""``ft.optimize`` (PyTensor's ``tensor.optimize``): ``minimize``, ``minimize_scalar``, ``root``
and ``root_scalar`` against scipy.optimize called directly, the gradients of the solution with
respect to the parameters (implicit function theorem) against central finite differences of
the whole solve, bad input named, and compiled functions through a pickle."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.optimize as so

import fncache as fc
from fncache import tensor as ft
from fcutil import fd_gradient

opt = ft.optimize
TIGHT = {"tol": 1e-12}


def _fd(fn, p: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``fn`` (a whole solve) in each entry of ``p``; each
    solve is accurate to about 1e-9, so the differences to about 1e-5 of their size."""
    return fd_gradient(fn, p, eps=1e-4)


def _rosen_like(x, a, b):
    """A smooth strictly convex objective of x with parameters a (vector) and b (scalar)."""
    return ((x - a) ** 2).sum() + b * (x**4).sum() + (x[:-1] * x[1:]).sum() * 0.1


def test_minimize_against_scipy_and_its_gradient_against_finite_differences() -> None:
    x, a, b = ft.dvector("x"), ft.dvector("a"), ft.dscalar("b")
    sol, ok = opt.minimize(_rosen_like(x, a, b), x, optimizer_kwargs={"tol": 1e-12})
    w = np.array([0.3, -1.0, 2.0])
    cost = (sol * w).sum()
    fn = fc.function([x, a, b], [sol, ok, *ft.grad(cost, [a, b])])
    a0, b0, x0 = np.array([1.0, -2.0, 0.5]), 0.7, np.zeros(3)
    got, success, ga, gb = fn(x0, a0, b0)

    def f_np(v: np.ndarray, a: np.ndarray, b: float) -> float:
        return _rosen_like(v, a, b)

    want = so.minimize(f_np, x0, args=(a0, b0), method="BFGS", tol=1e-12).x
    assert success.dtype == bool and bool(success)
    np.testing.assert_allclose(got, want, atol=1e-6)
    solve_only = fc.function([x, a, b], cost)
    np.testing.assert_allclose(ga, _fd(lambda p: solve_only(x0, p, b0), a0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gb, _fd(lambda p: solve_only(x0, a0, float(p)), np.array(b0)), rtol=1e-4)


@pytest.mark.parametrize("method,jac,hess", [("Newton-CG", True, True), ("Nelder-Mead", False, False)])
def test_minimize_methods_with_and_without_derivatives(method: str, jac: bool, hess: bool) -> None:
    x, a = ft.dvector("x"), ft.dvector("a")
    obj = ((x - a) ** 2).sum() + (x**4).sum()
    kwargs = (
        {"options": {"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000}} if method == "Nelder-Mead" else TIGHT
    )
    sol, ok = opt.minimize(obj, x, method=method, jac=jac, hess=hess, optimizer_kwargs=kwargs)
    got, success = fc.function([x, a], [sol, ok])(np.zeros(2), np.array([1.0, -0.5]))
    # the stationary point: 2 (x - a) + 4 x^3 = 0, entry by entry
    want = [so.brentq(lambda v, ai=ai: 2 * (v - ai) + 4 * v**3, -3, 3) for ai in (1.0, -0.5)]
    assert bool(success)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_minimize_scalar_and_its_gradient() -> None:
    x, a = ft.dscalar("x"), ft.dscalar("a")
    obj = (x - a) ** 2 + ft.exp(x)
    sol, ok = opt.minimize_scalar(obj, x, optimizer_kwargs={"tol": 1e-12})
    fn = fc.function([x, a], [sol, ok, ft.grad(sol, a)])
    got, success, g = fn(0.0, 1.5)
    want = so.minimize_scalar(lambda v: (v - 1.5) ** 2 + np.exp(v), method="brent", tol=1e-12).x
    assert bool(success)
    np.testing.assert_allclose(got, want, rtol=1e-8)
    # 2 (x - a) + e^x = 0: dx/da = 2 / (2 + e^x)
    np.testing.assert_allclose(g, 2 / (2 + np.exp(got)), rtol=1e-6)


def test_root_against_scipy_and_its_gradient_against_finite_differences() -> None:
    x, a = ft.dvector("x"), ft.dvector("a")
    eqs = ft.stack([x[0] ** 3 + x[1] - a[0], x[1] - x[0] * a[1] + 0.5 * ft.sin(x[1])])
    sol, ok = opt.root(eqs, x, optimizer_kwargs={"tol": 1e-13})
    fn = fc.function([x, a], [sol, ok, ft.grad(sol[0] + 2 * sol[1], a)])
    a0, x0 = np.array([2.0, 0.5]), np.array([1.0, 1.0])
    got, success, g = fn(x0, a0)

    def f_np(v: np.ndarray) -> np.ndarray:
        return np.array([v[0] ** 3 + v[1] - a0[0], v[1] - v[0] * a0[1] + 0.5 * np.sin(v[1])])

    want = so.root(f_np, x0, method="hybr", tol=1e-13).x
    assert bool(success)
    np.testing.assert_allclose(got, want, atol=1e-10)
    solve_only = fc.function([x, a], sol[0] + 2 * sol[1])
    np.testing.assert_allclose(g, _fd(lambda p: solve_only(x0, p), a0), rtol=1e-4)


@pytest.mark.parametrize(
    "method,jac,hess", [("secant", False, False), ("newton", True, False), ("halley", True, True)]
)
def test_root_scalar_and_its_gradient(method: str, jac: bool, hess: bool) -> None:
    y, c = ft.dscalar("y"), ft.dscalar("c")
    r, ok = opt.root_scalar(
        y**3 + y - c, y, method=method, jac=jac, hess=hess, optimizer_kwargs={"xtol": 1e-14}
    )
    fn = fc.function([y, c], [r, ok, ft.grad(r, c)])
    got, success, g = fn(1.0, 10.0)
    assert bool(success)
    np.testing.assert_allclose(got, 2.0, rtol=1e-10)
    np.testing.assert_allclose(g, 1 / (3 * 4 + 1), rtol=1e-8)


def test_a_list_of_variables_of_any_dims_is_packed() -> None:
    m, c, t = ft.dmatrix("m"), ft.dscalar("c"), ft.dmatrix("t")
    obj = ((m - t) ** 2).sum() + (m**4).sum() + (c - t.sum()) ** 2 + c**4
    # a tolerance BFGS reaches here (at 1e-12 scipy's own run reports a loss of precision)
    (m_star, c_star), ok = opt.minimize(obj, [m, c], optimizer_kwargs={"tol": 1e-10})
    assert m_star.ndim == 2 and c_star.ndim == 0
    cost = (m_star * [[1.0, 2.0]]).sum() + 3 * c_star
    fn = fc.function([m, c, t], [m_star, c_star, ok, ft.grad(cost, t)])
    t0 = np.array([[0.5, -1.0]])
    got_m, got_c, success, g = fn(np.zeros((1, 2)), 0.0, t0)
    solve_one = lambda ti, lo, hi: so.brentq(lambda v: 2 * (v - ti) + 4 * v**3, lo, hi)  # noqa: E731
    assert bool(success)
    np.testing.assert_allclose(got_m, [[solve_one(ti, -3, 3) for ti in t0[0]]], atol=1e-7)
    np.testing.assert_allclose(got_c, solve_one(t0.sum(), -3, 3), atol=1e-7)
    solve_only = fc.function([m, c, t], cost)
    np.testing.assert_allclose(g, _fd(lambda p: solve_only(np.zeros((1, 2)), 0.0, p), t0), rtol=1e-4)
    # root over a matrix: as many equations as unknowns, in one vector
    eqs = ft.concatenate([(m**3).ravel() - t.ravel()])
    m_root, ok = opt.root(eqs, m, optimizer_kwargs=TIGHT)
    got = fc.function([m, t], m_root)(np.ones((1, 2)), np.array([[8.0, 27.0]]))
    np.testing.assert_allclose(got, [[2.0, 3.0]], rtol=1e-9)


def test_a_parameter_read_directly_and_through_a_value_computed_from_it() -> None:
    """``t`` and ``t.sum()`` are both inputs of the solve: the gradient follows each path once."""
    x, t = ft.dvector("x"), ft.dvector("t")
    obj = ((x[:2] - t) ** 2).sum() + (x[:2] ** 4).sum() + (x[2] - t.sum()) ** 2 + x[2] ** 4
    sol, _ = opt.minimize(obj, x, optimizer_kwargs={"tol": 1e-10})
    cost = (sol * [1.0, 2.0, 3.0]).sum()
    fn = fc.function([x, t], ft.grad(cost, t))
    solve_only = fc.function([x, t], cost)
    t0 = np.array([0.5, -1.0])
    np.testing.assert_allclose(fn(np.zeros(3), t0), _fd(lambda p: solve_only(np.zeros(3), p), t0), rtol=1e-4)


def test_float32_stays_float32() -> None:
    x, a = ft.fvector("x"), ft.fvector("a")
    sol, ok = opt.minimize(((x - a) ** 2).sum() + (x**4).sum(), x)
    got, success, g = fc.function([x, a], [sol, ok, ft.grad(sol.sum(), a)])(
        np.zeros(2, "float32"), np.array([1.0, 2.0], "float32")
    )
    assert got.dtype == g.dtype == np.float32 and bool(success)
    np.testing.assert_allclose(got, [0.5897545, 0.8351224], rtol=1e-5)


def test_parameters_may_be_computed_and_shared() -> None:
    x = ft.dvector("x")
    s = fc.shared(np.array([1.0, 2.0]), name="s")
    k = ft.dscalar("k")
    sol, _ = opt.minimize(((x - 2 * k * s) ** 2).sum(), x, optimizer_kwargs=TIGHT)
    fn = fc.function([x, k], [sol, ft.grad(sol.sum(), k)])
    got, g = fn(np.zeros(2), 0.5)
    np.testing.assert_allclose(got, [1.0, 2.0], atol=1e-7)
    np.testing.assert_allclose(g, 2 * 3.0, rtol=1e-6)
    s.set_value(np.array([3.0, 4.0]))
    np.testing.assert_allclose(fn(np.zeros(2), 0.5)[0], [3.0, 4.0], atol=1e-7)


def test_failure_is_reported_not_raised() -> None:
    x = ft.dvector("x")
    sol, ok = opt.minimize(((x - 3.0) ** 4).sum(), x, optimizer_kwargs={"options": {"maxiter": 1}})
    got, success = fc.function([x], [sol, ok])(np.zeros(2))
    assert not bool(success) and got.shape == (2,)


def test_a_compiled_function_pickles() -> None:
    x, a = ft.dvector("x"), ft.dvector("a")
    sol, ok = opt.minimize(((x - a) ** 2).sum() + (x**4).sum(), x, optimizer_kwargs=TIGHT)
    fn = fc.function([x, a], [sol, ok, ft.grad(sol.sum(), a)])
    back = pickle.loads(pickle.dumps(fn))
    args = (np.zeros(2), np.array([1.0, 2.0]))
    for g, w in zip(back(*args), fn(*args)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_equal_problems_are_one_op_and_different_ones_not() -> None:
    x, a = ft.dvector("x"), ft.dvector("a")
    obj = ((x - a) ** 2).sum()
    s1, _ = opt.minimize(obj, x)
    s2, _ = opt.minimize(obj, x)
    s3, _ = opt.minimize(obj, x, method="CG")
    s4, _ = opt.minimize(obj, x, optimizer_kwargs={"tol": 1e-3})
    assert s1.owner.op == s2.owner.op and hash(s1.owner.op) == hash(s2.owner.op)
    assert s1.owner.op != s3.owner.op and s1.owner.op != s4.owner.op


def test_bad_input_is_named() -> None:
    x, a, m = ft.dvector("x"), ft.dvector("a"), ft.dmatrix("m")
    with pytest.raises(ValueError, match="minimize: the objective must be a scalar"):
        opt.minimize(x - a, x)
    with pytest.raises(TypeError, match="minimize: the variable to solve for must be an input variable"):
        opt.minimize((a * 2).sum(), a * 2)
    with pytest.raises(TypeError, match="must be a float tensor"):
        i = ft.lvector("i")
        opt.minimize((i * a).sum(), i)
    with pytest.raises(ValueError, match="root_scalar: the variable to solve for must have 0 dims"):
        opt.root_scalar((m**2).sum(), m)
    with pytest.raises(TypeError, match="root: the variable to solve for must be an input variable"):
        opt.root(x - a, [x, a * 2])
    with pytest.raises(ValueError, match="does not depend on"):
        opt.minimize((a**2).sum(), x)
    with pytest.raises(ValueError, match="root: the equations .* must have as many dims"):
        opt.root((x**2).sum(), x)
    with pytest.raises(ValueError, match="root_scalar: hess=True needs jac=True"):
        y = ft.dscalar("y")
        opt.root_scalar(y**2 - 2, y, hess=True)
    with pytest.raises(ValueError, match="minimize_scalar: the variable to solve for must have 0 dims"):
        opt.minimize_scalar((x**2).sum(), x)
    with pytest.raises(TypeError, match="method must be the name"):
        opt.minimize((x**2).sum(), x, method=3)
    with pytest.raises(TypeError, match="optimizer_kwargs must be a dict"):
        opt.minimize((x**2).sum(), x, optimizer_kwargs=[1])


def test_against_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    from pytensor.tensor.optimize import minimize as pt_minimize, root as pt_root

    a0, x0 = np.array([1.0, -2.0]), np.ones(2)
    # PyTensor's Python linker: its default one compiles for far longer than the test runs
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        px, pa = pt.dvector("x"), pt.dvector("a")
        psol, _ = pt_minimize(((px - pa) ** 2).sum() + (px**4).sum(), px, optimizer_kwargs=TIGHT)
        proot, _ = pt_root(
            pt.stack([px[0] ** 3 - pa[0] - 4, px[1] + px[0] - pa[1]]), px, optimizer_kwargs=TIGHT
        )
        outs = [psol, pt.grad(psol.sum(), pa), proot, pt.grad((proot * [1.0, 3.0]).sum(), pa)]
        want = pytensor.function([px, pa], outs)(x0, a0)
    x, a = ft.dvector("x"), ft.dvector("a")
    sol, _ = opt.minimize(((x - a) ** 2).sum() + (x**4).sum(), x, optimizer_kwargs=TIGHT)
    rt, _ = opt.root(ft.stack([x[0] ** 3 - a[0] - 4, x[1] + x[0] - a[1]]), x, optimizer_kwargs=TIGHT)
    got = fc.function([x, a], [sol, ft.grad(sol.sum(), a), rt, ft.grad((rt * [1.0, 3.0]).sum(), a)])(x0, a0)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8)


def test_the_names_are_pytensors() -> None:
    assert sorted(opt.__all__) == sorted(
        ["ScipyOptimizeOp", "minimize", "minimize_scalar", "root", "root_scalar"]
    )
    pytest.importorskip("pytensor")
    import pytensor.tensor.optimize as pto

    assert set(pto.__all__) <= set(opt.__all__)


def test_missing_scipy_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real_import = importlib.import_module

    def no_scipy(name: str, *args: object) -> object:
        if name.startswith("scipy"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_scipy)
    x = ft.dvector("x")
    with pytest.raises(
        ModuleNotFoundError, match=r"minimize: computed with scipy.optimize.*pip install scipy"
    ):
        opt.minimize((x**2).sum(), x)
    with pytest.raises(ModuleNotFoundError, match=r"tridiagonal_lu_factor: computed with scipy.linalg"):
        ft.linalg.tridiagonal_lu_factor(ft.dmatrix("a"))
