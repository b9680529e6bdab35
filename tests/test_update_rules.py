"""Training beyond plain SGD, written as Lasagne's users wrote it: the update rules (sgd,
momentum, nesterov_momentum, adagrad, rmsprop, adadelta, adam, adamax, ``apply_momentum``,
``total_norm_constraint``, ``norm_constraint``) and the objectives (binary and categorical
crossentropy, squared error, binary and multiclass hinge losses, ``aggregate``, L1 and L2
penalties) from their public formulas against ``fncache.tensor``, with shared accumulators in an
``OrderedDict`` of updates, a ``shared(0)`` step counter, and hyper-parameters given as Python
floats, shared scalars or symbolic inputs.

Each rule trains its own copy of a small MLP (20 features, 3 classes, a bias of broadcastable
shape (1, 8)) for a few steps, compared step by step with the same loop written in numpy with
hand-written gradients. All rules train in one function, built once per floatX and linker, so
that the file compiles four functions for the rules and two for the objectives."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

N, D, H, K = 16, 20, 8, 3
STEPS = 5
L1, L2 = 1e-3, 1e-2
MAX_NORM = 0.5
#: floatX=float32 computes in float32 against a float64 loop: rounding grows over the steps
TOL = {"float64": {"rtol": 1e-10, "atol": 1e-13}, "float32": {"rtol": 1e-5, "atol": 2e-6}}
LINKERS = {"c": lambda: fc.Mode(linker="c"), "py": lambda: fc.Mode(linker="py", optimizer="fast_compile")}


# -- the rules, written against fncache as Lasagne writes them ------------------------------------
def floatx(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=fc.config.floatX)


def zeros_like_param(param: Any) -> Any:
    value = param.get_value(borrow=True)
    return fc.shared(np.zeros(value.shape, dtype=value.dtype), broadcastable=param.broadcastable)


def sgd(grads: list, params: list, learning_rate: Any) -> OrderedDict:
    return OrderedDict((p, p - learning_rate * g) for p, g in zip(params, grads))


def apply_momentum(updates: OrderedDict, params: list, momentum: Any = 0.9) -> OrderedDict:
    updates = OrderedDict(updates)
    for param in params:
        velocity = zeros_like_param(param)
        x = momentum * velocity + updates[param]
        updates[velocity] = x - param
        updates[param] = x
    return updates


def apply_nesterov_momentum(updates: OrderedDict, params: list, momentum: Any = 0.9) -> OrderedDict:
    updates = OrderedDict(updates)
    for param in params:
        velocity = zeros_like_param(param)
        x = momentum * velocity + updates[param] - param
        updates[velocity] = x
        updates[param] = momentum * x + updates[param]
    return updates


def momentum(grads: list, params: list, learning_rate: Any, momentum: Any = 0.9) -> OrderedDict:
    return apply_momentum(sgd(grads, params, learning_rate), params, momentum)


def nesterov_momentum(grads: list, params: list, learning_rate: Any, momentum: Any = 0.9) -> OrderedDict:
    return apply_nesterov_momentum(sgd(grads, params, learning_rate), params, momentum)


def adagrad(grads: list, params: list, learning_rate: Any, epsilon: float = 1e-6) -> OrderedDict:
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = zeros_like_param(param)
        accu_new = accu + grad**2
        updates[accu] = accu_new
        updates[param] = param - learning_rate * grad / ft.sqrt(accu_new + epsilon)
    return updates


def rmsprop(
    grads: list, params: list, learning_rate: Any, rho: float = 0.9, epsilon: float = 1e-6
) -> OrderedDict:
    updates = OrderedDict()
    one = ft.constant(1)
    for param, grad in zip(params, grads):
        accu = zeros_like_param(param)
        accu_new = rho * accu + (one - rho) * grad**2
        updates[accu] = accu_new
        updates[param] = param - learning_rate * grad / ft.sqrt(accu_new + epsilon)
    return updates


def adadelta(
    grads: list, params: list, learning_rate: Any, rho: float = 0.95, epsilon: float = 1e-6
) -> OrderedDict:
    updates = OrderedDict()
    one = ft.constant(1)
    for param, grad in zip(params, grads):
        accu, delta_accu = zeros_like_param(param), zeros_like_param(param)
        accu_new = rho * accu + (one - rho) * grad**2
        updates[accu] = accu_new
        update = grad * ft.sqrt(delta_accu + epsilon) / ft.sqrt(accu_new + epsilon)
        updates[param] = param - learning_rate * update
        updates[delta_accu] = rho * delta_accu + (one - rho) * update**2
    return updates


def adam(
    grads: list,
    params: list,
    learning_rate: Any,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> OrderedDict:
    t_prev = fc.shared(0)  # an integer step counter, as user code often has
    updates = OrderedDict()
    one = ft.constant(1)
    t = t_prev + 1
    a_t = learning_rate * ft.sqrt(one - beta2**t) / (one - beta1**t)
    for param, g_t in zip(params, grads):
        m_prev, v_prev = zeros_like_param(param), zeros_like_param(param)
        m_t = beta1 * m_prev + (one - beta1) * g_t
        v_t = beta2 * v_prev + (one - beta2) * g_t**2
        updates[m_prev] = m_t
        updates[v_prev] = v_t
        updates[param] = param - a_t * m_t / (ft.sqrt(v_t) + epsilon)
    updates[t_prev] = t
    return updates


def adamax(
    grads: list,
    params: list,
    learning_rate: Any,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> OrderedDict:
    t_prev = fc.shared(floatx(0.0))  # Lasagne's floatX counter
    updates = OrderedDict()
    one = ft.constant(1)
    t = t_prev + 1
    a_t = learning_rate / (one - beta1**t)
    for param, g_t in zip(params, grads):
        m_prev, u_prev = zeros_like_param(param), zeros_like_param(param)
        m_t = beta1 * m_prev + (one - beta1) * g_t
        u_t = ft.maximum(beta2 * u_prev, abs(g_t))
        updates[m_prev] = m_t
        updates[u_prev] = u_t
        updates[param] = param - a_t * m_t / (u_t + epsilon)
    updates[t_prev] = t
    return updates


def total_norm_constraint(tensor_vars: list, max_norm: float, epsilon: float = 1e-7) -> list:
    norm = ft.sqrt(sum(ft.sum(g**2) for g in tensor_vars))
    multiplier = ft.minimum(norm, max_norm) / (epsilon + norm)
    return [g * multiplier for g in tensor_vars]


def norm_constraint(tensor_var: Any, max_norm: float, epsilon: float = 1e-7) -> Any:
    norms = ft.sqrt(ft.sum(tensor_var**2, axis=0, keepdims=True))
    return tensor_var * (ft.switch(norms > max_norm, max_norm, norms) / (epsilon + norms))


def clipped_sgd(grads: list, params: list, learning_rate: Any) -> OrderedDict:
    return sgd(total_norm_constraint(grads, MAX_NORM), params, learning_rate)


def constrained_adam(grads: list, params: list, learning_rate: Any) -> OrderedDict:
    updates = adam(grads, params, learning_rate)
    for param in params:
        if param.ndim == 2 and not param.broadcastable[0]:
            updates[param] = norm_constraint(updates[param], MAX_NORM)
    return updates


# -- the same rules on numpy arrays: ``state`` holds the accumulators of one rule --------------------
def np_sgd(ps: list, gs: list, state: dict, lr: float) -> list:
    return [p - lr * g for p, g in zip(ps, gs)]


def np_momentum(ps: list, gs: list, state: dict, lr: float, nesterov: bool = False, mu: float = 0.9) -> list:
    vs = state.setdefault("v", [np.zeros_like(p) for p in ps])
    out = []
    for i, (p, g) in enumerate(zip(ps, gs)):
        vs[i] = mu * vs[i] - lr * g
        out.append(p + mu * vs[i] - lr * g if nesterov else p + vs[i])
    return out


def np_adagrad(ps: list, gs: list, state: dict, lr: float, eps: float = 1e-6) -> list:
    acc = state.setdefault("a", [np.zeros_like(p) for p in ps])
    for i, g in enumerate(gs):
        acc[i] = acc[i] + g * g
    return [p - lr * g / np.sqrt(a + eps) for p, g, a in zip(ps, gs, acc)]


def np_rmsprop(ps: list, gs: list, state: dict, lr: float, rho: float = 0.9, eps: float = 1e-6) -> list:
    acc = state.setdefault("a", [np.zeros_like(p) for p in ps])
    for i, g in enumerate(gs):
        acc[i] = rho * acc[i] + (1 - rho) * g * g
    return [p - lr * g / np.sqrt(a + eps) for p, g, a in zip(ps, gs, acc)]


def np_adadelta(ps: list, gs: list, state: dict, lr: float, rho: float = 0.95, eps: float = 1e-6) -> list:
    acc = state.setdefault("a", [np.zeros_like(p) for p in ps])
    dacc = state.setdefault("d", [np.zeros_like(p) for p in ps])
    out = []
    for i, (p, g) in enumerate(zip(ps, gs)):
        acc[i] = rho * acc[i] + (1 - rho) * g * g
        step = g * np.sqrt(dacc[i] + eps) / np.sqrt(acc[i] + eps)
        dacc[i] = rho * dacc[i] + (1 - rho) * step * step
        out.append(p - lr * step)
    return out


def np_adam(
    ps: list, gs: list, state: dict, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> list:
    t = state["t"] = state.get("t", 0) + 1
    m = state.setdefault("m", [np.zeros_like(p) for p in ps])
    v = state.setdefault("v", [np.zeros_like(p) for p in ps])
    a_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    for i, g in enumerate(gs):
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
    return [p - a_t * mi / (np.sqrt(vi) + eps) for p, mi, vi in zip(ps, m, v)]


def np_adamax(
    ps: list, gs: list, state: dict, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> list:
    t = state["t"] = state.get("t", 0) + 1
    m = state.setdefault("m", [np.zeros_like(p) for p in ps])
    u = state.setdefault("u", [np.zeros_like(p) for p in ps])
    for i, g in enumerate(gs):
        m[i] = b1 * m[i] + (1 - b1) * g
        u[i] = np.maximum(b2 * u[i], np.abs(g))
    return [p - lr / (1 - b1**t) * mi / (ui + eps) for p, mi, ui in zip(ps, m, u)]


def np_clipped_sgd(ps: list, gs: list, state: dict, lr: float) -> list:
    norm = np.sqrt(sum(np.sum(g * g) for g in gs))
    return np_sgd(ps, [g * min(norm, MAX_NORM) / (1e-7 + norm) for g in gs], state, lr)


def np_constrained_adam(ps: list, gs: list, state: dict, lr: float) -> list:
    out = np_adam(ps, gs, state, lr)
    for i in (0, 2):  # the weight matrices
        norms = np.sqrt(np.sum(out[i] ** 2, axis=0, keepdims=True))
        out[i] = out[i] * (np.minimum(norms, MAX_NORM) / (1e-7 + norms))
    return out


#: name: (the rule on fncache, the rule on numpy, the learning rate, how it is given)
RULES: dict[str, tuple[Callable, Callable, float, str]] = {
    "sgd": (sgd, np_sgd, 0.5, "input"),
    "momentum": (momentum, np_momentum, 0.1, "shared"),
    "nesterov_momentum": (nesterov_momentum, lambda *a: np_momentum(*a, nesterov=True), 0.1, "float"),
    "adagrad": (adagrad, np_adagrad, 0.05, "shared"),
    "rmsprop": (rmsprop, np_rmsprop, 0.01, "input"),
    "adadelta": (adadelta, np_adadelta, 1.0, "float"),
    "adam": (adam, np_adam, 0.01, "shared"),
    "adamax": (adamax, np_adamax, 0.02, "float"),
    "total_norm_constraint": (clipped_sgd, np_clipped_sgd, 0.5, "shared"),
    "norm_constraint": (constrained_adam, np_constrained_adam, 0.05, "input"),
}


# -- the model ------------------------------------------------------------------------------
def initial_params() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [
        rng.normal(0, 0.4, (D, H)),
        rng.normal(0, 0.1, (1, H)),
        rng.normal(0, 0.4, (H, K)),
        rng.normal(0, 0.1, K),
    ]


def batches() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2)
    return [(rng.normal(size=(N, D)), rng.integers(0, K, N).astype("int32")) for _ in range(STEPS)]


def build_mlp(X: Any, y: Any) -> tuple[list, Any]:
    """A 2-layer MLP's parameters and its mean crossentropy with L1 and L2 penalties."""
    w1, c1, w2, c2 = initial_params()
    W1, W2, b2 = (
        fc.shared(floatx(w1), name="W1"),
        fc.shared(floatx(w2), name="W2"),
        fc.shared(floatx(c2), name="b2"),
    )
    b1 = fc.shared(floatx(c1), broadcastable=(True, False), name="b1")
    h = ft.tanh(ft.dot(X, W1) + b1)
    prob = ft.nnet.softmax(ft.dot(h, W2) + b2)
    penalty = L2 * sum(ft.sum(W**2) for W in (W1, W2)) + L1 * ft.sum(abs(W2))
    loss = ft.nnet.categorical_crossentropy(prob, y).mean() + penalty
    return [W1, b1, W2, b2], loss


def np_mlp_grads(ps: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    W1, b1, W2, b2 = ps
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    prob = np.exp(z - z.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    loss = (
        -np.log(prob[np.arange(N), y]).mean() + L2 * (np.sum(W1**2) + np.sum(W2**2)) + L1 * np.sum(np.abs(W2))
    )
    dz = (prob - np.eye(K)[y]) / N
    dh = (dz @ W2.T) * (1 - h * h)
    grads = [
        x.T @ dh + 2 * L2 * W1,
        dh.sum(0, keepdims=True),
        h.T @ dz + 2 * L2 * W2 + L1 * np.sign(W2),
        dz.sum(0),
    ]
    return loss, grads


def learning_rate(name: str) -> Any:
    """The rate ``name``'s rule is given: a Python float, a shared scalar or a symbolic input."""
    _, _, value, kind = RULES[name]
    if kind == "shared":
        return fc.shared(floatx(value))  # Lasagne's ``theano.shared(lasagne.utils.floatX(lr))``
    return ft.scalar(f"lr_{name}") if kind == "input" else value


class Trainer:
    """One function training a copy of the MLP with each rule, as ``f(X, y, *rates)`` with the
    rates of the rules given theirs as inputs; ``params[rule]`` are that copy's parameters."""

    def __init__(self, mode: Any, as_pairs: bool = False) -> None:
        X, y = ft.matrix("X"), ft.ivector("y")
        self.params: dict[str, list] = {}
        self.rates: list[float] = []
        inputs, losses, updates = [X, y], [], []
        for name, (rule, _, lr, kind) in RULES.items():
            params, loss = build_mlp(X, y)
            rate = learning_rate(name)
            if kind == "input":
                inputs.append(rate)
                self.rates.append(lr)
            updates += list(rule(fc.grad(loss, params), params, rate).items())
            self.params[name] = params
            losses.append(loss)
        self.fn = fc.function(
            inputs, losses, mode=mode, updates=updates if as_pairs else OrderedDict(updates)
        )

    def step(self, fn: Any, x: np.ndarray, y: np.ndarray) -> list:
        return fn(floatx(x), y, *self.rates)


def train(floatX: str, linker: str) -> dict[str, Any]:
    """Each rule's losses and parameters after each step, and its shared values' dtypes before
    and after, from a fresh function under ``floatX`` and ``linker``."""
    with fc.config.change_flags(floatX=floatX, **QUICK_C.get((floatX, linker), {})):
        trainer = Trainer(LINKERS[linker]())
        before = [str(s.get_value(borrow=True).dtype) for s in trainer.fn.get_shared()]
        losses, params = [], []
        for x, y in batches():
            losses.append(dict(zip(RULES, trainer.step(trainer.fn, x, y))))
            params.append({name: [p.get_value() for p in ps] for name, ps in trainer.params.items()})
        after = [str(s.get_value(borrow=True).dtype) for s in trainer.fn.get_shared()]
    return {"losses": losses, "params": params, "dtypes": (before, after)}


#: the floatXs and linkers the rules train under (one C compile per floatX)
RUNS = [(floatX, linker) for floatX in TOL for linker in LINKERS]
#: the compiler's flags of the runs not built with the default ones: -O0 compiles the large
#: graph of all rules several times faster
QUICK_C = {("float32", "c"): {"cxxflags": "-O0"}}


@pytest.fixture(scope="module")
def trained() -> dict[tuple[str, str], dict[str, Any]]:
    return {key: train(*key) for key in RUNS}


@pytest.mark.parametrize("name", list(RULES), ids=list(RULES))
def test_rule_matches_numpy(trained: dict, name: str) -> None:
    """Each rule's losses and parameters after every step are numpy's, under both floatXs and
    linkers."""
    _, np_rule, lr, _ = RULES[name]
    ps, state = initial_params(), {}
    for i, (x, y) in enumerate(batches()):
        loss, grads = np_mlp_grads(ps, x, y)
        ps = np_rule(ps, grads, state, lr)
        for key, run in trained.items():
            tol = TOL[key[0]]
            np.testing.assert_allclose(run["losses"][i][name], loss, **tol, err_msg=f"{key} step {i} loss")
            for p_run, p_np, p in zip(run["params"][i][name], ps, ("W1", "b1", "W2", "b2")):
                np.testing.assert_allclose(p_run, p_np, **tol, err_msg=f"{key} step {i} {p}")


@pytest.mark.parametrize("key", RUNS, ids=str)
def test_updates_keep_dtypes(trained: dict, key: tuple[str, str]) -> None:
    """Every shared value keeps its dtype through the updates: under floatX=float32 the
    parameters, accumulators and rates stay float32, the integer step counter int64 (PyTensor
    refuses adam's float64 update of a float32 parameter there, ``test_pytensor_refuses_upcast``)."""
    before, after = trained[key]["dtypes"]
    assert after == before
    assert set(before) == {key[0], "int64"}


def test_pytensor_refuses_upcast() -> None:
    """Under floatX=float32, adam with an integer step counter computes its step in float64
    (0.9 ** t of an int64 t is float64); PyTensor refuses that update of a float32 parameter,
    fncache casts it back (``test_updates_keep_dtypes``, docs/porting.md)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    with pytensor.config.change_flags(floatX="float32"):
        W = pytensor.shared(np.ones((3, 2), "float32"), name="W")
        t = pytensor.shared(0) + 1
        step = 0.01 * pt.sqrt(1 - 0.999**t) / (1 - 0.9**t) * W
        assert step.dtype == "float64"
        with pytest.raises(
            TypeError, match="An update must have the same type as the original shared variable"
        ):
            pytensor.function([], [], updates=[(W, W - step)])


def test_pickled_training_continues() -> None:
    """A training function pickled after two steps, loaded, and both run three more steps: the
    same losses, parameters, accumulators and step counters; and the updates given as a list of
    pairs train as the OrderedDict does (the same compiled function)."""
    with fc.config.change_flags(floatX="float64"):
        trainer, as_pairs = Trainer(LINKERS["c"]()), Trainer(LINKERS["c"](), as_pairs=True)
        assert as_pairs.fn.cache_key == trainer.fn.cache_key
        data = batches()
        for x, y in data[:2]:
            assert trainer.step(trainer.fn, x, y) == as_pairs.step(as_pairs.fn, x, y)
        loaded = pickle.loads(pickle.dumps(trainer.fn))
        for x, y in data[2:]:
            want = trainer.step(trainer.fn, x, y)
            assert trainer.step(loaded, x, y) == want
            assert as_pairs.step(as_pairs.fn, x, y) == want
    state = [s.get_value() for s in trainer.fn.get_shared()]
    for other in (loaded, as_pairs.fn):
        got = [s.get_value() for s in other.get_shared()]
        assert len(got) == len(state) and all(np.array_equal(a, b) for a, b in zip(got, state))
    counters = [v for v in state if v.dtype.kind == "i" or v.ndim == 0 and v == STEPS]
    assert counters and all(v == STEPS for v in counters)


@pytest.mark.parametrize("name", [None, "W"])
def test_updated_twice_names_the_variable(name: str | None) -> None:
    """Two rules' updates of one parameter concatenated as pairs: a ValueError naming the
    variable (its name, else its type) and the two positions, as PyTensor refuses
    it; an OrderedDict cannot hold the two."""
    W = fc.shared(np.ones((3, 2)), name=name)
    updates = list(sgd([W], [W], 0.1).items()) + list(apply_momentum(sgd([W], [W], 0.1), [W]).items())
    shown = "W" if name else "<shared float64 matrix>"
    with pytest.raises(
        ValueError, match=rf"updates: shared variable {shown} is updated twice \(pairs 0 and 1\)"
    ):
        fc.function([], [], updates=updates)


# -- objectives -------------------------------------------------------------------------------
def binary_crossentropy(predictions: Any, targets: Any) -> Any:
    return -(targets * ft.log(predictions) + (1 - targets) * ft.log(1 - predictions))


def binary_hinge_loss(predictions: Any, targets: Any, delta: float = 1) -> Any:
    log_odds = ft.log(predictions / (1 - predictions))  # Lasagne's log_odds=False
    return ft.nnet.relu(delta - log_odds * (2 * targets - 1))


def multiclass_hinge_loss(predictions: Any, targets: Any, delta: float = 1) -> Any:
    num_cls = predictions.shape[1]
    if targets.ndim == predictions.ndim - 1:
        targets = ft.extra_ops.to_one_hot(targets, num_cls)
    corrects = predictions[targets.nonzero()]
    rest = ft.reshape(predictions[(1 - targets).nonzero()], (-1, num_cls - 1))
    return ft.nnet.relu(ft.max(rest, axis=1) - corrects + delta)


def aggregate(loss: Any, weights: Any = None, mode: str = "mean") -> Any:
    if weights is not None:
        loss = loss * weights
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    return loss.sum() / weights.sum()  # normalized_sum


def np_hinge_grad(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    rest = np.where(np.eye(K)[y] == 1, -np.inf, p)
    return np.eye(K)[rest.argmax(1)] - np.eye(K)[y]


def objective_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(N, K))
    y = rng.integers(0, K, N).astype("int32")
    return {
        "P": np.exp(z) / np.exp(z).sum(1, keepdims=True),
        "T": np.eye(K)[y],
        "y": y,
        "B": rng.integers(0, 2, (N, K)).astype("float64"),
        "w": rng.uniform(0.5, 2, N),
    }


#: name: (the loss of the symbolic inputs, numpy's loss and its derivative in P, of the data)
OBJECTIVES: dict[str, tuple[Callable, Callable]] = {
    "binary_crossentropy": (
        # clipped as Lasagne's users clip predictions, by a replacement in the built graph
        lambda v: fc.clone_replace(
            binary_crossentropy(v["P"], v["B"]), {v["P"]: ft.clip(v["P"], 1e-7, 1 - 1e-7)}
        ),
        lambda d: (
            -(d["B"] * np.log(d["P"]) + (1 - d["B"]) * np.log(1 - d["P"])),
            (1 - d["B"]) / (1 - d["P"]) - d["B"] / d["P"],
        ),
    ),
    "categorical_crossentropy_one_hot": (
        lambda v: ft.nnet.categorical_crossentropy(v["P"], v["T"]),
        lambda d: (-np.log((d["P"] * d["T"]).sum(1)), -d["T"] / d["P"]),
    ),
    "categorical_crossentropy_int": (
        lambda v: ft.nnet.categorical_crossentropy(v["P"], v["y"]),
        lambda d: (-np.log(d["P"][np.arange(N), d["y"]]), -d["T"] / d["P"]),
    ),
    "squared_error": (
        lambda v: (v["P"] - v["T"]) ** 2,
        lambda d: ((d["P"] - d["T"]) ** 2, 2 * (d["P"] - d["T"])),
    ),
    "binary_hinge_loss": (
        lambda v: binary_hinge_loss(v["P"], v["B"]),
        lambda d: (
            np.maximum(0, 1 - np.log(d["P"] / (1 - d["P"])) * (2 * d["B"] - 1)),
            (1 - np.log(d["P"] / (1 - d["P"])) * (2 * d["B"] - 1) > 0)
            * (1 - 2 * d["B"])
            / (d["P"] * (1 - d["P"])),
        ),
    ),
    "multiclass_hinge_loss_int": (
        lambda v: multiclass_hinge_loss(v["P"], v["y"]),
        lambda d: (
            np.sort(np.where(d["T"] == 1, -1, d["P"]), 1)[:, -1] - d["P"][d["T"] == 1] + 1,
            np_hinge_grad(d["P"], d["y"]),
        ),
    ),
    "multiclass_hinge_loss_one_hot": (
        lambda v: multiclass_hinge_loss(v["P"], v["T"]),
        lambda d: (
            np.sort(np.where(d["T"] == 1, -1, d["P"]), 1)[:, -1] - d["P"][d["T"] == 1] + 1,
            np_hinge_grad(d["P"], d["y"]),
        ),
    ),
}
#: aggregate's modes, each with or without weights
AGGREGATES = (("mean", False), ("mean", True), ("sum", True), ("normalized_sum", True))


@pytest.fixture(scope="module")
def objectives() -> dict[tuple[str, str, bool], list[np.ndarray]]:
    """Each objective's aggregated loss and its gradient in the predictions, from one function."""
    v = {
        "P": ft.matrix("P"),
        "T": ft.matrix("T"),
        "y": ft.ivector("y"),
        "B": ft.matrix("B"),
        "w": ft.vector("w"),
    }
    keys, outs = [], []
    for name, (build, _) in OBJECTIVES.items():
        loss = build(v)
        weights = v["w"] if loss.ndim == 1 else v["w"].dimshuffle(0, "x")
        for mode, weighted in AGGREGATES:
            cost = aggregate(loss, weights if weighted else None, mode)
            keys.append((name, mode, weighted))
            outs += [cost, fc.grad(cost, v["P"])]
    data = objective_data()
    with fc.config.change_flags(**QUICK_C["float32", "c"]):
        got = fc.function(list(v.values()), outs)(*(data[k] for k in v))
    return {key: got[2 * i : 2 * i + 2] for i, key in enumerate(keys)}


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_objective_matches_numpy(objectives: dict, name: str) -> None:
    """Each objective's aggregated value and gradient are numpy's, in every aggregate mode."""
    d = objective_data()
    loss, dloss = OBJECTIVES[name][1](d)
    w = d["w"] if loss.ndim == 1 else d["w"][:, None]
    for mode, weighted in AGGREGATES:
        c = np.broadcast_to(w if weighted else 1.0, loss.shape)
        c = {"mean": c / loss.size, "sum": c, "normalized_sum": c / d["w"].sum()}[mode]
        grad = (c[:, None] if loss.ndim == 1 else c) * dloss
        value, got_grad = objectives[name, mode, weighted]
        np.testing.assert_allclose(value, np.sum(c * loss), rtol=1e-12, err_msg=f"{mode} weighted={weighted}")
        np.testing.assert_allclose(
            got_grad, grad, rtol=1e-12, atol=1e-15, err_msg=f"{mode} weighted={weighted}"
        )


@pytest.mark.parametrize("linker", list(LINKERS))
def test_numpy_float_rate_into_float32_input(linker: str) -> None:
    """A learning-rate schedule computed in numpy (``base * decay ** epoch`` of an int64 epoch is
    an np.float64, a subclass of Python's float) is taken by a float32 rate input, rounded as a
    Python float is, as PyTensor takes it; a float64 array is still refused, as PyTensor does."""
    with fc.config.change_flags(floatX="float32"):
        lr = ft.scalar("lr")
        f = fc.function([lr], lr * 2, mode=LINKERS[linker]())
        rate = 0.5 * 0.95 ** np.int64(3)
        assert type(rate) is np.float64
        got = f(rate)
        assert got.dtype == "float32" and got == np.float32(rate) * 2
        with pytest.raises(
            TypeError, match="input 0 \\('lr'\\).*converting float64 to float32 could lose data"
        ):
            f(np.asarray(rate))


@pytest.mark.parametrize("linker", list(LINKERS))
def test_update_of_wrong_size_names_the_variable(linker: str) -> None:
    """A bias of broadcastable shape (1, n) updated with an expression of unknown rows (Theano
    refused its type when the function was built; PyTensor and fncache check the size when it
    runs): a value of 2 rows is a ValueError naming the update's variable, not only the check."""
    b = fc.shared(np.zeros((1, 4)), broadcastable=(True, False), name="b")
    M = ft.matrix("M")
    f = fc.function([M], [], updates=OrderedDict([(b, b - 0.1 * M)]), mode=LINKERS[linker]())
    f(np.ones((1, 4)))
    np.testing.assert_array_equal(b.get_value(), np.full((1, 4), -0.1))
    with pytest.raises(
        ValueError,
        match=r"updates: b has static shape \(1, None\), its update: .*\(2, 4\).*give one of those sizes",
    ):
        f(np.ones((2, 4)))
    np.testing.assert_array_equal(b.get_value(), np.full((1, 4), -0.1))


def test_rate_left_out_of_the_inputs_names_the_update() -> None:
    """A symbolic rate the updates read but the inputs do not list: the error names the rate
    and the update reading it (the outputs alone do not read it)."""
    X, y, rate = ft.matrix("X"), ft.ivector("y"), ft.scalar("rate")
    params, loss = build_mlp(X, y)
    with pytest.raises(ValueError, match=r"not inputs of the function: rate \(the update of W1 reads rate\)"):
        fc.function([X, y], loss, updates=sgd(fc.grad(loss, params), params, rate))
