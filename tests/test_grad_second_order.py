"""Second derivatives and forward-mode products: ``grad`` of a gradient, ``hessian``, ``Rop``
(two reverse passes, and node by node), ``Lop`` of a gradient and ``hessian_vector_product``,
each against central differences of the first-order gradient (itself checked here against the
differences of the cost) in float64, for every family of differentiable ops; the ops whose
gradient graphs have no gradient of their own; the gradient options at second order; and
PyTensor's ``Rop``, ``Lop``, ``jacobian`` and ``hessian`` where PyTensor is installed."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import NullTypeGradError
from fncache.tensor import linalg

#: fourth-order central differences: the step, and the tolerance second derivatives meet
H = 2.0**-10
RTOL = 1e-6
MODE = "FAST_COMPILE"

_rng = np.random.default_rng(20)


def _u(lo: float, hi: float, *shape: int) -> np.ndarray:
    return _rng.uniform(lo, hi, shape)


#: name -> (cost of the inputs, the inputs' values, indices of those differentiated)
Case = tuple[Callable[..., Any], list[np.ndarray], list[int]]


def _cube(e: Any) -> Any:
    return ft.sum(e**3)


def _gammainc_dk(k: Any, x: Any) -> Any:
    """d gammainc / dk, a cost whose gradient in x is a mixed second derivative."""
    return ft.sum(fc.grad(ft.sum(ft.gammainc(k, x)), k) * ft.sin(x))


def _betainc_dp(p: Any, x: Any) -> Any:
    return ft.sum(fc.grad(ft.sum(ft.betainc(p, 2.5, x)), p) + fc.grad(ft.sum(ft.betainc(2.0, p, x)), p))


def _hyp2f1_da(a: Any, z: Any) -> Any:
    return ft.sum(fc.grad(ft.sum(ft.hyp2f1(a, a + 0.5, 2.5 + a, z)), a) * ft.exp(z))


A = _u(-1.5, 1.5, 3)
P = _u(1.2, 2.5, 3)
U = _u(0.15, 0.85, 3)
M = _u(-1.0, 1.0, 3, 4)
SQ = _u(-1.0, 1.0, 3, 3) + 3 * np.eye(3)

CASES: dict[str, Case] = {
    "elementwise": (
        lambda x, p: ft.sum(
            ft.exp(x) * ft.log(p)
            + ft.sqrt(p) * ft.tanh(x)
            + p**x
            + x**3 / p
            + ft.arctan2(x, p)
            + ft.hypot(x, p)
        ),
        [A, P],
        [0, 1],
    ),
    "trig_hyperbolic": (
        lambda x, u: ft.sum(ft.sin(x) * ft.arcsin(u) + ft.cosh(x) * ft.arctanh(u) + ft.tan(u) * ft.arccos(u)),
        [A, U],
        [0, 1],
    ),
    "logistic_erf": (
        lambda x, u: ft.sum(
            ft.sigmoid(x) * ft.softplus(-x) + ft.erf(x) * ft.erfinv(u) + ft.erfcx(x) + ft.erfcinv(u)
        ),
        [A, U],
        [0, 1],
    ),
    "gamma_functions": (
        lambda p: ft.sum(ft.gammaln(p) * ft.gamma(p) + ft.special.psi(p) + ft.special.tri_gamma(p) * p),
        [P],
        [0],
    ),
    # the order's gradient is undefined: the second derivative reads jv(v - 1, x), whose order
    # is an expression of constants, and no variable's gradient goes through it
    "bessel_constant_order": (
        lambda p: ft.sum(
            ft.jv(1.5, p) + ft.iv(0.5, p) * ft.kve(2.5, p) + ft.yv(1.5, p) + ft.j1(p) * ft.i1e(p)
        ),
        [P],
        [0],
    ),
    # an order that is a variable, not differentiated
    "bessel_variable_order": (lambda p, v: ft.sum(ft.jv(v, p) * ft.kv(v, p)), [P, P[::-1].copy()], [0]),
    "gammainc_mixed": (_gammainc_dk, [P, U * 2], [1]),
    "betainc_mixed": (_betainc_dp, [P, U], [1]),
    "hyp2f1_mixed": (_hyp2f1_da, [U, U * 0.8], [1]),
    "selection": (
        lambda x, y: ft.sum(
            ft.where(x > 0, x * y, ft.sin(y)) ** 2
            + ft.maximum(x, y) ** 3
            + ft.minimum(x, y) ** 3
            + ft.clip(x, -0.5, 0.7) ** 3 * y
        ),
        [A, A[::-1] + 0.1],
        [0, 1],
    ),
    "reductions": (
        lambda m: (
            ft.sum(ft.max(m**2, axis=1) ** 2)
            + ft.sum(ft.min(m, axis=0) ** 3)
            + ft.sum(ft.mean(ft.sin(m), axis=1) ** 3)
            + ft.sum(ft.var(m, axis=0, ddof=1) ** 2)
            + ft.sum(ft.std(ft.sin(m) + m, axis=1) ** 3)
            + ft.sum(ft.logsumexp(m, axis=1) ** 2)
        ),
        [M],
        [0],
    ),
    "softmax": (
        lambda m: ft.sum(ft.softmax(m, axis=-1) * ft.cos(m)) + ft.sum(ft.log_softmax(m, axis=0) * ft.sin(m)),
        [M],
        [0],
    ),
    # zeros in a product: one in a row, two in another (exact second derivatives there)
    "prod_with_zeros": (
        lambda m: ft.sum(ft.prod(m, axis=1) * ft.sum(m)) + ft.sum(ft.prod(m, axis=0) ** 2),
        [np.where(np.array([[0, 0, 1, 0], [1, 0, 1, 0], [0, 0, 0, 0]]), 0.0, M + 2)],
        [0],
    ),
    "products": (
        lambda m, n, v: (
            _cube(ft.dot(m, n))
            + _cube(ft.dot(m, v))
            + _cube(ft.matmul(m.dimshuffle("x", 0, 1) * ft.ones((2, 1, 1)), n))
            + _cube(ft.batched_dot(ft.stack([m, ft.sin(m)]), ft.stack([n, n * n])))
            + _cube(ft.tensordot(m, n, axes=[[1], [0]]))
        ),
        [M, _u(-1, 1, 4, 2), _u(-1, 1, 4)],
        [0, 1, 2],
    ),
    "shapes_and_indexing": (
        lambda m, v: (
            _cube(ft.reshape(m, (2, 6)) * np.arange(12.0).reshape(2, 6))
            + _cube(m.T @ ft.sin(m))
            + _cube(m.dimshuffle(1, "x", 0))
            + m[1, 2] ** 3 * m[0, 1]
            + _cube(m[::-1, 1:3] * m[:, ::2][:, :2])
            + _cube(m[[0, 2, 0], [1, 1, 3]] * v[:3])
            + _cube(m[m > 0])
            + _cube(ft.concatenate([m, v.dimshuffle("x", 0)]) * np.arange(16.0).reshape(4, 4))
            + _cube(ft.stack([m[0], v]) * np.arange(8.0).reshape(2, 4))
            + _cube(ft.cast(m, "float32") * 0 + ft.cast(ft.cast(m, "int64"), "float64") * m)
        ),
        [M, _u(-1, 1, 4)],
        [0, 1],
    ),
    "inc_set_subtensor": (
        lambda m, v: (
            _cube(ft.inc_subtensor(m[1:, ::2], v[:2] ** 2) * ft.sin(m))
            + _cube(ft.set_subtensor(m[1:, 1], v[:2] ** 2) * ft.sin(m))
            + _cube(ft.inc_subtensor(m[[0, 2, 0]], ft.exp(v)) * ft.sin(m))
            + _cube(ft.set_subtensor(m[[0, 2, 0]], ft.exp(v)) * ft.sin(m))
        ),
        [M, _u(-1, 1, 4)],
        [0, 1],
    ),
    # sizes 1 known only when the function runs: summed back by SumToShape at each order
    "run_time_broadcast": (
        lambda c, m: ft.sum(ft.sin(c * m) ** 2) + ft.sum(ft.exp(c + m[:1]) * c),
        [_u(-1, 1, 3, 1), M],
        [0, 1],
    ),
    "linalg": (
        lambda a, b: (
            _cube(linalg.inv(a))
            + linalg.det(a) ** 2
            + linalg.slogdet(a)[1] ** 2
            + _cube(linalg.solve(a, b))
            + _cube(linalg.solve_triangular(a, b, lower=True))
            + _cube(linalg.cholesky(a @ a.T))
            + _cube(linalg.eigvalsh(a + a.T))
        ),
        [SQ, _u(-1, 1, 3, 2)],
        [0, 1],
    ),
    "cumulative_sort": (
        lambda m: (
            _cube(ft.cumsum(m, axis=1))
            + ft.sum(ft.cumprod(m + 2, axis=0) ** 2)
            + _cube(ft.sort(m, axis=1) * np.arange(4.0))
        ),
        [M],
        [0],
    ),
    "conv_pool": (
        lambda x, w: (
            _cube(ft.nnet.conv.conv2d(x, w)) + _cube(ft.signal.pool.pool_2d(x**2, (2, 2), ignore_border=True))
        ),
        [_u(-1, 1, 1, 2, 4, 4), _u(-1, 1, 2, 2, 2, 2)],
        [0, 1],
    ),
}


#: the cases whose Hessian-vector products are also taken by each of the other routes
PRODUCT_CASES = ("elementwise", "selection", "inc_set_subtensor", "run_time_broadcast")


def _function(ins: list, outs: list) -> Any:
    return fc.function(ins, outs, on_unused_input="ignore", mode=MODE)


def _differences(f: Callable[..., list], vals: list[np.ndarray], dirs: list[np.ndarray]) -> list[np.ndarray]:
    """The derivative of each output of ``f`` at ``vals`` along ``dirs`` (fourth-order central
    differences)."""

    def at(t: float) -> list[np.ndarray]:
        return [np.asarray(o) for o in f(*[v + t * d for v, d in zip(vals, dirs)])]

    a, b, c, d = at(2 * H), at(H), at(-H), at(-2 * H)
    return [(-p + 8 * q - 8 * r + s) / (12 * H) for p, q, r, s in zip(a, b, c, d)]


def _close(got: Any, want: np.ndarray, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-3)
    np.testing.assert_allclose(got, want, rtol=0, atol=RTOL * scale, err_msg=what)


def _check_table(cases: dict[str, Case], products: bool) -> None:
    """For each case, the gradient of the gradient along a direction (and with ``products``
    Rop, Rop node by node, Lop of the gradient, hessian_vector_product and the Hessian times
    the direction) against differences of the gradient, all cases in one function."""
    ins: list = []
    first: list = []
    second: list = []
    where: list[tuple[str, list[int], int, int]] = []  # name, wrt positions in ins, first at, second at
    dirs: list[np.ndarray] = []
    dirs0: list[np.ndarray] = []
    for name, (cost_of, vals, wrt) in cases.items():
        xs = [ft.tensor(f"{name}{i}", "float64", shape=(None,) * v.ndim) for i, v in enumerate(vals)]
        at = len(ins)
        ins += xs
        ws = [xs[i] for i in wrt]
        vs = [_rng.uniform(-1, 1, v.shape) if i in wrt else np.zeros_like(v) for i, v in enumerate(vals)]
        dirs += vs
        dirs0 += [vs[i] if i == wrt[0] else np.zeros_like(v) for i, v in enumerate(vals)]
        cost = cost_of(*xs)
        gs = fc.grad(cost, ws)
        where.append((name, [at + i for i in wrt], len(first), len(second)))
        first += [cost, *gs]
        v_wrt = [ft.constant(vs[i]) for i in wrt]
        second += fc.grad(sum(ft.sum(g * v) for g, v in zip(gs, v_wrt)), ws, disconnected_inputs="ignore")
        if products:
            second += ft.Rop(gs, ws, v_wrt)
            second += ft.Rop(gs, ws, v_wrt, use_op_rop_implementation=True)
            second += ft.Lop(gs, ws, v_wrt, disconnected_inputs="ignore")
            second += ft.hessian_vector_product(cost, ws, v_wrt)
            h = ft.hessian(cost, ws[0])
            second.append(ft.tensordot(h, v_wrt[0], axes=v_wrt[0].ndim))
    vals = [v for _, case_vals, _ in cases.values() for v in case_vals]
    f1, f2 = _function(ins, first), _function(ins, second)
    base, along, got = f1(*vals), _differences(f1, vals, dirs), f2(*vals)
    along0 = _differences(f1, vals, dirs0) if products else None
    labels = ["grad of grad"] + (
        ["Rop", "Rop node by node", "Lop", "hessian_vector_product"] if products else []
    )
    for name, wrt, k1, k2 in where:
        n = len(wrt)
        gs, fd_gs = base[k1 + 1 : k1 + 1 + n], along[k1 + 1 : k1 + 1 + n]
        inner = sum(float(np.sum(g * dirs[i])) for g, i in zip(gs, wrt))
        _close(np.array(inner), np.asarray(along[k1]), f"{name}: the gradient along the direction")
        for at, label in enumerate(labels):
            for j in range(n):
                _close(got[k2 + at * n + j], fd_gs[j], f"{name}: {label}, input {wrt[j]}")
        if products:
            _close(got[k2 + len(labels) * n], along0[k1 + 1], f"{name}: hessian times the direction")


def test_second_derivatives_of_every_op_family_equal_differences_of_the_gradient() -> None:
    _check_table(CASES, products=False)


def test_Rop_Lop_hessian_and_its_products_equal_differences_of_the_gradient() -> None:
    _check_table({k: CASES[k] for k in PRODUCT_CASES}, products=True)


def test_second_derivatives_not_implemented_are_refused_naming_the_op() -> None:
    """Where a second derivative is not implemented the error names the op of the gradient
    graph and what to do; the same gradient graphs differentiated in the other operands work
    (the table above)."""
    a, z = ft.dvector("a"), ft.dvector("z")
    da = fc.grad(ft.sum(ft.hyp2f1(a, 1.5, 2.5, z)), a)
    with pytest.raises(
        NullTypeGradError, match=r"Hyp2F1Grad.*the derivative of hyp2f1 in a, has no gradient in a, b or c"
    ):
        fc.grad(ft.sum(da), a)
    dk = fc.grad(ft.sum(ft.gammainc(a, z)), a)
    with pytest.raises(
        NullTypeGradError, match="gammainc_da, the derivative of gammainc in its shape parameter"
    ):
        ft.hessian(ft.sum(ft.gammainc(a, z)), a)
    with pytest.raises(NullTypeGradError, match="gammainc_da.*input 0"):
        fc.grad(ft.sum(dk), [a, z])
    # an order read twice, once as the order: undefined however the terms are summed
    with pytest.raises(NullTypeGradError, match=r"jv\(v, x\) has no gradient in its order v"):
        fc.grad(ft.sum(ft.jv(z, z)), z)
