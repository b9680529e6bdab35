"""The compile pipeline: function-level cache lookup (a hit skips the optimizer and code
generation), optimization, and linking the optimized graph into a runner."""

from __future__ import annotations

import contextlib
import itertools
import logging
import pickle
import sys
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Sequence

from ..config import config
from ..graph.basic import Constant, clone_graph, code_in_identity, reread_user_code, toposort
from ..graph.canonical import type_text
from ..graph.fgraph import FunctionGraph
from ..graph.serialize import (
    CanonicalForm,
    OutputTypesChanged,
    canonical_form,
    decode_graph,
    dumps,
    encode_graph,
    form_signature,
    graph_signature,
    loads,
)
from ..mode import DEBUG, Mode, debug_patience

__all__ = [
    "optimize_or_load",
    "kernel_source_record",
    "KERNEL_SOURCE_FIELD",
    "CARRIED_FIELD",
    "build_runner",
    "inner_functions",
    "link_inner_functions",
    "inner_graph_nodes",
    "inner_function_mode",
    "optimize_graph",
    "attach_traces",
    "attach_traces_of",
    "check_stability",
    "holds_objects",
]

log = logging.getLogger(__name__)

GRAPH_FILE = "graph.pkl"


def optimize_graph(original: FunctionGraph, mode: Mode) -> FunctionGraph:
    """A rewritten copy of ``original`` (which is left untouched).

    Each node is tagged with ``origin``, its position among the nodes of the graph's canonical
    text (rewrites pass it on to the nodes they make), so that the optimized graph, even one
    loaded from the cache for another function with the same key, names the user's source
    lines of *this* function (:func:`attach_traces`). Under a mode that merges, the optimizer
    starts from the graph with its equal nodes merged: a subexpression written twice or once
    (one function key) optimizes to one graph.
    """
    from ..rewrite import optimize  # not imported on a cache hit, which never optimizes
    from ..rewrite.destroyed import copy_destroyed_inputs

    ins, outs, copies = clone_graph(original.inputs, original.outputs)
    fg = FunctionGraph(ins, outs, clone=False)
    merges = mode.merges()
    form = canonical_form(original.inputs, original.outputs, merges)
    for node in toposort(original.outputs, blockers=original.inputs):
        copies[node.outputs[0]].owner.tag["origin"] = form.number[id(node)]
    if merges:
        from ..rewrite.merge import merge

        merge(fg)
    return attach_traces(copy_destroyed_inputs(optimize(fg, mode)), form)


def check_stability(original: FunctionGraph, mode: Mode, optimized: FunctionGraph) -> None:
    """``DebugMode(stability_patience=N)``: optimize ``original`` N - 1 more times and raise
    ``StochasticOrder`` when a run gives another graph than ``optimized`` (the optimizer must
    give one graph from one graph, whatever the order it meets its nodes in). A function loaded
    from the compiledir is not optimized again: its entry, under this mode's key, was checked when
    it was stored."""
    if not mode.linker.startswith(DEBUG):
        return
    patience = debug_patience(mode.linker[len(DEBUG) :])
    first = graph_signature(optimized)
    for attempt in range(2, patience + 1):
        again = optimize_graph(original, mode)
        if graph_signature(again) == first:
            continue
        from ..errors import StochasticOrder

        ops = [str(n.op) for n in optimized.toposort()], [str(n.op) for n in again.toposort()]
        at = next((k for k, (a, b) in enumerate(zip(*ops)) if a != b), min(map(len, ops)))
        if ops[0] == ops[1]:
            where = "the same ops in the same order, with other inputs or constants"
        else:
            was, now = (o[at] if at < len(o) else "nothing" for o in ops)
            where = f"the first different node, at position {at}: {was}, then {now}"
        raise StochasticOrder(
            f"DebugMode: optimization {attempt} of {patience} of one graph gave another optimized "
            f"graph than the first ({len(ops[0])} nodes, then {len(ops[1])}; {where}). "
            "A rewrite depends on something other than the graph (an iteration order over a set or "
            "ids, a random choice): make it deterministic."
        )


def attach_traces(optimized: FunctionGraph, form: CanonicalForm) -> FunctionGraph:
    """Give each optimized node the creation trace of the original node it comes from, the
    function that made it (``made_by``: its name and the fix its size and index errors
    suggest) and that node itself (``written``: a fused loop's size errors name its op).
    ``form``: the original graph's canonical form (under the mode's ``merges``), whose nodes
    the ``origin`` tags count; a node standing for equal nodes merged into one also gets their
    traces (``also``), so that its errors name each line that wrote it. The graph's inputs take
    this function's names and each the user's input it stands for (``written``; its inputs are
    ``form``'s first roots): names are in no key, so an entry another function stored for the
    same graph has that function's, and errors name inputs.

    A node running an inner graph gets that graph's messages from the graph being compiled
    too, never from a cache entry (no key reads them): a loop's step those of the step the
    user wrote (``_inner_messages``: which variable an update fits, the line of a ``take``),
    and a lazy ``ifelse``'s branches, made of this graph's nodes, those of the nodes their
    ``origin`` tags count. A node running the op of the node it comes from (the user's own
    op, which a hit takes from the graph being compiled: :func:`_referrer`) has the user's
    own inner graph, whose nodes carry their messages: it is not walked."""
    for mine, given in zip(optimized.inputs, form.roots):
        if mine is not given and mine.type == given.type and not hasattr(mine, "get_value"):
            mine.name = given.name  # never a shared variable's: that is the user's own object
            # the input the user wrote: a size error found again in the user's graph
            # (``runtime/errors.py``) names this input by its position
            mine.tag["written"] = given
    for node in optimized.toposort():
        _attach_trace(node, form)
    return optimized


def attach_traces_of(optimized: FunctionGraph, original: FunctionGraph, mode: Mode) -> FunctionGraph:
    """:func:`attach_traces` from ``original`` itself (the graph ``optimized`` was rewritten
    from under ``mode``): for an optimized graph that came without them (a pickle's)."""
    return attach_traces(optimized, canonical_form(original.inputs, original.outputs, mode.merges()))


def _attach_trace(node: Any, form: CanonicalForm) -> None:
    """What :func:`attach_traces` does for ``node`` and the nodes of its inner graph."""
    origins = form.nodes
    k = node.tag.get("origin")
    own = False
    if k is not None and k < len(origins):
        _inner_messages(node, origins[k])
        own = node.op is origins[k].op
        for key in _MESSAGE_TAGS:
            if key in origins[k].tag:
                node.tag[key] = origins[k].tag[key]
        # the node the user wrote: a fused loop's size error names its op where none of the
        # loop's steps is the one that fails, and only the inputs it reads (``runtime/errors.py``)
        node.tag["written"] = origins[k]
        traces = [n.tag["trace"] for n in form.also.get(k, ()) if n.tag.get("trace")]
        others = [t for t in dict.fromkeys(traces) if t != origins[k].tag.get("trace")]
        if others:
            node.tag["also"] = others
    inner = getattr(node.op, "inner", None)
    if isinstance(inner, FunctionGraph) and not own:
        for inner_node in inner.toposort():
            _attach_trace(inner_node, form)


#: The tags of a node that its errors read: the user's line that made it (``trace``) and the
#: function and fix a failed check names (``made_by``).
_MESSAGE_TAGS = ("trace", "made_by")


def _inner_messages(node: Any, origin: Any) -> None:
    """Give ``node``'s inner graph (a loop's step) the messages of the inner graph of
    ``origin``, the node of the graph being compiled it comes from (``attach_traces``): the op
    of ``origin`` itself where the two are equal, else (a rewrite made the op anew: fewer
    outputs) each inner node the tags of the original inner node of equal structure."""
    op, own = node.op, origin.op
    if op is own or getattr(op, "inner", None) is None or getattr(own, "inner", None) is None:
        return
    if type(op) is type(own) and op.signature() == own.signature():
        node.op = own
        return
    numbers: dict[Any, int] = {}
    originals: dict[int, Any] = {}
    for key, inner in _structural_keys(own.inner, numbers):
        originals.setdefault(key, inner)
    for key, inner in _structural_keys(op.inner, numbers):
        source = originals.get(key)
        if source is None:
            continue
        for tag in _MESSAGE_TAGS:
            if tag in source.tag:
                inner.tag[tag] = source.tag[tag]
            else:
                inner.tag.pop(tag, None)
        _inner_messages(inner, source)


def _structural_keys(graph: FunctionGraph, numbers: dict[Any, int]) -> list[tuple[int, Any]]:
    """Each node of ``graph`` with a number telling its structure: its op and, recursively, what
    it reads (an input by its position, a constant by its value), so that a node of a graph
    keeps its number in a graph rewritten from it. ``numbers`` holds the numbers given so far:
    pass one dict for graphs whose numbers are compared."""
    ids: dict[int, int] = {}

    def number(key: Any) -> int:
        return numbers.setdefault(key, len(numbers))

    for k, v in enumerate(graph.inputs):
        ids[id(v)] = number(("input", k))
    out = []
    for node in graph.toposort():
        for v in node.inputs:
            if id(v) not in ids:  # a root other than an input
                value = v.signature() if isinstance(v, Constant) else None
                ids[id(v)] = number(("root", type_text(v.type), value))
        key = number((node.op.signature(), tuple(ids[id(v)] for v in node.inputs)))
        out.append((key, node))
        for j, o in enumerate(node.outputs):
            ids[id(o)] = number((key, j))
    return out


def _keyed(original: FunctionGraph, mode: Mode) -> tuple[Any, CanonicalForm]:
    """The function key of ``original`` under ``mode`` and the current flags, and the canonical
    form it hashes (what :func:`attach_traces` reads)."""
    from ..cache.keys import function_key as fkey

    form = canonical_form(original.inputs, original.outputs, mode.merges())
    merged = [node for nodes in form.also.values() for node in nodes]
    if reread_user_code([*form.nodes, *merged]):  # the form merged by the old identities
        form = canonical_form(original.inputs, original.outputs, mode.merges())
    key = fkey(form_signature(original, form), mode.signature(), config.code_flags())
    return key, form


def function_key(original: FunctionGraph, mode: Mode) -> Any:
    """The function key of ``original`` under ``mode`` and the current flags: a subexpression
    written twice keys as written once when the mode merges (``Mode.merges``)."""
    return _keyed(original, mode)[0]


#: The function entry's record of its graph's C kernel library (meta.json).
KERNEL_SOURCE_FIELD = "kernel_source_sha256"


def kernel_source_record(loaded: FunctionGraph, mode: Mode) -> dict[str, str]:
    """What a function entry records of its C kernel library: the hash of the source that
    ``loaded``, the graph as a hit decodes it from the entry, renders to (the source depends on
    the graph alone), so that a hit keys the library without rendering it. Nothing for other
    linkers, or a graph without kernels. The source is kept for building the library next
    (``c_linker.remember_source``): a cold compile renders it once."""
    if mode.linker != "c" or mode.device == "cuda" or holds_objects(loaded):
        return {}
    from ..codegen.c_linker import remember_source
    from ..codegen.c_module import render_module

    source = render_module(loaded, n_explicit=0, single=False).source
    return {KERNEL_SOURCE_FIELD: remember_source(source)} if source else {}


def _recorded_kernel_source(meta: Any) -> str | None:
    from ..cache.keys import is_source_sha256

    value = meta.get(KERNEL_SOURCE_FIELD)
    return value if is_source_sha256(value) else None  # anything else: render as before


def optimize_or_load(
    original: FunctionGraph, mode: Mode, shared: Sequence[Any]
) -> tuple[FunctionGraph, str, str | None, Any]:
    """The optimized graph for ``original`` under ``mode``, from the compiledir when present;
    its function key's digest; the ``keys.source_sha256`` of its C kernel library when a
    loaded entry records one (:func:`kernel_source_record`); and, on a miss, the compiler call
    already started on that library (``c_linker.EarlyLibrary``, None if none: the caller
    hands it to :func:`build_runner` and closes it)."""
    from ..cache import cache

    key, form = _keyed(original, mode)
    entry = _carried_entry(key) or cache.get(key)
    loaded = None
    if entry is not None:
        try:
            data = entry.read_bytes(GRAPH_FILE)
            enc = loads(data, _resolver(form))
            loaded = attach_traces(decode_graph(enc, shared), form)
        except Exception as e:  # a bad entry must never stop the user: rebuild it
            log.warning("fncache: function entry %s could not be loaded (%s); rebuilding", key.digest[:16], e)
        if loaded is not None and not run_own_ops(loaded, form):
            log.info(
                "fncache: function entry %s holds a user's op this graph does not; rebuilding",
                key.digest[:16],
            )
            loaded = None
    if loaded is not None:
        sha = _recorded_kernel_source(entry.meta)
        _collect(key.digest, data, sha)
        _carry(loaded, entry)
    if loaded is not None and not config.cache_verify_hits:
        return loaded, key.digest, sha, None
    optimized = optimize_graph(original, mode)
    check_stability(original, mode, optimized)
    if loaded is not None:
        from ..cache.hitcheck import check_hit

        check_hit(key, entry.meta, {"optimized graph": (graph_signature(loaded), graph_signature(optimized))})
        return loaded, key.digest, None, None  # verified hits render the library in full
    try:
        payload = dumps(encode_graph(optimized, shared), _referrer(form))
    except Exception as e:  # graphs with unpicklable user objects still run, uncached
        log.info("fncache: not caching function %s: its graph cannot be pickled (%s)", key.digest[:16], e)
        return optimized, key.digest, None, None
    # Recorded from the graph as a hit will decode it: the library a hit finds under the
    # record is then the one its own graph renders to, whatever a pickle round trip changes.
    try:
        decoded = attach_traces(decode_graph(loads(payload, _resolver(form)), shared), form)
    except OutputTypesChanged as e:  # a hit would not get this graph back: it runs uncached
        log.warning("fncache: not caching function %s: %s", key.digest[:16], e)
        return optimized, key.digest, None, None
    record = kernel_source_record(decoded, mode)
    meta = {"nodes": len(optimized.toposort()), **record}
    sha = record.get(KERNEL_SOURCE_FIELD)
    if sha is None or not _only_fncache_ops(decoded):
        _store(key, payload, meta, optimized)
        return optimized, key.digest, None, None
    # Nothing of the user's in the graph: the miss runs what later hits run, the graph decoded,
    # and builds its library from the source just rendered for the record; the compiler starts
    # on it now, and runs while the entry is published and the program rendered.
    from ..codegen.c_linker import early_library

    early = early_library(sha)
    try:
        _store(key, payload, meta, decoded)
    except BaseException:
        if early is not None:
            early.close()
        raise
    return decoded, key.digest, sha, early


#: The field of a function entry's metadata that lists the entries of its inner functions it
#: carries, by key digest: the file holding each one's graph and its kernel library record
#: (the fields of that function's own entry).
CARRIED_FIELD = "inner_functions"
#: Node tags a function's graph hands its inner functions' linking (:func:`inner_functions`):
#: the entries a hit's entry carries, and a miss's entry waiting to be published.
_CARRIED_TAG, _PENDING_TAG = "carried_entries", "pending_entry"
#: While inner functions are linked after a hit: the entries the hit's entry carries, by key
#: digest (the entry, the file, the record). Each inner function is keyed as any other and
#: found there, under its own key, instead of by a lookup of its own.
_carried: ContextVar[dict[str, tuple[Any, str, dict[str, str]]] | None] = ContextVar(
    "fncache_carried_entries", default=None
)
#: While inner functions are linked after a miss: the lists collecting each function entry
#: found or stored meanwhile (key digest, graph bytes, record), one list per function whose
#: entry waits to carry them (an inner function's own inner functions are the outer one's too).
_collectors: ContextVar[tuple[list[tuple[str, bytes, dict[str, str]]], ...]] = ContextVar(
    "fncache_entry_collectors", default=()
)


class _CarriedEntry:
    """An inner function's entry as the entry of the function holding it carries it, verified
    with that entry: its graph and its record (``meta``)."""

    __slots__ = ("meta", "_outer", "_file")

    def __init__(self, outer: Any, file: str, meta: dict[str, str]) -> None:
        self.meta, self._outer, self._file = meta, outer, file

    def read_bytes(self, name: str) -> bytes:
        if name != GRAPH_FILE:
            raise KeyError(f"a carried function entry holds {GRAPH_FILE} only, not {name!r}")
        return self._outer.read_bytes(self._file)


def _carried_entry(key: Any) -> _CarriedEntry | None:
    """The entry of ``key`` as the entry of the function being linked carries it, if it does
    (``cache_verify_hits`` looks every entry up, to compare it with a rebuild)."""
    carried = _carried.get()
    found = carried.get(key.digest) if carried and not config.cache_verify_hits else None
    return None if found is None else _CarriedEntry(*found)


def _carry(loaded: FunctionGraph, entry: Any) -> None:
    """Hand the nodes of ``loaded`` (a hit's graph) running inner functions the entries of
    those functions that ``entry`` carries, for :func:`inner_functions` to find them in."""
    records = entry.meta.get(CARRIED_FIELD)
    if not isinstance(records, dict) or not records:
        return
    nodes = inner_graph_nodes(loaded)
    carried = {
        digest: (entry, record["graph"], {k: v for k, v in record.items() if k != "graph"})
        for digest, record in records.items()
        if isinstance(record, dict) and isinstance(record.get("graph"), str)
    }
    for node in nodes:
        node.tag[_CARRIED_TAG] = carried


def _collect(digest: str, data: bytes, sha: str | None) -> None:
    """Note a function entry found or stored (key ``digest``, its graph's bytes ``data``, its
    kernel library record ``sha``) for the entries waiting to carry it (:func:`_store`)."""
    collectors = _collectors.get()
    if collectors:
        item = (digest, data, {} if sha is None else {KERNEL_SOURCE_FIELD: sha})
        for found in collectors:
            found.append(item)


def _store(key: Any, payload: bytes, meta: dict[str, Any], graph: FunctionGraph) -> None:
    """Publish the function entry of ``key`` (graph bytes ``payload``): now, or, when ``graph``
    (what the function runs) has nodes running inner functions, once :func:`inner_functions`
    has linked them, carrying their entries, so that a hit looks up this entry alone."""
    from ..cache import cache

    _collect(key.digest, payload, meta.get(KERNEL_SOURCE_FIELD))
    nodes = inner_graph_nodes(graph)
    if not nodes:
        cache.put_bytes(key, {GRAPH_FILE: payload}, meta)
        return
    for node in nodes:
        node.tag[_PENDING_TAG] = (key, payload, meta)


def _publish(
    pending: tuple[Any, bytes, dict[str, Any]], found: list[tuple[str, bytes, dict[str, str]]]
) -> None:
    """Publish a function entry :func:`_store` left ``pending``, carrying the entries ``found``
    while its inner functions were linked (each inner function keeps its own entry too)."""
    from ..cache import cache

    key, payload, meta = pending
    files = {GRAPH_FILE: payload}
    records: dict[str, dict[str, str]] = {}
    for digest, data, record in found:
        if digest != key.digest and digest not in records:
            files[f"inner-{digest}.pkl"] = data
            records[digest] = {"graph": f"inner-{digest}.pkl", **record}
    cache.put_bytes(key, files, {**meta, CARRIED_FIELD: records} if records else meta)


def _inner_graph_ops(form: CanonicalForm) -> dict[int, int]:
    """The ops of the nodes of ``form`` (the graph being compiled) that run an inner graph:
    each op's position among ``form.nodes`` (its first node's), by ``id``."""
    # a graph holds such an op only once its module is loaded (as inner_graph_nodes)
    ops = sys.modules.get("fncache.tensor.inner_graph")
    if ops is None:
        return {}
    found: dict[int, int] = {}
    for k, node in enumerate(form.nodes):
        if isinstance(node.op, ops.InnerGraphOp):
            found.setdefault(id(node.op), k)
    return found


def _referrer(form: CanonicalForm) -> Callable[[Any], Any] | None:
    """What a function entry's pickle writes instead of an op that runs an inner graph and is
    the op of a node of the graph being compiled (``form``): that node's position. The key
    hashes each node's op identity (its inner graph's signature) at its position, so the graph
    of a hit, under the same key, has an op of that identity there: the hit takes it
    (:func:`_resolver`), as the miss's optimized graph holds it, and neither decodes nor hashes
    the inner graph again. None when the graph has no such op."""
    positions = _inner_graph_ops(form)
    if not positions:
        return None
    return lambda obj: positions.get(id(obj))


def _resolver(form: CanonicalForm) -> Callable[[Any], Any]:
    """The op of the node of ``form`` at the position a function entry's pickle names
    (:func:`_referrer`); an ``UnpicklingError`` (the entry is rebuilt) for a position where
    the graph being compiled has no op running an inner graph."""
    positions: list[set[int]] = []  # found at the first reference: most entries hold none

    def resolve(position: Any) -> Any:
        if not positions:
            positions.append(set(_inner_graph_ops(form).values()))
        if type(position) is not int or position not in positions[0]:
            raise pickle.UnpicklingError(
                f"the entry names node {position!r} of the graph being compiled, which runs no inner graph"
            )
        return form.nodes[position].op

    return resolve


def run_own_ops(loaded: FunctionGraph, form: CanonicalForm) -> bool:
    """Make each node of ``loaded`` (a graph decoded from a hit's entry) holding a user's op
    (one whose identity read the user's code or state) run the user's own op object of the
    graph being compiled (``form``), of equal identity, instead of the entry's copy, as the
    function compiled on a miss does: the state such an op keeps as it runs (a buffer it
    fills, a count: ``canonical.running_state``, left out of its identity), and what an
    ``as_op`` function closes over, are then the user's. A node is matched to the node it
    comes from (its ``origin``), else to any op of equal identity, also in inner graphs (an
    ``OpFromGraph`` the optimizer inlined). False if one has no match (the entry then is not
    used)."""
    own: dict[str, Any] = {}
    pending = [node for nodes in form.also.values() for node in nodes]
    for node in itertools.chain(form.nodes, pending):  # the list grows with inner graphs' nodes
        op = node.op
        if "_identity_watch" in op.__dict__:
            own.setdefault(op.signature(), op)
        if getattr(op, "user_code", False):
            pending.extend(n for inner_op in op.inner_ops() for n in inner_op.inner.toposort())
    if not own:
        return True  # nothing of the user's: the common hit
    kinds = {type(op) for op in own.values()}
    graphs = [loaded]
    while graphs:
        for node in graphs.pop().toposort():
            op = node.op
            if getattr(op, "user_code", False):
                graphs.extend(inner_op.inner for inner_op in op.inner_ops())
            if not (code_in_identity(op) or type(op) in kinds):
                continue
            sig = op.signature()
            if "_identity_watch" not in op.__dict__:
                continue  # nothing of the user's read (an installed package's function)
            k = node.tag.get("origin")
            origin = form.nodes[k].op if isinstance(k, int) and k < len(form.nodes) else None
            match = origin if origin is not None and origin.signature() == sig else own.get(sig)
            if match is None:
                return False
            node.op = match
    return True


def _only_fncache_ops(graph: FunctionGraph) -> bool:
    """Whether every op of ``graph`` is one of fncache's own, with nothing of the user's in it.
    A `PythonOp` holds the user's function, which a pickle round trip copies (with its
    closure); a graph with one runs the user's own objects, not the decoded copies. The inner
    graphs of `Scan`, `JacobianRows` and `LazyIfElse` nodes are looked into too."""
    from ..tensor.pyop import PythonOp

    graphs = [graph]
    while graphs:
        for node in graphs.pop().toposort():
            if not type(node.op).__module__.startswith("fncache.") or isinstance(node.op, PythonOp):
                return False
            inner = getattr(node.op, "inner", None)
            if isinstance(inner, FunctionGraph):
                graphs.append(inner)
    return True


def holds_objects(graph: FunctionGraph) -> bool:
    """Whether a value of ``graph`` is not an array (a scipy.sparse matrix of
    ``fncache.sparse``). The C run-time's slots and the CUDA runner hold arrays only, so such a
    graph runs in the Python linker whatever the mode's linker."""
    # a graph holds a sparse type only once its module is loaded: other graphs need no walk
    # (nor the Python linker's import, which a hit on the C linker does without)
    if "fncache.tensor.sparse.type" not in sys.modules:
        return False
    from .linker_py import holds_object

    values = [*graph.inputs, *(v for node in graph.toposort() for v in (*node.inputs, *node.outputs))]
    return any(map(holds_object, values))


def inner_graph_nodes(graph: FunctionGraph) -> list[Any]:
    """The nodes of ``graph`` whose op runs an inner function (`JacobianRows`, `Scan`)."""
    # A graph holds such an op only once its module is loaded (building or unpickling one
    # imports it): a warm hit of any other graph neither imports it nor walks the graph here.
    ops = sys.modules.get("fncache.tensor.inner_graph")
    if ops is None:
        return []
    return [node for node in graph.toposort() if isinstance(node.op, ops.InnerGraphOp)]


def inner_function_mode(mode: Mode) -> Mode:
    """The mode of the inner functions of a function compiled under ``mode``: the same, on the
    host (the op runs its inner function from numpy values). A mode already on the host is
    itself (``fc.MonitorMode`` keeps its functions)."""
    if mode.device == "cpu":
        return mode
    return Mode(mode.linker, mode.optimizer, mode.included_tags, mode.excluded_tags, "cpu")


def inner_functions(optimized: FunctionGraph, mode: Mode) -> Callable[[], None] | None:
    """What links the inner functions of ``optimized``'s `JacobianRows`, `Scan`, `LazyIfElse`
    and `OpFromGraph` nodes: it compiles each inner graph under :func:`inner_function_mode` and
    hands it to its node, so the compile happens with the outer function's, not on its first
    call. Every inner function's compile is started (``InnerGraphOp.start``: its kernel
    library's compiler running) before the first is waited for, so their compilers run at once
    (as many as ``toolchain/slots.py`` lets run); a failure stops those not finished. None when
    the graph has no such node."""
    nodes = inner_graph_nodes(optimized)
    if not nodes:
        return None
    inner_mode = inner_function_mode(mode)

    def link() -> None:
        carried = _take_tag(nodes, _CARRIED_TAG)
        pending = _take_tag(nodes, _PENDING_TAG)
        found: list[tuple[str, bytes, dict[str, str]]] = []
        resets = []
        if carried:
            resets.append((_carried, _carried.set({**(_carried.get() or {}), **carried})))
        if pending is not None:
            resets.append((_collectors, _collectors.set((*_collectors.get(), found))))
        # by op (nodes of one op share its function): its compile started, and the entries
        # found or stored while it is compiled
        started: dict[int, tuple[Any, list[tuple[str, bytes, dict[str, str]]]]] = {}
        try:
            for node in nodes:
                if id(node.op) not in started:
                    mine: list[tuple[str, bytes, dict[str, str]]] = []
                    with _collecting(mine):
                        started[id(node.op)] = node.op.start(inner_mode), mine
            for node in nodes:
                start, mine = started[id(node.op)]
                with _collecting(mine):
                    fn = node.tag["inner_function"] = start()
                # the inputs an inner function's size error is located among once said from
                # outside it (``InnerGraphOp.named_outside``), for this function's own node
                node.tag["graph_inputs"] = optimized.inputs
                _remember_entries(fn, mine)
        finally:
            for start, _ in started.values():
                start.close()
            for var, token in reversed(resets):
                var.reset(token)
        if pending is not None:
            _publish(pending, found)

    return link


@contextlib.contextmanager
def _collecting(found: list[tuple[str, bytes, dict[str, str]]]) -> Iterator[None]:
    """Have the function entries found or stored meanwhile noted in ``found`` too."""
    token = _collectors.set((*_collectors.get(), found))
    try:
        yield
    finally:
        _collectors.reset(token)


#: The attribute of an inner function holding the entries found or stored when it was
#: compiled (its own and its inner functions'), for each later function whose graph runs it.
_ENTRIES_ATTR = "_fncache_inner_entries"


def _remember_entries(fn: Any, found: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """Keep on ``fn`` (an op's inner function, or a tuple of them) the entries ``found`` while
    it was compiled. An op compiles its function once per mode: the function of a graph running
    an op compiled before finds none of them, and hands the entries that op's function keeps to
    the entries waiting to carry them, so that its own entry carries them all the same."""
    functions = fn if isinstance(fn, tuple) else (fn,)
    kept = {digest: item for f in functions for digest, item in getattr(f, _ENTRIES_ATTR, {}).items()}
    got = {item[0]: item for item in found}
    for collector in _collectors.get():
        collector.extend(item for digest, item in kept.items() if digest not in got)
    if got.keys() - kept.keys():
        kept.update(got)
        for f in functions:
            setattr(f, _ENTRIES_ATTR, kept)


def _take_tag(nodes: list[Any], tag: str) -> Any:
    """The value of node tag ``tag`` that :func:`_store` or :func:`_carry` gave ``nodes`` (the
    same for each), taken off them: it serves one linking."""
    found = None
    for node in nodes:
        found = node.tag.pop(tag, found)
    return found


def link_inner_functions(optimized: FunctionGraph, mode: Mode) -> None:
    """Link the inner functions of ``optimized`` now (:func:`inner_functions`)."""
    link = inner_functions(optimized, mode)
    if link is not None:
        link()


def build_runner(
    optimized: FunctionGraph,
    mode: Mode,
    name: str,
    *,
    n_explicit: int,
    single: bool,
    converter: Any,
    on_error: Any,
    on_kwargs: Any,
    source_sha256: str | None = None,
    early: Any = None,
) -> Any:
    """A callable running ``optimized``: numpy for ``linker='py'``, native code for ``'c'``,
    CUDA kernels for ``device='cuda'``. ``source_sha256``: the function entry's record of the
    C kernel library (:func:`kernel_source_record`); ``early``: the compiler call already
    started on it (:func:`optimize_or_load`).

    The inner functions of the graph's `JacobianRows` and `Scan` nodes are compiled with it; on the C
    backend while the compiler builds this graph's kernel library (their own compiler calls
    run beside it)."""
    link_inner = inner_functions(optimized, mode)
    objects = holds_objects(optimized)
    if link_inner is not None and (mode.device == "cuda" or mode.linker != "c" or objects):
        link_inner()
    # DebugMode checks such a graph's nodes itself (the C run-time runs its dense nodes only)
    if objects and mode.linker.partition(":")[0] not in ("py", "nanguard", "monitor", "debug"):
        from .linker_py import PyRunner

        return PyRunner(optimized, allow_gc=config.allow_gc)
    if mode.device == "cuda":
        from ..codegen.cuda.linker import build_cuda_runner

        return build_cuda_runner(
            optimized,
            mode,
            name,
            n_explicit=n_explicit,
            single=single,
            converter=converter,
            on_error=on_error,
            on_kwargs=on_kwargs,
        )
    kind, _, checks = mode.linker.partition(":")
    if kind == "debug":
        from .linker_debug import DebugRunner

        return DebugRunner(optimized, allow_gc=config.allow_gc, checks=checks, name=name)
    if kind == "monitor":
        from .linker_debug import MonitorHooks
        from .linker_py import PyRunner

        pre, post = getattr(mode, "pre_func", None), getattr(mode, "post_func", None)
        return PyRunner(optimized, allow_gc=config.allow_gc, hooks=lambda: MonitorHooks(pre, post, optimized))
    if mode.linker != "c":  # "py", or "nanguard:" and its checks
        from .linker_py import PyRunner

        return PyRunner(optimized, allow_gc=config.allow_gc, guard=checks)
    from ..codegen.c_linker import build_c_runner

    return build_c_runner(
        optimized,
        name,
        n_explicit=n_explicit,
        single=single,
        converter=converter,
        on_error=on_error,
        on_kwargs=on_kwargs,
        source_sha256=source_sha256,
        meanwhile=link_inner,
        early=early,
    )
