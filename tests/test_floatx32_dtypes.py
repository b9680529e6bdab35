"""Result dtypes under ``floatX=float32``: Theano's and PyTensor's users set it so that every
float stays float32, so fncache gives PyTensor's float dtypes there (a Python float is a
float32 operand, an integer divided by an integer is float32, ``linspace`` of integers and
``arange`` with a float step are float32, the functions computing in float64 only give float32
for float32 operands), while a float64 operand, or an int32 or int64 one with a float, still
gives float64. Under ``floatX=float64`` the dtypes stay numpy's.

The expected dtypes are written out from PyTensor's rules (so CI, without PyTensor, checks
them) and compared with PyTensor's own where it is installed; the values are compared with
numpy's computed in float64, within float32 precision."""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import scipy.linalg as sla

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES

INTS = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
REALS = INTS + ("float32", "float64")

#: The dtype of ``x * 1.5`` for ``x`` of each dtype under floatX=float32 (PyTensor's: 1.5 is a
#: float32 constant, promoted with x as numpy promotes two arrays).
WITH_PYTHON_FLOAT_32 = {
    **dict.fromkeys(("bool", "int8", "int16", "uint8", "uint16", "float32"), "float32"),
    **dict.fromkeys(("int32", "int64", "uint32", "uint64", "float64"), "float64"),
    "complex64": "complex64",
    "complex128": "complex128",
}

#: Binary ops taking a Python float, each given the module it is taken from (fncache.tensor,
#: numpy or pytensor.tensor): the operators, and functions of two operands.
BINARY: dict[str, Callable[[Any], Callable[[Any, Any], Any]]] = {
    "+": lambda M: operator.add,
    "-": lambda M: operator.sub,
    "*": lambda M: operator.mul,
    "/": lambda M: operator.truediv,
    "**": lambda M: operator.pow,
    "//": lambda M: operator.floordiv,
    "add": lambda M: M.add,
    "maximum": lambda M: M.maximum,
    "arctan2": lambda M: M.arctan2,
}
#: Those of them that refuse complex operands.
REAL_ONLY = ("//", "maximum", "arctan2")


@pytest.fixture
def floatx32() -> Iterator[None]:
    with fc.config.change_flags(floatX="float32"):
        yield


@pytest.fixture(params=["float32", "float64"])
def floatx(request: pytest.FixtureRequest) -> Iterator[str]:
    with fc.config.change_flags(floatX=request.param):
        yield request.param


def _vec(dtype: str, name: str = "x") -> Any:
    return ft.vector(name, dtype=dtype)


def _numpy_dtype(fn: Callable[..., Any], *args: Any) -> str:
    with np.errstate(all="ignore"):
        return np.asarray(fn(*args)).dtype.name


# -- dtypes, without PyTensor ------------------------------------------------------------------


def test_integer_division_is_floatx(floatx: str) -> None:
    """PyTensor's true_div of two integers is floatX (numpy's: float64)."""
    for a in INTS:
        for b in INTS:
            assert (_vec(a) / _vec(b, "y")).dtype == floatx, (a, b)
        assert (_vec(a) / 2).dtype == floatx, a
        assert ft.true_div(3, _vec(a)).dtype == floatx, a
    assert (_vec("int8") / _vec("float32")).dtype == "float32"
    assert (_vec("int32") / _vec("float32")).dtype == "float64"  # float32 cannot hold every int32
    assert (_vec("int8") / _vec("float64")).dtype == "float64"


@pytest.mark.parametrize("op", list(BINARY))
def test_python_float_with_a_tensor(op: str, floatx: str) -> None:
    """Under floatX=float32 a Python float is a float32 operand (int8 * 1.5 is float32, int32 *
    1.5 float64); under floatX=float64 it is numpy's weak float."""
    f, f_np = BINARY[op](ft), BINARY[op](np)
    for dt in REALS + ("complex64", "complex128"):
        if op in REAL_ONLY and dt.startswith("complex"):
            continue
        for number in (1.5, 0.1):
            for args, np_args in (
                ((_vec(dt), number), (np.ones(2, dt), number)),
                ((number, _vec(dt)), (number, np.ones(2, dt))),
            ):
                want = WITH_PYTHON_FLOAT_32[dt] if floatx == "float32" else _numpy_dtype(f_np, *np_args)
                assert f(*args).dtype == want, (op, dt, number, args[0] is number)


def test_a_python_float_among_tensors_in_a_list(floatx32: None) -> None:
    for dt in REALS:
        got = ft.as_tensor_variable([ft.scalar("s", dtype=dt), 1.5]).dtype
        assert got == WITH_PYTHON_FLOAT_32[dt], dt


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e300 in float32
def test_rules_that_stay_pytensors_and_numpys(floatx32: None) -> None:
    """What PyTensor keeps in float64 under floatX=float32: a float64 operand, an int32 or
    int64 one with a float, transcendental functions of int32 and int64, the mean of
    integers; and the integer and float32 results that do not change."""
    for dt in ("int32", "int64", "uint32"):
        assert (_vec(dt) + _vec("float32", "y")).dtype == "float64"
        assert ft.exp(_vec(dt)).dtype == "float64"
        assert ft.sqrt(_vec(dt)).dtype == "float64"
    for dt in ("bool", "int8", "int16", "uint8", "uint16"):
        assert ft.exp(_vec(dt)).dtype == "float32"
        assert ft.sigmoid(_vec(dt)).dtype == "float32"
    for dt in INTS:
        assert ft.mean(_vec(dt)).dtype == "float64"
        assert ft.var(_vec(dt)).dtype == "float64"
    assert (_vec("float64") * 1.5).dtype == "float64"
    assert (_vec("float32") * _vec("float64", "y")).dtype == "float64"
    assert (_vec("int8") * 2).dtype == "int8"
    assert (_vec("int8") * _vec("int8", "y")).dtype == "int8"
    assert ft.mean(_vec("float32")).dtype == "float32"
    assert (_vec("int8") * 1e300).dtype == "float32"  # inf, as PyTensor's and float32 * 1e300


@pytest.mark.parametrize(
    "build, want32",
    [
        (lambda: ft.arange(0, 1, 0.1), "float32"),
        (lambda: ft.arange(0.0, 5.0), "float32"),
        (lambda: ft.arange(5), "int64"),
        (lambda: ft.arange(0, ft.scalar("n", dtype="int8"), 0.5), "float32"),
        (lambda: ft.arange(0, ft.scalar("n", dtype="int32"), 0.5), "float64"),
        (lambda: ft.arange(ft.scalar("n", dtype="float32")), "float32"),
        (lambda: ft.arange(ft.scalar("n", dtype="float64")), "float64"),
        (lambda: ft.linspace(0, 1, 5), "float32"),
        (lambda: ft.linspace(0, ft.scalar("n", dtype="int64"), 5), "float32"),
        (lambda: ft.linspace(0, ft.scalar("n", dtype="float64"), 5), "float64"),
        (lambda: ft.logspace(0, 1, 5), "float32"),
        (lambda: ft.geomspace(1, 10, 5), "float32"),
        (lambda: ft.geomspace(1, ft.scalar("n", dtype="float64"), 5), "float64"),
    ],
)
def test_ranges(build: Callable[[], Any], want32: str) -> None:
    with fc.config.change_flags(floatX="float32"):
        assert build().dtype == want32
    with fc.config.change_flags(floatX="float64"):
        assert build().dtype == ("int64" if want32 == "int64" else "float64")  # numpy's


def _float64_only_cases() -> dict[str, Callable[[str], Any]]:
    """The functions computing in float64 only (scipy's and numpy's dtype: float64 for float32
    operands), each of operands of a dtype."""

    def mats(dt: str, *names: str) -> list[Any]:
        return [ft.matrix(n, dtype=dt) for n in names]

    return {
        "cov": lambda dt: ft.cov(*mats(dt, "m")),
        "corrcoef": lambda dt: ft.corrcoef(*mats(dt, "m")),
        "solve_discrete_lyapunov": lambda dt: ft.linalg.solve_discrete_lyapunov(*mats(dt, "A", "Q")),
        "solve_discrete_are": lambda dt: ft.linalg.solve_discrete_are(*mats(dt, "A", "B", "Q", "R")),
    }


@pytest.mark.parametrize("name", list(_float64_only_cases()))
def test_float64_only_functions_give_float32_for_float32(name: str, floatx: str) -> None:
    build = _float64_only_cases()[name]
    # float32 made in float64 is no float64 warn_float64 reports (a float32 mean sums so too)
    with fc.config.change_flags(warn_float64="raise" if floatx == "float32" else "ignore"):
        assert build("float32").dtype == floatx
    assert build("float64").dtype == "float64"
    assert build("int32").dtype == "float64"


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_values_within_float32_of_numpys_float64(mode: str, floatx32: None) -> None:
    a, b = ft.vector("a", dtype="int32"), ft.vector("b", dtype="int32")
    c, n = ft.vector("c", dtype="int8"), ft.scalar("n", dtype="int32")
    m = ft.matrix("m", dtype="float32")
    outs = [
        a / b,
        c * 1.5,
        0.1 * c,
        c / 3 + c**0.5,
        ft.add(2.5, c, 1),
        ft.arange(0, 1, 0.1),
        ft.linspace(0, n, 7),
        ft.cov(m),
        ft.linalg.solve_discrete_lyapunov(0.5 * m, m.T @ m / 10),
        ft.linalg.solve_discrete_are(0.5 * m, m, m @ m.T, m.T @ m + 1),
    ]
    assert [o.dtype for o in outs] == ["float32"] * len(outs)
    fn = fc.function([a, b, c, n, m], outs, mode=mode)
    rng = np.random.default_rng(3)
    av = rng.integers(-(2**31), 2**31, 64, dtype=np.int32)
    bv = rng.integers(1, 2**31, 64, dtype=np.int32)
    cv = np.arange(-8, 120, 2, dtype=np.int8)
    mv = (rng.standard_normal((3, 3)) / 3 + np.eye(3)).astype(np.float32)
    got = fn(av, bv, cv, 5, mv)
    assert [g.dtype.name for g in got] == ["float32"] * len(outs)

    c64, m64 = cv.astype(np.float64), mv.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want = [
            av / bv,
            c64 * 1.5,
            0.1 * c64,
            c64 / 3 + c64**0.5,
            2.5 + c64 + 1,
            np.arange(0, 1, 0.1),
            np.linspace(0, 5, 7),
            np.cov(m64),
            sla.solve_discrete_lyapunov(0.5 * m64, m64.T @ m64 / 10),
            sla.solve_discrete_are(0.5 * m64, m64, m64 @ m64.T, m64.T @ m64 + 1),
        ]
    # integers divide in float64 and round once: the float32 nearest numpy's quotient
    np.testing.assert_array_equal(got[0], want[0].astype(np.float32))
    for i, (g, w) in enumerate(zip(got[1:], want[1:]), 1):
        scale = max(float(np.nanmax(np.abs(w))), 1.0)
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=2e-6 * scale, err_msg=f"output {i}")


def test_one_compiledir_both_floatx(tmp_path: Any) -> None:
    """The same code compiled under each floatX into one compiledir gives each its dtypes, a
    graph built under one floatX keeps its dtypes compiled under the other, and the values
    agree within float32 precision (floatX is part of a function's key)."""
    cv = np.array([-3, 1, 7, 100], np.int8)

    def build() -> tuple[Any, list[Any]]:
        c = ft.vector("c", dtype="int8")
        return c, [c / 2, c * 1.5, ft.linspace(0, 1, 3) * c[:3]]

    results = {}
    with fc.config.change_flags(compiledir=str(tmp_path)):
        for build_fx, compile_fx in (("float32", "float32"), ("float64", "float64"), ("float32", "float64")):
            with fc.config.change_flags(floatX=build_fx):
                c, outs = build()
            with fc.config.change_flags(floatX=compile_fx):
                got = fc.function([c], outs)(cv)
                c2, outs2 = build()  # the same code under compile_fx
                again = fc.function([c2], outs2)(cv)
            assert [g.dtype.name for g in got] == [build_fx] * 3, (build_fx, compile_fx)
            assert [g.dtype.name for g in again] == [compile_fx] * 3, (build_fx, compile_fx)
            results[build_fx, compile_fx] = got
    for g32, g64 in zip(results["float32", "float32"], results["float64", "float64"]):
        np.testing.assert_allclose(g32, g64, rtol=1e-6)
    for g, h in zip(results["float32", "float32"], results["float32", "float64"]):
        np.testing.assert_array_equal(g, h)


# -- PyTensor's own dtypes ---------------------------------------------------------------------


def _pytensor_float32() -> Any:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    return pytensor, pt


def _pairs(fc_build: Callable[..., Any], pt_build: Callable[..., Any], dtypes: tuple[str, ...]) -> dict:
    """``{dtypes: (fncache's dtype, PyTensor's)}`` of a two-operand function over ``dtypes``."""
    import pytensor.tensor as pt

    out = {}
    for a in dtypes:
        for b in dtypes:
            out[a, b] = (
                fc_build(ft.vector("x", dtype=a), ft.vector("y", dtype=b)).dtype,
                pt_build(pt.vector("x", dtype=a), pt.vector("y", dtype=b)).dtype,
            )
    return out


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e300 in float32
def test_pytensor_elementwise_dtypes(floatx32: None) -> None:
    """fncache's dtypes are PyTensor's under floatX=float32 for every pair of real dtypes
    (true_div, add, mul, pow, arctan2) and for a Python float on either side."""
    pytensor, pt = _pytensor_float32()
    differ = {}
    with pytensor.config.change_flags(floatX="float32"):
        for name in ("true_div", "add", "mul", "pow", "arctan2"):
            for k, (got, want) in _pairs(getattr(ft, name), getattr(pt, name), REALS).items():
                if got != want:
                    differ[(name, *k)] = (got, want)
        for op, make in BINARY.items():
            f, f_pt = make(ft), make(pt)
            for dt in REALS:
                for number in (1.5, 0.1, 1e300):
                    got = (f(_vec(dt), number).dtype, f(number, _vec(dt)).dtype)
                    want = (f_pt(pt.vector(dtype=dt), number).dtype, f_pt(number, pt.vector(dtype=dt)).dtype)
                    if got != want:
                        differ[op, dt, number] = (got, want)
        for dt in REALS:
            for name in ("exp", "log", "sqrt", "sigmoid", "tanh", "erf", "mean", "var", "std"):
                got, want = getattr(ft, name)(_vec(dt)).dtype, getattr(pt, name)(pt.vector(dtype=dt)).dtype
                if got != want:
                    differ[name, dt] = (got, want)
    assert differ == {}


def test_pytensor_range_and_float64_only_dtypes(floatx32: None) -> None:
    pytensor, pt = _pytensor_float32()
    import pytensor.tensor.linalg as ptl

    cases = [
        (lambda T: T.arange(0, 1, 0.1), None),
        (lambda T: T.arange(0.0, 5.0), None),
        (lambda T: T.arange(0, T.scalar("n", dtype="int8"), 0.5), None),
        (lambda T: T.arange(0, T.scalar("n", dtype="int32"), 0.5), None),
        (lambda T: T.arange(T.scalar("n", dtype="float32")), None),
        (lambda T: T.linspace(0, 1, 5), None),
        (lambda T: T.linspace(0, T.scalar("n", dtype="int32"), 5), None),
        (lambda T: T.geomspace(1, 10, 5), None),
        (lambda T: T.logspace(0, 1, 5), None),
    ]
    with pytensor.config.change_flags(floatX="float32"):
        for build, _ in cases:
            assert build(ft).dtype == build(pt).dtype
        for dt in ("float32", "float64", "int32"):
            assert ft.cov(ft.matrix(dtype=dt)).dtype == pt.cov(pt.matrix(dtype=dt)).dtype, dt
            for name, nargs in (("solve_discrete_lyapunov", 2), ("solve_discrete_are", 4)):
                got = getattr(ft.linalg, name)(*[ft.matrix(dtype=dt) for _ in range(nargs)]).dtype
                want = getattr(ptl, name)(*[pt.matrix(dtype=dt) for _ in range(nargs)]).dtype
                assert got == want, (name, dt)
