"""Ops that run a graph of their own (`JacobianRows`, `Scan`, `LazyIfElse`).

Such an op holds its inner graph, not a compiled function. Its identity includes the inner
graph's signature, the same canonical hash a function key is built from, so equal inner graphs
merge and key alike and two different ones never share a cache entry. A pickle carries the
inner graph's flat encoding, and the signature is recomputed from it where it is loaded. The
run-time compiles the inner graph under the outer function's mode when it links the outer one
(``runtime/compile.py``, ``inner_functions``), through ``fc.function``, so it is cached and keyed
like any other function. An op whose node runs one of several inner functions (`LazyIfElse`: one
per branch) holds one op per inner graph and names them in ``inner_ops``, which linking and
pickling go through.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..config import config
from ..errors import BroadcastError, NotAlignedError
from ..graph.basic import (
    Apply,
    Constant,
    Op,
    Variable,
    clone_graph,
    forget_identity,
    made_again_otherwise,
    merges,
    reread_user_code,
    runs_user_code,
    toposort,
    with_prop_defaults,
)
from ..graph.fgraph import FunctionGraph
from ..graph.serialize import decode_graph, encode_graph, graph_signature
from ..graph.types import is_int
from .elemwise import users_name
from .hooks import function_starter
from .size_sources import size_source

#: the size errors an inner function raises that its node says from outside (`named_outside`)
SizeError = BroadcastError | NotAlignedError
SIZE_ERRORS = (BroadcastError, NotAlignedError)

__all__ = ["SIZE_ERRORS", "InnerGraphOp", "StartedInner", "lift_inner_graph", "outer_values"]


class InnerGraphOp(Op):
    """An op whose node runs ``inner`` (a `FunctionGraph`). Its identity is ``inner_key``:
    a subclass adding props lists it among them too; the other attributes are plain values,
    pickled as they are."""

    __props__: tuple[str, ...] = ("inner_key",)

    #: the name the inner function is compiled under
    inner_name = "inner"
    #: what a pickle leaves out: the graph travels encoded, and the rest is remade from it
    #: where it is loaded
    not_pickled = frozenset(
        {"inner", "inner_key", "functions", "_signature", "_identity_watch", "side_effects", "user_code"}
    )

    def __init__(self, inner: FunctionGraph) -> None:
        self._use(inner)

    def _use(self, inner: FunctionGraph) -> None:
        self.inner = inner
        self.inner_key = graph_signature(inner)
        #: an inner node with side effects (a Print, a user's callable) runs at every run of
        #: this op's every node: two equal nodes are then not one (`merges`), nor is a node
        #: run at compile time
        order = inner.toposort()
        self.side_effects = not all(merges(node.op) for node in order)
        #: whether the inner graph runs a user's op (here or in an inner graph of its own),
        #: whose code a function key reads again (`reread_inner_code`)
        self.user_code = any(runs_user_code(n.op) for n in order)
        #: compiled inner functions by mode signature (None: the default mode); never pickled
        self.functions: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        own = {k: v for k, v in self.__dict__.items() if k not in self.not_pickled}
        return {**own, "inner": encode_graph(self.inner)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(with_prop_defaults(type(self), state))
        inner = decode_graph(state.pop("inner"))
        self.__dict__.update(state)
        # The identity is recomputed from the graph itself, never trusted from the pickle.
        self._use(inner)

    def reread_inner_code(self) -> bool:
        """Read the code of the user's ops of the inner graph again (``reread_user_code``):
        whether it changed since this op's identity was computed (a module value it reads
        changed between two compiles of graphs holding this one op); the identity, and the
        inner functions compiled with the old values, are then made anew."""
        if not reread_user_code(self.inner.toposort()):
            return False
        self._use(self.inner)
        forget_identity(self)
        return True

    def inner_ops(self) -> tuple["InnerGraphOp", ...]:
        """The ops whose inner functions the node runs, one per inner graph: the op itself,
        or (an op with several inner graphs) one op holding each."""
        return (self,)

    def start(self, mode: Any = None) -> "StartedInner":
        """The inner graph's compile under ``mode`` (None: the default mode) started: its
        kernel library's compiler runs while the caller starts others (``fc.function`` in two
        steps, ``hooks.function_starter``). Calling the result finishes it (once per mode: a
        mode compiled already starts nothing)."""
        key = None if mode is None else mode.memo_key()
        if key in self.functions:
            return StartedInner(lambda: self.functions[key], lambda: None)
        # It runs once per row or step on same-sized values: its intermediates are kept
        # and reused from call to call (allow_gc off) rather than allocated for each.
        with config.change_flags(allow_gc=False):
            started = function_starter()(
                list(self.inner.inputs),
                list(self.inner.outputs),
                mode=mode,
                name=self.inner_name,
                on_unused_input="ignore",
                trust_input=True,  # the values come from the outer function, exactly typed
            )

        def finish() -> Any:
            fn = self.functions.get(key)
            if fn is None:
                with config.change_flags(allow_gc=False):
                    fn = self.functions[key] = started()
            return fn

        return StartedInner(finish, started.close)

    def function(self, mode: Any = None, build: Callable[[], Any] | None = None) -> Any:
        """The inner graph compiled under ``mode`` (None: the default mode), once per mode.
        ``build``: makes that function instead of compiling the inner graph (an unpickled
        function brings its inner functions along), under the same flags."""
        if build is None:
            return self.start(mode)()
        key = None if mode is None else mode.memo_key()
        fn = self.functions.get(key)
        if fn is None:
            with config.change_flags(allow_gc=False):
                fn = self.functions[key] = build()
        return fn

    def given_whole(self, node: Apply) -> dict[int, Variable]:
        """The outer variables ``node`` gives the inner graph whole, by the position of the inner
        input each is given as (not a loop's rows of a sequence, nor its previous outputs)."""
        return {}

    def named_outside(self, e: SizeError, node: Apply) -> SizeError:
        """``e`` (a `BroadcastError` or `NotAlignedError`), raised by the inner function
        ``node`` ran, said from outside it: each inner input it names unnamed (a value the inner
        graph reads computed outside it, ``-y``, ``x @ w`` or ``2 * W``: what does not depend on
        its own inputs is computed once, outside, and comes in unnamed) named by the user's
        input the outer value has its size of (``size_source``), or, where that is an unnamed
        input of the function running ``node`` (a loop nested in another inner graph), at its
        position there, for that function's own node to name it in turn."""
        whole, outer = self.given_whole(node), node.tag.get("graph_inputs", ())
        said: dict[tuple[int, int], tuple[int | None, str | None, int]] = {}
        for k, _, axis, _ in e.sizes:
            if k in whole:
                v, d = size_source(whole[k], axis)
                at = next((j for j, u in enumerate(outer) if u is v), None)
                said[k, axis] = (at, users_name(v), d)
        return e.renamed(said)

    def node_function(self, node: Apply) -> Any:
        """The inner function ``node`` runs: the one the run-time linked for it under the
        outer function's mode, or (a node evaluated elsewhere: constant folding) the default
        mode's."""
        return node.tag.get("inner_function") or self.function()


class StartedInner:
    """An inner function being compiled (:meth:`InnerGraphOp.start`): calling it waits for
    its compiler and returns the function; :meth:`close` stops the compiler of one never
    called (calling it again after close compiles what is left without it)."""

    __slots__ = ("_finish", "close")

    def __init__(self, finish: Callable[[], Any], close: Callable[[], None]) -> None:
        self._finish = finish
        self.close = close

    def __call__(self) -> Any:
        try:
            return self._finish()
        finally:
            self.close()


def _shape_computations(order: Sequence[Apply]) -> set[int]:
    """The ids of the variables of ``order`` computed from shapes and constants alone: a
    `Shape`'s output, and the small integer results (scalars, vectors) of nodes reading only
    such variables and constants."""
    from .shape_ops import Shape

    found: set[int] = set()
    for node in order:
        if isinstance(node.op, Shape) or (
            all(is_int(o.dtype) and o.ndim <= 1 for o in node.outputs)
            and all(isinstance(v, Constant) or id(v) in found for v in node.inputs)
        ):
            found.update(id(o) for o in node.outputs)
    return found


def _types_read_through(node: Apply, v: Variable) -> bool:
    """Whether ``node``'s op, made again with an opaque variable of ``v``'s type in its place,
    declares other output types than ``node`` has (``fits_type``, the check a stored graph's
    nodes pass when it is rebuilt): its ``make_node`` read static sizes through ``v``'s
    computation, such as the constant entries of a shape vector ``(2, n)``."""
    opaque = v.type.make_variable(v.name)
    try:
        return made_again_otherwise(node, [opaque if i is v else i for i in node.inputs]) is not None
    except Exception:  # refused without what it read there: it needs the computation
        return True


def _kept_inside(order: Sequence[Apply], dep: set[int], outputs: Sequence[Variable]) -> set[int]:
    """The ids of the variables of ``order`` that depend on no inner input (``dep``) and yet
    stay computed in the inner graph: computations from shapes (`_shape_computations`), and
    the variables a node of the inner graph derived its output types through
    (`_types_read_through`); so, in turn, does what those computations read in the same way."""
    sizes = _shape_computations(order)
    kept = {id(o) for o in outputs if id(o) in sizes}
    todo = [node for node in order if id(node.outputs[0]) in dep]
    todo += [o.owner for o in outputs if id(o) in kept]
    while todo:
        node = todo.pop()
        for v in node.inputs:
            if id(v) in dep or id(v) in kept or v.owner is None or isinstance(v, Constant):
                continue
            if id(v) in sizes or _types_read_through(node, v):
                kept.add(id(v))
                todo.append(v.owner)
    return kept


def outer_values(inner_inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list[Variable]:
    """The variables the part of the graph that depends on ``inner_inputs`` reads without
    depending on them, in a deterministic order: what an inner graph over ``inner_inputs``
    must take from the outer graph.

    Constants stay in the inner graph, and so do computations from shapes (the variables whose
    shapes they read are taken instead) and every computation an inner node's type was derived
    through (:func:`_kept_inside`): ops read static sizes through them when they make their
    nodes (``reshape(g, shape(x))`` is as static as ``x``'s type, ``broadcast_to(r, (2, n))``
    has 2 rows), so as an opaque value such a size would leave nodes typed more precisely than
    their ops make them from the inner graph's inputs, and the inner graph would not rebuild
    node by node, as a pickle and a cache hit rebuild it (the entry would be refused, or a dim
    of size 1 that a later node drops would no longer be known to be 1)."""
    order = toposort(outputs)
    dep = {id(v) for v in inner_inputs}
    for node in order:
        if any(id(v) in dep for v in node.inputs):
            dep.update(id(o) for o in node.outputs)
    kept = _kept_inside(order, dep, outputs)
    found: list[Variable] = []
    seen: set[int] = set()

    def take(v: Variable) -> None:
        if id(v) in dep or id(v) in seen or isinstance(v, Constant):
            return
        seen.add(id(v))
        if id(v) in kept:
            for i in v.owner.inputs:
                take(i)
        else:
            found.append(v)

    for node in order:
        if id(node.outputs[0]) in dep:
            for v in node.inputs:
                take(v)
    for o in outputs:
        take(o)
    return found


def lift_inner_graph(
    inner_inputs: Sequence[Variable], outputs: Sequence[Variable]
) -> tuple[FunctionGraph, list[Variable]]:
    """The inner graph of ``outputs`` over ``inner_inputs`` followed by the values it reads from
    the outer graph (:func:`outer_values`, each a fresh input of its type), and those values."""
    values = outer_values(inner_inputs, outputs)
    heads = [*inner_inputs, *values]
    fresh = {v: v.type.make_variable(v.name) for v in heads}
    ins, outs, _ = clone_graph(heads, list(outputs), replace=fresh)
    return FunctionGraph(ins, outs, clone=False), values
