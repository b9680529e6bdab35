"""Three places where a Theano/PyTensor user's code meets PyTensor's rules: how a call's values
convert to its inputs (``allow_input_downcast`` None/True/False under floatX float32 and
float64), which updates of a shared variable are refused when the function is built and which
are checked when it runs (its own ``default_update`` included), and
``fncache.graph.replace`` (``clone_replace``, ``graph_replace``, ``vectorize_graph``).

PyTensor's answers are recorded here (PyTensor 3.0.7) and checked against PyTensor itself where
it is installed; the differences fncache keeps on purpose (docs/porting.md, "What differs, on
purpose") are marked."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

PY = "FAST_COMPILE"
DOWNCASTS = (None, True, False)

# -- input conversion: allow_input_downcast ---------------------------------------------------

#: (value, input dtype, taken: "y"/"n" for allow_input_downcast None, True, False under floatX
#: float32, then the same under float64), PyTensor's answers. None rounds one float (a Python
#: float or a numpy float scalar) into floatX only; a list, a float into another float dtype
#: and a complex must convert exactly; an array (0-d too) only by a safe cast. Numpy scalars
#: are numbers: taken when they convert exactly (np.int64(3) into int32).
CONVERSIONS: list[tuple[Any, str, str]] = [
    (0.1, "float32", "yyn nyn"),
    (0.5, "float32", "yyy yyy"),
    (3, "float32", "yyy yyy"),
    (2**24 + 1, "float32", "nyn nyn"),
    (np.float64(0.1), "float32", "yyn nyn"),
    (np.float32(0.1), "float64", "yyy yyy"),
    (np.float32(0.1), "int64", "nyn nyn"),
    (np.int64(3), "int32", "yyy yyy"),
    (np.uint8(3), "int8", "yyy yyy"),
    (np.uint8(200), "int8", "nyn nyn"),
    (np.array(0.5), "float32", "nyn nyn"),
    (np.array(3), "float32", "nyn nyn"),
    (np.array(3), "int32", "nyn nyn"),
    ([0.1], "float32", "nyn nyn"),
    ([0.5], "float32", "yyy yyy"),
    ((0.5, 0.1), "float32", "nyn nyn"),
    ([np.float64(0.1)], "float32", "nyn nyn"),
    ([1, 2], "float32", "yyy yyy"),
    (np.array([0.5]), "float32", "nyn nyn"),
    (np.array([3]), "float32", "nyn nyn"),
    (np.array([0.5], "float32"), "int64", "nyn nyn"),
    (0.1, "float64", "yyy yyy"),
    (0.1, "int64", "nyn nyn"),
    (3.0, "int64", "yyy yyy"),
    (2**40, "int32", "nyn nyn"),  # PyTensor: OverflowError; fncache: TypeError
    (True, "int8", "yyy yyy"),
    (0.1 + 0j, "complex64", "nyn nyn"),
    (0.5 + 0j, "complex64", "yyy yyy"),
    (0.1, "complex64", "nyn nyn"),
    (float("nan"), "float32", "yyy yyy"),
    (float("inf"), "float32", "yyy yyy"),
    (1e-50, "float32", "yyn nyn"),  # rounded to 0: an underflow is a rounding
]


def _table(lib: Any, T: Any, errors: tuple[type, ...], **kw: Any) -> dict[tuple[str, str], str]:
    """Each case's answers as CONVERSIONS writes them, computed by ``lib``'s functions."""
    fns: dict[tuple[str, int, bool | None], Callable[..., Any]] = {}
    out = {}
    for value, dtype, _ in CONVERSIONS:
        nd = np.ndim(value)
        row = ""
        for floatx in ("float32", "float64"):
            with lib.config.change_flags(floatX=floatx):
                for downcast in DOWNCASTS:
                    if (dtype, nd, downcast) not in fns:
                        x = T.tensor("x", dtype=dtype, shape=(None,) * nd)
                        fns[dtype, nd, downcast] = lib.function(
                            [x], x, allow_input_downcast=downcast, name="conv", **kw
                        )
                    try:
                        with np.errstate(all="ignore"):
                            got = fns[dtype, nd, downcast](value)
                        assert got.dtype == dtype
                        row += "y"
                    except errors:
                        row += "n"
            row += " " if floatx == "float32" else ""
        out[repr(value), dtype] = row
    return out


def _recorded() -> dict[tuple[str, str], str]:
    return {(repr(value), dtype): want for value, dtype, want in CONVERSIONS}


def test_input_conversion_follows_pytensors_table() -> None:
    assert _table(fc, ft, (TypeError,), mode=PY) == _recorded()


def test_pytensor_still_answers_the_recorded_table() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    assert _table(pytensor, pt, (TypeError, OverflowError), mode="FAST_COMPILE") == _recorded()


@pytest.mark.parametrize("downcast", [None, False])
def test_a_refused_value_names_the_input_the_dtypes_and_the_fix(downcast: bool | None) -> None:
    lr, v = ft.fscalar("lr"), ft.fvector("v")
    f = fc.function([lr, v], lr * v, name="step", allow_input_downcast=downcast, mode=PY)
    off = "downcasting is off"
    cases = [
        ((0.1, [1.0]), 0, "float64 to float32", "floatX" if downcast is None else off),
        ((1.0, [0.1]), 1, "float64 to float32", "list of floats is not rounded" if downcast is None else off),
        ((1.0, np.array([0.5])), 1, "float64 to float32", "could lose data"),
        ((np.array(2), [1.0]), 0, "int64 to float32", "could lose data"),
    ]
    for args, k, dtypes, why in cases:
        name = ("lr", "v")[k]
        with pytest.raises(TypeError, match=rf"input {k} \('{name}'\) of function 'step'") as e:
            f(*args)
        msg = str(e.value)
        assert dtypes in msg and why in msg, msg
        assert "allow_input_downcast=True" in msg and "np.asarray(x, dtype='float32')" in msg, msg


@pytest.mark.parametrize("linker", ["c", "py"])
def test_a_python_float_into_a_float32_input_follows_floatx(linker: str) -> None:
    """The scalar fast path (a learning rate given at every call) takes PyTensor's rule too:
    rounded under floatX float32, refused under float64 where float32 does not hold it."""
    lr = ft.fscalar("lr")
    f = fc.function([lr], lr * 2, mode=fc.Mode(linker=linker, optimizer="fast_compile"))
    with fc.config.change_flags(floatX="float32"):
        assert f(0.1) == np.float32(0.1) * 2 and f(np.float64(0.1)) == np.float32(0.1) * 2
    with fc.config.change_flags(floatX="float64"):
        assert f(0.5) == 1.0
        with pytest.raises(TypeError, match=r"input 0 \('lr'\).*rounded only into floatX \(float64 now\)"):
            f(0.1)


def test_a_float_overflowing_float32_is_refused_unless_true() -> None:
    """What differs on purpose: under floatX float32, PyTensor's None rounds 1e300 into a float32
    input as inf; fncache refuses a finite float that would overflow (True still casts it)."""
    x = ft.fscalar("x")
    f, g = fc.function([x], x, mode=PY), fc.function([x], x, allow_input_downcast=True, mode=PY)
    with fc.config.change_flags(floatX="float32"):
        with pytest.raises(TypeError, match=r"overflows to inf .*allow_input_downcast=True"):
            f(1e300)
        assert f(-3e38) == np.float32(-3e38) and f(float("inf")) == np.inf
        with np.errstate(over="ignore"):
            assert g(1e300) == np.inf


# -- updates: refused when the function is built, or checked when it runs --------------------

M = np.ones((2, 3))
ROW = np.ones((1, 3))


def _update_cases(lib: Any, T: Any) -> dict[str, tuple[Any, Any, Any, Any]]:
    """name -> (shared variable, update, input, value the function is called with)."""
    m = T.matrix("m")

    def var(shape: Any = None, dtype: str = "float64") -> Any:
        return lib.shared(np.zeros((1, 3), dtype), name="s", shape=shape)

    return {
        "(1,?) <- (?,?), 1 row": (var((1, None)), m, m, ROW),
        "(1,?) <- (?,?), 2 rows": (var((1, None)), m, m, M),
        "(1,3) <- (?,?), 2 rows": (var((1, 3)), m, m, M),
        "(1,?) <- (2,?)": (var((1, None)), T.specify_shape(m, (2, None)), m, M),
        "(?,?) <- vector": (var(), T.vector("v"), None, None),
        "float64 <- float32": (var(), T.cast(m, "float32"), m, ROW),
        "float64 <- int64": (var(), T.cast(m, "int64"), m, ROW),
        "(?,?) <- (1,?)": (var(), T.specify_shape(m, (1, None)), m, ROW),
        "(?,?) <- (2,3)": (var(), T.specify_shape(m, (2, 3)), m, M),
    }


#: PyTensor's answers: "build" (refused when the function is built), "run" (built; the call
#: raises), "taken". Where fncache differs on purpose it answers the second value.
UPDATES = {
    "(1,?) <- (?,?), 1 row": ("taken", None),
    "(1,?) <- (?,?), 2 rows": ("run", None),  # Theano refused it when built; PyTensor checks it
    "(1,3) <- (?,?), 2 rows": ("run", None),
    "(1,?) <- (2,?)": ("build", None),
    "(?,?) <- vector": ("build", None),
    # fncache casts an update of another dtype of the same kind (docs/porting.md)
    "float64 <- float32": ("build", "taken"),
    "float64 <- int64": ("build", "taken"),
    # fncache takes a more specific static shape: a (1, 3) value fits a (?, ?) variable
    "(?,?) <- (1,?)": ("build", "taken"),
    "(?,?) <- (2,3)": ("taken", None),
}
#: PyTensor's function refuses a variable's own default update more specific than the variable
#: (a (2, 3) update of a (?, ?) variable), which it takes as an explicit update; fncache takes both
PYTENSOR_DEFAULT_UPDATES = {"(?,?) <- (2,3)": "build"}


def _outcomes(lib: Any, T: Any, default: bool, **kw: Any) -> dict[str, str]:
    out = {}
    for name, (s, upd, inp, value) in _update_cases(lib, T).items():
        ins = [] if inp is None else [inp]
        try:
            if default:  # PyTensor refuses some when assigned: so much the earlier
                s.default_update = upd
                f = lib.function(ins, s * 1, on_unused_input="ignore", **kw)
            else:
                f = lib.function(ins, [], updates=[(s, upd)], on_unused_input="ignore", **kw)
        except (TypeError, ValueError, AssertionError):
            out[name] = "build"
            continue
        try:
            f(*([] if value is None else [value]))
            assert s.get_value().dtype == s.type.dtype and s.type.ndim == 2
            out[name] = "taken"
        except (ValueError, AssertionError):
            out[name] = "run"
            assert np.array_equal(s.get_value(), np.zeros((1, 3)))  # the old value kept
    return out


@pytest.mark.parametrize("default", [False, True], ids=["updates", "default_update"])
def test_updates_refused_when_built_or_checked_when_run(default: bool) -> None:
    """An update given to ``fc.function`` and a variable's own ``default_update`` follow one
    rule (a default update used to be stored as it was: two rows into a (1, ?) variable, a
    float32 value into a float64 one)."""
    want = {name: fc_answer or pt_answer for name, (pt_answer, fc_answer) in UPDATES.items()}
    assert _outcomes(fc, ft, default, mode=PY) == want


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("default", [False, True], ids=["updates", "default_update"])
def test_pytensor_still_answers_the_recorded_updates(default: bool) -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    want = {name: pt_answer for name, (pt_answer, _) in UPDATES.items()}
    if default:
        want.update(PYTENSOR_DEFAULT_UPDATES)
    assert _outcomes(pytensor, pt, default, mode="FAST_COMPILE") == want


def test_a_default_update_of_the_wrong_type_names_the_variable() -> None:
    b = fc.shared(np.zeros((1, 4)), name="b", broadcastable=(True, False))
    M4 = ft.matrix("M")
    b.default_update = b - M4
    f = fc.function([M4], b * 1, mode=PY)
    with pytest.raises(ValueError, match=r"default_update: b has static shape \(1, None\), its update"):
        f(np.ones((2, 4)))
    b.default_update = ft.vector("v")
    with pytest.raises(
        TypeError,
        match=r"default_update: b is a TensorType\(float64, \(1,\?\)\) \(2 dims\) but its update v is a "
        r"TensorType\(float64, \(\?\)\) \(1 dims\); reshape or dimshuffle",
    ):
        fc.function([ft.vector("v")], b * 1, mode=PY)
    b.default_update = ft.cast(b + 1, "float32")
    fc.function([], b * 1, mode=PY)()
    assert b.get_value().dtype == np.float64 and np.array_equal(b.get_value(), np.ones((1, 4)))


# -- fncache.graph.replace --------------------------------------------------------------------


def test_pytensors_replace_module_holds_the_front_ends_functions() -> None:
    import fncache.graph as fg
    from fncache.graph.replace import clone_replace, graph_replace, vectorize_graph

    assert (clone_replace, graph_replace, vectorize_graph) == (
        fc.clone_replace,
        fc.graph_replace,
        ft.vectorize_graph,
    )
    assert (fg.clone_replace, fg.graph_replace, fg.vectorize_graph) == (
        clone_replace,
        graph_replace,
        vectorize_graph,
    )
    assert fg.replace.vectorize_graph is vectorize_graph
    with pytest.raises(AttributeError, match="fncache.graph' has no attribute 'vectorize'"):
        fg.vectorize  # noqa: B018
    # the graph package alone loads none of the front end
    code = "import sys, fncache.graph; assert 'fncache.tensor' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _vectorized(lib: Any, T: Any, vectorize_graph: Callable[..., Any], **kw: Any) -> list[np.ndarray]:
    """PyTensor's docstring examples and more: a softmax, indexing, two inputs of different
    batch dims broadcast, a dot and a sort (fncache loops over the batch), an intermediate
    variable replaced, an output that reads no replaced variable."""
    rng = np.random.default_rng(7)
    x, y, m, c = T.vector("x"), T.vector("y"), T.matrix("m"), T.vector("c")
    nx, hn = T.matrix("nx"), T.matrix("hn")
    ny, bm = T.tensor("ny", dtype="float64", shape=(4, 1, None)), T.tensor3("bm")
    h = T.exp(x)
    outs = vectorize_graph(
        [h / h.sum(), x[0], x[-1], x * y + y.sum(), T.dot(m, x), T.sort(x), c * 2],
        {x: nx, y: ny, m: bm},
    )
    partly = vectorize_graph(h.sum() + x.mean(), {h: hn, x: nx})
    f = lib.function([nx, ny, bm, c, hn], [*outs, partly], **kw)
    X = rng.normal(size=(2, 3))
    return f(X, rng.normal(size=(4, 1, 3)), rng.normal(size=(2, 3, 3)), np.ones(3), np.exp(X) + 1)


def test_vectorize_graph_matches_numpy() -> None:
    from fncache.graph.replace import vectorize_graph

    rng = np.random.default_rng(7)
    X, Y, BM = rng.normal(size=(2, 3)), rng.normal(size=(4, 1, 3)), rng.normal(size=(2, 3, 3))
    E = np.exp(X)
    want = [
        E / E.sum(axis=-1, keepdims=True),
        X[:, 0],
        X[:, -1],
        X * Y + Y.sum(axis=-1, keepdims=True),
        np.einsum("bij,bj->bi", BM, X),
        np.sort(X, axis=-1),
        np.full(3, 2.0),
        (E + 1).sum(axis=-1) + X.mean(axis=-1),
    ]
    got = _vectorized(fc, ft, vectorize_graph, mode=PY)
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert isinstance(vectorize_graph(ft.vector("x") * 2, {}), ft.TensorVariable)


def test_vectorize_graph_matches_pytensors() -> None:
    pytest.importorskip("pytensor")
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph as pt_vectorize_graph

    from fncache.graph.replace import vectorize_graph

    want = _vectorized(pytensor, pt, pt_vectorize_graph, mode="FAST_COMPILE")
    got = _vectorized(fc, ft, vectorize_graph, mode=PY)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
