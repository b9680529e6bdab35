"""fc.RandomStream: Philox4x64-10 (checked against Random123's known answers and numpy's own
Philox) keyed by (seed, variable number), counter (element block, call number); the call
counter carried in a shared variable. The same seed gives the same numbers -- a committed
regression hash -- in both modes, with 1, 2 or 3 threads, for any chunk of a draw, on a cache
hit in another process, after a pickle round trip and in a process run as an older CPU."""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen.c_linker import runtime
from fncache.tensor.random import STREAM_FORMAT, RandomVariable
from fcutil import MODES

SEED = 1234
M64 = (1 << 64) - 1
#: sha256 (16 hex digits) of two calls of _graph(RandomStream(SEED)) at n=5 (see _digest): a
#: change of the generator, the counter layout or a transform changes it, and must come with a
#: new STREAM_FORMAT.
REGRESSION = "ae1e52625886d46e"
#: the same for one call of _large(RandomStream(SEED)) after _graph
REGRESSION_LARGE = "50d3a6d16cc49489"


def _graph(rs: "fc.RandomStream"):
    n = ft.lscalar("n")
    return [n], [
        rs.uniform(-1, 2, size=(n, 3)),
        rs.normal(1.5, 2.0, size=(n,)),
        rs.integers(-5, 5, size=(2, n), dtype="int16"),
        rs.choice(10, size=4, replace=False),
        rs.permutation(7),
        rs.normal(size=(n,), dtype="float32"),
        rs.choice(np.array([1.5, 2.5, 3.5]), size=(n,), p=np.array([0.2, 0.3, 0.5])),
        rs.integers(0, 2**64, size=(n,), dtype="uint64"),
        rs.uniform(np.array([0.0, 10.0]), 11.0, size=(n, 2), dtype="float32"),
        rs.choice(6, size=3, replace=False, p=np.array([0.1, 0.2, 0.3, 0.4, 0, 0])),
    ]


def _large(rs: "fc.RandomStream"):
    """Draws large enough to take the ziggurat's wedges and tail (fncache's exp and log) and to
    be split over threads."""
    return [
        rs.normal(size=200_001),
        rs.normal(3.0, 2.0, size=100_003, dtype="float32"),
        rs.choice(20_000, size=5_000, replace=False, p=np.full(20_000, 1 / 20_000)),
        rs.uniform(size=70_001),
        rs.integers(-(10**15), 3 * 2**61, size=50_001),
    ]


def _digest(calls: list[list[np.ndarray]]) -> str:
    h = hashlib.sha256()
    for outs in calls:
        for o in outs:
            h.update(f"{o.dtype}{o.shape}".encode())
            h.update(np.ascontiguousarray(o).tobytes())
    return h.hexdigest()[:16]


def _same(got: list, want: list, what: str) -> None:
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == np.asarray(w).dtype, f"{what} output {k}: {g.dtype}"
        np.testing.assert_array_equal(g, w, err_msg=f"{what} output {k}")


# -- the generator -----------------------------------------------------------------------------

#: Random123's kat_vectors for philox4x64-10: counter, key, the block
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B)),
    (
        (M64, M64, M64, M64),
        (M64, M64),
        (0x87B092C3013FE90B, 0x438C3C67BE8D0224, 0x9CC7D7C69CD777B6, 0xA09CAEBF594F0BA0),
    ),
    (
        (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89),
        (0x452821E638D01377, 0xBE5466CF34E90C6C),
        (0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6),
    ),
]


@pytest.mark.parametrize("counter,key,block", KAT)
def test_philox_gives_random123s_known_answers(counter, key, block) -> None:
    assert runtime().philox(counter, key) == block


def test_philox_is_numpys_philox() -> None:
    """numpy's Philox (4x64-10) adds one to its counter before each block."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        c = [int(v) for v in rng.integers(0, 2**63, 4, dtype=np.uint64)]
        k = [int(v) for v in rng.integers(0, 2**63, 2, dtype=np.uint64)]
        want = np.random.Philox(counter=c, key=k).random_raw(4)
        assert runtime().philox((c[0] + 1, *c[1:]), tuple(k)) == tuple(int(w) for w in want)


def _word(key: tuple[int, int], call: int, i: int) -> int:
    """Element i's first word: word i % 4 of the block at counter (i // 4, call, 0, 0)."""
    return runtime().philox((i // 4, call, 0, 0), key)[i % 4]


def test_uniform_and_integers_are_the_documented_function_of_the_counter() -> None:
    """Element i from its own word (a model in Python): u = (w >> 11) / 2**53, and Lemire's
    (w * m) >> 64 when the low half is not rejected."""
    rs = fc.RandomStream(SEED)
    u, i = rs.uniform(-1.0, 3.0, size=999), rs.integers(10, 17, size=999)
    f = fc.function([], [u, i])
    for call in range(2):
        got_u, got_i = f()
        for j in (0, 1, 2, 3, 4, 5, 500, 997, 998):
            w = _word((SEED, 0), call, j)
            assert got_u[j] == -1.0 + 4.0 * ((w >> 11) * 2.0**-53)
            w = _word((SEED, 1), call, j)
            assert (w * 7) % 2**64 >= 2**64 % 7 and got_i[j] == 10 + (w * 7 >> 64)


def test_normal_is_the_documented_ziggurat() -> None:
    """The fast path in a Python model: strip = w & 255, sign = bit 8, magnitude = bits 9-60,
    z = +-magnitude * width[strip] when magnitude < k[strip], the tables of Marsaglia and
    Tsang's recurrence for 256 strips (here with Python's exp and log, equal to fncache's own
    to a few ulps)."""
    r, v, m = 3.6541528853610088, 0.004928673233974658, 2.0**52
    dn = tn = r
    k, width = [0] * 256, [0.0] * 256
    k[0], width[0], width[255] = (
        int(r / (v / math.exp(-0.5 * r * r)) * m),
        v / math.exp(-0.5 * r * r) / m,
        r / m,
    )
    for i in range(254, 0, -1):
        dn = math.sqrt(-2 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1], tn, width[i] = int(dn / tn * m), dn, dn / m
    z = fc.function([], fc.RandomStream(SEED).normal(size=3000))()
    fast = 0
    for j in range(3000):
        w = _word((SEED, 0), 0, j)
        strip, mag = w & 255, (w >> 9) & (2**52 - 1)
        if mag < k[strip] - 4096:  # clear of the table's last bits
            fast += 1
            want = -mag * width[strip] if w >> 8 & 1 else mag * width[strip]
            assert z[j] == pytest.approx(want, rel=1e-13, abs=0)
    assert fast > 2900


# -- reproducibility --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_numbers_are_the_committed_regression_vector(mode: str) -> None:
    ins, outs = _graph(fc.RandomStream(SEED))
    f = fc.function(ins, outs, mode=mode)
    calls = [f(5), f(5)]
    assert not np.array_equal(calls[0][0], calls[1][0])  # the counter advanced
    assert _digest(calls) == REGRESSION, (
        f"the numbers changed ({_digest(calls)}): a new stream format (STREAM_FORMAT)?"
    )
    counters = [o.owner.inputs[0].get_value() for o in outs]
    assert [(c.dtype, c.shape, int(c)) for c in counters] == [(np.uint64, (), 2)] * len(outs)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_draws_are_the_committed_regression_vector(threads: int) -> None:
    with fc.config.change_flags(threads=threads):
        rs = fc.RandomStream(SEED)
        _graph(rs)
        assert _digest([fc.function([], _large(rs))()]) == REGRESSION_LARGE


def test_one_two_or_three_threads_and_both_modes_agree() -> None:
    results = []
    for mode, threads in (("FAST_RUN", 1), ("FAST_RUN", 2), ("FAST_RUN", 3), ("FAST_COMPILE", 0)):
        with fc.config.change_flags(threads=threads):
            rs = fc.RandomStream(SEED)
            ins, outs = _graph(rs)
            big = [
                rs.normal(-2.0, 3.0, size=200_003),
                rs.uniform(size=(3, 70_001)),
                rs.integers(-7, 2**40, size=100_001),
                rs.normal(size=99_999, dtype="float32"),
                rs.normal(np.array([[0.0], [10.0]]), 0.5, size=(2, 50_001)),
            ]
            f = fc.function(ins, outs + big, mode=mode)
            results.append([f(1000), f(1000)])
    for r in results[1:]:
        for c in range(2):
            _same(r[c], results[0][c], "threads/modes")


@pytest.mark.parametrize(
    "kind,dtype", [(0, "float64"), (1, "float64"), (1, "float32"), (2, "float64"), (3, "uint64")]
)
def test_element_i_does_not_depend_on_the_chunk_it_is_drawn_in(kind: int, dtype: str) -> None:
    """Any split of a draw (threads, chunk sizes, a prefix of it) gives the same bits."""
    rt, n, key = runtime(), 300_007, (99, 3)
    b = 10**12 if kind == 3 else 1.0
    whole = np.empty(n, dtype)
    rt.random_fill(kind, whole, key, 5, 1, 0.0, b)
    for threads in (2, 3, 7):
        other = np.empty(n, dtype)
        rt.random_fill(kind, other, key, 5, threads, 0.0, b)
        np.testing.assert_array_equal(other, whole)
    for m in (1, 3, 17, 40_001):
        part = np.empty(m, dtype)
        rt.random_fill(kind, part, key, 5, 2, 0.0, b)
        np.testing.assert_array_equal(part, whole[:m])
    other = np.empty(n, dtype)
    rt.random_fill(kind, other, key, 6, 2, 0.0, b)  # the next call: other numbers
    assert np.mean(other == whole) < 0.01


def test_pickle_carries_the_counter() -> None:
    ins, outs = _graph(fc.RandomStream(SEED))
    f = fc.function(ins, outs)
    f(4)
    g = pickle.loads(pickle.dumps(f))
    _same(g(4), f(4), "after a pickle round trip")


def _numbers_code() -> str:
    return textwrap.dedent(f"""
        import hashlib, sys, numpy as np, fncache as fc
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_random import _digest, _graph
        from test_random import _large
        rs = fc.RandomStream({SEED})
        ins, outs = _graph(rs)
        f = fc.function(ins, outs, mode=sys.argv[1])
        print(_digest([f(5), f(5)]))
        print(_digest([fc.function([], _large(rs), mode=sys.argv[1])()]))
    """)


def test_same_numbers_on_a_cache_hit_in_other_processes(tmp_path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for _ in range(2):  # the second process finds the first one's entry
        out = subprocess.run(
            [sys.executable, "-c", _numbers_code(), "FAST_RUN"],
            env=env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        )
        assert out.stdout.split()[-2:] == [REGRESSION, REGRESSION_LARGE]
    assert any((tmp_path / "cache").rglob("*"))


QEMU = shutil.which("qemu-x86_64")


@pytest.mark.skipif(QEMU is None, reason="needs qemu-x86_64 (apt-get install qemu-user)")
def test_same_numbers_in_a_process_run_as_an_older_cpu(tmp_path) -> None:
    """Python under ``qemu-x86_64 -cpu Nehalem`` (no AVX, no FMA: glibc and numpy take other
    code paths there) draws the committed numbers, on 2 threads."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), FNCACHE_FLAGS="threads=2")
    out = subprocess.run(
        [QEMU, "-cpu", "Nehalem", sys.executable, "-c", _numbers_code(), "FAST_COMPILE"],
        env=env,
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-2:] == [REGRESSION, REGRESSION_LARGE]


def test_an_op_from_an_older_stream_format_refuses_to_draw() -> None:
    """An op unpickled from an fncache that drew numpy's SFC64 has no ``stream`` field: it
    reads as format 1 and says so rather than draw other numbers silently."""
    u = fc.RandomStream(SEED).uniform(size=3)
    op = pickle.loads(pickle.dumps(u.owner.op))
    assert op == u.owner.op and op.stream == STREAM_FORMAT
    del op.__dict__["stream"]
    assert op.stream == 1
    with pytest.raises(ValueError, match=f"format 1; this one draws format {STREAM_FORMAT}"):
        op.perform(u.owner, [np.array(0, np.uint64), np.array([3]), np.array(0.0), np.array(1.0)])
    assert isinstance(op, RandomVariable)


# -- the distributions ------------------------------------------------------------------------


def _ks(sample: np.ndarray, cdf, grid: np.ndarray) -> float:
    """Largest gap between the sample's and the distribution's CDF over the grid."""
    emp = np.searchsorted(np.sort(sample), grid, side="right") / sample.size
    return float(np.max(np.abs(emp - np.array([cdf(t) for t in grid]))))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_uniform_and_normal_have_their_distributions(dtype: str) -> None:
    n = 400_000
    rs = fc.RandomStream(7)
    u, z = fc.function([], [rs.uniform(2, 3, size=n, dtype=dtype), rs.normal(-1, 0.5, size=n, dtype=dtype)])()
    assert u.dtype == z.dtype == dtype
    assert 2 <= u.min() and u.max() < 3
    assert abs(u.mean() - 2.5) < 0.003 and abs(u.var() - 1 / 12) < 0.001
    assert abs(z.mean() + 1) < 0.005 and abs(z.std() - 0.5) < 0.005
    bound = 3 / math.sqrt(n)  # well past the KS statistic's 99.9% point (1.95/sqrt n)
    assert _ks(u, lambda t: min(max(t - 2, 0.0), 1.0), np.linspace(2, 3, 201)) < bound
    grid = np.linspace(-3.5, 1.5, 501)
    assert _ks(z, lambda t: 0.5 * (1 + math.erf((t + 1) / 0.5 / math.sqrt(2))), grid) < bound
    # the ziggurat's tail (|x| > 3.654 sd) comes at its rate, 2.58e-4, both sides
    tail = np.abs(z + 1) / 0.5 > 3.6541528853610088
    assert 0.4 < tail.mean() / 2.58e-4 < 1.6 and (z[tail] > -1).any() and (z[tail] < -1).any()


def test_integers_are_unbiased_even_where_a_modulo_would_not_be() -> None:
    """m = 3 * 2**62: w % m would put half the draws below 2**62 (one third is right), and
    Lemire's method rejects a quarter of the first words here, so the extra words are used."""
    rs = fc.RandomStream(11)
    big, small = fc.function(
        [],
        [
            rs.integers(0, 3 * 2**62, size=200_000, dtype="uint64"),
            rs.integers(-3, 4, size=70_000, dtype="int8"),
        ],
    )()
    assert abs(np.mean(big < 2**62) - 1 / 3) < 0.006
    counts = np.bincount(small.astype(np.int64) + 3, minlength=7)
    assert counts.sum() == 70_000 and len(counts) == 7
    chi2 = float(np.sum((counts - 10_000) ** 2 / 10_000))
    assert chi2 < 30  # 6 dof: p < 3e-5 above 30


def test_integers_at_the_edges_of_their_ranges() -> None:
    rs = fc.RandomStream(3)
    one = rs.integers(41, 42, size=50, dtype="int32")
    neg = rs.integers(-10, -5, size=5000, dtype="int16")
    u64 = rs.integers(0, 2**64, size=4000, dtype="uint64")
    u64e = rs.integers(0, 2**64 - 1, size=4000, dtype="uint64", endpoint=True)
    i64 = rs.integers(-(2**63), 2**63, size=4000)
    i8 = rs.integers(-128, 128, size=20_000, dtype="int8")
    top = rs.integers(2**64 - 3, 2**64, size=300, dtype="uint64")
    arr = rs.integers(np.array([0, 100, -(2**63)]), np.array([1, 103, -(2**63) + 2]), size=(500, 3))
    sym_hi = ft.lscalar("hi")
    sym = rs.integers(5, sym_hi, size=1000, dtype="uint8")
    got = fc.function([sym_hi], [one, neg, u64, u64e, i64, i8, top, arr, sym])(9)
    one_v, neg_v, u64_v, u64e_v, i64_v, i8_v, top_v, arr_v, sym_v = got
    assert (one_v == 41).all() and one_v.dtype == np.int32
    assert set(neg_v.tolist()) == {-10, -9, -8, -7, -6} and neg_v.dtype == np.int16
    for v in (u64_v, u64e_v):
        assert v.dtype == np.uint64 and 0.45 < np.mean(v >= 2**63) < 0.55
        assert np.mean(v < 2**32) < 0.01
    assert 0.45 < np.mean(i64_v < 0) < 0.55
    assert set(i8_v.tolist()) == set(range(-128, 128))
    assert set(top_v.tolist()) == {2**64 - 3, 2**64 - 2, 2**64 - 1}
    assert (arr_v[:, 0] == 0).all() and set(arr_v[:, 1].tolist()) == {100, 101, 102}
    assert set(arr_v[:, 2].tolist()) == {-(2**63), -(2**63) + 1}
    assert set(sym_v.tolist()) == {5, 6, 7, 8} and sym_v.dtype == np.uint8


def test_choice_and_permutation_are_permutations_and_follow_p() -> None:
    rs = fc.RandomStream(5)
    outs = [
        rs.choice(ft.arange(20), size=20, replace=False),
        rs.permutation(np.arange(12.0)),
        rs.permutation(1000),
        rs.permutation(np.arange(12).reshape(6, 2)),
        rs.choice(1000, size=999, replace=False),
        rs.choice(np.array([10, 20, 30, 40]), size=40_000, p=np.array([0.1, 0.2, 0.3, 0.4])),
        rs.choice(5, size=(2, 2), replace=False, p=np.array([0.1, 0.2, 0.3, 0.4, 0.0])),
        rs.choice(7),
        rs.permutation(0),
        rs.permutation(1),
    ]
    f = fc.function([], outs)
    c20, p12, p1000, rows, c999, weighted, nz, scalar, p0, p1 = f()
    assert sorted(c20.tolist()) == list(range(20)) and sorted(p12.tolist()) == list(range(12))
    assert sorted(p1000.tolist()) == list(range(1000)) and (p1000 != np.arange(1000)).any()
    assert sorted(map(tuple, rows.tolist())) == [(2 * i, 2 * i + 1) for i in range(6)]
    assert len(set(c999.tolist())) == 999 and c999.max() < 1000
    freq = np.array([np.mean(weighted == v) for v in (10, 20, 30, 40)])
    assert np.all(np.abs(freq - [0.1, 0.2, 0.3, 0.4]) < 0.015)
    assert nz.shape == (2, 2) and len(set(nz.ravel().tolist())) == 4 and 4 not in nz
    assert scalar.shape == () and 0 <= scalar < 7
    assert p0.shape == (0,) and p1.tolist() == [0]
    # weighted without replacement: the heavier item comes first more often
    g = fc.function([], outs[6])
    first = [g().ravel()[0] for _ in range(300)]
    assert np.mean(np.array(first) == 3) > np.mean(np.array(first) == 0)


def test_normal_refuses_a_negative_scale_and_unbroadcastable_parameters() -> None:
    rs = fc.RandomStream(SEED)
    with pytest.raises(ValueError, match="scale < 0"):
        fc.function([], rs.normal(0.0, -1.0, size=3))()
    with pytest.raises(ValueError, match="broadcast to size"):
        fc.function([], rs.normal(np.zeros(4), 1.0, size=(3,)))()


def test_explicit_updates_win_and_bad_arguments_are_refused() -> None:
    rs = fc.RandomStream(3)
    u = rs.uniform(size=3)
    counter = u.owner.inputs[0]
    f = fc.function([], u, updates=[(counter, counter)])  # hold the counter: same numbers
    np.testing.assert_array_equal(f(), f())
    with pytest.raises(TypeError, match="seed"):
        fc.RandomStream(-1)
    with pytest.raises(TypeError, match="float32 or float64"):
        rs.normal(dtype="int32")
    with pytest.raises(TypeError, match="integer dtype"):
        rs.integers(5, dtype="float64")
    with pytest.raises(TypeError, match="high must be an integer"):
        rs.integers(0, 2.5)
    bad = [
        (rs.choice(3, size=5, replace=False), "larger sample than population"),
        (rs.integers(5, 5), "range is empty"),
        (rs.integers(0, 300, dtype="uint8"), "high is out of bounds for uint8"),
        (rs.integers(-1, 3, dtype="uint16"), "low is out of bounds for uint16"),
        (rs.uniform(0.0, np.inf), "high - low must be finite"),
        (rs.choice(3, p=np.array([0.5, 0.6, -0.1])), "not non-negative"),
        (rs.choice(3, p=np.array([0.5, 0.6, 0.1])), "do not sum to 1"),
        (rs.choice(3, p=np.array([0.5, 0.5])), "same size"),
        (rs.choice(3, size=2, replace=False, p=np.array([1.0, 0, 0])), "non-zero entries"),
        (rs.choice(0, size=2), "positive integer"),
        (rs.permutation(-3), "non-negative integer"),
    ]
    for var, msg in bad:
        with pytest.raises(ValueError, match=msg):
            fc.function([], var)()


from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: E402,F401


@needs_emulator
def test_same_numbers_on_the_emulated_cuda_device(emulated) -> None:
    x = ft.dvector("x")
    got, want = [], []
    for mode, out in ((CUDA, got), ("FAST_RUN", want)):
        rs = fc.RandomStream(SEED)
        f = fc.function([x], [rs.normal(size=4) * x, rs.uniform(size=(2,))], mode=mode)
        for _ in range(2):
            out += [np.asarray(v.get() if hasattr(v, "get") else v) for v in f(np.ones(4))]
    _same(got, want, "CUDA")
