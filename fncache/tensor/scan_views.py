"""Theano/PyTensor's shorthands for common loops, each one ``scan`` call (README "Loops:
scan"): ``map`` (no output fed back), ``reduce`` / ``foldl`` / ``foldr`` (only the last step's
values of the fed-back outputs), ``filter`` (the rows a predicate keeps).

Each takes PyTensor's ``return_updates``: True (the default) returns ``(outputs, updates)``,
False the outputs alone (as ``scan``'s)."""

from __future__ import annotations

from typing import Any, Callable

from .scan import scan

__all__ = ["map", "reduce", "foldl", "foldr", "filter"]


def map(
    fn: Callable[..., Any],
    sequences: Any,
    non_sequences: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
    return_updates: bool = True,
) -> Any:
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
        return_updates=return_updates,
    )


def reduce(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
    return_updates: bool = True,
) -> Any:
    """The loop ``scan(fn, sequences, outputs_info, ...)`` giving each output's value after the
    last step only (``(outputs, updates)``; a list of outputs when there are several)."""
    res = scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
        return_updates=return_updates,
    )
    outs = res[0] if return_updates else res
    last = [o[-1] for o in outs] if isinstance(outs, (list, tuple)) else outs[-1]
    return (last, res[1]) if return_updates else last


def foldl(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
    return_updates: bool = True,
) -> Any:
    """``reduce`` from the sequences' first rows to their last."""
    return reduce(
        fn, sequences, outputs_info, non_sequences, False, mode, name, return_updates=return_updates
    )


def foldr(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
    return_updates: bool = True,
) -> Any:
    """``reduce`` from the sequences' last rows to their first."""
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name, return_updates=return_updates)


def filter(
    fn: Callable[..., Any],
    sequences: Any,
    non_sequences: Any = None,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
) -> Any:
    """The rows of ``sequences`` for which ``fn`` (a predicate: a bool per row, ``map``-ped
    over them) is true, in their order. ``fn`` returning one mask per sequence filters each
    by its own; one mask filters them all (PyTensor's ``filter``)."""
    mask, _ = map(fn, sequences, non_sequences, go_backwards=go_backwards, mode=mode, name=name)
    if go_backwards:
        # the loop ran from the last row: its masks are in reverse order of the rows
        mask = [m[::-1] for m in mask] if isinstance(mask, (list, tuple)) else mask[::-1]
    if isinstance(mask, (list, tuple)):
        if not isinstance(sequences, (list, tuple)) or len(mask) != len(sequences):
            raise ValueError(
                f"filter: fn returned {len(mask)} masks for "
                f"{len(sequences) if isinstance(sequences, (list, tuple)) else 1} sequences; "
                "return one mask, or one per sequence"
            )
        return [s[m] for s, m in zip(sequences, mask)]
    if isinstance(sequences, (list, tuple)):
        return [s[mask] for s in sequences]
    return sequences[mask]
