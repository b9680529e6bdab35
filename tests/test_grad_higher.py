"""Derivatives past the second: ``det``'s, ``slogdet``'s and ``log(det)``'s third and fourth
derivatives (singular and nearly singular matrices included) against fourth-order central
differences of the derivative one order below; and, for every op with a gradient rule, its
gradient graph differentiated again: equal to the differences of the gradient, or refused
with a ``NullTypeGradError`` naming the op."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import fncache as fc
from fncache import tensor as ft
from fcutil import fd4_differences, symbolic_like

RNG = np.random.default_rng(2031)
MODE = "FAST_COMPILE"


def _of_rank(n: int, rank: int) -> np.ndarray:
    return RNG.normal(size=(n, rank)) @ RNG.normal(size=(rank, n))


def _close(got: np.ndarray, want: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    """Each matrix of the stack within ``rtol`` of its largest entry in ``want``."""
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    for i in np.ndindex(want.shape[:-2]):
        scale = max(float(np.max(np.abs(want[i]), initial=0.0)), 1e-3)
        np.testing.assert_allclose(got[i], want[i], rtol=0, atol=rtol * scale, err_msg=f"{what}, matrix {i}")


def _check_orders(name: str, cost_of: Callable[[Any], Any], value: np.ndarray, orders: int, h: float) -> None:
    """The derivatives of ``cost_of(x)`` of orders 2..``orders``, each the gradient of the one
    below along a random direction, ``g_{k+1} = grad(sum(g_k * d_k))``, against the
    differences of ``sum(g_k * d_k)`` (one compiled function, one pass of differences)."""
    x = symbolic_like(value)
    grads, scalars, scalar = [], [], cost_of(x)
    for _ in range(orders):
        g = fc.grad(scalar, x)
        scalar = ft.sum(g * RNG.normal(size=value.shape))
        grads.append(g)
        scalars.append(scalar)
    f = fc.function([x], scalars + grads[1:], mode=MODE)
    got = f(value)[orders:]
    want = fd4_differences(lambda y: np.array(f(y)[: orders - 1]), value, h)
    for k in range(orders - 1):
        _close(got[k], want[k], f"{name}: derivative {k + 2}")


def test_det_third_and_fourth_derivatives_at_regular_nearly_singular_and_singular_matrices() -> None:
    """det's derivatives are finite for every matrix (det is a polynomial): a stack of a
    regular matrix, one with a singular value of 1e-9, ranks n - 1, n - 2 and 0; det's own and
    those of det**2 + sin(det), whose gradients scale the cofactors by a value that depends on
    the matrix; past the matrix's size, det's are zero (statically for a declared size)."""
    stack = np.stack(
        [_of_rank(4, 4), _of_rank(4, 3) + 1e-9 * np.eye(4), _of_rank(4, 3), _of_rank(4, 2), np.zeros((4, 4))]
    )
    _check_orders("det", lambda x: ft.sum(ft.det(x) * [1.0, -2.0, 0.5, 1.5, 1.0]), stack, 4, 1e-3)
    _check_orders(
        "det**2 + sin(det)", lambda x: ft.sum(ft.det(x) ** 2 + ft.sin(ft.det(x))), stack[::3], 3, 1e-3
    )
    x = ft.tensor("x", "float64", shape=(3, 3))
    d = [RNG.normal(size=(3, 3)) for _ in range(3)]
    g3 = fc.grad(ft.sum(fc.grad(ft.sum(fc.grad(ft.det(x), x) * d[0]), x) * d[1]), x)
    g4 = fc.grad(ft.sum(g3 * d[2]), x)
    np.testing.assert_array_equal(fc.function([x], g4, mode=MODE)(_of_rank(3, 3)), np.zeros((3, 3)))


def test_slogdet_and_log_det_third_derivatives() -> None:
    """log|det| (inv(x)^T's derivatives) at a regular and a nearly singular matrix (smallest
    singular value 1e-2: the derivatives grow as its powers), and log(det) through det."""
    u, v = np.linalg.qr(RNG.normal(size=(3, 3)))[0], np.linalg.qr(RNG.normal(size=(3, 3)))[0]
    near = (u * [2.0, 1.0, 1e-2]) @ v.T
    for what, a, h in (("regular", _of_rank(3, 3), 1e-3), ("nearly singular", near, 1e-5)):
        _check_orders(f"slogdet, {what}", lambda x: ft.slogdet(x)[1], a, 4, h)
    spd = _of_rank(3, 3)
    spd = spd @ spd.T + np.eye(3)
    _check_orders("log(det)", lambda x: ft.log(ft.det(x)), spd, 3, 1e-4)
