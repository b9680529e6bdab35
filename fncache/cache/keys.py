"""Every cache key component, named and hashed in one place.

A key is a kind plus a flat mapping of named string components; its digest is the sha256 of
their canonical JSON.  Keeping the components named (not pre-hashed together) is what lets
:meth:`CacheKey.explain` say *why* a lookup missed, and having one module build them means a
component cannot be forgotten on one path and present on another.  Callers hand in plain
values (a graph's canonical text, generated source, a toolkit version), and the facts of this
host and install (compiler, march, ABI tags, a hash of fncache's compiler code) are read here
from the toolchain layer; the list of components
of each kind of key, and their names, live only here.

Two levels: a *function* key is host-independent (graph, mode, code-changing flags), so its
hit skips the optimizer on any host; a *module* key (``kernel_library`` for the C kernel library,
``cuda`` for a cubin) names everything the native binary depends on, including this host's
expanded march flags for ``kernel_library``, so a host never loads code built for a CPU it is not.
Which flags a key reads is declared once, in ``fncache.config`` (``changes_code``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from types import MappingProxyType
from typing import Mapping, Sequence

__all__ = [
    "CacheKey",
    "source_sha256",
    "is_source_sha256",
    "module_key",
    "kernel_library_key",
    "cuda_module_key",
    "function_key",
    "KEY_SCHEMA",
    "COMPONENTS",
    "describe",
]

#: Bump when the meaning of a component or the entry layout changes: old entries then simply miss.
KEY_SCHEMA = "3"

_KIND = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_numpy_abi: str | None = None
_version: str | None = None


def _canonical(kind: str, components: Mapping[str, str]) -> bytes:
    return json.dumps(
        {"kind": kind, "components": dict(components)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


class CacheKey:
    """A named, hashable, immutable cache key. ``digest`` is what the compiledir stores it under.

    A plain class, not a dataclass: a warm cache hit in a fresh process imports this module, and
    making a dataclass costs about a millisecond."""

    __slots__ = ("kind", "components", "_digest")
    kind: str
    components: Mapping[str, str]

    def __init__(self, kind: str, components: Mapping[str, str] | None = None) -> None:
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise ValueError(
                f"CacheKey kind must be a word such as 'function' or 'kernel_library', got {kind!r}"
            )
        comps = dict(components or {})
        bad = {k: v for k, v in comps.items() if not isinstance(k, str) or not isinstance(v, str)}
        if bad:
            raise TypeError(f"CacheKey components must map str to str; bad items: {bad!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "components", MappingProxyType(comps))
        object.__setattr__(self, "_digest", hashlib.sha256(_canonical(kind, comps)).hexdigest())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a CacheKey cannot be changed (setting {name!r}); make a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a CacheKey cannot be changed (deleting {name!r}); make a new one")

    @property
    def digest(self) -> str:
        """sha256 hex of the canonical JSON of kind and components."""
        return self._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CacheKey) and other.digest == self.digest

    def explain(self, other: CacheKey) -> list[tuple[str, str | None, str | None]]:
        """The components (``kind`` included) whose values differ: ``(name, mine, theirs)``, sorted by name."""
        diffs = [("kind", self.kind, other.kind)] if self.kind != other.kind else []
        for name in sorted(set(self.components) | set(other.components)):
            mine, theirs = self.components.get(name), other.components.get(name)
            if mine != theirs:
                diffs.append((name, mine, theirs))
        return diffs

    def __reduce__(self) -> tuple[type[CacheKey], tuple[str, dict[str, str]]]:
        return CacheKey, (self.kind, dict(self.components))

    def __repr__(self) -> str:
        return f"CacheKey({self.kind!r}, {self.digest[:16]}…)"


def fncache_version() -> str:
    """The fncache version: ``fncache.__version__`` when the package defines it, else the installed metadata."""
    global _version
    if _version is None:
        pkg = sys.modules.get("fncache")
        found = getattr(pkg, "__version__", None)
        if not isinstance(found, str):
            from importlib import metadata

            try:
                found = metadata.version("fncache")
            except metadata.PackageNotFoundError:
                found = "0+unknown"
        _version = found
    return _version


def numpy_abi() -> str:
    """numpy's C-API version and feature version: an extension built against it needs a compatible numpy."""
    global _numpy_abi
    if _numpy_abi is None:
        import numpy

        try:
            from numpy._core._multiarray_umath import _get_ndarray_c_version
        except ImportError:  # numpy < 2
            from numpy.core._multiarray_umath import _get_ndarray_c_version  # type: ignore[no-redef]
        major, minor = numpy.__version__.split(".")[:2]
        _numpy_abi = f"capi={_get_ndarray_c_version():#x};numpy={major}.{minor}"
    return _numpy_abi


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_HEX64 = re.compile(r"[0-9a-f]{64}")


def source_sha256(source: str) -> str:
    """The ``source_sha256`` component of generated source: what a module key holds of it.

    A function entry records this hash of its graph's kernel library, so that a warm hit can
    ask for the library's key without rendering the source again (see ``module_key``)."""
    return _sha256(source)


def is_source_sha256(value: object) -> bool:
    """Whether ``value`` has the form of a :func:`source_sha256` (a record read back from disk)."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _source_component(source: str | None, sha256: str | None) -> str:
    if (source is None) == (sha256 is None):
        raise TypeError("a module key needs exactly one of the source and its source_sha256")
    if sha256 is None:
        return _sha256(source)  # type: ignore[arg-type]
    if not is_source_sha256(sha256):
        raise ValueError(
            f"source_sha256 must be 64 lowercase hex digits (keys.source_sha256 of the source), got {sha256!r}"
        )
    return sha256


#: What each component is: ``fncache explain`` prints it next to a component that differs.
COMPONENTS: dict[str, str] = {
    "kind": "what the entry holds: function (optimized graph), kernel_library (kernel library), cuda (cubin)",
    "schema": "layout version of keys and entries",
    "fncache": "fncache's version",
    "compiler_source": "hash of fncache's own compiler code (front end, rewrites, code generators)",
    "graph_sha256": "hash of the graph's canonical text: ops by identity (class and props) and "
    "the output types each node declares, constants by value, inputs by position and type, "
    "equal nodes once when the mode merges; names are left out",
    "mode": "linker, optimizer, included and excluded rewrite tags, device",
    "source_sha256": "hash of the generated source (C kernels or CUDA)",
    "compiler": "the C compiler's version (flag cxx)",
    "compiler_target": "the target the C compiler builds for",
    "flags": "the compiler's optimization flags (flag cxxflags)",
    "march": "this host's expanded target flags (flag march)",
    "vector_width": "preferred SIMD width, measured per host (flag vector_width)",
    "numpy_abi": "numpy's C-API version",
    "python_abi": "the Python ABI tag",
    "platform": "operating system and machine",
    "libc": "the C library the binary links against",
    "extra_flags": "the flags and libraries every kernel library is built with",
    "cuda_arch": "the GPU architecture the cubin is built for (flag cuda_arch)",
    "nvcc": "the CUDA toolkit's version",
    "nvcc_flags": "the flags every cubin is built with",
}


def describe(component: str) -> str:
    """What key component ``component`` is (``flag.NAME`` components: the flag's own doc)."""
    if component.startswith("flag."):
        from ..config import config

        doc = config.describe().get(component[5:])
        return f"flag {component[5:]}: {doc}" if doc else "a configuration flag"
    return COMPONENTS.get(component, "a component of another kind of key")


def _libc() -> str:
    global _libc_tag
    if _libc_tag is None:
        import platform

        _libc_tag = "-".join(platform.libc_ver())
    return _libc_tag


_libc_tag: str | None = None


def module_key(kind: str, source: str | None = None, *, sha256: str | None = None, **extra: str) -> CacheKey:
    """Key of a native module built on this host: everything the binary depends on, this host's
    CPU, compiler, Python and numpy ABI included.

    The generated code enters as ``source``, or as ``sha256``, its :func:`source_sha256`
    recorded earlier: the two give the same key, so a caller that knows the hash need not
    render the source.  ``extra`` adds kind-specific components (e.g. ``compiler_source``, ``extra_flags``); they
    override nothing silently: a name that clashes with a built-in component is an error.
    """
    from ..toolchain import (
        compile_flags,
        compiler_id,
        host_march_flags,
        host_platform_tag,
        host_vector_width,
        python_abi_tag,
    )

    cid = compiler_id()
    components = {
        "schema": KEY_SCHEMA,
        "fncache": fncache_version(),
        "source_sha256": _source_component(source, sha256),
        "compiler": cid["version"],
        "compiler_target": cid["target"],
        "flags": " ".join(compile_flags()),
        "march": " ".join(host_march_flags()),
        "vector_width": host_vector_width(),
        "numpy_abi": numpy_abi(),
        "python_abi": python_abi_tag(),
        "platform": host_platform_tag(),
        "libc": _libc(),
    }
    clash = sorted(set(extra) & set(components))
    if clash:
        raise ValueError(f"module_key: extra components {clash} clash with built-in ones")
    components.update({k: str(v) for k, v in extra.items()})
    return CacheKey(kind, components)


def _compiler_source() -> str:
    from ..toolchain.fingerprint import compiler_fingerprint  # a hash of files: no graph code runs

    return compiler_fingerprint()


def kernel_library_key(
    source: str | None = None, *, extra_flags: Sequence[str], sha256: str | None = None
) -> CacheKey:
    """Key of a C kernel library: :func:`module_key` (of ``source``, or of its recorded
    ``sha256``) plus the compiler code that rendered it and the flags every kernel library is
    built with."""
    return module_key(
        "kernel_library",
        source,
        sha256=sha256,
        compiler_source=_compiler_source(),
        extra_flags=" ".join(extra_flags),
    )


def cuda_module_key(source: str, *, cuda_arch: str, nvcc_version: str, nvcc_flags: Sequence[str]) -> CacheKey:
    """Key of a cubin: everything it depends on, and nothing of the host that builds it.

    Not :func:`module_key`: that one names this host's CPU flags, Python and numpy ABI, which a
    cubin does not depend on, and a login node filling the cache for GPU hosts usually has
    another CPU. The toolkit version also fixes the oldest driver that can load the cubin; the
    driver itself is checked when the kernels are loaded (a login node has none to name here).
    The compiler's own fingerprint is not needed either: the cubin is a function of its
    source, which the runner renders anew and whose hash is here.
    """
    return CacheKey(
        "cuda",
        {
            "schema": KEY_SCHEMA,
            "fncache": fncache_version(),
            "source_sha256": _sha256(source),
            "cuda_arch": cuda_arch,
            "nvcc": nvcc_version,
            "nvcc_flags": " ".join(nvcc_flags),
        },
    )


def function_key(graph_signature: str, mode_signature: str, code_flags: Mapping[str, object]) -> CacheKey:
    """Host-independent key of a compiled function: fncache version and compiler code, graph
    hash, mode, and the flags ``config`` declares as read by function keys.

    ``code_flags`` may hold every code flag (``config.code_flags()``): the ones module keys
    read (compiler flags, march) are left out on purpose, so the function entry is the same on
    every host and the native modules it needs are looked up by their own module keys.
    """
    from ..config import CODE_FLAG_KEYS

    components = {
        "schema": KEY_SCHEMA,
        "fncache": fncache_version(),
        "compiler_source": _compiler_source(),
        "graph_sha256": _sha256(graph_signature),
        "mode": mode_signature,
    }
    for name, value in sorted(code_flags.items()):
        if CODE_FLAG_KEYS.get(name) == "function":
            components[f"flag.{name}"] = json.dumps(value, sort_keys=True, default=str)
    return CacheKey("function", components)
