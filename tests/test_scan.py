"""``fc.scan``, Theano/PyTensor's symbolic loop: forward results against the same loops in numpy
(seeded random sizes, the C runner and the Python linker), gradients against central finite
differences in float64 and against backpropagation through time written by hand in numpy (a
few SGD steps of a small RNN), the refusals, cache keys (the step's graph is part of them),
pickles and a fresh process hitting the cache."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.scan import Scan
from fcutil import run_python

LINKERS = ["c", "py"]


def _fd(f, vals: list, out: int, wrt: int, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of output ``out`` (a scalar) of ``f`` in argument ``wrt``."""
    num = np.zeros_like(vals[wrt])
    for idx in np.ndindex(vals[wrt].shape):
        plus = [v.copy() for v in vals]
        minus = [v.copy() for v in vals]
        plus[wrt][idx] += eps
        minus[wrt][idx] -= eps
        num[idx] = (f(*plus)[out] - f(*minus)[out]) / (2 * eps)
    return num


def _check_grads(f, vals: list, n_losses: int, wrt: list[int]) -> None:
    """``f`` returns ``n_losses`` scalar losses, then each loss's gradients in ``wrt``."""
    got = f(*vals)
    for a in range(n_losses):
        for b, i in enumerate(wrt):
            np.testing.assert_allclose(
                got[n_losses + a * len(wrt) + b],
                _fd(f, vals, a, i),
                rtol=1e-6,
                atol=1e-7,
                err_msg=f"loss {a}, argument {i}",
            )


# -- forward ---------------------------------------------------------------------------------


def _loops_graph():
    x, y, m, v = ft.dvector("x"), ft.dvector("y"), ft.dmatrix("m"), ft.dvector("v")
    a, k = ft.dscalar("a"), ft.lscalar("k")
    csum, upd = fc.scan(lambda xt, s: s + xt, sequences=x, outputs_info=ft.constant(0.0))
    assert upd == {}
    # two sequences of different lengths: the shortest sets the number of steps
    rec, _ = fc.scan(lambda xt, yt, h: h * a + xt * yt, sequences=[x, y], outputs_info=a, name="rec")
    # a map with two outputs over a strided sequence (the columns of m), with a non-sequence
    (rows, sums), _ = fc.scan(lambda r, w: [r * 2 + w, r.sum()], sequences=m.T, non_sequences=[v])
    # backwards, k steps (at most the rows: more raise), a map output beside a recurrent one
    (back, run), _ = fc.scan(
        lambda xt, h: [xt * h, h + xt],
        sequences=x,
        outputs_info=[None, {"initial": a, "taps": [-1]}],
        n_steps=k,
        go_backwards=True,
    )
    # no sequences: k steps of a recurrence reading a variable fn closes over
    powers, _ = fc.scan(lambda q: q * a, outputs_info=ft.ones_like(v), n_steps=k)
    return [x, y, m, v, a, k], [csum, rec, rows, sums, back, run, powers]


def _loops_numpy(x, y, m, v, a, k):
    csum = np.cumsum(x)
    h, rec = a, []
    for xt, yt in zip(x, y):
        h = h * a + xt * yt
        rec.append(h)
    rows = [r * 2 + v for r in m.T]
    sums = [r.sum() for r in m.T]
    h, back, run = a, [], []
    for xt in x[::-1][:k]:
        back.append(xt * h)
        h = h + xt
        run.append(h)
    q, powers = np.ones_like(v), []
    for _ in range(k):
        q = q * a
        powers.append(q)
    return [
        csum,
        np.array(rec),
        np.array(rows),
        np.array(sums),
        np.array(back),
        np.array(run),
        np.array(powers).reshape(k, len(v)),
    ]


@pytest.mark.parametrize("linker", LINKERS)
def test_forward_results_are_numpys_loops(linker: str) -> None:
    ins, outs = _loops_graph()
    f = fc.function(ins, outs, mode=fc.Mode(linker))
    scans = [n for n in f.optimized_graph.toposort() if isinstance(n.op, Scan)]
    assert len(scans) == 5 and all(n.tag["inner_function"].mode.linker == linker for n in scans)
    rng = np.random.default_rng(7)
    for _ in range(4):
        n1, n2, rows = rng.integers(1, 7, size=3)
        vals = [
            rng.normal(size=n1),
            rng.normal(size=n2),
            rng.normal(size=(rows, n1 + 1)),
            rng.normal(size=rows),
            rng.normal(),
            int(rng.integers(0, n1 + 1)),
        ]
        for got, want, name in zip(
            f(*vals), _loops_numpy(*vals), ["csum", "rec", "rows", "sums", "back", "run", "powers"]
        ):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
            assert got.dtype == np.float64


@pytest.mark.parametrize("linker", LINKERS)
def test_zero_steps_give_empty_outputs_or_a_clear_error(linker: str) -> None:
    x, h0, k = ft.dvector("x"), ft.dmatrix("h0"), ft.lscalar("k")
    hs, _ = fc.scan(lambda h: h * 2, outputs_info=h0, n_steps=k)
    ms, _ = fc.scan(lambda xt: xt * ft.ones((3,)), sequences=x)  # a step's shape is static: (3,)
    f = fc.function([x, h0, k], [hs, ms], mode=fc.Mode(linker))
    a, b = f(np.zeros(0), np.ones((2, 5)), 0)
    assert a.shape == (0, 2, 5) and b.shape == (0, 3) and a.dtype == b.dtype == np.float64
    with pytest.raises(ValueError, match="n_steps is -1; scan runs a non-negative number of steps"):
        f(np.zeros(1), np.ones((2, 5)), -1)
    # a step whose shape depends on a row's value: unknown until a step runs
    dyn, _ = fc.scan(lambda xt, h: h[: ft.cast(xt, "int64")], sequences=x, non_sequences=[h0])
    g = fc.function([x, h0], dyn, mode=fc.Mode(linker))
    assert g(np.ones(2), np.ones((1, 2))).shape == (2, 1, 2)
    with pytest.raises(ValueError, match="zero steps, and the shape of a step of output 0"):
        g(np.zeros(0), np.ones((1, 2)))


def test_a_step_changing_shape_is_an_error_naming_scan_the_step_and_the_output() -> None:
    x, h0 = ft.lvector("x"), ft.dvector("h0")
    growing, _ = fc.scan(lambda xt: ft.ones(xt), sequences=x, name="grow")
    shrinking, _ = fc.scan(lambda h: h[1:], outputs_info=h0, n_steps=2)
    mode = fc.Mode("py")
    f = fc.function([x], growing, mode=mode)
    np.testing.assert_array_equal(f(np.array([2, 2])), np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"Scan\{grow\}: step 1 returned output 0 as float64\[3\], expected float64\[2\]"
    ):
        f(np.array([2, 3]))
    with pytest.raises(
        ValueError, match=r"step 0 returned output 0 .*recurrent output keeps its initial value's shape"
    ):
        fc.function([h0], shrinking, mode=mode)(np.ones(3))


# -- refusals and bad input --------------------------------------------------------------------


def test_refusals_name_the_argument_what_is_supported_and_the_fix() -> None:
    x, h0 = ft.dvector("x"), ft.dscalar("h0")
    step = lambda xt, h: h + xt  # noqa: E731
    cases = [
        (
            dict(sequences=x, outputs_info=h0, mode=fc.DebugMode()),
            "mode=.*debug.*would not reach it. Pass the mode to fc.function",
        ),
        (dict(sequences=x, outputs_info=h0, profile=True), "profile=True is not supported"),
        (dict(sequences=x, outputs_info=h0, allow_gc=True), "allow_gc=True is not supported"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(NotImplementedError, match=msg):
            fc.scan(step, **kwargs)
    # allow_gc=False asks for what the loop does: taken
    hs, _ = fc.scan(step, sequences=x, outputs_info=h0, allow_gc=False)
    np.testing.assert_array_equal(fc.function([x, h0], hs)(np.arange(3.0), 1.0), [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="without sequences, n_steps is required"):
        fc.scan(lambda h: h, outputs_info=h0)
    with pytest.raises(TypeError, match="n_steps must be an integer scalar"):
        fc.scan(lambda h: h, outputs_info=h0, n_steps=ft.dscalar())
    with pytest.raises(ValueError, match="scan: n_steps must be a non-negative int, got -"):
        fc.scan(lambda h: h, outputs_info=h0, n_steps=-2)
    with pytest.raises(ValueError, match="fn returned 1 outputs but outputs_info has 2 entries"):
        fc.scan(step, sequences=x, outputs_info=[h0, None])
    with pytest.raises(
        TypeError,
        match=r"output 0 of fn is .*float32.* initial value \(outputs_info\[0\]\) is .*float64.*ft.cast",
    ):
        fc.scan(lambda xt, h: ft.cast(h + xt, "float32"), sequences=x, outputs_info=h0)
    with pytest.raises(TypeError, match=r"sequences\[0\] must have at least one dimension"):
        fc.scan(step, sequences=h0, outputs_info=h0)
    with pytest.raises(TypeError, match="fn must return a variable or a list of variables"):
        fc.scan(lambda xt: "no", sequences=x)
    w = fc.shared(np.float64(2.0), "w")
    with pytest.raises(ValueError, match="strict=True and fn reads w"):
        fc.scan(lambda xt, h: h + xt * w, sequences=x, outputs_info=h0, strict=True)
    fc.scan(lambda xt, h, ww: h + xt * ww, sequences=x, outputs_info=h0, non_sequences=[w], strict=True)
    with pytest.raises(AttributeError):
        ft.no_such_name  # noqa: B018
    # this module imported fncache.tensor.scan: ft's names are still the functions; fc.scan is
    # the package fncache.scan (PyTensor's paths), callable as the function
    assert ft.scan is fc.scan.scan and ft.until is fc.until and callable(ft.scan) and callable(fc.scan)


def test_bad_taps_updates_conditions_and_truncation_are_clear_errors() -> None:
    x, h0, m = ft.dvector("x"), ft.dscalar("h0"), ft.dmatrix("m")
    step2 = lambda a, b, h: h + a * b  # noqa: E731
    value_errors = [
        (dict(sequences=[{"input": x, "taps": []}], outputs_info=h0), r"sequences\[0\] has taps \[\]"),
        (dict(sequences=[{"input": x, "taps": [0, 0]}], outputs_info=h0), "distinct ints"),
        (dict(sequences=[{"input": x, "taps": [0.5]}], outputs_info=h0), "distinct ints"),
        (dict(sequences=[{"x": x}], outputs_info=h0), r"sequences\[0\] is a dict with keys \['x'\]"),
        (
            dict(sequences=x, outputs_info=[{"initial": x, "taps": [-1, 0]}]),
            r"outputs_info\[0\] has taps \[-1, 0\]; an output's taps are past steps",
        ),
        (
            dict(sequences=x, outputs_info=[{"initial": ft.dscalar(), "taps": [-3, -1]}]),
            "needs 3 leading rows",
        ),
        (
            dict(sequences=x, outputs_info=[{"initial": ft.specify_shape(m, (2, None)), "taps": [-3, -1]}]),
            r"needs 3 leading rows \(the values of steps -3 .. -1\), got .*float64",
        ),
        (dict(sequences=x, outputs_info=[{"taps": [-2]}]), "no initial value"),
        (dict(sequences=x, outputs_info=h0, truncate_gradient=0), "truncate_gradient=0"),
    ]
    for kwargs, msg in value_errors:
        with pytest.raises(ValueError, match=msg):
            fc.scan(step2, **kwargs)
    with pytest.raises(TypeError, match="truncate_gradient must be an int"):
        fc.scan(step2, sequences=x, outputs_info=h0, truncate_gradient=2.0)
    with pytest.raises(
        TypeError, match=r"scan: fn's updates: .* is not a shared variable \(make it with fc.shared\)"
    ):
        fc.scan(lambda xt, h: (h + xt, {h: h}), sequences=x, outputs_info=h0)
    s = fc.shared(np.zeros(2, "int64"), "s")
    with pytest.raises(TypeError, match=r"scan: fn's updates: s is int64 but its update is float32; cast"):
        fc.scan(lambda xt: (xt, {s: ft.ones(2, dtype="float32")}), sequences=x)
    with pytest.raises(TypeError, match="until: the condition must be a scalar"):
        fc.until(x > 0)
    with pytest.raises(ValueError, match="two stop conditions"):
        fc.scan(lambda xt: (xt, fc.until(xt > 0), fc.until(xt < 0)), sequences=x)
    with pytest.raises(TypeError, match="returned until as output 0; return the outputs first"):
        fc.scan(lambda xt: (fc.until(xt > 0), xt), sequences=x)
    with pytest.raises(ValueError, match="fn returned nothing"):
        fc.scan(lambda xt: [], sequences=x)


# -- gradients ---------------------------------------------------------------------------------


@pytest.mark.parametrize("linker", LINKERS)
def test_rnn_gradients_match_finite_differences(linker: str) -> None:
    """h_t = tanh(x_t W + h_{t-1} U + b), a loss on every h_t and one on the last only, with
    respect to the sequence, the initial state and the weights (U a non-sequence, W and b
    read from fn's closure)."""
    x, h0, W, U, b = ft.dmatrix("x"), ft.dvector("h0"), ft.dmatrix("W"), ft.dmatrix("U"), ft.dvector("b")
    hs, _ = fc.scan(
        lambda xt, h, u: ft.tanh(ft.dot(xt, W) + ft.dot(h, u) + b),
        sequences=x,
        outputs_info=h0,
        non_sequences=U,
    )
    ins = [x, h0, W, U, b]
    every, last = (hs**2).sum() + hs.sum(), (hs[-1] * ft.arange(3)).sum()
    f = fc.function(ins, [every, last, *fc.grad(every, ins), *fc.grad(last, ins)], mode=fc.Mode(linker))
    rng = np.random.default_rng(3)
    vals = [
        rng.normal(size=(4, 2)),
        rng.normal(size=3),
        rng.normal(size=(2, 3)) * 0.7,
        rng.normal(size=(3, 3)) * 0.7,
        rng.normal(size=3),
    ]
    _check_grads(f, vals, 2, list(range(5)))


def test_gradients_of_cumsum_recurrence_map_and_go_backwards() -> None:
    x, y, a, v = ft.dvector("x"), ft.dvector("y"), ft.dscalar("a"), ft.dvector("v")
    csum, _ = fc.scan(lambda xt, s: s + xt, sequences=x, outputs_info=ft.constant(0.0))
    rec, _ = fc.scan(
        lambda xt, yt, h, aa: h * aa + ft.sin(xt) * yt, sequences=[x, y], outputs_info=a, non_sequences=[a]
    )
    mapped, _ = fc.scan(lambda xt, w: ft.exp(xt * w), sequences=x, non_sequences=v)
    back, _ = fc.scan(lambda xt, h: h * xt + xt, sequences=y, outputs_info=a, go_backwards=True, n_steps=2)
    losses = [
        (csum * ft.arange(1, 4)).sum(),
        (rec**2).sum(),
        (mapped * ft.arange(6).reshape((3, 2))).sum(),
        back.sum() + back[0] ** 2,
    ]
    ins = [x, y, a, v]
    f = fc.function(
        ins,
        [*losses, *[g for c in losses for g in fc.grad(c, ins, disconnected_inputs="ignore")]],
        mode=fc.Mode("py"),
    )
    rng = np.random.default_rng(5)
    _check_grads(
        f, [rng.normal(size=3), rng.normal(size=4), np.array(0.8), rng.normal(size=2)], 4, [0, 1, 2, 3]
    )


def test_verify_grad_through_scan_and_a_second_derivative() -> None:
    def cost(x, h0):
        hs, _ = fc.scan(lambda xt, h: ft.tanh(h * xt + 0.5), sequences=x, outputs_info=h0)
        return (hs * hs).sum()

    rng = np.random.default_rng(11)
    ft.verify_grad(cost, [rng.normal(size=5), np.array(0.3)], rng=rng)
    # the gradient is itself a Scan (with final-value outputs): it can be differentiated again
    x, h0, p = ft.dvector("x"), ft.dscalar("h0"), ft.dvector("p")
    g = fc.grad(cost(x, h0), x)
    hvp = fc.grad((g * p).sum(), x)
    f = fc.function([x, h0, p], [(g * p).sum(), hvp], mode=fc.Mode("py"))
    vals = [rng.normal(size=4), np.array(0.2), rng.normal(size=4)]
    np.testing.assert_allclose(f(*vals)[1], _fd(f, vals, 0, 0), rtol=1e-6, atol=1e-7)


def _numpy_bptt(xs, ys, W, U, b, truncate: int = -1):
    """The loss of the test RNN and its gradients in W, U, b and xs, by backpropagation
    through time written out in numpy (through the last ``truncate`` steps only, if given)."""
    T, B, _ = xs.shape
    hs, h = [], np.zeros((B, U.shape[0]))
    for t in range(T):
        h = np.tanh(xs[t] @ W + h @ U + b)
        hs.append(h)
    loss = ((hs[-1] - ys) ** 2).sum() + 0.1 * sum((h**2).sum() for h in hs)
    gW, gU, gb, gx = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b), np.zeros_like(xs)
    carry = np.zeros_like(hs[0])
    first = 0 if truncate == -1 else max(T - truncate, 0)
    for t in reversed(range(first, T)):
        dh = carry + 0.2 * hs[t] + (2 * (hs[t] - ys) if t == T - 1 else 0)
        da = dh * (1 - hs[t] ** 2)
        prev = hs[t - 1] if t else np.zeros_like(hs[0])
        gW += xs[t].T @ da
        gU += prev.T @ da
        gb += da.sum(axis=0)
        gx[t] = da @ W.T
        carry = da @ U.T
    return loss, gW, gU, gb, gx


def test_sgd_steps_of_a_small_rnn_equal_numpys() -> None:
    rng = np.random.default_rng(2)
    n_in, H, lr = 3, 4, 0.05
    W0, U0, b0 = rng.normal(size=(n_in, H)) * 0.5, rng.normal(size=(H, H)) * 0.5, np.zeros(H)
    W, U, b = fc.shared(W0.copy(), "W"), fc.shared(U0.copy(), "U"), fc.shared(b0.copy(), "b")
    xs, ys = ft.dtensor3("xs"), ft.dmatrix("ys")
    h0 = ft.zeros((xs.shape[1], H))
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + ft.dot(h, U) + b), sequences=xs, outputs_info=h0)
    loss = ((hs[-1] - ys) ** 2).sum() + 0.1 * (hs**2).sum()
    grads = fc.grad(loss, [W, U, b])
    train = fc.function([xs, ys], loss, updates=[(p, p - lr * g) for p, g in zip([W, U, b], grads)])
    # the backward loop stacks no gradient of the data's rows: nothing reads it
    kinds = [n.op.kinds for n in train.optimized_graph.toposort() if isinstance(n.op, Scan)]
    assert kinds == [("rec",), ("last",) * 4]
    Wn, Un, bn = W0.copy(), U0.copy(), b0.copy()
    for step in range(4):
        xv, yv = rng.normal(size=(5, 2, n_in)), rng.normal(size=(2, H)) * 0.5
        want, gW, gU, gb, _ = _numpy_bptt(xv, yv, Wn, Un, bn)
        np.testing.assert_allclose(train(xv, yv), want, rtol=1e-12, err_msg=f"step {step}")
        Wn, Un, bn = Wn - lr * gW, Un - lr * gU, bn - lr * gb
        for shared, mine in ((W, Wn), (U, Un), (b, bn)):
            np.testing.assert_allclose(shared.get_value(), mine, rtol=1e-10, atol=1e-12)


# -- taps ------------------------------------------------------------------------------------


def _taps_graph():
    x, y0, a, m, z0, k = (
        ft.dvector("x"),
        ft.dvector("y0"),
        ft.dscalar("a"),
        ft.dmatrix("m"),
        ft.dmatrix("z0"),
        ft.lscalar("k"),
    )
    # a sequence read at t-2, t and t+1, an output fed its values at t-2 and t-1
    ys, _ = fc.scan(
        lambda xm2, x0, xp1, ym2, ym1, aa: aa * ym1 - 0.5 * ym2 + xm2 * xp1 + ft.sin(x0),
        sequences=dict(input=x, taps=[-2, 0, 1]),
        outputs_info=dict(initial=y0, taps=[-2, -1]),
        non_sequences=a,
    )
    # backwards, at most k steps: two taps of a matrix's rows, a state read at t-3 and t-1
    # (in that order), a map output beside it
    (zs, ps), _ = fc.scan(
        lambda rm1, r0, zm3, zm1: [ft.tanh(zm1 * r0 + zm3 * a), (rm1 * zm1).sum()],
        sequences=[{"input": m, "taps": [-1, 0]}],
        outputs_info=[{"initial": z0, "taps": [-3, -1]}, None],
        go_backwards=True,
        n_steps=k,
    )
    return [x, y0, a, m, z0, k], [ys, zs, ps]


def _taps_numpy(x, y0, a, m, z0, k):
    ys = list(y0)
    for t in range(len(x) - 3):
        ys.append(a * ys[-1] - 0.5 * ys[-2] + x[t] * x[t + 3] + np.sin(x[t + 2]))
    # backwards, each tap's cut is reversed: step t reads row t of the reversed matrix at tap
    # 0 and the row before it in m, row t+1 of the reversed one, at tap -1
    back = m[::-1]
    zs, ps = list(z0), []
    for t in range(min(int(k), len(m) - 1)):
        ps.append((back[t + 1] * zs[-1]).sum())
        zs.append(np.tanh(zs[-1] * back[t] + zs[-3] * a))
    return [np.array(ys[2:]), np.array(zs[3:]).reshape(-1, z0.shape[1]), np.array(ps)]


@pytest.mark.parametrize("linker", LINKERS)
def test_taps_forward_results_are_numpys_loops(linker: str) -> None:
    ins, outs = _taps_graph()
    f = fc.function(ins, outs, mode=fc.Mode(linker))
    # an output's older values are states nobody reads: kept unstacked (only their last value)
    kinds = {n.op.kinds for n in f.optimized_graph.toposort() if isinstance(n.op, Scan)}
    assert kinds == {("rec", "last"), ("rec", "map", "last", "last")}
    rng = np.random.default_rng(17)
    for _ in range(5):
        n, rows, cols = rng.integers(3, 9), rng.integers(1, 6), rng.integers(1, 4)
        vals = [
            rng.normal(size=n),
            rng.normal(size=2),
            rng.normal(),
            rng.normal(size=(rows, cols)),
            rng.normal(size=(3, cols)),
            int(rng.integers(0, rows + 2)),
        ]
        for got, want, name in zip(f(*vals), _taps_numpy(*vals), ["ys", "zs", "ps"]):
            assert got.shape == want.shape, name
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
    with pytest.raises(ValueError, match=r"outputs_info\[\d\] has taps .* needs 2 leading rows"):
        f(np.ones(4), np.ones(3), 0.5, np.ones((2, 2)), np.ones((3, 2)), 1)  # y0 needs 2 rows


@pytest.mark.parametrize("linker", LINKERS)
def test_taps_gradients_reach_the_initial_rows_and_every_tap(linker: str) -> None:
    ins, (ys, zs, ps) = _taps_graph()
    losses = [(ys**2).sum() + ys[-1], (zs * ft.arange(1, 3)).sum() + (ps**2).sum()]
    wrt = ins[:5]
    f = fc.function(
        ins,
        [*losses, *[g for c in losses for g in fc.grad(c, wrt, disconnected_inputs="ignore")]],
        mode=fc.Mode(linker),
    )
    rng = np.random.default_rng(4)
    vals = [
        rng.normal(size=6),
        rng.normal(size=2),
        np.array(0.6),
        rng.normal(size=(4, 2)),
        rng.normal(size=(3, 2)),
        np.array(2),
    ]
    _check_grads(f, vals, 2, list(range(5)))
    # every step reads the initial rows through the taps: none of their gradients is zero
    assert np.all(f(*vals)[2 + 1] != 0) and np.all(f(*vals)[2 + 5 + 4] != 0)


# -- updates and random draws in fn ----------------------------------------------------------------


@pytest.mark.parametrize("linker", LINKERS)
def test_updates_from_fn_are_seen_by_the_next_step_and_returned(linker: str) -> None:
    x = ft.dvector("x")
    s, acc = fc.shared(np.float64(1.0), "s"), fc.shared(np.zeros(2), "acc")
    prod = fc.shared(np.float64(1.0), "prod")
    (hs, gs), upd = fc.scan(
        lambda xt, h: ([h + xt * s, h * s], {s: s * 2, acc: acc + xt}),
        sequences=x,
        outputs_info=[ft.constant(0.0), None],
    )
    assert list(upd) == [s, acc]
    only, upd2 = fc.scan(lambda xt: {prod: prod * xt}, sequences=x)
    assert only == [] and list(upd2) == [prod]
    # the other spellings of (outputs, updates) PyTensor takes: a list, outputs unwrapped
    spellings = [
        (lambda xt: [xt * 3, {prod: prod * xt}], 1),
        (lambda xt: (xt * 3, xt * 2, {prod: prod * xt}), 2),
        (lambda xt: [[xt * 3, xt * 2], {prod: prod * xt}], 2),
    ]
    for step, n_out in spellings:
        got, u = fc.scan(step, sequences=x, return_list=True)
        assert len(got) == n_out and list(u) == [prod]
    f = fc.function([x], [hs, gs], updates={**upd, **upd2}, mode=fc.Mode(linker))
    sv, accv, prodv = 1.0, np.zeros(2), 1.0
    rng = np.random.default_rng(8)
    for n in (3, 0, 4):
        xv = rng.normal(size=n)
        h, want_h, want_g = 0.0, [], []
        for xt in xv:
            want_g.append(h * sv)
            h = h + xt * sv
            want_h.append(h)
            sv, accv, prodv = sv * 2, accv + xt, prodv * xt
        got_h, got_g = f(xv)
        np.testing.assert_allclose(got_h, want_h, rtol=1e-12)
        np.testing.assert_allclose(got_g, want_g, rtol=1e-12)
        np.testing.assert_allclose(s.get_value(), sv, rtol=1e-12)
        np.testing.assert_allclose(acc.get_value(), accv, rtol=1e-12)
        np.testing.assert_allclose(prod.get_value(), prodv, rtol=1e-12)


def test_a_default_update_read_by_fn_is_applied_at_every_step() -> None:
    x = ft.dvector("x")
    tick = fc.shared(np.float64(0.0), "tick")
    tick.default_update = tick + 1
    hs, upd = fc.scan(lambda xt: xt * tick, sequences=x)
    assert list(upd) == [tick] and tick.default_update is not upd[tick]  # the user's stays
    f = fc.function([x], hs, updates=upd, mode=fc.Mode("py"))
    np.testing.assert_array_equal(f(np.ones(3)), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 4.0])
    assert tick.get_value() == 5.0


@pytest.mark.parametrize("linker", LINKERS)
def test_random_draws_in_fn_draw_anew_at_every_step(linker: str) -> None:
    """A draw in fn gives step t the stream's call t: the same numbers as the same draw made
    outside, called once per step, and the next call goes on from there (with or without
    the updates passed)."""
    x = ft.dvector("x")
    noisy, upd = fc.scan(lambda xt: xt + fc.RandomStream(5).normal(size=(2,)), sequences=x)
    assert len(upd) == 1
    plain, _ = fc.scan(lambda xt: xt * 0 + fc.RandomStream(5).normal(size=(2,)), sequences=x)
    f = fc.function([x], noisy, updates=upd, mode=fc.Mode(linker))
    g = fc.function([x], plain, mode=fc.Mode(linker))  # the draw's own update
    one = fc.function([], fc.RandomStream(5).normal(size=(2,)), mode=fc.Mode(linker))
    want = np.array([one() for _ in range(7)])
    xv = np.arange(3.0)
    np.testing.assert_array_equal(f(xv), want[:3] + xv[:, None])
    np.testing.assert_array_equal(f(xv[:2]), want[3:5] + xv[:2, None])
    np.testing.assert_array_equal(g(xv), want[:3])
    np.testing.assert_array_equal(g(xv[:2]), want[3:5])


def test_gradient_through_draws_in_fn_sees_the_forward_loops_draws() -> None:
    """Dropout in an RNN: the backward loop recomputes each step's mask from the counter it
    had, so the gradient is that of the loop with those masks (finite differences from the
    same counter)."""
    x, h0, w = ft.dvector("x"), ft.dvector("h0"), ft.dscalar("w")
    rs = fc.RandomStream(21)
    hs, upd = fc.scan(
        lambda xt, h: ft.tanh(h * w + xt) * (rs.uniform(size=(3,)) < 0.6), sequences=x, outputs_info=h0
    )
    loss = (hs**2).sum()
    f = fc.function([x, h0, w], [loss, *fc.grad(loss, [x, h0, w])], updates=upd, mode=fc.Mode("py"))
    (counter,) = upd

    def from_start(*vals):
        counter.set_value(np.array(0, dtype=np.uint64))
        return f(*vals)

    rng = np.random.default_rng(6)
    vals = [rng.normal(size=4), rng.normal(size=3), np.array(0.8)]
    _check_grads(from_start, vals, 1, [0, 1, 2])
    assert int(counter.get_value()) == 4
    assert not np.array_equal(f(*vals)[0], f(*vals)[0])  # each call draws other masks


# -- until -------------------------------------------------------------------------------------


def _until_graph():
    x, h0, c, k = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("c"), ft.lscalar("k")

    def step(xt, h):
        new = h * c + xt
        return [new, ft.sin(new) * xt], fc.until(new > 2.0)

    (hs, ms), _ = fc.scan(step, sequences=x, outputs_info=[h0, None])
    # no sequences: at most k steps
    ps, _ = fc.scan(lambda p: (p * c, ft.until(abs(p * c) > 5.0)), outputs_info=h0, n_steps=k)
    return [x, h0, c, k], [hs, ms, ps]


def _until_numpy(x, h0, c, k):
    h, hs, ms = h0, [], []
    for xt in x:
        h = h * c + xt
        hs.append(h)
        ms.append(np.sin(h) * xt)
        if h > 2.0:
            break
    p, ps = h0, []
    for _ in range(k):
        p = p * c
        ps.append(p)
        if abs(p) > 5.0:
            break
    return [np.array(hs), np.array(ms), np.array(ps)]


@pytest.mark.parametrize("linker", LINKERS)
def test_until_stops_after_the_first_step_whose_condition_holds(linker: str) -> None:
    ins, outs = _until_graph()
    assert outs[0].type.shape == (None,)
    f = fc.function(ins, outs, mode=fc.Mode(linker))
    rng = np.random.default_rng(9)
    stopped = 0
    for _ in range(8):
        vals = [
            rng.normal(size=rng.integers(0, 8)) + 0.5,
            rng.normal(),
            1.0 + rng.random(),
            int(rng.integers(0, 9)),
        ]
        got, want = f(*vals), _until_numpy(*vals)
        stopped += len(want[0]) < len(vals[0])
        for g, w, name in zip(got, want, ["hs", "ms", "ps"]):
            assert g.shape == w.shape, name
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=name)
    assert stopped > 0  # the seeds do stop some loops early


@pytest.mark.parametrize("linker", LINKERS)
def test_until_gradients_match_finite_differences(linker: str) -> None:
    ins, (hs, ms, ps) = _until_graph()
    losses = [(hs**2).sum() + ms.sum(), (ps * ft.arange(ps.shape[0])).sum()]
    wrt = ins[:3]
    f = fc.function(
        ins,
        [*losses, *[g for c in losses for g in fc.grad(c, wrt, disconnected_inputs="ignore")]],
        mode=fc.Mode(linker),
    )
    vals = [np.array([0.3, 0.4, 1.1, 0.2, 0.5]), np.array(0.25), np.array(1.3), np.array(9)]
    assert len(_until_numpy(*vals)[0]) == 3  # the loop stops at the third row
    _check_grads(f, vals, 2, [0, 1, 2])


# -- truncate_gradient ---------------------------------------------------------------------------


@pytest.mark.parametrize("linker", LINKERS)
def test_truncated_gradient_is_bptt_through_the_last_steps(linker: str) -> None:
    xs, ys, W, U, b = ft.dtensor3("xs"), ft.dmatrix("ys"), ft.dmatrix("W"), ft.dmatrix("U"), ft.dvector("b")
    rng = np.random.default_rng(12)
    vals = [
        rng.normal(size=(5, 2, 3)),
        rng.normal(size=(2, 4)),
        rng.normal(size=(3, 4)) * 0.5,
        rng.normal(size=(4, 4)) * 0.5,
        rng.normal(size=4),
    ]
    for k in (1, 3, 5, 8):
        hs, _ = fc.scan(
            lambda xt, h: ft.tanh(ft.dot(xt, W) + ft.dot(h, U) + b),
            sequences=xs,
            outputs_info=ft.zeros((xs.shape[1], 4)),
            truncate_gradient=k,
        )
        loss = ((hs[-1] - ys) ** 2).sum() + 0.1 * (hs**2).sum()
        f = fc.function([xs, ys, W, U, b], [loss, *fc.grad(loss, [W, U, b, xs])], mode=fc.Mode(linker))
        for got, want, name in zip(f(*vals), _numpy_bptt(*vals, truncate=k), ["loss", "W", "U", "b", "xs"]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name}, truncate {k}")
    # through every step, it is the gradient: the initial value's too
    h0 = ft.dvector("h0")
    hs, _ = fc.scan(lambda h: ft.tanh(h * 0.9 + 0.1), outputs_info=h0, n_steps=3, truncate_gradient=3)
    cut, _ = fc.scan(lambda h: ft.tanh(h * 0.9 + 0.1), outputs_info=h0, n_steps=3, truncate_gradient=2)
    f = fc.function([h0], [(hs**2).sum(), fc.grad((hs**2).sum(), h0), fc.grad((cut**2).sum(), h0)])
    v = [np.array([0.3, -0.7])]
    np.testing.assert_allclose(f(*v)[1], _fd(f, v, 0, 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(f(*v)[2], np.zeros(2))


# -- cache keys, pickles, a fresh process --------------------------------------------------------


def test_the_steps_graph_is_part_of_the_cache_key() -> None:
    x = ft.dvector("x")

    def key(c: float) -> str:
        out, _ = fc.scan(lambda xt, h: h * c + xt, sequences=x, outputs_info=ft.constant(0.0))
        return fc.function([x], out, mode=fc.Mode("py")).cache_key

    assert key(2.0) == key(2.0)
    assert key(2.0) != key(3.0)


BUILD_CODE = """
import fncache as fc
from fncache import tensor as ft
x, h0, W = ft.dmatrix("x"), ft.dvector("h0"), ft.dmatrix("W")
hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + h), sequences=x, outputs_info=h0)
# taps, a stop condition, a truncated gradient
ys, _ = fc.scan(
    lambda a, b, y2, y1: y1 * 0.5 + y2 * a - b,
    sequences=dict(input=x[:, 0], taps=[-1, 1]),
    outputs_info=dict(initial=h0[:2], taps=[-2, -1]),
)
zs, _ = fc.scan(lambda h: (ft.tanh(h * 1.5), fc.until(h.sum() > 1.0)), outputs_info=h0, n_steps=6)
cut, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) * h), sequences=x, outputs_info=h0, truncate_gradient=2)
loss = (hs ** 2).sum() + (ys ** 2).sum() + zs.sum() + cut.sum()
f = fc.function([x, h0, W], [hs, ys, zs, cut, *fc.grad(loss, [x, h0, W])])
"""

LOAD_CODE = """
import pickle, sys
import numpy as np
import fncache as fc
data = open(sys.argv[1], "rb").read()
f = fc.loads(data) if sys.argv[3] == "fc" else pickle.loads(data)
rng = np.random.default_rng(0)
out = f(rng.normal(size=(4, 2)), rng.normal(size=3), rng.normal(size=(2, 3)))
np.savez(sys.argv[2], *out)
"""


def test_pickles_and_fresh_processes(tmp_path) -> None:
    env = dict(os.environ, FNCACHE_FLAGS=f"compiledir={tmp_path / 'shared'}")

    def run(code: str, *argv: str) -> str:
        return run_python(code, *argv, env=env)

    show = BUILD_CODE + 'print(f.cache_key, fc.cache.stats()["compiles"])'
    (key1, compiles1), (key2, compiles2) = (run(show).split() for _ in range(2))
    # the compiledir's counters: the second process compiled nothing (every entry a hit)
    assert key1 == key2 and int(compiles1) > 0 and int(compiles2) == int(compiles1)
    ns: dict = {}
    exec(BUILD_CODE, ns)  # noqa: S102  (the same function, in this process)
    f = ns["f"]
    payloads = {"pickle": pickle.dumps(f), "fc": fc.dumps(f, embed_native=True)}
    for name, payload in payloads.items():
        (tmp_path / "f.pkl").write_bytes(payload)
        env["FNCACHE_FLAGS"] = f"compiledir={tmp_path / name}"
        run(LOAD_CODE, str(tmp_path / "f.pkl"), str(tmp_path / "out.npz"), name)
        rng = np.random.default_rng(0)
        want = f(rng.normal(size=(4, 2)), rng.normal(size=3), rng.normal(size=(2, 3)))
        got = np.load(tmp_path / "out.npz")
        for k, w in enumerate(want):
            np.testing.assert_array_equal(got[f"arr_{k}"], w, err_msg=name)
    # a loaded op recomputes its identity from the graph it decodes: the same (each of the
    # four loops and its gradient's, the stopped one's run again without its condition)
    keys = [
        {
            (n.op.inner_key, n.op.kinds, n.op.until, n.op.truncate)
            for n in fn.optimized_graph.toposort()
            if isinstance(n.op, Scan)
        }
        for fn in (f, pickle.loads(payloads["pickle"]))
    ]
    assert len(keys[0]) == 9 and keys[0] == keys[1]
    assert {(k[2], k[3]) for k in keys[0]} == {(False, -1), (True, -1), (False, 2)}


def test_a_function_without_scan_never_loads_it() -> None:
    """Compiling and calling a function with no loop imports neither the Scan op nor the
    inner-graph base, so its warm hits walk no graph looking for inner functions."""
    code = (
        "import sys, numpy as np, fncache as fc, fncache.tensor as ft\n"
        "x = ft.dvector('x')\n"
        "f = fc.function([x], ft.exp(x).sum())\n"
        "f(np.ones(3))\n"
        "print(sorted(m for m in ('fncache.tensor.scan', 'fncache.tensor.inner_graph') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("linker", LINKERS)
def test_zero_steps_give_each_output_the_step_shape_its_inputs_shapes_imply(linker: str) -> None:
    """A stacked output whose step shape follows from the shapes of the step's inputs (a
    sequence's rows, a state, a non-sequence) is empty with that shape after zero steps, as
    after any other number."""
    x, m, w, k = ft.dmatrix("x"), ft.dmatrix("m"), ft.fvector("w"), ft.lscalar("k")
    outs, _ = fc.scan(
        lambda xt, h, w: [h + ft.dot(m, xt), ft.cast(w, "float64") * ft.sum(xt), ft.outer(xt, h)],
        sequences=x,
        outputs_info=[ft.zeros((2,)), None, None],
        non_sequences=[w],
        n_steps=k,
    )
    f = fc.function([x, m, w, k], outs, mode=fc.Mode(linker))
    xv, mv, wv = np.ones((4, 3)), np.ones((2, 3)), np.ones(5, np.float32)
    for steps in (2, 0):
        got = f(xv, mv, wv, steps)
        assert [g.shape for g in got] == [(steps, 2), (steps, 5), (steps, 3, 2)]
    got = f(np.ones((0, 3)), mv, wv, 0)
    assert [g.shape for g in got] == [(0, 2), (0, 5), (0, 3, 2)]


@pytest.mark.parametrize("linker", LINKERS)
def test_gradient_of_a_loop_run_zero_steps(linker: str) -> None:
    """Over zero steps the gradients of the sequences, the initial value and a non-sequence
    are zeros of their shapes (no rows for an empty sequence), with a stop condition or
    without: the backward loop's stacked outputs take the shapes of its inputs' rows."""
    x, h0, w, k = ft.dmatrix("x"), ft.dvector("h0"), ft.dvector("w"), ft.lscalar("k")
    for stop in (False, True):

        def step(xt, h, w, stop=stop):
            h = ft.tanh(h * w + xt)
            return (h, fc.scan.until(ft.sum(xt) > 100)) if stop else h

        hs, _ = fc.scan(step, sequences=x, outputs_info=h0, non_sequences=w, n_steps=k)
        f = fc.function([x, h0, w, k], fc.grad(hs.sum(), [x, h0, w]), mode=fc.Mode(linker))
        gx, gh, gw = f(np.ones((2, 3)), np.ones(3), np.ones(3), 0)
        assert gx.shape == (2, 3) and gh.shape == gw.shape == (3,)
        np.testing.assert_array_equal(gx, 0.0)
        np.testing.assert_array_equal(gh, 0.0)
        np.testing.assert_array_equal(gw, 0.0)
        gx, gh, gw = f(np.ones((0, 3)), np.ones(3), np.ones(3), 0)
        assert gx.shape == (0, 3) and gh.shape == gw.shape == (3,)


@pytest.mark.parametrize("linker", LINKERS)
def test_an_initial_value_with_the_wrong_number_of_rows_names_scan_the_output_and_the_fix(
    linker: str,
) -> None:
    """Taps [-3, -1] read the three values before the first step: an initial value of
    another number of rows, known only when the function runs, is refused there with
    scan's own error (the output, the taps, the rows given and needed)."""
    x0, m0, h = ft.dvector("x0"), ft.dmatrix("m0"), ft.dscalar("h")
    xs, _ = fc.scan(lambda a, b: a + b, outputs_info={"initial": x0, "taps": [-3, -1]}, n_steps=2)
    ms, _ = fc.scan(
        lambda p, a, b: (p + ft.sum(a), a * b), outputs_info=[h, {"initial": m0, "taps": [-1, -2]}], n_steps=2
    )
    f = fc.function([x0], xs, mode=fc.Mode(linker))
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), [4.0, 6.0])
    for rows in (2, 4):
        with pytest.raises(
            ValueError,
            match=r"scan: outputs_info\[0\] has taps \[-3, -1\]: its initial value needs 3 leading "
            rf"rows \(the values of steps -3 \.\. -1\), got {rows}; give 3 rows",
        ):
            f(np.ones(rows))
    g = fc.function([h, m0], ms[1], mode=fc.Mode(linker))
    with pytest.raises(ValueError, match=r"scan: outputs_info\[1\] has taps \[-1, -2\].* got 3"):
        g(0.0, np.ones((3, 2)))


def test_arguments_that_are_no_tensors_and_a_step_taking_other_arguments_are_scans_errors() -> None:
    """A sequence, initial value or non-sequence that is no tensor, and an fn whose
    parameters do not take what scan passes it, are TypeErrors naming scan, the argument and
    the fix (not the conversion's or Python's call error)."""
    x, h0 = ft.dvector("x"), ft.dscalar("h0")
    cases = [
        (dict(sequences=[None], n_steps=2), r"scan: sequences\[0\] must be a tensor .*got None"),
        (dict(sequences=[x, "abc"]), r"scan: sequences\[1\] must be a tensor .*got 'abc'"),
        (dict(sequences=x, outputs_info=[object]), r"scan: outputs_info\[0\] must be a tensor .*got <class"),
        (dict(sequences={"input": "s"}), r"scan: sequences\[0\] must be a tensor"),
        (dict(sequences=x, non_sequences=[h0, "w"]), r"scan: non_sequences\[1\] must be a tensor .*got 'w'"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(TypeError, match=msg):
            fc.scan(lambda *a: a[0], **kwargs)
    with pytest.raises(
        TypeError,
        match=r"scan: fn takes the arguments \(a\) but scan passes it 3: one row per sequence tap \(2\), "
        r"one value per output tap \(1\), then the 0 non-sequences",
    ):
        fc.scan(lambda a: a, sequences=[x, {"input": x, "taps": [0]}], outputs_info=h0)
    with pytest.raises(TypeError, match=r"scan: fn takes the arguments \(a, b, c\) but scan passes it 2"):
        fc.scan(lambda a, b, c: a, sequences=x, non_sequences=h0)
    # defaults, *args and callables without a signature are taken as they are
    for fn in (lambda a, b=1.0: a * b, lambda *a: a[0], ft.exp):
        ys, _ = fc.scan(fn, sequences=x)
        assert ys.ndim == 1


@pytest.mark.parametrize("linker", LINKERS)
def test_zero_steps_of_a_loop_whose_step_runs_a_loop_over_its_row(linker: str) -> None:
    """A step holding a loop over its row (as many steps as the row has entries) has a
    step shape its inputs' shapes imply: zero outer steps give empty outputs and gradients of
    those shapes."""
    x, h0, k = ft.dmatrix("x"), ft.dscalar("h0"), ft.iscalar("k")

    def step(xt, h):
        inner, _ = fc.scan(lambda v, g: ft.tanh(g * 0.7 + v), sequences=xt, outputs_info=h)
        return inner[-1], inner

    (hs, rows), _ = fc.scan(step, sequences=x, outputs_info=[h0, None], n_steps=k)
    f = fc.function([x, h0, k], [hs, rows, *fc.grad(hs.sum(), [x, h0])], mode=fc.Mode(linker))
    for steps in (2, 0):
        got = f(np.ones((2, 3)), 0.5, steps)
        assert [g.shape for g in got] == [(steps,), (steps, 3), (2, 3), ()]
    np.testing.assert_array_equal(got[2], 0.0)
    assert got[3] == 0.0
