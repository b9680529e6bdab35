"""Property test: random graphs mixing shape ops with elementwise fusion give the same result
compiled in FAST_RUN (C) and FAST_COMPILE (numpy), and both equal numpy.

The ops are those where rewrites meet views and layouts: basic slicing (negative steps),
transpose, reshape/flatten, concatenate/stack, dot of small matrices, reductions over axis
tuples (keepdims) feeding elementwise ops, set/inc_subtensor, cumsum, broadcasting switch,
casts between int/uint/float dtypes, and several outputs sharing subexpressions. Inputs are
fed as contiguous, stepped, reversed and transposed views.

Float inputs hold small integers and the ops keep values integral (no division, means only at
the end of a chain), so most results are exact; the tolerance scales with the largest
intermediate value (``_mag``) for the few inexact ones. Each example compiles one function.
The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 (and raise
FNCACHE_HYPOTHESIS_EXAMPLES) to explore new examples.
"""

from __future__ import annotations

import operator
import os
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from fcutil import fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_random_graphs import _mag  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402

IN_DTYPES = ("float64", "float32", "int64", "int32", "int16", "uint8")
CASTS = ("float64", "float32", "int64", "int32", "int8", "uint8", "uint16")
#: values stay below this so int8..int64 arithmetic and float32 stay exact and in range
BOUND = 50
#: most ops in one graph (raise it when exploring)
STEPS = int(os.environ.get("FNCACHE_FUZZ_STEPS", "7"))


@dataclass
class Node:
    sym: Any
    ref: Callable[[list[np.ndarray]], np.ndarray]
    shape: tuple[int, ...]
    dtype: str
    exact: bool = True


@dataclass
class Program:
    """A random graph: its inputs' shapes, dtypes and layouts, and its output nodes."""

    shapes: list[tuple[int, ...]] = field(default_factory=list)
    dtypes: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    variables: list[Any] = field(default_factory=list)
    outputs: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _bounded(n: Node) -> Node:
    """``n`` folded back into [-BOUND, BOUND] (a where, so int dtypes keep exact values)."""
    if n.dtype.startswith("uint"):
        return Node(n.sym % BOUND, lambda v, r=n.ref: r(v) % BOUND, n.shape, n.dtype, n.exact)
    sym = ft.clip(n.sym, -BOUND, BOUND)
    return Node(
        sym, lambda v, r=n.ref: np.clip(r(v), -BOUND, BOUND).astype(sym.dtype), n.shape, sym.dtype, n.exact
    )


def _broadcasts(small: tuple[int, ...], big: tuple[int, ...]) -> bool:
    """``small`` broadcasts to ``big`` without changing it."""
    return len(small) <= len(big) and all(x in (1, y) for x, y in zip(small[::-1], big[::-1]))


def _rand_slice(rng: random.Random, n: int) -> slice:
    step = rng.choice((1, 1, 2, -1, -2, 3))
    start = rng.choice((None, 0, 1, -1, n // 2, -n))
    stop = rng.choice((None, n, -1, 1, n + 2, -n - 1))
    return slice(start, stop, step)


def generate(seed: int) -> Program:  # noqa: C901 -- one branch per op kind
    rng = random.Random(seed)
    p = Program()
    pool: list[Node] = []
    for k in range(rng.randint(1, 3)):
        nd = rng.randint(0, 3)
        shape = tuple(rng.choice((1, 2, 3, 4, 5, 0)) for _ in range(nd))
        dt = rng.choice(IN_DTYPES)
        v = ft.tensor(f"x{k}", dt, nd)
        p.shapes.append(shape)
        p.dtypes.append(dt)
        p.layouts.append(rng.choice(("c", "step", "rev", "T")))
        p.variables.append(v)
        pool.append(Node(v, lambda vals, k=k: vals[k], shape, dt))
        p.text.append(f"x{k}: {dt}{shape} {p.layouts[-1]}")

    def pick(fits: Callable[[tuple, tuple], bool] | None = None, target: tuple = ()) -> Node | None:
        """A random node of the pool, one whose shape ``fits`` ``target`` if given."""
        cands = [n for n in pool if fits is None or fits(n.shape, target)]
        return rng.choice(cands) if cands else None

    for _ in range(rng.randint(2, STEPS)):
        # half the ops extend the newest node: long chains are what fusion rewrites
        a = pool[-1] if rng.random() < 0.5 else pick()
        op = rng.choice(
            (
                "slice",
                "transpose",
                "reshape",
                "concat",
                "stack",
                "dot",
                "reduce",
                "setsub",
                "incsub",
                "cumsum",
                "switch",
                "cast",
                "add",
                "mul",
                "unary",
            )
        )
        new: Node | None = None
        nd = len(a.shape)
        if op == "slice" and nd:
            idx = tuple(_rand_slice(rng, n) for n in a.shape)
            ax = rng.randrange(nd)
            if rng.random() < 0.3 and a.shape[ax]:
                i = rng.randrange(-a.shape[ax], a.shape[ax])
                idx = idx[:ax] + (i,) + idx[ax + 1 :]
            sh = np.empty(a.shape)[idx].shape
            new = Node(a.sym[idx], lambda v, r=a.ref, idx=idx: r(v)[idx], sh, a.dtype, a.exact)
            p.text.append(f"slice {idx}")
        elif op == "transpose" and nd:
            perm = list(range(nd))
            rng.shuffle(perm)
            sym = a.sym.dimshuffle(*perm) if rng.random() < 0.5 else ft.transpose(a.sym, perm)
            sh = tuple(a.shape[i] for i in perm)
            new = Node(sym, lambda v, r=a.ref, perm=perm: np.transpose(r(v), perm), sh, a.dtype, a.exact)
            p.text.append(f"transpose {perm}")
        elif op == "reshape":
            size = int(np.prod(a.shape))
            opts = [(size,), (1, size), (size, 1)]
            if size % 2 == 0:
                opts.append((2, size // 2))
            sh = rng.choice(opts)
            if rng.random() < 0.3 and nd >= 1:
                sym, sh = ft.flatten(a.sym, 1), (size,)
            else:
                sym = ft.reshape(a.sym, sh)
            new = Node(sym, lambda v, r=a.ref, sh=sh: np.reshape(r(v), sh), sh, a.dtype, a.exact)
            p.text.append(f"reshape {sh}")
        elif op in ("concat", "stack", "add", "mul"):
            b = pick(_broadcasts if op == "add" else operator.eq, a.shape)
            if b is None:
                continue
            dt = (a.sym + b.sym).dtype
            if op == "concat" and nd:
                ax = rng.randrange(-nd, nd)
                sym = ft.concatenate([a.sym, b.sym], axis=ax)
                sh = list(a.shape)
                sh[ax] *= 2
                ref = lambda v, ra=a.ref, rb=b.ref, ax=ax, dt=dt: np.concatenate(  # noqa: E731
                    [ra(v).astype(dt), rb(v).astype(dt)], axis=ax
                )
                new = Node(sym, ref, tuple(sh), dt, a.exact and b.exact)
                p.text.append(f"concat axis={ax}")
            elif op == "stack":
                ax = rng.randrange(-nd - 1, nd + 1)
                sym = ft.stack([a.sym, b.sym], axis=ax)
                ref = lambda v, ra=a.ref, rb=b.ref, ax=ax, dt=dt: np.stack(  # noqa: E731
                    [ra(v).astype(dt), rb(v).astype(dt)], axis=ax
                )
                sh = np.empty(a.shape)[None].repeat(2, 0)
                sh = np.moveaxis(sh, 0, ax).shape
                new = Node(sym, ref, sh, dt, a.exact and b.exact)
                p.text.append(f"stack axis={ax}")
            elif op == "add":
                ref = lambda v, ra=a.ref, rb=b.ref, dt=dt: ra(v).astype(dt) - rb(v).astype(dt)  # noqa: E731
                new = _bounded(Node(a.sym - b.sym, ref, a.shape, dt, a.exact and b.exact))
                p.text.append("sub")
            else:
                ref = lambda v, ra=a.ref, rb=b.ref, dt=dt: ra(v).astype(dt) * rb(v).astype(dt)  # noqa: E731
                new = _bounded(Node(a.sym * b.sym, ref, a.shape, dt, a.exact and b.exact))
                p.text.append("mul")
        elif op == "dot" and 1 <= nd <= 2:
            b = a
            sym = ft.dot(a.sym, b.sym.T) if nd == 2 else ft.dot(a.sym, b.sym)
            dt = sym.dtype
            ref = lambda v, r=a.ref, nd=nd, dt=dt: (  # noqa: E731
                np.dot(r(v).astype(dt), r(v).astype(dt).T)
                if nd == 2
                else np.dot(r(v).astype(dt), r(v).astype(dt))
            )
            sh = (a.shape[0], a.shape[0]) if nd == 2 else ()
            new = _bounded(Node(sym, ref, sh, dt, a.exact))
            p.text.append("dot")
        elif op == "reduce" and nd:
            axes = tuple(sorted(rng.sample(range(nd), rng.randint(1, nd))))
            kd = rng.random() < 0.6
            kind = rng.choice(("sum", "max", "min", "mean"))
            sym = getattr(ft, kind)(a.sym, axis=axes, keepdims=kd)
            npf = getattr(np, kind)
            ref = lambda v, r=a.ref, f=npf, axes=axes, kd=kd, dt=sym.dtype: np.asarray(  # noqa: E731
                f(r(v), axis=axes, keepdims=kd)
            ).astype(dt)
            sh = np.sum(np.empty(a.shape), axis=axes, keepdims=kd).shape
            red = Node(sym, ref, sh, sym.dtype, a.exact and kind != "mean")
            if kind != "sum" and 0 in a.shape:  # no NaN: its cast to int is undefined
                continue
            if kd and rng.random() < 0.7:
                # feed the reduction back into an elementwise op on its own input
                dt = (a.sym - sym).dtype
                ref2 = lambda v, ra=a.ref, rr=red.ref, dt=dt: ra(v).astype(dt) - rr(v).astype(dt)  # noqa: E731
                new = _bounded(Node(a.sym - sym, ref2, a.shape, dt, red.exact))
            else:
                new = _bounded(red)
            p.text.append(f"{kind} axis={axes} keepdims={kd}")
        elif op in ("setsub", "incsub") and nd:
            idx = tuple(_rand_slice(rng, n) for n in a.shape)
            sh = np.empty(a.shape)[idx].shape
            b = pick(_broadcasts, sh)
            if b is None:
                continue
            f = ft.set_subtensor if op == "setsub" else ft.inc_subtensor
            sym = f(a.sym[idx], ft.cast(b.sym, a.dtype))

            def ref(v, ra=a.ref, rb=b.ref, idx=idx, op=op, dt=a.dtype):
                out = np.array(ra(v), dtype=dt)
                if op == "setsub":
                    out[idx] = np.asarray(rb(v)).astype(dt)
                else:
                    out[idx] += np.asarray(rb(v)).astype(dt)
                return out

            new = _bounded(Node(sym, ref, a.shape, a.dtype, a.exact and b.exact))
            p.text.append(f"{op} {idx}")
        elif op == "cumsum":
            ax = rng.randrange(-nd, nd) if nd and rng.random() < 0.8 else None
            sym = ft.cumsum(a.sym, axis=ax)
            sh = np.cumsum(np.empty(a.shape), axis=ax).shape
            ref = lambda v, r=a.ref, ax=ax, dt=sym.dtype: np.cumsum(r(v), axis=ax).astype(dt)  # noqa: E731
            new = _bounded(Node(sym, ref, sh, sym.dtype, a.exact))
            p.text.append(f"cumsum axis={ax}")
        elif op == "switch":
            b = pick(_broadcasts, a.shape)
            c = pick(_broadcasts, a.shape)
            sym = ft.switch(c.sym > 0, a.sym, b.sym)
            ref = lambda v, ra=a.ref, rb=b.ref, rc=c.ref, dt=sym.dtype: np.where(  # noqa: E731
                rc(v) > 0, ra(v), rb(v)
            ).astype(dt)
            sh = np.broadcast_shapes(a.shape, b.shape, c.shape)
            new = Node(sym, ref, sh, sym.dtype, a.exact and b.exact)
            p.text.append("switch")
        elif op == "cast":
            dt = rng.choice(CASTS)
            sym = ft.cast(a.sym, dt)
            new = Node(sym, lambda v, r=a.ref, dt=dt: np.asarray(r(v)).astype(dt), a.shape, dt, a.exact)
            p.text.append(f"cast {dt}")
        elif op == "unary":
            if a.dtype.startswith("float"):
                sym = ft.floor(ft.sin(a.sym) * 4)
                ref = lambda v, r=a.ref, dt=sym.dtype: np.floor(np.sin(r(v)) * 4).astype(dt)  # noqa: E731
                new = Node(sym, ref, a.shape, sym.dtype, False)
            else:
                sym = -a.sym if not a.dtype.startswith("uint") else a.sym // 2
                u = a.dtype.startswith("uint")
                ref = lambda v, r=a.ref, u=u: (r(v) // 2) if u else -r(v)  # noqa: E731
                new = Node(sym, ref, a.shape, a.dtype, a.exact)
            p.text.append("unary")
        if new is not None:
            assert new.sym.ndim == len(new.shape), (p.text, new.sym.ndim, new.shape)
            pool.append(new)
    n_in = len(p.variables)
    derived = pool[n_in:] or pool
    p.outputs = rng.sample(derived, min(len(derived), rng.randint(1, 3)))
    return p


def input_values(p: Program, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    vals = []
    for shape, dt, layout in zip(p.shapes, p.dtypes, p.layouts):
        big = tuple(n * 2 for n in shape) if layout == "step" else shape
        lo = 0 if dt.startswith("uint") else -9
        a = rng.integers(lo, 10, size=big).astype(dt)
        if layout == "step":
            a = a[tuple(slice(None, None, 2) for _ in shape)]
        elif layout == "rev":
            a = a[tuple(slice(None, None, -1) for _ in shape)]
        elif layout == "T" and len(shape) >= 2:
            a = np.ascontiguousarray(a.T).T
        vals.append(a)
    return vals


def check(seed: int) -> None:
    """Compile program ``seed`` in both modes and compare each output to numpy."""
    p = generate(seed)
    outs = [n.sym for n in p.outputs]
    fast_run = fc.function(p.variables, outs, on_unused_input="ignore")
    fast_compile = fc.function(p.variables, outs, mode="FAST_COMPILE", on_unused_input="ignore")
    vals = input_values(p, seed)
    with np.errstate(all="ignore"):
        wants = [np.asarray(n.ref(vals)) for n in p.outputs]
    for label, f in (("FAST_RUN", fast_run), ("FAST_COMPILE", fast_compile)):
        gots = f(*vals)
        for n, got, want in zip(p.outputs, gots, wants):
            what = f"{label} seed={seed}: " + "; ".join(p.text)
            assert got.dtype == np.dtype(n.dtype) and got.shape == want.shape, (
                what,
                got.dtype,
                n.dtype,
                got.shape,
                want.shape,
            )
            tol = 0 if n.exact else 1e-5 * max(_mag(want), 1.0)
            np.testing.assert_allclose(got, want.astype(got.dtype), rtol=0, atol=tol, err_msg=what)


@fuzz_settings(80)
@given(seed=st.integers(0, 2**31))
def test_random_shape_graphs(seed: int) -> None:
    check(seed)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("src", ["float64", "float32"])
def test_negative_float_to_unsigned_cast_wraps_like_numpy(src: str, dtype: str) -> None:
    """A negative float cast to an unsigned dtype wraps modulo 2**bits as numpy does, in C
    (where a plain conversion is undefined and vectorized code saturates) as in numpy."""
    x = ft.tensor("x", src, 1)
    vals = np.array([-3.0, -1.0, -0.5, 0.0, 2.5, 300.0, -300.0, 7.0], dtype=src)
    out = [ft.cast(x, dtype), ft.cast(x, dtype) + ft.cast(x * 1, dtype)]
    with np.errstate(invalid="ignore"):
        want = [vals.astype(dtype), vals.astype(dtype) + vals.astype(dtype)]
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = fc.function([x], out, mode=mode)(vals)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=f"{mode} cast {src} -> {dtype}")
            assert g.dtype == w.dtype


def test_inc_subtensor_of_negative_float_cast_to_uint64() -> None:
    """The shrunk graph that found the cast above: a float scalar cast to the dtype of a
    cumsum over uint8 (uint64) and added into every other element."""
    x = ft.tensor("x", "uint8", 1)
    s = ft.dscalar("s")
    out = ft.inc_subtensor(ft.cumsum(x, axis=0)[1::2], ft.cast(s, "uint64")) % 50
    xv, sv = np.array([0, 7, 9, 9], dtype="uint8")[::-1], np.array(-3.0)
    want = np.cumsum(xv)
    want[1::2] += sv.astype("uint64")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        np.testing.assert_array_equal(fc.function([x, s], out, mode=mode)(xv, sv), want % 50, err_msg=mode)
