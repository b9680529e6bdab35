"""Theano's and PyTensor's elementwise activations ``selu`` and ``softsign``
(``ft.nnet.selu``, ``ft.nnet.softsign``), and PyTensor's ``sigmoid_binary_crossentropy``: each
a short chain of elementwise ops, so it fuses into the surrounding C loop and differentiates
through the ops' own rules."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Variable
from ..graph.types import is_float, upcast_float
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise


__all__ = ["selu", "softsign", "sigmoid_binary_crossentropy"]


def float_tensor(x: Any) -> Variable:
    """``x`` as a tensor of a float dtype (an integer or bool one upcast as numpy's ``exp``
    would: the activations' results are fractions)."""
    v = as_tensor_variable(x)
    return v if is_float(v.dtype) else cast(v, upcast_float(v.dtype))


#: The constants of Klambauer et al.'s self-normalizing units, as Theano spells them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Variable:
    """Scaled exponential linear unit: ``scale * x`` where ``x > 0``, else
    ``scale * alpha * expm1(x)`` (Theano's ``scale * elu(x, alpha)``), in ``x``'s float dtype."""
    v = float_tensor(x)
    scale, alpha = constant(SELU_SCALE, dtype=v.dtype), constant(SELU_SCALE * SELU_ALPHA, dtype=v.dtype)
    neg = elemwise("mul", alpha, elemwise("expm1", v))
    return elemwise("switch", elemwise("gt", v, 0), elemwise("mul", scale, v), neg)


def softsign(x: Any) -> Variable:
    """``x / (1 + |x|)``, in ``x``'s float dtype."""
    v = float_tensor(x)
    return elemwise("true_div", v, elemwise("add", constant(1, dtype=v.dtype), elemwise("abs", v)))


def sigmoid_binary_crossentropy(output: Any, target: Any) -> Variable:
    """PyTensor's binary cross-entropy of ``sigmoid(output)`` with ``target`` (probabilities in
    ``[0, 1]``), from the logits ``output``: ``target * softplus(-output) + (1 - target) *
    softplus(output)``, finite for any ``output``; its gradients are ``sigmoid(output) - target``
    and ``-output``."""
    z, t = float_tensor(output), as_tensor_variable(target)
    return elemwise(
        "add",
        elemwise("mul", t, elemwise("softplus", elemwise("neg", z))),
        elemwise("mul", elemwise("sub", 1, t), elemwise("softplus", z)),
    )
