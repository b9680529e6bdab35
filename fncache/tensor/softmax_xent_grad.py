"""The gradient of a softmax classifier's cross-entropy, written at once: ``(one_hot(y) -
softmax(x)) * g`` for each row, ``g`` the gradient of the log-probabilities read.

Built op by op, the gradient of ``-mean(log(softmax(x))[arange(n), y])`` is a scatter of
``-1/n`` into zeros of the scores' shape, divided by the softmax (0 / 0, NaN, where a
probability underflows), then the softmax's backward pass (a sum per row and a pass over the
scores): with 1000 classes, most of a training step. Two nodes read one log-probability per
row of ``L``, the log-softmax of the matrix ``x`` over its last axis (``log(softmax(x))`` or
``log_softmax(x)``, as those functions build them):

* ``L[arange(n), y]``, ``y`` a vector of class indices, and
* ``sum(switch(eq(y[:, None], arange(k)), L, 0), axis=1)``: `categorical_crossentropy`'s
  with class indices (its ``L`` the log-softmax it takes of a softmax).

Their shortcut rule (`gradient.register_shortcut_grad`) gives ``x - m`` (``m`` the shift the
softmax subtracts, which gets no gradient) that gradient straight away. For the indexing, where
the function runs, a class index must be in ``[-k, k)`` and ``n`` the number of rows of ``x``:
the indexing's own range, and the rows the one-hot rows stand for (a shorter ``arange(n)``
leaves the last rows out of the cost: index them away from ``x`` first). Other spellings, and a
variable of the pattern whose gradient is asked for or that is held constant, take the general
path.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ..graph.basic import Apply, Constant, Variable
from ..graph.types import is_float, is_int
from .advanced_subtensor import AdvancedSubtensor
from .creation import arange, arange_stop
from .elemwise import cast, elemwise, single_step
from .grad_markers import ZeroGrad
from .grad_ops import SumToShape
from .gradient import register_shortcut_grad
from .pyop import check_value
from .reduction import Reduce
from .reduction import all as all_
from .shape_ops import DimShuffle, Shape, dimshuffle
from .subtensor import Subtensor

__all__ = ["LogSoftmax", "log_softmax_of", "softmax_parts"]


class LogSoftmax(NamedTuple):
    """The parts of a log-softmax over the last axis of a matrix: ``d = x - m`` (``m`` the
    shift, which gets no gradient), ``e = exp(d)``, ``s`` the sums of ``e``'s rows (kept as a
    column), and the variables from ``d`` to the log-softmax (the ones a shortcut passes over)."""

    d: Variable
    e: Variable
    s: Variable
    inner: tuple[Variable, ...]


def _step(v: Variable, name: str) -> list[Variable] | None:
    """The inputs of ``v``'s unfused one-step elementwise ``name`` node, else None."""
    s = single_step(v.owner) if v.owner is not None else None
    return s[1] if s is not None and s[0] == name else None


def _row_sums(s: Variable) -> tuple[Variable, Variable] | None:
    """``(e, sum)`` where ``s`` is ``e``'s sums over axis 1 of a matrix, kept as a column."""
    if s.owner is None or not isinstance(s.owner.op, DimShuffle) or s.owner.op.new_order != (0, "x"):
        return None
    r = s.owner.inputs[0]
    op = r.owner.op if r.owner is not None else None
    if not isinstance(op, Reduce) or op.kind != "add" or op.axes != (1,) or op.pre is not None:
        return None
    e = r.owner.inputs[0]
    return (e, r) if e.ndim == 2 and r.dtype == e.dtype and is_float(e.dtype) else None


def _is_row_max(m: Variable, x: Variable) -> bool:
    """``m`` is the column of the maxima of ``x``'s rows (`softmax`'s shift, its gradient marker
    taken out of a compiled graph)."""
    col = m.owner
    if col is None or not isinstance(col.op, DimShuffle) or col.op.new_order != (0, "x"):
        return False
    r = col.inputs[0].owner
    return (
        r is not None
        and isinstance(r.op, Reduce)
        and (r.op.kind, r.op.axes, r.op.pre) == ("max", (1,), None)
        and r.inputs[0] is x
    )


def _shifted_exp(e: Variable, marked: bool = True) -> Variable | None:
    """``d`` where ``e`` is ``exp(d)``, ``d = x - m`` with ``m`` a column held by `zero_grad`
    (not ``marked``: or the maxima of ``x``'s rows, as a compiled graph holds them)."""
    ins = _step(e, "exp")
    d = ins[0] if ins else None
    shift = _step(d, "sub") if d is not None else None
    if shift is None:
        return None
    m = shift[1]
    if m.owner is not None and isinstance(m.owner.op, ZeroGrad) and m.type.shape[1:] == (1,):
        return d
    return d if not marked and _is_row_max(m, shift[0]) else None


def softmax_parts(p: Variable, marked: bool = True) -> LogSoftmax | None:
    """The parts of ``p`` = ``exp(d) / s``, `softmax`'s (``marked``: as `_shifted_exp`)."""
    ins = _step(p, "true_div")
    sums = _row_sums(ins[1]) if ins else None
    if sums is None or sums[0] is not ins[0]:
        return None
    d = _shifted_exp(ins[0], marked)
    return None if d is None else LogSoftmax(d, ins[0], ins[1], (p, ins[0], ins[1], sums[1]))


def log_softmax_of(lp: Variable) -> LogSoftmax | None:
    """The parts of ``lp`` where it is ``log(softmax(x))`` or ``d - log(s)`` (`log_softmax`'s,
    and `categorical_crossentropy`'s log of a softmax), over the last axis of a matrix."""
    ins = _step(lp, "log")
    if ins:
        sm = softmax_parts(ins[0])
        return None if sm is None else sm._replace(inner=(lp, *sm.inner))
    ins = _step(lp, "sub")
    logs = _step(ins[1], "log") if ins else None
    sums = _row_sums(logs[0]) if logs else None
    if sums is None or _shifted_exp(sums[0]) is not ins[0]:
        return None
    return LogSoftmax(ins[0], sums[0], logs[0], (lp, ins[1], sums[0], logs[0], sums[1]))


def _xent_grad(sm: LogSoftmax, hit: Variable, rows: Variable | None, g: Variable) -> Variable:
    """The gradient of ``d`` for ``g``, the gradient of the log-probabilities the one-hot mask
    ``hit`` picks (one per row; with ``rows``, a float column, those of the rows it holds a hit
    in): ``(softmax * rows - hit) * -g``, summed back to ``d``'s shape where ``g`` or ``hit``
    broadcast ``d``'s rows."""
    p = elemwise("true_div", sm.e, sm.s)
    # the cost is minus the log-probabilities: (softmax - one_hot) times its gradient, signs
    # of zeros and all as written by hand
    diff = elemwise("sub", p if rows is None else elemwise("mul", p, rows), cast(hit, p.dtype))
    gz = elemwise("mul", diff, elemwise("neg", g))
    # e has d's shape and is computed anyway (d itself is fused into it)
    return SumToShape(((0, ((1, 0),)), (1, ((1, 1),))))(gz, sm.e)


_INDEX_MSG = (
    "the gradient of a softmax's log-probabilities indexed [arange(n), y]: it takes n to be the "
    "number of rows of the scores and y to hold class indices in [-k, k), here n = {2} for {3} "
    "rows and k = {1}, y = {0}; give one class index per row of the scores"
)

Passable = Callable[[Variable], bool]


@register_shortcut_grad(AdvancedSubtensor)
def _indexed(node: Apply, out_grads: list, passable: Passable) -> list | None:
    """``L[arange(n), y]`` for a log-softmax ``L``."""
    if node.op.key != (("a", 0), ("a", 1)):
        return None
    lp, row_index, y = node.inputs
    sm = log_softmax_of(lp)
    n = arange_stop(row_index)
    if sm is None or n is None or y.ndim != 1 or not is_int(y.dtype) or not all(map(passable, sm.inner)):
        return None
    k, rows = sm.e.shape[1], sm.e.shape[0]
    ok = elemwise(
        "and_",
        all_(elemwise("and_", elemwise("ge", y, elemwise("neg", k)), elemwise("lt", y, k))),
        elemwise("eq", n, rows),
    )
    y = check_value(y, ok, _INDEX_MSG, y, k, n, rows)
    # numpy's negative indices count from the end
    y = elemwise("switch", elemwise("lt", y, 0), elemwise("add", y, k), y)
    hit = elemwise("eq", dimshuffle(y, [0, "x"]), dimshuffle(arange(k), ["x", 0]))
    return [(sm.d, _xent_grad(sm, hit, None, dimshuffle(out_grads[0], [0, "x"])))]


def _columns_of(k: Variable, sm: LogSoftmax) -> bool:
    """``k`` is the number of columns of one of ``sm``'s matrices (``v.shape[1]``)."""
    op = k.owner.op if k.owner is not None else None
    if not isinstance(op, Subtensor) or op.idx != (("i", ("c", 1)),):
        return False
    shape = k.owner.inputs[0]
    if shape.owner is None or not isinstance(shape.owner.op, Shape):
        return False
    v = shape.owner.inputs[0]
    if any(v is u for u in (sm.d, *sm.inner)):
        return True
    ins = _step(v, "true_div")  # the softmax itself: categorical_crossentropy reads its shape
    return ins is not None and ins[0] is sm.e and ins[1] is sm.s


@register_shortcut_grad(Reduce)
def _picked(node: Apply, out_grads: list, passable: Passable) -> list | None:
    """``sum(switch(eq(y[:, None], arange(k)), L, 0), axis=1)`` for a log-softmax ``L``."""
    op = node.op
    w = node.inputs[0]
    if (
        op.kind != "add"
        or op.axes != (1,)
        or op.pre is not None
        or w.ndim != 2
        or node.outputs[0].dtype != w.dtype
    ):
        return None
    ins = _step(w, "switch")
    if ins is None or not isinstance(ins[2], Constant) or not passable(w):
        return None
    hit, lp = ins[0], ins[1]
    sm = log_softmax_of(lp)
    cmp = _step(hit, "eq")
    if sm is None or cmp is None or not all(map(passable, sm.inner)):
        return None
    ys, ks = cmp
    if not all(
        v.owner is not None and isinstance(v.owner.op, DimShuffle) and v.owner.op.new_order == order
        for v, order in ((ys, (0, "x")), (ks, ("x", 0)))
    ):
        return None
    y, k = ys.owner.inputs[0], arange_stop(ks.owner.inputs[0])
    if k is None or not is_int(y.dtype) or not _columns_of(k, sm):
        return None
    # a row holds one hit, or none where its class index is out of range
    inside = elemwise("and_", elemwise("ge", y, 0), elemwise("lt", y, k))
    rows = dimshuffle(cast(inside, sm.e.dtype), [0, "x"])
    return [(sm.d, _xent_grad(sm, hit, rows, dimshuffle(out_grads[0], [0, "x"])))]
