"""Sizes, counts, bounds and steps near the ends of int64 given to compiled functions at run
time: each either gives numpy's result (numpy computing with exact integers) or a clear error
naming the op, never a crash or a wrong array. numpy itself crashes on some of these (its
``repeat`` adds counts without an overflow check and writes past the array it then allocates;
its ``ufunc.at`` takes at most 32 dims), so those run in a fresh process, where a crash fails
the test instead of ending the session."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_linker
from fncache.codegen.c_module import render_module

I64_MIN, I64_MAX = -(2**63), 2**63 - 1

# The cases numpy itself crashes on, run in one fresh process (`_CRASHERS`): each builds a
# function and its arguments. `repeat_*`, `tile_*`: numpy 2's repeat (and tile, which calls it)
# segfaults on them (the total wraps to 0 or a small number), so they must raise before
# reaching it. `dims40_*`: numpy's ufunc.at (np.add.at) segfaults on arrays of more than 32
# dims, so the sums go another way; each returns the function's outputs next to numpy's (on
# the same values seen as a matrix). `pool_*`: a pooling stride beyond a C int, which the
# run-time once read cut to an int (2**32 + 1: a stride of 1, other windows).
_CRASHERS = """
import numpy as np
import fncache as fc
from fncache import tensor as ft

def repeat_scalar(mode):
    x, r = ft.dvector("x"), ft.lscalar("r")
    return fc.function([x, r], ft.repeat(x, r), mode=mode), (np.ones(4), 2**62)

def repeat_vector(mode):
    x, r = ft.dvector("x"), ft.lvector("r")
    return fc.function([x, r], ft.repeat(x, r), mode=mode), (np.ones(4), np.full(4, 2**62))

def repeat_rows_of_a_wide_matrix(mode):
    x, r = ft.dmatrix("x"), ft.lscalar("r")
    return fc.function([x, r], ft.repeat(x, r, axis=0), mode=mode), (np.ones((1, 16)), 2**59)

def tile_product_wraps_to_one(mode):
    x = ft.dvector("x")
    return fc.function([x], ft.tile(x, (274177, 67280421310721)), mode=mode), (np.ones(1),)

def tile_rows(mode):
    x = ft.dmatrix("x")
    return fc.function([x], ft.tile(x, (2**62, 1)), mode=mode), (np.ones((1, 4)),)

def dims40_inc_grad_and_set_at_repeated_rows(mode):
    x, i = ft.TensorType("float64", (None,) * 40)("x"), ft.lvector("i")
    outs = [ft.inc_subtensor(x[i], 1.0), fc.grad((x[i] ** 2).sum(), x), ft.set_subtensor(x[i], 3.0)]
    f = fc.function([x, i], outs, mode=mode)
    xv, iv = np.arange(12.0).reshape((2,) + (1,) * 37 + (2, 3)), np.array([1, 0, 1])
    inc, grad, put = xv.reshape(2, 6).copy(), np.zeros((2, 6)), xv.reshape(2, 6).copy()
    np.add.at(inc, iv, 1.0)
    np.add.at(grad, iv, 2 * xv.reshape(2, 6)[iv])
    put[iv] = 3.0
    return lambda *a: [o.reshape(2, 6) for o in f(*a)], (xv, iv), [inc, grad, put]

def pool_stride_beyond_a_c_int(mode):
    from fncache.tensor.signal.pool import pool_2d

    x = ft.dtensor4("x")
    f = fc.function([x], pool_2d(x, ws=(2, 2), stride=(2**32 + 1, 1), ignore_border=True), mode=mode)
    xv = np.arange(32.0).reshape(1, 2, 4, 4)
    want = np.stack([xv[..., :2, j : j + 2].max(axis=(-2, -1)) for j in range(3)], axis=-1)
    return lambda a: [f(a)], (xv,), [want[..., None, :]]

for mode in ("FAST_RUN", "FAST_COMPILE"):
    for name, build in list(globals().items()):
        if not name.startswith(("repeat_", "tile_", "dims40_", "pool_")):
            continue
        print("start", mode, name, flush=True)
        f, args, *want = build(mode)
        try:
            got = f(*args)
        except (ValueError, MemoryError) as e:
            print("raised", mode, name, type(e).__name__, str(e).splitlines()[0], flush=True)
            continue
        same = bool(want) and all(np.array_equal(g, w) for g, w in zip(got, want[0]))
        print("returned", mode, name, "numpy's" if same else "other values", flush=True)
"""


def test_what_crashes_numpy_raises_or_is_computed(_private_compiledir: str) -> None:
    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={_private_compiledir}"}
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHERS], env=env, capture_output=True, text=True, timeout=300
    )
    started = [line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("start")]
    assert proc.returncode == 0, f"crashed (exit {proc.returncode}) at {started[-1:]}:\n{proc.stderr[-2000:]}"
    done = [line.split() for line in proc.stdout.splitlines() if not line.startswith("start")]
    assert len(done) == len(started) == 14, proc.stdout
    for word, mode, name, *rest in done:
        if name.startswith(("dims40_", "pool_")):
            assert (word, rest) == ("returned", ["numpy's"]), (mode, name, rest)
        else:
            op = name.split("_")[0]
            assert word == "raised" and rest[0] == "ValueError", (mode, name, rest)
            assert " ".join(rest[1:]).startswith(f"{op}: the result would have shape"), (mode, name, rest)


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
@pytest.mark.parametrize(
    "bounds",
    [
        (I64_MIN, I64_MAX, I64_MAX),
        (I64_MAX, I64_MIN, I64_MIN),
        (-(2**62), 2**62, 2**61),
        (-(2**62) + 1, 2**62 - 1, 2**62 - 1),
        (I64_MIN, I64_MIN + 10, 3),
        (I64_MAX, I64_MAX - 10, -4),
        (0, 10, I64_MIN),
        (0, 10, I64_MAX),
    ],
)
def test_arange_of_int64_bounds_far_apart_is_numpys(mode, bounds) -> None:
    a, b, c = ft.lscalar("a"), ft.lscalar("b"), ft.lscalar("c")
    f = fc.function([a, b, c], ft.arange(a, b, c), mode=mode)
    got = f(*bounds)
    want = np.arange(*bounds)  # numpy on Python ints: exact
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
def test_arange_of_int32_bounds_far_apart_is_numpys(mode) -> None:
    a, b, c = ft.iscalar("a"), ft.iscalar("b"), ft.iscalar("c")
    f = fc.function([a, b, c], ft.arange(a, b, c), mode=mode)
    for bounds in [(2**31 - 1, -(2**31), -(2**31)), (-(2**31), 2**31 - 1, 2**31 - 1)]:
        got = f(*bounds)
        # numpy 2 gives int64 for int32 bounds (its own arange of these int32 scalars
        # overflows while sizing, so the dtype is read from a small one)
        assert got.dtype == np.arange(np.int32(1)).dtype == np.int64
        np.testing.assert_array_equal(got, np.arange(*bounds))


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
def test_arange_too_long_for_an_array_raises_as_numpy(mode) -> None:
    a, b, c = ft.lscalar("a"), ft.lscalar("b"), ft.lscalar("c")
    f = fc.function([a, b, c], ft.arange(a, b, c), mode=mode)
    for bounds in [(I64_MIN, I64_MAX, 1), (I64_MAX, I64_MIN, -1)]:
        with pytest.raises(ValueError, match="Maximum allowed size exceeded"):
            np.arange(*bounds)
        with pytest.raises(ValueError, match="Maximum allowed size exceeded"):
            f(*bounds)


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
@pytest.mark.parametrize(
    "n, m, k", [(3, 3, I64_MIN), (3, 4, I64_MIN + 1), (3, 3, I64_MAX), (4, 3, -3), (3, 4, 3), (4, 3, -4)]
)
def test_eye_with_a_diagonal_off_the_matrix_is_zeros(mode, n, m, k) -> None:
    nv, mv, kv = ft.lscalar("n"), ft.lscalar("m"), ft.lscalar("k")
    f = fc.function([nv, mv, kv], ft.eye(nv, mv, kv), mode=mode)
    np.testing.assert_array_equal(f(n, m, k), np.eye(n, m, k))


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
@pytest.mark.parametrize(
    "start, stop, step",
    [
        (0, 10, I64_MIN),
        (9, I64_MIN, I64_MIN),
        (I64_MIN, I64_MIN, I64_MIN + 1),
        (I64_MAX, I64_MIN, -1),
        (5, 2, -(2**62)),
    ],
)
def test_slices_with_steps_near_int64_min_are_numpys(mode, start, stop, step) -> None:
    x = ft.dvector("x")
    a, b, c = ft.lscalar("a"), ft.lscalar("b"), ft.lscalar("c")
    f = fc.function([x, a, b, c], [x[a:b:c], fc.grad((x[a:b:c] ** 2).sum(), x)], mode=mode)
    xv = np.arange(10.0)
    got, grad = f(xv, start, stop, step)
    want = np.zeros(10)
    want[start:stop:step] = 2 * xv[start:stop:step]
    np.testing.assert_array_equal(got, xv[start:stop:step])
    np.testing.assert_array_equal(grad, want)


@pytest.mark.parametrize(
    "size, words",
    [
        ((-1, 3), "negative entry"),
        ((2**62, 4), "more than an array can hold"),
        ((274177, 67280421310721), "more than an array can hold"),
    ],
)
def test_random_sizes_that_cannot_exist_are_named(size, words) -> None:
    rs = fc.RandomStream(1)
    a, b = ft.lscalar("a"), ft.lscalar("b")
    f = fc.function([a, b], rs.normal(size=(a, b)))
    with pytest.raises(ValueError, match=words) as e:
        f(*size)
    assert "size" in str(e.value)
    assert f(2, 3).shape == (2, 3)


def test_program_ints_that_do_not_fit_a_c_int_are_refused() -> None:
    x = ft.dvector("x")
    fg = fc.function([x], x[2:5]).optimized_graph
    mod = render_module(fg, n_explicit=1, single=True)
    p = mod.program
    step = p[4][0]
    damaged = (*p[:4], ((*step[:4], (*step[4], 2**40), *step[5:]),), *p[5:])
    with pytest.raises(OverflowError, match="does not fit a C int"):
        c_linker.runtime().Runner(
            None, damaged, lambda i, v: np.asarray(v), (), tuple(mod.constants), True, 1, None, None
        )


@pytest.mark.parametrize("n", [2**33, 2**32 + 1])
def test_zero_stride_inputs_broadcast_past_an_arrays_size_raise(n) -> None:
    # Views of one element hold n of them; their outer product has n * n, which wraps an
    # int64 (to 0, or to 2**33 + 1): numpy refuses it, and so does every fused loop.
    x, y = ft.dvector("x"), ft.dvector("y")
    outer = x[:, None] * y[None, :]
    v = np.broadcast_to(1.0, (n,))
    with pytest.raises(ValueError, match="iterator is too large"):
        np.sum(v[:, None] * v[None, :])
    for out in [outer, outer.sum(), ft.mean(outer, axis=0)]:
        f = fc.function([x, y], out)
        with pytest.raises(ValueError, match="broadcast to more elements than an array can hold"):
            f(v, v)
    np.testing.assert_array_equal(f(v[:3], v[:2]), np.ones(2))


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
@pytest.mark.parametrize(
    "build, op, size, kind",
    [
        (lambda n: ft.zeros((n, n)), "Alloc", 2**62, ValueError),
        (lambda n: ft.zeros((n, 3)), "Alloc", 2**40, MemoryError),
        (lambda n: ft.eye(n), "Eye", 274177 * 2**20, ValueError),
        (lambda n: ft.arange(n), "ARange", 2**62, ValueError),
    ],
)
def test_sizes_no_array_can_have_name_the_op(mode, build, op, size, kind) -> None:
    # numpy's own words ("array is too big", "Unable to allocate ...") name neither.
    n = ft.lscalar("n")
    f = fc.function([n], build(n), mode=mode)
    with pytest.raises(kind, match=rf"^{op}\{{.*(array is too big|Unable to allocate).*check the shapes"):
        f(size)
    assert f(2).shape[0] == 2


@pytest.mark.parametrize("mode", [None, "FAST_COMPILE"])
def test_reduced_size_past_int64_raises(mode) -> None:
    from fncache.tensor.grad_ops import ReducedSize

    x, y = ft.dvector("x"), ft.dvector("y")
    f = fc.function([x, y], ReducedSize((((0, 0),), ((1, 0),)), "int64")(x, y), mode=mode)
    assert f(np.ones(3), np.ones(5)) == 15
    v = np.broadcast_to(1.0, (2**33,))
    with pytest.raises(ValueError, match="more than an array can hold"):
        f(v, v)
