"""Memory relationships of compiled functions: what a call returns is the caller's alone.

A function never writes into the arrays it is given, never returns one of them (or a view of
one, of a shared value or of a constant) without a copy, never returns one array twice, and an
output of one call stays as it was through the calls that follow, also when the run-time takes
its next outputs from the pool of freed large buffers (256 KiB and up) or updates a shared
variable in place of another. These tests check that on random small graphs of the ops that
rewrite or compute in place or return views (elementwise chains, set/inc_subtensor with repeated
indices, transposes, reversals, reshapes, dot), on inputs of every memory layout numpy makes,
in both back ends, against numpy computing the same.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.graph.basic import Apply, Op

from fcutil import MODES

RNG_SEED = 20261205


def _assert_own(outs: list[np.ndarray], others: list[Any], what: str) -> None:
    """No output shares memory with ``others`` (inputs, shared values) or another output."""
    for k, o in enumerate(outs):
        assert type(o) is np.ndarray and o.flags.writeable, f"{what}: output {k} is {type(o)}, {o.flags}"
        for j, a in enumerate(others):
            if isinstance(a, np.ndarray):
                assert not np.shares_memory(o, a), f"{what}: output {k} shares memory with input {j}"
        for j in range(k):
            assert not np.shares_memory(o, outs[j]), f"{what}: output {k} shares memory with output {j}"


# -- ops that give part of their input's memory --------------------------------------------------


class Flip(Op):
    """Returns a view of its input (its first axis reversed) and declares no view_map: an op
    written as Theano's users write theirs, forgetting the declaration."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0][::-1]]


class Twice(Op):
    """Returns one new array as both of its outputs."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        r = inputs[0] * 2
        return [r, r]


class AsMatrix(Op):
    """Returns its input doubled as an ``np.matrix``, an ndarray subclass whose ``*``, ``sum``
    and indexing are not numpy's arrays' own."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asmatrix(inputs[0] * 2)]


class Table(Op):
    """Returns one read-only array it keeps, the same at every call (a table of constants,
    write-protected so no caller changes it)."""

    __props__ = ()

    def __init__(self) -> None:
        self.table = np.arange(3.0)
        self.table.setflags(write=False)

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [self.table]


@pytest.mark.parametrize("mode", MODES)
def test_real_and_imag_of_a_complex_value_are_arrays_of_their_own(mode: str) -> None:
    # Before: numpy's real and imag are views of the complex array, and the elementwise op
    # returned them as they were: writing the result of f() wrote into the shared variable.
    z = ft.zmatrix("z")
    s = fc.shared(np.arange(6.0).reshape(2, 3) * (1 + 2j), "s")
    f = fc.function([z], [ft.real(z), ft.imag(z), ft.real(s), ft.imag(s), ft.real(z).T], mode=mode)
    zv = np.arange(6.0).reshape(2, 3) * (3 - 1j)
    keep_z, keep_s = zv.copy(), s.get_value()
    outs = f(zv)
    _assert_own(outs, [zv, s.get_value(borrow=True)], f"real/imag ({mode})")
    for o in outs:
        o[...] = -7.0
    np.testing.assert_array_equal(zv, keep_z)
    np.testing.assert_array_equal(s.get_value(), keep_s)
    np.testing.assert_array_equal(f(zv)[3], keep_s.imag)


@pytest.mark.parametrize("mode", MODES)
def test_an_op_that_returns_an_undeclared_view_gives_a_copy(mode: str) -> None:
    # Before: the linkers took the op's word (no view_map) and returned its view of the input.
    x = ft.dvector("x")
    f = fc.function([x], [Flip()(x), *Twice()(x), Flip()(x * 2.0) + 1.0], mode=mode)
    xv = np.arange(4.0)
    outs = f(xv)
    _assert_own(outs, [xv], f"undeclared views ({mode})")
    np.testing.assert_array_equal(outs[0], xv[::-1])
    outs[0][...] = 9.0
    outs[1][...] = 9.0
    np.testing.assert_array_equal(xv, np.arange(4.0))
    np.testing.assert_array_equal(outs[2], xv * 2)
    np.testing.assert_array_equal(outs[3], xv[::-1] * 2 + 1)


# -- random graphs on inputs of every layout -----------------------------------------------------

#: square sizes: small, then past the pool's 256 KiB (190x190 float64) and its 4 MiB huge-page
#: size (730x730)
SIZES = (3, 5, 190, 730)


def _random_graph(rng: np.random.Generator, n: int, depth: int) -> tuple[list[Any], list[Any], Callable]:
    """Two n x n float64 inputs, outputs of them built from ops that compute in place or return
    views, and the numpy function of the two arrays computing the same values."""
    x, y = ft.dmatrix("x"), ft.dmatrix("y")
    idx = rng.integers(0, n, size=min(4, n))
    idx[1] = idx[0]  # a repeated index: set_subtensor keeps the last, inc_subtensor adds both
    made: list[tuple[Any, Callable]] = [(x, lambda a, b: a), (y, lambda a, b: b)]

    def set_rows(s1: Any, s2: Any) -> Any:
        return ft.set_subtensor(s1[idx], s2[: len(idx)] * 3)

    def np_set_rows(r: np.ndarray, q: np.ndarray) -> np.ndarray:
        r = r.copy()
        r[idx] = q[: len(idx)] * 3
        return r

    def np_inc_rows(r: np.ndarray, q: np.ndarray) -> np.ndarray:
        r = r.copy()
        np.add.at(r, (idx, slice(1, None)), np.sin(q[: len(idx), 1:]))
        return r

    def np_set_block(r: np.ndarray, q: np.ndarray) -> np.ndarray:
        r = r.copy()
        r[1:, :2] = q[:-1, -2:]
        return r

    # (symbolic of two operands, numpy of two operand values)
    kinds: list[tuple[Callable, Callable]] = [
        (lambda s, t: ft.tanh(s) * 2 + 1, lambda p, q: np.tanh(p) * 2 + 1),
        (lambda s, t: s + t, lambda p, q: p + q),
        (lambda s, t: s * t - s, lambda p, q: p * q - p),
        (lambda s, t: s.T, lambda p, q: p.T),
        (lambda s, t: s[::-1, :], lambda p, q: p[::-1, :]),
        (lambda s, t: s.T.reshape((n * n,)).reshape((n, n)), lambda p, q: p.T.reshape(-1).reshape(n, n)),
        (set_rows, np_set_rows),
        (lambda s, t: ft.inc_subtensor(s[idx, 1:], ft.sin(t[: len(idx), 1:])), np_inc_rows),
        (lambda s, t: ft.tanh(ft.dot(s, t) / n), lambda p, q: np.tanh(p @ q / n)),
        (
            lambda s, t: s.dimshuffle(1, 0) - t.sum(axis=0).dimshuffle("x", 0),
            lambda p, q: p.T - q.sum(axis=0),
        ),
        (lambda s, t: ft.set_subtensor(s[1:, :2], t[:-1, -2:]), np_set_block),
    ]
    for _ in range(depth):
        (s1, f1), (s2, f2) = made[rng.integers(len(made))], made[rng.integers(len(made))]
        sym, num = kinds[rng.integers(len(kinds))]
        made.append((sym(s1, s2), lambda a, b, num=num, f1=f1, f2=f2: num(f1(a, b), f2(a, b))))
    chosen = [made[-1]] + [made[int(i)] for i in rng.integers(0, len(made), size=int(rng.integers(0, 3)))]
    return [x, y], [s for s, _ in chosen], lambda a, b: [f(a, b) for _, f in chosen]


def _layouts(a: np.ndarray, tmp_path: Any) -> dict[str, Any]:
    """Values of ``a``'s numbers (a zero-stride one: of its first row) in each memory layout a
    caller may give: every one is read as it is or converted, never written."""
    wide = np.zeros((a.shape[0], 2 * a.shape[1]))
    wide[:, 1::2] = a
    readonly = a.copy()
    readonly.setflags(write=False)
    raw = bytearray(a.nbytes + 1)
    unaligned = np.frombuffer(raw, dtype=np.float64, count=a.size, offset=1).reshape(a.shape)
    unaligned[...] = a
    mapped = np.memmap(tmp_path / "a.bin", dtype=np.float64, mode="w+", shape=a.shape)
    mapped[...] = a
    return {
        "C": a.copy(),
        "Fortran": np.asfortranarray(a),
        "strided": wide[:, 1::2],
        "negative strides": a[::-1, ::-1].copy()[::-1, ::-1],
        "zero strides": np.broadcast_to(a[:1], a.shape),
        "read-only": readonly,
        "unaligned": unaligned,
        "big-endian": a.astype(">f8"),
        "np.matrix": np.asmatrix(a),
        "memmap": mapped,
        "list": a.tolist(),
    }


def _snapshot(values: list[Any]) -> list[bytes]:
    """The bytes of each array given (its whole buffer for a view of a bytearray)."""
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            base = v.base if isinstance(v.base, bytearray) else None
            out.append(
                bytes(base)
                if base is not None
                else np.array(v, copy=True).tobytes() + repr(v.strides).encode()
            )
        else:
            out.append(repr(v).encode())
    return out


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("mode", MODES)
def test_random_graphs_match_numpy_on_every_layout(mode: str, tmp_path: Any) -> None:
    """Each random graph on inputs of every layout, and on one array given as both inputs:
    numpy's values, the inputs unchanged byte for byte, outputs of their own, and every
    call's outputs unchanged by the calls after it (which take freed large buffers back)."""
    for seed in range(6):
        rng = np.random.default_rng(RNG_SEED + seed)
        n = SIZES[seed % len(SIZES)]
        ins, outs, ref = _random_graph(rng, n, depth=int(rng.integers(2, 7)))
        f = fc.function(ins, outs, mode=mode, on_unused_input="ignore")
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        given = _layouts(a, tmp_path) if n < 100 else {"C": a.copy(), "Fortran": np.asfortranarray(a)}
        calls = []
        for name, av in given.items():
            for bv in (b.copy(), av):
                what = f"seed {seed}, n={n}, x {name}{', y the same array' if bv is av else ''} ({mode})"
                before = _snapshot([av, bv])
                got = f(av, bv)
                assert _snapshot([av, bv]) == before, f"{what}: an input changed"
                want = ref(np.array(av, dtype=np.float64), np.array(bv, dtype=np.float64))
                for k, (g, w) in enumerate(zip(got, want)):
                    np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"{what}: output {k}")
                _assert_own(got, [av, bv], what)
                calls.append((what, got, [g.copy() for g in got]))
        for what, got, kept in calls:
            for k, (g, c) in enumerate(zip(got, kept)):
                np.testing.assert_array_equal(g, c, err_msg=f"{what}: output {k} changed by later calls")


# -- inputs that overlap -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [10, 100_000])
def test_inputs_that_overlap_are_read_as_they_were(mode: str, n: int) -> None:
    """One buffer given as both inputs, or as two views one element apart (either way round, or
    one reversed), to graphs a back end may compute in place: numpy's values, and the buffer
    unchanged."""
    x, y = ft.dvector("x"), ft.dvector("y")
    i = np.array([0, 1, 1, 0])
    graphs = [
        ([ft.exp(x) * 2 + y, (x + 1) * (y - 1)], lambda a, b: [np.exp(a) * 2 + b, (a + 1) * (b - 1)]),
        ([ft.set_subtensor((x * 2)[1:], y[:-1] * 3)], lambda a, b: [np.concatenate([a[:1] * 2, b[:-1] * 3])]),
        ([ft.inc_subtensor((x + 0.5)[i], y[:4])], lambda a, b: [_add_at(a + 0.5, i, b[:4])]),
        (
            [ft.cumsum(x * 2) + y, ft.dot(x * 2, y + 1) + x],
            lambda a, b: [np.cumsum(a * 2) + b, (a * 2) @ (b + 1) + a],
        ),
    ]
    f = fc.function([x, y], [o for outs, _ in graphs for o in outs], mode=mode)
    base = np.random.default_rng(RNG_SEED).standard_normal(n + 1)
    pairs = {
        "the same array": (base[:n], base[:n]),
        "y one element after x": (base[:n], base[1:]),
        "x one element after y": (base[1:], base[:n]),
        "y x reversed": (base[:n], base[:n][::-1]),
    }
    for name, (a, b) in pairs.items():
        keep = base.copy()
        want = [w for _, ref in graphs for w in ref(a.copy(), b.copy())]
        got = f(a, b)
        np.testing.assert_array_equal(base, keep, err_msg=f"{name} ({mode}): the buffer changed")
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10, err_msg=f"{name} ({mode}): output {k}")
        _assert_own(got, [base], f"{name} ({mode})")


def _add_at(r: np.ndarray, i: np.ndarray, v: np.ndarray) -> np.ndarray:
    np.add.at(r, i, v)
    return r


# -- outputs through later calls -----------------------------------------------------------------


@pytest.mark.parametrize(("mode", "allow_gc"), [*((m, True) for m in MODES), ("FAST_RUN", False)])
def test_outputs_stay_as_returned_through_later_calls(mode: str, allow_gc: bool) -> None:
    """Outputs of every size (above the pool's 256 KiB and its 4 MiB), an output listed twice,
    a view of another, and ones that are the inputs themselves: each call's unchanged by the
    calls, and the ``f.fn()`` re-runs, after it; kept buffers (allow_gc=False) included."""
    x, y = ft.dvector("x"), ft.dvector("y")
    t = ft.exp(x) + y
    outs = [t * 2, t * 2, (t + 1)[::-1], ft.set_subtensor(t[1:3], x[:2]), x, y[::-1], t]
    with fc.config.change_flags(allow_gc=allow_gc):
        f = fc.function([x, y], outs, mode=mode)
    rng = np.random.default_rng(RNG_SEED)
    calls = []
    for n in (7, 40_000, 700_000):
        for _ in range(2):
            a, b = rng.standard_normal(n), rng.standard_normal(n)
            tt = np.exp(a) + b
            block = tt.copy()
            block[1:3] = a[:2]
            want = [tt * 2, tt * 2, (tt + 1)[::-1], block, a.copy(), b[::-1].copy(), tt]
            got = f(a, b)
            _assert_own(got, [a, b], f"n={n} ({mode})")
            calls.append((got, want))
            again = f.fn(2)
            for g in got:
                assert not any(np.shares_memory(g, h) for h in again), (
                    f"n={n}: a re-run returned a buffer again"
                )
            calls.append((again, want))
    for k, (got, want) in enumerate(calls):
        for j, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"call {k}, output {j} ({mode})")


# -- updates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [5, 70_000])
def test_updates_read_the_values_before_the_call(mode: str, n: int) -> None:
    """Every update reads the values before the call (a <- a + b, b <- a), an update may be an
    input's array, an output may be an updated variable, two functions share a variable, and
    set/inc_subtensor on the updated variable with repeated indices: numpy's values, and an
    array a caller holds (a get_value(borrow=True), an input, an earlier output) unchanged."""
    rng = np.random.default_rng(RNG_SEED + n)
    a0, b0 = rng.standard_normal(n), rng.standard_normal(n)
    a, b = fc.shared(a0.copy(), "a"), fc.shared(b0.copy(), "b")
    x, i = ft.dvector("x"), ft.lvector("i")

    swap = fc.function([], [a + 0, b * 1, a], updates=[(a, a + b), (b, a)], mode=mode)
    held = [(a.get_value(borrow=True), a.get_value()), (b.get_value(borrow=True), b.get_value())]
    va, vb = a0.copy(), b0.copy()
    results = []
    for _ in range(3):
        results.append((swap(), [va, vb, va]))
        va, vb = va + vb, va
        np.testing.assert_allclose(a.get_value(), va, rtol=1e-12)
        np.testing.assert_allclose(b.get_value(), vb, rtol=1e-12)
    for got, want in results:
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"an earlier output changed ({mode})")
        _assert_own(got, [a.get_value(borrow=True), b.get_value(borrow=True)], f"swap ({mode})")

    take = fc.function([x], [x, a], updates=[(a, x)], mode=mode)
    xv = rng.standard_normal(n)
    kept = xv.copy()
    got = take(xv)
    xv[0] = 99.0
    np.testing.assert_array_equal(a.get_value(), kept)
    np.testing.assert_array_equal(got[0], kept)
    got[0][...] = 7.0
    np.testing.assert_array_equal(a.get_value(), kept)

    idx = np.array([0, 1, 1, 3 % n, 0])
    v0, w0 = a.get_value(), b.get_value()
    scatter = fc.function(
        [i, x],
        [a[i]],
        updates=[(a, ft.set_subtensor(a[i], x[:5])), (b, ft.inc_subtensor(b[i], a[i] * x[:5]))],
        mode=mode,
    )
    held.append((a.get_value(borrow=True), a.get_value()))
    xv = rng.standard_normal(n)
    got = scatter(idx, xv)
    want_a, want_b = v0.copy(), w0.copy()
    want_a[idx] = xv[:5]
    np.add.at(want_b, idx, v0[idx] * xv[:5])
    np.testing.assert_array_equal(a.get_value(), want_a)
    np.testing.assert_allclose(b.get_value(), want_b, rtol=1e-12)
    np.testing.assert_array_equal(got[0], v0[idx])

    step = fc.function([x], a * 1 + x, updates=[(a, a * 2 + x)], mode=mode)
    read = fc.function([], a * 3, mode=mode)
    va = a.get_value(borrow=True)
    held.append((va, va.copy()))
    got = step(va)  # the variable's own array as the input of the call that replaces it
    np.testing.assert_allclose(got, held[-1][1] * 2, rtol=1e-12)
    np.testing.assert_allclose(read(), held[-1][1] * 9, rtol=1e-12)
    for borrowed, copy in held:
        np.testing.assert_array_equal(borrowed, copy, err_msg=f"a value the caller holds changed ({mode})")


@pytest.mark.parametrize("mode", MODES)
def test_a_re_run_reads_the_last_inputs_as_they_are_now(mode: str) -> None:
    # Before: FAST_COMPILE's f.fn() re-ran on the copy it had converted an unaligned or
    # big-endian input to, so it missed the caller's later writes that it saw in an aligned
    # input, and that FAST_RUN (which converts again) saw in every input.
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) + 1, mode=mode)
    raw = bytearray(8 * 5 + 1)
    unaligned = np.frombuffer(raw, dtype=np.float64, count=5, offset=1)
    for given in (np.arange(5.0), unaligned, np.arange(5.0).astype(">f8"), [0.0, 1.0, 2.0, 3.0, 4.0]):
        if isinstance(given, np.ndarray):
            given[...] = np.arange(5.0)
        np.testing.assert_allclose(f(given), np.exp(np.arange(5.0)) + 1)
        given[0] = -3.0
        np.testing.assert_allclose(f.fn(), np.exp(np.array([-3.0, 1, 2, 3, 4])) + 1, err_msg=f"{type(given)}")


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("mode", MODES)
def test_an_op_that_returns_an_array_subclass_gives_plain_arrays(mode: str) -> None:
    # Before: the value went on as the op's np.matrix: FAST_COMPILE's sum(axis=0) and m[0]
    # gave (1, 2) matrices for (2,) arrays, and both back ends returned np.matrix outputs.
    x = ft.dmatrix("x")
    m = AsMatrix()(x)
    f = fc.function([x], [m, m * m, m.sum(axis=0), m[0], ft.dot(m, m), ft.sort(m * x, axis=1)], mode=mode)
    a = np.arange(4.0).reshape(2, 2)
    d = a * 2
    for k, (got, want) in enumerate(
        zip(f(a), [d, d * d, d.sum(axis=0), d[0], d @ d, np.sort(d * a, axis=1)])
    ):
        assert type(got) is np.ndarray, f"output {k} is a {type(got).__name__} ({mode})"
        assert got.shape == want.shape, f"output {k} ({mode})"
        np.testing.assert_allclose(got, want, err_msg=f"output {k} ({mode})")


@pytest.mark.parametrize("mode", MODES)
def test_a_read_only_value_an_op_keeps_is_returned_as_a_writeable_copy(mode: str) -> None:
    # Before: FAST_RUN returned the op's own read-only table (FAST_COMPILE a copy), so a caller
    # could not write into that output, and every call returned the same array.
    x = ft.dvector("x")
    op = Table()
    f = fc.function([x], [op(x), op(x)[::-1]], mode=mode)
    first = f(np.zeros(3))
    second = f(np.zeros(3))
    _assert_own(first + second, [op.table], f"a kept table ({mode})")
    first[0][...] = 7.0
    np.testing.assert_array_equal(second[0], np.arange(3.0))
    np.testing.assert_array_equal(first[1], [2.0, 1.0, 0.0])
