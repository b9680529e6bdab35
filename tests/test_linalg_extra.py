"""PyTensor's further ``slinalg``/``nlinalg`` names (``expm cho_solve lu lu_factor lu_solve
block_diag solve_discrete_lyapunov solve_continuous_lyapunov alloc_diag extract_diag``) in both
linkers: against numpy-built references always and against scipy.linalg where it is installed
(the bench extras), gradients against central finite differences, bad arguments, and the
module loading only when first asked for."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled, fd_check_grads, run_python

F32 = dict(rtol=2e-4, atol=2e-5)


def taylor_expm(a: np.ndarray) -> np.ndarray:
    """exp(a) by another algorithm: 30 Taylor terms of a / 2**s, squared s times."""
    s = max(0, int(np.ceil(np.log2(max(np.linalg.norm(a, 1), 1e-300)))) + 1)
    x = a / 2.0**s
    term, total = np.eye(len(a)), np.eye(len(a))
    for k in range(1, 30):
        term = term @ x / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


@compiled
def linalg_extra_fn(dtype: str, mode: str):
    A, B, S = ft.tensor("A", dtype, 2), ft.tensor("B", dtype, 2), ft.tensor("S", dtype, 3)
    b = ft.tensor("b", dtype, 1)
    sl = ft.slinalg
    lu_packed, piv = sl.lu_factor(A)
    outs = [
        sl.expm(A),
        sl.expm(S),
        *sl.lu(B),
        *sl.lu(B, p_indices=True),
        *sl.lu(B, permute_l=True),
        lu_packed,
        piv,
        sl.lu_solve((lu_packed, piv), b),
        sl.lu_solve((lu_packed, piv), B[: A.shape[0], :2], trans=1),
        sl.cho_solve((ft.cholesky(ft.dot(A, A.T) + 4 * ft.eye(A.shape[0])), True), b),
        sl.cho_solve((ft.slinalg.cholesky(ft.dot(A, A.T) + 4 * ft.eye(A.shape[0]), lower=False), False), b),
        sl.block_diag(A, b, B),
        sl.solve_discrete_lyapunov(A * 0.2, B[: A.shape[0], : A.shape[0]]),
        sl.solve_continuous_lyapunov(A + 3 * ft.eye(A.shape[0]), B[: A.shape[0], : A.shape[0]]),
        ft.nlinalg.alloc_diag(b, 1),
        ft.nlinalg.extract_diag(B),
    ]
    return fc.function([A, B, S, b], outs, mode=mode)


def _lu_reference(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Doolittle LU with partial pivoting in plain loops (the first largest pivot)."""
    m, n = b.shape
    u, perm, low = b.copy(), list(range(m)), np.zeros((m, m))
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        u[[j, p]], low[[j, p]] = u[[p, j]], low[[p, j]]
        perm[j], perm[p] = perm[p], perm[j]
        for i in range(j + 1, m):
            low[i, j] = u[i, j] / u[j, j] if u[j, j] else 0.0
            u[i] -= low[i, j] * u[j]
    k = min(m, n)
    lower = (low + np.eye(m))[:, :k]
    pmat = np.zeros((m, m))
    pmat[perm, np.arange(m)] = 1
    return pmat, lower, np.triu(u[:k])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_against_numpy_references(dtype: str, mode: str) -> None:
    f = linalg_extra_fn(dtype, mode)
    tol = {} if dtype == "float64" else F32
    rng = np.random.default_rng(3)
    for n, (r, c), scale in [
        (3, (4, 5), 0.1),
        (4, (6, 4), 1.0),
        (1, (2, 2), 4.0),
        (3, (3, 6), 20.0),
        (5, (5, 5), 20.0),
    ]:
        a = (rng.normal(size=(n, n)) * scale / n).astype(dtype)
        bm = rng.normal(size=(r, c)).astype(dtype)
        s = rng.normal(size=(2, n, n)).astype(dtype)
        bv = rng.normal(size=n).astype(dtype)
        got = f(a, bm, s, bv)
        a64, b64 = a.astype(float), bm.astype(float)
        assert_same(got[0], taylor_expm(a64).astype(dtype), "expm", rtol=tol.get("rtol", 1e-11), atol=1e-12)
        assert_same(
            got[1], np.stack([taylor_expm(m) for m in s.astype(float)]).astype(dtype), "expm stack", **tol
        )
        p, lower, upper = _lu_reference(b64)
        for name, g, w in [("P", got[2], p), ("L", got[3], lower), ("U", got[4], upper)]:
            assert_same(g, w.astype(dtype), f"lu {name} {bm.shape}", rtol=tol.get("rtol", 1e-12), atol=1e-12)
        np.testing.assert_allclose(got[2] @ got[3] @ got[4], bm, **(tol or dict(rtol=1e-12, atol=1e-12)))
        assert_same(got[5], np.argmax(p, axis=1).astype("int32"), "lu p_indices")
        np.testing.assert_allclose(got[6][got[5]] @ got[7], bm, **(tol or dict(atol=1e-12)))
        assert_same(
            got[8], (p @ lower).astype(dtype), "lu permute_l", rtol=tol.get("rtol", 1e-12), atol=1e-12
        )
        np.testing.assert_allclose(got[8] @ got[9], bm, **(tol or dict(atol=1e-12)))
        assert got[11].dtype == np.int32 and got[11].shape == (n,)
        np.testing.assert_allclose(a @ got[12], bv, **(tol or dict(rtol=1e-9, atol=1e-9)))
        np.testing.assert_allclose(a.T @ got[13], bm[:n, :2], **(tol or dict(rtol=1e-9, atol=1e-9)))
        spd = a64 @ a64.T + 4 * np.eye(n)
        for got_x in got[14:16]:
            np.testing.assert_allclose(spd @ got_x, bv, **(tol or dict(rtol=1e-10, atol=1e-10)))
        want_bd = np.zeros((n + 1 + r, n + n + c))
        want_bd[:n, :n], want_bd[n, n : 2 * n], want_bd[n + 1 :, 2 * n :] = a, bv, bm
        assert_same(got[16], want_bd.astype(dtype), "block_diag")
        q, a2 = b64[:n, :n], a64 * 0.2
        np.testing.assert_allclose(a2 @ got[17] @ a2.T - got[17] + q, 0, atol=1e-10 if not tol else 1e-4)
        a3 = a64 + 3 * np.eye(n)
        np.testing.assert_allclose(a3 @ got[18] + got[18] @ a3.T, q, atol=1e-10 if not tol else 1e-4)
        assert_same(got[19], np.diag(bv, 1), "alloc_diag")
        assert_same(got[20], np.diagonal(bm).copy(), "extract_diag")


@pytest.mark.parametrize("mode", MODES)
def test_against_scipy(mode: str) -> None:
    import scipy.linalg as sl  # the reference (a test dependency)

    f = linalg_extra_fn("float64", mode)
    rng = np.random.default_rng(5)
    for n, (r, c), scale in [(3, (4, 5), 0.003), (4, (6, 4), 1.0), (4, (4, 6), 9.0), (6, (6, 6), 60.0)]:
        a, bm = rng.normal(size=(n, n)) * scale, rng.normal(size=(r, c))
        s, bv = rng.normal(size=(2, n, n)) * scale, rng.normal(size=n)
        got = f(a, bm, s, bv)
        np.testing.assert_allclose(got[0], sl.expm(a), rtol=1e-10, atol=1e-13 * np.abs(sl.expm(a)).max())
        np.testing.assert_allclose(got[1], sl.expm(s), rtol=1e-10, atol=1e-12 * np.abs(sl.expm(s)).max())
        for g, w in zip(got[2:5], sl.lu(bm)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        for g, w in zip(got[5:8], sl.lu(bm, p_indices=True)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        for g, w in zip(got[8:10], sl.lu(bm, permute_l=True)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        lu_piv = sl.lu_factor(a)
        np.testing.assert_allclose(got[10], lu_piv[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(got[11], lu_piv[1])
        np.testing.assert_allclose(got[12], sl.lu_solve(lu_piv, bv), rtol=1e-10)
        np.testing.assert_allclose(got[13], sl.lu_solve(lu_piv, bm[:n, :2], trans=1), rtol=1e-10)
        c_low = np.linalg.cholesky(a @ a.T + 4 * np.eye(n))
        np.testing.assert_allclose(got[14], sl.cho_solve((c_low, True), bv), rtol=1e-12)
        np.testing.assert_allclose(got[15], sl.cho_solve((c_low.T, False), bv), rtol=1e-12)
        np.testing.assert_allclose(got[16], sl.block_diag(a, bv, bm))
        q = bm[:n, :n]
        np.testing.assert_allclose(got[17], sl.solve_discrete_lyapunov(a * 0.2, q), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            got[18], sl.solve_continuous_lyapunov(a + 3 * np.eye(n), q), rtol=1e-9, atol=1e-12
        )


def test_expm_special_matrices() -> None:
    A = ft.matrix("A")
    f = fc.function([A], ft.slinalg.expm(A))
    d = np.diag([-2.0, 0.0, 1.5])
    assert_same(f(d), np.diag(np.exp([-2.0, 0.0, 1.5])), "diagonal")
    nil = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    assert_same(f(nil), np.eye(3) + nil + nil @ nil / 2, "nilpotent", rtol=1e-14, atol=1e-15)
    big = np.array([[0.0, 50.0], [-50.0, 0.0]])  # a rotation by 50 radians: many squarings
    want = np.array([[np.cos(50.0), np.sin(50.0)], [-np.sin(50.0), np.cos(50.0)]])
    np.testing.assert_allclose(f(big), want, atol=1e-11)
    assert f(np.zeros((0, 0))).shape == (0, 0)
    assert np.isnan(f(np.array([[np.nan, 0.0], [0.0, 1.0]]))).all()
    assert_same(f(np.zeros((3, 3))), np.eye(3), "zero")


def test_lu_of_singular_and_integer_matrices() -> None:
    B = ft.matrix("B")
    f = fc.function([B], list(ft.slinalg.lu(B)))
    sing = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]])
    p, lower, upper = f(sing)
    np.testing.assert_allclose(p @ lower @ upper, sing, atol=1e-14)
    assert upper[1, 1] == 0.0 and np.all(np.isfinite(lower))
    bi = ft.imatrix("bi")
    out = ft.slinalg.lu(bi)
    assert [o.dtype for o in out] == ["float64"] * 3
    p, lower, upper = fc.function([bi], out)(np.array([[1, 2], [3, 4]], "int32"))
    np.testing.assert_allclose(p @ lower @ upper, [[1, 2], [3, 4]])


@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    A, B, S, b = ft.matrix("A"), ft.matrix("B"), ft.tensor("S", "float64", 3), ft.vector("b")
    sl = ft.slinalg
    cases = {
        "expm": (lambda A, B, S, b: sl.expm(A), [0]),
        "expm_scaled": (lambda A, B, S, b: sl.expm(4 * A), [0]),
        "expm_stack": (lambda A, B, S, b: sl.expm(S), [2]),
        "cho_solve_lower": (lambda A, B, S, b: sl.cho_solve((B, True), b), [1, 3]),
        "cho_solve_upper": (lambda A, B, S, b: sl.cho_solve((B.T, False), b), [1, 3]),
        "lu_solve": (lambda A, B, S, b: sl.lu_solve(sl.lu_factor(A), b), [3]),
        "lu_solve_t": (lambda A, B, S, b: sl.lu_solve(sl.lu_factor(A), b, trans=1), [3]),
        "block_diag": (lambda A, B, S, b: sl.block_diag(A, b, B), [0, 1, 3]),
        "lu_L": (lambda A, B, S, b: sl.lu(A)[1], [0]),
        "lu_U": (lambda A, B, S, b: sl.lu(A, p_indices=True)[2], [0]),
        "lu_PL": (lambda A, B, S, b: sl.lu(B.T + A, permute_l=True)[0], [0, 1]),
        "lu_factor": (lambda A, B, S, b: sl.lu_factor(A)[0], [0]),
        "discrete_lyapunov": (lambda A, B, S, b: sl.solve_discrete_lyapunov(0.3 * A, B), [0, 1]),
        "continuous_lyapunov": (lambda A, B, S, b: sl.solve_continuous_lyapunov(A, B), [0, 1]),
        "alloc_diag": (lambda A, B, S, b: ft.nlinalg.alloc_diag(b, -1), [3]),
        "extract_diag": (lambda A, B, S, b: ft.nlinalg.extract_diag(A), [0]),
    }
    rng = np.random.default_rng(7)
    values = []
    for n in (3, 2):
        a = rng.normal(size=(n, n)) + 2 * np.eye(n)
        c = np.linalg.cholesky(a @ a.T + n * np.eye(n))
        values.append([a, c, rng.normal(size=(2, n, n)) * 0.7, rng.normal(size=n)])
    fd_check_grads([A, B, S, b], cases, values, mode=mode)


def test_bad_arguments_name_the_function_what_was_given_and_the_fix() -> None:
    sl = ft.slinalg
    A, v, b = ft.matrix("A"), ft.vector("v"), ft.vector("b")
    with pytest.raises(ValueError, match="expm: takes a square matrix"):
        sl.expm(v)
    with pytest.raises(ValueError, match="expm: the last two dims must be square"):
        sl.expm(ft.tensor("r", "float64", shape=(2, 3)))
    f = fc.function([A], sl.expm(A))
    with pytest.raises(ValueError, match=r"expm: takes square matrices, got shape \(2, 3\)"):
        f(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="lu_factor: complex matrices are not supported"):
        sl.lu_factor(ft.tensor("z", "complex128", 2))
    with pytest.raises(TypeError, match=r"cho_solve: the first argument must be the pair \(c, lower\)"):
        sl.cho_solve(A, b)
    with pytest.raises(TypeError, match="cho_solve: lower must be"):
        sl.cho_solve((A, "yes"), b)
    with pytest.raises(ValueError, match="lu: takes a matrix"):
        sl.lu(v)
    with pytest.raises(TypeError, match="lu: permute_l must be"):
        sl.lu(A, permute_l="no")
    with pytest.raises(NotImplementedError, match="grad: the LU factors of .* a square matrix only"):
        w = ft.tensor("w", "float64", shape=(2, 3))
        fc.grad(ft.sum(sl.lu(w)[2]), w)
    wide = ft.matrix("wide")
    gw = fc.function([wide], fc.grad(ft.sum(sl.lu(wide)[2]), wide))
    with pytest.raises(AssertionError, match="grad: the LU factors have a gradient for a square matrix only"):
        gw(np.ones((2, 3)))
    with pytest.raises(ValueError, match="lu_factor: takes a square matrix or a stack of them"):
        sl.lu_factor(ft.tensor("s", "float64", 1))
    lu, piv = sl.lu_factor(A)
    with pytest.raises(ValueError, match="lu_solve: trans must be"):
        sl.lu_solve((lu, piv), b, trans=3)
    with pytest.raises(TypeError, match="lu_solve: the first argument must be the pair"):
        sl.lu_solve(lu, b)
    with pytest.raises(TypeError, match="lu_solve: piv must be an int vector"):
        sl.lu_solve((lu, b), b)
    p = ft.ivector("p")
    g = fc.function([A, p, b], sl.lu_solve((A, p), b))
    with pytest.raises(ValueError, match=r"lu_solve: pivots \[5, 0\] do not fit a matrix of 2 rows"):
        g(np.eye(2), np.array([5, 0], "int32"), np.ones(2))
    with pytest.raises(TypeError, match="block_diag: takes one or more matrices, got none"):
        sl.block_diag()
    with pytest.raises(
        ValueError, match="block_diag: with stacks of matrices every block needs 2 or more dims.* block 1"
    ):
        sl.block_diag(ft.tensor("t", "float64", 3), v)
    with pytest.raises(ValueError, match="solve_discrete_lyapunov: method must be"):
        sl.solve_discrete_lyapunov(A, A, method="schur")
    with pytest.raises(ValueError, match="solve_continuous_lyapunov: takes Q as a square matrix"):
        sl.solve_continuous_lyapunov(A, v)
    with pytest.raises(ValueError, match="solve_continuous_lyapunov: a is .* b needs 3 rows"):
        sl.solve_continuous_lyapunov(
            ft.tensor("p", "float64", shape=(3, 3)), ft.tensor("q", "float64", shape=(2, 2))
        )
    h = fc.function([A], sl.solve_continuous_lyapunov(A, A))
    with pytest.raises(np.linalg.LinAlgError, match="solve: Singular matrix"):
        h(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="extract_diag: takes a matrix"):
        ft.nlinalg.extract_diag(v)
    with pytest.raises(ValueError, match="alloc_diag: takes a vector"):
        ft.nlinalg.alloc_diag(ft.scalar("s"))
    with pytest.raises(AttributeError, match="module 'fncache.tensor.slinalg' has no attribute 'expmm'"):
        sl.expmm  # noqa: B018


def test_loads_only_when_asked_for() -> None:
    code = (
        "import sys\n"
        "from fncache import tensor as ft\n"
        "before = 'fncache.tensor.linalg_extra' in sys.modules\n"
        "f = ft.slinalg.lu_factor\n"
        "print(before, 'fncache.tensor.linalg_extra' in sys.modules, ft.nlinalg.alloc_diag.__module__)\n"
    )
    assert run_python(code).split() == ["False", "True", "fncache.tensor.extra_ops"]
