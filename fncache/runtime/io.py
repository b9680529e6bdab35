"""``fc.In`` and ``fc.Out``: PyTensor's wrappers of a function's inputs and outputs, for an
input's default value and keyword name, and an output's ``borrow`` flag."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Variable

__all__ = ["In", "Out", "NO_DEFAULT"]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"  # the one instance, also after pickling


NO_DEFAULT: Any = _NoDefault()


class In:
    """An input of ``fc.function``: ``variable``, called ``name`` by keyword (default: the
    variable's name), taking ``value`` when a call leaves it out (the inputs after one with a
    default need one too, as Python's arguments). The default is converted to the input's type
    when the function is built, so a value that does not fit raises then."""

    def __init__(self, variable: Variable, name: str | None = None, value: Any = NO_DEFAULT) -> None:
        if not isinstance(variable, Variable):
            raise TypeError(
                f"In: the variable must be a symbolic variable (e.g. ft.vector('x')), got "
                f"{type(variable).__name__} {variable!r}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In: name must be a str, got {type(name).__name__} {name!r}")
        self.variable = variable
        self.name = variable.name if name is None else name
        self.value = value

    def __repr__(self) -> str:
        return f"In({self.variable!r}, name={self.name!r}, value={self.value!r})"


class Out:
    """An output of ``fc.function``. ``borrow=True`` lets the function return a buffer it may
    reuse; fncache always returns arrays the caller owns, which every ``borrow`` allows."""

    def __init__(self, variable: Any, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = bool(borrow)

    def __repr__(self) -> str:
        return f"Out({self.variable!r}, borrow={self.borrow})"
