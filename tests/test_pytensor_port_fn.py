"""What PyTensor's (and Theano's) own tests check of compiling functions, written again for
fncache: ``tests/compile/function/test_types.py``, ``test_function.py`` and ``test_pfunc.py``
(inputs by position and keyword, ``fc.In``'s defaults, names, updates, states, ``strict`` and
``allow_downcast``, ``f.copy`` and ``copy.copy``, containers shared between functions, outputs
as a list, one variable or a dict, ``givens``, updates and default updates), ``test_shared.py``
(shared variables' dtypes, ``strict`` and ``allow_downcast``), ``test_mode.py`` and the
behavioural cases of ``test_ifelse.py``.

Values come from numpy. Where fncache differs on purpose (``docs/porting.md``, "What differs,
on purpose") the case checks fncache's documented behaviour and says so. Most cases run under
the Python linker (``FAST_COMPILE``, no compile); the call paths that differ in C (the native
runner, with defaults, keywords and dict outputs) also run once in ``FAST_RUN``."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import In, Out, function, shared
from fncache import tensor as ft
from fncache.ifelse import ifelse

PY = "FAST_COMPILE"
MODES = ("FAST_RUN", "FAST_COMPILE")
RNG = np.random.default_rng(20261203)


def _state_fn(mode: str = PY, **kw):
    """PyTensor's recurring example: x, a default a = 1 and a state s += a * x."""
    a = ft.scalar()
    x, s = ft.scalars("xs")
    f = function(
        [x, In(a, value=1.0, name="a"), In(s, value=0.0, update=s + a * x, **kw)], s + a * x, mode=mode
    )
    return f, a, x, s


# -- calling: positions, keywords, defaults ------------------------------------------------------


def test_empty_and_anonymous_outputs() -> None:
    assert function([], [], mode=PY)() == []
    x, s = ft.scalars("xs")
    f = function([s, x], [x + s], mode=PY)
    assert f(2, 3) == [5] and f(2, 3) == [5]
    assert function([s, x], x + s, mode=PY)(2, 3) == 5
    with pytest.raises(TypeError):
        function([x], [x], mode=PY)(1, 2)


@pytest.mark.parametrize("mode", MODES)
def test_naming_rules_by_position_and_keyword(mode: str) -> None:
    x, s = ft.scalars("xs")
    f = function([x, s], x / s, mode=mode)
    assert f(1, 2) == 0.5 and f(s=2, x=1) == 0.5 and f(x=2, s=1) == 2.0 and f(2, s=1) == 2.0
    for kwargs, args in (({"x": 2.0}, (2,)), ({"x": 1}, ()), ({"s": 1}, ())):
        with pytest.raises(TypeError):
            f(*args, **kwargs)
    a = ft.scalar()  # anonymous: no keyword names it
    g = function([a, s], a / s, mode=mode)
    assert g(2, s=1) == 2.0
    for bad in ({"q": 2, "s": 1}, {"a": 2, "s": 1}):
        with pytest.raises(TypeError):
            g(**bad)
    h = function([x, a, s], a / s, on_unused_input="ignore", mode=mode)
    assert h(9, 2, s=1) == 2.0
    with pytest.raises(TypeError):
        h(5.0, x=9)
    # three inputs named alike: by position only
    a, x, s = ft.scalars("xxx")
    f = function([a, x, s], a + x + s, mode=mode)
    assert f(1, 2, 3) == 6
    with pytest.raises(TypeError):
        f(1, 2, x=3)


@pytest.mark.parametrize("mode", MODES)
def test_an_input_without_default_may_follow_one_with_a_default(mode: str) -> None:
    """PyTensor's naming rules 3 and 4: a default in the middle; the inputs after it are then
    given by keyword (fncache refused such a list)."""
    a = ft.scalar()
    x, s = ft.scalars("xs")
    f = function([x, In(a, value=1.0), s], a / s + x, mode=mode)
    assert f(9, 2, 4) == 9.5 and f(9, 2, s=4) == 9.5 and f(9, s=4) == 9.25 and f(x=9, s=4) == 9.25
    for args, kwargs in (((), {"x": 9, "a": 2, "s": 4}), ((), {}), ((), {"x": 9}), ((9, 2), {})):
        with pytest.raises(TypeError):
            f(*args, **kwargs)
    g = function([x, In(a, value=1.0, name="a"), s], a / s + x, mode=mode)
    assert g(9, a=2, s=4) == 9.5 and g(x=9, a=2, s=4) == 9.5 and g(x=9, s=4) == 9.25
    with pytest.raises(TypeError):
        g(5.0, x=9)
    assert g.defaults[0] is fc.runtime.io.NO_DEFAULT and g.defaults[2] is fc.runtime.io.NO_DEFAULT
    h = pickle.loads(pickle.dumps(g))
    assert h(9, s=4) == 9.25


def test_a_failed_call_keeps_the_defaults() -> None:
    a, b = ft.dscalars("a", "b")
    f = function([In(a, name="first"), In(b, value=1, name="second")], a + b, mode=PY)
    before = f(first=1)
    with pytest.raises(TypeError):
        f(second=2)
    assert f(first=1) == before == 2


def test_in_names_must_be_strings() -> None:
    a = ft.scalar()
    for name in ([], {"adsf"}, (), ft.scalar()):
        with pytest.raises(TypeError, match="name must be a str"):
            function([In(a, name=name, value=1.0)], a)


# -- In: state, update, strict, allow_downcast --------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_state_access_by_variable_and_name(mode: str) -> None:
    f, a, x, s = _state_fn(mode)
    assert f[a] == 1.0 and f[s] == 0.0
    assert f(3.0) == 3.0 and f[s] == 3.0
    assert f(3.0, a=2.0) == 9.0  # a given for this call only
    assert f[a] == 1.0 and f[s] == 9.0
    f[a] = 5.0
    assert f[a] == 5.0 and f(3.0) == 24.0 and f[s] == 24.0 and f["s"] == 24.0


def test_in_update_runs_and_swaps_with_a_shared_update() -> None:
    a = ft.dscalar("a")
    f = function([In(a, value=0.0, update=a + 1)], a, mode=PY)
    assert [float(f()) for _ in range(3)] == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError):
        In(a, update=ft.dvector("b"))  # another ndim
    sv = shared(1.0)
    g = function([In(a, value=0.0, update=sv)], [], updates={sv: a}, mode=PY)
    for i in range(5):  # both updates read the values from before the call: a swap
        g()
        assert sv.get_value() == i % 2


def test_shared_variables_are_no_inputs() -> None:
    a = shared(1.0)
    with pytest.raises(TypeError, match="shared variable"):
        function([a], a + 1)
    with pytest.raises(TypeError, match="shared variable"):
        In(a, update=a + 1)  # PyTensor: TypeError from function; fncache: from In


def test_missing_inputs_and_unused_ones() -> None:
    """PyTensor's MissingInputError is fncache's ValueError naming the variable (docs/porting.md);
    an In with an update needs the value it starts from (PyTensor then takes one per call)."""
    x, s = ft.scalars("xs")
    for outs in ([x], x, Out(x)):
        with pytest.raises(ValueError, match="x"):
            function([s], outs, on_unused_input="ignore")
        with pytest.raises(ValueError, match="not used"):
            function([s], outs)
    with pytest.raises(ValueError, match="needs a value"):
        In(x, update=s + x)
    m = ft.matrix("m")
    mt = m.T
    with pytest.raises(ValueError, match="not used"):
        function([m, mt], mt * 2)
    function([m, mt], mt * 2, on_unused_input="ignore", mode=PY)
    lx = ft.lscalar("x")
    with pytest.raises(ValueError, match="listed twice"):
        function([lx, lx, lx], lx)


@pytest.mark.parametrize("mode", MODES)
def test_in_strict(mode: str) -> None:
    a = ft.dvector()
    b = shared(7)
    f = function([In(a, strict=False)], a + b, mode=mode)
    assert f(RNG.random(8)).dtype == np.float64
    assert f(np.array([1, 2, 3, 4], dtype="int32")).dtype == np.float64
    g = function([In(a, strict=True)], a + b, mode=mode)
    with pytest.raises(TypeError, match="strict"):
        g(np.array([1, 2, 3, 4], dtype="int32"))
    with pytest.raises(TypeError, match="strict"):
        g([1.0, 2.0])  # not an ndarray
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [8.0, 9.0])
    h = pickle.loads(pickle.dumps(g))
    with pytest.raises(TypeError, match="strict"):
        h(np.array([1, 2], dtype="int32"))
    assert g.copy().input_flags == [(True, None)]


def test_in_allow_downcast_per_input() -> None:
    """PyTensor's int cases (``b`` there is int8: fncache's ``b`` letter is bool)."""
    a = ft.wvector("a")
    b = ft.TensorType("int8", (None,))("b")
    c = ft.TensorType("int8", ())("c")
    f = function(
        [In(a, allow_downcast=True), In(b, allow_downcast=False), In(c, allow_downcast=None)],
        a + b + c,
        mode=PY,
    )
    np.testing.assert_array_equal(f([3], [6], 1), [10])
    with pytest.raises(TypeError):
        f([3], np.array([6], dtype="int16"), 1)  # int16 for int8, not allowed for b
    want = np.array([2**20]).astype("int16") + 2  # a's value wraps, as numpy's cast
    np.testing.assert_array_equal(f([2**20], np.ones(1, dtype="int8"), 1), want)
    with pytest.raises(TypeError):
        f([3], [312], 1)
    with pytest.raises(TypeError):
        f([3], [6], 806)
    # the function's flag for the others
    g = function([In(a, allow_downcast=False), b], a + b, allow_input_downcast=True, mode=PY)
    np.testing.assert_array_equal(g([3], [312]), [3 + np.array(312).astype("int8")])
    with pytest.raises(TypeError):
        g([2**20], [1])
    # float inputs: an array that loses precision
    x = ft.fvector("x")
    h = function(
        [In(x, allow_downcast=True), In(ft.fvector("y"), allow_downcast=False)],
        x,
        on_unused_input="ignore",
        mode=PY,
    )
    np.testing.assert_allclose(h(np.array([0.1]), np.zeros(1, "float32")), np.float32(0.1))
    with pytest.raises(TypeError):
        h(np.zeros(1, "float32"), np.array([0.1]))


def test_python_floats_convert_to_float32_inputs_under_floatx_float32() -> None:
    """test_python_float_to_float32: with allow_input_downcast=None (the default) a Python float
    is rounded into a float32 input when floatX is float32, and must convert exactly otherwise;
    a list of floats must convert exactly, a float64 array needs True. With False a float that
    float32 does not hold is refused whatever floatX is."""
    a, b = ft.fscalar("a"), ft.fvector("b")
    f = function([a, b], a + b, mode=PY)
    with fc.config.change_flags(floatX="float32"):
        np.testing.assert_allclose(f(0.1, [0.5]), np.float32(0.1) + np.float32(0.5))
        for args in ((0.0, [0.1]), (0.0, np.array([0.5]))):
            with pytest.raises(TypeError):
                f(*args)
    with pytest.raises(TypeError, match="floatX"):
        f(0.1, [0.5])
    np.testing.assert_array_equal(f(0.5, [0.25]), [0.75])
    g = function([a, b], a + b, allow_input_downcast=False, mode=PY)
    np.testing.assert_array_equal(g(0.5, [0.25]), [0.75])
    for args in ((0.1, [0.5]), (0.5, [0.1]), (0.0, np.array([0.5]))):
        with pytest.raises(TypeError):
            g(*args)


def test_allow_input_downcast_int() -> None:
    a = ft.wvector("a")
    b = ft.TensorType("int8", (None,))("b")
    c = ft.TensorType("int8", ())("c")
    f = function([a, b, c], a + b + c, allow_input_downcast=True, mode=PY)
    for args in (([2**20], [1], 0), ([3], [312], 0), ([3], [1], 806)):
        want = sum(np.asarray(v).astype(t) for v, t in zip(args, ("int16", "int8", "int8")))
        np.testing.assert_array_equal(f(*args), want)
    for flag in (False, None):
        g = function([a, b, c], a + b + c, allow_input_downcast=flag, mode=PY)
        np.testing.assert_array_equal(g([3], [6], 0), [9])
        for args in (([3], np.array([6], dtype="int16"), 0), ([3], [312], 0)):
            with pytest.raises(TypeError):
                g(*args)


def test_mutable_and_borrow_change_nothing() -> None:
    a = ft.dvector()
    aval = RNG.random(10)
    kept = aval.copy()
    for mutable in (True, False):
        f = function([In(a, mutable=mutable)], a * 2, mode="FAST_RUN")
        np.testing.assert_array_equal(f(aval), kept * 2)
        np.testing.assert_array_equal(aval, kept)  # fncache never writes into an input
    m = ft.dmatrix()
    mval = RNG.random((3, 3))
    for out in (Out(m + 1, borrow=True), Out(m[0, :], borrow=True), Out(m, borrow=False)):
        f = function([In(m, borrow=False)], out, mode=PY)
        assert not np.may_share_memory(mval, f(mval))
    f = function([m], Out(m * 4, borrow=True), mode="FAST_RUN")
    four = f(np.ones((3, 3)))
    f(np.ones((3, 3)) + 0.1)  # PyTensor's c|py_nogc may reuse the buffer; fncache never does
    np.testing.assert_array_equal(four, 4)


def test_constant_outputs_are_the_callers() -> None:
    for out in (ft.constant([4]), Out(ft.constant([4]), borrow=True)):
        f = function([], out, mode=PY)
        first = f()
        first[0] = 3
        second = f()
        assert second is not first and np.all(second == 4)


# -- outputs as a dict --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_outputs_as_a_dict(mode: str) -> None:
    x, y = ft.scalar("x"), ft.scalar("y")
    f = function([x], outputs={"a": x, "c": x * 2, "b": x * 3, "1": x * 4}, mode=mode)
    assert f(10.0) == {"a": 10.0, "b": 30.0, "1": 40.0, "c": 20.0}
    assert list(f(10.0)) == sorted(["a", "b", "c", "1"])  # PyTensor orders them by key
    assert [str(v) for v in f.outputs] != [] and f.output_keys == ["1", "a", "b", "c"]
    g = function([x, y], outputs={"a": x + y, "b": x * y}, mode=mode)
    assert g(2, 4) == {"a": 6, "b": 8} == g(2, y=4) == g(x=2, y=4)
    # composing: one function's dict is another's keyword arguments
    a, b = ft.scalar("a"), ft.scalar("b")
    h = function([a, b], [a + b, a * b], mode=mode)
    assert h(**g(5, 7)) == [47.0, 420.0]
    assert function([x], outputs=[x * 3, x * 2, x * 4, x], mode=mode)(5.0) == [15, 10, 20, 5]


def test_outputs_dict_keys_must_be_strings() -> None:
    """PyTensor: AssertionError; fncache: TypeError saying what the keys are for."""
    x = ft.scalar("x")
    for outputs in ({1.0: x}, {1.0: x, "a": x**2}, {(1, "b"): x, 1.0: x**2}):
        with pytest.raises(TypeError, match="must be strings"):
            function([x], outputs=outputs)


def test_outputs_dict_travels_with_copies_pickles_and_defaults() -> None:
    x = ft.vector("x")
    s = ft.scalar("s")
    f = function([x, In(s, value=2.0)], {"vec": x**2, "scaled": x * s}, mode=PY, profile=True)
    want = {"vec": np.array([4.0, 9.0, 16.0]), "scaled": np.array([4.0, 6.0, 8.0])}
    for g in (f, copy.deepcopy(f), pickle.loads(pickle.dumps(f)), f.copy(), copy.copy(f)):
        got = g([2, 3, 4])
        assert isinstance(got, dict) and got.keys() == want.keys()
        for k in want:
            np.testing.assert_allclose(got[k], want[k])
    assert f.profile.fct_callcount == 1


# -- copies, containers shared between functions, pickles --------------------------------------


@pytest.mark.parametrize("how", ["copy.copy", "f.copy", "deepcopy", "pickle"])
def test_a_copy_has_its_own_state(how: str) -> None:
    """PyTensor's test_copy, test_deepcopy and test_pickle (fncache's f.copy refused a
    function with a state, and copy.copy made one whose f[s] failed)."""
    f, a, x, s = _state_fn(mutable=True)
    make = {
        "copy.copy": copy.copy,
        "f.copy": lambda f: f.copy(),
        "deepcopy": copy.deepcopy,
        "pickle": lambda f: pickle.loads(pickle.dumps(f, protocol=-1)),
    }[how]
    g = make(f)
    assert g.trust_input == f.trust_input and g.name == f.name
    assert g["s"] == f["s"] and g["a"] == f["a"]
    if how in ("copy.copy", "f.copy"):  # the same variables name the copy's inputs
        assert g[s] == f[s] and g[a] == f[a]
    assert f(2, 1) == g(2)
    assert f(2, 1) == g(2)
    f(1, 2)  # put them out of sync
    assert f(1, 2) != g(1, 2)
    g(1, 2)
    assert f(3) == g(3)


def test_copy_of_an_implicit_state_and_delete_updates() -> None:
    x, s = ft.scalars("xs")
    f = function([x, In(s, value=0.0, update=s + x, implicit=True)], s + x, mode=PY)
    f(2)
    g = f.copy()
    assert g[s] == 2
    assert g(1) == 3 and g[s] == 3 and f[s] == 2
    h = f.copy(delete_updates=True)
    assert h(5) == 7 and h[s] == 2


def test_copy_swap_and_delete_updates() -> None:
    i = ft.iscalar()
    x_list = shared(RNG.random(10).astype(fc.config.floatX))
    x = ft.scalar("x")
    y, z, m = shared(1, name="y"), shared(2, name="z"), shared(0, name="m")
    y_rpl, z_rpl = shared(3, name="y_rpl"), shared(4, name="z_rpl")
    ori = function([i], [x + y + z + m], updates=[(z, z + 1), (m, m + 2)], givens={x: x_list[i]}, mode=PY)
    cpy = ori.copy(swap={y: y_rpl, z: z_rpl})
    ori(1), cpy(1), cpy(2)
    assert (m.get_value(), z.get_value(), z_rpl.get_value(), y_rpl.get_value(), y.get_value()) == (
        6,
        3,
        6,
        3,
        1,
    )
    w, xf = ft.iscalar("w"), ft.fscalar("x")
    cpy = function([xf], xf + y + z, updates={z: z * 2}, mode=PY).copy(delete_updates=True)
    before = z.get_value()
    assert cpy(1) == cpy(1) == 1 + 1 + before
    # an input only an update read is unused in the copy, and ignored
    function([xf, w], xf, updates={z: z + w}, mode=PY).copy(delete_updates=True)(1.0, 2)
    with pytest.raises(TypeError, match="same type"):
        ori.copy(swap={y: shared(1.0)})


def test_copy_swap_with_givens_as_the_deep_learning_tutorial() -> None:
    dt = fc.config.floatX
    train_x, test_x = (shared(RNG.random((10, 10)).astype(dt)) for _ in range(2))
    train_y, test_y = (shared(RNG.random((10, 1)).astype(dt)) for _ in range(2))
    i, x, y = ft.iscalar("index"), ft.vector("x"), ft.vector("y")
    out = (ft.sum(x) - y) ** 2
    train = function(
        [i], out, givens={x: train_x[i], y: train_y[i]}, updates={train_x: train_x + 0.1}, mode=PY
    )
    test_def = function([i], out, givens={x: test_x[i], y: test_y[i]}, mode=PY)
    test_cpy = train.copy(swap={train_x: test_x, train_y: test_y}, delete_updates=True)
    before = test_x.get_value()
    np.testing.assert_allclose(test_cpy(3), test_def(3))
    np.testing.assert_array_equal(test_x.get_value(), before)


@pytest.mark.parametrize("mode", MODES)
def test_containers_share_a_state_between_functions(mode: str) -> None:
    """PyTensor's test_shared_state0, 1, 2 and test_shared_state_not_implicit."""
    f, a, x, s = _state_fn(mode, mutable=True)
    g = function(
        [x, In(a, value=1.0, name="a"), In(s, value=f.container[s], update=s - a * x, mutable=True)],
        s + a * x,
        mode=mode,
    )
    assert g.container[s] == f.container[s] and s in g.container
    f(1, 2)
    assert f[s] == 2 and g[s] == 2
    g(1, 2)
    assert f[s] == 0 and g[s] == 0
    # a container as a plain input's default: read, never updated
    f, a, x, s = _state_fn(mode, mutable=False)
    h = function([x, In(a, value=1.0, name="a"), In(s, value=f.container[s])], s + a * x, mode=mode)
    f(1, 2)
    f(1, 2)
    assert f[s] == 4 and h[s] == 4
    assert h(1, 2) == 4 + 2 * 1  # a = 2 for this call; s read from f's state
    assert h(1) == 5 and f[s] == 4 and h[s] == 4  # and never written
    # not implicit: a call may give the state
    x, s = ft.scalars("xs")
    inc = function([x, In(s, update=s + x, value=10.0)], [], mode=mode)
    dec = function([x, In(s, update=s - x, value=inc.container[s], implicit=False)], [], mode=mode)
    inc[s] = 2
    assert dec[s] == 2
    dec(1)
    assert inc[s] == 1
    dec(1, 0)
    assert inc[s] == -1 and dec[s] == -1
    inc.container[s].value = 7
    assert dec[s] == 7 and inc.container["s"].data == 7
    # an implicit input reading another function's state
    y = ft.scalar("y")
    add = function([y, In(s, value=inc.container[s], implicit=True)], y + s, mode=mode)
    assert add(1) == 8
    inc(3)
    assert add(1) == 11


def test_container_errors() -> None:
    f, a, x, s = _state_fn()
    with pytest.raises(KeyError, match="not a container"):
        f.container[a]  # a plain default: a value of the function's own
    assert a not in f.container and "s" in f.container
    with pytest.raises(TypeError, match="container"):
        function([In(ft.dvector("v"), value=f.container[s])], ft.dvector("v").sum(), on_unused_input="ignore")


def test_pickled_together_functions_keep_sharing_their_container() -> None:
    """PyTensor's test_multiple_functions and test_pickle_class_with_functions. What differs:
    the loaded functions' inputs are named by name (``g["s"]``); variables pickled beside them
    are other objects than the loaded graphs' inputs."""
    f1, a, x, s = _state_fn(mutable=True)
    f2 = function(
        [x, In(a, value=1.0, name="a"), In(s, value=f1.container[s], update=s + a * x, mutable=True)],
        s + a * x,
        mode=PY,
    )
    v = ft.vector("v")
    f3 = function([x, In(v, value=np.asarray([2, 3, 4.0], dtype=fc.config.floatX))], x + v, mode=PY)
    n1, n2, n3 = copy.deepcopy([f1, f2, f3])
    assert n1["s"] == f1["s"] and n1(3) == f1(3) and n2(3) == f2(3) and n1["s"] == 6
    assert n1.container["s"] == n2.container["s"] != f1.container["s"]
    np.testing.assert_array_equal(n3["v"], [2, 3, 4])
    n2(5)
    assert n1["s"] == 11 and f1["s"] == 6


def test_pickle_with_a_persistent_id_for_arrays() -> None:
    saves: list[np.ndarray] = []

    def pers_save(obj: object) -> int | None:
        if isinstance(obj, np.ndarray):
            saves.append(obj)
            return len(saves) - 1
        return None

    x = ft.matrix()
    b = RNG.random((5, 4))
    f = function([x], ft.dot(x, shared(b)), mode=PY)
    buf = io.BytesIO()
    p = pickle.Pickler(buf, 2)
    p.persistent_id = pers_save
    p.dump(f)
    u = pickle.Unpickler(io.BytesIO(buf.getvalue()))
    u.persistent_load = lambda i: saves[i]
    g = u.load()
    xv = RNG.random((2, 5))
    np.testing.assert_allclose(g(xv), xv @ b)


def _f_copy(f: fc.Function) -> fc.Function:
    return f.copy()


def test_trust_input_is_copied() -> None:
    a = ft.dscalar()
    x, s = ft.dscalars("xs")
    f = function([x, In(a, value=1.0, name="a"), In(s, value=0.0, update=s + a * x)], s + a * x, mode=PY)
    f.trust_input = True
    for make in (copy.deepcopy, _f_copy):
        g = make(f)
        assert g.trust_input is True
        assert g(np.asarray(2.0)) == f(np.asarray(2.0))


def test_free_and_empty_givens_and_updates() -> None:
    x = ft.vector("x")
    f = function([x], x + 1, mode="FAST_RUN")
    f([1])
    f.free()
    np.testing.assert_array_equal(f([1]), [2])
    s = ft.scalar()
    assert function([In(s)], s * 2, givens={}, mode=PY)(2) == 4
    assert function([In(s)], s * 2, updates={}, mode=PY)(2) == 4


# -- pfunc: shared variables, updates, givens, default updates -----------------------------------


def test_pfunc_argument_errors() -> None:
    a, b = ft.lscalar(), shared(1)
    for kwargs in ({"no_default_updates": 1}, {"updates": [{b, a}]}, {"updates": [(1, b)]}):
        with pytest.raises(TypeError):
            function([a], a + b, **kwargs)
    with pytest.raises(TypeError):
        function({a}, a + b)
    x, y = ft.dmatrices("x", "y")
    z = shared(np.ones((2, 3)))
    with pytest.raises(ValueError, match="twice"):
        function([x, y], [z], updates=[(z, z + x + y), (z, z - x)])


def test_pfunc_shared_values_are_read_at_each_call() -> None:
    a, b = ft.lscalar(), shared(1)
    f1 = function([a], a + b, mode=PY)
    f2 = function([In(a, value=44)], a + b, updates={b: b + 1}, mode=PY)
    assert b.get_value() == 1 and f1(3) == 4 and f2(3) == 4 and b.get_value() == 2 and f1(3) == 5
    assert f2() == 46
    b.set_value(0)
    assert f1(3) == 3
    w = shared(RNG.random((2, 2)), "w")
    wval = w.get_value()
    x = ft.dmatrix()
    f1 = function([x], [w + x], mode=PY)
    f3 = function([x], w + x, updates=[(w, w - 1)], mode=PY)
    xval = RNG.random((2, 2))
    np.testing.assert_array_equal(f3(xval), xval + wval)
    np.testing.assert_array_equal(f1(xval)[0], xval + (wval - 1))
    w.set_value(w.get_value(borrow=True) * 10, borrow=True)
    np.testing.assert_array_equal(f1(xval)[0], xval + w.get_value())


def test_pfunc_updates_and_givens() -> None:
    x = shared(0)
    function([], [], updates={x: 3}, mode=PY)()
    assert x.get_value() == 3
    x.set_value(-1)
    function([], [], updates={x: x + shared(2)}, mode=PY)()
    assert x.get_value() == 1
    x.set_value(0)
    assert function([], x, givens={x: 3}, mode=PY)() == 3 and x.get_value() == 0
    y = ft.ivector()
    np.testing.assert_array_equal(function([y], y * x, givens={x: 6}, mode=PY)([1, 1, 1]), [6, 6, 6])
    z = ft.ivector()
    f = function([y], z * y + 7, givens={z: np.asarray([4, 4, 4], dtype="int32")}, mode=PY)
    np.testing.assert_array_equal(f([1, 1, 1]), [11, 11, 11])
    a, b, c = (shared(np.asarray(v)) for v in ([4, 4, 4], [4, 4, 4], [2, 2, 2]))
    function([], [], updates={a: a * 5, b: a * 5 + b, c: (a * 5 + b) ** c}, mode=PY)()
    want_a = np.full(3, 20)
    want_b = want_a + 4
    np.testing.assert_array_equal(a.get_value(), want_a)
    np.testing.assert_array_equal(b.get_value(), want_b)
    np.testing.assert_array_equal(c.get_value(), want_b**2)


def test_an_update_that_is_its_own_variable() -> None:
    a, b = shared(1.0, "a"), shared(np.ones((2, 3)), "b")
    for ups in (
        [(a, a), (b, 2 * b)],
        [(a, a * 2), (b, b)],
        [(a, a), (b, 2 * b - b)],
        [(a, a * 2 - a), (b, b)],
    ):
        function([], [], updates=ups, mode="FAST_RUN")()
        assert a.get_value().shape == () and b.get_value().shape == (2, 3)


def test_an_update_of_a_more_specific_static_shape() -> None:
    """What differs: PyTensor refuses an update whose type is (1, 1) for a (?, ?) variable;
    fncache takes it (a (1, 1) value fits a (?, ?) variable) and checks only sizes that
    contradict a declared one."""
    data = RNG.random((10, 10)).astype("float32")
    ov = shared(data, name="output")
    function([], [], updates={ov: ov.sum().dimshuffle("x", "x")}, mode=PY)()
    np.testing.assert_allclose(ov.get_value(), [[data.sum(dtype="float64")]], rtol=1e-6)
    fixed = shared(data, name="fixed", shape=(10, 10))
    with pytest.raises(ValueError, match="static shape"):
        function([], [], updates={fixed: fixed.sum().dimshuffle("x", "x")})


def test_default_updates_and_no_default_updates() -> None:
    x, y = shared(0), shared(1)
    x.default_update = x + 2
    for nd, step in ((True, 0), ([x], 0), ([x, y], 0), ([y], 2), ([], 2), (False, 2)):
        before = x.get_value()
        function([], [x], no_default_updates=nd, mode=PY)()
        assert x.get_value() == before + step, nd
    for bad in (x, "canard"):
        with pytest.raises(TypeError):
            function([], [x], no_default_updates=bad)
    for nd in (True, [x], [x, y], [y], [], False):  # an explicit update wins
        before = x.get_value()
        function([], [x], updates=[(x, x - 1)], no_default_updates=nd, mode=PY)()
        assert x.get_value() == before - 1
    x.default_update = None
    before = x.get_value()
    function([], [x], mode=PY)()
    assert x.get_value() == before


def test_default_updates_expressions_and_several() -> None:
    x, y = shared(0), shared(1)
    a = ft.lscalar("a")
    x.default_update = x + y
    function([a], a * x, mode=PY)(12)
    assert x.get_value() == 1
    assert function([a], a * x, no_default_updates=True, mode=PY)(7) == 7 and x.get_value() == 1
    x, y = shared(0), shared(1)
    x.default_update, y.default_update = x - 1, y + 1
    function([], [x, y], mode=PY)()
    assert (x.get_value(), y.get_value()) == (-1, 2)
    function([], [x, y], updates=[(x, x - 2)], no_default_updates=[y], mode=PY)()
    assert (x.get_value(), y.get_value()) == (-3, 2)
    function([], [x, y], updates=[(y, y - 2)], mode=PY)()
    assert (x.get_value(), y.get_value()) == (-4, 0)


def test_default_updates_chained() -> None:
    """A default update that reads a shared variable with a default update of its own makes
    that one too (fncache made only the updates of the variables the outputs read)."""
    x, y, z = shared(2), shared(1), shared(-1)
    x.default_update = x - y
    y.default_update = z
    z.default_update = z - 1
    for outs, nd, want in (
        ([x], False, (1, -1, -2)),
        ([x, y], False, (2, -2, -3)),
        ([y], False, (2, -3, -4)),
        ([x, y], [x], (2, -4, -5)),
        ([x, y, z], [z], (6, -5, -5)),
    ):
        function([], outs, no_default_updates=nd, mode=PY)()
        assert (x.get_value(), y.get_value(), z.get_value()) == want, (outs, nd)


def test_default_updates_read_inputs() -> None:
    x, y = shared(0), shared(1)
    a = ft.lscalar("a")
    x.default_update = y
    y.default_update = y + a
    function([], x, no_default_updates=True, mode=PY)()
    assert (x.get_value(), y.get_value()) == (0, 1)
    function([], x, no_default_updates=[y], mode=PY)()
    assert (x.get_value(), y.get_value()) == (1, 1)
    function([a], x, mode=PY)(2)  # a is read by y's default update only
    assert (x.get_value(), y.get_value()) == (1, 3)
    function([], x, updates={y: y - 1}, mode=PY)()
    assert (x.get_value(), y.get_value()) == (3, 2)
    with pytest.raises(ValueError, match="a"):  # PyTensor: MissingInputError
        function([], x)


def test_default_updates_partial_graph_and_givens() -> None:
    a = shared(0)
    a.default_update = a + 1
    b = 2 * a
    function([b], b, mode=PY)(21)  # a is above the input b: not read, not updated
    assert a.get_value() == 0
    c = shared(1.0, "c")
    c.default_update = c + 3.0
    d = ft.dscalar("d")
    f = function([d], c + 10, givens={c: d}, mode=PY)
    assert len(f.maker.fgraph.inputs) == 1 and len(f.maker.fgraph.outputs) == 1
    assert f(2.0) == 12.0 and c.get_value() == 1.0
    f = function([], c + 10, givens={c: c + 10}, mode=PY)
    assert f() == 21 and f() == 34


def test_givens_on_an_input_replaces_it_where_it_is_read() -> None:
    """What differs: PyTensor refuses givens={x: x + 1} for an input x (RuntimeError); fncache
    takes the replacement as it is (README "Compiling"): the input is read inside it."""
    x = ft.scalar("x")
    f = function([x], x * 2, givens={x: x + 1}, mode=PY)
    assert f(1.0) == 4.0


def test_aliasing_rules() -> None:
    orig = np.zeros((2, 2))
    A = shared(orig)
    assert not np.may_share_memory(orig, A.get_value(borrow=True))
    assert not np.may_share_memory(A.get_value(borrow=False), A.get_value(borrow=True))
    x, y = ft.dvector(), ft.dvector()
    m1, m2 = ft.dmatrix(), ft.dmatrix()
    f = function(
        [In(x, mutable=True), In(y, mutable=True), In(m1, mutable=True), In(m2, mutable=True)],
        ft.dot(x * 2, m1) + ft.dot(y * 3, m2),
        mode="FAST_RUN",
    )
    v, m = np.arange(1.0, 6.0), np.eye(5)
    np.testing.assert_allclose(f(v, v, m, m), f(v, v.copy(), m, m.copy()))
    A, B = shared(np.zeros((2, 2))), shared(np.zeros((2, 2)))
    D = ft.dmatrix()
    DD = D + 5
    for outs, ups in (
        ([], [(A, D), (B, D)]),
        ([], [(A, D[:]), (B, D)]),
        ([], [(A, D + 5), (B, D[:])]),
        (DD, [(A, DD[:1]), (B, DD)]),
        (DD * 4, [(A, DD[:1] * 3), (B, DD[:1] * 3)]),
    ):
        r = function([D], outs, updates=ups, mode=PY)(np.zeros((2, 2)))
        a_val, b_val = A.get_value(borrow=True), B.get_value(borrow=True)
        assert not np.may_share_memory(a_val, b_val)
        assert not (
            isinstance(r, np.ndarray) and (np.may_share_memory(r, a_val) or np.may_share_memory(r, b_val))
        )
    A, B = shared(np.zeros((2, 2)) + 0.5), shared(np.zeros((2, 2)) - 0.5)
    function([], [], updates=[(A, B)], mode=PY)()
    assert not np.may_share_memory(A.get_value(borrow=True), B.get_value(borrow=True))
    A.set_value(np.full((2, 2), 0.5))
    function([], [], updates=[(A, B), (B, A)], mode=PY)()  # a swap
    np.testing.assert_array_equal(A.get_value(), -0.5)
    np.testing.assert_array_equal(B.get_value(), 0.5)


# -- shared variables ----------------------------------------------------------------------------


def test_shared_constructor_types() -> None:
    assert shared(7).type == ft.lscalar
    assert shared(7.0).type == ft.TensorType(fc.config.floatX, ())  # what differs: floatX
    assert shared(7.0, strict=True).type == ft.dscalar
    assert shared(np.float32(7)).type == ft.fscalar
    assert shared(np.zeros((5, 5), dtype="int32")).type == ft.TensorType("int32", shape=(None, None))
    assert shared(RNG.random((5, 1, 2))).type == ft.TensorType("float64", shape=(None, None, None))
    with pytest.raises(TypeError):
        shared(7, bad_kw=False)
    with pytest.raises(TypeError, match="unsupported dtype"):
        shared("asdf")  # what differs: no generic type, a shared value is an array
    with pytest.raises(TypeError):
        shared(ft.ones((2, 3)))


def test_shared_set_value_casts() -> None:
    u = shared(np.asarray([1.0, 2.0]), "u")
    u.set_value([3, 4])
    got = u.get_value()
    assert type(got) is np.ndarray and got.dtype == np.float64 and np.all(got == [3, 4])
    with pytest.raises(TypeError):
        u.set_value("adsf")
    uval = np.asarray([5, 6, 7, 8], dtype="float64")
    u.set_value(uval, borrow=True)
    assert u.get_value(borrow=True) is uval
    v = u.get_value(borrow=True, return_internal_type=True)
    assert isinstance(v, np.ndarray)
    copy_ = u.get_value()
    copy_[0] = -1
    assert u.get_value()[0] == 5


SCALARS = [
    (np.int64(7), "int64", 8.23),
    (np.int32(7), "int32", 8.23),
    (np.int16(7), "int16", 8.23),
    (np.int8(7), "int8", 8.23),
    (np.float64(7.234), "float64", 8),
    (np.float32(7.234), "float32", 8),
]


@pytest.mark.parametrize("ndim", [0, 1])
def test_shared_strict(ndim: int) -> None:
    for value, dtype, other in SCALARS + [(7.234, "float64", 8)] * (ndim == 0):
        b = shared(np.asarray(value).reshape((1,) * ndim) if ndim else value, strict=True)
        assert b.type == ft.TensorType(dtype, (None,) * ndim)
        with pytest.raises(TypeError, match="strict"):
            b.set_value(np.asarray(other).reshape((1,) * ndim))
    b = shared(np.zeros((5, 5), dtype="float32"))
    with pytest.raises(TypeError):
        b.set_value(RNG.random((5, 5)))


@pytest.mark.parametrize("ndim", [0, 1])
def test_shared_allow_downcast(ndim: int) -> None:
    """PyTensor's test_scalar_floatX and test_tensor_floatX: ``shared(..., allow_downcast=True)``
    casts the values set later, losing data if need be (fncache refused the keyword)."""
    for value, dtype, other in SCALARS:
        b = shared(np.asarray(value).reshape((1,) * ndim), allow_downcast=True)
        assert b.dtype == dtype
        new = np.asarray(other).reshape((1,) * ndim)
        b.set_value(new.tolist() if ndim else float(other))
        np.testing.assert_array_equal(b.get_value(), new.astype(dtype))
        b.set_value(np.asarray(new, dtype="float64"))  # an array of a wider dtype too
        np.testing.assert_array_equal(b.get_value(), new.astype(dtype))
        assert pickle.loads(pickle.dumps(b)).allow_downcast
    b = shared(np.zeros(2, dtype="int8"), allow_downcast=True)
    wide = np.array([300.0, -2.5])
    b.set_value(wide)
    np.testing.assert_array_equal(b.get_value(), wide.astype("int8"))
    with pytest.raises(TypeError):
        b.set_value(np.zeros((2, 2)))  # another ndim is never cast
    c = shared(np.zeros(2, dtype="float32"))
    with pytest.raises(TypeError, match="allow_downcast"):
        c.set_value(RNG.random(2))


def test_shared_static_shape() -> None:
    s = shared(np.zeros((2, 3)), shape=(2, None))
    with pytest.raises(ValueError):
        s.set_value(np.zeros((3, 3)))
    s.set_value(np.zeros((2, 5)))
    assert s.get_value().shape == (2, 5)
    with pytest.raises(TypeError):
        shared(np.zeros((2, 3))).set_value(np.zeros(3))


# -- modes ---------------------------------------------------------------------------------------


def test_every_linker_name_runs() -> None:
    linkers = ["py", "c|py", "c|py_nogc", "vm", "vm_nogc", "cvm", "cvm_nogc"]
    x, y = ft.matrix(), ft.vector()
    xv, yv = [[1, 2], [3, 4]], [5, 6]
    want = np.add(xv, yv)
    for mode in ["FAST_COMPILE", "FAST_RUN", "DEBUG_MODE"] + [
        fc.Mode(linker=k, optimizer="fast_run") for k in linkers
    ]:
        np.testing.assert_allclose(function([x, y], x + y, mode=mode)(xv, yv), want)
    with pytest.raises(ValueError, match="linker"):
        fc.Mode(linker="nonsense")
    m = fc.compile.mode.get_default_mode().including("canonicalize")
    assert copy.deepcopy(m) == m
    with fc.config.change_flags(mode="FAST_COMPILE"):
        assert fc.compile.mode.get_default_mode().linker == "py"


# -- ifelse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ifelse_branches(mode: str) -> None:
    dt = fc.config.floatX
    c = ft.iscalar("c")
    x, y = ft.vector("x", dtype=dt), ft.vector("y", dtype=dt)
    vx, vy = RNG.uniform(size=7).astype(dt), RNG.uniform(size=3).astype(dt)
    yv = np.array([2.0, 3.0], dtype=dt)
    y2 = y
    for k in range(50):
        y2 = y2 + k
    x1, y1 = ft.vector("x1", dtype="int32"), ft.vector("y1", dtype="int32")
    f = function(
        [c, x, y, x1, y1],
        [ifelse(c, x, y), ifelse(c, x, y2), ifelse(c, x, yv), *ifelse(c, (x1, x), (y1, y))],
        mode=mode,
    )
    ix, iy = np.arange(4, dtype="int32"), np.arange(2, dtype="int32")
    for cv in (1, 0):
        got = f(cv, vx, vy, ix, iy)
        np.testing.assert_allclose(got[0], vx if cv else vy)
        np.testing.assert_allclose(got[1], vx if cv else vy + sum(range(50)), rtol=1e-5)
        np.testing.assert_allclose(got[2], vx if cv else yv)
        assert got[3].dtype == np.int32 and np.array_equal(got[3], ix if cv else iy)
        np.testing.assert_allclose(got[4], vx if cv else vy)


@pytest.mark.parametrize("mode", MODES)
def test_ifelse_gradients(mode: str) -> None:
    dt = fc.config.floatX
    c = ft.iscalar("c")
    xs = [ft.vector(n, dtype=dt) for n in ("x1", "x2", "y1", "y2")]
    z = ifelse(c, (xs[0], xs[1]), (xs[2], xs[3]))
    f = function([c, *xs], fc.grad(z[0].sum() + z[1].sum(), xs), mode=mode)
    vals = [RNG.uniform(size=n).astype(dt) for n in (3, 4, 5, 6)]
    for cv in (1, 0):
        got = f(cv, *vals)
        for k, g in enumerate(got):
            assert g.shape == vals[k].shape and np.all(g == float((k < 2) == bool(cv)))


def test_ifelse_multiple_outputs_into_an_update() -> None:
    dt = fc.config.floatX
    p = [shared(RNG.random(s).astype(dt)) for s in ([4, 8], [8], [8, 3], [3])]
    ins = [
        ft.tensor3("ft0", dtype=dt),
        ft.matrix("fm1", dtype=dt),
        ft.tensor3("ft2", dtype=dt),
        ft.matrix("fm3", dtype=dt),
    ]
    new = ifelse(ft.constant(1, dtype="int8") >= 0, [v[-1] for v in ins], p)
    f = function(ins, [], updates=[(p[0], new[0])], on_unused_input="ignore")
    vals = [RNG.random(s).astype(dt) for s in ([19, 4, 8], [19, 8], [19, 8, 3], [19, 3])]
    f(*vals)
    np.testing.assert_array_equal(p[0].get_value(), vals[0][-1])


def test_ifelse_type_mismatches() -> None:
    dt = fc.config.floatX
    x = shared(RNG.random(5).astype(dt))
    cond = ft.iscalar("cond")
    for y in (ft.cast(x * 10, "int8"), ft.col("y", dtype=dt), ft.row("y", dtype=dt)):
        for a, b in ((x, y), (y, x)):
            with pytest.raises(TypeError):
                ifelse(cond, a, b)
    with pytest.raises(TypeError, match="scalar"):
        ifelse(ft.ivector("c"), ft.vector("x"), ft.vector("y"))


def test_ifelse_refuses_sparse_branches() -> None:
    """A sparse branch was taken as an array: the function returned a 0-d object array
    holding the matrix. Mixed types raise as in PyTensor ("do not match"); two sparse branches
    are refused with the conversion to make."""
    import fncache.sparse as sp

    dt = fc.config.floatX
    x = shared(RNG.random((2, 3)).astype(dt))
    y, z = sp.matrix("csc", dtype=dt, name="y"), sp.matrix("csr", dtype=dt, name="z")
    cond = ft.iscalar("cond")
    for a, b in ((x, y), (y, x), (x, z), (z, x), (y, z), (z, y)):
        with pytest.raises(TypeError, match="do not match"):
            ifelse(cond, a, b)
    with pytest.raises(TypeError, match="dense_from_sparse"):
        ifelse(cond, y, sp.matrix("csc", dtype=dt))


def test_ifelse_static_branch_shapes() -> None:
    dt = fc.config.floatX
    cases = [
        ((2,), (3,), np.r_[1.0, 2.0], np.r_[1.0, 2.0, 3.0], (None,)),
        ((None,), (3,), np.r_[1.0, 2.0], np.r_[1.0, 2.0, 3.0], (None,)),
        ((2, 1), (None, 1), np.c_[[1.0, 2.0]], np.c_[[1.0, 2.0, 3.0]], (None, 1)),
        ((3,), (3,), np.r_[1.0, 2.0, 3.0], np.r_[1.0, 2.0, 3.0], (3,)),
        ((1,), (3,), np.r_[1.0], np.r_[1.0, 2.0, 3.0], (None,)),
    ]
    for x_shape, y_shape, xv, yv, exp in cases:
        x, y = ft.tensor(dtype=dt, shape=x_shape, name="x"), ft.tensor(dtype=dt, shape=y_shape, name="y")
        c = ft.iscalar("c")
        z = ifelse(c, x, y)
        assert z.type.shape == exp
        f = function([c, x, y], z, mode=PY)
        np.testing.assert_array_equal(f(0, xv.astype(dt), yv.astype(dt)), yv)
        np.testing.assert_array_equal(f(1, xv.astype(dt), yv.astype(dt)), xv)


def test_the_gradient_of_an_integer_cost_is_zero() -> None:
    """PyTensor's test_grad_int_value (a perceptron's 0/1 loss): the cost is an integer ifelse
    of constants; its gradient is zero, where fncache refused an integer cost."""
    w, b = shared(RNG.random(10)), shared(RNG.random())
    x, y = ft.vector(), ft.scalar()
    loss = ifelse((w.dot(x) + b) * y > 0, 0, 1)
    assert loss.dtype.startswith("int")
    ups = [(p, p - 0.5 * fc.grad(cost=loss, wrt=p)) for p in (w, b)]
    w0, b0 = w.get_value(), b.get_value()
    f = function([x, y], loss, updates=ups, mode=PY)
    assert f(np.ones(10), 1.0) == 0 and f(np.ones(10), -1.0) == 1
    np.testing.assert_array_equal(w.get_value(), w0)
    assert b.get_value() == b0
    g = fc.grad(ft.sum(w > 0.5), w)
    np.testing.assert_array_equal(function([], g, mode=PY)(), np.zeros(10))
    with pytest.raises(TypeError, match="with respect to"):
        fc.grad(ft.iscalar("i") * 2, ft.iscalar("j"))


def test_ifelse_runs_only_the_branch_taken() -> None:
    """PyTensor's test_nested and test_ifelse_lazy_c, with an assertion that fails standing
    for the op that raises: the branches not taken are never computed."""
    c1, c2, x1, x2 = ft.scalars("c1", "c2", "x1", "x2")
    bad = ft.assert_op(x2, ft.eq(x2, -99.0), "computed")
    t1 = ifelse(c1, x1, bad)
    t3 = ifelse(c2, t1 * 10, x1 + t1)
    t4 = ifelse(ft.eq(x1, x2), x1, ifelse(ft.eq(x1, 5), x2, ifelse(c2, t3, t3 + 0.5)))
    for mode in MODES:
        f = function([c1, c2, x1, x2], t4, mode=mode)
        assert f(1, 0, 10.0, 0.0) == 20.5
        with pytest.raises(Exception, match="computed"):
            f(0, 0, 10.0, 0.0)


# -- printing: what users see -------------------------------------------------------------------


def test_debugprint_takes_pytensors_keywords() -> None:
    """PyTensor's test_debugprint: its keywords were a TypeError in fncache. The text is
    fncache's (one node a line, README "Compiling"): the structure is checked, not strings."""
    with pytest.raises(TypeError, match="expected a Function"):
        fc.printing.debugprint("blah")
    A, B, D, E = (ft.dmatrix(n) for n in "ABDE")
    C = A + B
    C.name = "C"
    G = C + (D + E)
    full = fc.printing.debugprint(G, file="str")
    assert full.count(" = add(") == 3 and "C: float64" in full
    for kw in ({"id_type": "int"}, {"id_type": "CHAR"}, {"id_type": ""}, {"ids": "id"}, {"print_type": True}):
        assert fc.printing.debugprint(G, file="str", **kw) == full
    # stop_on_name: the nodes above a named variable are left out, the variable printed by name
    stopped = fc.printing.debugprint(G, file="str", stop_on_name=True)
    assert stopped.count(" = add(") == 2 and "add(A, B)" not in stopped and "add(C, " in stopped
    s = io.StringIO()
    g = function([A, B, D, E], G, mode=PY, profile=True)
    fc.printing.debugprint(g, file=s, id_type="", print_storage=True)
    assert s.getvalue().startswith("Function") and s.getvalue().count("\n") >= 2
    assert g.dprint(file="str", print_op_info=True) == fc.printing.debugprint(g, file="str")
    assert G.dprint(file="str", depth=1).count(" = ") == 1
    with pytest.raises(TypeError, match="unknown keyword 'bogus'"):
        fc.printing.debugprint(G, file="str", bogus=True)


def test_debugprint_shows_destroy_and_view_maps() -> None:
    x = ft.dmatrix("x")
    y = x.T  # a view of x
    text = fc.printing.debugprint(y, file="str", print_view_map=True, print_destroy_map=True)
    view = getattr(y.owner.op, "view_map", None)
    assert (" v={" in text) == bool(view)
    assert " v={" not in fc.printing.debugprint(y, file="str")


def test_print_op_and_pp() -> None:
    x = ft.as_tensor_variable(1.0) * ft.as_tensor_variable(3.0)
    fn = function([], fc.printing.Print("hello")(x), mode="FAST_RUN")
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        assert fn() == 3.0
    assert "hello" in out.getvalue()  # not folded away at compile time
    v = ft.dvector()
    assert "[1]" in fc.printing.pp(v[1])


# -- against PyTensor itself, where it is installed ----------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PyTensor deprecates default_update
def test_against_pytensor_keywords_and_chained_default_updates() -> None:
    """(PyTensor 3 no longer takes outputs as a dict, which its older tests and Theano did.)"""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    results = []
    for lib, T in ((pytensor, pt), (fc, ft)):
        x, y = T.dscalar("x"), T.dscalar("y")
        f = lib.function([x, y], [x * y, x + y, x - y])
        got = f(2.0, y=4.0)
        a, b, c = lib.shared(2), lib.shared(1), lib.shared(-1)
        a.default_update = a - b
        b.default_update = c
        c.default_update = c - 1
        lib.function([], [a])()
        lib.function([], [a, b, c], no_default_updates=[c])()
        results.append(([float(v) for v in got], [int(s.get_value()) for s in (a, b, c)]))
    assert results[0] == results[1]


def test_function_dump_and_a_pickle_keeps_its_optimized_graph(tmp_path) -> None:
    v = ft.vector()
    fc.function_dump(tmp_path / "dump.pkl", [v], v + 1, mode=PY)
    with open(tmp_path / "dump.pkl", "rb") as fh:
        args = pickle.load(fh)
    x = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(function(**args)(x), function([v], v + 1, mode=PY)(x))
    assert fc.compile.function_dump is fc.function_dump
    # test_optimizations_preserved: a pickle loads its optimized graph whatever the flags say
    a, xv, s = ft.dvector(), ft.dvector("x"), ft.dvector("s")
    xm, sm = ft.dmatrix("x"), ft.dmatrix("s")
    f = function([a, xv, s, xm, sm], a.T.T * (ft.dot(xm, sm.T.T.T) + xv).T * (xv / xv) + s, mode=PY)
    with fc.config.change_flags(mode="FAST_COMPILE", optimizer="None", linker="py"):
        g = pickle.loads(pickle.dumps(f, protocol=-1))
    tf, tg = f.maker.fgraph.toposort(), g.maker.fgraph.toposort()
    assert f.maker.fgraph is not g.maker.fgraph and len(tf) == len(tg)
    for nf, ng in zip(tf, tg):
        assert nf.op == ng.op and [i.type for i in nf.inputs] == [i.type for i in ng.inputs]


def test_pytensors_other_function_keywords() -> None:
    """``outputs=None``, ``on_unused_input=None``, ``accept_inplace`` and ``rebuild_strict``
    (PyTensor's signature) were TypeErrors."""
    x = ft.dscalar("x")
    s = shared(0.0)
    f = function([x], updates={s: s + x}, mode=PY)
    assert f(2.0) == [] and s.get_value() == 2.0
    assert function([], None, mode=PY)() == []
    g = function([x], x * 2, accept_inplace=True, rebuild_strict=True, on_unused_input=None, mode=PY)
    assert g(3.0) == 6.0
    with pytest.raises(ValueError, match="not used"):
        function([x, ft.dscalar("y")], x, on_unused_input=None)
    # rebuild_strict=False rebuilds the graph on a replacement of another dtype, as PyTensor's
    y = ft.fscalar("y")
    with pytest.raises(TypeError, match="same dtype"):
        function([y], x * 2, givens={x: y})
    r = function([y], x * 2, givens={x: y}, rebuild_strict=False)(1.5)
    assert r.dtype == "float32" and r == 3.0
    with pytest.raises(TypeError, match="rebuild_strict"):
        function([x], x, rebuild_strict="no")
