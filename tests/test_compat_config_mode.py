"""What a Theano or PyTensor script meets first when ported: every PyTensor config flag name is
known (fncache's flags work, the others are taken with one warning and change nothing, no cache
key among them), PyTensor's optimizer names are modes, ``f.maker.inputs`` and
``f.input_storage`` answer, and ``printing.debugprint``'s ``file`` contract. PyTensor's answers
are recorded here (CI has no PyTensor); one test compares the record with a live PyTensor."""

from __future__ import annotations

import functools
import io
import logging
import math

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import Config, foreign_flags_warnings
from fncache.mode import get_mode

INF = math.inf

#: PyTensor 3.0's config flags: the kind of each (its parameter class; enums with their
#: options) and its default where that is the same on every host.
PYTENSOR_FLAGS: dict[str, tuple[str, object]] = {
    "floatX": ("enum", "float64"),
    "warn_float64": ("enum", "ignore"),
    "cast_policy": ("enum", "custom"),
    "print_global_stats": ("bool", False),
    "unpickle_function": ("bool", True),
    "mode": ("other", "Mode"),
    "linker": ("enum", "auto"),
    "allow_gc": ("bool", True),
    "optimizer": ("enum", "o4"),
    "optimizer_verbose": ("bool", False),
    "optimizer_verbose_ignore": ("str", ""),
    "compiler_verbose": ("bool", False),
    "on_opt_error": ("enum", "warn"),
    "on_unused_input": ("enum", "raise"),
    "cxx": ("str", "host"),
    "gcc_version_str": ("str", "host"),
    "gcc__cxxflags": ("str", ""),
    "nocleanup": ("bool", False),
    "cmodule__warn_no_version": ("bool", False),
    "cmodule__remove_gxx_opt": ("bool", False),
    "cmodule__compilation_warning": ("bool", False),
    "cmodule__preload_cache": ("bool", False),
    "cmodule__age_thresh_use": ("int", 2073600),
    "cmodule__debug": ("bool", False),
    "compile__wait": ("int", 5),
    "compile__timeout": ("int", 120),
    "tensor__cmp_sloppy": ("int", 0),
    "lib__amdlibm": ("bool", False),
    "tensor__insert_inplace_optimizer_validate_nb": ("int", -1),
    "traceback__limit": ("int", 8),
    "traceback__compile_limit": ("int", 0),
    "warn__ignore_bug_before": ("enum", "0.9"),
    "exception_verbosity": ("enum", "low"),
    "check_input": ("bool", True),
    "NanGuardMode__nan_is_error": ("bool", True),
    "NanGuardMode__inf_is_error": ("bool", True),
    "NanGuardMode__big_is_error": ("bool", True),
    "NanGuardMode__action": ("enum", "raise"),
    "DebugMode__patience": ("int", 10),
    "DebugMode__check_c": ("bool", True),
    "DebugMode__check_py": ("bool", True),
    "DebugMode__check_finite": ("bool", True),
    "DebugMode__check_strides": ("int", 0),
    "DebugMode__warn_input_not_reused": ("bool", True),
    "DebugMode__check_preallocated_output": ("str", ""),
    "DebugMode__check_preallocated_output_ndim": ("int", 4),
    "profiling__time_thunks": ("bool", True),
    "profiling__n_apply": ("int", 20),
    "profiling__n_ops": ("int", 20),
    "profiling__output_line_width": ("int", 512),
    "profiling__min_memory_size": ("int", 1024),
    "profiling__min_peak_memory": ("bool", False),
    "profiling__destination": ("str", "stderr"),
    "profiling__debugprint": ("bool", False),
    "profiling__ignore_first_call": ("bool", False),
    "on_shape_error": ("enum", "warn"),
    "openmp": ("bool", False),
    "openmp_elemwise_minsize": ("int", 200000),
    "optimizer_excluding": ("str", ""),
    "optimizer_including": ("str", ""),
    "optimizer_requiring": ("str", ""),
    "optdb__position_cutoff": ("float", INF),
    "optdb__max_use_ratio": ("float", 8.0),
    "cycle_detection": ("enum", "regular"),
    "check_stack_trace": ("enum", "off"),
    "profile": ("bool", False),
    "profile_optimizer": ("bool", False),
    "profile_memory": ("bool", False),
    "vm__lazy": ("other", None),
    "numba__fastmath": ("bool", True),
    "numba__cache": ("bool", True),
    "compiledir_format": (
        "str",
        "compiledir_%(short_platform)s-%(processor)s-%(python_version)s-%(python_bitwidth)s",
    ),
    "base_compiledir": ("other", "host"),
    "compiledir": ("other", "host"),
    "blas__ldflags": ("str", "host"),
    "blas__check_openmp": ("bool", True),
    "scan__allow_gc": ("bool", False),
    "scan__allow_output_prealloc": ("bool", True),
}

#: The options of PyTensor's enum flags that fncache takes no other way (its own flags check
#: their own values).
PYTENSOR_ENUMS: dict[str, set[str]] = {
    "cast_policy": {"custom", "numpy+floatX"},
    "on_opt_error": {"warn", "raise", "pdb", "ignore"},
    "warn__ignore_bug_before": {
        *("None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8", "0.8.1", "0.8.2", "0.9"),
        *("0.10", "1.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5"),
    },
    "NanGuardMode__action": {"raise", "warn", "pdb"},
    "on_shape_error": {"warn", "raise"},
    "cycle_detection": {"regular", "fast"},
    "check_stack_trace": {"off", "log", "warn", "raise"},
    "optimizer": {"o4", "o3", "o2", "o1", "None", "merge", "fast_run", "fast_compile", "unsafe"},
}

#: Theano 1.0's config flags that PyTensor dropped (and Theano 0.9's ``nvcc.*``, ``lib.cnmem``,
#: ``cuda.enabled`` and ``enable_initial_driver_test``), as Theano's configdefaults.py declares
#: them: the kind of each and its default (``warn.*``'s as ``warn.ignore_bug_before=0.9`` makes it).
THEANO_FLAGS: dict[str, tuple[str, object]] = {
    "int_division": ("enum", "int"),
    "deterministic": ("enum", "default"),
    "init_gpu_device": ("other", ""),
    "force_device": ("bool", False),
    "print_active_device": ("bool", True),
    "enable_initial_driver_test": ("bool", True),
    "contexts": ("str", ""),
    "cuda__enabled": ("bool", True),
    "cuda__root": ("str", ""),
    "nvcc__flags": ("other", ""),
    "nvcc__compiler_bindir": ("str", ""),
    "nvcc__fastmath": ("bool", False),
    "lib__cnmem": ("float", 0.0),
    "gpuarray__preallocate": ("float", 0.0),
    "gpuarray__sched": ("enum", "default"),
    "gpuarray__single_stream": ("bool", True),
    "gpuarray__sync": ("bool", False),
    "gpuelemwise__sync": ("bool", True),
    "gpu__local_elemwise_fusion": ("bool", True),
    "tensor__local_elemwise_fusion": ("bool", True),
    "assert_no_cpu_op": ("enum", "ignore"),
    "dnn__enabled": ("enum", "auto"),
    "dnn__conv__algo_fwd": ("enum", "small"),
    "dnn__conv__algo_bwd_data": ("enum", "none"),
    "dnn__conv__algo_bwd_filter": ("enum", "none"),
    "dnn__conv__precision": ("enum", "as_input_f32"),
    "magma__enabled": ("bool", False),
    "magma__include_path": ("str", ""),
    "magma__library_path": ("str", ""),
    "ctc__root": ("str", ""),
    "conv__assert_shape": ("bool", False),
    "experimental__unpickle_gpu_on_cpu": ("bool", False),
    "experimental__local_alloc_elemwise_assert": ("bool", True),
    "compute_test_value_opt": ("enum", "off"),
    "cache_optimizations": ("bool", False),
    "metaopt__verbose": ("int", 0),
    "metaopt__optimizer_including": ("str", ""),
    "metaopt__optimizer_excluding": ("str", ""),
    "scan__debug": ("bool", False),
    "numpy__seterr_all": ("enum", "ignore"),
    "numpy__seterr_divide": ("enum", "None"),
    "numpy__seterr_over": ("enum", "None"),
    "numpy__seterr_under": ("enum", "None"),
    "numpy__seterr_invalid": ("enum", "None"),
    **dict.fromkeys(
        (
            *("warn__argmax_pushdown_bug", "warn__gpusum_01_011_0111_bug", "warn__sum_sum_bug"),
            *("warn__sum_div_dimshuffle_bug", "warn__subtensor_merge_bug", "warn__gpu_set_subtensor1"),
            *("warn__vm_gc_bug", "warn__signal_conv2d_interface", "warn__reduce_join"),
            *("warn__inc_set_subtensor1", "warn__identify_1pexp_bug"),
        ),
        ("bool", False),
    ),
    "warn__inc_subtensor1_opt": ("bool", True),
}

#: The options of Theano's enum flags above.
_SETERR = {"ignore", "warn", "raise", "call", "print", "log", "None"}
_CUDNN_RUNTIME = {"guess_once", "guess_on_shape_change", "time_once", "time_on_shape_change"}
THEANO_ENUMS: dict[str, set[str]] = {
    "int_division": {"int", "raise", "floatX"},
    "deterministic": {"default", "more"},
    "gpuarray__sched": {"default", "multi", "single"},
    "assert_no_cpu_op": {"ignore", "warn", "raise", "pdb"},
    "dnn__enabled": {"auto", "True", "False", "no_check"},
    "dnn__conv__algo_fwd": {"small", "none", "large", "fft", "fft_tiling", "winograd", "winograd_non_fused"}
    | _CUDNN_RUNTIME,
    "dnn__conv__algo_bwd_data": {
        "none",
        "deterministic",
        "fft",
        "fft_tiling",
        "winograd",
        "winograd_non_fused",
    }
    | _CUDNN_RUNTIME,
    "dnn__conv__algo_bwd_filter": {
        "none",
        "deterministic",
        "fft",
        "small",
        "winograd_non_fused",
        "fft_tiling",
    }
    | _CUDNN_RUNTIME,
    "dnn__conv__precision": {"as_input_f32", "as_input", "float16", "float32", "float64"},
    "compute_test_value_opt": {"off", "ignore", "warn", "raise", "pdb"},
    **dict.fromkeys((n for n in THEANO_FLAGS if n.startswith("numpy__seterr_")), _SETERR),
}

#: Every flag fncache knows of Theano's and PyTensor's, and the options of those that are enums.
KNOWN_FLAGS = {**PYTENSOR_FLAGS, **THEANO_FLAGS}
KNOWN_ENUMS = {**PYTENSOR_ENUMS, **THEANO_ENUMS}
#: Values a flag below takes where its kind's sample value is not one.
SAMPLE_VALUES = {
    "vm__lazy": ("True", True),
    "base_compiledir": ("/tmp/elsewhere", "/tmp/elsewhere"),
    "init_gpu_device": ("cuda0", "cuda0"),
    "nvcc__flags": ("-lineinfo  --machine=64", "-lineinfo --machine=64"),
}

#: Where fncache reads another value than PyTensor's default: fncache's own flags, and its
#: equivalents' defaults (fc.DebugMode optimizes each graph once; base_compiledir is unset:
#: fncache's root is compiledir).
FNCACHE_VALUES = {
    "mode": "FAST_RUN",
    "optimizer": "auto",
    "openmp": True,
    "cxx": "gcc",
    "optimizer_excluding": (),
    "optimizer_including": (),
    "DebugMode__patience": 1,
    "gcc_version_str": "",
    "base_compiledir": None,
    "blas__ldflags": "",
    "int_division": "floatX",  # what x / y of integers is here
}

FNCACHE_OWN = {
    *("floatX", "warn_float64", "mode", "linker", "allow_gc", "optimizer", "on_unused_input", "cxx"),
    *("gcc__cxxflags", "exception_verbosity", "openmp", "optimizer_excluding", "optimizer_including"),
    *("profile", "compiledir"),
}

#: PyTensor's optimizer names (``predefined_optimizers``) and what each is in fncache:
#: (optimizer, rewrite tags added, tags removed).
OPTIMIZERS = {
    "fast_run": ("fast_run", (), ()),
    "o4": ("fast_run", (), ()),
    "fast_run_stable": ("fast_run", (), ()),
    "stabilize": ("fast_run", (), ()),
    "o3": ("fast_run", (), ("inplace",)),
    "unsafe": ("fast_run", ("unsafe",), ("inplace",)),
    "fast_compile": ("fast_compile", (), ()),
    "o1": ("fast_compile", (), ()),
    "o2": ("fast_compile", ("fusion",), ()),
    "merge": (None, ("merge",), ()),
    "minimum_compile": (None, (), ()),
    "None": (None, (), ()),
}

#: The attributes of PyTensor's ``f.maker.inputs[i]`` (``In``) and ``f.input_storage[i]``
#: (``Container``) that a script reads, and which of them fncache's views have.
SYMBOLIC_INPUT_ATTRS = {"variable", "name", "value", "update", "implicit", "shared", "mutable", "strict"}
CONTAINER_ATTRS = {"data", "value", "name"}


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fncache.config"]


# -- config flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KNOWN_FLAGS))
def test_every_theano_and_pytensor_flag_reads_its_default_in_both_spellings(monkeypatch, name: str) -> None:
    monkeypatch.delenv("FNCACHE_FLAGS", raising=False)
    probe = Config()
    value = getattr(probe, name)
    assert getattr(probe, name.replace("__", ".")) == value
    # Theano's sections, nested too: config.traceback.limit, config.dnn.conv.algo_fwd
    assert functools.reduce(getattr, name.split("__"), probe) == value
    expected = FNCACHE_VALUES.get(name, KNOWN_FLAGS[name][1])
    if expected != "host":
        assert value == expected, (name, value, expected)


FOREIGN = sorted(set(KNOWN_FLAGS) - FNCACHE_OWN)


@pytest.mark.parametrize("name", FOREIGN)
def test_a_flag_fncache_lacks_is_taken_with_one_warning_and_changes_no_key(caplog, name: str) -> None:
    kind, _ = KNOWN_FLAGS[name]
    value, reads = {"bool": ("True", True), "int": ("3", 3), "float": ("2.5", 2.5), "str": ("x", "x")}.get(
        kind, (None, None)
    )
    if kind == "enum":
        value = reads = sorted(KNOWN_ENUMS[name])[-1]
    value, reads = SAMPLE_VALUES.get(name, (value, reads))
    x = ft.dvector("x")
    key_before, code_before = fc.function([x], ft.exp(x) + 7.5).cache_key, fc.config.code_flags()
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        with fc.config.change_flags(**{name: value}):
            said = _warnings(caplog)
            assert getattr(fc.config, name) == reads
            assert fc.config.code_flags() == code_before
            assert fc.function([x], ft.exp(x) + 7.5).cache_key == key_before
    assert len(said) == 1, said
    assert said[0].startswith(f"fncache: flag {name}=") and "changes nothing: " in said[0]
    assert getattr(fc.config, name) == getattr(Config(), name)  # restored


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("scan__allow_gc", "maybe", "expected True or False, got 'maybe'"),
        ("DebugMode__check_c", 2, "expected True or False"),
        ("traceback__limit", "1.5", "expected a whole number, got '1.5'"),
        ("traceback__limit", True, "expected a whole number, got True"),
        ("optdb__max_use_ratio", "nan", "expected a number"),
        ("openmp_elemwise_minsize", -1, "expected a whole number >= 0, got -1"),
        ("on_shape_error", "ignore", "expected one of warn, raise, got 'ignore'"),
        ("warn__ignore_bug_before", "2.0", "expected one of None, all"),
        ("vm__lazy", "sometimes", "expected True or False"),
        ("int_division", "float", "expected one of int, raise, floatX, got 'float'"),
        ("dnn__conv__algo_fwd", "deterministic", "expected one of small, none"),
        ("init_gpu_device", "gpu16", "expected '', cuda\\*, opencl\\*, gpu or gpu0...gpu15, got 'gpu16'"),
        ("nvcc__flags", "--machine 64", "expected options each starting with '-'"),
        ("lib__cnmem", -0.5, "expected a number >= 0, got -0.5"),
        ("gpuarray__preallocate", "most", "expected a number, got 'most'"),
    ],
)
def test_a_bad_value_of_such_a_flag_is_refused_naming_it(caplog, name: str, value, says: str) -> None:
    before = getattr(fc.config, name)
    with pytest.raises(ValueError, match=rf"bad value for flag '{name}': {says}"):
        setattr(fc.config, name, value)
    assert getattr(fc.config, name) == before and not _warnings(caplog)


@pytest.mark.parametrize(
    ("given", "nearest"),
    [
        ("traceback__limt", "traceback__limit"),
        ("scan.alow_gc", "scan__allow_gc"),
        ("optimiser", "optimizer"),
    ],
)
def test_a_misspelled_flag_names_the_nearest_of_all_known(given: str, nearest: str) -> None:
    with pytest.raises(AttributeError, match=rf"unknown flag '{given}'; .*did you mean '{nearest}'\?"):
        setattr(fc.config, given, 1)
    with pytest.raises(AttributeError, match="Theano's and PyTensor's others"):
        getattr(fc.config, given)
    with pytest.raises(
        AttributeError, match=r"unknown flag 'traceback.limt'; .*did you mean 'traceback__limit'\?"
    ):
        fc.config.traceback.limt = 3
    with pytest.raises(AttributeError, match=r"unknown flag 'tracebak'"):
        fc.config.tracebak.limit  # noqa: B018


def test_theanos_sections_set_their_flags(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        fc.config.traceback.limit = 3
        assert fc.config.traceback__limit == 3 and fc.config.traceback.limit == 3
        with fc.config.change_flags(gcc__cxxflags="-g"):
            assert fc.config.gcc.cxxflags == "-g"
        fc.config.traceback.limit = 8
    assert len(_warnings(caplog)) == 2


def test_such_flags_in_fncache_flags_are_taken_and_in_theano_flags_are_theanos(monkeypatch, caplog) -> None:
    monkeypatch.setenv("FNCACHE_FLAGS", "traceback.limit=-1,blas__ldflags=-lopenblas,optimizer=o1")
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        c = Config()
    assert c.traceback__limit == -1 and c.blas__ldflags == "-lopenblas" and c.optimizer == "o1"
    said = _warnings(caplog)
    monkeypatch.delenv("FNCACHE_FLAGS")
    assert len(said) == 2 and "traceback__limit=-1" in said[0] and "blas__ldflags" in said[1]
    # another library's variable: its flags fncache lacks are that library's, and its default
    # optimizer, o4, is fncache's FAST_RUN
    env = {"PYTENSOR_FLAGS": "traceback__limit=20,scan__allow_gc=True,optimizer=o4"}
    assert foreign_flags_warnings(Config(), env) == []
    assert "optimizer=o1" in foreign_flags_warnings(Config(), {"PYTENSOR_FLAGS": "optimizer=o1"})[0]


def test_theanos_gpu_flags_in_fncache_flags_are_taken_with_a_warning_each(monkeypatch, caplog) -> None:
    monkeypatch.setenv(
        "FNCACHE_FLAGS", "nvcc.fastmath=True,gpuarray.preallocate=0.8,dnn.conv.algo_bwd_filter=deterministic"
    )
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        c = Config()
    monkeypatch.delenv("FNCACHE_FLAGS")
    assert (c.nvcc.fastmath, c.gpuarray__preallocate, c.dnn.conv.algo_bwd_filter) == (
        True,
        0.8,
        "deterministic",
    )
    said = _warnings(caplog)
    assert [w.split("=")[0] for w in said] == [
        "fncache: flag nvcc__fastmath",
        "fncache: flag gpuarray__preallocate",
        "fncache: flag dnn__conv__algo_bwd_filter",
    ]
    assert "IEEE math" in said[0] and "caching pool" in said[1] and "no cuDNN" in said[2]


def test_int_division_reads_what_dividing_integers_does_here(caplog) -> None:
    a, b = ft.iscalar("a"), ft.iscalar("b")
    with fc.config.change_flags(floatX="float32"):
        assert (a / b).dtype == fc.config.floatX and (a // b).dtype == "int32"
    assert fc.function([a, b], a / b)(7, 2) == 3.5
    assert fc.config.int_division == "floatX"
    with caplog.at_level(logging.WARNING, logger="fncache.config"):
        with fc.config.change_flags(int_division="int"):
            assert fc.function([a, b], a / b)(7, 2) == 3.5  # changes nothing
    assert "x // y divides integers" in _warnings(caplog)[0]


def test_print_config_lists_fncaches_own_flags_only() -> None:
    printed = [line.split(" = ", 1)[0] for line in str(fc.config).splitlines()]
    assert "traceback__limit" not in printed and "floatX" in printed


# -- Mode(optimizer=...) --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_pytensors_optimizer_names_are_modes(name: str) -> None:
    optimizer, added, removed = OPTIMIZERS[name]
    for spelled in (name, name.upper()):
        m = fc.Mode(optimizer=spelled)
        assert (m.optimizer, m.included_tags, m.excluded_tags) == (optimizer, added, removed)
    with fc.config.change_flags(optimizer=name):
        m = get_mode("FAST_RUN")
        assert (m.optimizer, m.included_tags, m.excluded_tags) == (optimizer, added, removed)


def test_the_optimizers_compute_the_same_and_merge_only_merges() -> None:
    x = ft.dvector("x")
    out = ft.exp(x) * 2 + ft.exp(x) * 2
    v = np.linspace(-1, 1, 7)
    for name in OPTIMIZERS:
        f = fc.function([x], out, mode=fc.Mode(optimizer=name))
        np.testing.assert_allclose(f(v), 4 * np.exp(v), rtol=1e-15)
    ops = lambda name: [type(n.op).__name__ for n in fc.function([x], out, mode=name).maker.fgraph.toposort()]  # noqa: E731
    merged, none = ops(fc.Mode(optimizer="merge")), ops(fc.Mode(optimizer=None))
    assert len(merged) < len(none)  # the two exp(x) * 2 are one
    assert not any("Composite" in str(n) for n in merged)  # and nothing is fused


def test_an_unknown_optimizer_names_itself_and_the_accepted_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"Mode: unknown optimizer 'o5'; expected one of fast_run, fast_compile, None or PyTensor's o1, o2, o3, o4, unsafe, merge",
    ):
        fc.Mode(optimizer="o5")
    with pytest.raises(ValueError, match=r"bad value for flag 'optimizer': expected one of .*o4"):
        fc.config.optimizer = "o5"


# -- f.maker.inputs, f.input_storage ------------------------------------------------------------


def test_maker_inputs_and_input_storage_are_read_only_views() -> None:
    x, y, s = ft.dvector("x"), ft.dscalar("y"), ft.dscalar("s")
    w, b = fc.shared(np.ones(2), name="w"), fc.shared(0.5, name="b")
    f = fc.function(
        [x, fc.In(y, value=2.0), fc.In(s, value=1.0, update=s + 1)],
        (x * y * w).sum() + b + s,
        updates={w: w * 2},
    )
    ins = f.maker.inputs
    assert all(SYMBOLIC_INPUT_ATTRS <= set(dir(i)) for i in ins)
    assert [i.variable for i in ins[:3]] == [x, y, s] and {i.variable for i in ins[3:]} == {w, b}
    assert [i.name for i in ins[:3]] == ["x", "y", "s"] and [i.implicit for i in ins] == [False] * 3 + [
        True
    ] * 2
    assert [i.shared for i in ins] == [False] * 3 + [True] * 2
    assert ins[0].value is None and float(ins[1].value) == 2.0 and ins[2].update is not None
    by_var = {i.variable: i for i in ins}
    assert by_var[w].update is not None and by_var[b].update is None
    storage = f.input_storage
    assert len(storage) == len(ins) and all(CONTAINER_ATTRS <= set(dir(c)) for c in storage)
    f(np.ones(2))
    data = {i.variable: c.data for i, c in zip(f.maker.inputs, f.input_storage)}
    assert data[x] is None and float(data[y]) == 2.0 and float(data[s]) == 2.0
    np.testing.assert_array_equal(data[w], [2.0, 2.0])
    with pytest.raises(AttributeError, match=r"read-only view: set its default with f\['y'\] = value"):
        f.input_storage[1].data = 3.0
    storage[2].data = 5.0  # a state's container sets the state, as PyTensor's
    assert float(f["s"]) == 5.0
    with pytest.raises(AttributeError):
        ins[0].name = "z"  # a view: fc.In builds a function's inputs


# -- debugprint's file ------------------------------------------------------------------------------


def test_debugprint_file_contract(capsys) -> None:
    x = ft.dvector("x")
    y = ft.exp(x)
    text = fc.printing.debugprint(y, file="str")  # PyTensor's: the text, printed nowhere
    assert "Exp" in text or "exp" in text
    assert capsys.readouterr().out == ""
    fc.printing.debugprint(y)  # None: standard output, as PyTensor's
    assert capsys.readouterr().out.strip() == text.strip()
    buf = io.StringIO()
    fc.printing.debugprint(y, file=buf)
    assert buf.getvalue().strip() == text.strip()


# -- the record is PyTensor's -------------------------------------------------------------------------


def test_the_record_is_pytensors() -> None:
    pytensor = pytest.importorskip("pytensor")
    from pytensor.compile.mode import predefined_optimizers
    from pytensor.configparser import BoolParam, EnumStr, FloatParam, IntParam, StrParam

    kinds = {BoolParam: "bool", IntParam: "int", FloatParam: "float", StrParam: "str", EnumStr: "enum"}
    live = pytensor.config._config_var_dict
    assert set(live) == set(PYTENSOR_FLAGS)
    for name, param in live.items():
        kind, default = PYTENSOR_FLAGS[name]
        assert kinds.get(type(param), "other") == kind, name
        if default != "host":
            assert param.__get__(pytensor.config, type(pytensor.config)) == default, name
        if name in PYTENSOR_ENUMS:
            assert param.all == PYTENSOR_ENUMS[name], name
    assert set(OPTIMIZERS) == {k for k in predefined_optimizers if k is not None}
    x = pytensor.tensor.dvector("x")
    w = pytensor.shared(np.ones(2), name="w")
    f = pytensor.function([x], (x * w).sum(), updates={w: w * 2})
    assert all(SYMBOLIC_INPUT_ATTRS <= set(dir(i)) for i in f.maker.inputs)
    assert all(CONTAINER_ATTRS <= set(dir(c)) for c in f.input_storage)
    assert pytensor.printing.debugprint(x, file="str").startswith("x")


def test_the_flags_taken_and_changing_nothing_are_the_recorded_ones() -> None:
    from fncache.config import _FOREIGN_FLAGS

    assert set(_FOREIGN_FLAGS) == set(FOREIGN)


def test_porting_md_tells_what_each_such_flag_is_instead() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "porting.md").read_text(encoding="utf-8")
    missing = [name for name in FOREIGN if f"`{name}`" not in text]
    assert not missing, missing
