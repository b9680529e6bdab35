"""Gradients, second round of the cases PyTensor's and Theano's own gradient tests exercise,
written again for fncache (the first round, ``test_grad_ported.py``, has the elementwise ops,
reductions and array functions one at a time):

* indexing with symbolic bounds and steps (negative ones included), mixed with constant ones,
  and composite ops built from indexing and joins (split, roll, flip, a window); float indexing
  refused clearly (int-array and mask indexing: ``test_advanced_indexing.py``);
* shape changes with broadcasting of every operand, sizes of 1 known only at run time,
  ``switch``/``where`` with the condition broadcast, ``arange``-dependent shapes, ``clip``
  with symbolic bounds, softmax/log-softmax/norms written with ops, at large inputs too;
* second derivatives of every op kind above: the full matrix of second derivatives, through
  ``ft.hessian``/``ft.jacobian`` of the gradient, against differences of the gradient;
* the gradient driver as Theano's ``test_gradient.py`` uses it: quadratic and cubic forms and
  their gradients' gradients, duplicated inputs, known_grads layer by layer, consider_constant
  and zero_grad tables, a gradient with respect to a constant or an intermediate variable,
  jacobian/hessian of scalars/vectors/matrices with several ``wrt``, integer costs and
  integer ``wrt`` (refused, naming the fix: by design fncache differentiates float variables);
* what the user hands in checked: gradients given from outside (known_grads, eval points, an
  as_op's or a registered rule's result) of the wrong kind or run-time size, and arguments
  of the wrong kind, raise naming the argument.

Everything in float64 against central differences (``fcutil``) or closed forms, mostly under
the Python linker (a compile there costs nothing); a few functions compile to C."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import Apply, Op
from fncache.tensor.gradient import register_grad

from fcutil import fd_check_grads, fd_jacobian

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261203)


def _u(shape: tuple, lo: float = 0.3, hi: float = 1.7, signed: bool = True) -> np.ndarray:
    v = RNG.uniform(lo, hi, size=shape)
    return np.asarray(v * RNG.choice([-1.0, 1.0], size=shape) if signed else v)


def _var(name: str, v: np.ndarray, static: bool) -> Any:
    """A variable for value ``v``: its size-1 dims declared (``static``) or left unknown."""
    shape = tuple(1 if static and s == 1 else None for s in v.shape)
    return ft.TensorType(v.dtype.name, shape)(name)


def _check(build: Callable[..., Any], vals: list[np.ndarray], static: bool = False, mode: Any = PY) -> None:
    ins = [_var(f"x{i}", v, static) for i, v in enumerate(vals)]
    used = [i for i, v in enumerate(vals) if v.dtype.kind == "f"]
    fd_check_grads(ins, {"case": (build, used)}, [vals], mode=mode)


def _i(v: int) -> np.ndarray:
    return np.asarray(v, dtype="int64")


# -- indexing with symbolic bounds, and ops composed of indexing and joins ------------------------
# (builder, values): int64 0-d values are symbolic indices, bounds or steps.
INDEXING: dict[str, tuple[Callable[..., Any], list]] = {
    "int_negative": (lambda a, i, j: a[i] * a[j] + a[i, j], [(3, 4), _i(-1), _i(2)]),
    "slice_bounds": (lambda a, i, j: a[i:j] * 2.0 + a[i:, :j].sum(), [(5, 3), _i(1), _i(-1)]),
    "slice_negative_step": (lambda a, i, k: a[::k] * a[i::k].sum(), [(5, 2), _i(3), _i(-1)]),
    "slice_step_minus_two": (lambda a, i, k: a[i::k, ::k] + 0.0, [(6, 5), _i(-2), _i(-2)]),
    "slice_clipped_bounds": (lambda a, i, j: a[i:j] * a[-j:i].sum(), [(4, 2), _i(-9), _i(9)]),
    "slice_empty_at_run_time": (lambda a, i, j: a[j:i].sum() + a[i:j].sum() * a[0], [(4,), _i(1), _i(3)]),
    "int_then_broadcast": (lambda a, b, i: a[i] + b * a[i, :1], [(3, 4), (2, 1, 4), _i(-2)]),
    "window_sum": (lambda a, i: sum(a[k : k + i] for k in range(3)) * np.arange(2.0), [(4,), _i(2)]),
    "split_three": (
        lambda a, i, j: a[:i] * a[:i].sum() + ft.concatenate([a[i:j], a[j:]], axis=0).prod(0),
        [(5, 2), _i(2), _i(4)],
    ),
    "roll_by_symbolic": (
        lambda a, k: ft.concatenate([a[-k:], a[:-k]]) * np.arange(5.0),
        [(5,), _i(2)],
    ),
    "flip_both_axes": (lambda a: a[::-1, ::-1] * np.arange(6.0).reshape(2, 3), [(2, 3)]),
    "diagonal_by_ints": (lambda a: ft.stack([a[k, k] for k in range(3)]) * [1.0, 2.0, 3.0], [(3, 3)]),
}


@pytest.mark.parametrize("case", list(INDEXING), ids=list(INDEXING))
def test_indexing(case: str) -> None:
    fn, specs = INDEXING[case]
    vals = [s if isinstance(s, np.ndarray) else _u(s) for s in specs]
    _check(fn, vals)


def test_gradient_of_symbolic_indexing_at_every_bound() -> None:
    """One function; indices at both ends and beyond them (slices clip as numpy's do)."""
    a, i, j = ft.dvector("a"), ft.lscalar("i"), ft.lscalar("j")
    cost = ft.sum(a[i:j] * 2.0) + ft.sum(a[j:i:-1] ** 2) + a[i] * 3.0
    f = fc.function([a, i, j], fc.grad(cost, a), mode=PY)
    v = np.array([0.5, -1.0, 2.0, 1.5, -0.25])
    pos = np.arange(5)
    for iv, jv in [(0, 5), (-5, 4), (4, -6), (2, 2), (-1, 0), (3, 1), (0, 9)]:
        want = np.zeros(5)
        want[pos[iv:jv]] += 2.0
        want[pos[jv:iv:-1]] += 2 * v[pos[jv:iv:-1]]
        want[iv] += 3.0
        np.testing.assert_allclose(f(v, iv, jv), want, rtol=1e-14, err_msg=f"i={iv} j={jv}")
    with pytest.raises(IndexError):
        f(v, 5, 1)


def test_float_indexing_refused_clearly() -> None:
    """Float indices are refused when the graph is built, naming the cast to write; int index
    arrays and boolean masks are advanced indexing (``test_advanced_indexing.py``)."""
    a = ft.dvector("a")
    for key in (ft.dvector("k"), [0.0, 2.0]):
        with pytest.raises(TypeError, match=r"int dtype.*ft.cast"):
            a[key]
    with pytest.raises(TypeError, match="int or a symbolic int scalar"):
        a[ft.dscalar("s")]


# -- shape changes, switch/where, arange shapes, ops written with ops ------------------------------
COMPOSITE: dict[str, tuple[Callable[..., Any], list]] = {
    "concatenate_broadcast_then_join": (
        lambda a, b: ft.concatenate([a + b, b * a], axis=1),
        [(3, 1), (1, 2)],
    ),
    "stack_of_broadcast": (lambda a, b: ft.stack([a * b, a + b], axis=1), [(3, 1), (4,)]),
    "flatten_transpose_reshape": (
        lambda a: ft.reshape(ft.flatten(ft.transpose(a)), (2, 6)) * np.arange(12.0).reshape(2, 6),
        [(3, 2, 2)],
    ),
    "dimshuffle_broadcast_both": (
        lambda a, b: a.dimshuffle(0, "x", 1) * b.dimshuffle("x", 0, "x"),
        [(2, 3), (4,)],
    ),
    "squeeze_expand_negative": (
        lambda a: ft.expand_dims(ft.squeeze(ft.specify_shape(a, (None, 1, None)), -2), -1) * [2.0, 3.0],
        [(2, 1, 3)],
    ),
    "switch_condition_row": (
        lambda a, b: ft.switch(a[:1] > 0, a * b, b - a),
        [(3, 4), (1, 4)],
    ),
    "switch_condition_column_branches_scalar": (
        lambda a, s: ft.switch(a[:, :1] > 0, s * a, ft.exp(s)),
        [(3, 2), ()],
    ),
    "where_condition_broadcast_to_both": (
        lambda c, a, b: ft.where(c > 0, a, b) * c,
        [(2, 1, 1), (1, 3, 1), (1, 1, 4)],
    ),
    "arange_of_shape": (
        lambda a: a * ft.arange(a.shape[1]) + ft.sum(a[:, : a.shape[0]] * ft.arange(a.shape[0])),
        [(2, 4)],
    ),
    "mean_two_axes_keepdims": (lambda a: a - ft.mean(a, axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    "var_ddof2_std_ddof0": (
        lambda a: ft.var(a, axis=1, ddof=2) * ft.std(a, axis=0, keepdims=True).sum(),
        [(3, 4)],
    ),
    "max_min_with_argmax_weights": (
        lambda a: ft.max(a, axis=0) * ft.cast(ft.argmax(a, axis=0), "float64") + ft.min(a, axis=1).sum(),
        [(3, 4)],
    ),
    "softmax_by_ops": (
        lambda a: (e := ft.exp(a - ft.max(a, axis=1, keepdims=True))) / e.sum(axis=1, keepdims=True) * a,
        [(2, 4)],
    ),
    "log_softmax_by_ops": (
        lambda a: (a - ft.log(ft.sum(ft.exp(a), axis=-1, keepdims=True))) * np.arange(4.0),
        [(2, 4)],
    ),
    "l2_norm_rows": (lambda a: a / ft.sqrt(ft.sum(a**2, axis=1, keepdims=True)), [(3, 4)]),
    "l1_norm_and_max_norm": (lambda a: ft.sum(ft.abs(a), axis=0) + ft.max(ft.abs(a), axis=0), [(3, 4)]),
    "frobenius_of_product": (lambda a, b: ft.sqrt(ft.sum(ft.dot(a, b) ** 2)), [(2, 3), (3, 4)]),
    "logsumexp_keepdims_minus": (lambda a: a - ft.logsumexp(a, axis=0, keepdims=True), [(3, 2)]),
}


@pytest.mark.parametrize("static", [True, False], ids=["static", "runtime"])
@pytest.mark.parametrize("case", list(COMPOSITE), ids=list(COMPOSITE))
def test_composite(case: str, static: bool) -> None:
    fn, shapes = COMPOSITE[case]
    _check(fn, [_u(s) for s in shapes], static)


# (builder, values): an op's result of size 1 at run time only, broadcast against a larger
# operand; the gradient must sum the broadcast back through the op.
RUN_TIME_ONES: dict[str, tuple[Callable[..., Any], list]] = {
    "slice": (lambda a, b, i, j: a[i:j] * b, [(5,), (3,), _i(1), _i(2)]),
    "slice_column": (lambda a, b, i: a[:, i : i + 1] * b, [(2, 3), (2, 3), _i(1)]),
    "negative_step": (lambda a, b: a[::-3] * b, [(3,), (3,)]),
    "index_then_column": (lambda a, b, i: a[i] * b, [(2, 1), (2, 3), _i(0)]),
    "sort_cumsum_cumprod": (lambda a, b: (ft.sort(a) + ft.cumsum(a) * ft.cumprod(a)) * b, [(1,), (3,)]),
    "repeat_alloc_symbolic": (lambda a, b, k: ft.repeat(a, k) * ft.alloc(a, k) * b, [(1,), (3,), _i(1)]),
    "concatenate_with_empty": (lambda a, c, b: ft.concatenate([a, c]) * b, [(1,), (0,), (3,)]),
    "reshape_symbolic": (lambda a, b: ft.reshape(a, (a.shape[0], -1)) * b, [(2,), (3,)]),
    "dot_matmul_tensordot": (
        lambda a, c, b: (ft.dot(a, c) + ft.matmul(a, c)) * b + ft.tensordot(a[0], c, 1) * b[0],
        [(1, 2), (2, 1), (3, 3)],
    ),
    "outer_and_reductions": (
        lambda a, c, b: ft.outer(a, c) * b + ft.sum(a[None], axis=0)[:, None] * ft.max(c, keepdims=True),
        [(2,), (1,), (3,)],
    ),
    "softmax_logsumexp": (
        lambda a, b: ft.softmax(a) * b + ft.logsumexp(a, axis=1, keepdims=True),
        [(2, 1), (2, 3)],
    ),
    "switch_all_operands": (lambda c, a, b: ft.switch(c > 0, a, b), [(1,), (3,), (1,)]),
}


@pytest.mark.parametrize("case", list(RUN_TIME_ONES), ids=list(RUN_TIME_ONES))
def test_size_one_at_run_time_through_structural_ops(case: str) -> None:
    fn, specs = RUN_TIME_ONES[case]
    _check(fn, [s if isinstance(s, np.ndarray) else _u(s) for s in specs])


@pytest.mark.parametrize(
    "fn", ["softmax", "log_softmax", "logsumexp", "softmax_by_ops", "log_softmax_by_ops"]
)
def test_softmax_family_gradients_finite_at_large_inputs(fn: str) -> None:
    """Inputs of 1000 and -1000 (exp overflows/underflows): the gradient is the closed form,
    finite, for fncache's ops and for the max-shifted spellings."""
    builders = {
        "softmax": lambda x: ft.softmax(x),
        "log_softmax": lambda x: ft.log_softmax(x, axis=-1),
        "logsumexp": lambda x: ft.logsumexp(x, axis=-1, keepdims=True),
        "softmax_by_ops": COMPOSITE["softmax_by_ops"][0],
        "log_softmax_by_ops": lambda x: (
            x
            - ft.max(x, axis=1, keepdims=True)
            - ft.log(ft.sum(ft.exp(x - ft.max(x, axis=1, keepdims=True)), axis=1, keepdims=True))
        ),
    }
    x = ft.dmatrix("x")
    w = np.array([[1.0, 2.0, 3.0, -1.0], [0.5, -2.0, 1.0, 4.0]])
    f = fc.function([x], fc.grad(ft.sum(builders[fn](x) * w), x), mode=PY)
    v = np.array([[1000.0, 1001.0, 999.0, -1000.0], [-1000.0, -1003.0, 1000.0, 1000.0]])
    s = np.exp(v - v.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    if fn in ("softmax", "softmax_by_ops"):
        want = s * (w - (s * w).sum(1, keepdims=True))
        if fn == "softmax_by_ops":  # times x: d(s * x) adds s * w elementwise
            want = s * (w * v - (s * w * v).sum(1, keepdims=True)) + s * w
    elif fn == "logsumexp":
        want = s * w.sum(1, keepdims=True)
    else:
        want = w - s * w.sum(1, keepdims=True)
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_clip_with_symbolic_bounds_gives_each_element_one_gradient() -> None:
    """PyTensor's rule: x gets the gradient where lo <= x <= hi, a bound only where it is the
    result strictly (x < lo, x > hi); at a tie x alone gets it, so the gradients of x and of
    the bounds sum to the output's gradient (the derivative of clip(t, t, t + 1) in t is 1),
    and the value is numpy.clip's, NaN from any operand included."""
    x, lo, hi = ft.dvector("x"), ft.dscalar("lo"), ft.dvector("hi")
    out = ft.clip(x, lo, hi)
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    gx, glo, ghi = fc.grad(ft.sum(out * w), [x, lo, hi])
    f = fc.function([x, lo, hi], [out, gx, glo, ghi], mode=PY)
    f_c = fc.function([x, lo, hi], [out, gx, glo, ghi])
    xv = np.array([-2.0, 0.5, 3.0, 1.0, -1.0, np.nan])
    hv = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    val, g_x, g_lo, g_hi = f(xv, -1.0, hv)
    for got, want in zip(f_c(xv, -1.0, hv), [val, g_x, g_lo, g_hi]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(val, np.clip(xv, -1.0, hv))
    np.testing.assert_array_equal(g_x[:5], [0.0, 2.0, 0.0, 4.0, 5.0])
    np.testing.assert_array_equal(g_lo, 1.0)
    np.testing.assert_array_equal(g_hi[:5], [0.0, 0.0, 3.0, 0.0, 0.0])
    for lo_v, hi_v in [(np.nan, hv), (-1.0, np.full(6, np.nan)), (2.0, hv)]:
        np.testing.assert_array_equal(f(xv, lo_v, hi_v)[0], np.clip(xv, lo_v, hi_v))
        np.testing.assert_array_equal(f_c(xv, lo_v, hi_v)[0], np.clip(xv, lo_v, hi_v))
    t = ft.dscalar("t")
    d = fc.grad(ft.clip(t, t, t + 1.0) + ft.clip(t, t - 1.0, t), t)
    np.testing.assert_array_equal(fc.function([t], d, mode=PY)(0.5), 2.0)
    _check(
        lambda a, b, c: ft.clip(a, b, c) * a,
        [_u((3, 4)), _u((3, 1), -0.5, -0.2, False), _u((4,), 0.2, 0.5, False)],
    )


# -- second derivatives of every op kind --------------------------------------------------------
# (builder, shapes): the full second-derivative matrix of sum(e**2 + e) -- every pair of inputs
SECOND: dict[str, tuple[Callable[..., Any], list]] = {
    "elemwise_unary": (
        lambda a: ft.exp(a) * ft.tanh(a) + ft.log1p(a * a) + ft.sigmoid(a) * ft.erf(a),
        [(2, 2)],
    ),
    "elemwise_binary_broadcast": (
        lambda a, b: a**2 * b + a / (b * b + 1) + ft.arctan2(a, b + 3),
        [(2, 1), (1, 3)],
    ),
    "pow_both": (lambda a, b: ft.abs(a) ** b, [(3,), (3,)]),
    "maximum_clip_abs": (
        lambda a, b: ft.maximum(a, b) ** 2 + ft.clip(a, -0.5, 0.5) * b + ft.abs(a) * a,
        [(4,), (4,)],
    ),
    "switch_broadcast": (lambda a, b: ft.switch(a > 0, a * b, ft.sin(a)), [(2, 3), (1, 3)]),
    "sum_prod_mean": (
        lambda a: ft.sum(a, axis=0) * ft.prod(a, axis=1).sum() + ft.mean(a**3, axis=(0, 1)),
        [(2, 3)],
    ),
    "max_min": (lambda a: ft.max(a, axis=1) ** 2 + ft.min(a, axis=0).sum() * a[0, 0], [(2, 3)]),
    "var_std": (lambda a: ft.var(a, axis=1) + ft.std(a, axis=0, ddof=1) * a[1], [(3, 3)]),
    "logsumexp_softmax": (lambda a: ft.logsumexp(a, axis=1, keepdims=True) + ft.softmax(a), [(2, 3)]),
    "log_softmax": (lambda a: ft.log_softmax(a, axis=0) * a, [(3, 2)]),
    "concatenate_stack": (
        lambda a, b: ft.concatenate([a * b, ft.stack([a[0], b[0]])], axis=0),
        [(2, 2), (1, 2)],
    ),
    "reshape_dimshuffle": (lambda a: ft.reshape(a, (3, 2)).dimshuffle(1, "x", 0) ** 3, [(2, 3)]),
    "indexing_symbolic": (lambda a, i: a[i::-1] ** 3 + a[i] * a[0], [(4,), _i(2)]),
    "tile_repeat": (lambda a: ft.tile(a, (2,)) ** 2 * ft.repeat(a, 2), [(3,)]),
    "sort_cumsum_cumprod": (lambda a: ft.sort(a) * ft.cumsum(a) + ft.cumprod(a), [(4,)]),
    "dot_matmul_tensordot": (
        lambda a, b: ft.dot(a, b) ** 2 + ft.matmul(a * a, b).sum() + ft.tensordot(a, b * b, axes=1),
        [(2, 3), (3, 2)],
    ),
    "outer_alloc": (lambda a: ft.outer(a, a) * ft.alloc(a[0], 2, 2), [(2,)]),
}


def _check_second_derivatives(build: Callable[..., Any], vals: list[np.ndarray], mode: Any = PY) -> None:
    ins = [_var(f"x{i}", v, False) for i, v in enumerate(vals)]
    fl = [i for i, v in enumerate(vals) if v.dtype.kind == "f"]
    e = build(*ins)
    cost = ft.sum(ft.sqr(e) + e)
    grads = fc.grad(cost, [ins[j] for j in fl])
    blocks = [ft.jacobian(g, [ins[k] for k in fl], disconnected_inputs="ignore") for g in grads]
    hess = ft.hessian(cost, [ins[j] for j in fl])
    outs = grads + [b for row in blocks for b in row] + hess
    f = fc.function(ins, outs, mode=mode, on_unused_input="ignore")
    got = f(*vals)
    n = len(fl)
    g_fn = fc.function(ins, grads, mode=mode, on_unused_input="ignore")
    for r, j in enumerate(fl):
        for c, k in enumerate(fl):
            want = fd_jacobian(lambda *a, r=r: g_fn(*a)[r], vals, k)
            np.testing.assert_allclose(
                got[n + r * n + c], want, rtol=1e-6, atol=1e-7, err_msg=f"d2/d x{j} d x{k}"
            )
        np.testing.assert_allclose(got[n + n * n + r], got[n + r * n + r], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("case", list(SECOND), ids=list(SECOND))
def test_second_derivatives(case: str) -> None:
    fn, specs = SECOND[case]
    # away from kinks and ties: distinct magnitudes, the sign random
    vals = [s if isinstance(s, np.ndarray) else _u(s, 0.4, 1.6) for s in specs]
    if case == "pow_both":
        vals[1] = np.abs(vals[1]) + 1.0
    _check_second_derivatives(fn, vals)


def test_hessian_vector_products_agree_with_the_hessian() -> None:
    """H p without forming H (PyTensor's hessian_vector_product), for a matrix and a vector
    variable at once, equals the full Hessian's blocks times p."""
    a, b = ft.dmatrix("a"), ft.dvector("b")
    cost = ft.sum(ft.tanh(ft.dot(a, b)) ** 2) + ft.sum(ft.exp(a) * b[::-1]) + ft.prod(b)
    pa, pb = ft.dmatrix("pa"), ft.dvector("pb")
    hvp = ft.hessian_vector_product(cost, [a, b], [pa, pb])
    g = fc.grad(cost, [a, b])
    blocks = [ft.jacobian(gi, [a, b]) for gi in g]
    f = fc.function([a, b, pa, pb], hvp + [x for row in blocks for x in row], mode=PY)
    av, bv, pav, pbv = _u((2, 3)), _u((3,)), _u((2, 3)), _u((3,))
    ha, hb, haa, hab, hba, hbb = f(av, bv, pav, pbv)
    np.testing.assert_allclose(ha, np.tensordot(haa, pav, 2) + np.tensordot(hab, pbv, 1), rtol=1e-12)
    np.testing.assert_allclose(hb, np.tensordot(hba, pav, 2) + np.tensordot(hbb, pbv, 1), rtol=1e-12)
    np.testing.assert_allclose(hab.transpose(2, 0, 1), hba, rtol=1e-12, atol=1e-14)


# -- the driver, as Theano's test_gradient.py exercises it ----------------------------------------
FORMS: dict[str, Callable[..., Any]] = {
    "quadratic": lambda x, m: ft.dot(x, ft.dot(m, x)),
    "quadratic_vector": lambda x, m: ft.dot(x * x, m),
    "cubic": lambda x, m: ft.dot(x * x, ft.dot(m, x)),
    "grad_of_quadratic": lambda x, m: fc.grad(ft.dot(x, ft.dot(m, x)), x),
    "grad_of_cubic": lambda x, m: fc.grad(ft.dot(x * x, ft.dot(m, x)), x),
    "duplicate_input": lambda x, m: x * x + m[0] * m[0],
}


@pytest.mark.parametrize("form", list(FORMS))
def test_forms_and_their_gradients_verify(form: str) -> None:
    rng = np.random.default_rng([2026, 12, 3])
    ft.verify_grad(FORMS[form], [rng.standard_normal(2), rng.standard_normal((2, 2))], rng=rng, mode=PY)


def test_known_grads_layer_by_layer_equal_the_full_gradient() -> None:
    """Starting the reverse pass from the gradients of any layer of the graph (a cut) gives the
    same gradient of the inputs as differentiating the cost."""
    full_range = ft.arange(10)
    x, t, coeffs = ft.dscalar("x"), ft.lscalar("t"), ft.dvector("c")
    ft_t = full_range[t]
    ct = coeffs[t]
    p = x ** ft.cast(ft_t, "float64")
    y = ct * p
    cost = ft.sqr(y)
    layers = [[cost], [y], [ct, p], [ct, x], [coeffs, x]]
    inputs = [coeffs, x]
    vals = [np.linspace(-1.0, 2.0, 10), np.float64(1.3)]
    want = fc.function([coeffs, t, x], fc.grad(cost, inputs), mode=PY)(vals[0], 7, vals[1])
    for layer in layers:
        first = fc.grad(cost, layer, disconnected_inputs="ignore")
        full = fc.grad(None, inputs, known_grads=OrderedDict(zip(layer, first)), disconnected_inputs="ignore")
        got = fc.function([coeffs, t, x], full, mode=PY, on_unused_input="ignore")(vals[0], 7, vals[1])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-13, err_msg=str(layer))
    np.testing.assert_allclose(want[0], np.eye(10)[7] * 2 * vals[0][7] * 1.3**14, rtol=1e-13)


def test_silly_alloc_of_the_mean_has_gradient_one() -> None:
    """Theano's corner case of shape and alloc: alloc(sum(x) / len(x), len(x)).sum() == sum(x)."""
    x = ft.dvector("x")
    n = x.shape[0]
    cost = ft.alloc(x.sum() / n, n).sum()
    f = fc.function([x], fc.grad(cost, x, add_names=False), mode=PY)
    for k in (1, 3, 7):
        np.testing.assert_allclose(f(_u((k,))), np.ones(k), rtol=1e-14)


CONSTANT_TABLE: dict[str, tuple[Callable[..., Any], Callable[[np.ndarray], np.ndarray]]] = {
    "x_times_const_x": (lambda x, m: x * m(x), lambda a: a),
    "x_times_const_exp": (lambda x, m: x * m(ft.exp(x)), np.exp),
    "const_x_alone": (lambda x, m: m(x) + x * 0.0, lambda a: np.zeros_like(a)),
    "x_sq_times_const_x": (lambda x, m: x**2 * m(x), lambda a: 2 * a**2),
    "chain_of_markers": (lambda x, m: m(m(x) * x) * x + m(ft.exp(m(x))), lambda a: a * a),
}


@pytest.mark.parametrize("marker", ["consider_constant", "zero_grad", "disconnected_grad"])
@pytest.mark.parametrize("case", list(CONSTANT_TABLE))
def test_consider_constant_and_zero_grad_tables(case: str, marker: str) -> None:
    build, want = CONSTANT_TABLE[case]
    x = ft.dmatrix("x")
    g = fc.grad(build(x, getattr(ft, marker)).sum(), x)
    a = _u((3, 3))
    np.testing.assert_allclose(fc.function([x], g, mode=PY)(a), want(a), rtol=1e-13)


def test_consider_constant_list_equals_the_markers() -> None:
    """consider_constant=[h] cuts the same paths as wrapping h in a marker; cutting a chain at
    its middle leaves only the paths that do not pass through it."""
    x = ft.dvector("x")
    h1 = ft.exp(x)
    h2 = ft.sin(h1) * x
    cost = ft.sum(h2 * h1 + x * h2)
    g_cut = fc.grad(cost, x, consider_constant=[h2])
    g_cut_both = fc.grad(cost, x, consider_constant=[h1, h2])
    f = fc.function([x], [g_cut, g_cut_both], mode=PY)
    a = _u((3,))
    got = f(a)
    e, s = np.exp(a), np.sin(np.exp(a)) * a
    np.testing.assert_allclose(got[0], s * e + s, rtol=1e-13)
    np.testing.assert_allclose(got[1], s, rtol=1e-13)


def test_gradient_with_respect_to_a_constant_equals_consider_constant() -> None:
    """Theano: the gradient with respect to a constant is what a variable marked constant
    gets."""
    x, y = ft.dscalar("x"), ft.dscalar("y")
    one = ft.constant(1.0)
    g_x = fc.grad(x + y, x, consider_constant=[x])
    g_one = fc.grad(one * y + y, one)
    got = fc.function([x, y], [g_x, g_one], mode=PY, on_unused_input="ignore")(1.0, 0.5)
    np.testing.assert_allclose(got, [1.0, 0.5])


def test_gradient_with_respect_to_an_intermediate_variable() -> None:
    """An intermediate h is a leaf for grad(cost, h): paths from h to the cost only; its
    jacobian and Hessian too; a new expression equal to h is another variable (disconnected)."""
    x = ft.dvector("x")
    h = ft.exp(x)
    cost = ft.sum(h * h * x) + ft.sum(x)
    gh, gx = fc.grad(cost, [h, x])
    jh = ft.jacobian(h * x, h)
    hh = ft.hessian(cost, h)
    f = fc.function([x], [gh, gx, jh, hh], mode=PY)
    a = _u((3,))
    e = np.exp(a)
    got = f(a)
    np.testing.assert_allclose(got[0], 2 * e * a, rtol=1e-13)
    np.testing.assert_allclose(got[1], 2 * e * e * a + e * e + 1, rtol=1e-13)
    np.testing.assert_allclose(got[2], np.diag(a), rtol=1e-13)
    np.testing.assert_allclose(got[3], np.diag(2 * a), rtol=1e-13)
    with pytest.raises(ValueError, match="does not depend on"):
        fc.grad(cost, ft.exp(x))


def test_float32_input_gets_a_float32_gradient_through_float64_ops() -> None:
    """Theano's downcast case: x float32 feeding a float64 graph, the gradient is float32."""
    x, z = ft.fscalar("x"), ft.dscalar("z")
    y = x * 2
    c = ft.sum(ft.cast(y, "float64") * z + z)
    g_x, g_y, g_z, g_c = fc.grad(c, [x, y, z, c])
    assert g_x.dtype == "float32" and g_y.dtype == "float32"
    assert g_z.dtype == "float64" and g_c.dtype == "float64"
    got = fc.function([x, z], [g_x, g_y, g_z, g_c], mode=PY)(np.float32(1.5), 0.25)
    np.testing.assert_allclose([float(v) for v in got], [0.5, 0.25, 4.0, 1.0])


def test_integer_wrt_are_refused_with_the_fix() -> None:
    """Theano's dxdx and known_grads on integers, and grad with respect to an integer input:
    fncache differentiates with respect to float variables only (by design), and says how to
    get there. (An integer cost of float variables is taken: its gradient is zero.)"""
    i, x = ft.iscalar("i"), ft.dscalar("x")
    with pytest.raises(TypeError, match=r"with respect to i of dtype int32.*ft\.cast"):
        fc.grad(i, i)
    with pytest.raises(TypeError, match=r"i in known_grads is of dtype int32.*ft\.cast"):
        fc.grad(None, i, known_grads={i: x})
    m = ft.imatrix("m")
    with pytest.raises(TypeError, match=r"with respect to m of dtype int32.*ft\.cast"):
        fc.grad(ft.sum(ft.sigmoid(ft.dot(m, ft.dmatrix("w")))), m)
    # the float route Theano's test_grad_int compares against: differentiate the cast
    mf = ft.cast(m, "float64")
    w = ft.dmatrix("w")
    g = fc.grad(ft.sum(ft.sigmoid(ft.dot(mf, w))), mf)
    mv = np.arange(6, dtype="int32").reshape(2, 3) - 2
    wv = _u((3, 4))
    s = 1 / (1 + np.exp(-(mv @ wv)))
    np.testing.assert_allclose(fc.function([m, w], g, mode=PY)(mv, wv), (s * (1 - s)) @ wv.T, rtol=1e-13)
    # the float gradient of a scalar with respect to itself is 1
    np.testing.assert_allclose(fc.function([x], [fc.grad(x, x), x], mode=PY)(12.0)[0], 1.0)


@pytest.mark.parametrize("policy", ["warn", "ignore"])
def test_disconnected_policies_for_grad_jacobian_and_hessian(policy: str) -> None:
    x, y = ft.dvector("x"), ft.dmatrix("y")
    c = ft.sum(ft.exp(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gx, gy = fc.grad(c, [x, y], disconnected_inputs=policy)
        jx, jy = ft.jacobian(ft.exp(x), [x, y], disconnected_inputs=policy)
        hy = ft.hessian(c, y, disconnected_inputs=policy)
    said = [str(w.message) for w in caught if "does not depend on y" in str(w.message)]
    if policy == "warn":
        assert len(said) >= 3, said
    else:
        assert not said
    f = fc.function([x, y], [gx, gy, jx, jy, hy], mode=PY, on_unused_input="ignore")
    xv, yv = _u((3,)), _u((2, 2))
    got = f(xv, yv)
    np.testing.assert_allclose(got[0], np.exp(xv), rtol=1e-14)
    np.testing.assert_array_equal(got[1], np.zeros((2, 2)))
    np.testing.assert_allclose(got[2], np.diag(np.exp(xv)), rtol=1e-14)
    np.testing.assert_array_equal(got[3], np.zeros((3, 2, 2)))
    np.testing.assert_array_equal(got[4], np.zeros((2, 2, 2, 2)))
    for fn in (lambda: fc.grad(c, y), lambda: ft.jacobian(ft.exp(x), y), lambda: ft.hessian(c, y)):
        with pytest.raises(ValueError, match=r"does not depend on y.*disconnected_inputs='ignore'"):
            fn()


@pytest.mark.parametrize("linker", ["py", "c"])
def test_given_gradients_of_the_wrong_run_time_shape_are_refused(linker: str) -> None:
    """known_grads, Lop/Rop's eval_points and hessian_vector_product's p of a size known only
    when the function runs: a wrong size raises, naming the argument and the variable (a
    gradient built from them need not read the variable's shape, and would come back with the
    wrong one)."""
    a, g, m = ft.dvector("a"), ft.dvector("g"), ft.dmatrix("m")
    cases = {
        r"grad: the gradient given for mul.0 in known_grads": fc.grad(None, a, known_grads={a * 2: g}),
        r"grad: the gradient given for Sum\{axes=\[0\]\}.0 in known_grads": fc.grad(
            None, m, known_grads={m.sum(axis=0): g}
        ),
        r"Lop: the gradient given for mul.0 in eval_points": ft.Lop(a * 2, a, g),
        r"Rop: the gradient given for a in eval_points": ft.Rop(ft.sum(a * 2), a, g),
        r"hessian_vector_product: the gradient given for a in p": ft.hessian_vector_product(
            ft.sum(a**3), a, g
        ),
    }
    mode = fc.Mode(linker=linker)
    for match, out in cases.items():
        f = fc.function([a, m, g], out, mode=mode, on_unused_input="ignore")
        right = f(np.ones(3), np.ones((2, 3)), np.ones(3))
        assert np.all(np.isfinite(right))
        for wrong in (np.ones(2), np.ones(1)):
            with pytest.raises(AssertionError, match=match + r".*give one of .*'s shape"):
                f(np.ones(3), np.ones((2, 3)), wrong)


def test_argument_of_the_wrong_kind_names_the_argument_and_the_fix() -> None:
    """A single variable where a list is expected (consider_constant), a number where a
    variable is (wrt), a non-function (verify_grad's fun): each error names the argument."""
    a = ft.dvector("a")
    c = ft.sum(a**2)
    calls = {
        "grad": lambda **kw: fc.grad(c, a, **kw),
        "jacobian": lambda **kw: ft.jacobian(a * 2, a, **kw),
        "hessian": lambda **kw: ft.hessian(c, a, **kw),
        "Lop": lambda **kw: ft.Lop(a * 2, a, a, **kw),
        "hessian_vector_product": lambda **kw: ft.hessian_vector_product(c, a, a, **kw),
    }
    for what, call in calls.items():
        with pytest.raises(
            TypeError,
            match=rf"{what}: consider_constant must be a list of symbolic variables, got a; pass \[a\]",
        ):
            call(consider_constant=a)
        with pytest.raises(
            TypeError, match=rf"{what}: consider_constant must be a list of symbolic variables, got 1.5"
        ):
            call(consider_constant=1.5)
    wrts = {
        "grad": lambda w: fc.grad(c, w),
        "jacobian": lambda w: ft.jacobian(a * 2, w),
        "hessian": lambda w: ft.hessian(c, w),
        "Lop": lambda w: ft.Lop(a * 2, w, a),
        "Rop": lambda w: ft.Rop(a * 2, w, a),
        "hessian_vector_product": lambda w: ft.hessian_vector_product(c, w, a),
    }
    for what, call in wrts.items():
        with pytest.raises(
            TypeError, match=rf"{what}: wrt must be a symbolic variable or a list of them, got 3.0"
        ):
            call(3.0)
    for what, call in calls.items():
        with pytest.raises(ValueError, match=rf"{what}: disconnected_inputs must be one of .*got 'no'"):
            call(disconnected_inputs="no")
    with pytest.raises(
        TypeError, match=r"verify_grad: fun must be a function of symbolic variables .* got 3"
    ):
        ft.verify_grad(3, [np.ones(2)])
    # what is accepted goes on working: tuples and sets of variables
    h = ft.exp(a)
    for kept in ((h,), {h}, [h]):
        g = fc.grad(c + ft.sum(h), a, consider_constant=kept)
        np.testing.assert_allclose(fc.function([a], g, mode=PY)(np.ones(2)), [2.0, 2.0], rtol=1e-14)


BAD_AS_OP_GRADS: dict[str, tuple[Callable[..., Any], type, str]] = {
    "a list expected": (lambda ins, gs: gs[0] * 3, TypeError, r"must return a list .* got mul"),
    "too many": (lambda ins, gs: [gs[0], gs[0]], ValueError, r"returned 2 gradients for 1 inputs"),
    "not a tensor": (lambda ins, gs: ["x"], TypeError, r"is not a tensor"),
    "integer": (lambda ins, gs: [ft.cast(gs[0], "int64")], TypeError, r"has dtype int64.*float dtype"),
    "more dims": (
        lambda ins, gs: [ft.outer(gs[0], gs[0])],
        ValueError,
        r"type TensorType\(float64, \(\?,\?\)\)",
    ),
    "fewer dims": (lambda ins, gs: [ft.sum(gs[0])], ValueError, r"type TensorType\(float64, \(\)\)"),
}


@pytest.mark.parametrize("case", list(BAD_AS_OP_GRADS))
def test_as_op_gradient_of_the_wrong_kind_is_refused(case: str) -> None:
    """An as_op's grad function is the user's own rule: what it returns for a float input must
    be one float gradient of the input's shape, or None. A wrong type, dtype or ndim raises as
    the gradient is built (it would otherwise be summed or truncated into one), naming the
    op; a wrong size raises when the function runs (next test)."""
    rule, exc, match = BAD_AS_OP_GRADS[case]
    a = ft.dvector("a")
    triple = ft.as_op([ft.dvector], [ft.dvector], grad=rule)(lambda v: v * 3)
    with pytest.raises(exc, match=match) as info:
        fc.grad(ft.sum(triple(a) ** 2), a)
    assert "PythonOp{<lambda>}" in str(info.value)


class _Halve(Op):
    """An op of the test's own, given a rule with register_grad that returns an integer
    gradient (which a cast would truncate)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        return Apply(self, [x], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        return [inputs[0] / 2]


register_grad(_Halve)(lambda node, gs: [ft.cast(gs[0] * 0.5, "int64")])


def test_a_registered_rule_returning_an_integer_gradient_is_refused() -> None:
    a = ft.dvector("a")
    with pytest.raises(
        TypeError, match=r"the gradient rule of _Halve.* dtype int64 for input 0.*float gradients"
    ):
        fc.grad(ft.sum(_Halve()(a)), a)


@pytest.mark.parametrize("linker", ["py", "c"])
def test_as_op_gradient_of_the_wrong_run_time_size_is_refused(linker: str) -> None:
    a = ft.dvector("a")
    short = ft.as_op([ft.dvector], [ft.dvector], grad=lambda ins, gs: [gs[0][:1] * 3.0])(lambda v: v * 3)
    f = fc.function([a], fc.grad(ft.sum(short(a) ** 2), a), mode=fc.Mode(linker=linker))
    np.testing.assert_allclose(f(np.array([0.5])), [9.0], rtol=1e-14)
    with pytest.raises(AssertionError, match=r"PythonOp\{<lambda>\}.*does not have the variable's shape"):
        f(np.array([0.5, 1.0, 2.0]))
    # the float32 gradient of a float64 input is cast, as PyTensor does
    to32 = ft.as_op([ft.dvector], [ft.dvector], grad=lambda ins, gs: [ft.cast(gs[0] * 3.0, "float32")])(
        lambda v: v * 3
    )
    g = fc.grad(ft.sum(to32(a) ** 2), a)
    assert g.dtype == "float64"
    np.testing.assert_allclose(fc.function([a], g, mode=PY)(np.array([0.5, 1.0])), [9.0, 18.0], rtol=1e-6)


@pytest.mark.parametrize(
    "kind",
    ["scalar_scalar", "vector_scalar", "scalar_vector", "vector_vector", "matrix_matrix", "vector_two_wrt"],
)
def test_jacobian_shapes_and_values(kind: str) -> None:
    """Theano's jacobian tests: scalar, vector and matrix expressions, against differences."""
    s, v, m = ft.dscalar("s"), ft.dvector("v"), ft.dmatrix("m")
    exprs = {
        "scalar_scalar": (lambda: ft.sin(s) * s, s),
        "vector_scalar": (lambda: ft.exp(v * s), s),
        "scalar_vector": (lambda: ft.sum(v**3) * s, v),
        "vector_vector": (lambda: ft.cumsum(v * v) * s, v),
        "matrix_matrix": (lambda: ft.dot(m, m.T) + m[:, :1], m),
        "vector_two_wrt": (lambda: ft.dot(m, v) * s, [m, v, s]),
    }
    build, wrt = exprs[kind]
    e = build()
    jac = ft.jacobian(e, wrt)
    ins = [s, v, m]
    f = fc.function(ins, jac, mode=PY, on_unused_input="ignore")
    fwd = fc.function(ins, e, mode=PY, on_unused_input="ignore")
    vals = [np.asarray(0.7), _u((3,)), _u((2, 3))]
    got = f(*vals)
    wrts = wrt if isinstance(wrt, list) else [wrt]
    got = got if isinstance(wrt, list) else [got]
    for w, g in zip(wrts, got):
        k = ins.index(w)
        assert g.shape == tuple(fwd(*vals).shape) + vals[k].shape
        np.testing.assert_allclose(g, fd_jacobian(fwd, vals, k), rtol=1e-6, atol=1e-8)


# -- compiled to C: a subset in one function ------------------------------------------------------
def test_subset_compiled_to_c() -> None:
    a, b, i = ft.dmatrix("a"), ft.TensorType("float64", (None, None))("b"), ft.lscalar("i")
    cases = {
        "indexing": (lambda a, b, i: a[i::-1] * b[i] + a[:, ::-2].sum() + a[i:, i:].sum() * b[0, 0], [0, 1]),
        "switch_broadcast": (lambda a, b, i: ft.switch(a[:1] > 0, a * b[:1], ft.exp(b)), [0, 1]),
        "softmax_by_ops": (lambda a, b, i: COMPOSITE["softmax_by_ops"][0](a * b), [0, 1]),
        "norms_var": (
            lambda a, b, i: (
                COMPOSITE["l2_norm_rows"][0](a) + ft.var(b, axis=0, ddof=2) + ft.mean(a, axis=(0, 1))
            ),
            [0, 1],
        ),
        "roll": (lambda a, b, i: ft.concatenate([a[-i:], a[:-i]]) * b, [0, 1]),
    }
    vals = [_u((3, 4)), _u((3, 4)), _i(1)]
    fd_check_grads([a, b, i], cases, [vals, [vals[0], vals[1][:1], _i(0)]])


def test_second_derivatives_compiled_to_c() -> None:
    _check_second_derivatives(
        lambda a, b, i: (
            ft.switch(a > 0, a * b, ft.sin(a)) + a[i::-1].sum() * ft.max(b, axis=0) + ft.var(a * b)
        ),
        [_u((3, 2)), _u((1, 2)), _i(1)],
        mode=None,
    )
