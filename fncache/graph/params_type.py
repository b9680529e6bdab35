"""An op's params (Theano's and PyTensor's "Using Op params"): values an op hands its
``perform`` at run time, ``perform(self, node, inputs, output_storage, params)``.

An op declares ``params_type``: a :class:`ParamsType` of named fields, whose values the default
``Op.get_params(node)`` reads from the op's attributes of those names (``params.alpha`` is the
op's ``alpha``, converted to the field's type), or any type with a ``filter`` (:class:`Generic`
for any Python object) with the op's own ``get_params(node)``. The run-time asks each node for
its params once, when it links the function, not at every call.
"""

from __future__ import annotations

import keyword
from typing import Any, ClassVar

import numpy as np

__all__ = ["Params", "ParamsType", "Generic", "generic"]


class Generic:
    """The type of a params value that is any Python object, kept as it is (Theano's
    ``Generic``)."""

    #: One type, one repr: a graph's key reads it (canonical.type_text).
    _repr_is_identity: ClassVar[bool] = True

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return data

    def values_eq(self, a: Any, b: Any) -> bool:
        return _equal(a, b)

    def __eq__(self, other: object) -> bool:
        return type(other) is Generic

    def __hash__(self) -> int:
        return hash(Generic)

    def __repr__(self) -> str:
        return "Generic()"


#: Theano's instance of :class:`Generic`.
generic = Generic()


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    return bool(a == b)


class ParamsType:
    """Named fields, each with its type (``ParamsType(alpha=ft.dscalar, w=ft.dvector)``): what a
    :class:`Params` of this type holds. A field's type is anything with ``filter(value, strict,
    allow_downcast)``: an ``ft.TensorType`` (a 0-d one gives a numpy scalar, as PyTensor's
    ``ScalarType``), :class:`Generic`, or a type of the user's."""

    def __init__(self, **fields: Any) -> None:
        if not fields:
            raise ValueError("ParamsType: give at least one field, e.g. ParamsType(alpha=ft.dscalar)")
        for name, t in fields.items():
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                raise ValueError(
                    f"ParamsType: field {name!r} must be an identifier that is not a keyword and does not "
                    "start with '_'"
                )
            if not callable(getattr(t, "filter", None)):
                raise TypeError(
                    f"ParamsType: field {name!r} has type {t!r}, which has no filter(value, strict, "
                    "allow_downcast); give an ft.TensorType (ft.dscalar, ...) or Generic()"
                )
        self.fields: tuple[str, ...] = tuple(sorted(fields))
        self.types: tuple[Any, ...] = tuple(fields[f] for f in self.fields)

    @property
    def length(self) -> int:
        return len(self.fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is ParamsType and self.fields == other.fields and self.types == other.types

    def __hash__(self) -> int:
        return hash((ParamsType, self.fields, self.types))

    def __repr__(self) -> str:
        return "ParamsType<" + ", ".join(f"{f}:{t!r}" for f, t in zip(self.fields, self.types)) + ">"

    def __reduce__(self) -> tuple:
        return (_params_type, (dict(zip(self.fields, self.types)),))

    def has_type(self, t: Any) -> bool:
        return t in self.types

    def get_type(self, field: str) -> Any:
        return self.types[self._index(field)]

    def get_field(self, t: Any) -> str:
        """The first field (in sorted order) of type ``t``."""
        if t not in self.types:
            raise ValueError(f"{self!r} has no field of type {t!r}")
        return self.fields[self.types.index(t)]

    def extended(self, **fields: Any) -> ParamsType:
        """This type with ``fields`` added (or replaced)."""
        return ParamsType(**{**dict(zip(self.fields, self.types)), **fields})

    def _index(self, field: str) -> int:
        try:
            return self.fields.index(field)
        except ValueError:
            raise KeyError(f"{self!r} has no field {field!r}") from None

    def _convert(self, field: str, t: Any, value: Any, strict: bool, allow_downcast: bool | None) -> Any:
        try:
            v = t.filter(value, strict, allow_downcast)
        except (TypeError, ValueError) as e:
            raise type(e)(f"ParamsType: field {field!r}: {e}") from None
        # a 0-d tensor field reads as a numpy scalar, as PyTensor's ScalarType gives it
        return v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v

    def get_params(self, *objects: Any, **values: Any) -> Params:
        """The params of this type: each field from the last of ``objects`` that has an
        attribute of its name, or from ``values`` (which win), converted to the field's type."""
        found: dict[str, Any] = {}
        for obj in objects:
            for f in self.fields:
                if hasattr(obj, f):
                    found[f] = getattr(obj, f)
        found.update({f: values[f] for f in self.fields if f in values})
        missing = [f for f in self.fields if f not in found]
        if missing:
            where = ", ".join(type(o).__name__ for o in objects) or "the keyword arguments"
            raise AttributeError(
                f"{self!r}.get_params: no value for field(s) {missing} in {where}; set them as attributes "
                "of the op or pass them by name"
            )
        return Params(
            self, **{f: self._convert(f, t, found[f], False, True) for f, t in zip(self.fields, self.types)}
        )

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Params:
        """``data`` (a :class:`Params`, or any object with the fields as attributes) as params
        of this type; ``strict`` accepts only a :class:`Params` of this type."""
        if isinstance(data, Params) and data.params_type == self:
            return data
        if strict:
            raise TypeError(f"{self!r}.filter: strict: expected a Params of this type, got {data!r}")
        values = {}
        for f, t in zip(self.fields, self.types):
            if not hasattr(data, f):
                raise TypeError(f"{self!r}.filter: {data!r} has no field {f!r}")
            values[f] = self._convert(f, t, getattr(data, f), False, allow_downcast)
        return Params(self, **values)

    def values_eq(self, a: Params, b: Params) -> bool:
        return all(_equal(getattr(a, f), getattr(b, f)) for f in self.fields)


def _params_type(fields: dict[str, Any]) -> ParamsType:
    return ParamsType(**fields)


class Params(dict):
    """One op's params: its :class:`ParamsType`'s fields by name, read as attributes
    (``params.alpha``) or items; read-only, hashable and compared by value."""

    def __init__(self, params_type: ParamsType, **values: Any) -> None:
        if not isinstance(params_type, ParamsType):
            raise TypeError(f"Params: the first argument must be a ParamsType, got {params_type!r}")
        missing = [f for f in params_type.fields if f not in values]
        extra = [f for f in values if f not in params_type.fields]
        if missing or extra:
            raise TypeError(f"Params of {params_type!r}: missing fields {missing}, unknown fields {extra}")
        super().__init__(**values)
        object.__setattr__(self, "params_type", params_type)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"Params has no field {name!r} (fields: {list(self)})") from None

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Params is read-only: the op's params are fixed when the function is linked")

    __setattr__ = __setitem__ = __delitem__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is Params
            and self.params_type == other.params_type
            and self.params_type.values_eq(self, other)  # type: ignore[arg-type]
        )

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        from .canonical import canonical

        return hash((self.params_type, canonical(dict(self))))

    def __repr__(self) -> str:
        return "Params(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.items())) + ")"

    def __reduce__(self) -> tuple:
        return (_params, (self.params_type, dict(self)))


def _params(params_type: ParamsType, values: dict[str, Any]) -> Params:
    return Params(params_type, **values)
