"""Three places where a Theano/PyTensor user's code meets PyTensor's rules: how a call's values
convert to its inputs (``allow_input_downcast`` None/True/False under floatX float32 and
float64), which updates of a shared variable are refused when the function is built and which
are checked when it runs (its own ``default_update`` included), and
``fncache.graph.replace`` (``clone_replace``, ``graph_replace``, ``vectorize_graph``).

PyTensor's answers are recorded here (PyTensor 3.0.7) and checked against PyTensor itself where
it is installed; the differences fncache keeps on purpose (docs/porting.md, "What differs, on
purpose") are marked."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

PY = "FAST_COMPILE"
DOWNCASTS = (None, True, False)

# -- input conversion: allow_input_downcast ---------------------------------------------------

#: (value, input dtype, taken: "y"/"n" for allow_input_downcast None, True, False under floatX
#: float32, then the same under float64), PyTensor's answers. None rounds one float (a Python
#: float or a numpy float scalar) into floatX only; a list, a float into another float dtype
#: and a complex must convert exactly; an array (0-d too) only by a safe cast. Numpy scalars
#: are numbers: taken when they convert exactly (np.int64(3) into int32).
CONVERSIONS: list[tuple[Any, str, str]] = [
    (0.1, "float32", "yyn nyn"),
    (0.5, "float32", "yyy yyy"),
    (3, "float32", "yyy yyy"),
    (2**24 + 1, "float32", "nyn nyn"),
    (np.float64(0.1), "float32", "yyn nyn"),
    (np.float32(0.1), "float64", "yyy yyy"),
    (np.float32(0.1), "int64", "nyn nyn"),
    (np.int64(3), "int32", "yyy yyy"),
    (np.uint8(3), "int8", "yyy yyy"),
    (np.uint8(200), "int8", "nyn nyn"),
    (np.array(0.5), "float32", "nyn nyn"),
    (np.array(3), "float32", "nyn nyn"),
    (np.array(3), "int32", "nyn nyn"),
    ([0.1], "float32", "nyn nyn"),
    ([0.5], "float32", "yyy yyy"),
    ((0.5, 0.1), "float32", "nyn nyn"),
    ([np.float64(0.1)], "float32", "nyn nyn"),
    ([1, 2], "float32", "yyy yyy"),
    (np.array([0.5]), "float32", "nyn nyn"),
    (np.array([3]), "float32", "nyn nyn"),
    (np.array([0.5], "float32"), "int64", "nyn nyn"),
    (0.1, "float64", "yyy yyy"),
    (0.1, "int64", "nyn nyn"),
    (3.0, "int64", "yyy yyy"),
    (2**40, "int32", "nyn nyn"),  # PyTensor: OverflowError; fncache: TypeError
    (True, "int8", "yyy yyy"),
    (0.1 + 0j, "complex64", "nyn nyn"),
    (0.5 + 0j, "complex64", "yyy yyy"),
    (0.1, "complex64", "nyn nyn"),
    (float("nan"), "float32", "yyy yyy"),
    (float("inf"), "float32", "yyy yyy"),
    (1e-50, "float32", "yyn nyn"),  # rounded to 0: an underflow is a rounding
]


def _table(lib: Any, T: Any, errors: tuple[type, ...], **kw: Any) -> dict[tuple[str, str], str]:
    """Each case's answers as CONVERSIONS writes them, computed by ``lib``'s functions."""
    fns: dict[tuple[str, int, bool | None], Callable[..., Any]] = {}
    out = {}
    for value, dtype, _ in CONVERSIONS:
        nd = np.ndim(value)
        row = ""
        for floatx in ("float32", "float64"):
            with lib.config.change_flags(floatX=floatx):
                for downcast in DOWNCASTS:
                    if (dtype, nd, downcast) not in fns:
                        x = T.tensor("x", dtype=dtype, shape=(None,) * nd)
                        fns[dtype, nd, downcast] = lib.function(
                            [x], x, allow_input_downcast=downcast, name="conv", **kw
                        )
                    try:
                        with np.errstate(all="ignore"):
                            got = fns[dtype, nd, downcast](value)
                        assert got.dtype == dtype
                        row += "y"
                    except errors:
                        row += "n"
            row += " " if floatx == "float32" else ""
        out[repr(value), dtype] = row
    return out


def _recorded() -> dict[tuple[str, str], str]:
    return {(repr(value), dtype): want for value, dtype, want in CONVERSIONS}


def test_input_conversion_follows_pytensors_table() -> None:
    assert _table(fc, ft, (TypeError,), mode=PY) == _recorded()


def test_pytensor_still_answers_the_recorded_table() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    assert _table(pytensor, pt, (TypeError, OverflowError), mode="FAST_COMPILE") == _recorded()


@pytest.mark.parametrize("downcast", [None, False])
def test_a_refused_value_names_the_input_the_dtypes_and_the_fix(downcast: bool | None) -> None:
    lr, v = ft.fscalar("lr"), ft.fvector("v")
    f = fc.function([lr, v], lr * v, name="step", allow_input_downcast=downcast, mode=PY)
    off = "downcasting is off"
    cases = [
        ((0.1, [1.0]), 0, "float64 to float32", "floatX" if downcast is None else off),
        ((1.0, [0.1]), 1, "float64 to float32", "list of floats is not rounded" if downcast is None else off),
        ((1.0, np.array([0.5])), 1, "float64 to float32", "could lose data"),
        ((np.array(2), [1.0]), 0, "int64 to float32", "could lose data"),
    ]
    for args, k, dtypes, why in cases:
        name = ("lr", "v")[k]
        with pytest.raises(TypeError, match=rf"input {k} \('{name}'\) of function 'step'") as e:
            f(*args)
        msg = str(e.value)
        assert dtypes in msg and why in msg, msg
        assert "allow_input_downcast=True" in msg and "np.asarray(x, dtype='float32')" in msg, msg


@pytest.mark.parametrize("linker", ["c", "py"])
def test_a_python_float_into_a_float32_input_follows_floatx(linker: str) -> None:
    """The scalar fast path (a learning rate given at every call) takes PyTensor's rule too:
    rounded under floatX float32, refused under float64 where float32 does not hold it."""
    lr = ft.fscalar("lr")
    f = fc.function([lr], lr * 2, mode=fc.Mode(linker=linker, optimizer="fast_compile"))
    with fc.config.change_flags(floatX="float32"):
        assert f(0.1) == np.float32(0.1) * 2 and f(np.float64(0.1)) == np.float32(0.1) * 2
    with fc.config.change_flags(floatX="float64"):
        assert f(0.5) == 1.0
        with pytest.raises(TypeError, match=r"input 0 \('lr'\).*rounded only into floatX \(float64 now\)"):
            f(0.1)


def test_a_float_overflowing_float32_is_refused_unless_true() -> None:
    """What differs on purpose: under floatX float32, PyTensor's None rounds 1e300 into a float32
    input as inf; fncache refuses a finite float that would overflow (True still casts it)."""
    x = ft.fscalar("x")
    f, g = fc.function([x], x, mode=PY), fc.function([x], x, allow_input_downcast=True, mode=PY)
    with fc.config.change_flags(floatX="float32"):
        with pytest.raises(TypeError, match=r"overflows to inf .*allow_input_downcast=True"):
            f(1e300)
        assert f(-3e38) == np.float32(-3e38) and f(float("inf")) == np.inf
        with np.errstate(over="ignore"):
            assert g(1e300) == np.inf
