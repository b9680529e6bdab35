"""numpy's and PyTensor's names beyond the core set, fourth part: every numpy quantile method
of ``quantile percentile nanquantile nanpercentile``; against numpy in both linkers, their
errors, and their gradients against central finite differences."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled, fd_check_grads, numpy_errstate

METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)
DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
#: levels on the order statistics of small slices (0.5 of 4 values, 0.25 of 5) and between them
LEVELS = [0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 1.0]


# -- quantile methods --------------------------------------------------------------------------
@compiled
def quantile_methods_fn(dtype: str, mode: str) -> tuple[Any, list]:
    x, q = ft.tensor("x", dtype, 3), ft.dvector("q")
    outs, refs = [], []

    def case(out: Any, ref: Any) -> None:
        outs.append(out)
        refs.append(ref)

    for m in METHODS:
        case(
            ft.quantile(x, LEVELS, axis=(0, 2), keepdims=True, method=m),
            lambda x, q, m=m: np.quantile(x, LEVELS, axis=(0, 2), keepdims=True, method=m),
        )
        case(ft.quantile(x, 0.4, method=m), lambda x, q, m=m: np.quantile(x, 0.4, method=m))
        case(ft.percentile(x, 37, axis=1, method=m), lambda x, q, m=m: np.percentile(x, 37, axis=1, method=m))
        case(ft.quantile(x, q, axis=-1, method=m), lambda x, q, m=m: np.quantile(x, q, axis=-1, method=m))
        case(
            ft.quantile(x, [0, 1], axis=0, method=m),
            lambda x, q, m=m: np.quantile(x, [0, 1], axis=0, method=m),
        )
        if dtype != "int32":  # numpy's nan-functions of ints are the others
            case(
                ft.nanquantile(x, LEVELS, axis=-1, keepdims=True, method=m),
                lambda x, q, m=m: np.nanquantile(x, LEVELS, axis=-1, keepdims=True, method=m),
            )
            case(
                ft.nanpercentile(x, [15.0, 50.0, 90.0], axis=(1, 2), method=m),
                lambda x, q, m=m: np.nanpercentile(x, [15.0, 50.0, 90.0], axis=(1, 2), method=m),
            )
            case(ft.nanquantile(x, q, method=m), lambda x, q, m=m: np.nanquantile(x, q, method=m))
    return fc.function([x, q], outs, mode=mode), refs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_quantile_methods_against_numpy(dtype: str, mode: str) -> None:
    f, refs = quantile_methods_fn(dtype, mode)
    rng = np.random.default_rng(11)
    for trial in range(5):
        shape = tuple(int(d) for d in rng.integers(1 if trial < 2 else 2, 6, size=3))
        # few distinct values: ties between order statistics
        x = (
            rng.integers(-6, 7, size=shape).astype(dtype)
            if trial == 1
            else (rng.normal(size=shape) * 10).astype(dtype)
        )
        if trial >= 3 and dtype != "int32":
            x[0, 0, 0] = np.nan
            x[-1, :, -1] = np.nan  # slices of NaNs only along axis 1
            x.flat[rng.integers(0, x.size, size=x.size // 4)] = np.nan
        q = np.concatenate([rng.uniform(0, 1, size=3), [0.0, 1.0, 0.5]])
        got = f(x, q)
        tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == "float32" else {"atol": 1e-12}
        for k, (g, ref) in enumerate(zip(got, refs)):
            with numpy_errstate(), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = ref(x, q)
            assert_same(
                g, want, f"{dtype} {shape} case {k} ({METHODS[k // (len(refs) // len(METHODS))]})", **tol
            )


@pytest.mark.parametrize("mode", MODES)
def test_discrete_methods_keep_the_data_dtype(mode: str) -> None:
    x = ft.lvector("x")
    b = ft.tensor("b", "bool", 1)
    outs = [ft.quantile(x, [0.3, 0.9], method=m) for m in DISCRETE] + [ft.quantile(b, 0.5, method="lower")]
    f = fc.function([x, b], outs, mode=mode)
    xv = np.array([2**60 + 1, 3, -(2**62) + 7, 5, 2**53 + 1], dtype=np.int64)  # not exact in float64
    bv = np.array([True, False, True])
    got = f(xv, bv)
    for g, m in zip(got, DISCRETE):
        assert_same(g, np.quantile(xv, [0.3, 0.9], method=m), m)
    assert_same(got[-1], np.quantile(bv, 0.5, method="lower"), "bool lower")


@pytest.mark.parametrize("mode", MODES)
def test_quantile_method_gradients(mode: str) -> None:
    x, v = ft.dmatrix("x"), ft.dvector("v")
    cases = {
        m: (
            lambda x, v, m=m: (
                ft.quantile(x, [0.13, 0.5, 0.91], axis=1, method=m).sum(axis=0)
                + ft.nanpercentile(v * x[0], 42, method=m)
            ),
            [0, 1],
        )
        for m in METHODS
    }
    rng = np.random.default_rng(5)
    # distinct values, levels away from the places where a method's index jumps
    xv = (rng.permutation(14).reshape(2, 7) * 0.37 - 2.1) + rng.uniform(0, 0.05, (2, 7))
    vv = np.linspace(0.8, 1.4, 7)
    fd_check_grads([x, v], cases, [[xv, vv]], mode=mode)


def test_quantile_method_errors() -> None:
    m = ft.dmatrix("m")
    for bad in ("nearest_even", "", None, 3):
        with pytest.raises(
            ValueError, match=r"quantile: method .* is not supported; give one of inverted_cdf"
        ):
            ft.quantile(m, 0.5, method=bad)
    with pytest.raises(
        ValueError, match=r"nanpercentile: method 'Linear' is not supported.*'linear' is the default"
    ):
        ft.nanpercentile(m, 50, method="Linear")
