"""The errors (fncache.errors and ValueError/TypeError) that the compiler core raises: input dtype / ndim (with the input's
position and name, what was expected and given, and the fix), allow_input_downcast, run-time
shape errors, CompileError, exception_verbosity='high', and malformed inputs that must never
crash the interpreter."""

from __future__ import annotations

import itertools
import os
import re

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, compiled

THIS_FILE = os.path.basename(__file__)


@compiled
def typed_fn(mode: str, downcast: bool = False):
    x = ft.vector("x", dtype="float32")
    m = ft.matrix("m", dtype="int32")
    return fc.function([x, m], [x * 2, m + 1], mode=mode, name="typed", allow_input_downcast=downcast)


@pytest.mark.parametrize("mode", MODES)
def test_wrong_dtype_message(mode: str) -> None:
    f = typed_fn(mode)
    with pytest.raises(TypeError) as ei:
        f(np.ones(3, "float64"), np.ones((2, 2), "int32"))
    msg = str(ei.value)
    for part in ("input 0", "'x'", "float32", "1 dim", "float64", "allow_input_downcast"):
        assert part in msg, (part, msg)
    with pytest.raises(TypeError) as ei:
        f(np.ones(3, "float32"), np.ones((2, 2), "float64"))
    msg = str(ei.value)
    for part in ("input 1", "'m'", "int32", "2 dim", "float64"):
        assert part in msg, (part, msg)


@pytest.mark.parametrize("mode", MODES)
def test_wrong_ndim_message(mode: str) -> None:
    f = typed_fn(mode)
    with pytest.raises(TypeError) as ei:
        f(np.ones((3, 1), "float32"), np.ones((2, 2), "int32"))
    msg = str(ei.value)
    for part in ("input 0", "'x'", "float32", "1 dim", "2 dim", "(3, 1)", "reshape"):
        assert part in msg, (part, msg)
    with pytest.raises(TypeError, match="input 1"):
        f(np.ones(3, "float32"), np.ones(4, "int32"))
    with pytest.raises(TypeError, match="input 0"):
        f(np.float32(1.0), np.ones((2, 2), "int32"))


@pytest.mark.parametrize("mode", MODES)
def test_safe_conversions_accepted(mode: str) -> None:
    """Lists, safe casts (int16 -> int32) and exact Python numbers are converted silently."""
    f = typed_fn(mode)
    x, m = f([1.0, 2.5], np.ones((1, 2), "int16"))
    assert_same(x, np.array([2.0, 5.0], "float32"), "list input")
    assert_same(m, np.full((1, 2), 2, "int32"), "int16 -> int32")
    x, m = f(np.arange(2, dtype="uint8"), [[1, 2]])
    assert_same(x, np.array([0.0, 2.0], "float32"), "uint8 -> float32")
    assert_same(m, np.array([[2, 3]], "int32"), "nested list")
    s = ft.scalar("s", "float32")
    g = fc.function([s], s + 1, mode=mode)
    assert_same(g(2.5), np.array(3.5, "float32"), "Python float into float32 scalar")


def test_plain_scalars_convert_as_the_general_path_does() -> None:
    """Python and numpy scalars take a shorter path into 0-d inputs; for every scalar and dtype
    it gives what the general conversion gives: the same dtype and value, or no short cut
    (None) where the general path decides (and may refuse)."""
    from fncache.graph.types import TensorType
    from fncache.graph.values import convert_value, plain_scalar

    values = [0.0, -2.5, 1e300, float("nan"), 0, 7, -(2**63), 2**63 - 1, 2**63, 2**70, True, False, 1j]
    values += [np.float64(1.5), np.float32(2.5), np.int64(-3), np.int32(4), np.uint8(200), np.bool_(True)]
    dtypes = ["bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64", "complex128"]
    shortcuts = 0
    for dtype, downcast in itertools.product(dtypes, (None, False)):
        t = TensorType(dtype, ())
        for v in values:
            with np.errstate(over="ignore"):  # 1e300 as float32: inf, with numpy's warning
                fast = plain_scalar(t, v, downcast)
                if fast is None:
                    continue
                want = convert_value(TensorType(dtype, (None,)), [v], downcast, "ref")[0]
            shortcuts += 1
            assert fast.dtype == want.dtype and fast.shape == (), (v, dtype, downcast)
            np.testing.assert_array_equal(fast, want, err_msg=f"{v!r} as {dtype}")
    assert shortcuts >= 15  # floats, int64-range ints, bools and numpy scalars of their own type


@pytest.mark.parametrize("mode", MODES)
def test_allow_input_downcast(mode: str) -> None:
    f = typed_fn(mode, downcast=True)
    x, m = f(np.array([1.5, 2.25], "float64"), np.array([[1.9, -2.5]]))
    assert_same(x, np.array([3.0, 4.5], "float32"), "float64 -> float32")
    assert_same(m, np.array([[2, -1]], "int32"), "float64 -> int32 (truncated, as numpy)")
    with pytest.raises(TypeError):  # ndim is never downcast
        f(np.ones((2, 2)), np.ones((2, 2)))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_number_and_names_of_inputs(mode: str) -> None:
    f = typed_fn(mode)
    with pytest.raises(TypeError, match="2 inputs"):
        f(np.ones(3, "float32"))
    with pytest.raises(TypeError):
        f(np.ones(3, "float32"), np.ones((2, 2), "int32"), 3)
    x, m = f(m=np.ones((1, 1), "int32"), x=np.ones(1, "float32"))
    assert x[0] == 2 and m[0, 0] == 2
    with pytest.raises(TypeError, match="no input named"):
        f(np.ones(1, "float32"), y=np.ones((1, 1), "int32"))


@pytest.mark.parametrize("mode", MODES)
def test_malformed_inputs_never_crash(mode: str) -> None:
    """Every kind of odd value gives a TypeError (or works), never a crash."""
    f = typed_fn(mode)
    good_m = np.ones((2, 2), "int32")
    bad = [
        None,
        "abc",
        object(),
        [[1.0], [2.0, 3.0]],
        np.array(["a", "b"]),
        np.array([1, None], dtype=object),
        np.ones(3, "complex64"),
        {"a": 1},
        np.ones((1,) * 32, "float32"),
    ]
    for value in bad:
        with pytest.raises(TypeError):
            f(value, good_m)
    # unusual but valid layouts: byte-swapped, unaligned, read-only, 0-stride, subclass
    swapped = np.arange(4, dtype=">f4")
    raw = np.zeros(4 * 4 + 1, "uint8")[1:].view("float32")
    raw[:] = [1, 2, 3, 4]
    ro = np.arange(4, dtype="float32")
    ro.setflags(write=False)
    zero_stride = np.broadcast_to(np.float32(3), (4,))
    sub = np.ma.masked_array(np.arange(4, dtype="float32"))
    for value in (swapped, raw, ro, zero_stride, sub):
        got = f(value, good_m)[0]
        assert_same(got, np.asarray(value, "float32") * 2, f"layout {type(value).__name__}")
    assert ro.flags.writeable is False and ro[1] == 1


@pytest.mark.parametrize("mode", MODES)
def test_runtime_shape_error_names_op_and_shapes(mode: str) -> None:
    x, y = ft.matrix("x"), ft.matrix("y")
    f = fc.function([x, y], ft.exp(x) * y + 1, mode=mode)
    with pytest.raises(ValueError) as ei:
        f(np.ones((2, 3)), np.ones((4, 3)))
    msg = str(ei.value)
    assert "(2, 3)" in msg and "(4, 3)" in msg, msg
    assert re.search(r"mul|Composite|Elemwise", msg), msg
    g = fc.function([x, y], ft.sum((x - y) ** 2), mode=mode)
    with pytest.raises(ValueError) as ei:
        g(np.ones((2, 3)), np.ones((2, 4)))
    assert "(2, 3)" in str(ei.value) and "(2, 4)" in str(ei.value)
    assert_same(f(np.ones((2, 3)), np.ones((1, 3))), np.full((2, 3), np.e + 1), "still works")


def test_compile_error_bad_compiler() -> None:
    x = ft.vector("x")
    expr = ft.cosh(x) * 3.25 - 17.5  # a graph no other test compiles
    with fc.config.change_flags(cxx="/nonexistent/gcc"):
        with pytest.raises(fc.CompileError) as ei:
            fc.function([x], expr)
    assert "/nonexistent/gcc" in str(ei.value)
    assert isinstance(ei.value, fc.FncacheError)
    f = fc.function([x], expr)  # the failure was not cached
    assert_same(f(np.ones(2)), np.cosh(np.ones(2)) * 3.25 - 17.5, "after the failure")


def test_compile_error_names_command_stderr_and_source() -> None:
    x = ft.vector("x")
    with fc.config.change_flags(cxxflags="-O3 -fno-such-flag-for-fncache"):
        with pytest.raises(fc.CompileError) as ei:
            fc.function([x], ft.sinh(x) * 5.5)
    msg = str(ei.value)
    assert "-fno-such-flag-for-fncache" in msg  # the command and the stderr tail
    kept = re.findall(r"(/\S+\.c)\b", msg)
    assert kept and any(os.path.exists(k) for k in kept), msg  # the kept source


@pytest.mark.parametrize("mode", MODES)
def test_exception_verbosity_high(mode: str) -> None:
    x, y = ft.vector("x"), ft.vector("y")
    z = x * 2 + ft.exp(y)  # THE LINE
    line = next(i for i, ln in enumerate(open(__file__), 1) if "# THE LINE" in ln and "next(" not in ln)
    f = fc.function([x, y], z, mode=mode)
    with fc.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError) as ei:
            f(np.ones(3), np.ones(4))
    msg = str(ei.value)
    assert "Apply node" in msg, msg
    assert THIS_FILE in msg and f"line {line}" in msg, msg
    with pytest.raises(ValueError) as ei:
        f(np.ones(3), np.ones(4))
    assert "exception_verbosity" in "".join(getattr(ei.value, "__notes__", [])) + str(ei.value)


@pytest.mark.parametrize("mode", MODES)
def test_exception_verbosity_high_on_cached_function(mode: str) -> None:
    """A second function with the same graph (from the cache) still names *its* source line."""
    a, b = ft.vector("a"), ft.vector("b")
    first = fc.function([a, b], ft.tanh(a) - b * 3, mode=mode)
    p, q = ft.vector("p"), ft.vector("q")
    expr = ft.tanh(p) - q * 3  # SECOND LINE
    line = next(i for i, ln in enumerate(open(__file__), 1) if "# SECOND LINE" in ln and "next(" not in ln)
    second = fc.function([p, q], expr, mode=mode)
    assert second.cache_key == first.cache_key
    with fc.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError) as ei:
            second(np.ones(3), np.ones(2))
    assert f"line {line}" in str(ei.value), str(ei.value)


def test_build_time_errors() -> None:
    x = ft.vector("x")
    with pytest.raises(TypeError, match="shared"):
        fc.function([fc.shared(np.zeros(2))], x)
    # a computed input cuts the graph there (as in Theano): x above it is then unused
    with pytest.raises(ValueError, match="not used"):
        fc.function([x + 1], x)
    with pytest.raises(TypeError):
        fc.function(x, x)
    with pytest.raises(ValueError, match="listed twice"):
        fc.function([x, x], x)
    with pytest.raises(ValueError, match="not inputs|not used"):
        fc.function([], x * 2)
    y = ft.vector("y")
    with pytest.raises(ValueError, match="not used"):
        fc.function([x, y], x * 2)
    with pytest.warns(UserWarning):
        fc.function([x, y], x * 2, on_unused_input="warn", mode="FAST_COMPILE")
    fc.function([x, y], x * 2, on_unused_input="ignore", mode="FAST_COMPILE")
    with pytest.raises(ValueError):
        fc.function([x], x, mode="NO_SUCH_MODE")
    with pytest.raises(ValueError, match="unknown linker"):
        fc.Mode(linker="vm2")
    with pytest.raises(TypeError, match="unsupported dtype"):
        ft.vector("c", dtype="datetime64[s]")
    with pytest.raises(TypeError):
        ft.tensor("float32")  # a dtype given as the name
