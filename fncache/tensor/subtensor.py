"""Basic indexing: ints and slices whose bounds are Python ints or symbolic int scalars.

The op keeps the index structure in its props; symbolic bounds are extra inputs, referenced by
position. The result is a view of the input, as in numpy.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph.args import as_int, int_arg
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_int
from .basic import as_tensor_variable

__all__ = ["Subtensor", "getitem", "index_ref", "make_slice", "python_index", "slice_at_axis"]

#: PyTensor's names of this module path (``from pytensor.tensor.subtensor import
#: set_subtensor``), from the modules that build on this one: loaded when first asked for
_LATER = {
    "set_subtensor": "inc_subtensor",
    "inc_subtensor": "inc_subtensor",
    "take": "advanced_subtensor",
    "flip": "arrange",
}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# An index entry: ("i", ref) or ("s", start, stop, step); a ref is None, ("c", int) or ("v", k)
# for the k-th symbolic input after x.


def python_index(idx: tuple, bounds: Sequence[Any]) -> tuple:
    """The Python index (ints and slices) of the index structure ``idx`` for these bound values."""

    def val(ref: Any) -> Any:
        if ref is None:
            return None
        return ref[1] if ref[0] == "c" else int(bounds[ref[1]])

    return tuple(val(e[1]) if e[0] == "i" else slice(val(e[1]), val(e[2]), val(e[3])) for e in idx)


class Subtensor(Op):
    __props__ = ("idx",)
    view_map = {0: [0]}

    def __init__(self, idx: tuple) -> None:
        self.idx = tuple(idx)

    def __str__(self) -> str:
        parts = []
        for e in self.idx:

            def r(ref: Any) -> str:
                return "" if ref is None else (str(ref[1]) if ref[0] == "c" else f"${ref[1]}")

            parts.append(
                r(e[1])
                if e[0] == "i"
                else ":".join([r(e[1]), r(e[2])] + ([r(e[3])] if e[3] is not None else []))
            )
        return f"Subtensor[{', '.join(parts)}]"

    def make_node(self, x: Variable, *bounds: Variable) -> Apply:
        from .shape_ops import static_int

        def known(r: Any) -> int | None:
            # a symbolic bound read from static sizes (x[: x.shape[0] - 1]) is known too, as
            # PyTensor's; it stays an input, so a graph rebuilt on other sizes recomputes it
            return None if r is None else r[1] if r[0] == "c" else static_int(bounds[r[1]])

        shape: list[int | None] = []
        for d, e in enumerate(self.idx):
            if e[0] == "s":
                n = x.type.shape[d]
                ends = [known(r) for r in e[1:]]
                if (
                    n is not None
                    and ends[2] != 0
                    and all(r is None or k is not None for r, k in zip(e[1:], ends))
                ):
                    shape.append(len(range(n)[slice(*ends)]))
                else:
                    shape.append(None)
        shape.extend(x.type.shape[len(self.idx) :])
        return Apply(self, [x, *bounds], [TensorType(x.dtype, tuple(shape))])

    def python_index(self, bounds: list[Any]) -> tuple:
        return python_index(self.idx, bounds)

    def region(self, x: np.ndarray, bounds: list[Any]) -> np.ndarray:
        """``x[idx]`` as a view of ``x`` (a 0-d one too, which writes can go through), the
        index checked: a zero step raises ``ValueError``, an index out of range ``IndexError``."""
        index = self.python_index(list(bounds))
        for s in index:
            if isinstance(s, slice) and s.step == 0:
                raise ValueError(f"{self}: slice step cannot be zero")
        try:
            return x[index + (Ellipsis,)]
        except (IndexError, OverflowError) as e:
            # A uint64 index beyond int64 overflows numpy's conversion: it is out of bounds too.
            raise IndexError(f"{self}: {e} (input shape {x.shape}, index {index})") from None

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [self.region(inputs[0], list(inputs[1:]))]


def index_ref(v: Any, what: str, inputs: list[Variable]) -> Any:
    """The ref of an int or slice bound ``v``: ``None``, ``("c", int)`` for a constant, or
    ``("v", k)`` for a symbolic int scalar, appended to ``inputs`` as its k-th."""
    if v is None:
        return None
    if as_int(v) is not None:
        return ("c", as_int(v))
    sv = as_tensor_variable(v)
    if isinstance(sv, Constant) and sv.ndim == 0 and is_int(sv.dtype):
        return ("c", int(sv.data))
    if sv.ndim != 0 or not is_int(sv.dtype):
        raise TypeError(
            f"index {what} must be an int or a symbolic int scalar, got {sv.type}"
            " (index arrays go in an entry of their own: x[ivec], x[:, ivec]); cast a float"
            " first, e.g. ft.cast(i, 'int64')"
        )
    inputs.append(sv)
    return ("v", len(inputs) - 1)


def getitem(x: Variable, key: Any) -> Variable:
    """``x[key]`` for ints, slices, ``None`` (new axis), ``...`` and int index arrays
    (advanced indexing, `AdvancedSubtensor`)."""
    from .advanced_subtensor import advanced_getitem, index_width, is_advanced
    from .shape_ops import with_new_axes

    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    n_real = sum(index_width(k) for k in key if k is not None and k is not Ellipsis)
    if n_real > x.ndim:
        raise IndexError(f"too many indices for a tensor of ndim {x.ndim}: {key!r}")
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        # An ellipsis of no dims stays: between two index arrays it still parts them, as a
        # slice would (numpy then puts their dims first).
        key = key[:i] + ((slice(None),) * (x.ndim - n_real) or (Ellipsis,)) + key[i + 1 :]
    if is_advanced(key):
        return advanced_getitem(x, key)
    key = tuple(k for k in key if k is not Ellipsis)
    # Output positions of the new axes: ints remove a dim, slices keep one, None adds one.
    new_axes, pos = [], 0
    for k in key:
        if k is None:
            new_axes.append(pos)
            pos += 1
        elif isinstance(k, slice):
            pos += 1
    key = tuple(k for k in key if k is not None)
    bounds: list[Variable] = []

    def ref(v: Any, what: str) -> Any:
        return index_ref(v, what, bounds)

    idx = []
    for k in key:
        if isinstance(k, slice):
            idx.append(("s", ref(k.start, "start"), ref(k.stop, "stop"), ref(k.step, "step")))
            if idx[-1][3] == ("c", 0):
                raise ValueError("slice step cannot be zero")
        else:
            idx.append(("i", ref(k, "entry")))
    # Constant int indices are checked against known sizes now, not at run time.
    for d, e in enumerate(idx):
        n = x.type.shape[d]
        if e[0] == "i" and e[1][0] == "c" and n is not None and not -n <= e[1][1] < n:
            raise IndexError(f"index {e[1][1]} is out of bounds for axis {d} with size {n}")
    while idx and idx[-1] == ("s", None, None, None):
        idx.pop()
    out = Subtensor(tuple(idx))(x, *bounds) if idx else x
    return with_new_axes(out, new_axes) if new_axes else out


def slice_at_axis(sl: slice, axis: int) -> tuple:
    """PyTensor's (and numpy's internal) ``slice_at_axis``: the index applying ``sl`` on dim
    ``axis`` and taking every other dim whole, ``(slice(None),) * axis + (sl, ...)``; a
    negative ``axis`` counts from the end, ``(..., sl) + (slice(None),) * (-axis - 1)``."""
    if not isinstance(sl, slice):
        raise TypeError(f"slice_at_axis: sl must be a slice, got {sl!r}; e.g. slice(None, 1)")
    axis = int_arg(axis, "slice_at_axis", "axis")
    if axis < 0:
        return (Ellipsis, sl) + (slice(None),) * (-axis - 1)
    return (slice(None),) * axis + (sl, Ellipsis)


def make_slice(slc: Any, stop: Any = None, step: Any = None) -> slice:
    """Theano's and PyTensor's ``make_slice(start, stop=None, step=None)`` (or
    ``make_slice(a_slice)``): the slice of those bounds, each None, an int or a symbolic int
    scalar, to index with (``x[make_slice(i, j)]``, as ``x[i:j]``). One argument is the
    *start* (PyTensor's ``make_slice(2)`` is ``2:``, not Python's ``slice(2)``). It is a Python
    slice: fncache's indexing takes symbolic bounds in one (PyTensor's symbolic slice variable,
    which its own indexing no longer takes, is not provided)."""
    if isinstance(slc, slice):
        if stop is not None or step is not None:
            raise TypeError(
                f"make_slice: given a slice ({slc!r}), stop and step must be None (got "
                f"{stop!r}, {step!r}); give the bounds in the slice"
            )
        slc, stop, step = slc.start, slc.stop, slc.step
    for what, v in (("start", slc), ("stop", stop), ("step", step)):
        index_ref(v, f"{what} of make_slice", [])
    return slice(slc, stop, step)
