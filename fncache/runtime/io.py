"""``fc.In`` and ``fc.Out``: PyTensor's wrappers of a function's inputs and outputs, for an
input's default value, keyword name, update (internal state) and flags, and an output's
``borrow`` flag."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..tensor.shared import SharedVariable

__all__ = ["In", "Param", "Out", "Container", "NO_DEFAULT", "StateDefault", "as_in"]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"  # the one instance, also after pickling


NO_DEFAULT: Any = _NoDefault()


class StateDefault:
    """The default value of an input with an update (``In(..., update=)``): the value its
    state, shared variable ``index`` of the function, holds at the time of the call."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StateDefault) and other.index == self.index

    def __hash__(self) -> int:
        return hash(("StateDefault", self.index))

    def __repr__(self) -> str:
        return f"StateDefault({self.index})"


class Container:
    """PyTensor's ``f.container[x]``: the cell holding the value of an input a function keeps
    (``fc.In`` with an update, implicit, or itself given a container). Given as another
    input's value, ``fc.In(y, value=f.container[x], ...)``, it makes both functions read and
    update the one value. ``value`` (also ``data``) reads it (a copy) and sets it (converted to
    its type)."""

    __slots__ = ("cell",)

    def __init__(self, cell: SharedVariable) -> None:
        self.cell = cell

    @property
    def value(self) -> np.ndarray:
        return self.cell.get_value()

    @value.setter
    def value(self, new: Any) -> None:
        self.cell.set_value(self.cell.type.convert(new, None, f"the container {self.cell.name!r}"))

    data = value

    @property
    def name(self) -> str | None:
        """The name of the input or shared variable whose value it holds (PyTensor's)."""
        return self.cell.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Container) and other.cell is self.cell

    def __hash__(self) -> int:
        return id(self.cell)

    def __repr__(self) -> str:
        return f"Container({self.cell.name!r}, {self.cell.get_value()!r})"


#: the keywords `In` takes, for the error naming one it does not
_IN_KEYWORDS = ("name", "value", "update", "mutable", "borrow", "implicit", "strict", "allow_downcast")


class In:
    """An input of ``fc.function``, as Theano/PyTensor's ``In``:

    * ``name``: the keyword a call gives it by (default: the variable's name);
    * ``value``: its value when a call leaves it out (an input without one after an input
      with one is then given by keyword), converted to the input's type when the function is
      built; or another function's ``f.container[x]``: the input is then a state of this
      function too, reading (and with an update, updating) that function's value;
    * ``update``: an expression (of the function's inputs, this one included) whose value
      replaces the input's after each call: the input is then the function's internal state,
      starting at ``value`` (required); a call that gives it a value sets the state first, as
      in Theano; read or set it with ``f[name]`` / ``f[variable]``;
    * ``implicit``: True makes it no argument at all (a call cannot give it): its value (required)
      is the function's own, read and set with ``f[name]``; default False;
    * ``mutable``: permission for the function to overwrite the caller's array; fncache never
      writes into an input, so it changes nothing, but for a random state input: each call then
      advances the state (or numpy ``Generator``) the caller gives in place, past its draws;
    * ``borrow``: permission to return the caller's array (or a view of it) as an output;
      fncache returns arrays the caller owns, which every ``borrow`` allows, so it changes nothing;
    * ``strict``: True takes only an ndarray of the input's own dtype (anything else is a
      ``TypeError``), as PyTensor's; default False;
    * ``allow_downcast``: this input's ``allow_input_downcast`` (True: a value is cast to the
      input's dtype even if that loses data; False: never, not even a Python float rounded into
      float32; None, the default: as the function's).
    """

    def __init__(
        self,
        variable: Variable,
        name: str | None = None,
        value: Any = NO_DEFAULT,
        update: Any = None,
        mutable: bool | None = None,
        borrow: bool | None = None,
        implicit: bool | None = None,
        strict: bool = False,
        allow_downcast: bool | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            bad = next(iter(unknown))
            raise TypeError(f"In: unknown keyword {bad!r}; In takes {', '.join(_IN_KEYWORDS)}")
        if not isinstance(variable, Variable):
            raise TypeError(
                f"In: the variable must be a symbolic variable (e.g. ft.vector('x')), got "
                f"{type(variable).__name__} {variable!r}"
            )
        if isinstance(variable, SharedVariable):
            raise TypeError(
                f"In: {variable!r} is a shared variable: a function reads shared variables without "
                "listing them as inputs; give its update in fc.function's updates= instead"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In: name must be a str, got {type(name).__name__} {name!r}")
        flags = (
            ("mutable", mutable),
            ("borrow", borrow),
            ("implicit", implicit),
            ("strict", strict),
            ("allow_downcast", allow_downcast),
        )
        for flag, given in flags:
            if given is not None and not isinstance(given, (bool, np.bool_)):
                raise TypeError(f"In: {flag} must be True or False, got {type(given).__name__} {given!r}")
        self.variable = variable
        self.name = variable.name if name is None else name
        self.value = value
        self.update = None if update is None else _update_of(variable, update, self.name)
        self.mutable = bool(mutable)
        self.borrow = bool(borrow)
        self.implicit = bool(implicit)
        self.strict = bool(strict)
        self.allow_downcast = None if allow_downcast is None else bool(allow_downcast)
        if value is NO_DEFAULT and (self.implicit or self.update is not None):
            what, how = (
                ("implicit input", "implicit=True")
                if self.implicit
                else ("input with an update", "update=...")
            )
            raise ValueError(
                f"In: the {what} {self.name!r} needs a value to start from: In(var, value=..., {how})"
            )

    @property
    def is_state(self) -> bool:
        """Whether the function keeps this input's value itself (an update, or implicit)."""
        return self.update is not None or self.implicit or isinstance(self.value, Container)

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k in ("update", "mutable", "borrow", "implicit", "strict", "allow_downcast")
            if getattr(self, k) not in (None, False)
        )
        return f"In({self.variable!r}, name={self.name!r}, value={self.value!r}{extra})"


class Param(In):
    """Theano's older name for an input with a default (``theano.Param``, deprecated there for
    ``In``): ``Param(variable, default=None, name=None, mutable=False, strict=False,
    allow_downcast=None, implicit=None, borrow=None)`` is ``In(variable, name=name,
    value=default, ...)``, where ``default=None`` is no default, as in Theano."""

    def __init__(
        self,
        variable: Variable,
        default: Any = None,
        name: str | None = None,
        mutable: bool | None = None,
        strict: bool = False,
        allow_downcast: bool | None = None,
        implicit: bool | None = None,
        borrow: bool | None = None,
    ) -> None:
        super().__init__(
            variable,
            name=name,
            value=NO_DEFAULT if default is None else default,
            mutable=mutable,
            borrow=borrow,
            implicit=implicit,
            strict=strict,
            allow_downcast=allow_downcast,
        )


def _update_of(variable: Variable, update: Any, name: str | None) -> Variable:
    """``update`` as an expression of ``variable``'s dtype and number of dimensions."""
    from ..tensor.basic import as_tensor_variable

    try:
        expr = as_tensor_variable(update)
    except Exception as e:
        raise TypeError(f"In: the update of {name!r} is not an expression: {e}") from None
    if expr.dtype != variable.dtype or expr.ndim != variable.ndim:
        raise TypeError(
            f"In: the update of {name!r} has type {expr.type!r}, the input {variable.type!r}; an "
            f"update needs the input's dtype and number of dimensions (ft.cast(expr, '{variable.dtype}'))"
        )
    return expr


def as_in(item: Any, k: int) -> Any:
    """Input ``k`` of ``fc.function`` with Theano's and PyTensor's tuple shortcuts made an
    ``In``: ``(var, value)``, ``((var, update), value)``, and either with a name first
    (``(name, var)``, ``(name, var, value)``, ``(name, (var, update), value)``). Anything else
    is returned as it is."""
    if not isinstance(item, tuple):
        return item
    forms = "(var, value), ((var, update), value), or either with a name first"
    rest, name = (item[1:], item[0]) if item and isinstance(item[0], str) else (item, None)
    if rest and isinstance(rest[0], (tuple, list)) and len(rest) == 2 and len(rest[0]) == 2:
        (variable, update), value = rest
    elif rest and isinstance(rest[0], Variable) and len(rest) in (1, 2):
        variable, update, value = rest[0], None, rest[1] if len(rest) == 2 else NO_DEFAULT
    else:
        raise TypeError(f"input {k} is the tuple {item!r}; an input tuple is one of {forms}")
    return In(variable, name=name, value=value, update=update)


class Out:
    """An output of ``fc.function``. ``borrow=True`` lets the function return a buffer it may
    reuse; fncache always returns arrays the caller owns, which every ``borrow`` allows."""

    def __init__(self, variable: Any, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = bool(borrow)

    def __repr__(self) -> str:
        return f"Out({self.variable!r}, borrow={self.borrow})"
