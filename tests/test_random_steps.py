"""The run-time's native draws of fc.RandomStream's distributions (``ST_RANDOM``, c_random.c's
``fc_random_step``) against the Python steps (random_dists' numpy transforms, ``FAST_COMPILE``):
the same bits for every distribution the step draws, over scalar, broadcast and symbolic
parameters of several dtypes, empty draws, rejection paths, output dtypes, consecutive calls and
threads; the step itself runs (not the op's perform); bad parameters raise the same clear error
in both modes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_program
from fncache.tensor.random import RandomVariable

SEED = 4711
N = 2_000
#: multivariate_normal's covariances: one, and a batch of two
COV3 = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.22], [-0.3, 0.22, 1.78]])
COVS = np.stack([COV3, np.diag([0.5, 2.0, 3.0])])


def _bits(x: np.ndarray) -> tuple:
    """What must agree: dtype, shape and every byte (-0.0 and 0.0 differ, NaNs compare)."""
    x = np.ascontiguousarray(x)
    return x.dtype.str, x.shape, x.tobytes()


def _draws(dist: str):
    """(inputs, their values, draws) for one distribution: scalar parameters, parameters
    broadcast against size along either axis, symbolic float32 and int parameters, no size
    (the parameters' shape), an empty size, and parameters reaching each transform's slow
    paths (rejections, splitting, large means)."""
    x32, xd, n = ft.fvector("x32"), ft.dvector("xd"), ft.lvector("n")
    col = np.array([[0.25], [1.0]])

    def draws(rs: fc.RandomStream) -> list:
        return {
            "bernoulli": lambda: [
                rs.bernoulli(0.3, size=(N,)),
                rs.bernoulli(np.array([0.0, 0.5, 1.0]), size=(N, 3), dtype="float32"),
                rs.bernoulli(x32, dtype="int32"),
                rs.bernoulli(xd, size=(0, 3)),
                rs.bernoulli(),
            ],
            "binomial": lambda: [
                rs.binomial(1, 0.8, size=(N,)),
                rs.binomial(
                    np.array([0, 1, 7, 40, 5000, 10**9]),
                    np.array([0.5, 0.2, 0.9, 0.5, 0.01, 0.7]),
                    size=(N, 6),
                ),
                rs.binomial(n, xd),
                rs.binomial(n, x32, size=(N // 10, 3), dtype="float32"),
                rs.binomial(np.array([[3.0], [60.0]]), 0.4, size=(2, N)),
                rs.binomial(5, 0.5, size=(0,)),
                rs.binomial(3, 0.5, size=(N,), dtype="int8"),
            ],
            "poisson": lambda: [
                rs.poisson(3.0, size=(N,)),
                rs.poisson(np.array([0.0, 0.5, 9.99, 10.0, 37.5, 1e6, 1e15]), size=(N, 7)),
                rs.poisson(xd * 10),
                rs.poisson(x32, size=(N // 10, 3), dtype="float64"),
                rs.poisson(col * 20, size=(2, 0)),
                rs.poisson(2.0, size=(N,), dtype="uint16"),
                rs.poisson(250.0),
            ],
            "exponential": lambda: [
                rs.exponential(2.0, size=(N,)),
                rs.exponential(col, size=(2, N), dtype="float32"),
                rs.exponential(x32),
                rs.exponential(size=(0,)),
                rs.exponential(dtype="float32"),
            ],
            "gamma": lambda: [
                rs.gamma(np.array([0.0, 0.3, 1.0, 9.5, 1e4]), 2.0, size=(N, 5)),
                rs.gamma(x32, col, size=(2, 3)),
                rs.gamma(xd, dtype="float32"),
                rs.gamma(n, x32),
            ],
            "beta": lambda: [
                rs.beta(np.array([0.02, 0.5, 3.0]), np.array([[0.5], [40.0]]), size=(N, 2, 3)),
                rs.beta(xd, x32),
                rs.beta(n + 1, xd),
            ],
            "lognormal": lambda: [
                rs.lognormal(0.5, np.array([0.0, 0.25, 3.0]), size=(N, 3)),
                rs.lognormal(xd, 1.0, dtype="float32"),
            ],
            "laplace": lambda: [
                rs.laplace(-0.0, 2.0, size=(N,)),
                rs.laplace(xd, x32),
                rs.laplace(col, 0.0, size=(2, 3)),
            ],
            "logistic": lambda: [
                rs.logistic(-1.0, np.array([0.5, 4.0]), size=(N, 2)),
                rs.logistic(x32, dtype="float32"),
            ],
            "gumbel": lambda: [
                rs.gumbel(0.0, 3.0, size=(N,)),
                rs.gumbel(col, xd, size=(2, 3)),
            ],
            "truncated_normal": lambda: [
                rs.truncated_normal(-0.0, np.array([1.0, 2.0]), size=(N, 2)),
                rs.truncated_normal(xd, x32, size=(4, 3), dtype="float32"),
                rs.truncated_normal(size=(0, 2)),
            ],
            "halfnormal": lambda: [
                rs.halfnormal(-0.0, np.array([1.0, 2.0]), size=(N, 2)),
                rs.halfnormal(xd, x32, dtype="float32"),
            ],
            "cauchy": lambda: [rs.cauchy(col, 2.0, size=(2, N)), rs.cauchy(x32, xd)],
            "halfcauchy": lambda: [rs.halfcauchy(1.0, xd, size=(N // 10, 3)), rs.halfcauchy(size=(0,))],
            "invgamma": lambda: [
                rs.invgamma(np.array([0.3, 1.0, 9.5]), 2.0, size=(N, 3)),
                rs.invgamma(x32, col, size=(2, 3), dtype="float32"),
                rs.invgamma(n + 1, xd),
            ],
            "weibull": lambda: [rs.weibull(np.array([0.0, 0.5, 3.0]), size=(N, 3)), rs.weibull(x32)],
            "pareto": lambda: [rs.pareto(np.array([0.5, 3.0]), 2.0, size=(N, 2)), rs.pareto(xd, x32)],
            "wald": lambda: [
                rs.wald(np.array([0.1, 1.0, 50.0]), np.array([[0.5], [20.0]]), size=(N, 2, 3)),
                rs.wald(xd, x32, dtype="float32"),
            ],
            "truncexpon": lambda: [
                rs.truncexpon(np.array([1e-6, 0.5, 30.0]), 1.0, 2.0, size=(N, 3)),
                rs.truncexpon(xd, x32, xd),
            ],
            "triangular": lambda: [
                rs.triangular(0.0, np.array([0.0, 0.25, 1.0]), 1.0, size=(N, 3)),
                rs.triangular(x32 - 1, x32, xd + 1, dtype="float32"),
            ],
            "t": lambda: [
                rs.t(np.array([0.4, 1.0, 30.0]), -1.0, 2.0, size=(N, 3)),
                rs.t(xd, x32, col, size=(2, 3)),
            ],
            "gengamma": lambda: [
                rs.gengamma(np.array([0.2, 1.0, 7.0]), np.array([[0.5], [3.0]]), 2.0, size=(N, 2, 3)),
                rs.gengamma(xd, x32, xd),
            ],
            "geometric": lambda: [
                rs.geometric(np.array([1e-12, 1e-5, 0.3, 0.7, 1.0]), size=(N, 5)),
                rs.geometric(x32, dtype="int32"),
            ],
            "negative_binomial": lambda: [
                rs.nbinom(np.array([0.3, 4.0, 1e3]), np.array([[0.05], [1.0]]), size=(N, 2, 3)),
                rs.nbinom(xd + 1, x32, dtype="float64"),
                rs.negative_binomial(n + 1, 0.5, size=(N // 10, 3), dtype="uint8"),
            ],
            "vonmises": lambda: [
                rs.vonmises(
                    np.array([-3.0, 0.0, 2.5]),
                    np.array([[0.0], [1e-6], [0.7], [40.0], [1e7]]),
                    size=(N, 5, 3),
                ),
                rs.vonmises(x32, xd, dtype="float32"),
            ],
            "hypergeometric": lambda: [
                rs.hypergeometric(
                    np.array([0, 3, 40, 7000, 10**8]),
                    np.array([5, 9, 2, 9000, 10**8]),
                    np.array([4, 10, 30, 12000, 10**7]),
                    size=(N // 10, 5),
                ),
                rs.hypergeometric(n, n + 2, n, dtype="int32"),
            ],
            "beta_binomial": lambda: [
                rs.betabinom(np.array([0, 1, 7, 80, 5000]), 0.5, 2.0, size=(N, 5)),
                rs.betabinom(n, xd, x32),
            ],
            "multivariate_normal": lambda: [
                rs.multivariate_normal(np.array([1.0, -2.0, 0.5]), COV3, size=(N,)),
                # a batch of covs along the last axis, means along the first; covs equal by value
                # (zeros of either sign), whose first one's factor serves all
                rs.multivariate_normal(
                    np.array([0.0, 5.0])[:, None, None, None] + np.arange(3.0), COVS, size=(2, N // 10, 2)
                ),
                rs.multivariate_normal(
                    np.zeros(3),
                    np.stack([COVS[1], COVS[1] * np.where(COVS[1] == 0, -1.0, 1.0)]),
                    size=(N // 10, 2),
                ),
                rs.multivariate_normal(x32, ft.diag(xd) + 0.25, size=(N // 10,), dtype="float32"),
                rs.multivariate_normal(xd, ft.diag(x32)),
                rs.multivariate_normal(np.zeros(3), COV3, size=(0,)),
                rs.multivariate_normal(np.zeros(0), np.zeros((0, 0)), size=(4,)),
            ],
        }[dist]()

    values = (np.array([0.0625, 0.375, 1.0], np.float32), np.array([0.5, 0.125, 1.0]), np.array([0, 3, 60]))
    return [x32, xd, n], values, draws


def _run(dist: str, mode: str, threads: int = 1, calls: int = 2) -> list:
    ins, values, draws = _draws(dist)
    with fc.config.change_flags(threads=threads):
        f = fc.function(ins, draws(fc.RandomStream(SEED)), mode=mode, on_unused_input="ignore")
        return [[_bits(o) for o in f(*values)] for _ in range(calls)]


def _refuse(*args, **kwargs):
    raise AssertionError("the op's perform ran")


@pytest.mark.parametrize("dist", c_program.RANDOM_DISTS)
def test_the_c_step_gives_the_python_steps_bits(dist: str, monkeypatch) -> None:
    want = _run(dist, "FAST_COMPILE")
    monkeypatch.setattr(RandomVariable, "_transform", _refuse)  # every draw is the C step's
    got = _run(dist, "FAST_RUN")
    assert len(got) == len(want) == 2
    for call, (g, w) in enumerate(zip(got, want)):
        for k, (gk, wk) in enumerate(zip(g, w)):
            assert gk[:2] == wk[:2], f"{dist} call {call} output {k}: dtype/shape {gk[:2]} != {wk[:2]}"
            assert gk[2] == wk[2], f"{dist} call {call} output {k}: other bits"
    assert got[0] != got[1], f"{dist}: the second call drew the same numbers"


def test_the_c_step_splits_a_large_draw_over_threads_with_the_same_bits() -> None:
    def outs(mode: str, threads: int) -> list:
        rs = fc.RandomStream(SEED)
        with fc.config.change_flags(threads=threads):
            f = fc.function(
                [],
                [
                    rs.binomial(np.array([1, 30, 200]), 0.3, size=(70_001, 3)),
                    rs.poisson(np.array([4.0, 250.0]), size=(50_003, 2)),
                    rs.bernoulli(0.5, size=(200_001,), dtype="float32"),
                    rs.gumbel(size=(100_000,)),
                    rs.vonmises(0.5, 2.0, size=(50_001,)),
                    rs.nbinom(3.0, 0.4, size=(50_001,)),
                    rs.betabinom(40, 2.0, 3.0, size=(50_001,)),
                ],
                mode=mode,
            )
            return [_bits(o) for o in f()]

    want = outs("FAST_COMPILE", 1)
    for threads in (1, 2, 3):
        assert outs("FAST_RUN", threads) == want, f"{threads} threads"


def test_the_c_step_runs_without_the_ops_perform(monkeypatch) -> None:
    rs = fc.RandomStream(SEED)
    xd = ft.dvector("xd")
    dists = {
        "bernoulli": (xd,),
        "binomial": (4, xd),
        "poisson": (xd,),
        "exponential": (xd,),
        "gamma": (xd, 2.0),
        "beta": (xd, 2.0),
        "lognormal": (xd, 1.0),
        "laplace": (xd, 1.0),
        "logistic": (xd, 1.0),
        "gumbel": (xd, 1.0),
        "truncated_normal": (xd, 1.0),
        "halfnormal": (xd, 1.0),
        "cauchy": (xd, 1.0),
        "halfcauchy": (xd, 1.0),
        "invgamma": (xd, 1.0),
        "weibull": (xd,),
        "pareto": (xd, 1.0),
        "wald": (xd, 1.0),
        "truncexpon": (xd, 0.0, 1.0),
        "triangular": (-1.0, xd, 1.0),
        "t": (xd, 0.0, 1.0),
        "gengamma": (xd, 1.0, 1.0),
        "geometric": (xd,),
        "negative_binomial": (xd, 0.5),
        "beta_binomial": (4, xd, 1.0),
        "vonmises": (xd, 1.0),
        "hypergeometric": (5, 7, 4),
        "multivariate_normal": (xd[:1], ft.diag(xd)[:1, :1]),
    }
    assert sorted(dists) == sorted(c_program.RANDOM_DISTS)
    method = {"beta_binomial": "betabinom"}
    f = fc.function([xd], [getattr(rs, method.get(d, d))(*p, size=(5, 3)) for d, p in dists.items()])
    monkeypatch.setattr(RandomVariable, "_transform", _refuse)
    outs = f(np.array([0.5, 0.25, 1.0]))
    assert [o.shape for o in outs] == [(5, 3)] * (len(dists) - 1) + [(5, 3, 1)]
    assert outs[0].dtype == np.int64 and outs[3].dtype == np.float64
    with pytest.raises(AssertionError, match="perform ran"):  # a bad parameter goes to the perform
        f(np.array([0.5, -1.0, 1.0]))


def test_the_step_numbers_its_distributions_as_c_random_c() -> None:
    source = (Path(c_program.__file__).parent / "c_random.c").read_text()
    names = re.search(r"enum \{ (RD_BERNOULLI[^}]*)\}", source).group(1)
    names = [x.strip()[3:].lower() for x in names.split(",") if x.strip()]
    assert names == [*c_program.RANDOM_DISTS, "count"]


GOOD_N, GOOD_X = np.array([1, 2, 3]), np.array([0.5, 0.25, 1.0])
BAD_X = np.array([0.5, -0.5, 1.0])

#: (the draw of the integer vector n and the float vector x, n's and x's values, the error)
BAD = [
    (
        lambda rs, n, x: rs.bernoulli(x),
        GOOD_N,
        GOOD_X + 0.5,
        r"Random\{bernoulli, int64\}: p must be in \[0, 1\], got 1.5",
    ),
    (lambda rs, n, x: rs.bernoulli(x), GOOD_N, GOOD_X * np.nan, r"bernoulli.*p must be in \[0, 1\], got nan"),
    (
        lambda rs, n, x: rs.binomial(n, 0.5),
        -GOOD_N,
        GOOD_X,
        r"Random\{binomial, int64\}: n must be >= 0, got -1",
    ),
    (
        lambda rs, n, x: rs.binomial(x * 4, 0.5),
        GOOD_N,
        GOOD_X + 0.125,
        r"binomial.*n must be a whole number, got 2.5",
    ),
    (lambda rs, n, x: rs.binomial(3, x), GOOD_N, BAD_X, r"binomial.*p must be in \[0, 1\], got -0.5"),
    (lambda rs, n, x: rs.poisson(x), GOOD_N, BAD_X, r"poisson.*lam must be >= 0, got -0.5"),
    (lambda rs, n, x: rs.poisson(x + 1e18), GOOD_N, GOOD_X + 1e3, r"poisson.*lam must be at most 1e18"),
    (lambda rs, n, x: rs.exponential(x), GOOD_N, BAD_X, r"exponential.*scale must be >= 0, got -0.5"),
    (lambda rs, n, x: rs.gamma(1.0, x), GOOD_N, BAD_X, r"gamma.*scale must be >= 0"),
    (lambda rs, n, x: rs.beta(1.0, x), GOOD_N, GOOD_X - 0.25, r"beta.*b must be > 0, got 0.0"),
    (
        lambda rs, n, x: rs.lognormal(x, 1.0),
        GOOD_N,
        GOOD_X + np.inf,
        r"lognormal.*mean must be finite, got inf",
    ),
    (lambda rs, n, x: rs.laplace(0.0, x), GOOD_N, BAD_X, r"laplace.*scale must be >= 0, got -0.5"),
    (lambda rs, n, x: rs.logistic(0.0, x), GOOD_N, BAD_X, r"logistic.*scale must be >= 0"),
    (lambda rs, n, x: rs.gumbel(0.0, x), GOOD_N, GOOD_X + np.inf, r"gumbel.*scale must be finite"),
    (lambda rs, n, x: rs.truncated_normal(0.0, x), GOOD_N, BAD_X, r"truncated_normal.*scale must be >= 0"),
    (lambda rs, n, x: rs.halfnormal(0.0, x), GOOD_N, BAD_X, r"halfnormal.*scale must be >= 0, got -0.5"),
    (lambda rs, n, x: rs.invgamma(x, 1.0), GOOD_N, GOOD_X - 0.25, r"invgamma.*shape must be > 0, got 0.0"),
    (lambda rs, n, x: rs.wald(1.0, x), GOOD_N, GOOD_X * np.inf, r"wald.*scale must be finite"),
    (lambda rs, n, x: rs.triangular(0.0, x, 1.0), GOOD_N, GOOD_X + 0.5, r"triangular.*left <= mode <= right"),
    (lambda rs, n, x: rs.t(x, 0.0, 1.0), GOOD_N, BAD_X, r"Random\{t, float64\}: df must be > 0, got -0.5"),
    (lambda rs, n, x: rs.geometric(x), GOOD_N, GOOD_X - 0.25, r"geometric.*p must be in \(0, 1\], got 0.0"),
    (lambda rs, n, x: rs.nbinom(2.0, x), GOOD_N, GOOD_X + 0.5, r"negative_binomial.*p must be in \(0, 1\]"),
    (lambda rs, n, x: rs.vonmises(0.0, x), GOOD_N, BAD_X, r"vonmises.*kappa must be >= 0, got -0.5"),
    (
        lambda rs, n, x: rs.hypergeometric(n, 2, 3),
        GOOD_N - 1,
        GOOD_X,
        r"hypergeometric.*nsample must be at most",
    ),
    (
        lambda rs, n, x: rs.hypergeometric(n * 10**8, 1, 1),
        GOOD_N * 10,
        GOOD_X,
        r"hypergeometric.*ngood must be below 1e9",
    ),
    (lambda rs, n, x: rs.betabinom(n, x, 1.0), -GOOD_N, GOOD_X, r"beta_binomial.*n must be >= 0, got -1"),
    (
        lambda rs, n, x: rs.binomial(n, x, size=(2, 3)),
        GOOD_N[:2],
        GOOD_X,
        r"binomial.*n and p of shapes \(2,\) and \(3,\) do not broadcast to size \(2, 3\)",
    ),
    (
        lambda rs, n, x: rs.laplace(n, x),
        GOOD_N[:2],
        GOOD_X,
        r"laplace.*loc and scale of shapes \(2,\) and \(3,\) do not broadcast together",
    ),
]


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_parameters_raise_the_same_error_in_both_modes(mode: str, case: int) -> None:
    make, n_value, x_value, msg = BAD[case]
    n, x = ft.lvector("n"), ft.dvector("x")
    f = fc.function([n, x], make(fc.RandomStream(SEED), n, x), mode=mode, on_unused_input="ignore")
    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match=msg):
            f(n_value, x_value)
    # the function draws again once given good parameters
    good = f(GOOD_N, np.array([0.5, 0.5, 0.5]) if "size" in msg else GOOD_X)
    assert np.all(np.isfinite(good))
