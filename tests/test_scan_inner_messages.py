"""A check inside a ``scan`` step names its own loop's variable and line when it fails, even where
another loop with an equal step graph (so one function key, one cached entry) was compiled
first: its messages live in the step graph's nodes, which no key reads."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.config import config

MODES = ["FAST_RUN", "FAST_COMPILE"]


@pytest.fixture(autouse=True)
def own_compiledir(tmp_path: Any) -> Any:
    with config.change_flags(compiledir=str(tmp_path / "cd")):
        yield


def _update_loop(name: str, kind: str, mode: str) -> Callable[..., Any]:
    """A loop updating the shared variable ``name`` of declared shape (1, ?) by ``s + m``: a
    two-row ``m`` fails its size check when the function runs."""
    s = fc.shared(np.zeros((1, 3)), name=name, shape=(1, None))
    m = ft.matrix("m")
    if kind == "default_update":
        s.default_update = s + m
        res, upd = fc.scan(lambda m_t, s=s: s * 1, non_sequences=[m], n_steps=2)
    else:
        res, upd = fc.scan(lambda m_t, s=s: (s * 1, {s: s + m_t}), non_sequences=[m], n_steps=2)
    return fc.function([m], res, updates=upd, mode=mode)


def _error(f: Callable[..., Any], *args: Any) -> str:
    with pytest.raises((ValueError, IndexError)) as info:
        f(*args)
    return str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_an_update_check_names_its_own_loops_variable(mode: str) -> None:
    """Before, the loop over ``b`` raised "scan: fn's updates: a has static shape ...", the
    message of the loop over ``a`` compiled first."""
    rows = np.ones((2, 3))
    fa, fb = _update_loop("a", "updates", mode), _update_loop("b", "updates", mode)
    assert _error(fa, rows).startswith("scan: fn's updates: a has static shape (1, None)")
    assert _error(fb, rows).startswith("scan: fn's updates: b has static shape (1, None)")


def test_an_update_check_names_its_own_kind_of_update() -> None:
    """fn's updates and a ``default_update`` of equal steps: each error names its own kind."""
    rows = np.ones((2, 3))
    explicit = _update_loop("s", "updates", "FAST_COMPILE")
    default = _update_loop("s", "default_update", "FAST_COMPILE")
    assert _error(default, rows).startswith("scan: default_update: s has static shape")
    assert _error(explicit, rows).startswith("scan: fn's updates: s has static shape")


#: check -> (two equal steps written on their own lines, a value of k that fails the check)
STEPS: dict[str, tuple[tuple[Callable[..., Any], Callable[..., Any]], int]] = {
    "take": (
        (
            lambda x_t, k: ft.take(x_t, k),
            lambda x_t, k: ft.take(x_t, k),
        ),
        5,
    ),
    "tile": (
        (
            lambda x_t, k: ft.tile(x_t, (k, 1)),
            lambda x_t, k: ft.tile(x_t, (k, 1)),
        ),
        -2,
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check", list(STEPS))
def test_a_step_check_names_its_own_line(check: str, mode: str) -> None:
    """A failed check of a second loop's step, equal to the first's, shows the second step's
    line of user code (under ``exception_verbosity='high'``): before, the first step's."""
    steps, k = STEPS[check]
    with config.change_flags(exception_verbosity="high"):
        for step in steps:
            x, kk = ft.vector("x"), ft.lscalar("k")
            res, _ = fc.scan(step, sequences=[x[None]], non_sequences=[kk])
            f = fc.function([x, kk], res, mode=mode)
            line = f"line {step.__code__.co_firstlineno}, in <lambda>"
            assert line in _error(f, np.ones(3), k)


def test_a_rewritten_step_check_names_its_own_line() -> None:
    """A loop whose unread output the optimizer drops runs a step graph made anew from the
    user's: its checks still name the second loop's line, not the first's."""
    steps = (
        lambda x_t, k: (ft.take(x_t, k), x_t * 2),
        lambda x_t, k: (ft.take(x_t, k), x_t * 2),
    )
    with config.change_flags(exception_verbosity="high"):
        for step in steps:
            x, k = ft.vector("x"), ft.lscalar("k")
            (taken, _), _ = fc.scan(step, sequences=[x[None]], non_sequences=[k])
            f = fc.function([x, k], taken, mode="FAST_RUN")
            assert f"line {step.__code__.co_firstlineno}, in <lambda>" in _error(f, np.ones(3), 5)


def test_a_lazy_branch_check_names_its_own_line() -> None:
    """The same for a lazy ``ifelse``'s branch, whose inner graph the optimizer makes of the
    function's own nodes."""
    from fncache.ifelse import ifelse

    takes = (
        lambda x, k: ft.take(x, k),
        lambda x, k: ft.take(x, k),
    )
    with config.change_flags(exception_verbosity="high"):
        for take in takes:
            x, k, c = ft.vector("x"), ft.lscalar("k"), ft.bscalar("c")
            f = fc.function([c, x, k], ifelse(c, take(x, k), x.sum()), mode="FAST_RUN")
            assert f"line {take.__code__.co_firstlineno}, in <lambda>" in _error(f, 1, np.ones(3), 5)
