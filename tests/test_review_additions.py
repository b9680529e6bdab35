"""Edges of the run-time value checks, the foreign-flags warning, linspace's axis and the class
code a key reads: a check's message with braces or a value of many dims, a very long
``THEANO_FLAGS`` value, and a user's op class whose ``perform`` reads a module setting through
a ``functools.cached_property`` or ``functools.partialmethod``."""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import config, foreign_flags_warnings
from fncache.errors import ArgumentValueError
from fncache.tensor.pyop import check_value

PY = fc.Mode(linker="py")


# -- check_value's message -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "msg", ["x: {0} then {oops}", "x: {0} and {1}", "x: the set {a, b}, got {0}", "x: {0!z}"]
)
def test_a_message_that_does_not_format_its_values_is_refused_when_the_graph_is_built(msg: str) -> None:
    x = ft.dvector("x")
    with pytest.raises(ValueError, match="check_value.*1 value"):
        check_value(x, ft.all(x > 0), msg, x)


@pytest.mark.parametrize("mode", [PY, None])
def test_a_message_with_escaped_braces_shows_them_and_the_values(mode: Any) -> None:
    x = ft.dvector("x")
    f = fc.function([x], check_value(x, ft.all(x > 0), "x: the set {{a, b}}, got {0}", x), mode=mode)
    with pytest.raises(ArgumentValueError, match=r"x: the set \{a, b\}, got \[-1.0\]"):
        f(np.array([-1.0]))


@pytest.mark.parametrize("shape", [(2,) * 20, (5,) * 8, (10**6,), (3, 10**5)])
def test_a_failing_check_shows_a_large_value_in_a_short_message(shape: tuple[int, ...]) -> None:
    x = ft.TensorType("float64", (None,) * len(shape))("x")
    f = fc.function([x], check_value(x, ft.all(x > 0), "x must be positive, got {0}", x), mode=PY)
    value = -np.ones(shape)
    value.flat[0], value.flat[-1] = -3.0, -5.0
    with pytest.raises(ArgumentValueError) as e:
        f(value)
    text = str(e.value)
    assert len(text) < 3000, len(text)
    assert "-3." in text and "-5." in text  # the first and the last value


# -- THEANO_FLAGS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a" * 100_000, "float32" + "x" * 10_000, "float32\n" * 1000])
def test_a_very_long_foreign_flag_value_gives_a_short_warning(value: str) -> None:
    (text,) = foreign_flags_warnings(config, {"THEANO_FLAGS": f"floatX={value}"})
    assert len(text) < 1000, len(text)
    assert "\n" not in text
    assert "floatX" in text and "FNCACHE_FLAGS" in text


def test_a_refused_foreign_flag_keeps_its_whole_reason() -> None:
    from fncache.config import _refused_flag

    (text,) = foreign_flags_warnings(config, {"THEANO_FLAGS": "cxxflags=-B/tmp"})
    assert _refused_flag("-B/tmp") in text


# -- linspace's axis -------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [1, -2, 5])
def test_linspace_axis_out_of_range_is_numpys_axis_error(axis: int) -> None:
    with pytest.raises(np.exceptions.AxisError):
        np.linspace(0.0, 1.0, 5, axis=axis)
    with pytest.raises(np.exceptions.AxisError, match="linspace"):
        ft.linspace(0.0, 1.0, 5, axis=axis)


# -- class code: settings read through functools' descriptors --------------------------------------

FACTOR = 2.0


def _factor(scale: float = 1.0) -> float:
    return FACTOR * scale


class _Unary(fc.Op):
    __props__ = ()

    def make_node(self, x: Any) -> fc.Apply:
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])


class CachedFactor(_Unary):
    """Multiplies by ``FACTOR``, read by a cached property of each op."""

    @functools.cached_property
    def factor(self) -> float:
        return FACTOR

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.factor


class PartialFactor(_Unary):
    """Multiplies by ``FACTOR``, read by a partial method."""

    def _scaled(self, scale: float) -> float:
        return FACTOR * scale

    factor = functools.partialmethod(_scaled, 1.0)

    def perform(self, node: Any, inputs: list, out: list) -> None:
        out[0][0] = inputs[0] * self.factor()


@pytest.mark.parametrize("cls", [CachedFactor, PartialFactor])
def test_a_setting_read_through_a_functools_descriptor_rekeys(cls: type, tmp_path: Any) -> None:
    """Run on a constant, the op is folded when the function is optimized: a key that missed
    the setting would answer the second compile with the first one's folded value."""
    global FACTOR
    v = np.array([1.0, 2.0])
    old = FACTOR
    try:
        with fc.config.change_flags(compiledir=str(tmp_path)):
            FACTOR = 2.0
            np.testing.assert_array_equal(fc.function([], cls()(ft.constant(v)))(), v * 2.0)
            FACTOR = 3.0
            np.testing.assert_array_equal(fc.function([], cls()(ft.constant(v)))(), v * 3.0)
    finally:
        FACTOR = old


# -- an axis out of range --------------------------------------------------------------------------

#: Functions taking an axis, each with a call of it on a matrix ``x`` along ``axis``.
_AXIS_CALLS: dict[str, Callable[[Any, int], Any]] = {
    "sum": lambda x, a: ft.sum(x, axis=a),
    "argmax": lambda x, a: ft.argmax(x, axis=a),
    "concatenate": lambda x, a: ft.concatenate([x, x], axis=a),
    "moveaxis": lambda x, a: ft.moveaxis(x, a, 0),
    "flip": lambda x, a: ft.flip(x, a),
    "roll": lambda x, a: ft.roll(x, 1, a),
    "take": lambda x, a: ft.take(x, [0], axis=a),
    "cumsum": lambda x, a: ft.cumsum(x, axis=a),
    "sort": lambda x, a: ft.sort(x, axis=a),
    "var": lambda x, a: ft.var(x, axis=a),
    "std": lambda x, a: ft.std(x, axis=a),
    "ptp": lambda x, a: x.ptp(axis=a),
    "nanmax": lambda x, a: ft.nanmax(x, axis=a),
    "nanmin": lambda x, a: ft.nanmin(x, axis=a),
    "count_nonzero": lambda x, a: ft.count_nonzero(x, axis=a),
    "trace": lambda x, a: ft.trace(x, axis1=a),
    "median": lambda x, a: ft.median(x, axis=a),
    "mean": lambda x, a: ft.mean(x, axis=a),
}


@pytest.mark.parametrize("axis", [2, -3])
@pytest.mark.parametrize("name", list(_AXIS_CALLS))
def test_an_axis_out_of_range_is_an_axis_error_naming_the_function_called(name: str, axis: int) -> None:
    with pytest.raises(np.exceptions.AxisError, match=f"^{name}: axis {axis} "):
        _AXIS_CALLS[name](ft.dmatrix("x"), axis)


def _scaler_with_setter() -> tuple[type, Callable[[float], None]]:
    """An op class multiplying by its maker's variable ``k``, and a setter of ``k`` (``nonlocal``)."""
    k = 2.0

    class Scale(_Unary):
        def perform(self, node: Any, inputs: list, out: list) -> None:
            out[0][0] = inputs[0] * k

    def set_k(value: float) -> None:
        nonlocal k
        k = value

    return Scale, set_k


def test_a_closure_variable_assigned_again_rekeys(tmp_path: Any) -> None:
    cls, set_k = _scaler_with_setter()
    v = np.array([1.0, 2.0])
    with fc.config.change_flags(compiledir=str(tmp_path)):
        np.testing.assert_array_equal(fc.function([], cls()(ft.constant(v)))(), v * 2.0)
        set_k(3.0)
        np.testing.assert_array_equal(fc.function([], cls()(ft.constant(v)))(), v * 3.0)


@pytest.mark.parametrize("msg", ["x must be positive", "x must be positive, got {1}"])
def test_a_message_that_leaves_a_value_out_is_refused_when_the_graph_is_built(msg: str) -> None:
    x = ft.dvector("x")
    with pytest.raises(ValueError, match=r"check_value.*does not show value\(s\) \[0"):
        check_value(x, ft.all(x > 0), msg, x, x.shape)


# -- refused compiler flags ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["-Bsymbolic", "-Bstatic", "-Bdynamic"])
def test_a_linker_b_option_given_to_the_compiler_itself_is_its_program_directory(word: str) -> None:
    """gcc reads ``-Bsymbolic`` as ``-B symbolic``: a directory of compiler programs (``./symbolic/as``
    would run); through ``-Wl,`` it is the linker's option, the user's choice."""
    from fncache.config import _refused_flag

    assert _refused_flag(f"-Wl,{word}") is None
    assert "runs a program" in (_refused_flag(word) or "")
    with pytest.raises(ValueError, match=f"{word}"):
        with fc.config.change_flags(cxxflags=word):
            pass


@pytest.mark.parametrize(
    ("word", "why"),
    [
        ("-fuse-ld=/tmp/ld", "runs a program"),  # clang runs the linker at that path
        ("--gcc-toolchain=/tmp/tc", "runs a program"),  # clang's directory of gcc's programs
        ("--gcc-install-dir=/tmp/tc", "runs a program"),
        ("-Wl,--version-script=/tmp/v.map", "gives the linker a script"),
        ("-Wl,--dynamic-list,/tmp/d.list", "gives the linker a script"),
        ("-Wl,--retain-symbols-file=/tmp/s", "gives the linker a script"),
        ("-Wl,--just-symbols=/tmp/s.so", "gives the linker a script"),
        ("-include-pch", "reads flags or code from a file"),
    ],
)
def test_flags_running_a_chosen_program_or_reading_a_linker_file_are_refused(word: str, why: str) -> None:
    from fncache.config import _refused_flag

    assert why in (_refused_flag(word) or "")


@pytest.mark.parametrize("word", ["-fuse-ld=lld", "-fuse-ld=gold", "-Wl,--as-needed", "-Wl,-z,now", "-O3"])
def test_flags_naming_no_program_or_file_stay_the_users_choice(word: str) -> None:
    from fncache.config import _refused_flag

    assert _refused_flag(word) is None


def test_identity_like_names_itself_for_a_dtype_it_cannot_make() -> None:
    with pytest.raises(TypeError, match="^identity_like: unsupported dtype 'foo'"):
        ft.identity_like(ft.dmatrix("m"), dtype="foo")
