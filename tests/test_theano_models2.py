"""More of the deeplearning.net tutorials' models as a Theano user writes them (only the import
lines changed: ``import fncache as theano``, ``import fncache.tensor as T``), each checked
against the same model written in numpy, central finite differences in float64, the Python
linker and a pickle round trip of its trained functions: LeNet (``conv2d``, ``pool_2d`` max
pooling, a tanh ``HiddenLayer`` and a ``LogisticRegression`` over a shared dataset sliced by
``givens``), the MLP class with its L1/L2 terms, a denoising autoencoder (tied weights,
corruption by ``theano_rng.binomial``) and two of them stacked (``In`` defaults for the
corruption level and learning rate, then finetuning), and the contractive autoencoder's
jacobian penalty. Then a model as PyMC builds it: the log-density of a hierarchical normal
model with a mixture likelihood, as one function of a flat vector of free parameters (log and
logit transforms, ``switch`` bounds checks, ``logsumexp``), against scipy.stats and finite
differences, and found in the cache by a fresh process."""

from __future__ import annotations

import pickle

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy
import numpy as np
import pytest

from numpy.lib.stride_tricks import sliding_window_view

import fncache as pytensor
import fncache as theano
import fncache.tensor as pt
import fncache.tensor as T

from fcutil import assert_second_process_compiles_nothing, in_tests_dir
from fncache.tensor.nnet import conv2d
from fncache.tensor.shared_randomstreams import RandomStreams
from fncache.tensor.signal import pool

PY = theano.Mode(linker="py")
MODES = [None, PY]
MODE_IDS = ["c", "py"]


# -- the tutorials' layers, as they are written -------------------------------------------------
class LogisticRegression:
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(
            value=numpy.zeros((n_in, n_out), dtype=theano.config.floatX), name="W", borrow=True
        )
        self.b = theano.shared(value=numpy.zeros((n_out,), dtype=theano.config.floatX), name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError(
                "y should have the same shape as self.y_pred", ("y", y.type, "y_pred", self.y_pred.type)
            )
        if y.dtype.startswith("int"):
            return T.mean(T.neq(self.y_pred, y))
        raise NotImplementedError()


class HiddenLayer:
    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            W_values = numpy.asarray(
                rng.uniform(
                    low=-numpy.sqrt(6.0 / (n_in + n_out)),
                    high=numpy.sqrt(6.0 / (n_in + n_out)),
                    size=(n_in, n_out),
                ),
                dtype=theano.config.floatX,
            )
            if activation == theano.tensor.nnet.sigmoid:
                W_values *= 4
            W = theano.shared(value=W_values, name="W", borrow=True)
        if b is None:
            b_values = numpy.zeros((n_out,), dtype=theano.config.floatX)
            b = theano.shared(value=b_values, name="b", borrow=True)
        self.W = W
        self.b = b
        lin_output = T.dot(input, self.W) + self.b
        self.output = lin_output if activation is None else activation(lin_output)
        self.params = [self.W, self.b]


class LeNetConvPoolLayer:
    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        self.input = input
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        W_bound = numpy.sqrt(6.0 / (fan_in + fan_out))
        self.W = theano.shared(
            numpy.asarray(
                rng.uniform(low=-W_bound, high=W_bound, size=filter_shape), dtype=theano.config.floatX
            ),
            borrow=True,
        )
        b_values = numpy.zeros((filter_shape[0],), dtype=theano.config.floatX)
        self.b = theano.shared(value=b_values, borrow=True)
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape)
        pooled_out = pool.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle("x", 0, "x", "x"))
        self.params = [self.W, self.b]


def shared_dataset(data_xy, borrow=True):
    data_x, data_y = data_xy
    shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
    shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, "int32")


# -- numpy references -------------------------------------------------------------------------------
def np_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def np_nll_and_grad(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """mean(-log p[i, y_i]) and its gradient w.r.t. the logits p is the softmax of."""
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return float(-np.mean(np.log(p[np.arange(len(y)), y]))), d / len(y)


def np_conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A valid convolution with flipped filters, as ``conv2d``'s default ``filter_flip``."""
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))
    return np.einsum("bcijuv,kcuv->bkij", win, w[:, :, ::-1, ::-1])


def np_conv2d_grads(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradients w.r.t. ``x`` and ``w`` of ``sum(np_conv2d(x, w) * g)``."""
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))
    gw = np.einsum("bcijuv,bkij->kcuv", win, g)[:, :, ::-1, ::-1]
    wf = w[:, :, ::-1, ::-1]
    gx = np.zeros_like(x)
    oh, ow = g.shape[2:]
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            gx[:, :, u : u + oh, v : v + ow] += np.einsum("bkij,kc->bcij", g, wf[:, :, u, v])
    return gx, gw


def np_max_pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pooling that drops an odd last row or column (``ignore_border=True``), and
    where each maximum was (no ties in these values)."""
    b, c, h, w = x.shape
    blocks = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(b, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    return out, blocks == out[:, :, :, None, :, None]


def np_max_pool_grad(x: np.ndarray, where: np.ndarray, g: np.ndarray) -> np.ndarray:
    b, c, h, w = x.shape
    gx = np.zeros_like(x)
    gx[:, :, : h // 2 * 2, : w // 2 * 2] = (where * g[:, :, :, None, :, None]).reshape(
        b, c, h // 2 * 2, w // 2 * 2
    )
    return gx


def fd_check(f_cost, f_grads, params, rng, index: int, picks: int = 3, eps: float = 1e-6) -> None:
    """Each shared variable's gradient from ``f_grads(index)`` equals central finite
    differences of ``f_cost(index)`` at ``picks`` of its entries."""
    grads = f_grads(index)
    for p, g in zip(params, grads):
        base = p.get_value()
        flat = base.ravel()
        for j in rng.choice(flat.size, min(picks, flat.size), replace=False):
            vals = []
            for sign in (1, -1):
                moved = flat.copy()
                moved[j] += sign * eps
                p.set_value(moved.reshape(base.shape))
                vals.append(float(f_cost(index)))
            p.set_value(base)
            fd = (vals[0] - vals[1]) / (2 * eps)
            np.testing.assert_allclose(g.ravel()[j], fd, rtol=1e-6, atol=1e-9, err_msg=f"{p.name} [{j}]")


# -- LeNet ------------------------------------------------------------------------------------------
LENET = dict(batch_size=4, side=15, nkerns=(3, 4), n_hidden=10, n_out=3, n_batches=4)


def _lenet_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = LENET["batch_size"] * LENET["n_batches"]
    return rng.uniform(size=(n, LENET["side"] ** 2)), rng.integers(0, LENET["n_out"], size=n)


def build_lenet(mode: Any, seed: int, learning_rate: float = 0.1) -> dict[str, Any]:
    """``evaluate_lenet5``'s model and functions, at a small size."""
    rng = numpy.random.RandomState(seed)
    batch_size, side, nkerns = LENET["batch_size"], LENET["side"], LENET["nkerns"]
    train_set_x, train_set_y = shared_dataset(_lenet_data(seed))
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    layer0_input = x.reshape((batch_size, 1, side, side))
    layer0 = LeNetConvPoolLayer(
        rng, input=layer0_input, image_shape=(batch_size, 1, side, side), filter_shape=(nkerns[0], 1, 3, 3)
    )
    s1 = (side - 2) // 2
    layer1 = LeNetConvPoolLayer(
        rng,
        input=layer0.output,
        image_shape=(batch_size, nkerns[0], s1, s1),
        filter_shape=(nkerns[1], nkerns[0], 3, 3),
    )
    s2 = (s1 - 2) // 2
    layer2_input = layer1.output.flatten(2)
    layer2 = HiddenLayer(
        rng, input=layer2_input, n_in=nkerns[1] * s2 * s2, n_out=LENET["n_hidden"], activation=T.tanh
    )
    layer3 = LogisticRegression(input=layer2.output, n_in=LENET["n_hidden"], n_out=LENET["n_out"])
    cost = layer3.negative_log_likelihood(y)
    givens = {
        x: train_set_x[index * batch_size : (index + 1) * batch_size],
        y: train_set_y[index * batch_size : (index + 1) * batch_size],
    }
    test_model = theano.function([index], layer3.errors(y), givens=givens, mode=mode)
    params = layer3.params + layer2.params + layer1.params + layer0.params
    grads = T.grad(cost, params)
    updates = [(param_i, param_i - learning_rate * grad_i) for param_i, grad_i in zip(params, grads)]
    train_model = theano.function([index], cost, updates=updates, givens=givens, mode=mode)
    return dict(
        train_model=train_model,
        test_model=test_model,
        cost_model=theano.function([index], cost, givens=givens, mode=mode),
        grad_model=theano.function([index], grads, givens=givens, mode=mode),
        params=params,
        data=_lenet_data(seed),
    )


def np_lenet_step(p: list[np.ndarray], xb: np.ndarray, yb: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The cost and gradients of LeNet in numpy; ``p`` in the tutorial's order
    ``[W3, b3, W2, b2, W1, b1, W0, b0]``."""
    W3, b3, W2, b2, W1, b1, W0, b0 = p
    side = LENET["side"]
    x0 = xb.reshape(len(xb), 1, side, side)
    c0 = np_conv2d(x0, W0)
    q0, m0 = np_max_pool(c0)
    h0 = np.tanh(q0 + b0[None, :, None, None])
    c1 = np_conv2d(h0, W1)
    q1, m1 = np_max_pool(c1)
    h1 = np.tanh(q1 + b1[None, :, None, None])
    f = h1.reshape(len(xb), -1)
    h2 = np.tanh(f @ W2 + b2)
    cost, d3 = np_nll_and_grad(np_softmax(h2 @ W3 + b3), yb)
    d2 = (d3 @ W3.T) * (1 - h2**2)
    d1 = (d2 @ W2.T).reshape(h1.shape) * (1 - h1**2)
    g_h0, gW1 = np_conv2d_grads(h0, W1, np_max_pool_grad(c1, m1, d1))
    d0 = g_h0 * (1 - h0**2)
    _, gW0 = np_conv2d_grads(x0, W0, np_max_pool_grad(c0, m0, d0))
    grads = [h2.T @ d3, d3.sum(0), f.T @ d2, d2.sum(0), gW1, d1.sum((0, 2, 3)), gW0, d0.sum((0, 2, 3))]
    return cost, grads


def test_lenet_sgd_matches_numpy() -> None:
    m = build_lenet(None, 23455)
    xv, yv = m["data"]
    bs = LENET["batch_size"]
    p = [q.get_value() for q in m["params"]]
    for step in range(5):
        i = step % LENET["n_batches"]
        xb, yb = xv[i * bs : (i + 1) * bs], yv[i * bs : (i + 1) * bs]
        want, grads = np_lenet_step(p, xb, yb)
        np.testing.assert_allclose(m["train_model"](i), want, rtol=1e-12, err_msg=f"step {step}")
        p = [v - 0.1 * g for v, g in zip(p, grads)]
        for q, v in zip(m["params"], p):
            np.testing.assert_allclose(q.get_value(), v, rtol=1e-10, atol=1e-13, err_msg=f"step {step}")
    errors = [m["test_model"](i) for i in range(LENET["n_batches"])]
    assert all(e in (0, 0.25, 0.5, 0.75, 1) for e in errors)


def test_lenet_gradients_match_finite_differences() -> None:
    m = build_lenet(None, 7)
    fd_check(m["cost_model"], m["grad_model"], m["params"], np.random.default_rng(0), 1, 3)


def test_lenet_training_is_the_same_in_the_python_linker() -> None:
    runs = []
    for mode in MODES:
        m = build_lenet(mode, 99)
        costs = [m["train_model"](i % LENET["n_batches"]) for i in range(4)]
        runs.append((costs, [q.get_value() for q in m["params"]], m["test_model"](2)))
    (costs_c, params_c, err_c), (costs_py, params_py, err_py) = runs
    np.testing.assert_allclose(costs_c, costs_py, rtol=1e-11)
    for u, v in zip(params_c, params_py):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-13)
    assert err_c == err_py


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_lenet_trained_functions_pickle_with_their_parameters(mode: Any) -> None:
    m = build_lenet(mode, 5)
    for i in range(2):
        m["train_model"](i)
    train2, test2, params2 = pickle.loads(pickle.dumps((m["train_model"], m["test_model"], m["params"])))
    for i in (2, 3, 0):
        assert train2(i) == m["train_model"](i)
        assert test2(i) == m["test_model"](i)
    for q, q2 in zip(m["params"], params2):
        assert np.array_equal(q.get_value(), q2.get_value())
    # the loaded functions share the loaded parameters
    params2[0].set_value(np.zeros_like(params2[0].get_value()))
    params2[1].set_value(np.zeros_like(params2[1].get_value()))
    assert test2(1) == np.mean(np.argmax(np.zeros((4, 3)), axis=1) != m["data"][1][4:8])


# -- the MLP class with L1 and L2 terms --------------------------------------------------------------
class MLP:
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.hiddenLayer = HiddenLayer(rng=rng, input=input, n_in=n_in, n_out=n_hidden, activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(
            input=self.hiddenLayer.output, n_in=n_hidden, n_out=n_out
        )
        self.L1 = abs(self.hiddenLayer.W).sum() + abs(self.logRegressionLayer.W).sum()
        self.L2_sqr = (self.hiddenLayer.W**2).sum() + (self.logRegressionLayer.W**2).sum()
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.hiddenLayer.params + self.logRegressionLayer.params
        self.input = input


def build_mlp(mode: Any, seed: int, learning_rate=0.05, L1_reg=0.01, L2_reg=0.001, batch_size=5):
    """``test_mlp``'s model and functions, at a small size."""
    rng = numpy.random.RandomState(seed)
    data = (rng.normal(size=(20, 6)), rng.randint(0, 3, size=20))
    train_set_x, train_set_y = shared_dataset(data)
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    classifier = MLP(rng=rng, input=x, n_in=6, n_hidden=7, n_out=3)
    cost = classifier.negative_log_likelihood(y) + L1_reg * classifier.L1 + L2_reg * classifier.L2_sqr
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - learning_rate * gparam) for param, gparam in zip(classifier.params, gparams)]
    givens = {
        x: train_set_x[index * batch_size : (index + 1) * batch_size],
        y: train_set_y[index * batch_size : (index + 1) * batch_size],
    }
    return dict(
        train_model=theano.function(inputs=[index], outputs=cost, updates=updates, givens=givens, mode=mode),
        validate_model=theano.function(
            inputs=[index], outputs=classifier.errors(y), givens=givens, mode=mode
        ),
        cost_model=theano.function([index], cost, givens=givens, mode=mode),
        grad_model=theano.function([index], gparams, givens=givens, mode=mode),
        params=classifier.params,
        data=data,
    )


def test_mlp_class_sgd_matches_numpy_and_its_gradients_finite_differences() -> None:
    m = build_mlp(None, 1234)
    xv, yv = m["data"]
    w1, c1, w2, c2 = (q.get_value() for q in m["params"])
    for step in range(4):
        xb, yb = xv[step * 5 : (step + 1) * 5], yv[step * 5 : (step + 1) * 5]
        h = np.tanh(xb @ w1 + c1)
        nll, d2 = np_nll_and_grad(np_softmax(h @ w2 + c2), yb)
        l1 = np.abs(w1).sum() + np.abs(w2).sum()
        l2 = (w1**2).sum() + (w2**2).sum()
        np.testing.assert_allclose(m["train_model"](step), nll + 0.01 * l1 + 0.001 * l2, rtol=1e-12)
        dh = (d2 @ w2.T) * (1 - h**2)
        gw1 = xb.T @ dh + 0.01 * np.sign(w1) + 0.002 * w1
        gw2 = h.T @ d2 + 0.01 * np.sign(w2) + 0.002 * w2
        w1, c1, w2, c2 = w1 - 0.05 * gw1, c1 - 0.05 * dh.sum(0), w2 - 0.05 * gw2, c2 - 0.05 * d2.sum(0)
        for q, v in zip(m["params"], (w1, c1, w2, c2)):
            np.testing.assert_allclose(q.get_value(), v, rtol=1e-11, atol=1e-14)
    # away from zero weights, where |w| has no derivative
    fd_check(m["cost_model"], m["grad_model"], m["params"], np.random.default_rng(1), 2, 4)


def test_mlp_class_is_the_same_in_the_python_linker_and_pickles() -> None:
    runs = []
    for mode in MODES:
        m = build_mlp(mode, 77)
        costs = [m["train_model"](i % 4) for i in range(5)]
        train2, validate2, params2 = pickle.loads(
            pickle.dumps((m["train_model"], m["validate_model"], m["params"]))
        )
        for i in range(4):
            assert train2(i) == m["train_model"](i) and validate2(i) == m["validate_model"](i)
        runs.append((costs, [q.get_value() for q in params2]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    for u, v in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-14)


def test_a_pickled_classifier_compiles_its_prediction_after_loading() -> None:
    """``logistic_sgd.py``'s ``predict()``: the trained classifier object (its symbolic graph
    and shared variables) pickled as ``best_model.pkl``, loaded, and a function compiled from
    its ``input`` and ``y_pred``."""
    m = build_mlp(None, 3)
    for i in range(4):
        m["train_model"](i)
    classifier = MLP(numpy.random.RandomState(0), T.matrix("x"), 6, 7, 3)
    for q, trained in zip(classifier.params, m["params"]):
        q.set_value(trained.get_value())
    loaded = pickle.loads(pickle.dumps(classifier))
    for q, q2 in zip(classifier.params, loaded.params):
        assert q2 is not q and np.array_equal(q2.get_value(), q.get_value())
    predict_model = theano.function(inputs=[loaded.input], outputs=loaded.logRegressionLayer.y_pred)
    xs = m["data"][0]
    w1, c1, w2, c2 = (q.get_value() for q in m["params"])
    np.testing.assert_array_equal(predict_model(xs), np.argmax(np.tanh(xs @ w1 + c1) @ w2 + c2, axis=1))
    y = T.ivector("y")
    errors = theano.function([loaded.input, y], loaded.errors(y))(xs, m["data"][1].astype("int32"))
    assert errors == np.mean(predict_model(xs) != m["data"][1])


# -- the denoising autoencoder ----------------------------------------------------------------------
class dA:
    def __init__(
        self,
        numpy_rng,
        theano_rng=None,
        input=None,
        n_visible=784,
        n_hidden=500,
        W=None,
        bhid=None,
        bvis=None,
    ):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        # Theano's tutorial writes `if not theano_rng:` and `if not W:`, which a variable
        # refuses (docs/porting.md, "What differs")
        if theano_rng is None:
            theano_rng = RandomStreams(numpy_rng.randint(2**30))
        if W is None:
            initial_W = numpy.asarray(
                numpy_rng.uniform(
                    low=-4 * numpy.sqrt(6.0 / (n_hidden + n_visible)),
                    high=4 * numpy.sqrt(6.0 / (n_hidden + n_visible)),
                    size=(n_visible, n_hidden),
                ),
                dtype=theano.config.floatX,
            )
            W = theano.shared(value=initial_W, name="W", borrow=True)
        if bvis is None:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX), borrow=True)
        if bhid is None:
            bhid = theano.shared(
                value=numpy.zeros(n_hidden, dtype=theano.config.floatX), name="b", borrow=True
            )
        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        if input is None:
            self.x = T.dmatrix(name="input")
        else:
            self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        return (
            self.theano_rng.binomial(
                size=input.shape, n=1, p=1 - corruption_level, dtype=theano.config.floatX
            )
            * input
        )

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        self.tilde_x = tilde_x  # kept so that the tests can read the draws
        y = self.get_hidden_values(tilde_x)
        z = self.get_reconstructed_input(y)
        L = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]
        return (cost, updates)


def np_dA_step(
    W: np.ndarray, b: np.ndarray, bp: np.ndarray, x: np.ndarray, tx: np.ndarray
) -> tuple[float, list[np.ndarray], np.ndarray]:
    """The tied-weights dA's cost, its gradients w.r.t. ``[W, b, b']`` given the corrupted
    input ``tx``, and the gradient w.r.t. ``tx``."""
    y = np_sigmoid(tx @ W + b)
    z = np_sigmoid(y @ W.T + bp)
    cost = float(np.mean(-np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), axis=1)))
    dz = (z - x) / len(x)
    dy = (dz @ W) * y * (1 - y)
    return cost, [tx.T @ dy + dz.T @ y, dy.sum(0), dz.sum(0)], dy @ W.T


def _binary_mask(tilde: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The corruption mask a corrupted input was made with (``x`` has no zeros)."""
    mask = tilde / x
    np.testing.assert_allclose(mask, np.round(mask), atol=1e-12)
    assert set(np.unique(np.round(mask))) <= {0.0, 1.0}
    return np.round(mask)


def build_dA(mode: Any, seed: int, corruption_level=0.3, learning_rate=0.1, batch_size=4) -> dict[str, Any]:
    """``test_dA``'s model and training function at a small size, and two functions that draw
    without moving the stream on: what the next training step will draw, and the cost."""
    rng = numpy.random.RandomState(seed)
    theano_rng = RandomStreams(rng.randint(2**30))
    data = rng.uniform(0.05, 1, size=(4 * batch_size, 10))
    train_set_x = theano.shared(data, borrow=True)
    index = T.lscalar()
    x = T.matrix("x")
    da = dA(numpy_rng=rng, theano_rng=theano_rng, input=x, n_visible=10, n_hidden=6)
    cost, updates = da.get_cost_updates(corruption_level=corruption_level, learning_rate=learning_rate)
    givens = {x: train_set_x[index * batch_size : (index + 1) * batch_size]}
    train_da = theano.function([index], cost, updates=updates, givens=givens, mode=mode)
    kw = dict(givens=givens, mode=mode, no_default_updates=True)
    return dict(
        train_da=train_da,
        peek=theano.function([index], da.tilde_x, **kw),
        cost=theano.function([index], cost, **kw),
        grads=theano.function([index], T.grad(cost, da.params), **kw),
        da=da,
        data=data,
    )


def test_dA_training_matches_numpy_given_its_draws() -> None:
    m = build_dA(None, 123)
    W, b, bp = (q.get_value() for q in m["da"].params)
    masks = []
    for step in range(6):
        i = step % 4
        xb = m["data"][i * 4 : (i + 1) * 4]
        tilde = m["peek"](i)
        np.testing.assert_array_equal(m["peek"](i), tilde)  # peeking draws the same again
        masks.append(_binary_mask(tilde, xb))
        want, grads, _ = np_dA_step(W, b, bp, xb, tilde)
        np.testing.assert_allclose(m["train_da"](i), want, rtol=1e-12, err_msg=f"step {step}")
        W, b, bp = (v - 0.1 * g for v, g in zip((W, b, bp), grads))
        for q, v in zip(m["da"].params, (W, b, bp)):
            np.testing.assert_allclose(q.get_value(), v, rtol=1e-11, atol=1e-14, err_msg=f"step {step}")
    # each step draws anew, and keeps about 1 - corruption_level of the entries
    assert len({mk.tobytes() for mk in masks}) == len(masks)
    assert 0.5 < np.mean(masks) < 0.9


def test_dA_gradients_match_finite_differences() -> None:
    m = build_dA(None, 321)
    for i in range(2):
        m["train_da"](i)
    fd_check(m["cost"], m["grads"], m["da"].params, np.random.default_rng(2), 3, 4)


def test_dA_training_is_the_same_in_the_python_linker_and_pickles_with_its_stream() -> None:
    runs = []
    for mode in MODES:
        m = build_dA(mode, 42)
        costs = [m["train_da"](i % 4) for i in range(3)]
        train2, params2 = pickle.loads(pickle.dumps((m["train_da"], m["da"].params)))
        # the loaded function carries the stream's state: it draws what the original draws next
        later = [m["train_da"](i) for i in range(3)]
        assert [train2(i) for i in range(3)] == later
        for q, q2 in zip(m["da"].params, params2):
            assert np.array_equal(q.get_value(), q2.get_value())
        runs.append((costs + later, [q.get_value() for q in m["da"].params]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    for u, v in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-14)


# -- two stacked denoising autoencoders, pretrained then finetuned ----------------------------------
class SdA:
    def __init__(self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=(500, 500), n_outs=10):
        self.sigmoid_layers = []
        self.dA_layers = []
        self.params = []
        self.n_layers = len(hidden_layers_sizes)
        assert self.n_layers > 0
        if theano_rng is None:
            theano_rng = RandomStreams(numpy_rng.randint(2**30))
        self.x = T.matrix("x")
        self.y = T.ivector("y")
        for i in range(self.n_layers):
            input_size = n_ins if i == 0 else hidden_layers_sizes[i - 1]
            layer_input = self.x if i == 0 else self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(
                rng=numpy_rng,
                input=layer_input,
                n_in=input_size,
                n_out=hidden_layers_sizes[i],
                activation=T.nnet.sigmoid,
            )
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            dA_layer = dA(
                numpy_rng=numpy_rng,
                theano_rng=theano_rng,
                input=layer_input,
                n_visible=input_size,
                n_hidden=hidden_layers_sizes[i],
                W=sigmoid_layer.W,
                bhid=sigmoid_layer.b,
            )
            self.dA_layers.append(dA_layer)
        self.logLayer = LogisticRegression(
            input=self.sigmoid_layers[-1].output, n_in=hidden_layers_sizes[-1], n_out=n_outs
        )
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)

    def pretraining_functions(self, train_set_x, batch_size, mode=None):
        index = T.lscalar("index")
        corruption_level = T.scalar("corruption")
        learning_rate = T.scalar("lr")
        batch_begin = index * batch_size
        batch_end = batch_begin + batch_size
        pretrain_fns, peek_fns = [], []
        for dA_layer in self.dA_layers:
            cost, updates = dA_layer.get_cost_updates(corruption_level, learning_rate)
            fn = theano.function(
                inputs=[index, theano.In(corruption_level, value=0.2), theano.In(learning_rate, value=0.1)],
                outputs=cost,
                updates=updates,
                givens={self.x: train_set_x[batch_begin:batch_end]},
                mode=mode,
            )
            pretrain_fns.append(fn)
            # what the next call draws (for the tests)
            peek_fns.append(
                theano.function(
                    [index, theano.In(corruption_level, value=0.2)],
                    [dA_layer.x, dA_layer.tilde_x],
                    givens={self.x: train_set_x[batch_begin:batch_end]},
                    no_default_updates=True,
                    mode=mode,
                )
            )
        return pretrain_fns, peek_fns

    def build_finetune_functions(self, train_set_x, train_set_y, batch_size, learning_rate, mode=None):
        index = T.lscalar("index")
        gparams = T.grad(self.finetune_cost, self.params)
        updates = [(param, param - gparam * learning_rate) for param, gparam in zip(self.params, gparams)]
        givens = {
            self.x: train_set_x[index * batch_size : (index + 1) * batch_size],
            self.y: train_set_y[index * batch_size : (index + 1) * batch_size],
        }
        train_fn = theano.function(
            inputs=[index],
            outputs=self.finetune_cost,
            updates=updates,
            givens=givens,
            name="train",
            mode=mode,
        )
        test_score_i = theano.function([index], self.errors, givens=givens, name="test", mode=mode)
        return train_fn, test_score_i


def build_sda(mode: Any, seed: int, batch_size: int = 4) -> dict[str, Any]:
    numpy_rng = numpy.random.RandomState(seed)
    data = (
        numpy_rng.uniform(0.05, 1, size=(3 * batch_size, 8)),
        numpy_rng.randint(0, 2, size=3 * batch_size),
    )
    train_set_x, train_set_y = shared_dataset(data)
    sda = SdA(numpy_rng=numpy_rng, n_ins=8, hidden_layers_sizes=[6, 5], n_outs=2)
    pretrain, peek = sda.pretraining_functions(train_set_x=train_set_x, batch_size=batch_size, mode=mode)
    train_fn, test_fn = sda.build_finetune_functions(train_set_x, train_set_y, batch_size, 0.1, mode=mode)
    return dict(sda=sda, pretrain=pretrain, peek=peek, train_fn=train_fn, test_fn=test_fn, data=data)


def _sda_schedule(m: dict[str, Any]) -> list[float]:
    """Pretraining of each layer (the first at the default corruption and rate, the second at
    its own), then finetuning."""
    costs = [m["pretrain"][0](i) for i in range(3)]
    costs += [m["pretrain"][1](i, corruption=0.3, lr=0.05) for i in (2, 1)]
    return costs + [m["train_fn"](i) for i in range(3)]


def test_sda_pretraining_and_finetuning_match_numpy() -> None:
    m = build_sda(None, 89677)
    sda, (xv, yv) = m["sda"], m["data"]
    p = [q.get_value() for q in sda.params]  # W0, b0, W1, b1, W_log, b_log
    bprime = [d.b_prime.get_value() for d in sda.dA_layers]
    schedule = [(0, i, 0.2, 0.1) for i in range(3)] + [(1, i, 0.3, 0.05) for i in (2, 1)]
    for layer, i, level, lr in schedule:
        x_in, tilde = m["peek"][layer](i, level)
        xb = xv[i * 4 : (i + 1) * 4]
        want_in = xb if layer == 0 else np_sigmoid(xb @ p[0] + p[1])
        np.testing.assert_allclose(x_in, want_in, rtol=1e-12)
        _binary_mask(tilde, want_in)
        W, b = p[2 * layer], p[2 * layer + 1]
        cost, (gW, gb, gbp), _ = np_dA_step(W, b, bprime[layer], want_in, tilde)
        got = m["pretrain"][layer](i) if layer == 0 else m["pretrain"][layer](i, corruption=level, lr=lr)
        np.testing.assert_allclose(got, cost, rtol=1e-12)
        p[2 * layer], p[2 * layer + 1], bprime[layer] = W - lr * gW, b - lr * gb, bprime[layer] - lr * gbp
        # the dA's W and b are the hidden layer's
        np.testing.assert_allclose(sda.sigmoid_layers[layer].W.get_value(), p[2 * layer], rtol=1e-11)
        np.testing.assert_allclose(sda.dA_layers[layer].b_prime.get_value(), bprime[layer], rtol=1e-11)
    for i in range(3):
        xb, yb = xv[i * 4 : (i + 1) * 4], yv[i * 4 : (i + 1) * 4]
        h1 = np_sigmoid(xb @ p[0] + p[1])
        h2 = np_sigmoid(h1 @ p[2] + p[3])
        cost, d3 = np_nll_and_grad(np_softmax(h2 @ p[4] + p[5]), yb)
        d2 = (d3 @ p[4].T) * h2 * (1 - h2)
        d1 = (d2 @ p[2].T) * h1 * (1 - h1)
        grads = [xb.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ d3, d3.sum(0)]
        np.testing.assert_allclose(m["train_fn"](i), cost, rtol=1e-12)
        p = [v - 0.1 * g for v, g in zip(p, grads)]
        for q, v in zip(sda.params, p):
            np.testing.assert_allclose(q.get_value(), v, rtol=1e-11, atol=1e-14)
    assert m["test_fn"](0) in (0, 0.25, 0.5, 0.75, 1)


def test_sda_is_the_same_in_the_python_linker_and_pickles() -> None:
    runs = []
    for mode in MODES:
        m = build_sda(mode, 5)
        costs = _sda_schedule(m)
        sda = m["sda"]
        pre2, train2, params2 = pickle.loads(pickle.dumps((m["pretrain"], m["train_fn"], sda.params)))
        assert pre2[1](0, lr=0.2) == m["pretrain"][1](0, lr=0.2)
        assert [train2(i) for i in range(3)] == [m["train_fn"](i) for i in range(3)]
        for q, q2 in zip(sda.params, params2):
            assert np.array_equal(q.get_value(), q2.get_value())
        runs.append((costs, [q.get_value() for q in sda.params]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    for u, v in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-14)


def test_sda_finetuning_gradients_match_finite_differences() -> None:
    m = build_sda(None, 17)
    _sda_schedule(m)  # away from the logistic layer's zeros
    sda = m["sda"]
    givens = {sda.x: theano.shared(m["data"][0][:4]), sda.y: T.cast(theano.shared(m["data"][1][:4]), "int32")}
    f_cost = theano.function([], sda.finetune_cost, givens=givens)
    f_grads = theano.function([], T.grad(sda.finetune_cost, sda.params), givens=givens)
    fd_check(lambda _: f_cost(), lambda _: f_grads(), sda.params, np.random.default_rng(3), 0, 3)


# -- the contractive autoencoder ---------------------------------------------------------------------
class cA:
    def __init__(
        self, numpy_rng, input=None, n_visible=784, n_hidden=100, n_batchsize=1, W=None, bhid=None, bvis=None
    ):
        self.n_visible = n_visible
        self.n_hidden = n_hidden
        self.n_batchsize = n_batchsize
        if W is None:
            initial_W = numpy.asarray(
                numpy_rng.uniform(
                    low=-4 * numpy.sqrt(6.0 / (n_hidden + n_visible)),
                    high=4 * numpy.sqrt(6.0 / (n_hidden + n_visible)),
                    size=(n_visible, n_hidden),
                ),
                dtype=theano.config.floatX,
            )
            W = theano.shared(value=initial_W, name="W", borrow=True)
        if bvis is None:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX), borrow=True)
        if bhid is None:
            bhid = theano.shared(
                value=numpy.zeros(n_hidden, dtype=theano.config.floatX), name="b", borrow=True
            )
        self.W = W
        self.b = bhid
        self.b_prime = bvis
        self.W_prime = self.W.T
        self.x = T.dmatrix(name="input") if input is None else input
        self.params = [self.W, self.b, self.b_prime]

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_jacobian(self, hidden, W):
        return T.reshape(hidden * (1 - hidden), (self.n_batchsize, 1, self.n_hidden)) * T.reshape(
            W, (1, self.n_visible, self.n_hidden)
        )

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, contraction_level, learning_rate):
        y = self.get_hidden_values(self.x)
        z = self.get_reconstructed_input(y)
        J = self.get_jacobian(y, self.W)
        self.L_rec = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        self.L_jacob = T.sum(J**2) / self.n_batchsize
        cost = T.mean(self.L_rec) + contraction_level * T.mean(self.L_jacob)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]
        return (cost, updates)


def build_ca(mode: Any, seed: int, batch_size: int = 4, contraction_level: float = 0.1) -> dict[str, Any]:
    rng = numpy.random.RandomState(seed)
    data = rng.uniform(0.05, 1, size=(3 * batch_size, 9))
    train_set_x = theano.shared(data, borrow=True)
    index = T.lscalar()
    x = T.matrix("x")
    ca = cA(numpy_rng=rng, input=x, n_visible=9, n_hidden=5, n_batchsize=batch_size)
    cost, updates = ca.get_cost_updates(contraction_level=contraction_level, learning_rate=0.05)
    givens = {x: train_set_x[index * batch_size : (index + 1) * batch_size]}
    return dict(
        train_ca=theano.function(
            [index], [T.mean(ca.L_rec), ca.L_jacob], updates=updates, givens=givens, mode=mode
        ),
        cost=theano.function([index], cost, givens=givens, mode=mode),
        grads=theano.function([index], T.grad(cost, ca.params), givens=givens, mode=mode),
        ca=ca,
        data=data,
    )


def test_ca_jacobian_penalty_and_training_match_numpy() -> None:
    m = build_ca(None, 123)
    W, b, bp = (q.get_value() for q in m["ca"].params)
    for step in range(4):
        i = step % 3
        xb = m["data"][i * 4 : (i + 1) * 4]
        rec, (gW, gb, gbp), _ = np_dA_step(W, b, bp, xb, xb)
        h = np_sigmoid(xb @ W + b)
        J = (h * (1 - h))[:, None, :] * W[None, :, :]  # dh/dx per example
        jac = float((J**2).sum() / 4)
        # d(jac)/dW: through W itself, and through h(1 - h)
        s, col = h * (1 - h), (W**2).sum(0)
        dpre = 2 * s**2 * (1 - 2 * h) * col / 4
        gW = gW + 0.1 * (2 * W * (s**2).sum(0) / 4 + xb.T @ dpre)
        gb = gb + 0.1 * dpre.sum(0)
        got_rec, got_jac = m["train_ca"](i)
        np.testing.assert_allclose([got_rec, got_jac], [rec, jac], rtol=1e-12, err_msg=f"step {step}")
        W, b, bp = W - 0.05 * gW, b - 0.05 * gb, bp - 0.05 * gbp
        for q, v in zip(m["ca"].params, (W, b, bp)):
            np.testing.assert_allclose(q.get_value(), v, rtol=1e-11, atol=1e-14, err_msg=f"step {step}")


def test_ca_gradients_match_finite_differences() -> None:
    m = build_ca(None, 9)
    fd_check(m["cost"], m["grads"], m["ca"].params, np.random.default_rng(4), 1, 4)


def test_ca_is_the_same_in_the_python_linker_and_pickles() -> None:
    runs = []
    for mode in MODES:
        m = build_ca(mode, 31)
        steps = [m["train_ca"](i % 3) for i in range(4)]
        train2, params2 = pickle.loads(pickle.dumps((m["train_ca"], m["ca"].params)))
        for i in range(3):
            for u, v in zip(train2(i), m["train_ca"](i)):
                assert u.tobytes() == v.tobytes()
        for q, q2 in zip(m["ca"].params, params2):
            assert np.array_equal(q.get_value(), q2.get_value())
        runs.append(np.array(steps))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)


# -- the Elman RNN of the slot-filling tutorial ------------------------------------------------------
class RNNSLU:
    def __init__(self, nh, nc, ne, de, cs, mode=None, seed=0):
        rng = numpy.random.RandomState(seed)
        self.emb = theano.shared(
            name="embeddings", value=0.2 * rng.uniform(-1.0, 1.0, (ne + 1, de)).astype(theano.config.floatX)
        )
        self.wx = theano.shared(
            name="wx", value=0.2 * rng.uniform(-1.0, 1.0, (de * cs, nh)).astype(theano.config.floatX)
        )
        self.wh = theano.shared(
            name="wh", value=0.2 * rng.uniform(-1.0, 1.0, (nh, nh)).astype(theano.config.floatX)
        )
        self.w = theano.shared(
            name="w", value=0.2 * rng.uniform(-1.0, 1.0, (nh, nc)).astype(theano.config.floatX)
        )
        self.bh = theano.shared(name="bh", value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.b = theano.shared(name="b", value=numpy.zeros(nc, dtype=theano.config.floatX))
        self.h0 = theano.shared(name="h0", value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.params = [self.emb, self.wx, self.wh, self.w, self.bh, self.b, self.h0]
        idxs = T.imatrix()
        x = self.emb[idxs].reshape((idxs.shape[0], de * cs))
        y_sentence = T.ivector("y_sentence")

        def recurrence(x_t, h_tm1):
            h_t = T.nnet.sigmoid(T.dot(x_t, self.wx) + T.dot(h_tm1, self.wh) + self.bh)
            s_t = T.nnet.softmax(T.dot(h_t, self.w) + self.b)
            return [h_t, s_t]

        [h, s], _ = theano.scan(fn=recurrence, sequences=x, outputs_info=[self.h0, None], n_steps=x.shape[0])
        # Theano's softmax of a vector was a (1, n) row, hence its s[:, 0, :] (docs/porting.md)
        p_y_given_x_sentence = s
        y_pred = T.argmax(p_y_given_x_sentence, axis=1)
        lr = T.scalar("lr")
        sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
        sentence_gradients = T.grad(sentence_nll, self.params)
        sentence_updates = OrderedDict((p, p - lr * g) for p, g in zip(self.params, sentence_gradients))
        self.classify = theano.function(inputs=[idxs], outputs=y_pred, mode=mode)
        self.sentence_train = theano.function(
            inputs=[idxs, y_sentence, lr], outputs=sentence_nll, updates=sentence_updates, mode=mode
        )
        self.normalize = theano.function(
            inputs=[],
            updates={self.emb: self.emb / T.sqrt((self.emb**2).sum(axis=1)).dimshuffle(0, "x")},
            mode=mode,
        )
        self.nll = theano.function([idxs, y_sentence], sentence_nll, mode=mode)
        self.grads = theano.function([idxs, y_sentence], sentence_gradients, mode=mode)

    def train(self, x, y, window_size, learning_rate):
        cwords = contextwin(x, window_size)
        words = [numpy.asarray(w).astype("int32") for w in cwords]
        cost = self.sentence_train(words, y, learning_rate)
        self.normalize()
        return cost


def contextwin(sentence, win):
    padded = win // 2 * [-1] + list(sentence) + win // 2 * [-1]
    return [padded[i : i + win] for i in range(len(sentence))]


SENTENCE = ([1, 4, 2, 7, 3, 4], np.array([0, 1, 2, 1, 0, 2], dtype="int32"))


def np_elman_nll(p: list[np.ndarray], words: np.ndarray, y: np.ndarray) -> float:
    emb, wx, wh, w, bh, b, h = p
    x = emb[words].reshape(len(words), -1)
    nll = 0.0
    for t in range(len(words)):
        h = np_sigmoid(x[t] @ wx + h @ wh + bh)
        z = h @ w + b
        nll -= z[y[t]] - np.log(np.exp(z).sum())
    return nll / len(words)


def test_elman_rnn_training_matches_numpy_and_its_gradients_finite_differences() -> None:
    r = RNNSLU(5, 3, 10, 4, 3, seed=1)
    words = np.asarray(contextwin(SENTENCE[0], 3), dtype="int32")
    for _ in range(3):
        p = [q.get_value() for q in r.params]
        want = np_elman_nll(p, words, SENTENCE[1])
        np.testing.assert_allclose(r.train(*SENTENCE, 3, 0.1), want, rtol=1e-12)
        # each embedding (-1, the padding, is the last row) has unit norm after normalize()
        np.testing.assert_allclose(np.linalg.norm(r.emb.get_value(), axis=1), 1.0, rtol=1e-12)
    assert r.classify(words).shape == (6,)
    grads = r.grads(words, SENTENCE[1])
    eps = 1e-6
    rng = np.random.default_rng(5)
    for q, g in zip(r.params, grads):
        base = q.get_value()
        for j in rng.choice(base.size, 3, replace=False) if q is not r.emb else [4 * 4 + 1, 10 * 4 + 2]:
            moved = [base.ravel().copy() for _ in range(2)]
            moved[0][j] += eps
            moved[1][j] -= eps
            vals = [
                np_elman_nll(
                    [m.reshape(base.shape) if o is q else o.get_value() for o in r.params], words, SENTENCE[1]
                )
                for m in moved
            ]
            np.testing.assert_allclose(
                g.ravel()[j], (vals[0] - vals[1]) / (2 * eps), rtol=1e-6, atol=1e-9, err_msg=q.name
            )


def test_elman_rnn_is_the_same_in_the_python_linker_and_pickles() -> None:
    runs = []
    for mode in MODES:
        r = RNNSLU(5, 3, 10, 4, 3, mode=mode, seed=2)
        costs = [r.train(*SENTENCE, 3, 0.1) for _ in range(2)]
        train2, normalize2, params2 = pickle.loads(pickle.dumps((r.sentence_train, r.normalize, r.params)))
        words = np.asarray(contextwin(SENTENCE[0], 3), dtype="int32")
        assert train2(words, SENTENCE[1], 0.1) == r.sentence_train(words, SENTENCE[1], 0.1)
        assert normalize2() == r.normalize() == []
        for q, q2 in zip(r.params, params2):
            assert np.array_equal(q.get_value(), q2.get_value()), q.name
        runs.append((costs, [q.get_value() for q in r.params]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12)
    for u, v in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-14)


# -- Hamiltonian Monte Carlo ------------------------------------------------------------------------
def sharedX(X, name):
    return theano.shared(numpy.asarray(X, dtype=theano.config.floatX), name=name)


def kinetic_energy(vel):
    return 0.5 * (vel**2).sum(axis=1)


def hamiltonian(pos, vel, energy_fn):
    return energy_fn(pos) + kinetic_energy(vel)


def metropolis_hastings_accept(energy_prev, energy_next, s_rng):
    ediff = energy_prev - energy_next
    return (T.exp(ediff) - s_rng.uniform(size=energy_prev.shape)) >= 0


def simulate_dynamics(initial_pos, initial_vel, stepsize, n_steps, energy_fn):
    def leapfrog(pos, vel, step):
        dE_dpos = T.grad(energy_fn(pos).sum(), pos)
        new_vel = vel - step * dE_dpos
        new_pos = pos + step * new_vel
        return [new_pos, new_vel], {}

    initial_energy = energy_fn(initial_pos)
    dE_dpos = T.grad(initial_energy.sum(), initial_pos)
    vel_half_step = initial_vel - 0.5 * stepsize * dE_dpos
    pos_full_step = initial_pos + stepsize * vel_half_step
    (all_pos, all_vel), scan_updates = theano.scan(
        leapfrog,
        outputs_info=[dict(initial=pos_full_step), dict(initial=vel_half_step)],
        non_sequences=[stepsize],
        n_steps=n_steps - 1,
    )
    final_pos = all_pos[-1]
    final_vel = all_vel[-1]
    assert not scan_updates
    energy = energy_fn(final_pos)
    final_vel = final_vel - 0.5 * stepsize * T.grad(energy.sum(), final_pos)
    return final_pos, final_vel


def hmc_move(s_rng, positions, energy_fn, stepsize, n_steps):
    initial_vel = s_rng.normal(size=positions.shape)
    final_pos, final_vel = simulate_dynamics(
        initial_pos=positions,
        initial_vel=initial_vel,
        stepsize=stepsize,
        n_steps=n_steps,
        energy_fn=energy_fn,
    )
    accept = metropolis_hastings_accept(
        energy_prev=hamiltonian(positions, initial_vel, energy_fn),
        energy_next=hamiltonian(final_pos, final_vel, energy_fn),
        s_rng=s_rng,
    )
    return accept, final_pos


def hmc_updates(
    positions,
    stepsize,
    avg_acceptance_rate,
    final_pos,
    accept,
    target_acceptance_rate,
    stepsize_inc,
    stepsize_dec,
    stepsize_min,
    stepsize_max,
    avg_acceptance_slowness,
):
    accept_matrix = accept.dimshuffle(0, *(("x",) * (final_pos.ndim - 1)))
    new_positions = T.switch(accept_matrix, final_pos, positions)
    _new_stepsize = T.switch(
        avg_acceptance_rate > target_acceptance_rate, stepsize * stepsize_inc, stepsize * stepsize_dec
    )
    new_stepsize = T.clip(_new_stepsize, stepsize_min, stepsize_max)
    mean_dtype = theano.scalar.upcast(accept.dtype, avg_acceptance_rate.dtype)
    new_acceptance_rate = T.add(
        avg_acceptance_slowness * avg_acceptance_rate,
        (1.0 - avg_acceptance_slowness) * accept.mean(dtype=mean_dtype),
    )
    return [(positions, new_positions), (stepsize, new_stepsize), (avg_acceptance_rate, new_acceptance_rate)]


class RecordingStreams(RandomStreams):
    """The tutorial's random stream, which also keeps the draws it makes (for the tests)."""

    def __init__(self, seed):
        super().__init__(seed)
        self.made = []

    def normal(self, *args, **kwargs):
        self.made.append(super().normal(*args, **kwargs))
        return self.made[-1]

    def uniform(self, *args, **kwargs):
        self.made.append(super().uniform(*args, **kwargs))
        return self.made[-1]


HMC = dict(
    initial_stepsize=0.9,
    target_acceptance_rate=0.9,
    n_steps=5,
    stepsize_dec=0.98,
    stepsize_min=0.001,
    stepsize_max=1.5,
    stepsize_inc=1.02,
    avg_acceptance_slowness=0.9,
)
HMC_MU = np.array([1.0, -0.5])
HMC_COV_INV = np.array([[2.0, 0.6], [0.6, 1.0]])


def gaussian_energy(x):
    return 0.5 * (T.dot((x - HMC_MU), HMC_COV_INV) * (x - HMC_MU)).sum(axis=1)


def build_hmc(mode: Any, seed: int) -> dict[str, Any]:
    """``HMC_sampler.new_from_shared_positions``: the simulation's function with its updates,
    and one that reads the draws its next call makes."""
    positions = sharedX(np.random.default_rng(seed).normal(size=(4, 2)), "positions")
    stepsize = sharedX(HMC["initial_stepsize"], "hmc_stepsize")
    avg_acceptance_rate = sharedX(HMC["target_acceptance_rate"], "avg_acceptance_rate")
    s_rng = RecordingStreams(seed)
    accept, final_pos = hmc_move(s_rng, positions, gaussian_energy, stepsize, HMC["n_steps"])
    simulate_updates = hmc_updates(
        positions,
        stepsize,
        avg_acceptance_rate,
        final_pos=final_pos,
        accept=accept,
        **{k: v for k, v in HMC.items() if k not in ("initial_stepsize", "n_steps")},
    )
    return dict(
        simulate=theano.function([], [], updates=simulate_updates, mode=mode),
        draws=theano.function([], s_rng.made, no_default_updates=True, mode=mode),
        state=[positions, stepsize, avg_acceptance_rate],
    )


def np_hmc_step(pos, step, avg, vel, u):
    def energy(x):
        return 0.5 * ((x - HMC_MU) @ HMC_COV_INV * (x - HMC_MU)).sum(axis=1)

    def grad(x):
        return (x - HMC_MU) @ HMC_COV_INV

    v = vel - 0.5 * step * grad(pos)
    x = pos + step * v
    for _ in range(HMC["n_steps"] - 1):
        v = v - step * grad(x)
        x = x + step * v
    v = v - 0.5 * step * grad(x)
    accept = np.exp(energy(pos) + 0.5 * (vel**2).sum(1) - energy(x) - 0.5 * (v**2).sum(1)) - u >= 0
    new_step = step * (HMC["stepsize_inc"] if avg > HMC["target_acceptance_rate"] else HMC["stepsize_dec"])
    new_step = np.clip(new_step, HMC["stepsize_min"], HMC["stepsize_max"])
    new_avg = HMC["avg_acceptance_slowness"] * avg + (1 - HMC["avg_acceptance_slowness"]) * accept.mean()
    return np.where(accept[:, None], x, pos), new_step, new_avg, accept


def test_hmc_sampler_matches_numpy_given_its_draws() -> None:
    m = build_hmc(None, 12345)
    pos, step, avg = (v.get_value() for v in m["state"])
    accepted = []
    for it in range(8):
        vel, u = m["draws"]()
        assert vel.shape == (4, 2) and u.shape == (4,)
        pos, step, avg, accept = np_hmc_step(pos, step, avg, vel, u)
        accepted.append(accept)
        assert m["simulate"]() == []
        for v, want in zip(m["state"], (pos, step, avg)):
            np.testing.assert_allclose(
                v.get_value(), want, rtol=1e-11, atol=1e-14, err_msg=f"{v.name} at {it}"
            )
    # both decisions were taken
    assert 0 < np.mean(accepted) < 1


def test_hmc_sampler_is_the_same_in_the_python_linker_and_pickles_with_its_state() -> None:
    runs = []
    for mode in MODES:
        m = build_hmc(mode, 7)
        for _ in range(3):
            m["simulate"]()
        simulate2, state2 = pickle.loads(pickle.dumps((m["simulate"], m["state"])))
        for _ in range(3):
            m["simulate"]()
            simulate2()
        for v, v2 in zip(m["state"], state2):
            assert np.array_equal(v.get_value(), v2.get_value()), v.name
        runs.append([v.get_value() for v in m["state"]])
    for u, v in zip(*runs):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-15)


# -- a model as PyMC builds it ------------------------------------------------------------------------
# Eight-schools-like: mu ~ Normal(0, 5), tau ~ HalfCauchy(5) (log transform), theta_raw ~
# Normal(0, 1) (4,), y ~ Normal(mu + tau * theta_raw, sigma_y); and a two-component mixture
# z ~ w Normal(m0, s) + (1 - w) Normal(m1, s) with w ~ Beta(2, 2) (logit transform),
# m ~ Normal(0, 10) (2,), s ~ HalfNormal(2) (log transform).
Y_OBS = np.array([2.8, 0.8, -0.3, 0.7])
SIGMA_Y = np.array([1.5, 1.0, 1.6, 1.1])
Z_OBS = np.array([-2.1, -1.7, 0.3, 1.9, 2.4, 2.2])
#: the free parameters in the order of the flat vector: name, shape, transform
FREE = [
    ("mu", (), None),
    ("tau", (), "log"),
    ("theta_raw", (4,), None),
    ("w", (), "logit"),
    ("m", (2,), None),
    ("s", (), "log"),
]
N_FREE = 10


def bound(logp, *conditions):
    """PyMC's bounds check: -inf where a condition fails. A condition on Python numbers is a
    Python bool, which is no tensor: ``1 * c`` makes it a number, as PyMC's ``alltrue_scalar``."""
    return pt.switch(pt.all(pt.stack([pt.all(1 * c) for c in conditions])), logp, -np.inf)


def normal_logp(value, mu, sigma):
    res = -0.5 * pt.pow((value - mu) / sigma, 2) - pt.log(pt.sqrt(2.0 * np.pi)) - pt.log(sigma)
    return bound(res, sigma > 0)


def halfcauchy_logp(value, beta):
    return bound(
        pt.log(2) - pt.log(np.pi) - pt.log(beta) - pt.log1p(pt.pow(value / beta, 2)), value >= 0, beta > 0
    )


def halfnormal_logp(value, sigma):
    res = 0.5 * pt.log(2 / np.pi) - pt.log(sigma) - 0.5 * pt.sqr(value / sigma)
    return bound(res, value >= 0, sigma > 0)


def beta_logp(value, alpha, beta):
    res = pt.switch(pt.eq(value, 0), -np.inf, (alpha - 1) * pt.log(value))
    res = res + (beta - 1) * pt.log1p(-value) - pt.betaln(alpha, beta)
    return bound(res, value >= 0, value <= 1, alpha > 0, beta > 0)


def mixture_logp(value, w, mus, sigma):
    comp = pt.stack([normal_logp(value, mus[0], sigma), normal_logp(value, mus[1], sigma)], axis=-1)
    return pt.logsumexp(pt.log(pt.stack([w, 1 - w])) + comp, axis=-1)


def model_logp_terms(v: dict[str, Any]) -> list:
    """The log-density terms of the model at the value variables ``v`` (constrained values)."""
    theta = v["mu"] + v["tau"] * v["theta_raw"]
    return [
        normal_logp(v["mu"], 0.0, 5.0),
        halfcauchy_logp(v["tau"], 5.0),
        normal_logp(v["theta_raw"], 0.0, 1.0),
        normal_logp(Y_OBS, theta, SIGMA_Y),
        beta_logp(v["w"], 2.0, 2.0),
        normal_logp(v["m"], 0.0, 10.0),
        halfnormal_logp(v["s"], 2.0),
        mixture_logp(Z_OBS, v["w"], v["m"], v["s"]),
    ]


def pymc_logp_dlogp(mode: Any = None):
    """``model.logp_dlogp_function()`` as PyMC builds it: the log-density at value variables of
    the unconstrained space (each transform's backward value and its log-jacobian), those
    replaced by slices of one flat vector, and the gradient of the summed terms w.r.t. it."""
    values = {
        name: pt.tensor(name=f"{name}_{tr}__" if tr else name, dtype="float64", shape=shape)
        for name, shape, tr in FREE
    }
    constrained, jacobians = {}, []
    for name, _, tr in FREE:
        u = values[name]
        if tr == "log":
            constrained[name] = pt.exp(u)
            jacobians.append(u)
        elif tr == "logit":
            constrained[name] = pt.sigmoid(u)
            jacobians.append(pt.log(pt.sigmoid(u)) + pt.log1p(-pt.sigmoid(u)))
        else:
            constrained[name] = u
    logp = pt.sum([pt.sum(t) for t in model_logp_terms(constrained) + jacobians])
    joined = pt.dvector("__joined_variables")
    replace, start = {}, 0
    for name, shape, _ in FREE:
        size = int(np.prod(shape))
        replace[values[name]] = joined[start : start + size].reshape(shape).astype("float64")
        start += size
    logp = pytensor.clone_replace(logp, replace=replace)
    dlogp = pt.grad(logp, joined)
    return pytensor.function([joined], [logp, dlogp], mode=mode)


def scipy_logp(q: np.ndarray) -> float:
    from scipy import special, stats

    mu, log_tau, theta_raw, logit_w, m, log_s = q[0], q[1], q[2:6], q[6], q[7:9], q[9]
    tau, w, s = np.exp(log_tau), special.expit(logit_w), np.exp(log_s)
    comps = np.stack([stats.norm.logpdf(Z_OBS, m[0], s), stats.norm.logpdf(Z_OBS, m[1], s)], axis=-1)
    return float(
        stats.norm.logpdf(mu, 0, 5)
        + stats.halfcauchy.logpdf(tau, scale=5)
        + log_tau
        + stats.norm.logpdf(theta_raw).sum()
        + stats.norm.logpdf(Y_OBS, mu + tau * theta_raw, SIGMA_Y).sum()
        + stats.beta.logpdf(w, 2, 2)
        + np.log(w)
        + np.log1p(-w)
        + stats.norm.logpdf(m, 0, 10).sum()
        + stats.halfnorm.logpdf(s, scale=2)
        + log_s
        + special.logsumexp(np.log([w, 1 - w]) + comps, axis=-1).sum()
    )


def pymc_points() -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    return [rng.normal(size=N_FREE) for _ in range(3)] + [
        np.array([0.1, -3.0, 0, 1, -1, 2, 4.0, -2.0, 2.0, -1.5])
    ]


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_pymc_logp_and_its_gradient_match_scipy_and_finite_differences(mode: Any) -> None:
    f = pymc_logp_dlogp(mode)
    eps = 1e-6
    for q in pymc_points():
        logp, dlogp = f(q)
        np.testing.assert_allclose(logp, scipy_logp(q), rtol=1e-12)
        fd = np.array(
            [(scipy_logp(q + eps * e) - scipy_logp(q - eps * e)) / (2 * eps) for e in np.eye(N_FREE)]
        )
        np.testing.assert_allclose(dlogp, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_pymc_bounds_give_minus_inf_and_a_finite_gradient(mode: Any) -> None:
    """Outside a distribution's support the switch gives -inf, and the gradient of the terms
    still in bounds, not NaN from the branch it did not take."""
    w, tau = pt.dscalar("w"), pt.dscalar("tau")
    logp = beta_logp(w, 2.0, 2.0) + halfcauchy_logp(tau, 5.0) + normal_logp(w, 0.0, 1.0)
    f = pytensor.function([w, tau], [logp, *pt.grad(logp, [w, tau])], mode=mode)
    from scipy import stats

    for wv, tv in [(1.5, 1.0), (-0.5, 1.0), (0.5, -2.0), (1.5, -2.0), (1.0, 1.0)]:
        value, gw, gt = f(wv, tv)
        assert value == -np.inf
        # each term's gradient where it is in bounds, none from one out of bounds
        want_gt = -2 * tv / (25 + tv**2) if tv >= 0 else 0.0
        np.testing.assert_allclose(gt, want_gt, rtol=1e-12, atol=0)
        if wv != 1.0:
            want_gw = (1 / wv - 1 / (1 - wv) if 0 <= wv <= 1 else 0.0) - wv
            np.testing.assert_allclose(gw, want_gw, rtol=1e-12, atol=0)
        else:
            assert gw == -np.inf  # log(1 - w) at w = 1, in bounds
    value, gw, gt = f(0.3, 2.0)
    want = stats.beta.logpdf(0.3, 2, 2) + stats.halfcauchy.logpdf(2.0, scale=5) + stats.norm.logpdf(0.3)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    np.testing.assert_allclose(gw, 1 / 0.3 - 1 / 0.7 - 0.3, rtol=1e-12)


MVN_X = np.array([[0.3, -1.0, 2.0], [1.0, 0.5, 0.1], [-0.2, 0.0, 1.3], [2.0, 1.0, -1.0]])
MVN_TRIL = np.tril_indices(3)


def mvn_free_to_params(q):
    """The mean and the Cholesky factor of a 3-d normal from a flat free vector (the factor's
    lower triangle, its diagonal on the log scale), as PyMC's LKJCholeskyCov transforms it;
    symbolic for a variable, numpy for an array."""
    if isinstance(q, np.ndarray):
        L = np.zeros((3, 3))
        L[MVN_TRIL] = q[3:]
        L[np.diag_indices(3)] = np.exp(np.diag(L))
        return q[:3], L
    L = pt.set_subtensor(pt.zeros((3, 3))[MVN_TRIL], q[3:])
    return q[:3], pt.set_subtensor(L[np.arange(3), np.arange(3)], pt.exp(pt.diag(L)))


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_pymc_multivariate_normal_logp_through_cholesky_and_solve(mode: Any) -> None:
    """MvNormal's log-density as PyMC writes it (a Cholesky factor of the covariance and a
    triangular solve), and the same through ``det`` and ``inv``, with their gradients w.r.t.
    the free vector, against scipy.stats and finite differences."""
    from scipy import stats

    q = pt.dvector("q")
    mu, L = mvn_free_to_params(q)
    cov = L @ L.T
    chol = pt.linalg.cholesky(cov)
    delta = MVN_X - mu
    sol = pt.linalg.solve_triangular(chol, delta.T, lower=True)
    n, k = MVN_X.shape
    logp = -0.5 * n * (k * np.log(2 * np.pi) + 2 * pt.log(pt.diag(chol)).sum()) - 0.5 * (sol**2).sum()
    logp_inv = -0.5 * n * (k * np.log(2 * np.pi) + pt.log(pt.linalg.det(cov))) - 0.5 * pt.sum(
        (delta @ pt.linalg.inv(cov)) * delta
    )
    f = pytensor.function([q], [logp, pt.grad(logp, q), logp_inv, pt.grad(logp_inv, q)], mode=mode)

    def ref(v):
        m, Lv = mvn_free_to_params(v)
        return stats.multivariate_normal.logpdf(MVN_X, m, Lv @ Lv.T).sum()

    eps = 1e-6
    for qv in np.random.default_rng(0).normal(size=(2, 9)) * 0.5:
        fd = np.array([(ref(qv + eps * e) - ref(qv - eps * e)) / (2 * eps) for e in np.eye(9)])
        value, grad, value_inv, grad_inv = f(qv)
        np.testing.assert_allclose([value, value_inv], ref(qv), rtol=1e-12)
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(grad_inv, grad, rtol=1e-10, atol=1e-12)


def test_pymc_logp_function_pickles() -> None:
    f = pymc_logp_dlogp()
    g = pickle.loads(pickle.dumps(f))
    for q in pymc_points():
        for a, b in zip(f(q), g(q)):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_pymc_logp_function_is_found_by_a_fresh_process(tmp_path: Path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_theano_models2 import pymc_logp_dlogp, pymc_points") + (
        "f = pymc_logp_dlogp()\n"
        "logp, dlogp = f(pymc_points()[0])\n"
        "print(fc.cache.info()['compiles'], f.cache_key, float(logp).hex(), *(float(g).hex() for g in dlogp))\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
