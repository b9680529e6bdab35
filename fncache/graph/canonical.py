"""Canonical text of op properties: the one notion of op identity.

Two ops are equal exactly when the canonical texts of their type and ``__props__`` are equal;
`merge` (through ``Op.__eq__``/``__hash__``) and the cache keys (through ``Op.signature``) both
read it, so an op that merges with another always shares its keys and one that does not never
does. The text is built from the values themselves, never from an object's display text (its
``repr`` or ``str`` may print two different values alike), so a new op gets a sound identity
from its ``__props__`` alone:

* numbers and strings by their exact repr (``1``, ``1.0``, ``True`` and ``'1'`` differ);
* containers are written element by element, dicts and sets in sorted order;
* numpy arrays by a hash of dtype, shape and bytes;
* objects by what pickling them records (``__reduce__``: a constructor and its arguments, or a
  class and its state), so value types such as ``Composite`` and ``TensorType`` need nothing;
* callables (user functions of ``as_op``) by a hash of their cloudpickle; one that cannot be
  pickled gets a token unique to this process, so it never shares a key with anything.

An op class defined outside fncache adds :func:`class_code` to its ops' identity: fncache's own
code is in every function key (``compiler_source``), a user's is not, and a user who edits
``perform`` (or a constant it reads) between two runs must not get the values the old code
computed at compile time (constant folding) back from the cache.
"""

from __future__ import annotations

import copyreg
import hashlib
import os
import types
import weakref
from typing import Any

import numpy as np

__all__ = ["canonical", "class_code"]

_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _callable(fn: Any) -> str:
    import cloudpickle  # only ops holding user functions need it

    try:
        data = cloudpickle.dumps(fn)
    except Exception:  # a closure over a lock or a socket: identity only within this process
        return f"fn:{_name(fn)}:unpicklable:{os.urandom(16).hex()}"
    return f"fn:{_name(fn)}:{hashlib.sha256(data).hexdigest()[:32]}"


#: Types whose repr is exact and tells every two unequal values apart (and values of two of
#: these types apart: ``1``, ``1.0``, ``True`` and ``'1'`` print differently).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def canonical(value: Any) -> str:
    """The canonical text of ``value`` (see the module docstring); TypeError if it has none."""
    t = type(value)
    if t in _PLAIN:
        return repr(value)
    if t is tuple:
        for v in value:
            if type(v) not in _PLAIN:
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
        return f"type:{_name(value)}"
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
    | {"__firstlineno__", "__static_attributes__", "_identity_from_state", "_code_in_identity"}
    | {"_abc_impl"}  # abc's registry of subclasses, a cache
)
_class_codes: "weakref.WeakKeyDictionary[type, str]" = weakref.WeakKeyDictionary()
#: Module-level values a method may read as data (a factor, a lookup table).
_DATA = (tuple, list, dict, set, frozenset, np.ndarray, np.generic)


def class_code(cls: type) -> str:
    """A hash of what ``cls`` and its bases defined outside fncache compute with: each
    method's bytecode and constants, its default arguments and the values it closes over, the
    module-level data (numbers, strings, containers, arrays) and same-module functions it
    reads, and the class's other attributes by their canonical text. Line numbers, file names
    and docstrings are left out, so the same code gives the same hash in every process; a value
    with no canonical text gives a hash of this process only (the class is then compiled anew
    by each process, never answered with another version's entry)."""
    found = _class_codes.get(cls)
    if found is None:
        h = hashlib.sha256()
        seen: set[int] = set()
        for klass in cls.__mro__:
            module = getattr(klass, "__module__", "") or ""
            if module == "builtins" or module.split(".")[0] == "fncache":
                continue
            h.update(f"class {_name(klass)}\n".encode())
            for attr, value in sorted(vars(klass).items()):
                if attr not in _CLASS_NOISE:
                    h.update(f"{attr}={_member_text(value, seen)}\n".encode())
        found = _class_codes[cls] = h.hexdigest()[:32]
    return found


def _member_text(value: Any, seen: set[int]) -> str:
    if isinstance(value, (staticmethod, classmethod)):
        return _member_text(value.__func__, seen)
    if isinstance(value, property):
        return ",".join(_member_text(f, seen) for f in (value.fget, value.fset, value.fdel))
    if isinstance(value, types.FunctionType):
        # Op wraps a storage-writing perform (functools.wraps): the user's own function counts
        return _function_text(getattr(value, "__wrapped__", value), seen)
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    try:
        return canonical(value)
    except TypeError:  # a value with no canonical form: the class keys alike in this process only
        return f"unique:{os.urandom(16).hex()}"


def _function_text(fn: types.FunctionType, seen: set[int]) -> str:
    if id(fn) in seen:
        return f"fn:{_name(fn)}"  # a recursive helper: its code is in the text already
    seen.add(id(fn))
    cells = [_cell_text(c, seen) for c in fn.__closure__ or ()]
    defaults = _member_text(fn.__defaults__, seen) + _member_text(fn.__kwdefaults__, seen)
    return f"fn:{_code_text(fn.__code__, fn.__globals__, seen)}:{defaults}:{cells}"


def _cell_text(cell: Any, seen: set[int]) -> str:
    try:
        value = cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return "unset"
    return _member_text(value, seen)


def _code_text(code: types.CodeType, globals_: dict[str, Any], seen: set[int]) -> str:
    consts = [
        _code_text(c, globals_, seen) if isinstance(c, types.CodeType) else _member_text(c, seen)
        for c in code.co_consts
    ]
    read = []
    for name in code.co_names:
        value = globals_.get(name)
        if type(value) in _PLAIN or isinstance(value, _DATA):
            read.append(f"{name}={_member_text(value, seen)}")
        elif isinstance(value, types.FunctionType) and value.__module__ == globals_.get("__name__"):
            read.append(f"{name}={_function_text(value, seen)}")
    digest = hashlib.sha256(code.co_code).hexdigest()[:32]
    return f"code:{digest}:{consts}:{code.co_names}:{read}"
