"""multivariate_normal's native step (the run-time's Cholesky factor, the same bits as the numpy
step, moments of the draw); einsum over dimensions of size 1 known only at run time (numpy's
broadcasting); conv2d's gradients with ``num_groups`` against the forward convolution's
gradient, finite differences and PyTensor's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.codegen.c_linker import runtime
from fncache.tensor.random import RandomVariable

from fcutil import fd_gradient

# -- multivariate_normal -------------------------------------------------------------------------

SEED = 2026


def _spd(rng: np.random.Generator, n: int, batch: tuple = ()) -> np.ndarray:
    """Positive definite matrices: A A^T + n I."""
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _refuse(*args, **kwargs):
    raise AssertionError("the op's perform ran")


def test_the_runtimes_cholesky_is_lapacks_factor_within_rounding() -> None:
    rng = np.random.default_rng(0)
    for n, batch in ((1, ()), (3, (4,)), (40, ()), (7, (2, 3))):
        cov = _spd(rng, n, batch)
        got = np.array(cov, order="C")
        assert runtime().random_cholesky(got) is True
        np.testing.assert_allclose(got, np.linalg.cholesky(cov), rtol=1e-12, atol=1e-12 * n)
        assert np.all(np.triu(got, 1) == 0) and np.all(np.diagonal(got, axis1=-2, axis2=-1) > 0)
    bad = np.array([[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert runtime().random_cholesky(bad) is False  # the first is indefinite
    with pytest.raises(ValueError, match=r"\(\.\.\., n, n\)"):
        runtime().random_cholesky(np.zeros((2, 3)))


def _mvn_draws(threads: int, mode: str) -> list[bytes]:
    rng = np.random.default_rng(1)
    covs = _spd(rng, 5, (3,))
    rs = fc.RandomStream(SEED)
    outs = [
        rs.multivariate_normal(rng.standard_normal(5), covs[0], size=(30_000,)),
        rs.multivariate_normal(rng.standard_normal((2, 1, 1, 5)), covs, size=(2, 700, 3), dtype="float32"),
        rs.multivariate_normal(np.zeros(12), _spd(rng, 12), size=(5_000,)),
    ]
    with fc.config.change_flags(threads=threads):
        f = fc.function([], outs, mode=mode)
        return [o.dtype.str.encode() + o.tobytes() for call in range(2) for o in f()]


def test_the_multivariate_normal_step_gives_the_numpy_steps_bits_on_any_threads(monkeypatch) -> None:
    want = _mvn_draws(1, "FAST_COMPILE")
    monkeypatch.setattr(RandomVariable, "_transform", _refuse)  # every draw is the C step's
    for threads in (1, 2):
        assert _mvn_draws(threads, "FAST_RUN") == want, f"{threads} threads"
    assert want[0] != want[3], "the second call drew the same numbers"


def test_the_multivariate_normal_step_has_the_moments() -> None:
    rng = np.random.default_rng(2)
    n, count = 6, 40_000
    mean, cov = rng.standard_normal(n) * 3, _spd(rng, n)
    batch_cov = np.stack([cov, np.diag(np.arange(1.0, n + 1))])
    rs = fc.RandomStream(SEED)
    f = fc.function(
        [],
        [
            rs.multivariate_normal(mean, cov, size=(count,)),
            rs.multivariate_normal(mean, batch_cov, size=(count, 2)),
        ],
    )
    x, y = f()
    assert x.shape == (count, n) and y.shape == (count, 2, n)
    for sample, c in ((x, cov), (y[:, 0], cov), (y[:, 1], batch_cov[1])):
        se = np.sqrt(np.diag(c) / count)
        assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * se)
        # the covariance's elements have standard errors about sqrt((c_ii c_jj + c_ij^2) / count)
        err = np.sqrt((np.outer(np.diag(c), np.diag(c)) + c**2) / count)
        assert np.all(np.abs(np.cov(sample.T) - c) < 5 * err)
    assert abs(np.corrcoef(y[:, 0, 0], y[:, 1, 0])[0, 1]) < 0.02  # rows of the batch independent


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_multivariate_normal_without_a_cholesky_factor_raises_in_both_modes(mode: str) -> None:
    rs = fc.RandomStream(SEED)
    cov = fc.tensor.dmatrix("cov")
    f = fc.function([cov], rs.multivariate_normal(np.zeros(2), cov, size=(3,)), mode=mode)
    with pytest.raises(ValueError, match=r"multivariate_normal.*not positive definite.*method='eigh'"):
        f(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"multivariate_normal.*cov must be finite"):
        f(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    assert f(np.eye(2)).shape == (3, 2)  # and draws again once given a good cov


# -- einsum: a size 1 known only at run time broadcasts ------------------------------------------

#: (subscripts, the operands' shapes): dims of size 1 against larger ones, in a contraction (a
#: `BroadcastTensorDot`), in a product kept for later and in an ellipsis, on either side
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("ij,jk->ik", [(2, 3), (1, 4)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("i,i->", [(1,), (3,)]),
    ("ij,kj->ik", [(2, 3), (4, 1)]),
    ("ij,j->i", [(2, 1), (5,)]),
    ("ij,jk,kl->il", [(2, 1), (3, 4), (1, 5)]),
    ("bij,bjk->bik", [(2, 3, 1), (1, 4, 5)]),
    ("...ij,...jk->...ik", [(1, 2, 1), (3, 1, 4)]),
    ("ij,ij->i", [(1, 3), (2, 1)]),
]


@pytest.fixture(scope="module", params=["FAST_RUN", "FAST_COMPILE"])
def einsum_results(request: Any) -> tuple[list, list]:
    """Every case's operands, and its value and gradients of sum(einsum * weights) from one
    function per mode."""
    rng = np.random.default_rng(3)
    syms, vals, outs = [], [], []
    for sub, shapes in EINSUM_CASES:
        xs = [ft.tensor(dtype="float64", shape=(None,) * len(s)) for s in shapes]
        y = ft.einsum(sub, *xs)
        w = np.asarray(rng.standard_normal(np.einsum(sub, *[np.ones(s) for s in shapes]).shape))
        syms += xs
        vals.append([rng.standard_normal(s) for s in shapes])
        outs += [y, *fc.grad(ft.sum(y * w), xs)]
        vals[-1].append(w)
    f = fc.function(syms, outs, mode=request.param)
    got = f(*[v for case in vals for v in case[:-1]])
    return vals, got


@pytest.mark.parametrize("case", range(len(EINSUM_CASES)))
def test_einsum_broadcasts_a_size_1_known_only_at_run_time_as_numpy(einsum_results: Any, case: int) -> None:
    vals, got = einsum_results
    at = sum(1 + len(shapes) for _, shapes in EINSUM_CASES[:case])
    sub, shapes = EINSUM_CASES[case]
    *xs, w = vals[case]
    np.testing.assert_allclose(got[at], np.einsum(sub, *xs), rtol=1e-12, atol=1e-12)
    for k, x in enumerate(xs):  # the gradient of each operand, of its own shape

        def cost(v: np.ndarray, k: int = k) -> float:
            return float(np.sum(np.einsum(sub, *xs[:k], v, *xs[k + 1 :]) * w))

        assert got[at + 1 + k].shape == x.shape, (sub, k)
        np.testing.assert_allclose(got[at + 1 + k], fd_gradient(cost, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_einsum_contracted_sizes_that_do_not_broadcast_raise_naming_einsum(mode: str) -> None:
    a, b = ft.dmatrix("a"), ft.dmatrix("b")
    f = fc.function([a, b], ft.einsum("ij,jk->ik", a, b), mode=mode)
    with pytest.raises(
        ValueError, match=r"einsum: subscript 'j' has sizes 2, 3 in 'ij,jk->ik'; .*equal or 1"
    ):
        f(np.ones((2, 2)), np.ones((3, 4)))
    np.testing.assert_allclose(f(np.ones((2, 1)), np.ones((3, 4))), np.full((2, 4), 3.0))


# -- conv2d's gradients with num_groups ----------------------------------------------------------

abstract_conv = ft.nnet.abstract_conv

#: (input shape, filter shape, num_groups, options): strides, dilation, padding and flips
GROUP_CASES = [
    ((2, 4, 6, 5), (6, 2, 3, 2), 2, {}),
    ((1, 6, 7, 7), (3, 2, 3, 3), 3, {"border_mode": "half", "subsample": (2, 1)}),
    ((2, 4, 8, 6), (4, 1, 2, 2), 4, {"border_mode": (1, 2), "filter_dilation": (2, 1), "filter_flip": False}),
]


def _group_grads(case: int) -> tuple[list, list, list]:
    """(the forward's gradients, the named gradients, their values' arrays x, w, g) for one case."""
    xs, ws, groups, opts = GROUP_CASES[case]
    rng = np.random.default_rng(case)
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    y = ft.nnet.conv2d(x, w, num_groups=groups, **opts)
    xv, wv = rng.standard_normal(xs), rng.standard_normal(ws)
    gv = rng.standard_normal(fc.function([x, w], y)(xv, wv).shape)
    g = ft.dtensor4("g")
    forward = fc.grad(ft.sum(y * g), [x, w])
    named = [
        abstract_conv.conv2d_grad_wrt_inputs(g, w, xs, num_groups=groups, **opts),
        abstract_conv.conv2d_grad_wrt_weights(x, g, ws, num_groups=groups, **opts),
    ]
    f = fc.function([x, w, g], forward + named)
    return f(xv, wv, gv), [xv, wv, gv], [x, w, g]


@pytest.mark.parametrize("case", range(len(GROUP_CASES)))
def test_conv2d_grads_with_num_groups_are_the_forward_convolutions_gradients(case: int) -> None:
    (fx, fw, gx, gw), (xv, wv, gv), _ = _group_grads(case)
    assert gx.shape == xv.shape and gw.shape == wv.shape
    np.testing.assert_allclose(gx, fx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, fw, rtol=1e-12, atol=1e-12)
    # each group's gradient reads only its own channels and filters: another group's filters
    # or output gradient change nothing in it
    groups = GROUP_CASES[case][2]
    fg, cg = wv.shape[0] // groups, wv.shape[1]
    np.testing.assert_allclose(
        gx[:, :cg],
        abstract_conv.conv2d_grad_wrt_inputs(
            gv[:, :fg], wv[:fg], (xv.shape[0], cg, *xv.shape[2:]), **GROUP_CASES[case][3]
        ).eval(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_conv2d_grads_with_num_groups_against_finite_differences() -> None:
    xs, ws, groups, opts = GROUP_CASES[1]
    rng = np.random.default_rng(7)
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    xv, wv = rng.standard_normal(xs), rng.standard_normal(ws)
    forward = fc.function([x, w], ft.nnet.conv2d(x, w, num_groups=groups, **opts))
    gv = rng.standard_normal(forward(xv, wv).shape)
    g = ft.dtensor4("g")
    gx = abstract_conv.conv2d_grad_wrt_inputs(g, w, xs, num_groups=groups, **opts)
    gw = abstract_conv.conv2d_grad_wrt_weights(x, g, ws, num_groups=groups, **opts)
    gxv, gwv = fc.function([x, w, g], [gx, gw])(xv, wv, gv)
    np.testing.assert_allclose(gxv, fd_gradient(lambda v: float(np.sum(forward(v, wv) * gv)), xv), atol=1e-6)
    np.testing.assert_allclose(gwv, fd_gradient(lambda v: float(np.sum(forward(xv, v) * gv)), wv), atol=1e-6)


def test_conv3d_and_transposed_grads_take_num_groups() -> None:
    rng = np.random.default_rng(8)
    x, w, g = ft.dtensor5("x"), ft.dtensor5("w"), ft.dtensor5("g")
    xv, wv = rng.standard_normal((1, 4, 4, 5, 4)), rng.standard_normal((4, 2, 2, 2, 3))
    y = ft.nnet.conv3d(x, w, num_groups=2, border_mode=(1, 0, 1))
    gv = rng.standard_normal(fc.function([x, w], y)(xv, wv).shape)
    want = fc.function([x, w, g], fc.grad(ft.sum(y * g), [x, w]))(xv, wv, gv)
    named = [
        abstract_conv.conv3d_grad_wrt_inputs(g, w, xv.shape, num_groups=2, border_mode=(1, 0, 1)),
        abstract_conv.conv3d_grad_wrt_weights(x, g, wv.shape, num_groups=2, border_mode=(1, 0, 1)),
    ]
    for got, ref in zip(fc.function([x, w, g], named)(xv, wv, gv), want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # the transposed convolution upsamples each group of channels with its own filters
    x4, w4 = ft.dtensor4("x4"), ft.dtensor4("w4")
    up = ft.nnet.conv2d_transpose(x4, w4, (1, 4, 7, 5), input_dilation=(2, 1), num_groups=2)
    x4v, w4v = rng.standard_normal((1, 6, 3, 4)), rng.standard_normal((6, 2, 2, 2))
    got = fc.function([x4, w4], up)(x4v, w4v)
    for k in range(2):
        alone = ft.nnet.conv2d_transpose(
            x4v[:, 3 * k : 3 * k + 3], w4v[3 * k : 3 * k + 3], (1, 2, 7, 5), input_dilation=(2, 1)
        )
        np.testing.assert_allclose(got[:, 2 * k : 2 * k + 2], alone.eval(), rtol=1e-12, atol=1e-12)


def test_conv2d_grads_with_num_groups_refuse_sizes_that_do_not_split() -> None:
    g, x = ft.dtensor4("g"), ft.dtensor4("x")
    with pytest.raises(
        ValueError, match=r"conv2d_grad_wrt_inputs: num_groups=4 must divide the number of filters, got 6"
    ):
        abstract_conv.conv2d_grad_wrt_inputs(
            g, ft.TensorType("float64", (6, 2, 3, 3))(), (1, 8, 5, 5), num_groups=4
        )
    with pytest.raises(ValueError, match=r"has 5 channels but num_groups=2 groups of the filters' 2"):
        abstract_conv.conv2d_grad_wrt_inputs(
            g, ft.TensorType("float64", (4, 2, 3, 3))(), (1, 5, 5, 5), num_groups=2
        )
    with pytest.raises(ValueError, match=r"conv2d_grad_wrt_weights: num_groups must be a positive int"):
        abstract_conv.conv2d_grad_wrt_weights(x, g, (4, 2, 3, 3), num_groups=0)
    # sizes known only when the function runs: the input's 5 channels are not 2 groups of 2
    f = fc.function([x, g], abstract_conv.conv2d_grad_wrt_weights(x, g, (4, None, 3, 3), num_groups=2))
    with pytest.raises(
        AssertionError, match=r"conv2d_grad_wrt_weights: the input's channels are not num_groups=2"
    ):
        f(np.zeros((1, 5, 5, 5)), np.zeros((1, 4, 3, 3)))
    assert f(np.zeros((1, 4, 5, 5)), np.zeros((1, 4, 3, 3))).shape == (4, 2, 3, 3)


def test_conv2d_grads_with_num_groups_match_pytensors() -> None:
    pytensor = pytest.importorskip("pytensor")
    theirs = pytest.importorskip("pytensor.tensor.conv.abstract_conv")
    xs, ws, groups, opts = GROUP_CASES[1]
    rng = np.random.default_rng(9)
    xv, wv = rng.standard_normal(xs), rng.standard_normal(ws)
    gv = rng.standard_normal(ft.nnet.conv2d(xv, wv, num_groups=groups, **opts).eval().shape)
    ours = [
        abstract_conv.conv2d_grad_wrt_inputs(gv, wv, xs, num_groups=groups, **opts).eval(),
        abstract_conv.conv2d_grad_wrt_weights(xv, gv, ws, num_groups=groups, **opts).eval(),
    ]
    pt = pytensor.tensor
    ref = pytensor.function(
        [],
        [
            theirs.conv2d_grad_wrt_inputs(pt.constant(gv), pt.constant(wv), xs, num_groups=groups, **opts),
            theirs.conv2d_grad_wrt_weights(pt.constant(xv), pt.constant(gv), ws, num_groups=groups, **opts),
        ],
    )()
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
