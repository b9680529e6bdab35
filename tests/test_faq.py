"""The behaviours the Theano FAQ documents: trust_input, f.fn(n_calls=N), Mode(linker='c'),
FAST_COMPILE, optimizer_excluding=inplace, optimizer_including=local_remove_all_assert,
float32 + int64 -> float64 with warn_float64, allow_gc=False with f.free(), as_op, assert_op."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.pyop import Assert
from fcutil import MODES, assert_same


@pytest.mark.parametrize("mode", MODES)
def test_trust_input(mode: str) -> None:
    x = ft.scalar("x")
    f = fc.function([x], x + 1.0, mode=mode)
    assert_same(f(10.0), np.array(11.0), "checked call")
    f.trust_input = True
    assert f.trust_input
    assert_same(f(np.array(10.0)), np.array(11.0), "trusted call")
    f.trust_input = False
    with pytest.raises(TypeError):
        f(np.array([1.0]))
    g = fc.function([x], x + 1.0, mode=mode, trust_input=True)
    assert g.trust_input
    assert_same(g(np.array(2.0)), np.array(3.0), "trust_input=True at compile time")


def test_trusted_compiled_code_never_reads_past_an_input():
    """trust_input promises exact inputs; compiled code still checks each one's dtype, rank and
    declared sizes (nanoseconds), converting or refusing as an untrusted call does: a kernel
    given an int32 array for a float64 input, or 2 elements for 5 declared, would read past the
    array's memory (garbage values, or a crash)."""
    x = ft.dvector("x")
    f = fc.function([x], x * 2, trust_input=True)
    v = np.arange(1000, dtype=np.int32)
    np.testing.assert_array_equal(f(v), v * 2.0)  # converted, as an untrusted call converts
    y = ft.TensorType("float64", (5,))("y")
    g = fc.function([y], y + 1, trust_input=True)
    with pytest.raises(TypeError, match="size 5"):
        g(np.zeros(2))
    m = ft.dmatrix("m")
    h = fc.function([m], ft.sum(m), trust_input=True)
    with pytest.raises(TypeError):
        h(np.zeros(3))  # rank 1 for rank 2


@pytest.mark.parametrize("mode", MODES)
def test_fn_repeats_last_call(mode: str) -> None:
    x = ft.vector("x")
    f = fc.function([x], ft.exp(x) * 2, mode=mode)
    with pytest.raises(RuntimeError, match="call"):
        f.fn()
    v = np.array([0.0, 1.0])
    first = f(v)
    again = f.fn()
    many = f.fn(n_calls=5)
    assert_same(again, first, "fn()")
    assert_same(many, first, "fn(n_calls=5)")


@pytest.mark.parametrize("mode", MODES)
def test_fn_applies_updates_n_times(mode: str) -> None:
    """With only shared variables, f.fn(n_calls=N) runs the update N times and returns the last
    outputs (computed from the value before the last update)."""
    c = fc.shared(np.array(0, dtype="int64"), name="c")
    f = fc.function([], c * 10, updates={c: c + 1}, mode=mode)
    assert f.fn() == 0 and c.get_value() == 1  # no inputs: fn() needs no earlier call
    assert f() == 10 and c.get_value() == 2
    out = f.fn(n_calls=5)
    assert c.get_value() == 7
    assert_same(out, np.array(60, dtype="int64"), "last of 5 calls")
    x = ft.vector("x")
    acc = fc.shared(np.zeros(2), name="acc")
    g = fc.function([x], acc.sum(), updates=[(acc, acc + x)], mode=mode)
    g(np.array([1.0, 2.0]))
    last = g.fn(n_calls=3)
    assert_same(acc.get_value(), np.array([4.0, 8.0]), "4 updates by x")
    assert_same(last, np.array(9.0), "sum before the 4th update")


@pytest.mark.parametrize("linker", ["c", "cvm", "py"])
def test_mode_linker(linker: str) -> None:
    x = ft.scalar("x")
    f = fc.function([x], (x + 1.0) * 2, mode=fc.Mode(linker=linker))
    assert_same(f(10.0), np.array(22.0), f"linker={linker}")


@pytest.mark.parametrize("optimizer", ["fast_run", "fast_compile", None])
@pytest.mark.parametrize("linker", ["c", "py"])
def test_mode_optimizers(linker: str, optimizer: str | None) -> None:
    x, y = ft.vector("x"), ft.vector("y")
    e = ft.log(ft.exp(x)) * 1 + ft.sqr(y) - x * y
    f = fc.function([x, y], e, mode=fc.Mode(linker=linker, optimizer=optimizer))
    xv, yv = np.array([0.5, -1.0, 2.0]), np.array([3.0, 0.0, -2.0])
    assert_same(f(xv, yv), np.log(np.exp(xv)) + yv * yv - xv * yv, f"{linker}/{optimizer}")


def test_fast_compile_needs_no_compiler() -> None:
    """FAST_COMPILE generates no native code: it works with no C compiler at all."""
    x = ft.matrix("x")
    e = ft.tanh(x) * 4.5 + ft.arctan(x).sum(axis=0)  # a graph not compiled elsewhere
    with fc.config.change_flags(cxx="/nonexistent/gcc"):
        f = fc.function([x], e, mode="FAST_COMPILE")
        v = np.arange(6.0).reshape(2, 3)
        assert_same(f(v), np.tanh(v) * 4.5 + np.arctan(v).sum(axis=0), "FAST_COMPILE")
        with fc.config.change_flags(mode="FAST_COMPILE"):
            assert_same(fc.function([x], e)(v), f(v), "config.mode=FAST_COMPILE")


def _has_inplace(f) -> bool:
    return any(n.op.destroy_map for n in f.optimized_graph.toposort())


def test_excluding_inplace_same_results() -> None:
    A, B = ft.matrix("A"), ft.matrix("B")
    e = ft.exp(A @ B) + 1.0
    e2 = ft.sum(ft.sqrt(ft.abs(B @ A)) * 2.0, axis=1)
    f = fc.function([A, B], [e, e2])
    g = fc.function([A, B], [e, e2], mode=fc.Mode().excluding("inplace"))
    h = fc.function([A, B], [e, e2], mode=fc.Mode(linker="c").excluding("inplace", "fusion"))
    assert _has_inplace(f), fc.debugprint(f)
    assert not _has_inplace(g) and not _has_inplace(h)
    a, b = np.random.default_rng(0).normal(size=(2, 30, 30))
    a_keep, b_keep = a.copy(), b.copy()
    for k in range(3):  # repeated calls: kept and reused buffers never leak between calls
        want = [np.exp(a @ b) + 1.0, np.sum(np.sqrt(np.abs(b @ a)) * 2.0, axis=1)]
        for fn in (f, g, h):
            for got, w in zip(fn(a, b), want):
                assert_same(got, w, f"call {k}", rtol=1e-12)
    assert_same(a, a_keep, "input A untouched")
    assert_same(b, b_keep, "input B untouched")


@pytest.mark.parametrize("mode", MODES)
def test_assert_op_and_local_remove_all_assert(mode: str) -> None:
    x = ft.vector("x")
    checked = ft.assert_op(x, ft.all(x > 0), "x must be positive")
    f = fc.function([x], ft.log(checked), mode=mode)
    assert_same(f(np.array([1.0, np.e])), np.array([0.0, 1.0]), "assert passes")
    with pytest.raises(AssertionError, match="x must be positive"):
        f(np.array([1.0, -1.0]))
    base = fc.Mode() if mode == "FAST_RUN" else fc.Mode(linker="py", optimizer="fast_compile")
    g = fc.function([x], ft.log(checked), mode=base.including("local_remove_all_assert"))
    assert not any(isinstance(n.op, Assert) for n in g.optimized_graph.toposort())
    with np.errstate(invalid="ignore"):
        out = g(np.array([1.0, -1.0]))
    assert out[0] == 0.0 and np.isnan(out[1])
    assert any(isinstance(n.op, Assert) for n in f.optimized_graph.toposort())


@pytest.mark.parametrize("mode", MODES)
def test_float32_plus_int64_is_float64(mode: str) -> None:
    x = ft.vector("x", "float32")
    n = ft.scalar("n", "int64")
    with fc.config.change_flags(warn_float64="ignore"):
        e = x + n
    assert e.dtype == "float64"
    f = fc.function([x, n], e, mode=mode)
    assert_same(f(np.array([1.5], "float32"), 2), np.array([3.5]), "float32 + int64")
    with fc.config.change_flags(warn_float64="warn"):
        with pytest.warns(UserWarning, match="float64"):
            x + n
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x + 1  # a Python int keeps float32: no warning
            x * ft.cast(n, "float32")
    with fc.config.change_flags(warn_float64="raise"):
        with pytest.raises(fc.Float64Error, match="add"):
            x + n
        with pytest.raises(fc.Float64Error, match="mean"):
            ft.mean(ft.vector("i", "int32"))
        with pytest.raises(fc.Float64Error, match="true_div"):
            ft.vector("j", "int32") / 2
        ft.dvector("d") + n  # float64 inputs already: allowed
    assert issubclass(fc.Float64Error, fc.FncacheError)


@pytest.mark.parametrize("mode", MODES)
def test_allow_gc_false_and_free(mode: str) -> None:
    x, y = ft.matrix("x"), ft.matrix("y")
    e = [ft.exp(x @ y) * 2, (x @ y).sum(axis=0)]
    with fc.config.change_flags(allow_gc=False):
        f = fc.function([x, y], e, mode=mode)
    rng = np.random.default_rng(1)
    results = []
    for shape in [(3, 4, 5), (3, 4, 5), (2, 2, 2), (3, 4, 5)]:
        a, b = rng.normal(size=shape[:2]), rng.normal(size=shape[1:])
        out = f(a, b)
        results.append((out, [np.exp(a @ b) * 2, (a @ b).sum(axis=0)]))
    for k, (got, want) in enumerate(results):  # earlier outputs were not overwritten
        for g, w in zip(got, want):
            assert_same(g, w, f"call {k}")
    f.free()
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    for g, w in zip(f(a, b), [np.exp(a @ b) * 2, (a @ b).sum(axis=0)]):
        assert_same(g, w, "after free()")
    f.free()
    f.free()


@pytest.mark.parametrize("mode", MODES)
def test_as_op_lambda_and_closure(mode: str) -> None:
    dv = ft.dvector().type
    double = ft.as_op([dv], [dv])(lambda a: a * 2)
    scale = 3.0

    def make(k: float):
        @ft.as_op(itypes=[dv, dv], otypes=[dv, ft.dscalar().type])
        def combine(a: np.ndarray, b: np.ndarray):
            return a * k + b * scale, np.float64(a.sum())

        return combine

    combine = make(0.5)
    x, y = ft.dvector("x"), ft.dvector("y")
    c, s = combine(double(x), y)
    f = fc.function([x, y], [ft.exp(c), s + 1, double(x)], mode=mode)
    xv, yv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    out = f(xv, yv)
    assert_same(out[0], np.exp(xv * 2 * 0.5 + yv * 3.0), "closure output")
    assert_same(out[1], np.array(xv.sum() * 2 + 1), "second output")
    assert_same(out[2], xv * 2, "lambda")
    ident = ft.as_op([dv], [dv])(lambda a: a)  # returns its input: output must not alias it
    g = fc.function([x], ident(x), mode=mode)
    got = g(xv)
    assert not np.shares_memory(got, xv)
    with pytest.raises(TypeError):
        double(ft.fvector("f"))
    bad = ft.as_op([dv], [dv])(lambda a: a.reshape(1, -1))
    h = fc.function([x], bad(x), mode=mode)
    with pytest.raises(TypeError, match="ndim"):
        h(xv)
