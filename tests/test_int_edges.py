"""Elementwise ops, casts and reductions at the edges of each dtype, against numpy 2 in both
modes: every pair of a dtype's limits (min, max, min + 1, max - 1, 0, +-1, shift widths) and of
the floats' specials (+-0.0, +-inf, NaN, subnormals, powers of two the integer types end at and
their neighbours). The random-graph fuzzers keep their values small; these go to where integer
arithmetic wraps, divides by zero and converts out of range. One function per mode holds every
dtype pair of a test, so each test compiles once."""

from __future__ import annotations

import operator
import platform

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow, divide, cast

INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOATS = ("float32", "float64")


def edges(dtype: str) -> np.ndarray:
    """The values at the edges of ``dtype``, each once."""
    if dtype == "bool":
        return np.array([False, True])
    if dtype in INTS:
        info = np.iinfo(dtype)
        vals = {info.min, info.max, info.min + 1, info.max - 1, 0, 1, 2, 3, 7, 8, 31, 32, 63, 64, 65}
        vals |= {-v for v in vals}
        return np.array(sorted(v for v in vals if info.min <= v <= info.max), dtype)
    f = np.finfo(dtype)
    vals = [0.0, 1.0, 0.5, 1.5, 2.5, 3.0, float(f.smallest_subnormal), float(f.tiny), float(f.max), np.inf]
    for bits in (7, 8, 15, 16, 31, 32, 63, 64):
        b = np.array(2.0**bits, dtype)
        vals += [float(b), float(np.nextafter(b, np.array(0, dtype))), float(np.nextafter(b, b * 2))]
    vals = np.array(vals, dtype)
    return np.concatenate([vals, -vals, [np.nan]]).astype(dtype)


def every_pair(da: str, db: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(edges(da), edges(db), indexing="ij")
    return a.ravel(), b.ravel()


def assert_identical(got: np.ndarray, want: np.ndarray, what: str, inputs: tuple = ()) -> None:
    """Same dtype, shape and values: NaN where numpy has NaN, zeros of the same sign."""
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{what}: {got.dtype}{got.shape}, numpy gives {want.dtype}{want.shape}"
    )
    if want.dtype.kind == "f":
        same = (got == want) & (np.signbit(got) == np.signbit(want)) | np.isnan(got) & np.isnan(want)
    elif want.dtype.kind == "c":
        same = (got == want) | np.isnan(got) & np.isnan(want)
    else:
        same = got == want
    if not same.all():
        bad = np.flatnonzero(~same)[:5]
        shown = "; ".join(
            f"{[v.ravel()[k].item() for v in inputs]} -> {got.ravel()[k]!r}, numpy {want.ravel()[k]!r}"
            for k in bad
        )
        pytest.fail(f"{what}: {(~same).sum()} of {same.size} differ: {shown}")


def compile_and_compare(inputs: list, values: list, cases: list) -> None:
    """Compile the outputs of ``cases`` (what, output row, numpy's value, the values it reads)
    and compare each with numpy's, in both modes. Every FAST_RUN kernel costs a compiler's
    time, so the cases of one result dtype and length are one fused kernel: row k of
    ``switch(row == k, case k, row == k + 1 ...)`` (``row`` a column of the row numbers; the
    ``inputs`` are rows, so each case's operands broadcast along its row); the op's code in it
    is the one a kernel of its own would have."""
    groups: dict[tuple[str, int], list] = {}
    for case in cases:
        groups.setdefault((case[1].dtype, len(case[2])), []).append(case)
    rows = [ft.col(f"row{g}", "int64") for g in range(len(groups))]
    outputs = []
    for row, group in zip(rows, groups.values()):
        out = group[-1][1]
        for k in reversed(range(len(group) - 1)):
            out = ft.switch(ft.eq(row, k), group[k][1], out)
        outputs.append(out)
    numbers = [np.arange(len(group))[:, None] for group in groups.values()]
    for mode in MODES:
        f = fc.function(inputs + rows, outputs, mode=mode, on_unused_input="ignore")
        for group, got in zip(groups.values(), f(*[v[None] for v in values], *numbers)):
            for k, (what, _, want, read) in enumerate(group):
                assert_identical(got[k], want, f"{mode} {what}", read)


# -- binary ops -------------------------------------------------------------------------------
BINARY = {
    "+": (operator.add, np.add),
    "-": (operator.sub, np.subtract),
    "*": (operator.mul, np.multiply),
    "/": (operator.truediv, np.true_divide),
    "//": (operator.floordiv, np.floor_divide),
    "%": (operator.mod, np.remainder),
    "divmod[0]": (lambda a, b: ft.divmod(a, b)[0], lambda a, b: np.divmod(a, b)[0]),
    "divmod[1]": (lambda a, b: ft.divmod(a, b)[1], lambda a, b: np.divmod(a, b)[1]),
    "fmod": (ft.fmod, np.fmod),
    "<<": (operator.lshift, np.left_shift),
    ">>": (operator.rshift, np.right_shift),
    "&": (operator.and_, np.bitwise_and),
    "|": (operator.or_, np.bitwise_or),
    "^": (operator.xor, np.bitwise_xor),
    "maximum": (ft.maximum, np.maximum),
    "minimum": (ft.minimum, np.minimum),
    "fmax": (ft.fmax, np.fmax),
    "fmin": (ft.fmin, np.fmin),
    "<": (operator.lt, np.less),
    "<=": (operator.le, np.less_equal),
    ">": (operator.gt, np.greater),
    ">=": (operator.ge, np.greater_equal),
    "eq": (ft.eq, np.equal),
    "neq": (ft.neq, np.not_equal),
}
ARITH = ("+", "-", "*", "/", "//", "%", "divmod[0]", "divmod[1]", "fmod")
COMPARE = ("<", "<=", ">", ">=", "eq", "neq")
SELECT = ("maximum", "minimum", "fmax", "fmin")
#: the ops each dtype pair is checked with (every op costs a kernel in FAST_RUN): integer
#: arithmetic wraps, divides by 0 and INT_MIN by -1, shifts by the width and more, in every
#: width; mixed pairs promote (uint64 with a signed int is float64 for arithmetic, but numpy
#: compares the two exactly); floats bring NaN, infinities and signed zeros to //, %, fmod and
#: the NaN rules of the selections
PAIRS = {
    **{(d, d): (*ARITH, "<<", ">>") for d in INTS if d not in ("int8", "uint64")},
    ("int8", "int8"): (*ARITH, "<<", ">>", "&", "|", "^", "maximum", "<"),
    ("uint64", "uint64"): (*ARITH, "<<", ">>", "^", "maximum", "<"),
    ("bool", "bool"): (*ARITH, "&", "|", "^", "<<", "maximum", "<"),
    **{(d, d): ("//", "%", "fmod", *SELECT, "<", "eq") for d in FLOATS},
    ("uint64", "int64"): (*ARITH, *COMPARE, "maximum", "&"),
    ("int64", "uint64"): ("//", "%", *COMPARE),
    ("uint32", "int32"): ("+", "//", "<", "|"),
    ("int8", "uint8"): ("+", "*", "//", "%", "&", "<"),
    ("uint8", "int64"): ("-", "<"),
    ("bool", "int8"): ("+", "//", "&", "<"),
    ("int64", "float64"): ("+", "//", "%", "<", "eq", "maximum", "fmin"),
    ("uint64", "float64"): ("+", "//", "%", "<", "eq", "maximum", "fmin"),
    ("int32", "float32"): ("+", "//", "<", "fmax"),
    ("float32", "uint64"): ("-", "%", ">="),
}


def test_binary_ops_of_every_pair_of_edge_values() -> None:
    """numpy's result dtype and bits for each op and dtype pair; an op numpy refuses for the
    dtypes (``bool - bool``, ``uint64 & int64``) is refused when the graph is built."""
    inputs, values, cases = [], [], []
    for (da, db), names in PAIRS.items():
        a, b = every_pair(da, db)
        x, y = ft.row(f"x_{da}", da), ft.row(f"y_{db}", db)
        inputs += [x, y]
        values += [a, b]
        for name in names:
            build, ref = BINARY[name]
            what = f"{da} {name} {db}"
            try:
                want = ref(a, b)
            except TypeError:
                with pytest.raises(TypeError):
                    build(x, y)
                continue
            cases.append((what, build(x, y), want, (a, b)))
    compile_and_compare(inputs, values, cases)


def test_integer_powers() -> None:
    """Integer powers wrap as numpy's; a negative exponent raises numpy's ValueError when the
    function runs, in both modes (numpy's integer loops refuse it)."""
    inputs, values, cases = [], [], []
    for dt in ("bool", *INTS):
        a, b = every_pair(dt, dt)
        keep = b >= 0
        a, b = a[keep], b[keep]
        x, y = ft.row(f"x_{dt}", dt), ft.row(f"y_{dt}", dt)
        inputs += [x, y]
        values += [a, b]
        cases.append((f"{dt} ** {dt}", x**y, np.power(a, b), (a, b)))
    compile_and_compare(inputs, values, cases)
    x, y = ft.vector("x", "int32"), ft.vector("y", "int8")
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        np.power(np.int32([2]), np.int8([-1]))
    for mode in MODES:
        f = fc.function([x, y], x**y, mode=mode)
        assert f(np.int32([2, 3]), np.int8([0, 5])).tolist() == [1, 243]
        with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
            f(np.int32([2, 3]), np.int8([1, -1]))


# -- unary ops --------------------------------------------------------------------------------
UNARY = {
    "-x": (operator.neg, np.negative),
    "abs": (abs, np.abs),
    "~x": (operator.invert, np.invert),
    "sign": (ft.sign, np.sign),
    "floor": (ft.floor, np.floor),
    "ceil": (ft.ceil, np.ceil),
    "trunc": (ft.trunc, np.trunc),
    "round": (ft.round, np.round),
    "isnan": (ft.isnan, np.isnan),
    "isinf": (ft.isinf, np.isinf),
    "isfinite": (ft.isfinite, np.isfinite),
    "signbit": (ft.signbit, np.signbit),
    "square": (ft.square, np.square),
    "logical_not": (ft.logical_not, np.logical_not),
    "clip(x, 0, 5)": (lambda x: ft.clip(x, 0, 5), lambda v: np.clip(v, 0, 5)),
    "clip(x, nan, 5.0)": (lambda x: ft.clip(x, np.nan, 5.0), lambda v: np.clip(v, np.nan, 5.0)),
}
#: the ops whose integer results depend on the width (the others are checked on int8, uint8,
#: int64 and uint64), and the float cases: NaN, infinities and signed zeros
WIDTH_UNARY = ("-x", "abs", "~x", "square")
FLOAT_UNARY = ("sign", "round", "clip(x, 0, 5)", "clip(x, nan, 5.0)")


def test_unary_ops_of_edge_values() -> None:
    """``-x`` and ``abs`` of an integer's minimum wrap to itself, ``~`` of bool is ``not``,
    rounding keeps integers integers, ``clip`` with a NaN bound gives NaN, as numpy's (bool
    rounding, numpy's float16, is float32: docs/numpy.md)."""
    inputs, values, cases = [], [], []
    for dt in ("bool", *INTS, *FLOATS):
        a = edges(dt)
        x = ft.row(f"x_{dt}", dt)
        inputs.append(x)
        values.append(a)
        for name, (build, ref) in UNARY.items():
            if dt in FLOATS and name not in FLOAT_UNARY:
                continue
            if dt in ("int16", "int32", "uint16", "uint32") and name not in WIDTH_UNARY:
                continue
            try:
                want = ref(a)
            except TypeError:
                with pytest.raises(TypeError):
                    build(x)
                continue
            if want.dtype == "float16":
                want = want.astype("float32")
            cases.append((f"{name} of {dt}", build(x), want, (a,)))
    compile_and_compare(inputs, values, cases)


# -- casts ------------------------------------------------------------------------------------
#: docs/numpy.md's rule for a float converted to an integer type out of its range (C leaves it
#: undefined, numpy's answer depends on the platform): the values in [lo, hi) are truncated and
#: wrapped; NaN and those below give ``below``, those from ``hi`` on ``above``
OUT_OF_RANGE = {
    **{d: (-(2**31), 2**31, 0, 0) for d in ("int8", "int16", "uint8", "uint16")},
    "int32": (-(2**31), 2**31, -(2**31), -(2**31)),
    "int64": (-(2**63), 2**63, -(2**63), -(2**63)),
    "uint32": (-(2**31), 2**32, 2**31, 0),
    "uint64": (-(2**63), 2**64, 2**63, 0),
}


def documented_float_to_int(a: np.ndarray, dtype: str) -> np.ndarray:
    lo, hi, below, above = OUT_OF_RANGE[dtype]
    bits = np.iinfo(dtype).bits
    out = []
    for v in a.tolist():
        if lo <= v < hi:
            w = int(v) % 2**bits  # int() truncates toward zero
            out.append(w - 2**bits if dtype.startswith("int") and w >= 2 ** (bits - 1) else w)
        else:
            out.append(above if v >= hi else below)
    return np.array(out, dtype)


CAST_SOURCES = ("bool", "int8", "uint16", "int32", "int64", "uint64", *FLOATS)
CAST_TARGETS = ("bool", *INTS, *FLOATS)


def test_casts_of_edge_values() -> None:
    """``astype`` and ``cast`` between every pair of real dtypes: integers wrap, int64 and
    uint64 round to the nearest float32, bool is a test against 0 (NaN is true), and a float
    out of an integer type's range (NaN, infinities, 2**31 to int32, ...) gives the documented
    rule's value, the same in both modes; numpy's where the conversion is defined."""
    n = max(len(edges(d)) for d in CAST_SOURCES)
    inputs, values, cases = [], [], []
    for src in CAST_SOURCES:
        a = np.resize(edges(src), n)
        x = ft.row(f"x_{src}", src)
        inputs.append(x)
        values.append(a)
        for k, dst in enumerate(CAST_TARGETS):
            if src in FLOATS and dst in INTS:
                want = documented_float_to_int(a, dst)
                inside = (a >= OUT_OF_RANGE[dst][0]) & (a < OUT_OF_RANGE[dst][1])
                assert_identical(want[inside], a[inside].astype(dst), f"numpy's {src} -> {dst}")
                if platform.machine() == "x86_64" and dst in ("int32", "int64"):
                    # the rule is x86-64's conversion (numpy's other loops vary by build)
                    assert_identical(want, a.astype(dst), f"numpy's x86-64 {src} -> {dst}", (a,))
            else:
                want = a.astype(dst)
            out = x.astype(dst) if k % 2 else ft.cast(x, dst)
            cases.append((f"{src} -> {dst}", out, want, (a,)))
    compile_and_compare(inputs, values, cases)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_complex_to_real_casts_keep_the_real_part() -> None:
    z = np.array([1 + 2j, np.nan + 1j, np.inf - 1j, -0.0 + 0j, 3e40 + 1j, -2.5 - 0j])
    x = ft.row("z", "complex128")
    targets = ("float64", "float32", "complex64", "int16", "bool")
    compile_and_compare(
        [x], [z], [(f"complex128 -> {dt}", x.astype(dt), z.astype(dt), (z,)) for dt in targets]
    )


# -- Python numbers (NEP 50) ------------------------------------------------------------------
#: numpy's names of the fncache functions the expressions below use
NUMPY_NAMES = {
    "ft.eq": "np.equal",
    "ft.neq": "np.not_equal",
    "ft.maximum": "np.maximum",
    "ft.clip": "np.clip",
}


def numpy_value(expr: str, x: np.ndarray) -> np.ndarray:
    for name, np_name in NUMPY_NAMES.items():
        expr = expr.replace(name, np_name)
    return eval(expr, {"x": x, "np": np})


def test_python_numbers_take_the_tensor_dtype_and_compare_exactly() -> None:
    """A Python int takes the integer tensor's dtype (``int8 + 1`` is int8 and wraps) and one
    it cannot hold raises OverflowError, as numpy 2; comparisons with such an int are numpy's
    answer for every element (``uint8 < 300`` is all True, ``uint64 == -1`` all False), and
    ``clip`` drops such a bound on the side where it clips nothing, as numpy's."""
    exprs = {
        "int8": [
            "x + 1",
            "x - 1",
            "x * -1",
            "x // 2",
            "x % -3",
            "x + 1.5",
            "x < 300",
            "300 > x",
            "x >= -129",
            "ft.eq(x, 128)",
            "ft.neq(x, -(2**70))",
            "ft.clip(x, 0, 255)",
            "ft.clip(x, -5, -1)",
        ],
        "uint8": [
            "x - 1",
            "x + 1",
            "x < 300",
            "x > -1",
            "-1 < x",
            "ft.eq(x, -1)",
            "ft.neq(x, 256)",
            "x <= 2**64",
            "ft.clip(x, -1, 300)",
            "ft.clip(x, 5, 2**70)",
            "ft.clip(x, None, 7)",
        ],
        "int64": ["x + 1", "x >= 2**63", "x < -(2**63) - 1", "ft.eq(x, 2**63)"],
        "uint64": ["x + 1", "x // 3", "x < -1", "x >= 2**64", "ft.neq(x, -5)", "x * 0.5"],
        "bool": ["x + 1", "x * 300", "x < 300", "x - 1"],
    }
    inputs, values, cases = [], [], []
    for dt, rows in exprs.items():
        a = edges(dt)
        x = ft.row(f"x_{dt}", dt)
        inputs.append(x)
        values.append(a)
        cases += [(f"{e} for {dt}", eval(e, {"x": x, "ft": ft}), numpy_value(e, a), (a,)) for e in rows]
    compile_and_compare(inputs, values, cases)
    for e in (
        "x + 300",
        "x * -1",
        "ft.maximum(x, 256)",
        "x & -1",
        "ft.clip(x, 300, 400)",
        "ft.clip(x, -5, -1)",
    ):
        with pytest.raises(OverflowError):
            numpy_value(e, np.zeros(1, "uint8"))
        with pytest.raises(OverflowError, match="does not fit dtype uint8"):
            eval(e, {"x": ft.vector("x", "uint8"), "ft": ft})


# -- reductions -------------------------------------------------------------------------------
REDUCED = ("bool", "int8", "uint8", "int64", "uint64")


def test_reductions_of_edge_values() -> None:
    """Sums and products of small integers accumulate in int64 (uint64) and wrap, a ``dtype``
    of the input's own wraps in it, max and min see the limits, a mean is a float64 sum (within
    float64's rounding of the values' magnitude, added in another order than numpy's); of no
    values a sum is 0, a product 1, an integer mean the conversion of NaN and a max numpy's
    ValueError."""
    xs = [ft.vector(f"x_{dt}", dt) for dt in REDUCED]
    values = [np.tile(edges(dt), 3) for dt in REDUCED]
    outs, refs = [], []
    for dt, x, a in zip(REDUCED, xs, values):
        names = ("sum", "prod") if dt == "bool" else ("sum", "prod", "max", "min")
        outs += [getattr(x, name)() for name in names]
        refs += [(f"{name} of {dt}", getattr(a, name)(), None) for name in names]
        if dt in ("int8", "uint64"):
            outs.append(ft.sum(x, dtype=dt))
            refs.append((f"sum(dtype={dt})", a.sum(dtype=dt), None))
        outs.append(x.mean())
        refs.append(
            (
                f"mean of {dt}",
                a.mean(),
                np.abs(a.astype(np.float64)).max() * len(a) * np.finfo(np.float64).eps,
            )
        )
    # floats added in an integer dtype are each converted first, by the documented rule
    y, b = ft.vector("y", "float64"), edges("float64")
    for dt in ("int32", "uint32", "int64"):
        outs.append(y.sum(dtype=dt))
        refs.append((f"float64 sum(dtype={dt})", documented_float_to_int(b, dt).sum(dtype=dt), None))
    empty = ft.vector("empty", "int8")
    outs += [empty.sum(), empty.prod(), empty.mean(dtype="int32")]
    refs += [("sum of none", np.int64(0), None), ("prod of none", np.int64(1), None)]
    refs.append(("int32 mean of none", np.int32(OUT_OF_RANGE["int32"][2]), None))  # of NaN
    for mode in MODES:
        got = fc.function([*xs, y, empty], outs, mode=mode)(*values, b, np.zeros(0, "int8"))
        for g, (what, want, tol) in zip(got, refs):
            if tol is None:
                assert_identical(g, np.asarray(want), f"{mode} {what}")
            else:
                assert g.dtype == "float64", f"{mode} {what}: {g.dtype}"
                np.testing.assert_allclose(g, want, rtol=0, atol=tol, err_msg=f"{mode} {what}")
        with pytest.raises(ValueError, match="zero-size array"):
            fc.function([empty], empty.max(), mode=mode)(np.zeros(0, "int8"))
