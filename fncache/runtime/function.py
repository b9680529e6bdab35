"""``fc.function``: validate, look up or optimize, link, and the callable users get."""

from __future__ import annotations

import copy
import logging
import os
import pickle
import time
import warnings
import weakref
from contextlib import nullcontext
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..config import config
from ..graph.args import pairs_arg
from ..graph.basic import Apply, Constant, Variable, ancestors, substitute
from ..graph.fgraph import FunctionGraph
from ..graph.serialize import in_canonical_order
from ..graph.types import TensorType
from ..mode import Mode, get_mode
from ..graph.debugprint import print_graph
from .inputs import convert_input
from .io import NO_DEFAULT, Container, In, Out, StateDefault, as_in
from .profiling import ProfileStats, profile_stats, profiled
from ..tensor.replace import fit_update, remake, replacement_map
from ..tensor.shared import SharedVariable
from ..tensor.hooks import set_c_runtime, set_function_compiler

__all__ = [
    "function",
    "start_function",
    "StartedFunction",
    "function_dump",
    "Function",
    "FunctionMaker",
    "SymbolicInput",
    "InputValue",
    "assemble",
]

_log = logging.getLogger(__name__)


def _as_list(x: Any) -> tuple[list[Any], bool]:
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def _keyed_outputs(outputs: dict) -> tuple[list[Any], list[str]]:
    """Outputs given as a dict (PyTensor's): the outputs in the order of their sorted keys,
    and the keys, which must be strings (a call returns a dict of them)."""
    bad = [k for k in outputs if not isinstance(k, str)]
    if bad:
        raise TypeError(
            f"function: the keys of an outputs dict name the results a call returns and must be "
            f"strings, got {bad[0]!r}; e.g. outputs={{'loss': loss}}"
        )
    keys = sorted(outputs)
    return [outputs[k] for k in keys], keys


def _check_inputs(inputs: Sequence[Any]) -> list[Variable]:
    out = []
    for k, v in enumerate(inputs):
        if isinstance(v, SharedVariable):
            raise TypeError(
                f"input {k} ({v!r}) is a shared variable: shared variables are used "
                "implicitly and must not be listed as inputs"
            )
        if not isinstance(v, Variable):
            raise TypeError(
                f"function: input {k} must be a symbolic variable (e.g. ft.vector('x')), got "
                f"{type(v).__name__} {v!r}"
            )
        if isinstance(v, Constant):
            raise TypeError(f"input {k} ({v!r}) is a constant; inputs must be symbolic variables")
        if any(v is u for u in out):
            raise ValueError(f"input {k} ({v!r}) is listed twice")
        out.append(v)
    return out


def _cut_at_inputs(inputs: list[Any]) -> tuple[list[Any], dict[Variable, Variable]]:
    """The inputs with each computed variable among them (Theano and PyTensor take one: the
    function is given its value and computes nothing above it) made a root variable of its
    type and name, and the map from each computed input to its root, to replace it in the
    outputs and updates as ``givens`` do."""
    cut: dict[Variable, Variable] = {}
    out = []
    for item in inputs:
        v = item.variable if isinstance(item, In) else item
        if isinstance(v, Variable) and v.owner is not None:
            # one root per computed input, so one listed twice is refused as any input is
            if v not in cut:
                cut[v] = v.type.make_variable(v.name)
            root = cut[v]
            if isinstance(item, In):
                item = copy.copy(item)
                item.variable = root
            else:
                item = root
        out.append(item)
    return out, cut


def _check_updates(updates: Any, what: str = "updates") -> list[tuple[SharedVariable, Variable]]:
    """``updates`` (pairs or a dict), each given once, fitted to their shared variables' types
    (:func:`~fncache.tensor.replace.fit_update`). ``what`` names them in errors ("updates", or
    "default_update" for the variables' own)."""
    out: list[tuple[SharedVariable, Variable]] = []
    for i, (sv, expr) in enumerate(pairs_arg(updates, what, "shared_variable", "expression")):
        first = next((j for j, (s, _) in enumerate(out) if s is sv), None)
        if first is not None:
            raise ValueError(
                f"{what}: shared variable {sv!r} is updated twice (pairs {first} and {i}); "
                "a call makes one update of each variable: give it one expression"
            )
        out.append((sv, fit_update(sv, expr, what)))
    return out


class SymbolicInput(NamedTuple):
    """One input of a compiled function as PyTensor's ``f.maker.inputs`` lists it: a read-only
    view. ``value`` is an explicit input's default (a copy; None where it has none) or, for a
    state (``fc.In`` with an update) and a shared variable, its :class:`Container`; ``update``
    is the update's expression as the function's original graph holds it, or None."""

    variable: Variable
    name: str | None
    value: Any
    update: Variable | None
    implicit: bool
    shared: bool
    mutable: bool
    strict: bool
    allow_downcast: bool | None


class InputValue:
    """PyTensor's ``f.input_storage[i]`` for an input the function keeps no container for: its
    default (a copy), or None. Read-only: ``f[name] = value`` sets a default."""

    __slots__ = ("name", "_value")

    def __init__(self, name: str | None, value: np.ndarray | None) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_value", value)

    @property
    def value(self) -> np.ndarray | None:
        return None if self._value is None else np.array(self._value, copy=True)

    data = value

    def __setattr__(self, attr: str, new: Any) -> None:
        raise AttributeError(
            f"the storage of input {self.name!r} is a read-only view: set its default with "
            f"f[{self.name!r}] = value (an input given fc.In(..., value=...)), or pass the value in the call"
        )

    def __repr__(self) -> str:
        return f"InputValue({self.name!r}, {self._value!r})"


class FunctionMaker:
    """What a compiled function was made from, under the names Theano's and PyTensor's
    ``FunctionMaker`` gave it: ``fgraph`` (the optimized graph), ``mode`` and ``inputs`` (a
    :class:`SymbolicInput` per explicit input, then per shared variable the function reads)."""

    __slots__ = ("fgraph", "mode", "inputs")

    def __init__(self, fgraph: FunctionGraph, mode: Mode, inputs: list[SymbolicInput]) -> None:
        self.fgraph = fgraph
        self.mode = mode
        self.inputs = inputs


class Function:
    """A compiled function. Call it with the inputs' values (positionally or by name).

    A native (C) function is called straight through its C runner: the instance's class gets
    the runner as ``__call__``, so a call costs one C vectorcall with no Python frame in between
    (input checks run in C; unusual inputs go to ``_convert_one``). The runner also reads the
    shared variables' values and stores their updates (``bind_shared``).
    """

    #: the call counts and times of a function compiled with ``profile=True``, else None
    profile: ProfileStats | None = None
    #: what gives the optimized graph's nodes and inputs the user's graph's messages (``written``,
    #: traces: ``compile.attach_traces``) where it came without them (an unpickled function:
    #: tags are not pickled); run at its first error, never on a call
    untraced: Callable[[], Any] | None = None

    def __init__(
        self,
        *,
        inputs: list[Variable],
        outputs: list[Variable],
        single: bool,
        shared: list[SharedVariable],
        updated: list[int],
        mode: Mode,
        name: str,
        allow_input_downcast: bool | None,
        original: FunctionGraph,
        optimized: FunctionGraph,
        cache_key: str,
        runner: Any,
        code_flags: dict[str, Any],
        input_names: Sequence[str | None] | None = None,
        defaults: Sequence[Any] | None = None,
        states: Sequence[tuple[str | None, int]] | None = None,
        advanced: Sequence[tuple[int, int]] | None = None,
        input_flags: Sequence[tuple[bool, bool | None]] | None = None,
        output_keys: Sequence[str] | None = None,
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self._single = single
        self._shared = shared
        self._updated = updated  # index in shared of each update output
        self.mode = mode
        self.name = name
        self.allow_input_downcast = allow_input_downcast
        self.original_graph = original
        self.optimized_graph = optimized
        self.cache_key = cache_key
        self.code_flags = code_flags  # config.code_flags() when compiled: pickles carry it
        self._runner = runner
        self._native = getattr(runner, "native", None)
        # A runner that keeps shared values itself (the CUDA one: on the device) is called with
        # the explicit inputs only and applies the updates itself.
        self._owns_shared = bool(getattr(runner, "owns_shared", False))
        if self._owns_shared:
            runner.bind_updates(updated)
        self._n_out = len(outputs)
        # outputs whose values are arrays (not the scipy matrices of fncache.sparse)
        self._dense_outs = [isinstance(v.type, TensorType) for v in outputs]
        self._types = [v.type for v in inputs]
        self._names = list(input_names) if input_names is not None else [v.name for v in inputs]
        # each input's default value (``fc.In``), NO_DEFAULT where it has none; None: no defaults
        self._defaults = (
            tuple(defaults) if defaults is not None and any(d is not NO_DEFAULT for d in defaults) else None
        )
        #: the inputs whose value the function keeps (``fc.In`` with an update, or implicit):
        #: (name, index in ``shared``)
        self._states = list(states or ())
        #: state position -> the variable ``f[variable]`` names it by (an explicit input's)
        self._state_variables: dict[int, Variable] = {
            k: v
            for v, d in zip(inputs, defaults or ())
            if isinstance(d, StateDefault)
            for k, (_, index) in enumerate(self._states)
            if index == d.index
        }
        #: the random state inputs given as ``In(rng, mutable=True)``: (input position, how many
        #: draws a call makes from it, one after the other)
        self._advanced = [(int(i), int(n)) for i, n in advanced or ()]
        #: each input's (strict, allow_downcast) as ``fc.In`` gave them (None: the function's
        #: allow_input_downcast); None where no input has either
        self._input_flags = (
            [(bool(st), None if ad is None else bool(ad)) for st, ad in input_flags]
            if input_flags is not None and any(st or ad is not None for st, ad in input_flags)
            else None
        )
        #: the keys of the dict a call returns (outputs given as a dict), else None
        self._output_keys = list(output_keys) if output_keys is not None else None
        self._last_bound: tuple | None = None
        self._last: tuple | None = None
        self._trust = False
        self._direct = False  # the class's __call__ is the native runner
        if self._native is not None and not (shared and self._owns_shared):
            if shared:  # the C runner reads the shared values and stores the updates itself
                self._native.bind_shared(tuple(shared), tuple(updated), len(outputs), single)
            # the runner is not a descriptor: f(*args) calls native(*args) without binding f
            self.__class__ = _calling(Function, self._native)
            self._direct = True
            self.fn = self._native.repeat  # f.fn(n_calls=N) in C, no Python frame
        if self._defaults is not None:
            # a call may leave inputs out: fill them in Python before the usual call
            self.__class__ = _calling(type(self), Function._call_defaults)
            if any(isinstance(d, StateDefault) for d in self._defaults):
                self.fn = self._repeat_with_state
        if self._advanced:
            # the states given are advanced after the call, in Python
            self.__class__ = _calling(type(self), Function._call_advancing)
            self.fn = self._repeat_advancing
        if self._output_keys is not None:
            # a call returns a dict: the call made so far, its outputs keyed
            self._unkeyed = self.__call__
            self.__class__ = _calling(type(self), Function._call_keyed)

    def time_nodes(self) -> Callable[[], list[tuple[Apply, float, int]]] | None:
        """Start timing each node of the optimized graph in the calls that follow (what
        ``profile=True`` does); returns what reads (node, seconds, runs) per node, or None
        where the back end does not time its nodes (CUDA)."""
        start = getattr(self._runner, "time_nodes", None)
        return None if start is None else start()

    # -- input conversion -------------------------------------------------------------------
    def _convert_one(self, i: int, value: Any) -> np.ndarray:
        if self._input_flags is None:
            return convert_input(
                self.name, i, self._names[i], self._types[i], value, self.allow_input_downcast
            )
        strict, downcast = self._input_flags[i]
        allow = self.allow_input_downcast if downcast is None else downcast
        return convert_input(self.name, i, self._names[i], self._types[i], value, allow, strict)

    def _convert(self, args: tuple) -> tuple:
        if len(args) != len(self._types):
            self._wrong_count(len(args))
        out = []
        for i, (a, t) in enumerate(zip(args, self._types)):
            if type(a) is np.ndarray and t.is_compatible(a) and a.flags.aligned and a.dtype.isnative:
                out.append(a)
            else:
                out.append(self._convert_one(i, a))
        return tuple(out)

    def _wrong_count(self, n: int) -> None:
        names = ", ".join(n or f"<input {i}>" for i, n in enumerate(self._names))
        raise TypeError(f"function {self.name!r} takes {len(self._types)} inputs ({names}), got {n}")

    def _bind_kwargs(self, args: tuple, kwargs: dict[str, Any]) -> tuple:
        if len(args) > len(self._names):
            self._wrong_count(len(args))
        vals = list(args) + [NO_DEFAULT] * (len(self._names) - len(args))
        for k, v in kwargs.items():
            if k not in self._names:
                raise TypeError(f"function {self.name!r} has no input named {k!r}; inputs: {self._names}")
            if self._names.count(k) > 1:  # PyTensor's "Ambiguous name"
                at = [j for j, name in enumerate(self._names) if name == k]
                raise TypeError(
                    f"function {self.name!r}: inputs {at} are all named {k!r}, so {k}= does not say "
                    "which; give them by position, or give the variables distinct names"
                )
            i = self._names.index(k)
            if i < len(args):
                raise TypeError(f"input {k!r} given both by position and by name")
            vals[i] = v
        if self._defaults is not None:
            vals = [self._default(d) if v is NO_DEFAULT else v for v, d in zip(vals, self._defaults)]
        missing = [self._names[i] or str(i) for i, v in enumerate(vals) if v is NO_DEFAULT]
        if missing:
            raise TypeError(f"function {self.name!r}: missing inputs {missing}")
        return tuple(vals)

    # -- calling (Python path: the numpy linker and the CUDA runner) ---------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = self._bind_kwargs(args, kwargs)
        vals = self._fitted_values(args)
        self._last = args
        return self._run(vals)

    def _fitted_values(self, args: tuple) -> tuple:
        """The values a run takes for the arguments ``args``: converted to the inputs' types on
        the Python path (the native runner converts them itself). ``f.fn()`` converts the
        last call's arguments again, so it reads them as they are now, as the native runner's
        ``repeat`` does, not the copy an unaligned or byte-swapped one was converted to."""
        if self._native is None:
            return args if self._trust else self._convert(args)
        if len(args) != len(self._types):
            self._wrong_count(len(args))
        return args

    def _run(self, vals: tuple) -> Any:
        call = self._native if self._native is not None else self._runner
        try:
            res = call(*vals) if self._owns_shared else call(*vals, *[s.value for s in self._shared])
        except Exception as e:
            raise self._explain(e) from None
        outs = res[: self._n_out]
        if self._updated:
            self._apply_updates(res[self._n_out :], outs)
        if self._native is None:
            outs = [
                o if not dense or isinstance(o, np.ndarray) and o.flags.writeable else np.array(o)
                for o, dense in zip(outs, self._dense_outs)
            ]
        return outs[0] if self._single else outs

    def _explain(self, e: BaseException) -> BaseException:
        """Add the failing node (``exception_verbosity='high'``) to a run-time error."""
        from .errors import annotate_runtime_error

        node = self._runner.failed_node() if self._native is not None else getattr(e, "_fncache_node", None)
        if node is None or getattr(e, "_fncache_annotated", False):
            return e
        if self.untraced is not None:
            self.untraced()
            self.untraced = None
        new = annotate_runtime_error(e, node, graph_inputs=self.optimized_graph.inputs)
        new._fncache_annotated = True  # type: ignore[attr-defined]
        return new

    def _default(self, d: Any) -> Any:
        """The value a default stands for now (an input's state: the value it holds)."""
        return self._shared[d.index].value if isinstance(d, StateDefault) else d

    def _call_defaults(self, *args: Any, **kwargs: Any) -> Any:
        """``__call__`` of a function with default values (``fc.In``)."""
        if kwargs or len(args) != len(self._types):
            args = self._bind_kwargs(args, kwargs)
        self._last_bound = args
        if self._direct:  # the native runner is the direct call
            return self._native(*args)
        return Function.__call__(self, *args)

    def _call_keyed(self, *args: Any, **kwargs: Any) -> Any:
        """``__call__`` of a function given its outputs as a dict: the outputs by key."""
        return dict(zip(self._output_keys, self._unkeyed(*args, **kwargs)))  # type: ignore[arg-type]

    def _repeat_with_state(self, n_calls: int = 1) -> Any:
        """``f.fn`` of a function with inputs that have updates: each run reads their states as
        the last run left them (as Theano's containers), the other inputs as the last call's."""
        last = self._last_bound
        if last is None:
            raise RuntimeError(
                f"function {self.name!r}: f.fn() repeats the last call; call f(...) once first"
            )
        res = None
        for _ in range(max(int(n_calls), 1)):
            args = [
                self._default(d) if isinstance(d, StateDefault) else a for a, d in zip(last, self._defaults)
            ]
            res = Function._call_defaults(self, *args)
        return res

    def _call_advancing(self, *args: Any, **kwargs: Any) -> Any:
        """``__call__`` of a function with random state inputs given as ``In(rng, mutable=True)``:
        each state the caller gives is advanced in place after the call, past the draws the call
        made from it, so the next call draws new numbers (as PyTensor advances a mutable
        ``Generator``). A state array's counter moves on by that many draws; a ``Generator``
        gives up the word the state was seeded from (the next call seeds from the word after)."""
        if kwargs or len(args) != len(self._types):
            args = self._bind_kwargs(args, kwargs)
        given = [
            (i, n) for i, n in self._advanced if self._defaults is None or args[i] is not self._defaults[i]
        ]
        for i, _ in given:
            value = args[i]
            if not isinstance(value, np.random.Generator) and not (
                type(value) is np.ndarray
                and value.dtype == np.uint64
                and value.shape == (2,)
                and value.flags.writeable
            ):
                raise TypeError(
                    f"function {self.name!r}: input {self._names[i] or i!r} is In(..., mutable=True), a "
                    "random state each call advances in place; give a numpy Generator or a writeable "
                    f"uint64 state array of 2 words (a state's get_value()), got {type(value).__name__} "
                    f"{value!r}"
                )
        self._last_bound = args
        res = self._native(*args) if self._direct else Function.__call__(self, *args)
        for i, n in given:
            if isinstance(args[i], np.random.Generator):
                args[i].bit_generator.random_raw()
            else:
                args[i][1] += np.uint64(n)  # modulo 2**64, as the draws' own counter
        return res

    def _repeat_advancing(self, n_calls: int = 1) -> Any:
        """``f.fn`` of a function with ``In(rng, mutable=True)`` inputs: the last call again, its
        states advanced each time."""
        if self._last_bound is None:
            raise RuntimeError(
                f"function {self.name!r}: f.fn() repeats the last call; call f(...) once first"
            )
        res = None
        for _ in range(max(int(n_calls), 1)):
            res = Function._call_advancing(self, *self._last_bound)
        return res

    def _state_index(self, key: Any) -> int:
        """The index in ``shared`` of the state input ``key`` names, else -1 - the position of
        the explicit input with a plain default it names."""
        for k, (name, index) in enumerate(self._states):
            if (isinstance(key, str) and key == name) or key is self._state_variables.get(k):
                return index
        for i, d in enumerate(self._defaults or ()):
            named = (isinstance(key, str) and key == self._names[i]) or key is self.inputs[i]
            if named and d is not NO_DEFAULT and not isinstance(d, StateDefault):
                return -1 - i
        known = [n for n, _ in self._states] + [
            self._names[i]
            for i, d in enumerate(self._defaults or ())
            if d is not NO_DEFAULT and not isinstance(d, StateDefault)
        ]
        raise KeyError(
            f"function {self.name!r} keeps no input {key!r}: f[key] reads the inputs given a "
            f"value (fc.In(..., value=...), with or without an update, or implicit=True), by name "
            f"or variable; they are {known}"
        )

    def __getitem__(self, key: Any) -> np.ndarray:
        """The value of a state input (``fc.In`` with an update, or implicit), or the default
        of an input given a value: a copy."""
        k = self._state_index(key)
        if k < 0:
            return np.array(self._defaults[-1 - k], copy=True)  # type: ignore[index]
        return self._shared[k].get_value()

    def __setitem__(self, key: Any, value: Any) -> None:
        """Set a state input's value, or the default of an input given a value, for the calls
        that follow (converted to its type; an error keeps the old one)."""
        k = self._state_index(key)
        if k < 0:
            i = -1 - k
            new = np.array(self._convert_one(i, value))
            new.setflags(write=False)  # as every default: the same array is each call's input
            self._defaults = (*self._defaults[:i], new, *self._defaults[i + 1 :])  # type: ignore[index]
            return
        sv = self._shared[k]
        where = f"the state {sv.name!r} of function {self.name!r}"
        sv.set_value(sv.type.convert(value, self.allow_input_downcast, where))

    @property
    def container(self) -> _Containers:
        """PyTensor's ``f.container``: ``f.container[x]`` (a name or variable) is the
        :class:`Container` of a state input (``fc.In`` with an update, implicit, or given a
        container), which ``fc.In(y, value=f.container[x])`` shares with another function."""
        return _Containers(self)

    def _call_kwargs(self, *args: Any, **kwargs: Any) -> Any:
        """The native runner's way out for inputs given by name, or a wrong count by position."""
        if not kwargs:
            self._wrong_count(len(args))
        return self._native(*self._bind_kwargs(args, kwargs))

    def _apply_updates(self, values: Sequence[np.ndarray], outs: Sequence[np.ndarray]) -> None:
        taken = {id(o) for o in outs}
        for k, val in zip(self._updated, values):
            sv = self._shared[k]
            if not isinstance(sv.type, TensorType):  # a sparse matrix: a copy of its own
                val = sv.type.copy_value(val)
            elif id(val) in taken or not (
                isinstance(val, np.ndarray) and val.flags.writeable and val.flags.owndata
            ):
                val = np.array(val, copy=True)
            taken.add(id(val))
            sv.store_update(val)

    def dprint(self, file: Any = None, depth: int = -1, **options: Any) -> str:
        """PyTensor's ``f.dprint()``: the optimized graph printed as ``fc.printing.debugprint``
        prints it (to standard output by default, with its keywords). Returns the text."""
        return print_graph(self, file=file, depth=depth, **options)

    @property
    def maker(self) -> FunctionMaker:
        """Theano's and PyTensor's ``f.maker``: ``f.maker.fgraph`` is the optimized graph (what
        scripts walk with ``f.maker.fgraph.toposort()``), ``f.maker.mode`` the mode."""
        return FunctionMaker(self.optimized_graph, self.mode, self._symbolic_inputs())

    def _symbolic_inputs(self) -> list[SymbolicInput]:
        n_in = len(self.inputs)
        defaults = self._defaults or (NO_DEFAULT,) * n_in
        flags = self._input_flags or [(False, None)] * n_in
        mutable = {i for i, _ in self._advanced}
        update_of = dict(zip(self._updated, self.original_graph.outputs[self._n_out :]))
        out = []
        for k, (v, nm, d, (strict, downcast)) in enumerate(zip(self.inputs, self._names, defaults, flags)):
            if isinstance(d, StateDefault):
                value, update = Container(self._shared[d.index]), update_of.get(d.index)
            else:
                value, update = (None if d is NO_DEFAULT else np.array(d, copy=True)), None
            out.append(SymbolicInput(v, nm, value, update, False, False, k in mutable, strict, downcast))
        states = {index for _, index in self._states}
        out += [
            SymbolicInput(sv, sv.name, Container(sv), update_of.get(j), True, True, False, False, None)
            for j, sv in enumerate(self._shared)
            if j not in states
        ]
        return out

    @property
    def input_storage(self) -> list[Container | InputValue]:
        """PyTensor's ``f.input_storage``: per input of ``f.maker.inputs``, the :class:`Container`
        of a state or shared variable (``.data`` reads and sets its value), else an
        :class:`InputValue` whose ``.data`` is the input's default or None."""
        return [
            i.value if isinstance(i.value, Container) else InputValue(i.name, i.value)
            for i in self._symbolic_inputs()
        ]

    @property
    def shared_variables(self) -> list[SharedVariable]:
        """The shared variables the function reads, in the order its graphs number them."""
        return self._shared

    def get_shared(self) -> list[SharedVariable]:
        """PyTensor's ``f.get_shared()``: the shared variables the function reads or updates
        (not the states it keeps for its ``fc.In`` inputs)."""
        states = {index for _, index in self._states}
        return [sv for j, sv in enumerate(self._shared) if j not in states]

    @property
    def updated_indices(self) -> list[int]:
        """For each update the function makes, the index of its variable in :attr:`shared_variables`."""
        return self._updated

    @property
    def single_output(self) -> bool:
        """Whether a call returns one value (the function was given one output, not a list)."""
        return self._single

    @property
    def input_names(self) -> list[str | None]:
        """The inputs' names, as calls take them by keyword (``fc.In``'s ``name`` or the variable's)."""
        return list(self._names)

    @property
    def defaults(self) -> list[Any] | None:
        """Each input's default value (``fc.In``; ``NO_DEFAULT`` where it has none, a
        ``StateDefault`` for an input with an update), or None."""
        return None if self._defaults is None else list(self._defaults)

    @property
    def states(self) -> list[tuple[str | None, int]]:
        """The inputs whose value the function keeps (``fc.In`` with an update, or implicit),
        as (name, index in :attr:`shared_variables`)."""
        return list(self._states)

    @property
    def advanced_inputs(self) -> list[tuple[int, int]]:
        """The random state inputs given as ``In(rng, mutable=True)``, which each call advances
        in place: (input position, draws a call makes from it)."""
        return list(self._advanced)

    @property
    def input_flags(self) -> list[tuple[bool, bool | None]] | None:
        """Each input's (strict, allow_downcast) as ``fc.In`` gave them, or None where no input
        has either."""
        return None if self._input_flags is None else list(self._input_flags)

    @property
    def output_keys(self) -> list[str] | None:
        """The keys of the dict a call returns (outputs given as a dict), else None."""
        return None if self._output_keys is None else list(self._output_keys)

    @property
    def trust_input(self) -> bool:
        """When True, the Python linker takes the inputs as they are: the caller promises exact
        dtypes and ranks. Compiled code checks each input's dtype, rank and declared sizes
        whatever this says (nanoseconds, in C): a kernel given another would read past the
        array's memory."""
        return self._trust

    @trust_input.setter
    def trust_input(self, value: bool) -> None:
        self._trust = bool(value)

    def fn(self, n_calls: int = 1) -> Any:
        """Run again on the last call's inputs ``n_calls`` times; return the last outputs.

        (Native functions without shared variables replace this method by their runner's
        ``repeat``, which does the same in C.)"""
        n = max(int(n_calls), 1)
        if self._last is None:
            if self._types:
                raise RuntimeError(
                    f"function {self.name!r}: f.fn() repeats the last call; call f(...) once first"
                )
            self._last = ()
        res = None
        for _ in range(n):
            res = self._run(self._fitted_values(self._last))
        return res

    def copy(
        self,
        share_memory: bool = False,
        swap: dict[SharedVariable, SharedVariable] | None = None,
        delete_updates: bool = False,
        name: str | None = None,
    ) -> Function:
        """Theano's ``f.copy``: this function built again from its graph (a cache hit), reading
        the shared variables ``swap`` maps each of this function's to (same type), and making
        no update at all when ``delete_updates``. The copy's state inputs (``fc.In`` with an
        update, or implicit) start at this function's values and go on apart from them.
        ``share_memory`` is accepted for Theano's signature: functions never share
        intermediate buffers, so it changes nothing."""
        swap = dict(swap or {})
        state_cells = {index for _, index in self._states}
        for old, new in swap.items():
            if not any(old is sv for sv in self._shared) or any(old is self._shared[j] for j in state_cells):
                raise ValueError(f"copy: swap names {old!r}, which function {self.name!r} does not read")
            if not isinstance(new, SharedVariable) or new.type != old.type:
                raise TypeError(
                    f"copy: swap maps {old!r} ({old.type}) to {new!r}, which is not a shared variable "
                    "of the same type; give fc.shared(value) of the same dtype and ndim"
                )
        fg, n_in = self.original_graph, len(self.inputs)
        now = [
            SharedVariable(np.array(sv.value), sv.name, sv.type.shape, True)
            if j in state_cells
            else swap.get(sv, sv)
            for j, sv in enumerate(self._shared)
        ]
        exprs = substitute(
            list(fg.outputs), {**dict(zip(fg.inputs[n_in:], now)), **dict(zip(fg.inputs[:n_in], self.inputs))}
        )
        outs = exprs[: self._n_out]
        update_of = {} if delete_updates else dict(zip(self._updated, exprs[self._n_out :]))
        updates = [(now[j], e) for j, e in update_of.items() if j not in state_cells]
        defaults = self._defaults or (NO_DEFAULT,) * n_in
        flags = self._input_flags or [(False, None)] * n_in
        advanced = {i for i, _ in self._advanced}
        ins = [
            In(
                v,
                name=nm,
                value=Container(now[d.index]) if isinstance(d, StateDefault) else d,
                update=update_of.get(d.index) if isinstance(d, StateDefault) else None,
                mutable=k in advanced,
                strict=strict,
                allow_downcast=downcast,
            )
            for k, (v, nm, d, (strict, downcast)) in enumerate(zip(self.inputs, self._names, defaults, flags))
        ]
        explicit = {d.index for d in defaults if isinstance(d, StateDefault)}
        ins += [  # the implicit states: their graphs read the copy's cells themselves
            In(
                self._state_variables[k] if k in self._state_variables else now[j].type.make_variable(nm),
                name=nm,
                value=Container(now[j]),
                update=update_of.get(j),
                implicit=True,
            )
            for k, (nm, j) in enumerate(self._states)
            if j not in explicit
        ]
        g = function(
            ins,
            dict(zip(self._output_keys, outs))
            if self._output_keys is not None
            else outs[0]
            if self._single
            else outs,
            updates=updates,
            mode=self.mode,
            name=name or self.name,
            allow_input_downcast=self.allow_input_downcast,
            on_unused_input="ignore",
            no_default_updates=True,  # this function's own default updates are in `updates`
        )
        g.trust_input = self._trust
        return g

    def __copy__(self) -> Function:
        """``copy.copy(f)`` is ``f.copy()``, as in PyTensor."""
        return self.copy()

    def free(self) -> None:
        """Drop intermediate buffers kept for reuse (``allow_gc=False``)."""
        (self._native if self._native is not None else self._runner).free()

    def __repr__(self) -> str:
        return (
            f"<fncache.Function {self.name!r} inputs={[str(v) for v in self.inputs]} "
            f"key={self.cache_key[:12]}>"
        )

    def __reduce__(self):
        from .pickling import reduce_function

        return reduce_function(self)


class _Containers:
    """``f.container``: a function's state inputs' containers, by name or variable."""

    __slots__ = ("_f",)

    def __init__(self, f: Function) -> None:
        self._f = f

    def __getitem__(self, key: Any) -> Container:
        k = self._f._state_index(key)
        if k < 0:
            raise KeyError(
                f"function {self._f.name!r}: input {key!r} has a default value, not a container: "
                "only a state input (fc.In with update= or implicit=True) keeps its value in one; "
                "read or set the default with f[key]"
            )
        return Container(self._f._shared[k])

    def __contains__(self, key: Any) -> bool:
        try:
            return self._f._state_index(key) >= 0
        except KeyError:
            return False


def _calling(base: type, call: Any) -> type:
    """A subclass of ``base`` (Function or one of these) whose ``__call__`` is ``call``, named
    and placed as Function is."""
    return type(
        "Function",
        (base,),
        {"__call__": call, "__module__": Function.__module__, "__qualname__": "Function"},
    )


def _no_default_updates(value: Any) -> Any:
    """``no_default_updates`` checked: True (all), or a list of shared variables (False: none)."""
    if value is True or value is False or value is None:
        return value is True or []
    items = list(value) if isinstance(value, (list, tuple, set)) else None
    if items is None or not all(isinstance(v, SharedVariable) for v in items):
        raise TypeError(
            f"function: no_default_updates must be True, False or a list of shared variables, got {value!r}"
        )
    return items


def _replaced(
    outs: list[Variable],
    upd: list[tuple[Variable, Variable]],
    mapping: dict[Variable, Variable],
    rebuild: bool = False,
) -> tuple[list[Variable], list[tuple[Variable, Variable]]]:
    """``outs`` and the updates' expressions with ``mapping``'s variables replaced (``rebuild``:
    the nodes reading a replacement of another type made again, as ``substitute`` says)."""
    new = substitute(outs + [e for _, e in upd], mapping, remake if rebuild else None)
    return new[: len(outs)], [(sv, e) for (sv, _), e in zip(upd, new[len(outs) :])]


def _unrunnable_checks(used: Sequence[Variable], ins: list[Variable]) -> dict[Variable, Variable]:
    """The optional checks (``Assert(optional=True)``, any ``CheckAndRaise``) among ``used`` whose condition reads a
    variable that is neither an input, a shared variable nor a constant, each mapped to the
    value it guards: the function could not run them, and that value does not need the
    variable."""
    given = {id(v) for v in ins}

    def missing(v: Variable) -> bool:
        return v.owner is None and not isinstance(v, (Constant, SharedVariable)) and id(v) not in given

    if not any(missing(v) for v in used):
        return {}
    from ..tensor.pyop import CheckAndRaise

    return {
        v: v.owner.inputs[0]
        for v in used
        if v.owner is not None
        and isinstance(v.owner.op, CheckAndRaise)
        and v.owner.op.optional
        and any(missing(a) for a in ancestors(v.owner.inputs[1:]))
    }


def function(
    inputs: Sequence[Variable],
    outputs: Any = None,
    mode: Any = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: Any = False,
    *,
    name: str | None = None,
    allow_input_downcast: bool | None = None,
    on_unused_input: str | None = None,
    trust_input: bool = False,
    profile: Any = None,
    accept_inplace: bool = False,
    rebuild_strict: bool = True,
) -> Function:
    """Compile ``outputs`` as a function of ``inputs`` (README "Compiling"); the arguments up to
    ``no_default_updates`` in Theano's and PyTensor's order, the others by keyword. Without
    ``outputs`` (``function([], updates=...)``) a call returns [].

    ``givens`` (a dict or (variable, expression) pairs) replaces variables of the outputs and
    updates by expressions before compiling, e.g. ``{x: data[i * n:(i + 1) * n]}`` with ``data``
    a shared variable: the replaced variables are then not inputs. An input may be given as
    ``fc.In(var, name=, value=)`` (a keyword name, a default value), an output as ``fc.Out(var)``.
    ``no_default_updates`` (True, or a list of shared variables) leaves out the default updates
    (a random stream's state) of all or of those shared variables: each call then draws the
    same numbers. ``profile=True`` (or a name, or a ``ProfileStats``) counts and times the
    calls in ``f.profile`` (``f.profile.summary()``). ``outputs=None`` is no output (a call
    returns ``[]``, as PyTensor's). ``on_unused_input`` (``"raise"``, ``"warn"``, ``"ignore"``;
    None: ``config.on_unused_input``) says what an input the outputs do not read does.
    PyTensor's ``accept_inplace`` is taken (a graph fncache builds holds no in-place op);
    ``rebuild_strict=False`` (PyTensor's) lets a ``givens`` replacement have another dtype or
    number of dimensions than its key, the nodes reading it made again on the new type (an
    update of another dtype is then cast or refused as in ``updates``)."""
    return start_function(
        inputs,
        outputs,
        mode,
        updates,
        givens,
        no_default_updates,
        name=name,
        allow_input_downcast=allow_input_downcast,
        on_unused_input=on_unused_input,
        trust_input=trust_input,
        profile=profile,
        accept_inplace=accept_inplace,
        rebuild_strict=rebuild_strict,
    )()


class StartedFunction:
    """A function compiled up to its kernel library (:func:`start_function`): its graph
    optimized, its function entry published and the compiler started on its library where the
    compiledir lacks it. Calling it links the function (waiting for that compiler) once;
    :meth:`close` stops the compiler of one never called."""

    def __init__(self, link: Callable[[], Function], early: Any) -> None:
        self._link = link
        self._early = early

    def __call__(self) -> Function:
        with self._early if self._early is not None else nullcontext():
            return self._link()

    def close(self) -> None:
        if self._early is not None:
            self._early.close()


def start_function(
    inputs: Sequence[Variable],
    outputs: Any = None,
    mode: Any = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: Any = False,
    *,
    name: str | None = None,
    allow_input_downcast: bool | None = None,
    on_unused_input: str | None = None,
    trust_input: bool = False,
    profile: Any = None,
    accept_inplace: bool = False,
    rebuild_strict: bool = True,
) -> StartedFunction:
    """:func:`function` in two steps, for compiling several functions whose compilers run at
    once (the inner functions of a graph): everything up to the compiler call on its kernel
    library, which is started, then (calling what this returns) the rest, which waits for it.
    The arguments are :func:`function`'s."""
    from ..tensor.basic import as_tensor_variable
    from .compile import optimize_or_load

    started = time.perf_counter()
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a list of symbolic variables, e.g. [x, y]")
    fname = name or "f"
    stats = profile_stats(profile, fname)
    inputs, cut = _cut_at_inputs([as_in(i, k) for k, i in enumerate(inputs)])
    _check_inputs([i.variable if isinstance(i, In) else i for i in inputs])
    # an implicit input is no argument: its state stands for it in the graph
    states = _states_of(inputs, fname, allow_input_downcast)
    kept = [i for i in inputs if not (isinstance(i, In) and i.implicit)]
    ins = [i.variable if isinstance(i, In) else i for i in kept]
    output_keys = None
    if outputs is None:
        outputs = []
    if on_unused_input is None:
        on_unused_input = config.on_unused_input
    if not isinstance(accept_inplace, (bool, np.bool_)) or not isinstance(rebuild_strict, (bool, np.bool_)):
        raise TypeError(
            f"function: accept_inplace and rebuild_strict must be True or False, got {accept_inplace!r} "
            f"and {rebuild_strict!r}"
        )
    if isinstance(outputs, dict):
        outputs, output_keys = _keyed_outputs(outputs)
    outs, single = _as_list(outputs)
    outs = [as_tensor_variable(o.variable if isinstance(o, Out) else o) for o in outs]
    upd = _check_updates(updates) + _check_updates(
        [(sv, g.update) for g, sv in states if g.update is not None]
    )
    rebuild = not rebuild_strict
    given = replacement_map(givens, "givens", strict=not rebuild)
    for v, root in cut.items():
        if v in given:
            raise ValueError(f"givens: {v!r} is an input of the function; it cannot also be replaced")
        given[v] = root
    for g, sv in states:
        if g.implicit:
            if g.variable in given:
                raise ValueError(f"givens: {g.variable!r} is an implicit input (fc.In); it has its own value")
            given[g.variable] = sv
    if given:
        outs, upd = _replaced(outs, upd, given, rebuild)
        if rebuild:  # an update rebuilt on another dtype is cast or refused as given so
            upd = _check_updates(upd)
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError("on_unused_input must be 'raise', 'warn' or 'ignore'")
    all_outs = outs + [e for _, e in upd]
    used = ancestors(all_outs)
    unrunnable = _unrunnable_checks(used, ins)
    if unrunnable:
        _log.debug("leaving out %d check(s) that read variables the function is not given", len(unrunnable))
        outs, upd = _replaced(outs, upd, unrunnable)
        all_outs = outs + [e for _, e in upd]
        used = ancestors(all_outs)
    # A shared variable with a default update (a random stream's counter) gets it unless the
    # caller updates it: every call then draws new numbers. A default update may read other
    # shared variables with default updates of their own: those are made too, until none is new.
    skip = _no_default_updates(no_default_updates)
    while True:
        defaults = [
            (v, v.default_update)
            for v in used
            if isinstance(v, SharedVariable)
            and v.default_update is not None
            and not any(v is s for s, _ in upd)
            and (skip is not True and not any(v is s for s in skip))
        ]
        if not defaults:
            break
        if given:
            new = substitute([e for _, e in defaults], given, remake if rebuild else None)
            defaults = [(sv, e) for (sv, _), e in zip(defaults, new)]
        # a default update fits its variable's type as an explicit one does: its value is stored
        # into the variable, whose dtype and declared sizes other functions rely on
        upd += _check_updates(defaults, "default_update")
        all_outs = outs + [e for _, e in upd]
        used = ancestors(all_outs)
    # the same updates given in another order make the same graph, hence one function entry
    ordered = in_canonical_order(ins, outs, upd)
    if any(a is not b for (a, _), (b, _) in zip(ordered, upd)):
        upd = ordered
        all_outs = outs + [e for _, e in upd]
        used = ancestors(all_outs)
    used_ids = {id(v) for v in used}
    # an implicit input is used where its state is
    stands_for = {id(g.variable): sv for g, sv in states if g.implicit}
    for k, g in enumerate(inputs):
        v = g.variable if isinstance(g, In) else g
        if id(stands_for.get(id(v), v)) not in used_ids:
            msg = (
                f"input {k} ({v!r}) is not used to compute the outputs; remove it, or pass "
                "on_unused_input='warn' or 'ignore' (or set config.on_unused_input)"
            )
            if on_unused_input == "raise":
                raise ValueError(msg)
            if on_unused_input == "warn":
                warnings.warn(msg, stacklevel=3)  # the caller of fc.function
    shared: list[SharedVariable] = []
    for v in reversed(used):
        if isinstance(v, SharedVariable) and not any(v is s for s in shared):
            shared.append(v)
    for sv in [sv for sv, _ in upd] + [sv for _, sv in states]:  # a state unused is still kept
        if not any(sv is s for s in shared):
            shared.append(sv)
    updated = [next(i for i, s in enumerate(shared) if s is sv) for sv, _ in upd]
    m = get_mode(mode)

    def label(k: int) -> str:
        return f"output {k}" if k < len(outs) else f"the update of {upd[k - len(outs)][0]!r}"

    original = FunctionGraph(ins + shared, all_outs, clone=True, label=label)
    where = {id(sv): next(i for i, s in enumerate(shared) if s is sv) for _, sv in states}
    input_names, input_defaults = _input_specs(
        kept, ins, fname, allow_input_downcast, {id(g): where[id(sv)] for g, sv in states}
    )
    state_names = [(g.name, where[id(sv)]) for g, sv in states]
    advanced = _advanced_states(kept, used)
    optimized, key, kernel_source, early = optimize_or_load(original, m, shared)

    def link() -> Function:
        f = assemble(
            inputs=ins,
            outputs=outs,
            single=single,
            shared=shared,
            updated=updated,
            mode=m,
            name=fname,
            allow_input_downcast=allow_input_downcast,
            original=original,
            optimized=optimized,
            cache_key=key,
            trust_input=trust_input,
            kernel_source_sha256=kernel_source,
            early=early,
            input_names=input_names,
            defaults=input_defaults,
            states=state_names,
            advanced=advanced,
            input_flags=[(g.strict, g.allow_downcast) if isinstance(g, In) else (False, None) for g in kept],
            output_keys=output_keys,
        )
        # an implicit input is in no graph any more: f[variable] still names it
        f._state_variables.update({k: g.variable for k, (g, _) in enumerate(states) if g.implicit})
        return f if stats is None else profiled(f, stats, time.perf_counter() - started)

    return StartedFunction(link, early)


def function_dump(
    filename: str | os.PathLike, inputs: Sequence[Any], outputs: Any = None, **kwargs: Any
) -> None:
    """PyTensor's ``function_dump``: ``fc.function``'s arguments pickled to ``filename``, for
    a report that builds the function again elsewhere with ``fc.function(**pickle.load(f))``."""
    with open(filename, "wb") as fh:
        pickle.dump(dict(inputs=inputs, outputs=outputs, **kwargs), fh, protocol=pickle.HIGHEST_PROTOCOL)


def _states_of(
    inputs: Sequence[Any], fname: str, allow_downcast: bool | None
) -> list[tuple[In, SharedVariable]]:
    """A shared variable of the function's own for each input whose value it keeps (``fc.In``
    with an update, or implicit), holding the input's ``value`` as its type; for an input given
    another function's container, that container's cell."""
    states = []
    for k, g in enumerate(inputs):
        if isinstance(g, In) and isinstance(g.value, Container):
            cell, v = g.value.cell, g.variable
            if cell.type.dtype != v.type.dtype or cell.type.ndim != v.type.ndim:
                raise TypeError(
                    f"In: input {k} ({v!r}, {v.type}) is given the container of a {cell.type}; a "
                    "container is shared by inputs of one dtype and number of dimensions"
                )
            states.append((g, cell))
        elif isinstance(g, In) and g.is_state:
            v = g.variable
            value = convert_input(fname, k, g.name, v.type, g.value, _downcast(g, allow_downcast), g.strict)
            states.append((g, SharedVariable(np.array(value), g.name, v.type.shape, True)))
    return states


def _downcast(given: In, allow_downcast: bool | None) -> bool | None:
    """How input ``given``'s values may be cast with loss (``convert_value``): its own
    ``allow_downcast``, else the function's."""
    return allow_downcast if given.allow_downcast is None else given.allow_downcast


def _advanced_states(given: Sequence[Any], used: Sequence[Variable]) -> list[tuple[int, int]]:
    """(position, draws) of each random state input given as ``In(rng, mutable=True)`` (and no
    update: a state the function keeps is its own) that the graph draws from: how far a call
    advances it is its longest chain of draws, each from the next state the one before gave."""
    mutable = [(k, g) for k, g in enumerate(given) if isinstance(g, In) and g.mutable and not g.is_state]
    if not mutable:  # the common case: no random module is loaded for it (a warm hit's imports)
        return []
    from ..tensor.random import RandomDraw
    from ..tensor.random.type import RandomGeneratorType

    nexts: dict[int, list[Variable]] = {}  # a state -> the next states of the draws from it
    seen: set[int] = set()
    for v in used:
        node = v.owner
        if node is not None and isinstance(node.op, RandomDraw) and id(node) not in seen:
            seen.add(id(node))
            nexts.setdefault(id(node.inputs[0]), []).append(node.outputs[0])
    out = []
    for k, g in mutable:
        if not isinstance(g.variable.type, RandomGeneratorType):
            continue
        longest, stack = 0, [(g.variable, 0)]
        while stack:  # no recursion: a chain may be thousands of draws long
            state, depth = stack.pop()
            longest = max(longest, depth)
            stack += [(n, depth + 1) for n in nexts.get(id(state), ())]
        if longest:
            out.append((k, longest))
    return out


def _input_specs(
    given: Sequence[Any],
    ins: list[Variable],
    fname: str,
    allow_downcast: bool | None,
    state_of: dict[int, int],
) -> tuple[list[str | None], list[Any] | None]:
    """The inputs' keyword names and default values (``fc.In``), each default converted to its
    input's type now (an input with an update: its state, shared variable ``state_of[id(In)]``);
    None for the defaults when there are none."""
    names = [g.name if isinstance(g, In) else v.name for g, v in zip(given, ins)]
    if not any(isinstance(g, In) for g in given):
        return names, None
    for k, n in enumerate(names):
        # a keyword names one input (plain variables of one name stay allowed, as before In)
        if n is not None and n in names[:k]:
            raise ValueError(
                f"input {k} is named {n!r}, as an earlier input is; give In(..., name=) another name"
            )
    raw = [g.value if isinstance(g, In) else NO_DEFAULT for g in given]
    if all(d is NO_DEFAULT for d in raw):
        return names, None
    defaults = [
        StateDefault(state_of[id(g)])
        if id(g) in state_of
        else d
        if d is NO_DEFAULT
        else np.array(convert_input(fname, k, names[k], v.type, d, _downcast(g, allow_downcast), g.strict))
        for k, (g, d, v) in enumerate(zip(given, raw, ins))
    ]
    for d in defaults:
        if isinstance(d, np.ndarray):
            d.setflags(write=False)  # the same array (a copy) is every call's input: keep it so
    return names, defaults


def assemble(
    *,
    inputs: list[Variable],
    outputs: list[Variable],
    single: bool,
    shared: list[SharedVariable],
    updated: list[int],
    mode: Mode,
    name: str,
    allow_input_downcast: bool | None,
    original: FunctionGraph,
    optimized: FunctionGraph,
    cache_key: str,
    trust_input: bool,
    build: Any = None,
    kernel_source_sha256: str | None = None,
    early: Any = None,
    input_names: Sequence[str | None] | None = None,
    defaults: Sequence[Any] | None = None,
    states: Sequence[tuple[str | None, int]] | None = None,
    advanced: Sequence[tuple[int, int]] | None = None,
    input_flags: Sequence[tuple[bool, bool | None]] | None = None,
    output_keys: Sequence[str] | None = None,
) -> Function:
    """Link an already optimized graph into a Function: the one assembly path, shared by
    :func:`function` and unpickling (which brings its optimized graph along). ``build``
    replaces ``build_runner`` (same signature), e.g. to use a native module shipped in a pickle;
    ``kernel_source_sha256`` is the function entry's record of the C kernel library, ``early``
    the compiler call already started on it (``compile.optimize_or_load``)."""
    from .compile import build_runner

    # The runner calls back into its Function through a weak reference: the native runner is
    # not tracked by Python's cycle collector, so a strong reference back would leak both.
    holder: list[weakref.ref] = []

    def owner() -> Function:
        f = holder[0]()
        if f is None:
            raise RuntimeError(f"function {name!r} was deleted; keep a reference to it")
        return f

    def converter(i: int, value: Any) -> np.ndarray:
        if i >= len(inputs):  # a shared value: always exactly typed
            return np.asarray(value)
        return owner()._convert_one(i, value)

    def on_error(exc: BaseException) -> BaseException:
        return owner()._explain(exc)

    def on_kwargs(*args: Any, **kwargs: Any) -> Any:
        return owner()._call_kwargs(*args, **kwargs)

    runner = (build or build_runner)(
        optimized,
        mode,
        name,
        n_explicit=len(inputs),
        single=single and not shared,
        converter=converter,
        on_error=on_error,
        on_kwargs=on_kwargs,
        source_sha256=kernel_source_sha256,
        early=early,
    )
    f = Function(
        inputs=inputs,
        outputs=outputs,
        single=single,
        shared=shared,
        updated=updated,
        mode=mode,
        name=name,
        allow_input_downcast=allow_input_downcast,
        original=original,
        optimized=optimized,
        cache_key=cache_key,
        runner=runner,
        code_flags=config.code_flags(),
        input_names=input_names,
        defaults=defaults,
        states=states,
        advanced=advanced,
        input_flags=input_flags,
        output_keys=output_keys,
    )
    holder.append(weakref.ref(f))
    if trust_input:
        f.trust_input = True
    return f


# x.eval(), JacobianRows and Scan compile through fc.function; an inner graph's in two steps
set_function_compiler(function, start_function)


def _c_runtime() -> Any:
    from ..codegen.c_linker import runtime

    return runtime()


set_c_runtime(_c_runtime)  # random streams and JacobianRows run the C run-time, in every mode
