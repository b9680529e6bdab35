"""The C backend's split: plain-C kernel libraries run by fncache's installed run-time.

A graph's kernels are compiled without Python or numpy headers (that is what makes a cold
compile one short gcc call); everything else (checks, allocation, threads, BLAS, views, Python
ops) is the run-time's, so a graph without loops needs no compiler at all. The run-time must
refuse a malformed program with an error, never crash.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_linker, c_program
from fncache.codegen.c_module import render_module


def _libraries(compiledir: Path) -> list[Path]:
    return sorted(compiledir.rglob("fc_*.so"))


def test_kernel_library_is_plain_c(tmp_path: Path) -> None:
    x, y, z = (ft.vector(n) for n in "xyz")
    with fc.config.change_flags(compiledir=str(tmp_path / "cd")):
        f = fc.function([x, y, z], ft.exp(x) * y + ft.sin(z) / (1 + x * x))
        a = np.random.default_rng(0).random((3, 1000))
        np.testing.assert_allclose(f(*a), np.exp(a[0]) * a[1] + np.sin(a[2]) / (1 + a[0] ** 2), rtol=1e-12)
    libs = _libraries(tmp_path / "cd")
    assert len(libs) == 1, libs
    source = libs[0].with_suffix(".c").read_text()
    assert "#include <Python.h>" not in source and "#include <numpy/" not in source
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("binutils' nm is not installed")
    undefined = subprocess.run(
        [nm, "-D", "--undefined-only", str(libs[0])], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [s for s in undefined if s.startswith(("Py", "_Py"))], undefined
    exported = subprocess.run(
        [nm, "-D", "--defined-only", str(libs[0])], capture_output=True, text=True, check=True
    ).stdout
    assert "fc_k0_flat" in exported and "fc_k0_rows" in exported
    assert "fc_floordiv_int8" not in exported  # helpers stay hidden


def test_graph_without_kernels_needs_no_compiler(tmp_path: Path) -> None:
    X, w = ft.matrix("X"), ft.vector("w")
    with fc.config.change_flags(compiledir=str(tmp_path / "cd"), cxx="/nonexistent/gcc"):
        f = fc.function([X, w], [ft.dot(X, w).dimshuffle("x", 0), ft.argmax(X, axis=1)])
        Xv = np.arange(6.0).reshape(3, 2)
        got, idx = f(Xv, np.array([1.0, -1.0]))
    np.testing.assert_array_equal(got, (Xv @ np.array([1.0, -1.0]))[None, :])
    np.testing.assert_array_equal(idx, np.argmax(Xv, axis=1))
    assert _libraries(tmp_path / "cd") == []


def _kernel_module(tmp_path: Path):
    x = ft.vector("x")
    fg = fc.function([x], ft.exp(x) + 1).optimized_graph
    mod = render_module(fg, n_explicit=1, single=True)
    with fc.config.change_flags(compiledir=str(tmp_path / "cd")):
        lib = c_linker.load_module(mod, c_linker.module_key_for(mod.source))
    return mod, lib


def _runner(lib, program, consts=()):
    return c_linker.runtime().Runner(
        lib, program, lambda i, v: np.asarray(v), (), tuple(consts), True, 1, None, None
    )


def test_runner_runs_a_program(tmp_path: Path) -> None:
    mod, lib = _kernel_module(tmp_path)
    r = _runner(lib, mod.program, mod.constants)
    v = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(r(v), np.exp(v) + 1, rtol=1e-12)


@pytest.mark.parametrize(
    "damage, error, words",
    [
        (
            lambda p: (p[0], p[1], p[2], p[3], ((p[4][0][0], (999,)) + p[4][0][2:],), *p[5:]),
            ValueError,
            "slot out of range",
        ),
        (
            lambda p: (
                p[0],
                p[1],
                p[2],
                p[3],
                (p[4][0][:5] + (("fc_no_such_kernel",),) + p[4][0][6:],),
                *p[5:],
            ),
            ValueError,
            "fc_no_such_kernel",
        ),
        (lambda p: (p[0], p[1], p[2], p[3], ((0,),), *p[5:]), TypeError, "bad step"),
        (lambda p: (p[0], p[1], p[2], (*p[3], 1), *p[4:]), ValueError, "constants"),
        (lambda p: (p[0], p[1], p[2], p[3], p[4], (999,), *p[6:]), ValueError, "output slot"),
    ],
)
def test_malformed_program_is_an_error(tmp_path: Path, damage, error, words) -> None:
    mod, lib = _kernel_module(tmp_path)
    with pytest.raises(error, match=words):
        _runner(lib, damage(mod.program), mod.constants)


def test_kernels_need_their_library(tmp_path: Path) -> None:
    mod, lib = _kernel_module(tmp_path)
    with pytest.raises(ValueError, match="needs a library"):
        _runner(None, mod.program, mod.constants)
    with pytest.raises(TypeError, match="Library"):
        _runner("not a library", mod.program, mod.constants)


def test_unloadable_library_is_an_oserror(tmp_path: Path) -> None:
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"not an ELF file")
    with pytest.raises(OSError, match="bad.so"):
        c_linker.runtime().load(str(bad))


def test_python_op_may_call_its_own_function_again() -> None:
    """A Python op of a graph that calls the same compiled function (re-entrance) gets its own
    scratch space: the outer call's intermediates are not overwritten."""
    x = ft.dvector("x")
    holder: dict = {}

    def inner(a: np.ndarray) -> np.ndarray:
        if a[0] > 0:
            return holder["f"](a - 10.0) * 0 + a  # the nested call must not disturb this one
        return a

    op = ft.as_op([ft.dvector().type], [ft.dvector().type])(inner)
    f = fc.function([x], op(ft.exp(x) - 1) * 2 + x)
    holder["f"] = f
    v = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(f(v), (np.exp(v) - 1) * 2 + v, rtol=1e-12)


def test_threads_share_one_function() -> None:
    """numpy's BLAS releases the GIL inside the runner: other Python threads then enter the same
    runner, and every call must still get its own intermediates."""
    import threading

    X, w, b = ft.matrix("X"), ft.vector("w"), ft.scalar("b")
    f = fc.function([X, w, b], ft.sum(ft.tanh(ft.dot(X, w) + b) ** 2))
    rng = np.random.default_rng(1)
    cases = [(rng.random((200, 50)), rng.random(50), float(k)) for k in range(4)]
    want = [np.sum(np.tanh(Xv @ wv + bv) ** 2) for Xv, wv, bv in cases]
    errors: list[str] = []

    def worker(k: int) -> None:
        for _ in range(300):
            got = f(*cases[k])
            if not np.isclose(got, want[k], rtol=1e-12):
                errors.append(f"thread {k}: {got} != {want[k]}")
                return

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_large_loops_release_the_gil() -> None:
    """While a large kernel runs, other Python threads run too (as during numpy's loops).

    The switch interval is raised so the calling thread never gives up the GIL on its own: the
    watcher can only see the caller inside a call if the runner released it."""
    import sys
    import threading

    x = ft.dvector("x")
    f = fc.function([x], ft.sum(ft.exp(x) * ft.sin(x)))
    v = np.random.default_rng(2).random(2_000_000)
    f(v)
    state = {"in_call": False, "seen": 0, "done": False}
    wake = threading.Event()

    def watcher() -> None:
        while not state["done"]:
            wake.wait(0.0005)
            if state["in_call"]:
                state["seen"] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    t = threading.Thread(target=watcher)
    t.start()
    try:
        for _ in range(20):
            state["in_call"] = True
            f(v)
            state["in_call"] = False
    finally:
        state["done"] = True
        sys.setswitchinterval(old)
        t.join()
    assert state["seen"] > 0


@pytest.mark.parametrize("threads", [1, 2])
def test_large_arrays_split_over_threads_match_numpy(threads: int) -> None:
    """Above the threading threshold (32768 elements) loops and full reductions are split over
    threads: flat, strided and broadcast inputs, partial results combined (NaN kept by max)."""
    rng = np.random.default_rng(3)
    X, y = ft.matrix("X"), ft.vector("y")
    with fc.config.change_flags(threads=threads):
        f = fc.function(
            [X, y],
            [
                ft.exp(X) * y + 1,
                ft.sum(ft.sin(X) * y),
                ft.max(X * y),
                ft.mean(X**2),
                ft.sum(X * y, axis=0),
                ft.min(X, axis=1),
            ],
        )
    Xv = rng.standard_normal((400, 300))
    yv = rng.standard_normal(300)
    for Xi, yi in [(Xv, yv), (Xv[:, ::-1], yv), (np.asfortranarray(Xv), yv[::-1].copy()), (Xv[::2, :], yv)]:
        Xn = np.where(np.arange(Xi.shape[1]) == 7, np.nan, Xi) if Xi is Xv else Xi
        got = f(Xn, yi)
        want = [
            np.exp(Xn) * yi + 1,
            np.sum(np.sin(Xn) * yi),
            np.max(Xn * yi),
            np.mean(Xn**2),
            np.sum(Xn * yi, axis=0),
            np.min(Xn, axis=1),
        ]
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)


_FORK_CHILD = """
import multiprocessing, numpy as np, fncache as fc
from fncache import tensor as ft
x = ft.dvector("x")
f = fc.function([x], ft.sum(ft.exp(x)))
v = np.random.default_rng(4).random(1_000_000)
want = f(v)                      # the parent starts its loop threads
def work(k):
    return float(f(v + k))
with multiprocessing.get_context("fork").Pool(2) as pool:
    got = pool.map(work, [0, 1, 2])
assert np.allclose(got, [want, np.sum(np.exp(v + 1)), np.sum(np.exp(v + 2))], rtol=1e-12), got
print("ok", flush=True)
"""


def test_fork_after_threaded_loops_does_not_hang(tmp_path: Path) -> None:
    """multiprocessing's fork start method after the parent ran threaded loops: the children run
    their loops (on one thread) instead of waiting forever for the parent's threads."""
    import os
    import sys

    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},threads=2"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _FORK_CHILD], env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a forked child hung in a threaded loop")
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


_WAIT_POLICY_CHILD = """
import os, numpy as np, fncache as fc
from fncache import tensor as ft
x = ft.dvector("x")
with fc.config.change_flags(threads=2):
    f = fc.function([x], ft.sum(ft.exp(x)))
f(np.zeros(1_000_000))
print(os.environ.get("OMP_WAIT_POLICY"), flush=True)
"""


@pytest.mark.parametrize("user", [None, "active"])
def test_loop_threads_sleep_between_loops_unless_the_user_sets_a_policy(
    tmp_path: Path, user: str | None
) -> None:
    """The run-time's OpenMP threads get the passive wait policy (libgomp spins no pause after
    a loop): spinning threads keep a core from numpy's BLAS threads and, on a loaded machine,
    wait out whole time slices for a thread that is not running. The environment is restored
    after libgomp read it, and a policy the user sets is kept. libgomp prints what it read with
    OMP_DISPLAY_ENV=verbose."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(OMP_DISPLAY_ENV="verbose", FNCACHE_FLAGS=f"compiledir={tmp_path / 'cd'}")
    if user:
        env["OMP_WAIT_POLICY"] = user
    done = subprocess.run(
        [sys.executable, "-c", _WAIT_POLICY_CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    spins = re.findall(r"GOMP_SPINCOUNT = '(\d+)'", done.stderr)
    if not spins:
        pytest.skip("the OpenMP run-time is not libgomp (no GOMP_SPINCOUNT shown)")
    assert (int(spins[0]) == 0) == (user is None), done.stderr
    assert done.stdout.split() == [str(user)]


def test_a_runtime_built_from_other_sources_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout whose run-time sources changed after the build (pull without reinstall) gets
    an ImportError naming the reinstall command, not kernels run by an older run-time."""
    rt = c_linker.runtime()
    assert rt.SOURCE == c_linker.runtime_source_hash(Path(c_linker.__file__).parent)
    monkeypatch.setattr(c_linker, "_runtime", None)
    monkeypatch.setattr(rt, "SOURCE", "0" * 16)
    with pytest.raises(ImportError, match="other sources.*pip install"):
        c_linker.runtime()


def test_the_runtime_sources_are_files_the_compiler_fingerprint_stamps() -> None:
    """The run-time's source hash is remembered with the compiler fingerprint, under the stamp
    of the fingerprint's files: a source outside them could change without the hash being
    computed again, and a stale run-time would then load."""
    from fncache.toolchain import fingerprint

    package = Path(c_linker.__file__).resolve().parent.parent
    stamped = {f for f, _ in fingerprint._files(str(package))}
    assert {f"codegen/{name}" for name in c_linker.RUNTIME_SOURCES} <= stamped


@pytest.mark.parametrize("n", [32768, 32768 * 3 + 17, 1_000_003])
def test_threaded_chunks_cover_every_element_once(n: int) -> None:
    """Threaded loops and full reductions are cut into chunks taken from a shared counter
    (boundaries on 64-element multiples): every element is computed once, whatever the length."""
    x = ft.dvector("x")
    with fc.config.change_flags(threads=2):
        f = fc.function([x], [x * 2 + 1, ft.sum(x), ft.max(x)])
    v = np.arange(n, dtype=np.float64)
    doubled, total, top = f(v)
    np.testing.assert_array_equal(doubled, v * 2 + 1)
    assert total == n * (n - 1) / 2 and top == n - 1


def _c_function_body(source: str, name: str) -> str:
    start = source.index(f"static int {name}(")
    return source[start : source.index("\n}\n", start)]


def test_the_program_layout_is_the_same_in_python_and_in_c() -> None:
    """c_program.py builds what c_runtime.c parses: the same step kinds, the same tuple formats,
    and the Python half is one of the sources whose hash the built run-time records."""
    folder = Path(c_linker.__file__).parent
    header = (folder / "c_runtime.h").read_text()
    enum = re.search(r"enum \{ (ST_ELEMWISE[^}]*)\}", header).group(1)
    kinds = {name: int(num) for name, num in re.findall(r"(ST_\w+) = (\d+)", enum)}
    assert kinds == c_program.STEP_KINDS
    runtime_c = (folder / "c_runtime.c").read_text()
    formats = {}
    for fn in ("parse_step", "parse_program"):
        formats[fn] = re.search(r'PyArg_ParseTuple\(\w+, "([^;"]*);', _c_function_body(runtime_c, fn)).group(
            1
        )
    assert formats == {"parse_step": c_program.STEP_FORMAT, "parse_program": c_program.PROGRAM_FORMAT}
    types = {"i": int, "p": bool, "s": str, "O!": tuple}

    def units(fmt: str) -> list[type]:
        return [types[u] for u in re.findall(r"O!|[ips]", fmt)]

    step = c_program.step(c_program.ST_DOT, [0, 1], [2], [0], [12], ["k"], "dot", "", 2, False)
    assert [type(x) for x in step] == units(c_program.STEP_FORMAT)
    prog = c_program.program(3, 0, [(12, 2, 0)], [], [step], [2], [0], True)
    assert [type(x) for x in prog] == units(c_program.PROGRAM_FORMAT)
    assert "c_program.py" in c_linker.RUNTIME_SOURCES
    setup_py = (folder.parent.parent / "setup.py").read_text()
    assert ast.literal_eval(re.search(r"for n in (\([^)]*\))", setup_py).group(1)) == c_linker.RUNTIME_SOURCES


# -- large outputs: recycled, huge-page memory ------------------------------------------------


def _handler_name(a: np.ndarray) -> str:
    from numpy._core.multiarray import get_handler_name

    return get_handler_name(a)


def _minor_faults() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="the output pool is Linux/glibc's")
def test_large_outputs_reuse_freed_memory_and_never_alias_live_ones() -> None:
    """An output of 4 MiB or more comes from the run-time's allocator: freed, its pages are kept
    mapped for the next output of that size (a fresh 80 MB output used to fault in ~600 pages,
    each zeroed by the kernel); an output still alive is never handed out again."""
    x = ft.dvector("x")
    f = fc.function([x], ft.exp(x) * 2 + 1)
    v = np.linspace(-1, 1, 5_000_000)  # 40 MB outputs: glibc maps (and unmaps) each one anew
    first = f(v)
    np.testing.assert_allclose(first, np.exp(v) * 2 + 1, rtol=1e-14)
    want = first.copy()
    assert _handler_name(first) == "fncache_large_outputs"
    assert _handler_name(f(v[:1000])) != "fncache_large_outputs"  # small: numpy's own
    second = f(v * 0.5)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, want)
    del first, second
    f(v)  # warm: the pool holds blocks of this size
    faults = 0
    for _ in range(6):
        before = _minor_faults()
        out = f(v)
        faults += _minor_faults() - before
        np.testing.assert_array_equal(out, want)
        del out
    assert faults < 100  # 6 fresh outputs: ~330 faults each with huge pages, ~9,800 without


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="the output pool is Linux/glibc's")
def test_megabyte_intermediates_keep_their_pages_mapped_between_calls() -> None:
    """A softmax of 128x1000 float64 frees two 1 MB arrays per call (its exponentials, the last
    call's result): the C library gave those 2 MB back to the kernel at the top of its heap, and
    each call faulted ~470 pages in again (85 % of its time). From the pool they stay mapped."""
    x = ft.dmatrix("x")
    e = ft.exp(x - x.max(axis=1, keepdims=True))
    f = fc.function([x], e / e.sum(axis=1, keepdims=True))
    v = np.random.default_rng(0).standard_normal((128, 1000))
    want = np.exp(v - v.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    first = f(v)
    assert _handler_name(first) == "fncache_large_outputs"
    for _ in range(3):
        f(v)
    before = _minor_faults()
    for _ in range(20):
        out = f(v)
        assert not np.shares_memory(out, first)
    faults = _minor_faults() - before
    np.testing.assert_allclose(out, want, rtol=1e-13)
    np.testing.assert_allclose(first, want, rtol=1e-13)
    assert faults < 1500, faults  # ~9,400 when the heap's top went back to the kernel


def test_large_outputs_behave_as_numpy_arrays() -> None:
    """Owned, writeable, resizable, picklable, freed by the allocator that made them."""
    import pickle

    x = ft.fvector("x")
    f = fc.function([x], x * 2)
    v = np.arange(3_000_000, dtype=np.float32)
    out = f(v)
    assert out.flags.owndata and out.flags.writeable and out.base is None
    out.resize(4_000_000, refcheck=False)  # realloc through the array's allocator
    np.testing.assert_array_equal(out[:3_000_000], v * 2)
    assert (out[3_000_000:] == 0).all()
    back = pickle.loads(pickle.dumps(out))
    np.testing.assert_array_equal(back, out)
    out.resize(10, refcheck=False)
    np.testing.assert_array_equal(out, v[:10] * 2)


@pytest.mark.parametrize("n", [1000, 32767, 32768, 65536 + 3, 1_000_003, 10_000_000])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_and_two_threads_give_the_same_bits(n: int, dtype: str) -> None:
    """Threads compute whole chunks on 64-element boundaries, so the vector and scalar parts of
    the loop fall on the same elements as on one thread: the results are bit-identical."""
    x, y, z = (ft.vector(c, dtype=dtype) for c in "xyz")
    fs = {}
    for t in (1, 2):
        with fc.config.change_flags(threads=t):
            fs[t] = fc.function([x, y, z], ft.exp(x) * y + ft.sin(z) / (1 + x * x))
    a = [np.random.default_rng(k).standard_normal(n).astype(dtype) for k in range(3)]
    np.testing.assert_array_equal(fs[1](*a), fs[2](*a))
    np.testing.assert_array_equal(fs[2](*a), fs[2](*a))


_THREAD_COUNT_CHILD = """
import os, numpy as np, fncache as fc
from fncache import tensor as ft
from fncache.tensor.signal import pool
def tasks():
    return len(os.listdir("/proc/self/task"))
x, X, w, T = ft.dvector("x"), ft.dmatrix("X"), ft.dvector("w"), ft.dtensor3("T")
f = fc.function({inputs}, {body})
def args(n):
    return {args}
start = tasks()
f(*args(200_000))            # mid-size, not measured yet: one thread, which measures it
mid = tasks()
f(*args(600_000))            # long: threads whatever it costs
print(start, mid, tasks())
"""

# The row pass of a least-squares gradient: X.T @ (2 (X @ w - 1)) over n elements of X.
_LSQ_GRAD = "fc.grad(((ft.dot(X, w) - 1) ** 2).sum(), w)"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads in /proc")
@pytest.mark.parametrize(
    "inputs,body,args",
    [
        ("[x]", "x + 1", "(np.zeros(n),)"),
        ("[x]", "ft.sum(x)", "(np.zeros(n),)"),
        ("[x]", "ft.max(x * 2)", "(np.zeros(n),)"),
        ("[X, w]", _LSQ_GRAD, "(np.ones((n // 16, 16)), np.ones(16))"),
        ("[T]", "pool.pool_2d(T, (2, 2))", "(np.zeros((n // 64, 8, 8)),)"),
    ],
    ids=["elementwise", "sum", "max", "rowpass", "pool"],
)
def test_mid_size_loops_run_on_one_thread_until_measured(
    tmp_path: Path, inputs: str, body: str, args: str
) -> None:
    """Between 32768 and 524288 elements an elementwise loop, a full reduction, a row pass or a
    pooling step (its reads and writes) tries threads only once one thread was measured taking
    >= 50 us for it (a sleeping worker takes tens of us to wake; a sum of 40000 values takes a
    few): its first call runs on the calling thread alone. A longer loop always uses the threads
    (which way later mid-size calls run: test_thread_choice.py)."""
    import os
    import sys

    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},threads=2"}
    done = subprocess.run(
        [sys.executable, "-c", _THREAD_COUNT_CHILD.format(inputs=inputs, body=body, args=args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    start, mid, end = map(int, done.stdout.split())
    assert mid == start and end == start + 1


_MEASURED_CHILD = """
import os, numpy as np, fncache as fc
from fncache import tensor as ft
X, w = ft.dmatrix("X"), ft.dvector("w")
f = fc.function([X, w], {body}, on_unused_input="ignore")
rng = np.random.default_rng(0)
args = (rng.random((4000, 125)), rng.random(125))   # 500000 elements
start = len(os.listdir("/proc/self/task"))
first = f(*args)             # not measured yet: one thread, which measures it (>= 50 us)
later = f(*args)             # threads
print(len(os.listdir("/proc/self/task")) - start, first.tobytes() == later.tobytes(), flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads in /proc")
@pytest.mark.parametrize(
    "body", ["ft.sum(ft.exp(X) * ft.sin(X))", "fc.grad((ft.sin(ft.dot(X, w)) ** 2).sum(), w)"]
)
def test_a_sum_gives_the_same_bits_on_one_thread_and_on_threads(tmp_path: Path, body: str) -> None:
    """A mid-size full reduction or row pass first runs on one thread, then (measured as long
    enough) on threads: it is cut into the same chunks either way, so the partial sums and the
    result are the same bits on every call."""
    import os
    import sys

    env = {**os.environ, "FNCACHE_FLAGS": f"compiledir={tmp_path / 'cd'},threads=2"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED_CHILD.format(body=body)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "True"]


def test_dropped_outputs_are_refilled_when_allow_gc_is_off() -> None:
    """With allow_gc off, an output the caller has dropped by the next call is refilled in
    place (the rows of a Jacobian reuse one buffer); one the caller still holds never is."""
    x = ft.dvector("x")
    with fc.config.change_flags(allow_gc=False):
        f = fc.function([x], ft.exp(x) * 2)
    v = np.arange(5.0)
    held = f(v)
    kept = held.copy()
    again = f(v + 1)
    assert not np.shares_memory(held, again)
    np.testing.assert_array_equal(held, kept)
    np.testing.assert_allclose(again, np.exp(v + 1) * 2)
    address = again.ctypes.data
    del again
    refilled = f(v)
    assert refilled.ctypes.data == address
    np.testing.assert_allclose(refilled, np.exp(v) * 2)
