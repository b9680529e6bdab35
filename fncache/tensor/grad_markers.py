"""Gradient markers: ops that return their input unchanged and only change what flows back
through them when a gradient is taken (``zero_grad``, ``disconnected_grad``, ``grad_clip``,
``grad_scale``, ``undefined_grad``, and Theano's older ``consider_constant``); and the types of
a gradient that is disconnected or undefined, with PyTensor's helpers that make one for an
op's gradient rule (``grad_undefined``, ``grad_not_implemented``).

The forward value is the input itself, so the ``grad_markers`` rewrite takes every marker out
of a compiled graph: they cost nothing at run time, and the graph fuses and is optimized as if
they were not there. Their gradient rules are in ``grad_rules.py`` with the others.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from .basic import as_tensor_variable

__all__ = [
    "GradMarker",
    "ZeroGrad",
    "DisconnectedGrad",
    "GradClip",
    "GradScale",
    "UndefinedGrad",
    "zero_grad",
    "disconnected_grad",
    "grad_clip",
    "grad_scale",
    "consider_constant",
    "undefined_grad",
    "DisconnectedType",
    "NullType",
    "disconnected_type",
    "null_type",
    "grad_undefined",
    "grad_not_implemented",
    "is_null_gradient",
]


class GradMarker(Op):
    """Base of the markers: ``x`` itself forward (a view of it where the op is run at all, as
    with ``Mode(optimizer=None)``); subclasses say what the gradient does."""

    view_map = {0: [0]}

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0]]


class ZeroGrad(GradMarker):
    """The gradient through it is zero; ``x`` stays connected to the cost (no
    ``disconnected_inputs`` error for a variable reached only through it)."""


class DisconnectedGrad(GradMarker):
    """No gradient flows through it: a variable reached only through it is disconnected from
    the cost (``disconnected_inputs`` applies), as if it were listed in ``consider_constant``."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """PyTensor's: the output is connected to no input, so a graph holding the marker
        (an ``OpFromGraph``'s) reads as disconnected through it too."""
        return [[False]]


class UndefinedGrad(GradMarker):
    """The gradient through it is undefined: ``grad`` raises ``NullTypeGradError`` where one
    would flow through it to a variable differentiated for (PyTensor's). ``x`` stays connected
    to the cost, so no ``disconnected_inputs`` error hides that."""


def _number(value: Any, what: str, fn: str) -> float:
    """``value`` as a Python float (an infinity is allowed, NaN is not), or a TypeError or
    ValueError naming ``fn``'s argument."""
    if isinstance(value, Variable):
        raise TypeError(
            f"{fn}: {what} must be a Python number, got the symbolic {value!r}; "
            "pass a fixed number (the bound is part of the op, like a constant)"
        )
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {what} must be a real number, got {value!r}") from None
    if math.isnan(out):
        raise ValueError(f"{fn}: {what} must be a number, got NaN")
    return out


class GradClip(GradMarker):
    """The gradient through it is clipped elementwise to ``[lower, upper]``."""

    __props__ = ("lower", "upper")

    def __init__(self, lower: float, upper: float) -> None:
        self.lower = _number(lower, "lower_bound", "grad_clip")
        self.upper = _number(upper, "upper_bound", "grad_clip")
        if self.lower > self.upper:
            raise ValueError(
                f"grad_clip: lower_bound ({self.lower}) is above upper_bound ({self.upper}); "
                "pass lower_bound <= upper_bound"
            )


class GradScale(GradMarker):
    """The gradient through it is multiplied by ``multiplier``."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier: float) -> None:
        self.multiplier = _number(multiplier, "multiplier", "grad_scale")
        if math.isinf(self.multiplier):
            raise ValueError(f"grad_scale: multiplier must be finite, got {self.multiplier}")


def _marked(op: GradMarker, x: Any, fn: str) -> Variable:
    try:
        v = as_tensor_variable(x)
    except TypeError as e:
        raise TypeError(f"{fn}: x must be a tensor variable or a numeric value, got {x!r} ({e})") from None
    return op(v)


def zero_grad(x: Any) -> Variable:
    """``x``, whose gradient is zero (the cost still depends on ``x``: no
    ``disconnected_inputs`` error)."""
    return _marked(ZeroGrad(), x, "zero_grad")


def consider_constant(x: Any) -> Variable:
    """Theano's older name of :func:`zero_grad` (the same op)."""
    return _marked(ZeroGrad(), x, "consider_constant")


def disconnected_grad(x: Any) -> Variable:
    """``x``, through which no gradient flows: a variable reached only through it is
    disconnected from the cost (``grad``'s ``disconnected_inputs`` decides what happens)."""
    return _marked(DisconnectedGrad(), x, "disconnected_grad")


def undefined_grad(x: Any) -> Variable:
    """``x``, whose gradient is undefined: ``grad`` of a cost reading it raises
    ``NullTypeGradError`` for each variable differentiated for that ``x`` depends on
    (PyTensor's), even where the cost also reads that variable another way."""
    return _marked(UndefinedGrad(), x, "undefined_grad")


def grad_clip(x: Any, lower_bound: float, upper_bound: float) -> Variable:
    """``x``, whose incoming gradient is clipped elementwise to ``[lower_bound, upper_bound]``
    before it flows on to ``x``'s inputs (Theano's and PyTensor's argument names)."""
    return _marked(GradClip(lower_bound, upper_bound), x, "grad_clip")


def grad_scale(x: Any, multiplier: float) -> Variable:
    """``x``, whose incoming gradient is multiplied by ``multiplier`` (-1 reverses it)."""
    return _marked(GradScale(multiplier), x, "grad_scale")


class DisconnectedType:
    """PyTensor's type of a disconnected gradient, for ops written against it. fncache gives
    an op's ``L_op``/``grad`` zeros for an output the cost does not read (so no output gradient
    it receives has this type, and a branch testing for one is never taken); a
    ``DisconnectedType()()`` the op returns for an input means that input gets no gradient
    through the op (a zero one: the input stays connected, being the op's input). ``grad``,
    ``Lop`` and ``Rop`` return one for a disconnected variable under
    ``return_disconnected="disconnected"``."""

    #: why a variable of this type has no value (`as_tensor_variable` refuses one with it)
    no_value = (
        "a disconnected gradient (DisconnectedType, what grad's return_disconnected='disconnected' "
        "gives a variable the cost does not depend on): a placeholder with no value; pass "
        "return_disconnected='zero' for zeros"
    )

    def __call__(self, name: str | None = None) -> Variable:
        return Variable(self, name=name)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DisconnectedType)

    def __hash__(self) -> int:
        return hash(DisconnectedType)

    def __repr__(self) -> str:
        return "DisconnectedType()"

    def __str__(self) -> str:
        return "DisconnectedType"


class NullType:
    """PyTensor's type of an undefined gradient (``NullType(why_null)()``), for ops and
    gradient overrides written against it: an input given one has no gradient, and ``grad``
    raises ``NullTypeGradError`` (with ``why_null``) when a gradient would flow through it, or
    returns one under ``null_gradients="return"``.

    As PyTensor's, all NullTypes are equal whatever their reasons (``why_null`` is what the
    error says, not what the type is). A graph's key reads a type's canonical form, which holds
    ``why_null``, not its equality; no compiled graph holds one anyway (it has no value)."""

    def __init__(self, why_null: str = "(no explanation given)") -> None:
        self.why_null = str(why_null)
        #: the position of the input whose op and place ``why_null`` names itself (set by
        #: `grad_undefined` and `grad_not_implemented`), so that an error quoting it need not
        #: name them again; not part of the type (its equality)
        self.names_input: int | None = None

    @property
    def no_value(self) -> str:
        """Why a variable of this type has no value (`as_tensor_variable` refuses one with it)."""
        return (
            f"an undefined gradient (NullType: {self.why_null}): a placeholder with no value, "
            "which no expression or function can use"
        )

    def __call__(self, name: str | None = None) -> Variable:
        return Variable(self, name=name)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"NullType({self.why_null!r})"

    def __str__(self) -> str:
        return "NullType"


def is_null_gradient(g: Any) -> bool:
    """Whether ``g`` is an undefined gradient (a variable of `NullType`)."""
    return isinstance(getattr(g, "type", None), NullType)


#: PyTensor 3's instances of the two types: ``null_type()`` is an undefined gradient (with no
#: reason given), ``disconnected_type()`` a disconnected one.
null_type = NullType()
disconnected_type = DisconnectedType()


def _null_gradient(op: Any, x_pos: int, x: Any, comment: str, what: str) -> Variable:
    # PyTensor's wording, so a reason read from ``why_null`` (or matched in an error message)
    # reads the same; its trailing space where no comment is given is left out.
    t = NullType(
        f"This variable is Null because the grad method for input {x_pos} ({x}) of the {op} op "
        f"is {what}. {comment}".rstrip()
    )
    t.names_input = x_pos
    return t()


def grad_undefined(op: Any, x_pos: int, x: Any, comment: str = "") -> Variable:
    """For an op's gradient rule (``grad``/``L_op``, an ``as_op``'s ``grad``, an
    ``OpFromGraph``'s ``lop_overrides``): the gradient of input ``x_pos`` (``x``) of ``op``,
    which is mathematically undefined (an integer count, an index), with ``comment`` saying
    why. The other inputs' gradients still work; ``grad`` raises ``NullTypeGradError``, naming
    ``op``, ``x_pos`` and the comment, where this one would reach a variable differentiated
    for (PyTensor's)."""
    return _null_gradient(op, x_pos, x, comment, "undefined")


def grad_not_implemented(op: Any, x_pos: int, x: Any, comment: str = "") -> Variable:
    """As :func:`grad_undefined`, for a gradient that exists but is not implemented: the
    ``NullTypeGradError`` says so."""
    return _null_gradient(op, x_pos, x, comment, "not implemented")
