"""Sparse matrices in graphs (Theano's and PyTensor's ``SparseTensorType``): the type, its
variables, constants and shared variables.

A value is a ``scipy.sparse`` matrix of the type's format (``csr`` or ``csc``) and dtype, 2-d.
The C run-time's slots hold numpy arrays only, so a function whose graph holds a sparse value
runs in the Python linker (``runtime/compile.py``): its ops are numpy and scipy calls. scipy is
imported when the first sparse value is made or converted, not with ``fncache.tensor``.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from types import ModuleType
from typing import Any, Callable, ClassVar

import numpy as np

from ...errors import PickleError
from ...graph.basic import Constant, Tag, Variable, cloned_name
from ...graph.types import normalize_dtype
from ..optional_deps import scipy_module
from ..shared import SharedVariable
from ..variable import Evaluable

__all__ = [
    "FORMATS",
    "SparseTensorType",
    "SparseVariable",
    "SparseConstant",
    "SparseSharedVariable",
    "is_sparse_value",
    "is_sparse_variable",
    "as_sparse_value",
    "sparse_shared",
    "sparse_value_digest",
    "scipy_sparse",
]

#: The formats a sparse type declares (compressed rows, compressed columns).
FORMATS = ("csr", "csc")


def scipy_sparse(what: str = "fncache.sparse") -> ModuleType:
    """The ``scipy.sparse`` module, imported on first use (``import fncache`` does not need
    scipy), or an error naming ``what`` when scipy is not installed."""
    return scipy_module("sparse", what)


def is_sparse_value(value: Any) -> bool:
    """Whether ``value`` is a scipy.sparse matrix or array (scipy not imported for the question:
    none exists before it is)."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(value)


def is_sparse_variable(v: Any) -> bool:
    return isinstance(v, Variable) and isinstance(v.type, SparseTensorType)


def _describe(value: Any) -> str:
    if is_sparse_value(value):
        return f"a {value.format} {type(value).__name__} of dtype {value.dtype} (shape {value.shape})"
    if isinstance(value, np.ndarray):
        return f"a dense {value.dtype} array of shape {value.shape}"
    return f"{type(value).__name__} {value!r}"[:200]


def as_sparse_value(value: Any, fmt: str, dtype: str, where: str, allow_downcast: bool | None = False) -> Any:
    """``value`` as a scipy ``{fmt}_matrix`` of ``dtype``: a sparse matrix of that format (a
    scipy sparse array becomes the matrix class over the same arrays), cast only where the
    cast is safe or ``allow_downcast`` is given; anything else is a TypeError naming ``where``,
    what was given and the fix."""
    sp = scipy_sparse()
    make = f"scipy.sparse.{fmt}_matrix"
    if isinstance(value, Variable):
        raise TypeError(
            f"{where}: expected a {fmt} sparse matrix of dtype {dtype}, got the symbolic variable "
            f"{value!r}; pass a value ({make}(...))"
        )
    if not sp.issparse(value):
        fix = f"convert it with {make}(x)"
        if not isinstance(value, np.ndarray):
            fix += " (from a dense array or a (data, indices, indptr) triple)"
        raise TypeError(
            f"{where}: expected a {fmt} sparse matrix of dtype {dtype}, got {_describe(value)}; {fix}"
        )
    if value.format != fmt:
        if value.format in FORMATS:
            fix = f"convert it with x.to{fmt}() or declare the input as fncache.sparse.{value.format}_matrix"
        else:
            # PyTensor converts any format at every call; the copy is the caller's to make once
            fix = f"convert it with x.to{fmt}() (fncache's sparse matrices are csr or csc)"
        raise TypeError(
            f"{where}: expected a {fmt} sparse matrix of dtype {dtype}, got {_describe(value)}; {fix}"
        )
    if value.ndim != 2:
        raise TypeError(f"{where}: expected a 2-d {fmt} sparse matrix, got {_describe(value)}")
    if value.dtype.name != dtype:
        if not (allow_downcast or np.can_cast(value.dtype, dtype, "safe")):
            raise TypeError(
                f"{where}: expected a {fmt} sparse matrix of dtype {dtype}, got {_describe(value)}; "
                f"converting {value.dtype} to {dtype} could lose data. Fix: x.astype('{dtype}'), "
                "or compile with allow_input_downcast=True"
            )
        value = value.astype(dtype)
    cls = getattr(sp, f"{fmt}_matrix")
    value = value if type(value) is cls else cls(value)
    if not value.has_canonical_format:
        # duplicate or unsorted entries: the structured ops read each stored entry as one
        # element of the matrix, so a value holds each once, in order
        value = value.copy()
        value.sum_duplicates()
    return value


class SparseTensorType:
    """The type of a sparse matrix (PyTensor's ``SparseTensorType(format, dtype)``): its format,
    ``"csr"`` or ``"csc"``, and dtype; 2-d, of sizes known when the function runs. Calling it
    makes a symbolic input (``SparseTensorType("csr", "float64")("W")``)."""

    __slots__ = ("format", "dtype", "name", "_hash")
    #: Its repr names its format and dtype, all it is: a graph's key reads it (canonical.type_text).
    _repr_is_identity: ClassVar[bool] = True
    ndim = 2
    shape: tuple[None, None] = (None, None)
    broadcastable = (False, False)

    def __init__(self, format: str, dtype: Any = None, shape: Any = None, name: str | None = None) -> None:
        if format not in FORMATS:
            raise ValueError(f"SparseTensorType: format must be one of {FORMATS}, got {format!r}")
        if shape is not None and (len(tuple(shape)) != 2):
            raise ValueError(f"SparseTensorType: a sparse matrix has 2 dims, got shape={shape!r}")
        self.format = format
        self.dtype = normalize_dtype(dtype, "SparseTensorType")
        self.name = name
        self._hash = hash(("sparse", self.format, self.dtype))

    def __call__(self, name: str | None = None) -> SparseVariable:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{self!r}(name): the name must be a str, got {name!r}")
        return self.make_variable(name)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SparseTensorType) and self.format == other.format and self.dtype == other.dtype
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"SparseTensorType({self.format}, {self.dtype})"

    def __reduce__(self):
        return (SparseTensorType, (self.format, self.dtype, None, self.name))

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def clone(self, format: str | None = None, dtype: Any = None) -> SparseTensorType:
        return SparseTensorType(format or self.format, dtype or self.dtype, name=self.name)

    def fits_shape(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == 2

    def is_compatible(self, value: Any) -> bool:
        """Whether ``value`` needs no conversion: a scipy matrix of exactly this type."""
        sp = sys.modules.get("scipy.sparse")
        return (
            sp is not None
            and type(value) is getattr(sp, f"{self.format}_matrix")
            and value.dtype.name == self.dtype
        )

    def convert(self, value: Any, allow_downcast: bool | None, where: str, strict: bool = False) -> Any:
        """``value`` as a scipy matrix of this type, or a TypeError naming ``where``."""
        if strict and not self.is_compatible(value):
            raise TypeError(
                f"{where}: strict conversion expects a scipy.sparse.{self.format}_matrix of dtype "
                f"{self.dtype}, got {_describe(value)}"
            )
        return as_sparse_value(value, self.format, self.dtype, where, allow_downcast)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return self.convert(data, allow_downcast, f"{self!r}.filter", strict)

    def copy_value(self, value: Any) -> Any:
        """A copy of a value of this type (what a function returns for an output that is an
        input, a constant or a shared value)."""
        return value.copy()

    def make_variable(self, name: str | None = None) -> SparseVariable:
        return SparseVariable(self, name=name)

    def make_constant(self, data: Any, name: str | None = None) -> SparseConstant:
        return SparseConstant(self, data, name=name)


def _ops() -> Any:
    from . import basic  # the ops import this module: imported when an operator is used

    return basic


class SparseVariable(Evaluable, Variable):
    """A symbolic sparse matrix, with Theano's and PyTensor's operators: ``+``, ``-``, ``*``
    (elementwise, as ``fncache.sparse.mul``), ``@`` (``fncache.sparse.dot``), ``<``, ``<=``,
    ``>``, ``>=`` (``fncache.sparse.lt``...; ``==`` is identity, as for every variable),
    ``.T``, ``.toarray()``, ``.sum(axis)``."""

    # numpy arrays on the left (``dense_value * W``) must defer to the reflected operators
    __array_ufunc__ = None

    @property
    def format(self) -> str:
        return self.type.format

    @property
    def shape(self) -> Variable:
        """The matrix's two sizes, a symbolic int64 vector."""
        return _ops().csm_shape(self)

    @property
    def T(self) -> SparseVariable:
        return _ops().transpose(self)

    def transpose(self) -> SparseVariable:
        return _ops().transpose(self)

    def __getitem__(self, key: Any) -> SparseVariable:
        return _ops().get_item(self, key)

    def toarray(self) -> Variable:
        return _ops().dense_from_sparse(self)

    def todense(self) -> Variable:
        return _ops().dense_from_sparse(self)

    def sum(self, axis: int | None = None, sparse_grad: bool = False) -> Variable:
        return _ops().sp_sum(self, axis, sparse_grad)

    @property
    def size(self) -> Variable:
        """How many entries the matrix stores, explicit zeros included (scipy's ``size``)."""
        return _ops().csm_data(self).shape[0]

    def astype(self, dtype: Any) -> SparseVariable:
        return _ops().cast(self, dtype)

    def conj(self) -> SparseVariable:
        return _ops().structured_conjugate(self)

    def zeros_like(self) -> SparseVariable:
        """A matrix of zeros of this shape and type, storing no entry (PyTensor's)."""
        return _ops().sp_zeros_like(self)

    def ones_like(self) -> SparseVariable:
        """A 1 at each entry this matrix stores (PyTensor's ``sp_ones_like``)."""
        return _ops().sp_ones_like(self)

    def __neg__(self) -> SparseVariable:
        return _ops().neg(self)

    def __abs__(self) -> SparseVariable:
        return _ops().abs_(self)

    def __add__(self, o: Any) -> Variable:
        return _ops().add(self, o)

    def __radd__(self, o: Any) -> Variable:
        return _ops().add(o, self)

    def __sub__(self, o: Any) -> Variable:
        return _ops().sub(self, o)

    def __rsub__(self, o: Any) -> Variable:
        return _ops().sub(o, self)

    def __mul__(self, o: Any) -> Variable:
        return _ops().mul(self, o)

    def __rmul__(self, o: Any) -> Variable:
        return _ops().mul(o, self)

    def __lt__(self, o: Any) -> Variable:
        return _ops().lt(self, o)

    def __le__(self, o: Any) -> Variable:
        return _ops().le(self, o)

    def __gt__(self, o: Any) -> Variable:
        return _ops().gt(self, o)

    def __ge__(self, o: Any) -> Variable:
        return _ops().ge(self, o)

    def __matmul__(self, o: Any) -> Variable:
        return _ops().dot(self, o)

    def __rmatmul__(self, o: Any) -> Variable:
        return _ops().dot(o, self)

    def __dot__(self, o: Any) -> Variable:
        return _ops().dot(self, o)

    def __rdot__(self, o: Any) -> Variable:
        return _ops().dot(o, self)

    def __repr__(self) -> str:
        if self.name:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}"
        return f"<sparse {self.type.format} {self.type.dtype}>"


#: PyTensor's methods of a sparse variable that compute on its dense form, with a warning: a
#: dense variable's own method of that name...
_DENSE_METHODS = (
    "__and__", "__or__", "__xor__", "__pow__", "__mod__", "__truediv__", "__floordiv__",
    "all", "any", "argmax", "argmin", "argsort", "copy", "cumprod", "cumsum", "diagonal",
    "dimshuffle", "flatten", "max", "mean", "min", "nonzero", "nonzero_values", "prod", "ravel",
    "repeat", "reshape", "round", "squeeze", "std", "trace", "var",
)  # fmt: skip
#: ...or the function of ``fncache.tensor`` that computes it
_DENSE_FUNCTIONS = {
    "__ceil__": "ceil", "__floor__": "floor", "__trunc__": "trunc", "arccos": "arccos",
    "arccosh": "arccosh", "arcsin": "arcsin", "arcsinh": "arcsinh", "arctan": "arctan",
    "arctanh": "arctanh", "ceil": "ceil", "cos": "cos", "cosh": "cosh", "deg2rad": "deg2rad",
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "floor": "floor", "log": "log",
    "log10": "log10", "log1p": "log1p", "log2": "log2", "rad2deg": "rad2deg", "sin": "sin",
    "sinh": "sinh", "sqrt": "sqrt", "tan": "tan", "tanh": "tanh",
}  # fmt: skip


def _on_dense(name: str, compute: Callable[..., Any]) -> Callable[..., Any]:
    """Method ``name`` of a sparse variable as PyTensor's: ``compute`` of its dense form (and
    of any sparse argument's), after a warning that says so."""

    def method(self: SparseVariable, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"fncache.sparse: {name} is not defined for sparse variables; {self!r} is converted to "
            "dense (x.toarray()), as in PyTensor. The structured functions of fncache.sparse keep "
            "it sparse.",
            UserWarning,
            stacklevel=2,
        )
        args = tuple(a.toarray() if is_sparse_variable(a) else a for a in args)
        return compute(self.toarray(), *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name}`` of the dense form of this matrix (a warning says so), as PyTensor's."
    return method


def _tensor_function(name: str) -> Callable[..., Any]:
    def compute(x: Any, *args: Any, **kwargs: Any) -> Any:
        from ... import tensor as ft

        return getattr(ft, name)(x, *args, **kwargs)

    return compute


def _ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return x.max(axis=axis, keepdims=keepdims) - x.min(axis=axis, keepdims=keepdims)


def _divmod(x: Any, y: Any) -> Any:
    return x // y, x % y


for _name in _DENSE_METHODS:
    setattr(SparseVariable, _name, _on_dense(_name, lambda x, *a, _n=_name, **k: getattr(x, _n)(*a, **k)))
for _name, _function in _DENSE_FUNCTIONS.items():
    setattr(SparseVariable, _name, _on_dense(_name, _tensor_function(_function)))
SparseVariable.ptp = _on_dense("ptp", _ptp)
SparseVariable.__divmod__ = _on_dense("__divmod__", _divmod)


def sparse_value_digest(value: Any) -> str:
    """The SHA-256 of a sparse value: its format, dtype, shape and three arrays (a constant's
    identity, a pickle's record of a shared value)."""
    h = hashlib.sha256(f"{value.format}{value.dtype.name}{value.shape}".encode())
    for a in (value.data, value.indices, value.indptr):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


class SparseConstant(SparseVariable, Constant):
    """A sparse matrix of fixed value (its own copy, identified by its content)."""

    def __init__(self, type: SparseTensorType, data: Any, name: str | None = None) -> None:
        Variable.__init__(self, type, None, None, name)
        self.data = type.convert(data, False, "sparse constant").copy()
        self._signature: str | None = None

    def signature(self) -> str:
        if self._signature is None:
            self._signature = sparse_value_digest(self.data)[:32]
        return self._signature

    def clone(self, **kwargs: Any) -> SparseConstant:
        c = type(self)(self.type, self.data, name=cloned_name(self, kwargs))
        c.tag = Tag(self.tag)
        return c

    def __repr__(self) -> str:
        return self.name or f"SparseConstant{{{self.type.format},{self.type.dtype},{self.data.shape}}}"


class SparseSharedVariable(SparseVariable, SharedVariable):
    """A shared variable holding a sparse matrix (``fc.shared(scipy.sparse.csr_matrix(...))``,
    ``fncache.sparse.shared``): its format and dtype are its type; ``set_value`` takes a matrix
    of that type (a safe dtype cast is made, or any cast with ``allow_downcast=True``; another
    format is refused)."""

    def __init__(
        self, value: Any, name: str | None = None, strict: bool = False, allow_downcast: bool | None = None
    ) -> None:
        if not is_sparse_value(value) or value.format not in FORMATS:
            raise TypeError(
                f"sparse shared variable {name!r}: expected a csr or csc scipy.sparse matrix, "
                f"got {_describe(value)}; convert it with x.tocsr() or x.tocsc()"
            )
        Variable.__init__(self, SparseTensorType(value.format, value.dtype), name=name)
        self.strict = bool(strict)
        self.allow_downcast = allow_downcast
        self._value = as_sparse_value(value, value.format, self.type.dtype, self._where())
        self._device: Any = None
        self.default_update = None

    def _where(self) -> str:
        return f"sparse shared variable {self.name or '<unnamed>'!r}"

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        return self._value if borrow else self._value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value by a scipy matrix of this variable's format and dtype (another
        format, or a dtype that does not cast safely unless the variable was made with
        ``allow_downcast=True``, is a TypeError; the old value is kept)."""
        new = self.type.convert(value, self.allow_downcast, self._where() + " (old value kept)", self.strict)
        self._value = new if borrow and new is value else new.copy()

    def zero(self, borrow: bool = False) -> None:
        """An empty matrix of this shape, format and dtype (no entries stored)."""
        self._value = type(self._value)(self._value.shape, dtype=self._value.dtype)

    def __repr__(self) -> str:
        return self.name or f"<shared sparse {self.type.format} {self.type.dtype}>"

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"tag": dict(self.tag)} if self.tag else None
        return (
            _unpickle_sparse_shared,
            (type(self), self._value, self.name, self.strict, self.allow_downcast),
            state,
        )


def _unpickle_sparse_shared(
    cls: Any, value: Any, name: Any, strict: Any, allow_downcast: Any = None
) -> SparseSharedVariable:
    """A sparse shared variable from its pickle, checked."""
    ok = (
        isinstance(cls, type)
        and issubclass(cls, SparseSharedVariable)
        and is_sparse_value(value)
        and isinstance(name, (str, type(None)))
        and isinstance(strict, bool)
        and (allow_downcast is None or isinstance(allow_downcast, bool))
    )
    if not ok:
        raise PickleError(
            f"the pickle of a sparse shared variable is malformed: got class {cls!r}, value "
            f"{type(value).__name__}, name {type(name).__name__}, strict {strict!r}, "
            f"allow_downcast {allow_downcast!r}"
        )
    return cls(value, name, strict, allow_downcast)


def sparse_shared(
    value: Any,
    name: str | None = None,
    borrow: bool = False,
    strict: bool = False,
    allow_downcast: bool | None = None,
) -> SparseSharedVariable:
    """A shared variable holding ``value``, a csr or csc scipy.sparse matrix (copied unless
    ``borrow=True``; ``allow_downcast=True``: a value set later may be cast to its dtype)."""
    sv = SparseSharedVariable(value, name, strict, allow_downcast)
    if not borrow and sv.get_value(borrow=True) is value:
        sv.set_value(value)  # a copy of its own
    return sv
