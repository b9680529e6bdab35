"""Symbolic reverse-mode differentiation: ``grad``, ``jacobian`` and ``hessian``.

The result is an ordinary graph built from the same ops as any other (elementwise ops,
reductions, dot, shape ops), so it is optimized, fused, keyed, cached and pickled like one.
Each op's gradient rule is registered by op class (`register_grad`; the rules of fncache's ops
are in ``grad_rules.py``); a rule gets the node and the gradients of its outputs and returns one
gradient (or ``None`` for zero) per input. This module walks the graph backwards, sums the
gradients a variable receives from its users, and sums a gradient back over the dims that
broadcasting expanded.

An op that reads some inputs only on one side (``ifelse``: its then-values only when the
condition is true) has a branch rule instead (`register_branch_grad`): the nodes only one side
needs (``graph/branches.py``) are differentiated with the node, so the gradients reaching the
values the side reads from the rest of the graph are computed on that side too, and a function
computing them runs only the side taken, forward and backward.

A few patterns of nodes have a gradient simpler written at once than node by node (a
softmax's cross-entropy: ``softmax - one_hot`` instead of a scatter divided by the softmax and
the softmax's backward pass): a shortcut rule (`register_shortcut_grad`) of the pattern's last
node gives the gradient to the variable above it, unless a variable in between has its own
gradient asked for or is held constant.

Complex values: the cost is real, and the gradient of a complex variable ``z = x + iy`` is
``dC/dx + i dC/dy`` (PyTensor's rules for ``complex``, ``real``, ``imag``, ``abs`` and ``mul``
follow it), so a step against it decreases the cost, and a real variable's gradient is the real
part of the gradient it would have as a complex one. A rule declares how it treats complex
values when it is registered (`register_grad`'s ``complex_values``): ``"linear"`` for an op
linear with real coefficients (sums, reshapes, indexing), whose rule is right as it stands;
``"holomorphic"`` for an op complex-differentiable in each input (``dot``), whose rule, written
as ``g * f'(x)``, is taken as ``conj(rule(conj(g)))``, that is ``g * conj(f'(x))``; ``"rule"``
for a rule that handles complex values itself. A node whose op declares none refuses, naming
the op, when a gradient would flow through a complex value.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

import numpy as np

from ..graph.basic import Apply, Variable, ancestors, toposort
from ..config import config
from ..errors import DisconnectedInputError, NullTypeGradError
from ..graph.branches import branch_regions, readers
from ..graph.types import TensorType, is_complex, is_float, is_inexact
from .basic import as_tensor_variable, constant
from .blas import Dot
from .elemwise import Elemwise, cast, elemwise
from .grad_markers import (
    DisconnectedGrad,
    DisconnectedType,
    GradMarker,
    NullType,
    ZeroGrad,
    is_null_gradient,
)
from .grad_ops import SubtensorGrad
from .reduction import Reduce
from .shape_ops import DimShuffle
from .inc_subtensor import IncSubtensor
from .subtensor import Subtensor

__all__ = [
    "grad",
    "jacobian",
    "hessian",
    "register_grad",
    "register_branch_grad",
    "register_shortcut_grad",
    "GradRule",
    "BranchGradRule",
    "broadcast_like",
    "zeros_like",
    "backprop",
    "sum_static_broadcast",
    "conj_grad",
    "connected_ancestors",
    "real_inner",
    "user_gradients",
    "seeded_gradients",
    "jvp",
    "pullback",
    "pushforward",
    "subgraph_grad",
]

#: A rule: (node, gradients of its outputs, None for zero) -> one gradient (or None) per input.
GradRule = Callable[[Apply, list], list]

_RULES: dict[type, GradRule] = {}

#: How the rule of an op class treats complex values: "linear", "holomorphic" or "rule" (see
#: the module's docstring); an op class absent here has no gradient through complex values.
_COMPLEX_VALUES: dict[type, str] = {}
COMPLEX_VALUES = ("linear", "holomorphic", "rule")

#: A branch rule: (node, gradients of its outputs, ``through``) -> [(variable, its gradient)].
#: ``through(side, seeds)`` differentiates the node's inputs of that side (``op.branch_side``)
#: and the nodes only they need, from ``seeds`` (one per input of the side, None for zero), and
#: returns [(variable read from outside the side, its gradient)].
BranchGradRule = Callable[[Apply, list, Callable[[int, list], list]], list]

_BRANCH_RULES: dict[type, BranchGradRule] = {}

#: A shortcut rule differentiates a node together with nodes above it, where they make a
#: pattern whose gradient is simpler written at once (a softmax's cross-entropy): it gets the
#: node, the gradients of its outputs and ``passable`` (false for a variable whose own gradient
#: is asked for or that is held constant: one it must not pass over), and returns None where
#: the pattern is not there (the node's rule runs) or ``[(variable above the node, its
#: gradient)]``; the nodes passed over get the gradients that reach them by other paths only.
ShortcutRule = Callable[[Apply, list, Callable[[Variable], bool]], "list[tuple[Variable, Variable]] | None"]

_SHORTCUT_RULES: dict[type, ShortcutRule] = {}


def register_grad(*op_classes: type, complex_values: str | None = None) -> Callable[[GradRule], GradRule]:
    """Decorator: ``fn(node, output_grads)`` is the gradient rule of ``op_classes``.
    ``complex_values`` says how it treats complex values (None: it has no gradient through
    them; ``"linear"``, ``"holomorphic"`` or ``"rule"``: see the module's docstring)."""
    if complex_values is not None and complex_values not in COMPLEX_VALUES:
        raise ValueError(
            f"register_grad: complex_values must be None or one of {COMPLEX_VALUES}, got {complex_values!r}"
        )

    def deco(fn: GradRule) -> GradRule:
        for c in op_classes:
            _RULES[c] = fn
            if complex_values is None:
                _COMPLEX_VALUES.pop(c, None)
            else:
                _COMPLEX_VALUES[c] = complex_values
        return fn

    return deco


def register_branch_grad(*op_classes: type) -> Callable[[BranchGradRule], BranchGradRule]:
    """Decorator: ``fn(node, output_grads, through)`` is the branch rule of ``op_classes``,
    ops with a method ``branch_side(k)``: the side input ``k`` is read on, or None."""

    def deco(fn: BranchGradRule) -> BranchGradRule:
        for c in op_classes:
            _BRANCH_RULES[c] = fn
        return fn

    return deco


def register_shortcut_grad(*op_classes: type) -> Callable[[ShortcutRule], ShortcutRule]:
    """Decorator: ``fn(node, output_grads, passable)`` is a shortcut rule of ``op_classes``
    (see `ShortcutRule`), tried before their own rule; for real values only."""

    def deco(fn: ShortcutRule) -> ShortcutRule:
        for c in op_classes:
            _SHORTCUT_RULES[c] = fn
        return fn

    return deco


def _shortcut_rule(node: Apply) -> ShortcutRule | None:
    from . import grad_rules  # noqa: F401  (registers the shortcuts of fncache's own ops)

    return next((_SHORTCUT_RULES[c] for c in type(node.op).__mro__ if c in _SHORTCUT_RULES), None)


def _branch_rule(node: Apply) -> BranchGradRule | None:
    return next((_BRANCH_RULES[c] for c in type(node.op).__mro__ if c in _BRANCH_RULES), None)


def _rule(node: Apply) -> tuple[GradRule | None, str | None]:
    """The rule of ``node``'s op (None where it has none) and how it treats complex values
    (``_COMPLEX_VALUES``)."""
    from . import grad_rules  # registers the rules of fncache's own ops

    # The most derived class's rule: a registered one, or the op's own ``grad``/``L_op``
    # method (an op written as in Theano's "Creating a new Op"), which has no gradient through
    # complex values. An op instance may declare how its rule treats them (an as_op's
    # ``complex_values``) where its class does not.
    for cls in type(node.op).__mro__:
        if cls in _RULES:
            return _RULES[cls], _COMPLEX_VALUES.get(cls, getattr(node.op, "complex_values", None))
        if "grad" in cls.__dict__ or "L_op" in cls.__dict__:
            return grad_rules.op_method_grad, None
    return None, None


def _no_rule(node: Apply) -> NullTypeGradError:
    if type(node.op).__module__.startswith("fncache."):
        # one of fncache's own ops, whose gradient is not implemented: no class to extend
        return NullTypeGradError(
            f"grad: {node.op} has no gradient (fncache does not implement one); compute the cost "
            "without it, or pass its outputs in consider_constant to treat them as constants"
        )
    return NullTypeGradError(
        f"grad: {node.op} has no gradient rule; give its class a grad(inputs, output_grads) "
        f"method, register one with fncache.tensor.gradient.register_grad({type(node.op).__name__}), "
        "or wrap the computation in ft.as_op(..., grad=fn)"
    )


# -- small graph helpers the rules share ------------------------------------------------------
def broadcast_like(g: Variable, x: Variable) -> Variable:
    """``g`` broadcast to ``x``'s shape, keeping ``g``'s dtype (only ``x``'s shape is used)."""
    if g.type.shape == x.type.shape and None not in g.type.shape:
        return g
    out = elemwise("switch", constant(True), g, x)
    return out if out.dtype == g.dtype else cast(out, g.dtype)


def zeros_like(x: Variable, dtype: str | None = None) -> Variable:
    """Zeros of ``x``'s shape and ``dtype`` (default ``x``'s); of ``x``'s own type for a
    variable that is not a tensor (a sparse matrix's ``zeros_like``)."""
    if not isinstance(x.type, TensorType) and dtype in (None, x.dtype):
        return x.zeros_like()
    return broadcast_like(constant(np.zeros((), dtype=dtype or x.dtype)), x)


class _DimTokens:
    """One token per dim of each variable, telling which run-time sizes are known equal: a
    static size ``("n", s)``, or the set of input dims ``(id(var), dim)`` whose broadcast it
    is (carried through elementwise ops, reductions, dimshuffles and products). A dim whose set
    contains another's cannot be 1 unless that one is: so gradients skip `SumToShape` where an
    input cannot have been broadcast (their elementwise ops then fuse into one loop), and read
    the sizes it needs from variables that hold them anyway."""

    def __init__(self, order: Sequence[Apply]) -> None:
        self.tokens: dict[int, tuple] = {}
        #: id -> (variable, the order it was first met in), for a deterministic graph: ids
        #: differ between processes, and so would a cache key built from their order.
        self.holders: dict[int, tuple[Variable, int]] = {}
        for node in order:
            self._infer(node)

    def of(self, v: Variable) -> tuple:
        got = self.tokens.get(id(v))
        if got is None:
            got = tuple(
                ("n", s) if s is not None else frozenset([(id(v), d)]) for d, s in enumerate(v.type.shape)
            )
            self.tokens[id(v)] = got
            self.holders[id(v)] = (v, len(self.holders))
        return got

    def holders_of(self, token: frozenset) -> list[tuple[Variable, int]]:
        """Variables and dims whose sizes broadcast to a dim of token ``token``."""
        return [
            (self.holders[i][0], d) for i, d in sorted(token, key=lambda t: (self.holders[t[0]][1], t[1]))
        ]

    def _infer(self, node: Apply) -> None:
        out, op = node.outputs[0], node.op
        res: list | None = None
        if isinstance(op, Elemwise) or isinstance(op, Reduce) and op.pre is not None:
            nd = max(v.ndim for v in node.inputs)
            res = []
            for d in range(nd):
                toks = [
                    self.of(v)[d - nd + v.ndim]
                    for v in node.inputs
                    if d - nd + v.ndim >= 0 and v.type.shape[d - nd + v.ndim] != 1
                ]
                dyn = [t for t in toks if isinstance(t, frozenset)]
                res.append(
                    frozenset().union(*dyn)
                    if dyn and len(dyn) == len(toks)
                    else ("n", 1)
                    if not toks
                    else None
                )
            if isinstance(op, Reduce):
                res = [t for d, t in enumerate(res) if d not in op.axes]
        elif isinstance(op, Reduce):
            res = [t for d, t in enumerate(self.of(node.inputs[0])) if d not in op.axes]
        elif isinstance(op, DimShuffle):
            src = self.of(node.inputs[0])
            res = [("n", 1) if p == "x" else src[p] for p in op.pattern]
        elif isinstance(op, Dot):
            a, b = self.of(node.inputs[0]), self.of(node.inputs[1])
            res = list(a[:-1] + b[1:])
        elif isinstance(op, Subtensor):
            res = _sliced_tokens(op, self.of(node.inputs[0]))
        elif isinstance(op, (SubtensorGrad, IncSubtensor, GradMarker)):
            res = list(self.of(node.inputs[0]))
        mine = self.of(out)
        if res is not None:
            self.tokens[id(out)] = tuple(
                r if isinstance(m, frozenset) and r is not None else m for m, r in zip(mine, res)
            )


def _sliced_tokens(op: Subtensor, src: tuple) -> list:
    """The dims of ``x[idx]``: an int drops its dim, a slice over the whole dim with step 1
    or -1 (``x[:]``, ``x[::-1]``) keeps its size, any other slice's size is its own."""
    res: list = []
    for d, e in enumerate(op.idx):
        if e[0] == "s":
            whole = e[1] is None and e[2] is None and e[3] in (None, ("c", 1), ("c", -1))
            res.append(src[d] if whole else None)
    return res + list(src[len(op.idx) :])


def sum_static_broadcast(g: Variable, x: Variable, dims: Iterable[int]) -> Variable:
    """``g`` summed over its leading dims that ``x`` lacks and over those of ``dims`` where
    ``x``'s type has size 1 and ``g``'s does not: the broadcasting known before run time."""
    from .reduction import sum as sum_

    if g.ndim > x.ndim:
        g = sum_(g, axis=tuple(range(g.ndim - x.ndim)))
    static = tuple(d for d in dims if x.type.shape[d] == 1 and g.type.shape[d] != 1)
    return sum_(g, axis=static, keepdims=True) if static else g


def _sum_to(g: Variable, x: Variable, node: Apply, i: int, dims: _DimTokens) -> Variable:
    """Sum ``g`` (the gradient of ``node``'s input ``i``, ``x``) over the dims broadcasting
    expanded: statically known ones with a `sum`, and, for elementwise nodes, dims of unknown
    size that another input could have broadcast at run time with `SumToShape`."""
    g = sum_static_broadcast(g, x, range(x.ndim))
    if isinstance(node.op, Elemwise):
        others = [v for k, v in enumerate(node.inputs) if k != i]
        mine = dims.of(x)
        dynamic = [
            d
            for d in range(x.ndim)
            if x.type.shape[d] is None
            and g.type.shape[d] != 1
            and _may_broadcast(others, dims, mine[d], d - x.ndim)
        ]
        if dynamic:
            from .grad_ops import SumToShape

            likes: list[Variable] = []
            spec = []
            for d in dynamic:
                refs = []
                for v, vd in dims.holders_of(mine[d]):
                    if v not in likes:
                        likes.append(v)
                    refs.append((likes.index(v) + 1, vd))
                spec.append((d, tuple(refs)))
            g = SumToShape(tuple(spec))(g, *likes)
    return g


def _may_broadcast(others: list[Variable], dims: _DimTokens, token: frozenset, d: int) -> bool:
    """Whether another input (right-aligned dim ``d`` < 0) may be larger than 1 there while
    the input of dim ``token`` is 1, i.e. whether that input may have been broadcast."""
    for v in others:
        if v.ndim >= -d and v.type.shape[d] != 1:
            t = dims.of(v)[d]
            if not isinstance(t, frozenset) or not t <= token:
                return True
    return False


# -- the reverse walk ---------------------------------------------------------------------------
def backprop(
    outputs: Sequence[Variable],
    output_grads: Sequence[Variable | None],
    wrt: Sequence[Variable],
    blockers: Sequence[Variable] = (),
    undefined: dict[int, tuple[Variable, str, str]] | None = None,
    fixed: Collection[int] = (),
) -> dict[int, Variable]:
    """Gradients reaching ``wrt`` (by ``id``) from ``output_grads`` at ``outputs``; no
    gradient flows past ``blockers``. A missing key means a zero gradient. The variables of
    ``fixed`` (ids) keep their own gradient in ``output_grads`` (none if not there): nothing
    flowing back to them from the other outputs is added.

    A gradient that is undefined (an op without a rule, a rule's `NullType` or its
    `NullTypeGradError`) raises `NullTypeGradError`; given ``undefined``, it is recorded there
    instead (``{id(v): (v,
    message, reason)}`` for each input ``v`` whose gradient it is: the error's message without
    its ``grad:``, and the op's own reason) and passed no further: the gradients of the ``wrt``
    variables ``v`` depends on then miss its part (`inner_gradients` makes theirs undefined)."""
    order = toposort(outputs, blockers=blockers)
    # Only variables that depend on a wrt variable need a gradient, an output depending on the
    # inputs its op's connection_pattern says it does. A wrt variable among the blockers still
    # gets the gradient that reaches it (it only passes no further).
    dep = {id(w) for w in wrt}
    for node in order:
        if any(id(v) in dep for v in node.inputs):
            pattern = getattr(node.op, "connection_pattern", None)
            if not callable(pattern):
                dep.update(id(o) for o in node.outputs)
                continue
            rows = [row for v, row in zip(node.inputs, pattern(node)) if id(v) in dep]
            dep.update(id(o) for j, o in enumerate(node.outputs) if any(row[j] for row in rows))
    dims = _DimTokens(order)
    grads: dict[int, Variable] = {}

    def add(v: Variable, g: Variable, seed: bool = False) -> None:
        if id(v) in fixed and not seed:
            return
        prev = grads.get(id(v))
        grads[id(v)] = g if prev is None else prev + g

    for v, g in zip(outputs, output_grads):
        if g is not None and id(v) in dep:
            add(v, g, seed=True)
    uses: dict | None = None
    kept = {id(v) for v in (*wrt, *blockers)}

    def passable(v: Variable) -> bool:
        return id(v) not in kept

    for node in reversed(order):
        out_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        need = [id(v) in dep and is_inexact(v.dtype) for v in node.inputs]
        if not any(need):
            continue
        complex_value = next(
            (v for v, n in zip(node.inputs, need) if n and is_complex(v.dtype)),
            next((o for o, g in zip(node.outputs, out_grads) if g is not None and is_complex(o.dtype)), None),
        )
        branch = _branch_rule(node)
        if branch is not None:  # it picks values, which is linear: complex ones alike
            if uses is None:  # a variable given a gradient from outside is needed outside
                uses = readers(order, [*outputs, *wrt])
            for v, g in branch(node, out_grads, _through(node, order, uses, dep)):
                add(v, g)
            continue
        shortcut = _shortcut_rule(node) if complex_value is None else None
        pairs = shortcut(node, out_grads, passable) if shortcut is not None else None
        if pairs is not None:
            for v, g in pairs:
                if id(v) in dep:
                    add(v, g if g.dtype == v.dtype else cast(g, v.dtype))
            continue
        rule, mode = _rule(node)
        try:
            if complex_value is not None and mode is None:
                _refuse_complex(node, complex_value)
            if rule is None:
                raise _no_rule(node)
            if complex_value is not None and mode == "holomorphic":
                # g * conj(f'(x)) from the rule's g * f'(x), which is linear in g
                in_grads = [conj_grad(g) for g in rule(node, [conj_grad(g) for g in out_grads])]
            else:
                in_grads = rule(node, out_grads)
        except NullTypeGradError as e:
            # the op has no gradient (in these values) at all: undefined in every input needed
            if undefined is None:
                raise
            why = str(e).removeprefix("grad: ")
            undefined.update((id(v), (v, why, why)) for v, n in zip(node.inputs, need) if n)
            continue
        if len(in_grads) != len(node.inputs):
            raise ValueError(
                f"grad: the gradient rule of {node.op} returned {len(in_grads)} "
                f"gradients for {len(node.inputs)} inputs"
            )
        for i, (v, g) in enumerate(zip(node.inputs, in_grads)):
            if need[i] and is_null_gradient(g):
                reason = g.type.why_null
                # the reason said once: grad_undefined's names the op and the input itself
                why = (
                    reason
                    if g.type.names_input == i
                    else f"the gradient of {node.op} with respect to its input {i} ({v!r}) is undefined: {reason}"
                )
                if undefined is None:
                    raise NullTypeGradError(f"grad: {why}")
                undefined[id(v)] = (v, why, g.type.why_null)
                continue
            if need[i] and g is not None:
                g = _sum_to(as_tensor_variable(g), v, node, i, dims)
                if not is_inexact(g.dtype):
                    # a cast would truncate it: an integer gradient is a wrong rule, not a value
                    raise TypeError(
                        f"grad: the gradient rule of {node.op} returned a gradient of dtype "
                        f"{g.dtype} for input {i} ({v.type}); a rule must return float gradients "
                        "(or complex ones)"
                    )
                if is_complex(g.dtype) and not is_complex(v.dtype):
                    # dC/dx of a real x: the real part of the gradient it would have as x + 0i
                    g = elemwise("real", g)
                if g.ndim != v.ndim:
                    raise ValueError(
                        f"grad: the gradient rule of {node.op} returned a "
                        f"gradient of ndim {g.ndim} for input {i} ({v.type})"
                    )
                add(v, g if g.dtype == v.dtype else cast(g, v.dtype))
    return grads


def inner_gradients(
    outputs: Sequence[Variable],
    seeds: Sequence[Variable | None],
    wrt: Sequence[Variable],
    blockers: Sequence[Variable] = (),
    reasons: bool = False,
    fixed: Collection[int] = (),
) -> dict[int, Variable]:
    """`backprop` for the rule of an op made of a graph of its own (a fused elemwise, an
    ``OpFromGraph``, a loop's step), which differentiates that graph in every input as it
    cannot tell which are wanted: the gradient of each of ``wrt`` that an undefined one would
    reach is an undefined gradient (a `NullType` variable, saying where it comes from, or with
    ``reasons`` only why, as the op inside gave it) instead of an error, so that the outer
    gradient refuses it only where it is wanted, as it does outside such an op."""
    undefined: dict[int, tuple[Variable, str, str]] = {}
    grads = backprop(outputs, seeds, wrt, blockers, undefined=undefined, fixed=fixed)
    for v, message, reason in undefined.values():
        # the variables v depends on as backprop's walk does (an op's connection_pattern)
        reached = connected_ancestors([v], blockers)
        for w in wrt:
            if id(w) in reached:
                grads[id(w)] = NullType(reason if reasons else message)()
    return grads


def _through(
    node: Apply, order: list[Apply], uses: dict, dep: set[int]
) -> Callable[[int, list], list[tuple[Variable, Variable]]]:
    """The ``through`` of a branch rule for ``node`` (see `BranchGradRule`)."""
    regions = branch_regions(order, uses, [node], lambda host, k: host.op.branch_side(k))

    def through(side: int, seeds: list) -> list[tuple[Variable, Variable]]:
        region = [m for m in order if regions.get(id(m), (None,))[0] == side]
        made = {id(o) for m in region for o in m.outputs}
        outs = [v for k, v in enumerate(node.inputs) if node.op.branch_side(k) == side]
        frontier = list(
            {
                id(v): v
                for v in [i for m in region for i in m.inputs] + outs
                if id(v) not in made and id(v) in dep and is_inexact(v.dtype)
            }.values()
        )
        seeds = [
            None if g is None else cast(sum_static_broadcast(g, v, range(v.ndim)), v.dtype)
            for v, g in zip(outs, seeds)
        ]
        found = backprop(outs, seeds, frontier, blockers=frontier)
        return [(f, found[id(f)]) for f in frontier if id(f) in found]

    return through


def conj_grad(g: Variable | None) -> Variable | None:
    """The conjugate of gradient ``g`` where it is complex; a real one (or None) itself."""
    return elemwise("conj", g) if g is not None and is_complex(g.dtype) else g


def real_inner(g: Variable, p: Variable) -> Variable:
    """``sum(g * p)``, and for complex values ``Re(sum(conj(g) * p))``: the inner product of
    their real and imaginary parts, which a gradient ``dC/dRe + i dC/dIm`` pairs with a step."""
    from .reduction import sum as sum_

    prod = conj_grad(g) * p
    return sum_(elemwise("real", prod) if is_complex(prod.dtype) else prod)


def _refuse_complex(node: Apply, v: Variable) -> None:
    """A gradient would flow through complex value ``v``, an input or output of ``node``, whose
    op has no rule for complex values (a zero gradient would be wrong): refused, with the op's
    ``grad_hint`` where it has one."""
    hint = getattr(
        node.op,
        "grad_hint",
        "compute the cost from real values before it (ft.real, ft.imag, ft.abs and ft.angle of a "
        "complex value are differentiable), or differentiate with respect to real variables only",
    )
    side = "output" if v in node.outputs else "input"
    raise NullTypeGradError(
        f"grad: the cost depends on the variables differentiated through {v!r} ({v.type}), a "
        f"complex {side} of {node.op} (which has no gradient through complex values): {hint}"
    )


def _as_list(wrt: Any, what: str) -> list[Variable]:
    """``wrt`` as a list (`_as_given` puts results back in its container); each a float or
    complex variable."""
    single = isinstance(wrt, Variable)
    if not single and not isinstance(wrt, (list, tuple)):
        raise TypeError(f"{what}: wrt must be a symbolic variable or a list of them, got {wrt!r}")
    items = [wrt] if single else list(wrt)
    for w in items:
        if not isinstance(w, Variable):
            raise TypeError(f"{what}: wrt must be symbolic variables, got {w!r}")
        if not is_inexact(w.dtype):
            raise TypeError(
                f"{what}: cannot differentiate with respect to {w!r} of dtype "
                f"{w.dtype}; gradients are defined for float variables (cast it "
                "with ft.cast(x, 'float64') and differentiate the cast)"
            )
    return items


def _as_given(out: list, given: Any) -> Any:
    """Results ``out``, one per variable of ``given``, in the container ``given`` came in (as
    PyTensor returns them): one result for a variable, a tuple for a tuple, else a list."""
    if isinstance(given, Variable):
        return out[0]
    return tuple(out) if isinstance(given, tuple) else list(out)


def _complex_cost(what: str, name: str, v: Variable) -> str:
    """The refusal of a complex ``v`` where ``what`` differentiates a real value (its ``name``)."""
    return (
        f"{what}: {name} must be real, got {v!r} of type {v.type}; a complex value has no "
        "gradient of its own (it is two real values): differentiate a real function of it, "
        "ft.real(c), ft.imag(c), ft.abs(c) or ft.abs(c) ** 2 (smooth at 0)"
    )


def _constants(consider_constant: Any, what: str) -> list[Variable]:
    """``consider_constant`` as a list: None, or a collection of symbolic variables (a single
    variable is refused, not iterated over its elements)."""
    if consider_constant is None:
        return []
    expected = f"{what}: consider_constant must be a list of symbolic variables, got {consider_constant!r}"
    if isinstance(consider_constant, Variable):
        raise TypeError(f"{expected}; pass [{consider_constant!r}]")
    if isinstance(consider_constant, (str, bytes, Mapping)) or not isinstance(consider_constant, Iterable):
        raise TypeError(expected)
    items = list(consider_constant)
    for b in items:
        if not isinstance(b, Variable):
            raise TypeError(f"{what}: consider_constant must list symbolic variables, got {b!r}")
    return items


def _check_choice(value: Any, name: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{what}: {name} must be one of {listed}, got {value!r}")


def _return_disconnected(value: Any, what: str) -> str:
    """``return_disconnected`` checked, in PyTensor's lower case (Theano spells its choices
    'zero', 'None' and 'Disconnected')."""
    value = value.lower() if isinstance(value, str) else value
    _check_choice(value, "return_disconnected", ("zero", "none", "disconnected"), what)
    return value


def _disconnected(msg: str, policy: str, stacklevel: int) -> None:
    """What ``policy`` ('raise', 'warn' or 'ignore') asks for a disconnected variable."""
    if policy == "raise":
        raise DisconnectedInputError(msg)
    if policy == "warn":
        warnings.warn(msg, stacklevel=stacklevel)


def _check_disconnected(disconnected_inputs: Any, what: str) -> None:
    _check_choice(disconnected_inputs, "disconnected_inputs", ("raise", "warn", "ignore"), what)


def grad(
    cost: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    add_names: bool = True,
    known_grads: Mapping[Variable, Any] | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
) -> Any:
    """The gradient of scalar ``cost`` with respect to ``wrt`` (a variable, or a list of them:
    a list of gradients is returned), as symbolic variables of ``wrt``'s types.

    ``consider_constant``: variables treated as constants (no gradient flows through them).
    ``disconnected_inputs``: what to do for a ``wrt`` variable the cost does not depend on:
    ``"raise"`` (DisconnectedInputError, a ValueError), ``"warn"`` or ``"ignore"``.
    ``add_names``: name each new gradient ``(dcost/dw)`` when the cost and ``w`` have names.
    ``known_grads``: {variable: its gradient}, gradients flowing back from variables whose
    cost is not given (``cost`` may then be None); a gradient of ``cost`` itself replaces 1.
    Each is its variable's whole gradient, as in Theano and PyTensor: what the cost (or
    another known variable) would send back through that variable is not added.
    ``return_disconnected``: what comes back for a disconnected ``wrt`` variable: ``"zero"``
    (zeros of its type), ``"none"`` (None) or ``"disconnected"`` (a `DisconnectedType`
    variable, PyTensor's placeholder).
    ``null_gradients``: what comes back for a ``wrt`` variable whose gradient is undefined (an
    op without a gradient rule, a rule's `NullType`, an undefined gradient in ``known_grads``):
    ``"raise"`` (NullTypeGradError, a TypeError and a NotImplementedError) or ``"return"`` (a
    `NullType` variable, whose ``type.why_null`` says why; the others' gradients are computed).
    """
    _check_disconnected(disconnected_inputs, "grad")
    return_disconnected = _return_disconnected(return_disconnected, "grad")
    consider_constant = _constants(consider_constant, "grad")
    _check_choice(null_gradients, "null_gradients", ("raise", "return"), "grad")
    outputs: list[Variable] = []
    seeds: list[Variable] = []
    undefined: list[tuple[Variable, Variable]] = []
    # every variable given a gradient keeps it alone (PyTensor's known_grads replace the
    # gradient the cost would give them, a DisconnectedType one passing nothing)
    fixed: set[int] = set()
    cost_name = None
    if cost is None:
        if known_grads is None:
            raise ValueError(
                "grad: cost and known_grads are both None; pass a scalar cost, or "
                "known_grads={variable: its gradient} to start from"
            )
    else:
        if is_null_gradient(cost):  # a ValueError, as PyTensor's
            raise ValueError(
                f"grad: cannot differentiate an undefined cost (a NullType variable: {cost.type.why_null})"
            )
        cost = as_tensor_variable(cost)
        cost_name = cost.name
        if cost.ndim != 0:
            raise TypeError(
                f"grad: cost must be a scalar (ndim 0), got {cost!r} of type "
                f"{cost.type}; reduce it first (e.g. cost.sum()), use ft.jacobian, or pass "
                "known_grads={expression: its gradient} with cost=None (ft.Lop)"
            )
        if is_complex(cost.dtype):
            raise TypeError(_complex_cost("grad", "cost", cost))
        if not is_float(cost.dtype):
            # An integer or bool cost is a step function of the float values it reads: its
            # gradient is zero wherever it is defined, which the rules give for the cast (as
            # PyTensor, whose seed is a float one). A float seed needs a float cost to start from.
            cost = cast(cost, config.floatX)
        fixed.add(id(cost))
        if not known_grads or not any(k is cost for k in known_grads):
            outputs.append(cost)
            seeds.append(constant(np.ones((), dtype=cost.dtype)))
    if known_grads is not None:
        if not isinstance(known_grads, Mapping):
            raise TypeError(
                f"grad: known_grads must be a dict {{variable: gradient}}, got {type(known_grads).__name__}"
            )
        for v, g in known_grads.items():
            fixed.add(id(v))
            # PyTensor's placeholders: a disconnected gradient starts nothing; an undefined
            # one makes the gradients of the variables asked for that it reaches undefined
            if isinstance(getattr(g, "type", None), DisconnectedType):
                continue
            if is_null_gradient(g):
                undefined.append((v, g))
                continue
            outputs.append(v)
            seeds.append(given_gradient(v, g, "grad", "known_grads"))
    items = _as_list(wrt, "grad")
    out = _seeded(
        outputs,
        seeds,
        items,
        consider_constant,
        disconnected_inputs,
        return_disconnected,
        null_gradients=null_gradients,
        null_seeds=undefined,
        name=cost_name if add_names else None,
        fixed=fixed,
    )
    return _as_given(out, wrt)


def given_gradient(v: Any, g: Any, what: str, name: str) -> Variable:
    """Gradient ``g`` given from outside the rules fncache trusts (``known_grads``, evaluation
    points, an as_op's grad function; ``name`` says which) for variable ``v``: a float tensor
    (or a complex one, for a complex ``v``) of ``v``'s ndim and static sizes, cast to ``v``'s
    dtype, its run-time shape checked."""
    if not isinstance(v, Variable):
        raise TypeError(f"{what}: the keys of {name} must be symbolic variables, got {v!r}")
    if not is_inexact(v.dtype):
        raise TypeError(
            f"{what}: {v!r} in {name} is of dtype {v.dtype}; gradients flow only through float "
            "variables (cast it with ft.cast(x, 'float64') and give the gradient of the cast)"
        )
    try:
        g = as_tensor_variable(g)
    except TypeError as e:
        raise TypeError(f"{what}: the gradient given for {v!r} in {name} is not a tensor ({e})") from None
    if is_complex(g.dtype) and not is_complex(v.dtype):
        raise TypeError(
            f"{what}: the gradient given for {v!r} in {name} has dtype {g.dtype}, but the "
            f"variable is real ({v.dtype}), and so is its gradient; give ft.real(g)"
        )
    if not is_inexact(g.dtype):
        raise TypeError(
            f"{what}: the gradient given for {v!r} in {name} has dtype {g.dtype}; a gradient "
            "must be of a float dtype (cast it with ft.cast(g, 'float64'))"
        )
    if g.ndim != v.ndim or any(
        a is not None and b is not None and a != b for a, b in zip(g.type.shape, v.type.shape)
    ):
        raise ValueError(
            f"{what}: the gradient given for {v!r} in {name} has type {g.type}, which does not "
            f"match the variable's {v.type}; give one of the variable's shape"
        )
    g = g if g.dtype == v.dtype else cast(g, v.dtype)
    if all(a is not None and a == b for a, b in zip(g.type.shape, v.type.shape)):
        return g
    # A size known only when the function runs is checked then: a gradient built from g takes
    # g's shape wherever it does not read v's, so a wrong one would come back silently.
    from .pyop import check_value, literal
    from .shape_ops import shape

    named, where = literal(repr(v)), literal(name)  # PythonOp{<lambda>}.0: its braces are text
    return check_value(
        g,
        elemwise("eq", shape(g), shape(v)),
        f"{what}: the gradient given for {named} in {where} does not have the variable's shape "
        f"when the function runs ({{0}}, the variable {{1}}); give one of {named}'s shape",
        shape(g),
        shape(v),
        optional=True,
    )


def _seeded(
    outputs: Sequence[Variable],
    seeds: Sequence[Variable],
    items: list[Variable],
    consider_constant: Sequence[Variable] | None,
    disconnected_inputs: str,
    return_disconnected: str = "zero",
    inner: bool = False,
    null_gradients: str = "raise",
    null_seeds: Sequence[tuple[Variable, Variable]] = (),
    name: str | None = None,
    fixed: Collection[int] = (),
) -> list[Any]:
    """The gradients reaching ``items`` from ``seeds`` at ``outputs``; for an item none
    reaches, the error ``disconnected_inputs`` asks for, else zeros (``return_disconnected``
    ``"zero"``), None (``"none"``) or a `DisconnectedType` variable (``"disconnected"``). An
    item reached only through integer steps (comparisons, argmax) is connected: its gradient is
    zeros. ``inner``: the graph is an op's own, differentiated in all its inputs
    (`inner_gradients`). An undefined gradient reaching an item (from a rule, or one of
    ``null_seeds``, ``(variable, its NullType gradient)`` pairs from ``known_grads``) raises
    `NullTypeGradError` under ``null_gradients="raise"``, else is the item's gradient (a
    `NullType` variable). ``name``: the cost's, each connected item's gradient is named
    ``(dcost/dw)`` after (PyTensor's ``add_names``). ``fixed``: `backprop`'s."""
    blockers = _blockers(outputs, consider_constant)
    if inner:
        grads = inner_gradients(outputs, seeds, items, blockers, fixed=fixed)
    elif null_gradients == "return":
        grads = inner_gradients(outputs, seeds, items, blockers, reasons=True, fixed=fixed)
    else:
        grads = backprop(outputs, seeds, items, blockers, fixed=fixed)
    reachable = connected_ancestors(outputs, blockers)
    for v, g in null_seeds:
        reached = connected_ancestors([v], _blockers([v], consider_constant))
        for w in items:
            if id(w) not in reached:
                continue
            if null_gradients == "raise":
                raise NullTypeGradError(
                    f"grad: the gradient given for {v!r} in known_grads is undefined "
                    f"({g.type.why_null}), and {w!r} depends on {v!r}; give a defined gradient, "
                    f"leave {v!r} out of known_grads, or pass null_gradients='return'"
                )
            grads[id(w)] = NullType(g.type.why_null)()
    out: list[Any] = []
    for w in items:
        g = grads.get(id(w))
        if g is None:
            if id(w) not in reachable:
                msg = (
                    f"grad: the cost does not depend on {w!r} (it is not part of the cost's "
                    "graph, or only through consider_constant or disconnected_grad); pass "
                    "disconnected_inputs='ignore' or 'warn' to get zeros" + _built_after_hint(w)
                )
                _disconnected(msg, disconnected_inputs, stacklevel=4)
                out.append(_disconnected_result(w, return_disconnected))
                continue
            g = zeros_like(w)
        if name and w.name and g.name is None and (g.owner is not None or is_null_gradient(g)):
            g.name = f"(d{name}/d{w.name})"
        out.append(g)
    return out


def _disconnected_result(w: Variable, return_disconnected: str) -> Variable | None:
    """What ``return_disconnected`` gives a variable ``w`` the result does not depend on."""
    if return_disconnected == "zero":
        return zeros_like(w)
    return DisconnectedType()() if return_disconnected == "disconnected" else None


def _built_after_hint(w: Variable) -> str:
    """For a ``wrt`` variable computed from others: that an expression built after the cost
    (``x[0]``, ``x.T``) is a new variable, which the cost does not read, and what to do."""
    if w.owner is None:
        return ""
    source = next((v for v in w.owner.inputs if is_inexact(v.dtype)), None)
    name = repr(source) if source is not None else "the variable it is computed from"
    return (
        f". {w!r} is computed by {w.owner.op}: an expression built after the cost (x[0], x.T) is a "
        f"new variable, which the cost does not read; differentiate with respect to {name} and "
        "take the part of its gradient (fc.grad(cost, x)[0]), or build the cost from the expression"
    )


def _blockers(outputs: Sequence[Variable], consider_constant: Sequence[Variable] | None) -> list[Variable]:
    """What no gradient passes: ``consider_constant``, and the output of each
    ``disconnected_grad`` marker ``outputs`` depend on."""
    blockers = list(consider_constant or ())
    blockers += [
        v.owner.outputs[0]
        for v in ancestors(outputs, blockers)
        if v.owner is not None and isinstance(v.owner.op, DisconnectedGrad)
    ]
    return blockers


def connected_ancestors(outputs: Sequence[Variable], blockers: Sequence[Variable]) -> set[int]:
    """The ids of the variables ``outputs`` depend on, not walking past ``blockers``, nor from
    an output of a node to the inputs its op's ``connection_pattern(node)`` (Theano's and
    PyTensor's ``[input][output]`` booleans) says it does not depend on."""
    block = {id(b) for b in blockers}
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        node = v.owner
        if node is None or id(v) in block:
            continue
        pattern = getattr(node.op, "connection_pattern", None)
        if callable(pattern):
            k = node.outputs.index(v)
            stack.extend(i for i, row in zip(node.inputs, pattern(node)) if row[k])
        else:
            stack.extend(node.inputs)
    return seen


def seeded_gradients(
    outputs: Sequence[Variable], seeds: Sequence[Variable], wrt: Sequence[Variable]
) -> list[Variable | None]:
    """The gradients reaching each of ``wrt`` from ``seeds`` (trusted: of their outputs' types)
    at ``outputs``; None where none reaches. What an op made of a graph of its own
    (``OpFromGraph``) gives its inputs."""
    return _seeded(outputs, seeds, list(wrt), None, "ignore", "none", inner=True)


def user_gradients(inputs: Sequence[Variable], res: Any, what: str) -> list:
    """The gradients a user's rule (``what``) returned for ``inputs``, checked: one per input,
    None (or PyTensor's ``DisconnectedType()()``) for none, an undefined one (``NullType``)
    kept as it is, the others of their input's type and shape."""
    if not isinstance(res, (list, tuple)):
        raise TypeError(
            f"grad: {what} must return a list (one symbolic gradient or None per input), got {res!r}"
        )
    if len(res) != len(inputs):
        raise ValueError(f"grad: {what} returned {len(res)} gradients for {len(inputs)} inputs")
    # The user's rule, unlike fncache's own, may not rely on the driver summing broadcast dims
    # or casting: a float or complex input's gradient is checked to be exactly of its type and
    # shape.
    res = [
        None if g is not None and isinstance(getattr(g, "type", None), DisconnectedType) else g for g in res
    ]
    return [
        given_gradient(v, g, "grad", what)
        if g is not None and not is_null_gradient(g) and is_inexact(v.dtype)
        else g
        for v, g in zip(inputs, res)
    ]


def jacobian(
    expression: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    vectorize: bool = False,
) -> Any:
    """d expression / d wrt, of shape ``expression.shape + wrt.shape`` (one per wrt when
    ``wrt`` is a list). Sizes may be unknown until the function runs (``ft.dvector``): the
    gradient of one element, ``grad(flat[k], wrt)``, is built once and evaluated for every
    ``k`` at run time (`JacobianRows`), whether the size is static or not (one graph per
    element, unrolled, compiles slower and runs no faster); an expression with no elements
    gives an empty Jacobian, an integer or bool one zeros (a step function). ``vectorize``
    (PyTensor's choice between a loop and a batched graph) is taken and changes nothing: the
    rows are one node either way.

    Complex values: with respect to a complex variable ``z``, each row is ``grad``'s
    ``d/dRe + i d/dIm`` of a real expression's element; a complex expression's Jacobian with
    respect to real variables is ``d Re/dw + i d Im/dw`` (its derivative), and with respect to
    a complex variable it is refused (two real Jacobians: those of ``ft.real`` and ``ft.imag``
    of it)."""
    from .jacobian_rows import jacobian_rows
    from .shape_ops import reshape, shape

    _check_vectorize(vectorize, "jacobian")
    expr = as_tensor_variable(expression)
    items = _as_list(wrt, "jacobian")
    consider_constant = _constants(consider_constant, "jacobian")
    if is_complex(expr.dtype):
        return _complex_jacobian(expr, wrt, items, consider_constant, disconnected_inputs)
    if expr.ndim == 0:
        return grad(expr, wrt, consider_constant, disconnected_inputs)
    if not is_float(expr.dtype):
        # an integer or bool expression: zeros where it depends on wrt, as grad's of an
        # integer cost (PyTensor's), from the rows of its cast
        expr = cast(expr, config.floatX)
    if expr.ndim == 1:
        flat = expr
    else:
        flat = reshape(expr, (-1,) if None in expr.type.shape else (int(np.prod(expr.type.shape)),))
    _check_disconnected(disconnected_inputs, "jacobian")
    k = TensorType("int64", ())("k")
    # Row k is the gradient of flat[k]: the gradient reaching flat is one at k, zeros elsewhere,
    # and k < len(flat) for every row the loop runs (what lets a sum of it be that one).
    # Built on the stand-in k, which has no test value (config.compute_test_value).
    with config.change_flags(compute_test_value="off"):
        seed = SubtensorGrad((("i", ("v", 0)),), in_range=True)(flat, constant(np.ones((), flat.dtype)), k)
        rows = _seeded([flat], [seed], items, consider_constant, disconnected_inputs)
    jacs = jacobian_rows(flat, k, rows, items)
    if expr.ndim != 1:
        es = shape(expr)
        expr_shape = [s if s is not None else es[d] for d, s in enumerate(expr.type.shape)]
        for j, w in enumerate(items):
            ws = shape(w)
            w_shape = [s if s is not None else ws[d] for d, s in enumerate(w.type.shape)]
            jacs[j] = reshape(jacs[j], expr_shape + w_shape, ndim=expr.ndim + w.ndim)
    return _as_given(jacs, wrt)


def _complex_jacobian(
    expr: Variable,
    wrt: Any,
    items: list[Variable],
    consider_constant: list[Variable],
    disconnected_inputs: str,
) -> Any:
    """The Jacobian of complex ``expr`` with respect to real ``items``: ``d Re/dw + i d Im/dw``
    (the parts depend on the variables ``expr`` depends on: the same ones are disconnected)."""
    for w in items:
        if is_complex(w.dtype):
            raise TypeError(
                f"jacobian: the expression {expr!r} ({expr.type}) and the variable {w!r} "
                f"({w.type}) are both complex, and a complex function of a complex variable has "
                "no one Jacobian unless it is holomorphic (it is four real ones); take "
                "ft.jacobian(ft.real(e), z) and ft.jacobian(ft.imag(e), z) (each d/dRe + i d/dIm "
                "of a real expression), or differentiate with respect to the real variables of "
                "z = ft.complex(re, im)"
            )
    parts = [
        jacobian(elemwise(part, expr), items, consider_constant, disconnected_inputs)
        for part in ("real", "imag")
    ]
    out = [elemwise("complex", re, im) for re, im in zip(parts[0], parts[1])]
    return _as_given(out, wrt)


def hessian(
    cost: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    vectorize: bool = False,
) -> Any:
    """The matrix of second derivatives of scalar ``cost`` with respect to each ``wrt``
    variable: ``jacobian(grad(cost, w), w)``, of shape ``w.shape + w.shape``; ``w``'s size
    may be unknown until the function runs. ``vectorize`` as for :func:`jacobian`."""
    from .shape_ops import reshape

    _check_vectorize(vectorize, "hessian")
    cost = as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(
            f"hessian: cost must be a scalar (ndim 0), got {cost!r} of type {cost.type}; "
            "reduce it first (e.g. cost.sum())"
        )
    items = _as_list(wrt, "hessian")
    for w in items:
        if is_complex(w.dtype):
            raise TypeError(
                f"hessian: cannot take the Hessian with respect to {w!r} of dtype {w.dtype}: a "
                "real cost's second derivatives in a complex variable are a real matrix of twice "
                f"its size (in its real and imaginary parts), not one of {w.dtype}; take g = "
                "fc.grad(cost, z), then ft.jacobian(ft.real(g), z) and ft.jacobian(ft.imag(g), z) "
                "(the rows d/dRe + i d/dIm of dC/dRe and of dC/dIm), or build z = "
                "ft.complex(re, im) from real variables and differentiate with respect to those"
            )
    consider_constant = _constants(consider_constant, "hessian")
    _check_disconnected(disconnected_inputs, "hessian")
    out = []
    for w in items:
        g = grad(cost, w, consider_constant, disconnected_inputs)
        if g.type.shape != w.type.shape and None not in w.type.shape:
            g = reshape(g, w.type.shape)  # the gradient has w's shape: make it static
        out.append(jacobian(g, w, consider_constant, disconnected_inputs))
    return _as_given(out, wrt)


def _check_vectorize(vectorize: Any, what: str) -> None:
    if not isinstance(vectorize, (bool, np.bool_)):
        raise TypeError(f"{what}: vectorize must be True or False, got {vectorize!r}")


def _paired(f: Any, points: Any, what: str, f_name: str) -> tuple[list[Variable], list[Any]]:
    """``f`` (as variables) and ``points`` as equal-length lists; a single variable or point
    is a list of one."""
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    ps = list(points) if isinstance(points, (list, tuple)) else [points]
    if len(fs) != len(ps):
        raise ValueError(
            f"{what}: {len(fs)} {f_name} but {len(ps)} eval_points; give one evaluation point "
            f"per {f_name.rstrip('s')} (a list of the same length)"
        )
    out = []
    for v in fs:
        try:
            out.append(as_tensor_variable(v))
        except TypeError as e:
            raise TypeError(f"{what}: {f_name} must be symbolic variables, got {v!r} ({e})") from None
    return out, ps


def Lop(
    f: Any,
    wrt: Any,
    eval_points: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    return_disconnected: str = "zero",
) -> Any:
    """The vector-Jacobian product: for each ``w`` of ``wrt``, ``sum_i eval_points[i] .
    d f[i] / d w``, where ``eval_points[i]`` has ``f[i]``'s shape (``f``, ``eval_points``: a
    variable each, or lists of the same length). ``grad`` with ``known_grads`` and no cost;
    the other arguments are ``grad``'s."""
    fs, points = _paired(f, eval_points, "Lop", "f")
    known: list[tuple[Variable, Variable]] = [
        (v, given_gradient(v, p, "Lop", "eval_points")) for v, p in zip(fs, points)
    ]
    items = _as_list(wrt, "Lop")
    consider_constant = _constants(consider_constant, "Lop")
    _check_disconnected(disconnected_inputs, "Lop")
    return_disconnected = _return_disconnected(return_disconnected, "Lop")
    out = _seeded(
        [v for v, _ in known],
        [g for _, g in known],
        items,
        consider_constant,
        disconnected_inputs,
        return_disconnected,
    )
    return _as_given(out, wrt)


def Rop(
    f: Any,
    wrt: Any,
    eval_points: Any,
    disconnected_outputs: str = "raise",
    return_disconnected: str = "zero",
    use_op_rop_implementation: bool = False,
) -> Any:
    """The Jacobian-vector product: for each ``y`` of ``f``, ``sum_j d y / d wrt[j] .
    eval_points[j]``, of ``y``'s shape (``wrt``, ``eval_points``: a variable each, or lists of
    the same length; ``eval_points[j]`` has ``wrt[j]``'s shape). fncache's ops have reverse
    rules only, so this is two reverse passes: ``u -> J^T u`` is linear in a stand-in ``u``
    of ``y``'s type, and its own vector-Jacobian product with ``eval_points`` is ``J v``.
    ``disconnected_outputs``: for a ``y`` that depends on no ``wrt`` variable, ``"raise"``
    (ValueError), ``"warn"`` or ``"ignore"``; ``return_disconnected`` then says what it gets
    (``"zero"``: zeros of ``y``'s type; ``"none"``: None; ``"disconnected"``: a
    `DisconnectedType` variable). An integer or bool ``y`` gets zeros of ``floatX``.

    Complex values: ``J v`` is the derivative of ``y`` along ``v``, ``d/dt y(wrt + t v)`` at
    0, for complex ``y``, complex ``wrt`` (complex ``v``) or both. ``J^T u`` is then the
    gradient of ``Re(sum(conj(u) y))`` (`Lop`'s), real-linear in ``u``, and its own gradient
    along ``v`` is ``J v``: the two reverse passes hold as for real values.

    ``use_op_rop_implementation`` (PyTensor's): the product is carried forward node by node,
    and a node whose op has an ``R_op(inputs, eval_points)`` (an ``OpFromGraph`` with
    ``rop_overrides``) gives its own; each other node's is its two reverse passes."""
    _check_choice(disconnected_outputs, "disconnected_outputs", ("raise", "warn", "ignore"), "Rop")
    return_disconnected = _return_disconnected(return_disconnected, "Rop")
    items = _as_list(wrt, "Rop")
    ws, points = _paired(items, eval_points, "Rop", "wrt")
    vs = [given_gradient(w, p, "Rop", "eval_points") for w, p in zip(ws, points)]
    single = not isinstance(f, (list, tuple))
    ys = [as_tensor_variable(y) for y in ([f] if single else f)]
    # An integer or bool y is a step function of wrt: its product is zeros of floatX (as
    # PyTensor's, and as grad's gradient of an integer cost), none needs computing.
    floats = [y for y in ys if is_inexact(y.dtype)]
    found = dict(zip(map(id, floats), (_forward if use_op_rop_implementation else jvp)(floats, ws, vs)))
    out: list[Any] = []
    for y in ys:
        r = found.get(id(y))
        if r is None:
            # None: no product reached y. Where y still depends on a wrt variable, only
            # through steps of derivative zero (zero_grad, round, an integer), it is zeros,
            # as grad's gradient there; disconnected is what grad calls so.
            zeros = zeros_like(y, None if is_inexact(y.dtype) else config.floatX)
            reached = connected_ancestors([y], _blockers([y], None))
            if any(id(w) in reached for w in ws):
                out.append(zeros)
                continue
            msg = (
                f"Rop: {y!r} does not depend on any of wrt (or only through disconnected_grad); "
                "pass disconnected_outputs='ignore' or 'warn' to get zeros"
            )
            _disconnected(msg, disconnected_outputs, stacklevel=3)
            r = zeros if return_disconnected == "zero" else _disconnected_result(y, return_disconnected)
        out.append(r)
    return out[0] if single else _as_given(out, f)


def jvp(
    ys: Sequence[Variable], ws: Sequence[Variable], vs: Sequence[Variable], blockers: Sequence[Variable] = ()
) -> list[Variable | None]:
    """``J v`` for each of ``ys`` (float or complex variables), ``v`` being ``vs`` (trusted: of the types
    of ``ws``, distinct variables) by two reverse passes, not walking past ``blockers``; None
    for a ``y`` that depends on none of ``ws``."""
    # The stand-in u for each y: y itself behind a zero gradient, so J v, which reads at most
    # u's shape, reads y's, and the sizes of u and y are known equal (no run-time broadcast
    # check); a gradient of J v flows into y through its own graph only.
    us = [ZeroGrad()(y) for y in ys]
    # J^T u for each wrt; wrt variables none of ys depends on simply give no term.
    jtu = _seeded(ys, us, list(ws), list(blockers) or None, "ignore", "none")
    terms = [(g, v) for g, v in zip(jtu, vs) if g is not None]
    if not terms:
        return [None] * len(ys)
    return _seeded([g for g, _ in terms], [v for _, v in terms], us, None, "ignore", "none")


def _forward(ys: Sequence[Variable], ws: Sequence[Variable], vs: Sequence[Variable]) -> list[Variable | None]:
    """``J v`` for each of ``ys``, carried forward node by node from ``vs`` at ``ws``: a node
    whose op has ``R_op(inputs, eval_points)`` gives its outputs' products itself (None for
    an input without one), any other node its own two reverse passes (:func:`jvp`)."""
    tangent: dict[int, Variable] = {}
    for w, v in zip(ws, vs):
        tangent[id(w)] = v if id(w) not in tangent else tangent[id(w)] + v
    for node in toposort(ys):
        ts = [tangent.get(id(i)) for i in node.inputs]
        if all(t is None for t in ts):
            continue
        for i, t in zip(node.inputs, ts):
            if is_null_gradient(t):
                raise NullTypeGradError(f"Rop: the product through {i!r} is undefined: {t.type.why_null}")
        r_op = getattr(node.op, "R_op", None)
        if callable(r_op):
            res = r_op(list(node.inputs), ts)
            if not isinstance(res, (list, tuple)) or len(res) != len(node.outputs):
                raise ValueError(
                    f"Rop: {node.op}.R_op must return a list of {len(node.outputs)} products (one "
                    f"per output, None for none), got {res!r}"
                )
            outs = [
                None
                if t is None or isinstance(getattr(t, "type", None), DisconnectedType)
                else t
                if is_null_gradient(t)
                else given_gradient(o, t, "Rop", f"the R_op of {node.op}")
                for o, t in zip(node.outputs, res)
            ]
        else:
            # each distinct input once: an input read twice has one tangent, not two
            idx = list({id(i): k for k, i in enumerate(node.inputs) if ts[k] is not None}.values())
            floats = [o for o in node.outputs if is_inexact(o.dtype)]
            found = dict(
                zip(
                    map(id, floats),
                    jvp(floats, [node.inputs[k] for k in idx], [ts[k] for k in idx], node.inputs),
                )
            )
            outs = [found.get(id(o)) for o in node.outputs]
        for o, t in zip(node.outputs, outs):
            if t is not None:
                tangent[id(o)] = t
    out = []
    for y in ys:
        t = tangent.get(id(y))
        if is_null_gradient(t):
            raise NullTypeGradError(f"Rop: the product of {y!r} is undefined: {t.type.why_null}")
        out.append(t)
    return out


def pullback(
    f: Any,
    wrt: Any,
    cotangents: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    return_disconnected: str = "zero",
) -> Any:
    """PyTensor 3's name for :func:`Lop` (``cotangents``: its ``eval_points``)."""
    return Lop(f, wrt, cotangents, consider_constant, disconnected_inputs, return_disconnected)


def pushforward(
    f: Any,
    wrt: Any,
    tangents: Any,
    disconnected_outputs: str = "raise",
    return_disconnected: str = "zero",
    use_op_pushforward: bool = False,
) -> Any:
    """PyTensor 3's name for :func:`Rop` (``tangents``: its ``eval_points``;
    ``use_op_pushforward``: its ``use_op_rop_implementation``)."""
    return Rop(f, wrt, tangents, disconnected_outputs, return_disconnected, use_op_pushforward)


def hessian_vector_product(cost: Any, wrt: Any, p: Any, **grad_kwargs: Any) -> Any:
    """The Hessian of scalar ``cost`` times ``p`` without forming the Hessian: the gradient
    of ``sum_j <grad(cost, wrt[j]), p[j]>`` with respect to ``wrt`` (``p[j]`` has
    ``wrt[j]``'s shape; a variable each, or lists of the same length). ``grad_kwargs``
    (``consider_constant``, ``disconnected_inputs``, ``add_names``) go to the first gradient;
    in the second, a ``wrt`` the gradient does not depend on (a cost linear in it) gets zeros."""
    allowed = ("consider_constant", "disconnected_inputs", "add_names")
    extra = sorted(set(grad_kwargs) - set(allowed))
    if extra:
        raise TypeError(
            f"hessian_vector_product: unexpected arguments {extra}; it passes only "
            f"{', '.join(allowed)} on to grad"
        )
    _check_disconnected(grad_kwargs.get("disconnected_inputs", "raise"), "hessian_vector_product")
    if "consider_constant" in grad_kwargs:
        grad_kwargs["consider_constant"] = _constants(
            grad_kwargs["consider_constant"], "hessian_vector_product"
        )
    items = _as_list(wrt, "hessian_vector_product")
    ws, points = _paired(items, p, "hessian_vector_product", "wrt")
    ps = [given_gradient(w, v, "hessian_vector_product", "p") for w, v in zip(ws, points)]
    gs = grad(cost, ws, **grad_kwargs)
    total = real_inner(gs[0], ps[0])
    for g, v in zip(gs[1:], ps[1:]):
        total = total + real_inner(g, v)
    second = {k: v for k, v in grad_kwargs.items() if k != "disconnected_inputs"}
    out = grad(total, ws, disconnected_inputs="ignore", **second)
    return _as_given(out, wrt)


def subgraph_grad(
    wrt: Sequence[Variable],
    end: Sequence[Variable],
    start: Mapping[Variable, Any] | None = None,
    cost: Any = None,
    details: bool = False,
) -> tuple:
    """PyTensor's ``subgraph_grad``: the gradient of one part of a graph at a time. ``cost``
    (a scalar) and the gradients ``start`` ({variable: gradient}, those of variables above
    this part, as ``known_grads``) flow back to ``wrt`` and stop at ``end`` (taken as
    constants); returns ``(wrt_grads, end_grads)``, ``end_grads`` being what the part below
    starts from (``dict(zip(end, end_grads))``), and with ``details`` also the gradients from
    ``start`` alone and from ``cost`` alone (None where not given), each over ``wrt + end``
    without repeats."""
    what = "subgraph_grad"
    if cost is None and start is None:
        raise ValueError(f"{what}: give cost, start (a dict of known gradients) or both")
    for name, given in (("wrt", wrt), ("end", end)):
        if not isinstance(given, (list, tuple)):
            raise TypeError(f"{what}: {name} must be a list of variables, got {type(given).__name__}")
    if start is not None and not isinstance(start, Mapping):
        raise TypeError(f"{what}: start must be a dict {{variable: gradient}}, got {type(start).__name__}")
    params: list[Variable] = []
    for v in [*wrt, *end]:
        if not any(v is p for p in params):
            params.append(v)
    fixed = list(end)
    from_start = (
        grad(None, params, fixed, "ignore", known_grads=start, return_disconnected="zero")
        if start is not None
        else None
    )
    from_cost = grad(cost, params, fixed, "ignore") if cost is not None else None
    if from_start is None or from_cost is None:
        total = from_cost if from_start is None else from_start
    else:
        total = [a + b for a, b in zip(from_start, from_cost)]
    found = dict(zip(map(id, params), total))
    wrt_grads, end_grads = [found[id(v)] for v in wrt], [found[id(v)] for v in end]
    if details:
        return wrt_grads, end_grads, from_start, from_cost
    return wrt_grads, end_grads
