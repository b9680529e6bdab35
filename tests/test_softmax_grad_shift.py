"""The gradients of ``softmax``, ``log_softmax`` and ``logsumexp`` do not flow through the max
they subtract: the results do not depend on the shift, so its terms cancel exactly. Built, they
cost a reduction per row and a pass over the scores with the max's mask (``x == max``) in every
training step of a softmax classifier."""

from __future__ import annotations

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.reduction import Reduce


def _nll(z, y):
    return -ft.mean(ft.log(ft.softmax(z))[ft.arange(y.shape[0]), y])


COSTS = {
    "softmax nll": lambda z, y: _nll(z, y),
    "log_softmax nll": lambda z, y: -ft.mean(ft.log_softmax(z)[ft.arange(y.shape[0]), y]),
    "logsumexp": lambda z, y: ft.logsumexp(z, axis=1).sum(),
}


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name", list(COSTS))
def test_gradient_has_no_mask_of_the_max_and_matches_numpy(name: str) -> None:
    z, y = ft.dmatrix("z"), ft.ivector("y")
    g = fc.grad(COSTS[name](z, y), z)
    f = fc.function([z, y], g, on_unused_input="ignore")
    nodes = f.optimized_graph.toposort()
    # the max's mask is an `eq` over the scores (a fused one too) that reads them; a 0-d `eq` is
    # a size check, and the cross-entropy's one-hot rows compare the class indices with arange(k)
    masks = [
        n
        for n in nodes
        if n.outputs[0].ndim == 2
        and "eq" in str(n.op).replace("{", ",").replace("}", ",").split(",")
        and any(v is z for v in n.inputs)
    ]
    assert not masks, nodes
    # the forward max and sum per row, and one sum per row of the gradient
    assert len([n for n in nodes if isinstance(n.op, Reduce) and n.inputs[0].ndim == 2]) <= 3, nodes
    r = np.random.default_rng(0)
    a = r.standard_normal((6, 9)) * 4
    a[2, [1, 5]] = a[2].max() + 1  # a tie for the max
    yv = r.integers(0, 9, 6).astype(np.int32)
    p = _softmax(a)
    if name == "logsumexp":
        want = p
    else:
        want = p.copy()
        want[np.arange(6), yv] -= 1
        want /= 6
    np.testing.assert_allclose(f(a, yv), want, rtol=1e-12, atol=1e-15)


def test_second_derivatives_are_those_of_the_shift_free_function() -> None:
    """The Hessian of logsumexp is diag(p) - p p^T; a Hessian-vector product of the softmax
    loss is the product of that Hessian (per row, over n) with v."""
    x, z, v, y = ft.dvector("x"), ft.dmatrix("z"), ft.dmatrix("v"), ft.ivector("y")
    h = fc.function([x], ft.hessian(ft.logsumexp(x), x))
    cost = COSTS["softmax nll"](z, y)
    hv = fc.function([z, y, v], fc.grad(ft.sum(fc.grad(cost, z) * v), z))
    r = np.random.default_rng(1)
    xv = r.standard_normal(7) * 3
    p = _softmax(xv[None, :])[0]
    np.testing.assert_allclose(h(xv), np.diag(p) - np.outer(p, p), rtol=1e-11, atol=1e-14)
    a, vv, yv = r.standard_normal((4, 5)), r.standard_normal((4, 5)), np.array([0, 4, 2, 2], np.int32)
    P = _softmax(a)
    want = (P * vv - P * (P * vv).sum(axis=1, keepdims=True)) / 4
    np.testing.assert_allclose(hv(a, yv, vv), want, rtol=1e-11, atol=1e-14)
