"""The updates a ``scan`` step makes (fn's updates dict or pairs, and the ``default_update`` of
a shared variable fn reads) follow ``fc.function``'s rule for updates
(tests/test_compat_downcast_updates.py): another number of dimensions or kind of dtype refused
when the loop is built, another dtype of the kind cast to the variable's, a size contradicting
one the variable declares refused then, an unknown one checked when the function runs. A
refused update leaves the shared variable's value as it was. Values against numpy loops."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

MODES = ["FAST_RUN", "FAST_COMPILE"]
KINDS = ["updates", "default_update"]
M, ROW = np.ones((2, 3)), np.ones((1, 3))


def _cases(T: Any) -> dict[str, tuple[tuple[int | None, ...] | None, Callable[[Any, Any], Any], bool]]:
    """name -> (the shared variable's declared shape, its new value from (itself, m), whether
    the step reads the input m)."""
    return {
        "(1,?) <- (?,?), 1 row": ((1, None), lambda s, m: s + m, True),
        "(1,?) <- (?,?), 2 rows": ((1, None), lambda s, m: s + m, True),
        "(1,3) <- (?,?), 2 rows": ((1, 3), lambda s, m: s + m, True),
        "(1,?) <- (2,?)": ((1, None), lambda s, m: T.specify_shape(s + m, (2, None)), True),
        "(?,?) <- vector": (None, lambda s, m: s.sum(0), False),
        "float64 <- float32": (None, lambda s, m: T.cast(s + 1, "float32"), False),
        "float64 <- int64": (None, lambda s, m: T.cast(s + 1, "int64"), False),
        "(?,?) <- (1,?)": (None, lambda s, m: T.specify_shape(s + 1, (1, None)), False),
        "(?,?) <- (2,3)": (None, lambda s, m: T.specify_shape(s + m, (2, 3)), True),
    }


#: "build" (refused when the loop or the function is built), "run" (the call raises), "taken";
#: PyTensor 3.0.7's answer, then fncache's where it differs on purpose (as for fc.function's
#: updates: another dtype of the kind cast, a more specific static shape taken).
UPDATES = {
    "(1,?) <- (?,?), 1 row": ("taken", None),
    "(1,?) <- (?,?), 2 rows": ("run", None),
    "(1,3) <- (?,?), 2 rows": ("run", None),
    "(1,?) <- (2,?)": ("build", None),
    "(?,?) <- vector": ("build", None),
    "float64 <- float32": ("build", "taken"),
    "float64 <- int64": ("build", "taken"),
    "(?,?) <- (1,?)": ("build", "taken"),
    # fc.function takes it; a loop's state keeps its shape from step to step
    "(?,?) <- (2,3)": ("run", None),
}


def _outcomes(lib: Any, T: Any, kind: str, mode: str, names: list[str] | None = None) -> dict[str, str]:
    out = {}
    for name, (shape, new, reads_m) in _cases(T).items():
        if names is not None and name not in names:
            continue
        s = lib.shared(np.zeros((1, 3)), name="s", shape=shape)
        m = T.matrix("m")
        args = [M if "2" in name else ROW] if reads_m else []
        try:
            if kind == "default_update":
                s.default_update = new(s, m)
                res, upd = lib.scan(lambda s=s: s * 1, n_steps=2)
            else:  # m a non-sequence: PyTensor's loop reads no variable from fn's closure

                def step(m_t: Any = None, s: Any = s, new: Any = new) -> Any:
                    return s * 1, {s: new(s, m_t)}

                res, upd = lib.scan(step, non_sequences=[m] if reads_m else [], n_steps=2)
            f = lib.function([m] if reads_m else [], res, updates=upd, mode=mode)
        except (TypeError, ValueError, AssertionError):
            out[name] = "build"
            continue
        try:
            f(*args)
            assert s.get_value().dtype == np.float64 and s.get_value().ndim == 2
            out[name] = "taken"
        except (ValueError, AssertionError):
            out[name] = "run"
            assert np.array_equal(s.get_value(), np.zeros((1, 3)))  # the old value kept
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_loops_updates_follow_the_functions_rule(kind: str, mode: str) -> None:
    """Before, fn's updates of a float32 or int64 value into a float64 variable were refused, a
    static size contradicting the variable's was found only by the loop (an error naming an
    output of the Scan, not the variable), and a default update read in the loop was not
    checked at all (a vector into a matrix variable raised in step 0)."""
    want = {name: fc_answer or pt_answer for name, (pt_answer, fc_answer) in UPDATES.items()}
    assert _outcomes(fc, ft, kind, mode) == want


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pytensor_still_answers_the_recorded_updates() -> None:
    """fn's updates only: PyTensor's loop reads a default update's variable as a value (its
    function updates it once per call, docs/porting.md)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    # the cases that raise, so no loop is compiled twice in a slow mode
    names = [n for n, (pt_answer, _) in UPDATES.items() if pt_answer != "taken"]
    want = {n: UPDATES[n][0] for n in names}
    assert _outcomes(pytensor, pt, "updates", "FAST_COMPILE", names) == want


def _numpy_loop(
    s0: np.ndarray, step: Callable[[np.ndarray], np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The values the loop's output (the variable at each step) stacks, and the last value."""
    rows, s = [], s0
    for _ in range(n):
        rows.append(s)
        s = step(s)
    return np.stack(rows), s


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_cast_update_matches_numpy(kind: str, mode: str) -> None:
    """A float32 update of a float64 variable is cast back at every step: each value is one
    float32 holds, the variable stays float64 (fn's update was refused)."""
    s0 = np.array([[0.1, 0.7, 2.3]])
    s = fc.shared(s0, name="s")
    w = ft.vector("w")
    new = ft.cast(s * 1.5 + w, "float32")
    if kind == "default_update":
        s.default_update = new
        res, upd = fc.scan(lambda: s * 1, n_steps=4)
    else:
        res, upd = fc.scan(lambda: (s * 1, {s: new}), n_steps=4)
    f = fc.function([w], res, updates=upd, mode=mode)
    W = np.array([0.3, -0.1, 0.01])
    got = f(W)
    want, last = _numpy_loop(s0, lambda v: (v * 1.5 + W).astype(np.float32).astype(np.float64), 4)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.dtype == np.float64 and s.get_value().dtype == np.float64
    np.testing.assert_allclose(s.get_value(), last, rtol=1e-6)
    assert np.array_equal(s.get_value(), s.get_value().astype(np.float32))


@pytest.mark.parametrize("mode", MODES)
def test_a_bias_of_one_row_names_scan_the_variable_and_the_fix(mode: str) -> None:
    b0 = np.arange(4.0).reshape(1, 4)
    b = fc.shared(b0, name="b", broadcastable=(True, False))
    X = ft.matrix("X")
    res, upd = fc.scan(lambda x: (b.sum() + x.sum(), {b: b + x}), non_sequences=[X], n_steps=3)
    f = fc.function([X], res, updates=upd, mode=mode)
    with pytest.raises(
        ValueError, match=r"scan: fn's updates: b has static shape \(1, None\), its update.*give one of"
    ):
        f(np.ones((2, 4)))
    assert np.array_equal(b.get_value(), b0)  # the refused update stored nothing
    R = np.array([[0.5, -1.0, 2.0, 0.25]])
    want, last = _numpy_loop(b0, lambda v: v + R, 3)
    np.testing.assert_allclose(f(R), want.sum(axis=(1, 2)) + R.sum())
    np.testing.assert_allclose(b.get_value(), last)


def test_refused_when_built_names_scan_the_variable_and_the_fix() -> None:
    b = fc.shared(np.zeros((1, 4)), name="b", shape=(1, None))
    k = fc.shared(np.zeros(3, "int64"), name="k")
    with pytest.raises(
        TypeError,
        match=r"scan: fn's updates: b is a TensorType\(float64, \(1,\?\)\) \(2 dims\).*reshape or dimshuffle",
    ):
        fc.scan(lambda: {b: b.sum(0)}, n_steps=2)
    with pytest.raises(
        TypeError, match=r"scan: fn's updates: k is int64 but its update is float64; cast .*'int64'"
    ):
        fc.scan(lambda: {k: k * 0.5}, n_steps=2)
    b.default_update = ft.specify_shape(ft.concatenate([b, b]), (2, None))
    with pytest.raises(
        ValueError, match=r"scan: default_update: b has static shape \(1, None\), its update \(2, None\)"
    ):
        fc.scan(lambda: b * 1, n_steps=2)
