"""Device arrays as the runner sees them: a pointer, a shape, element strides and what keeps the
memory alive; and the shape ops that are views (dimshuffle, basic indexing, reshape of
contiguous data), computed on the host without touching device memory.

Kept independent of pycuda (pointers are plain ints) so the view arithmetic is tested without
a GPU. Index arithmetic is numpy's own: it is applied to a *proxy*, a numpy array with the same
shape and strides over a one-element dummy buffer, which is never read.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["DevArray", "c_strides", "from_cuda_array", "as_pairs", "dimshuffle", "index", "reshape_shape"]


def c_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a C-contiguous array."""
    out, s = [], 1
    for n in reversed(shape):
        out.append(s)
        s *= max(n, 1)
    return tuple(reversed(out))


class DevArray:
    """A strided device array. ``fresh`` marks memory this call allocated and nobody else
    references: only such an array may be handed to the caller or kept by a shared variable
    without a copy."""

    __slots__ = ("ptr", "shape", "strides", "dtype", "base", "fresh")

    def __init__(
        self,
        ptr: int,
        shape: Sequence[int],
        strides: Sequence[int],
        dtype: Any,
        base: Any,
        fresh: bool = False,
    ) -> None:
        self.ptr = int(ptr)
        self.shape = tuple(int(s) for s in shape)
        self.strides = tuple(int(s) for s in strides)
        self.dtype = np.dtype(dtype)
        self.base = base
        self.fresh = fresh

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    def c_contiguous(self) -> bool:
        if self.size == 0:
            return True
        return all(n == 1 or s == c for n, s, c in zip(self.shape, self.strides, c_strides(self.shape)))

    def view(self, shape: Sequence[int], strides: Sequence[int], offset: int = 0) -> "DevArray":
        """A view ``offset`` elements in, sharing the memory (never fresh)."""
        return DevArray(self.ptr + offset * self.itemsize, shape, strides, self.dtype, self.base)

    def span(self) -> tuple[int, int]:
        """Lowest and one-past-highest element offsets reachable from ``ptr`` (for copies of
        strided arrays as one block)."""
        if self.size == 0:
            return 0, 0
        lo = sum((n - 1) * s for n, s in zip(self.shape, self.strides) if s < 0)
        hi = sum((n - 1) * s for n, s in zip(self.shape, self.strides) if s > 0)
        return lo, hi + 1

    def proxy(self) -> np.ndarray:
        """A numpy array with this shape and these strides over a dummy element (never read):
        numpy's indexing applied to it gives the view's shape, strides and offset."""
        dummy = np.zeros(1, dtype=self.dtype)
        return np.lib.stride_tricks.as_strided(
            dummy, self.shape, tuple(s * self.itemsize for s in self.strides), writeable=False
        )

    def __repr__(self) -> str:
        return f"DevArray({self.dtype}{list(self.shape)}, strides={list(self.strides)})"


def from_cuda_array(obj: Any) -> DevArray:
    """A view of any object with ``__cuda_array_interface__`` (pycuda GPUArray, CuPy, torch).
    The object itself is kept as ``base`` so its memory outlives the call."""
    cai = obj.__cuda_array_interface__
    dtype = np.dtype(cai["typestr"])
    shape = tuple(cai["shape"])
    if cai.get("strides") is None:
        strides = c_strides(shape)
    else:
        if any(s % dtype.itemsize for s in cai["strides"]):
            raise TypeError(
                f"GPU array with strides {cai['strides']} that are not multiples of "
                f"its item size {dtype.itemsize}: copy it (x.copy()) first"
            )
        strides = tuple(s // dtype.itemsize for s in cai["strides"])
    return DevArray(cai["data"][0] or 0, shape, strides, dtype, obj)


def as_pairs(a: DevArray) -> DevArray:
    """A complex array as the array of its (real, imaginary) pairs: its real dtype, one more
    dim of size 2 (the copy kernels move complex values so)."""
    real = np.dtype(a.dtype.char.lower()) if a.dtype.kind == "c" else None
    if real is None:
        raise TypeError(f"as_pairs: expected a complex array, got {a.dtype}")
    return DevArray(a.ptr, (*a.shape, 2), (*(2 * s for s in a.strides), 1), real, a.base, a.fresh)


def dimshuffle(a: DevArray, pattern: Sequence[Any], dropped: Sequence[int], what: str) -> DevArray:
    """Theano's dimshuffle as a view: reorder dims, ``'x'`` adds a size-1 dim, ``dropped`` dims
    must have size 1 (checked, with the C backend's message)."""
    for d in dropped:
        if a.shape[d] != 1:
            raise ValueError(
                f"{what}: dim {d} has size {a.shape[d]} at run time but was declared broadcastable (size 1)"
            )
    shape = [1 if p == "x" else a.shape[p] for p in pattern]
    strides = [0 if p == "x" else a.strides[p] for p in pattern]
    return a.view(shape, strides)


def index(a: DevArray, key: tuple) -> DevArray:
    """``a[key]`` for basic indexing (ints and slices): always a view, as in numpy."""
    p = a.proxy()
    r = p[key]
    off = r.__array_interface__["data"][0] - p.__array_interface__["data"][0]
    return a.view(r.shape, [s // a.itemsize for s in r.strides], off // a.itemsize)


def reshape_shape(shape: Sequence[int], dtype: Any, new: Sequence[int]) -> tuple[int, ...]:
    """The shape numpy gives ``reshape(new)`` (``-1`` inferred), or its ValueError."""
    p = DevArray(0, shape, c_strides(shape), dtype, None).proxy()
    return p.reshape(tuple(int(s) for s in new)).shape
