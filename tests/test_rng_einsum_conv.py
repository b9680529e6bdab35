"""multivariate_normal's native step (the run-time's Cholesky factor, the same bits as the numpy
step, moments of the draw); einsum over dimensions of size 1 known only at run time (numpy's
broadcasting); conv2d's gradients with ``num_groups`` against the forward convolution's
gradient, finite differences and PyTensor's."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache.codegen.c_linker import runtime
from fncache.tensor.random import RandomVariable

# -- multivariate_normal -------------------------------------------------------------------------

SEED = 2026


def _spd(rng: np.random.Generator, n: int, batch: tuple = ()) -> np.ndarray:
    """Positive definite matrices: A A^T + n I."""
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _refuse(*args, **kwargs):
    raise AssertionError("the op's perform ran")


def test_the_runtimes_cholesky_is_lapacks_factor_within_rounding() -> None:
    rng = np.random.default_rng(0)
    for n, batch in ((1, ()), (3, (4,)), (40, ()), (7, (2, 3))):
        cov = _spd(rng, n, batch)
        got = np.array(cov, order="C")
        assert runtime().random_cholesky(got) is True
        np.testing.assert_allclose(got, np.linalg.cholesky(cov), rtol=1e-12, atol=1e-12 * n)
        assert np.all(np.triu(got, 1) == 0) and np.all(np.diagonal(got, axis1=-2, axis2=-1) > 0)
    bad = np.array([[[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert runtime().random_cholesky(bad) is False  # the first is indefinite
    with pytest.raises(ValueError, match=r"\(\.\.\., n, n\)"):
        runtime().random_cholesky(np.zeros((2, 3)))


def _mvn_draws(threads: int, mode: str) -> list[bytes]:
    rng = np.random.default_rng(1)
    covs = _spd(rng, 5, (3,))
    rs = fc.RandomStream(SEED)
    outs = [
        rs.multivariate_normal(rng.standard_normal(5), covs[0], size=(30_000,)),
        rs.multivariate_normal(rng.standard_normal((2, 1, 1, 5)), covs, size=(2, 700, 3), dtype="float32"),
        rs.multivariate_normal(np.zeros(12), _spd(rng, 12), size=(5_000,)),
    ]
    with fc.config.change_flags(threads=threads):
        f = fc.function([], outs, mode=mode)
        return [o.dtype.str.encode() + o.tobytes() for call in range(2) for o in f()]


def test_the_multivariate_normal_step_gives_the_numpy_steps_bits_on_any_threads(monkeypatch) -> None:
    want = _mvn_draws(1, "FAST_COMPILE")
    monkeypatch.setattr(RandomVariable, "_transform", _refuse)  # every draw is the C step's
    for threads in (1, 2):
        assert _mvn_draws(threads, "FAST_RUN") == want, f"{threads} threads"
    assert want[0] != want[3], "the second call drew the same numbers"


def test_the_multivariate_normal_step_has_the_moments() -> None:
    rng = np.random.default_rng(2)
    n, count = 6, 40_000
    mean, cov = rng.standard_normal(n) * 3, _spd(rng, n)
    batch_cov = np.stack([cov, np.diag(np.arange(1.0, n + 1))])
    rs = fc.RandomStream(SEED)
    f = fc.function(
        [],
        [
            rs.multivariate_normal(mean, cov, size=(count,)),
            rs.multivariate_normal(mean, batch_cov, size=(count, 2)),
        ],
    )
    x, y = f()
    assert x.shape == (count, n) and y.shape == (count, 2, n)
    for sample, c in ((x, cov), (y[:, 0], cov), (y[:, 1], batch_cov[1])):
        se = np.sqrt(np.diag(c) / count)
        assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * se)
        # the covariance's elements have standard errors about sqrt((c_ii c_jj + c_ij^2) / count)
        err = np.sqrt((np.outer(np.diag(c), np.diag(c)) + c**2) / count)
        assert np.all(np.abs(np.cov(sample.T) - c) < 5 * err)
    assert abs(np.corrcoef(y[:, 0, 0], y[:, 1, 0])[0, 1]) < 0.02  # rows of the batch independent


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_multivariate_normal_without_a_cholesky_factor_raises_in_both_modes(mode: str) -> None:
    rs = fc.RandomStream(SEED)
    cov = fc.tensor.dmatrix("cov")
    f = fc.function([cov], rs.multivariate_normal(np.zeros(2), cov, size=(3,)), mode=mode)
    with pytest.raises(ValueError, match=r"multivariate_normal.*not positive definite.*method='eigh'"):
        f(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"multivariate_normal.*cov must be finite"):
        f(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    assert f(np.eye(2)).shape == (3, 2)  # and draws again once given a good cov
