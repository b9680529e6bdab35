"""Shared variables: values that live between calls and are updated by functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.types import TensorType, native_array, normalize_dtype
from .basic import refuse_type
from .variable import TensorVariable

__all__ = ["SharedVariable", "shared"]


class SharedVariable(TensorVariable):
    """A graph input whose value is stored here, not passed at call time.

    Its value is always an aligned array in native byte order (as every explicit input is made
    before a kernel sees it), whichever way it came in: ``shared()``, ``set_value`` (with
    ``borrow=True`` too: such an array is copied, not borrowed) or an unpickled function."""

    holds_value = True

    def __init__(self, value: np.ndarray, name: str | None = None) -> None:
        value = native_array(value)
        super().__init__(TensorType(value.dtype, (None,) * value.ndim), name=name)
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

    def get_value(self, borrow: bool = False) -> np.ndarray:
        """The current value (a copy unless ``borrow=True``)."""
        value = self._host_value()
        return value if borrow else value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value. Another dtype or ndim raises TypeError and keeps the old value."""
        arr = np.asarray(value)
        if arr.dtype.name != self.dtype or arr.ndim != self.ndim:
            if (
                arr.ndim == self.ndim
                and arr.dtype.kind in "biuf"
                and np.can_cast(arr.dtype, self.dtype, "safe")
                and not isinstance(value, np.ndarray)
            ):
                arr = arr.astype(self.dtype)
            else:
                raise TypeError(
                    f"shared variable {self.name or '<unnamed>'!r} holds {self.dtype} with "
                    f"{self.ndim} dims; cannot set a value of dtype {arr.dtype} with {arr.ndim} "
                    f"dims (old value kept). Cast it first: value.astype('{self.dtype}')."
                )
        kept = arr if borrow and arr is value else np.array(arr, copy=True)
        self._value = native_array(kept)
        self._device = None

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
        return self.name or f"<shared {self.dtype}{self.ndim}d>"


def shared(value: Any, name: str | None = None, borrow: bool = False) -> SharedVariable:
    """A shared variable holding ``value`` (copied unless ``borrow=True`` and it is already an
    aligned native-order array)."""
    refuse_type(value, f"shared({name!r})")
    arr = np.asarray(value)
    if isinstance(value, float) and not isinstance(value, np.generic):
        from ..config import config

        arr = arr.astype(config.floatX)
    normalize_dtype(arr.dtype, f"shared({name!r})")
    if arr.dtype.name == "float16":
        arr = arr.astype("float32")
    if not (borrow and arr is value):
        arr = np.array(arr, copy=True)
    return SharedVariable(arr, name=name)
