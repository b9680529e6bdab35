"""Render an optimized graph as one CUDA module: the ``.cu`` source and, per node, the kernels
the runner launches and how to pass their arguments.

Only the nodes where the time goes get kernels: every fused elementwise chain (one grid-stride
kernel per node: a flat one for contiguous operands and a strided one that handles any
broadcasting and any layout), every reduction (a block-level tree reduction, a thread-per-output
variant for reductions over outer axes, and a second pass that combines per-block partials), and
the copy / cast kernels the runner needs to make strided values contiguous, concatenate, or hand
out outputs that would alias its storage. Matrix products go to cuBLAS (``blas.py``); shape ops
are views computed on the host (``arrays.py``); anything else, and every node computing complex
values, runs on the host (``runtime.py``).

The scalar code is the C backend's: loop bodies come from :func:`composite_lines` and the scalar
helpers from the marked region of ``codegen/prelude.h``, so both backends compute the same
thing by construction.

Every kernel also gets a host-callable thunk under ``#ifdef FC_EMULATE`` (compiled out by nvcc):
the test-suite builds the very same source with g++ against a CPU emulation of the CUDA
execution model, so the kernels and the runner are exercised on machines without a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Sequence, Union

from ...graph.basic import Apply
from ...graph.fgraph import FunctionGraph
from ...tensor.blas import Dot
from ...tensor.elemwise import Elemwise
from ...tensor.reduction import Reduce
from ...tensor.scalar_ops import Composite
from ...tensor.shape_ops import Concatenate, Reshape
from ..c_nodes import has_native
from ..c_types import CTYPE, composite_lines, convert_expr, reduce_accumulator, reduce_combine, reduce_kind

__all__ = [
    "BLOCK",
    "Kernel",
    "ElemwiseSpec",
    "ReduceSpec",
    "CudaSource",
    "render_graph",
    "render_elemwise",
    "render_reduce",
    "copy_composite",
    "copy_key",
    "blas_dtype",
    "NUMPY_OF",
]

#: Threads per block of every kernel (``__launch_bounds__``); the runner never launches more.
BLOCK = 256

#: numpy dtype of each C type an accumulator can have (partial results live in device buffers).
NUMPY_OF = {
    "npy_float64": "float64",
    "npy_float32": "float32",
    "npy_int64": "int64",
    "npy_uint64": "uint64",
    "npy_uint32": "uint32",
    "npy_int32": "int32",
    "int": "int32",
}

#: The real dtype of each complex one's two parts.
_PAIR_OF = {"complex64": "float32", "complex128": "float64"}

_HELPERS_BEGIN = "/* @fc-scalar-helpers-begin"
_HELPERS_END = "/* @fc-scalar-helpers-end */"


@dataclass(frozen=True)
class Kernel:
    """A kernel's name and the pycuda ``prepare`` format of its arguments (``q`` = 64-bit int,
    ``P`` = device pointer; a geometry struct is a run of ``q``)."""

    name: str
    arg_format: str


@dataclass(frozen=True)
class ElemwiseSpec:
    flat: Kernel  # contiguous operands: out[i] = f(in[i])
    nd: Kernel  # any strides (broadcasting, views, strided outputs)
    ndim: int  # dims of the strided kernel's geometry (>= 1)
    scalar_in: tuple[bool, ...]  # statically one element: loaded once, never indexed
    in_dtypes: tuple[str, ...]
    out_dtypes: tuple[str, ...]


@dataclass(frozen=True)
class ReduceSpec:
    rows: Kernel  # a block cooperates on each output (reduced axes innermost)
    cols: Kernel  # a thread per output (reduced axes outer: coalesced over outputs)
    final: Kernel  # combines the per-block partials of a split reduction
    kd: int  # kept dims of the geometry (>= 1)
    rd: int  # reduced dims of the geometry (>= 1)
    acc_dtype: str  # numpy dtype of the partial results
    out_dtype: str


Spec = Union[ElemwiseSpec, ReduceSpec]


@dataclass
class CudaSource:
    source: str
    specs: dict[int, Spec]  # by position in fgraph.toposort()
    copies: dict[tuple[str, str, int], ElemwiseSpec]  # (src dtype, dst dtype, ndim)
    uses_errflag: bool  # some kernel can set fc_errflag
    kernel_names: list[str] = field(default_factory=list)
    # positions (in fgraph.toposort()) of the nodes computed on the GPU: a kernel or cuBLAS
    on_device: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Param:
    ctype: str
    name: str
    words: int = 1  # 8-byte words it occupies in the argument buffer

    @property
    def pointer(self) -> bool:
        return self.ctype.endswith("*")

    def decl(self) -> str:
        if self.pointer:
            return f"{self.ctype}__restrict__ {self.name}"
        return f"const {self.ctype} {self.name}"

    @property
    def fmt(self) -> str:
        return "P" if self.pointer else "q" * self.words


def _indent(lines: Sequence[str], n: int = 2) -> list[str]:
    pad = " " * n
    return [pad + ln if ln else ln for ln in lines]


def _kernel(name: str, params: Sequence[_Param], body: Sequence[str]) -> tuple[list[str], Kernel]:
    """A kernel definition plus its emulation thunk (arguments unpacked from one buffer laid
    out exactly as pycuda packs them: every parameter is a run of 8-byte words)."""
    sig = ", ".join(p.decl() for p in params)
    lines = [f'extern "C" __global__ void __launch_bounds__({BLOCK}) {name}({sig})', "{"]
    lines += _indent(body)
    lines.append("}")
    args, off = [], 0
    for p in params:
        args.append(f"*({p.ctype}*)(a + {off})")
        off += 8 * p.words
    lines += [
        "#ifdef FC_EMULATE",
        f'extern "C" void fc_emu_{name}(const char *a) {{ {name}({", ".join(args)}); }}',
        "#endif",
    ]
    return lines, Kernel(name, "".join(p.fmt for p in params))


def _grid_stride(idx: str, var: str, count: str, body: Sequence[str]) -> list[str]:
    return [
        f"for ({idx} {var} = ({idx})blockIdx.x * blockDim.x + threadIdx.x; {var} < ({idx}){count}; "
        f"{var} += ({idx})blockDim.x * gridDim.x) {{",
        *_indent(body),
        "}",
    ]


def _unravel(
    index: str, idx: str, dims: int, shape: str, strides: Sequence[str], offsets: Sequence[str]
) -> list[str]:
    """Offsets ``offsets[k]`` of the element with C-order index ``index`` over ``dims`` dims;
    the loop stops when the remaining index is 0 (collapsed geometries pad with leading
    size-1 dims, which then cost nothing)."""
    lines = [
        f"{idx} rem = {index};",
        "long long " + ", ".join(f"{o} = 0" for o in offsets) + ";",
        f"for (int d = {dims - 1}; d >= 0 && rem; d--) {{",
        f"  const {idx} s_ = ({idx}){shape}[d], c_ = rem % s_;",
        "  rem /= s_;",
    ]
    lines += [f"  {o} += (long long)c_ * {st}[d];" for o, st in zip(offsets, strides)]
    lines.append("}")
    return lines


def render_elemwise(
    name: str, comp: Composite, ndim: int, scalar_in: Sequence[bool]
) -> tuple[list[str], ElemwiseSpec]:
    """The flat and the strided kernel of one elementwise body."""
    K = max(ndim, 1)
    ni, no = len(comp.in_dtypes), len(comp.outputs)
    ins = [_Param(f"const {CTYPE[dt]} *", f"p{k}") for k, dt in enumerate(comp.in_dtypes)]
    outs = [_Param(f"{CTYPE[dt]} *", f"po{m}") for m, dt in enumerate(comp.out_dtypes)]
    n = _Param("long long", "n")
    pre = [f"const {CTYPE[comp.in_dtypes[k]]} c{k} = p{k}[0];" for k in range(ni) if scalar_in[k]]

    body, names = composite_lines(comp, [f"c{k}" if scalar_in[k] else f"p{k}[i]" for k in range(ni)])
    flat_code, flat = _kernel(
        f"{name}_flat",
        [n, *ins, *outs],
        pre + _grid_stride("long long", "i", "n", body + [f"po{m}[i] = {nm};" for m, nm in enumerate(names)]),
    )

    geom = f"{name}_g"
    struct = [f"struct {geom} {{ long long sh[{K}]; long long st[{ni + no}][{K}]; }};"]
    offs = [f"b{k}" for k in range(ni + no)]
    body_nd, names_nd = composite_lines(comp, [f"c{k}" if scalar_in[k] else f"p{k}[b{k}]" for k in range(ni)])
    stores = [f"po{m}[b{ni + m}] = {nm};" for m, nm in enumerate(names_nd)]

    def loop(idx: str) -> list[str]:
        inner = _unravel("i", idx, K, "g.sh", [f"g.st[{k}]" for k in range(ni + no)], offs)
        return _grid_stride(idx, "i", "n", inner + body_nd + stores)

    # 32-bit index arithmetic when it fits: 64-bit division costs several times more.
    nd_code, nd = _kernel(
        f"{name}_nd",
        [n, _Param(geom, "g", K * (1 + ni + no)), *ins, *outs],
        pre
        + [
            "if (n <= 2147483647LL) {",
            *_indent(loop("unsigned")),
            "} else {",
            *_indent(loop("long long")),
            "}",
        ],
    )
    spec = ElemwiseSpec(flat, nd, K, tuple(bool(s) for s in scalar_in), comp.in_dtypes, comp.out_dtypes)
    return flat_code + struct + nd_code, spec


def _accumulator(kind: str, vdt: str, out: str, acc_dtype: str | None) -> tuple[str, str]:
    """(C type, identity) of the accumulator, as the C backend chooses them, except that small
    integer types widen to int: warp shuffles move 32 or 64 bits, and wrapping sums and products
    truncate to the same low bits either way (the finish narrows to ``acc_dtype`` first)."""
    acc, ident = reduce_accumulator(kind, out, vdt, acc_dtype)
    if acc not in NUMPY_OF:
        acc = "int"
    return acc, ident


def render_reduce(
    name: str, op: Reduce, in_dtypes: Sequence[str], ndim: int, scalar_in: Sequence[bool]
) -> tuple[list[str], ReduceSpec]:
    """The three kernels of one reduction (``pre`` fused in); ``ndim`` is the broadcast ndim."""
    comp = (
        op.pre
        if op.pre is not None
        else Composite([in_dtypes[0]], [("identity", (("in", 0),), in_dtypes[0])], [0])
    )
    vdt, out = comp.out_dtypes[0], op.out_dtype
    kind = reduce_kind(op.kind, out, op.acc_dtype)
    acc, ident = _accumulator(kind, vdt, out, op.acc_dtype)
    ni = len(comp.in_dtypes)
    KD, RD = max(ndim - len(op.axes), 1), max(len(op.axes), 1)
    geom, opname = f"{name}_g", f"{name}_op"
    support = [
        f"struct {geom} {{ long long ksh[{KD}]; long long rsh[{RD}]; "
        f"long long kst[{ni}][{KD}]; long long rst[{ni}][{RD}]; }};",
        f"struct {opname} {{ __device__ __forceinline__ {acc} operator()(const {acc} a, "
        f"const {acc} b) const {{ return {reduce_combine(kind, vdt, 'a', 'b')}; }} }};",
    ]
    total = f"(({CTYPE[op.acc_dtype]})acc)" if op.acc_dtype else "acc"
    if op.kind == "mean":
        mean = f"({total} / (double)(R - {op.ddof} > 0 ? R - {op.ddof} : 0))"
        finish = f"(npy_bool)({mean} != 0)" if out == "bool" else convert_expr(mean, "float64", CTYPE[out])
    elif out == "bool":
        finish = f"(npy_bool)({total} != 0)"
    elif op.acc_dtype:
        # a float acc_dtype's total to an integer result by the rule a cast follows
        finish = convert_expr(total, op.acc_dtype, CTYPE[out])
    else:
        finish = f"({CTYPE[out]})({total})"
    ins = [_Param(f"const {CTYPE[dt]} *", f"p{k}") for k, dt in enumerate(comp.in_dtypes)]
    pre = [f"const {CTYPE[comp.in_dtypes[k]]} c{k} = p{k}[0];" for k in range(ni) if scalar_in[k]]

    def accumulate(loads: list[str]) -> list[str]:
        body, names = composite_lines(comp, [f"c{k}" if scalar_in[k] else ld for k, ld in enumerate(loads)])
        conv = f"({acc})({names[0]} != 0)" if kind in ("and", "or") else convert_expr(names[0], vdt, acc)
        return body + [f"acc = op(acc, {conv});"]

    def loops(start: str, step: str) -> list[str]:
        flat = accumulate([f"p{k}[b{k} + r * g.rst[{k}][{RD - 1}]]" for k in range(ni)])
        strided = (
            _unravel(
                "r",
                "long long",
                RD,
                "g.rsh",
                [f"g.rst[{k}]" for k in range(ni)],
                [f"o{k}" for k in range(ni)],
            )
            + [f"o{k} += b{k};" for k in range(ni)]
            + accumulate([f"p{k}[o{k}]" for k in range(ni)])
        )
        head = f"for (long long r = {start}; r < r1; r += {step}) {{"
        return [
            f"{acc} acc = {ident};",
            "const long long r0 = gi * chunk, r1 = R < r0 + chunk ? R : r0 + chunk;",
            "if (rflat) {",
            f"  {head}",
            *_indent(flat, 4),
            "  }",
            "} else {",
            f"  {head}",
            *_indent(strided, 4),
            "  }",
            "}",
        ]

    kept = _unravel(
        "m", "long long", KD, "g.ksh", [f"g.kst[{k}]" for k in range(ni)], [f"b{k}" for k in range(ni)]
    )
    scalars = [_Param("long long", nm) for nm in ("M", "R", "G", "chunk", "rflat")]
    tail = [_Param(f"{acc} *", "part"), _Param(f"{CTYPE[out]} *", "out")]
    params = [*scalars, _Param(geom, "g", (KD + RD) * (1 + ni)), *ins, *tail]
    rows_body = [
        f"__shared__ {acc} sh[32];",
        f"const {opname} op;",
        *pre,
        "for (long long p = blockIdx.x; p < M * G; p += gridDim.x) {",
        "  const long long m = p / G, gi = p - m * G;",
        *_indent(kept),
        *_indent(loops("r0 + threadIdx.x", "blockDim.x")),
        f"  acc = fc_block_reduce(acc, ({acc})({ident}), sh, op);",
        f"  if (threadIdx.x == 0) {{ if (G == 1) out[m] = {finish}; else part[p] = acc; }}",
        "}",
    ]
    rows_code, rows = _kernel(f"{name}_rows", params, rows_body)
    cols_body = [
        f"const {opname} op;",
        *pre,
        *_grid_stride(
            "long long",
            "m",
            "M",
            [
                *kept,
                "for (long long gi = blockIdx.y; gi < G; gi += gridDim.y) {",
                *_indent(loops("r0", "1")),
                f"  if (G == 1) out[m] = {finish}; else part[m * G + gi] = acc;",
                "}",
            ],
        ),
    ]
    cols_code, cols = _kernel(f"{name}_cols", params, cols_body)
    fin_params = [
        _Param("long long", "M"),
        _Param("long long", "G"),
        _Param("long long", "R"),
        _Param(f"const {acc} *", "part"),
        _Param(f"{CTYPE[out]} *", "out"),
    ]
    fin_body = [
        f"__shared__ {acc} sh[32];",
        f"const {opname} op;",
        "for (long long m = blockIdx.x; m < M; m += gridDim.x) {",
        f"  {acc} acc = {ident};",
        "  for (long long q = threadIdx.x; q < G; q += blockDim.x) acc = op(acc, part[m * G + q]);",
        f"  acc = fc_block_reduce(acc, ({acc})({ident}), sh, op);",
        f"  if (threadIdx.x == 0) out[m] = {finish};",
        "}",
    ]
    fin_code, final = _kernel(f"{name}_fin", fin_params, fin_body)
    spec = ReduceSpec(rows, cols, final, KD, RD, NUMPY_OF[acc], out)
    return support + rows_code + cols_code + fin_code, spec


def copy_composite(src: str, dst: str) -> Composite:
    """The body of a copy (``src == dst``) or a cast."""
    name = "identity" if src == dst else f"cast:{dst}"
    return Composite([src], [(name, (("in", 0),), dst)], [0])


def copy_key(src: str, dst: str, ndim: int) -> tuple[str, str, int] | None:
    """The copy kernel that copies ``ndim``-dim ``src`` values into ``dst`` ones: a complex
    array is copied as its (real, imaginary) pairs, an array of its real dtype with one more
    dim. None for a cast to or from a complex dtype (the runner does it on the host)."""
    if src == dst and src in _PAIR_OF:
        return _PAIR_OF[src], _PAIR_OF[src], ndim + 1
    if src in CTYPE and dst in CTYPE:
        return src, dst, ndim
    return None


def blas_dtype(node: Apply) -> str | None:
    """The dtype cuBLAS computes ``node`` (a Dot) in, or None when it runs on the host
    (integer and mixed-dtype products: cuBLAS has no kernels for them)."""
    dt = node.outputs[0].dtype
    if dt in ("float32", "float64") and all(v.dtype == dt for v in node.inputs):
        return dt
    return None


def _is_scalar(shape: Sequence[int | None]) -> bool:
    return all(s == 1 for s in shape)


def _prelude() -> str:
    cuh = resources.files("fncache.codegen.cuda").joinpath("prelude.cuh").read_text()
    c = resources.files("fncache.codegen").joinpath("prelude.h").read_text()
    start, end = c.index(_HELPERS_BEGIN), c.index(_HELPERS_END) + len(_HELPERS_END)
    return cuh + "\n" + c[start:end] + "\n"


def render_graph(fgraph: FunctionGraph) -> CudaSource:
    """The CUDA module of ``fgraph``: kernels for its elementwise and reduction nodes, and the
    copy / cast kernels its runner may need (see the module docstring)."""
    parts: list[str] = []
    specs: dict[int, Spec] = {}
    wanted: set[tuple[str, str, int]] = set()
    on_device: list[int] = []
    for i, node in enumerate(fgraph.toposort()):
        op = node.op
        if isinstance(op, (Elemwise, Reduce)) and not has_native(node):
            continue  # complex values: the runner computes the node on the host with numpy
        scal = [_is_scalar(v.type.shape) for v in node.inputs]
        if isinstance(op, Elemwise):
            code, specs[i] = render_elemwise(f"k{i}", op.composite, node.outputs[0].ndim, scal)
        elif isinstance(op, Reduce):
            nd = max(v.ndim for v in node.inputs)
            code, specs[i] = render_reduce(f"k{i}", op, [v.dtype for v in node.inputs], nd, scal)
        else:
            code = []
            if isinstance(op, Reshape):
                wanted.add((node.inputs[0].dtype, node.inputs[0].dtype, node.inputs[0].ndim))
            elif isinstance(op, Concatenate):
                out = node.outputs[0]
                wanted.update((v.dtype, out.dtype, out.ndim) for v in node.inputs)
            elif isinstance(op, Dot) and blas_dtype(node) is not None:
                wanted.update((v.dtype, v.dtype, v.ndim) for v in node.inputs)
                on_device.append(i)
        if code:
            on_device.append(i)
            parts.append(f"/* node {i}: {str(op)[:80].replace('*/', '')} */")
            parts += code
    for v in fgraph.outputs:
        wanted.add((v.dtype, v.dtype, v.ndim))
    copies: dict[tuple[str, str, int], ElemwiseSpec] = {}
    for src, dst, nd in sorted({copy_key(*w) for w in wanted} - {None}):
        code, copies[(src, dst, nd)] = render_elemwise(
            f"fc_copy_{src}_{dst}_{nd}", copy_composite(src, dst), nd, [False]
        )
        parts += code
    uses_errflag = any(c.may_raise for c in _composites(fgraph))
    names = [
        k.name
        for s in [*specs.values(), *copies.values()]
        for k in ((s.flat, s.nd) if isinstance(s, ElemwiseSpec) else (s.rows, s.cols, s.final))
    ]
    source = "/* fncache generated CUDA module */\n" + _prelude() + "\n".join(parts) + "\n"
    return CudaSource(source, specs, copies, uses_errflag, names, tuple(on_device))


def _composites(fgraph: FunctionGraph) -> list[Composite]:
    out = []
    for node in fgraph.toposort():
        if isinstance(node.op, Elemwise):
            out.append(node.op.composite)
        elif isinstance(node.op, Reduce) and node.op.pre is not None:
            out.append(node.op.pre)
    return out
