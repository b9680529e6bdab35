"""Linker ``"c"``: render the optimized graph (kernels + program), get the kernel library from
the compiledir or compile it (one gcc call), load it and build the run-time's runner."""
from __future__ import annotations

import hashlib
import logging
import platform
import time
from pathlib import Path
from typing import Any, Callable

from ..build.compiler import compile_flags
from ..config import config
from ..graph.basic import Apply
from ..graph.fgraph import FunctionGraph
from .c_module import CModule, render_module

__all__ = ["build_c_runner", "load_library", "EXTRA_FLAGS", "module_key_for", "compile_module",
           "runner_for"]

log = logging.getLogger(__name__)

#: Flags every kernel library needs: `omp simd` loops and simd math declarations (no OpenMP
#: run-time: threads are started by the installed run-time), defined integer overflow, and
#: hidden symbols except the kernels (FC_EXPORT).
EXTRA_FLAGS = ["-pipe", "-fopenmp-simd", "-fwrapv", "-fno-math-errno", "-fvisibility=hidden",
               "-Wno-unused-variable", "-Wno-unused-label", "-Wno-unused-function"]
LIBS = ["-lmvec", "-lm"] if platform.system() == "Linux" and platform.machine() == "x86_64" \
    else ["-lm"]

#: The run-time's C sources; the build records their hash (setup.py does the same sum).
RUNTIME_SOURCES = ("c_runtime.h", "c_runtime.c", "c_steps.c")
_REINSTALL = ("it is compiled when fncache is installed; reinstall with `pip install .` (or "
              "`pip install -e .` in a source checkout), with a C compiler available")

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


def runtime() -> Any:
    """fncache's compiled run-time (built when fncache is installed), checked against its
    sources: a checkout edited but not rebuilt would otherwise run kernels the old way."""
    global _runtime
    if _runtime is not None:
        return _runtime
    try:
        from . import _c_runtime
    except ImportError as e:
        raise ImportError(f"fncache's compiled run-time (fncache.codegen._c_runtime) is not "
                          f"built: {e}; {_REINSTALL}") from e
    want = runtime_source_hash(Path(__file__).parent)
    if want is not None and getattr(_c_runtime, "SOURCE", None) != want:
        raise ImportError(f"fncache's compiled run-time at {_c_runtime.__file__} was built from "
                          f"other sources (source {getattr(_c_runtime, 'SOURCE', None)}, the "
                          f"sources here are {want}); {_REINSTALL}")
    _runtime = _c_runtime
    return _runtime


_runtime: Any = None


def module_key_for(source: str) -> Any:
    """The key of the kernel library rendered as ``source`` on this host."""
    from ..cache.keys import cmodule_key
    return cmodule_key(source, extra_flags=EXTRA_FLAGS + LIBS)


def compile_module(mod: CModule, key: Any) -> Path:
    """The path of the verified kernel library for ``mod``: from the cache, or compiled once
    (other processes wanting the same key wait for this one)."""
    from ..build.compiler import compile_shared_object
    from ..build.cpu import check_features, entry_missing_features
    from ..cache import cache
    from ..errors import CompileError
    name = "fc_" + key.digest[:24]

    def build(staging: Path) -> dict:
        t0 = time.perf_counter()
        try:
            isa: frozenset[str] | None = library_isa()
        except CompileError:
            isa = None  # flags the compiler rejects: its own run below reports them in full
        if isa is not None:
            # Flags this CPU cannot run (e.g. -mavx512f in config.cxxflags) make a library
            # that would end the process with SIGILL: refuse before compiling.
            check_features(isa, f"a kernel library built with {' '.join(compile_flags())!r}")
        so = compile_shared_object(mod.source, staging, name, extra_flags=EXTRA_FLAGS,
                                   libs=LIBS, python_ext=False)
        if isa is None:
            isa = library_isa()
            check_features(isa, f"a kernel library built with {' '.join(compile_flags())!r}")
        return {"compile_seconds": time.perf_counter() - t0, "module": name,
                "library": so.name, "source": f"{name}.c", "isa": sorted(isa)}

    entry = cache.get_or_build(key, build)
    missing = entry_missing_features(entry.meta)
    if missing:  # lookups refuse such entries; this guards the one just built or fetched
        raise CompileError(f"kernel library {entry.path} needs CPU features this CPU lacks "
                           f"({', '.join(missing)}); it is not loaded")
    if config.cache_verify_hits:
        _verify(entry, mod, build)
    return entry.file(entry.meta["library"])


def _verify(entry: Any, mod: CModule, build: Callable[[Path], dict]) -> None:
    """``cache_verify_hits``: the entry's source and library must be what building anew gives
    (gcc without debug information writes the same bytes for the same source and flags)."""
    import tempfile
    from ..cache.verify import check_hit
    with tempfile.TemporaryDirectory(prefix="fncache-verify-") as tmp:
        rebuilt = build(Path(tmp))
        library = (Path(tmp) / rebuilt["library"]).read_bytes()
    check_hit(entry.key, entry.meta, {"source": (entry.read_bytes(entry.meta["source"]), mod.source),
                                      "library": (entry.read_bytes(entry.meta["library"]), library)})


def library_isa() -> frozenset[str]:
    """The CPU features a kernel library built now may use (what the compiler's flags select).

    With detected flags and no target flag in ``config.cxxflags`` that is what the host's
    detection recorded (the compiler was asked then): no compiler run on the compile path."""
    from ..build.cpu import isa_of
    from ..build.march import cxx_command, host_isa
    if config.march.strip() == "auto" and not any(t.startswith("-m") for t in config.cxxflags.split()):
        return host_isa()
    return isa_of(cxx_command(), compile_flags())


def load_library(path: Path) -> Any:
    """dlopen the kernel library at ``path`` (once per process); OSError if it cannot be."""
    lib = _loaded.get(str(path))
    if lib is None:
        lib = runtime().load(str(path))
        _loaded[str(path)] = lib
    return lib


def _performer(node: Apply) -> Callable[..., Any]:
    op = node.op

    def perform(*inputs: Any) -> list:
        return op.perform(node, list(inputs))
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


def build_c_runner(fgraph: FunctionGraph, name: str, *, n_explicit: int, single: bool,
                   converter: Callable[[int, Any], Any], on_error: Callable[[Any], Any],
                   on_kwargs: Callable[..., Any]) -> CRunner:
    """The native runner; ``on_error(exc)`` returns the exception to raise (it adds the failing
    node), ``on_kwargs(*args, **kw)`` handles calls that name their inputs."""
    mod = render_module(fgraph, n_explicit=n_explicit, single=single)
    lib = None
    if mod.source:
        key = module_key_for(mod.source)
        for attempt in (1, 2):
            path = compile_module(mod, key)
            try:
                lib = load_library(path)
                break
            except OSError:
                # A concurrent `fncache purge` may remove the entry between its verification
                # and dlopen: fetch (or rebuild) it once more rather than fail the user's call.
                if attempt == 2 or path.exists():
                    raise
                log.info("fncache: kernel library %s was removed before it was loaded; "
                         "fetching it again", path.name)
    return runner_for(lib, mod, converter=converter, on_error=on_error, on_kwargs=on_kwargs)


def runner_for(lib: Any, mod: CModule, *, converter: Callable[[int, Any], Any],
               on_error: Callable[[Any], Any], on_kwargs: Callable[..., Any]) -> CRunner:
    """A runner of ``mod``'s program on kernel library ``lib`` (None when it has no kernels),
    loaded from the compiledir or embedded in a pickle."""
    native = runtime().Runner(lib, mod.program, converter,
                              tuple(_performer(n) for n in mod.fallbacks), tuple(mod.constants),
                              bool(config.allow_gc), int(config.threads), on_error, on_kwargs)
    return CRunner(native, mod.node_of)
