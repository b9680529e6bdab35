"""Gradients as a Theano/PyTensor user porting their code would check them: the cases PyTensor's
and Theano's own gradient tests exercise (elementwise ops with broadcasting of every kind,
reductions with axes and keepdims, join/stack/reshape/dimshuffle, indexing with negative and
stepped slices, sorting/scans/repetition/tensordot/batched matmul), written again against
central finite differences in float64 (``fcutil.fd_check_grads``) or closed forms.

Kinks follow PyTensor: ``abs`` has gradient 0 at 0, ``clip`` passes the gradient at its bounds
(``lo <= x <= hi``), ``maximum``/``minimum`` give it to the operand taken (the first at a tie),
``max``/``min`` to every element equal to the result. Most cases run under the Python linker (a compile costs nothing there); a
subset compiles to C in one function."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.random import RandomStream

from fcutil import fd_check_grads, fd_jacobian

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261202)


def _u(shape: tuple, lo: float, hi: float) -> np.ndarray:
    return np.asarray(RNG.uniform(lo, hi, size=shape))


def _var(name: str, v: np.ndarray, static: bool) -> Any:
    """A float64 variable for value ``v``: its size-1 dims declared (``static``) or not (then
    broadcasting happens at run time only)."""
    dt = v.dtype.name
    shape = tuple(1 if static and s == 1 else None for s in v.shape)
    return ft.TensorType(dt, shape)(name)


def _check(build: Callable[..., Any], vals: list[np.ndarray], static: bool = False, mode: Any = PY) -> None:
    ins = [_var(f"x{i}", v, static) for i, v in enumerate(vals)]
    used = [i for i, v in enumerate(vals) if v.dtype.kind == "f"]
    fd_check_grads(ins, {"case": (build, used)}, [vals], mode=mode)


# -- every binary op under every kind of broadcasting -------------------------------------------
# (op, domain of the first operand, domain of the second): domains keep away from kinks.
BINARY: dict[str, tuple[Callable[..., Any], tuple, tuple]] = {
    "add": (lambda a, b: a + b, (-2, 2), (-2, 2)),
    "sub": (lambda a, b: a - b, (-2, 2), (-2, 2)),
    "mul": (lambda a, b: a * b, (-2, 2), (-2, 2)),
    "true_div": (lambda a, b: a / b, (-2, 2), (0.5, 2)),
    "pow": (lambda a, b: a**b, (0.5, 2), (-1.5, 1.5)),
    "maximum": (ft.maximum, (-2, -0.1), (0.1, 2)),
    "minimum": (ft.minimum, (-2, -0.1), (0.1, 2)),
    "arctan2": (ft.arctan2, (-2, 2), (0.5, 2)),
    "hypot": (ft.hypot, (0.3, 2), (-2, -0.3)),
    "logaddexp": (ft.logaddexp, (-2, 2), (-2, 2)),
    "fmod": (ft.fmod, (2.1, 2.9), (1.0, 1.05)),
    "mod": (lambda a, b: a % b, (2.1, 2.9), (1.0, 1.05)),
    "copysign": (ft.copysign, (0.3, 2), (-2, 2)),
    "where_gt": (lambda a, b: ft.where(a > b, a * 2, ft.sin(b)), (-2, 2), (-2, 2)),
}
SHAPES = {
    "same": ((3, 4), (3, 4)),
    "col_row": ((3, 1), (1, 4)),
    "scalar_left": ((), (3, 4)),
    "scalar_right": ((3, 4), ()),
    "ones_vs_vector": ((1, 1), (4,)),
    "3d_vs_2d": ((2, 3, 1), (3, 4)),
    "both_0d": ((), ()),
}


@pytest.mark.parametrize("static", [True, False], ids=["static", "runtime"])
@pytest.mark.parametrize("shapes", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("op", list(BINARY), ids=list(BINARY))
def test_binary_op_broadcasting(op: str, shapes: str, static: bool) -> None:
    fn, da, db = BINARY[op]
    sa, sb = SHAPES[shapes]
    _check(fn, [_u(sa, *da), _u(sb, *db)], static)


# -- unary ops, each on a domain where it is smooth ----------------------------------------------
UNARY: dict[str, tuple[Callable[..., Any], tuple]] = {
    "neg": (lambda x: -x, (-2, 2)),
    "abs": (ft.abs, (0.2, 2)),
    "abs_neg": (ft.abs, (-2, -0.2)),
    "exp": (ft.exp, (-2, 2)),
    "exp2": (ft.exp2, (-2, 2)),
    "expm1": (ft.expm1, (-1e-3, 1e-3)),
    "log": (ft.log, (0.2, 3)),
    "log1p": (ft.log1p, (-0.5, 2)),
    "log1p_tiny": (ft.log1p, (-1e-6, 1e-6)),
    "log2": (ft.log2, (0.2, 3)),
    "log10": (ft.log10, (0.2, 3)),
    "sqrt": (ft.sqrt, (0.1, 3)),
    "sqr": (ft.sqr, (-2, 2)),
    "square": (ft.square, (-2, 2)),
    "reciprocal": (ft.reciprocal, (0.5, 2)),
    "sin": (ft.sin, (-3, 3)),
    "cos": (ft.cos, (-3, 3)),
    "tan": (ft.tan, (-1.2, 1.2)),
    "arcsin": (ft.arcsin, (-0.9, 0.9)),
    "arccos": (ft.arccos, (-0.9, 0.9)),
    "arctan": (ft.arctan, (-3, 3)),
    "sinh": (ft.sinh, (-2, 2)),
    "cosh": (ft.cosh, (-2, 2)),
    "tanh": (ft.tanh, (-2, 2)),
    "arcsinh": (ft.arcsinh, (-3, 3)),
    "arccosh": (ft.arccosh, (1.2, 3)),
    "arctanh": (ft.arctanh, (-0.9, 0.9)),
    "sigmoid": (ft.sigmoid, (-5, 5)),
    "softplus": (ft.softplus, (-5, 5)),
    "erf": (ft.erf, (-2, 2)),
    "erfc": (ft.erfc, (-2, 2)),
    "erfinv": (ft.erfinv, (-0.9, 0.9)),
    "gammaln": (ft.gammaln, (0.1, 12)),
    "gammaln_negative": (ft.gammaln, (-2.9, -2.1)),
    "deg2rad": (ft.deg2rad, (-90, 90)),
    "rad2deg": (ft.rad2deg, (-2, 2)),
    "real": (ft.real, (-2, 2)),
    "conj": (ft.conj, (-2, 2)),
    "pow_int_exponent_negative_base": (lambda x: x**3 - x ** ft.constant(2, dtype="int64"), (-2, -0.2)),
    "pow_float_exponent": (lambda x: x**2.5, (0.2, 2)),
    "softmax": (lambda x: ft.softmax(x) * (x + 3), (-2, 2)),
    "log_softmax": (lambda x: ft.log_softmax(x, axis=0) * x, (-2, 2)),
    "logsumexp": (lambda x: ft.logsumexp(x, axis=-1, keepdims=True) * x, (-2, 2)),
}


@pytest.mark.parametrize("op", list(UNARY), ids=list(UNARY))
def test_unary_op(op: str) -> None:
    fn, dom = UNARY[op]
    _check(fn, [_u((2, 3), *dom)])


@pytest.mark.parametrize(
    "op",
    ["floor", "ceil", "round", "trunc", "sign", "imag", "angle", "isfinite", "signbit", "int_cast"],
)
def test_piecewise_constant_ops_have_zero_gradient(op: str) -> None:
    """The cost depends on x only through the op: the gradient is exactly 0 (not an error)."""
    x = ft.dvector("x")
    fn = (lambda v: ft.cast(v, "int32")) if op == "int_cast" else getattr(ft, op)
    y = fn(x)
    g = fc.grad(ft.sum(ft.cast(y, "float64") * 3.0), x)
    assert g.type == x.type
    np.testing.assert_array_equal(fc.function([x], g, mode=PY)(np.array([-1.5, 0.3, 2.7])), np.zeros(3))


# -- reductions over axes, negative axes and keepdims; var/std with ddof --------------------------
REDUCTIONS = {
    "sum": lambda x, ax, kd: ft.sum(x, axis=ax, keepdims=kd),
    "prod": lambda x, ax, kd: ft.prod(x, axis=ax, keepdims=kd),
    "mean": lambda x, ax, kd: ft.mean(x, axis=ax, keepdims=kd),
    "max": lambda x, ax, kd: ft.max(x, axis=ax, keepdims=kd),
    "min": lambda x, ax, kd: ft.min(x, axis=ax, keepdims=kd),
    "var": lambda x, ax, kd: ft.var(x, axis=ax, keepdims=kd),
    "var_ddof1": lambda x, ax, kd: ft.var(x, axis=ax, keepdims=kd, ddof=1),
    "std_ddof1": lambda x, ax, kd: ft.std(x, axis=ax, keepdims=kd, ddof=1),
    "logsumexp": lambda x, ax, kd: ft.logsumexp(x, axis=ax, keepdims=kd),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, -1, (0, -1), 1], ids=str)
@pytest.mark.parametrize("kind", list(REDUCTIONS))
def test_reduction(kind: str, axis: Any, keepdims: bool) -> None:
    # distinct values (max/min away from ties), a size-1 dim among the reduced ones
    v = RNG.permutation(np.linspace(0.5, 1.5, 12)).reshape(3, 1, 4)
    _check(lambda x: REDUCTIONS[kind](x, axis, keepdims), [v])


def test_max_min_ties_share_the_gradient() -> None:
    """PyTensor's rule: every element equal to the max (min) gets the output's gradient;
    maximum/minimum give it to the operand taken, the first at a tie."""
    x, y = ft.dmatrix("x"), ft.dmatrix("y")
    cost = (ft.max(x, axis=1) * [2.0, 3.0]).sum() + ft.min(x).sum() + ft.maximum(x, y).sum()
    f = fc.function([x, y], fc.grad(cost, [x, y]), mode=PY)
    xv = np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 2.0]])
    yv = np.array([[1.0, 0.5, 0.0], [1.0, 0.0, 3.0]])
    gx, gy = f(xv, yv)
    want_x = np.array([[2.0, 2.0, 0.0], [3.0, 0.0, 3.0]])  # the row maxima (ties)
    want_x += np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # the global min, a tie
    want_x += (xv >= yv) * 1.0
    np.testing.assert_array_equal(gx, want_x)
    np.testing.assert_array_equal(gy, (yv > xv) * 1.0)


def test_prod_and_cumprod_with_zeros() -> None:
    """The product of the other elements, exactly, with one zero and with several; and so are
    the second derivatives (the Hessians), zeros or not."""
    x = ft.dvector("x")
    weighted = ft.sum(ft.cumprod(x) * ft.arange(1, 5))
    outs = [fc.grad(ft.prod(x), x), ft.jacobian(ft.cumprod(x), x), ft.hessian(ft.prod(x), x)]
    f = fc.function([x], outs + [ft.hessian(weighted, x)], mode=PY)

    def others(v: np.ndarray, *i: int) -> float:
        return float(np.prod(np.delete(v, list(i))))

    for v in ([2.0, 0.0, 3.0, 5.0], [0.0, 2.0, 0.0, 4.0], [1.5, -2.0, 0.5, 3.0], [0.0] * 4, [1.0, 0, 0, 0]):
        v = np.array(v)
        g, jac, hess, hess_w = f(v)
        np.testing.assert_allclose(g, [others(v, i) for i in range(4)], rtol=1e-14)
        want_jac, want_hess, want_hess_w = np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4))
        for j, i in np.ndindex(4, 4):
            if i <= j:
                want_jac[j, i] = others(v[: j + 1], i)
            if i != j:
                want_hess[j, i] = others(v, i, j)
                want_hess_w[j, i] = sum((k + 1) * others(v[: k + 1], i, j) for k in range(max(i, j), 4))
        np.testing.assert_allclose(jac, want_jac, rtol=1e-14)
        np.testing.assert_allclose(hess, want_hess, rtol=1e-14)
        np.testing.assert_allclose(hess_w, want_hess_w, rtol=1e-14)


# -- structure: join, stack, reshape, flatten, dimshuffle, indexing, array functions ---------------
STRUCTURAL: dict[str, tuple[Callable[..., Any], list]] = {
    "concatenate_axis0": (lambda a, b: ft.concatenate([a, b, a * 2], axis=0), [(2, 3), (4, 3)]),
    "concatenate_axis_neg": (lambda a, b: ft.concatenate([a, b.T], axis=-1), [(2, 3), (4, 2)]),
    "stack_axis0": (lambda a, b: ft.stack([a, b, a * b]), [(2, 3), (2, 3)]),
    "stack_axis_neg": (lambda a, b: ft.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
    "stack_scalars": (lambda a, b: ft.stack([a, b, a * b]), [(), ()]),
    "reshape": (lambda a: a.reshape((3, 2)) * [1.0, 2.0], [(2, 3)]),
    "reshape_minus_one": (lambda a: ft.reshape(a, (-1,)) * np.arange(6.0), [(2, 3)]),
    "flatten_ndim2": (lambda a: ft.flatten(a, 2) * np.arange(12.0).reshape(2, 6), [(2, 3, 2)]),
    "dimshuffle_swap_add": (lambda a: a.dimshuffle(1, "x", 0) * np.arange(3.0)[:, None, None], [(2, 3)]),
    "dimshuffle_drop": (lambda a: ft.specify_shape(a, (None, 1, None)).dimshuffle(0, 2) * 2.0, [(3, 1, 2)]),
    "transpose_axes": (lambda a: ft.transpose(a, (2, 0, 1)) * np.arange(2.0)[:, None, None], [(3, 1, 2)]),
    "expand_squeeze": (
        lambda a: ft.squeeze(ft.expand_dims(a, 0)) * ft.squeeze(a[:, 1:], 1)[:, None],
        [(3, 2)],
    ),
    "index_int": (lambda a: a[1] * a[-1], [(3, 4)]),
    "index_negative_step": (lambda a: a[::-1] * a[::-2].sum(), [(5, 2)]),
    "index_stepped_ranges": (lambda a: a[3:0:-2, 1::2] + a[-4:-1:2, ::-3], [(5, 4)]),
    "index_empty_slice": (lambda a: a[3:1].sum() + a[:0, 1:].sum() + a.sum(), [(4, 2)]),
    "index_ellipsis_newaxis": (lambda a: a[..., 1] + a[None, 0, :, 0], [(3, 2, 3)]),
    "index_repeated": (lambda a: a[0] + a[0] * a[1] + a[:2].sum(0), [(3, 2)]),
    "repeated_use": (lambda a: a * a * a + ft.exp(a) * a - a / (a * a + 1), [(2, 3)]),
    "outer": (lambda a, b: ft.outer(a, b), [(3,), (2, 2)]),
    "cumsum_axis": (lambda a: ft.cumsum(a, axis=1) * np.arange(4.0), [(3, 4)]),
    "cumsum_flat": (lambda a: ft.cumsum(a) * np.arange(12.0), [(3, 4)]),
    "cumprod_axis0": (lambda a: ft.cumprod(a, axis=0), [(3, 4)]),
    "cumprod_flat": (lambda a: ft.cumprod(a), [(2, 3)]),
    "sort_last": (lambda a: ft.sort(a) * np.arange(4.0), [(3, 4)]),
    "sort_axis0": (lambda a: ft.sort(a, axis=0) * np.arange(3.0)[:, None], [(3, 4)]),
    "sort_flat": (lambda a: ft.sort(a, axis=None) * np.arange(12.0), [(3, 4)]),
    "sort_twice": (lambda a: ft.sort(ft.sort(a) * [3.0, -1.0, 2.0]) * [1.0, 2.0, 4.0], [(2, 3)]),
    "repeat_scalar": (lambda a: ft.repeat(a, 3, axis=1) * np.arange(6.0), [(2, 2)]),
    "repeat_vector": (lambda a: ft.repeat(a, [2, 0, 3], axis=0) * np.arange(5.0)[:, None], [(3, 2)]),
    "repeat_flat": (lambda a: ft.repeat(a, 2) * np.arange(12.0), [(2, 3)]),
    "tile": (lambda a: ft.tile(a, (2, 3)) * np.arange(9.0), [(2, 3)]),
    "tile_more_dims": (lambda a: ft.tile(a, (2, 1, 2)) * np.arange(6.0), [(3,)]),
    "tensordot_1": (lambda a, b: ft.tensordot(a, b, axes=1), [(2, 3), (3, 4)]),
    "tensordot_2": (lambda a, b: ft.tensordot(a, b, axes=2), [(2, 3, 4), (3, 4, 2)]),
    "tensordot_swapped": (lambda a, b: ft.tensordot(a, b, axes=[[0, 2], [2, 0]]), [(2, 3, 4), (4, 5, 2)]),
    "matmul_batched": (lambda a, b: ft.matmul(a, b), [(2, 3, 4), (2, 4, 2)]),
    "matmul_broadcast": (lambda a, b: ft.matmul(a, b), [(2, 3, 4), (4, 2)]),
    "matmul_batch_of_one": (lambda a, b: ft.matmul(a, b), [(1, 3, 4), (2, 4, 2)]),
    "matmul_vector_left": (lambda a, b: ft.matmul(a, b), [(4,), (2, 4, 3)]),
    "matmul_vector_right": (lambda a, b: ft.matmul(a, b), [(2, 3, 4), (4,)]),
    "dot_mv": (lambda a, b: ft.dot(a, b), [(3, 4), (4,)]),
    "dot_vm": (lambda a, b: ft.dot(a, b), [(4,), (4, 3)]),
    "specify_shape": (lambda a: ft.specify_shape(a, (2, None)) * 3.0, [(2, 3)]),
    "alloc": (lambda a: ft.alloc(a, 3, 2, 4) * np.arange(4.0), [(2, 1)]),
    "full": (lambda a: ft.full((2, 3), a) * np.arange(3.0), [()]),
    "zeros_like_plus": (lambda a: ft.zeros_like(a) + ft.ones_like(a) * a, [(2, 2)]),
}


@pytest.mark.parametrize("static", [True, False], ids=["static", "runtime"])
@pytest.mark.parametrize("case", list(STRUCTURAL), ids=list(STRUCTURAL))
def test_structural(case: str, static: bool) -> None:
    fn, shapes = STRUCTURAL[case]
    vals = [np.asarray(_u(s, 0.3, 1.7) * RNG.choice([-1.0, 1.0], size=s)) for s in shapes]
    _check(fn, vals, static)


@pytest.mark.parametrize("n", [0, 1, 4])
def test_array_function_gradients_at_every_length(n: int) -> None:
    """One function for every run-time length, 0 included."""
    x = ft.dvector("x")
    ys = [ft.cumsum(x), ft.cumprod(x), ft.sort(x), ft.repeat(x, 2), ft.tile(x, 2), ft.tensordot(x, x, 1)]
    w = [ft.sum(y * ft.arange(y.shape[0]) if y.ndim else y) for y in ys]
    f = fc.function([x], fc.grad(sum(w[1:], w[0]), x), mode=PY)
    cost = fc.function([x], sum(w[1:], w[0]), mode=PY)
    v = RNG.uniform(0.5, 1.5, n)
    got = f(v)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, fd_jacobian(cost, [v], 0), rtol=1e-6, atol=1e-7)


# -- switch/where, clip, abs, sqrt and pow at their special points ----------------------------------
def test_switch_where_broadcasting() -> None:
    _check(
        lambda c, a, b: ft.switch(c[:, :1] > 0, a, b) + ft.where(c > 0.5, b[0], a * c),
        [
            _u((3, 4), -1, 1),
            _u((3, 1), -1, 1),
            _u((1, 4), -1, 1),
        ],
    )


def test_clip_at_and_beyond_its_bounds() -> None:
    """PyTensor's rule: x gets the gradient where lo <= x <= hi (bounds included)."""
    x = ft.dvector("x")
    g = fc.grad(ft.sum(ft.clip(x, -1.0, 1.0) * [1.0, 2.0, 3.0, 4.0, 5.0]), x)
    got = fc.function([x], g, mode=PY)(np.array([-1.0, 1.0, 0.5, 2.0, -3.0]))
    np.testing.assert_array_equal(got, [1.0, 2.0, 3.0, 0.0, 0.0])


def test_abs_sqrt_pow_special_points() -> None:
    x, n = ft.dvector("x"), ft.lvector("n")
    cost = ft.sum(ft.abs(x)) + ft.sum(x**n) + ft.sum(ft.sqrt(x * x + 1))
    f = fc.function([x, n], fc.grad(cost, x), mode=PY)
    xv = np.array([0.0, -2.0, -0.5, 3.0])
    nv = np.array([2, 3, -1, 0])
    want = np.sign(xv) + nv * xv ** (nv - 1.0) + xv / np.sqrt(xv * xv + 1)
    np.testing.assert_allclose(f(xv, nv), want, rtol=1e-14)
    # sqrt's gradient at 0 is +inf, as numpy's limit; x**0 has gradient 0 everywhere
    s = fc.function([x], fc.grad(ft.sum(ft.sqrt(x) + x**0.0), x), mode=PY)
    np.testing.assert_array_equal(s(np.array([0.0, 4.0])), [np.inf, 0.25])


def test_pow_exponent_gradient_at_zero_base() -> None:
    """d(x**y)/dy = log(x) x**y, taken as 0 at x == 0 (the limit), as PyTensor."""
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, y], fc.grad(ft.sum(x**y), y), mode=PY)
    np.testing.assert_allclose(f(np.array([0.0, 2.0]), np.array([1.5, 0.5])), [0.0, math.log(2) * 2**0.5])


# -- the driver: casts, consider_constant, shared variables, float32 ------------------------------
def test_gradient_through_integer_casts_is_zero() -> None:
    x = ft.dvector("x")
    via_int = ft.cast(ft.cast(x * 3.0, "int64"), "float64")
    g = fc.grad(ft.sum(via_int * x), x)
    xv = np.array([0.4, 1.2, -2.5])
    np.testing.assert_array_equal(fc.function([x], g, mode=PY)(xv), np.trunc(xv * 3))
    with pytest.raises(ValueError, match="does not depend on"):
        fc.grad(ft.sum(via_int), ft.dvector("other"))


def test_consider_constant_blocks_one_path_only() -> None:
    x = ft.dvector("x")
    h = ft.exp(x)
    cost = ft.sum(h * x + h)
    g = fc.grad(cost, x, consider_constant=[h])
    xv = np.array([0.3, -0.7])
    np.testing.assert_allclose(fc.function([x], g, mode=PY)(xv), np.exp(xv), rtol=1e-14)
    with pytest.raises(ValueError, match="does not depend on"):
        fc.grad(ft.sum(h), x, consider_constant=[h])


def test_a_wrt_variable_in_consider_constant_still_gets_its_gradient() -> None:
    """consider_constant stops the gradient from flowing past a variable, not into it."""
    x = ft.dvector("x")
    h = ft.exp(x)
    gh, gx = fc.grad(ft.sum(h * h + x), [h, x], consider_constant=[h, x])
    xv = np.array([0.2, -1.0])
    got = fc.function([x], [gh, gx], mode=PY)(xv)
    np.testing.assert_allclose(got[0], 2 * np.exp(xv), rtol=1e-14)
    np.testing.assert_array_equal(got[1], [1.0, 1.0])


def test_gradient_with_respect_to_shared_variables() -> None:
    w = fc.shared(np.array([0.5, -1.0, 2.0]), name="w")
    b = fc.shared(np.float64(0.25), name="b")
    x = ft.dmatrix("x")
    cost = ft.sum(ft.tanh(ft.dot(x, w) + b) ** 2)
    gw, gb = fc.grad(cost, [w, b])
    assert gw.type == w.type and gb.type == b.type
    step = fc.function([x], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=PY)
    xv = _u((4, 3), -1, 1)
    wv, bv = np.array([0.5, -1.0, 2.0]), 0.25
    t = np.tanh(xv @ wv + bv)
    d = 2 * t * (1 - t * t)
    step(xv)
    np.testing.assert_allclose(w.get_value(), wv - 0.1 * (xv.T @ d), rtol=1e-13)
    np.testing.assert_allclose(b.get_value(), bv - 0.1 * d.sum(), rtol=1e-13)


FLOAT32_CASES: dict[str, Callable[..., Any]] = {
    "elemwise": lambda x, y: ft.exp(x) * y + ft.sqrt(x * x + 1.0) - x / (y * y + 2.0),
    "reduce": lambda x, y: ft.prod(x, axis=0) * ft.max(y, axis=0) + ft.var(x, axis=0, ddof=1),
    "structural": lambda x, y: ft.cumsum(ft.sort(x, axis=0), axis=0) + ft.tile(y[:1], (2, 1)),
    "dot": lambda x, y: ft.dot(x.T, y),
}


@pytest.mark.parametrize("case", list(FLOAT32_CASES))
def test_float32_types_and_values(case: str) -> None:
    """float32 inputs get float32 gradients, equal to the float64 ones to float32 precision."""
    xs = {dt: (ft.matrix("x", dt), ft.matrix("y", dt)) for dt in ("float32", "float64")}
    fns = {}
    for dt, (x, y) in xs.items():
        gs = fc.grad(ft.sum(FLOAT32_CASES[case](x, y) ** 2), [x, y])
        assert [g.type for g in gs] == [x.type, y.type]
        fns[dt] = fc.function([x, y], gs, mode=PY)
    xv, yv = _u((2, 3), 0.5, 1.5), _u((2, 3), -1, 1)
    got = fns["float32"](xv.astype("float32"), yv.astype("float32"))
    want = fns["float64"](xv, yv)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=1e-5)


# -- second derivatives, jacobian and hessian ----------------------------------------------------
SECOND = {
    "tanh": (ft.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
    "sigmoid": (ft.sigmoid, lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
    "log1p": (ft.log1p, lambda v: -1 / (1 + v) ** 2),
    "arctan2": (lambda v: ft.arctan2(v, 2.0), lambda v: -4 * v / (v * v + 4) ** 2),
    "pow": (lambda v: v**3.5, lambda v: 3.5 * 2.5 * v**1.5),
    "erf": (ft.erf, lambda v: -4 * v / math.sqrt(math.pi) * np.exp(-v * v)),
    "gammaln": (ft.gammaln, None),
    "cumsum_exp": (lambda v: ft.cumsum(ft.exp(v)), None),
    "sort_sqr": (lambda v: ft.sort(v) ** 2 * ft.arange(3), None),
}


@pytest.mark.parametrize("case", list(SECOND))
def test_second_derivatives(case: str) -> None:
    """grad of grad: the Hessian's diagonal for elementwise ops against closed forms, and every
    Hessian against differences of the (checked) gradient."""
    fn, want = SECOND[case]
    x = ft.dvector("x")
    cost = ft.sum(fn(x))
    g = fc.grad(cost, x)
    g2 = fc.grad(ft.sum(g), x)
    f = fc.function([x], [g, g2, ft.hessian(cost, x)], mode=PY)
    v = np.array([0.3, 1.1, 2.0])
    _, gg, h = f(v)
    if want is not None:
        np.testing.assert_allclose(gg, want(v), rtol=1e-12)
    np.testing.assert_allclose(h, fd_jacobian(lambda a: f(a)[0], [v], 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gg, h.sum(0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 3), (0, 3), (3, 0)], ids=str)
def test_jacobian_of_non_square_and_empty(shape: tuple) -> None:
    m, v = ft.dmatrix("m"), ft.dvector("v")
    out = ft.tanh(ft.dot(m, v))
    jm, jv = ft.jacobian(out, [m, v])
    h = ft.hessian(ft.sum(ft.exp(v) * v), v)
    f = fc.function([m, v], [out, jm, jv, h], mode=PY)
    fwd = fc.function([m, v], out, mode=PY)
    mv, vv = _u(shape, -1, 1), _u(shape[1:], -1, 1)
    o, gm, gv, hv = f(mv, vv)
    assert gm.shape == o.shape + mv.shape and gv.shape == o.shape + vv.shape
    assert hv.shape == vv.shape * 2
    np.testing.assert_allclose(gm, fd_jacobian(fwd, [mv, vv], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gv, fd_jacobian(fwd, [mv, vv], 1), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hv, np.diag(np.exp(vv) * (2 + vv)), rtol=1e-12)


# -- compiled to C: a subset, in one function --------------------------------------------------------
def test_subset_compiled_to_c() -> None:
    a, b, s = ft.dmatrix("a"), ft.dmatrix("b"), ft.dscalar("s")
    cases = {
        "binary": (lambda a, b, s: ft.arctan2(a, b) + ft.hypot(a, s) + ft.logaddexp(a, b) * s, [0, 1, 2]),
        "unary": (lambda a, b, s: ft.arcsinh(a) + ft.erfc(b) + ft.exp2(a) * ft.gammaln(b + 3), [0, 1]),
        "reduce": (lambda a, b, s: ft.std(a, axis=-1, ddof=1) + ft.prod(b, axis=1) * s, [0, 1, 2]),
        "structural": (
            lambda a, b, s: ft.cumsum(a, axis=1) * ft.sort(b, axis=1) + ft.repeat(a[:, :1], 3, axis=1),
            [0, 1],
        ),
        "indexing": (lambda a, b, s: a[::-1] * b[:, ::-2].sum() + ft.tile(b[0], (2, 1)), [0, 1]),
    }
    vals = [_u((2, 3), 0.5, 1.5), _u((2, 3), 0.5, 1.5), np.asarray(0.7)]
    fd_check_grads([a, b, s], cases, [vals, [v * -1.0 if v.ndim else v for v in vals]])


# -- refusals: clear errors, never a crash -----------------------------------------------------------
def test_ops_without_a_gradient_name_the_op_and_the_fix() -> None:
    x = ft.dvector("x")
    with pytest.raises(NotImplementedError, match=r"grad=fn"):

        @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
        def double(v: np.ndarray) -> np.ndarray:
            return v * 2

        fc.grad(ft.sum(double(x)), x)
    mu = ft.dscalar("mu")
    draw = RandomStream(1).normal(mu, 1.0, size=(3,))
    with pytest.raises(TypeError, match=r"Random\{normal.*loc \+ scale \* stream.normal"):
        fc.grad(ft.sum(draw * mu), mu)
    # treated as a constant, the draw's value scales mu's gradient
    g = fc.grad(ft.sum(draw * mu), mu, consider_constant=[draw])
    d, gv = fc.function([mu], [draw, g], mode=PY)(np.float64(2.0))
    np.testing.assert_allclose(gv, d.sum(), rtol=1e-14)
    with pytest.raises(IndexError, match="could not be broadcast together"):
        ft.dmatrix("m")[np.array([0, 2]), np.array([1, 1, 1])]
