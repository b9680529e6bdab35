"""Theano's ``OrderedUpdates``: the updates dict ``scan`` returns, an ``OrderedDict`` that adds
to other updates with ``+`` (``scan_updates + [(w, w - lr * g)]``, a dict or pairs on either
side), as Theano's loops' updates did; PyTensor's are a plain dict (merged with ``update`` or
``|``, which this keeps: a later value replaces an earlier one there)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class OrderedUpdates(OrderedDict):
    """An ``OrderedDict`` of ``{shared variable: new value}``; ``a + b`` is a new one holding
    ``a``'s updates then ``b``'s (a dict, an ``OrderedUpdates`` or a list of pairs), and refuses
    a variable both update to different values with ``ValueError`` (Theano's collision), where
    ``update`` and ``|`` keep the later value as a dict does."""

    def __add__(self, other: Any) -> OrderedUpdates:
        return _merged(self, other)

    def __radd__(self, other: Any) -> OrderedUpdates:
        return _merged(other, self)


def _merged(first: Any, second: Any) -> OrderedUpdates:
    out = OrderedUpdates()
    for part in (first, second):
        try:
            pairs = list(part.items()) if isinstance(part, dict) else [tuple(p) for p in part]
        except TypeError:
            raise TypeError(
                f"OrderedUpdates: can add a dict or a list of (shared variable, new value) pairs, got {part!r}"
            ) from None
        for pair in pairs:
            if len(pair) != 2:
                raise TypeError(f"OrderedUpdates: expected (shared variable, new value) pairs, got {pair!r}")
            var, value = pair
            if var in out and out[var] is not value:
                raise ValueError(
                    f"OrderedUpdates: {var!r} is updated by both sides of +, to {out[var]!r} and to "
                    f"{value!r}; a call makes one update of each variable: keep one"
                )
            out[var] = value
    return out
