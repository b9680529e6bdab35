"""Linker ``"c"``: render the optimized graph (kernels + program), get the kernel library from
the compiledir or compile it (one gcc call), load it and build the run-time's runner."""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import logging
import os
import platform
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..toolchain.compiler import compile_flags, user_cxxflags
from ..cache.entry import Entry, write_all
from ..config import config
from ..errors import CacheError, CompileError
from ..fs.workdirs import WorkDir, dead_process_dirs, new_private_dir
from ..graph.basic import Apply, node_performer, own_storage, undeclared_outputs
from ..graph.fgraph import FunctionGraph
from .c_module import KernelLibrary, library_parts, render_module

__all__ = [
    "build_c_runner",
    "load_library",
    "load_module",
    "EXTRA_FLAGS",
    "module_key_for",
    "compile_module",
    "runner_for",
    "EarlyLibrary",
    "early_library",
    "remember_source",
]

log = logging.getLogger(__name__)

#: Flags every kernel library needs: `omp simd` loops and simd math declarations (no OpenMP
#: run-time: threads are started by the installed run-time), defined integer overflow, and
#: hidden symbols except the kernels (FC_EXPORT).
EXTRA_FLAGS = [
    "-pipe",
    "-fopenmp-simd",
    "-fwrapv",
    "-fno-math-errno",
    "-fvisibility=hidden",
    "-Wno-unused-variable",
    "-Wno-unused-label",
    "-Wno-unused-function",
]
LIBS = ["-lmvec", "-lm"] if platform.system() == "Linux" and platform.machine() == "x86_64" else ["-lm"]

#: The run-time's sources, its program layout's Python half included; the build records their
#: hash (setup.py does the same sum).
RUNTIME_SOURCES = ("c_runtime.h", "c_runtime.c", "c_steps.c", "c_random.c", "c_program.py")
_REINSTALL = (
    "it is compiled when fncache is installed; reinstall with `pip install .` (or "
    "`pip install -e .` in a source checkout), with a C compiler available"
)

_loaded: dict[str, Any] = {}


def runtime_source_hash(folder: Path) -> str | None:
    """sha256 (16 hex digits) of the run-time's sources in ``folder``; None if any is missing."""
    h = hashlib.sha256()
    try:
        for name in RUNTIME_SOURCES:
            h.update((folder / name).read_bytes())
    except OSError:
        return None
    return h.hexdigest()[:16]


#: The wait policy the run-time's OpenMP threads get unless the user sets one (OMP_WAIT_POLICY
#: or GOMP_SPINCOUNT). libgomp's default spins each thread that finishes a loop (300000 pauses,
#: milliseconds) before it sleeps: between two calls that keeps a core busy that numpy's BLAS
#: threads and the caller need, and on a loaded machine a thread spinning for a thread that is
#: not running waits out whole time slices (a 100000-row `dot` then `sum` took 8 ms instead of
#: 0.2 ms on 2 busy cores). Passive threads sleep at once; waking one costs tens of
#: microseconds, which the loop-size thresholds of the run-time (c_runtime.h) account for.
WAIT_POLICY = "passive"


def _import_runtime() -> Any:
    """Import the compiled run-time, its libgomp reading the wait policy (WAIT_POLICY) from the
    environment as it loads; the environment is then restored, so child processes and other
    libraries see the user's. Without effect when libgomp was loaded before (by another module):
    it read its settings then."""
    mine = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
    if mine:
        os.environ["OMP_WAIT_POLICY"] = WAIT_POLICY
    try:
        from . import _c_runtime
    finally:
        if mine:
            os.environ.pop("OMP_WAIT_POLICY", None)
    return _c_runtime


def runtime() -> Any:
    """fncache's compiled run-time (built when fncache is installed), checked against its
    sources: a checkout edited but not rebuilt would otherwise run kernels the old way."""
    global _runtime
    if _runtime is not None:
        return _runtime
    try:
        _c_runtime = _import_runtime()
    except ImportError as e:
        raise ImportError(
            f"fncache's compiled run-time (fncache.codegen._c_runtime) is not built: {e}; {_REINSTALL}"
        ) from e
    from ..toolchain.fingerprint import remembered

    # the sources are compiler code: their hash is remembered with the compiler's fingerprint
    # (computed again when one of them changed), not read and hashed in every process
    want = remembered("runtime_sources", lambda: runtime_source_hash(Path(__file__).parent))
    if want is not None and getattr(_c_runtime, "SOURCE", None) != want:
        raise ImportError(
            f"fncache's compiled run-time at {_c_runtime.__file__} was built from "
            f"other sources (source {getattr(_c_runtime, 'SOURCE', None)}, the "
            f"sources here are {want}); {_REINSTALL}"
        )
    _runtime = _c_runtime
    return _runtime


_runtime: Any = None


def module_key_for(source: str | None = None, *, sha256: str | None = None) -> Any:
    """The key of the kernel library rendered as ``source`` on this host, or of the source whose
    ``keys.source_sha256`` is ``sha256`` (the same key)."""
    from ..cache.keys import kernel_library_key

    return kernel_library_key(source, sha256=sha256, extra_flags=EXTRA_FLAGS + LIBS)


def compile_module(
    mod: KernelLibrary,
    key: Any,
    render: Callable[[], str] | None = None,
    early: EarlyLibrary | None = None,
) -> Entry:
    """The verified cache entry of ``mod``'s kernel library: from the cache, or compiled once
    (other processes wanting the same key wait for this one).

    A ``mod`` rendered without its source (a key from a recorded hash) comes with ``render``,
    which gives the source only if the library has to be built; a source whose hash is not the
    key's is refused (:class:`RecordMismatch`), never built under that key. ``early``: the
    compiler already running on the source (:class:`EarlyLibrary`), whose output a build takes
    instead of compiling again."""
    from ..toolchain.cpu import check_features, entry_missing_features
    from ..cache import cache
    from ..cache.keys import source_sha256

    name = library_name(key)

    def build(staging: Path) -> dict:
        source = mod.source
        if source is None:  # keyed by a recorded hash: the source must be the one recorded
            source = early.source if early is not None else render()  # type: ignore[misc]
            if source_sha256(source) != key.components["source_sha256"]:
                raise RecordMismatch(
                    f"kernel library {key.digest[:16]} ({name}): the source rendered now is not the "
                    "one its function entry records; not building it under that key"
                )
        t0 = time.perf_counter()
        try:
            isa: frozenset[str] | None = library_isa()
        except CompileError:
            isa = None  # flags the compiler rejects: its own run below reports them in full
        if isa is not None:
            # Flags this CPU cannot run (e.g. -mavx512f in config.cxxflags) make a library
            # that would end the process with SIGILL: refuse before compiling (or loading).
            check_features(isa, f"a kernel library built with {' '.join(compile_flags())!r}")
        so = None
        if early is not None and early.serves(source, name):
            try:
                t0, so = early.started, early.into(staging)
            except CompileError as e:  # e.g. a full temp dir: the call in staging says for sure
                log.debug("fncache: the early compile of %s failed (%s); compiling again", name, e)
        if so is None:
            so = _compile_library(source, staging, name).wait()
        if isa is None:
            isa = library_isa()
            check_features(isa, f"a kernel library built with {' '.join(compile_flags())!r}")
        return {
            "compile_seconds": time.perf_counter() - t0,
            "module": name,
            "library": so.name,
            "source": f"{name}.c",
            "isa": sorted(isa),
        }

    entry = cache.get_or_build(key, build)
    missing = entry_missing_features(entry.meta)
    if missing:  # lookups refuse such entries; this guards the one just built or fetched
        raise CompileError(
            f"kernel library {entry.path} needs CPU features this CPU lacks "
            f"({', '.join(missing)}); it is not loaded"
        )
    if config.cache_verify_hits:
        _verify(entry, mod, build)
    return entry


def library_name(key: Any) -> str:
    """The name of the kernel library of ``key`` (its files, its entry's ``module``)."""
    return "fc_" + key.digest[:24]


def _compile_library(source: str, out_dir: Path, name: str) -> Any:
    """The compiler calls building a kernel library from ``source`` in ``out_dir``, started (one
    per part of a source in parts: :func:`c_module.library_parts`)."""
    from ..toolchain.compiler import start_shared_object

    return start_shared_object(
        source,
        out_dir,
        name,
        extra_flags=EXTRA_FLAGS,
        libs=LIBS,
        python_ext=False,
        parts=library_parts(source),
    )


class EarlyLibrary:
    """A kernel library's compiler call started before the library is asked for, in a private
    temporary directory: it runs while this process does other work (the inner functions of a
    loop, a lazy ifelse or a `JacobianRows` node are compiled meanwhile, their own compiler
    calls running beside this one). The build of the library's cache entry, under its lock, takes the output
    (:meth:`into`) if the source is the one the entry is keyed by; whatever is not taken
    (another process published the library meanwhile, an error) :meth:`close` stops and removes."""

    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.name = name
        self._work = WorkDir()  # removed by a later process if this one is killed
        self._dir = self._work.path
        self._job: Any = None
        with _early_lock:
            _early_running.setdefault(name, self)
        try:
            self._job = _compile_library(source, self._dir, name)
        except BaseException:
            self.close()
            raise
        self.started: float = self._job.started

    def serves(self, source: str, name: str) -> bool:
        """Whether this call compiles ``source`` as ``name`` and its output is still to take."""
        return self._job is not None and name == self.name and source == self.source

    def into(self, staging: Path) -> Path:
        """Wait for the compiler (:class:`CompileError` if it failed) and copy what it wrote,
        the source and the library, into ``staging``; the library's path there. Once."""
        job, self._job = self._job, None
        built = job.wait()
        for path in (self._dir / f"{self.name}.c", built):
            shutil.copyfile(path, staging / path.name)
        return staging / built.name

    def close(self) -> None:
        with _early_lock:
            if _early_running.get(self.name) is self:
                del _early_running[self.name]
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self._work.close()

    def __enter__(self) -> "EarlyLibrary":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


#: The early compiles of this process not yet closed, by library name: two functions of one
#: compile whose libraries are the same (a lazy ifelse's branches computing the same on
#: different inputs) start one compiler call, and the second takes the entry the first builds.
_early_running: dict[str, EarlyLibrary] = {}
_early_lock = threading.Lock()


def _needs_early(key: Any) -> bool:
    """Whether a compiler call on the library of ``key`` is worth starting: the compiledir
    lacks it and no early compile of this process builds it already."""
    from ..cache import cache

    with _early_lock:
        if library_name(key) in _early_running:
            return False
    return not cache.has(key)


#: Kernel sources this process rendered to record their hash in a function entry, by that hash
#: (``keys.source_sha256``), so that building the library right after renders nothing again.
#: Content-addressed (a hash names one text), consumed by the build, a few at most.
_remembered: dict[str, str] = {}
_remembered_lock = threading.Lock()  # functions may be compiled from several threads at once
_REMEMBERED_MAX = 8


def early_library(sha256: str) -> EarlyLibrary | None:
    """The compiler started on the kernel library of the source :func:`remember_source` keeps
    under ``sha256`` (handed over: no longer kept), so that it runs while the function entry is
    published and the program rendered; None when no such source is kept, the compiledir has
    the library or an early compile of this process builds it. The caller closes it."""
    source = _take_remembered(sha256)
    key = module_key_for(sha256=sha256)
    if source is None or not _needs_early(key):
        return None
    return EarlyLibrary(source, library_name(key))


def _take_remembered(sha256: str) -> str | None:
    """The source :func:`remember_source` keeps under ``sha256``, handed over (no longer kept)."""
    with _remembered_lock:
        return _remembered.pop(sha256, None)


def remember_source(source: str) -> str:
    """``keys.source_sha256`` of ``source``, whose text the next build of that hash's library
    in this process takes instead of rendering the graph again."""
    from ..cache.keys import source_sha256

    sha = source_sha256(source)
    with _remembered_lock:
        _remembered[sha] = source
        while len(_remembered) > _REMEMBERED_MAX:
            del _remembered[next(iter(_remembered))]
    return sha


class RecordMismatch(CompileError):
    """A function entry's recorded kernel-source hash is not the hash of the source rendered
    now: the library is looked up by the source itself instead."""


def _verify(entry: Any, mod: KernelLibrary, build: Callable[[Path], dict]) -> None:
    """``cache_verify_hits``: the entry's source and library must be what building anew gives
    (gcc without debug information writes the same bytes for the same source and flags)."""
    from ..cache.hitcheck import check_hit

    with WorkDir() as work:
        rebuilt = build(work.path)
        library = (work.path / rebuilt["library"]).read_bytes()
    check_hit(
        entry.key,
        entry.meta,
        {
            "source": (entry.read_bytes(entry.meta["source"]), mod.source),
            "library": (entry.read_bytes(entry.meta["library"]), library),
        },
    )


def library_isa() -> frozenset[str]:
    """The CPU features a kernel library built now may use (what the compiler's flags select).

    With detected flags and no target flag in the user's (``cxxflags``, ``gcc__cxxflags``) that
    is what the host's detection recorded (the compiler was asked then): no compiler run on the
    compile path."""
    from ..toolchain.cpu import isa_of
    from ..toolchain.march import cxx_command, host_isa

    if config.march.strip() == "auto" and not any(t.startswith("-m") for t in user_cxxflags()):
        return host_isa()
    return isa_of(cxx_command(), compile_flags())


def load_library(data: bytes, name: str, sha256: str) -> Any:
    """dlopen a kernel library from ``data``, bytes already checked against ``sha256`` (once per
    process and content).

    The bytes are copied into a private, sealed memory file and loaded from there, so what runs
    is exactly what was verified: nobody can swap a file between the check and the load.
    OSError (naming ``name``) if it cannot be loaded.
    """
    lib = _loaded.get(sha256)
    if lib is None:
        lib = _loaded[sha256] = _load_bytes(data, name)
    return lib


def _load_bytes(data: bytes, name: str) -> Any:
    if not hasattr(os, "memfd_create"):  # no memory files here: a file in a private directory

        def write(path: str) -> None:
            with open(path, "xb") as f:
                f.write(data)

        path = _made_in_load_dir(name, write)
        try:
            return runtime().load(path)
        finally:
            _unlink_quietly(path)
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        write_all(fd, data)
        fcntl.fcntl(
            fd,
            fcntl.F_ADD_SEALS,
            fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL,
        )
        # The dynamic loader knows a library by the name it was opened with, and would answer
        # a later library opened as /proc/self/fd/N (a reused number) with this one: each is
        # opened by a name never used before in this process, a link to the memory file in a
        # directory only this user can write. Once loaded, the mapping keeps the memory file;
        # the descriptor and the link go (a descriptor per library would reach the usual limit
        # of 1024 open files in a process that loads many).
        link = _made_in_load_dir(name, lambda path: os.symlink(f"/proc/self/fd/{fd}", path))
        try:
            return runtime().load(link)
        finally:
            _unlink_quietly(link)
    except OSError as e:
        raise OSError(e.errno, f"cannot load kernel library {name}: {e}") from None
    finally:
        os.close(fd)


#: (pid of the process that made it, path) of the directory libraries are loaded through; a
#: forked child uses its parent's while it is there and makes its own once it is gone.
_load_dir: tuple[int, str] | None = None
_load_count = 0
_load_lock = threading.Lock()
_exit_hook = False  # registered once; a forked child inherits the registration


def _made_in_load_dir(name: str, make: Callable[[str], None]) -> str:
    """``make(path)`` at a path for ``name`` that this process has never loaded a library from,
    in its load directory; the path. The directory may go between its check and ``make`` (a
    /tmp cleaner, or another process's sweep taking it for a dead one's): then once more in a
    new one."""
    path = _new_load_path(name)
    try:
        make(path)
    except FileNotFoundError:
        path = _new_load_path(name, fresh=True)
        make(path)
    return path


def _new_load_path(name: str, fresh: bool = False) -> str:
    """A path for ``name`` that this process has never loaded a library from, in a directory
    only this user can write. One directory per process, made at its first load and removed at
    its exit (empty: each link goes right after its load): a directory per load would cost a
    mkdir and an rmdir, 0.2 ms on an ext4 /tmp, on every warm hit's libraries. ``fresh``: make
    a new directory (the current one went since it was checked)."""
    global _load_dir, _load_count, _exit_hook
    with _load_lock:
        _load_count += 1
        count = _load_count
        if fresh or _load_dir is None or not os.path.isdir(_load_dir[1]):
            _load_dir = (os.getpid(), _private_dir())
            if not _exit_hook:
                atexit.register(_remove_load_dir)
                _exit_hook = True
        return os.path.join(_load_dir[1], f"{os.getpid()}-{count}-{name}")


def _after_fork_in_child() -> None:
    global _load_lock
    _load_lock = threading.Lock()  # another thread of the parent may have held it


os.register_at_fork(after_in_child=_after_fork_in_child)


def _remove_load_dir() -> None:
    """At exit: the process's load directory, if this process made it (a forked child that
    used its parent's leaves it to the parent), and the user's directory that holds them once
    no other process has one there."""
    if _load_dir is not None and _load_dir[0] == os.getpid():
        for d in (_load_dir[1], os.path.dirname(_load_dir[1])):
            try:
                os.rmdir(d)
            except OSError:
                return


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _private_dir() -> str:
    """A new directory only this user can write, for this process: ``<pid>-<random>`` inside
    the user's ``fncache-load-<uid>`` under $TMPDIR or /tmp, made by a mkdir that fails where
    the name exists (never one somebody else made). A process killed outright (``kill -9``, the
    out-of-memory killer, a scheduler's time limit) leaves its directory behind: each new one
    removes those of processes that are gone, so a cluster node's /tmp does not fill with them.
    Written here rather than with ``tempfile``, whose import (with ``random``) would cost every
    fresh process a millisecond on its first cache hit."""
    base = os.environ.get("TMPDIR") or "/tmp"
    parent, d = new_private_dir(base, "fncache-load")
    if parent != base:
        _sweep_dead_load_dirs(parent)
    return d


def _sweep_dead_load_dirs(parent: str) -> None:
    """Remove the empty load directories in ``parent`` whose process no longer runs. Only
    empty ones: a link left inside marks a load that was under way, and rmdir leaves those. A
    process of another pid namespace may look gone; its directory is empty between loads, and
    its next load makes a new one (``_made_in_load_dir``)."""
    for path in dead_process_dirs(parent):
        try:
            os.rmdir(path)
        except OSError:
            pass


def load_module(
    mod: KernelLibrary, key: Any, render: Callable[[], str] | None = None, early: EarlyLibrary | None = None
) -> Any:
    """The loaded kernel library of ``mod``, from the verified bytes of its cache entry.

    A library that verifies but does not load is damage like any other: its entry is set aside
    and rebuilt once; :class:`CacheError` names the entry if the rebuilt one fails too.
    """
    from ..cache import cache

    for attempt in (1, 2):
        entry = compile_module(mod, key, render, early)
        try:
            name = entry.meta["library"]
            return load_library(entry.read_bytes(name), name, entry.meta["files"][name]["sha256"])
        except (OSError, KeyError, TypeError, CacheError) as e:
            why = f"its kernel library does not load: {e}"
            if attempt == 2:
                raise CacheError(f"cache entry {entry.path}: {why}") from None
            cache.set_aside(entry, why)
    raise AssertionError("unreachable")


def _performer(node: Apply, checked: bool = True) -> Callable[..., Any]:
    op = node.op
    # An op may give its node a callable of the inputs itself (JacobianRows: the run-time's
    # row loop), which the run-time then calls with no Python frame in between.
    own = getattr(op, "performer", None)
    if own is not None:
        return own(node)

    run = node_performer(node, checked)
    own = undeclared_outputs(node)

    def perform(*inputs: Any) -> list:
        return own_storage(run(list(inputs)), inputs, own) if own else run(list(inputs))

    return perform


class CRunner:
    """Holds the native runner and what is needed to explain its errors."""

    __slots__ = ("native", "nodes")

    def __init__(self, native: Any, nodes: list[Apply]) -> None:
        self.native = native
        self.nodes = nodes

    def failed_node(self) -> Apply | None:
        k = self.native.failed_node
        return self.nodes[k] if 0 <= k < len(self.nodes) else None

    def time_nodes(self) -> Callable[[], list[tuple[Apply, float, int]]]:
        """Time each step (one per node) of the calls that follow, in the run-time; returns
        what reads (node, seconds, runs) per node, in the order they run."""
        self.native.time_steps(True)
        native, nodes = self.native, self.nodes
        return lambda: [(n, t, runs) for n, (t, runs) in zip(nodes, native.step_times())]


def build_c_runner(
    fgraph: FunctionGraph,
    name: str,
    *,
    n_explicit: int,
    single: bool,
    converter: Callable[[int, Any], Any],
    on_error: Callable[[Any], Any],
    on_kwargs: Callable[..., Any],
    source_sha256: str | None = None,
    meanwhile: Callable[[], None] | None = None,
    early: EarlyLibrary | None = None,
    checked: bool = True,
) -> CRunner:
    """The native runner; ``on_error(exc)`` returns the exception to raise (it adds the failing
    node), ``on_kwargs(*args, **kw)`` handles calls that name their inputs or give a wrong count.

    ``source_sha256``, what the function entry records of the graph's kernel library, spares a
    warm hit rendering the library's source: the program alone is rendered, and the library's
    key made from the hash (the same key). The source is rendered only if the library must be
    built (or taken as this process rendered it for the record: :func:`remember_source`), and
    built only if its hash is the recorded one. ``cache_verify_hits`` ignores it.

    ``meanwhile``, other work the function needs (compiling its inner functions), is done once,
    while the compiler builds the library if the compiledir lacks it. ``early``: the library's
    compiler call already started (:func:`early_library`; the caller closes it). ``checked``:
    False leaves the values of the user's ops' performs as they give them (``fc.DebugMode``
    checks them)."""

    def render() -> str:
        known = _take_remembered(source_sha256) if source_sha256 is not None else None
        if known is not None:
            return known
        return render_module(fgraph, n_explicit=n_explicit, single=single).source or ""

    if source_sha256 is not None and not config.cache_verify_hits:
        mod = render_module(fgraph, n_explicit=n_explicit, single=single, source=False)
        try:
            key = module_key_for(sha256=source_sha256) if mod.has_kernels else None
            lib = _load_alongside(mod, key, render, meanwhile, early)
            return runner_for(
                lib, mod, converter=converter, on_error=on_error, on_kwargs=on_kwargs, checked=checked
            )
        except RecordMismatch as e:
            log.warning("fncache: %s; rendering it", e)
            meanwhile = None  # done: a mismatch is found when the library is built, after it
    mod = render_module(fgraph, n_explicit=n_explicit, single=single)
    key = module_key_for(mod.source) if mod.source else None
    lib = _load_alongside(mod, key, render, meanwhile, early)
    return runner_for(lib, mod, converter=converter, on_error=on_error, on_kwargs=on_kwargs, checked=checked)


def _load_alongside(
    mod: KernelLibrary,
    key: Any,
    render: Callable[[], str],
    meanwhile: Callable[[], None] | None,
    early: EarlyLibrary | None,
) -> Any:
    """:func:`load_module` of ``mod`` under ``key`` (None: no kernels, no library), with
    ``meanwhile()`` done first: while the library's compiler runs if it has to be built.
    ``early``: that compiler call, started by the caller (who closes it)."""
    if key is None:
        if meanwhile is not None:
            meanwhile()
        return None
    if early is None and meanwhile is not None:
        if _needs_early(key):
            source = mod.source if mod.source is not None else render()
            with EarlyLibrary(source, library_name(key)) as own:
                meanwhile()
                return load_module(mod, key, render, own)
    if meanwhile is not None:
        meanwhile()
    return load_module(mod, key, render, early)


def runner_for(
    lib: Any,
    mod: KernelLibrary,
    *,
    converter: Callable[[int, Any], Any],
    on_error: Callable[[Any], Any],
    on_kwargs: Callable[..., Any],
    checked: bool = True,
) -> CRunner:
    """A runner of ``mod``'s program on kernel library ``lib`` (None when it has no kernels),
    loaded from the compiledir or embedded in a pickle; ``checked`` as :func:`build_c_runner`'s."""
    native = runtime().Runner(
        lib,
        mod.program,
        converter,
        tuple(_performer(n, checked) for n in mod.fallbacks),
        tuple(mod.constants),
        bool(config.allow_gc),
        config.loop_threads(),
        on_error,
        on_kwargs,
    )
    return CRunner(native, mod.node_of)
