"""Run-time behaviour of compiled functions: shared variables and updates, outputs
(single array / list, 0-d for scalars, never aliasing inputs or shared storage), keyword
inputs and repeated calls with changing shapes."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same


def test_shared_value_semantics() -> None:
    a = np.arange(3.0)
    w = fc.shared(a, name="w")
    a[0] = 100.0
    assert w.get_value()[0] == 0.0  # copied (borrow=False)
    v = w.get_value()
    v[1] = 50.0
    assert w.get_value()[1] == 1.0  # get_value copies
    assert w.get_value(borrow=True) is w.get_value(borrow=True)
    b = np.ones(2)
    wb = fc.shared(b, borrow=True)
    assert np.shares_memory(wb.get_value(borrow=True), b)
    assert w.name == "w" and w.dtype == "float64" and w.ndim == 1
    assert fc.shared(1.5).dtype == fc.config.floatX
    assert fc.shared(3).dtype == "int64" and fc.shared(True).dtype == "bool"
    assert fc.shared(np.float32(2)).dtype == "float32"
    with pytest.raises(TypeError):
        fc.shared(np.array(["a"]))


def test_set_value_type_errors_keep_old_value() -> None:
    w = fc.shared(np.zeros(3), name="w")
    for bad in (
        np.zeros((3, 1)),
        np.zeros(3, "complex128"),
        "abc",
        np.zeros((), "float64"),
    ):
        with pytest.raises(TypeError) as ei:
            w.set_value(bad)
        assert "'w'" in str(ei.value)
        assert_same(w.get_value(), np.zeros(3), "old value kept")
    for safe in (np.ones(3, "float32"), np.ones(3, "int64")):  # safe casts, as PyTensor's
        w.set_value(safe)
        assert_same(w.get_value(), np.ones(3), "cast to float64")
    w.set_value([1, 2, 3, 4])  # an untyped list converts safely (and may change the size)
    assert_same(w.get_value(), np.array([1.0, 2.0, 3.0, 4.0]), "list")
    new = np.full(2, 7.0)
    w.set_value(new)
    new[0] = 0.0
    assert w.get_value()[0] == 7.0  # set_value copies
    w.set_value(new, borrow=True)
    assert np.shares_memory(w.get_value(borrow=True), new)
    i = fc.shared(np.zeros(2, "int8"))
    with pytest.raises(TypeError):
        i.set_value([1000, 2])  # does not fit int8


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["dict", "list", "tuple"])
def test_updates(mode: str, form: str) -> None:
    x = ft.vector("x")
    w = fc.shared(np.zeros(2), name="w")
    n = fc.shared(np.array(0, "int64"), name="n")
    pairs = [(w, w + x), (n, n + 1)]
    updates = {"dict": dict(pairs), "list": pairs, "tuple": tuple(pairs)}[form]
    f = fc.function([x], [w * 2, n], updates=updates, mode=mode)
    out_w, out_n = f(np.array([1.0, 2.0]))
    assert_same(out_w, np.zeros(2), "outputs use the values before the update")
    assert out_n == 0
    out_w, out_n = f([1.0, 1.0])
    assert_same(out_w, np.array([2.0, 4.0]), "second call")
    assert_same(w.get_value(), np.array([2.0, 3.0]), "w after two updates")
    assert n.get_value() == 2


@pytest.mark.parametrize("mode", MODES)
def test_updates_are_simultaneous(mode: str) -> None:
    """Every update reads the values from before the call (a swap works)."""
    a, b = fc.shared(np.array([1.0]), name="a"), fc.shared(np.array([2.0]), name="b")
    f = fc.function([], [], updates=[(a, b), (b, a)], mode=mode)
    f()
    assert a.get_value()[0] == 2.0 and b.get_value()[0] == 1.0
    c = fc.shared(np.arange(3.0), name="c")
    g = fc.function([], c.sum(), updates={c: c[::-1] * 1.0}, mode=mode)
    assert g() == 3.0
    assert_same(c.get_value(), np.array([2.0, 1.0, 0.0]), "reversed")
    h = fc.function([], [], updates={c: ft.constant(np.full(3, 5.0))}, mode=mode)
    h()
    assert_same(c.get_value(), np.full(3, 5.0), "constant update")


@pytest.mark.parametrize("mode", MODES)
def test_shared_storage_never_aliased(mode: str) -> None:
    w = fc.shared(np.arange(3.0), name="w")
    f = fc.function([], [w, w.T, w[1:]], mode=mode)
    outs = f()
    for o in outs:
        o[...] = -1.0
    assert_same(w.get_value(), np.arange(3.0), "shared value untouched")
    g = fc.function([], w * 2, updates={w: w * 2}, mode=mode)
    out = g()
    out[...] = 0.0
    assert_same(w.get_value(), np.arange(3.0) * 2, "update not aliased to the output")
    k = fc.function([], [w + 1], updates={w: w + 1}, mode=mode)
    r = k()[0]
    r[...] = 0.0
    assert_same(w.get_value(), np.arange(3.0) * 2 + 1, "equal output and update are two arrays")


def test_shared_variables_run_in_the_c_runner() -> None:
    """A native function with shared variables is called straight through its C runner, which
    reads their current values and stores the updates: f.fn() repeats on the updated values,
    keyword calls and set_value between calls are seen, two updates with one value get two
    arrays, and a failing call changes nothing."""
    x = ft.dvector("x")
    w, v = fc.shared(np.zeros(2), name="w"), fc.shared(np.zeros(2), name="v")
    f = fc.function([x], (w * x).sum(), updates=[(w, w + x), (v, w + x)])
    assert type(f).__call__ is f._native and f.fn == f._native.repeat
    assert f(np.ones(2)) == 0.0 and f.fn(n_calls=3) == 6.0  # w: 1, then 2, 3 before the 3rd
    assert_same(w.get_value(), np.full(2, 4.0), "after f and 3 repeats")
    assert not np.shares_memory(w.get_value(borrow=True), v.get_value(borrow=True))
    w.set_value(np.array([1.0, -1.0]))
    assert f(x=np.array([2.0, 3.0])) == -1.0
    assert_same(v.get_value(), np.array([3.0, 2.0]), "keyword call")
    with pytest.raises(ValueError):
        f(np.ones(5))
    assert_same(w.get_value(), np.array([3.0, 2.0]), "a failed call updates nothing")
    with pytest.raises(TypeError, match="takes 1 inputs"):
        f(np.ones(2), np.ones(2))


def test_update_type_checks() -> None:
    w = fc.shared(np.zeros(2), name="w")
    i = fc.shared(np.zeros(2, "int32"), name="i")
    x = ft.vector("x", "float32")
    with pytest.raises(TypeError, match="dims"):
        fc.function([], [], updates={w: w.sum()})
    with pytest.raises(TypeError, match="cast"):
        fc.function([], [], updates={i: i + 0.5})  # float into int: not same kind
    with pytest.raises(TypeError):
        fc.function([], [], updates={ft.vector("v"): w})
    with pytest.raises(ValueError, match="twice"):
        fc.function([], [], updates=[(w, w + 1), (w, w * 2)])
    f = fc.function([x], [], updates={w: w + x})  # float32 into float64: cast
    f(np.ones(2, "float32"))
    assert_same(w.get_value(), np.ones(2), "float32 update")
    g = fc.function([], [], updates={i: i + np.int8(1)})
    g()
    assert i.get_value().dtype == "int32" and i.get_value()[0] == 1


@pytest.mark.parametrize("mode", MODES)
def test_shared_used_by_two_functions(mode: str) -> None:
    w = fc.shared(np.array(1.0), name="w")
    inc = fc.function([], [], updates={w: w + 1}, mode=mode)
    read = fc.function([], w * 10, mode=mode)
    inc()
    inc()
    assert read() == 30.0
    w.set_value(np.array(-1.0))
    assert read() == -10.0


@pytest.mark.parametrize("mode", MODES)
def test_output_forms(mode: str) -> None:
    x = ft.scalar("x")
    v = ft.vector("v")
    single = fc.function([x], x * 2, mode=mode)
    out = single(3.0)
    assert isinstance(out, np.ndarray) and out.shape == () and out == 6.0
    several = fc.function([x, v], [x + 1, v * x, v.sum()], mode=mode)
    res = several(2.0, [1.0, 2.0])
    assert isinstance(res, list) and len(res) == 3
    assert all(isinstance(r, np.ndarray) for r in res)
    assert res[2].shape == () and res[2] == 3.0
    one_list = fc.function([x], [x], mode=mode)
    r = one_list(np.array(4.0))
    assert isinstance(r, list) and r[0] == 4.0
    nothing = fc.function([x], [], on_unused_input="ignore", mode=mode)
    assert nothing(1.0) == []
    same = fc.function([v], [v * 2, v * 2], mode=mode)
    a, b = same(np.ones(2))
    assert_same(a, b, "duplicate outputs")


@pytest.mark.parametrize("mode", MODES)
def test_outputs_are_fresh_each_call(mode: str) -> None:
    """An output array is the caller's: a later call never overwrites it."""
    x = ft.vector("x")
    f = fc.function([x], ft.exp(x) + 1, mode=mode)
    first = f(np.zeros(3))
    second = f(np.ones(3))
    assert_same(first, np.full(3, 2.0), "first result intact")
    assert_same(second, np.full(3, np.e + 1), "second result")
    assert not np.shares_memory(first, second)


@pytest.mark.parametrize("mode", MODES)
def test_changing_shapes_between_calls(mode: str) -> None:
    x, y = ft.matrix("x"), ft.vector("y")
    f = fc.function([x, y], [ft.exp(x) * y, (x * y).sum(axis=1)], mode=mode)
    for shape in [(2, 3), (5, 1), (0, 3), (1, 1), (4, 7), (2, 3)]:
        xv = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
        yv = np.linspace(0, 2, shape[1])
        a, b = f(xv, yv)
        assert_same(a, np.exp(xv) * yv, f"{shape}")
        assert_same(b, (xv * yv).sum(axis=1), f"{shape}")


@pytest.mark.parametrize("mode", MODES)
def test_constant_output_and_input_output(mode: str) -> None:
    x = ft.vector("x")
    f = fc.function([x], [x, ft.constant(np.arange(2.0)), x.T], mode=mode)
    v = np.array([1.0, 2.0])
    a, c, t = f(v)
    for o in (a, c, t):
        assert o.flags.writeable
        assert not np.shares_memory(o, v)
    c[0] = 99.0
    assert f(v)[1][0] == 0.0  # the constant itself is not modified


def _foreign_layouts(values: np.ndarray) -> dict[str, np.ndarray]:
    """``values`` as big-endian, as misaligned (one byte into a buffer) and as a strided view."""
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    misaligned = raw[1:].view(values.dtype).reshape(values.shape)
    misaligned[...] = values
    strided = np.repeat(values, 2)[::2].reshape(values.shape)
    return {
        "big_endian": values.astype(values.dtype.newbyteorder(">")),
        "misaligned": misaligned,
        "strided": strided,
    }


@pytest.mark.parametrize("layout", ["big_endian", "misaligned", "strided"])
@pytest.mark.parametrize("mode", MODES)
def test_shared_values_of_any_layout_compute_with_their_numbers(mode: str, layout: str) -> None:
    """A big-endian or misaligned shared value is converted by value on every way in (shared(),
    set_value with and without borrow, an unpickled function), never read as raw bytes."""
    import pickle

    values = np.array([0.5, 1.0, 2.0, 3.0])
    foreign = _foreign_layouts(values)
    x = ft.dvector("x")
    w = fc.shared(foreign[layout], name="w")
    f = fc.function([x], x * w, mode=mode)
    assert_same(f(np.ones(4)), values)
    for borrow in (False, True):
        w.set_value(_foreign_layouts(values * 2)[layout], borrow=borrow)
        assert_same(f(np.ones(4)), values * 2)
        stored = w.get_value(borrow=True)
        assert stored.dtype.isnative and stored.flags.aligned
    wb = fc.shared(foreign[layout], name="wb", borrow=True)
    assert_same(fc.function([x], x + wb, mode=mode)(np.zeros(4)), values)
    w.set_value(foreign[layout])
    g = pickle.loads(pickle.dumps(f))
    assert_same(g(np.ones(4)), values)
    s = fc.shared(np.array(2.5, dtype=">f8"), name="s")  # 0-d stays 0-d
    assert s.get_value().shape == ()
    assert_same(fc.function([x], x * s, mode=mode)(np.ones(2)), np.full(2, 2.5))


@pytest.mark.parametrize("mode", MODES)
def test_a_big_endian_scalar_input_stays_a_scalar(mode: str) -> None:
    s = ft.dscalar("s")
    out = fc.function([s], s * 2.0, mode=mode)(np.array(1.5, dtype=">f8"))
    assert out.shape == () and float(out) == 3.0
