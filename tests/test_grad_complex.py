"""Gradients through complex values: a real cost of complex intermediates built from real inputs
(``ft.complex(a, b)``, ``a + 1j * b``), differentiated with respect to the real inputs, against
central finite differences in float64 (``fcutil.fd_check_grads``: every case in one function
compiled to C, the complex nodes running their numpy ``perform``); with respect to complex
inputs, ``dC/dRe + i dC/dIm``; PyTensor's own rules for the ops it has (``complex``, ``real``,
``imag``, ``abs``, ``mul``, ``neg``); and the refusals (a complex cost, ops without a gradient
through complex values) with their messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

from fcutil import (
    FD_ATOL,
    FD_EPS,
    FD_RTOL,
    assert_second_process_compiles_nothing,
    fd_check_grads,
    in_tests_dir,
)

RNG = np.random.default_rng(20261203)


def _u(*shape: int) -> np.ndarray:
    return RNG.uniform(-1.5, 1.5, size=shape)


def _inputs() -> list:
    # sizes left to the call: a size 1 is broadcast when the function runs
    return [ft.dmatrix("a"), ft.dmatrix("b"), ft.dvector("c")]


def _z(a: Any, b: Any, c: Any) -> tuple[Any, Any]:
    return ft.complex(a, b), ft.complex(b, c)


Case = tuple[Callable[..., Any], list[int]]


def _case(build: Callable[[Any, Any, Any, Any, Any], Any], used: str = "abc") -> Case:
    """A case on the inputs (a, b, c) and the complex values z = a + ib, w = b + ic; ``used``
    names the inputs it depends on."""
    return (lambda a, b, c: build(a, b, c, *_z(a, b, c)), ["abc".index(n) for n in used])


# -- elementwise ---------------------------------------------------------------------------------
ELEMWISE: dict[str, Case] = {
    # PyTensor's complex-gradient tests (tests/tensor/test_complex.py), skipped there
    "complex_real_imag": _case(lambda a, b, c, z, w: 0.5 * ft.real(z) + 0.9 * ft.imag(w)),
    "abs": _case(lambda a, b, c, z, w: ft.abs(z), "ab"),
    "abs_of_square": _case(lambda a, b, c, z, w: ft.abs(z**2), "ab"),
    "abs_of_mul_mixed": _case(lambda a, b, c, z, w: ft.abs((z * c) ** 2)),
    "polar": _case(
        lambda a, b, c, z, w: (
            0.5 * ft.real(ft.complex_from_polar(ft.abs(a) + 0.1, b))
            + 0.9 * ft.imag(ft.complex_from_polar(ft.abs(b) + 0.1, c))
        )
    ),
    "a_plus_1j_b": _case(lambda a, b, c, z, w: ft.abs(a + 1j * b) ** 2 + ft.imag(c * 1j - a)),
    "add_sub": _case(lambda a, b, c, z, w: ft.abs(z + w - 1j * c)),
    "mul": _case(lambda a, b, c, z, w: ft.real(z * w) + ft.imag(z * ft.conj(w))),
    "true_div": _case(lambda a, b, c, z, w: ft.abs(z / (w + 3)) + ft.imag(c / (z + 3))),
    "neg": _case(lambda a, b, c, z, w: ft.imag(-(z * w))),
    "pow_real_constant": _case(lambda a, b, c, z, w: ft.abs(z**2.5) + ft.real(w**3)),
    "pow_real_variable": _case(lambda a, b, c, z, w: ft.real(z ** (c * 0.5))),
    "exp": _case(lambda a, b, c, z, w: ft.real(ft.exp(z) * w)),
    "log": _case(lambda a, b, c, z, w: ft.imag(ft.log(z)) + ft.real(ft.log(w + 2))),
    "sqrt": _case(lambda a, b, c, z, w: ft.abs(ft.sqrt(z) - w)),
    "sin_cos_tan": _case(
        lambda a, b, c, z, w: ft.real(ft.sin(z)) + ft.imag(ft.cos(w)) + ft.real(ft.tan(z * 0.5))
    ),
    "hyperbolic": _case(lambda a, b, c, z, w: ft.real(ft.sinh(z) + ft.cosh(w) * ft.tanh(z * 0.5))),
    "inverse_trig": _case(
        lambda a, b, c, z, w: ft.real(ft.arcsin(z * 0.5) + ft.arccos(w * 0.5)) + ft.imag(ft.arctan(z * 0.5))
    ),
    "inverse_hyperbolic": _case(
        lambda a, b, c, z, w: ft.imag(ft.arcsinh(z) + ft.arccosh(w) + ft.arctanh(z * 0.5))
    ),
    "logs_and_exps": _case(
        lambda a, b, c, z, w: (
            ft.real(ft.log1p(z) + ft.log2(w) + ft.log10(z)) + ft.imag(ft.expm1(z) + ft.exp2(w))
        )
    ),
    "squares_reciprocal": _case(
        lambda a, b, c, z, w: ft.real(ft.sqr(z) + ft.square(w)) + ft.imag(ft.reciprocal(z + 3))
    ),
    "conj": _case(lambda a, b, c, z, w: ft.real(z * ft.conj(z)) + ft.abs(ft.conj(w) - z)),
    "angle": _case(lambda a, b, c, z, w: ft.angle(z) + ft.angle(w * z)),
    "cast": _case(
        lambda a, b, c, z, w: ft.abs(ft.cast(a, "complex128") * w) + ft.real(ft.cast(c, "complex128") * z)
    ),
    "switch": _case(lambda a, b, c, z, w: ft.abs(ft.switch(a > 0, z, w * 2))),
}


def test_elementwise_gradients_match_finite_differences() -> None:
    """Shapes equal, and a size 1 (or a vector) broadcast against the others at run time."""
    sets = [
        [_u(2, 3), _u(2, 3), _u(3)],
        [_u(1, 4), _u(3, 4), _u(4)],
        [_u(3, 1), _u(3, 2), _u(1)],
    ]
    fd_check_grads(_inputs(), ELEMWISE, sets)


# -- reductions, products, shapes and indexing ---------------------------------------------------
STRUCTURAL: dict[str, Case] = {
    "sum": _case(lambda a, b, c, z, w: ft.abs(ft.sum(z * w, axis=0)) + ft.real(ft.sum(z))),
    "mean": _case(lambda a, b, c, z, w: ft.real(ft.mean(z * z, axis=1)).sum() + ft.abs(ft.mean(w))),
    "prod": _case(lambda a, b, c, z, w: ft.real(ft.prod(z, axis=1)), "ab"),
    "cumsum_cumprod": _case(
        lambda a, b, c, z, w: ft.imag(ft.cumsum(z * w, axis=1)) + ft.real(ft.cumprod(z * 0.8, axis=0))
    ),
    "var": _case(lambda a, b, c, z, w: ft.var(z, axis=0) + ft.std(w)),
    "transpose_reshape": _case(lambda a, b, c, z, w: ft.abs(ft.reshape(z.T, (-1,)) * 2j - 1), "ab"),
    "dimshuffle": _case(lambda a, b, c, z, w: ft.real(z.dimshuffle(1, "x", 0) * w.dimshuffle(1, 0, "x"))),
    "slice": _case(lambda a, b, c, z, w: ft.abs(z[1:, ::-1] * 2 - 1j), "ab"),
    "index_arrays": _case(
        lambda a, b, c, z, w: (
            ft.real(z[[0, 1, 0]] * ft.conj(w[[1, 1, 0]])) + ft.abs(ft.take(z, [1, 0, 0], axis=0))
        )
    ),
    "set_subtensor": _case(lambda a, b, c, z, w: ft.abs(ft.set_subtensor(z[0], w[1] * 1j))),
    "inc_subtensor": _case(lambda a, b, c, z, w: ft.real(ft.inc_subtensor(z[:, 1:], c[1:] * 1j) ** 2)),
    "concatenate": _case(lambda a, b, c, z, w: ft.abs(ft.concatenate([z, a * 1j, b])), "ab"),
    "tile_repeat": _case(
        lambda a, b, c, z, w: (
            ft.real(ft.tile(z, (2, 1)) ** 2).sum() + ft.imag(ft.repeat(w * w, 2, axis=1)).sum()
        )
    ),
    "dot_matrices": _case(lambda a, b, c, z, w: ft.abs(ft.dot(z, w.T))),
    "dot_matrix_vector": _case(lambda a, b, c, z, w: ft.real(ft.dot(z, w[0])) + ft.imag(ft.dot(w[1], z.T))),
    "dot_vectors": _case(
        lambda a, b, c, z, w: ft.imag(ft.dot(z[0], ft.conj(w[0]))) * ft.abs(ft.dot(w[1], z[1]))
    ),
    "dot_real_complex": _case(lambda a, b, c, z, w: ft.abs(ft.dot(a, w.T))),
    "matmul_tensordot": _case(
        lambda a, b, c, z, w: ft.real(ft.matmul(z, w.T)) + ft.abs(ft.tensordot(z, w, axes=[[1], [1]]))
    ),
}


def test_reductions_products_and_indexing_match_finite_differences() -> None:
    sets = [[_u(3, 4), _u(3, 4), _u(4)], [_u(2, 5), _u(2, 5), _u(5)]]
    fd_check_grads(_inputs(), STRUCTURAL, sets)


def test_second_derivatives_through_complex_values() -> None:
    """The gradient graph's own ops (conj, real, complex...) have rules: a Hessian and a
    Jacobian of real functions of complex intermediates, against central differences of the
    gradient (the function)."""
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    cost = ft.sum(ft.abs(z * z + a) ** 2 + ft.angle(z + 2))
    g = fc.grad(cost, a)
    expr = ft.abs(ft.exp(z * 0.5) + b)
    f = fc.function([a, b], [g, ft.hessian(cost, a), expr, ft.jacobian(expr, b)])
    vals = [_u(4), _u(4)]
    got = f(*vals)
    # the Hessian: output 0 (the gradient) differentiated in a; the Jacobian: output 2 in b
    for out, of, j in [(got[1], 0, 0), (got[3], 2, 1)]:
        num = np.zeros_like(out)
        for i in range(vals[j].size):
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            up[j][i] += FD_EPS
            down[j][i] -= FD_EPS
            num[:, i] = (f(*up)[of] - f(*down)[of]) / (2 * FD_EPS)
        np.testing.assert_allclose(out, num, rtol=FD_RTOL, atol=1e-6)


def test_ifelse_Rop_and_verify_grad_through_complex_values() -> None:
    """An ifelse picks complex values (each side's gradient computed on that side); Rop's two
    reverse passes and verify_grad's random projection go through complex intermediates."""
    from fncache.ifelse import ifelse

    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    picked = ifelse(ft.sum(a) > 0, z * z, ft.exp(z))
    cost = ft.sum(ft.abs(picked) ** 2)
    va, vb = ft.dvector("va"), ft.dvector("vb")
    y = ft.abs(z * z) + ft.angle(z)
    f = fc.function([a, b, va, vb], [cost, *fc.grad(cost, [a, b]), y, ft.Rop(y, [a, b], [va, vb])])
    vals = [_u(3), _u(3), _u(3), _u(3)]
    for sign in (1.0, -1.0):  # each side of the ifelse
        vals[0] = np.abs(vals[0]) * sign
        got = f(*vals)
        for j in (0, 1):
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            for i in range(3):
                up[j][i] += FD_EPS
                down[j][i] -= FD_EPS
                want = (f(*up)[0] - f(*down)[0]) / (2 * FD_EPS)
                np.testing.assert_allclose(got[1 + j][i], want, rtol=FD_RTOL, atol=FD_ATOL)
                up[j][i] = down[j][i] = vals[j][i]
        # J v: the derivative of y along (va, vb)
        up = [vals[0] + FD_EPS * vals[2], vals[1] + FD_EPS * vals[3], *vals[2:]]
        down = [vals[0] - FD_EPS * vals[2], vals[1] - FD_EPS * vals[3], *vals[2:]]
        np.testing.assert_allclose(got[4], (f(*up)[3] - f(*down)[3]) / (2 * FD_EPS), rtol=FD_RTOL)
    fc.gradient.verify_grad(
        lambda x, w: ft.abs(ft.complex(x, w) ** 2) + ft.real(ft.log(ft.complex(x, w))),
        [_u(4), _u(4)],
        rng=np.random.default_rng(1),
    )


def test_abs_and_angle_have_gradient_0_at_0() -> None:
    """As abs's sign for real values: a subgradient, not the NaN of z / |z|."""
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    grads = fc.grad(ft.sum(ft.abs(z) + ft.angle(z)), [a, b])
    got = fc.function([a, b], grads)(np.array([0.0, 3.0]), np.array([0.0, 4.0]))
    np.testing.assert_allclose(got, [[0.0, 0.6 - 4 / 25], [0.0, 0.8 + 3 / 25]], rtol=1e-14)


# -- complex variables differentiated ------------------------------------------------------------
def _fd_complex(f: Callable[..., float], vals: list[np.ndarray], j: int) -> np.ndarray:
    """dC/dRe + i dC/dIm of ``f`` in input ``j`` (complex), by central differences."""
    out = np.zeros(vals[j].shape, dtype=complex)
    steps = [(FD_EPS, 1.0), (FD_EPS * 1j, 1j)] if np.iscomplexobj(vals[j]) else [(FD_EPS, 1.0)]
    for idx in np.ndindex(vals[j].shape):
        for step, part in steps:
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            up[j][idx] += step
            down[j][idx] -= step
            out[idx] += part * (f(*up) - f(*down)) / (2 * FD_EPS)
    return out


def test_gradient_with_respect_to_a_complex_variable_is_dC_dRe_plus_i_dC_dIm() -> None:
    z, x = ft.zmatrix("z"), ft.dvector("x")
    cost = ft.sum(ft.abs(z * x) ** 2) + ft.real(ft.sum(ft.exp(z) * ft.conj(z))) + ft.sum(ft.angle(z))
    gz, gx = fc.grad(cost, [z, x])
    assert (gz.dtype, gx.dtype) == ("complex128", "float64")
    f = fc.function([z, x], [cost, gz, gx])
    for shape in [(2, 3), (1, 4)]:
        vals = [_u(*shape) + 1j * _u(*shape), _u(shape[1])]
        _, got_z, got_x = f(*vals)

        def c(*v: np.ndarray) -> float:
            return float(f(*v)[0])

        np.testing.assert_allclose(got_z, _fd_complex(c, vals, 0), rtol=FD_RTOL, atol=FD_ATOL)
        np.testing.assert_allclose(got_x, _fd_complex(c, vals, 1).real, rtol=FD_RTOL, atol=FD_ATOL)


def test_complex64_variables_get_complex64_gradients() -> None:
    z, x = ft.cvector("z"), ft.fvector("x")
    gz, gx = fc.grad(ft.sum(ft.abs(z * x)), [z, x])
    assert (gz.dtype, gx.dtype) == ("complex64", "float32")
    zv, xv = (_u(3) + 1j * _u(3)).astype("complex64"), _u(3).astype("float32")
    got_z, got_x = fc.function([z, x], [gz, gx])(zv, xv)
    zx = zv.astype(complex) * xv
    np.testing.assert_allclose(got_z, xv * zx / np.abs(zx), rtol=1e-5)
    np.testing.assert_allclose(got_x, (np.conj(zv) * zx / np.abs(zx)).real, rtol=1e-5)


def test_known_gradients_and_Lop_of_complex_values() -> None:
    """A complex variable's given gradient is complex (the gradient of Re(conj(g) . out)); a real
    variable's must be real."""
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    out = z * z
    g = ft.zvector("g")
    ga, gb = ft.Lop(out, [a, b], g)
    av, bv, gv = _u(3), _u(3), _u(3) + 1j * _u(3)
    got_a, got_b = fc.function([a, b, g], [ga, gb])(av, bv, gv)
    want = gv * np.conj(2 * (av + 1j * bv))  # g * conj(f'(z)), then its parts
    np.testing.assert_allclose(got_a, want.real, rtol=1e-12)
    np.testing.assert_allclose(got_b, want.imag, rtol=1e-12)
    known = fc.grad(None, [a, b], known_grads={out: g})
    np.testing.assert_allclose(fc.function([a, b, g], known)(av, bv, gv)[0], want.real, rtol=1e-12)
    with pytest.raises(
        TypeError,
        match=r"Lop: the gradient given for .* complex128, but the variable is real .* ft\.real\(g\)",
    ):
        ft.Lop(a * 2, a, g)


# -- against PyTensor ------------------------------------------------------------------------------
def test_the_rules_PyTensor_has_give_the_same_gradients() -> None:
    """PyTensor's rules for complex, real, imag, abs, mul and neg (its ``grad`` refuses complex
    intermediates, so each rule is called on its own node) against fncache's ``Lop``: the same
    convention, dC/dRe + i dC/dIm, and the same values."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")

    rv = [_u(4), _u(4)]
    cv = [_u(4) + 1j * _u(4) for _ in range(3)]
    cases: dict[str, tuple[Callable[..., Any], list[str]]] = {
        "complex": (lambda m, a, b, z, w: m.complex(a, b), ["a", "b"]),
        "real": (lambda m, a, b, z, w: m.real(z), ["z"]),
        "imag": (lambda m, a, b, z, w: m.imag(z), ["z"]),
        "abs": (lambda m, a, b, z, w: abs(z), ["z"]),
        "mul": (lambda m, a, b, z, w: z * w, ["z", "w"]),
        "mul_real": (lambda m, a, b, z, w: z * a, ["z", "a"]),
        "neg": (lambda m, a, b, z, w: -z, ["z"]),
    }
    for name, (build, wrt) in cases.items():
        got_want = []
        for m, vec in ((pt, pt.vector), (ft, ft.vector)):
            ins = dict(
                a=vec("a", dtype="float64"),
                b=vec("b", dtype="float64"),
                z=vec("z", dtype="complex128"),
                w=vec("w", dtype="complex128"),
            )
            out = build(m, *ins.values())
            g = vec("g", dtype=out.dtype)
            if m is pt:
                node = out.owner
                res = node.op.L_op(node.inputs, node.outputs, [g])
                res = [res[node.inputs.index(ins[k])] for k in wrt]
                fn = pytensor.function([*ins.values(), g], res, on_unused_input="ignore", mode="FAST_COMPILE")
            else:
                res = ft.Lop(out, [ins[k] for k in wrt], g)
                fn = fc.function([*ins.values(), g], res, on_unused_input="ignore")
            gv = cv[2] if out.dtype.startswith("complex") else rv[0] * 2
            got_want.append(fn(*rv, *cv[:2], gv))
        theirs, ours = got_want
        for k, (t, o) in enumerate(zip(theirs, ours)):
            assert o.dtype == t.dtype, (name, k)
            np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-15, err_msg=f"{name} input {wrt[k]}")


def test_costs_written_with_complex_values_match_PyTensor_on_their_real_forms() -> None:
    """The same costs, written in PyTensor with real arithmetic (its grad takes no complex
    intermediates), differentiated by PyTensor."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")

    av, bv = _u(5), _u(5)
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    ours = [ft.sum(ft.abs(z)), ft.sum(ft.angle(z)), ft.sum(ft.real(z**3)), ft.sum(ft.abs(ft.exp(z) * z) ** 2)]
    pa, pb = pt.dvector("a"), pt.dvector("b")
    r2 = pa**2 + pb**2
    theirs = [
        pt.sum(pt.sqrt(r2)),
        pt.sum(pt.arctan2(pb, pa)),
        pt.sum(pa**3 - 3 * pa * pb**2),
        pt.sum(pt.exp(2 * pa) * r2),
    ]
    got = fc.function([a, b], [g for c in ours for g in fc.grad(c, [a, b])])(av, bv)
    want = pytensor.function(
        [pa, pb], [g for c in theirs for g in pytensor.grad(c, [pa, pb])], mode="FAST_COMPILE"
    )(av, bv)
    for k, (o, t) in enumerate(zip(got, want)):
        np.testing.assert_allclose(o, t, rtol=1e-12, err_msg=f"cost {k // 2}, input {k % 2}")


# -- refusals --------------------------------------------------------------------------------------
def test_a_complex_cost_is_refused_naming_the_fix() -> None:
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    fix = r"ft\.real\(c\), ft\.imag\(c\), ft\.abs\(c\)"
    with pytest.raises(TypeError, match=rf"grad: cost must be real, got .*complex128.*{fix}"):
        fc.grad(ft.sum(z * z), a)
    with pytest.raises(TypeError, match=rf"grad: cost must be real, got .*complex128.*{fix}"):
        ft.hessian(ft.sum(z * z), a)


def test_ops_without_a_gradient_through_complex_values_are_refused_by_name() -> None:
    """A zero gradient would be wrong: each raises naming the op and what to do instead (a
    TypeError, as PyTensor's refusals, and the NotImplementedError fncache raised before)."""
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.complex(a, b)
    refusals = [
        (ft.real(ft.max(z)), r"grad: Max.* of complex values .* has no gradient .*\(ft\.abs\(z\)"),
        (ft.imag(ft.min(z * 2)), r"grad: Min.* of complex values .* PyTensor refuses max and min"),
    ]
    square = ft.as_op([ft.zvector], [ft.zvector], grad=lambda ins, gs: [2 * ins[0] * gs[0]])(lambda v: v * v)
    refusals.append(
        (ft.sum(ft.abs(square(z))), r"complex input of PythonOp.*complex_values='holomorphic' if fn returns")
    )
    for cost, message in refusals:
        for kind in (TypeError, NotImplementedError):
            with pytest.raises(kind, match=message):
                fc.grad(cost, [a, b])


# -- compiled, cached ------------------------------------------------------------------------------
def _graph() -> tuple[list, list]:
    a, b = ft.dmatrix("a"), ft.dvector("b")
    z = ft.complex(a, b)
    cost = ft.sum(ft.abs(ft.dot(z, ft.conj(z).T) * 1j + ft.dot(a, a.T)) ** 2) + ft.sum(ft.angle(ft.exp(z)))
    return [a, b], fc.grad(cost, [a, b])


def test_the_optimized_gradient_runs_as_the_python_linker_computes_it() -> None:
    ins, grads = _graph()
    vals = [_u(3, 2), _u(2)]
    got = fc.function(ins, grads, mode="FAST_RUN")(*vals)
    want = fc.function(ins, grads, mode=fc.Mode(linker="py", optimizer=None))(*vals)
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_a_fresh_process_finds_the_gradient_in_the_cache(tmp_path: Path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_grad_complex import _graph") + (
        "ins, grads = _graph()\n"
        "f = fc.function(ins, grads)\n"
        "r = f(np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.5, -0.25]))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex(), r[1].sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
