"""Property test: gradients of random differentiable float64 graphs equal central finite
differences, in FAST_RUN (C) and FAST_COMPILE (numpy), and the two modes agree closely.

A program is a random graph over one to three float64 inputs of different ranks (size-1 dims,
declared or known only at run time, broadcast against full ones) built from elementwise math
(``exp log tanh sigmoid softplus sqrt``, the logistic spellings FAST_RUN rewrites, powers,
quotients), ``maximum minimum clip
where switch abs``, the reductions ``sum mean prod max min var std logsumexp`` (axes, axis
tuples, keepdims), ``dot matmul tensordot``, ``reshape transpose dimshuffle``, basic slicing
(negative steps, integer indices), integer-array indexing (repeated and negative indices),
``concatenate stack``, ``cumsum cumprod`` and ``set_subtensor inc_subtensor`` (slices and
index arrays). Its cost is a weighted sum of one or two nodes; each example checks

* ``fc.grad`` of the cost with respect to every input against fourth-order central
  differences of numpy evaluating the same program (relative 1e-6, above an absolute floor
  scaled by the rounding noise of the differences themselves);
* ``jacobian`` of a node flattened to a vector, and ``Rop`` / ``Lop`` of it against the
  finite-difference Jacobian times a vector (some examples);
* ``hessian`` of the cost (small programs) against central differences of the gradient;
* every output of FAST_RUN against FAST_COMPILE's, tightly.

Finite differences only mean something away from kinks and domain edges, so the generator
keeps every node on all three value sets of its example at least ``GAP`` away from a tie or
a branch (``maximum``, ``clip``'s bounds, a ``where`` condition's two sides, the two largest
elements of a ``max``, ``abs`` at 0) and ``log``/``sqrt``/powers/quotients at least
``DOMAIN`` above 0, and drops a node whose values leave [-BOUND, BOUND]. A value set where a
difference step still crosses a branch (another branch pattern than the unperturbed point's:
a kink operand moving faster than GAP / 2H) is not checked. Ties are PyTensor's convention, not a
derivative (``max`` gives every tied element the gradient), so they are out of scope here;
``tests/test_grad_ported.py`` checks them.

Each example compiles one function per mode holding the cost, gradients, Jacobian, products
and Hessian of one program, and runs it on three value sets with contiguous, stepped,
reversed and transposed layouts. The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1
and raise FNCACHE_HYPOTHESIS_EXAMPLES (and FNCACHE_FUZZ_STEPS) to explore new programs.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from fcutil import fd_jacobian, fuzz_settings  # noqa: E402
from test_random_graphs2 import _broadcasts, _rand_slice  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

#: value sets per example (one compile, several calls)
SETS = 3
#: every node's values stay within [-BOUND, BOUND]: differences' rounding noise scales with them
BOUND = 1e3
#: least distance of a node's operands from a kink, and of log/sqrt/pow/division operands from 0
GAP = 1e-2
DOMAIN = 0.05
#: central-difference step (a power of two: x +- 2 H is exact for |x| < 2)
H = 2.0**-12
#: gradients meet finite differences within this, relative, above the differences' noise floor
FD_RTOL = 1e-6
#: FAST_RUN meets FAST_COMPILE within this, relative to each output's magnitude
MODES_RTOL = 1e-10
#: most ops in one graph (raise it when exploring)
STEPS = int(os.environ.get("FNCACHE_FUZZ_STEPS", "7"))


@dataclass
class Node:
    sym: Any
    #: numpy: the kids' values -> this node's value
    fn: Callable[..., np.ndarray] | None
    kids: tuple[int, ...]
    #: the kids' values -> (branch pattern, far enough from the kink or domain edge)
    kink: Callable[..., tuple[Any, bool]] | None = None
    arg: int = -1  # an input's position


@dataclass
class Program:
    nodes: list[Node] = field(default_factory=list)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    inputs: list[Any] = field(default_factory=list)
    #: the values of every node on each value set
    values: list[list[np.ndarray]] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    #: the node whose Jacobian, Rop and Lop are checked, if any
    jac: int | None = None
    hessian: bool = False
    text: list[str] = field(default_factory=list)

    def shape(self, k: int) -> tuple[int, ...]:
        return self.values[0][k].shape


# -- kinks: each gives the branch pattern of its operands and whether they keep GAP away ----------


def _sides(a: Any, b: Any) -> tuple[Any, bool]:
    """``a > b`` (broadcast), ``a`` and ``b`` at least GAP apart."""
    d = np.asarray(a) - np.asarray(b)
    return d > 0, bool(np.all(np.abs(d) >= GAP))


def _positive(a: Any) -> tuple[Any, bool]:
    return None, bool(np.all(np.asarray(a) >= DOMAIN))


def _reduced_flat(a: np.ndarray, axis: Any) -> np.ndarray:
    """``a`` with the reduced ``axis`` (None, an int or a tuple) moved last and flattened."""
    axes = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(x % a.ndim for x in axes)
    moved = np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
    return moved.reshape(moved.shape[: a.ndim - len(axes)] + (int(np.prod([a.shape[x] for x in axes])),))


def _top_two(kind: str, axis: Any) -> Callable[[np.ndarray], tuple[Any, bool]]:
    """The kink of a max/min: which element is taken, and the first two at least GAP apart."""

    def kink(a: np.ndarray) -> tuple[Any, bool]:
        flat = _reduced_flat(a if kind == "max" else -a, axis)
        if flat.shape[-1] < 2:
            return None, True
        top = np.sort(flat, axis=-1)
        return np.argmax(flat, axis=-1), bool(np.all(top[..., -1] - top[..., -2] >= GAP))

    return kink


def _clip_kink(lo: Any, hi: Any) -> Callable[..., tuple[Any, bool]]:
    def kink(a: Any, *bounds: Any) -> tuple[Any, bool]:
        lo_v, hi_v = (bounds[0], hi) if bounds else (lo, hi)
        s1, ok1 = _sides(a, lo_v)
        s2, ok2 = _sides(a, hi_v)
        _, ok3 = _sides(hi_v, lo_v)
        return (s1, s2), ok1 and ok2 and ok3 and bool(np.all(np.asarray(hi_v) > np.asarray(lo_v)))

    return kink


# -- the generator ----------------------------------------------------------------------------

SMOOTH: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "sin": (ft.sin, np.sin),
    "cos": (ft.cos, np.cos),
    "tanh": (ft.tanh, np.tanh),
    "arctan": (ft.arctan, np.arctan),
    "sigmoid": (ft.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "softplus": (ft.softplus, lambda a: np.logaddexp(0.0, a)),
    "exp": (ft.exp, np.exp),
    "sqr": (ft.sqr, np.square),
    "neg": (lambda a: -a, np.negative),
    "cube": (lambda a: a**3, lambda a: a**3),
    "scale": (lambda a: 1.5 * a - 0.25, lambda a: 1.5 * a - 0.25),
    # spellings of the logistic function and its logarithm that FAST_RUN rewrites (README,
    # Gradients): their gradients are rewritten too
    "logistic": (lambda a: 1 / (1 + ft.exp(-a)), lambda a: 1 / (1 + np.exp(-a))),
    "tanh_logistic": (lambda a: 0.5 * ft.tanh(0.5 * a) + 0.5, lambda a: 0.5 * np.tanh(0.5 * a) + 0.5),
    "log1p_exp": (lambda a: ft.log1p(ft.exp(a)), lambda a: np.log1p(np.exp(a))),
    "swish": (lambda a: a * ft.sigmoid(a), lambda a: a / (1 + np.exp(-a))),
    "expm1": (ft.expm1, np.expm1),
}
#: the logarithm of the logistic function spelled out: FAST_COMPILE computes what is written,
#: ``log(1 - sigmoid(a))`` of a rounded ``sigmoid``, which loses a digit every step of a about
#: 2.3 past 0 on one side (-inf at 37) where FAST_RUN's ``softplus`` stays exact; drawn only
#: where the written form keeps its precision (|a| <= LOGISTIC_RANGE)
LOG_LOGISTIC: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "log_sigmoid": (lambda a: ft.log(ft.sigmoid(a)), lambda a: -np.logaddexp(0.0, -a)),
    "log1m_sigmoid": (lambda a: ft.log(1 - ft.sigmoid(a)), lambda a: -np.logaddexp(0.0, a)),
}
LOGISTIC_RANGE = 8.0


def _moderate(a: Any) -> tuple[Any, bool]:
    return None, bool(np.all(np.abs(np.asarray(a)) <= LOGISTIC_RANGE))


#: positive forms of a node, fed to log, sqrt, powers and quotients
POSITIVE: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "itself": (lambda a: a, lambda a: a),
    "sqr+0.25": (lambda a: ft.sqr(a) + 0.25, lambda a: np.square(a) + 0.25),
    "exp": (ft.exp, np.exp),
    "softplus+0.1": (lambda a: ft.softplus(a) + 0.1, lambda a: np.logaddexp(0.0, a) + 0.1),
    "abs": (ft.abs, np.abs),
}
ON_POSITIVE: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "log": (ft.log, np.log),
    "sqrt": (ft.sqrt, np.sqrt),
    "log1p": (ft.log1p, np.log1p),
    "pow0.5": (lambda a: a**0.5, lambda a: a**0.5),
    "pow-1.5": (lambda a: a**-1.5, lambda a: a**-1.5),
    "pow2.5": (lambda a: a**2.5, lambda a: a**2.5),
    "reciprocal": (lambda a: 1 / a, lambda a: 1 / a),
}
BINARY: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "maximum": (ft.maximum, np.maximum),
    "minimum": (ft.minimum, np.minimum),
}
REDUCTIONS = ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp")


def _np_reduce(kind: str, a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    if kind == "logsumexp":
        m = np.max(a, axis=axis, keepdims=True)
        r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
        return r if keepdims else np.squeeze(r, axis=axis if axis is not None else tuple(range(a.ndim)))
    return getattr(np, kind)(a, axis=axis, keepdims=keepdims)


def _set(a: np.ndarray, b: np.ndarray, idx: Any) -> np.ndarray:
    out = a.copy()
    out[idx] = b
    return out


def _inc(a: np.ndarray, b: np.ndarray, idx: Any) -> np.ndarray:
    out = a.copy()
    np.add.at(out, idx, b)  # a repeated index adds every value, as inc_subtensor
    return out


class _Gen:
    """Builds one program: each candidate node is evaluated on every value set at once and
    kept only where it is finite, within BOUND and away from its kinks."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.p = Program(values=[[] for _ in range(SETS)])

    def add(
        self, sym: Any, fn: Callable[..., Any], kids: tuple[int, ...], text: str, kink: Any = None
    ) -> int | None:
        p = self.p
        vals = []
        for s in range(SETS):
            kv = [p.values[s][k] for k in kids]
            with np.errstate(all="ignore"):
                v = np.asarray(fn(*kv), dtype="float64")
                if not np.all(np.isfinite(v)) or (v.size and np.max(np.abs(v)) > BOUND):
                    return None
                if kink is not None and not kink(*kv)[1]:
                    return None
            vals.append(v)
        v = vals[0]
        assert sym.ndim == v.ndim, (p.text, text, sym.type, v.shape)
        assert all(s is None or s == n for s, n in zip(sym.type.shape, v.shape)), (
            p.text,
            text,
            sym.type,
            v.shape,
        )
        p.nodes.append(Node(sym, fn, kids, kink))
        for s in range(SETS):
            p.values[s].append(vals[s])
        p.text.append(f"n{len(p.nodes) - 1} = {text}({', '.join(f'n{k}' for k in kids)})")
        return len(p.nodes) - 1

    def pick(self, fits: Callable[[tuple, tuple], bool] | None = None, target: tuple = ()) -> int | None:
        cands = [k for k in range(len(self.p.nodes)) if fits is None or fits(self.p.shape(k), target)]
        return self.rng.choice(cands) if cands else None

    def inputs(self) -> None:
        rng, p = self.rng, self.p
        base = [rng.choice((1, 2, 3, 4)) for _ in range(3)]
        for k in range(rng.randint(1, 3)):
            nd = rng.randint(0, 3)
            shape = tuple(1 if rng.random() < 0.25 else n for n in base[3 - nd :])
            # each dim's size declared or left to the call (then a size 1 broadcasts at run time)
            static = tuple(n if rng.random() < 0.5 else None for n in shape)
            v = ft.tensor(f"x{k}", "float64", shape=static)
            p.inputs.append(v)
            p.shapes.append(shape)
            p.nodes.append(Node(v, None, (), arg=k))
            for s in range(SETS):
                p.values[s].append(self.nrng.uniform(-2, 2, size=shape))
            p.text.append(f"n{len(p.nodes) - 1} = x{k}: {shape} declared {static}")

    def step(self) -> None:  # noqa: C901 -- one branch per op kind
        rng, p = self.rng, self.p
        a = len(p.nodes) - 1 if rng.random() < 0.5 else self.pick()
        sa = p.nodes[a].sym
        sh = p.shape(a)
        nd = len(sh)
        op = rng.choice(
            (
                "unary",
                "unary",
                "positive",
                "positive",
                "binary",
                "binary",
                "pow",
                "div",
                "clip",
                "where",
                "abs",
                "reduce",
                "reduce",
                "contract",
                "slice",
                "advidx",
                "reshape",
                "transpose",
                "join",
                "cumulative",
                "setsub",
            )
        )
        if op == "unary":
            name = rng.choice(sorted(SMOOTH) + sorted(LOG_LOGISTIC))
            f, g = {**SMOOTH, **LOG_LOGISTIC}[name]
            self.add(f(sa), g, (a,), name, _moderate if name in LOG_LOGISTIC else None)
        elif op in ("positive", "pow", "div"):
            pname = rng.choice(sorted(POSITIVE))
            pf, pg = POSITIVE[pname]
            pos = self.add(pf(sa), pg, (a,), pname, _positive)
            if pos is None:
                return
            sp = p.nodes[pos].sym
            if op == "positive":
                name = rng.choice(sorted(ON_POSITIVE))
                f, g = ON_POSITIVE[name]
                self.add(f(sp), g, (pos,), name)
                return
            b = self.pick(lambda s, t: _compatible(s, t), sh)
            sb = p.nodes[b].sym
            if op == "pow":
                self.add(sp**sb, np.power, (pos, b), "pow")
            elif rng.random() < 0.5:
                self.add(sb / sp, np.divide, (b, pos), "div")
            else:
                self.add(sb / ft.sqrt(sp), lambda x, y: x / np.sqrt(y), (b, pos), "div_sqrt")
        elif op == "binary":
            name = rng.choice(sorted(BINARY))
            f, g = BINARY[name]
            kink = _sides if name in ("maximum", "minimum") else None
            if rng.random() < 0.2:
                c = rng.choice((0.5, -1.25, 2.0))
                self.add(
                    f(sa, c),
                    lambda x, c=c, g=g: g(x, c),
                    (a,),
                    f"{name} {c}",
                    kink and (lambda x, c=c: _sides(x, c)),
                )
                return
            b = self.pick(lambda s, t: _compatible(s, t), sh)
            args = (a, b) if rng.random() < 0.5 else (b, a)
            self.add(f(p.nodes[args[0]].sym, p.nodes[args[1]].sym), g, args, name, kink)
        elif op == "clip":
            lo, hi = sorted(rng.sample((-1.5, -0.5, 0.0, 0.3, 1.0, 2.0), 2))
            if rng.random() < 0.3:
                b = self.pick(_broadcasts, sh)  # a symbolic lower bound
                self.add(
                    ft.clip(sa, p.nodes[b].sym, hi),
                    lambda x, y, hi=hi: np.clip(x, y, hi),
                    (a, b),
                    f"clip(., {hi})",
                    _clip_kink(None, hi),
                )
            else:
                self.add(
                    ft.clip(sa, lo, hi),
                    lambda x, lo=lo, hi=hi: np.clip(x, lo, hi),
                    (a,),
                    f"clip {lo} {hi}",
                    _clip_kink(lo, hi),
                )
        elif op == "where":
            b = self.pick(lambda s, t: _compatible(s, t), sh)
            c = self.pick(lambda s, t: _compatible(s, t), sh)
            d = self.pick(lambda s, t: _compatible(s, t), p.shape(c))
            out_shape = _broadcast_shape(sh, p.shape(b), p.shape(c), p.shape(d))
            if out_shape is None:
                return
            f = ft.where if rng.random() < 0.5 else ft.switch
            sym = f(p.nodes[c].sym > p.nodes[d].sym, sa, p.nodes[b].sym)
            self.add(
                sym,
                lambda x, y, u, w: np.where(u > w, x, y),
                (a, b, c, d),
                "where(#2 > #3, #0, #1)",
                lambda x, y, u, w: _sides(u, w),
            )
        elif op == "abs":
            self.add(ft.abs(sa), np.abs, (a,), "abs", lambda x: _sides(x, 0.0))
        elif op == "reduce":
            kind = rng.choice(REDUCTIONS)
            if nd == 0:
                axis: Any = None
            else:
                r = rng.random()
                axis = (
                    None
                    if r < 0.25
                    else rng.randrange(-nd, nd)
                    if r < 0.7
                    else tuple(sorted(rng.sample(range(nd), rng.randint(1, nd))))
                )
            kd = rng.random() < 0.5
            n_red = int(np.prod([sh[x] for x in _axes(axis, nd)]))
            if n_red == 0 and kind not in ("sum", "prod"):
                return  # no max of nothing; a mean, var or logsumexp of nothing is not finite
            kink = _top_two(kind, axis) if kind in ("max", "min") else None
            if kind == "std":
                kink = lambda x, axis=axis: _positive(np.var(x, axis=axis))  # noqa: E731 -- sqrt's domain
            sym = getattr(ft, kind)(sa, axis=axis, keepdims=kd)
            self.add(
                sym,
                lambda x, k=kind, ax=axis, kd=kd: _np_reduce(k, x, ax, kd),
                (a,),
                f"{kind} axis={axis} keepdims={kd}",
                kink,
            )
        elif op == "contract":
            self.contract(a)
        elif op == "slice" and nd:
            idx = tuple(_rand_slice(rng, n) for n in sh)
            ax = rng.randrange(nd)
            if rng.random() < 0.3 and sh[ax]:
                idx = idx[:ax] + (rng.randrange(-sh[ax], sh[ax]),) + idx[ax + 1 :]
            self.add(sa[idx], lambda x, idx=idx: x[idx], (a,), f"[{idx}]")
        elif op == "advidx" and nd and all(sh):
            ax = rng.randrange(nd)
            ind = np.array([rng.randrange(-sh[ax], sh[ax]) for _ in range(rng.randint(1, 4))])
            idx: tuple = (slice(None),) * ax + (ind,)
            if rng.random() < 0.3 and nd >= 2 and ax + 1 < nd:
                ind2 = np.array([rng.randrange(-sh[ax + 1], sh[ax + 1]) for _ in range(len(ind))])
                idx = idx + (ind2,)
            self.add(sa[idx], lambda x, idx=idx: x[idx], (a,), f"[{idx}]")
        elif op == "reshape":
            size = int(np.prod(sh))
            opts = [(size,), (1, size), (size, 1), sh[::-1]]
            if size % 2 == 0:
                opts.append((2, size // 2))
            if rng.random() < 0.3 and nd >= 1:
                self.add(ft.flatten(sa, 1), lambda x: x.reshape(-1), (a,), "flatten")
            else:
                to = rng.choice(opts)
                self.add(ft.reshape(sa, to), lambda x, to=to: x.reshape(to), (a,), f"reshape {to}")
        elif op == "transpose":
            perm: list[Any] = list(range(nd))
            rng.shuffle(perm)
            if rng.random() < 0.4:
                perm.insert(rng.randint(0, nd), "x")
                shuffled = [d for d in perm if d != "x"]
                at = perm.index("x")
                self.add(
                    sa.dimshuffle(*perm),
                    lambda x, sh=shuffled, at=at: np.expand_dims(np.transpose(x, sh), at),
                    (a,),
                    f"dimshuffle {perm}",
                )
            else:
                sym = sa.dimshuffle(*perm) if rng.random() < 0.5 else ft.transpose(sa, perm)
                self.add(sym, lambda x, perm=perm: np.transpose(x, perm), (a,), f"transpose {perm}")
        elif op == "join":
            if rng.random() < 0.5 and nd:
                ax = rng.randrange(-nd, nd)
                b = self.pick(
                    lambda s, t, ax=ax: (
                        len(s) == len(t) and all(x == y for i, (x, y) in enumerate(zip(s, t)) if i != ax % nd)
                    ),
                    sh,
                )
                self.add(
                    ft.concatenate([sa, p.nodes[b].sym], axis=ax),
                    lambda x, y, ax=ax: np.concatenate([x, y], axis=ax),
                    (a, b),
                    f"concatenate axis={ax}",
                )
            else:
                ax = rng.randrange(-nd - 1, nd + 1)
                b = self.pick(lambda s, t: s == t, sh)
                self.add(
                    ft.stack([sa, p.nodes[b].sym], axis=ax),
                    lambda x, y, ax=ax: np.stack([x, y], axis=ax),
                    (a, b),
                    f"stack axis={ax}",
                )
        elif op == "cumulative":
            ax = rng.randrange(-nd, nd) if nd and rng.random() < 0.8 else None
            kind = rng.choice(("cumsum", "cumprod"))
            self.add(
                getattr(ft, kind)(sa, axis=ax),
                lambda x, k=kind, ax=ax: getattr(np, k)(x, axis=ax),
                (a,),
                f"{kind} axis={ax}",
            )
        elif op == "setsub" and nd:
            if rng.random() < 0.6 or not all(sh):
                idx = tuple(_rand_slice(rng, n) for n in sh)
            else:
                ax = rng.randrange(nd)
                ind = np.array([rng.randrange(-sh[ax], sh[ax]) for _ in range(rng.randint(1, 4))])
                idx = (slice(None),) * ax + (ind,)
            region = np.empty(sh)[idx].shape
            b = self.pick(_broadcasts, region)
            if b is None:
                return
            inc = rng.random() < 0.5
            f = ft.inc_subtensor if inc else ft.set_subtensor
            self.add(
                f(sa[idx], p.nodes[b].sym),
                lambda x, y, idx=idx, g=_inc if inc else _set: g(x, y, idx),
                (a, b),
                f"{'inc' if inc else 'set'}_subtensor {idx}",
            )

    def contract(self, a: int) -> None:
        """``dot``, ``matmul`` or ``tensordot`` of ``a`` with a node of matching sizes."""
        rng, p = self.rng, self.p
        sa, sh = p.nodes[a].sym, p.shape(a)
        kind = rng.choice(("dot", "matmul", "tensordot"))
        if kind == "tensordot":
            pairs = [
                (b, i, j)
                for b in range(len(p.nodes))
                for i in range(len(sh))
                for j in range(len(p.shape(b)))
                if sh[i] == p.shape(b)[j]
            ]
            if not pairs:
                return
            b, i, j = rng.choice(pairs)
            self.add(
                ft.tensordot(sa, p.nodes[b].sym, axes=([i], [j])),
                lambda x, y, i=i, j=j: np.tensordot(x, y, axes=([i], [j])),
                (a, b),
                f"tensordot axes=([{i}], [{j}])",
            )
            return
        npf = np.dot if kind == "dot" else np.matmul

        def fits(s: tuple, t: tuple) -> bool:
            if (kind == "dot" and len(s) > 2) or not s or not t:
                return False
            try:
                npf(np.zeros(t), np.zeros(s))
            except ValueError:
                return False
            return True

        if kind == "dot" and len(sh) > 2:
            return
        b = self.pick(fits, sh)
        if b is None:
            return
        ftf = ft.dot if kind == "dot" else ft.matmul
        self.add(ftf(sa, p.nodes[b].sym), npf, (a, b), kind)


def _axes(axis: Any, nd: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(nd))
    return tuple(x % nd for x in ((axis,) if isinstance(axis, int) else axis))


def _broadcast_shape(*shapes: tuple) -> tuple | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def _compatible(s: tuple, t: tuple) -> bool:
    """``s`` and ``t`` broadcast together (either may grow)."""
    return _broadcast_shape(s, t) is not None


def generate(seed: int) -> Program:
    g = _Gen(seed)
    g.inputs()
    n_in = len(g.p.nodes)
    target = n_in + g.rng.randint(2, STEPS)
    for _ in range(4 * STEPS):  # a step adds nothing where its node would leave the domain
        if len(g.p.nodes) >= target:
            break
        g.step()
    p = g.p
    derived = list(range(n_in, len(p.nodes))) or list(range(n_in))
    p.outputs = sorted({derived[-1], g.rng.choice(derived)})
    small = [k for k in p.outputs if 0 < p.values[0][k].size <= 24]
    if small and g.rng.random() < 0.5:
        p.jac = g.rng.choice(small)
    p.hessian = (
        sum(int(np.prod(s)) for s in p.shapes) <= 16 and len(p.nodes) <= n_in + 5 and g.rng.random() < 0.5
    )
    return p


# -- evaluation -------------------------------------------------------------------------------


def _needed(p: Program) -> list[int]:
    """The nodes the outputs depend on, in order."""
    need = set(p.outputs)
    for k in range(len(p.nodes) - 1, -1, -1):
        if k in need:
            need.update(p.nodes[k].kids)
    return sorted(need)


def evaluate(p: Program, xs: list[np.ndarray], order: list[int]) -> tuple[dict[int, np.ndarray], list[Any]]:
    """numpy's value of every node of ``order`` at inputs ``xs``, and the branch pattern of
    every kink on the way."""
    vals: dict[int, np.ndarray] = {}
    pattern: list[Any] = []
    with np.errstate(all="ignore"):
        for k in order:
            n = p.nodes[k]
            if n.fn is None:
                vals[k] = xs[n.arg]
                continue
            kv = [vals[j] for j in n.kids]
            vals[k] = np.asarray(n.fn(*kv), dtype="float64")
            if n.kink is not None:
                pattern.append(n.kink(*kv)[0])
    return vals, pattern


def _same_pattern(a: list[Any], b: list[Any]) -> bool:
    return all(
        (x is None and y is None) or all(np.array_equal(u, v) for u, v in zip(_as_tuple(x), _as_tuple(y)))
        for x, y in zip(a, b)
    )


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    """``a``'s values as a contiguous, stepped, reversed or transposed array."""
    if layout == "step" and a.ndim:
        big = np.zeros(tuple(2 * n for n in a.shape))
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if layout == "rev" and a.ndim:
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return np.ascontiguousarray(a[rev])[rev]
    if layout == "T" and a.ndim >= 2:
        return np.ascontiguousarray(a.T).T
    return a.copy()


@dataclass
class Checks:
    """The symbolic outputs of one program: cost, gradients, and the optional Jacobian,
    products and Hessians, with the extra inputs they take."""

    weights: list[Any]
    outs: list[Any]
    n_grads: int
    tangents: list[Any] = field(default_factory=list)
    cotangent: Any = None
    n_hess: int = 0


def build(p: Program) -> Checks:
    weights = [ft.tensor(f"w{k}", "float64", p.nodes[k].sym.ndim) for k in p.outputs]
    cost = sum(ft.sum(p.nodes[k].sym * w) for k, w in zip(p.outputs, weights))
    grads = fc.grad(cost, p.inputs, disconnected_inputs="ignore")
    c = Checks(weights, [cost, *grads], len(grads))
    if p.jac is not None:
        y = p.nodes[p.jac].sym
        c.outs += ft.jacobian(ft.flatten(y), p.inputs, disconnected_inputs="ignore")
        c.tangents = [ft.tensor(f"v{k}", "float64", x.ndim) for k, x in enumerate(p.inputs)]
        c.cotangent = ft.tensor("u", "float64", y.ndim)
        c.outs.append(fc.gradient.Rop(y, p.inputs, c.tangents))
        c.outs += fc.gradient.Lop(y, p.inputs, c.cotangent, disconnected_inputs="ignore")
    if p.hessian:
        hs = ft.hessian(cost, p.inputs, disconnected_inputs="ignore")
        c.outs += hs
        c.n_hess = len(hs)
    return c


class _Crossed(Exception):
    """A difference step changed a kink's branch: the value set is too near it to difference."""


#: central differences of fourth order: the steps and their weights (over 12 H)
STENCIL = ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))


def central(
    fn: Callable[[list[np.ndarray]], list[np.ndarray]], xs: list[np.ndarray], j: int
) -> list[np.ndarray]:
    """d fn(xs) / d xs[j] by central differences: for each output of ``fn``, an array of shape
    ``output.shape + xs[j].shape``."""
    outs: list[np.ndarray] | None = None
    for idx in np.ndindex(xs[j].shape):
        acc = None
        for step, weight in STENCIL:
            moved = list(xs)
            moved[j] = np.array(xs[j])
            moved[j][idx] += step * H
            vals = [weight * np.asarray(v) for v in fn(moved)]
            acc = vals if acc is None else [a + v for a, v in zip(acc, vals)]
        assert acc is not None
        if outs is None:
            outs = [np.zeros(a.shape + xs[j].shape) for a in acc]
        for o, a in zip(outs, acc):
            o[(Ellipsis,) + idx] = a / (12 * H)
    if outs is None:  # an empty input: the shapes of fn's outputs from the point itself
        outs = [np.zeros(np.shape(v) + xs[j].shape) for v in fn(xs)]
    return outs


def _noise(values: list[np.ndarray]) -> float:
    """The rounding noise of a central difference of values of these magnitudes: their
    relative precision, over the step, with room for the rounding they went through."""
    return 256 * np.finfo(np.float64).eps * sum(float(np.sum(np.abs(v))) for v in values) / H


def _assert_close(got: np.ndarray, want: np.ndarray, floor: float, what: str) -> None:
    assert got.shape == want.shape, f"shape {got.shape}, want {want.shape}: {what}"
    np.testing.assert_allclose(got, want, rtol=FD_RTOL, atol=floor, err_msg=what)


def check(seed: int) -> int:
    """Compile program ``seed`` in both modes and check its derivatives on every value set;
    the number of value sets checked (a set where a difference step crosses a kink is not)."""
    p = generate(seed)
    what = (
        f"seed={seed}:\n  "
        + "\n  ".join(p.text)
        + f"\n  cost on {['n%d' % k for k in p.outputs]}, jacobian of n{p.jac}, hessian {p.hessian}"
    )
    c = build(p)
    args = p.inputs + c.weights + c.tangents + ([c.cotangent] if c.cotangent is not None else [])
    fns = {
        mode: fc.function(args, c.outs, mode=mode, on_unused_input="ignore")
        for mode in ("FAST_RUN", "FAST_COMPILE")
    }
    return sum(check_set(p, c, fns, seed, s, what) for s in range(SETS))


def check_set(p: Program, c: Checks, fns: dict[str, Any], seed: int, s: int, what: str) -> bool:
    """Check program ``p``'s compiled derivatives ``fns`` on its value set ``s``; False where
    a difference step crosses a kink (nothing checked)."""
    rng = np.random.default_rng([seed, s])
    order = _needed(p)
    n_x = len(p.inputs)
    xs = [p.values[s][k] for k in range(n_x)]
    base, pattern = evaluate(p, xs, order)
    ws = [rng.uniform(-1, 1, size=base[k].shape) for k in p.outputs]
    ext = [rng.uniform(-1, 1, size=x.shape) for x in xs] if p.jac is not None else []
    if p.jac is not None:
        ext.append(rng.uniform(-1, 1, size=base[p.jac].shape))
    extra = ws + ext
    jac_node = p.jac if p.jac is not None else p.outputs[0]

    def reference(at: list[np.ndarray]) -> list[np.ndarray]:
        vals, pat = evaluate(p, at, order)
        if not _same_pattern(pat, pattern):
            raise _Crossed
        cost = sum(np.sum(vals[k] * w) for k, w in zip(p.outputs, ws))
        return [np.asarray(cost), vals[jac_node]]

    try:
        fd = [central(reference, xs, j) for j in range(n_x)]
    except _Crossed:
        return False
    layouts = [rng.choice(("c", "step", "rev", "T")) for _ in xs + extra]
    got = {
        mode: [np.asarray(o) for o in f(*[_laid_out(v, t) for v, t in zip(xs + extra, layouts)])]
        for mode, f in fns.items()
    }
    terms = [base[k] * w for k, w in zip(p.outputs, ws)]
    floor = 1e-9 + _noise(terms + [base[k] for k in order])
    want_cost = sum(float(np.sum(t)) for t in terms)
    for mode, outs in got.items():
        at = f"{mode}, value set {s}, {what}"
        np.testing.assert_allclose(outs[0], want_cost, rtol=1e-12, atol=floor * H, err_msg=f"cost: {at}")
        for j in range(n_x):
            _assert_close(outs[1 + j], fd[j][0], floor, f"d cost / d x{j}: {at}")
        k = 1 + n_x
        if p.jac is not None:
            y, vs, u = base[p.jac], ext[:n_x], ext[n_x]
            jfloor = 1e-9 + _noise([base[n] for n in order])
            for j in range(n_x):
                flat = fd[j][1].reshape((y.size,) + xs[j].shape)
                _assert_close(outs[k + j], flat, jfloor, f"jacobian of n{p.jac} d x{j}: {at}")
            jv = sum(np.tensordot(fd[j][1], v, axes=v.ndim) for j, v in enumerate(vs))
            _assert_close(outs[k + n_x], np.asarray(jv), jfloor, f"Rop of n{p.jac}: {at}")
            for j in range(n_x):
                uj = np.tensordot(u, fd[j][1], axes=y.ndim)
                _assert_close(outs[k + n_x + 1 + j], uj, jfloor, f"Lop of n{p.jac} d x{j}: {at}")
            k += 2 * n_x + 1
        if c.n_hess:
            f = fns[mode]

            def gradient(at_x: list[np.ndarray], f: Any = f) -> list[np.ndarray]:
                return list(f(*at_x, *extra)[1 : 1 + n_x])

            hfloor = floor + _noise(list(outs[1 : 1 + n_x]))
            for j in range(n_x):
                want = central(gradient, xs, j)[j]
                _assert_close(outs[k + j], want, hfloor, f"hessian d2 cost / d x{j}2: {at}")
    # the two modes compute the same graph, rewritten differently: far closer than either is
    # to finite differences
    for k, (oc, op) in enumerate(zip(got["FAST_RUN"], got["FAST_COMPILE"])):
        assert oc.shape == op.shape, (k, oc.shape, op.shape, what)
        scale = max(1.0, float(np.max(np.abs(op)))) if op.size else 1.0
        np.testing.assert_allclose(
            oc,
            op,
            rtol=0,
            atol=MODES_RTOL * scale,
            err_msg=f"output {k}: FAST_RUN vs FAST_COMPILE, value set {s}: {what}",
        )
    return True


@fuzz_settings(25)
@given(seed=st.integers(0, 2**31))
def test_random_gradients(seed: int) -> None:
    check(seed)


# -- regressions the fuzzer found, shrunk ------------------------------------------------------


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_jacobian_whose_rows_reshape_to_a_static_shape(mode: str) -> None:
    """A Jacobian's row is the gradient of one element, reshaped to a shape read from the outer
    graph: ``shape(c)`` of the stack's operands (fully static) or ``shape(x)`` of an ``x`` whose
    first dim only is known (1). Taken into the inner graph as opaque values, those shapes left
    nodes typed more precisely than their ops make them, and the inner graph, which every
    compile pickles for the cache and unpickles node by node, could not rebuild: a later node
    dropping the dim of size 1 raised ValueError."""
    s = ft.dscalar("s")
    c = ft.cumsum(s)
    x = ft.tensor("x", "float64", shape=(1, None))
    cases = [
        ([s], ft.stack([c, c * s]), [np.array(1.5)]),
        ([x], ft.prod(x * x, axis=(0, 1), keepdims=True) * x, [np.array([[0.3, 0.7, -0.2]])]),
    ]
    for ins, y, vals in cases:
        got = fc.function(ins, ft.jacobian(ft.flatten(y), ins[0]), mode=mode)(*vals)
        want = fd_jacobian(fc.function(ins, ft.flatten(y), mode="FAST_COMPILE"), vals, 0)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_logsumexp_and_softmax_of_a_0d_tensor(mode: str) -> None:
    """A reduction of a 0-d tensor over all (no) axes is the value itself, as scipy's
    ``logsumexp(3.0) == 3.0``, ``softmax(3.0) == 1.0`` and PyTensor's; ``logsumexp`` of a
    scalar, found by the fuzzer in a reduction chain, raised ValueError instead. An axis a 0-d
    tensor does not have is refused as numpy refuses it."""
    import scipy.special

    s = ft.dscalar("s")
    outs = [
        ft.logsumexp(s),
        ft.logsumexp(s, keepdims=True),
        ft.softmax(s, axis=None),
        ft.log_softmax(s, axis=None),
    ]
    outs += fc.grad(ft.logsumexp(s) * 2 + ft.softmax(s, axis=None), [s])
    got = fc.function([s], outs, mode=mode)(np.array(3.0))
    want = [
        scipy.special.logsumexp(3.0),
        3.0,
        scipy.special.softmax(3.0),
        scipy.special.log_softmax(3.0),
        2.0,
    ]
    for g, w in zip(got, want):
        assert g.shape == ()
        np.testing.assert_allclose(g, w, rtol=1e-15)
    with pytest.raises(ValueError, match="softmax"):
        ft.softmax(s, axis=-1)
