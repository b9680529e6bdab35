"""``pool_2d`` and its gradients (`Pool`, `MaxPoolGrad`, `AveragePoolGrad`, `MaxPoolGradGrad`)
run as steps of the C run-time, not as calls into Python's perform: checked against the Python
linker (the same sums in the same order: the same bits) and against numpy loops for every mode,
window, stride and padding, ``ignore_border`` both ways, non-square inputs, leading dims, inputs
smaller than a window, non-contiguous inputs, NaN and infinities, float32 and float64; gradients
against finite differences; what the step leaves to numpy (integers, mixed dtypes) reaches the
op's perform, which gives the same result."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_program
from fncache.tensor.signal import pool
from fcutil import assert_same, compiled, fd_check_grads
from test_c_array_steps import _native
from test_c_shape_steps import _both, _kinds
from test_conv import F32, pool_reference

#: (ws, stride, pad): non-square windows, strides below, at and above the window, padding
GEOMETRIES = [
    ((1, 1), (1, 1), (0, 0)),
    ((2, 2), (2, 2), (0, 0)),
    ((2, 2), (1, 1), (1, 1)),
    ((3, 3), (2, 2), (1, 1)),
    ((3, 3), (3, 3), (2, 0)),
    ((3, 2), (2, 1), (0, 1)),
    ((2, 3), (3, 2), (1, 2)),
    ((1, 3), (2, 3), (0, 0)),
    ((4, 1), (1, 2), (3, 0)),
    ((2, 2), (3, 3), (0, 0)),
]
CASES = [
    (mode, ib, ws, st, pad)
    for mode in pool.MODES
    for ib in (True, False)
    for ws, st, pad in GEOMETRIES
    if ib or pad == (0, 0)
]
#: leading dims, then rows and cols: square, non-square, smaller than the windows, one entry
SHAPES = [(2, 3, 7, 8), (1, 1, 6, 6), (3, 2, 5, 11), (1, 2, 1, 3), (2, 1, 2, 2), (1, 1, 9, 4)]


def grad_reference(x, gz, ws, ignore_border, stride, pad, mode) -> np.ndarray:
    """The gradient of `pool_reference` for output gradient ``gz``, as loops: a max window's
    gradient to every entry equal to its max, a sum's to every entry, a mean's divided by the
    count the mean divides by."""
    z = pool_reference(x, ws, ignore_border, stride, pad, mode)
    v = [x.shape[-2 + d] + 2 * pad[d] for d in range(2)]
    g = np.zeros(x.shape, dtype="float64")
    for k in np.ndindex(*x.shape[:-2]):
        for ij in np.ndindex(*z.shape[-2:]):
            full, real = [], []
            for d in range(2):
                start, end = ij[d] * stride[d], min(ij[d] * stride[d] + ws[d], v[d])
                full.append(end - start)
                real.append(range(max(start, pad[d]) - pad[d], min(end, v[d] - pad[d]) - pad[d]))
            n = full[0] * full[1] if mode == "average_inc_pad" else len(real[0]) * len(real[1])
            for r, c in itertools.product(*real):
                if mode == "max":
                    g[k + (r, c)] += gz[k + ij] if x[k + (r, c)] == z[k + ij] else 0.0
                else:
                    g[k + (r, c)] += gz[k + ij] / (n if mode.startswith("average") else 1)
    return g


@compiled
def pool_fns(dtype: str) -> tuple:
    """The C and Python functions of every case: the pooling and its gradient for an output
    gradient ``gz`` (one input per case: the cases' outputs differ in shape)."""
    x = ft.tensor("x", dtype, 4)
    gzs = [ft.tensor(f"gz{k}", dtype, 4) for k in range(len(CASES))]
    outs = []
    for (m, ib, ws, st, pad), gz in zip(CASES, gzs):
        p = pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad, mode=m)
        outs += [p, fc.grad(ft.sum(p * gz), x)]
    return _both([x, *gzs], outs)


def _values(dtype: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    # distinct values, with ties now and then (so a max window holds its max twice)
    return (np.round(rng.standard_normal(shape) * 4) / 4 + rng.integers(0, 2, shape)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pooling_and_its_gradients_are_native_and_match_python_and_loops(dtype: str) -> None:
    c, py = pool_fns(dtype)
    kinds = _kinds(c)
    assert kinds.count(c_program.ST_POOL) == 2 * len(CASES)
    _native(c, "Pool")
    _native(c, "MaxPoolGrad")
    _native(c, "AveragePoolGrad")
    rng = np.random.default_rng(0)
    tol = F32 if dtype == "float32" else {}
    for shape in SHAPES:
        x = _values(dtype, shape, rng)
        wants = [pool_reference(x, ws, ib, st, pad, m) for m, ib, ws, st, pad in CASES]
        gzs = [rng.standard_normal(w.shape).astype(dtype) for w in wants]
        got_c, got_py = c(x, *gzs), py(x, *gzs)
        for k, (m, ib, ws, st, pad) in enumerate(CASES):
            what = f"{shape} mode={m} ignore_border={ib} ws={ws} stride={st} pad={pad}"
            for a, b in zip(got_c[2 * k : 2 * k + 2], got_py[2 * k : 2 * k + 2]):
                assert a.dtype == b.dtype == np.dtype(dtype), what
                np.testing.assert_array_equal(a, b, err_msg=what)  # the same operations in order
            with np.errstate(invalid="ignore", divide="ignore"):
                assert_same(got_c[2 * k], wants[k].astype(dtype), what, **tol)
                want_g = grad_reference(x, gzs[k], ws, ib, st, pad, m)
            assert_same(got_c[2 * k + 1], want_g.astype(dtype), "grad " + what, **tol)


def test_non_contiguous_inputs_and_other_ranks() -> None:
    x2, x3, x5 = ft.dmatrix("x2"), ft.ftensor3("x3"), ft.TensorType("float64", (None,) * 5)("x5")
    outs = [
        pool.pool_2d(x2, (2, 3), stride=(1, 2), mode="average_exc_pad", pad=(1, 1)),
        pool.pool_2d(x3, (3, 2), ignore_border=False, mode="sum"),
        pool.pool_2d(x5, (2, 2), stride=(1, 1)),
    ]
    outs.append(fc.grad(ft.sum(ft.sqr(outs[0])), x2))
    outs.append(fc.grad(ft.sum(ft.sqr(outs[2])), x5))
    c, py = _both([x2, x3, x5], outs)
    assert _kinds(c).count(c_program.ST_POOL) == 5
    rng = np.random.default_rng(1)
    base = rng.standard_normal((9, 12, 7))
    values = [
        base[:, ::2, 3].T,
        base.astype("float32").transpose(2, 0, 1)[:, ::-1],
        base.reshape(2, 3, 1, 18, 7)[..., ::2, :],
    ]
    assert not values[0].flags.c_contiguous and not values[1].flags.c_contiguous
    got_c, got_py = c(*values), py(*values)
    for a, b in zip(got_c, got_py):
        np.testing.assert_array_equal(a, b)
    assert_same(got_c[0], pool_reference(values[0], (2, 3), True, (1, 2), (1, 1), "average_exc_pad"))
    assert_same(got_c[1], pool_reference(values[1], (3, 2), False, None, (0, 0), "sum"), **F32)
    assert_same(got_c[2], pool_reference(values[2], (2, 2), True, (1, 1), (0, 0), "max"))


def test_nan_infinities_and_windows_over_padding_only() -> None:
    x = ft.dmatrix("x")
    p_max = pool.pool_2d(x, (2, 2), pad=(1, 1))
    outs = [p_max, pool.pool_2d(x, (2, 2), pad=(1, 1), mode="average_exc_pad"), fc.grad(ft.sum(p_max), x)]
    c, py = _both([x], outs)
    assert _kinds(c).count(c_program.ST_POOL) == 3
    xv = np.array([[np.nan, 1.0, -np.inf], [2.0, 0.5, -np.inf], [3.0, np.inf, -1.0]])
    for f in (c, py):
        with np.errstate(invalid="ignore"):
            mx, mean, g = f(xv)
        # a NaN wins its windows and gets no gradient (it equals nothing); padding never wins
        assert_same(mx, [[np.nan, 1.0], [3.0, np.inf]])
        assert_same(mean, [[np.nan, -np.inf], [2.5, np.nan]])  # (0.5 - inf) + inf: NaN
        assert_same(g, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    # no rows: a window over the padding only (a max of nothing, a mean of nothing)
    empty = np.zeros((0, 3))
    with np.errstate(invalid="ignore"):
        for got_c, got_py in zip(c(empty), py(empty)):
            np.testing.assert_array_equal(got_c, got_py)
    assert c(empty)[0].shape == (1, 2) and np.all(c(empty)[0] == -np.inf)


def test_leading_dims_of_size_zero_and_no_windows() -> None:
    x = ft.dtensor4("x")
    p = pool.pool_2d(x, (3, 3))
    c, py = _both([x], [p, fc.grad(ft.sum(p * 2.0), x)])
    for xv in (np.zeros((0, 2, 6, 6)), np.ones((2, 3, 2, 5)), np.ones((1, 1, 3, 3))):
        for got_c, got_py in zip(c(xv), py(xv)):
            assert got_c.shape == got_py.shape
            np.testing.assert_array_equal(got_c, got_py)
    assert c(np.ones((2, 3, 2, 5)))[0].shape == (2, 3, 0, 1)


def test_max_pool_gradient_of_the_gradient_is_native() -> None:
    x, z = ft.dtensor4("x"), ft.dtensor4("z")
    pooled = pool.pool_2d(x, (2, 3), stride=(1, 2), pad=(1, 1))
    gx = fc.grad(ft.sum(pooled * z), x)
    gz = fc.grad(ft.sum(gx * (x * 3.0 - 1.0)), z)  # no transcendental: C and numpy agree bitwise
    c, py = _both([x, z], [gx, gz])
    _native(c, "MaxPoolGradGrad")
    rng = np.random.default_rng(2)
    xv = np.round(rng.standard_normal((2, 2, 5, 6)) * 2) / 2  # ties
    zv = rng.standard_normal((2, 2, 6, 3))
    for a, b in zip(c(xv, zv), py(xv, zv)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", pool.MODES)
def test_native_gradients_against_finite_differences(mode: str) -> None:
    x = ft.dtensor4("x")
    cases = {
        f"{ws}-{st}-{pad}-{ib}": (
            lambda x, a=(ws, ib, st, pad): pool.pool_2d(x, a[0], a[1], a[2], a[3], mode),
            [0],
        )
        for ws, st, pad in GEOMETRIES[1:6]
        for ib in (True, False)
        if ib or pad == (0, 0)
    }
    rng = np.random.default_rng(3)
    # distinct values far apart: a step of 1e-6 never changes which entry is a window's max
    xv = rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) * 0.01 + rng.uniform(0, 1e-3, (2, 2, 7, 6))
    fd_check_grads([x], cases, [[xv]], mode="FAST_RUN")


def test_threads_give_the_single_thread_result() -> None:
    """A batch large enough for the step to split its planes over threads."""
    x = ft.ftensor4("x")
    p = pool.pool_2d(x, (3, 3), stride=(2, 2), pad=(1, 1), mode="average_inc_pad")
    outs = [p, fc.grad(ft.sum(p * p), x), pool.pool_2d(x, (2, 2))]
    with fc.config.change_flags(threads=2):
        c, py = _both([x], outs)
    xv = np.random.default_rng(4).standard_normal((16, 8, 24, 24)).astype("float32")
    for a, b in zip(c(xv), py(xv)):
        np.testing.assert_array_equal(a, b)


def test_what_the_step_leaves_to_numpy_matches() -> None:
    """Integer pooling and mixed dtypes run the op's perform from the step."""
    i4, f4, d4 = ft.itensor4("i"), ft.ftensor4("f"), ft.dtensor4("d")
    zf = ft.ftensor4("zf")
    mixed = pool.MaxPoolGrad((2, 2), (2, 2), (0, 0), True, "max")(f4, zf, d4)
    assert mixed.dtype == "float64"
    outs = [pool.pool_2d(i4, (2, 2), mode="sum"), pool.pool_2d(i4, (3, 2), stride=(1, 1)), mixed]
    c, py = _both([i4, f4, zf, d4], outs)
    assert _kinds(c).count(c_program.ST_POOL) == 3
    rng = np.random.default_rng(5)
    iv = rng.integers(-(2**31), 2**31 - 1, (2, 2, 5, 4), dtype="int32")
    fv = rng.standard_normal((1, 2, 4, 4)).astype("float32")
    zv = pool.Pool((2, 2), (2, 2), (0, 0), True, "max").perform(None, [fv])[0]
    dv = rng.standard_normal((1, 2, 2, 2))
    got_c, got_py = c(iv, fv, zv, dv), py(iv, fv, zv, dv)
    for a, b in zip(got_c, got_py):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert_same(
        got_c[0],
        iv[..., 0:4:2, 0:4:2] + iv[..., 0:4:2, 1:4:2] + iv[..., 1:4:2, 0:4:2] + iv[..., 1:4:2, 1:4:2],
    )
    assert_same(got_c[1], pool_reference(iv, (3, 2), True, (1, 1), (0, 0), "max"))
