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
pass. Both run as Python steps in every back end, vectorised over the batch and the extended
labels (a loop over time steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.types import TensorType, is_complex
from .basic import as_tensor_variable
from .elemwise import cast
from .grad_markers import NullType
from .gradient import register_grad

__all__ = ["CTCLoss", "CTCLossGrad", "ctc"]

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


def _shifted(v: np.ndarray, k: int) -> np.ndarray:
    """``v`` moved ``k`` places along its last axis (right for ``k > 0``), ``-inf`` filling."""
    out = np.full_like(v, -np.inf)
    if k > 0:
        out[..., k:] = v[..., :-k]
    else:
        out[..., :k] = v[..., -k:]
    return out


def ctc_engine(
    acts: np.ndarray, labels: np.ndarray, lengths: np.ndarray, want_grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """(each example's loss, the gradient of each loss with respect to its activations, or
    None without ``want_grad``), in float64. An example whose labels need more time steps than
    it has (no alignment) has an infinite loss and a zero gradient."""
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
    emit = np.where(used[None], logy[:, np.arange(batch)[:, None], ext], -np.inf)  # (time, batch, state)
    at = np.arange(batch)
    last, before_last = 2 * n_labels, np.maximum(2 * n_labels - 1, 0)
    alpha = np.full((steps, batch, states), -np.inf)
    if steps:
        alpha[0, :, : min(2, states)] = emit[0, :, : min(2, states)]
    for t in range(1, steps):
        prev = alpha[t - 1]
        moved = np.logaddexp(prev, _shifted(prev, 1))
        alpha[t] = np.logaddexp(moved, np.where(skip, _shifted(prev, 2), -np.inf)) + emit[t]
    final = alpha[np.maximum(lengths - 1, 0), at]
    logp = np.logaddexp(final[at, last], np.where(n_labels > 0, final[at, before_last], -np.inf))
    # no time step: only the empty label sequence has an alignment (the empty one)
    logp = np.where(lengths == 0, np.where(n_labels == 0, 0.0, -np.inf), logp)
    costs = -logp
    if not want_grad:
        return costs, None
    # beta[t, b, s]: the log probability of the rest of the alignment after time t, from state s
    ends = np.full((batch, states), -np.inf)
    ends[at, last] = 0.0
    ends[at, before_last] = np.where(n_labels > 0, 0.0, ends[at, before_last])
    beta = np.full((steps, batch, states), -np.inf)
    for t in range(steps - 1, -1, -1):
        later = np.full((batch, states), -np.inf)
        if t + 1 < steps:
            nxt = beta[t + 1] + emit[t + 1]
            later = np.logaddexp(nxt, _shifted(nxt, -1))
            later = np.logaddexp(later, _shifted(np.where(skip, nxt, -np.inf), -2))
        here = np.where((t == lengths - 1)[:, None], ends, later)
        beta[t] = np.where((t < lengths)[:, None], here, -np.inf)
    feasible = np.isfinite(logp)
    with np.errstate(invalid="ignore"):
        log_post = alpha + beta - np.where(feasible, logp, 0.0)[None, :, None]
    post = np.exp(log_post)  # each state's posterior at each time step
    occupancy = np.zeros((steps, batch, alphabet))
    for s in range(states):
        occupancy[:, at, ext[:, s]] += post[:, :, s]
    live = (np.arange(steps)[:, None] < lengths[None, :]) & feasible[None, :]
    grad = np.where(live[:, :, None], np.exp(logy) - occupancy, 0.0)
    return costs, grad


class CTCLoss(Op):
    """Each example's CTC loss, ``(batch,)``, of activations ``(time, batch, alphabet)``, labels
    ``(batch, max_label_length)`` and input lengths ``(batch,)``."""

    __props__ = ()

    def make_node(self, acts: Variable, labels: Variable, lengths: Variable) -> Apply:
        return Apply(self, [acts, labels, lengths], [TensorType(acts.dtype, (acts.type.shape[1],))])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        costs, _ = ctc_engine(*inputs, want_grad=False)
        return [costs.astype(node.outputs[0].dtype)]


class CTCLossGrad(Op):
    """The gradient of each example's CTC loss with respect to its activations,
    ``(time, batch, alphabet)``: zero past the example's input length (``CTCLoss``'s
    operands)."""

    __props__ = ()

    def make_node(self, acts: Variable, labels: Variable, lengths: Variable) -> Apply:
        return Apply(self, [acts, labels, lengths], [TensorType(acts.dtype, acts.type.shape)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        _, grad = ctc_engine(*inputs, want_grad=True)
        return [grad.astype(node.outputs[0].dtype)]  # type: ignore[union-attr]


@register_grad(CTCLoss)
def _ctc_loss_grad(node: Apply, out_grads: list) -> list:
    # each loss reads only its example's activations: scale that example's gradient
    grad = CTCLossGrad()(*node.inputs)
    return [grad * out_grads[0].dimshuffle("x", 0, "x"), None, None]


@register_grad(CTCLossGrad)
def _ctc_loss_grad_grad(node: Apply, out_grads: list) -> list:
    """Undefined: refused where the gradient reaches a variable differentiated (a cost built
    from ctc's gradient differentiates in anything else)."""
    why = (
        "CTCLossGrad, the gradient of ctc in its activations, has no gradient: the second "
        "derivative of ctc is not implemented (its forward-backward pass is differentiated "
        "once); differentiate the loss once, or hold its gradient constant with "
        "ft.disconnected_grad (or consider_constant) in the cost built from it"
    )
    return [NullType(why)(), None, None]


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
        acts = cast(acts, "float64")
    labs = _int_operand(labels, 2, "labels", "(batch, max_label_length)")
    lens = _int_operand(input_lengths, 1, "input_lengths", "(batch,)")
    return CTCLoss()(acts, labs, lens)
