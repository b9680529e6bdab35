"""`sigmoid_products`: products and quotients of ``exp``, ``1 + exp`` and `sigmoid` terms made
products of sigmoids, which stay finite where those terms overflow or a sigmoid rounds to 0.

Gradients are built from the graph as written, before any rewrite: the gradient of the logistic
function spelled out (`logistic` recognises it) keeps ``g * exp(x) / (1 + exp(x))**2``, and
the gradient of its logarithm divides by it (``g / sigmoid(x)``). Where ``x`` is large these are
inf / inf and inf * 0: NaN, as in numpy, though every true value is finite.

A tree of ``mul``, ``true_div``, ``reciprocal``, ``neg`` and ``sqr`` nodes of one float dtype
is read as ``sign * (product of factors above) / (product of factors below)`` from its root
(at most `MAX_NODES` nodes: what lies deeper is a factor, so only the top of a longer chain
is simplified), and:

* ``exp(x)`` above ``1 + exp(x)`` is ``sigmoid(x)``; a ``1 + exp(x)`` left below is
  ``sigmoid(-x)`` above;
* ``exp(x) * sigmoid(-x)`` is ``sigmoid(x)``, and ``(1 + exp(x)) * sigmoid(-x)`` is 1 (as a
  ``1 + exp(x)`` above and one below: the gradient of ``exp(x) / (1 + exp(x))**2`` has both);
* ``1 - tanh(z)**2`` above (``tanh``'s gradient) and ``sigmoid(±2 z)`` below (a `logistic`
  spelling with ``tanh``, whose logarithm's gradient divides by it) is ``4 * sigmoid(∓2 z)``
  above: ``1 - tanh(z)**2`` is 0 where ``tanh(z)`` rounds to +-1;
* ``sigmoid(x)`` above and below cancel;
* a sum above is multiplied out where that cancels a sigmoid below in each of its terms:
  ``(a / sigmoid(x) + b / sigmoid(-x)) * sigmoid(x) * sigmoid(-x)`` is
  ``a * sigmoid(-x) + b * sigmoid(x)``.

Only a tree where one of these applies is rebuilt (a new grouping rounds differently), and a
factor cancelled away must leave another of its shape (the same ``x``), so the result keeps the
shape the tree had."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..graph.basic import Apply, Constant, Variable
from ..graph.fgraph import FunctionGraph
from ..graph.types import is_float
from ..tensor.basic import constant
from ..tensor.elemwise import elemwise
from .canonicalize import can_stand_for, cannot_grow, producer, single_step
from .local import local_pass
from .logistic import halving_of, is_one, negated, one_plus_exp
from .registry import register

#: Nodes read into one tree (bounds the work per node on long chains).
MAX_NODES = 32

_TREE_OPS = ("mul", "true_div", "reciprocal", "neg", "sqr")


class Term(NamedTuple):
    negative: bool
    above: list[Variable]
    below: list[Variable]


class _Keys:
    """Structural keys of variables: equal keys, equal values (one-step elementwise nodes on
    equal inputs, equal constants). A key is a number standing for the structure, the same
    wherever the variable is met (a key that stopped at some depth and was kept would compare
    by identity where it is met at the top). Holds the variables it keyed, so no id is
    reused."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Variable, int]] = {}
        self._numbers: dict[Any, int] = {}
        self._structures: list[Any] = []

    def _number(self, structure: Any) -> int:
        n = self._numbers.get(structure)
        if n is None:
            n = self._numbers[structure] = len(self._structures)
            self._structures.append(structure)
        return n

    def __call__(self, v: Variable) -> int:
        todo = [v]
        while todo:
            u = todo[-1]
            if id(u) in self._memo:
                todo.pop()
                continue
            p = producer(u)
            if isinstance(u, Constant):
                k: Any = ("const", u.signature())
            elif p is not None:
                missing = [i for i in p[1] if id(i) not in self._memo]
                if missing:
                    todo += missing
                    continue
                k = (p[0], u.dtype, tuple(self._memo[id(i)][1] for i in p[1]))
            else:
                k = ("var", id(u))
            self._memo[id(u)] = (u, self._number(k))
            todo.pop()
        return self._memo[id(v)][1]

    def negated(self, x: Variable) -> int:
        """The key of ``-x``."""
        p = producer(x)
        return (
            self(p[1][0]) if p is not None and p[0] == "neg" else self._number(("neg", x.dtype, (self(x),)))
        )

    def doubled(self, z: Variable) -> int:
        """The key of ``2 z`` as `logistic` spells it: ``x`` where ``z`` halves ``x``, else
        ``z + z``."""
        x = halving_of(z)
        return self(x) if x is not None else self._number(("add", z.dtype, (self(z), self(z))))

    def unsigned(self, k: int) -> int:
        """The key ``k`` without a negation."""
        s = self._structures[k]
        return s[2][0] if s[0] == "neg" else k


def _read(v: Variable) -> Term:
    """``v`` as a signed quotient of products (its factors in the order met)."""
    negative, above, below = False, [], []
    stack, nodes = [(v, False)], 0
    while stack:
        x, down = stack.pop()
        p = producer(x)
        if (
            p is not None
            and p[0] in _TREE_OPS
            and nodes < MAX_NODES
            and x.dtype == v.dtype
            and all(i.dtype == v.dtype for i in p[1])
        ):
            nodes += 1
            name, ins = p
            if name == "neg":
                negative = not negative
                stack.append((ins[0], down))
            elif name == "mul":
                stack += [(ins[1], down), (ins[0], down)]
            elif name == "true_div":
                stack += [(ins[1], not down), (ins[0], down)]
            elif name == "reciprocal":
                stack.append((ins[0], not down))
            else:
                stack += [(ins[0], down), (ins[0], down)]
        else:
            (below if down else above).append(x)
    return Term(negative, above, below)


def _kind(v: Variable) -> tuple[str, Variable] | None:
    """("exp" | "sigmoid" | "1+exp" | "1-tanh**2", x) for exp(x), sigmoid(x), 1 + exp(x),
    1 - sqr(tanh(x)) of ``v``'s shape."""
    p = producer(v)
    if p is not None and p[0] in ("exp", "sigmoid") and can_stand_for(v, p[1][0]):
        return p[0], p[1][0]
    if p is not None and p[0] == "sub" and is_one(p[1][0], p[1][1]):
        q = producer(p[1][1])
        t = producer(q[1][0]) if q and q[0] == "sqr" else None
        if t and t[0] == "tanh" and can_stand_for(v, t[1][0]):
            return "1-tanh**2", t[1][0]
        return None
    x = one_plus_exp(v)
    return None if x is None else ("1+exp", x)


class _Simplifier:
    def __init__(self) -> None:
        self.key = _Keys()

    def _find(self, factors: list[Variable], kind: str, k: Any, skip: int = -1) -> int | None:
        for j, f in enumerate(factors):
            fk = _kind(f)
            if j != skip and fk is not None and fk[0] == kind and self.key(fk[1]) == k:
                return j
        return None

    def _origin(self, v: Variable) -> Any:
        """What decides ``v``'s shape, as a key: ``x`` (without its sign) for a term of ``x``."""
        fk = _kind(v)
        return self.key(v) if fk is None else self.key.unsigned(self.key(fk[1]))

    def _shape_kept(self, gone: Variable, rest: list[Variable]) -> bool:
        o = self._origin(gone)
        return any(self._origin(r) == o or cannot_grow(r, gone) for r in rest)

    def _step(self, above: list[Variable], below: list[Variable]) -> tuple[list, list] | None:
        """One rule applied, or None."""
        for i, d in enumerate(below):
            dk = _kind(d)
            if dk is None:
                continue
            kind, x = dk
            rest_below = below[:i] + below[i + 1 :]
            if kind == "1+exp":
                j = self._find(above, "exp", self.key(x))
                if j is not None:
                    return above[:j] + [elemwise("sigmoid", x)] + above[j + 1 :], rest_below
                return above + [elemwise("sigmoid", negated(x))], rest_below
            if kind == "sigmoid":
                j = self._find(above, "sigmoid", self.key(x))
                if j is not None:
                    rest_above = above[:j] + above[j + 1 :]
                    if self._shape_kept(d, rest_above + rest_below):
                        return rest_above, rest_below
                # 1 - tanh(z)**2 == 4 * sigmoid(2 z) * sigmoid(-2 z), either sign of 2 z
                k = self.key.unsigned(self.key(x))
                for j, a in enumerate(above):
                    ak = _kind(a)
                    if (
                        ak is not None
                        and ak[0] == "1-tanh**2"
                        and self.key.unsigned(self.key.doubled(ak[1])) == k
                    ):
                        four = constant(np.full((), 4, d.dtype))
                        sig = elemwise("sigmoid", negated(x))
                        return above[:j] + [four, sig] + above[j + 1 :], rest_below
        for i, a in enumerate(above):
            ak = _kind(a)
            if ak is None or ak[0] not in ("exp", "1+exp"):
                continue
            j = self._find(above, "sigmoid", self.key.negated(ak[1]), skip=i)
            if j is None:
                continue
            kept = [f for n, f in enumerate(above) if n not in (i, j)]
            if ak[0] == "exp":
                return kept + [elemwise("sigmoid", ak[1])], below
            if self._shape_kept(a, kept + below):  # (1 + exp(x)) * sigmoid(-x) is 1
                return kept, below
        return None

    def simplify(self, t: Term) -> tuple[Term, bool]:
        above, below, changed = list(t.above), list(t.below), False
        while (r := self._step(above, below)) is not None:
            above, below = r
            changed = True
        return Term(t.negative, above, below), changed

    def multiplied_out(self, t: Term) -> list[Term] | None:
        """The terms of ``t`` with a sum above multiplied out, where each of the sum's terms
        then loses every sigmoid below (and at least one had one), else None."""
        for i, a in enumerate(t.above):
            parts = _summands(a)
            if parts is None:
                continue
            beside = t.above[:i] + t.above[i + 1 :]
            out, cancels = [], False
            for minus, s in parts:
                st = _read(s)
                sig_below = [f for f in st.below if (fk := _kind(f)) is not None and fk[0] == "sigmoid"]
                full, _ = self.simplify(
                    Term(t.negative ^ minus ^ st.negative, beside + st.above, t.below + st.below)
                )
                if any(f in full.below for f in sig_below):
                    break
                cancels = cancels or bool(sig_below)
                out.append(full)
            else:
                if cancels:
                    return out
        return None


def _summands(v: Variable) -> list[tuple[bool, Variable]] | None:
    """(minus, term) of a sum or difference ``v`` (nested ones flattened, at most `MAX_NODES`
    of them), else None."""
    p = producer(v)
    if p is None or p[0] not in ("add", "sub"):
        return None
    out, stack, nodes = [], [(False, v)], 0
    while stack:
        minus, x = stack.pop()
        q = producer(x)
        if (
            q is not None
            and q[0] in ("add", "sub")
            and nodes < MAX_NODES
            and all(i.dtype == v.dtype for i in q[1])
        ):
            nodes += 1
            a, b = q[1]
            stack += [(minus ^ (q[0] == "sub"), b), (minus, a)]
        else:
            out.append((minus, x))
    return out


def _product(factors: list[Variable]) -> Variable | None:
    if not factors:
        return None
    acc = factors[0]
    for f in factors[1:]:
        acc = elemwise("mul", acc, f)
    return acc


def _build(t: Term, dtype: str) -> tuple[Variable, bool] | None:
    """(the unsigned value of ``t``, its sign), None for an empty product."""
    top, bottom = _product(t.above), _product(t.below)
    if top is None and bottom is None:
        return None
    if bottom is None:
        return top, t.negative
    if top is None:
        top = constant(np.ones((), dtype=dtype))
    return elemwise("true_div", top, bottom), t.negative


def _rewrite(node: Apply, simplifier: _Simplifier) -> list[Variable] | None:
    out = node.outputs[0]
    p = producer(out)
    if p is None or p[0] not in _TREE_OPS or not is_float(out.dtype):
        return None
    tree = _read(out)
    if not any(_kind(f) for f in tree.above + tree.below):
        return None  # every rule needs an exp, 1 + exp or sigmoid factor
    simple, changed = simplifier.simplify(tree)
    terms = simplifier.multiplied_out(simple)
    if terms is None:
        if not changed:
            return None
        terms = [simple]
    acc: Variable | None = None
    for t in terms:
        built = _build(t, out.dtype)
        if built is None:
            return None
        v, minus = built
        if acc is None:
            acc = negated(v) if minus else v
        else:
            acc = elemwise("sub" if minus else "add", acc, v)
    if acc is None or acc.dtype != out.dtype or not can_stand_for(out, acc):
        return None
    return [acc]


def _inner(fgraph: FunctionGraph) -> set[int]:
    """ids of the variables whose one reader is a tree node of their dtype: `_read` goes
    through them from the tree's root, which alone is rewritten (rewriting each node of a
    chain would rebuild the factors below it again at every node)."""
    uses: dict[int, int] = {id(v): 1 for v in fgraph.outputs}
    read_by_tree: set[int] = set()
    for node in fgraph.toposort():
        for v in node.inputs:
            uses[id(v)] = uses.get(id(v), 0) + 1
        p = single_step(node)
        dtype = node.outputs[0].dtype
        if p is not None and p[0] in _TREE_OPS and all(i.dtype == dtype for i in p[1]):
            read_by_tree.update(id(v) for v in p[1])
    return {k for k in read_by_tree if uses[k] == 1}


@register("sigmoid_products", "fast_run")
def sigmoid_products(fgraph: FunctionGraph) -> bool:
    simplifier, inner = _Simplifier(), _inner(fgraph)
    return local_pass(
        fgraph, lambda node: None if id(node.outputs[0]) in inner else _rewrite(node, simplifier)
    )
