"""Property test of dtype rules and integer and bool arithmetic: random small graphs mixing
inputs of every real dtype, Python numbers and numpy-typed constants (the units and zeros that
FAST_RUN's algebraic rewrites, constant folding and fusion act on), through ``+ - * / // % **``,
bitwise ops and shifts, comparisons, ``maximum minimum clip where switch``, casts, rounding,
and reductions (``sum prod mean`` with ``dtype``/``acc_dtype``, ``max min argmax all any
cumsum cumprod``, over empty axes too), with values at the edges of each dtype.

Every node's declared dtype is numpy's (NEP 50: a Python number is weak), a Python int the
dtype cannot hold raises as numpy's does, and FAST_RUN (C) and FAST_COMPILE (numpy) give
numpy's dtype, shape and values: integers and bools exactly, floats within rounding. Under
``floatX=float32`` the float dtypes are PyTensor's (checked against PyTensor itself where it
is installed) and the two modes agree with each other. A float converted to an integer type
outside its range follows the rule of docs/numpy.md (``tests/test_int_edges.py``).

The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 and raise
FNCACHE_HYPOTHESIS_EXAMPLES to explore new examples.
"""

from __future__ import annotations

import contextlib
import operator
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from fcutil import fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_int_edges import documented_float_to_int, edges  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

INTS = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
FLOATS = ("float32", "float64")
REALS = ("bool", *INTS, *FLOATS)
#: Python numbers: the units and zeros rewrites look for, widths of shifts, and numbers just
#: past what each integer dtype holds (numpy raises OverflowError for those)
PY_INTS = (0, 1, -1, 2, 3, 7, 8, 16, 31, 32, 63, 64, -128, 127, 255, 256, 300)
PY_INTS += (-(2**31), 2**31 - 1, 2**32, 2**63 - 1, -(2**63), 2**64 - 1)
PY_FLOATS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -1.5, 1e300, float("inf"), float("nan"))


def _sqr_numpy(a: np.ndarray) -> np.ndarray:
    """PyTensor's ``sqr``: ``a * a`` in ``a``'s dtype (bool stays bool, where numpy's
    ``square`` gives int8)."""
    return np.multiply(a, a)


#: name: (arity, builder given the module (fncache.tensor or pytensor.tensor) and operands,
#: numpy's)
Op = tuple[int, Callable[..., Any], Callable[..., Any]]
OPS: dict[str, Op] = {
    "+": (2, lambda T, a, b: a + b, operator.add),
    "-": (2, lambda T, a, b: a - b, operator.sub),
    "*": (2, lambda T, a, b: a * b, operator.mul),
    "/": (2, lambda T, a, b: a / b, operator.truediv),
    "//": (2, lambda T, a, b: a // b, operator.floordiv),
    "%": (2, lambda T, a, b: a % b, operator.mod),
    # numpy's ufunc: the operator takes ``bool_array ** 2`` for ``square`` (int8, where
    # np.power gives int64), as fncache's ``pow`` does not
    "**": (2, lambda T, a, b: a**b, np.power),
    "&": (2, lambda T, a, b: a & b, operator.and_),
    "|": (2, lambda T, a, b: a | b, operator.or_),
    "^": (2, lambda T, a, b: a ^ b, operator.xor),
    "<<": (2, lambda T, a, b: a << b, operator.lshift),
    ">>": (2, lambda T, a, b: a >> b, operator.rshift),
    "<": (2, lambda T, a, b: a < b, operator.lt),
    ">=": (2, lambda T, a, b: a >= b, operator.ge),
    "eq": (2, lambda T, a, b: T.eq(a, b), np.equal),
    "neq": (2, lambda T, a, b: T.neq(a, b), np.not_equal),
    "maximum": (2, lambda T, a, b: T.maximum(a, b), np.maximum),
    "minimum": (2, lambda T, a, b: T.minimum(a, b), np.minimum),
    "-x": (1, lambda T, a: -a, np.negative),
    "abs": (1, lambda T, a: abs(a), np.abs),
    "~x": (1, lambda T, a: ~a, np.invert),
    "sign": (1, lambda T, a: T.sign(a), np.sign),
    "floor": (1, lambda T, a: T.floor(a), np.floor),
    "ceil": (1, lambda T, a: T.ceil(a), np.ceil),
    "trunc": (1, lambda T, a: T.trunc(a), np.trunc),
    "sqr": (1, lambda T, a: T.sqr(a), _sqr_numpy),
    "fmod": (2, lambda T, a, b: T.fmod(a, b), np.fmod),
    "divmod[0]": (2, lambda T, a, b: T.divmod(a, b)[0], lambda a, b: np.divmod(a, b)[0]),
    "divmod[1]": (2, lambda T, a, b: T.divmod(a, b)[1], lambda a, b: np.divmod(a, b)[1]),
    "logical_and": (2, lambda T, a, b: T.logical_and(a, b), np.logical_and),
    "logical_xor": (2, lambda T, a, b: T.logical_xor(a, b), np.logical_xor),
    "logical_not": (1, lambda T, a: T.logical_not(a), np.logical_not),
    "square": (1, lambda T, a: T.square(a), np.square),
    "isnan": (1, lambda T, a: T.isnan(a), np.isnan),
    "signbit": (1, lambda T, a: T.signbit(a), np.signbit),
    # PyTensor's integer reciprocal of 0 is 0 (numpy's: the platform's conversion of inf)
    "reciprocal": (
        1,
        lambda T, a: T.reciprocal(a),
        lambda a: (
            np.where(a == 0, np.zeros((), np.reciprocal(a).dtype), np.reciprocal(a))
            if np.asarray(a).dtype.kind in "iu"
            else np.reciprocal(a)
        ),
    ),
    "add(a, b, c)": (3, lambda T, a, b, c: T.add(a, b, c), lambda a, b, c: a + b + c),
    "mul(a, b, c)": (3, lambda T, a, b, c: T.mul(a, b, c), lambda a, b, c: a * b * c),
    "where": (3, lambda T, c, a, b: T.where(c, a, b), np.where),
    "switch": (3, lambda T, c, a, b: T.switch(c, a, b), np.where),
    "clip": (3, lambda T, x, lo, hi: T.clip(x, lo, hi), np.clip),
}
#: the ops by their number of operands
UNARY = [k for k, v in OPS.items() if v[0] == 1]
BINARY = [k for k, v in OPS.items() if v[0] == 2]
TERNARY = [k for k, v in OPS.items() if v[0] == 3]
#: spellings FAST_RUN's rewrites simplify (units, x - x, double negations, log(exp(x)),
#: powers made products or square roots), each of ``x`` and a constant ``c`` (a Python
#: number or a numpy-typed 0-d constant of any dtype, whose dtype the rewrite must respect)
PATTERNS: dict[str, Callable[..., Any]] = {
    "x * c": lambda T, x, c: x * c,
    "c * x": lambda T, x, c: c * x,
    "x + c": lambda T, x, c: x + c,
    "x - c": lambda T, x, c: x - c,
    "x / c": lambda T, x, c: x / c,
    "x // c": lambda T, x, c: x // c,
    "x % c": lambda T, x, c: x % c,
    "x ** c": lambda T, x, c: T.power(x, c),
    "c ** x": lambda T, x, c: T.power(c, x),
    "x - x": lambda T, x, c: x - x,
    "x // x": lambda T, x, c: x // x,
    "x % x": lambda T, x, c: x % x,
    "x ^ x": lambda T, x, c: x ^ x,
    "x & c": lambda T, x, c: x & c,
    "x | c": lambda T, x, c: x | c,
    "x << c": lambda T, x, c: x << c,
    "x >> c": lambda T, x, c: x >> c,
    "-(-x)": lambda T, x, c: operator.neg(operator.neg(x)),
    "~(~x)": lambda T, x, c: ~(~x),
    "abs(abs(x))": lambda T, x, c: abs(abs(x)),
    # within exp's range (FAST_RUN's log(exp(y)) is y where numpy's exp overflows), rounded
    # (an ulp of exp's or log's, which glibc's vector functions may differ by from numpy's,
    # would move a later % or //)
    "round(log(exp(x % 8)))": lambda T, x, c: T.round(T.log(T.exp(x % 8))),
    "where(c, x, x + 1)": lambda T, x, c: T.where(c, x, x + 1),
    "maximum(x, c)": lambda T, x, c: T.maximum(x, c),
    "x * c + x": lambda T, x, c: x * c + x,
}
PATTERN_NUMBERS = (0, 1, -1, 2, 0.0, -0.0, 1.0, 2.0, 0.5, -1.0)
PATTERN_CONSTANTS = (0, 1, 2, -1)

REDUCTIONS = ("sum", "prod", "mean", "max", "min", "argmax", "argmin", "all", "any", "cumsum", "cumprod")


@dataclass
class Node:
    """A value of the graph: the fncache variable (or Python number), numpy's value, and how
    it was made (for messages)."""

    sym: Any
    val: Any
    text: str

    @property
    def is_number(self) -> bool:
        return isinstance(self.val, (int, float))


def _wrapped_number(args: list[Node]) -> str | None:
    """Whether numpy's ``where`` wraps a Python int among its branches, which their weak
    promoted integer dtype cannot hold: "raise" where a branch is a tensor (fncache raises
    OverflowError, as numpy's ufuncs do), "skip" where both are numbers (fncache types each on
    its own, as numpy's ufuncs do: ``2**64 - 1`` is uint64), None where nothing is wrapped."""
    strong = [a.val.dtype for a in args[1:] if not a.is_number]
    dt = np.result_type(*strong, 0) if strong else np.dtype("int64")
    if dt.kind not in "iu":
        return None
    info = np.iinfo(dt)
    if not any(type(a.val) is int and not info.min <= a.val <= info.max for a in args[1:]):
        return None
    return "raise" if strong else "skip"


def _np_call(fn: Callable[..., Any], *args: Any) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def _inputs_values(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Values of ``dtype``: its edges and small numbers mixed."""
    pool = edges(dtype)
    small = np.arange(-4, 5)
    if dtype != "bool":
        info = np.iinfo(dtype) if dtype in INTS else None
        if info is not None:
            small = small[(small >= info.min) & (small <= info.max)]
        pool = np.concatenate([pool, small.astype(dtype), small.astype(dtype)])
    return rng.choice(pool, size=shape).astype(dtype)


class Builder:
    """Grows a random graph node by node, each built with fncache, numpy and (under
    floatX=float32) PyTensor, and checks each node's dtype as it is made."""

    def __init__(self, rng: np.random.Generator, floatx: str, pt: Any) -> None:
        self.rng, self.floatx, self.T = rng, floatx, pt
        self.nodes: list[Node] = []
        self.finals: list[Node] = []
        self.inputs: list[tuple[Any, np.ndarray]] = []

    def pick(self, seq: Any) -> Any:
        return seq[int(self.rng.integers(len(seq)))]

    def add_input(self, k: int, shape: tuple[int, ...]) -> None:
        dtype = self.pick(REALS)
        v = _inputs_values(self.rng, dtype, shape)
        sym = ft.tensor(f"x{k}", dtype, len(shape))
        self.inputs.append((sym, v))
        self.nodes.append(Node(sym, v, f"x{k}:{dtype}{shape}"))

    def operand(self, number_ok: bool) -> Node:
        r = self.rng.random()
        if number_ok and r < 0.3:
            n = self.pick(PY_INTS) if self.rng.random() < 0.7 else self.pick(PY_FLOATS)
            return Node(n, n, repr(n))
        if r < 0.4:
            dtype = self.pick(REALS)
            v = np.asarray(
                self.pick(edges(dtype)[:6]) if self.rng.random() < 0.5 else self.pick((0, 1, 2)), dtype
            )
            c = ft.constant(v)
            return Node(c, v, f"const({v.item()!r}:{dtype})")
        return self.pick(self.nodes[-6:] if self.rng.random() < 0.6 else self.nodes)

    def add(self) -> None:
        kind = self.rng.random()
        if kind < 0.12:
            self._reduce()
        elif kind < 0.2:
            self._cast()
        elif kind < 0.45:
            self._pattern()
        else:
            name = self.pick(BINARY * 3 + UNARY + TERNARY)
            arity, build, ref = OPS[name]
            # clip's x is a tensor; add and mul of three take a number last (numpy adds two
            # Python numbers as Python does, fncache makes each the tensors' dtype)
            first_tensors = 2 if name in ("add(a, b, c)", "mul(a, b, c)") else name == "clip"
            args = [self.operand(number_ok=arity > 1 and k >= first_tensors) for k in range(arity)]
            if all(a.is_number for a in args):
                args[0] = self.pick(self.nodes)
            if name == "clip" and args[0].is_number:
                args[0] = self.pick(self.nodes)
            self._apply(name, build, ref, args)

    def _pattern(self) -> None:
        name = self.pick(sorted(PATTERNS))
        x = self.pick(self.nodes[-4:])
        if self.rng.random() < 0.5:
            n = self.pick(PATTERN_NUMBERS)
            c = Node(n, n, repr(n))
        else:
            dtype = self.pick(REALS)
            n = self.pick(PATTERN_CONSTANTS)
            v = np.asarray(abs(n) if dtype.startswith("u") else n if dtype != "bool" else n > 0, dtype)
            c = Node(ft.constant(v), v, f"const({v.item()!r}:{v.dtype})")
        if x.is_number:
            return
        build = PATTERNS[name]
        ref = lambda x, c: build(np, x, c)  # noqa: E731
        self._apply(name, build, ref, [x, c])

    def _apply(self, name: str, build: Callable[..., Any], ref: Callable[..., Any], args: list[Node]) -> None:
        text = f"{name}({', '.join(a.text for a in args)})"
        try:
            want = np.asarray(_np_call(ref, *[a.val for a in args]))
        except OverflowError:
            if name.startswith("logical"):
                return  # numpy's logical ops take no int beyond a C long; fncache's take any number
            with pytest.raises(OverflowError):
                build(ft, *[a.sym for a in args])
            return
        except TypeError:
            # numpy refuses the dtypes or a Python int out of range: fncache must too, as it
            # builds the graph
            with pytest.raises(TypeError):
                build(ft, *[a.sym for a in args])
            return
        except ValueError:
            return  # an integer to a negative power: tests/test_int_edges.py checks the error
        if want.dtype == np.float16:
            # fncache computes numpy's float16 results in float32 (docs/numpy.md)
            f32 = [
                a.val.astype(np.float32) if not a.is_number and a.val.dtype.kind in "biu" else a.val
                for a in args
            ]
            want = np.asarray(_np_call(ref, *f32))
        wrapped = _wrapped_number(args) if name in ("where", "switch") else None
        if wrapped == "raise":
            # numpy's where wraps a Python int its result dtype cannot hold (300 into uint8 is
            # 44); fncache raises OverflowError, as numpy's ufuncs do
            with pytest.raises(OverflowError, match="does not fit"):
                build(ft, *[a.sym for a in args])
        if wrapped is not None:
            return
        try:
            sym = build(ft, *[a.sym for a in args])
        except Exception as e:
            raise AssertionError(f"{text}: numpy gives {want.dtype}, fncache raises {e!r}") from e
        # PyTensor types the numbers inside a pattern (``x % 8``) as constants of their own
        # dtypes: only single ops are checked against it
        p = self._pytensor(build, args, name in ("where", "switch")) if name in OPS else None
        inexact = "**" in name and want.dtype.kind == "f"
        self._check_and_keep(sym, p, want, text, inexact)

    def _pytensor(self, build: Callable[..., Any], args: list[Node], cond: bool = False, **kw: Any) -> Any:
        """PyTensor's result of ``build`` (under floatX=float32) on operands of the dtypes
        fncache's have, each check on its own (None where PyTensor refuses): a Python float
        stays one, a Python int is a tensor of the dtype numpy's weak promotion gives it."""
        if self.T is None:
            return None
        strong = [a.val.dtype for a in args[1 if cond else 0 :] if not a.is_number]
        ops = []
        for a in args:
            if isinstance(a.val, float):
                ops.append(a.val)
            elif isinstance(a.val, int):
                ops.append(self.T.tensor(dtype=str(np.result_type(*strong, 0)), shape=()))
            else:
                ops.append(self.T.tensor(dtype=a.sym.dtype, shape=(None,) * a.sym.ndim))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # 1e300 made float32
                return build(self.T, *ops, **kw)
        except Exception:
            return None

    def _check_and_keep(self, sym: Any, p: Any, want: np.ndarray, text: str, inexact: bool) -> None:
        """Check ``sym``'s declared dtype and ndim, and keep it: as an operand of later ops, or
        where it is ``inexact`` (a float power or sum, which may differ from numpy's by
        rounding), only as an output: a later ``%``, ``//`` or comparison would magnify the
        rounding."""
        if want.dtype == np.float16:  # fncache never makes float16: float32 in its place
            want = np.asarray(want.astype(np.float32))
        want_dtype = want.dtype.name
        if self.floatx == "float32" and want.dtype.kind == "f":
            want_dtype = p.dtype if p is not None else sym.dtype
        assert sym.dtype == want_dtype, f"{text}: fncache declares {sym.dtype}, expected {want_dtype}"
        assert sym.ndim == want.ndim, f"{text}: fncache declares ndim {sym.ndim}, numpy {want.ndim}"
        if self.floatx == "float32" and want.dtype.name != want_dtype:
            want = _np_call(want.astype, want_dtype)
        (self.finals if inexact else self.nodes).append(Node(sym, want, text))

    def _cast(self) -> None:
        a = self.pick(self.nodes)
        dtype = self.pick(REALS)
        text = f"cast({a.text}, {dtype})"
        if a.val.dtype.kind == "f" and dtype in INTS:
            want = documented_float_to_int(a.val.ravel(), dtype).reshape(a.val.shape)
        else:
            want = _np_call(a.val.astype, dtype)
        sym = ft.cast(a.sym, dtype) if self.rng.random() < 0.5 else a.sym.astype(dtype)
        p = None
        self._check_and_keep(sym, p, np.asarray(want), text, False)

    def _reduce(self) -> None:
        arrays = [n for n in self.nodes if n.val.ndim >= 1]
        if not arrays:
            return
        a = self.pick(arrays)
        name = self.pick(REDUCTIONS)
        axis = None if self.rng.random() < 0.3 else int(self.rng.integers(-a.val.ndim, a.val.ndim))
        kw: dict[str, Any] = {}
        if name in ("sum", "prod", "mean") and self.rng.random() < 0.4:
            kw["dtype"] = self.pick(REALS[1:])
        if name in ("sum", "prod") and self.rng.random() < 0.3:
            kw["acc_dtype"] = self.pick(REALS[1:])
        if name in ("cumsum", "cumprod", "argmax", "argmin"):
            kw = {}
            keepdims = False
        else:
            keepdims = bool(self.rng.random() < 0.3)
        text = f"{name}({a.text}, axis={axis}, keepdims={keepdims}, {kw})"
        npkw = {k: v for k, v in kw.items() if k == "dtype"}
        if name not in ("cumsum", "cumprod", "argmax", "argmin"):
            npkw["keepdims"] = keepdims
        acc = kw.get("acc_dtype")
        x = a.val
        try:
            if acc is not None:
                # PyTensor's acc_dtype: the loop runs in it, the result is then of numpy's dtype
                # (or ``dtype``)
                out_dtype = kw.get("dtype") or np.asarray(getattr(np, name)(x[..., :0])).dtype
                inner = _np_call(
                    getattr(np, name), _np_call(x.astype, acc), axis=axis, keepdims=keepdims, dtype=acc
                )
                inner = np.asarray(inner)
                if inner.dtype.kind == "f" and np.dtype(out_dtype).kind in "iu":
                    # a float total to an integer result by the documented rule
                    conv = documented_float_to_int(inner.ravel(), np.dtype(out_dtype).name)
                    want = conv.reshape(inner.shape)
                else:
                    want = _np_call(inner.astype, out_dtype)
            elif (
                name in ("sum", "prod", "mean")
                and "dtype" in kw
                and kw["dtype"] in INTS
                and x.dtype.kind == "f"
            ):
                # floats added in an integer dtype are each converted first, by the documented rule
                conv = documented_float_to_int(x.ravel(), kw["dtype"]).reshape(x.shape)
                want = _np_call(getattr(np, name), conv, axis=axis, **npkw)
            else:
                want = _np_call(getattr(np, name), x, axis=axis, **npkw)
        except (ValueError, TypeError):
            # an empty max, or dtypes numpy refuses: skip (tests/test_int_edges.py checks those)
            return
        try:
            sym = getattr(ft, name)(a.sym, axis=axis, **({"keepdims": keepdims} if keepdims else {}), **kw)
        except TypeError as e:
            # an acc_dtype that cannot hold every input value is PyTensor's TypeError
            assert acc is not None and "acc_dtype" in str(e), f"{text}: {e}"
            return
        p = self._pytensor(lambda T, v, **k: getattr(T, name)(v, **k), [a], axis=axis, **kw)
        inexact = name not in ("max", "min") and np.asarray(want).dtype.kind == "f"
        self._check_and_keep(sym, p, np.asarray(want), text, inexact)


def _pytensor_float32() -> tuple[Any, contextlib.AbstractContextManager]:
    """PyTensor's tensor module under floatX=float32 (None without PyTensor: the two modes are
    then checked against each other only)."""
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None, contextlib.nullcontext()
    return pt, pytensor.config.change_flags(floatX="float32")


def _assert_value(got: np.ndarray, want: np.ndarray, what: str, exact_floats: bool) -> None:
    """``got`` has ``want``'s dtype and shape; integers and bools equal, floats NaN and
    infinities in the same places and the others within rounding (exactly where both are made
    by the same exactly rounded operations)."""
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    if want.dtype.kind != "f":
        if not np.array_equal(got, want):
            bad = np.flatnonzero(got.ravel() != want.ravel())[:5]
            pytest.fail(
                f"{what}: at {bad.tolist()} got {got.ravel()[bad].tolist()}, want {want.ravel()[bad].tolist()}"
            )
        return
    g, w = got.astype(float), want.astype(float)
    assert np.array_equal(np.isnan(g), np.isnan(w)), f"{what}: NaN\n{g}\n{w}"
    fin = np.isfinite(w)
    assert np.array_equal(g[~fin & ~np.isnan(w)], w[~fin & ~np.isnan(w)]), f"{what}: infinities\n{g}\n{w}"
    eps = np.finfo(want.dtype).eps
    tol = 0.0 if exact_floats else 8 * eps
    with np.errstate(all="ignore"):
        # FAST_RUN's log(exp(y)) is y, where numpy's rounds a tiny y to 0: an absolute floor
        ok = np.abs(g - w)[fin] <= tol * np.maximum(np.abs(w[fin]), 1.0)
    if not ok.all():
        pytest.fail(f"{what}: got\n{g}\nwant\n{w}")


def _layout(v: np.ndarray, kind: int) -> np.ndarray:
    """``v``'s values as a contiguous array (0), a view stepping over every other element of a
    larger one (1) or, for a matrix, a transposed (Fortran-ordered) copy (2)."""
    if kind == 1 and v.ndim:
        big = np.repeat(v, 2, axis=-1)
        return big[..., ::2]
    if kind == 2 and v.ndim == 2:
        return np.asfortranarray(v)
    return v


@st.composite
def cases(draw: Any) -> dict:
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "floatx": draw(st.sampled_from(("float64", "float64", "float32"))),
        "rows": draw(st.sampled_from((3, 3, 2, 1, 0))),
        "nodes": draw(st.integers(4, 12)),
    }


def run_case(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    pt, ctx = _pytensor_float32() if case["floatx"] == "float32" else (None, contextlib.nullcontext())
    with fc.config.change_flags(floatX=case["floatx"]), ctx:
        b = Builder(rng, case["floatx"], pt)
        shapes = [(case["rows"], 4), (4,), (), (case["rows"], 1)]
        for k in range(int(rng.integers(2, 5))):
            b.add_input(k, shapes[int(rng.integers(len(shapes)))])
        first = len(b.nodes)
        for _ in range(case["nodes"]):
            b.add()
        made = [n for n in b.nodes[first:] if not n.is_number]
        if not made and not b.finals:
            return
        outs = made[-4:] + made[int(rng.integers(len(made))) :][:1] + b.finals[-3:]
        syms = [n.sym for n in outs]
        ins = [s for s, _ in b.inputs]
        vals = [_layout(v, int(rng.integers(3))) for _, v in b.inputs]
        got = {}
        for mode in ("FAST_RUN", "FAST_COMPILE"):
            f = fc.function(ins, syms, mode=mode, on_unused_input="ignore")
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                got[mode] = f(*vals)
        for k, n in enumerate(outs):
            for mode in ("FAST_RUN", "FAST_COMPILE"):
                assert got[mode][k].dtype == n.sym.dtype, (
                    f"{mode} {n.text}: {got[mode][k].dtype}, declared {n.sym.dtype}"
                )
            if case["floatx"] == "float32":
                _assert_value(
                    got["FAST_RUN"][k], got["FAST_COMPILE"][k], f"FAST_RUN vs FAST_COMPILE {n.text}", False
                )
            else:
                for mode in ("FAST_RUN", "FAST_COMPILE"):
                    _assert_value(got[mode][k], n.val, f"{mode} {n.text}", False)


# importing PyTensor within the test raises the recursion limit, which hypothesis reports
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@fuzz_settings(24)
@given(case=cases())
def test_random_graphs_of_mixed_dtypes(case: dict) -> None:
    """Every node's dtype is numpy's (PyTensor's float dtypes under floatX=float32), and both
    modes give numpy's values (under floatX=float32, each other's)."""
    run_case(case)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_an_int_the_tensor_cannot_hold_in_an_op_computing_in_float(mode: str) -> None:
    """numpy converts a Python int straight to the float of an op without an integer loop, so
    ``uint8_image / 256`` is float64 where ``uint8_image + 256`` raises OverflowError: the
    quotient's dtype is the one an int in range gives (floatX under floatX=float32, as
    PyTensor's int8 / int16), and its value numpy's. So does ``clip`` with a float bound."""
    x, y = ft.vector("x", "uint8"), ft.vector("y", "int64")
    a, b = np.array([0, 1, 128, 255], "uint8"), np.array([-(2**63), -1, 3, 2**63 - 1], "int64")
    with np.errstate(all="ignore"):
        cases = [
            (x / 256, a / 256),
            (1000 / x, np.float64(1000) / a),
            (x / -1, a / -1),
            (y / (2**64 - 1), b / (2**64 - 1)),
            (ft.arctan2(x, -300), np.arctan2(a, np.float32(-300))),
            (ft.hypot(300, x), np.hypot(np.float32(300), a)),
            (ft.clip(x, 300, 2.5), np.clip(a, 300, 2.5)),
            (ft.clip(x, -1, 2**64 + 0.5), np.clip(a, -1, 2**64 + 0.5)),
            (ft.clip(y, 2**64 - 1, np.nan), np.clip(b, 2**64 - 1, np.nan)),
        ]
    f = fc.function([x, y], [c for c, _ in cases], mode=mode)
    with np.errstate(all="ignore"):
        for got, (sym, want) in zip(f(a, b), cases):
            assert sym.dtype == want.dtype.name
            _assert_value(got, want, f"{mode} {sym}", False)
    for build in (lambda: x + 256, lambda: x // -1, lambda: ft.maximum(x, 256), lambda: y & (2**64 - 1)):
        with pytest.raises(OverflowError, match="does not fit"):
            build()
    with fc.config.change_flags(floatX="float32"):
        assert (x / 256).dtype == "float32"
        assert (ft.vector("z", "int32") / 2**40).dtype == "float32"


def test_clip_compares_in_the_common_dtype_of_its_operands() -> None:
    """numpy's clip converts ``x`` and both bounds to their common dtype (Python numbers weak)
    first: a number bound must fit that dtype, not ``x``'s, and a float bound makes the
    result that float (``clip(int8, 0.5, float32)`` is float32), in both modes."""
    x, f = ft.vector("x", "int8"), ft.vector("f", "float32")
    u, b = ft.vector("u", "uint8"), ft.vector("b", "bool")
    ins = [x, f, u, b]
    vals = [
        np.array([1, -2, 127, -128], "int8"),
        np.array([1.5, -3, 200, np.nan], "float32"),
        np.array([0, 3, 255, 128], "uint8"),
        np.array([0, 1, 1, 0], bool),
    ]
    named = dict(zip("xfub", vals))
    cases = [
        ("x", 300, 2.5),
        ("x", -1, 1.5),
        ("x", 2**64 - 1, np.nan),
        ("x", 256, "f"),
        ("x", 0.5, "f"),
        ("x", "u", 300),
        ("b", -1, 5),
        ("u", -1, 300),
        ("f", 0, 1e300),
        ("x", -300, 5),
    ]
    sym = {"x": x, "f": f, "u": u, "b": b}
    outs, wants = [], []
    with np.errstate(all="ignore"):
        for case in cases:
            outs.append(ft.clip(*[sym.get(a, a) if isinstance(a, str) else a for a in case]))
            wants.append(np.clip(*[named[a] if isinstance(a, str) else a for a in case]))
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = fc.function(ins, outs, mode=mode, on_unused_input="ignore")(*vals)
        for case, g, w in zip(cases, got, wants):
            _assert_value(g, w, f"{mode} clip{case}", True)
    with pytest.raises(OverflowError):
        np.clip(vals[3], -128, vals[2])
    with pytest.raises(OverflowError, match="-128 does not fit dtype uint8"):
        ft.clip(b, -128, u)


@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_a_python_number_read_for_its_truth_needs_fit_no_dtype(floatx: str) -> None:
    """``where``'s condition is no operand of the promotion: a Python int there is not made
    the branches' dtype (``where(-1, uint64_x, y)`` is ``x``, not an OverflowError); nor is a
    number a logical op reads as true or false (``logical_xor(int8_x, 1e300)`` under
    floatX=float32)."""
    x, y, z = ft.vector("x", "uint64"), ft.vector("y", "uint64"), ft.vector("z", "int8")
    a, b, c = np.array([1, 2**64 - 1], "uint64"), np.array([3, 4], "uint64"), np.array([0, -3], "int8")
    numbers = (-1, 0, 2**64 - 1, 0.5, 1e300)
    with fc.config.change_flags(floatX=floatx):
        outs = [ft.where(n, x, y) for n in numbers]
        outs += [ft.logical_xor(z, n) for n in numbers] + [ft.logical_and(n, z) for n in numbers]
        wants = [np.where(n, a, b) for n in numbers]
        wants += [np.logical_xor(c, bool(n)) for n in numbers] + [np.logical_and(bool(n), c) for n in numbers]
        for mode in ("FAST_RUN", "FAST_COMPILE"):
            got = fc.function([x, y, z], outs, mode=mode)(a, b, c)
            for k, (g, w) in enumerate(zip(got, wants)):
                _assert_value(g, w, f"{floatx} {mode} case {k} ({numbers[k % len(numbers)]})", True)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # numpy's
def test_a_float_accumulator_converts_to_an_integer_result_by_the_documented_rule() -> None:
    """``sum``/``prod`` of integers with a float ``acc_dtype`` give the float total converted
    to the integer result as a cast does (docs/numpy.md): a total past the result's range
    (2**64 and more for uint64, beyond int64 for int64) is the documented value, in both
    modes, for a full reduction and one along an axis."""
    u, i = ft.matrix("u", "uint64"), ft.matrix("i", "int64")
    a = np.array([[2**63, 2**63, 3], [1, 2**64 - 1, 5]], "uint64")
    b = np.array([[2**62, 2**62, -3], [-(2**62), -(2**63), 3]], "int64")
    cases = []
    for x, v in ((u, a), (i, b)):
        for name in ("sum", "prod"):
            for axis in (None, 0, 1):
                total = getattr(np, name)(v.astype("float64"), axis=axis)
                want = documented_float_to_int(np.ravel(total), x.dtype).reshape(np.shape(total))
                cases.append(
                    (
                        f"{name}({x.dtype}, axis={axis})",
                        getattr(ft, name)(x, axis=axis, acc_dtype="float64"),
                        want,
                    )
                )
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = fc.function([u, i], [c for _, c, _ in cases], mode=mode)(a, b)
        for g, (what, _, want) in zip(got, cases):
            _assert_value(g, want, f"{mode} {what}", True)
