"""The gradient rules of fncache's ops (registered with `gradient.register_grad`).

A rule returns gradients shaped like the op's (broadcast) output where that is simplest; the
reverse walk sums them back to each input's shape and casts them to its dtype. ``None`` is a
zero gradient: comparisons, rounding, integer results and index inputs have none.
Subgradients follow Theano/PyTensor: ``abs`` uses ``sign`` (0 at 0), ``maximum``/``minimum``
give the gradient to the first operand where it equals the result and to the second elsewhere,
and ``max``/``min`` to every element equal to the result.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..config import config
from ..errors import NullTypeGradError
from ..graph.basic import Apply, Constant, Variable, substitute
from ..graph.types import TensorType, is_complex, is_float, is_inexact
from .array_ops import (
    BroadcastTensorDot,
    CumOp,
    MatMul,
    Repeat,
    CheckAxis,
    Sort,
    SpecifyShape,
    TensorDot,
    Tile,
    Unbroadcast,
    cumprod,
    conj_swap_last,
    cumsum,
    matmul,
    specify_broadcastable,
    swap_last,
)
from .array_ops import tensordot
from .advanced_subtensor import (
    AdvancedIncSubtensor,
    AdvancedSetGrad,
    AdvancedSubtensor,
    AdvancedSubtensorGrad,
)
from .basic import constant
from .conv import ConvForward, ConvGradInputs, ConvGradWeights
from .blas import Dot, dot
from .creation import Alloc, alloc, eye
from .data_ops import BinCount
from .elemwise import Elemwise, cast, elemwise, single_step
from .grad_markers import (
    DisconnectedGrad,
    GradClip,
    GradScale,
    NullType,
    UndefinedGrad,
    ZeroGrad,
    grad_undefined,
    is_null_gradient,
)
from .ifelse import ifelse
from .ifelse_op import IfElse
from .grad_ops import ReducedSize, RepeatGrad, SortGrad, SubtensorGrad, SumToShape, ZerosSum
from .gradient import broadcast_like, inner_gradients, grad, real_inner, register_grad, sum_static_broadcast
from .gradient import conj_grad, register_branch_grad, user_gradients, zeros_like
from .extra_ops import tril, triu
from .gamma_shape import BetaincD2, GammaincDkk
from .jacobian_rows import JacobianRows, jacobian_rows
from .op_from_graph import OpFromGraph
from .nlinalg import CheckValue, Cofactors, CofactorsGrad, Det, MatrixInverse, SlogDet
from .pyop import CheckAndRaise, Print, PythonOp
from .random import COUNT_DISTS, RandomDraw, RandomVariable
from .reduction import ArgReduce, Reduce, keep_reduced_dims
from .reduction import prod as prod_
from .reduction import sum as sum_
from .scan import Scan
from .signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from .scan_grad import scan_grad
from .scalar_ops import Composite
from .special import betaln, psi, tri_gamma
from .shape_ops import Concatenate, DimShuffle, MakeVector, Reshape, Shape, dimshuffle, flatten, reshape
from .shape_ops import dim_sizes, shape
from .slinalg import Cholesky, Solve, SolveTriangular
from . import linalg_grad  # noqa: F401  (registers the rules of the factorizations)
from . import softmax_xent_grad  # noqa: F401  (registers the softmax cross-entropy shortcuts)
from .inc_subtensor import IncSubtensor
from .subtensor import Subtensor

__all__: list[str] = []


def _e(name: str, *args: Any) -> Variable:
    return elemwise(name, *args)


# -- elementwise: d out / d in for each scalar op ---------------------------------------------
# Each entry: (inputs, output, output gradient) -> one gradient (or None) per input.
ScalarRule = Callable[[list, Variable, Variable], list]
_NONE1: ScalarRule = lambda a, z, g: [None]  # noqa: E731
_NONE2: ScalarRule = lambda a, z, g: [None, None]  # noqa: E731


def _switch(a: list, z: Variable, g: Variable) -> list:
    """Each branch gets ``g`` where it is picked. A branch a constant condition never picks
    gets none, not zeros: a broadcast (``fill``, ``switch(True, value, model)``) reads its
    model for the shape only, and zeros sent there would be multiplied by the model's own
    derivative, NaN or inf where the model's value is (a second derivative at such values)."""
    cond = a[0]
    picks = np.asarray(cond.data) if isinstance(cond, Constant) else None
    always = picks is not None and bool(picks.all())
    never = picks is not None and not picks.any()
    return [
        None,
        None if never else _e("switch", cond, g, 0),
        None if always else _e("switch", cond, 0, g),
    ]


def _power_less_one(x: Variable, y: Variable, z: Variable) -> Variable | None:
    """``x ** (y - 1)``, the factor of the derivative of ``z = x ** y`` in ``x``; None where it
    is 1. A constant exponent is taken down by one here, not in the graph: ``x ** 2``'s
    derivative is then ``2 * x`` (x ** 1 is x exactly) and ``x``'s own has no factor (x ** 0 is
    1 for every x, NaN and inf included), so a second derivative (a Hessian, a Hessian-vector
    product) of a square builds no power: ``x ** (y - 1)`` left a ``pow`` per element there."""
    if not (isinstance(y, Constant) and y.data.size >= 1 and y.data.dtype.kind in "iufc"):
        return _e("pow", x, y - 1)
    with np.errstate(all="ignore"):  # an unsigned 0 wraps, as the symbolic y - 1 does
        less = np.subtract(y.data, np.ones((), y.data.dtype))
    if np.all(less == 0):
        return None  # the gradient g * y already has z's shape and dtype
    if np.all(less == 1) and x.dtype == z.dtype and x.ndim == z.ndim:
        return x
    return _e("pow", x, constant(less))


def _pow(a: list, z: Variable, g: Variable) -> list:
    x, y = a
    if isinstance(y, Constant) and y.data.size >= 1 and np.all(y.data == -1):
        # x**-1 is reciprocal(x): the same gradient, -g * z**2, in which the rewrites recognise
        # the logistic function's terms (g * -1 * x**-2 is inf * 0 where x overflows)
        return [-g * _e("sqr", z), None]
    factor = _power_less_one(x, y, z)
    gx = g * y if factor is None else g * y * factor
    if not (isinstance(y, Constant) and np.all(y.data != 0)):
        # x**0 is constant: its gradient is 0, also at x == 0 where 0 * 0**-1 is NaN
        gx = _e("switch", _e("eq", y, 0), 0, gx)
    # log(x) * x**y is 0 * -inf at x == 0, where the derivative (of a limit) is taken as 0.
    gy = _e("switch", _e("eq", x, 0), 0, g * _e("log", x) * z)
    return [gx, gy]


def _max_min(a: list, z: Variable, g: Variable) -> list:
    # at a tie the first operand alone gets the gradient, so the two sum to the output's:
    # maximum(x, x) is x, its derivative 1
    first = _e("eq", z, a[0])
    return [g * first, g * _e("invert", first)]


def _over_x(v: Variable, x: Variable) -> Variable:
    """v / x for v one of j1, i1, i1e at x: all three go as x / 2 at 0, so the limit is 1/2."""
    return _e("switch", _e("eq", x, 0), 0.5, v / x)


def _order_grad(name: str, dx: Callable[[Variable, Variable, Variable], Variable]) -> ScalarRule:
    """The rule of a Bessel function ``name(v, x)``: ``dx(v, x, z)`` in x, and in the order v
    an undefined gradient where v is a float variable (refused where v depends on the variables
    differentiated, whose gradient would otherwise silently miss v's part)."""

    def rule(a: list, z: Variable, g: Variable) -> list:
        v, x = a
        dv = None
        if is_float(v.dtype) and not isinstance(v, Constant):
            dv = NullType(
                f"{name}(v, x) has no gradient in its order v, and v here is a float variable "
                f"({v.type}); give the order as a constant or an int tensor"
            )()
        return [dv, g * dx(v, x, z)]

    return rule


def _half_sum(name: str, sign: float) -> Callable[[Variable, Variable, Variable], Variable]:
    """(f_{v-1} + sign f_{v+1}) / 2: the derivative of J, Y (sign -1) and I (+1), and -K's."""

    def dx(v: Variable, x: Variable, z: Variable) -> Variable:
        return 0.5 * (_e(name, v - 1, x) + sign * _e(name, v + 1, x))

    return dx


_jv = _order_grad("jv", _half_sum("jv", -1.0))


def _owens_t(a: list, z: Variable, g: Variable) -> list:
    # dT/dh = -exp(-h^2 / 2) erf(a h / sqrt 2) / (2 sqrt(2 pi)), the integrand at a for dT/da
    h, s = a
    q = 1 + _e("sqr", s)
    dh = -_e("exp", -0.5 * _e("sqr", h)) * _e("erf", s * h / math.sqrt(2)) / (2 * math.sqrt(2 * math.pi))
    return [g * dh, g * _e("exp", -0.5 * _e("sqr", h) * q) / (2 * math.pi * q)]


def _xlog(c: Variable, v: Variable, log: str = "log") -> Variable:
    """c * log(v) (or log1p), 0 where c == 0: the power v**c of a density is 1 there, also at
    v == 0."""
    return _e("switch", _e("eq", c, 0), 0, c * _e(log, v))


def _gamma_density(k: Variable, x: Variable) -> Variable:
    """x**(k - 1) exp(-x) / gamma(k), the derivative of gammainc(k, x) in x."""
    return _e("exp", _xlog(k - 1, x) - x - _e("gammaln", k))


def _gammainc_inverse(sign: float) -> Callable[[list, Variable, Variable], list]:
    """The gradient of x = gammaincinv(k, y) (sign 1) or gammainccinv (sign -1) by the implicit
    function theorem: dx/dy = sign / density(k, x), and in k -dP(k, x)/dk / density(k, x) for
    both (P and Q = 1 - P have opposite derivatives in k and in x)."""

    def rule(a: list, z: Variable, g: Variable) -> list:
        dens = _gamma_density(a[0], z)
        return [-g * _e("gammainc_da", a[0], z) / dens, sign * g / dens]

    return rule


def _betainc(a: list, z: Variable, g: Variable) -> list:
    p, q, x = a
    return [g * _e("betainc_da", p, q, x), g * _e("betainc_db", p, q, x), g * _betainc_density(p, q, x)]


def _betainc_density(p: Variable, q: Variable, x: Variable) -> Variable:
    """x**(p - 1) (1 - x)**(q - 1) / B(p, q), the derivative of betainc(p, q, x) in x."""
    return _e("exp", _xlog(p - 1, x) + _xlog(q - 1, -x, "log1p") - betaln(p, q))


def _betaincinv(a: list, z: Variable, g: Variable) -> list:
    """x = betaincinv(p, q, y) by the implicit function theorem: dx/dy = 1 / density(x), and
    in p and q -dI/dp / density, -dI/dq / density at x."""
    p, q, _ = a
    inv = g / _betainc_density(p, q, z)
    return [-inv * _e("betainc_da", p, q, z), -inv * _e("betainc_db", p, q, z), inv]


def _scaled_density(dens: Variable, factor: Variable) -> Variable:
    """``dens * factor``, 0 where the density is (x at 0 or 1, where factor is infinite)."""
    return _e("switch", _e("eq", dens, 0), 0, dens * factor)


def _d_gamma_density_dk(k: Variable, x: Variable) -> Variable:
    """d/dk of ``x**(k - 1) exp(-x) / gamma(k)``: the derivative of gammainc_da in x."""
    return _scaled_density(_gamma_density(k, x), _e("log", x) - psi(k))


@register_grad(GammaincDkk)
def _gammainc_dkk(node: Apply, out_grads: list) -> list:
    """In x the density's second derivative in k, ``((log x - psi(k))**2 - psi1(k))`` times
    it; in k (a third derivative) undefined, refused where one is needed."""
    k, x = node.inputs
    why = (
        f"{node.op}, the second derivative of gammainc in k, has no gradient in k: the third "
        "derivative d3 gammainc / dk3 is not implemented; differentiate in k at most twice, "
        "differentiate the rest in x only, or take differences of the second derivative"
    )
    d = _e("log", x) - psi(k)
    return [NullType(why)(), out_grads[0] * _scaled_density(_gamma_density(k, x), d * d - tri_gamma(k))]


@register_grad(BetaincD2)
def _betainc_d2(node: Apply, out_grads: list) -> list:
    """In x the density times ``L_i L_j + C_ij`` (``L_0 = log x - psi(a) + psi(a + b)``, ``L_1
    = log(1 - x) - psi(b) + psi(a + b)``, ``C`` the second derivatives of ``-log B(a, b)``); in
    a and b (third derivatives) undefined, refused where one is needed."""
    p, q, x = node.inputs
    i, j = node.op.wrt
    both = psi(p + q)
    logs = [_e("log", x) - psi(p) + both, _e("log1p", -x) - psi(q) + both]
    c = tri_gamma(p + q) - [tri_gamma(p), 0, tri_gamma(q)][i + j]
    why = (
        f"{node.op}, the second derivative of betainc in {'ab'[i]} and {'ab'[j]}, has no gradient in "
        "a or b: third derivatives of betainc in its shapes are not implemented; differentiate in "
        "them at most twice, differentiate the rest in x only, or take differences of the second "
        "derivative"
    )
    dx = _scaled_density(_betainc_density(p, q, x), logs[i] * logs[j] + c)
    return [NullType(why)(), NullType(why)(), out_grads[0] * dx]


def _d_beta_density(p: Variable, q: Variable, x: Variable, log_part: Variable, shape: Variable) -> Variable:
    """d/dp (or d/dq) of betainc's density: ``log x - psi(p) + psi(p + q)`` (or ``log(1 - x) -
    psi(q) + psi(p + q)``) times it: the derivative of betainc_da (betainc_db) in x."""
    return _scaled_density(_betainc_density(p, q, x), log_part - psi(shape) + psi(p + q))


def _arctan2(a: list, z: Variable, g: Variable) -> list:
    y, x = a
    r2 = _e("sqr", x) + _e("sqr", y)
    return [g * x / r2, -g * y / r2]


SCALAR_GRADS: dict[str, ScalarRule] = {
    "add": lambda a, z, g: [g, g],
    "sub": lambda a, z, g: [g, -g],
    "mul": lambda a, z, g: [g * a[1], g * a[0]],
    "true_div": lambda a, z, g: [g / a[1], -g * a[0] / _e("sqr", a[1])],
    "floor_div": _NONE2,
    "mod": lambda a, z, g: [g, -g * _e("floor_div", a[0], a[1])],
    "pow": _pow,
    "neg": lambda a, z, g: [-g],
    "abs": lambda a, z, g: [g * _e("sign", a[0])],
    "exp": lambda a, z, g: [g * z],
    "log": lambda a, z, g: [g / a[0]],
    "log1p": lambda a, z, g: [g / (1 + a[0])],
    "expm1": lambda a, z, g: [g * (z + 1)],
    "log2": lambda a, z, g: [g / (a[0] * math.log(2.0))],
    "log10": lambda a, z, g: [g / (a[0] * math.log(10.0))],
    "sqrt": lambda a, z, g: [g / (2 * z)],
    "sqr": lambda a, z, g: [g * 2 * a[0]],
    "sin": lambda a, z, g: [g * _e("cos", a[0])],
    "cos": lambda a, z, g: [-g * _e("sin", a[0])],
    "tan": lambda a, z, g: [g * (1 + _e("sqr", z))],
    "arcsin": lambda a, z, g: [g / _e("sqrt", 1 - _e("sqr", a[0]))],
    "arccos": lambda a, z, g: [-g / _e("sqrt", 1 - _e("sqr", a[0]))],
    "arctan": lambda a, z, g: [g / (1 + _e("sqr", a[0]))],
    "sinh": lambda a, z, g: [g * _e("cosh", a[0])],
    "cosh": lambda a, z, g: [g * _e("sinh", a[0])],
    "tanh": lambda a, z, g: [g * (1 - _e("sqr", z))],
    "sigmoid": lambda a, z, g: [g * z * (1 - z)],
    "softplus": lambda a, z, g: [g * _e("sigmoid", a[0])],
    "erf": lambda a, z, g: [g * (2 / math.sqrt(math.pi)) * _e("exp", -_e("sqr", a[0]))],
    "maximum": _max_min,
    "minimum": _max_min,
    "switch": _switch,
    "identity": lambda a, z, g: [g],
    "arctan2": _arctan2,
    "hypot": lambda a, z, g: [g * a[0] / z, g * a[1] / z],
    # fmod(x, y) = x - trunc(x / y) * y, the quotient piecewise constant (as mod's floor)
    "fmod": lambda a, z, g: [g, -g * _e("trunc", a[0] / a[1])],
    # |x| with y's sign: x's sign times y's, 0 at x == 0 as abs; y only flips it
    "copysign": lambda a, z, g: [g * _e("sign", a[0]) * _e("copysign", 1.0, a[1]), None],
    "nextafter": lambda a, z, g: [g, None],  # x moved by one ulp
    "logaddexp": lambda a, z, g: [g * _e("exp", a[0] - z), g * _e("exp", a[1] - z)],
    "arcsinh": lambda a, z, g: [g / _e("sqrt", _e("sqr", a[0]) + 1)],
    "arccosh": lambda a, z, g: [g / _e("sqrt", _e("sqr", a[0]) - 1)],
    "arctanh": lambda a, z, g: [g / (1 - _e("sqr", a[0]))],
    "exp2": lambda a, z, g: [g * z * math.log(2.0)],
    "deg2rad": lambda a, z, g: [g * (math.pi / 180)],
    "rad2deg": lambda a, z, g: [g * (180 / math.pi)],
    "erfc": lambda a, z, g: [g * (-2 / math.sqrt(math.pi)) * _e("exp", -_e("sqr", a[0]))],
    "erfinv": lambda a, z, g: [g * (math.sqrt(math.pi) / 2) * _e("exp", _e("sqr", z))],
    "gammaln": lambda a, z, g: [g * psi(a[0])],
    "gamma": lambda a, z, g: [g * z * psi(a[0])],
    "erfcx": lambda a, z, g: [g * (2 * a[0] * z - 2 / math.sqrt(math.pi))],
    "jv": _jv,
    "erfcinv": lambda a, z, g: [g * (-math.sqrt(math.pi) / 2) * _e("exp", _e("sqr", z))],
    "gammainc": lambda a, z, g: [g * _e("gammainc_da", *a), g * _gamma_density(*a)],
    "gammaincc": lambda a, z, g: [-g * _e("gammainc_da", *a), -g * _gamma_density(*a)],
    "gammaincinv": _gammainc_inverse(1.0),
    "gammainccinv": _gammainc_inverse(-1.0),
    "gammainc_da": lambda a, z, g: [g * GammaincDkk()(*a), g * _d_gamma_density_dk(*a)],
    "betainc": _betainc,
    "betainc_da": lambda a, z, g: [
        g * BetaincD2((0, 0))(*a),
        g * BetaincD2((0, 1))(*a),
        g * _d_beta_density(*a, _e("log", a[2]), a[0]),
    ],
    "betainc_db": lambda a, z, g: [
        g * BetaincD2((0, 1))(*a),
        g * BetaincD2((1, 1))(*a),
        g * _d_beta_density(*a, _e("log1p", -a[2]), a[1]),
    ],
    "betaincinv": _betaincinv,
    "yv": _order_grad("yv", _half_sum("yv", -1.0)),
    "iv": _order_grad("iv", _half_sum("iv", 1.0)),
    "kv": _order_grad("kv", lambda v, x, z: -_half_sum("kv", 1.0)(v, x, z)),
    # d/dx I_v(x) exp(-|x|) = exp(-|x|) I_v'(x) - sign(x) I_v(x) exp(-|x|)
    "ive": _order_grad("ive", lambda v, x, z: _half_sum("ive", 1.0)(v, x, z) - _e("sign", x) * z),
    # d/dx K_v(x) exp(x) = exp(x) K_v'(x) + K_v(x) exp(x)
    "kve": _order_grad("kve", lambda v, x, z: z - _half_sum("kve", 1.0)(v, x, z)),
    "owens_t": _owens_t,
    "cbrt": lambda a, z, g: [g / (3 * _e("sqr", z))],
    "logaddexp2": lambda a, z, g: [g * _e("exp2", a[0] - z), g * _e("exp2", a[1] - z)],
    # x 2**i: 2**i in x (ldexp of the gradient, exact), the int exponent disconnected
    "ldexp": lambda a, z, g: [_e("ldexp", g, a[1]), None],
    # m = x 2**-e with e piecewise constant
    "frexp_mantissa": lambda a, z, g: [_e("ldexp", g, -_e("frexp_exponent", a[0]))],
    "j0": lambda a, z, g: [-g * _e("j1", a[0])],
    "j1": lambda a, z, g: [g * (_e("j0", a[0]) - _over_x(_e("j1", a[0]), a[0]))],
    "i0": lambda a, z, g: [g * _e("i1", a[0])],
    "i1": lambda a, z, g: [g * (_e("i0", a[0]) - _over_x(_e("i1", a[0]), a[0]))],
    # d/dx exp(-|x|) i_n(x) = exp(-|x|) i_n'(x) - sign(x) exp(-|x|) i_n(x)
    "i0e": lambda a, z, g: [g * (_e("i1e", a[0]) - _e("sign", a[0]) * z)],
    "i1e": lambda a, z, g: [g * (_e("i0e", a[0]) - _over_x(z, a[0]) - _e("sign", a[0]) * z)],
    "square": lambda a, z, g: [g * 2 * a[0]],
    "reciprocal": lambda a, z, g: [-g * _e("sqr", z)],
    # real inputs (complex ones have no gradient): real and conj are x, imag and angle constant
    "real": lambda a, z, g: [g],
    "conj": lambda a, z, g: [g],
}
for _name in ("lt", "le", "gt", "ge", "eq", "neq", "and_", "or_", "xor", "lshift", "rshift"):
    SCALAR_GRADS[_name] = _NONE2
for _name in (
    "invert",
    "sign",
    "floor",
    "ceil",
    "round",
    "round_half_away_from_zero",
    "trunc",
    "frexp_exponent",
    "isnan",
    "isinf",
    "isfinite",
    "signbit",
):
    SCALAR_GRADS[_name] = _NONE1
SCALAR_GRADS["imag"] = SCALAR_GRADS["angle"] = _NONE1

# -- elementwise, complex values: the gradient of x + iy is dC/dx + i dC/dy (gradient.py) ------
#: The ops complex-differentiable in each input, whose rules above hold for complex values as
#: g * f'(x); the gradient is g * conj(f'(x)), their rule's conj(rule(conj(g))).
HOLOMORPHIC = frozenset(
    """add sub mul true_div pow neg exp expm1 exp2 log log1p log2 log10 sqrt sqr square reciprocal
    sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arctanh sigmoid identity""".split()
)


def _abs_complex(a: list, z: Variable, g: Variable) -> list:
    # d|x + iy| is (x dx + y dy) / |z|: the gradient z / |z|, 0 at 0 (as abs's sign for reals)
    return [g * a[0] / (z + _e("eq", z, 0))]


def _angle_complex(a: list, z: Variable, g: Variable) -> list:
    # d atan2(y, x) is (x dy - y dx) / |z|**2: the gradient i z / |z|**2, 0 at 0
    r2 = _e("sqr", _e("abs", a[0]))
    return [g * 1j * a[0] / (r2 + _e("eq", r2, 0))]


def _sign_complex(a: list, z: Variable, g: Variable) -> list:
    # sign(x) = x / |x|: a step along x leaves it, one across turns it by step / |x|, so the
    # gradient is the part of g across the sign, (g - Re(conj(g) s) s) / |x|; 0 at 0 (as reals)
    r = _e("abs", a[0])
    across = g - _e("real", conj_grad(g) * z) * z
    return [_e("switch", _e("eq", r, 0), 0, across / (r + _e("eq", r, 0)))]


#: Rules for complex values where the op is not holomorphic (or is linear with real weights).
COMPLEX_SCALAR_GRADS: dict[str, ScalarRule] = {
    "real": lambda a, z, g: [g],
    "imag": lambda a, z, g: [_e("complex", constant(np.zeros((), g.dtype)), g)],
    "conj": lambda a, z, g: [_e("conj", g)],
    "abs": _abs_complex,
    "angle": _angle_complex,
    "complex": lambda a, z, g: [_e("real", g), _e("imag", g)],
    "switch": SCALAR_GRADS["switch"],
    # numpy's order of complex values (real parts, then imaginary ones) picks one operand
    "maximum": _max_min,
    "minimum": _max_min,
    # numpy 2's sign of a complex value is z / |z|; numpy 1's, the sign of its real part
    "sign": _sign_complex if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else _NONE1,
    # each part rounded: piecewise constant
    "round": _NONE1,
    # principal branches: 1 / (sqrt(x - 1) sqrt(x + 1)), not 1 / sqrt(x**2 - 1), off the reals
    "arccosh": lambda a, z, g: [g / conj_grad(_e("sqrt", a[0] - 1) * _e("sqrt", a[0] + 1))],
}


def _complex_scalar_grad(name: str, args: list, z: Variable, g: Variable) -> list:
    rule = COMPLEX_SCALAR_GRADS.get(name)
    if rule is not None:
        return rule(args, z, g)
    if name in HOLOMORPHIC:
        return [conj_grad(r) for r in SCALAR_GRADS[name](args, z, conj_grad(g))]
    types = ", ".join(str(v.type) for v in args)
    raise NullTypeGradError(
        f"grad: the elementwise op {name} has no gradient for complex values (its operands: "
        f"{types}); gradients flow through complex arithmetic, exp, log, sqrt, powers, the "
        "trigonometric and hyperbolic functions, complex, real, imag, conj, abs, angle, sign, "
        "maximum and minimum: "
        "write the cost with those, or from real parts (ft.real, ft.imag)"
    )


def _scalar_grad(name: str, args: list, z: Variable, g: Variable) -> list:
    if name.startswith("cast:"):  # complex to real keeps the real part: its gradient is g too
        return [g if is_inexact(args[0].dtype) and is_inexact(z.dtype) else None]
    if not is_inexact(z.dtype):
        return [None] * len(args)  # integer or boolean results are piecewise constant
    if is_complex(z.dtype) or any(is_complex(v.dtype) for v in args):
        return _complex_scalar_grad(name, args, z, g)
    try:
        rule = SCALAR_GRADS[name]
    except KeyError:
        raise NullTypeGradError(
            f"grad: the elementwise op {name} has no gradient rule; add "
            "one to fncache.tensor.grad_rules.SCALAR_GRADS"
        ) from None
    return rule(args, z, g)


def _expand_composite(comp: Composite, inputs: list[Variable]) -> list[Variable]:
    """A fused elementwise body rebuilt as one unfused node per step, on the same inputs."""
    vals: list[Variable] = []
    for name, refs, dt in comp.steps:
        args = [inputs[k] if kind == "in" else vals[k] for kind, k in refs]
        vals.append(cast(args[0], dt) if name.startswith("cast:") else _e(name, *args))
    return [vals[j] for j in comp.outputs]


def _add_term(total: Any, g: Any) -> Any:
    """``total + g`` for gradient terms, None being zero; an undefined one (`NullType`) stays
    undefined whatever is added to it."""
    if g is None or is_null_gradient(total):
        return total
    if total is None or is_null_gradient(g):
        return g
    return total + g


def _zero_masks(g: Any) -> tuple[list[tuple[Variable, bool]], Any]:
    """``g`` as masks and what they mask: ``switch(c, inner, 0)`` (the gradient a branch of a
    switch gets: ``g`` where the branch is picked, zero elsewhere) is ``([(c, True)], inner)``,
    ``switch(c, 0, inner)`` ``([(c, False)], inner)``, nested ones outermost first; anything
    else ``([], g)``."""
    masks: list[tuple[Variable, bool]] = []
    while isinstance(g, Variable) and g.owner is not None:
        step = single_step(g.owner)
        if step is None or step[0] != "switch":
            break
        cond, a, b = step[1]
        if _is_zero(b):
            masks.append((cond, True))
            g = a
        elif _is_zero(a):
            masks.append((cond, False))
            g = b
        else:
            break
    return masks, g


def _is_zero(v: Variable) -> bool:
    return isinstance(v, Constant) and not np.any(v.data)


def _masked(g: Any, masks: list[tuple[Variable, bool]]) -> Any:
    """``g`` zero where ``masks`` (`_zero_masks`') are: each ``switch`` again, innermost first."""
    if g is None or is_null_gradient(g):
        return g
    for cond, picked in reversed(masks):
        g = _e("switch", cond, g, 0) if picked else _e("switch", cond, 0, g)
    return g


@register_grad(Elemwise, complex_values="rule")
def _elemwise(node: Apply, out_grads: list) -> list:
    comp = node.op.composite
    if len(comp.steps) == 1 and comp.outputs == (0,):
        name, refs, _ = comp.steps[0]
        args = [node.inputs[k] for _, k in refs]
        # A gradient zero where a switch does not pick this node's value stays zero there
        # whatever this node's derivative is: the mask goes outside the derivative (Theano's and
        # PyTensor's switch sinking), so that switch(x > 0, sqrt(x), 0) or
        # switch(p > 0, p * log(p), 0) has gradient 0, not 0 * inf = NaN, where x or p is 0.
        masks, g_out = _zero_masks(out_grads[0]) if name != "switch" else ([], out_grads[0])
        grads: list = [None] * len(node.inputs)
        for (_, k), g in zip(refs, _scalar_grad(name, args, node.outputs[0], g_out)):
            grads[k] = _add_term(grads[k], out_grads[0] if masks and g is g_out else _masked(g, masks))
        return grads
    outs = _expand_composite(comp, node.inputs)
    found = inner_gradients(outs, out_grads, node.inputs)
    return [found.get(id(v)) for v in node.inputs]


# -- reductions ---------------------------------------------------------------------------------
def _reduced_size(x: Variable, axes: tuple[int, ...], dtype: str) -> Any:
    """The number of elements each output of a mean of ``x`` over ``axes`` combines: an
    int when the sizes are static, else read from the shapes by one native step (`ReducedSize`;
    the `sizes` rewrite then reads them from the variables ``x``'s sizes come from, so the
    count does not wait for ``x`` itself)."""
    if all(x.type.shape[a] is not None for a in axes):
        return int(np.prod([x.type.shape[a] for a in axes]))
    n = ReducedSize(tuple(((0, a),) for a in axes), dtype)(x)
    # the count is read from the sizes x is broadcast from, before the loop that broadcasts
    # them runs: sizes that do not broadcast fail here first, and the error names the mean
    n.owner.tag["made_by"] = ("mean", "give the values it averages sizes that broadcast together")
    return n


def _prod_grad(x: Variable, z_k: Variable, g_k: Variable, axes: tuple[int, ...]) -> Variable:
    """d prod / d x_i is the product of the others. Where x_i != 0 that is z / x_i, also with
    zeros elsewhere (then 0, with z's derivatives: exact second derivatives). Where x_i == 0 it
    is the product of the rest if x_i is the group's only zero; if there is one other zero it
    is 0, written as that zero (``zeros - x``, `ZerosSum`: 0 with derivative 1 in the other
    zero) times the rest, for the same reason; with more, 0 (Theano's values)."""
    zero = _e("eq", x, 0)
    n_zeros = keep_reduced_dims(sum_(zero, axis=axes), axes, True)
    others = g_k * keep_reduced_dims(prod_(_e("switch", zero, 1, x), axis=axes), axes, True)
    zeros = ZerosSum(axes)(x)
    at_zero = _e(
        "switch", _e("eq", n_zeros, 1), others, _e("switch", _e("eq", n_zeros, 2), others * (zeros - x), 0)
    )
    # x + (x == 0): x where it is not 0, 1 (no NaN in the unused branch's derivative) where it is
    return _e("switch", zero, at_zero, g_k * z_k / (x + zero))


@register_grad(Reduce, complex_values="rule")
def _reduce(node: Apply, out_grads: list) -> list:
    op: Reduce = node.op
    if op.pre is not None:  # a fused body: differentiate the unfused pair
        body = _expand_composite(op.pre, node.inputs)
        out = op.with_pre(None)(body[0])
        found = inner_gradients([out], out_grads, node.inputs)
        return [found.get(id(v)) for v in node.inputs]
    x, z, g = node.inputs[0], node.outputs[0], out_grads[0]
    if not is_inexact(z.dtype) or op.kind in ("and", "or"):
        return [None]
    if is_complex(x.dtype) and op.kind not in ("add", "mean", "mul"):
        raise NullTypeGradError(
            f"grad: {op} of complex values ({x.type}) has no gradient (they are ordered by real "
            "part, then imaginary part; PyTensor refuses max and min of complex values); reduce "
            "a real function of them (ft.abs(z), ft.real(z))"
        )
    if op.kind == "mean":
        n = _reduced_size(x, op.axes, g.dtype)
        g = g / (max(n - op.ddof, 0) if isinstance(n, int) else _e("maximum", n - op.ddof, 0))
    g_k = keep_reduced_dims(g, op.axes, True)
    if op.kind in ("add", "mean"):
        return [broadcast_like(g_k, x)]
    z_k = keep_reduced_dims(z, op.axes, True)
    if op.kind == "mul":  # holomorphic: g * conj(d prod / d x_i)
        return [conj_grad(_prod_grad(x, z_k, conj_grad(g_k), op.axes))]
    return [g_k * _e("eq", z_k, x)]  # max / min


@register_grad(ZerosSum)
def _zeros_sum(node: Apply, out_grads: list) -> list:
    x = node.inputs[0]
    return [_e("switch", _e("eq", x, 0), out_grads[0], 0)]


@register_grad(ArgReduce, Shape, MakeVector, ReducedSize)
def _no_grad(node: Apply, out_grads: list) -> list:
    return [None] * len(node.inputs)


# -- products and shapes ----------------------------------------------------------------------
@register_grad(Dot, complex_values="holomorphic")
def _dot(node: Apply, out_grads: list) -> list:
    a, b = node.inputs
    g = out_grads[0]
    if a.ndim == 1 and b.ndim == 1:
        return [g * b, g * a]
    if a.ndim == 2 and b.ndim == 2:
        return [dot(g, b.T), dot(a.T, g)]
    if a.ndim == 1:  # (k,) @ (k, n) -> (n,)
        return [dot(b, g), dot(a.dimshuffle(0, "x"), g.dimshuffle("x", 0))]
    return [dot(g.dimshuffle(0, "x"), b.dimshuffle("x", 0)), dot(a.T, g)]  # (m, k) @ (k,)


@register_grad(DimShuffle, complex_values="linear")
def _dimshuffle(node: Apply, out_grads: list) -> list:
    op: DimShuffle = node.op
    g = out_grads[0]
    added = [k for k, p in enumerate(op.pattern) if p == "x"]
    kept = [p for p in op.pattern if p != "x"]
    if added:
        if all(g.type.shape[k] == 1 for k in added):
            g = dimshuffle(g, [k for k, p in enumerate(op.pattern) if p != "x"])
        else:  # size 1 at run time: summing drops the dim
            g = sum_(g, axis=tuple(added))
    return [dimshuffle(g, ["x" if d in op.dropped else kept.index(d) for d in range(op.in_ndim)])]


@register_grad(Reshape, complex_values="linear")
def _reshape(node: Apply, out_grads: list) -> list:
    x = node.inputs[0]
    return [reshape(out_grads[0], shape(x), ndim=x.ndim), None]


@register_grad(Subtensor, complex_values="linear")
def _subtensor(node: Apply, out_grads: list) -> list:
    x, bounds = node.inputs[0], node.inputs[1:]
    return [SubtensorGrad(node.op.idx)(x, out_grads[0], *bounds)] + [None] * len(bounds)


@register_grad(SubtensorGrad, complex_values="linear")
def _subtensor_grad(node: Apply, out_grads: list) -> list:
    bounds = node.inputs[2:]
    return [None, Subtensor(node.op.idx)(out_grads[0], *bounds)] + [None] * len(bounds)


@register_grad(IncSubtensor, complex_values="linear")
def _inc_subtensor(node: Apply, out_grads: list) -> list:
    # x's gradient is g, less the region a set overwrote; y's is the region of g, summed over
    # the dims y was broadcast along.
    y, bounds, g = node.inputs[1], node.inputs[2:], out_grads[0]
    idx = node.op.idx
    gx = (
        IncSubtensor(idx, True)(g, constant(np.zeros((), g.dtype)), *bounds)
        if node.op.set_instead_of_inc
        else g
    )
    gy = _unbroadcast(Subtensor(idx)(g, *bounds), y, range(y.ndim))
    return [gx, gy] + [None] * len(bounds)


@register_grad(AdvancedSubtensor, complex_values="linear")
def _advanced_subtensor(node: Apply, out_grads: list) -> list:
    # g added at the index into zeros: a repeated index gets the sum of its gradients
    x, args = node.inputs[0], node.inputs[1:]
    return [AdvancedSubtensorGrad(node.op.key)(x, out_grads[0], *args)] + [None] * len(args)


@register_grad(AdvancedSubtensorGrad, complex_values="linear")
def _advanced_subtensor_grad(node: Apply, out_grads: list) -> list:
    args = node.inputs[2:]
    return [None, AdvancedSubtensor(node.op.key)(out_grads[0], *args)] + [None] * len(args)


@register_grad(AdvancedIncSubtensor, complex_values="linear")
def _advanced_inc_subtensor(node: Apply, out_grads: list) -> list:
    # x's gradient is g, less the region a set overwrote; y's is the region of g (of a set,
    # only the writes that stay), summed over the dims y was broadcast along.
    y, args, g = node.inputs[1], node.inputs[2:], out_grads[0]
    key = node.op.key
    if node.op.set_instead_of_inc:
        gx = AdvancedIncSubtensor(key, True)(g, constant(np.zeros((), g.dtype)), *args)
        region = AdvancedSetGrad(key)(g, *args)
    else:
        gx, region = g, AdvancedSubtensor(key)(g, *args)
    return [gx, _unbroadcast(region, y, range(y.ndim))] + [None] * len(args)


@register_grad(AdvancedSetGrad, complex_values="linear")
def _advanced_set_grad(node: Apply, out_grads: list) -> list:
    # Each position of g is read by at most one unmasked entry (the write that stays): the
    # adjoint writes those entries back, which is what a set (last write wins) does.
    g, args = node.inputs[0], node.inputs[1:]
    gg = out_grads[0]
    gx = AdvancedIncSubtensor(node.op.key, True)(zeros_like(g, gg.dtype), gg, *args)
    return [gx] + [None] * len(args)


@register_grad(SumToShape, complex_values="linear")
def _sum_to_shape(node: Apply, out_grads: list) -> list:
    return [broadcast_like(out_grads[0], node.inputs[0])] + [None] * (len(node.inputs) - 1)


@register_grad(Concatenate, complex_values="linear")
def _concatenate(node: Apply, out_grads: list) -> list:
    axis, g = node.op.axis, out_grads[0]
    grads: list = []
    start: Any = 0
    for x in node.inputs:
        n = x.type.shape[axis]
        size = n if n is not None else shape(x)[axis]
        stop = start + size
        grads.append(g[(slice(None),) * axis + (slice(start, stop),)])
        start = stop
    return grads


def _unbroadcast(g: Variable, x: Variable, dims: Any) -> Variable:
    """``g`` summed back to ``x``'s shape over the dims ``dims`` of ``x`` that broadcasting may
    have expanded: leading extra dims, dims of static size 1, and dims of unknown size where
    ``x`` is 1 at run time (`SumToShape`)."""
    dims = tuple(dims)
    g = sum_static_broadcast(g, x, dims)
    dynamic = tuple((d, ((1, d),)) for d in dims if x.type.shape[d] is None and g.type.shape[d] != 1)
    return SumToShape(dynamic)(g, x) if dynamic else g


@register_grad(SpecifyShape, complex_values="linear")
def _specify_shape(node: Apply, out_grads: list) -> list:
    return [out_grads[0]]


@register_grad(Unbroadcast, complex_values="linear")
def _unbroadcast_op(node: Apply, out_grads: list) -> list:
    # the gradient has the input's type: those dims are 1 again (as the value always was)
    return [specify_broadcastable(out_grads[0], *node.op.axes)]


@register_grad(Alloc, complex_values="linear")
def _alloc(node: Apply, out_grads: list) -> list:
    value = node.inputs[0]
    return [_unbroadcast(out_grads[0], value, range(value.ndim)), None]


def _flip(v: Variable, axis: int) -> Variable:
    return v[(slice(None),) * axis + (slice(None, None, -1),)]


def _reverse_cumsum(v: Variable, axis: int) -> Variable:
    """out[i] = sum of v[j] for j >= i along ``axis``: the adjoint of cumsum."""
    return _flip(cumsum(_flip(v, axis), axis), axis)


def _cumprod_grad(x: Variable, z: Variable, g: Variable, axis: int, nested: bool = True) -> Variable:
    """d/dx_i of sum_j g_j z_j, z = cumprod(x), exact with zeros (z / x_i is not): before the
    first zero of a lane it is sum_{i <= j < first zero} g_j z_j / x_i (later z_j hold the
    zero); at the first zero, sum_{j >= i} g_j times the cumprod with that zero read as 1;
    after it 0. ``nested`` writes the terms that are 0 because of the first zero as that
    zero times their other factors (after it: the same gradient of the cumprod with the zero
    read as 1), so that second derivatives at zeros are exact too."""
    zero = _e("eq", x, 0)
    zeros_so_far = cumsum(zero, axis)
    before = _e("eq", zeros_so_far, 0)
    first = _e("and_", zero, _e("eq", zeros_so_far, 1))
    g_before = _reverse_cumsum(_e("switch", before, g * z, 0), axis) / _e("switch", before, x, 1)
    x1 = _e("switch", first, 1, x)
    z1 = cumprod(x1, axis)
    g_first = _reverse_cumsum(g * z1, axis)
    after: Any = 0
    if nested:
        first_zero = sum_(_e("switch", first, x, 0), axis=axis, keepdims=True)
        after = first_zero * _cumprod_grad(x1, z1, g, axis, nested=False)
        # before it, the terms j >= first zero: the first zero times g_first's value there
        at_first = sum_(_e("switch", first, g_first, 0), axis=axis, keepdims=True)
        g_before = g_before + first_zero * at_first / _e("switch", before, x, 1)
    return _e("switch", before, g_before, _e("switch", first, g_first, after))


@register_grad(CumOp, complex_values="rule")
def _cum_op(node: Apply, out_grads: list) -> list:
    op: CumOp = node.op
    x, z, g = node.inputs[0], node.outputs[0], out_grads[0]
    if not is_inexact(z.dtype):
        return [None]
    # axis None runs along the flattened x
    xs, axis = (flatten(x), 0) if op.axis is None else (x, op.axis)
    if op.kind == "add":  # linear with real weights: complex values alike
        gx = _reverse_cumsum(g, axis)
    else:  # holomorphic: g * conj(d cumprod / d x_i)
        gx = conj_grad(_cumprod_grad(xs, z, conj_grad(g), axis))
    return [reshape(gx, shape(x), ndim=x.ndim) if op.axis is None else gx]


# The values move, in numpy's order (complex ones by real part, then imaginary part): linear.
@register_grad(Sort, complex_values="linear")
def _sort(node: Apply, out_grads: list) -> list:
    op: Sort = node.op
    if op.kind != "sort" or not is_inexact(node.outputs[0].dtype):
        return [None]  # argsort: integer positions
    return [SortGrad(op.axis)(node.inputs[0], out_grads[0])]


@register_grad(SortGrad, complex_values="linear")
def _sort_grad(node: Apply, out_grads: list) -> list:
    op: SortGrad = node.op
    x, g = node.inputs[0], out_grads[0]
    if op.gather:
        return [None, SortGrad(op.axis)(x, g)]
    return [None, SortGrad(op.axis, gather=True)(x, flatten(g) if op.axis is None else g)]


@register_grad(Repeat, complex_values="linear")
def _repeat(node: Apply, out_grads: list) -> list:
    op: Repeat = node.op
    x, repeats = node.inputs
    g = out_grads[0]
    xs, axis = (flatten(x), 0) if op.axis is None else (x, op.axis)
    if repeats.ndim == 0:  # each element's copies are consecutive: split them off and sum
        sizes = dim_sizes(xs)
        runs = reshape(g, sizes[:axis] + [sizes[axis], repeats] + sizes[axis + 1 :], ndim=xs.ndim + 1)
        gx = sum_(runs, axis=axis + 1)
    else:
        if repeats.type.shape[0] is None or repeats.type.shape[0] != xs.type.shape[axis]:
            # a single count numpy broadcast to every element: one per element, as the runs are
            repeats = alloc(repeats, dim_sizes(xs)[axis])
        gx = RepeatGrad(axis)(g, repeats)
    return [reshape(gx, shape(x), ndim=x.ndim) if op.axis is None else gx, None]


@register_grad(RepeatGrad, complex_values="linear")
def _repeat_grad(node: Apply, out_grads: list) -> list:
    return [Repeat(node.op.axis)(out_grads[0], node.inputs[1]), None]


@register_grad(BinCount)
def _bincount(node: Apply, out_grads: list) -> list:
    # each weight is added into the bin its value names: it gets that bin's gradient
    if not node.op.weighted:
        return [None]
    x, w = node.inputs
    if not is_float(w.dtype):
        return [None, None]
    return [None, cast(out_grads[0][x], w.dtype)]


@register_grad(Tile, complex_values="linear")
def _tile(node: Apply, out_grads: list) -> list:
    x, g = node.inputs[0], out_grads[0]
    nd = g.ndim
    if nd == 0:
        return [g]
    reps = (1,) * (nd - len(node.op.reps)) + node.op.reps
    sizes = [1] * (nd - x.ndim) + dim_sizes(x)
    # the output is reps[d] copies of x along each dim d: split each into (copy, element)
    split = reshape(g, [v for r, n in zip(reps, sizes) for v in (r, n)], ndim=2 * nd)
    gx = sum_(split, axis=tuple(range(0, 2 * nd, 2)))
    return [reshape(gx, sizes[nd - x.ndim :], ndim=x.ndim) if nd > x.ndim else gx]


@register_grad(TensorDot, complex_values="holomorphic")
def _tensordot(node: Apply, out_grads: list) -> list:
    op: TensorDot = node.op
    a, b = node.inputs
    g = out_grads[0]
    free_a = [d for d in range(a.ndim) if d not in op.a_axes]
    free_b = [d for d in range(b.ndim) if d not in op.b_axes]
    n_fa = len(free_a)
    # g's dims are a's free dims then b's; contracting g with the other operand over the other
    # operand's free dims leaves this operand's free dims then its summed ones (in the
    # other's order), permuted back to this operand's order.
    ga = tensordot(g, b, axes=(list(range(n_fa, g.ndim)), free_b))
    ga_dims = free_a + [op.a_axes[op.b_axes.index(d)] for d in sorted(op.b_axes)]
    gb = tensordot(a, g, axes=(free_a, list(range(n_fa))))
    gb_dims = [op.b_axes[op.a_axes.index(d)] for d in sorted(op.a_axes)] + free_b
    return [
        dimshuffle(ga, [ga_dims.index(d) for d in range(a.ndim)]),
        dimshuffle(gb, [gb_dims.index(d) for d in range(b.ndim)]),
    ]


@register_grad(BroadcastTensorDot, complex_values="holomorphic")
def _broadcast_tensordot(node: Apply, out_grads: list) -> list:
    """TensorDot's, whose gradient of an operand has the other operand's sizes along the
    contracted dims: summed where the operand was 1 against the other's size, broadcast where
    the other was 1."""
    op: BroadcastTensorDot = node.op
    a, b = node.inputs
    ga, gb = _tensordot(node, out_grads)
    return [
        broadcast_like(_unbroadcast(ga, a, op.a_axes), a),
        broadcast_like(_unbroadcast(gb, b, op.b_axes), b),
    ]


@register_grad(MatMul, complex_values="holomorphic")
def _matmul(node: Apply, out_grads: list) -> list:
    """As dot's, per matrix of the stack; a vector operand is a one-row (``a``) or one-column
    (``b``) matrix, and the batch dims an operand was broadcast over are summed."""
    a, b = node.inputs
    g = out_grads[0]
    a2 = a if a.ndim > 1 else dimshuffle(a, ["x", 0])
    b2 = b if b.ndim > 1 else dimshuffle(b, [0, "x"])
    if a.ndim == 1:
        g = dimshuffle(g, list(range(g.ndim - 1)) + ["x", g.ndim - 1])
    if b.ndim == 1:
        g = dimshuffle(g, list(range(g.ndim)) + ["x"])
    ga, gb = matmul(g, swap_last(b2)), matmul(swap_last(a2), g)
    ga = ga[..., 0, :] if a.ndim == 1 else ga
    gb = gb[..., 0] if b.ndim == 1 else gb
    return [_unbroadcast(ga, a, range(a.ndim - 2)), _unbroadcast(gb, b, range(b.ndim - 2))]


# -- linear algebra ---------------------------------------------------------------------------
def _per_matrix(v: Variable) -> Variable:
    """A value per matrix of a stack with two broadcastable dims added, to scale each matrix."""
    return dimshuffle(v, list(range(v.ndim)) + ["x", "x"])


@register_grad(MatrixInverse, complex_values="holomorphic")
def _matrix_inverse(node: Apply, out_grads: list) -> list:
    zt = swap_last(node.outputs[0])
    return [-matmul(matmul(zt, out_grads[0]), zt)]


@register_grad(Det, complex_values="holomorphic")
def _det(node: Apply, out_grads: list) -> list:
    """The matrix of cofactors (``det(x) inv(x)^T`` where x is regular), finite at a singular
    matrix too, where there is no inverse."""
    return [_per_matrix(out_grads[0]) * Cofactors()(node.inputs[0])]


@register_grad(Cofactors)
def _cofactors(node: Apply, out_grads: list) -> list:
    """``inv(x)^T``'s (``over_det``) is inv's; the cofactors' is computed from the SVD, finite
    at a singular matrix too."""
    x, g = node.inputs[0], out_grads[0]
    if node.op.over_det:
        z = node.outputs[0]
        return [-matmul(matmul(z, swap_last(g)), z)]
    return [CofactorsGrad()(x, g)]


@register_grad(CofactorsGrad)
def _cofactors_grad(node: Apply, out_grads: list) -> list:
    """``CofactorsGrad(x, *gs)`` is the gradient of det's ``m``-th derivative along ``gs``,
    linear in each direction: its gradient in ``x`` is the next derivative, along ``gs`` and
    ``h``; in a direction, the same derivative with ``h`` in that direction's place (det's
    derivatives are symmetric in their directions). Zero past det's degree, the matrix size."""
    x, *gs = node.inputs
    h = out_grads[0]
    size = x.type.shape[-1]
    in_x = None if size is not None and len(gs) + 2 > size else CofactorsGrad()(x, *gs, h)
    return [in_x] + [CofactorsGrad()(x, *gs[:i], h, *gs[i + 1 :]) for i in range(len(gs))]


@register_grad(SlogDet, complex_values="rule")
def _slogdet(node: Apply, out_grads: list) -> list:
    """``g inv(x)^T`` (a real matrix's sign is piecewise constant); at a singular matrix, where
    log|det| is -inf, it is not finite: inf (NaN where the cofactor is 0), not an error. A
    complex matrix's sign turns with the phase ``t = Im(log det)``: with ``d log det = tr(inv(x)
    dx)``, ``dC = Re((g - i w) tr(inv(x) dx))``, ``w = Re(i conj(g_sign) sign)``, whose
    gradient ``dC/dRe + i dC/dIm`` is ``conj((g - i w) inv(x)^T)``."""
    x = node.inputs[0]
    g_sign, g = out_grads
    if not is_complex(x.dtype):
        return [None if g is None else _per_matrix(g) * Cofactors(over_det=True)(x)]
    if g_sign is None and g is None:
        return [None]
    c = 0 if g is None else g
    if g_sign is not None:
        c = c - 1j * elemwise("real", 1j * elemwise("conj", g_sign) * node.outputs[0])
    return [elemwise("conj", _per_matrix(c) * Cofactors(over_det=True)(x))]


def _solve_grads(node: Apply, solve_t: Any, g: Variable, triangle: Any) -> list:
    """``a x = b`` (stacks as numpy.linalg.solve's): b's gradient solves the transposed system
    (``solve_t``), a's is ``-grad_b x^T`` (kept to the triangle the op reads, when it reads
    one); both summed over the batch dims broadcasting expanded."""
    a, b = node.inputs
    x = node.outputs[0]
    if b.ndim == 1 and a.ndim > 2:  # one right-hand side for every matrix: solve as columns
        grad_b = solve_t(swap_last(a), dimshuffle(g, list(range(g.ndim)) + ["x"]))[..., 0]
    else:
        grad_b = solve_t(swap_last(a), g)
    if b.ndim == 1:
        ga = -(
            dimshuffle(grad_b, list(range(grad_b.ndim)) + ["x"])
            * dimshuffle(x, list(range(x.ndim - 1)) + ["x", x.ndim - 1])
        )
    else:
        ga = -matmul(grad_b, swap_last(x))
    ga = ga if triangle is None else triangle(ga)
    return [_unbroadcast(ga, a, range(a.ndim - 2)), _unbroadcast(grad_b, b, range(max(b.ndim - 2, 0)))]


@register_grad(Solve, complex_values="holomorphic")
def _solve(node: Apply, out_grads: list) -> list:
    return _solve_grads(node, Solve(), out_grads[0], None)


@register_grad(SolveTriangular, complex_values="holomorphic")
def _solve_triangular(node: Apply, out_grads: list) -> list:
    lower = node.op.lower
    return _solve_grads(node, SolveTriangular(not lower), out_grads[0], tril if lower else triu)


def _tril_half_diagonal(x: Variable) -> Variable:
    return tril(x) - 0.5 * eye(x.shape[-1], dtype=x.dtype) * x


@register_grad(Cholesky, complex_values="rule")
def _cholesky(node: Apply, out_grads: list) -> list:
    """Murray's formula (as Theano's and PyTensor's): for ``L = cholesky(A)`` reading A's lower
    triangle, ``S = L^-H phi(L^H g) L^-1`` and the gradient is ``phi(S + S^H)``, phi keeping the
    lower triangle with its diagonal halved (a complex A's diagonal is read as real: the
    diagonal of ``S + S^H`` is); per matrix of a stack."""
    lt = conj_swap_last(node.outputs[0])
    p = _tril_half_diagonal(matmul(lt, out_grads[0]))
    upper = SolveTriangular(False)
    s = upper(lt, conj_swap_last(upper(lt, conj_swap_last(p))))
    return [_tril_half_diagonal(s + conj_swap_last(s))]


# -- convolution: each of the three ops is linear in each tensor operand, and its gradient is
# made of the other two (<conv(x, w), g> = <x, grad_inputs(w, g)> = <w, grad_weights(x, g)>)
@register_grad(ConvForward)
def _conv(node: Apply, out_grads: list) -> list:
    (x, w), g = node.inputs, out_grads[0]
    _, grad_inputs, grad_weights = node.op.with_ops()
    return [grad_inputs(w, g, x), grad_weights(x, g, w)]


@register_grad(ConvGradInputs)
def _conv_grad_inputs(node: Apply, out_grads: list) -> list:
    (w, g, _), h = node.inputs, out_grads[0]
    conv, _, grad_weights = node.op.with_ops()
    return [grad_weights(h, g, w), conv(h, w), None]


@register_grad(ConvGradWeights)
def _conv_grad_weights(node: Apply, out_grads: list) -> list:
    (x, g, _), h = node.inputs, out_grads[0]
    conv, grad_inputs, _ = node.op.with_ops()
    return [grad_inputs(h, g, x), conv(x, h), None]


# -- pooling: a max sends the gradient to its window's max entries; MaxPoolGrad and
# MaxPoolGradGrad are each other's transposes in the output gradient (and constant in x almost
# everywhere, as Theano's); a sum or mean's gradient is linear, its own gradient the pooling
@register_grad(Pool)
def _pool(node: Apply, out_grads: list) -> list:
    x, g = node.inputs[0], out_grads[0]
    if node.op.mode == "max":
        return [node.op.with_mode(MaxPoolGrad)(x, node.outputs[0], g)]
    return [node.op.with_mode(AveragePoolGrad)(x, g)]


@register_grad(MaxPoolGrad)
def _max_pool_grad(node: Apply, out_grads: list) -> list:
    x, z, _ = node.inputs
    return [None, None, node.op.with_mode(MaxPoolGradGrad)(x, z, out_grads[0])]


@register_grad(MaxPoolGradGrad)
def _max_pool_grad_grad(node: Apply, out_grads: list) -> list:
    x, z, _ = node.inputs
    return [None, None, node.op.with_mode(MaxPoolGrad)(x, z, out_grads[0])]


@register_grad(AveragePoolGrad)
def _average_pool_grad(node: Apply, out_grads: list) -> list:
    return [None, node.op.with_mode(Pool)(out_grads[0])]


@register_grad(RandomVariable, RandomDraw)
def _random_variable(node: Apply, out_grads: list) -> list:
    if node.op.dist in COUNT_DISTS:
        return [None] * len(node.inputs)
    # undefined, not raised: `grad` refuses it where a wanted gradient goes through the draw
    # (NullTypeGradError, a TypeError), and a loop's step, whose gradient is built in all its
    # inputs, still gives the others theirs
    why = (
        f"{node.op} draws random values, which have no gradient with respect to the "
        "distribution's parameters; draw from the standard distribution and transform it "
        "(loc + scale * stream.normal(0.0, 1.0, size)), or pass the draw in consider_constant "
        "to treat it as a constant"
    )
    return [NullType(why)() for _ in node.inputs]


@register_grad(CheckAndRaise, Print, CheckValue, CheckAxis, complex_values="linear")
def _assert(node: Apply, out_grads: list) -> list:
    return [out_grads[0]] + [None] * (len(node.inputs) - 1)


@register_branch_grad(IfElse)
def _ifelse(node: Apply, out_grads: list, through: Callable[[int, list], list]) -> list:
    # Each branch is differentiated down to the values it reads from the rest of the graph, and
    # one ifelse picks the taken branch's gradients of them (zeros where it reads none), so the
    # function computes only the taken branch's values and gradients.
    sides = [dict((id(v), (v, g)) for v, g in through(side, out_grads)) for side in (0, 1)]
    found = {k: vg[0] for side in sides for k, vg in side.items()}
    if not found:
        return []
    then, other = ([s[k][1] if k in s else zeros_like(v) for k, v in found.items()] for s in sides)
    return list(zip(found.values(), ifelse(node.inputs[0], then, other)))


@register_grad(ZeroGrad, DisconnectedGrad, complex_values="linear")
def _zero_grad(node: Apply, out_grads: list) -> list:
    # DisconnectedGrad's disconnection is decided by grad, which does not walk past it; a zero
    # here is what any other caller of backprop gets.
    return [None]


@register_grad(UndefinedGrad, complex_values="rule")
def _undefined_grad(node: Apply, out_grads: list) -> list:
    # undefined for complex values too: the rule runs for them, not the refusal of complex ones
    return [grad_undefined(node.op, 0, node.inputs[0])]


@register_grad(GradClip)
def _grad_clip(node: Apply, out_grads: list) -> list:
    return [_e("minimum", _e("maximum", out_grads[0], node.op.lower), node.op.upper)]


@register_grad(GradScale, complex_values="linear")
def _grad_scale(node: Apply, out_grads: list) -> list:
    return [out_grads[0] * node.op.multiplier]


@register_grad(PythonOp)
def _python_op(node: Apply, out_grads: list) -> list:
    op: PythonOp = node.op
    if getattr(op, "grad_fn", None) is None:  # ops pickled before grad_fn existed
        raise NullTypeGradError(
            f"grad: {op} has no gradient; give one with ft.as_op(itypes, otypes, grad=fn), "
            "where fn(inputs, output_grads) returns one symbolic gradient per input"
        )
    gs = [g if g is not None else zeros_like(o) for g, o in zip(out_grads, node.outputs)]
    return user_gradients(node.inputs, op.grad_fn(list(node.inputs), gs), f"the grad function of {op}")


def op_method_grad(node: Apply, out_grads: list) -> list:
    """The rule of an op subclass written as in Theano's "Creating a new Op": its own
    ``L_op(inputs, outputs, output_grads)`` or ``grad(inputs, output_grads)`` method, given
    zeros for the outputs the cost does not read (Theano's disconnected placeholders)."""
    op = node.op
    gs = [g if g is not None else zeros_like(o) for g, o in zip(out_grads, node.outputs)]
    if callable(getattr(op, "L_op", None)):
        res = op.L_op(list(node.inputs), list(node.outputs), gs)
    else:
        res = op.grad(list(node.inputs), gs)
    return user_gradients(node.inputs, res, f"{op}.grad")


@register_grad(OpFromGraph, complex_values="rule")
def _op_from_graph(node: Apply, out_grads: list) -> list:
    # the op's own graph's gradient, or its overrides' (each checked as a user's rule)
    return node.op.L_op(list(node.inputs), list(node.outputs), out_grads)


@register_grad(JacobianRows, complex_values="rule")
def _jacobian_rows(node: Apply, out_grads: list) -> list:
    # built on stand-ins, which have no test values (config.compute_test_value)
    with config.change_flags(compute_test_value="off"):
        return _jacobian_rows_grad(node, out_grads)


def _jacobian_rows_grad(node: Apply, out_grads: list) -> list:
    """Row k of output j is ``row_j(k, values)``: the values' gradient is the sum over the rows
    of ``grad(sum_j <g_j[k], row_j(k, values)>, values)``, itself evaluated row by row (so a
    Jacobian or Hessian can be differentiated again). The row count and the row shapes carry
    no gradient."""
    op: JacobianRows = node.op
    n_head = 1 + op.n_outputs
    values = node.inputs[n_head:]
    res: list = [None] * len(node.inputs)
    wrt: list[Variable] = []
    for v in values:
        if is_inexact(v.dtype) and not any(v is w for w in wrt):
            wrt.append(v)
    if all(g is None for g in out_grads) or not wrt:
        return res
    # The rows as a function of stand-ins for the values: the values also depend on each
    # other in the outer graph, and only the rows' own dependence on each is wanted here.
    stand_in = {id(w): w.type.make_variable(w.name) for w in wrt}
    k = TensorType("int64", ())("k")
    rows = op.rows_of(k, [stand_in.get(id(v), v) for v in values])
    terms = [real_inner(g[k], r) for g, r in zip(out_grads, rows) if g is not None]
    cost = terms[0]
    for t in terms[1:]:
        cost = cost + t
    # The output gradients are the fixed cotangents of this product (they may be built from
    # the outputs themselves, or read their shapes): nothing flows back through them.
    fixed = [g for g in out_grads if g is not None]
    per_row = grad(
        cost, [stand_in[id(w)] for w in wrt], consider_constant=fixed, disconnected_inputs="ignore"
    )
    per_row = substitute(per_row, {stand_in[id(w)]: w for w in wrt})
    totals = [sum_(s, axis=0) for s in jacobian_rows(node.inputs[0], k, per_row, wrt)]
    for w, total in zip(wrt, totals):
        # a value listed twice gets its gradient once: the reverse walk adds per position
        res[n_head + next(i for i, v in enumerate(values) if v is w)] = total
    return res


@register_grad(Scan, complex_values="rule")
def _scan(node: Apply, out_grads: list) -> list:
    """Backpropagation through time, as another `Scan` (``scan_grad.py``)."""
    return scan_grad(node, out_grads)
