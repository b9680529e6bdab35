"""Batch normalization (``ft.nnet.bn``, Theano's ``tensor.nnet.bn``): ``batch_normalization``
(normalize with given statistics), ``batch_normalization_train`` (with the batch's own
statistics, and the new running averages) and ``batch_normalization_test`` (with the running
averages). Theano has ops of their own for them; here each is a mean, a variance and one
elementwise chain, so the normalization fuses into one C loop and its gradients come from the
rules of those ops."""

from __future__ import annotations

import functools
import operator
from typing import Any, Sequence

from ..graph.args import as_int
from ..graph.basic import Variable
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise
from .activations import float_tensor
from .reduction import mean, var
from .shape_ops import dimshuffle

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(
    inputs: Any, gamma: Any, beta: Any, mean: Any, std: Any, mode: str = "low_mem"
) -> Variable:
    """``(inputs - mean) * (gamma / std) + beta``, every operand broadcast against ``inputs``
    (Theano's). ``mode='low_mem'`` divides each entry by ``std`` (``((inputs - mean) * gamma) /
    std + beta``), ``'high_mem'`` multiplies by ``gamma / std`` computed once; both are one
    fused loop here, and they agree to rounding."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got {mode!r}")
    x = float_tensor(inputs)
    centered = elemwise("sub", x, mean)
    if mode == "low_mem":
        return elemwise("add", elemwise("true_div", elemwise("mul", centered, gamma), std), beta)
    return elemwise("add", elemwise("mul", centered, elemwise("true_div", gamma, std)), beta)


def _axes(axes: Any, ndim: int, fn: str) -> tuple[int, ...]:
    """Theano's ``axes``: 'per-activation' (0,), 'spatial' (0, 2, 3, ...) or the ints."""
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, (tuple, list)) and all(as_int(a) is not None for a in axes):
        out = tuple(sorted(set(as_int(a) for a in axes)))
        if out and 0 <= out[0] and out[-1] < ndim:
            return out
    raise ValueError(
        f"{fn}: axes must be 'per-activation', 'spatial' or a non-empty tuple of axes in [0, {ndim}) "
        f"of the {ndim}-d inputs, got {axes!r}"
    )


def _params(values: Sequence[tuple[str, Any]], axes: tuple[int, ...], ndim: int, fn: str) -> list[Variable]:
    """The parameters as tensors of the inputs' ``ndim`` (size 1 on ``axes``): given with the
    ``ndim - len(axes)`` dims that are not normalized over, they are dimshuffled there."""
    kept = [d for d in range(ndim) if d not in axes]
    out = []
    for name, value in values:
        v = as_tensor_variable(value)
        if v.ndim == ndim - len(axes) and v.ndim != ndim:
            order: list[Any] = ["x"] * ndim
            for i, d in enumerate(kept):
                order[d] = i
            v = dimshuffle(v, order)
        elif v.ndim != ndim:
            raise ValueError(
                f"{fn}: {name} must have the inputs' {ndim} dims (size 1 on the axes {axes}) or the "
                f"{ndim - len(axes)} dims not normalized over, got {v.type} ({v.ndim} dims)"
            )
        out.append(v)
    return out


def _reduced(values: list[Variable], axes: tuple[int, ...], like: Variable) -> list[Variable]:
    """``values`` (of the inputs' ndim) without the size-1 ``axes``, where the parameter
    ``like`` was given that way (Theano returns the statistics in the parameters' shape)."""
    ndim = values[0].ndim
    if like.ndim == ndim:
        return values
    return [dimshuffle(v, [d for d in range(ndim) if d not in axes]) for v in values]


def batch_normalization_train(
    inputs: Any,
    gamma: Any,
    beta: Any,
    axes: Any = "per-activation",
    epsilon: float = 1e-4,
    running_average_factor: float = 0.1,
    running_mean: Any = None,
    running_var: Any = None,
) -> tuple[Variable, ...]:
    """Normalize ``inputs`` with the batch's statistics over ``axes`` (Theano's):
    ``out = (inputs - mean) * gamma * invstd + beta`` with ``mean``, ``var`` the mean and
    (biased) variance over ``axes`` and ``invstd = 1 / sqrt(var + epsilon)``.

    Returns ``(out, mean, invstd)``, and with ``running_mean`` and ``running_var`` also
    ``running_mean * (1 - f) + mean * f`` and ``running_var * (1 - f) + var * m / (m - 1) * f``
    (``f = running_average_factor``, ``m`` the entries averaged: the unbiased variance), for
    the updates of shared variables. ``gamma``, ``beta`` and the running averages have either
    the inputs' dims (size 1 on ``axes``) or only the other dims; ``mean``, ``invstd`` and the
    new averages come back in ``gamma``'s form."""
    x = float_tensor(inputs)
    ax = _axes(axes, x.ndim, "batch_normalization_train")
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "batch_normalization_train: give both running_mean and running_var (or neither), got "
            f"running_mean={running_mean!r}, running_var={running_var!r}"
        )
    g, b = _params([("gamma", gamma), ("beta", beta)], ax, x.ndim, "batch_normalization_train")
    mu = mean(x, axis=ax, keepdims=True)
    variance = var(x, axis=ax, keepdims=True)
    invstd = elemwise(
        "true_div", 1, elemwise("sqrt", elemwise("add", variance, constant(epsilon, dtype=x.dtype)))
    )
    out = elemwise("add", elemwise("mul", elemwise("mul", elemwise("sub", x, mu), g), invstd), b)
    results = [mu, invstd]
    if running_mean is not None:
        rm, rv = _params(
            [("running_mean", running_mean), ("running_var", running_var)],
            ax,
            x.ndim,
            "batch_normalization_train",
        )
        f = constant(running_average_factor, dtype=x.dtype)
        keep = elemwise("sub", constant(1, dtype=x.dtype), f)
        m = cast(functools.reduce(operator.mul, [x.shape[d] for d in ax]), x.dtype)
        unbiased = elemwise("mul", variance, elemwise("true_div", m, elemwise("sub", m, 1)))
        results += [
            elemwise("add", elemwise("mul", rm, keep), elemwise("mul", mu, f)),
            elemwise("add", elemwise("mul", rv, keep), elemwise("mul", unbiased, f)),
        ]
    return (out, *_reduced(results, ax, as_tensor_variable(gamma)))


def batch_normalization_test(
    inputs: Any,
    gamma: Any,
    beta: Any,
    mean: Any,
    var: Any,
    axes: Any = "per-activation",
    epsilon: float = 1e-4,
) -> Variable:
    """Normalize ``inputs`` with given statistics (the running averages of
    :func:`batch_normalization_train`): ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``
    (Theano's); the parameters in either form :func:`batch_normalization_train` takes."""
    x = float_tensor(inputs)
    ax = _axes(axes, x.ndim, "batch_normalization_test")
    g, b, mu, v = _params(
        [("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)],
        ax,
        x.ndim,
        "batch_normalization_test",
    )
    std = elemwise("sqrt", elemwise("add", v, constant(epsilon, dtype=x.dtype)))
    return elemwise("add", elemwise("true_div", elemwise("mul", elemwise("sub", x, mu), g), std), b)
