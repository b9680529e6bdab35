"""Linear algebra (``ft.nlinalg``, ``ft.slinalg`` and their top-level names) against numpy in both
linkers: values and dtypes over seeded random shapes, stacks of matrices, gradients against
central finite differences, run-time errors naming the function, a Gaussian-process marginal
likelihood and its gradient, cache hits in a fresh process, pickles and the CUDA renderer."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled, fd_check_grads
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


def test_cholesky_of_a_stack_has_no_gradient_yet() -> None:
    with pytest.raises(NotImplementedError, match=r"cholesky.*3 dims.*per matrix"):
        S = ft.dtensor3("S")
        fc.grad(ft.sum(ft.cholesky(S)), S)


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
    with pytest.raises(ValueError, match=r"solve: takes a square matrix \(2 dims\), got .* \(3 dims\)"):
        ft.solve(S, ft.dvector("b"))
    with pytest.raises(ValueError, match=r"solve_triangular: takes b as a vector or a matrix.*3 dims"):
        ft.solve_triangular(A, S)
    with pytest.raises(ValueError, match=r"solve: a is .* b needs 3 rows"):
        ft.solve(ft.tensor("a", "float64", shape=(3, 3)), ft.tensor("b", "float64", shape=(4,)))
    with pytest.raises(ValueError, match=r"assume_a='pos' is not supported; use 'gen'"):
        ft.solve(A, ft.dvector("b"), assume_a="pos")
    with pytest.raises(TypeError, match=r"cholesky: complex matrices are not supported"):
        ft.cholesky(ft.zmatrix("z"))
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
def test_pickles_round_trip(mode: str) -> None:
    inputs, outs = _linalg_graph()
    f = fc.function(inputs, outs, mode=mode)
    a = spd(np.random.default_rng(2), (4, 4))
    b = np.arange(4.0)
    want = f(a, b)
    for g in (pickle.loads(pickle.dumps(f)), fc.loads(fc.dumps(f))):
        assert g.cache_key == f.cache_key
        for got, w in zip(g(a, b), want):
            assert got.tobytes() == w.tobytes()


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = (
        "import sys, numpy as np\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import fncache as fc\n"
        "from fncache import tensor as ft\n"
        f"fc.config.compiledir = {str(tmp_path / 'cd')!r}\n"
        "from test_linalg import _linalg_graph, spd\n"
        "inputs, outs = _linalg_graph()\n"
        "f = fc.function(inputs, outs)\n"
        "a = spd(np.random.default_rng(2), (4, 4))\n"
        "r = f(a, np.arange(4.0))\n"
        "assert np.allclose(r[1], np.linalg.det(a))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex())\n"
    )
    tests_dir = str(__import__("pathlib").Path(__file__).parent)
    runs = [
        subprocess.run([sys.executable, "-c", child, tests_dir], capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    first, second = (r.stdout.split() for r in runs)
    assert int(first[0]) >= 1
    assert second == first  # same key and value, and the second process compiled nothing more


@needs_emulator
def test_the_cuda_renderer_runs_linalg_on_the_host(emulated) -> None:
    """numpy.linalg steps run on the host between device kernels (the emulated device: real
    nvcc output run on the CPU)."""
    A, b = ft.fmatrix("A"), ft.fvector("b")
    outs = [ft.exp(ft.inv(A)) * 2, ft.tril(ft.cholesky(A), -1) + 1, ft.roll(ft.solve(A, b), 1) * b, ft.det(A)]
    f = fc.function([A, b], outs, mode=CUDA)
    a = spd(np.random.default_rng(4), (5, 5), "float32")
    v = np.arange(5, dtype="float32")
    want = [
        np.exp(np.linalg.inv(a)) * 2,
        np.tril(np.linalg.cholesky(a), -1) + 1,
        np.roll(np.linalg.solve(a, v), 1) * v,
        np.linalg.det(a),
    ]
    for k, (got, w) in enumerate(zip(f(a, v), want)):
        assert_same(got.get() if hasattr(got, "get") else got, w.astype("float32"), f"output {k}", **F32)
