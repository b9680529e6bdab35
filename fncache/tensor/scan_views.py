"""Theano/PyTensor's shorthands for common loops, each one ``scan`` call (README "Loops:
scan"): ``map`` (no output fed back), ``reduce`` / ``foldl`` / ``foldr`` (only the last step's
values of the fed-back outputs)."""

from __future__ import annotations

from typing import Any, Callable

from .scan import scan

__all__ = ["map", "reduce", "foldl", "foldr"]


def map(
    fn: Callable[..., Any],
    sequences: Any,
    non_sequences: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, dict]:
    """``fn`` applied to the rows of ``sequences`` (then ``non_sequences``), its results
    stacked: ``scan(fn, sequences, outputs_info=None, ...)``, whatever number of outputs ``fn``
    returns. Returns ``(outputs, updates)``."""
    return scan(
        fn,
        sequences=sequences,
        outputs_info=None,
        non_sequences=non_sequences,
        truncate_gradient=truncate_gradient,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
    )


def reduce(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, dict]:
    """The loop ``scan(fn, sequences, outputs_info, ...)`` giving each output's value after the
    last step only (``(outputs, updates)``; a list of outputs when there are several)."""
    outs, updates = scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
    )
    if isinstance(outs, (list, tuple)):
        return [o[-1] for o in outs], updates
    return outs[-1], updates


def foldl(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, dict]:
    """``reduce`` from the sequences' first rows to their last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, dict]:
    """``reduce`` from the sequences' last rows to their first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
