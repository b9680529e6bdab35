"""Theano's softmax and cross-entropy spellings of ``tensor.nnet`` (``softmax_with_bias``,
``crossentropy_softmax_1hot``, ``crossentropy_softmax_1hot_with_bias``,
``crossentropy_categorical_1hot``, ``softmax_graph``) and PyTensor's ``tensor.special``
``softmax``/``log_softmax`` (whose ``axis`` defaults to every axis). Theano has fused ops for
them; here each is :func:`.softmax.softmax` and :func:`.nnet.categorical_crossentropy` (which
takes the log-softmax of a softmax, so the losses stay finite), so the optimizer fuses them as
it fuses those."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Variable
from .basic import as_tensor_variable
from .elemwise import elemwise
from .nnet import categorical_crossentropy
from .shape_ops import dimshuffle
from .softmax import log_softmax as _log_softmax
from .softmax import softmax as _softmax

__all__ = [
    "softmax_with_bias",
    "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias",
    "crossentropy_categorical_1hot",
    "softmax_graph",
    "special_softmax",
    "special_log_softmax",
]


def _matrix(x: Any, fn: str, what: str) -> Variable:
    v = as_tensor_variable(x)
    if v.ndim != 2:
        raise TypeError(
            f"{fn}: {what} must be a matrix (one row per example, one column per class), got "
            f"{v.type} ({v.ndim} dims)"
        )
    return v


def _class_indices(y: Any, fn: str) -> Variable:
    v = as_tensor_variable(y)
    if v.ndim != 1 or v.dtype[:3] not in ("int", "uin"):
        raise TypeError(
            f"{fn}: the targets must be a vector of integer class indices (one per row), got "
            f"{v.type}; cast float labels with ft.cast(y, 'int64')"
        )
    return v


def softmax_with_bias(x: Any, b: Any) -> Variable:
    """``softmax(x + b)`` of each row of the matrix ``x``, ``b`` a vector of one bias per column."""
    v = _matrix(x, "softmax_with_bias", "x")
    bias = as_tensor_variable(b)
    if bias.ndim != 1:
        raise TypeError(
            f"softmax_with_bias: b must be a vector (one bias per column of x), got {bias.type} "
            f"({bias.ndim} dims)"
        )
    return _softmax(elemwise("add", v, dimshuffle(bias, ["x", 0])), axis=-1)


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple[Variable, Variable]:
    """``(nll, sm)``: ``sm = softmax_with_bias(x, b)`` and ``nll[i] = -log(sm[i, y_idx[i]])``
    (computed from the log-softmax: finite for any ``x``). A class index outside
    ``[0, n_classes)`` raises ``AssertionError`` when the function runs."""
    y = _class_indices(y_idx, "crossentropy_softmax_1hot_with_bias")
    sm = softmax_with_bias(x, b)
    return categorical_crossentropy(sm, y), sm


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> tuple[Variable, Variable]:
    """``(nll, sm)``: :func:`crossentropy_softmax_1hot_with_bias` without a bias."""
    y = _class_indices(y_idx, "crossentropy_softmax_1hot")
    sm = _softmax(_matrix(x, "crossentropy_softmax_1hot", "x"), axis=-1)
    return categorical_crossentropy(sm, y), sm


def crossentropy_categorical_1hot(coding_dist: Any, true_one_of_n: Any) -> Variable:
    """``-log(coding_dist[i, true_one_of_n[i]])`` for each row ``i`` (Theano's op of that name:
    :func:`.nnet.categorical_crossentropy` with a vector of class indices)."""
    p = _matrix(coding_dist, "crossentropy_categorical_1hot", "coding_dist")
    return categorical_crossentropy(p, _class_indices(true_one_of_n, "crossentropy_categorical_1hot"))


def softmax_graph(c: Any) -> Variable:
    """Theano's ``softmax_graph``: the softmax of the last axis written with elementwise ops
    and a sum (here with the maximum subtracted first, so large inputs do not overflow)."""
    return _softmax(c, axis=-1)


def special_softmax(c: Any, axis: Any = None) -> Variable:
    """PyTensor's ``tensor.special.softmax(c, axis=None)``: ``axis=None`` normalizes over every
    entry (``ft.softmax`` and ``ft.nnet.softmax`` default to the last axis)."""
    return _softmax(c, axis=axis)


def special_log_softmax(c: Any, axis: Any = None) -> Variable:
    """PyTensor's ``tensor.special.log_softmax(c, axis=None)`` (``axis=None``: every entry)."""
    return _log_softmax(c, axis=axis)
