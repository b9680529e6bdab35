"""Matrix products (ft.dot and @) for 1-D/2-D operands and every dtype, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import DTYPES, MODES, assert_same, compiled, sample

PAIRS = [(1, 1), (1, 2), (2, 1), (2, 2)]


@compiled
def dot_fn(da: str, db: str, mode: str):
    """All four ndim pairs in one function: (a1 . b1, a1 . B2, A2 . b1, A2 . B2)."""
    a1, a2 = ft.vector("a1", da), ft.matrix("a2", da)
    b1, b2 = ft.vector("b1", db), ft.matrix("b2", db)
    outs = [ft.dot(a1, b1), a1 @ b2, ft.dot(a2, b1), a2 @ b2]
    return fc.function([a1, a2, b1, b2], outs, mode=mode)


def _values(da: str, db: str, m: int, k: int, n: int, seed: int) -> list[np.ndarray]:
    def kw(dt: str) -> dict:  # small integers, so products compare exactly
        return (
            dict(special=False)
            if dt in ("float32", "float64", "bool")
            else dict(special=False, low=-3, high=3)
        )

    kw_a, kw_b = kw(da), kw(db)
    return [
        sample(da, (k,), seed, **kw_a),
        sample(da, (m, k), seed + 1, **kw_a),
        sample(db, (k,), seed + 2, **kw_b),
        sample(db, (k, n), seed + 3, **kw_b),
    ]


def _check(f, vals: list[np.ndarray], what: str, rtol: float | None = None) -> None:
    a1, a2, b1, b2 = vals
    want = [np.dot(a1, b1), a1 @ b2, np.dot(a2, b1), a2 @ b2]
    for k, (g, w) in enumerate(zip(f(*vals), want)):
        if w.dtype == np.uint64:
            w = w.astype("int64")
        tol = rtol if rtol is not None else (1e-5 if w.dtype == np.float32 else 1e-12)
        assert_same(g, w, f"{what} output {k}", rtol=tol, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_same_dtype(mode: str, dtype: str) -> None:
    f = dot_fn(dtype, dtype, mode)
    for m, k, n in [(3, 4, 5), (1, 1, 1), (2, 0, 3), (0, 3, 2), (7, 33, 9)]:
        _check(f, _values(dtype, dtype, m, k, n, seed=m + k), f"{dtype} {m}x{k}x{n}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "da,db",
    [
        ("float32", "float64"),
        ("int32", "float32"),
        ("int64", "float32"),
        ("int8", "uint8"),
        ("bool", "float64"),
        ("float32", "int16"),
    ],
)
def test_dot_mixed_dtypes(mode: str, da: str, db: str) -> None:
    f = dot_fn(da, db, mode)
    _check(f, _values(da, db, 3, 4, 5, seed=1), f"{da}.{db}")


@pytest.mark.parametrize("mode", MODES)
def test_dot_non_contiguous_and_large(mode: str) -> None:
    f = dot_fn("float64", "float64", mode)
    A = sample("float64", (80, 60), 1, special=False)
    B = sample("float64", (60, 90), 2, special=False)
    v = sample("float64", (120,), 3, special=False)
    _check(f, [v[::2], A.T.copy().T, v[:60][::-1], B], "fortran A, reversed v", rtol=1e-10)
    _check(f, [v[:60], A[::-1, :], v[::2], B[:, ::3]], "strided", rtol=1e-10)
    big = sample("float64", (300, 200), 4, special=False)
    _check(f, [v[:1].repeat(200), big, big[0], big.T], "large", rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_dot_shape_mismatch(mode: str) -> None:
    f = dot_fn("float64", "float64", mode)
    with pytest.raises(ValueError) as ei:
        f(np.ones(3), np.ones((2, 3)), np.ones(3), np.ones((4, 2)))
    msg = str(ei.value)
    assert "dot" in msg.lower() or "aligned" in msg, msg


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("sa", "sb"), [((3, 4), (5,)), ((3, 4), (5, 2)), ((4,), (5, 2)), ((4,), (5,))], ids=str
)
def test_dot_shape_mismatch_names_the_op_and_both_shapes(mode: str, sa: tuple, sb: tuple) -> None:
    # both linkers word it the same way: the op, the two shapes, the dims that differ, and the
    # user's inputs with their sizes that differ
    a, b = (
        ft.tensor("a", "float64", shape=(None,) * len(sa)),
        ft.tensor("b", "float64", shape=(None,) * len(sb)),
    )
    f = fc.function([a, b], ft.dot(a, b) * 2, mode=mode)
    with pytest.raises(ValueError) as ei:
        f(np.ones(sa), np.ones(sb))
    assert str(ei.value) == (
        f"dot (also a @ b and matmul): shapes {sa} and {sb} are not aligned: {sa[-1]} (dim "
        f"{len(sa) - 1}) != {sb[0]} (dim 0): a has size {sa[-1]} along axis {len(sa) - 1}, b has size "
        f"{sb[0]} along axis 0; give b a first dim of a's last size"
    )


def test_dot_static_checks() -> None:
    assert ft.dot(ft.tensor3("t"), ft.vector("v")).ndim == 2  # numpy.dot's N-d rule
    with pytest.raises(ValueError, match="not aligned"):
        ft.dot(ft.constant(np.ones((2, 3))), ft.constant(np.ones((4, 2))))
    a = ft.matrix("a", "float32")
    assert (a @ ft.matrix("b", "int64")).dtype == "float64"
    assert (a @ ft.matrix("c", "float32")).dtype == "float32"
    assert (ft.matrix("p", "bool") @ ft.matrix("q", "bool")).dtype == "bool"
    assert ft.dot(a, ft.vector("v", "float32")).ndim == 1
    assert a.dot(ft.matrix("d", "float32")).ndim == 2


@pytest.mark.parametrize("mode", MODES)
def test_dot_in_expression(mode: str) -> None:
    """Logistic regression (W3): BLAS product feeding fused elementwise and a mean."""
    X, w, b, t = ft.matrix("X"), ft.vector("w"), ft.scalar("b"), ft.vector("t")
    p = ft.sigmoid(X @ w + b)
    loss = ft.mean(-t * ft.log(p) - (1 - t) * ft.log(1 - p))
    f = fc.function([X, w, b, t], [loss, p], mode=mode)
    rng = np.random.default_rng(0)
    Xv, wv = rng.normal(size=(200, 30)), rng.normal(size=30) * 0.1
    tv = (rng.random(200) > 0.5).astype("float64")
    pv = 1 / (1 + np.exp(-(Xv @ wv + 0.3)))
    lv = np.mean(-tv * np.log(pv) - (1 - tv) * np.log(1 - pv))
    got_l, got_p = f(Xv, wv, 0.3, tv)
    assert_same(got_p, pv, "p", rtol=1e-12)
    assert_same(got_l, np.asarray(lv), "loss", rtol=1e-10)
