"""PyTensor's public tensor functions fncache lacked until now: ``pt.hyp2f1 kn interpolate1d
concat_with_broadcast extract_diag identity is_flat slice_at_axis scalar_from_tensor
tensor_from_scalar transfer``, ``slinalg.qr schur qz ordqz pivot_to_permutation
solve_discrete_are solve_sylvester``, ``nlinalg.kron`` and ``special.xlog1py``.

Values against scipy and numpy (and PyTensor itself, under its Python linker, where scipy has
no counterpart: ``interpolate1d``, ``concat_with_broadcast``, ``slice_at_axis``) over several
shapes, dtypes and batch dims; gradients against central finite differences in float64; bad
arguments raise errors naming the function. Each case runs under the Python linker; each table
also runs once compiled to C, every case one output of one function."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.linalg as sla
from scipy import special

import fncache as fc
from fncache import tensor as ft
from fcutil import assert_same, fd_check_case, run_case, run_cases_in_one_function

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261203)
sl = ft.slinalg

#: PyTensor's module, fncache's, and the names this round adds to it
NAMES = {
    ("pytensor.tensor", "fncache.tensor"): (
        "hyp2f1 kn interpolate1d concat_with_broadcast extract_diag identity is_flat slice_at_axis "
        "scalar_from_tensor tensor_from_scalar transfer"
    ),
    ("pytensor.tensor.slinalg", "fncache.tensor.slinalg"): (
        "qr schur qz ordqz pivot_to_permutation solve_discrete_are solve_sylvester"
    ),
    ("pytensor.tensor.nlinalg", "fncache.tensor.nlinalg"): "kron",
    ("pytensor.tensor.linalg", "fncache.tensor.linalg"): (
        "qr schur qz ordqz pivot_to_permutation solve_discrete_are solve_sylvester"
    ),
    ("pytensor.tensor.special", "fncache.tensor.special"): "xlog1py",
    # the modules where PyTensor defines them
    ("pytensor.tensor.extra_ops", "fncache.tensor.extra_ops"): "concat_with_broadcast",
    ("pytensor.tensor.subtensor", "fncache.tensor.subtensor"): "slice_at_axis",
    ("pytensor.tensor.math", "fncache.tensor.math"): "hyp2f1 kn",
    ("pytensor.tensor.basic", "fncache.tensor.basic"): (
        "extract_diag identity is_flat scalar_from_tensor tensor_from_scalar transfer"
    ),
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("modules", list(NAMES), ids=lambda m: m[1])
def test_pytensor_names_exist_in_fncache(modules: tuple[str, str]) -> None:
    fc_mod = importlib.import_module(modules[1])
    for name in NAMES[modules].split():
        assert callable(getattr(fc_mod, name)), f"{modules[1]} lacks {name}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("modules", list(NAMES), ids=lambda m: m[0])
def test_the_names_are_pytensors(modules: tuple[str, str]) -> None:
    """The list above is PyTensor's (where PyTensor is installed: the bench extra)."""
    pytest.importorskip("pytensor")
    pt_mod = importlib.import_module(modules[0])
    for name in NAMES[modules].split():
        assert callable(getattr(pt_mod, name)), f"{modules[0]}.{name}"


def _u(*shape: int, lo: float = -1.0, hi: float = 1.0, dtype: str = "float64") -> np.ndarray:
    return np.asarray(RNG.uniform(lo, hi, size=shape), dtype=dtype)


def _sym(*shape: int) -> np.ndarray:
    m = RNG.normal(size=shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def _stacked(fn, *arrays: np.ndarray, n_core: tuple[int, ...]) -> list[np.ndarray]:
    """scipy's ``fn`` (arrays to a tuple of arrays) over the broadcast batch dims."""
    batch = np.broadcast_shapes(*[a.shape[: a.ndim - k] for a, k in zip(arrays, n_core)])
    full = [np.broadcast_to(a, batch + a.shape[a.ndim - k :]) for a, k in zip(arrays, n_core)]
    rows = [fn(*[a[i] for a in full]) for i in np.ndindex(batch)]
    rows = [r if isinstance(r, tuple) else (r,) for r in rows]
    return [np.stack([r[k] for r in rows]).reshape(batch + np.shape(rows[0][k])) for k in range(len(rows[0]))]


def _dare_inputs(batch: tuple[int, ...], m: int, n: int, dtype: str = "float64") -> tuple:
    a = 0.5 * RNG.normal(size=batch + (m, m))
    return tuple(
        np.asarray(v, dtype)
        for v in (a, RNG.normal(size=batch + (m, n)), _sym(*batch, m, m), _sym(*batch, n, n))
    )


def _flat(res: object) -> list[np.ndarray]:
    """scipy's qr result (an array, a tuple, or raw mode's ``((h, tau), r[, p])``) as a list."""
    if isinstance(res, np.ndarray):
        return [res]
    out: list[np.ndarray] = []
    for r in res:
        out += list(r) if isinstance(r, tuple) else [r]
    return out


#: the matrices whose LU pivots pivot_to_permutation turns into permutations
_PIV_MATRIX = RNG.normal(size=(6, 6))
_PIV_STACK = RNG.normal(size=(3, 5, 5))

# -- values: (builder, reference, inputs[, rtol]) ------------------------------------------------

HYP = (_u(5, lo=0.1, hi=2.0), _u(5, lo=-1.0, hi=1.5), _u(5, lo=1.5, hi=4.0), _u(5, lo=-3.0, hi=0.9))
VALUES: dict[str, tuple] = {
    "hyp2f1": (ft.hyp2f1, special.hyp2f1, HYP),
    "hyp2f1_broadcast": (
        ft.hyp2f1,
        special.hyp2f1,
        (_u(3, 1, lo=0.1), _u(1, 4), _u(3, 1, lo=2.0, hi=3.0), _u(4)),
    ),
    "hyp2f1_float32": (ft.hyp2f1, special.hyp2f1, tuple(v.astype("float32") for v in HYP), 1e-5),
    "hyp2f1_int_params": (
        ft.hyp2f1,
        special.hyp2f1,
        (np.array([1, 2, -2], "int64"), np.array([3, 1, 2], "int64"), np.array([4, 5, 3], "int64"), _u(3)),
    ),
    "kn": (ft.kn, special.kn, (np.array([0, 1, 2, 5], "int64"), _u(3, 4, lo=0.1, hi=8.0))),
    "kn_float32": (
        ft.kn,
        special.kn,
        (np.array([0, 3], "int32"), _u(5, 2, lo=0.2, hi=5.0, dtype="float32")),
        1e-5,
    ),
    "xlog1py": (
        ft.special.xlog1py,
        special.xlog1py,
        (np.array([0.0, 0.0, 2.0, -1.5, 0.0]), np.array([np.nan, -1.0, 0.5, 3.0, 7.0])),
    ),
    "xlog1py_float32": (
        ft.special.xlog1py,
        special.xlog1py,
        (_u(3, 4, dtype="float32"), _u(4, lo=-0.5, hi=4.0, dtype="float32")),
        1e-5,
    ),
    "extract_diag_matrix": (ft.extract_diag, np.diagonal, (_u(3, 5),)),
    "extract_diag_tensor3": (ft.extract_diag, np.diagonal, (_u(4, 3, 2),)),
    "identity": (ft.identity, np.copy, (_u(2, 3),)),
    "scalar_from_tensor": (ft.scalar_from_tensor, np.asarray, (np.asarray(2.5),)),
    "tensor_from_scalar": (ft.tensor_from_scalar, np.asarray, (np.asarray(3, "int32"),)),
    "transfer_cpu": (lambda x: ft.transfer(x, "cpu"), np.asarray, (_u(3),)),
    "variable_transfer_cpu": (lambda x: x.transfer("cpu"), np.asarray, (_u(2, 2),)),
    "nlinalg_kron": (ft.nlinalg.kron, np.kron, (_u(2, 3), _u(3, 2))),
    "concat_with_broadcast": (
        lambda a, b, c: ft.concat_with_broadcast([a, b, c], axis=1),
        lambda a, b, c: np.concatenate([np.broadcast_to(a, (4, 2, 3)), b, np.broadcast_to(c, (4, 1, 3))], 1),
        (_u(1, 2, 3), _u(4, 5, 3), _u(4, 1, 1)),
    ),
    "concat_with_broadcast_negative_axis": (
        lambda a, b: ft.concat_with_broadcast((a, b), axis=-1),
        lambda a, b: np.concatenate([a, np.broadcast_to(b, (3, 4))], -1),
        (_u(3, 2), _u(1, 4)),
    ),
    # scipy's qr: every mode, tall and wide, with and without pivoting (pivoted: one stack)
    **{
        f"qr_{mode}_{'x'.join(map(str, shape))}{'_pivoting' if piv else ''}": (
            lambda a, mode=mode, piv=piv: sl.qr(a, mode=mode, pivoting=piv),
            lambda a, mode=mode, piv=piv: _flat(sla.qr(a, mode=mode, pivoting=piv)),
            (_u(*shape),),
        )
        for mode in ("full", "economic", "r", "raw")
        for shape in ((4, 3), (3, 5))
        for piv in (False, True)
    },
    "qr_numpy_mode_names": (
        lambda a: [*sl.qr(a, mode="complete"), *sl.qr(a, mode="reduced")],
        lambda a: [*sla.qr(a, mode="full"), *sla.qr(a, mode="economic")],
        (_u(5, 3),),
    ),
    "qr_pivoting_stack_float32": (
        lambda a: sl.qr(a, mode="economic", pivoting=True),
        lambda a: _stacked(lambda m: sla.qr(m, mode="economic", pivoting=True), a, n_core=(2,)),
        (_u(2, 4, 3, dtype="float32"),),
        1e-5,
    ),
    "qr_stack": (
        lambda a: sl.qr(a),
        lambda a: _stacked(sla.qr, a, n_core=(2,)),
        (_u(3, 4, 4),),
    ),
    "schur_real": (sl.schur, sla.schur, (_u(4, 4),)),
    "schur_complex": (
        lambda a: sl.schur(a, output="complex"),
        lambda a: sla.schur(a, output="complex"),
        (_u(3, 3),),
    ),
    "schur_sorted_stack": (
        lambda a: sl.schur(a, sort="lhp"),
        lambda a: _stacked(lambda m: sla.schur(m, sort="lhp")[:2], a, n_core=(2,)),
        (_u(2, 5, 5),),
    ),
    "schur_float32": (sl.schur, sla.schur, (_u(4, 4, dtype="float32"),), 1e-5),
    "qz": (sl.qz, sla.qz, (_u(4, 4), _u(4, 4))),
    "qz_complex": (
        lambda a, b: sl.qz(a, b, output="complex"),
        lambda a, b: sla.qz(a, b, output="complex"),
        (_u(3, 3), _u(3, 3)),
    ),
    "qz_eigenvalues": (
        lambda a, b: sl.qz(a, b, return_eigenvalues=True),
        lambda a, b: sla.ordqz(a, b, sort=lambda al, be: np.zeros(al.shape, bool)),
        (_u(4, 4), _u(4, 4)),
    ),
    "qz_stack_broadcast": (
        sl.qz,
        lambda a, b: _stacked(sla.qz, a, b, n_core=(2, 2)),
        (_u(2, 3, 3), _u(3, 3)),
    ),
    **{
        f"ordqz_{sort}": (
            lambda a, b, sort=sort: sl.ordqz(a, b, sort=sort),
            lambda a, b, sort=sort: sla.ordqz(a, b, sort=sort),
            (_u(5, 5), _u(5, 5)),
        )
        for sort in ("lhp", "rhp", "iuc", "ouc")
    },
    "ordqz_complex": (
        lambda a, b: sl.ordqz(a, b, sort="iuc", output="complex"),
        lambda a, b: sla.ordqz(a, b, sort="iuc", output="complex"),
        (_u(3, 3), _u(3, 3)),
    ),
    "pivot_to_permutation": (
        sl.pivot_to_permutation,
        lambda p: sla.lu(_PIV_MATRIX, p_indices=True)[0],
        (sla.lu_factor(_PIV_MATRIX)[1],),
    ),
    "pivot_to_permutation_inverse": (
        lambda p: sl.pivot_to_permutation(p, inverse=True),
        lambda p: np.argsort(sla.lu(_PIV_MATRIX, p_indices=True)[0]),
        (sla.lu_factor(_PIV_MATRIX)[1],),
    ),
    "pivot_to_permutation_stack": (
        sl.pivot_to_permutation,
        lambda p: np.stack([sla.lu(m, p_indices=True)[0] for m in _PIV_STACK]),
        (np.stack([sla.lu_factor(m)[1] for m in _PIV_STACK]),),
    ),
    "solve_sylvester": (sl.solve_sylvester, sla.solve_sylvester, (_u(3, 3), _u(2, 2), _u(3, 2))),
    "solve_sylvester_stack": (
        sl.solve_sylvester,
        lambda a, b, q: _stacked(sla.solve_sylvester, a, b, q, n_core=(2, 2, 2)),
        (_u(2, 3, 3), _u(4, 4), _u(2, 3, 4)),
    ),
    "solve_sylvester_float32": (
        sl.solve_sylvester,
        sla.solve_sylvester,
        (
            _u(2, 2, dtype="float32") + 2 * np.eye(2, dtype="float32"),
            _u(3, 3, dtype="float32"),
            _u(2, 3, dtype="float32"),
        ),
        1e-4,
    ),
    "solve_discrete_are": (sl.solve_discrete_are, sla.solve_discrete_are, _dare_inputs((), 3, 2)),
    "solve_discrete_are_stack": (
        sl.solve_discrete_are,
        lambda *v: _stacked(sla.solve_discrete_are, *v, n_core=(2, 2, 2, 2)),
        _dare_inputs((2,), 3, 1),
    ),
}


def _check(name: str, got: list, ref: object, rtol: float) -> None:
    ref = [np.asarray(r) for r in (ref if isinstance(ref, (list, tuple)) else [ref])]
    assert len(got) == len(ref), name
    for g, r in zip(got, ref):
        g = np.asarray(g)
        assert g.shape == r.shape, f"{name}: shape {g.shape}, scipy {r.shape}"
        assert g.dtype == r.dtype or (g.dtype.kind == r.dtype.kind == "i"), (
            f"{name}: {g.dtype}, scipy {r.dtype}"
        )
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("name", list(VALUES))
def test_values_against_scipy(name: str) -> None:
    build, ref, vals, *tol = VALUES[name]
    rtol = tol[0] if tol else 1e-10
    _check(name, run_case(build, vals, PY), ref(*vals), rtol)


def test_values_compiled_to_c() -> None:
    got = run_cases_in_one_function({name: (case[0], case[2]) for name, case in VALUES.items()})
    for name, (_, ref, vals, *tol) in VALUES.items():
        _check(name, got[name], ref(*vals), tol[0] if tol else 1e-10)


# -- against PyTensor itself, where scipy has no counterpart ---------------------------------------


def _pytensor(build, *vals: np.ndarray) -> np.ndarray:
    """``build(pt, *inputs)`` computed by PyTensor (installed with the bench extra; the tests
    that need it skip without it, and each has a check of its own that runs everywhere)."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    from pytensor.compile.mode import Mode

    # PyTensor broadcasts only the dims its types mark of size 1
    ins = [pt.tensor(dtype=v.dtype.name, shape=tuple(1 if s == 1 else None for s in v.shape)) for v in vals]
    return pytensor.function(ins, build(pt, *ins), mode=Mode(linker="py", optimizer="fast_compile"))(*vals)


INTERP_X = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
INTERP_Y = np.array([1.0, -2.0, 0.5, 3.0, 2.0])


@pytest.mark.parametrize("extrapolate", [True, False])
@pytest.mark.parametrize("method", ["linear", "nearest", "first", "last", "mean"])
def test_interpolate1d_against_pytensor(method: str, extrapolate: bool) -> None:
    # points below, at, between and above x's, as a matrix (any shape is interpolated elementwise)
    xh = np.array([[0.0, 1.0, 1.5, 2.0], [4.5, 5.0, 6.0, 3.2]])
    pads = {} if extrapolate else {"left_pad": -9.0, "right_pad": 7.0}

    def build(mod, x_hat):
        return mod.interpolate1d(INTERP_X, INTERP_Y, method=method, extrapolate=extrapolate, **pads)(x_hat)

    want = _pytensor(build, xh)
    (got,) = run_case(lambda x: build(ft, x), (xh,), PY)
    assert_same(got, want)
    # the default pads are y's values at the first and last point
    if not extrapolate:
        (got,) = run_case(
            lambda x: ft.interpolate1d(INTERP_X, INTERP_Y, method, extrapolate=False)(x), (xh,), PY
        )
        assert got[0, 0] == -2.0 and got[1, 2] == 3.0


@pytest.mark.parametrize("extrapolate", [True, False])
def test_interpolate1d_linear_is_numpys_interp(extrapolate: bool) -> None:
    """Between the points, linear interpolation is np.interp (x unsorted as given); outside,
    the pads (y at the ends by default) or the end segments' lines."""
    xh = np.array([0.0, 1.0, 1.5, 2.0, 3.7, 4.5, 5.0, 6.0])
    (got,) = run_case(
        lambda v: ft.interpolate1d(INTERP_X, INTERP_Y, "linear", extrapolate=extrapolate)(v), (xh,), PY
    )
    order = np.argsort(INTERP_X)
    xs, ys = INTERP_X[order], INTERP_Y[order]
    want = np.interp(xh, xs, ys)
    if extrapolate:
        lo, hi = xh < xs[0], xh > xs[-1]
        want[lo] = ys[0] + (xh[lo] - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
        want[hi] = ys[-1] + (xh[hi] - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_concat_with_broadcast_is_a_concatenate_of_broadcasts() -> None:
    a, b, c = _u(1, 3), _u(2, 1), _u(4, 3)
    (got,) = run_case(lambda x, y, z: ft.concat_with_broadcast([x, y, z], axis=0), (a, b, c), PY)
    want = np.concatenate([np.broadcast_to(v, (v.shape[0], 3)) for v in (a, b, c)], axis=0)
    assert_same(got, want)


def test_concat_with_broadcast_against_pytensor() -> None:
    vals = (_u(1, 3), _u(2, 1), _u(4, 3))
    want = _pytensor(lambda mod, a, b, c: mod.concat_with_broadcast([a, b, c], axis=0), *vals)
    (got,) = run_case(lambda a, b, c: ft.concat_with_broadcast([a, b, c], axis=0), vals, PY)
    assert_same(got, want)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_slice_at_axis_indexes_one_axis(axis: int) -> None:
    x = np.arange(24).reshape(2, 3, 4)
    index = (
        (slice(None),) * axis + (slice(1, None),)
        if axis >= 0
        else (..., slice(1, None)) + (slice(None),) * (-axis - 1)
    )
    (got,) = run_case(lambda v: v[ft.slice_at_axis(slice(1, None), axis)], (x,), PY)
    assert_same(got, x[index])
    assert x[ft.slice_at_axis(slice(1, None), axis)].shape == x[index].shape


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_slice_at_axis_is_pytensors(axis: int) -> None:
    pt = pytest.importorskip("pytensor.tensor")
    sl_ = slice(None, 1)
    assert ft.slice_at_axis(sl_, axis) == pt.slice_at_axis(sl_, axis)


def test_is_flat_scalar_conversions_and_identity() -> None:
    m = ft.matrix()
    assert ft.is_flat(ft.vector()) and not ft.is_flat(m) and ft.is_flat(m, ndim=2)
    assert ft.is_flat(ft.flatten(ft.tensor3(), 2), 2)
    s = ft.scalar()
    assert ft.scalar_from_tensor(s) is s and ft.tensor_from_scalar(s) is s
    assert ft.identity is ft.tensor_copy and ft.nlinalg.kron is ft.slinalg.kron
    # PyTensor's linalg.qr is scipy's (mode "full" by default), as ft.linalg's
    assert ft.linalg.qr is sl.qr
    assert [v.type.shape for v in ft.linalg.qr(ft.tensor(dtype="float64", shape=(4, 2)))] == [(4, 4), (4, 2)]
    assert ft.transfer(m, "cpu") is m and m.transfer("cpu") is m
    f = fc.function([m], ft.identity(m), mode=PY)
    x = _u(2, 2)
    out = f(x)
    assert_same(out, x)
    assert not np.shares_memory(out, x)


# -- gradients against finite differences --------------------------------------------------------

GRADS: dict[str, tuple] = {
    "hyp2f1_all": (
        ft.hyp2f1,
        (_u(3, lo=0.2, hi=1.5), _u(3, lo=-1.0, hi=1.0), _u(3, lo=2.0, hi=3.0), _u(3, lo=-0.8, hi=0.8)),
    ),
    "hyp2f1_z_past_one": (
        lambda z: ft.hyp2f1(0.5, 1.5, 2.5, z),
        (np.array([-3.0, -1.5, 0.0, 0.4]),),
    ),
    "kn_x": (lambda x: ft.kn(2, x) + ft.kn(np.array([0, 1, 3]), x), (_u(3, lo=0.5, hi=4.0),)),
    "xlog1py": (ft.special.xlog1py, (_u(2, 3), _u(3, lo=-0.5, hi=2.0))),
    "solve_sylvester": (sl.solve_sylvester, (_u(3, 3) + 2 * np.eye(3), _u(2, 2), _u(3, 2))),
    "solve_sylvester_stack": (sl.solve_sylvester, (_u(2, 2, 2) + np.eye(2), _u(2, 2), _u(2, 2, 2))),
    # Q and R symmetrized: the equation and its gradient are for symmetric Q and R
    "solve_discrete_are": (
        lambda a, b, q, r: sl.solve_discrete_are(a, b, (q + q.T) / 2, (r + r.T) / 2),
        _dare_inputs((), 3, 2),
    ),
    "solve_discrete_are_stack": (
        lambda a, b, q, r: sl.solve_discrete_are(
            a, b, q + ft.swapaxes(q, -1, -2), r + ft.swapaxes(r, -1, -2)
        ),
        _dare_inputs((2,), 2, 1),
    ),
    "qr_full_square": (lambda a: sl.qr(a)[0] + sl.qr(a)[1], (_u(3, 3) + 2 * np.eye(3),)),
    "qr_economic_tall": (lambda a: ft.concatenate(list(sl.qr(a, mode="economic")), axis=0), (_u(4, 3),)),
    "qr_r_tall": (lambda a: sl.qr(a, mode="r"), (_u(4, 3),)),
    "interpolate1d_linear": (
        lambda y, xh: ft.interpolate1d(INTERP_X, y)(xh),
        (INTERP_Y, np.array([0.5, 1.5, 2.25, 4.75, 6.0])),
    ),
    "concat_with_broadcast": (lambda a, b: ft.concat_with_broadcast([a, b], axis=1), (_u(1, 2), _u(3, 4))),
    "extract_diag": (ft.extract_diag, (_u(3, 3, 2),)),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradient_against_finite_differences(name: str) -> None:
    fd_check_case(name, *GRADS[name], mode=PY)


def test_hyp2f1_parameter_gradient_is_nan_where_the_series_diverges() -> None:
    a, z = ft.dscalar(), ft.dscalar()
    ga, gz = fc.grad(ft.hyp2f1(a, 1.5, 2.5, z), [a, z])
    f = fc.function([a, z], [ga, gz], mode=PY)
    got_a, got_z = f(0.5, -2.0)
    assert np.isnan(got_a)
    want_z = 0.5 * 1.5 / 2.5 * special.hyp2f1(1.5, 2.5, 3.5, -2.0)
    np.testing.assert_allclose(got_z, want_z, rtol=1e-12)
    assert f(0.5, 0.0)[0] == 0.0


# -- bad arguments ------------------------------------------------------------------------------

BAD: dict[str, tuple] = {
    "transfer_gpu": (
        lambda: ft.transfer(ft.vector(), "cuda"),
        ValueError,
        r"transfer: .*'cuda'.*Mode\(device='cuda'\)",
    ),
    "transfer_other": (lambda: ft.transfer(ft.vector(), "tpu"), ValueError, r"transfer: .*'tpu'.*'cpu'"),
    "scalar_from_vector": (
        lambda: ft.scalar_from_tensor(ft.vector()),
        TypeError,
        r"scalar_from_tensor: .*0-d",
    ),
    "tensor_from_matrix": (
        lambda: ft.tensor_from_scalar(ft.matrix()),
        TypeError,
        r"tensor_from_scalar: .*0-d",
    ),
    "is_flat_ndim": (lambda: ft.is_flat(ft.vector(), "1"), TypeError, r"is_flat: ndim must be an int"),
    "slice_at_axis_not_slice": (
        lambda: ft.slice_at_axis(1, 0),
        TypeError,
        r"slice_at_axis: sl must be a slice",
    ),
    "slice_at_axis_axis": (
        lambda: ft.slice_at_axis(slice(1), 1.0),
        TypeError,
        r"slice_at_axis: axis must be an int",
    ),
    "concat_empty": (
        lambda: ft.concat_with_broadcast([]),
        ValueError,
        r"concat_with_broadcast: the list is empty",
    ),
    "concat_ndims": (
        lambda: ft.concat_with_broadcast([ft.vector(), ft.matrix()]),
        TypeError,
        r"concat_with_broadcast: .*ndims \[1, 2\]",
    ),
    "concat_axis": (
        lambda: ft.concat_with_broadcast([ft.vector()], axis=1),
        ValueError,
        r"concat_with_broadcast: axis 1",
    ),
    "concat_not_list": (
        lambda: ft.concat_with_broadcast(ft.matrix()),
        TypeError,
        r"concat_with_broadcast: takes a list",
    ),
    "extract_diag_vector": (
        lambda: ft.extract_diag(ft.vector()),
        ValueError,
        r"extract_diag: takes a matrix",
    ),
    "interpolate1d_method": (
        lambda: ft.interpolate1d([1, 2], [3, 4], method="cubic"),
        ValueError,
        r"interpolate1d: method.*'cubic'",
    ),
    "interpolate1d_matrix": (
        lambda: ft.interpolate1d(ft.matrix(), ft.vector()),
        ValueError,
        r"interpolate1d: x must be a vector",
    ),
    "interpolate1d_lengths": (
        lambda: ft.interpolate1d(np.arange(3.0), np.arange(4.0)),
        ValueError,
        r"interpolate1d: x has 3 points and y 4",
    ),
    "hyp2f1_complex": (lambda: ft.hyp2f1(1, 1, 2, ft.zvector()), TypeError, r"hyp2f1: takes real numbers"),
    "qr_mode": (lambda: sl.qr(ft.matrix(), mode="thin"), ValueError, r"qr: mode='thin'.*'economic'"),
    "qr_vector": (lambda: sl.qr(ft.vector()), ValueError, r"qr: takes a matrix"),
    "qr_pivoting": (
        lambda: sl.qr(ft.matrix(), pivoting="yes"),
        TypeError,
        r"qr: pivoting must be True or False",
    ),
    "schur_output": (
        lambda: sl.schur(ft.matrix(), output="real64"),
        ValueError,
        r"schur: output must be 'real'",
    ),
    "schur_sort": (
        lambda: sl.schur(ft.matrix(), sort="up"),
        ValueError,
        r"schur: sort must be None or one of",
    ),
    "schur_rectangular": (
        lambda: sl.schur(ft.tensor(dtype="float64", shape=(2, 3))),
        ValueError,
        r"schur: the last two dims must be square",
    ),
    "qz_sizes": (
        lambda: sl.qz(ft.tensor(dtype="float64", shape=(2, 2)), ft.tensor(dtype="float64", shape=(3, 3))),
        ValueError,
        r"qz: A is .* and B .*one size",
    ),
    "ordqz_sort": (lambda: sl.ordqz(ft.matrix(), ft.matrix(), sort="left"), ValueError, r"qz: sort must be"),
    "pivot_to_permutation_float": (
        lambda: sl.pivot_to_permutation(ft.vector()),
        TypeError,
        r"pivot_to_permutation: p must be an int vector",
    ),
    "pivot_to_permutation_inverse": (
        lambda: sl.pivot_to_permutation(ft.ivector(), inverse="no"),
        TypeError,
        r"pivot_to_permutation: inverse must be True or False",
    ),
    "sylvester_q_shape": (
        lambda: sl.solve_sylvester(*[ft.tensor(dtype="float64", shape=s) for s in ((2, 2), (3, 3), (2, 2))]),
        ValueError,
        r"solve_sylvester: .*Q needs 3 columns",
    ),
    "sylvester_complex": (
        lambda: sl.solve_sylvester(ft.zmatrix(), ft.matrix(), ft.matrix()),
        TypeError,
        r"solve_sylvester: complex matrices are not supported",
    ),
    "dare_shapes": (
        lambda: sl.solve_discrete_are(
            *[ft.tensor(dtype="float64", shape=s) for s in ((3, 3), (3, 2), (3, 3), (3, 3))]
        ),
        ValueError,
        r"solve_discrete_are: .*R's size must be 2",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_arguments_name_the_function(name: str) -> None:
    call, error, match = BAD[name]
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "name, build, vals, error, match",
    [
        (
            "pivot_out_of_range",
            sl.pivot_to_permutation,
            (np.array([0, 5, 2], "int32"),),
            ValueError,
            r"pivot_to_permutation: pivots \[0, 5, 2\] do not fit",
        ),
        (
            "sylvester_singular",
            sl.solve_sylvester,
            (np.eye(2), -np.eye(2), np.ones((2, 2))),
            np.linalg.LinAlgError,
            r"solve: Singular matrix",
        ),
        (
            "dare_not_stabilizable",
            sl.solve_discrete_are,
            (2 * np.eye(2), np.zeros((2, 1)), np.eye(2), np.eye(1)),
            np.linalg.LinAlgError,
            r"solve_discrete_are: .*stabilizable",
        ),
        (
            "sylvester_sizes_at_run_time",
            sl.solve_sylvester,
            (np.eye(2), np.eye(3), np.ones((2, 2))),
            AssertionError,
            r"solve_sylvester: Q must be M x N",
        ),
    ],
)
def test_run_time_errors_name_the_function(name: str, build, vals: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_case(build, vals, PY)


def test_missing_scipy_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    hyp2f1_module = importlib.import_module("fncache.tensor.hyp2f1")
    linalg_scipy = importlib.import_module("fncache.tensor.linalg_scipy")
    real_import = importlib.import_module

    def no_scipy(name: str, *args: object) -> object:
        if name.startswith("scipy"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_scipy)
    with pytest.raises(ModuleNotFoundError, match=r"schur: computed with scipy.linalg.*pip install scipy"):
        linalg_scipy.schur(ft.matrix())
    with pytest.raises(ModuleNotFoundError, match=r"solve_discrete_are: computed with scipy.linalg"):
        linalg_scipy.solve_discrete_are(ft.matrix(), ft.matrix(), ft.matrix(), ft.matrix())
    with pytest.raises(ModuleNotFoundError, match=r"hyp2f1: computed with scipy.special"):
        hyp2f1_module.hyp2f1(1, 1, 2, ft.vector())


def test_empty_stacks_give_empty_results() -> None:
    e = np.zeros((0, 3, 3))
    assert [o.shape for o in run_case(sl.schur, (e,), PY)] == [(0, 3, 3)] * 2
    assert [o.shape for o in run_case(sl.ordqz, (e, e), PY)] == [(0, 3, 3)] * 2 + [(0, 3)] * 2 + [
        (0, 3, 3)
    ] * 2
    assert [o.shape for o in run_case(lambda a: sl.qr(a, pivoting=True), (e,), PY)] == [(0, 3, 3)] * 2 + [
        (0, 3)
    ]
    dare = (e, np.zeros((0, 3, 1)), e, np.zeros((0, 1, 1)))
    assert run_case(sl.solve_discrete_are, dare, PY)[0].shape == (0, 3, 3)
    assert run_case(sl.solve_sylvester, (e, np.zeros((0, 2, 2)), np.zeros((0, 3, 2))), PY)[0].shape == (
        0,
        3,
        2,
    )
