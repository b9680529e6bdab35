"""The type, variable, shared-variable and function API as Theano and PyTensor scripts call it:
``TensorType``'s arguments and methods, ``Variable.clone``, Python numbers of symbolic
variables, ``constant``'s dtype, ``set_value``'s errors and ``f.get_shared()``; PyTensor's
results where it defines the behaviour."""

from __future__ import annotations

import pickle
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

T = ft.TensorType


# -- TensorType(dtype, shape, name, broadcastable) -----------------------------------------------


def test_tensor_type_takes_pytensors_argument_order() -> None:
    named = T("float64", (None, 3), "m")
    assert (named.shape, named.name) == ((None, 3), "m")
    assert named == T("float64", (None, 3)) and hash(named) == hash(T("float64", (None, 3)))
    assert T("float64", (False, True)).shape == (None, 1)  # Theano's TensorType(dtype, broadcastable)
    assert T("float64", broadcastable=(True, False)).shape == (1, None)
    assert T("float64", None, "b", (True,)).shape == (1,) and T("float64", None, "b", (True,)).name == "b"
    assert T("int32", 3).shape == (3,)  # PyTensor's one dim of size 3
    assert named.clone(dtype="float32").name == "m" and named.clone(shape=(2, None)).shape == (2, None)
    loaded = pickle.loads(pickle.dumps(named))
    assert loaded == named and loaded.name == "m"
    with pytest.raises(TypeError, match=r"TensorType: the third argument is the name, got \(True,\)"):
        T("float64", None, (True,))
    with pytest.raises(TypeError, match="give shape or broadcastable, not both"):
        T("float64", (None,), broadcastable=(True,))
    assert ft.tensor("x", dtype="float32", shape=3).type.shape == (3,)


#: argument lists PyTensor and fncache both take, and the (shape, name) they make
TYPE_ARGS: list[tuple[tuple, dict]] = [
    (("float64", (None, 3), "m"), {}),
    (("float64", (False, True)), {}),
    (("float64",), {"broadcastable": (True, False)}),
    (("float64", None, "n", (True, False)), {}),
    (("int8", 4), {}),
    (("float32", (1, None, 2)), {"name": "t"}),
]


@pytest.mark.parametrize("args, kwargs", TYPE_ARGS)
def test_tensor_type_arguments_as_pytensors(args: tuple, kwargs: dict) -> None:
    pt = pytest.importorskip("pytensor.tensor")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTensor's broadcastable=
        theirs = pt.TensorType(*args, **kwargs)
    mine = T(*args, **kwargs)
    assert (mine.dtype, mine.shape, mine.name) == (theirs.dtype, theirs.shape, theirs.name)
    assert (mine.ndim, mine.broadcastable) == (theirs.ndim, theirs.broadcastable)


# -- PyTensor's Type methods -------------------------------------------------------------------

SHAPES = [(None, None), (None, 3), (2, 3), (3, None), (1, None), (None,)]


def test_type_relations_follow_pytensors_rules() -> None:
    # PyTensor's definitions: a super type takes every value of the other (each static size
    # unknown or equal); one class, the same dims known to broadcast
    for dtype in ("float64", "float32"):
        for a in SHAPES:
            for b in SHAPES:
                mine, other = T("float64", a), T(dtype, b)
                alike = dtype == "float64" and len(a) == len(b)
                supers = alike and all(s is None or s == t for s, t in zip(a, b))
                same_class = alike and [s == 1 for s in a] == [t == 1 for t in b]
                assert mine.is_super(other) == supers, (a, dtype, b)
                assert mine.in_same_class(other) == same_class, (a, dtype, b)


def test_type_relations_as_pytensors() -> None:
    pt = pytest.importorskip("pytensor.tensor")
    for dtype in ("float64", "float32"):
        for a in SHAPES:
            for b in SHAPES:
                mine, theirs = T("float64", a), pt.TensorType("float64", a)
                other, others = T(dtype, b), pt.TensorType(dtype, b)
                assert mine.is_super(other) == theirs.is_super(others), (a, dtype, b)
                assert mine.in_same_class(other) == theirs.in_same_class(others), (a, dtype, b)


def test_convert_and_filter_variable_as_pytensors() -> None:
    pt = pytest.importorskip("pytensor.tensor")
    for a in SHAPES:
        for b in SHAPES:
            for dtype in ("float64", "float32"):
                theirs = pt.TensorType("float64", a).convert_variable(pt.tensor("v", dtype=dtype, shape=b))
                mine = T("float64", a).convert_variable(ft.tensor("v", dtype=dtype, shape=b))
                contradicts = len(a) == len(b) and any(
                    s is not None and t is not None and s != t for s, t in zip(a, b)
                )
                if contradicts:  # PyTensor's specify_shape would declare a size no value has
                    assert mine is None
                    continue
                assert (mine is None) == (theirs is None), (a, dtype, b)
                if mine is not None:
                    assert mine.type.shape == theirs.type.shape, (a, b)
    c = T("float64", (None,)).filter_variable([1, 2])
    assert isinstance(c, ft.TensorConstant) and c.type.shape == (2,) and c.dtype == "float64"
    with pytest.raises(TypeError, match=r"filter_variable: f .*float32.*cast it"):
        T("float64", (None,)).filter_variable(ft.fvector("f"))


def test_filter_variable_declares_the_sizes_checked_when_run() -> None:
    x = ft.dmatrix("x")
    y = T("float64", (2, 3)).filter_variable(x)
    assert y.type.shape == (2, 3)
    f = fc.function([x], y * 2, mode="FAST_COMPILE")
    np.testing.assert_array_equal(f(np.ones((2, 3))), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="specify_shape"):
        f(np.ones((3, 2)))


#: value pairs with what PyTensor 3.0.7 answers for them: values_eq_approx, values_eq (None where
#: options are given) and is_valid_value of a, b and list(b) for a vector of a's dtype
VALUE_PAIRS: list[tuple[np.ndarray, np.ndarray, dict, bool, bool | None, tuple[bool, bool, bool]]] = [
    (np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), {}, True, True, (True, True, False)),
    (
        np.array([1.0, np.inf], "float32"),
        np.array([1.000009, np.inf], "float32"),
        {},
        True,
        False,
        (True, True, False),
    ),
    (np.array([1.0, 2.0]), np.array([1.000009, 2.0]), {}, True, False, (True, True, False)),
    (np.array([1.0, 2.0]), np.array([1.1, 2.0]), {}, False, False, (True, True, False)),
    (
        np.array([1.0, np.inf]),
        np.array([1.0, 3.0]),
        {"allow_remove_inf": True},
        True,
        None,
        (True, True, False),
    ),
    (np.array([1.0, np.inf]), np.array([1.0, 3.0]), {}, False, False, (True, True, False)),
    (np.array([1.0, np.inf]), np.array([1.0, -np.inf]), {}, False, False, (True, True, False)),
    (
        np.array([1.0, np.nan]),
        np.array([1.0, 3.0]),
        {"allow_remove_nan": True},
        True,
        None,
        (True, True, False),
    ),
    (np.array([1.0, 2.0]), np.array([1.01, 2.0]), {"rtol": 0.1}, True, None, (True, True, False)),
    (np.array([1, 2]), np.array([1, 3]), {}, False, False, (True, True, False)),
    (np.array([1, 2]), np.array([1.0, 2.0]), {}, False, False, (True, False, False)),
    (np.ones(2), np.ones(3), {}, False, False, (True, True, False)),
]


@pytest.mark.parametrize("a, b, options, approx, equal, valid", VALUE_PAIRS)
def test_values_eq_as_pytensors(
    a: np.ndarray, b: np.ndarray, options: dict, approx: bool, equal: bool | None, valid: tuple
) -> None:
    with np.errstate(all="ignore"):
        assert T.values_eq_approx(a, b, **options) == approx
        if equal is not None:
            assert T.values_eq(a, b) == equal
    ours = T(str(a.dtype), (None,))
    assert tuple(ours.is_valid_value(value) for value in (a, b, list(b))) == valid


# -- the nlinalg module's public surface -------------------------------------------------------

BUILDING_BLOCKS = (
    "linalg_input",
    "square_input",
    "run_linalg",
    "flag",
    "system_operands",
    "rows_checked",
    "symmetric_from",
)


def test_nlinalg_lists_only_its_public_functions() -> None:
    from fncache.graph.basic import Op

    nl = ft.nlinalg
    assert not set(BUILDING_BLOCKS) & set(nl.__all__)
    assert all(callable(getattr(nl, name)) for name in BUILDING_BLOCKS)  # the modules sharing them
    star: dict[str, Any] = {}
    exec("from fncache.tensor.nlinalg import *", star)
    assert not set(BUILDING_BLOCKS) & set(star)
    public = set(dir(np.linalg)) | {"matrix_dot", "trace", "matrix_inverse"}
    pt_nlinalg = pytest.importorskip("pytensor.tensor.nlinalg")
    public |= set(dir(pt_nlinalg))
    for name in nl.__all__:
        obj = getattr(nl, name)
        assert name in public or (isinstance(obj, type) and issubclass(obj, Op)), name


# -- variables ---------------------------------------------------------------------------------


def test_symbolic_sizes_and_indices_still_build() -> None:
    n, v = ft.lscalar("n"), ft.dvector("v")
    got = fc.function([v, n], [v[1:n], ft.arange(n)], mode="FAST_COMPILE")(np.arange(4.0), 3)
    np.testing.assert_array_equal(got[0], np.arange(4.0)[1:3])
    np.testing.assert_array_equal(got[1], np.arange(3))


def test_variable_clone_takes_a_name() -> None:
    x = ft.dmatrix("x")
    y = x.clone(name="y")
    assert (y.name, y.type, y.owner, x.name) == ("y", x.type, None, "x")
    assert x.clone().name == "x" and x.clone(name=None).name is None
    c = ft.constant(np.arange(3.0), name="c").clone(name="d")
    assert c.name == "d" and np.array_equal(c.data, np.arange(3.0))
    with pytest.raises(TypeError, match=r"clone\(\) takes only name=, got \['owner'\]"):
        x.clone(owner=None)


def test_a_full_transpose_is_named_as_pytensors() -> None:
    m, t, v = ft.dmatrix("m"), ft.tensor3("t"), ft.dvector("v")
    assert [m.T.name, m.transpose(1, 0).name, ft.transpose(m).name, t.T.name] == ["m.T", "m.T", "m.T", "t.T"]
    assert t.transpose(0, 2, 1).name is None and ft.dmatrix().T.name is None
    assert v.T is v and v.name == "v"


@pytest.mark.parametrize(
    "convert",
    [int, float, complex, lambda v: [1, 2, 3][v], lambda v: range(v)],
    ids=["int", "float", "complex", "list_index", "range"],
)
def test_python_numbers_of_symbolic_variables_are_refused_clearly(convert: Callable) -> None:
    n = ft.lscalar("n")
    with pytest.raises(TypeError, match=r"\(\) of symbolic variable n: its value is unknown until"):
        convert(n)


@pytest.mark.parametrize(
    "value, dtype",
    [(300, "int8"), (np.int64(300), "int8"), ([1, 300], "int8"), (-1, "uint8"), (1e300, "float32")]
    + [(np.nan, "int32"), (2**70, "int64"), (np.array([np.inf]), "int64")],
)
def test_constant_refuses_values_its_dtype_cannot_hold(value: Any, dtype: str) -> None:
    with np.errstate(all="ignore"):
        cast = np.asarray(np.asarray(value, dtype=object).astype(float), dtype=dtype)
    assert not np.array_equal(cast.astype(float), np.asarray(value, dtype=float))  # numpy wraps it
    with pytest.raises(
        fc.OutOfRangeError, match=rf"constant: .* does not fit dtype {dtype}; give values in its"
    ):
        ft.constant(value, dtype=dtype)


def test_constant_keeps_values_its_dtype_holds() -> None:
    for value, dtype in [(127, "int8"), ([0, 255], "uint8"), (np.inf, "float32"), (2.5, "int8")]:
        with np.errstate(all="ignore"):
            want = np.asarray(value).astype(dtype)
        got = ft.constant(value, dtype=dtype).data
        assert got.dtype == want.dtype and np.array_equal(got, want)


# -- shared variables and functions --------------------------------------------------------------


def test_set_value_of_another_ndim_says_to_reshape() -> None:
    s = fc.shared(np.zeros(3), name="w", allow_downcast=True)
    with pytest.raises(TypeError, match=r"shared variable 'w' .* Give a value of 1 dims \(reshape it\)") as e:
        s.set_value(np.ones((3, 1)))
    assert "astype" not in str(e.value) and "allow_downcast" not in str(e.value)
    np.testing.assert_array_equal(s.get_value(), np.zeros(3))


def test_get_shared_lists_the_shared_variables() -> None:
    s, t = fc.shared(np.ones(3), name="s"), fc.shared(np.ones(3), name="t")
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function(
        [x, fc.In(y, value=np.ones(3), update=y + 1)], x + s + y, updates={t: t + 1}, mode="FAST_COMPILE"
    )
    assert f.get_shared() == [s, t] or f.get_shared() == [t, s]
    assert fc.function([x], x * 2, mode="FAST_COMPILE").get_shared() == []


def test_as_tensor_variable_of_a_value_with_ndim_is_a_constant() -> None:
    """PyTensor's ``as_tensor_variable(array, ndim=k)`` is ``constant(array, ndim=k)``: a
    constant whose ``data`` scripts read, not an op on one."""
    for value, ndim in [(np.ones((1, 3)), 1), (np.arange(3.0), 3), ([[1, 2]], 1), (2.0, 2)]:
        c = ft.as_tensor_variable(value, name="c", ndim=ndim)
        want = np.asarray(value).reshape(tuple(s for s in np.shape(value) if s != 1) or ())
        want = want.reshape((1,) * (ndim - want.ndim) + want.shape)
        assert isinstance(c, ft.TensorConstant) and c.name == "c"
        assert c.type.shape == want.shape and np.array_equal(c.data, want)
    with pytest.raises(ValueError, match=r"as_tensor_variable\(\): ndim=0 would drop the leading dims"):
        ft.as_tensor_variable(np.ones(3), ndim=0)


@pytest.mark.parametrize(
    "dtype, value, kind",
    [("int32", 3.5, "f"), ("int32", 3, "i"), ("float32", 2.0, "f"), ("uint8", 300, "i"), ("bool", 2, "i")],
)
def test_fill_keeps_the_value_of_a_python_number(dtype: str, value: Any, kind: str) -> None:
    """``x.fill(3.5)`` of an int ``x`` is 3.5s, as PyTensor's (``value``'s dtype): a number the
    model's dtype cannot hold is not truncated or wrapped into it."""
    m = ft.vector("m", dtype=dtype)
    outs = [m.fill(value), ft.fill(m, value)]
    with np.errstate(all="ignore"):
        fits = np.asarray(value).astype(dtype) == value
    for out in outs:
        assert np.dtype(out.dtype).kind == kind and (out.dtype == dtype or not fits)
    for got in fc.function([m], outs, mode="FAST_COMPILE")(np.zeros(3, dtype)):
        np.testing.assert_array_equal(got, np.full(3, value))


def test_zero_and_value_as_theanos() -> None:
    s = fc.shared(np.array([[1.0, np.nan]], "float32"), name="w")
    s.zero()
    got = s.get_value()
    assert got.dtype == np.float32 and np.array_equal(got, np.zeros((1, 2), "float32"))
    k = fc.shared(np.arange(3), name="k")
    k.zero(borrow=True)
    assert np.array_equal(k.get_value(), np.zeros(3, np.int64)) and k.get_value().dtype == np.int64
    sparse = pytest.importorskip("scipy.sparse")
    m = fc.shared(sparse.csr_matrix(np.eye(2)), name="m")
    m.zero()
    assert m.get_value().format == "csr" and m.get_value().nnz == 0 and m.get_value().shape == (2, 2)
    c = ft.constant(np.arange(3.0))
    assert c.value is c.data


def test_dimshuffle_drops_a_dim_of_unknown_size_checked_when_run() -> None:
    """PyTensor's ``x.dimshuffle(1)`` of a matrix is a squeeze of dim 0, checked when the
    function runs; a dim of a static size other than 1 is refused when the graph is built."""
    x = ft.dmatrix("x")
    y = x.dimshuffle(1)
    assert y.type.shape == (None,)
    f = fc.function([x], [y, x.dimshuffle("x", 1, 0)[0, :, :1].dimshuffle(0)], mode="FAST_COMPILE")
    v = np.arange(3.0).reshape(1, 3)
    got = f(v)
    np.testing.assert_array_equal(got[0], np.squeeze(v, 0))
    np.testing.assert_array_equal(got[1], v.T[:, 0])
    with pytest.raises(ValueError, match=r"specify_shape: the value has shape \(2, 3\)"):
        f(np.ones((2, 3)))
    with pytest.raises(ValueError, match="input dim 0 of t .* is not broadcastable"):
        ft.tensor("t", dtype="float64", shape=(2, None)).dimshuffle(1)


def test_a_python_number_out_of_the_operands_dtype_is_refused_as_numpy() -> None:
    x = ft.vector("x", dtype="int8")
    with pytest.raises(OverflowError):  # numpy's class: np.zeros(2, np.int8) + 300 raises
        np.zeros(2, np.int8) + 300
    with pytest.raises(fc.OutOfRangeError, match="the number 300 does not fit dtype int8 of the other"):
        x + 300
    # a float beyond a float32 operand's range is numpy's inf there, not an error
    v = ft.fvector("v")
    with np.errstate(over="ignore"):
        expected = np.ones(2, np.float32) * 1e300
    got = fc.function([v], [v * 1e300, 1e300 * v])(np.ones(2, np.float32))
    for g in got:
        assert g.dtype == expected.dtype
        np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_wrong_count_of_inputs_names_the_function_and_its_inputs(mode: str) -> None:
    # The native runner's fast path takes exactly its inputs by position; any other count goes
    # to the binder that knows the names, so C and numpy linkers say the same.
    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, y], x + y, name="f", mode=mode)
    with pytest.raises(TypeError, match=r"function 'f' takes 2 inputs \(x, y\), got 3"):
        f([1.0], [2.0], [3.0])
    with pytest.raises(TypeError, match=r"function 'f' takes 2 inputs \(x, y\), got 1"):
        f([1.0])
    with pytest.raises(TypeError, match=r"function 'f': missing inputs \['y'\]"):
        f(x=[1.0])
    np.testing.assert_array_equal(f([1.0], [2.0]), [3.0])


def test_a_named_type_pickled_with_the_name_fourth_still_loads() -> None:
    # Earlier versions reduced a TensorType to (dtype, shape, None, name); their pickles, with a
    # function shipped in them, must still load after the name moved to PyTensor's third place.
    old = pickle.dumps((ft.TensorType, ("float64", (None, 3), None, "m")))
    cls, args = pickle.loads(old)
    t = cls(*args)
    assert (t.dtype, t.shape, t.name) == ("float64", (None, 3), "m")
    assert pickle.loads(pickle.dumps(t)).name == "m"


# -- allow_input_downcast: None (the default), False, True ----------------------------------------

#: (value, into "s" (fscalar) or "v" (fvector), taken with allow_input_downcast None/False/True),
#: PyTensor's answers under floatX float32 (tests/test_compat_downcast_updates.py has the whole table).
_DOWNCASTS = [
    (0.1, "s", (True, False, True)),  # rounded: None rounds a Python float into floatX, False refuses
    (0.5, "s", (True, True, True)),  # exact in float32
    (1.0, "s", (True, True, True)),
    ([0.1], "v", (False, False, True)),  # None rounds one float, never a list
    ([0.5], "v", (True, True, True)),
    (np.array([0.5]), "v", (False, False, True)),  # a float64 array: only True casts it
    (np.array([0.1]), "v", (False, False, True)),
    ([1, 2], "v", (True, True, True)),  # ints float32 holds exactly
    ([2**25 + 1], "v", (False, False, True)),  # an int float32 does not hold
]


@pytest.mark.parametrize("downcast", [None, False, True])
def test_allow_input_downcast_takes_pytensors_three_values(downcast: bool | None) -> None:
    s, v = ft.fscalar("s"), ft.fvector("v")
    kw = {} if downcast is None else {"allow_input_downcast": downcast}
    f = fc.function([s, v], [s * 2, v * 2], name="g", **kw)
    assert f.allow_input_downcast is downcast
    column = (None, False, True).index(downcast)
    for value, into, taken in _DOWNCASTS:
        args = (value, [1.0]) if into == "s" else (1.0, value)
        if taken[column]:
            with np.errstate(over="ignore"), fc.config.change_flags(floatX="float32"):
                want = np.asarray(value).astype("float32") * np.float32(2)
                got = f(*args)[0 if into == "s" else 1]
            assert got.dtype == np.float32, (value, downcast)
            np.testing.assert_array_equal(got, want)
        else:
            with (
                pytest.raises(TypeError, match=rf"input {int(into == 'v')} \('{into}'\) of function 'g'"),
                fc.config.change_flags(floatX="float32"),
            ):
                f(*args)
    if downcast is False:  # the error names the value and the fixes
        with pytest.raises(
            TypeError, match=r"got float 0\.1; .*allow_input_downcast=True.*or None .* floatX"
        ):
            f(0.1, [1.0])
        assert pickle.loads(pickle.dumps(f)).allow_input_downcast is False


def test_in_allow_downcast_false_refuses_rounding_for_its_input_only() -> None:
    s, v, w = ft.fscalar("s"), ft.fscalar("v"), ft.fscalar("w")
    f = fc.function([fc.In(v, allow_downcast=False), w], v + w, name="h")
    with fc.config.change_flags(floatX="float32"):  # None rounds a Python float into floatX
        np.testing.assert_array_equal(f(0.5, 0.1), np.float32(0.5) + np.float32(0.1))
        with pytest.raises(TypeError, match=r"input 0 \('v'\) of function 'h'.*allow_downcast"):
            f(0.1, 0.5)
    g = fc.function([fc.In(v, allow_downcast=True), w], v + w, allow_input_downcast=False)
    np.testing.assert_array_equal(g(np.array(0.1), 1), np.float32(0.1) + 1)
    with pytest.raises(TypeError, match=r"input 1 \('w'\)"):
        g(0.1, 0.1)
    # defaults and states convert by the same rule, when the function is built and when set
    with pytest.raises(TypeError, match=r"input 0 \('s'\) .*got float 0\.1"):
        fc.function([fc.In(s, value=0.1, allow_downcast=False)], s)
    k = fc.function([fc.In(s, value=0.5, update=s + 1)], s, allow_input_downcast=False)
    with pytest.raises(TypeError, match=r"the state 's' of function"):
        k["s"] = 0.1
    k["s"] = 2.5
    assert k() == 2.5


def test_filter_allow_downcast_defaults_to_none_as_pytensors() -> None:
    import inspect

    t = T("float32", (None,))
    assert inspect.signature(t.filter).parameters["allow_downcast"].default is None
    with fc.config.change_flags(floatX="float32"):  # None: a Python float rounded into floatX
        assert T("float32", ()).filter(0.1).dtype == np.float32
    with pytest.raises(TypeError, match="filter.*a list of floats is not rounded"):
        t.filter([0.1])
    np.testing.assert_array_equal(t.filter([0.5, 2], allow_downcast=False), np.float32([0.5, 2]))
    with pytest.raises(TypeError, match="filter.*does not give the same values"):
        t.filter([0.1], allow_downcast=False)
    with pytest.raises(TypeError, match="could lose data"):
        t.filter(np.array([0.5]))
    assert t.filter(np.array([0.1]), allow_downcast=True).dtype == np.float32


def test_a_payload_from_before_three_values_keeps_false_as_rounding() -> None:
    """Payloads written before None and False were told apart hold False for the default then,
    which rounded Python floats as None does now; one written now keeps False as False."""
    from fncache.runtime import pickling

    v = ft.fscalar("v")
    f = fc.function([fc.In(v, allow_downcast=False)], v * 2, allow_input_downcast=False)
    body = pickling._payload(f, False)
    assert body.pop("downcast_three_way") is True
    old = fc.loads(pickling._seal(body, f.cache_key, 2))
    assert old.allow_input_downcast is None
    new = fc.loads(fc.dumps(f))
    assert new.allow_input_downcast is False and new.input_flags == [(False, False)]
    with fc.config.change_flags(floatX="float32"):
        np.testing.assert_array_equal(old(0.1), np.float32(0.1) * 2)  # In's False read as None too
        with pytest.raises(TypeError, match="does not give the same values"):
            new(0.1)
