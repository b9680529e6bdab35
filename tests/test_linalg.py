"""Linear algebra (``ft.nlinalg``, ``ft.slinalg`` and their top-level names) against numpy in both
linkers: values and dtypes over seeded random shapes, stacks of matrices, gradients against
central finite differences, run-time errors naming the function, a Gaussian-process marginal
likelihood and its gradient, cache hits in a fresh process, pickles and the CUDA renderer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import (
    MODES,
    assert_pickles_round_trip,
    assert_same,
    in_tests_dir,
    compiled,
    assert_second_process_compiles_nothing,
    fd_check_grads,
)
from test_cuda_codegen import CUDA, emulated, needs_emulator  # noqa: F401  (emulated: a fixture)

F32 = dict(rtol=2e-4, atol=2e-5)  # float32 LAPACK on well-conditioned matrices


def spd(rng: np.random.Generator, shape: tuple[int, ...], dtype: str = "float64") -> np.ndarray:
    """Symmetric positive definite matrices (a stack when ``shape`` has more than 2 dims),
    well conditioned: ``M M^T + n I``."""
    m = rng.normal(size=shape)
    return (m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


@compiled
def linalg_fn(dtype: str, mode: str):
    A, S = ft.tensor("A", dtype, 2), ft.tensor("S", dtype, 3)
    b, B = ft.tensor("b", dtype, 1), ft.tensor("B", dtype, 2)
    outs = {
        "inv": (ft.matrix_inverse(A), lambda A, S, b, B: np.linalg.inv(A)),
        "nlinalg_inv": (ft.nlinalg.matrix_inverse(A) * 2, lambda A, S, b, B: np.linalg.inv(A) * 2),
        "det": (ft.det(A), lambda A, S, b, B: np.linalg.det(A)),
        "slogdet_sign": (ft.slogdet(A)[0], lambda A, S, b, B: np.linalg.slogdet(A)[0]),
        "slogdet_log": (ft.nlinalg.slogdet(A)[1], lambda A, S, b, B: np.linalg.slogdet(A)[1]),
        "inv_stack": (ft.inv(S), lambda A, S, b, B: np.linalg.inv(S)),
        "det_stack": (ft.det(S), lambda A, S, b, B: np.linalg.det(S)),
        "slogdet_stack": (ft.slogdet(S)[1], lambda A, S, b, B: np.linalg.slogdet(S)[1]),
        "chol": (ft.cholesky(A), lambda A, S, b, B: np.linalg.cholesky(A)),
        "chol_upper": (ft.slinalg.cholesky(A, lower=False), lambda A, S, b, B: np.linalg.cholesky(A).T),
        "chol_stack": (ft.cholesky(S), lambda A, S, b, B: np.linalg.cholesky(S)),
        "solve_vec": (ft.solve(A, b), lambda A, S, b, B: np.linalg.solve(A, b)),
        "solve_mat": (ft.slinalg.solve(A, B), lambda A, S, b, B: np.linalg.solve(A, B)),
        "solve_sym_upper": (
            ft.solve(ft.triu(A), b, assume_a="sym"),
            lambda A, S, b, B: np.linalg.solve(A, b),
        ),
        "solve_sym_lower": (
            ft.solve(ft.tril(A), B, assume_a="sym", lower=True),
            lambda A, S, b, B: np.linalg.solve(A, B),
        ),
        "tri_lower": (
            ft.solve_triangular(A, b, lower=True),
            lambda A, S, b, B: np.linalg.solve(np.tril(A), b),
        ),
        "tri_upper": (ft.slinalg.solve_triangular(A, B), lambda A, S, b, B: np.linalg.solve(np.triu(A), B)),
        "matrix_dot": (ft.matrix_dot(A, B, B.T, b), lambda A, S, b, B: A @ B @ B.T @ b),
        "trace": (ft.nlinalg.trace(A), lambda A, S, b, B: np.trace(A)),
        # a Python step's result feeds fused C kernels
        "fused": (ft.exp(-ft.inv(A)) + ft.sum(ft.solve(A, b)), None),
    }
    names = list(outs)
    f = fc.function([A, S, b, B], [outs[k][0] for k in names], mode=mode)
    refs = {k: outs[k][1] for k in names}
    refs["fused"] = lambda A, S, b, B: np.exp(-np.linalg.inv(A)) + np.linalg.solve(A, b).sum()
    return f, names, refs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_against_numpy(dtype: str, mode: str) -> None:
    f, names, refs = linalg_fn(dtype, mode)
    rng = np.random.default_rng(11)
    for n in [1, 2, 3, 5, 8]:
        k, batch = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        a = spd(rng, (n, n), dtype)
        a_strided = np.asfortranarray(a)  # a column-major input
        s = spd(rng, (batch, n, n), dtype)
        b = rng.normal(size=n).astype(dtype)
        bm = rng.normal(size=(n, k)).astype(dtype)
        for label, av in (("contiguous", a), ("fortran", a_strided)):
            for name, got in zip(names, f(av, s, b, bm)):
                want = refs[name](a, s, b, bm)
                tol = F32 if dtype == "float32" else dict(rtol=1e-9, atol=1e-11)
                assert_same(got, np.asarray(want, dtype), f"{name} n={n} {label}", **tol)


def test_dtypes_and_static_shapes() -> None:
    A = ft.tensor("A", "float64", shape=(3, 3))
    assert ft.inv(A).type.shape == (3, 3) and ft.det(A).type.shape == ()
    assert ft.solve(A, ft.dmatrix("B")).type.shape == (3, None)
    assert ft.det(ft.dtensor3("S")).type.shape == (None,)
    assert ft.inv(ft.imatrix("I")).dtype == "float64"  # integers are solved in float64, as numpy
    assert ft.solve(ft.fmatrix("F"), ft.dvector("d")).dtype == "float64"
    assert ft.solve(ft.fmatrix("F"), ft.fvector("v")).dtype == "float32"
    f = fc.function([i := ft.imatrix("i")], ft.inv(i))
    assert_same(f(np.array([[2, 0], [0, 4]], "int32")), np.linalg.inv(np.array([[2, 0], [0, 4]])))


# -- gradients --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    A, B, b, S = ft.dmatrix("A"), ft.dmatrix("B"), ft.dvector("b"), ft.dtensor3("S")
    cases = {
        "inv": (lambda A, B, b, S: ft.inv(A), [0]),
        "det": (lambda A, B, b, S: ft.det(A) * 0.01, [0]),
        "slogdet": (lambda A, B, b, S: ft.slogdet(A)[1] * ft.slogdet(A)[0], [0]),
        "inv_stack": (lambda A, B, b, S: ft.inv(S), [3]),
        "det_stack": (lambda A, B, b, S: ft.det(S) * 1e-3, [3]),
        "slogdet_stack": (lambda A, B, b, S: ft.slogdet(S)[1], [3]),
        "solve_vec": (lambda A, B, b, S: ft.solve(A, b), [0, 2]),
        "solve_mat": (lambda A, B, b, S: ft.solve(A, B), [0, 1]),
        "solve_sym": (lambda A, B, b, S: ft.solve(A, B, assume_a="sym", lower=True), [0, 1]),
        "cholesky": (lambda A, B, b, S: ft.cholesky(A), [0]),
        "cholesky_upper": (lambda A, B, b, S: ft.cholesky(A, lower=False), [0]),
        "tri_lower": (lambda A, B, b, S: ft.solve_triangular(A, b, lower=True), [0, 2]),
        "tri_upper": (lambda A, B, b, S: ft.solve_triangular(A, B, lower=False), [0, 1]),
        "matrix_dot": (lambda A, B, b, S: ft.matrix_dot(A, B, B.T), [0, 1]),
        "chained": (lambda A, B, b, S: ft.dot(ft.inv(A), ft.cholesky(A)) + ft.det(A) * 1e-3, [0]),
    }
    rng = np.random.default_rng(5)
    values = [
        [spd(rng, (n, n)), rng.normal(size=(n, 2)), rng.normal(size=n), spd(rng, (2, n, n))] for n in (1, 4)
    ]
    fd_check_grads([A, B, b, S], cases, values, mode=mode)


def test_float32_gradients_stay_float32() -> None:
    F, v = ft.fmatrix("F"), ft.fvector("v")
    cost = ft.det(F) + ft.sum(ft.solve(F, v)) + ft.sum(ft.cholesky(F)) + ft.slogdet(F)[1]
    g = fc.grad(cost, [F, v])
    assert [x.dtype for x in g] == ["float32", "float32"]
    a = spd(np.random.default_rng(0), (3, 3), "float32")
    outs = fc.function([F, v], g)(a, np.ones(3, "float32"))
    assert [o.dtype for o in outs] == [np.float32, np.float32]


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_singular_and_indefinite_inputs_raise_naming_the_function(mode: str) -> None:
    A, b = ft.dmatrix("A"), ft.dvector("b")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    cases = [
        (ft.inv(A), singular, "matrix_inverse: Singular matrix"),
        (ft.solve(A, b), singular, "solve: Singular matrix"),
        (ft.solve_triangular(A, b), np.triu(singular) * [[1, 1], [1, 0]], "solve_triangular: Singular"),
        (ft.cholesky(A), -np.eye(2), "cholesky: Matrix is not positive definite"),
        (ft.slogdet(A)[1] + ft.det(A), singular, None),  # no error: sign 0, log|det| -inf, det 0
    ]
    for out, value, message in cases:
        f = fc.function([A, b], out, mode=mode, on_unused_input="ignore")
        if message is None:
            assert f(value, np.ones(2)) == -np.inf
            continue
        with pytest.raises(np.linalg.LinAlgError, match=message) as e:
            f(value, np.ones(2))
        assert "(2, 2)" in str(e.value)
    f = fc.function([A, b], ft.solve(A, b), mode=mode)
    with pytest.raises(ValueError, match=r"solve: a has shape \(3, 3\) and b \(4,\); .* as many rows"):
        f(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match=r"solve: a has shape \(3, 4\)"):
        f(np.ones((3, 4)), np.ones(3))


def test_bad_arguments_name_the_function_and_the_fix() -> None:
    A, S = ft.dmatrix("A"), ft.dtensor3("S")
    with pytest.raises(ValueError, match=r"matrix_inverse: takes a square matrix or a stack.*1 dims"):
        ft.inv(ft.dvector("v"))
    with pytest.raises(ValueError, match=r"det: the last two dims must be square, got .*\(2,3\)"):
        ft.det(ft.tensor("r", "float64", shape=(2, 3)))
    with pytest.raises(ValueError, match=r"solve: takes a square matrix or a stack.*got .* \(1 dims\)"):
        ft.solve(ft.dvector("v"), ft.dvector("b"))
    with pytest.raises(ValueError, match=r"solve_triangular: takes b as a vector, a matrix.*0 dims"):
        ft.solve_triangular(A, ft.dscalar("s"))
    with pytest.raises(ValueError, match=r"solve: shapes \(2,\), \(3,\) cannot be broadcast"):
        ft.solve(ft.tensor("a", "float64", shape=(2, 4, 4)), ft.tensor("b", "float64", shape=(3, 4, 1)))
    assert ft.solve(S, ft.dvector("b")).type.shape == (None, None)
    with pytest.raises(ValueError, match=r"solve: a is .* b needs 3 rows"):
        ft.solve(ft.tensor("a", "float64", shape=(3, 3)), ft.tensor("b", "float64", shape=(4,)))
    with pytest.raises(ValueError, match=r"solve: assume_a must be one of .*'sym'.*got 'psd'"):
        ft.solve(A, ft.dvector("b"), assume_a="psd")
    with pytest.raises(TypeError, match=r"solve: complex matrices are not supported.*assume_a='gen'"):
        ft.solve(ft.zmatrix("z"), ft.zvector("b"), assume_a="pos")
    with pytest.raises(TypeError, match="solve_triangular: lower must be True or False"):
        ft.solve_triangular(A, A, lower="yes")
    with pytest.raises(TypeError, match="matrix_dot: give at least one matrix"):
        ft.matrix_dot()


# -- a Gaussian process ------------------------------------------------------------------------
def _gp_numpy(x: np.ndarray, y: np.ndarray, ell: float, noise: float) -> float:
    d2 = (x[:, None] - x[None, :]) ** 2
    k = np.exp(-0.5 * d2 / ell**2) + noise * np.eye(len(x))
    return -0.5 * y @ np.linalg.solve(k, y) - 0.5 * np.linalg.slogdet(k)[1]


@pytest.mark.parametrize("mode", MODES)
def test_gaussian_process_marginal_likelihood_and_its_gradient(mode: str) -> None:
    """``-0.5 y^T K^-1 y - 0.5 log det K``, K an RBF kernel of a shared lengthscale: the value as
    numpy computes it, and its derivative in the lengthscale as finite differences, through
    three spellings (inverse and det, solve and slogdet, Cholesky and triangular solves)."""
    x, y = ft.dvector("x"), ft.dvector("y")
    ell = fc.shared(np.float64(0.7), name="ell")
    noise = 0.1
    d2 = ft.sqr(x.dimshuffle(0, "x") - x.dimshuffle("x", 0))
    K = ft.exp(-0.5 * d2 / ft.sqr(ell)) + noise * ft.identity_like(d2)
    L = ft.cholesky(K)
    alpha = ft.solve_triangular(L, y, lower=True)
    lls = {
        "inv_det": -0.5 * ft.dot(y, ft.dot(ft.matrix_inverse(K), y)) - 0.5 * ft.log(ft.det(K)),
        "solve_slogdet": -0.5 * ft.dot(y, ft.solve(K, y)) - 0.5 * ft.slogdet(K)[1],
        # log det K = 2 sum log diag L
        "cholesky": -0.5 * ft.sum(ft.sqr(alpha)) - ft.sum(ft.log(ft.diagonal(L))),
    }
    names = list(lls)
    f = fc.function([x, y], [lls[k] for k in names] + [fc.grad(lls[k], ell) for k in names], mode=mode)
    rng = np.random.default_rng(3)
    xv = np.sort(rng.uniform(-2, 2, 12))
    yv = np.sin(2 * xv) + 0.1 * rng.normal(size=12)
    for lv in (0.7, 1.3):
        ell.set_value(np.float64(lv))
        res = f(xv, yv)
        want = _gp_numpy(xv, yv, lv, noise)
        eps = 1e-6
        fd = (_gp_numpy(xv, yv, lv + eps, noise) - _gp_numpy(xv, yv, lv - eps, noise)) / (2 * eps)
        for k, name in enumerate(names):
            np.testing.assert_allclose(res[k], want, rtol=1e-10, err_msg=name)
            np.testing.assert_allclose(res[len(names) + k], fd, rtol=1e-6, err_msg=f"d/d ell {name}")


# -- cache, pickles, CUDA ----------------------------------------------------------------------
def _linalg_graph():
    A, b = ft.dmatrix("A"), ft.dvector("b")
    out = ft.inv(A) + ft.tril(ft.cholesky(A)) + ft.roll(ft.solve(A, b), 1)
    return [A, b], [
        out,
        ft.det(A),
        ft.slogdet(A)[1],
        fc.grad(ft.det(A) + ft.sum(ft.solve_triangular(A, b)), A),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_factorizations_pickle_round_trip(mode: str) -> None:
    A, b = ft.dmatrix("A"), ft.dvector("b")
    u, s, vh = ft.svd(A, full_matrices=False)
    outs = [u, s, vh, *ft.eigh(A), *ft.qr(A, mode="complete"), *ft.lstsq(A, b, rcond=1e-8), ft.eig(A)[0]]
    outs += [fc.grad(ft.sum(s) + ft.sum(ft.pinv(A)) + ft.slinalg.eigvalsh(A)[0] + ft.nlinalg.norm(A, 2), A)]
    f = fc.function([A, b], outs, mode=mode)
    a = spd(np.random.default_rng(6), (4, 4))
    assert_pickles_round_trip(f, a, np.arange(4.0))


@pytest.mark.parametrize("mode", MODES)
def test_pickles_round_trip(mode: str) -> None:
    inputs, outs = _linalg_graph()
    f = fc.function(inputs, outs, mode=mode)
    a = spd(np.random.default_rng(2), (4, 4))
    b = np.arange(4.0)
    assert_pickles_round_trip(f, a, b)


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "from test_linalg import _linalg_graph, spd") + (
        "inputs, outs = _linalg_graph()\n"
        "f = fc.function(inputs, outs)\n"
        "a = spd(np.random.default_rng(2), (4, 4))\n"
        "r = f(a, np.arange(4.0))\n"
        "assert np.allclose(r[1], np.linalg.det(a))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex())\n"
    )
    tests_dir = str(Path(__file__).parent)
    assert_second_process_compiles_nothing(child, tests_dir)


@needs_emulator
def test_the_cuda_renderer_runs_linalg_on_the_host(emulated) -> None:
    """numpy.linalg steps run on the host between device kernels (the emulated device: real
    nvcc output run on the CPU)."""
    A, b = ft.fmatrix("A"), ft.fvector("b")
    outs = [ft.exp(ft.inv(A)) * 2, ft.tril(ft.cholesky(A), -1) + 1, ft.roll(ft.solve(A, b), 1) * b, ft.det(A)]
    outs += [ft.eigh(A)[0] * 2, ft.svd(A, compute_uv=False) + b, ft.qr(A, mode="r") - 1]
    f = fc.function([A, b], outs, mode=CUDA)
    a = spd(np.random.default_rng(4), (5, 5), "float32")
    v = np.arange(5, dtype="float32")
    want = [
        np.exp(np.linalg.inv(a)) * 2,
        np.tril(np.linalg.cholesky(a), -1) + 1,
        np.roll(np.linalg.solve(a, v), 1) * v,
        np.linalg.det(a),
        np.linalg.eigh(a)[0] * 2,
        np.linalg.svd(a, compute_uv=False) + v,
        np.linalg.qr(a, mode="r") - 1,
    ]
    for k, (got, w) in enumerate(zip(f(a, v), want)):
        assert_same(got.get() if hasattr(got, "get") else got, w.astype("float32"), f"output {k}", **F32)


# -- pinv, eigh, eig, svd, qr, lstsq, matrix_power, norm, kron, tensorinv, stacked solves ------
def _eig_ref(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eig(a)
    return w.astype(np.result_type(a.dtype, np.complex64)), v.astype(np.result_type(a.dtype, np.complex64))


def _generalized_eigvals(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    li = np.linalg.inv(np.linalg.cholesky(b))
    return np.linalg.eigvalsh(li @ a @ li.T)


def _factorizations(A, W, R, P, S, v, B, bn):
    """name -> (expression, numpy's value from the arguments): A a tall matrix, W a wide one,
    R square, P and S symmetric positive definite (S a stack), v and B right-hand sides of A's
    rows, bn one of S's."""
    nl = ft.nlinalg
    out = {
        "pinv_tall": (ft.pinv(A), lambda a: np.linalg.pinv(a["A"])),
        "pinv_wide": (nl.pinv(W), lambda a: np.linalg.pinv(a["W"])),
        "pinv_stack": (ft.pinv(S), lambda a: np.linalg.pinv(a["S"])),
        "pinv_hermitian": (ft.pinv(P, hermitian=True), lambda a: np.linalg.pinv(a["P"], hermitian=True)),
        "eigh_w": (ft.eigh(P)[0], lambda a: np.linalg.eigh(a["P"])[0]),
        "eigh_v": (nl.eigh(P)[1], lambda a: np.linalg.eigh(a["P"])[1]),
        "eigh_upper_v": (ft.eigh(P, UPLO="U")[1], lambda a: np.linalg.eigh(a["P"], UPLO="U")[1]),
        "eigh_stack_v": (ft.eigh(S)[1], lambda a: np.linalg.eigh(a["S"])[1]),
        "eigvalsh": (nl.eigvalsh(P), lambda a: np.linalg.eigvalsh(a["P"])),
        "eigvalsh_upper": (
            ft.slinalg.eigvalsh(ft.triu(P), None, lower=False),
            lambda a: np.linalg.eigvalsh(a["P"]),
        ),
        "eigvalsh_generalized": (
            ft.eigvalsh(R @ R.T, P),
            lambda a: _generalized_eigvals(a["R"] @ a["R"].T, a["P"]),
        ),
        "eig_w": (ft.eig(R)[0], lambda a: _eig_ref(a["R"])[0]),
        "eig_v": (nl.eig(S)[1], lambda a: _eig_ref(a["S"])[1]),
        "svd_u": (ft.svd(A)[0], lambda a: np.linalg.svd(a["A"])[0]),
        "svd_s": (ft.svd(A, 1, 1)[1], lambda a: np.linalg.svd(a["A"])[1]),
        "svd_vh": (ft.svd(A)[2], lambda a: np.linalg.svd(a["A"])[2]),
        "svd_reduced_u": (nl.svd(W, full_matrices=False)[0], lambda a: np.linalg.svd(a["W"], False)[0]),
        "svd_reduced_vh": (ft.svd(W, full_matrices=False)[2], lambda a: np.linalg.svd(a["W"], False)[2]),
        "svd_values": (ft.svd(W, compute_uv=False), lambda a: np.linalg.svd(a["W"], compute_uv=False)),
        "svd_stack_vh": (ft.svd(S, False)[2], lambda a: np.linalg.svd(a["S"], False)[2]),
        "qr_q": (ft.qr(A)[0], lambda a: np.linalg.qr(a["A"])[0]),
        "qr_r": (nl.qr(A)[1], lambda a: np.linalg.qr(a["A"])[1]),
        "qr_wide_q": (ft.qr(W)[0], lambda a: np.linalg.qr(a["W"])[0]),
        "qr_complete_q": (ft.qr(A, mode="complete")[0], lambda a: np.linalg.qr(a["A"], "complete")[0]),
        "qr_complete_r": (ft.qr(A, mode="complete")[1], lambda a: np.linalg.qr(a["A"], "complete")[1]),
        "qr_r_only": (ft.qr(W, mode="r"), lambda a: np.linalg.qr(a["W"], "r")),
        "qr_stack_r": (ft.qr(S)[1], lambda a: np.linalg.qr(a["S"])[1]),
    }
    names = ("x", "residuals", "rank", "s")
    for k, o in enumerate(ft.lstsq(A, v)):
        out[f"lstsq_vec_{names[k]}"] = (o, lambda a, k=k: np.linalg.lstsq(a["A"], a["v"])[k])
    for k, o in enumerate(nl.lstsq(W, B[: W.shape[0]], rcond=1e-3)):
        out[f"lstsq_wide_{names[k]}"] = (
            o,
            lambda a, k=k: np.linalg.lstsq(a["W"], a["B"][: len(a["W"])], 1e-3)[k],
        )
    out["lstsq_mat_x"] = (ft.lstsq(A, B)[0], lambda a: np.linalg.lstsq(a["A"], a["B"])[0])
    for p in (0, 1, 3, -2):
        out[f"matrix_power_{p}"] = (ft.matrix_power(R, p), lambda a, p=p: np.linalg.matrix_power(a["R"], p))
    out["matrix_power_stack"] = (nl.matrix_power(S, 5), lambda a: np.linalg.matrix_power(a["S"], 5))
    inf = np.inf
    for o in (None, 1, 2, inf, -inf, 0, 3, -1.5):
        out[f"norm_vec_{o}"] = (nl.norm(v, o), lambda a, o=o: np.linalg.norm(a["v"], o))
    for o in (None, "fro", "nuc", 1, -1, 2, -2, inf, -inf):
        out[f"norm_mat_{o}"] = (nl.norm(A, o), lambda a, o=o: np.linalg.norm(a["A"], o))
    for o, axis, keep in (
        (None, (2, 1), False),
        ("nuc", (1, 2), True),
        (1, (0, 2), False),
        (-inf, (2, 0), True),
    ):
        out[f"norm_stack_{o}_{axis}_{keep}"] = (
            nl.norm(S, o, axis, keep),
            lambda a, o=o, axis=axis, keep=keep: np.linalg.norm(a["S"], o, axis, keep),
        )
    out["norm_axis"] = (nl.norm(S, 3, axis=-1, keepdims=True), lambda a: np.linalg.norm(a["S"], 3, -1, True))
    out["norm_all"] = (nl.norm(S), lambda a: np.linalg.norm(a["S"]))
    out["kron"] = (ft.kron(A, B), lambda a: np.kron(a["A"], a["B"]))
    out["kron_mixed"] = (ft.slinalg.kron(v, S), lambda a: np.kron(a["v"], a["S"]))
    side = P.shape[0] if P.type.shape[0] is None else P.type.shape[0]
    R4 = ft.reshape(ft.kron(P, P), (side,) * 4)
    out["tensorinv"] = (ft.tensorinv(R4), lambda a: np.linalg.tensorinv(_four(a["P"])))
    out["tensorsolve"] = (
        ft.tensorsolve(R4, P, axes=(0,)),
        lambda a: np.linalg.tensorsolve(_four(a["P"]), a["P"], axes=(0,)),
    )
    out["solve_stack_vec"] = (ft.solve(S, bn), lambda a: np.linalg.solve(a["S"], a["bn"]))
    out["solve_stack_broadcast"] = (ft.solve(S, P), lambda a: np.linalg.solve(a["S"], a["P"]))
    out["solve_triangular_stack"] = (
        ft.solve_triangular(S, S[:1], lower=True),
        lambda a: np.linalg.solve(np.tril(a["S"]), a["S"][:1]),
    )
    out["trace"] = (ft.trace(R), lambda a: np.trace(a["R"]))
    return out


def _four_of(a, b):
    """``kron(a, b)`` of two square matrices of one size n as an (n, n, n, n) tensor."""
    n = a.shape[0]
    return ft.reshape(ft.kron(a, b), (n, n, n, n))


def _four(p: np.ndarray) -> np.ndarray:
    n = len(p)
    return np.kron(p, p).reshape(n, n, n, n)


INPUT_NAMES = ("A", "W", "R", "P", "S", "v", "B", "bn")


def _inputs(dtype: str, shapes: dict | None = None) -> list:
    ndims = dict(A=2, W=2, R=2, P=2, S=3, v=1, B=2, bn=1)
    if shapes is None:
        return [ft.tensor(k, dtype, ndims[k]) for k in INPUT_NAMES]
    return [ft.tensor(k, dtype, shape=shapes[k]) for k in INPUT_NAMES]


def _values(rng: np.random.Generator, n: int, dtype: str, batch: int = 2, k: int = 2) -> dict:
    m = n + 2
    return {
        "A": rng.normal(size=(m, n)).astype(dtype),
        "W": rng.normal(size=(n, n + 1)).astype(dtype),
        "R": (rng.normal(size=(n, n)) + n * np.eye(n)).astype(dtype),
        "P": spd(rng, (n, n), dtype),
        "S": spd(rng, (batch, n, n), dtype),
        "v": rng.normal(size=m).astype(dtype),
        "B": rng.normal(size=(m, k)).astype(dtype),
        "bn": rng.normal(size=n).astype(dtype),
    }


def _check_outputs(f, outs: dict, vals: dict, dtype: str, what: str) -> None:
    """Each result as numpy's (value, dtype, shape) and of its declared static shape."""
    tol = dict(rtol=5e-4, atol=5e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-11)
    for (name, (o, ref)), got in zip(outs.items(), f(*[vals[k] for k in INPUT_NAMES])):
        want = np.asarray(ref(vals))
        if want.dtype.kind == "f":
            want = want.astype(dtype)
        declared = o.type.shape
        assert o.ndim == got.ndim and all(s is None or s == d for s, d in zip(declared, got.shape)), (
            f"{name} {what}: declared {declared}, got {got.shape}"
        )
        if want.dtype.kind == "c":  # eig's: compared as real and imaginary parts
            assert got.dtype == want.dtype, f"{name} {what}: dtype {got.dtype}, numpy gives {want.dtype}"
            got, want = np.stack([got.real, got.imag]), np.stack([want.real, want.imag])
        assert_same(got, want, f"{name} {what}", **tol)


@compiled
def factorizations_fn(dtype: str, mode: str):
    inputs = _inputs(dtype)
    outs = _factorizations(*inputs)
    return fc.function(inputs, [o for o, _ in outs.values()], mode=mode), outs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_factorizations_against_numpy(dtype: str, mode: str) -> None:
    """Values, dtypes (float32 stays float32; eig's are complex) and shapes as numpy's, over
    random sizes and stack lengths."""
    f, outs = factorizations_fn(dtype, mode)
    rng = np.random.default_rng(21)
    for n in (1, 2, int(rng.integers(3, 6))):
        vals = _values(rng, n, dtype, batch=int(rng.integers(1, 4)), k=int(rng.integers(1, 4)))
        _check_outputs(f, outs, vals, dtype, f"n={n}")


@pytest.mark.parametrize("mode", MODES)
def test_static_shapes_of_the_factorizations_are_declared_and_kept(mode: str) -> None:
    """With every input size known, each result's declared shape is known (but lstsq's
    residuals, which depend on the rank) and is the shape the run returns."""
    rng = np.random.default_rng(8)
    vals = _values(rng, 3, "float64", batch=2, k=2)
    inputs = _inputs("float64", {k: v.shape for k, v in vals.items()})
    outs = _factorizations(*inputs)
    for name, (o, _) in outs.items():
        assert None not in o.type.shape or name.endswith("residuals"), f"{name}: {o.type}"
    f = fc.function(inputs, [o for o, _ in outs.values()], mode=mode)
    _check_outputs(f, outs, vals, "float64", "static")


def test_dtypes_follow_numpy() -> None:
    M, F = ft.imatrix("M"), ft.fmatrix("F")
    assert ft.matrix_power(M, 2).dtype == "int32" and ft.matrix_power(M, -1).dtype == "float64"
    assert [o.dtype for o in ft.eigh(M)] == ["float64", "float64"]
    assert [o.dtype for o in ft.eig(F)] == ["complex64", "complex64"]
    assert [o.dtype for o in ft.lstsq(F, ft.fvector("b"))] == ["float32", "float32", "int32", "float32"]
    assert ft.lstsq(F, ft.dvector("b"))[0].dtype == "float64"
    assert ft.nlinalg.norm(M).dtype == "float64" and ft.nlinalg.norm(F, "nuc").dtype == "float32"
    assert ft.kron(F, ft.ivector("v")).dtype == "float64"  # numpy's promotion
    f = fc.function([M], [ft.matrix_power(M, 3), ft.svd(M, compute_uv=False), ft.kron(M, M)])
    iv = np.array([[1, 2], [3, 4]], "int32")
    want = [np.linalg.matrix_power(iv, 3), np.linalg.svd(iv, compute_uv=False), np.kron(iv, iv)]
    for got, w in zip(f(iv), want):
        assert_same(got, w)


# -- their gradients ---------------------------------------------------------------------------
def _unsigned(m):
    """Each column of ``m`` times its first entry: the same for either sign of a column (an
    eigenvector or singular vector is defined up to its sign)."""
    return m * m[..., :1, :]


@pytest.mark.parametrize("mode", MODES)
def test_factorization_gradients_against_finite_differences(mode: str) -> None:
    nl = ft.nlinalg
    inputs = _inputs("float64")
    cases = {
        "pinv_tall": (lambda A, W, R, P, S, v, B, bn: ft.pinv(A), [0]),
        "pinv_wide": (lambda A, W, R, P, S, v, B, bn: ft.pinv(W), [1]),
        "pinv_stack": (lambda A, W, R, P, S, v, B, bn: ft.pinv(S), [4]),
        "pinv_hermitian": (lambda A, W, R, P, S, v, B, bn: ft.pinv(P, hermitian=True), [3]),
        "eigh_w": (lambda A, W, R, P, S, v, B, bn: ft.eigh(P)[0], [3]),
        "eigh_v": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.eigh(P)[1]), [3]),
        "eigh_upper": (
            lambda A, W, R, P, S, v, B, bn: _unsigned(ft.eigh(P, "U")[1]) + ft.eigh(P, "U")[0],
            [3],
        ),
        "eigh_stack": (
            lambda A, W, R, P, S, v, B, bn: _unsigned(ft.eigh(S)[1]) + ft.eigh(S)[0][:, None, :] * 0.01,
            [4],
        ),
        "eigvalsh": (lambda A, W, R, P, S, v, B, bn: ft.eigvalsh(R + R.T, P), [2, 3]),
        "svd_s": (lambda A, W, R, P, S, v, B, bn: ft.svd(A)[1] + ft.svd(W, compute_uv=False), [0, 1]),
        "svd_u_tall": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(A, False)[0]), [0]),
        "svd_vh_tall": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(A, False)[2].T), [0]),
        "svd_wide": (
            lambda A, W, R, P, S, v, B, bn: _unsigned(nl.svd(W, False)[0] * nl.svd(W, False)[1]),
            [1],
        ),
        "svd_vh_wide": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(W, False)[2].T), [1]),
        "svd_stack": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(S, False)[0]), [4]),
        "qr_q": (lambda A, W, R, P, S, v, B, bn: ft.qr(A)[0], [0]),
        "qr_r": (lambda A, W, R, P, S, v, B, bn: ft.qr(A)[1], [0]),
        "qr_square": (lambda A, W, R, P, S, v, B, bn: nl.qr(R)[0] * 2 + nl.qr(R, "r"), [2]),
        "qr_stack": (lambda A, W, R, P, S, v, B, bn: ft.qr(S)[0] + ft.qr(S)[1], [4]),
        "lstsq_vec": (lambda A, W, R, P, S, v, B, bn: ft.lstsq(A, v)[0], [0, 5]),
        "lstsq_mat": (lambda A, W, R, P, S, v, B, bn: ft.lstsq(A, B)[0] + ft.lstsq(A, B)[3][:, None], [0, 6]),
        "matrix_power": (
            lambda A, W, R, P, S, v, B, bn: ft.matrix_power(R, 3) * 0.01 + ft.matrix_power(P, -2),
            [2, 3],
        ),
        "matrix_power_stack": (lambda A, W, R, P, S, v, B, bn: ft.matrix_power(S, 2) * 0.1, [4]),
        "norm_vec": (lambda A, W, R, P, S, v, B, bn: nl.norm(v) + nl.norm(v, 3) + nl.norm(v, 1), [5]),
        "norm_mat": (
            lambda A, W, R, P, S, v, B, bn: (
                nl.norm(A, "nuc") + nl.norm(A, 2) + nl.norm(A, -2) + nl.norm(A, np.inf)
            ),
            [0],
        ),
        "norm_stack": (
            lambda A, W, R, P, S, v, B, bn: (nl.norm(S, "fro", axis=(1, 2)) + nl.norm(S, 1, (2, 1))) * 0.1,
            [4],
        ),
        "kron": (lambda A, W, R, P, S, v, B, bn: ft.kron(A, B) + ft.kron(v, B).sum(), [0, 5, 6]),
        "trace": (lambda A, W, R, P, S, v, B, bn: ft.trace(ft.dot(R, P)), [2, 3]),
        "tensorinv_tensorsolve": (
            lambda A, W, R, P, S, v, B, bn: ft.tensorinv(_four_of(R, P)) + ft.tensorsolve(_four_of(R, P), R),
            [2, 3],
        ),
        "cholesky_stack": (lambda A, W, R, P, S, v, B, bn: ft.cholesky(S), [4]),
        "cholesky_stack_upper": (lambda A, W, R, P, S, v, B, bn: ft.cholesky(S, lower=False), [4]),
        "solve_stack_vec": (lambda A, W, R, P, S, v, B, bn: ft.solve(S, bn), [4, 7]),
        "solve_stack_broadcast": (lambda A, W, R, P, S, v, B, bn: ft.solve(S, P) + ft.solve(P, S), [3, 4]),
        "solve_triangular_stack": (
            lambda A, W, R, P, S, v, B, bn: ft.solve_triangular(S, P, lower=True),
            [3, 4],
        ),
    }
    rng = np.random.default_rng(17)
    value_sets = []
    for n in (1, int(rng.integers(2, 5))):
        vals = _values(rng, n, "float64", batch=2, k=int(rng.integers(1, 3)))
        value_sets.append([vals[k] for k in INPUT_NAMES])
    fd_check_grads(inputs, cases, value_sets, mode=mode)


def _complement_gram(q, k, rows: bool = False):
    """``Q2 @ Q2.T`` of the columns of ``q`` past ``k`` (rows with ``rows``): the projection on
    the complement they span, the same for any choice of them within it."""
    q2 = q[k:].T if rows else q[:, k:]
    return ft.dot(q2, q2.T)


@pytest.mark.parametrize("mode", MODES)
def test_full_svd_complete_and_wide_qr_and_residual_gradients(mode: str) -> None:
    """The factors a full SVD or a complete QR adds beyond min(M, N), a wide QR and lstsq's
    residuals, against central finite differences: costs of the added columns through their
    projection (unique whatever rotation within the complement LAPACK picks), the others as
    the reduced ones, square matrices as the reduced factorization."""
    nl = ft.nlinalg

    def svd_full_tall(A, W, R, P, S, v, B, bn):
        u, s, vh = ft.svd(A)
        return _complement_gram(u, s.shape[0]) + _unsigned(u[:, : s.shape[0]]).sum(axis=1, keepdims=True)

    def svd_full_wide(A, W, R, P, S, v, B, bn):
        u, s, vh = nl.svd(W, full_matrices=True)
        k = s.shape[0]
        return _complement_gram(vh, k, rows=True) + _unsigned(vh[:k].T).sum(axis=1, keepdims=True) + s.sum()

    def qr_complete_tall(A, W, R, P, S, v, B, bn):
        q, r = ft.qr(A, mode="complete")
        k = r.shape[1]
        return _complement_gram(q, k) + q[:, :k].sum(axis=1, keepdims=True) + r.sum()

    def lstsq_residuals(A, W, R, P, S, v, B, bn):
        res_v, res_b = ft.lstsq(A, v)[1], ft.lstsq(A, B)[1]
        x, res_wide = ft.lstsq(W, bn)[:2]  # empty residuals: no gradient from them
        return ft.concatenate([res_v, res_b * 0.5, ft.lstsq(A, B)[0].sum(axis=0) + res_b, x, res_wide])

    cases = {
        "svd_full_square": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(R)[0]), [2]),
        "svd_full_square_vh": (lambda A, W, R, P, S, v, B, bn: _unsigned(ft.svd(R)[2].T) + ft.svd(R)[1], [2]),
        "svd_full_usv": (
            lambda A, W, R, P, S, v, B, bn: ft.dot(ft.svd(R)[0] * ft.svd(R)[1], ft.svd(R)[2]),
            [2],
        ),
        "svd_full_stack": (
            lambda A, W, R, P, S, v, B, bn: (
                _unsigned(ft.svd(S)[0]) + _unsigned(ft.svd(S)[2].dimshuffle(0, 2, 1))
            ),
            [4],
        ),
        "svd_full_tall": (svd_full_tall, [0]),
        "svd_full_wide": (svd_full_wide, [1]),
        "qr_wide_q": (lambda A, W, R, P, S, v, B, bn: ft.qr(W)[0], [1]),
        "qr_wide_r": (lambda A, W, R, P, S, v, B, bn: ft.qr(W)[1] + nl.qr(W, "r") * 0.5, [1]),
        "qr_wide_complete": (
            lambda A, W, R, P, S, v, B, bn: ft.qr(W, mode="complete")[1] + ft.qr(W)[0].sum(),
            [1],
        ),
        "qr_wide_stack": (
            lambda A, W, R, P, S, v, B, bn: ft.qr(ft.concatenate([S, S[:, ::-1]], axis=2))[1],
            [4],
        ),
        "qr_complete_square": (
            lambda A, W, R, P, S, v, B, bn: ft.qr(R, mode="complete")[0] + nl.qr(R)[1],
            [2],
        ),
        "qr_complete_tall": (qr_complete_tall, [0]),
        "lstsq_residuals": (lstsq_residuals, [0, 1, 5, 6, 7]),
    }
    rng = np.random.default_rng(23)
    value_sets = []
    for n in (1, int(rng.integers(2, 5))):
        vals = _values(rng, n, "float64", batch=2, k=int(rng.integers(1, 3)))
        value_sets.append([vals[k] for k in INPUT_NAMES])
    fd_check_grads(_inputs("float64"), cases, value_sets, mode=mode)
    # every size known: the rules split the matrices at a known column
    static = _inputs("float64", {k: v.shape for k, v in zip(INPUT_NAMES, value_sets[1])})
    fd_check_grads(static, cases, value_sets[1:], mode=mode)


def test_new_gradients_of_float32_stay_float32() -> None:
    F, S, v = ft.fmatrix("F"), ft.ftensor3("S"), ft.fvector("v")
    cost = ft.sum(ft.pinv(F)) + ft.sum(ft.eigh(F)[1][0]) + ft.sum(ft.svd(F)[1]) + ft.sum(ft.qr(F)[0])
    cost += (
        ft.sum(ft.lstsq(F, v)[0])
        + ft.sum(ft.lstsq(F, v)[1])
        + ft.sum(ft.svd(F)[0])
        + ft.sum(ft.qr(F, mode="complete")[1])
        + ft.nlinalg.norm(F, "nuc")
        + ft.sum(ft.cholesky(S))
        + ft.sum(ft.solve(S, v))
    )
    g = fc.grad(cost, [F, S, v])
    assert [x.dtype for x in g] == ["float32"] * 3
    rng = np.random.default_rng(0)
    outs = fc.function([F, S, v], g)(
        spd(rng, (3, 3), "float32"), spd(rng, (2, 3, 3), "float32"), np.ones(3, "float32")
    )
    assert [o.dtype for o in outs] == [np.float32] * 3


def test_gradients_refused_name_the_function_and_the_fix() -> None:
    A = ft.dmatrix("A")
    refusals = [
        (ft.real(ft.eig(A)[0]), r"complex output of Eig .* eig has no gradient; .* use ft.eigh"),
        (ft.abs(ft.eig(A)[1]) * 2, r"complex output of Eig"),
    ]
    for out, message in refusals:
        with pytest.raises(NotImplementedError, match=message):
            fc.grad(ft.sum(out), A)
    # the full SVD, the complete and the wide QR and lstsq's residuals have one
    w, t = ft.tensor("w", "float64", shape=(2, 3)), ft.tensor("t", "float64", shape=(3, 2))
    for out, x in [
        (ft.svd(A)[0], A),
        (ft.svd(w)[2], w),
        (ft.svd(t)[0] + ft.svd(t)[1][0], t),
        (ft.qr(A, mode="complete")[0], A),
        (ft.qr(t, mode="complete")[0], t),
        (ft.qr(w)[1], w),
        (ft.lstsq(A, ft.dvector("b"))[1], A),
        (ft.lstsq(t, ft.dmatrix("b"))[1], t),
    ]:
        assert fc.grad(ft.sum(out), x).type == x.type


# -- their errors ------------------------------------------------------------------------------
def test_bad_arguments_of_the_factorizations() -> None:
    A, v = ft.dmatrix("A"), ft.dvector("v")
    rect = ft.tensor("r", "float64", shape=(2, 3))
    cases = [
        (lambda: ft.eigh(rect), ValueError, r"eigh: the last two dims must be square, got .*\(2,3\).*pinv"),
        (lambda: ft.eig(v), ValueError, r"eig: takes a square matrix or a stack .*1 dims"),
        (lambda: ft.svd(v), ValueError, r"svd: takes a matrix or a stack of them \(2 or more dims\)"),
        (lambda: ft.pinv(rect, hermitian=True), ValueError, r"pinv: the last two dims must be square"),
        (lambda: ft.pinv(A, hermitian="no"), TypeError, r"pinv: hermitian must be True or False"),
        (lambda: ft.svd(A, full_matrices=2), TypeError, r"svd: full_matrices must be True or False, got 2"),
        (
            lambda: ft.qr(A, mode="economic"),
            ValueError,
            r"qr: mode='economic' is not supported; use 'reduced'",
        ),
        (lambda: ft.eigh(A, UPLO="X"), ValueError, r"eigh: UPLO must be 'L'"),
        (
            lambda: ft.slinalg.lu(ft.zmatrix("z")),
            TypeError,
            r"lu: complex matrices are not supported.*give real",
        ),
        (lambda: ft.lstsq(A, ft.dtensor3("t")), ValueError, r"lstsq: takes b as a vector or a matrix"),
        (
            lambda: ft.lstsq(rect, ft.tensor("b", "float64", shape=(3,))),
            ValueError,
            r"lstsq: .* b needs 2 rows",
        ),
        (
            lambda: ft.lstsq(A, v, rcond="x"),
            TypeError,
            r"lstsq: rcond must be a number, None or a symbolic scalar",
        ),
        (lambda: ft.matrix_power(A, 1.5), TypeError, r"matrix_power: n must be an int, got 1.5"),
        (lambda: ft.matrix_power(v, 2), ValueError, r"matrix_power: takes a square matrix .* \(1 dims\)"),
        (lambda: ft.matrix_power(rect, 2), ValueError, r"matrix_power: the last two dims must be square"),
        (lambda: ft.nlinalg.norm(v, "fro"), ValueError, r"norm: ord='fro' is a matrix norm"),
        (lambda: ft.nlinalg.norm(A, 3), ValueError, r"norm: ord=3 is not a matrix norm; use None or 'fro'"),
        (lambda: ft.nlinalg.norm(ft.dtensor3("t"), 2), ValueError, r"norm: ord=2 without axis .* give axis="),
        (lambda: ft.nlinalg.norm(A, axis=(0, 1, 0)), ValueError, r"norm"),
        (lambda: ft.tensorinv(A, ind=2), ValueError, r"tensorinv: ind must be an int between 1 and 1"),
    ]
    for build, error, message in cases:
        with pytest.raises(error, match=message):
            build()


@pytest.mark.parametrize("mode", MODES)
def test_run_time_errors_of_the_factorizations_name_the_function(mode: str) -> None:
    A, B, S, T, b = ft.dmatrix("A"), ft.dmatrix("B"), ft.dtensor3("S"), ft.dtensor3("T"), ft.dvector("b")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    square = np.ones((2, 3, 3)) + np.eye(3)
    LinAlgError = np.linalg.LinAlgError
    cases = [
        (
            [A],
            ft.eigh(A)[0],
            [np.ones((2, 3))],
            LinAlgError,
            r"eigh: Last 2 .* square \(input shapes \(2, 3\)\)",
        ),
        ([A], ft.eig(A)[0], [np.ones((3, 2))], LinAlgError, r"eig: Last 2 dimensions .* \(3, 2\)"),
        (
            [A],
            ft.matrix_power(A, -1),
            [singular],
            LinAlgError,
            r"matrix_inverse: Singular matrix.*use pinv or lstsq",
        ),
        (
            [A, b],
            ft.lstsq(A, b)[0],
            [np.ones((3, 2)), np.ones(4)],
            LinAlgError,
            r"lstsq: Incompatible dimensions",
        ),
        (
            [S, b],
            ft.solve(S, b),
            [np.stack([np.eye(2), singular]), np.ones(2)],
            LinAlgError,
            r"solve: Singular",
        ),
        (
            [S, T],
            ft.solve(S, T),
            [square, np.ones((3, 3, 3))],
            ValueError,
            r"solve: .*\(2, 3, 3\), \(3, 3, 3\)",
        ),
        (
            [S, b],
            ft.solve(S, b),
            [square, np.ones(2)],
            ValueError,
            r"solve: a has shape \(2, 3, 3\) and b \(2,\)",
        ),
        (
            [S],
            ft.cholesky(S),
            [np.stack([np.eye(2), -np.eye(2)])],
            LinAlgError,
            r"cholesky: Matrix is not positive",
        ),
    ]
    for inputs, out, args, error, message in cases:
        f = fc.function(inputs, out, mode=mode)
        with pytest.raises(error, match=message):
            f(*args)
    # a matrix of right-hand sides broadcast over the stack
    f = fc.function([S, B], ft.solve(S, B), mode=mode)
    assert_same(f(square, np.ones((3, 1))), np.linalg.solve(square, np.ones((3, 1))))
