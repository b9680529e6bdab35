"""Gradients through complex values beyond ``grad``: ``jacobian``, ``hessian``, ``Rop``, ``Lop``
and ``hessian_vector_product`` with complex variables or complex expressions, against central
finite differences taken on the real and the imaginary part of each input element separately
(``dC/dRe + i dC/dIm`` for a complex variable, as ``grad``); the ops whose gradients through
complex values are selections or written out (``sort``, ``maximum``, ``sign``), ``scan`` with
complex carries, ``as_op(..., complex_values=...)``; and the refusals (``max``/``min``, linalg,
an ambiguous Jacobian or Hessian), each a TypeError naming the op and the fix."""

from __future__ import annotations

import pickle
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

from fcutil import FD_EPS, FD_RTOL

RNG = np.random.default_rng(20261204)


def _u(*shape: int) -> np.ndarray:
    return RNG.uniform(-1.5, 1.5, size=shape)


def _c(*shape: int) -> np.ndarray:
    return _u(*shape) + 1j * _u(*shape)


def _partials(f: Callable[..., Any], vals: list[np.ndarray], j: int, out: int) -> tuple[np.ndarray, ...]:
    """Central differences of output ``out`` of ``f`` in the real part of each element of input
    ``j`` and, for a complex input, in its imaginary part: arrays of shape
    ``output.shape + input.shape`` (complex for a complex output)."""
    steps = [FD_EPS, FD_EPS * 1j] if np.iscomplexobj(vals[j]) else [FD_EPS]
    first = np.asarray(f(*vals)[out])
    res = []
    for step in steps:
        d = np.zeros(first.shape + vals[j].shape, dtype=first.dtype)
        for idx in np.ndindex(vals[j].shape):
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            up[j][idx] += step
            down[j][idx] -= step
            d[(Ellipsis,) + idx] = (np.asarray(f(*up)[out]) - np.asarray(f(*down)[out])) / (2 * FD_EPS)
        res.append(d)
    return tuple(res)


def _close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=FD_RTOL, atol=1e-7, err_msg=what)


# -- jacobian and hessian --------------------------------------------------------------------------
def test_jacobian_of_real_expressions_with_respect_to_complex_variables() -> None:
    """Each row is the gradient of one element: d/dRe + i d/dIm, of shape expr + wrt."""
    z, x, w = ft.zvector("z"), ft.dvector("x"), ft.zmatrix("w")
    expr = ft.abs(z * z + x) + ft.angle(z - 2) + ft.real(ft.dot(w, z))
    jz, jx, jw = ft.jacobian(expr, [z, x, w])
    assert (jz.dtype, jx.dtype, jw.dtype) == ("complex128", "float64", "complex128")
    assert (jz.ndim, jw.ndim) == (2, 3)
    scalar = ft.jacobian(ft.sum(ft.abs(z) ** 2), z)  # a scalar's Jacobian is its gradient
    f = fc.function([z, x, w], [expr, jz, jx, jw, scalar])
    vals = [_c(3), _u(3), _c(3, 3)]
    got = f(*vals)
    for j, out in ((0, 1), (2, 3)):
        d_re, d_im = _partials(f, vals, j, 0)
        _close(got[out], d_re + 1j * d_im, f"jacobian in input {j}")
    _close(got[2], _partials(f, vals, 1, 0)[0], "jacobian in the real input")
    _close(got[4], 2 * vals[0], "gradient of |z|**2")


def test_jacobian_of_complex_expressions_with_respect_to_real_variables() -> None:
    """The derivative of the complex values: d Re/dw + i d Im/dw, matrix and scalar alike."""
    a, b = ft.dmatrix("a"), ft.dvector("b")
    z = ft.complex(a, b)
    expr = ft.exp(z * 0.5) * a + ft.conj(z) ** 2
    ja, jb = ft.jacobian(expr, [a, b])
    assert (ja.dtype, ja.ndim, jb.ndim) == ("complex128", 4, 3)
    js = ft.jacobian(ft.sum(z * z), b)
    f = fc.function([a, b], [expr, ja, jb, ft.sum(z * z), js])
    vals = [_u(2, 3), _u(3)]
    got = f(*vals)
    _close(got[1], _partials(f, vals, 0, 0)[0], "d/da")
    _close(got[2], _partials(f, vals, 1, 0)[0], "d/db")
    _close(got[4], _partials(f, vals, 1, 3)[0], "d/db of a complex scalar")
    fa, cz = ft.fvector("fa"), ft.cvector("cz")
    single = [
        ft.jacobian(ft.complex(fa, fa) * fa, fa),
        ft.jacobian(ft.abs(cz * cz), cz),
        ft.Rop(cz * cz, cz, cz),
    ]
    assert [j.dtype for j in single] == ["complex64"] * 3


def test_complex_jacobian_matches_PyTensor_on_the_real_and_imaginary_parts() -> None:
    """PyTensor refuses complex values in its gradients: the same expression written as its two
    real parts, each differentiated by PyTensor's jacobian."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")

    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    ours = fc.function([a, b], ft.jacobian(z * z * a, [a, b]))
    pa, pb = pt.dvector("a"), pt.dvector("b")
    re, im = (pa**2 - pb**2) * pa, 2 * pa * pb * pa
    jac = pytensor.gradient.jacobian
    theirs = pytensor.function(
        [pa, pb], [jac(re, pa), jac(im, pa), jac(re, pb), jac(im, pb)], mode="FAST_COMPILE"
    )
    vals = [_u(4), _u(4)]
    got, want = ours(*vals), theirs(*vals)
    for k in (0, 1):
        np.testing.assert_allclose(got[k].real, want[2 * k], rtol=1e-12)
        np.testing.assert_allclose(got[k].imag, want[2 * k + 1], rtol=1e-12)


def test_ambiguous_jacobians_and_hessians_of_complex_variables_are_refused_with_the_fix() -> None:
    """A complex expression in a complex variable, and a Hessian in one, are real matrices of
    the parts: refused, and the fix each message names computes them."""
    z = ft.zvector("z")
    with pytest.raises(
        TypeError,
        match=r"jacobian: the expression .*complex128.* and the variable z .* both complex.*"
        r"ft\.jacobian\(ft\.real\(e\), z\) and ft\.jacobian\(ft\.imag\(e\), z\)",
    ):
        ft.jacobian(z * z, z)
    cost = ft.sum(ft.abs(z * z - 1) ** 2 + ft.real(ft.exp(z)))
    with pytest.raises(
        TypeError,
        match=r"hessian: cannot take the Hessian with respect to z of dtype complex128.*"
        r"ft\.jacobian\(ft\.real\(g\), z\) and ft\.jacobian\(ft\.imag\(g\), z\)",
    ):
        ft.hessian(cost, z)
    g = fc.grad(cost, z)
    f = fc.function([z], [ft.real(g), ft.imag(g), ft.jacobian(ft.real(g), z), ft.jacobian(ft.imag(g), z)])
    vals = [_c(3)]
    got = f(*vals)
    for out in (0, 1):
        d_re, d_im = _partials(f, vals, 0, out)
        _close(got[2 + out], d_re + 1j * d_im, f"second derivatives of part {out}")


# -- Rop, Lop, hessian_vector_product --------------------------------------------------------------
def test_Rop_is_the_derivative_along_complex_eval_points() -> None:
    """J v = d/dt y(w + t v) at 0: complex wrt and eval points, real or complex y."""
    z, x = ft.zvector("z"), ft.dvector("x")
    vz, vx = ft.zvector("vz"), ft.dvector("vx")
    real_y = ft.abs(z * x) ** 2 + ft.angle(z)
    complex_y = ft.exp(z) * x + ft.conj(z) * z
    of_real = ft.complex(x, x * x) * 2  # complex y of a real wrt
    jv = ft.Rop([real_y, complex_y], [z, x], [vz, vx])
    assert [r.dtype for r in jv] == ["float64", "complex128"]
    jv_real = ft.Rop(of_real, x, vx)
    f = fc.function([z, x, vz, vx], [real_y, complex_y, of_real, *jv, jv_real])
    vals = [_c(3), _u(3), _c(3), _u(3)]
    got = f(*vals)
    up = [vals[0] + FD_EPS * vals[2], vals[1] + FD_EPS * vals[3], *vals[2:]]
    down = [vals[0] - FD_EPS * vals[2], vals[1] - FD_EPS * vals[3], *vals[2:]]
    hi, lo = f(*up), f(*down)
    for k in range(3):
        _close(got[3 + k], (hi[k] - lo[k]) / (2 * FD_EPS), f"Rop of output {k}")


def test_Lop_of_complex_expressions_is_the_gradient_of_re_conj_u_f() -> None:
    """The vector-Jacobian product with a complex u, to complex and real variables, is the
    gradient of the real cost Re(sum(conj(u) f))."""
    z, x, u = ft.zvector("z"), ft.dvector("x"), ft.zvector("u")
    y = ft.sin(z) * x + ft.abs(z) * 1j
    lz, lx = ft.Lop(y, [z, x], u)
    cost = ft.sum(ft.real(ft.conj(u) * y))
    f = fc.function([z, x, u], [cost, lz, lx])
    vals = [_c(3), _u(3), _c(3)]
    got = f(*vals)
    d_re, d_im = _partials(f, vals, 0, 0)
    _close(got[1], d_re + 1j * d_im, "Lop in z")
    _close(got[2], _partials(f, vals, 1, 0)[0], "Lop in x")


def test_hessian_vector_product_in_a_complex_variable() -> None:
    """The gradient's derivative along p: d/dt grad(z + t p) at 0."""
    z, p = ft.zvector("z"), ft.zvector("p")
    cost = ft.sum(ft.abs(ft.exp(z * 0.5) - z) ** 2)
    g = fc.grad(cost, z)
    hp = ft.hessian_vector_product(cost, z, p)
    assert hp.dtype == "complex128"
    f = fc.function([z, p], [g, hp])
    vals = [_c(4), _c(4)]
    got = f(*vals)
    hi = f(vals[0] + FD_EPS * vals[1], vals[1])[0]
    lo = f(vals[0] - FD_EPS * vals[1], vals[1])[0]
    _close(got[1], (hi - lo) / (2 * FD_EPS), "H p")


# -- ops: selections, sign, scan, as_op, Jacobians differentiated again ---------------------------
def _check_complex_grads(ins: list, cost: Any, vals: list[np.ndarray]) -> None:
    """The gradient of real scalar ``cost`` in every input against central differences (real
    and imaginary parts separately for complex inputs)."""
    grads = fc.grad(cost, ins)
    f = fc.function(ins, [cost, *grads])
    got = f(*vals)
    for j, v in enumerate(vals):
        parts = _partials(f, vals, j, 0)
        want = parts[0] + 1j * parts[1] if np.iscomplexobj(v) else parts[0]
        assert got[1 + j].dtype == v.dtype
        _close(got[1 + j], want, f"d/d {ins[j]}")


def test_sort_maximum_minimum_sigmoid_and_sign_of_complex_values() -> None:
    """sort, maximum and minimum pick values in numpy's order of complex values (real parts,
    then imaginary ones): their gradients go to the values picked. sign is z / |z|; sigmoid is
    complex-differentiable."""
    z, w, a = ft.zmatrix("z"), ft.zmatrix("w"), ft.dmatrix("a")
    picked = ft.sort(z * w, axis=1) * ft.arange(1, 4) + ft.sort(ft.complex(a, a * a), axis=None)[:3]
    cost = (
        ft.sum(ft.abs(picked) ** 2)
        + ft.sum(ft.real(ft.maximum(z, w) * 1j) + ft.imag(ft.minimum(z, w * a)))
        + ft.sum(ft.abs(ft.sign(z) + w) + ft.real(ft.sign(z * a) * (1 + 2j)))
        + ft.sum(ft.real(ft.sigmoid(z) * ft.conj(w)))
        + ft.sum(ft.cast(ft.argsort(z, axis=0), "float64")) * 0
    )
    _check_complex_grads([z, w, a], cost, [_c(2, 3), _c(2, 3), _u(2, 3)])


def test_sign_of_complex_zero_has_gradient_0() -> None:
    """As the sign of a real 0 (and abs's gradient at 0): no NaN of 0 / 0."""
    z = ft.zvector("z")
    g = fc.function([z], fc.grad(ft.sum(ft.real(ft.sign(z) * (2 - 1j))), z))(np.array([0j, 3 + 4j]))
    s = 0.6 + 0.8j
    step = np.conj(2 - 1j)  # the gradient of Re((2 - i) sign(z)) before its projection
    np.testing.assert_allclose(g, [0, (step - (np.conj(step) * s).real * s) / 5], rtol=1e-14)


def test_scan_with_complex_carries_sequences_and_parameters() -> None:
    """Backpropagation through time with complex values in every role: the carry, a
    sequence, a non-sequence and the initial value; a real sequence made complex in the body;
    the stacked steps and the last one alone."""
    xs, c0, w, r = ft.zvector("xs"), ft.zscalar("c0"), ft.zscalar("w"), ft.dvector("r")

    def step(x: Any, rt: Any, c: Any, wv: Any) -> Any:
        return ft.exp(c * wv * 0.5) * 0.5 + x * ft.complex(rt, rt * rt)

    steps, _ = fc.scan(step, sequences=[xs, r], outputs_info=[c0], non_sequences=[w])
    stacked = ft.sum(ft.abs(steps) ** 2)
    last = ft.real(steps[-1] * 1j) + ft.abs(steps[-1])
    vals = [_c(4) * 0.5, np.array(0.3 - 0.2j), np.array(0.4 + 0.3j), _u(4)]
    _check_complex_grads([xs, c0, w, r], stacked + last, vals)
    last_only, _ = fc.scan(step, sequences=[xs, r], outputs_info=[c0], non_sequences=[w], return_list=False)
    _check_complex_grads([xs, c0, w, r], ft.abs(last_only[-1]), vals)


def test_as_op_declares_how_its_gradient_treats_complex_values() -> None:
    """'holomorphic': grad returns g * f'(x); 'rule': it returns dC/dRe + i dC/dIm itself; the
    same gradient either way. Without it (or a bad value) the op is refused, naming the fix."""
    z = ft.zvector("z")
    ops = [
        ft.as_op(
            [ft.zvector], [ft.zvector], grad=lambda i, g: [2 * i[0] * g[0]], complex_values="holomorphic"
        ),
        ft.as_op(
            [ft.zvector], [ft.zvector], grad=lambda i, g: [2 * ft.conj(i[0]) * g[0]], complex_values="rule"
        ),
    ]
    for make in ops:
        square = make(lambda v: v * v)
        # the declaration travels with the op, as its grad function does
        square = pickle.loads(pickle.dumps(square))
        _check_complex_grads([z], ft.sum(ft.abs(square(z) + z) + ft.angle(square(z))), [_c(3)])
    with pytest.raises(
        ValueError, match=r"as_op: complex_values must be None or one of .*'holomorphic'.*got 'complex'"
    ):
        ft.as_op([ft.zvector], [ft.zvector], grad=lambda i, g: [g[0]], complex_values="complex")
    with pytest.raises(ValueError, match=r"as_op: complex_values='linear' says how grad .* pass grad=fn"):
        ft.as_op([ft.zvector], [ft.zvector], complex_values="linear")
    plain = ft.as_op([ft.zvector], [ft.zvector])(lambda v: v * v)
    with pytest.raises(
        TypeError, match=r"complex input of PythonOp.*give it a gradient, ft\.as_op\(itypes, otypes, grad=fn"
    ):
        fc.grad(ft.sum(ft.abs(plain(z))), z)


def test_jacobians_of_complex_values_differentiated_again() -> None:
    """A cost built from a Jacobian with complex rows (in a complex variable, or of a complex
    expression) has a gradient: the rows' products with their cotangents are Re(conj(g) row)."""
    z, a = ft.zvector("z"), ft.dvector("a")
    j_z = ft.jacobian(ft.abs(z * z - a), z)
    j_a = ft.jacobian(ft.exp(ft.complex(a, a * a) * 0.5), a)
    cost = ft.sum(ft.abs(j_z) ** 2) + ft.sum(ft.real(j_a * (1 - 1j)))
    _check_complex_grads([z, a], cost, [_c(3), _u(3)])


# -- refusals --------------------------------------------------------------------------------------
def test_complex_max_and_min_are_refused_as_PyTensor_refuses_them() -> None:
    pt = pytest.importorskip("pytensor.tensor")
    with pytest.raises(NotImplementedError):
        pt.min(pt.zvector())
    z = ft.zvector("z")
    for reduce, name in ((ft.max, "Max"), (ft.min, "Min")):
        with pytest.raises(
            TypeError, match=rf"grad: {name}.* of complex values \(TensorType\(complex128.*ft\.abs\(z\)"
        ):
            fc.grad(ft.real(reduce(z)), z)


def test_functions_of_real_values_only_refuse_complex_ones() -> None:
    """Their implementations would cast a complex value to float, dropping its imaginary part:
    a wrong value (and no gradient), so the graph is refused when it is built."""
    z = ft.zvector("z")
    for fn in (ft.erf, ft.erfc, ft.gammaln, ft.gamma, ft.j0, ft.i1e):
        with pytest.raises(
            TypeError, match=r"is not defined for dtypes complex128.* real values only .*ft\.real"
        ):
            fn(z)
    assert ft.erf(ft.real(z)).dtype == "float64"


def test_linear_algebra_of_complex_matrices_and_real_ones_into_complex_costs() -> None:
    """The linalg functions that LAPACK computes for complex matrices as numpy take them
    (tests/test_linalg_edges.py); the others refuse one when the graph is built, naming the
    function and what to do. Real matrices' real outputs differentiate into complex
    arithmetic downstream."""
    Z = ft.zmatrix("Z")
    nl, sl = ft.nlinalg, ft.slinalg
    for build, name in [
        (sl.lu, "lu"),
        (sl.lu_factor, "lu_factor"),
        (lambda m: sl.solve_sylvester(m, m, m), "solve_sylvester"),
        (lambda m: sl.solve(m, m, assume_a="pos"), "solve"),
    ]:
        with pytest.raises(
            TypeError,
            match=rf"{name}: complex matrices are not supported, got TensorType\(complex128.*; (give real|assume_a)",
        ):
            build(Z)
    m, z = ft.dmatrix("m"), ft.zvector("z")
    w, _ = nl.eigh(m + m.T)
    cost = (
        ft.abs(nl.det(m) * (1 + 2j) + z[0])
        + ft.sum(ft.real(nl.matrix_inverse(m) @ z * 1j))
        + ft.abs(w * z).sum()
    )
    _check_complex_grads([m, z], cost, [_u(3, 3) + 3 * np.eye(3), _c(3)])
    with pytest.raises(TypeError, match=r"complex output of Eig .* eig has no gradient"):
        fc.grad(ft.sum(ft.abs(nl.eig(m)[0])), m)


def test_verify_grad_takes_complex_points_and_complex_outputs() -> None:
    """Right gradients pass; a wrong one (g * f'(z) where dC/dRe + i dC/dIm is g * conj(f'(z)))
    fails naming the argument, the position and the part."""
    rng = np.random.default_rng(3)
    fc.gradient.verify_grad(
        lambda z, x: ft.exp(z * 0.5) * x + ft.abs(z), [_c(3), _u(3)], rng=rng, abs_tol=1e-6, rel_tol=1e-6
    )
    fc.gradient.verify_grad(lambda z: ft.abs(z * z) + ft.angle(z), [_c(2, 2)], rng=rng)
    wrong = ft.as_op([ft.zvector], [ft.zvector], grad=lambda i, g: [2 * i[0] * g[0]], complex_values="rule")(
        lambda v: v * v
    )
    with pytest.raises(
        fc.GradientError,
        match=r"argument 0 \(shape \(3,\)\) at position \(\d,\) \(its (real|imaginary) part\)",
    ):
        fc.gradient.verify_grad(lambda z: wrong(z), [_c(3)], rng=rng)
    with pytest.raises(
        TypeError, match=r"argument 0 of pt has dtype int64; the point must be float or complex"
    ):
        fc.gradient.verify_grad(lambda z: z * 2.0, [np.arange(3)])
