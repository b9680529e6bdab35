"""Shapes read without computing the value, for every op: FAST_RUN reads a size from the values
a value is computed from (``u.shape[d]``, ``zeros_like(u)``...) rather than computing it. For
each output of the functions of every kind in tests/test_pickle_every_op.py (every op class
of fncache), sizes read through elementwise ops, reductions and dimshuffles over it in FAST_RUN
and in FAST_COMPILE equal the shape of the value computed, which has its declared ndim, dtype
and static sizes; and where computing the value raises for its values (an integer power of a
negative exponent), reading its shape, or a gradient that reads only its shape, raises the same
error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fcutil import MODES

import fncache as fc
import fncache.tensor as ft
from fncache.graph.types import TensorType
from test_pickle_every_op import GRAPHS


def _reads(o: Any) -> tuple[list, list]:
    """Sizes of values computed elementwise, reduced and transposed from ``o``, and for each
    the dim of ``o`` it is."""
    e = ft.eq(o, 0)  # a comparison: defined for every dtype
    dims = list(range(o.ndim))
    reads = (
        [o.shape[d] for d in dims] + [e.shape[d] for d in dims] + [ft.zeros_like(e).shape[d] for d in dims]
    )
    where = dims * 3
    for a in dims:
        kept = [d for d in dims if d != a]
        s = ft.sum(e, axis=a) * 2
        reads += [s.shape[k] for k in range(len(kept))]
        where += kept
    t = ft.eq(o.dimshuffle(*dims[::-1]), 1)
    return reads + [t.shape[k] for k in dims], where + dims[::-1]


def _sweep() -> tuple[list, list, list, list]:
    """The inputs and arguments of every function of the bank, the outputs read and the reads
    of each, labelled."""
    inputs, args, outs, reads = [], [], [], []
    for name, build in GRAPHS.items():
        (ins, graph_outs, _), vals = build()  # without updates: a read changes no state
        inputs += ins
        args += vals
        for k, o in enumerate(graph_outs):
            if isinstance(o.type, TensorType) and o.ndim >= 1:
                outs.append((f"{name}[{k}]", o))
                reads.append(_reads(o))
    return inputs, args, outs, reads


def test_sizes_read_of_every_op_are_the_computed_values_sizes() -> None:
    inputs, args, outs, reads = _sweep()
    values = fc.function(inputs, [o for _, o in outs], mode="FAST_COMPILE", on_unused_input="ignore")(*args)
    flat = [r for rs, _ in reads for r in rs]
    got = {
        mode: fc.function(inputs, flat, mode=mode, on_unused_input="ignore")(*args)
        for mode in ("FAST_RUN", "FAST_COMPILE")
    }
    bad, k = [], 0
    for (label, o), (rs, where), v in zip(outs, reads, values):
        v = v.toarray() if hasattr(v, "toarray") else np.asarray(v)
        if v.dtype != np.dtype(o.dtype) or v.ndim != o.ndim:
            bad.append(f"{label}: declared {o.type}, value {v.dtype} {v.shape}")
        elif any(s is not None and s != n for s, n in zip(o.type.shape, v.shape)):
            bad.append(f"{label}: declared {o.type}, value of shape {v.shape}")
        for mode, res in got.items():
            sizes = [int(x) for x in res[k : k + len(rs)]]
            if sizes != [v.shape[d] for d in where]:
                bad.append(f"{label} ({o.owner.op}) [{mode}]: sizes read {sizes}, of the value {v.shape}")
        k += len(rs)
    assert len(outs) > 100
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("mode", MODES)
def test_sizes_of_a_value_that_raises_for_its_values_raise(mode: str) -> None:
    i, j = ft.lvectors("i", "j")
    m = ft.lmatrix("m")
    b = ft.dvector("b")
    p = i**j
    fused = ft.sum(m ** ft.shape_padleft(j), axis=0)  # FAST_RUN fuses the power into the sum
    cases = {
        "shape[0]": p.shape[0],
        "an elementwise op of it": (p * 2 + i).shape[0],
        "its transpose": ft.exp(ft.shape_padleft(p).T).shape[0],
        "a sum": fused.shape[0],
        "a sum over the other axis": ft.sum(m ** ft.shape_padleft(j), axis=1).shape[0],
        "zeros_like": ft.zeros_like(p + 1),
        "ones_like of a sum": ft.ones_like(fused * 2),
        # gradients that read the power's shape only (a fused loop's step no output needs)
        "the gradient of a sum": ft.grad(ft.sum(p + b), b),
        "the gradient of a mean": ft.grad(ft.mean(p * 2 + b), b),
        "the gradient of a sum of sums": ft.grad(ft.sum(ft.sum(m ** ft.shape_padleft(j), axis=0) + b), b),
    }
    ok = (np.array([2, 3]), np.array([1, 2]), np.arange(6).reshape(3, 2), np.ones(2))
    for name, out in cases.items():
        f = fc.function([i, j, m, b], out, mode=mode, on_unused_input="ignore")
        f(*ok)
        with pytest.raises(ValueError, match="negative integer powers"):
            f(ok[0], np.array([1, -1]), *ok[2:])
            pytest.fail(f"{name}: a size was read for a negative exponent")


@pytest.mark.parametrize("mode", MODES)
def test_a_gradient_reading_a_shape_only_raises_where_the_value_does(mode: str) -> None:
    """Sizes known when the graph is built tie a value's shape to an input's: a gradient that
    reads the value's shape only still computes a value whose computation raises (an index out
    of range, a factorization, a check, an integer power, a product of sizes that do not
    match), not the input's shape instead."""
    x = ft.tensor("x", "float64", shape=(5, 3))
    a, c = (ft.tensor(n, "float64", shape=(3, 3)) for n in "ac")
    idx = ft.tensor("idx", "int64", shape=(3,))
    i, j = (ft.tensor(n, "int64", shape=(3, 3)) for n in "ij")
    q = ft.tensor("q", "float64", shape=(None, 3))
    values = {
        "an index out of range": (ft.take(x, idx, axis=0), IndexError),
        "cholesky": (ft.slinalg.cholesky(a), np.linalg.LinAlgError),
        "a check": (ft.assert_op(a, ft.all(ft.gt(a, 0))), AssertionError),
        "an integer power, sorted": (ft.sort(i**j, axis=0), ValueError),
        "a product": (ft.dot(x.T, q), ValueError),
    }
    ints = np.ones((3, 3), "int64")
    ok = (np.ones((5, 3)), np.eye(3) + 1, np.ones((3, 3)), np.array([0, 4, 1]), ints, ints, np.ones((5, 3)))
    bad = (ok[0], -np.eye(3), ok[2], np.array([0, 7, 1]), ints, -ints, np.ones((4, 3)))
    for name, (v, error) in values.items():
        grad = ft.grad(ft.sum(v * 2 + c), c)
        f = fc.function([x, a, c, idx, i, j, q], grad, mode=mode, on_unused_input="ignore")
        np.testing.assert_array_equal(f(*ok), np.ones((3, 3)))
        with pytest.raises(error):
            f(*bad)
            pytest.fail(f"{name}: no error")


#: FAST_RUN's rewrites run by the Python linker: the sizes read are the rewrites' (no gcc call
#: for each set of arguments' graphs)
_REWRITTEN = fc.Mode(linker="py", optimizer="fast_run")


def _other_sizes(a: Any, sizes: dict[int, int], rng: np.random.Generator) -> Any:
    """An argument like ``a`` whose sizes are ``sizes`` of its own (of the same dtype)."""
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return a
    shape = tuple(sizes[n] for n in a.shape)
    if a.dtype.kind in "iu":
        return rng.integers(0, 3, size=shape).astype(a.dtype)
    v = rng.standard_normal(shape)
    if a.ndim == 2 and shape[0] == shape[1]:
        v = v + v.T + 3 * np.eye(shape[0])  # symmetric positive definite
    return (v + 1j * v if a.dtype.kind == "c" else v).astype(a.dtype)


def _outcome(f: fc.Function, args: list) -> list | BaseException:
    try:
        return f(*args)
    except Exception as e:  # noqa: BLE001 - whether and what both raise is compared
        return e


def test_sizes_read_for_other_sizes_raise_where_the_value_does() -> None:
    """Each function of the bank given arguments of sizes 0, 1 and others (broadcasting at run
    time, empty axes, mismatches): the sizes read in FAST_RUN are the computed values' where
    computing them succeeds, and reading them raises where computing them does."""
    rng = np.random.default_rng(5)
    bad, runs = [], 0
    for name, build in GRAPHS.items():
        (ins, graph_outs, _), vals = build()
        outs = [o for o in graph_outs if isinstance(o.type, TensorType) and o.ndim >= 1]
        if not outs or not any(isinstance(a, np.ndarray) and a.ndim for a in vals):
            continue
        reads = [_reads(o) for o in outs]
        values = fc.function(ins, outs, mode="FAST_COMPILE", on_unused_input="ignore")
        sized = fc.function(
            ins, [r for rs, _ in reads for r in rs], mode=_REWRITTEN, on_unused_input="ignore"
        )
        for _ in range(6):
            # each size of the arguments becomes 0, 1, itself or one more, alike wherever it is
            # (square matrices stay square, sizes that must match do, most of the time)
            ns = {n for a in vals for n in np.shape(a)}
            args = [_other_sizes(a, {n: int(rng.choice([0, 1, n, n + 1])) for n in ns}, rng) for a in vals]
            shapes = [np.shape(a) for a in args]
            want, got = _outcome(values, args), _outcome(sized, args)
            if isinstance(want, BaseException) or isinstance(got, BaseException):
                if isinstance(want, BaseException) != isinstance(got, BaseException):
                    bad.append(f"{name} {shapes}: the values give {want!r:.120}, the sizes read {got!r:.120}")
                continue
            runs += 1
            k = 0
            for o, (rs, where), v in zip(outs, reads, want):
                sizes = [int(x) for x in got[k : k + len(rs)]]
                k += len(rs)
                if sizes != [np.shape(v)[d] for d in where]:
                    bad.append(
                        f"{name} {shapes}: {o.owner.op}: sizes read {sizes}, of the value {np.shape(v)}"
                    )
    assert runs >= 12, "too few argument sets ran to compare sizes"
    assert not bad, "\n".join(bad)
