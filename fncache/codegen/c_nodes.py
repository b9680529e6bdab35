"""C code for each kind of node. Elementwise loops and reductions are generated here (they
are where the time goes); matrix products call numpy's BLAS-backed product; ops without a
native version call their numpy ``perform`` from C, so every graph still links into one module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..graph.basic import Apply
from ..graph.types import is_float, is_int
from ..tensor.blas import Dot
from ..tensor.elemwise import Elemwise
from ..tensor.reduction import ArgReduce, Reduce
from ..tensor.scalar_ops import Composite
from ..tensor.shape_ops import DimShuffle
from .c_types import CTYPE, TYPENUM, composite_lines, reduce_accumulator, reduce_combine

__all__ = ["NodeCtx", "render_node", "PAR_MIN"]

#: Loops shorter than this run on one thread (thread start-up costs more than it saves).
PAR_MIN = 1 << 15


@dataclass
class NodeCtx:
    k: int                      # node number (for error reports)
    ins: list[str]              # C lvalues of input slots, e.g. "v[3]"
    outs: list[str]             # C lvalues of output slots
    keeps: list[str]            # per output: pointer to the kept buffer, or "NULL"
    is_output: list[bool]       # per output: returned to the caller
    perform: int = -1           # index into self->performs for Python fallbacks


def _static_scalar(shape: Sequence[int | None]) -> bool:
    return all(s == 1 for s in shape)


def has_int_pow(comp: Composite) -> bool:
    return any(name == "pow" and is_int(dt) for name, _, dt in comp.steps)


def _kernel_params(node: Apply, comp: Composite) -> tuple[list[str], list[str], list[str],
                                                          list[str]]:
    """Kernel parameters and call arguments for the inputs, plus the run()-side declarations
    and the per-element loads (static scalars are loaded once, before the loop)."""
    params, args, decls, loads = [], [], [], []
    for k, v in enumerate(node.inputs):
        ct = CTYPE[comp.in_dtypes[k]]
        decls.append(f"const {ct} *p{k} = (const {ct} *)PyArray_DATA(in_[{k}]);")
        if _static_scalar(v.type.shape):
            params.append(f"const {ct} c{k}")
            args.append(f"p{k}[0]")
            loads.append(f"c{k}")
        else:
            params.append(f"const {ct} *p{k}")
            args.append(f"p{k}")
            loads.append("")
    return params, args, decls, loads


def _flat_test(node: Apply) -> str:
    conds = [f"(PyArray_IS_C_CONTIGUOUS(in_[{k}]) && PyArray_SIZE(in_[{k}]) == n)"
             for k, v in enumerate(node.inputs) if not _static_scalar(v.type.shape)]
    return " && ".join(conds) or "1"


def _unravel(ni: int, nd: int, extra_out: str = "") -> list[str]:
    """Offsets of row ``o`` (all dims but the last) for each input (b<k>) and the output."""
    lines = ["npy_intp rem = o; " + " ".join(f"npy_intp b{k} = 0;" for k in range(ni))
             + (" npy_intp ob = 0;" if extra_out else "")]
    lines.append(f"for (int d = {nd - 2}; d >= 0; d--) {{ npy_intp c = rem % shape[d]; "
                 f"rem /= shape[d]; " + " ".join(f"b{k} += c * st[{k * nd} + d];"
                                                  for k in range(ni))
                 + (f" ob += c * {extra_out}[d];" if extra_out else "") + " }")
    return lines


def _prologue(node: Apply, ctx: NodeCtx, nd: int) -> list[str]:
    ni = len(node.inputs)
    return [
        f"PyArrayObject *in_[{ni}] = {{{', '.join(ctx.ins)}}};",
        f"npy_intp shape[{max(nd, 1)}], st[{max(ni * nd, 1)}];",
        f"if (fc_broadcast({nd}, {ni}, in_, shape, st, \"{node.op}\") < 0) goto fail;",
        "npy_intp n = 1;",
        f"for (int d = 0; d < {nd}; d++) n *= shape[d];",
    ]


def _split(call: str, count: str = "n") -> list[str]:
    """Run ``call`` (which uses ``lo``/``hi``) over [0, count): on all threads when the node
    has many elements, else directly, so a small call never enters the OpenMP runtime."""
    return [
        f"if (n >= {PAR_MIN} && self->nthreads > 1 && {count} > 1) {{",
        "  #pragma omp parallel num_threads(self->nthreads)",
        "  { npy_intp T = omp_get_num_threads(), t = omp_get_thread_num();",
        f"    npy_intp lo = {count} * t / T, hi = {count} * (t + 1) / T; {call} }}",
        f"}} else {{ npy_intp lo = 0, hi = {count}; {call} }}",
    ]


def render_elemwise(node: Apply, ctx: NodeCtx) -> tuple[str, str]:
    op: Elemwise = node.op
    comp = op.composite
    nd = node.outputs[0].ndim
    k = ctx.k
    params, args, decls, loads = _kernel_params(node, comp)
    outs = [f"{CTYPE[o.dtype]} *po{m}" for m, o in enumerate(node.outputs)]
    out_args = [f"po{m}" for m in range(len(node.outputs))]
    flat_loads = [ld or f"p{i}[i]" for i, ld in enumerate(loads)]
    body_f, names = composite_lines(comp, flat_loads)
    K = [f"static void k{k}_flat(npy_intp lo, npy_intp hi, {', '.join(params + outs)})", "{",
         "  #pragma omp simd",
         "  for (npy_intp i = lo; i < hi; i++) {"]
    K += ["    " + ln for ln in body_f]
    K += [f"    po{m}[i] = {nm};" for m, nm in enumerate(names)]
    K += ["  }", "}"]
    if nd:
        ni = len(node.inputs)
        str_loads = [ld or f"p{i}[b{i} + j * st[{i * nd + nd - 1}]]"
                     for i, ld in enumerate(loads)]
        body_s, names_s = composite_lines(comp, str_loads)
        K += [f"static void k{k}_rows(npy_intp lo, npy_intp hi, const npy_intp *shape, "
              f"const npy_intp *st, {', '.join(params + outs)})", "{",
              f"  npy_intp inner = shape[{nd - 1}];",
              "  for (npy_intp o = lo; o < hi; o++) {"]
        K += ["    " + ln for ln in _unravel(ni, nd)]
        K += ["    for (npy_intp j = 0; j < inner; j++) {"]
        K += ["      " + ln for ln in body_s]
        K += [f"      po{m}[o * inner + j] = {nm};" for m, nm in enumerate(names_s)]
        K += ["    }", "  }", "}"]
    L = _prologue(node, ctx, nd)
    for m, o in enumerate(node.outputs):
        L.append(f"PyArrayObject *o{m} = NULL;")
    for m, i in op.inplace:
        guard = "" if not ctx.is_output[m] else " && self->allow_gc"
        L.append(f"if (fc_reusable(in_[{i}], {nd}, shape, {TYPENUM[comp.out_dtypes[m]]}){guard})"
                 f" {{ o{m} = in_[{i}]; Py_INCREF(o{m}); }}")
    for m, o in enumerate(node.outputs):
        L.append(f"if (!o{m}) o{m} = fc_alloc({nd}, shape, {TYPENUM[o.dtype]}, {ctx.keeps[m]});")
        L.append(f"if (!o{m}) goto fail;")
        L.append(f"{ctx.outs[m]} = o{m};")
        L.append(f"{CTYPE[o.dtype]} *po{m} = ({CTYPE[o.dtype]} *)PyArray_DATA(o{m});")
    L += decls
    call_args = ", ".join(args + out_args)
    L.append(f"if ({_flat_test(node)}) {{")
    L += ["  " + ln for ln in _split(f"k{k}_flat(lo, hi, {call_args});")]
    L.append("}")
    if nd:
        L.append(f"else if (n) {{ npy_intp rows = n / shape[{nd - 1}];")
        L += ["  " + ln for ln in _split(f"k{k}_rows(lo, hi, shape, st, {call_args});",
                                         "rows")]
        L.append("}")
    if has_int_pow(comp):
        L.append("if (fc_errflag & FC_ERR_NEGPOW) { PyErr_SetString(PyExc_ValueError, "
                 "\"Integers to negative integer powers are not allowed.\"); goto fail; }")
    return "\n".join(K), "\n".join(L)


def render_reduce(node: Apply, ctx: NodeCtx) -> tuple[str, str]:
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
    vdt = comp.out_dtypes[0]
    kind = op.kind
    acc, ident = reduce_accumulator(kind, out.dtype, vdt)
    nan_track = kind in ("max", "min") and is_float(vdt)

    def combine(a: str, val: str) -> str:
        # Sums and products convert to the accumulator first; and/or test the value itself
        # (0.5 is true: converting it to int first would make it false).
        v = f"({acc})({val})" if kind in ("add", "mul", "mean") else val
        return f"{a} = {reduce_combine(kind, vdt, a, v)};"

    def finish(a: str) -> str:
        if kind == "mean":
            return (f"({CTYPE[out.dtype]})({a} / (double)(rn - {op.ddof} > 0 ? "
                    f"rn - {op.ddof} : 0))")
        return f"({CTYPE[out.dtype]})({a})"

    params, args, decls, loads = _kernel_params(node, comp)
    K: list[str] = []
    L = _prologue(node, ctx, nd)
    kept = [d for d in range(nd) if d not in axes]
    L.append(f"npy_intp oshape[{max(ond, 1)}];")
    L += [f"oshape[{i}] = shape[{d}];" for i, d in enumerate(kept)]
    L.append("npy_intp rn = 1;")
    L += [f"rn *= shape[{d}];" for d in axes]
    if kind in ("max", "min"):
        L.append(f"if (rn == 0) {{ PyErr_SetString(PyExc_ValueError, \"{op}: zero-size array "
                 f"to reduction operation {kind}imum which has no identity\"); goto fail; }}")
    L.append(f"PyArrayObject *o0 = fc_alloc({ond}, oshape, {TYPENUM[out.dtype]}, "
             f"{ctx.keeps[0]});")
    L.append("if (!o0) goto fail;")
    L.append(f"{ctx.outs[0]} = o0;")
    L.append(f"{CTYPE[out.dtype]} *po0 = ({CTYPE[out.dtype]} *)PyArray_DATA(o0);")
    L += decls
    if ond == 0:
        # Full reduction over flat inputs: a vectorized kernel per thread, partials combined.
        flat_loads = [ld or f"p{i}[i]" for i, ld in enumerate(loads)]
        body_f, names = composite_lines(comp, flat_loads)
        val = names[0]
        red = {"add": "+", "mean": "+", "mul": "*", "and": "&&", "or": "||"}.get(kind, kind)
        clause = f"reduction({red}:acc)" + (" reduction(|:nan_)" if nan_track else "")
        K += [f"static {acc} k{k}_red(npy_intp lo, npy_intp hi, {', '.join(params)}, "
              "int *hasnan)", "{",
              f"  {acc} acc = {ident}; int nan_ = 0;",
              f"  #pragma omp simd {clause}",
              "  for (npy_intp i = lo; i < hi; i++) {"]
        K += ["    " + ln for ln in body_f]
        if kind in ("max", "min"):
            cmp = ">" if kind == "max" else "<"
            K.append(f"    acc = {val} {cmp} acc ? {val} : acc;")
            if nan_track:
                K.append(f"    nan_ |= {val} != {val};")
        else:
            K.append("    " + combine("acc", val))
        K += ["  }", "  *hasnan = nan_;", "  return acc;", "}"]
        call = f"k{k}_red(lo, hi, {', '.join(args)}, &hn)"
        L.append(f"if ({_flat_test(node)}) {{")
        L.append(f"  {acc} acc = {ident}; int hasnan = 0;")
        L.append(f"  if (n >= {PAR_MIN} && self->nthreads > 1) {{")
        L.append(f"    {acc} part[64]; int pn[64]; int used = 1;")
        L.append("    #pragma omp parallel num_threads(self->nthreads < 64 ? self->nthreads : 64)")
        L.append("    { npy_intp T = omp_get_num_threads(), t = omp_get_thread_num();")
        L.append("      npy_intp lo = n * t / T, hi = n * (t + 1) / T; int hn = 0;")
        L.append(f"      part[t] = {call}; pn[t] = hn;")
        L.append("      if (t == 0) used = (int)T; }")
        L.append("    for (int t = 0; t < used; t++) {")
        L.append("      hasnan |= pn[t];")
        if kind in ("max", "min"):
            cmp = ">" if kind == "max" else "<"
            L.append(f"      acc = part[t] {cmp} acc ? part[t] : acc;")
        else:
            L.append("      " + combine("acc", "part[t]"))
        L.append("    }")
        L.append(f"  }} else {{ npy_intp lo = 0, hi = n; int hn = 0; acc = {call}; hasnan = hn; }}")
        if nan_track:
            L.append("  if (hasnan) acc = NAN;")
        L.append(f"  po0[0] = {finish('acc')};")
        L.append("} else {")
    else:
        L.append("{")
    # General path: accumulate into a temporary of the output's size.
    ni = len(node.inputs)
    L.append("  npy_intp on = PyArray_SIZE(o0);")
    L.append(f"  {acc} *acc = ({acc} *)PyMem_Malloc(sizeof({acc}) * (on ? on : 1));")
    L.append("  if (!acc) { PyErr_NoMemory(); goto fail; }")
    L.append(f"  for (npy_intp m = 0; m < on; m++) acc[m] = {ident};")
    L.append(f"  npy_intp ost[{max(nd, 1)}];")
    L.append("  { npy_intp s = 1;")
    for i, d in reversed(list(enumerate(kept))):
        L.append(f"    ost[{d}] = s; s *= oshape[{i}];")
    for d in axes:
        L.append(f"    ost[{d}] = 0;")
    L.append("  }")
    L += [f"  const {CTYPE[comp.in_dtypes[i]]} c{i} = p{i}[0];"
          for i, ld in enumerate(loads) if ld]
    if nd:
        str_loads = [ld or f"p{i}[b{i} + j * st[{i * nd + nd - 1}]]"
                     for i, ld in enumerate(loads)]
        body_s, names_s = composite_lines(comp, str_loads)
        L.append(f"  npy_intp inner = shape[{nd - 1}], outer = inner ? n / inner : 0;")
        L.append("  for (npy_intp o = 0; o < outer; o++) {")
        L += ["    " + ln for ln in _unravel(ni, nd, extra_out="ost")]
        L.append("    for (npy_intp j = 0; j < inner; j++) {")
        L += ["      " + ln for ln in body_s]
        L.append("      " + combine(f"acc[ob + j * ost[{nd - 1}]]", names_s[0]))
        L.append("    }")
        L.append("  }")
    else:
        body_s, names_s = composite_lines(comp, [ld or f"p{i}[0]" for i, ld in enumerate(loads)])
        L.append("  {")
        L += ["    " + ln for ln in body_s]
        L.append("    " + combine("acc[0]", names_s[0]))
        L.append("  }")
    L.append(f"  for (npy_intp m = 0; m < on; m++) po0[m] = {finish('acc[m]')};")
    L.append("  PyMem_Free(acc);")
    L.append("}")
    if has_int_pow(comp):
        L.append("if (fc_errflag & FC_ERR_NEGPOW) { PyErr_SetString(PyExc_ValueError, "
                 "\"Integers to negative integer powers are not allowed.\"); goto fail; }")
    return "\n".join(K), "\n".join(L)


def render_dot(node: Apply, ctx: NodeCtx) -> str:
    dt = node.outputs[0].dtype
    # A 1-D . 1-D product comes back as a numpy scalar, not an array: PyArray_FROM_OTF makes
    # it a 0-d array (and casts to the output dtype when numpy's differs).
    return "\n".join([
        f"PyObject *p = PyArray_MatrixProduct2((PyObject *){ctx.ins[0]}, "
        f"(PyObject *){ctx.ins[1]}, NULL);",
        "if (!p) goto fail;",
        f"PyObject *r = PyArray_FROM_OTF(p, {TYPENUM[dt]}, NPY_ARRAY_FORCECAST);",
        "Py_DECREF(p);",
        "if (!r) goto fail;",
        f"{ctx.outs[0]} = (PyArrayObject *)r;",
    ])


def render_argreduce(node: Apply, ctx: NodeCtx) -> str:
    op: ArgReduce = node.op
    fn = "PyArray_ArgMax" if op.kind == "argmax" else "PyArray_ArgMin"
    axis = "FC_RAVEL_AXIS" if op.axis is None else str(op.axis)
    # As numpy: only an empty reduced axis is an error ((3, 0) along axis 0 gives []).
    empty = (f"PyArray_SIZE({ctx.ins[0]}) == 0" if op.axis is None
             else f"PyArray_DIM({ctx.ins[0]}, {op.axis}) == 0")
    return "\n".join([
        f"if ({empty}) {{ PyErr_SetString(PyExc_ValueError, "
        f"\"{op.kind}: attempt to get {op.kind} of an empty sequence\"); goto fail; }}",
        f"PyObject *r = {fn}({ctx.ins[0]}, {axis}, NULL);",
        "if (!r) goto fail;",
        "if (PyArray_TYPE((PyArrayObject *)r) != NPY_INT64) {",
        "  PyObject *c = PyArray_CastToType((PyArrayObject *)r, "
        "PyArray_DescrFromType(NPY_INT64), 0);",
        "  Py_DECREF(r); r = c; if (!r) goto fail;",
        "}",
        f"{ctx.outs[0]} = (PyArrayObject *)r;",
    ])


def render_dimshuffle(node: Apply, ctx: NodeCtx) -> str:
    op: DimShuffle = node.op
    pat = [-1 if p == "x" else p for p in op.pattern]
    checks = [f"if (PyArray_DIM({ctx.ins[0]}, {d}) != 1) {{ PyErr_Format(PyExc_ValueError, "
              f"\"{op}: dim {d} has size %zd at run time but was declared broadcastable "
              f"(size 1)\", (Py_ssize_t)PyArray_DIM({ctx.ins[0]}, {d})); goto fail; }}"
              for d in op.dropped]
    return "\n".join(checks + [
        f"static const int pat[{max(len(pat), 1)}] = {{{', '.join(map(str, pat)) or '0'}}};",
        f"{ctx.outs[0]} = fc_dimshuffle({ctx.ins[0]}, {len(pat)}, pat);",
        f"if (!{ctx.outs[0]}) goto fail;",
    ])


def render_fallback(node: Apply, ctx: NodeCtx) -> str:
    """Call ``op.perform`` (through a Python callable) and take its outputs."""
    args = ", ".join(f"(PyObject *){s}" for s in ctx.ins)
    L = [f"PyObject *r = PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(self->performs, "
         f"{ctx.perform}), {args + ', ' if args else ''}NULL);",
         "if (!r) goto fail;"]
    for m, o in enumerate(node.outputs):
        L.append(f"{ctx.outs[m]} = (PyArrayObject *)PyArray_FROM_OTF(PyList_GET_ITEM(r, {m}), "
                 f"{TYPENUM[o.dtype]}, NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED);")
    L.append("Py_DECREF(r);")
    L += [f"if (!{ctx.outs[m]}) goto fail;" for m in range(len(node.outputs))]
    return "\n".join(L)


def has_native(node: Apply) -> bool:
    return isinstance(node.op, (Elemwise, Reduce, Dot, ArgReduce, DimShuffle))


def render_node(node: Apply, ctx: NodeCtx) -> tuple[str, str]:
    """(file-scope support code, statements inside run()) for one node."""
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
