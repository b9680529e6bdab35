"""``fncache.gradient``, where Theano and PyTensor users look for it: ``from fncache.gradient
import grad, jacobian, disconnected_grad`` (the front end's gradient API, README "Gradients":
``fncache/tensor/gradient.py``, ``grad_markers.py``, ``verify_grad.py``).

``DisconnectedInputError`` (a ValueError) and ``NullTypeGradError`` (a NotImplementedError and
a TypeError) are the errors ``grad`` raises for a variable the cost does not depend on and for
an op without a gradient, under Theano/PyTensor's names. ``DisconnectedType`` is PyTensor's
type of a disconnected gradient, ``NullType`` its type of an undefined one (``grad_markers.py``);
``pullback`` and ``pushforward`` are PyTensor 3's names for ``Lop`` and ``Rop``; ``subgraph_grad``
takes a gradient one part of a graph at a time."""

from __future__ import annotations

from .errors import DisconnectedInputError, NullTypeGradError
from .tensor.grad_markers import (
    DisconnectedType,
    NullType,
    consider_constant,
    disconnected_grad,
    grad_clip,
    grad_scale,
    zero_grad,
)
from .tensor.gradient import (
    Lop,
    Rop,
    grad,
    hessian,
    hessian_vector_product,
    jacobian,
    pullback,
    pushforward,
    subgraph_grad,
)
from .tensor.verify_grad import verify_grad

__all__ = [
    "DisconnectedInputError",
    "DisconnectedType",
    "NullType",
    "NullTypeGradError",
    "Lop",
    "Rop",
    "consider_constant",
    "disconnected_grad",
    "grad",
    "grad_clip",
    "grad_scale",
    "hessian",
    "hessian_vector_product",
    "jacobian",
    "pullback",
    "pushforward",
    "subgraph_grad",
    "verify_grad",
    "zero_grad",
]
