"""Scan-, random- and update-heavy Theano/PyTensor code ported with ``import fncache as theano``,
checked against numpy and finite differences (PyTensor 3's answers, where they differ, are named
in the case; the last test compares live where PyTensor is installed).

Cases fncache got wrong until now:

* ``theano.scan_module`` (Theano's package of the loop, whose tutorial stops a loop with
  ``theano.scan_module.until(...)``) did not exist: ``AttributeError``.
* A count distribution's draws (``binomial``, ``bernoulli``, ``poisson``, ...) in a float
  ``dtype``, as Theano's tutorials draw them (``dtype=floatX``), had an undefined gradient in
  their parameters, so ``grad`` through them raised ``NullTypeGradError``, where the same draws
  in an int dtype (and Theano's MRG ``binomial``, ``uniform < p``) have a zero gradient.
* ``scan_updates + [(w, w - lr * g)]``: Theano's loops returned ``OrderedUpdates``, which add
  to other updates with ``+``; fncache's were a plain ``OrderedDict`` (``TypeError``).
* Theano's ``RandomStreams.shuffle_row_elements(x)`` (each row of ``x`` shuffled) was missing:
  ``AttributeError``.
* ``scan(..., n_steps=3.0)``, a count Python 3's division gives (``len(x) / 2``, an int in the
  Python 2 scripts Theano's users wrote), raised ``TypeError``; PyTensor takes a float.
* Theano's ``MRG_RandomStreams.choice(size=n, p=pvals, replace=False)`` (and its older name
  ``multinomial_wo_replacement``), ``n`` distinct column indices per row of the matrix
  ``pvals``, raised ``TypeError`` (it was ``RandomStreams.choice``, whose ``a`` it lacked).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import fncache as theano
import fncache.tensor as T
from fncache.errors import ArgumentValueError
from fncache.graph.traversal import ancestors
from fncache.sandbox.rng_mrg import MRG_RandomStreams
from fncache.tensor.shared_randomstreams import RandomStreams


def _fd(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x``."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def test_theano_scan_module_until_runs_the_tutorials_power_of_two() -> None:
    def power_of_2(previous_power, max_value):
        return previous_power * 2, theano.scan_module.until(previous_power * 2 > max_value)

    max_value = T.dscalar()
    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024)
    f = theano.function([max_value], values)
    np.testing.assert_array_equal(f(45.0), [2, 4, 8, 16, 32, 64])
    sm = theano.scan_module
    assert sm.scan_utils.until is sm.until is theano.until and sm.scan is theano.scan.scan
    loops = [v for v in ancestors([values]) if v.owner]
    assert any(isinstance(v.owner.op, sm.scan_op.Scan) for v in loops)
    mapped, _ = sm.map(lambda a: a * 3, T.dvector("x"))
    assert mapped.ndim == 1 and sm.scan_views.reduce is sm.reduce


P = np.array([[0.1, 0.2, 0.7, 0.0]])


def test_mrg_choice_draws_distinct_columns_of_each_row_in_sequence() -> None:
    srng = MRG_RandomStreams(3)
    pv, n = T.dmatrix("p"), T.iscalar("n")
    draw = srng.choice(size=n, p=pv, replace=False)
    assert (draw.dtype, draw.ndim) == ("int64", 2)
    f = theano.function([pv, n], draw)
    rows = 20000
    r = f(np.repeat(P, rows, axis=0), 2)
    assert r.shape == (rows, 2) and (r[:, 0] != r[:, 1]).all() and (r != 3).all()
    first = np.bincount(r[:, 0], minlength=4) / rows
    # the second draw is made from the columns left, renormalized
    p = P[0]
    second_expected = [sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)]
    np.testing.assert_allclose(first, p, atol=0.015)
    np.testing.assert_allclose(np.bincount(r[:, 1], minlength=4) / rows, second_expected, atol=0.015)
    every = f(np.ones((3, 5)) / 5, 5)
    assert (np.sort(every, axis=1) == np.arange(5)).all()
    assert not np.array_equal(f(np.ones((3, 5)) / 5, 5), every)  # the stream advances
    old = srng.multinomial_wo_replacement(pvals=pv, n=2, dtype="int32")
    assert old.dtype == "int32" and theano.function([pv], old)(np.ones((4, 6)) / 6).shape == (4, 2)


def test_mrg_choice_refuses_what_theano_did_not_draw() -> None:
    srng = MRG_RandomStreams(3)
    pv = T.dmatrix("p")
    with pytest.raises(ValueError, match="replace=False"):
        srng.choice(size=1, p=pv)
    with pytest.raises(TypeError, match="size must be an int"):
        srng.choice(size=1.5, p=pv, replace=False)
    f = theano.function([pv], srng.choice(size=3, p=pv, replace=False))
    with pytest.raises(ArgumentValueError, match="only 2 positive"):
        f(np.array([[0.5, 0.5, 0.0, 0.0]]))
    # with ``a`` it is RandomStreams' choice, which fncache's MRG stream kept
    draw = srng.choice(size=(4,), a=5)
    assert draw.type.shape == (4,) and set(theano.function([], draw)()) <= set(range(5))


def test_n_steps_of_a_whole_float_is_taken() -> None:
    x = T.dvector("x")
    data = np.arange(1.0, 7.0)
    for n in (len(data) / 2, np.float64(3.0)):
        out, _ = theano.scan(lambda s: s * 2, outputs_info=x, n_steps=n)
        ck, _ = theano.scan_checkpoints(
            lambda a, s: s + a, sequences=x, outputs_info=T.constant(0.0), n_steps=2 * n, save_every_N=2
        )
        got, sums = theano.function([x], [out, ck])(data)
        np.testing.assert_array_equal(got, [data * 2, data * 4, data * 8])
        np.testing.assert_array_equal(sums, np.cumsum(data)[1::2])
    # PyTensor runs 3 steps for 3.5; a fractional count is refused here
    with pytest.raises(TypeError, match="scan: n_steps must be a non-negative int, got 3.5"):
        theano.scan(lambda s: s * 2, outputs_info=x, n_steps=3.5)
    with pytest.raises(ValueError, match="n_steps must be a non-negative int, got -2"):
        theano.scan(lambda s: s * 2, outputs_info=x, n_steps=-2.0)


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_shuffle_row_elements_permutes_each_row(streams) -> None:
    srng = streams(2)
    x = T.dtensor3("x")
    shuffled = srng.shuffle_row_elements(x)
    f = theano.function([x], [shuffled, shuffled.permutation])
    xv = np.arange(2 * 30 * 6, dtype=float).reshape(2, 30, 6)
    got, perm = f(xv)
    assert got.shape == xv.shape and perm.dtype == np.int64
    np.testing.assert_array_equal(np.sort(got, axis=-1), xv)
    np.testing.assert_array_equal(np.take_along_axis(xv, perm, axis=-1), got)
    assert len({tuple(r) for r in perm.reshape(-1, 6)}) > 40  # rows get their own orders
    assert not np.array_equal(f(xv)[0], got)
    v = T.dvector("v")
    np.testing.assert_array_equal(
        np.sort(theano.function([v], srng.shuffle_row_elements(v))(xv[0, 0])), xv[0, 0]
    )
    with pytest.raises(TypeError, match="shuffle_row_elements: input must have at least 1 dim"):
        srng.shuffle_row_elements(T.dscalar())


def test_a_loops_updates_add_to_the_optimizers() -> None:
    from fncache.updates import OrderedUpdates

    c, w = theano.shared(0.0, name="c"), theano.shared(1.0, name="w")
    x = T.dvector("x")
    out, loop_updates = theano.scan(lambda a: (a * c, {c: c + a}), sequences=x)
    assert isinstance(loop_updates, OrderedUpdates) and theano.OrderedUpdates is OrderedUpdates
    step = [(w, w * 2)]
    for merged in (
        loop_updates + step,
        step + loop_updates,
        loop_updates + dict(step),
        dict(step) + loop_updates,
    ):
        assert isinstance(merged, OrderedUpdates) and len(merged) == 2
        c.set_value(0.0)
        w.set_value(1.0)
        np.testing.assert_array_equal(
            theano.function([x], out, updates=merged)(np.arange(1.0, 4.0)), [0, 2, 9]
        )
        assert (c.get_value(), w.get_value()) == (6.0, 2.0)
    assert list(loop_updates + loop_updates) == [c]  # the same update twice is one
    with pytest.raises(ValueError, match="c is updated by both sides of \\+"):
        loop_updates + [(c, c * 2)]
    with pytest.raises(TypeError, match="OrderedUpdates: can add a dict or a list"):
        loop_updates + 3
    loop_updates.update({c: c * 3})  # update keeps the later value, as a dict's (PyTensor's)
    assert loop_updates[c].owner is not None and len(loop_updates) == 1


def test_until_gradient_reaches_the_rows_it_read() -> None:
    # PyTensor 3 gives x[0]'s gradient to x[1] here ([0, 160.16, 105.44, ...])
    xv = np.arange(1.0, 8.0)
    x, w = T.dvector("x"), T.dscalar("w")

    def step(a, s):
        return s * w + a, theano.until(s > 5)

    out, _ = theano.scan(step, sequences=x, outputs_info=T.constant(0.0))
    cost = (out**2).sum()
    f = theano.function([x, w], [cost, T.grad(cost, x)])
    got = f(xv, 1.5)[1]
    np.testing.assert_allclose(got, [160.15625, 105.4375, 65.625, 32.75, 0, 0, 0])
    np.testing.assert_allclose(got, _fd(lambda v: f(v, 1.5)[0], xv), rtol=1e-6, atol=1e-6)


def test_taps_in_and_out_with_a_dot_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x, h0, W = T.dmatrix("x"), T.dmatrix("h0"), T.dmatrix("W")
    out, _ = theano.scan(
        lambda xm2, x0, xp1, hm1, hm3, W: T.tanh(T.dot(hm1, W) + hm3 * xm2 + x0 - xp1),
        sequences={"input": x, "taps": [-2, 0, 1]},
        outputs_info={"initial": h0, "taps": [-1, -3]},
        non_sequences=W,
        go_backwards=True,
    )
    cost = (out**2).sum()
    f = theano.function([x, h0, W], [out, cost, *T.grad(cost, [x, h0, W])])
    vals = [rng.standard_normal((7, 2)), rng.standard_normal((3, 2)), rng.standard_normal((2, 2))]
    res = f(*vals)
    assert res[0].shape == (4, 2)
    for k in range(3):

        def c(v, k=k):
            args = list(vals)
            args[k] = v
            return f(*args)[1]

        np.testing.assert_allclose(res[2 + k], _fd(c, vals[k]), rtol=1e-5, atol=1e-7)


def _gibbs_chain(streams, mode: str, float_draws: bool, w0: np.ndarray, v0: np.ndarray) -> tuple:
    """Five steps of an RBM's Gibbs chain (binomial draws in the step), the cost read through
    the last step's means, its updates merged with gradient descent's; two calls."""
    W = theano.shared(w0.copy(), name="W")
    bv = theano.shared(np.zeros(6), name="bv")
    srng = streams(7)
    v = T.dmatrix("v")

    def draw(p):
        if float_draws:  # the tutorials' dtype=floatX
            return srng.binomial(size=p.shape, n=1, p=p, dtype="float64")
        return T.cast(srng.binomial(size=p.shape, n=1, p=p), "float64")

    def step(v):
        h = draw(T.nnet.sigmoid(T.dot(v, W)))
        pv = T.nnet.sigmoid(T.dot(h, W.T) + bv)
        return [draw(pv), pv]

    (vs, pvs), chain_updates = theano.scan(step, outputs_info=[v, None], n_steps=5)
    cost = T.mean(-T.log(pvs[-1] + 1e-6))
    grads = T.grad(cost, [W, bv], consider_constant=[vs])
    updates = OrderedDict(chain_updates)
    updates.update((p, p - 0.1 * g) for p, g in zip([W, bv], grads))
    f = theano.function([v], [vs, cost], updates=updates, mode=mode)
    a, b = f(v0), f(v0)
    return a[0], b[0], a[1], b[1], W.get_value()


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_rbm_gibbs_chain_updates_merge_with_the_optimizers(streams) -> None:
    """The draws of a count distribution in a float dtype have the gradient of the same draws
    in an int dtype (zero in the parameters; Theano's MRG ``binomial`` is ``uniform < p``):
    the gradient through them was refused with NullTypeGradError."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((6, 4)) * 0.1
    v0 = (rng.random((3, 6)) < 0.5).astype(float)
    runs = {
        (mode, fl): _gibbs_chain(streams, mode, fl, w0, v0)
        for mode in ("FAST_RUN", "FAST_COMPILE")
        for fl in (True, False)
    }
    first, second, _, _, w = runs["FAST_RUN", True]
    assert first.shape == (5, 3, 6) and set(np.unique(first)) <= {0.0, 1.0}
    assert not np.array_equal(first, second) and not np.allclose(w, w0)
    for other in list(runs.values())[1:]:
        for x, y in zip(runs["FAST_RUN", True], other):
            np.testing.assert_allclose(x, y, rtol=1e-12)


@pytest.mark.parametrize("dist", ["binomial", "bernoulli", "poisson", "geometric"])
def test_count_draws_in_a_float_dtype_have_zero_parameter_gradients(dist: str) -> None:
    w = T.dscalar("w")
    stream = theano.RandomStream(5)
    p = T.nnet.sigmoid(w)
    make = {
        "binomial": lambda: stream.binomial(3, p, size=(4,), dtype="float64"),
        "bernoulli": lambda: stream.bernoulli(p, size=(4,), dtype="float64"),
        "poisson": lambda: stream.poisson(p * 4, size=(4,), dtype="float64"),
        "geometric": lambda: stream.geometric(p, size=(4,), dtype="float64"),
    }
    draw = make[dist]()
    f = theano.function([w], [draw, T.grad((draw * w).sum(), w)])
    d, g = f(0.3)
    assert d.dtype == np.float64 and (d == np.round(d)).all()
    assert g == pytest.approx(d.sum())


def test_same_loops_as_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    xv = np.arange(1.0, 8.0)

    def build(lib, t):
        x, w = t.dvector("x"), t.dscalar("w")
        outs = []
        o, _ = lib.scan(lambda a, b, c: a * 2 + b - c, sequences={"input": x, "taps": [-2, 0, 1]})
        outs.append(o)
        o, _ = lib.scan(
            lambda a, b: a + w * b,
            outputs_info={"initial": x[:3], "taps": [-1, -3]},
            n_steps=4,
            go_backwards=True,
        )
        outs += [o, lib.grad(o.sum(), w)]
        o, _ = lib.scan(
            lambda a, s: [a * 2, s * w + a],
            sequences=x,
            outputs_info=[None, t.constant(0.0, dtype="float64")],
            truncate_gradient=2,
        )
        outs += [o[0], o[1], *lib.grad(o[1].sum(), [x, w])]
        return lib.function([x, w], outs)

    ours, theirs = build(theano, T)(xv, 0.5), build(pytensor, pt)(xv, 0.5)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12)
