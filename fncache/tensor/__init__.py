"""The symbolic front end (``from fncache import tensor as ft``): SPEC §1."""
from __future__ import annotations

from typing import Any

from ..graph.types import TensorType
from .basic import *  # noqa: F401,F403
from .basic import __all__ as _basic_all
from .basic import as_tensor_variable, constant, matrix, scalar, tensor, vector
from .blas import dot
from .elemwise import cast, elemwise
from .gradient import grad, hessian, jacobian
from .pyop import as_op, assert_op
from .reduction import all, any, argmax, argmin, max, mean, min, prod, std, sum, var
from .shape_ops import concatenate, flatten, reshape, stack, transpose, dimshuffle, shape
from .variable import TensorConstant, TensorVariable


def _unary(name: str, doc: str):
    def f(x: Any) -> TensorVariable:
        return elemwise(name, x)
    f.__name__ = name
    f.__doc__ = doc
    return f


def _binary(name: str, doc: str):
    def f(a: Any, b: Any) -> TensorVariable:
        return elemwise(name, a, b)
    f.__name__ = name
    f.__doc__ = doc
    return f


exp = _unary("exp", "Elementwise e**x.")
log = _unary("log", "Elementwise natural logarithm.")
log1p = _unary("log1p", "Elementwise log(1 + x), accurate for small x.")
expm1 = _unary("expm1", "Elementwise exp(x) - 1, accurate for small x.")
log2 = _unary("log2", "Elementwise base-2 logarithm.")
log10 = _unary("log10", "Elementwise base-10 logarithm.")
sqrt = _unary("sqrt", "Elementwise square root.")
sqr = _unary("sqr", "Elementwise x * x.")
sin = _unary("sin", "Elementwise sine.")
cos = _unary("cos", "Elementwise cosine.")
tan = _unary("tan", "Elementwise tangent.")
arcsin = _unary("arcsin", "Elementwise inverse sine.")
arccos = _unary("arccos", "Elementwise inverse cosine.")
arctan = _unary("arctan", "Elementwise inverse tangent.")
sinh = _unary("sinh", "Elementwise hyperbolic sine.")
cosh = _unary("cosh", "Elementwise hyperbolic cosine.")
tanh = _unary("tanh", "Elementwise hyperbolic tangent.")
sigmoid = _unary("sigmoid", "Elementwise 1 / (1 + exp(-x)).")
softplus = _unary("softplus", "Elementwise log(1 + exp(x)), without overflow.")
erf = _unary("erf", "Elementwise error function.")
abs = _unary("abs", "Elementwise absolute value.")
sign = _unary("sign", "Elementwise sign (-1, 0, 1; NaN stays NaN).")
floor = _unary("floor", "Elementwise floor.")
ceil = _unary("ceil", "Elementwise ceiling.")
round = _unary("round", "Elementwise round half to even (numpy.round).")
isnan = _unary("isnan", "Elementwise NaN test.")
isinf = _unary("isinf", "Elementwise infinity test.")
eq = _binary("eq", "Elementwise ==.")
neq = _binary("neq", "Elementwise !=.")
maximum = _binary("maximum", "Elementwise maximum (NaN propagates, as numpy.maximum).")
minimum = _binary("minimum", "Elementwise minimum (NaN propagates, as numpy.minimum).")
pow = _binary("pow", "Elementwise a ** b.")


def switch(cond: Any, a: Any, b: Any) -> TensorVariable:
    """Elementwise ``a`` where ``cond`` else ``b`` (numpy.where)."""
    return elemwise("switch", cond, a, b)


where = switch


def clip(x: Any, lo: Any, hi: Any) -> TensorVariable:
    """``x`` limited to [lo, hi] (numpy.clip)."""
    return minimum(maximum(x, lo), hi)


__all__ = list(_basic_all) + [
    "TensorType", "TensorVariable", "TensorConstant", "as_tensor_variable", "constant", "tensor",
    "scalar", "vector", "matrix", "dot", "cast", "as_op", "assert_op", "all", "any", "argmax",
    "argmin", "max", "mean", "min", "prod", "std", "sum", "var", "concatenate", "flatten",
    "reshape", "stack", "transpose", "dimshuffle", "shape", "exp", "log", "log1p", "expm1",
    "log2", "log10", "sqrt", "sqr", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "tanh", "sigmoid", "softplus", "erf", "abs", "sign", "floor", "ceil", "round",
    "isnan", "isinf", "eq", "neq", "maximum", "minimum", "pow", "switch", "where", "clip",
    "grad", "jacobian", "hessian"]
