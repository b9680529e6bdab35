"""Property test: random ``fc.scan`` programs give the values of a plain Python loop (numpy per
step) compiled in FAST_RUN (C) and FAST_COMPILE, and their gradients match central finite
differences in float64.

A program has sequences (each read at random taps, negative and positive), outputs fed back
at taps -1, -2, -3 or a mix (or not fed back), non-sequences (inputs or shared variables), a
number of steps given as a constant, symbolically or not at all (0, 1, fewer than the rows),
``go_backwards``, ``truncate_gradient``, ``return_list``, a shared variable updated at every
step, a stop condition (``until``) and, now and then, a loop inside the step. Each output's
step is a random expression of the step's arguments: elementwise ops, reductions, dots, in
float64, float32 and int64 (int outputs are accumulators of int values and of comparisons of
inputs, which both modes read exactly); now and then an output is one of the step's
arguments as it is (the step's input is its output) or the same expression as another
output. The reference loop evaluates the same expressions with numpy on each step's values.
A gradient truncated short of the first step is checked against the finite differences of
the reference loop whose earlier steps read unperturbed values, and to reach no initial
value.

Float states go through tanh at every step, so values stay bounded and a float32 program's
tolerance stays a fixed multiple of its precision. Stop conditions read only exact values
(input rows, int states) so that both modes stop at the same step. The run is deterministic;
set FNCACHE_HYPOTHESIS_RANDOM=1 (and raise FNCACHE_HYPOTHESIS_EXAMPLES) to explore new
programs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from fcutil import fuzz_settings  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from test_random_graphs import _mag  # noqa: E402

FLOATS = ("float64", "float32")
#: the length of every vector a step handles (sequence rows, states, non-sequences)
D = 3
#: ops of one float argument (symbolic, numpy)
F_UNARY = {
    "tanh": (ft.tanh, np.tanh),
    "sin": (ft.sin, np.sin),
    "neg": (lambda a: -a, np.negative),
    "abs": (ft.abs, np.abs),
    "half": (lambda a: a * 0.5, lambda a: a * 0.5),
}
BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "maximum": (ft.maximum, np.maximum),
    "minimum": (ft.minimum, np.minimum),
}
INT_BINARY = ("add", "sub", "maximum", "minimum")
#: the ops of a program whose gradient is checked: a tie of maximum's arguments (x with
#: itself, the equal entries of a broadcast scalar) has no derivative to compare with
SMOOTH_BINARY = ("add", "sub", "mul")
REDUCE = {"sum": (ft.sum, np.sum), "max": (ft.max, np.max), "mean": (ft.mean, np.mean)}


@dataclass(frozen=True)
class Arg:
    """One argument of the step: its dtype, number of dimensions (each of length D) and
    whether it is an exact value (an input row or an int state: comparisons of it agree
    between the modes)."""

    dtype: str
    ndim: int
    exact: bool


# An expression: ("arg", i) | ("shared",) | ("const", c) | ("un", name, e) | ("bin", name, a, b)
# | ("red", name, e) | ("dot", a, b) | ("vec", e) (a scalar as a vector) | ("gt", i, c) (int64:
# argument i > c, i exact, reduced by sum) | ("cast", dtype, e) | ("nest", v, s) (a loop over
# the vector v from the scalar s, in the step)
Expr = tuple


@dataclass
class Out:
    #: None: not fed back; else the taps it is read at
    taps: list[int] | None
    dtype: str
    ndim: int
    expr: Expr = ()
    #: the spelling of outputs_info: the initial value alone (taps [-1]) or the dict
    plain: bool = False


@dataclass
class Seq:
    dtype: str
    ndim: int  # of a row
    taps: list[int]
    plain: bool  # passed as the variable alone (taps [0])
    length: int


@dataclass
class Program:
    seqs: list[Seq] = field(default_factory=list)
    outs: list[Out] = field(default_factory=list)
    nonseqs: list[Arg] = field(default_factory=list)
    #: None, ("const", n) or ("sym", dtype, n)
    n_steps: tuple | None = None
    go_backwards: bool = False
    truncate: int = -1
    return_list: bool = False
    #: the shared variable's number of dimensions and its new value, or None
    shared: tuple[int, Expr] | None = None
    #: a scalar expression, the stop condition, or None
    until: Expr | None = None
    args: list[Arg] = field(default_factory=list)
    #: the float dtypes the program uses (float64 alone: its gradient is checked, with
    #: smooth ops only)
    floats: tuple[str, ...] = FLOATS


def _arg_list(p: Program) -> list[Arg]:
    """The step's arguments, in fn's order: sequence taps, output taps, non-sequences."""
    args = [Arg(s.dtype, s.ndim, True) for s in p.seqs for _ in s.taps]
    for o in p.outs:
        if o.taps is not None:
            args += [Arg(o.dtype, o.ndim, o.dtype == "int64")] * len(o.taps)
    return args + list(p.nonseqs)


def _meta(p: Program, e: Expr) -> tuple[str, int]:
    """(dtype, ndim) of expression ``e`` (numpy's rules, which fncache's follow)."""
    tag = e[0]
    if tag == "arg":
        a = p.args[e[1]]
        return a.dtype, a.ndim
    if tag == "shared":
        return "float64", p.shared[0]  # type: ignore[index]
    if tag == "const":
        return "float64", 0
    if tag == "un":
        return _meta(p, e[2])
    if tag == "bin":
        (da, na), (db, nb) = _meta(p, e[2]), _meta(p, e[3])
        return str(np.result_type(da, db)), max(na, nb)
    if tag == "red":
        d, _ = _meta(p, e[2])
        return ("float64" if e[1] == "mean" and d == "int64" else d), 0
    if tag == "dot":
        (da, na), (db, nb) = _meta(p, e[1]), _meta(p, e[2])
        return str(np.result_type(da, db)), na + nb - 2
    if tag == "vec":
        return _meta(p, e[1])[0], 1
    if tag == "gt":
        return "int64", 0
    if tag == "cast":
        return e[1], _meta(p, e[2])[1]
    if tag == "red0":
        d, nd = _meta(p, e[1])
        return d, nd - 1
    assert tag == "nest"
    return "float64", 0


def _gen_expr(draw: Any, p: Program, depth: int, want_int: bool) -> Expr:
    """A random expression of the step's arguments (of int args only, and comparisons, when
    ``want_int``)."""
    ints = [i for i, a in enumerate(p.args) if a.dtype == "int64"]
    exact = [i for i, a in enumerate(p.args) if a.exact]

    def leaf() -> Expr:
        if want_int:
            if ints and draw(st.booleans()):
                return ("arg", draw(st.sampled_from(ints)))
            if exact and draw(st.booleans()):
                return ("gt", draw(st.sampled_from(exact)), draw(st.sampled_from((-0.5, 0.0, 0.5, 1.0))))
            return ("const", draw(st.sampled_from((1, 2, -1))))
        choices = ["arg"] * 3 + (["shared"] if p.shared is not None else []) + ["const"]
        c = draw(st.sampled_from(choices))
        if c == "arg" and p.args:
            return ("arg", draw(st.integers(0, len(p.args) - 1)))
        if c == "shared":
            return ("shared",)
        return ("const", draw(st.sampled_from((0.5, -1.5, 2.0, 0.25))))

    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return leaf()
    kinds = (
        ("bin", "bin", "red", "un") if want_int else ("bin", "bin", "un", "red", "dot", "dot", "nest", "cast")
    )
    k = draw(st.sampled_from(kinds))
    a = _gen_expr(draw, p, depth - 1, want_int)
    if k == "un":
        if want_int:
            return ("bin", "sub", ("const", 0), a)
        return ("un", draw(st.sampled_from(sorted(F_UNARY))), a)
    if k == "bin":
        b = _gen_expr(draw, p, depth - 1, want_int)
        names = INT_BINARY if want_int else sorted(BINARY) if p.floats == FLOATS else SMOOTH_BINARY
        return ("bin", draw(st.sampled_from(names)), a, b)
    if k == "red":
        if _meta(p, a)[1] == 0:
            return a
        names = ("sum", "max") if want_int else sorted(REDUCE) if p.floats == FLOATS else ("sum", "mean")
        return ("red", draw(st.sampled_from(names)), a)
    if k == "cast":
        return ("cast", draw(st.sampled_from(p.floats)), a)
    b = _gen_expr(draw, p, depth - 1, want_int)
    if k == "dot":
        na, nb = _meta(p, a)[1], _meta(p, b)[1]
        if na == 0 or nb == 0:
            return ("bin", "mul", a, b)
        if nb == 2 and na == 2:
            b = ("red0", b)
        return ("dot", a, b)
    # a loop in the step: over a vector from a scalar
    v = a if _meta(p, a)[1] == 1 else ("vec", _fit_ndim(p, a, 0))
    return ("nest", v, _fit_ndim(p, b, 0))


def _fit_ndim(p: Program, e: Expr, ndim: int) -> Expr:
    n = _meta(p, e)[1]
    if n > ndim:
        return _fit_ndim(p, ("red", "sum", e), ndim) if ndim == 0 else ("red0", e)
    if n < ndim:
        return ("vec", e)
    return e


def _target(p: Program, e: Expr, dtype: str, ndim: int, recurrent: bool) -> Expr:
    """``e`` as a value of ``dtype`` and ``ndim`` dimensions (a float state through tanh)."""
    e = _fit_ndim(p, e, ndim)
    if dtype == "int64":
        return e if _meta(p, e)[0] == "int64" else ("cast", "int64", e)
    if recurrent:
        e = ("un", "tanh", e)
    return e if _meta(p, e)[0] == dtype else ("cast", dtype, e)


def _gen_taps(draw: Any, pool: list[int]) -> list[int]:
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))


@st.composite
def programs(draw: Any, float64_only: bool = False) -> Program:
    floats = ("float64",) if float64_only else FLOATS
    p = Program(floats=floats)
    for _ in range(draw(st.integers(0, 3))):
        dtype = draw(st.sampled_from(floats + ("int64",)))
        plain = draw(st.integers(0, 2)) == 0
        taps = [0] if plain else _gen_taps(draw, [-2, -1, 0, 1, 2])
        # mostly enough rows for a few steps; now and then fewer than the taps span (no step)
        span = max(*taps, 0) - min(*taps, 0)
        length = span + draw(st.integers(1, 6)) if draw(st.integers(0, 7)) < 7 else draw(st.integers(0, span))
        p.seqs.append(Seq(dtype, draw(st.integers(0, 1)), taps, plain, length))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("none", "plain", "taps", "taps")))
        taps = None if kind == "none" else [-1] if kind == "plain" else _gen_taps(draw, [-3, -2, -1])
        dtype = draw(st.sampled_from(floats + ("int64",)))
        p.outs.append(Out(taps, dtype, draw(st.integers(0, 1)), plain=kind == "plain"))
    for _ in range(draw(st.integers(0, 2))):
        p.nonseqs.append(Arg(draw(st.sampled_from(floats)), draw(st.integers(0, 2)), False))
    if draw(st.integers(0, 3)) == 0:
        p.shared = (draw(st.integers(0, 1)), ())
    p.args = _arg_list(p)
    for j, o in enumerate(p.outs):
        same = [i for i, a in enumerate(p.args) if (a.dtype, a.ndim) == (o.dtype, o.ndim)]
        if same and draw(st.integers(0, 5)) == 5:
            # an argument returned as it is (a row, a past value: the step's input is its output)
            o.expr = ("arg", draw(st.sampled_from(same)))
        elif j and draw(st.integers(0, 5)) == 5 and _meta(p, p.outs[0].expr) == (o.dtype, o.ndim):
            o.expr = p.outs[0].expr  # two outputs of one expression
        else:
            e = _gen_expr(draw, p, draw(st.integers(1, 4)), o.dtype == "int64")
            o.expr = _target(p, e, o.dtype, o.ndim, o.taps is not None)
    if p.shared is not None:
        e = _gen_expr(draw, p, 2, False)
        new = ("bin", "add", ("un", "half", ("shared",)), ("un", "tanh", _fit_ndim(p, e, p.shared[0])))
        p.shared = (p.shared[0], ("cast", "float64", new))
    if draw(st.integers(0, 3)) == 0:
        exact = [i for i, a in enumerate(p.args) if a.exact]
        if exact:
            p.until = (
                "bin",
                "add",
                ("gt", draw(st.sampled_from(exact)), draw(st.sampled_from((0.0, 0.5, 1.0, 1.5)))),
                ("const", 0),
            )
    how = draw(st.sampled_from(("none", "const", "sym")) if p.seqs else st.sampled_from(("const", "sym")))
    n = draw(st.sampled_from((3, 2, 1, 4, 5, 9, 0)))
    # at most the steps every sequence has rows for (more raise: test_scan_audit.py)
    n = min([n] + [max(s.length - (max(*s.taps, 0) - min(*s.taps, 0)), 0) for s in p.seqs])
    if how == "const":
        p.n_steps = ("const", n)
    elif how == "sym":
        p.n_steps = ("sym", draw(st.sampled_from(("int64", "int32"))), n)
    p.go_backwards = draw(st.integers(0, 3)) == 0
    p.truncate = draw(st.sampled_from((-1, -1, -1, 1, 2, 4)))
    p.return_list = draw(st.booleans())
    return p


# -- building the scan ------------------------------------------------------------------------


class Env:
    """The values an expression reads: the step's arguments, the shared variable's value."""

    def __init__(self, args: list, shared: Any = None) -> None:
        self.args = args
        self.shared = shared


def _nest_sym(v: Any, s: Any) -> Any:
    res, _ = fc.scan(
        lambda x, h: ft.tanh(h * 0.7 + x),
        sequences=ft.cast(v, "float64"),
        outputs_info=ft.cast(s, "float64"),
    )
    return res[-1]


def _nest_ref(v: np.ndarray, s: np.ndarray) -> np.ndarray:
    h = np.float64(s)
    for x in np.asarray(v, np.float64):
        h = np.tanh(h * 0.7 + x)
    return np.asarray(h)


def build(e: Expr, env: Env) -> Any:
    """The symbolic value of ``e``."""
    tag = e[0]
    if tag == "arg":
        return env.args[e[1]]
    if tag == "shared":
        return env.shared
    if tag == "const":
        return ft.constant(e[1]) if isinstance(e[1], float) else ft.constant(np.int64(e[1]))
    if tag == "un":
        return F_UNARY[e[1]][0](build(e[2], env))
    if tag == "bin":
        return BINARY[e[1]][0](build(e[2], env), build(e[3], env))
    if tag == "red":
        return REDUCE[e[1]][0](build(e[2], env))
    if tag == "red0":
        return ft.sum(build(e[1], env), axis=0)
    if tag == "dot":
        return ft.dot(build(e[1], env), build(e[2], env))
    if tag == "vec":
        return build(e[1], env) + ft.zeros((D,), dtype="int8")
    if tag == "gt":
        return ft.cast(ft.sum(env.args[e[1]] > e[2]), "int64")
    if tag == "cast":
        return ft.cast(build(e[2], env), e[1])
    return _nest_sym(build(e[1], env), build(e[2], env))


def ref(e: Expr, env: Env) -> np.ndarray:
    """numpy's value of ``e``."""
    tag = e[0]
    if tag == "arg":
        return env.args[e[1]]
    if tag == "shared":
        return env.shared
    if tag == "const":
        return np.asarray(e[1], np.float64 if isinstance(e[1], float) else np.int64)
    if tag == "un":
        return np.asarray(F_UNARY[e[1]][1](ref(e[2], env)))
    if tag == "bin":
        return np.asarray(BINARY[e[1]][1](ref(e[2], env), ref(e[3], env)))
    if tag == "red":
        return np.asarray(REDUCE[e[1]][1](ref(e[2], env)))
    if tag == "red0":
        return np.sum(ref(e[1], env), axis=0)
    if tag == "dot":
        return np.asarray(np.dot(ref(e[1], env), ref(e[2], env)))
    if tag == "vec":
        return ref(e[1], env) + np.zeros((D,), np.int8)
    if tag == "gt":
        return np.asarray(np.sum(env.args[e[1]] > e[2]), np.int64)
    if tag == "cast":
        return np.asarray(ref(e[2], env)).astype(e[1])
    return _nest_ref(ref(e[1], env), ref(e[2], env))


def _shape(ndim: int) -> tuple[int, ...]:
    return (D,) * ndim


@dataclass
class Built:
    inputs: list  # symbolic inputs of the function
    values: list  # their values
    outputs: list  # the scan's outputs
    updates: dict
    shared: Any
    #: indices (into inputs) of the sequences, initial values and non-sequences (a shared
    #: variable given as a non-sequence: itself)
    seq_at: list[int]
    init_at: list[int]
    nonseq_at: list


def _value(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "int64":
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.uniform(-1.5, 1.5, size=shape).astype(dtype)


def build_scan(p: Program, seed: int) -> Built:
    rng = np.random.default_rng(seed)
    inputs, values = [], []

    def add(name: str, dtype: str, shape: tuple[int, ...]) -> Any:
        v = ft.tensor(name, dtype, len(shape))
        inputs.append(v)
        values.append(_value(rng, dtype, shape))
        return v

    seq_at, init_at, nonseq_at = [], [], []
    sequences = []
    for i, s in enumerate(p.seqs):
        seq_at.append(len(inputs))
        v = add(f"x{i}", s.dtype, (s.length,) + _shape(s.ndim))
        sequences.append(v if s.plain else {"input": v, "taps": s.taps})
    outputs_info = []
    for j, o in enumerate(p.outs):
        if o.taps is None:
            outputs_info.append(None)
            continue
        init_at.append(len(inputs))
        if o.taps == [-1]:
            init = add(f"h{j}", o.dtype, _shape(o.ndim))
            outputs_info.append(init if o.plain else {"initial": init, "taps": [-1]})
        else:
            rows = -min(o.taps)
            outputs_info.append({"initial": add(f"h{j}", o.dtype, (rows,) + _shape(o.ndim)), "taps": o.taps})
    nonseqs = []
    for k, a in enumerate(p.nonseqs):
        if rng.integers(0, 3) == 0:
            nonseqs.append(fc.shared(_value(rng, a.dtype, _shape(a.ndim)), name=f"w{k}"))
            nonseq_at.append(nonseqs[-1])
            continue
        nonseq_at.append(len(inputs))
        nonseqs.append(add(f"w{k}", a.dtype, _shape(a.ndim)))
    shared = None
    if p.shared is not None:
        shared = fc.shared(_value(rng, "float64", _shape(p.shared[0])), name="acc")
    n_steps: Any = None
    if p.n_steps is not None and p.n_steps[0] == "const":
        n_steps = p.n_steps[1]
    elif p.n_steps is not None:
        n_steps = ft.scalar("n", dtype=p.n_steps[1])
        inputs.append(n_steps)
        values.append(np.asarray(p.n_steps[2], p.n_steps[1]))

    def fn(*args: Any) -> Any:
        assert len(args) == len(p.args), (len(args), len(p.args))
        env = Env(list(args), shared)
        res: list = [build(o.expr, env) for o in p.outs]
        if shared is not None:
            res.append({shared: build(p.shared[1], env)})  # type: ignore[index]
        if p.until is not None:
            res.append(fc.scan.until(build(p.until, env) > 0))
        return res

    out, updates = fc.scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=nonseqs,
        n_steps=n_steps,
        go_backwards=p.go_backwards,
        truncate_gradient=p.truncate,
        return_list=p.return_list,
    )
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if len(p.outs) == 1:
        assert isinstance(out, list) == p.return_list
    assert len(outs) == len(p.outs)
    assert set(updates) == ({shared} if shared is not None else set())
    return Built(inputs, values, outs, dict(updates), shared, seq_at, init_at, nonseq_at)


# -- the reference loop -----------------------------------------------------------------------


def reference(
    p: Program, b: Built, values: list[np.ndarray], early: list[np.ndarray] | None = None, t0: int = 0
) -> tuple[list[np.ndarray], Any]:
    """The outputs of ``p`` by a Python loop, and the shared variable's final value. Steps
    before ``t0`` read the sequences and non-sequences of ``early`` (default ``values``)."""
    seqs = [values[i] for i in b.seq_at]
    spans = []
    for s, x in zip(p.seqs, seqs):
        lo, hi = min(*s.taps, 0), max(*s.taps, 0)
        spans.append(max(len(x) - (hi - lo), 0))
    n = min(spans) if spans else None
    if p.n_steps is not None:
        n = p.n_steps[-1] if n is None else min(n, p.n_steps[-1])
    assert n is not None
    hist = []  # per fed-back output: its values, oldest first (the initial rows first)
    for o, i in zip((o for o in p.outs if o.taps is not None), b.init_at):
        hist.append([values[i]] if o.taps == [-1] else list(values[i]))
    shared = None if b.shared is None else b.shared.get_value()
    stacked: list[list] = [[] for _ in p.outs]
    for t in range(n):
        src = early if early is not None and t < t0 else values
        args = []
        for s, x in zip(p.seqs, [src[i] for i in b.seq_at]):
            lo, hi = min(*s.taps, 0), max(*s.taps, 0)
            for k in s.taps:
                row = t + k - lo if not p.go_backwards else len(x) - 1 - t + k - hi
                args.append(x[row])
        for h, o in zip(hist, (o for o in p.outs if o.taps is not None)):
            lag = -min(o.taps)
            args += [h[lag + t + k] for k in o.taps]  # h[lag + t] is the value at step t
        args += [src[i] if isinstance(i, int) else i.get_value() for i in b.nonseq_at]
        env = Env(args, shared)
        new = [ref(o.expr, env) for o in p.outs]
        for j, v in enumerate(new):
            stacked[j].append(v)
        for h, j in zip(hist, [j for j, o in enumerate(p.outs) if o.taps is not None]):
            h.append(new[j])
        if b.shared is not None:
            shared = ref(p.shared[1], env)  # type: ignore[index]
        if p.until is not None and ref(p.until, env) > 0:
            break
    # after zero steps each output's rows have the shape a step would give it
    outs = [
        np.asarray(rows, dtype=v.dtype).reshape((len(rows),) + _shape(_meta(p, o.expr)[1]))
        for rows, o, v in zip(stacked, p.outs, b.outputs)
    ]
    return outs, shared


# -- the tests --------------------------------------------------------------------------------

MODES = ("FAST_RUN", "FAST_COMPILE")


def _tol(p: Program) -> float:
    """Relative to the values' magnitude: float states pass tanh at every step, so a
    program's rounding errors stay a few ulps of its least precise dtype."""
    return 2e-4 if "float32" in repr(p) else 1e-10


@fuzz_settings(20)
@given(p=programs(), seed=st.integers(0, 2**16))
def test_random_scans(p: Program, seed: int) -> None:
    b = build_scan(p, seed)
    start = None if b.shared is None else b.shared.get_value()
    want, want_shared = reference(p, b, b.values)
    tol = _tol(p)
    for mode in MODES:
        f = fc.function(b.inputs, b.outputs, updates=b.updates, mode=mode, on_unused_input="ignore")
        if b.shared is not None:
            b.shared.set_value(start)  # each mode's call starts from the same value
        got = f(*b.values)
        for j, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype and g.shape == w.shape, (mode, j, g.dtype, g.shape, w.dtype, w.shape)
            if w.dtype.kind == "i":
                np.testing.assert_array_equal(g, w, err_msg=f"{mode}, output {j}")
            else:
                np.testing.assert_allclose(
                    g, w, rtol=tol, atol=tol * max(1.0, _mag(w)), err_msg=f"{mode}, output {j}"
                )
        if b.shared is not None:
            np.testing.assert_allclose(
                b.shared.get_value(), want_shared, rtol=tol, atol=tol, err_msg=f"{mode}, shared"
            )


def _fd(f: Any, vals: list[np.ndarray], wrt: int, eps: float = 1e-6) -> np.ndarray:
    num = np.zeros(vals[wrt].shape)
    for idx in np.ndindex(vals[wrt].shape):
        plus = [v.copy() for v in vals]
        minus = [v.copy() for v in vals]
        plus[wrt][idx] += eps
        minus[wrt][idx] -= eps
        num[idx] = (f(*plus) - f(*minus)) / (2 * eps)
    return num


@fuzz_settings(6, "FNCACHE_HYPOTHESIS_GRAD_EXAMPLES")
@given(p=programs(float64_only=True), seed=st.integers(0, 2**16))
def test_random_scan_gradients(p: Program, seed: int) -> None:
    b = build_scan(p, seed)
    floats = [k for k, o in enumerate(b.outputs) if o.dtype == "float64"]
    wrt = [
        i for i in b.seq_at + b.init_at + b.nonseq_at if isinstance(i, int) and b.inputs[i].dtype == "float64"
    ]
    if not floats or not wrt:
        return
    cost = sum(ft.sum(b.outputs[k] * (0.5 + k)) + ft.sum(b.outputs[k] ** 2) * 0.25 for k in floats)
    want, _ = reference(p, b, b.values)
    n = max((len(w) for w in want), default=0)

    def truncated_cost(*vals: np.ndarray) -> float:
        """The cost with only the last ``truncate`` steps reading ``vals``: its derivative is
        the gradient truncated there (the earlier steps' values are constants)."""
        outs, _ = reference(p, b, list(vals), early=b.values, t0=n - p.truncate)
        return sum(float(np.sum(outs[k] * (0.5 + k)) + np.sum(outs[k] ** 2) * 0.25) for k in floats)

    grads = fc.grad(cost, [b.inputs[i] for i in wrt], disconnected_inputs="ignore")
    for mode in MODES:
        f = fc.function(b.inputs, [cost, *grads], mode=mode, on_unused_input="ignore")
        c = fc.function(b.inputs, cost, mode=mode, on_unused_input="ignore")
        got = f(*b.values)
        for g, i in zip(got[1:], wrt):
            if p.truncate != -1 and p.truncate < n:
                if i in b.init_at:  # the gradient stops before reaching the initial values
                    np.testing.assert_array_equal(g, 0.0, err_msg=f"{mode}, truncated, input {i}")
                    continue
                want_g = _fd(truncated_cost, b.values, i)
            else:
                want_g = _fd(c, b.values, i)
            np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-6, err_msg=f"{mode}, input {i}")
