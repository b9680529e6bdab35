"""``ft.nnet``: the neural-network functions of ``theano.tensor.nnet`` (as the Theano and
PyTensor tutorials call them), built from fncache's elementwise ops and reductions, so they
fuse, run in every backend and have gradients without rules of their own; ``conv2d`` and
``conv3d`` (:mod:`..conv`) and the CTC loss (:mod:`..ctc`) are the exceptions, ops of their own.

The losses are written in their stable forms where the probabilities come from the logistic
function or a softmax: ``binary_crossentropy(sigmoid(z), t)`` is computed from ``z`` with
``softplus`` and ``categorical_crossentropy(softmax(x), y)`` with ``x``'s log-softmax, so large
``|z|`` or ``|x|`` give finite losses and gradients (``log(sigmoid(-800))`` would be ``-inf``).
"""

from __future__ import annotations

import importlib
from typing import Any

from ...graph.basic import Variable
from ...graph.types import is_float, upcast_float
from ..basic import as_tensor_variable, constant
from ..creation import arange
from ..elemwise import cast, elemwise, single_step
from ..pyop import check_value
from ..reduction import all as all_
from ..reduction import sum as sum_
from ..shape_ops import dimshuffle
from ..softmax import log_softmax, softmax
from ..softmax_xent_grad import log_softmax_of

# ft.sigmoid and ft.softplus themselves (the package defines them before importing this module)
from .. import sigmoid, softplus  # noqa: E402

__all__ = [
    "sigmoid",
    "softplus",
    "softmax",
    "log_softmax",
    "logsoftmax",
    "relu",
    "elu",
    "hard_sigmoid",
    "ultra_fast_sigmoid",
    "binary_crossentropy",
    "categorical_crossentropy",
    "conv2d",  # noqa: F822  (loaded on first use: __getattr__ below)
]
#: name: the module that defines it, loaded on first use
_LAZY = {
    **dict.fromkeys(("selu", "softsign", "sigmoid_binary_crossentropy"), "activations"),
    **dict.fromkeys(
        ("softmax_with_bias", "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias")
        + ("crossentropy_categorical_1hot", "softmax_graph"),
        "softmax_losses",
    ),
    "batch_normalization": "bn",
    **dict.fromkeys(("images2neibs", "neibs2images"), "neighbours"),
    "conv2d_transpose": "abstract_conv",
    "conv3d": "conv",
    "h_softmax": "hierarchical_softmax",
}
__all__ += sorted(_LAZY)
#: submodules of Theano's ``tensor.nnet`` (``ft.nnet.bn.batch_normalization_train``)
#: (conv: Theano's old conv.conv2d; ctc: Theano's wrapper of warp-ctc, ``ctc.ctc``)
_SUBMODULES = ("bn", "neighbours", "abstract_conv", "conv", "ctc")

logsoftmax = log_softmax  # Theano's spelling


def _e(name: str, *args: Any) -> Variable:
    return elemwise(name, *args)


def _float(x: Any) -> Variable:
    v = as_tensor_variable(x)
    return v if is_float(v.dtype) else cast(v, upcast_float(v.dtype))


def _const(value: float, like: Variable) -> Variable:
    # a constant of ``like``'s dtype: a float64 0.2 would make a float32 input's result float64
    return constant(value, dtype=like.dtype)


def relu(x: Any, alpha: Any = 0) -> Variable:
    """Rectified linear unit: ``x`` where ``x > 0``, else ``alpha * x`` (Theano's
    ``relu(x, alpha=0)``; ``alpha`` may be symbolic); NaN stays NaN. The gradient at exactly 0
    is 1 for ``alpha=0`` (``maximum(x, 0)``), else ``alpha`` (Theano's formula ``0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)`` gives the mean of the
    two slopes there, and overflows to inf for ``x`` near the largest float)."""
    v = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return _e("maximum", v, 0)
    return _e("switch", _e("gt", v, 0), v, _e("mul", alpha, v))


def elu(x: Any, alpha: Any = 1) -> Variable:
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * expm1(x)`` (Theano's)."""
    v = _float(x)
    return _e("switch", _e("gt", v, 0), v, _e("mul", alpha, _e("expm1", v)))


def hard_sigmoid(x: Any) -> Variable:
    """Theano's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``, in ``x``'s float dtype
    (largest error 0.076, near ``|x| = 2.5``)."""
    v = _float(x)
    y = _e("add", _e("mul", v, _const(0.2, v)), _const(0.5, v))
    return _e("minimum", _e("maximum", y, _const(0.0, v)), _const(1.0, v))


def ultra_fast_sigmoid(x: Any) -> Variable:
    """Theano's piecewise approximation of the sigmoid (largest error 0.028, near ``|x| = 3``):
    ``0.5 * (1 + z)`` with ``z`` an odd approximation of ``tanh(x / 2)`` that is, for
    ``u = |x| / 2``, ``1.5 u / (1 + u)`` below 1.7, ``0.935409070603099 + 0.0458812946797165
    (u - 1.7)`` below 3 and ``0.99505475368673`` above.

    Its gradient is the derivative of that formula (so it checks against finite differences);
    Theano instead uses the sigmoid's ``y * (1 - y)`` of the approximate ``y``."""
    v = _float(x)

    def c(value: float) -> Variable:
        return _const(value, v)

    u = _e("mul", _e("abs", v), c(0.5))
    low = _e("true_div", _e("mul", c(1.5), u), _e("add", c(1.0), u))
    mid = _e("add", c(0.935409070603099), _e("mul", c(0.0458812946797165), _e("sub", u, c(1.7))))
    z = _e("switch", _e("lt", u, c(1.7)), low, _e("switch", _e("lt", u, c(3.0)), mid, c(0.99505475368673)))
    z = _e("switch", _e("lt", v, c(0.0)), _e("neg", z), z)
    return _e("mul", c(0.5), _e("add", z, c(1.0)))


def _stable_log(p: Variable) -> Variable | None:
    """``log(p)`` in a form that stays finite where ``p`` underflows, when ``p`` is a softmax
    (``exp(d) / s``: ``d - log(s)``, for any ``s``) or a sigmoid (``-softplus(-z)``); else None."""
    step = single_step(p.owner) if p.owner is not None else None
    if step is not None and step[0] == "sigmoid":
        return _e("neg", _e("softplus", _e("neg", step[1][0])))
    if step is not None and step[0] == "true_div":
        num, den = step[1]
        top = single_step(num.owner) if num.owner is not None else None
        if top is not None and top[0] == "exp" and num.dtype == p.dtype:
            return _e("sub", top[1][0], _e("log", den))
    return None


def binary_crossentropy(output: Any, target: Any) -> Variable:
    """Elementwise ``-(target * log(output) + (1 - target) * log(1 - output))`` (Theano's
    argument order). Where ``output`` is ``sigmoid(z)`` it is computed as
    ``target * softplus(-z) + (1 - target) * softplus(z)``: finite for any ``z``."""
    o, t = _float(output), as_tensor_variable(target)
    step = single_step(o.owner) if o.owner is not None else None
    if step is not None and step[0] == "sigmoid":
        z = step[1][0]
        return _e(
            "add", _e("mul", t, _e("softplus", _e("neg", z))), _e("mul", _e("sub", 1, t), _e("softplus", z))
        )
    return _e(
        "neg", _e("add", _e("mul", t, _e("log", o)), _e("mul", _e("sub", 1, t), _e("log1p", _e("neg", o))))
    )


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Variable:
    """The cross-entropy of each row of ``coding_dist`` (predicted class probabilities, one row
    per example) with ``true_dist``, which is either

    * a matrix of target probabilities (one-hot rows, or any distribution):
      ``-sum(true_dist * log(coding_dist), axis=-1)``, or
    * a vector of integer class indices: ``-log(coding_dist[i, true_dist[i]])`` for each row
      ``i``; an index outside ``[0, n_classes)``, or another number of indices than of rows,
      is an error when the function runs.

    Where ``coding_dist`` is a ``softmax(x)`` the logarithm is ``x``'s log-softmax (finite for
    large ``|x|``). The indexed form reads the one entry through a comparison with
    ``arange(n_classes)``, so it needs no indexing op and its gradient is zero elsewhere."""
    p = _float(coding_dist)
    y = as_tensor_variable(true_dist)
    if p.ndim < 1:
        raise ValueError(
            "categorical_crossentropy: coding_dist needs at least one dimension, got a 0-d tensor"
        )
    if y.ndim == p.ndim:
        logp = _stable_log(p)
        return _e("neg", sum_(_e("mul", y, _e("log", p) if logp is None else logp), axis=p.ndim - 1))
    if y.ndim != p.ndim - 1 or p.ndim != 2 or y.dtype[:3] not in ("int", "uin"):
        raise TypeError(
            f"categorical_crossentropy: true_dist must be a matrix of probabilities like coding_dist "
            f"({p.type!r}) or a vector of integer class indices, one per row; got {y.type!r}. "
            "Cast float labels with ft.cast(y, 'int64')."
        )
    # one class index per row, as Theano's ops checked ("dimension mismatch"): a shorter vector
    # would be broadcast by the comparison below, a single index read as every row's
    rows = p.shape[0]
    y = check_value(
        y,
        _e("eq", y.shape[0], rows),
        "categorical_crossentropy: true_dist has {0} class indices for the {1} rows of coding_dist; "
        "give one class index per row",
        y.shape[0],
        rows,
    )
    k = p.shape[1]
    ok = all_(_e("and_", _e("ge", y, 0), _e("lt", y, k)))
    y = check_value(
        y,
        ok,
        "categorical_crossentropy: a class index in true_dist is outside [0, n_classes) = [0, {1}), "
        "true_dist = {0}; give indices of coding_dist's columns",
        y,
        k,
    )
    hit = _e("eq", dimshuffle(y, [0, "x"]), dimshuffle(arange(k), ["x", 0]))
    logp = _stable_log(p)
    if logp is None:
        # pick the entry first, then take its log: log of the other entries (of a 0, -inf)
        # would make their zero gradients 0 / 0
        return _e("neg", _e("log", sum_(_e("switch", hit, p, 0), axis=1)))
    if log_softmax_of(logp) is not None:
        # a softmax's log-probabilities: the one of each row read by indexing (y is checked
        # above), so the loss takes one value per row (index_elemwise), not a pass over the
        # scores; the rows as the comparison broadcasts them
        return _e("neg", logp[arange(rows), y])
    return _e("neg", sum_(_e("switch", hit, logp, 0), axis=1))


def __getattr__(name: str) -> Any:
    # conv2d's module (and the others of _LAZY) load on first use: most graphs have none of them
    if name == "conv2d":
        from ..conv import conv2d

        return conv2d
    if name in _LAZY or name in _SUBMODULES:
        module = importlib.import_module(f"..{_LAZY.get(name, name)}", __package__)
        return module if name in _SUBMODULES else getattr(module, name)
    if name == "sigm":  # this package's own module, Theano's place of the sigmoids
        return importlib.import_module(f".{name}", __package__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
