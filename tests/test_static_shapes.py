"""Static shapes: where an op's output sizes follow from its inputs' static sizes, its type
says them (as PyTensor's does, or more), equal to the shape numpy's result has; and a value
of another shape at run time raises rather than passing under a wrong declared type."""

from __future__ import annotations

import numpy as np
import pytest
from fcutil import MODES

import fncache as fc
import fncache.tensor as ft
from fncache.tensor import extra_ops, fft

RNG = np.random.default_rng(0)
SHAPES = {"A": (3, 4), "B": (4, 5), "v": (4,), "w": (3,), "T": (2, 3, 4), "S": (3, 3), "F": (2, 8)}
VALUES = {k: RNG.standard_normal(s) for k, s in SHAPES.items()}


def _np_rfft(a: np.ndarray) -> np.ndarray:
    r = np.fft.rfftn(a, axes=tuple(range(1, a.ndim)))
    return np.stack([r.real, r.imag], axis=-1)


#: name -> (the graph of fncache's module ``m`` over the named inputs, numpy's result)
CASES = {
    "dot": (lambda m, i: m.dot(i["A"], i["B"]), lambda a: a["A"] @ a["B"]),
    "tensordot": (
        lambda m, i: m.tensordot(i["T"], i["B"], axes=1),
        lambda a: np.tensordot(a["T"], a["B"], 1),
    ),
    "concatenate": (
        lambda m, i: m.concatenate([i["A"], i["A"]], axis=0),
        lambda a: np.concatenate([a["A"]] * 2),
    ),
    "stack": (lambda m, i: m.stack([i["A"], i["A"]], axis=1), lambda a: np.stack([a["A"]] * 2, axis=1)),
    "reshape": (lambda m, i: m.reshape(i["T"], (-1, 4)), lambda a: a["T"].reshape(-1, 4)),
    "repeat": (lambda m, i: m.repeat(i["A"], 2, axis=1), lambda a: np.repeat(a["A"], 2, axis=1)),
    "pad": (lambda m, i: m.pad(i["A"], ((1, 2), (0, 3))), lambda a: np.pad(a["A"], ((1, 2), (0, 3)))),
    "take": (
        lambda m, i: m.take(i["A"], np.array([[0, 1], [2, 2]]), axis=1),
        lambda a: np.take(a["A"], [[0, 1], [2, 2]], axis=1),
    ),
    "einsum": (
        lambda m, i: m.einsum("...ij,jk->...ik", i["T"], i["B"]),
        lambda a: np.einsum("...ij,jk->...ik", a["T"], a["B"]),
    ),
    "sum keepdims": (
        lambda m, i: m.sum(i["A"], axis=1, keepdims=True),
        lambda a: a["A"].sum(1, keepdims=True),
    ),
    "outer": (lambda m, i: m.outer(i["v"], i["w"]), lambda a: np.outer(a["v"], a["w"])),
    "kron": (
        lambda m, i: (m.kron if m is ft else m.linalg.kron)(i["A"], i["B"]),
        lambda a: np.kron(a["A"], a["B"]),
    ),
    "tril": (lambda m, i: m.tril(i["A"], -1), lambda a: np.tril(a["A"], -1)),
    "diag of a vector": (lambda m, i: m.diag(i["v"]), lambda a: np.diag(a["v"])),
    "diag of a vector, k=2": (lambda m, i: m.diag(i["v"], 2), lambda a: np.diag(a["v"], 2)),
    "diag of a vector, k=-1": (lambda m, i: m.diag(i["w"], -1), lambda a: np.diag(a["w"], -1)),
    "diag of a matrix": (lambda m, i: m.diag(i["A"], 1), lambda a: np.diag(a["A"], 1)),
    "roll": (lambda m, i: m.roll(i["A"], 1, axis=0), lambda a: np.roll(a["A"], 1, axis=0)),
    "roll, flat": (lambda m, i: m.roll(i["T"], -5), lambda a: np.roll(a["T"], -5)),
    "roll, two axes": (
        lambda m, i: m.roll(i["T"], (1, 2), (0, 2)),
        lambda a: np.roll(a["T"], (1, 2), (0, 2)),
    ),
}
#: Functions PyTensor has under another name or not at all (compared with numpy only).
FNCACHE_ONLY = {
    "split, sizes": (
        lambda i: ft.split(i["A"], [1, 2], 2, axis=0)[1],
        lambda a: np.split(a["A"], [1], axis=0)[1],
    ),
    "split, sections": (lambda i: ft.split(i["A"], 2, axis=1)[0], lambda a: np.split(a["A"], 2, axis=1)[0]),
    "alloc_diag": (
        lambda i: extra_ops.alloc_diag(i["T"][0], 1),
        lambda a: np.stack([np.diag(r, 1) for r in a["T"][0]], axis=-1),
    ),
    "rfft": (lambda i: fft.rfft(i["F"]), lambda a: _np_rfft(a["F"])),
    "irfft of rfft": (lambda i: fft.irfft(fft.rfft(i["F"])), lambda a: a["F"]),
    "identity_like": (lambda i: extra_ops.identity_like(i["A"]), lambda a: np.eye(3, 4)),
    "fill_diagonal": (
        lambda i: ft.fill_diagonal(i["A"], 2.0),
        lambda a: np.where(np.eye(3, 4, dtype=bool), 2.0, a["A"]),
    ),
    "diagonal, k=-1": (lambda i: ft.diagonal(i["A"], -1), lambda a: np.diagonal(a["A"], -1)),
    "convolve": (lambda i: ft.convolve(i["v"], i["w"]), lambda a: np.convolve(a["v"], a["w"])),
    "convolve, same": (
        lambda i: ft.convolve(i["w"], i["v"], mode="same"),
        lambda a: np.convolve(a["w"], a["v"], mode="same"),
    ),
    "correlate": (lambda i: ft.correlate(i["v"], i["w"]), lambda a: np.correlate(a["v"], a["w"])),
    "correlate, same": (
        lambda i: ft.correlate(i["w"], i["v"], mode="same"),
        lambda a: np.correlate(a["w"], a["v"], mode="same"),
    ),
    "images2neibs": (
        lambda i: ft.nnet.neighbours.images2neibs(ft.reshape(i["T"], (1, 2, 3, 4)), (3, 2)),
        lambda a: a["T"].reshape(2, 3, 2, 2).transpose(0, 2, 1, 3).reshape(4, 6),
    ),
    "tensorinv": (
        lambda i: ft.tensorinv(ft.reshape(ft.kron(i["S"], i["S"]), (3, 3, 3, 3)), ind=2),
        lambda a: np.linalg.tensorinv(np.kron(a["S"], a["S"]).reshape(3, 3, 3, 3), ind=2),
    ),
}


def _inputs(m):
    return {k: m.tensor(name=k, dtype="float64", shape=s) for k, s in SHAPES.items()}


def _built() -> dict:
    i = _inputs(ft)
    outs = {name: build(ft, i) for name, (build, _) in CASES.items()}
    outs.update({name: build(i) for name, (build, _) in FNCACHE_ONLY.items()})
    return i, outs


def _wants() -> dict:
    wants = {name: want(VALUES) for name, (_, want) in CASES.items()}
    wants.update({name: want(VALUES) for name, (_, want) in FNCACHE_ONLY.items()})
    return wants


def test_static_shapes_are_numpys() -> None:
    _, outs = _built()
    wants = _wants()
    for name, out in outs.items():
        assert out.type.shape == wants[name].shape, (
            f"{name}: static {out.type.shape}, numpy {wants[name].shape}"
        )


def test_static_shapes_as_pytensors() -> None:
    pt = pytest.importorskip("pytensor.tensor")
    i = _inputs(pt)
    ours = _built()[1]
    compared = 0
    for name, (build, _) in CASES.items():
        try:
            theirs = build(pt, i).type.shape
        except TypeError:  # a form PyTensor does not take (roll over a tuple of axes)
            continue
        compared += 1
        assert all(b is None or a == b for a, b in zip(ours[name].type.shape, theirs)), (
            f"{name}: fncache {ours[name].type.shape}, PyTensor {theirs}"
        )
    assert compared >= len(CASES) - 2


@pytest.mark.parametrize("mode", MODES)
def test_run_time_shapes_are_the_static_ones(mode: str) -> None:
    i, outs = _built()
    f = fc.function(list(i.values()), list(outs.values()), mode=mode, on_unused_input="ignore")
    wants = _wants()
    for (name, out), got in zip(outs.items(), f(*VALUES.values())):
        assert got.shape == out.type.shape, name
        np.testing.assert_allclose(got, wants[name], rtol=1e-10, atol=1e-10, err_msg=name)
    # a value of another shape than the declared one is refused, not computed under it
    bad = dict(VALUES, v=np.ones(5), F=np.ones((2, 6)))
    with pytest.raises((ValueError, TypeError)):
        f(*bad.values())


@pytest.mark.parametrize("mode", MODES)
def test_sizes_known_only_when_run_are_checked(mode: str) -> None:
    """Constant split sizes make the pieces' static sizes whatever the axis's length: a length
    they do not cover raises; a symbolic-length roll and diag have their sizes at run time."""
    m, x = ft.dmatrix("m"), ft.dvector("x")
    pieces = ft.split(m, [1, 3], 2, axis=1)
    assert [p.type.shape for p in pieces] == [(None, 1), (None, 3)]
    f = fc.function([m, x], pieces + [ft.roll(m, 1, axis=1), ft.diag(x, 1)], mode=mode)
    mv, xv = np.arange(8.0).reshape(2, 4), np.arange(3.0)
    got = f(mv, xv)
    for g, w in zip(got, np.split(mv, [1], axis=1) + [np.roll(mv, 1, axis=1), np.diag(xv, 1)]):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="split: the sizes"):
        f(np.ones((2, 5)), xv)
