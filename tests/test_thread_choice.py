"""Which calls of a mid-size step run on threads: the run-time times whole calls on one thread
and on threads and runs each step the way that measured faster, trying the other way now and
then (c_steps.c, choose_threads). The estimates are set through the runner's internal
``thread_costs`` hook, so the choice these tests expect follows from the state before each call,
whatever this machine measures; which way a call ran shows in which estimate its time moved.
Every call gives the same bits whichever way it ran, and numpy's result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.signal import pool

PROBE_MIN_LOG, PROBE_MAX_LOG = 3, 7  # c_runtime.h: FC_PROBE_MIN_LOG, FC_PROBE_MAX_LOG
SLOW, FAST = 10**12, 10**10  # ps per element: far above anything a call measures


def _cases() -> dict[str, tuple[Callable, Callable, Callable]]:
    """name -> (build, inputs, numpy): steps of 200,000 to 250,000 elements, between the
    threading threshold (32768) and the size from which threads always run (524288)."""
    x, X, w, T = ft.dvector("x"), ft.dmatrix("X"), ft.dvector("w"), ft.dtensor3("T")
    rng = np.random.default_rng(0)
    return {
        "elementwise": (
            lambda: fc.function([x], ft.exp(x) * 2 - x),
            lambda: (rng.standard_normal(200_000),),
            lambda a: np.exp(a) * 2 - a,
        ),
        "strided": (
            lambda: fc.function([X], ft.sin(X.T) + 1),
            lambda: (rng.standard_normal((400, 500)),),
            lambda a: np.sin(a.T) + 1,
        ),
        "sum": (
            lambda: fc.function([x], ft.sum(ft.exp(x) * ft.sin(x))),
            lambda: (rng.standard_normal(200_000),),
            lambda a: np.sum(np.exp(a) * np.sin(a)),
        ),
        "rowpass": (
            lambda: fc.function([X, w], fc.grad(((ft.dot(X, w) - 1) ** 2).sum(), w)),
            lambda: (rng.standard_normal((4000, 50)), rng.standard_normal(50)),
            lambda a, b: a.T @ (2 * (a @ b - 1)),
        ),
        "pool": (
            lambda: fc.function([T], pool.pool_2d(T, (2, 2), ignore_border=True)),
            lambda: (rng.standard_normal((3125, 8, 8)),),
            lambda a: a.reshape(3125, 4, 2, 4, 2).max(axis=(2, 4)),
        ),
    }


CASES = _cases()


def _measured_steps(native) -> list[int]:
    return [k for k, c in enumerate(native.thread_costs()) if c[0] or c[1]]


def _expected(cost: tuple[int, int, int, int]) -> bool:
    """Whether the next call of a step with these estimates runs on threads."""
    one, par, calls, probe = cost
    every = 1 << (PROBE_MIN_LOG + probe)
    return (par < one) != ((calls & (every - 1)) == every - 1)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("name", list(CASES))
def test_each_call_runs_the_way_measured_faster_with_the_same_bits(name: str, threads: int) -> None:
    build, inputs, ref = CASES[name]
    with fc.config.change_flags(threads=threads):
        f = build()
    args = inputs()
    first = np.asarray(f(*args))  # not measured yet: one thread, timed
    np.testing.assert_allclose(first, ref(*args), rtol=1e-10, atol=1e-10)
    native = f._runner.native
    steps = _measured_steps(native)
    assert steps, "no step was timed"
    for k in steps:
        assert native.thread_costs()[k][1] == 0, "a first call ran on threads"
    ran = []
    for i in range(40):
        # the faster way flips every other call; probes (every 8th call of a step at first)
        # run the other way
        one, par = (SLOW, FAST) if i % 2 else (FAST, SLOW)
        before = {}
        for k in steps:
            native.thread_costs(k, one, par)
            before[k] = native.thread_costs()[k]
        out = np.asarray(f(*args))
        assert out.tobytes() == first.tobytes(), f"call {i} gave other bits"
        for k in steps:
            after = native.thread_costs()[k]
            want = _expected(before[k])
            moved = (after[0] != one, after[1] != par)
            assert moved == (not want, want), (i, k, before[k], after)
            assert after[2] == before[k][2] + 1
            ran.append(want)
    assert any(ran) and not all(ran)


@pytest.mark.parametrize("name", ["elementwise", "rowpass"])
def test_first_threaded_try_cheap_steps_and_probe_backoff(name: str) -> None:
    """A step measured as long on one thread tries threads once (nothing measured on them
    yet); one measured under 50 us stays on one thread whatever threads measured; a try of the
    slower way that leaves it slower waits twice as long for the next one, up to 2^7 calls,
    and one that makes it the faster brings the tries back to every 8th call."""
    build, inputs, _ = CASES[name]
    with fc.config.change_flags(threads=2):
        f = build()
    args = inputs()
    f(*args)
    native = f._runner.native
    (k,) = _measured_steps(native)
    native.thread_costs(k, SLOW, 0)
    f(*args)
    one, par, calls, probe = native.thread_costs()[k]
    assert one == SLOW and par > 0 and calls == 0 and probe == 0
    # under 50 us on one thread (100 ps x ~200,000 elements): never threads, never a try
    for _ in range(20):
        native.thread_costs(k, 100, 1)
        f(*args)
        assert native.thread_costs()[k][1] == 1
    assert native.thread_costs()[k][2] == 0
    # threads far faster: each try of one thread leaves it slower, so the tries back off
    probes = []
    for i in range(300):
        native.thread_costs(k, SLOW, FAST)
        f(*args)
        if native.thread_costs()[k][0] != SLOW:
            probes.append(i)
    assert probes == [7, 15, 31, 63, 127, 255], probes
    assert native.thread_costs()[k][3] == PROBE_MAX_LOG - PROBE_MIN_LOG
    # a try that makes one thread the faster (a quarter of the way down from 1.1 x the
    # threads' estimate): tries every 8th call again
    close = FAST + FAST // 10
    for _ in range(200):
        native.thread_costs(k, close, FAST)
        f(*args)
        if native.thread_costs()[k][0] != close:
            break
    assert native.thread_costs()[k][0] < FAST and native.thread_costs()[k][3] == 0


@pytest.mark.parametrize("name", list(CASES))
def test_one_thread_times_nothing_and_gives_the_same_bits(name: str) -> None:
    build, inputs, ref = CASES[name]
    with fc.config.change_flags(threads=1):
        f = build()
    args = inputs()
    first = np.asarray(f(*args))
    for _ in range(3):
        assert np.asarray(f(*args)).tobytes() == first.tobytes()
    assert not _measured_steps(f._runner.native)
    if name in ("elementwise", "strided", "pool"):  # no partial sums: the bits of any split
        with fc.config.change_flags(threads=2):
            g = build()
        for _ in range(3):
            assert np.asarray(g(*args)).tobytes() == first.tobytes()


def test_thread_costs_rejects_a_bad_step() -> None:
    x = ft.dvector("x")
    native = fc.function([x], ft.exp(x))._runner.native
    with pytest.raises(ValueError, match="step index"):
        native.thread_costs(99, 1, 1)
    with pytest.raises(TypeError, match="thread_costs"):
        native.thread_costs(0)
