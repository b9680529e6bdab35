"""What code ported from Theano or PyTensor writes and fncache takes as they do, against numpy
in both modes, with gradients checked by finite differences: reductions' ``dtype`` and
``acc_dtype``; the variable methods ``norm copy diagonal trace``; ``unbroadcast`` and
``patternbroadcast``; ``shared(strict=, shape=)``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, fd_check_grads, sample

AXES = [None, 0, 1]


def _acc_reduce(ufunc: np.ufunc, v: np.ndarray, axis: int | None, acc: str, out: str) -> np.ndarray:
    """numpy's reduction accumulating in ``acc``, the result cast to ``out``."""
    return np.asarray(ufunc.reduce(v, axis=axis, dtype=acc)).astype(out)


@pytest.mark.parametrize("mode", MODES)
def test_int8_accumulator_wraps_as_numpys(mode: str) -> None:
    """``acc_dtype`` is the type the loop adds in: an int8 accumulator wraps, the result is then
    the default (int64) or the given ``dtype``."""
    x = ft.matrix("x", "int8")
    #: (ufunc, acc_dtype, output dtype) of each output, per axis
    table = [(np.add, "int8", "int64"), (np.add, "int8", "int16")]
    table += [(np.multiply, "int8", "int64"), (np.multiply, "int32", "int64")]
    outs = []
    for a in AXES:
        outs += [x.sum(axis=a, acc_dtype="int8"), ft.sum(x, axis=a, dtype="int16", acc_dtype="int8")]
        outs += [x.prod(axis=a, acc_dtype="int8"), ft.prod(x, axis=a, acc_dtype="int32")]
    assert [o.dtype for o in outs] == [t[2] for t in table] * len(AXES)
    f = fc.function([x], outs, mode=mode)
    v = np.array([[100, 100, 7, -3, 90], [-128, -1, 127, 2, 3], [50, 50, 50, 50, 50]], "int8")
    for val in (v, np.asfortranarray(v), v[::-1, ::2]):
        for k, g in enumerate(f(val)):
            ufunc, acc, out = table[k % len(table)]
            a = AXES[k // len(table)]
            assert_same(g, _acc_reduce(ufunc, val, a, acc, out), f"output {k} axis {a}")


@pytest.mark.parametrize("mode", MODES)
def test_float32_accumulator_is_the_one_asked_for(mode: str) -> None:
    """Rows 2**24 + 1 + 1 + 1 + 1: a float32 accumulator loses every 1, a float64 one keeps
    them (the result cast to float32 after)."""
    x = ft.matrix("x", "float32")
    v = np.array([[2.0**24, 1, 1, 1, 1]] * 3, "float32")
    outs = [x.sum(axis=1, acc_dtype="float32"), x.sum(axis=1, acc_dtype="float64"), x.sum(axis=1)]
    outs += [ft.sum(x, axis=1, dtype="float64"), ft.mean(x, axis=1, acc_dtype="float32")]
    outs += [x.mean(axis=1, dtype="float64"), x.sum(acc_dtype="float64")]
    assert [o.dtype for o in outs] == ["float32"] * 3 + ["float64", "float32", "float64", "float32"]
    got = fc.function([x], outs, mode=mode)(v)
    want = [_acc_reduce(np.add, v, 1, "float32", "float32"), _acc_reduce(np.add, v, 1, "float64", "float32")]
    want += [want[1], v.sum(axis=1, dtype="float64"), np.mean(v, axis=1, dtype="float32")]
    want += [v.mean(axis=1, dtype="float64"), _acc_reduce(np.add, v, None, "float64", "float32")]
    assert want[0][0] == 2.0**24 and want[1][0] == 2.0**24 + 4  # the case tells them apart
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"output {k}", rtol=0, atol=0)


@pytest.mark.parametrize("mode", MODES)
def test_mean_dtype_is_numpys(mode: str) -> None:
    """``mean(dtype=)`` is the result's dtype, as numpy's: float64 data averaged to float32, ints
    averaged to a float or (numpy: added in that int type, the quotient truncated) an int."""
    x, i = ft.matrix("x"), ft.matrix("i", "int8")
    xv = sample("float64", (4, 5), 1, special=False)
    iv = np.array([[100, 100, 7, -3, 90], [-128, -1, 127, 2, 3], [50, 50, 50, 50, 51]], "int8")
    outs, want = [], []
    for a in AXES:
        outs += [ft.mean(x, axis=a, dtype="float32"), x.mean(axis=a, keepdims=True, dtype="float64")]
        outs += [i.mean(axis=a, dtype="float32"), ft.mean(i, axis=a, dtype="int16")]
        outs += [ft.mean(i, axis=a, dtype="int8"), ft.mean(i, axis=a, dtype="float64", acc_dtype="int8")]
        want += [np.mean(xv, axis=a, dtype="float32"), np.mean(xv, axis=a, keepdims=True, dtype="float64")]
        want += [np.mean(iv, axis=a, dtype="float32"), np.mean(iv, axis=a, dtype="int16")]
        want += [np.mean(iv, axis=a, dtype="int8")]
        n = iv.size if a is None else iv.shape[a]
        want += [np.add.reduce(iv, axis=a, dtype="int8") / n]
    got = fc.function([x, i], outs, mode=mode)(xv, iv)
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"output {k} axis {AXES[k // 6]}")


def test_acc_dtype_that_loses_precision_is_refused_with_the_fix() -> None:
    """As PyTensor: the accumulator must hold every input value (a float one for integer input
    is fine); bool cannot hold a sum."""
    with pytest.raises(TypeError, match=r"sum: acc_dtype float32 .* float64 input .* at least float64"):
        ft.sum(ft.dvector("x"), acc_dtype="float32")
    with pytest.raises(TypeError, match=r"prod: acc_dtype int8 .* int16 input"):
        ft.prod(ft.vector("x", "int16"), acc_dtype="int8")
    with pytest.raises(TypeError, match=r"mean: acc_dtype bool"):
        ft.mean(ft.vector("x", "bool"), acc_dtype="bool")
    with pytest.raises(TypeError, match=r"sum: acc_dtype"):
        ft.sum(ft.dvector("x"), acc_dtype="floaty")
    assert ft.sum(ft.vector("x", "int64"), acc_dtype="float32").dtype == "int64"
    assert ft.sum(ft.fvector("x"), acc_dtype="complex64").dtype == "float32"


@pytest.mark.parametrize("mode", MODES)
def test_gradients_through_dtype_and_acc_dtype(mode: str) -> None:
    x = ft.dmatrix("x")
    cases = {
        "sum acc": (lambda x: x.sum(axis=0, acc_dtype="float64"), [0]),
        "sum dtype": (lambda x: ft.sum(x, axis=1, dtype="float64", acc_dtype="float64"), [0]),
        "prod acc": (lambda x: x.prod(axis=1, acc_dtype="float64"), [0]),
        "mean dtype": (lambda x: ft.mean(x, axis=0, dtype="float64"), [0]),
        "mean acc": (lambda x: x.mean(acc_dtype="float64"), [0]),
    }
    vals = [[sample("float64", (3, 4), s, special=False, low=0.5, high=2.0)] for s in (1, 2)]
    fd_check_grads([x], cases, vals, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_keeps_the_inputs_dtype_when_the_output_dtype_changes(mode: str) -> None:
    """A float32 input summed to float64 (or float64 averaged to float32) gets a gradient of its
    own dtype, the values d(sum)/dx = 1 and d(mean)/dx = 1/n."""
    f, d = ft.fmatrix("f"), ft.dmatrix("d")
    gs = fc.grad(ft.sum(f, dtype="float64") + ft.mean(d, dtype="float32"), [f, d])
    assert [g.dtype for g in gs] == ["float32", "float64"]
    got = fc.function([f, d], gs, mode=mode)(np.ones((2, 3), "float32"), np.ones((4, 5)))
    assert_same(got[0], np.ones((2, 3), "float32"))
    assert_same(got[1], np.full((4, 5), 1 / 20), rtol=1e-7)  # 1/20 was a float32 gradient


# -- the methods PyTensor's variables have ----------------------------------------------------
def _np_norm(v: np.ndarray, L: float, axis: int | None, keepdims: bool = False) -> np.ndarray:
    """PyTensor's ``norm``: ``(sum |x|**L)**(1/L)``; the largest ``|x|`` for ``L = inf``."""
    if np.isinf(L):
        return np.max(np.abs(v), axis=axis, keepdims=keepdims)
    return np.sum(np.abs(v) ** L, axis=axis, keepdims=keepdims) ** (1.0 / L)


@pytest.mark.parametrize("mode", MODES)
def test_norm_diagonal_trace_copy_are_numpys(mode: str) -> None:
    x, i = ft.dmatrix("x"), ft.matrix("i", "int8")
    norms = [(2, None, False), (1, 0, False), (3, 1, True), (0.5, None, True), (np.inf, 1, False)]
    outs = [x.norm(L, axis=a, keepdims=k) for L, a, k in norms] + [i.norm(2), i.norm(1, axis=0)]
    offsets = [0, 1, -1, 2, -3, 7]
    outs += [x.diagonal(k) for k in offsets] + [ft.diagonal(i, 1), x.trace(), i.trace(), ft.trace(x, -1)]
    c = x.copy()
    outs.append(c)
    f = fc.function([x, i], outs, mode=mode)
    for shape in [(3, 5), (5, 3), (4, 4), (1, 1), (0, 3)]:
        xv = sample("float64", shape, 1, special=False)
        iv = sample("int8", shape, 2, special=False, low=-9, high=9)
        want = [_np_norm(xv, L, a, k) for L, a, k in norms] + [_np_norm(iv, 2, None), _np_norm(iv, 1, 0)]
        want += [np.diagonal(xv, k) for k in offsets] + [np.diagonal(iv, 1), np.trace(xv), np.trace(iv)]
        want += [np.trace(xv, -1), xv]
        got = f(xv, iv)
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"output {k} shape {shape}")
        got[-1][...] = 7.0  # the copy is not the caller's array
        assert not (xv == 7.0).any()


def test_norm_refuses_what_has_no_value() -> None:
    x = ft.dvector("x")
    for bad in (0, -1, -np.inf, np.nan):
        with pytest.raises(ValueError, match=r"norm: L must be a positive number or inf"):
            x.norm(bad)
    with pytest.raises(ValueError, match=r"diagonal: takes a tensor of 2 or more dims"):
        x.diagonal()
    with pytest.raises(TypeError, match=r"diagonal: offset must be an int"):
        ft.dmatrix("m").diagonal(1.5)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_of_norm_diagonal_trace_copy(mode: str) -> None:
    x = ft.dmatrix("x")
    cases = {
        "norm 2": (lambda x: x.norm(2, axis=1), [0]),
        "norm 1": (lambda x: x.norm(1), [0]),
        "norm 3": (lambda x: x.norm(3, axis=0, keepdims=True), [0]),
        "norm inf": (lambda x: x.norm(np.inf, axis=1), [0]),
        "diagonal": (lambda x: x.diagonal(1).sum() * x.diagonal(-1), [0]),
        "trace": (lambda x: x.trace() * x.copy(), [0]),
    }
    vals = [[sample("float64", (3, 4), s, special=False, low=0.5, high=2.0)] for s in (1, 2)]
    fd_check_grads([x], cases, vals, mode=mode)


# -- Theano's broadcast-pattern functions -----------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_unbroadcast_and_patternbroadcast_set_the_static_pattern(mode: str) -> None:
    """``unbroadcast`` forgets static 1s (the value still broadcasts nothing: sizes are kept);
    ``patternbroadcast`` declares 1 where the pattern says True (checked at run time) and
    forgets it where it says False."""
    r = ft.tensor("r", "float64", shape=(1, None, 1))
    u = ft.unbroadcast(r, 0, 2)
    assert u.type.shape == (None, None, None)
    assert ft.unbroadcast(r, -1).type.shape == (1, None, None)
    assert ft.unbroadcast(r) is r and ft.unbroadcast(r, 1) is r  # nothing to forget
    p = ft.patternbroadcast(r, (False, True, True))
    assert p.type.shape == (None, 1, 1)
    assert ft.patternbroadcast(r, [True, False, True]) is r
    f_u, f_p = fc.function([r], u * 2.0, mode=mode), fc.function([r], p + 1.0, mode=mode)
    v, w = np.arange(3.0).reshape(1, 3, 1), np.full((1, 1, 1), 5.0)
    assert_same(f_u(v), v * 2.0)
    assert_same(f_p(w), w + 1.0)
    with pytest.raises(ValueError, match=r"specify_shape"):
        f_p(v)  # patternbroadcast declared dim 1 of size 1: a size-3 value is refused


def test_patternbroadcast_refuses_a_size_the_type_knows_is_not_1() -> None:
    x = ft.tensor("x", "float64", shape=(3, None))
    with pytest.raises(ValueError, match=r"patternbroadcast: dim 0 of x has static size 3"):
        ft.patternbroadcast(x, (True, False))
    with pytest.raises(
        ValueError, match=r"patternbroadcast: the pattern \(True,\) has 1 entries, x has 2 dims"
    ):
        ft.patternbroadcast(x, (True,))
    with pytest.raises(ValueError, match=r"unbroadcast: axis 2 is out of bounds"):
        ft.unbroadcast(x, 2)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_through_unbroadcast(mode: str) -> None:
    r = ft.tensor("r", "float64", shape=(1, None))
    cases = {
        "unbroadcast": (lambda r: ft.unbroadcast(r, 0) * ft.arange(1.0, 4.0).reshape((3, 1))[:1], [0]),
        "patternbroadcast": (lambda r: ft.patternbroadcast(r, (False, False)).sum(axis=0), [0]),
    }
    vals = [[sample("float64", (1, 4), s, special=False)] for s in (1, 2)]
    fd_check_grads([r], cases, vals, mode=mode)
    g = fc.grad(ft.unbroadcast(r, 0).sum(), r)
    assert g.type.shape[0] == 1  # the gradient has its input's type


# -- shared variables: strict= and shape= -----------------------------------------------------
def test_shared_strict_keeps_the_dtype_and_takes_only_that_dtype() -> None:
    """Theano's ``strict=True``: the value's own dtype (a Python float stays float64 whatever
    floatX is), and ``set_value`` takes only an array of exactly that dtype."""
    with fc.config.change_flags(floatX="float32"):
        s = fc.shared(0.5, name="s", strict=True)
        loose = fc.shared(0.5, name="loose")
    assert (s.dtype, loose.dtype) == ("float64", "float32")
    w = fc.shared(np.zeros(3, "int32"), name="w", strict=True)
    for bad in ([1, 2, 3], np.arange(3, dtype="int16"), np.arange(3, dtype="int64")):
        with pytest.raises(TypeError, match=r"shared variable 'w' is strict: .* int32"):
            w.set_value(bad)
    assert_same(w.get_value(), np.zeros(3, "int32"))  # the old value kept
    w.set_value(np.arange(3, dtype="int32"))
    assert_same(w.get_value(), np.arange(3, dtype="int32"))
    lax = fc.shared(np.zeros(3), name="lax")
    lax.set_value([1, 2, 3])  # not strict: a list of ints converts to float64 safely
    with pytest.raises(TypeError, match=r"shared variable 's' is strict"):
        s.set_value(1.5)
    with pytest.raises(TypeError, match=r"shared\('h'\): float16 .* strict=True"):
        fc.shared(np.zeros(2, "float16"), name="h", strict=True)


def test_a_python_float_sets_a_floatx_shared_variable() -> None:
    """Theano's rule for a bare Python float: it sets a shared variable of dtype floatX (the
    learning-rate schedule's ``lr.set_value(0.05)`` under floatX=float32), as ``shared(0.5)``
    makes one; other values keep their own rules (an array of float64 is still refused)."""
    with fc.config.change_flags(floatX="float32"):
        lr = fc.shared(np.asarray(0.1, dtype=fc.config.floatX), name="lr")
        lr.set_value(0.05)
        assert lr.get_value().dtype == "float32" and lr.get_value() == np.float32(0.05)
        w = fc.shared(np.zeros(2, "float32"), name="w")
        with pytest.raises(
            TypeError, match=r"shared variable 'w' holds float32 .* dtype float64 with 1 dims"
        ):
            w.set_value(np.array([0.1, 0.2]))
    with pytest.raises(
        TypeError,
        match=r"shared variable 'lr' holds float32 with 0 dims; cannot set a value of dtype float64",
    ):
        lr.set_value(0.05)  # floatX is float64 again: a float32 variable is not floatX


@pytest.mark.parametrize("mode", MODES)
def test_shared_shape_declares_static_sizes_and_checks_them(mode: str) -> None:
    w = fc.shared(np.ones((3, 2)), name="w", shape=(3, None))
    assert w.type.shape == (3, None)
    assert (w + ft.dvector("v")).type.shape == (3, None)
    w.set_value(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"shared variable 'w' has static shape \(3, None\); .* \(4, 5\)"):
        w.set_value(np.zeros((4, 5)))
    assert w.get_value().shape == (3, 5)  # the old value kept
    with pytest.raises(
        ValueError, match=r"shared\('b'\): the value's shape \(2,\) does not fit shape=\(3,\)"
    ):
        fc.shared(np.ones(2), name="b", shape=(3,))
    with pytest.raises(ValueError, match=r"shared\('b'\): shape=\(3, 1\) has 2 entries, the value 1 dims"):
        fc.shared(np.ones(3), name="b", shape=(3, 1))
    with pytest.raises(TypeError, match=r"shared\('b'\): shape entries must be ints >= 0 or None"):
        fc.shared(np.ones(3), name="b", shape=(3.0,))
    # an update is checked against the declared sizes: statically, else when the function runs
    n = ft.lscalar("n")
    with pytest.raises(ValueError, match=r"updates: w has static shape \(3, None\), its update \(4, 2\)"):
        fc.function([], [], updates=[(w, ft.zeros((4, 2)).reshape((4, -1)))], mode=mode)
    f = fc.function([n], w.sum(), updates=[(w, ft.ones((n, 2)))], mode=mode)
    w.set_value(np.full((3, 5), 2.0))
    assert f(3) == 30.0 and w.get_value().shape == (3, 2)
    with pytest.raises(
        ValueError, match=r"specify_shape: the value has shape \(4, 2\), the graph declares \(3, 2\)"
    ):
        f(4)
    assert w.get_value().shape == (3, 2)
    g = pickle.loads(pickle.dumps(f))
    sv = g.shared_variables[0]
    assert sv.type.shape == (3, None)
    with pytest.raises(ValueError, match=r"static shape"):
        sv.set_value(np.zeros((2, 2)))
