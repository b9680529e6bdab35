"""``fc.scan`` used as a Theano/PyTensor user writes it: every form of its arguments (taps of
sequences and outputs, ``None`` outputs, non-sequences, ``n_steps``, ``go_backwards``,
``until``, updates, random draws, nested loops, integer and bool loops, the tutorial's
examples) against the same loops written in numpy; gradients against central differences in
float64 and a truncated one against truncated backpropagation written in numpy; bad input
against the errors that name scan, what was given and the fix. The same loops are run by
PyTensor where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import fd_check_grads

PY = fc.Mode("py")


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- forward: one function per table of loops (one compile each) ------------------------------


def _loops(x, m, h0, rows3, k):
    """Loops over a vector ``x``, a matrix ``m`` (5 x 3), a vector ``h0`` (3), the initial rows
    ``rows3`` (3) of an output with taps and an int ``k``, as a PyTensor user writes them."""
    a = ft.constant(0.5)
    seq_taps, _ = fc.scan(lambda p, c, n: p - 2 * c + 3 * n, sequences=[{"input": x, "taps": [-2, 0, 3]}])
    out_taps, _ = fc.scan(
        lambda xt, t3, t1: xt + 0.5 * t3 - t1,
        sequences=x,
        outputs_info=[{"initial": rows3, "taps": [-3, -1]}],
    )
    # a map output (None), a state, a non-sequence and a variable read from the closure
    (mapped, state), _ = fc.scan(
        lambda r, h, w: (ft.dot(r, h), ft.tanh(h * w + r) + a),
        sequences=m,
        outputs_info=[None, h0],
        non_sequences=ft.constant(0.7),
    )
    back, _ = fc.scan(
        lambda lo, hi, h: h * 0.9 + lo * hi,
        sequences={"input": x, "taps": [-1, 1]},
        outputs_info=ft.constant(0.0),
        go_backwards=True,
        n_steps=4,
    )
    powers, _ = fc.scan(lambda p, b: p * b, outputs_info=ft.ones_like(h0), non_sequences=h0, n_steps=k)
    # the matrix each row of m gives, and a matrix state
    outer, _ = fc.scan(lambda r, s: s * 0.5 + ft.outer(r, r), sequences=m, outputs_info=ft.eye(3))
    # Theano's tutorial: a polynomial's terms, its coefficients and exponents as sequences
    # (the shortest sets the steps)
    poly, _ = fc.scan(
        lambda c, p, z: c * z**p, sequences=[x, ft.arange(10000)], non_sequences=ft.constant(1.1)
    )
    return [seq_taps, out_taps, mapped, state, back, powers[-1], outer, poly.sum()]


def _numpy_loops(x, m, h0, rows3, k):
    n = len(x)
    seq_taps = np.array([x[t] - 2 * x[t + 2] + 3 * x[t + 5] for t in range(n - 5)])
    vals = list(rows3)
    for t in range(n):
        vals.append(x[t] + 0.5 * vals[-3] - vals[-1])
    mapped, state, h = [], [], h0
    for r in m:
        mapped.append(r @ h)
        h = np.tanh(h * 0.7 + r) + 0.5
        state.append(h)
    back, hb = [], 0.0
    for t in range(4):
        i = n - 2 - t  # the last row every tap reads first: tap 1 at row i + 1 = n - 1
        hb = hb * 0.9 + x[i - 1] * x[i + 1]
        back.append(hb)
    outer, s = [], np.eye(3)
    for r in m:
        s = s * 0.5 + np.outer(r, r)
        outer.append(s)
    poly = sum(c * 1.1**p for p, c in enumerate(x))
    return [seq_taps, vals[3:], mapped, state, back, h0**k, outer, poly]


@pytest.mark.parametrize("linker", ["py", "c"])
def test_every_form_of_the_arguments_is_numpys_loop(linker: str) -> None:
    x, m, h0, rows3, k = ft.dvector("x"), ft.dmatrix("m"), ft.dvector("h0"), ft.dvector("r3"), ft.lscalar("k")
    f = fc.function([x, m, h0, rows3, k], _loops(x, m, h0, rows3, k), mode=fc.Mode(linker))
    rng = _rng(1)
    vals = [rng.normal(size=9), rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3), 4]
    for got, want in zip(f(*vals), _numpy_loops(*vals)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-12)


def test_steps_counts_symbolic_zero_and_the_shortest_sequence() -> None:
    x, y, k = ft.dvector("x"), ft.dvector("y"), ft.lscalar("k")
    csum, _ = fc.scan(lambda a, b, h: h + a * b, sequences=[x, y], outputs_info=ft.constant(0.0))
    upto, _ = fc.scan(lambda a, h: h + a, sequences=x, outputs_info=ft.constant(0.0), n_steps=k)
    count, _ = fc.scan(lambda h: h * 2, outputs_info=ft.constant(1.0), n_steps=k)
    f = fc.function([x, y, k], [csum, upto, count], mode=PY)
    xv, yv = _rng(2).normal(size=6), _rng(3).normal(size=4)
    for kv in (0, 1, 4, 6):
        a, b, c = f(xv, yv, kv)
        np.testing.assert_allclose(a, np.cumsum(xv[:4] * yv))
        np.testing.assert_allclose(b, np.cumsum(xv[:kv]))
        np.testing.assert_array_equal(c, 2.0 ** np.arange(1, kv + 1))
        assert b.shape == c.shape == (kv,) and b.dtype == c.dtype == np.float64
    with pytest.raises(ValueError, match="n_steps is -1; scan runs a non-negative number of steps"):
        f(xv, yv, -1)


def test_integer_and_bool_loops_keep_their_dtypes() -> None:
    v, b = ft.lvector("v"), ft.bvector("b")  # fncache's b letter is bool
    total, _ = fc.scan(lambda a, h: h + a, sequences=v, outputs_info=ft.constant(np.int64(0)))
    prod, _ = fc.scan(
        lambda a, h: h * a, sequences=ft.cast(v + 1, "int32"), outputs_info=ft.constant(np.int32(1))
    )
    seen, _ = fc.scan(lambda a, h: h | a, sequences=b, outputs_info=ft.constant(np.array(False)))
    big, _ = fc.scan(lambda a: a > 3, sequences=v)
    f = fc.function([v, b], [total, prod, seen, big], mode=PY)
    vv, bv = np.arange(7, dtype=np.int64), np.array([0, 0, 1, 0, 1], bool)
    got = f(vv, bv)
    want = [np.cumsum(vv), np.cumprod(vv + 1).astype(np.int32), np.logical_or.accumulate(bv), vv > 3]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_until_stops_after_the_first_step_whose_condition_holds() -> None:
    x, k = ft.dvector("x"), ft.lscalar("k")
    outs = []
    for back in (False, True):
        (mapped, acc), _ = fc.scan(
            lambda xt, h: ((xt * 2, h + xt), fc.until(h + xt > 1.5)),
            sequences=x,
            outputs_info=[None, ft.constant(0.0)],
            go_backwards=back,
            n_steps=k,
        )
        outs += [mapped, acc]
    doubling, _ = fc.scan(
        lambda h: (h * 2, fc.until(h * 2 > 100)), outputs_info=ft.constant(1.0), n_steps=1000
    )
    f = fc.function([x, k], [*outs, doubling], mode=PY)
    xv = np.array([0.5, 0.3, 0.2, 0.4, 0.9, 1.5, 2.0, 0.1])
    for kv in (0, 3, 8):
        got = f(xv, kv)
        for i, rows in enumerate((xv[:kv], xv[::-1][:kv])):
            acc = np.cumsum(rows)
            stop = next((t + 1 for t, s in enumerate(acc) if s > 1.5), kv)
            np.testing.assert_allclose(got[2 * i], rows[:stop] * 2)
            np.testing.assert_allclose(got[2 * i + 1], acc[:stop])
        np.testing.assert_array_equal(got[-1], 2.0 ** np.arange(1, 8))


def test_updates_nested_loops_and_draws() -> None:
    count = fc.shared(np.float64(0.0), "count")
    m = ft.dmatrix("m")

    def row_sum(row):
        # the inner loop's update, returned by the outer step, is applied at every outer step
        inner, upd = fc.scan(lambda e: (e * 2 + count, {count: count + e}), sequences=row)
        return inner.sum(), upd

    sums, updates = fc.scan(row_sum, sequences=m)
    f = fc.function([m], sums, updates=updates, mode=PY)
    mv = np.arange(6.0).reshape(2, 3)
    c, want = 0.0, []
    for row in mv:
        s = 0.0
        for e in row:
            s, c = s + e * 2 + c, c + e
        want.append(s)
    np.testing.assert_allclose(f(mv), want)
    assert count.get_value() == c
    # a draw in fn: new at every step and at every call, the same sequence for the same seed
    draws = []
    for rs in (fc.RandomStream(7), fc.RandomStream(7)):
        values, upd = fc.scan(lambda r=rs: r.normal(0.0, 1.0, size=(3,)), n_steps=400)
        g = fc.function([], values, updates=upd, mode=PY)
        draws.append([g(), g()])
    first, second = draws[0]
    np.testing.assert_array_equal(draws[1][0], first)
    assert first.shape == (400, 3) and not np.array_equal(first, second)
    assert len(np.unique(first)) == first.size
    assert abs(first.mean()) < 0.15 and abs(first.std() - 1.0) < 0.1


# -- gradients ------------------------------------------------------------------------------


def test_gradients_match_finite_differences() -> None:
    """With respect to the sequences, the initial values (rows of an output with taps too) and
    the non-sequences, through taps, go_backwards, a map output, a stop condition and a loop
    in the step."""
    ins = [ft.dmatrix("xs"), ft.dvector("h0"), ft.dmatrix("w"), ft.dvector("rows2"), ft.dscalar("a")]

    def rnn(xs, h0, w, rows2, a):
        def step(lo, hi, h, ww):
            return ft.tanh(ft.dot(h, ww) + lo - 2 * hi)

        hs, _ = fc.scan(step, sequences={"input": xs, "taps": [-1, 1]}, outputs_info=h0, non_sequences=w)
        return hs

    def backwards(xs, h0, w, rows2, a):
        (ys, hs), _ = fc.scan(
            lambda r, h: (ft.dot(r, h), ft.sin(h * a) + r),
            sequences=xs,
            outputs_info=[None, h0],
            go_backwards=True,
            n_steps=3,
        )
        return ys.sum() + hs

    def taps(xs, h0, w, rows2, a):
        hs, _ = fc.scan(
            lambda r, p2, p1: ft.sin(p2 * a) * p1 + r.sum(),
            sequences=xs,
            outputs_info={"initial": rows2, "taps": [-2, -1]},
        )
        return hs

    def stopped(xs, h0, w, rows2, a):
        hs, _ = fc.scan(lambda h: (h * a + 0.1, fc.until(ft.sum(h) > 2.0)), outputs_info=h0, n_steps=50)
        return hs

    def nested(xs, h0, w, rows2, a):
        def outer(row, acc):
            inner, _ = fc.scan(lambda e, s: s * a + e, sequences=row, outputs_info=acc)
            return inner[-1]

        return fc.scan(outer, sequences=xs, outputs_info=ft.constant(0.0))[0]

    rng = _rng(4)
    vals = [
        rng.normal(size=(5, 3)),
        rng.normal(size=3) * 0.5,
        rng.normal(size=(3, 3)) * 0.5,
        rng.normal(size=2),
        np.array(0.9),
    ]
    # the stop condition holds after a few steps, well away from any h crossing 2.0
    vals[1] = np.array([0.3, 0.2, 0.1])
    cases = {
        "rnn": (rnn, [0, 1, 2]),
        "backwards": (backwards, [0, 1, 4]),
        "taps": (taps, [0, 3, 4]),
        "stopped": (stopped, [1, 4]),
        "nested": (nested, [0, 4]),
    }
    fd_check_grads(ins, cases, [vals], mode=PY)


def _truncated_bptt(
    x: np.ndarray, init: np.ndarray, a: float, k: int, taps: tuple = (-1,), weights: tuple = (1.0,)
) -> tuple[np.ndarray, np.ndarray, float]:
    """The gradient of ``sum(h)`` for ``h_t = x_t + a * sum_i weights[i] h_{t + taps[i]}`` (the
    rows of ``init`` the values before the first step, oldest first), backpropagated through the
    last ``k`` steps only (PyTensor's truncate_gradient): d/dx, d/init, d/da."""
    lag, n = len(init), len(x)
    h = np.concatenate([init, np.empty(n)])
    for t in range(lag, lag + n):
        h[t] = x[t - lag] + a * sum(w * h[t + p] for p, w in zip(taps, weights))
    g = np.concatenate([np.zeros(lag), np.ones(n)])  # d sum(h) / d h, over the steps run back
    dx, da = np.zeros(n), 0.0
    for t in range(lag + n - 1, lag + max(n - k, 0) - 1, -1):
        dx[t - lag] = g[t]
        da += g[t] * sum(w * h[t + p] for p, w in zip(taps, weights))
        for p, w in zip(taps, weights):
            g[t + p] += g[t] * a * w
    return dx, g[:lag], da


def test_truncated_gradient_is_numpys_truncated_backpropagation() -> None:
    x, h0, a = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("a")
    outs = []
    for k in (1, 3, 6, 10):
        hs, _ = fc.scan(
            lambda xt, h, aa: aa * h + xt, sequences=x, outputs_info=h0, non_sequences=a, truncate_gradient=k
        )
        outs += fc.grad(hs.sum(), [x, h0, a])
    f = fc.function([x, h0, a], outs, mode=PY)
    xv = _rng(5).normal(size=6)
    got = f(xv, 0.4, 0.8)
    for i, k in enumerate((1, 3, 6, 10)):
        dx, (dh0,), da = _truncated_bptt(xv, np.array([0.4]), 0.8, k)
        for g, w in zip(got[3 * i : 3 * i + 3], (dx, dh0, da)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"truncate_gradient={k}")


def test_truncated_gradient_of_a_stopped_loop_runs_back_from_its_last_step() -> None:
    """The last k steps are those the loop ran: PyTensor 3.0.7 counts them from n_steps
    instead, and gives the rows after the stop the gradient."""
    x, h0, a = ft.dvector("x"), ft.dscalar("h0"), ft.dscalar("a")
    hs, _ = fc.scan(
        lambda xt, h, aa: (aa * h + xt, fc.until(aa * h + xt > 3.0)),
        sequences=x,
        outputs_info=h0,
        non_sequences=a,
        truncate_gradient=2,
    )
    f = fc.function([x, h0, a], [hs, *fc.grad(hs.sum(), [x, h0, a])], mode=PY)
    xv = np.array([0.5, 0.3, 0.2, 0.4, 0.9, 1.5, 2.0, 0.1])
    hv, *grads = f(xv, 0.5, 1.1)
    ran = len(hv)
    assert ran == 5
    dx, (dh0,), da = _truncated_bptt(xv[:ran], np.array([0.5]), 1.1, 2)
    np.testing.assert_allclose(grads[0], np.concatenate([dx, np.zeros(len(xv) - ran)]), rtol=1e-12)
    np.testing.assert_allclose(grads[1:], [dh0, da], rtol=1e-12)


def test_truncated_gradient_reaches_the_initial_rows_of_an_output_with_taps_its_steps_read() -> None:
    """Truncated short of the first step, the last k steps still read the initial rows of an
    output with taps [-3, -1] (or [-2]) when fewer than 3 (2) steps come before them: those
    rows get the gradient (was zero: the states carrying an output's older values counted
    as steps), the others none. Forwards, backwards, with a stop condition, two such outputs
    in one loop."""
    x, r3, r2, a = ft.dvector("x"), ft.dvector("r3"), ft.dvector("r2"), ft.dscalar("a")
    w3, w2 = (0.7, -1.3), (0.6,)

    def one(taps, w, init, k, back=False, stop=None):
        def step(xt, *past):
            h = xt + a * sum(c * p for c, p in zip(w, past))
            return h if stop is None else (h, fc.until(h > stop))

        hs, _ = fc.scan(
            step,
            sequences=x,
            outputs_info={"initial": init, "taps": list(taps)},
            go_backwards=back,
            truncate_gradient=k,
        )
        return [hs, *fc.grad(hs.sum(), [x, init, a])]

    cases = [((-3, -1), w3, r3, k, False) for k in (1, 2, 3, 4, 6)]
    cases += [((-2,), w2, r2, k, False) for k in (2, 4)] + [((-3, -1), w3, r3, 3, True)]
    outs = [v for taps, w, init, k, back in cases for v in one(taps, w, init, k, back)]
    outs += one((-3, -1), w3, r3, 2, stop=2.0)  # h is 0.49, -1.24, 2.5, ...: 3 steps
    # two outputs with taps in one loop (the last two rows of r3 and the last of r2 read),
    # and an output without
    (h3, h2, h1), _ = fc.scan(
        lambda xt, p3, p1, q2, s: (
            xt + a * (w3[0] * p3 + w3[1] * p1),
            xt + a * w2[0] * q2,
            s * a + xt,
        ),
        sequences=x,
        outputs_info=[{"initial": r3, "taps": [-3, -1]}, {"initial": r2, "taps": [-2]}, r2[0]],
        truncate_gradient=4,
    )
    outs += fc.grad(h3.sum() + h2.sum() + h1.sum(), [x, r3, r2, a])
    f = fc.function([x, r3, r2, a], outs, mode=PY)
    xv, r3v, r2v, av = (
        np.array([0.9, -0.4, 1.2, 0.3, -0.8]),
        np.array([0.5, -1.1, 0.8]),
        np.array([1.3, -0.7]),
        0.6,
    )
    got = f(xv, r3v, r2v, av)
    inits = {(-3, -1): r3v, (-2,): r2v}
    for i, (taps, w, _, k, back) in enumerate(cases):
        rows = xv[::-1] if back else xv
        dx, dinit, da = _truncated_bptt(rows, inits[taps], av, k, taps, w)
        want = [dx[::-1] if back else dx, dinit, da]
        for g, wv in zip(got[4 * i + 1 : 4 * i + 4], want):
            np.testing.assert_allclose(g, wv, rtol=1e-12, atol=1e-12, err_msg=f"taps {taps}, k={k}")
    # the cases read: none of r3's rows (k=2), the last (k=3), the last two (k=4)
    reached = [np.flatnonzero(got[4 * i + 2]).tolist() for i in range(1, 4)]
    assert reached == [[], [2], [1, 2]], reached
    hv, *grads = got[4 * len(cases) : 4 * len(cases) + 4]
    ran = len(hv)
    assert ran == 3
    dx, dinit, da = _truncated_bptt(xv[:ran], r3v, av, 2, (-3, -1), w3)
    for g, wv in zip(grads, [np.concatenate([dx, np.zeros(len(xv) - ran)]), dinit, da]):
        np.testing.assert_allclose(g, wv, rtol=1e-12, atol=1e-12, err_msg="until")
    dx3, d3, da3 = _truncated_bptt(xv, r3v, av, 4, (-3, -1), w3)
    dx2, d2, da2 = _truncated_bptt(xv, r2v, av, 4, (-2,), w2)
    dx1, (d1,), da1 = _truncated_bptt(xv, r2v[:1], av, 4)
    want = [dx3 + dx2 + dx1, d3, d2 + np.array([d1, 0.0]), da3 + da2 + da1]
    for g, wv in zip(got[-4:], want):
        np.testing.assert_allclose(g, wv, rtol=1e-12, atol=1e-12, err_msg="three outputs")


# -- bad input --------------------------------------------------------------------------------


def test_n_steps_beyond_a_sequences_rows_is_an_error_naming_scan_the_sequence_and_the_fix() -> None:
    """Theano's documented behaviour: a sequence without the rows of ``n_steps`` steps raises
    (running fewer steps than asked would give fewer rows than the caller counts on)."""
    x, k = ft.dvector("x"), ft.lscalar("k")
    h = ft.constant(0.0)
    # known when the graph is built: refused by scan itself
    with pytest.raises(ValueError, match=r"scan: n_steps is 9 but sequences\[0\] has 7 rows.*n_steps <= 7"):
        fc.scan(lambda a, s: s + a, sequences=ft.constant(np.zeros(7)), outputs_info=h, n_steps=9)
    with pytest.raises(ValueError, match=r"sequences\[1\] has 6 rows.*taps \[-1, 1\].*n_steps <= 4"):
        fc.scan(
            lambda a, lo, hi: a + lo * hi,
            sequences=[ft.constant(np.zeros(9)), {"input": ft.constant(np.zeros(6)), "taps": [-1, 1]}],
            n_steps=5,
        )
    # known when it runs: the function raises, for recurrent and map outputs, either direction
    xv = np.arange(7.0)
    for back in (False, True):
        rec, _ = fc.scan(lambda a, s: s + a, sequences=x, outputs_info=h, n_steps=k, go_backwards=back)
        mapped, _ = fc.scan(lambda a: a * 2, sequences=x, n_steps=9, go_backwards=back)
        f = fc.function([x, k], rec, mode=PY)
        np.testing.assert_allclose(f(xv, 7), np.cumsum(xv[::-1] if back else xv))
        with pytest.raises(
            ValueError, match=r"scan: n_steps is 8 but sequences\[0\] has 7 rows.*n_steps <= 7"
        ):
            f(xv, 8)
        with pytest.raises(ValueError, match=r"n_steps is 9 but sequences\[0\] has 7 rows"):
            fc.function([x], mapped, mode=PY)(xv)
    ck, _ = fc.scan_checkpoints(lambda a, s: s + a, sequences=x, outputs_info=h, n_steps=k, save_every_N=3)
    g = fc.function([x, k], ck, mode=PY)
    np.testing.assert_allclose(g(xv, 7), np.cumsum(xv)[[2, 5, 6]])
    with pytest.raises(ValueError, match=r"scan_checkpoints: n_steps is 8 but sequences\[0\] has 7 rows"):
        g(xv, 8)


def test_scan_checkpoints_takes_n_steps_as_scan_does() -> None:
    """A negative or fractional count ran zero or fewer steps silently, or raised reshape's
    error."""
    h, x, k = ft.constant(1.0), ft.dvector("x"), ft.lscalar("k")
    for bad, kind in ((-1, ValueError), (3.5, TypeError), (ft.dscalar("d"), TypeError)):
        with pytest.raises(kind, match="scan_checkpoints: n_steps must be"):
            fc.scan_checkpoints(lambda s: s * 2, outputs_info=h, n_steps=bad, save_every_N=3)
    for seqs in (None, x):
        step = (lambda s: s * 2) if seqs is None else (lambda a, s: s * 2)
        ck, _ = fc.scan_checkpoints(step, sequences=seqs, outputs_info=h, n_steps=k, save_every_N=3)
        f = fc.function([x, k], ck, mode=PY, on_unused_input="ignore")
        np.testing.assert_array_equal(f(np.zeros(9), 7), [8.0, 64.0, 128.0])
        with pytest.raises(
            ValueError, match="scan_checkpoints: n_steps is -1; scan_checkpoints runs a non-neg"
        ):
            f(np.zeros(9), -1)


def test_an_error_in_a_step_names_the_loop_the_step_and_what_it_was_given() -> None:
    m, h0 = ft.dmatrix("m"), ft.dvector("h0")
    hs, _ = fc.scan(lambda r, h: h + r, sequences=m, outputs_info=h0, name="acc")
    f = fc.function([m, h0], hs, mode=PY)
    np.testing.assert_allclose(f(np.ones((4, 3)), np.zeros(3)), np.cumsum(np.ones((4, 3)), axis=0))
    with pytest.raises(ValueError, match="cannot be broadcast") as e:
        f(np.ones((4, 3)), np.zeros(2))
    note = "\n".join(getattr(e.value, "__notes__", []))
    assert "step 0 of Scan{acc}" in note and "float64[3]" in note and "float64[2]" in note, note
    assert "outputs_info" in note, note


def test_outputs_info_and_step_results_that_disagree_are_errors_naming_scan_and_the_fix() -> None:
    x, h0, hv = ft.dvector("x"), ft.dscalar("h0"), ft.dvector("hv")
    with pytest.raises(
        TypeError, match=r"output 0 of fn is .*float32.*outputs_info\[0\].*ft.cast\(\.\.\., 'float64'\)"
    ):
        fc.scan(lambda a, h: ft.cast(h + a, "float32"), sequences=x, outputs_info=h0)
    # another number of dimensions is no cast away: the error says what shape to return
    with pytest.raises(TypeError, match=r"output 0 of fn has 0 dimensions but its initial value.*has 1") as e:
        fc.scan(lambda a, h: h.sum() + a, sequences=x, outputs_info=hv)
    assert "ft.cast" not in str(e.value)
    with pytest.raises(TypeError, match=r"output 0 of fn has shape \(4,\) but its initial value.*\(3,\)"):
        fc.scan(lambda a, h: ft.zeros(4) + a, sequences=x, outputs_info=ft.zeros(3))
    with pytest.raises(ValueError, match="fn returned 2 outputs but outputs_info has 1 entries"):
        fc.scan(lambda a, h: [h + a, h - a], sequences=x, outputs_info=h0)
    with pytest.raises(ValueError, match="fn returned 1 outputs but outputs_info has 2 entries"):
        fc.scan(lambda a, h, g: h + a, sequences=x, outputs_info=[h0, h0])
    grow, _ = fc.scan(lambda a, h: ft.concatenate([h, ft.stack([a])]), sequences=x, outputs_info=hv)
    with pytest.raises(ValueError, match=r"step 0 returned output 0 as float64\[4\], expected float64\[3\]"):
        fc.function([x, hv], grow, mode=PY)(np.ones(3), np.zeros(3))


def test_strict_refuses_the_shared_variables_fn_is_not_given_only() -> None:
    """Theano's and PyTensor's strict=True: every shared variable fn reads must be passed in
    non_sequences; a symbolic variable fn closes over is the loop's input as without it."""
    x, a = ft.dvector("x"), ft.dscalar("a")
    w = fc.shared(np.float64(3.0), "w")
    scaled, _ = fc.scan(lambda xt: xt * a, sequences=x, strict=True)
    passed, _ = fc.scan(lambda xt, ww: xt * ww * a, sequences=x, non_sequences=[w], strict=True)
    xv = np.arange(4.0)
    got = fc.function([x, a], [scaled, passed], mode=PY)(xv, 2.0)
    np.testing.assert_allclose(got, [xv * 2.0, xv * 6.0])
    with pytest.raises(ValueError, match="strict=True and fn reads w, a shared variable.*non_sequences"):
        fc.scan(lambda xt: xt * w, sequences=x, strict=True)


# -- PyTensor ---------------------------------------------------------------------------------


def test_pytensor_gives_the_same_values_and_gradients() -> None:
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")

    def build(T, scan, grad):
        x, m, h0, r3, a = T.dvector("x"), T.dmatrix("m"), T.dvector("h0"), T.dvector("r3"), T.dscalar("a")
        seq, _ = scan(lambda p, c, n: p * c - n * a, sequences=[{"input": x, "taps": [-2, 0, 3]}])
        out, _ = scan(
            lambda xt, t3, t1, aa: T.sin(aa * t3) - t1 + xt,
            sequences=x,
            outputs_info=[{"initial": r3, "taps": [-3, -1]}],
            non_sequences=a,
        )
        (ys, hs), _ = scan(
            lambda r, h: (T.dot(r, h), T.tanh(h * a + r)),
            sequences=m,
            outputs_info=[None, h0],
            go_backwards=True,
            truncate_gradient=2,
        )
        cost = (seq**2).sum() + (out * T.arange(out.shape[0])).sum() + ys.sum() + (hs**2).sum()
        return [x, m, h0, r3, a], [seq, out, ys, hs, *grad(cost, [x, m, h0, r3, a])]

    rng = _rng(6)
    vals = [
        rng.normal(size=8),
        rng.normal(size=(4, 3)),
        rng.normal(size=3),
        rng.normal(size=3),
        np.array(0.6),
    ]
    ins, outs = build(ft, fc.scan, fc.grad)
    got = fc.function(ins, outs, mode=PY)(*vals)
    p_ins, p_outs = build(
        pt, lambda *a, **k: (pytensor.scan(*a, return_updates=False, **k), {}), pytensor.grad
    )
    want = pytensor.function(p_ins, p_outs)(*vals)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")


def test_pytensor_gives_the_same_truncated_gradient_to_the_initial_rows_of_outputs_with_taps() -> None:
    """Two outputs with taps read by each other's steps, forwards and backwards, truncated
    short of the first step: the initial rows the last steps read get PyTensor's gradient;
    a state fn itself passes along unchanged (c) gets none, as PyTensor's."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")

    def build(T, scan, grad):
        x, r3, r2, a, c = T.dvector("x"), T.dvector("r3"), T.dmatrix("r2"), T.dscalar("a"), T.dscalar("c")
        outs = []
        for back, k in ((False, 3), (True, 4)):
            h, q, _ = scan(
                lambda xt, h3, h1, q2, cc, aa: (
                    T.tanh(aa * h3 - h1 * q2.sum() + xt * cc),
                    T.sin(q2 * h1 + aa),
                    cc,
                ),
                sequences=x,
                outputs_info=[{"initial": r3, "taps": [-3, -1]}, {"initial": r2, "taps": [-2]}, c],
                non_sequences=a,
                go_backwards=back,
                truncate_gradient=k,
            )
            outs += grad((h * T.arange(1, 6)).sum() + (q**2).sum(), [x, r3, r2, a, c])
        return [x, r3, r2, a, c], outs

    rng = _rng(8)
    vals = [rng.normal(size=5), rng.normal(size=3), rng.normal(size=(2, 2)), np.array(0.8), np.array(1.2)]
    ins, outs = build(ft, lambda *a, **k: fc.scan(*a, **k)[0], fc.grad)
    got = fc.function(ins, outs, mode=PY)(*vals)
    p_ins, p_outs = build(pt, lambda *a, **k: pytensor.scan(*a, return_updates=False, **k), pytensor.grad)
    want = pytensor.function(p_ins, p_outs, mode="FAST_COMPILE")(*vals)
    # read: r3's last row (3 steps of 5), r3's last two and r2's last (4 of 5); c: none
    reached = [np.flatnonzero(want[i]).tolist() for i in (1, 2, 4, 6, 7, 9)]
    assert reached == [[2], [], [], [1, 2], [2, 3], []], reached
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")
