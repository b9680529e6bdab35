"""Gauss's hypergeometric function ``hyp2f1(a, b, c, z)`` (PyTensor's ``pt.hyp2f1``, scipy's
``scipy.special.hyp2f1``), elementwise over its four broadcast operands.

fncache does not depend on scipy, and 2F1's analytic continuation past the unit disc is a
library of its own: the op's ``perform`` calls scipy's (a Python step in the C linker), and a
process without scipy gets an error naming the function when the graph is built. Its gradient
in ``z`` is 2F1 again, ``a b / c * 2F1(a + 1, b + 1, c + 1, z)``; in ``a``, ``b`` and ``c`` it
is the derivative of the power series term by term (``Hyp2F1Grad``, numpy), as PyTensor's:
0 at ``z = 0``, NaN where the series does not converge (``|z| > 1``, or ``|z| = 1`` with
``c <= a + b``); so are the second derivatives in two parameters (third ones are refused).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType
from .basic import as_tensor_variable
from .elemwise import broadcast_static_shape
from .grad_markers import NullType
from .gradient import register_grad
from .optional_deps import scipy_module
from .op_call import op_call

__all__ = ["Hyp2F1", "Hyp2F1Grad", "hyp2f1"]

#: the most terms the gradient's series sums (|z| near 1 converges slowly)
MAX_TERMS = 100_000


def _float_dtype(dtypes: list[str]) -> str:
    """The float dtype a special function gives for these operands (float16 made float32)."""
    dt = np.result_type(*[np.dtype(d) for d in dtypes], np.float16)
    return "float32" if dt == np.float16 else dt.name


def _operands(what: str, *xs: Any) -> tuple[list[Variable], str, tuple]:
    vs = [as_tensor_variable(x) for x in xs]
    for v in vs:
        if v.dtype.startswith("complex") or not (v.dtype == "bool" or v.dtype[0] in "uif"):
            raise TypeError(f"{what}: takes real numbers, got {v.type}; give float or int tensors")
    shape = broadcast_static_shape([v.type.shape for v in vs], what)
    return vs, _float_dtype([v.dtype for v in vs]), shape


class Hyp2F1(Op):
    """scipy.special.hyp2f1 of four broadcast operands."""

    __props__ = ()

    def make_node(self, a: Variable, b: Variable, c: Variable, z: Variable) -> Apply:
        vs, dt, shape = _operands("hyp2f1", a, b, c, z)
        return Apply(self, vs, [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        special = scipy_special("hyp2f1")
        with np.errstate(all="ignore"):
            res = special.hyp2f1(*[np.asarray(x, np.float64) for x in inputs])
        return [np.asarray(res, dtype=node.outputs[0].dtype)]


def _series_grad(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray, wrt: Any) -> np.ndarray:
    """d 2F1 / d (a, b or c: ``wrt`` 0, 1, 2), or with ``wrt`` a pair ``(i, j)`` the second
    derivative in those two, from the series sum_k t_k, t_{k+1} = r_k t_k with r_k = (a + k)
    (b + k) z / ((c + k)(k + 1)): dt_{k+1} = dr_k t_k + r_k dt_k and ddt_{k+1} = ddr_k t_k +
    dr_k dt_k + dr_k dt_k + r_k ddt_k (Leibniz), dr_k being r_k without its factor (a + k)
    (or (b + k)), or -r_k / (c + k), and ddr_k that again (0 for a twice or b twice). Summed
    until every converging element's term is below 1e-16 of its sum."""
    i, j = (wrt, None) if isinstance(wrt, int) else wrt
    a, b, c, z = np.broadcast_arrays(*[np.asarray(x, np.float64) for x in (a, b, c, z)])
    converges = (np.abs(z) < 1) | ((np.abs(z) == 1) & (c > a + b))
    zz = np.where(converges, z, 0.0)
    t, total, ddt = np.ones(z.shape), np.zeros(z.shape), np.zeros(z.shape)
    dt = {k: np.zeros(z.shape) for k in {i, j} - {None}}
    with np.errstate(all="ignore"):
        for k in range(MAX_TERMS):
            base = zz / ((c + k) * (k + 1))
            r = (a + k) * (b + k) * base
            dr = [(b + k) * base, (a + k) * base, -r / (c + k)]
            if j is not None:
                ddr = {
                    (0, 1): base,
                    (0, 2): -dr[0] / (c + k),
                    (1, 2): -dr[1] / (c + k),
                    (2, 2): -2 * dr[2] / (c + k),
                }
                ddt = ddr.get((i, j), 0.0) * t + dr[i] * dt[j] + dr[j] * dt[i] + r * ddt
            dt = {m: dr[m] * t + r * d for m, d in dt.items()}
            t = r * t
            term = dt[i] if j is None else ddt
            total = total + term
            if k > 2 and not np.any(np.abs(term) > 1e-16 * np.abs(total)):
                break
    return np.where(z == 0, 0.0, np.where(converges, total, np.nan))


class Hyp2F1Grad(Op):
    """The derivative of hyp2f1 in ``a``, ``b`` or ``c`` (``wrt`` 0, 1 or 2), or with ``wrt``
    a pair ``(i, j)``, ``i <= j``, the second derivative in those two."""

    __props__ = ("wrt",)

    def __init__(self, wrt: int | tuple[int, int]) -> None:
        self.wrt = wrt if isinstance(wrt, int) else tuple(sorted(int(k) for k in wrt))

    def make_node(self, a: Variable, b: Variable, c: Variable, z: Variable) -> Apply:
        vs, dt, shape = _operands("hyp2f1", a, b, c, z)
        return Apply(self, vs, [TensorType(dt, shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(_series_grad(*inputs, self.wrt), dtype=node.outputs[0].dtype)]


@register_grad(Hyp2F1)
def _hyp2f1_grad(node: Apply, out_grads: list) -> list:
    a, b, c, z = node.inputs
    g = out_grads[0]
    if g is None:
        return [None] * 4
    dz = a * b / c * Hyp2F1()(a + 1, b + 1, c + 1, z)
    return [g * Hyp2F1Grad(k)(a, b, c, z) for k in range(3)] + [g * dz]


def _scale_derivative(a: Variable, b: Variable, c: Variable, wrt: tuple[int, ...]) -> Variable | None:
    """The derivative of ``s = a b / c`` in the parameters ``wrt`` (none, one or two); None for
    zero."""
    ks = tuple(sorted(wrt))
    return {
        (): a * b / c,
        (0,): b / c,
        (1,): a / c,
        (2,): -a * b / c**2,
        (0, 1): 1 / c,
        (0, 2): -b / c**2,
        (1, 2): -a / c**2,
        (2, 2): 2 * a * b / c**3,
    }.get(ks)


@register_grad(Hyp2F1Grad)
def _hyp2f1_grad_grad(node: Apply, out_grads: list) -> list:
    """In ``z``: d/dz 2F1 is ``s 2F1(a + 1, b + 1, c + 1, z)`` with ``s = a b / c``, whose
    derivatives in the parameters are Leibniz's sums of those of ``s`` and of 2F1 at the raised
    parameters. In ``a``, ``b`` and ``c``: the second derivatives, and past them undefined
    (third derivatives in the parameters are not implemented), refused where one is needed."""
    a, b, c, z = node.inputs
    g = out_grads[0]
    wrt = (node.op.wrt,) if isinstance(node.op.wrt, int) else node.op.wrt
    up = (a + 1, b + 1, c + 1, z)

    def at_up(ks: tuple[int, ...]) -> Variable:
        return Hyp2F1()(*up) if not ks else Hyp2F1Grad(ks[0] if len(ks) == 1 else ks)(*up)

    # the derivative of s F in wrt: over the ways of splitting wrt between s and F (a or b
    # twice is 0 in s)
    dz = 0
    for mask in range(2 ** len(wrt)):
        in_s = tuple(k for m, k in enumerate(wrt) if mask >> m & 1)
        ds = _scale_derivative(a, b, c, in_s)
        if ds is not None:
            dz = dz + ds * at_up(tuple(k for m, k in enumerate(wrt) if not mask >> m & 1))
    if len(wrt) == 1:
        return [g * Hyp2F1Grad((wrt[0], k))(a, b, c, z) for k in range(3)] + [g * dz]
    why = (
        f"{node.op}, the second derivative of hyp2f1 in {' and '.join('abc'[k] for k in wrt)}, has no "
        "gradient in a, b or c (third derivatives of hyp2f1 in its parameters are not implemented); "
        "differentiate in them at most twice, or differentiate the rest in z only"
    )
    return [NullType(why)() for _ in range(3)] + [g * dz]


def scipy_special(what: str) -> ModuleType:
    """scipy.special, or an error naming ``what`` when scipy is not installed."""
    return scipy_module("special", what)


@op_call
def hyp2f1(a: Any, b: Any, c: Any, z: Any) -> Variable:
    """scipy.special.hyp2f1: Gauss's hypergeometric function 2F1(a, b; c; z), elementwise
    over the broadcast operands (float64 for ints and float64, float32 for float32).
    Differentiable in all four: in ``z`` everywhere, in ``a``, ``b``, ``c`` where the power
    series converges (NaN elsewhere, as PyTensor's)."""
    scipy_special("hyp2f1")
    return Hyp2F1()(a, b, c, z)
