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
import dis
import functools
import hashlib
import importlib.machinery
import itertools
import logging
import os
import site
import struct
import sys
import threading
import types
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "canonical",
    "class_code",
    "class_code_changed",
    "identity",
    "identity_changed",
    "running_state",
    "RunningState",
    "type_text",
    "Watch",
    "writes_state",
]

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
        flat = np.ascontiguousarray(value).reshape(-1)
        # the bytes as they lie, without a copy where they are contiguous (an array of objects:
        # its items' addresses, this process's only)
        h.update(flat.tobytes() if value.dtype.hasobject or not flat.size else flat.view(np.uint8))
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
#: What each hashed class's code read, compared again at each key: ``(namespace, name, object
#: named, its contents)`` for a module name, ``(class, attribute, value, its contents)`` for a
#: class attribute (``(class, "", how many it has)``: one added), ``(cell, None, its object,
#: its contents)`` for a closure variable; the object itself (not its id, which a new object
#: could take once it is freed) and ``_contents`` of it.
_reads: "weakref.WeakKeyDictionary[Any, list[tuple[Any, str | None, Any, Any]]]" = weakref.WeakKeyDictionary()
#: The hashed classes whose code writes module state or class attributes (``writes_state``).
_writers: "weakref.WeakKeyDictionary[Any, RunningState | None]" = weakref.WeakKeyDictionary()
#: What a name no module defines reads as (a name defined later is a change too).
_ABSENT = object()
#: ``now``: a code walk runs in this thread (it follows the functions and classes it meets).
_walking = threading.local()
#: ``codes``: while an op's identity is computed in this thread (``identity``), the user's
#: functions and classes whose code hash it read, each with that hash.
_met = threading.local()
#: Module-level values a method may read as data (a factor, a lookup table).
_DATA = (tuple, list, dict, set, frozenset, np.ndarray, np.generic)
#: Values that cannot change in place, or that are followed as code (their names are read again).
_UNCHANGING = (
    bytes,
    np.generic,
    np.dtype,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    type,
    functools.partial,
)
#: The most a value's contents may cost to compare item by item again at each key
#: (``_contents``): its arrays' bytes, and ``_ITEM_BYTES`` for each other item (a number, a
#: container's entry). A larger value is compared by a hash of its canonical text instead (an
#: array's bytes hash at about 2 GB/s): as much as hashing it cost in the first place.
MAX_COMPARED = 1 << 20
_ITEM_BYTES = 64
#: At most this many functions, classes and modules of the user's are followed from one op
#: class; past it the class is keyed for this process only (a bound, not a hash of part of the
#: code, which could answer an edit of the rest with the old values).
MAX_FOLLOWED = 2000


class _TooFar(Exception):
    """An op class reaches more than ``MAX_FOLLOWED`` objects of user code."""


class _TooLarge(Exception):
    """A value costing more than ``MAX_COMPARED`` to compare item by item."""


class _Opaque(Exception):
    """A value whose contents are not plain data (an array of objects: its items' addresses)."""


#: The contents of a value no key can compare (``_Opaque``): seen changed at every key, and
#: what reads it is keyed anew each time (``_code_hash``, ``identity``), never answered from
#: an entry.
_UNCOMPARABLE = ("uncomparable",)


class _Size(NamedTuple):
    """What a key compares of a value the code changes in place itself (a buffer it fills, a
    memo, a log), besides which object it is: an array's shape and dtype (which filling it
    leaves alone), nothing of a container's (which the code may grow)."""

    of: tuple


def _size(value: Any) -> _Size:
    if isinstance(value, np.ndarray):
        return _Size((value.shape, value.dtype.str))
    return _Size(())


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
    entry). Computed once per class, and again when a module name, class attribute or closure
    variable its code reads names another object now, or a value it reads was changed in place
    (a setting changed in a notebook's cell; ``_unchanged``), but for the state the code writes
    itself (``writes_state``)."""
    return _code_hash(cls)


def class_code_changed(cls: type) -> bool:
    """Whether :func:`class_code` of ``cls`` changed since it was last computed: a module name
    its code reads (a setting, a helper) names another object now, or a value it reads was
    changed in place (a list's item, an array, a class attribute; see ``_contents``). A
    function key asks this of each user's op class in its graph (its ops' identities were
    computed before), so that a setting changed between two compiles in one process (a
    notebook's cell run again) is not answered with the entry of its old value (the optimizer
    may have run the op on constants)."""
    old = _codes.get(cls)
    return old is not None and _code_hash(cls) != old


class Watch(NamedTuple):
    """What an op's identity read that can change after it was computed (``identity``)."""

    #: the user's functions and classes whose code it hashed, each with that hash
    codes: tuple[tuple[Any, str], ...]
    #: ``_contents`` of the op's state then, less the attributes ``sized``; None where the
    #: state is not part of the identity
    state: Any
    #: the names of the attributes compared by which object they are and their ``_size``
    #: (``RunningState.in_place``), and each one's name, value and size then
    sized: frozenset[str]
    held: tuple[tuple[str, Any, Any], ...]


def _split(state: Any, sized: frozenset[str]) -> tuple[Any, tuple[tuple[str, Any, Any], ...]]:
    """``_contents`` of an op's ``state`` less the attributes ``sized``, and those as
    ``Watch.held`` has them."""
    if not sized or type(state) is not dict or sized.isdisjoint(state):
        return _contents(state), ()
    rest = {k: v for k, v in state.items() if k not in sized}
    return _contents(rest), tuple(
        sorted(((k, v, _size(v)) for k, v in state.items() if k in sized), key=_first)
    )


def _first(item: tuple) -> Any:
    return item[0]


def identity(
    compute: Callable[[], str], state: Any = None, sized: frozenset[str] = frozenset()
) -> tuple[str, Watch | None]:
    """The text ``compute`` makes of an op, and what :func:`identity_changed` reads again of
    what it read: the code of the user's functions and classes it hashed (an ``as_op``
    function, a user's op class) and, given the op's ``state`` (a user's op's attributes),
    that state's contents, those of its attributes ``sized`` by which object they are and
    their size only. None where it read neither (fncache's own ops: their props do not
    change). A state no key can compare (an array of objects) makes the text unique, and is
    seen changed at every key."""
    outer = getattr(_met, "codes", None)
    met: list[tuple[Any, str]] = []
    _met.codes = met
    try:
        text = compute()
    finally:
        _met.codes = outer
    if outer is not None:  # an op in another's props: its code counts for that one too
        outer.extend(met)
    contents, held = (None, ()) if state is None else _split(state, sized)
    if contents is _UNCOMPARABLE:
        text += f"unique:{os.urandom(16).hex()}"
    if not met and contents is None:
        return text, None
    return text, Watch(tuple(met), contents, sized, held)


def identity_changed(watch: Watch, state: Any = None) -> bool:
    """Whether what an op's identity read (``identity``) changed since: the code of a user's
    function or class it hashed (a module value it reads, changed), or the op's ``state``
    (an attribute assigned, an item of a list it holds changed in place)."""
    if any(_code_hash(root) != code for root, code in watch.codes):
        return True
    if watch.state is None:
        return False
    contents, held = _split(state, watch.sized)
    return not (
        _same_contents(watch.state, contents)
        and len(held) == len(watch.held)
        and all(a[0] == b[0] and a[1] is b[1] and a[2] == b[2] for a, b in zip(held, watch.held))
    )


def writes_state(cls: type) -> bool:
    """Whether the code of ``cls`` (its methods and the helpers they call) assigns a module
    name or a class attribute, changes a module value in place or passes it to a call, which
    may write it (``CALLS += 1``, ``type(self).runs += 1``, ``MEMO[k] = v``, ``LOG.append(x)``,
    ``np.copyto(BUF, x)``, ``np.add(x, 1, out=BUF)``), or writes its instance's attributes as
    it runs (``running_state``): state it keeps as it runs. A key compares no value the code
    assigns, and only the type and size of one it changes in place (``_unchanged``), else each
    run would make the next compile a miss; its ops are then run only when the function runs
    (``basic.has_side_effects``), so no compiled value depends on that state."""
    return running_state(cls) is not None


class RunningState(NamedTuple):
    """The attributes of its instances that a class's methods write as they run, outside
    ``__init__`` and the other methods that build an instance (``running_state``)."""

    #: assigned (``self.calls += 1``, ``self.cache = {}``): not part of the op's identity
    assigned: frozenset[str]
    #: changed in place or passed to a call (``self.buf.fill(0)``, ``np.copyto(self.buf, x)``,
    #: ``np.dot(x, self.w)``): part of its identity as the op is made, compared again at each
    #: key by which object they are and an array's shape and dtype only
    in_place: frozenset[str]


def running_state(cls: type) -> RunningState | None:
    """None where the code of ``cls`` writes no state (``writes_state``), else the attributes
    of its instances that its methods write as they run. The op runs only when the function
    runs, on a hit too the user's own op object (``runtime.compile.run_own_ops``), so nothing
    compiled depends on their values as they run; they are then left out of its identity
    (``Op.signature``), or compared by their size (``identity``), else each run would make the
    next compile a miss."""
    if cls not in _codes:
        _code_hash(cls)
    return _writers.get(cls)


def _unchanged(root: Any) -> bool:
    """Whether each module name, class attribute and closure variable the code of ``root``
    read when it was hashed names the same object now (a dict lookup per name; a closure's
    variable is assigned anew by ``nonlocal``, as a setting of the function that made the
    class), with the same contents where they can change in place and are small enough to
    compare (``_contents``). Not seen: a larger value changed in place, which a fresh process
    keys by its values then."""
    reads = _reads.get(root)
    if reads is None:
        return True
    for where, name, value, contents in reads:
        now = _read_now(where, name)
        if now is not value and not (name == "" and now == value):
            return False
        if contents is None:
            continue
        if isinstance(contents, _Size):
            if _size(now) != contents:
                return False
        elif not _same_contents(contents, _contents(now)):
            return False
    return True


def _read_now(where: Any, name: str | None) -> Any:
    """What the module name ``name`` of the namespace ``where`` names now (the attribute
    ``name`` of the class ``where``, or how many it has for ``""``), or with no name the
    closure cell ``where`` holds; ``_ABSENT`` where nothing is."""
    if isinstance(where, type):
        attrs = where.__dict__
        return len(attrs) if name == "" else attrs.get(name, _ABSENT)
    if name is not None:
        return where.get(name, _ABSENT)
    try:
        return where.cell_contents
    except ValueError:  # a closure variable not assigned (or deleted)
        return _ABSENT


def _contents(value: Any) -> tuple[Any, tuple[Any, ...]] | None:
    """What a key compares again of a value the code read, besides which object it is: its
    contents where they can change in place (a list's, dict's or set's items, an array's
    values, an object's attributes), with the functions, classes and other objects they hold
    by identity; None for a value that cannot change in place (a number, a string, a function:
    its name is read again). A value costing more than ``MAX_COMPARED`` to compare item by
    item is the hash of its canonical text; one holding an array of objects, or with no
    canonical text, is ``_UNCOMPARABLE``."""
    if type(value) in _PLAIN or isinstance(value, _UNCHANGING) or value is _ABSENT:
        return None
    held: list[Any] = []
    try:
        return _snapshot(value, held, [MAX_COMPARED, set()]), tuple(held)
    except _TooLarge:
        try:
            return f"digest:{hashlib.sha256(canonical(value).encode()).hexdigest()}", ()
        except (TypeError, RecursionError):
            return _UNCOMPARABLE
    except (_Opaque, RecursionError):  # nested deeper than the interpreter recurses
        return _UNCOMPARABLE


def _snapshot(value: Any, held: list[Any], room: list[Any]) -> Any:
    """``value``'s contents as a value ``==`` compares (an array's by the hash of its bytes),
    appending the objects it holds to ``held``; ``room``: the cost left (``_TooLarge`` past
    it) and the ids of the objects met."""
    room[0] -= _ITEM_BYTES
    if room[0] < 0:
        raise _TooLarge
    t = type(value)
    if t in _PLAIN or isinstance(value, (bytes, np.generic, np.dtype)):
        return t, value  # 1, 1.0 and True are equal, not alike; a NaN is only itself: read again
    if t in (list, tuple, dict):
        items = tuple(itertools.chain(value, value.values()) if t is dict else value)
        kinds = tuple(map(type, items))
        if _PLAIN.issuperset(kinds):  # numbers and strings only: compared in one call
            room[0] -= _ITEM_BYTES * len(items)
            if room[0] < 0:
                raise _TooLarge
            return t, items, kinds
        return t, tuple([_snapshot(v, held, room) for v in items])
    if t in (set, frozenset):
        return t, frozenset([_snapshot(v, held, room) for v in value])
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise _Opaque
        room[0] -= value.nbytes
        if room[0] < 0:
            raise _TooLarge
        return canonical(value)
    seen = id(value) in room[1]  # an object met before (a cycle): once is enough
    held.append(value)
    room[1].add(id(value))
    attrs = None if seen or isinstance(value, _UNCHANGING) else _namespace(value)
    return "@" if attrs is None else ("@", _snapshot(attrs, held, room))


def _namespace(value: Any) -> dict[str, Any] | None:
    """The attributes of ``value`` that its hash reads: all of them for an instance of a
    user's class, those of another object whose attributes are plain values only (a
    ``SimpleNamespace``, an ``argparse.Namespace`` of settings); None for any other."""
    attrs = getattr(value, "__dict__", None)
    if type(attrs) is not dict:
        return None
    if _followed(type(value).__module__) or all(type(v) in _PLAIN for v in attrs.values()):
        return attrs
    return None


def _same_contents(old: tuple[Any, tuple[Any, ...]], now: tuple[Any, tuple[Any, ...]] | None) -> bool:
    return (
        old is not _UNCOMPARABLE
        and now is not None
        and now[0] == old[0]
        and len(now[1]) == len(old[1])
        and all(a is b for a, b in zip(now[1], old[1]))
    )


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
            _reads[root], _writers[root] = walk.compared()
            if any(r[3] is _UNCOMPARABLE for r in _reads[root]):
                # an array of objects: what its items hold is not in the hash, so the code is
                # keyed anew at each key (``_unchanged`` sees it changed), never answered from
                # an entry
                log.info(
                    "fncache: %s reads an array of objects; its functions are compiled anew each time",
                    _name(root),
                )
                found = f"unique:{os.urandom(16).hex()}"
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
    met = getattr(_met, "codes", None)
    if met is not None and not getattr(_walking, "now", False):
        met.append((root, found))
    return found


class _Walk:
    """The code one op class reaches, breadth first: each object (a class's own attributes, a
    function, a module's named attributes) is written once, in the order it is first met, and
    referred to by that position (``#3``), so recursion and modules importing each other end,
    and a long chain of helpers costs neither deep recursion nor nested text."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.queue: list[tuple[tuple, Any]] = []
        #: each module name read by code, with the namespace it is read from, the object it
        #: named and its ``_contents``, and each closure cell read (its name None)
        self.reads: list[tuple[Any, str | None, Any, Any]] = []
        #: each attribute read of a module or class (a class's also ``(class, "", how many)``)
        self.attribute_reads: list[tuple[Any, str, Any, Any]] = []
        #: the module names the code assigns, by its namespace's id, and the attribute names
        self.written: set[tuple[int, str]] = set()
        self.written_attributes: set[str] = set()
        #: the module names whose values the code changes in place, by its namespace's id, and
        #: the attribute names of its instance (its own, or a class attribute read through it)
        self.changed: set[tuple[int, str]] = set()
        self.changed_attributes: set[str] = set()
        #: the attributes of their instance the methods assign as they run
        self.own: set[str] = set()
        #: the variables each code object (by its id) closes over and assigns, or changes in
        #: place: a closure's cell is then in ``written`` or ``changed`` as ``(id(cell), "")``
        self.written_cells: set[tuple[int, str]] = set()
        self.changed_cells: set[tuple[int, str]] = set()

    def ref(self, key: tuple, obj: Any) -> str:
        """``#n``, the position of ``obj`` (of kind ``key[0]``), queued when first met."""
        found = self.index.get(key)
        if found is None:
            if len(self.index) >= MAX_FOLLOWED:
                raise _TooFar
            found = self.index[key] = len(self.queue)
            self.queue.append((key, obj))
        return f"#{found}"

    def compared(self) -> tuple[list[tuple[Any, str | None, Any, Any]], RunningState | None]:
        """What a key compares again (``_unchanged``): the reads, less the names and
        attributes the code assigns itself, and with only the type and size (``_size``) of
        the values it changes in place itself; and whether it writes any state
        (``writes_state``): None if none, else the attributes of its instance it assigns and
        those it changes in place (``running_state``)."""
        kept: list[tuple[Any, str | None, Any, Any]] = []
        for attribute, reads in ((False, self.reads), (True, self.attribute_reads)):
            for r in reads:
                kept.extend(self._compared(r, attribute))
        writes = bool(self.own or self.changed_attributes)
        writes = writes or len(kept) < len(self.reads) + len(self.attribute_reads)
        writes = writes or any(isinstance(r[3], _Size) for r in kept)
        return kept, RunningState(frozenset(self.own), frozenset(self.changed_attributes)) if writes else None

    def _compared(self, r: tuple[Any, str | None, Any, Any], attribute: bool) -> list[tuple]:
        """The read ``r`` as a key compares it: none where the code assigns it, with its
        size only where the code changes it in place."""
        where, name, value, contents = r
        at = (id(where), "" if name is None else name)  # a closure variable: its cell
        if at in self.written or (attribute and name in self.written_attributes):
            return []
        if contents is not None and (
            at in self.changed or (isinstance(where, type) and name in self.changed_attributes)
        ):
            return [(where, name, value, _size(value))]
        return [r]

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
        attrs = vars(klass)
        self.attribute_reads.append((klass, "", len(attrs), None))
        for attr, value in sorted(attrs.items()):
            if attr not in _CLASS_NOISE:
                self.attribute_reads.append((klass, attr, value, _contents(value)))
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
        code = self.code(fn.__code__, fn.__globals__)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            # what the function writes of the variables it closes over (a memo, a count)
            if (id(fn.__code__), name) in self.written_cells:
                self.written.add((id(cell), ""))
            elif (id(fn.__code__), name) in self.changed_cells:
                self.changed.add((id(cell), ""))
        return f"fn {code}\ndefaults {defaults}\ncells {cells}\nwraps {inner}"

    def _cell(self, cell: Any) -> str:
        value = _read_now(cell, None)
        self.reads.append((cell, None, value, _contents(value)))  # its name None: a cell
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
        for n in names:
            value = attrs.get(n, _ABSENT)
            self.attribute_reads.append((attrs, n, value, _contents(value)))
        return f"module {module.__name__}\n" + "\n".join(
            f"{n}={self.read(attrs[n], names)}" for n in names if n in attrs
        )

    def code(self, code: types.CodeType, globals_: dict[str, Any]) -> str:
        consts = ",".join(
            self.code(c, globals_) if isinstance(c, types.CodeType) else self.member(c)
            for c in code.co_consts
        )
        changeable = set()
        for n in code.co_names:
            value = globals_.get(n, _ABSENT)
            contents = _contents(value)
            self.reads.append((globals_, n, value, contents))
            if contents is not None:
                changeable.add(n)
        found = _writes(code, changeable)
        self.written.update((id(globals_), n) for n in found.names)
        self.changed.update((id(globals_), n) for n in found.in_place)
        self.written_attributes |= found.attributes
        self.changed_attributes |= found.attributes_in_place
        self.own |= found.own
        self.written_cells.update((id(code), n) for n in found.cells)
        self.changed_cells.update((id(code), n) for n in found.cells_in_place)
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
            attrs = _namespace(value)  # settings in a SimpleNamespace: by their values
            return "-" if attrs is None else f"{_name(type(value))}{canonical(attrs)}"
        try:
            state = canonical(value)
        except TypeError:
            state = "-"  # only its class's code counts
        return f"{self.klass(type(value))}{state}"


#: Methods that change their object in place (a list's, a dict's, a set's, an array's).
_MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault"}
    | {"add", "discard", "sort", "reverse", "fill", "put", "resize", "itemset", "__setitem__"}
)
#: Instructions that copy or reorder the stack: an augmented assignment (``X[k] += 1``).
_SHUFFLES = frozenset({"COPY", "SWAP", "DUP_TOP", "DUP_TOP_TWO", "ROT_TWO", "ROT_THREE", "ROT_FOUR"})
#: Instructions that jump: the end of a straight run of instructions.
_JUMPS = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
#: The instructions that assign or delete a module name or an attribute.
_ASSIGNS = frozenset(dis.opmap[op] for op in ("STORE_GLOBAL", "DELETE_GLOBAL", "STORE_ATTR", "DELETE_ATTR"))


class _Writes(NamedTuple):
    """What one code object writes (``_writes``)."""

    #: module names it assigns or deletes (``global N; N += 1``)
    names: set[str]
    #: module names whose values it changes in place (``MEMO[k] = v``, ``LOG.append(x)``,
    #: ``np.copyto(BUF, x)``)
    in_place: set[str]
    #: attribute names it assigns or deletes on anything but its own instance
    #: (``type(self).runs += 1``)
    attributes: set[str]
    #: attribute names of its own instance whose values it changes in place or passes to a
    #: call outside building it (``self.buf.fill(0)``, ``np.copyto(self.buf, x)``; a class
    #: attribute read through ``self``: ``self.seen.append(x)``)
    attributes_in_place: set[str]
    #: the attributes of its own instance it assigns outside building it (``self.calls += 1``,
    #: ``self.cache = {}``): state the instance keeps as it runs
    own: set[str]
    #: the variables it closes over that it assigns (``nonlocal n; n += 1``), and those whose
    #: values it changes in place or passes to a call (``cache[k] = v``)
    cells: set[str]
    cells_in_place: set[str]


#: What names no attribute: the instance itself written (``self[k] = v``).
_NO_NAME = types.SimpleNamespace(argval="")
#: Methods that build their instance: what they write is its initial state, not state kept as
#: it runs.
_BUILDERS = frozenset({"__init__", "__new__", "__setstate__", "__post_init__", "__init_subclass__"})


def _writes(code: types.CodeType, changeable: set[str]) -> _Writes:
    """What ``code`` writes: the module names it assigns or deletes, and of ``changeable``
    (those naming values that can change in place) those it changes in place; the attribute
    names it assigns or deletes on anything but a local variable (``type(self).runs += 1`` or
    ``Op.runs = 0`` a class's; ``self.k = k`` in ``__init__`` is the instance's own state); and
    for a method (its first parameter its instance), the attributes of its instance it changes
    in place, and whether it writes the instance's state at all outside the methods that build
    it. A value is changed in place when, in the same straight run of instructions, it (or an
    item or attribute of it) is the target of an item or attribute assignment, of an augmented
    assignment or of a mutating method, or is passed to a call, which may write it
    (``MEMO[k] = v``, ``LOG.append(x)``, ``STATE.n += 1``, ``np.copyto(BUF, x)``,
    ``np.add(x, 1, out=BUF)``, ``fill(BUF)``), also through a local name given it
    (``log = LOG; log.append(x)``)."""
    found = _Writes(set(), set(), set(), set(), set(), set(), set())
    qualname = getattr(code, "co_qualname", code.co_name).split(".")
    method = len(qualname) > 1 and qualname[-2] != "<locals>" and code.co_argcount > 0
    this = code.co_varnames[0] if method and code.co_name not in _BUILDERS else None
    if not changeable and this is None and not code.co_freevars and _ASSIGNS.isdisjoint(code.co_code[::2]):
        return found  # the common helper: nothing to decode
    ins = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "EXTENDED_ARG")]
    aliases: dict[str, str] = {}  # local names given a changeable module value
    for k, i in enumerate(ins):
        if i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            found.names.add(i.argval)
        elif i.opname in ("STORE_ATTR", "DELETE_ATTR") and not (
            k and ins[k - 1].opname.startswith("LOAD_FAST")
        ):
            found.attributes.add(i.argval)
        elif i.opname in ("STORE_DEREF", "DELETE_DEREF") and i.argval in code.co_freevars:
            found.cells.add(i.argval)
        elif i.opname == "LOAD_DEREF" and i.argval in code.co_freevars:
            if _changed_in_place(ins, k + 1):
                found.cells_in_place.add(i.argval)
        elif i.opname == "LOAD_GLOBAL" and i.argval in changeable:
            after = ins[k + 1] if k + 1 < len(ins) else None
            if after is not None and after.opname == "STORE_FAST":
                aliases[after.argval] = i.argval
            elif _changed_in_place(ins, k + 1):
                found.in_place.add(i.argval)
        elif not i.opname.startswith("LOAD_FAST"):
            continue
        # the local on top (``LOAD_FAST_LOAD_FAST`` of Python 3.13 loads two)
        elif (top := i.argval[-1] if type(i.argval) is tuple else i.argval) in aliases:
            if _changed_in_place(ins, k + 1):
                found.in_place.add(aliases[top])
        elif top == this and k + 1 < len(ins):
            after = ins[k + 1]
            if after.opname == "LOAD_ATTR" and not _loads_method(after):
                if _changed_in_place(ins, k + 2):  # ``self.buf.fill(0)``, ``f(self.buf)``
                    found.attributes_in_place.add(after.argval)
            # ``self.k = v``, ``self.n += 1``; not the instance passed on (``Apply(self, ...)``)
            elif _changed_in_place(ins, k + 1, calls=False):
                named = (j for j in ins[k + 1 :] if j.opname in ("STORE_ATTR", "DELETE_ATTR", "LOAD_ATTR"))
                found.own.add(next(named, _NO_NAME).argval)  # none: ``self[k] = v``
    return found


def _loads_method(i: dis.Instruction) -> bool:
    """Whether ``i`` loads a method to call on the value below it (``LOAD_METHOD``, or
    ``LOAD_ATTR`` with its method bit from Python 3.12)."""
    return i.opname == "LOAD_METHOD" or (
        i.opname == "LOAD_ATTR" and sys.version_info >= (3, 12) and bool(i.arg & 1)
    )


#: Instructions that call: the first of them for one call (``PRECALL`` before ``CALL`` on
#: Python 3.11) counts its arguments.
_CALLS = frozenset({"PRECALL", "CALL", "CALL_KW"})


def _changed_in_place(ins: list[dis.Instruction], start: int, calls: bool = True) -> bool:
    """Whether the value on top of the stack before ``ins[start]`` (or an item or attribute of
    it) is changed in place before it is consumed or the code jumps; with ``calls``, also
    whether it is passed to a call (not an item or attribute of it: ``f(SETTINGS["k"])`` reads
    a setting). A method called on it changes it when it is one of ``_MUTATORS``
    (another is followed as code where it is the user's)."""
    depth = 1  # the value's own slot is the bottom one counted
    item = False  # the value on top is an item or attribute of the one first met
    k = start
    while k < len(ins):
        i = ins[k]
        k += 1
        op = i.opname
        if op in _SHUFFLES and depth <= 2:  # ``X.n += 1``, ``X[k] += 1``
            return True
        if op in ("STORE_SUBSCR", "DELETE_SUBSCR") and depth == 2:
            return True
        if op in ("STORE_ATTR", "DELETE_ATTR") and depth == 1:
            return True
        if depth == 1 and (op == "LOAD_METHOD" or op == "LOAD_ATTR") and i.argval in _MUTATORS:
            return True
        if depth == 1 and _loads_method(i):
            return False  # a method of its own: its code is followed where it is the user's
        if depth == 1 and op == "LOAD_ATTR":
            item = True  # an attribute read (``float(SETTINGS.k)``), changed in place above
        if op in _CALLS:
            n = i.arg + (op == "CALL_KW")  # the values it takes above the callable's two slots
            if depth <= n + 2:  # an argument (the top ``arg`` values), or the callable
                return calls and not item and depth <= n
            if op == "PRECALL" and k < len(ins) and ins[k].opname == "CALL":
                k += 1  # Python 3.11: one call in two instructions
            depth -= n + 1  # a call above the value: its result in their place
            continue
        if (op == "BINARY_SUBSCR" and depth == 2) or (op == "BINARY_SLICE" and depth == 3):
            item = True
        elif op == "BINARY_OP" and depth <= 2:
            return depth == 2 and i.argrepr.endswith("=")  # ``buf += x`` on a local name for it
        elif _consumes(i, depth):
            return False  # it is part of another value now: ``[X, 1]``, ``X < 1``, ``-X``
        if i.opcode in _JUMPS or op.startswith("RETURN"):
            return False
        try:
            depth += dis.stack_effect(i.opcode, i.arg if i.opcode >= dis.HAVE_ARGUMENT else None)
        except ValueError:  # an instruction of no fixed effect: stop following
            return False
        if depth <= 0:
            return False
    return False


#: Instructions making one value of the top ``arg`` ones (``BUILD_MAP``: of twice as many).
_BUILDS = frozenset({"BUILD_LIST", "BUILD_TUPLE", "BUILD_SET", "BUILD_STRING", "BUILD_SLICE", "BUILD_MAP"})
#: Instructions making one value of the top two.
_BINARY = frozenset({"COMPARE_OP", "IS_OP", "CONTAINS_OP"})


def _consumes(i: dis.Instruction, depth: int) -> bool:
    """Whether ``i`` makes a new value of the one ``depth`` slots from the top, among others."""
    op = i.opname
    if op in _BUILDS:
        return depth <= i.arg * (2 if op == "BUILD_MAP" else 1)
    return (op in _BINARY and depth <= 2) or (op.startswith("UNARY_") and depth == 1)


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
