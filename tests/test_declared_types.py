"""Ops whose output type is declared from their arguments return exactly that type, or refuse
with an error naming the op; numpy's axis spellings, unsigned sums, argmax over several axes,
symbolic reshape lengths and ``@`` with a 0-d operand behave as in numpy (differentially)."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, sample

LINKERS = {"c": fc.Mode(linker="c"), "py": fc.Mode(linker="py")}


# -- reshape with a declared ndim ------------------------------------------------------------
@pytest.mark.parametrize("linker", LINKERS)
@pytest.mark.parametrize("ndim,shape", [(2, [3, 4, 1]), (3, [12, 1]), (1, [2, 6])])
def test_reshape_declared_ndim_mismatch_at_run_time(linker: str, ndim: int, shape: list) -> None:
    x, s = ft.dmatrix("x"), ft.lvector("s")
    f = fc.function([x, s], x.reshape(s, ndim=ndim), mode=LINKERS[linker])
    with pytest.raises(ValueError) as e:
        f(np.ones((3, 4)), np.array(shape))
    msg = str(e.value)
    assert "reshape" in msg and f"ndim={ndim}" in msg and str(tuple(shape)) in msg


@pytest.mark.parametrize("linker", LINKERS)
def test_reshape_declared_ndim_matching_shape_runs(linker: str) -> None:
    x, s = ft.dmatrix("x"), ft.lvector("s")
    f = fc.function([x, s], x.reshape(s, ndim=3), mode=LINKERS[linker])
    v = np.arange(12.0).reshape(3, 4)
    assert_same(f(v, np.array([2, 3, 2])), v.reshape(2, 3, 2))
    assert_same(f(v, np.array([-1, 1, 3])), v.reshape(-1, 1, 3))


@pytest.mark.parametrize("shape", [[3, 4, 1], (12, 1), np.array([12, 1])])
def test_reshape_declared_ndim_mismatch_at_build(shape) -> None:
    x = ft.dmatrix("x")
    with pytest.raises(ValueError, match=r"reshape: ndim=\d was declared .* shape given is \("):
        x.reshape(shape, ndim=4)
    n = ft.lscalar("n")
    with pytest.raises(ValueError, match=r"reshape: ndim=3 was declared"):
        ft.reshape(x, [n, 4], ndim=3)


def test_python_op_static_shape_is_checked() -> None:
    @ft.as_op(itypes=[ft.dvector().type], otypes=[fc.TensorType("float64", (1,))])
    def head(v):
        return v[:2]

    x = ft.dvector("x")
    f = fc.function([x], head(x) + 1.0)
    with pytest.raises(ValueError, match=r"output 0 has shape \(2,\), otypes declares"):
        f(np.ones(3))


# -- argmax / argmin over several axes --------------------------------------------------------
def _np_arg(kind: str, v: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """numpy reference of PyTensor's rule: the flat (C-order) index over the reduced axes."""
    axes = tuple(sorted(a % v.ndim for a in axes))
    keep = [d for d in range(v.ndim) if d not in axes]
    moved = np.transpose(v, keep + list(axes))
    flat = moved.reshape([v.shape[d] for d in keep] + [int(np.prod([v.shape[a] for a in axes]))])
    res = getattr(np, kind)(flat, axis=-1)
    if keepdims:
        res = np.expand_dims(res, axes) if axes else res
    return res.astype("int64")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["argmax", "argmin"])
def test_argreduce_tuple_axes(mode: str, kind: str) -> None:
    x = ft.tensor("x", "float64", 3)
    cases = [
        ((0, 2), False),
        ([2, 0], True),
        ((1,), False),
        ((), False),
        ((), True),
        ((0, 1, 2), False),
        ((-1, 1), True),
        ([np.array(1), np.int64(2)], False),
    ]
    outs = [getattr(ft, kind)(x, axis=list(a) if isinstance(a, list) else a, keepdims=k) for a, k in cases]
    f = fc.function([x], outs, mode=mode)
    for shape in [(3, 4, 5), (2, 1, 3)]:
        v = sample("float64", shape, seed=sum(shape), special=False)
        for got, (a, k) in zip(f(v), cases):
            assert_same(got, _np_arg(kind, v, tuple(int(i) for i in a), k), f"{kind} {a} {k}")


@pytest.mark.parametrize("kind", ["argmax", "argmin"])
def test_argreduce_tuple_axes_empty_reduced_axis(kind: str) -> None:
    x = ft.tensor("x", "float64", 3)
    f = fc.function([x], getattr(ft, kind)(x, axis=(0, 2)))
    with pytest.raises(ValueError, match=kind):
        f(np.ones((2, 3, 0)))


# -- dtypes and axis spellings ---------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_unsigned_sum_prod_are_uint64(mode: str) -> None:
    x = ft.tensor("x", "uint8", 2)
    outs = [x.sum(), x.sum(axis=0), x.prod(axis=1), ft.prod(x), x.sum(axis=1, keepdims=True)]
    assert [o.dtype for o in outs] == ["uint64"] * 5
    f = fc.function([x], outs, mode=mode)
    v = np.arange(1, 13, dtype="uint8").reshape(3, 4) * 20
    for got, want in zip(
        f(v), [v.sum(), v.sum(axis=0), v.prod(axis=1), np.prod(v), v.sum(axis=1, keepdims=True)]
    ):
        assert_same(got, want)


@pytest.mark.parametrize("mode", MODES)
def test_uint64_values_in_and_out(mode: str) -> None:
    a, b = ft.tensor("a", "uint64", 1), ft.tensor("b", "uint64", 1)
    outs = [a + b, a // b, a % b, a * b, ft.maximum(a, b), a.max(), a.min(), a > b]
    f = fc.function([a, b], outs, mode=mode)
    av = np.array([0, 5, 2**63 + 7, 2**64 - 1], dtype="uint64")
    bv = np.array([3, 0, 2**64 - 1, 2], dtype="uint64")
    with np.errstate(all="ignore"):
        want = [av + bv, av // bv, av % bv, av * bv, np.maximum(av, bv), av.max(), av.min(), av > bv]
    for got, w in zip(f(av, bv), want):
        assert_same(got, w)


@pytest.mark.parametrize("mode", MODES)
def test_axis_as_numpy_integer_array(mode: str) -> None:
    x = ft.tensor("x", "float64", 3)
    ax = np.array(1)
    outs = [
        x.sum(axis=ax),
        ft.max(x, axis=[np.array(0), np.array(-1)]),
        ft.argmax(x, axis=ax),
        ft.mean(x, axis=np.array([0, 2])),
        ft.concatenate([x, x], axis=np.array(2)),
        ft.stack([x, x], axis=np.array(-1)),
    ]
    f = fc.function([x], outs, mode=mode)
    v = sample("float64", (2, 3, 4), special=False)
    want = [
        v.sum(axis=ax),
        np.max(v, axis=(0, -1)),
        np.argmax(v, axis=ax),
        np.mean(v, axis=(0, 2)),
        np.concatenate([v, v], axis=np.array(2)),
        np.stack([v, v], axis=np.array(-1)),
    ]
    for got, w in zip(f(v), want):
        assert_same(got, w)


def test_axis_refusals_name_the_op() -> None:
    x = ft.dmatrix("x")
    with pytest.raises(TypeError, match="sum: axis must be"):
        x.sum(axis=np.array(1.0))
    with pytest.raises(TypeError, match="argmax: axis must be"):
        ft.argmax(x, axis=True)
    with pytest.raises(ValueError, match="argmin: axis 2 is out of bounds"):
        ft.argmin(x, axis=(0, 2))


# -- reshape to a symbolic length; @ with 0-d operands -------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_reshape_to_symbolic_scalar_length(mode: str) -> None:
    x, n = ft.dmatrix("x"), ft.lscalar("n")
    outs = [x.reshape(n), ft.reshape(x, n), x.reshape((n,)), x.reshape(np.array(-1))]
    assert [o.ndim for o in outs] == [1, 1, 1, 1]
    f = fc.function([x, n], outs, mode=mode)
    v = np.arange(6.0).reshape(2, 3)
    for got in f(v, 6):
        assert_same(got, v.reshape(6))
    with pytest.raises(ValueError, match="reshape"):
        f(v, 5)


def test_matmul_with_0d_operand_is_a_value_error() -> None:
    x, s = ft.dvector("x"), ft.dscalar("s")
    for a, b in [(x, s), (s, x), (x, 2.0), (np.float64(2.0), x)]:
        with pytest.raises(ValueError, match="matmul: input operand"):
            a @ b
        # numpy agrees
        with pytest.raises(ValueError):
            np.ones(3) @ np.float64(2.0)
    assert (x @ x).ndim == 0


# -- creation ops keep the sizes they are given -----------------------------------------------
@pytest.mark.parametrize("linker", LINKERS)
def test_creation_ops_declare_the_known_sizes_and_return_them(linker: str) -> None:
    """Constant entries of a shape are declared (``zeros((n, 3))`` is (None, 3); reshape's too,
    but -1), ``*_like`` keep the static sizes of their model; every declared size is the one
    that comes back."""
    n, v = ft.lscalar("n"), ft.dvector("v")
    x = ft.tensor("x", "float64", shape=(None, 4, 1))
    outs = {
        "zeros": (ft.zeros((n, 3)), (None, 3)),
        "ones": (ft.ones([2, n], dtype="int8"), (2, None)),
        "full": (ft.full((n, 0, 5), 7.5), (None, 0, 5)),
        "alloc": (ft.alloc(v, n, 2, 3), (None, 2, 3)),
        "zeros_like": (ft.zeros_like(x), (None, 4, 1)),
        "ones_like": (x.ones_like(dtype="int32"), (None, 4, 1)),
        "full_like": (ft.full_like(x, 2.0), (None, 4, 1)),
        "reshape": (ft.reshape(x, (n, -1, 3)), (None, None, 3)),
    }
    for name, (o, static) in outs.items():
        assert o.type.shape == static, name
    f = fc.function([n, x, v], [o for o, _ in outs.values()], mode=LINKERS[linker])
    xv = np.arange(12.0).reshape(3, 4, 1)
    got = f(4, xv, np.array([1.0, 2.0, 3.0]))
    want = [np.zeros((4, 3)), np.ones((2, 4), "int8"), np.full((4, 0, 5), 7.5)]
    want += [np.broadcast_to([1.0, 2.0, 3.0], (4, 2, 3)), np.zeros_like(xv)]
    want += [np.ones_like(xv, dtype="int32"), np.full_like(xv, 2.0), xv.reshape(4, -1, 3)]
    for (name, (_, static)), g, w in zip(outs.items(), got, want):
        assert_same(g, w, name)
        assert all(s is None or s == d for s, d in zip(static, g.shape)), name


def test_creation_ops_refuse_a_negative_constant_size_at_build() -> None:
    n = ft.lscalar("n")
    with pytest.raises(ValueError, match=r"zeros: negative dimensions are not allowed"):
        ft.zeros((n, -1))


@pytest.mark.parametrize("linker", LINKERS)
def test_alloc_of_a_broadcast_value_keeps_sizes_a_run_can_contradict_unknown(linker: str) -> None:
    """A symbolic entry stays unknown even where the value has a size there: the value may
    broadcast (size 1) or the run may refuse it, never return another size than declared."""
    n, v = ft.lscalar("n"), ft.tensor("v", "float64", shape=(1, 3))
    a = ft.alloc(v, n, 3)
    assert a.type.shape == (None, 3)
    f = fc.function([n, v], a, mode=LINKERS[linker])
    assert_same(f(5, np.ones((1, 3))), np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"alloc"):
        fc.function([n, v], ft.alloc(v, 2, n), mode=LINKERS[linker])(4, np.ones((1, 3)))
