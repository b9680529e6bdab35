"""``ft.nnet.conv3d`` (and ``abstract_conv.conv3d_grad_wrt_inputs/_weights``),
``ft.nnet.h_softmax`` and ``ft.nnet.ctc.ctc`` against numpy references in both linkers: the
convolution against a direct loop over output positions for every border mode, stride,
dilation and flip; the hierarchical softmax against its two softmaxes written out; the CTC loss
against the sum over every path of tiny inputs (all ``alphabet ** time`` of them). Gradients
(and the convolution's gradients of gradients) against central finite differences; errors
naming the function; a cache hit in a fresh process."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import NullTypeGradError
from fcutil import (
    MODES,
    assert_pickles_round_trip,
    assert_same,
    assert_second_process_compiles_nothing,
    compiled,
    fd_check_grads,
    in_tests_dir,
)

F32 = dict(rtol=2e-5, atol=2e-5)
F64 = dict(rtol=1e-12, atol=1e-12)


# -- conv3d -------------------------------------------------------------------------------------
def conv_nd_reference(x, w, border, stride, dilation, flip) -> np.ndarray:
    """The convolution over every spatial dim of ``x`` written as a loop over the output
    positions: each one the sum of its (dilated) window times the filters."""
    n = x.ndim - 2
    if flip:
        w = w[(slice(None),) * 2 + (slice(None, None, -1),) * n]
    spans = [(w.shape[2 + d] - 1) * dilation[d] + 1 for d in range(n)]
    pads = {"valid": [0] * n, "full": [s - 1 for s in spans], "half": [s // 2 for s in spans]}.get(
        border, [border] * n if isinstance(border, int) else border
    )
    xp = np.pad(x.astype("float64"), [(0, 0), (0, 0)] + [(p, p) for p in pads])
    out_shape = [(xp.shape[2 + d] - spans[d]) // stride[d] + 1 for d in range(n)]
    out = np.zeros((x.shape[0], w.shape[0], *out_shape))
    for pos in itertools.product(*map(range, out_shape)):
        window = xp[
            (slice(None), slice(None))
            + tuple(slice(pos[d] * stride[d], pos[d] * stride[d] + spans[d], dilation[d]) for d in range(n))
        ]
        out[(slice(None), slice(None)) + pos] = np.tensordot(
            window, w, axes=(range(1, n + 2), range(1, n + 2))
        )
    return out


CONV3D_CASES = [
    (border, stride, dilation, flip)
    for border in ["valid", "full", "half", 1, (2, 0, 1)]
    for stride in [(1, 1, 1), (2, 1, 3)]
    for dilation in [(1, 1, 1), (1, 2, 1)]
    for flip in [True, False]
]


@compiled
def conv3d_fn(dtype: str, mode: str):
    x, w = ft.tensor("x", dtype, 5), ft.tensor("w", dtype, 5)
    outs = [
        ft.nnet.conv3d(x, w, border_mode=b, subsample=s, filter_flip=f, filter_dilation=d)
        for b, s, d, f in CONV3D_CASES
    ]
    return fc.function([x, w], outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv3d_against_loops(dtype: str, mode: str) -> None:
    f = conv3d_fn(dtype, mode)
    rng = np.random.default_rng(3)
    for xs, ws in [((2, 3, 5, 6, 5), (2, 3, 2, 3, 2)), ((1, 1, 4, 5, 7), (3, 1, 1, 2, 3))]:
        x, w = rng.normal(size=xs).astype(dtype), rng.normal(size=ws).astype(dtype)
        for got, (b, s, d, flip) in zip(f(x, w), CONV3D_CASES):
            want = conv_nd_reference(x, w, b, s, d, flip).astype(dtype)
            tol = F32 if dtype == "float32" else F64
            assert_same(got, want, f"{xs} {ws} border={b} stride={s} dilation={d} flip={flip}", **tol)


def test_the_nd_reference_agrees_with_conv2d() -> None:
    """The loop reference itself, checked on images against ``conv2d`` (tested on its own
    against other loops and scipy)."""
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 2, 7, 6)), rng.normal(size=(3, 2, 3, 2))
    xv, wv = ft.dtensor4("x"), ft.dtensor4("w")
    y = ft.nnet.conv2d(xv, wv, border_mode=(1, 2), subsample=(2, 1), filter_dilation=(1, 2))
    want = conv_nd_reference(x, w, (1, 2), (2, 1), (1, 2), True)
    assert_same(fc.function([xv, wv], y)(x, w), want, **F64)


def test_conv3d_static_shapes_dtypes_and_ops() -> None:
    x, w = ft.TensorType("float32", (8, 2, 9, 10, 11))("x"), ft.TensorType("float32", (4, 2, 3, 3, 3))("w")
    assert ft.nnet.conv3d(x, w).type.shape == (8, 4, 7, 8, 9)
    assert ft.nnet.conv3d(x, w).dtype == "float32"
    assert ft.nnet.conv3d(x, w, border_mode="full").type.shape == (8, 4, 11, 12, 13)
    assert ft.nnet.conv3d(x, w, border_mode="half", subsample=(2, 1, 3)).type.shape == (8, 4, 5, 10, 4)
    assert ft.nnet.conv3d(x, w, border_mode=(1, 0, 2), filter_dilation=(2, 1, 1)).type.shape == (
        8,
        4,
        7,
        8,
        13,
    )
    assert type(ft.nnet.conv3d(x, w).owner.op).__name__ == "Conv3d"
    assert ft.nnet.abstract_conv.conv3d is ft.nnet.conv3d
    y = ft.nnet.conv3d(
        ft.dtensor5(), ft.dtensor5(), input_shape=(None, 3, 6, 6, 6), filter_shape=(2, 3, 3, 3, 3)
    )
    assert y.type.shape == (None, 2, 4, 4, 4)
    assert ft.nnet.conv3d(ft.ftensor5(), ft.dtensor5()).dtype == "float64"
    assert ft.nnet.conv3d(ft.itensor5(), ft.ftensor5()).dtype == "float64"


@pytest.mark.parametrize("mode", MODES)
def test_conv3d_gradients_against_finite_differences(mode: str) -> None:
    x, w = ft.dtensor5("x"), ft.dtensor5("w")
    cases = {
        f"{b}-{s}-{d}-{flip}": (
            lambda x, w, b=b, s=s, d=d, flip=flip: ft.nnet.conv3d(
                x, w, border_mode=b, subsample=s, filter_dilation=d, filter_flip=flip
            ),
            [0, 1],
        )
        for b, s, d, flip in CONV3D_CASES[::5]
    }
    rng = np.random.default_rng(6)
    values = [[rng.normal(size=(1, 2, 4, 5, 4)), rng.normal(size=(2, 2, 2, 2, 1))]]
    fd_check_grads([x, w], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_conv3d_second_derivatives_against_finite_differences(mode: str) -> None:
    x, w, t = ft.dtensor5("x"), ft.dtensor5("w"), ft.dtensor5("t")

    def grads(x, w, t, wrt):
        out = ft.nnet.conv3d(x, w, border_mode=(1, 0, 0), subsample=(2, 1, 1), filter_dilation=(1, 1, 2))
        return fc.grad(ft.sum(ft.sqr(out) * t), [x, w][wrt])

    cases = {
        "d/dx": (lambda x, w, t: grads(x, w, t, 0), [0, 1, 2]),
        "d/dw": (lambda x, w, t: grads(x, w, t, 1), [0, 1, 2]),
    }
    rng = np.random.default_rng(7)
    # scaled down: the cost is of degree 6 in the values, its rounding error grows with it
    values = [[rng.normal(size=s) * 0.5 for s in [(1, 2, 4, 3, 4), (2, 2, 2, 2, 2), (1, 2, 3, 2, 2)]]]
    fd_check_grads([x, w, t], cases, values, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_conv3d_named_gradients_equal_the_gradients_of_conv3d(mode: str) -> None:
    abstract = ft.nnet.abstract_conv
    x, w, g = ft.dtensor5("x"), ft.dtensor5("w"), ft.dtensor5("g")
    kw = dict(border_mode="half", subsample=(2, 1, 2), filter_dilation=(1, 2, 1), filter_flip=False)
    y = ft.nnet.conv3d(x, w, **kw)
    gx, gw = fc.grad(ft.sum(y * g), [x, w])
    named = [
        abstract.conv3d_grad_wrt_inputs(g, w, (None, None, 5, 6, 5), **kw),
        abstract.conv3d_grad_wrt_weights(x, g, (None, None, 3, 2, 3), **kw),
    ]
    f = fc.function([x, w, g], [gx, gw, *named], mode=mode)
    rng = np.random.default_rng(8)
    xv, wv = rng.normal(size=(2, 2, 5, 6, 5)), rng.normal(size=(3, 2, 3, 2, 3))
    gv = rng.normal(size=(2, 3, 3, 6, 3))
    got = f(xv, wv, gv)
    assert_same(got[2], got[0], "grad wrt inputs", **F64)
    assert_same(got[3], got[1], "grad wrt weights", **F64)
    with pytest.raises(
        AssertionError, match=r"conv3d_grad_wrt_inputs: the output gradient's depth, rows and cols"
    ):
        fc.function([w, g], named[0], mode=mode)(wv, gv[:, :, :2])


def test_conv3d_errors_name_the_function_and_the_fix() -> None:
    x5, w5 = ft.dtensor5("x"), ft.dtensor5("w")
    with pytest.raises(
        TypeError, match=r"conv3d: input must be a 5-d tensor \(batch, channels, depth, rows, cols\)"
    ):
        ft.nnet.conv3d(ft.dtensor4(), w5)
    with pytest.raises(TypeError, match=r"conv3d: filters must be a 5-d tensor \(n_filters, channels, depth"):
        ft.nnet.conv3d(x5, ft.dtensor4())
    with pytest.raises(
        ValueError, match=r"conv3d: border_mode must be 'valid', 'full', 'half', an int >= 0 or 3"
    ):
        ft.nnet.conv3d(x5, w5, border_mode=(1, 1))
    with pytest.raises(ValueError, match=r"conv3d: subsample must be 3 ints >= 1 \(depth, rows, cols\)"):
        ft.nnet.conv3d(x5, w5, subsample=(1, 0, 1))
    with pytest.raises(ValueError, match=r"conv3d: filter_dilation must be 3 ints"):
        ft.nnet.conv3d(x5, w5, filter_dilation=(2, 2))
    with pytest.raises(ValueError, match=r"conv3d: num_groups must be a positive int, got 0"):
        ft.nnet.conv3d(x5, w5, num_groups=0)
    with pytest.raises(ValueError, match=r"conv3d: input_shape must be 5 ints"):
        ft.nnet.conv3d(x5, w5, input_shape=(1, 2, 3, 3))
    with pytest.raises(
        ValueError, match=r"conv3d: the filters \(dilated 5x3x3\) are larger than the images padded"
    ):
        ft.nnet.conv3d(
            ft.TensorType("float64", (1, 1, 4, 4, 4))(), ft.TensorType("float64", (1, 1, 5, 3, 3))()
        )
    f = fc.function([x5, w5], ft.nnet.conv3d(x5, w5))
    with pytest.raises(ValueError, match=r"Conv3d: the images have 3 channels .* but the filters expect 2"):
        f(np.zeros((1, 3, 4, 4, 4)), np.zeros((1, 2, 2, 2, 2)))


# -- h_softmax ----------------------------------------------------------------------------------
def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def h_softmax_reference(x, n_outputs, w1, b1, w2, b2, target=None) -> np.ndarray:
    """Each output's probability: its class's (first softmax) times its own within the class
    (that class's second softmax)."""
    class_probs = _softmax(x @ w1 + b1)
    probs = np.empty((x.shape[0], n_outputs))
    for k in range(n_outputs):
        c, j = divmod(k, w2.shape[2])
        probs[:, k] = class_probs[:, c] * _softmax(x @ w2[c] + b2[c])[:, j]
    return probs if target is None else probs[np.arange(x.shape[0]), target]


HS = dict(batch=5, features=4, n_outputs=10, classes=3, per_class=4)  # 12 slots, 2 dropped


def _h_softmax_graph(dtype: str):
    x, w1, b1 = ft.tensor("x", dtype, 2), ft.tensor("w1", dtype, 2), ft.tensor("b1", dtype, 1)
    w2, b2, t = ft.tensor("w2", dtype, 3), ft.tensor("b2", dtype, 2), ft.lvector("t")
    args = (HS["batch"], HS["n_outputs"], HS["classes"], HS["per_class"], w1, b1, w2, b2)
    return [x, w1, b1, w2, b2, t], args


def _h_softmax_values(dtype: str, seed: int = 9) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [
        (HS["batch"], HS["features"]),
        (HS["features"], HS["classes"]),
        (HS["classes"],),
        (HS["classes"], HS["features"], HS["per_class"]),
        (HS["classes"], HS["per_class"]),
    ]
    vals = [rng.normal(size=s).astype(dtype) for s in shapes]
    return [*vals, np.array([0, 9, 4, 3, 8])]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_h_softmax_against_numpy(dtype: str, mode: str) -> None:
    inputs, args = _h_softmax_graph(dtype)
    x, t = inputs[0], inputs[-1]
    full = ft.nnet.h_softmax(x, *args)
    picked = ft.nnet.h_softmax(x, *args, target=t)
    column = ft.nnet.h_softmax(x, *args, target=t.dimshuffle(0, "x"))
    assert full.dtype == picked.dtype == dtype and picked.ndim == 1
    f = fc.function(inputs, [full, picked, column], mode=mode)
    vals = _h_softmax_values(dtype)
    got = f(*vals)
    x64, *params64 = (v.astype("float64") for v in vals[:5])
    want = h_softmax_reference(x64, HS["n_outputs"], *params64)
    tol = F32 if dtype == "float32" else F64
    assert_same(got[0], want.astype(dtype), "all outputs", **tol)
    assert_same(got[1], want[np.arange(HS["batch"]), vals[5]].astype(dtype), "target", **tol)
    assert_same(got[2], got[1], "target column", **tol)
    # the slots past n_outputs are dropped, not renormalised: each row sums below 1
    assert np.all(got[0].sum(axis=1) < 1)
    with pytest.raises(AssertionError, match=r"h_softmax: a target is outside \[0, n_outputs\) = \[0, 10\)"):
        f(*vals[:5], np.array([0, 1, 2, 3, 10]))


@pytest.mark.parametrize("mode", MODES)
def test_h_softmax_gradients_against_finite_differences(mode: str) -> None:
    inputs, _ = _h_softmax_graph("float64")

    def build(x, w1, b1, w2, b2, t, target):
        sizes = (HS["batch"], HS["n_outputs"], HS["classes"], HS["per_class"])
        return ft.nnet.h_softmax(x, *sizes, w1, b1, w2, b2, target=t if target else None)

    cases = {
        "all": (lambda *a: build(*a, False), [0, 1, 2, 3, 4]),
        "target": (lambda *a: build(*a, True), [0, 1, 2, 3, 4]),
    }
    fd_check_grads(inputs, cases, [_h_softmax_values("float64", 10)], mode=mode)


def test_h_softmax_errors_name_the_function() -> None:
    inputs, args = _h_softmax_graph("float64")
    x, w1, b1, w2, b2, t = inputs
    with pytest.raises(
        ValueError,
        match=r"h_softmax: n_classes \* n_outputs_per_class \(2 \* 4\) must be >= n_outputs \(10\)",
    ):
        ft.nnet.h_softmax(x, 5, 10, 2, 4, w1, b1, w2, b2)
    with pytest.raises(ValueError, match=r"h_softmax: n_outputs must be a positive int, got 0"):
        ft.nnet.h_softmax(x, 5, 0, 2, 4, w1, b1, w2, b2)
    with pytest.raises(TypeError, match=r"h_softmax: W2 must be a 3-d tensor \(n_classes, n_features"):
        ft.nnet.h_softmax(x, 5, 10, 3, 4, w1, b1, w1, b2)
    with pytest.raises(TypeError, match=r"h_softmax: target must be integer output indices"):
        ft.nnet.h_softmax(x, *args, target=ft.dvector())
    with pytest.raises(ValueError, match=r"h_softmax: b1 .* has 4 in dim 0, expected 3"):
        ft.nnet.h_softmax(x, *args[:5], ft.TensorType("float64", (4,))(), w2, b2)


# -- ctc ----------------------------------------------------------------------------------------
def ctc_brute_force(acts: np.ndarray, labels: np.ndarray, length: int) -> float:
    """``-log`` of the summed probability of every path of ``length`` steps (one symbol a step)
    that collapses to ``labels`` (repeats merged, then blanks removed)."""
    probs = _softmax(acts[:length].astype("float64"))
    want = [int(v) for v in labels if v >= 0]
    total = 0.0
    for path in itertools.product(range(acts.shape[-1]), repeat=length):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != 0] == want:
            total += float(np.prod([probs[t, k] for t, k in enumerate(path)]))
    return -np.log(total) if total > 0 else np.inf


# (time, batch, alphabet), labels padded with -1 (anywhere in the row), input lengths
CTC_LABELS = np.array([[1, 2, -1], [1, -1, 1], [2, 2, 1], [-1, -1, -1], [3, -1, -1], [2, 1, 3], [1, 1, -1]])
CTC_LENGTHS = np.array([5, 4, 5, 3, 0, 2, 3])


def _ctc_values(seed: int, dtype: str = "float64") -> list[np.ndarray]:
    acts = np.random.default_rng(seed).normal(size=(5, len(CTC_LENGTHS), 4)) * 1.5
    return [acts.astype(dtype), CTC_LABELS.astype("int32"), CTC_LENGTHS.astype("int32")]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ctc_against_every_path(dtype: str, mode: str) -> None:
    """Repeated labels (a blank needed between), padding, an empty label sequence, no time
    steps, and labels longer than the time allows (example 5: infinite loss, zero gradient)."""
    a, lab, n = ft.tensor("a", dtype, 3), ft.imatrix("l"), ft.ivector("n")
    cost = ft.nnet.ctc.ctc(a, lab, n)
    assert cost.dtype == dtype and cost.ndim == 1
    f = fc.function([a, lab, n], [cost, fc.grad(ft.sum(ft.switch(ft.isinf(cost), 0, cost)), a)], mode=mode)
    for seed in (0, 1):
        vals = _ctc_values(seed, dtype)
        got, grad = f(*vals)
        want = [
            ctc_brute_force(vals[0][:, b], CTC_LABELS[b], CTC_LENGTHS[b]) for b in range(len(CTC_LENGTHS))
        ]
        assert np.isinf(want[5]) and np.isinf(got[5]) and want[4] == np.inf and want[3] > 0
        assert_same(got, np.array(want, dtype=dtype), f"seed {seed}", **(F32 if dtype == "float32" else F64))
        assert grad.dtype == dtype
        # past each example's length, and for the unalignable example, the gradient is zero
        for b, steps in enumerate(CTC_LENGTHS):
            assert not grad[steps:, b].any()
        assert not grad[:, 5].any()


@pytest.mark.parametrize("mode", MODES)
def test_ctc_gradient_against_finite_differences(mode: str) -> None:
    a, lab, n = ft.dtensor3("a"), ft.imatrix("l"), ft.ivector("n")
    feasible = [0, 1, 2, 3, 6]  # finite losses only: a finite difference of inf is not defined
    cases = {
        "ctc": (lambda a, lab, n: ft.nnet.ctc.ctc(a[:, feasible], lab[feasible], n[feasible]), [0]),
        "scaled": (
            lambda a, lab, n: ft.nnet.ctc.ctc(a[:, feasible] * 2.0, lab[feasible], n[feasible]) * 0.5,
            [0],
        ),
    }
    fd_check_grads([a, lab, n], cases, [_ctc_values(2)], mode=mode)


def test_ctc_long_inputs_stay_finite() -> None:
    """A probability far below the smallest float (300 steps of confident wrong symbols):
    the log-space recursions give the finite loss."""
    steps, alphabet = 300, 3
    acts = np.zeros((steps, 1, alphabet))
    acts[:, 0, 0] = 20.0  # the blank is almost certain at every step
    a, lab, n = ft.dtensor3("a"), ft.imatrix("l"), ft.ivector("n")
    cost = ft.nnet.ctc.ctc(a, lab, n)
    got = fc.function([a, lab, n], cost)(acts, np.array([[1, 2]], "int32"), np.array([steps], "int32"))
    log_blank = -np.log1p(2 * np.exp(-20.0))
    log_other = -20.0 + log_blank
    # the paths are 0^p 1^a 0^q 2^b 0^r (a, b >= 1): for m = a + b non-blank steps, m - 1
    # splits of m and comb(steps - m + 2, 2) placements of the blanks
    terms = [
        np.log((m - 1) * math.comb(steps - m + 2, 2)) + m * log_other + (steps - m) * log_blank
        for m in range(2, steps + 1)
    ]
    want = -np.logaddexp.reduce(terms)
    np.testing.assert_allclose(got, [want], rtol=1e-12)


def test_ctc_errors_name_the_function() -> None:
    a, lab, n = ft.dtensor3("a"), ft.imatrix("l"), ft.ivector("n")
    with pytest.raises(TypeError, match=r"ctc: activations must be a 3-d tensor \(time, batch, alphabet\)"):
        ft.nnet.ctc.ctc(ft.dmatrix(), lab, n)
    with pytest.raises(TypeError, match=r"ctc: labels must be an integer 2-d tensor"):
        ft.nnet.ctc.ctc(a, ft.dmatrix(), n)
    with pytest.raises(TypeError, match=r"ctc: input_lengths must be an integer 1-d tensor"):
        ft.nnet.ctc.ctc(a, lab, ft.imatrix())
    cost = ft.nnet.ctc.ctc(a, lab, n)
    f = fc.function([a, lab, n], cost)
    acts = np.zeros((4, 2, 3))
    lens = np.array([4, 4], "int32")
    with pytest.raises(ValueError, match=r"ctc: labels must be in \[1, 3\) \(0 is the blank.*got \[0\]"):
        f(acts, np.array([[1, 0], [1, 2]], "int32"), lens)
    with pytest.raises(ValueError, match=r"ctc: labels must be in \[1, 3\).*got \[3\]"):
        f(acts, np.array([[1, 3], [1, 2]], "int32"), lens)
    with pytest.raises(ValueError, match=r"ctc: input_lengths must be in \[0, 4\]"):
        f(acts, np.array([[1, 2], [1, 2]], "int32"), np.array([5, 1], "int32"))
    with pytest.raises(
        ValueError, match=r"ctc: activations \(4, 2, 3\) .* hold 2 examples, but labels \(3, 2\)"
    ):
        f(acts, np.ones((3, 2), "int32"), lens)
    grad = fc.grad(ft.sum(cost), a)
    second = fc.grad(ft.sum(grad**2), a)  # the Hessian times 2 grad (tests/test_grad_higher.py)
    with pytest.raises(NullTypeGradError, match=r"CTCLossHessian.*the third derivative of ctc"):
        fc.grad(ft.sum(second**2), a)


# -- pickles and a fresh process ----------------------------------------------------------------
def _nnet3_graph():
    x, w = ft.dtensor5("x"), ft.dtensor5("w")
    y = ft.nnet.conv3d(x, w, border_mode="half", subsample=(1, 2, 1))
    inputs, args = _h_softmax_graph("float64")
    probs = ft.nnet.h_softmax(inputs[0], *args, target=inputs[-1])
    a, lab, n = ft.dtensor3("a"), ft.imatrix("l"), ft.ivector("n")
    loss = ft.nnet.ctc.ctc(a[:, :4], lab[:4], n[:4])  # the examples with finite losses
    cost = ft.sum(ft.tanh(y)) - ft.sum(ft.log(probs)) + ft.sum(loss)
    wrt = [x, w, inputs[3], a]
    return [x, w, *inputs, a, lab, n], [y, probs, loss, *fc.grad(cost, wrt)]


def _nnet3_values():
    rng = np.random.default_rng(12)
    return [
        rng.normal(size=(2, 2, 4, 5, 3)),
        rng.normal(size=(3, 2, 3, 2, 3)),
        *_h_softmax_values("float64"),
        *_ctc_values(3),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_pickles_round_trip(mode: str) -> None:
    inputs, outs = _nnet3_graph()
    assert_pickles_round_trip(fc.function(inputs, outs, mode=mode), *_nnet3_values())


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_nnet3 import _nnet3_graph, _nnet3_values") + (
        "inputs, outs = _nnet3_graph()\n"
        "f = fc.function(inputs, outs)\n"
        "r = f(*_nnet3_values())\n"
        "print(fc.cache.info()['compiles'], f.cache_key, *(v.sum().hex() for v in r))\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
