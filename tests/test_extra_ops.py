"""The composed array functions (``roll diff tril triu broadcast_to nan_to_num sgn iround fill
identity_like batched_dot``) against numpy in both linkers over seeded random shapes, axes,
shifts and offsets; their gradients against finite differences; bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.shape_ops import Concatenate
from fcutil import DTYPES, MODES, assert_same, compiled, fd_check_grads, numpy_errstate, sample


@compiled
def extra_fn(dtype: str, mode: str):
    """One function per dtype and mode: shifts and offsets are symbolic (so random values need
    no new compile), axes are spelled out."""
    x, v = ft.tensor("x", dtype, 3), ft.tensor("v", dtype, 1)
    s, k = ft.lscalar("s"), ft.iscalar("k")
    outs = {
        "roll_flat": (lambda: ft.roll(x, s), lambda x, v, s, k: np.roll(x, s)),
        "roll_0": (lambda: ft.roll(x, s, 0), lambda x, v, s, k: np.roll(x, s, 0)),
        "roll_neg": (lambda: ft.roll(x, -s, axis=-1), lambda x, v, s, k: np.roll(x, -s, axis=-1)),
        "roll_const": (lambda: ft.roll(x, 7, 1), lambda x, v, s, k: np.roll(x, 7, 1)),
        "roll_axes": (lambda: ft.roll(x, (s, -2), (2, 0)), lambda x, v, s, k: np.roll(x, (s, -2), (2, 0))),
        "roll_vec": (lambda: ft.roll(v, s), lambda x, v, s, k: np.roll(v, s)),
        "diff": (lambda: ft.diff(x), lambda x, v, s, k: np.diff(x)),
        "diff_2_0": (lambda: ft.diff(x, 2, 0), lambda x, v, s, k: np.diff(x, 2, 0)),
        "diff_0": (lambda: ft.diff(x, 0, 1), lambda x, v, s, k: np.diff(x, 0, 1)),
        "diff_3_1": (lambda: ft.diff(x, n=3, axis=1), lambda x, v, s, k: np.diff(x, n=3, axis=1)),
        "tril": (lambda: ft.tril(x), lambda x, v, s, k: np.tril(x)),
        "tril_k": (lambda: ft.tril(x, k), lambda x, v, s, k: np.tril(x, k)),
        "triu_k": (lambda: ft.triu(x, k), lambda x, v, s, k: np.triu(x, k)),
        "triu_neg": (lambda: ft.triu(x, -1), lambda x, v, s, k: np.triu(x, -1)),
        "tril_vec": (lambda: ft.tril(v, k), lambda x, v, s, k: np.tril(v, k)),
        "broadcast_to": (
            lambda: ft.broadcast_to(v, (2, ft.abs(s) % 4, v.shape[0])),
            lambda x, v, s, k: np.broadcast_to(v, (2, abs(s) % 4, v.shape[0])),
        ),
        "broadcast_row": (
            lambda: ft.broadcast_to(x[:, :1], x.shape),
            lambda x, v, s, k: np.broadcast_to(x[:, :1], x.shape),
        ),
        "nan_to_num": (lambda: ft.nan_to_num(x), lambda x, v, s, k: np.nan_to_num(x)),
        "nan_to_num_args": (
            lambda: ft.nan_to_num(x, nan=-1.5, posinf=9.0, neginf=-9.0),
            lambda x, v, s, k: np.nan_to_num(x, nan=-1.5, posinf=9.0, neginf=-9.0),
        ),
        "sgn": (lambda: ft.sgn(x), lambda x, v, s, k: np.sign(x)),
        # NaN and inf converted to int64 differ by platform: they are taken out first
        "iround": (
            lambda: ft.iround(ft.nan_to_num(x, posinf=1e6, neginf=-1e6)),
            lambda x, v, s, k: np.round(np.nan_to_num(x, posinf=1e6, neginf=-1e6)).astype("int64"),
        ),
        "fill": (lambda: ft.fill(x, v[0]), lambda x, v, s, k: np.full_like(x, v[0])),
        "fill_number": (lambda: ft.fill(x, 3), lambda x, v, s, k: np.full_like(x, 3)),
        "identity_like": (
            lambda: ft.identity_like(x[0]),
            lambda x, v, s, k: np.eye(*x.shape[1:], dtype=x.dtype),
        ),
    }
    # numpy has no sign or rint loop for bool, and 3 is no bool
    skip = {"sgn", "iround", "fill_number"} if dtype == "bool" else set()
    outs = {name: (build(), ref) for name, (build, ref) in outs.items() if name not in skip}
    names = list(outs)
    f = fc.function([x, v, s, k], [outs[n][0] for n in names], mode=mode, on_unused_input="ignore")
    return f, names, {n: outs[n][1] for n in names}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_numpy_over_random_shapes(dtype: str, mode: str) -> None:
    f, names, refs = extra_fn(dtype, mode)
    rng = np.random.default_rng(DTYPES.index(dtype))
    for trial in range(6):
        shape = tuple(int(n) for n in rng.integers(0 if trial == 0 else 1, 6, size=3))
        big = sample(dtype, tuple(2 * n + 1 for n in shape), seed=trial)
        x = big[::2, ::-2, 1::2][: shape[0], : shape[1], : shape[2]]  # strided
        if dtype in ("float32", "float64"):
            x = x.copy()
            x[x == 1] = 2.5  # iround's halves: numpy rounds half to even, as does fncache
            x.flat[:: max(1, x.size // 3)] = 0.5
        v = sample(dtype, (int(rng.integers(1, 6)),), seed=trial + 50)
        s, k = np.int64(rng.integers(-9, 10)), np.int32(rng.integers(-4, 5))
        args = (x, v, s, k)
        for name, got in zip(names, f(*args)):
            with numpy_errstate():
                want = refs[name](*args)
            assert_same(got, want, f"{name} x{x.shape} v{v.shape} s={s} k={k}")


def test_roll_is_slices_and_tril_a_fused_select() -> None:
    """Composed, not new ops: roll concatenates two slices, tril is one fused C loop."""
    x = ft.dmatrix("x")
    f = fc.function([x], ft.exp(ft.tril(x, 1)) * 2)
    nodes = f.optimized_graph.toposort()
    assert [type(n.op).__name__ for n in nodes].count("Elemwise") == 1
    g = fc.function([x], ft.roll(x, 2, 1))
    assert any(isinstance(n.op, Concatenate) for n in g.optimized_graph.toposort())


@compiled
def batched_fn(mode: str):
    a1, a2, a3 = ft.dvector("a1"), ft.dmatrix("a2"), ft.dtensor3("a3")
    b2, b3 = ft.dmatrix("b2"), ft.dtensor3("b3")
    outs = {
        "vv": (ft.batched_dot(a2, b2), lambda a1, a2, a3, b2, b3: np.einsum("bi,bi->b", a2, b2)),
        "mm": (ft.batched_dot(a3, b3), lambda a1, a2, a3, b2, b3: np.einsum("bij,bjk->bik", a3, b3)),
        "mv": (ft.batched_dot(b3, a2), lambda a1, a2, a3, b2, b3: np.einsum("bij,bj->bi", b3, a2)),
        "vm": (ft.batched_dot(b2, a3), lambda a1, a2, a3, b2, b3: np.einsum("bi,bij->bj", b2, a3)),
        "sm": (ft.batched_dot(a1, a3), lambda a1, a2, a3, b2, b3: a1[:, None, None] * a3),
        "ms": (ft.batched_dot(a2, a1), lambda a1, a2, a3, b2, b3: a2 * a1[:, None]),
    }
    names = list(outs)
    f = fc.function([a1, a2, a3, b2, b3], [outs[n][0] for n in names], mode=mode)
    return f, names, {n: outs[n][1] for n in names}


@pytest.mark.parametrize("mode", MODES)
def test_batched_dot_against_einsum(mode: str) -> None:
    f, names, refs = batched_fn(mode)
    rng = np.random.default_rng(8)
    for _ in range(4):
        nb, n, m = (int(d) for d in rng.integers(1, 5, size=3))
        args = (
            rng.normal(size=nb),
            rng.normal(size=(nb, n)),
            rng.normal(size=(nb, n, m)),
            rng.normal(size=(nb, n)),
            rng.normal(size=(nb, m, n)).swapaxes(1, 2).swapaxes(1, 2),
        )
        for name, got in zip(names, f(*args)):
            assert_same(got, refs[name](*args), f"{name} nb={nb} n={n} m={m}", rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    x, y, v = ft.dmatrix("x"), ft.dtensor3("y"), ft.dvector("v")
    cases = {
        "roll": (lambda x, y, v: ft.roll(x, 3, 1) * x, [0]),
        "roll_flat": (lambda x, y, v: ft.roll(x, -1) * ft.roll(x, 2), [0]),
        "diff": (lambda x, y, v: ft.diff(x, 2, 0) * 3, [0]),
        "tril": (lambda x, y, v: ft.tril(x, -1) * x, [0]),
        "triu": (lambda x, y, v: ft.exp(ft.triu(x, 1)), [0]),
        "broadcast_to": (
            lambda x, y, v: ft.broadcast_to(v, (3, v.shape[0])) * ft.arange(3.0).dimshuffle(0, "x"),
            [2],
        ),
        "nan_to_num": (lambda x, y, v: ft.nan_to_num(x * 2), [0]),
        "fill": (lambda x, y, v: ft.fill(x, v), [2]),
        "batched_dot": (lambda x, y, v: ft.batched_dot(y, x), [0, 1]),
        "batched_vv": (lambda x, y, v: ft.batched_dot(x, x * 2), [0]),
    }
    rng = np.random.default_rng(2)
    values = [[rng.normal(size=(4, 3)), rng.normal(size=(4, 2, 3)), rng.normal(size=3)]]
    fd_check_grads([x, y, v], cases, values, mode=mode)


def test_nan_to_num_gradient_is_zero_where_not_finite() -> None:
    x = ft.dvector("x")
    g = fc.function([x], fc.grad(ft.sum(ft.nan_to_num(x) * 3), x))
    assert_same(g(np.array([1.0, np.nan, np.inf, -np.inf, -2.0])), np.array([3.0, 0, 0, 0, 3.0]))


def test_bad_arguments_name_the_function_what_was_given_and_the_fix() -> None:
    x, m = ft.dtensor3("x"), ft.dmatrix("m")
    cases = [
        (
            lambda: ft.roll(x, (1, 2), 0),
            ValueError,
            r"roll: 2 shifts \(1, 2\) for 1 axes \(0,\); give one shift per axis",
        ),
        (lambda: ft.roll(x, 1.5, 0), TypeError, r"roll: a shift must be an int or an int scalar, got 1.5"),
        (lambda: ft.roll(x, (1, 2)), ValueError, "roll: without an axis the shift must be one int"),
        (lambda: ft.roll(x, 1, 3), ValueError, "roll: axis 3 is out of bounds for a tensor of ndim 3"),
        (lambda: ft.diff(x, -1), ValueError, "diff: n must be a non-negative int, got -1"),
        (lambda: ft.diff(x, 1.0), TypeError, "diff: n must be a non-negative int, got 1.0"),
        (lambda: ft.diff(ft.dscalar("s")), ValueError, "diff: a 0-d tensor has no axis"),
        (lambda: ft.diff(x, 1, -4), ValueError, "diff: axis -4 is out of bounds"),
        (lambda: ft.tril(ft.dscalar("s")), ValueError, "tril: takes a tensor of 1 or more dims, got a 0-d"),
        (lambda: ft.triu(m, 0.5), TypeError, r"triu: k must be an int or an int scalar, got 0.5"),
        (lambda: ft.broadcast_to(x, (2, 3)), ValueError, r"broadcast_to: the shape \(2, 3\) has fewer dims"),
        (lambda: ft.broadcast_to(ft.tensor("t", "float64", shape=(3,)), (2, 4)), ValueError, "broadcast_to"),
        (lambda: ft.nan_to_num(m, nan=ft.dscalar("n")), TypeError, "nan_to_num: nan must be a Python number"),
        (lambda: ft.nan_to_num(ft.zvector("z")), TypeError, "nan_to_num: complex tensors are not supported"),
        (lambda: ft.identity_like(x), ValueError, "identity_like: takes a matrix, got"),
        (lambda: ft.batched_dot(ft.dscalar("s"), m), TypeError, "batched_dot: a must have a batch dim"),
        (
            lambda: ft.batched_dot(m, ft.dtensor4("t")),
            ValueError,
            "batched_dot: b has 4 dims.*use ft.tensordot",
        ),
    ]
    for build, exc, message in cases:
        with pytest.raises(exc, match=message):
            build()
    f = fc.function([v := ft.dvector("v"), n := ft.lscalar("n")], ft.broadcast_to(v, (n, 3)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        f(np.ones(4), 2)
