"""Running an optimized graph on the GPU, node by node, with values kept on the device.

Values live where they are produced: kernel results, views and uploaded inputs on the device
(:class:`DevArray`); numpy inputs, constants and the results of host-only ops on the host. A
device node uploads a host operand when it needs it (constants once per function), a host node
downloads. Elementwise and reduction nodes whose operands are all small host values other
than array inputs (shape arithmetic, scalar parameters) run on the host with numpy: a launch
and a copy back would cost more. Matrix products go to cuBLAS; shape ops are views; ops without a device version (argmax,
user Python ops, ...) run on the host, logged once per function.

Shared variables stay on the device between calls: each keeps a :class:`Mirror` in
``SharedVariable.device_copy``; updates replace the mirror's array without any host copy, and the
host value is fetched only when someone reads it (``get_value()``, a CPU function).
"""

from __future__ import annotations

import logging
import math
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from ...errors import GpuError, NotAlignedError
from ...graph.basic import Apply
from ...graph.fgraph import FunctionGraph
from ...graph.slots import plan_slots
from ...tensor.blas import Dot
from ...tensor.elemwise import Elemwise
from ...tensor.grad_ops import ReducedSize
from ...tensor.pyop import CheckAndRaise
from ...tensor.reduction import Reduce
from ...tensor.shape_ops import Concatenate, DimShuffle, MakeVector, Reshape, Shape
from ...tensor.subtensor import Subtensor
from . import arrays, device
from .arrays import DevArray, c_strides
from .blas import as_matrix, gemm_args
from .geometry import broadcast_shape, broadcast_strides, elemwise_geometry, grid_1d, reduce_plan
from .render import BLOCK, CudaSource, ElemwiseSpec, Kernel, ReduceSpec, blas_dtype, copy_key

__all__ = ["CudaRunner", "Mirror", "upload", "download", "HOST_MAX"]

log = logging.getLogger(__name__)

#: Elementwise / reduction nodes whose operands are all host values of at most this many
#: elements (constants, scalar inputs, results of host ops) run on the host (see the module
#: docstring). Array inputs always go to the device: a GPU function computes on the GPU.
HOST_MAX = 1024

#: Loaded modules per backend and cache key: functions with the same kernels share one.
_modules: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()


def upload(be: Any, host: np.ndarray, what: str) -> DevArray:
    arr = host if host.flags.c_contiguous else np.ascontiguousarray(host)  # keeps 0-d arrays 0-d
    buf = be.alloc(arr.nbytes, what)
    be.htod(int(buf), arr)
    return DevArray(int(buf), arr.shape, c_strides(arr.shape), arr.dtype, buf, fresh=True)


def download(be: Any, a: DevArray) -> np.ndarray:
    """A host copy of a (possibly strided) device array, fetched as one block."""
    if a.size == 0:
        return np.empty(a.shape, dtype=a.dtype)
    lo, hi = a.span()
    flat = np.empty(hi - lo, dtype=a.dtype)
    be.dtoh(flat, a.ptr + lo * a.itemsize)
    view = np.ndarray(
        a.shape, a.dtype, buffer=flat, offset=-lo * a.itemsize, strides=[s * a.itemsize for s in a.strides]
    )
    return np.array(view)


class Mirror:
    """The device copy of a shared variable's value (``SharedVariable.device_copy``)."""

    __slots__ = ("backend", "dev", "host_ref", "newer")

    def __init__(self, backend: Any, dev: DevArray, host_ref: np.ndarray | None, newer: bool = False) -> None:
        self.backend = backend
        self.dev = dev
        self.host_ref = host_ref  # the host array ``dev`` was copied from / to
        self.newer = newer  # the device copy holds updates the host has not seen

    def pull(self) -> np.ndarray | None:
        """The device value as a new host array when it is newer than the host's, else None."""
        if not self.newer:
            return None
        self.backend.ensure_current()  # get_value() may come from another thread
        arr = download(self.backend, self.dev)
        self.newer, self.host_ref = False, arr
        return arr


Executor = Callable[[Apply, Any, list, list, list], list]


class CudaRunner:
    """The runner of one function: callable on the explicit inputs (shared values are its own),
    returning ``GPUArray`` outputs. Also its own ``native`` (the interface fncache's Function
    calls directly: ``repeat``, ``free``, ``failed_node``)."""

    owns_shared = True

    def __init__(
        self,
        fgraph: FunctionGraph,
        csrc: CudaSource,
        image: bytes,
        digest: str,
        arch: str,
        nvcc_version: str,
        *,
        name: str,
        n_explicit: int,
        single: bool,
        allow_gc: bool,
        converter: Callable[[int, Any], Any],
        on_error: Callable[[BaseException], BaseException] | None,
        on_kwargs: Callable[..., Any] | None,
    ) -> None:
        from ...tensor.shared import SharedVariable

        self.native = self
        self._name = name
        self._csrc = csrc
        self._image = image
        self._digest = digest
        self._arch = arch
        self._nvcc = nvcc_version
        self._n_explicit = n_explicit
        self._single = single
        self._updated: list[int] = []
        self._allow_gc = allow_gc
        self._converter = converter
        self._on_error = on_error
        self._on_kwargs = on_kwargs
        self._types = [v.type for v in fgraph.inputs[:n_explicit]]
        self._names = [v.name for v in fgraph.inputs[:n_explicit]]
        self._shared = list(fgraph.inputs[n_explicit:])
        if not all(isinstance(s, SharedVariable) for s in self._shared):
            raise TypeError(
                "CudaRunner: the graph inputs after the explicit ones must be the function's shared variables"
            )
        self._nodes = fgraph.toposort()
        self._build_plan(fgraph)
        self._formats = {k.name: k.arg_format for k in self._kernels()}
        self._be: Any = None
        self._module: Any = None
        self._sm = 1
        self._const_dev: dict[int, DevArray] = {}
        self._keep: dict[int, tuple[Any, int]] = {}
        self._failed = -1
        self._last: tuple | None = None
        self._host_logged = False

    # -- plan --------------------------------------------------------------------------
    def _build_plan(self, fgraph: FunctionGraph) -> None:
        plan = plan_slots(fgraph)
        self._plan: list[tuple[Apply, Executor, Any, list[int], list[int]]] = [
            (node, self._executor(node, self._csrc.specs.get(i)), self._csrc.specs.get(i), ins, outs)
            for i, (node, ins, outs) in enumerate(zip(plan.nodes, plan.ins, plan.outs))
        ]
        self._out_slots = plan.out_slots
        self._n_out = len(fgraph.outputs)
        self._consts = plan.consts
        self._const_slots = {s for s, _ in plan.consts}
        self._array_inputs = {i for i, v in enumerate(fgraph.inputs) if v.ndim > 0}
        self._n_slots = plan.n_slots
        # The caller's inputs and the constants are not the runner's to free.
        self._dies = [
            [s for s in dying if s >= plan.n_inputs and s not in self._const_slots] for dying in plan.dying
        ]
        keep = set(self._out_slots)
        self._keepable = {s for (_, _, _, _, outs) in self._plan for s in outs} - keep

    def _kernels(self) -> list[Kernel]:
        out: list[Kernel] = []
        for spec in [*self._csrc.specs.values(), *self._csrc.copies.values()]:
            if isinstance(spec, ElemwiseSpec):
                out += [spec.flat, spec.nd]
            else:
                out += [spec.rows, spec.cols, spec.final]
        return out

    def _executor(self, node: Apply, spec: Any) -> Executor:
        op = node.op
        if isinstance(op, (Elemwise, Reduce)) and spec is None:
            return self._host  # complex values: no kernel was rendered
        table: list[tuple[type, Executor]] = [
            (Elemwise, self._elemwise),
            (Reduce, self._reduce),
            (Dot, self._dot),
            (DimShuffle, self._dimshuffle),
            (Subtensor, self._subtensor),
            (Reshape, self._reshape),
            (Shape, self._shape),
            (ReducedSize, self._sizes),
            (MakeVector, self._host),
            (CheckAndRaise, self._assert),
            (Concatenate, self._concatenate),
        ]
        for cls, ex in table:
            if isinstance(op, cls):
                return ex
        return self._host

    # -- the Function interface --------------------------------------------------------------
    def bind_updates(self, updated: Sequence[int]) -> None:
        """The last ``len(updated)`` graph outputs are updates: the j-th replaces shared
        variable ``updated[j]`` (an index among the graph inputs after the explicit ones).
        They are applied here, on the device, and not returned."""
        self._updated = list(updated)
        self._n_out = len(self._out_slots) - len(self._updated)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if self._on_kwargs is None:
                raise TypeError(f"function {self._name!r} takes its inputs by position")
            return self._on_kwargs(*args, **kwargs)
        if len(args) != self._n_explicit:
            raise TypeError(f"function {self._name!r} takes {self._n_explicit} inputs, got {len(args)}")
        self._last = args
        return self._call(args)

    def _call(self, args: tuple) -> Any:
        try:
            return self._run(args)
        except Exception as e:
            if self._on_error is None:
                raise
            new = self._on_error(e)
            if new is e:
                raise
            raise new from None

    def repeat(self, n_calls: int) -> Any:
        if self._last is None:
            if self._n_explicit:
                raise RuntimeError(
                    f"function {self._name!r}: f.fn() repeats the last call; call f(...) once first"
                )
            self._last = ()
        res = None
        for _ in range(max(int(n_calls), 1)):
            res = self._call(self._last)
        return res

    def free(self) -> None:
        """Drop the intermediate buffers kept for reuse and the device copies of constants."""
        self._keep.clear()
        self._const_dev.clear()

    def failed_node(self) -> Apply | None:
        return self._nodes[self._failed] if 0 <= self._failed < len(self._nodes) else None

    # -- device ------------------------------------------------------------------------
    def ready(self) -> Any:
        """The backend, with the kernels loaded: the first call's GpuErrors come from here
        (no pycuda, no device, an arch / toolkit / driver mismatch)."""
        be = device.backend()
        if be is self._be:
            be.ensure_current()
            return be
        device.check_arch(self._arch, be.info, self._nvcc)
        loaded = _modules.setdefault(be, {})
        mod = loaded.get(self._digest)
        if mod is None:
            try:
                mod = be.load_module(self._image, self._csrc.source, self._formats)
            except GpuError:
                raise
            except Exception as e:
                raise GpuError(
                    f"loading the kernels compiled for {self._arch} by nvcc {self._nvcc} on "
                    f"{be.info.describe()} failed: {e}. Versions: nvcc {self._nvcc}, driver "
                    f"CUDA {be.info.driver}, pycuda {be.info.pycuda}. A driver older than the "
                    "toolkit or a cubin for another architecture causes this; "
                    "fc.config.cuda_arch='auto' builds for this device."
                ) from e
            loaded[self._digest] = mod
        self._be, self._module, self._sm = be, mod, be.info.sm_count
        self._const_dev.clear()
        self._keep.clear()
        return be

    def _launch(self, k: Kernel, grid: tuple[int, int], block: tuple[int, int, int], args: list[int]) -> None:
        self._be.launch(self._module.functions[k.name], grid, block, args)

    def _new(self, shape: Sequence[int], dtype: Any, slot: int, what: str) -> DevArray:
        dt = np.dtype(dtype)
        nbytes = math.prod(shape) * dt.itemsize
        if not self._allow_gc and slot in self._keepable:
            kept = self._keep.get(slot)
            if kept is None or kept[1] < nbytes:
                kept = (self._be.alloc(nbytes, what), nbytes)
                self._keep[slot] = kept
            buf = kept[0]
        else:
            buf = self._be.alloc(nbytes, what)
        return DevArray(int(buf), shape, c_strides(shape), dt, buf, fresh=True)

    def _dev(self, store: list, s: int) -> DevArray:
        v = store[s]
        if isinstance(v, DevArray):
            return v
        if s in self._const_slots:
            d = self._const_dev.get(s)
            if d is None:
                d = self._const_dev[s] = upload(self._be, v, "a constant")
                d.fresh = False
            return d
        d = upload(self._be, np.asarray(v), "an input")
        store[s] = d
        return d

    def _hostval(self, store: list, s: int) -> np.ndarray:
        v = store[s]
        return download(self._be, v) if isinstance(v, DevArray) else v

    def _small_host(self, store: list, ins: list[int]) -> bool:
        return all(
            isinstance(store[s], np.ndarray) and store[s].size <= HOST_MAX and s not in self._array_inputs
            for s in ins
        )

    def _copy(self, src: DevArray, dst: DevArray) -> None:
        """``dst[...] = src`` (broadcast and cast as needed)."""
        n = dst.size
        if n == 0:
            return
        if src.dtype == dst.dtype and src.size == n and src.c_contiguous() and dst.c_contiguous():
            self._be.dtod(dst.ptr, src.ptr, dst.nbytes)
            return
        key = copy_key(src.dtype.name, dst.dtype.name, dst.ndim)
        spec = self._csrc.copies.get(key) if key is not None else None
        if spec is None:
            raise AssertionError(f"no copy kernel {key} was rendered for this function")
        if key[2] > dst.ndim:  # complex: copied as (real, imaginary) pairs
            src, dst = arrays.as_pairs(src), arrays.as_pairs(dst)
            n *= 2
        st = [broadcast_strides(src.shape, src.strides, dst.shape), dst.strides]
        self._launch(
            spec.nd,
            (grid_1d(n, self._sm), 1),
            (BLOCK, 1, 1),
            [n, *elemwise_geometry(dst.shape, st, spec.ndim), src.ptr, dst.ptr],
        )

    def _fresh_copy(self, a: DevArray, what: str) -> DevArray:
        d = self._new(a.shape, a.dtype, -1, what)
        self._copy(a, d)
        return d

    # -- executors: (node, spec, store, input slots, output slots) -> results ---------------
    def _host(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        if not self._host_logged and not isinstance(node.op, MakeVector):
            log.info("fncache: %s in function %r runs on the host (no GPU version)", node.op, self._name)
            self._host_logged = True
        return node.op.perform(node, [self._hostval(store, s) for s in ins])

    def _elemwise(self, node: Apply, spec: ElemwiseSpec, store: list, ins: list, outs: list) -> list:
        if self._small_host(store, ins):
            return node.op.perform(node, [store[s] for s in ins])
        xs = [self._dev(store, s) for s in ins]
        shape = broadcast_shape([x.shape for x in xs], str(node.op))
        res = [
            self._new(shape, dt, s, f"output {m} of {node.op}")
            for m, (dt, s) in enumerate(zip(spec.out_dtypes, outs))
        ]
        n = math.prod(shape)
        if n == 0:
            return res
        ptrs = [x.ptr for x in xs] + [o.ptr for o in res]
        grid, block = (grid_1d(n, self._sm), 1), (BLOCK, 1, 1)
        if all(sc or (x.c_contiguous() and x.size == n) for sc, x in zip(spec.scalar_in, xs)):
            self._launch(spec.flat, grid, block, [n, *ptrs])
        else:
            st = [broadcast_strides(x.shape, x.strides, shape) for x in xs] + [o.strides for o in res]
            self._launch(spec.nd, grid, block, [n, *elemwise_geometry(shape, st, spec.ndim), *ptrs])
        return res

    def _reduce(self, node: Apply, spec: ReduceSpec, store: list, ins: list, outs: list) -> list:
        op: Reduce = node.op
        if self._small_host(store, ins):
            return op.perform(node, [store[s] for s in ins])
        xs = [self._dev(store, s) for s in ins]
        shape = broadcast_shape([x.shape for x in xs], str(op))
        oshape = tuple(n for d, n in enumerate(shape) if d not in op.axes)
        R = math.prod(shape[d] for d in op.axes)
        if op.kind in ("max", "min") and R == 0:
            raise ValueError(
                f"{op}: zero-size array to reduction operation {op.kind}imum which "
                f"has no identity (shape {shape})"
            )
        out = self._new(oshape, op.out_dtype, outs[0], f"the result of {op}")
        if out.size == 0:
            return [out]
        plan = reduce_plan(
            shape,
            op.axes,
            [broadcast_strides(x.shape, x.strides, shape) for x in xs],
            spec.kd,
            spec.rd,
            self._sm,
        )
        part = None
        if plan.G > 1:
            part = self._be.alloc(
                plan.M * plan.G * np.dtype(spec.acc_dtype).itemsize, f"partial results of {op}"
            )
        kern = spec.rows if plan.layout == "rows" else spec.cols
        self._launch(
            kern,
            plan.grid,
            plan.block,
            [
                plan.M,
                plan.R,
                plan.G,
                plan.chunk,
                plan.rflat,
                *plan.geom,
                *[x.ptr for x in xs],
                int(part) if part is not None else 0,
                out.ptr,
            ],
        )
        if part is not None:
            self._launch(
                spec.final, plan.final_grid, plan.final_block, [plan.M, plan.G, plan.R, int(part), out.ptr]
            )
        return [out]

    def _dot(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        dt = blas_dtype(node)
        if dt is None or self._small_host(store, ins):
            return self._host(node, spec, store, ins, outs)
        a, b = (self._dev(store, s) for s in ins)
        if a.shape[-1] != b.shape[0]:
            raise NotAlignedError.of(a.shape, b.shape)
        out = self._new(a.shape[:-1] + b.shape[1:], dt, outs[0], "the result of dot")
        am, bm = as_matrix(a.shape, a.strides, True), as_matrix(b.shape, b.strides, False)
        if am[0] * bm[1] == 0:
            return [out]
        if am[1] == 0:
            self._be.memset0(out.ptr, out.nbytes)
            return [out]
        g, copy_a, copy_b = gemm_args(am, bm)
        if copy_a:
            a = self._fresh_copy(a, "a contiguous copy of a dot operand")
            am = as_matrix(a.shape, a.strides, True)
        if copy_b:
            b = self._fresh_copy(b, "a contiguous copy of a dot operand")
            bm = as_matrix(b.shape, b.strides, False)
        if g is None:
            g = gemm_args(am, bm)[0]
        self._be.blas().gemm(dt, g, b.ptr, a.ptr, out.ptr)
        return [out]

    def _dimshuffle(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        x = store[ins[0]]
        if not isinstance(x, DevArray):
            return node.op.perform(node, [x])
        op: DimShuffle = node.op
        return [arrays.dimshuffle(x, op.pattern, op.dropped, str(op))]

    def _subtensor(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        x = store[ins[0]]
        bounds = [self._hostval(store, s) for s in ins[1:]]
        if not isinstance(x, DevArray):
            return node.op.perform(node, [x, *bounds])
        op: Subtensor = node.op
        key = op.python_index(bounds)
        if any(isinstance(k, slice) and k.step == 0 for k in key):
            raise ValueError(f"{op}: slice step cannot be zero")
        try:
            return [arrays.index(x, key)]
        except IndexError as e:
            raise IndexError(f"{op}: {e} (input shape {x.shape})") from None

    def _reshape(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        x = store[ins[0]]
        shp = self._hostval(store, ins[1])
        if not isinstance(x, DevArray):
            return node.op.perform(node, [x, shp])
        node.op.check_length(shp)
        try:
            new = arrays.reshape_shape(x.shape, x.dtype, shp)
        except ValueError as e:
            raise ValueError(
                f"reshape: cannot reshape an array of shape {x.shape} into {tuple(int(s) for s in shp)}: {e}"
            ) from None
        if not x.c_contiguous():
            x = self._fresh_copy(x, "a contiguous copy for reshape")
        return [x.view(new, c_strides(new))]

    def _shape(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        return [np.asarray(store[ins[0]].shape, dtype="int64")]

    def _sizes(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        # Only the inputs' shapes are read: device arrays stay where they are.
        return node.op.perform(node, [store[s] for s in ins])

    def _assert(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        for s in ins[1 : 1 + node.op.n_conds(node)]:
            if not np.all(self._hostval(store, s)):
                raise node.op.error([self._hostval(store, i) for i in ins])
        return [store[ins[0]]]

    def _concatenate(self, node: Apply, spec: Any, store: list, ins: list, outs: list) -> list:
        if self._small_host(store, ins):
            return node.op.perform(node, [store[s] for s in ins])
        out_dt, nd = node.outputs[0].dtype, node.outputs[0].ndim
        if any(copy_key(v.dtype, out_dt, nd) is None for v in node.inputs):
            return self._host(node, spec, store, ins, outs)  # a cast to a complex dtype
        axis = node.op.axis
        xs = [self._dev(store, s) for s in ins]
        shapes = [x.shape for x in xs]
        if any(s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :] for s in shapes):
            raise ValueError(
                f"concatenate(axis={axis}): shapes {shapes}: all the input array "
                "dimensions except for the concatenation axis must match exactly"
            )
        oshape = list(shapes[0])
        oshape[axis] = sum(s[axis] for s in shapes)
        out = self._new(oshape, node.outputs[0].dtype, outs[0], "the result of concatenate")
        off = 0
        for x in xs:
            self._copy(x, out.view(x.shape, out.strides, off * out.strides[axis]))
            off += x.shape[axis]
        return [out]

    # -- one call ----------------------------------------------------------------------
    def _input(self, i: int, a: Any) -> Any:
        t = self._types[i]
        if hasattr(a, "__cuda_array_interface__"):
            d = arrays.from_cuda_array(a)
            if (
                d.dtype.name != t.dtype
                or d.ndim != t.ndim
                or any(s is not None and s != n for s, n in zip(t.shape, d.shape))
            ):
                name = f" ('{self._names[i]}')" if self._names[i] else ""
                raise TypeError(
                    f"input {i}{name} of function {self._name!r}: expected a {t.dtype} array "
                    f"with {t.ndim} dim(s) (static shape {t.shape}), got a GPU array of dtype "
                    f"{d.dtype} with {d.ndim} dim(s) (shape {d.shape}). GPU inputs are used in "
                    f"place, never converted: convert it on the device first (e.g. "
                    f"x.astype('{t.dtype}')), or pass a numpy array."
                )
            return d
        if (
            type(a) is np.ndarray
            and a.dtype.name == t.dtype
            and a.ndim == t.ndim
            and a.flags.aligned
            and a.dtype.isnative
            and all(s is None or s == n for s, n in zip(t.shape, a.shape))
        ):
            return a
        return self._converter(i, a)

    def _shared_dev(self, be: Any, sv: Any) -> DevArray:
        m = sv.device_copy
        if isinstance(m, Mirror) and m.backend is not be:
            sv.get_value(borrow=True)  # fetch updates made through another backend
            m = sv.device_copy = None
        host = sv.stored_value
        if not (isinstance(m, Mirror) and (m.newer or m.host_ref is host)):
            m = Mirror(be, upload(be, host, f"shared variable {sv.name!r}"), host)
            m.dev.fresh = False
            sv.device_copy = m
        return m.dev

    def _owned(self, v: Any, handed: set[int], what: str) -> DevArray:
        """``v`` as a contiguous device array nobody else holds (copied when needed)."""
        d = v if isinstance(v, DevArray) else upload(self._be, np.asarray(v), what)
        if not d.fresh or id(d) in handed or not d.c_contiguous():
            d = self._fresh_copy(d, what)
        handed.add(id(d))
        return d

    def _run(self, args: tuple) -> Any:
        be = self.ready()
        store: list[Any] = [None] * self._n_slots
        for i, a in enumerate(args):
            store[i] = self._input(i, a)
        for k, sv in enumerate(self._shared):
            store[self._n_explicit + k] = self._shared_dev(be, sv)
        for s, c in self._consts:
            store[s] = c
        for step, (node, ex, spec, ins, outs) in enumerate(self._plan):
            self._failed = step
            for s, r in zip(outs, ex(node, spec, store, ins, outs)):
                store[s] = r
            if self._allow_gc:
                for s in self._dies[step]:
                    store[s] = None
        self._failed = -1
        if self._csrc.uses_errflag and self._module.take_errflag():
            raise ValueError("Integers to negative integer powers are not allowed.")
        handed: set[int] = set()
        results = [
            be.wrap(self._owned(store[s], handed, f"output {j}"))
            for j, s in enumerate(self._out_slots[: self._n_out])
        ]
        for k, s in zip(self._updated, self._out_slots[self._n_out :]):
            sv = self._shared[k]
            d = self._owned(store[s], handed, f"the update of {sv.name!r}")
            d.fresh = False  # from now on it belongs to the shared variable
            sv.device_copy = Mirror(be, d, None, newer=True)
        return results[0] if self._single else results
