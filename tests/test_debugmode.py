"""``fc.DebugMode`` (both linkers, every node's outputs compared and checked) and
``fc.MonitorMode`` (the user's functions around each node), Theano's debugging modes."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import fncache as fc
import fncache.tensor as ft
from fncache.compile.debugmode import (
    BadDestroyMap,
    BadViewMap,
    BadThunkOutput,
    DebugMode,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
    StridesMismatch,
)
from fncache.compile.monitormode import MonitorMode
from fncache.graph.basic import Apply, Op

RNG = np.random.default_rng(7)


def _graphs() -> list[tuple[str, list[Any], Any, list[np.ndarray]]]:
    """(name, inputs, outputs, values): elementwise, reductions, dot, indexing, a scan."""
    x, y = ft.dmatrix("x"), ft.dvector("y")
    i = ft.lvector("i")
    xv, yv = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    ys, _ = fc.scan(lambda v, acc: acc * 0.5 + v, sequences=y, outputs_info=ft.constant(0.0))
    return [
        ("elementwise", [x, y], [ft.exp(x) * y + 1, ft.tanh(x - y) ** 2, (x > 0) * x], [xv, yv]),
        ("reductions", [x], [x.sum(axis=0), x.max(axis=1), x.mean(), ft.argmax(x, axis=0)], [xv]),
        ("dot", [x, y], [ft.dot(x, y), ft.dot(x.T, x)], [xv, yv]),
        (
            "indexing",
            [x, i],
            [x[1:, ::2], x[i], x[-1, 0], ft.set_subtensor(x[0], 7.0)],
            [xv, np.array([3, 0, 3])],
        ),
        ("scan", [y], ys, [yv]),
    ]


@pytest.mark.parametrize("case", range(5), ids=[g[0] for g in _graphs()])
def test_debug_mode_passes_and_returns_the_normal_modes_values(case: int) -> None:
    _, ins, outs, values = _graphs()[case]
    debug = fc.function(ins, outs, mode=DebugMode())
    assert debug.mode.linker.startswith("debug:")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        normal = fc.function(ins, outs, mode=mode)
        for got, want in zip(debug(*values), normal(*values)):
            # the numpy perform's values, which a fused multiply-add may move by an ulp
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
            assert np.asarray(got).dtype == np.asarray(want).dtype


def test_debug_mode_updates_shared_values() -> None:
    x = ft.dvector("x")
    w = fc.shared(np.zeros(2), "w")
    f = fc.function([x], (w * x).sum(), updates=[(w, w + x)], mode=DebugMode())
    assert f(np.array([1.0, 2.0])) == 0.0
    assert f(np.array([1.0, 2.0])) == 5.0
    np.testing.assert_array_equal(w.get_value(), [2.0, 4.0])


def test_debug_mode_by_its_theano_names_and_its_own_cache_entry() -> None:
    x = ft.dvector("x")
    normal = fc.function([x], ft.exp(x) + 1)
    for name in ("DebugMode", "DEBUG_MODE"):
        f = fc.function([x], ft.exp(x) + 1, mode=name)
        assert f.mode == DebugMode() and f.mode.device == "cpu"
        # another function key: what the debug mode stores is never the normal mode's hit
        assert f.cache_key != normal.cache_key
        np.testing.assert_allclose(f(np.array([0.0, 1.0])), [2.0, np.e + 1])
    assert fc.function([x], ft.exp(x) + 1).cache_key == normal.cache_key
    with fc.config.change_flags(mode="DebugMode"):
        assert fc.function([x], x * 2).mode == DebugMode()
    with pytest.raises(ValueError, match="DebugMode: unknown linker 'vm2'"):
        DebugMode(linker="vm2")
    with pytest.raises(ValueError, match="'DebugMode'"):
        fc.function([x], x * 2, mode="DEBUG")
    # pickles keep the mode, and so its checks
    f = pickle.loads(pickle.dumps(fc.function([x], NoisyOp()(x), mode=DebugMode())))
    with pytest.raises(BadThunkOutput):
        f(np.ones(3))


class NoisyOp(Op):
    """An op whose perform is not deterministic: the C run-time, which runs it a second time on
    the same inputs, gets another value."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0] + np.random.default_rng().uniform(0.1, 1.0, inputs[0].shape)]


class ScaleInPlace(Op):
    """Writes into its input; ``destroys`` says whether it declares so."""

    __props__ = ("destroys",)

    def __init__(self, destroys: bool) -> None:
        self.destroys = destroys
        self.destroy_map = {0: [0]} if destroys else {}

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        x *= 2
        return [x]


class Reverse(Op):
    """Returns a view of its input; ``declares`` says whether its view_map says so."""

    __props__ = ("declares",)

    def __init__(self, declares: bool) -> None:
        self.declares = declares
        self.view_map = {0: [0]} if declares else {}

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0][::-1]]


class WrongOutput(Op):
    """Returns a value of another dtype or ndim than its node declares."""

    __props__ = ("how",)

    def __init__(self, how: str) -> None:
        self.how = how

    def make_node(self, x: Any) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        return [x.astype("float32") if self.how == "dtype" else (x + 0)[None]]


def test_a_disagreement_between_the_linkers_names_the_node() -> None:
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(NoisyOp()(x)) * 2, mode=DebugMode())
    with pytest.raises(BadThunkOutput) as info:
        f(np.arange(3.0))
    msg = str(info.value)
    assert "disagree on output 0 of NoisyOp" in msg
    assert "max abs difference" in msg and "rtol=1e-05, atol=1e-08" in msg
    assert "Inputs (dtype[shape]): float64[3]" in msg
    assert "test_debugmode.py" in msg  # the line that made the node
    assert "please report it" in msg
    assert isinstance(info.value, DebugModeError) and isinstance(info.value, AssertionError)
    # nothing is compared without check_c_code; the normal modes never run it twice
    np.testing.assert_array_less(
        np.arange(3.0), fc.function([x], NoisyOp()(x), mode=DebugMode(check_c_code=False))(np.arange(3.0))
    )
    fc.function([x], NoisyOp()(x))(np.arange(3.0))


class _Skewed:
    """A C runner whose values of ``op_name``'s node are changed by ``change``: a stand-in for a
    C kernel that disagrees with its op's perform."""

    def __init__(self, real: Any, fgraph: Any, op_name: str, change: Any) -> None:
        self.real, self.nodes = real, real.nodes
        self.which = [k for k, v in enumerate(fgraph.outputs) if str(v.owner.op).startswith(op_name)]
        self.change = change
        assert self.which, f"no {op_name} node in {fgraph}"

    def native(self, *args: Any) -> list:
        out = list(self.real.native(*args))
        for k in self.which:
            out[k] = self.change(out[k])
        return out

    def failed_node(self) -> Any:
        return self.real.failed_node()


def _skew(monkeypatch: pytest.MonkeyPatch, op_name: str, change: Any) -> None:
    from fncache.codegen import c_linker

    real = c_linker.build_c_runner
    monkeypatch.setattr(
        c_linker, "build_c_runner", lambda fg, *a, **kw: _Skewed(real(fg, *a, **kw), fg, op_name, change)
    )


@pytest.mark.parametrize(("factor", "caught"), [(1 + 1e-3, True), (1 + 1e-9, False)])
def test_a_c_value_past_the_tolerance_is_caught(
    monkeypatch: pytest.MonkeyPatch, factor: float, caught: bool
) -> None:
    _skew(monkeypatch, "Dot", lambda v: v * factor)
    x, y = ft.dmatrix("x"), ft.dvector("y")
    f = fc.function([x, y], ft.dot(x, y) + 1, mode=DebugMode())
    xv, yv = np.ones((2, 3)), np.arange(1.0, 4.0)
    if not caught:
        np.testing.assert_allclose(f(xv, yv), [7.0, 7.0])
        return
    with pytest.raises(BadThunkOutput, match=r"disagree on output 0 of Dot") as info:
        f(xv, yv)
    assert "max rel difference 0.001" in str(info.value)
    assert "Inputs (dtype[shape]): float64[2, 3], float64[3]" in str(info.value)


def test_integer_outputs_are_compared_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    _skew(monkeypatch, "ArgReduce", lambda v: v + 1)
    x = ft.dmatrix("x")
    f = fc.function([x], ft.argmax(x, axis=1) * 2, mode=DebugMode())
    with pytest.raises(
        BadThunkOutput,
        match=r"(?s)output 0 of ArgReduce.*first difference at index \(0,\): numpy perform 2, C run-time 3.*2 of 2 values differ \(int64: compared exactly\)",
    ):
        f(np.array([[0.0, 1.0, 5.0], [9.0, 0.0, 0.0]]))


def test_an_error_of_the_c_run_time_alone_is_a_debug_mode_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(v: np.ndarray) -> np.ndarray:
        raise FloatingPointError("overflow")

    _skew(monkeypatch, "Dot", fail)
    x = ft.dvector("x")
    f = fc.function([x], ft.dot(x, x), mode=DebugMode())
    with pytest.raises(
        DebugModeError, match="the C run-time raised FloatingPointError: overflow, where the numpy"
    ):
        f(np.ones(2))


def test_writing_into_an_undeclared_input_is_caught() -> None:
    x = ft.dvector("x")
    f = fc.function([x], ScaleInPlace(False)(x * 1.5) + 1, mode=DebugMode())
    with pytest.raises(BadDestroyMap, match=r"ScaleInPlace.*changed its input 0 .*destroy_map \(\{\}\)"):
        f(np.ones(2))
    # declared, it may: the values are those of the normal mode
    g = fc.function([x], ScaleInPlace(True)(x * 1.5) + 1, mode=DebugMode())
    np.testing.assert_allclose(g(np.ones(2)), [4.0, 4.0])


def test_an_undeclared_view_is_caught() -> None:
    x = ft.dvector("x")
    f = fc.function([x], Reverse(False)(ft.exp(x)) * 2, mode=DebugMode())
    with pytest.raises(
        BadViewMap, match=r"output 0 of Reverse\{False\} shares memory with its input 0 .*view_map \(\{\}\)"
    ):
        f(np.zeros(2))
    g = fc.function([x], Reverse(True)(ft.exp(x)) * 2, mode=DebugMode())
    np.testing.assert_allclose(g(np.array([0.0, 1.0])), [2 * np.e, 2.0])


@pytest.mark.parametrize(
    ("how", "why"), [("dtype", "dtype float32, not float64"), ("ndim", r"shape \(1, 2\), which does not fit")]
)
def test_an_output_of_the_wrong_type_is_caught(how: str, why: str) -> None:
    x = ft.dvector("x")
    f = fc.function([x], WrongOutput(how)(x), mode=DebugMode())
    with pytest.raises(
        InvalidValueError, match=rf"output 0 of WrongOutput.* is {why}.*declares TensorType\(float64"
    ):
        f(np.ones(2))


def test_check_isfinite() -> None:
    x = ft.dvector("x")
    with pytest.raises(InvalidValueError, match=r"output 0 of .*log.* is NaN \(check_isfinite\)"):
        fc.function([x], ft.log(x) * 2, mode=DebugMode())(np.array([-1.0]))
    quiet = fc.function([x], ft.log(x) * 2, mode=DebugMode(check_isfinite=False))
    assert np.isnan(quiet(np.array([-1.0]))[0])


def detect_nan(i: int, node: Apply, fn: Any) -> None:
    """Theano's documented ``MonitorMode`` example, with fncache's names."""
    for output in fn.outputs:
        if not isinstance(output[0], np.random.RandomState) and np.isnan(output[0]).any():
            print("*** NaN detected ***")
            fc.printing.debugprint(node)
            print("Inputs : %s" % [input[0] for input in fn.inputs])
            print("Outputs: %s" % [output[0] for output in fn.outputs])
            break


def test_monitor_mode_detect_nan_example(capsys: pytest.CaptureFixture[str]) -> None:
    x = ft.dscalar("x")
    f = fc.function([x], [ft.log(x) * x], mode=fc.compile.MonitorMode(post_func=detect_nan))
    f(0)  # log(0) * 0 = -inf * 0 = NaN
    out = capsys.readouterr().out
    assert "*** NaN detected ***" in out and "log" in out
    assert "Inputs : [array(0.)" in out and "Outputs: [array(nan)]" in out
    f(1.0)
    assert capsys.readouterr().out == ""


def test_monitor_mode_calls_around_each_node_and_in_a_scan() -> None:
    calls: list[tuple[str, int, Apply, list, list]] = []

    def pre(i: int, node: Apply, fn: Any) -> None:
        calls.append(("pre", i, node, [c[0] for c in fn.inputs], [c[0] for c in fn.outputs]))

    def post(i: int, node: Apply, fn: Any) -> None:
        calls.append(("post", i, node, [c[0] for c in fn.inputs], [c[0] for c in fn.outputs]))

    x = ft.dvector("x")
    mode = MonitorMode(pre_func=pre, post_func=post)
    f = fc.function([x], [x.sum(), ft.exp(x)], mode=mode)
    got = f(np.array([0.0, 1.0]))
    assert [c[:2] for c in calls] == [("pre", 0), ("post", 0), ("pre", 1), ("post", 1)]
    assert all(c[4] == [None] for c in calls if c[0] == "pre")
    # the nodes of the optimized graph, in order, with the values they read and give
    assert [c[2] for c in calls[::2]] == f.optimized_graph.toposort()
    for _, _, node, ins, outs in calls[1::2]:
        assert len(ins) == 1 and np.array_equal(ins[0], [0.0, 1.0])
        np.testing.assert_allclose(outs[0], got[f.optimized_graph.outputs.index(node.outputs[0])])

    # a value a function puts in a cell is the one used
    def double(i: int, node: Apply, fn: Any) -> None:
        fn.outputs[0][0] = fn.outputs[0][0] * 2

    assert fc.function([x], x.sum(), mode=MonitorMode(post_func=double))(np.array([1.0, 2.0])) == 6.0
    # the inner function of a scan calls them too: once per step
    seen: list[int] = []
    ys, _ = fc.scan(lambda v, acc: acc + v, sequences=x, outputs_info=ft.constant(0.0))
    g = fc.function([x], ys[-1], mode=MonitorMode(post_func=lambda i, node, fn: seen.append(i)))
    assert g(np.array([1.0, 2.0, 3.0])) == 6.0
    assert len(seen) > 3
    with pytest.raises(TypeError, match="compiled under MonitorMode, whose pre_func/post_func a pickle"):
        pickle.dumps(f)
    assert mode.including("fusion").post_func is post and mode.excluding("fusion").pre_func is pre
    with pytest.raises(TypeError, match="MonitorMode: post_func must be a function"):
        MonitorMode(post_func=3)
    with pytest.raises(ValueError, match="MonitorMode: unknown linker 'c'"):
        MonitorMode(linker="c")


def test_theano_places() -> None:
    import fncache.compile.debugmode as dm
    import fncache.compile.monitormode as mm

    assert dm.DebugMode is fc.DebugMode is fc.compile.DebugMode
    assert mm.MonitorMode is fc.MonitorMode is fc.compile.MonitorMode
    for cls in (
        dm.BadThunkOutput,
        dm.BadDestroyMap,
        dm.BadViewMap,
        dm.InvalidValueError,
        dm.StridesMismatch,
        dm.StochasticOrder,
    ):
        assert issubclass(cls, fc.errors.DebugModeError)


def test_theano_keywords_are_part_of_the_mode_and_its_cache_key() -> None:
    x = ft.dvector("x")
    plain = DebugMode()
    assert DebugMode(check_py_code=True, stability_patience=1, require_matching_strides=0) == plain
    assert DebugMode(check_c_code=None, check_isfinite=None) == plain
    for mode in (
        DebugMode(require_matching_strides=1),
        DebugMode(require_matching_strides=2),
        DebugMode(stability_patience=3),
    ):
        assert mode != plain and pickle.loads(pickle.dumps(mode)) == mode
        assert fc.Mode(mode.linker) == fc.Mode(mode.linker)  # the linker string alone says it
        keys = {fc.function([x], ft.exp(x), mode=m).cache_key for m in (mode, plain, "FAST_RUN")}
        assert len(keys) == 3
    assert DebugMode(stability_patience=12).linker == "debug:cf12"
    with pytest.raises(ValueError, match="unknown linker 'debug:sw'"):
        fc.Mode("debug:sw")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"require_matching_strides": 3},
            r"require_matching_strides must be 0 \(no check\), 1 \(warn\) or 2",
        ),
        ({"stability_patience": 0}, "stability_patience must be a positive int, got 0"),
        (
            {"check_preallocated_output": ["previous", "fortran"]},
            r"unknown check_preallocated_output \['fortran'\]; expected some of initial, previous",
        ),
        (
            {"check_py_code": False, "check_c_code": False},
            r"check_c_code=False and check_py_code=False leave nothing to run",
        ),
        ({"check_preallocated_output": "ALL:bogus"}, r"unknown check_preallocated_output \['bogus'\]"),
    ],
)
def test_bad_values_of_theano_keywords_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DebugMode(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"require_matching_strides": True}, "require_matching_strides must be a non-negative int, got True"),
        ({"stability_patience": 2.5}, r"stability_patience must be a positive int, got 2.5.*how many times"),
    ],
)
def test_theano_keywords_of_another_type_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        DebugMode(**kwargs)


def test_require_matching_strides(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # the C run-time gives the values perform gives, laid out in Fortran order
    _skew(monkeypatch, "Dot", np.asfortranarray)
    x, w = ft.dmatrix("x"), ft.dmatrix("w")
    xv, wv = np.arange(6.0).reshape(2, 3), np.arange(9.0).reshape(3, 3)
    want = xv @ wv + 1
    np.testing.assert_allclose(fc.function([x, w], ft.dot(x, w) + 1, mode=DebugMode())(xv, wv), want)
    with pytest.raises(
        StridesMismatch,
        match=r"stride mismatch on output 0 of Dot.*shape \(2, 3\): numpy perform strides \(24, 8\), C run-time strides \(8, 16\)",
    ) as info:
        fc.function([x, w], ft.dot(x, w) + 1, mode=DebugMode(require_matching_strides=2))(xv, wv)
    assert isinstance(info.value, TypeError) and isinstance(info.value, DebugModeError)
    with caplog.at_level("WARNING", logger="fncache.runtime.linker_debug"):
        got = fc.function([x, w], ft.dot(x, w) + 1, mode=DebugMode(require_matching_strides=1))(xv, wv)
    np.testing.assert_allclose(got, want)
    assert "stride mismatch on output 0 of Dot" in caplog.text
    # a (2, 1) output has no layout along its length-1 axis, and a transpose (a declared view)
    # comes back from the C program as a copy of its own: nothing to raise about
    got = fc.function([x, w], ft.dot(x, w[:, :1]) + x.T[0], mode=DebugMode(require_matching_strides=2))(
        xv, wv
    )
    np.testing.assert_allclose(got, xv @ wv[:, :1] + xv.T[0])


def test_stability_patience(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from fncache.runtime import compile as compile_mod

    x = ft.dvector("x")
    graph = ft.exp(x) * 2 + ft.log1p(x).sum()
    calls: list[str] = []
    real = compile_mod.optimize_graph

    def counted(original: Any, mode: Any) -> Any:
        out = real(original, mode)
        calls.append(fc.graph.serialize.graph_signature(out))
        return out

    monkeypatch.setattr(compile_mod, "optimize_graph", counted)
    # a compiledir of its own: a hit is not optimized again
    with fc.config.change_flags(compiledir=str(tmp_path)):
        f = fc.function([x], graph, mode=DebugMode(stability_patience=4))
    # fncache's optimizer is deterministic: four optimizations, one optimized graph
    assert len(calls) == 4 and len(set(calls)) == 1
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [2.0, 2 * np.e] + np.log1p([0.0, 1.0]).sum())

    # an optimizer whose result changes from one run to the next is caught
    flips = iter(range(100))

    def unstable(original: Any, mode: Any) -> Any:
        out = real(original, mode)
        if next(flips) % 2:
            return real(fc.graph.fgraph.FunctionGraph(*_exp_then_neg(original)), mode)
        return out

    monkeypatch.setattr(compile_mod, "optimize_graph", unstable)
    with pytest.raises(
        StochasticOrder,
        match=r"optimization 2 of 3 of one graph gave another optimized graph.*first different node, at position 0: Composite\{exp,mul\}, then Composite\{exp,neg,mul\}",
    ):
        fc.function([x], ft.exp(x) * 3, mode=DebugMode(stability_patience=3))


def _exp_then_neg(original: Any) -> tuple[list[Any], list[Any]]:
    """Inputs and outputs of another graph over ``original``'s first input."""
    v = original.inputs[0].type()
    return [v], [-ft.exp(v) * 3]


def test_theano_keywords_as_linker_flags(caplog: pytest.LogCaptureFixture) -> None:
    import fncache.mode

    assert DebugMode(check_py_code=False).linker == "debug:cnf"
    assert DebugMode(check_preallocated_output="ALL").linker == "debug:cfip"
    assert DebugMode(check_preallocated_output=["previous"]).linker == "debug:cfp"
    assert (
        DebugMode(check_py_code=False, check_preallocated_output="initial:c_contiguous").linker
        == "debug:cnfi"
    )
    assert DebugMode(check_preallocated_output="ALL", stability_patience=2).linker == "debug:cfip2"
    for mode in (DebugMode(check_py_code=False), DebugMode(check_preallocated_output="ALL")):
        assert mode != DebugMode() and pickle.loads(pickle.dumps(mode)) == mode
    # the layouts and sizes the C run-time never hands a step check nothing more, and say so once
    fncache.mode._note_preallocated.cache_clear()
    with caplog.at_level("WARNING", logger="fncache.mode"):
        mode = DebugMode(check_preallocated_output=["c_contiguous", "f_contiguous", "strided", "wrong_size"])
        DebugMode(check_preallocated_output=["c_contiguous", "f_contiguous", "strided", "wrong_size"])
        quiet = DebugMode(check_preallocated_output=["initial", "strided"])
    assert caplog.text.count("checks nothing") == 1
    assert "allocates every output itself, C-contiguous and of its exact shape" in caplog.text
    assert mode == DebugMode() and quiet.linker == "debug:cfi"
    caplog.clear()
    with caplog.at_level("WARNING", logger="fncache.mode"):
        no_c = DebugMode(check_c_code=False, check_preallocated_output="ALL")
    assert no_c == DebugMode(check_c_code=False) and "check_c_code=False leaves out" in caplog.text
    with pytest.raises(TypeError, match="check_preallocated_output must be a list of names"):
        DebugMode(check_preallocated_output=3)


def _kernels_writing(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """Make every flat elementwise kernel read its output buffer before writing it: "zero"
    writes ``0 * out + value`` (right on any buffer but one holding NaN or infinities), "acc"
    ``out += value`` (right on a zeroed buffer only); or, "double", write ``2 * value``."""
    from fncache.codegen import c_nodes

    real = c_nodes._flat_loop

    def loop(*args: Any) -> list[str]:
        lines = real(*args)
        for k, line in enumerate(lines):
            target, eq, value = line.partition(" = ")
            if target.strip().startswith("po") and target.strip().endswith("[i]") and eq:
                lines[k] = {
                    "zero": f"{target} = 0 * {target.strip()} + {value}",
                    "acc": f"{target} += {value}",
                    "double": f"{target} = 2 * ({value[:-1]});",
                }[how]
        assert any(line.startswith("  po0[i]") and line != real(*args)[k] for k, line in enumerate(lines))
        return lines

    monkeypatch.setattr(c_nodes, "_flat_loop", loop)


@pytest.mark.parametrize("py_code", [True, False], ids=["perform", "no-perform"])
@pytest.mark.parametrize(
    ("how", "caught_by"),
    [("zero", {"initial"}), ("acc", {"initial", "previous"})],
)
def test_check_preallocated_output_catches_a_kernel_reading_its_output(
    monkeypatch: pytest.MonkeyPatch, how: str, caught_by: set[str], py_code: bool
) -> None:
    _kernels_writing(monkeypatch, how)
    x = ft.dvector("x")
    xv = np.linspace(-1.0, 1.0, 37)
    want = np.exp(xv) * 2 + 1
    for name in ("previous", "initial"):
        f = fc.function(
            [x], ft.exp(x) * 2 + 1, mode=DebugMode(check_py_code=py_code, check_preallocated_output=[name])
        )
        if name not in caught_by:
            # the first run's buffers are zeroed and the previous outputs are finite: both pass
            np.testing.assert_allclose(f(xv), want)
            np.testing.assert_allclose(f(xv), want)
            continue
        ref = "numpy perform" if py_code else "first C run"
        with pytest.raises(
            BadThunkOutput,
            match=rf"(?s)with check_preallocated_output='{name}' \(.*output 0 of Composite\{{exp,mul,add\}}.*{ref} .*reads that buffer before writing it",
        ) as info:
            f(xv)
            f(xv)  # "previous": the buffers of the call before
        got = "NaN" if name == "initial" else str(want[0] * 2)[:6]
        assert got in str(info.value)


def _step_graph() -> tuple[str, list[Any], list[Any], list[Any]]:
    """A graph of the run-time's own steps (those that allocate their outputs themselves)."""
    x, n, m = ft.dvector("x"), ft.lscalar("n"), ft.dmatrix("m")
    outs = [
        ft.alloc(x[0], n, 3),
        ft.arange(n),
        ft.tile(x, (2,)),
        ft.sort(x),
        ft.argsort(x),
        ft.grad(ft.sort(x)[0] * 3, x),
        ft.cumsum(x),
        ft.concatenate([x, x]),
        ft.stack([x[0], x[1]]),
        ft.repeat(x, 2),
        ft.eye(n),
        m[[0, 1]],
        ft.tensordot(m, m, axes=[[1], [0]]),
    ]
    return ("run-time steps", [x, n, m], outs, [np.array([3.0, 1.0, 2.0]), 3, np.arange(9.0).reshape(3, 3)])


@pytest.mark.parametrize("case", range(6), ids=[g[0] for g in _graphs()] + ["steps"])
def test_correct_graphs_pass_every_check(case: int) -> None:
    _, ins, outs, values = (_graphs() + [_step_graph()])[case]
    normal = fc.function(ins, outs)(*values)
    for mode in (
        DebugMode(check_preallocated_output="ALL", require_matching_strides=2),
        DebugMode(check_py_code=False, check_preallocated_output="ALL"),
    ):
        f = fc.function(ins, outs, mode=mode)
        for _ in range(2):
            for got, want in zip(f(*values), normal):
                np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
                assert np.asarray(got).dtype == np.asarray(want).dtype


def test_check_py_code_false_runs_the_c_code_twice() -> None:
    x = ft.dvector("x")
    mode = DebugMode(check_py_code=False)
    # an op whose values change from one run to the next: the two C runs disagree
    with pytest.raises(
        BadThunkOutput,
        match=r"(?s)two runs of the C run-time \(the whole graph, then each node alone\) disagree on output 0 of NoisyOp.*first C run: .*second C run: ",
    ):
        fc.function([x], ft.exp(NoisyOp()(x)) * 2, mode=mode)(np.arange(3.0))
    # the numpy perform never runs: a kernel that disagrees with it is not seen ...
    assert fc.function([x], NoisyOp()(x), mode=DebugMode(check_c_code=False))(np.zeros(2)).shape == (2,)
    # ... but the C run-time's own values are checked: their types, NaN, inputs written into
    with pytest.raises(
        InvalidValueError, match=r"output 0 of .*log.* \(C run-time\) is NaN \(check_isfinite\)"
    ):
        fc.function([x], ft.log(x) * 2, mode=mode)(np.array([-1.0]))
    with pytest.raises(InvalidValueError, match=r"output 0 of WrongOutput.*\(C run-time\) is shape \(1, 2\)"):
        fc.function([x], WrongOutput("ndim")(x), mode=mode)(np.ones(2))
    with pytest.raises(
        BadDestroyMap, match=r"C run-time's step of ScaleInPlace\{False\} changed its input 0"
    ):
        fc.function([x], ScaleInPlace(False)(x * 1.5) + 1, mode=mode)(np.ones(2))
    # the values returned are the C run-time's
    # (a Python op that declares it destroys its input: the value it overwrote is not compared)
    declared = fc.function([x], ft.exp(x) + ScaleInPlace(True)(x * 1.5), mode=mode)
    np.testing.assert_allclose(declared(np.array([0.0, 1.0])), np.exp([0.0, 1.0]) + [0.0, 3.0])


def test_without_perform_a_steady_disagreement_is_not_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    # a kernel giving twice perform's value, the same on every run: only the comparison with
    # perform sees it, and check_py_code=False returns the C run-time's values
    _kernels_writing(monkeypatch, "double")
    x = ft.dvector("x")
    with pytest.raises(BadThunkOutput, match="the C run-time and the numpy perform disagree"):
        fc.function([x], ft.exp(x) * 2 + 1, mode=DebugMode())(np.zeros(2))
    got = fc.function([x], ft.exp(x) * 2 + 1, mode=DebugMode(check_py_code=False))(np.zeros(2))
    np.testing.assert_array_equal(got, [6.0, 6.0])


def test_fill_outputs_takes_a_byte() -> None:
    x = ft.dvector("x")
    native = fc.function([x], ft.exp(x) * 2)._native
    with pytest.raises(ValueError, match=r"fill_outputs: a byte \(0 to 255\) or None, got 256"):
        native.fill_outputs(256)
