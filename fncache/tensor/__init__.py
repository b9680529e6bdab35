"""The symbolic front end (``from fncache import tensor as ft``): README "Compiling"."""

from __future__ import annotations

import builtins
import copyreg
import importlib
import sys
import types
from typing import Any, Callable

import numpy as np

from ..graph.types import TensorType, is_int
from .basic import *  # noqa: F401,F403
from .basic import __all__ as _basic_all
from .basic import as_tensor_variable, constant, matrix, scalar, tensor, vector
from .blas import dot
from .elemwise import as_strong, cast
from .elemwise import elemwise as _elemwise
from .grad_markers import consider_constant, disconnected_grad, grad_clip, grad_scale, zero_grad
from .gradient import Lop, Rop, grad, hessian, hessian_vector_product, jacobian
from .verify_grad import verify_grad
from .pyop import as_op, assert_op
from .reduction import all, any, argmax, argmin, max, mean, min, prod, std, sum, var
from .softmax import log_softmax, logsumexp, softmax
from .ifelse import ifelse
from .array_ops import (
    addbroadcast,
    argsort,
    cross,
    cumprod,
    cumsum,
    diagonal,
    expand_dims,
    inner,
    matmul,
    matvec,
    outer,
    patternbroadcast,
    repeat,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    sort,
    specify_broadcastable,
    specify_shape,
    squeeze,
    tensordot,
    tile,
    trace,
    unbroadcast,
    vecdot,
    vdot,
    vecmat,
)
from .inc_subtensor import inc_subtensor, set_subtensor
from . import nlinalg, slinalg
from .nlinalg import det, eig, eigh, eigvalsh, inv, lstsq, matrix_dot, matrix_inverse, matrix_power
from .nlinalg import pinv, qr, slogdet, svd, tensorinv, tensorsolve
from .slinalg import cholesky, kron, solve, solve_triangular
from .extra_ops import (
    allclose,
    batched_dot,
    batched_tensordot,
    broadcast_arrays,
    choose,
    fmax,
    fmin,
    heaviside,
    isneginf,
    isposinf,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    piecewise,
    select,
    default,
    diag,
    fill_diagonal,
    isclose,
    tri,
    broadcast_to,
    diff,
    fill,
    identity_like,
    ceil_intdiv,
    divmod,
    iround,
    largest,
    nan_to_num,
    roll,
    round,
    round_half_away_from_zero,
    round_half_to_even,
    sgn,
    smallest,
    tril,
    triu,
)
from .advanced_subtensor import take, take_along_axis
from .creation import (
    alloc,
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from .shape_ops import concatenate, flatten, reshape, stack, swapaxes, transpose, dimshuffle, shape
from .variable import TensorConstant, TensorVariable
from .op_call import op_call


def _named(f: Callable, name: str, doc: str) -> Callable:
    """``f`` as the function ``name``: its traceback frames and the errors that name the
    function the user called (``entry_point``) read ``name``, not the factory's ``f``."""
    f.__code__ = f.__code__.replace(co_name=name, co_qualname=name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


def _unary(name: str, doc: str):
    def f(x: Any) -> TensorVariable:
        return _elemwise(name, x)

    return op_call(_named(f, name, doc))


def _binary(name: str, doc: str):
    def f(a: Any, b: Any) -> TensorVariable:
        return _elemwise(name, a, b)

    return op_call(_named(f, name, doc))


def _variadic(name: str, doc: str):
    """PyTensor's ``add``/``mul``: any number of operands (one: itself), combined left to right
    as the operator would, Python numbers among them weak wherever they stand (``add(2, x)``
    is ``2 + x``)."""

    def f(*terms: Any) -> TensorVariable:
        if not terms:
            raise TypeError(f"{name}: give at least one operand")
        out, *rest = as_strong(terms, tuple(range(len(terms))), name)
        for t in rest:
            out = _elemwise(name, out, t)
        return out

    return op_call(_named(f, name, doc))


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
isnan = _unary("isnan", "Elementwise NaN test.")
isinf = _unary("isinf", "Elementwise infinity test.")
eq = _binary("eq", "Elementwise ==.")
neq = _binary("neq", "Elementwise !=.")
maximum = _binary("maximum", "Elementwise maximum (NaN propagates, as numpy.maximum).")
minimum = _binary("minimum", "Elementwise minimum (NaN propagates, as numpy.minimum).")
pow = _binary("pow", "Elementwise a ** b.")

# numpy ufuncs beyond the core set (fncache/tensor/scalar_math.py)
arctan2 = _binary("arctan2", "Elementwise angle of the point (b, a) (numpy.arctan2).")
hypot = _binary("hypot", "Elementwise sqrt(a**2 + b**2) without overflow (numpy.hypot).")
fmod = _binary("fmod", "Elementwise C remainder, with the sign of a (numpy.fmod).")
copysign = _binary("copysign", "Elementwise |a| with the sign of b (numpy.copysign).")
nextafter = _binary("nextafter", "Elementwise next float after a towards b (numpy.nextafter).")
logaddexp = _binary("logaddexp", "Elementwise log(exp(a) + exp(b)) without overflow.")
left_shift = _binary("lshift", "Elementwise a << b for integers (numpy.left_shift).")
right_shift = _binary("rshift", "Elementwise a >> b for integers (numpy.right_shift).")
arcsinh = _unary("arcsinh", "Elementwise inverse hyperbolic sine.")
arccosh = _unary("arccosh", "Elementwise inverse hyperbolic cosine.")
arctanh = _unary("arctanh", "Elementwise inverse hyperbolic tangent.")
exp2 = _unary("exp2", "Elementwise 2**x.")
deg2rad = _unary("deg2rad", "Elementwise degrees to radians.")
rad2deg = _unary("rad2deg", "Elementwise radians to degrees.")
erfc = _unary("erfc", "Elementwise 1 - erf(x), accurate for large x.")
erfinv = _unary("erfinv", "Elementwise inverse error function (+-inf at +-1, NaN outside).")
gammaln = _unary("gammaln", "Elementwise log|gamma(x)| (+inf at 0 and the negative integers).")
gamma = _unary(
    "gamma", "Elementwise gamma function (C's tgamma: +-inf at +-0, NaN at the negative integers)."
)
erfcx = _unary("erfcx", "Elementwise scaled complementary error function exp(x**2) * erfc(x).")
jv = _binary("jv", "Elementwise Bessel function of the first kind of real order v at x: jv(v, x).")
j0 = _unary("j0", "Elementwise Bessel function of the first kind of order 0.")
j1 = _unary("j1", "Elementwise Bessel function of the first kind of order 1.")
i0 = _unary("i0", "Elementwise modified Bessel function of the first kind of order 0.")
i1 = _unary("i1", "Elementwise modified Bessel function of the first kind of order 1.")
i0e = _unary("i0e", "Elementwise exponentially scaled i0: exp(-|x|) * i0(x).")
i1e = _unary("i1e", "Elementwise exponentially scaled i1: exp(-|x|) * i1(x).")
erfcinv = _unary(
    "erfcinv", "Elementwise inverse complementary error function (+inf at 0, -inf at 2, NaN outside)."
)
gammainc = _binary(
    "gammainc", "Elementwise regularized lower incomplete gamma function P(k, x) (scipy's gammainc)."
)
gammaincc = _binary(
    "gammaincc", "Elementwise regularized upper incomplete gamma function Q(k, x) = 1 - P(k, x)."
)
gammaincinv = _binary("gammaincinv", "Elementwise x with gammainc(k, x) = y: gammaincinv(k, y).")
gammainccinv = _binary("gammainccinv", "Elementwise x with gammaincc(k, x) = y: gammainccinv(k, y).")


@op_call
def betainc(a: Any, b: Any, x: Any) -> TensorVariable:
    """Elementwise regularized incomplete beta function I_x(a, b) (scipy's betainc)."""
    return _elemwise("betainc", a, b, x)


@op_call
def betaincinv(a: Any, b: Any, y: Any) -> TensorVariable:
    """Elementwise x with betainc(a, b, x) = y (scipy's betaincinv)."""
    return _elemwise("betaincinv", a, b, y)


iv = _binary("iv", "Elementwise modified Bessel function of the first kind of real order v: iv(v, x).")
ive = _binary("ive", "Elementwise exponentially scaled iv: iv(v, x) * exp(-|x|).")
kv = _binary("kv", "Elementwise modified Bessel function of the second kind of real order v: kv(v, x).")
kve = _binary("kve", "Elementwise exponentially scaled kv: kv(v, x) * exp(x).")


def kn(n: Any, x: Any) -> TensorVariable:
    """PyTensor's ``kn``: the modified Bessel function of the second kind of order ``n``,
    elementwise: :func:`kv` of that order. A non-integer order is kept, as PyTensor's ``kn``
    does; scipy.special.kn truncates it to an integer (with a RuntimeWarning)."""
    return _elemwise("kv", n, x)


yv = _binary("yv", "Elementwise Bessel function of the second kind of real order v: yv(v, x).")
owens_t = _binary("owens_t", "Elementwise Owen's T function T(h, a) (scipy.special.owens_t).")
#: scipy's jve(v, x) is jv(v, x) * exp(-|imag(x)|): jv itself for real x
jve = jv
cbrt = _unary("cbrt", "Elementwise cube root (numpy.cbrt; negative for negative x).")
logaddexp2 = _binary("logaddexp2", "Elementwise log2(2**a + 2**b) without overflow (numpy.logaddexp2).")
#: scipy's expit, PyTensor's other name of the logistic sigmoid
expit = sigmoid


def ldexp(x: Any, i: Any) -> TensorVariable:
    """Elementwise ``x * 2**i`` for an integer tensor ``i`` (numpy.ldexp), exact wherever the
    result is a normal float."""
    i = as_tensor_variable(i)
    if not (is_int(i.dtype) or i.dtype == "bool"):
        raise TypeError(
            f"ldexp: the exponent i must be an integer tensor (numpy.ldexp takes no other), got "
            f"dtype {i.dtype}; cast it, e.g. ldexp(x, cast(i, 'int32'))"
        )
    return _elemwise("ldexp", x, i)


def frexp(x: Any) -> tuple[TensorVariable, TensorVariable]:
    """numpy.frexp: the mantissa ``m`` (0.5 <= |m| < 1, or 0) and the int32 exponent ``e`` with
    ``x == m * 2**e``, elementwise; inf and NaN give themselves and exponent 0."""
    return _elemwise("frexp_mantissa", x), _elemwise("frexp_exponent", x)


trunc = _unary("trunc", "Elementwise rounding towards zero (integers stay integers).")
square = _unary("square", "Elementwise x * x (numpy.square).")
reciprocal = _unary("reciprocal", "Elementwise 1 / x (integer division for integers).")
isfinite = _unary("isfinite", "Elementwise test for a finite value (not NaN, not inf).")
signbit = _unary("signbit", "Elementwise test of the sign bit (True for -0.0 and negatives).")

real = _unary("real", "Elementwise real part (x itself for real dtypes).")
imag = _unary("imag", "Elementwise imaginary part (zeros for real dtypes).")
conj = _unary("conj", "Elementwise complex conjugate (x itself for real dtypes).")
angle = _unary("angle", "Elementwise argument of a complex number, in radians (numpy.angle).")


@op_call
def complex(real: Any, imag: Any) -> TensorVariable:
    """PyTensor's ``complex``: elementwise the complex number ``real + imag * 1j`` of two real
    tensors (broadcast), each part kept exactly (an infinite part makes no NaN of the other);
    complex64 for float32 parts, complex128 for float64 (numpy's promotion of the parts with
    complex64). Complex values are computed by numpy; a real cost of them has gradients in the
    parts (``fc.grad``: the gradient of a complex value is ``dC/dRe + i dC/dIm``)."""
    for name, part in (("real", real), ("imag", imag)):
        v = as_tensor_variable(part)
        if v.dtype.startswith("complex"):
            raise TypeError(
                f"complex: the {name} part must be a real tensor, got {v.type}; give ft.real(z) and "
                "ft.imag(z) of a complex z"
            )
    return _elemwise("complex", real, imag)


@op_call
def complex_from_polar(abs: Any, angle: Any) -> TensorVariable:
    """PyTensor's ``complex_from_polar``: elementwise ``abs * (cos(angle) + sin(angle) * 1j)``,
    by :func:`complex` of its two real parts."""
    r, theta = as_tensor_variable(abs), as_tensor_variable(angle)
    return complex(r * _elemwise("cos", theta), r * _elemwise("sin", theta))


# The named operator functions (PyTensor's spellings of the Python operators).
add = _variadic("add", "Elementwise a + b + ... of one or more operands.")
sub = _binary("sub", "Elementwise a - b.")
mul = _variadic("mul", "Elementwise a * b * ... of one or more operands.")
true_div = _binary("true_div", "Elementwise a / b (true division).")
int_div = _binary("floor_div", "Elementwise a // b (floor division, as Python and numpy).")
mod = _binary("mod", "Elementwise a % b (Python's sign convention, as numpy.remainder).")
neg = _unary("neg", "Elementwise -x.")
lt = _binary("lt", "Elementwise a < b.")
gt = _binary("gt", "Elementwise a > b.")
le = _binary("le", "Elementwise a <= b.")
ge = _binary("ge", "Elementwise a >= b.")
and_ = _binary("and_", "Elementwise a & b (logical for bool, bitwise for integers).")
or_ = _binary("or_", "Elementwise a | b (logical for bool, bitwise for integers).")
xor = _binary("xor", "Elementwise a ^ b (logical for bool, bitwise for integers).")
invert = _unary("invert", "Elementwise ~x (logical not for bool, bitwise for integers).")
# numpy's names for the same ops
floor_div = int_div
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
bitwise_not = invert
absolute = abs
abs_ = abs  # Theano's name (PyTensor 3 has abs only)
negative = neg
subtract = sub
multiply = mul
divide = true_div
power = pow
greater = gt
greater_equal = ge
less = lt
less_equal = le
equal = eq
not_equal = neq
rint = round
degrees = rad2deg
radians = deg2rad
conjugate = conj
dense_dot = dot


@op_call
def tensor_copy(x: Any) -> TensorVariable:
    """PyTensor's ``tensor_copy``: a copy of ``x`` (``x.copy()``; the result never shares its
    memory)."""
    return _elemwise("identity", x)


#: PyTensor's other name of ``tensor_copy``
identity = tensor_copy


from . import nnet  # noqa: E402  (ft.nnet, after the names its functions stand beside)


@op_call
def switch(cond: Any, a: Any, b: Any) -> TensorVariable:
    """Elementwise ``a`` where ``cond`` else ``b`` (numpy.where)."""
    return _elemwise("switch", cond, a, b)


def where(cond: Any, ift: Any = None, iff: Any = None) -> Any:
    """numpy.where (the arguments named as PyTensor's): :func:`switch` of the three arguments;
    of ``cond`` alone, its :func:`nonzero` (a tuple of index vectors)."""
    if ift is None and iff is None:
        from .data_ops import nonzero

        return nonzero(cond)
    if ift is None or iff is None:
        raise TypeError("where: give both ift and iff (elementwise choice) or neither (the indices of cond)")
    return switch(cond, ift, iff)


second = fill  # PyTensor's name: b broadcast to a's shape


def _no_bound(x: Any, bound: Any, lower: bool) -> bool:
    """numpy 2's clip takes None for no bound, and drops a Python int bound an integer ``x``'s
    dtype cannot hold on the side where it clips nothing (``clip(uint8, -1, 300)`` is ``x``)."""
    if bound is None:
        return True
    dtype = str(getattr(x, "dtype", ""))
    # not type(bound): this package's submodule `type` takes that name here once imported
    if not isinstance(bound, int) or isinstance(bound, bool) or not is_int(dtype):
        return False
    info = np.iinfo(dtype)
    return bound < info.min if lower else bound > info.max


def _bounds_in_the_result_dtype(x: Any, lo: Any, hi: Any) -> tuple[Any, Any]:
    """The bounds, a Python number among them a constant of clip's result dtype: numpy's clip
    converts every operand to their common dtype (the numbers weak) before it compares, so a
    number must fit that dtype, not ``x``'s (``clip(int8_x, 300, 2.5)`` is 2.5 everywhere,
    ``clip(bool_x, -128, uint8_y)`` raises OverflowError), where the comparisons clip is made
    of would each meet ``x`` alone."""
    from . import scalar_ops as S

    def is_number(b: Any) -> bool:
        return isinstance(b, (builtins.int, builtins.float)) and not isinstance(
            b, (builtins.bool, np.generic)
        )

    numbers = [b for b in (lo, hi) if is_number(b)]
    if not numbers:
        return lo, hi
    typed = [as_tensor_variable(v).dtype for v in (x, lo, hi) if v is not None and not is_number(v)]
    dt = S.result_type(*typed, *numbers)
    out = []
    for b in (lo, hi):
        if is_number(b):
            with np.errstate(over="ignore"):  # numpy's: 1e300 is inf in float32
                c = constant(np.asarray(b, dtype=dt) if dt.kind == "f" else b, dtype=dt)
            c.tag.weak_number = b
            b = c
        out.append(b)
    return out[0], out[1]


@op_call
def clip(x: Any, lo: Any, hi: Any) -> TensorVariable:
    """``x`` limited to [lo, hi]: numpy.clip's value, ``minimum(maximum(x, lo), hi)``, NaN
    where any operand is NaN. The gradient goes to the one operand the value is taken from:
    ``x`` where ``lo <= x <= hi``, a bound only where the value is that bound and not ``x``
    (as PyTensor's ``clip``). At a tie the value is ``x`` itself, so ``clip(-0.0, 0.0, 0.0)``
    is -0.0 as in numpy (``minimum(maximum(...))`` would give the bound's zero). A bound of
    None, or a Python int beyond an integer ``x``'s dtype on the side it leaves alone, is no
    bound, as numpy 2's (the other side's raises OverflowError)."""
    if _no_bound(x, lo, lower=True):
        lo = None
    if _no_bound(x, hi, lower=False):
        hi = None
    lo, hi = _bounds_in_the_result_dtype(x, lo, hi)
    # value and gradient are the operand numpy's result equals (x at a tie, -0.0 kept), which
    # a switch states directly; maximum/minimum would take a tied zero's sign from the bound
    out = as_tensor_variable(x) if lo is None else switch(lt(x, lo) | isnan(lo), lo, x)
    if hi is None:
        return out
    to_hi = gt(x if lo is None else maximum(x, lo), hi) | isnan(hi)
    return switch(to_hi, hi, out)


#: PyTensor's constants (``pt.pi * x``, ``x[:, pt.newaxis]``): numpy's values as Python floats,
#: which an expression reads as constants of its own dtype, and None.
pi, e, inf, nan, euler_gamma, newaxis = np.pi, np.e, np.inf, np.nan, np.euler_gamma, None

__all__ = list(_basic_all) + [
    "pi",
    "e",
    "inf",
    "nan",
    "euler_gamma",
    "newaxis",
    "TensorType",
    "TensorVariable",
    "TensorConstant",
    "as_tensor_variable",
    "constant",
    "tensor",
    "scalar",
    "vector",
    "matrix",
    "dot",
    "cast",
    "as_op",
    "assert_op",
    "all",
    "any",
    "argmax",
    "argmin",
    "max",
    "mean",
    "min",
    "prod",
    "std",
    "sum",
    "var",
    "concatenate",
    "flatten",
    "reshape",
    "stack",
    "transpose",
    "swapaxes",
    "dimshuffle",
    "shape",
    "set_subtensor",
    "inc_subtensor",
    "take",
    "take_along_axis",
    "exp",
    "log",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "sqrt",
    "sqr",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "softplus",
    "erf",
    "abs",
    "abs_",
    "sign",
    "floor",
    "ceil",
    "round",
    "isnan",
    "isinf",
    "eq",
    "neq",
    "maximum",
    "minimum",
    "pow",
    "switch",
    "where",
    "clip",
    "grad",
    "jacobian",
    "hessian",
    "Lop",
    "Rop",
    "hessian_vector_product",
    "zero_grad",
    "disconnected_grad",
    "grad_clip",
    "grad_scale",
    "consider_constant",
    "verify_grad",
]

__all__ += [
    "arctan2",
    "hypot",
    "fmod",
    "copysign",
    "nextafter",
    "logaddexp",
    "left_shift",
    "right_shift",
    "arcsinh",
    "arccosh",
    "arctanh",
    "exp2",
    "deg2rad",
    "rad2deg",
    "erfc",
    "erfinv",
    "gammaln",
    "gamma",
    "erfcx",
    "jv",
    "j0",
    "j1",
    "i0",
    "i1",
    "i0e",
    "i1e",
    "erfcinv",
    "gammainc",
    "gammaincc",
    "gammaincinv",
    "gammainccinv",
    "betainc",
    "betaincinv",
    "iv",
    "ive",
    "kv",
    "kve",
    "kn",
    "yv",
    "jve",
    "owens_t",
    "cbrt",
    "logaddexp2",
    "expit",
    "ldexp",
    "frexp",
    "round_half_to_even",
    "round_half_away_from_zero",
    "trunc",
    "square",
    "reciprocal",
    "isfinite",
    "signbit",
    "add",
    "sub",
    "mul",
    "true_div",
    "int_div",
    "mod",
    "neg",
    "lt",
    "gt",
    "le",
    "ge",
    "and_",
    "or_",
    "xor",
    "invert",
    "real",
    "imag",
    "conj",
    "angle",
    "complex",
    "complex_from_polar",
    "softmax",
    "log_softmax",
    "logsumexp",
    "ifelse",
    "nnet",
    "signal",  # noqa: F405  (a module loaded when asked for)
    "sharedvar",  # noqa: F405  (a module loaded when asked for)
    "argsort",
    "cumprod",
    "cumsum",
    "expand_dims",
    "matmul",
    "vecdot",
    "vdot",
    "matvec",
    "vecmat",
    "outer",
    "inner",
    "repeat",
    "sort",
    "specify_shape",
    "specify_broadcastable",
    "addbroadcast",
    "unbroadcast",
    "patternbroadcast",
    "diagonal",
    "trace",
    "shape_padleft",
    "shape_padright",
    "shape_padaxis",
    "squeeze",
    "tensordot",
    "tile",
    "alloc",
    "arange",
    "eye",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
]

# linear algebra (fncache/tensor/nlinalg.py, slinalg.py) and the composed array functions
# (fncache/tensor/extra_ops.py)
__all__ += [
    "nlinalg",
    "slinalg",
    "matrix_inverse",
    "inv",
    "det",
    "slogdet",
    "pinv",
    "eigh",
    "eigvalsh",
    "eig",
    "svd",
    "qr",
    "lstsq",
    "matrix_power",
    "tensorinv",
    "tensorsolve",
    "matrix_dot",
    "cholesky",
    "solve",
    "solve_triangular",
    "kron",
    "roll",
    "diff",
    "tril",
    "triu",
    "broadcast_to",
    "broadcast_arrays",
    "nan_to_num",
    "sgn",
    "iround",
    "fill",
    "identity_like",
    "batched_dot",
    "batched_tensordot",
]

# numpy's and PyTensor's array functions composed from the ops above (fncache/tensor/arrange.py,
# grids.py, einsum.py, data_ops.py, stat_reductions.py, special.py, extra_ops.py)
__all__ += [
    "diag",
    "tri",
    "fill_diagonal",
    "choose",
    "select",
    "piecewise",
    "second",
    "isclose",
    "allclose",
    "floor_div",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "absolute",
    "negative",
    "subtract",
    "multiply",
    "divide",
    "power",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "rint",
    "degrees",
    "radians",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "fmax",
    "fmin",
    "heaviside",
    "isposinf",
    "isneginf",
    "cross",
    "largest",
    "smallest",
    "default",
    "conjugate",
    "dense_dot",
    "ceil_intdiv",
    "divmod",
    "empty",
    "empty_like",
    "tensor_copy",
    "identity",
]


#: Functions whose modules load on first use: every process pays for what ``import fncache``
#: loads, and a fresh process that only takes a function from the cache uses none of these.
_LAZY = {
    **dict.fromkeys(
        ("atleast_1d", "atleast_2d", "atleast_3d", "atleast_Nd", "column_stack", "dstack", "flip", "fliplr")
        + ("flipud", "horizontal_stack", "hstack", "join", "moveaxis", "pad", "rot90", "split", "stacklists")
        + ("vertical_stack", "vstack", "append", "ediff1d", "matrix_transpose", "broadcast_shape")
        + ("join_dims", "split_dims", "pack", "unpack", "concat_with_broadcast"),
        "arrange",
    ),
    **dict.fromkeys(
        ("bincount", "flatnonzero", "nonzero", "nonzero_values", "searchsorted", "unique"), "data_ops"
    ),
    "einsum": "einsum",
    **dict.fromkeys(("vectorize", "vectorize_graph"), "vectorize"),
    **dict.fromkeys(("bartlett", "geomspace", "linspace", "logspace", "meshgrid", "mgrid", "ogrid"), "grids"),
    **dict.fromkeys(
        ("average", "corrcoef", "count_nonzero", "cov", "max_and_argmax", "median", "nanargmax", "nanargmin")
        + ("nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin", "nanprod", "nanstd", "nansum", "nanvar")
        + ("nanmedian", "nanpercentile", "nanquantile", "percentile", "ptp", "quantile", "trapezoid"),
        "stat_reductions",
    ),
    **dict.fromkeys(("digitize", "histogram", "interp", "interpolate1d"), "binning"),
    "hyp2f1": "hyp2f1",
    "extract_diag": "linalg_extra",
    **dict.fromkeys(("make_slice", "slice_at_axis"), "subtensor"),
    **dict.fromkeys(("convolve", "correlate"), "convolve"),
    **dict.fromkeys(("argtopk", "topk", "topk_and_argtopk"), "topk"),
    **dict.fromkeys(
        ("compress", "fill_diagonal_offset", "ravel_multi_index", "to_one_hot", "unravel_index")
        + ("inverse_permutation", "permute_row_elements", "tril_indices", "triu_indices")
        + ("tril_indices_from", "triu_indices_from"),
        "index_ops",
    ),
    **dict.fromkeys(
        (
            "betaln",
            "chi2sf",
            "digamma",
            "gammal",
            "gammau",
            "log1mexp",
            "log1pexp",
            "logit",
            "polygamma",
            "psi",
            "sinc",
            "tri_gamma",
            "xlogy",
            "xlogy0",
            "xlog1py",
        ),
        "special",
    ),
    **dict.fromkeys(
        ("NotScalarConstantError", "get_scalar_constant_value", "get_underlying_scalar_constant_value")
        + ("get_vector_length",),
        "constant_value",
    ),
}
__all__ += sorted([*_LAZY, "xlogx"])
#: this package's modules that ``ft.<name>`` loads on first use
_MODULES = (
    "shared_randomstreams",
    "rng_mrg",
    "signal",
    "special",
    "sharedvar",
    "random",
    "math",
    "linalg",
    "type",
    "functional",
    "interpolate",
    "fft",
    "optimize",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    # ft.scan loads its op only when asked for: a graph without one never imports it, so
    # linking a function walks no graph for inner functions (runtime/compile.py)
    if name in ("scan", "until"):
        from .scan import scan, until

        globals().update(scan=scan, until=until)
        return globals()[name]
    if name == "xlogx":  # Theano's and PyTensor's module, callable as its function
        return importlib.import_module(f"{__name__}.xlogx")
    # modules loaded when asked for (PyTensor's ``pt.random.normal``, ``pt.linalg.norm``...;
    # math, type and random stay out of __all__: a star import would shadow Python's modules)
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'fncache.tensor' has no attribute {name!r}")


class _Package(types.ModuleType):
    """This package, whose names ``scan`` and ``einsum`` (and the other functions of ``_LAZY``)
    stay the functions while their modules load lazily, and whose ``sort`` and ``var`` stay the
    functions when Theano's modules ``fncache.tensor.sort`` and ``fncache.tensor.var`` are
    imported: importing a module would otherwise bind it to the package's name of the same
    spelling."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and (
            name == "scan"
            or name in _LAZY
            or not isinstance(self.__dict__.get(name, value), types.ModuleType)
        ):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
# Pickled by name as any module is: a user function that reads ``ft`` (an as_op's function or
# grad, a custom op's method) pickles by value and carries a reference to this package.
copyreg.pickle(_Package, lambda m: (importlib.import_module, (m.__name__,)))
