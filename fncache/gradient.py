"""``fncache.gradient``, where Theano and PyTensor users look for it: ``from fncache.gradient
import grad, jacobian, disconnected_grad`` (the front end's gradient API, README "Gradients":
``fncache/tensor/gradient.py``, ``grad_markers.py``, ``verify_grad.py``).

``DisconnectedInputError`` (a ValueError) and ``NullTypeGradError`` (a NotImplementedError and
a TypeError) are the errors ``grad`` raises for a variable the cost does not depend on and for
an op without a gradient, under Theano/PyTensor's names; ``GradientError`` is ``verify_grad``'s
failure, ``numeric_grad`` its finite differences. ``DisconnectedType`` is PyTensor's type of a
disconnected gradient, ``NullType`` its type of an undefined one (``null_type`` and
``disconnected_type`` are instances of them), and ``grad_undefined``/``grad_not_implemented``
make an undefined gradient for an op's rule to return (``grad_markers.py``, with the marker
ops); ``pullback`` and ``pushforward`` are PyTensor 3's names for ``Lop`` and ``Rop``;
``subgraph_grad`` takes a gradient one part of a graph at a time."""

from __future__ import annotations

from .errors import DisconnectedInputError, GradientError, NullTypeGradError
from .tensor.grad_markers import (
    DisconnectedGrad,
    DisconnectedType,
    GradClip,
    GradScale,
    NullType,
    UndefinedGrad,
    ZeroGrad,
    consider_constant,
    disconnected_grad,
    disconnected_type,
    grad_clip,
    grad_not_implemented,
    grad_scale,
    grad_undefined,
    null_type,
    undefined_grad,
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
from .tensor.verify_grad import numeric_grad, verify_grad

__all__ = [
    "DisconnectedGrad",
    "DisconnectedInputError",
    "DisconnectedType",
    "GradClip",
    "GradScale",
    "GradientError",
    "NullType",
    "NullTypeGradError",
    "Lop",
    "Rop",
    "UndefinedGrad",
    "ZeroGrad",
    "consider_constant",
    "disconnected_grad",
    "disconnected_type",
    "grad",
    "grad_clip",
    "grad_not_implemented",
    "grad_scale",
    "grad_undefined",
    "hessian",
    "hessian_vector_product",
    "jacobian",
    "null_type",
    "numeric_grad",
    "pullback",
    "pushforward",
    "subgraph_grad",
    "undefined_grad",
    "verify_grad",
    "zero_grad",
]
