"""Ops that run Python inside compiled functions: ``as_op``, ``CheckAndRaise`` (``Assert``,
``assert_op``) and ``Print``."""

from __future__ import annotations

import functools
import pickle
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ArgumentValueError, BroadcastError
from ..graph.basic import Apply, Op, Variable, check_itypes
from ..graph.types import TensorType
from .basic import as_tensor_variable

__all__ = ["PythonOp", "as_op", "wrap_py", "CheckAndRaise", "Assert", "assert_op", "Print", "BroadcastCheck"]


def _as_types(types: Any, what: str) -> tuple[TensorType, ...]:
    if isinstance(types, TensorType):
        types = [types]
    if not isinstance(types, (list, tuple)):
        raise TypeError(f"as_op: {what} must be a list of types such as [ft.dvector], got {types!r}")
    out = []
    for t in types:
        if isinstance(t, Variable):
            t = t.type
        if not isinstance(t, TensorType):
            raise TypeError(
                f"as_op: {what} must be types such as ft.dvector or "
                f"fc.TensorType('float64', (None,)), got {t!r}"
            )
        out.append(t)
    return tuple(out)


def _fits_values(a: np.ndarray, cast: np.ndarray) -> bool:
    """Whether narrowing ``a`` to ``cast``'s dtype kept its values: integers exactly (no
    wrapping), floats without new infinities (rounding is what a narrower float means)."""
    if cast.dtype.kind in "biu":
        return bool(np.array_equal(a, cast))
    return bool(np.array_equal(np.isinf(a), np.isinf(cast)))


class PythonOp(Op):
    """Calls ``fn`` (numpy in, numpy out). Lambdas and closures pickle through cloudpickle.

    ``grad_fn(inputs, output_grads)``, if given, returns one symbolic gradient (or None for
    zero) per input; ``complex_values`` says how it treats complex values (as
    ``register_grad``'s; None: no gradient through them). Both are used only while building
    gradient graphs, so they are not props: they change neither what the op computes nor its
    cache key.
    """

    __props__ = ("fn", "itypes", "otypes")
    may_return_input = True
    #: the user's function may do more than return values: never merged or run at compile time
    side_effects = True

    def __init__(
        self,
        fn: Callable[..., Any],
        itypes: Sequence[TensorType],
        otypes: Sequence[TensorType],
        grad_fn: Callable[[list, list], Sequence[Any]] | None = None,
        complex_values: str | None = None,
    ) -> None:
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.grad_fn = grad_fn
        self.complex_values = complex_values

    @property
    def grad_hint(self) -> str:
        """What to do when a gradient would flow through its complex values."""
        how = (
            "complex_values='holomorphic' if fn returns g * f'(x) for a complex-differentiable "
            "f, 'rule' if it returns dC/dRe + i dC/dIm itself (g * conj(f'(x)) for such an f), "
            "'linear' if the op is linear with real weights"
        )
        if self.grad_fn is None:
            return f"give it a gradient, ft.as_op(itypes, otypes, grad=fn, complex_values=...), with {how}"
        return f"declare how its grad function treats complex values: ft.as_op(..., grad=fn, {how})"

    def __reduce__(self) -> tuple:
        # By value, as a function's pickle carries the op: a decorated module-level function's
        # name now names the op, so pickle's lookup by name cannot find the function itself.
        import cloudpickle

        return (
            _load_python_op,
            (
                cloudpickle.dumps(self.fn),
                self.itypes,
                self.otypes,
                cloudpickle.dumps(self.grad_fn),
                self.complex_values,
            ),
        )

    def __str__(self) -> str:
        return f"PythonOp{{{getattr(self.fn, '__name__', 'fn')}}}"

    def make_node(self, *inputs: Any) -> Apply:
        vs = [as_tensor_variable(i) for i in inputs]
        check_itypes(self, vs, self.itypes)
        return Apply(self, vs, self.otypes)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for k, (a, t) in enumerate(zip(inputs, self.itypes)):
            if not t.fits_shape(a.shape):
                # The function may rely on the sizes itypes declares; a graph input of unknown
                # size carries no such promise, so it is checked here.
                raise ValueError(
                    f"{self}: input {k} has shape {a.shape}, itypes declares {t}; give it that "
                    "shape or declare None for sizes that vary"
                )
        # Other nodes (and the caller) read the same arrays: the function gets read-only views,
        # so modifying one in place raises instead of changing what the rest of the graph sees.
        views = [a.view() for a in inputs]
        for v in views:
            v.flags.writeable = False
        try:
            res = self.fn(*views)
        except ValueError as e:
            if "read-only" in str(e):
                e.add_note(
                    f"{self}: the function's inputs are read-only (the rest of the graph reads "
                    "them too); copy one before modifying it (v = v.copy())"
                )
            raise
        if len(self.otypes) == 1:
            res = [res]
        elif not isinstance(res, (list, tuple)):
            raise TypeError(
                f"{self}: otypes declares {len(self.otypes)} outputs, the function returned a "
                f"{type(res).__name__}; return a tuple or list of {len(self.otypes)} arrays"
            )
        if len(res) != len(self.otypes):
            raise ValueError(
                f"{self}: the function returned {len(res)} outputs, otypes declares {len(self.otypes)}"
            )
        outs = []
        for k, (r, t) in enumerate(zip(res, self.otypes)):
            a = np.asarray(r)
            if a.ndim != t.ndim:
                raise TypeError(f"{self}: output {k} has ndim {a.ndim}, otypes declares {t}")
            if not t.fits_shape(a.shape):
                # Static sizes (a 1 marks a broadcastable dim) are relied on downstream.
                raise ValueError(
                    f"{self}: output {k} has shape {a.shape}, otypes declares {t}; "
                    "return that shape or declare None for sizes that vary"
                )
            if a.dtype.name != t.dtype:
                if not np.can_cast(a.dtype, t.dtype, "same_kind"):
                    raise TypeError(f"{self}: output {k} has dtype {a.dtype}, otypes declares {t.dtype}")
                with np.errstate(over="ignore", invalid="ignore"):
                    cast = a.astype(t.dtype)
                if not np.can_cast(a.dtype, t.dtype, "safe") and not _fits_values(a, cast):
                    raise ValueError(
                        f"{self}: output {k} has {a.dtype} values that {t.dtype} (declared in "
                        f"otypes) cannot hold; return {t.dtype} values or declare {a.dtype}"
                    )
                a = cast
            outs.append(a)
        return outs


def _wrap(
    fn: Callable[..., Any],
    it: tuple,
    ot: tuple,
    grad: Callable[[list, list], Sequence[Any]] | None,
    complex_values: str | None = None,
) -> PythonOp:
    op = PythonOp(fn, it, ot, grad, complex_values)
    functools.update_wrapper(op, fn, updated=())  # type: ignore[arg-type]
    return op


def _load_python_op(
    fn: bytes, itypes: tuple, otypes: tuple, grad: bytes, complex_values: str | None = None
) -> PythonOp:
    return _wrap(pickle.loads(fn), itypes, otypes, pickle.loads(grad), complex_values)


def as_op(
    itypes: Any,
    otypes: Any,
    infer_shape: Callable[..., Any] | None = None,
    grad: Callable[[list, list], Sequence[Any]] | None = None,
    complex_values: str | None = None,
) -> Callable[[Callable[..., Any]], PythonOp]:
    """Decorator: a Python function (numpy in, numpy out) becomes an op usable in graphs.

    ``infer_shape(fgraph, node, input_shapes)`` (Theano's and PyTensor's third parameter) is
    accepted: fncache learns the outputs' shapes by running the function.

    ``grad(inputs, output_grads)`` makes it differentiable: given the op's symbolic inputs and
    the gradients of its outputs, it returns one symbolic gradient per input (build it from
    ft.* operations or another as_op), as Theano's ``Op.grad``. A gradient through complex
    inputs or outputs needs ``complex_values``, as ``register_grad``'s: ``"holomorphic"``
    (``grad`` returns ``g * f'(x)``), ``"rule"`` (it returns ``dC/dRe + i dC/dIm`` itself) or
    ``"linear"`` (linear with real weights); None refuses them.
    """
    from .gradient import COMPLEX_VALUES

    it, ot = _as_types(itypes, "itypes"), _as_types(otypes, "otypes")
    if infer_shape is not None and not callable(infer_shape):
        raise TypeError(
            f"as_op: infer_shape must be None or a function (fgraph, node, input_shapes) -> "
            f"output_shapes, got {infer_shape!r}"
        )
    if grad is not None and not callable(grad):
        raise TypeError(f"as_op: grad must be a function (inputs, output_grads) -> gradients, got {grad!r}")
    if complex_values is not None and complex_values not in COMPLEX_VALUES:
        raise ValueError(
            f"as_op: complex_values must be None or one of {COMPLEX_VALUES}, got {complex_values!r}"
        )
    if complex_values is not None and grad is None:
        raise ValueError(
            f"as_op: complex_values={complex_values!r} says how grad treats complex values, but "
            "no grad is given; pass grad=fn as well"
        )

    def wrap(fn: Callable[..., Any]) -> PythonOp:
        if not callable(fn):
            raise TypeError(
                f"as_op: the decorated object must be callable (numpy arrays in, numpy arrays "
                f"out), got {fn!r}"
            )
        return _wrap(fn, it, ot, grad, complex_values)

    return wrap


def wrap_py(
    itypes: Any, otypes: Any, infer_shape: Callable[..., Any] | None = None
) -> Callable[[Callable[..., Any]], PythonOp]:
    """PyTensor 3's name for :func:`as_op`: ``@wrap_py(itypes, otypes)`` makes a Python
    function (numpy in, numpy out) an op. ``infer_shape(fgraph, node, input_shapes)`` is
    accepted: fncache learns the outputs' shapes by running the function."""
    return as_op(itypes, otypes, infer_shape)


class CheckAndRaise(Op):
    """PyTensor's ``CheckAndRaise(exc_type, msg)``: ``op(x, *conds)`` returns ``x``, and raises
    ``exc_type(msg)`` at run time where a condition (an array of any shape: all its values)
    is false. :class:`Assert` is the one that raises ``AssertionError``.

    An ``optional`` check compares a value the caller gave with one the graph computes (a
    gradient given for ``y`` against ``y``'s shape); where the function is not given what the
    condition reads, it is left out, as Theano and PyTensor never make it (a vector-Jacobian
    product ``Lop(dot(x, W), W, v)`` needs ``x`` and ``v`` only, not ``W``)."""

    __props__ = ("exc_type", "msg", "optional")
    view_map = {0: [0]}

    def __init__(self, exc_type: type[Exception], msg: str = "", optional: bool = False) -> None:
        if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
            raise ValueError(
                f"CheckAndRaise: exc_type must be an Exception subclass (e.g. ValueError), got {exc_type!r}"
            )
        self.exc_type = exc_type
        self._check(msg, optional)

    def _check(self, msg: str, optional: bool) -> None:
        if not isinstance(msg, str):
            raise TypeError(f"{type(self).__name__}: msg must be a str, got {type(msg).__name__} {msg!r}")
        self.msg = msg
        self.optional = bool(optional)

    def __str__(self) -> str:
        # Assert and fncache's own checks raise what their class says
        raises = f"raises={self.exc_type.__name__}, " if "exc_type" in self.__props__ else ""
        return f"{type(self).__name__}{{{raises}msg={self.msg!r}}}"

    def make_node(self, x: Any, *conds: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x, *(as_tensor_variable(c) for c in conds)], [x.type])

    def n_conds(self, node: Apply) -> int:
        """How many inputs after ``x`` are conditions (all of them here)."""
        return len(node.inputs) - 1

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for c in inputs[1 : 1 + self.n_conds(node)]:
            # the array's own method: np.all's dispatch costs several times more per call
            if not c.all():
                raise self.error(inputs)
        return [inputs[0]]

    def error(self, inputs: list[np.ndarray]) -> Exception:
        """The error a failed check raises, given the values the check was given."""
        return self.exc_type(self.message(inputs))

    def message(self, inputs: list[np.ndarray]) -> str:
        """The error's text, for the values the check was given."""
        return self.msg


class CheckAndReport(CheckAndRaise):
    """``CheckAndReport(exc_type, msg)(x, cond, *values)``: ``x``, or ``exc_type`` where ``cond``
    is false, its message ``msg.format(*values)`` (the values as Python numbers and lists, a
    long array by its ends), so the error says what the function was given. The values are read
    only on failure."""

    def make_node(self, x: Any, *conds: Any) -> Apply:
        # a message that cannot take its values would fail in place of the check's own error,
        # and only once a value is bad; one that leaves a value out reads it for nothing
        n = len(conds) - 1
        if self.formats(n):
            used: set[int] = set()
            try:
                self.msg.format(*(_Place(k, used) for k in range(n)))
            except (IndexError, KeyError, ValueError, AttributeError, TypeError) as e:
                problem = f"does not format its {n} value(s) ({type(e).__name__}: {e})"
            else:
                unused = sorted(set(range(n)) - used)
                problem = f"does not show value(s) {unused} of its {n}" if unused else ""
            if problem:
                raise ValueError(
                    f"check_value: the message {self.msg!r} {problem}; number the places {{0}}, "
                    "{1}, ... of the values, and double a brace meant as text ({{ and }}) or "
                    "pass it through literal()"
                )
        return super().make_node(x, *conds)

    def n_conds(self, node: Apply) -> int:
        return 1

    def formats(self, n_values: int) -> bool:
        """Whether the message is ``msg.format(*values)`` for ``n_values`` values (else ``msg``)."""
        return True

    def message(self, inputs: list[np.ndarray]) -> str:
        values = inputs[2:]
        return self.msg.format(*map(_shown_value, values)) if self.formats(len(values)) else self.msg


class _Place:
    """The place of value ``k`` in a check's message, recording in ``used`` that it is shown."""

    def __init__(self, k: int, used: set[int]) -> None:
        self.k, self.used = k, used

    def __format__(self, spec: str) -> str:
        self.used.add(self.k)
        return ""

    def __repr__(self) -> str:  # {0!r}, and {0!s} through it
        return self.__format__("")

    def __getitem__(self, key: Any) -> _Place:  # {0[1]}: a list value's item
        return self


#: Arrays of more elements than this are shown by their first and last few in an error.
_SHOWN_ELEMENTS = 16


def _shown_value(v: Any) -> Any:
    """``v`` as an error message shows it: a Python number or list, or a long array's ends
    (flattened, with its shape, where its ends along each dim would still be many: numpy
    prints up to 6 of each dim, 6**ndim values)."""
    a = np.asarray(v)
    if a.size <= _SHOWN_ELEMENTS:
        return a.tolist()
    edges = 3
    if np.prod([min(n, 2 * edges) for n in a.shape]) > 4 * _SHOWN_ELEMENTS:
        a, shape = a.reshape(-1), f" (shape {a.shape})"
    else:
        shape = ""
    return np.array2string(a, threshold=_SHOWN_ELEMENTS, edgeitems=edges, separator=", ") + shape


class Assert(CheckAndRaise):
    """Returns ``x``; raises ``AssertionError(msg)`` at run time when a condition is false
    (``Assert(msg)(x, *conds)``, as Theano's and PyTensor's)."""

    __props__ = ("msg", "optional")
    exc_type = AssertionError

    def __init__(self, msg: str = "assertion failed", optional: bool = False) -> None:
        self._check(msg, optional)


def assert_op(x: Any, cond: Any, msg: str = "assertion failed", optional: bool = False) -> Variable:
    return Assert(str(msg), optional)(x, cond)


class ArgumentCheck(CheckAndReport):
    """fncache's own check of a value one of its functions is given when the function runs
    (:func:`check_value`): :class:`~fncache.errors.ArgumentValueError`, its message ``msg``
    formatted with the values after the condition where there are any. ``removable``: whether
    the unsafe assert removal (``local_remove_all_assert``) drops it."""

    __props__ = ("msg", "optional", "removable")
    exc_type = ArgumentValueError

    def __init__(self, msg: str, optional: bool = False, removable: bool = True) -> None:
        self._check(msg, optional)
        self.removable = bool(removable)

    def formats(self, n_values: int) -> bool:
        return n_values > 0


class BroadcastCheck(CheckAndReport):
    """``BroadcastCheck(op_name, axis)(x, ok, *sizes)``: ``x``, or where ``ok`` is false the
    :class:`~fncache.errors.BroadcastError` that computing the elementwise op ``op_name`` raises
    when its operands' ``sizes`` along its ``axis`` do not broadcast. The check a size read from
    a value's inputs, not from the value (``rewrite/sizes.py``), makes in its place: the same
    error as the graph that computes the value, in every mode (its ``shapes`` are the sizes, and
    the run-time names the user's inputs they are read from). Never removed: computing the value
    would raise it."""

    __props__ = ("op_name", "axis")
    exc_type = BroadcastError
    optional = False

    def __init__(self, op_name: str, axis: int) -> None:
        self.op_name = str(op_name)
        self.axis = int(axis)

    @property
    def msg(self) -> str:  # type: ignore[override]
        return f"{self.op_name}: sizes along axis {self.axis} that broadcast"

    def formats(self, n_values: int) -> bool:
        return False

    def error(self, inputs: list[np.ndarray]) -> Exception:
        sizes = [int(n) for n in inputs[2:]]
        return BroadcastError(
            f"{self.op_name}: sizes {sizes} cannot be broadcast together (numpy broadcasting rules)",
            self.op_name,
            [(n,) for n in sizes],
            fix=f"give inputs of equal sizes along axis {self.axis} of its result, or of size 1",
        )


def literal(text: str) -> str:
    """``text`` as a part of a :func:`check_value` message with values: its braces read as
    written, not as the places of the values (a variable's name such as ``PythonOp{f}.0``)."""
    return text.replace("{", "{{").replace("}", "}}")


def check_value(
    x: Any, cond: Any, msg: str, *values: Any, optional: bool = False, removable: bool = True
) -> Variable:
    """``x``, checked when the function runs: :class:`~fncache.errors.ArgumentValueError` (a
    ValueError) where ``cond`` is false, with ``msg`` naming the function, the values given and
    the fix; with ``values`` (symbolic, read only on failure) ``msg.format(*values)`` says what
    they were. fncache's own checks of the values its functions are given; ``assert_op`` is
    the user's ``Assert``.

    ``local_remove_all_assert`` drops a ``removable`` check. None may guard memory: each step
    of the run-time re-checks the sizes and indices it reads memory at (broadcasting, indexing,
    ``alloc``, ``reshape``, a scan's rows), so without the check a bad value meets that step's
    own error or gives a result of the values as given. ``removable=False`` keeps a check that
    is a declaration rather than an assertion (``specify_shape``'s, as PyTensor's removal keeps
    its ``SpecifyShape``)."""
    return ArgumentCheck(str(msg), optional, removable)(x, cond, *values)


class Print(Op):
    """Theano's debugging op: ``Print("x")(x)`` is ``x``, and each time the function computes
    it, prints ``x __str__ = <value>`` (one line per attribute of ``attrs``: ``("shape",)``
    prints the shape) to standard output, as Theano's and PyTensor's ``Print`` do. Its gradient
    is the output's, unprinted. It is never merged with another or run at compile time."""

    __props__ = ("message", "attrs")
    view_map = {0: [0]}
    side_effects = True

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",)) -> None:
        if isinstance(attrs, str) or not all(isinstance(a, str) for a in attrs):
            raise TypeError(
                f"Print: attrs must be a tuple of attribute names such as ('shape',), got {attrs!r}"
            )
        self.message = str(message)
        self.attrs = tuple(attrs)

    def __str__(self) -> str:
        return f"Print{{{self.message!r}}}"

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        for attr in self.attrs:
            value = getattr(x, attr)
            print(self.message, attr, "=", value() if callable(value) else value)
        return [x]
