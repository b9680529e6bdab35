"""Property test: random expression graphs (elementwise ops, where, reductions; random dtypes
and broadcastable shapes) give the same result compiled in FAST_RUN (C) and FAST_COMPILE
(numpy), and both equal numpy evaluating the same expression.

Each example compiles one graph (one gcc call) and runs it on several run-time shapes and
layouts. The comparison tolerance scales with the magnitude of every intermediate value (an
error bound propagated through the expression), so it stays tight without flaking on
cancellation. Discontinuous float ops (floor, //, comparisons) only see input values, which
both modes read exactly. The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 (and raise
FNCACHE_HYPOTHESIS_EXAMPLES) to explore new examples.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from fcutil import fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

LEAF_DTYPES = ("float64", "float32", "int64", "int32", "int8", "uint8")
#: smooth ops with derivative <= ~1.2: the error bound grows by at most the input's bound
SMOOTH = {
    "sin": (ft.sin, np.sin),
    "cos": (ft.cos, np.cos),
    "tanh": (ft.tanh, np.tanh),
    "arctan": (ft.arctan, np.arctan),
    "sigmoid": (ft.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "softplus": (ft.softplus, lambda a: np.logaddexp(np.zeros((), a.dtype), a)),
    "erf": (ft.erf, np.vectorize(math.erf, otypes=[np.float64])),
    "abs": (ft.abs, np.abs),
    "neg": (lambda a: -a, np.negative),
}
#: ops applied to inputs only (exact operands: discontinuities and growth are harmless)
LEAF_FLOAT = {
    "exp": (ft.exp, np.exp),
    "floor": (ft.floor, np.floor),
    "ceil": (ft.ceil, np.ceil),
    "round": (ft.round, np.round),
    "sign": (ft.sign, np.sign),
    "log1p_abs": (lambda a: ft.log1p(abs(a)), lambda a: np.log1p(np.abs(a))),
}
INT_UNARY = {
    "neg": (lambda a: -a, np.negative),
    "abs": (ft.abs, np.abs),
    "sqr": (ft.sqr, lambda a: a * a),
    "sign": (ft.sign, np.sign),
    "invert": (lambda a: ~a, np.invert),
}
INT_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "floor_div": np.floor_divide,
    "mod": np.remainder,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
}
SYM_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "floor_div": lambda a, b: a // b,
    "mod": lambda a, b: a % b,
    "maximum": ft.maximum,
    "minimum": ft.minimum,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "div": lambda a, b: a / (1 + b * b),
}
FLOAT_BINARY = ("add", "sub", "mul", "maximum", "minimum", "div")
REDUCTIONS = ("sum", "mean", "max", "min")


@dataclass(frozen=True)
class Input:
    dtype: str
    ndim: int


# An expression: ("in", k) | ("const", value) | ("un", name, e) | ("bin", name, a, b)
# | ("red", kind, axis, keepdims, e) | ("where", k1, k2, a, b) -- (k1, k2 input indices)
Expr = tuple


def _kind(dtype: str) -> str:
    return "float" if dtype.startswith("float") else "int"


@st.composite
def programs(draw: Any) -> tuple[list[Input], Expr]:
    inputs = [
        Input(draw(st.sampled_from(LEAF_DTYPES)), draw(st.integers(0, 2)))
        for _ in range(draw(st.integers(1, 3)))
    ]

    vs = [ft.tensor(f"i{k}", i.dtype, i.ndim) for k, i in enumerate(inputs)]

    def meta(e: Expr) -> tuple[str, int]:
        """(kind, ndim) of an expression, from the symbolic graph's rules."""
        if e[0] == "const":
            return ("float" if isinstance(e[1], float) else "int"), 0
        return _kind(build(inputs, e, vs).dtype), ndim_of(e)

    def ndim_of(e: Expr) -> int:
        tag = e[0]
        if tag == "in":
            return inputs[e[1]].ndim
        if tag == "const":
            return 0
        if tag == "un":
            return ndim_of(e[2])
        if tag == "bin":
            return max(ndim_of(e[2]), ndim_of(e[3]))
        if tag == "red":
            nd = ndim_of(e[4])
            return nd if e[3] else (0 if e[2] is None else nd - 1)
        return max(inputs[e[1]].ndim, inputs[e[2]].ndim, ndim_of(e[3]), ndim_of(e[4]))

    def expr(depth: int) -> Expr:
        if depth == 0 or draw(st.integers(0, 4)) == 0:
            k = draw(st.integers(0, len(inputs) - 1))
            leaf: Expr = ("in", k)
            if _kind(inputs[k].dtype) == "float" and draw(st.booleans()):
                leaf = ("un", draw(st.sampled_from(sorted(LEAF_FLOAT))), leaf)
            return leaf
        choice = draw(st.sampled_from(("un", "bin", "bin", "const", "red", "where")))
        a = expr(depth - 1)
        ka, nda = meta(a)
        if choice == "un":
            names = sorted(SMOOTH) + (sorted(INT_UNARY) if ka == "int" else [])
            return ("un", draw(st.sampled_from(names)), a)
        if choice in ("bin", "const"):
            b = (
                expr(depth - 1)
                if choice == "bin"
                else ("const", draw(st.sampled_from((0, 1, 2, 3, 0.5, -1.5, 2.25))))
            )
            kb, _ = meta(b)
            exact = a[0] == "in" and b[0] in ("in", "const")
            names = (
                sorted(INT_BINARY)
                if ka == kb == "int" and not isinstance(b[1], float)
                else list(FLOAT_BINARY) + (["floor_div", "mod"] if exact else [])
            )
            return (
                ("bin", draw(st.sampled_from(names)), a, b)
                if draw(st.booleans()) or b[0] == "const"
                else ("bin", draw(st.sampled_from(names)), b, a)
            )
        if choice == "red":
            kinds = REDUCTIONS + (("prod",) if ka == "int" else ())
            axis = draw(st.sampled_from([None] + list(range(-nda, nda))))
            return ("red", draw(st.sampled_from(kinds)), axis, draw(st.booleans()), a)
        k1 = draw(st.integers(0, len(inputs) - 1))
        k2 = draw(st.integers(0, len(inputs) - 1))
        return ("where", k1, k2, a, expr(depth - 1))

    return inputs, expr(draw(st.integers(2, 5)))


def build(inputs: list[Input], e: Expr, vs: list) -> Any:
    """The symbolic expression of ``e`` over variables ``vs``."""
    tag = e[0]
    if tag == "in":
        return vs[e[1]]
    if tag == "const":
        return e[1]
    if tag == "un":
        return {**SMOOTH, **LEAF_FLOAT, **INT_UNARY}[e[1]][0](build(inputs, e[2], vs))
    if tag == "bin":
        return SYM_BINARY[e[1]](build(inputs, e[2], vs), build(inputs, e[3], vs))
    if tag == "red":
        return getattr(ft, e[1])(build(inputs, e[4], vs), axis=e[2], keepdims=e[3])
    return ft.where(vs[e[1]] > vs[e[2]], build(inputs, e[3], vs), build(inputs, e[4], vs))


def _children(e: Expr) -> list[Expr]:
    return {
        "un": lambda: [e[2]],
        "bin": lambda: [e[2], e[3]],
        "red": lambda: [e[4]],
        "where": lambda: [e[3], e[4]],
    }[e[0]]()


def _mag(v: Any) -> float:
    a = np.abs(np.asarray(v, dtype="float64"))
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else 0.0


def _is_int(v: Any) -> bool:
    return np.asarray(v).dtype.kind in "iub"


def _is_float(v: Any) -> bool:
    return np.asarray(v).dtype.kind == "f"


def evaluate(inputs: list[Input], e: Expr, vals: list[np.ndarray]) -> tuple[np.ndarray, float, str]:
    """numpy's value of ``e``, the magnitude its rounding errors scale with, and the least
    precise float dtype computed along the way (its tolerance applies).

    numpy computes float ops on small ints in float16 where fncache uses float32, so such
    operands are converted to fncache's dtype (checked against numpy's at every node) first.
    """
    vs = [ft.tensor(f"i{k}", i.dtype, i.ndim) for k, i in enumerate(inputs)]
    dtypes: set[str] = set()

    def rec(e: Expr) -> tuple[Any, float, Any]:
        sym = build(inputs, e, vs)
        if hasattr(sym, "dtype"):
            dtypes.add(sym.dtype)
        tag = e[0]
        if tag == "in":
            v = vals[e[1]]
            return v, _mag(v), sym
        if tag == "const":
            return e[1], abs(e[1]), sym
        sub = [rec(k) for k in _children(e)]
        out_dt = np.dtype(sym.dtype)
        if tag == "un":
            ((a, sa, _),) = sub
            if e[1] in INT_UNARY and _is_int(a):
                return np.asarray(INT_UNARY[e[1]][1](a)), 0.0, sym
            fn = {**SMOOTH, **LEAF_FLOAT}[e[1]][1]
            if not _is_float(a):
                a = np.asarray(a).astype(out_dt)
            r = np.asarray(fn(a)).astype(out_dt)
            return r, sa + _mag(r), sym
        if tag == "bin":
            (a, sa, _), (b, sb, _) = sub
            if e[1] == "div":
                r = np.asarray(a / (1 + b * b))
                return r, sa + _mag(a) * sb + _mag(r), sym
            r = np.asarray(INT_BINARY[e[1]](a, b))
            if e[1] == "mul":
                return r, _mag(a) * sb + _mag(b) * sa + _mag(r), sym
            return r, sa + sb + _mag(r), sym
        if tag == "red":
            ((a, sa, _),) = sub
            a = np.asarray(a)
            npf = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}[e[1]]
            r = np.asarray(npf(a, axis=e[2], keepdims=e[3]))
            if r.dtype == np.uint64:
                r = r.astype("int64")
            n = a.size if e[2] is None else a.shape[e[2]]
            return r, sa * (max(n, 1) if e[1] in ("sum", "prod") else 1) + _mag(r), sym
        (a, sa, _), (b, sb, _) = sub
        return np.asarray(np.where(vals[e[1]] > vals[e[2]], a, b)), max(sa, sb), sym

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, scale, sym = rec(e)
    value = np.asarray(value)
    assert value.dtype == np.dtype(sym.dtype), f"dtype: fncache {sym.dtype}, numpy {value.dtype} for {e}"
    return value, scale, "float32" if "float32" in dtypes else "float64"


@st.composite
def layouts(draw: Any, inputs: list[Input]) -> list[list[np.ndarray]]:
    """Three sets of input values: broadcast-compatible shapes (some dims 1 or 0), and
    non-contiguous layouts (stepped, reversed, transposed)."""
    out = []
    for s in range(3):
        base = [draw(st.sampled_from((1, 2, 3, 5, 0) if s == 2 else (1, 2, 3, 4, 7))) for _ in range(2)]
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        vals = []
        for inp in inputs:
            shape = [1 if draw(st.integers(0, 4)) == 0 else n for n in base[2 - inp.ndim :]]
            layout = draw(st.sampled_from(("c", "step", "rev", "T")))
            big = [n * 2 if layout == "step" else n for n in shape]
            if inp.dtype.startswith("float"):
                a = np.asarray(rng.uniform(-3, 3, size=big)).astype(inp.dtype)
            else:
                info = np.iinfo(inp.dtype)
                a = np.asarray(
                    rng.integers(max(info.min, -20), min(info.max, 20), size=big, endpoint=True)
                ).astype(inp.dtype)
            if layout == "step":
                a = a[tuple(slice(None, None, 2) for _ in shape)]
            elif layout == "rev":
                a = a[tuple(slice(None, None, -1) for _ in shape)]
            elif layout == "T" and inp.ndim == 2:
                a = np.ascontiguousarray(a.T).T
            vals.append(a)
        out.append(vals)
    return out


TOL = {"float64": 1e-11, "float32": 2e-5}


@fuzz_settings(60)
@given(data=st.data())
def test_random_graphs(data: Any) -> None:
    inputs, e = data.draw(programs(), label="program")
    vs = [ft.tensor(f"i{k}", i.dtype, i.ndim) for k, i in enumerate(inputs)]
    out = build(inputs, e, vs)
    if not hasattr(out, "owner"):
        return  # a bare constant
    fast_run = fc.function(vs, out, on_unused_input="ignore")
    fast_compile = fc.function(vs, out, mode="FAST_COMPILE", on_unused_input="ignore")
    for vals in data.draw(layouts(inputs), label="values"):
        try:
            want, scale, precision = evaluate(inputs, e, vals)
        except ValueError:  # empty max/min, incompatible shapes: both modes must say so
            for f in (fast_run, fast_compile):
                with pytest.raises(ValueError):
                    f(*vals)
            continue
        got_c, got_py = fast_run(*vals), fast_compile(*vals)
        for label, got in (("FAST_RUN", got_c), ("FAST_COMPILE", got_py)):
            assert got.dtype == want.dtype and got.shape == want.shape, (label, got.dtype, want.dtype)
            if want.dtype.kind in "iub":
                np.testing.assert_array_equal(got, want, err_msg=f"{label}: {e}")
            else:
                tol = TOL[precision] * max(scale, 1.0)
                np.testing.assert_allclose(
                    got, want, rtol=0, atol=tol, equal_nan=True, err_msg=f"{label}: {e}"
                )
