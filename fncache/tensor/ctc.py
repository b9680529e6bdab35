"""Theano's ``tensor.nnet.ctc``: ``ctc(activations, labels, input_lengths)``, the connectionist
temporal classification loss of each example of a batch, as Theano's wrapper of warp-ctc gives
it: the activations are unnormalised (a softmax over the alphabet is applied inside), symbol 0
is the blank, a label row's negative entries are padding.

The loss is ``-log p(labels | activations)``, ``p`` the sum over every alignment of the input's
time steps to the label sequence (each label once or repeated, blanks between and around,
a blank required between two equal labels), computed by the forward-backward recursions over
the label sequence extended with blanks, in log space (no underflow over long inputs). Two ops
share that numpy engine: ``CTCLoss`` (the losses, the forward pass only) and ``CTCLossGrad``
(the gradient of each example's loss with respect to its activations, ``softmax - posterior``,
which needs both passes), so a function that only evaluates the loss never runs the backward
pass; ``CTCLossHessian``, the gradient's derivative along a direction (each log quantity of
the recursions carries its derivative along it), is its gradient. Both run as Python steps in every back end, vectorised over the batch and the extended
labels (a loop over time steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .basic import as_tensor_variable
from .elemwise import as_float64
from .grad_markers import NullType
from .gradient import register_grad

__all__ = ["CTCLoss", "CTCLossGrad", "CTCLossHessian", "ctc"]

BLANK = 0


def _checked(acts: np.ndarray, labels: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Each example's labels (its row's entries >= 0), after checking the three operands agree;
    an error names ``ctc``, what was given and what was expected."""
    steps, batch, alphabet = acts.shape
    if labels.shape[0] != batch or lengths.shape[0] != batch:
        raise ValueError(
            f"ctc: activations {acts.shape} (time, batch, alphabet) hold {batch} examples, but labels "
            f"{labels.shape} has {labels.shape[0]} rows and input_lengths {lengths.shape} "
            f"{lengths.shape[0]} entries; give one label row and one length per example"
        )
    if batch and (lengths.min() < 0 or lengths.max() > steps):
        raise ValueError(
            f"ctc: input_lengths must be in [0, {steps}] (the activations' time steps), got {lengths.tolist()}"
        )
    bad = (labels == BLANK) | (labels >= alphabet)
    if bad.any():
        raise ValueError(
            f"ctc: labels must be in [1, {alphabet}) (0 is the blank, the alphabet has {alphabet} "
            f"symbols; negative entries are padding), got {labels[bad].tolist()}"
        )
    return [row[row >= 0] for row in labels]


def _log_softmax(acts: np.ndarray) -> np.ndarray:
    shifted = acts - acts.max(axis=2, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))


def _shifted(v: np.ndarray, k: int, fill: float = -np.inf) -> np.ndarray:
    """``v`` moved ``k`` places along its last axis (right for ``k > 0``), ``fill`` (``-inf``,
    or 0 for a derivative) filling."""
    out = np.full_like(v, fill)
    if k > 0:
        out[..., k:] = v[..., :-k]
    else:
        out[..., :k] = v[..., -k:]
    return out


def _log_add(a: np.ndarray, da: np.ndarray, b: np.ndarray, db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``logaddexp(a, b)`` and its derivative from those of ``a`` and ``b`` (0 where they are
    ``-inf``): each weighted by its share of the sum."""
    r = np.logaddexp(a, b)
    with np.errstate(invalid="ignore"):
        wa = np.where(np.isfinite(a), np.exp(a - r), 0.0)
        wb = np.where(np.isfinite(b), np.exp(b - r), 0.0)
    return r, wa * da + wb * db


def _steps_in(v: np.ndarray, dv: np.ndarray, skip: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The log sum over the states one step away (``k`` = 1 forward, -1 backward) of ``v``:
    the state itself, its neighbour, and the one two away where ``skip`` allows entering the
    later of the two, with its derivative."""
    r, dr = _log_add(v, dv, _shifted(v, k), _shifted(dv, k, 0.0))
    far, dfar = (_shifted(v, 2), _shifted(dv, 2, 0.0)) if k > 0 else (v, dv)
    far, dfar = np.where(skip, far, -np.inf), np.where(skip, dfar, 0.0)
    if k < 0:
        far, dfar = _shifted(far, -2), _shifted(dfar, -2, 0.0)
    return _log_add(r, dr, far, dfar)


def ctc_engine(
    acts: np.ndarray,
    labels: np.ndarray,
    lengths: np.ndarray,
    want_grad: bool,
    direction: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(each example's loss, the gradient of each loss with respect to its activations, or
    None without ``want_grad``, the derivative of that gradient along ``direction``, the
    Hessian times it, or None without it), in float64. Each log quantity carries its
    derivative along ``direction`` (zeros without it) through the same recursions. An example
    whose labels need more time steps than it has (no alignment) has an infinite loss and a
    zero gradient."""
    rows = _checked(acts, labels, lengths)
    steps, batch, alphabet = acts.shape
    lengths = lengths.astype(np.int64)
    n_labels = np.array([len(r) for r in rows], dtype=np.int64)
    # the extended labels: blank, l1, blank, l2, ..., blank; states past 2 L + 1 unused
    states = 2 * int(n_labels.max(initial=0)) + 1
    ext = np.zeros((batch, states), dtype=np.int64)
    for b, r in enumerate(rows):
        ext[b, 1 : 2 * len(r) : 2] = r
    used = np.arange(states)[None, :] < (2 * n_labels + 1)[:, None]
    # a state may be entered from two states back when it is a label unlike the one before
    skip = np.zeros((batch, states), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    logy = _log_softmax(acts.astype(np.float64))
    y = np.exp(logy)
    h = np.zeros_like(logy) if direction is None else np.asarray(direction, np.float64)
    dlogy = h - (y * h).sum(axis=2, keepdims=True)
    at = np.arange(batch)
    emit = np.where(used[None], logy[:, at[:, None], ext], -np.inf)  # (time, batch, state)
    demit = np.where(used[None], dlogy[:, at[:, None], ext], 0.0)
    last, before_last = 2 * n_labels, np.maximum(2 * n_labels - 1, 0)
    alpha = np.full((steps, batch, states), -np.inf)
    dalpha = np.zeros((steps, batch, states))
    if steps:
        alpha[0, :, : min(2, states)] = emit[0, :, : min(2, states)]
        dalpha[0, :, : min(2, states)] = demit[0, :, : min(2, states)]
    for t in range(1, steps):
        into, dinto = _steps_in(alpha[t - 1], dalpha[t - 1], skip, 1)
        alpha[t] = into + emit[t]
        dalpha[t] = np.where(np.isfinite(alpha[t]), dinto + demit[t], 0.0)
    final, dfinal = alpha[np.maximum(lengths - 1, 0), at], dalpha[np.maximum(lengths - 1, 0), at]
    has_labels = n_labels > 0
    logp, dlogp = _log_add(
        final[at, last],
        dfinal[at, last],
        np.where(has_labels, final[at, before_last], -np.inf),
        np.where(has_labels, dfinal[at, before_last], 0.0),
    )
    # no time step: only the empty label sequence has an alignment (the empty one)
    logp = np.where(lengths == 0, np.where(n_labels == 0, 0.0, -np.inf), logp)
    dlogp = np.where(lengths == 0, 0.0, dlogp)
    costs = -logp
    if not want_grad:
        return costs, None, None
    # beta[t, b, s]: the log probability of the rest of the alignment after time t, from state s
    ends = np.full((batch, states), -np.inf)
    ends[at, last] = 0.0
    ends[at, before_last] = np.where(has_labels, 0.0, ends[at, before_last])
    beta = np.full((steps, batch, states), -np.inf)
    dbeta = np.zeros((steps, batch, states))
    for t in range(steps - 1, -1, -1):
        later, dlater = np.full((batch, states), -np.inf), np.zeros((batch, states))
        if t + 1 < steps:
            nxt = beta[t + 1] + emit[t + 1]
            dnxt = np.where(np.isfinite(nxt), dbeta[t + 1] + demit[t + 1], 0.0)
            later, dlater = _steps_in(nxt, dnxt, skip, -1)
        here = np.where((t == lengths - 1)[:, None], ends, later)
        dhere = np.where((t == lengths - 1)[:, None], 0.0, dlater)
        beta[t] = np.where((t < lengths)[:, None], here, -np.inf)
        dbeta[t] = np.where((t < lengths)[:, None], dhere, 0.0)
    feasible = np.isfinite(logp)
    with np.errstate(invalid="ignore"):
        log_post = alpha + beta - np.where(feasible, logp, 0.0)[None, :, None]
    post = np.exp(log_post)  # each state's posterior at each time step
    dpost = post * np.where(
        np.isfinite(log_post), dalpha + dbeta - np.where(feasible, dlogp, 0.0)[None, :, None], 0.0
    )
    occupancy, doccupancy = np.zeros((steps, batch, alphabet)), np.zeros((steps, batch, alphabet))
    for s in range(states):
        occupancy[:, at, ext[:, s]] += post[:, :, s]
        doccupancy[:, at, ext[:, s]] += dpost[:, :, s]
    live = (np.arange(steps)[:, None] < lengths[None, :]) & feasible[None, :]
    grad = np.where(live[:, :, None], y - occupancy, 0.0)
    if direction is None:
        return costs, grad, None
    return costs, grad, np.where(live[:, :, None], y * dlogy - doccupancy, 0.0)


class CTCLoss(Op):
    """Each example's CTC loss, ``(batch,)``, of activations ``(time, batch, alphabet)``, labels
    ``(batch, max_label_length)`` and input lengths ``(batch,)``."""

    __props__ = ()

    def make_node(self, acts: Variable, labels: Variable, lengths: Variable) -> Apply:
        return Apply(self, [acts, labels, lengths], [TensorType(acts.dtype, (acts.type.shape[1],))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        costs, _, _ = ctc_engine(*inputs, want_grad=False)
        return [costs.astype(node.outputs[0].dtype)]


class CTCLossGrad(Op):
    """The gradient of each example's CTC loss with respect to its activations,
    ``(time, batch, alphabet)``: zero past the example's input length (``CTCLoss``'s
    operands)."""

    __props__ = ()

    def make_node(self, acts: Variable, labels: Variable, lengths: Variable) -> Apply:
        return Apply(self, [acts, labels, lengths], [TensorType(acts.dtype, acts.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        _, grad, _ = ctc_engine(*inputs, want_grad=True)
        return [grad.astype(node.outputs[0].dtype)]  # type: ignore[union-attr]


class CTCLossHessian(Op):
    """The Hessian of the examples' summed CTC loss in the activations times ``direction``
    (``CTCLossGrad``'s derivative along it; each example's block of the Hessian is its own),
    ``(time, batch, alphabet)``: ``CTCLoss``'s operands and the direction."""

    __props__ = ()

    def make_node(self, acts: Variable, labels: Variable, lengths: Variable, direction: Variable) -> Apply:
        return Apply(self, [acts, labels, lengths, direction], [TensorType(acts.dtype, acts.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        _, _, hess = ctc_engine(*inputs[:3], want_grad=True, direction=inputs[3])
        return [hess.astype(node.outputs[0].dtype)]  # type: ignore[union-attr]


@register_grad(CTCLoss)
def _ctc_loss_grad(node: Apply, out_grads: list) -> list:
    # each loss reads only its example's activations: scale that example's gradient
    grad = CTCLossGrad()(*node.inputs)
    return [grad * out_grads[0].dimshuffle("x", 0, "x"), None, None]


@register_grad(CTCLossGrad)
def _ctc_loss_grad_grad(node: Apply, out_grads: list) -> list:
    """The Hessian (symmetric) times the output's gradient."""
    return [CTCLossHessian()(*node.inputs, out_grads[0]), None, None]


@register_grad(CTCLossHessian)
def _ctc_loss_hessian_grad(node: Apply, out_grads: list) -> list:
    """Linear in the direction, with the symmetric Hessian: in it the Hessian times the
    output's gradient. In the activations (a third derivative) undefined, refused where one
    is needed (a cost built from the second derivative differentiates in anything else)."""
    why = (
        "CTCLossHessian, the second derivative of ctc in its activations, has no gradient in "
        "them: the third derivative of ctc is not implemented; differentiate the loss at most "
        "twice, or hold the second derivative constant with ft.disconnected_grad (or "
        "consider_constant) in the cost built from it"
    )
    acts, labels, lengths, _ = node.inputs
    return [NullType(why)(), None, None, CTCLossHessian()(acts, labels, lengths, out_grads[0])]


def _int_operand(v: Any, ndim: int, name: str, layout: str) -> Variable:
    t = as_tensor_variable(v)
    if t.ndim != ndim or t.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"ctc: {name} must be an integer {ndim}-d tensor {layout}, got {t.type}")
    return t


def ctc(activations: Any, labels: Any, input_lengths: Any) -> Variable:
    """Theano's ``ctc``: the CTC loss of each example, ``(batch,)``.

    ``activations`` ``(time, batch, alphabet)``: unnormalised scores (a softmax over the
    alphabet is applied inside), symbol 0 the blank; float32 stays float32, other dtypes
    compute in float64. ``labels`` ``(batch, max_label_length)``: each example's label
    sequence, symbols in ``[1, alphabet)``, negative entries ignored (padding).
    ``input_lengths`` ``(batch,)``: each example's time steps (the first ones of
    ``activations``), in ``[0, time]``. An example whose labels cannot be aligned in its time
    steps (fewer steps than labels plus repeated neighbours) has an infinite loss and a zero
    gradient. The gradient with respect to ``activations`` is exact (checked against finite
    differences); the labels and lengths have none."""
    acts = as_tensor_variable(activations)
    if acts.ndim != 3:
        raise TypeError(
            f"ctc: activations must be a 3-d tensor (time, batch, alphabet), got {acts.type} ({acts.ndim} dims)"
        )
    if is_complex(acts.dtype):
        raise TypeError(f"ctc: activations must be real, got {acts.type}")
    if acts.dtype != "float32":
        (acts,) = as_float64("ctc", acts)
    labs = _int_operand(labels, 2, "labels", "(batch, max_label_length)")
    lens = _int_operand(input_lengths, 1, "input_lengths", "(batch,)")
    return CTCLoss()(acts, labs, lens)
