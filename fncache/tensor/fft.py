"""PyTensor's ``pytensor.tensor.fft``: ``rfft`` and ``irfft`` of real batches, the complex
values as a last dim of two (real and imaginary parts), as PyTensor's ops store them.

``RFFTOp`` and ``IRFFTOp`` run numpy's ``rfftn``/``irfftn`` over every dim but the first
(the batch), the inverse without numpy's ``1/n`` (the functions ``rfft``/``irfft`` apply
``norm``). Their gradients are each other, the frequencies between the first and the last
unique one weighted as PyTensor's rules weight them (they stand for a positive and a negative
frequency each).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex, is_float, is_int
from .basic import as_tensor_variable
from .elemwise import as_float64, cast, elemwise
from .gradient import register_grad
from .inc_subtensor import set_subtensor
from .reduction import prod
from .shape_ops import as_shape_vector, constant_entries, dim_sizes, shape

__all__ = ["IRFFTOp", "RFFTOp", "irfft", "irfft_op", "rfft", "rfft_op"]

_NORMS = (None, "ortho", "no_norm")


def _sizes(s: Any, what: str) -> Variable:
    v = as_shape_vector(s, what) if isinstance(s, list) else as_tensor_variable(s)
    if v.ndim != 1 or not is_int(v.dtype):
        raise TypeError(f"{what}: the transform sizes s must be an int vector, got {v.type}")
    return v


def _real_input(a: Any, what: str, least: int, takes: str) -> Variable:
    """``a`` as a float tensor of ``least`` or more dims (integers and bools in float64)."""
    v = as_tensor_variable(a)
    if is_complex(v.dtype):
        raise TypeError(
            f"{what}: takes real values, got {v.type}; give real and imaginary parts as a last dim of 2"
        )
    if v.ndim < least:
        raise TypeError(f"{what}: input must have {least} or more dims ({takes}), got {v.type}")
    return v if is_float(v.dtype) else as_float64(what, v)[0]


def _transformed(s: Variable, ndim: int, half: bool) -> tuple:
    """The static sizes of a transform of sizes ``s`` over ``ndim`` dims: ``s``'s constant
    entries (the last halved plus one for a real forward transform), None elsewhere."""
    known = constant_entries(s)
    if known is None or len(known) != ndim:
        return (None,) * ndim
    last = known[-1] // 2 + 1 if half and known[-1] is not None else known[-1]
    return tuple(known[:-1]) + (last,)


class RFFTOp(Op):
    """numpy's ``rfftn`` over every dim of ``a`` but the first, of sizes ``s``: the complex
    result as a last dim of (real, imaginary)."""

    __props__ = ()

    def make_node(self, a: Any, s: Any = None) -> Apply:
        a = _real_input(a, "rfft", 2, "the first one the batch")
        s = _sizes(dim_sizes(a)[1:] if s is None else s, "rfft")
        out = TensorType(a.dtype, (a.type.shape[0],) + _transformed(s, a.ndim - 1, half=True) + (2,))
        return Apply(self, [a, s], [out])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, s = inputs
        axes = tuple(range(a.ndim - len(s), a.ndim))
        res = np.fft.rfftn(a, s=tuple(int(n) for n in s), axes=axes)
        return [np.stack([res.real, res.imag], axis=-1).astype(a.dtype)]


class IRFFTOp(Op):
    """numpy's ``irfftn`` (times the transform's size: no normalization) over every dim of
    ``a`` but the first and the last (real, imaginary) one, to sizes ``s``."""

    __props__ = ()

    def make_node(self, a: Any, s: Any = None) -> Apply:
        a = _real_input(a, "irfft", 3, "the first one the batch, the last the real and imaginary parts")
        if s is None:
            sizes = shape(a)[1:-1]
            s = set_subtensor(sizes[-1], (sizes[-1] - 1) * 2)
        s = _sizes(s, "irfft")
        out = TensorType(a.dtype, (a.type.shape[0],) + _transformed(s, a.ndim - 2, half=False))
        return Apply(self, [a, s], [out])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        a, s = inputs
        if a.shape[-1] != 2:
            raise ValueError(
                f"irfft: the last dim holds the real and imaginary parts (2), got shape {a.shape}"
            )
        sizes = tuple(int(n) for n in s)
        axes = tuple(range(a.ndim - 1 - len(sizes), a.ndim - 1))
        res = np.fft.irfftn(a[..., 0] + 1j * a[..., 1], s=sizes, axes=axes)
        return [(res * np.prod(sizes)).astype(a.dtype)]


rfft_op = RFFTOp()
irfft_op = IRFFTOp()


def _scale_paired(g: Variable, s: Variable, factor: float) -> Variable:
    """``g`` with the frequencies ``1 .. ceil(n / 2) - 1`` of the last transformed dim (each
    standing for a positive and a negative one) times ``factor``."""
    n = s[-1]
    paired = slice(1, elemwise("add", elemwise("floor_div", n, 2), elemwise("mod", n, 2)))
    idx = (slice(None),) * (g.ndim - 2) + (paired, slice(None))
    return set_subtensor(g[idx], g[idx] * factor)


@register_grad(RFFTOp)
def _rfft_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    s = node.inputs[1]
    return [irfft_op(_scale_paired(g, s, 0.5), s), None]


@register_grad(IRFFTOp)
def _irfft_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    s = node.inputs[1]
    return [_scale_paired(rfft_op(g, s), s, 2.0), None]


def _norm(norm: Any, what: str) -> Any:
    if norm not in _NORMS:
        raise ValueError(f"{what}: norm must be None, 'ortho' or 'no_norm', got {norm!r}")
    return norm


def rfft(inp: Any, norm: str | None = None) -> Variable:
    """PyTensor's ``rfft``: the FFTs of the real inputs ``inp[i]`` (``inp`` of shape
    ``(m, ..., n)``), of shape ``(m, ..., n // 2 + 1, 2)`` (real and imaginary parts). ``norm``:
    None (numpy's: the inverse alone divides by the size), ``'ortho'`` (both by its square
    root) or ``'no_norm'``."""
    norm = _norm(norm, "rfft")
    a = _real_input(inp, "rfft", 2, "the first one the batch")
    s = _sizes(dim_sizes(a)[1:], "rfft")  # ints where known: the result's static sizes
    out = rfft_op(a, s)
    if norm == "ortho":
        out = out / elemwise("sqrt", cast(prod(s), a.dtype))
    return out


def irfft(inp: Any, norm: str | None = None, is_odd: bool = False) -> Variable:
    """PyTensor's ``irfft``: the real inverse FFTs of ``inp`` (shape ``(m, ..., n // 2 + 1,
    2)``), of shape ``(m, ..., n)``: ``n`` is even, or odd with ``is_odd=True``. ``norm`` as
    :func:`rfft`'s."""
    norm = _norm(norm, "irfft")
    if is_odd not in (True, False):
        raise ValueError(f"irfft: is_odd must be True or False, got {is_odd!r}")
    a = _real_input(inp, "irfft", 3, "the first one the batch, the last the real and imaginary parts")
    sizes = dim_sizes(a)[1:-1]  # ints where known: the result's static sizes
    s = _sizes(sizes[:-1] + [(sizes[-1] - 1) * 2 + int(is_odd)], "irfft")
    out = irfft_op(a, s)
    if norm is None:
        out = out / cast(prod(s), a.dtype)
    elif norm == "ortho":
        out = out / elemwise("sqrt", cast(prod(s), a.dtype))
    return out
