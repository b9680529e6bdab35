"""Reductions of broadcast arrays (``broadcast_to``, ``alloc``, ``ones(shape) * x``) reduce
the value instead of the broadcast (the `broadcast_reduce` rewrite): numpy's values and dtypes
(integer sums and products wrapped as numpy's, empty axes giving the identity or max's error),
the original's size checks, and no array of the broadcast size."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from fcutil import MODES, assert_same, compiled

import fncache as fc
import fncache.tensor as ft
from fncache.tensor.creation import Alloc

KINDS = {
    "sum": (ft.sum, np.sum),
    "prod": (ft.prod, np.prod),
    "mean": (ft.mean, np.mean),
    "max": (ft.max, np.max),
    "min": (ft.min, np.min),
    "any": (ft.any, np.any),
    "all": (ft.all, np.all),
}
AXES = (None, 2, (0, 2), (1, 2))

#: Values of each dtype whose copies overflow (integer sums and products wrap) or are special.
VALUES = {
    "float64": [[1.5], [-0.0], [np.inf]],
    "float32": [[1.25], [-3.0], [1e30]],
    "complex128": [[1 + 2j], [-0.5j], [3.0]],
    "int8": [[100], [-7], [3]],
    "int64": [[2**62 + 3], [-(2**40)], [3]],
    "uint8": [[250], [0], [7]],
    "uint64": [[2**63 + 5], [1], [3]],
    "bool": [[True], [False], [True]],
}


@compiled
def _table(dtype: str, mode: str):
    v = ft.tensor("v", dtype, shape=(3, 1))
    n, k, n2, k2 = ft.lscalars("n", "k", "n2", "k2")
    # numpy's max/min of an empty array raise: theirs have sizes of their own
    outs = [
        fn(ft.broadcast_to(v, (n2, 3, k2) if name in ("max", "min") else (n, 3, k)), axis=a)
        for name, (fn, _) in KINDS.items()
        for a in AXES
    ]
    return fc.function([v, n, k, n2, k2], outs, mode=mode)


def _same(got, want, what: str) -> None:
    """assert_same, complex values part by part."""
    want = np.asarray(want)
    if want.dtype.kind != "c":
        return assert_same(got, want, what)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, numpy gives {want.dtype}"
    assert_same(got.real, want.real, what + " (real part)")
    assert_same(got.imag, want.imag, what + " (imaginary part)")


def _want(np_fn, x, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np_fn(x, axis=axis)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", sorted(VALUES))
def test_reductions_of_broadcast_match_numpy(dtype: str, mode: str) -> None:
    f = _table(dtype, mode)
    vals = np.asarray(VALUES[dtype], dtype=dtype)
    for n, k in ((2, 4), (5, 1), (1, 3), (0, 2), (3, 0)):
        n2, k2 = (n, k) if n and k else (2, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = f(vals, n, k, n2, k2)
        cases = [(name, np_fn, a) for name, (_, np_fn) in KINDS.items() for a in AXES]
        for (name, np_fn, a), g in zip(cases, got):
            shape = (n2, 3, k2) if name in ("max", "min") else (n, 3, k)
            want = _want(np_fn, np.broadcast_to(vals, shape), a)
            _same(g, want, f"{name}(broadcast {dtype} to {shape}, axis={a}) {mode}")


@pytest.mark.parametrize("mode", MODES)
def test_empty_max_raises_as_numpy(mode: str) -> None:
    x = ft.dscalar("x")
    n = ft.lscalar("n")
    f = fc.function([x, n], ft.max(ft.broadcast_to(x, (n, 4)), axis=0), mode=mode)
    assert_same(f(2.0, 3), np.full(4, 2.0))
    with pytest.raises(ValueError, match="zero-size array"):
        f(2.0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_size_checks_kept(mode: str) -> None:
    """The broadcast's own errors (a negative size, a value that does not fit) are raised."""
    v = ft.dvector("v")
    n, m = ft.lscalar("n"), ft.lscalar("m")
    f = fc.function([v, n, m], ft.broadcast_to(v, (n, m)).sum(axis=0), mode=mode)
    assert_same(f(np.arange(3.0), 4, 3), 4 * np.arange(3.0))
    with pytest.raises(ValueError, match="negative dimensions"):
        f(np.arange(3.0), -2, 3)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        f(np.arange(3.0), 4, 5)
    # an elementwise op of a broadcast: numpy's broadcasting of both inputs
    g = fc.function([v, n, m], (ft.ones((n, m)) * v).sum(axis=0), mode=mode)
    assert_same(g(np.arange(3.0), 4, 3), 4 * np.arange(3.0))
    assert_same(g(np.arange(3.0), 4, 1), 4 * np.arange(3.0))  # the ones are broadcast to 3
    with pytest.raises(ValueError):
        g(np.arange(3.0), 4, 5)
    with pytest.raises(ValueError, match="negative dimensions"):
        g(np.arange(3.0), -1, 3)


@pytest.mark.parametrize("mode", MODES)
def test_elementwise_of_broadcast(mode: str) -> None:
    x = ft.lvector("x")
    n = ft.lscalar("n")
    big = ft.ones((n, 3), dtype="int64") * x + 2**62
    f = fc.function([x, n], [ft.sum(big), ft.prod(big, axis=0), ft.mean(big, axis=0)], mode=mode)
    g = fc.function([x, n], ft.max(big), mode=mode)
    xv = np.array([1, -5, 2**40])
    for nv in (1, 4, 0):
        b = np.ones((nv, 3), "int64") * xv + 2**62
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = f(xv, nv)
            want = [np.sum(b), np.prod(b, axis=0), np.mean(b, axis=0)]
        for r, w in zip(got, want):
            assert_same(r, w, f"n={nv}")
        if nv:
            assert_same(g(xv, nv), np.max(b))
        else:
            with pytest.raises(ValueError, match="zero-size array"):
                g(xv, nv)


def _alloc_sizes(f) -> list[tuple]:
    return [n.outputs[0].type.shape for n in f.maker.fgraph.toposort() if isinstance(n.op, Alloc)]


@pytest.mark.parametrize("mode", MODES)
def test_huge_broadcast_is_not_allocated(mode: str) -> None:
    x = ft.dscalar("x")
    v = ft.lvector("v")
    big = ft.broadcast_to(x, (10**6, 10**6))
    outs = [big.sum(), big.mean(), big.max(), big.min(), big.prod(), big.any(), big.all()]
    ints = (ft.ones((10**6, 10**6), dtype="int64") * v[0]).sum()
    f = fc.function([x, v], outs + [ints], mode=mode)
    assert all(s in ((1, 1), (None, None)) for s in _alloc_sizes(f)), _alloc_sizes(f)
    t = time.perf_counter()
    got = f(0.5, np.array([3]))
    assert time.perf_counter() - t < 5.0
    want = [5e11, 0.5, 0.5, 0.5, 0.0, True, True, np.int64(3 * 10**12)]
    for g, w in zip(got, want):
        assert_same(g, np.asarray(w, dtype=g.dtype), "huge")
