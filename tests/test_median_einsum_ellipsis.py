"""``ft.median`` over several axes and ``ft.einsum`` with ellipses against numpy in both modes
(values, dtypes, shapes, keepdims, NaN, broadcasting of the ellipsis dims), their gradients by
finite differences, the errors for what numpy refuses, and a cache hit in a fresh process."""

from __future__ import annotations

import warnings
from pathlib import Path

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
)

#: name -> (axis, keepdims) of a median of a 4-d tensor
MEDIANS = {
    "02": ((0, 2), False),
    "20_keep": ((2, 0), True),
    "neg": ((-1, -3), False),
    "three": ((1, 2, 3), False),
    "all_tuple": ((0, 1, 2, 3), False),
    "all_keep": (None, True),
    "none_of_them": ((), False),
    "one_in_tuple": ((1,), True),
}


@compiled
def median_fn(dtype: str, mode: str):
    x = ft.tensor("x", dtype, 4)
    names = list(MEDIANS)
    outs = [ft.median(x, axis=MEDIANS[n][0], keepdims=MEDIANS[n][1]) for n in names]
    return fc.function([x], outs, mode=mode), names


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int16"))
def test_median_over_several_axes_against_numpy(dtype: str, mode: str) -> None:
    f, names = median_fn(dtype, mode)
    rng = np.random.default_rng(4)
    for trial, shape in enumerate([(2, 3, 4, 5), (1, 4, 3, 2), (3, 1, 2, 6), (2, 2, 2, 2)]):
        x = (rng.normal(size=shape) * 10).astype(dtype)
        if trial == 1 and dtype != "int16":
            x[0, 2, 1, 0] = np.nan  # numpy gives NaN wherever the reduced values hold one
        for name, got in zip(names, f(x)):
            axis, keepdims = MEDIANS[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = np.median(x, axis=axis, keepdims=keepdims)
            assert_same(got, want, f"median {name} {dtype} {shape}")


@pytest.mark.parametrize("mode", MODES)
def test_median_over_several_axes_gradient(mode: str) -> None:
    x = ft.dtensor3("x")
    cases = {
        "02": (lambda v: ft.median(v, (0, 2)), [0]),
        "21_keep": (lambda v: ft.median(v, (2, 1), keepdims=True) * ft.arange(1.0, 3.0)[:, None, None], [0]),
        "all": (lambda v: ft.median(v, (0, 1, 2)), [0]),
    }
    rng = np.random.default_rng(6)
    # distinct values (ties would make the median's gradient a matter of convention)
    values = [[rng.permutation(24).reshape(2, 3, 4) + rng.uniform(0, 0.5, (2, 3, 4))]]
    values.append([rng.permutation(30).reshape(2, 5, 3) * 1.0 + 0.25])
    fd_check_grads([x], cases, values, mode=mode)


def test_median_axes_errors() -> None:
    m = ft.dtensor3()
    with pytest.raises(ValueError, match=r"median: axis 0 is repeated in \(0, 0\)"):
        ft.median(m, (0, 0))
    with pytest.raises(ValueError, match="median: axis 3 is out of bounds for a tensor of ndim 3"):
        ft.median(m, (0, 3))


#: name -> (subscripts, shapes of the operands)
EINSUMS = {
    "batched_matmul": ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]),
    "implicit": ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    "elementwise": ("...,...", [(3,), (2, 3)]),
    "implicit_one": ("ij...", [(2, 3, 4)]),
    "sum_leading": ("i...->...", [(2, 3, 4)]),
    "middle": ("ji...,j", [(2, 3, 4), (2,)]),
    "broadcast_ones": ("...i,...i->...", [(1, 3), (4, 3)]),
    "inner_ellipsis": ("b...,b...->...", [(2, 1, 3), (2, 4, 1)]),
    "empty_ellipsis": ("...i,i->...", [(3,), (3,)]),
    "spaces": ("... i j , ... j -> ... i", [(2, 3, 4), (4,)]),
}


@compiled
def einsum_fn(dtype: str, mode: str):
    names = list(EINSUMS)
    inputs, outs = [], []
    for name in names:
        spec, shapes = EINSUMS[name]
        vs = [ft.tensor(f"{name}{k}", dtype, len(s)) for k, s in enumerate(shapes)]
        inputs += vs
        outs.append(ft.einsum(spec, *vs))
    return fc.function(inputs, outs, mode=mode), names


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float64", "float32", "int32"))
def test_einsum_with_ellipses_against_numpy(dtype: str, mode: str) -> None:
    f, names = einsum_fn(dtype, mode)
    rng = np.random.default_rng(8)
    vals = {n: [(rng.normal(size=s) * 4).astype(dtype) for s in EINSUMS[n][1]] for n in names}
    got = f(*[v for n in names for v in vals[n]])
    for name, g in zip(names, got):
        want = np.einsum(EINSUMS[name][0], *vals[name])
        assert_same(g, want, f"einsum {name} {dtype}", rtol=1e-12 if dtype == "float64" else 2e-5)


@pytest.mark.parametrize("mode", MODES)
def test_einsum_with_ellipses_gradients(mode: str) -> None:
    a, b, c = ft.dtensor4("a"), ft.dtensor3("b"), ft.dmatrix("c")
    cases = {
        "batched_matmul": (lambda a, b, c: ft.einsum("...ij,...jk->...ik", a, b), [0, 1]),
        "broadcast": (lambda a, b, c: ft.einsum("...i,...i->...", b, c), [1, 2]),
        "implicit": (lambda a, b, c: ft.einsum("i...j,j", c, c[0]), [2]),
    }
    rng = np.random.default_rng(9)
    values = [
        [rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(5, 4, 4)), rng.normal(size=(1, 4))],
        [rng.normal(size=(1, 2, 2, 3)), rng.normal(size=(1, 3, 3)), rng.normal(size=(3, 3))],
    ]
    fd_check_grads([a, b, c], cases, values, mode=mode)


def test_einsum_ellipsis_errors() -> None:
    m, t = ft.dmatrix(), ft.dtensor3()
    fixed = ft.tensor("f", "float64", shape=(2, 3))
    other = ft.tensor("g", "float64", shape=(4, 3))
    cases = [
        (lambda: ft.einsum("....i", m), r"einsum: '\.' only comes as one ellipsis"),
        (lambda: ft.einsum("...i...", m), r"einsum: '\.' only comes as one ellipsis"),
        (lambda: ft.einsum("i.j", m), r"einsum: '\.' only comes as one ellipsis"),
        (lambda: ft.einsum("...ijkl", t), r"einsum: operand 0 is .* \(3 dims\) but '...ijkl' names 4"),
        (lambda: ft.einsum("...i,...i", fixed, other), "einsum: ellipsis dim -1 has sizes 2 and 4"),
        (lambda: ft.einsum("ij->...", m), "einsum: output subscript"),
    ]
    for build, message in cases[:-1]:
        with pytest.raises(ValueError, match=message):
            build()
    # numpy's 'ij->...' is the full sum (the ellipsis stands for no dims); PyTensor's '...i->i'
    # sums the ellipsis dims, where numpy refuses
    assert ft.einsum("ij->...", m).ndim == 0
    v = np.arange(6.0).reshape(2, 3)
    assert_same(ft.einsum("...i->i", m).eval({m: v}), v.sum(0))


def test_a_fresh_process_finds_the_function_in_the_cache(tmp_path) -> None:
    child = in_tests_dir(tmp_path / "cd", "") + (
        "x, y = ft.dtensor3('x'), ft.dmatrix('y')\n"
        "f = fc.function([x, y], [ft.median(x, (0, 2)), ft.einsum('...ij,...j->...i', x, y)])\n"
        "r = f(np.arange(24.0).reshape(2, 3, 4) ** 1.5, np.ones((2, 4)))\n"
        "print(fc.cache.info()['compiles'], f.cache_key, r[0].sum().hex(), r[1].sum().hex())\n"
    )
    assert_second_process_compiles_nothing(child, str(Path(__file__).parent))
