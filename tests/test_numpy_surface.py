"""numpy's array functions beyond the core set (``fliplr flipud broadcast_arrays inner meshgrid
logspace geomspace nanmean nanvar nanstd nanprod quantile percentile nanquantile nanpercentile
nanmedian digitize interp histogram convolve correlate signal.convolve1d select piecewise
batched_tensordot``, the stacking, reduction and ufunc names that follow) against numpy in both
linkers over random shapes and dtypes; their errors; their gradients against central finite
differences (none for the integer results); and a cache hit in a fresh process."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import (
    MODES,
    assert_same,
    assert_second_process_compiles_nothing,
    compiled,
    fd_check_grads,
    in_tests_dir,
    numpy_errstate,
    sample,
)

Case = tuple[Any, Callable[..., Any]]


def _function(inputs: list, cases: dict[str, Case], mode: str) -> tuple[Any, list[str], dict]:
    """One compiled function of every case's output(s), the case names and numpy's references."""
    names, outs = [], []
    for name, (out, _) in cases.items():
        if isinstance(out, (tuple, list)):
            names += [f"{name}[{k}]" for k in range(len(out))]
            outs += list(out)
        else:
            names.append(name)
            outs.append(out)
    refs = {name: ref for name, (_, ref) in cases.items()}
    return fc.function(inputs, outs, mode=mode, on_unused_input="ignore"), names, refs


def _check(fn: tuple[Any, list[str], dict], args: tuple, label: str, **tol: Any) -> None:
    f, names, refs = fn
    got = dict(zip(names, f(*args)))
    for name, ref in refs.items():
        with numpy_errstate(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = ref(*args)
        if isinstance(want, (tuple, list)):
            for k, w in enumerate(want):
                assert_same(got[f"{name}[{k}]"], w, f"{label} {name}[{k}]", **tol)
        else:
            assert_same(got[name], want, f"{label} {name}", **tol)


# -- rearranging: flips, broadcast_arrays, inner, meshgrid ---------------------------------------
@compiled
def arrange_fn(dtype: str, mode: str):
    x, v = ft.tensor("x", dtype, 3), ft.tensor("v", dtype, 1)
    s = ft.tensor("s", dtype, 0)
    cases: dict[str, Case] = {
        "fliplr": (ft.fliplr(x), lambda x, v, s: np.fliplr(x)),
        "flipud": (ft.flipud(x), lambda x, v, s: np.flipud(x)),
        "flipud_vec": (ft.flipud(v), lambda x, v, s: np.flipud(v)),
        "fliplr_mat": (ft.fliplr(x[0]), lambda x, v, s: np.fliplr(x[0])),
        "broadcast": (ft.broadcast_arrays(x, v, s), lambda x, v, s: np.broadcast_arrays(x, v, s)),
        "broadcast_one": (ft.broadcast_arrays(v), lambda x, v, s: np.broadcast_arrays(v)),
        "broadcast_col": (
            ft.broadcast_arrays(x[:, :, :1], v),
            lambda x, v, s: np.broadcast_arrays(x[:, :, :1], v),
        ),
        "meshgrid_xy": (ft.meshgrid(v, x[0, 0], s), lambda x, v, s: np.meshgrid(v, x[0, 0], s)),
        "meshgrid_ij": (
            ft.meshgrid(v, x[0], indexing="ij"),
            lambda x, v, s: np.meshgrid(v, x[0], indexing="ij"),
        ),
        "meshgrid_sparse": (
            ft.meshgrid(x[0, 0], v, v, sparse=True),
            lambda x, v, s: np.meshgrid(x[0, 0], v, v, sparse=True),
        ),
        "meshgrid_one": (ft.meshgrid(x), lambda x, v, s: np.meshgrid(x)),
    }
    if dtype != "bool":  # numpy's inner of bools is a logical or of ands, tensordot's a count
        cases["inner"] = (ft.inner(x, v), lambda x, v, s: np.inner(x, v))
        cases["inner_mat"] = (ft.inner(x[0], x[1]), lambda x, v, s: np.inner(x[0], x[1]))
        cases["inner_scalar"] = (ft.inner(s, x), lambda x, v, s: np.inner(s, x))
    return _function([x, v, s], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("bool", "int8", "int32", "uint8", "float32", "float64"))
def test_rearranging_against_numpy(dtype: str, mode: str) -> None:
    fn = arrange_fn(dtype, mode)
    rng = np.random.default_rng(1)
    for trial in range(4):
        shape = tuple(int(d) for d in rng.integers(2, 5, size=3))
        x = sample(dtype, shape, seed=trial, special=False)
        v = sample(dtype, (shape[2],), seed=trial + 10, special=False)
        s = sample(dtype, (), seed=trial + 20, special=False)
        _check(fn, (x if trial % 2 else x[:, ::-1], v, s), f"{dtype} {shape}")


# -- evenly spaced ranges --------------------------------------------------------------------
@compiled
def ranges_fn(dtype: str, mode: str):
    s, e = ft.tensor("s", dtype, 0), ft.tensor("e", dtype, 0)
    cases: dict[str, Case] = {
        "logspace": (ft.logspace(s, e, 7), lambda s, e: np.logspace(s, e, 7)),
        "logspace_open": (
            ft.logspace(s, e, 4, endpoint=False),
            lambda s, e: np.logspace(s, e, 4, endpoint=False),
        ),
        "logspace_base": (ft.logspace(s, e, 5, base=2.0), lambda s, e: np.logspace(s, e, 5, base=2.0)),
        "logspace_sym_base": (ft.logspace(0, 3, 4, base=e), lambda s, e: np.logspace(0, 3, 4, base=e)),
        "logspace_int": (
            ft.logspace(s, e, 6, dtype="int32"),
            lambda s, e: np.logspace(s, e, 6, dtype="int32"),
        ),
        "logspace_one": (ft.logspace(s, e, 1), lambda s, e: np.logspace(s, e, 1)),
        "logspace_none": (ft.logspace(s, e, 0), lambda s, e: np.logspace(s, e, 0)),
        "geomspace": (ft.geomspace(s, e, 7), lambda s, e: np.geomspace(s, e, 7)),
        "geomspace_open": (
            ft.geomspace(s, e, 5, endpoint=False),
            lambda s, e: np.geomspace(s, e, 5, endpoint=False),
        ),
        "geomspace_neg": (ft.geomspace(-e, -s, 6), lambda s, e: np.geomspace(-e, -s, 6)),
        "geomspace_int": (
            ft.geomspace(s, e, 5, dtype="int64"),
            lambda s, e: np.geomspace(s, e, 5, dtype="int64"),
        ),
        "geomspace_f32": (
            ft.geomspace(s, e, 5, dtype="float32"),
            lambda s, e: np.geomspace(s, e, 5, dtype="float32"),
        ),
        "geomspace_const": (ft.geomspace(1, 1000, 4), lambda s, e: np.geomspace(1, 1000, 4)),
        "geomspace_one": (ft.geomspace(s, e, 1), lambda s, e: np.geomspace(s, e, 1)),
    }
    return _function([s, e], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int64"))
def test_ranges_against_numpy(dtype: str, mode: str) -> None:
    fn = ranges_fn(dtype, mode)
    for s, e in (
        [(1, 3), (2, 7), (3, 1), (5, 5)] if dtype == "int64" else [(0.5, 2.0), (3.0, 0.25), (1.5, 1.5)]
    ):
        _check(fn, (np.asarray(s, dtype), np.asarray(e, dtype)), f"{dtype} {s} {e}")


# -- reductions ignoring NaN, quantiles ---------------------------------------------------------
NAN_AXES = {"all": None, "0": 0, "last": -1, "pair": (0, 2), "none": ()}


@compiled
def nan_fn(dtype: str, mode: str):
    x = ft.tensor("x", dtype, 3)
    cases: dict[str, Case] = {}
    for tag, axis in NAN_AXES.items():
        for keep in (False, True):
            k = f"{tag}{'_keep' if keep else ''}"
            cases[f"nanmean_{k}"] = (
                ft.nanmean(x, axis, keepdims=keep),
                lambda x, a=axis, kd=keep: np.nanmean(x, a, keepdims=kd),
            )
            cases[f"nanvar_{k}"] = (
                ft.nanvar(x, axis, ddof=1, keepdims=keep),
                lambda x, a=axis, kd=keep: np.nanvar(x, a, ddof=1, keepdims=kd),
            )
            cases[f"nanstd_{k}"] = (
                ft.nanstd(x, axis, keepdims=keep),
                lambda x, a=axis, kd=keep: np.nanstd(x, a, keepdims=kd),
            )
            cases[f"nanprod_{k}"] = (
                ft.nanprod(x, axis, keepdims=keep),
                lambda x, a=axis, kd=keep: np.nanprod(x, a, keepdims=kd),
            )
            cases[f"nansum_{k}"] = (
                ft.nansum(x, axis, keepdims=keep),
                lambda x, a=axis, kd=keep: np.nansum(x, a, keepdims=kd),
            )
        if axis != ():  # numpy refuses an empty tuple for nanmax/nanmin's fmax reduction only when empty
            cases[f"nanmax_{tag}"] = (ft.nanmax(x, axis), lambda x, a=axis: np.nanmax(x, a))
            cases[f"nanmin_{tag}"] = (ft.nanmin(x, axis), lambda x, a=axis: np.nanmin(x, a))
    return _function([x], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int16"))
def test_nan_reductions_against_numpy(dtype: str, mode: str) -> None:
    fn = nan_fn(dtype, mode)
    rng = np.random.default_rng(2)
    for trial in range(3):
        shape = tuple(int(d) for d in rng.integers(1, 5, size=3))
        x = sample(dtype, shape, seed=trial, special=False, low=-3, high=3)
        if dtype != "int16":
            x.flat[rng.integers(0, x.size, size=max(1, x.size // 3))] = np.nan
            x[..., 0] = np.nan  # slices of NaNs only: NaN, 0 (nansum) or 1 (nanprod)
        tol = {"rtol": 2e-5} if dtype == "float32" else {"rtol": 1e-11}
        _check(fn, (x,), f"{dtype} {shape}", **tol)


QUANTILES: dict[str, tuple[Any, Any, bool]] = {
    "scalar_all": (0.3, None, False),
    "scalar_axis": (0.75, 1, False),
    "list_axis": ([0.0, 0.1, 0.5, 1.0], 0, False),
    "list_pair_keep": ([0.25, 0.9], (0, 2), True),
    "array_last_keep": (np.array([[0.2], [0.6]]), -1, True),
    "edges": ([0, 1], None, True),
}


@compiled
def quantile_fn(dtype: str, mode: str):
    x, q = ft.tensor("x", dtype, 3), ft.dvector("q")
    cases: dict[str, Case] = {}
    for name, (levels, axis, keep) in QUANTILES.items():
        cases[f"quantile_{name}"] = (
            ft.quantile(x, levels, axis=axis, keepdims=keep),
            lambda x, q, lv=levels, a=axis, kd=keep: np.quantile(x, lv, axis=a, keepdims=kd),
        )
        pct = np.asarray(levels) * 100 if isinstance(levels, list) else levels * 100
        cases[f"percentile_{name}"] = (
            ft.percentile(x, pct, axis=axis, keepdims=keep),
            lambda x, q, p=pct, a=axis, kd=keep: np.percentile(x, p, axis=a, keepdims=kd),
        )
        cases[f"nanquantile_{name}"] = (
            ft.nanquantile(x, levels, axis=axis, keepdims=keep),
            lambda x, q, lv=levels, a=axis, kd=keep: np.nanquantile(x, lv, axis=a, keepdims=kd),
        )
        cases[f"nanpercentile_{name}"] = (
            ft.nanpercentile(x, pct, axis=axis, keepdims=keep),
            lambda x, q, p=pct, a=axis, kd=keep: np.nanpercentile(x, p, axis=a, keepdims=kd),
        )
    cases["nanmedian"] = (ft.nanmedian(x, axis=(0, 2)), lambda x, q: np.nanmedian(x, axis=(0, 2)))
    cases["nanmedian_keep"] = (ft.nanmedian(x, keepdims=True), lambda x, q: np.nanmedian(x, keepdims=True))
    cases["nan_symbolic_q"] = (ft.nanquantile(x, q, axis=2), lambda x, q: np.nanquantile(x, q, axis=2))
    cases["symbolic_q"] = (ft.quantile(x, q, axis=1), lambda x, q: np.quantile(x, q, axis=1))
    cases["symbolic_q0"] = (ft.quantile(x, q[0], axis=(1, 2)), lambda x, q: np.quantile(x, q[0], axis=(1, 2)))
    cases["symbolic_pct"] = (ft.percentile(x, q * 100, axis=None), lambda x, q: np.percentile(x, q * 100))
    return _function([x, q], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_quantiles_against_numpy(dtype: str, mode: str) -> None:
    fn = quantile_fn(dtype, mode)
    rng = np.random.default_rng(3)
    for trial in range(5):
        shape = tuple(int(d) for d in rng.integers(1 if trial < 2 else 2, 6, size=3))
        x = (rng.normal(size=shape) * 10).astype(dtype)
        # NaNs leave the first slice along any axis with a value: numpy's nan-functions give the
        # dtype of the data, not of the levels, when that slice is all NaN
        big = dtype != "int32" and min(shape) > 1
        if trial >= 2 and big:
            x[0, 0, 0] = np.nan  # the slices holding a NaN give NaN (the nan-functions skip it)
        if trial >= 3 and big:
            x[-1, :, -1] = np.nan  # all NaN along axis 1: NaN from the nan-functions too
            inner = x[1:, 1:, 1:]
            inner.flat[rng.integers(0, inner.size, size=inner.size // 3)] = np.nan
        q = rng.uniform(0, 1, size=3)
        # the interpolation a + (b - a) * t contracts to one fused multiply-add in C: values that
        # cancel to about 0 differ from numpy by a rounding of the data's size
        tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == "float32" else {"atol": 1e-12}
        _check(fn, (x, q), f"{dtype} {shape}", **tol)


# -- binning: digitize, interp, histogram ------------------------------------------------------
@compiled
def binning_fn(dtype: str, mode: str):
    x, b = ft.tensor("x", dtype, 2), ft.tensor("b", dtype, 1)
    fp = ft.dvector("fp")
    sb = ft.sort(b)
    cases: dict[str, Case] = {
        "digitize": (ft.digitize(x, sb), lambda x, b, fp: np.digitize(x, np.sort(b))),
        "digitize_right": (
            ft.digitize(x, sb, right=True),
            lambda x, b, fp: np.digitize(x, np.sort(b), right=True),
        ),
        "digitize_down": (ft.digitize(x, sb[::-1]), lambda x, b, fp: np.digitize(x, np.sort(b)[::-1])),
        "digitize_down_right": (
            ft.digitize(x, sb[::-1], right=True),
            lambda x, b, fp: np.digitize(x, np.sort(b)[::-1], right=True),
        ),
        "interp": (ft.interp(x, sb, fp), lambda x, b, fp: np.interp(x, np.sort(b), fp)),
        "interp_lr": (
            ft.interp(x, sb, fp, left=-7.5, right=fp[0]),
            lambda x, b, fp: np.interp(x, np.sort(b), fp, left=-7.5, right=fp[0]),
        ),
        "interp_period": (ft.interp(x, b, fp, period=5), lambda x, b, fp: np.interp(x, b, fp, period=5)),
        "interp_one_point": (
            ft.interp(x, sb[:1], fp[:1]),
            lambda x, b, fp: np.interp(x, np.sort(b)[:1], fp[:1]),
        ),
        "histogram": (ft.histogram(x), lambda x, b, fp: np.histogram(x)),
        "histogram_range": (
            ft.histogram(x, 4, range=(-2, 3)),
            lambda x, b, fp: np.histogram(x, 4, range=(-2, 3)),
        ),
        "histogram_edges": (ft.histogram(x, sb), lambda x, b, fp: np.histogram(x, np.sort(b))),
        "histogram_list": (ft.histogram(x, [-5, 0, 1, 5]), lambda x, b, fp: np.histogram(x, [-5, 0, 1, 5])),
        "histogram_density": (
            ft.histogram(x, 3, density=True),
            lambda x, b, fp: np.histogram(x, 3, density=True),
        ),
        "histogram_weights": (
            ft.histogram(x, 5, weights=x * 2),
            lambda x, b, fp: np.histogram(x, 5, weights=x * 2),
        ),
        "histogram_one_bin": (ft.histogram(x[:0], 1), lambda x, b, fp: np.histogram(x[:0], 1)),
    }
    return _function([x, b, fp], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_binning_against_numpy(dtype: str, mode: str) -> None:
    fn = binning_fn(dtype, mode)
    rng = np.random.default_rng(4)
    for trial in range(4):
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 9)))
        n = int(rng.integers(2, 8))
        x = (rng.normal(size=shape) * 4).astype(dtype)
        b = (rng.normal(size=n) * 4).astype(dtype)
        if trial == 1:
            x.flat[0] = b[1]  # on a bin edge / a point of xp
            b[2] = b[0]  # a repeated edge
        fp = rng.normal(size=n)
        _check(fn, (x, b, fp), f"{dtype} {shape} {n}", rtol=1e-5 if dtype == "float32" else 1e-12)


def test_interp_special_values_as_numpy() -> None:
    x, xp, fp = ft.dvector("x"), ft.dvector("xp"), ft.dvector("fp")
    f = fc.function([x, xp, fp], ft.interp(x, xp, fp))
    xs = np.array([np.nan, -np.inf, np.inf, 0.0, 1.0, 1.5, 2.0, 3.0, 0.5])
    for pts, vals in [
        ([0.0, 1.0, 2.0, 3.0], [0.0, np.inf, 1.0, -np.inf]),
        ([0.0, 1.0, 1.0, 3.0], [1.0, 2.0, 3.0, 4.0]),
        ([0.0, 2.0], [np.inf, np.inf]),
        ([1.0], [5.0]),
    ]:
        with numpy_errstate():
            want = np.interp(xs, pts, vals)
        assert_same(f(xs, np.array(pts), np.array(vals)), want, f"{pts} {vals}")


# -- convolution and correlation --------------------------------------------------------------
def pytensor_convolve1d(a: np.ndarray, v: np.ndarray, mode: str) -> np.ndarray:
    """PyTensor's ``signal.convolve1d``: numpy's convolve, but ``"same"`` keeps ``a``'s length
    (scipy's rule) where numpy keeps the longer signal's."""
    if mode != "same":
        return np.convolve(a, v, mode)
    start = (len(v) - 1) // 2
    return np.convolve(a, v, "full")[start : start + len(a)]


@compiled
def convolve_fn(dtype: str, mode: str):
    a, v = ft.tensor("a", dtype, 1), ft.tensor("v", dtype, 1)
    cases: dict[str, Case] = {}
    for m in ("full", "same", "valid"):
        cases[f"convolve_{m}"] = (ft.convolve(a, v, m), lambda a, v, m=m: np.convolve(a, v, m))
        cases[f"correlate_{m}"] = (ft.correlate(a, v, m), lambda a, v, m=m: np.correlate(a, v, m))
        cases[f"convolve1d_{m}"] = (
            ft.signal.convolve1d(a, v, m),
            lambda a, v, m=m: pytensor_convolve1d(a, v, m),
        )
    cases["correlate_default"] = (ft.correlate(v, a), lambda a, v: np.correlate(v, a))
    cases["convolve_default"] = (ft.convolve(v, a), lambda a, v: np.convolve(v, a))
    return _function([a, v], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32", "int8", "bool"))
def test_convolve_and_correlate_against_numpy(dtype: str, mode: str) -> None:
    fn = convolve_fn(dtype, mode)
    for n in range(1, 7):
        for m in (1, 2, 3, 4, 6, 7):
            a = sample(
                dtype, (n,), seed=n, special=False, **({} if dtype == "bool" else {"low": -9, "high": 9})
            )
            v = sample(
                dtype, (m,), seed=10 + m, special=False, **({} if dtype == "bool" else {"low": -9, "high": 9})
            )
            _check(
                fn,
                (a, v[::-1] if m % 2 else v),
                f"{dtype} n={n} m={m}",
                rtol=1e-5 if dtype == "float32" else 1e-12,
            )


def test_convolve1d_of_stacks() -> None:
    a, v = ft.dmatrix("a"), ft.dtensor3("v")
    f = fc.function([a, v], [ft.signal.convolve1d(a, v, m) for m in ("full", "same", "valid")])
    rng = np.random.default_rng(5)
    # filters longer than the signals too: "same" keeps the signals' length, as PyTensor's
    for av, vv in [
        (rng.normal(size=(3, 6)), rng.normal(size=(2, 1, 4))),
        (rng.normal(size=(3, 2)), rng.normal(size=(2, 1, 5))),
    ]:
        for got, m in zip(f(av, vv), ("full", "same", "valid")):
            want = np.array([[pytensor_convolve1d(av[i], vv[j, 0], m) for i in range(3)] for j in range(2)])
            assert_same(got, want, m)


# -- selects and batched products ---------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_select_piecewise_batched_tensordot(mode: str) -> None:
    v, t, u = ft.dvector("v"), ft.dtensor3("t"), ft.dtensor4("u")
    iv = ft.ivector("iv")
    cases: dict[str, Case] = {
        "select": (
            ft.select([v > 0, v < -1], [v, v * 2], -5.0),
            lambda v, t, u, i: np.select([v > 0, v < -1], [v, v * 2], -5.0),
        ),
        "select_int": (ft.select([iv > 2], [iv]), lambda v, t, u, i: np.select([i > 2], [i])),
        "piecewise": (
            ft.piecewise(v, [v < 0, v >= 0], [lambda x: -x, lambda x: x * 3]),
            lambda v, t, u, i: np.piecewise(v, [v < 0, v >= 0], [lambda x: -x, lambda x: x * 3]),
        ),
        "piecewise_otherwise": (
            ft.piecewise(v, [v < 0, v > 1], [lambda x: x * x, 7.0, ft.sin]),
            lambda v, t, u, i: np.piecewise(v, [v < 0, v > 1], [lambda x: x * x, 7.0, np.sin]),
        ),
        "piecewise_int": (
            ft.piecewise(iv, [iv < 0], [2.7]),
            lambda v, t, u, i: np.piecewise(i, [i < 0], [2.7]),
        ),
        "btd_int": (ft.batched_tensordot(t, t, axes=1), lambda v, t, u, i: np.einsum("abc,acd->abd", t, t)),
        "btd_lists": (
            ft.batched_tensordot(t, u, axes=[[1, 2], [3, 1]]),
            lambda v, t, u, i: np.einsum("abc,acdb->ad", t, u),
        ),
        "btd_zero": (
            ft.batched_tensordot(t, u, axes=0),
            lambda v, t, u, i: np.einsum("abc,adef->abcdef", t, u),
        ),
    }
    fn = _function([v, t, u, iv], cases, mode)
    rng = np.random.default_rng(6)
    vv = np.concatenate([rng.normal(size=7) * 2, [0.0, -1.0, 1.0]])
    args = (vv, rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 4, 3)), np.arange(-3, 5, dtype="int32"))
    _check(fn, args, "selects", rtol=1e-12)


# -- more of numpy's array functions ----------------------------------------------------------
@compiled
def more_fn(dtype: str, mode: str):
    x, y = ft.tensor("x", dtype, 3), ft.tensor("y", dtype, 3)
    v = ft.tensor("v", dtype, 1)
    m = x[0]
    cases: dict[str, Case] = {
        "hstack": (ft.hstack([x, y]), lambda x, y, v: np.hstack([x, y])),
        "vstack": (ft.vstack((v, v)), lambda x, y, v: np.vstack((v, v))),
        "dstack": (ft.dstack([m, m]), lambda x, y, v: np.dstack([x[0], x[0]])),
        "dstack_vec": (ft.dstack([v, v, v]), lambda x, y, v: np.dstack([v, v, v])),
        "column_stack": (ft.column_stack([v, m.T]), lambda x, y, v: np.column_stack([v, x[0].T])),
        "rot90": (ft.rot90(x), lambda x, y, v: np.rot90(x)),
        "rot90_2": (ft.rot90(x, 2, axes=(1, 2)), lambda x, y, v: np.rot90(x, 2, axes=(1, 2))),
        "rot90_3": (ft.rot90(x, 3, axes=(2, 0)), lambda x, y, v: np.rot90(x, 3, axes=(2, 0))),
        "rot90_neg": (ft.rot90(m, -1), lambda x, y, v: np.rot90(x[0], -1)),
        "logical_and": (ft.logical_and(x, y), lambda x, y, v: np.logical_and(x, y)),
        "logical_or": (ft.logical_or(x, v), lambda x, y, v: np.logical_or(x, v)),
        "logical_xor": (ft.logical_xor(x, y), lambda x, y, v: np.logical_xor(x, y)),
        "logical_not": (ft.logical_not(x), lambda x, y, v: np.logical_not(x)),
        "count_nonzero": (ft.count_nonzero(x), lambda x, y, v: np.asarray(np.count_nonzero(x), "int64")),
        "count_nonzero_ax": (
            ft.count_nonzero(x, axis=(0, 2), keepdims=True),
            lambda x, y, v: np.count_nonzero(x, axis=(0, 2), keepdims=True).astype("int64"),
        ),
    }
    if dtype != "bool":  # y's values are distinct but for bools, whose order has ties
        cases |= {
            "take_along": (
                ft.take_along_axis(x, ft.argsort(y, axis=1), axis=1),
                lambda x, y, v: np.take_along_axis(x, np.argsort(y, axis=1, kind="stable"), axis=1),
            ),
            "take_along_max": (
                ft.take_along_axis(x, ft.argmax(y, axis=-1, keepdims=True), axis=-1),
                lambda x, y, v: np.take_along_axis(x, np.argmax(y, axis=-1, keepdims=True), axis=-1),
            ),
            "take_along_flat": (
                ft.take_along_axis(x, ft.argsort(y, axis=None), axis=None),
                lambda x, y, v: np.take_along_axis(x, np.argsort(y, axis=None, kind="stable"), axis=None),
            ),
            "vecdot": (ft.vecdot(x, v), lambda x, y, v: np.vecdot(x, v)),
            "vecdot_ax": (ft.vecdot(x, y, axis=1), lambda x, y, v: np.vecdot(x, y, axis=1)),
            "matvec": (ft.matvec(x, v), lambda x, y, v: np.matvec(x, v)),
            "vecmat": (ft.vecmat(y[:, :, 0], x), lambda x, y, v: np.vecmat(y[:, :, 0], x)),
            "fmax": (ft.fmax(x, y), lambda x, y, v: np.fmax(x, y)),
            "fmin": (ft.fmin(x, v), lambda x, y, v: np.fmin(x, v)),
            "nancumsum": (ft.nancumsum(x, axis=1), lambda x, y, v: np.nancumsum(x, axis=1)),
            "nancumprod": (ft.nancumprod(x), lambda x, y, v: np.nancumprod(x)),
            "average": (ft.average(x, axis=1), lambda x, y, v: np.average(x, axis=1)),
            "average_w": (
                ft.average(x, axis=2, weights=abs(v) + 1, returned=True),
                lambda x, y, v: np.average(x, axis=2, weights=np.abs(v) + 1, returned=True),
            ),
            "average_full": (
                ft.average(x, weights=abs(y) + 1, keepdims=True),
                lambda x, y, v: np.average(x, weights=np.abs(y) + 1, keepdims=True),
            ),
            "average_count": (
                ft.average(x, (0, 1), returned=True),
                lambda x, y, v: np.average(x, (0, 1), returned=True),
            ),
            "nanargmax": (ft.nanargmax(x, axis=2), lambda x, y, v: np.nanargmax(x, axis=2)),
            "nanargmin": (
                ft.nanargmin(x, axis=0, keepdims=True),
                lambda x, y, v: np.nanargmin(x, axis=0, keepdims=True),
            ),
        }
    return _function([x, y, v], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32", "uint8", "bool"))
def test_more_array_functions_against_numpy(dtype: str, mode: str) -> None:
    fn = more_fn(dtype, mode)
    rng = np.random.default_rng(8)
    for trial in range(3):
        shape = tuple(int(d) for d in rng.integers(2, 5, size=3))
        x = sample(
            dtype, shape, seed=trial, special=False, **({} if dtype == "bool" else {"low": 0, "high": 5})
        )
        y = sample(
            dtype, shape, seed=trial + 5, special=False, **({} if dtype == "bool" else {"low": 0, "high": 5})
        )
        if dtype.startswith("float"):
            x[0, 0, 1] = np.nan  # ignored by fmax/fmin, nancumsum, nanargmax...
            y[0, 1, 0] = np.nan
            y = np.where(np.isnan(y), y, y + rng.uniform(0, 0.1, shape).astype(dtype))  # no ties to sort
        elif dtype != "bool":
            y = rng.permutation(y.size).astype(dtype).reshape(shape)
        v = sample(
            dtype,
            (shape[2],),
            seed=trial + 9,
            special=False,
            **({} if dtype == "bool" else {"low": 0, "high": 5}),
        )
        tol = {"rtol": 2e-5} if dtype == "float32" else {}
        _check(fn, (x, y, v), f"{dtype} {shape}", **tol)


@compiled
def extra_fn(dtype: str, mode: str):
    x, y, v = ft.tensor("x", dtype, 2), ft.tensor("y", dtype, 2), ft.tensor("v", dtype, 1)
    n = ft.lscalar("n")
    cases: dict[str, Case] = {
        "trapezoid": (ft.trapezoid(x), lambda x, y, v, n: np.trapezoid(x)),
        "trapezoid_x": (ft.trapezoid(x, v, axis=0), lambda x, y, v, n: np.trapezoid(x, v, axis=0)),
        "trapezoid_dx": (ft.trapezoid(x, dx=0.5, axis=0), lambda x, y, v, n: np.trapezoid(x, dx=0.5, axis=0)),
        "trapezoid_xy": (ft.trapezoid(x, y), lambda x, y, v, n: np.trapezoid(x, y)),
        "cross": (ft.cross(x[:, :3], y[:, :3]), lambda x, y, v, n: np.cross(x[:, :3], y[:, :3])),
        "cross_axis0": (ft.cross(x[:3], y[:3], axis=0), lambda x, y, v, n: np.cross(x[:3], y[:3], axis=0)),
        "heaviside": (ft.heaviside(x, y), lambda x, y, v, n: np.heaviside(x, y)),
        "sinc": (ft.sinc(x), lambda x, y, v, n: np.sinc(x)),
        "isposinf": (ft.isposinf(x), lambda x, y, v, n: np.isposinf(x)),
        "isneginf": (ft.isneginf(x), lambda x, y, v, n: np.isneginf(x)),
        "append": (ft.append(x, v), lambda x, y, v, n: np.append(x, v)),
        "append_axis": (ft.append(x, y, axis=1), lambda x, y, v, n: np.append(x, y, axis=1)),
        "ediff1d": (
            ft.ediff1d(x, to_begin=[-1, -2], to_end=v),
            lambda x, y, v, n: np.ediff1d(x, to_begin=[-1, -2], to_end=v),
        ),
        "tril_indices": (ft.tril_indices(n, 1), lambda x, y, v, n: np.tril_indices(n, 1)),
        "triu_indices": (ft.triu_indices(n, -1, 5), lambda x, y, v, n: np.triu_indices(n, -1, 5)),
    }
    return _function([x, y, v, n], cases, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_extra_functions_against_numpy(dtype: str, mode: str) -> None:
    fn = extra_fn(dtype, mode)
    rng = np.random.default_rng(9)
    for trial in range(3):
        shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)))
        x = sample(dtype, shape, seed=trial, special=dtype != "int32", low=-4, high=4)
        y = sample(dtype, shape, seed=trial + 3, special=False, low=-4, high=4)
        v = np.sort(sample(dtype, (shape[0],), seed=trial + 6, special=False, low=-4, high=4))
        # a x b - c x d contracts to a fused multiply-add in C: components that cancel differ
        # from numpy by a rounding of the products' size
        tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == "float32" else {"atol": 1e-13}
        _check(fn, (x, y, v, np.int64(trial + 2)), f"{dtype} {shape}", **tol)


def test_numpy_ufunc_names_are_the_same_functions() -> None:
    pairs = {
        "absolute": "abs",
        "negative": "neg",
        "subtract": "sub",
        "multiply": "mul",
        "divide": "true_div",
        "power": "pow",
        "greater": "gt",
        "greater_equal": "ge",
        "less": "lt",
        "less_equal": "le",
        "equal": "eq",
        "not_equal": "neq",
        "rint": "round",
        "degrees": "rad2deg",
        "radians": "deg2rad",
    }
    for name in ("linspace", "logspace", "geomspace", "broadcast_arrays"):
        assert getattr(ft.extra_ops, name) is getattr(ft, name), name  # PyTensor's extra_ops names
    for numpy_name, name in pairs.items():
        assert getattr(ft, numpy_name) is getattr(ft, name), numpy_name
        assert numpy_name in ft.__all__


# -- errors ------------------------------------------------------------------------------------
def test_errors_name_the_function_and_the_fix() -> None:
    v, m, s = ft.dvector("v"), ft.dmatrix("m"), ft.dscalar("s")
    build_errors = [
        (lambda: ft.fliplr(v), ValueError, "fliplr: takes a tensor of 2 or more dims"),
        (lambda: ft.flipud(s), ValueError, "flipud: takes a tensor of 1 or more dims"),
        (
            lambda: ft.inner(ft.tensor("a", "float64", shape=(2, 3)), ft.tensor("b", "float64", shape=(4,))),
            ValueError,
            "inner: the last dims differ",
        ),
        (lambda: ft.meshgrid(v, v, indexing="xz"), ValueError, "meshgrid: indexing must be 'xy' or 'ij'"),
        (lambda: ft.logspace(0, 1, 2.5), TypeError, "logspace: num must be a non-negative int, got 2.5"),
        (lambda: ft.logspace(0, 1, -1), ValueError, "logspace: num must be a non-negative int, got -1"),
        (lambda: ft.logspace(0, 1, 3, base=v), ValueError, "logspace: base must be a scalar"),
        (lambda: ft.geomspace(0, 1, 3), ValueError, "geomspace: start is 0"),
        (lambda: ft.geomspace(1, 2, 3, axis=1), ValueError, "geomspace: axis must be 0"),
        (lambda: ft.geomspace(1j, 2, 3), TypeError, "geomspace: start must be real"),
        (lambda: ft.nanvar(m, ddof=0.5), TypeError, "nanvar: ddof must be an int"),
        (lambda: ft.nanmean(ft.cvector()), TypeError, "nanmean: takes real numbers"),
        (lambda: ft.quantile(m, 1.5), ValueError, r"quantile: q must be in the range \[0, 1\]"),
        (lambda: ft.percentile(m, [10, 101]), ValueError, r"percentile: q must be in the range \[0, 100\]"),
        (
            lambda: ft.quantile(m, 0.5, method="nearest_even"),
            ValueError,
            "quantile: method 'nearest_even' is not supported",
        ),
        (lambda: ft.quantile(m, "a"), TypeError, "quantile: q must be a number"),
        (lambda: ft.quantile(m, 0.5, axis=2), ValueError, "quantile: axis 2 is out of bounds"),
        (lambda: ft.digitize(v, m), ValueError, r"digitize: bins must be a vector \(1-d\)"),
        (lambda: ft.digitize(ft.cvector(), v), TypeError, "digitize: x must hold real numbers"),
        (lambda: ft.interp(v, v, m), ValueError, r"interp: fp must be a vector \(1-d\)"),
        (
            lambda: ft.interp(
                v, ft.tensor("xp", "float64", shape=(3,)), ft.tensor("fp", "float64", shape=(4,))
            ),
            ValueError,
            "interp: xp has 3 points and fp 4 values",
        ),
        (lambda: ft.interp(v, v, v, period=0), ValueError, "interp: period must be a non-zero value"),
        (lambda: ft.interp(v, v, v, left=v), ValueError, "interp: left must be a scalar"),
        (lambda: ft.histogram(v, 0), ValueError, "histogram: bins must be a positive int, got 0"),
        (lambda: ft.histogram(v, "auto"), TypeError, "histogram: bins must be an int or a vector"),
        (lambda: ft.histogram(v, [3, 1, 2]), ValueError, "histogram: the bin edges .* must increase"),
        (lambda: ft.histogram(v, 3, range=(2, 1)), ValueError, "histogram: range .* has max below min"),
        (lambda: ft.histogram(v, 3, range=(0, np.inf)), ValueError, "histogram: the range .* is not finite"),
        (lambda: ft.histogram(v, 3, range=5), TypeError, "histogram: range must be a pair"),
        (lambda: ft.histogram(v, weights=m), ValueError, "histogram: weights .* give weights of a's shape"),
        (lambda: ft.histogram(ft.bvector(), 3), TypeError, "histogram: a holds bools"),
        (lambda: ft.convolve(v, v, "middle"), ValueError, "convolve: mode must be one of full, same, valid"),
        (lambda: ft.convolve(m, v), ValueError, r"convolve: a must be a vector \(1-d\)"),
        (lambda: ft.correlate(v, ft.cvector()), TypeError, "correlate: complex signals are not supported"),
        (lambda: ft.signal.convolve1d(v, s), ValueError, "convolve1d: v must be 1 or more dims"),
        (lambda: ft.select([v > 0], [v, v]), ValueError, "select: 1 conditions for 2 choices"),
        (lambda: ft.select([v], [v]), TypeError, "select: condition 0 must be a bool tensor"),
        (lambda: ft.piecewise(v, [v > 0], [1, 2, 3]), ValueError, "piecewise: 3 functions for 1 conditions"),
        (lambda: ft.batched_tensordot(m, m, axes=2), ValueError, "batched_tensordot: axes=2 is out of range"),
        (lambda: ft.batched_tensordot(m, m, axes=[[0], [1]]), ValueError, "none of them the batch dim 0"),
        (lambda: ft.batched_tensordot(s, m), TypeError, "batched_tensordot: x must have a batch dim"),
        (lambda: ft.hstack(m), TypeError, "hstack: give one non-empty list or tuple of tensors"),
        (lambda: ft.rot90(v), ValueError, "rot90: takes a tensor of 2 or more dims"),
        (lambda: ft.rot90(m, 1.5), TypeError, "rot90: k must be an int"),
        (lambda: ft.rot90(m, 1, axes=(0, 0)), ValueError, "rot90: axis 0 is repeated"),
        (
            lambda: ft.take_along_axis(m, ft.lvector()),
            ValueError,
            "take_along_axis: indices .* must have the same number of dims",
        ),
        (lambda: ft.take_along_axis(m, m), TypeError, "take_along_axis: indices must hold ints"),
        (
            lambda: ft.take_along_axis(m, ft.lmatrix(), axis=None),
            ValueError,
            "with axis=None the indices must be a vector",
        ),
        (lambda: ft.vecdot(s, v), ValueError, "vecdot: operand 0 is 0-d"),
        (lambda: ft.matvec(v, v), ValueError, "matvec: takes matrices and vectors"),
        (lambda: ft.vecmat(v, v), ValueError, "vecmat: takes vectors and matrices"),
        (
            lambda: ft.average(m, axis=(0, 1), weights=v),
            ValueError,
            "average: weights .* give weights of a's shape",
        ),
        (lambda: ft.average(ft.cvector()), TypeError, "average: takes real numbers"),
        (lambda: ft.trapezoid(s), ValueError, "trapezoid: y must have an axis"),
        (lambda: ft.trapezoid(v, m), ValueError, "trapezoid: x .* give a vector along the axis"),
        (lambda: ft.trapezoid(m, dx=v), ValueError, "trapezoid: dx must be a scalar"),
        (
            lambda: ft.cross(ft.tensor("c", "float64", shape=(4, 2)), m),
            ValueError,
            "cross: a .* has 2 components",
        ),
        (lambda: ft.cross(s, m), ValueError, "cross: a must hold 3-vectors"),
        (lambda: ft.isposinf(ft.cvector()), TypeError, "isposinf: takes real numbers"),
        (
            lambda: ft.ediff1d(ft.lvector(), to_end=[0.5]),
            TypeError,
            "ediff1d: to_end of .* cannot be cast to int64",
        ),
    ]
    for build, kind, message in build_errors:
        with pytest.raises(kind, match=message):
            build()


@pytest.mark.parametrize("mode", MODES)
def test_run_time_errors(mode: str) -> None:
    v, w, s = ft.dvector("v"), ft.dvector("w"), ft.dscalar("s")
    run_errors = [
        (
            [v, w],
            ft.digitize(v, w),
            (np.ones(2), np.array([1.0, 3.0, 2.0])),
            "digitize: bins must be monotonically",
        ),
        (
            [v, w],
            ft.interp(v, w, w[:-1]),
            (np.ones(2), np.arange(3.0)),
            "interp: xp and fp must be non-empty and of one length",
        ),
        ([v, w], ft.interp(v, w, w), (np.ones(2), np.zeros(0)), "interp: xp and fp must be non-empty"),
        (
            [v, s],
            ft.interp(v, v, v, period=s),
            (np.ones(2), np.float64(0)),
            "interp: period must be a non-zero value",
        ),
        (
            [v, w],
            ft.histogram(v, w)[0],
            (np.ones(2), np.array([1.0, 0.0])),
            "histogram: the bin edges must be non-empty and increase",
        ),
        (
            [v],
            ft.histogram(v)[0],
            (np.array([1.0, np.nan]),),
            "histogram: the autodetected range is not finite",
        ),
        (
            [v, s],
            ft.histogram(v, 3, range=(s, 1.0))[0],
            (np.ones(2), np.float64(2)),
            "histogram: range must be finite with min <= max",
        ),
        (
            [v, w],
            ft.histogram(v, 3, weights=w)[0],
            (np.ones(2), np.ones(3)),
            "histogram: weights must have the same shape as a",
        ),
        (
            [v, w],
            ft.quantile(v, w),
            (np.ones(2), np.array([0.5, 1.5])),
            r"quantile: q must be in the range \[0, 1\]",
        ),
        ([v, s], ft.geomspace(s, 1.0, 3), (np.ones(2), np.float64(0)), "geomspace: start or stop is 0"),
        ([v, w], ft.convolve(v, w), (np.ones(2), np.zeros(0)), "convolve: the signals must not be empty"),
        ([v], ft.nanargmax(v), (np.array([np.nan, np.nan]),), "nanargmax: a slice holds only NaNs"),
        (
            [v, w],
            ft.average(v, weights=w),
            (np.ones(2), np.array([1.0, -1.0])),
            "average: the weights sum to zero",
        ),
    ]
    for inputs, out, args, message in run_errors:
        f = fc.function(inputs, out, mode=mode, on_unused_input="ignore")
        with pytest.raises(AssertionError, match=message):
            f(*args)


# -- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_gradients_against_finite_differences(mode: str) -> None:
    x, v, w, s = ft.dmatrix("x"), ft.dvector("v"), ft.dvector("w"), ft.dscalar("s")
    cases = {
        "fliplr": (lambda x, v, w, s: ft.fliplr(x) * ft.arange(1.0, 4.0), [0]),
        "flipud": (lambda x, v, w, s: ft.flipud(x) * ft.arange(1.0, 3.0)[:, None], [0]),
        "broadcast": (
            lambda x, v, w, s: (
                ft.broadcast_arrays(x, v, s)[1] * ft.broadcast_arrays(x, s)[1] + ft.broadcast_arrays(x, v)[0]
            ),
            [0, 1, 3],
        ),
        "inner": (lambda x, v, w, s: ft.inner(x, v).sum() + ft.inner(v, v) * ft.inner(s, v), [0, 1, 3]),
        "meshgrid": (
            lambda x, v, w, s: (
                ft.meshgrid(v, w)[0] * ft.meshgrid(v, w)[1] + ft.meshgrid(w, v, indexing="ij", sparse=True)[1]
            ),
            [1, 2],
        ),
        "logspace": (
            lambda x, v, w, s: ft.logspace(s, w[0], 5) + ft.logspace(0.5, 1.0, 3, base=s)[1],
            [2, 3],
        ),
        "geomspace": (
            lambda x, v, w, s: ft.geomspace(s, w[1], 6) + ft.geomspace(-s, -w[1], 6, endpoint=False),
            [2, 3],
        ),
        "nanmean": (lambda x, v, w, s: ft.nanmean(x * v, axis=1) + ft.nanmean(x), [0, 1]),
        "nanvar": (
            lambda x, v, w, s: ft.nanvar(x, axis=0, ddof=1) + ft.nanstd(x.T, axis=1) + ft.nanprod(v),
            [0, 1],
        ),
        "quantile": (
            lambda x, v, w, s: ft.quantile(x, [0.1, 0.5, 0.8], axis=1) + ft.quantile(x * v, 0.3),
            [0, 1],
        ),
        "percentile": (lambda x, v, w, s: ft.percentile(x, 35, axis=0, keepdims=True), [0]),
        "nanquantile": (
            lambda x, v, w, s: (
                ft.nanquantile(x, [0.3, 0.6], axis=1) + ft.nanmedian(x * v) + ft.nanpercentile(v, 80)
            ),
            [0, 1],
        ),
        "interp": (
            lambda x, v, w, s: (
                ft.interp(x, ft.arange(-2.0, 2.0), w) + ft.interp(v, ft.arange(-2.0, 2.0), w, left=s, right=s)
            ),
            [0, 1, 2, 3],
        ),
        "convolve": (
            lambda x, v, w, s: (
                ft.convolve(v, w) + ft.convolve(w, v, "valid").sum() + ft.convolve(v, w, "same").sum()
            ),
            [1, 2],
        ),
        "correlate": (
            lambda x, v, w, s: (
                ft.correlate(v, w, "full") + ft.correlate(w, v).sum() + ft.correlate(v, w, "same").sum()
            ),
            [1, 2],
        ),
        "histogram_weights": (
            lambda x, v, w, s: ft.histogram(x[:, :3], [-2.0, -0.5, 0.5, 2.0], weights=v * x[:, :3])[0],
            [1],
        ),
        "select": (
            lambda x, v, w, s: (
                ft.select([v > 0.5, v < -0.5], [v * s, v * v], s)
                + ft.piecewise(v * s, [v > 0], [ft.sin, ft.cos])
            ),
            [1, 3],
        ),
        "more": (
            lambda x, v, w, s: (
                ft.rot90(x, 3)[:, 0] * ft.take_along_axis(v, ft.argsort(v), 0)
                + ft.vecdot(x, v).sum()
                + ft.matvec(x.T, v[:2])
                + ft.vecmat(v[:2], x)
                + ft.average(x, axis=0, weights=v[:2] + 2)
                + ft.fmax(v, s)
                + ft.nancumsum(v)
            ),
            [0, 1, 3],
        ),
        "extras": (
            lambda x, v, w, s: (
                ft.trapezoid(x, ft.cumsum(v * v)[:2] + v[:2], axis=0)
                + ft.cross(x, ft.sin(x))[0]
                + ft.sinc(v)
                + ft.heaviside(v, s)
                + ft.append(x[0], v).sum()
                + ft.ediff1d(v, to_end=s).sum()
            ),
            [0, 1, 3],
        ),
        "btd": (
            lambda x, v, w, s: ft.batched_tensordot(
                ft.stack([x, x * 2]), ft.stack([x.T, x.T * v[:2]]), axes=1
            ),
            [0, 1],
        ),
    }
    rng = np.random.default_rng(7)
    # distinct values away from the kinks (knots, ties, select boundaries)
    xv = rng.permutation(6).reshape(2, 3) * 0.6 - 1.45 + rng.uniform(0, 0.1, (2, 3))
    vv = np.array([0.73, -1.1, 0.21])
    wv = np.array([1.3, 2.2, 0.4, -0.6])
    fd_check_grads([x, v, w, s], cases, [[xv, vv, wv, np.array(1.7)]], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_nan_reductions_gradient_skips_nans(mode: str) -> None:
    x = ft.dmatrix("x")
    g = fc.grad(ft.sum(ft.nanmean(x, 0) * ft.arange(1.0, 4.0)) + ft.nanvar(x) + ft.nanstd(x), x)
    f = fc.function([x], g, mode=mode)
    xv = np.array([[1.0, np.nan, 2.0], [3.0, 4.0, -1.0], [0.5, 1.5, np.nan]])
    got = f(xv)
    assert np.all(got[np.isnan(xv)] == 0)
    clean = ~np.isnan(xv)
    # the gradient of the mean of each column: its weight over its count of values
    cnt = clean.sum(0)
    mean_part = np.where(clean, np.arange(1.0, 4.0) / cnt, 0)
    vals = xv[clean]
    n = vals.size
    var_part = 2 * (xv - vals.mean()) / n
    std_part = var_part / (2 * vals.std())
    np.testing.assert_allclose(got[clean], (mean_part + var_part + std_part)[clean], rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_integer_results_have_no_gradient(mode: str) -> None:
    x, b = ft.dvector("x"), ft.dvector("b")
    idx = ft.digitize(x, b)
    counts, edges = ft.histogram(x, 3)
    cost = ft.sum(idx * x) + ft.sum(counts * edges[1:])
    gx, gb = fc.grad(cost, [x, b])
    f = fc.function([x, b], [gx, gb], mode=mode)
    xv, bv = np.array([0.1, 0.7, 2.5]), np.array([0.0, 0.5, 1.0])
    got_x, got_b = f(xv, bv)
    # d(idx * x)/dx is idx; the counts are constants, and the edges reach the smallest and the
    # largest x (the ends of their linspace): edge i + 1 of 3 is lo + (i + 1) / 3 * (hi - lo)
    c = np.histogram(xv, 3)[0]
    d_lo = sum(c[i] * (1 - (i + 1) / 3) for i in range(2))
    d_hi = sum(c[i] * ((i + 1) / 3) for i in range(2)) + c[2]
    want = np.digitize(xv, bv).astype(float)
    want[np.argmin(xv)] += d_lo
    want[np.argmax(xv)] += d_hi
    np.testing.assert_allclose(got_x, want, rtol=1e-12)
    assert np.all(got_b == 0)


# -- the cache ---------------------------------------------------------------------------------
def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path: Path) -> None:
    child = in_tests_dir(tmp_path / "cd", "") + (
        "x, w = ft.dvector('x'), ft.dvector('w')\n"
        "outs = [ft.quantile(x, [0.2, 0.7]), ft.interp(x, ft.sort(w), w), ft.convolve(x, w, 'same'),\n"
        "        ft.histogram(x, 4)[0], ft.nanmean(x), ft.geomspace(1.0, x[0] + 3, 4), ft.fliplr(ft.outer(x, w))]\n"
        "f = fc.function([x, w], outs)\n"
        "r = f(np.linspace(-1.0, 2.0, 7) ** 3, np.array([0.5, -0.25, 1.0]))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, *[float(np.sum(o)).hex() for o in r])\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))


def test_modules_load_when_asked_for() -> None:
    from fcutil import run_python

    code = (
        "import sys\n"
        "import fncache\n"
        "from fncache import tensor as ft\n"
        "mods = ('fncache.tensor.binning', 'fncache.tensor.convolve', 'fncache.tensor.grids', "
        "'fncache.tensor.stat_reductions')\n"
        "print([m for m in mods if m in sys.modules])\n"
        "ft.histogram, ft.convolve\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
    )
    lines = run_python(code).splitlines()
    assert lines[0] == "[]"
    assert lines[1] == str(["fncache.tensor.binning", "fncache.tensor.convolve"])
