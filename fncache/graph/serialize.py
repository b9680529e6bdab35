"""Flat graph encoding: for cache keys (a canonical text hash) and for pickles (no recursion).

A graph is stored as a list of root variables and a list of nodes in dependency order whose
inputs refer to earlier variables by index, so a 10,000-node chain pickles and hashes without
deep recursion. Ops holding user callables are encoded with cloudpickle.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any, Callable, NamedTuple, Sequence

from .basic import Apply, Constant, Variable, graph_inputs, merges, toposort
from .canonical import type_text
from .fgraph import FunctionGraph
from .types import fits_type

__all__ = [
    "CanonicalForm",
    "canonical_form",
    "graph_signature",
    "form_signature",
    "in_canonical_order",
    "encode_graph",
    "decode_graph",
    "OutputTypesChanged",
]


class CanonicalForm(NamedTuple):
    """A graph as its canonical text sees it: ``roots`` (the inputs first, then constants and
    other roots in order of first use), ``nodes`` (in dependency order, one of each set of
    merged equal nodes), ``reads`` (the numbers of each of those nodes' inputs), ``index`` (the
    number of each variable, by id: roots 0..R-1, then the nodes' outputs) and ``number`` (each
    node's position in ``nodes``, by id: a merged node has the position of the equal node that
    stands for it), ``also`` (the nodes merged into each node, by its position), ``out_types``
    (the types each node declares for its outputs: an op's props need not fix them, as a
    user's ``make_node`` may read a setting, and a rewrite reads them)."""

    roots: list[Variable]
    nodes: list[Apply]
    reads: list[tuple[int, ...]]
    index: dict[int, int]
    number: dict[int, int]
    #: the other nodes each merged node stands for, by its position in ``nodes``
    also: dict[int, list[Apply]]
    #: the canonical text of each node's output types (``canonical.type_text``), by position
    out_types: list[str]


def canonical_form(
    inputs: Sequence[Variable], outputs: Sequence[Variable], merge: bool = False
) -> CanonicalForm:
    """The graph between ``inputs`` and ``outputs``, numbered for its canonical text.

    ``merge``: equal constants (type and value) are one root, and a node of an op that `merges`
    reading the same variables as an earlier node of an equal op, and declaring the same output
    types, is that node, so a subexpression written twice and written once read alike (what
    the `merge` rewrite makes of both). Nothing
    is merged in a graph holding an op that overwrites an input: there two nodes reading one
    variable may read two values."""
    nodes = toposort(outputs, blockers=inputs)
    overwrites: list[bool] = []

    def may_merge() -> bool:  # asked at the first equal pair only: most graphs have none
        if not overwrites:
            overwrites.append(any(node.op.destroy_map for node in nodes))
        return not overwrites[0]

    roots: list[Variable] = list(inputs)
    index: dict[int, int] = {id(v): i for i, v in enumerate(roots)}
    produced = {id(o) for node in nodes for o in node.outputs}
    constants: dict[tuple[Any, str], int] = {}
    for v in [v for node in nodes for v in node.inputs] + list(outputs):
        if id(v) in index or id(v) in produced:
            continue
        if merge and isinstance(v, Constant):
            key = (v.type, v.signature())
            if key not in constants:
                constants[key] = len(roots)
            elif may_merge():
                index[id(v)] = constants[key]
                continue
        index[id(v)] = len(roots)
        roots.append(v)
    count = len(roots)
    kept: list[Apply] = []
    reads: list[tuple[int, ...]] = []
    number: dict[int, int] = {}
    also: dict[int, list[Apply]] = {}
    out_types: list[str] = []
    seen: dict[tuple[str, tuple[int, ...], str], Apply] = {}
    for node in nodes:
        ins = tuple([index[id(v)] for v in node.inputs])
        outs = node.outputs
        types = type_text(outs[0].type) if len(outs) == 1 else ",".join([type_text(o.type) for o in outs])
        if merge:
            first = seen.setdefault((node.op.signature(), ins, types), node)
            if first is not node and merges(node.op) and may_merge():
                number[id(node)] = number[id(first)]
                also.setdefault(number[id(first)], []).append(node)
                index.update((id(o), index[id(f)]) for o, f in zip(node.outputs, first.outputs))
                continue
        number[id(node)] = len(kept)
        kept.append(node)
        reads.append(ins)
        out_types.append(types)
        for o in node.outputs:
            index[id(o)] = count
            count += 1
    return CanonicalForm(roots, kept, reads, index, number, also, out_types)


def graph_signature(fgraph: FunctionGraph) -> str:
    """sha256 of a canonical text of the graph: equal graphs (up to variable identity and
    names) give equal signatures, so they share cache entries. A root holding its own value (a
    shared variable) is told from an explicit input of the same type."""
    return form_signature(fgraph, canonical_form(fgraph.inputs, fgraph.outputs))


def form_signature(fgraph: FunctionGraph, form: CanonicalForm) -> str:
    """:func:`graph_signature` of ``fgraph`` from its ``form``, already computed."""
    n_in = len(fgraph.inputs)
    # Variables are numbered by first appearance so the text does not depend on object ids.
    text = [
        f"C{k}:{type_text(v.type)}:{v.signature()}\n"
        if isinstance(v, Constant)
        else f"{'S' if v.holds_value else 'I' if k < n_in else 'R'}{k}:{type_text(v.type)}\n"
        for k, v in enumerate(form.roots)
    ]
    text += [
        f"N:{node.op.signature()}({','.join(map(str, ins))})->{types}\n"
        for node, ins, types in zip(form.nodes, form.reads, form.out_types)
    ]
    text.append("O:" + ",".join([str(form.index[id(v)]) for v in fgraph.outputs]))
    return hashlib.sha256("".join(text).encode()).hexdigest()


def in_canonical_order(
    inputs: Sequence[Variable], outputs: Sequence[Variable], pairs: Sequence[tuple[Variable, Variable]]
) -> list[tuple[Variable, Variable]]:
    """``pairs`` (a variable holding a value and the expression stored into it: a function's
    updates) in an order that depends on what they are, not on the order they were given in,
    so that the same updates given in another order make the same graph (and function key).

    The variables are ranked in the order a walk meets them: of the ``outputs``, then of the
    expressions of the variables ranked so far, in rank order (a parameter, then its
    velocity). The pairs of ranked variables come first, by rank; the others (updates no output
    reads) follow by a label of their variable (:func:`_unranked_labels`): its type and the
    structure of its expression, refined by what the variables it reads and those reading it
    are. Pairs no label tells apart keep the order they were given in (at worst a cache miss:
    whatever the order, each expression is stored into its own variable)."""
    if len(pairs) < 2:
        return list(pairs)
    expression = {id(v): e for v, e in pairs}
    unranked = set(expression)
    ranked: list[Variable] = []
    rank: dict[int, int] = {}
    seen: set[int] = set()

    def meet(graphs: list[Variable]) -> None:  # graph_inputs' walk, one `seen` for all walks
        stack = graphs[::-1]
        while stack:
            v = stack.pop()
            if id(v) in seen:
                continue
            seen.add(id(v))
            if v.owner is not None:
                stack.extend(reversed(v.owner.inputs))
            elif v.holds_value:
                rank[id(v)] = len(ranked)
                ranked.append(v)
                unranked.discard(id(v))

    meet(list(outputs))
    k = 0
    while unranked and k < len(ranked):
        if id(ranked[k]) in expression:
            meet([expression[id(ranked[k])]])
        k += 1
    if unranked:
        label = _unranked_labels(inputs, rank, [(v, e) for v, e in pairs if id(v) not in rank])

    def order(pair: tuple[Variable, Variable]) -> tuple[int, int, str]:
        v, e = pair
        if id(v) in rank:
            return 0, rank[id(v)], ""
        return 1, 0, label[id(v)]

    return sorted(pairs, key=order)


#: At most this many pairs :func:`_unranked_labels` tells apart by choosing one of several
#: alike (each choice refines every label again); past it the rest keep their given order.
MAX_CHOICES = 16


def _unranked_labels(
    inputs: Sequence[Variable], rank: dict[int, int], pairs: list[tuple[Variable, Variable]]
) -> dict[int, str]:
    """A label of each variable of ``pairs`` (updates no output reads) that depends on what the
    pairs are, not on their order: its type and a hash of its expression's structure (ops,
    constants, the positions of the ``inputs`` it reads, ranked variables by rank, other
    variables by their labels). Where two pairs have one label, the labels are refined (colour
    refinement): each variable's label takes in its expression's hash under the labels so far
    and the labels of the pairs whose expressions read it, until no new label appears. Pairs
    still alike are then told apart by choosing the first given (its label marked) and refining
    again: a choice among pairs that mirror each other, as ``a <- a * r`` and ``b <- b * r``,
    gives one graph whichever is chosen. Alike pairs that read nothing of one another (the
    steps of many parameters) are all chosen at once, in their given order."""
    targets = [v for v, _ in pairs]
    position = {id(v): k for k, v in enumerate(inputs)}
    label = {id(v): repr(v.type) for v in targets}
    nodes = toposort([e for _, e in pairs])

    def digests() -> list[str]:
        def root(v: Variable) -> str:
            if isinstance(v, Constant):
                return f"C{v.type!r}:{v.signature()}"
            if id(v) in position:
                return f"I{position[id(v)]}"
            return f"S{rank[id(v)]}" if id(v) in rank else f"R{v.type!r}{label.get(id(v), '')}"

        digest: dict[int, str] = {}
        for node in nodes:
            ins = ",".join(digest[id(v)] if v.owner is not None else root(v) for v in node.inputs)
            h = hashlib.sha256(f"{node.op.signature()}({ins})".encode()).hexdigest()[:32]
            digest.update((id(o), f"{h}.{j}") for j, o in enumerate(node.outputs))
        return [digest[id(e)] if e.owner is not None else root(e) for _, e in pairs]

    found = {id(v): f"{label[id(v)]}:{d}" for v, d in zip(targets, digests())}
    if len(set(found.values())) == len(targets):
        return found  # the common case: the structure alone tells the pairs apart
    # who reads each variable, and where: its place among the reader's roots, in a walk's order
    readers: dict[int, list[tuple[int, int]]] = {}
    for k, (_, e) in enumerate(pairs):
        for j, v in enumerate(_free_roots(e, position, rank)):
            readers.setdefault(id(v), []).append((k, j))
            label.setdefault(id(v), "")  # read, not updated: its type is in the digests

    def refine() -> None:
        count = len(set(label.values()))
        while True:
            own = dict(zip(map(id, targets), digests()))
            new = {}
            for r, text in label.items():
                read_by = sorted(f"{label[id(targets[k])]}@{j}" for k, j in readers.get(r, ()))
                new[r] = hashlib.sha256(f"{text}|{own.get(r, '')}|{read_by}".encode()).hexdigest()[:32]
            label.update(new)
            if len(set(new.values())) == count:
                return
            count = len(set(new.values()))

    # the pairs linked by what they read (each other's variables, or one variable): a group of
    # alike pairs each in its own part mirror each other, and are told apart in one choice
    part = list(range(len(pairs)))

    def find(k: int) -> int:
        while part[k] != k:
            part[k] = part[part[k]]
            k = part[k]
        return k

    number = {id(v): k for k, v in enumerate(targets)}
    for r, read in readers.items():
        for k, _ in read + ([(number[r], 0)] if r in number else []):
            part[find(k)] = find(read[0][0])

    refine()
    for _ in range(MAX_CHOICES):
        by_label: dict[str, list[int]] = {}
        for k, v in enumerate(targets):
            by_label.setdefault(label[id(v)], []).append(k)
        alike = [group for _, group in sorted(by_label.items()) if len(group) > 1]
        if not alike:
            break
        group = alike[0]
        if len({find(k) for k in group}) < len(group):
            group = group[:1]
        for n, k in enumerate(group):
            label[id(targets[k])] += f"!{n}"
        refine()
    return {id(v): label[id(v)] for v in targets}


def _free_roots(e: Variable, position: dict[int, int], rank: dict[int, int]) -> list[Variable]:
    """The roots of ``e`` that are neither constants, ``inputs`` (``position``) nor ranked."""
    return [
        v
        for v in graph_inputs([e])
        if not isinstance(v, Constant) and id(v) not in position and id(v) not in rank
    ]


def encode_graph(fgraph: FunctionGraph, shared: Sequence[Variable] = ()) -> dict[str, Any]:
    """A picklable flat description. Shared variables are referenced by position in
    ``shared`` (their values travel separately)."""
    form = canonical_form(fgraph.inputs, fgraph.outputs)
    roots, nodes, index = form.roots, form.nodes, form.index
    shared_pos = {id(s): i for i, s in enumerate(shared)}
    enc_roots = []
    for v in roots:
        if isinstance(v, Constant):
            enc_roots.append(("const", v.type, v.data, v.name))
        elif id(v) in shared_pos:
            enc_roots.append(("shared", shared_pos[id(v)]))
        else:
            enc_roots.append(("input", v.type, v.name))
    # Node provenance (the creation trace, the original node's position and the user's function
    # that made it) is kept so that run-time errors of a loaded graph still name the user's
    # source line and function.
    enc_nodes = [
        (
            node.op,
            [index[id(v)] for v in node.inputs],
            [o.name for o in node.outputs],
            {k: node.tag[k] for k in ("trace", "origin", "made_by") if k in node.tag},
        )
        for node in nodes
    ]
    return {
        "version": 2,
        "roots": enc_roots,
        "n_inputs": len(fgraph.inputs),
        "nodes": enc_nodes,
        # what each node declared: decoding makes the nodes again, and checks it gets these
        "out_types": [[o.type for o in node.outputs] for node in nodes],
        "outputs": [index[id(v)] for v in fgraph.outputs],
    }


class OutputTypesChanged(TypeError):
    """A node made again from its op and inputs declares other output types than it did when
    its graph was encoded: the op's ``make_node`` reads something besides them (a module
    setting, an attribute changed since)."""


def decode_graph(enc: dict[str, Any], shared: Sequence[Variable] = ()) -> FunctionGraph:
    """The graph ``encode_graph`` described, its nodes made again by their ops' ``make_node``;
    ``OutputTypesChanged`` if one declares output types that do not fit those it declared then
    (``types.fits_type``: the graph keyed, optimized and stored was not this one, and its values
    could differ; static sizes the node learns now from its inputs are no change)."""
    vars_: list[Variable] = []
    for r in enc["roots"]:
        if r[0] == "const":
            vars_.append(r[1].make_constant(r[2], name=r[3]))
        elif r[0] == "shared":
            vars_.append(shared[r[1]])
        else:
            vars_.append(r[1].make_variable(r[2]))
    declared = enc.get("out_types")  # absent from version 1
    for k, (op, ins, names, *tag) in enumerate(enc["nodes"]):
        node = op.make_node(*[vars_[i] for i in ins])
        if declared is not None and not (
            len(node.outputs) == len(declared[k])
            and all(fits_type(o.type, t) for o, t in zip(node.outputs, declared[k]))
        ):
            raise OutputTypesChanged(
                f"{op}.make_node now declares output types {[o.type for o in node.outputs]} for the "
                f"node that declared {declared[k]} when its graph was stored: make_node must "
                "derive them from the op's props and its inputs alone"
            )
        node.tag.update(tag[0] if tag else {})
        for o, n in zip(node.outputs, names):
            o.name = n
        vars_.extend(node.outputs)
    return FunctionGraph(vars_[: enc["n_inputs"]], [vars_[i] for i in enc["outputs"]], clone=False)


def dumps(obj: Any, refer: Callable[[Any], Any] | None = None) -> bytes:
    """Pickle, falling back to cloudpickle for user callables (lambdas, closures).

    ``refer``: what stands for an object that is not to be pickled (None: pickle it), such as
    a position in a list the reader holds too; :func:`loads` hands it to its ``resolve``."""
    try:
        return _pickled(pickle.Pickler, obj, refer)
    except (pickle.PicklingError, AttributeError, TypeError):
        import cloudpickle

        return _pickled(cloudpickle.Pickler, obj, refer)


def _pickled(pickler_class: Any, obj: Any, refer: Callable[[Any], Any] | None) -> bytes:
    buffer = io.BytesIO()
    pickler = pickler_class(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    if refer is not None:
        pickler.persistent_id = refer
    pickler.dump(obj)
    return buffer.getvalue()


def loads(data: bytes, resolve: Callable[[Any], Any]) -> Any:
    """Unpickle what :func:`dumps` pickled with ``refer``: ``resolve`` gives the object each
    reference stands for (it raises ``pickle.UnpicklingError`` for one it does not know)."""
    unpickler = pickle.Unpickler(io.BytesIO(data))
    unpickler.persistent_load = resolve
    return unpickler.load()
