"""fncache's own checks of the values its functions are given when they run (``check_value``):
each raises ArgumentValueError (a ValueError, and an AssertionError as Theano's Assert) whose
message names the function, the values given and the fix, with the C linker and the Python one;
the unsafe assert removal drops the removable ones, and the run-time's own checks of sizes and
indices then answer a bad value as numpy does (the C linker's answer is the Python linker's)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import ArgumentValueError
from fncache.tensor.pyop import ArgumentCheck

x, y, m, k, s = ft.dvector("x"), ft.dvector("y"), ft.dmatrix("m"), ft.lscalar("k"), ft.lvector("s")


def _scan_steps() -> Any:
    return fc.scan(lambda r: r * 2, sequences=[x], n_steps=k)[0]


def _scan_taps() -> Any:
    return fc.scan(lambda a, b: a + b, outputs_info=[dict(initial=m, taps=[-2, -1])], n_steps=3)[0]


#: name: (inputs, the output, bad values, what the message says)
SITES: dict[str, tuple[list, Callable[[], Any], list, str]] = {
    "topk_int": (
        [x],
        lambda: ft.topk(x, 3),
        [np.arange(2.0)],
        r"topk: kth=3 asks for 3 .* holds 2; give \|kth\| <= 2",
    ),
    "topk_symbolic": (
        [x, k],
        lambda: ft.topk(x, k),
        [np.arange(2.0), 5],
        r"topk: .* the 2 elements .* got 5; give",
    ),
    "split": (
        [x, s],
        lambda: ft.split(x, s, 2)[1],
        [np.arange(5.0), np.array([2, 4])],
        r"split: the sizes \[2, 4\] .* length 5 .*; give",
    ),
    "einsum_diagonal": (
        [m],
        lambda: ft.einsum("ii->i", m),
        [np.ones((2, 3))],
        r"einsum: .* sizes 2 and 3 .*needs",
    ),
    "einsum_sizes": (
        [x, y],
        lambda: ft.einsum("i,i->", x, y),
        [np.ones(2), np.ones(3)],
        r"einsum: subscript 'i' has sizes 2, 3 .* must be equal or 1",
    ),
    "specify_shape": (
        [x, k],
        lambda: ft.specify_shape(x, (k,)) * 2,
        [np.ones(2), 5],
        r"specify_shape: the value's sizes \[2\] .* declared sizes \[5\]; give",
    ),
    "tile": (
        [x, k],
        lambda: ft.tile(x, (k,)),
        [np.ones(2), -1],
        r"tile: reps must be non-negative, got \[-1\]; give",
    ),
    "size_arg": (
        [k],
        lambda: ft.linspace(0, 1, k),
        [-2],
        r"linspace: num must be a non-negative int, got -2",
    ),
    "scan_negative_steps": (
        [x, k],
        _scan_steps,
        [np.ones(4), -1],
        r"scan: n_steps is -1; scan runs a non-negative",
    ),
    "scan_too_many_steps": (
        [x, k],
        _scan_steps,
        [np.ones(4), 6],
        r"scan: n_steps is 6 but sequences\[0\] has 4 rows: enough for 4 steps; give n_steps <= 4",
    ),
    "scan_initial_rows": (
        [m],
        _scan_taps,
        [np.ones((3, 2))],
        r"scan: outputs_info\[0\] .* needs 2 leading rows .*got 3; give 2",
    ),
    "to_one_hot": (
        [s, k],
        lambda: ft.to_one_hot(s, k),
        [np.array([0, 3]), 2],
        r"to_one_hot: .* outside \[0, nb_class\) = \[0, 2\), y = \[0, 3\]; give",
    ),
    "categorical_crossentropy": (
        [m, s],
        lambda: ft.nnet.categorical_crossentropy(m, s),
        [np.full((2, 3), 1 / 3), np.array([0, 3])],
        r"categorical_crossentropy: .* outside \[0, n_classes\) = \[0, 3\), true_dist = \[0, 3\]; give",
    ),
    "choose": (
        [s, x, y],
        lambda: ft.choose(s, [x, y]),
        [np.array([0, 2]), np.ones(2), np.zeros(2)],
        r"choose: an index of a is outside \[0, 2\), a = \[0, 2\]; give",
    ),
    "quantile": (
        [x, y],
        lambda: ft.quantile(x, y),
        [np.arange(4.0), np.array([0.5, 1.5])],
        r"quantile: q must be in the range \[0, 1\], got \[0.5, 1.5\]; give",
    ),
    "cov_weights": (
        [m, s],
        lambda: ft.cov(m, fweights=s),
        [np.ones((2, 3)), np.array([1, -1, 1])],
        r"cov: fweights must be non-negative, one per observation: got \[1, -1, 1\] for 3 observations",
    ),
    "convolve": (
        [x, y],
        lambda: ft.convolve(x, y),
        [np.ones(0), np.ones(2)],
        r"convolve: the signals must not be empty, got shapes \[0\] and \[2\]; give",
    ),
    "digitize": (
        [x, y],
        lambda: ft.digitize(x, y),
        [np.ones(2), np.arange(20.0) % 3],
        r"digitize: bins must be monotonically .*, got \[0\., 1\., 2\., \.\.\., 2\., 0\., 1\.\]; sort",
    ),
    "geomspace": (
        [k],
        lambda: ft.geomspace(k, 10, 3),
        [0],
        r"geomspace: start or stop is 0 \(start=0\.0, stop=10\.0\), .*; give non-zero ends",
    ),
}

#: the checks the unsafe removal keeps (README, Errors)
KEPT = {"specify_shape"}

#: the values that, once their check is dropped, reach a step reading memory at them (a size, an
#: index, a count of rows or of elements); the others only change what a result means
READ_MEMORY_AT = {
    *("topk_int", "topk_symbolic", "split", "einsum_diagonal", "einsum_sizes", "tile", "size_arg"),
    *("scan_negative_steps", "scan_too_many_steps", "scan_initial_rows", "to_one_hot"),
    *("categorical_crossentropy", "choose", "convolve"),
}

MODES = {"c": lambda: fc.Mode(), "py": lambda: fc.Mode(linker="py", optimizer="fast_compile")}


def _run(name: str, mode: Any) -> Any:
    ins, build, bad, _ = SITES[name]
    f = fc.function(ins, build(), mode=mode)
    return f, (lambda: f(*bad))


@pytest.mark.parametrize("linker", sorted(MODES))
@pytest.mark.parametrize("name", sorted(SITES))
def test_a_bad_value_raises_argument_value_error_naming_it(name: str, linker: str) -> None:
    _, call = _run(name, MODES[linker]() if linker == "c" else "FAST_COMPILE")
    with pytest.raises(ArgumentValueError, match=SITES[name][3]) as caught:
        call()
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, AssertionError)


def _outcome(call: Callable[[], Any]) -> tuple:
    try:
        return ("value", np.asarray(call()))
    except (ValueError, IndexError) as e:
        return ("error", type(e))


@pytest.mark.parametrize("name", sorted(SITES))
def test_the_unsafe_removal_drops_removable_checks_and_memory_stays_guarded(name: str) -> None:
    outcomes = {}
    for linker in ("c", "py") if name in READ_MEMORY_AT else ("py",):
        f, call = _run(name, MODES[linker]().including("local_remove_all_assert"))
        checks = [n for n in f.optimized_graph.toposort() if isinstance(n.op, ArgumentCheck)]
        if name in KEPT:
            assert checks and not any(n.op.removable for n in checks)
            with pytest.raises(ArgumentValueError):
                call()
            return
        assert not checks, f"{name}: {[str(n.op) for n in checks]} left by the removal"
        outcomes[linker] = _outcome(call)
    if name not in READ_MEMORY_AT:
        return
    # a dropped check is answered by the step that reads memory at the value (an error), or the
    # result of the values as given: a C step trusting the value would read past the arrays
    (kind_c, got_c), (kind_py, got_py) = outcomes["c"], outcomes["py"]
    assert kind_c == kind_py, outcomes
    if kind_c == "error":
        assert not issubclass(got_c, ArgumentValueError)
    else:
        np.testing.assert_allclose(got_c, got_py, rtol=1e-12, equal_nan=True)
