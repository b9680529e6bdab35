"""The numeric cases of PyTensor's rewrite tests (``tests/tensor/rewriting/test_math.py``,
``test_basic.py``, ``test_elemwise.py`` (fusion), ``test_subtensor.py``, ``test_shape.py``,
``test_special.py``, ``test_linalg.py``), written again for fncache: each graph a rewrite of
PyTensor's applies to (``x * 1``, ``x + 0``, ``x ** 2``, ``log(exp(x))``, ``x[a:b][c:d]``,
``set_subtensor`` of a ``set_subtensor``, ``sum`` of a product, ...) is built with fncache and
its values, dtypes and shapes are checked against numpy (scipy for the special functions),
compiled to C (``FAST_RUN``, where fncache's own rewrites and fusion run) and under the Python
linker (``FAST_COMPILE``). The structure of PyTensor's rewritten graphs is not checked: only
what a user sees.

The inputs are the edge values: NaN, +-inf, -0.0 (its sign is checked), the limits of the
integer dtypes, signed and unsigned integers mixed, division by zero, empty arrays, sizes of
1 known only when the function runs (numpy's broadcasting, ``docs/porting.md``), negative
slice steps and chains of indexing and writing into regions.

Cases fncache got wrong until now: ``x * ones(3)`` (and ``x + zeros(3)``, ``x ** full(3, 2)``,
``log(exp(x)) * ones(3)``) of an ``x`` of length 1 known only at run time kept length 1;
``x + 0.0`` kept a -0.0 (numpy's is 0.0); ``gammaln(1e308)`` raised ``OverflowError`` under
the Python linker and ``gamma(-1e-320)`` was +inf there; ``softmax`` of a slice holding +inf
gave 0 beside it (NaN for values that overflowed) where scipy's is NaN throughout;
``reshape(x, (2, 2)).shape``, ``(x + y).shape`` and ``zeros_like(x + y)`` of sizes that do not
fit answered from the types' sizes instead of raising. A fused
``x * y + z`` is one multiply-add on a CPU with FMA (docs/numpy.md): those cases are compiled
without contraction, and a test checks the default rounds once or as numpy.

Each table is one function per mode (one compile), every case its outputs; the cases are
parametrized over that shared function. ``test_pytensor_agrees`` runs some tables through
PyTensor (when installed) and compares its values with fncache's.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import pytest
from scipy import special

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, as_list, assert_same, symbolic_like

#: (builder taking the tensor module first, then the symbolic inputs; numpy reference taking
#: the values; the values). A builder spells the graph with names fncache and PyTensor share.
Case = tuple[Callable[..., Any], Callable[..., Any], tuple]

NAN, INF = np.nan, np.inf
#: Edge values of float64, and the same reversed (a second operand of the same length).
S = np.array([NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.5, -3.5, 1e308, -1e-310, 0.5, -0.5, 3.0])
T = S[::-1].copy()
with np.errstate(over="ignore"):
    S32 = S.astype("float32")
I8 = np.array([-128, 127, 0, 1, -1, 5, -7, 100, -100, 2, 3, -2, 64, -64], dtype="int8")
I64 = np.array([-(2**63), 2**63 - 1, 0, 1, -1, 5, -7, 100, -100, 2, 3, -2, 2**40, -(2**40)], dtype="int64")
I32 = np.array([-(2**31), 2**31 - 1, 0, 1, -1, 5, -7, 100, -100, 2, 3, -2, 2**20, -(2**20)], "int32")
U8 = np.array([0, 255, 1, 2, 128, 127, 5, 7, 100, 200, 3, 250, 64, 9], dtype="uint8")
ONE = np.array([2.0])  # a vector of length 1, known only when the function runs
_GAMMA_X = np.array([1e308, -1e308, 1e-320, -1e-320, 171.7, 0.0, -0.0, -1.0, 0.5, -2.5, INF, NAN])
with np.errstate(over="ignore"):
    _GAMMA_X32 = _GAMMA_X.astype("float32")


def _gammaln(x: np.ndarray) -> np.ndarray:
    """scipy's gammaln, but C's lgamma's -log|x| for a subnormal x and +inf for -inf (scipy's
    are inf and -inf)."""
    tiny = (x != 0) & (np.abs(x) < np.finfo(x.dtype).tiny)
    with np.errstate(divide="ignore"):
        out = np.where(tiny, -np.log(np.abs(x)), special.gammaln(x))
    return np.where(x == -INF, INF, out).astype(x.dtype)


_ZEROS = np.array([-0.0, 0.0] * 7)  # zeros of both signs: no one of them is a unit of x + c
#: Products that round (or overflow), and the negated products: x*y + z is 0 (NaN) only where
#: x*y is rounded before the addition.
_FMA_X = np.array([0.1, 1e308, 1 / 3, 3.0, np.pi, 1.1])
_FMA_Y = np.array([0.1, 10.0, 3.0, 1 / 3, np.e, 1.1])
with np.errstate(over="ignore"):
    _FMA_Z = -(_FMA_X * _FMA_Y)


def _np_set(x: np.ndarray, idx: Any, y: Any) -> np.ndarray:
    x = x.copy()
    x[idx] = y
    return x


def _np_inc(x: np.ndarray, idx: Any, y: Any) -> np.ndarray:
    x = x.copy()
    x[idx] += y
    return x


def _np_inc_at(x: np.ndarray, idx: Any, y: Any) -> np.ndarray:
    x = x.copy()
    np.add.at(x, idx, y)
    return x


# -- test_math.py: the canonicalizers and specializations of arithmetic -------------------------
MATH: dict[str, Case] = {
    "x+0": (lambda m, x: x + 0, lambda x: x + 0, (S,)),
    "x+0.0": (lambda m, x: x + 0.0, lambda x: x + 0.0, (S,)),
    "0.0+x": (lambda m, x: 0.0 + x, lambda x: 0.0 + x, (S,)),
    "x+(-0.0)": (lambda m, x: x + np.float64(-0.0), lambda x: x + -0.0, (S,)),
    "x+zeros": (lambda m, x: x + np.zeros(14), lambda x: x + np.zeros(14), (S,)),
    "x+[-0.0, 0.0, ...]": (lambda m, x: x + _ZEROS, lambda x: x + _ZEROS, (S,)),
    "x+0.0 and x+(-0.0) (not merged)": (
        lambda m, x: [x + np.float64(0.0), x + np.float64(-0.0), x * np.float64(-0.0), x * np.float64(0.0)],
        lambda x: [x + 0.0, x + -0.0, x * -0.0, x * 0.0],
        (S,),
    ),
    "x+(-0.0)*ones": (lambda m, x: x + np.full(14, -0.0), lambda x: x + -0.0, (S,)),
    "x-[0.0, -0.0, ...]": (lambda m, x: x - _ZEROS[::-1], lambda x: x - _ZEROS[::-1], (S,)),
    "x+0 int8": (lambda m, x: x + np.int8(0), lambda x: x + np.int8(0), (I8,)),
    "x+(-0.0) float32": (lambda m, x: x + np.float32(-0.0), lambda x: x + np.float32(-0.0), (S32,)),
    "x+0.0 float32": (lambda m, x: x + np.float32(0.0), lambda x: x + np.float32(0.0), (S32,)),
    "x-0": (lambda m, x: x - 0, lambda x: x - 0, (S,)),
    "x-(-0.0)": (lambda m, x: x - np.float64(-0.0), lambda x: x - -0.0, (S,)),
    "0-x": (lambda m, x: 0 - x, lambda x: 0 - x, (S,)),
    "x*1": (lambda m, x: x * 1, lambda x: x * 1, (S,)),
    "1*x": (lambda m, x: 1 * x, lambda x: 1 * x, (S,)),
    "x*0": (lambda m, x: x * 0, lambda x: x * 0, (S,)),
    "x*-1": (lambda m, x: x * -1, lambda x: x * -1, (S,)),
    "x/1": (lambda m, x: x / 1, lambda x: x / 1, (S,)),
    "x/-1": (lambda m, x: x / -1, lambda x: x / -1, (S,)),
    "x/x": (lambda m, x: x / x, lambda x: x / x, (S,)),
    "x-x": (lambda m, x: x - x, lambda x: x - x, (S,)),
    "x*(1/x)": (lambda m, x: x * (1 / x), lambda x: x * (1 / x), (S,)),
    "(x*y)/x": (lambda m, x, y: (x * y) / x, lambda x, y: (x * y) / x, (S, T)),
    "(x/y)*y": (lambda m, x, y: (x / y) * y, lambda x, y: (x / y) * y, (S, T)),
    "x/(y/x)": (lambda m, x, y: x / (y / x), lambda x, y: x / (y / x), (S, T)),
    "(-x)*(-y)": (lambda m, x, y: (-x) * (-y), lambda x, y: (-x) * (-y), (S, T)),
    "(-x)/(-y)": (lambda m, x, y: (-x) / (-y), lambda x, y: (-x) / (-y), (S, T)),
    "x**0": (lambda m, x: x**0, lambda x: x**0, (S,)),
    "x**1": (lambda m, x: x**1, lambda x: x**1, (S,)),
    "x**2": (lambda m, x: x**2, lambda x: x**2, (S,)),
    "x**3": (lambda m, x: x**3, lambda x: x**3, (S,)),
    "x**4": (lambda m, x: x**4, lambda x: x**4, (S,)),
    "x**0.5": (lambda m, x: x**0.5, lambda x: x**0.5, (S,)),
    "x**-0.5": (lambda m, x: x**-0.5, lambda x: x**-0.5, (S,)),
    "x**-1": (lambda m, x: x**-1, lambda x: x**-1, (S,)),
    "x**-2": (lambda m, x: x**-2, lambda x: x**-2, (S,)),
    "x**2 f32": (lambda m, x: x**2, lambda x: x**2, (S32,)),
    "x**0.5 f32": (lambda m, x: x**0.5, lambda x: x**0.5, (S32,)),
    "x**-1 f32": (lambda m, x: x**-1, lambda x: x**-1, (S32,)),
    "x**y": (lambda m, x, y: x**y, lambda x, y: x**y, (S, T)),
    "power(x, 0.5)": (lambda m, x: m.power(x, 0.5), lambda x: np.power(x, 0.5), (S,)),
    "x**full(.5)": (lambda m, x: x ** np.full(14, 0.5), lambda x: x ** np.full(14, 0.5), (S,)),
    "power(x, full(.5))": (
        lambda m, x: m.power(x, np.full(14, 0.5)),
        lambda x: np.power(x, np.full(14, 0.5)),
        (S,),
    ),
    "x**full(-1)": (lambda m, x: x ** np.full(14, -1.0), lambda x: x ** np.full(14, -1.0), (S,)),
    "--x": (lambda m, x: -(-x), lambda x: -(-x), (S,)),  # noqa: B002
    "abs(-x)": (lambda m, x: abs(-x), lambda x: abs(-x), (S,)),
    "sqrt(sqr(x))": (lambda m, x: m.sqrt(m.sqr(x)), lambda x: np.sqrt(np.square(x)), (S,)),
    "sqr(sqrt(x))": (lambda m, x: m.sqr(m.sqrt(x)), lambda x: np.square(np.sqrt(x)), (S,)),
    "exp(log(x))": (lambda m, x: m.exp(m.log(x)), lambda x: np.exp(np.log(x)), (S,)),
    "log(1+x)": (lambda m, x: m.log(1 + x), lambda x: np.log(1 + x), (S,)),
    "log(x+1)": (lambda m, x: m.log(x + 1), lambda x: np.log(x + 1), (S,)),
    "log(1-x)": (lambda m, x: m.log(1 - x), lambda x: np.log(1 - x), (S,)),
    "log1p(expm1(x))": (
        lambda m, x: m.log1p(m.expm1(x)),
        lambda x: np.log1p(np.expm1(x)),
        (S[[0, 2, 3, 4, 6]],),
    ),
    "exp(x)-1": (lambda m, x: m.exp(x) - 1, lambda x: np.exp(x) - 1, (S,)),
    "log(exp(x)+exp(y))": (
        lambda m, x, y: m.log(m.exp(x) + m.exp(y)),
        lambda x, y: np.log(np.exp(x) + np.exp(y)),
        (S[[0, 2, 3, 5, 6, 7, 8, 11]], T[[0, 2, 3, 5, 6, 7, 8, 11]]),
    ),
    "abs int8": (lambda m, x: abs(x), lambda x: abs(x), (I8,)),
    "abs int64": (lambda m, x: abs(x), lambda x: abs(x), (I64,)),
    "-x int64": (lambda m, x: -x, lambda x: -x, (I64,)),
    "-x uint8": (lambda m, x: -x, lambda x: -x, (U8,)),
    "--x int8": (lambda m, x: -(-x), lambda x: -(-x), (I8,)),  # noqa: B002
    "x*x int8": (lambda m, x: x * x, lambda x: x * x, (I8,)),
    "x*3 int32": (lambda m, x: x * np.int32(3), lambda x: x * np.int32(3), (I32,)),
    "x+1>x int8": (lambda m, x: (x + np.int8(1)) > x, lambda x: (x + np.int8(1)) > x, (I8,)),
    "x+1>x int64": (lambda m, x: (x + 1) > x, lambda x: (x + 1) > x, (I64,)),
    "x-1<x int32": (lambda m, x: (x - np.int32(1)) < x, lambda x: (x - np.int32(1)) < x, (I32,)),
    "x//x int8": (lambda m, x: x // x, lambda x: x // x, (I8,)),
    "x%x int8": (lambda m, x: x % x, lambda x: x % x, (I8,)),
    "x//1 int8": (lambda m, x: x // np.int8(1), lambda x: x // np.int8(1), (I8,)),
    "x%1 int8": (lambda m, x: x % np.int8(1), lambda x: x % np.int8(1), (I8,)),
    "x//-1 int8": (lambda m, x: x // np.int8(-1), lambda x: x // np.int8(-1), (I8,)),
    "x//-1 int64": (lambda m, x: x // -1, lambda x: x // -1, (I64,)),
    "x%-1 int64": (lambda m, x: x % -1, lambda x: x % -1, (I64,)),
    "x//0 int8": (lambda m, x: x // np.int8(0), lambda x: x // np.int8(0), (I8,)),
    "x%0 int8": (lambda m, x: x % np.int8(0), lambda x: x % np.int8(0), (I8,)),
    "x//0 uint8": (lambda m, x: x // np.uint8(0), lambda x: x // np.uint8(0), (U8,)),
    "x//y float": (lambda m, x, y: x // y, lambda x, y: x // y, (S, T)),
    "x%y float": (lambda m, x, y: x % y, lambda x, y: x % y, (S, T)),
    "x%0.0": (lambda m, x: x % 0.0, lambda x: x % 0.0, (S,)),
    "x//0.0": (lambda m, x: x // 0.0, lambda x: x // 0.0, (S,)),
    "x/0.0": (lambda m, x: x / 0.0, lambda x: x / 0.0, (S,)),
    "x/y int8": (lambda m, x, y: x / y, lambda x, y: x / y, (I8, I8[::-1].copy())),
    "x/y uint8 int8": (lambda m, x, y: x / y, lambda x, y: x / y, (U8, I8)),
    "x+y uint8 int8": (lambda m, x, y: x + y, lambda x, y: x + y, (U8, I8)),
    "x-y uint8": (lambda m, x, y: x - y, lambda x, y: x - y, (U8, U8[::-1].copy())),
    "x*y uint8 int64": (lambda m, x, y: x * y, lambda x, y: x * y, (U8, I64)),
    "x<y uint8 int8": (lambda m, x, y: x < y, lambda x, y: x < y, (U8, I8)),
    "x>=y uint8 int64": (lambda m, x, y: x >= y, lambda x, y: x >= y, (U8, I64)),
    "x==y uint8 int8": (lambda m, x, y: m.eq(x, y), lambda x, y: x == y, (U8, I8)),
    "x//y uint8 int8": (lambda m, x, y: x // y, lambda x, y: x // y, (U8, I8)),
    "x%y uint8 int8": (lambda m, x, y: x % y, lambda x, y: x % y, (U8, I8)),
    "maximum uint8 int64": (lambda m, x, y: m.maximum(x, y), np.maximum, (U8, I64)),
    "minimum int8 uint8": (lambda m, x, y: m.minimum(x, y), np.minimum, (I8, U8)),
    "x+y int8 float32": (lambda m, x, y: x + y, lambda x, y: x + y, (I8, S32)),
    "x*y int64 float32": (lambda m, x, y: x * y, lambda x, y: x * y, (I64, S32)),
    "x<x": (lambda m, x: m.lt(x, x), lambda x: x < x, (S,)),
    "x<=x": (lambda m, x: m.le(x, x), lambda x: x <= x, (S,)),
    "x>=x": (lambda m, x: m.ge(x, x), lambda x: x >= x, (S,)),
    "x==x": (lambda m, x: m.eq(x, x), lambda x: x == x, (S,)),
    "x!=x": (lambda m, x: m.neq(x, x), lambda x: x != x, (S,)),
    "x<x int8": (lambda m, x: m.lt(x, x), lambda x: x < x, (I8,)),
    "maximum(x,x)": (lambda m, x: m.maximum(x, x), lambda x: np.maximum(x, x), (S,)),
    "maximum": (lambda m, x, y: m.maximum(x, y), np.maximum, (S, T)),
    "minimum": (lambda m, x, y: m.minimum(x, y), np.minimum, (S, T)),
    "maximum(x,-inf)": (lambda m, x: m.maximum(x, -np.inf), lambda x: np.maximum(x, -np.inf), (S,)),
    "minimum(x,inf)": (lambda m, x: m.minimum(x, np.inf), lambda x: np.minimum(x, np.inf), (S,)),
    "sign": (lambda m, x: m.sign(x), np.sign, (S,)),
    "sign int8": (lambda m, x: m.sign(x), np.sign, (I8,)),
    "sign uint8": (lambda m, x: m.sign(x), np.sign, (U8,)),
    "round half even": (
        lambda m, x: m.round(x),
        np.round,
        (np.array([0.5, 1.5, 2.5, -0.5, -2.5, NAN, -INF]),),
    ),
    "floor": (lambda m, x: m.floor(x), np.floor, (S,)),
    "ceil": (lambda m, x: m.ceil(x), np.ceil, (S,)),
    "clip": (lambda m, x: m.clip(x, -1.0, 2.0), lambda x: np.clip(x, -1.0, 2.0), (S,)),
    "clip int8": (
        lambda m, x: m.clip(x, np.int8(-5), np.int8(5)),
        lambda x: np.clip(x, -5, 5).astype("int8"),
        (I8,),
    ),
    "switch(c,y,y)": (lambda m, x, y: m.switch(x > 0, y, y), lambda x, y: np.where(x > 0, y, y), (S, T)),
    "switch(nan,x,y)": (lambda m, x, y: m.switch(x, x, y), lambda x, y: np.where(x, x, y), (S, T)),
    "switch(c,x,0)*y": (
        lambda m, x, y: m.switch(x > 0, x, 0) * y,
        lambda x, y: np.where(x > 0, x, 0) * y,
        (S, T),
    ),
    "switch(x>0,1,0)": (lambda m, x: m.switch(x > 0, 1, 0), lambda x: np.where(x > 0, 1, 0), (S,)),
    "cast f64>f32>f64": (
        lambda m, x: m.cast(m.cast(x, "float32"), "float64"),
        lambda x: x.astype("float32").astype("float64"),
        (S,),
    ),
    "cast i64>i8>i64": (
        lambda m, x: m.cast(m.cast(x, "int8"), "int64"),
        lambda x: x.astype("int8").astype("int64"),
        (I64,),
    ),
    "cast u8>i8": (lambda m, x: m.cast(x, "int8"), lambda x: x.astype("int8"), (U8,)),
    "cast i8>u8": (lambda m, x: m.cast(x, "uint8"), lambda x: x.astype("uint8"), (I8,)),
    "cast i8>u8>i64": (
        lambda m, x: m.cast(m.cast(x, "uint8"), "int64"),
        lambda x: x.astype("uint8").astype("int64"),
        (I8,),
    ),
    "cast f>bool": (lambda m, x: m.cast(x, "bool"), lambda x: x.astype(bool), (S,)),
    "cast f>bool>f": (
        lambda m, x: m.cast(m.cast(x, "bool"), "float64"),
        lambda x: x.astype(bool).astype("float64"),
        (S,),
    ),
    "cast f>i32 in range": (
        lambda m, x: m.cast(x * 1e5, "int32"),
        lambda x: (x * 1e5).astype("int32"),
        (T[[3, 4, 5, 6, 7, 8]],),
    ),
    "~(x>0)": (lambda m, x: ~(x > 0), lambda x: ~(x > 0), (S,)),
    "(x>0)^(y>0)": (lambda m, x, y: (x > 0) ^ (y > 0), lambda x, y: (x > 0) ^ (y > 0), (S, T)),
    "(x>0)*(y>0)": (lambda m, x, y: (x > 0) * (y > 0), lambda x, y: (x > 0) * (y > 0), (S, T)),
    "(x>0)+(y>0)": (lambda m, x, y: (x > 0) + (y > 0), lambda x, y: (x > 0) + (y > 0), (S, T)),
    "(x>0)&(y<=0)": (lambda m, x, y: (x > 0) & (y <= 0), lambda x, y: (x > 0) & (y <= 0), (S, T)),
    "~x uint8": (lambda m, x: ~x, lambda x: ~x, (U8,)),
    "~x int8": (lambda m, x: ~x, lambda x: ~x, (I8,)),
    "x&y int8 uint8": (lambda m, x, y: x & y, lambda x, y: x & y, (I8, U8)),
    "x**2 int8": (lambda m, x: x**2, lambda x: x**2, (I8,)),
    "x**3 uint8": (lambda m, x: x**3, lambda x: x**3, (U8,)),
    "x**y int8": (
        lambda m, x, y: x**y,
        lambda x, y: x**y,
        (I8, (np.abs(I8[::-1]) % 5).astype("int8")),
    ),
    "x**0 int64": (lambda m, x: x**0, lambda x: x**0, (I64,)),
    "x**1 uint8": (lambda m, x: x**1, lambda x: x**1, (U8,)),
    # test_special.py: past the float range, as C's lgamma and tgamma (and scipy)
    "gammaln": (lambda m, x: m.gammaln(x), _gammaln, (_GAMMA_X,)),
    "gamma": (lambda m, x: m.gamma(x), special.gamma, (_GAMMA_X,)),
    "gammaln float32": (lambda m, x: m.gammaln(x), _gammaln, (_GAMMA_X32,)),
    # x * 1 and x + 0 where the constant is larger than x's length, 1 when the function runs
    "x*ones(3), len(x)=1": (lambda m, x: x * np.ones(3), lambda x: x * np.ones(3), (ONE,)),
    "x+zeros(3), len(x)=1": (lambda m, x: x + np.zeros(3), lambda x: x + np.zeros(3), (ONE,)),
    "x-zeros(3), len(x)=1": (lambda m, x: x - np.zeros(3), lambda x: x - np.zeros(3), (ONE,)),
    "x/ones(3), len(x)=1": (lambda m, x: x / np.ones(3), lambda x: x / np.ones(3), (ONE,)),
    "x**ones(3), len(x)=1": (lambda m, x: x ** np.ones(3), lambda x: x ** np.ones(3), (ONE,)),
    "x**full(3,2), len(x)=1": (lambda m, x: x ** np.full(3, 2.0), lambda x: x ** np.full(3, 2.0), (ONE,)),
    "x**full(3,.5), len(x)=1": (lambda m, x: x ** np.full(3, 0.5), lambda x: x ** np.full(3, 0.5), (ONE,)),
    "x**full(3,-1), len(x)=1": (lambda m, x: x ** np.full(3, -1.0), lambda x: x ** np.full(3, -1.0), (ONE,)),
    "x*ones((2,3)), x 1x1": (
        lambda m, x: x * np.ones((2, 3)),
        lambda x: x * np.ones((2, 3)),
        (np.full((1, 1), 2.0),),
    ),
    "switch(ones(3),x,0), len(x)=1": (
        lambda m, x: m.switch(np.ones(3, bool), x, 0.0),
        lambda x: np.where(np.ones(3, bool), x, 0.0),
        (ONE,),
    ),
    "switch(True,x,y), len(x)=1": (
        lambda m, x, y: m.switch(np.bool_(True), x, y),
        lambda x, y: np.where(True, x, y),
        (ONE, np.arange(3.0)),
    ),
    "log(exp(x))*ones(3), len(x)=1": (
        lambda m, x: m.log(m.exp(x)) * np.ones(3),
        lambda x: x * np.ones(3),
        (ONE,),
    ),
    "-(-x)+zeros(3), len(x)=1": (lambda m, x: -(-x) + np.zeros(3), lambda x: x + np.zeros(3), (ONE,)),  # noqa: B002
}

# -- test_math.py, test_special.py: the stabilizations (more accurate than the spelled-out
# -- formula, so the reference is the exact value)
_LOGISTIC_X = np.array([NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 40.0, -40.0, 800.0, -800.0, 1e-20])


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


SPECIAL: dict[str, Case] = {
    "log(exp(x))": (lambda m, x: m.log(m.exp(x)), lambda x: x, (S,)),
    "log1p(exp(x))": (lambda m, x: m.log1p(m.exp(x)), _softplus, (_LOGISTIC_X,)),
    "log(1+exp(x))": (lambda m, x: m.log(1 + m.exp(x)), _softplus, (_LOGISTIC_X,)),
    "1/(1+exp(-x))": (lambda m, x: 1 / (1 + m.exp(-x)), lambda x: np.exp(-_softplus(-x)), (_LOGISTIC_X,)),
    "sigmoid": (lambda m, x: m.sigmoid(x), lambda x: np.exp(-_softplus(-x)), (_LOGISTIC_X,)),
    "1-sigmoid": (lambda m, x: 1 - m.sigmoid(x), lambda x: np.exp(-_softplus(x)), (_LOGISTIC_X,)),
    "log(sigmoid)": (lambda m, x: m.log(m.sigmoid(x)), lambda x: -_softplus(-x), (_LOGISTIC_X,)),
    "log(1-sigmoid)": (lambda m, x: m.log(1 - m.sigmoid(x)), lambda x: -_softplus(x), (_LOGISTIC_X,)),
    "softplus": (lambda m, x: m.softplus(x), _softplus, (_LOGISTIC_X,)),
    "sigmoid f32": (
        lambda m, x: m.sigmoid(x),
        lambda x: np.exp(-_softplus(-x.astype("float64"))).astype("float32"),
        (_LOGISTIC_X.astype("float32"),),
    ),
    "sigmoid int8": (
        lambda m, x: m.sigmoid(x),
        lambda x: np.exp(-_softplus(-x.astype("float32"))).astype("float32"),
        (I8,),
    ),
    "tanh": (lambda m, x: m.tanh(x), np.tanh, (S,)),
    "erf": (lambda m, x: m.erf(x), lambda x: special.erf(x), (S,)),
    "erfc": (lambda m, x: m.erfc(x), lambda x: special.erfc(x), (S,)),
    "1-erf": (lambda m, x: 1 - m.erf(x), lambda x: 1 - special.erf(x), (S,)),
    "logsumexp": (
        lambda m, x: m.logsumexp(x),
        lambda x: special.logsumexp(x),
        (np.array([-INF, 1.0, 2.0, 800.0]),),
    ),
    "logsumexp -inf": (
        lambda m, x: m.logsumexp(x),
        lambda x: np.float64(-INF),
        (np.array([-INF, -INF]),),
    ),
}


# -- test_subtensor.py: chains of basic indexing (local_subtensor_merge), constant and symbolic
_SLICES = [
    slice(None),
    slice(None, None, -1),
    slice(2, 8),
    slice(8, 2, -1),
    slice(-3, None),
    slice(None, -3, -2),
    slice(1, 100, 3),
    slice(-100, 100, -3),
    slice(5, 5),
    slice(10, -12, -1),
    slice(-1, -12, -4),
    slice(0, 1),
]
_X = np.arange(11.0) - 5.0
_M = np.arange(20.0).reshape(4, 5)


def _slice_text(s: slice) -> str:
    return ":".join("" if v is None else str(v) for v in (s.start, s.stop, s.step))


def _bounds(s: slice) -> list[np.int64]:
    return [np.int64(v) for v in (s.start, s.stop, s.step) if v is not None]


def _symbolic_chain(a: slice, b: slice) -> Callable[..., Any]:
    """``x[a][b]`` with every bound of ``a`` and ``b`` a symbolic int64 input."""

    def build(m: Any, x: Any, *bounds: Any) -> Any:
        it = iter(bounds)

        def sym(s: slice) -> slice:
            return slice(*(None if v is None else next(it) for v in (s.start, s.stop, s.step)))

        return x[sym(a)][sym(b)]

    return build


SUBTENSOR: dict[str, Case] = {}
for _a in _SLICES:
    for _b in _SLICES:
        _name = f"[{_slice_text(_a)}][{_slice_text(_b)}]"
        SUBTENSOR["x" + _name] = (lambda m, x, a=_a, b=_b: x[a][b], lambda x, a=_a, b=_b: x[a][b], (_X,))
        SUBTENSOR["symbolic x" + _name] = (
            _symbolic_chain(_a, _b),
            lambda x, *_, a=_a, b=_b: x[a][b],
            (_X, *_bounds(_a), *_bounds(_b)),
        )
for _a in _SLICES:
    for _k in (0, -1, 2):
        if len(_X[_a]) > (_k if _k >= 0 else -_k - 1):
            SUBTENSOR[f"x[{_slice_text(_a)}][i={_k}]"] = (
                lambda m, x, i, a=_a: x[a][i],
                lambda x, i, a=_a: x[a][i],
                (_X, np.int64(_k)),
            )
for _a in _SLICES[:6]:
    for _b in _SLICES[:6]:
        _name = f"[{_slice_text(_a)}, {_slice_text(_b)}]"
        SUBTENSOR["m" + _name + "[::-1, 1:]"] = (
            lambda m, x, a=_a, b=_b: x[a, b][::-1, 1:],
            lambda x, a=_a, b=_b: x[a, b][::-1, 1:],
            (_M,),
        )
        SUBTENSOR["m.T[" + _slice_text(_a) + "][:, " + _slice_text(_b) + "]"] = (
            lambda m, x, a=_a, b=_b: x.T[a][:, b],
            lambda x, a=_a, b=_b: x.T[a][:, b],
            (_M,),
        )
SUBTENSOR.update(
    {
        "exp(x)[1:][::-2]": (lambda m, x: m.exp(x)[1:][::-2], lambda x: np.exp(x)[1:][::-2], (S,)),
        "(x+y)[::-1][2]": (lambda m, x, y: (x + y)[::-1][2], lambda x, y: (x + y)[::-1][2], (S, T)),
        "(x*y)[:, -1], y a row": (
            lambda m, x, y: (x * y)[:, -1],
            lambda x, y: (x * y)[:, -1],
            (_M, np.arange(5.0)[None]),
        ),
        "alloc(x, 3, 4)[1:, ::-1]": (
            lambda m, x: m.alloc(x, 3, 4)[1:, ::-1],
            lambda x: np.broadcast_to(x, (3, 4))[1:, ::-1],
            (np.arange(4.0),),
        ),
        "alloc(x, n, 4)[n-1]": (
            lambda m, x, n: m.alloc(x, n, 4)[n - 1],
            lambda x, n: x,
            (np.arange(4.0), np.int64(3)),
        ),
        "x[:0][::-1]": (lambda m, x: x[:0][::-1], lambda x: x[:0][::-1], (_X,)),
        "dot(x, y)[1]": (lambda m, x, y: m.dot(x, y)[1], lambda x, y: (x @ y)[1], (_M, _M.T.copy())),
        "dot(x, y)[:, ::-1][1:]": (
            lambda m, x, y: m.dot(x, y)[:, ::-1][1:],
            lambda x, y: (x @ y)[:, ::-1][1:],
            (_M, _M.T.copy()),
        ),
        "shape(x)[0]": (lambda m, x: x.shape[0], lambda x: np.int64(x.shape[0]), (_M,)),
        "shape(x)[-1]": (lambda m, x: x.shape[-1], lambda x: np.int64(x.shape[-1]), (_M[:, :0],)),
        "shape(x[::2])[0]": (lambda m, x: x[::2].shape[0], lambda x: np.int64(x[::2].shape[0]), (_X,)),
    }
)


# -- test_subtensor.py: writing into regions (local_incsubtensor_of_zeros, local_useless_
# -- inc_subtensor, local_setsubtensor_of_constants, inc/set chains, advanced increments)
INC_SUBTENSOR: dict[str, Case] = {}
for _a in _SLICES[1:8]:
    _n = len(_X[_a])
    _y = np.arange(_n) * 10.0 + 1
    _t = _slice_text(_a)
    INC_SUBTENSOR.update(
        {
            f"set x[{_t}]": (
                lambda m, x, y, a=_a: m.set_subtensor(x[a], y),
                lambda x, y, a=_a: _np_set(x, a, y),
                (_X, _y),
            ),
            f"inc x[{_t}]": (
                lambda m, x, y, a=_a: m.inc_subtensor(x[a], y),
                lambda x, y, a=_a: _np_inc(x, a, y),
                (_X, _y),
            ),
            f"set x[{_t}] scalar": (
                lambda m, x, y, a=_a: m.set_subtensor(x[a], y),
                lambda x, y, a=_a: _np_set(x, a, y),
                (_X, np.float64(7)),
            ),
            f"inc x[{_t}] length 1": (
                lambda m, x, y, a=_a: m.inc_subtensor(x[a], y),
                lambda x, y, a=_a: _np_inc(x, a, y),
                (_X, np.array([3.0])),
            ),
            f"inc set x[{_t}]": (
                lambda m, x, y, a=_a: m.inc_subtensor(m.set_subtensor(x[a], y)[a], y),
                lambda x, y, a=_a: _np_inc(_np_set(x, a, y), a, y),
                (_X, _y),
            ),
            f"set inc x[{_t}]": (
                lambda m, x, y, a=_a: m.set_subtensor(m.inc_subtensor(x[a], y)[a], 2 * y),
                lambda x, y, a=_a: _np_set(_np_inc(x, a, y), a, 2 * y),
                (_X, _y),
            ),
            f"inc inc x[{_t}]": (
                lambda m, x, y, a=_a: m.inc_subtensor(m.inc_subtensor(x[a], y)[a], y),
                lambda x, y, a=_a: _np_inc(_np_inc(x, a, y), a, y),
                (_X, _y),
            ),
            f"set set x[{_t}] then x[2:5]": (
                lambda m, x, y, a=_a: m.set_subtensor(m.set_subtensor(x[a], y)[2:5], -1.0),
                lambda x, y, a=_a: _np_set(_np_set(x, a, y), slice(2, 5), -1.0),
                (_X, _y),
            ),
            f"inc x[{_t}] zeros": (
                lambda m, x, a=_a: m.inc_subtensor(x[a], m.zeros_like(x[a])),
                lambda x, a=_a: _np_inc(x, a, 0.0),
                (S[:11],),
            ),
            f"set x[{_t}] its own values": (
                lambda m, x, a=_a: m.set_subtensor(x[a], x[a]),
                lambda x, a=_a: x.copy(),
                (S[:11],),
            ),
            f"set x[{_t}] reversed": (
                lambda m, x, a=_a: m.set_subtensor(x[a], x[a][::-1]),
                lambda x, a=_a: _np_set(x, a, x[a][::-1].copy()),
                (_X,),
            ),
            f"set x[{_t}] overlapping": (
                lambda m, x, a=_a: m.set_subtensor(x[a], x[::-1][a]),
                lambda x, a=_a: _np_set(x, a, x[::-1][a].copy()),
                (_X,),
            ),
            f"inc x[{_t}] overlapping": (
                lambda m, x, a=_a: m.inc_subtensor(x[a], x[::-1][a]),
                lambda x, a=_a: _np_inc(x, a, x[::-1][a].copy()),
                (_X,),
            ),
            f"set x[{_t}] read back": (
                lambda m, x, y, a=_a: m.set_subtensor(x[a], y)[a],
                lambda x, y, a=_a: _np_set(x, a, y)[a],
                (_X, _y),
            ),
            f"set x[{_t}] read x[2:5]": (
                lambda m, x, y, a=_a: m.set_subtensor(x[a], y)[2:5],
                lambda x, y, a=_a: _np_set(x, a, y)[2:5],
                (_X, _y),
            ),
        }
    )
for _k in (0, -1, 3):
    INC_SUBTENSOR.update(
        {
            f"set m[{_k}]": (
                lambda m, x, y, k=_k: m.set_subtensor(x[k], y),
                lambda x, y, k=_k: _np_set(x, k, y),
                (_M, np.arange(5.0)),
            ),
            f"inc m[i={_k}]": (
                lambda m, x, y, i: m.inc_subtensor(x[i], y),
                lambda x, y, i: _np_inc(x, i, y),
                (_M, np.arange(5.0), np.int64(_k)),
            ),
            f"set m[:, {_k}]": (
                lambda m, x, y, k=_k: m.set_subtensor(x[:, k], y),
                lambda x, y, k=_k: _np_set(x, (slice(None), k), y),
                (_M, np.arange(4.0)),
            ),
            f"set m[::-1, i={_k}]": (
                lambda m, x, y, i: m.set_subtensor(x[::-1, i], y),
                lambda x, y, i: _np_set(x, (slice(None, None, -1), i), y),
                (_M, np.arange(4.0), np.int64(_k)),
            ),
            f"set m.T[{_k}]": (
                lambda m, x, y, k=_k: m.set_subtensor(x.T[k], y),
                lambda x, y, k=_k: _np_set(x.T.copy(), k, y),
                (_M, np.arange(4.0)),
            ),
        }
    )
_IDX = np.array([0, 2, 2, -1, 0])
INC_SUBTENSOR.update(
    {
        "inc x[idx] repeated": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_X, np.arange(5.0), _IDX),
        ),
        "set x[idx] repeated": (
            lambda m, x, y, i: m.set_subtensor(x[i], y),
            lambda x, y, i: _np_set(x, i, y),
            (_X, np.arange(5.0), _IDX),
        ),
        "inc x[idx] scalar": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_X, np.float64(2.0), _IDX),
        ),
        "inc m[idx] rows": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_M, np.ones((5, 5)), np.array([0, 1, 1, -1, 3])),
        ),
        "inc m[idx] a broadcast row": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_M, np.arange(5.0), np.array([0, 1, 1, -1, 3])),
        ),
        "inc x[idx] read back": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y)[i],
            lambda x, y, i: _np_inc_at(x, i, y)[i],
            (_X, np.arange(5.0), _IDX),
        ),
        "inc x[idx] empty": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: x.copy(),
            (_X, np.zeros(0), _IDX[:0]),
        ),
        "x[idx] empty": (lambda m, x, i: x[i], lambda x, i: x[i], (_X, _IDX[:0])),
        "inc x[idx] uint8 idx": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_X, np.arange(3.0), np.array([10, 0, 10], "uint8")),
        ),
        "inc x[idx] negative int8 idx": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (_X, np.arange(3.0), np.array([-11, -1, -11], "int8")),
        ),
        "inc m[:, idx]": (
            lambda m, x, y, i: m.inc_subtensor(x[:, i], y),
            lambda x, y, i: _np_inc_at(x, (slice(None), i), y),
            (_M, np.ones((4, 3)), np.array([0, 4, 0])),
        ),
        "inc m[i, j]": (
            lambda m, x, y, i, j: m.inc_subtensor(x[i, j], y),
            lambda x, y, i, j: _np_inc_at(x, (i, j), y),
            (_M, np.arange(3.0), np.array([0, 3, 0]), np.array([1, -1, 1])),
        ),
        "set m[i, j]": (
            lambda m, x, y, i, j: m.set_subtensor(x[i, j], y),
            lambda x, y, i, j: _np_set(x, (i, j), y),
            (_M, np.arange(3.0), np.array([0, 3, 1]), np.array([1, -1, 1])),
        ),
        "set x[x>0] 0": (
            lambda m, x: m.set_subtensor(x[x > 0], 0.0),
            lambda x: np.where(x > 0, 0.0, x),
            (_X,),
        ),
        "inc x[x>0] x[x>0]": (
            lambda m, x: m.inc_subtensor(x[x > 0], x[x > 0]),
            lambda x: np.where(x > 0, 2 * x, x),
            (_X,),
        ),
        "inc int8 overflow": (
            lambda m, x, y: m.inc_subtensor(x[1:], y),
            lambda x, y: _np_inc(x, slice(1, None), y),
            (np.array([120, -120, 5, 0], "int8"), np.array([100, -100, 127], "int8")),
        ),
        "inc int8 idx overflow": (
            lambda m, x, y, i: m.inc_subtensor(x[i], y),
            lambda x, y, i: _np_inc_at(x, i, y),
            (np.array([120, -120, 5, 0], "int8"), np.array([100, 100, 100], "int8"), np.array([0, 0, 3])),
        ),
        # an advanced index of a view writes into the view, as PyTensor's inc_subtensor does
        "inc x[::-1][idx]": (
            lambda m, x, i, y: m.inc_subtensor(x[::-1][i], y),
            lambda x, i, y: _np_inc_at(x[::-1], i, y),
            (_M, _IDX[1:], np.ones((4, 5))),
        ),
        "inc x[1:][idx]": (
            lambda m, x, i, y: m.inc_subtensor(x[1:][i], y),
            lambda x, i, y: _np_inc_at(x[1:], i, y),
            (_M, np.array([0, 2, 2, -1]), np.ones(5)),
        ),
        "set x.T[idx]": (
            lambda m, x, i, y: m.set_subtensor(x.T[i], y),
            lambda x, i, y: _np_set(x.T, i, y),
            (_M, np.array([0, 4, 1]), np.arange(12.0).reshape(3, 4)),
        ),
        "inc x[::-1, idx]": (
            lambda m, x, i, y: m.inc_subtensor(x[::-1, i], y),
            lambda x, i, y: _np_inc_at(x, (slice(None, None, -1), i), y),
            (_M, np.array([0, 4, 0]), np.arange(12.0).reshape(4, 3)),
        ),
        "inc x[idx][::-1]": (
            lambda m, x, i, y: m.inc_subtensor(x[i], y)[::-1],
            lambda x, i, y: _np_inc_at(x, i, y)[::-1],
            (_M, _IDX[1:], np.ones(5)),
        ),
        "inc x[i[:, None], j]": (
            lambda m, x, i, j, y: m.inc_subtensor(x[i[:, None], j[None, :]], y),
            lambda x, i, j, y: _np_inc_at(x, (i[:, None], j[None, :]), y),
            (_M, np.array([0, 0]), np.array([1, -1, 1]), np.ones((2, 3))),
        ),
        "x[x[:, 0] > 10][::-1]": (lambda m, x: x[x[:, 0] > 10][::-1], lambda x: x[x[:, 0] > 10][::-1], (_M,)),
        "set float32 into float64": (
            lambda m, x, y: m.set_subtensor(x[1:3], y),
            lambda x, y: _np_set(x, slice(1, 3), y),
            (_X, np.array([1.5, 2.5], "float32")),
        ),
        "inc int64 into float64": (
            lambda m, x, y: m.inc_subtensor(x[1:3], y),
            lambda x, y: _np_inc(x, slice(1, 3), y),
            (_X, np.array([1, 2], "int64")),
        ),
        "set nan inf -0.0": (
            lambda m, x, y: m.set_subtensor(x[::3], y),
            lambda x, y: _np_set(x, slice(None, None, 3), y),
            (_X, S[:4]),
        ),
        "inc inf -inf": (
            lambda m, x, y: m.inc_subtensor(x[::-3], y),
            lambda x, y: _np_inc(x, slice(None, None, -3), y),
            (S[:10], T[:4]),
        ),
    }
)


# -- test_basic.py, test_shape.py: allocs, joins, reshapes and dimshuffles whose usefulness is
# -- known only when the function runs
SHAPE: dict[str, Case] = {
    "alloc(x, *x.shape)": (lambda m, x: m.alloc(x, *x.shape), lambda x: x.copy(), (_M,)),
    "alloc(x, 1, n) row": (
        lambda m, x, n: m.alloc(x, 1, n),
        lambda x, n: np.broadcast_to(x, (1, n)).copy(),
        (ONE, np.int64(3)),
    ),
    "alloc(x, n) n=0": (
        lambda m, x, n: m.alloc(x, n),
        lambda x, n: np.zeros(0),
        (np.float64(1.5), np.int64(0)),
    ),
    "alloc(x, 2, n)+y": (
        lambda m, x, y, n: m.alloc(x, 2, n) + y,
        lambda x, y, n: np.broadcast_to(x, (2, n)) + y,
        (np.arange(3.0), np.ones((2, 1)), np.int64(3)),
    ),
    "zeros_like(x)+y": (
        lambda m, x, y: m.zeros_like(x) + y,
        lambda x, y: np.zeros_like(x) + y,
        (_M, np.arange(5.0)),
    ),
    "zeros_like(x)*y nan": (lambda m, x, y: m.zeros_like(x) * y, lambda x, y: np.zeros_like(x) * y, (S, T)),
    "ones_like(x)*y, len(y)=1": (
        lambda m, x, y: m.ones_like(x) * y,
        lambda x, y: np.ones_like(x) * y,
        (S, ONE),
    ),
    "fill(x, y), y scalar": (
        lambda m, x, y: m.fill(x, y),
        lambda x, y: np.full_like(x, y),
        (_M, np.float64(3.5)),
    ),
    "second(x, y) int8": (
        lambda m, x, y: m.second(x, y),
        lambda x, y: np.full_like(x, y, dtype="int8"),
        (_M, np.int8(-3)),
    ),
    "join one input": (lambda m, x: m.concatenate([x], axis=0), lambda x: x.copy(), (_M,)),
    "join with empty": (
        lambda m, x, y: m.concatenate([x, y], axis=0),
        lambda x, y: np.concatenate([x, y]),
        (_M, _M[:0]),
    ),
    "join empty first": (
        lambda m, x, y: m.concatenate([y, x], axis=1),
        lambda x, y: np.concatenate([y, x], 1),
        (_M, _M[:, :0]),
    ),
    "join all empty": (
        lambda m, x: m.concatenate([x, x], axis=0),
        lambda x: np.concatenate([x, x]),
        (_M[:0],),
    ),
    "join axis -1": (
        lambda m, x, y: m.concatenate([x, y], axis=-1),
        lambda x, y: np.concatenate([x, y], -1),
        (_M, _M[:, :2]),
    ),
    "join int8 uint8": (lambda m, x, y: m.concatenate([x, y]), lambda x, y: np.concatenate([x, y]), (I8, U8)),
    "stack scalars": (
        lambda m, x, y: m.stack([x, y, x]),
        lambda x, y: np.stack([x, y, x]),
        (np.float64(1.0), np.float64(-0.0)),
    ),
    "reshape(x, x.shape)": (lambda m, x: m.reshape(x, x.shape, ndim=2), lambda x: x.copy(), (_M,)),
    "reshape(reshape)": (
        lambda m, x: m.reshape(m.reshape(x, (5, 4)), (2, 10)),
        lambda x: x.reshape(2, 10),
        (_M,),
    ),
    "reshape(-1) of empty": (lambda m, x: m.reshape(x, (-1,)), lambda x: x.reshape(-1), (_M[:0],)),
    "reshape(exp(x))[::-1]": (
        lambda m, x: m.reshape(m.exp(x), (5, 4))[::-1],
        lambda x: np.exp(x).reshape(5, 4)[::-1],
        (_M,),
    ),
    "reshape(x.T)": (lambda m, x: m.reshape(x.T, (2, 10)), lambda x: x.T.reshape(2, 10), (_M,)),
    "reshape(x[::-1, ::2])": (
        lambda m, x: m.reshape(x[::-1, ::2], (-1,)),
        lambda x: x[::-1, ::2].reshape(-1),
        (_M,),
    ),
    "flatten(x.T)": (lambda m, x: m.flatten(x.T), lambda x: x.T.ravel(), (_M,)),
    "flatten(x, 2) of 3d": (
        lambda m, x: m.flatten(x, 2),
        lambda x: x.reshape(2, -1),
        (np.arange(24.0).reshape(2, 3, 4),),
    ),
    "x.dimshuffle(1,0).T": (lambda m, x: x.dimshuffle(1, 0).T, lambda x: x.copy(), (_M,)),
    "x.dimshuffle('x',0,'x',1)[0, :, 0]": (
        lambda m, x: x.dimshuffle("x", 0, "x", 1)[0, :, 0],
        lambda x: x.copy(),
        (_M,),
    ),
    "x[None][None].sum((0,1))": (lambda m, x: x[None][None].sum(axis=(0, 1)), lambda x: x.copy(), (_M,)),
    "exp(x[None]) + y": (
        lambda m, x, y: m.exp(x[None]) + y,
        lambda x, y: np.exp(x[None]) + y,
        (np.arange(3.0), np.ones((2, 3))),
    ),
    "exp(x[None]) + y, y runtime 1": (
        lambda m, x, y: m.exp(x[None]) * y,
        lambda x, y: np.exp(x[None]) * y,
        (np.arange(3.0), np.ones((1, 1))),
    ),
    "x[:, None] - y[None, :]": (
        lambda m, x, y: x[:, None] - y[None, :],
        lambda x, y: x[:, None] - y[None, :],
        (S[:5], T[:4]),
    ),
    "shape_padleft(x) * y": (
        lambda m, x, y: m.shape_padleft(x) * y,
        lambda x, y: x[None] * y,
        (np.arange(3.0), np.arange(6.0).reshape(2, 3)),
    ),
    "shape_padright(x, 2) + y": (
        lambda m, x, y: m.shape_padright(x, 2) + y,
        lambda x, y: x[:, None, None] + y,
        (np.arange(3.0), np.arange(4.0)),
    ),
    "specify_shape(x, (4, 5))": (lambda m, x: m.specify_shape(x, (4, 5)) * 2, lambda x: x * 2, (_M,)),
    "specify_shape(x, (None, 5)).shape": (
        lambda m, x: m.specify_shape(x, (None, 5)).shape,
        lambda x: np.array(x.shape),
        (_M,),
    ),
    "x.shape of exp(x)": (lambda m, x: m.exp(x).shape, lambda x: np.array(x.shape), (_M[:0],)),
    "x.size": (lambda m, x: x.size, lambda x: np.int64(x.size), (_M,)),
    "x.shape[0] * x.shape[1]": (
        lambda m, x: x.shape[0] * x.shape[1],
        lambda x: np.int64(x.size),
        (_M[:, :0],),
    ),
    "broadcast_to(x, (3, 4))": (
        lambda m, x: m.broadcast_to(x, (3, 4)),
        lambda x: np.broadcast_to(x, (3, 4)),
        (np.arange(4.0),),
    ),
    "broadcast_to runtime 1": (
        lambda m, x: m.broadcast_to(x, (3, 4)),
        lambda x: np.broadcast_to(x, (3, 4)),
        (np.ones((1, 4)),),
    ),
    "x.T.T": (lambda m, x: x.T.T + 0.5, lambda x: x + 0.5, (_M,)),
    "flip(flip(x))": (lambda m, x: m.flip(m.flip(x, 0), 0), lambda x: x.copy(), (_M,)),
    "tile(x, (1, 1))": (lambda m, x: m.tile(x, (1, 1)), lambda x: x.copy(), (_M,)),
    "roll(x, 0)": (lambda m, x: m.roll(x, 0, axis=0), lambda x: x.copy(), (_M,)),
    "roll(x, n)": (
        lambda m, x, n: m.roll(x, n, axis=0),
        lambda x, n: np.roll(x, n, axis=0),
        (_M, np.int64(-5)),
    ),
    "repeat(x, 1)": (lambda m, x: m.repeat(x, 1, axis=0), lambda x: x.copy(), (_M,)),
    "cumsum(x) of a length 1 axis": (
        lambda m, x: m.cumsum(x, axis=0),
        lambda x: np.cumsum(x, axis=0),
        (_M[:1],),
    ),
    "cumsum(x) empty": (lambda m, x: m.cumsum(x), lambda x: np.cumsum(x), (_M[:0],)),
    "cumprod inf nan": (lambda m, x: m.cumprod(x), lambda x: np.cumprod(x), (S,)),
    "split, a part empty": (
        lambda m, x, s: m.split(x, s, n_splits=2, axis=0),
        lambda x, s: np.split(x, np.cumsum(s)[:-1], axis=0),
        (_M, np.array([0, 4])),
    ),
    "split axis 1": (
        lambda m, x, s: m.split(x, s, n_splits=3, axis=1),
        lambda x, s: np.split(x, np.cumsum(s)[:-1], axis=1),
        (_M, np.array([2, 0, 3])),
    ),
    "join with an empty middle": (
        lambda m, x, y: m.concatenate([x, y, x], axis=0),
        lambda x, y: np.concatenate([x, y, x]),
        (_M[:1], _M[:0]),
    ),
    "stack axis=-1": (
        lambda m, x, y: m.stack([x, y], axis=-1),
        lambda x, y: np.stack([x, y], axis=-1),
        (_M, -_M),
    ),
    "alloc(row, n, m)": (
        lambda m, x, n, k: m.alloc(x, n, k),
        lambda x, n, k: np.broadcast_to(x, (n, k)).copy(),
        (np.arange(5.0)[None], np.int64(3), np.int64(5)),
    ),
    "alloc(1x1, n, m)": (
        lambda m, x, n, k: m.alloc(x, n, k),
        lambda x, n, k: np.broadcast_to(x, (n, k)).copy(),
        (np.ones((1, 1)), np.int64(3), np.int64(5)),
    ),
    "sum(alloc(x, n, 5), 0)": (
        lambda m, x, n: m.sum(m.alloc(x, n, 5), axis=0),
        lambda x, n: np.sum(np.broadcast_to(x, (n, 5)), axis=0),
        (S[:5], np.int64(3)),
    ),
    "sum(alloc(x, 0, 5))": (
        lambda m, x, n: m.sum(m.alloc(x, n, 5)),
        lambda x, n: np.float64(0.0),
        (S[:5], np.int64(0)),
    ),
    "-alloc(x, n, 5)": (
        lambda m, x, n: -m.alloc(x, n, 5),
        lambda x, n: -np.broadcast_to(x, (n, 5)),
        (S[:5], np.int64(2)),
    ),
    "alloc(int8, n) + 100": (
        lambda m, x, n: m.alloc(x, n) + np.int8(100),
        lambda x, n: np.full(n, x, "int8") + np.int8(100),
        (np.int8(100), np.int64(3)),
    ),
    "reshape(x, (-1, n))": (
        lambda m, x, a, b: m.reshape(x, m.stack([a, b]), ndim=2),
        lambda x, a, b: x.reshape(a, b),
        (_M, np.int64(-1), np.int64(2)),
    ),
    "sum(x[:, None], 1)": (
        lambda m, x: m.sum(x.dimshuffle(0, "x", 1), axis=1),
        lambda x: x + 0.0,
        (S[:12].reshape(3, 4),),
    ),
    "max(x[None], 0)": (
        lambda m, x: m.max(x.dimshuffle("x", 0, 1), axis=0),
        lambda x: x.copy(),
        (S[:12].reshape(3, 4),),
    ),
    "argmax(x[None], 0)": (
        lambda m, x: m.argmax(x.dimshuffle("x", 0, 1), axis=0),
        lambda x: np.zeros((4, 5), "int64"),
        (_M,),
    ),
    "prod(x[:, None], 1)": (lambda m, x: m.prod(x[:, None], axis=1), lambda x: x * 1.0, (S,)),
    "sum((x>3)[None], 0)": (
        lambda m, x: m.sum((x > 3)[None], axis=0),
        lambda x: (x > 3).astype("int64"),
        (S,),
    ),
    "sum(int8[None], 0)": (lambda m, x: m.sum(x[None], axis=0), lambda x: x.astype("int64"), (I8,)),
    "sum(uint8[None], 0)": (lambda m, x: m.sum(x[None], axis=0), lambda x: np.sum(x[None], axis=0), (U8,)),
    "all(x[None], 0)": (lambda m, x: m.all(x[None], axis=0), lambda x: x.astype(bool), (S,)),
    "var(x[None], 0)": (lambda m, x: m.var(x[None], axis=0), lambda x: np.var(x[None], axis=0), (S,)),
    "sum(sqr(x[None]), 0)": (
        lambda m, x: m.sum(m.sqr(x[None]), axis=0),
        lambda x: np.sum(x[None] ** 2, axis=0),
        (S,),
    ),
    "sum(x[None], 0, keepdims)": (
        lambda m, x: m.sum(x[None], axis=0, keepdims=True),
        lambda x: np.sum(x[None], axis=0, keepdims=True),
        (S,),
    ),
    "sum(fill(x, inf))": (
        lambda m, x, y: m.sum(m.fill(x, y)),
        lambda x, y: np.sum(np.full_like(x, y)),
        (_M, np.float64(INF)),
    ),
}


# -- test_math.py (reductions), test_elemwise.py (a fused producer as a reduction's body)
_RI8 = np.array([[-128, 127, 0, 100], [1, -1, 50, -100], [64, 64, 3, -3]], dtype="int8")
_RU8 = np.array([[0, 255, 200, 100], [1, 2, 128, 129], [250, 5, 6, 7]], dtype="uint8")
_RF = np.array([[NAN, 1.0, -INF, 2.0], [0.0, -0.0, 3.0, -1.0], [INF, 5.0, 1e308, 1e308]])
_RG = np.arange(12.0).reshape(3, 4) - 5
_RF32 = (np.arange(12.0).reshape(3, 4) * 1.1).astype("float32")


def _argbest(fn: Callable[..., Any], axis: Any) -> Callable[[np.ndarray], np.ndarray]:
    """numpy's argmax/argmin over ``axis`` (an axis tuple of every axis: of the flat array)."""
    return lambda x: fn(x.reshape(-1)) if isinstance(axis, tuple) else fn(x, axis=axis)


REDUCE: dict[str, Case] = {}
for _ax in (None, 0, -1):
    REDUCE.update(
        {
            f"sum(x*x) int8 axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x * x, axis=a),
                lambda x, a=_ax: np.sum(x * x, axis=a),
                (_RI8,),
            ),
            f"sum(x+x) uint8 axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x + x, axis=a),
                lambda x, a=_ax: np.sum(x + x, axis=a),
                (_RU8,),
            ),
            f"prod(x+1) int8 axis={_ax}": (
                lambda m, x, a=_ax: m.prod(x + np.int8(1), axis=a),
                lambda x, a=_ax: np.prod(x + np.int8(1), axis=a),
                (_RI8,),
            ),
            f"max(x*2) int8 axis={_ax}": (
                lambda m, x, a=_ax: m.max(x * np.int8(2), axis=a),
                lambda x, a=_ax: np.max(x * np.int8(2), axis=a),
                (_RI8,),
            ),
            f"min(x+100) uint8 axis={_ax}": (
                lambda m, x, a=_ax: m.min(x + np.uint8(100), axis=a),
                lambda x, a=_ax: np.min(x + np.uint8(100), axis=a),
                (_RU8,),
            ),
            f"max(-x) uint8 axis={_ax}": (
                lambda m, x, a=_ax: m.max(-x, axis=a),
                lambda x, a=_ax: np.max(-x, axis=a),
                (_RU8,),
            ),
            f"mean(x*x) int8 axis={_ax}": (
                lambda m, x, a=_ax: m.mean(x * x, axis=a),
                lambda x, a=_ax: np.mean(x * x, axis=a),
                (_RI8,),
            ),
            f"sum(x>0) axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x > 0, axis=a),
                lambda x, a=_ax: np.sum(x > 0, axis=a),
                (_RF,),
            ),
            f"prod(x>0) axis={_ax}": (
                lambda m, x, a=_ax: m.prod(x > 0, axis=a),
                lambda x, a=_ax: np.prod(x > 0, axis=a),
                (_RF,),
            ),
            f"max(x>0) axis={_ax}": (
                lambda m, x, a=_ax: m.max(x > 0, axis=a),
                lambda x, a=_ax: np.max(x > 0, axis=a),
                (_RF,),
            ),
            f"all(x*0) axis={_ax}": (
                lambda m, x, a=_ax: m.all(x * 0, axis=a),
                lambda x, a=_ax: np.all(x * 0, axis=a),
                (_RF,),
            ),
            f"any(x-x) axis={_ax}": (
                lambda m, x, a=_ax: m.any(x - x, axis=a),
                lambda x, a=_ax: np.any(x - x, axis=a),
                (_RF,),
            ),
            f"max(-x) nan axis={_ax}": (
                lambda m, x, a=_ax: m.max(-x, axis=a),
                lambda x, a=_ax: np.max(-x, axis=a),
                (_RF,),
            ),
            f"min(2*x) nan axis={_ax}": (
                lambda m, x, a=_ax: m.min(x * 2, axis=a),
                lambda x, a=_ax: np.min(x * 2, axis=a),
                (_RF,),
            ),
            f"sum(x*2, dtype=int8) axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x * np.int8(2), axis=a, dtype="int8"),
                lambda x, a=_ax: np.sum(x * np.int8(2), axis=a, dtype="int8"),
                (_RI8,),
            ),
            f"sum(x*x) float32 axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x * x, axis=a),
                lambda x, a=_ax: np.sum(x * x, axis=a),
                (_RF32,),
            ),
            f"mean(x+1) float32 axis={_ax}": (
                lambda m, x, a=_ax: m.mean(x + 1, axis=a),
                lambda x, a=_ax: np.mean(x + 1, axis=a),
                (_RF32,),
            ),
            f"sum(col*row) axis={_ax}": (
                lambda m, x, y, a=_ax: m.sum(x * y, axis=a),
                lambda x, y, a=_ax: np.sum(x * y, axis=a),
                (_RG[:, :1], _RG[:1, :]),
            ),
            f"sum(1x1-x) axis={_ax}": (
                lambda m, x, y, a=_ax: m.sum(x - y, axis=a),
                lambda x, y, a=_ax: np.sum(x - y, axis=a),
                (_RG[:1, :1], _RG),
            ),
            f"max(col-row) axis={_ax}": (
                lambda m, x, y, a=_ax: m.max(x - y, axis=a),
                lambda x, y, a=_ax: np.max(x - y, axis=a),
                (_RG[:, :1], _RG[:1, :]),
            ),
            f"argmax nan axis={_ax}": (
                lambda m, x, a=_ax: m.argmax(x, axis=a),
                _argbest(np.argmax, _ax),
                (_RF,),
            ),
            f"argmin(2*x) int8 axis={_ax}": (
                lambda m, x, a=_ax: m.argmin(x * np.int8(2), axis=a),
                lambda x, a=_ax: _argbest(np.argmin, a)(x * np.int8(2)),
                (_RI8,),
            ),
            f"argmax(-x) uint8 axis={_ax}": (
                lambda m, x, a=_ax: m.argmax(-x, axis=a),
                lambda x, a=_ax: _argbest(np.argmax, a)(-x),
                (_RU8,),
            ),
            f"sum empty axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x * 2, axis=a),
                lambda x, a=_ax: np.sum(x * 2, axis=a),
                (_RG[:0],),
            ),
            f"prod empty axis={_ax}": (
                lambda m, x, a=_ax: m.prod(x * 2, axis=a),
                lambda x, a=_ax: np.prod(x * 2, axis=a),
                (_RG[:0],),
            ),
            f"sum keepdims axis={_ax}": (
                lambda m, x, a=_ax: m.sum(m.exp(x), axis=a, keepdims=True),
                lambda x, a=_ax: np.sum(np.exp(x), axis=a, keepdims=True),
                (_RG,),
            ),
            f"max keepdims axis={_ax}": (
                lambda m, x, a=_ax: m.max(m.exp(x), axis=a, keepdims=True),
                lambda x, a=_ax: np.max(np.exp(x), axis=a, keepdims=True),
                (_RG,),
            ),
            f"var axis={_ax}": (
                lambda m, x, a=_ax: m.var(x, axis=a),
                lambda x, a=_ax: np.var(x, axis=a),
                (_RG,),
            ),
            f"std axis={_ax}": (
                lambda m, x, a=_ax: m.std(x, axis=a),
                lambda x, a=_ax: np.std(x, axis=a),
                (_RG,),
            ),
            f"sum of a length-1 axis={_ax}": (
                lambda m, x, a=_ax: m.sum(x, axis=a),
                lambda x, a=_ax: np.sum(x, axis=a),
                (_RF[:1],),
            ),
            f"max of a length-1 axis={_ax}": (
                lambda m, x, a=_ax: m.max(x, axis=a),
                lambda x, a=_ax: np.max(x, axis=a),
                (_RF[:, 1:2],),
            ),
        }
    )
REDUCE.update(
    {
        "sum(x*x) int8 axis=(0, 1)": (
            lambda m, x: m.sum(x * x, axis=(0, 1)),
            lambda x: np.sum(x * x, axis=(0, 1)),
            (_RI8,),
        ),
        "max(-x) nan axis=(1, 0)": (
            lambda m, x: m.max(-x, axis=(1, 0)),
            lambda x: np.max(-x, axis=(1, 0)),
            (_RF,),
        ),
        "argmax nan axis=(0, 1)": (
            lambda m, x: m.argmax(x, axis=(0, 1)),
            _argbest(np.argmax, (0, 1)),
            (_RF,),
        ),
        "mean(x*x) int8 axis=(0, 1)": (
            lambda m, x: m.mean(x * x, axis=(0, 1)),
            lambda x: np.mean(x * x, axis=(0, 1)),
            (_RI8,),
        ),
        "sum(sum(x, 0))": (lambda m, x: m.sum(m.sum(x, axis=0)), lambda x: np.sum(np.sum(x, axis=0)), (_RF,)),
        "sum(sum(x, 0), 0)": (lambda m, x: m.sum(m.sum(x, axis=0), axis=0), lambda x: np.sum(x), (_RG,)),
        "sum(x, axis=())": (lambda m, x: m.sum(x, axis=()), lambda x: np.sum(x, axis=()), (_RG,)),
        "max(x, axis=())": (lambda m, x: m.max(x, axis=()), lambda x: np.max(x, axis=()), (_RG,)),
        "sum(x*3), x 0-d": (lambda m, x: m.sum(x * 3), lambda x: np.sum(x * 3), (np.float64(2.0),)),
        "sum(join(x, y), 0)": (
            lambda m, x, y: m.sum(m.join(0, x, y), axis=0),
            lambda x, y: np.sum(np.concatenate([x, y]), axis=0),
            (_RG, _RF),
        ),
        "max(stack(x, y), 0)": (
            lambda m, x, y: m.max(m.stack([x, y]), axis=0),
            lambda x, y: np.max(np.stack([x, y]), axis=0),
            (_RG, _RF),
        ),
        "sum(x/y[:, None], 0)": (
            lambda m, x, y: m.sum(x / y.dimshuffle(0, "x"), axis=0),
            lambda x, y: np.sum(x / y[:, None], axis=0),
            (_RG, np.array([0.0, -1.0, 2.0])),
        ),
        "sum(c*x)": (lambda m, x: m.sum(3.0 * x), lambda x: np.sum(3.0 * x), (_RF[1:2],)),
        "sum(x/c) c=0": (lambda m, x: m.sum(x / 0.0), lambda x: np.sum(x / 0.0), (_RF[1],)),
        "prod(x/y)": (lambda m, x, y: m.prod(x / y), lambda x, y: np.prod(x / y), (S[3:9], T[3:9])),
        "prod(0, inf)": (lambda m, x: m.prod(x), lambda x: np.prod(x), (np.array([0.0, INF]),)),
        "prod(-x)": (lambda m, x: m.prod(-x), lambda x: np.prod(-x), (S[5:9],)),
        "sum(-x) int8": (lambda m, x: m.sum(-x), lambda x: np.sum(-x), (I8,)),
        "sum(x) uint8": (lambda m, x: m.sum(x), lambda x: np.sum(x), (U8,)),
        "prod(x) int8": (lambda m, x: m.prod(x), lambda x: np.prod(x), (I8[2:6],)),
        "max(x) int8": (lambda m, x: m.max(x), lambda x: np.max(x), (I8,)),
        "min(x) int64": (lambda m, x: m.min(x), lambda x: np.min(x), (I64,)),
        "max(-x) int64": (lambda m, x: m.max(-x), lambda x: np.max(-x), (I64,)),
        "mean(x) int64": (lambda m, x: m.mean(x), lambda x: np.mean(x), (I64[2:],)),
        "all(x) empty": (lambda m, x: m.all(x), lambda x: np.all(x), (S[:0],)),
        "any(x) empty": (lambda m, x: m.any(x), lambda x: np.any(x), (S[:0],)),
        "any(nan)": (lambda m, x: m.any(x), lambda x: np.any(x), (S[:1],)),
        "max(x) -inf only": (lambda m, x: m.max(x), lambda x: np.max(x), (np.array([-INF, -INF]),)),
        "min(x) inf only": (lambda m, x: m.min(x), lambda x: np.min(x), (np.array([INF]),)),
        "argmax(x) -inf only": (lambda m, x: m.argmax(x), lambda x: np.argmax(x), (np.array([-INF, -INF]),)),
        "argmax(x) int8 min only": (
            lambda m, x: m.argmax(x),
            lambda x: np.argmax(x),
            (np.array([-128, -128], "int8"),),
        ),
        "argmin(x) uint8 max only": (
            lambda m, x: m.argmin(x),
            lambda x: np.argmin(x),
            (np.array([255, 255], "uint8"),),
        ),
        "max(x) + argmax(x)": (
            lambda m, x: [m.max(x, axis=0), m.argmax(x, axis=0)],
            lambda x: [np.max(x, axis=0), np.argmax(x, axis=0)],
            (_RF,),
        ),
    }
)


# -- test_elemwise.py: fusion (chains, shared producers, multiple outputs, broadcasting)
FUSION: dict[str, Case] = {
    "exp(x)*y+sin(z)/(1+x*x)": (
        lambda m, x, y, z: m.exp(x) * y + m.sin(z) / (1 + x * x),
        lambda x, y, z: np.exp(x) * y + np.sin(z) / (1 + x * x),
        (S, T, S[::2].repeat(2)),
    ),
    "shared producer, two consumers": (
        lambda m, x, y: [(x * y + 1) * 2, (x * y + 1) / 3, x * y + 1],
        lambda x, y: [(x * y + 1) * 2, (x * y + 1) / 3, x * y + 1],
        (S, T),
    ),
    "fused int8 then float": (
        lambda m, x, y: (x * x + np.int8(1)) * y,
        lambda x, y: (x * x + np.int8(1)) * y,
        (I8, S),
    ),
    "fused uint8 wrap then cast": (
        lambda m, x: m.cast(x + np.uint8(200), "int64") - 1,
        lambda x: (x + np.uint8(200)).astype("int64") - 1,
        (U8,),
    ),
    "fused float32 and float64": (
        lambda m, x, y: (x * 3 + 1) * y,
        lambda x, y: (x * np.float32(3) + np.float32(1)) * y,
        (S32, S),
    ),
    "fused comparison chain": (
        lambda m, x, y: m.switch((x > y) & (x < 3), x, -y) * (y >= 0),
        lambda x, y: np.where((x > y) & (x < 3), x, -y) * (y >= 0),
        (S, T),
    ),
    "fused broadcast col row": (
        lambda m, x, y: m.exp(x) * m.cos(y) + x,
        lambda x, y: np.exp(x) * np.cos(y) + x,
        (S[:5, None], T[None, :4]),
    ),
    "fused runtime broadcast": (
        lambda m, x, y: m.exp(x) * m.cos(y) + x,
        lambda x, y: np.exp(x) * np.cos(y) + x,
        (np.full((1, 4), 0.5), np.arange(12.0).reshape(3, 4)),
    ),
    "fused runtime broadcast both": (
        lambda m, x, y: (x - y) ** 2 / (x + 1),
        lambda x, y: (x - y) ** 2 / (x + 1),
        (np.arange(3.0).reshape(3, 1), np.arange(4.0).reshape(1, 4)),
    ),
    "fused empty": (lambda m, x, y: m.exp(x) * y + 1, lambda x, y: np.exp(x) * y + 1, (S[:0], T[:0])),
    "fused empty and 1": (lambda m, x, y: m.exp(x) * y + 1, lambda x, y: np.exp(x) * y + 1, (S[:0], ONE)),
    "fused 0-d": (
        lambda m, x, y: m.exp(x) * y - x,
        lambda x, y: np.exp(x) * y - x,
        (np.float64(-0.0), np.float64(INF)),
    ),
    "fused transposed input": (lambda m, x: m.exp(x.T) + x.T * 2, lambda x: np.exp(x.T) + x.T * 2, (_M,)),
    "fused reversed input": (lambda m, x: m.exp(x[::-1]) - x, lambda x: np.exp(x[::-1]) - x, (S,)),
    "fused strided input": (
        lambda m, x: m.exp(x[:, ::2]) * x[:, 1::2][:, :2],
        lambda x: np.exp(x[:, ::2]) * x[:, 1::2][:, :2],
        (_M[:, :4],),
    ),
    "fused into sum": (
        lambda m, x, y: m.sum((x - y) ** 2),
        lambda x, y: np.sum((x - y) ** 2),
        (S[3:9], T[3:9]),
    ),
    "fused into max": (lambda m, x, y: m.max(m.exp(x) - y), lambda x, y: np.max(np.exp(x) - y), (S, T)),
    "fused into sum and output": (
        lambda m, x: [m.exp(x) * 2, m.sum(m.exp(x) * 2)],
        lambda x: [np.exp(x) * 2, np.sum(np.exp(x) * 2)],
        (S[3:9],),
    ),
    "fused sum per row": (
        lambda m, x, y: m.sum(m.exp(x) * y, axis=1),
        lambda x, y: np.sum(np.exp(x) * y, axis=1),
        (_RG, np.arange(4.0)),
    ),
    "a long chain": (
        lambda m, x: functools.reduce(lambda a, k: m.sin(a) * 0.5 + k, range(40), x),
        lambda x: functools.reduce(lambda a, k: np.sin(a) * 0.5 + k, range(40), x),
        (S,),
    ),
    "many inputs": (
        lambda m, *xs: functools.reduce(lambda a, b: a * 0.5 + b, xs),
        lambda *xs: functools.reduce(lambda a, b: a * 0.5 + b, xs),
        tuple(S + k for k in range(30)),
    ),
    "output also an input of a fused loop": (
        lambda m, x: [m.exp(x), m.exp(x) + 1, (m.exp(x) + 1) * 2],
        lambda x: [np.exp(x), np.exp(x) + 1, (np.exp(x) + 1) * 2],
        (S,),
    ),
    "exp(x) kept, reshape(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.reshape(m.exp(x), (5, 4)) + 1.0],
        lambda x: [np.exp(x), np.exp(x).reshape(5, 4) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, exp(x).T + 1": (
        lambda m, x: [m.exp(x), m.exp(x).T + 1.0],
        lambda x: [np.exp(x), np.exp(x).T + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, exp(x)[1:, ::-1] + 1": (
        lambda m, x: [m.exp(x), m.exp(x)[1:, ::-1] + 1.0],
        lambda x: [np.exp(x), np.exp(x)[1:, ::-1] + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, flatten(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.flatten(m.exp(x)) + 1.0],
        lambda x: [np.exp(x), np.exp(x).ravel() + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, diagonal(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.diagonal(m.exp(x)) + 1.0],
        lambda x: [np.exp(x), np.diagonal(np.exp(x)) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, broadcast_to(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.broadcast_to(m.exp(x), (2, 4, 5)) + 1.0],
        lambda x: [np.exp(x), np.broadcast_to(np.exp(x), (2, 4, 5)) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, specify_shape(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.specify_shape(m.exp(x), (4, 5)) + 1.0],
        lambda x: [np.exp(x), np.exp(x) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, swapaxes(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.swapaxes(m.exp(x), 0, 1) + 1.0],
        lambda x: [np.exp(x), np.exp(x).T + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, alloc(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.alloc(m.exp(x), 4, 5) + 1.0],
        lambda x: [np.exp(x), np.exp(x) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, join([exp(x)]) + 1": (
        lambda m, x: [m.exp(x), m.concatenate([m.exp(x)], axis=0) + 1.0],
        lambda x: [np.exp(x), np.exp(x) + 1.0],
        (_M / 10,),
    ),
    "exp(x) kept, cast(exp(x)) + 1": (
        lambda m, x: [m.exp(x), m.cast(m.exp(x), "float64") + 1.0],
        lambda x: [np.exp(x), np.exp(x) + 1.0],
        (_M / 10,),
    ),
    "input reused in place": (
        lambda m, x: [m.exp(x) + x, x * 2],
        lambda x: [np.exp(x) + x, x * 2],
        (S,),
    ),
}

# -- products and sums (test_elemwise.py's fused multiply-adds): numpy rounds x*y before adding
# -- z, so z = -x*y gives 0, and 1e308*10 + -inf NaN. A fused loop compiled with the default
# -- flags on a CPU with FMA rounds once (docs/numpy.md): this table is compiled without it.
CONTRACTION: dict[str, Case] = {
    "x*y+z": (lambda m, x, y, z: x * y + z, lambda x, y, z: x * y + z, (_FMA_X, _FMA_Y, _FMA_Z)),
    "z-x*y": (lambda m, x, y, z: -z - x * y, lambda x, y, z: -z - x * y, (_FMA_X, _FMA_Y, _FMA_Z)),
    "x*x-c": (lambda m, x: x * x - 0.01, lambda x: x * x - 0.01, (_FMA_X,)),
    "x*y+z float32": (
        lambda m, x, y, z: x * y + z,
        lambda x, y, z: x * y + z,
        tuple(
            v.astype("float32")
            for v in (_FMA_X[[0, 2, 3, 4, 5]], _FMA_Y[[0, 2, 3, 4, 5]], _FMA_Z[[0, 2, 3, 4, 5]])
        ),
    ),
}
for _ax in (None, 0, -1):
    CONTRACTION[f"sum(x*10) overflow axis={_ax}"] = (
        lambda m, x, a=_ax: m.sum(x * 10, axis=a),
        lambda x, a=_ax: np.sum(x * 10, axis=a),
        (_RF,),
    )
    CONTRACTION[f"sum(x*y+z) axis={_ax}"] = (
        lambda m, x, y, z, a=_ax: m.sum(x * y + z, axis=a),
        lambda x, y, z, a=_ax: np.sum(x * y + z, axis=a),
        (_FMA_X.reshape(2, 3), _FMA_Y.reshape(2, 3), _FMA_Z.reshape(2, 3)),
    )

# -- test_special.py: softmax, log_softmax and logsumexp (local_logsoftmax, the max shift) on
# -- slices holding infinities and NaN, against scipy
_SOFT = np.array(
    [
        [1.0, 2.0, 3.0],
        [-INF, 0.0, -INF],
        [1000.0, -1000.0, 0.0],
        [INF, 1.0, 0.0],
        [-INF, -INF, -INF],
        [INF, INF, 1.0],
        [NAN, 1.0, 2.0],
        [INF, -INF, 0.0],
        [1000.0, INF, -INF],
    ]
)
SOFTMAX: dict[str, Case] = {}
for _ax in (0, 1, -1):
    SOFTMAX.update(
        {
            f"softmax axis={_ax}": (
                lambda m, x, a=_ax: m.special.softmax(x, axis=a),
                lambda x, a=_ax: special.softmax(x, axis=a),
                (_SOFT,),
            ),
            f"log_softmax axis={_ax}": (
                lambda m, x, a=_ax: m.special.log_softmax(x, axis=a),
                lambda x, a=_ax: special.log_softmax(x, axis=a),
                (_SOFT,),
            ),
            f"logsumexp axis={_ax}": (
                lambda m, x, a=_ax: m.logsumexp(x, axis=a),
                lambda x, a=_ax: special.logsumexp(x, axis=a),
                (_SOFT,),
            ),
            f"softmax(x + 5) axis={_ax}": (
                lambda m, x, a=_ax: m.special.softmax(x + 5.0, axis=a),
                lambda x, a=_ax: special.softmax(x + 5.0, axis=a),
                (_SOFT,),
            ),
            f"softmax float32 axis={_ax}": (
                lambda m, x, a=_ax: m.special.softmax(x, axis=a),
                lambda x, a=_ax: special.softmax(x, axis=a).astype("float32"),
                (_SOFT.astype("float32"),),
            ),
        }
    )
    if _ax != 0:  # no slices (numpy's and scipy's max of an empty axis raises)
        SOFTMAX[f"softmax of no rows axis={_ax}"] = (
            lambda m, x, a=_ax: m.special.softmax(x, axis=a),
            lambda x, a=_ax: x.copy(),
            (_SOFT[:0],),
        )
SOFTMAX["softmax(x - max(x))"] = (
    lambda m, x: m.special.softmax(x - m.max(x, axis=1, keepdims=True), axis=1),
    lambda x: special.softmax(x - x.max(1, keepdims=True), axis=1),
    (_SOFT,),
)
SOFTMAX["log(softmax(x))"] = (
    lambda m, x: m.log(m.special.softmax(x, axis=1)),
    lambda x: np.log(special.softmax(x, axis=1)),
    (_SOFT[[0, 1, 3, 4, 5, 6, 7]],),
)
SOFTMAX["softmax int8"] = (
    lambda m, x: m.special.softmax(x, axis=0),
    lambda x: special.softmax(x.astype("float32"), axis=0).astype("float32"),
    (I8,),
)

# -- test_linalg.py: inverses, determinants, solves and products PyTensor rewrites (inv(inv(x)),
# -- det of a diagonal or scaled identity, solve with an identity, transposes of products)
_LA = np.random.default_rng(20261203).normal(size=(4, 4))
_SPD = _LA @ _LA.T + 4 * np.eye(4)
_DIAG = np.diag([2.0, -3.0, 0.5, 4.0])
_RHS = np.arange(12.0).reshape(4, 3) - 5
LINALG: dict[str, Case] = {
    "inv(inv(x))": (
        lambda m, x: m.linalg.inv(m.linalg.inv(x)),
        lambda x: np.linalg.inv(np.linalg.inv(x)),
        (_LA,),
    ),
    "inv(diagonal)": (lambda m, x: m.linalg.inv(x), np.linalg.inv, (_DIAG,)),
    "inv(eye * c)": (
        lambda m, c: m.linalg.inv(m.eye(3) * c),
        lambda c: np.linalg.inv(np.eye(3) * c),
        (np.float64(-0.5),),
    ),
    "det(diagonal)": (lambda m, x: m.linalg.det(x), np.linalg.det, (_DIAG,)),
    "det(eye * x)": (lambda m, x: m.linalg.det(m.eye(4) * x), lambda x: np.linalg.det(np.eye(4) * x), (_LA,)),
    "det(x.T)": (lambda m, x: m.linalg.det(x.T), lambda x: np.linalg.det(x.T), (_LA,)),
    "log(det(x))": (lambda m, x: m.log(m.linalg.det(x)), lambda x: np.log(np.linalg.det(x)), (_SPD,)),
    "cholesky(diagonal)": (
        lambda m, x: m.linalg.cholesky(x),
        np.linalg.cholesky,
        (np.diag([4.0, 9.0, 1.0]),),
    ),
    "solve(eye, b)": (lambda m, b: m.linalg.solve(m.eye(4), b), lambda b: b.copy(), (_RHS,)),
    "solve(a, b)": (lambda m, a, b: m.linalg.solve(a, b), np.linalg.solve, (_LA, _RHS)),
    "inv(a) @ b": (lambda m, a, b: m.dot(m.linalg.inv(a), b), lambda a, b: np.linalg.inv(a) @ b, (_LA, _RHS)),
    "x @ eye": (lambda m, x: m.dot(x, m.eye(4)), lambda x: x @ np.eye(4), (_LA,)),
    "(a @ b).T": (lambda m, a, b: m.dot(a, b).T, lambda a, b: (a @ b).T, (_LA, _RHS)),
    "b.T @ a.T": (lambda m, a, b: m.dot(b.T, a.T), lambda a, b: b.T @ a.T, (_LA, _RHS)),
    "dot of empty": (lambda m, a, b: m.dot(a, b), lambda a, b: a @ b, (np.zeros((3, 0)), np.zeros((0, 4)))),
    "dot int8 overflow": (
        lambda m, a, b: m.dot(a, b),
        lambda a, b: a @ b,
        (np.array([[100, 100]], "int8"), np.array([[2], [1]], "int8")),
    ),
    "dot uint8 int8": (
        lambda m, a, b: m.dot(a, b),
        lambda a, b: a @ b,
        (np.array([[200, 100]], "uint8"), np.array([[2], [-1]], "int8")),
    ),
    "dot inf * 0": (
        lambda m, a, b: m.dot(a, b),
        lambda a, b: a @ b,
        (np.array([[INF, 0.0]]), np.array([[0.0], [1.0]])),
    ),
    "dot bool": (
        lambda m, a, b: m.dot(a, b),
        lambda a, b: a @ b,
        (np.array([[True, False]]), np.array([[True], [True]])),
    ),
    "trace(a @ b)": (lambda m, a, b: m.trace(m.dot(a, b)), lambda a, b: np.trace(a @ b), (_LA, _LA.T.copy())),
    "diagonal(a @ b)": (
        lambda m, a, b: m.diagonal(m.dot(a, b)),
        lambda a, b: np.diagonal(a @ b),
        (_LA, _LA.T.copy()),
    ),
}

AREAS: dict[str, dict[str, Case]] = {
    "math": MATH,
    "special": SPECIAL,
    "subtensor": SUBTENSOR,
    "inc_subtensor": INC_SUBTENSOR,
    "shape": SHAPE,
    "reduce": REDUCE,
    "fusion": FUSION,
    "contraction": CONTRACTION,
    "softmax": SOFTMAX,
    "linalg": LINALG,
}

#: Cases where the sign of a zero is not numpy's to decide: IEEE leaves max(0.0, -0.0) to the
#: implementation, and numpy's own SIMD reductions return either.
_ANY_ZERO_SIGN = {("reduce", "max(stack(x, y), 0)")}


def _build(cases: dict[str, Case], m: Any, like: Callable[[np.ndarray], Any]) -> tuple[list, list, list]:
    """The symbolic inputs, the outputs and each case's number of outputs, every case of
    ``cases`` built with module ``m`` on its own inputs."""
    ins, outs, counts = [], [], []
    for build, _, vals in cases.values():
        mine = [like(v) for v in vals]
        ins += mine
        built = as_list(build(m, *mine))
        outs += built
        counts.append(len(built))
    return ins, outs, counts


def _split(cases: dict[str, Case], got: list, counts: list[int]) -> dict[str, list]:
    res, at = {}, 0
    for name, n in zip(cases, counts):
        res[name], at = got[at : at + n], at + n
    return res


def _values(cases: dict[str, Case]) -> list[np.ndarray]:
    return [v for _, _, vals in cases.values() for v in vals]


@functools.lru_cache(maxsize=None)
def _results(area: str, mode: str) -> dict[str, list]:
    """Every case's outputs of ``area``, from one function compiled under ``mode``."""
    cases = AREAS[area]
    ins, outs, counts = _build(cases, ft, symbolic_like)
    flags = fc.config.cxxflags + (" -ffp-contract=off" if area == "contraction" else "")
    with fc.config.change_flags(cxxflags=flags):
        f = fc.function(ins, outs, mode=mode, on_unused_input="ignore")
    return _split(cases, f(*_values(cases)), counts)


def _assert_numpy(area: str, name: str, got: list, what: str) -> None:
    _, ref, vals = AREAS[area][name]
    with np.errstate(all="ignore"):
        want = as_list(ref(*vals))
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"{what} output {k}")
        w = np.asarray(w)
        if w.dtype.kind == "f" and (area, name) not in _ANY_ZERO_SIGN:
            zero = w == 0
            assert np.array_equal(np.signbit(g[zero]), np.signbit(w[zero])), f"{what}: the sign of a zero"


#: The stabilizations are rewrites: the Python linker's mode (no rewrites) computes the formula
#: as written, as numpy does.
_REWRITTEN_ONLY = {"special"}
_IDS = [
    (area, name, mode)
    for area, cases in AREAS.items()
    for name in cases
    for mode in MODES
    if area not in _REWRITTEN_ONLY or mode == "FAST_RUN"
]


@pytest.mark.parametrize("area,name,mode", _IDS, ids=[f"{a}: {n}-{m}" for a, n, m in _IDS])
def test_numpy_values(area: str, name: str, mode: str) -> None:
    _assert_numpy(area, name, _results(area, mode)[name], f"{area} {name!r} ({mode})")


def test_a_multiply_add_is_rounded_once_or_as_numpy() -> None:
    """With the default flags a fused ``x * y + z`` is either numpy's (two roundings: a CPU
    without FMA) or the exact value rounded once (FMA), element by element: never anything
    else (docs/numpy.md)."""
    from fractions import Fraction

    x, y, z = (ft.dvector(n) for n in "xyz")
    got = fc.function([x, y, z], x * y + z)(_FMA_X, _FMA_Y, _FMA_Z)
    with np.errstate(all="ignore"):
        twice = _FMA_X * _FMA_Y + _FMA_Z
    for g, a, b, c, w in zip(got, _FMA_X, _FMA_Y, _FMA_Z, twice):
        if not np.isfinite(c):  # 1e308 * 10 + -inf: NaN rounded twice, -inf once
            assert np.isnan(g) or g == c, (a, b, c, g)
            continue
        once = float(Fraction(a) * Fraction(b) + Fraction(c))
        assert g in (w, once), (a, b, c, g, w, once)


#: Where PyTensor's rewrites give another value than numpy's (fncache's): they take
#: ``inc_subtensor(x[a], zeros)`` for x (keeping a -0.0), ``zeros_like(x) * y`` for zeros (0
#: where y is inf or NaN) and the variance over a length-1 axis for 0 (numpy's is NaN for inf
#: and NaN), and ``erfc`` is more accurate than ``1 - erf`` (fncache computes what was written).
_PYTENSOR_DIFFERS = {
    ("inc_subtensor", f"inc x[{_slice_text(a)}] zeros") for a in _SLICES[1:8] if (S[:11][a] == 0).any()
} | {("special", "1-erf"), ("shape", "zeros_like(x)*y nan"), ("shape", "var(x[None], 0)")}
#: The tables PyTensor runs in a few seconds (its rewrites take minutes on the indexing chains)
_PYTENSOR_AREAS = ("special", "shape", "linalg")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # its numpy calls on inf and NaN
@pytest.mark.parametrize("area", _PYTENSOR_AREAS)
def test_pytensor_agrees(area: str) -> None:
    """PyTensor (with its rewrites, under its Python linker) gives fncache's values, dtypes and
    shapes for each case but its known differences. Its inputs have the values' static shapes:
    PyTensor broadcasts a size 1 only where the type says so."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    cases = AREAS[area]
    ins, outs, counts = _build(
        cases, pt, lambda v: pt.tensor(dtype=np.asarray(v).dtype.name, shape=np.shape(v))
    )
    mode = pytensor.compile.mode.Mode(linker="py", optimizer="fast_run")
    f = pytensor.function(ins, outs, mode=mode, on_unused_input="ignore")
    theirs = _split(cases, f(*_values(cases)), counts)
    ours = _results(area, "FAST_RUN")
    for name in cases:
        if (area, name) in _PYTENSOR_DIFFERS:
            continue
        for k, (t, o) in enumerate(zip(theirs[name], ours[name])):
            assert_same(np.asarray(t), o, f"{area} {name!r} output {k}: PyTensor and fncache")


@pytest.mark.parametrize("mode", MODES)
def test_incomplete_gamma_of_a_large_shape(mode: str) -> None:
    a, x = ft.dvector("a"), ft.dvector("x")
    f = fc.function([a, x], [ft.gammainc(a, x), ft.gammaincc(a, x)], mode=mode)
    big = np.array([1e10, 1e12, 1e16])
    got = f(big, big)
    assert_same(got[0], special.gammainc(big, big), "gammainc", rtol=1e-6)
    assert_same(got[1], special.gammaincc(big, big), "gammaincc", rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_a_shape_is_that_of_the_computed_value(mode: str) -> None:
    """``e.shape`` of a computed ``e`` whose type knows its sizes (local_shape_to_shape_i's
    graphs) is still ``e``'s: the op's own check runs, so a reshape, a sum or a join of sizes
    that do not fit raises, as computing ``e`` does (docs/porting.md)."""
    x, y = ft.dvector("x"), ft.tensor(dtype="float64", shape=(3,))
    # (shape, a length of x that fits, the shape then)
    cases = {
        "reshape": (ft.reshape(x, (2, 2)).shape, 4, np.array([2, 2])),
        "specify_shape": (ft.specify_shape(x, (3,)).shape, 3, np.array([3])),
        "x + y": ((x + y).shape, 3, np.array([3])),
        "join": (ft.concatenate([y[None], x[None]]).shape, 3, np.array([2, 3])),
        "x + y, times 0": ((x + y).shape[0] * 0, 1, np.int64(0)),
        "zeros_like(x + y)": (ft.zeros_like(x + y), 3, np.zeros(3)),
        "ones_like(reshape)": (ft.ones_like(ft.reshape(x, (2, 2)), dtype="int8"), 4, np.ones((2, 2), "int8")),
    }
    for name, (e, n, want) in cases.items():
        f = fc.function([x, y], e, mode=mode, on_unused_input="ignore")
        with pytest.raises((ValueError, AssertionError)):
            f(np.ones(5), np.ones(3))
        assert_same(np.asarray(f(np.ones(n), np.ones(3))), want, name)
