"""Theano's two-level hierarchical softmax, ``ft.nnet.h_softmax``: the ``n_outputs`` outputs are
cut into ``n_classes`` classes of ``n_outputs_per_class`` consecutive outputs; a first softmax
gives the probability of each class, a second (one per class, over that class's outputs) the
probability of each output given its class, and an output's probability is the product.

Built from the graph's products, softmaxes and indexing only, so it fuses, runs in every back
end and differentiates without a rule of its own. With a target, only the target's class is
evaluated in the second layer (its weights gathered per example and applied by one batched
product), as Theano's ``sparse_block_dot`` does."""

from __future__ import annotations

from typing import Any

from ..graph.args import int_arg
from ..graph.basic import Variable
from .basic import as_tensor_variable
from .array_ops import tensordot
from .blas import dot
from .creation import arange
from .elemwise import elemwise
from .extra_ops import batched_dot
from .pyop import check_value
from .reduction import all as all_
from .softmax import softmax

__all__ = ["h_softmax"]


def _check_sizes(n_outputs: Any, n_classes: Any, n_outputs_per_class: Any) -> tuple[int, int, int]:
    n_outputs, n_classes, n_outputs_per_class = (
        int_arg(v, "h_softmax", name, minimum=1)
        for name, v in (
            ("n_outputs", n_outputs),
            ("n_classes", n_classes),
            ("n_outputs_per_class", n_outputs_per_class),
        )
    )
    if n_classes * n_outputs_per_class < n_outputs:
        raise ValueError(
            f"h_softmax: n_classes * n_outputs_per_class ({n_classes} * {n_outputs_per_class}) must be "
            f">= n_outputs ({n_outputs}); give more classes or more outputs per class"
        )
    return n_outputs, n_classes, n_outputs_per_class


def _operand(v: Any, ndim: int, name: str, layout: str) -> Variable:
    t = as_tensor_variable(v)
    if t.ndim != ndim:
        raise TypeError(f"h_softmax: {name} must be a {ndim}-d tensor {layout}, got {t.type} ({t.ndim} dims)")
    return t


def h_softmax(
    x: Any,
    batch_size: Any,
    n_outputs: int,
    n_classes: int,
    n_outputs_per_class: int,
    W1: Any,
    b1: Any,
    W2: Any,
    b2: Any,
    target: Any = None,
) -> Variable:
    """Theano's ``h_softmax``: ``x`` is ``(batch_size, n_features)``, ``W1``
    ``(n_features, n_classes)``, ``b1`` ``(n_classes,)``, ``W2``
    ``(n_classes, n_features, n_outputs_per_class)`` and ``b2``
    ``(n_classes, n_outputs_per_class)``. Output ``k`` belongs to class
    ``k // n_outputs_per_class``.

    Without ``target``: the probabilities of all outputs, ``(batch_size, n_outputs)`` (the
    outputs past ``n_outputs`` in the last class are dropped, as Theano drops them; their
    probability is not given to the others). With ``target`` (integer, ``(batch_size,)`` or
    ``(batch_size, 1)``): the probability of each example's target output, ``(batch_size,)``; a
    target outside ``[0, n_outputs)`` is an error when the function runs."""
    n_outputs, n_classes, n_outputs_per_class = _check_sizes(n_outputs, n_classes, n_outputs_per_class)
    x = _operand(x, 2, "x", "(batch_size, n_features)")
    W1 = _operand(W1, 2, "W1", "(n_features, n_classes)")
    b1 = _operand(b1, 1, "b1", "(n_classes,)")
    W2 = _operand(W2, 3, "W2", "(n_classes, n_features, n_outputs_per_class)")
    b2 = _operand(b2, 2, "b2", "(n_classes, n_outputs_per_class)")
    for name, v, d, want in (
        ("W1", W1, 1, n_classes),
        ("b1", b1, 0, n_classes),
        ("W2", W2, 0, n_classes),
        ("W2", W2, 2, n_outputs_per_class),
        ("b2", b2, 0, n_classes),
        ("b2", b2, 1, n_outputs_per_class),
    ):
        if v.type.shape[d] is not None and v.type.shape[d] != want:
            raise ValueError(f"h_softmax: {name} {v.type} has {v.type.shape[d]} in dim {d}, expected {want}")
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        # every class's second layer at once: (batch, n_classes, n_outputs_per_class)
        per_class = tensordot(x, W2, axes=(1, 1)) + b2
        output_probs = softmax(per_class.reshape((-1, n_outputs_per_class)))
        output_probs = output_probs.reshape((batch_size, n_classes, n_outputs_per_class))
        output_probs = class_probs.dimshuffle(0, 1, "x") * output_probs
        return output_probs.reshape((batch_size, n_classes * n_outputs_per_class))[:, :n_outputs]
    t = as_tensor_variable(target)
    if t.ndim not in (1, 2) or t.dtype[:3] not in ("int", "uin"):
        raise TypeError(
            f"h_softmax: target must be integer output indices of shape (batch_size,) or (batch_size, 1), "
            f"got {t.type}; cast float labels with ft.cast(target, 'int64')"
        )
    t = t.flatten()
    ok = all_(elemwise("and_", elemwise("ge", t, 0), elemwise("lt", t, n_outputs)))
    t = check_value(
        t,
        ok,
        f"h_softmax: a target is outside [0, n_outputs) = [0, {n_outputs}), target = {{0}}; give output indices",
        t,
    )
    target_classes = t // n_outputs_per_class
    target_outputs = t % n_outputs_per_class
    # each example's class: its second-layer weights and biases gathered, one batched product
    activations = batched_dot(x, W2[target_classes]) + b2[target_classes]
    rows = arange(batch_size)
    output_probs = softmax(activations)[rows, target_outputs]
    return class_probs[rows, target_classes] * output_probs
