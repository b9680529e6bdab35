"""Shared variables: values that live between calls and are updated by functions."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..config import config
from ..errors import PickleError
from ..graph.args import as_int
from ..graph.basic import Tag, Variable
from ..graph.types import TensorType, native_array, normalize_dtype
from .basic import as_array, refuse_type
from .variable import TensorVariable

__all__ = ["SharedVariable", "shared"]


class SharedVariable(TensorVariable):
    """A graph input whose value is stored here, not passed at call time.

    Its value is always an aligned array in native byte order (as every explicit input is made
    before a kernel sees it), whichever way it came in: ``shared()``, ``set_value`` (with
    ``borrow=True`` too: such an array is copied, not borrowed) or an unpickled function.

    ``shape``: static sizes (None for any), which every value set must have; ``strict``: set
    values must be arrays of exactly this dtype (Theano's ``strict``); ``allow_downcast``
    (Theano's and PyTensor's): set values of another numeric dtype are cast to this one even
    where that loses data (8.23 into an int64 variable is 8)."""

    holds_value = True

    def __init__(
        self,
        value: np.ndarray,
        name: str | None = None,
        shape: tuple[int | None, ...] | None = None,
        strict: bool = False,
        allow_downcast: bool = False,
    ) -> None:
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"SharedVariable: value must be a numpy array, got {type(value).__name__} {value!r}; "
                "fc.shared(value) makes a shared variable of a number or a list too"
            )
        value = native_array(value)
        static = (None,) * value.ndim if shape is None else tuple(shape)
        super().__init__(TensorType(value.dtype, static), name=name)
        self.strict = bool(strict)
        self.allow_downcast = bool(allow_downcast)
        self._check_shape(value)
        self._value = value
        #: The device copy kept by a GPU backend (fncache.codegen.cuda), or None. Its ``pull()``
        #: returns a new host array when the device copy is newer (a GPU function updated it),
        #: else None. Reading the value pulls first; setting a value drops the device copy.
        self._device: Any = None
        #: An expression every function using this variable updates it with, unless the
        #: function's ``updates`` say otherwise (random streams advance their counters so).
        self.default_update: TensorVariable | None = None

    def _host_value(self) -> np.ndarray:
        dev = self._device
        if dev is not None:
            newer = dev.pull()
            if newer is not None:
                self._value = newer
        return self._value

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> np.ndarray:
        """The current value (a copy unless ``borrow=True``). ``return_internal_type``
        (Theano's and PyTensor's) changes nothing: the value is a numpy array on every device."""
        value = self._host_value()
        return value if borrow else value.copy()

    def _check_shape(self, arr: np.ndarray) -> None:
        if self.type.fits_shape(arr.shape):
            return
        raise ValueError(
            f"shared variable {self.name or '<unnamed>'!r} has static shape {self.type.shape}; "
            f"cannot set a value of shape {arr.shape} (old value kept). Give a value of that "
            "shape, or make the variable without shape=."
        )

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value. A value of another dtype is cast where PyTensor's would be: a safe
        cast of an array (int32 into float64; not float64 into float32, unless the variable
        was made with ``allow_downcast=True``), a number or list that converts exactly, a bare
        Python float into a variable of dtype ``config.floatX``. Another dtype, another ndim
        or a complex value for a real variable raises TypeError, a size other than a declared
        one ValueError; either keeps the old value."""
        if isinstance(value, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
            # A RandomStream draw's rng is a counter of the draws made, keyed by the stream's
            # seed: a generator has nothing to replace here. Random states take one.
            raise TypeError(
                f"shared variable {self.name or '<unnamed>'!r} holds {self.dtype} with {self.ndim} "
                f"dims; cannot set a numpy {type(value).__name__} (old value kept). Only a random "
                "state (fc.shared(np.random.default_rng(seed)), pt.random.shared_rng(seed=...)) "
                "takes a generator. A RandomStream draw's rng holds a counter of the draws made "
                "(get_value() saves it, set_value() of that value replays them); to reseed, call "
                "the stream's seed(n)."
            )
        arr = np.asarray(value)
        if self.strict and not (isinstance(value, np.ndarray) and arr.dtype.name == self.dtype):
            raise TypeError(
                f"shared variable {self.name or '<unnamed>'!r} is strict: it takes only an "
                f"ndarray of dtype {self.dtype}, got {type(value).__name__} of dtype {arr.dtype} "
                f"(old value kept). Cast it first: np.asarray(value, dtype='{self.dtype}')."
            )
        if arr.ndim != self.ndim or (arr.dtype.name != self.dtype and not self._casts(value, arr)):
            real = arr.dtype.kind == "c" and np.dtype(self.dtype).kind != "c"
            if arr.ndim != self.ndim:  # no cast helps, allow_downcast neither
                fix = f"Give a value of {self.ndim} dims (reshape it), or make a new shared variable"
            elif real:
                fix = "Its imaginary parts would be lost: take np.real(value) first"
            else:
                fix = (
                    f"Cast it first: value.astype('{self.dtype}'), or make the variable with "
                    "fc.shared(..., allow_downcast=True)"
                )
            raise TypeError(
                f"shared variable {self.name or '<unnamed>'!r} holds {self.dtype} with "
                f"{self.ndim} dims; cannot set a value of dtype {arr.dtype} with {arr.ndim} "
                f"dims (old value kept). {fix}."
            )
        if arr.dtype.name != self.dtype:
            arr = arr.astype(self.dtype)
        self._check_shape(arr)
        kept = arr if borrow and arr is value else np.array(arr, copy=True)
        self._value = native_array(kept)
        self._device = None

    def _casts(self, value: Any, arr: np.ndarray) -> bool:
        """Whether ``value`` (``arr`` as an array) may become a value of this variable's dtype,
        as PyTensor's ``TensorType.filter`` decides: a cast numpy calls safe (int32 into
        float64), a bare Python float into floatX, another untyped value (a Python number or
        list, a numpy scalar) that converts to the same values, and with ``allow_downcast``
        any numeric value; never complex values into a real variable (the imaginary parts would
        be dropped, ``allow_downcast`` or not)."""
        target = np.dtype(self.dtype)
        if arr.dtype.kind not in "biufc" or (arr.dtype.kind == "c" and target.kind != "c"):
            return False
        if self.allow_downcast or np.can_cast(arr.dtype, target, "safe"):
            return True
        if isinstance(value, np.ndarray):
            return False
        if isinstance(value, (float, np.floating)) and self.dtype == config.floatX:
            return True
        with np.errstate(all="ignore"):
            return bool(np.array_equal(arr.astype(target), arr, equal_nan=arr.dtype.kind in "fc"))

    def zero(self, borrow: bool = False) -> None:
        """Theano's and PyTensor's: set the value to zeros of its shape and dtype (``borrow``
        is taken and changes nothing: the new value is an array of this variable's own)."""
        self.set_value(np.zeros_like(self.get_value(borrow=True)), borrow=True)

    @property
    def stored_value(self) -> np.ndarray:
        """The host array as stored, without pulling a newer device copy (a runner compares and
        uploads it); :meth:`get_value` is the value."""
        return self._value

    def store_update(self, value: np.ndarray) -> None:
        """Keep ``value``, an array a function computed as this variable's update (already of its
        dtype and ndim, native and aligned, and owned by this variable from now on)."""
        self._value = value

    @property
    def device_copy(self) -> Any:
        """The device copy kept by a GPU backend (fncache.codegen.cuda), or None; setting a value
        drops it, reading the value pulls it first when it is newer."""
        return self._device

    @device_copy.setter
    def device_copy(self, mirror: Any) -> None:
        self._device = mirror

    def clone(self) -> "SharedVariable":
        return self  # a shared variable is one container: graph copies refer to it

    @property
    def value(self) -> np.ndarray:
        return self._host_value()

    def __repr__(self) -> str:
        kind = ("scalar", "vector", "matrix")[self.ndim] if self.ndim < 3 else f"{self.ndim}-d tensor"
        return self.name or f"<shared {self.dtype} {kind}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its class, value and declarations (not a GPU backend's device copy: the
        value read pulls it first), then its tag and default update.  One variable pickled twice
        in one pickle, on its own or by the functions that read it, is loaded as one object."""
        state: dict[str, Any] = {}
        if self.tag:
            state["tag"] = dict(self.tag)
        if self.default_update is not None:
            state["default_update"] = self.default_update
        if self.allow_downcast:
            state["allow_downcast"] = True
        args = (type(self), self.get_value(borrow=True), self.name, self.type.shape, self.strict)
        return _unpickle_shared, args, state or None

    @classmethod
    def from_pickle(cls, value: np.ndarray, name: str | None, shape: tuple, strict: bool) -> SharedVariable:
        """The variable a pickle describes (its fields checked): a subclass whose constructor
        takes other arguments says how it is made again."""
        return cls(value, name, shape, strict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        tag, update = state.get("tag", {}), state.get("default_update")
        if not isinstance(tag, dict) or not (update is None or isinstance(update, Variable)):
            raise PickleError(
                f"the pickle of shared variable {self.name!r} is malformed: its tag is "
                f"{type(tag).__name__}, its default update {type(update).__name__}"
            )
        self.tag = Tag(tag)
        self.default_update = update
        self.allow_downcast = state.get("allow_downcast") is True


def declarations_fit(value: np.ndarray, shape: Any, strict: Any) -> bool:
    """A shared variable's recorded static sizes (one int or None per dim, each int the
    value's size) and strict flag are well formed."""
    return (
        isinstance(shape, tuple)
        and len(shape) == value.ndim
        and all(s is None or type(s) is int and s == n for s, n in zip(shape, value.shape))
        and isinstance(strict, bool)
    )


def _unpickle_shared(cls: Any, value: Any, name: Any, shape: Any, strict: Any) -> SharedVariable:
    """A shared variable from its pickle, checked: a variable of a dtype fncache computes in,
    holding memory of its own (an array unpickled from a pickle's buffer may be read-only, or
    another object's)."""
    ok = (
        isinstance(cls, type)
        and issubclass(cls, SharedVariable)
        and isinstance(value, np.ndarray)
        and isinstance(name, (str, type(None)))
        and declarations_fit(value, shape, strict)
    )
    if not ok:
        raise PickleError(
            f"the pickle of a shared variable is malformed: got class {cls!r}, value "
            f"{type(value).__name__}, name {type(name).__name__}, shape {shape!r}, strict {strict!r}"
        )
    try:
        computed = normalize_dtype(value.dtype, f"shared variable {name!r}") == value.dtype.name
    except TypeError as e:
        raise PickleError(f"the pickle of a shared variable is malformed: {e}") from None
    if not computed:
        raise PickleError(
            f"the pickle of shared variable {name!r} is malformed: fncache does not compute in its dtype {value.dtype}"
        )
    if not (value.flags.writeable and value.flags.owndata):
        value = np.array(value, copy=True)
    return cls.from_pickle(value, name, shape, strict)


def _static_sizes(shape: Any, arr: np.ndarray, what: str) -> tuple[int | None, ...] | None:
    """``shape=`` checked: one int >= 0 or None per dim of ``arr``, each int its size."""
    if shape is None:
        return None
    sizes = tuple(shape)
    for s in sizes:
        if s is not None and (as_int(s) is None or s < 0):
            raise TypeError(f"{what}: shape entries must be ints >= 0 or None, got {s!r} in {sizes}")
    sizes = tuple(None if s is None else as_int(s) for s in sizes)
    if len(sizes) != arr.ndim:
        raise ValueError(f"{what}: shape={sizes} has {len(sizes)} entries, the value {arr.ndim} dims")
    if any(s is not None and s != n for s, n in zip(sizes, arr.shape)):
        raise ValueError(f"{what}: the value's shape {arr.shape} does not fit shape={sizes}")
    return sizes


def _is_sparse(value: Any) -> bool:
    """Whether ``value`` is a scipy.sparse matrix (no scipy import: none exists before it is)."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(value)


def shared(
    value: Any,
    name: str | None = None,
    strict: bool = False,
    allow_downcast: bool | None = None,
    *,
    borrow: bool = False,
    shape: Any = None,
    broadcastable: Any = None,
) -> SharedVariable:
    """A shared variable holding ``value`` (copied unless ``borrow=True`` and it is already an
    aligned native-order array). The arguments are Theano's and PyTensor's, in their order (a
    third one is ``strict``; ``borrow`` and the others by keyword). ``strict`` (Theano's): the
    value's own dtype, no floatX for a Python float, and ``set_value`` takes only arrays of that
    dtype; ``allow_downcast``: True casts a value set later to the variable's dtype even where
    that loses data (None or False: only where it keeps the values). ``shape`` (PyTensor's):
    static sizes (None for any) every value set must have. ``broadcastable`` (Theano's): one
    bool per dim, True for a dim of size 1 (``shape`` 1), False for any size. A csr or csc
    scipy.sparse matrix makes a sparse shared variable (``fncache.sparse``). A numpy
    ``Generator`` makes a random state (``fncache.tensor.random.shared_rng``), seeded from it:
    draws from it are fncache's numbers, not numpy's."""
    what = f"shared({name!r})"
    if _is_sparse(value):
        # Theano's and PyTensor's shared(scipy.sparse.csr_matrix(...)): a sparse shared variable
        if shape is not None or broadcastable is not None:
            raise TypeError(f"{what}: a sparse matrix's sizes are its own; leave shape/broadcastable out")
        from .sparse.type import sparse_shared

        return sparse_shared(value, name, borrow, strict, allow_downcast)
    if isinstance(value, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        # PyTensor's shared(np.random.default_rng(seed)): a random state seeded from the generator
        if shape is not None or broadcastable is not None:
            raise TypeError(f"{what}: a random state has no shape to declare; leave shape/broadcastable out")
        from .random.variable import shared_rng

        return shared_rng(value, name=name)
    if broadcastable is not None:
        if shape is not None:
            raise TypeError(
                f"{what}: pass shape or broadcastable, not both (shape=(1, None) is broadcastable=(True, False))"
            )
        flags = tuple(broadcastable)
        if not all(isinstance(b, (bool, np.bool_)) for b in flags):
            raise TypeError(f"{what}: broadcastable takes one bool per dim, got {broadcastable!r}")
        shape = tuple(1 if b else None for b in flags)
    refuse_type(value, what)
    arr = as_array(value)
    if isinstance(value, float) and not isinstance(value, np.generic) and not strict:
        arr = arr.astype(config.floatX)
    normalize_dtype(arr.dtype, what)
    if arr.dtype.name == "float16":
        if strict:
            raise TypeError(
                f"{what}: float16 is not a dtype fncache computes in, so strict=True cannot keep "
                "it; pass value.astype('float32') or leave strict out (float16 is then float32)"
            )
        arr = arr.astype("float32")
    if not (borrow and arr is value):
        arr = np.array(arr, copy=True)
    return SharedVariable(
        arr, name=name, shape=_static_sizes(shape, arr, what), strict=strict, allow_downcast=allow_downcast
    )
