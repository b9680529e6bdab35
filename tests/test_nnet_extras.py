"""Theano's and PyTensor's further ``tensor.nnet`` names (``selu softsign
sigmoid_binary_crossentropy``, the softmax cross-entropies, ``tensor.special.softmax``), batch
normalization (``ft.nnet.bn``), neighbourhoods (``images2neibs``/``neibs2images``), the named
convolution gradients (``conv2d_grad_wrt_inputs/weights``, ``conv2d_transpose``) and
``pool_3d``/``max_pool_2d_same_size``: values against numpy in both modes, gradients against
central finite differences in the C and the Python linker, errors naming the function, and a
small batch-normalized network trained with running averages as shared-variable updates."""

from __future__ import annotations

import itertools
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
    assert_second_process_compiles_nothing,
    compiled,
    fd_check_grads,
)
from test_conv import conv_reference

GRAD_MODES = [None, fc.Mode(linker="py")]
TOL = dict(rtol=1e-12, atol=1e-12)


def _ops(f) -> list[str]:
    return [type(n.op).__name__ for n in f.optimized_graph.toposort()]


# -- activations and losses -----------------------------------------------------------------------
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _np_softmax(x: np.ndarray, axis=-1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@compiled
def activation_fn(mode: str):
    x, t, b = ft.dmatrix("x"), ft.dmatrix("t"), ft.dvector("b")
    y = ft.lvector("y")
    nll, sm = ft.nnet.crossentropy_softmax_1hot(x, y)
    nll_b, sm_b = ft.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)
    outs = [
        ft.nnet.selu(x),
        ft.nnet.softsign(x),
        ft.nnet.sigmoid_binary_crossentropy(x, t),
        ft.nnet.softmax_with_bias(x, b),
        nll,
        sm,
        nll_b,
        sm_b,
        ft.nnet.crossentropy_categorical_1hot(ft.nnet.softmax(x), y),
        ft.nnet.softmax_graph(x),
        ft.special.softmax(x),
        ft.special.softmax(x, axis=0),
        ft.special.log_softmax(x),
        ft.special.log_softmax(x, axis=1),
    ]
    return fc.function([x, t, b, y], outs, mode=mode)


def _activation_reference(x, t, b, y) -> list:
    rows = np.arange(len(y))
    sm, sm_b = _np_softmax(x), _np_softmax(x + b)
    flat = _np_softmax(x.ravel()).reshape(x.shape)
    lsm_all = x - np.log(np.sum(np.exp(x)))
    return [
        np.where(x > 0, SELU_SCALE * x, SELU_SCALE * SELU_ALPHA * np.expm1(x)),
        x / (1 + np.abs(x)),
        -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x)))),
        sm_b,
        -np.log(sm[rows, y]),
        sm,
        -np.log(sm_b[rows, y]),
        sm_b,
        -np.log(sm[rows, y]),
        sm,
        flat,
        _np_softmax(x, axis=0),
        lsm_all,
        np.log(sm),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_activations_and_losses_against_numpy(mode: str) -> None:
    f = activation_fn(mode)
    rng = np.random.default_rng(0)
    x, t, b = rng.normal(size=(5, 4)) * 3, rng.uniform(size=(5, 4)), rng.normal(size=4)
    y = rng.integers(0, 4, size=5)
    for k, (got, want) in enumerate(zip(f(x, t, b, y), _activation_reference(x, t, b, y))):
        assert_same(got, want, f"output {k}", rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_losses_from_logits_stay_finite(mode: str) -> None:
    x, t = ft.dvector("x"), ft.dvector("t")
    y = ft.lvector("y")
    m = ft.dmatrix("m")
    loss = ft.nnet.sigmoid_binary_crossentropy(x, t)
    nll, _ = ft.nnet.crossentropy_softmax_1hot(m, y)
    f = fc.function([x, t, m, y], [loss, fc.grad(ft.sum(loss), x), nll, fc.grad(ft.sum(nll), m)], mode=mode)
    big = np.array([-800.0, 800.0, 0.0])
    loss_v, g, nll_v, gm = f(big, np.array([1.0, 0.0, 0.5]), np.array([[800.0, -800.0, 0.0]]), np.array([1]))
    np.testing.assert_allclose(loss_v, [800.0, 800.0, np.log(2)], rtol=1e-15)
    np.testing.assert_allclose(g, [-1.0, 1.0, 0.0], atol=1e-15)  # sigmoid(z) - t
    np.testing.assert_allclose(nll_v, [1600.0], rtol=1e-15)
    np.testing.assert_allclose(gm, [[1.0, -1.0, 0.0]], atol=1e-15)  # softmax - onehot
    assert np.isfinite(g).all() and np.isfinite(gm).all()


def test_selu_and_softsign_fuse_into_one_loop() -> None:
    x = ft.fmatrix("x")
    for fn in (ft.nnet.selu, ft.nnet.softsign):
        f = fc.function([x], fn(x) * 2 + 1)
        assert _ops(f) == ["Elemwise"], fc.debugprint(f)
    f = fc.function([x], ft.nnet.selu(x))
    assert f(np.array([[-1.0, 2.0]], dtype="float32")).dtype == np.float32


ACT_CASES = {
    "selu": (lambda x, t, b, y: ft.nnet.selu(x), [0]),
    "softsign": (lambda x, t, b, y: ft.nnet.softsign(x), [0]),
    "sigmoid_bce": (lambda x, t, b, y: ft.nnet.sigmoid_binary_crossentropy(x, t), [0, 1]),
    "softmax_with_bias": (lambda x, t, b, y: ft.nnet.softmax_with_bias(x, b) * t, [0, 1, 2]),
    "xent_1hot_bias": (lambda x, t, b, y: ft.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)[0], [0, 2]),
    "xent_1hot_sm": (lambda x, t, b, y: ft.nnet.crossentropy_softmax_1hot(x, y)[1] * t, [0, 1]),
    "categorical_1hot": (
        lambda x, t, b, y: ft.nnet.crossentropy_categorical_1hot(ft.sigmoid(x) + 0.1, y),
        [0],
    ),
    "special_softmax_all": (lambda x, t, b, y: ft.special.softmax(x) * t, [0, 1]),
    "special_log_softmax_0": (lambda x, t, b, y: ft.special.log_softmax(x, axis=0) * t, [0, 1]),
}


@pytest.mark.parametrize("mode", GRAD_MODES, ids=["c", "py"])
def test_activation_gradients_match_finite_differences(mode) -> None:
    rng = np.random.default_rng(1)
    # away from 0, where selu's and softsign's slopes change
    x = rng.uniform(0.2, 2.0, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    sets = [[x, rng.uniform(size=(3, 4)), rng.normal(size=4), np.array([0, 3, 1])]]
    fd_check_grads(
        [ft.dmatrix("x"), ft.dmatrix("t"), ft.dvector("b"), ft.lvector("y")], ACT_CASES, sets, mode
    )


def test_activation_errors_name_the_function() -> None:
    m, v = ft.dmatrix("m"), ft.dvector("v")
    with pytest.raises(TypeError, match="softmax_with_bias: b must be a vector"):
        ft.nnet.softmax_with_bias(m, m)
    with pytest.raises(TypeError, match="crossentropy_softmax_1hot: x must be a matrix"):
        ft.nnet.crossentropy_softmax_1hot(v, ft.lvector())
    with pytest.raises(
        TypeError, match="crossentropy_softmax_1hot_with_bias: the targets must be a vector of integer"
    ):
        ft.nnet.crossentropy_softmax_1hot_with_bias(m, v, v)
    with pytest.raises(TypeError, match="crossentropy_categorical_1hot: the targets"):
        ft.nnet.crossentropy_categorical_1hot(m, m)
    y = ft.lvector("y")
    f = fc.function([m, y], ft.nnet.crossentropy_softmax_1hot(m, y)[0])
    with pytest.raises(AssertionError, match="outside"):
        f(np.zeros((2, 3)), np.array([0, 3]))


# -- batch normalization --------------------------------------------------------------------------
def _np_bn_train(x, gamma, beta, axes, eps, f, rm, rv):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    m = np.prod([x.shape[a] for a in axes])
    out = (x - mean) * gamma * invstd + beta
    return out, mean, invstd, rm * (1 - f) + mean * f, rv * (1 - f) + var * m / (m - 1) * f


BN_AXES = [("per-activation", (0,)), ("spatial", (0, 2, 3)), ((0, 1), (0, 1)), ((1, 3), (1, 3))]


def _bn_params(rng: np.random.Generator, x_shape: tuple) -> list:
    """For each case of BN_AXES: gamma, beta, running mean and variance of the inputs' dims,
    size 1 on the axes; then the four as (channels,) vectors."""
    params = []
    for _, ax in BN_AXES:
        shape = tuple(1 if d in ax else x_shape[d] for d in range(4))
        params += [rng.uniform(0.5, 1.5, size=shape) for _ in range(4)]
    return params + [rng.uniform(0.5, 1.5, size=x_shape[1]) for _ in range(4)]


@compiled
def bn_fn(mode: str):
    x = ft.dtensor4("x")
    full = [ft.dtensor4(f"p{k}") for k in range(4 * len(BN_AXES))]
    outs = []
    for k, (axes, _) in enumerate(BN_AXES):
        g, b, rm, rv = full[4 * k : 4 * k + 4]
        outs += ft.nnet.bn.batch_normalization_train(
            x, g, b, axes=axes, epsilon=1e-3, running_average_factor=0.3, running_mean=rm, running_var=rv
        )
        outs.append(ft.nnet.bn.batch_normalization_test(x, g, b, rm, rv, axes=axes, epsilon=1e-3))
    # parameters given with only the dims not normalized over (Theano's other form): (channels,)
    gs, bs, rms, rvs = small = [ft.dvector(n) for n in ("gs", "bs", "rms", "rvs")]
    outs += ft.nnet.bn.batch_normalization_train(x, gs, bs, axes="spatial", running_mean=rms, running_var=rvs)
    outs += ft.nnet.bn.batch_normalization_train(x, gs, bs, axes="spatial")
    outs.append(ft.nnet.bn.batch_normalization_test(x, gs, bs, rms, rvs, axes="spatial"))
    g, b, rm, rv = full[:4]
    outs.append(ft.nnet.batch_normalization(x, g, b, rm, rv, mode="low_mem"))
    outs.append(ft.nnet.bn.batch_normalization(x, g, b, rm, rv, mode="high_mem"))
    return fc.function([x] + full + small, outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_batch_normalization_against_numpy(mode: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 2, 5)) * 2 + 1
    params = _bn_params(rng, x.shape)
    got = iter(bn_fn(mode)(x, *params))
    for k, (_, ax) in enumerate(BN_AXES):
        g, b, rm, rv = params[4 * k : 4 * k + 4]
        for j, want in enumerate(_np_bn_train(x, g, b, ax, 1e-3, 0.3, rm, rv)):
            assert_same(next(got), want, f"train axes={ax} output {j}", **TOL)
        assert_same(next(got), (x - rm) * g / np.sqrt(rv + 1e-3) + b, f"test axes={ax}", **TOL)
    c = (None, slice(None), None, None)
    gs, bs, rms, rvs = params[-4:]
    want = _np_bn_train(x, gs[c], bs[c], (0, 2, 3), 1e-4, 0.1, rms[c], rvs[c])
    for j, w in enumerate(want + want[:3]):
        assert_same(next(got), w if j in (0, 5) else w.reshape(-1), f"vector-form output {j}", **TOL)
    assert_same(next(got), (x - rms[c]) * gs[c] / np.sqrt(rvs[c] + 1e-4) + bs[c], "test, vector form", **TOL)
    g, b, rm, rv = params[:4]
    for how in ("low_mem", "high_mem"):
        assert_same(next(got), (x - rm) * (g / rv) + b, how, rtol=1e-13, atol=1e-13)


def test_batch_normalization_fuses_into_one_loop() -> None:
    x, g, b, m, s = (ft.fmatrix(n) for n in "xgbms")
    for how in ("low_mem", "high_mem"):
        f = fc.function([x, g, b, m, s], ft.nnet.batch_normalization(x, g, b, m, s, mode=how))
        assert _ops(f) == ["Elemwise"], fc.debugprint(f)


BN_GRAD_CASES = {
    "train_per_activation": (
        lambda x, g, b, gs, bs: ft.nnet.bn.batch_normalization_train(x, g, b)[0],
        [0, 1, 2],
    ),
    "train_spatial_stats": (
        lambda x, g, b, gs, bs: sum(
            o.sum() for o in ft.nnet.bn.batch_normalization_train(x, gs, bs, axes="spatial", epsilon=0.1)
        ),
        [0, 3, 4],
    ),
    "train_tuple_axes": (
        lambda x, g, b, gs, bs: ft.nnet.bn.batch_normalization_train(x, gs, bs, axes=(0, 2, 3))[0] * x,
        [0, 3, 4],
    ),
    "test": (
        lambda x, g, b, gs, bs: ft.nnet.bn.batch_normalization_test(x, g, b, g * 0.5, ft.sqr(b) + 0.5),
        [0, 1, 2],
    ),
    "batch_normalization": (
        lambda x, g, b, gs, bs: ft.nnet.batch_normalization(
            x, g, b, ft.mean(x, axis=0, keepdims=True), ft.sqr(g) + 1
        ),
        [0, 1, 2],
    ),
}


@pytest.mark.parametrize("mode", GRAD_MODES, ids=["c", "py"])
def test_batch_normalization_gradients_match_finite_differences(mode) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 2, 2, 2))
    sets = [
        [
            x,
            rng.uniform(0.5, 1.5, size=(1, 2, 2, 2)),
            rng.normal(size=(1, 2, 2, 2)),
            rng.uniform(0.5, 1.5, 2),
            rng.normal(size=2),
        ]
    ]
    inputs = [ft.dtensor4("x"), ft.dtensor4("g"), ft.dtensor4("b"), ft.dvector("gs"), ft.dvector("bs")]
    fd_check_grads(inputs, BN_GRAD_CASES, sets, mode)


def test_batch_normalized_network_trains_with_running_averages_like_numpy() -> None:
    """A linear layer, batch normalization (running averages as shared-variable updates) and a
    softmax cross-entropy, trained by SGD for a few steps against the same loop in numpy."""
    rng = np.random.default_rng(4)
    xs, ys = rng.normal(size=(5, 8, 6)), rng.integers(0, 3, size=(5, 8))
    w0, g0, b0 = rng.normal(size=(6, 3)) * 0.5, np.ones(3), np.zeros(3)
    x, y = ft.dmatrix("x"), ft.lvector("y")
    w, g, b = fc.shared(w0.copy(), "w"), fc.shared(g0.copy(), "g"), fc.shared(b0.copy(), "b")
    rm, rv = fc.shared(np.zeros(3), "rm"), fc.shared(np.ones(3), "rv")
    h = ft.dot(x, w)
    out, _, _, new_rm, new_rv = ft.nnet.bn.batch_normalization_train(
        h, g, b, running_mean=rm, running_var=rv, running_average_factor=0.2
    )
    cost = ft.mean(ft.nnet.crossentropy_softmax_1hot(out, y)[0])
    grads = fc.grad(cost, [w, g, b])
    updates = [(p, p - 0.1 * d) for p, d in zip([w, g, b], grads)] + [(rm, new_rm), (rv, new_rv)]
    train = fc.function([x, y], cost, updates=updates)
    predict = fc.function([x], ft.nnet.bn.batch_normalization_test(h, g, b, rm, rv))

    nw, ng, nb, nrm, nrv = w0.copy(), g0.copy(), b0.copy(), np.zeros(3), np.ones(3)
    for xv, yv in zip(xs, ys):
        hv = xv @ nw
        mu, var = hv.mean(0), hv.var(0)
        inv = 1 / np.sqrt(var + 1e-4)
        xh = (hv - mu) * inv
        p = _np_softmax(xh * ng + nb)
        want_cost = -np.log(p[np.arange(8), yv]).mean()
        dz = (p - np.eye(3)[yv]) / 8
        dg, db, dxh = (dz * xh).sum(0), dz.sum(0), dz * ng
        dh = inv * (dxh - dxh.mean(0) - xh * (dxh * xh).mean(0))
        nrm, nrv = nrm * 0.8 + mu * 0.2, nrv * 0.8 + var * 8 / 7 * 0.2
        nw, ng, nb = nw - 0.1 * xv.T @ dh, ng - 0.1 * dg, nb - 0.1 * db
        np.testing.assert_allclose(train(xv, yv), want_cost, rtol=1e-12)
        for have, want in ((w, nw), (g, ng), (b, nb), (rm, nrm), (rv, nrv)):
            np.testing.assert_allclose(have.get_value(), want, rtol=1e-10, atol=1e-12, err_msg=have.name)
    xt = rng.normal(size=(4, 6))
    np.testing.assert_allclose(predict(xt), (xt @ nw - nrm) * ng / np.sqrt(nrv + 1e-4) + nb, rtol=1e-12)


def test_batch_normalization_errors_name_the_function() -> None:
    x, v, m = ft.dtensor4("x"), ft.dvector("v"), ft.dmatrix("m")
    with pytest.raises(ValueError, match="batch_normalization: mode must be 'low_mem' or 'high_mem'"):
        ft.nnet.batch_normalization(x, v, v, v, v, mode="fast")
    with pytest.raises(ValueError, match="batch_normalization_train: axes must be"):
        ft.nnet.bn.batch_normalization_train(x, v, v, axes=(0, 4))
    with pytest.raises(ValueError, match="batch_normalization_train: axes must be"):
        ft.nnet.bn.batch_normalization_train(x, v, v, axes="channel")
    with pytest.raises(ValueError, match="batch_normalization_train: gamma must have the inputs' 4 dims"):
        ft.nnet.bn.batch_normalization_train(x, m, v)
    with pytest.raises(ValueError, match="give both running_mean and running_var"):
        ft.nnet.bn.batch_normalization_train(x, x, x, running_mean=x)
    with pytest.raises(ValueError, match="batch_normalization_test: var must have"):
        ft.nnet.bn.batch_normalization_test(x, x, x, x, m)


# -- neighbourhoods -------------------------------------------------------------------------------
def neibs_reference(x: np.ndarray, shape: tuple, step: tuple, mode: str) -> np.ndarray:
    """Theano's Images2Neibs.perform as loops: one row per (batch, channel, grid row, grid
    col), the neighbourhood read row by row, zeros outside a padded image."""
    (c, d), (sx, sy) = shape, step
    h, w = x.shape[2:]
    shift = {"wrap_centered": (c // 2, d // 2), "half": (c // 2, d // 2), "full": (c - 1, d - 1)}.get(
        mode, (0, 0)
    )
    if mode == "wrap_centered":
        grid = (-(-h // sx), -(-w // sy))
    else:
        span = {
            "valid": (h, w),
            "ignore_borders": (h, w),
            "half": (h - c % 2 + c, w - d % 2 + d),
            "full": (h + 2 * c - 2, w + 2 * d - 2),
        }[mode]
        grid = ((span[0] - c) // sx + 1, (span[1] - d) // sy + 1)
    rows = []
    for n, s, a, b in itertools.product(range(x.shape[0]), range(x.shape[1]), range(grid[0]), range(grid[1])):
        row = []
        for i, j in itertools.product(range(c), range(d)):
            r, q = a * sx + i - shift[0], b * sy + j - shift[1]
            if mode == "wrap_centered":
                r, q = r % h, q % w
            row.append(x[n, s, r, q] if 0 <= r < h and 0 <= q < w else 0.0)
        rows.append(row)
    return np.array(rows, dtype=x.dtype).reshape(-1, c * d)


NEIB_CASES = [
    ((2, 2), None, "valid"),
    ((3, 2), (1, 2), "valid"),
    ((2, 3), None, "ignore_borders"),
    ((3, 3), (2, 1), "ignore_borders"),
    ((3, 3), (1, 1), "wrap_centered"),
    ((3, 1), (2, 3), "wrap_centered"),
    ((3, 3), (1, 1), "half"),
    ((2, 3), (2, 1), "half"),
    ((2, 2), (1, 1), "full"),
    ((3, 2), (1, 2), "full"),
]


@compiled
def neibs_fn(mode: str):
    x = ft.dtensor4("x")
    outs = [ft.nnet.neighbours.images2neibs(x, s, st, m) for s, st, m in NEIB_CASES]
    return fc.function([x], outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_images2neibs_against_loops(mode: str) -> None:
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 6))
    for got, (s, st, m) in zip(neibs_fn(mode)(x), NEIB_CASES):
        assert_same(got, neibs_reference(x, s, st or s, m), f"shape={s} step={st} mode={m}")


@pytest.mark.parametrize("mode", MODES)
def test_neibs2images_inverts_images2neibs(mode: str) -> None:
    x = ft.dtensor4("x")
    valid = ft.nnet.neibs2images(ft.nnet.images2neibs(x, (2, 3)), (2, 3), x.shape)
    ignore = ft.nnet.neighbours.neibs2images(
        ft.nnet.images2neibs(x, (2, 2), mode="ignore_borders"), (2, 2), (2, 3, 5, 7), mode="ignore_borders"
    )
    xv = np.random.default_rng(6).normal(size=(2, 3, 4, 6))
    assert_same(fc.function([x], valid, mode=mode)(xv), xv, "valid")
    x5 = np.random.default_rng(6).normal(size=(2, 3, 5, 7))
    want = x5.copy()
    want[:, :, 4:], want[:, :, :, 6:] = 0, 0
    assert_same(fc.function([x], ignore, mode=mode)(x5), want, "ignore_borders")
    assert ft.nnet.neibs2images(ft.dmatrix(), (2, 3), (2, 3, 4, 6)).type.shape == (2, 3, 4, 6)


@pytest.mark.parametrize("mode", GRAD_MODES, ids=["c", "py"])
def test_neighbour_gradients_match_finite_differences(mode) -> None:
    cases = {
        f"{m} {s} {st}": (lambda x, n, s=s, st=st, m=m: ft.nnet.images2neibs(x, s, st, m), [0])
        for s, st, m in NEIB_CASES
    }
    cases["neibs2images"] = (lambda x, n: ft.nnet.neibs2images(n, (2, 3), x.shape) * x, [0, 1])
    rng = np.random.default_rng(7)
    sets = [[rng.normal(size=(1, 2, 4, 6)), rng.normal(size=(8, 6))]]
    fd_check_grads([ft.dtensor4("x"), ft.dmatrix("n")], cases, sets, mode)


def test_neighbour_errors_name_the_function() -> None:
    x = ft.dtensor4("x")
    with pytest.raises(TypeError, match="images2neibs: ten4 must be a real 4-d tensor"):
        ft.nnet.images2neibs(ft.dmatrix(), (2, 2))
    with pytest.raises(ValueError, match="images2neibs: mode must be one of"):
        ft.nnet.images2neibs(x, (2, 2), mode="same")
    with pytest.raises(ValueError, match="images2neibs: neib_shape must be a pair of ints >= 1"):
        ft.nnet.images2neibs(x, (0, 2))
    with pytest.raises(ValueError, match="mode='wrap_centered' needs an odd neib_shape"):
        ft.nnet.images2neibs(ft.TensorType("float64", (1, 1, 5, 5))(), (2, 3), mode="wrap_centered")
    with pytest.raises(ValueError, match="neibs2images: mode must be one of 'valid', 'ignore_borders'"):
        ft.nnet.neibs2images(ft.dmatrix(), (2, 2), x.shape, mode="half")
    with pytest.raises(TypeError, match="neibs2images: original_shape must be the images' 4 sizes"):
        ft.nnet.neibs2images(ft.dmatrix(), (2, 2), (3, 4))
    f = fc.function([x], ft.nnet.images2neibs(x, (2, 2)))
    with pytest.raises(ValueError, match="are not consistent in mode='valid'"):
        f(np.zeros((1, 1, 5, 4)))
    n = ft.dmatrix("n")
    g = fc.function([n, x], ft.nnet.neibs2images(n, (2, 2), x.shape))
    with pytest.raises(ValueError, match=r"neibs2images: the neighbourhoods have shape \(3, 4\)"):
        g(np.zeros((3, 4)), np.zeros((1, 1, 4, 4)))


# -- the convolution's named gradients and the transposed convolution -----------------------------
def transpose_reference(
    g: np.ndarray, w: np.ndarray, shape: tuple, border, stride, dilation, flip
) -> np.ndarray:
    """The adjoint of conv_reference, column by column: ``<conv(x, w), g> = <x, T(g)>`` for
    every unit image ``x``."""
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        e = np.zeros(shape)
        e[idx] = 1.0
        out[idx] = np.sum(conv_reference(e, w, border, stride, dilation, flip) * g)
    return out


TRANSPOSE_CASES = [
    ("valid", (1, 1), (1, 1), True),
    ("half", (2, 2), (1, 1), False),
    ((1, 2), (2, 3), (2, 1), True),
    ("full", (1, 2), (1, 1), True),
]


def _conv_out(size: tuple, k: tuple, border, stride, dilation) -> tuple:
    span = [(k[d] - 1) * dilation[d] + 1 for d in range(2)]
    pad = (
        {"valid": (0, 0), "full": (span[0] - 1, span[1] - 1), "half": (span[0] // 2, span[1] // 2)}.get(
            border, border
        )
        if isinstance(border, str)
        else border
    )
    return tuple((size[d] + 2 * pad[d] - span[d]) // stride[d] + 1 for d in range(2))


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_transpose_against_loops(mode: str) -> None:
    g, w = ft.dtensor4("g"), ft.dtensor4("w")
    image = (7, 6)
    rng = np.random.default_rng(8)
    wv = rng.normal(size=(3, 2, 3, 2))
    for b, s, d, f in TRANSPOSE_CASES:
        out = ft.nnet.conv2d_transpose(
            g, w, (2, 2) + image, border_mode=b, input_dilation=s, filter_dilation=d, filter_flip=f
        )
        assert out.type.shape == (None, None) + image
        gv = rng.normal(size=(2, 3) + _conv_out(image, (3, 2), b, s, d))
        got = fc.function([g, w], out, mode=mode)(gv, wv)
        want = transpose_reference(gv, wv, (2, 2) + image, b, s, d, f)
        assert_same(got, want, f"border={b} stride={s} dilation={d} flip={f}", **TOL)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_named_gradients_equal_the_gradients_of_conv2d(mode: str) -> None:
    x, w, g = ft.dtensor4("x"), ft.dtensor4("w"), ft.dtensor4("g")
    abstract = ft.nnet.abstract_conv
    outs = []
    for b, s, d, f in TRANSPOSE_CASES:
        kw = dict(border_mode=b, subsample=s, filter_dilation=d, filter_flip=f)
        y = ft.nnet.conv2d(x, w, **kw)
        gx, gw = fc.grad(ft.sum(y * g), [x, w])
        outs += [abstract.conv2d_grad_wrt_inputs(g, w, (None, None, 7, 6), **kw), gx]
        outs += [
            abstract.conv2d_grad_wrt_weights(x, g, (None, None, 3, 2), input_shape=(2, 2, 7, 6), **kw),
            gw,
        ]
    rng = np.random.default_rng(9)
    xv, wv = rng.normal(size=(2, 2, 7, 6)), rng.normal(size=(3, 2, 3, 2))
    for k, (b, s, d, f) in enumerate(TRANSPOSE_CASES):
        gv = rng.normal(size=(2, 3) + _conv_out((7, 6), (3, 2), b, s, d))
        got = fc.function([x, w, g], outs[4 * k : 4 * k + 4], mode=mode)(xv, wv, gv)
        assert_same(got[0], got[1], f"wrt inputs {b} {s} {d} {f}", **TOL)
        assert_same(got[2], got[3], f"wrt weights {b} {s} {d} {f}", **TOL)


@pytest.mark.parametrize("mode", GRAD_MODES, ids=["c", "py"])
def test_conv2d_transpose_gradients_match_finite_differences(mode) -> None:
    abstract = ft.nnet.abstract_conv
    cases = {
        "transpose": (
            lambda g, w, x: ft.nnet.conv2d_transpose(
                g, w, (1, 2, 5, 4), border_mode=(1, 0), input_dilation=(2, 1)
            ),
            [0, 1],
        ),
        "wrt_weights": (
            lambda g, w, x: abstract.conv2d_grad_wrt_weights(
                x, g, (3, 2, 2, 2), border_mode=(1, 0), subsample=(2, 1)
            ),
            [0, 2],
        ),
    }
    rng = np.random.default_rng(10)
    sets = [[rng.normal(size=(1, 3, 3, 3)), rng.normal(size=(3, 2, 2, 2)), rng.normal(size=(1, 2, 5, 4))]]
    fd_check_grads([ft.dtensor4("g"), ft.dtensor4("w"), ft.dtensor4("x")], cases, sets, mode)


def test_conv2d_gradient_errors_name_the_function() -> None:
    g, w = ft.dtensor4("g"), ft.dtensor4("w")
    abstract = ft.nnet.abstract_conv
    with pytest.raises(ValueError, match="conv2d_grad_wrt_inputs: input_shape must be 4 sizes"):
        abstract.conv2d_grad_wrt_inputs(g, w, (7, 6))
    with pytest.raises(
        ValueError, match=r"conv2d_transpose: output_shape must be 4 ints .*None allowed for the first two"
    ):
        ft.nnet.conv2d_transpose(g, w, (2, 2, None, 6))
    with pytest.raises(TypeError, match="conv2d_transpose: input must be a real 4-d tensor"):
        ft.nnet.conv2d_transpose(ft.dmatrix(), w, (1, 2, 5, 4))
    with pytest.raises(ValueError, match="conv2d_grad_wrt_weights: num_groups must be a positive int, got 0"):
        abstract.conv2d_grad_wrt_weights(g, g, (3, 2, 2, 2), num_groups=0)
    with pytest.raises(
        ValueError, match=r"conv2d_grad_wrt_weights: num_groups=2 must divide the number of filters, got 3"
    ):
        abstract.conv2d_grad_wrt_weights(g, g, (3, 2, 2, 2), num_groups=2)
    with pytest.raises(ValueError, match="conv2d: subsample must be a pair"):
        abstract.conv2d_grad_wrt_inputs(g, w, (1, 2, 5, 4), subsample=0)
    with pytest.raises(ValueError, match="conv2d_transpose: input_dilation must be a pair"):
        ft.nnet.conv2d_transpose(g, w, (1, 2, 5, 4), input_dilation=(1, 0))
    with pytest.raises(TypeError, match="conv2d_grad_wrt_weights: output_grad must be a real 4-d tensor"):
        abstract.conv2d_grad_wrt_weights(g, ft.dmatrix(), (3, 2, 2, 2))
    with pytest.raises(TypeError, match="conv2d: filters must be a 4-d tensor"):
        ft.nnet.conv2d_transpose(g, ft.dmatrix(), (1, 2, 5, 4))
    f = fc.function([g, w], ft.nnet.conv2d_transpose(g, w, (1, 2, 5, 4), input_dilation=(2, 1)))
    f(np.zeros((1, 3, 2, 3)), np.zeros((3, 2, 2, 2)))  # (5 - 2) // 2 + 1 = 2 rows, 3 cols
    # the transposed convolution's errors name it and its own arguments
    with pytest.raises(
        AssertionError,
        match=r"conv2d_transpose: the input's rows and cols .* \(check output_shape, border_mode, input_dilation",
    ):
        f(np.zeros((1, 3, 3, 2)), np.zeros((3, 2, 2, 2)))  # as many entries, another shape
    h = fc.function([g, w], abstract.conv2d_grad_wrt_inputs(g, w, (1, 2, 5, 4), subsample=(2, 1)))
    with pytest.raises(
        AssertionError,
        match=r"conv2d_grad_wrt_inputs: the output gradient's rows and cols .* \(check input_shape, border_mode, subsample",
    ):
        h(np.zeros((1, 3, 3, 2)), np.zeros((3, 2, 2, 2)))


# -- pool_3d and max_pool_2d_same_size ------------------------------------------------------------
def pool3d_reference(x, ws, ignore_border, stride, pad, mode) -> np.ndarray:
    """Theano's 3-d pooling by brute force: every window of the zero-padded input, listed by
    its start (whole windows only with ignore_border; else while the previous window did not
    reach the end), reduced over its entries that are not padding (but for average_inc_pad,
    which divides by the window's extent within the padded input)."""
    stride = stride or ws
    size = [x.shape[d - 3] + 2 * pad[d] for d in range(3)]

    def spans(d: int) -> list[tuple[int, int]]:
        out, start = [], 0
        while (
            (start + ws[d] <= size[d])
            if ignore_border
            else (start < size[d] and (start == 0 or start + ws[d] - stride[d] < size[d]))
        ):
            end = min(start + ws[d], size[d])
            out.append(
                (start, end)
                if mode == "average_inc_pad"
                else (max(start, pad[d]), min(end, size[d] - pad[d]))
            )
            start += stride[d]
        return out

    y = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(p, p) for p in pad])
    reduce = {"max": np.max, "sum": np.sum}.get(mode, np.mean)
    grids = [spans(d) for d in range(3)]
    out = np.zeros(x.shape[:-3] + tuple(len(g) for g in grids))
    for idx in itertools.product(*(enumerate(g) for g in grids)):
        window = y[(Ellipsis,) + tuple(slice(a, b) for _, (a, b) in idx)]
        out[(Ellipsis,) + tuple(i for i, _ in idx)] = reduce(window, axis=(-3, -2, -1))
    return out


POOL3D_CASES = [
    (m, ib, ws, st, pad)
    for m in pool.MODES
    for ib, ws, st, pad in [
        (True, (2, 2, 2), None, (0, 0, 0)),
        (False, (2, 3, 2), (1, 2, 3), (0, 0, 0)),
        (True, (3, 2, 2), (2, 1, 2), (1, 1, 0)),
    ]
]


@compiled
def pool3d_fn(mode: str):
    x = ft.dtensor4("x")
    outs = [
        pool.pool_3d(x, ws, ignore_border=ib, stride=st, pad=p, mode=m) for m, ib, ws, st, p in POOL3D_CASES
    ]
    return fc.function([x], outs, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_pool_3d_against_loops(mode: str) -> None:
    x = np.random.default_rng(11).normal(size=(2, 5, 4, 7))
    for got, (m, ib, ws, st, p) in zip(pool3d_fn(mode)(x), POOL3D_CASES):
        want = pool3d_reference(x, ws, ib, st, p, m)
        assert_same(got, want, f"mode={m} ignore_border={ib} ws={ws} stride={st} pad={p}", **TOL)


@pytest.mark.parametrize("mode", MODES)
def test_max_pool_2d_same_size_against_numpy(mode: str) -> None:
    x = ft.dtensor3("x")
    f = fc.function([x], pool.max_pool_2d_same_size(x, (2, 3)), mode=mode)
    xv = np.random.default_rng(12).normal(size=(2, 5, 7))
    want = np.zeros_like(xv)
    for k, i, j in itertools.product(range(2), range(2), range(2)):
        win = xv[k, 2 * i : 2 * i + 2, 3 * j : 3 * j + 3]
        want[k, 2 * i : 2 * i + 2, 3 * j : 3 * j + 3] = np.where(win == win.max(), win, 0)
    assert_same(f(xv), want, "max_pool_2d_same_size")
    assert np.count_nonzero(f(xv)) == 8


@pytest.mark.parametrize("mode", GRAD_MODES, ids=["c", "py"])
def test_pool_3d_gradients_match_finite_differences(mode) -> None:
    cases = {
        f"{m} {ib} {ws} {st} {p}": (
            lambda x, m=m, ib=ib, ws=ws, st=st, p=p: pool.pool_3d(x, ws, ib, st, p, m),
            [0],
        )
        for m, ib, ws, st, p in POOL3D_CASES
    }
    cases["same_size"] = (lambda x: pool.max_pool_2d_same_size(x, (2, 2)), [0])
    # distinct values far apart, so no max ties and no max changes within the step
    x = np.random.default_rng(13).permutation(60).reshape(1, 3, 4, 5) * 0.1
    fd_check_grads([ft.dtensor4("x")], cases, [[x]], mode)


def test_pool_3d_errors_name_the_function() -> None:
    with pytest.raises(TypeError, match="pool_3d: input must have 3 or more dims"):
        pool.pool_3d(ft.dmatrix(), (2, 2, 2))
    with pytest.raises(ValueError, match=r"pool_3d: ws must be three ints >= 1 \(depth, rows, cols\)"):
        pool.pool_3d(ft.dtensor3(), (2, 2))
    with pytest.raises(ValueError, match="pool_3d: stride must be three ints"):
        pool.pool_3d(ft.dtensor3(), (2, 2, 2), stride=(0, 1, 1))
    with pytest.raises(ValueError, match="pool_3d: mode must be one of"):
        pool.pool_3d(ft.dtensor3(), (2, 2, 2), mode="min")
    with pytest.raises(ValueError, match="pool_3d: pad=.* needs ignore_border=True"):
        pool.pool_3d(ft.dtensor3(), (2, 2, 2), ignore_border=False, pad=(1, 0, 0))
    with pytest.raises(ValueError, match="pool_3d: pad=.* must be smaller than ws"):
        pool.pool_3d(ft.dtensor3(), (2, 2, 2), pad=(0, 2, 0))
    with pytest.raises(AttributeError, match="pool_4d"):
        pool.pool_4d  # noqa: B018


def test_conv2d_gradient_static_sizes_are_checked_when_building() -> None:
    g = ft.TensorType("float64", (1, 3, 3, 3))("g")
    w = ft.TensorType("float64", (3, 2, 2, 2))("w")
    with pytest.raises(
        ValueError,
        match=r"conv2d_transpose: the input .* has 3x3 rows and cols, but .* gives 4x3 \(check output_shape",
    ):
        ft.nnet.conv2d_transpose(g, w, (1, 2, 5, 4))
    g2 = ft.TensorType("float64", (1, 3, 2, 3))("g2")
    assert ft.nnet.conv2d_transpose(g2, w, (1, 2, 5, 4), input_dilation=(2, 1)).type.shape == (1, 2, 5, 4)


# -- pickles and the cache ------------------------------------------------------------------------
def _extras_graph():
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    up = ft.nnet.conv2d_transpose(x, w, (2, 2, 6, 6), border_mode="half", input_dilation=(2, 2))
    neibs = ft.nnet.images2neibs(ft.nnet.selu(up), (3, 3), (1, 1), mode="wrap_centered")
    out = ft.nnet.bn.batch_normalization_train(neibs, ft.ones((1, 9)), ft.zeros((1, 9)))[0]
    pooled = pool.pool_3d(up, (2, 2, 2), mode="average_exc_pad")
    cost = ft.sum(ft.sqr(out)) + ft.sum(pooled)
    return [x, w], [out, pooled, *fc.grad(cost, [x, w])]


def _extras_values():
    rng = np.random.default_rng(14)
    return rng.normal(size=(2, 3, 3, 3)), rng.normal(size=(3, 2, 3, 3))


@pytest.mark.parametrize("mode", MODES)
def test_pickles_round_trip(mode: str) -> None:
    inputs, outs = _extras_graph()
    f = fc.function(inputs, outs, mode=mode)
    args = _extras_values()
    assert_pickles_round_trip(f, *args)


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_nnet_extras import _extras_graph, _extras_values") + (
        "inputs, outs = _extras_graph()\n"
        "f = fc.function(inputs, outs)\n"
        "r = f(*_extras_values())\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex(), r[2].sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
