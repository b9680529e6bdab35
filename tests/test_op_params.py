"""A user's op with params (Theano's and PyTensor's "Using Op params"): ``params_type`` (a
``ParamsType`` over the op's attributes, or ``Generic()`` with the op's own ``get_params``) and
``perform(self, node, inputs, output_storage, params)``, under both linkers, pickled into a
fresh process, and never merged or keyed alike when the params differ."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.params_type import Generic, Params, ParamsType, generic

from fcutil import script_function_in_a_fresh_process

MODES = ["FAST_RUN", "FAST_COMPILE"]


class AXPBOp(fc.Op):
    """x -> alpha * x + beta, its coefficients as params (PyTensor's ParamsType example)."""

    __props__ = ("alpha", "beta")
    params_type = ParamsType(alpha=ft.dscalar, beta=ft.dscalar)

    def __init__(self, alpha: float, beta: float) -> None:
        self.alpha, self.beta = alpha, beta

    def make_node(self, x):  # noqa: ANN001, ANN201
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params):  # noqa: ANN001, ANN201
        output_storage[0][0] = params.alpha * inputs[0] + params.beta

    def grad(self, inputs, output_grads):  # noqa: ANN001, ANN201
        return [output_grads[0] * self.alpha]


class MulOp(fc.Op):
    """Theano's ``Generic`` example: the params are a Python float from ``get_params``; the
    op declares no props, so only its params tell two instances apart."""

    __props__ = ()
    params_type = Generic()
    calls = 0

    def __init__(self, mul: float) -> None:
        self.mul = float(mul)

    def get_params(self, node):  # noqa: ANN001, ANN201
        MulOp.calls += 1
        return self.mul

    def make_node(self, x):  # noqa: ANN001, ANN201
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params):  # noqa: ANN001, ANN201
        output_storage[0][0] = inputs[0] * params


@pytest.mark.parametrize("mode", MODES)
def test_params_reach_perform_in_both_linkers(mode: str) -> None:
    x = ft.dvector("x")
    y = AXPBOp(2.0, -1.0)(x)
    f = fc.function([x], [y, MulOp(3)(x), fc.grad((y**2).sum(), x)], mode=mode)
    xv = np.array([0.5, -2.0, 3.0])
    got = f(xv)
    np.testing.assert_array_equal(got[0], 2.0 * xv - 1.0)
    np.testing.assert_array_equal(got[1], xv * 3.0)
    np.testing.assert_allclose(got[2], 2 * (2.0 * xv - 1.0) * 2.0, rtol=1e-12)
    back = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(back(xv)[0], 2.0 * xv - 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_params_are_asked_for_once_per_node_when_linked(mode: str) -> None:
    x = ft.dvector("x")
    MulOp.calls = 0
    f = fc.function([x], MulOp(5)(x) + 1, mode=mode)
    linked = MulOp.calls
    for _ in range(4):
        np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [6.0, 11.0])
    assert linked >= 1 and MulOp.calls == linked


@pytest.mark.parametrize("mode", MODES)
def test_ops_differing_in_params_never_merge_nor_share_a_key(mode: str) -> None:
    assert MulOp(2) != MulOp(3) and MulOp(2) == MulOp(2.0) and hash(MulOp(2)) == hash(MulOp(2))
    x = ft.dvector("x")
    f = fc.function([x], [MulOp(2)(x), MulOp(3)(x), MulOp(2)(x)], mode=mode)
    xv = np.array([1.0, -4.0])
    for got, k in zip(f(xv), (2.0, 3.0, 2.0)):
        np.testing.assert_array_equal(got, xv * k)
    f2, f3 = (fc.function([x], MulOp(k)(x), mode=mode) for k in (2, 3))
    assert f2.cache_key != f3.cache_key
    np.testing.assert_array_equal(f3(xv), xv * 3.0)
    np.testing.assert_array_equal(f2(xv), xv * 2.0)
    assert fc.function([x], MulOp(2)(x), mode=mode).cache_key == f2.cache_key
    a, b = (fc.function([x], AXPBOp(1.0, c)(x), mode=mode) for c in (0.0, 1.0))
    assert a.cache_key != b.cache_key
    np.testing.assert_array_equal(b(xv), xv + 1.0)


def test_params_op_pickles_into_another_process(tmp_path) -> None:
    """A script's op with params travels with a pickled function; the loading process asks it
    for its params when it links the function."""
    script = tmp_path / "make.py"
    script.write_text(
        "import pickle\n"
        "import sys\n"
        "import fncache as fc\n"
        "import fncache.tensor as ft\n"
        "from fncache.graph.params_type import ParamsType\n\n\n"
        "class ScaleShift(fc.Op):\n"
        "    __props__ = ('scale', 'shift')\n"
        "    params_type = ParamsType(scale=ft.dscalar, shift=ft.lscalar)\n\n"
        "    def __init__(self, scale, shift):\n"
        "        self.scale, self.shift = scale, shift\n\n"
        "    def make_node(self, x):\n"
        "        x = ft.as_tensor_variable(x)\n"
        "        return fc.Apply(self, [x], [x.type()])\n\n"
        "    def perform(self, node, inputs, output_storage, params):\n"
        "        output_storage[0][0] = inputs[0] * params.scale + params.shift\n\n\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], [ScaleShift(3.0, 1)(x), ScaleShift(0.5, 2)(x)])\n"
        "open(sys.argv[1], 'wb').write(pickle.dumps(f))\n"
    )
    out = script_function_in_a_fresh_process(script, tmp_path / "f.pkl")
    assert out.strip() == "[[4.0, 7.0], [2.5, 3.0]]"


def test_params_type_and_params_objects() -> None:
    pt = ParamsType(beta=ft.dscalar, alpha=ft.lscalar, w=ft.dvector)
    assert pt.fields == ("alpha", "beta", "w") and pt.get_type("w") == ft.dvector
    assert pt.get_field(ft.dscalar) == "beta" and pt.has_type(ft.lscalar) and not pt.has_type(ft.fscalar)
    assert pt == ParamsType(alpha=ft.lscalar, beta=ft.dscalar, w=ft.dvector) and hash(pt) == hash(
        pt.extended()
    )
    assert pt.extended(extra=generic).fields == ("alpha", "beta", "extra", "w")

    class Holder:
        alpha, beta = 3, 0.5

    p = pt.get_params(Holder(), w=[1.0, 2.0])
    assert isinstance(p, Params) and p.alpha == 3 and p["beta"] == 0.5
    assert isinstance(p.alpha, np.int64) and isinstance(p.beta, np.float64)  # 0-d fields: scalars
    np.testing.assert_array_equal(p.w, [1.0, 2.0])
    same = pt.get_params(alpha=3, beta=0.5, w=np.array([1.0, 2.0]))
    assert p == same and hash(p) == hash(same) and p != pt.get_params(alpha=3, beta=0.5, w=[1.0, 3.0])
    assert pickle.loads(pickle.dumps(p)) == p and pickle.loads(pickle.dumps(pt)) == pt
    full = type("Full", (Holder,), {"w": [0.0]})()
    assert pt.filter(p) is p and pt.filter(full) == pt.get_params(full)
    with pytest.raises(TypeError, match="read-only"):
        p.alpha = 4
    with pytest.raises(TypeError, match="read-only"):
        p["alpha"] = 4
    with pytest.raises(AttributeError, match="no field 'gamma'"):
        p.gamma  # noqa: B018
    with pytest.raises(AttributeError, match=r"no value for field\(s\) \['w'\] in Holder"):
        pt.get_params(Holder())
    with pytest.raises(TypeError, match="field 'alpha'"):
        pt.get_params(alpha="three", beta=1.0, w=[1.0])
    with pytest.raises(TypeError, match="strict"):
        pt.filter(Holder(), strict=True)
    with pytest.raises(ValueError, match="at least one field"):
        ParamsType()
    with pytest.raises(ValueError, match="field 'class'"):
        ParamsType(**{"class": ft.dscalar})
    with pytest.raises(TypeError, match="field 'a' has type 3"):
        ParamsType(a=3)


def test_params_errors_name_the_op_and_the_fix() -> None:
    class NoParamsArg(fc.Op):
        __props__ = ()
        params_type = ParamsType(k=ft.dscalar)
        k = 2.0

        def make_node(self, x):  # noqa: ANN001, ANN201
            return fc.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):  # noqa: ANN001, ANN201
            output_storage[0][0] = inputs[0]

    class NoGetParams(NoParamsArg):
        params_type = None

        def perform(self, node, inputs, output_storage, params):  # noqa: ANN001, ANN201
            output_storage[0][0] = inputs[0] * params

    class MissingAttribute(NoGetParams):
        params_type = ParamsType(gain=ft.dscalar)

    x = ft.dvector("x")
    for mode in MODES:
        with pytest.raises(TypeError, match=r"NoParamsArg declares params_type .* write perform\(self, node"):
            fc.function([x], NoParamsArg()(x), mode=mode)
        with pytest.raises(NotImplementedError, match="NoGetParams has no params: it defines no get_params"):
            fc.function([x], NoGetParams()(x), mode=mode)
        with pytest.raises(AttributeError, match=r"no value for field\(s\) \['gain'\] in MissingAttribute"):
            fc.function([x], MissingAttribute()(x), mode=mode)
