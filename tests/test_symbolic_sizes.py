"""Sizes and counts given as symbolic int scalars, as PyTensor takes them: a pad width,
``linspace``'s ``num``, a declared size, ``topk``'s ``kth``, ``bincount``'s ``minlength``,
``histogram``'s ``bins`` and the sizes of the creation functions. The values are numpy's
when the function runs; a size known when the graph is built is a static size; a bad value
raises ValueError naming the function when it runs; a float or a vector in a size's place is a
TypeError naming the function and the argument when the graph is built."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from fcutil import MODES, assert_same

import fncache as fc
from fncache import tensor as ft

n, k = ft.lscalar("n"), ft.iscalar("k")
x, m, c = ft.dvector("x"), ft.dmatrix("m"), ft.lvector("c")
X = np.array([0.5, 3.0, -1.0, 2.0, 7.5, 3.25])
M = np.arange(12.0).reshape(3, 4) ** 1.5
CLASSES = np.array([0, 2, 1, 2])

#: (name, the graph of the symbolic sizes n >= 0 and k != 0, numpy's result for their values)
CASES: list[tuple[str, Callable[[], Any], Callable[[int, int], Any]]] = [
    ("pad constant", lambda: ft.pad(m, ((n, 1), (k * k, n))), lambda n, k: np.pad(M, ((n, 1), (k * k, n)))),
    ("pad edge", lambda: ft.pad(x, (n, 2), mode="edge"), lambda n, k: np.pad(X, (n, 2), mode="edge")),
    ("pad reflect", lambda: ft.pad(m, n, mode="reflect"), lambda n, k: np.pad(M, n, mode="reflect")),
    (
        "pad symmetric odd",
        lambda: ft.pad(x, (1, n), mode="symmetric", reflect_type="odd"),
        lambda n, k: np.pad(X, (1, n), mode="symmetric", reflect_type="odd"),
    ),
    ("pad wrap", lambda: ft.pad(x, n * 3, mode="wrap"), lambda n, k: np.pad(X, n * 3, mode="wrap")),
    (
        "pad linear_ramp",
        lambda: ft.pad(x, (n, n), mode="linear_ramp", end_values=2.0),
        lambda n, k: np.pad(X, (n, n), mode="linear_ramp", end_values=2.0),
    ),
    ("pad mean", lambda: ft.pad(x, (n, 1), mode="mean"), lambda n, k: np.pad(X, (n, 1), mode="mean")),
    ("linspace", lambda: ft.linspace(-1.0, 2.5, n), lambda n, k: np.linspace(-1.0, 2.5, n)),
    (
        "linspace no endpoint",
        lambda: ft.linspace(-1.0, 2.5, n, endpoint=False),
        lambda n, k: np.linspace(-1.0, 2.5, n, endpoint=False),
    ),
    (
        "linspace int",
        lambda: ft.linspace(0, 10, n, dtype="int64"),
        lambda n, k: np.linspace(0, 10, n, dtype="int64"),
    ),
    ("logspace", lambda: ft.logspace(0.0, 2.0, n, base=2.0), lambda n, k: np.logspace(0.0, 2.0, n, base=2.0)),
    ("geomspace", lambda: ft.geomspace(1.0, 64.0, n), lambda n, k: np.geomspace(1.0, 64.0, n)),
    ("bincount", lambda: ft.bincount(c, minlength=n * 2), lambda n, k: np.bincount(CLASSES, minlength=n * 2)),
    (
        "bincount weighted",
        lambda: ft.bincount(c, x[:4], minlength=n * 2),
        lambda n, k: np.bincount(CLASSES, X[:4], minlength=n * 2),
    ),
    ("histogram", lambda: ft.histogram(x, n + 1)[0], lambda n, k: np.histogram(X, n + 1)[0]),
    (
        "histogram edges",
        lambda: ft.histogram(x, n + 1, range=(0.0, 4.0))[1],
        lambda n, k: np.histogram(X, n + 1, range=(0.0, 4.0))[1],
    ),
    ("topk", lambda: ft.topk(m, k), lambda n, k: _top(M, k, 1)),
    (
        "argtopk",
        lambda: ft.argtopk(x, k, idx_dtype="int32"),
        lambda n, k: _top(X, k, 0, np.argsort).astype("int32"),
    ),
    ("to_one_hot", lambda: ft.to_one_hot(c, n + 3), lambda n, k: np.eye(n + 3)[CLASSES]),
    ("zeros", lambda: ft.zeros((n, 2)), lambda n, k: np.zeros((n, 2))),
    ("eye", lambda: ft.eye(n, n + 1, k), lambda n, k: np.eye(n, n + 1, k)),
    (
        "split_dims",
        lambda: ft.split_dims(ft.arange(n * 3), (n, 3)),
        lambda n, k: np.arange(n * 3).reshape(n, 3),
    ),
    ("diag of a vector", lambda: ft.diag(x, k), lambda n, k: np.diag(X, k)),
    ("diag of a matrix", lambda: ft.diag(m, k), lambda n, k: np.diag(M, k)),
    (
        "diagonal",
        lambda: ft.diagonal(ft.stack([m, m * 2]), n - 1, 2, 1),
        lambda n, k: np.diagonal([M, M * 2], n - 1, 2, 1),
    ),
    ("trace", lambda: ft.trace(m, k), lambda n, k: np.trace(M, k)),
]


def _top(a: np.ndarray, kth: int, axis: int, order: Callable = np.sort) -> np.ndarray:
    """Theano's topk (argtopk with ``np.argsort``): the kth largest first, or the |kth| smallest."""
    s = np.moveaxis(order(a, axis=axis, kind="stable"), axis, -1)
    return np.moveaxis(s[..., ::-1][..., :kth] if kth > 0 else s[..., :-kth], -1, axis)


#: (n, k): n >= 0 and 0 < |k| <= 4 (topk along m's rows)
SIZES = [(0, 1), (1, -2), (2, 3), (4, -4)]


@pytest.mark.parametrize("mode", MODES)
def test_symbolic_sizes_give_numpys_values(mode: str) -> None:
    outs = [build() for _, build, _ in CASES]
    for (name, _, _), o in zip(CASES, outs):
        assert o.ndim == 0 or None in o.type.shape, f"{name}: a symbolic size gives a size unknown when built"
    f = fc.function([n, k, x, m, c], outs, mode=mode, on_unused_input="ignore")
    for nv, kv in SIZES:
        for (name, _, want), got in zip(CASES, f(nv, kv, X, M, CLASSES)):
            assert_same(got, want(nv, kv), f"{name} n={nv} k={kv}")


#: (name, the graph of a size known when built, numpy's value of it)
KNOWN = ft.specify_shape(ft.dmatrix("known"), (3, 4))
KV = np.ones((3, 4))
STATIC: list[tuple[str, Callable[[], Any], Any]] = [
    ("pad constant", lambda: ft.pad(KNOWN, ft.constant(2)), np.pad(KV, 2)),
    (
        "pad of a static size",
        lambda: ft.pad(KNOWN, (KNOWN.shape[0], 1), mode="wrap"),
        np.pad(KV, (3, 1), "wrap"),
    ),
    ("linspace", lambda: ft.linspace(0.0, 1.0, ft.constant(np.int32(7))), np.linspace(0.0, 1.0, 7)),
    ("geomspace", lambda: ft.geomspace(1.0, 2.0, KNOWN.shape[1] - 1), np.geomspace(1.0, 2.0, 3)),
    ("specify_shape", lambda: ft.specify_shape(ft.dmatrix(), (ft.constant(3), KNOWN.shape[1])), KV),
    ("topk", lambda: ft.topk(KNOWN, ft.constant(-2)), KV[:, :2]),
    ("to_one_hot", lambda: ft.to_one_hot(ft.specify_shape(c, (4,)), ft.constant(5)), np.zeros((4, 5))),
]


@pytest.mark.parametrize("build,want", [c[1:] for c in STATIC], ids=[c[0] for c in STATIC])
def test_sizes_known_when_built_are_static(build: Callable[[], Any], want: np.ndarray) -> None:
    assert build().type.shape == want.shape


#: (the function named, the graph of a checked size s, a good value of s, a bad one)
BAD: list[tuple[str, Callable[[Any], Any], int, int]] = [
    ("pad", lambda s: ft.pad(x, (1, s)), 6, -1),
    ("pad", lambda s: ft.pad(x, s, mode="reflect"), 1, -3),
    ("linspace", lambda s: ft.linspace(0.0, 1.0, s), 3, -1),
    ("logspace", lambda s: ft.logspace(0.0, 1.0, s), 3, -2),
    ("geomspace", lambda s: ft.geomspace(1.0, 2.0, s), 3, -1),
    ("bincount", lambda s: ft.bincount(c, minlength=s), 3, -1),
    ("histogram", lambda s: ft.histogram(x, s)[0], 4, 0),
    ("topk", lambda s: ft.topk(x, s), 2, 0),
    ("argtopk", lambda s: ft.argtopk(x, s), -2, 7),
    ("to_one_hot", lambda s: ft.to_one_hot(c[:0], s), 3, -1),
    ("split_dims", lambda s: ft.split_dims(x, (s, 2)), 3, -1),
    ("specify_shape", lambda s: ft.specify_shape(x, (s,)), 6, 5),
]


@pytest.mark.parametrize("mode", MODES)
def test_bad_symbolic_sizes_raise_value_error_naming_the_function(mode: str) -> None:
    # one function, each size its own input: one bad at a time, the others fine
    sizes = [ft.lscalar(f"s{i}") for i in range(len(BAD))]
    outs = [build(si) for (_, build, _, _), si in zip(BAD, sizes)]
    f = fc.function([*sizes, x, c], outs, mode=mode, on_unused_input="ignore")
    good = [g for _, _, g, _ in BAD]
    f(*good, X, CLASSES)
    for i, (what, _, _, bad) in enumerate(BAD):
        args = [*good[:i], bad, *good[i + 1 :]]
        with pytest.raises(ValueError, match=rf"^{what}: .*\b{abs(bad)}\b"):
            f(*args, X, CLASSES)


#: (the function named, its argument, the graph of a size given as b); a vector is refused
#: where it is not another form of the argument (repeat's counts per element)
TYPED: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("pad", "pad_width", lambda b: ft.pad(x, (1, b))),
    ("linspace", "num", lambda b: ft.linspace(0.0, 1.0, b)),
    ("logspace", "num", lambda b: ft.logspace(0.0, 1.0, b)),
    ("geomspace", "num", lambda b: ft.geomspace(1.0, 2.0, b)),
    ("specify_shape", "size", lambda b: ft.specify_shape(x, (b,))),
    ("topk", "kth", lambda b: ft.topk(x, b)),
    ("bincount", "minlength", lambda b: ft.bincount(c, minlength=b)),
    ("to_one_hot", "nb_class", lambda b: ft.to_one_hot(c, b)),
    ("split_dims", "size", lambda b: ft.split_dims(x, (b, 2))),
    ("zeros", "shape", lambda b: ft.zeros((b, 2))),
    ("ones", "shape", lambda b: ft.ones((2, b))),
    ("full", "shape", lambda b: ft.full((b,), 1.0)),
    ("empty", "shape", lambda b: ft.empty((b,))),
    ("alloc", "shape", lambda b: ft.alloc(1.0, b, 2)),
    ("broadcast_to", "shape", lambda b: ft.broadcast_to(x, (b, 6))),
    ("reshape", "shape", lambda b: ft.reshape(m, (b, -1))),
    ("eye", "n", lambda b: ft.eye(b)),
    ("eye", "k", lambda b: ft.eye(3, 3, b)),
    ("tri", "M", lambda b: ft.tri(3, b)),
    ("tril", "k", lambda b: ft.tril(m, b)),
    ("triu", "k", lambda b: ft.triu(m, b)),
    ("tril_indices", "n", lambda b: ft.tril_indices(b)),
    ("repeat", "repeats", lambda b: ft.repeat(x, b if b.ndim == 0 else ft.lmatrix())),
    ("tile", "reps", lambda b: ft.tile(m, (b, 1))),
    ("roll", "shift", lambda b: ft.roll(x, b)),
    ("fill_diagonal_offset", "offset", lambda b: ft.fill_diagonal_offset(m, 1.0, b)),
    ("bartlett", "M", lambda b: ft.bartlett(b)),
    ("unravel_index", "dims", lambda b: ft.unravel_index(c, (b, 2))),
    ("tensordot", "axes", lambda b: ft.tensordot(m, m.T, b)),
    ("diag", "k", lambda b: ft.diag(x, b)),
    ("diagonal", "offset", lambda b: ft.diagonal(m, b)),
    ("matrix_power", "n", lambda b: ft.matrix_power(m, b)),
    ("diff", "n", lambda b: ft.diff(x, b)),
]


@pytest.mark.parametrize("what,arg,build", TYPED, ids=[f"{c[0]} {c[1]}" for c in TYPED])
def test_a_float_or_a_vector_size_is_a_type_error_naming_the_function(
    what: str, arg: str, build: Callable[[Any], Any]
) -> None:
    for bad in (ft.dscalar("f"), ft.lvector("v")):
        with pytest.raises(TypeError, match=rf"^{what}: .*{arg}"):
            build(bad)


@pytest.mark.parametrize("mode", MODES)
def test_specify_shape_checks_a_symbolic_size_when_the_function_runs(mode: str) -> None:
    out = ft.specify_shape(m, (n, ft.cast(k, "int8")))
    assert out.type.shape == (None, None)
    f = fc.function([n, k, m], out * 2, mode=mode)
    assert_same(f(3, 4, M), M * 2)
    for nv, kv in ((3, 5), (2, 4), (-3, 4)):
        with pytest.raises(ValueError, match=r"^specify_shape: the value's sizes \[3, 4\] .* declared sizes"):
            f(nv, kv, M)
    vec = ft.lvector("shape")
    assert ft.specify_shape(m, ft.specify_shape(vec, (2,))).type.shape == (None, None)


def test_cov_of_one_variable_is_numpys_0d_where_known_when_built() -> None:
    v = ft.dvector("v")
    one = {
        "vector": ft.cov(v),
        "one row": ft.cov(ft.shape_padleft(v)),
        "one column": ft.cov(v[:, None], rowvar=False),
        "declared one row": ft.cov(ft.specify_shape(m, (ft.constant(1), None))),
    }
    at_run = ft.cov(m)  # the number of rows is only known when the function runs
    assert all(o.ndim == 0 for o in one.values()) and at_run.ndim == 2
    f = fc.function([v, m], [*one.values(), at_run], mode="FAST_COMPILE", on_unused_input="ignore")
    got = f(X, X[None])
    for name, g in zip(one, got):
        assert_same(g, np.cov(X), name)
    assert_same(got[-1], np.cov(X).reshape(1, 1), "a (1, 1) matrix of numpy's variance")


def test_pytensor_gives_the_same_values() -> None:
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    from pytensor.tensor.extra_ops import bincount, to_one_hot
    from pytensor.tensor.pad import pad

    def graphs(lib: Any, nn: Any, xx: Any, cc: Any) -> list:
        pad_, linspace_, bincount_, to_one_hot_ = lib
        return [
            pad_(xx, (nn, 1)),
            pad_(xx, nn, mode="edge"),
            linspace_(0.0, 1.0, nn),
            bincount_(cc, minlength=nn),
            to_one_hot_(cc, nn + 3),
        ]

    pn, px, pc = pt.lscalar(), pt.dvector(), pt.lvector()
    ours = fc.function(
        [n, x, c], graphs((ft.pad, ft.linspace, ft.bincount, ft.to_one_hot), n, x, c), mode="FAST_COMPILE"
    )
    theirs = pytensor.function(
        [pn, px, pc], graphs((pad, pt.linspace, bincount, to_one_hot), pn, px, pc), mode="FAST_COMPILE"
    )
    for nv in (1, 2, 5):  # PyTensor's linspace of no values raises IndexError
        for a, b in zip(ours(nv, X, CLASSES), theirs(nv, X, CLASSES)):
            np.testing.assert_allclose(a, b, rtol=1e-15)
            assert a.shape == b.shape


def _numeric_grad(f: Callable[[np.ndarray], float], at: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return np.array([(f(at + e * eps) - f(at - e * eps)) / (2 * eps) for e in np.eye(at.size)])


def test_gradients_through_symbolic_sizes_are_numpys_differences() -> None:
    # a symbolic width of 0 pads nothing: no division by it reaches the gradient (NaN before)
    modes = ("linear_ramp", "reflect", "wrap", "mean", "edge")
    ramp = ft.arange(100)
    grads = [ft.grad((ft.pad(x, (n, 1), mode=pm) * ramp[: x.shape[0] + n + 1]).sum(), x) for pm in modes]
    a = ft.dscalar("a")
    grads.append(ft.grad((ft.linspace(a, 3.0, n) ** 2).sum(), a))
    f = fc.function([n, x, a], grads, mode="FAST_COMPILE")
    xv = X[:3]
    for nv in (0, 1, 4):
        got = f(nv, xv, 1.5)
        for pm, g in zip(modes, got):

            def padded(v: np.ndarray, pm: str = pm, nv: int = nv) -> float:
                p = np.pad(v, (nv, 1), mode=pm)
                return float((p * np.arange(p.size)).sum())

            np.testing.assert_allclose(g, _numeric_grad(padded, xv), atol=1e-5, err_msg=f"{pm} n={nv}")

        def spaced(v: np.ndarray, nv: int = nv) -> float:
            return float((np.linspace(v[0], 3.0, nv) ** 2).sum())

        np.testing.assert_allclose(got[-1], _numeric_grad(spaced, np.array([1.5]))[0], atol=1e-5)
