"""Which nodes a branch alone needs: the analysis behind a lazy ``ifelse``, in its value (the
``ifelse_lazy`` rewrite) and in its gradient (``tensor/gradient.py``).

A *host* is a node that uses some of its inputs only on one *side* (an ``ifelse`` reads its
then-values only when the condition is true). A node belongs to a side when every reader of
every output it has is a host at an input of that side or another node of that side: its value
is needed only when that side is taken, so it can be computed there. Several hosts may share
sides (the ``ifelse`` nodes of one condition: a forward value and its gradient), and a node is
then placed with the first host, in the given order, that needs it.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .basic import Apply, Variable

__all__ = ["Reader", "branch_regions", "readers"]

#: A reader of a variable: (node, input position), or (None, -1) for a value needed outside.
Reader = tuple["Apply | None", int]


def readers(order: Sequence[Apply], outside: Sequence[Variable]) -> dict[int, list[Reader]]:
    """id(variable) -> its readers among ``order``'s nodes; each of ``outside`` (a function's
    outputs, the variables a gradient is taken for) also has the reader (None, -1)."""
    found: dict[int, list[Reader]] = {}
    for node in order:
        for k, v in enumerate(node.inputs):
            found.setdefault(id(v), []).append((node, k))
    for v in outside:
        found.setdefault(id(v), []).append((None, -1))
    return found


def branch_regions(
    order: Sequence[Apply],
    uses: dict[int, list[Reader]],
    hosts: Sequence[Apply],
    side: Callable[[Apply, int], int | None],
) -> dict[int, tuple[int, int]]:
    """id(node) -> (side, index in ``hosts`` of the first host needing it) for each node of
    ``order`` (in dependency order; ``uses`` its readers) needed only on one side of
    ``hosts``. ``side(host, k)`` is the side input ``k`` of ``host`` belongs to, or None for
    an input it always reads. A host may itself be placed (one read by another's side)."""
    index = {id(h): i for i, h in enumerate(hosts)}
    placed: dict[int, tuple[int, int]] = {}
    for m in reversed(order):
        found: tuple[int, int] | None = None
        for r, k in (r for o in m.outputs for r in uses.get(id(o), ())):
            if r is not None and id(r) in placed:
                at = placed[id(r)]
            elif r is not None and id(r) in index and side(r, k) is not None:
                at = (side(r, k), index[id(r)])  # type: ignore[assignment]
            else:
                found = None
                break
            if found is not None and found[0] != at[0]:
                found = None
                break
            found = at if found is None else (at[0], min(found[1], at[1]))
        if found is not None:
            placed[id(m)] = found
    return placed
