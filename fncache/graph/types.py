"""Tensor types: a dtype and a static shape (each dim a known size or ``None``).

A dim known to be 1 is *broadcastable*: `dimshuffle` and fusion rely on that static fact. At run
time any size-1 dim broadcasts, as in numpy.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from .args import as_int, sequence_arg

__all__ = [
    "DTYPES",
    "TensorType",
    "fits_type",
    "normalize_dtype",
    "is_float",
    "is_int",
    "is_complex",
    "is_inexact",
    "complex_of",
    "real_of",
    "upcast_float",
    "native_array",
    "use_variable_classes",
    "use_shape_specifier",
]

#: The dtypes fncache supports, with their C type names.
DTYPES: dict[str, str] = {
    "bool": "npy_bool",
    "int8": "npy_int8",
    "int16": "npy_int16",
    "int32": "npy_int32",
    "int64": "npy_int64",
    "uint8": "npy_uint8",
    "uint16": "npy_uint16",
    "uint32": "npy_uint32",
    "uint64": "npy_uint64",
    "float32": "npy_float32",
    "float64": "npy_float64",
    "complex64": "npy_complex64",
    "complex128": "npy_complex128",
}


def normalize_dtype(dtype: Any, what: str = "dtype") -> str:
    """Return the canonical name of a supported dtype or raise a TypeError that lists them."""
    if dtype.__class__ is str and dtype in DTYPES:
        return dtype  # already canonical: each type a graph unpickles on a cache hit names one
    if dtype is None or (isinstance(dtype, str) and dtype == "floatX"):
        from ..config import config  # "floatX" is Theano's spelling of the configured float

        return config.floatX
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError):  # a symbolic variable: numpy reads its .dtype and refuses
        name = str(dtype)
    if name == "float16":
        name = "float32"  # float16 is not supported: promote (documented in the README)
    if name not in DTYPES:
        raise TypeError(
            f"{what}: unsupported dtype {dtype!r}; fncache supports "
            f"{', '.join(DTYPES)}. Cast the data first (e.g. arr.astype('float64'))."
        )
    return name


def is_float(dtype: str) -> bool:
    return dtype in ("float32", "float64")


def is_complex(dtype: str) -> bool:
    return dtype in ("complex64", "complex128")


def is_inexact(dtype: str) -> bool:
    """Float or complex: the dtypes a gradient flows through."""
    return is_float(dtype) or is_complex(dtype)


def is_int(dtype: str) -> bool:
    return dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def complex_of(dtype: str) -> str:
    """The complex dtype of ``dtype``'s precision: complex64 for float32 and complex64,
    complex128 for the others (integers are computed in float64)."""
    return "complex64" if dtype in ("float32", "complex64") else "complex128"


def real_of(dtype: str) -> str:
    """The dtype of a complex ``dtype``'s real and imaginary parts (a real ``dtype`` itself)."""
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


def upcast_float(dtype: str) -> str:
    """The float dtype numpy's transcendental ufuncs give for ``dtype`` (float16 made float32)."""
    return normalize_dtype(np.result_type(np.dtype(dtype), np.float16) if dtype != "bool" else np.float16)


def native_array(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself when it is aligned and in native byte order, else such a copy of it.

    The C kernels read an array's memory as native numbers: a big-endian or misaligned array
    must be converted (by value, keeping its shape, 0-d included) before any kernel sees it."""
    if arr.flags.aligned and arr.dtype.isnative:
        return arr
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)


class TensorType:
    """The type of a tensor variable: ``dtype`` and static ``shape`` (``None`` = unknown).

    As in Theano and PyTensor, calling a type makes a variable of it (``ft.dvector("x")``,
    ``TensorType("float64", (None, 3))("m")``). The arguments are PyTensor's ``(dtype, shape,
    name, broadcastable)``: bools in ``shape`` are Theano's pattern (True a static 1, False an
    unknown size), so Theano's ``TensorType(dtype, (False, True))`` works as it did, and so does
    its ``broadcastable=`` keyword; an int ``shape`` is one dim of that size. ``name`` is kept as
    a label (it takes no part in equality).
    """

    __slots__ = ("dtype", "shape", "name", "_hash", "_repr")
    #: Its repr names its dtype and static shape, all it is: a graph's key reads it (canonical.type_text).
    _repr_is_identity: ClassVar[bool] = True
    #: What ``make_variable`` / ``make_constant`` build (see :func:`use_variable_classes`).
    variable_class: ClassVar[type]
    constant_class: ClassVar[type]
    #: How ``convert_variable`` declares static sizes (``specify_shape``: see
    #: :func:`use_shape_specifier`).
    shape_specifier: ClassVar[Callable[[Any, tuple], Any] | None] = None

    def __init__(
        self,
        dtype: Any,
        shape: Sequence[int | bool | None] | int | None = None,
        name: str | None = None,
        broadcastable: Sequence[bool] | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            # Theano's and PyTensor's third argument is the name: a tuple there is a
            # broadcastable pattern given at the place of the older signatures
            raise TypeError(
                f"TensorType: the third argument is the name, got {name!r}; give the static shape "
                f"second (TensorType(dtype, shape=...)) or Theano's pattern by keyword "
                f"(TensorType(dtype, broadcastable=...))"
            )
        if isinstance(broadcastable, str) and name is None:
            # pickles written while the name came fourth: TensorType(dtype, shape, None, name)
            name, broadcastable = broadcastable, None
        if broadcastable is not None:
            if shape is not None:
                raise TypeError("TensorType: give shape or broadcastable, not both")
            shape = tuple(
                bool(b) for b in sequence_arg(broadcastable, "TensorType", "broadcastable", "bools")
            )
        self.dtype = normalize_dtype(dtype, "TensorType")
        self.shape = _static_shape(shape)
        #: Theano's label of a type: it takes no part in equality.
        self.name = name
        self._hash = hash((self.dtype, self.shape))
        #: its repr, once asked for: a graph's key reads one per node (canonical.type_text)
        self._repr: str | None = None

    def __call__(self, name: str | None = None, shape: Sequence[int | None] | None = None):
        """A new symbolic input of this type; ``shape`` (PyTensor's ``pt.dvector("x",
        shape=(3,))``) declares static sizes where this type has none."""
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{self!r}(name): the name must be a str, got {name!r}")
        if shape is not None:
            return self._with_sizes(shape).make_variable(name)
        return self.make_variable(name)

    def _with_sizes(self, shape: Sequence[int | None]) -> TensorType:
        shape = shape_entries(shape, f"{self!r}(shape=...)")
        if len(shape) != self.ndim or any(
            s is not None and (not isinstance(s, (int, np.integer)) or s < 0) for s in shape
        ):
            raise ValueError(f"{self!r}(shape={shape}): give {self.ndim} sizes, each an int >= 0 or None")
        if any(mine is not None and s is not None and s != mine for mine, s in zip(self.shape, shape)):
            raise ValueError(
                f"{self!r}(shape={shape}): the type's static sizes {self.shape} cannot change; "
                "give None or the same size there (or use ft.tensor(dtype, shape=...))"
            )
        return self.clone(shape=[s if s is not None else mine for mine, s in zip(self.shape, shape)])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorType) and self.dtype == other.dtype and self.shape == other.shape

    def __hash__(self) -> int:
        return self._hash

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def clone(
        self,
        dtype: Any = None,
        shape: Sequence[int | bool | None] | None = None,
        broadcastable: Sequence[bool] | None = None,
    ) -> TensorType:
        """This type with ``dtype`` and/or ``shape`` (or Theano's ``broadcastable``) replaced."""
        if shape is None and broadcastable is None:
            shape = self.shape
        return TensorType(self.dtype if dtype is None else dtype, shape, self.name, broadcastable)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> np.ndarray:
        """``data`` as an ndarray of this type, as a function converts an input: Python numbers
        and lists when they convert exactly, safe casts; ``allow_downcast`` as a function's
        ``allow_input_downcast`` (None, PyTensor's default: a Python float also rounded into floatX; True:
        anything cast; False: nothing rounded); ``strict`` accepts only an ndarray of this
        dtype. A TypeError says what does not fit."""
        return self.convert(data, allow_downcast, f"{self!r}.filter", strict)

    def convert(
        self, value: Any, allow_downcast: bool | None, where: str, strict: bool = False
    ) -> np.ndarray:
        """``value`` as an aligned, native-order ndarray of exactly this type, or a TypeError
        that names ``where`` (function inputs, states and ``filter`` convert through here; a
        type whose values may come as other objects, such as a random state given a numpy
        Generator, converts those first)."""
        from .values import convert_value

        return convert_value(self, value, allow_downcast, where, strict)

    def __repr__(self) -> str:
        if self._repr is None:
            dims = ",".join(["?" if s is None else str(s) for s in self.shape])
            self._repr = f"TensorType({self.dtype}, ({dims}))"
        return self._repr

    def __reduce__(self):
        return (TensorType, (self.dtype, self.shape, self.name))

    def fits_shape(self, shape: tuple[int, ...]) -> bool:
        """Whether an array of ``shape`` has this type's ndim and every static size it declares."""
        return len(shape) == self.ndim and all(s is None or s == v for s, v in zip(self.shape, shape))

    def is_compatible(self, value: np.ndarray) -> bool:
        return value.dtype.name == self.dtype and self.fits_shape(value.shape)

    def make_variable(self, name: str | None = None) -> Any:
        return self.variable_class(self, name=name)

    def make_constant(self, data: np.ndarray, name: str | None = None) -> Any:
        return self.constant_class(self, data, name=name)

    # -- PyTensor's Type methods, as its Ops' make_node and rewrites call them -----------------

    def is_super(self, otype: Any) -> bool:
        """Whether every variable of ``otype`` is one of this type: the same class, dtype and
        ndim, ``otype`` knowing at least the sizes this type declares."""
        return (
            isinstance(otype, type(self))
            and otype.dtype == self.dtype
            and otype.ndim == self.ndim
            and all(mine is None or mine == other for mine, other in zip(self.shape, otype.shape))
        )

    def in_same_class(self, otype: Any) -> bool:
        """Whether ``otype`` has this dtype and the same static 1s (PyTensor's class of
        broadcastable types: ``(2, 1)``, ``(3, 1)`` and ``(None, 1)`` are one)."""
        return (
            isinstance(otype, TensorType)
            and otype.dtype == self.dtype
            and otype.broadcastable == self.broadcastable
        )

    def convert_variable(self, var: Any) -> Any:
        """``var`` as a variable of this type: itself when its type knows at least this type's
        sizes, ``specify_shape(var, shape)`` when it knows fewer of them, None when its dtype or
        ndim differ (nothing converts it)."""
        vtype = var.type
        if self.is_super(vtype):
            return var
        if not (isinstance(vtype, TensorType) and vtype.dtype == self.dtype and vtype.ndim == self.ndim):
            return None
        if any(s is not None and v is not None and s != v for s, v in zip(self.shape, vtype.shape)):
            return None  # a size contradicting this type's: no value fits both
        specify = TensorType.shape_specifier
        return None if specify is None else specify(var, self.shape)

    def filter_variable(self, other: Any, allow_convert: bool = True) -> Any:
        """``other`` as a variable of this type (PyTensor's): a value becomes a constant
        (converted as ``filter`` converts it), a variable of a less specific shape gets this
        type's sizes declared; anything else is a TypeError."""
        if not (hasattr(other, "type") and hasattr(other, "owner")):  # a value, not a variable
            data = self.filter(other)
            other = self.clone(shape=data.shape).make_constant(data)
        if other.type == self:
            return other
        converted = self.convert_variable(other) if allow_convert else None
        if converted is not None:
            return converted
        raise TypeError(
            f"{self!r}.filter_variable: {other!r} has type {other.type!r}, which does not convert to "
            f"this type; cast it (ft.cast(x, '{self.dtype}')) or reshape it to {self.ndim} dims"
        )

    def is_valid_value(self, data: Any, strict: bool = True) -> bool:
        """Whether ``data`` is a value of this type (``filter`` takes it, strictly by default)."""
        try:
            self.filter(data, strict=strict)
        except (TypeError, ValueError):
            return False
        return True

    @staticmethod
    def values_eq(a: np.ndarray, b: np.ndarray, force_same_dtype: bool = True) -> bool:
        """Whether two values are equal: shape, dtype (with ``force_same_dtype``) and entries,
        NaNs at the same places equal."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or (force_same_dtype and a.dtype != b.dtype):
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))

    @staticmethod
    def values_eq_approx(
        a: np.ndarray,
        b: np.ndarray,
        allow_remove_inf: bool = False,
        allow_remove_nan: bool = False,
        rtol: float | None = None,
        atol: float | None = None,
    ) -> bool:
        """Whether two values of one shape and dtype are close, as PyTensor's tests compare
        them: ``np.isclose`` with PyTensor's tolerances by default (rtol 1e-5; atol 1e-5 for
        float32 and complex64, 1e-8 otherwise), NaNs and infinities of one sign at the same
        places equal; ``allow_remove_inf`` / ``allow_remove_nan`` accept any ``b`` where ``a``
        is infinite / NaN. Integer values must be equal."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind not in "fc":
            return bool(np.array_equal(a, b))
        narrow = a.dtype in (np.float32, np.complex64)
        rtol = 1e-5 if rtol is None else rtol
        atol = (1e-5 if narrow else 1e-8) if atol is None else atol
        close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if allow_remove_inf:
            close |= np.isinf(a)
        if allow_remove_nan:
            close |= np.isnan(a)
        return bool(close.all())


#: the most dims a numpy array has (numpy's NPY_MAXDIMS: 64 from numpy 2, 32 before)
MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0b1" else 32


def shape_entries(shape: Any, what: str) -> tuple:
    """``shape``, a static shape given to ``what``, as a tuple of its entries (checked by the
    caller): TypeError for what is not a sequence of them (a bare number, a string)."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(
            f"{what}: shape must be a tuple of sizes (ints, None for unknown), got {shape!r}; "
            "e.g. shape=(None, 3)"
        )
    return tuple(shape)


def _is_size(s: Any) -> bool:
    """Whether ``s`` is a static shape entry as :func:`_static_shape` returns it: None, or a
    Python int >= 0 (a bool is not one)."""
    return s is None or (s.__class__ is int and s >= 0)


def _static_shape(shape: Any) -> tuple[int | None, ...]:
    """A type's static shape from Theano's and PyTensor's spellings: each entry a size (an
    int >= 0), ``None`` (unknown) or a bool (True: a broadcastable 1, False: unknown)."""
    if shape is None:
        return ()
    if shape.__class__ is tuple and len(shape) <= MAX_DIMS and all(_is_size(s) for s in shape):
        return shape  # already static: what each type a graph unpickles on a cache hit holds
    if as_int(shape) is not None:
        shape = (shape,)  # PyTensor's TensorType(dtype, 3): one dim of size 3
    shape = shape_entries(shape, "TensorType")
    out: list[int | None] = []
    for s in shape:
        if s is None or isinstance(s, (bool, np.bool_)):
            out.append(1 if s else None)
        elif as_int(s) is not None:
            if s < 0:
                raise ValueError(
                    f"TensorType: shape entry {s} in {tuple(shape)} is negative; give a size >= 0, "
                    "or None for a size known only at run time"
                )
            out.append(as_int(s))
        else:
            raise TypeError(
                f"TensorType: each shape entry must be an int, None or a bool, got {s!r} in {shape!r}"
            )
    if len(out) > MAX_DIMS:
        raise ValueError(
            f"TensorType: {len(out)} dims, more than numpy's arrays have ({MAX_DIMS}); a value of "
            "this type could never be computed"
        )
    return tuple(out)


def fits_type(t: Any, declared: Any) -> bool:
    """Whether a variable of type ``t`` may stand where ``declared`` was: the same type, or one
    of the same class, dtype and ndim whose static shape knows at least the sizes ``declared``
    knows (a rewrite's node may keep the coarser type its inputs had when it was made)."""
    if t == declared:
        return True
    shape, known = getattr(t, "shape", None), getattr(declared, "shape", None)
    return (
        type(t) is type(declared)
        and isinstance(shape, tuple)
        and isinstance(known, tuple)
        and t.dtype == declared.dtype
        and len(shape) == len(known)
        and all(k is None or s == k for s, k in zip(shape, known))
    )


def use_shape_specifier(specify: Callable[[Any, tuple], Any]) -> None:
    """Make ``TensorType.convert_variable`` declare sizes with ``specify(var, shape)`` (the front
    end's ``specify_shape``, installed when it is imported: the graph layer never imports it)."""
    TensorType.shape_specifier = specify


def use_variable_classes(variable: type, constant: type) -> None:
    """Make every ``TensorType`` build ``variable`` / ``constant`` instances from now on.

    The graph's own ``Variable`` and ``Constant`` are the default; the front end
    (``fncache.tensor``) installs its subclasses, which carry numpy's operators, when it is
    imported.  The graph layer so never imports the layer above it.
    """
    TensorType.variable_class = variable
    TensorType.constant_class = constant
