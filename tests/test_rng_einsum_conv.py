"""multivariate_normal's native step (the run-time's Cholesky factor, the same bits as the numpy
step, moments of the draw); einsum over dimensions of size 1 known only at run time (numpy's
broadcasting); conv2d's gradients with ``num_groups`` against the forward convolution's
gradient, finite differences and PyTensor's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.codegen.c_linker import runtime
from fncache.tensor.random import RandomVariable

from fcutil import fd_gradient

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


# -- einsum: a size 1 known only at run time broadcasts ------------------------------------------

#: (subscripts, the operands' shapes): dims of size 1 against larger ones, in a contraction (a
#: `BroadcastTensorDot`), in a product kept for later and in an ellipsis, on either side
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("ij,jk->ik", [(2, 3), (1, 4)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("i,i->", [(1,), (3,)]),
    ("ij,kj->ik", [(2, 3), (4, 1)]),
    ("ij,j->i", [(2, 1), (5,)]),
    ("ij,jk,kl->il", [(2, 1), (3, 4), (1, 5)]),
    ("bij,bjk->bik", [(2, 3, 1), (1, 4, 5)]),
    ("...ij,...jk->...ik", [(1, 2, 1), (3, 1, 4)]),
    ("ij,ij->i", [(1, 3), (2, 1)]),
]


@pytest.fixture(scope="module", params=["FAST_RUN", "FAST_COMPILE"])
def einsum_results(request: Any) -> tuple[list, list]:
    """Every case's operands, and its value and gradients of sum(einsum * weights) from one
    function per mode."""
    rng = np.random.default_rng(3)
    syms, vals, outs = [], [], []
    for sub, shapes in EINSUM_CASES:
        xs = [ft.tensor(dtype="float64", shape=(None,) * len(s)) for s in shapes]
        y = ft.einsum(sub, *xs)
        w = np.asarray(rng.standard_normal(np.einsum(sub, *[np.ones(s) for s in shapes]).shape))
        syms += xs
        vals.append([rng.standard_normal(s) for s in shapes])
        outs += [y, *fc.grad(ft.sum(y * w), xs)]
        vals[-1].append(w)
    f = fc.function(syms, outs, mode=request.param)
    got = f(*[v for case in vals for v in case[:-1]])
    return vals, got


@pytest.mark.parametrize("case", range(len(EINSUM_CASES)))
def test_einsum_broadcasts_a_size_1_known_only_at_run_time_as_numpy(einsum_results: Any, case: int) -> None:
    vals, got = einsum_results
    at = sum(1 + len(shapes) for _, shapes in EINSUM_CASES[:case])
    sub, shapes = EINSUM_CASES[case]
    *xs, w = vals[case]
    np.testing.assert_allclose(got[at], np.einsum(sub, *xs), rtol=1e-12, atol=1e-12)
    for k, x in enumerate(xs):  # the gradient of each operand, of its own shape

        def cost(v: np.ndarray, k: int = k) -> float:
            return float(np.sum(np.einsum(sub, *xs[:k], v, *xs[k + 1 :]) * w))

        assert got[at + 1 + k].shape == x.shape, (sub, k)
        np.testing.assert_allclose(got[at + 1 + k], fd_gradient(cost, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_einsum_contracted_sizes_that_do_not_broadcast_raise_naming_einsum(mode: str) -> None:
    a, b = ft.dmatrix("a"), ft.dmatrix("b")
    f = fc.function([a, b], ft.einsum("ij,jk->ik", a, b), mode=mode)
    with pytest.raises(
        ValueError, match=r"einsum: a contracted subscript has sizes 2 and 3.*must agree or one be 1"
    ):
        f(np.ones((2, 2)), np.ones((3, 4)))
    np.testing.assert_allclose(f(np.ones((2, 1)), np.ones((3, 4))), np.full((2, 4), 3.0))
