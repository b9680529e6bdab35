"""Canonical text of op properties: the one notion of op identity.

Two ops are equal exactly when the canonical texts of their type and ``__props__`` are equal;
`merge` (through ``Op.__eq__``/``__hash__``) and the cache keys (through ``Op.signature``) both
read it, so an op that merges with another always shares its keys and one that does not never
does. The text is built from the values themselves, never from an object's display text (its
``repr`` or ``str`` may print two different values alike), so a new op gets a sound identity
from its ``__props__`` alone:

* numbers and strings by their exact repr (``1``, ``1.0``, ``True`` and ``'1'`` differ), a NaN
  by its bits (its sign and payload);
* containers are written element by element, dicts and sets in sorted order;
* numpy arrays by a hash of dtype, shape and bytes;
* objects by what pickling them records (``__reduce__``: a constructor and its arguments, or a
  class and its state), so value types such as ``Composite`` and ``TensorType`` need nothing;
* callables (user functions of ``as_op``) by a hash of their cloudpickle; one that cannot be
  pickled gets a token unique to this process, so it never shares a key with anything;
* a function or class of the user's (a helper held as a prop, an object's class) also by the
  hash of its code, as :func:`class_code` hashes an op class's.

An op class defined outside fncache adds :func:`class_code` to its ops' identity: fncache's own
code is in every function key (``compiler_source``), a user's is not, and a user who edits
``perform`` (or a constant it reads, or a helper it calls in another module of theirs) between
two runs must not get the values the old code computed at compile time (constant folding) back
from the cache. What it follows: the user's own modules (any module not installed: not the
standard library, ``site-packages`` nor fncache), transitively; installed packages count by
their name and version, C extensions and files read at run time not at all.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import importlib.machinery
import logging
import os
import site
import struct
import sys
import threading
import types
import weakref
from typing import Any

import numpy as np

__all__ = ["canonical", "class_code", "class_code_changed", "type_text"]

log = logging.getLogger(__name__)

_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _callable(fn: Any) -> str:
    import cloudpickle  # only ops holding user functions need it

    try:
        data = cloudpickle.dumps(fn)
    except Exception:  # a closure over a lock or a socket: identity only within this process
        return f"fn:{_name(fn)}:unpicklable:{os.urandom(16).hex()}"
    return f"fn:{_name(fn)}:{hashlib.sha256(data).hexdigest()[:32]}{_user_code(fn)}"


#: Types whose repr is exact and tells every two unequal values apart (and values of two of
#: these types apart: ``1``, ``1.0``, ``True`` and ``'1'`` print differently).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def canonical(value: Any) -> str:
    """The canonical text of ``value`` (see the module docstring); TypeError if it has none."""
    t = type(value)
    if t in _PLAIN:
        return repr(value) if value == value else _nan(value)
    if t is tuple:
        for v in value:
            if type(v) not in _PLAIN or v != v:
                return "(" + ",".join([canonical(v) for v in value]) + ",)"
        return repr(value)  # the common leaf, e.g. ("in", 0): one C call
    if t is list:
        return "[" + ",".join([canonical(v) for v in value]) + "]"
    if t is bytes:
        return f"bytes:{value.hex()}"
    if t is dict:
        return "{" + ",".join(sorted([f"{canonical(k)}:{canonical(v)}" for k, v in value.items()])) + "}"
    if t in (set, frozenset):
        return "set{" + ",".join(sorted([canonical(v) for v in value])) + "}"
    return _canonical_object(value, t)


def type_text(t: Any) -> str:
    """The canonical text of a variable's type, as a graph's key reads it (its inputs' types
    and each node's output types).

    A class of fncache's whose repr names all it is (``TensorType``: dtype and static shape)
    says so with its own ``_repr_is_identity`` (a subclass does not inherit it: its repr would
    not name it); any other type is its class and canonical text, and a type with no canonical
    form is its object's, in this process only (never a key another type shares)."""
    cls = type(t)
    if cls.__dict__.get("_repr_is_identity", False):
        return repr(t)
    try:
        return f"type:{_name(cls)}{_user_code(cls)}{canonical(t)}"
    except TypeError:
        return _unique_type_text(t)


#: Types with no canonical form, by id, each kept (so its id is not reused) with its token.
_type_tokens: dict[int, tuple[Any, str]] = {}


def _unique_type_text(t: Any) -> str:
    """A token of ``t`` itself, the same each time it is asked for: a graph keyed twice keys alike."""
    found = _type_tokens.get(id(t))
    if found is None:
        found = _type_tokens[id(t)] = (t, f"unique-type:{os.urandom(16).hex()}")
    return found[1]


def _nan(value: float) -> str:
    """A NaN by its bits: every NaN prints ``nan``, but its sign (``copysign``) and payload
    (which arithmetic carries into its result) are part of its value."""
    return f"nan:{struct.pack('<d', value).hex()}"


def _canonical_object(value: Any, t: type) -> str:
    if isinstance(value, np.ndarray):
        h = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
        return f"array:{h.hexdigest()[:32]}"
    if isinstance(value, np.generic):
        return f"np.{value.dtype.str}:{canonical(value.item())}"
    if isinstance(value, np.dtype):
        return f"dtype:{value.str}"
    if t.__reduce__ is not object.__reduce__ and not isinstance(value, type):
        # a value type that says how it is built (Composite, TensorType): the common case
        return _reduced(value.__reduce__(), t)
    if isinstance(value, type):
        return f"type:{_name(value)}{_user_code(value)}"
    if isinstance(value, _CALLABLES):
        return _callable(value)
    try:
        reducer = copyreg.dispatch_table.get(t)  # e.g. numpy's ufuncs, pickled by name
        reduced = reducer(value) if reducer is not None else value.__reduce_ex__(4)
    except Exception as e:
        raise TypeError(
            f"op property {value!r} of type {_name(t)} has no canonical form ({e}); "
            "give its class a __reduce__ returning (constructor, arguments)"
        ) from None
    return _reduced(reduced, t)


def _reduced(reduced: Any, t: type) -> str:
    """The text of what ``__reduce__`` returned for a value of type ``t``."""
    if isinstance(reduced, str):  # a module-level object, pickled by its name
        return f"global:{getattr(t, '__module__', '?')}.{reduced}"
    ctor, args, *rest = reduced
    state = rest[0] if rest else None
    return f"obj:{_name(ctor)}{canonical(args)}" + ("" if state is None else canonical(state))


#: Class attributes that say nothing about what the class computes.
_CLASS_NOISE = frozenset(
    {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__"}
    | {"__firstlineno__", "__static_attributes__", "_code_in_identity"}
    | {"_abc_impl"}  # abc's registry of subclasses, a cache
)
_codes: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
#: The module names and closure variables each hashed class's code read: ``(namespace, name,
#: object named)`` or ``(cell, None, its object)``, the object itself (not its id, which a new
#: object could take once it is freed).
_reads: "weakref.WeakKeyDictionary[Any, list[tuple[Any, str | None, Any]]]" = weakref.WeakKeyDictionary()
#: What a name no module defines reads as (a name defined later is a change too).
_ABSENT = object()
#: ``now``: a code walk runs in this thread (it follows the functions and classes it meets).
_walking = threading.local()
#: Module-level values a method may read as data (a factor, a lookup table).
_DATA = (tuple, list, dict, set, frozenset, np.ndarray, np.generic)
#: At most this many functions, classes and modules of the user's are followed from one op
#: class; past it the class is keyed for this process only (a bound, not a hash of part of the
#: code, which could answer an edit of the rest with the old values).
MAX_FOLLOWED = 2000


class _TooFar(Exception):
    """An op class reaches more than ``MAX_FOLLOWED`` objects of user code."""


def class_code(cls: type) -> str:
    """A hash of what ``cls`` and its bases defined outside fncache compute with: each
    method's bytecode and constants, its default arguments and the values it closes over, and
    what the code reads through its module's names: data (numbers, strings, containers,
    arrays), and the functions, classes (their methods and attributes) and modules (the
    attributes the code names) of the user's own modules, followed transitively to their own
    code and data, whichever module they live in. Installed packages (the standard library,
    ``site-packages``, fncache itself) and C extensions are not followed: they are identified
    by their name and the package's version. Line numbers, file names and docstrings are left
    out, so the same code gives the same hash in every process; a value with no canonical text,
    or a class reaching more than ``MAX_FOLLOWED`` objects, gives a hash of this process only
    (the class is then compiled anew by each process, never answered with another version's
    entry). Computed once per class, and again when a module name its code reads names another
    object now (a setting assigned in a notebook's cell)."""
    return _code_hash(cls)


def class_code_changed(cls: type) -> bool:
    """Whether :func:`class_code` of ``cls`` changed since it was last computed: a module name
    its code reads (a setting, a helper) names another object now. A function key asks this
    of each user's op class in its graph (its ops' identities were computed before), so that a
    setting assigned between two compiles in one process (a notebook's cell run again) is not
    answered with the entry of its old value (the optimizer may have run the op on
    constants)."""
    old = _codes.get(cls)
    return old is not None and _code_hash(cls) != old


def _unchanged(root: Any) -> bool:
    """Whether each module name and closure variable the code of ``root`` read when it was
    hashed names the same object now (a dict lookup per name; a closure's variable is assigned
    anew by ``nonlocal``, as a setting of the function that made the class). Not seen: a value changed in place (a list's item, an
    array's values) and a class attribute assigned (an op's call counter is one), which a
    fresh process keys by their values then."""
    reads = _reads.get(root)
    return reads is None or all(_read_now(where, name) is value for where, name, value in reads)


def _read_now(where: Any, name: str | None) -> Any:
    """What the module name ``name`` of the namespace ``where`` names now, or with no name the
    closure cell ``where`` holds; ``_ABSENT`` where nothing is."""
    if name is not None:
        return where.get(name, _ABSENT)
    try:
        return where.cell_contents
    except ValueError:  # a closure variable not assigned (or deleted)
        return _ABSENT


def _user_code(obj: Any) -> str:
    """The code hash of a user's function or class met in op properties (a helper held as a
    prop, the class of a helper object): its code computes the op's values as much as the op's
    own. Nothing for fncache's and installed packages', nor inside a code walk, which follows
    them itself."""
    if getattr(_walking, "now", False) or not _followed(getattr(obj, "__module__", None)):
        return ""
    return f"#code:{_code_hash(obj)}"


def _code_hash(root: Any) -> str:
    """:func:`class_code` of a class, or the same hash of a function; computed again only when
    a module name its code reads names another object now."""
    found = _codes.get(root)
    if found is None or not _unchanged(root):
        walk = _Walk()
        _walking.now = True
        try:
            if isinstance(root, type):
                for klass in root.__mro__:
                    if (getattr(klass, "__module__", "") or "").split(".")[0] not in ("builtins", "fncache"):
                        walk.ref(("own", id(klass)), klass)
            else:
                walk.function(root, own=True)
            found = walk.digest()
            _reads[root] = walk.reads
        except Exception as e:  # past the bound, or an object that fails to be read
            log.warning(
                "fncache: the code of %s %s; it is identified in this process only, so no other "
                "process reuses its compiled functions",
                _name(root),
                f"reaches more than {MAX_FOLLOWED} functions, classes and modules of user code"
                if isinstance(e, _TooFar)
                else f"reads an object that could not be hashed ({type(e).__name__}: {e})",
            )
            found = f"unique:{os.urandom(16).hex()}"
        finally:
            _walking.now = False
        _codes[root] = found
    return found


class _Walk:
    """The code one op class reaches, breadth first: each object (a class's own attributes, a
    function, a module's named attributes) is written once, in the order it is first met, and
    referred to by that position (``#3``), so recursion and modules importing each other end,
    and a long chain of helpers costs neither deep recursion nor nested text."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.queue: list[tuple[tuple, Any]] = []
        #: each module name read, with the namespace it is read from and the object it named, and
        #: each closure cell read (its name None), with the object it held
        self.reads: list[tuple[Any, str | None, Any]] = []

    def ref(self, key: tuple, obj: Any) -> str:
        """``#n``, the position of ``obj`` (of kind ``key[0]``), queued when first met."""
        found = self.index.get(key)
        if found is None:
            if len(self.index) >= MAX_FOLLOWED:
                raise _TooFar
            found = self.index[key] = len(self.queue)
            self.queue.append((key, obj))
        return f"#{found}"

    def digest(self) -> str:
        h = hashlib.sha256()
        done = 0
        while done < len(self.queue):  # texts met on the way are queued behind
            (kind, *rest), obj = self.queue[done]
            text = getattr(self, f"_{kind}")(obj, *rest[1:])
            h.update(f"{len(text)}:{text}".encode())
            done += 1
        return h.hexdigest()[:32]

    def _own(self, klass: type) -> str:
        """What ``klass`` itself defines (not its bases)."""
        lines = [f"class {_name(klass)}"]
        for attr, value in sorted(vars(klass).items()):
            if attr not in _CLASS_NOISE:
                lines.append(f"{attr}={self.member(value, own=True)}")
        return "\n".join(lines)

    def member(self, value: Any, own: bool = False) -> str:
        """A class attribute, default value, closed-over value or code constant: functions and
        classes by reference, other values by their canonical text. ``own``: a method of the
        op class itself, hashed by its code even when the class is installed."""
        if isinstance(value, (staticmethod, classmethod)):
            return self.member(value.__func__, own)
        if isinstance(value, property):
            return ",".join(self.member(f, own) for f in (value.fget, value.fset, value.fdel))
        if isinstance(value, functools.cached_property):  # its function runs as a method does
            return f"cached_property({self.member(value.func, own)})"
        if isinstance(value, types.FunctionType):
            return self.function(value, own)
        if isinstance(value, type):
            return self.klass(value)
        if isinstance(value, types.ModuleType):
            return self.module(value, ())
        if type(value) in (list, tuple, dict):
            return self.container(value)
        found = None if type(value) in _PLAIN or isinstance(value, _DATA) else self.callable(value)
        if found is not None:
            return found
        # an instance of a user's class: its class's code as well as its state
        code = self.klass(type(value)) if _followed(type(value).__module__) else ""
        try:
            return code + canonical(value)
        except TypeError:  # a value with no canonical form: the class keys alike in this process only
            return f"unique:{os.urandom(16).hex()}"

    def container(self, value: list | tuple | dict) -> str:
        """A list, tuple or dict: by its canonical text when it holds plain values only, else
        element by element (a table of functions, ``{"relu": relu}``: their code counts)."""
        values = value.values() if type(value) is dict else value
        if all(type(v) in _PLAIN for v in values):
            return canonical(value)
        if type(value) is not dict:
            return f"{type(value).__name__}(" + ",".join(self.member(v) for v in value) + ")"
        try:
            keys = sorted((canonical(k), k) for k in value)  # unequal keys have unequal texts
        except TypeError:  # a key with no canonical form: the class keys alike in this process only
            return f"unique:{os.urandom(16).hex()}"
        return "dict(" + ",".join(f"{text}:{self.member(value[k])}" for text, k in keys) + ")"

    def callable(self, value: Any) -> str | None:
        """A callable made of a function: a ``functools.partial``, a bound method, a
        decorator's object (``functools.lru_cache``); None for anything else."""
        if isinstance(value, functools.partial):
            return (
                f"partial({self.member(value.func)};{self.member(value.args)};{self.member(value.keywords)})"
            )
        if isinstance(value, types.MethodType):
            return f"method({self.member(value.__func__)};{self.read(value.__self__, ())})"
        inner = self._wrapped(value)
        return None if inner is None else f"{_name(type(value))}({inner})"

    def _wrapped(self, obj: Any) -> str | None:
        """The function ``obj`` wraps (``functools.wraps``, ``functools.lru_cache``; Op's own
        wrapper around a storage-writing ``perform``); None if none."""
        try:
            wrapped = getattr(obj, "__wrapped__", None)
        except Exception:  # an object whose attribute lookup fails in its own way
            return None
        return self.function(wrapped) if isinstance(wrapped, types.FunctionType) else None

    def function(self, fn: types.FunctionType, own: bool = False) -> str:
        if not (own or _followed(fn.__module__)):
            # a library's decorator around a user's function: the wrapped function counts
            return _installed(fn) + (self._wrapped(fn) or "")
        return self.ref(("fn", id(fn)), fn)

    def _fn(self, fn: types.FunctionType) -> str:
        cells = ",".join(self._cell(c) for c in fn.__closure__ or ())
        defaults = self.member(fn.__defaults__) + self.member(fn.__kwdefaults__)
        inner = self._wrapped(fn) or ""
        return (
            f"fn {self.code(fn.__code__, fn.__globals__)}\ndefaults {defaults}\ncells {cells}\nwraps {inner}"
        )

    def _cell(self, cell: Any) -> str:
        value = _read_now(cell, None)
        self.reads.append((cell, None, value))
        return "unset" if value is _ABSENT else self.member(value)

    def klass(self, cls: type) -> str:
        """A class by its bases and what each defines, those of installed packages by name."""
        return "+".join(
            self.ref(("own", id(k)), k) if _followed(k.__module__) else _installed(k) for k in cls.__mro__
        )

    def module(self, module: types.ModuleType, names: tuple[str, ...]) -> str:
        """A module the code reads from (``helpers.scale``, ``pkg.helpers.scale``): the
        module's attributes that ``names`` (the code's names) name."""
        if not _followed(module.__name__):
            return f"module:{module.__name__}@{_version(module.__name__)}"
        return self.ref(("module", id(module), names), module)

    def _module(self, module: types.ModuleType, names: tuple[str, ...]) -> str:
        attrs = vars(module)
        self.reads += [(attrs, n, attrs.get(n, _ABSENT)) for n in names]
        return f"module {module.__name__}\n" + "\n".join(
            f"{n}={self.read(attrs[n], names)}" for n in names if n in attrs
        )

    def code(self, code: types.CodeType, globals_: dict[str, Any]) -> str:
        consts = ",".join(
            self.code(c, globals_) if isinstance(c, types.CodeType) else self.member(c)
            for c in code.co_consts
        )
        self.reads += [(globals_, n, globals_.get(n, _ABSENT)) for n in code.co_names]
        read = ",".join(
            f"{n}={self.read(globals_[n], code.co_names)}" for n in code.co_names if n in globals_
        )
        digest = hashlib.sha256(code.co_code).hexdigest()[:32]
        return f"code({digest};{len(consts)}:{consts};{code.co_names};{len(read)}:{read})"

    def read(self, value: Any, names: tuple[str, ...]) -> str:
        """A module-level value the code names: data by its value, functions, classes and
        modules by their code, an instance of a user's class by its class and state. Other
        objects (a logger, a lock, a library's object) say nothing."""
        if type(value) in _PLAIN or isinstance(value, _DATA):
            return self.member(value)
        if isinstance(value, types.ModuleType):
            return self.module(value, names)
        if isinstance(value, (types.FunctionType, type)):
            return self.member(value)
        found = self.callable(value)
        if found is not None:
            return found
        if not _followed(type(value).__module__):
            return "-"
        try:
            state = canonical(value)
        except TypeError:
            state = "-"  # only its class's code counts
        return f"{self.klass(type(value))}{state}"


def _installed(obj: Any) -> str:
    """A function or class of an installed package: its name and the package's version."""
    return f"ref:{_name(obj)}@{_version(getattr(obj, '__module__', '') or '')}"


_followed_memo: dict[str, bool] = {}
_roots: tuple[str, ...] | None = None


def _followed(module_name: str | None) -> bool:
    """Whether code of the module ``module_name`` is the user's own, to be followed: not the
    standard library, fncache, a C extension, nor anything under an installation folder
    (``site-packages``, ``dist-packages``, the interpreter's own). Code with no module object
    (run by ``exec``, a script's ``__main__``) is the user's."""
    name = module_name or ""
    found = _followed_memo.get(name)
    if found is None:
        found = _followed_memo[name] = _is_user_module(name)
    return found


def _is_user_module(name: str) -> bool:
    top = name.split(".")[0]
    if top in ("fncache", "fncache_cli"):
        return False
    if name == "__main__":  # the program's script, notebook or -c code, whoever runs it
        return True
    module = sys.modules.get(name)
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or ()), None)
    if not where:  # a module built into the interpreter, or code run from no file
        return top not in sys.stdlib_module_names
    if where.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return False
    real = os.path.realpath(where)
    parts = set(real.split(os.sep))
    return not ({"site-packages", "dist-packages"} & parts or real.startswith(_installation_roots()))


def _installation_roots() -> tuple[str, ...]:
    """The interpreter's own library folders and its site-packages folders (each ending in a
    separator)."""
    global _roots
    if _roots is None:
        import sysconfig  # here, not at the top: a warm hit with no user op never needs it

        paths = sysconfig.get_paths()
        roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
        roots += site.getsitepackages() if hasattr(site, "getsitepackages") else []
        _roots = tuple(sorted({os.path.join(os.path.realpath(r), "") for r in roots}))
    return _roots


_versions: dict[str, str] = {}


def _version(module_name: str) -> str:
    """The version of the package holding ``module_name``: its ``__version__``, else the
    installed distribution of that name's, else empty (the standard library's is the Python
    version, already in every key)."""
    top = module_name.split(".")[0]
    found = getattr(sys.modules.get(top), "__version__", None)
    if isinstance(found, str):
        return found
    if top not in _versions:
        # importlib.metadata costs a fresh process ~25 ms to import: only when a user's op reads
        # an installed package that has no __version__
        from importlib import metadata

        try:
            _versions[top] = metadata.version(top)
        except Exception:  # not a distribution's name (the standard library, a script)
            _versions[top] = ""
    return _versions[top]
