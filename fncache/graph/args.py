"""Arguments as the front end and ``fc.function`` take them, checked in one place each.

``int_arg`` is every integer argument an op takes when the graph is built (a count, an offset,
an axis, an order): a Python int or what numpy takes as one (``operator.index``: a numpy
integer, a 0-d integer array), never a bool (a flag passed in an int's place is a mistake
more often than a 0 or a 1), or a symbolic integer scalar whose value is known when the graph
is built (a constant, arithmetic on constants and static sizes: the front end's reading, see
`use_known_int`). ``flag`` is every True-or-False argument (0 and 1 taken, Theano's
spelling). ``pairs_arg`` is every argument given as a dict or as a
sequence of (key, value) pairs (``replace``, ``givens``, ``updates``).
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

__all__ = [
    "as_int",
    "entry_point",
    "flag",
    "int_arg",
    "int_kind",
    "one_of",
    "op_at_entry",
    "pairs_arg",
    "sequence_arg",
    "use_known_int",
]


def entry_point(default: str) -> str:
    """The fncache function the caller's caller was entered through (``exp`` for a
    ``ft.exp(None)`` that fails deep in the conversion of its argument), for an error's message
    to name what the user called: the outermost of the fncache frames the error is raised under
    (not counting those of an inner call made from user code, such as the step of a scan).
    ``default`` where that frame is no public function (an operator's method, a lambda)."""
    frame = sys._getframe(1)
    name = default
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fncache."):
        code = frame.f_code.co_name
        name = code if code.isidentifier() and not code.startswith("_") else default
        frame = frame.f_back
    return name


def op_at_entry(op: str) -> str:
    """``op`` for an error's message, after the function the user called where that is
    another one made of it (``vstack: concatenate``; see :func:`entry_point`)."""
    entry = entry_point(op)
    return op if entry == op else f"{entry}: {op}"


def as_int(value: Any) -> int | None:
    """``value`` as a Python int where numpy takes it as one (a Python or numpy integer, a 0-d
    integer array; not a bool nor a symbolic variable), else None: for an argument that may
    also be something else (a sequence of ints, a symbolic scalar)."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


#: The int a symbolic integer scalar is known to be when the graph is built (a constant, a
#: static size, arithmetic on those), else None: the front end's reading (``fncache.tensor``
#: installs it with :func:`use_known_int`, as it installs its variable classes).
_known_int: Callable[[Any], int | None] | None = None


def use_known_int(reader: Callable[[Any], int | None]) -> None:
    """Install how ``int_arg`` reads a symbolic integer scalar known when the graph is built."""
    global _known_int
    _known_int = reader


def _is_symbolic(value: Any) -> bool:
    return hasattr(value, "owner") and hasattr(value, "type")


def _given(value: Any) -> str:
    """What was given, and the fix, for an integer argument that is not one."""
    if _is_symbolic(value):
        int_scalar = value.type.ndim == 0 and np.dtype(value.type.dtype).kind in "iu"
        why = "whose value is known only when the function runs" if int_scalar else "not an integer scalar"
        return (
            f"the symbolic {value!r} ({value.type}), {why}; give a Python int or a constant integer "
            "(ft.constant(2), or arithmetic on constants and static sizes): it must be known when the graph is built"
        )
    given = (
        f"an array of shape {value.shape} and dtype {value.dtype}"
        if isinstance(value, np.ndarray)
        else repr(value)
    )
    return f"{given}; give a Python int, a numpy integer or a 0-d integer array"


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def int_kind(minimum: int | None) -> str:
    """The words for an int of at least ``minimum`` (None: any int), as the errors say it."""
    if minimum is None:
        return "an int"
    if minimum == 0:
        return "a non-negative int"
    if minimum == 1:
        return "a positive int"
    return f"an int >= {minimum}"


def flag(value: Any, what: str, name: str) -> bool:
    """``value`` checked a bool (or 0 or 1, Theano's spelling): argument ``name`` of ``what``."""
    if not isinstance(value, (bool, np.bool_, int, np.integer)) or value not in (0, 1):
        raise TypeError(f"{what}: {name} must be True or False, got {value!r}")
    return bool(value)


def int_arg(
    value: Any,
    op: str,
    what: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    fix: str = "",
    kind: str = "",
) -> int:
    """``value``, the integer argument ``what`` of ``op``, as a Python int (see the module's
    doc): TypeError for anything else (naming ``op``, ``what``, what was given and what to give
    instead, ``fix`` added to that; ``kind`` words what it takes where that is more than an
    int), ValueError for one below ``minimum``, above ``maximum`` (a count of dims, say) or
    outside int64, the integers a graph holds (numpy's OverflowError would name neither)."""
    n = as_int(value)
    if n is None and _is_symbolic(value) and _known_int is not None:
        n = _known_int(value)
    kind = kind or int_kind(minimum)
    if n is None:
        raise TypeError(f"{op}: {what} must be {kind}, got {_given(value)}{f'; {fix}' if fix else ''}")
    if minimum is not None and n < minimum:
        raise ValueError(f"{op}: {what} must be {kind}, got {n}")
    if maximum is not None and n > maximum:
        raise ValueError(f"{op}: {what} must be at most {maximum}, got {n}")
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise ValueError(f"{op}: {what} must be {kind} that fits in int64 (within +-2**63), got {n}")
    return n


def one_of(value: Any, choices: Any) -> bool:
    """Whether ``value`` is among ``choices`` (a dict or a set of names), False for a value
    that cannot be (a list given for a mode's name), rather than Python's "unhashable type"."""
    try:
        return value in choices
    except TypeError:
        return False


def sequence_arg(value: Any, op: str, what: str, item: str = "tensors") -> list:
    """``value``, the argument ``what`` of ``op`` that takes a sequence (of ``item``), as a list;
    a TypeError naming both for a value that is none (None, a number, a string, a dict)."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{op}: {what} must be a list or tuple of {item}, got {value!r}")
    return list(value)


def pairs_arg(
    value: Any, what: str, key: str = "variable", item: str = "expression"
) -> list[tuple[Any, Any]]:
    """``value``, the argument ``what``, given as a mapping ``{key: item}`` or a sequence of
    ``(key, item)`` pairs (None: none), as a list of pairs in the order given; TypeError naming
    ``what`` and what was given otherwise. The caller checks the keys and the items."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.items())
    form = f"a dict {{{key}: {item}}} or a sequence of ({key}, {item}) pairs"
    if isinstance(value, (str, bytes)):
        items = None
    else:
        try:
            items = list(value)
        except TypeError:
            items = None
    if items is None:
        raise TypeError(f"{what} must be {form}, got {type(value).__name__} {value!r}")
    for i, p in enumerate(items):
        if not isinstance(p, (tuple, list)) or len(p) != 2:
            raise TypeError(f"{what} must be {form}, got {p!r} at position {i} of {type(value).__name__}")
    return [tuple(p) for p in items]
