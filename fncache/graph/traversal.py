"""``fncache.graph.traversal``, PyTensor's module path of the graph walks
(``from pytensor.graph.traversal import ancestors, explicit_graph_inputs, io_toposort``).

Each function takes PyTensor's arguments and gives its results in PyTensor's order: a graph
utility written for PyTensor walks an fncache graph as it walks PyTensor's."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from . import basic
from .basic import Apply, Node, Variable, ancestors, explicit_graph_inputs, graph_inputs
from .fgraph import FunctionGraph

__all__ = [
    "Node",
    "ancestors",
    "apply_depends_on",
    "applys_between",
    "explicit_graph_inputs",
    "general_toposort",
    "get_var_by_name",
    "graph_inputs",
    "io_toposort",
    "orphans_between",
    "toposort",
    "truncated_graph_inputs",
    "variable_depends_on",
    "vars_between",
    "walk",
]

N = TypeVar("N")


def walk(
    nodes: Iterable[N],
    expand: Callable[[N], Iterable[N] | None],
    bfs: bool = True,
    return_children: bool = False,
) -> Iterator[Any]:
    """PyTensor's ``walk``: each node reached from ``nodes`` through ``expand`` (a node's
    children, or None), once, breadth-first (``bfs=False``: depth-first, the last child
    first); with ``return_children``, ``(node, expand(node))`` pairs."""
    seen: set[N] = set()
    queue = deque(nodes)
    pop = queue.popleft if bfs else queue.pop
    while queue:
        node = pop()
        if node in seen:
            continue
        seen.add(node)
        children = expand(node)
        yield (node, children) if return_children else node
        if children:
            queue.extend(children)


def vars_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Variable]:
    """The variables ``outs`` depend on, ``outs`` and ``ins`` included, not walking past
    ``ins``, with the other outputs of each node walked through (PyTensor's ``vars_between``)."""
    given = frozenset(ins)

    def expand(v: Variable) -> list[Variable] | None:
        if v.owner is None or v in given:
            return None
        return [*v.owner.inputs, *v.owner.outputs]

    return list(walk(outs, expand, bfs=False))


def orphans_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> Iterator[Variable]:
    """The roots ``outs`` depend on that are not in ``ins`` (the other inputs, shared variables
    and constants they read), as PyTensor's ``orphans_between``."""
    given = frozenset(ins)
    return (v for v in vars_between(given, outs) if v.owner is None and v not in given)


def applys_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> Iterator[Apply]:
    """PyTensor's ``applys_between``: the owners of the variables ``ancestors(outs, ins)``
    meets, each once, in that order."""
    seen: set[Apply] = set()
    for v in ancestors(outs, blockers=ins):
        if v.owner is not None and v.owner not in seen:
            seen.add(v.owner)
            yield v.owner


def apply_depends_on(apply: Apply, depends_on: Apply | Iterable[Apply]) -> bool:
    """PyTensor's ``apply_depends_on``: whether ``apply`` is one of ``depends_on`` (a node
    or several) or computes from one's outputs."""
    wanted = frozenset([depends_on] if isinstance(depends_on, Apply) else depends_on)
    return apply in wanted or any(v.owner in wanted for v in ancestors(apply.inputs))


def variable_depends_on(variable: Variable, depends_on: Variable | Iterable[Variable]) -> bool:
    """PyTensor's ``variable_depends_on``: whether ``variable`` is one of ``depends_on`` (a
    variable or several) or computes from one (another output of its node is not)."""
    wanted = frozenset([depends_on] if isinstance(depends_on, Variable) else depends_on)
    return any(v in wanted for v in ancestors([variable]))


def truncated_graph_inputs(
    outputs: Sequence[Variable], ancestors_to_include: Iterable[Variable] | None = None
) -> list[Variable]:
    """PyTensor's ``truncated_graph_inputs``: the variables nearest ``outputs`` that do not
    depend on ``ancestors_to_include`` (with those of ``ancestors_to_include`` the outputs
    reach): given them, nothing else is needed to compute ``outputs``."""
    include = frozenset(ancestors_to_include or ())
    if not include:
        return list(dict.fromkeys(outputs))
    truncated: list[Variable] = []
    seen: set[Variable] = set()
    # variables known not to need walking past: those to include and those already met
    blockers = set(include)
    candidates = list(outputs)
    while candidates:
        v = candidates.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in include:
            truncated.append(v)
            # one to include that computes from another: the other is reached through it
            if variable_depends_on(v, include - {v}):
                candidates.extend(i for i in v.owner.inputs if i not in seen)  # type: ignore[union-attr]
        else:
            if variable_depends_on(v, blockers):
                candidates.extend(v.owner.inputs)  # type: ignore[union-attr]
            else:
                truncated.append(v)
            blockers.add(v)
    return truncated


def toposort(graphs: Iterable[Variable], blockers: Iterable[Variable] | None = None) -> list[Apply]:
    """PyTensor's ``toposort``: the nodes ``graphs`` depend on, not walking past ``blockers``,
    each after those it reads from, in PyTensor's order (the last output's first, and each
    node's last input's first; ``fncache.graph.toposort`` walks them first to last)."""
    return basic.toposort(list(graphs), blockers or (), last_first=True)


def _walk_toposort(graphs: Iterable[N], deps: Callable[[N], Iterable[N] | None]) -> Iterator[N]:
    """Every node ``graphs`` reach through ``deps`` (what a node depends on), each after its
    dependencies: those depending on nothing first, then each node as soon as the last of its
    dependencies is given, in PyTensor's order.

    A node waits on a count of its distinct dependencies, each of which knows its waiting
    clients once (a node reading one input twice waits on it once): giving a node costs one step
    per client, so the walk is linear in the edges, however many dependencies a node has."""
    waiting: dict[N, int] = {}
    clients: dict[N, list[N]] = {}
    ready: deque[N] = deque()

    def expand(node: N) -> list[N]:
        children = list(deps(node) or ())
        distinct = dict.fromkeys(children)
        waiting[node] = len(distinct)
        for child in distinct:
            clients.setdefault(child, []).append(node)
        if not distinct:
            ready.append(node)
        return children

    left = sum(1 for _ in walk(graphs, expand, bfs=False))
    while ready:
        node = ready.popleft()
        yield node
        left -= 1
        for client in clients.get(node, ()):
            waiting[client] -= 1
            if not waiting[client]:
                ready.append(client)
    if left:
        raise ValueError("general_toposort: the graph has a cycle")


def general_toposort(
    outputs: Iterable[N],
    deps: Callable[[N], Iterable[N] | None],
    compute_deps_cache: Any = None,
    deps_cache: Any = None,
    clients: Any = None,
) -> list[N]:
    """PyTensor's ``general_toposort``: every node ``outputs`` reach through ``deps`` (a
    node's dependencies, or None), each after its dependencies. ``compute_deps_cache``,
    ``deps_cache`` and ``clients`` are refused, as PyTensor refuses them."""
    for name, value in (
        ("compute_deps_cache", compute_deps_cache),
        ("deps_cache", deps_cache),
        ("clients", clients),
    ):
        if value is not None:
            raise ValueError(
                f"general_toposort: {name} is no longer supported (as in PyTensor); leave it out"
            )
    return list(_walk_toposort(outputs, deps))


def io_toposort(
    inputs: Iterable[Variable],
    outputs: Sequence[Variable],
    orderings: dict[Apply, list[Apply]] | None = None,
    clients: Any = None,
) -> list[Apply]:
    """PyTensor's ``io_toposort``: the nodes between ``inputs`` and ``outputs``, each after
    those it reads from and after the nodes ``orderings`` maps it to, in PyTensor's order.
    ``clients`` is refused, as PyTensor refuses it."""
    if clients is not None:
        raise ValueError("io_toposort: clients is no longer supported (as in PyTensor); leave it out")
    if not orderings:
        return toposort(outputs, blockers=inputs)
    blocked = frozenset(inputs)
    extra = orderings

    def deps(obj: Any) -> list[Any] | None:
        if obj in blocked:
            return None
        if isinstance(obj, Apply):
            return [*obj.inputs, *extra.get(obj, ())]
        if obj.owner is not None:
            return [obj.owner, *extra.get(obj.owner, ())]
        return list(extra.get(obj, ()))

    return [n for n in _walk_toposort(outputs, deps) if isinstance(n, Apply)]


def get_var_by_name(graphs: Iterable[Variable], target_var_id: str) -> tuple[Variable, ...]:
    """PyTensor's ``get_var_by_name``: the variables named ``target_var_id`` that ``graphs``
    depend on, the inner graphs of their ops (a scan's, an OpFromGraph's) searched too, in the
    order a breadth-first walk meets them."""

    def expand(v: Variable) -> list[Variable] | None:
        if v.owner is None:
            return None
        inner = getattr(v.owner.op, "inner", None)
        return [*v.owner.inputs, *inner.outputs] if isinstance(inner, FunctionGraph) else v.owner.inputs

    return tuple(v for v in walk(graphs, expand) if v.name == target_var_id)
