"""Special functions composed from elementwise ops: ``psi`` (digamma), ``polygamma``,
PyTensor's ``tri_gamma log1mexp log1pexp xlogx xlogy0``, its unregularized incomplete gamma
functions ``gammau gammal``, ``chi2sf``, ``betaln``, scipy's ``beta poch factorial xlogy
xlog1py logit`` and numpy's ``sinc``. Each is a short chain of scalar ops, so it fuses into the
surrounding C loop and differentiates through the ops' rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph.basic import Variable
from ..graph.args import int_arg
from ..graph.types import is_complex, is_float
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise
from .op_call import op_call

__all__ = [
    "psi",
    "digamma",
    "polygamma",
    "tri_gamma",
    "log1mexp",
    "log1pexp",
    "xlogx",
    "xlogy0",
    "gammau",
    "gammal",
    "chi2sf",
    "betaln",
    "beta",
    "poch",
    "factorial",
    "xlogy",
    "xlog1py",
    "logit",
    "sinc",
]


def _real(x: Any, ints: str | None = None) -> Variable:
    """``x`` with an integer or bool dtype cast to a float one first (``ints``, or numpy's
    float for it, float32 for the small ones), so the compositions below compute in floats:
    in the input's dtype ``x + 8`` would wrap and ``1 / x`` round to float32."""
    v = as_tensor_variable(x)
    if is_float(v.dtype) or is_complex(v.dtype):
        return v
    if ints is None:
        ints = np.result_type(np.dtype(v.dtype), np.float16).name
        ints = "float32" if ints == "float16" else ints
    return cast(v, ints)


def _frac(x: Variable) -> Variable:
    """``x`` less its nearest integer, exact in floating point: tan(pi x) and sin(pi x)**2 have
    period 1, and pi * x itself would round away the fraction once |x| is large. Its gradient
    is x's (round's is 0)."""
    return x - elemwise("round", x)


@op_call
def psi(x: Any) -> Variable:
    """psi(x), the derivative of ``gammaln`` (log |gamma(x)|), from elementwise ops: the
    recurrence psi(x) = psi(x + 8) - sum 1/(x + k) lifts the argument to where the asymptotic
    series (Bernoulli terms to 1/t**12) is exact to ~1e-14, and negative arguments use the
    reflection psi(x) = psi(1 - x) - pi / tan(pi x). The negative integers (poles of either
    sign) give NaN, as scipy's. Ints and bools give float64."""
    x = _real(x, "float64")
    neg = elemwise("lt", x, 0)
    pole = elemwise("and_", neg, elemwise("eq", x, elemwise("floor", x)))
    u = elemwise("switch", neg, 1 - x, x)
    shift = 1 / u
    for k in range(1, 8):
        shift = shift + 1 / (u + k)
    t = u + 8
    w = 1 / elemwise("sqr", t)
    series = 691 / 32760 - w / 12
    for c in (1 / 132, 1 / 240, 1 / 252, 1 / 120, 1 / 12):
        series = c - w * series
    out = elemwise("log", t) - 0.5 / t - w * series - shift
    # the positive elements get a stand-in where tan is finite and nonzero, so the branch not
    # taken adds no NaN to the gradient (tan(pi * 0) = 0 at the positive integers)
    xr = elemwise("switch", neg, x, 0.5)
    out = elemwise("switch", neg, out - math.pi / elemwise("tan", math.pi * _frac(xr)), out)
    return elemwise("switch", pole, constant(np.asarray(np.nan, out.dtype)), out)


digamma = psi

#: the Bernoulli numbers B_2 .. B_14, of the asymptotic series of the polygamma functions
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
#: the argument is lifted by this much before the series: its first omitted term is then below
#: 1e-15 of the value for the orders up to 6
_SHIFT = 16


@op_call
def polygamma(n: int, x: Any) -> Variable:
    """scipy's ``polygamma(n, x)``: the ``n``-th derivative of :func:`psi`, for ``x > 0`` (NaN
    for ``x <= 0``, but for the orders 0 and 1: :func:`psi` and :func:`tri_gamma` reflect
    negative arguments). ``n`` a non-negative int. The recurrence lifts ``x`` by 16, where the
    asymptotic series (Bernoulli terms to B_14) is exact to ~1e-15 for the orders up to 6 (its
    error grows with ``n``: ~1e-12 at 10); the lifted terms ``n! / (x + k)**(n + 1)`` are
    added back."""
    n = int_arg(n, "polygamma", "n (the order)", minimum=0)
    x = _real(x, "float64")
    if n == 0:
        return psi(x)
    if n == 1:
        return tri_gamma(x)
    out = _polygamma_series(n, x)
    return elemwise("switch", elemwise("gt", x, 0), out, constant(np.asarray(np.nan, out.dtype)))


def _polygamma_series(n: int, x: Variable) -> Variable:
    """polygamma(n, x) for ``x > 0`` by the lifted asymptotic series (see :func:`polygamma`)."""
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)**(n + 1)
    t = x + _SHIFT
    w = 1 / elemwise("sqr", t)
    # sum_k B_2k (2k + n - 1)! / (2k)! / t**(2k + n), Horner in w = 1 / t**2
    coef = [b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) for k, b in enumerate(_BERNOULLI, 1)]
    series = coef[-1] * w
    for c in reversed(coef[:-1]):
        series = (series + c) * w
    lead = math.factorial(n - 1) + math.factorial(n) / 2 / t + series
    out = lead / elemwise("pow", t, n)
    shift = 0
    for k in range(_SHIFT):
        shift = shift + 1 / elemwise("pow", x + k, n + 1)
    return sign * (out + math.factorial(n) * shift)


@op_call
def tri_gamma(x: Any) -> Variable:
    """PyTensor's ``tri_gamma``: ``polygamma(1, x)``, the second derivative of ``gammaln``,
    with scipy's values for ``x <= 0`` too: the reflection pi**2 / sin(pi x)**2 - tri_gamma(1 - x),
    +inf at 0 and the negative integers. Each branch is evaluated at an argument where it is
    finite (the other's elements get a stand-in), so the gradient has no NaN from the branch
    not taken."""
    x = _real(x, "float64")
    pos = elemwise("gt", x, 0)
    right = _polygamma_series(1, elemwise("switch", pos, x, 1.0))
    xr = elemwise("switch", pos, 0.5, x)
    left = math.pi**2 / elemwise("sqr", elemwise("sin", math.pi * _frac(xr))) - _polygamma_series(1, 1 - xr)
    pole = elemwise("eq", xr, elemwise("floor", xr))
    left = elemwise("switch", pole, constant(np.asarray(np.inf, left.dtype)), left)
    return elemwise("switch", pos, right, left)


@op_call
def gammau(k: Any, x: Any) -> Variable:
    """PyTensor's ``gammau``: the upper incomplete gamma function, unregularized:
    ``gammaincc(k, x) * gamma(k)``."""
    return elemwise("gammaincc", k, x) * elemwise("gamma", k)


@op_call
def gammal(k: Any, x: Any) -> Variable:
    """PyTensor's ``gammal``: the lower incomplete gamma function, unregularized:
    ``gammainc(k, x) * gamma(k)``."""
    return elemwise("gammainc", k, x) * elemwise("gamma", k)


def chi2sf(x: Any, k: Any) -> Variable:
    """PyTensor's ``chi2sf``: the survival function of the chi-squared distribution with ``k``
    degrees of freedom, ``gammaincc(k / 2, x / 2)`` (NaN for ``x < 0``, as there)."""
    return elemwise("gammaincc", _real(k, "float64") / 2, _real(x, "float64") / 2)


def _nonpositive_int(x: Variable) -> Variable:
    """Where ``x`` is 0 or a negative integer: the poles of gamma."""
    return elemwise("le", x, 0) & elemwise("eq", x, elemwise("floor", x))


def _parity_sign(n: Variable) -> Variable:
    """(-1)**n for an integer-valued ``n``: -1 where it is odd."""
    odd = elemwise("neq", n, 2 * elemwise("floor", n / 2))
    return elemwise("switch", odd, _const(-1, n), _const(1, n))


def _const(value: float, like: Variable) -> Variable:
    """``value`` as a constant of ``like``'s dtype (a Python float would make it float64)."""
    return constant(np.asarray(value, like.dtype))


def _safe(cond: Variable, x: Variable, stand_in: float) -> Variable:
    """``x`` where ``cond``, else a stand-in at which the branch is finite: the branch not
    taken then adds no NaN to the gradient of a switch."""
    return elemwise("switch", cond, x, stand_in)


def _beta_parts(a: Any, b: Any) -> tuple[Variable, Variable]:
    """(sign, log |B(a, b)|) with scipy's values at the poles of gamma(a) and gamma(b): for a
    nonpositive integer n (a, else b) and the other argument o, (-1)**o B(1 - n - o, o) when o
    is an integer with n + o <= 0 (+-inf for o <= 0, finite for o > 0), else +inf. A pole of
    gamma(a + b) alone gives a zero with the sign of gamma(a) gamma(b)."""
    a, b = _real(a), _real(b)
    pa, pb = _nonpositive_int(a), _nonpositive_int(b)
    pole = pa | pb
    n = elemwise("switch", pa, a, b)
    o = elemwise("switch", pa, b, a)
    paired = pole & elemwise("eq", o, elemwise("floor", o)) & elemwise("le", n + o, 0)
    finite = paired & elemwise("gt", o, 0)
    nf, of = _safe(finite, n, 0.0), _safe(finite, o, 1.0)
    at_pole = elemwise(
        "switch",
        finite,
        elemwise("gammaln", 1 - nf - of) + elemwise("gammaln", of) - elemwise("gammaln", 1 - nf),
        _const(np.inf, n),
    )
    ag, bg = _safe(~pole, a, 0.5), _safe(~pole, b, 0.5)
    general = elemwise("gammaln", ag) + elemwise("gammaln", bg) - elemwise("gammaln", ag + bg)
    sum_sign = elemwise("switch", _nonpositive_int(ag + bg), _const(1, ag), _gamma_sign(ag + bg))
    sign = elemwise(
        "switch",
        pole,
        elemwise("switch", paired, _parity_sign(o), _const(1, o)),
        _gamma_sign(ag) * _gamma_sign(bg) * sum_sign,
    )
    return sign, elemwise("switch", pole, at_pole, general)


def betaln(a: Any, b: Any) -> Variable:
    """PyTensor's ``betaln``: log |B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b), with
    scipy's values where a or b is a nonpositive integer (see :func:`beta`)."""
    return _beta_parts(a, b)[1]


def _gamma_sign(x: Variable) -> Variable:
    """The sign of gamma(x), right where gamma itself overflows."""
    return elemwise("sign", elemwise("gamma", x))


def beta(a: Any, b: Any) -> Variable:
    """scipy's ``beta``: B(a, b) = gamma(a) gamma(b) / gamma(a + b), as the sign of that ratio
    times ``exp(betaln(a, b))`` (finite where the gammas themselves overflow). At the poles of
    gamma(a) or gamma(b) scipy's values: for a nonpositive integer n and the other argument
    o, (-1)**o B(1 - n - o, o) when o is an integer with n + o <= 0, else inf; 0 (signed)
    where only a + b is a pole."""
    sign, log = _beta_parts(a, b)
    return sign * elemwise("exp", log)


def poch(z: Any, m: Any) -> Variable:
    """scipy's ``poch``, the rising factorial (z)_m = gamma(z + m) / gamma(z), as the sign of
    that ratio times the exponential of the difference of the ``gammaln`` (finite where the
    gammas themselves overflow). At the poles scipy's values: 1 for m = 0; for z a nonpositive
    integer 0, or, where z + m is one too and m is an integer, the finite ratio (-1)**m
    gamma(1 - z) / gamma(1 - z - m); inf where only z + m is a pole. Where a sum rounds onto a
    pole it is not, the exact value: for an integer m and a z that is not an integer (z =
    1e-17, m = -3) the product (z)_m, which the same reflected ratio (with the signs of its
    gammas) gives; for z a pole and m no integer (z = -6, m = 1e-300) 0, where scipy's sum
    rounds onto the pole and gives NaN."""
    z, m = _real(z), _real(m)
    pz, pzm = _nonpositive_int(z), _nonpositive_int(z + m)
    integer_m = elemwise("eq", m, elemwise("floor", m))
    integer_z = elemwise("eq", z, elemwise("floor", z))
    reflected = pzm & integer_m & (pz | ~integer_z)
    zr, mr = _safe(reflected, z, 0.0), _safe(reflected, m, 0.0)
    ratio = (
        _parity_sign(mr)
        * _gamma_sign(1 - zr)
        * _gamma_sign(1 - zr - mr)
        * elemwise("exp", elemwise("gammaln", 1 - zr) - elemwise("gammaln", 1 - zr - mr))
    )
    regular = ~(pz | pzm)
    zg, mg = _safe(regular, z, 0.5), _safe(regular, m, 0.0)
    log = elemwise("gammaln", zg + mg) - elemwise("gammaln", zg)
    general = _gamma_sign(zg + mg) * _gamma_sign(zg) * elemwise("exp", log)
    zero, inf = _const(0, general), _const(np.inf, general)
    out = elemwise(
        "switch", reflected, ratio, elemwise("switch", pz, zero, elemwise("switch", pzm, inf, general))
    )
    return elemwise("switch", elemwise("eq", m, 0), _const(1, out), out)


def factorial(n: Any) -> Variable:
    """scipy's ``factorial`` (``exact=False``): gamma(n + 1), float64 for integers (computed
    there, so no integer overflows), and 0 for negative n, as scipy's."""
    n = as_tensor_variable(n)
    g = elemwise("gamma", n + 1.0)
    return _zero_where(elemwise("lt", n, 0), g)


def _zero_where(cond: Variable, value: Variable) -> Variable:
    return elemwise("switch", cond, constant(np.zeros((), value.dtype)), value)


@op_call
def log1mexp(x: Any) -> Variable:
    """PyTensor's ``log1mexp``: log(1 - exp(x)) for x <= 0, accurate at both ends (``log1p(-exp
    x)`` below -log 2, ``log(-expm1 x)`` above; NaN for x > 0)."""
    x = _real(x)
    return elemwise(
        "switch",
        elemwise("lt", x, -math.log(2.0)),
        elemwise("log1p", -elemwise("exp", x)),
        elemwise("log", -elemwise("expm1", x)),
    )


@op_call
def log1pexp(x: Any) -> Variable:
    """PyTensor's ``log1pexp``: log(1 + exp(x)) without overflow (:func:`softplus`)."""
    return elemwise("softplus", x)


def xlogx(x: Any) -> Variable:
    """PyTensor's ``xlogx``: x * log(x), 0 at x = 0."""
    x = _real(x)
    return _zero_where(elemwise("eq", x, 0), x * elemwise("log", x))


def xlogy0(x: Any, y: Any) -> Variable:
    """PyTensor's ``xlogy0``: x * log(y), 0 where x = 0 (whatever y)."""
    x = _real(x)
    return _zero_where(elemwise("eq", x, 0), x * elemwise("log", y))


def _x_times(x: Any, y: Any, log: str) -> Variable:
    """x * log(y) (``log`` the op's name), 0 where x = 0 unless y is NaN (then NaN)."""
    x, y = _real(x), _real(y)
    return _zero_where(elemwise("eq", x, 0) & ~elemwise("isnan", y), x * elemwise(log, y))


def xlogy(x: Any, y: Any) -> Variable:
    """scipy's ``xlogy``: x * log(y), 0 where x = 0 unless y is NaN (then NaN). Its gradient
    in y is x / y; in x log(y), taken as 0 where x = 0 (the value is held there)."""
    return _x_times(x, y, "log")


def xlog1py(x: Any, y: Any) -> Variable:
    """scipy's ``xlog1py``: x * log1p(y), 0 where x = 0 unless y is NaN (then NaN). Its
    gradient in y is x / (1 + y); in x log1p(y), taken as 0 where x = 0."""
    return _x_times(x, y, "log1p")


def logit(x: Any) -> Variable:
    """The log-odds log(x / (1 - x)), the inverse of ``sigmoid`` (scipy's ``logit``: -inf at 0,
    inf at 1, NaN outside [0, 1]). Near 1/2, where the value is near 0, as 2 atanh(2x - 1)
    (2x - 1 is exact for x in [1/4, 1]); elsewhere as log(x) - log1p(-x), which keeps the
    digits of x near 0 and of 1 - x near 1."""
    x = _real(x)
    middle = elemwise("lt", elemwise("abs", x - 0.5), 0.25)
    return elemwise(
        "switch",
        middle,
        2 * elemwise("arctanh", 2 * x - 1),
        elemwise("log", x) - elemwise("log1p", -x),
    )


def sinc(x: Any) -> Variable:
    """numpy's normalized ``sinc``: sin(pi x) / (pi x), 1 at 0. The division sees 1 where
    x = 0, so the gradient there is the limit 0, not NaN."""
    x = _real(x, "float64")  # numpy's: pi * x of integers is float64
    zero = elemwise("eq", x, 0)
    px = elemwise("switch", zero, 1, math.pi * x)
    return elemwise("switch", zero, 1, elemwise("sin", px) / px)


# PyTensor's tensor.special also holds softmax and log_softmax (axis=None: every entry)
from .softmax_losses import special_log_softmax as log_softmax, special_softmax as softmax  # noqa: E402

__all__ += ["softmax", "log_softmax"]
