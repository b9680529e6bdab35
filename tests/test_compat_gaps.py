"""What a Theano or PyTensor script ported to fncache still reaches for in the function, config
and shared-variable layer: Theano's flag names (`on_unused_input`, `openmp`,
`openmp_elemwise_minsize`, `gcc.cxxflags`, `cxx=`), `Param`, `fncache.raise_op`,
`rebuild_strict=False`, `set_value` of another dtype, and DebugMode called from several threads."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.cache.keys import kernel_library_key
from fncache.codegen import c_linker
from fncache.config import Config
from fncache.graph.fgraph import FunctionGraph
from fncache.mode import get_mode
from fncache.runtime.compile import function_key as graph_function_key
from fncache.toolchain import compile_flags, compiler_id

# -- Theano's flags -------------------------------------------------------------------------------


def test_theano_flag_names_are_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(
        "FNCACHE_FLAGS",
        "on_unused_input=warn,openmp=False,gcc.cxxflags=-O2 -DFC_PROBE=1,cxx=,openmp_elemwise_minsize=1000",
    )
    c = Config()
    assert c.on_unused_input == "warn" and c.openmp is False and c.loop_threads() == 1
    assert c.gcc__cxxflags == "-O2 -DFC_PROBE=1" and getattr(c, "gcc.cxxflags") == c.gcc__cxxflags
    assert c.cxx == "" and c.openmp_elemwise_minsize == 1000
    monkeypatch.setenv("FNCACHE_FLAGS", "gcc__cxxflags=-g,threads=3")
    c = Config()
    assert c.gcc__cxxflags == "-g" and c.openmp is True and c.loop_threads() == 3


@pytest.mark.parametrize("flags", ["on_unused_inputs=ignore", "gcc.cxxflag=-O2", "openmpp=1"])
def test_an_unknown_flag_is_still_refused_by_name(monkeypatch, flags: str) -> None:
    monkeypatch.setenv("FNCACHE_FLAGS", flags)
    given = flags.split("=")[0]
    with pytest.raises(
        AttributeError, match=rf"unknown flag '{given}'; known flags: .*gcc__cxxflags.*openmp"
    ):
        Config()
    with pytest.raises(ValueError, match="on_unused_input.*expected one of raise, warn, ignore"):
        fc.config.on_unused_input = "maybe"
    with pytest.raises(ValueError, match="openmp.*True or False"):
        fc.config.openmp = "sometimes"


def test_on_unused_input_flag_is_the_default_of_function() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    with pytest.raises(ValueError, match=r"input 1 .* not used .* config.on_unused_input"):
        fc.function([x, y], x * 2)
    with fc.config.change_flags(on_unused_input="ignore"):
        f = fc.function([x, y], x * 2)
        np.testing.assert_array_equal(f([1.0, 2.0], [9.0]), [2.0, 4.0])
        with pytest.raises(ValueError, match="not used"):  # an explicit argument wins
            fc.function([x, y], x * 3, on_unused_input="raise")
    with fc.config.change_flags(on_unused_input="warn"), pytest.warns(UserWarning, match="input 1"):
        fc.function([x, y], x * 4)
    with fc.config.change_flags(on_unused_input="warn"), warnings.catch_warnings():
        warnings.simplefilter("error")
        fc.function([x, y], x * 5, on_unused_input="ignore")


def test_openmp_false_gives_the_run_time_one_thread(monkeypatch) -> None:
    real = c_linker.runtime()
    threads: list[int] = []

    class Spy:
        def __getattr__(self, name: str):
            return getattr(real, name)

        def Runner(self, *args):  # noqa: N802 - the run-time's name
            threads.append(args[6])
            return real.Runner(*args)

    monkeypatch.setattr(c_linker, "runtime", Spy)
    x = ft.dvector("x")
    v = np.linspace(0, 1, 100_000)
    with fc.config.change_flags(openmp=False, threads=4):
        np.testing.assert_allclose(fc.function([x], ft.exp(x) * 2)(v), np.exp(v) * 2)
    with fc.config.change_flags(threads=3):
        np.testing.assert_allclose(fc.function([x], ft.exp(x) * 2)(v), np.exp(v) * 2)
    assert threads == [1, 3]


def test_openmp_elemwise_minsize_is_taken_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        with fc.config.change_flags(openmp_elemwise_minsize=5000):
            assert fc.config.openmp_elemwise_minsize == 5000
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "openmp_elemwise_minsize=5000" in said and "changes nothing" in said and "threads=1" in said
    with pytest.raises(ValueError, match="openmp_elemwise_minsize"):
        fc.config.openmp_elemwise_minsize = -1


def test_gcc_cxxflags_are_added_to_the_compile_flags_and_the_module_key() -> None:
    base_flags = compile_flags()
    base_key = kernel_library_key("int x;", extra_flags=[])
    x = ft.dvector("x")
    fkey = graph_function_key(FunctionGraph([x], [ft.exp(x)]), get_mode("FAST_RUN"))
    with fc.config.change_flags(**{"gcc.cxxflags": "-DFC_COMPAT_PROBE=1"}):
        flags = compile_flags()
        assert flags[: flags.index("-DFC_COMPAT_PROBE=1")] == base_flags[: len(fc.config.cxxflags.split())]
        key = kernel_library_key("int x;", extra_flags=[])
        assert key != base_key and "-DFC_COMPAT_PROBE=1" in key.components["flags"]
        # the function entry is host-independent: the flags are the kernel library's key's
        assert graph_function_key(FunctionGraph([x], [ft.exp(x)]), get_mode("FAST_RUN")) == fkey
    assert fc.config.gcc__cxxflags == "" and compile_flags() == base_flags


def test_gcc_cxxflags_reach_the_compiler(tmp_path) -> None:
    x = ft.dvector("x")
    with fc.config.change_flags(compiledir=str(tmp_path), gcc__cxxflags="-fno-such-flag-for-fncache-compat"):
        with pytest.raises(fc.CompileError, match="no-such-flag-for-fncache-compat"):
            fc.function([x], ft.exp(x) * 7 + 1)(np.ones(3))


def test_cxx_may_name_a_cpp_compiler(tmp_path) -> None:
    """Theano's ``cxx`` is ``g++`` by default: the C sources are compiled as C by it too."""
    if shutil.which("g++") is None:
        pytest.skip("no g++ on this host")
    x = ft.dvector("x")
    v = np.linspace(-1, 1, 7)
    with fc.config.change_flags(compiledir=str(tmp_path), cxx="g++"):
        f = fc.function([x], ft.exp(x) * 2 + ft.sin(x).sum())
        np.testing.assert_allclose(f(v), np.exp(v) * 2 + np.sin(v).sum(), rtol=1e-12)
        assert "g++" in compiler_id()["version"]  # the kernels were built by g++


def test_cxx_empty_runs_the_python_linker() -> None:
    x = ft.dvector("x")
    with fc.config.change_flags(cxx=""):
        for mode in (None, "FAST_RUN", "FAST_COMPILE"):
            f = fc.function([x], ft.exp(x) * 2, mode=mode)
            assert f.mode.linker == "py", mode
            np.testing.assert_allclose(f(np.array([0.0, 1.0])), [2.0, 2 * np.e])
        with pytest.raises(ValueError, match=r"config.cxx is '' .* set config.cxx .*Mode\(linker='py'\)"):
            fc.function([x], ft.exp(x) * 11 - 3, mode=fc.Mode(linker="c"))(np.ones(2))
    assert fc.function([x], ft.exp(x) * 2).mode.linker == "c"


# -- Param and fncache.raise_op -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_param_is_theanos_in_with_a_default(mode: str) -> None:
    from fncache.compile import Param as CompileParam

    x, y, z = ft.dscalar("x"), ft.dscalar("y"), ft.dscalar("z")
    assert fc.Param is CompileParam and issubclass(fc.Param, fc.In)
    f = fc.function([x, fc.Param(y, 2.0), fc.Param(z, default=3.0, name="zz")], x * y + z, mode=mode)
    assert f(1.0) == 5.0 and f(1.0, 4.0) == 7.0 and f(1.0, zz=10.0) == 12.0
    assert f.input_names == ["x", "y", "zz"]
    g = fc.function([fc.Param(x), y], x - y, mode=mode)  # default=None: no default, as in Theano
    with pytest.raises(TypeError):
        g(1.0)
    assert g(5.0, 2.0) == 3.0
    with pytest.raises(TypeError, match="strict conversion"):
        fc.function([fc.Param(x, strict=True)], x * 2, mode=mode)(np.float32(1))
    with pytest.raises(TypeError, match="symbolic variable"):
        fc.Param(1.0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_raise_op_mirrors_pytensors(mode: str) -> None:
    from fncache import raise_op
    from fncache.raise_op import Assert, CheckAndRaise, assert_op

    assert fc.raise_op is raise_op and isinstance(assert_op, Assert) and issubclass(Assert, CheckAndRaise)
    x = ft.dvector("x")
    checked = CheckAndRaise(ValueError, "x must be positive")(x, ft.all(x > 0))
    asserted = Assert("x is too long")(x, x.shape[0] < 4, ft.constant(True))
    both = assert_op(checked * 2 + asserted, ft.sum(x) < 100)
    f = fc.function([x], both, mode=mode)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [3.0, 6.0])
    with pytest.raises(ValueError, match="x must be positive"):
        f(np.array([1.0, -2.0]))
    with pytest.raises(AssertionError, match="x is too long"):
        f(np.ones(5))
    with pytest.raises(AssertionError, match="assertion failed"):
        f(np.array([50.0, 60.0]))
    # the front end's assert_op makes the same op: one Assert, not two of a kind
    assert ft.assert_op(x, x > 0, "m").owner.op == Assert("m")
    assert str(checked.owner.op) == "CheckAndRaise{raises=ValueError, msg='x must be positive'}"
    assert CheckAndRaise(ValueError, "a") != CheckAndRaise(TypeError, "a")
    # a gradient passes through, the conditions get none
    g = fc.function([x], fc.grad(checked.sum(), x), mode=mode)
    np.testing.assert_array_equal(g(np.ones(3)), np.ones(3))
    with pytest.raises(ValueError, match="exc_type must be an Exception subclass"):
        CheckAndRaise(int, "no")


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_bad_value_given_when_a_function_runs_is_a_value_error_naming_the_function(mode: str) -> None:
    """fncache's own checks of run-time values raise ArgumentValueError: a ValueError, and an
    AssertionError as Theano's Assert of the same value is; the unsafe assert removal drops them."""
    from fncache.errors import ArgumentValueError
    from fncache.tensor.pyop import CheckAndRaise

    probs, y = ft.dmatrix("p"), ft.lvector("y")
    cost = ft.nnet.categorical_crossentropy(probs, y)
    f = fc.function([probs, y], cost, mode=mode)
    p = np.full((2, 3), 1 / 3)
    np.testing.assert_allclose(f(p, np.array([0, 2])), np.log(3) * np.ones(2))
    for bad in (np.array([0, 3]), np.array([-1, 0])):
        with pytest.raises(ValueError, match="categorical_crossentropy") as caught:
            f(p, bad)
        assert isinstance(caught.value, ArgumentValueError) and isinstance(caught.value, AssertionError)
    base = fc.Mode() if mode == "FAST_RUN" else fc.Mode(linker="py", optimizer="fast_compile")
    g = fc.function([probs, y], cost, mode=base.including("local_remove_all_assert"))
    assert not any(isinstance(n.op, CheckAndRaise) for n in g.optimized_graph.toposort())
    assert any(isinstance(n.op, CheckAndRaise) for n in f.optimized_graph.toposort())


def test_raise_op_raises_where_pytensors_does() -> None:
    pytensor = pytest.importorskip("pytensor")
    from pytensor import raise_op as pt_raise_op
    from pytensor import tensor as pt

    from fncache.raise_op import CheckAndRaise

    px, x = pt.dvector("x"), ft.dvector("x")
    pf = pytensor.function(
        [px], pt_raise_op.CheckAndRaise(ValueError, "neg")(px, pt.all(px > 0)) * 2, mode="FAST_COMPILE"
    )
    f = fc.function([x], CheckAndRaise(ValueError, "neg")(x, ft.all(x > 0)) * 2)
    for v in (np.array([1.0, 2.0]), np.array([1.0, -2.0]), np.array([0.0])):
        try:
            want = pf(v)
        except ValueError as e:
            with pytest.raises(ValueError, match=str(e)):
                f(v)
        else:
            np.testing.assert_array_equal(f(v), want)


# -- set_value of another dtype -------------------------------------------------------------------

#: (the variable's dtype, the value, whether PyTensor's TensorType.filter takes it without
#: allow_downcast): safe casts of arrays, exact conversions of untyped values
SET_VALUE_CASES = [
    ("float64", np.arange(3, dtype="int32"), True),
    ("float64", np.arange(3, dtype="int64"), True),
    ("float64", np.ones(3, "float32"), True),
    ("float64", np.array([True, False, True]), True),
    ("float32", np.arange(3, dtype="int16"), True),
    ("int64", np.arange(3, dtype="uint32"), True),
    ("complex128", np.ones(3), True),
    ("float64", [1, 2, 3], True),
    ("float32", [1, 2, 3], True),
    ("int64", [1.0, 2.0, 3.0], True),
    ("float32", np.ones(3), False),
    ("float32", np.arange(3, dtype="int32"), False),
    ("int32", np.arange(3, dtype="int64"), False),
    ("int32", np.ones(3), False),
    ("int8", np.arange(3, dtype="uint8"), False),
    ("uint8", np.arange(3, dtype="int8"), False),
    ("bool", np.arange(3, dtype="int8"), False),
    ("int64", [1.5, 2.0, 3.0], False),
    ("float64", np.ones(3, "complex128"), False),
]


@pytest.mark.parametrize(("dtype", "value", "safe"), SET_VALUE_CASES)
def test_set_value_casts_what_loses_nothing(dtype: str, value, safe: bool) -> None:
    s = fc.shared(np.zeros(3, dtype), name="s")
    loose = fc.shared(np.zeros(3, dtype), name="loose", allow_downcast=True)
    if safe:
        s.set_value(value)
        got = s.get_value()
        assert got.dtype == dtype and np.array_equal(got, np.asarray(value).astype(dtype))
        return
    with pytest.raises(
        TypeError, match=rf"shared variable 's' holds {dtype} .* dtype {np.asarray(value).dtype}"
    ):
        s.set_value(value)
    assert np.array_equal(s.get_value(), np.zeros(3, dtype))  # the old value kept
    if np.asarray(value).dtype.kind == "c":
        with pytest.raises(TypeError, match=r"imaginary parts .* np.real"):
            loose.set_value(value)
        return
    loose.set_value(value)
    assert loose.get_value().dtype == dtype
    np.testing.assert_array_equal(loose.get_value(), np.asarray(value).astype(dtype))


def test_set_value_keeps_strict_ndim_and_floatx_rules() -> None:
    w = fc.shared(np.zeros(3), name="w", strict=True)
    with pytest.raises(TypeError, match="is strict"):
        w.set_value(np.arange(3, dtype="int32"))
    v = fc.shared(np.zeros(3), name="v")
    with pytest.raises(
        TypeError, match="holds float64 with 1 dims; cannot set a value of dtype int32 with 2"
    ):
        v.set_value(np.zeros((1, 3), "int32"))
    with fc.config.change_flags(floatX="float32"):
        lr = fc.shared(np.float32(0.1), name="lr")
        lr.set_value(0.05)  # a bare Python float sets a floatX variable, as in Theano
        assert lr.get_value().dtype == "float32"
    with pytest.raises(TypeError, match="holds float32"):
        lr.set_value(0.05)  # floatX float64: 0.05 does not convert exactly


def test_set_value_takes_what_pytensors_takes() -> None:
    pytensor = pytest.importorskip("pytensor")
    for dtype, value, safe in SET_VALUE_CASES:
        p = pytensor.shared(np.zeros(3, dtype))
        try:
            p.set_value(value)
            took = True
        except TypeError:
            took = False
        assert took == safe, (dtype, value)


# -- rebuild_strict=False -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_rebuild_strict_false_rebuilds_the_graph_on_the_new_dtype(mode: str) -> None:
    x, y, i = ft.fvector("x"), ft.dvector("y"), ft.lvector("i")
    out = ft.exp(x) * 2 + ft.max(x) + x.T[::-1] + ft.cast(x, "float32")
    v = np.array([0.5, 1.0, 2.5])
    want = np.exp(v) * 2 + v.max() + v[::-1] + v.astype("float32")
    with pytest.raises(TypeError, match="rebuild_strict=False"):  # the default keeps the key's type
        fc.function([y], out, givens={x: y}, mode=mode)
    f = fc.function([y], out, givens={x: y}, rebuild_strict=False, mode=mode)
    got = f(v)
    assert got.dtype == "float64"
    np.testing.assert_allclose(got, want, rtol=1e-7)  # float64 arithmetic: no float32 rounding
    g = fc.function([i], ft.exp(x) * 2, givens={x: i}, rebuild_strict=False, mode=mode)
    np.testing.assert_allclose(g(np.array([1, 2])), np.exp([1.0, 2.0]) * 2)
    assert fc.clone_replace(out, {x: y}, rebuild_strict=False).dtype == "float64"
    assert fc.clone_replace(ft.exp(x), {x: ft.dmatrix("m")}, rebuild_strict=False).type.ndim == 2
    assert fc.clone(ft.exp(x), {x: y}, strict=False).dtype == "float64"
    # an update rebuilt on float64 for a float32 variable is cast, as any update of its kind
    w = fc.shared(np.zeros(3, "float32"), name="w")
    h = fc.function([y], x * 2, givens={x: y}, updates={w: w + x}, rebuild_strict=False, mode=mode)
    np.testing.assert_array_equal(h(v), v * 2)
    assert w.get_value().dtype == "float32" and np.array_equal(w.get_value(), v.astype("float32"))


def test_rebuild_strict_false_refuses_an_op_built_for_its_dtypes() -> None:
    x, y = ft.fvector("x"), ft.dvector("y")
    sorted_x = ft.sort(x)
    with pytest.raises(
        TypeError, match=r"rebuild_strict=False: .* cannot be rebuilt .* cast the replacement"
    ):
        fc.clone_replace(sorted_x * 2, {x: y}, rebuild_strict=False)
    with pytest.raises(TypeError, match=r"Sum\{axes=\[0\]\} was built for inputs"):  # axes of a vector
        fc.clone_replace(ft.sum(x, axis=0), {x: ft.dmatrix("m")}, rebuild_strict=False)
    with pytest.raises(TypeError, match="rebuild_strict must be True or False"):
        fc.clone_replace(x * 2, {x: y}, rebuild_strict="no")


def test_rebuild_strict_false_gives_pytensors_types_and_values() -> None:
    pytensor = pytest.importorskip("pytensor")
    from pytensor import tensor as pt

    v = np.array([0.25, 1.5, 3.0])
    built = []
    for lib, t, fn in ((pt, pt, pytensor.function), (ft, ft, fc.function)):
        x, y = t.fvector("x"), t.dvector("y")
        out = lib.exp(x) * 2 + lib.max(x) + x[::-1]
        f = fn([y], out, givens={x: y}, rebuild_strict=False)
        built.append(f(v))
    assert built[0].dtype == built[1].dtype == "float64"
    np.testing.assert_allclose(built[1], built[0], rtol=1e-12)


# -- DebugMode from several threads ---------------------------------------------------------------


class _WatchedProgram:
    """DebugMode's C program of the nodes, as its runner calls it, noting a call during which
    another thread changed how the program fills its output buffers (check_preallocated_output)."""

    def __init__(self, native) -> None:
        self.native = native
        self.fill = None
        self.clashes: list[tuple] = []

    def fill_outputs(self, byte) -> None:
        self.fill = byte
        self.native.fill_outputs(byte)

    def __call__(self, *args):
        before = self.fill
        time.sleep(0.002)  # other threads run meanwhile
        out = self.native(*args)
        time.sleep(0.002)
        if self.fill != before:
            self.clashes.append((before, self.fill))
        return out

    def __getattr__(self, name: str):
        return getattr(self.native, name)


@pytest.mark.parametrize("check_py_code", [True, False])
def test_debugmode_is_safe_to_call_from_several_threads(check_py_code: bool) -> None:
    x = ft.dvector("x")
    mode = fc.DebugMode(check_py_code=check_py_code, check_preallocated_output=["initial", "previous"])
    f = fc.function([x], ft.exp(x) * 2 + ft.sin(x).sum(), mode=mode)
    programs = f._runner.c_runner
    watched = programs.native = _WatchedProgram(programs.native)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        v = np.linspace(0, 1, 5000) + k
        try:
            for _ in range(4):
                np.testing.assert_allclose(f(v), np.exp(v) * 2 + np.sin(v).sum(), rtol=1e-12)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert not watched.clashes, (
        f"{len(watched.clashes)} runs had their buffers filled by another thread's check"
    )
    assert watched.fill is None  # the program is left filling nothing
