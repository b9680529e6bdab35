"""Fresh-process figures: cold compile, import time, warm cache hits, unpickling.

Each measurement is a new interpreter (``subprocess.run([sys.executable, "-c", code])``).
The child times the interesting part itself with ``time.perf_counter`` (imports and input
data excluded) and prints it; the parent also records the child's whole wall time.
Compiled-code caches are pointed at directories under the run's work directory:
``FNCACHE_FLAGS=compiledir=...`` and ``PYTENSOR_FLAGS=compiledir=...`` (numba is not
cached: every process is cold for it).
"""

from __future__ import annotations

import os
import statistics
import sys

from timing import Cell, Row, child_code, run_fresh

# ---- environments --------------------------------------------------------------------------


def fncache_env(compiledir, **flags):
    """FNCACHE_FLAGS for a child: the user's flags, but our compiledir (and ``flags``)."""
    items = []
    for item in os.environ.get("FNCACHE_FLAGS", "").split(","):
        k = item.split("=", 1)[0].strip()
        if item.strip() and k != "compiledir" and k not in flags:
            items.append(item.strip())
    items.append(f"compiledir={compiledir}")
    items += [f"{k}={v}" for k, v in flags.items()]
    return {"FNCACHE_FLAGS": ",".join(items)}


def pytensor_env(compiledir):
    return {"PYTENSOR_FLAGS": f"compiledir={compiledir}"}


# ---- child code pieces ---------------------------------------------------------------------

IMPORTS = {
    "fncache": (
        "import numpy as np, workloads as W\n"
        "import fncache as fc\n"
        "from fncache import tensor as ft\n"
        "if not hasattr(fc, 'function'):\n"
        "    raise Unavailable('fncache.function missing (core not landed yet)')\n"
        "def _info():\n"
        "    try:\n"
        "        i = fc.cache.info()\n"
        "        return {k: i.get(k) for k in ('entries', 'size', 'hits', 'misses', 'compiles')}\n"
        "    except Exception as e:\n"
        "        return {'error': repr(e)[:100]}\n"
    ),
    "pytensor": (
        "import numpy as np, workloads as W, warnings\n"
        "warnings.filterwarnings('ignore', message='PyTensor could not link to a BLAS')\n"
        "import pytensor, pytensor.tensor as pt\n"
        "from pytensor.compile.mode import Mode\n"
        "MODE = Mode(linker='cvm', optimizer='fast_run')\n"
        "def _info():\n"
        "    return {}\n"
    ),
    "numba": ("import numpy as np, workloads as W\nimport numba\ndef _info():\n    return {}\n"),
}

# inputs, reference and the symbolic graph are made before the clock starts
DATA = {
    "W1": ("args = W.w1_inputs({n}, 'float64'); ref = W.w1_ref(*args)\nscale = W.w1_scale(*args)\n"),
    "W3": "args = W.w3_inputs(); ref = W.w3_ref(*args); scale = None\n",
    "W4": ("X, y, w0 = W.w4_inputs(); args = (X, y); ref = W.w4_ref(X, y, w0)\nscale = None\n"),
}
#: (inputs, outputs) or (inputs, outputs, updates); {T}: ft or pt, {lib}: fc or pytensor
GRAPH = {"W1": "W.w1_graph({T})", "W3": "W.w3_graph({T})", "W4": "W.w4_graph({T}, {lib}, w0)"}
#: the output checked against the reference, where a workload has several
RESULT = {"W4": "r = r[1]\n"}
NUMBA_MAKER = {"W1": "W.make_numba_w1()", "W3": "W.make_numba_w3()"}


def compile_and_call_code(impl, workload, n=1000, extra_after=""):
    """Child: time from compiling ``workload`` with ``impl`` to its first checked result."""
    body = IMPORTS[impl] + DATA[workload].format(n=n)
    if impl == "numba":
        body += f"g = {NUMBA_MAKER[workload]}\n"
        timed = "r = g(*args)\n"
    else:
        T, lib = ("ft", "fc") if impl == "fncache" else ("pt", "pytensor")
        body += f"ins, out, upd = ({GRAPH[workload].format(T=T, lib=lib)} + (None,))[:3]\n"
        if impl == "fncache":
            timed = "f = fc.function(ins, out, updates=upd)\nr = f(*args)\n"
        else:
            timed = "f = pytensor.function(ins, out, mode=MODE, updates=upd)\nr = f(*args)\n"
    body += (
        "info0 = _info()\n"
        "t0 = _time.perf_counter()\n"
        + timed
        + "t1 = _time.perf_counter()\n"
        + RESULT.get(workload, "")
        + "err = W.check(r, ref, 'float64', scale)\n"
        "info1 = _info()\n"
        + extra_after
        + "_report(seconds=t1 - t0, max_rel_err=err, info_before=info0, info_after=info1)\n"
    )
    return child_code(body)


def _compiles_during(data):
    try:
        return data["info_after"]["compiles"] - data["info_before"]["compiles"]
    except (KeyError, TypeError):
        return None


def _until_failed(runs):
    """The fresh-process results ``runs`` yields, each run as it is drawn, up to the first that
    failed: (the times measured in the children, their walls, their reports, None), or with
    that failure's Cell last (and no run after it)."""
    secs, walls, datas = [], [], []
    for res in runs:
        bad = res.cell_or_none()
        if bad is not None:
            return secs, walls, datas, bad
        secs.append(res.data["seconds"])
        walls.append(res.wall)
        datas.append(res.data)
    return secs, walls, datas, None


def _repeat_fresh(code, env, trials, timeout=900):
    """Run ``code`` ``trials`` times; (Cell internal, Cell wall, [datas])."""
    secs, walls, datas, bad = _until_failed(run_fresh(code, env, timeout=timeout) for _ in range(trials))
    if bad is not None:
        return bad, bad, datas
    extra = {"trials": trials, "all": secs, "walls": walls, "max_rel_err": datas[-1].get("max_rel_err")}
    comp = [_compiles_during(d) for d in datas]
    if any(c is not None for c in comp):
        extra["compiles_during"] = comp
    return (
        Cell.ok(min(secs), statistics.median(secs), **extra),
        Cell.ok(min(walls), statistics.median(walls), trials=trials, all=walls),
        datas,
    )


def _progress(msg):
    print(f"  .. {msg}", file=sys.stderr, flush=True)


# ---- cold compile ---------------------------------------------------------------------------


def _cold_env(impl, compiledir):
    """A cold child's environment: ``compiledir`` as the cache of ``impl`` (numba keeps none)."""
    if impl == "fncache":
        return fncache_env(compiledir)
    return pytensor_env(compiledir) if impl == "pytensor" else {}


def run_cold(cfg):
    rows = []
    for wl in ("W1", "W3"):
        size = f"{cfg.cold_n} elem" if wl == "W1" else "X 1000x100"
        r = Row("cold", f"cold_{wl}", f"cold compile {wl} ({size}), compile->1st result")
        rw = Row("cold", f"cold_{wl}_wall", f"cold {wl}: whole fresh process, wall")
        for impl in ("fncache", "numba", "pytensor"):
            _progress(f"cold {wl} {impl} x{cfg.cold_trials}")
            code = compile_and_call_code(impl, wl, n=cfg.cold_n)
            secs, walls, _, bad = _until_failed(
                run_fresh(
                    code, _cold_env(impl, cfg.newdir(f"cold-{impl}-{wl}-{trial}")), timeout=cfg.child_timeout
                )
                for trial in range(cfg.cold_trials)
            )
            if bad is not None:
                r.cells[impl] = rw.cells[impl] = bad
                continue
            r.cells[impl] = Cell.ok(min(secs), statistics.median(secs), trials=len(secs), all=secs)
            rw.cells[impl] = Cell.ok(min(walls), statistics.median(walls), trials=len(walls), all=walls)
        r.cells["numpy"] = r.cells["numexpr"] = Cell("-")
        r.note = "empty compiledir per trial; numba: first call incl. JIT (imports excluded)"
        rows += [r, rw]
    return rows


def run_train_fresh(cfg):
    """W4's training function in fresh processes: cold (an empty compiledir per trial) and a
    warm hit (the compiledir filled by one earlier process), fncache vs PyTensor."""
    cold = Row("train", "cold_W4", "cold compile W4 train step, compile->1st result")
    warm = Row("train", "warm_W4", "warm hit W4 train step, fresh process: function()+1st call")
    for impl in ("fncache", "pytensor"):
        make_env = fncache_env if impl == "fncache" else pytensor_env
        code = compile_and_call_code(impl, "W4")
        _progress(f"cold W4 {impl} x{cfg.cold_trials}")
        cells = []
        for trial in range(cfg.cold_trials):
            env = make_env(cfg.newdir(f"cold-{impl}-W4-{trial}"))
            cells.append(_repeat_fresh(code, env, 1, cfg.child_timeout)[0])
        bad = [c for c in cells if c.status != "ok"]
        secs = [c.value for c in cells if c.status == "ok"]
        cold.cells[impl] = (
            bad[0] if bad else Cell.ok(min(secs), statistics.median(secs), trials=len(secs), all=secs)
        )
        env = make_env(cfg.newdir(f"warm-{impl}-W4"))
        _progress(f"warm W4 {impl} x{cfg.warm_trials}")
        filled = _repeat_fresh(code, env, 1, cfg.child_timeout)[0]
        warm.cells[impl] = (
            filled
            if filled.status != "ok"
            else _repeat_fresh(code, env, cfg.warm_trials, cfg.child_timeout)[0]
        )
    for r in (cold, warm):
        r.cells["numpy"] = r.cells["numexpr"] = r.cells["numba"] = Cell("-")
    _note_compiles(warm)
    return [cold, warm]


# ---- import time ----------------------------------------------------------------------------

IMPORT_CODE = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import {mod}\n"
    "t1 = time.perf_counter()\n"
    "{check}"
    "print('BENCH_RESULT {{\"seconds\": %r}}' % (t1 - t0))\n"
)


def run_import(cfg):
    r = Row("import", "import", f"import time, fresh process (min of {cfg.import_trials})")
    rw = Row("import", "import_wall", "python -c 'import X', wall")
    # `import fncache` alone loads neither numpy nor the compiler (they load on first use), so
    # the fncache figure is what building a graph needs: the package plus its front end.
    for col, mod in (
        ("fncache", "fncache, fncache.tensor"),
        ("numpy", "numpy"),
        ("numexpr", "numexpr"),
        ("numba", "numba"),
        ("pytensor", "pytensor"),
    ):
        check = ""
        if mod == "fncache":
            check = (
                "if not hasattr(fncache, 'function'):\n"
                "    raise SystemExit('fncache.function missing (core not landed yet)')\n"
            )
        code = IMPORT_CODE.format(mod=mod, check=check)
        env = pytensor_env(cfg.path("pt-import")) if mod == "pytensor" else {}
        _progress(f"import {mod} x{cfg.import_trials}")
        run_fresh(code, env, timeout=cfg.child_timeout)  # warm the OS file cache
        secs, walls, _, bad = _until_failed(
            run_fresh(code, env, timeout=cfg.child_timeout) for _ in range(cfg.import_trials)
        )
        if bad is not None:
            r.cells[col] = rw.cells[col] = bad
            continue
        r.cells[col] = Cell.ok(min(secs), statistics.median(secs), all=secs)
        rw.cells[col] = Cell.ok(min(walls), statistics.median(walls), all=walls)
    base = [run_fresh("pass").wall for _ in range(cfg.import_trials)]
    rw.note = f"python -c pass: {min(base) * 1e3:.0f} ms"
    tf, tn = r.value("fncache"), r.value("numpy")
    if tf is not None and tn is not None:
        r.note = (
            f"fncache (import fncache, fncache.tensor: numpy included) - numpy = {(tf - tn) * 1e3:.1f} ms"
        )
    return [r, rw]


# ---- warm hits -------------------------------------------------------------------------------

PICKLE_DUMP = "import pickle\nwith open(@PATH@, 'wb') as fh:\n    fh.write(pickle.dumps(f))\n"


def _prepare(cfg, impl):
    """Populate the warm compiledir of ``impl`` with W3 and pickle W3's function (once)."""
    key = f"prepared-{impl}"
    if key in cfg.memo:
        return cfg.memo[key]
    d = cfg.path(f"{impl}-warm")
    pkl = cfg.path(f"{impl}-w3.pkl")
    env = fncache_env(d) if impl == "fncache" else pytensor_env(d)
    _progress(f"populating {impl} cache with W3")
    code = compile_and_call_code(impl, "W3", extra_after=PICKLE_DUMP.replace("@PATH@", repr(pkl)))
    res = run_fresh(code, env, timeout=cfg.child_timeout)
    out = (d, pkl, env, res.cell_or_none())
    cfg.memo[key] = out
    return out


FILL_CODE = IMPORTS["fncache"] + (
    "import numpy as np\n"
    "x = np.linspace(0, 1, 4)\n"
    "for i in range(@A@, @B@):\n"
    "    ins, out = W.filler_graph(ft, i)\n"
    "    f = fc.function(ins, out)\n"
    "    r = f(x)\n"
    "    if not np.allclose(r, np.sin(x) * (1000.5 + i) + x):\n"
    "        raise RuntimeError(f'filler {i} wrong')\n"
    "_report(info=_info())\n"
)


def run_warm(cfg):
    rows = []
    trials = cfg.warm_trials
    r = Row("warm", "warm_hit", "warm hit W3, fresh process: function()+1st call")
    rw = Row("warm", "warm_hit_wall", "warm hit W3: whole fresh process, wall")
    code_fc = compile_and_call_code("fncache", "W3")
    code_pt = compile_and_call_code("pytensor", "W3")

    # PyTensor's warm path: its compiledir holds W3's modules; it still optimizes the graph
    d, _, env, bad = _prepare(cfg, "pytensor")
    if bad is None:
        _progress(f"pytensor warm path x{trials}")
        r.cells["pytensor"], rw.cells["pytensor"], _ = _repeat_fresh(code_pt, env, trials, cfg.child_timeout)
    else:
        r.cells["pytensor"] = rw.cells["pytensor"] = bad
    rows += [r, rw]

    # then grow the cache with distinct small functions and measure again
    levels = [(10, "warm_10", "warm hit W3, cache holding 10 functions")]
    if cfg.fill_more + 1 > 10:
        levels.append((cfg.fill_more + 1, "warm_more", f"warm hit W3, after +{cfg.fill_more} functions"))
    if cfg.fill_big > cfg.fill_more + 1:
        levels.append((cfg.fill_big, "warm_big", f"warm hit W3, cache holding {cfg.fill_big} functions"))

    d, _, env, bad = _prepare(cfg, "fncache")
    if bad is not None:
        r.cells["fncache"] = rw.cells["fncache"] = bad
        for _total, key, label in levels:
            rows.append(Row("warm", key, label, cells={"fncache": bad}))
        return rows
    _progress(f"fncache warm hit x{trials} (1 function cached)")
    r.cells["fncache"], rw.cells["fncache"], _ = _repeat_fresh(code_fc, env, trials, cfg.child_timeout)
    _note_compiles(r)

    have = 1
    for total, key, label in levels:
        row = Row("warm", key, label)
        rows.append(row)
        _progress(f"filling fncache cache to {total} functions")
        code = FILL_CODE.replace("@A@", str(have - 1)).replace("@B@", str(total - 1))
        res = run_fresh(child_code(code), env, timeout=max(cfg.child_timeout, 10 * (total - have)))
        bad = res.cell_or_none()
        if bad is not None:
            row.cells["fncache"] = bad
            break
        have = total
        info = res.data.get("info") or {}
        _progress(f"fncache warm hit x{trials} ({total} functions cached)")
        row.cells["fncache"], _, _ = _repeat_fresh(code_fc, env, trials, cfg.child_timeout)
        if row.cells["fncache"].status == "ok":
            row.cells["fncache"].extra["cache_info"] = info
        _note_compiles(row)
        if info.get("entries") is not None:
            row.note = (row.note + "; " if row.note else "") + f"cache entries={info['entries']}"
    by_key = {x.key: x for x in rows}
    base = r.value("fncache")
    for key, ref_key, what in (
        ("warm_more", "warm_hit", "1 function cached"),
        ("warm_big", "warm_10", "10 functions cached"),
    ):
        a, b = by_key.get(key), by_key.get(ref_key)
        if a and b and a.value("fncache") and b.value("fncache"):
            ratio = a.value("fncache") / b.value("fncache")
            a.note = f"{ratio:.2f}x the hit with {what}" + ("; " + a.note if a.note else "")
    if base and r.value("pytensor"):
        r.note = f"pytensor warm / fncache warm = {r.value('pytensor') / base:.1f}x"
    return rows


def _note_compiles(row):
    c = row.cells.get("fncache")
    if c is None or c.status != "ok":
        return
    comp = c.extra.get("compiles_during")
    if comp and any(x for x in comp if x):
        row.note = (
            row.note + "; " if row.note else ""
        ) + f"WARNING: fncache compiled during the 'hit' ({comp})"


# ---- unpickling ----------------------------------------------------------------------------

UNPICKLE_CODE = {
    impl: IMPORTS[impl]
    + (
        "import pickle\n"
        "args = W.w3_inputs(); ref = W.w3_ref(*args)\n"
        "with open(@PATH@, 'rb') as fh:\n"
        "    payload = fh.read()\n"
        "info0 = _info()\n"
        "t0 = _time.perf_counter()\n"
        "f = pickle.loads(payload)\n"
        "t1 = _time.perf_counter()\n"
        "r = f(*args)\n"
        "t2 = _time.perf_counter()\n"
        "err = W.check(r, ref)\n"
        "_report(seconds=t1 - t0, seconds_call=t2 - t0, size=len(payload), max_rel_err=err,\n"
        "        info_before=info0, info_after=_info())\n"
    )
    for impl in ("fncache", "pytensor")
}


def run_pickle(cfg):
    r = Row("pickle", "unpickle", "unpickle W3, fresh process, warm cache: loads")
    rc = Row("pickle", "unpickle_call", "unpickle W3 + first call")
    rs = Row("pickle", "pickle_size", "pickle size of W3's function", unit="bytes")
    for impl in ("fncache", "pytensor"):
        d, pkl, env, bad = _prepare(cfg, impl)
        if bad is None and not os.path.exists(pkl):
            bad = Cell.na("pickle file not written")
        if bad is not None:
            r.cells[impl] = rc.cells[impl] = rs.cells[impl] = bad
            continue
        _progress(f"unpickle {impl} x{cfg.warm_trials}")
        code = child_code(UNPICKLE_CODE[impl].replace("@PATH@", repr(pkl)))
        loads, calls, bad = [], [], None
        for _ in range(cfg.warm_trials):
            res = run_fresh(code, env, timeout=cfg.child_timeout)
            bad = res.cell_or_none()
            if bad is not None:
                break
            loads.append(res.data["seconds"])
            calls.append(res.data["seconds_call"])
            comp = _compiles_during(res.data)
        if bad is not None:
            r.cells[impl] = rc.cells[impl] = rs.cells[impl] = bad
            continue
        r.cells[impl] = Cell.ok(min(loads), statistics.median(loads), all=loads)
        rc.cells[impl] = Cell.ok(min(calls), statistics.median(calls), all=calls)
        if impl == "fncache" and comp:
            r.note = f"WARNING: fncache compiled {comp} module(s) while unpickling"
        size = os.path.getsize(pkl)
        rs.cells[impl] = Cell.ok(size, size)
    return [r, rc, rs]
