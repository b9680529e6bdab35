"""What a user writing an op reaches for in ``fncache.gradient`` (PyTensor's names), and the
constants and type groups of ``fncache.tensor``.

An op written as PyTensor's "Creating a new Op: Python implementation" page does (``make_node``,
``perform``, ``grad``/``L_op``) returns ``grad_undefined`` or ``grad_not_implemented`` for an
input without a gradient: the others' gradients work (checked against finite differences), and
differentiating in that input raises ``NullTypeGradError`` naming the op, the input and the
comment. The same values work in an ``as_op``'s ``grad`` and an ``OpFromGraph``'s
``lop_overrides``; ``undefined_grad(x)`` makes a gradient through ``x`` undefined.
``verify_grad`` raises ``GradientError`` with PyTensor's attributes; ``numeric_grad`` is its
finite differences. PyTensor's answers are recorded here (the CI does not install it), each
with the rule it follows.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import fncache as fc
import fncache.gradient as fg
import fncache.tensor as ft
from fncache.graph.basic import Apply, Op
from fncache.gradient import (
    GradientError,
    NullType,
    NullTypeGradError,
    grad_not_implemented,
    grad_undefined,
    numeric_grad,
    undefined_grad,
)

from fcutil import function_misses

PY = fc.Mode(linker="py")


class PowOp(Op):
    """``x ** k``, as the "Creating a new Op" page writes an op; ``k`` counts, so its gradient
    is undefined."""

    __props__ = ()

    def make_node(self, x: Any, k: Any) -> Apply:
        x, k = ft.as_tensor_variable(x), ft.as_tensor_variable(k)
        return Apply(self, [x, k], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, k = inputs
        output_storage[0][0] = np.asarray(x**k, dtype=x.dtype)

    def grad(self, inputs: list, output_grads: list) -> list:
        x, k = inputs
        return [output_grads[0] * k * x ** (k - 1), grad_undefined(self, 1, k, "k is an integer count")]


class ShiftOp(Op):
    """``x + s`` whose gradient in ``s`` is not written, by PyTensor's ``L_op``."""

    __props__ = ()

    def make_node(self, x: Any, s: Any) -> Apply:
        x, s = ft.as_tensor_variable(x), ft.as_tensor_variable(s)
        return Apply(self, [x, s], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0] + inputs[1]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        return [output_grads[0], grad_not_implemented(self, 1, inputs[1], "not written yet")]


class WrongOp(Op):
    """``x ** 2`` with a wrong gradient, ``3 x`` instead of ``2 x``."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0] ** 2

    def grad(self, inputs: list, output_grads: list) -> list:
        return [output_grads[0] * 3 * inputs[0]]


X = np.array([0.5, 1.5, 2.0])

# PyTensor's ``grad_undefined``/``grad_not_implemented`` reason, recorded with PyTensor 3.0.7:
# "This variable is Null because the grad method for input {x_pos} ({x}) of the {op} op is
# {undefined|not implemented}. {comment}" (fncache leaves out the trailing space of an empty
# comment); grad then raises NullTypeGradError, a TypeError, with that reason.
UNDEFINED_K = r"This variable is Null because the grad method for input 1 \(k\) of the PowOp op is undefined\. k is an integer count"
NOT_WRITTEN = r"grad method for input 1 \(s\) of the ShiftOp op is not implemented\. not written yet"


# -- an op's gradient with an input it has none for ---------------------------------------------
def test_the_other_inputs_gradients_work_and_match_finite_differences() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")
    f = fc.function([x, k], fc.grad(PowOp()(x, k).sum(), x), mode=PY)
    np.testing.assert_allclose(f(X, 3.0), 3.0 * X**2, rtol=1e-12)
    fg.verify_grad(lambda a: PowOp()(a, ft.constant(3.0)), [X], rng=0)
    s = ft.dscalar("s")
    g = fc.function([x, s], fc.grad((ShiftOp()(x, s) ** 2).sum(), x), mode=PY)
    np.testing.assert_allclose(g(X, 0.25), 2 * (X + 0.25), rtol=1e-12)


@pytest.mark.parametrize("wrt", ["k", "both"])
def test_the_undefined_input_raises_naming_the_op_the_input_and_the_comment(wrt: str) -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")
    cost = PowOp()(x, k).sum()
    with pytest.raises(NullTypeGradError, match=UNDEFINED_K) as info:
        fc.grad(cost, k if wrt == "k" else [x, k])
    assert isinstance(info.value, TypeError)  # PyTensor's NullTypeGradError is one
    # verify_grad's variables are pt0, pt1 (PyTensor's "input 0", "input 1")
    with pytest.raises(NullTypeGradError, match=UNDEFINED_K.replace("k", "pt1", 1)):
        fg.verify_grad(lambda a, b: PowOp()(a, b), [X, np.array(2.0)], rng=0)


def test_grad_not_implemented_by_l_op() -> None:
    x, s = ft.dvector("x"), ft.dscalar("s")
    with pytest.raises(NullTypeGradError, match=NOT_WRITTEN):
        fc.grad(ShiftOp()(x, s).sum(), s)


def test_the_helpers_give_pytensors_reason() -> None:
    k = ft.dscalar("k")
    g = grad_undefined(PowOp(), 1, k, "why")
    assert isinstance(g.type, NullType)
    assert g.type.why_null == (
        "This variable is Null because the grad method for input 1 (k) of the PowOp op is undefined. why"
    )
    assert grad_not_implemented(PowOp(), 0, k).type.why_null == (
        "This variable is Null because the grad method for input 0 (k) of the PowOp op is not implemented."
    )
    # PyTensor 3's instances: calling one makes a gradient of that type
    assert isinstance(fg.null_type().type, NullType) and isinstance(fg.null_type, NullType)
    assert isinstance(fg.disconnected_type().type, fg.DisconnectedType)


def test_the_helpers_in_an_as_op_grad_and_an_op_from_graph_override() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")

    def mul_grad(inputs: list, grads: list) -> list:
        return [grads[0] * inputs[1], grad_undefined("mul", 1, inputs[1], "a count")]

    mul = ft.as_op([ft.dvector, ft.dscalar], [ft.dvector], grad=mul_grad)(lambda a, b: a * b)
    a, b = ft.dvector("a"), ft.dscalar("b")

    def lop(inputs: list, outputs: list, grads: list) -> list:
        return [grads[0] * inputs[1], grad_not_implemented("scale", 1, inputs[1], "later")]

    by_callable = fc.OpFromGraph([a, b], [a * b], lop_overrides=lop)
    by_entry = fc.OpFromGraph([a, b], [a * b], lop_overrides=["default", fg.null_type])
    ops = {"mul op is undefined. a count": mul, "scale op is not implemented. later": by_callable}
    ops["no explanation given"] = by_entry
    for reason, op in ops.items():
        cost = op(x, k).sum()
        f = fc.function([x, k], fc.grad(cost, x), mode=PY)
        np.testing.assert_allclose(f(X, 3.0), np.full(3, 3.0), err_msg=reason)
        with pytest.raises(NullTypeGradError, match=reason):
            fc.grad(cost, k)


# -- undefined_grad ------------------------------------------------------------------------------
def test_undefined_grad_is_x_forward_and_has_no_gradient() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")
    marked = undefined_grad(x)
    assert isinstance(marked.owner.op, fg.UndefinedGrad)
    np.testing.assert_array_equal(fc.function([x], marked * 2, mode=PY)(X), X * 2)
    # PyTensor: "... input 0 (x) of the UndefinedGrad op is undefined.", also where the cost
    # reads x another way, and for a complex x
    reason = r"grad method for input 0 \(x\) of the UndefinedGrad op is undefined"
    for cost in (marked.sum(), (marked + x).sum()):
        with pytest.raises(NullTypeGradError, match=reason):
            fc.grad(cost, x)
    z = ft.zvector("x")
    with pytest.raises(NullTypeGradError, match=reason):
        fc.grad(ft.abs(undefined_grad(z)).sum(), z)
    # the gradient in another variable does not go through it
    f = fc.function([x, k], fc.grad((x * undefined_grad(k)).sum(), x), mode=PY)
    np.testing.assert_array_equal(f(X, 3.0), np.full(3, 3.0))


# -- verify_grad's failure, numeric_grad ---------------------------------------------------------
def test_verify_grad_raises_gradient_error_with_pytensors_attributes() -> None:
    point = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradientError, match=r"argument 0 \(shape \(2, 2\)\) at position \(\d, \d\)") as info:
        fg.verify_grad(WrongOp(), [point], rng=np.random.default_rng(0))
    e = info.value
    assert fg.GradientError is fc.GradientError and isinstance(e, AssertionError)
    assert e.arg == 0 and e.shape == (2, 2) and e.pos == np.unravel_index(e.err_pos, e.shape)
    assert (e.val1, e.val2) == (e.analytic, e.numeric)
    # 3x against 2x: abs error x r, rel error (3 - 2) / (3 + 2) (PyTensor's 0.19999998...);
    # float64's tolerances, PyTensor's 1e-4
    assert e.val1 / e.val2 == pytest.approx(1.5, rel=1e-6) and e.rel_err == pytest.approx(0.2, rel=1e-6)
    assert e.abs_err == pytest.approx(abs(e.val1 - e.val2)) and (e.abs_tol, e.rel_tol) == (1e-4, 1e-4)
    back = pickle.loads(pickle.dumps(e))
    assert str(back) == str(e) and back.err_pos == e.err_pos and back.pos == e.pos


def test_gradient_error_takes_pytensors_arguments() -> None:
    e = GradientError(1, 5, (2, 3), 1.5, 1.0, 0.5, 0.2, 1e-4, 1e-4)
    assert (e.arg, e.err_pos, e.pos, e.shape) == (1, 5, (1, 2), (2, 3))
    assert "argument 1 (shape (2, 3)) at position (1, 2) is 1.5 symbolically but 1.0" in str(e)
    assert e.part is None and GradientError(0, 0, (), 1.0, 0.0, 1.0, 1.0, 1e-4, 1e-4).pos == ()


def test_numeric_grad_against_the_derivative() -> None:
    a, b = np.array([0.3, -1.2, 2.0]), np.array(1.5)
    num = numeric_grad(lambda u, v: np.sin(u).sum() * v, [a, b])
    # central differences: rounding errors only (a one-sided step of 1e-7 would be off by
    # 1e-7 * f'' / 2, 6e-7 for u ** 3 at 2)
    close = dict(rtol=0, atol=1e-7)
    np.testing.assert_allclose(num.gf[0], np.cos(a) * b, **close)
    np.testing.assert_allclose(num.gf[1], np.sin(a).sum(), **close)
    single = numeric_grad(lambda u: (u**3).sum(), a)  # one array: gf is one array
    np.testing.assert_allclose(single.gf, 3 * a**2, **close)
    # a planted error: PyTensor's (argument, flat position, abs error, rel error)
    wrong = [np.cos(a) * b, np.array(np.sin(a).sum())]
    wrong[0][2] += 1.0
    arg, pos, abs_err, rel_err = num.max_err(wrong, 1e-4, 1e-4)
    assert (arg, pos) == (0, 2) and abs_err == pytest.approx(1.0, rel=1e-6)
    assert rel_err == pytest.approx(1.0 / (abs(wrong[0][2]) + abs(np.cos(2.0) * b)), rel=1e-6)
    # a complex point: df/dRe + i df/dIm, compared part by part
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    num_z = numeric_grad(lambda u: (np.abs(u) ** 2).sum(), [z])
    np.testing.assert_allclose(num_z.gf[0], 2 * z, **close)
    w = num_z.worst([2 * z + np.array([0, 0.5j])], 1e-4, 1e-4)
    assert (w.arg, w.pos, w.part, w.val1, w.abs_err) == (0, 1, "imaginary", 1.0, pytest.approx(0.5))
    # PyTensor's: abs_err = |a - b|, rel_err = abs_err / max(|a| + |b|, 1e-8)
    assert [float(v) for v in numeric_grad.abs_rel_err(1.0, 1.5)] == [0.5, 0.2]
    assert numeric_grad.type_eps["float32"] == 3e-4 and numeric_grad.type_eps[np.dtype("float64")] == 1e-7
    with pytest.raises(ValueError, match="1 gradients given for 2 arguments"):
        num.max_err([a], 1e-4, 1e-4)
    with pytest.raises(TypeError, match="argument 0 of pt has dtype int64"):
        numeric_grad(np.sum, [np.arange(3)])
    with pytest.raises(TypeError, match="f must return a real scalar"):
        numeric_grad(lambda u: u, [a])


# -- a function through the op pickles and is keyed as any other ----------------------------------
def test_a_function_through_the_op_pickles_and_hits_the_cache() -> None:
    x, k = ft.dvector("x"), ft.dscalar("k")

    def build() -> fc.Function:
        y = PowOp()(x, k)
        return fc.function([x, k], [y, fc.grad(y.sum(), x)])

    f = build()
    want = [X**3, 3 * X**2]
    misses = function_misses()
    for got in (build(), pickle.loads(pickle.dumps(f)), fc.loads(fc.dumps(f))):
        for g, w in zip(got(X, 3.0), want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
    assert function_misses() == misses  # the same graph again: a hit


# -- fncache.tensor's constants, type groups and make_slice --------------------------------------
def test_constants_are_pytensors() -> None:
    # PyTensor's pt.pi, e, inf, nan, euler_gamma are numpy's Python floats; newaxis is None
    assert (ft.pi, ft.e, ft.inf, ft.euler_gamma) == (np.pi, np.e, np.inf, np.euler_gamma)
    assert np.isnan(ft.nan) and ft.newaxis is None
    x = ft.dvector("x")
    f = fc.function([x], [ft.cos(x * ft.pi), x[:, ft.newaxis]], mode=PY)
    c, col = f(X)
    np.testing.assert_allclose(c, np.cos(X * np.pi), rtol=1e-12)
    assert col.shape == (3, 1)


#: PyTensor 3.0.7's groups (``pytensor.tensor.type``): scalar, vector and matrix types of each
#: of its dtypes of a kind (ints without unsigned nor bool); ``<kind>_types`` the scalar ones
GROUPS = {
    "float": ("float32", "float64"),
    "int": ("int8", "int16", "int32", "int64"),
    "complex": ("complex64", "complex128"),
}


@pytest.mark.parametrize("kind", sorted(GROUPS))
def test_type_groups_are_pytensors(kind: str) -> None:
    for shape, ndim in (("scalar", 0), ("vector", 1), ("matrix", 2)):
        group = getattr(ft, f"{kind}_{shape}_types")
        assert isinstance(group, tuple) and getattr(ft.type, f"{kind}_{shape}_types") == group
        assert [(t.dtype, t.shape) for t in group] == [(d, (None,) * ndim) for d in GROUPS[kind]]
    assert getattr(ft, f"{kind}_types") == getattr(ft, f"{kind}_scalar_types")
    assert ft.dscalar in ft.float_types and ft.lvector in ft.int_vector_types


def test_make_slice() -> None:
    x, i = ft.dvector("x"), ft.lscalar("i")
    v = np.arange(5.0)
    # PyTensor's make_slice(i) is i: (its first argument is the start), make_slice(a_slice) its bounds
    idx = [ft.make_slice(i), ft.make_slice(1, i), ft.make_slice(slice(None, None, -1))]
    f = fc.function([x, i], [x[s] for s in idx], mode=PY)
    for got, want in zip(f(v, 2), [v[2:], v[1:2], v[::-1]]):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="start of make_slice must be an int or a symbolic int scalar"):
        ft.make_slice(ft.dscalar("d"))
    with pytest.raises(TypeError, match="make_slice: given a slice"):
        ft.make_slice(slice(1, 2), 3)


#: what PyTensor 3.0.7 has and a user's code reads (``dir(pytensor.gradient)`` and
#: ``dir(pytensor.tensor)``, less its own imports and internals)
PYTENSOR_GRADIENT = (
    "DisconnectedGrad DisconnectedInputError DisconnectedType GradClip GradScale GradientError Lop "
    "NullTypeGradError Rop UndefinedGrad ZeroGrad consider_constant disconnected_grad "
    "disconnected_type grad grad_clip grad_not_implemented grad_scale grad_undefined hessian "
    "hessian_vector_product jacobian null_type numeric_grad pullback pushforward subgraph_grad "
    "undefined_grad verify_grad zero_grad"
).split()
PYTENSOR_TENSOR = (
    "pi e inf nan newaxis euler_gamma make_slice float_types int_types complex_types "
    "float_scalar_types int_scalar_types complex_scalar_types float_vector_types int_vector_types "
    "complex_vector_types float_matrix_types int_matrix_types complex_matrix_types"
).split()


def test_pytensors_names_are_there() -> None:
    assert [n for n in PYTENSOR_GRADIENT if not hasattr(fg, n)] == []
    assert set(PYTENSOR_GRADIENT) <= set(fg.__all__)
    assert [n for n in PYTENSOR_TENSOR if not hasattr(ft, n)] == []
    assert isinstance(fg.DisconnectedGrad(), Op) and isinstance(fg.UndefinedGrad(), Op)
