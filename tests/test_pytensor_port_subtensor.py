"""The numeric cases of PyTensor's ``tests/tensor/test_subtensor.py``, ``test_shape.py``,
``test_sort.py`` and ``test_basic.py`` (indexing, writing into regions, shapes, sorting and
building arrays), written again for fncache and checked against numpy: values, dtypes and
shapes, compiled to C (``FAST_RUN``) and under the Python linker (``FAST_COMPILE``); the
IndexError of an index out of bounds in both; and the gradients PyTensor checks against
central finite differences.

The cases the earlier ports cover (``test_advanced_indexing.py``, ``test_set_subtensor.py``,
``test_shape_index.py``, ``test_pytensor_port*.py``) are not repeated: these are the
combinations they leave out: repeated and negative indices of small integer dtypes, index
arrays broadcast against each other, advanced indices apart from each other or beside an
integer, ``None`` and ``...``; writes into regions that overlap the written value, chained
writes and an input also read elsewhere; NaN, -0.0 and ties in sorts; symbolic sizes, offsets
and axes of the array builders.

Each table is one function per mode (one compile), every case its outputs; the cases are
parametrized over that shared function.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, as_list, assert_same, fd_check_grads, on_slice, symbolic_like

#: (builder on the symbolic inputs, numpy reference on the values, the values).
Case = tuple[Callable[..., Any], Callable[..., Any], tuple]

_RNG = np.random.default_rng(0)
A = _RNG.normal(size=(4, 5))
V = _RNG.normal(size=7)
T3 = _RNG.normal(size=(3, 4, 5))
IDX = np.array([2, 0, 2, -1])  # repeated and negative
J = np.array([1, 3, 4])
B = A > 0
I8 = np.array([-1, 2, -7, 0], dtype="int8")
U8 = np.array([6, 0, 3], dtype="uint8")
NANS = np.array([3.0, np.nan, 1.0, -np.inf, np.nan, 2.0, np.inf, 0.0])
ZEROS = np.array([0.0, -0.0, np.nan, 0.0, -0.0, -1.0, np.nan, 1.0])
TIES = np.array([1, 0, 1, 0, 1, 1, 0, 2, 0] * 3, dtype="int16")


def _set(x: np.ndarray, idx: Any, y: Any) -> np.ndarray:
    x = x.copy()
    x[idx] = y
    return x


def _inc(x: np.ndarray, idx: Any, y: Any) -> np.ndarray:
    """``inc_subtensor``'s meaning: every occurrence of a repeated index adds."""
    x = x.copy()
    np.add.at(x, idx, np.array(y, copy=True))
    return x


def _fill_diagonal(x: np.ndarray, v: Any) -> np.ndarray:
    x = x.copy()
    np.fill_diagonal(x, v)
    return x


def _split_at(sizes: np.ndarray) -> np.ndarray:
    return np.cumsum(sizes)[:-1]


_ALL = slice(None)

INDEXING: dict[str, Case] = {
    "x[::-2]": (lambda x: x[::-2], lambda x: x[::-2], (V,)),
    "x[5:1:-2]": (lambda x: x[5:1:-2], lambda x: x[5:1:-2], (V,)),
    "x[10:-10:-3]": (lambda x: x[10:-10:-3], lambda x: x[10:-10:-3], (V,)),
    "x[-100:100:3]": (lambda x: x[-100:100:3], lambda x: x[-100:100:3], (V,)),
    "x[5:2]": (lambda x: x[5:2], lambda x: x[5:2], (V,)),
    "x[..., 1]": (lambda x: x[..., 1], lambda x: x[..., 1], (T3,)),
    "x[None, ..., None, 1]": (lambda x: x[None, ..., None, 1], lambda x: x[None, ..., None, 1], (T3,)),
    "x[-1, -2]": (lambda x: x[-1, -2], lambda x: x[-1, -2], (A,)),
    "x[i] repeated": (lambda x, i: x[i], lambda x, i: x[i], (A, IDX)),
    "x[i, i]": (lambda x, i: x[i, i], lambda x, i: x[i, i], (A, IDX)),
    "x[:, i]": (lambda x, i: x[:, i], lambda x, i: x[:, i], (A, IDX)),
    "x[i, :, j] apart": (lambda x, i: x[i[:2], :, i[1:3]], lambda x, i: x[i[:2], :, i[1:3]], (T3, IDX)),
    "x[i, 1:3, j] apart": (lambda x, i: x[i[:3], 1:3, i[1:]], lambda x, i: x[i[:3], 1:3, i[1:]], (T3, IDX)),
    "x[matrix]": (lambda x, i: x[i.reshape((2, 2))], lambda x, i: x[i.reshape((2, 2))], (V, IDX)),
    "x[i[:, None], j[None, :]]": (
        lambda x, i, j: x[i[:, None], j[None, :]],
        lambda x, i, j: x[i[:, None], j[None, :]],
        (A, IDX, J),
    ),
    "x[None, i]": (lambda x, i: x[None, i], lambda x, i: x[None, i], (A, IDX)),
    "x[i, None, 1:]": (lambda x, i: x[i, None, 1:], lambda x, i: x[i, None, 1:], (A, IDX)),
    "x[1, :, i]": (lambda x, i: x[1, :, i], lambda x, i: x[1, :, i], (T3, IDX)),
    "x[i, 1]": (lambda x, i: x[i, 1], lambda x, i: x[i, 1], (T3, IDX)),
    "x[:, i, 1]": (lambda x, i: x[:, i, 1], lambda x, i: x[:, i, 1], (T3, IDX)),
    "x[..., i]": (lambda x, i: x[..., i], lambda x, i: x[..., i], (T3, IDX)),
    "x[i[0], i]": (lambda x, i: x[i[0], i], lambda x, i: x[i[0], i], (A, IDX)),
    "x[bool matrix]": (lambda x, b: x[b], lambda x, b: x[b], (A, B)),
    "x[bool rows]": (lambda x, b: x[b[:, 0]], lambda x, b: x[b[:, 0]], (A, B)),
    "x[:, bool cols]": (lambda x, b: x[:, b[0]], lambda x, b: x[:, b[0]], (A, B)),
    "x[int8 negative]": (lambda x, i: x[i], lambda x, i: x[i], (V, I8)),
    "x[uint8]": (lambda x, i: x[i], lambda x, i: x[i], (V, U8)),
    "x[int8 scalar]": (lambda x, i: x[i[0]], lambda x, i: x[i[0]], (V, I8)),
    "x[a:b:c] int8": (lambda x, i: x[i[2] : i[0] : i[1]], lambda x, i: x[i[2] : i[0] : i[1]], (V, I8)),
    "x[a:b:-c] int8": (lambda x, i: x[i[0] : i[2] : -i[1]], lambda x, i: x[i[0] : i[2] : -i[1]], (V, I8)),
    "x[a:b] uint8": (lambda x, i: x[i[1] : i[0]], lambda x, i: x[i[1] : i[0]], (V, U8)),
    "x[i - 7] negative": (lambda x, i: x[i - 7], lambda x, i: x[i - 7], (V, np.array([0, 3, 6]))),
    "take axis=-1": (lambda x, i: ft.take(x, i, axis=-1), lambda x, i: np.take(x, i, axis=-1), (A, IDX)),
    "take flat": (lambda x, i: ft.take(x, i), lambda x, i: np.take(x, i), (A, IDX)),
    "take wrap": (
        lambda x, i: ft.take(x, i, mode="wrap"),
        lambda x, i: np.take(x, i, mode="wrap"),
        (V, np.array([-9, 8, 20])),
    ),
    "take clip": (
        lambda x, i: ft.take(x, i, axis=0, mode="clip"),
        lambda x, i: np.take(x, i, 0, mode="clip"),
        (A, np.array([-9, 8, 2])),
    ),
    "take_along_axis broadcast": (
        lambda x, i: ft.take_along_axis(x, i, axis=1),
        lambda x, i: np.take_along_axis(x, i, 1),
        (A, np.array([[0, 4]])),
    ),
    "take_along_axis None": (
        lambda x, i: ft.take_along_axis(x, i, axis=None),
        lambda x, i: np.take_along_axis(x, i, None),
        (A, np.array([0, 19, -1])),
    ),
}

WRITES: dict[str, Case] = {
    "set x[i] repeated (last wins)": (
        lambda x, i, y: ft.set_subtensor(x[i], y[:4]),
        lambda x, i, y: _set(x, i, y[:4]),
        (V, IDX, V * 3),
    ),
    "inc x[i] repeated": (lambda x, i: ft.inc_subtensor(x[i], 1.0), lambda x, i: _inc(x, i, 1.0), (V, IDX)),
    "inc x[i] rows": (lambda x, i: ft.inc_subtensor(x[i], x[0]), lambda x, i: _inc(x, i, x[0]), (A, IDX)),
    "inc x[:, i]": (
        lambda x, i: ft.inc_subtensor(x[:, i], 2.0),
        lambda x, i: _inc(x, (_ALL, i), 2.0),
        (A, IDX),
    ),
    "inc x[:, i] vector": (
        lambda x, i, y: ft.inc_subtensor(x[:, i], y[:4]),
        lambda x, i, y: _inc(x, (_ALL, i), y[:4]),
        (A, IDX, V),
    ),
    "inc x[i, i[::-1]]": (
        lambda x, i: ft.inc_subtensor(x[i, i[::-1]], 1.0),
        lambda x, i: _inc(x, (i, i[::-1]), 1.0),
        (A, IDX),
    ),
    "inc x[i[:, None], j[None, :]]": (
        lambda x, i, j: ft.inc_subtensor(x[i[:, None], j[None, :]], 1.0),
        lambda x, i, j: _inc(x, (i[:, None], j[None, :]), 1.0),
        (A, IDX, J),
    ),
    "inc x[:, i, 1]": (
        lambda x, i: ft.inc_subtensor(x[:, i, 1], 1.0),
        lambda x, i: _inc(x, (_ALL, i, 1), 1.0),
        (T3, IDX),
    ),
    "inc x[i, 1:3, j] apart": (
        lambda x, i: ft.inc_subtensor(x[i[:3], 1:3, i[1:]], 1.0),
        lambda x, i: _inc(x, (i[:3], slice(1, 3), i[1:]), 1.0),
        (T3, IDX),
    ),
    "set x[i, :, j] apart, broadcast": (
        lambda x, i, y: ft.set_subtensor(x[i[:2], :, i[1:3]], y[:4]),
        lambda x, i, y: _set(x, (i[:2], _ALL, i[1:3]), y[:4]),
        (T3, IDX, V),
    ),
    "inc x[..., i]": (
        lambda x, i: ft.inc_subtensor(x[..., i], 1.0),
        lambda x, i: _inc(x, (Ellipsis, i), 1.0),
        (T3, IDX),
    ),
    "inc x[int8 negative]": (lambda x, i: ft.inc_subtensor(x[i], 1.0), lambda x, i: _inc(x, i, 1.0), (V, I8)),
    "inc x[::-2]": (
        lambda x: ft.inc_subtensor(x[::-2], 1.0),
        lambda x: _inc(x, slice(None, None, -2), 1.0),
        (V,),
    ),
    "set x[5:0:-2]": (
        lambda x: ft.set_subtensor(x[5:0:-2], x[:3]),
        lambda x: _set(x, slice(5, 0, -2), x[:3]),
        (V,),
    ),
    "inc x[::-1, 1::-2]": (
        lambda x: ft.inc_subtensor(x[::-1, 1::-2], x[:, :1]),
        lambda x: _inc(x, (slice(None, None, -1), slice(1, None, -2)), x[:, :1]),
        (A,),
    ),
    "set x[..., 0]": (
        lambda x: ft.set_subtensor(x[..., 0], 0.0),
        lambda x: _set(x, (Ellipsis, 0), 0.0),
        (T3,),
    ),
    "inc x[:, 1:3, 0] broadcast": (
        lambda x, y: ft.inc_subtensor(x[:, 1:3, 0], y[:2]),
        lambda x, y: _inc(x, (_ALL, slice(1, 3), 0), y[:2]),
        (T3, V),
    ),
    "inc x[bool]": (lambda x, b: ft.inc_subtensor(x[b], 1.0), lambda x, b: _inc(x, b, 1.0), (A, B)),
    "inc x[x > 0] scalar": (
        lambda x, y: ft.inc_subtensor(x[x > 0], y[0]),
        lambda x, y: _inc(x, x > 0, y[0]),
        (A, V),
    ),
    "set x[bool rows] broadcast": (
        lambda x, y: ft.set_subtensor(x[x[:, 0] > 0], y[:5]),
        lambda x, y: _set(x, x[:, 0] > 0, y[:5]),
        (A, V),
    ),
    "set x[i[:2]] rows broadcast": (
        lambda x, i, y: ft.set_subtensor(x[i[:2]], y[:5]),
        lambda x, i, y: _set(x, i[:2], y[:5]),
        (A, IDX, V),
    ),
    "inc int8 wraps": (
        lambda x: ft.inc_subtensor(x[:2], x[:2]),
        lambda x: _inc(x, slice(0, 2), x[:2]),
        (np.array([100, -100, 5, 7], dtype="int8"),),
    ),
    "set int16 x[1] = 3": (
        lambda x: ft.set_subtensor(x[1], 3),
        lambda x: _set(x, 1, 3),
        (np.arange(5, dtype="int16"),),
    ),
    # the written value overlaps the region it is written into
    "inc x[1:] += x[:-1]": (
        lambda x: ft.inc_subtensor(x[1:], x[:-1]),
        lambda x: _inc(x, slice(1, None), x[:-1]),
        (V,),
    ),
    "set x[::-1] = x": (
        lambda x: ft.set_subtensor(x[::-1], x),
        lambda x: _set(x, slice(None, None, -1), x.copy()),
        (V,),
    ),
    "set x[:4, :4] = its transpose": (
        lambda x: ft.set_subtensor(x[:4, :4], x[:4, :4].T),
        lambda x: _set(x, (slice(0, 4), slice(0, 4)), x[:4, :4].T.copy()),
        (A,),
    ),
    "inc x[i] += x[i[::-1]]": (
        lambda x, i: ft.inc_subtensor(x[i], x[i[::-1]]),
        lambda x, i: _inc(x, i, x[i[::-1]]),
        (V, IDX),
    ),
    "set x[i + 1] = x[i]": (
        lambda x, i: ft.set_subtensor(x[i[:2] + 1], x[i[:2]]),
        lambda x, i: _set(x, i[:2] + 1, x[i[:2]].copy()),
        (V, IDX),
    ),
    "inc of an inc": (
        lambda x: ft.inc_subtensor(ft.inc_subtensor(x[1:3], 1.0)[2:4], x[0:2]),
        lambda x: _inc(_inc(x, slice(1, 3), 1.0), slice(2, 4), x[0:2]),
        (V,),
    ),
    "x written and read": (
        lambda x: [ft.set_subtensor(x[0], 5.0), x * 2, ft.inc_subtensor(x[1:], 1.0)],
        lambda x: [_set(x, 0, 5.0), x * 2, _inc(x, slice(1, None), 1.0)],
        (V,),
    ),
    "fill_diagonal wide": (lambda x: ft.fill_diagonal(x, 3.0), lambda x: _fill_diagonal(x, 3.0), (A,)),
    "fill_diagonal tall": (
        lambda x: ft.fill_diagonal(x, 3.0),
        lambda x: _fill_diagonal(x, 3.0),
        (A.T.copy(),),
    ),
    "fill_diagonal int16": (
        lambda x: ft.fill_diagonal(x, 7),
        lambda x: _fill_diagonal(x, 7),
        (np.arange(12, dtype="int16").reshape(3, 4),),
    ),
}

SHAPES: dict[str, Case] = {
    "reshape (-1, 2)": (lambda x: x.reshape((-1, 2)), lambda x: x.reshape(-1, 2), (A,)),
    "reshape ()": (lambda x: x[:1].reshape(()), lambda x: x[:1].reshape(()), (V,)),
    "reshape (n, -1) symbolic": (
        lambda x, i: x.reshape((i[0], -1)),
        lambda x, i: x.reshape(i[0], -1),
        (A, np.array([2, 3])),
    ),
    "flatten(x, 2)": (lambda x: ft.flatten(x, 2), lambda x: x.reshape(3, -1), (T3,)),
    "flatten(x, 1)": (lambda x: ft.flatten(x, 1), lambda x: x.reshape(-1), (T3,)),
    "shape_padleft 2": (lambda x: ft.shape_padleft(x, 2), lambda x: x[None, None], (A,)),
    "shape_padright 2": (lambda x: ft.shape_padright(x, 2), lambda x: x[..., None, None], (A,)),
    "shape_padaxis -1": (lambda x: ft.shape_padaxis(x, -1), lambda x: np.expand_dims(x, -1), (A,)),
    "expand_dims (0, -1)": (lambda x: ft.expand_dims(x, (0, -1)), lambda x: np.expand_dims(x, (0, -1)), (A,)),
    "specify_shape": (lambda x: ft.specify_shape(x, (4, None)) * 2, lambda x: x * 2, (A,)),
    "unbroadcast": (lambda x: ft.unbroadcast(x[:, None], 1) + 1, lambda x: x[:, None] + 1, (A,)),
    "swapaxes 0, -1": (lambda x: ft.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1), (T3,)),
    "moveaxis 0, -1": (lambda x: ft.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), (T3,)),
    "broadcast_to": (
        lambda x: ft.broadcast_to(x[:, :1], (4, 3)),
        lambda x: np.broadcast_to(x[:, :1], (4, 3)),
        (A,),
    ),
}

SORTS: dict[str, Case] = {
    "sort NaN last": (lambda x: ft.sort(x), np.sort, (NANS,)),
    "sort axis=None": (lambda x: ft.sort(x, axis=None), lambda x: np.sort(x, axis=None), (A,)),
    "sort axis=0": (lambda x: ft.sort(x, axis=0), lambda x: np.sort(x, axis=0), (A,)),
    "sort float32 NaN axis=0": (
        lambda x: ft.sort(x, axis=0),
        lambda x: np.sort(x, axis=0),
        (np.array([[np.nan, 1], [-np.inf, np.nan], [0, -1]], "float32"),),
    ),
    "sort int8 limits": (lambda x: ft.sort(x), np.sort, (np.array([5, -3, 127, -128, 0], dtype="int8"),)),
    "sort uint8": (lambda x: ft.sort(x), np.sort, (np.array([200, 3, 255, 0, 128], "uint8"),)),
    "sort int64 limits": (lambda x: ft.sort(x), np.sort, (np.array([2**62, -(2**63), 2**63 - 1, 0]),)),
    "sort bool": (lambda x: ft.sort(x), np.sort, (B,)),
    "sort empty": (lambda x: ft.sort(x[:0]), lambda x: np.sort(x[:0]), (V,)),
    "sort symbolic axis": (
        lambda x, a: ft.sort(x, axis=a[0]),
        lambda x, a: np.sort(x, axis=a[0]),
        (T3, np.array([1])),
    ),
    "argsort NaN stable": (
        lambda x: ft.argsort(x, kind="stable"),
        lambda x: np.argsort(x, kind="stable"),
        (NANS,),
    ),
    "argsort axis=None": (lambda x: ft.argsort(x, axis=None), lambda x: np.argsort(x, axis=None), (A,)),
    "argsort axis=-2": (lambda x: ft.argsort(x, axis=-2), lambda x: np.argsort(x, axis=-2), (T3,)),
    "argsort -0.0 == 0.0 stable": (
        lambda x: ft.argsort(x, kind="stable"),
        lambda x: np.argsort(x, kind="stable"),
        (ZEROS,),
    ),
    "argsort stable axis=None": (
        lambda x: ft.argsort(x.reshape((2, 4)), axis=None, stable=True),
        lambda x: np.argsort(x.reshape(2, 4), axis=None, kind="stable"),
        (ZEROS,),
    ),
    "argsort mergesort axis=0": (
        lambda x: ft.argsort(x.reshape((4, 2)), axis=0, kind="mergesort"),
        lambda x: np.argsort(x.reshape(4, 2), axis=0, kind="stable"),
        (ZEROS,),
    ),
    "argsort ties stable": (
        lambda x: ft.argsort(x, kind="stable"),
        lambda x: np.argsort(x, kind="stable"),
        (TIES,),
    ),
    "argsort uint64 stable": (
        lambda x: ft.argsort(x, kind="stable"),
        lambda x: np.argsort(x, kind="stable"),
        (np.array([2**63 + 5, 3, 2**64 - 1, 3], "uint64"),),
    ),
    "argsort empty axis=0": (
        lambda x: ft.argsort(x[:, :0], axis=0),
        lambda x: np.argsort(x[:, :0], axis=0),
        (A,),
    ),
    "argsort symbolic axis": (
        lambda x, a: ft.argsort(x, axis=a[0]),
        lambda x, a: np.argsort(x, axis=a[0]),
        (A, np.array([-2])),
    ),
    "take_along_axis of argsort": (
        lambda x: ft.take_along_axis(x, ft.argsort(x, axis=0), axis=0),
        lambda x: np.take_along_axis(x, np.argsort(x, axis=0), 0),
        (A,),
    ),
    "argmax axis=-1": (lambda x: ft.argmax(x, axis=-1), lambda x: np.argmax(x, -1), (T3,)),
    "argmax flat": (lambda x: ft.argmax(x), np.argmax, (T3,)),
    "searchsorted right NaN": (
        lambda x, v: ft.extra_ops.searchsorted(x, v, side="right"),
        lambda x, v: np.searchsorted(x, v, side="right"),
        (np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 0.0, 5.0, np.nan])),
    ),
}

BUILDERS: dict[str, Case] = {
    "concatenate axis=-1": (
        lambda x: ft.concatenate([x, x * 2], axis=-1),
        lambda x: np.concatenate([x, x * 2], -1),
        (A,),
    ),
    "concatenate empty pieces": (
        lambda x: ft.concatenate([x[:0], x, x[:0]], axis=0),
        lambda x: np.concatenate([x[:0], x, x[:0]]),
        (A,),
    ),
    "concatenate bool": (
        lambda x: ft.concatenate([x > 0, x < 0], axis=1),
        lambda x: np.concatenate([x > 0, x < 0], 1),
        (A,),
    ),
    "concatenate int8 float32": (
        lambda x, y: ft.concatenate([x, y]),
        lambda x, y: np.concatenate([x, y]),
        (I8, V.astype("float32")),
    ),
    "concatenate int8 uint8": (
        lambda x, y: ft.concatenate([x, y]),
        lambda x, y: np.concatenate([x, y]),
        (I8, np.array([200, 1], "uint8")),
    ),
    "vertical_stack": (lambda x, y: ft.vertical_stack(x, y), lambda x, y: np.vstack([x, y]), (A, A * 2)),
    "stack axis=-1": (lambda x: ft.stack([x, x], axis=-1), lambda x: np.stack([x, x], -1), (A,)),
    "stack axis=1": (lambda x: ft.stack([x, x, x], axis=1), lambda x: np.stack([x, x, x], 1), (T3,)),
    "stack int8 float32": (
        lambda x, y: ft.stack([x, y[:4]]),
        lambda x, y: np.stack([x, y[:4]]),
        (I8, V.astype("float32")),
    ),
    "stack scalars": (lambda x: ft.stack([x[0], x[1], x[2]]), lambda x: np.stack([x[0], x[1], x[2]]), (V,)),
    "stack 0-d axis=-1": (
        lambda x: ft.stack([x[0, 0], x[1, 1]], axis=-1),
        lambda x: np.stack([x[0, 0], x[1, 1]], -1),
        (A,),
    ),
    "split symbolic sizes": (
        lambda x, s: ft.split(x, s, 3, axis=1),
        lambda x, s: np.split(x, _split_at(s), axis=1),
        (A, np.array([2, 0, 3])),
    ),
    "split axis=-1 empty piece": (
        lambda x, s: ft.split(x, s, 2, axis=-1),
        lambda x, s: np.split(x, _split_at(s), axis=-1),
        (T3, np.array([5, 0])),
    ),
    "roll -3": (lambda x: ft.roll(x, -3), lambda x: np.roll(x, -3), (A,)),
    "roll 7 axis=1": (lambda x: ft.roll(x, 7, axis=1), lambda x: np.roll(x, 7, axis=1), (A,)),
    "roll -12 axis=-1": (lambda x: ft.roll(x, -12, axis=-1), lambda x: np.roll(x, -12, axis=-1), (A,)),
    "roll two axes": (
        lambda x: ft.roll(x, (1, -2), axis=(0, 1)),
        lambda x: np.roll(x, (1, -2), axis=(0, 1)),
        (A,),
    ),
    "roll 3-d flat": (lambda x: ft.roll(x, 13), lambda x: np.roll(x, 13), (T3,)),
    "roll empty": (lambda x: ft.roll(x[:0], 3), lambda x: np.roll(x[:0], 3), (V,)),
    "tile (2, 3)": (lambda x: ft.tile(x, (2, 3)), lambda x: np.tile(x, (2, 3)), (A,)),
    "tile more reps than dims": (lambda x: ft.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), (A,)),
    "tile vector (2, 2)": (lambda x: ft.tile(x, (2, 2)), lambda x: np.tile(x, (2, 2)), (V,)),
    "tile (0, 2)": (lambda x: ft.tile(x, (0, 2)), lambda x: np.tile(x, (0, 2)), (A,)),
    "tile symbolic": (
        lambda x, i: ft.tile(x, (i[1], 2)),
        lambda x, i: np.tile(x, (i[1], 2)),
        (A, np.array([1, 3])),
    ),
    "repeat 2 axis=0": (lambda x: ft.repeat(x, 2, axis=0), lambda x: np.repeat(x, 2, axis=0), (A,)),
    "repeat 3 flat": (lambda x: ft.repeat(x, 3), lambda x: np.repeat(x, 3), (A,)),
    "repeat symbolic counts": (
        lambda x, i: ft.repeat(x, i, axis=0),
        lambda x, i: np.repeat(x, i, axis=0),
        (A, np.array([0, 2, 1, 3])),
    ),
    "repeat symbolic scalar": (
        lambda x, i: ft.repeat(x, i[0], axis=1),
        lambda x, i: np.repeat(x, i[0], axis=1),
        (A, np.array([3])),
    ),
    "flip axis 1": (lambda x: ft.flip(x, 1), lambda x: np.flip(x, 1), (A,)),
    "x[::-1, ::-1]": (lambda x: x[::-1, ::-1], lambda x: x[::-1, ::-1], (A,)),
    "choose": (
        lambda i, c: ft.choose(i, c),
        np.choose,
        (np.array([0, 1, 2, 1, 0]), _RNG.normal(size=(3, 5))),
    ),
    "choose broadcast": (
        lambda i, c: ft.choose(i, c),
        np.choose,
        (np.array([[0], [1]]), _RNG.normal(size=(2, 2, 3))),
    ),
    "choose wrap": (
        lambda i, c: ft.choose(i, c, mode="wrap"),
        lambda i, c: np.choose(i, c, mode="wrap"),
        (np.array([0, 4, -1, 1, 5]), _RNG.normal(size=(3, 5))),
    ),
    "choose clip": (
        lambda i, c: ft.choose(i, c, mode="clip"),
        lambda i, c: np.choose(i, c, mode="clip"),
        (np.array([0, 4, -1, 1, 5]), _RNG.normal(size=(3, 5))),
    ),
    "diagonal 1": (lambda x: ft.diagonal(x, 1), lambda x: np.diagonal(x, 1), (A,)),
    "diagonal -2": (lambda x: ft.diagonal(x, -2), lambda x: np.diagonal(x, -2), (A,)),
    "diagonal axes 0, 2": (lambda x: ft.diagonal(x, 1, 0, 2), lambda x: np.diagonal(x, 1, 0, 2), (T3,)),
    "diagonal axes 2, 1": (lambda x: ft.diagonal(x, -1, 2, 1), lambda x: np.diagonal(x, -1, 2, 1), (T3,)),
    "diag of a matrix k=2": (lambda x: ft.diag(x, 2), lambda x: np.diag(x, 2), (A,)),
    "diag of a vector k=2": (lambda x: ft.diag(x, 2), lambda x: np.diag(x, 2), (V,)),
    "diag of a vector k=-1": (lambda x: ft.diag(x, -1), lambda x: np.diag(x, -1), (V[:3],)),
    "trace offset 1": (lambda x: ft.trace(x, 1), lambda x: np.trace(x, 1), (A,)),
    "tril -1": (lambda x: ft.tril(x, -1), lambda x: np.tril(x, -1), (A,)),
    "triu 1 of 3-d": (lambda x: ft.triu(x, 1), lambda x: np.triu(x, 1), (T3,)),
    "tril_indices": (lambda x: ft.tril_indices(4, -1, 5), lambda x: np.tril_indices(4, -1, 5), (V,)),
    "arange 5, -3, -2": (lambda x: ft.arange(5, -3, -2), lambda x: np.arange(5, -3, -2), (V,)),
    "arange float": (lambda x: ft.arange(0.5, 3.1, 0.7), lambda x: np.arange(0.5, 3.1, 0.7), (V,)),
    "arange 0, 1, 0.1": (lambda x: ft.arange(0.0, 1.0, 0.1), lambda x: np.arange(0.0, 1.0, 0.1), (V,)),
    "arange symbolic": (
        lambda i: ft.arange(i[0], i[1], i[3]),
        lambda i: np.arange(i[0], i[1], i[3]),
        (np.array([7, -2, 0, -3]),),
    ),
    "arange symbolic empty": (
        lambda i: ft.arange(i[0], i[1]),
        lambda i: np.arange(i[0], i[1]),
        (np.array([7, -2]),),
    ),
    "arange symbolic float": (
        lambda x: ft.arange(x[0], x[1], x[2]),
        lambda x: np.arange(x[0], x[1], x[2]),
        (np.array([1.0, -2.0, -0.3]),),
    ),
    "eye k=2": (lambda x: ft.eye(3, 5, 2), lambda x: np.eye(3, 5, 2), (V,)),
    "eye k=-1": (lambda x: ft.eye(4, 3, -1), lambda x: np.eye(4, 3, -1), (V,)),
    "eye k past the end": (lambda x: ft.eye(3, 3, 5), lambda x: np.eye(3, 3, 5), (V,)),
    "eye int8": (lambda x: ft.eye(3, dtype="int8"), lambda x: np.eye(3, dtype="int8"), (V,)),
    "eye symbolic": (
        lambda i: ft.eye(i[0], i[1], i[2]),
        lambda i: np.eye(i[0], i[1], i[2]),
        (np.array([3, 4, -1]),),
    ),
    "tri k=1": (lambda x: ft.tri(3, 4, 1), lambda x: np.tri(3, 4, 1), (V,)),
    "tri k=-1": (lambda x: ft.tri(4, 3, -1), lambda x: np.tri(4, 3, -1), (V,)),
    "tri int32": (lambda x: ft.tri(3, dtype="int32"), lambda x: np.tri(3, dtype="int32"), (V,)),
    "tri symbolic": (
        lambda i: ft.tri(i[0], i[1], i[2]),
        lambda i: np.tri(i[0], i[1], i[2]),
        (np.array([3, 4, -1]),),
    ),
    "alloc scalar": (lambda x: ft.alloc(x[0], 2, 3), lambda x: np.full((2, 3), x[0]), (V,)),
    "alloc vector": (lambda x: ft.alloc(x, 3, 7), lambda x: np.broadcast_to(x, (3, 7)), (V,)),
    "alloc no rows": (lambda x: ft.alloc(x, 0, 7), lambda x: np.broadcast_to(x, (0, 7)), (V,)),
    "zeros symbolic": (
        lambda i: ft.zeros((i[0], i[1])),
        lambda i: np.zeros((i[0], i[1])),
        (np.array([2, 3]),),
    ),
    "full symbolic": (lambda i: ft.full((i[0], 2), 7), lambda i: np.full((i[0], 2), 7), (np.array([2, 3]),)),
    "full_like int8": (
        lambda x: ft.full_like(x, 3, dtype="int8"),
        lambda x: np.full_like(x, 3, dtype="int8"),
        (A,),
    ),
    "ones_like bool": (lambda x: ft.ones_like(x > 0), lambda x: np.ones_like(x > 0), (A,)),
    "zeros_like int8": (lambda i: ft.zeros_like(i), np.zeros_like, (I8,)),
    "identity_like": (lambda x: ft.identity_like(x), lambda x: np.eye(4, 5), (A,)),
    "nonzero": (lambda x: ft.nonzero(x > 0), lambda x: np.nonzero(x > 0), (A,)),
    "nonzero of 3-d": (lambda x: (x > 0).nonzero(), lambda x: (x > 0).nonzero(), (T3,)),
    "where of a condition": (lambda x: ft.where(x > 0), lambda x: np.where(x > 0), (A,)),
    "flatnonzero": (lambda x: (x > 0).flatten().nonzero()[0], lambda x: np.flatnonzero(x > 0), (A,)),
    "unique": (lambda x: ft.extra_ops.unique(x), np.unique, (np.array([3, 1, 3, 0]),)),
    "cumsum flat": (lambda x: ft.cumsum(x), np.cumsum, (A,)),
    "diff n=2 axis=0": (lambda x: ft.diff(x, n=2, axis=0), lambda x: np.diff(x, n=2, axis=0), (A,)),
}

AREAS: dict[str, dict[str, Case]] = {
    "indexing": INDEXING,
    "writes": WRITES,
    "shapes": SHAPES,
    "sorts": SORTS,
    "builders": BUILDERS,
}


@functools.lru_cache(maxsize=None)
def _results(area: str, mode: str) -> dict[str, list]:
    """Every case's outputs of ``area``, from one function compiled under ``mode``."""
    cases = AREAS[area]
    ins, outs, counts = [], [], []
    for build, _, vals in cases.values():
        mine = [symbolic_like(v) for v in vals]
        ins += mine
        built = as_list(build(*mine))
        outs += built
        counts.append(len(built))
    f = fc.function(ins, outs, mode=mode, on_unused_input="ignore")
    got = f(*[np.copy(v) for _, _, vals in cases.values() for v in vals])
    res, at = {}, 0
    for name, n in zip(cases, counts):
        res[name], at = got[at : at + n], at + n
    return res


_IDS = [(area, name, mode) for area, cases in AREAS.items() for name in cases for mode in MODES]


@pytest.mark.parametrize("area,name,mode", _IDS, ids=[f"{a}: {n}-{m}" for a, n, m in _IDS])
def test_numpy_values(area: str, name: str, mode: str) -> None:
    _, ref, vals = AREAS[area][name]
    want = as_list(ref(*[np.copy(v) for v in vals]))
    got = _results(area, mode)[name]
    assert len(got) == len(want), f"{area} {name!r} ({mode}): {len(got)} outputs, numpy {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, np.asarray(w), f"{area} {name!r} ({mode}) output {k}")


#: Indices out of bounds, at run time: numpy's IndexError in both modes.
OUT_OF_BOUNDS: dict[str, tuple[Callable[..., Any], tuple]] = {
    "x[7] of 7": (lambda x, i: x[i[0]], (V, np.array([7]))),
    "x[-8] of 7": (lambda x, i: x[i[0]], (V, np.array([-8]))),
    "x[[0, 7]]": (lambda x, i: x[i], (V, np.array([0, 7]))),
    "x[[0, -8]]": (lambda x, i: x[i], (V, np.array([0, -8]))),
    "inc x[[0, 7]]": (lambda x, i: ft.inc_subtensor(x[i], 1.0), (V, np.array([0, 7]))),
    "set x[[-8]]": (lambda x, i: ft.set_subtensor(x[i], 1.0), (V, np.array([-8]))),
    "inc x[[4], 0] of 4 rows": (lambda x, i: ft.inc_subtensor(x[i, 0], 1.0), (A, np.array([4]))),
    "take [9] of 7": (lambda x, i: ft.take(x, i), (V, np.array([9]))),
    "bool mask of 5 for 7": (lambda x, b: x[b], (V, np.ones(5, bool))),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(OUT_OF_BOUNDS))
def test_index_out_of_bounds_raises_index_error(name: str, mode: str) -> None:
    build, vals = OUT_OF_BOUNDS[name]
    ins = [symbolic_like(v) for v in vals]
    f = fc.function(ins, build(*ins), mode=mode)
    with pytest.raises(IndexError):
        f(*vals)


#: Gradients PyTensor checks (verify_grad), against central differences: (builder, the
#: values; a gradient for each float input).
GRADS: dict[str, tuple[Callable[..., Any], tuple]] = {
    "x[5:0:-2]": (lambda x: x[5:0:-2], (V,)),
    "x[i] repeated": (lambda x, i: x[i], (A, IDX)),
    "x[i, i[::-1]]": (lambda x, i: x[i, i[::-1]], (A, IDX)),
    "x[:, i]": (lambda x, i: x[:, i], (A, IDX)),
    "x[x > 0]": (lambda x: x[x > 0], (A,)),
    "x[None, ..., 1]": (lambda x: x[None, ..., 1], (T3,)),
    "set x[i] = y repeated": (lambda x, y, i: ft.set_subtensor(x[i], y[:4]), (V, V * 2, IDX)),
    "inc x[i] += y repeated": (lambda x, y, i: ft.inc_subtensor(x[i], y[:4]), (V, V * 2, IDX)),
    "inc x[i] += y[0] broadcast": (lambda x, y, i: ft.inc_subtensor(x[i], y[0]), (A, V, IDX)),
    "set x[1:3] = y broadcast": (lambda x, y: ft.set_subtensor(x[1:3], y[:5]), (A, V)),
    "inc x[::-3] += y": (lambda x, y: ft.inc_subtensor(x[::-3], y[:3]), (V, V + 1)),
    "sort axis=0": (lambda x: ft.sort(x, axis=0), (A,)),
    "sort axis=None": (lambda x: ft.sort(x, axis=None), (A,)),
    "roll": (lambda x: ft.roll(x, -2, axis=1), (A,)),
    "tile": (lambda x: ft.tile(x, (2, 1, 2)), (A,)),
    "stack": (lambda x: ft.stack([x, 2 * x], axis=-1), (A,)),
    "concatenate": (lambda x, y: ft.concatenate([x, y[None, :5]], axis=0), (A, V)),
    "fill_diagonal": (lambda x, y: ft.fill_diagonal(x, y[0]), (A, V)),
    "reshape": (lambda x: x.reshape((2, -1)), (T3,)),
    "flatten": (lambda x: ft.flatten(x, 2), (T3,)),
    "alloc": (lambda x: ft.alloc(x, 3, 7), (V,)),
    "take_along_axis of argsort": (lambda x: ft.take_along_axis(x, ft.argsort(x, axis=1), axis=1), (A,)),
    "repeat": (lambda x: ft.repeat(x, 2, axis=1), (A,)),
    "diagonal": (lambda x: ft.diagonal(x, -1), (A,)),
    "tril": (lambda x: ft.tril(x, 1), (A,)),
    "choose": (lambda i, c: ft.choose(i, c), (np.array([0, 1, 2, 1, 0]), _RNG.normal(size=(3, 5)))),
    "broadcast_to": (lambda x: ft.broadcast_to(x, (3, 7)), (V,)),
    # a set's overwritten values (repeated indices) get no gradient
    "set x[i] = y[0] repeated": (lambda x, y, i: ft.set_subtensor(x[i], y[0]), (V, V + 1, IDX)),
    "set x[i] = row repeated": (lambda x, y, i: ft.set_subtensor(x[i], y[:5]), (A, V, IDX)),
    "set x[i, i[::-1]] = y": (lambda x, y, i: ft.set_subtensor(x[i, i[::-1]], y[:4]), (A, V, IDX)),
    "set x[x > 0] = y[0]": (lambda x, y: ft.set_subtensor(x[x > 0], y[0]), (A, V)),
    "set x[::-2] = y[0]": (lambda x, y: ft.set_subtensor(x[::-2], y[0]), (V, V + 1)),
    "set x[i - 7] = y": (
        lambda x, y, i: ft.set_subtensor(x[i - 7], y[:4]),
        (V, V + 1, np.array([0, 3, 0, 6])),
    ),
    "inc x[i, :, j] apart": (lambda x, y, i: ft.inc_subtensor(x[i[:2], :, i[1:3]], y[:4]), (T3, V, IDX)),
    "set x[i, :, j] apart repeated": (
        lambda x, y, i: ft.set_subtensor(x[i[:2], :, i[2:]], y[:4]),
        (T3, V, np.array([1, 1, 2, 2])),
    ),
    "take wrap": (lambda x, i: ft.take(x, i, mode="wrap"), (V, np.array([-9, 8, 20, 1]))),
    "take clip": (lambda x, i: ft.take(x, i, axis=0, mode="clip"), (A, np.array([-9, 8, 2]))),
    "choose wrap": (
        lambda i, c: ft.choose(i, c, mode="wrap"),
        (np.array([0, 4, -1, 1, 5]), _RNG.normal(size=(3, 5))),
    ),
    "choose broadcast": (lambda i, c: ft.choose(i, c), (np.array([[0], [1]]), _RNG.normal(size=(2, 2, 3)))),
    "take_along_axis None": (lambda x, i: ft.take_along_axis(x, i, axis=None), (A, np.array([0, 19, -1, 0]))),
    "take_along_axis repeated": (lambda x, i: ft.take_along_axis(x, i, axis=1), (A, np.array([[0, 4, 0]]))),
    "diagonal axes 0, 2": (lambda x: ft.diagonal(x, 1, 0, 2), (T3,)),
    "split": (lambda x: ft.split(x, [2, 0, 3], 3, axis=1)[2], (A,)),
    "roll two axes": (lambda x: ft.roll(x, (1, -2), axis=(0, 1)), (A,)),
    "flip": (lambda x: ft.flip(x, 1), (A,)),
    "x[i[:, None], i[None, :3]]": (lambda x, i: x[i[:, None], i[None, :3]], (A, IDX)),
    "x[i, None, 1:]": (lambda x, i: x[i, None, 1:], (A, IDX)),
    "fill_diagonal tall": (lambda x, y: ft.fill_diagonal(x, y[0]), (A.T.copy(), V)),
    "tile symbolic": (lambda x, i: ft.tile(x, (i[0], 2)), (A, np.array([2]))),
    "repeat symbolic counts": (lambda x, i: ft.repeat(x, i, axis=0), (A, np.array([0, 2, 1, 3]))),
}


@pytest.mark.parametrize("mode", MODES)
def test_gradients_match_finite_differences(mode: str) -> None:
    """Every case's gradients from one cost and one gradient function per mode."""
    vals = [np.asarray(v) for _, case_vals in GRADS.values() for v in case_vals]
    inputs = [symbolic_like(v) for v in vals]
    cases, at = {}, 0
    for name, (build, case_vals) in GRADS.items():
        n = len(case_vals)
        used = [at + k for k, v in enumerate(case_vals) if np.asarray(v).dtype.kind == "f"]
        cases[name] = (on_slice(build, at, n), used)
        at += n
    fd_check_grads(inputs, cases, [vals], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_python_int_is_written_into_an_unsigned_tensor(mode: str) -> None:
    """A Python number written into a region takes ``x``'s dtype where it fits, as numpy's
    ``x[idx] = 200`` and ``x + 200`` (NEP 50's weak scalars); one that does not fit raises
    numpy's OverflowError."""
    x = ft.tensor("x", "uint8", shape=(None,))
    i = ft.lvector("i")
    outs = [
        ft.set_subtensor(x[1:], 200),
        ft.inc_subtensor(x[i], 3),
        ft.set_subtensor(x[i], 255),
        ft.inc_subtensor(x[0], np.bool_(True)),
    ]
    f = fc.function([x, i], outs, mode=mode)
    xv, iv = np.array([1, 2, 250], "uint8"), np.array([2, 0, 2])
    want = [
        _set(xv, slice(1, None), 200),
        _inc(xv, iv, np.uint8(3)),
        _set(xv, iv, 255),
        _inc(xv, 0, np.bool_(True)),
    ]
    for k, (g, w) in enumerate(zip(f(xv, iv), want)):
        assert_same(g, w, f"output {k}")
    for bad in (300, -1):
        with pytest.raises(OverflowError, match=f"set_subtensor: the Python number {bad}"):
            ft.set_subtensor(x[1:], bad)
    with pytest.raises(TypeError, match="same-kind"):
        ft.inc_subtensor(x[1:], 2.5)


@pytest.mark.parametrize("mode", MODES)
def test_a_uint64_index_above_int64_is_out_of_bounds(mode: str) -> None:
    """numpy wraps ``2**64 - 1`` to ``-1`` (the last element); fncache reads it as the number it
    is, out of range (docs/numpy.md)."""
    x = ft.dvector("x")
    i = ft.tensor("i", "uint64", shape=(None,))
    f = fc.function([x, i], [x[i]], mode=mode)
    big = np.array([2**64 - 1], "uint64")
    with pytest.raises(IndexError, match="18446744073709551615"):
        f(np.arange(7.0), big)
    assert_same(f(np.arange(7.0), np.array([6, 0], "uint64"))[0], np.array([6.0, 0.0]))
