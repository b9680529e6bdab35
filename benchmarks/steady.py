"""In-process steady-state workloads: W1, W2, W3 and the call overhead.

Every implementation is compiled (and warmed up) first, its result checked against numpy's
float64 reference, and only then timed; compile time is never part of these figures.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

import handc
import workloads as W
from backends import fncache_flags, get_fncache, get_numba, get_numexpr, get_pytensor, one_blas_thread
from timing import Cell, Row, measure, measure_pair


def _timed_cell(setup, ref, dtype, cfg, *, number=None, min_repeat_time=None, scale=None):
    """setup() -> (stmt, env[, ctx_factory]); check once, then time. Never raises."""
    try:
        got = setup()
        stmt, env = got[0], got[1]
        ctx = got[2] if len(got) > 2 else contextlib.nullcontext
        with ctx():
            err = W.check(eval(stmt, env), ref, dtype, scale)  # noqa: S307 - our own statement
            t = measure(
                stmt,
                env,
                repeats=cfg.repeats,
                warmup=1,
                number=number,
                min_repeat_time=min_repeat_time or cfg.min_repeat_time,
            )
        return Cell.ok(t.min, t.median, number=t.number, repeats=t.repeats, max_rel_err=err, stmt=stmt)
    except Exception as e:  # noqa: BLE001 - a failing implementation empties its cell only
        return Cell.from_exception(e)


def _timed_pair(setup_a, setup_b, ref, dtype, cfg, scale=None):
    """Two setups checked, then timed in alternation (timing.measure_pair): (cell_a, cell_b)."""
    try:
        sides = []
        for setup in (setup_a, setup_b):
            got = setup()
            stmt, env = got[0], got[1]
            ctx = got[2] if len(got) > 2 else contextlib.nullcontext
            with ctx():
                err = W.check(eval(stmt, env), ref, dtype, scale)  # noqa: S307 - our own statement
            sides.append(((stmt, env, ctx), err))
        # Short repeats, ten times as many: on a shared machine a quiet moment is short, and
        # each side's best repeat should fit in one.
        ta, tb = measure_pair(
            sides[0][0], sides[1][0], repeats=10 * cfg.repeats, min_repeat_time=cfg.min_repeat_time / 10
        )
        return tuple(
            Cell.ok(
                t.min,
                t.median,
                number=t.number,
                repeats=t.repeats,
                max_rel_err=err,
                stmt=side[0],
                alternated=True,
            )
            for t, (side, err) in zip((ta, tb), sides)
        )
    except Exception as e:  # noqa: BLE001 - a failing implementation empties its cells only
        return Cell.from_exception(e), Cell.from_exception(e)


# ---- setups per implementation -----------------------------------------------------------


def _fncache(graph, args, threads=None, trust=False, stmt=None, **more_flags):
    """threads=None: leave config.threads at its default (what a user gets)."""

    def setup():
        fc, ft = get_fncache()
        flags = {**more_flags, **({} if threads is None else {"threads": threads})}
        with fncache_flags(fc, **flags):
            ins, out = graph(ft)
            f = fc.function(ins, out)
        if trust:
            f(*args)  # exact dtypes: the caller's promise holds
            f.trust_input = True
        env = {"f": f, **{f"a{i}": a for i, a in enumerate(args)}}
        call = stmt or "f(" + ", ".join(f"a{i}" for i in range(len(args))) + ")"
        return call, env, lambda: fncache_flags(fc, **flags)

    return setup


def _pytensor(graph, args, trust=False):
    def setup():
        pytensor, pt, mode = get_pytensor()
        ins, out = graph(pt)
        f = pytensor.function(ins, out, mode=mode)
        if trust:
            f.trust_input = True
        env = {"f": f, **{f"a{i}": a for i, a in enumerate(args)}}
        return "f(" + ", ".join(f"a{i}" for i in range(len(args))) + ")", env

    return setup


def _numba(maker, args):
    def setup():
        get_numba()
        g = maker()
        g(*args)  # JIT compile outside the timings
        env = {"g": g, **{f"a{i}": a for i, a in enumerate(args)}}
        return "g(" + ", ".join(f"a{i}" for i in range(len(args))) + ")", env

    return setup


def _numexpr(expr, names, args):
    def setup():
        ne = get_numexpr()
        env = {"ne": ne, **dict(zip(names, args))}
        return f"ne.evaluate({expr!r})", env

    return setup


def _handc(make, args):
    def setup():
        g = make()
        return "g(" + ", ".join(f"a{i}" for i in range(len(args))) + ")", {
            "g": g,
            **{f"a{i}": a for i, a in enumerate(args)},
        }

    return setup


def _chosen_width():
    fc, _ = get_fncache()
    from fncache.toolchain import host_vector_width

    return host_vector_width()


def _width_rows(group, key, label, tc, graph, args, make_handc):
    """One row per vector width this CPU has: fncache pinned to it beside the hand-written C
    loop of the same width; the fastest hand-written copy goes into the main row."""
    rows, best = [], None
    for w in handc.runnable_widths():
        r = Row(group, f"{key}_vw{w}", f"  {label}, vector_width={w}")
        r.cells["fncache"] = tc(_fncache(graph, args, threads=1, vector_width=w))
        if make_handc is not None:
            r.cells["handc"] = tc(_handc(lambda w=w: make_handc(w), args))
            if r.value("handc") and (best is None or r.value("handc") < best.value("handc")):
                best = r
        rows.append(r)
    return rows, (best.cells["handc"] if best is not None else None)


def _numpy(stmt, names, args):
    def setup():
        return stmt, {"np": np, "W": W, **dict(zip(names, args))}

    return setup


# ---- workloads -----------------------------------------------------------------------------


def _nlabel(n):
    e = int(round(np.log10(n))) if n > 0 else 0
    return f"10^{e}" if 10**e == n else str(n)


def run_w1(cfg):
    rows = []
    ncores = os.cpu_count() or 1
    for dtype in ("float64", "float32"):
        args = W.w1_inputs(cfg.n, dtype)
        ref, scale = W.w1_ref(*args), W.w1_scale(*args)

        def tc(setup, dtype=dtype, ref=ref, scale=scale):
            return _timed_cell(setup, ref, dtype, cfg, scale=scale)

        short = "f64" if dtype == "float64" else "f32"
        graph = lambda T, d=dtype: W.w1_graph(T, d)  # noqa: E731
        r = Row("W1", f"W1_{short}_1t", f"W1 {short} {_nlabel(cfg.n)}, 1 thread")
        ra = Row("W1", f"W1_{short}_all", f"W1 {short} {_nlabel(cfg.n)}, all {ncores} cores")
        # The two fncache rows are measured in alternation: on a shared machine the second
        # core's availability drifts, within seconds as over the minutes the other columns take.
        r.cells["fncache"], ra.cells["fncache"] = _timed_pair(
            _fncache(graph, args, threads=1), _fncache(graph, args, threads=0), ref, dtype, cfg, scale
        )
        r.cells["numpy"] = tc(_numpy("np.exp(x) * y + np.sin(z) / (1 + x * x)", "xyz", args))
        r.cells["numexpr"] = tc(_numexpr(W.NE_W1, "xyz", args))
        r.cells["numba"] = tc(_numba(W.make_numba_w1, args))
        r.cells["pytensor"] = tc(_pytensor(graph, args))
        width_rows, best_c = _width_rows(
            "W1", f"W1_{short}", f"W1 {short} 1 thread", tc, graph, args, lambda w, d=dtype: handc.w1(w, d)
        )
        if best_c is not None:
            r.cells["handc"] = best_c
        r.note = f"fncache chose vector_width={_chosen_width()} on this CPU; hand C: its fastest width"
        rows.append(r)
        rows += width_rows

        t1, ta = r.value("fncache"), ra.value("fncache")
        if t1 and ta:
            ra.note = f"fncache scaling 1 thread/all = {t1 / ta:.2f}x on {ncores} cores"
            ra.cells["fncache"].extra["scaling"] = t1 / ta
        rows.append(ra)
        del args, ref, scale
    return rows


def run_w2(cfg):
    args = W.w2_inputs(cfg.n)
    ref = W.w2_ref(*args)
    graph = W.w2_graph
    r = Row("W2", "W2_f64", f"W2 f64 {_nlabel(cfg.n)}, 1 thread")
    r.cells["fncache"] = _timed_cell(_fncache(graph, args, threads=1), ref, "float64", cfg)
    r.cells["numpy"] = _timed_cell(_numpy("np.sum((x - y) ** 2)", "xy", args), ref, "float64", cfg)
    r.cells["numexpr"] = _timed_cell(_numexpr(W.NE_W2, "xy", args), ref, "float64", cfg)
    r.cells["numba"] = _timed_cell(_numba(W.make_numba_w2, args), ref, "float64", cfg)
    r.cells["pytensor"] = _timed_cell(_pytensor(graph, args), ref, "float64", cfg)

    def tc(setup):
        return _timed_cell(setup, ref, "float64", cfg)

    width_rows, best_c = _width_rows("W2", "W2_f64", "W2 f64 1 thread", tc, graph, args, handc.w2)
    if best_c is not None:
        r.cells["handc"] = best_c
    r.note = f"fncache chose vector_width={_chosen_width()} on this CPU; hand C: its fastest width"
    return [r, *width_rows]


def run_w3(cfg):
    args = W.w3_inputs()
    ref = W.w3_ref(*args)
    graph = W.w3_graph
    names = ("X", "w", "b", "t")
    m, k = W.W3_SHAPE
    r = Row("W3", "W3_f64", f"W3 logreg loss X {m}x{k}, 1 thread")
    r.cells["fncache"] = _timed_cell(_fncache(graph, args, threads=1), ref, "float64", cfg)
    r.cells["numpy"] = _timed_cell(_numpy("W.w3_numpy(X, w, b, t)", names, args), ref, "float64", cfg)

    def ne_setup():
        ne = get_numexpr()
        return "W.w3_numexpr(ne, X, w, b, t)", {"W": W, "ne": ne, **dict(zip(names, args))}

    r.cells["numexpr"] = _timed_cell(ne_setup, ref, "float64", cfg)
    r.cells["numba"] = _timed_cell(_numba(W.make_numba_w3, args), ref, "float64", cfg)
    r.cells["pytensor"] = _timed_cell(_pytensor(graph, args), ref, "float64", cfg)
    r.note = "numexpr column: numpy X@w, numexpr for the rest; BLAS threads left at default"

    def tc(setup):
        return _timed_cell(setup, ref, "float64", cfg)

    width_rows, _ = _width_rows("W3", "W3_f64", "W3 1 thread", tc, graph, args, None)
    return [r, *width_rows]


def run_train(cfg):
    """W4: one training step (forward, gradients, updates of shared w and b) per call. Each
    implementation is checked on its first step's xent, then timed on the steps after it."""
    X, y, w0 = W.w4_inputs()
    ref = W.w4_ref(X, y, w0)
    n, feats = W.W4_SHAPE
    r = Row("train", "W4_train", f"W4 logreg training step X {n}x{feats}, 1 thread")
    env = {"X": X, "y": y}
    stmt = "f(X, y)[1]"

    def fncache_setup():
        fc, ft = get_fncache()
        with fncache_flags(fc, threads=1):
            ins, outs, updates = W.w4_graph(ft, fc, w0)
            f = fc.function(ins, outs, updates=updates)
        return stmt, {**env, "f": f}, lambda: fncache_flags(fc, threads=1)

    def pytensor_setup():
        pytensor, pt, mode = get_pytensor()
        ins, outs, updates = W.w4_graph(pt, pytensor, w0)
        f = pytensor.function(ins, outs, mode=mode, updates=updates)
        return stmt, {**env, "f": f}, one_blas_thread

    def numpy_setup():
        return stmt, {**env, "f": W.W4NumpyStep(w0)}, one_blas_thread

    r.cells["fncache"] = _timed_cell(fncache_setup, ref, "float64", cfg)
    r.cells["numpy"] = _timed_cell(numpy_setup, ref, "float64", cfg)
    r.cells["pytensor"] = _timed_cell(pytensor_setup, ref, "float64", cfg)
    r.cells["numexpr"] = r.cells["numba"] = Cell("-")
    r.note = "W4: numpy column = the step written by hand; every column on 1 thread (fncache threads=1, BLAS limited to 1)"
    return [r]


def run_overhead(cfg):
    """µs per call of W1 on 1-element float64 arrays (min over repeats of many calls)."""
    args = W.w1_inputs(1, "float64")
    ref, scale = W.w1_ref(*args), W.w1_scale(*args)
    graph = W.w1_graph
    cfg_o = cfg.overhead()

    def tc(setup, **kw):
        return _timed_cell(setup, ref, "float64", cfg_o, scale=scale, **kw)

    rows = []

    numba_cell = tc(_numba(W.make_numba_w1, args))

    r = Row("overhead", "overhead_default", "call overhead W1 1 elem, default call")
    r.cells["fncache"] = tc(_fncache(graph, args))
    r.cells["numpy"] = tc(_numpy("np.exp(x) * y + np.sin(z) / (1 + x * x)", "xyz", args))
    r.cells["numexpr"] = tc(_numexpr(W.NE_W1, "xyz", args))
    r.cells["numba"] = numba_cell
    r.cells["pytensor"] = tc(_pytensor(graph, args))
    rows.append(r)

    r = Row("overhead", "overhead_trust", "call overhead, trust_input (numba: default)")
    rf = Row("overhead", "overhead_fn", "call overhead, f.fn() (pytensor: f.vm())")
    # Alternated: the two differ by tens of nanoseconds, less than a shared machine drifts
    # between two timings one after the other.
    r.cells["fncache"], rf.cells["fncache"] = _timed_pair(
        _fncache(graph, args, trust=True),
        _fncache(graph, args, trust=True, stmt="f.fn()"),
        ref,
        "float64",
        cfg_o,
        scale=scale,
    )
    r.cells["numba"] = numba_cell
    r.cells["pytensor"] = tc(_pytensor(graph, args, trust=True))
    rows.append(r)

    r = rf
    r.cells["numba"] = numba_cell

    def pt_vm_setup():
        pytensor, pt, mode = get_pytensor()
        ins, out = graph(pt)
        f = pytensor.function(ins, out, mode=mode)
        f(*args)
        # PyTensor 3 clears input storage after each f(...): fill it once for f.vm()
        for container, a in zip(f.input_storage, args):
            container.storage[0] = a
        return "f.vm()", {"f": f}

    r.cells["pytensor"] = tc(pt_vm_setup)
    rows.append(r)

    g_args = W.gates_inputs()
    g_ref = W.gates_numpy(*g_args)
    r = Row("overhead", "overhead_gates", "LSTM gates %dx%d: concat, dot, 4 slices" % W.G_SHAPE)
    r.cells["fncache"] = _timed_cell(_fncache(W.gates_graph, g_args), g_ref, "float64", cfg_o)
    g_numpy = _numpy("W.gates_numpy(x, h, c, M)", "xhcM", g_args)
    r.cells["numpy"] = _timed_cell(g_numpy, g_ref, "float64", cfg_o)
    r.cells["pytensor"] = _timed_cell(_pytensor(W.gates_graph, g_args), g_ref, "float64", cfg_o)
    rows.append(r)

    n_calls = 10_000
    r = Row("overhead", "overhead_fn_ncalls", f"per call inside f.fn(n_calls={n_calls})")
    r.cells["fncache"] = tc(_fncache(graph, args, trust=True, stmt=f"f.fn(n_calls={n_calls})"), number=1)
    c = r.cells["fncache"]
    if c.status == "ok":
        c.value /= n_calls
        c.median /= n_calls
    rows.append(r)
    return rows
