"""Static shapes across the tensor functions, from inputs whose sizes are all declared, some of
them, or none: a size the type declares is the size every run gives (a wrong one would be a
value of another shape under the variable's type); where PyTensor's type knows a size right,
fncache's knows it too; and graphs that fold a static size (``x.shape[0]`` of a declared size)
into a slice bound, a creation size or a shape compute numpy's values.

Each case is one expression written once for the three libraries: fncache (``ft``), PyTensor
(``pt``) and numpy, where the names differ through the small namespaces below."""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import fncache as fc
import fncache.tensor as ft
from fncache.graph.basic import graph_inputs


def _shapes(m: int = 3, n: int = 4, p: int = 5, b: int = 2) -> dict[str, tuple[int, ...]]:
    return {
        "A": (m, n),
        "B": (n, p),
        "T": (b, m, n),
        "S": (m, m),
        "P": (m, m),
        "Q": (b, n, n),
        "v": (n,),
        "w": (m,),
        "r": (1, n),
        "c": (m, 1),
        "I": (m, 2),
    }


def _values(seed: int = 0, **sizes: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = _shapes(**sizes)
    vals = {k: rng.standard_normal(s) for k, s in shapes.items()}
    m, n = shapes["A"]
    vals["S"] = vals["S"] + 4 * np.eye(m)  # well conditioned
    vals["P"] = vals["S"] @ vals["S"].T  # positive definite
    vals["I"] = rng.integers(0, max(n, 1), shapes["I"])
    return vals


SHAPES = _shapes()
VALUES = _values()
DTYPES = {k: "int64" if k == "I" else "float64" for k in SHAPES}


class _Lib:
    """A library's module with the names another library spells differently."""

    def __init__(self, module: Any, **names: Any) -> None:
        self._module = module
        self.__dict__.update(names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _np_split(x: np.ndarray, sizes: list[int], n: int, axis: int = 0) -> list[np.ndarray]:
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _np_rfft(a: np.ndarray, norm: str | None = None) -> np.ndarray:
    """PyTensor's rfft: numpy's over every axis but the first, real and imaginary parts stacked."""
    r = np.fft.rfftn(a, axes=tuple(range(1, a.ndim)), norm=norm)
    return np.stack([r.real, r.imag], axis=-1)


def _np_topk(x: np.ndarray, k: int, axis: int = -1) -> np.ndarray:
    return np.take(-np.sort(-x, axis=axis), np.arange(k), axis=axis)


NP = _Lib(
    np,
    lin=_Lib(
        np.linalg,
        qr=lambda a, mode="full": np.linalg.qr(a, mode="complete" if mode == "full" else mode),
        lu=scipy.linalg.lu,
        expm=scipy.linalg.expm,
        solve_triangular=scipy.linalg.solve_triangular,
        block_diag=scipy.linalg.block_diag,
    ),
    switch=np.where,
    flatten=lambda x, ndim=1: x.reshape(x.shape[: ndim - 1] + (-1,)),
    splitn=_np_split,
    logsumexp=scipy.special.logsumexp,
    topk=_np_topk,
    matvec=lambda a, b: np.einsum("...ij,...j->...i", a, b),
    vecmat=lambda a, b: np.einsum("...i,...ij->...j", a, b),
    vecdot=lambda a, b: np.sum(a * b, axis=-1),
    batched_dot=np.matmul,
    max_and_argmax=lambda x, axis: (np.max(x, axis), np.argmax(x, axis)),
    matrix_transpose=lambda a: np.swapaxes(a, -1, -2),
    shape_padleft=lambda a, n=1: a.reshape((1,) * n + a.shape),
    shape_padright=lambda a, n=1: a.reshape(a.shape + (1,) * n),
    shape_padaxis=np.expand_dims,
    alloc=lambda v, *s: np.broadcast_to(v, s).copy(),
    fft=_Lib(np.fft, rfft=_np_rfft),
    join=lambda axis, *xs: np.concatenate(xs, axis=axis),
    rng=np.random.default_rng(0),
)
FT = _Lib(ft, lin=ft.linalg, splitn=ft.split, rng=ft.random.RandomStream(0), scan=fc.scan)
PT_NAMES = {
    "splitn": lambda pt: lambda x, s, n, axis=0: pt.split(x, s, n_splits=n, axis=axis),
    "rng": lambda pt: pt.random,
    "scan": lambda pt: importlib.import_module("pytensor").scan,
    "fft": lambda pt: importlib.import_module("pytensor.tensor.fft"),
}

IDX = np.array([[0, 1], [2, 2]])
BOOLS = np.array([True, False, True])

#: name -> the expression over the inputs ``x`` (attributes A, B, ...) in library ``m``
CASES: dict[str, Callable[[Any, Any], Any]] = {
    # creation, constant arguments and sizes read from static shapes
    "arange(5)": lambda m, x: m.arange(5),
    "arange(2, 10, 3)": lambda m, x: m.arange(2, 10, 3),
    "arange(10, 2, -3)": lambda m, x: m.arange(10, 2, -3),
    "arange(0., 1., .3)": lambda m, x: m.arange(0.0, 1.0, 0.3),
    "arange(-3)": lambda m, x: m.arange(-3),
    "arange(A.shape[1])": lambda m, x: m.arange(x.A.shape[1]),
    "arange(A.shape[1] - 1)": lambda m, x: m.arange(x.A.shape[1] - 1),
    "arange(A.shape[0], 2 * A.shape[1])": lambda m, x: m.arange(x.A.shape[0], 2 * x.A.shape[1]),
    "arange(A.size)": lambda m, x: m.arange(x.A.size),
    "linspace": lambda m, x: m.linspace(0, 1, 7),
    "linspace, no endpoint": lambda m, x: m.linspace(0.0, 1.0, 5, endpoint=False),
    "geomspace": lambda m, x: m.geomspace(1, 100, 4),
    "logspace": lambda m, x: m.logspace(0, 2, 4),
    "eye(3)": lambda m, x: m.eye(3),
    "eye(3, 4, 1)": lambda m, x: m.eye(3, 4, 1),
    "eye(A.shape[0])": lambda m, x: m.eye(x.A.shape[0]),
    "eye(A.shape[1], A.shape[0])": lambda m, x: m.eye(x.A.shape[1], x.A.shape[0]),
    "eye(A.shape[0], 3, -1)": lambda m, x: m.eye(x.A.shape[0], 3, -1),
    "tri(3, 4, 1)": lambda m, x: m.tri(3, 4, 1),
    "tri(A.shape[0])": lambda m, x: m.tri(x.A.shape[0]),
    "zeros": lambda m, x: m.zeros((2, 3)),
    "ones(4)": lambda m, x: m.ones(4),
    "full": lambda m, x: m.full((2, 3), 1.5),
    "zeros_like": lambda m, x: m.zeros_like(x.A),
    "ones_like": lambda m, x: m.ones_like(x.T),
    "full_like": lambda m, x: m.full_like(x.A, 2.0),
    "zeros(A.shape)": lambda m, x: m.zeros(x.A.shape),
    "zeros(T.shape[1:])": lambda m, x: m.zeros(x.T.shape[1:]),
    "zeros(T.shape[::-1])": lambda m, x: m.zeros(x.T.shape[::-1]),
    "zeros(T.shape[-1])": lambda m, x: m.zeros(x.T.shape[-1]),
    "ones((A.shape[0], 2))": lambda m, x: m.ones((x.A.shape[0], 2)),
    "ones((2 * A.shape[1],))": lambda m, x: m.ones((x.A.shape[1] * 2,)),
    "alloc": lambda m, x: m.alloc(0.0, x.A.shape[0], 3),
    "alloc of a vector": lambda m, x: m.alloc(x.v, 3, 4),
    "shape arithmetic": lambda m, x: m.zeros(x.T.shape[1:]) + x.A.shape[0] * x.A + x.T.shape[2],
    "size": lambda m, x: x.A.sum() / x.A.size,
    # reshaping
    "reshape (6, 4)": lambda m, x: m.reshape(x.T, (6, 4)),
    "reshape (-1, 4)": lambda m, x: m.reshape(x.T, (-1, 4)),
    "reshape (2, -1)": lambda m, x: m.reshape(x.T, (2, -1)),
    "reshape (4, -1, 2)": lambda m, x: m.reshape(x.T, (4, -1, 2)),
    "reshape (-1,)": lambda m, x: m.reshape(x.A, (-1,)),
    "reshape (1, -1, 1)": lambda m, x: m.reshape(x.v, (1, -1, 1)),
    "reshape (T.shape[0], -1)": lambda m, x: m.reshape(x.T, (x.T.shape[0], -1)),
    "reshape (-1, T.shape[2])": lambda m, x: m.reshape(x.T, (-1, x.T.shape[2])),
    "reshape (A.shape[1], A.shape[0])": lambda m, x: m.reshape(x.A, (x.A.shape[1], x.A.shape[0])),
    "reshape B.shape[::-1]": lambda m, x: m.reshape(x.B, x.B.shape[::-1]),
    "method reshape": lambda m, x: x.T.reshape((3, 8)),
    "flatten": lambda m, x: m.flatten(x.T),
    "flatten 2": lambda m, x: m.flatten(x.T, 2),
    "ravel": lambda m, x: x.T.ravel(),
    "squeeze an axis": lambda m, x: m.squeeze(x.c, axis=1),
    "expand_dims": lambda m, x: m.expand_dims(x.A, 1),
    "expand_dims (0, 2)": lambda m, x: m.expand_dims(x.A, (0, 2)),
    "transpose": lambda m, x: m.transpose(x.T),
    "transpose (2, 0, 1)": lambda m, x: m.transpose(x.T, (2, 0, 1)),
    ".T": lambda m, x: x.A.T,
    "swapaxes": lambda m, x: m.swapaxes(x.T, 0, 2),
    "moveaxis": lambda m, x: m.moveaxis(x.T, 0, -1),
    "matrix_transpose": lambda m, x: m.matrix_transpose(x.T),
    "shape_padleft": lambda m, x: m.shape_padleft(x.A, 2),
    "shape_padright": lambda m, x: m.shape_padright(x.v),
    "shape_padaxis": lambda m, x: m.shape_padaxis(x.A, 1),
    "atleast_2d": lambda m, x: m.atleast_2d(x.v),
    "broadcast_to": lambda m, x: m.broadcast_to(x.v, (3, 4)),
    "broadcast_to a column": lambda m, x: m.broadcast_to(x.c, (3, 4)),
    "broadcast_to 3 dims": lambda m, x: m.broadcast_to(x.r, (2, 3, 4)),
    "broadcast_to A.shape": lambda m, x: m.broadcast_to(x.v, x.A.shape),
    "broadcast_to (3, A.shape[1])": lambda m, x: m.broadcast_to(x.c, (3, x.A.shape[1])),
    "broadcast_arrays": lambda m, x: tuple(m.broadcast_arrays(x.c, x.r)),
    # joining and splitting
    "concatenate": lambda m, x: m.concatenate([x.A, x.A], axis=0),
    "concatenate, axis 1": lambda m, x: m.concatenate([x.A, x.S], axis=1),
    "concatenate three": lambda m, x: m.concatenate([x.A, x.S, x.c], axis=-1),
    "join": lambda m, x: m.join(1, x.A, x.c, x.S),
    "stack": lambda m, x: m.stack([x.A, x.A]),
    "stack, axis -1": lambda m, x: m.stack([x.A, x.A], axis=-1),
    "hstack": lambda m, x: m.hstack([x.A, x.S]),
    "hstack of vectors": lambda m, x: m.hstack([x.v, x.w]),
    "vstack": lambda m, x: m.vstack([x.A, x.r]),
    "vstack of vectors": lambda m, x: m.vstack([x.v, x.v]),
    "dstack": lambda m, x: m.dstack([x.A, x.A]),
    "column_stack": lambda m, x: m.column_stack([x.w, x.A]),
    "split": lambda m, x: tuple(m.splitn(x.A, [1, 2], 2, axis=0)),
    "split, axis 1": lambda m, x: tuple(m.splitn(x.A, [1, 3, 0], 3, axis=1)),
    "tile": lambda m, x: m.tile(x.A, (2, 1)),
    "tile, more reps than dims": lambda m, x: m.tile(x.A, (2, 1, 3)),
    "tile an int": lambda m, x: m.tile(x.v, 2),
    "repeat": lambda m, x: m.repeat(x.A, 2, axis=1),
    "repeat a list": lambda m, x: m.repeat(x.A, [1, 2, 0], axis=0),
    "repeat flat": lambda m, x: m.repeat(x.A, 2),
    "repeat by a size": lambda m, x: m.repeat(x.A, x.A.shape[0], axis=0),
    "pad": lambda m, x: m.pad(x.A, ((1, 2), (0, 3))),
    "pad 1": lambda m, x: m.pad(x.A, 1),
    "pad edge": lambda m, x: m.pad(x.T, ((0, 0), (1, 1), (2, 0)), mode="edge"),
    "pad reflect": lambda m, x: m.pad(x.v, (2, 3), mode="reflect"),
    "roll": lambda m, x: m.roll(x.A, 1, axis=0),
    "roll flat": lambda m, x: m.roll(x.T, -5),
    "roll by a size": lambda m, x: m.roll(x.A, x.A.shape[0], axis=1),
    "flip": lambda m, x: m.flip(x.T),
    "flip (0, 2)": lambda m, x: m.flip(x.T, (0, 2)),
    # matrices
    "tril": lambda m, x: m.tril(x.A, -1),
    "triu": lambda m, x: m.triu(x.T, 1),
    "diag of a vector": lambda m, x: m.diag(x.v),
    "diag of a vector, k=2": lambda m, x: m.diag(x.v, 2),
    "diag of a matrix": lambda m, x: m.diag(x.A),
    "diag of a matrix, k=-2": lambda m, x: m.diag(x.A, -2),
    "diag of a matrix, k=9": lambda m, x: m.diag(x.A, 9),
    "diagonal": lambda m, x: m.diagonal(x.T, 0, 1, 2),
    "diagonal, k=1 (0, 2)": lambda m, x: m.diagonal(x.T, 1, 0, 2),
    "diagonal, k=-1": lambda m, x: m.diagonal(x.A, -1),
    "trace": lambda m, x: m.trace(x.A),
    "trace, offset": lambda m, x: m.trace(x.T, 1, 1, 2),
    "kron": lambda m, x: m.kron(x.A, x.B),
    "kron 3 dims": lambda m, x: m.kron(x.T, x.A),
    "outer": lambda m, x: m.outer(x.v, x.w),
    "outer of a matrix": lambda m, x: m.outer(x.A, x.w),
    "dot": lambda m, x: m.dot(x.A, x.B),
    "dot vector matrix": lambda m, x: m.dot(x.v, x.B),
    "dot matrix vector": lambda m, x: m.dot(x.A, x.v),
    "dot vectors": lambda m, x: m.dot(x.v, x.v),
    "dot 3 dims": lambda m, x: m.dot(x.T, x.B),
    "matmul": lambda m, x: m.matmul(x.T, x.B),
    "matmul stacks": lambda m, x: m.matmul(x.Q, x.T.transpose(0, 2, 1)),
    "matmul vector matrix": lambda m, x: m.matmul(x.v, x.B),
    "@": lambda m, x: x.A @ x.B,
    "matvec": lambda m, x: m.matvec(x.T, x.v),
    "vecmat": lambda m, x: m.vecmat(x.w, x.T),
    "vecdot": lambda m, x: m.vecdot(x.T, x.r),
    "batched_dot": lambda m, x: m.batched_dot(x.T, x.Q),
    "tensordot 1": lambda m, x: m.tensordot(x.T, x.B, 1),
    "tensordot 2": lambda m, x: m.tensordot(x.T, x.A, [[1, 2], [0, 1]]),
    "tensordot 0": lambda m, x: m.tensordot(x.v, x.w, 0),
    "einsum ij,jk": lambda m, x: m.einsum("ij,jk->ik", x.A, x.B),
    "einsum ii->i": lambda m, x: m.einsum("ii->i", x.S),
    "einsum ij->": lambda m, x: m.einsum("ij->", x.A),
    "einsum bij,bjk": lambda m, x: m.einsum("bij,bjk->bik", x.T, x.Q),
    "einsum i,j->ji": lambda m, x: m.einsum("i,j->ji", x.v, x.w),
    # basic indexing: constant bounds and steps of both signs, bounds read from static sizes
    "A[1:3]": lambda m, x: x.A[1:3],
    "A[::-1]": lambda m, x: x.A[::-1],
    "A[::2]": lambda m, x: x.A[::2],
    "A[::-2]": lambda m, x: x.A[::-2],
    "A[-1:0:-2]": lambda m, x: x.A[-1:0:-2],
    "A[1:]": lambda m, x: x.A[1:],
    "A[:-1]": lambda m, x: x.A[:-1],
    "A[5:]": lambda m, x: x.A[5:],
    "A[2:1]": lambda m, x: x.A[2:1],
    "A[1:100]": lambda m, x: x.A[1:100],
    "A[-100:2]": lambda m, x: x.A[-100:2],
    "A[:, 1:3]": lambda m, x: x.A[:, 1:3],
    "A[:, -3:]": lambda m, x: x.A[:, -3:],
    "A[:, ::-3]": lambda m, x: x.A[:, ::-3],
    "A[:, 3:0:-2]": lambda m, x: x.A[:, 3:0:-2],
    "A[:, -2::-1]": lambda m, x: x.A[:, -2::-1],
    "A[:, :-5:-1]": lambda m, x: x.A[:, :-5:-1],
    "A[:, 10:-10:-1]": lambda m, x: x.A[:, 10:-10:-1],
    "A[:, 1:1]": lambda m, x: x.A[:, 1:1],
    "A[::-1][1:-1]": lambda m, x: x.A[::-1][1:-1],
    "v[1:-1:2]": lambda m, x: x.v[1:-1:2],
    "T[:, ::-2, 1]": lambda m, x: x.T[:, ::-2, 1],
    "A[1]": lambda m, x: x.A[1],
    "A[-1, :]": lambda m, x: x.A[-1, :],
    "A[None]": lambda m, x: x.A[None],
    "A[..., None]": lambda m, x: x.A[..., None],
    "T[..., 1]": lambda m, x: x.T[..., 1],
    "T[1, ..., ::2]": lambda m, x: x.T[1, ..., ::2],
    "A[:, None, 1:]": lambda m, x: x.A[:, None, 1:],
    "A[:A.shape[0] - 1]": lambda m, x: x.A[: x.A.shape[0] - 1],
    "A[A.shape[0] - 2:]": lambda m, x: x.A[x.A.shape[0] - 2 :],
    "A[::A.shape[0] - 1]": lambda m, x: x.A[:: x.A.shape[0] - 1],
    "A[:, A.shape[1] - 1]": lambda m, x: x.A[:, x.A.shape[1] - 1],
    "A[-A.shape[0]:, 1 - A.shape[1]::-1]": lambda m, x: x.A[-x.A.shape[0] :, 1 - x.A.shape[1] :: -1],
    "set_subtensor": lambda m, x: (
        np.concatenate([x.A[:1], 0 * x.A[1:]]) if m is NP else m.set_subtensor(x.A[1:], 0.0)
    ),
    # advanced indexing: constant index arrays and int inputs
    "A[[0, 2, 2]]": lambda m, x: x.A[[0, 2, 2]],
    "A[:, [1, 3]]": lambda m, x: x.A[:, [1, 3]],
    "A[[0, 1], [1, 2]]": lambda m, x: x.A[[0, 1], [1, 2]],
    "A[IDX]": lambda m, x: x.A[IDX],
    "A[IDX, 1:]": lambda m, x: x.A[IDX, 1:],
    "T[:, [0, 2], 1:3]": lambda m, x: x.T[:, [0, 2], 1:3],
    "T[[0, 1], :, [1, 2]]": lambda m, x: x.T[[0, 1], :, [1, 2]],
    "T[:, [[0], [2]], [1, 2, 3]]": lambda m, x: x.T[:, [[0], [2]], [1, 2, 3]],
    "A[mask]": lambda m, x: x.A[BOOLS],
    "A[I]": lambda m, x: x.A[x.I % x.A.shape[0]],
    "A[:, I]": lambda m, x: x.A[:, x.I],
    "A[I, I]": lambda m, x: x.A[x.I % x.A.shape[0], x.I],
    "take": lambda m, x: m.take(x.A, IDX, axis=1),
    "take flat": lambda m, x: m.take(x.A, [1, 2, 5]),
    "take an int": lambda m, x: m.take(x.A, 2, axis=0),
    "take I": lambda m, x: m.take(x.T, x.I, axis=2),
    "take_along_axis": lambda m, x: m.take_along_axis(x.A, x.I, axis=1),
    "take_along_axis, constant": lambda m, x: m.take_along_axis(x.A, np.array([[0], [1], [3]]), axis=1),
    "take_along_axis, broadcast": lambda m, x: m.take_along_axis(x.T, x.I[None, :1, :], axis=2),
    "take_along_axis, axis 0": lambda m, x: m.take_along_axis(x.A, x.I.T[:, :1] % x.A.shape[0], axis=0),
    # sorting
    "argmax": lambda m, x: m.argmax(x.A, axis=1),
    "argmax flat": lambda m, x: m.argmax(x.A),
    "argmin keepdims": lambda m, x: m.argmin(x.A, axis=0, keepdims=True),
    "max_and_argmax": lambda m, x: tuple(m.max_and_argmax(x.T, axis=1)),
    "sort": lambda m, x: m.sort(x.A, axis=0),
    "sort flat": lambda m, x: m.sort(x.A, axis=None),
    "argsort": lambda m, x: m.argsort(x.T, axis=1),
    "argsort flat": lambda m, x: m.argsort(x.A, axis=None),
    "topk": lambda m, x: m.topk(x.T, 2, axis=1),
    "searchsorted": lambda m, x: m.searchsorted(m.sort(x.v), x.A),
    # reductions and scans
    "sum": lambda m, x: m.sum(x.A),
    "sum 0": lambda m, x: m.sum(x.A, axis=0),
    "sum keepdims": lambda m, x: m.sum(x.A, axis=1, keepdims=True),
    "sum (0, 2)": lambda m, x: m.sum(x.T, axis=(0, 2)),
    "sum (0, 2) keepdims": lambda m, x: m.sum(x.T, axis=(0, 2), keepdims=True),
    "method sum": lambda m, x: x.T.sum(axis=-1),
    "mean": lambda m, x: m.mean(x.T, axis=1),
    "mean keepdims": lambda m, x: m.mean(x.T, keepdims=True),
    "max": lambda m, x: m.max(x.A, axis=0),
    "min keepdims": lambda m, x: m.min(x.A, axis=1, keepdims=True),
    "prod": lambda m, x: m.prod(x.T, axis=(1,)),
    "std": lambda m, x: m.std(x.A, axis=0),
    "var keepdims": lambda m, x: m.var(x.T, axis=(0, 1), keepdims=True),
    "any": lambda m, x: m.any(x.A > 0, axis=1),
    "all": lambda m, x: m.all(x.A > 0, axis=0, keepdims=True),
    "logsumexp": lambda m, x: m.logsumexp(x.T, axis=1),
    "ptp": lambda m, x: m.ptp(x.A, axis=1),
    "median": lambda m, x: m.median(x.T, axis=1),
    "cumsum": lambda m, x: m.cumsum(x.A, axis=0),
    "cumsum flat": lambda m, x: m.cumsum(x.T),
    "cumprod": lambda m, x: m.cumprod(x.A, axis=1),
    "diff": lambda m, x: m.diff(x.A),
    "diff 2, axis 0": lambda m, x: m.diff(x.A, 2, axis=0),
    "diff past the length": lambda m, x: m.diff(x.v, 5),
    "diff 0": lambda m, x: m.diff(x.A, 0),
    # elementwise and broadcasting
    "where": lambda m, x: m.where(x.A > 0, x.A, 0),
    "where, broadcast": lambda m, x: m.where(x.c > 0, x.A, x.r),
    "where of a vector": lambda m, x: m.where(x.c > 0, x.v, 1.0),
    "switch": lambda m, x: m.switch(x.c > 0, x.r, x.T),
    "clip": lambda m, x: m.clip(x.A, -0.5, 0.5),
    "clip, broadcast": lambda m, x: m.clip(x.c, x.r, 1.0),
    "maximum": lambda m, x: m.maximum(x.A, x.r),
    "A + c": lambda m, x: x.A + x.c,
    "A + v": lambda m, x: x.A + x.v,
    "c + r": lambda m, x: x.c + x.r,
    "T + A": lambda m, x: x.T + x.A,
    "T - c": lambda m, x: x.T - x.c,
    "exp": lambda m, x: m.exp(x.T),
    "stack of a broadcast": lambda m, x: m.stack([x.A, x.c + x.r]),
    "concatenate a broadcast": lambda m, x: m.concatenate([x.A, x.c * x.r], axis=1),
    "where of a column and a row": lambda m, x: m.where(x.A > 0, x.c, x.r),
    "full of sizes": lambda m, x: m.full((x.A.shape[0], x.B.shape[1]), 1.0),
    "rfft": lambda m, x: m.fft.rfft(x.T),
    "rfft of a matrix": lambda m, x: m.fft.rfft(x.A, norm="ortho"),
    # linear algebra
    "inv": lambda m, x: m.lin.inv(x.S),
    "inv of a stack": lambda m, x: m.lin.inv(x.Q + 5 * m.eye(4)),
    "det": lambda m, x: m.lin.det(x.S),
    "det of a stack": lambda m, x: m.lin.det(x.Q),
    "solve": lambda m, x: m.lin.solve(x.S, x.A),
    "solve a vector": lambda m, x: m.lin.solve(x.S, x.w),
    "solve a stack": lambda m, x: m.lin.solve(x.Q + 5 * m.eye(4), x.T.transpose(0, 2, 1)),
    "solve_triangular": lambda m, x: m.lin.solve_triangular(x.S, x.A, lower=True),
    "cholesky": lambda m, x: m.lin.cholesky(x.P),
    "qr": lambda m, x: tuple(m.lin.qr(x.A.T)),
    "qr reduced": lambda m, x: tuple(m.lin.qr(x.A.T, mode="reduced")),
    "qr of a wide matrix": lambda m, x: tuple(m.lin.qr(x.A)),
    "svd": lambda m, x: tuple(m.lin.svd(x.A)),
    "svd thin": lambda m, x: tuple(m.lin.svd(x.A, full_matrices=False)),
    "svd values": lambda m, x: m.lin.svd(x.B, compute_uv=False),
    "eigh": lambda m, x: m.lin.eigh(x.P)[0],
    "eigvalsh": lambda m, x: m.lin.eigvalsh(x.P),
    "lu": lambda m, x: tuple(m.lin.lu(x.A)),
    "lu of a tall matrix": lambda m, x: tuple(m.lin.lu(x.A.T)),
    "expm": lambda m, x: m.lin.expm(x.S),
    "block_diag": lambda m, x: m.lin.block_diag(x.A, x.S, x.v[None]),
    "pinv": lambda m, x: m.lin.pinv(x.A),
    "pinv of a stack": lambda m, x: m.lin.pinv(x.T),
    "norm": lambda m, x: m.lin.norm(x.A),
    "norm, axis": lambda m, x: m.lin.norm(x.T, axis=1),
    "nuclear norm": lambda m, x: m.lin.norm(x.A, "nuc"),
    "matrix_power": lambda m, x: m.lin.matrix_power(x.S, 3),
    "slogdet": lambda m, x: tuple(m.lin.slogdet(x.S)),
    "tensorinv": lambda m, x: m.lin.tensorinv(m.reshape(m.kron(x.S, x.S), (3, 3, 3, 3)), ind=2),
    # loops: the rows of a sequence of static length are the steps'
    "scan over rows": lambda m, x: (
        np.cumsum(x.A, axis=0) + x.v
        if m is NP
        else m.scan(lambda row, acc: acc + row, sequences=x.A, outputs_info=x.v)[0]
    ),
    "scan over rows, taps": lambda m, x: (
        x.A[:-2] + x.A[2:]
        if m is NP
        else m.scan(lambda a, b: a + b, sequences=dict(input=x.A, taps=[-1, 1]))[0]
    ),
    "scan of n_steps": lambda m, x: (
        x.v * 2.0 ** np.arange(1, 4)[:, None]
        if m is NP
        else m.scan(lambda acc: acc * 2, outputs_info=x.v, n_steps=3)[0]
    ),
    # random draws (their values are other numbers than numpy's: only their shapes compare)
    "random normal": lambda m, x: m.rng.normal(x.A, 1.0),
    "random normal, broadcast": lambda m, x: m.rng.normal(x.c, m.exp(x.r)),
    "random normal, size": lambda m, x: m.rng.normal(0.0, 1.0, size=(2, 3)),
    "random normal, size A.shape": lambda m, x: m.rng.normal(0.0, 1.0, size=x.A.shape),
    "random normal, size (A.shape[0], 2)": lambda m, x: m.rng.normal(0.0, 1.0, size=(x.A.shape[0], 2)),
    "random normal, size of a vector": lambda m, x: m.rng.normal(x.v, 1.0, size=(3, x.A.shape[1])),
    "random uniform": lambda m, x: m.rng.uniform(0.0, 1.0, size=(x.A.shape[1],)),
    "random binomial": lambda m, x: m.rng.binomial(5, 0.5, size=x.T.shape),
    "random poisson": lambda m, x: m.rng.poisson(m.exp(x.T)),
    "random integers": lambda m, x: m.rng.integers(0, 5, size=(2, 3)),
    "random choice": lambda m, x: m.rng.choice(x.v, size=(2,)),
    "random permutation": lambda m, x: m.rng.permutation(5),
    "random permutation of rows": lambda m, x: m.rng.permutation(x.A),
    "random multinomial": lambda m, x: m.rng.multinomial(3, [0.5, 0.5], size=(x.A.shape[0],)),
    "random dirichlet": lambda m, x: m.rng.dirichlet(x.v**2 + 1.0, size=(x.A.shape[0],)),
    "random multivariate_normal": lambda m, x: m.rng.multivariate_normal(x.v, m.eye(4), size=(x.A.shape[0],)),
}

#: Which inputs' sizes are declared: all, none, every other dim of each input (two ways), or
#: every other input whole (two ways)
VARIANTS = ("static", "unknown", "even dims", "odd dims", "even inputs", "odd inputs")


def _declared(variant: str) -> dict[str, tuple[int | None, ...]]:
    out = {}
    for j, (name, shape) in enumerate(SHAPES.items()):
        if variant.endswith("dims"):
            keep = 1 if variant == "even dims" else 0
            out[name] = tuple(s if d % 2 == keep else None for d, s in enumerate(shape))
        elif variant.endswith("inputs"):
            out[name] = shape if j % 2 == (variant == "odd inputs") else (None,) * len(shape)
        else:
            out[name] = shape if variant == "static" else (None,) * len(shape)
    return out


class _Inputs:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _build(m: Any, tensor: Callable[..., Any], variant: str) -> tuple[dict, dict[str, list]]:
    ins = {k: tensor(name=k, dtype=DTYPES[k], shape=s) for k, s in _declared(variant).items()}
    return ins, {name: _outputs(case(m, _Inputs(ins))) for name, case in CASES.items()}


def _numpy(values: dict[str, np.ndarray]) -> dict[str, list[np.ndarray] | None]:
    """numpy's results (None where numpy raises for these values' shapes)."""
    out: dict[str, list[np.ndarray] | None] = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for name, case in CASES.items():
            try:
                out[name] = [np.asarray(r) for r in _outputs(case(NP, _Inputs(values)))]
            except (ValueError, IndexError, np.linalg.LinAlgError):
                out[name] = None
    return out


WANTS = _numpy(VALUES)
#: Values of other sizes (where the declared ones allow them), numpy's results for them
OTHER_SIZES = ({"m": 1}, {"n": 1}, {"m": 5, "n": 2}, {"b": 1, "p": 1}, {"m": 0})
OTHERS = [(_shapes(**sizes), _values(1, **sizes)) for sizes in OTHER_SIZES]
OTHER_WANTS = [_numpy(values) for _, values in OTHERS]


def _fits(static: tuple, shape: tuple) -> bool:
    return len(static) == len(shape) and all(s is None or s == n for s, n in zip(static, shape))


def test_numpy_computes_every_case() -> None:
    assert [name for name, want in WANTS.items() if want is None] == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_static_sizes_are_numpys(variant: str) -> None:
    _, ours = _build(FT, ft.tensor, variant)
    wrong = [
        f"{name}[{k}]: declares {out.type.shape}, numpy gives {WANTS[name][k].shape}"
        for name, outs in ours.items()
        for k, out in enumerate(outs)
        if not _fits(out.type.shape, WANTS[name][k].shape)
    ]
    assert not wrong, "\n".join(wrong)


#: Sizes PyTensor declares that its own runs contradict, where the values above do not show it
PYTENSOR_WRONG = {
    # a recurrent output's step has its initial value's shape: PyTensor declares the step's
    # static size (4 for a (None, 4) sequence's rows), but zero steps from an initial value
    # of length 1 give a (0, 1) result
    "scan over rows",
}


# PyTensor's types know no more from inputs of no declared sizes than from constants, and
# from half the inputs declared no more than from all or every other dim
@pytest.mark.parametrize("variant", ["static", "even dims", "odd dims"])
def test_static_sizes_are_pytensors(variant: str) -> None:
    """Every size PyTensor declares right (numpy's), fncache declares too."""
    pt = pytest.importorskip("pytensor.tensor")
    _, ours = _build(FT, ft.tensor, variant)
    ptlib = _Lib(pt, lin=pt.linalg, kron=pt.linalg.kron, **{k: f(pt) for k, f in PT_NAMES.items()})
    declared = _declared(variant)

    def fitting(shapes: dict, outs: list) -> bool:
        """Whether the inputs ``outs`` read have room for values of ``shapes``."""
        read = {v.name for v in graph_inputs(outs)}
        return all(_fits(declared[k], shape) for k, shape in shapes.items() if k in read)

    theirs_in = _Inputs({k: pt.tensor(name=k, dtype=DTYPES[k], shape=s) for k, s in declared.items()})
    less, compared = [], 0
    for name, outs in ours.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = [o.type.shape for o in _outputs(CASES[name](ptlib, theirs_in))]
        except (AttributeError, TypeError, NotImplementedError, ValueError):
            continue  # a function PyTensor has not, or not in this form
        compared += 1
        if name in PYTENSOR_WRONG or all(s is None for shape in theirs for s in shape):
            continue
        # PyTensor's size where numpy's result has it for every value the declared sizes allow
        # (PyTensor declares some sizes its runs contradict: lu's of a matrix of unknown width)
        results = [WANTS[name]] + [
            w[name] for (shapes, _), w in zip(OTHERS, OTHER_WANTS) if fitting(shapes, outs)
        ]
        for k, (out, shape) in enumerate(zip(outs, theirs)):
            right = [
                s if all(r is None or r[k].shape[d] == s for r in results) else None
                for d, s in enumerate(shape)
            ]
            if any(s is not None and s != o for s, o in zip(right, out.type.shape)):
                less.append(f"{name}[{k}]: fncache {out.type.shape}, PyTensor {shape}")
    assert not less, "\n".join(less)
    assert compared >= len(CASES) * 3 // 4


def _check_run(variant: str, mode: str, skip: str = "") -> None:
    ins, outs = _build(FT, ft.tensor, variant)
    outs = {name: os for name, os in outs.items() if not (skip and name.startswith(skip))}
    names = [(name, k) for name, os in outs.items() for k in range(len(os))]
    flat = [o for os in outs.values() for o in os]
    f = fc.function(list(ins.values()), flat, mode=mode, on_unused_input="ignore")
    got = f(*[VALUES[k] for k in ins])
    bad = []
    for (name, k), out, g in zip(names, flat, got):
        bad.extend(_mismatch(f"{name}[{k}]", out, g, WANTS[name][k]))
    assert not bad, "\n".join(bad)


def _mismatch(what: str, out: Any, got: np.ndarray, want: np.ndarray) -> list[str]:
    """What is wrong with the run's value ``got`` of ``out``: a shape its type does not
    declare, or another value than numpy's."""
    if not _fits(out.type.shape, got.shape):
        return [f"{what}: declares {out.type.shape}, the run gives {got.shape}"]
    if got.shape != want.shape or (
        not what.startswith("random") and not np.allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)
    ):
        return [f"{what}: {got.shape} {got.ravel()[:4]}, numpy {want.shape} {want.ravel()[:4]}"]
    return []


@pytest.mark.parametrize("variant", ["static", "unknown", "odd dims"])
def test_runs_give_the_static_sizes_and_numpys_values(variant: str) -> None:
    _check_run(variant, "FAST_COMPILE")


def test_compiled_c_gives_the_static_sizes_and_numpys_values() -> None:
    """The C linker, from inputs half of them declared (its kernels specialize on static sizes);
    without the loops, whose steps compile one library each."""
    _check_run("even inputs", "FAST_RUN", skip="scan")


#: Cases left out of runs on other sizes: fncache's split checks that its sizes cover the
#: axis (numpy's split takes indices and does not); median and logsumexp over an empty axis
#: raise in fncache (the max they take of no values), where numpy's median gives nan and
#: scipy's and PyTensor's logsumexp -inf; scipy's lu of a matrix of no columns gives a (0, 0)
#: permutation matrix (of 4 rows, fncache's is the (4, 4) identity, which ``P @ L @ U`` needs)
OTHER_SIZES_DIFFER = {"split", "split, axis 1", "median", "logsumexp", "lu of a tall matrix"}


def test_sizes_known_only_when_run_hold_for_every_size() -> None:
    """From inputs of unknown sizes, a size the type declares anyway (a constant slice's, a
    creation's) holds for values of every size, and the results are numpy's."""
    names = [n for n in CASES if n not in OTHER_SIZES_DIFFER and all(w[n] is not None for w in OTHER_WANTS)]
    assert len(names) > len(CASES) * 3 // 4
    ins, outs = _build(FT, ft.tensor, "unknown")
    flat = [(name, k, o) for name in names for k, o in enumerate(outs[name])]
    f = fc.function(
        list(ins.values()), [o for _, _, o in flat], mode="FAST_COMPILE", on_unused_input="ignore"
    )
    bad = []
    for (_, values), wants in zip(OTHERS, OTHER_WANTS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # means of no values, as numpy's
            got = f(*[values[i] for i in ins])
        for (name, k, out), g in zip(flat, got):
            bad.extend(_mismatch(f"{name}[{k}]", out, g, wants[name][k]))
    assert not bad, "\n".join(bad)


def test_negative_sizes_read_from_static_sizes_name_the_function() -> None:
    """A size or count known when the graph is built is refused as a constant one is, naming
    the function (not a negative static shape's ``TensorType`` error when compiling)."""
    x = ft.tensor("x", dtype="float64", shape=(3,))
    with pytest.raises(ValueError, match="^eye: n must not be negative, got -2"):
        ft.eye(x.shape[0] - 5)
    with pytest.raises(ValueError, match="^repeat: repeats must not be negative, got -2"):
        ft.repeat(x, x.shape[0] - 5)
    with pytest.raises(ValueError, match="^normal: size .* has a negative entry"):
        ft.random.RandomStream(0).normal(size=(x.shape[0] - 5,))
