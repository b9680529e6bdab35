"""``OpFromGraph``: a graph packaged as one op (Theano's ``theano.OpFromGraph``, PyTensor's
``pytensor.compile.builders.OpFromGraph``), with its gradient and its Jacobian-vector product
optionally given by the user (``lop_overrides``, ``rop_overrides``).

The op holds its graph as the other ops that run a graph of their own do (`InnerGraphOp`): its
identity is the graph's signature, so two ops of equal graphs merge and key alike, and a
pickle carries the graph encoded. Where a function is compiled with rewrites, the
``inline_op_from_graph`` rewrite (``rewrite/op_from_graph.py``) puts the graph itself in the
node's place, gradients having been taken before: the function is then fused and cached as if
it had been written out. A node left as it is (a mode without that rewrite) runs the graph as
an inner function, compiled and cached under the outer function's mode.

The overrides change only the gradient graphs built from the op, never what it computes, so
they are not part of its identity (as an ``as_op``'s gradient is not).
"""

from __future__ import annotations

import copy
import itertools
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Variable, clone_graph, graph_inputs, substitute, toposort
from ..graph.fgraph import FunctionGraph
from .basic import as_tensor_variable, constant
from .grad_markers import DisconnectedType, NullType
from .gradient import jvp, seeded_gradients, user_gradients, zeros_like
from .inner_graph import SIZE_ERRORS, InnerGraphOp
from .replace import fit_static_shape

__all__ = ["OpFromGraph", "inline_graph"]

#: ``fc.function`` options PyTensor passes on to the inner function; here the outer function's
#: mode and options apply to the whole graph, inner part included.
FUNCTION_OPTIONS = frozenset(
    {
        "mode",
        "on_unused_input",
        "profile",
        "accept_inplace",
        "allow_input_downcast",
        "rebuild_strict",
        "trust_input",
    }
)

#: A gradient override: PyTensor's forms (see `OpFromGraph`).
Override = Any


class OpFromGraph(InnerGraphOp):
    """An op computing ``outputs`` from ``inputs`` (lists of variables): ``op(*values)``
    returns the outputs applied to ``values`` (one variable, or a list for several outputs).

    Shared variables the outputs read become implicit inputs, appended to the node's inputs
    when the op is called (``strict=True`` refuses them). Any other variable the outputs read
    must be among ``inputs``.

    ``lop_overrides`` (PyTensor 3: ``pullback``) replaces the gradient: a callable
    ``(inputs, outputs, output_grads) -> [one gradient per input]``; an ``OpFromGraph``
    taking ``inputs + outputs + output_grads``; or a list with one entry per input: None or
    ``'default'`` (the graph's own gradient), a callable or an ``OpFromGraph`` as above
    returning that input's gradient, ``DisconnectedType()`` (none: zero) or ``NullType()``
    (undefined: ``grad`` raises). A gradient in a callable's result may also be None,
    ``DisconnectedType()()`` or ``NullType()()``. ``grad_overrides`` is Theano's older form
    (``(inputs, output_grads)``), deprecated. ``rop_overrides`` (PyTensor 3: ``pushforward``)
    likewise replaces the Jacobian-vector product ``fc.Rop(...,
    use_op_rop_implementation=True)`` uses: ``(inputs, eval_points) -> [one per output]``, an
    ``OpFromGraph`` taking ``inputs + eval_points``, or a list with one entry per output.
    ``connection_pattern[i][j]``: whether output ``j`` depends on input ``i`` (default: as
    the graph says). ``inline`` and ``fc.function``'s options (``mode``, ``on_unused_input``)
    are accepted: every op is put inline where a function is compiled with rewrites, under
    the outer function's mode and options.
    """

    __props__ = ("inner_key",)
    inner_name = "op_from_graph"
    may_return_input = True  # an output may be one of the inputs, passed through
    not_pickled = InnerGraphOp.not_pickled | {"lop_overrides", "rop_overrides", "grad_overrides"}

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        *,
        inline: bool = False,
        lop_overrides: Override = None,
        grad_overrides: Override = None,
        rop_overrides: Override = None,
        connection_pattern: Sequence[Sequence[bool]] | None = None,
        strict: bool = False,
        name: str | None = None,
        pullback: Override = None,
        pushforward: Override = None,
        **kwargs: Any,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"OpFromGraph: name must be a str or None, got {name!r}")
        self.name = name
        what = "OpFromGraph" if name is None else f"OpFromGraph {name!r}"
        ignore_unused = kwargs.get("on_unused_input") == "ignore"
        ins = _variables(inputs, "inputs", what, repeats=ignore_unused)
        outs = _variables(outputs, "outputs", what)
        if "updates" in kwargs or "givens" in kwargs:
            raise NotImplementedError(
                f"{what}: updates and givens are not supported; give them to the fc.function that uses the op"
            )
        unknown = sorted(set(kwargs) - FUNCTION_OPTIONS)
        if unknown:
            raise TypeError(
                f"{what}: unexpected arguments {unknown}; it takes inline, lop_overrides, "
                f"rop_overrides, grad_overrides, connection_pattern, strict, name and fc.function's "
                f"options {sorted(FUNCTION_OPTIONS)}"
            )
        self.kwargs = dict(kwargs)
        self.is_inline = bool(inline)
        self.lop_overrides, self.rop_overrides = (
            _one_of(lop_overrides, pullback, "lop_overrides", "pullback", what),
            _one_of(rop_overrides, pushforward, "rop_overrides", "pushforward", what),
        )
        if grad_overrides is not None:
            if self.lop_overrides is not None:
                raise ValueError(f"{what}: give lop_overrides or grad_overrides, not both")
            warnings.warn(
                "OpFromGraph: grad_overrides is deprecated; use lop_overrides, whose callables "
                "take (inputs, outputs, output_grads)",
                FutureWarning,
                stacklevel=2,
            )
        self.grad_overrides = grad_overrides
        for label, given in (
            ("lop_overrides", self.lop_overrides),
            ("grad_overrides", grad_overrides),
            ("rop_overrides", self.rop_overrides),
        ):
            _check_override(given, label, what)
        shared = _implicit_inputs(ins, outs, what)
        if strict and shared:
            raise ValueError(
                f"{what}: strict=True, but the outputs read the shared variables {shared}; give "
                "them as inputs (and pass their values when calling the op), or strict=False"
            )
        #: the shared variables the outputs read, appended to a call's inputs
        self.shared_inputs = tuple(shared)
        #: the number of inputs a call gives (the shared variables follow them)
        self.n_explicit = len(ins)
        # The graph's own inputs: new variables of the same types (and names), so the op holds
        # nothing of the user's graph and a shared variable stands for any value of its type.
        fresh = {v: v.type(name=v.name) for v in [*ins, *shared]}
        _, inner_outs, _ = clone_graph([*ins, *shared], outs, replace=fresh)
        # A variable given twice (allowed with on_unused_input='ignore', as in PyTensor) is
        # read at its last place; the earlier ones are inputs the graph does not read.
        everything = [*ins, *shared]
        inner_ins = [
            fresh[v] if not any(v is u for u in everything[k + 1 :]) else v.type(name=v.name)
            for k, v in enumerate(everything)
        ]
        super().__init__(FunctionGraph(inner_ins, inner_outs, clone=False))
        self.given_pattern = _pattern(connection_pattern, len(inner_ins), len(inner_outs), what)

    def __str__(self) -> str:
        return f"{self.name or 'OpFromGraph'}{{inline={self.is_inline}}}"

    # PyTensor's names for the graph the op holds
    @property
    def fgraph(self) -> FunctionGraph:
        """The op's graph (its inputs: the call's, then the shared variables')."""
        return self.inner

    @property
    def inner_inputs(self) -> list[Variable]:
        return self.inner.inputs

    @property
    def inner_outputs(self) -> list[Variable]:
        return self.inner.outputs

    @property
    def fn(self) -> Any:
        """The graph compiled under the default mode, as a node left in a graph runs it."""
        return self.function()

    def clone(self) -> "OpFromGraph":
        """An equal op holding a copy of the graph."""
        new = copy.copy(self)
        ins, outs, _ = clone_graph(self.inner.inputs, self.inner.outputs)
        InnerGraphOp.__init__(new, FunctionGraph(ins, outs, clone=False))
        return new

    def __getstate__(self) -> dict[str, Any]:
        import cloudpickle  # the overrides are often lambdas or closures

        state = super().__getstate__()
        state["overrides"] = cloudpickle.dumps((self.lop_overrides, self.grad_overrides, self.rop_overrides))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import pickle

        state = dict(state)
        overrides = state.pop("overrides")
        super().__setstate__(state)
        self.lop_overrides, self.grad_overrides, self.rop_overrides = pickle.loads(overrides)

    # -- applying the op -----------------------------------------------------------------
    def __call__(self, *inputs: Any, name: str | None = None, return_list: bool = False) -> Any:
        n, total = self.n_explicit, len(self.inner.inputs)
        if len(inputs) == n:
            inputs = (*inputs, *self.shared_inputs)
        elif len(inputs) != total:
            also = f" (or {total} with values for its shared variables)" if total != n else ""
            raise TypeError(f"{self}: expected {n} inputs{also}, got {len(inputs)}")
        return super().__call__(*inputs, name=name, return_list=return_list)

    def make_node(self, *inputs: Any) -> Apply:
        params = self.inner.inputs
        if len(inputs) != len(params):
            raise TypeError(f"{self}: expected {len(params)} inputs, got {len(inputs)}")
        vs = [self._fit(k, v, p) for k, (v, p) in enumerate(zip(inputs, params))]
        return Apply(self, vs, [o.type for o in self.inner.outputs])

    def _fit(self, k: int, v: Any, p: Variable) -> Variable:
        """Value ``v`` given for inner input ``p`` (position ``k``): a variable of ``p``'s
        type (a number or array as a constant of its dtype), or a TypeError."""
        where = f"{self}: input {k}" + (f" ({p.name})" if p.name else "")
        if not isinstance(v, Variable):
            data = np.asarray(v)
            if not (np.can_cast(data.dtype, p.dtype, "same_kind") and data.ndim == p.ndim):
                raise TypeError(f"{where} must be {p.type}, got {type(v).__name__} {v!r}")
            v = constant(data.astype(p.dtype))
        if v.type == p.type:
            return v
        if type(v.type) is not type(p.type) or v.dtype != p.dtype or v.ndim != p.ndim:
            fix = f"cast it with ft.cast(x, '{p.dtype}')" if v.ndim == p.ndim else "reshape it"
            raise TypeError(f"{where} must be {p.type}, got {v.type}; {fix}")
        try:
            return fit_static_shape(p.type.shape, v, f"{where} has static shape {p.type.shape}, got")
        except ValueError as e:
            raise TypeError(str(e)) from None

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        try:
            return list(self.node_function(node)(*inputs))
        except SIZE_ERRORS as e:
            raise self.named_outside(e, node) from None

    def given_whole(self, node: Apply) -> dict[int, Variable]:
        return dict(enumerate(node.inputs))

    # -- gradients -----------------------------------------------------------------------
    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """``[input][output]``: whether the output depends on the input (the one given, or
        what the graph says, nodes of ops with a pattern of their own read through it)."""
        return self._pattern_rows()

    def _pattern_rows(self) -> list[list[bool]]:
        if self.given_pattern is not None:
            return [list(row) for row in self.given_pattern]
        return io_connection_pattern(self.inner.inputs, self.inner.outputs)

    def _own(self, outputs: Sequence[Variable], inputs: Sequence[Variable]) -> list[Variable]:
        """The inner ``outputs`` (expressions of the inner inputs) as expressions of ``inputs``."""
        return substitute(list(outputs), dict(zip(self.inner.inputs, inputs)))

    def _default_grads(
        self, inputs: Sequence[Variable], output_grads: Sequence[Any]
    ) -> list[Variable | None]:
        """The graph's own gradient for each input (None for none)."""
        # Taken on the inner graph, whose inputs are distinct (an outer variable given twice
        # gets each position's share), then moved onto the node's inputs.
        seeds = [(o, g.type()) for o, g in zip(self.inner.outputs, output_grads) if g is not None]
        if not seeds:
            return [None] * len(inputs)
        found = seeded_gradients([o for o, _ in seeds], [s for _, s in seeds], self.inner.inputs)
        mapping = dict(zip(self.inner.inputs, inputs))
        mapping.update((s, g) for (_, s), g in zip(seeds, (g for g in output_grads if g is not None)))
        return _moved(found, mapping)

    def L_op(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], output_grads: Sequence[Any]
    ) -> list:
        """The gradient of each input (None for none; ``NullType()()`` for an undefined one)
        from the outputs' gradients (None for zero), as ``lop_overrides`` says."""
        inputs, outputs, gs = list(inputs), list(outputs), list(output_grads)
        legacy = self.grad_overrides is not None
        override = self.grad_overrides if legacy else self.lop_overrides
        label = "grad_overrides" if legacy else "lop_overrides"
        if override is None:
            res = self._default_grads(inputs, gs)
        else:
            filled = [g if g is not None else zeros_like(o) for g, o in zip(gs, outputs)]
            args = (inputs, filled) if legacy else (inputs, outputs, filled)
            if isinstance(override, list):
                if len(override) != len(inputs):
                    raise ValueError(
                        f"{self}: {label} has {len(override)} entries for {len(inputs)} inputs (its "
                        "shared variables last); give one per input"
                    )
                defaults = (
                    self._default_grads(inputs, gs)
                    if any(map(_is_default, override))
                    else [None] * len(inputs)
                )
                res = [
                    defaults[k] if _is_default(e) else _entry(e, args, f"{self}'s {label}[{k}]")
                    for k, e in enumerate(override)
                ]
            else:
                res = _called(override, args, f"{self}'s {label}")
            res = user_gradients(inputs, res, f"{self}'s {label}")
        # An input no output with a gradient depends on gets none.
        pattern = self._pattern_rows()
        return [
            g if any(row[j] and gs[j] is not None for j in range(len(gs))) else None
            for g, row in zip(res, pattern)
        ]

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        """The Jacobian-vector product of each output (None for none) from the inputs'
        ``eval_points`` (None for zero), as ``rop_overrides`` says."""
        inputs, points = list(inputs), list(eval_points)
        override = self.rop_overrides
        if override is None:
            return self._default_rop(inputs, points, range(len(self.inner.outputs)))
        filled = [p if p is not None else zeros_like(i) for p, i in zip(points, inputs)]
        args = (inputs, filled)
        label = f"{self}'s rop_overrides"
        if not isinstance(override, list):
            return [_result(r, label) for r in _called(override, args, label, len(self.inner.outputs))]
        if len(override) != len(self.inner.outputs):
            raise ValueError(
                f"{label} has {len(override)} entries for {len(self.inner.outputs)} outputs; give one per output"
            )
        wanted = [k for k, e in enumerate(override) if _is_default(e)]
        defaults = dict(zip(wanted, self._default_rop(inputs, points, wanted)))
        return [
            defaults[k] if _is_default(e) else _entry(e, args, f"{label}[{k}]")
            for k, e in enumerate(override)
        ]

    def _default_rop(self, inputs: list[Variable], points: list[Any], which: Sequence[int]) -> list:
        """The graph's own Jacobian-vector product of the outputs ``which``."""
        ks = [k for k, p in enumerate(points) if p is not None]
        outs = [self.inner.outputs[j] for j in which]
        if not ks or not outs:
            return [None] * len(outs)
        stand_ins = [points[k].type() for k in ks]
        found = jvp(outs, [self.inner.inputs[k] for k in ks], stand_ins)
        mapping = dict(zip(self.inner.inputs, inputs))
        mapping.update(zip(stand_ins, (points[k] for k in ks)))
        return _moved(found, mapping)


def _variables(values: Any, label: str, what: str, repeats: bool = False) -> list[Variable]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(
            f"{what}: {label} must be a list of variables, got {type(values).__name__} {values!r}"
        )
    out = []
    for k, v in enumerate(values):
        if not isinstance(v, Variable) or isinstance(v.type, (DisconnectedType, NullType)):
            raise TypeError(f"{what}: {label}[{k}] must be a symbolic variable, got {type(v).__name__} {v!r}")
        out.append(v)
    if label == "inputs" and not repeats:
        for k, v in enumerate(out):
            if any(v is u for u in out[:k]):
                raise ValueError(
                    f"{what}: {v!r} is given twice as an input; give another variable (v.type()) for "
                    "the second place (or on_unused_input='ignore': the graph reads the last place)"
                )
    return out


def _implicit_inputs(ins: list[Variable], outs: list[Variable], what: str) -> list[Variable]:
    """The shared variables the outputs read besides ``ins``; any other free variable is an
    error."""
    shared, missing = [], []
    for v in graph_inputs(outs, blockers=ins):
        if any(v is i for i in ins) or isinstance(v, Constant):
            continue
        (shared if v.holds_value else missing).append(v)
    if missing:
        raise ValueError(
            f"{what}: the outputs depend on {missing}, which are not among the inputs; add them "
            "to the inputs (or make them shared variables or constants)"
        )
    return shared


def _one_of(old: Override, new: Override, old_name: str, new_name: str, what: str) -> Override:
    if old is not None and new is not None:
        raise ValueError(f"{what}: give {old_name} or {new_name} (its PyTensor 3 name), not both")
    return old if old is not None else new


def _is_default(entry: Any) -> bool:
    return entry is None or (isinstance(entry, str) and entry == "default")


def _check_override(given: Override, label: str, what: str) -> None:
    """Refuse an override of no form PyTensor documents, when the op is made."""
    if given is None or callable(given):
        return
    if not isinstance(given, list):
        raise TypeError(
            f"{what}: {label} must be None, a callable, an OpFromGraph or a list, got {type(given).__name__}"
        )
    for k, e in enumerate(given):
        if isinstance(e, str) and e != "default":
            raise ValueError(f"{what}: {label}[{k}] is {e!r}; the only string entry is 'default'")
        if not (_is_default(e) or callable(e) or isinstance(e, (DisconnectedType, NullType, Variable))):
            raise TypeError(
                f"{what}: {label}[{k}] must be None, 'default', a callable, an OpFromGraph, "
                f"DisconnectedType() or NullType(), got {type(e).__name__} {e!r}"
            )
        if isinstance(e, Variable) and not isinstance(e.type, (DisconnectedType, NullType)):
            raise TypeError(
                f"{what}: {label}[{k}] is the variable {e!r}; a variable entry must be "
                "DisconnectedType()() or NullType()(), a gradient is given by a callable"
            )


def _called(override: Callable[..., Any], args: tuple, label: str, n: int | None = None) -> list:
    """``override`` called on ``args``: an ``OpFromGraph`` on all the variables in turn, a
    callable on the lists; its result as a list (of ``n`` entries where ``n`` is given)."""
    if isinstance(override, OpFromGraph):
        res = override(*itertools.chain.from_iterable(args))
        res = res if isinstance(res, list) else [res]
    else:
        res = override(*args)
        if isinstance(res, tuple):
            res = list(res)
        if not isinstance(res, list):
            raise TypeError(f"{label} must return a list, got {type(res).__name__} {res!r}")
    if n is not None and len(res) != n:
        raise ValueError(f"{label} returned {len(res)} results for {n} outputs")
    return res


def _entry(entry: Any, args: tuple, label: str) -> Any:
    """What a list entry (not a default one) gives: a callable's or an OpFromGraph's one
    result, or the disconnected or undefined placeholder."""
    if isinstance(entry, (DisconnectedType, NullType)):
        return entry()
    if isinstance(entry, Variable):
        return entry
    if isinstance(entry, OpFromGraph):
        res = entry(*itertools.chain.from_iterable(args))
    else:
        res = entry(*args)
    if isinstance(res, (list, tuple)):
        if len(res) != 1:
            raise ValueError(f"{label} must return one variable, got {len(res)}")
        res = res[0]
    return _result(res, label)


def _result(r: Any, label: str) -> Any:
    """One result of an override: None, a placeholder, or a tensor."""
    if r is None or isinstance(getattr(r, "type", None), (DisconnectedType, NullType)):
        return r
    try:
        return as_tensor_variable(r)
    except TypeError as e:
        raise TypeError(f"{label} returned {r!r}, which is not a symbolic variable ({e})") from None


def _moved(found: Sequence[Variable | None], mapping: dict[Variable, Variable]) -> list[Variable | None]:
    """The expressions of ``found`` (None kept) with ``mapping`` applied."""
    present = [g for g in found if g is not None]
    moved = iter(substitute(present, mapping))
    return [next(moved) if g is not None else None for g in found]


def _pattern(given: Any, n_in: int, n_out: int, what: str) -> tuple[tuple[bool, ...], ...] | None:
    if given is None:
        return None
    rows = [list(r) for r in given] if isinstance(given, (list, tuple)) else None
    if rows is None or len(rows) != n_in or any(len(r) != n_out for r in rows):
        raise ValueError(
            f"{what}: connection_pattern must be {n_in} lists (one per input, its shared variables "
            f"last) of {n_out} booleans (one per output), got {given!r}"
        )
    return tuple(tuple(bool(b) for b in r) for r in rows)


def io_connection_pattern(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list[list[bool]]:
    """``[input][output]``: whether each output depends on each input, through the ops'
    own ``connection_pattern`` where they have one."""
    reach: dict[int, set[int]] = {id(v): {k} for k, v in enumerate(inputs)}
    for node in toposort(outputs, blockers=inputs):
        pattern = getattr(node.op, "connection_pattern", None)
        rows = pattern(node) if callable(pattern) else [[True] * len(node.outputs)] * len(node.inputs)
        for j, o in enumerate(node.outputs):
            reach[id(o)] = set().union(
                *(reach.get(id(i), set()) for i, row in zip(node.inputs, rows) if row[j])
            )
    return [[k in reach.get(id(o), ()) for o in outputs] for k in range(len(inputs))]


def inline_graph(node: Apply) -> list[Variable]:
    """The outputs of an `OpFromGraph` node as the op's graph applied to the node's inputs,
    the graphs of the ops inside it put inline too."""
    outs = node.op._own(node.op.inner.outputs, node.inputs)
    while True:
        nested = next(
            (n for n in toposort(outs, blockers=node.inputs) if isinstance(n.op, OpFromGraph)), None
        )
        if nested is None:
            return outs
        outs = substitute(
            outs, dict(zip(nested.outputs, nested.op._own(nested.op.inner.outputs, nested.inputs)))
        )
