"""PyTensor's further distributions (halfnormal, cauchy, halfcauchy, chisquare, invgamma,
weibull, pareto, wald, truncexpon, triangular, t, gengamma, vonmises, geometric, nbinom,
betabinom, hypergeometric, multivariate_normal): moments and distributions against scipy's,
shapes and dtypes against PyTensor's for the same call, the three forms of a draw (a stream's
method, the functional form with a random state, a state's method), determinism, and bad
parameters. Seeds are fixed: a statistical bound holds or fails for good, never by chance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import fncache as fc
import fncache.tensor as ft
from fncache.tensor.random import RandomVariable

N = 20_000

#: (the draw, its parameters, scipy's distribution): two or three parameter sets each, with
#: finite fourth moments where the moments are compared (heavy tails: the KS test only)
CASES = [
    ("halfnormal", (0.0, 1.0), stats.halfnorm(0, 1)),
    ("halfnormal", (-1.5, 2.5), stats.halfnorm(-1.5, 2.5)),
    ("cauchy", (0.0, 1.0), stats.cauchy(0, 1)),
    ("cauchy", (2.0, 0.5), stats.cauchy(2, 0.5)),
    ("halfcauchy", (0.0, 1.0), stats.halfcauchy(0, 1)),
    ("halfcauchy", (1.0, 3.0), stats.halfcauchy(1, 3)),
    ("chisquare", (1.0,), stats.chi2(1)),
    ("chisquare", (7.5,), stats.chi2(7.5)),
    ("invgamma", (6.0, 2.0), stats.invgamma(6, scale=2)),
    ("invgamma", (9.5, 0.5), stats.invgamma(9.5, scale=0.5)),
    ("invgamma", (0.7, 1.0), stats.invgamma(0.7)),
    ("weibull", (0.5,), stats.weibull_min(0.5)),
    ("weibull", (2.0,), stats.weibull_min(2)),
    ("weibull", (7.0,), stats.weibull_min(7)),
    ("pareto", (9.0, 1.0), stats.pareto(9)),
    ("pareto", (12.0, 2.5), stats.pareto(12, scale=2.5)),
    ("pareto", (1.5, 1.0), stats.pareto(1.5)),
    ("wald", (1.0, 1.0), stats.invgauss(1.0, scale=1.0)),
    ("wald", (2.0, 8.0), stats.invgauss(2.0 / 8.0, scale=8.0)),
    ("wald", (3.0, 0.5), stats.invgauss(3.0 / 0.5, scale=0.5)),
    ("truncexpon", (2.0, 0.0, 1.0), stats.truncexpon(2.0)),
    ("truncexpon", (0.5, 1.0, 3.0), stats.truncexpon(0.5, 1.0, 3.0)),
    ("truncexpon", (0.01, 0.0, 1.0), stats.truncexpon(0.01)),
    ("triangular", (0.0, 0.3, 1.0), stats.triang(0.3)),
    ("triangular", (-2.0, -2.0, 4.0), stats.triang(0.0, loc=-2, scale=6)),
    ("triangular", (1.0, 5.0, 5.0), stats.triang(1.0, loc=1, scale=4)),
    ("t", (10.0, 0.0, 1.0), stats.t(10)),
    ("t", (6.5, 2.0, 3.0), stats.t(6.5, 2, 3)),
    ("t", (1.0, 0.0, 1.0), stats.t(1)),
    ("gengamma", (2.0, 1.5, 1.0), stats.gengamma(2.0 / 1.5, 1.5)),
    ("gengamma", (0.5, 2.0, 3.0), stats.gengamma(0.25, 2.0, scale=3.0)),
    ("gengamma", (4.0, 0.7, 0.5), stats.gengamma(4.0 / 0.7, 0.7, scale=0.5)),
    ("geometric", (0.3,), stats.geom(0.3)),
    ("geometric", (0.9,), stats.geom(0.9)),
    ("geometric", (0.02,), stats.geom(0.02)),
    ("nbinom", (3.0, 0.4), stats.nbinom(3, 0.4)),
    ("nbinom", (0.5, 0.1), stats.nbinom(0.5, 0.1)),
    ("nbinom", (40.0, 0.8), stats.nbinom(40, 0.8)),
    ("betabinom", (10, 2.0, 3.0), stats.betabinom(10, 2, 3)),
    ("betabinom", (60, 0.5, 0.5), stats.betabinom(60, 0.5, 0.5)),
    ("betabinom", (500, 20.0, 5.0), stats.betabinom(500, 20, 5)),
    ("hypergeometric", (10, 20, 7), stats.hypergeom(30, 10, 7)),
    ("hypergeometric", (300, 100, 350), stats.hypergeom(400, 300, 350)),
    ("hypergeometric", (5000, 70000, 30000), stats.hypergeom(75000, 5000, 30000)),
]

HEAVY = {("cauchy", 0), ("cauchy", 1), ("halfcauchy", 0), ("halfcauchy", 1)}
DISCRETE = ("geometric", "nbinom", "betabinom", "hypergeometric")


def _moments(sample: np.ndarray, dist, what: str) -> None:
    """Mean and variance within 6 standard errors of the distribution's."""
    m, v, k = (float(t) for t in dist.stats(moments="mvk"))
    n = sample.size
    assert abs(sample.mean() - m) < 6 * np.sqrt(v / n), (what, sample.mean(), m)
    assert abs(sample.var() - v) < 6 * v * np.sqrt((k + 2) / n), (what, sample.var(), v)


def _pmf_fits(sample: np.ndarray, dist, what: str) -> None:
    """A chi-square test of the counts against the pmf over the values expected at least 10
    times (the two tails lumped in)."""
    lo, hi = int(dist.ppf(1e-9)), int(dist.ppf(1 - 1e-9)) + 1
    ks = np.arange(lo, hi + 1)
    expected = dist.pmf(ks) * sample.size
    keep = ks[expected >= 10]
    edges = np.concatenate([[-np.inf], keep[1:] - 0.5, [np.inf]])
    got = np.histogram(sample, bins=edges)[0]
    cdf = dist.cdf(np.concatenate([[keep[0] - 1], keep[1:] - 1]))
    probs = np.diff(np.concatenate([cdf, [1.0]]))
    probs[0] = dist.cdf(keep[0])
    probs = probs / probs.sum()
    assert stats.chisquare(got, probs * sample.size).pvalue > 1e-4, what


@pytest.fixture(scope="module")
def samples() -> list[np.ndarray]:
    """Every case drawn in one function from one stream."""
    rs = fc.RandomStream(20261203)
    outs = [getattr(rs, name)(*params, size=(N,)) for name, params, _ in CASES]
    return fc.function([], outs)()


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_draws_have_scipys_moments_and_distribution(samples, case: int) -> None:
    name, params, dist = CASES[case]
    x = samples[case]
    what = f"{name}{params}"
    assert x.shape == (N,)
    assert x.dtype == (np.int64 if name in DISCRETE else np.float64)
    if np.isfinite(dist.stats(moments="k")):
        _moments(x, dist, what)
    if name in DISCRETE:
        _pmf_fits(x, dist, what)
    else:
        assert stats.kstest(x, dist.cdf).pvalue > 1e-4, what


def test_vonmises_wraps_about_mu_and_has_scipys_distribution() -> None:
    rs = fc.RandomStream(11)
    cases = [(0.0, 0.5), (2.5, 4.0), (-3.0, 50.0), (1.0, 1e-9), (0.5, 1e7)]
    f = fc.function([], [rs.vonmises(mu, kappa, size=(N,)) for mu, kappa in cases])
    for (mu, kappa), x in zip(cases, f()):
        assert np.all(np.abs(x) <= np.pi), (mu, kappa)
        d = np.mod(x - mu + np.pi, 2 * np.pi) - np.pi  # the offset from mu, on [-pi, pi)
        assert stats.kstest(d, stats.vonmises(kappa).cdf).pvalue > 1e-4, (mu, kappa)
        circular_mean = np.angle(np.mean(np.exp(1j * x)))
        if kappa > 1:
            assert abs(np.angle(np.exp(1j * (circular_mean - mu)))) < 0.05, (mu, kappa)


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_has_the_covariance_by_each_method(method: str) -> None:
    rs = fc.RandomStream(5)
    mean = np.array([1.0, -2.0, 0.5])
    root = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.3, 0.5, 1.2]])
    cov = root @ root.T
    x = fc.function([], rs.multivariate_normal(mean, cov, size=(N,), method=method))()
    assert x.shape == (N, 3) and x.dtype == np.float64
    se = np.sqrt(np.diag(cov) / N)
    assert np.all(np.abs(x.mean(axis=0) - mean) < 6 * se)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
    for j in range(3):  # each margin is the normal of its variance
        assert stats.kstest(x[:, j], stats.norm(mean[j], np.sqrt(cov[j, j])).cdf).pvalue > 1e-4


def test_multivariate_normal_broadcasts_its_batch_and_takes_semi_definite_covs() -> None:
    rs = fc.RandomStream(6)
    means = np.array([[0.0, 0.0], [10.0, -10.0]])  # (2, 2): two means
    covs = np.stack([np.eye(2), np.array([[4.0, 4.0], [4.0, 4.0]])])  # the second singular
    x = rs.multivariate_normal(means[:, None, :], covs, method="eigh")  # batch (2, 2)
    y = rs.multivariate_normal(means[0], covs[1], size=(N,), method="svd")
    z = rs.multivariate_normal(means[0], covs[1], size=(3,))  # cholesky refuses it
    f = fc.function([], [x, y])
    a, b = f()
    assert a.shape == (2, 2, 2)
    assert np.all(np.abs(a[:, 1, 0] - a[:, 1, 1]) < 1e-9 + np.abs(means[:, 0] - means[:, 1]))
    # all along (1, 1), but for the square root of the rounding in the zero singular value
    np.testing.assert_allclose(b[:, 0], b[:, 1], atol=1e-6)
    assert abs(b[:, 0].var() - 4.0) < 0.25
    with pytest.raises(ValueError, match="not positive definite.*method='eigh'"):
        fc.function([], z)()
    with pytest.raises(ValueError, match="method must be 'cholesky', 'eigh' or 'svd'"):
        rs.multivariate_normal(means[0], covs[0], method="qr")
    with pytest.raises(ValueError, match="cov must have at least 2 axes"):
        rs.multivariate_normal(means[0], np.ones(2))
    with pytest.raises(ValueError, match=r"cov's last two axes must be \(2, 2\)"):
        fc.function([], rs.multivariate_normal(means[0], np.eye(3)))()


def _pytensor_rng():
    import pytensor

    return pytensor.shared(np.random.default_rng(0))


#: (the draw, parameters broadcasting to (3, 4), integer parameters)
SHAPES = [
    ("halfnormal", (np.zeros((3, 1)), np.ones(4))),
    ("cauchy", (np.zeros((3, 1)), np.ones(4))),
    ("halfcauchy", (np.zeros((3, 1)), np.ones(4))),
    ("chisquare", (np.full((3, 4), 2.0),)),
    ("invgamma", (np.full((3, 1), 3.0), np.ones(4))),
    ("weibull", (np.full((3, 4), 1.5),)),
    ("pareto", (np.full((3, 1), 3.0), np.ones(4))),
    ("wald", (np.ones((3, 1)), np.ones(4))),
    ("truncexpon", (np.ones((3, 1)), np.zeros(4), 1.0)),
    ("triangular", (np.zeros((3, 1)), 0.5, np.ones(4))),
    ("t", (np.full((3, 1), 4.0), np.zeros(4), 1.0)),
    ("gengamma", (np.ones((3, 1)), 2.0, np.ones(4))),
    ("vonmises", (np.zeros((3, 1)), np.ones(4))),
    ("geometric", (np.full((3, 4), 0.5),)),
    ("nbinom", (np.full((3, 1), 2.0), np.full(4, 0.5))),
    ("negative_binomial", (np.full((3, 1), 2.0), np.full(4, 0.5))),
    ("betabinom", (np.full((3, 1), 5), 1.0, np.ones(4))),
    ("hypergeometric", (np.full((3, 1), 5), 6, np.full(4, 4))),
]


@pytest.mark.parametrize("name,params", SHAPES, ids=[s[0] for s in SHAPES])
def test_shapes_and_dtypes_are_pytensors(name: str, params: tuple) -> None:
    pt = pytest.importorskip("pytensor.tensor.random.basic")
    for size in (None, (2, 3, 4)):
        ours = getattr(fc.RandomStream(1), name)(*params, size=size)
        theirs = getattr(pt, name)(*params, size=size, rng=_pytensor_rng(), return_next_rng=True)[1]
        assert ours.dtype == theirs.dtype, (name, size)
        assert ours.ndim == theirs.ndim, (name, size)
        got = fc.function([], ours)()
        assert got.shape == ((3, 4) if size is None else size), (name, size)
        assert got.dtype == theirs.dtype


def test_multivariate_normal_shapes_are_pytensors() -> None:
    pt = pytest.importorskip("pytensor.tensor.random.basic")
    mean, cov = np.zeros((4, 1, 3)), np.broadcast_to(np.eye(3), (5, 3, 3))
    for size in (None, (2, 4, 5)):
        ours = fc.RandomStream(1).multivariate_normal(mean, cov, size=size)
        theirs = pt.multivariate_normal(mean, cov, size=size, rng=_pytensor_rng(), return_next_rng=True)[1]
        assert (ours.dtype, ours.ndim) == (theirs.dtype, theirs.ndim)
        assert ours.type.shape[-1] == theirs.type.shape[-1] == 3
        assert fc.function([], ours)().shape == ((4, 5, 3) if size is None else (2, 4, 5, 3))


def test_parameters_must_broadcast_to_size() -> None:
    rs = fc.RandomStream(1)
    with pytest.raises(ValueError, match="do not broadcast to size"):
        fc.function([], rs.t(np.ones(3), size=(4,)))()
    with pytest.raises(ValueError, match="do not broadcast together"):
        fc.function([], rs.triangular(np.zeros(2), 0.5, np.ones(3)))()


def test_dtypes_follow_floatx_and_the_dtype_argument() -> None:
    rs = fc.RandomStream(2)
    with fc.config.change_flags(floatX="float32"):
        assert rs.halfnormal(size=(3,)).dtype == "float32"
    assert rs.wald(size=(3,), dtype="float32").dtype == "float32"
    assert rs.geometric(0.5, size=(3,), dtype="int32").dtype == "int32"
    outs = fc.function([], [rs.pareto(2.0, size=(5,), dtype="float32"), rs.nbinom(2, 0.5, dtype="int16")])()
    assert outs[0].dtype == np.float32 and np.all(outs[0] >= 1.0)
    assert outs[1].dtype == np.int16 and outs[1].shape == ()
    with pytest.raises(TypeError, match="invgamma: dtype must be float32 or float64"):
        rs.invgamma(1.0, 1.0, dtype="int64")


ALL = [
    ("halfnormal", (0.0, 1.0)),
    ("cauchy", (0.0, 1.0)),
    ("halfcauchy", (0.0, 1.0)),
    ("chisquare", (3.0,)),
    ("invgamma", (3.0, 1.0)),
    ("weibull", (1.5,)),
    ("pareto", (3.0,)),
    ("wald", (1.0, 2.0)),
    ("truncexpon", (2.0,)),
    ("triangular", (0.0, 0.5, 1.0)),
    ("t", (4.0,)),
    ("gengamma", (1.0, 2.0, 1.0)),
    ("vonmises", (0.0, 1.0)),
    ("geometric", (0.5,)),
    ("nbinom", (2.0, 0.5)),
    ("negative_binomial", (2.0, 0.5)),
    ("betabinom", (5, 1.0, 2.0)),
    ("hypergeometric", (5, 6, 4)),
    ("multivariate_normal", (np.zeros(2), np.eye(2))),
]


def test_every_draw_is_a_random_variable_in_each_form_and_deterministic() -> None:
    """A stream's method, the functional form with a random state (the next state returned),
    and a state's method: the same numbers from the same seed, other numbers on the next call."""

    def stream_draws(seed: int) -> list:
        rs = fc.RandomStream(seed)
        return [getattr(rs, name)(*p, size=(6,)) for name, p in ALL]

    outs = stream_draws(3)
    assert all(isinstance(x.owner.op, RandomVariable) for x in outs)
    f, g = fc.function([], outs), fc.function([], stream_draws(3))
    first, again = f(), g()
    for (name, _), a, b in zip(ALL, first, again):
        np.testing.assert_array_equal(a, b, err_msg=name)
    for (name, _), a, b in zip(ALL, first, f()):
        assert not np.array_equal(a, b), name

    rng = ft.random.shared_rng(seed=7)
    state, draws = rng, []
    for name, p in ALL:
        state, x = getattr(ft.random, name)(*p, size=(6,), rng=state, return_next_rng=True)
        draws.append(x)
    slow = fc.function([], draws, mode="FAST_COMPILE")()  # the op's perform
    h = fc.function([], draws, updates={rng: state})  # the draws the random_state rewrite makes
    fast = h()
    assert not np.array_equal(h()[0], fast[0])  # the state advanced
    for (name, _), a, b in zip(ALL, fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a, b), name

    sym = ft.random.rng("r")
    nxt, x = sym.t(4.0, size=(6,))
    k = fc.function([sym], [nxt, x])
    s1, x1 = k(rng.get_value())
    assert np.array_equal(k(rng.get_value())[1], x1) and not np.array_equal(k(s1)[1], x1)


#: (the draw, bad parameters, the error naming the parameter)
BAD = [
    ("halfnormal", (0.0, -1.0), "scale must be >= 0"),
    ("cauchy", (np.inf, 1.0), "loc must be finite"),
    ("invgamma", (0.0, 1.0), "shape must be > 0"),
    ("weibull", (-1.0,), "shape must be >= 0"),
    ("pareto", (0.0,), "b must be > 0"),
    ("wald", (1.0, -2.0), "scale must be > 0"),
    ("truncexpon", (-1.0,), "b must be > 0"),
    ("triangular", (0.0, 2.0, 1.0), "left <= mode <= right"),
    ("triangular", (1.0, 1.0, 1.0), "left < right"),
    ("t", (0.0,), "df must be > 0"),
    ("gengamma", (1.0, -1.0, 1.0), "p must be > 0"),
    ("vonmises", (0.0, -1.0), "kappa must be >= 0"),
    ("geometric", (0.0,), r"p must be in \(0, 1\]"),
    ("nbinom", (2.0, 1.5), r"p must be in \(0, 1\]"),
    ("betabinom", (2.5, 1.0, 1.0), "n must be a whole number"),
    ("hypergeometric", (2, 3, 6), "nsample must be at most ngood"),
    ("hypergeometric", (-2, 3, 1), "ngood must be >= 0"),
]


@pytest.mark.parametrize("name,params,error", BAD, ids=[f"{b[0]}-{b[2][:12]}" for b in BAD])
def test_bad_parameters_raise_naming_them(name: str, params: tuple, error: str) -> None:
    x = getattr(fc.RandomStream(1), name)(*params, size=(3,))
    with pytest.raises(ValueError, match=rf"Random\{{.*{error}"):
        fc.function([], x)()


def test_edge_values() -> None:
    rs = fc.RandomStream(8)
    outs = fc.function(
        [],
        [
            rs.geometric(1.0, size=(50,)),
            rs.weibull(0.0, size=(5,)),
            rs.nbinom(3.0, 1.0, size=(5,)),
            rs.betabinom(0, 1.0, 1.0, size=(5,)),
            rs.hypergeometric(0, 5, 3, size=(5,)),
            rs.hypergeometric(4, 0, 3, size=(5,)),
            rs.truncexpon(1e-12, size=(100,)),
            rs.geometric(1e-12, size=(100,)),
        ],
    )()
    assert np.all(outs[0] == 1) and np.all(outs[1] == 0.0) and np.all(outs[2] == 0)
    assert np.all(outs[3] == 0) and np.all(outs[4] == 0) and np.all(outs[5] == 3)
    assert np.all((outs[6] >= 0) & (outs[6] <= 1e-12))
    assert np.all(outs[7] >= 1) and outs[7].mean() > 1e10
