"""The graph: variables, constants, apply nodes and ops.

Every op has a numpy ``perform`` (so any graph runs in the Python linker and constant folding
can evaluate it); ops with a native implementation add ``c_code`` for the C backend. All graph
walks are iterative so that 10,000-node chains need no recursion.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from ..config import config
from .types import TensorType, fits_type, use_variable_classes

__all__ = [
    "Node",
    "Variable",
    "AtomicVariable",
    "Constant",
    "Apply",
    "Op",
    "Tag",
    "toposort",
    "merges",
    "ancestors",
    "graph_inputs",
    "clone_graph",
    "clone",
    "clone_get_equiv",
    "explicit_graph_inputs",
    "equal_computations",
    "substitute",
    "made_again_otherwise",
    "is_constant",
    "format_trace",
    "aliases_storage",
    "storage_root",
    "copied_outputs",
    "undeclared_outputs",
    "own_storage",
    "node_performer",
    "reread_user_code",
    "forget_identity",
    "has_side_effects",
    "runs_user_code",
]


class Tag(dict):
    """A variable's annotations: a dict whose entries also read and write as attributes, as
    Theano's ``x.tag.test_value = value``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the tag has no {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"the tag has no {name!r}") from None


_FNCACHE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class Node:
    """PyTensor's ``Node``: what a graph is made of, a `Variable` or an `Apply` (``isinstance(x,
    Node)``); ``get_parents`` gives what it is computed from."""

    __slots__ = ()

    def get_parents(self) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__}.get_parents: a graph node class must define it")


class Variable(Node):
    """A symbolic value: an input (no owner) or the ``index``-th output of ``owner``."""

    #: True for a root whose value the graph keeps (a shared variable), not passed at call
    #: time: a graph's signature tells such a root from an input of the same type.
    holds_value: ClassVar[bool] = False

    # Note: equality is identity; operators for tensors live in TensorVariable.
    def __init__(
        self,
        type: TensorType,
        owner: "Apply | None" = None,
        index: int | None = None,
        name: str | None = None,
    ) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    def get_parents(self) -> list["Apply"]:
        """Theano's walk upwards: ``[owner]``, or ``[]`` for a root."""
        return [] if self.owner is None else [self.owner]

    def get_test_value(self) -> Any:
        """The value ``config.compute_test_value`` computes with: ``tag.test_value``, a
        constant's or a shared variable's value (AttributeError when there is none)."""
        from .debug_values import get_test_value

        return get_test_value(self)

    def clone(self, **kwargs: Any) -> "Variable":
        """A new variable of this type with no owner, this name (PyTensor's ``name=`` gives
        another) and a copy of the tag."""
        v = type(self)(self.type, name=cloned_name(self, kwargs))
        v.tag = Tag(self.tag)
        return v

    def dprint(self, file: Any = None, depth: int = -1, **options: Any) -> str:
        """PyTensor's ``y.dprint()``: this variable's graph printed as
        ``fc.printing.debugprint`` prints it (to standard output by default, with its
        keywords). Returns the text."""
        from .debugprint import print_graph

        return print_graph(self, file=file, depth=depth, **options)

    def __repr__(self) -> str:
        if self.name:
            text = self.name
        elif self.owner is not None:
            text = f"{self.owner.op}.{self.index}"
        elif hasattr(self.type, "dtype"):
            text = f"<{self.type.dtype}{list(self.type.shape)}>"
        else:  # a type with no values (an undefined gradient's): PyTensor's <NullType>
            text = f"<{self.type}>"
        if config.print_test_value:
            # the tag's own value only: get_test_value's error message is made of this repr
            value = getattr(self.tag, "test_value", None)
            if value is not None:
                return f"{text}\n{value!r}"
        return text

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of symbolic variable {self!r} is unknown until the function runs; "
            "use ft.switch/ft.where for conditionals, or compare values after calling the function "
            "(to check that a variable was given, as Theano code's `if x:` does, write `if x is not None:`)"
        )

    def _no_number(self, kind: str) -> TypeError:
        return TypeError(
            f"{kind}() of symbolic variable {self!r}: its value is unknown until the function runs; "
            f"x.astype(...) casts it symbolically, and a compiled function's result converts "
            f"(for a known size or index, give a Python number instead)"
        )

    def __int__(self) -> int:
        raise self._no_number("int")

    def __index__(self) -> int:
        raise self._no_number("index")

    def __float__(self) -> float:
        raise self._no_number("float")

    def __complex__(self) -> complex:
        raise self._no_number("complex")


class AtomicVariable(Variable):
    """PyTensor's ``AtomicVariable``: a variable no node computes and that holds its own
    meaning, the base class of `Constant` (``isinstance(c, AtomicVariable)``)."""


class Constant(AtomicVariable):
    """A variable with a fixed value (a numpy array of exactly the type's dtype)."""

    def __init__(self, type: TensorType, data: np.ndarray, name: str | None = None) -> None:
        if not isinstance(getattr(type, "dtype", None), str):
            raise TypeError(
                f"{self.__class__.__name__}: type must be a type such as ft.TensorType('float64', "
                f"(None,)), got {type!r}; ft.constant(value) makes a constant of a value"
            )
        super().__init__(type, None, None, name)
        data = np.asarray(data, dtype=type.dtype)
        if data.flags.writeable or data.base is not None:
            # The caller's array (or another view of its memory) could still be written after
            # the value has keyed the cache and merged: the constant keeps a copy of its own.
            data = data.copy()
        data.setflags(write=False)
        self.data = data
        self._signature: str | None = None

    @property
    def value(self) -> np.ndarray:
        """PyTensor's name of ``data``: the constant's (read-only) value."""
        return self.data

    def signature(self) -> str:
        """Content hash of the value: equal constants merge and key the cache identically."""
        if self._signature is None:
            import hashlib  # imported here: `import fncache` stays light

            h = hashlib.sha256()
            h.update(f"{self.data.dtype.name}{self.data.shape}".encode())
            h.update(np.ascontiguousarray(self.data).tobytes())
            self._signature = h.hexdigest()[:32]
        return self._signature

    def clone(self, **kwargs: Any) -> "Constant":
        c = type(self)(self.type, self.data, name=cloned_name(self, kwargs))
        c.tag = Tag(self.tag)
        return c

    def __repr__(self) -> str:
        if self.data.size <= 4:
            return (
                repr(self.data.item()) if self.data.ndim == 0 else np.array2string(self.data, separator=",")
            )
        return f"Constant{{{self.data.dtype.name}{list(self.data.shape)}}}"


def cloned_name(v: Variable, kwargs: dict[str, Any]) -> str | None:
    """The name ``v.clone(**kwargs)`` gives its copy: ``name=`` if given, else ``v``'s own."""
    unknown = set(kwargs) - {"name"}
    if unknown:
        raise TypeError(f"{v!r}.clone() takes only name=, got {sorted(unknown)}")
    return kwargs.get("name", v.name)


def is_constant(v: Variable) -> bool:
    return isinstance(v, Constant)


use_variable_classes(Variable, Constant)


class Apply(Node):
    """One application of ``op`` to ``inputs``, producing ``outputs``: one new variable per
    type of ``output_types``, or (Theano's spelling, ``Apply(op, [x], [x.type()])``) the
    variables themselves, which must not be another node's outputs yet."""

    __slots__ = ("op", "inputs", "outputs", "tag")

    def __init__(
        self,
        op: "Op",
        inputs: Sequence[Variable],
        output_types: Sequence[TensorType],
        tag: dict | None = None,
    ) -> None:
        self.op = op
        self.inputs = list(inputs)
        self.outputs = [_output_variable(t, op, self.inputs) for t in output_types]
        for i, o in enumerate(self.outputs):
            o.owner = self
            o.index = i
        self.tag = tag if tag is not None else {}

    @property
    def out(self) -> Variable:
        return self.outputs[0]

    def default_output(self) -> Variable:
        """Theano's and PyTensor's: the output its op's ``default_output`` names, else the one
        output; ValueError for several outputs and no ``default_output``."""
        k = self.op.default_output
        if k is not None:
            return self.outputs[k]
        if len(self.outputs) != 1:
            raise ValueError(
                f"{self.op} has {len(self.outputs)} outputs and no default_output; take one of "
                "node.outputs, or set default_output = k on the op"
            )
        return self.outputs[0]

    def get_parents(self) -> list[Variable]:
        """Theano's walk upwards: the node's inputs."""
        return list(self.inputs)

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(map(repr, self.inputs))})"


def _output_variable(t: "TensorType | Variable", op: "Op", inputs: Sequence[Variable]) -> Variable:
    if not isinstance(t, Variable):
        return t.make_variable()
    # an input as its own node's output (Apply(op, [x], [x])) would make x computed from itself
    if t.owner is not None or isinstance(t, Constant) or t.holds_value or any(t is v for v in inputs):
        raise ValueError(
            f"{op}.make_node: output {t!r} is already an output, an input of the node, a "
            "constant or a shared variable; give a new one (x.type()) or its type (x.type)"
        )
    return t


def check_itypes(op: Any, inputs: Sequence[Variable], itypes: Sequence[TensorType]) -> None:
    """Refuse ``inputs`` that do not fit ``op``'s declared ``itypes`` (their count, each one's
    dtype, ndim and any static size both know)."""
    if len(inputs) != len(itypes):
        raise TypeError(f"{op}: expected {len(itypes)} inputs, got {len(inputs)}")
    for k, (v, t) in enumerate(zip(inputs, itypes)):
        if (
            v.type.dtype != t.dtype
            or v.type.ndim != t.ndim
            or any(a is not None and b is not None and a != b for a, b in zip(v.type.shape, t.shape))
        ):
            raise TypeError(
                f"{op}: input {k} must be {t}, got {v.type}; cast it with ft.cast or change itypes"
            )


def with_prop_defaults(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` of an fncache op of class ``cls`` with each prop it lacks that the constructor
    gives a default: a pickle written by an fncache from before the class had that prop loads
    as the op built without it (it computes as before), instead of failing on the missing
    attribute where the op is first compared or run."""
    if getattr(cls, "_code_in_identity", False):
        return state  # a user's op class pickles as Python pickles any object
    missing = {p: d for p, d in _constructor_defaults(cls).items() if p in cls.__props__ and p not in state}
    return {**missing, **state} if missing else state


def _constructor_defaults(cls: type) -> dict[str, Any]:
    defaults = cls.__dict__.get("_constructor_defaults_memo")
    if defaults is None:
        import inspect

        params = (
            inspect.signature(cls.__init__).parameters.values() if cls.__init__ is not object.__init__ else ()
        )
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        cls._constructor_defaults_memo = defaults  # type: ignore[attr-defined]
    return defaults


def output_names(name: Any, count: int, what: str) -> list[str]:
    """The names ``name=`` gives ``count`` outputs, as PyTensor's ops do: ``name`` itself for
    one, ``name_0``, ``name_1``, ... for several; a ``name`` that is no string is refused
    naming ``what``."""
    if not isinstance(name, str):
        raise TypeError(f"{what}: name must be a string, got {type(name).__name__} {name!r}")
    return [name] if count == 1 else [f"{name}_{i}" for i in range(count)]


#: What an op memoizes of its identity (``Op.signature``): never part of its state.
_MEMOS = frozenset({"_signature", "_identity_watch"})


def _op_state(op: "Op") -> Any:
    """A user's ``op``'s state as its identity reads it: less what it memoizes of that
    identity (a class's own ``__getstate__`` may return its whole ``__dict__``), and less the
    attributes its methods assign as it runs (``canonical.running_state``: a call count, a
    cache), which its identity leaves out."""
    from .canonical import running_state

    state = op.__getstate__()
    if type(state) is not dict:
        return state
    running = running_state(type(op))
    left_out = _MEMOS if running is None else _MEMOS | running.assigned
    return {k: v for k, v in state.items() if k not in left_out} if not left_out.isdisjoint(state) else state


def _sized_state(op: "Op") -> frozenset[str]:
    """The attributes of a user's ``op`` that its identity compares again by their size only:
    those its methods change in place as it runs (``canonical.RunningState.in_place``)."""
    from .canonical import running_state

    running = running_state(type(op))
    return frozenset() if running is None else running.in_place


def forget_identity(op: "Op") -> None:
    """Drop ``op``'s memoized identity: the next ``signature`` computes it again."""
    op.__dict__.pop("_signature", None)
    op.__dict__.pop("_identity_watch", None)


class Op:
    """Base class of operations.

    Subclasses list their parameters in ``__props__``. An op's identity is the canonical text
    of its class and props (:mod:`fncache.graph.canonical`), and for a class defined outside
    fncache also of its code: equality, hashing (what `merge` relies on) and the cache keys all
    read that one text. ``view_map``/``destroy_map`` map an
    output index to the input indices it views or overwrites.
    """

    __props__: tuple[str, ...] = ()
    view_map: dict[int, list[int]] = {}
    destroy_map: dict[int, list[int]] = {}
    #: True for ops running user code, whose outputs may be their inputs (or views of them).
    may_return_input = False
    #: True where the op's perform itself gives every output memory of its own (checked there,
    #: for DebugMode's eyes too), so the linkers need not check it again (`undeclared_outputs`)
    owns_outputs = False
    #: Theano's and PyTensor's: the index of the output that calling the op returns (alone,
    #: of several); None: all of them (one output: that one)
    default_output: int | None = None
    #: True for an op running an inner graph that holds a user's op (``InnerGraphOp`` sets
    #: it): what a function key reads again (``reread_user_code``)
    user_code = False

    #: True for an op class defined outside fncache: its code (``canonical.class_code``) is
    #: part of its ops' identity, as fncache's own code is part of every function key, and so
    #: are its instance's attributes, whether ``__props__`` lists them or not (Theano's ops may
    #: declare none, or leave one out): two instances that compute differently
    #: (``ScaleOp(2)``, ``ScaleOp(3)``) never merge or share a cache entry, equal ones still do.
    _code_in_identity: ClassVar[bool] = False

    #: Theano's and PyTensor's op params: the type of what :meth:`get_params` returns, which a
    #: ``perform(self, node, inputs, output_storage, params)`` receives (a
    #: :class:`~fncache.graph.params_type.ParamsType`, ``Generic()``, or any type with a
    #: ``filter``); None: the op has no params.
    params_type: Any = None
    #: True for a class whose ``perform`` takes the node's params (a fifth parameter).
    _takes_params: ClassVar[bool] = False

    def _props(self) -> tuple:
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other: object) -> bool:
        return self is other or (type(self) is type(other) and self.signature() == other.signature())  # type: ignore

    def __hash__(self) -> int:
        return hash(self.signature())

    def __str__(self) -> str:
        props = self._props()
        if not props:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(map(str, props))}}}"

    def signature(self) -> str:
        """The op's identity: canonical text of its class and props, and of a user class's
        code and attributes. Computed once, and again where what it read of the user's changed
        since (``identity_changed``, asked by ``reread_user_code`` at each function key): a
        user's op's attributes, the code of a user's class or function it holds."""
        sig = self.__dict__.get("_signature")
        if sig is None:
            from .canonical import identity

            if self._code_in_identity:
                sig, watch = identity(self._identity_text, _op_state(self), _sized_state(self))
            else:
                sig, watch = identity(self._identity_text)
            self.__dict__["_signature"] = sig
            if watch is not None:
                self.__dict__["_identity_watch"] = watch
        return sig

    def _identity_text(self) -> str:
        from .canonical import canonical, class_code

        if not (self._code_in_identity or self._takes_params):
            text = canonical(self._props())
        else:
            # a user's op, and an op with params, is identified by its attributes too: its
            # perform, make_node or get_params may read one that __props__ leaves out, and ops
            # that compute differently must not merge nor share a cache entry (a hit would run
            # the other's op)
            props = canonical(self._props()) if self.__props__ else ""
            try:
                text = props + canonical(_op_state(self) if self._code_in_identity else self.__getstate__())
            except (TypeError, RecursionError) as e:  # no canonical form: this instance only
                if isinstance(e, RecursionError):  # an attribute refers back to the op (self.f = self.g)
                    logging.getLogger(__name__).warning(
                        "fncache: the attributes of %s nest past the recursion limit (one refers back "
                        "to the op?); it is identified in this process only, so no other process "
                        "reuses its compiled functions",
                        type(self).__qualname__,
                    )
                text = f"instance:{os.urandom(16).hex()}"
        sig = f"{type(self).__module__}.{type(self).__qualname__}{text}"
        if self._code_in_identity:
            sig += f"code:{class_code(type(self))}"
        return sig

    def __getstate__(self) -> dict[str, Any]:
        # The memoized identity is recomputed where the op is loaded, never trusted from a pickle.
        return {k: v for k, v in self.__dict__.items() if k not in _MEMOS}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(with_prop_defaults(type(self), state))

    # -- graph construction -------------------------------------------------------------
    #: Theano's and PyTensor's declared types: an op that sets both and defines no make_node
    #: takes inputs of ``itypes`` and makes outputs of ``otypes``
    itypes: Sequence[TensorType] | None = None
    otypes: Sequence[TensorType] | None = None

    def make_node(self, *inputs: Variable) -> Apply:
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(
                f"{self}: define make_node(self, *inputs), or declare itypes and otypes (lists "
                "of types, e.g. itypes = [ft.dmatrix])"
            )
        for k, v in enumerate(inputs):
            if not isinstance(v, Variable):
                raise TypeError(
                    f"{self}: input {k} must be a symbolic variable, got {type(v).__name__}; "
                    "convert it with ft.as_tensor_variable, or define make_node"
                )
        check_itypes(self, inputs, self.itypes)
        return Apply(self, inputs, list(self.otypes))

    def __call__(self, *inputs: Any, name: str | None = None, return_list: bool = False) -> Any:
        """The outputs of this op applied to ``inputs``: one variable, or a list of several
        (the one ``default_output`` names, where the op sets it).
        ``name`` (PyTensor's) names them (see :func:`output_names`), ``return_list=True``
        returns a list of one too."""
        node = self.make_node(*inputs)
        _record_creation(node)
        if config.compute_test_value != "off":
            from .debug_values import compute_test_values

            compute_test_values(node)
        if name is not None:
            for out, out_name in zip(node.outputs, output_names(name, len(node.outputs), str(self))):
                out.name = out_name
        if self.default_output is not None:
            out = node.outputs[self.default_output]
            return [out] if return_list else out
        if return_list:
            return list(node.outputs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    # -- evaluation ---------------------------------------------------------------------
    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError(f"{self} has no Python implementation")

    def get_params(self, node: Apply) -> Any:
        """The node's params (Theano's and PyTensor's): by default, a ParamsType
        ``params_type``'s fields read from this op's attributes of those names."""
        from .params_type import ParamsType

        if isinstance(self.params_type, ParamsType):
            return self.params_type.get_params(self)
        raise NotImplementedError(
            f"{self} has no params: it defines no get_params(node) and its params_type "
            f"{self.params_type!r} is not a ParamsType; define get_params(node) or declare "
            "params_type = ParamsType(name=type, ...) over attributes of the op"
        )

    def node_params(self, node: Apply) -> Any:
        """What ``perform`` receives as ``params`` for ``node``: ``get_params(node)``,
        converted by ``params_type`` when the op declares one."""
        params = self.get_params(node)
        return params if self.params_type is None else self.params_type.filter(params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__module__.startswith("fncache."):
            cls._code_in_identity = True
        perform = cls.__dict__.get("perform")
        if perform is not None and _writes_output_storage(perform):
            cls._takes_params = perform.__code__.co_argcount >= 5
            cls.perform = _returning(perform, cls._takes_params)  # type: ignore[method-assign]
        elif perform is not None and cls._code_in_identity:
            cls.perform = _checked(perform)  # type: ignore[method-assign]


def node_performer(node: Apply, checked: bool = True) -> Callable[[list], list]:
    """``node``'s perform as a callable of its input values (a list) returning its outputs,
    what the linkers run: an op's params are asked for once, here, not at every call.
    ``checked=False``: a user's op's values as its perform gives them, not yet converted to
    the declared types (:func:`declared_outputs`), for ``fc.DebugMode`` to report."""
    import functools

    op = node.op
    perform = op.perform
    unchecked = None if checked else getattr(perform, "unchecked", None)
    if unchecked is not None:
        perform = functools.partial(unchecked, op)
    if op._takes_params:
        params = op.node_params(node)
        return lambda inputs: perform(node, inputs, params)
    if op.params_type is not None:
        raise TypeError(
            f"{op} declares params_type {op.params_type!r}, but its perform takes no params: write "
            "perform(self, node, inputs, output_storage, params)"
        )
    return functools.partial(perform, node)


def _writes_output_storage(perform: Any) -> bool:
    """Whether ``perform`` is Theano's ``perform(self, node, inputs, output_storage)``, which
    stores each result in ``output_storage[i][0]`` instead of returning the list: a fourth
    required positional parameter. (Read from the code object: every op class of fncache
    passes here when ``import fncache`` defines it, and ``inspect`` would cost that import.)"""
    code = getattr(perform, "__code__", None)
    if code is None:
        return False
    return code.co_argcount - len(getattr(perform, "__defaults__", None) or ()) >= 4


def _returning(perform: Any, takes_params: bool) -> Any:
    """Theano's storage-writing ``perform`` as the list-returning one every linker calls; one
    that takes params gets the ones given (:func:`node_performer`) or asks the op for them.
    Called as Theano calls it, with the output storage after the inputs (a subclass's
    ``super().perform(node, inputs, output_storage)``), it is that perform itself: it writes
    the storage it is given."""
    import functools

    def values(self: Op, node: Apply, inputs: list[np.ndarray], *params: Any) -> list[Any]:
        storage: list[list[Any]] = [[None] for _ in node.outputs]
        if takes_params:
            perform(self, node, inputs, storage, params[0] if params else self.node_params(node))
        else:
            perform(self, node, inputs, storage)
        for k, cell in enumerate(storage):
            if cell[0] is None:
                raise ValueError(f"{self}.perform stored no value in output_storage[{k}][0]")
        return [cell[0] for cell in storage]

    declared = _declaring(perform, values)

    @functools.wraps(perform)
    def run(self: Op, node: Apply, inputs: list[np.ndarray], *args: Any) -> Any:
        if args and _is_output_storage(args[0], node):
            return perform(self, node, inputs, *args)
        return declared(self, node, inputs, *args)

    run.unchecked = values  # type: ignore[attr-defined]
    return run


def _is_output_storage(value: Any, node: Apply) -> bool:
    """Whether ``value`` is Theano's output storage of ``node``: a list of one cell (a list of
    one item) per output."""
    return (
        type(value) is list
        and len(value) == len(node.outputs)
        and all(type(cell) is list and len(cell) == 1 for cell in value)
    )


def _checked(perform: Any) -> Any:
    """A user's list-returning ``perform`` (fncache's own form), its values held to the types
    the node declares as the storage-writing form's are: under every linker, so FAST_RUN and
    FAST_COMPILE give the same values or the same error."""

    def values(self: Op, node: Apply, inputs: list[np.ndarray], *params: Any) -> list[Any]:
        got = perform(self, node, inputs, *params)
        if not isinstance(got, (list, tuple)) or len(got) != len(node.outputs):
            raise TypeError(
                f"{self}.perform returned {_describe(got)}; this form of perform(self, node, "
                f"inputs) returns a list of {len(node.outputs)} value(s), one per output (or write "
                "Theano's perform(self, node, inputs, output_storage), setting output_storage[i][0])"
            )
        for k, value in enumerate(got):
            if value is None:
                raise ValueError(f"{self}.perform returned None for output {k}")
        return list(got)

    return _declaring(perform, values)


def _declaring(perform: Any, values: Any) -> Any:
    """The perform the linkers call: ``values``' results converted by
    :func:`declared_outputs`; ``values`` itself stays reachable as its ``unchecked``."""
    import functools

    @functools.wraps(perform)
    def run(self: Op, node: Apply, inputs: list[np.ndarray], *params: Any) -> list[np.ndarray]:
        return unheld(node, declared_outputs(self, node, values(self, node, inputs, *params)))

    run.unchecked = values  # type: ignore[attr-defined]
    return run


def _refs(outputs: list[Any], j: int) -> tuple[int, int]:
    """The references to array ``outputs[j]`` and to the array it views (0 where none), as
    ``sys.getrefcount`` counts them here."""
    a = outputs[j]
    base = a.base
    return sys.getrefcount(a), sys.getrefcount(base) if isinstance(base, np.ndarray) else 0


#: What :func:`_refs` counts for a new array held by the list alone, and for the base of a new
#: view held by the view alone: measured, not assumed, as how many references a call, a local
#: name and ``getrefcount``'s argument add differs between Python versions.
_NEW_ARRAY_REFS, _NEW_BASE_REFS = _refs([np.empty(1)], 0)[0], _refs([np.empty(2)[:1]], 0)[1]


def unheld(node: Apply, outputs: list[Any]) -> list[Any]:
    """``outputs`` of a user's op, each copied where something else still holds its array (or
    the array it views): the op itself (``self.table``, a buffer it refills at each call,
    ``self.last = out``), a module's cache. The caller owns what a function returns and
    in-place nodes write into what they are given; neither may reach the op's own array (a
    returned array changed by the caller, or by the next call, would change the op's next
    values or an earlier result). Outputs the op declares views of (or overwritten) inputs
    are left as they are; a new array, as almost every perform gives, costs no copy."""
    op = node.op
    for j in range(len(outputs)):  # by index: no other name holds the array while it is counted
        if not isinstance(outputs[j], np.ndarray) or j in op.view_map or j in op.destroy_map:
            continue
        refs, base_refs = _refs(outputs, j)
        if refs > _NEW_ARRAY_REFS or base_refs > _NEW_BASE_REFS:
            outputs[j] = outputs[j].copy()
    return outputs


def _describe(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} value(s)"
    return f"a {type(value).__name__}"


def declared_outputs(op: Op, node: Apply, values: list[Any]) -> list[Any]:
    """A user's op's output ``values`` as the types its node declares (the rest of the graph,
    and the native code, rely on them): numbers, lists and safe casts (float32 values for a
    float64 output) are converted, anything else (a lossy cast, another ndim, a contradicted
    static size) raises TypeError naming the op, the output, its declared type and the fix."""
    from .types import TensorType
    from .values import convert_value

    outs = []
    for k, (value, out) in enumerate(zip(values, node.outputs)):
        t = out.type
        where = f"{op}.perform: output {k}, declared {t!r}"
        try:
            if isinstance(t, TensorType):
                fix = (
                    f"Fix: make perform give {t.dtype} values with {t.ndim} dim(s) (e.g. "
                    f"np.asarray(value, dtype='{t.dtype}')), or declare in make_node (or otypes) the "
                    "type it gives"
                )
                outs.append(convert_value(t, value, None, where, fix=fix))
            else:  # a sparse matrix, a random state: its type's own conversion, where it has one
                filter_value = getattr(t, "filter", None)
                outs.append(value if filter_value is None else filter_value(value))
        except TypeError as e:
            raise TypeError(str(e) if isinstance(t, TensorType) else f"{where}: {e}") from None
    return outs


def _record_creation(node: Apply) -> None:
    """Remember the user's source line, for ``exception_verbosity='high'``.

    Only (file, line, function) is stored: reading source text waits until an error is shown.
    """
    f = sys._getframe(2)
    while f is not None and _FNCACHE_DIR in f.f_code.co_filename:
        f = f.f_back
    if f is not None:
        node.tag["trace"] = (f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


def format_trace(trace: Any) -> str | None:
    """Text of a creation trace: the file, line and function, and the source line itself."""
    if not trace:
        return None
    import linecache

    filename, lineno, name = trace
    line = linecache.getline(filename, lineno).strip()
    return f'File "{filename}", line {lineno}, in {name}\n    {line}'


def storage_root(v: Variable) -> Variable | None:
    """The variable whose storage ``v`` may be (a view of): ``v`` itself, or what its op views
    or overwrites, followed back; None where an op may return one of its inputs as it is."""
    while v.owner is not None:
        op = v.owner.op
        if op.may_return_input:
            return None
        src = op.view_map.get(v.index) or op.destroy_map.get(v.index)
        if not src:
            return v
        v = v.owner.inputs[src[0]]
    return v


def aliases_storage(v: Variable) -> bool:
    """True when ``v`` may be (a view of) a root: an input, a constant or a shared value.
    Such an output must be copied before it is returned, so the caller never holds (and
    cannot overwrite) storage the function reads."""
    root = storage_root(v)
    return root is None or root.owner is None


def copied_outputs(outputs: Sequence[Variable]) -> list[bool]:
    """For each output of a function, whether it is copied before it is returned: it may be (a
    view of) a root (:func:`aliases_storage`), or of an earlier output's value (one variable
    listed twice, a view of another output, or two equal nodes that `merge` made one). So a
    call never returns one array twice, and writing one output never changes another (as in
    Theano and PyTensor)."""
    seen: set[int] = set()
    copied = []
    for v in outputs:
        root = storage_root(v)
        copied.append(root is None or root.owner is None or id(root) in seen)
        if root is not None:
            seen.add(id(root))
    return copied


def undeclared_outputs(node: Apply) -> tuple[int, ...]:
    """The outputs of ``node`` whose op declares them neither a view nor an overwritten input:
    the linkers take such an output for memory of its own (:func:`copied_outputs` returns it
    as it is), so :func:`own_storage` makes sure it is. An op that may return an input as it
    is has its outputs copied on return anyway."""
    op = node.op
    if op.may_return_input or op.owns_outputs:
        return ()
    return tuple(j for j in range(len(node.outputs)) if j not in op.view_map and j not in op.destroy_map)


def own_storage(outputs: list[Any], inputs: Sequence[Any], which: Sequence[int]) -> list[Any]:
    """``outputs`` of a perform, each of ``which`` copied where it shares memory with an input
    or another output: numpy's ``real`` of a complex array, or a user's op returning
    ``x[::-1]`` without declaring the view, would otherwise reach the caller as a view of an
    input or a shared value, or one array as two outputs."""
    for j in which:
        o = outputs[j]
        if isinstance(o, np.ndarray) and _shares_memory(o, inputs, outputs, j):
            outputs = [*outputs[:j], o.copy(), *outputs[j + 1 :]]
    return outputs


def _shares_memory(o: np.ndarray, inputs: Sequence[Any], outputs: Sequence[Any], j: int) -> bool:
    """Whether output ``j``, ``o``, may share memory with an input or another output. An array
    owning its memory is another's only by identity (a view of it the op made is checked as
    that view); the bounds check is for views. Plain loops: this runs at every node."""
    if o.base is None:
        for a in inputs:
            if a is o:
                return True
        return len(outputs) > 1 and sum(a is o for a in outputs) > 1
    for a in inputs:
        if a is o or isinstance(a, np.ndarray) and np.may_share_memory(a, o):
            return True
    for k, a in enumerate(outputs):
        if k != j and (a is o or isinstance(a, np.ndarray) and np.may_share_memory(a, o)):
            return True
    return False


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """All variables that ``outputs`` depend on, not walking past ``blockers``."""
    seen: set[int] = set()
    block = {id(b) for b in blockers}
    out: list[Variable] = []
    stack = list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        out.append(v)
        if v.owner is not None and id(v) not in block:
            stack.extend(v.owner.inputs)
    return out


def graph_inputs(graphs: Iterable[Variable], blockers: Iterable[Variable] | None = None) -> list[Variable]:
    """The roots ``graphs`` depend on (inputs, shared variables, constants), and the
    ``blockers`` they reach, each once, in the order a depth-first walk from the first input
    meets them (PyTensor's ``graph_inputs``, Theano's ``inputs``)."""
    block = {id(b) for b in blockers or ()}
    seen: set[int] = set()
    out: list[Variable] = []
    stack = list(graphs)[::-1]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is None or id(v) in block:
            out.append(v)
        else:
            stack.extend(reversed(v.owner.inputs))
    return out


def reread_user_code(nodes: Iterable[Apply]) -> bool:
    """Read the code of the user's op classes of ``nodes`` again (``canonical.class_code_changed``),
    and of those their inner graphs run: whether one changed since their ops' identities were
    computed, which are then computed anew. A function key asks it first: a module value that
    ``perform`` reads, changed between two compiles in one process, must not be answered with
    the other value's entry."""
    from .canonical import identity_changed

    changed = False
    asked: set[int] = set()
    inner = []
    for node in nodes:
        op = node.op
        watch = op.__dict__.get("_identity_watch")  # fncache's own ops have none
        if watch is not None and id(op) not in asked:
            asked.add(id(op))
            if identity_changed(watch, _op_state(op) if watch.state is not None else None):
                forget_identity(op)
                changed = True
        if getattr(op, "user_code", False):
            inner.append(op)
    # an op running an inner graph of user's ops (an OpFromGraph made once, a scan's step)
    return any([op.reread_inner_code() for op in inner]) or changed


def code_in_identity(op: Op) -> bool:
    """Whether ``op``'s class is a user's (its code is part of its identity)."""
    return op._code_in_identity


def runs_user_code(op: Op) -> bool:
    """Whether ``op`` is a user's op (its class's code is part of its identity), holds a user's
    function (``as_op``: its identity read the function's code) or runs an inner graph holding
    one (``user_code``): what a function key reads again (``reread_user_code``)."""
    return op._code_in_identity or "_identity_watch" in op.__dict__ or bool(getattr(op, "user_code", False))


def merges(op: Op) -> bool:
    """Whether two nodes of ``op`` reading the same variables may be one node (the `merge`
    rewrite, and the function key, which reads them as one): not an op with side effects (a
    user's callable, a Print), each of whose nodes runs where it was put."""
    return not has_side_effects(op)


def has_side_effects(op: Op) -> bool:
    """Whether running ``op`` does more than return values: it says so (``side_effects``: a
    user's callable, a Print, an inner graph holding one), or its class is a user's whose code
    writes module state, its class's attributes or its own as it runs
    (``canonical.writes_state``: a call counter, a memo, a buffer it fills). Such a node runs
    where it was put, when the function runs: never merged with another nor run at compile
    time, so nothing it computes depends on the state's value when the function is compiled,
    and its key leaves that state out."""
    if getattr(op, "side_effects", False):
        return True
    if not op._code_in_identity:
        return False
    from .canonical import writes_state

    return writes_state(type(op))


def toposort(
    outputs: Sequence[Variable], blockers: Iterable[Variable] = (), *, last_first: bool = False
) -> list[Apply]:
    """Apply nodes in dependency order (inputs before users); iterative, deterministic.
    ``last_first``: the outputs and each node's inputs are walked last to first, the order
    PyTensor's ``toposort`` and ``io_toposort`` give."""
    block = {id(b) for b in blockers}
    order: list[Apply] = []
    done: set[int] = set()
    visiting: set[int] = set()
    for root in list(outputs)[::-1] if last_first else outputs:
        if root.owner is None or id(root) in block:
            continue
        stack: list[tuple[Apply, int]] = [(root.owner, 0)]
        while stack:
            node, i = stack.pop()
            if id(node) in done:
                continue
            if i == 0:
                visiting.add(id(node))
            if i < len(node.inputs):
                stack.append((node, i + 1))
                inp = node.inputs[~i if last_first else i]
                if inp.owner is not None and id(inp) not in block and id(inp.owner) not in done:
                    if id(inp.owner) in visiting:
                        raise ValueError("the graph has a cycle")
                    stack.append((inp.owner, 0))
            else:
                visiting.discard(id(node))
                done.add(id(node))
                order.append(node)
    return order


def clone_graph(
    inputs: Sequence[Variable], outputs: Sequence[Variable], replace: dict[Variable, Variable] | None = None
) -> tuple[list[Variable], list[Variable], dict[Variable, Variable]]:
    """Copy the graph between ``inputs`` and ``outputs``; returns new inputs, outputs and the map.

    Constants are shared (they are immutable); other root variables (e.g. shared variables that
    are not listed in ``inputs``) are kept as they are.
    """
    memo: dict[Variable, Variable] = dict(replace or {})
    for i in inputs:
        if i not in memo:
            memo[i] = i.clone()
    for node in toposort(outputs, blockers=inputs):
        _copy_node(node, memo)
    return [memo[i] for i in inputs], [memo.get(o, o) for o in outputs], memo


def clone_get_equiv(
    inputs: Iterable[Variable],
    outputs: Iterable[Variable],
    copy_inputs: bool = True,
    copy_orphans: bool = True,
    memo: dict[Any, Any] | None = None,
    clone_inner_graphs: bool = False,
    **kwargs: Any,
) -> dict[Any, Any]:
    """PyTensor's ``clone_get_equiv``: a copy of the graph between ``inputs`` and ``outputs``,
    returned as the map of each variable and node to its copy (``memo``, filled in place when
    given: what it maps already is not copied). ``copy_inputs``/``copy_orphans``: copy the
    inputs/the other roots (else the copy reads the same ones); constants are never copied.
    A shared variable maps to itself, as ``clone`` copies it: one container, whose value the
    copy reads. ``clone_inner_graphs`` and ``strict`` are accepted: an op's inner graph is never
    changed in place, and a copied node reads inputs of its node's types."""
    unknown = set(kwargs) - {"strict"}
    if unknown:
        raise TypeError(f"clone_get_equiv: unexpected keywords {sorted(unknown)}; it takes strict= only")
    memo = {} if memo is None else memo
    inputs, outputs = list(inputs), list(outputs)
    for i in inputs:
        memo.setdefault(i, i.clone() if copy_inputs and not isinstance(i, Constant) else i)
    for node in toposort(outputs, blockers=inputs, last_first=True):
        for v in node.inputs:
            if v not in memo:
                memo[v] = v.clone() if copy_orphans and not isinstance(v, Constant) else v
        if node not in memo and not all(o in memo for o in node.outputs):
            given = {o: memo[o] for o in node.outputs if o in memo}
            memo[node] = None  # PyTensor's map lists a node before its outputs
            memo[node] = _copy_node(node, memo)
            memo.update(given)
    for o in outputs:
        if o not in memo:
            memo[o] = o.clone()
    return memo


def clone(
    inputs: Sequence[Variable],
    outputs: Sequence[Variable],
    copy_inputs: bool = True,
    copy_orphans: bool | None = None,
    clone_inner_graphs: bool = False,
) -> tuple[list[Variable], list[Variable]]:
    """PyTensor's ``pytensor.graph.clone``: a copy of the graph between ``inputs`` and
    ``outputs``, returned as (new inputs, new outputs). ``copy_inputs``: copy the inputs too
    (else the copy reads the same ones); ``copy_orphans`` (default ``copy_inputs``): copy the
    constants the graph reads too. ``clone_inner_graphs`` is accepted: an op's inner graph is
    never changed in place, so the copy shares it safely."""
    if copy_orphans is None:
        copy_orphans = copy_inputs
    replace: dict[Variable, Variable] = {} if copy_inputs else {i: i for i in inputs}
    if copy_orphans:
        own = {id(i) for i in inputs}
        replace.update(
            (v, v.clone())
            for v in graph_inputs(outputs, inputs)
            if isinstance(v, Constant) and id(v) not in own
        )
    new_ins, new_outs, _ = clone_graph(inputs, outputs, replace)
    return new_ins, new_outs


def explicit_graph_inputs(graph: Variable | Iterable[Variable]) -> Iterable[Variable]:
    """PyTensor's ``explicit_graph_inputs``: the roots of ``graph`` (a variable or several)
    a function computing it must be given, neither constants nor shared variables, in the
    order :func:`graph_inputs` meets them."""
    graphs = [graph] if isinstance(graph, Variable) else list(graph)
    return (v for v in graph_inputs(graphs) if not isinstance(v, Constant) and not v.holds_value)


def equal_computations(
    xs: Sequence[Any],
    ys: Sequence[Any],
    in_xs: Sequence[Variable] | None = None,
    in_ys: Sequence[Variable] | None = None,
    strict_dtype: bool = True,
) -> bool:
    """PyTensor's ``equal_computations``: whether each ``xs[k]`` computes what ``ys[k]`` does:
    equal ops on equal inputs, down to the same root variables (``in_xs[i]`` standing for
    ``in_ys[i]``) or equal constants (a number or array compares with a constant's value).
    ``strict_dtype`` is accepted: a variable's type, dtype included, is always compared."""
    if len(xs) != len(ys):
        raise ValueError(f"equal_computations: {len(xs)} graphs in xs but {len(ys)} in ys; give as many")
    in_xs, in_ys = list(in_xs or ()), list(in_ys or ())
    if len(in_xs) != len(in_ys):
        return False
    same: dict[tuple[int, int], bool] = {(id(a), id(b)): a.type == b.type for a, b in zip(in_xs, in_ys)}

    def value(v: Any) -> Any:
        return v.data if isinstance(v, Constant) else v

    def equal(a: Any, b: Any) -> bool:
        if not isinstance(a, Variable) or not isinstance(b, Variable):
            if isinstance(a, Variable) and not isinstance(a, Constant):
                return False
            if isinstance(b, Variable) and not isinstance(b, Constant):
                return False
            return bool(np.array_equal(value(a), value(b), equal_nan=True))
        key = (id(a), id(b))
        if key in same:
            return same[key]
        # Iterative on the owners' inputs: deep graphs must not exhaust the stack.
        stack = [(a, b)]
        while stack:
            x, y = stack[-1]
            k = (id(x), id(y))
            if k in same:
                stack.pop()
                continue
            if x is y:
                result: bool | None = True
            elif x.type != y.type or (x.owner is None) != (y.owner is None):
                result = False
            elif x.owner is None:
                result = (
                    isinstance(x, Constant) and isinstance(y, Constant) and x.signature() == y.signature()
                )
            elif x.owner.op != y.owner.op or x.index != y.index or len(x.owner.inputs) != len(y.owner.inputs):
                result = False
            else:
                pending = [
                    (i, j) for i, j in zip(x.owner.inputs, y.owner.inputs) if (id(i), id(j)) not in same
                ]
                if pending:
                    stack.extend(pending)
                    continue
                result = all(same[(id(i), id(j))] for i, j in zip(x.owner.inputs, y.owner.inputs))
            same[k] = result
            stack.pop()
        return same[key]

    return all(equal(a, b) for a, b in zip(xs, ys))


def substitute(
    outputs: Sequence[Variable],
    mapping: dict[Variable, Variable],
    remake: Callable[[Apply, list[Variable]], list[Variable]] | None = None,
) -> list[Variable]:
    """``outputs`` with the variables of ``mapping`` replaced: only the nodes that depend on
    them are rebuilt (as :func:`clone_graph` copies them); the rest of the graph is shared.

    ``remake(node, inputs)`` (PyTensor's ``rebuild_strict=False``) gives the outputs of a node
    whose inputs now have another dtype or number of dimensions, made for the new inputs (the
    front end's ``tensor/replace.py`` says how); without it such a node keeps its types.

    A node reading a replaced computed variable may have derived its types through that
    computation (``broadcast_to(x, (2, n))`` has 2 rows, read from the shape vector's constant
    entry): where its op, made again on the new inputs, declares types that do not fit its own
    (``fits_type``), it is made again, and so are the nodes reading it in turn, so that no
    node declares a size its inputs no longer say (nor a stored graph fail to rebuild)."""
    memo: dict[Variable, Variable] = dict(mapping)
    # the variables whose readers may have read more than their types: replaced computations
    rederive = {id(v) for v in mapping if v.owner is not None}
    for node in toposort(outputs):
        if any(v in memo for v in node.inputs):
            inputs = [memo.get(v, v) for v in node.inputs]
            if remake is not None and any(_retyped(v, w) for v, w in zip(node.inputs, inputs)):
                for old, new in zip(node.outputs, remake(node, inputs)):
                    new.name = old.name
                    memo[old] = new
            elif any(id(v) in rederive for v in node.inputs) and (again := _retyped_node(node, inputs)):
                again.tag.update(node.tag)
                for old, new in zip(node.outputs, again.outputs):
                    new.name, new.tag = old.name, Tag(old.tag)
                    memo[old] = new
                    rederive.add(id(old))
            else:
                _copy_node(node, memo)
    return [memo.get(o, o) for o in outputs]


def made_again_otherwise(node: Apply, inputs: Sequence[Variable]) -> Apply | None:
    """``node``'s op made again on ``inputs`` where it declares output types that do not fit
    ``node``'s own (``fits_type``, the check a stored graph's nodes pass when it is rebuilt),
    else None; raises what ``make_node`` raises."""
    again = node.op.make_node(*inputs)
    if len(again.outputs) == len(node.outputs) and all(
        fits_type(a.type, o.type) for a, o in zip(again.outputs, node.outputs)
    ):
        return None
    return again


def _retyped_node(node: Apply, inputs: list[Variable]) -> Apply | None:
    """:func:`made_again_otherwise`, None where the op refuses the inputs (the node is then
    copied as it is)."""
    try:
        return made_again_otherwise(node, inputs)
    except Exception:
        return None


def _retyped(old: Variable, new: Variable) -> bool:
    kind = (getattr(old.type, "dtype", None), getattr(old.type, "ndim", None))
    return kind != (getattr(new.type, "dtype", None), getattr(new.type, "ndim", None))


def _copy_node(node: Apply, memo: dict[Any, Any]) -> Apply:
    """A copy of ``node`` reading ``memo``'s replacements of its inputs; its outputs (names and
    tags kept) are added to ``memo``."""
    new = Apply(
        node.op, [memo.get(v, v) for v in node.inputs], [o.type for o in node.outputs], tag=dict(node.tag)
    )
    for old_o, new_o in zip(node.outputs, new.outputs):
        new_o.name = old_o.name
        new_o.tag = Tag(old_o.tag)
        memo[old_o] = new_o
    return new
