"""The gradient of a `Scan`: backpropagation through time, as another `Scan`.

Step t of the forward loop maps (x_t, h_{t-1}, params) to (h_t, y_t). Its gradient runs the
steps backwards (t = n-1 .. 0) over the stored values: a step of it takes x_t, h_{t-1} (the
initial value, then the stored outputs shifted by one), the output gradients at t and the
gradient carried into h_t from the later steps, and gives, by fncache's own ``backprop`` of
the step's graph, the gradient of x_t (stacked), the carry into h_{t-1} (only its last value
is kept: the initial values' gradient) and the parameters' gradient added to a running sum
(likewise). Being a `Scan` itself, it can be differentiated again. With the op's
``truncate`` it runs over the last steps only (the op's ``shifts`` say which initial rows of
an output with taps those steps still read); a loop that stopped itself (``until``) is
differentiated as the same loop without its condition, run again over the steps it ran.
"""

from __future__ import annotations

import numpy as np

from ..config import config
from ..errors import NullTypeGradError
from ..graph.basic import Apply, Variable, substitute
from ..graph.types import TensorType, is_inexact
from .basic import constant
from .elemwise import cast, elemwise
from .grad_markers import NullType, is_null_gradient
from .gradient import inner_gradients, zeros_like
from .scan import Scan, scan_node
from .array_ops import shape_padleft
from .shape_ops import concatenate

__all__ = ["scan_grad"]


#: what to do about an op of fn without a gradient, said where one is refused
_IN_FN = (
    "consider_constant does not reach into fn; to treat a value computed in fn as a constant, "
    "wrap it in ft.disconnected_grad(...) inside fn"
)


def _in_step(where: str, why: str) -> str:
    """Why a gradient is undefined ``where`` (in a loop's step), ``why`` naming the op of fn it
    comes from, or the loop in fn and where in its step: the fix is said once, at the end,
    however deeply the loops nest."""
    return f"{where}, {why}" if why.endswith(f"({_IN_FN})") else f"{where}, {why} ({_IN_FN})"


def scan_grad(node: Apply, out_grads: list) -> list:
    # built on stand-ins, which have no test values (config.compute_test_value)
    try:
        with config.change_flags(compute_test_value="off"):
            res = _scan_grad(node, out_grads)
    except NullTypeGradError as e:
        # The op it names is in fn's graph, which neither the user's cost nor consider_constant
        # (it only stops at variables of the outer graph) reaches. Said in the message, not a
        # note: a loop in fn is differentiated by `inner_gradients`, which keeps the message only.
        e.args = (f"grad: {_in_step(f'in the step of {node.op}', str(e).removeprefix('grad: '))}",)
        raise
    # An input no output given a gradient depends on gets none (not zeros): `grad` then tells
    # a disconnected input from one whose gradient happens to be zero.
    given = [j for j, g in enumerate(out_grads) if g is not None]
    pattern = node.op.connection_pattern(node)
    return [g if any(row[j] for j in given) else None for g, row in zip(res, pattern)]


def _scan_grad(node: Apply, out_grads: list) -> list:
    op: Scan = node.op
    if op.until:
        return _until_grad(node, out_grads)
    S, rec = op.n_seqs, op.recurrent
    n = node.inputs[0]
    seqs = node.inputs[1 : 1 + S]
    inits = node.inputs[1 + S : 1 + S + len(rec)]
    nonseqs = node.inputs[1 + S + len(rec) :]
    res: list = [None] * len(node.inputs)
    if all(g is None for g in out_grads):
        return res
    out_grads = [
        g if g is None or g.dtype == o.dtype else cast(g, o.dtype) for g, o in zip(out_grads, node.outputs)
    ]
    # Every fed-back output's steps: a `last` output keeps only its final value, so its steps
    # are recomputed by the same loop with that output stacked.
    stacked = list(node.outputs)
    if "last" in op.kinds:
        again = op.derived(op.inner.outputs, ["map" if k == "map" else "rec" for k in op.kinds])(*node.inputs)
        stacked = list(again) if isinstance(again, list) else [again]

    # One step of the forward loop over stand-ins for its inputs (the non-sequences may also
    # depend on each other outside: only the step's own dependence on each is wanted here).
    ins = [p.type.make_variable(p.name) for p in op.inner.inputs]
    rows, prevs, params = ins[:S], ins[S : S + len(rec)], ins[S + len(rec) :]
    step = op.outputs_of(ins)
    g_rows = {
        j: TensorType(g.dtype, g.type.shape[1:]).make_variable(f"g{j}[t]")
        for j, (g, k) in enumerate(zip(out_grads, op.kinds))
        if g is not None and k != "last"
    }
    inexact_rec = [r for r, j in enumerate(rec) if is_inexact(node.outputs[j].dtype)]
    carries = {r: prevs[r].type.make_variable(f"carry{r}") for r in inexact_rec}
    inexact_params = [k for k, p in enumerate(params) if is_inexact(p.dtype)]
    sums = {k: params[k].type.make_variable(f"sum{k}") for k in inexact_params}
    totals: list[Variable | None] = []
    for j in range(len(step)):
        r = rec.index(j) if j in rec else None
        parts = [v for v in (carries.get(r) if r is not None else None, g_rows.get(j)) if v is not None]
        totals.append(None if not parts else parts[0] if len(parts) == 1 else parts[0] + parts[1])
    inexact_seqs = [i for i, x in enumerate(rows) if is_inexact(x.dtype)]
    wrt = (
        [rows[i] for i in inexact_seqs]
        + [prevs[r] for r in inexact_rec]
        + [params[k] for k in inexact_params]
    )
    # The step's gradient is built in every float input: one that is undefined (jv's in its
    # order) is left to the outer gradient, which refuses it only where it is wanted. Through
    # a state it would reach every step before: refused here.
    grads = inner_gradients(step, totals, wrt)
    bad = {id(w): grads[id(w)].type.why_null for w in wrt if is_null_gradient(grads.get(id(w)))}
    for r in inexact_rec:
        if id(prevs[r]) in bad:
            raise NullTypeGradError(f"grad: {bad[id(prevs[r])]}")
    # ("its": `backprop`, refusing it, names this loop and its input first)
    for i in [i for i in inexact_seqs if id(rows[i]) in bad]:
        res[1 + i] = NullType(_in_step("in its step", bad[id(rows[i])]))()
    for k in [k for k in inexact_params if id(params[k]) in bad]:
        res[1 + S + len(rec) + k] = NullType(_in_step("in its step", bad[id(params[k])]))()
    inexact_seqs = [i for i in inexact_seqs if id(rows[i]) not in bad]
    inexact_params = [k for k in inexact_params if id(params[k]) not in bad]
    sums = {k: sums[k] for k in inexact_params}
    g = {id(w): grads[id(w)] if id(w) in grads else zeros_like(w) for w in wrt}
    new_carries = [g[id(prevs[r])] for r in inexact_rec]
    new_sums = [sums[k] + g[id(params[k])] for k in inexact_params]
    g_xs = [g[id(rows[i])] for i in inexact_seqs]
    # The gradient reads the step's outputs where its rules do (tanh's is 1 - h_t**2): they are
    # stored, so the backward step reads them instead of computing the forward step again.
    stored = {
        step[j]: TensorType(o.dtype, o.type.shape[1:]).make_variable(f"y{j}[t]")
        for j, o in enumerate(stacked)
        if step[j].owner is not None
    }
    # (first: substituting the parameters rebuilds the nodes making the outputs, under new names)
    back = substitute(substitute([*new_carries, *new_sums, *g_xs], stored), dict(zip(params, nonseqs)))
    ys = [stacked[next(j for j in range(len(step)) if step[j] is v)] for v in stored]

    # The backward loop's sequences, each reversed: the forward rows, the value before each
    # step, the stored outputs, the output gradients. Truncated, it runs over the last steps.
    steps = n if op.truncate == -1 else elemwise("minimum", n, constant(np.int64(op.truncate)))

    def rev(v: Variable) -> Variable:
        return v[::-1] if op.truncate == -1 else v[::-1][:steps]

    befores = _befores(inits, [stacked[j] for j in rec], op.shifts, n)
    b_seqs = [rev(s) for s in [*seqs, *befores, *ys]] + [rev(out_grads[j]) for j in g_rows]
    b_rows = [*rows, *prevs, *stored.values(), *g_rows.values()]
    b_inits = [
        out_grads[rec[r]]
        if op.kinds[rec[r]] == "last" and out_grads[rec[r]] is not None
        else zeros_like(inits[r])
        for r in inexact_rec
    ] + [zeros_like(nonseqs[k]) for k in inexact_params]
    b_prevs = [*carries.values(), *sums.values()]
    kinds = ["last"] * (len(b_prevs)) + ["map"] * len(g_xs)
    name = f"grad_{op.name}" if op.name else None
    outs = scan_node([*b_rows, *b_prevs], back, kinds, steps, b_seqs, b_inits, name)
    # Truncated short of the first step, the gradient reaches neither the rows before the
    # steps it ran over nor the initial values those steps do not read.
    carried = dict(zip(inexact_rec, outs))
    for r, v in carried.items():
        res[1 + S + r] = v if op.truncate == -1 else _initial_grad(r, carried, op.shifts, n - steps)
    for k, v in zip(inexact_params, outs[len(inexact_rec) :]):
        res[1 + S + len(rec) + k] = v
    for i, v in zip(inexact_seqs, outs[len(b_prevs) :]):
        if op.truncate != -1:
            v = concatenate([v, _zero_rows(n - steps, seqs[i])])
        res[1 + i] = v[::-1]
    return res


def _befores(inits: list, stacks: list, shifts: tuple, n: Variable) -> list:
    """Each recurrent state's value before each step: its initial value, then its stored
    steps. A state passing along another's previous value (``shifts``) is read as that one's
    values a step later, not as its own stored steps: truncated, the gradient of those drops
    the rows before the last steps, while the initial values passed along them into the last
    steps (read there, unlike the stored rows computed before) keep theirs, at every order."""
    passes = dict(shifts)
    done: dict[int, Variable] = {}

    def before(r: int) -> Variable:
        if r not in done:
            earlier = before(passes[r]) if r in passes else stacks[r]
            done[r] = concatenate([shape_padleft(inits[r]), earlier[:-1]])[:n]
        return done[r]

    return [before(r) for r in range(len(inits))]


def _initial_grad(r: int, carried: dict, shifts: tuple, skipped: Variable) -> Variable:
    """The gradient of recurrent state ``r``'s initial value, the backward loop having stopped
    at step ``skipped`` (the steps before it not run back through): the carry of the state
    holding that value at that step. That is ``r``'s own when it ran back to the first step;
    an older value of an output with taps is passed along a chain of shifts, one state a
    step, so it is then the state ``skipped`` places down that chain, and none past the
    chain's end (no step run back through reads the value)."""
    after = {src: r2 for r2, src in shifts}
    chain = [r]
    while chain[-1] in after:
        chain.append(after[chain[-1]])
    g = zeros_like(carried[r])
    for d in reversed(range(len(chain))):
        g = elemwise("switch", elemwise("eq", skipped, constant(np.int64(d))), carried[chain[d]], g)
    return g


def _zero_rows(rows: Variable, like: Variable) -> Variable:
    """Zeros of ``rows`` rows shaped like those of ``like``."""
    return zeros_like(like[:rows])


def _until_grad(node: Apply, out_grads: list) -> list:
    """The gradient of a loop that stopped itself: that of the same loop without its
    condition over the steps it ran (the forward steps are run again, stacked)."""
    op: Scan = node.op
    S = op.n_seqs
    ran = node.outputs[-1]
    stand = [v.type.make_variable(v.name) for v in node.inputs[1:]]
    plain = op.derived(op.inner.outputs[:-1], op.kinds, until=False)
    seqs = [s[:ran] for s in stand[:S]]
    outs = plain(ran, *seqs, *stand[S:])
    outs = list(outs) if isinstance(outs, list) else [outs]
    # (an undefined gradient of the plain loop's input is the stopped loop's, refused where wanted)
    grads = inner_gradients(outs, out_grads[:-1], stand, reasons=True)
    bad = {id(v): grads[id(v)] for v in stand if is_null_gradient(grads.get(id(v)))}
    wanted = [None if id(v) in bad else grads.get(id(v)) for v in stand]
    found = [g for g in wanted if g is not None]
    back = dict(zip(found, substitute(found, dict(zip(stand, node.inputs[1:])))))
    return [None] + [
        bad[id(v)] if id(v) in bad else None if g is None else back[g] for v, g in zip(stand, wanted)
    ]
