"""Linker ``"c"``: render the optimized graph to one C module, get it from the compiledir or
compile it (one gcc call), load it and wrap it in a runner."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import platform
import time
from pathlib import Path
from typing import Any, Callable

from ..config import config
from ..graph.basic import Apply
from ..graph.fgraph import FunctionGraph
from .c_module import CModule, prelude_text, render_module

__all__ = ["build_c_runner", "load_module", "EXTRA_FLAGS", "module_key_for", "compile_module",
           "runner_from_module"]

log = logging.getLogger(__name__)

#: Flags every generated module needs: OpenMP threads and simd math, defined integer overflow.
EXTRA_FLAGS = ["-pipe", "-fopenmp", "-fwrapv", "-fno-math-errno", "-Wno-unused-variable",
               "-Wno-unused-label", "-Wno-unused-function"]
LIBS = ["-lmvec", "-lm"] if platform.system() == "Linux" and platform.machine() == "x86_64" \
    else ["-lm"]

_loaded: dict[str, Any] = {}


def module_key_for(source: str) -> Any:
    from ..cache.keys import module_key
    libc = "-".join(platform.libc_ver())
    from .fingerprint import compiler_fingerprint
    return module_key("cmodule", source, compiler_source=compiler_fingerprint(), libc=libc,
                      extra_flags=" ".join(EXTRA_FLAGS + LIBS))


def compile_module(mod: CModule, key: Any) -> Path:
    """The path of the verified shared object for ``mod``: from the cache, or compiled once
    (other processes wanting the same key wait for this one)."""
    from ..build.compiler import compile_shared_object
    from ..cache import cache
    name = "fc_" + key.digest[:24]

    def build(staging: Path) -> dict:
        t0 = time.perf_counter()
        so = compile_shared_object(mod.with_name(name), staging, name,
                                   extra_flags=EXTRA_FLAGS, libs=LIBS, prelude=prelude_text())
        return {"compile_seconds": time.perf_counter() - t0, "module": name,
                "library": so.name, "source": f"{name}.c"}

    entry = cache.get_or_build(key, build)
    return entry.file(entry.meta["library"])


def load_module(path: Path, name: str) -> Any:
    """Import the extension at ``path`` (once per process)."""
    mod = _loaded.get(str(path))
    if mod is None:
        loader = importlib.machinery.ExtensionFileLoader(name, str(path))
        spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        _loaded[str(path)] = mod
    return mod


def _performer(node: Apply) -> Callable[..., Any]:
    op = node.op

    def perform(*inputs: Any) -> list:
        return op.perform(node, list(inputs))
    return perform


class CRunner:
    """Holds the native runner and what is needed to explain its errors."""

    __slots__ = ("native", "nodes", "module_name")

    def __init__(self, native: Any, nodes: list[Apply], module_name: str) -> None:
        self.native = native
        self.nodes = nodes
        self.module_name = module_name

    def failed_node(self) -> Apply | None:
        k = self.native.failed_node
        return self.nodes[k] if 0 <= k < len(self.nodes) else None


def build_c_runner(fgraph: FunctionGraph, name: str, *, n_explicit: int, single: bool,
                   converter: Callable[[int, Any], Any], on_error: Callable[[Any], Any],
                   on_kwargs: Callable[..., Any]) -> CRunner:
    """The native runner; ``on_error(exc)`` returns the exception to raise (it adds the failing
    node), ``on_kwargs(*args, **kw)`` handles calls that name their inputs."""
    mod = render_module(fgraph, n_explicit=n_explicit, single=single)
    key = module_key_for(mod.source)
    name = "fc_" + key.digest[:24]
    for attempt in (1, 2):
        path = compile_module(mod, key)
        try:
            module = load_module(path, name)
            break
        except ImportError:
            # A concurrent `fncache purge` may remove the entry between its verification and
            # dlopen: fetch (or rebuild) it once more rather than fail the user's call.
            if attempt == 2 or path.exists():
                raise
            log.info("fncache: module %s was removed before it was loaded; fetching it again",
                     name)
    return runner_from_module(module, mod, converter=converter, on_error=on_error,
                              on_kwargs=on_kwargs)


def runner_from_module(module: Any, mod: CModule, *, converter: Callable[[int, Any], Any],
                       on_error: Callable[[Any], Any], on_kwargs: Callable[..., Any]) -> CRunner:
    """A runner from a loaded generated module (from the compiledir, or embedded in a pickle)."""
    native = module.Runner(converter, tuple(_performer(n) for n in mod.fallbacks),
                           tuple(mod.constants), bool(config.allow_gc), int(config.threads),
                           on_error, on_kwargs)
    return CRunner(native, mod.node_of, module.__name__)
