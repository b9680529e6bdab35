"""What PyTensor's own tests check of the array functions a user calls, written again for
fncache: values and dtypes against numpy, gradients against central finite differences in
float64, static shapes where PyTensor's types know them, and clear errors for bad arguments.

Areas: creating and joining (``join split stack alloc arange tile roll fill eye tri choose``
and friends), indexing and writing into regions (basic and advanced indexing, boolean masks,
``set_subtensor``/``inc_subtensor`` with repeated indices), math (reductions over axis tuples,
``argmax``, ``clip``, ``mean``/``var``, ``dot``/``tensordot``/``outer``, rounding modes and the
numpy spellings of the operators) and shapes (``reshape specify_shape shape_padleft/right
flatten dimshuffle``). Each case runs under the Python linker (a compile costs nothing there);
each area also runs once compiled to C, every case one output of one function."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import (
    as_list,
    assert_same,
    fd_check_case,
    fd_check_grads,
    on_slice,
    run_case,
    run_cases_in_one_function,
    symbolic_like,
)

PY = fc.Mode(linker="py")
RNG = np.random.default_rng(20261203)

#: (expression builder, numpy reference, input values): both take the inputs in order and
#: return one array or a list of them.
Case = tuple[Callable[..., Any], Callable[..., Any], tuple]


def _u(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.asarray(RNG.uniform(lo, hi, size=shape))


def _i(*vals: Any) -> np.ndarray:
    return np.array(vals, dtype="int64")


def _set(idx: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """numpy's ``x[idx] = y`` on a copy, ``idx`` built from the case's index inputs."""

    def f(x: np.ndarray, y: np.ndarray, *ii: np.ndarray) -> np.ndarray:
        out = x.copy()
        out[idx(*ii)] = y
        return out

    return f


def _add_at(idx: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """numpy's ``np.add.at(x, idx, y)`` on a copy: every repeated index adds its value."""

    def f(x: np.ndarray, y: np.ndarray, *ii: np.ndarray) -> np.ndarray:
        out = x.copy()
        np.add.at(out, idx(*ii), y)
        return out

    return f


M = _u(3, 4)
X3 = _u(2, 3, 4)
V = _u(5)
AR = np.arange(12.0).reshape(3, 4)

BASIC: dict[str, Case] = {
    "join_axis0": (lambda a, b: ft.join(0, a, b), lambda a, b: np.concatenate([a, b], 0), (M, AR)),
    "join_axis_neg": (lambda a, b: ft.join(-1, a, b), lambda a, b: np.concatenate([a, b], -1), (M, AR)),
    "join_int_float": (lambda a, b: ft.join(0, a, b), lambda a, b: np.concatenate([a, b]), (_i(1, 2), V)),
    "concatenate_axis_none": (
        lambda a, b: ft.concatenate([a, b], axis=None),
        lambda a, b: np.concatenate([a, b], axis=None),
        (M, X3),
    ),
    "stack_axis1": (lambda a, b: ft.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1), (M, AR)),
    "stack_axis_neg": (lambda a, b: ft.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], -1), (M, AR)),
    "stack_scalars": (
        lambda a, b: ft.stack([a, b]),
        lambda a, b: np.stack([a, b]),
        (np.float64(1.5), np.float64(-2)),
    ),
    "split_two": (lambda a: ft.split(a, [1, 2], 2, axis=0), lambda a: np.split(a, [1], 0), (M,)),
    "split_three_axis1": (
        lambda a: ft.split(a, [1, 1, 2], 3, axis=1),
        lambda a: np.split(a, [1, 2], 1),
        (M,),
    ),
    "split_axis_neg": (lambda a: ft.split(a, [1, 3], 2, axis=-1), lambda a: np.split(a, [1], -1), (M,)),
    "split_empty_piece": (lambda a: ft.split(a, [0, 5], 2), lambda a: np.split(a, [0]), (V,)),
    "split_symbolic_sizes": (
        lambda a, s: ft.split(a, s, 3, axis=0),
        lambda a, s: np.split(a, np.cumsum(s)[:-1]),
        (np.arange(6.0), _i(1, 2, 3)),
    ),
    "horizontal_stack": (ft.horizontal_stack, lambda a, b: np.hstack([a, b]), (M, AR)),
    "vertical_stack_vectors": (ft.vertical_stack, lambda a, b: np.vstack([a, b]), (V, V[::-1].copy())),
    "alloc_vector_to_3d": (lambda a: ft.alloc(a, 2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (_u(4),)),
    "alloc_col": (lambda a: ft.alloc(a, 3, 4), lambda a: np.broadcast_to(a, (3, 4)), (_u(3, 1),)),
    "alloc_symbolic_size": (
        lambda a, n: ft.alloc(a, n, 4),
        lambda a, n: np.broadcast_to(a, (n, 4)),
        (_u(4), np.int32(3)),
    ),
    "full_like_int": (
        lambda a: ft.full_like(a, 7, dtype="int32"),
        lambda a: np.full_like(a, 7, dtype="int32"),
        (M,),
    ),
    "zeros_like_dtype": (
        lambda a: ft.zeros_like(a, dtype="int32"),
        lambda a: np.zeros_like(a, dtype="int32"),
        (M,),
    ),
    "ones_like": (ft.ones_like, np.ones_like, (X3,)),
    "fill": (lambda a: ft.fill(a, 3.0), lambda a: np.full_like(a, 3.0), (M,)),
    "second_broadcasts_both": (ft.second, lambda a, b: np.broadcast_arrays(a, b)[1], (_u(2, 3, 2), _u(3, 2))),
    "arange_step": (lambda a: ft.arange(2, 10, 3) + a, lambda a: np.arange(2, 10, 3) + a, (_i(0),)),
    "arange_float": (
        lambda a: ft.arange(0.5, 3.2, 0.7) + a,
        lambda a: np.arange(0.5, 3.2, 0.7) + a,
        (V[:1],),
    ),
    "arange_negative_step": (
        lambda a: ft.arange(10, 2, -3) + a,
        lambda a: np.arange(10, 2, -3) + a,
        (_i(0),),
    ),
    "arange_empty": (lambda a: ft.arange(5, 2) + a, lambda a: np.arange(5, 2) + a, (_i(0),)),
    "arange_symbolic": (ft.arange, np.arange, (np.int64(4),)),
    "arange_symbolic_float": (
        lambda s, e: ft.arange(s, e, 0.5),
        lambda s, e: np.arange(s, e, 0.5),
        (1.0, 3.0),
    ),
    "tile_2d": (lambda a: ft.tile(a, (2, 3)), lambda a: np.tile(a, (2, 3)), (M,)),
    "tile_fewer_reps": (lambda a: ft.tile(a, (2,)), lambda a: np.tile(a, (2,)), (M,)),
    "tile_more_reps": (lambda a: ft.tile(a, (2, 1, 2)), lambda a: np.tile(a, (2, 1, 2)), (M,)),
    "tile_int": (lambda a: ft.tile(a, 3), lambda a: np.tile(a, 3), (V,)),
    "tile_symbolic": (
        lambda a, n: ft.tile(a, (n, 1, 2)),
        lambda a, n: np.tile(a, (n, 1, 2)),
        (M, np.int64(2)),
    ),
    "tile_symbolic_scalar": (lambda a, n: ft.tile(a, n), lambda a, n: np.tile(a, n), (M, np.int64(3))),
    "tile_symbolic_vector": (
        lambda a, r: ft.tile(a, ft.specify_shape(r, (2,))),
        lambda a, r: np.tile(a, r),
        (M, _i(2, 3)),
    ),
    "roll_flat": (lambda a: ft.roll(a, 2), lambda a: np.roll(a, 2), (M,)),
    "roll_axis": (lambda a: ft.roll(a, -1, axis=1), lambda a: np.roll(a, -1, axis=1), (M,)),
    "roll_past_length": (lambda a: ft.roll(a, 7, axis=0), lambda a: np.roll(a, 7, axis=0), (M,)),
    "roll_tuple": (
        lambda a: ft.roll(a, (1, 2), axis=(0, 1)),
        lambda a: np.roll(a, (1, 2), axis=(0, 1)),
        (M,),
    ),
    "roll_symbolic": (lambda a, n: ft.roll(a, n, axis=0), lambda a, n: np.roll(a, n, 0), (M, np.int64(-4))),
    "eye_offset": (lambda a: ft.eye(3, 4, 1) + a, lambda a: np.eye(3, 4, 1) + a, (V[:1],)),
    "eye_symbolic": (
        lambda n, k: ft.eye(n, None, k),
        lambda n, k: np.eye(n, None, k),
        (np.int64(4), np.int64(-1)),
    ),
    "eye_int_dtype": (lambda n: ft.eye(n, dtype="int32"), lambda n: np.eye(n, dtype="int32"), (np.int64(3),)),
    "tri": (lambda n: ft.tri(n, 4, 1), lambda n: np.tri(n, 4, 1), (np.int64(3),)),
    "tril_3d": (ft.tril, np.tril, (X3,)),
    "triu_offset": (lambda a: ft.triu(a, 1), lambda a: np.triu(a, 1), (M,)),
    "tril_symbolic_k": (ft.tril, np.tril, (M, np.int64(-1))),
    "choose_stacked": (ft.choose, np.choose, (_i(0, 1, 2, 1), AR)),
    "choose_broadcast": (ft.choose, np.choose, (np.array([[0], [2]]), AR)),
    "choose_3d": (
        ft.choose,
        np.choose,
        (np.array([[0, 1, 0, 1], [1, 1, 0, 0]]), np.arange(16).reshape(2, 2, 4)),
    ),
    "choose_0d": (ft.choose, np.choose, (np.int64(1), np.arange(3.0))),
    "choose_wrap": (
        lambda a, b: ft.choose(a, b, mode="wrap"),
        lambda a, b: np.choose(a, b, mode="wrap"),
        (_i(0, -1, 5, 1), AR),
    ),
    "choose_clip": (
        lambda a, b: ft.choose(a, b, mode="clip"),
        lambda a, b: np.choose(a, b, mode="clip"),
        (_i(0, -1, 5, 1), AR),
    ),
    "choose_list_clip": (
        lambda a, b, c: ft.choose(a, [b, c], mode="clip"),
        lambda a, b, c: np.choose(a, [b, c], mode="clip"),
        (_i(0, -1, 5, 1), V[:4], -V[:4]),
    ),
    "diag_vector_offset": (lambda a: ft.diag(a, k=1), lambda a: np.diag(a, 1), (V,)),
    "diag_matrix": (ft.diag, np.diag, (M,)),
    "fill_diagonal": (
        lambda a: ft.fill_diagonal(a, 5.0),
        lambda a: _set(lambda: np.diag_indices(3))(a, 5.0),
        (AR[:, :3],),
    ),
    "broadcast_to": (lambda a: ft.broadcast_to(a, (3, 5)), lambda a: np.broadcast_to(a, (3, 5)), (V,)),
    "broadcast_arrays": (
        ft.broadcast_arrays,
        lambda *a: [np.array(t) for t in np.broadcast_arrays(*a)],
        (np.float64(1.0), _u(2), _u(3, 1)),
    ),
    "linspace": (lambda a: ft.linspace(0, 1, 5) + a, lambda a: np.linspace(0, 1, 5) + a, (V[:1],)),
    "logspace": (lambda a: ft.logspace(0, 2, 5) + a, lambda a: np.logspace(0, 2, 5) + a, (V[:1],)),
    "logspace_base": (
        lambda a: ft.logspace(1, 3, 4, endpoint=False, base=2.0) + a,
        lambda a: np.logspace(1, 3, 4, endpoint=False, base=2.0) + a,
        (V[:1],),
    ),
    "geomspace": (lambda a: ft.geomspace(1, 1000, 4) + a, lambda a: np.geomspace(1, 1000, 4) + a, (V[:1],)),
    "geomspace_negative": (
        lambda a: ft.geomspace(-3, -96, 6) + a,
        lambda a: np.geomspace(-3, -96, 6) + a,
        (V[:1],),
    ),
    "geomspace_symbolic": (
        lambda s, e: ft.geomspace(s, e, 5, endpoint=False),
        lambda s, e: np.geomspace(s, e, 5, endpoint=False),
        (2.0, 32.0),
    ),
    "bartlett": (ft.bartlett, np.bartlett, (np.int64(6),)),
    "bartlett_one_point": (ft.bartlett, np.bartlett, (np.int64(1),)),
    "bartlett_empty": (ft.bartlett, np.bartlett, (np.int64(-2),)),
    "broadcast_shape": (
        lambda a, b: list(ft.broadcast_shape(a, b)),
        lambda a, b: [np.int64(s) for s in np.broadcast_shapes(a.shape, b.shape)],
        (_u(3, 1), _u(4)),
    ),
    "broadcast_shape_of_shapes": (
        lambda n: list(ft.broadcast_shape((n, 1), (5,), arrays_are_shapes=True)),
        lambda n: [np.int64(n), np.int64(5)],
        (np.int64(3),),
    ),
    "tril_indices": (
        lambda n: ft.tril_indices(n, -1, 4),
        lambda n: np.tril_indices(n, -1, 4),
        (np.int64(3),),
    ),
    "triu_indices": (lambda n: ft.triu_indices(n, 1), lambda n: np.triu_indices(n, 1), (np.int64(4),)),
    "tril_indices_from": (ft.tril_indices_from, np.tril_indices_from, (M,)),
    "upper_triangle_values": (
        lambda a: a[ft.triu_indices_from(a, -1)],
        lambda a: a[np.triu_indices_from(a, -1)],
        (M,),
    ),
    "inverse_permutation": (
        ft.inverse_permutation,
        lambda p: np.argsort(p).astype("int32"),
        (_i(2, 0, 3, 1).astype("int32"),),
    ),
    "inverse_permutation_rows": (
        ft.inverse_permutation,
        lambda p: np.argsort(p, -1),
        (np.array([[2, 0, 1], [0, 2, 1]]),),
    ),
    "permute_row_elements_one_permutation": (
        ft.permute_row_elements,
        lambda x, y: x[:, y],
        (M, _i(2, 0, 3, 1)),
    ),
    "permute_row_elements_each_row": (
        ft.permute_row_elements,
        lambda x, y: np.take_along_axis(x, y, -1),
        (M, np.array([[1, 0, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]])),
    ),
    "permute_row_elements_one_row_many_ways": (
        lambda x, y: ft.permute_row_elements(x, y, inverse=True),
        lambda x, y: np.stack([x[np.argsort(p)] for p in y]),
        (V[:4], np.array([[1, 0, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]])),
    ),
    "empty_has_the_shape": (
        lambda n: ft.empty((n, 2), dtype="int32").shape,
        lambda n: _i(n, 2),
        (np.int64(3),),
    ),
    "tensor_copy": (ft.tensor_copy, np.copy, (M,)),
}

SUBTENSOR: dict[str, Case] = {
    "negative_step": (lambda a: a[::-2, 1:], lambda a: a[::-2, 1:], (M,)),
    "slice_past_both_ends": (lambda a: a[-100:100:3], lambda a: a[-100:100:3], (V,)),
    "empty_slice": (lambda a: a[5:2], lambda a: a[5:2], (V,)),
    "ellipsis_then_int": (lambda a: a[..., 1], lambda a: a[..., 1], (X3,)),
    "newaxis": (lambda a: a[None, :, None, 0], lambda a: a[None, :, None, 0], (M,)),
    "symbolic_bounds": (lambda a, i, j: a[i:j], lambda a, i, j: a[i:j], (V, np.int64(-4), np.int64(4))),
    "index_vector": (lambda a, i: a[i], lambda a, i: a[i], (M, _i(2, 0, -1))),
    "index_matrix": (lambda a, i: a[i], lambda a, i: a[i], (M, np.array([[0, 1], [2, 2]]))),
    "index_pair": (lambda a, i, j: a[i, j], lambda a, i, j: a[i, j], (M, _i(0, 1, 2), _i(3, 2, 1))),
    "index_pair_broadcast": (
        lambda a, i, j: a[i, j],
        lambda a, i, j: a[i, j],
        (M, np.array([[0], [2]]), _i(3, 2, 1)),
    ),
    "index_after_slice": (lambda a, i: a[:, i], lambda a, i: a[:, i], (X3, _i(2, 0))),
    "index_split_by_slice": (
        lambda a, i, j: a[i, :, j],
        lambda a, i, j: a[i, :, j],
        (X3, _i(1, 0), _i(2, 3)),
    ),
    "index_after_ellipsis": (lambda a, i: a[..., i], lambda a, i: a[..., i], (X3, _i(0, 3))),
    "index_after_newaxis": (lambda a, i: a[None, i], lambda a, i: a[None, i], (M, _i(2, 0))),
    "constant_lists": (lambda a: a[[0, 2], [1, 3]], lambda a: a[[0, 2], [1, 3]], (M,)),
    "mask_full": (lambda a, b: a[b], lambda a, b: a[b], (M, M > 0)),
    "mask_rows": (lambda a, b: a[b], lambda a, b: a[b], (M, np.array([True, False, True]))),
    "mask_columns": (lambda a, b: a[:, b], lambda a, b: a[:, b], (M, np.array([True, False, True, True]))),
    "sorted_rows_by_argsort": (
        lambda a: a[ft.arange(3)[:, None], ft.argsort(a, axis=1)],
        lambda a: np.sort(a, axis=1),
        (M,),
    ),
    "take_axis": (lambda a, i: ft.take(a, i, axis=1), lambda a, i: np.take(a, i, axis=1), (M, _i(0, 3, -1))),
    "take_flat": (ft.take, np.take, (M, np.array([[0, 3], [11, 2]]))),
    "take_along_axis": (
        lambda a, i: ft.take_along_axis(a, i, 1),
        lambda a, i: np.take_along_axis(a, i, 1),
        (M, np.argsort(-M, 1)),
    ),
    "take_along_axis_broadcast": (
        lambda a, i: ft.take_along_axis(a, i, 0),
        lambda a, i: np.take_along_axis(a, i, 0),
        (M, np.array([[0, 2, 1, -1]])),
    ),
    "take_along_axis_none": (
        lambda a, i: ft.take_along_axis(a, i, None),
        lambda a, i: np.take_along_axis(a, i, None),
        (M, _i(0, 5, 11)),
    ),
    "take_along_axis_argmax": (
        lambda a: ft.take_along_axis(a, ft.argmax(a, axis=-1, keepdims=True), -1),
        lambda a: np.max(a, axis=-1, keepdims=True),
        (X3,),
    ),
    "set_slice": (
        lambda a, b: ft.set_subtensor(a[1:, ::2], b),
        _set(lambda: (slice(1, None), slice(None, None, 2))),
        (M, _u(2, 2)),
    ),
    "inc_negative_int": (lambda a, b: ft.inc_subtensor(a[-1], b), _add_at(lambda: -1), (M, _u(4))),
    "inc_int_values_into_floats": (
        lambda a, b: ft.inc_subtensor(a[0], b),
        _add_at(lambda: 0),
        (M, _i(1, 2, 3, 4)),
    ),
    "inc_repeated_index": (
        lambda a, b, i: ft.inc_subtensor(a[i], b),
        _add_at(lambda i: i),
        (V, _u(3), _i(0, 0, 4)),
    ),
    "set_repeated_index": (
        lambda a, b, i: ft.set_subtensor(a[i], b),
        _set(lambda i: i),
        (V, _u(3), _i(0, 1, 4)),
    ),
    "inc_repeated_rows": (
        lambda a, b, i: ft.inc_subtensor(a[i], b),
        _add_at(lambda i: i),
        (M, _u(2, 4), _i(0, 0)),
    ),
    "inc_row_broadcast": (
        lambda a, b, i: ft.inc_subtensor(a[i], b),
        _add_at(lambda i: i),
        (M, _u(4), _i(0, 2, 0)),
    ),
    "inc_scalar_broadcast": (
        lambda a, b, i: ft.inc_subtensor(a[i], b),
        _add_at(lambda i: i),
        (M, np.float64(5), _i(0, 2, 0)),
    ),
    "inc_pair": (
        lambda a, b, i, j: ft.inc_subtensor(a[i, j], b),
        _add_at(lambda i, j: (i, j)),
        (M, _u(3), _i(0, 1, 0), _i(1, 1, 1)),
    ),
    "inc_ignore_duplicates": (
        lambda a, b, i: ft.inc_subtensor(a[i], b, ignore_duplicates=True),
        lambda a, b, i: _set(lambda: i)(a, a[i] + b),
        (V, _u(3), _i(0, 0, 4)),
    ),
    "set_mask": (lambda a, b, k: ft.set_subtensor(a[k], b), _set(lambda k: k), (M, np.float64(0), M > 0)),
    "inc_mask": (lambda a, b, k: ft.inc_subtensor(a[k], b), _add_at(lambda k: k), (M, np.float64(2), M > 0)),
    "set_slice_and_index": (
        lambda a, b, i: ft.set_subtensor(a[1:, i], b),
        _set(lambda i: (slice(1, None), i)),
        (M, np.float64(-1), _i(0, 3)),
    ),
    "set_index_slice_int": (
        lambda a, b, i: ft.set_subtensor(a[i, 1:, 0], b),
        _set(lambda i: (i, slice(1, None), 0)),
        (X3, np.float64(7), _i(1, 0)),
    ),
    "constant_mask": (
        lambda a: a[ft.constant(np.array([True, False, True]))],
        lambda a: a[np.array([True, False, True])],
        (M,),
    ),
    "numpy_mask_and_index_array": (
        lambda a: [a[np.array([True, False, True])], a[np.array([2, 0])], a[[-1, 0, -3]]],
        lambda a: [a[np.array([True, False, True])], a[np.array([2, 0])], a[[-1, 0, -3]]],
        (M,),
    ),
    "newaxis_then_index_array": (lambda a, i: a[..., None, i], lambda a, i: a[..., None, i], (X3, _i(1, 3))),
    "index_matrix_on_middle_dim": (
        lambda a, i: a[:, i, :],
        lambda a, i: a[:, i, :],
        (X3, np.array([[0, 2], [1, 1]])),
    ),
    "scalar_index_and_vector": (lambda a, i, j: a[i, j], lambda a, i, j: a[i, j], (M, np.int64(1), _i(0, 3))),
    "empty_index_matrix": (lambda a, i: a[i], lambda a, i: a[i], (M, np.zeros((0, 2), "int64"))),
    "index_then_slice": (lambda a, i: a[i][::-1, 1], lambda a, i: a[i][::-1, 1], (M, _i(0, 2, 1))),
    "index_int_and_bool_tensors": (
        lambda a, b, i: [a[i], b[i]],
        lambda a, b, i: [a[i], b[i]],
        (_i(5, 6, 7), np.array([True, False, True]), _i(2, 2, 0)),
    ),
    "inc_into_ints_repeated": (
        lambda a, i: ft.inc_subtensor(a[i], 1),
        lambda a, i: _add_at(lambda: i)(a, 1),
        (_i(5, 6, 7), _i(2, 2)),
    ),
    "inc_negative_and_positive_alias": (
        lambda a, b: ft.inc_subtensor(a[[0, -3]], b),
        _add_at(lambda: [0, -3]),
        (M, np.float64(1.0)),
    ),
    "set_index_matrices": (
        lambda a, b, i, j: ft.set_subtensor(a[i, j], b),
        _set(lambda i, j: (i, j)),
        (M, _u(2, 2), np.array([[0], [2]]), _i(1, 3)),
    ),
    "inc_middle_dim_repeated": (
        lambda a, b, i: ft.inc_subtensor(a[:, i], b),
        _add_at(lambda i: (slice(None), i)),
        (X3, np.float64(1.0), _i(0, 0, 2)),
    ),
    "set_mask_rows": (
        lambda a, b, k: ft.set_subtensor(a[k], b),
        _set(lambda k: k),
        (M, _u(4), np.array([True, False, True])),
    ),
    "set_int8_into_floats": (
        lambda a, b: ft.set_subtensor(a[1], b),
        _set(lambda: 1),
        (M, np.array([1, 2, 3, 4], "int8")),
    ),
    "set_method": (lambda a, b: a[0].set(b), _set(lambda: 0), (M, np.float64(7))),
    "inc_method": (lambda a, b: a[:, 0].inc(b), _add_at(lambda: (slice(None), 0)), (M, np.float64(7))),
    "inc_theano_set_flag": (
        lambda a, b: ft.inc_subtensor(a[1:], b, set_instead_of_inc=True, inplace=True),
        _set(lambda: slice(1, None)),
        (V, np.float64(2)),
    ),
}

MATH: dict[str, Case] = {
    "argmax_axis": (lambda a: ft.argmax(a, axis=1), lambda a: np.argmax(a, 1), (M,)),
    "argmax_flat": (ft.argmax, np.argmax, (X3,)),
    "argmax_axis_neg": (lambda a: ft.argmax(a, axis=-1), lambda a: np.argmax(a, -1), (X3,)),
    "argmax_axis_tuple": (
        lambda a: ft.argmax(a, axis=(0, 2)),
        lambda a: np.argmax(np.moveaxis(a, 1, 0).reshape(3, -1), 1),
        (X3,),
    ),
    "argmin_keepdims": (
        lambda a: ft.argmin(a, axis=1, keepdims=True),
        lambda a: np.argmin(a, 1, keepdims=True),
        (X3,),
    ),
    "argmax_bool": (ft.argmax, np.argmax, (M > 0,)),
    "argmin_uint8": (lambda a: ft.argmin(a, axis=1), lambda a: np.argmin(a, 1), (AR.astype("uint8"),)),
    "max_and_argmax": (
        lambda a: ft.max_and_argmax(a, axis=1),
        lambda a: [np.max(a, 1), np.argmax(a, 1)],
        (M,),
    ),
    "max_axis_tuple": (lambda a: ft.max(a, axis=(0, 2)), lambda a: np.max(a, (0, 2)), (X3,)),
    "max_bool": (lambda a: ft.max(a, axis=0), lambda a: np.max(a, 0), (M > 0,)),
    "min_uint8": (lambda a: ft.min(a, axis=1), lambda a: np.min(a, 1), (AR.astype("uint8"),)),
    "sum_empty_axes": (lambda a: ft.sum(a, axis=()), lambda a: np.sum(a, axis=()), (M,)),
    "sum_negative_axes": (lambda a: ft.sum(a, axis=(-1, 0)), lambda a: np.sum(a, (-1, 0)), (X3,)),
    "sum_uint8": (ft.sum, np.sum, (AR.astype("uint8"),)),
    "sum_bool": (ft.sum, np.sum, (M > 0,)),
    "prod_bool": (lambda a: ft.prod(a, axis=0), lambda a: np.prod(a, 0), (M > 0,)),
    "prod_no_zeros_in_input": (
        lambda a: ft.prod(a, axis=0, no_zeros_in_input=True),
        lambda a: np.prod(a, 0),
        (M,),
    ),
    "mean_axis_tuple_keepdims": (
        lambda a: ft.mean(a, axis=(0, 2), keepdims=True),
        lambda a: np.mean(a, (0, 2), keepdims=True),
        (X3,),
    ),
    "mean_int": (ft.mean, np.mean, (AR.astype("int32"),)),
    "mean_float32": (lambda a: ft.mean(a, axis=0), lambda a: np.mean(a, 0), (M.astype("float32"),)),
    "var_axis": (lambda a: ft.var(a, axis=1), lambda a: np.var(a, 1), (X3,)),
    "var_int": (ft.var, np.var, (AR.astype("int32"),)),
    "std_ddof": (lambda a: ft.std(a, axis=0, ddof=1), lambda a: np.std(a, 0, ddof=1), (M,)),
    "all_axis": (lambda a: ft.all(a, axis=0), lambda a: np.all(a, 0), (AR,)),
    "any_keepdims": (
        lambda a: ft.any(a, axis=-1, keepdims=True),
        lambda a: np.any(a, -1, keepdims=True),
        (AR - 5,),
    ),
    "ptp": (lambda a: ft.ptp(a, axis=0), lambda a: np.ptp(a, 0), (M,)),
    "clip_constants": (lambda a: ft.clip(a, -0.5, 1.0), lambda a: np.clip(a, -0.5, 1.0), (M,)),
    "clip_int": (lambda a: ft.clip(a, 2, 7), lambda a: np.clip(a, 2, 7), (AR.astype("int32"),)),
    "clip_symbolic_bounds": (ft.clip, np.clip, (M, _u(4), np.float64(1.0))),
    "dot_vector_vector": (ft.dot, np.dot, (V, V[::-1].copy())),
    "dot_matrix_vector": (ft.dot, np.dot, (M, _u(4))),
    "dot_vector_matrix": (ft.dot, np.dot, (_u(3), M)),
    "dot_3d_2d": (ft.dot, np.dot, (X3, _u(4, 2))),
    "dot_4d_3d": (ft.dot, np.dot, (_u(2, 3, 2, 2), _u(2, 2, 3))),
    "dot_scalar": (ft.dot, np.dot, (np.float64(2.0), M)),
    "dot_int": (ft.dot, np.dot, (AR.astype("int32"), AR.T.astype("int32"))),
    "dot_float32_int32": (ft.dot, np.dot, (M.astype("float32"), AR.T.astype("int32"))),
    "dense_dot": (ft.dense_dot, np.dot, (M, M.T.copy())),
    "tensordot_int_axes": (
        lambda a, b: ft.tensordot(a, b, 1),
        lambda a, b: np.tensordot(a, b, 1),
        (X3, _u(4, 2)),
    ),
    "tensordot_two_axes": (
        lambda a, b: ft.tensordot(a, b, 2),
        lambda a, b: np.tensordot(a, b, 2),
        (X3, _u(3, 4)),
    ),
    "tensordot_axis_lists": (
        lambda a, b: ft.tensordot(a, b, [[1, 2], [0, 1]]),
        lambda a, b: np.tensordot(a, b, [[1, 2], [0, 1]]),
        (X3, _u(3, 4)),
    ),
    "tensordot_negative_axes": (
        lambda a, b: ft.tensordot(a, b, [[-1], [0]]),
        lambda a, b: np.tensordot(a, b, [[-1], [0]]),
        (X3, _u(4, 2)),
    ),
    "tensordot_outer": (lambda a, b: ft.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), (V, _u(3))),
    "outer": (ft.outer, np.outer, (V, _u(3))),
    "outer_flattens": (ft.outer, np.outer, (M, _u(3))),
    "outer_int": (ft.outer, np.outer, (_i(1, 2), _i(3, 4, 5))),
    "matmul_batched": (ft.matmul, np.matmul, (X3, _u(4, 2))),
    "matmul_operator": (lambda a, b: a @ b, np.matmul, (X3, _u(2, 4, 3))),
    "mod_negative_ints": (lambda a, b: a % b, np.mod, (_i(-5, 5, -7), _i(3, -3, 2))),
    "floor_div_negative_ints": (lambda a, b: a // b, np.floor_divide, (_i(-5, 5, -7), _i(3, -3, 2))),
    "mod_negative_floats": (
        lambda a, b: a % b,
        np.mod,
        (np.array([-5.5, 5.5, -7.0]), np.array([3.0, -3.0, 2.0])),
    ),
    "true_div_int32": (
        lambda a, b: a / b,
        np.true_divide,
        (_i(-5, 5, -7).astype("int32"), _i(3, -3, 2).astype("int32")),
    ),
    "pow_ints": (lambda a, b: a**b, np.power, (_i(2, 3, 4), _i(3, 2, 0))),
    "uint8_wraps": (lambda a, b: a - b, np.subtract, (np.array([5, 7], "uint8"), np.array([6, 3], "uint8"))),
    "float32_times_python_float": (lambda a: a * 2.5, lambda a: a * np.float32(2.5), (M.astype("float32"),)),
    "ceil_intdiv": (ft.ceil_intdiv, lambda a, b: -(-a // b), (_i(7, -7, 7, -7, 6), _i(2, 2, -2, -2, 3))),
    "divmod": (ft.divmod, lambda a, b: list(np.divmod(a, b)), (_i(7, -7, 7, -7, 6), _i(2, 2, -2, -2, 3))),
    "comparison_spellings": (
        lambda a, b: [ft.less(a, b), ft.greater(a, b), ft.less_equal(a, b), ft.greater_equal(a, b)],
        lambda a, b: [a < b, a > b, a <= b, a >= b],
        (np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])),
    ),
    "equality_spellings": (
        lambda a, b: [ft.equal(a, b), ft.not_equal(a, b)],
        lambda a, b: [a == b, a != b],
        (np.array([1.0, 2.0, np.nan]), np.array([2.0, 2.0, np.nan])),
    ),
    "power_expit_conjugate": (
        lambda a: [ft.power(a, 3), ft.expit(a), ft.conjugate(a)],
        lambda a: [a**3, 1 / (1 + np.exp(-a)), np.conjugate(a)],
        (M,),
    ),
    "isposinf_isneginf": (
        lambda a: [ft.isposinf(a), ft.isneginf(a)],
        lambda a: [np.isposinf(a), np.isneginf(a)],
        (np.array([np.inf, -np.inf, np.nan, 1.0, 0.0]),),
    ),
    "isposinf_int": (ft.isposinf, np.isposinf, (_i(1, 2),)),
    "round_default_half_to_even": (ft.round, np.round, (np.array([0.5, 1.5, 2.5, -0.5, -1.5]),)),
    "round_half_to_even": (
        lambda a: [ft.round(a, mode="half_to_even"), ft.round_half_to_even(a)],
        lambda a: [np.round(a)] * 2,
        (np.array([0.5, 1.5, 2.5, -0.5, -1.5]),),
    ),
    "round_half_away_from_zero": (
        lambda a: [
            ft.round(a, mode="half_away_from_zero"),
            ft.round_half_away_from_zero(a),
            a.round("half_away_from_zero"),
        ],
        lambda a: [np.array([1.0, 2.0, 3.0, -1.0, -2.0, 0.0, -0.0, np.inf, np.nan])] * 3,
        (np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, -0.3, np.inf, np.nan]),),
    ),
    "round_half_away_float32": (
        ft.round_half_away_from_zero,
        lambda a: np.array([1.0, 2.0, -3.0, -0.0], "float32"),
        (np.array([0.5, 1.5, -2.5, -0.4], "float32"),),
    ),
    "iround_modes": (
        lambda a: [ft.iround(a), ft.iround(a, mode="half_away_from_zero")],
        lambda a: [_i(0, 2, 2, -2), _i(1, 2, 3, -3)],
        (np.array([0.5, 1.5, 2.5, -2.5]),),
    ),
    "sgn": (ft.sgn, np.sign, (np.array([-2.0, 0.0, 3.0]),)),
    "isclose": (ft.isclose, np.isclose, (np.array([1.0, 2.0, np.nan]), np.array([1.0 + 1e-9, 2.1, np.nan]))),
    "nan_to_num": (ft.nan_to_num, np.nan_to_num, (np.array([np.nan, np.inf, -np.inf, 1.0]),)),
    "logsumexp": (lambda a: ft.logsumexp(a, axis=1), lambda a: np.log(np.exp(a).sum(1)), (M,)),
    "cumsum_axis": (lambda a: ft.cumsum(a, axis=1), lambda a: np.cumsum(a, 1), (X3,)),
    "cumsum_flat_int8": (ft.cumsum, np.cumsum, (np.array([100, 100], "int8"),)),
    "cumprod_axis_neg": (lambda a: ft.cumprod(a, axis=-1), lambda a: np.cumprod(a, -1), (M,)),
    "diff_twice": (lambda a: ft.diff(a, n=2, axis=0), lambda a: np.diff(a, 2, 0), (_u(4, 3),)),
    "diff_bool": (ft.diff, np.diff, (np.array([True, False, False]),)),
    "sort_flat": (lambda a: ft.sort(a, axis=None), lambda a: np.sort(a, axis=None), (M,)),
    "sort_kinds": (
        lambda a: [ft.sort(a, kind=k) for k in ("quicksort", "mergesort", "heapsort", "stable")],
        lambda a: [np.sort(a)] * 4,
        (M,),
    ),
    "argsort_stable_ties": (
        lambda a: [ft.argsort(a, kind="stable"), a.argsort(axis=None, kind="mergesort")],
        lambda a: [np.argsort(a, kind="stable"), np.argsort(a, axis=None, kind="stable")],
        (np.tile(_i(3, 1, 3, 1), (3, 10)),),
    ),
    "median": (lambda a: ft.median(a, axis=1), lambda a: np.median(a, 1), (M,)),
    "bincount_weights": (
        lambda a, w: ft.bincount(a, w, minlength=8),
        lambda a, w: np.bincount(a, w, minlength=8),
        (_i(0, 1, 1, 5), _u(4)),
    ),
    "searchsorted_right": (
        lambda a, b: ft.searchsorted(a, b, side="right"),
        lambda a, b: np.searchsorted(a, b, side="right"),
        (np.arange(5.0), np.array([0.5, 3.0, 9.0])),
    ),
    "repeat_vector_counts": (
        lambda a, r: ft.repeat(a, r, axis=0),
        lambda a, r: np.repeat(a, r, 0),
        (M, _i(1, 0, 2)),
    ),
    "repeat_symbolic": (
        lambda a, n: ft.repeat(a, n, axis=0),
        lambda a, n: np.repeat(a, n, 0),
        (M, np.int64(2)),
    ),
    "unravel_index": (
        lambda a: ft.unravel_index(a, (3, 4)),
        lambda a: list(np.unravel_index(a, (3, 4))),
        (_i(0, 5, 11),),
    ),
    "ravel_multi_index": (
        lambda a, b: ft.ravel_multi_index((a, b), (3, 4)),
        lambda a, b: np.ravel_multi_index((a, b), (3, 4)),
        (_i(0, 1, 2), _i(3, 1, 0)),
    ),
    "compress": (
        lambda c, a: ft.compress(c, a, axis=0),
        lambda c, a: np.compress(c, a, 0),
        (np.array([True, False, True]), M),
    ),
    "nonzero": (ft.nonzero, lambda a: list(np.nonzero(a)), (AR - 5,)),
    "kron": (ft.kron, np.kron, (M, _u(2, 2))),
    "einsum": (
        lambda a, b: ft.einsum("ij,jk->ik", a, b),
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        (M, M.T.copy()),
    ),
}

SHAPE: dict[str, Case] = {
    "reshape_inferred": (lambda a: ft.reshape(a, (4, -1)), lambda a: a.reshape(4, -1), (X3,)),
    "reshape_method_tuple": (lambda a: a.reshape((2, -1, 3)), lambda a: a.reshape(2, -1, 3), (X3,)),
    "reshape_method_args": (lambda a: a.reshape(6, 4), lambda a: a.reshape(6, 4), (X3,)),
    "reshape_symbolic_size": (
        lambda a, n: ft.reshape(a, (n, -1)),
        lambda a, n: a.reshape(n, -1),
        (X3, np.int64(4)),
    ),
    "reshape_symbolic_vector": (
        lambda a, s: ft.reshape(a, s, ndim=2),
        lambda a, s: a.reshape(s),
        (X3, _i(6, 4)),
    ),
    "reshape_to_0d": (lambda a: ft.reshape(a, ()), lambda a: a.reshape(()), (V[:1],)),
    "flatten_default": (lambda a: a.flatten(), lambda a: a.flatten(), (X3,)),
    "flatten_2": (lambda a: ft.flatten(a, ndim=2), lambda a: a.reshape(2, -1), (X3,)),
    "flatten_all_kept": (lambda a: ft.flatten(a, 3), lambda a: a, (X3,)),
    "flatten_0d": (lambda a: ft.flatten(a, 1), lambda a: np.reshape(a, -1), (np.float64(3.0),)),
    "shape_padleft": (lambda a: ft.shape_padleft(a, 2), lambda a: a[None, None], (M,)),
    "shape_padright": (lambda a: ft.shape_padright(a, 1), lambda a: a[..., None], (M,)),
    "shape_padaxis": (lambda a: ft.shape_padaxis(a, 1), lambda a: a[:, None], (M,)),
    "shape_padaxis_negative": (lambda a: ft.shape_padaxis(a, -1), lambda a: a[:, :, None], (M,)),
    "atleast_Nd_left": (lambda a: ft.atleast_Nd(a, n=3), lambda a: a[None, None], (V,)),
    "atleast_Nd_right": (lambda a: ft.atleast_Nd(a, n=3, left=False), lambda a: a[:, None, None], (V,)),
    "atleast_3d": (ft.atleast_3d, np.atleast_3d, (M,)),
    "expand_dims_tuple": (lambda a: ft.expand_dims(a, (0, 3)), lambda a: np.expand_dims(a, (0, 3)), (M,)),
    "specify_shape": (lambda a: ft.specify_shape(a, (3, 4)) * 2, lambda a: a * 2, (M,)),
    "specify_shape_partial": (lambda a: ft.specify_shape(a, (None, 4)) * 2, lambda a: a * 2, (M,)),
    "squeeze_axis": (lambda a: ft.squeeze(ft.shape_padleft(a), axis=0), lambda a: a, (M,)),
    "swapaxes_negative": (lambda a: ft.swapaxes(a, -1, 0), lambda a: np.swapaxes(a, -1, 0), (X3,)),
    "transpose_default": (ft.transpose, np.transpose, (X3,)),
    "transpose_axes": (lambda a: ft.transpose(a, (1, 2, 0)), lambda a: np.transpose(a, (1, 2, 0)), (X3,)),
    "matrix_transpose": (
        lambda a: [a.mT, ft.matrix_transpose(a)],
        lambda a: [np.swapaxes(a, -1, -2)] * 2,
        (X3,),
    ),
    "dimshuffle_broadcast": (lambda a: a.dimshuffle(1, "x", 0), lambda a: a.T[:, None, :], (M,)),
    "dimshuffle_tuple": (lambda a: a.dimshuffle((1, 0)), lambda a: a.T, (M,)),
    "moveaxis_many": (
        lambda a: ft.moveaxis(a, [0, 1], [2, 0]),
        lambda a: np.moveaxis(a, [0, 1], [2, 0]),
        (X3,),
    ),
    "flip_axes": (lambda a: ft.flip(a, axis=(0, 2)), lambda a: np.flip(a, (0, 2)), (X3,)),
    "diagonal_axes": (lambda a: ft.diagonal(a, 1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2), (X3,)),
    "diagonal_axes_reversed": (lambda a: ft.diagonal(a, -1, 2, 0), lambda a: np.diagonal(a, -1, 2, 0), (X3,)),
    "diagonal_method": (lambda a: a.diagonal(0, 1, 0), lambda a: np.diagonal(a, 0, 1, 0), (M,)),
    "trace_axes": (
        lambda a: [ft.trace(a, 0, 1, 2), a.trace(1, 0, 2)],
        lambda a: [np.trace(a, 0, 1, 2), np.trace(a, 1, 0, 2)],
        (X3,),
    ),
    "shape_and_size": (
        lambda a: [a.shape, a.size, a.shape[1]],
        lambda a: [_i(*a.shape), np.int64(a.size), np.int64(a.shape[1])],
        (X3,),
    ),
    "ones_of_a_shape": (lambda a: ft.ones(a.shape), lambda a: np.ones(a.shape), (M,)),
    "zeros_of_an_int_vector": (
        lambda a: ft.zeros(ft.specify_shape(a, (2,)), dtype="int8"),
        lambda a: np.zeros(a, "int8"),
        (_i(2, 3),),
    ),
}

AREAS = {"basic": BASIC, "subtensor": SUBTENSOR, "math": MATH, "shape": SHAPE}
ALL = [(area, name) for area, cases in AREAS.items() for name in cases]


def _check_case(name: str, got: list, case: Case) -> None:
    _, ref, vals = case
    with np.errstate(all="ignore"):
        want = as_list(ref(*vals))
    assert len(got) == len(want), name
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, np.asarray(w), f"{name} output {k}")


@pytest.mark.parametrize("area, name", ALL, ids=[f"{a}-{n}" for a, n in ALL])
def test_values_match_numpy(area: str, name: str) -> None:
    build, _, vals = AREAS[area][name]
    _check_case(name, run_case(build, vals, PY), AREAS[area][name])


@pytest.mark.parametrize("area", list(AREAS))
def test_values_compiled_to_c(area: str) -> None:
    """Every case of the area as outputs of one compiled function (one gcc call)."""
    cases = AREAS[area]
    got = run_cases_in_one_function({name: (case[0], case[2]) for name, case in cases.items()})
    for name, case in cases.items():
        _check_case(name, got[name], case)


def test_an_index_outside_the_choices_raises_when_the_function_runs() -> None:
    a, table = ft.lvector("a"), ft.matrix("table")
    f = fc.function([a, table], ft.choose(a, table), mode=PY)
    with pytest.raises(AssertionError, match="choose: an index of a is outside"):
        f(_i(0, 3), AR[:, :2])


# -- gradients against central finite differences ----------------------------------------------
#: (expression builder, input values): every float input gets its gradient checked.
GRADS: dict[str, tuple[Callable[..., Any], tuple]] = {
    "join": (lambda a, b: ft.join(1, a, b), (M, _u(3, 2))),
    "split_middle_piece": (lambda a: ft.split(a, [1, 2], 2, axis=0)[1], (M,)),
    "stack_axis1": (lambda a, b: ft.stack([a, b], axis=1), (M, _u(3, 4))),
    "horizontal_stack": (ft.horizontal_stack, (M, _u(3, 2))),
    "alloc_row": (lambda a: ft.alloc(a, 3, 4), (_u(1, 4),)),
    "alloc_col_to_3d": (lambda a: ft.alloc(a, 2, 3, 4), (_u(3, 1),)),
    "alloc_dimshuffled": (lambda a: ft.alloc(a.dimshuffle("x", 0), 1, 3, 4), (_u(4),)),
    "tile": (lambda a: ft.tile(a, (2, 3)), (M,)),
    "tile_symbolic": (lambda a, n: ft.tile(a, (n, 2)), (M, np.int64(2))),
    "roll": (lambda a: ft.roll(a, 2, axis=1), (M,)),
    "choose_stacked": (lambda i, t: ft.choose(i, t), (_i(0, 1, 2, 1), M)),
    "choose_stacked_broadcast": (lambda i, t: ft.choose(i, t), (np.array([[0], [2]]), M)),
    "choose_list": (lambda i, a, b: ft.choose(i, [a, b]), (_i(0, 1, 1, 0, 1), V, _u(5))),
    "fill_diagonal": (lambda a: ft.fill_diagonal(a, 3.0), (M,)),
    "permute_row_elements": (
        lambda a: ft.permute_row_elements(
            a, ft.constant(np.array([[1, 0, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]])), True
        ),
        (M,),
    ),
    "take_along_axis": (lambda a: ft.take_along_axis(a, ft.argsort(a, axis=1), 1) * ft.arange(4), (M,)),
    "broadcast_arrays": (
        lambda a, b: ft.broadcast_arrays(a, b)[0] * ft.broadcast_arrays(a, b)[1],
        (_u(3, 1), _u(4)),
    ),
    "geomspace_bounds": (lambda s, e: ft.geomspace(s, e, 5), (np.float64(1.5), np.float64(20.0))),
    "logspace_bounds": (lambda s, e: ft.logspace(s, e, 4, base=2.0), (np.float64(0.5), np.float64(2.0))),
    "index_pair": (lambda a, i, j: a[i, j], (M, _i(0, 1, 0), _i(3, 2, 3))),
    "mask": (lambda a, b: a[b], (M, M > 0)),
    "inc_repeated": (lambda a, b, i: ft.inc_subtensor(a[i], b), (V, _u(3), _i(0, 0, 4))),
    "set_repeated": (lambda a, b, i: ft.set_subtensor(a[i], b), (V, _u(3), _i(0, 1, 4))),
    "inc_ignore_duplicates": (
        lambda a, b, i: ft.inc_subtensor(a[i], b, ignore_duplicates=True),
        (V, _u(3), _i(0, 0, 4)),
    ),
    "set_mask": (lambda a, b, k: ft.set_subtensor(a[k], b), (M, np.array(0.5), M > 0)),
    "inc_row_broadcast": (lambda a, b, i: ft.inc_subtensor(a[i], b), (M, _u(4), _i(0, 2, 0))),
    "mean_axis_tuple": (lambda a: ft.mean(a, axis=(0, 2)), (X3,)),
    "var_axis": (lambda a: ft.var(a, axis=1), (X3,)),
    "std_all": (ft.std, (X3,)),
    "max_axis_tuple": (lambda a: ft.max(a, axis=(0, 2)), (X3,)),
    "prod_axis": (lambda a: ft.prod(a, axis=1), (X3,)),
    "clip": (lambda a: ft.clip(a, -0.7, 1.1), (M,)),
    "tensordot_two_axes": (lambda a, b: ft.tensordot(a, b, [[1, 2], [0, 1]]), (X3, _u(3, 4))),
    "outer": (ft.outer, (V, _u(3))),
    "dot_3d_2d": (ft.dot, (X3, _u(4, 2))),
    "cumsum": (lambda a: ft.cumsum(a, axis=1), (M,)),
    "cumprod": (lambda a: ft.cumprod(a, axis=0), (M,)),
    "ptp": (lambda a: ft.ptp(a, axis=0), (M,)),
    "max_and_argmax": (lambda a: ft.max_and_argmax(a, axis=0)[0], (M,)),
    "round_away_is_flat": (lambda a: ft.round_half_away_from_zero(a) + a, (M,)),
    "reshape": (lambda a: ft.reshape(a, (4, -1)), (X3,)),
    "flatten": (lambda a: ft.flatten(a, 2), (X3,)),
    "diagonal_axes": (lambda a: ft.diagonal(a, 1, 1, 2), (X3,)),
    "trace_axes": (lambda a: ft.trace(a, 0, 0, 2), (X3,)),
    "matrix_transpose": (lambda a: a.mT * ft.arange(3), (X3,)),
    "moveaxis": (lambda a: ft.moveaxis(a, 0, -1) * ft.arange(2), (X3,)),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_finite_differences(name: str) -> None:
    fd_check_case(name, *GRADS[name], mode=PY)


def test_gradients_compiled_to_c() -> None:
    names = ["choose_stacked", "tile_symbolic", "take_along_axis", "inc_ignore_duplicates", "diagonal_axes"]
    names += ["geomspace_bounds", "broadcast_arrays", "alloc_col_to_3d"]
    ins, cases, values = [], {}, []
    for name in names:
        build, vals = GRADS[name]
        vals = tuple(np.asarray(v) for v in vals)
        at = len(ins)
        ins += [symbolic_like(v) for v in vals]
        values += list(vals)
        used = [at + k for k, v in enumerate(vals) if v.dtype.kind == "f"]
        cases[name] = (on_slice(build, at, len(vals)), used)
    fd_check_grads(ins, cases, [values], mode="FAST_RUN")


# -- static shapes and dtypes ------------------------------------------------------------------
def _static() -> dict[str, tuple[Any, tuple]]:
    x, v, t3 = ft.matrix("x"), ft.vector("v"), ft.tensor3("t")
    n, d = ft.lscalar("n"), ft.lscalar("d")
    x23, t234 = ft.specify_shape(x, (2, 3)), ft.specify_shape(t3, (2, 3, 4))
    v3 = ft.specify_shape(v, (3,))
    partial = ft.tensor(shape=(None, 1, 5))
    return {
        "reshape_keeps_a_1": (ft.reshape(x, (1, -1)), (1, None)),
        "reshape_infers_minus_one": (ft.reshape(x23, (-1, 2)), (3, 2)),
        "flatten_static": (ft.flatten(t234, 2), (2, 12)),
        "flatten_all": (ft.flatten(t234), (24,)),
        "concatenate_axis_none": (ft.concatenate([x23, x23], axis=None), (12,)),
        "outer_static": (ft.outer(v3, v), (3, None)),
        "padleft": (ft.shape_padleft(x, 2), (1, 1, None, None)),
        "padright": (ft.shape_padright(v), (None, 1)),
        "specify_shape": (ft.specify_shape(x, (3, None)), (3, None)),
        "join": (ft.join(0, x23, ft.specify_shape(x, (4, 3))), (6, 3)),
        "stack": (ft.stack([v, v]), (2, None)),
        "alloc_constant_sizes": (ft.alloc(partial, 3, 1, 5), (3, 1, 5)),
        "alloc_broadcasts_the_1": (ft.alloc(partial, 3, 4, 5), (3, 4, 5)),
        "alloc_symbolic_sizes": (ft.alloc(partial, n, d, 5), (None, None, 5)),
        "alloc_symbolic_size_of_a_known_dim": (ft.alloc(partial, n, 1, d), (None, 1, 5)),
        "zeros_of_a_static_shape": (ft.zeros(ft.vector(shape=(50,)).shape), (50,)),
        "empty_of_a_partial_shape": (ft.empty(ft.tensor(shape=(None, 5)).shape), (None, 5)),
        "eye_symbolic_k": (ft.eye(5, 3, n), (5, 3)),
        "eye_symbolic_m": (ft.eye(1, n, 3), (1, None)),
        "tile": (ft.tile(x23, (2, 2)), (4, 6)),
        "argmax_keepdims": (ft.argmax(x, axis=1, keepdims=True), (None, 1)),
        "max_keepdims_all": (ft.max(x, keepdims=True), (1, 1)),
        "tensordot": (ft.tensordot(t234, ft.specify_shape(x, (4, 5)), 1), (2, 3, 5)),
        "repeat": (ft.repeat(x23, 2, axis=0), (4, 3)),
        "matmul": (ft.matmul(t234, ft.specify_shape(x, (4, 5))), (2, 3, 5)),
        "mT": (t234.mT, (2, 4, 3)),
        "take_along_axis": (ft.take_along_axis(x23, ft.argsort(x23, 1), 1), (2, 3)),
        "moveaxis": (ft.moveaxis(t234, 0, -1), (3, 4, 2)),
    }


STATIC = list(_static())


@pytest.mark.parametrize("name", STATIC)
def test_static_shapes(name: str) -> None:
    expr, want = _static()[name]
    assert expr.type.shape == want


def test_the_shape_of_a_scalar_reads_nothing() -> None:
    """A 0-d tensor's shape is the empty vector: ``ones(s.shape)`` needs no input."""
    s = ft.scalar("s")
    assert fc.function([], ft.ones(s.shape), mode=PY)().shape == ()
    # a static input's shape still reads the input: a function of it alone takes and checks it
    v = ft.vector("v", shape=(50,))
    f = fc.function([v], v.shape, mode=PY)
    assert_same(f(np.zeros(50)), _i(50))
    with pytest.raises(TypeError, match="dim 0 must have size 50"):
        f(np.zeros(3))


@pytest.mark.parametrize("shape", [[], 1, [1], [1, 2], np.r_[1, 2, 3], np.array(5), ft.constant([2, 3])])
def test_ones_zeros_full_take_every_spelling_of_a_shape(shape: Any) -> None:
    want = np.asarray(shape.data) if isinstance(shape, ft.TensorConstant) else shape
    f = fc.function(
        [], [ft.ones(shape), ft.zeros(ft.constant(want)), ft.full(shape, 3, dtype="int64")], mode=PY
    )
    got = f()
    assert_same(got[0], np.ones(want))
    assert_same(got[1], np.zeros(want))
    assert_same(got[2], np.full(want, 3, dtype="int64"))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8", "float32", "float64"])
def test_eye_and_tri_of_symbolic_sizes_in_every_dtype(dtype: str) -> None:
    n, m, k = ft.iscalar("n"), ft.iscalar("m"), ft.iscalar("k")
    f = fc.function([n, m, k], [ft.eye(n, m, k, dtype=dtype), ft.tri(n, m, k, dtype=dtype)], mode=PY)
    for args in [(3, 3, 0), (3, 5, 0), (5, 3, 0), (3, 3, 1), (3, 3, -1), (3, 5, -1), (5, 3, 1)]:
        got = f(*args)
        assert_same(got[0], np.eye(*args, dtype=dtype), f"eye{args}")
        assert_same(got[1], np.tri(*args, dtype=dtype), f"tri{args}")


def test_get_vector_length() -> None:
    assert ft.get_vector_length(ft.matrix().shape) == 2
    assert ft.get_vector_length(ft.specify_shape(ft.lvector(), (3,))) == 3
    assert ft.get_vector_length([1, 2]) == 2
    assert ft.get_vector_length(ft.constant(np.arange(4))) == 4


# -- bad arguments ------------------------------------------------------------------------------
def _bad() -> dict[str, tuple[Callable[[], Any], type, str]]:
    x, v, iv = ft.matrix("x"), ft.vector("v"), ft.lvector("i")
    return {
        "choose_mode": (lambda: ft.choose(iv, x, mode="nearest"), ValueError, "choose: mode must be"),
        "choose_scalar_choices": (
            lambda: ft.choose(iv, ft.scalar()),
            ValueError,
            "choose: choices must have a first dim",
        ),
        "choose_float_index": (lambda: ft.choose(v, x), TypeError, "choose: a must hold ints"),
        "tile_vector_of_unknown_length": (
            lambda: ft.tile(x, iv),
            ValueError,
            r"tile: reps is the symbolic vector .*specify_shape",
        ),
        "tile_float_rep": (
            lambda: ft.tile(x, (ft.scalar(), 2)),
            TypeError,
            "tile: reps must be ints or symbolic int scalars",
        ),
        "tile_negative": (lambda: ft.tile(x, (-1, 2)), ValueError, "tile: reps must be non-negative"),
        "diagonal_of_a_vector": (
            lambda: ft.diagonal(v),
            ValueError,
            "diagonal: takes a tensor of 2 or more dims",
        ),
        "diagonal_same_axes": (lambda: ft.diagonal(x, 0, 1, 1), ValueError, "diagonal"),
        "sort_kind": (lambda: ft.sort(x, kind="bogo"), ValueError, "sort: kind must be one of"),
        "argsort_order": (lambda: ft.argsort(x, order="f0"), ValueError, "argsort: order"),
        "round_mode": (lambda: ft.round(x, mode="half_up"), ValueError, "round: mode must be None or one of"),
        "take_along_axis_ndim": (
            lambda: ft.take_along_axis(x, iv, 1),
            ValueError,
            "take_along_axis: indices .*keepdims",
        ),
        "take_along_axis_float": (
            lambda: ft.take_along_axis(x, x, 1),
            TypeError,
            "take_along_axis: indices must hold ints",
        ),
        "permute_row_elements_float_y": (
            lambda: ft.permute_row_elements(x, v),
            TypeError,
            "permute_row_elements: x must have at least 1 dim and y be an int tensor",
        ),
        "inverse_permutation_float": (
            lambda: ft.inverse_permutation(v),
            TypeError,
            "inverse_permutation: perm must be an int",
        ),
        "tril_indices_float_n": (lambda: ft.tril_indices(2.5), TypeError, "tril_indices: n must be an int"),
        "geomspace_zero": (
            lambda: ft.geomspace(0, 10),
            ValueError,
            "geomspace: start is 0.*give non-zero ends",
        ),
        "get_vector_length_unknown": (
            lambda: ft.get_vector_length(iv),
            ValueError,
            r"get_vector_length: .*specify_shape",
        ),
        "get_vector_length_matrix": (
            lambda: ft.get_vector_length(x),
            TypeError,
            "get_vector_length: takes a vector",
        ),
        "matrix_transpose_vector": (
            lambda: ft.matrix_transpose(v),
            ValueError,
            "matrix_transpose: takes a tensor of 2",
        ),
        "alloc_incompatible_static": (
            lambda: ft.alloc(ft.tensor(shape=(None, 1, 5)), 3, 1, 6),
            ValueError,
            r"alloc: the value has static shape .* cannot be broadcast",
        ),
        "inc_subtensor_flag": (
            lambda: ft.inc_subtensor(v[1:], 1.0, False, "yes"),
            TypeError,
            "inc_subtensor: set_instead_of_inc",
        ),
    }


BAD = list(_bad())


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_name_the_function_and_the_fix(name: str) -> None:
    call, exc, match = _bad()[name]
    with pytest.raises(exc, match=match):
        call()


# -- where fncache follows numpy rather than PyTensor (README / docs/numpy.md) ------------------
def test_run_time_broadcasting_follows_numpy() -> None:
    """A size 1 known only when the function runs broadcasts, as numpy's does (PyTensor refuses
    it unless the type declares the 1)."""
    x, y = ft.vector("x"), ft.matrix("y")
    f = fc.function([x, y], [ft.alloc(x, 5, 3), x + y], mode=PY)
    got = f(np.ones(1), np.zeros((2, 3)))
    assert_same(got[0], np.ones((5, 3)))
    assert_same(got[1], np.ones((2, 3)))


def test_squeeze_drops_only_the_dims_the_type_knows_are_1() -> None:
    x = ft.tensor3("x")
    assert ft.squeeze(x).ndim == 3
    assert ft.squeeze(ft.specify_shape(x, (None, 1, None))).ndim == 2


def test_a_gradient_through_a_chain_of_complex_values() -> None:
    """``cast(a) + 1j * cast(b)`` reaches ``a`` and ``b`` through several complex ops, each
    passing the gradient on (a zero one would be wrong): closed forms of the real parts."""
    a, b = ft.dvector("a"), ft.dvector("b")
    z = ft.cast(a, "complex128") + ft.cast(b, "complex128") * ft.constant(np.complex128(1j))
    av, bv = np.array([0.5, -2.0]), np.array([1.5, 0.25])
    costs = {
        "real": (ft.sum(ft.real(z)), [np.ones(2), np.zeros(2)]),
        "abs**2": (ft.sum(ft.abs(z) ** 2), [2 * av, 2 * bv]),
        "real(z*z)": (ft.sum(ft.real(z * z)), [2 * av, -2 * bv]),  # a**2 - b**2
    }
    for name, (cost, want) in costs.items():
        got = fc.function([a, b], fc.grad(cost, [a, b]))(av, bv)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=name)


def test_reshape_static_shapes_from_constants_and_static_inputs() -> None:
    """A constant entry computed from constants is static, and the one entry left unknown
    (``-1`` or symbolic) is static where the input's sizes all are (a run with another size
    fails)."""
    n, dim = ft.as_tensor_variable(50), ft.lscalar("dim")
    assert ft.reshape(ft.vector("i"), (100 // n, n)).type.shape == (2, 50)
    x1 = ft.tensor(shape=(2, 2, None))
    x2 = ft.specify_shape(x1, (2, 2, 6))
    cases = [
        (ft.reshape(x1, (6, 2)), (6, 2)),
        (ft.reshape(x1, (6, -1)), (6, None)),
        (ft.reshape(x1, (6, dim)), (6, None)),
        (ft.reshape(x1, (6, dim, 2)), (6, None, 2)),
        (ft.reshape(x2, (6, -1)), (6, 4)),
        (ft.reshape(x2, (6, dim)), (6, 4)),
        (ft.reshape(x2, (6, dim, 2)), (6, 2, 2)),
        (ft.reshape(ft.dmatrix("b"), (3, -1, 1)), (3, None, 1)),
    ]
    for expr, want in cases:
        assert expr.type.shape == want
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(2, 2, 6\) into \(6, 3, 99\)"):
        ft.reshape(x2, (6, 3, 99))
    f = fc.function([x1, dim], ft.reshape(x2, (6, dim)), mode=PY)
    assert_same(f(np.ones((2, 2, 6)), 4), np.ones((6, 4)))
    with pytest.raises(ValueError, match="reshape"):
        f(np.ones((2, 2, 6)), 3)


def test_reshape_takes_every_spelling_of_the_shape() -> None:
    b, d = ft.dmatrix("b"), ft.dmatrix("d")
    bv = np.arange(6.0).reshape(2, 3)
    outs = [
        ft.reshape(b, ft.as_tensor_variable(6), ndim=1),
        ft.reshape(b, (ft.as_tensor_variable(6),), ndim=1),
        ft.reshape(b, d.shape),
        ft.reshape(b, (b.shape[1], b.shape[0], 1)),
    ]
    got = fc.function([b, d], outs, mode=PY)(bv, np.zeros((3, 2)))
    for g, want in zip(got, [bv.ravel(), bv.ravel(), bv.reshape(3, 2), bv.reshape(3, 2, 1)]):
        assert_same(g, want)
    s = ft.ivector("s")
    f = fc.function([b, s], b.reshape(s, ndim=2), mode=PY)
    for bad in ([-1, 5], [7, -1], [7, 5], [-1, -1], [3, 4, 1]):
        with pytest.raises(ValueError, match="reshape"):
            f(np.zeros((3, 4)), np.array(bad, "int32"))
    x = ft.fvector("x")
    assert fc.function([x], x.reshape((0, 100)), mode=PY)(np.zeros(0, "float32")).shape == (0, 100)
    assert fc.function([], ft.constant([1]).reshape(()), mode=PY)().shape == ()


def test_shape_and_specify_shape_of_constants_and_constant_vectors() -> None:
    assert ft.shape([]).type.shape == (1,) and ft.shape(ft.lscalar()).type.shape == (0,)
    assert_same(fc.function([], ft.shape(np.ones((5, 3))), mode=PY)(), _i(5, 3))
    assert ft.specify_shape(ft.vector(), ft.as_tensor_variable([2])).type.shape == (2,)
    assert ft.specify_shape(ft.tensor(shape=(3, None)), (None, 5)).type.shape == (3, 5)
    s = ft.scalar("s")
    f = fc.function([s], ft.specify_shape(s, ft.as_tensor_variable(np.array([], "int32"))), mode=PY)
    assert f(12.0) == 12.0
    with pytest.raises(TypeError, match=r"specify_shape: shape n .* must be an int vector of static length"):
        ft.specify_shape(ft.vector(), ft.lvector("n"))


def test_a_vector_of_known_length_unpacks() -> None:
    """``n, m = x.shape`` and ``a, b = specify_shape(v, (2,))``, as PyTensor iterates a vector
    whose length the graph knows; other variables refuse iteration, naming the fix."""
    x, v = ft.dmatrix("x"), ft.dvector("v")
    n, m = x.shape
    a, b = ft.specify_shape(v, (2,))
    f = fc.function([x, v], [n * 10 + m, a - b], mode=PY)
    got = f(np.zeros((3, 4)), np.array([5.0, 2.0]))
    assert_same(got[0], np.int64(34))
    assert_same(got[1], np.float64(3.0))
    assert [int(c.eval()) for c in ft.constant(_i(7, 8, 9))] == [7, 8, 9]
    for bad in (v, x):
        with pytest.raises(TypeError, match=r"cannot be iterated .* ft.sum"):
            iter(bad)


def test_where_of_a_condition_alone_and_a_named_copy() -> None:
    x = ft.dmatrix("x")
    got = fc.function([x], list(ft.where(x > 0)), mode=PY)(AR - 5)
    for g, want in zip(got, np.where(AR - 5 > 0)):
        assert_same(g, want)
    with pytest.raises(TypeError, match="where: give both ift and iff"):
        ft.where(x > 0, x)
    assert x.copy(name="y").name == "y"


def test_psi_and_tri_gamma_at_negative_arguments_and_poles() -> None:
    """scipy's values: psi is NaN at the negative integers (not a huge finite number from
    ``tan(pi x)``), tri_gamma (``polygamma(1, x)``) reflects negative arguments and is +inf at
    its poles."""
    special = pytest.importorskip("scipy.special")
    x = ft.dvector("x")
    vals = np.array([-2.5, -0.5, -1.0, -2.0, 0.0, -0.0, 0.3, 1.0, 7.5, 1e-3, -3.7, np.nan])
    got = fc.function([x], [ft.psi(x), ft.tri_gamma(x), ft.polygamma(1, x)], mode=PY)(vals)
    with np.errstate(all="ignore"):
        want = [special.psi(vals), special.polygamma(1, vals), special.polygamma(1, vals)]
    for g, w in zip(got, want):
        assert_same(g, w, rtol=1e-13, atol=0)


def test_tri_gamma_gradient_on_both_sides_of_zero() -> None:
    x = ft.dvector("x")
    fd_check_grads([x], {"tri_gamma": (ft.tri_gamma, [0])}, [[np.array([-2.3, -0.4, 0.6, 3.1])]], mode=PY)
