"""``linalg.tridiagonal_lu_factor`` and ``tridiagonal_lu_solve`` (LAPACK's gttrf and gttrs,
through scipy): the factors against scipy's gttrf, the solutions against numpy's dense solve,
stacks of systems with broadcast batch dims, PyTensor's signature, and bad input named."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.linalg as sla

import fncache as fc
from fncache import tensor as ft


def _tridiagonal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random tridiagonal matrices of ``shape``, zero off the three bands, with a diagonal small
    enough that the factorization pivots (row interchanges are exercised)."""
    a = rng.normal(size=shape)
    return np.triu(np.tril(a, 1), -1)


def _bands(a: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.diagonal(a, offset=k, axis1=-2, axis2=-1) for k in (-1, 0, 1))


def test_factors_are_scipys_gttrf() -> None:
    rng = np.random.default_rng(0)
    a = _tridiagonal(rng, 6, 6)
    x = ft.dmatrix("a")
    got = fc.function([x], list(ft.linalg.tridiagonal_lu_factor(x)))(a)
    *want, info = sla.lapack.dgttrf(*_bands(a))
    assert info == 0
    assert [g.dtype for g in got] == ["float64"] * 4 + ["int32"]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    assert not np.array_equal(got[4], np.arange(1, 7)), "these factors should pivot"


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("b_ndim", [1, 2])
def test_solutions_of_stacks_against_numpy(b_ndim: int, transposed: bool) -> None:
    rng = np.random.default_rng(1)
    a = _tridiagonal(rng, 3, 5, 5)
    b = rng.normal(size=(2, 1, 5) if b_ndim == 1 else (2, 1, 5, 4))  # batch (2, 1) against (3,)
    va, vb = ft.dtensor3("a"), ft.tensor("b", "float64", ndim=b.ndim)
    factors = ft.slinalg.tridiagonal_lu_factor(va)
    x = ft.linalg.tridiagonal_lu_solve(factors, vb, b_ndim=b_ndim, transposed=transposed)
    got = fc.function([va, vb], x)(a, b)
    m = np.swapaxes(a, -1, -2) if transposed else a
    want = np.linalg.solve(m, b[..., None])[..., 0] if b_ndim == 1 else np.linalg.solve(m, b)
    assert got.shape == want.shape == ((2, 3, 5) if b_ndim == 1 else (2, 3, 5, 4))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_and_static_sizes_propagate() -> None:
    rng = np.random.default_rng(2)
    a = (_tridiagonal(rng, 4, 4) + 4 * np.eye(4)).astype("float32")
    va = ft.tensor("a", "float32", shape=(4, 4))
    factors = ft.linalg.tridiagonal_lu_factor(va)
    assert [f.type.shape for f in factors] == [(3,), (4,), (3,), (2,), (4,)]
    x = ft.linalg.tridiagonal_lu_solve(factors, ft.fvector("b"), b_ndim=1)
    assert x.dtype == "float32" and x.type.shape == (4,)
    b = np.arange(4, dtype="float32")
    np.testing.assert_allclose(
        fc.function([va, x.owner.inputs[-1]], x)(a, b), np.linalg.solve(a, b), rtol=1e-4
    )


def test_against_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    rng = np.random.default_rng(3)
    a, b = _tridiagonal(rng, 5, 5), rng.normal(size=(5, 2))
    pa, pb = pt.dmatrix("a"), pt.dmatrix("b")
    pf = pt.linalg.tridiagonal_lu_factor(pa)
    want = pytensor.function([pa, pb], [*pf, pt.linalg.tridiagonal_lu_solve(pf, pb, b_ndim=2)])(a, b)
    fa, fb = ft.dmatrix("a"), ft.dmatrix("b")
    ff = ft.linalg.tridiagonal_lu_factor(fa)
    got = fc.function([fa, fb], [*ff, ft.linalg.tridiagonal_lu_solve(ff, fb, b_ndim=2)])(a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_a_compiled_function_pickles() -> None:
    va, vb = ft.dmatrix("a"), ft.dvector("b")
    fn = fc.function(
        [va, vb], ft.linalg.tridiagonal_lu_solve(ft.linalg.tridiagonal_lu_factor(va), vb, b_ndim=1)
    )
    a = _tridiagonal(np.random.default_rng(4), 4, 4) + 3 * np.eye(4)
    b = np.ones(4)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(fn))(a, b), np.linalg.solve(a, b), rtol=1e-12)


def test_bad_input_is_named() -> None:
    va = ft.dmatrix("a")
    factors = ft.linalg.tridiagonal_lu_factor(va)
    with pytest.raises(ValueError, match="tridiagonal_lu_factor: takes a square matrix"):
        ft.linalg.tridiagonal_lu_factor(ft.dvector("v"))
    with pytest.raises(ValueError, match="tridiagonal_lu_solve: b_ndim must be 1"):
        ft.linalg.tridiagonal_lu_solve(factors, ft.dvector("b"), b_ndim=3)
    with pytest.raises(TypeError, match="five outputs"):
        ft.linalg.tridiagonal_lu_solve(factors[:3], ft.dvector("b"), b_ndim=1)
    with pytest.raises(TypeError, match="ipiv must be the integer pivots"):
        ft.linalg.tridiagonal_lu_solve((*factors[:4], factors[1]), ft.dvector("b"), b_ndim=1)
    with pytest.raises(ValueError, match="at least 2 dims"):
        ft.linalg.tridiagonal_lu_solve(factors, ft.dvector("b"), b_ndim=2)
    vb = ft.dvector("b")
    fn = fc.function([va, vb], ft.linalg.tridiagonal_lu_solve(factors, vb, b_ndim=1))
    with pytest.raises(ValueError, match="tridiagonal_lu_solve: b has 3 rows"):
        fn(np.eye(4), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="tridiagonal_lu_factor: the matrix is singular"):
        fn(np.zeros((4, 4)), np.ones(4))


def test_the_names_are_pytensors() -> None:
    """``linalg`` holds both functions (``slinalg`` too), as PyTensor's ``linalg`` does."""
    for name in ("tridiagonal_lu_factor", "tridiagonal_lu_solve"):
        assert getattr(ft.linalg, name) is getattr(ft.slinalg, name)
    pytest.importorskip("pytensor")
    import pytensor.tensor.linalg as ptl

    assert callable(ptl.tridiagonal_lu_factor) and callable(ptl.tridiagonal_lu_solve)
