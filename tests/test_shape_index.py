"""Shape ops and indexing against numpy: .T, transpose, dimshuffle, reshape (-1, symbolic
shapes), flatten, shape, basic indexing (ints, slices, symbolic bounds, negative steps, None,
...), concatenate and stack; and the len() message."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, sample


@pytest.mark.parametrize("mode", MODES)
def test_transpose_dimshuffle(mode: str) -> None:
    x = ft.tensor3("x")
    r = ft.tensor("r", "float64", shape=(None, 1, None))
    outs = [
        x.T,
        x.transpose(1, 0, 2),
        x.transpose((2, 0, 1)),
        ft.transpose(x, (-1, 0, 1)),
        x.dimshuffle(2, "x", 0, 1),
        x.dimshuffle("x", 0, 1, 2, "x"),
        r.dimshuffle(0, 2),
        r.dimshuffle(2, "x", 0),
        x.T + 1.0,
        (x.dimshuffle(0, "x", 1, 2) * 2).sum(axis=1),
    ]
    f = fc.function([x, r], outs, mode=mode)
    xv = sample("float64", (2, 3, 4), 1)
    rv = sample("float64", (2, 1, 5), 2)
    want = [
        xv.T,
        xv.transpose(1, 0, 2),
        xv.transpose(2, 0, 1),
        xv.transpose(2, 0, 1),
        xv.transpose(2, 0, 1)[:, None],
        xv[None, ..., None],
        rv[:, 0, :],
        rv[:, 0, :].T[:, None],
        xv.T + 1.0,
        (xv[:, None] * 2).sum(axis=1),
    ]
    for k, (g, w) in enumerate(zip(f(xv, rv), want)):
        assert_same(g, w, f"output {k}")
    # non-contiguous input
    big = sample("float64", (4, 7, 9), 3)
    v = big[::2, ::-2, 1::2]
    assert_same(f(v, rv)[0], v.T, "transposed view")
    assert_same(f(v, rv)[4], v.transpose(2, 0, 1)[:, None], "dimshuffle view")


def test_dimshuffle_errors() -> None:
    x = ft.matrix("x")
    with pytest.raises(ValueError, match="broadcastable"):
        ft.tensor("s", "float64", shape=(None, 2)).dimshuffle(0)  # dropping a dim of size 2
    dropped = fc.function([x], x.dimshuffle(0))  # a size known when run: checked then
    np.testing.assert_array_equal(dropped(np.ones((3, 1))), np.ones(3))
    with pytest.raises(ValueError):
        dropped(np.ones((3, 2)))
    with pytest.raises(ValueError):
        x.dimshuffle(0, 0)
    with pytest.raises(ValueError):
        x.transpose(0, 2)
    r = ft.tensor("r", "float64", shape=(None, 1))
    f = fc.function([r], r.dimshuffle(0))
    with pytest.raises(TypeError):
        f(np.ones((3, 2)))  # declared size 1


@pytest.mark.parametrize("mode", MODES)
def test_reshape_flatten(mode: str) -> None:
    x = ft.tensor3("x")
    k = ft.lscalar("k")
    outs = [
        x.reshape((-1,)),
        x.reshape((2, -1)),
        x.reshape((x.shape[0], -1)),
        x.reshape((k, x.shape[1], -1)),
        x.reshape([4, 3, 2]),
        x.flatten(),
        x.flatten(2),
        ft.reshape(x, (x.shape[2], x.shape[0] * x.shape[1])),
        x.T.flatten(),
        x.reshape((-1, 1)).sum(axis=1),
    ]
    f = fc.function([x, k], outs, mode=mode)
    xv = sample("float64", (2, 3, 4), 1)
    want = [
        xv.reshape(-1),
        xv.reshape(2, -1),
        xv.reshape(2, -1),
        xv.reshape(2, 3, -1),
        xv.reshape(4, 3, 2),
        xv.flatten(),
        xv.reshape(2, -1),
        xv.reshape(4, 6),
        xv.T.flatten(),
        xv.reshape(-1, 1).sum(axis=1),
    ]
    for i, (g, w) in enumerate(zip(f(xv, 2), want)):
        assert_same(g, w, f"output {i}")
    with pytest.raises(ValueError) as ei:
        f(xv, 5)
    assert "reshape" in str(ei.value) and "(2, 3, 4)" in str(ei.value)
    big = sample("float64", (4, 6, 8), 2)[::2, ::2, ::2]
    assert_same(f(big, 2)[0], big.reshape(-1), "reshape of a strided view")


def test_reshape_static_errors() -> None:
    c = ft.constant(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        c.reshape((4, 2))
    x = ft.matrix("x")
    with pytest.raises(ValueError):
        x.reshape((-1, -1))
    with pytest.raises(TypeError):
        x.reshape(ft.lvector("s"))  # a symbolic vector needs ndim=
    v = ft.lvector("s")
    f = fc.function([x, v], x.reshape(v, ndim=2))
    assert_same(
        f(np.arange(6.0).reshape(2, 3), np.array([3, 2])),
        np.arange(6.0).reshape(3, 2),
        "reshape(vector, ndim)",
    )


@pytest.mark.parametrize("mode", MODES)
def test_shape(mode: str) -> None:
    x = ft.tensor3("x", dtype="int8")
    f = fc.function([x], [x.shape, x.shape[0], x.shape[-1] * 2, ft.shape(x)[1:]], mode=mode)
    v = np.zeros((2, 0, 5), "int8")
    s, s0, s2, tail = f(v)
    assert_same(s, np.array([2, 0, 5]), "shape")
    assert_same(s0, np.array(2), "shape[0]")
    assert_same(s2, np.array(10), "shape[-1] * 2")
    assert_same(tail, np.array([0, 5]), "shape[1:]")


def test_len_message() -> None:
    x = ft.vector("x")
    with pytest.raises(TypeError) as ei:
        len(x)
    assert "shape[0]" in str(ei.value)
    with pytest.raises(TypeError):
        iter(x)
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)
    w = fc.shared(np.zeros(2), name="W")
    with pytest.raises(TypeError, match="write `if x is not None:`"):  # Theano's `if not W:`
        bool(w)


@pytest.mark.parametrize("mode", MODES)
def test_basic_indexing(mode: str) -> None:
    x = ft.tensor3("x")
    i = ft.iscalar("i")
    j = ft.lscalar("j")
    outs = [
        x[0],
        x[-1],
        x[1, 2],
        x[1, -1, 3],
        x[:, 1],
        x[..., 2],
        x[..., ::-1],
        x[None],
        x[:, None, 1],
        x[0, ..., None],
        x[1:],
        x[:-1, ::2],
        x[::-1],
        x[::-2, 1:, ::-3],
        x[i],
        x[:, i:],
        x[j:i, ::-1],
        x[:, :, j::i],
        x[-i],
        x[i, j],
        x[:, i:-1:j],
        x[1:2, 0:0],
        x[5:],
        x[::-1][0] * 2.0,
    ]
    f = fc.function([x, i, j], outs, mode=mode)
    xv = sample("float64", (3, 4, 5), 1)
    iv, jv = 2, 1
    want = [
        xv[0],
        xv[-1],
        xv[1, 2],
        xv[1, -1, 3],
        xv[:, 1],
        xv[..., 2],
        xv[..., ::-1],
        xv[None],
        xv[:, None, 1],
        xv[0, ..., None],
        xv[1:],
        xv[:-1, ::2],
        xv[::-1],
        xv[::-2, 1:, ::-3],
        xv[iv],
        xv[:, iv:],
        xv[jv:iv, ::-1],
        xv[:, :, jv::iv],
        xv[-iv],
        xv[iv, jv],
        xv[:, iv:-1:jv],
        xv[1:2, 0:0],
        xv[5:],
        xv[::-1][0] * 2.0,
    ]
    for k, (g, w) in enumerate(zip(f(xv, iv, jv), want)):
        assert_same(g, w, f"index {k}")
    # on a non-contiguous input and other symbolic values
    v = sample("float64", (6, 8, 10), 2)[::2, ::-2, 1::2]
    want_v = [v[0], v[-1], v[1, 2]]
    for k, (g, w) in enumerate(zip(f(v, 1, 2)[:3], want_v)):
        assert_same(g, w, f"view index {k}")
    with pytest.raises(IndexError):
        f(xv, 7, 1)  # x[i] out of bounds at run time
    with pytest.raises(ValueError, match="step"):
        f(xv, 1, 0)  # x[:, :, j::i] fine, x[:, i:-1:j] has step 0


def test_indexing_static_errors() -> None:
    x = ft.tensor("x", "float64", shape=(3, None))
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[..., ...]
    with pytest.raises(ValueError):
        x[::0]
    with pytest.raises(TypeError):
        x[ft.dscalar("d")]
    with pytest.raises(TypeError, match="int dtype"):
        x[ft.dvector("v")]  # index arrays are ints


@pytest.mark.parametrize("mode", MODES)
def test_indexing_results_are_not_aliases(mode: str) -> None:
    """Outputs never share memory with the inputs: writing to them leaves the input intact."""
    x = ft.matrix("x")
    f = fc.function([x], [x[0], x.T, x.reshape((-1,))], mode=mode)
    xv = np.arange(6.0).reshape(2, 3)
    keep = xv.copy()
    for out in f(xv):
        assert not np.shares_memory(out, xv)
        out[...] = -1
    assert_same(xv, keep, "input untouched")


@pytest.mark.parametrize("mode", MODES)
def test_concatenate_stack(mode: str) -> None:
    a, b = ft.matrix("a"), ft.matrix("b", dtype="float32")
    c = ft.matrix("c", dtype="int32")
    v, w = ft.vector("v"), ft.vector("w")
    outs = [
        ft.concatenate([a, b]),
        ft.concatenate([a, c], axis=1),
        ft.concatenate([a, a, b], -1),
        ft.stack([v, w]),
        ft.stack([v, w], axis=1),
        ft.stack([a, a], axis=-1),
        ft.stack([a[0], v]),
        ft.concatenate([v, w * 2, v[::-1]]),
    ]
    f = fc.function([a, b, c, v, w], outs, mode=mode)
    av, bv = sample("float64", (2, 3), 1), sample("float32", (2, 3), 2)
    cv = sample("int32", (2, 3), 3)
    vv, wv = sample("float64", (3,), 4), sample("float64", (3,), 5)
    want = [
        np.concatenate([av, bv]),
        np.concatenate([av, cv], axis=1),
        np.concatenate([av, av, bv], -1),
        np.stack([vv, wv]),
        np.stack([vv, wv], axis=1),
        np.stack([av, av], axis=-1),
        np.stack([av[0], vv]),
        np.concatenate([vv, wv * 2, vv[::-1]]),
    ]
    for k, (g, x) in enumerate(zip(f(av, bv, cv, vv, wv), want)):
        assert_same(g, x, f"output {k}")
    with pytest.raises(ValueError) as ei:
        f(av, sample("float32", (2, 4), 1), cv, vv, wv)
    assert "concatenate" in str(ei.value)


def test_concatenate_static_errors() -> None:
    with pytest.raises(ValueError):
        ft.concatenate([ft.matrix("a"), ft.vector("b")])
    with pytest.raises(ValueError):
        ft.concatenate([ft.scalar("s"), ft.scalar("t")])
    with pytest.raises(ValueError):
        ft.concatenate([])
    with pytest.raises(ValueError):
        ft.stack([ft.vector("v")], axis=3)
