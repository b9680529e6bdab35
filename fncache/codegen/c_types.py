"""C spellings of dtypes and of scalar expressions (shared by the C and CUDA renderers)."""
from __future__ import annotations

from typing import Sequence

from ..graph.types import is_int
from ..tensor.scalar_ops import SCALAR_OPS, Composite, compute_dtype

__all__ = ["CTYPE", "TYPENUM", "scalar_expr", "composite_lines"]

CTYPE = {"bool": "npy_bool", "int8": "npy_int8", "int16": "npy_int16", "int32": "npy_int32",
         "int64": "npy_int64", "uint8": "npy_uint8", "float32": "npy_float32",
         "float64": "npy_float64"}
TYPENUM = {"bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
           "int64": "NPY_INT64", "uint8": "NPY_UINT8", "float32": "NPY_FLOAT32",
           "float64": "NPY_FLOAT64"}


def scalar_expr(name: str, args: Sequence[str], arg_dtypes: Sequence[str], out: str,
                ctype: dict[str, str] = CTYPE) -> str:
    """C expression computing scalar op ``name`` on C expressions ``args``."""
    if name.startswith("cast:"):
        return f"({args[0]} != 0)" if out == "bool" else f"({ctype[out]})({args[0]})"
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


def composite_lines(comp: Composite, loads: Sequence[str], prefix: str = "s",
                    ctype: dict[str, str] = CTYPE) -> tuple[list[str], list[str]]:
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
        lines.append(f"const {ctype[dt]} {prefix}{j} = ({ctype[dt]})({expr});")
        dts.append(dt)
    return lines, [f"{prefix}{j}" for j in comp.outputs]
