"""Scalar operations: the table from which elementwise ops, fusion and C code are made.

Each scalar op has a numpy implementation (the reference: output dtypes are whatever numpy gives,
found by probing it once) and a C expression. C helpers that need branches (integer division by
zero, Python-style modulo, NaN-propagating max) live in ``fncache/codegen/prelude.h``.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..config import config
from ..graph.types import is_complex, is_float, is_inexact, is_int, normalize_dtype

__all__ = ["ScalarOp", "SCALAR_OPS", "get", "out_dtype", "result_type", "default_float", "Composite"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.bool_:
        x = x.astype(np.float16)  # numpy has no negative of bools; a float result as exp's
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros((), dtype=np.result_type(x, np.float16)), x)


_erf_vec = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    dt = np.result_type(x, np.float16)
    if dt == np.float16:
        dt = np.dtype(np.float32)
    return np.asarray(_erf_vec(x.astype(np.float64)), dtype=np.float64).astype(dt)


def _sqr(x: np.ndarray) -> np.ndarray:
    return np.multiply(x, x)


def _where(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(c, a, b)


def _identity(x: np.ndarray) -> np.ndarray:
    return np.array(x, copy=True)


class ScalarOp(NamedTuple):
    """``c`` is a C expression over ``$0, $1, ...`` (already converted to the compute type ``$T``).

    A named tuple, not a dataclass: a warm cache hit in a fresh process imports this module, and
    making a named tuple costs about a tenth of a dataclass (nor is ``dataclasses`` imported then).
    """

    name: str
    nin: int
    impl: Callable[..., Any]
    c: str
    c_int: str | None = None  # alternative C expression when the compute type is integral
    c_bool: str | None = None  # alternative when it is bool
    #: "float": inputs are converted to the output float type before the expression runs;
    #: "common": to numpy's common type of the inputs; "out": to the output type.
    compute: str = "out"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self):
        return (get, (self.name,))


def _f(name: str, nin: int, impl: Callable[..., Any], c: str, **kw: Any) -> ScalarOp:
    return ScalarOp(name, nin, impl, c, **kw)


_OPS: list[ScalarOp] = [
    _f("add", 2, np.add, "($0 + $1)", c_bool="($0 || $1)"),
    _f("sub", 2, np.subtract, "($0 - $1)"),
    _f("mul", 2, np.multiply, "($0 * $1)", c_bool="($0 && $1)"),
    _f("true_div", 2, np.true_divide, "($0 / $1)"),
    _f("floor_div", 2, np.floor_divide, "fc_floordiv_$T($0, $1)"),
    _f("mod", 2, np.remainder, "fc_mod_$T($0, $1)"),
    _f("pow", 2, np.power, "fc_pow_$T($0, $1)"),
    _f("neg", 1, np.negative, "(-$0)"),
    _f("lt", 2, np.less, "($0 < $1)", compute="common"),
    _f("le", 2, np.less_equal, "($0 <= $1)", compute="common"),
    _f("gt", 2, np.greater, "($0 > $1)", compute="common"),
    _f("ge", 2, np.greater_equal, "($0 >= $1)", compute="common"),
    _f("eq", 2, np.equal, "($0 == $1)", compute="common"),
    _f("neq", 2, np.not_equal, "($0 != $1)", compute="common"),
    _f("and_", 2, np.bitwise_and, "($0 & $1)", c_bool="($0 && $1)"),
    _f("or_", 2, np.bitwise_or, "($0 | $1)", c_bool="($0 || $1)"),
    _f("xor", 2, np.bitwise_xor, "($0 ^ $1)", c_bool="($0 != $1)"),
    _f("invert", 1, np.invert, "(~$0)", c_bool="(!$0)"),
    _f("abs", 1, np.abs, "fc_fabs_$T($0)", c_int="(($0) < 0 ? -($0) : ($0))", c_bool="$0"),
    _f("exp", 1, np.exp, "fc_exp_$T($0)", compute="float"),
    _f("log", 1, np.log, "fc_log_$T($0)", compute="float"),
    _f("log1p", 1, np.log1p, "fc_log1p_$T($0)", compute="float"),
    _f("expm1", 1, np.expm1, "fc_expm1_$T($0)", compute="float"),
    _f("log2", 1, np.log2, "fc_log2_$T($0)", compute="float"),
    _f("log10", 1, np.log10, "fc_log10_$T($0)", compute="float"),
    _f("sqrt", 1, np.sqrt, "fc_sqrt_$T($0)", compute="float"),
    _f("sqr", 1, _sqr, "($0 * $0)", c_bool="$0"),
    _f("sin", 1, np.sin, "fc_sin_$T($0)", compute="float"),
    _f("cos", 1, np.cos, "fc_cos_$T($0)", compute="float"),
    _f("tan", 1, np.tan, "fc_tan_$T($0)", compute="float"),
    _f("arcsin", 1, np.arcsin, "fc_asin_$T($0)", compute="float"),
    _f("arccos", 1, np.arccos, "fc_acos_$T($0)", compute="float"),
    _f("arctan", 1, np.arctan, "fc_atan_$T($0)", compute="float"),
    _f("sinh", 1, np.sinh, "fc_sinh_$T($0)", compute="float"),
    _f("cosh", 1, np.cosh, "fc_cosh_$T($0)", compute="float"),
    _f("tanh", 1, np.tanh, "fc_tanh_$T($0)", compute="float"),
    _f("sigmoid", 1, _sigmoid, "fc_sigmoid_$T($0)", compute="float"),
    _f("softplus", 1, _softplus, "fc_softplus_$T($0)", compute="float"),
    _f("erf", 1, _erf, "fc_erf_$T($0)", compute="float"),
    _f("sign", 1, np.sign, "fc_sign_$T($0)", c_int="((($0) > 0) - (($0) < 0))"),
    _f("floor", 1, np.floor, "fc_floor_$T($0)", c_int="$0", c_bool="$0"),
    _f("ceil", 1, np.ceil, "fc_ceil_$T($0)", c_int="$0", c_bool="$0"),
    _f("round", 1, np.round, "fc_rint_$T($0)", c_int="$0", c_bool="$0"),
    _f(
        "maximum",
        2,
        np.maximum,
        "fc_max_$T($0, $1)",
        c_int="(($0) > ($1) ? ($0) : ($1))",
        c_bool="($0 || $1)",
    ),
    _f(
        "minimum",
        2,
        np.minimum,
        "fc_min_$T($0, $1)",
        c_int="(($0) < ($1) ? ($0) : ($1))",
        c_bool="($0 && $1)",
    ),
    _f("isnan", 1, np.isnan, "fc_isnan_$T($0)", c_int="0", c_bool="0", compute="common"),
    _f("isinf", 1, np.isinf, "fc_isinf_$T($0)", c_int="0", c_bool="0", compute="common"),
    _f("switch", 3, _where, "($0 ? $1 : $2)", compute="out"),
    _f("identity", 1, _identity, "$0"),
]

SCALAR_OPS: dict[str, ScalarOp] = {op.name: op for op in _OPS}


def get(name: str) -> ScalarOp:
    return SCALAR_OPS[name]


@functools.lru_cache(maxsize=4096)
def _probe(name: str, dtypes: tuple[str, ...]) -> str:
    op = SCALAR_OPS[name]
    args = [np.ones(1, dtype=d) for d in dtypes]
    if name == "switch":
        return normalize_dtype(np.result_type(*args[1:]))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # An implementation for real values only casts complex inputs to float, dropping their
        # imaginary parts: a wrong value, so those inputs are refused.
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            res = op.impl(*args)
        except np.exceptions.ComplexWarning:
            raise TypeError(
                "it is defined for real values only (it would drop the imaginary parts); take "
                "ft.real, ft.imag or ft.abs of a complex value first"
            ) from None
    return normalize_dtype(np.asarray(res).dtype)


def out_dtype(name: str, dtypes: Sequence[str]) -> str:
    """The output dtype numpy gives for scalar op ``name`` on inputs of ``dtypes``, but that an
    integer divided by an integer is :func:`default_float`.

    Raises TypeError (numpy's own message, with the op name) for combinations numpy rejects,
    such as ``-bool`` or ``bool - bool``.
    """
    try:
        out = _probe(name, tuple(dtypes))
    except TypeError as e:
        raise TypeError(
            f"{name} is not defined for dtypes {', '.join(dtypes)}; it accepts {_accepted(name)}: {e}"
        ) from None
    if name == "true_div" and not any(is_inexact(d) for d in dtypes):
        return default_float()
    return out


# Under floatX=float32 fncache gives the float dtypes Theano and PyTensor give, which their
# users set that flag for: no float64 that no float64 operand asked for. These two functions
# are where the front end reads that rule; under floatX=float64 they are numpy's.


def default_float() -> str:
    """The float dtype of a result that no float operand decides: an integer divided by an
    integer, ``linspace`` of integers. numpy's float64, or float32 under ``floatX=float32`` (as
    PyTensor's ``int8_vector / 2``)."""
    return config.floatX


def _is_python_float(x: Any) -> bool:
    # np.float64 is a float too, but a typed one: numpy keeps its dtype
    return isinstance(x, float) and not isinstance(x, np.generic)


def result_type(*operands: Any) -> np.dtype:
    """numpy's ``result_type`` of dtypes and Python numbers, the numbers weak (NEP 50:
    ``float32_vector * 2.0`` stays float32), but under ``floatX=float32`` a Python float is a
    float32 operand, as PyTensor's autocasting makes it: ``int8_vector * 1.5`` is float32
    (numpy's: float64), ``int32_vector * 1.5`` float64 (float32 cannot hold every int32), and
    ``float64_vector * 1.5`` float64."""
    if config.floatX == "float32":
        operands = tuple(np.dtype(np.float32) if _is_python_float(o) else o for o in operands)
    return np.result_type(*operands)


@functools.lru_cache(maxsize=None)
def _accepted(name: str) -> str:
    """The dtypes op ``name`` accepts (each given for all its inputs), for error messages."""
    from ..graph.types import DTYPES

    ok = []
    for d in DTYPES:
        try:
            _probe(name, (d,) * SCALAR_OPS[name].nin)
        except TypeError:
            continue
        ok.append(d)
    return ", ".join(ok) if ok else "no dtype"


def compute_dtype(op: ScalarOp, in_dtypes: Sequence[str], out: str) -> str:
    """The C type the expression is evaluated in (inputs are converted to it)."""
    if op.name == "switch":
        return out
    if op.name == "true_div" and not any(is_inexact(d) for d in in_dtypes):
        # integers divide in float64 whatever the result's float (float32 under floatX=float32):
        # float32 holds no integer above 2**24, and the float64 quotient rounds once, as numpy's
        return "float64"
    if op.compute == "float":
        if any(is_complex(d) for d in in_dtypes):
            # complex inputs keep their imaginary parts (angle gives a real result)
            return normalize_dtype(np.result_type(*[np.dtype(d) for d in in_dtypes]))
        return out if is_float(out) or is_complex(out) else "float64"
    if op.compute == "common":
        return normalize_dtype(np.result_type(*[np.dtype(d) for d in in_dtypes]))
    return out


def step_may_raise(name: str, dtype: str) -> bool:
    """Whether scalar op ``name`` giving ``dtype`` raises for some operands: an integer power
    (numpy's ValueError for a negative exponent), the one scalar op that checks its values."""
    return name == "pow" and is_int(dtype)


class Composite:
    """A small scalar graph (the body of a fused loop), in SSA form.

    ``steps`` is a tuple of (scalar op name or "cast:<dtype>", input refs, out dtype); an input ref
    is ``("in", k)`` for the k-th loop input or ``("s", j)`` for step j's result. ``outputs``
    lists the step indices that are the composite's outputs.
    """

    __slots__ = ("in_dtypes", "steps", "outputs", "_hash")

    def __init__(
        self, in_dtypes: Sequence[str], steps: Sequence[tuple[str, tuple, str]], outputs: Sequence[int]
    ) -> None:
        self.in_dtypes = tuple(in_dtypes)
        self.steps = tuple((s[0], tuple(tuple(r) for r in s[1]), s[2]) for s in steps)
        self.outputs = tuple(outputs)
        self._hash = hash((self.in_dtypes, self.steps, self.outputs))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Composite)
            and self.in_dtypes == other.in_dtypes
            and self.steps == other.steps
            and self.outputs == other.outputs
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return "Composite{" + ",".join(s[0] for s in self.steps) + "}"

    def __reduce__(self):
        return (Composite, (self.in_dtypes, self.steps, self.outputs))

    @property
    def out_dtypes(self) -> tuple[str, ...]:
        return tuple(self.steps[j][2] for j in self.outputs)

    @property
    def may_raise(self) -> bool:
        """Whether some values make computing it raise (a step `step_may_raise`)."""
        return any(step_may_raise(name, dt) for name, _, dt in self.steps)

    def evaluate(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """numpy reference evaluation (used by the Python linker and constant folding)."""
        vals: list[Any] = []
        for name, refs, dt in self.steps:
            args = [inputs[k] if kind == "in" else vals[k] for kind, k in refs]
            vals.append(apply_scalar(name, args, dt))
        return [np.asarray(vals[j]) for j in self.outputs]


class FloatToInt(NamedTuple):
    """How a float converts to an integer dtype, in every linker. C leaves NaN, the infinities
    and values out of the type's range undefined (gcc's AVX-512 loops saturate the unsigned
    ones), and numpy's loops answer by platform, and for uint32 even by an element's place in
    the array; this is the rule numpy's x86-64 loops follow: the value truncated toward zero in
    ``via``, wrapped to the dtype."""

    #: values in ``[lo, hi)`` are truncated in ``via`` and wrapped to the dtype
    lo: float
    hi: float
    via: str
    #: what NaN, -inf and values below ``lo`` give (``via``'s minimum, wrapped)
    below: int
    #: what +inf and values from ``hi`` on give
    above: int


@functools.lru_cache(maxsize=None)
def float_to_int_rule(dtype: str) -> FloatToInt:
    """The conversion of floats to integer ``dtype``: in int32 for the types of 32 bits or
    fewer, in int64 for int64 and uint64; uint32 and uint64 take values up to 2**32 and 2**64
    (the upper half as the signed value 2**31 or 2**63 below, with the top bit set), and give 0
    from there on."""
    bits = np.iinfo(dtype).bits
    wide = 64 if bits == 64 else 32
    unsigned_wide = dtype.startswith("uint") and bits == wide
    below = int(np.array(-(2 ** (wide - 1)), f"int{wide}").astype(dtype))
    return FloatToInt(
        lo=-(2.0 ** (wide - 1)),
        hi=2.0**wide if unsigned_wide else 2.0 ** (wide - 1),
        via=f"int{wide}",
        below=below,
        above=0 if unsigned_wide else below,
    )


def float_to_int(x: Any, dtype: str) -> np.ndarray:
    """Floats ``x`` converted to integer ``dtype`` by :func:`float_to_int_rule` (numpy's
    ``astype`` is that only on x86-64, and not for every uint32 element)."""
    rule = float_to_int_rule(dtype)
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        inside = (x >= rule.lo) & (x < rule.hi)
        t = np.where(inside, x, 0)
        if rule.above != rule.below:  # uint32, uint64: t may be past via's range
            res = np.where(t < 0, t.astype(rule.via).astype(dtype), t.astype(dtype))
        else:
            res = t.astype(rule.via).astype(dtype)
    if not inside.all():
        out_of_range = np.where(x >= rule.hi, np.array(rule.above, dtype), np.array(rule.below, dtype))
        res = np.where(inside, res, out_of_range)
    return np.asarray(res, dtype=dtype)


def apply_scalar(name: str, args: Sequence[Any], dtype: str) -> np.ndarray:
    """Run scalar op ``name`` (or ``cast:<dtype>``) with numpy, giving exactly ``dtype``."""
    with np.errstate(all="ignore"):
        if name.startswith("cast:") and is_float(np.asarray(args[0]).dtype.name) and is_int(dtype):
            res = float_to_int(args[0], dtype)
        elif name.startswith("cast:"):
            res = np.asarray(args[0]).astype(dtype)
        else:
            op = SCALAR_OPS[name]
            if op.compute == "float":
                # numpy would compute small ints in float16 and lose precision; compute in the
                # output's float type, as the C code does.
                ct = np.dtype(compute_dtype(op, [np.asarray(a).dtype.name for a in args], dtype))
                args = [a if np.asarray(a).dtype == ct else np.asarray(a).astype(ct) for a in args]
            res = np.asarray(op.impl(*args))
            if res.dtype.name != dtype:
                res = res.astype(dtype)
    return res


# The ops beyond the core table register themselves in SCALAR_OPS (after everything they use
# from this module exists).
from . import scalar_math  # noqa: E402,F401
