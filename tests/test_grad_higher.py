"""Derivatives past the second: ``det``'s, ``slogdet``'s and ``log(det)``'s third and fourth
derivatives (singular and nearly singular matrices included) against fourth-order central
differences of the derivative one order below; and, for every op with a gradient rule, its
gradient graph differentiated again: equal to the differences of the gradient, or refused
with a ``NullTypeGradError`` naming the op."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import sparse
from fncache import tensor as ft
from fncache.errors import NullTypeGradError
from fncache.ifelse import ifelse
from fncache.printing import Print
from fncache.raise_op import CheckAndRaise
from fncache.tensor import data_ops, fft, linalg, linalg_extra, linalg_scipy, neighbours, optimize
from fncache.tensor.ctc import ctc
from fncache.tensor.einsum import einsum
from fncache.tensor.elemwise import elemwise
from fncache.tensor.hyp2f1 import hyp2f1
from fncache.tensor.op_from_graph import OpFromGraph
from fncache.tensor.signal import pool
from fcutil import fd4_differences, symbolic_like

RNG = np.random.default_rng(2031)
MODE = "FAST_COMPILE"


def _of_rank(n: int, rank: int) -> np.ndarray:
    return RNG.normal(size=(n, rank)) @ RNG.normal(size=(rank, n))


def _close(got: np.ndarray, want: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    """Each matrix of the stack within ``rtol`` of its largest entry in ``want``."""
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    for i in np.ndindex(want.shape[:-2]):
        scale = max(float(np.max(np.abs(want[i]), initial=0.0)), 1e-3)
        np.testing.assert_allclose(got[i], want[i], rtol=0, atol=rtol * scale, err_msg=f"{what}, matrix {i}")


def _check_orders(name: str, cost_of: Callable[[Any], Any], value: np.ndarray, orders: int, h: float) -> None:
    """The derivatives of ``cost_of(x)`` of orders 2..``orders``, each the gradient of the one
    below along a random direction, ``g_{k+1} = grad(sum(g_k * d_k))``, against the
    differences of ``sum(g_k * d_k)`` (one compiled function, one pass of differences)."""
    x = symbolic_like(value)
    grads, scalars, scalar = [], [], cost_of(x)
    for _ in range(orders):
        g = fc.grad(scalar, x)
        scalar = ft.sum(g * RNG.normal(size=value.shape))
        grads.append(g)
        scalars.append(scalar)
    f = fc.function([x], scalars + grads[1:], mode=MODE)
    got = f(value)[orders:]
    want = fd4_differences(lambda y: np.array(f(y)[: orders - 1]), value, h)
    for k in range(orders - 1):
        _close(got[k], want[k], f"{name}: derivative {k + 2}")


def test_det_third_and_fourth_derivatives_at_regular_nearly_singular_and_singular_matrices() -> None:
    """det's derivatives are finite for every matrix (det is a polynomial): a stack of a
    regular matrix, one with a singular value of 1e-9, ranks n - 1 and n - 2; det's own and
    those of det**2 + sin(det), whose gradients scale the cofactors by a value that depends on
    the matrix; past the matrix's size, det's are zero (statically for a declared size)."""
    stack = np.stack([_of_rank(4, 4), _of_rank(4, 3) + 1e-9 * np.eye(4), _of_rank(4, 3), _of_rank(4, 2)])
    _check_orders("det", lambda x: ft.sum(ft.det(x) * [1.0, -2.0, 0.5, 1.5]), stack, 4, 1e-3)
    _check_orders(
        "det**2 + sin(det)", lambda x: ft.sum(ft.det(x) ** 2 + ft.sin(ft.det(x))), stack[::3], 3, 2.5e-4
    )
    x = ft.tensor("x", "float64", shape=(3, 3))
    d = [RNG.normal(size=(3, 3)) for _ in range(3)]
    g3 = fc.grad(ft.sum(fc.grad(ft.sum(fc.grad(ft.det(x), x) * d[0]), x) * d[1]), x)
    g4 = fc.grad(ft.sum(g3 * d[2]), x)
    np.testing.assert_array_equal(fc.function([x], g4, mode=MODE)(_of_rank(3, 3)), np.zeros((3, 3)))


def test_slogdet_and_log_det_third_derivatives() -> None:
    """log|det| (inv(x)^T's derivatives) at a regular and a nearly singular matrix (smallest
    singular value 1e-2: the derivatives grow as its powers), and log(det) through det."""
    u, v = np.linalg.qr(RNG.normal(size=(3, 3)))[0], np.linalg.qr(RNG.normal(size=(3, 3)))[0]
    near = (u * [2.0, 1.0, 1e-2]) @ v.T
    for what, a, h in (("regular", (u * [2.0, 1.5, 1.0]) @ v.T, 1e-3), ("nearly singular", near, 1e-5)):
        _check_orders(f"slogdet, {what}", lambda x: ft.slogdet(x)[1], a, 4, h)
    spd = _of_rank(3, 3)
    spd = spd @ spd.T + np.eye(3)
    _check_orders("log(det)", lambda x: ft.log(ft.det(x)), spd, 3, 1e-4)


# -- every rule's gradient graph, differentiated again ---------------------------------------------

#: operand ranges of the elementwise ops whose domain (or kinks) (0.2, 0.8) misses, per operand
DOMAINS: dict[str, list[tuple[float, float]]] = {
    "arccosh": [(1.2, 2.0)],
    "betainc": [(1.2, 2.5), (1.2, 2.5), (0.2, 0.8)],
    "betaincinv": [(1.2, 2.5), (1.2, 2.5), (0.2, 0.8)],
    "betainc_da": [(1.2, 2.5), (1.2, 2.5), (0.2, 0.8)],
    "betainc_db": [(1.2, 2.5), (1.2, 2.5), (0.2, 0.8)],
    "gammainc": [(1.2, 2.5), (0.2, 2.0)],
    "gammaincc": [(1.2, 2.5), (0.2, 2.0)],
    "gammainc_da": [(1.2, 2.5), (0.2, 2.0)],
    "gammaincinv": [(1.2, 2.5), (0.2, 0.8)],
    "gammainccinv": [(1.2, 2.5), (0.2, 0.8)],
    # away from the kinks of the quotient's floor and trunc
    "mod": [(2.1, 2.6), (0.7, 0.9)],
    "fmod": [(2.1, 2.6), (0.7, 0.9)],
    "copysign": [(0.2, 0.8), (-0.8, -0.2)],
    # away from the steps of the exponent (at 0.5) and of the rounding (at 0.5)
    **{
        name: [(0.55, 0.95)]
        for name in ("frexp_exponent", "frexp_mantissa", "round", "round_half_away_from_zero")
    },
}
#: elementwise ops whose operands are not all floats: (operand kinds), "i" an int, "b" a bool,
#: "c" a constant float (a Bessel function's order)
OPERAND_KINDS: dict[str, str] = {
    **{name: "ii" for name in ("and_", "or_", "xor", "lshift", "rshift")},
    "invert": "i",
    "ldexp": "fi",
    "switch": "bff",
    "jv": "cf",
    "yv": "cf",
    "iv": "cf",
    "kv": "cf",
    "ive": "cf",
    "kve": "cf",
}


def _elementwise_case(name: str) -> Any:
    """A case of the table of ``test_grad_second_order`` for the elementwise op ``name``: the
    cube of its sum (its gradient's gradient, times its own gradient squared), in each float
    operand; None where it has no float operand to differentiate."""
    from fncache.tensor.scalar_ops import SCALAR_OPS

    nin = SCALAR_OPS[name].nin
    kinds = OPERAND_KINDS.get(name, "f" * nin)
    ranges = DOMAINS.get(name, [(0.2, 0.8)] * nin)
    floats = [i for i, k in enumerate(kinds) if k == "f"]
    if not floats:
        return None
    rng = np.random.default_rng(sum(map(ord, name)))  # the same values whatever ran before
    vals = [rng.uniform(*ranges[i], 3) for i in floats]

    def cost(*xs: Any) -> Any:
        it = iter(xs)
        args = [
            next(it)
            if k == "f"
            else ft.constant(np.array([1, 0, 1], bool))
            if k == "b"
            else ft.constant(np.array([2, -1, 3]))
            if k == "i"
            else 1.5
            for k in kinds
        ]
        return ft.sum(elemwise(name, *args) ** 3)

    return cost, vals, list(range(len(floats)))


def _u(lo: float, hi: float, *shape: int) -> np.ndarray:
    return RNG.uniform(lo, hi, shape)


def _cube(e: Any) -> Any:
    return ft.sum(e**3)


def _grad_cube(e: Any, x: Any) -> Any:
    """A cost built from a first gradient: its gradient differentiates the gradient's own ops
    (``SortGrad``, ``MaxPoolGradGrad``...) once more."""
    return _cube(fc.grad(_cube(e), x))


def _csr_of(data: Any) -> Any:
    """A 2 x 4 csr matrix holding ``data`` (4 values) at fixed entries."""
    indices, indptr = np.array([0, 2, 1, 3], "int32"), np.array([0, 2, 4], "int32")
    return sparse.CSR(data, indices, indptr, np.array([2, 4]))


_SQ = _u(-1, 1, 3, 3) + 3 * np.eye(3)
_M = _u(-1, 1, 3, 4)
_V4 = _u(-1, 1, 4)
_IMG = _u(-1, 1, 1, 1, 4, 4)

_X = ft.dvector("x")


def _CTC(a: Any) -> Any:
    return ctc(a, np.array([[1, 2], [2, 2]], "int32"), np.array([5, 4], "int32"))


#: the optimizer's solution to rounding, for differences of it
_TOL = {"tol": 1e-14}
#: an OpFromGraph, and a Python op whose gradient is built from ft ops
_SQUARE_OFG = OpFromGraph([_X], [ft.sin(_X) * _X])
_SQUARE_AS_OP = ft.as_op([ft.dvector], [ft.dvector], grad=lambda ins, gs: [gs[0] * 2 * ins[0]])(
    lambda v: v**2
)


#: name -> (cost of the inputs, their values, those differentiated), for the ops with gradient
#: rules that ``test_grad_second_order``'s table does not reach
SAMPLES: dict[str, Any] = {
    "indices_and_counts": (
        lambda m, v: (
            _cube(m[ft.arange(3), ft.argmax(m, axis=1)])
            + _cube(data_ops.bincount(np.array([0, 2, 2, 1]), weights=v))
            + _cube(ft.repeat(v, 2) * np.arange(8.0))
            + _cube(ft.repeat(v, np.array([1, 2, 0, 3])) * np.arange(6.0))
            + _cube(ft.sort(m, axis=ft.constant(np.int64(1))) * np.arange(4.0))
            + _cube(ft.tile(m, (2, 1)) * np.arange(24.0).reshape(6, 4))
            + _cube(ft.specify_shape(m, (3, 4)) * ft.unbroadcast(ft.shape_padleft(v), 0))
            + _grad_cube(ft.repeat(v, 2) * np.arange(8.0), v)
        ),
        [_M, _V4],
        [0, 1],
    ),
    "broadcast_tensordot": (
        lambda t, u: _cube(ft.batched_tensordot(t, u, 1)) + _cube(einsum("ij,jk->ik", t[0], u[1])),
        [_u(-1, 1, 2, 3, 4), _u(-1, 1, 2, 4, 2)],
        [0, 1],
    ),
    "checks": (
        lambda v: (
            _cube(ft.assert_op(v, ft.gt(ft.sum(v), -100)))
            + _cube(CheckAndRaise(ValueError, "negative")(v, ft.gt(ft.sum(v), -100)))
            + _cube(Print("audit")(v) * 0 + v)
            + _cube(ifelse(ft.gt(ft.sum(v), -100), ft.sin(v) * v, v))
        ),
        [_V4],
        [0],
    ),
    "factorizations": (
        lambda a: (
            _cube(linalg.pinv(a))
            + _cube(linalg.svd(a, compute_uv=False))
            + _cube(ft.abs(linalg.qr(a)[1]))
            + _cube(linalg.lstsq(a, np.ones(3))[0])
            + _cube(linalg_extra.expm(0.3 * a))
            + _grad_cube(linalg.det(a), a)
            + _cube(linalg_extra.lu_solve(linalg_extra.lu_factor(a), np.ones(3)))
        ),
        [_SQ],
        [0],
    ),
    "discrete_are": (
        lambda a: _cube(linalg_scipy.solve_discrete_are(0.1 * a, a, np.eye(3), np.eye(3))),
        [_SQ],
        [0],
    ),
    "pool_neighbours_fft": (
        lambda x, m: (
            _cube(pool.pool_2d(x, (2, 2), ignore_border=True, mode="average_exc_pad"))
            + _cube(neighbours.neibs2images(neighbours.images2neibs(x, (2, 2)) ** 2, (2, 2), x.shape))
            + _grad_cube(pool.pool_2d(x**2, (2, 2), ignore_border=True), x)
            + ft.sum(fft.irfft(fft.rfft(m) ** 2) ** 2)
        ),
        [_IMG, _M],
        [0, 1],
    ),
    "inner_graphs": (
        lambda v: (
            _cube(
                fc.scan(lambda a, acc: acc * ft.sin(a) + a, sequences=[v], outputs_info=[ft.constant(1.0)])[0]
            )
            + _cube(ft.jacobian(ft.sin(v) * v, v))
            + _cube(_SQUARE_OFG(v))
            + _cube(_SQUARE_AS_OP(v))
        ),
        [_V4],
        [0],
    ),
    "sparse": (
        lambda d, v: (
            _cube(sparse.structured_dot(sparse.csr_from_dense(d), d.T))
            + _cube(sparse.dense_from_sparse(sparse.true_dot(sparse.csr_from_dense(d), d.T)))
            + _cube(sparse.usmm(2.0, sparse.csr_from_dense(d), d.T, d @ d.T))
            + _cube(sparse.add(sparse.csr_from_dense(d), d))
            + _cube(sparse.dense_from_sparse(sparse.mul(sparse.csr_from_dense(d), sparse.csr_from_dense(d))))
            + _cube(sparse.dense_from_sparse(sparse.neg(sparse.transpose(sparse.csr_from_dense(d)))))
            + _cube(sparse.sp_sum(sparse.csr_from_dense(d), axis=0))
            + _cube(sparse.dense_from_sparse(sparse.hstack([_csr_of(v), _csr_of(v)])))
            + _cube(sparse.dense_from_sparse(sparse.remove0(sparse.ensure_sorted_indices(_csr_of(v)))))
            + _cube(sparse.dense_from_sparse(sparse.add_s_s_data(_csr_of(v), _csr_of(v))))
            + _cube(sparse.dense_from_sparse(sparse.add(_csr_of(v), _csr_of(ft.sin(v)))))
            + _cube(sparse.diag(sparse.csr_from_dense(d[:, :3])))
            + sparse.sp_sum(
                sparse.sqr(sparse.get_item_list(sparse.csr_from_dense(d), [0, 2])), sparse_grad=True
            )
            + _cube(sparse.sparse_grad(d[np.array([0, 2])]))
            + _cube(
                sparse.dense_from_sparse(sparse.lt(sparse.csr_from_dense(d), sparse.csr_from_dense(-d))) * d
            )
            + _cube(sparse.lt(sparse.csr_from_dense(d), d) * d)
        ),
        [_M, _V4],
        [0, 1],
    ),
    "optimize": (
        lambda p, x0: _cube(
            optimize.minimize(ft.sum((x0 - p) ** 4 + (x0 - ft.sin(p)) ** 2), x0, optimizer_kwargs=_TOL)[0]
        ),
        [_V4, np.zeros(4)],
        [0],
    ),
    # a cost of gammainc's derivative in k: its gradient holds the second, GammaincDkk
    "gammainc_shape": (
        lambda k, x: _cube(fc.grad(_cube(ft.gammainc(k, x)), k)),
        [_u(1.2, 2.5, 3), _u(0.2, 2.0, 3)],
        [0],
    ),
    "betainc_shape": (
        lambda a, b: _cube(fc.grad(_cube(ft.betainc(a, b, 0.3)), a) * b),
        [_u(1.2, 2.5, 3), _u(1.2, 2.5, 3)],
        [0, 1],
    ),
    # two examples, one with a repeated label; and a cost of the gradient, whose gradient holds
    # the Hessian's product, CTCLossHessian
    "ctc": (lambda a: ft.sum(_CTC(a) ** 2), [_u(-1, 1, 5, 2, 3)], [0]),
    "ctc_gradient": (lambda a: _grad_cube(ft.sum(_CTC(a) * [1.0, 0.5]), a), [_u(-1, 1, 5, 2, 3)], [0]),
    "hyp2f1": (
        lambda a, z: _cube(hyp2f1(a, 0.7 * a + 0.1, 1.3 + a, 0.8 * z)),
        [_u(0.2, 0.8, 3), _u(-0.5, 0.5, 3)],
        [0, 1],
    ),
}

#: registered op classes no case differentiates twice, and why
NOT_SAMPLED = {
    "RandomVariable": "a draw has no gradient (differentiating through one raises TypeError)",
    "RandomDraw": "a draw has no gradient (differentiating through one raises TypeError)",
    "ZeroGrad": "a gradient marker changes the gradient on purpose, at every order",
    "DisconnectedGrad": "a gradient marker changes the gradient on purpose, at every order",
    "GradClip": "a gradient marker changes the gradient on purpose, at every order",
    "GradScale": "a gradient marker changes the gradient on purpose, at every order",
    "UndefinedGrad": "a gradient marker whose gradient is undefined (differentiating through one raises TypeError)",
}

#: the cases whose second derivative is refused, with the op the error names
REFUSED = {
    "ctc_gradient": "CTCLossHessian",
    "gammainc_da": "GammaincDkk",
    "gammainc_shape": "GammaincDkk",
    "betainc_da": "BetaincD2",
    "betainc_db": "BetaincD2",
    "betainc_shape": "BetaincD2",
}


def _all_cases() -> dict[str, Any]:
    """Every case: ``test_grad_second_order``'s table, this file's samples, and one per
    elementwise op with a float operand that the table does not compute."""
    from fncache.tensor.grad_rules import SCALAR_GRADS
    from test_grad_second_order import CASES

    order2 = {f"order2 {k}": v for k, v in CASES.items()}
    computed = _ops_of([_graph(case, 0)[1] for case in order2.values()])[1]
    elementwise = {name: _elementwise_case(name) for name in sorted(set(SCALAR_GRADS) - computed)}
    return {**order2, **SAMPLES, **{k: v for k, v in elementwise.items() if v is not None}}


def _ops_of(graphs: list[list]) -> tuple[set[type], set[str]]:
    """The op classes of the graphs of these outputs, and the names of their elementwise ops."""
    from fncache.graph.basic import ancestors
    from fncache.tensor.elemwise import Elemwise

    classes, scalars = set(), set()
    for v in ancestors([o for outs in graphs for o in outs]):
        if v.owner is not None:
            classes.add(type(v.owner.op))
            if isinstance(v.owner.op, Elemwise):
                scalars.update(step[0] for step in v.owner.op.composite.steps)
    return classes, scalars


def _graph(case: Any, order: int) -> tuple[list, list]:
    """The case's inputs and its gradients of orders 1..``order`` (along random directions)."""
    cost_of, vals, wrt = case
    xs = [ft.tensor(dtype="float64", shape=(None,) * v.ndim) for v in vals]
    ws = [xs[i] for i in wrt]
    outs, scalar = [], cost_of(*xs)
    outs.append(scalar)
    for _ in range(order):
        gs = fc.grad(scalar, ws, disconnected_inputs="ignore")
        outs += gs
        scalar = sum(ft.sum(g * RNG.normal(size=vals[i].shape)) for g, i in zip(gs, wrt))
    return xs, outs


def test_every_gradient_rule_is_differentiated_twice_by_a_case() -> None:
    """Every registered rule (every module's, branch rules, every elementwise op's) is in the forward or
    first-gradient graph of a case, so its gradient graph is differentiated again, or is
    listed with the reason it is not."""
    import importlib
    import pkgutil

    from fncache.tensor import gradient
    from fncache.tensor.grad_rules import SCALAR_GRADS

    for m in pkgutil.walk_packages(ft.__path__, "fncache.tensor."):
        importlib.import_module(m.name)
    graphs = []
    for case in _all_cases().values():
        try:
            graphs.append(_graph(case, 1)[1])
        except NullTypeGradError:  # refused at the first order already (REFUSED)
            graphs.append(_graph(case, 0)[1])
    classes, scalars = _ops_of(graphs)
    missing = [
        c.__name__
        for c in [*gradient._RULES, *gradient._BRANCH_RULES]
        # fncache's own rules; other test modules register rules for their ops in this process too
        if c.__module__.startswith("fncache.")
        and c.__name__ not in NOT_SAMPLED
        and not any(issubclass(k, c) for k in classes)
    ]
    assert not missing, f"rules no case differentiates twice: {missing}"
    # the elementwise ops with a float operand (the others' gradients are None)
    assert set(SCALAR_GRADS) - scalars <= {k for k, kinds in OPERAND_KINDS.items() if "f" not in kinds}


def test_second_derivative_of_every_rule_equals_differences_or_is_refused_naming_the_op() -> None:
    """Each case's gradient differentiated again equals the differences of the gradient (one
    function for all, where a NullTypeGradError fails the test), but for the cases in
    ``REFUSED``, which raise NullTypeGradError naming the op of the gradient graph that has no
    gradient and the derivative it would be."""
    from test_grad_second_order import _check_table

    cases = {k: v for k, v in _all_cases().items() if not k.startswith("order2 ")}  # checked there
    for name in set(REFUSED) & set(cases):
        with pytest.raises(NullTypeGradError, match=REFUSED[name]) as refused:
            _graph(cases[name], 2)
        assert "derivative" in str(refused.value) and "not implemented" in str(refused.value), str(
            refused.value
        )
    _check_table({k: v for k, v in cases.items() if k not in REFUSED}, products=False)


def test_betainc_shape_derivatives_of_tiny_shapes_are_finite() -> None:
    """Both shapes below 1e-154: I_x(a, b) is b / (a + b) to within a few times a log(a), so
    its derivatives are -b / (a + b)**2 and a / (a + b)**2, of the order of 1 / a (the
    continued fraction's 1 / a**2 overflowed: -inf and inf in C, NaN in Python), in both
    linkers, on both sides of the mean."""
    a0 = np.array([1e-200, 1e-160, 1e-300, 1e-200, 1e-200, 2e-155])
    b0 = np.array([1e-200, 1e-160, 1e-300, 3e-200, 1e-200, 1e-160])
    x0 = np.array([0.3, 0.3, 0.6, 0.7, 0.9, 0.5])
    a, b, x = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    outs = fc.grad(ft.sum(ft.betainc(a, b, x)), [a, b])
    share = b0 / (a0 + b0)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        da, db = fc.function([a, b, x], outs, mode=mode)(a0, b0, x0)
        np.testing.assert_allclose(da, -share / (a0 + b0), rtol=1e-10, err_msg=mode)
        np.testing.assert_allclose(db, (1 - share) / (a0 + b0), rtol=1e-10, err_msg=mode)


def test_betainc_second_derivative_in_a_tiny_shape_is_nan_not_a_wrong_value() -> None:
    """Twice in a shape below 1e-10 beside a far larger one the quadrature cancels (at 1e-16 it
    gave -0.43 and 3.2 where the value, flat in the shape there, is -0.236): NaN there; the same
    derivative at 1e-8, the mixed one and the other shape's stay finite, and both shapes tiny
    together keep 1 / (4 a**2)."""
    a, b, x = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    da, db = fc.grad(ft.sum(ft.betainc(a, b, x)), [a, b])
    f = fc.function([a, b, x], [fc.grad(ft.sum(da), a), fc.grad(ft.sum(da), b), fc.grad(ft.sum(db), b)])
    aa, ab, bb = f(np.array([1e-16, 1e-8, 2.0, 1e-12]), np.array([2.0, 2.0, 1e-16, 1e-12]), np.full(4, 0.3))
    assert np.isnan(aa[0]) and np.isnan(bb[2]), (aa, bb)
    assert np.isfinite(ab).all() and np.isfinite(aa[1:]).all() and np.isfinite(bb[[0, 1, 3]]).all()
    np.testing.assert_allclose(aa[1], -0.23601, rtol=1e-4)
    np.testing.assert_allclose(aa[3], 1 / (4 * 1e-24), rtol=1e-6)


def test_gammainc_second_derivative_in_its_shape_equals_differences_of_the_first() -> None:
    """d2 gammainc / dk2 (and so gammaincc's, -1 times it) from k = 0.05 to 2000 and x from 1e-3
    to 3000, below, at and above the mean, within 1e-6 of differences of the first derivative
    (the C helper's, steps scaled to how fast it changes), or of the largest value where it
    crosses 0."""
    ks = np.repeat([0.05, 0.6, 1.7, 12.0, 80.0, 2000.0], 6)
    scale = np.tile([1e-3, 0.1, 0.6, 1.0, 1.4, 5.0], 6)
    xs = np.maximum(ks * scale, 1e-3) + np.tile([0.0, 0.0, 0.0, 0.3, 0.0, 0.0], 6)
    k, x = ft.dvector("k"), ft.dvector("x")
    dk = fc.grad(ft.sum(ft.gammainc(k, x)), k)
    first = fc.function([k, x], dk)
    second = fc.function(
        [k, x], fc.grad(ft.sum(dk), k) - fc.grad(ft.sum(fc.grad(ft.sum(ft.gammaincc(k, x)), k)), k)
    )
    from fncache.tensor.gamma_reference import digamma_pos

    h = np.minimum(0.01 / (1 + np.abs(np.log(xs) - np.vectorize(digamma_pos)(ks))), ks / 20)
    h = np.minimum(h, 1e-3 * np.sqrt(ks) + 1e-4)
    want = (
        -first(ks + 2 * h, xs) + 8 * first(ks + h, xs) - 8 * first(ks - h, xs) + first(ks - 2 * h, xs)
    ) / (12 * h)
    got = second(ks, xs) / 2
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-300)


def test_betainc_second_derivatives_in_its_shapes_equal_differences_of_the_first() -> None:
    """d2 betainc / da2, / da db and / db2 for shapes from 1e-4 to 5000, below, near and above
    the mean, within 1e-6 of differences of the first derivatives (the C helper's)."""
    a0 = np.repeat([1e-4, 0.05, 0.7, 2.5, 40.0, 3000.0], 4)
    b0 = np.tile([0.05, 1.0, 15.0, 5000.0], 6)
    x0 = np.tile([0.001, 0.3, 0.6, 0.97], 6)
    a, b, x = ft.dvector("a"), ft.dvector("b"), ft.dvector("x")
    first = fc.grad(ft.sum(ft.betainc(a, b, x)), [a, b])
    f1 = fc.function([a, b, x], first)
    f2 = fc.function([a, b, x], fc.grad(ft.sum(first[0]), [a, b]) + fc.grad(ft.sum(first[1]), [b]))
    got = f2(a0, b0, x0)
    for (i, j), g in zip([(0, 0), (0, 1), (1, 1)], got):
        h = 1e-3 * np.minimum([a0, b0][j], 1.0) / (1 + 20 * ([a0, b0][j] < 0.1))
        step = [h * (j == 0), h * (j == 1)]
        at = [f1(a0 + t * step[0], b0 + t * step[1], x0)[i] for t in (2, 1, -1, -2)]
        want = (-at[0] + 8 * at[1] - 8 * at[2] + at[3]) / (12 * h)
        np.testing.assert_allclose(
            g, want, rtol=1e-6, atol=1e-300, err_msg=f"d2 betainc / d{'ab'[i]} d{'ab'[j]}"
        )


def test_shape_second_derivatives_of_many_elements_equal_each_alone() -> None:
    """GammaincDkk and BetaincD2 compute every element at once (a series' elements leave it at
    different terms, the quadratures run over blocks of elements): an array of more elements
    than a block, below and above the mean, gives each element's value computed alone."""
    rng = np.random.default_rng(4)
    n = 2600  # each side of the mean more than a block (gamma_shape._CHUNK)
    k = np.exp(rng.uniform(np.log(0.05), np.log(2000.0), n))
    x = k * np.exp(rng.uniform(-1.5, 2.5, n))
    a, b = (np.exp(rng.uniform(np.log(1e-3), np.log(1000.0), n)) for _ in range(2))
    y = rng.uniform(0.0, 1.0, n)
    kv, xv, av, bv, yv = (ft.dvector(name) for name in "kxaby")
    dk = fc.grad(ft.sum(ft.gammainc(kv, xv)), kv)
    db = fc.grad(ft.sum(ft.betainc(av, bv, yv)), bv)
    outs = [fc.grad(ft.sum(dk), kv), *fc.grad(ft.sum(db), [av, bv])]
    f = fc.function([kv, xv, av, bv, yv], outs, mode="FAST_COMPILE")
    together = f(k, x, a, b, y)
    picked = rng.choice(n, 40, replace=False)
    alone = f(k[picked], x[picked], a[picked], b[picked], y[picked])
    for name, whole, each in zip(["gammainc kk", "betainc ab", "betainc bb"], together, alone):
        np.testing.assert_allclose(whole[picked], each, rtol=1e-14, atol=0, err_msg=name)
        assert np.isfinite(whole).all(), name
