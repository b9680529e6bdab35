"""What each kind of node becomes: generated C kernels plus one *step* of the run-time program.

Elementwise loops, reductions and row passes (`RowPass`: ``X @ w``, a fused loop over its rows
and ``X.T @ g`` in one pass over X) are generated here (they are where the time goes) as plain C
functions with one signature per role, which fncache's installed run-time
(``c_runtime.c``) calls: the run-time checks shapes, allocates outputs and splits work across
threads, the kernels only loop. Matrix products (numpy's BLAS-backed product), argmax/argmin,
dimshuffles, shapes and reshapes, the gradients' `SumToShape` (where nothing was broadcast),
`ReducedSize`, basic indexing (`Subtensor`: a view), `SubtensorGrad` (zeros with the gradient
written at a basic index), symbolic shapes (`MakeVector`), `Alloc`, `Concatenate`, `arange`,
`tensordot`, `specify_shape` and `Assert` (the input itself where the check passes), gathers
and adds at index arrays on the leading axes (advanced indexing, its gradient), `cumsum` and
`cumprod`, `eye`, `repeat` and `tile`, `sort` and `argsort` (and the gradients of `repeat`
and `sort`), small batched `matmul`, ``pool_2d`` and its gradients, `RandomStream`'s draws of
`c_program.RANDOM_DISTS`, and ops
without a native version (their numpy ``perform``) are steps the run-time carries out itself,
with no generated code at all.

A step is the tuple ``c_runtime.c:parse_step`` reads, built by :func:`.c_program.step`.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply
from ..graph.types import is_complex, is_float
from ..tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensor, AdvancedSubtensorGrad
from ..tensor.blas import Dot, RowPass
from ..tensor.elemwise import Elemwise
from ..tensor.grad_ops import ReducedSize, RepeatGrad, SortGrad, SubtensorGrad, SumToShape
from ..tensor.pyop import Assert, CheckAndRaise, CheckAndReport
from ..tensor.reduction import ArgReduce, Reduce
from ..tensor.scalar_ops import Composite
from ..tensor.array_ops import CumOp, MatMul, Repeat, Sort, SpecifyShape, TensorDot, Tile
from ..tensor.creation import Alloc, ARange, Eye
from ..tensor.shape_ops import Concatenate, DimShuffle, MakeVector, Reshape, Shape
from ..tensor.subtensor import Subtensor
from . import c_program
from .c_program import (
    RANDOM_DISTS,
    ST_ADV_INDEX,
    ST_ALLOC,
    ST_ARANGE,
    ST_ARGREDUCE,
    ST_ASSERT,
    ST_CONCATENATE,
    ST_CUMOP,
    ST_DIMSHUFFLE,
    ST_DOT,
    ST_ELEMWISE,
    ST_EYE,
    ST_MAKE_VECTOR,
    ST_MATMUL,
    ST_PERFORM,
    ST_POOL,
    ST_RANDOM,
    ST_REDUCE,
    ST_REDUCED_SIZE,
    ST_REPEAT,
    ST_REPEAT_GRAD,
    ST_RESHAPE,
    ST_ROWPASS,
    ST_SHAPE,
    ST_SORT,
    ST_SORT_GRAD,
    ST_SPECIFY_SHAPE,
    ST_SUBTENSOR,
    ST_SUBTENSOR_GRAD,
    ST_SUM_TO_SHAPE,
    ST_TENSORDOT,
    ST_TILE,
)
from .c_types import (
    CTYPE,
    composite_lines,
    convert_expr,
    invariant_steps,
    reduce_accumulator,
    reduce_combine,
    reduce_kind,
)

__all__ = ["NodeCtx", "render_node", "has_native", "keeps_buffers"]


class NodeCtx:
    """Where one node's values live in the program. A plain class, not a dataclass: this
    module is imported by every warm cache hit, and making a dataclass costs about a millisecond."""

    __slots__ = ("k", "ins", "outs", "keeps", "is_output", "dying", "perform", "source")

    def __init__(
        self,
        k: int,
        ins: list[int],
        outs: list[int],
        keeps: list[int],
        is_output: list[bool],
        dying: list[int],
        perform: int = -1,
        source: bool = True,
    ) -> None:
        self.k = k  # node number (kernel names, error reports)
        self.ins = ins  # slots of the inputs
        self.outs = outs  # slots of the outputs
        self.keeps = keeps  # per output: index of its kept buffer, or -1
        self.is_output = is_output  # per output: returned to the caller
        self.dying = dying  # slots released after this node (their last use)
        self.perform = perform  # index into the runner's performs for Python fallbacks
        # False: the step only, no kernel text (a warm hit whose library's key is recorded)
        self.source = source


def typenum(dtype: str) -> int:
    return np.dtype(dtype).num


def _static_scalar(shape: Sequence[int | None]) -> bool:
    return all(s == 1 for s in shape)


#: A C int's range: the run-time reads a step's parameters as ints.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _step(
    kind: int,
    node: Apply,
    ctx: NodeCtx,
    ints: Sequence[int],
    kernels: Sequence[str] = (),
    msg: str = "",
    nd: int = 0,
    errcheck: bool = False,
) -> tuple:
    """A step of ``kind``; one of a node with a perform whose parameters do not all fit a C int
    (the run-time's, which refuses a program holding more) runs that perform instead."""
    if kind != ST_PERFORM and ctx.perform >= 0 and any(not _INT_MIN <= i <= _INT_MAX for i in ints):
        return render_fallback(node, ctx)
    return c_program.step(kind, ctx.ins, ctx.outs, ctx.dying, ints, kernels, str(node.op), msg, nd, errcheck)


def _loads(shapes: Sequence[Sequence[int | None]], comp: Composite) -> tuple[list[str], list[str]]:
    """Kernel prologue (typed pointers from ``p_``; single elements read once, before the
    loop) and the per-input load expressions ('' for pointers, filled in per loop), given the
    inputs' static shapes."""
    pro, loads = [], []
    for k, shape in enumerate(shapes):
        ct = CTYPE[comp.in_dtypes[k]]
        if _static_scalar(shape):
            pro.append(f"const {ct} c{k} = *(const {ct} *)p_[{k}];")
            loads.append(f"c{k}")
        else:
            pro.append(f"const {ct} *p{k} = (const {ct} *)p_[{k}];")
            loads.append("")
    return pro, loads


def _flat_loop(
    comp: Composite, shapes: Sequence[Sequence[int | None]], out_dtypes: Sequence[str]
) -> list[str]:
    """The body of a flat kernel: ``comp`` over elements lo..hi of contiguous inputs (those
    of static size 1 read once), its outputs written after the inputs' pointers in ``p_``."""
    pro, loads = _loads(shapes, comp)
    ni = len(shapes)
    pro += [f"{CTYPE[dt]} *po{m} = ({CTYPE[dt]} *)p_[{ni + m}];" for m, dt in enumerate(out_dtypes)]
    body, names = composite_lines(comp, [ld or f"p{i}[i]" for i, ld in enumerate(loads)])
    return (
        pro
        + ["#pragma omp simd", "for (npy_intp i = lo; i < hi; i++) {"]
        + ["  " + ln for ln in body]
        + [f"  po{m}[i] = {nm};" for m, nm in enumerate(names)]
        + ["}"]
    )


def _unravel(ni: int, nd: int, extra_out: str = "") -> list[str]:
    """Offsets of row ``o`` (all dims but the last) for each input (b<k>) and the output."""
    lines = [
        "npy_intp rem = o; "
        + " ".join(f"npy_intp b{k} = 0;" for k in range(ni))
        + (" npy_intp ob = 0;" if extra_out else "")
    ]
    lines.append(
        f"for (int d = {nd - 2}; d >= 0; d--) {{ npy_intp c = rem % shape[d]; "
        f"rem /= shape[d]; "
        + " ".join(f"b{k} += c * st[{k * nd} + d];" for k in range(ni))
        + (f" ob += c * {extra_out}[d];" if extra_out else "")
        + " }"
    )
    return lines


def _row_loads(loads: Sequence[str], shapes: Sequence[Sequence[int | None]], nd: int) -> list[str]:
    """``loads`` of a loop over rows, an input of static size 1 along the last axis (a column
    broadcast, as a softmax's max per row) read once per row: not a gather of one element."""
    return [
        ld or (f"p{i}[b{i}]" if nd and len(shape) == nd and shape[-1] == 1 else "")
        for i, (ld, shape) in enumerate(zip(loads, shapes))
    ]


def _per_row(comp: Composite, rows: Sequence[str]) -> tuple[list[str], Callable[[list[str]], tuple]]:
    """The statements of ``comp``'s steps that read only values the same all along a row (the
    inputs ``rows`` reads once per row, static scalars), written once per row before the loop
    along it: a layer norm's ``sqrt(var + eps)``, a log-softmax's ``log(sum)``, which in the
    loop gcc computes again for every vector of the row (it cannot move a load the loop's
    stores might alias out of it). Also the function giving, for the loop's loads, the
    statements of the other steps and the names of ``comp``'s outputs."""
    hoisted = invariant_steps(comp, [bool(ld) for ld in rows])
    before, _ = composite_lines(comp, rows)

    def in_loop(loads: list[str]) -> tuple[list[str], list[str]]:
        body, names = composite_lines(comp, loads)
        return [ln for j, ln in enumerate(body) if j not in hoisted], names

    return [before[j] for j in sorted(hoisted)], in_loop


def _unit_steps(loads: Sequence[str], nd: int) -> str:
    """C test that every input read per element (not once) steps by one element along the last
    axis (``st``: the inputs' element strides): its loop then reads without gathers."""
    return " && ".join(f"st[{i * nd + nd - 1}] == 1" for i, ld in enumerate(loads) if not ld) or "1"


def _by_steps(
    loads: Sequence[str], nd: int, loop: Callable[[list[str]], list[str]], unit_rows: bool = True
) -> list[str]:
    """``loop`` (given the inputs' load expressions at element ``j`` of row offsets ``b<i>``)
    twice: with unit steps where ``unit`` holds (a row broadcast, as a layer's bias), with the
    inputs' strides otherwise. Without ``unit_rows`` (the run-time never calls the kernel on
    rows of unit steps) only the strided loop."""
    strided = [ld or f"p{i}[b{i} + j * st[{i * nd + nd - 1}]]" for i, ld in enumerate(loads)]
    if not unit_rows:
        return loop(strided)
    unit = [ld or f"p{i}[b{i} + j]" for i, ld in enumerate(loads)]
    return (
        ["if (unit) {"]
        + ["  " + ln for ln in loop(unit)]
        + ["} else {"]
        + ["  " + ln for ln in loop(strided)]
        + ["}"]
    )


def _fn(head: str, body: list[str]) -> list[str]:
    return [f"FC_EXPORT {head}", "{"] + ["  " + ln for ln in body] + ["}"]


def render_elemwise(node: Apply, ctx: NodeCtx) -> tuple[str, tuple]:
    op: Elemwise = node.op
    comp = op.composite
    nd = node.outputs[0].ndim
    k = ctx.k
    kernels = [f"fc_k{k}_flat"] + ([f"fc_k{k}_rows"] if nd else [])
    inplace = dict(op.inplace)
    ints = [int(_static_scalar(v.type.shape)) for v in node.inputs]
    for m, o in enumerate(node.outputs):
        ints += [typenum(o.dtype), ctx.keeps[m], inplace.get(m, -1), int(ctx.is_output[m])]
    step = _step(ST_ELEMWISE, node, ctx, ints, kernels, nd=nd, errcheck=comp.may_raise)
    if not ctx.source:
        return "", step
    ni = len(node.inputs)
    shapes = [v.type.shape for v in node.inputs]
    pro, loads = _loads(shapes, comp)
    pro += [
        f"{CTYPE[o.dtype]} *po{m} = ({CTYPE[o.dtype]} *)p_[{ni + m}];" for m, o in enumerate(node.outputs)
    ]
    K = _fn(
        f"void {kernels[0]}(npy_intp lo, npy_intp hi, char *const *p_)",
        _flat_loop(comp, shapes, [o.dtype for o in node.outputs]),
    )
    if nd:
        # `omp simd` on the inner loop: without it gcc guards the vector loop with an overlap
        # check that an in-place loop (output over an input, element for element) always fails.
        # Rows whose inputs all step by one element (a row broadcast, as a layer's bias) get a
        # loop of unit steps, which gcc vectorizes without gathers. With one axis such a row is
        # a flat input, which the run-time gives the flat kernel: the strided loop alone.
        rows = _row_loads(loads, shapes, nd)
        per_row, in_loop = _per_row(comp, rows)

        def inner(row_loads: list[str]) -> list[str]:
            body, names = in_loop(row_loads)
            return (
                ["#pragma omp simd", "for (npy_intp j = 0; j < inner; j++) {"]
                + ["  " + ln for ln in body]
                + [f"  po{m}[o * inner + j] = {nm};" for m, nm in enumerate(names)]
                + ["}"]
            )

        K += _fn(
            f"void {kernels[1]}(npy_intp lo, npy_intp hi, const npy_intp *shape, "
            "const npy_intp *st, char *const *p_)",
            pro
            + [f"npy_intp inner = shape[{nd - 1}];"]
            + ([f"const int unit = {_unit_steps(rows, nd)};"] if nd > 1 else [])
            + ["for (npy_intp o = lo; o < hi; o++) {"]
            + ["  " + ln for ln in _unravel(ni, nd) + per_row]
            + ["  " + ln for ln in _by_steps(rows, nd, inner, unit_rows=nd > 1)]
            + ["}"],
        )
    return "\n".join(K), step


def render_reduce(node: Apply, ctx: NodeCtx) -> tuple[str, tuple]:
    op: Reduce = node.op
    out = node.outputs[0]
    nd = max(v.ndim for v in node.inputs)
    axes = op.axes
    ond = nd - len(axes)
    k = ctx.k
    if op.pre is not None:
        comp = op.pre
    else:
        dt = node.inputs[0].dtype
        comp = Composite([dt], [("identity", (("in", 0),), dt)], [0])
    kind = op.kind
    # a full reduction (ond == 0) gets a vectorized kernel and its finish besides the general one
    kernels = [f"fc_k{k}_red", f"fc_k{k}_fin"] if ond == 0 else ["", ""]
    kernels.append(f"fc_k{k}_gen")
    ints = [int(_static_scalar(v.type.shape)) for v in node.inputs]
    # 1: an empty reduction raises (max, min); 2 + ddof: a mean of no more than ddof
    # values (a negative ddof never warns)
    check = 1 if kind in ("max", "min") else 2 + min(op.ddof, 2**30) if kind == "mean" and op.ddof >= 0 else 0
    ints += [len(axes), *axes, typenum(out.dtype), ctx.keeps[0], check]
    msg = (
        f"{op}: zero-size array to reduction operation {kind}imum which has no identity"
        if kind in ("max", "min")
        else op.empty_mean_warning()
        if kind == "mean"
        else ""
    )
    step = _step(ST_REDUCE, node, ctx, ints, kernels, msg=msg, nd=nd, errcheck=comp.may_raise)
    if not ctx.source:
        return "", step
    vdt = comp.out_dtypes[0]
    kind = reduce_kind(kind, out.dtype, op.acc_dtype)
    acc, ident = reduce_accumulator(kind, out.dtype, vdt, op.acc_dtype)
    nan_track = kind in ("max", "min") and is_float(vdt)
    oct_ = CTYPE[out.dtype]
    acc_dt = next((dt for dt, c in CTYPE.items() if c == acc), None)

    def combine(a: str, val: str) -> str:
        # Sums and products convert to the accumulator first; and/or test the value itself
        # (0.5 is true: converting it to int first would make it false).
        v = convert_expr(val, vdt, acc) if kind in ("add", "mul", "mean") else val
        return f"{a} = {reduce_combine(kind, vdt, a, v)};"

    def pick(a: str, val: str) -> str:
        if kind in ("max", "min"):
            cmp = ">" if kind == "max" else "<"
            return f"{a} = {val} {cmp} {a} ? {val} : {a};"
        return combine(a, val)

    def finish(a: str) -> str:
        if op.kind == "mean":
            a = f"({a} / (double)(rn - {op.ddof} > 0 ? rn - {op.ddof} : 0))"
            if out.dtype != "bool":  # a double (NaN of no values) to the result's type
                return convert_expr(a, "float64", oct_)
        # numpy's cast to bool is a test against 0, not C's truncation to one byte
        if out.dtype == "bool":
            return f"({oct_})({a} != 0)"
        # a float acc_dtype's total to an integer result by the rule a cast node follows (C
        # leaves a value out of the integer's range undefined)
        return convert_expr(a, acc_dt, oct_) if acc_dt is not None else f"({oct_})({a})"

    def merge(a: str, part: str) -> str:
        # a thread's partial is already of the accumulator's type: converting it again as a
        # value of the input's dtype would round it through that float type
        return pick(a, part) if kind in ("max", "min") else f"{a} = {reduce_combine(kind, vdt, a, part)};"

    def simd_loop(a: str, bounds: str, body: list[str], val: str) -> list[str]:
        """A vectorized loop folding ``val`` into the scalar ``a`` (its value kept: OpenMP's
        reduction combines it with the lanes'), NaN tracked in ``nan_`` for max and min."""
        red = {"add": "+", "mean": "+", "mul": "*", "and": "&&", "or": "||"}.get(kind, kind)
        clause = f"reduction({red}:{a})" + (" reduction(|:nan_)" if nan_track else "")
        return (
            [f"#pragma omp simd {clause}", f"for (npy_intp {bounds}; {bounds.split()[0]}++) {{"]
            + ["  " + ln for ln in body]
            + ["  " + pick(a, val)]
            + ([f"  nan_ |= {val} != {val};"] if nan_track else [])
            + ["}"]
        )

    pro, loads = _loads([v.type.shape for v in node.inputs], comp)
    K: list[str] = []
    if ond == 0:
        # Full reduction over flat inputs: one vectorized kernel per thread, then the partials
        # (FC_PART bytes apart) are combined and finished.
        body_f, names = composite_lines(comp, [ld or f"p{i}[i]" for i, ld in enumerate(loads)])
        K += _fn(
            f"void fc_k{k}_red(npy_intp lo, npy_intp hi, char *const *p_, void *part, int *hasnan)",
            pro
            + [f"{acc} acc = {ident}; int nan_ = 0;"]
            + simd_loop("acc", "i = lo; i < hi", body_f, names[0])
            + [f"*({acc} *)part = acc;", "*hasnan = nan_;"],
        )
        K += _fn(
            f"void fc_k{k}_fin(const char *parts, int used, int hasnan, npy_intp rn, char *out_)",
            [
                f"{acc} acc = {ident};",
                f"for (int t = 0; t < used; t++) {{ {acc} v_ = *(const {acc} *)"
                f"(parts + t * FC_PART); {merge('acc', 'v_')} }}",
            ]
            + (["if (hasnan) acc = NAN;"] if nan_track else [])
            + [f"*({oct_} *)out_ = {finish('acc')};"],
        )
    # General path: accumulate into a temporary of the output's size (ost: the output's
    # element strides, 0 along reduced axes).
    ni = len(node.inputs)
    G = pro + [
        f"{oct_} *po0 = ({oct_} *)out_;",
        f"{acc} *acc = ({acc} *)malloc(sizeof({acc}) * (on ? on : 1));",
        "if (!acc) return -1;",
        f"for (npy_intp m = 0; m < on; m++) acc[m] = {ident};",
    ]
    if nd:
        rows = _row_loads(loads, [v.type.shape for v in node.inputs], nd)
        per_row, in_loop = _per_row(comp, rows)

        # Along a reduced last axis each row folds into one element: in a register, vectorized
        # (through memory, each element waited for the last one's store). Several rows can fold
        # into the same element: a NaN it holds is tracked, as the lanes' combining max or min
        # may drop it. Otherwise the row's elements go to distinct ones, next to each other (the
        # run-time's ost is 0 along exactly the reduced axes and 1 along a kept last one).
        def row(row_loads: list[str]) -> list[str]:
            body, names = in_loop(row_loads)
            if nd - 1 not in axes:
                return (
                    ["#pragma omp simd", "for (npy_intp j = 0; j < inner; j++) {"]
                    + ["  " + ln for ln in body]
                    + ["  " + combine("acc[ob + j]", names[0]), "}"]
                )
            return (
                [f"{acc} a = acc[ob]; int nan_ = {'a != a' if nan_track else '0'};"]
                + simd_loop("a", "j = 0; j < inner", body, names[0])
                + (["if (nan_) a = NAN;"] if nan_track else [])
                + ["acc[ob] = a;"]
            )

        # A full reduction of one axis over rows of unit steps is one of flat inputs, which the
        # run-time gives the vectorized kernel: the strided loop alone.
        unit_rows = not (ond == 0 and nd == 1)
        G += [f"npy_intp inner = shape[{nd - 1}], outer = inner ? n / inner : 0;"]
        G += [f"const int unit = {_unit_steps(rows, nd)};"] if unit_rows else []
        G += ["for (npy_intp o = 0; o < outer; o++) {"]
        G += ["  " + ln for ln in _unravel(ni, nd, extra_out="ost") + per_row]
        G += ["  " + ln for ln in _by_steps(rows, nd, row, unit_rows)] + ["}"]
    else:
        body_s, names_s = composite_lines(comp, [ld or f"p{i}[0]" for i, ld in enumerate(loads)])
        G += ["{"] + ["  " + ln for ln in body_s] + ["  " + combine("acc[0]", names_s[0]), "}"]
    G += [f"for (npy_intp m = 0; m < on; m++) po0[m] = {finish('acc[m]')};", "free(acc);", "return 0;"]
    K += _fn(
        f"int fc_k{k}_gen(const npy_intp *shape, const npy_intp *st, const npy_intp *ost, "
        "npy_intp n, npy_intp on, npy_intp rn, char *const *p_, char *out_)",
        G,
    )
    return "\n".join(K), step


def render_dot(node: Apply, ctx: NodeCtx) -> tuple:
    return _step(ST_DOT, node, ctx, [typenum(node.outputs[0].dtype)])


def render_argreduce(node: Apply, ctx: NodeCtx) -> tuple:
    op: ArgReduce = node.op
    axis = op.axis
    if axis is not None and axis < 0:
        axis += node.inputs[0].ndim
    return _step(
        ST_ARGREDUCE,
        node,
        ctx,
        [int(op.kind == "argmax"), int(axis is not None), axis or 0],
        msg=f"{op.kind}: attempt to get {op.kind} of an empty sequence",
    )


def render_dimshuffle(node: Apply, ctx: NodeCtx) -> tuple:
    op: DimShuffle = node.op
    pat = [-1 if p == "x" else p for p in op.pattern]
    return _step(ST_DIMSHUFFLE, node, ctx, [len(pat), *pat, len(op.dropped), *op.dropped])


def render_sum_to_shape(node: Apply, ctx: NodeCtx) -> tuple:
    """A perform step with a native fast path: the gradient itself where nothing was
    broadcast (the op's perform still runs, from C, where something was)."""
    ints = [ctx.perform, typenum(node.outputs[0].dtype), len(node.op.spec)]
    for axis, refs in node.op.spec:
        ints += [axis, len(refs), *(i for ref in refs for i in ref)]
    return _step(ST_SUM_TO_SHAPE, node, ctx, ints)


def render_reduced_size(node: Apply, ctx: NodeCtx) -> tuple:
    """The product of broadcast sizes, read by the run-time from the inputs' shapes (its
    perform reports sizes that do not broadcast)."""
    ints = [ctx.perform, typenum(node.outputs[0].dtype), len(node.op.spec)]
    for refs in node.op.spec:
        ints += [len(refs), *(i for ref in refs for i in ref)]
    return _step(ST_REDUCED_SIZE, node, ctx, ints)


def render_reshape(node: Apply, ctx: NodeCtx) -> tuple:
    """numpy's reshape, run by the run-time (the op's perform reports a shape that does not fit)."""
    return _step(ST_RESHAPE, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype), node.op.ndim])


#: Index bounds the run-time reads (``run_subtensor_grad``): none, a constant, a symbolic input.
_BOUND_TAGS = {None: 0, "c": 1, "v": 2}


def _index_ints(idx: tuple) -> list[int]:
    """A basic index as the run-time reads it (``basic_index``): the entry count, then per
    entry 0 and its bound for an int, 1 and three bounds for a slice."""
    ints = [len(idx)]
    for entry in idx:
        ints.append(0 if entry[0] == "i" else 1)
        for ref in entry[1:]:
            ints += [_BOUND_TAGS[None], 0] if ref is None else [_BOUND_TAGS[ref[0]], ref[1]]
    return ints


def _index_step(kind: int, node: Apply, ctx: NodeCtx, head: list[int]) -> tuple:
    """A step reading a basic index after ``head``; a constant bound beyond a C int's range
    leaves the whole node to the op's perform (``_step``)."""
    return _step(kind, node, ctx, head + _index_ints(node.op.idx))


def render_subtensor(node: Apply, ctx: NodeCtx) -> tuple:
    """numpy's ``x[idx]`` for ints and slices, a view made by the run-time."""
    return _index_step(ST_SUBTENSOR, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype)])


def render_concatenate(node: Apply, ctx: NodeCtx) -> tuple:
    """numpy's concatenate, called by the run-time (an axis beyond a C int stays with the perform)."""
    return _step(ST_CONCATENATE, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype), node.op.axis])


def render_specify_shape(node: Apply, ctx: NodeCtx) -> tuple:
    """The input itself where its shape fits the declared one (checked by the run-time)."""
    sizes = [-1 if n is None else n for n in node.op.shape]
    head = [ctx.perform, typenum(node.outputs[0].dtype), len(sizes)]
    return _step(ST_SPECIFY_SHAPE, node, ctx, head + sizes)


def render_subtensor_grad(node: Apply, ctx: NodeCtx) -> tuple:
    """Zeros with the gradient written at a basic index, by the run-time."""
    head = [ctx.perform, typenum(node.outputs[0].dtype), ctx.keeps[0]]
    return _index_step(ST_SUBTENSOR_GRAD, node, ctx, head)


def render_tile(node: Apply, ctx: NodeCtx) -> tuple:
    """numpy's tile, one broadcast copy made by the run-time (a count beyond a C int stays with
    the perform)."""
    reps = node.op.reps
    return _step(ST_TILE, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype), len(reps), *reps])


#: The run-time's modes of advanced indexing (``run_adv_index``), by op.
_ADV_MODES = {AdvancedSubtensor: 0, AdvancedSubtensorGrad: 1, AdvancedIncSubtensor: 2}


def adv_index_mode(node: Apply) -> int | None:
    """The run-time's mode for an advanced indexing node whose key is 1-D index arrays on the
    leading axes, in input order (``x[ivec]``, ``M[arange(n), y]`` and their gradients, an inc
    of such a region); ``None`` for others (sets, slices or ints among the entries: the op's
    perform runs)."""
    mode = _ADV_MODES.get(type(node.op))
    if mode is None or getattr(node.op, "set_instead_of_inc", False):
        return None
    key = node.op.key
    if not key or key != tuple(("a", j) for j in range(len(key))):
        return None
    # the gather takes 1-D index arrays: a 0-d one is numpy's int, a region of another shape
    lead = len(node.inputs) - len(key)
    return mode if all(a.ndim == 1 for a in node.inputs[lead:]) else None


def render_adv_index(node: Apply, ctx: NodeCtx) -> tuple:
    """Rows gathered at index arrays, or added there (into zeros or a copy of x), by the
    run-time; what its fast path does not cover runs the op's perform."""
    mode = adv_index_mode(node)
    if mode is None:
        return render_fallback(node, ctx)
    ints = [ctx.perform, typenum(node.outputs[0].dtype), mode, len(node.op.key)]
    return _step(ST_ADV_INDEX, node, ctx, ints)


#: Bytes of X per block of a row pass: z, the row values and X.T @ g for a block are computed
#: while its rows are still in the L1 cache (32 KiB or more on every x86-64 of the last decade;
#: w and gw share it). A block holds at least 4 rows (the width of the product loops) and at
#: most 64 (the row values are computed a block at a time, and a short block costs a call).
ROWPASS_BLOCK_BYTES = 24576
#: Bytes of X per segment of a row pass (at least 4 blocks each, at most ROWPASS_SEGMENTS): the
#: segments are visited in reverse order on every other call, so the segments a call read last,
#: still in the L2 cache, are the first the next call reads (see `render_rowpass`).
ROWPASS_SEGMENT_BYTES = 524288
ROWPASS_SEGMENTS = 8


def render_rowpass(node: Apply, ctx: NodeCtx) -> tuple[str, tuple]:
    """One pass over the rows of X by blocks: z = X_blk @ w (four rows at a time, so four sums
    run side by side), the region's fused loop on those rows, then gw += X_blk.T @ g_blk. An X
    stored by columns (a transpose) is swept by columns instead, twice, each sweep contiguous.
    A pass of several products (`rowpass_merge`) runs each product's loops in turn on the
    block, which the first one brought into the L1 cache: X still comes from memory once.

    The four-row products are small functions of their own: inlined into the pass, gcc runs out
    of registers and reloads the loop bound from the stack in the inner loop, a sixth load per
    five that the loop needs (the loops are bound by loads). They start with a few scalar
    columns so that the vector loads of the first row fall on 64-byte boundaries (numpy aligns a
    large array to 16 bytes only, and a 64-byte load across two cache lines costs two); rows
    whose stride is a multiple of 64 bytes are then all aligned, so the sums' rounding may
    differ in the last bits between copies of X at different addresses, as BLAS's does.

    The region's loop on a block's rows is inlined into the pass: X's block, w and gw together
    outgrow the L1 cache, so whatever the loop reads comes from L2 once per block, and as a
    function of its own it first reads its argument pointers and constants, then what they point
    to, two L2 round trips in a row; inlined, those loads leave the block loop (1.3 µs of a 62 µs
    W4 pass in a C harness on Zen 3; within the noise of a whole training step).

    An X larger than an L2 cache but not by much (W4's 2.5 MB) comes from the L3 cache or
    memory on every call if each call reads its rows in the same order: the L2 keeps the rows
    read last and each call starts with those it evicted first. So the blocks are grouped in
    segments of about ROWPASS_SEGMENT_BYTES, each summing X.T @ g into an accumulator of its
    own (the first one gw itself), and every other call (a per-thread turn) visits the segments
    last to first: what the previous call read last is still in L2. The rows within a segment
    and the accumulators' final sum keep one order, so every call gives the same bits whichever
    way it went (a call that cannot allocate the scratch accumulators sums in gw alone: the
    same sums, rounded in another order). On a Xeon with a 2 MiB L2 the W4 pass in a C harness
    took 56.5 µs instead of 77.5; an X of at most one segment runs as before."""
    op: RowPass = node.op
    k, P = ctx.k, op.products
    comp = op.composite([v.dtype for v in node.inputs])
    ints = [
        ctx.perform,
        *(typenum(o.dtype) for o in node.outputs),
        *ctx.keeps,
        *(int(_static_scalar(v.type.shape)) for v in node.inputs[1 + P :]),
        P,
    ]
    step = _step(ST_ROWPASS, node, ctx, ints, [f"fc_k{k}_pass"], errcheck=comp.may_raise)
    if not ctx.source:
        return "", step
    t = CTYPE[node.inputs[0].dtype]
    shapes = [(None,)] * P + [v.type.shape for v in node.inputs[1 + P :]]
    ni = len(shapes)
    rows = [
        f"static inline __attribute__((always_inline)) void fc_k{k}_rows(npy_intp lo, npy_intp hi, "
        "char *const *p_)",
        "{",
    ]
    rows += ["  " + ln for ln in _flat_loop(comp, shapes, comp.out_dtypes)] + ["}"]
    four = f"const {t} *x1 = x0 + rs, *x2 = x1 + rs, *x3 = x2 + rs;"
    dot4 = [
        f"__attribute__((noinline)) static void fc_k{k}_dot4(const {t} *x0, npy_intp rs, "
        f"const {t} *w, npy_intp n, npy_intp pre, {t} *z)",
        "{",
        f"  {four}",
        f"  {t} a0 = 0, a1 = 0, a2 = 0, a3 = 0;",
        "  for (npy_intp j = 0; j < pre; j++) {",
        f"    const {t} wj = w[j];",
        "    a0 += x0[j] * wj; a1 += x1[j] * wj; a2 += x2[j] * wj; a3 += x3[j] * wj;",
        "  }",
        "  #pragma omp simd reduction(+:a0,a1,a2,a3)",
        "  for (npy_intp j = pre; j < n; j++) {",
        f"    const {t} wj = w[j];",
        "    a0 += x0[j] * wj; a1 += x1[j] * wj; a2 += x2[j] * wj; a3 += x3[j] * wj;",
        "  }",
        "  z[0] = a0; z[1] = a1; z[2] = a2; z[3] = a3;",
        "}",
    ]
    axpy4 = [
        f"__attribute__((noinline)) static void fc_k{k}_axpy4(const {t} *x0, npy_intp rs, "
        f"const {t} *g, {t} *gw, npy_intp n, npy_intp pre)",
        "{",
        f"  {four}",
        f"  const {t} g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3];",
        "  for (npy_intp j = 0; j < pre; j++)",
        "    gw[j] += (g0 * x0[j] + g1 * x1[j]) + (g2 * x2[j] + g3 * x3[j]);",
        "  #pragma omp simd",
        "  for (npy_intp j = pre; j < n; j++)",
        "    gw[j] += (g0 * x0[j] + g1 * x1[j]) + (g2 * x2[j] + g3 * x3[j]);",
        "}",
    ]
    # Two products side by side: each row's loads serve both sums (each sum in the order of the
    # single product's, so the same bits).
    dot4x2 = [
        f"__attribute__((noinline)) static void fc_k{k}_dot4x2(const {t} *x0, npy_intp rs, "
        f"const {t} *w, const {t} *v, npy_intp n, npy_intp pre, {t} *z, {t} *y)",
        "{",
        f"  {four}",
        f"  {t} a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;",
        "  for (npy_intp j = 0; j < pre; j++) {",
        f"    const {t} wj = w[j], vj = v[j];",
        "    a0 += x0[j] * wj; a1 += x1[j] * wj; a2 += x2[j] * wj; a3 += x3[j] * wj;",
        "    b0 += x0[j] * vj; b1 += x1[j] * vj; b2 += x2[j] * vj; b3 += x3[j] * vj;",
        "  }",
        "  #pragma omp simd reduction(+:a0,a1,a2,a3,b0,b1,b2,b3)",
        "  for (npy_intp j = pre; j < n; j++) {",
        f"    const {t} wj = w[j], vj = v[j];",
        "    a0 += x0[j] * wj; a1 += x1[j] * wj; a2 += x2[j] * wj; a3 += x3[j] * wj;",
        "    b0 += x0[j] * vj; b1 += x1[j] * vj; b2 += x2[j] * vj; b3 += x3[j] * vj;",
        "  }",
        "  z[0] = a0; z[1] = a1; z[2] = a2; z[3] = a3;",
        "  y[0] = b0; y[1] = b1; y[2] = b2; y[3] = b3;",
        "}",
    ]
    axpy4x2 = [
        f"__attribute__((noinline)) static void fc_k{k}_axpy4x2(const {t} *x0, npy_intp rs, "
        f"const {t} *g, const {t} *h, {t} *gw, {t} *hw, npy_intp n, npy_intp pre)",
        "{",
        f"  {four}",
        f"  const {t} g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3];",
        f"  const {t} h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3];",
        "  for (npy_intp j = 0; j < pre; j++) {",
        "    gw[j] += (g0 * x0[j] + g1 * x1[j]) + (g2 * x2[j] + g3 * x3[j]);",
        "    hw[j] += (h0 * x0[j] + h1 * x1[j]) + (h2 * x2[j] + h3 * x3[j]);",
        "  }",
        "  #pragma omp simd",
        "  for (npy_intp j = pre; j < n; j++) {",
        "    gw[j] += (g0 * x0[j] + g1 * x1[j]) + (g2 * x2[j] + g3 * x3[j]);",
        "    hw[j] += (h0 * x0[j] + h1 * x1[j]) + (h2 * x2[j] + h3 * x3[j]);",
        "  }",
        "}",
    ]
    # p_: X, w_1 .. w_P, z_1 .. z_P, the other inputs, g_1 .. g_P, the row outputs; gw_ holds
    # the P products X.T @ g_k one after the other (n each).
    wk = f"const {t} *w = (const {t} *)p_[1 + q]"
    zk = f"{t} *z = ({t} *)p_[1 + {P} + q]"
    gk = f"const {t} *g = (const {t} *)p_[{1 + P + ni} + q]"
    # the rows of a block four at a time, the products two at a time (then one)
    dots = [f"fc_k{k}_dot4(X + r * rs, rs, W[{q}], n, pre, Z[{q}] + r);" for q in range(P - P % 2, P)]
    dots[:0] = [
        f"fc_k{k}_dot4x2(X + r * rs, rs, W[{q}], W[{q + 1}], n, pre, Z[{q}] + r, Z[{q + 1}] + r);"
        for q in range(0, P - 1, 2)
    ]
    axpys = [f"fc_k{k}_axpy4(X + r * rs, rs, G[{q}] + r, A + {q} * n, n, pre);" for q in range(P - P % 2, P)]
    axpys[:0] = [
        f"fc_k{k}_axpy4x2(X + r * rs, rs, G[{q}] + r, G[{q + 1}] + r, A + {q} * n, A + {q + 1} * n, n, pre);"
        for q in range(0, P - 1, 2)
    ]
    body = [
        f"const {t} *X = (const {t} *)p_[0];",
        "if (rs == 1 && cs != 1) {  /* X stored by columns: column sweeps, each contiguous */",
        f"  for (int q = 0; q < {P}; q++) {{",
        f"    {wk};",
        f"    {zk};",
        "    for (npy_intp r = lo; r < hi; r++) z[r] = 0;",
        "    for (npy_intp j = 0; j < n; j++) {",
        f"      const {t} *c = X + j * cs, wj = w[j];",
        "      #pragma omp simd",
        "      for (npy_intp r = lo; r < hi; r++) z[r] += c[r] * wj;",
        "    }",
        "  }",
        f"  fc_k{k}_rows(lo, hi, p_ + {1 + P});",
        f"  for (int q = 0; q < {P}; q++) {{",
        f"    {gk};",
        f"    {t} *gw = ({t} *)gw_ + q * n;",
        "    for (npy_intp j = 0; j < n; j++) {",
        f"      const {t} *c = X + j * cs;",
        f"      {t} a = 0;",
        "      #pragma omp simd reduction(+:a)",
        "      for (npy_intp r = lo; r < hi; r++) a += c[r] * g[r];",
        "      gw[j] = a;",
        "    }",
        "  }",
        "  return;",
        "}",
        f"for (npy_intp j = 0; j < {P} * n; j++) (({t} *)gw_)[j] = 0;",
        f"npy_intp blk = ({ROWPASS_BLOCK_BYTES} / ((n ? n : 1) * (npy_intp)sizeof({t}))) & ~(npy_intp)3;",
        "blk = blk < 4 ? 4 : (blk > 64 ? 64 : blk);",
        "/* scalar columns before the first 64-byte boundary of a row (none where rows are not",
        " * contiguous or X is not aligned to its element size) */",
        "npy_intp pre = (npy_intp)(((uintptr_t)0 - (uintptr_t)X) & 63);",
        f"pre = (cs != 1 || pre % sizeof({t})) ? 0 : pre / (npy_intp)sizeof({t});",
        "pre = pre < n ? pre : n;",
        f"const {t} *W[{P}], *G[{P}];",
        f"{t} *Z[{P}], *GW = ({t} *)gw_;",
        f"for (int q = 0; q < {P}; q++) {{",
        f"  W[q] = (const {t} *)p_[1 + q]; Z[q] = ({t} *)p_[1 + {P} + q];",
        f"  G[q] = (const {t} *)p_[{1 + P + ni} + q];",
        "}",
        "/* segments of whole blocks, the first summing into gw, the others into zeroed scratch",
        " * accumulators aligned as X (so that the axpy's vector loads of gw are too) */",
        "const npy_intp nblk = hi > lo ? (hi - lo + blk - 1) / blk : 0;",
        f"npy_intp S = ((hi - lo) * n * (npy_intp)sizeof({t}) + {ROWPASS_SEGMENT_BYTES - 1}) / {ROWPASS_SEGMENT_BYTES};",
        f"S = S > {ROWPASS_SEGMENTS} ? {ROWPASS_SEGMENTS} : S;",
        "S = S > nblk / 4 ? nblk / 4 : S;",
        "char *scratch_ = NULL;",
        f"{t} *ACC = NULL;",
        "if (S > 1) {",
        f"  scratch_ = (char *)malloc((size_t)((S - 1) * {P} * n) * sizeof({t}) + 128);",
        "  if (!scratch_) S = 1;  /* one segment: the same sums, in one accumulator */",
        "  else {",
        f"    ACC = ({t} *)((((uintptr_t)scratch_ + 63) & ~(uintptr_t)63) + (((uintptr_t)X & 63) & ~(uintptr_t)(sizeof({t}) - 1)));",
        f"    for (npy_intp j = 0; j < (S - 1) * {P} * n; j++) ACC[j] = 0;",
        "  }",
        "}",
        "S = S < 1 ? 1 : S;",
        "const npy_intp per = (nblk + S - 1) / S * blk;",
        f"const int back = (int)(fc_k{k}_turn++ & 1);",
        "for (npy_intp i_ = 0; i_ < S; i_++) {",
        "const npy_intp s_ = back ? S - 1 - i_ : i_;",
        "const npy_intp a_ = lo + s_ * per, e_ = a_ + per < hi ? a_ + per : hi;",
        f"{t} *A = s_ ? ACC + (s_ - 1) * {P} * n : GW;",
        "for (npy_intp r0 = a_; r0 < e_; r0 += blk) {",
        "  const npy_intp r1 = r0 + blk < e_ ? r0 + blk : e_;",
        "  npy_intp r4 = r0;  /* the rows after r4: one at a time */",
        "  if (cs == 1)",
        "    for (npy_intp r = r0; r + 4 <= r1; r4 = r += 4) {",
        *(f"      {ln}" for ln in dots),
        "    }",
        f"  for (int q = 0; q < {P}; q++)",
        "    for (npy_intp r = r4; r < r1; r++) {",
        f"      const {t} *x0 = X + r * rs;",
        f"      {t} a0 = 0;",
        "      #pragma omp simd reduction(+:a0)",
        "      for (npy_intp j = 0; j < n; j++) a0 += x0[j * cs] * W[q][j];",
        "      Z[q][r] = a0;",
        "    }",
        f"  fc_k{k}_rows(r0, r1, p_ + {1 + P});",
        "  if (cs == 1)",
        "    for (npy_intp r = r0; r + 4 <= r1; r += 4) {",
        *(f"      {ln}" for ln in axpys),
        "    }",
        f"  for (int q = 0; q < {P}; q++)",
        "    for (npy_intp r = r4; r < r1; r++) {",
        f"      const {t} *x0 = X + r * rs, g0 = G[q][r];",
        f"      {t} *gw = A + q * n;",
        "      #pragma omp simd",
        "      for (npy_intp j = 0; j < n; j++) gw[j] += g0 * x0[j * cs];",
        "    }",
        "}",
        "}",
        "/* the segments' sums in one order, whichever way this call went */",
        "for (npy_intp s = 1; s < S; s++)",
        f"  for (npy_intp j = 0; j < {P} * n; j++) GW[j] += ACC[(s - 1) * {P} * n + j];",
        "free(scratch_);",
    ]
    K = (
        rows
        + (dot4 + axpy4 if P % 2 else [])
        + (dot4x2 + axpy4x2 if P > 1 else [])
        # which way this thread's next call visits the segments (only the speed depends on it)
        + [f"static _Thread_local unsigned fc_k{k}_turn;"]
        + _fn(
            f"void fc_k{k}_pass(npy_intp lo, npy_intp hi, npy_intp n, npy_intp rs, "
            "npy_intp cs, char *const *p_, char *gw_)",
            body,
        )
    )
    return "\n".join(K), step


def render_fallback(node: Apply, ctx: NodeCtx) -> tuple:
    """Call ``op.perform`` (through a Python callable) and take its outputs."""
    return _step(ST_PERFORM, node, ctx, [ctx.perform, *(typenum(o.dtype) for o in node.outputs)])


def has_native(node: Apply) -> bool:
    """Whether the node runs as generated C or a run-time step; complex values are computed
    by numpy (the node's ``perform``): the kernels are written for real types."""
    if isinstance(node.op, (Elemwise, Reduce)) and any(
        is_complex(v.dtype) for v in (*node.inputs, *node.outputs)
    ):
        return False
    # a fused body computing complex values between real inputs and outputs (sum(real(z)))
    body = node.op.composite if isinstance(node.op, Elemwise) else getattr(node.op, "pre", None)
    if isinstance(node.op, (Elemwise, Reduce)) and body is not None:
        if any(is_complex(dt) for _, _, dt in body.steps):
            return False
    return isinstance(node.op, (Elemwise, Reduce, Dot, ArgReduce, DimShuffle))


def keeps_buffers(node: Apply) -> bool:
    """Whether the node's step can refill its outputs' kept buffers (allow_gc off) rather
    than allocate them: generated loops, and `SubtensorGrad` (zeroed again each call)."""
    return has_native(node) or isinstance(node.op, SubtensorGrad)


#: Steps along one axis (or the flattened input), by op: their kind and their flag (the
#: product of `CumOp`, the indices of `Sort`, the gather of `SortGrad`; none for the others).
_ALONG_KINDS = {
    CumOp: (ST_CUMOP, lambda op: op.kind == "mul"),
    Sort: (ST_SORT, lambda op: op.kind == "argsort"),
    SortGrad: (ST_SORT_GRAD, lambda op: op.gather),
    Repeat: (ST_REPEAT, lambda op: False),
    RepeatGrad: (ST_REPEAT_GRAD, lambda op: False),
}


def render_along_axis(node: Apply, ctx: NodeCtx) -> tuple:
    """A step of an op along ``axis`` (-1 for ``None``: the flattened input), run by the
    run-time (``run_cumop``, ``run_sort``, ...): ints are the perform's index, the output's
    typenum, the axis and the op's flag."""
    kind, flag = _ALONG_KINDS[type(node.op)]
    axis = -1 if node.op.axis is None else node.op.axis
    return _step(kind, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype), axis, int(flag(node.op))])


#: Steps whose only parameters are the perform's index and the output's typenum, by op.
_TYPED_KINDS = {
    Assert: ST_ASSERT,
    CheckAndRaise: ST_ASSERT,
    ARange: ST_ARANGE,
    Eye: ST_EYE,
    MatMul: ST_MATMUL,
}


def render_pool(node: Apply, ctx: NodeCtx) -> tuple | None:
    """The pooling step (``run_pool``) of a ``pool_2d`` op or one of its gradients, or None for
    any other op: ints are the perform's index, the output's typenum, the op's and the mode's
    numbers (``POOL_OPS``, ``MODES``), ws, stride, pad and ignore_border."""
    # A graph holds a pooling op only once its module is loaded (building or unpickling one
    # imports it): any other graph neither imports it nor pays for more than this look-up.
    pool = sys.modules.get("fncache.tensor.signal.pool")
    if pool is None or type(node.op) not in pool.POOL_OPS:
        return None
    op = node.op
    ints = [
        ctx.perform,
        typenum(node.outputs[0].dtype),
        pool.POOL_OPS.index(type(op)),
        pool.MODES.index(op.mode),
    ]
    return _step(ST_POOL, node, ctx, ints + [*op.ws, *op.stride, *op.pad, int(op.ignore_border)])


def _random_module() -> Any:
    """``fncache.tensor.random`` where it is loaded, else None: a graph holds a random variable
    only once its module is loaded (building or unpickling one imports it), and importing it
    for any other graph would cost every warm hit its import."""
    return sys.modules.get("fncache.tensor.random")


def render_random(node: Apply, ctx: NodeCtx) -> tuple:
    """A draw of one of `RANDOM_DISTS` as a run-time step (``c_random.c``: ``fc_random_step``):
    ints are the perform's index, the sample's typenum, the distribution's number, whether a
    size is given and the key's variable number. A stream of another format or an op without
    the seed input run the perform, as do parameters the step does not take (it tells at run
    time)."""
    op = node.op
    if (
        op.dist not in RANDOM_DISTS
        or not op.seeded
        or op.stream != _random_module().STREAM_FORMAT
        or not 0 <= op.key[1] < 2**31
    ):
        return render_fallback(node, ctx)
    ints = [
        ctx.perform,
        typenum(node.outputs[1].dtype),
        RANDOM_DISTS.index(op.dist),
        int(op.has_size),
        op.key[1],
    ]
    return _step(ST_RANDOM, node, ctx, ints)


def render_node(node: Apply, ctx: NodeCtx) -> tuple[str, tuple]:
    """(kernel C code, possibly empty; the node's step) for one node. `SumToShape`,
    `ReducedSize`, `RowPass`, `Reshape`, `Subtensor`, `SubtensorGrad`, `MakeVector`, `Alloc`,
    `Concatenate`, `SpecifyShape`, `Assert`, `ARange`, `TensorDot`, advanced indexing, `CumOp`,
    `Eye`, `Repeat`, `RepeatGrad`, `Tile`, `Sort`, `SortGrad`, `MatMul`, pooling (``pool_2d``
    and its gradients) and `RandomVariable` steps call the node's perform where their fast path
    does not apply (c_module gives them one, as to nodes without native code)."""
    if isinstance(node.op, SumToShape):
        return "", render_sum_to_shape(node, ctx)
    if isinstance(node.op, ReducedSize):
        return "", render_reduced_size(node, ctx)
    if isinstance(node.op, RowPass):
        return render_rowpass(node, ctx)
    if isinstance(node.op, Shape):
        return "", _step(ST_SHAPE, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype)])
    if isinstance(node.op, Reshape):
        return "", render_reshape(node, ctx)
    if isinstance(node.op, SubtensorGrad):
        return "", render_subtensor_grad(node, ctx)
    if type(node.op) in _ADV_MODES:
        return "", render_adv_index(node, ctx)
    if isinstance(node.op, Subtensor):
        return "", render_subtensor(node, ctx)
    if isinstance(node.op, MakeVector):
        return "", _step(ST_MAKE_VECTOR, node, ctx, [ctx.perform, typenum("int64")])
    if isinstance(node.op, Alloc):
        return "", _step(ST_ALLOC, node, ctx, [ctx.perform, typenum(node.outputs[0].dtype), node.op.ndim])
    if isinstance(node.op, Concatenate):
        return "", render_concatenate(node, ctx)
    if isinstance(node.op, SpecifyShape):
        return "", render_specify_shape(node, ctx)
    if isinstance(node.op, TensorDot):
        op: TensorDot = node.op
        head = [ctx.perform, typenum(node.outputs[0].dtype), len(op.a_axes)]
        return "", _step(ST_TENSORDOT, node, ctx, head + [*op.a_axes, *op.b_axes])
    if type(node.op) in _ALONG_KINDS:
        return "", render_along_axis(node, ctx)
    if isinstance(node.op, Tile):
        return "", render_tile(node, ctx)
    random = _random_module()
    if random is not None and isinstance(node.op, random.RandomVariable):
        return "", render_random(node, ctx)
    if type(node.op) in _TYPED_KINDS:
        return "", _step(
            _TYPED_KINDS[type(node.op)], node, ctx, [ctx.perform, typenum(node.outputs[0].dtype)]
        )
    if isinstance(node.op, CheckAndReport):
        ints = [ctx.perform, typenum(node.outputs[0].dtype), node.op.n_conds(node)]
        return "", _step(ST_ASSERT, node, ctx, ints)
    pooling = render_pool(node, ctx)
    if pooling is not None:
        return "", pooling
    if not has_native(node):
        return "", render_fallback(node, ctx)
    if isinstance(node.op, Elemwise):
        return render_elemwise(node, ctx)
    if isinstance(node.op, Reduce):
        return render_reduce(node, ctx)
    if isinstance(node.op, Dot):
        return "", render_dot(node, ctx)
    if isinstance(node.op, ArgReduce):
        return "", render_argreduce(node, ctx)
    if isinstance(node.op, DimShuffle):
        return "", render_dimshuffle(node, ctx)
    return "", render_fallback(node, ctx)
