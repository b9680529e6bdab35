"""Gradients through ``fc.scan`` as Theano/PyTensor users train RNNs with it: every kind of
loop state (a state fed back at -1, an output read at several past steps, an output not fed
back, an integer counter), sequences read at several taps, non-sequences, shared weights read
in the step, a symbolic or short ``n_steps``, ``go_backwards``; costs of the last step, of all
steps and of a slice; second derivatives, Rop and Lop; updates made in the step beside the
gradient; a few SGD steps of a small RNN against the same loop written in numpy. Against
central finite differences in float64 and, where it is installed, PyTensor.

Each test compiles few functions: one function holds many loops and gradients."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import special as scipy_special

import fncache as fc
from fncache import tensor as ft
from fncache.errors import DisconnectedInputError, NullTypeGradError
from fcutil import fd_check_grads, fd_gradient

PY = fc.Mode("py")


# -- refusals ----------------------------------------------------------------------------------

#: the fix a refusal in fn's graph gives
_FIX = (
    "consider_constant does not reach into fn; to treat a value computed in fn as a constant, "
    "wrap it in ft.disconnected_grad(...) inside fn"
)


def _said_once(err: BaseException, text: str) -> bool:
    """Whether ``err``'s message and notes say ``text`` exactly once."""
    return " ".join([str(err), *getattr(err, "__notes__", [])]).count(text) == 1


def test_a_step_without_a_gradient_is_refused_naming_the_loop_and_the_fix() -> None:
    """An op of fn without a gradient (or with an undefined one): the error names the loop, and
    says that consider_constant (outside) does not reach into fn while ft.disconnected_grad in
    fn does."""
    x, h0, v = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("v")

    @ft.as_op(itypes=[ft.dscalar], otypes=[ft.dscalar])
    def twice(a: np.ndarray) -> np.ndarray:
        return np.array(a * 2.0)

    no_rule, _ = fc.scan(lambda xt, h: twice(h) + xt, sequences=x, outputs_info=h0, name="rnn")
    undefined, _ = fc.scan(lambda xt, h, vv: h + ft.jv(vv, xt), sequences=x, outputs_info=h0, non_sequences=v)
    for hs, wrt, loop in (
        (no_rule, x, r"^grad: in the step of Scan\{rnn\}, PythonOp\{twice\} has no gradient"),
        (
            undefined,
            v,
            r"^grad: the gradient of Scan\{\w+\} with respect to its input 3 \(v\) is undefined: in its step, ",
        ),
    ):
        with pytest.raises(NullTypeGradError, match=loop) as err:
            fc.grad(hs.sum(), wrt)
        assert _said_once(err.value, _FIX), err.value
    # the op reads the sequence's row only: the initial value's gradient is still the loop's
    on_row, _ = fc.scan(lambda xt, h: h * 0.5 + twice(xt), sequences=x, outputs_info=h0)
    with pytest.raises(
        NullTypeGradError,
        match=r"Scan\{\w+\} with respect to its input 1 \(x\).*in its step, .*PythonOp\{twice\} has no gradient",
    ):
        fc.grad(on_row.sum(), x)
    g = fc.function([x, h0], fc.grad(on_row.sum(), h0), mode=PY)(np.ones(4), 1.0)
    np.testing.assert_allclose(g, sum(0.5 ** np.arange(1, 5)))


def test_a_refusal_in_a_loop_in_a_loop_names_each_loop_once_and_the_fix_once() -> None:
    """An op without a gradient (or with an undefined one) in the step of a loop in the step of
    another: the error names the outer loop, the inner one and the op, in that order, each
    once, and gives the fix once (each loop's gradient catches the inner one's refusal)."""
    X, h0, v = ft.dmatrix("X"), ft.dscalar("h0"), ft.dscalar("v")

    @ft.as_op(itypes=[ft.dscalar], otypes=[ft.dscalar])
    def twice(a: np.ndarray) -> np.ndarray:
        return np.array(a * 2.0)

    def no_rule(row, h):
        hs, _ = fc.scan(lambda xt, g: twice(g) + xt, sequences=row, outputs_info=h, name="inner")
        return hs[-1]

    def undefined(row, h, vv):
        hs, _ = fc.scan(
            lambda xt, g, w: g + ft.jv(w, xt), sequences=row, outputs_info=h, non_sequences=vv, name="inner"
        )
        return hs[-1]

    refused = fc.scan(no_rule, sequences=X, outputs_info=h0, name="outer")[0]
    cases = [
        (refused, X, r"PythonOp\{twice\} has no gradient"),
        (refused, h0, r"PythonOp\{twice\} has no gradient"),
    ]
    refused = fc.scan(undefined, sequences=X, outputs_info=h0, non_sequences=v, name="outer")[0]
    cases.append((refused, v, r"jv\(v, x\) has no gradient in its order v"))
    for hs, wrt, op in cases:
        with pytest.raises(NullTypeGradError) as err:
            fc.grad(hs.sum(), wrt)
        said = " ".join([str(err.value), *getattr(err.value, "__notes__", [])])
        assert re.search(rf"Scan\{{outer\}}.*Scan\{{inner\}}.*{op}", said), said
        for once in ("Scan{outer}", "Scan{inner}", _FIX):
            assert said.count(once) == 1, (once, said)


def test_an_undefined_gradient_in_the_step_is_refused_only_where_it_is_wanted() -> None:
    """jv(v, x_t) in fn has no gradient in its order v: the gradient in the sequence, the
    initial value and the other non-sequences is still the loop's (it was refused, as the step's
    gradient was built in every input), with or without a stop condition; the gradient in v is
    refused naming the loop. The same in an OpFromGraph, whose graph's gradient is built in
    every input too."""
    x, h0, v, a = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("v"), ft.dscalar("a")
    order, arg = ft.dscalar("order"), ft.dscalar("arg")
    bessel = fc.OpFromGraph([order, arg], [ft.jv(order, arg) * 2.0])
    with pytest.raises(NullTypeGradError, match="OpFromGraph.* with respect to its input 0 .*jv"):
        fc.grad(bessel(v, h0), v)

    def step(xt, h, vv, aa):
        new = h * aa + ft.jv(vv, xt)
        return new, fc.until(new > 100.0)

    plain, _ = fc.scan(
        lambda xt, h, vv, aa: step(xt, h, vv, aa)[0], sequences=x, outputs_info=h0, non_sequences=[v, a]
    )
    stopped, _ = fc.scan(step, sequences=x, outputs_info=h0, non_sequences=[v, a])
    for hs in (plain, stopped):
        with pytest.raises(
            NullTypeGradError, match="Scan.* with respect to its input .*jv.* no gradient in its order"
        ):
            fc.grad(hs.sum(), v)
    wrt = [x, h0, a]
    f = fc.function(
        [x, h0, v, a],
        [*fc.grad((plain**2).sum(), wrt), *fc.grad((stopped**2).sum(), wrt), fc.grad(bessel(v, h0), h0)],
        mode=PY,
    )
    vals = [np.array([0.3, 1.2, -0.4, 0.8]), np.array(0.2), np.array(1.5), np.array(0.7)]
    got = f(*vals)
    np.testing.assert_allclose(got[-1], 2.0 * scipy_special.jvp(1.5, 0.2), rtol=1e-10)

    def loop(x, h0, a):
        h, total = h0, 0.0
        for xt in x:
            h = h * a + scipy_special.jv(1.5, xt)
            total += h**2
        return total

    for k, w in enumerate([0, 1, 3]):

        def cost(value, w=w):
            args = [vals[0], vals[1], vals[3]]
            args[[0, 1, 3].index(w)] = value
            return loop(*args)

        want = fd_gradient(cost, vals[w])
        np.testing.assert_allclose(got[k], want, rtol=1e-6, atol=1e-9, err_msg=f"input {w}")
        np.testing.assert_allclose(got[3 + k], want, rtol=1e-6, atol=1e-9, err_msg=f"input {w}, until")


def test_a_draw_in_the_step_whose_parameters_are_differentiated() -> None:
    """A draw in fn has no gradient in its parameters (here the mean, w * x_t): the gradient in
    the initial value, which reaches the draw's values only, is the loop's with the values
    drawn; in w and x it is refused naming the loop and the fix (it was refused in all)."""
    x, h0, w = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("w")
    rs = fc.RandomStream(3)

    def step(xt, h):
        z = rs.normal(loc=w * xt, scale=0.5, size=())
        return h * z + xt, z

    (hs, zs), updates = fc.scan(step, sequences=x, outputs_info=[h0, None])
    for wrt in (w, x):
        with pytest.raises(
            NullTypeGradError,
            match=r"Scan\{\w+\} with respect to its input \d \(\w+\).*in its step, .*normal",
        ) as err:
            fc.grad(hs.sum(), wrt)
        assert _said_once(err.value, _FIX), err.value
    f = fc.function([x, h0, w], [zs, fc.grad(hs.sum(), h0)], updates=updates, mode=PY)
    drawn, got = f(np.array([0.5, -1.0, 2.0]), 0.3, 0.8)
    # hs_t = h0 * z_0 ... z_t + (terms without h0)
    np.testing.assert_allclose(got, np.cumprod(drawn).sum(), rtol=1e-12)


# -- the loops, built by fncache or PyTensor ---------------------------------------------------


class _Lib:
    """What the loops below call, from fncache or from PyTensor (the same spelling)."""

    def __init__(self, name: str) -> None:
        if name == "fncache":
            self.T, self.grad, self.Rop, self.Lop, self.shared = ft, fc.grad, fc.Rop, fc.Lop, fc.shared
            self._scan = fc.scan
        else:
            import pytensor
            from pytensor.gradient import Lop, Rop

            self.T, self.grad, self.Rop, self.Lop, self.shared = (
                pytensor.tensor,
                pytensor.grad,
                Rop,
                Lop,
                pytensor.shared,
            )
            self._scan = pytensor.scan

    def scan(self, *args, **kwargs):
        """The loop's outputs (its updates are asked of the loops that make them)."""
        return self._scan(*args, **kwargs)[0]


W0 = np.array([[0.4, -0.3], [0.2, 0.5]])


def _loops(L: _Lib) -> tuple[list, list]:
    """Inputs and outputs: loops of every kind of state and their gradients with respect to
    everything they read at once (the sequences, the initial values, the non-sequences and a
    shared weight), Rop and Lop. (Second derivatives are checked against finite differences:
    PyTensor takes 10 s to compile them.)"""
    T = L.T
    x, r3, h0, a, n = T.dmatrix("x"), T.dmatrix("r3"), T.dvector("h0"), T.dscalar("a"), T.lscalar("n")
    ev = T.dmatrix("ev")
    W = L.shared(W0.copy(), "W")

    def step(xm1, x0, x2, y3, y1, h, aa):
        # rows t-1, t and t+2; an output read at t-3 and t-1, a state, a map output, a constant
        y = T.tanh(y1 * aa - 0.3 * y3 + xm1 * x2)
        hn = T.tanh(T.dot(h, W) + x0 + y)
        return y, hn, (hn * y).sum() + 2.0

    ys, hs, zs = L.scan(
        step,
        sequences=[{"input": x, "taps": [-1, 0, 2]}],
        outputs_info=[{"initial": r3, "taps": [-1, -3]}, h0, None],
        non_sequences=a,
    )
    # every step weighted, the last step, a slice of steps
    cost = (ys**2).sum() + (hs * T.arange(1, hs.shape[0] + 1)[:, None]).sum() + (zs**3).sum()
    g_all = L.grad(cost, [x, r3, h0, a, W])
    g_last = L.grad(hs[-1].sum() + ys[-1, 0], [x, r3, h0, a, W])
    g_slice = L.grad((hs[1:3] ** 2).sum(), [x, r3, h0, W], disconnected_inputs="ignore")

    # a symbolic n_steps short of the sequence, backwards, outputs_info None for some outputs,
    # an integer counter, return_list
    count, back, sq = L.scan(
        lambda xt, c, h, ww: (c + 1, T.sin(h * ww[0] + xt) + T.cast(c, "float64"), (xt**2).sum()),
        sequences=x,
        outputs_info=[T.as_tensor_variable(np.int64(0)), h0, None],
        non_sequences=W,
        n_steps=n,
        go_backwards=True,
        return_list=True,
    )
    g_back = L.grad(back[-1].sum() + (sq[:2] * back[:2, 1]).sum(), [x, h0, W])

    # Rop and Lop of the stacked states
    rop = L.Rop(hs, x, ev)
    lop = L.Lop(hs, [x, r3, a], hs * 0.5 + 1.0)

    outs = [ys, hs, zs, count, back, sq, *g_all, *g_last, *g_slice, *g_back, rop, *lop]
    return [x, r3, h0, a, n, ev], outs


def _loop_values() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(8, 2)),
        rng.normal(size=(3, 2)),
        rng.normal(size=2),
        np.array(0.7),
        np.int64(4),
        rng.normal(size=(8, 2)),
    ]


def test_pytensor_gives_the_same_loops_and_gradients() -> None:
    pytensor = pytest.importorskip("pytensor")
    vals = _loop_values()
    ins, outs = _loops(_Lib("fncache"))
    got = fc.function(ins, outs, mode=PY)(*vals)
    p_ins, p_outs = _loops(_Lib("pytensor"))
    # the Python linker: no C to compile
    mode = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
    want = pytensor.function(p_ins, p_outs, mode=mode)(*vals)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert np.shape(g) == np.shape(w), f"output {i}"
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")


# -- finite differences --------------------------------------------------------------------------


def _mixed(x, r3, h0, w, a):
    """Every kind of state and sequence taps, as in `_loops`, the weight a non-sequence."""

    def step(xm1, x0, x2, y3, y1, h, ww, aa):
        y = ft.tanh(y1 * aa - 0.3 * y3 + xm1 * x2)
        hn = ft.tanh(ft.dot(h, ww) + x0 + y)
        return y, hn, (hn * y).sum()

    (ys, hs, zs), _ = fc.scan(
        step,
        sequences=[{"input": x, "taps": [-1, 0, 2]}],
        outputs_info=[{"initial": r3, "taps": [-1, -3]}, h0, None],
        non_sequences=[w, a],
    )
    return ys, hs, zs


def _constant_states(x, r3, h0, w, a):
    """States fn sets to a constant and to a non-sequence, read by another state: PyTensor
    gives the initial value of the state set to a constant a gradient it does not have."""
    (k, ws, c), _ = fc.scan(
        lambda xt, hk, hw, hc, aa: (ft.constant(1.5), aa * 1.0, hc * hc * xt[0] + hk * hw),
        sequences=x,
        outputs_info=[h0[0], h0[1], a],
        non_sequences=a,
    )
    return ft.concatenate([k, ws, c])


def test_gradients_and_second_derivatives_match_finite_differences() -> None:
    ins = [
        ft.dmatrix("x"),
        ft.dmatrix("r3"),
        ft.dvector("h0"),
        ft.dmatrix("w"),
        ft.dscalar("a"),
        ft.lscalar("n"),
    ]

    def backwards(x, r3, h0, w, a, n):
        # n steps of the sequence's 6, from its last row; outputs_info None, return_list
        back, sq = fc.scan(
            lambda xt, h, ww: (ft.sin(ft.dot(h, ww) + xt), (xt**2).sum() * a),
            sequences=x,
            outputs_info=[h0, None],
            non_sequences=w,
            n_steps=n,
            go_backwards=True,
            return_list=True,
        )[0]
        return back[-1] * sq[1]

    def second(x, r3, h0, w, a, n):
        # the gradient itself, differentiated again: the Hessian times the differences' direction
        ys, hs, zs = _mixed(x, r3, h0, w, a)
        gx, gr3, gw = fc.grad((hs**2).sum() + zs[-1] + ys[2:4].sum(), [x, r3, w])
        return ft.concatenate([gx.flatten(), gr3.flatten(), gw.flatten()])

    def stopped(x, r3, h0, w, a, n):
        # a stop condition and taps (the values stop it after 3 steps)
        def step(xt, y2, y1, aa):
            y = ft.sin(y1 * aa) + y2 * 0.5 + xt[0]
            return y, fc.until(y > 1.0)

        ys, _ = fc.scan(
            step,
            sequences=x,
            outputs_info={"initial": r3[1:, 0], "taps": [-2, -1]},
            non_sequences=a,
        )
        return ys

    cases = {
        "all steps": (
            lambda x, r3, h0, w, a, n: ft.concatenate(_mixed(x, r3, h0, w, a)[:2]),
            [0, 1, 2, 3, 4],
        ),
        "last step": (lambda x, r3, h0, w, a, n: _mixed(x, r3, h0, w, a)[1][-1], [0, 1, 2, 3, 4]),
        "a slice": (lambda x, r3, h0, w, a, n: _mixed(x, r3, h0, w, a)[2][1:4], [0, 1, 2, 3, 4]),
        "backwards": (backwards, [0, 2, 3, 4]),
        "second": (second, [0, 1, 2, 3, 4]),
        "stopped": (stopped, [0, 1, 4]),
        "constants": (lambda x, r3, h0, w, a, n: _constant_states(x, r3, h0, w, a), [0, 2, 4]),
    }
    rng = np.random.default_rng(1)
    vals = [
        rng.normal(size=(6, 2)),
        rng.normal(size=(3, 2)),
        rng.normal(size=2),
        rng.normal(size=(2, 2)) * 0.5,
        np.array(0.7),
        np.int64(4),
    ]
    fd_check_grads(ins, cases, [vals], mode=PY)


def test_consider_constant_known_grads_and_disconnected_states() -> None:
    """A loop reading another's outputs, which consider_constant keeps constant; a gradient
    given for a loop's outputs (known_grads); a state nothing differentiated reaches. Against
    the loops' gradients written out in numpy."""
    x, h0, q0, u = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("q0"), ft.dvector("u")
    (hs, qs), _ = fc.scan(lambda xt, h, q: (h * xt + 1.0, q * 0.5), sequences=x, outputs_info=[h0, q0])
    gs, _ = fc.scan(lambda ht, xt, g: g * 0.5 + ht * xt, sequences=[hs, x], outputs_info=ft.constant(0.0))
    held = fc.grad(gs.sum(), x, consider_constant=[hs])
    given = fc.grad(None, [x, h0], known_grads={hs: u})
    none = fc.grad(hs.sum(), q0, disconnected_inputs="ignore")
    with pytest.raises(DisconnectedInputError, match="does not depend on q0"):
        fc.grad(hs.sum(), q0)
    f = fc.function([x, h0, q0, u], [hs, held, *given, none, qs], mode=PY)
    rng = np.random.default_rng(2)
    xv, hv, uv = rng.normal(size=5), 0.3, rng.normal(size=5)
    got_hs, got_held, got_x, got_h0, got_none, got_qs = f(xv, hv, 0.8, uv)
    n = len(xv)
    want_hs, h = [], hv
    for t in range(n):
        h = h * xv[t] + 1.0
        want_hs.append(h)
    before = np.array([hv, *want_hs[:-1]])
    # g_s = sum_{t <= s} 0.5**(s - t) * hs_t * x_t: with hs held, d sum(g) / d x_t is hs_t
    # times the sum over s >= t of 0.5**(s - t)
    decay = np.array([sum(0.5**k for k in range(n - t)) for t in range(n)])
    np.testing.assert_allclose(got_hs, want_hs, rtol=1e-12)
    np.testing.assert_allclose(got_held, np.array(want_hs) * decay, rtol=1e-12)
    # d hs_s / d x_t = hs_{t-1} * x_{t+1} ... x_s (s >= t); d hs_s / d h0 = x_0 ... x_s
    want_x = [sum(uv[s] * before[t] * np.prod(xv[t + 1 : s + 1]) for s in range(t, n)) for t in range(n)]
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12)
    np.testing.assert_allclose(got_h0, sum(uv[s] * np.prod(xv[: s + 1]) for s in range(n)), rtol=1e-12)
    assert got_none == 0.0
    np.testing.assert_allclose(got_qs, 0.8 * 0.5 ** np.arange(1, n + 1))


# -- updates beside the gradient -----------------------------------------------------------------


def _dropout_loop(x, h0, w, acc, masks):
    """The loop of the test below in numpy: its cost and the final value of ``acc``."""
    h, cost = h0, 0.0
    for xt, m in zip(x, masks):
        h = np.tanh(h * w + xt * acc) * m
        acc = acc + h.sum()
        cost += (h**2).sum()
    return cost, acc


def test_updates_in_the_step_beside_the_gradient() -> None:
    """fn updates a shared variable it reads (a running sum) and draws a dropout mask at every
    step: the gradient (in the shared weight, the running sum's value before the loop, the
    sequence and the initial state) is that of the loop with the masks it drew, and the
    function applies both updates."""
    x, h0 = ft.dmatrix("x"), ft.dvector("h0")
    w, acc = fc.shared(0.9, "w"), fc.shared(0.2, "acc")
    rs = fc.RandomStream(5)

    def step(xt, h):
        mask = ft.cast(rs.uniform(size=(2,)) < 0.7, "float64")
        hn = ft.tanh(h * w + xt * acc) * mask
        return [hn, mask], {acc: acc + hn.sum()}

    (hs, masks), updates = fc.scan(step, sequences=x, outputs_info=[h0, None])
    cost = (hs**2).sum()
    f = fc.function([x, h0], [cost, masks, *fc.grad(cost, [x, h0, w, acc])], updates=updates, mode=PY)
    rng = np.random.default_rng(3)
    xv, hv = rng.normal(size=(4, 2)), rng.normal(size=2)
    drawn = []
    for call in range(2):
        before = acc.get_value()
        got_cost, got_masks, *grads = f(xv, hv)
        drawn.append(got_masks)
        assert set(np.unique(got_masks)) <= {0.0, 1.0}

        def loop(xa=xv, ha=hv, wa=0.9, aa=before, drawn_masks=got_masks):
            return _dropout_loop(xa, ha, wa, aa, drawn_masks)

        want_cost, want_acc = loop()
        np.testing.assert_allclose(got_cost, want_cost, rtol=1e-12, err_msg=f"call {call}")
        np.testing.assert_allclose(acc.get_value(), want_acc, rtol=1e-12, err_msg=f"call {call}")
        fds = [
            fd_gradient(lambda v: loop(xa=v)[0], xv),
            fd_gradient(lambda v: loop(ha=v)[0], hv),
            fd_gradient(lambda v: loop(wa=v)[0], np.array(0.9)),
            fd_gradient(lambda v: loop(aa=v)[0], np.array(before)),
        ]
        for name, g, fd in zip(["x", "h0", "w", "acc"], grads, fds):
            np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8, err_msg=f"call {call}: d/d{name}")
    assert not np.array_equal(*drawn)  # the counter's update: other masks on the next call


def _stopped_backwards(x, h0, s):
    """The loop of the test below in numpy: sum(h), the steps run and the final value of s."""
    h, total, steps = h0, 0.0, 0
    for xt in x[::-1]:
        h = h * 0.9 + xt * s
        s, total, steps = s + 0.1, total + h, steps + 1
        if h > 0.5:
            break
    return total, steps, s


def test_a_stopped_backwards_loop_with_an_update_in_the_step() -> None:
    """go_backwards, until and a shared variable fn reads and updates: the gradient reaches
    the rows the loop read (the last ones) and the shared variable's value before the loop
    (PyTensor's gives the gradient of each row to the row before it)."""
    x, h0 = ft.dvector("x"), ft.dscalar("h0")
    s = fc.shared(0.1, "s")

    def step(xt, h):
        new = h * 0.9 + xt * s
        return new, {s: s + 0.1}, fc.until(new > 0.5)

    hs, updates = fc.scan(step, sequences=x, outputs_info=h0, go_backwards=True)
    f = fc.function(
        [x, h0], [hs.sum(), hs.shape[0], *fc.grad(hs.sum(), [x, h0, s])], updates=updates, mode=PY
    )
    xv = np.array([0.1, 0.3, -0.2, 0.4, 0.9, 0.2, 0.3])
    total, steps, *grads = f(xv, 0.2)
    want_total, want_steps, want_s = _stopped_backwards(xv, 0.2, 0.1)
    assert steps == want_steps == 4  # rows 6 .. 3 read
    np.testing.assert_allclose([total, s.get_value()], [want_total, want_s], rtol=1e-12)
    fds = [
        fd_gradient(lambda v: _stopped_backwards(v, 0.2, 0.1)[0], xv),
        fd_gradient(lambda v: _stopped_backwards(xv, v, 0.1)[0], np.array(0.2)),
        fd_gradient(lambda v: _stopped_backwards(xv, 0.2, v)[0], np.array(0.1)),
    ]
    for name, g, fd in zip(["x", "h0", "s"], grads, fds):
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9, err_msg=f"d/d{name}")
    assert not grads[0][:3].any()


# -- training ------------------------------------------------------------------------------------


def _numpy_rnn_step(params: dict, xs: np.ndarray, ys: np.ndarray) -> tuple[float, dict]:
    """The loss of the RNN below and its gradients, by backpropagation through time written
    out in numpy."""
    W, U, b, V, h0 = (params[k] for k in ("W", "U", "b", "V", "h0"))
    hs, h = [], h0
    for xt in xs:
        h = np.tanh(xt @ W + h @ U + b)
        hs.append(h)
    errs = [h @ V - y for h, y in zip(hs, ys)]
    loss = sum((e**2).sum() for e in errs) / len(xs)
    g = {k: np.zeros_like(v) for k, v in params.items()}
    carry = np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        de = 2 * errs[t] / len(xs)
        g["V"] += np.outer(hs[t], de)
        da = (carry + V @ de) * (1 - hs[t] ** 2)
        prev = hs[t - 1] if t else h0
        g["W"] += np.outer(xs[t], da)
        g["U"] += np.outer(prev, da)
        g["b"] += da
        carry = U @ da
    g["h0"] = carry
    return loss, g


def test_sgd_steps_of_an_rnn_equal_numpys() -> None:
    """A tanh RNN of 10 hidden units over 20 steps, with a readout and a learned initial
    state, trained by a few SGD steps: the losses and the weights after each step are those of
    the same training written in numpy."""
    rng = np.random.default_rng(4)
    n_in, H, n_out, T, lr = 3, 10, 2, 20, 0.1
    start = {
        "W": rng.normal(size=(n_in, H)) * 0.4,
        "U": rng.normal(size=(H, H)) * 0.3,
        "b": rng.normal(size=H) * 0.1,
        "V": rng.normal(size=(H, n_out)) * 0.4,
        "h0": rng.normal(size=H) * 0.1,
    }
    shared = {k: fc.shared(v.copy(), k) for k, v in start.items()}
    W, U, b, V, h0 = (shared[k] for k in ("W", "U", "b", "V", "h0"))
    xs, ys = ft.dmatrix("xs"), ft.dmatrix("ys")
    hs, _ = fc.scan(lambda xt, h: ft.tanh(ft.dot(xt, W) + ft.dot(h, U) + b), sequences=xs, outputs_info=h0)
    loss = ((ft.dot(hs, V) - ys) ** 2).sum() / xs.shape[0]
    params = list(shared.values())
    train = fc.function(
        [xs, ys], loss, updates=[(p, p - lr * g) for p, g in zip(params, fc.grad(loss, params))]
    )
    mine = {k: v.copy() for k, v in start.items()}
    for step in range(3):
        xv, yv = rng.normal(size=(T, n_in)), rng.normal(size=(T, n_out)) * 0.5
        want, grads = _numpy_rnn_step(mine, xv, yv)
        np.testing.assert_allclose(train(xv, yv), want, rtol=1e-12, err_msg=f"step {step}")
        mine = {k: v - lr * grads[k] for k, v in mine.items()}
        for k, v in mine.items():
            np.testing.assert_allclose(
                shared[k].get_value(), v, rtol=1e-10, atol=1e-12, err_msg=f"{k}, step {step}"
            )


# -- truncate_gradient at every order ----------------------------------------------------------


def _tap_loop(x, r, h0, w, truncate: int, detached_before: int | None = None):
    """An output read at t-3 and t-1, a state, a map output, a weight; truncated to the last
    ``truncate`` steps, or (``detached_before``) the same loop split in two with the first
    part's values behind ft.disconnected_grad, the second part running the steps from
    ``detached_before`` on from them (and from the initial rows still read there)."""

    def step(xt, y3, y1, h, ww):
        y = ft.tanh(ww[0] * y1 + ww[1] * y3 + xt)
        hn = ft.sin(h * ww[2] + y)
        return y, hn, y * hn

    def run(seq, init_y, init_h, k=-1):
        return fc.scan(
            step,
            sequences=seq,
            outputs_info=[{"initial": init_y, "taps": [-3, -1]}, init_h, None],
            non_sequences=w,
            truncate_gradient=k,
        )[0]

    if detached_before is None:
        return run(x, r, h0, truncate)
    s = detached_before
    ys, hs, zs = (ft.disconnected_grad(v) for v in run(x[:s], r, h0))
    ys2, hs2, zs2 = run(x[s:], ft.concatenate([r, ys])[-3:], hs[-1])
    return ft.concatenate([ys, ys2]), ft.concatenate([hs, hs2]), ft.concatenate([zs, zs2])


def test_truncated_second_derivatives_hold_the_steps_before_the_last_k_constant() -> None:
    """truncate_gradient=k, differentiated twice (grad of a grad, hessian, jacobian of a
    gradient), holds the values of the steps before the last k constant, as the loop split
    there with ft.disconnected_grad on the first part gives (whose derivatives are the
    untruncated loop's, checked against differences above). k = 4 of 5
    steps: the first step's values are held, and the last 4 read two initial rows of the output
    with taps, whose second derivatives go on (they were cut where a row was passed along)."""
    x, r, h0, w = ft.dvector("x"), ft.dvector("r"), ft.dscalar("h0"), ft.dvector("w")
    wrt = [x, r, h0, w]

    def orders(ys, hs, zs) -> list:
        cost = (ys**2).sum() + hs[-1] * 1.5 + zs.sum()
        # (the split loop's h0 is disconnected when k is fewer than the steps)
        g = fc.grad(cost, wrt, disconnected_inputs="ignore")
        second = fc.grad(
            (g[3] ** 2).sum() + (g[0] * g[0]).sum() + g[1].sum() + g[2], wrt, disconnected_inputs="ignore"
        )
        hess = fc.gradient.hessian(cost, w)
        jac = fc.gradient.jacobian(g[0], w)
        return [*g, *second, hess, jac]

    outs = orders(*_tap_loop(x, r, h0, w, 4)) + orders(*_tap_loop(x, r, h0, w, 4, detached_before=1))
    vals = [np.linspace(-0.4, 0.5, 5), np.array([0.3, -0.2, 0.6]), np.array(0.4), np.array([0.7, 0.2, -0.5])]
    got = fc.function(wrt, outs, mode=PY)(*vals)
    n = len(outs) // 2
    for i, (truncated, split) in enumerate(zip(got[:n], got[n:])):
        np.testing.assert_allclose(truncated, split, rtol=1e-12, atol=1e-14, err_msg=f"output {i}")


def _truncated_rnn_grads(x: np.ndarray, h0: float, w: float, k: int, w_before: float) -> np.ndarray:
    """The truncated gradient of sum(h_t**2) for h_t = tanh(w h_{t-1} + x_t), in x, h0 and w,
    written out: backpropagation through the last k steps; the steps before them run with the
    weight ``w_before`` (so that differences in w can hold them constant)."""
    n, h, hs = len(x), h0, []
    for t in range(n):
        h = np.tanh((w_before if t < n - k else w) * h + x[t])
        hs.append(h)
    before = [h0, *hs[:-1]]
    gx, gw, carry = np.zeros(n), 0.0, 0.0
    for t in range(n - 1, n - 1 - min(n, k), -1):
        d = (carry + 2 * hs[t]) * (1 - hs[t] ** 2)
        gx[t], gw, carry = d, gw + d * before[t], d * w
    return np.array([*gx, carry if k >= n else 0.0, gw])


def test_truncated_second_derivatives_are_differences_of_the_truncated_gradient() -> None:
    """The second derivative in w of a truncated loop is the difference quotient of the
    truncated gradient (written out in numpy) with the steps before the last k held as they
    were; with k >= the steps run, the plain second derivative. (PyTensor's differ: it gives
    the initial value's gradient, 0 for every w when k is fewer than the steps, a derivative
    in w that is not 0.)"""
    x, h0, w = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("w")
    outs = []
    for k in (2, 5):
        hs, _ = fc.scan(
            lambda xt, h, ww: ft.tanh(ww * h + xt),
            sequences=x,
            outputs_info=h0,
            non_sequences=w,
            truncate_gradient=k,
        )
        g = fc.grad((hs**2).sum(), [x, h0, w])
        outs += [fc.grad(v.sum(), w) for v in g]
    xv, h0v, wv = np.linspace(0.1, 0.5, 5), 0.3, 0.7
    got = fc.function([x, h0, w], outs, mode=PY)(xv, h0v, wv)
    eps = 1e-6
    for at, k in ((0, 2), (3, 5)):
        up, down = (_truncated_rnn_grads(xv, h0v, wv + d, k, wv + d * (k >= 5)) for d in (eps, -eps))
        fd = (up - down) / (2 * eps)
        want = [fd[:5].sum(), fd[5], fd[6]]
        np.testing.assert_allclose(got[at : at + 3], want, rtol=1e-7, atol=1e-9, err_msg=f"k={k}")
