"""PyTensor's own tests of ``scan`` (tests/scan/test_basic.py, test_views.py,
test_checkpoints.py), ported to fncache: every kind of tap, the number of steps, updates of
shared variables and random draws in the step, stop conditions, nested loops, the views and
checkpointed loops. Values are checked against the same loops written in numpy, gradients
against central finite differences in float64. Most cases run under the Python linker (the
back end is not the point); the forward cases run under the C linker too. Where fncache
differs on purpose (docs/porting.md, "What differs, on purpose"), the case asserts fncache's
behaviour and says so."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import DisconnectedInputError
from fncache.gradient import Rop, hessian, jacobian
from fncache.scan.checkpoints import scan_checkpoints
from fncache.scan.views import filter as scan_filter
from fncache.scan.views import foldl, foldr
from fncache.scan.views import map as scan_map
from fncache.scan.views import reduce as scan_reduce
from fcutil import fd_check_grads

PY = fc.Mode("py")


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- forward: taps of every kind, against numpy loops --------------------------------------------


def _forward_graph():
    """The forward cases of PyTensor's TestScan, in one graph: (inputs, outputs, shared)."""
    u, x0, w_in, w = ft.dvector("u"), ft.dscalar("x0"), ft.dscalar("w_in"), ft.dscalar("w")
    u1, u2, m2 = ft.dmatrix("u1"), ft.dvector("u2"), ft.dmatrix("m2")
    v0, y0, win1 = ft.dvector("v0"), ft.dvector("y0"), ft.dmatrix("win1")
    rng = _rng(1)
    sw_in, sw = fc.shared(rng.uniform(), "sw_in"), fc.shared(rng.uniform(), "sw")
    W_in2, W = fc.shared(rng.uniform(-0.5, 0.5, 2), "W_in2"), fc.shared(rng.uniform(-0.5, 0.5, (2, 2)), "W")
    W_out = fc.shared(rng.uniform(-0.5, 0.5, 2), "W_out")
    outs = {}
    # one sequence, one state, weights as non-sequences, positional arguments
    outs["rnn"], _ = fc.scan(lambda ut, xt, a, b: ut * a + xt * b, u, x0, [w_in, w], None, -1, False)
    outs["rnn_back"], _ = fc.scan(lambda ut, xt, a, b: ut * a + xt * b, u, x0, [w_in, w], go_backwards=True)
    outs["rnn_shared"], _ = fc.scan(lambda ut, xt, a, b: ut * a + xt * b, u, x0, [sw_in, sw])
    # a sequence at taps -2 (an int) and a state at [-1, -2]
    outs["taps_in_out"], _ = fc.scan(
        lambda um2, xm1, xm2: um2 * sw_in + xm1 * sw + xm2,
        {"input": u, "taps": -2},
        {"initial": v0[:2], "taps": [-1, -2]},
    )
    # past and future taps of a sequence
    outs["past_future"], _ = fc.scan(
        lambda um2, up2, xm1, xm2: (um2 + up2) * sw_in + xm1 * sw + xm2,
        {"input": u, "taps": [-2, 2]},
        {"initial": v0[:2], "taps": [-1, -2]},
    )
    # two sequences (taps -1, 0, 1 on one), a state, a state at [-1, -3] and an output not fed back
    outs["y0"], outs["y1"], outs["y2"] = fc.scan(
        lambda a, bm1, b, bp1, xm1, ym1, ym3, wi: [
            ft.dot(a, wi) + (b + bm1 * bp1) * W_in2 + ft.dot(xm1, W),
            (ym1 + ym3) * ft.dot(xm1, W_out),
            ft.dot(a, wi),
        ],
        [u1, {"input": m2, "taps": [-1, 0, 1]}],
        [v0[:2], {"initial": y0, "taps": [-1, -3]}, None],
        win1,
    )[0]
    # outputs not fed back around fed-back ones; only the last steps read
    rval, _ = fc.scan(
        lambda a, b, xm1, ym1, ym3, wi: [
            ym3 + 1,
            ft.dot(a, wi) + b * W_in2 + ft.dot(xm1, W),
            ym1 + ft.dot(xm1, W_out),
        ],
        [u1, u2],
        [None, {"initial": v0[:2]}, {"initial": y0, "taps": [-1, -3]}],
        win1,
    )
    outs["steps_dump"], outs["steps_x"], outs["steps_y"] = rval[0][-3:], rval[1][-2:], rval[2][-4:]
    # a sequence read at negative taps only, and at a positive one only
    outs["neg_taps"], _ = fc.scan(lambda a, b: a + 2 * b, sequences={"input": u, "taps": [-2, -1]})
    outs["prev_row"], _ = fc.scan(lambda a: [a], sequences={"input": u, "taps": [-1]}, outputs_info=[None])
    outs["mintap"], _ = fc.scan(
        lambda s, p: p + s, sequences={"input": u, "taps": [2]}, outputs_info=0.0, n_steps=1
    )
    # a state read 4 steps back, from a shared initial value
    init4 = fc.shared(rng.normal(size=(4, 1)), "init4")
    jer, _ = fc.scan(
        lambda x, xm4: (x, xm4), sequences=m2[:, :1], outputs_info=[{"initial": init4, "taps": [-4]}, None]
    )
    outs["tm4"] = jer[1]
    # outputs that are inputs of the step, or views of them
    outs["reuse"] = fc.scan(
        lambda m3, mm2, m1: (mm2, m1 * 1, fc.gradient.disconnected_grad(mm2), m3 + mm2 + m1),
        outputs_info=[None, None, None, {"initial": m2[:3], "taps": [-3, -2, -1]}],
        n_steps=3,
    )[0]
    # a generator: no sequences, a symbolic number of steps, return_list
    k = ft.iscalar("k")
    outs["gen"] = fc.scan(lambda h: 2 * h, [], x0, [], n_steps=k, return_list=True)[0][0]
    ins = [u, x0, w_in, w, u1, u2, m2, v0, y0, win1, k]
    shared = dict(sw_in=sw_in, sw=sw, W_in2=W_in2, W=W, W_out=W_out, init4=init4)
    return ins, outs, shared


def _forward_numpy(u, x0, w_in, w, u1, u2, m2, v0, y0, win1, k, sh):
    want = {}

    def rnn(seq, a, b):
        x, out = x0, []
        for t in seq:
            x = t * a + x * b
            out.append(x)
        return np.array(out)

    want["rnn"], want["rnn_back"] = rnn(u, w_in, w), rnn(u[::-1], w_in, w)
    want["rnn_shared"] = rnn(u, sh["sw_in"], sh["sw"])
    steps = len(u) - 2
    xs = list(v0[:2])  # xs[-1] the previous step's value, xs[-2] the one before
    for t in range(steps):
        xs.append(u[t] * sh["sw_in"] + xs[-1] * sh["sw"] + xs[-2])
    want["taps_in_out"] = np.array(xs[2:])
    xs = list(v0[:2])
    for t in range(len(u) - 4):
        xs.append((u[t] + u[t + 4]) * sh["sw_in"] + xs[-1] * sh["sw"] + xs[-2])
    want["past_future"] = np.array(xs[2:])
    n = min(len(u1), len(m2) - 2)
    x, ys, y0s, y1s, y2s = v0[:2], list(y0), [], [], []
    for t in range(n):
        b_m1, b, b_p1 = m2[t], m2[t + 1], m2[t + 2]
        x_new = u1[t] @ win1 + (b + b_m1 * b_p1) * sh["W_in2"] + x @ sh["W"]
        y1s.append((ys[-1] + ys[-3]) * (x @ sh["W_out"]))
        ys.append(y1s[-1])
        y2s.append(u1[t] @ win1)
        y0s.append(x_new)
        x = x_new
    want["y0"], want["y1"], want["y2"] = np.array(y0s), np.array(y1s), np.array(y2s)
    n = min(len(u1), len(u2))
    x, ys, dump, xo, yo = v0[:2], list(y0), [], [], []
    for t in range(n):
        dump.append(ys[-3] + 1)
        yo.append(ys[-1] + x @ sh["W_out"])
        x = u1[t] @ win1 + u2[t] * sh["W_in2"] + x @ sh["W"]
        xo.append(x)
        ys.append(yo[-1])
    want["steps_dump"], want["steps_x"], want["steps_y"] = (
        np.array(dump)[-3:],
        np.array(xo)[-2:],
        np.array(yo)[-4:],
    )
    want["neg_taps"] = u[:-2] + 2 * u[1:-1]
    want["prev_row"] = u[:-1]
    want["mintap"] = u[2:3]
    col = m2[:, :1]
    want["tm4"] = np.concatenate([sh["init4"], col])[: len(col)]
    states = [r for r in m2[:3]]
    for _ in range(3):
        states.append(states[-3] + states[-2] + states[-1])
    st = np.array(states)
    want["reuse"] = [st[1:4], st[2:5], st[1:4], st[3:6]]
    want["gen"] = x0 * 2.0 ** np.arange(1, k + 1)
    return want


@pytest.mark.parametrize("linker", ["py", "c"])
def test_forward_loops_with_every_kind_of_tap_are_numpys(linker: str) -> None:
    ins, outs, shared = _forward_graph()
    names = list(outs)
    flat = [o for n in names for o in (outs[n] if isinstance(outs[n], list) else [outs[n]])]
    f = fc.function(ins, flat, mode=fc.Mode(linker))
    sh = {k: v.get_value() for k, v in shared.items()}
    rng = _rng(2)
    for n_u, n_1, n_2 in [(6, 5, 7), (9, 8, 6)]:
        vals = [
            rng.uniform(-2, 2, n_u),
            rng.uniform(),
            rng.uniform(),
            rng.uniform(),
            rng.uniform(-0.5, 0.5, (n_1, 2)),
            rng.uniform(-0.5, 0.5, n_1 + 1),
            rng.uniform(-0.5, 0.5, (n_2, 2)),
            rng.uniform(-2, 2, 3),
            rng.uniform(size=3),
            rng.uniform(-0.5, 0.5, (2, 2)),
            np.int32(5),
        ]
        want = _forward_numpy(*vals, sh)
        got = iter(f(*vals))
        for name in names:
            for w in want[name] if isinstance(outs[name], list) else [want[name]]:
                g = next(got)
                assert g.shape == np.shape(w), name
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)


def test_seq_and_state_taps_gradients_match_finite_differences_forwards_and_backwards() -> None:
    """test_grad_multiple_outs_taps(_backwards), test_grad_multiple_taps_state,
    test_grad_mitsot and test_grad_one_output: every sequence, initial value and weight."""
    u1, m2, x0, y0, win1 = (
        ft.dmatrix("u1"),
        ft.dmatrix("u2"),
        ft.dvector("x0"),
        ft.dvector("y0"),
        ft.dmatrix("w"),
    )
    xinit, wm = ft.dtensor3("xinit"), ft.dmatrix("wm")
    rng = _rng(3)
    W_in2, W, W_out = (fc.shared(rng.uniform(-0.2, 0.2, s)) for s in [(2,), (2, 2), (2,)])

    def step(a, bm1, b, bp1, xm1, ym1, ym3, wi):
        return [
            ft.dot(a, wi) + (b + bm1 * bp1) * W_in2 + ft.dot(xm1, W),
            (ym1 + ym3) * ft.dot(xm1, W_out),
            ft.dot(a, wi),
        ]

    def loop(back: bool):
        return lambda u1, m2, x0, y0, win1, xinit, wm: ft.concatenate(
            [
                o.flatten()
                for o in fc.scan(
                    step,
                    [u1, {"input": m2, "taps": [-1, 0, 1]}],
                    [x0, {"initial": y0, "taps": [-1, -3]}, None],
                    win1,
                    go_backwards=back,
                )[0]
            ]
        )

    def taps_state(*args):
        xs, _ = fc.scan(
            lambda xdl, xprev, w: w + xprev * 0.9,
            outputs_info=[{"initial": args[5][:4], "taps": [-4, -1]}],
            non_sequences=args[6],
            n_steps=6,
        )
        return xs[-1] ** 2

    def mitsot(*args):
        a, b = fc.scan(
            lambda m2_, s: [(m2_ + s) ** 2 * 0.3, (m2_ + s) ** 2 * 0.3],
            outputs_info=[{"initial": args[1][:2], "taps": [-2]}, args[2]],
            n_steps=3,
        )[0]
        return ft.concatenate([a, b])

    fd_check_grads(
        [u1, m2, x0, y0, win1, xinit, wm],
        {
            "forwards": (loop(False), [0, 1, 2, 3, 4]),
            "backwards": (loop(True), [0, 1, 2, 3, 4]),
            "state taps [-4, -1]": (taps_state, [5, 6]),
            "mitsot [-2] beside a sitsot": (mitsot, [1, 2]),
        },
        [
            [
                rng.uniform(-0.2, 0.2, (5, 2)),
                rng.uniform(-0.2, 0.2, (7, 2)),
                rng.uniform(-0.2, 0.2, 2),
                rng.uniform(size=3),
                rng.uniform(-0.2, 0.2, (2, 2)),
                rng.uniform(-1, 1, (5, 2, 2)),
                rng.uniform(-1, 1, (2, 2)),
            ]
        ],
        mode=PY,
    )


# -- the number of steps -------------------------------------------------------------------------


def test_zero_steps_empty_sequences_and_fewer_steps_than_rows() -> None:
    """test_no_step, test_no_steps_sit_sot, test_no_steps_nit_sot,
    test_infer_shape_nsteps_smaller_seq_length, test_only_nonseq_inputs."""
    k = ft.iscalar("k")
    for init in (ft.dscalar("x"), ft.iscalar("x")):
        vals, _ = fc.scan(lambda h: 2 * h, outputs_info=(init,), n_steps=k)
        f = fc.function([init, k], vals, mode=PY)
        got = f(1, 0)
        assert got.shape == (0,) and got.dtype == vals.dtype
        np.testing.assert_array_equal(f(1, 3), 2 ** np.arange(1, 4))
        for seq in (ft.dvector("s"), ft.ivector("s")):
            sit, _ = fc.scan(lambda s, h: 2 * h, outputs_info=(init,), sequences=seq)
            nit, _ = fc.scan(lambda s: 2 * s, sequences=seq)
            a, b = fc.function([init, seq], [sit, nit], mode=PY)(1, np.zeros(0, seq.dtype))
            assert a.shape == b.shape == (0,) and (a.dtype, b.dtype) == (sit.dtype, nit.dtype)
    x = ft.dvector("x")
    (o1, o2), _ = fc.scan(lambda a, b: (a + 1, b + a), sequences=x, outputs_info=[None, x[0]], n_steps=20)
    xv = _rng().normal(size=30)
    s1, s2, v1, v2 = fc.function([x], [o1.shape[0], o2.shape[0], o1, o2], mode=PY)(xv)
    assert s1 == s2 == 20
    np.testing.assert_allclose(v1, xv[:20] + 1)
    np.testing.assert_allclose(v2, xv[0] + np.cumsum(xv[:20]))
    # test_infershape_seq_shorter_nsteps: n_steps beyond the rows raises, as Theano's loops (of
    # PyTensor's, the Python loop raises and the C loop reads past the rows: docs/porting.md)
    short, _ = fc.scan(lambda a, h: h + a, sequences=x, outputs_info=ft.constant(0.0), n_steps=20)
    with pytest.raises(ValueError, match=r"n_steps is 20 but sequences\[0\] has 10 rows"):
        fc.function([x], short, mode=PY)(xv[:10])
    # no sequence, no state: a non-sequence repeated; its gradient counts the steps
    m = ft.dmatrix("m")
    rep, _ = fc.scan(lambda a: a, non_sequences=[m], n_steps=3)
    mv = _rng().normal(size=(2, 2))
    got, g = fc.function([m], [rep, fc.grad(rep.sum(), m)], mode=PY)(mv)
    np.testing.assert_array_equal(got, np.repeat(mv[None], 3, axis=0))
    np.testing.assert_array_equal(g, np.full((2, 2), 3.0))
    # PyTensor raises too for a negative number of steps (fncache names it)
    with pytest.raises(ValueError, match="n_steps is -2; scan runs a non-negative number of steps"):
        fc.function([init, k], fc.scan(lambda h: h + 1, outputs_info=init, n_steps=k)[0], mode=PY)(1, -2)
    with pytest.raises(ValueError, match="n_steps must be a non-negative int"):
        fc.scan(lambda h: h + 1, outputs_info=init, n_steps=-2)


# -- outputs_info and what fn returns ------------------------------------------------------------


def test_outputs_info_spellings_and_return_forms() -> None:
    """test_output_only (outputs_info=[]), test_output_padding, test_sequence_dict,
    test_condition_hidden_inp (Python ints as initial values), test_eliminate_seqs/nonseqs
    (a tuple of outputs, then the updates), test_outputs_info_not_typed."""
    u = ft.dvector("u")
    uv = _rng(4).uniform(-5, 5, 5)
    # an empty outputs_info is PyTensor's spelling of "no output fed back"
    only, _ = fc.scan(lambda ut: ut + 3, u, [], [])
    two = fc.scan(lambda ut: [ut + 3, ut * 2], sequences=u, outputs_info=[])[0]
    got = fc.function([u], [only, *two], mode=PY)(uv)
    np.testing.assert_allclose(got[0], uv + 3)
    np.testing.assert_allclose(got[2], uv * 2)
    sx, _ = fc.scan(lambda s: s + 1, sequences=[{"input": u}])
    np.testing.assert_allclose(fc.function([u], sx, mode=PY)(uv), uv + 1)
    # a dict with only the initial value; updates keep their variable's ndim
    init_a, b = ft.dvector("init_a"), fc.shared(np.ones((5, 4)))
    out, upd = fc.scan(lambda a: (a + 1, {b: 2 * b}), outputs_info=[{"initial": init_a}], n_steps=1)
    assert out[-1].ndim == 1 and out.ndim == 2 and upd[b].ndim == 2
    # an initial value with more rows than the taps read: PyTensor reads its first rows,
    # fncache refuses it when the function runs (docs/porting.md); x0[:2] is PyTensor's loop
    x0 = ft.dvector("x0")
    longer, _ = fc.scan(lambda a, b: a + 10 * b, outputs_info=[{"initial": x0, "taps": [-2, -1]}], n_steps=3)
    first, _ = fc.scan(
        lambda a, b: a + 10 * b, outputs_info=[{"initial": x0[:2], "taps": [-2, -1]}], n_steps=3
    )
    vals = [1.0, 2.0]
    for _ in range(3):
        vals.append(vals[-2] + 10 * vals[-1])
    np.testing.assert_allclose(fc.function([x0], first, mode=PY)(np.array([1.0, 2.0, 3.0, 4.0])), vals[2:])
    for rows in ([1.0], [1.0, 2.0, 3.0]):
        with pytest.raises(ValueError, match=r"scan: outputs_info\[0\] has taps \[-2, -1\]: its initial"):
            fc.function([x0], longer, mode=PY)(np.array(rows))
    # Python ints start integer states: the condition stops the loop past max_value
    max_value, n = ft.dscalar("max_value"), ft.iscalar("n")

    def accum(prev, step):
        new = prev + step
        return [new, step + 1], fc.until(new > max_value)

    (sums, counts), _ = fc.scan(accum, outputs_info=[0, 0], n_steps=n)
    s, c = fc.function([max_value, n], [sums, counts], mode=PY)(100, 100)
    ref = np.cumsum(np.arange(100))
    stop = int(np.argmax(ref > 100)) + 1
    np.testing.assert_array_equal(s, ref[:stop])
    np.testing.assert_array_equal(c, np.arange(1, stop + 1))
    assert s.dtype.kind == "i"
    # an int state a float step would change: refused (PyTensor: ValueError), naming the cast
    with pytest.raises(TypeError, match=r"output 0 of fn is .*float64.*initial value.*int64.*ft.cast"):
        fc.scan(lambda c, prev: prev + c * 0.5, outputs_info=0, sequences=[u])
    # (outputs tuple, updates) in a list; several outputs fed back at once
    sh = fc.shared(2.0, "sh")
    x1, x2 = ft.dvector("x1"), ft.dscalar("x2")
    outs, upd = fc.scan(
        lambda *a: [(a[0] + 1, a[0] + 2, a[0] + 3), {sh: a[0] + 4}],
        u,
        [{"initial": x1, "taps": [-1, -3]}, x2, None],
    )
    got = fc.function([u, x1, x2], outs, updates=upd, mode=PY)(uv, np.zeros(3), 0.0)
    for j, g in enumerate(got):
        np.testing.assert_allclose(g, uv + j + 1)
    np.testing.assert_allclose(sh.get_value(), uv[-1] + 4)


# -- shared variables and updates ---------------------------------------------------------------


def test_shared_variables_read_and_updated_in_fn() -> None:
    """test_shared_arguments_with_updates (updates as a list of pairs), test_only_shared_no_
    input_no_output, test_shared_updates, test_shared_memory_aliasing_updates, test_missing_
    input_error (an update reading a variable fn closes over), test_grad_numeric_shared,
    test_same (a shared variable as an initial value)."""
    rng = _rng(5)
    vW1, vW2, vu1, vu2, vy0, vy1 = (rng.random(s) for s in [(2, 3), (3, 2), (3, 2), (3, 3), (3, 2), 2])
    W1, W2, u1, y1 = fc.shared(vW1, "W1"), fc.shared(vW2, "W2"), fc.shared(vu1, "u1"), fc.shared(vy1, "y1")

    def f(u1_t, u2_t, y0_tm3, y0_tm2, y0_tm1, y1_tm1):
        y0_t = ft.dot(ft.dot(u1_t, W1), W2) + 0.1 * y0_tm1 + 0.33 * y0_tm2 + 0.17 * y0_tm3
        return [y0_t, ft.dot(u2_t, W2) + y1_tm1, ft.dot(u1_t, W1)], [(W1, W1 + 0.1), (W2, W2 + 0.05)]

    u2, y0 = ft.dmatrix("u2"), ft.dmatrix("y0")
    outs, upd = fc.scan(f, [u1, u2], [{"initial": y0, "taps": [-3, -2, -1]}, y1, None], [])
    got = fc.function([u2, y0], outs, updates=upd, mode=PY)(vu2, vy0)
    ys0, ys1, ys2, w1, w2 = list(vy0), [vy1], [], vW1, vW2
    for t in range(3):
        ys0.append(vu1[t] @ w1 @ w2 + 0.1 * ys0[-1] + 0.33 * ys0[-2] + 0.17 * ys0[-3])
        ys1.append(vu2[t] @ w2 + ys1[-1])
        ys2.append(vu1[t] @ w1)
        w1, w2 = w1 + 0.1, w2 + 0.05
    for g, w in zip(got, [ys0[3:], ys1[1:], ys2]):
        np.testing.assert_allclose(g, np.array(w), rtol=1e-12)
    np.testing.assert_allclose(W1.get_value(), w1)
    np.testing.assert_allclose(W2.get_value(), w2)

    state, n = fc.shared(np.float64(0.7), "state"), ft.iscalar("n")
    out, upd = fc.scan(lambda: {state: 2 * state}, [], [], [], n_steps=n)
    assert out == []
    fc.function([n], [], updates=upd, mode=PY)(3)
    np.testing.assert_allclose(state.get_value(), 0.7 * 2**3)
    X, Y = fc.shared(np.array(1), "X"), fc.shared(np.array(1), "Y")
    _, upd = fc.scan(lambda: {X: X + 1, Y: X}, n_steps=10)
    fc.function([], [], updates=upd, mode=PY)()
    # each step reads the previous step's values: Y ends one behind X, in its own memory
    assert X.get_value() == 11 and Y.get_value() == 10
    assert not np.shares_memory(X.get_value(borrow=True), Y.get_value(borrow=True))
    # an update reading a variable fn closes over: PyTensor raises MissingInputError, fncache
    # passes it in as the loop's input (docs/porting.md)
    c, inc = fc.shared(0.0, "c"), ft.dscalar("inc")
    _, upd = fc.scan(lambda: (ft.zeros(()), {c: c + inc}), n_steps=20)
    fc.function([inc], [], updates=upd, mode=PY)(0.25)
    assert c.get_value() == 5.0
    # a shared variable passed in non_sequences and updated by fn: each step reads the last
    Wn, xs = fc.shared(1.0, "Wn"), ft.dvector("xs")
    hs, upd = fc.scan(lambda xt, w: (xt * w, {Wn: w * 2}), sequences=xs, non_sequences=[Wn])
    np.testing.assert_array_equal(fc.function([xs], hs, updates=upd, mode=PY)(np.ones(3)), [1.0, 2.0, 4.0])
    assert Wn.get_value() == 8.0
    # test_default_value_broadcasted: an SGD step on a weight a (1, 4) state is made from
    X, Wx = ft.dmatrix("X"), fc.shared(rng.random((2, 4)) * 0.1, "Wx")
    val, _ = fc.scan(
        lambda r, pre: ft.dot(ft.reshape(r, (1, 2)), Wx), sequences=X, outputs_info=[ft.alloc(0.0, 1, 4)]
    )
    Xv, w0 = rng.random((10, 2)), Wx.get_value()
    fc.function([X], ft.mean(val), updates=[(Wx, Wx - 0.1 * fc.grad(ft.mean(val), Wx))], mode=PY)(Xv)
    np.testing.assert_allclose(Wx.get_value(), w0 - 0.1 * np.outer(Xv.sum(0), np.ones(4)) / (len(Xv) * 4))
    s32 = fc.shared(np.float32(1.0))
    _, upd = fc.scan(lambda: ([], {s32: s32 + np.float32(1.0)}), n_steps=10)
    assert fc.function([], fc.grad(next(iter(upd.values())), s32), mode=PY)() == 1.0
    x, memory = ft.dmatrix("x"), fc.shared(np.zeros(2), "memory")
    Wm = fc.shared(rng.random((5, 2)), "Wm")
    (a, b), _ = fc.scan(
        lambda inp, mem: [ft.dot(ft.join(0, inp, mem), Wm)] * 2, sequences=[x], outputs_info=[None, memory]
    )
    xv = rng.random((4, 3))
    h, want = np.zeros(2), []
    for row in xv:
        h = np.concatenate([row, h]) @ Wm.get_value()
        want.append(h)
    for g in fc.function([x], [a, b], mode=PY)(xv):
        np.testing.assert_allclose(g, np.array(want))


# -- random draws --------------------------------------------------------------------------------


def test_draws_in_fn_are_new_at_every_step_and_draws_made_outside_are_read_once() -> None:
    """test_simple_shared_random, test_random_as_input_to_scan, test_inner_graph_cloning."""
    rs = fc.RandomStream(3)
    vals, upd = fc.scan(lambda: rs.uniform(-1, 1, size=(2,)), [], [], [], n_steps=5)
    f = fc.function([], vals, updates=upd, mode=PY)
    first, second = f(), f()
    assert first.shape == (5, 2) and len(set(first[:, 0])) == 5 and not np.allclose(first, second)
    # the same numbers as the stream's draw made once per call outside a loop
    outside = fc.function([], fc.RandomStream(3).uniform(-1, 1, size=(2,)), mode=PY)
    np.testing.assert_array_equal(np.concatenate([first, second]), [outside() for _ in range(10)])
    # a draw made before the loop, read as a non-sequence: one value for every step (a new
    # one at each call of the function). Read from fn's closure, it draws anew at every step,
    # as in Theano (PyTensor reads it once: docs/porting.md)
    tr = fc.RandomStream(123)
    x = ft.dmatrix("x")
    y = tr.binomial(1, x, size=x.shape)
    z, upd = fc.scan(lambda a: a, non_sequences=y, n_steps=2)
    zc, updc = fc.scan(lambda: y + 0, n_steps=2)
    assert not upd and list(updc) == [y.rng]
    g = fc.function([x], [y, z], mode=PY)
    xv = _rng(6).uniform(size=(10, 10))
    y1, z1 = g(xv)
    y2, z2 = g(xv)
    np.testing.assert_array_equal(z1, [y1, y1])
    np.testing.assert_array_equal(z2, [y2, y2])
    assert not np.array_equal(y1, y2)
    zc1 = fc.function([x], zc, mode=PY)(xv)
    assert not np.array_equal(zc1[0], zc1[1])
    assert set(np.unique(zc1)) == {0, 1}
    # test_inner_graph_cloning: a draw in fn and one read from its closure, per step; a
    # shared variable with a default update is updated at every step, as Theano did
    # (PyTensor reads both as values: docs/porting.md)
    tick = fc.shared(np.float64(1.0), "tick")
    tick.default_update = tick + 1
    zz = fc.RandomStream(9).normal(0, 1)
    (res, zs), upd = fc.scan(
        lambda h: (fc.RandomStream(7).normal(h) + tick + zz, zz),
        outputs_info=[ft.constant(0.0), None],
        n_steps=4,
    )
    assert tick in upd and tick.default_update is not None and zz.rng.default_update is not None
    r, zv = fc.function([], [res, zs], updates=upd, mode=PY)()
    assert len(set(r)) == 4 and len(set(zv)) == 4
    assert tick.get_value() == 5.0


def test_gradient_through_a_loop_with_draws_and_a_stop_condition() -> None:
    """test_until_random_infer_shape: the gradient of each step's value in the initial one
    is 1, so its sum is the number of steps run."""
    x = ft.dscalar("x")
    srng = fc.RandomStream(0)
    out, upd = fc.scan(lambda p: (p + srng.uniform(), fc.until(p > 5)), outputs_info=x, n_steps=10)
    f = fc.function([x], [out, fc.grad(out.sum(), x)], updates=upd, mode=PY)
    for start in range(-5, 5):
        o, g = f(start)
        assert len(o) == g
        stop = np.flatnonzero(np.r_[start, o[:-1]] > 5)
        assert len(o) == (stop[0] + 1 if len(stop) else 10)


def test_gradient_beside_an_int_sequence_and_a_draw_per_step() -> None:
    """test_grad_multiple_outs_some_uncomputable: an int sequence (no gradient: PyTensor gives
    zeros, fncache's grad refuses an int variable, so it is left out), an int output not fed
    back, a draw per step; finite differences from the same counter."""
    W_in, u, u2, x0 = ft.dmatrix("W_in"), ft.dmatrix("u"), ft.ivector("u2"), ft.dvector("x0")

    def step(u_t, u2_t, x_tm1, w):
        noise = fc.RandomStream(123).uniform(low=-1.1, high=1.1)
        return ft.cast(u2_t, "float64") + ft.dot(u_t, w) + x_tm1 + noise, 2 * u2_t

    (xs, ys), upd = fc.scan(step, [u, u2], [x0, None], W_in)
    cost = (xs**2).sum() + ys.sum()
    f = fc.function([u, u2, x0, W_in], [cost, *fc.grad(cost, [u, x0, W_in])], updates=upd, mode=PY)
    (counter,) = upd

    def from_start(*vals):
        counter.set_value(np.array(0, dtype=np.uint64))
        return f(*vals)

    rng = _rng(18)
    vals = [
        rng.uniform(-3, 3, (5, 2)),
        np.array([1, 3, 4, 6, 8], "int32"),
        rng.uniform(-3, 3, 2),
        rng.uniform(-3, 3, (2, 2)),
    ]
    got = from_start(*vals)
    eps = 1e-6
    for k, i in enumerate([0, 2, 3]):
        fd = np.zeros_like(vals[i])
        for idx in np.ndindex(vals[i].shape):
            up, down = [v.copy() for v in vals], [v.copy() for v in vals]
            up[i][idx] += eps
            down[i][idx] -= eps
            fd[idx] = (from_start(*up)[0] - from_start(*down)[0]) / (2 * eps)
        np.testing.assert_allclose(got[1 + k], fd, rtol=1e-6, atol=1e-6)


def test_gradient_of_nested_loops_with_discrete_draws() -> None:
    """test_crash_nonseq_grad: PyTensor raises NullTypeGradError (the gradient would need
    the random states of the inner loop); fncache differentiates the loop with the draws
    it made (docs/porting.md), and the draws are discrete: each element of inp is counted
    once per inner and outer step."""
    rs = fc.RandomStream(1)
    inp = ft.dmatrix("inp")
    norm = inp / ft.sum(inp, axis=0)

    def unit_dropout(i):
        pooled, inner = fc.scan(lambda j: inp + rs.multinomial(1, norm.T), sequences=ft.arange(inp.shape[0]))
        return pooled + rs.binomial(1, 0.5, size=pooled.shape), inner

    out, upd = fc.scan(unit_dropout, sequences=[ft.arange(inp.shape[0])])
    iv = _rng(7).random((3, 3)) + 0.1
    g = fc.function([inp], fc.grad(out.sum(), inp), updates=upd, mode=PY)(iv)
    np.testing.assert_array_equal(g, np.full(iv.shape, iv.shape[0] ** 2))


# -- until ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("linker", ["py", "c"])
def test_until_stops_the_loop_and_its_gradient(linker: str) -> None:
    """test_while, test_while_infer_shape and TestGradUntil (with truncation, sequence taps,
    a condition over a row)."""
    x, th = ft.dvector("x"), ft.lscalar("threshold")
    vx = np.zeros(50)
    vx[23] = 4
    o, _ = fc.scan(lambda xt: (xt + 1, fc.until(xt > 3)), x)
    got, n = fc.function([x], [o, o.shape[0]], mode=fc.Mode(linker))(vx)
    assert len(got) == n == 24
    seq = np.arange(15.0)
    stop = int(np.argmax(seq > 5)) + 1

    def grads(truncate: int) -> np.ndarray:
        g = np.zeros_like(seq)
        g[:stop] = 2 * seq[:stop]
        if truncate > 0:
            g[: stop - truncate] = 0
        return g

    for trunc in (-1, 3):
        r, _ = fc.scan(
            lambda xt, u: (xt * xt, fc.until(xt > u)),
            sequences=x,
            non_sequences=[th],
            truncate_gradient=trunc,
        )
        out, g = fc.function([x, th], [r, fc.grad(r.sum(), x)], mode=fc.Mode(linker))(seq, 5)
        np.testing.assert_allclose(out, seq[:stop] ** 2)
        np.testing.assert_allclose(g, grads(trunc))
    X = ft.dmatrix("X")
    r, _ = fc.scan(lambda xt, u: (xt * xt, fc.until(ft.all(xt > u))), sequences=X, non_sequences=[th])
    tiled = np.tile(seq[:, None], (1, 5))
    out, g = fc.function([X, th], [r, fc.grad(r.sum(), X)], mode=fc.Mode(linker))(tiled, 5)
    np.testing.assert_allclose(out, np.tile((seq[:stop] ** 2)[:, None], (1, 5)))
    np.testing.assert_allclose(g, np.tile(grads(-1)[:, None], (1, 5)))
    # sequence taps [-2, 0], truncated to the last 3 steps
    r, _ = fc.scan(
        lambda a, b, u: (a * b, fc.until(b > u)),
        sequences={"input": x, "taps": [-2, 0]},
        non_sequences=[th],
        truncate_gradient=3,
    )
    out, g = fc.function([x, th], [r, fc.grad(r.sum(), x)], mode=fc.Mode(linker))(seq, 6)
    ran = int(np.argmax(seq[2:] > 6)) + 1
    np.testing.assert_allclose(out, seq[:ran] * seq[2 : 2 + ran])
    want = np.zeros_like(seq)
    for t in range(ran - 3, ran):  # the steps the gradient runs back through
        want[t] += seq[t + 2]
        want[t + 2] += seq[t]
    np.testing.assert_allclose(g, want)


# -- gradients -----------------------------------------------------------------------------------


def test_rnn_gradients_match_finite_differences() -> None:
    """test_grad_one_output, test_grad_multiple_outs (weights shared and not),
    test_grad_sitsot, test_grad_duplicate_outputs (one variable returned twice),
    test_grad_multiple_outs_some_truncate, test_grad_dtype_change (an int state beside)."""
    u, x0, w_in, w = ft.dvector("u"), ft.dscalar("x0"), ft.dscalar("w_in"), ft.dscalar("w")
    u1, v0, win1, seq, init3 = (
        ft.dmatrix("u1"),
        ft.dvector("v0"),
        ft.dmatrix("win1"),
        ft.dmatrix("seq"),
        ft.dmatrix("init3"),
    )
    rng = _rng(8)
    W = fc.shared(rng.uniform(-0.3, 0.3, (2, 2)), "W")
    W_out = fc.shared(rng.uniform(-0.3, 0.3, 2), "W_out")

    def one(u, x0, w_in, w, *_):
        return fc.scan(lambda ut, xt, a, b: ut * a + xt * b, u, x0, [w_in, w])[0]

    def multi(u, x0, w_in, w, u1, v0, win1, *_):
        x, y = fc.scan(
            lambda a, b, xm1, ym1, wi: [ft.dot(a, wi) + b * w_in + ft.dot(xm1, W), ft.dot(xm1, W_out)],
            [u1, u],
            [v0, x0],
            win1,
        )[0]
        return ft.concatenate([x.flatten(), y])

    def duplicate(*args):
        a, b = fc.scan(
            lambda s, i3, ns: [s + i3 + ns] * 2,
            sequences=args[7],
            outputs_info=[None, {"initial": args[8], "taps": [-3]}],
            non_sequences=args[5],
        )[0]
        return ft.concatenate([a.flatten(), 2 * b.flatten()])

    def truncated(u, x0, w_in, w, u1, v0, win1, *_):
        return fc.scan(lambda a, xm1, wi: ft.tanh(ft.dot(a, wi) + xm1), u1, v0, win1, truncate_gradient=3)[0]

    def with_int_state(u, x0, w_in, w, *_):
        c = ft.cast(u[0] > 0, "int32")
        _, xs, ys = fc.scan(
            lambda cond, a, b: [
                ft.cast(ft.switch(cond, a, b) > 0.5, "int32"),
                ft.switch(cond, ft.sigmoid(b * a), a),
                ft.switch(cond, b, ft.sigmoid(a)),
            ],
            outputs_info=[c, x0, w],
            n_steps=6,
        )[0]
        return xs + ys

    cases = {
        "one output": (one, [0, 1, 2, 3]),
        "several outputs": (multi, [0, 2, 4, 5, 6]),
        "an output returned twice": (duplicate, [5, 7, 8]),
        "an int state beside float ones": (with_int_state, [1, 3]),
    }
    ins = [u, x0, w_in, w, u1, v0, win1, seq, init3]
    vals = [
        rng.uniform(-0.5, 0.5, 7),
        np.array(rng.uniform()),
        np.array(rng.uniform()),
        np.array(rng.uniform()),
        rng.uniform(-0.5, 0.5, (7, 2)),
        rng.uniform(-0.5, 0.5, 2),
        rng.uniform(-0.5, 0.5, (2, 2)),
        rng.uniform(size=(8, 2)),
        rng.uniform(size=(3, 2)),
    ]
    fd_check_grads(ins, cases, [vals], mode=PY)
    # truncated to the last 3 of 7 steps: the first rows of the sequence get none
    g = fc.function(ins, fc.grad(truncated(*ins).sum(), u1), mode=PY, on_unused_input="ignore")(*vals)
    assert np.all(g[:4] == 0) and np.all(g[4:] != 0)
    # test_grad_sitsot: the gradient of a gradient, against finite differences of the first
    inp = ft.dvector("inp")
    so, _ = fc.scan(lambda h: ft.sin(h) * 2, outputs_info=[inp], n_steps=4)
    g1 = fc.grad(so.sum(), inp)
    first = fc.function([inp], g1.sum(), mode=PY)
    second = fc.function([inp], fc.grad(g1.sum(), inp), mode=PY)
    iv = rng.random(3)
    eps = 1e-6
    fd = [(first(iv + eps * e) - first(iv - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(second(iv), fd, rtol=1e-6, atol=1e-7)


def test_second_derivatives_through_taps_and_loops_of_gradients() -> None:
    """test_grad_grad_mitsot_sitsot, test_grad_multiple_seqs_different_nsteps /
    test_grad_of_grad_of_state (a polynomial: sequences of different lengths),
    test_hessian_bug_grad_grad_two_scans, test_inner_grad, test_inner_grad_wrt_shared,
    test_R_op (Rop of a loop against its Jacobian)."""
    m, v = ft.dmatrix("m"), ft.dvector("v")

    def inner(a2, a1, s):
        t = a2 + a1 + s
        return t**1.05, t**1.05

    so, _ = fc.scan(inner, outputs_info=[{"initial": m, "taps": [-2, -1]}, v], n_steps=4)
    g = fc.grad(so[0].sum(), m).sum() + fc.grad(so[1].sum(), v).sum()
    first = fc.function([m, v], g, mode=PY)
    second = fc.function([m, v], fc.grad(g, m), mode=PY)
    rng = _rng(9)
    mv, vv = rng.random((2, 3)) + 0.5, rng.random(3) + 0.5
    eps = 1e-6
    fd = np.zeros_like(mv)
    for idx in np.ndindex(mv.shape):
        e = np.zeros_like(mv)
        e[idx] = eps
        fd[idx] = (first(mv + e, vv) - first(mv - e, vv)) / (2 * eps)
    np.testing.assert_allclose(second(mv, vv), fd, rtol=1e-5, atol=1e-7)
    # a polynomial in x, its coefficients a sequence shorter than the powers'
    c, x = ft.dvector("c"), ft.dscalar("x")
    comps, _ = fc.scan(lambda co, p, fv: co * fv**p, sequences=[c, ft.arange(1000)], non_sequences=x)
    dP = fc.grad(comps.sum(), x)
    got = fc.function([c, x], [dP, fc.grad(dP, x)], mode=PY)([1.0, 2.0, -3.0, 4.0], 2.0)
    poly = np.polynomial.Polynomial([1.0, 2.0, -3.0, 4.0])
    np.testing.assert_allclose(got, [poly.deriv(1)(2.0), poly.deriv(2)(2.0)])
    # the Hessian of a loop of loops, a symbolic number of outer steps (return_list)
    W, n = ft.fvector("W"), ft.iscalar("n")

    def outer(acc, W):
        r, _ = fc.scan(
            lambda s, W: s + (W**2).sum(),
            outputs_info=ft.as_tensor_variable(np.float32(0)),
            non_sequences=[W],
            n_steps=1,
        )
        return acc + r[-1]

    ro, _ = fc.scan(
        outer,
        outputs_info=ft.as_tensor_variable(np.float32(0)),
        non_sequences=[W],
        n_steps=n,
        return_list=True,
    )
    H = fc.function([W, n], hessian(ro[0][-1], W), mode=PY)(np.ones(8, "float32"), 3)
    np.testing.assert_allclose(H, 2 * 3 * np.eye(8))
    # a loop over the rows of a gradient, each differentiated again: the Hessian
    xv, A = ft.dvector("xv"), ft.dmatrix("A")
    fc1, fc2 = fc.shared(0.5, "fc1"), fc.shared(0.9, "fc2")
    gy = fc.grad(fc1 * ft.dot(xv * xv, ft.dot(A, xv)), xv)
    hy, _ = fc.scan(
        lambda i, gy, xx: fc.grad(gy[i] * fc2, xx), sequences=ft.arange(gy.shape[0]), non_sequences=[gy, xv]
    )
    a_v, x_v = rng.normal(size=(3, 3)), rng.normal(size=3)
    # y = 0.5 * sum_i x_i^2 (A x)_i: its Hessian, by hand
    Ax = a_v @ x_v
    hess = 0.5 * (2 * np.diag(Ax) + 2 * (x_v[:, None] * a_v) + 2 * (x_v[:, None] * a_v).T)
    np.testing.assert_allclose(fc.function([xv, A], hy, mode=PY)(x_v, a_v), 0.9 * hess, rtol=1e-10)
    x1, x2 = ft.dscalar("x1"), fc.shared(np.array([1, 2, 3, 4, 5]), "x2")
    K = x2 * x1
    out, _ = fc.scan(lambda i, w: fc.grad(K[i], w), sequences=ft.arange(K.shape[0]), non_sequences=x1)
    np.testing.assert_array_equal(fc.function([x1], out, mode=PY)(3.0), np.arange(1, 6))
    # Rop: the Jacobian of the last state times the direction
    u, h0, Wr = ft.dmatrix("u"), ft.dvector("h0"), ft.dmatrix("Wr")
    o, _ = fc.scan(
        lambda a, y, w: ft.tanh(ft.dot(w, a + y)),
        sequences=u,
        outputs_info=h0,
        non_sequences=Wr,
        name="rnn_fn",
    )
    o = o[-1]
    eu, eh, eW = ft.dmatrix("eu"), ft.dvector("eh"), ft.dmatrix("eW")
    vals = [rng.uniform(size=(6, 3)), rng.uniform(size=3), rng.uniform(size=(3, 3)) - 0.5]
    evals = [rng.uniform(size=(6, 3)), rng.uniform(size=3), rng.uniform(size=(3, 3))]
    rops = fc.function([u, h0, Wr, eu, eh, eW], [Rop(o, u, eu), Rop(o, h0, eh), Rop(o, Wr, eW)], mode=PY)(
        *vals, *evals
    )
    jacs = fc.function([u, h0, Wr], jacobian(o, [u, h0, Wr]), mode=PY)(*vals)
    for r, j, e in zip(rops, jacs, evals):
        np.testing.assert_allclose(r, (j * e[None]).reshape(3, -1).sum(1), rtol=1e-8, atol=1e-12)


def test_disconnected_and_integer_paths_in_gradients() -> None:
    """test_grad_connectivity_matrix (DisconnectedInputError for an initial value the cost
    does not depend on), test_disconnected_gradient(2, 3), test_grad_bug_disconnected_input
    (integer indices), test_grad_wrt_shared, test_grad_find_input,
    test_connection_pattern(_multiple_mitmot), test_grad_duplicate_outputs_connection_pattern."""
    x0, y0, z0 = ft.dvector("x0"), ft.dvector("y0"), ft.dvector("z0")
    (x, y, z), _ = fc.scan(lambda a, b, c: (a**2, b, a + 1), outputs_info=[x0, y0, z0], n_steps=10)
    cost = (x + y + z).sum()
    fc.grad(cost, [x0, y0])
    with pytest.raises(DisconnectedInputError, match="does not depend on"):
        fc.grad(cost, z0)
    with pytest.raises(DisconnectedInputError):
        fc.grad(x.sum(), y0)
    gz = fc.grad(x.sum(), z0, disconnected_inputs="ignore")
    np.testing.assert_array_equal(
        fc.function([x0, z0], gz, mode=PY, on_unused_input="ignore")(np.ones(2), np.ones(2)), 0
    )
    # a threshold only the stop condition reads decides the steps run: connected, with a zero
    # gradient (as a comparison's inputs are)
    xs, th = ft.dvector("xs"), ft.dscalar("th")
    r, _ = fc.scan(lambda xt, u: (xt * xt, fc.until(xt > u)), sequences=xs, non_sequences=[th])
    g = fc.function([xs, th], fc.grad(r.sum(), th), mode=PY, on_unused_input="ignore")
    assert g(np.arange(15.0), 5.0) == 0.0
    v, m = ft.dvector("v"), ft.dmatrix("m")
    (u, m2), _ = fc.scan(lambda r, s: [s, v], sequences=m, outputs_info=[ft.zeros((7,)), None])
    g = fc.grad((m * m2).sum(), v)
    mv = _rng(10).normal(size=(4, 7))
    np.testing.assert_allclose(fc.function([m, v], g, mode=PY)(mv, np.ones(7)), mv.sum(0))
    (u, m2), _ = fc.scan(lambda r, s: [r + s, s + v], sequences=m, outputs_info=[ft.zeros((7,)), None])
    g = fc.function([m, v], fc.grad(m2.sum(), m), mode=PY)(mv, np.ones(7))
    # row t of m reaches the outputs of the steps after it
    np.testing.assert_allclose(g, np.repeat(np.arange(3, -1, -1.0)[:, None], 7, axis=1))
    vv = ft.dvector("vv")
    (o1, o2), _ = fc.scan(lambda s: (s + 1, s + 2), sequences=vv)
    np.testing.assert_allclose(fc.function([vv], fc.grad(o2.sum(), vv), mode=PY)(np.ones(5)), np.ones(5))
    Wsh, idx = fc.shared(np.zeros((3, 3)), "Wsh"), ft.ivector("idx")
    rows, _ = fc.scan(lambda i, w: w[i], sequences=idx, non_sequences=Wsh)
    want = np.zeros((3, 3))
    np.add.at(want, [1, 2, 2], 1.0)
    np.testing.assert_allclose(fc.function([idx], fc.grad(rows.sum(), Wsh), mode=PY)([1, 2, 2]), want)
    x1, x2 = fc.shared(3.0, "x1"), ft.dvector("x2")
    ys, _ = fc.scan(lambda t: t * x1, sequences=x2)
    assert fc.function([x2], fc.grad(ys.sum(), x1), mode=PY)([2.0, 3.0]) == 5.0
    w, init = fc.shared(np.float32(0.0), "w"), ft.fscalar("init")
    out, _ = fc.scan(lambda prev: w, outputs_info=init, n_steps=2)
    assert fc.function([init], fc.grad(out[-1], w), mode=PY)(np.float32(1.0)) == 1.0
    # states at [-2, -1] passing each other's values: the gradient of the last in the first
    # initial value, as numpy's loop gives it (PyTensor: a float cost; an int one is refused)
    a0 = ft.dvector("a0")
    (a, b), _ = fc.scan(
        lambda am2, am1, bm2, bm1: (am1 + bm2, bm1),
        outputs_info=[{"initial": a0, "taps": [-2, -1]}, {"initial": a0 * 2, "taps": [-2, -1]}],
        n_steps=3,
    )
    ga = fc.function([a0], fc.grad(a[-1], a0), mode=PY)(np.array([1.0, 2.0]))
    # a_t = a_{t-1} + b_{t-2}, b_t = b_{t-1}: a_2 = a0[1] + 2 a0[0] + 2 * 2 a0[1]... by FD
    f = fc.function([a0], a[-1], mode=PY)
    fd = [(f(np.array([1.0, 2.0]) + 1e-6 * e) - f(np.array([1.0, 2.0]) - 1e-6 * e)) / 2e-6 for e in np.eye(2)]
    np.testing.assert_allclose(ga, fd, rtol=1e-7)
    # six outputs of one value, read at several taps: the gradient in one initial value
    inits = [ft.dvector("i0"), ft.dvector("i1"), ft.dmatrix("i2"), ft.dmatrix("i3")]

    def six(*args):
        t = sum(args)
        return (t,) * 6

    outs, _ = fc.scan(
        six,
        outputs_info=[
            None,
            None,
            inits[0],
            inits[1],
            {"initial": inits[2], "taps": [-2, -1]},
            {"initial": inits[3], "taps": [-2, -1]},
        ],
        n_steps=4,
    )
    fd_check_grads(
        inits,
        {
            "six outputs": (
                lambda *i: (
                    fc.scan(
                        six,
                        outputs_info=[
                            None,
                            None,
                            i[0],
                            i[1],
                            {"initial": i[2], "taps": [-2, -1]},
                            {"initial": i[3], "taps": [-2, -1]},
                        ],
                        n_steps=4,
                    )[0][0]
                    * 0.1
                ),
                [0, 1, 2, 3],
            )
        },
        [[np.full(2, 0.1), np.full(2, 0.2), np.full((2, 2), 0.1), np.full((2, 2), -0.1)]],
        mode=PY,
    )
    assert len(outs) == 6


# -- nested loops, loops over loops --------------------------------------------------------------


def test_a_loop_over_a_loops_output_and_a_function_reading_intermediate_nodes() -> None:
    """test_sequence_is_scan, test_bugFunctioProvidesIntermediateNodesAsInputs,
    test_use_scan_direct_output (the stacked states, read whole)."""
    x0 = ft.dscalar("x0")
    s1, _ = fc.scan(lambda h: h + 1, outputs_info={"initial": x0}, n_steps=10)
    s2, _ = fc.scan(lambda h: h + 1, sequences=[s1])
    np.testing.assert_array_equal(fc.function([x0], s2, mode=PY)(0.0), np.arange(1, 11) + 1.0)
    V, orig = ft.dtensor3("V"), ft.dmatrix("orig")
    W = orig + 2
    OS, _ = fc.scan(lambda vt, w: vt + 1 + w.sum(), sequences=V, outputs_info=[None], non_sequences=[W])
    vv, ov = _rng(11).normal(size=(3, 2, 2)), _rng(12).normal(size=(2, 2))
    got = fc.function([V, orig], OS.sum() + W.sum(), mode=PY)(vv, ov)
    np.testing.assert_allclose(got, (vv + 1 + (ov + 2).sum()).sum() + (ov + 2).sum())
    xs, seq = ft.dcol("xs"), ft.dcol("seq")
    (out1, out2), _ = fc.scan(
        lambda a, b, c: (a + b, a + c), sequences=seq, outputs_info=[xs, ft.zeros_like(xs)]
    )
    xv, sv = np.arange(4.0)[:, None], np.arange(4.0, 8.0)[:, None]
    o1, o2 = fc.function([xs, seq], [out1, out2], mode=PY)(xv, sv)
    b1, b2, w1, w2 = xv, np.zeros_like(xv), [], []
    for s in sv:
        b1, b2 = b1 + s, b2 + s
        w1.append(b1)
        w2.append(b2)
    np.testing.assert_allclose(o1, np.array(w1))
    np.testing.assert_allclose(o2, np.array(w2))


def test_a_loop_in_a_loops_step_and_bool_and_backwards_bounded_loops() -> None:
    """A loop inside another's step reading the outer step's row: values and gradients (the
    inner loop's gradient inside the outer one's) against numpy and finite differences; a
    bool state; go_backwards with a symbolic n_steps (beyond the rows: an error)."""
    x, w = ft.dvector("x"), ft.dscalar("w")

    def outer(xt, h):
        inner, _ = fc.scan(lambda hh: ft.tanh(hh * w + xt), outputs_info=h, n_steps=3)
        return inner[-1]

    hs, _ = fc.scan(outer, sequences=x, outputs_info=ft.constant(0.1))
    fd_check_grads(
        [x, w],
        {
            "nested loops": (
                lambda x, w: fc.scan(outer, sequences=x, outputs_info=ft.constant(0.1))[0],
                [0, 1],
            )
        },
        [[_rng(17).normal(size=4), np.array(0.7)]],
        mode=PY,
    )
    xv = _rng(17).normal(size=4)
    h, want = 0.1, []
    for t in xv:
        for _ in range(3):
            h = np.tanh(h * 0.7 + t)
        want.append(h)
    np.testing.assert_allclose(fc.function([x, w], hs, mode=PY)(xv, 0.7), want, rtol=1e-12)
    b = ft.scalar("b", dtype="bool")
    flips, _ = fc.scan(lambda p: ~p, outputs_info=b, n_steps=3)
    got = fc.function([b], flips, mode=PY)(True)
    assert got.dtype == np.bool_ and list(got) == [False, True, False]
    k = ft.iscalar("k")
    back, _ = fc.scan(
        lambda xt, p: p * 2 + xt, sequences=x, outputs_info=ft.constant(0.0), n_steps=k, go_backwards=True
    )
    f = fc.function([x, k], back, mode=PY)
    with pytest.raises(ValueError, match=r"n_steps is 9 but sequences\[0\] has 4 rows"):
        f(xv, 9)
    for steps in (0, 3, 4):
        p, want = 0.0, []
        for t in xv[::-1][:steps]:
            p = p * 2 + t
            want.append(p)
        np.testing.assert_allclose(f(xv, steps), np.array(want).reshape(-1))


# -- views and checkpoints -----------------------------------------------------------------------


def test_views_and_return_updates() -> None:
    """tests/scan/test_views.py: reduce, map, foldl, foldr (their gradients), with
    PyTensor's return_updates; filter."""
    v, s = ft.dvector("v"), ft.dscalar("s")
    vv = _rng(13).uniform(-5, 5, 6)
    r, upd = scan_reduce(lambda a, b: a + b, v, s)
    np.testing.assert_allclose(fc.function([v, s], r, updates=upd, mode=PY)(vv, 0.0), vv.sum())
    a, _ = scan_map(lambda t: abs(t), v, [], truncate_gradient=-1, go_backwards=False)
    np.testing.assert_allclose(fc.function([v], a, mode=PY)(vv), abs(vv))
    xsh = fc.shared(_rng(14).uniform(size=10), "xsh")
    outs = []
    for view in (scan_reduce, foldl, foldr):
        o, _ = view(lambda t, acc: acc + t, xsh, ft.constant(0.0))
        outs += [o, fc.grad(o, xsh)]
        outs.append(view(lambda t, acc: acc * 0.5 + t, xsh, ft.constant(0.0), return_updates=False))
    outs.append(scan_map(lambda t: t * 2, xsh, return_updates=False))
    got = fc.function([], outs, mode=PY)()
    xv = xsh.get_value()

    def fold(values):
        acc = 0.0
        for t in values:
            acc = acc * 0.5 + t
        return acc

    for i, order in enumerate([xv, xv, xv[::-1]]):
        np.testing.assert_allclose(got[3 * i], xv.sum())
        np.testing.assert_allclose(got[3 * i + 1], np.ones(10))
        np.testing.assert_allclose(got[3 * i + 2], fold(order))
    np.testing.assert_allclose(got[-1], 2 * xv)
    # several outputs, and a stop condition for reduce's last value
    (mx, mn), _ = scan_reduce(lambda t, a, b: [ft.maximum(a, t), ft.minimum(b, t)], v, [v[0], v[0]])
    np.testing.assert_allclose(fc.function([v], [mx, mn], mode=PY)(vv), [vv.max(), vv.min()])
    # filter: the rows a predicate keeps, with one mask or one per sequence
    w = ft.dvector("w")
    kept = scan_filter(lambda t: t > 0, v)
    back = scan_filter(lambda t: t > 0, v, go_backwards=True)
    each = scan_filter(lambda a, b: [a > 0, b < 0], [v, w])
    both = scan_filter(lambda a, b: a > b, [v, w])
    wv = _rng(15).uniform(-5, 5, 6)
    got = fc.function([v, w], [kept, back, *each, *both], mode=PY)(vv, wv)
    for g, want in zip(got, [vv[vv > 0], vv[vv > 0], vv[vv > 0], wv[wv < 0], vv[vv > wv], wv[vv > wv]]):
        np.testing.assert_array_equal(g, want)
    with pytest.raises(ValueError, match="filter: fn returned 2 masks for 1 sequences"):
        scan_filter(lambda a: [a > 0, a < 0], v)


def test_checkpointed_loops_equal_plain_ones() -> None:
    """tests/scan/test_checkpoints.py: the values and gradient of A**k (over steps 1..k) with
    and without checkpoints, with return_updates either way; taps are refused (PyTensor:
    RuntimeError; fncache: ValueError naming the fix)."""
    k, A = ft.iscalar("k"), ft.dvector("A")
    seq = ft.arange(k, dtype="float64") + 1
    outs = []
    for return_updates in (True, False):
        kw = dict(
            outputs_info=ft.ones_like(A),
            sequences=[seq],
            non_sequences=A,
            n_steps=k,
            return_updates=return_updates,
        )
        plain = fc.scan(lambda s, p, a: p * a / s, **kw)
        check = scan_checkpoints(lambda s, p, a: p * a / s, save_every_N=7, **kw)
        if return_updates:
            (plain, upd), (check, cupd) = plain, check
            assert not upd and not cupd
        outs += [plain[-1], check[-1], fc.grad(plain[-1].sum(), A), fc.grad(check[-1].sum(), A)]
    Av = np.linspace(0.2, 2.0, 10)
    got = fc.function([A, k], outs, mode=PY)(Av, 23)
    want = Av**23 / np.prod(np.arange(1.0, 24.0))
    for i in (0, 4):
        np.testing.assert_allclose(got[i], want, rtol=1e-12)
        np.testing.assert_allclose(got[i + 1], want, rtol=1e-12)
        np.testing.assert_allclose(got[i + 2], 23 * want / Av, rtol=1e-12)
        np.testing.assert_allclose(got[i + 3], 23 * want / Av, rtol=1e-12)
    with pytest.raises(ValueError, match="scan_checkpoints: outputs_info must be variables"):
        scan_checkpoints(lambda: None, [], {"initial": A, "taps": [-2]})


# -- modes, strictness, refusals -----------------------------------------------------------------


def test_modes_names_strictness_and_shape_changes() -> None:
    """A plain mode passed to scan is taken (PyTensor's tests pass Mode(linker=...) and
    get_default_mode()); one that checks or watches values is refused (test_monitor_mode:
    pass it to fc.function). test_strict_mode (ValueError, PyTensor's MissingInputError),
    test_inner_get_vector_length (strict with a draw's size as a non-sequence),
    test_inconsistent_broadcast_error (a state whose shape would change: refused when the
    step runs, naming the output), test_outputs_taps_check, test_hash."""
    h0, A, k = ft.dscalar("h0"), ft.dvector("A"), ft.iscalar("k")
    for mode in ("FAST_RUN", "FAST_COMPILE", fc.Mode("py"), fc.Mode("c", None)):
        r, _ = fc.scan(
            lambda p, a: p * a,
            outputs_info=ft.ones_like(A),
            non_sequences=A,
            n_steps=k,
            mode=mode,
            name="pow",
        )
        assert str(r.owner.op) == "Scan{pow}"
        np.testing.assert_allclose(
            fc.function([A, k], r[-1], mode=PY)(np.array([2.0, 3.0, 0.1]), 4), [16.0, 81.0, 1e-4]
        )
    with pytest.raises(
        NotImplementedError, match="MonitorMode.*would not reach it. Pass the mode to fc.function"
    ):
        fc.scan(lambda p: p * 2, outputs_info=h0, n_steps=3, mode=fc.MonitorMode(post_func=lambda *a: None))
    w_ = fc.shared(np.eye(2), "w_")
    x0 = ft.dvector("x0")
    with pytest.raises(ValueError, match="strict=True and fn reads w_"):
        fc.scan(lambda x: ft.dot(x, w_), sequences=[], outputs_info=[x0], n_steps=10, strict=True)
    rs = fc.RandomStream(4)
    s1, s2 = ft.lscalar("s1"), ft.lscalar("s2")
    res, _ = fc.scan(
        lambda size: rs.normal(0, 1, size=size),
        non_sequences=[ft.as_tensor([s1, s2])],
        n_steps=10,
        strict=True,
    )
    assert tuple(fc.function([s1, s2], res.shape, mode=PY)(1, 2)) == (10, 1, 2)
    x3 = ft.dtensor3("x3")
    y, _ = fc.scan(
        lambda r, p: r + p, sequences=x3, outputs_info=[{"initial": ft.constant(np.zeros((1, 10)))}]
    )
    f = fc.function([x3], y, mode=PY)
    assert f(np.ones((2, 1, 10))).shape == (2, 1, 10)
    with pytest.raises(
        ValueError, match=r"step 0 returned output 0 as float64\[3, 10\], expected float64\[1, 10\]"
    ):
        f(np.ones((2, 3, 10)))
    xf, yf = ft.dvector("xf"), ft.dvector("yf")
    for taps, msg in [([0], "an output's taps are past steps"), ([-1, -1], "distinct ints")]:
        with pytest.raises(ValueError, match=msg):
            fc.scan(lambda a, b: [a], xf, {"initial": yf, "taps": taps})
    a1, _ = fc.scan(lambda t: t + 1, xf)
    a2, _ = fc.scan(lambda t: t + 1, yf)
    assert a1.owner.op == a2.owner.op and hash(a1.owner.op) == hash(a2.owner.op)


def test_debugprint_shows_the_steps_graph() -> None:
    """tests/scan/test_printing.py, what a user sees: the loop's node, then the graph of its
    step (PyTensor's "Inner graphs"), each loop once, those of the gradient's loop too."""
    x, w = ft.dvector("x"), ft.dscalar("w")
    hs, _ = fc.scan(lambda xt, h: h * w + xt, sequences=x, outputs_info=ft.constant(0.0), name="acc")
    text = fc.printing.debugprint([hs, fc.grad(hs.sum(), w)], file="str")
    assert text.count("Inner graph of Scan{acc} (x[t], in1, w):") == 1
    assert "Inner graph of Scan{grad_acc}" in text
    step = text.split("Inner graph of Scan{acc}")[1].split("Inner graph")[0]
    assert "mul(in1, w)" in step and "add(t0, x[t])" in step
    f = fc.function([x, w], hs, mode=PY)
    assert "Inner graph of Scan{acc}" in fc.printing.debugprint(f, file="str")


def test_pytensor_gives_the_same_values() -> None:
    """The cases whose fncache behaviour was fixed here, run by PyTensor itself when it is
    installed: outputs_info=[], a draw passed as a non-sequence read once, the views'
    return_updates."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    uv = _rng(16).uniform(-5, 5, 5)
    pu = pt.dvector("u")
    with pytest.warns(DeprecationWarning):
        p_out, _ = pytensor.scan(lambda t: t + 3, pu, [], [])
    u = ft.dvector("u")
    f_out, _ = fc.scan(lambda t: t + 3, u, [], [])
    np.testing.assert_allclose(fc.function([u], f_out, mode=PY)(uv), pytensor.function([pu], p_out)(uv))
    from pytensor.scan.views import foldr as p_foldr

    p_r = p_foldr(lambda t, acc: acc * 0.5 + t, pu, pt.constant(0.0, dtype="float64"), return_updates=False)
    f_r = foldr(lambda t, acc: acc * 0.5 + t, u, ft.constant(0.0), return_updates=False)
    np.testing.assert_allclose(fc.function([u], f_r, mode=PY)(uv), pytensor.function([pu], p_r)(uv))
    _, p_y = pt.random.normal(size=(2,), rng=pytensor.shared(np.random.default_rng(1)), return_next_rng=True)
    p_z = pytensor.scan(lambda a: a + 0, non_sequences=p_y, n_steps=3, return_updates=False)
    pz = pytensor.function([], p_z)()
    f_z = fc.scan(
        lambda a: a + 0, non_sequences=fc.RandomStream(1).normal(size=(2,)), n_steps=3, return_updates=False
    )
    fz = fc.function([], f_z, mode=PY)()
    # different generators, the same structure: one draw, repeated at every step
    assert np.all(pz == pz[0]) and np.all(fz == fz[0])
