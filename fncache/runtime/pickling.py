"""Pickling compiled functions (README "Pickling and shipping"): a small, versioned, optionally signed payload.

``pickle.dumps(f)`` stores ``(load_function, (payload, shared variables))``: the outer pickle
references one fncache function, holds bytes and, beside them, the shared variables ``f`` reads
as objects (each pickles as its class, value and declarations: ``SharedVariable.__reduce__``),
so unpickling it runs nothing of the sender's before :func:`loads` has checked the format
version and, with ``config.signing_key``, the HMAC.  Pickle's memo makes one object of a
variable that several functions (and the caller) pickle together, as in Theano; the loader binds
those objects once each matches the declaration and the SHA-256 of its value that the payload
records, so its checksum and signature cover the values too.  A function that reads no shared
variable stores ``(load_function, (payload,))``, as every pickle written before (whose payload
holds the values) did.  The payload is::

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
names and values (format 2; format 3: their declarations and value digests, the values being
beside the payload), the mode, the code-changing flags and the call options.  :func:`dumps` of a
tuple, list or dict of functions and shared variables writes a format-3 payload of them all
(function key empty): the body holds each function's body, with its shared variables as objects
(one each, by the body's own memo), and the structure to rebuild.  cloudpickle, not
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
import pickletools
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

#: Payload format this fncache writes.  Bump it when the layout changes.  A payload whose shared
#: values are all in it is written as format 2, which fncache before format 3 reads too.
FORMAT = 3
#: Formats it reads (1: no function key and no checksum in the header; 2: every shared value in
#: the payload; 3: shared values beside it (recorded by digest), or a bundle).
READ_FORMATS = (1, 2, 3)
#: What a payload of several objects (:func:`dumps` of a tuple, list or dict) has for a function key.
BUNDLE_KEY = ""
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


def reduce_function(f: Function) -> tuple[Callable[..., Function], tuple[Any, ...]]:
    """``Function.__reduce__``: the outer pickle holds the payload bytes and, beside them, the
    shared variables ``f`` reads, as objects: pickle's memo then makes one object of a variable
    that several functions (or the caller) pickle together, and the loader binds those objects.
    Their values travel with them, once; the payload records each value's digest."""
    if not f.shared_variables:
        return load_function, (dumps(f),)
    payload = _seal(_payload(f, False, beside=True), f.cache_key, FORMAT)
    return load_function, (payload, tuple(f.shared_variables))


def dumps(obj: Any, *, embed_native: bool = False) -> bytes:
    """The payload of a function (signed when ``config.signing_key`` is set); read it with :func:`loads`.

    ``obj``: a function, or a tuple, list or dict (str or int keys) of functions, shared variables
    and such containers: :func:`loads` gives back the same structure, with one object per
    function and per shared variable, so the functions keep sharing their variables; the
    payload holds each shared value once, covered by its checksum and signature.

    ``embed_native=True`` adds this host's native modules, so workers of the same platform and
    CPU can run the functions without a compiler (they fall back to their compiledir when a
    module does not fit).
    """
    from .function import Function

    if isinstance(obj, Function):
        return _seal(_payload(obj, embed_native), obj.cache_key, 2)
    return _seal(_bundle(obj, embed_native), BUNDLE_KEY, FORMAT)


def _seal(body_data: dict[str, Any], fkey_text: str, fmt: int) -> bytes:
    """The payload of a body: the header naming ``fkey_text``, checksum, signature, body."""
    import cloudpickle

    from .. import __version__

    body = cloudpickle.dumps(body_data, protocol=pickle.HIGHEST_PROTOCOL)
    version = __version__.encode("ascii", "replace")[:255]
    fkey = fkey_text.encode("ascii", "replace")[:255]
    head = MAGIC + struct.pack(">HB", fmt, len(version)) + version + struct.pack(">B", len(fkey)) + fkey
    key = _signing_key()
    mac = hmac.new(key, _MAC_DOMAIN + head + body, hashlib.sha256).digest() if key else b""
    return head + hashlib.sha256(head + body).digest() + struct.pack(">B", len(mac)) + mac + body


def _bundle(obj: Any, embed_native: bool) -> dict[str, Any]:
    """The body of a payload of several objects: each function once, as a payload body whose
    shared variables are beside it (the variable objects, which the body's pickle makes one
    object each), and ``tree``, the structure of ``obj`` with each function by its position."""
    from ..tensor.shared import SharedVariable
    from .function import Function

    functions: list[tuple[dict[str, Any], tuple[SharedVariable, ...]]] = []
    position: dict[int, int] = {}

    def encode(o: Any, depth: int) -> tuple[str, Any]:
        if depth > MAX_INNER_DEPTH:
            raise ValueError(f"fc.dumps: the objects given nest more than {MAX_INNER_DEPTH} deep")
        if isinstance(o, Function):
            if id(o) not in position:
                position[id(o)] = len(functions)
                functions.append((_payload(o, embed_native, beside=True), tuple(o.shared_variables)))
            return ("function", position[id(o)])
        if isinstance(o, SharedVariable):
            return ("shared", o)
        if isinstance(o, (tuple, list)):
            return (type(o).__name__, [encode(i, depth + 1) for i in o])
        if isinstance(o, dict) and all(isinstance(k, (str, int)) for k in o):
            return ("dict", [(k, encode(v, depth + 1)) for k, v in o.items()])
        raise TypeError(
            f"fc.dumps takes a compiled function, or tuples, lists and dicts (str or int keys) of "
            f"functions and shared variables; got {type(o).__name__}. Pickle other objects apart "
            "(pickle.dumps), or hold values in shared variables"
        )

    return {"tree": encode(obj, 0), "functions": functions}


def _value_digest(value: Any) -> str:
    """The SHA-256 of a shared value: its dtype, shape and bytes (a sparse matrix's: its
    format's too, and its three arrays')."""
    sparse = _sparse_module()
    if sparse is not None and sparse.is_sparse_value(value):
        return sparse.sparse_value_digest(value)
    h = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
    h.update(np.ascontiguousarray(value).data)
    return h.hexdigest()


def _payload(f: Function, embed_native: bool, *, beside: bool = False) -> dict[str, Any]:
    """The body of ``f``'s payload, before pickling.  ``beside``: the shared values travel
    beside the payload, with the variables (the payload records each one's digest)."""
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
        "shared": [_shared_record(sv, beside) for sv in f.shared_variables],
        "updated": list(f.updated_indices),
        "mode": (f.mode.linker, f.mode.optimizer, f.mode.included_tags, f.mode.excluded_tags, f.mode.device),
        "flags": dict(f.code_flags),
        "allow_input_downcast": f.allow_input_downcast,
        "downcast_three_way": True,
        "trust_input": f.trust_input,
        "input_names": f.input_names,
        "defaults": f.defaults,
        "states": f.states,
        "advanced": f.advanced_inputs,
        "input_flags": f.input_flags,
        "output_keys": f.output_keys,
        "key": f.cache_key,
        "native": _native_of(f) if embed_native else None,
        "inner": _inner_of(f) if embed_native else {},
    }


#: The last field of a shared variable's record that is a random state (PyTensor's
#: ``shared(np.random.default_rng(s))``), so the loaded one takes generators and seeds again
RANDOM_STATE = "random_state"


#: The last field of the record of a sparse shared variable, its format after it ("sparse:csr")
SPARSE = "sparse:"


def _sparse_module() -> Any:
    """``fncache.tensor.sparse.type`` where it is loaded (a sparse value or variable exists only
    once it is), else None."""
    return sys.modules.get("fncache.tensor.sparse.type")


def _kind(sv: Any) -> str | None:
    """The marker ending a shared variable's record: RANDOM_STATE, SPARSE and its format, or
    None for an array."""
    if _is_random_state(sv):
        return RANDOM_STATE
    sparse = _sparse_module()
    if sparse is not None and isinstance(sv, sparse.SparseSharedVariable):
        return SPARSE + sv.type.format
    return None


def _sparse_format(marker: Any) -> str | None:
    """The format a record's SPARSE marker names, or None."""
    if isinstance(marker, str) and marker.startswith(SPARSE) and marker[len(SPARSE) :] in ("csr", "csc"):
        return marker[len(SPARSE) :]
    return None


def _shared_record(sv: Any, beside: bool) -> tuple:
    """(name, value, static shape, strict), or with ``beside`` (name, dtype, static shape,
    strict, value digest); then RANDOM_STATE for a random state (whose module is loaded where
    one was made: a function without one does not import it), or SPARSE and its format for a
    sparse matrix."""
    value = sv.get_value(borrow=True)
    if beside:
        record = (sv.name, sv.dtype, sv.type.shape, sv.strict, _value_digest(value))
    else:
        record = (sv.name, value, sv.type.shape, sv.strict)
    kind = _kind(sv)
    return record if kind is None else (*record, kind)


def _is_random_state(sv: Any) -> bool:
    states = sys.modules.get("fncache.tensor.random.variable")
    return states is not None and isinstance(sv, states.RandomGeneratorSharedVariable)


def _shared_variable(name: str | None, value: np.ndarray, *declared: Any) -> Any:
    """The shared variable a record describes (a record checked by ``_check_fields``)."""
    if declared[2:] == (RANDOM_STATE,):
        from ..tensor.random.variable import RandomGeneratorSharedVariable

        return RandomGeneratorSharedVariable(value, name)
    if len(declared) == 3 and _sparse_format(declared[2]):
        from ..tensor.sparse.type import SparseSharedVariable

        return SparseSharedVariable(value, name, declared[1])
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


def load_function(payload: bytes, shared: Any = None) -> Function:
    """What ``pickle.loads`` calls; the name is in every pickle made so far and must stay.
    ``shared``: the shared variables pickled beside the payload (pickles made before they
    travelled so have none: their values are in the payload)."""
    body, fkey = _verified_body(payload)
    p = _unpickled(body)
    _check_payload(p)
    _check_key(p, fkey)
    return _rebuild(p, shared)


def loads(data: bytes, key: str | None = None) -> Any:
    """Rebuild a function (or the objects :func:`dumps` was given) from :func:`dumps` bytes:
    check format, checksum and signature, then unpickle.  ``key``: the cache key
    (``f.cache_key``) of the function expected; a payload of any other function, or of several
    objects, is refused before anything is unpickled.  Every malformed payload is a
    :class:`~fncache.errors.PickleError`."""
    body, fkey = _verified_body(data)
    if key is not None and fkey != key:
        held = {None: "function (unknown: format 1)", BUNDLE_KEY: "several objects"}.get(
            fkey, f"function {fkey}"
        )
        raise PickleError(f"the function payload holds {held}, not the expected {key}")
    p = _unpickled(body)
    if fkey == BUNDLE_KEY:
        return _unbundle(p)
    _check_payload(p)
    _check_key(p, fkey)
    return _rebuild(p)


def _unpickled(body: bytes) -> Any:
    try:
        return pickle.loads(body)
    except Exception as e:
        raise PickleError(f"the function payload could not be unpickled: {type(e).__name__}: {e}") from e


def _check_key(p: dict[str, Any], fkey: str | None) -> None:
    """The body is of the function the header names (format 1 names none)."""
    if fkey is not None and p["key"] != fkey:
        raise PickleError(
            f"the function payload's body is of function {p['key']!r}, its header says {fkey!r}"
        )


def _unbundle(b: Any) -> Any:
    """The objects of a payload of several objects (:func:`_bundle`), each function rebuilt
    once, bound to the shared variables its body's pickle made one object each."""
    if not (
        isinstance(b, dict)
        and isinstance(b.get("functions"), list)
        and all(isinstance(i, tuple) and len(i) == 2 for i in b["functions"])
    ):
        raise PickleError(
            "the function payload does not hold a function, nor functions and shared variables (fields missing)"
        )
    for p, _ in b["functions"]:
        _check_payload(p)
    functions = [_rebuild(p, shared) for p, shared in b["functions"]]
    return _untree(b.get("tree"), functions, 0)


def _untree(node: Any, functions: list[Function], depth: int) -> Any:
    """The object a bundle's ``tree`` node encodes (checked: it is data of the payload)."""
    from ..tensor.shared import SharedVariable

    def malformed(what: str) -> PickleError:
        return PickleError(f"the payload of several objects is malformed: {what}")

    if depth > MAX_INNER_DEPTH:
        raise malformed(f"its objects nest more than {MAX_INNER_DEPTH} deep")
    if not (isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], str)):
        raise malformed(f"a node is {type(node).__name__}, not a (kind, value) pair")
    kind, value = node
    if kind == "function" and type(value) is int and 0 <= value < len(functions):
        return functions[value]
    if kind == "shared" and isinstance(value, SharedVariable):
        return value
    if kind in ("tuple", "list") and isinstance(value, list):
        items = [_untree(i, functions, depth + 1) for i in value]
        return tuple(items) if kind == "tuple" else items
    if (
        kind == "dict"
        and isinstance(value, list)
        and all(isinstance(i, tuple) and len(i) == 2 for i in value)
    ):
        if not all(isinstance(k, (str, int)) for k, _ in value):
            raise malformed("a dict key is neither str nor int")
        return {k: _untree(v, functions, depth + 1) for k, v in value}
    raise malformed(f"a {kind!r} node holds {type(value).__name__}")


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
    for field in ("single", "trust_input"):
        need(isinstance(p[field], bool), field, "a bool")
    downcast = p["allow_input_downcast"]
    need(downcast is None or type(downcast) is bool, "allow_input_downcast", "None or a bool")
    need(p.get("downcast_three_way") in (None, True), "downcast_three_way", "absent or True")
    need(
        isinstance(p["shared"], list)
        and (
            all(_value_inside(i) for i in p["shared"])
            or depth == 0
            and all(_value_beside(i) for i in p["shared"])
        ),
        "shared",
        "a list of (name, array) or (name, array, static shape, strict) or, in a payload beside"
        " its shared variables, (name, dtype, static shape, strict, value digest); a random"
        " state's ends with 'random_state'",
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
    advanced = p.get("advanced", [])  # absent from payloads written before In(rng, mutable=True)
    need(
        isinstance(advanced, list)
        and all(
            isinstance(a, tuple)
            and len(a) == 2
            and type(a[0]) is int
            and type(a[1]) is int
            and 0 <= a[0] < p["n_inputs"]
            and a[1] >= 1
            for a in advanced
        ),
        "advanced",
        "a list of (input position, draws)",
    )
    flags_in = p.get("input_flags")  # absent from payloads written before In(strict=, allow_downcast=)
    need(
        flags_in is None
        or isinstance(flags_in, list)
        and len(flags_in) == p["n_inputs"]
        and all(
            isinstance(fl, tuple)
            and len(fl) == 2
            and type(fl[0]) is bool
            and (fl[1] is None or type(fl[1]) is bool)
            for fl in flags_in
        ),
        "input_flags",
        "None or a (strict, allow_downcast) per input",
    )
    keys = p.get("output_keys")  # absent from payloads written before outputs as a dict
    need(
        keys is None
        or isinstance(keys, list)
        and len(keys) == p["n_outputs"]
        and all(isinstance(k, str) for k in keys),
        "output_keys",
        "None or a str per output",
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
                f"{__version__} reads format {FORMAT} (and the older formats 1 and 2) only. Load it "
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
    if checksum is None:
        _check_memo_indices(body)
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


#: The opcodes that name a memo index: unpickling grows its memo to the largest one named.
_MEMO_OPCODES = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"})


def _check_memo_indices(body: bytes) -> None:
    """Refuse a body without a checksum (format 1) that names a memo index no pickler could
    have written there. A pickler numbers its memo entries in order, so an index is below the
    count of opcodes before it; one damaged byte can make it millions, and unpickling would
    then allocate and clear gigabytes for tens of seconds before failing. A body with a
    checksum was written as read, so only format 1 needs the (pure Python) walk."""
    try:
        for count, (opcode, arg, _) in enumerate(pickletools.genops(body)):
            if opcode.name in _MEMO_OPCODES and int(arg) >= count:
                raise PickleError(
                    f"the fncache function payload is damaged: an {opcode.name} names memo index "
                    f"{arg} after {count} opcodes (format 1 has no checksum to tell this earlier)"
                )
    except PickleError:
        raise
    except Exception as e:
        raise PickleError(f"the function payload could not be unpickled: {type(e).__name__}: {e}") from e


def _old_downcast(p: dict[str, Any], downcast: bool | None) -> bool | None:
    """A payload's allow_input_downcast as fncache reads it now: before False and None were
    told apart, False (the default then) meant rounding Python floats, as None does now."""
    return None if downcast is False and not p.get("downcast_three_way") else downcast


def _rebuild(p: dict[str, Any], given: Any = None) -> Function:
    from .compile import attach_traces_of, function_key, optimize_graph
    from .function import assemble

    flags = {k: v for k, v in p["flags"].items() if k in CODE_FLAGS and k not in HOST_FLAGS}
    # A damaged payload that still unpickles may fail anywhere in decoding or linking.
    with _malformed_is_pickle_error(), config.change_flags(**flags):
        mode, shared, original, optimized = _decode(p, given)
        if config.reoptimize_unpickled_function:
            optimized = optimize_graph(original, mode)
            key = function_key(original, mode).digest
        else:
            key = p["key"]
        native, inner = p["native"], p.get("inner", {})
        fn = assemble(
            inputs=original.inputs[: p["n_inputs"]],
            outputs=original.outputs[: p["n_outputs"]],
            single=p["single"],
            shared=shared,
            updated=p["updated"],
            mode=mode,
            name=p["name"],
            allow_input_downcast=_old_downcast(p, p["allow_input_downcast"]),
            original=original,
            optimized=optimized,
            cache_key=key,
            trust_input=p["trust_input"],
            build=_embedded_builder(native, inner) if native is not None or inner else None,
            input_names=p.get("input_names"),
            defaults=_read_only(p.get("defaults")),
            states=p.get("states"),
            advanced=p.get("advanced"),
            input_flags=None
            if p.get("input_flags") is None
            else [(strict, _old_downcast(p, downcast)) for strict, downcast in p["input_flags"]],
            output_keys=p.get("output_keys"),
        )
    if not config.reoptimize_unpickled_function:
        # the messages of the sender's graph, which tags (not pickled) held: found again from
        # the original graph at the first error only, which alone reads them
        fn.untraced = functools.partial(attach_traces_of, optimized, original, mode)
    return fn


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


def _value_inside(entry: Any) -> bool:
    """A shared variable with its value in the payload: (name, value), as written before
    static sizes and strict were recorded, or (name, value, static shape, strict)."""
    from ..tensor.shared import declarations_fit

    if isinstance(entry, tuple) and len(entry) == 5 and _sparse_format(entry[4]) is not None:
        sparse = _sparse_module()
        return (
            sparse is not None
            and isinstance(entry[0], (str, type(None)))
            and sparse.is_sparse_value(entry[1])
            and entry[1].format == _sparse_format(entry[4])
            and entry[2] == (None, None)
            and isinstance(entry[3], bool)
        )
    return (
        isinstance(entry, tuple)
        and len(entry) in (2, 4, 5)
        and isinstance(entry[0], (str, type(None)))
        and isinstance(entry[1], np.ndarray)
        and (len(entry) == 2 or declarations_fit(entry[1], entry[2], entry[3]))
        and (len(entry) < 5 or _random_state_fits(entry[4], entry[1].dtype, entry[1].shape))
    )


def _random_state_fits(marker: Any, dtype: Any, shape: Any) -> bool:
    """A record's RANDOM_STATE marker on a random state's value (two uint64 words)."""
    return marker == RANDOM_STATE and str(dtype) == "uint64" and tuple(shape) == (2,)


def _value_beside(entry: Any) -> bool:
    """A shared variable pickled beside the payload: (name, dtype, static shape, strict, digest)
    (then RANDOM_STATE for a random state)."""
    return (
        isinstance(entry, tuple)
        and len(entry) in (5, 6)
        and isinstance(entry[0], (str, type(None)))
        and isinstance(entry[1], str)
        and isinstance(entry[2], tuple)
        and all(s is None or type(s) is int and s >= 0 for s in entry[2])
        and isinstance(entry[3], bool)
        and isinstance(entry[4], str)
        and (
            len(entry) < 6
            or _random_state_fits(entry[5], entry[1], entry[2])
            or _sparse_format(entry[5]) is not None
            and entry[2] == (None, None)
        )
    )


def _bound_shared(entries: list[tuple[Any, ...]], given: Any) -> list[Any]:
    """The shared variables pickled beside a payload, once each is checked against the
    declaration and value digest the payload records (covered by its checksum and signature:
    a value changed in the pickle is refused, whether or not the payload is signed)."""
    from ..graph.types import TensorType
    from ..tensor.shared import SharedVariable

    if not all(_value_beside(i) for i in entries):
        raise PickleError(
            "the function payload is malformed: it holds its shared values, yet shared variables were pickled beside it"
        )
    if not isinstance(given, tuple) or len(given) != len(entries):
        n = len(given) if isinstance(given, tuple) else type(given).__name__
        raise PickleError(
            f"the function payload reads {len(entries)} shared variable(s); the pickle gave {n} beside it"
        )
    for (name, dtype, shape, strict, digest, *state), sv in zip(entries, given):
        if not isinstance(sv, SharedVariable) or _kind(sv) != (state[0] if state else None):
            kind = (
                "random state" if state == [RANDOM_STATE] else "sparse matrix" if state else "shared variable"
            )
            raise PickleError(
                f"the pickle gave {type(sv).__name__} where the function payload reads {kind} {name!r}"
            )
        if state and _sparse_format(state[0]):
            declared = _sparse_module().SparseTensorType(_sparse_format(state[0]), dtype)
        else:
            declared = TensorType(dtype, shape)  # a random state's type is one (uint64, (2,))
        if sv.type != declared or sv.strict != strict or sv.name != name:
            raise PickleError(
                f"the pickle gave shared variable {sv.name!r} of {sv.type} (strict={sv.strict}) where "
                f"the function payload reads {name!r} of {declared} (strict={strict}): the pickle was modified"
            )
        if _value_digest(sv.get_value(borrow=True)) != digest:
            raise PickleError(
                f"shared variable {name!r} does not hold the value the function payload records (its "
                "SHA-256 differs): the pickle was modified after it was written, or the variable was "
                "set between two dumps of one Pickler"
            )
    return list(given)


def _decode(
    p: dict[str, Any], given: Any = None
) -> tuple[Mode, list[Any], FunctionGraph, FunctionGraph | None]:
    """The mode, shared variables and graphs of a payload (the optimized one unless it will be
    reoptimized); checked, since a damaged graph may still unpickle.  ``given``: the shared
    variables pickled beside the payload, if it was."""
    mode = Mode(*p["mode"])
    if given is not None:
        shared = _bound_shared(p["shared"], given)
    elif all(_value_inside(i) for i in p["shared"]):
        # payloads written before shared variables had static sizes and strict hold (name, value)
        shared = [_shared_variable(name, value, *declared) for name, value, *declared in p["shared"]]
    else:
        raise PickleError(
            "this function payload's shared values are held by the pickle it came in, beside it: "
            "load that pickle (pickle.loads), not the payload alone"
        )
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
