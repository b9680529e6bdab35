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
from fncache.errors import DisconnectedInputError, NullTypeGradError
from fncache import sparse
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


def _csr_of(data: Any) -> Any:
    """A 2 x 4 csr matrix holding ``data`` (4 values) at fixed entries."""
    indices, indptr = np.array([0, 2, 1, 3], "int32"), np.array([0, 2, 4], "int32")
    return sparse.CSR(data, indices, indptr, np.array([2, 4]))


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
    # the gradients of sparse indexing and of a matrix built from its parts place or sample
    # values: linear, their own gradients the ops they are the gradients of
    "sparse": (
        lambda d, v: (
            _cube(sparse.dense_from_sparse(sparse.csr_from_dense(d)[0:2, 1:3]))
            + sparse.get_item_scalar(sparse.csr_from_dense(d), 1, 2) ** 3 * ft.sum(d)
            + _cube(sparse.get_item_2lists(sparse.csr_from_dense(d), [0, 2, 0], [0, 3, 0]))
            + ft.sum(sparse.dense_from_sparse(_csr_of(ft.sin(v) * v)) ** 3 * np.arange(8.0).reshape(2, 4))
        ),
        [np.where(np.eye(3, 4) > 0, 0.0, M), _u(-1, 1, 4)],
        [0, 1],
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
    daa = fc.grad(ft.sum(fc.grad(ft.sum(ft.hyp2f1(a, 1.5, 2.5, z)), a)), a)
    with pytest.raises(
        NullTypeGradError,
        match=r"Hyp2F1Grad.*the second derivative of hyp2f1 in a and a, has no gradient in a, b or c",
    ):
        fc.grad(ft.sum(daa), a)
    dkk = fc.grad(ft.sum(fc.grad(ft.sum(ft.gammainc(a, z)), a)), a)
    with pytest.raises(
        NullTypeGradError,
        match="GammaincDkk, the second derivative of gammainc in k, has no gradient in k: the third derivative"
        ".*; differentiate in k at most twice, differentiate the rest in x only",
    ):
        fc.grad(ft.sum(dkk), [a, z])
    dab = fc.grad(ft.sum(fc.grad(ft.sum(ft.betainc(a, z + 1, 0.5)), a)), z)
    with pytest.raises(
        NullTypeGradError,
        match="BetaincD2.*, the second derivative of betainc in a and b, has no gradient in a or b: .*"
        "differentiate in them at most twice, differentiate the rest in x only",
    ):
        fc.grad(ft.sum(dab), a)
    # an op of fncache's own without a gradient: named, with what to do (no class to extend)
    m = ft.dmatrix("m")
    with pytest.raises(
        NullTypeGradError,
        match=r"Schur.* has no gradient \(fncache does not implement one\).*consider_constant",
    ):
        fc.grad(ft.sum(linalg.schur(m)[0]), m)
    # an order read twice, once as the order: undefined however the terms are summed
    with pytest.raises(NullTypeGradError, match=r"jv\(v, x\) has no gradient in its order v"):
        fc.grad(ft.sum(ft.jv(z, z)), z)


# -- the gradient options at second order --------------------------------------------------------
XV, YV = np.array([0.3, -0.7, 1.1]), np.array([1.2, 0.4, -0.5])


def test_options_of_the_first_gradient_do_not_leak_into_the_second() -> None:
    """consider_constant and known_grads shape the first gradient only: the second walks the
    first's graph, through the variables the first held constant (PyTensor's results: the
    comparison below)."""
    x, y = ft.dvector("x"), ft.dvector("y")
    z = ft.exp(x)
    g = fc.grad(ft.sum(z * y * x), x, consider_constant=[z])  # z y
    e = ft.sin(x) * y
    k = fc.grad(None, x, known_grads={e: ft.cos(e) * x})  # cos(e) x cos(x) y
    outs = [g, fc.grad(ft.sum(g * y), x), fc.grad(ft.sum(g**2), y), k, fc.grad(ft.sum(k), x)]
    got = _function([x, y], outs)(XV, YV)
    ev = np.sin(XV) * YV
    np.testing.assert_allclose(got[0], np.exp(XV) * YV, rtol=1e-14)
    np.testing.assert_allclose(got[1], np.exp(XV) * YV**2, rtol=1e-14)
    np.testing.assert_allclose(got[2], 2 * np.exp(2 * XV) * YV, rtol=1e-14)
    np.testing.assert_allclose(got[3], np.cos(ev) * XV * np.cos(XV) * YV, rtol=1e-14)
    fd = _differences(lambda v: [_function([x, y], [ft.sum(k)])(v, YV)[0]], [XV], [np.ones(3)])
    np.testing.assert_allclose(np.sum(got[4]), fd[0], rtol=RTOL)


def test_disconnected_second_gradients_follow_the_options() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    g = fc.grad(ft.sum(x**2), x)
    with pytest.raises(DisconnectedInputError, match="does not depend on y"):
        fc.grad(ft.sum(g), y)
    with pytest.raises(DisconnectedInputError, match="does not depend on y"):
        ft.hessian(ft.sum(x**2), y)
    with pytest.raises(DisconnectedInputError, match="does not depend on any of wrt"):
        ft.Rop(fc.grad(ft.sum(x**2) + ft.sum(y), y), x, y)
    none = fc.grad(ft.sum(g), [x, y], disconnected_inputs="ignore", return_disconnected="none")
    assert none[1] is None
    with pytest.warns(UserWarning, match="does not depend on y"):
        zero = fc.grad(ft.sum(g), [x, y], disconnected_inputs="warn")
    got = _function([x, y], [none[0], *zero, ft.hessian(ft.sum(x**2), y, disconnected_inputs="ignore")])(
        XV, YV
    )
    np.testing.assert_array_equal(got[0], 2.0 * np.ones(3))
    np.testing.assert_array_equal(got[2], np.zeros(3))
    np.testing.assert_array_equal(got[3], np.zeros((3, 3)))
    # a gradient reading x only for its shape (that of a cost linear in x): zeros, connected
    np.testing.assert_array_equal(
        _function([x, y], fc.grad(ft.sum(fc.grad(ft.sum(x * y), x)), x))(XV, YV), np.zeros(3)
    )


def test_the_gradient_of_an_expression_built_after_the_cost_is_refused_with_the_fix() -> None:
    """Theano's and PyTensor's DisconnectedInputError: x[0] made after the cost is a new
    variable; the error says to differentiate x and index its gradient."""
    x = ft.dvector("x")
    cost = ft.sum(x**2)
    for what in (
        lambda: fc.grad(cost, x[0]),
        lambda: ft.hessian(cost, x[:2]),
        lambda: ft.jacobian(x**2, x[::-1]),
    ):
        with pytest.raises(DisconnectedInputError, match=r"built after the cost.*fc.grad\(cost, x\)\[0\]"):
            what()
    part = x[0]  # built before the cost, and read by it: its own gradient
    got = _function([x], [fc.grad(ft.sum(x**2) + part**3, part), ft.hessian(part**3 + ft.sum(x**2), x)])(XV)
    np.testing.assert_allclose(got[0], 3 * XV[0] ** 2, rtol=1e-14)
    np.testing.assert_allclose(got[1], np.diag([2 + 6 * XV[0], 2, 2]), rtol=1e-14)


def test_integer_inputs_at_second_order() -> None:
    """An integer input read by the cost (an exponent, an index) takes no part in the second
    derivatives in the float ones; differentiating with respect to it is refused (with the
    cast to make) at each order."""
    x, n = ft.dvector("x"), ft.lvector("n")
    cost = ft.sum(x**n) + ft.sum(x * n) + x[ft.argmax(x)] ** 3
    g = fc.grad(cost, x)
    got = _function([x, n], [fc.grad(ft.sum(g), x), ft.hessian(cost, x), ft.Rop(g, x, ft.ones_like(x))])(
        np.array([1.5, 2.0, 0.5]), np.array([2, 3, 0])
    )
    want = np.diag([2.0, 6 * 2.0 + 6 * 2.0, 0.0])
    np.testing.assert_allclose(got[1], want, rtol=1e-14)
    np.testing.assert_allclose(got[0], want.sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(got[2], want.sum(axis=1), rtol=1e-14)
    with pytest.raises(TypeError, match=r"with respect to n of dtype int64.*ft.cast"):
        fc.grad(ft.sum(g), n)


# -- PyTensor's Rop, Lop, jacobian and hessian --------------------------------------------------
#: expressions of a matrix x and a vector y, written once for both libraries (``T`` the tensor
#: module, ``S`` one with softmax and solve)
PT_EXPRESSIONS: dict[str, Callable[..., Any]] = {
    "elementwise_dot": lambda T, S, x, y: T.exp(x) * T.sin(y) + T.tanh(T.dot(x, y)) / (1 + x**2),
    "softmax_logsumexp": lambda T, S, x, y: S.softmax(x * y, axis=-1) + T.logsumexp(x, axis=0),
    "indexing": lambda T, S, x, y: (
        T.set_subtensor(x[1:, 0], y[:2] ** 2) * T.inc_subtensor(x[[0, 0, 2]], y**2)
    ),
    "reductions": lambda T, S, x, y: T.max(x * y, axis=0) + T.min(x, axis=1) + T.var(x, axis=1),
    "solve": lambda T, S, x, y: S.solve(x, y) * T.cumsum(x * y, axis=0),
}


def _products(T: Any, S: Any, G: Any, name: str, x: Any, y: Any, vx: Any, vy: Any) -> list:
    e = PT_EXPRESSIONS[name](T, S, x, y)
    e = e.flatten() if e.ndim > 1 else e
    cost = T.sum(T.sin(e) * e)
    gs = G.grad(cost, [x, y])
    return [
        G.pushforward(e, [x, y], [vx, vy]),
        *G.pullback(e, [x, y], T.cos(e)),
        *G.jacobian(e, [x, y]),
        *G.jacobian(e, [x, y], vectorize=True),
        G.hessian(cost, y),
        *G.pushforward(gs, [x, y], [vx, vy]),
        *G.pullback(gs, [x, y], [vx, vy]),
        *G.grad(T.sum(gs[0] * vx) + T.sum(gs[1] * vy), [x, y]),
    ]


def test_Rop_Lop_jacobian_and_hessian_equal_pytensors() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.gradient as pg
    import pytensor.tensor as pt
    import pytensor.tensor.linalg as pt_linalg
    import pytensor.tensor.special as pt_special

    class PtS:
        softmax = staticmethod(pt_special.softmax)
        solve = staticmethod(pt_linalg.solve)

    class FtS:
        softmax = staticmethod(ft.softmax)
        solve = staticmethod(linalg.solve)

    vals = [SQ, A, _u(-1, 1, 3, 3), _u(-1, 1, 3)]
    for name in PT_EXPRESSIONS:  # one function each: PyTensor's rewrites of one big graph are slow
        p_ins = [pt.dmatrix(), pt.dvector(), pt.dmatrix(), pt.dvector()]
        f_ins = [ft.dmatrix(), ft.dvector(), ft.dmatrix(), ft.dvector()]
        p_outs = _products(pt, PtS, pg, name, *p_ins)
        want = pytensor.function(p_ins, p_outs, mode="FAST_COMPILE", on_unused_input="ignore")(*vals)
        got = _function(f_ins, _products(ft, FtS, fc.gradient, name, *f_ins))(*vals)
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"{name}, output {k}")
