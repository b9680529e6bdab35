"""C spellings of dtypes and of scalar expressions (shared by the C and CUDA renderers)."""

from __future__ import annotations

from typing import Sequence

from ..graph.types import DTYPES, is_complex, is_float, is_int
from ..tensor.scalar_ops import SCALAR_OPS, Composite, compute_dtype, float_to_int_rule

__all__ = [
    "CTYPE",
    "scalar_expr",
    "composite_lines",
    "invariant_steps",
    "convert_expr",
    "reduce_accumulator",
    "reduce_combine",
    "reduce_kind",
    "minmax_identity",
]

#: The C type of each real dtype: the kernels are written for real types (complex values are
#: computed by numpy, see ``c_nodes.has_native``).
CTYPE = {dt: c for dt, c in DTYPES.items() if not is_complex(dt)}


def scalar_expr(
    name: str, args: Sequence[str], arg_dtypes: Sequence[str], out: str, ctype: dict[str, str] = CTYPE
) -> str:
    """C expression computing scalar op ``name`` on C expressions ``args``."""
    if name.startswith("cast:"):
        if out == "bool":
            return f"({args[0]} != 0)"
        if is_float(arg_dtypes[0]) and is_int(out):
            return float_to_int_expr(args[0], arg_dtypes[0], out, ctype)
        return f"({ctype[out]})({args[0]})"
    op = SCALAR_OPS[name]
    ct = compute_dtype(op, arg_dtypes, out)
    if ct == "bool" and op.c_bool is not None:
        tmpl = op.c_bool
    elif (is_int(ct) or ct == "bool") and op.c_int is not None:
        tmpl = op.c_int
    else:
        tmpl = op.c
    conv = []
    for k, (a, dt) in enumerate(zip(args, arg_dtypes)):
        if name == "switch" and k == 0:
            conv.append(f"({a} != 0)")
        else:
            conv.append(a if dt == ct else f"(({ctype[ct]})({a}))")
    expr = tmpl.replace("$T", ct)
    for k in reversed(range(len(conv))):
        expr = expr.replace(f"${k}", conv[k])
    return expr


def _int_literal(value: int, ct: str) -> str:
    # the minimum of int64 has no literal of its own
    return f"(({ct})({value + 1}LL - 1))" if value < 0 else f"(({ct}){value}ULL)"


def float_to_int_expr(a: str, src: str, out: str, ctype: dict[str, str] = CTYPE) -> str:
    """C expression converting float ``a`` to integer ``out`` by ``float_to_int_rule``: only
    values the C conversion defines are converted, so the bits are the same on every host, in
    vector and scalar code and in numpy's reference evaluation. The out-of-range values are
    replaced by 0 before the conversion rather than branched around, and the selects are
    written so that gcc still vectorizes the loop (``&``, not ``&&``; NaN fails both tests)."""
    rule = float_to_int_rule(out)
    suffix = "f" if src == "float32" else ""
    lo, hi = (f"{int(v)}.0{suffix}" for v in (rule.lo, rule.hi))  # powers of two: exact
    ct, via = ctype[out], ctype[rule.via]
    t = f"(((({a}) >= {lo}) & (({a}) < {hi})) ? ({a}) : 0)"
    if rule.above != rule.below:  # uint32, uint64: the upper half is past via's range
        conv = f"({t} < 0 ? ({ct})({via})({t}) : ({ct})({t}))"
    else:
        conv = f"({ct})({via})({t})"
    above, below = _int_literal(rule.above, ct), _int_literal(rule.below, ct)
    return f"(({a}) >= {hi} ? {above} : ({a}) >= {lo} ? {conv} : {below})"


def convert_expr(val: str, src: str, ct: str, ctype: dict[str, str] = CTYPE) -> str:
    """C expression converting ``val`` of dtype ``src`` to C type ``ct`` (a reduction's
    accumulator): a float to an integer type by ``float_to_int_rule``, as a cast node does."""
    dst = next((dt for dt, c in ctype.items() if c == ct), None)
    if is_float(src) and dst is not None and is_int(dst):
        return float_to_int_expr(val, src, dst, ctype)
    return f"({ct})({val})"


def composite_lines(
    comp: Composite, loads: Sequence[str], prefix: str = "s", ctype: dict[str, str] = CTYPE
) -> tuple[list[str], list[str]]:
    """Statements computing ``comp`` from input expressions ``loads``; returns the lines and
    the C names of the composite's outputs."""
    lines: list[str] = []
    dts: list[str] = []
    for j, (name, refs, dt) in enumerate(comp.steps):
        args, adts = [], []
        for kind, k in refs:
            if kind == "in":
                args.append(loads[k])
                adts.append(comp.in_dtypes[k])
            else:
                args.append(f"{prefix}{k}")
                adts.append(dts[k])
        expr = scalar_expr(name, args, adts, dt, ctype)
        # bool steps hold 0 or 1 in an int: an unsigned char among doubles keeps gcc from
        # vectorizing the loop (with AVX-512 it finds no vector mode for both)
        decl = "int" if dt == "bool" else ctype[dt]
        lines.append(f"const {decl} {prefix}{j} = ({decl})({expr});")
        dts.append(dt)
    return lines, [f"{prefix}{j}" for j in comp.outputs]


def invariant_steps(comp: Composite, invariant: Sequence[bool]) -> frozenset[int]:
    """The steps of ``comp`` that read only the inputs marked in ``invariant`` and such steps:
    in a loop over which those inputs stay the same (a per-row value in the loop along the
    row), their values do too, so they can be computed once before it."""
    steps: set[int] = set()
    for j, (_, refs, _) in enumerate(comp.steps):
        if all(invariant[k] if kind == "in" else k in steps for kind, k in refs):
            steps.add(j)
    return frozenset(steps)


_REDUCE_IDENTITY = {"add": "0", "mul": "1", "mean": "0", "and": "1", "or": "0"}


def minmax_identity(kind: str, dt: str) -> str:
    """The identity of max/min over ``dt``: -inf/+inf for floats, the type's limits else."""
    if is_float(dt):
        return "-INFINITY" if kind == "max" else "INFINITY"
    if dt == "bool":
        return "0" if kind == "max" else "1"
    lim = {
        "int8": "INT8",
        "int16": "INT16",
        "int32": "INT32",
        "int64": "INT64",
        "uint8": "UINT8",
        "uint16": "UINT16",
        "uint32": "UINT32",
        "uint64": "UINT64",
    }[dt]
    if kind == "max":
        return "0" if dt.startswith("uint") else f"NPY_MIN_{lim}"
    return f"NPY_MAX_{lim}"


def reduce_kind(kind: str, out: str, acc_dtype: str | None = None) -> str:
    """The kind of accumulation a reduction's loop runs: numpy adds bools by ``or`` and
    multiplies them by ``and``, so a sum, product or mean accumulating in bool (its
    ``acc_dtype``, else a sum's or product's result dtype) is an ``or`` or an ``and`` of the
    values tested against 0 (a C cast to the one-byte bool would truncate 0.5 to 0 and wrap
    256 to 0); a mean still divides that by the count."""
    if kind in ("add", "mul", "mean") and (acc_dtype or (out if kind != "mean" else None)) == "bool":
        return "and" if kind == "mul" else "or"
    return kind


def reduce_accumulator(kind: str, out: str, vdt: str, acc_dtype: str | None = None) -> tuple[str, str]:
    """(C type, identity) of a reduction's accumulator: ``acc_dtype`` where the user gave one;
    else sums and products of float32 and means accumulate in double, so long float32
    reductions keep their precision."""
    if kind in ("add", "mul", "mean"):
        if acc_dtype is not None:
            acc = CTYPE[acc_dtype]
        else:
            acc = "npy_float64" if (kind == "mean" or out == "float32") else CTYPE[out]
        return acc, _REDUCE_IDENTITY[kind]
    if kind in ("and", "or"):
        return "int", _REDUCE_IDENTITY[kind]
    return CTYPE[vdt], minmax_identity(kind, vdt)


def reduce_combine(kind: str, vdt: str, a: str, b: str) -> str:
    """C expression combining accumulator ``a`` with value ``b`` (max/min propagate NaN)."""
    if kind in ("add", "mean"):
        return f"{a} + {b}"
    if kind == "mul":
        return f"{a} * {b}"
    if kind == "and":
        return f"{a} && ({b} != 0)"
    if kind == "or":
        return f"{a} || ({b} != 0)"
    cmp = ">" if kind == "max" else "<"
    nan = f" || {b} != {b}" if is_float(vdt) else ""
    return f"({b} {cmp} {a}{nan}) ? {b} : {a}"
