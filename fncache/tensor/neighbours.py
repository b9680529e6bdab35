"""Theano's ``tensor.nnet.neighbours``: ``images2neibs`` cuts the last two dims of a 4-d
tensor into (possibly overlapping) neighbourhoods, one flattened neighbourhood a row;
``neibs2images`` puts non-overlapping ones back.

Two ops share one numpy engine: ``Images2Neibs`` gathers, for every neighbourhood position,
the image entry it reads (or a zero, outside a padded image), and ``Neibs2Images`` is its
transpose, adding every entry back where it was read (the gradient of each is the other, so
overlapping neighbourhoods and gradients of gradients need nothing else). The gather is one
fancy-indexing of the image by a row map and a column map computed from the mode. Both run as
Python steps in every back end."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .basic import as_tensor_variable
from .conv import int_pair
from .creation import zeros
from .gradient import register_grad

__all__ = ["Images2Neibs", "Neibs2Images", "images2neibs", "neibs2images"]

MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")
Pair = tuple[int, int]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _NeibsOp(Op):
    """The props and the index maps the two ops share."""

    __props__ = ("neib_shape", "neib_step", "mode")

    def __init__(self, neib_shape: Pair, neib_step: Pair, mode: str) -> None:
        what = type(self).__name__
        self.neib_shape = int_pair(neib_shape, what, "neib_shape", 1, "(2, 2)")
        self.neib_step = int_pair(neib_step, what, "neib_step", 1, "(1, 1)")
        self.mode = str(mode)

    def grid(self, size: int, d: int) -> int:
        """The neighbourhoods along image dim ``d`` (0 rows, 1 cols) of ``size`` entries, checked
        as Theano checks them."""
        k, step, mode = self.neib_shape[d], self.neib_step[d], self.mode
        what = ("rows", "cols")[d]
        if mode == "wrap_centered":
            if k % 2 != 1 or size < k:
                raise ValueError(
                    f"images2neibs: mode='wrap_centered' needs an odd neib_shape no larger than the "
                    f"images; neib_shape {what} is {k}, the images have {size} {what}"
                )
            return _ceil_div(size, step)
        span = {"valid": size, "ignore_borders": size, "half": size - k % 2 + k, "full": size + 2 * k - 2}[
            mode
        ]
        if size < k or (mode != "ignore_borders" and (span - k) % step != 0):
            raise ValueError(
                f"images2neibs: neib_shape {what} {k}, neib_step {step} and the images' {size} {what} "
                f"are not consistent in mode={mode!r}: the neighbourhoods must cover the "
                f"{'padded ' if mode in ('half', 'full') else ''}images exactly (use "
                "mode='ignore_borders' to drop the rest)"
            )
        return (span - k) // step + 1

    def index_map(self, size: int, d: int) -> np.ndarray:
        """``(grid, neib_shape[d])``: the image entry each neighbourhood tap reads along dim
        ``d``; ``size`` (one past the end: a zero) where it reads padding."""
        k, step = self.neib_shape[d], self.neib_step[d]
        shift = {"wrap_centered": k // 2, "half": k // 2, "full": k - 1}.get(self.mode, 0)
        idx = np.arange(self.grid(size, d))[:, None] * step + np.arange(k)[None, :] - shift
        if self.mode == "wrap_centered":
            return idx % size
        return np.where((idx < 0) | (idx >= size), size, idx)

    def maps(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The row and column maps broadcast to ``(grid_rows, grid_cols, k_rows, k_cols)``."""
        rows, cols = self.index_map(shape[2], 0), self.index_map(shape[3], 1)
        return rows[:, None, :, None], cols[None, :, None, :]


class Images2Neibs(_NeibsOp):
    """``(batch * channels * grid_rows * grid_cols, k_rows * k_cols)``: each neighbourhood of
    each image, flattened row by row, in the order batch, channel, grid row, grid col."""

    def make_node(self, x: Variable) -> Apply:
        # static sizes give the number of neighbourhoods (grid checks them as a run would)
        b, c, r, k = x.type.shape
        n = None if None in (b, c, r, k) else b * c * self.grid(r, 0) * self.grid(k, 1)
        return Apply(self, [x], [TensorType(x.dtype, (n, self.neib_shape[0] * self.neib_shape[1]))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        (x,) = inputs
        rows, cols = self.maps(x.shape)
        padded = np.zeros(x.shape[:2] + (x.shape[2] + 1, x.shape[3] + 1), dtype=x.dtype)
        padded[:, :, : x.shape[2], : x.shape[3]] = x
        out = padded[:, :, rows, cols]  # (batch, channels, grid_rows, grid_cols, k_rows, k_cols)
        return [np.ascontiguousarray(out.reshape(-1, self.neib_shape[0] * self.neib_shape[1]))]


class Neibs2Images(_NeibsOp):
    """The transpose of ``Images2Neibs``: an image of ``x_like``'s shape (only the shape is
    read) where each entry is the sum of the neighbourhood entries that read it."""

    def make_node(self, neibs: Variable, x_like: Variable) -> Apply:
        return Apply(self, [neibs, x_like], [TensorType(neibs.dtype, x_like.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        neibs, x_like = inputs
        shape = x_like.shape
        rows, cols = self.maps(shape)
        want = (shape[0] * shape[1] * rows.shape[0] * cols.shape[1], self.neib_shape[0] * self.neib_shape[1])
        if neibs.shape != want:
            raise ValueError(
                f"neibs2images: the neighbourhoods have shape {neibs.shape}, but images of shape "
                f"{shape} cut by neib_shape={self.neib_shape}, neib_step={self.neib_step} in "
                f"mode={self.mode!r} give {want}"
            )
        # every tap's entry in its image padded by one zero row and col (where padding is read),
        # in the order of the neighbourhoods' entries; overlapping taps add up (bincount)
        padded = (shape[2] + 1, shape[3] + 1)
        rr, cc = np.broadcast_arrays(rows, cols)
        taps = (rr * padded[1] + cc).ravel()
        images = np.arange(shape[0] * shape[1])[:, None] * (padded[0] * padded[1])
        acc = np.bincount(
            (images + taps).ravel(), weights=neibs.ravel(), minlength=images.size * padded[0] * padded[1]
        )
        out = acc.reshape(shape[:2] + padded).astype(node.outputs[0].dtype, copy=False)
        return [np.ascontiguousarray(out[:, :, : shape[2], : shape[3]])]


@register_grad(Images2Neibs)
def _images2neibs_grad(node: Apply, out_grads: list) -> list:
    op = node.op
    return [Neibs2Images(op.neib_shape, op.neib_step, op.mode)(out_grads[0], node.inputs[0])]


@register_grad(Neibs2Images)
def _neibs2images_grad(node: Apply, out_grads: list) -> list:
    op = node.op
    return [Images2Neibs(op.neib_shape, op.neib_step, op.mode)(out_grads[0]), None]


def _ten4(x: Any, fn: str, what: str) -> Variable:
    v = as_tensor_variable(x)
    if v.ndim != 4 or is_complex(v.dtype):
        raise TypeError(
            f"{fn}: {what} must be a real 4-d tensor (batch, channels, rows, cols), got {v.type} "
            f"({v.ndim} dims)"
        )
    return v


def _mode(mode: Any, fn: str, allowed: tuple[str, ...]) -> str:
    if mode not in allowed:
        raise ValueError(f"{fn}: mode must be one of {', '.join(map(repr, allowed))}, got {mode!r}")
    return str(mode)


def images2neibs(ten4: Any, neib_shape: Any, neib_step: Any = None, mode: str = "valid") -> Variable:
    """Theano's ``images2neibs``: the neighbourhoods of ``neib_shape = (rows, cols)`` every
    ``neib_step`` (default ``neib_shape``: no overlap) of each ``(rows, cols)`` image of
    ``ten4`` (``(batch, channels, rows, cols)``), one flattened neighbourhood a row: a matrix
    ``(batch * channels * grid_rows * grid_cols, rows * cols)``.

    ``mode``: ``'valid'`` (the neighbourhoods must tile the image exactly, else ``ValueError``
    when the function runs), ``'ignore_borders'`` (what does not fill one is dropped),
    ``'half'`` and ``'full'`` (``'valid'`` on the image padded with ``rows // 2``, resp.
    ``rows - 1``, zeros each side), ``'wrap_centered'`` (odd neighbourhoods centred on every
    ``neib_step``-th entry, the image wrapped around its borders)."""
    x = _ten4(ten4, "images2neibs", "ten4")
    shape = int_pair(neib_shape, "images2neibs", "neib_shape", 1, "(2, 2)")
    step = shape if neib_step is None else int_pair(neib_step, "images2neibs", "neib_step", 1, "(1, 1)")
    op = Images2Neibs(shape, step, _mode(mode, "images2neibs", MODES))
    sizes = x.type.shape[2:]
    for d in range(2):
        if sizes[d] is not None:
            op.grid(sizes[d], d)  # type: ignore[arg-type]
    return op(x)


def neibs2images(neibs: Any, neib_shape: Any, original_shape: Any, mode: str = "valid") -> Variable:
    """Theano's ``neibs2images``: the inverse of ``images2neibs(images, neib_shape, mode=mode)``
    (non-overlapping neighbourhoods): the images of ``original_shape`` (4 sizes, ints or
    symbolic, e.g. ``x.shape``) rebuilt from the rows of ``neibs``. With ``'ignore_borders'``
    the entries no neighbourhood covered are 0."""
    n = as_tensor_variable(neibs)
    if n.ndim != 2:
        raise TypeError(f"neibs2images: neibs must be a matrix (one neighbourhood a row), got {n.type}")
    shape = int_pair(neib_shape, "neibs2images", "neib_shape", 1, "(2, 2)")
    op = Neibs2Images(shape, shape, _mode(mode, "neibs2images", ("valid", "ignore_borders")))
    dims = as_tensor_variable(original_shape)
    if dims.type.shape != (4,) or dims.dtype[:3] not in ("int", "uin"):
        raise TypeError(
            f"neibs2images: original_shape must be the images' 4 sizes (ints or x.shape), got "
            f"{original_shape!r}"
        )
    # only its shape is read: the int8 zeros carry the images' shape into the op
    return op(n, zeros(dims, dtype="int8"))
