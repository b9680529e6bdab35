"""The deeplearning.net tutorials as a Theano user ports them: logistic regression trained by
minibatch SGD over a shared dataset with ``givens`` (integer labels, the negative
log-likelihood as ``categorical_crossentropy``, ``neq(y_pred, y)`` errors) and an MLP (tanh
hidden layer, L1/L2 regularisation), each compared step by step with the same loop in numpy.
Then the names they call one by one: ``ft.nnet`` against numpy and central finite differences
(float64), ``givens``/``clone_replace``/``graph_replace``, ``ifelse`` and ``fc.printing``."""

from __future__ import annotations

import io
import pickle

from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

from fcutil import fd_check_grads

nn = ft.nnet
PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261202)


# -- numpy references ------------------------------------------------------------------------------
def np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_ultra_fast_sigmoid(x: np.ndarray) -> np.ndarray:
    """Theano's scalar implementation, element by element."""
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        u = abs(0.5 * v)
        if u < 1.7:
            z = 1.5 * u / (1 + u)
        elif u < 3:
            z = 0.935409070603099 + 0.0458812946797165 * (u - 1.7)
        else:
            z = 0.99505475368673
        out[i] = 0.5 * ((-z if v < 0 else z) + 1.0)
    return out


def _data(n: int, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    x = RNG.normal(size=(n, n_in))
    y = RNG.integers(0, n_out, size=n)
    return x, y


def _nll_grad(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d mean(-log p[i, y_i]) / d logits, for p the softmax of the logits."""
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return d / len(y)


# -- the logistic regression tutorial --------------------------------------------------------------
def test_logistic_regression_sgd_with_givens_matches_numpy() -> None:
    n, n_in, n_out, bs, lr = 40, 6, 3, 10, 0.13
    xv, yv = _data(n, n_in, n_out)
    train_set_x = fc.shared(xv, name="train_set_x")
    # the tutorial keeps labels as floats in a shared variable and casts them
    train_set_y = ft.cast(fc.shared(yv.astype("float64"), name="train_set_y"), "int32")
    index = ft.lscalar("index")
    x = ft.matrix("x")
    y = ft.ivector("y")
    W = fc.shared(np.zeros((n_in, n_out)), name="W")
    b = fc.shared(np.zeros(n_out), name="b")
    p_y_given_x = nn.softmax(ft.dot(x, W) + b)
    y_pred = ft.argmax(p_y_given_x, axis=1)
    cost = ft.mean(nn.categorical_crossentropy(p_y_given_x, y))
    errors = ft.mean(ft.neq(y_pred, y))
    g_W, g_b = fc.grad(cost, [W, b])
    batch = {
        x: train_set_x[index * bs : (index + 1) * bs],
        y: train_set_y[index * bs : (index + 1) * bs],
    }
    train_model = fc.function([index], cost, updates=[(W, W - lr * g_W), (b, b - lr * g_b)], givens=batch)
    test_model = fc.function([index], errors, givens=batch)

    Wn, bn = np.zeros((n_in, n_out)), np.zeros(n_out)
    for epoch in range(3):
        for i in range(n // bs):
            xb, yb = xv[i * bs : (i + 1) * bs], yv[i * bs : (i + 1) * bs]
            p = np_softmax(xb @ Wn + bn)
            want = np.mean(-np.log(p[np.arange(bs), yb]))
            got = train_model(i)
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"epoch {epoch} batch {i}")
            d = _nll_grad(p, yb)
            Wn, bn = Wn - lr * (xb.T @ d), bn - lr * d.sum(axis=0)
            np.testing.assert_allclose(W.get_value(), Wn, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(b.get_value(), bn, rtol=1e-12, atol=1e-15)
    for i in range(n // bs):
        xb, yb = xv[i * bs : (i + 1) * bs], yv[i * bs : (i + 1) * bs]
        want = np.mean(np.argmax(xb @ Wn + bn, axis=1) != yb)
        assert test_model(i) == pytest.approx(want)
    # the learned model is better than chance on its training data
    assert np.mean([test_model(i) for i in range(n // bs)]) < 1 - 1 / n_out


# -- the multilayer perceptron tutorial ------------------------------------------------------------
def test_mlp_with_l1_l2_regularisation_matches_numpy() -> None:
    n, n_in, n_hidden, n_out, bs, lr, l1, l2 = 24, 5, 7, 3, 8, 0.05, 1e-3, 1e-4
    xv, yv = _data(n, n_in, n_out)
    W1v = RNG.uniform(-0.5, 0.5, size=(n_in, n_hidden))
    W2v = RNG.uniform(-0.5, 0.5, size=(n_hidden, n_out))
    data_x, data_y = fc.shared(xv, name="data_x"), fc.shared(yv.astype("int32"), name="data_y")
    index = ft.lscalar("index")
    x, y = ft.matrix("x"), ft.ivector("y")
    W1, b1 = fc.shared(W1v.copy(), name="W1"), fc.shared(np.zeros(n_hidden), name="b1")
    W2, b2 = fc.shared(W2v.copy(), name="W2"), fc.shared(np.zeros(n_out), name="b2")
    hidden = ft.tanh(ft.dot(x, W1) + b1)
    p = nn.softmax(ft.dot(hidden, W2) + b2)
    L1 = abs(W1).sum() + abs(W2).sum()
    L2_sqr = (W1**2).sum() + (W2**2).sum()
    cost = ft.mean(nn.categorical_crossentropy(p, y)) + l1 * L1 + l2 * L2_sqr
    params = [W1, b1, W2, b2]
    grads = fc.grad(cost, params)
    train = fc.function(
        [index],
        cost,
        updates=[(q, q - lr * g) for q, g in zip(params, grads)],
        givens={x: data_x[index * bs : (index + 1) * bs], y: data_y[index * bs : (index + 1) * bs]},
    )

    w1, c1, w2, c2 = W1v.copy(), np.zeros(n_hidden), W2v.copy(), np.zeros(n_out)
    for step in range(6):
        i = step % (n // bs)
        xb, yb = xv[i * bs : (i + 1) * bs], yv[i * bs : (i + 1) * bs]
        h = np.tanh(xb @ w1 + c1)
        pr = np_softmax(h @ w2 + c2)
        want = (
            np.mean(-np.log(pr[np.arange(bs), yb]))
            + l1 * (np.abs(w1).sum() + np.abs(w2).sum())
            + l2 * ((w1**2).sum() + (w2**2).sum())
        )
        np.testing.assert_allclose(train(i), want, rtol=1e-12, err_msg=f"step {step}")
        d2 = _nll_grad(pr, yb)
        dh = (d2 @ w2.T) * (1 - h**2)
        gw1 = xb.T @ dh + l1 * np.sign(w1) + 2 * l2 * w1
        gw2 = h.T @ d2 + l1 * np.sign(w2) + 2 * l2 * w2
        w1, c1, w2, c2 = w1 - lr * gw1, c1 - lr * dh.sum(0), w2 - lr * gw2, c2 - lr * d2.sum(0)
        for q, want_v in zip(params, [w1, c1, w2, c2]):
            np.testing.assert_allclose(q.get_value(), want_v, rtol=1e-11, atol=1e-14, err_msg=q.name)


# -- ft.nnet: values against numpy -------------------------------------------------------------------
EDGES = np.array([-800.0, -40.0, -3.4, -2.5, -1.0, -0.0, 0.0, 0.3, 2.0, 3.5, 6.5, 40.0, 800.0, np.nan])


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_elementwise_nnet_functions_match_numpy(mode: Any) -> None:
    x = ft.vector("x")
    outs = {
        "sigmoid": (nn.sigmoid(x), np_sigmoid),
        "softplus": (nn.softplus(x), lambda v: np.logaddexp(0, v)),
        "relu": (nn.relu(x), lambda v: np.maximum(v, 0)),
        "relu_alpha": (nn.relu(x, 0.1), lambda v: np.where(v > 0, v, 0.1 * v)),
        "elu": (nn.elu(x), lambda v: np.where(v > 0, v, np.expm1(v))),
        "elu_alpha": (nn.elu(x, 0.5), lambda v: np.where(v > 0, v, 0.5 * np.expm1(v))),
        "hard_sigmoid": (nn.hard_sigmoid(x), lambda v: np.clip(0.2 * v + 0.5, 0, 1)),
        "ultra_fast_sigmoid": (nn.ultra_fast_sigmoid(x), np_ultra_fast_sigmoid),
    }
    f = fc.function([x], [o for o, _ in outs.values()], mode=mode)
    with np.errstate(over="ignore", invalid="ignore"):
        for got, (name, (_, ref)) in zip(f(EDGES), outs.items()):
            np.testing.assert_allclose(got, ref(EDGES), rtol=1e-15, atol=0, err_msg=name)
    # how close the approximations stay to the sigmoid (their docstrings' numbers)
    vals = np.linspace(-10, 10, 2001)
    uf, hs = fc.function([x], [nn.ultra_fast_sigmoid(x), nn.hard_sigmoid(x)], mode=mode)(vals)
    assert 0.027 < np.max(np.abs(uf - np_sigmoid(vals))) < 0.028
    assert 0.075 < np.max(np.abs(hs - np_sigmoid(vals))) < 0.076


def test_float32_inputs_stay_float32() -> None:
    x = ft.fvector("x")
    for fn in (nn.sigmoid, nn.relu, nn.elu, nn.hard_sigmoid, nn.ultra_fast_sigmoid, nn.softplus):
        assert fn(x).dtype == "float32", fn.__name__
    assert nn.categorical_crossentropy(nn.softmax(ft.fmatrix()), ft.ivector()).dtype == "float32"


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_crossentropies_match_numpy(mode: Any) -> None:
    x, t, o = ft.matrix("x"), ft.matrix("t"), ft.matrix("o")
    y = ft.lvector("y")
    f = fc.function(
        [x, t, o, y],
        [
            nn.binary_crossentropy(o, t),
            nn.binary_crossentropy(nn.sigmoid(x), t),
            nn.categorical_crossentropy(nn.softmax(x), y),
            nn.categorical_crossentropy(o, y),
            nn.categorical_crossentropy(nn.softmax(x), t),
            nn.categorical_crossentropy(o, t),
        ],
        mode=mode,
    )
    xv = RNG.normal(size=(5, 4)) * 3
    tv = RNG.uniform(size=(5, 4))
    ov = RNG.uniform(0.05, 0.95, size=(5, 4))
    yv = np.array([0, 3, 1, 2, 3])
    got = f(xv, tv, ov, yv)
    sm = np_softmax(xv)
    s = np_sigmoid(xv)
    want = [
        -(tv * np.log(ov) + (1 - tv) * np.log(1 - ov)),
        -(tv * np.log(s) + (1 - tv) * np.log(1 - s)),
        -np.log(sm[np.arange(5), yv]),
        -np.log(ov[np.arange(5), yv]),
        -(tv * np.log(sm)).sum(axis=1),
        -(tv * np.log(ov)).sum(axis=1),
    ]
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=f"output {k}")


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_losses_of_sigmoid_and_softmax_stay_finite_for_large_inputs(mode: Any) -> None:
    x, t = ft.matrix("x"), ft.matrix("t")
    y = ft.lvector("y")
    bce = nn.binary_crossentropy(nn.sigmoid(x), t).sum()
    cce = nn.categorical_crossentropy(nn.softmax(x), y).sum()
    cce_t = nn.categorical_crossentropy(nn.softmax(x), t).sum()
    f = fc.function([x, t, y], [bce, cce, cce_t, *fc.grad(bce + cce + cce_t, [x])], mode=mode)
    xv = np.array([[1000.0, -1000.0, 30.0], [-750.0, 2.0, 900.0]])
    tv = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]])
    yv = np.array([1, 0])
    b, c, ct, g = f(xv, tv, yv)
    assert np.isfinite([b, c, ct]).all() and np.isfinite(g).all()
    # exact values: softplus(1000) = 1000, softplus(-1000) = 0, ...
    want_b = 1000 + 1000 + 30 * 0.5 + np.logaddexp(0, -30) + 750 + np.logaddexp(0, 2) + 900
    assert b == pytest.approx(want_b, rel=1e-12)
    assert c == pytest.approx(2000 + 1650, rel=1e-12)
    # log_softmax rows: [0, -2000, -970] and [-1650, -898, 0]
    assert ct == pytest.approx(2000 + 0.5 * 970 + 1650, rel=1e-12)


def test_class_index_out_of_range_is_an_error() -> None:
    p, y = ft.matrix("p"), ft.lvector("y")
    pv = np_softmax(RNG.normal(size=(3, 4)))
    for mode in (PY, None):
        f = fc.function([p, y], nn.categorical_crossentropy(p, y), mode=mode)
        for bad in ([0, 4, 1], [0, -1, 1]):
            with pytest.raises(AssertionError, match=r"class index in true_dist is outside \[0, n_classes\)"):
                f(pv, np.array(bad))


def test_crossentropy_refuses_labels_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"vector of integer class indices.*ft.cast\(y, 'int64'\)"):
        nn.categorical_crossentropy(ft.matrix(), ft.vector())
    with pytest.raises(TypeError, match=r"categorical_crossentropy: true_dist"):
        nn.categorical_crossentropy(ft.tensor3(), ft.lvector())


# -- ft.nnet: gradients against central finite differences -----------------------------------------
def test_nnet_gradients_match_finite_differences() -> None:
    x, t, o = ft.matrix("x"), ft.matrix("t"), ft.matrix("o")
    y = ft.lvector("y")
    cases = {
        "sigmoid": (lambda x, t, o, y: nn.sigmoid(x), [0]),
        "softplus": (lambda x, t, o, y: nn.softplus(x), [0]),
        "relu": (lambda x, t, o, y: nn.relu(x), [0]),
        "relu_alpha": (lambda x, t, o, y: nn.relu(x, 0.3), [0]),
        "elu": (lambda x, t, o, y: nn.elu(x, 0.7), [0]),
        "hard_sigmoid": (lambda x, t, o, y: nn.hard_sigmoid(x), [0]),
        "ultra_fast_sigmoid": (lambda x, t, o, y: nn.ultra_fast_sigmoid(x), [0]),
        "bce": (lambda x, t, o, y: nn.binary_crossentropy(o, t), [1, 2]),
        "bce_sigmoid": (lambda x, t, o, y: nn.binary_crossentropy(nn.sigmoid(x), t), [0, 1]),
        "cce_index": (lambda x, t, o, y: nn.categorical_crossentropy(o, y), [2]),
        "cce_softmax_index": (lambda x, t, o, y: nn.categorical_crossentropy(nn.softmax(x), y), [0]),
        "cce_matrix": (lambda x, t, o, y: nn.categorical_crossentropy(o, t), [1, 2]),
        "cce_softmax_matrix": (lambda x, t, o, y: nn.categorical_crossentropy(nn.softmax(x), t), [0, 1]),
        "log_softmax": (lambda x, t, o, y: nn.logsoftmax(x), [0]),
    }
    # x keeps away from the kinks: 0 (relu, elu), +-2.5 (hard_sigmoid), +-3.4 and +-6 (ultra_fast)
    xv = np.array([[-5.0, -2.0, -0.7, 0.4], [1.3, 2.2, 4.5, -1.1], [0.2, -3.0, 3.0, 7.0]])
    tv = RNG.uniform(0.1, 0.9, size=(3, 4))
    ov = RNG.uniform(0.1, 0.9, size=(3, 4))
    yv = np.array([2, 0, 3])
    fd_check_grads([x, t, o, y], cases, [[xv, tv, ov, yv]], mode=PY)


def test_index_crossentropy_gradient_is_finite_where_other_probabilities_are_zero() -> None:
    p, y = ft.matrix("p"), ft.lvector("y")
    g = fc.function([p, y], fc.grad(nn.categorical_crossentropy(p, y).sum(), p))
    pv = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    np.testing.assert_array_equal(g(pv, np.array([1, 2])), [[0.0, -1.0, 0.0], [0.0, 0.0, -2.0]])


# -- givens, clone_replace, graph_replace ---------------------------------------------------------------
def test_givens_change_the_cache_key_and_survive_pickling() -> None:
    data = fc.shared(np.arange(20.0).reshape(10, 2), name="data")
    i, x = ft.lscalar("i"), ft.matrix("x")
    f2 = fc.function([i], (x * 2).sum(), givens={x: data[i * 2 : (i + 1) * 2]})
    f3 = fc.function([i], (x * 2).sum(), givens=[(x, data[i * 3 : (i + 1) * 3])])
    assert f2.cache_key != f3.cache_key
    assert f2(1) == 2 * sum(range(4, 8)) and f3(1) == 2 * sum(range(6, 12))
    g = fc.loads(fc.dumps(f2))
    assert g(2) == f2(2) == 2 * sum(range(8, 12))
    # a replaced input is not an input any more: listing it is an unused input
    with pytest.raises(ValueError, match=r"input 1 \(x\) is not used"):
        fc.function([i, x], x.sum(), givens={x: data[i:]})


def test_givens_replace_a_shared_variable_and_apply_to_updates() -> None:
    w = fc.shared(np.ones(3), name="w")
    acc = fc.shared(np.zeros(3), name="acc")
    v = ft.vector("v")
    f = fc.function([v], w.sum(), updates={acc: acc + w}, givens={w: v * 10})
    assert f(np.array([1.0, 2.0, 3.0])) == 60
    np.testing.assert_array_equal(acc.get_value(), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


def test_givens_refuse_replacements_of_another_type() -> None:
    i, x = ft.lscalar("i"), ft.matrix("x")
    with pytest.raises(
        TypeError,
        match=r"givens: x has type TensorType\(float64, \(\?,\?\)\) but its replacement .* has type TensorType\(float32, \(\?,\?\)\).*ft.cast\(expr, 'float64'\)",
    ):
        fc.function([i], x.sum(), givens={x: ft.fmatrix("f")})
    with pytest.raises(TypeError, match=r"givens: x .* reshape or dimshuffle"):
        fc.function([i], x.sum(), givens={x: ft.vector("v")})
    with pytest.raises(ValueError, match=r"givens: c has static shape \(1, 3\), its replacement \(2, 3\)"):
        fc.function(
            [],
            ft.TensorType("float64", (1, 3))("c").sum(),
            givens={ft.TensorType("float64", (1, 3))("c"): np.ones((2, 3))},
        )
    with pytest.raises(TypeError, match=r"givens: a key must be a symbolic variable"):
        fc.function([i], i * 2, givens={"x": i})
    with pytest.raises(
        TypeError,
        match=r"givens must be a dict \{variable: expression\} or a sequence of \(variable, expression\) pairs, got ",
    ):
        fc.function([i], i * 2, givens=[x])


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_givens_check_a_static_size_the_replacement_does_not_declare(mode: Any) -> None:
    c = ft.TensorType("float64", (1, None))("c")
    m = ft.matrix("m")
    f = fc.function([m], (c + 1).sum(), givens={c: m}, mode=mode)
    assert f(np.ones((1, 4))) == 8
    with pytest.raises(
        ValueError, match=r"specify_shape: the value has shape \(2, 4\), the graph declares \(1, None\)"
    ):
        f(np.ones((2, 4)))


def test_clone_replace_and_graph_replace() -> None:
    x, y = ft.vector("x"), ft.vector("y")
    e = ft.exp(x) * 2 + y
    r = fc.clone_replace(e, {x: y + 1})
    f = fc.function([y], r, mode=PY)
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.exp([1.0, 2.0]) * 2 + [0.0, 1.0])
    # the original graph is unchanged
    assert x in [v for v in fc.function([x, y], e, mode=PY).inputs]
    outs = fc.graph_replace([e, x * 3], [(x, y)])
    assert isinstance(outs, list) and len(outs) == 2
    with pytest.raises(ValueError, match=r"graph_replace: the outputs do not depend on"):
        fc.graph_replace(y * 2, {x: y})
    assert fc.pp(fc.graph_replace(y * 2, {x: y}, strict=False)) == "(y * 2.0)"


def test_a_key_inside_a_replacement_is_not_replaced_again() -> None:
    """As PyTensor's clone_replace and graph_replace (and Theano's clone): the replacements are
    taken as they are, so {x: x + 1} is one substitution, not a recursion."""
    x, y = ft.vector("x"), ft.vector("y")
    e = x * 2 + y
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    for replace in (fc.clone_replace, fc.graph_replace):
        r = replace(e, {x: x + 1, y: x * y})
        assert fc.pp(r) == "(((x + 1.0) * 2.0) + (x * y))"
        np.testing.assert_array_equal(fc.function([x, y], r, mode=PY)(xv, yv), (xv + 1) * 2 + xv * yv)
    # an intermediate as the key, its own expression inside the replacement
    h = ft.exp(x)
    r = fc.graph_replace(h * 3, {h: h + 1})
    np.testing.assert_allclose(fc.function([x], r, mode=PY)(xv), (np.exp(xv) + 1) * 3, rtol=1e-15)
    # givens do the same
    f = fc.function([x, y], e, givens={x: x * 10}, mode=PY)
    np.testing.assert_array_equal(f(xv, yv), xv * 20 + yv)


# -- ifelse ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_ifelse_chooses_a_branch_of_any_shape_and_has_a_gradient(mode: Any) -> None:
    c, x, y = ft.scalar("c"), ft.vector("x"), ft.vector("y")
    z = fc.ifelse(ft.gt(c, 0), x * 2, y[:2])
    f = fc.function([c, x, y], [z, *fc.grad((z**2).sum(), [x, y])], mode=mode)
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0])
    z1, gx1, gy1 = f(1.0, xv, yv)
    np.testing.assert_array_equal(z1, xv * 2)
    np.testing.assert_array_equal(gx1, 8 * xv)
    np.testing.assert_array_equal(gy1, np.zeros(4))
    z0, gx0, gy0 = f(-1.0, xv, yv)
    np.testing.assert_array_equal(z0, yv[:2])
    np.testing.assert_array_equal(gx0, np.zeros(3))
    np.testing.assert_array_equal(gy0, [8.0, 10.0, 0.0, 0.0])
    a, b = ft.ifelse(ft.gt(c, 0), [x, x + 1], [y, y - 1])
    g = fc.function([c, x, y], [a, b], mode=mode)
    np.testing.assert_array_equal(g(0.0, xv, yv)[1], yv - 1)


def test_ifelse_is_lazy_and_refuses_mismatched_types() -> None:
    c, x = ft.scalar("c"), ft.vector("x")
    # lazy: the branch not taken does not run, so its errors do not raise (tests/test_ifelse.py)
    bad = ft.assert_op(x, ft.all(ft.lt(x, 0)), "the else branch ran")
    f = fc.function([c, x], fc.ifelse(ft.gt(c, 0), x, bad), mode=PY)
    np.testing.assert_array_equal(f(1.0, np.ones(2)), np.ones(2))
    with pytest.raises(AssertionError, match="the else branch ran"):
        f(-1.0, np.ones(2))
    with pytest.raises(TypeError, match=r"ifelse: the condition must be a scalar"):
        fc.ifelse(x, x, x)
    with pytest.raises(
        TypeError,
        match=r"ifelse: output 0: the then-branch is .*float64.* the else-branch .*float32.*ft.cast",
    ):
        fc.ifelse(c, x, ft.fvector())
    with pytest.raises(ValueError, match=r"ifelse: the branches must both be one variable or lists"):
        fc.ifelse(c, [x, x], [x])


# -- printing -----------------------------------------------------------------------------------------
def test_pp_writes_the_expression_in_infix_notation() -> None:
    x, y = ft.vector("x"), ft.vector("y")
    assert fc.printing.pp(ft.sum(x * 2 + ft.exp(-y))) == "Sum{axes=[0]}(((x * 2.0) + exp(-y)))"
    assert fc.pp([x - 1, ft.cast(x, "float32")]) == "(x - 1.0)\ncast(x, float32)"
    f = fc.function([x, y], (x + y) * 3)
    # a compiled function: its optimized (fused) graph, written out as one expression
    assert fc.pp(f) == "((x + y) * 3.0)"
    with pytest.raises(TypeError, match=r"pp: expected a variable"):
        fc.pp(3)


def test_printing_debugprint_prints_as_theanos_and_fc_debugprint_stays_quiet(capsys) -> None:
    x = ft.vector("x")
    f = fc.function([x], ft.exp(x) * 2, name="f")
    text = fc.printing.debugprint(f)  # Theano's default: standard output
    assert "Function 'f'" in text and capsys.readouterr().out == text + "\n"
    assert fc.printing.debugprint(f, file="str") == text == fc.debugprint(f)
    assert capsys.readouterr().out == ""  # "str" and fc.debugprint print nothing
    buf = io.StringIO()
    fc.printing.debugprint(x * 2, file=buf)
    assert "mul" in buf.getvalue() and capsys.readouterr().out == ""


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_print_op_prints_each_time_the_value_is_computed(mode: Any, capsys) -> None:
    from fncache.printing import Print

    x = ft.dvector("x")
    y = Print("y")(x * 2)
    f = fc.function([x], [ft.exp(y), ft.grad(y.sum(), x)], mode=mode)
    e, gx = f([0.0, 1.0])
    np.testing.assert_allclose(e, np.exp([0.0, 2.0]))
    np.testing.assert_array_equal(gx, [2.0, 2.0])  # the gradient passes through, unprinted
    assert capsys.readouterr().out == "y __str__ = [0. 2.]\n"
    # two equal Prints both print (never merged); one of a constant prints when the function
    # runs, not when it is compiled; attrs chooses what is printed; pickles carry it
    g = fc.function(
        [x],
        [
            Print("s", attrs=("shape",))(x) + Print("s", attrs=("shape",))(x),
            Print("c")(ft.constant(np.arange(2.0))) + x,
        ],
        mode=mode,
    )
    assert capsys.readouterr().out == ""
    pickle.loads(pickle.dumps(g))([1.0, 2.0])
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == ["c __str__ = [0. 1.]", "s shape = (2,)", "s shape = (2,)"]
    with pytest.raises(TypeError, match=r"Print: attrs must be a tuple of attribute names"):
        Print("x", attrs="shape")


# -- In / Out ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_in_gives_defaults_and_keyword_names_and_pickles(mode: Any) -> None:
    x, y = ft.vector("x"), ft.scalar("y")
    w = fc.shared(np.ones(2), name="w")
    f = fc.function(
        [x, fc.In(y, value=2.0, name="scale")],
        fc.Out(x * y + w.sum(), borrow=True),
        updates={w: w + 1},
        mode=mode,
    )
    one = np.ones(2)
    np.testing.assert_array_equal(f(one), [4.0, 4.0])  # w = 1: 1 * 2 + 2
    np.testing.assert_array_equal(f(one, 3.0), [7.0, 7.0])  # w = 2: 3 + 4
    np.testing.assert_array_equal(f(one, scale=4.0), [10.0, 10.0])  # w = 3: 4 + 6
    np.testing.assert_array_equal(f(x=one), [10.0, 10.0])  # w = 4: 2 + 8
    assert f.input_names == ["x", "scale"]
    g = fc.loads(fc.dumps(f))
    np.testing.assert_array_equal(g(one), [12.0, 12.0])  # the pickled w = 5
    assert g.input_names == ["x", "scale"] and g.defaults[1] == 2.0
    with pytest.raises(TypeError, match=r"function 'f': missing inputs \['x'\]"):
        f()
    with pytest.raises(TypeError, match=r"function 'f' takes 2 inputs"):
        f(one, 1.0, 2.0)
    # the default is the function's own read-only copy: a returned input is not it
    h = fc.function([fc.In(x, value=[1.0, 2.0])], x, mode=mode)
    out = h()
    out[0] = 7.0
    np.testing.assert_array_equal(h(), [1.0, 2.0])


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_in_with_an_update_is_internal_state(mode: Any) -> None:
    """Theano's accumulator: In(s, value=..., update=...) keeps s between calls."""
    x, s = ft.vector("x"), ft.vector("s")
    inc = fc.function([x, fc.In(s, value=[1.0, 2.0], update=s + x)], s * 10, mode=mode)
    state, xs = np.array([1.0, 2.0]), [RNG.normal(size=2) for _ in range(4)]
    for xv in xs:
        np.testing.assert_array_equal(inc(xv), state * 10)  # the output reads the state before
        state = state + xv
        np.testing.assert_array_equal(inc[s], state)
    # a value given for it sets the state for this call (then updated), as in Theano
    np.testing.assert_array_equal(inc(xs[0], s=np.array([100.0, 0.0])), [1000.0, 0.0])
    np.testing.assert_array_equal(inc["s"], [100.0, 0.0] + xs[0])
    inc[s] = [5.0, 6.0]
    np.testing.assert_array_equal(inc(xs[1]), [50.0, 60.0])
    # f.fn repeats the last call on the state as the last call left it
    np.testing.assert_array_equal(inc.fn(), ([5.0, 6.0] + xs[1]) * 10)
    np.testing.assert_array_equal(inc[s], [5.0, 6.0] + xs[1] + xs[1])
    # the state travels with a pickle and is the copy's own from then on
    copy = fc.loads(fc.dumps(inc))
    np.testing.assert_array_equal(copy(xs[2]), inc[s] * 10)
    np.testing.assert_array_equal(copy["s"], inc[s] + xs[2])
    with pytest.raises(KeyError, match=r"keeps no input 'x'.*they are \['s'\]"):
        inc["x"]
    with pytest.raises(TypeError, match=r"the state 's' of function 'f'"):
        inc[s] = np.ones(3, dtype="int64").reshape(3, 1)


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_implicit_inputs_mutable_and_borrow(mode: Any) -> None:
    x, w, y = ft.vector("x"), ft.vector("w"), ft.vector("y")
    # implicit: no argument; its value is the function's own, updated or not
    f = fc.function(
        [
            x,
            fc.In(w, value=[1.0, 1.0], update=w * x, implicit=True),
            fc.In(y, value=[3.0, 4.0], implicit=True),
        ],
        w + y,
        mode=mode,
    )
    assert f.input_names == ["x"]
    xv = np.array([2.0, 3.0])
    np.testing.assert_array_equal(f(xv), [4.0, 5.0])
    np.testing.assert_array_equal(f(xv), [5.0, 7.0])
    np.testing.assert_array_equal(f[w], [4.0, 9.0])
    f["y"] = [0.0, 0.0]
    np.testing.assert_array_equal(f(xv), [4.0, 9.0])
    with pytest.raises(TypeError, match=r"takes 1 inputs"):
        f(xv, xv)
    # mutable and borrow are permissions: the input is never written, an output never aliases it
    g = fc.function([fc.In(x, mutable=True, borrow=True)], [x * 2, x + 0], mode=mode)
    xv = np.array([1.0, 2.0])
    a, b = g(xv)
    b[0] = 9.0
    np.testing.assert_array_equal(xv, [1.0, 2.0])
    np.testing.assert_array_equal(a, [2.0, 4.0])


def test_in_refuses_unknown_keywords_and_a_state_without_a_value() -> None:
    x, s = ft.vector("x"), ft.vector("s")
    with pytest.raises(TypeError, match=r"In: unknown keyword 'strct'; In takes name, value, update"):
        fc.In(x, strct=True)
    with pytest.raises(ValueError, match=r"In: the input with an update 's' needs a value to start from"):
        fc.In(s, update=s + 1)
    with pytest.raises(ValueError, match=r"In: the implicit input 's' needs a value"):
        fc.In(s, implicit=True)
    with pytest.raises(TypeError, match=r"In: the update of 's' has type .*float32.*ft.cast"):
        fc.In(s, value=[0.0], update=ft.cast(s, "float32"))
    with pytest.raises(TypeError, match=r"In: mutable must be True or False"):
        fc.In(s, mutable="yes")


def test_in_refuses_bad_defaults_and_names() -> None:
    x, y = ft.vector("x"), ft.scalar("y")
    # an input without a default after one with a default is given by keyword
    assert fc.function([fc.In(x, value=[1.0]), y], x + y)(y=2.0) == 3.0
    with pytest.raises(TypeError, match=r"input 0 \('x'\) of function 'f': expected a float64 array"):
        fc.function([fc.In(x, value="a")], x)
    with pytest.raises(ValueError, match=r"input 1 is named 'y', as an earlier input is"):
        fc.function([fc.In(x, name="y"), y], x + y)
    with pytest.raises(TypeError, match=r"In: the variable must be a symbolic variable"):
        fc.In(3)


# -- the "Derivatives" tutorial's Lop, and the "Using shared variables" / "Copying functions" ones ---
@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_lop_needs_only_what_the_product_reads(mode: Any) -> None:
    W, x, v = ft.dmatrix("W"), ft.dvector("x"), ft.dvector("v")
    vj = ft.Lop(ft.dot(x, W), W, v)
    f = fc.function([v, x], vj, mode=mode)  # the tutorial: W is not an input
    np.testing.assert_array_equal(f([2.0, 2.0], [0.0, 1.0]), [[0.0, 0.0], [2.0, 2.0]])
    # given W, the function checks the vector against dot(x, W)'s length, as before
    g = fc.function([v, x, W], vj, mode=mode)
    np.testing.assert_array_equal(g([2.0, 2.0], [0.0, 1.0], np.ones((2, 2))), [[0.0, 0.0], [2.0, 2.0]])
    with pytest.raises(AssertionError, match="eval_points does not have the variable's shape"):
        g([2.0, 2.0, 2.0], [0.0, 1.0], np.ones((2, 2)))
    # a check that is not optional still needs what it reads
    with pytest.raises(ValueError, match=r"depend on variables that are not inputs.*W"):
        fc.function([x], ft.assert_op(x, ft.eq(x.shape[0], W.shape[0])), mode=mode)


def test_no_default_updates_keeps_a_stream_where_it_is() -> None:
    srng = fc.RandomStreams(seed=234)
    u = srng.uniform((2, 2))
    f = fc.function([], u)
    g = fc.function([], u, no_default_updates=True)
    a, b = f(), f()
    assert not np.array_equal(a, b)  # the default update moves the stream on
    np.testing.assert_array_equal(g(), g())  # no update: the same draw each call
    shared = [v for v in f.shared_variables if v.default_update is not None]
    k = fc.function([], u, no_default_updates=shared)
    np.testing.assert_array_equal(k(), k())
    with pytest.raises(TypeError, match=r"no_default_updates must be True, False or a list of shared"):
        fc.function([], u, no_default_updates=["rng"])


@pytest.mark.parametrize("mode", [PY, None], ids=["py", "c"])
def test_copy_swaps_shared_variables_and_deletes_updates(mode: Any) -> None:
    state, inc = fc.shared(0, name="state"), ft.iscalar("inc")
    acc = fc.function([inc], state, updates=[(state, state + inc)], mode=mode)
    acc(1)
    new_state = fc.shared(0)
    new_acc = acc.copy(swap={state: new_state})
    assert new_acc(100) == 0 and new_state.get_value() == 100 and state.get_value() == 1
    null = acc.copy(delete_updates=True, name="null")
    assert null(9) == 1 and state.get_value() == 1 and null.name == "null"
    assert acc(2) == 1 and state.get_value() == 3  # the original is untouched
    # defaults and keyword names come along; a pickled function copies too
    x = ft.dvector("x")
    f = fc.function([fc.In(x, name="a", value=[1.0, 2.0])], x * 2, mode=mode)
    c = pickle.loads(pickle.dumps(f)).copy()
    np.testing.assert_array_equal(c(), [2.0, 4.0])
    np.testing.assert_array_equal(c(a=[3.0]), [6.0])
    with pytest.raises(TypeError, match=r"copy: swap maps .* not a shared variable of the same type"):
        acc.copy(swap={state: fc.shared(0.5)})
    with pytest.raises(ValueError, match=r"copy: swap names .* which function 'f' does not read"):
        acc.copy(swap={new_state: fc.shared(0)})
    s = ft.dvector("s")
    keeps = fc.function([fc.In(s, value=[0.0], update=s + 1)], s * 1, mode=mode)
    keeps()
    copied = keeps.copy()  # its own state, starting at the original's
    assert copied() == 1 and copied[s] == 2 and keeps[s] == 1


def test_nan_guard_mode_names_the_node_that_made_the_value() -> None:
    x = ft.dvector("x")
    guard = fc.NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)
    f = fc.function([x], ft.exp(ft.log(x) * 2) + 1, mode=guard)
    np.testing.assert_allclose(f([1.0, 2.0]), [2.0, 5.0])  # clean values pass
    with pytest.raises(AssertionError, match=r"NanGuardMode found NaN in output 0 of .*log"):
        f([-1.0, 2.0])
    with pytest.raises(AssertionError, match=r"NanGuardMode found an infinity in input 0 \(x\)"):
        f([np.inf, 2.0])
    with pytest.raises(AssertionError, match=r"NanGuardMode found a value above 1e10"):
        f([1e6, 2.0])  # exp(log(1e6) * 2) = 1e12
    # only the checks asked for; the mode survives pickling; a plain mode does not check
    quiet = fc.function([x], ft.log(x), mode=fc.NanGuardMode(nan_is_error=False, inf_is_error=False))
    assert np.isnan(pickle.loads(pickle.dumps(quiet))([-1.0])[0])
    nan_only = pickle.loads(
        pickle.dumps(fc.function([x], ft.log(x), mode=fc.NanGuardMode(True, False, False)))
    )
    assert np.isneginf(nan_only([0.0])[0])
    with pytest.raises(AssertionError, match="NanGuardMode found NaN"):
        nan_only([-1.0])
    assert np.isnan(fc.function([x], ft.log(x))([-1.0])[0])
    # inside a scan step too
    ys, _ = fc.scan(lambda v, acc: acc + ft.log(v), sequences=x, outputs_info=ft.constant(0.0))
    g = fc.function([x], ys[-1], mode=guard)
    assert g([1.0, np.e]) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match="NanGuardMode found NaN"):
        g([1.0, -1.0])
    from fncache.compile.nanguardmode import NanGuardMode  # Theano's place for it

    assert NanGuardMode is fc.NanGuardMode is fc.compile.NanGuardMode
    with pytest.raises(ValueError, match=r"NanGuardMode: unknown linker 'vm2'"):
        fc.NanGuardMode(linker="vm2")
