"""The dtypes of every linear-algebra function (``ft.linalg``, ``ft.nlinalg``, ``ft.slinalg``)
for float32, float64, int32 and int64 inputs: the dtype each output declares, the dtype it has
when the function runs (FAST_RUN and FAST_COMPILE) and scipy's (numpy's for ``nlinalg``'s numpy
functions) for the same call must be one dtype, and the values must be scipy's within the
precision of that dtype (factors that are not unique compared by what they reconstruct).
PyTensor's declared dtypes are compared too: where they differ from scipy's (or PyTensor
refuses the call), docs/numpy.md says so (``PYTENSOR_DIFFERS``). Complex inputs must match
scipy (numpy) where a case ``takes_complex``, and be refused with a ``TypeError`` naming the
function elsewhere.

The inputs are small matrices of integer values, the same numbers in every dtype, so scipy
sees exactly what fncache does; one function per (dtype, mode) holds every case's outputs.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
import scipy.linalg as sla

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, compiled

REAL_DTYPES = ("float32", "float64", "int32", "int64")
COMPLEX_DTYPES = ("complex64", "complex128")


def _inputs() -> dict[str, np.ndarray]:
    """The integer-valued operands, as float64: ``G`` and ``C`` well conditioned with
    eigenvalues in the right half-plane (Gershgorin: off-diagonal sums below 8), ``S`` and
    ``R`` symmetric positive definite, ``N`` strictly lower triangular (nilpotent: a stable
    discrete system), ``B`` tall (4 x 2, full rank), ``b`` a vector."""
    rng = np.random.default_rng(7)

    def small(*shape: int) -> np.ndarray:
        return rng.integers(-2, 3, shape).astype(float)

    m = small(4, 4)
    return dict(
        G=small(4, 4) + 8 * np.eye(4),
        C=small(4, 4) + 8 * np.eye(4),
        S=m @ m.T + 4 * np.eye(4),
        N=np.tril(small(4, 4), -1),
        B=np.array([[1.0, 2], [0, 1], [-1, 3], [2, 0]]),
        R=np.array([[3.0, 1], [1, 2]]),
        b=np.array([1.0, -2, 3, 0]),
    )


INPUTS = _inputs()


def _complex_inputs() -> dict[str, np.ndarray]:
    """The operands plus integer imaginary parts (``S`` and ``R`` stay Hermitian)."""
    rng = np.random.default_rng(8)
    out = {}
    for k, v in INPUTS.items():
        im = rng.integers(-2, 3, v.shape).astype(float)
        if k in ("S", "R"):
            im = np.triu(im, 1) - np.triu(im, 1).T
        out[k] = v + 1j * im
    return out


COMPLEX_INPUTS = _complex_inputs()


def _recon(*factors_of: Callable[..., np.ndarray]) -> Callable[..., list[np.ndarray]]:
    """A canonical form of outputs that are not unique: each function of the outputs (a
    reconstruction such as ``Z T Z^H``) in place of the outputs themselves."""
    return lambda *outs: [f(*outs) for f in factors_of]


def _h(x: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(x, -1, -2))


def _eigvals(w: np.ndarray) -> np.ndarray:
    return np.sort_complex(np.asarray(w, complex))


def _eig_canon(w: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
    """The eigenvalues in order and the magnitudes of their unit eigenvectors (unique but for
    a phase, the eigenvalues being distinct)."""
    order = np.lexsort((w.imag, w.real))
    return [w[order], np.abs(v[:, order])]


class Case(NamedTuple):
    #: the outputs, from a module of linalg functions (``ft.linalg`` or PyTensor's) and the
    #: symbolic inputs by name
    build: Callable[[Any, dict[str, Any]], Any]
    #: scipy's (numpy's) outputs from the input arrays by name
    ref: Callable[[dict[str, np.ndarray]], Any]
    #: the outputs compared: a canonical form where the factors are not unique
    canon: Callable[..., list[np.ndarray]] | None = None
    #: whether ``build`` makes the same call with PyTensor's module
    pytensor: bool = True
    #: whether it takes complex inputs
    takes_complex: bool = False


def _tridiagonal(a: np.ndarray) -> list[np.ndarray]:
    return [np.diagonal(a, k).copy() for k in (-1, 0, 1)]


def _gttrf(a: np.ndarray) -> tuple[np.ndarray, ...]:
    bands = _tridiagonal(a)
    *factors, _ = sla.get_lapack_funcs("gttrf", bands)(*bands)
    return tuple(factors)


def _gttrs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    factors = _gttrf(a)
    x, _ = sla.get_lapack_funcs("gttrs", (*factors[:4], b))(*factors, b)
    return x


_SCHUR = _recon(lambda t, z: z @ t @ _h(z), lambda t, z: _h(z) @ z)
_QZ = _recon(lambda aa, bb, q, z: q @ aa @ _h(z), lambda aa, bb, q, z: q @ bb @ _h(z))
_ORDQZ = _recon(
    lambda aa, bb, al, be, q, z: q @ aa @ _h(z),
    lambda aa, bb, al, be, q, z: q @ bb @ _h(z),
    lambda aa, bb, al, be, q, z: _eigvals(al / be),
)
_QR = _recon(lambda q, r: q @ r, lambda q, r: np.abs(r))
_SVD = _recon(lambda u, s, vh: s, lambda u, s, vh: (u[:, : len(s)] * s) @ vh[: len(s)])
_EIGH = _recon(lambda w, v: w, lambda w, v: (v * w) @ _h(v))


def _eig_ref(d: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # scipy's eigenvectors are real when every eigenvalue is (a dtype of the values); a
    # declared dtype cannot be, so fncache's are always complex, as the eigenvalues
    w, v = sla.eig(d["G"])
    return w, v.astype(w.dtype)


def _pqr_ref(d: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    q, r, p = sla.qr(d["G"], pivoting=True)
    return q, r, p


def _p2p_ref(d: dict[str, np.ndarray]) -> np.ndarray:
    # lu_factor's pivots as scipy's lu(p_indices=True) row indices, PyTensor's int64
    return sla.lu(d["G"], p_indices=True)[0].astype("int64")


#: Every function, by a name for the report: what it builds, scipy's (numpy's) call, and how
#: the outputs compare.
CASES: dict[str, Case] = {
    "inv": Case(lambda L, v: L.inv(v["G"]), lambda d: sla.inv(d["G"]), takes_complex=True),
    "matrix_inverse": Case(
        lambda L, v: L.matrix_inverse(v["G"]), lambda d: sla.inv(d["G"]), takes_complex=True
    ),
    "det": Case(lambda L, v: L.det(v["G"]), lambda d: np.linalg.det(d["G"]), takes_complex=True),
    "slogdet": Case(
        lambda L, v: L.slogdet(v["G"]), lambda d: tuple(np.linalg.slogdet(d["G"])), takes_complex=True
    ),
    "cholesky": Case(
        lambda L, v: L.cholesky(v["S"]), lambda d: sla.cholesky(d["S"], lower=True), takes_complex=True
    ),
    "cholesky_upper": Case(
        lambda L, v: L.cholesky(v["S"], lower=False),
        lambda d: sla.cholesky(d["S"], lower=False),
        takes_complex=True,
    ),
    "solve_vector": Case(
        lambda L, v: L.solve(v["G"], v["b"]), lambda d: sla.solve(d["G"], d["b"]), takes_complex=True
    ),
    "solve_matrix": Case(
        lambda L, v: L.solve(v["G"], v["B"]), lambda d: sla.solve(d["G"], d["B"]), takes_complex=True
    ),
    "solve_pos": Case(
        lambda L, v: L.solve(v["S"], v["b"], assume_a="pos"),
        lambda d: sla.solve(d["S"], d["b"], assume_a="pos"),
    ),
    "solve_triangular": Case(
        lambda L, v: L.solve_triangular(v["G"], v["B"], lower=True),
        lambda d: sla.solve_triangular(d["G"], d["B"], lower=True),
        takes_complex=True,
    ),
    "pinv": Case(lambda L, v: L.pinv(v["B"]), lambda d: sla.pinv(d["B"]), takes_complex=True),
    "eigh": Case(lambda L, v: L.eigh(v["S"]), lambda d: tuple(sla.eigh(d["S"])), _EIGH, takes_complex=True),
    "eigvalsh": Case(
        lambda L, v: L.eigvalsh(v["S"]),
        lambda d: np.linalg.eigvalsh(d["S"]),
        pytensor=False,
        takes_complex=True,
    ),
    "eigvalsh_generalized": Case(
        lambda L, v: L.eigvalsh(v["S"], v["S"] + 2 * v["G"] @ v["G"].T),
        lambda d: sla.eigh(d["S"], d["S"] + 2 * d["G"] @ d["G"].T, eigvals_only=True),
    ),
    "eig": Case(lambda L, v: L.eig(v["G"]), _eig_ref, _eig_canon, takes_complex=True),
    "svd": Case(lambda L, v: L.svd(v["B"]), lambda d: tuple(sla.svd(d["B"])), _SVD, takes_complex=True),
    "svd_values": Case(
        lambda L, v: L.svd(v["B"], compute_uv=False),
        lambda d: sla.svd(d["B"], compute_uv=False),
        takes_complex=True,
    ),
    "qr_full": Case(lambda L, v: L.qr(v["B"]), lambda d: tuple(sla.qr(d["B"])), _QR, takes_complex=True),
    "qr_economic": Case(
        lambda L, v: L.qr(v["B"], mode="economic"),
        lambda d: tuple(sla.qr(d["B"], mode="economic")),
        _QR,
        takes_complex=True,
    ),
    "qr_r": Case(
        lambda L, v: L.qr(v["B"], mode="r"),
        lambda d: sla.qr(d["B"], mode="r")[0],
        lambda r: [np.abs(r)],
        takes_complex=True,
    ),
    "qr_pivoting": Case(
        lambda L, v: L.qr(v["G"], pivoting=True),
        _pqr_ref,
        lambda q, r, p: [q @ r, np.abs(r), p],
        takes_complex=True,
    ),
    "nlinalg_qr": Case(
        lambda L, v: ft.nlinalg.qr(v["B"]),
        lambda d: tuple(np.linalg.qr(d["B"])),
        _QR,
        pytensor=False,
        takes_complex=True,
    ),
    "nlinalg_qr_complete": Case(
        lambda L, v: ft.nlinalg.qr(v["B"], mode="complete"),
        lambda d: tuple(np.linalg.qr(d["B"], mode="complete")),
        _QR,
        pytensor=False,
        takes_complex=True,
    ),
    "lstsq": Case(
        lambda L, v: L.lstsq(v["B"], v["b"]),
        lambda d: tuple(np.linalg.lstsq(d["B"], d["b"])),
        pytensor=False,
        takes_complex=True,
    ),
    "matrix_power_3": Case(
        lambda L, v: L.matrix_power(v["G"], 3),
        lambda d: np.linalg.matrix_power(d["G"], 3),
        takes_complex=True,
    ),
    "matrix_power_0": Case(
        lambda L, v: L.matrix_power(v["G"], 0),
        lambda d: np.linalg.matrix_power(d["G"], 0),
        takes_complex=True,
    ),
    "matrix_power_-2": Case(
        lambda L, v: L.matrix_power(v["G"], -2),
        lambda d: np.linalg.matrix_power(d["G"], -2),
        takes_complex=True,
    ),
    "norm_fro": Case(lambda L, v: L.norm(v["G"]), lambda d: np.linalg.norm(d["G"]), takes_complex=True),
    "norm_1": Case(lambda L, v: L.norm(v["G"], 1), lambda d: np.linalg.norm(d["G"], 1), takes_complex=True),
    "norm_2": Case(lambda L, v: L.norm(v["G"], 2), lambda d: np.linalg.norm(d["G"], 2), takes_complex=True),
    "norm_nuc": Case(
        lambda L, v: L.norm(v["G"], "nuc"), lambda d: np.linalg.norm(d["G"], "nuc"), takes_complex=True
    ),
    "norm_vector_3": Case(
        lambda L, v: L.norm(v["b"], 3), lambda d: np.linalg.norm(d["b"], 3), takes_complex=True
    ),
    "norm_vector_0": Case(
        lambda L, v: L.norm(v["b"], 0), lambda d: np.linalg.norm(d["b"], 0), takes_complex=True
    ),
    "kron": Case(lambda L, v: L.kron(v["G"], v["B"]), lambda d: np.kron(d["G"], d["B"]), takes_complex=True),
    "matrix_dot": Case(
        lambda L, v: L.matrix_dot(v["G"], v["C"], v["b"]),
        lambda d: d["G"] @ d["C"] @ d["b"],
        takes_complex=True,
    ),
    "trace": Case(lambda L, v: L.trace(v["G"]), lambda d: np.trace(d["G"]), takes_complex=True),
    "tensorinv": Case(
        lambda L, v: L.tensorinv(v["G"].reshape((2, 2, 4)), 2),
        lambda d: np.linalg.tensorinv(d["G"].reshape((2, 2, 4)), 2),
        takes_complex=True,
    ),
    "tensorsolve": Case(
        lambda L, v: L.tensorsolve(v["G"], v["b"]),
        lambda d: np.linalg.tensorsolve(d["G"], d["b"]),
        takes_complex=True,
    ),
    "alloc_diag": Case(
        lambda L, v: ft.nlinalg.alloc_diag(v["b"], 1),
        lambda d: np.diag(d["b"], 1),
        pytensor=False,
        takes_complex=True,
    ),
    "extract_diag": Case(
        lambda L, v: ft.nlinalg.extract_diag(v["G"]),
        lambda d: np.diagonal(d["G"]),
        pytensor=False,
        takes_complex=True,
    ),
    "expm": Case(lambda L, v: L.expm(v["N"]), lambda d: sla.expm(d["N"]), takes_complex=True),
    "cho_solve": Case(
        lambda L, v: L.cho_solve((L.cholesky(v["S"]), True), v["b"]),
        lambda d: sla.cho_solve((sla.cholesky(d["S"], lower=True), True), d["b"]),
    ),
    "lu": Case(lambda L, v: L.lu(v["G"]), lambda d: tuple(sla.lu(d["G"]))),
    "lu_p_indices": Case(
        lambda L, v: L.lu(v["G"], p_indices=True), lambda d: tuple(sla.lu(d["G"], p_indices=True))
    ),
    "lu_permute_l": Case(
        lambda L, v: L.lu(v["G"], permute_l=True), lambda d: tuple(sla.lu(d["G"], permute_l=True))
    ),
    "lu_factor": Case(lambda L, v: L.lu_factor(v["G"]), lambda d: tuple(sla.lu_factor(d["G"]))),
    "lu_solve": Case(
        lambda L, v: L.lu_solve(L.lu_factor(v["G"]), v["b"]),
        lambda d: sla.lu_solve(sla.lu_factor(d["G"]), d["b"]),
    ),
    "pivot_to_permutation": Case(lambda L, v: L.pivot_to_permutation(L.lu_factor(v["G"])[1]), _p2p_ref),
    "block_diag": Case(
        lambda L, v: L.block_diag(v["G"], v["B"]),
        lambda d: sla.block_diag(d["G"], d["B"]),
        takes_complex=True,
    ),
    "solve_discrete_lyapunov": Case(
        lambda L, v: L.solve_discrete_lyapunov(v["N"], v["S"]),
        lambda d: sla.solve_discrete_lyapunov(d["N"], d["S"]),
    ),
    "solve_discrete_lyapunov_bilinear": Case(
        lambda L, v: L.solve_discrete_lyapunov(v["N"], v["S"], method="bilinear"),
        lambda d: sla.solve_discrete_lyapunov(d["N"], d["S"], method="bilinear"),
    ),
    "solve_continuous_lyapunov": Case(
        lambda L, v: L.solve_continuous_lyapunov(v["G"], v["S"]),
        lambda d: sla.solve_continuous_lyapunov(d["G"], d["S"]),
    ),
    "solve_sylvester": Case(
        lambda L, v: L.solve_sylvester(v["G"], v["C"], v["S"]),
        lambda d: sla.solve_sylvester(d["G"], d["C"], d["S"]),
    ),
    "solve_discrete_are": Case(
        lambda L, v: L.solve_discrete_are(v["N"], v["B"], v["S"], v["R"]),
        lambda d: sla.solve_discrete_are(d["N"], d["B"], d["S"], d["R"]),
    ),
    "schur": Case(
        lambda L, v: L.schur(v["G"]), lambda d: tuple(sla.schur(d["G"])), _SCHUR, takes_complex=True
    ),
    "schur_complex": Case(
        lambda L, v: L.schur(v["G"], output="complex"),
        lambda d: tuple(sla.schur(d["G"], output="complex")),
        _SCHUR,
        takes_complex=True,
    ),
    "qz": Case(
        lambda L, v: L.qz(v["G"], v["C"]), lambda d: tuple(sla.qz(d["G"], d["C"])), _QZ, takes_complex=True
    ),
    "qz_complex": Case(
        lambda L, v: L.qz(v["G"], v["C"], output="complex"),
        lambda d: tuple(sla.qz(d["G"], d["C"], output="complex")),
        _QZ,
        takes_complex=True,
    ),
    "ordqz": Case(
        lambda L, v: L.ordqz(v["G"], v["C"]),
        lambda d: tuple(sla.ordqz(d["G"], d["C"], sort="lhp")),
        _ORDQZ,
        takes_complex=True,
    ),
    "tridiagonal_lu_factor": Case(lambda L, v: L.tridiagonal_lu_factor(v["G"]), lambda d: _gttrf(d["G"])),
    "tridiagonal_lu_solve": Case(
        lambda L, v: L.tridiagonal_lu_solve(L.tridiagonal_lu_factor(v["G"]), v["b"], b_ndim=1),
        lambda d: _gttrs(d["G"], d["b"]),
    ),
}

#: PyTensor's declared dtypes that are not scipy's (numpy's), by case and input dtypes, as
#: docs/numpy.md lists them: ``matrix_power(x, 0)`` is float64 and ``norm(v, 0)`` int64 for every
#: dtype, ``norm(x, 1)`` of ints int64; ``lu_factor``, ``tensorinv`` and ``tensorsolve`` of ints
#: declare the ints (scipy and numpy compute them in float64).
PYTENSOR_DIFFERS: dict[tuple[str, str], str] = {
    **{("matrix_power_0", dt): "['float64']" for dt in REAL_DTYPES + COMPLEX_DTYPES if dt != "float64"},
    **{("norm_vector_0", dt): "['int64']" for dt in REAL_DTYPES + COMPLEX_DTYPES},
    **{("norm_1", dt): "['int64']" for dt in ("int32", "int64")},
    **{("lu_factor", dt): f"['{dt}', 'int32']" for dt in ("int32", "int64")},
    **{(name, dt): f"['{dt}']" for name in ("tensorinv", "tensorsolve") for dt in ("int32", "int64")},
    # PyTensor's eigh of a complex matrix declares real eigenvectors; its slogdet refuses one
    **{("eigh", dt): str([real, real]) for dt, real in (("complex64", "float32"), ("complex128", "float64"))},
    **{("slogdet", dt): "refused: TypeError" for dt in COMPLEX_DTYPES},
}


def _as_list(outs: Any) -> list:
    return list(outs) if isinstance(outs, (tuple, list)) else [outs]


def _symbols(dtype: str, tensor: Callable[..., Any]) -> dict[str, Any]:
    return {k: tensor(k, dtype, a.shape) for k, a in INPUTS.items()}


def _values(dtype: str) -> dict[str, np.ndarray]:
    src = COMPLEX_INPUTS if dtype in COMPLEX_DTYPES else INPUTS
    return {k: a.astype(dtype) for k, a in src.items()}


def _cases_of(dtype: str) -> list[str]:
    return [n for n, c in CASES.items() if dtype in REAL_DTYPES or c.takes_complex]


@compiled
def dtype_results(dtype: str, mode: str) -> tuple[list[np.ndarray], dict[str, slice], dict[str, list[str]]]:
    """Every case's outputs for inputs of ``dtype`` from one function, run once: the values,
    the slice of them each case has, and each case's declared dtypes."""
    syms = _symbols(dtype, lambda k, dt, shape: ft.tensor(k, dt, shape=shape))
    outs: list = []
    where, declared = {}, {}
    for name in _cases_of(dtype):
        got = _as_list(CASES[name].build(ft.linalg, syms))
        where[name] = slice(len(outs), len(outs) + len(got))
        declared[name] = [o.dtype for o in got]
        outs += got
    fn = fc.function(list(syms.values()), outs, mode=mode, on_unused_input="ignore")
    return fn(*_values(dtype).values()), where, declared


def _tolerance(dtypes: list[str]) -> dict[str, float]:
    """float32's where an output is single precision, else float64's."""
    single = {"float32", "complex64"} & set(dtypes)
    return dict(rtol=3e-4, atol=3e-4) if single else dict(rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", REAL_DTYPES + COMPLEX_DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_dtype_declared_run_and_scipy(name: str, dtype: str, mode: str) -> None:
    case = CASES[name]
    if name not in _cases_of(dtype):
        syms = _symbols(dtype, lambda k, dt, shape: ft.tensor(k, dt, shape=shape))
        with pytest.raises(TypeError, match="complex"):
            case.build(ft.linalg, syms)
        return
    results, where, declared = dtype_results(dtype, mode)
    vals = _values(dtype)
    got = results[where[name]]
    want = [np.asarray(w) for w in _as_list(case.ref(vals))]
    want_dtypes = [w.dtype.name for w in want]
    run_dtypes = [g.dtype.name for g in got]
    assert declared[name] == run_dtypes, f"{name}({dtype}): declares {declared[name]}, runs to {run_dtypes}"
    assert run_dtypes == want_dtypes, f"{name}({dtype}): gives {run_dtypes}, scipy {want_dtypes}"
    canon = case.canon or (lambda *outs: list(outs))
    tol = _tolerance(want_dtypes)
    for i, (g, w) in enumerate(zip(canon(*got), canon(*want))):
        scale = max(float(np.max(np.abs(w), initial=0.0)), 1.0)
        np.testing.assert_allclose(
            g, w, rtol=tol["rtol"], atol=tol["atol"] * scale, err_msg=f"{name}({dtype}) output {i}"
        )


@pytest.mark.parametrize("dtype", REAL_DTYPES + COMPLEX_DTYPES)
def test_pytensor_declared_dtypes(dtype: str) -> None:
    """PyTensor's declared dtypes are scipy's but for the differences docs/numpy.md lists."""
    pytest.importorskip("pytensor")
    import pytensor.tensor as pt
    import pytensor.tensor.linalg as ptl

    vals = _values(dtype)
    syms = _symbols(dtype, lambda k, dt, shape: pt.tensor(k, dtype=dt, shape=shape))
    differ = {}
    for name, case in CASES.items():
        if not case.pytensor or name not in _cases_of(dtype):
            continue
        want = [np.asarray(w).dtype.name for w in _as_list(case.ref(vals))]
        with warnings.catch_warnings():  # PyTensor moves linalg.trace to pt.trace
            warnings.simplefilter("ignore", FutureWarning)
            try:
                have = [o.dtype for o in _as_list(case.build(ptl, syms))]
            except (TypeError, NotImplementedError) as e:
                have = f"refused: {type(e).__name__}"
        if have != want:
            differ[name, dtype] = str(have)
    assert differ == {k: v for k, v in PYTENSOR_DIFFERS.items() if k[1] == dtype}


@pytest.mark.parametrize("name", ["solve_discrete_lyapunov", "solve_discrete_are"])
def test_float64_results_of_float32_operands_differentiate(name: str) -> None:
    """The solvers that give float64 for float32 operands (scipy's dtype) give float32
    gradients (the operands' dtype), those of the float64 operands within float32 precision."""
    keys = ["N", "S"] if name == "solve_discrete_lyapunov" else ["N", "B", "S", "R"]
    grads = {}
    for dt in ("float32", "float64"):
        syms = _symbols(dt, lambda k, d, shape: ft.tensor(k, d, shape=shape))
        x = CASES[name].build(ft.linalg, syms)
        assert x.dtype == "float64"
        fn = fc.function(
            [syms[k] for k in keys], fc.grad(ft.sum(x * x), [syms[k] for k in keys]), mode="FAST_COMPILE"
        )
        grads[dt] = fn(*[INPUTS[k].astype(dt) for k in keys])
        assert [g.dtype.name for g in grads[dt]] == [dt] * len(keys)
    for k, g32, g64 in zip(keys, grads["float32"], grads["float64"]):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4 * np.abs(g64).max(), err_msg=f"d/d{k}")


#: Operands of two dtypes: (function, scipy's, the dtypes of ``G`` and ``C``).
MIXED = {
    "solve": (
        lambda v: ft.linalg.solve(v["G"], v["C"]),
        lambda d: sla.solve(d["G"], d["C"]),
        ("float32", "float64"),
    ),
    "solve_int": (
        lambda v: ft.linalg.solve(v["G"], v["C"]),
        lambda d: sla.solve(d["G"], d["C"]),
        ("float32", "int32"),
    ),
    "qz_complex64": (
        lambda v: ft.linalg.qz(v["G"], v["C"]),
        lambda d: sla.qz(d["G"], d["C"]),
        ("float32", "complex64"),
    ),
    "qz_complex128": (
        lambda v: ft.linalg.qz(v["G"], v["C"]),
        lambda d: sla.qz(d["G"], d["C"]),
        ("float64", "complex64"),
    ),
    "ordqz_int": (
        lambda v: ft.linalg.ordqz(v["G"], v["C"]),
        lambda d: sla.ordqz(d["G"], d["C"], sort="lhp"),
        ("int64", "complex64"),
    ),
    "sylvester": (
        lambda v: ft.linalg.solve_sylvester(v["G"], v["C"], v["G"]),
        lambda d: sla.solve_sylvester(d["G"], d["C"], d["G"]),
        ("float32", "float64"),
    ),
    "block_diag": (
        lambda v: ft.linalg.block_diag(v["G"], v["C"]),
        lambda d: sla.block_diag(d["G"], d["C"]),
        ("int32", "int64"),
    ),
    "kron": (
        lambda v: ft.linalg.kron(v["G"], v["C"]),
        lambda d: np.kron(d["G"], d["C"]),
        ("float32", "int32"),
    ),
}


@pytest.mark.parametrize("mode", MODES)
def test_mixed_operand_dtypes(mode: str) -> None:
    """Operands of two dtypes give scipy's dtype for the pair (float32 and complex64:
    complex64; float64 or an integer with either: double precision), declared and run."""
    syms, outs, vals = [], [], []
    for build, _, (dg, dc) in MIXED.values():
        v = {"G": ft.tensor("G", dg, shape=(4, 4)), "C": ft.tensor("C", dc, shape=(4, 4))}
        syms += [v["G"], v["C"]]
        outs.append(_as_list(build(v)))
        vals += [
            INPUTS["G"].astype(dg),
            (COMPLEX_INPUTS if dc.startswith("complex") else INPUTS)["C"].astype(dc),
        ]
    got = iter(fc.function(syms, [o for case in outs for o in case], mode=mode)(*vals))
    for (name, (_, ref, _)), case, g, c in zip(MIXED.items(), outs, vals[::2], vals[1::2]):
        want = [np.asarray(w).dtype.name for w in _as_list(ref({"G": g, "C": c}))]
        run = [next(got).dtype.name for _ in case]
        assert [o.dtype for o in case] == run == want, (
            f"{name}: declares {[o.dtype for o in case]}, runs to {run}, scipy {want}"
        )
