"""Theano-style type objects: ``ft.dvector`` & co. are types (as_op itypes/otypes take them)
and calling a type makes a variable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft


@pytest.mark.parametrize(
    "name,dtype,ndim",
    [
        ("dscalar", "float64", 0),
        ("fvector", "float32", 1),
        ("imatrix", "int32", 2),
        ("ltensor3", "int64", 3),
        ("btensor4", "bool", 4),
    ],
)
def test_shorthands_are_types_and_make_variables(name: str, dtype: str, ndim: int) -> None:
    t = getattr(ft, name)
    assert isinstance(t, ft.TensorType)
    assert (t.dtype, t.ndim) == (dtype, ndim)
    v = t("v")
    assert isinstance(v, ft.TensorVariable) and v.type == t and v.name == "v"
    w = t()
    assert w.type == t and w is not v and w.name is None
    assert pickle.loads(pickle.dumps(t)) == t


@pytest.mark.parametrize(
    "shape, want",
    [
        ((None, 3), (None, 3)),
        ((True, False), (1, None)),  # Theano's broadcastable pattern, given as a shape
        ((0, 1, True), (0, 1, 1)),
        ((np.int64(4), np.bool_(True)), (4, 1)),
        ([2, None], (2, None)),
        ((-1, 2), ValueError),
        ((True, -3), ValueError),
        ((2.0,), TypeError),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", np.float32, np.dtype("int8"), "float16", "floatX", "bool"])
def test_a_type_holds_canonical_names_and_sizes_however_they_are_given(dtype, shape, want) -> None:
    """The dtype's canonical name and a static shape of Python ints and None, however given
    (names, numpy types, bools, numpy ints); a type made again from what it holds (as a
    pickle makes it) is equal to it."""
    if isinstance(want, type):
        with pytest.raises(want):
            ft.TensorType(dtype, shape)
        return
    t = ft.TensorType(dtype, shape)
    name = (
        fc.config.floatX if dtype == "floatX" else "float32" if dtype == "float16" else np.dtype(dtype).name
    )
    assert t.dtype == name and type(t.dtype) is str
    assert t.shape == want and all(s is None or type(s) is int for s in t.shape)
    again = pickle.loads(pickle.dumps(t))
    assert again == t and again.shape == want and type(again.shape) is tuple


def test_as_op_with_type_objects_black_box_likelihood() -> None:
    """PyMC's black-box likelihood idiom: itypes/otypes are the type objects themselves."""

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dscalar])
    def loglike(theta):
        return np.asarray(-0.5 * np.sum(theta**2))

    theta = ft.dvector("theta")
    f = fc.function([theta], loglike(theta) * 2.0)
    v = np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(f(v), -np.sum(v**2))
    with pytest.raises(TypeError, match="input 0 must be"):
        loglike(ft.fvector("t32"))


def test_tensortype_constructor_and_broadcastable() -> None:
    m = ft.TensorType("float64", (None, 3))("m")
    assert m.type.shape == (None, 3) and m.dtype == "float64"
    r = ft.TensorType("float32", broadcastable=(True, False))("r")
    assert r.type.shape == (1, None) and r.broadcastable == (True, False)
    assert fc.TensorType("int64")().ndim == 0
    with pytest.raises(TypeError, match="shape or broadcastable"):
        ft.TensorType("float64", (None,), broadcastable=(False,))
    with pytest.raises(TypeError, match="name must be a str"):
        ft.dvector(3)
    f = fc.function([m], m.sum(axis=0))
    np.testing.assert_allclose(f(np.ones((2, 3))), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError):
        f(np.ones((2, 4)))
