"""Divergences from PyTensor 3 that random programs found (the same random expression built with
``pytensor.tensor`` and ``fncache.tensor``, compiled, and its dtypes, static shapes, values and
gradients compared), each checked here against numpy or a closed form, not against PyTensor:
where a case names PyTensor's rule, the rule is what PyTensor's op defines.

Cases fncache got wrong until now:

* ``maximum``/``minimum`` at a tie gave both operands the output's gradient, so
  ``grad(sum(maximum(x, x)), x)`` was 2 (``maximum(x, x)`` is ``x``): the first operand alone
  gets it, as PyTensor's (and Theano's) rule, so the gradients sum to the output's.
* ``sum`` and ``prod`` of floats with an integer ``dtype``, compiled to C: each thread's partial
  (already of the integer type) was converted again as if it were a float, through that float
  type, so ``sum(float32 -3.25, dtype="uint32")`` was 0 (4294967293) and
  ``sum([2147483520.0, 100.0], dtype="int32")`` of float32 was -2147483648 (2147483620).

``test_random_reductions_with_a_dtype_match_numpy`` is a small seeded fuzzer of that class
against numpy: random sources, result dtypes, ranks, axes and sizes, one function per mode.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

MODES = ("FAST_RUN", "FAST_COMPILE")


@pytest.mark.parametrize("mode", MODES)
def test_max_min_tie_gives_the_gradient_once(mode: str) -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    w = np.array([1.0, 2.0, 3.0, 4.0])
    names = ["maximum", "minimum", "fmax", "fmin"]
    outs = []
    for name in names:
        op = getattr(ft, name)
        # maximum(x, x) is x; and where x == y, the derivative of maximum(t, t) in t is 1
        outs += [fc.grad(ft.sum(op(x, x) * w), x), *fc.grad(ft.sum(op(x, y) * w), [x, y])]
    xv = np.array([1.0, 2.0, 3.0, -1.0])
    yv = np.array([1.0, 0.0, 5.0, -1.0])
    got = fc.function([x, y], outs, mode=mode)(xv, yv)
    for k, name in enumerate(names):
        got_same, got_x, got_y = got[3 * k : 3 * k + 3]
        np.testing.assert_array_equal(got_same, w, err_msg=name)
        np.testing.assert_array_equal(got_x + got_y, w, err_msg=name)
        # strict: the operand taken; a tie: the first operand (PyTensor's rule)
        taken_x = (xv > yv) if name in ("maximum", "fmax") else (xv < yv)
        np.testing.assert_array_equal(got_x, w * (taken_x | (xv == yv)), err_msg=name)


def _wrap(value: int, dtype: str) -> int:
    """A Python int reduced modulo ``dtype``'s size, as numpy's integer arithmetic wraps."""
    bits = np.iinfo(dtype).bits
    r = value % 2**bits
    if np.iinfo(dtype).min < 0 and r >= 2 ** (bits - 1):
        r -= 2**bits
    return r


# values each converted by truncation and wrapped (docs/numpy.md, "Dtypes"), then summed or
# multiplied with wrapping: the sums' partials lie where the source float type cannot hold them
INT_REDUCTIONS = [
    ("float32", [-3.25], "uint32"),
    ("float32", [-3.25, 2.5, -1.0], "uint32"),
    ("float32", [2.0e9, 2.0e9, 7.0], "int32"),
    ("float32", [2147483520.0, 100.0], "int32"),
    ("float64", [2.0**62, 2.0**62 - 1024.0, 1000.0], "int64"),
    ("float32", [-1.0, -2.0], "uint64"),
    ("float64", [-1.0, -2.0], "uint64"),
    ("float64", [2.0**53, 1.0, 0.5], "int64"),
    ("float64", [3.0e9, 3.0e9, -1.0], "uint32"),
]


@pytest.mark.parametrize("mode", MODES)
def test_float_sum_and_prod_in_an_integer_dtype_wrap_exactly(mode: str) -> None:
    outs, args, want = [], [], []
    for k, (src, values, dtype) in enumerate(INT_REDUCTIONS):
        x = ft.tensor(f"x{k}", dtype=src, shape=(None,))
        s = ft.tensor(f"s{k}", dtype=src, shape=())
        outs += [
            ft.sum(x, dtype=dtype),
            ft.prod(x, dtype=dtype),
            ft.sum(x[0], dtype=dtype),
            ft.sum(s, dtype=dtype),
        ]
        args += [x, s]
        ints = [int(np.trunc(v)) for v in values]
        first = _wrap(ints[0], dtype)
        want += [
            (_wrap(sum(ints), dtype), dtype),
            (_wrap(math.prod(ints), dtype), dtype),
            (first, dtype),
            (first, dtype),
        ]
    vals = []
    for src, values, _ in INT_REDUCTIONS:
        vals += [np.array(values, src), np.array(values[0], src)]
    got = fc.function(args, outs, mode=mode)(*vals)
    assert [(int(g), g.dtype.name) for g in got] == want


def _converted(x: np.ndarray, dtype: str) -> np.ndarray:
    """``x`` in ``dtype`` by the documented conversion (a float truncated toward zero and
    wrapped modulo the type's size), exactly, for the values the cases draw."""
    if x.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
        x = np.trunc(x).astype(np.int64)
    return x.astype(dtype)


def _random_reductions(seed: int, n: int) -> list[tuple]:
    """``n`` random (name, values, static shape, axis, keepdims, dtype) reductions: every source
    and result dtype, 0 to 3 dims, sizes of 1, a length of 40000 (threads' partials combined)
    and float values past the result's range, which the sum wraps."""
    rng = np.random.default_rng(seed)
    srcs = ["bool", "int8", "uint8", "int32", "uint32", "int64", "float32", "float64", "float32", "float64"]
    outs = ["int8", "uint8", "int16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
    cases = []
    for _ in range(n):
        src, dtype = srcs[rng.integers(len(srcs))], outs[rng.integers(len(outs))]
        ndim = int(rng.integers(0, 4))
        shape = tuple(int(rng.choice([1, 2, 3])) for _ in range(ndim))
        if ndim and rng.random() < 0.2:
            shape = shape[:-1] + (40000,)
        if src.startswith("float"):
            scale = 2.0**30 if np.dtype(dtype).itemsize >= 4 and rng.random() < 0.5 else 100.0
            values = (rng.uniform(-1.0, 1.0, shape) * scale).astype(src)
        else:
            values = rng.integers(0 if src[0] in "bu" else -100, 2 if src == "bool" else 100, shape).astype(
                src
            )
        static = tuple(s if rng.random() < 0.5 else None for s in shape)
        axis = None if not ndim or rng.random() < 0.5 else int(rng.integers(-ndim, ndim))
        name = "sum" if rng.random() < 0.7 or values.size > 100 else "prod"
        cases.append((name, values, static, axis, bool(rng.integers(2)), dtype))
    return cases


@pytest.mark.parametrize("mode", MODES)
def test_random_reductions_with_a_dtype_match_numpy(mode: str) -> None:
    cases = _random_reductions(20261205, 40)
    ins = [ft.tensor(f"x{k}", dtype=c[1].dtype.name, shape=c[2]) for k, c in enumerate(cases)]
    outs = [
        getattr(ft, name)(x, axis=axis, keepdims=keep, dtype=dtype)
        for x, (name, _, _, axis, keep, dtype) in zip(ins, cases)
    ]
    got = fc.function(ins, outs, mode=mode)(*[c[1] for c in cases])
    for g, (name, values, _, axis, keep, dtype) in zip(got, cases):
        ufunc = np.add if name == "sum" else np.multiply
        want = ufunc.reduce(_converted(values, dtype), axis=axis, keepdims=keep, dtype=dtype)
        what = f"{name}({values.dtype}{values.shape}, axis={axis}, keepdims={keep}, dtype={dtype})"
        assert g.dtype == want.dtype and g.shape == want.shape, what
        if want.dtype.kind == "f":
            # float sums of this size: rounding differs with the order of the additions
            np.testing.assert_allclose(g, want, rtol=2e-4 if dtype == "float32" else 1e-9, err_msg=what)
        else:
            np.testing.assert_array_equal(g, want, err_msg=what)
