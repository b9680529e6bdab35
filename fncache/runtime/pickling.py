"""Pickling compiled functions (README "Pickling and shipping"): a small, versioned, optionally signed payload.

``pickle.dumps(f)`` stores only ``(load_function, (payload,))``: the outer pickle references one
fncache function and holds bytes, so unpickling it runs nothing of the sender's before
:func:`loads` has checked the format version and, with ``config.signing_key``, the HMAC.  The
payload is::

    MAGIC | u16 format | u8 n | sender's fncache version (n ASCII bytes)
          | u8 k | the function's cache key (k ASCII bytes) | SHA-256 (32 bytes)
          | u8 m | HMAC (m bytes) | body

The prefix up to the version string is the same in every format, so a reader of any version can
name both versions when it refuses a payload.  The SHA-256 checksum covers the prefix up to the
key and the body, so any damage is refused before anything is unpickled, signed or not; the
HMAC-SHA256 (``m`` = 0 when unsigned) covers the same bytes, so a signature binds the body to the
function key in the clear header, which :func:`loads` can compare with the key it expects.
Format 1 (no key, no checksum) is still read.  The body is a cloudpickle of a dict holding the
original and the optimized graph (flat encodings, so a 10,000-node chain needs no recursion), shared variables'
names and values, the mode, the code-changing flags and the call options.  cloudpickle, not
pickle, because it stores lambdas, closures and anything defined in ``__main__`` by value: those
exist only in the sender, and a pickle that names them by reference fails in a worker.

Unpickling decodes the optimized graph and links it: the native module comes from the compiledir
for *this* host's march flags, or is compiled once from the optimized graph; the optimizer does not
run unless ``config.reoptimize_unpickled_function`` is set.  No native binary travels unless the
sender asks for it with ``dumps(f, embed_native=True)``; the receiver then checks the platform, the
ABI components of the module key, the CPU features it needs (against ``cpuid``) and the checksum before loading it, and otherwise falls
back to the compiledir (see ``docs/trust.md``).  Such a payload also carries, under ``inner``, the
inner function of each run-time-size Jacobian, loop and lazy branch (`JacobianRows`, `Scan`, `LazyIfElse` node) as a payload body of its own
(its graphs, its module, its own inner functions), covered by the outer checksum and signature and
rebuilt the same way, so the receiver neither optimizes nor compiles those either.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import pickle
import struct
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from ..config import CODE_FLAGS, config
from ..errors import FncacheError, PickleError
from ..graph.serialize import decode_graph, encode_graph
from ..mode import MONITOR, Mode
from .io import NO_DEFAULT, StateDefault

if TYPE_CHECKING:
    from ..graph.fgraph import FunctionGraph
    from .function import Function

__all__ = ["FORMAT", "dumps", "loads", "load_function", "reduce_function"]

log = logging.getLogger(__name__)

#: Payload format this fncache writes.  Bump it when the layout changes.
FORMAT = 2
#: Formats it reads (1: no function key and no checksum in the header).
READ_FORMATS = (1, 2)
MAGIC = b"\x00fncache-function\x00"
_MAC_DOMAIN = b"fncache function payload v1\x00"  # a payload MAC can never pass for an entry MAC
#: Code flags that describe the receiving host, not the function: the receiver keeps its own, so
#: it builds for its own CPU, with its own compiler, for its own GPU.
HOST_FLAGS = frozenset({"march", "cxx", "cuda_arch", "vector_width"})
#: Module-key components that say how the sender's toolchain built an embedded module rather than
#: what the binary needs at run time; ``march`` is judged by :func:`_march_refusal` instead.
_TOOLCHAIN_COMPONENTS = frozenset({"compiler", "compiler_target", "flags", "march", "vector_width"})
#: How deep inner functions may nest (a derivative of a derivative ... of a run-time-size
#: Jacobian nests one level each): a payload's structure is checked recursively, and a forged one
#: must fail as a malformed payload, not by exhausting the interpreter's stack.
MAX_INNER_DEPTH = 32

_FIELDS = frozenset(
    {
        "name",
        "graphs",
        "n_inputs",
        "n_outputs",
        "single",
        "shared",
        "updated",
        "mode",
        "flags",
        "allow_input_downcast",
        "trust_input",
        "key",
        "native",
    }
)


# -- sending -------------------------------------------------------------------------------------


def reduce_function(f: Function) -> tuple[Callable[[bytes], Function], tuple[bytes]]:
    """``Function.__reduce__``: the outer pickle holds only the payload bytes."""
    return load_function, (dumps(f),)


def dumps(f: Function, *, embed_native: bool = False) -> bytes:
    """The payload of ``f`` (signed when ``config.signing_key`` is set); read it with :func:`loads`.

    ``embed_native=True`` adds this host's native module, so workers of the same platform and
    CPU can run ``f`` without a compiler (they fall back to their compiledir when it does not fit).
    """
    import cloudpickle

    from .. import __version__

    body = cloudpickle.dumps(_payload(f, embed_native), protocol=pickle.HIGHEST_PROTOCOL)
    version = __version__.encode("ascii", "replace")[:255]
    fkey = f.cache_key.encode("ascii", "replace")[:255]
    head = MAGIC + struct.pack(">HB", FORMAT, len(version)) + version + struct.pack(">B", len(fkey)) + fkey
    key = _signing_key()
    mac = hmac.new(key, _MAC_DOMAIN + head + body, hashlib.sha256).digest() if key else b""
    return head + hashlib.sha256(head + body).digest() + struct.pack(">B", len(mac)) + mac + body


def _payload(f: Function, embed_native: bool) -> dict[str, Any]:
    """The body of ``f``'s payload, before pickling."""
    if f.mode.linker == MONITOR:
        # the payload keeps a mode as its five fields: the functions would be lost, and the
        # loaded function would run unmonitored
        raise TypeError(
            f"function {f.name!r} was compiled under MonitorMode, whose pre_func/post_func a pickle "
            "does not carry; pickle the function compiled under another mode and compile it again "
            "under MonitorMode where you load it"
        )
    return {
        "name": f.name,
        "graphs": {
            "original": encode_graph(f.original_graph, f.shared_variables),
            "optimized": encode_graph(f.optimized_graph, f.shared_variables),
        },
        "n_inputs": len(f.inputs),
        "n_outputs": len(f.outputs),
        "single": f.single_output,
        "shared": [_shared_record(sv) for sv in f.shared_variables],
        "updated": list(f.updated_indices),
        "mode": (f.mode.linker, f.mode.optimizer, f.mode.included_tags, f.mode.excluded_tags, f.mode.device),
        "flags": dict(f.code_flags),
        "allow_input_downcast": f.allow_input_downcast,
        "trust_input": f.trust_input,
        "input_names": f.input_names,
        "defaults": f.defaults,
        "states": f.states,
        "key": f.cache_key,
        "native": _native_of(f) if embed_native else None,
        "inner": _inner_of(f) if embed_native else {},
    }


#: The last field of a shared variable's record that is a random state (PyTensor's
#: ``shared(np.random.default_rng(s))``), so the loaded one takes generators and seeds again
RANDOM_STATE = "random_state"


def _shared_record(sv: Any) -> tuple:
    """(name, value, static shape, strict), and RANDOM_STATE for a random state (whose module
    is loaded where one was made: a function without one does not import it)."""
    record = (sv.name, sv.get_value(borrow=True), sv.type.shape, sv.strict)
    states = sys.modules.get("fncache.tensor.random.variable")
    if states is not None and isinstance(sv, states.RandomGeneratorSharedVariable):
        return (*record, RANDOM_STATE)
    return record


def _shared_variable(name: str | None, value: np.ndarray, *declared: Any) -> Any:
    """The shared variable a record describes (a record checked by ``_check_fields``)."""
    if declared[2:] == (RANDOM_STATE,):
        from ..tensor.random.variable import RandomGeneratorSharedVariable

        return RandomGeneratorSharedVariable(value, name)
    from ..tensor.shared import SharedVariable

    return SharedVariable(value, name, *declared)


def _inner_of(f: Function) -> dict[str, dict[str, Any]]:
    """The inner function of each `JacobianRows` or `Scan` node of ``f`` by the op's identity (its inner
    graph's signature), each as a payload body with its own module and inner functions: a
    receiver then neither optimizes nor compiles them."""
    from .compile import inner_function_mode, inner_graph_nodes

    mode = inner_function_mode(f.mode)
    return {
        op.inner_key: _payload(op.function(mode), embed_native=True)
        for node in inner_graph_nodes(f.optimized_graph)
        for op in node.op.inner_ops()
    }


def _native_of(f: Function) -> dict[str, Any] | None:
    """This host's native module of ``f`` (from the compiledir, built if it was evicted)."""
    from ..codegen.c_linker import compile_module, module_key_for
    from ..codegen.c_module import render_module

    if f.mode.linker != "c" or f.mode.device == "cuda":
        log.info("fncache: %r has no CPU native module to embed (mode %r)", f.name, f.mode)
        return None
    with config.change_flags(**f.code_flags):  # the flags f was compiled under: its module
        mod = render_module(
            f.optimized_graph, n_explicit=len(f.inputs), single=f.single_output and not f.shared_variables
        )
        if not mod.source:
            return None  # no kernels: a worker runs it without compiling anything
        key = module_key_for(mod.source)
        entry = compile_module(mod, key)
    lib = entry.meta["library"]
    return {
        "module": entry.meta["module"],
        "components": dict(key.components),
        "library": entry.read_bytes(lib),
        "sha256": entry.meta["files"][lib]["sha256"],
        "isa": list(entry.meta.get("isa", [])),
    }


# -- receiving -----------------------------------------------------------------------------------


def load_function(payload: bytes) -> Function:
    """What ``pickle.loads`` calls; the name is in every pickle made so far and must stay."""
    return loads(payload)


def loads(data: bytes, key: str | None = None) -> Function:
    """Rebuild a function from :func:`dumps` bytes: check format, checksum and signature, then
    unpickle.  ``key``: the cache key (``f.cache_key``) of the function expected; a payload of
    any other function is refused before anything is unpickled.  Every malformed payload is a
    :class:`~fncache.errors.PickleError`."""
    body, fkey = _verified_body(data)
    if key is not None and fkey != key:
        raise PickleError(
            f"the function payload holds function {fkey or '(unknown: format 1)'}, not the expected {key}"
        )
    try:
        payload = pickle.loads(body)
    except Exception as e:
        raise PickleError(f"the function payload could not be unpickled: {type(e).__name__}: {e}") from e
    _check_payload(payload)
    if fkey is not None and payload["key"] != fkey:
        raise PickleError(
            f"the function payload's body is of function {payload['key']!r}, its header says {fkey}"
        )
    return _rebuild(payload)


def _check_payload(p: Any, depth: int = 0) -> None:
    """``p`` is a payload body :func:`_rebuild` can rely on, and so are its inner functions'
    (``depth``: how deep ``p`` is among them)."""
    if depth > MAX_INNER_DEPTH:
        raise PickleError(
            f"the function payload is malformed: its inner functions nested more than {MAX_INNER_DEPTH} deep"
        )
    if not isinstance(p, dict) or not _FIELDS <= p.keys():
        raise PickleError("the function payload does not hold a function (fields missing)")
    _check_fields(p, depth)


def _check_fields(p: dict[str, Any], depth: int) -> None:
    """Every field of an unpickled payload has the type and range :func:`_rebuild` relies on."""

    def need(ok: bool, field: str, expected: str) -> None:
        if not ok:
            raise PickleError(
                f"the function payload is malformed: field {field!r} is not {expected} "
                f"(got {type(p.get(field)).__name__})"
            )

    need(isinstance(p["name"], str), "name", "a str")
    need(isinstance(p["key"], str), "key", "a str")
    for field in ("single", "allow_input_downcast", "trust_input"):
        need(isinstance(p[field], bool), field, "a bool")
    need(
        isinstance(p["shared"], list)
        and all(
            isinstance(i, tuple)
            and len(i) in (2, 4, 5)
            and isinstance(i[0], (str, type(None)))
            and isinstance(i[1], np.ndarray)
            and (len(i) == 2 or _shared_declarations_fit(i[1], i[2], i[3]))
            and (len(i) < 5 or (i[4] == RANDOM_STATE and i[1].dtype == np.uint64 and i[1].shape == (2,)))
            for i in p["shared"]
        ),
        "shared",
        "a list of (name, array), (name, array, static shape, strict) or (..., 'random_state')",
    )
    n_shared = len(p["shared"])
    need(
        isinstance(p["updated"], list) and all(type(i) is int and 0 <= i < n_shared for i in p["updated"]),
        "updated",
        "a list of shared-variable positions",
    )
    need(isinstance(p["mode"], tuple) and len(p["mode"]) == 5, "mode", "a 5-tuple")
    need(isinstance(p["flags"], dict) and all(isinstance(k, str) for k in p["flags"]), "flags", "a dict")
    graphs = p["graphs"]
    need(
        isinstance(graphs, dict) and all(isinstance(graphs.get(g), dict) for g in ("original", "optimized")),
        "graphs",
        "a dict of two encoded graphs",
    )
    for field in ("n_inputs", "n_outputs"):
        need(type(p[field]) is int and p[field] >= 0, field, "a count")
    native = p["native"]
    need(
        native is None
        or (
            isinstance(native, dict)
            and isinstance(native.get("library"), bytes)
            and isinstance(native.get("sha256"), str)
            and isinstance(native.get("components"), dict)
            and isinstance(native.get("isa", []), list)
            and "module" in native
        ),
        "native",
        "None or an embedded module",
    )
    # absent from payloads written before fc.In: the graph's names, no defaults
    names, defaults = p.get("input_names"), p.get("defaults")
    need(
        names is None
        or isinstance(names, list)
        and len(names) == p["n_inputs"]
        and all(isinstance(n, (str, type(None))) for n in names),
        "input_names",
        "None or a name (or None) per input",
    )
    need(
        defaults is None
        or isinstance(defaults, list)
        and len(defaults) == p["n_inputs"]
        and all(
            d is NO_DEFAULT
            or isinstance(d, np.ndarray)
            or type(d) is StateDefault
            and type(d.index) is int
            and 0 <= d.index < n_shared
            for d in defaults
        ),
        "defaults",
        "None or a default (an array, a state, or NO_DEFAULT) per input",
    )
    states = p.get("states", [])  # absent from payloads written before In(update=)
    need(
        isinstance(states, list)
        and all(
            isinstance(st, tuple)
            and len(st) == 2
            and isinstance(st[0], (str, type(None)))
            and type(st[1]) is int
            and 0 <= st[1] < n_shared
            for st in states
        ),
        "states",
        "a list of (name, shared-variable position)",
    )
    inner = p.get("inner", {})  # absent from payloads written before inner functions travelled
    need(
        isinstance(inner, dict) and all(isinstance(k, str) for k in inner),
        "inner",
        "a dict of inner functions",
    )
    for sub in inner.values():
        _check_payload(sub, depth + 1)


def _signing_key() -> bytes | None:
    from ..fs.signing import signing_key

    return signing_key()


def _verified_body(data: Any) -> tuple[bytes, str | None]:
    """The body of ``data`` and the function key its header names (None in format 1), once its
    format, checksum and (with a signing key) its HMAC are checked."""
    from .. import __version__

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PickleError(f"an fncache function payload is bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise PickleError("not an fncache function payload (its first bytes are not fncache's)")
    try:
        fmt, n = struct.unpack_from(">HB", data, len(MAGIC))
        end = len(MAGIC) + 3 + n
        sender = data[len(MAGIC) + 3 : end].decode("ascii", "replace")
        if fmt not in READ_FORMATS:
            raise PickleError(
                f"this function was pickled by fncache {sender} in payload format {fmt}; fncache "
                f"{__version__} reads format {FORMAT} (and the older format 1) only. Load it "
                f"with fncache {sender}, or compile and pickle it again with fncache {__version__}"
            )
        fkey = checksum = None
        if fmt >= 2:
            (k,) = struct.unpack_from(">B", data, end)
            fkey, end = data[end + 1 : end + 1 + k], end + 1 + k
            checksum = data[end : end + 32]
        (m,) = struct.unpack_from(">B", data, end + (32 if fmt >= 2 else 0))
        start = end + (32 if fmt >= 2 else 0) + 1
        if len(data) < start + m:
            raise struct.error("truncated signature")
    except struct.error:
        raise PickleError("the fncache function payload is truncated") from None
    head, mac, body = data[:end], data[start : start + m], data[start + m :]
    if checksum is not None and not hmac.compare_digest(checksum, hashlib.sha256(head + body).digest()):
        raise PickleError(
            "the fncache function payload is damaged or truncated (its checksum does not match)"
        )
    try:
        key_text = fkey.decode("ascii") if fkey is not None else None
    except UnicodeDecodeError:
        raise PickleError("the fncache function payload's function key is not ASCII") from None
    key = _signing_key()
    if key is None:
        if mac:
            log.debug("fncache: payload is signed but config.signing_key is unset; not verified")
        return body, key_text
    if not mac:
        raise PickleError(
            "refusing an unsigned function payload: config.signing_key is set, so "
            "only payloads signed with that key are loaded"
        )
    if not hmac.compare_digest(mac, hmac.new(key, _MAC_DOMAIN + head + body, hashlib.sha256).digest()):
        raise PickleError(
            "the function payload's signature does not verify: it was modified "
            "after signing, or signed with another key than config.signing_key"
        )
    return body, key_text


def _rebuild(p: dict[str, Any]) -> Function:
    from .compile import function_key, optimize_graph
    from .function import assemble

    flags = {k: v for k, v in p["flags"].items() if k in CODE_FLAGS and k not in HOST_FLAGS}
    # A damaged payload that still unpickles may fail anywhere in decoding or linking.
    with _malformed_is_pickle_error(), config.change_flags(**flags):
        mode, shared, original, optimized = _decode(p)
        if config.reoptimize_unpickled_function:
            optimized = optimize_graph(original, mode)
            key = function_key(original, mode).digest
        else:
            key = p["key"]
        native, inner = p["native"], p.get("inner", {})
        return assemble(
            inputs=original.inputs[: p["n_inputs"]],
            outputs=original.outputs[: p["n_outputs"]],
            single=p["single"],
            shared=shared,
            updated=p["updated"],
            mode=mode,
            name=p["name"],
            allow_input_downcast=p["allow_input_downcast"],
            original=original,
            optimized=optimized,
            cache_key=key,
            trust_input=p["trust_input"],
            build=_embedded_builder(native, inner) if native is not None or inner else None,
            input_names=p.get("input_names"),
            defaults=_read_only(p.get("defaults")),
            states=p.get("states"),
        )


def _read_only(defaults: list[Any] | None) -> list[Any] | None:
    """Unpickled default values, read-only as the sender's were (every call passes the same array)."""
    for d in defaults or ():
        if isinstance(d, np.ndarray):
            d.setflags(write=False)
    return defaults


@contextlib.contextmanager
def _malformed_is_pickle_error() -> Iterator[None]:
    """Decoding or linking a damaged (but unpickled) payload may fail anywhere: always as
    PickleError (fncache's own errors, e.g. a CompileError, pass as they are)."""
    try:
        yield
    except FncacheError:
        raise
    except Exception as e:
        raise PickleError(f"the function payload is malformed: {type(e).__name__}: {e}") from e


def _shared_declarations_fit(value: np.ndarray, shape: Any, strict: Any) -> bool:
    """A shared variable's recorded static sizes (one int or None per dim, each int the
    value's size) and strict flag are well formed."""
    return (
        isinstance(shape, tuple)
        and len(shape) == value.ndim
        and all(s is None or type(s) is int and s == n for s, n in zip(shape, value.shape))
        and isinstance(strict, bool)
    )


def _decode(p: dict[str, Any]) -> tuple[Mode, list[Any], FunctionGraph, FunctionGraph | None]:
    """The mode, shared variables and graphs of a payload (the optimized one unless it will be
    reoptimized); checked, since a damaged graph may still unpickle."""
    mode = Mode(*p["mode"])
    # payloads written before shared variables had static sizes and strict hold (name, value)
    shared = [_shared_variable(name, value, *declared) for name, value, *declared in p["shared"]]
    original = decode_graph(p["graphs"]["original"], shared)
    optimized = (
        None if config.reoptimize_unpickled_function else decode_graph(p["graphs"]["optimized"], shared)
    )
    if p["n_inputs"] > len(original.inputs) or p["n_outputs"] > len(original.outputs):
        raise PickleError(
            "the function payload is malformed: it counts more inputs or outputs than its graph has"
        )
    return mode, shared, original, optimized


# -- an embedded native module -------------------------------------------------------------------


def _embedded_builder(native: dict[str, Any] | None, inner: dict[str, dict[str, Any]]) -> Callable[..., Any]:
    """A ``build_runner`` that runs the embedded module when it fits this host, else the usual,
    and hands the `JacobianRows` and `Scan` nodes the inner functions the payload carries."""
    from .compile import build_runner, link_inner_functions

    def build(
        optimized: FunctionGraph,
        mode: Mode,
        name: str,
        *,
        source_sha256: str | None = None,
        early: Any = None,
        **kw: Any,
    ) -> Any:
        _adopt_inner_functions(inner, optimized)
        if native is not None and mode.linker == "c" and mode.device != "cuda":
            link_inner_functions(optimized, mode)  # before a runner is made, as build_runner does
            runner = _embedded_runner(native, optimized, name, **kw)  # keyed by its own source
            if runner is not None:
                return runner
        return build_runner(optimized, mode, name, source_sha256=source_sha256, early=early, **kw)

    return build


def _adopt_inner_functions(inner: dict[str, dict[str, Any]], optimized: FunctionGraph) -> None:
    """Give each `JacobianRows` or `Scan` op of ``optimized`` the inner function the payload carries for
    it, rebuilt as the outer one is (its own embedded module under the same checks), so that
    linking finds it instead of compiling the op's inner graph.  An op the payload carries
    nothing for compiles its own, as without ``embed_native``."""
    from .compile import inner_graph_nodes

    for node in inner_graph_nodes(optimized):
        for op in node.op.inner_ops():
            sub = inner.get(op.inner_key)
            if sub is not None:
                op.function(Mode(*sub["mode"]), build=functools.partial(_rebuild_inner, sub, op))


def _rebuild_inner(p: dict[str, Any], op: Any) -> Function:
    """The inner function of ``op`` from its payload body ``p``."""
    from ..graph.serialize import graph_signature

    fn = _rebuild(p)
    # The op's identity is its inner graph's signature, recomputed where it was decoded: the
    # function carried for it must compute that graph, not another.
    if graph_signature(fn.original_graph) != op.inner_key:
        raise PickleError(
            f"the function payload is malformed: the inner function it carries for {op} computes another graph"
        )
    return fn


def _embedded_runner(
    native: dict[str, Any],
    optimized: FunctionGraph,
    name: str,
    *,
    n_explicit: int,
    single: bool,
    converter: Any,
    on_error: Any,
    on_kwargs: Any,
) -> Any:
    from ..codegen.c_linker import module_key_for, runner_for
    from ..codegen.c_module import render_module

    mod = render_module(optimized, n_explicit=n_explicit, single=single)
    if not mod.source:
        return None  # nothing native to use: the usual path compiles nothing either
    refusal = _refusal(native, module_key_for(mod.source).components)
    if refusal is not None:
        log.info(
            "fncache: not using the embedded native module of %r (%s); using the compiledir", name, refusal
        )
        return None
    try:
        lib = _load_embedded(native)
    except OSError as e:  # e.g. a noexec temp dir
        log.warning(
            "fncache: the embedded native module of %r cannot be loaded (%s); using the compiledir", name, e
        )
        return None
    return runner_for(lib, mod, converter=converter, on_error=on_error, on_kwargs=on_kwargs)


def _refusal(native: dict[str, Any], mine: Any) -> str | None:
    """Why the embedded module must not run here (None: it may).  ``mine`` are the components
    of this host's key for the same source: every run-time component (platform, Python and numpy
    ABI, libc, fncache's code, the source itself) must be equal, the march compatible, the bytes
    intact."""
    theirs = native["components"]
    if not str(native["module"]).isidentifier():
        return f"its module name {native['module']!r} is not an identifier"
    for name in sorted(set(theirs) | set(mine)):
        if name not in _TOOLCHAIN_COMPONENTS and theirs.get(name) != mine.get(name):
            return f"{name} differs: built for {theirs.get(name)!r}, this host has {mine.get(name)!r}"
    refusal = _march_refusal(theirs.get("march", ""), mine.get("march", ""), native.get("isa"))
    if refusal is not None:
        return refusal
    if hashlib.sha256(native["library"]).hexdigest() != native["sha256"]:
        return "its checksum does not match: the bytes were damaged"
    return None


def _march_refusal(built: str, host: str, isa: Any) -> str | None:
    """The library must need no CPU feature this CPU lacks (else it would end the process with
    SIGILL): its recorded features and its ``-m<feature>`` flags are checked against ``cpuid``.
    Then generic code runs on any CPU of the platform; other code only where the flags are this
    host's, or where this host detects its CPU (``march=auto``) and the library needs only
    features it has."""
    from ..toolchain.cpu import entry_missing_features

    missing = entry_missing_features({"isa": isa if isa is not None else [], "march": built})
    if missing:
        return f"it needs CPU features this CPU lacks ({', '.join(missing)})"
    if not built or built == host:
        return None
    if isa and config.march.strip() == "auto":
        return None
    return f"built for march flags {_short(built)}, this host uses {_short(host) or 'generic'}"


def _short(flags: str) -> str:
    return flags if len(flags) <= 40 else f"{flags[:40]}..."


def _load_embedded(native: dict[str, Any]) -> Any:
    """Load the embedded kernel library from its checked bytes, in memory (once per process)."""
    from ..codegen.c_linker import load_library

    return load_library(native["library"], f"{native['module']}.so", native["sha256"])
