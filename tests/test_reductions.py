"""Reductions against numpy: sum prod max min mean var std argmax argmin all any, with axis
None / int / negative / tuple, keepdims, numpy's dtype promotion and empty inputs, in both modes.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import DTYPES, MODES, assert_same, compiled, numpy_errstate, sample

#: Reduced axes per reduction: all, the middle, the last (negative) and a non-adjacent pair
#: (written out of order). test_more_axes adds the leading axis, all axes listed and none.
AXES = [None, 1, -1, (2, 0)]

#: reductions with an identity (defined on empty inputs): name -> (method name, numpy)
SAFE = {
    "sum": (lambda x, **k: x.sum(**k), np.sum),
    "prod": (lambda x, **k: ft.prod(x, **k), np.prod),
    "mean": (lambda x, **k: ft.mean(x, **k), np.mean),
    "var": (lambda x, **k: x.var(**k), np.var),
    "std": (lambda x, **k: ft.std(x, **k), np.std),
    "all": (lambda x, **k: ft.all(x, **k), np.all),
    "any": (lambda x, **k: x.any(**k), np.any),
}
NOIDENT = {"max": (lambda x, **k: x.max(**k), np.max), "min": (lambda x, **k: ft.min(x, **k), np.min)}
ARG = {
    "argmax": (lambda x, **k: ft.argmax(x, **k), np.argmax),
    "argmin": (lambda x, **k: x.argmin(**k), np.argmin),
}


def _np_reduce(npf, v: np.ndarray, **kw) -> np.ndarray:
    """numpy's answer (uint8 sums and products are uint64, as in numpy)."""
    with numpy_errstate(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(npf(v, **kw))


def _cases(table: dict, axes: list) -> list[tuple[str, dict]]:
    out = []
    for name in table:
        for ax in axes:
            for keep in (False, True):
                out.append((name, {"axis": ax, "keepdims": keep}))
    return out


#: Each reduction node costs ~0.1 s of gcc: in FAST_RUN var/std (a cast to float64 in front
#: of the float code) are tested on integer inputs for int32 and bool only.
VAR_INT_DTYPES_FAST_RUN = ("int32", "bool")


@compiled
def reduce_fn(dtype: str, kind: str, mode: str):
    table = {"safe": SAFE, "noident": NOIDENT, "arg": ARG}[kind]
    if (
        kind == "safe"
        and mode == "FAST_RUN"
        and dtype not in ("float32", "float64")
        and dtype not in VAR_INT_DTYPES_FAST_RUN
    ):
        table = {k: v for k, v in table.items() if k not in ("var", "std")}
    axes = [None, 0, 1, -1, -3] if kind == "arg" else AXES
    x = ft.tensor("x", dtype, 3)
    cases = _cases(table, axes)
    outs = [table[name][0](x, **kw) for name, kw in cases]
    return fc.function([x], outs, mode=mode), cases, table


def _check(kind: str, dtype: str, mode: str, values: dict[str, np.ndarray]) -> None:
    f, cases, table = reduce_fn(dtype, kind, mode)
    failures = []
    for label, v in values.items():
        got = f(v)
        for (name, kw), g in zip(cases, got):
            want = _np_reduce(table[name][1], v, **kw)
            try:
                assert_same(g, want, f"{name}{kw} on {label}")
            except AssertionError as e:
                failures.append(str(e)[:300])
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:20])


def _values(dtype: str, special: bool) -> dict[str, np.ndarray]:
    big = sample(dtype, (4, 6, 8), seed=7, special=special)
    return {
        "(2,3,4)": sample(dtype, (2, 3, 4), seed=1, special=special),
        "(1,3,1)": sample(dtype, (1, 3, 1), seed=2, special=special),
        "stepped": big[::2, ::2, ::2],
        "reversed": big[::-2, ::-2, ::-2],
        "transposed": big.transpose(2, 0, 1)[::3],
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_with_identity(mode: str, dtype: str) -> None:
    vals = _values(dtype, special=False)
    vals["empty(0,3,4)"] = sample(dtype, (0, 3, 4), 3)
    vals["empty(2,0,4)"] = sample(dtype, (2, 0, 4), 3)
    _check("safe", dtype, mode, vals)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reductions_special_values(mode: str, dtype: str) -> None:
    """NaN and infinities propagate as in numpy (max/min propagate NaN)."""
    vals = _values(dtype, special=True)
    _check("safe", dtype, mode, vals)
    _check("noident", dtype, mode, vals)
    _check("arg", dtype, mode, vals)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_min(mode: str, dtype: str) -> None:
    _check("noident", dtype, mode, _values(dtype, special=False))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_argmin(mode: str, dtype: str) -> None:
    vals = _values(dtype, special=False)
    vals["ties"] = np.zeros((2, 3, 4), dtype)
    _check("arg", dtype, mode, vals)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_more_axes(mode: str, dtype: str) -> None:
    x = ft.tensor("x", dtype, 3)
    cases = [
        (red, ax, keep)
        for red in ("sum", "max", "mean", "prod")
        for ax in (0, (0, 1, 2), ())
        for keep in (False, True)
    ]
    f = fc.function([x], [getattr(ft, r)(x, axis=a, keepdims=k) for r, a, k in cases], mode=mode)
    big = sample(dtype, (4, 6, 8), 5, special=False)
    for v in (sample(dtype, (2, 3, 4), 4, special=False), big[::-2, 1::2, ::3]):
        for (red, ax, keep), got in zip(cases, f(v)):
            want = _np_reduce(getattr(np, red), v, axis=ax, keepdims=keep)
            assert_same(got, want, f"{red} axis={ax} keepdims={keep}")


@pytest.mark.parametrize("mode", MODES)
def test_empty_reductions(mode: str) -> None:
    """sum of empty is 0, prod 1, all True, any False; max/min/argmax of empty raise
    ValueError like numpy, but only when a reduced axis is empty."""
    x = ft.matrix("x")
    f = fc.function([x], [x.sum(), x.prod(), x.all(), x.any()], mode=mode)
    s, p, a, n = f(np.zeros((0, 3)))
    assert s == 0 and p == 1 and a and not n
    for red in (ft.max, ft.min):
        g = fc.function([x], red(x, axis=0), mode=mode)
        with pytest.raises(ValueError):
            g(np.zeros((0, 3)))
        assert_same(g(np.zeros((3, 0))), np.zeros(0), "reduce a non-empty axis of an empty array")
    for arg, npf in ((ft.argmax, np.argmax), (ft.argmin, np.argmin)):
        g = fc.function([x], arg(x, axis=0), mode=mode)
        with pytest.raises(ValueError):
            g(np.zeros((0, 3)))
        assert_same(g(np.zeros((3, 0))), npf(np.zeros((3, 0)), axis=0), "arg of empty result")
        h = fc.function([x], arg(x), mode=mode)
        with pytest.raises(ValueError):
            h(np.zeros((2, 0)))


@pytest.mark.parametrize("mode", MODES)
def test_reductions_read_through_an_element_of_nothing(mode: str) -> None:
    """logsumexp and median read an element (the maximum, the middle one) and raised IndexError
    or ValueError for empty axes: scipy's logsumexp (and PyTensor's) gives -inf there, numpy's
    median NaN. Sizes known only at run time and declared 0 alike; gradients stay zeros."""
    x, z = ft.dmatrix("x"), ft.tensor("z", dtype="float64", shape=(0, 3))
    # scipy's logsumexp of all of an empty array raises IndexError: numpy's reduction of
    # logaddexp is the same sum, -inf for nothing
    cases = [(ft.logsumexp, np.logaddexp.reduce), (ft.median, np.median)]
    outs, refs = [], []
    for ours, theirs in cases:
        for axis, keepdims in ((0, False), (1, True), (None, False), ((0, 1), True)):
            outs += [ours(x, axis=axis, keepdims=keepdims), ours(z, axis=axis, keepdims=keepdims)]
            refs += [functools.partial(theirs, axis=axis, keepdims=keepdims)] * 2
    cost = ft.sum(ft.logsumexp(x, axis=0)) + ft.sum(ft.median(x, axis=1))
    f = fc.function([x, z], [*outs, fc.grad(cost, x)], mode=mode)
    for a in (np.zeros((0, 3)), np.zeros((3, 0)), np.arange(12.0).reshape(4, 3) / 7):
        *got, g = f(a, np.zeros((0, 3)))
        with numpy_errstate(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for k, (v, ref) in enumerate(zip(got, refs)):
                want = ref(a if k % 2 == 0 else np.zeros((0, 3)))
                assert v.shape == np.shape(want), (k, a.shape)
                np.testing.assert_array_equal(
                    v, want
                ) if not v.size or a.size == 0 else np.testing.assert_allclose(v, want, rtol=1e-12)
        assert g.shape == a.shape and (a.size or not g.size)


def test_reduction_dtypes() -> None:
    """numpy's promotion: sums of small ints are int64 (uint64 for unsigned), means of ints
    float64, all/any bool."""
    for dt in DTYPES:
        v = ft.vector("v", dt)
        want_sum = np.sum(np.ones(1, dt)).dtype.name
        assert v.sum().dtype == want_sum, dt
        assert ft.prod(v).dtype == want_sum, dt
        assert v.mean().dtype == ("float32" if dt == "float32" else "float64"), dt
        assert v.var().dtype == v.mean().dtype, dt
        assert v.all().dtype == v.any().dtype == "bool"
        assert v.argmax().dtype == "int64"
        if dt != "bool":
            assert v.max().dtype == dt
    x = ft.vector("x", "int8")
    assert x.sum(dtype="int16").dtype == "int16"
    assert x.sum(dtype="float32").dtype == "float32"


@pytest.mark.parametrize("mode", MODES)
def test_sum_explicit_dtype(mode: str) -> None:
    x = ft.vector("x", "int8")
    f = fc.function([x], [x.sum(dtype="int8"), x.sum(dtype="float64"), x.prod(dtype="int16")], mode=mode)
    v = np.array([100, 100, 7, -3], "int8")
    for got, want in zip(f(v), [v.sum(dtype="int8"), v.sum(dtype="float64"), v.prod(dtype="int16")]):
        assert_same(got, want, "explicit dtype")


@pytest.mark.parametrize("mode", MODES)
def test_var_std_ddof(mode: str) -> None:
    x = ft.matrix("x")
    f = fc.function(
        [x], [x.var(ddof=1), ft.std(x, axis=0, ddof=1), x.var(axis=1, ddof=1, keepdims=True)], mode=mode
    )
    v = sample("float64", (5, 4), 1, special=False)
    for got, want in zip(f(v), [v.var(ddof=1), v.std(axis=0, ddof=1), v.var(axis=1, ddof=1, keepdims=True)]):
        assert_same(got, want, "ddof")


@pytest.mark.parametrize("mode", MODES)
def test_large_reductions_threaded(mode: str) -> None:
    """Past the threading threshold: full reductions and axis reductions of strided input."""
    x = ft.matrix("x")
    f = fc.function(
        [x],
        [
            x.sum(),
            x.max(),
            x.min(axis=1),
            x.mean(axis=0),
            x.prod(axis=-1),
            ft.any(x > 3.9),
            ft.argmax(x, axis=0),
            x.std(),
        ],
        mode=mode,
    )
    v = sample("float64", (600, 300), 1, special=False)
    for val in (v, v.T, v[::-1, ::2]):
        got = f(val)
        want = [
            val.sum(),
            val.max(),
            val.min(axis=1),
            val.mean(axis=0),
            val.prod(axis=-1),
            np.any(val > 3.9),
            np.argmax(val, axis=0),
            val.std(),
        ]
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, np.asarray(w), f"output {k}", rtol=1e-10)
    vn = v.copy()
    vn[17, 33] = np.nan
    assert np.isnan(f(vn)[1]) and np.isnan(f(vn)[0])


def test_bad_axes_rejected() -> None:
    x = ft.matrix("x")
    with pytest.raises(ValueError, match="out of bounds"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeated"):
        x.sum(axis=(0, -2))
    with pytest.raises(TypeError):
        x.sum(axis=1.5)
    with pytest.raises(TypeError):
        ft.argmax(x, axis=(0, 1.5))
