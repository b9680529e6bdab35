"""fc.RandomStream's further distributions (binomial, bernoulli, poisson, exponential, gamma,
beta, lognormal, laplace, logistic, gumbel, multinomial, dirichlet, categorical,
random_integers, standard_normal, truncated_normal), ``seed``, and Theano's ``RandomStreams`` and
``MRG_RandomStreams``: moments and frequencies against the distributions' theory at fixed seeds
(deterministic: the same numbers on every run), the same bits in fresh processes and in a
process run as an older CPU (a committed regression hash), refusals of bad parameters, and
Theano's dropout idiom in a training loop whose gradient treats the mask as a constant."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import FD_ATOL, FD_RTOL, MODES, fd_jacobian
from test_random import QEMU, _digest, _ks

SEED = 2024
#: sha256 (16 hex digits) of two calls of _dists(RandomStream(SEED)) at n=500 (see _digest): a
#: change of a transform changes it, and must come with a new STREAM_FORMAT.
REGRESSION = "1f4585df71fd6894"


def _dists(rs: "fc.RandomStream"):
    n = ft.lscalar("n")
    return [n], [
        rs.binomial(1, 0.8, size=(n, 2)),
        rs.binomial(np.array([5, 200, 10**7]), np.array([0.3, 0.9, 0.5]), size=(n, 3)),
        rs.bernoulli(0.25, size=(n,)),
        rs.poisson(np.array([0.5, 7.0, 40.0, 1e6]), size=(n, 4)),
        rs.exponential(2.0, size=(n,), dtype="float32"),
        rs.gamma(np.array([0.3, 1.0, 9.5]), 2.0, size=(n, 3)),
        rs.beta(0.5, 3.0, size=(n,)),
        rs.standard_normal(size=(n,)),
        rs.random_integers(-3, 3, size=(n,)),
        rs.lognormal(0.5, 0.25, size=(n,)),
        rs.laplace(1.0, 2.0, size=(n,)),
        rs.logistic(-1.0, 0.5, size=(n,)),
        rs.gumbel(0.0, 3.0, size=(n,)),
        rs.multinomial(np.array([1, 30]), np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]), size=(n, 2)),
        rs.dirichlet(np.array([0.5, 1.0, 4.0]), size=(n,)),
        rs.categorical(np.array([0.1, 0.0, 0.6, 0.3]), size=(n,)),
        rs.truncated_normal(0.5, 2.0, size=(n,)),
    ]


def _run(rs: "fc.RandomStream", n: int = 200_000, mode: str = "FAST_RUN"):
    ins, outs = _dists(rs)
    return fc.function(ins, outs, mode=mode)(n)


# -- the same bits ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_numbers_are_the_committed_regression_vector(mode: str) -> None:
    ins, outs = _dists(fc.RandomStream(SEED))
    f = fc.function(ins, outs, mode=mode)
    assert _digest([f(500), f(500)]) == REGRESSION


def _code() -> str:
    return textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import fncache as fc
        from test_random import _digest
        from test_random_dists import _dists
        ins, outs = _dists(fc.RandomStream({SEED}))
        f = fc.function(ins, outs, mode=sys.argv[1])
        print(_digest([f(500), f(500)]))
    """)


def test_same_numbers_in_two_fresh_processes(tmp_path) -> None:
    for k in range(2):  # each its own cache: both compile and draw
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / f"cache{k}"))
        out = subprocess.run(
            [sys.executable, "-c", _code(), MODES[k]],
            env=env,
            check=True,
            timeout=300,
            capture_output=True,
            text=True,
        )
        assert out.stdout.split()[-1] == REGRESSION


@pytest.mark.skipif(QEMU is None, reason="needs qemu-x86_64 (apt-get install qemu-user)")
def test_same_numbers_in_a_process_run_as_an_older_cpu(tmp_path) -> None:
    """The transforms' logs and exps are the run-time's, not numpy's or glibc's (which choose
    code by the CPU's features): a Nehalem draws the committed numbers."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run(
        [QEMU, "-cpu", "Nehalem", sys.executable, "-c", _code(), "FAST_COMPILE"],
        env=env,
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == REGRESSION


def test_the_run_times_log_and_exp_are_accurate_over_the_whole_range() -> None:
    """The transforms' logs and exps (random_dists.log / exp, c_random.c): within 4e-16
    relative of correctly rounded values (math's), subnormals, underflow and the special
    values included."""
    from fncache.tensor.random_dists import exp, log

    rng = np.random.default_rng(0)
    x = np.concatenate([np.exp(rng.uniform(-740, 709, 20_000)), [5e-324, 1e-310, 0.5, 1.0, 2.0, 1.7e308]])
    want = np.array([math.log(v) for v in x])
    np.testing.assert_allclose(log(x), want, rtol=4e-16, atol=1e-300)
    y = np.concatenate([rng.uniform(-745, 709.7, 20_000), [-745.1, -708.5, -1e-300, 0.0, 709.78]])
    want = np.array([math.exp(v) for v in y])
    normal = want >= 2.2250738585072014e-308
    np.testing.assert_allclose(exp(y)[normal], want[normal], rtol=4e-16)
    np.testing.assert_allclose(exp(y)[~normal], want[~normal], rtol=0, atol=5e-324)  # subnormals: 1 unit
    assert log(np.array([0.0]))[0] == -np.inf and np.isnan(log(np.array([-1.0, np.nan]))).all()
    assert log(np.array([np.inf]))[0] == np.inf
    assert exp(np.array([-800.0, 710.0, -np.inf, np.inf])).tolist() == [0.0, np.inf, 0.0, np.inf]


def test_element_i_depends_only_on_its_index_and_parameters() -> None:
    """A longer draw of the same variable begins with the shorter one's numbers, and an
    element's value does not change with its neighbours' parameters (rejection loops and
    sub-streams are per element)."""
    n = ft.lscalar("n")
    rs = fc.RandomStream(5)
    lam = ft.dvector("lam")
    outs = [
        rs.binomial(1000, 0.4, size=(n,)),
        rs.gamma(0.7, size=(n,)),
        rs.poisson(lam, size=(n,)),
        rs.beta(2, 2, size=(n,)),
    ]
    f = fc.function([n, lam], outs, updates=[(c, c) for c, _ in rs.updates()])
    short, long = f(50, np.full(50, 20.0)), f(5000, np.full(5000, 20.0))
    for s, lo in zip(short, long):
        np.testing.assert_array_equal(s, lo[:50])
    mixed = np.full(5000, 20.0)
    mixed[1::2] = 3.0  # the odd elements take the inversion, the even ones PTRS
    np.testing.assert_array_equal(f(5000, mixed)[2][::2], long[2][::2])


# -- the distributions ------------------------------------------------------------------------


def _moments(x: np.ndarray, mean: float, var: float, what: str) -> None:
    """Mean within 5 standard errors, variance within 5% (n = 200000: a wrong transform misses
    both; these seeds' numbers are fixed)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    se = math.sqrt(var / x.size)
    assert abs(x.mean() - mean) < 5 * se, f"{what}: mean {x.mean()} vs {mean} (se {se})"
    assert abs(x.var() / var - 1) < 0.05, f"{what}: variance {x.var()} vs {var}"


def _pmf(x: np.ndarray, pmf: dict[int, float], what: str) -> None:
    """Each value's frequency within 5 standard errors of its probability."""
    x = np.asarray(x).ravel()
    for k, p in pmf.items():
        got = np.count_nonzero(x == k) / x.size
        assert abs(got - p) < 5 * math.sqrt(p * (1 - p) / x.size) + 1e-9, f"{what}: P({k}) {got} vs {p}"


def _gamma_cdf(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x), by its series."""
    if x <= 0:
        return 0.0
    term = total = 1.0 / a
    k = 0
    while term > 1e-17 * total:
        k += 1
        term *= x / (a + k)
        total += term
    return math.exp(a * math.log(x) - x - math.lgamma(a)) * total


def _binom_pmf(n: int, p: float) -> dict[int, float]:
    return {k: math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)}


def test_binomial_and_bernoulli() -> None:
    rs = fc.RandomStream(11)
    N = 200_000
    outs = fc.function(
        [],
        [
            rs.binomial(1, 0.8, size=N),
            rs.binomial(12, 0.35, size=N),
            rs.binomial(400, 0.7, size=N),  # Knuth's splitting, then inversion
            rs.binomial(10**9, 1e-7, size=N),  # inversion at a large n, a small p
            rs.binomial(np.array([0, 3, 3]), np.array([0.5, 0.0, 1.0]), size=(N, 3)),
            rs.bernoulli(0.3, size=N),
        ],
    )()
    assert all(o.dtype == np.int64 for o in outs)
    _pmf(outs[0], {0: 0.2, 1: 0.8}, "binomial(1, 0.8)")
    _pmf(outs[1], _binom_pmf(12, 0.35), "binomial(12, 0.35)")
    _moments(outs[2], 280.0, 84.0, "binomial(400, 0.7)")
    assert outs[2].min() >= 0 and outs[2].max() <= 400
    _moments(outs[3], 100.0, 100.0 * (1 - 1e-7), "binomial(1e9, 1e-7)")
    assert (outs[4] == [0, 0, 3]).all()
    _pmf(outs[5], {0: 0.7, 1: 0.3}, "bernoulli(0.3)")


def test_poisson() -> None:
    rs = fc.RandomStream(12)
    N = 200_000
    small, mid, big, zero = fc.function(
        [],
        [rs.poisson(2.5, size=N), rs.poisson(15.0, size=N), rs.poisson(1e7, size=N), rs.poisson(0.0, size=4)],
    )()
    assert small.dtype == np.int64
    _pmf(small, {k: math.exp(-2.5) * 2.5**k / math.factorial(k) for k in range(12)}, "poisson(2.5)")
    _pmf(mid, {k: math.exp(-15 + k * math.log(15) - math.lgamma(k + 1)) for k in range(5, 30)}, "poisson(15)")
    _moments(big, 1e7, 1e7, "poisson(1e7)")
    assert (zero == 0).all()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_continuous_distributions_have_their_moments(dtype: str) -> None:
    rs = fc.RandomStream(13)
    N = 200_000
    cases = {
        "exponential(2)": (rs.exponential(2.0, size=N, dtype=dtype), 2.0, 4.0),
        "gamma(0.4, 3)": (rs.gamma(0.4, 3.0, size=N, dtype=dtype), 1.2, 3.6),
        "gamma(7.5, 0.5)": (rs.gamma(7.5, 0.5, size=N, dtype=dtype), 3.75, 1.875),
        "beta(2, 5)": (rs.beta(2.0, 5.0, size=N, dtype=dtype), 2 / 7, 10 / (49 * 8)),
        "beta(0.3, 0.6)": (rs.beta(0.3, 0.6, size=N, dtype=dtype), 1 / 3, 0.18 / (0.81 * 1.9)),
        "lognormal(0.5, 0.25)": (
            rs.lognormal(0.5, 0.25, size=N, dtype=dtype),
            math.exp(0.5 + 0.25**2 / 2),
            (math.exp(0.25**2) - 1) * math.exp(1 + 0.25**2),
        ),
        "laplace(1, 2)": (rs.laplace(1.0, 2.0, size=N, dtype=dtype), 1.0, 8.0),
        "logistic(-1, 0.5)": (rs.logistic(-1.0, 0.5, size=N, dtype=dtype), -1.0, math.pi**2 / 12),
        "gumbel(0, 3)": (
            rs.gumbel(0.0, 3.0, size=N, dtype=dtype),
            3 * 0.5772156649015329,
            math.pi**2 / 6 * 9,
        ),
        "standard_normal": (rs.standard_normal(size=N, dtype=dtype), 0.0, 1.0),
    }
    got = fc.function([], [c[0] for c in cases.values()])()
    for (what, (_, mean, var)), x in zip(cases.items(), got):
        assert x.dtype == dtype, what
        _moments(x, mean, var, what)
    # the shapes of the laws, not only their moments: the gamma and exponential CDFs
    bound = 3 / math.sqrt(N)
    assert _ks(got[0], lambda t: 1 - math.exp(-t / 2), np.linspace(0, 12, 121)) < bound
    assert _ks(got[1], lambda t: _gamma_cdf(0.4, t / 3), np.geomspace(1e-6, 20, 121)) < bound
    assert _ks(got[2], lambda t: _gamma_cdf(7.5, t / 0.5), np.linspace(0, 10, 121)) < bound
    assert _ks(got[9], lambda t: 0.5 * (1 + math.erf(t / math.sqrt(2))), np.linspace(-3, 3, 121)) < bound
    assert _ks(got[7], lambda t: 1 / (1 + math.exp(-(t + 1) / 0.5)), np.linspace(-4, 2, 121)) < bound
    assert _ks(got[8], lambda t: math.exp(-math.exp(-t / 3)), np.linspace(-5, 15, 121)) < bound
    assert 0 <= got[3].min() and got[3].max() <= 1


def test_multinomial_dirichlet_categorical() -> None:
    rs = fc.RandomStream(14)
    N = 100_000
    pv = np.array([0.1, 0.2, 0.0, 0.7])
    onehot, counts, rows, dirich, cat, theano_rows = fc.function(
        [],
        [
            rs.multinomial(1, pv, size=N),
            rs.multinomial(25, pv, size=N),
            rs.multinomial(np.array([3, 1000]), np.array([[0.5, 0.5], [0.25, 0.75]])),
            rs.dirichlet(np.array([1.0, 2.0, 5.0]), size=N),
            rs.categorical(pv, size=N),
            fc.MRG_RandomStreams(3).multinomial(pvals=np.tile(pv, (N, 1))),
        ],
    )()
    assert onehot.shape == (N, 4) and onehot.dtype == np.int64 and (onehot.sum(axis=1) == 1).all()
    assert (counts.sum(axis=1) == 25).all() and (counts[:, 2] == 0).all()
    assert rows.shape == (2, 2) and list(rows.sum(axis=1)) == [3, 1000]
    for k, p in enumerate(pv):
        se = math.sqrt(max(p * (1 - p), 1e-12) / N)
        assert abs(onehot[:, k].mean() - p) < 5 * se
        assert abs(theano_rows[:, k].mean() - p) < 5 * se
        assert abs(np.mean(cat == k) - p) < 5 * se
        if p:
            _moments(counts[:, k], 25 * p, 25 * p * (1 - p), f"multinomial category {k}")
    np.testing.assert_allclose(dirich.sum(axis=1), 1.0, rtol=1e-12)
    # a float32 softmax over many classes sums to 1 within float32's rounding, and is taken
    logits = ft.fmatrix("logits")
    sm = ft.softmax(logits)
    drawn = fc.function([logits], rs.multinomial(1, sm))(
        np.random.default_rng(1).normal(size=(4, 5000)).astype("float32")
    )
    assert drawn.shape == (4, 5000) and (drawn.sum(axis=1) == 1).all()
    a0 = 8.0
    for k, a in enumerate([1.0, 2.0, 5.0]):
        _moments(dirich[:, k], a / a0, a * (a0 - a) / (a0**2 * (a0 + 1)), f"dirichlet {k}")


def test_parameters_broadcast_against_size() -> None:
    rs = fc.RandomStream(15)
    p = ft.dvector("p")
    n = ft.lvector("n")
    f = fc.function(
        [n, p],
        [rs.binomial(n, p, size=(50_000, 3)), rs.poisson(p * 10, size=(2, 50_000, 3)), rs.binomial(n, p)],
    )
    b, lam, single = f(np.array([10, 20, 30]), np.array([0.1, 0.5, 0.9]))
    assert b.shape == (50_000, 3) and lam.shape == (2, 50_000, 3) and single.shape == (3,)
    for k, (nn, pp) in enumerate([(10, 0.1), (20, 0.5), (30, 0.9)]):
        _moments(b[:, k], nn * pp, nn * pp * (1 - pp), f"binomial column {k}")
        _moments(lam[:, :, k], pp * 10, pp * 10, f"poisson column {k}")
    with pytest.raises(
        ValueError, match=r"binomial.*n and p of shapes \(2,\) and \(3,\) do not broadcast to size"
    ):
        f(np.array([1, 2]), np.array([0.1, 0.5, 0.9]))


def test_edges_of_the_parameters_and_empty_draws() -> None:
    rs = fc.RandomStream(17)
    outs = fc.function(
        [],
        [
            rs.binomial(5, 0.5, size=(0,)),
            rs.multinomial(5, np.array([[0.5, 0.5]]), size=(0,)),
            rs.binomial(10**15, np.array([0.0, 1.0])),
            rs.binomial(0, 0.5, size=2),
            rs.gamma(0.0, size=2),
            rs.poisson(0.0, size=(2, 3)),
            rs.dirichlet(np.array([2.0]), size=2),
            rs.categorical(np.array([1.0]), size=3),
            rs.multinomial(0, np.array([0.5, 0.5]), size=2),
            rs.binomial(10**18, 0.5, size=20_000),
            rs.poisson(1e18, size=20_000),
        ],
    )()
    assert outs[0].shape == (0,) and outs[1].shape == (0, 2)
    assert outs[2].tolist() == [0, 10**15] and outs[3].tolist() == [0, 0]
    assert outs[4].tolist() == [0.0, 0.0] and not outs[5].any()
    assert (outs[6] == 1.0).all() and not outs[7].any() and not outs[8].any()
    _moments(outs[9] / 1e9, 5e8, 0.25, "binomial(1e18, 0.5) / 1e9")
    _moments(outs[10] / 1e9, 1e9, 1.0, "poisson(1e18) / 1e9")


# -- refusals -------------------------------------------------------------------------------


def test_invalid_parameters_are_refused_at_run_time() -> None:
    rs = fc.RandomStream(16)
    x = ft.dvector("x")
    i = ft.lvector("i")
    cases = [
        (
            rs.binomial(i, 0.5, size=(2,)),
            (np.array([1, -1]), np.zeros(2)),
            r"Random\{binomial, int64\}: n must be >= 0, got -1",
        ),
        (
            rs.binomial(3, x, size=(2,)),
            (np.zeros(2, np.int64), np.array([0.5, 1.5])),
            r"binomial.*p must be in \[0, 1\], got 1.5",
        ),
        (
            rs.binomial(3, x, size=(2,)),
            (np.zeros(2, np.int64), np.array([0.5, np.nan])),
            r"binomial.*p must be in \[0, 1\], got nan",
        ),
        (
            rs.bernoulli(x),
            (np.zeros(2, np.int64), np.array([-0.1, 0.5])),
            r"bernoulli.*p must be in \[0, 1\], got -0.1",
        ),
        (
            rs.poisson(x),
            (np.zeros(2, np.int64), np.array([-2.0, 1.0])),
            r"poisson.*lam must be >= 0, got -2.0",
        ),
        (
            rs.exponential(x),
            (np.zeros(2, np.int64), np.array([1.0, -1.0])),
            r"exponential.*scale must be >= 0",
        ),
        (rs.gamma(x), (np.zeros(2, np.int64), np.array([1.0, -1.0])), r"gamma.*shape must be >= 0"),
        (rs.beta(x, 1.0), (np.zeros(2, np.int64), np.array([0.0, 1.0])), r"beta.*a must be > 0, got 0.0"),
        (
            rs.multinomial(2, ft.stack([x, x])),
            (np.zeros(2, np.int64), np.array([0.5, 0.6])),
            r"multinomial.*pvals must sum to 1.*1.1",
        ),
        (
            rs.multinomial(i, [0.5, 0.5], size=(2,)),
            (np.array([1, -3]), np.zeros(2)),
            r"multinomial.*n must be >= 0",
        ),
        (rs.dirichlet(x), (np.zeros(2, np.int64), np.array([1.0, 0.0])), r"dirichlet.*alpha must be > 0"),
        (rs.categorical(x), (np.zeros(2, np.int64), np.array([0.5, 0.2])), r"categorical.*p must sum to 1"),
        (rs.laplace(0.0, x), (np.zeros(2, np.int64), np.array([1.0, -1.0])), r"laplace.*scale must be >= 0"),
    ]
    for out, (iv, xv), msg in cases:
        f = fc.function([i, x], out, on_unused_input="ignore")
        with pytest.raises(ValueError, match=msg):
            f(iv, xv)
    with pytest.raises(ValueError, match="multinomial: pvals must have a category axis"):
        rs.multinomial(1, 0.5)
    with pytest.raises(TypeError, match="gamma: dtype must be float32 or float64"):
        rs.gamma(1.0, dtype="int64")


# -- seeding and Theano's classes ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_seed_reseeds_compiled_functions_as_a_new_stream(mode: str) -> None:
    rs = fc.RandomStream(1)
    ins, outs = _dists(rs)
    f = fc.function(ins, outs, mode=mode)
    first = f(4)
    f(4)
    rs.seed(SEED)
    fresh = fc.function(*_dists(fc.RandomStream(SEED)), mode=mode)
    for _ in range(2):
        for a, b in zip(f(4), fresh(4)):
            np.testing.assert_array_equal(a, b)
    rs.seed(1)
    for a, b in zip(f(4), first):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        rs.seed(-1)


def test_pickle_carries_the_seed_and_the_counters() -> None:
    rs = fc.RandomStream(1)
    ins, outs = _dists(rs)
    f = fc.function(ins, outs)
    rs.seed(SEED)
    f(3)
    g = pickle.loads(pickle.dumps(f))
    for a, b in zip(g(3), f(3)):
        np.testing.assert_array_equal(a, b)


def test_theano_signatures_put_size_first() -> None:
    from fncache.tensor.rng_mrg import MRG_RandomStreams
    from fncache.tensor.shared_randomstreams import RandomStreams

    assert fc.RandomStreams is RandomStreams is ft.shared_randomstreams.RandomStreams
    assert fc.MRG_RandomStreams is MRG_RandomStreams is ft.rng_mrg.MRG_RandomStreams
    srng, mine = RandomStreams(234), fc.RandomStream(234)
    theirs = [
        srng.uniform((2, 2)),
        srng.normal((3,), 1.0, 2.0),
        srng.binomial((4,), 5, 0.25),
        srng.random_integers((6,), 1, 3),
        srng.poisson((2,), lam=3.0),
        srng.multinomial(None, 2, [[0.5, 0.5], [0.1, 0.9]]),
        srng.choice((3,), a=5),
    ]
    ours = [
        mine.uniform(0.0, 1.0, size=(2, 2)),
        mine.normal(1.0, 2.0, size=(3,)),
        mine.binomial(5, 0.25, size=(4,)),
        mine.integers(1, 3, size=(6,), endpoint=True),
        mine.poisson(3.0, size=(2,)),
        mine.multinomial(2, [[0.5, 0.5], [0.1, 0.9]]),
        mine.choice(5, size=(3,)),
    ]
    for a, b in zip(fc.function([], theirs)(), fc.function([], ours)()):
        np.testing.assert_array_equal(a, b)
    perms = fc.function([], srng.permutation((2, 3), n=6))()
    assert perms.shape == (2, 3, 6) and (np.sort(perms, axis=-1) == np.arange(6)).all()
    assert len({p.tobytes() for p in perms.reshape(6, 6)}) > 1
    r = fc.function([], srng.random_integers((20_000,), -1, 1))()
    assert set(np.unique(r)) == {-1, 0, 1}  # both ends
    m = fc.MRG_RandomStreams()
    assert m.default_instance_seed == 12345
    x = ft.dmatrix("x")
    u, mask = fc.function(
        [x], [m.uniform(x.shape, low=2.0, high=3.0), m.binomial(size=x.shape, p=0.5, dtype="float64")]
    )(np.zeros((3, 4)))
    assert u.shape == mask.shape == (3, 4) and mask.dtype == np.float64 and 2 <= u.min() and u.max() < 3
    v = ft.lvector("v")
    assert fc.function([v], srng.normal(v, ndim=2))(np.array([2, 5])).shape == (2, 5)
    with pytest.raises(TypeError, match="no known length; pass ndim"):
        srng.normal(v)
    with pytest.raises(ValueError, match="ndim=3 but size"):
        srng.normal((2, 2), ndim=3)
    cut, scaled = fc.function(
        [], [m.normal((200_000,), 1.0, 2.0, truncate=True), m.truncated_normal((200_000,), std=2.0)]
    )()
    assert np.abs(cut - 1.0).max() <= 4.0 and np.abs(scaled).max() <= 4.0 / 0.87962566103423978
    _moments(cut, 1.0, (2.0 * 0.87962566103423978) ** 2, "normal(truncate=True)")
    _moments(scaled, 0.0, 4.0, "truncated_normal")


@pytest.mark.parametrize("mode", MODES)
def test_theano_dropout_trains_with_the_mask_as_a_constant(mode: str) -> None:
    """``srng.binomial(size=h.shape, n=1, p=0.8)`` (h's shape is symbolic): a new mask every
    step, the gradient through the mask as through a constant (finite differences with the
    counter held), and the SGD steps numpy computes from the masks the function returns."""
    srng = fc.RandomStreams(seed=99)
    x, y = ft.dmatrix("x"), ft.dvector("y")
    rng = np.random.default_rng(0)
    W = fc.shared(rng.normal(size=(4, 6)), name="W")
    v = fc.shared(rng.normal(size=6), name="v")
    h = ft.tanh(ft.dot(x, W))
    mask = srng.binomial(size=h.shape, n=1, p=0.8, dtype="float64")
    pred = ft.dot(h * mask / 0.8, v)
    cost = ft.mean((pred - y) ** 2)
    gW, gv = fc.grad(cost, [W, v])
    lr = 0.05
    train = fc.function([x, y], [cost, mask], updates=[(W, W - lr * gW), (v, v - lr * gv)], mode=mode)
    xs, ys = rng.normal(size=(8, 4)), rng.normal(size=8)

    def np_step(Wv, vv, m):
        hh = np.tanh(xs @ Wv)
        err = (hh * m / 0.8) @ vv - ys
        dp = 2 * err / len(ys)
        dh = np.outer(dp, vv) * m / 0.8
        return np.mean(err**2), Wv - lr * xs.T @ (dh * (1 - hh**2)), vv - lr * (hh * m / 0.8).T @ dp

    costs, masks = [], []
    for _ in range(30):
        Wv, vv = W.get_value(), v.get_value()
        c, m = train(xs, ys)
        want_c, want_W, want_v = np_step(Wv, vv, m)
        np.testing.assert_allclose(c, want_c, rtol=1e-12)
        np.testing.assert_allclose(W.get_value(), want_W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(v.get_value(), want_v, rtol=1e-10, atol=1e-12)
        costs.append(c)
        masks.append(m)
    masks = np.array(masks)
    assert set(np.unique(masks)) == {0.0, 1.0} and abs(masks.mean() - 0.8) < 0.05
    assert len({m.tobytes() for m in masks}) == 30  # a new mask every step
    assert np.mean(costs[-5:]) < np.mean(costs[:5])
    # the gradient, the counter held (the same mask in every call), against finite differences
    Wsym = ft.dmatrix("Wsym")
    hs = ft.tanh(ft.dot(x, Wsym))
    ms = srng.binomial(size=hs.shape, n=1, p=0.8, dtype="float64")
    cs = ft.mean((ft.dot(hs * ms / 0.8, v) - y) ** 2)
    held = [(c, c) for c, _ in srng.updates()]
    held_mask = fc.function([Wsym, x, y], ms, updates=held, mode=mode, on_unused_input="ignore")
    assert 0 < held_mask(w0 := rng.normal(size=(4, 6)), xs, ys).sum() < 48  # some units dropped
    f_cost = fc.function([Wsym, x, y], cs, updates=held, mode=mode)
    f_grad = fc.function([Wsym, x, y], fc.grad(cs, Wsym), updates=held, mode=mode)
    np.testing.assert_allclose(
        f_grad(w0, xs, ys), fd_jacobian(f_cost, [w0, xs, ys], 0), rtol=FD_RTOL, atol=FD_ATOL
    )
