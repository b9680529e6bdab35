"""Convolution (``ft.nnet.conv2d``) and pooling (``ft.signal.pool.pool_2d``) against plain
numpy loops in both linkers: every border mode, stride, dilation and flip, every pooling mode
with and without the border, strides and padding; gradients and gradients of gradients against
central finite differences; errors naming the function; a LeNet-style network trained by SGD
step for step against the same network written in numpy; a cache hit in a fresh process and
pickles."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.signal import pool
from fcutil import (
    MODES,
    assert_pickles_round_trip,
    assert_same,
    in_tests_dir,
    compiled,
    assert_second_process_compiles_nothing,
    fd_check_grads,
)
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: F401  (emulated: a fixture)

F32 = dict(rtol=2e-5, atol=2e-5)  # float32 sums of up to a few hundred products


# -- numpy references: plain loops --------------------------------------------------------------
def _span(k: int, d: int) -> int:
    return (k - 1) * d + 1


def conv_reference(x, w, border, stride=(1, 1), dilation=(1, 1), flip=True) -> np.ndarray:
    """Theano's conv2d written as loops over every output entry and filter tap."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    spans = [_span(w.shape[2 + d], dilation[d]) for d in range(2)]
    if border == "valid":
        pad = (0, 0)
    elif border == "full":
        pad = (spans[0] - 1, spans[1] - 1)
    elif border == "half":
        pad = (spans[0] // 2, spans[1] // 2)
    else:
        pad = (border, border) if isinstance(border, int) else border
    xp = np.pad(x.astype("float64"), ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2))
    out_shape = [(xp.shape[2 + d] - spans[d]) // stride[d] + 1 for d in range(2)]
    out = np.zeros((x.shape[0], w.shape[0], *out_shape))
    for b, f, i, j in itertools.product(range(x.shape[0]), range(w.shape[0]), *map(range, out_shape)):
        for c, u, v in itertools.product(*map(range, w.shape[1:])):
            out[b, f, i, j] += (
                xp[b, c, i * stride[0] + u * dilation[0], j * stride[1] + v * dilation[1]] * w[f, c, u, v]
            )
    return out


def pool_reference(x, ws, ignore_border, stride, pad, mode) -> np.ndarray:
    """Theano's Pool.perform written as loops: windows clipped to the padded input, padding
    excluded but for average_inc_pad."""
    stride = stride or ws
    v = [x.shape[-2 + d] + 2 * pad[d] for d in range(2)]

    def count(v: int, w: int, s: int) -> int:
        if ignore_border:
            return max(0, (v - w) // s + 1)
        return (v - 1) // s + 1 if s >= w else max(0, (v - 1 - w + s) // s) + 1

    out_shape = [count(v[d], ws[d], stride[d]) for d in range(2)]
    y = np.zeros(x.shape[:-2] + tuple(v), dtype=x.dtype)
    y[..., pad[0] : pad[0] + x.shape[-2], pad[1] : pad[1] + x.shape[-1]] = x
    out = np.zeros(x.shape[:-2] + tuple(out_shape), dtype=x.dtype)
    reduce = {"max": np.max, "sum": np.sum}.get(mode, np.mean)
    for k in np.ndindex(*x.shape[:-2]):
        for ij in np.ndindex(*out_shape):
            region = []
            for d in range(2):
                start, end = ij[d] * stride[d], min(ij[d] * stride[d] + ws[d], v[d])
                if mode != "average_inc_pad":
                    start, end = max(start, pad[d]), min(end, v[d] - pad[d])
                region.append(slice(start, end))
            out[k + ij] = reduce(y[k][region[0], region[1]])
    return out


# -- convolution values ---------------------------------------------------------------------------
BORDERS = ["valid", "full", "half", 1, (2, 1)]
CONV_CASES = [
    (border, stride, dilation, flip)
    for border in BORDERS
    for stride in [(1, 1), (2, 3)]
    for dilation in [(1, 1), (2, 1)]
    for flip in [True, False]
]


@compiled
def conv_fn(dtype: str, mode: str):
    x, w = ft.tensor("x", dtype, 4), ft.tensor("w", dtype, 4)
    outs = [
        ft.nnet.conv2d(x, w, border_mode=b, subsample=s, filter_flip=f, filter_dilation=d)
        for b, s, d, f in CONV_CASES
    ]
    return fc.function([x, w], outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv2d_against_loops(dtype: str, mode: str) -> None:
    f = conv_fn(dtype, mode)
    rng = np.random.default_rng(3)
    for xs, ws in [((2, 3, 7, 8), (4, 3, 3, 2)), ((1, 1, 6, 5), (2, 1, 1, 3)), ((3, 2, 9, 9), (1, 2, 4, 4))]:
        x, w = rng.normal(size=xs).astype(dtype), rng.normal(size=ws).astype(dtype)
        for got, (b, s, d, flip) in zip(f(x, w), CONV_CASES):
            want = conv_reference(x, w, b, s, d, flip).astype(dtype)
            tol = F32 if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
            assert_same(got, want, f"{xs} {ws} border={b} stride={s} dilation={d} flip={flip}", **tol)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_and_its_gradients_of_infinities_warn_of_nothing(mode: str) -> None:
    """Infinities times zeros in the images and filters: the loops' NaNs, and no
    floating-point warning from the convolution or its gradients (as from the compiled
    kernels), nor an error under np.errstate(all="raise")."""
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    y = ft.nnet.conv2d(x, w, border_mode="half")
    f = fc.function([x, w], [y, *fc.grad(ft.sum(y * y), [x, w])], mode=mode)
    pick = np.array([1.0, 0.0, np.inf, -np.inf, np.nan, 2.0])
    rng = np.random.default_rng(5)
    xv, wv = pick[rng.integers(0, 6, (2, 2, 5, 4))], pick[rng.integers(0, 6, (3, 2, 3, 3))]
    with np.errstate(all="ignore"):
        want = conv_reference(xv, wv, "half")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            got = f(xv, wv)
    assert np.isnan(want).any() and np.isnan(got[1]).any() and np.isnan(got[2]).any()
    np.testing.assert_array_equal(got[0], want)


def test_conv2d_against_scipy() -> None:
    from scipy import signal  # the reference (a test dependency)

    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    f = fc.function(
        [x, w],
        [
            ft.nnet.conv2d(x, w, border_mode=b, filter_flip=flip)
            for b in ("valid", "full")
            for flip in (True, False)
        ],
    )
    rng = np.random.default_rng(4)
    xv, wv = rng.normal(size=(2, 3, 8, 7)), rng.normal(size=(4, 3, 3, 4))
    got = f(xv, wv)
    k = 0
    for b in ("valid", "full"):
        for fn in (signal.convolve2d, signal.correlate2d):
            want = np.array(
                [[sum(fn(xv[n, c], wv[o, c], mode=b) for c in range(3)) for o in range(4)] for n in range(2)]
            )
            np.testing.assert_allclose(got[k], want, rtol=1e-12, atol=1e-12, err_msg=f"{b} {fn.__name__}")
            k += 1


def test_conv2d_static_shapes_and_dtypes() -> None:
    x, w = ft.TensorType("float32", (500, 1, 28, 28))("x"), ft.TensorType("float32", (20, 1, 5, 5))("w")
    assert ft.nnet.conv2d(x, w).type.shape == (500, 20, 24, 24)
    assert ft.nnet.conv2d(x, w).dtype == "float32"
    assert ft.nnet.conv2d(x, w, border_mode="full").type.shape == (500, 20, 32, 32)
    assert ft.nnet.conv2d(x, w, border_mode="half", subsample=(2, 2)).type.shape == (500, 20, 14, 14)
    assert ft.nnet.conv2d(x, w, border_mode=(1, 2), filter_dilation=(2, 1)).type.shape == (500, 20, 22, 28)
    # shapes declared by the hints, checked when the function runs
    y, v = ft.ftensor4("y"), ft.ftensor4("v")
    out = ft.nnet.conv2d(y, v, input_shape=(None, 20, 12, 12), filter_shape=(50, 20, 5, 5))
    assert out.type.shape == (None, 50, 8, 8)
    f = fc.function([y, v], out)
    with pytest.raises(ValueError):
        f(np.zeros((2, 20, 13, 12), "float32"), np.zeros((50, 20, 5, 5), "float32"))
    # float64 wins, integers become float64
    assert ft.nnet.conv2d(ft.ftensor4(), ft.dtensor4()).dtype == "float64"
    assert ft.nnet.conv2d(ft.itensor4(), ft.ftensor4()).dtype == "float64"


# -- pooling values --------------------------------------------------------------------------------
POOL_GEOMETRIES = [
    ((2, 2), None, (0, 0)),
    ((3, 2), (1, 2), (0, 0)),
    ((2, 3), (3, 1), (0, 0)),
    ((3, 3), (2, 2), (1, 2)),
    ((2, 3), (3, 1), (1, 0)),
]
POOL_CASES = [
    (mode, ib, ws, st, pad)
    for mode in pool.MODES
    for ib in (True, False)
    for ws, st, pad in POOL_GEOMETRIES
    if ib or pad == (0, 0)
]


@compiled
def pool_fn(dtype: str, mode: str):
    x = ft.tensor("x", dtype, 3)
    outs = [
        pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad, mode=m) for m, ib, ws, st, pad in POOL_CASES
    ]
    return fc.function([x], outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pool_2d_against_loops(dtype: str, mode: str) -> None:
    f = pool_fn(dtype, mode)
    rng = np.random.default_rng(5)
    for shape in [(2, 7, 8), (1, 6, 6), (3, 4, 9), (1, 2, 2)]:
        x = rng.normal(size=shape).astype(dtype)
        for got, (m, ib, ws, st, pad) in zip(f(x), POOL_CASES):
            want = pool_reference(x, ws, ib, st, pad, m)
            what = f"{shape} mode={m} ignore_border={ib} ws={ws} stride={st} pad={pad}"
            assert_same(got, want, what, **(F32 if dtype == "float32" else {}))


def test_pool_2d_on_any_number_of_dims_and_static_shapes() -> None:
    m, t4 = ft.dmatrix("m"), ft.TensorType("float64", (2, 3, 9, 8))("t4")
    assert pool.pool_2d(t4, (2, 2)).type.shape == (2, 3, 4, 4)
    assert pool.pool_2d(t4, (2, 3), ignore_border=False).type.shape == (2, 3, 5, 3)
    assert ft.signal.pool.pool_2d(t4, (3, 3), stride=(1, 2), pad=(1, 1)).type.shape == (2, 3, 9, 4)
    i5 = ft.TensorType("int32", (None,) * 5)("i5")
    f = fc.function(
        [m, i5], [pool.pool_2d(m, (2, 2), ignore_border=False), pool.pool_2d(i5, (2, 1), mode="sum")]
    )
    mv = np.arange(15.0).reshape(3, 5)
    iv = np.arange(2 * 3 * 2 * 5 * 4, dtype="int32").reshape(2, 3, 2, 5, 4)
    got_m, got_i = f(mv, iv)
    assert_same(got_m, pool_reference(mv, (2, 2), False, None, (0, 0), "max"))
    assert_same(got_i, iv[..., 0:4:2, :] + iv[..., 1:4:2, :])
    # integer maxima: padding (the dtype's lowest value) never wins, a partial last window
    i3 = ft.itensor3("i3")
    g = fc.function(
        [i3], [pool.pool_2d(i3, (2, 3), pad=(1, 2)), pool.pool_2d(i3, (3, 2), ignore_border=False)]
    )
    iv3 = np.random.default_rng(13).integers(-(2**31), -(2**31) + 5, size=(2, 5, 7)).astype("int32")
    for got, args in zip(g(iv3), [((2, 3), True, None, (1, 2)), ((3, 2), False, None, (0, 0))]):
        assert_same(got, pool_reference(iv3, *args, "max"))
    # windows larger than the input: no output with ignore_border
    assert pool.pool_2d(ft.TensorType("float64", (1, 1))("s"), (2, 2)).type.shape == (0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_grouped_conv2d_against_a_convolution_per_group(mode: str) -> None:
    """Theano 1.0's ``num_groups``: the channels and the filters split into that many groups,
    each group of filters convolving its group of channels; values, gradients and errors."""
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    rng = np.random.default_rng(21)
    xv, wv = rng.normal(size=(2, 6, 5, 6)), rng.normal(size=(4, 3, 3, 2))
    y = ft.nnet.conv2d(x, w, border_mode=(1, 0), subsample=(2, 1), num_groups=2)
    ys = ft.nnet.conv2d(
        x, w, input_shape=(2, 6, 5, 6), filter_shape=(4, 3, 3, 2), border_mode="half", num_groups=2
    )
    assert ys.type.shape == (2, 4, 5, 7)  # "half" pads an even filter of 2 by 1
    f = fc.function([x, w], [y, ys], mode=mode)
    got, got_s = f(xv, wv)
    for out, border, stride in [(got, (1, 0), (2, 1)), (got_s, "half", (1, 1))]:
        want = np.concatenate(
            [
                conv_reference(xv[:, 3 * g : 3 * g + 3], wv[2 * g : 2 * g + 2], border, stride)
                for g in range(2)
            ],
            axis=1,
        )
        assert_same(out, want, f"groups {border}")
    uneven = ft.nnet.conv2d(x, w[:, :1], num_groups=6)  # 4 filters do not split into 6 groups
    with pytest.raises(AssertionError, match=r"conv2d: num_groups=6 must divide the number of filters"):
        fc.function([x, w], uneven, mode=mode)(xv, wv)
    with pytest.raises(AssertionError, match=r"conv2d: the input's channels are not num_groups=3 groups"):
        fc.function([x, w], ft.nnet.conv2d(x, w[:3], num_groups=3), mode=mode)(xv, wv)
    with pytest.raises(ValueError, match=r"conv2d: the input .* has 5 channels but num_groups=2 groups"):
        ft.nnet.conv2d(
            ft.TensorType("float64", (None, 5, None, None))(), w, filter_shape=(4, 3, 3, 2), num_groups=2
        )
    with pytest.raises(ValueError, match=r"conv2d: num_groups"):
        ft.nnet.conv2d(x, w, num_groups=0)
    cases = {"groups": (lambda x, w: ft.nnet.conv2d(x, w, border_mode="full", num_groups=3), [0, 1])}
    fd_check_grads([x, w], cases, [[rng.normal(size=(2, 3, 4, 3)), rng.normal(size=(3, 1, 2, 2))]], mode=mode)
    x5, w5 = ft.dtensor5("x5"), ft.dtensor5("w5")
    x5v, w5v = rng.normal(size=(1, 4, 3, 4, 3)), rng.normal(size=(2, 2, 2, 2, 2))
    y3 = fc.function([x5, w5], ft.nnet.conv3d(x5, w5, num_groups=2), mode=mode)(x5v, w5v)
    want3 = fc.function([x5, w5], ft.nnet.conv3d(x5, w5), mode=mode)
    for g in range(2):
        assert_same(y3[:, g : g + 1], want3(x5v[:, 2 * g : 2 * g + 2], w5v[g : g + 1]), "conv3d groups")


def test_get_conv_output_shape_is_the_shape_conv2d_gives() -> None:
    """Theano's ``abstract_conv.get_conv_output_shape`` and ``get_conv_shape_1axis``, as code
    sizing the layer after a convolution calls them: ints, None where unknown, and symbolic
    sizes."""
    from fncache.tensor.nnet.abstract_conv import get_conv_output_shape, get_conv_shape_1axis

    rng = np.random.default_rng(3)
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    xv, wv = rng.normal(size=(2, 2, 7, 8)), rng.normal(size=(3, 2, 3, 2))
    for border, stride, dilation, _ in CONV_CASES[::2]:
        got = fc.function(
            [x, w], ft.nnet.conv2d(x, w, border_mode=border, subsample=stride, filter_dilation=dilation)
        )
        shape = get_conv_output_shape(xv.shape, wv.shape, border, stride, dilation)
        assert got(xv, wv).shape == shape, (border, stride, dilation)
    assert get_conv_output_shape((None, 2, 7, None), (3, 2, 3, 2), "valid", (1, 1)) == (None, 3, 5, None)
    assert get_conv_shape_1axis(7, 3, "full", 2) == 5 and get_conv_shape_1axis(7, 3, (2, 1), 1, 2) == 6
    n = ft.lscalar("n")
    sym = get_conv_output_shape((2, 2, n, 8), (3, 2, 3, 2), "half", (2, 1), (1, 2))
    assert fc.function([n], sym[2])(9) == 5 and sym[3] == 8
    with pytest.raises(ValueError, match=r"get_conv_shape_1axis: border_mode must be"):
        get_conv_shape_1axis(7, 3, "same", 1)


def test_pool_2d_and_pool_3d_take_theanos_older_argument_names() -> None:
    """Theano 1.0's ``pool_2d``/``pool_3d`` still took ``ds``, ``st`` and ``padding`` (its
    0.8 names, as the LeNet tutorial of that time calls them), with a DeprecationWarning."""
    t4 = ft.TensorType("float64", (2, 3, 9, 8))("t4")
    with pytest.warns(DeprecationWarning, match=r"pool_2d: '\w+' is Theano's older name") as seen:
        old = pool.pool_2d(t4, ds=(3, 3), st=(1, 2), padding=(1, 1), ignore_border=True)
    assert [str(w.message).split("'")[1] for w in seen] == ["ds", "st", "padding"]
    new = pool.pool_2d(t4, ws=(3, 3), stride=(1, 2), pad=(1, 1), ignore_border=True)
    assert old.owner.op == new.owner.op
    t5 = ft.dtensor5("t5")
    with pytest.warns(DeprecationWarning, match=r"pool_3d: 'st' is Theano's older name for 'stride'"):
        old3 = pool.pool_3d(t5, (2, 2, 2), st=(1, 1, 1))
    xv = np.random.default_rng(2).normal(size=(1, 2, 3, 4, 5))
    want = fc.function([t5], pool.pool_3d(t5, (2, 2, 2), stride=(1, 1, 1)))(xv)
    np.testing.assert_array_equal(fc.function([t5], old3)(xv), want)
    with pytest.raises(TypeError, match=r"pool_2d: give the window size as ws or ds, not both"):
        pool.pool_2d(t4, (2, 2), ds=(2, 2))
    with pytest.raises(TypeError, match=r"pool_2d: give the window size ws, e.g. ws=\(2, 2\)"):
        pool.pool_2d(t4)
    with pytest.raises(TypeError, match=r"pool_3d: give the padding as pad or padding, not both"):
        pool.pool_3d(t5, (2, 2, 2), pad=(1, 1, 1), padding=(1, 1, 1))


# -- gradients ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_conv2d_gradients_against_finite_differences(mode: str) -> None:
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    cases = {
        f"{b}-{s}-{d}-{flip}": (
            lambda x, w, b=b, s=s, d=d, flip=flip: ft.nnet.conv2d(
                x, w, border_mode=b, subsample=s, filter_dilation=d, filter_flip=flip
            ),
            [0, 1],
        )
        for b, s, d, flip in CONV_CASES[::3]
    }
    rng = np.random.default_rng(6)
    values = [[rng.normal(size=(2, 2, 6, 7)), rng.normal(size=(3, 2, 3, 2))]]
    fd_check_grads([x, w], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_second_derivatives_against_finite_differences(mode: str) -> None:
    """The gradient ops' own gradients: the gradient of a cost with respect to the filters and
    to the images, as functions of both, checked against finite differences."""
    x, w, t = ft.dtensor4("x"), ft.dtensor4("w"), ft.dtensor4("t")

    def grads(x, w, t, wrt):
        out = ft.nnet.conv2d(x, w, border_mode=(1, 0), subsample=(2, 1), filter_dilation=(1, 2))
        return fc.grad(ft.sum(ft.sqr(out) * t), [x, w][wrt])

    cases = {
        "d/dx": (lambda x, w, t: grads(x, w, t, 0), [0, 1, 2]),
        "d/dw": (lambda x, w, t: grads(x, w, t, 1), [0, 1, 2]),
    }
    rng = np.random.default_rng(7)
    values = [[rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(2, 2, 2, 2)), rng.normal(size=(2, 2, 3, 4))]]
    fd_check_grads([x, w, t], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_pool_2d_gradients_against_finite_differences(mode: str) -> None:
    x, y = ft.dtensor3("x"), ft.dtensor3("y")
    cases = {}
    for m, ib, ws, st, pad in POOL_CASES:
        name = f"{m}-{ib}-{ws}-{st}-{pad}"
        cases[name] = (
            lambda x, y, a=(ws, ib, st, pad, m): pool.pool_2d(x, a[0], a[1], a[2], a[3], a[4]),
            [0],
        )
        if m != "max":
            # the gradient of the gradient: linear in the output gradient y
            cases["grad " + name] = (
                lambda x, y, a=(ws, ib, st, pad, m): fc.grad(
                    ft.sum(pool.pool_2d(x, a[0], a[1], a[2], a[3], a[4]) ** 2), x
                ),
                [0],
            )
    rng = np.random.default_rng(8)
    # distinct values far apart, so a step of 1e-6 never changes which entry is a window's max
    values = [
        [
            rng.permutation(2 * 7 * 8).reshape(2, 7, 8) * 0.01 + rng.uniform(0, 1e-3, (2, 7, 8)),
            rng.normal(size=(2, 7, 8)),
        ]
    ]
    fd_check_grads([x, y], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_max_pool_gradient_of_the_gradient(mode: str) -> None:
    """MaxPoolGrad is linear in the output gradient; its gradient (MaxPoolGradGrad) against
    finite differences, and the gradient of that again."""
    x, z = ft.dtensor4("x"), ft.dtensor4("z")
    pooled = pool.pool_2d(x, (2, 3), stride=(1, 2), pad=(1, 1))
    gx = fc.grad(ft.sum(pooled * z), x)  # MaxPoolGrad(x, pooled, z)
    gz = fc.grad(ft.sum(gx * ft.sin(x)), z)  # MaxPoolGradGrad
    cases = {"maxpoolgrad": (lambda x, z: gx, [1]), "maxpoolgradgrad": (lambda x, z: gz * gz, [1])}
    rng = np.random.default_rng(9)
    xv = rng.permutation(2 * 5 * 6).reshape(1, 2, 5, 6) * 0.01
    fd_check_grads([x, z], cases, [[xv, rng.normal(size=(1, 2, 6, 3))]], mode=mode)


def test_max_pool_ties_all_get_the_gradient() -> None:
    """As Theano's MaxPoolGrad: every entry equal to its window's max gets the whole gradient;
    padding is never a max."""
    x = ft.dmatrix("x")
    g = fc.function([x], fc.grad(ft.sum(pool.pool_2d(x, (2, 2), pad=(1, 1)) * 3.0), x))
    xv = np.array([[1.0, 1.0, 0.0], [1.0, -5.0, 2.0], [2.0, 2.0, -1.0]])
    want = np.zeros_like(xv)
    out = pool_reference(xv, (2, 2), True, None, (1, 1), "max")
    for i, j in np.ndindex(*out.shape):
        for r, c in itertools.product(range(2 * i - 1, 2 * i + 1), range(2 * j - 1, 2 * j + 1)):
            if 0 <= r < 3 and 0 <= c < 3 and xv[r, c] == out[i, j]:
                want[r, c] += 3.0
    # the last window holds 2.0 twice: both entries get the gradient
    assert want.tolist() == [[3.0, 3.0, 0.0], [0.0, 0.0, 3.0], [3.0, 3.0, 0.0]]
    assert_same(g(xv), want)
    neg = -np.ones((3, 3))
    assert_same(g(neg), np.full((3, 3), 3.0))  # all -1: padding (0 would beat it) never counts


def test_float32_gradients_stay_float32() -> None:
    x, w = ft.ftensor4("x"), ft.ftensor4("w")
    cost = ft.sum(pool.pool_2d(ft.tanh(ft.nnet.conv2d(x, w)), (2, 2), mode="average_exc_pad"))
    gs = fc.grad(cost, [x, w])
    assert [g.dtype for g in gs] == ["float32", "float32"]
    outs = fc.function([x, w], gs)(np.ones((2, 1, 6, 6), "float32"), np.ones((3, 1, 3, 3), "float32"))
    assert [o.dtype for o in outs] == [np.float32, np.float32]


# -- errors --------------------------------------------------------------------------------------
def test_bad_arguments_name_the_function_and_the_fix() -> None:
    x4, w4 = ft.dtensor4("x"), ft.dtensor4("w")
    with pytest.raises(TypeError, match=r"conv2d: input must be a 4-d tensor.*got .*3 dims.*reshape"):
        ft.nnet.conv2d(ft.dtensor3(), w4)
    with pytest.raises(TypeError, match=r"conv2d: filters must be a 4-d tensor"):
        ft.nnet.conv2d(x4, ft.dmatrix())
    with pytest.raises(ValueError, match=r"conv2d: input .* has 3 channels but filters .* expect 2"):
        ft.nnet.conv2d(
            ft.TensorType("float64", (None, 3, None, None))(), ft.TensorType("float64", (4, 2, 3, 3))()
        )
    with pytest.raises(
        ValueError, match=r"conv2d: the filters .* larger than the images padded to 4x4.*'full'"
    ):
        ft.nnet.conv2d(ft.TensorType("float64", (1, 1, 4, 4))(), ft.TensorType("float64", (1, 1, 5, 5))())
    for bad in ("same", -1, (1, 2, 3), 1.5, True):
        with pytest.raises(ValueError, match=r"conv2d: border_mode must be 'valid', 'full', 'half'"):
            ft.nnet.conv2d(x4, w4, border_mode=bad)
    with pytest.raises(ValueError, match=r"conv2d: subsample must be a pair of ints >= 1.*got \(0, 1\)"):
        ft.nnet.conv2d(x4, w4, subsample=(0, 1))
    with pytest.raises(ValueError, match=r"conv2d: filter_dilation must be a pair"):
        ft.nnet.conv2d(x4, w4, filter_dilation=(1,))
    with pytest.raises(ValueError, match=r"conv2d: input_shape=\(1, 2, 3, 3\) contradicts"):
        ft.nnet.conv2d(ft.TensorType("float64", (1, 2, 4, 4))(), w4, input_shape=(1, 2, 3, 3))
    with pytest.raises(TypeError, match=r"pool_2d: input must have 2 or more dims.*got .*1 dims"):
        pool.pool_2d(ft.dvector(), (2, 2))
    for bad in ((0, 2), (2,), 2.0, "2"):
        with pytest.raises(ValueError, match=r"pool_2d: ws must be a pair of ints >= 1"):
            pool.pool_2d(x4, bad)
    with pytest.raises(ValueError, match=r"pool_2d: mode must be one of 'max', 'sum'.*got 'mean'"):
        pool.pool_2d(x4, (2, 2), mode="mean")
    with pytest.raises(ValueError, match=r"pool_2d: pad=\(1, 1\) needs ignore_border=True"):
        pool.pool_2d(x4, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match=r"pool_2d: pad=\(2, 0\) must be smaller than ws=\(2, 2\)"):
        pool.pool_2d(x4, (2, 2), pad=(2, 0))
    with pytest.raises(
        TypeError, match=r"pool_2d: mode='average_inc_pad' takes a real input of a float dtype"
    ):
        pool.pool_2d(ft.itensor4(), (2, 2), mode="average_inc_pad")


@pytest.mark.parametrize("mode", MODES)
def test_run_time_shape_errors_name_the_op(mode: str) -> None:
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    f = fc.function([x, w], ft.nnet.conv2d(x, w), mode=mode)
    with pytest.raises(ValueError, match=r"Conv2d: the images have 3 channels .* but the filters expect 2"):
        f(np.zeros((1, 3, 5, 5)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(
        ValueError, match=r"Conv2d: the filters \(dilated 3x3\) are larger than the images padded to 2x5"
    ):
        f(np.zeros((1, 2, 2, 5)), np.zeros((1, 2, 3, 3)))


# -- a LeNet-style network trained by SGD -----------------------------------------------------------
def _lenet_numpy_step(x, y, params, lr):
    """One SGD step of conv (true convolution, valid) -> 2x2 max pool -> tanh(+ b1) -> dense ->
    softmax -> mean negative log-likelihood, forward and backward written out in numpy."""
    w1, b1, w2, b2 = params
    wf = w1[:, :, ::-1, ::-1]
    k = w1.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # b c i j u v
    conv = np.einsum("bcijuv,fcuv->bfij", win, wf)
    n, f, r, c = conv.shape
    blocks = conv.reshape(n, f, r // 2, 2, c // 2, 2)
    pooled = blocks.max(axis=(3, 5))
    h = np.tanh(pooled + b1[None, :, None, None])
    flat = h.reshape(n, -1)
    logits = flat @ w2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -np.mean(np.log(p[np.arange(n), y]))
    dlogits = p.copy()
    dlogits[np.arange(n), y] -= 1
    dlogits /= n
    gw2, gb2 = flat.T @ dlogits, dlogits.sum(axis=0)
    dh = (dlogits @ w2.T).reshape(h.shape) * (1 - h**2)
    gb1 = dh.sum(axis=(0, 2, 3))
    mask = blocks == pooled[:, :, :, None, :, None]
    dconv = (mask * dh[:, :, :, None, :, None]).reshape(conv.shape)
    gwf = np.einsum("bfij,bcijuv->fcuv", dconv, win)
    grads = [gwf[:, :, ::-1, ::-1], gb1, gw2, gb2]
    return cost, [prm - lr * g for prm, g in zip(params, grads)]


@pytest.mark.parametrize("mode", MODES)
def test_lenet_training_matches_numpy_step_by_step(mode: str) -> None:
    rng = np.random.default_rng(10)
    n, k, nf, side, classes = 6, 3, 4, 10, 5
    x_data = rng.normal(size=(n, 1, side, side))
    y_data = rng.integers(0, classes, size=n)
    init = [
        rng.normal(size=(nf, 1, k, k)) * 0.5,
        rng.normal(size=nf) * 0.1,
        rng.normal(size=(nf * 16, classes)) * 0.3,
        np.zeros(classes),
    ]
    params = [fc.shared(v.copy(), name=nm) for v, nm in zip(init, ["w1", "b1", "w2", "b2"])]
    w1, b1, w2, b2 = params
    x, y = ft.dtensor4("x"), ft.lvector("y")
    conv = ft.nnet.conv2d(x, w1, input_shape=(None, 1, side, side), filter_shape=(nf, 1, k, k))
    h = ft.tanh(pool.pool_2d(conv, (2, 2), ignore_border=True) + b1.dimshuffle("x", 0, "x", "x"))
    p = ft.nnet.softmax(ft.dot(h.flatten(2), w2) + b2)
    cost = ft.mean(ft.nnet.categorical_crossentropy(p, y))
    lr = 0.1
    updates = [(prm, prm - lr * g) for prm, g in zip(params, fc.grad(cost, params))]
    train = fc.function([x, y], cost, updates=updates, mode=mode)
    ref = [v.copy() for v in init]
    costs = []
    for step in range(4):
        got = train(x_data, y_data)
        want, ref = _lenet_numpy_step(x_data, y_data, ref, lr)
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=f"cost at step {step}")
        for prm, r in zip(params, ref):
            np.testing.assert_allclose(
                prm.get_value(), r, rtol=1e-9, atol=1e-12, err_msg=f"{prm.name} step {step}"
            )
        costs.append(float(got))
    assert costs[-1] < costs[0]


# -- cache and pickles ---------------------------------------------------------------------------
def _conv_graph():
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    out = pool.pool_2d(
        ft.nnet.conv2d(x, w, border_mode="half", subsample=(1, 2)), (2, 2), ignore_border=False
    )
    cost = ft.sum(ft.tanh(out))
    return [x, w], [out, *fc.grad(cost, [x, w])]


def _conv_values():
    rng = np.random.default_rng(12)
    return rng.normal(size=(2, 3, 7, 8)), rng.normal(size=(4, 3, 3, 3))


@pytest.mark.parametrize("mode", MODES)
def test_pickles_round_trip(mode: str) -> None:
    inputs, outs = _conv_graph()
    f = fc.function(inputs, outs, mode=mode)
    args = _conv_values()
    assert_pickles_round_trip(f, *args)


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_conv import _conv_graph, _conv_values") + (
        "inputs, outs = _conv_graph()\n"
        "f = fc.function(inputs, outs)\n"
        "r = f(*_conv_values())\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex(), r[2].sum().hex())\n"
    )
    tests_dir = str(Path(__file__).parent)
    assert_second_process_compiles_nothing(child, tests_dir)


@needs_emulator
def test_the_cuda_renderer_runs_conv_and_pool_on_the_host(emulated) -> None:
    """The numpy steps run on the host between device kernels (the emulated device: real nvcc
    output run on the CPU)."""
    x, w = ft.ftensor4("x"), ft.ftensor4("w")
    h = ft.tanh(pool.pool_2d(ft.nnet.conv2d(x * 2, w), (2, 2), mode="average_exc_pad")) + 1
    outs = [h, *fc.grad(ft.sum(h * h), [x, w])]
    args = _conv_values()
    xv, wv = (a.astype("float32") for a in args)
    got = fc.function([x, w], outs, mode=CUDA)(xv, wv)
    want = fc.function([x, w], outs, mode=fc.Mode(linker="py"))(xv, wv)
    for k, (g, r) in enumerate(zip(got, want)):
        assert_same(g.get() if hasattr(g, "get") else g, r, f"output {k}", **F32)
