"""Two of the deeplearning.net tutorials' models as a Theano user writes them, checked by what
can be computed without them: an RBM trained by persistent contrastive divergence (a Gibbs
chain in ``scan`` whose updates dict the user extends, ``grad(..., consider_constant=[chain
end])``, a random stream's binomial draws, ``givens`` slicing a shared dataset) against the
closed-form free-energy gradient at the chain end the function returns, and the same in the
Python linker; and a masked LSTM over a batch of sequences (``scan`` over the time steps with a
mask, ``alloc``ed initial states, ``softmax`` of the mean hidden state, adadelta's shared
accumulators and ``on_unused_input='ignore'``) against central finite differences and the
Python linker."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.shared_randomstreams import RandomStreams

PY = fc.Mode(linker="py")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# -- an RBM trained by persistent contrastive divergence ----------------------------------------


def _rbm_step(mode, rng: np.random.Generator, n_vis: int = 12, n_hid: int = 6, batch: int = 5, k: int = 2):
    """The tutorial's ``get_cost_updates(persistent=chain, k=k)`` training function, also
    returning the chain's end and the gradients, and its shared variables."""
    data = fc.shared((rng.uniform(size=(4 * batch, n_vis)) > 0.5).astype("float64"), name="data")
    W = fc.shared(rng.uniform(-0.5, 0.5, size=(n_vis, n_hid)), name="W")
    hbias, vbias = fc.shared(np.zeros(n_hid), name="hbias"), fc.shared(np.zeros(n_vis), name="vbias")
    chain = fc.shared(np.zeros((batch, n_hid)), name="persistent")
    streams = RandomStreams(1234)
    x, index = ft.matrix("x"), ft.lscalar("index")

    def free_energy(v):
        return -ft.sum(ft.log(1 + ft.exp(ft.dot(v, W) + hbias)), axis=1) - ft.dot(v, vbias)

    def sample(mean):
        return streams.binomial(size=mean.shape, n=1, p=mean, dtype="float64")

    def gibbs_hvh(h0):
        v1_mean = ft.nnet.sigmoid(ft.dot(h0, W.T) + vbias)
        v1 = sample(v1_mean)
        h1_mean = ft.nnet.sigmoid(ft.dot(v1, W) + hbias)
        return [v1_mean, v1, h1_mean, sample(h1_mean)]

    (_, v_samples, _, h_samples), updates = fc.scan(
        gibbs_hvh, outputs_info=[None, None, None, chain], n_steps=k, name="gibbs_hvh"
    )
    chain_end = v_samples[-1]
    cost = ft.mean(free_energy(x)) - ft.mean(free_energy(chain_end))
    params = [W, hbias, vbias]
    grads = fc.grad(cost, params, consider_constant=[chain_end])
    for p, g in zip(params, grads):
        updates[p] = p - 0.1 * g
    updates[chain] = h_samples[-1]
    f = fc.function(
        [index],
        [cost, chain_end, *grads],
        updates=updates,
        givens={x: data[index * batch : (index + 1) * batch]},
        mode=mode,
    )
    return f, data, params


def test_rbm_persistent_cd_gradients_are_the_free_energy_gradients_at_the_chain_end() -> None:
    f, data, (W, hbias, vbias) = _rbm_step(None, np.random.default_rng(3))
    for step in range(3):
        w0, hb0, vb0 = W.get_value(), hbias.get_value(), vbias.get_value()
        cost, vk, gW, ghb, gvb = f(step % 4)
        v0 = data.get_value()[(step % 4) * 5 : (step % 4 + 1) * 5]
        assert set(np.unique(vk)) <= {0.0, 1.0}  # binomial draws
        s0, sk = _sigmoid(v0 @ w0 + hb0), _sigmoid(vk @ w0 + hb0)
        np.testing.assert_allclose(gW, (vk.T @ sk - v0.T @ s0) / len(v0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ghb, (sk - s0).mean(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gvb, (vk - v0).mean(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(W.get_value(), w0 - 0.1 * gW, rtol=1e-12)

        fe0, fek = (-np.log1p(np.exp(v @ w0 + hb0)).sum(axis=1) - v @ vb0 for v in (v0, vk))
        np.testing.assert_allclose(cost, fe0.mean() - fek.mean(), rtol=1e-10, atol=1e-12)


def test_rbm_training_is_the_same_in_the_python_linker() -> None:
    """The same seed draws the same chain in both linkers, so every step agrees."""
    runs = []
    for mode in (None, PY):
        f, _, params = _rbm_step(mode, np.random.default_rng(7))
        runs.append(([f(i) for i in range(4)], [p.get_value() for p in params]))
    (steps_c, params_c), (steps_py, params_py) = runs
    for a, b in zip(steps_c, steps_py):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    for u, v in zip(params_c, params_py):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


# -- a masked LSTM classifier trained by adadelta ------------------------------------------------


def _lstm(mode, rng: np.random.Generator, dim: int = 4, n_words: int = 20, ydim: int = 2):
    params = OrderedDict()
    params["Wemb"] = 0.1 * rng.normal(size=(n_words, dim))
    params["lstm_W"] = 0.3 * rng.normal(size=(dim, 4 * dim))
    params["lstm_U"] = 0.3 * rng.normal(size=(dim, 4 * dim))
    params["lstm_b"] = 0.1 * rng.normal(size=4 * dim)
    params["U"] = 0.3 * rng.normal(size=(dim, ydim))
    params["b"] = np.zeros(ydim)
    tparams = OrderedDict((k, fc.shared(v, name=k)) for k, v in params.items())
    x, mask, y = ft.matrix("x", dtype="int64"), ft.matrix("mask"), ft.vector("y", dtype="int64")
    n_steps, n_samples = x.shape[0], x.shape[1]
    emb = tparams["Wemb"][x.flatten()].reshape([n_steps, n_samples, dim])

    def _slice(_x, n):
        return _x[:, n * dim : (n + 1) * dim]

    def _step(m_, x_, h_, c_):
        preact = ft.dot(h_, tparams["lstm_U"]) + x_
        i, f, o = (ft.nnet.sigmoid(_slice(preact, n)) for n in range(3))
        c = f * c_ + i * ft.tanh(_slice(preact, 3))
        c = m_[:, None] * c + (1.0 - m_)[:, None] * c_
        h = o * ft.tanh(c)
        h = m_[:, None] * h + (1.0 - m_)[:, None] * h_
        return h, c

    below = ft.dot(emb, tparams["lstm_W"]) + tparams["lstm_b"]
    (h, _), _ = fc.scan(
        _step,
        sequences=[mask, below],
        outputs_info=[ft.alloc(np.float64(0.0), n_samples, dim), ft.alloc(np.float64(0.0), n_samples, dim)],
        n_steps=n_steps,
    )
    proj = (h * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
    pred = ft.nnet.softmax(ft.dot(proj, tparams["U"]) + tparams["b"])
    cost = -ft.log(pred[ft.arange(n_samples), y] + 1e-8).mean()
    grads = fc.grad(cost, wrt=list(tparams.values()))
    f_cost = fc.function([x, mask, y], cost, mode=mode)
    f_grad = fc.function([x, mask, y], grads, mode=mode)
    # adadelta, as the tutorial writes it
    zipped = [fc.shared(p.get_value() * 0.0, name=f"{k}_grad") for k, p in tparams.items()]
    up2 = [fc.shared(p.get_value() * 0.0, name=f"{k}_rup2") for k, p in tparams.items()]
    g2 = [fc.shared(p.get_value() * 0.0, name=f"{k}_rgrad2") for k, p in tparams.items()]
    f_grad_shared = fc.function(
        [x, mask, y],
        cost,
        updates=[(z, g) for z, g in zip(zipped, grads)]
        + [(r, 0.95 * r + 0.05 * (g**2)) for r, g in zip(g2, grads)],
        mode=mode,
    )
    lr = ft.scalar("lr")
    updir = [-ft.sqrt(u + 1e-6) / ft.sqrt(r + 1e-6) * z for z, u, r in zip(zipped, up2, g2)]
    f_update = fc.function(
        [lr],
        [],
        updates=[(u, 0.95 * u + 0.05 * (d**2)) for u, d in zip(up2, updir)]
        + [(p, p + d) for p, d in zip(tparams.values(), updir)],
        on_unused_input="ignore",
        mode=mode,
    )
    return tparams, f_cost, f_grad, f_grad_shared, f_update


def _sequences(rng: np.random.Generator, n_words: int = 20):
    xs = rng.integers(1, n_words, size=(5, 3))
    ms = np.ones((5, 3))
    ms[3:, 0] = 0  # the first sequence is 3 steps long, the others 5
    ms[4:, 2] = 0
    return xs, ms, xs[0] % 2


def _lstm_cost_numpy(p: dict, xs: np.ndarray, ms: np.ndarray, ys: np.ndarray) -> float:
    """The masked LSTM's cost written in numpy, step by step."""
    dim = p["lstm_U"].shape[0]
    below = p["Wemb"][xs] @ p["lstm_W"] + p["lstm_b"]
    h = c = np.zeros((xs.shape[1], dim))
    hs = []
    for m, x_ in zip(ms, below):
        pre = h @ p["lstm_U"] + x_
        i, f, o = (_sigmoid(pre[:, n * dim : (n + 1) * dim]) for n in range(3))
        c_new = f * c + i * np.tanh(pre[:, 3 * dim :])
        c = m[:, None] * c_new + (1 - m)[:, None] * c
        h = m[:, None] * (o * np.tanh(c)) + (1 - m)[:, None] * h
        hs.append(h)
    proj = (np.array(hs) * ms[:, :, None]).sum(axis=0) / ms.sum(axis=0)[:, None]
    z = proj @ p["U"] + p["b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    pred = e / e.sum(axis=1, keepdims=True)
    return float(-np.log(pred[np.arange(len(ys)), ys] + 1e-8).mean())


def test_lstm_cost_is_numpys() -> None:
    rng = np.random.default_rng(4)
    tparams, f_cost, _, _, _ = _lstm(None, rng)
    xs, ms, ys = _sequences(rng)
    want = _lstm_cost_numpy({k: v.get_value() for k, v in tparams.items()}, xs, ms, ys)
    np.testing.assert_allclose(f_cost(xs, ms, ys), want, rtol=1e-12)


def test_lstm_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(5)
    tparams, f_cost, f_grad, _, _ = _lstm(None, rng)
    xs, ms, ys = _sequences(rng)
    grads = dict(zip(tparams, f_grad(xs, ms, ys)))
    eps = 1e-6
    for name in ("lstm_W", "lstm_U", "lstm_b", "U", "Wemb"):
        p = tparams[name]
        base = p.get_value()
        flat = base.ravel()
        picks = (
            [int(xs[0, 0]) * base.shape[1] + 1] if name == "Wemb" else rng.choice(flat.size, 3, replace=False)
        )
        for j in picks:
            vals = []
            for sign in (1, -1):
                moved = flat.copy()
                moved[j] += sign * eps
                p.set_value(moved.reshape(base.shape))
                vals.append(f_cost(xs, ms, ys))
            p.set_value(base)
            fd = (vals[0] - vals[1]) / (2 * eps)
            np.testing.assert_allclose(grads[name].ravel()[j], fd, rtol=1e-6, atol=1e-9, err_msg=name)


def test_lstm_adadelta_training_is_the_same_in_the_python_linker_and_lowers_the_cost() -> None:
    runs = []
    for mode in (None, PY):
        rng = np.random.default_rng(11)
        tparams, f_cost, _, f_grad_shared, f_update = _lstm(mode, rng)
        xs, ms, ys = _sequences(rng)
        costs = []
        for _ in range(15):
            costs.append(float(f_grad_shared(xs, ms, ys)))
            f_update(0.0001)
        runs.append((costs, [p.get_value() for p in tparams.values()], f_cost(xs, ms, ys)))
    (costs_c, params_c, end_c), (costs_py, params_py, _) = runs
    np.testing.assert_allclose(costs_c, costs_py, rtol=1e-10)
    for u, v in zip(params_c, params_py):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)
    assert end_c < costs_c[0]
