"""The debugging linkers over the Python linker: ``fc.DebugMode``'s (every node run by numpy
and checked, then by the C run-time on the same inputs and the two compared) and
``fc.MonitorMode``'s (the user's functions called around each node)."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import (
    BadDestroyMap,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
    InvalidValueError,
    StridesMismatch,
)
from ..graph.basic import Apply, Constant, Variable
from ..graph.fgraph import FunctionGraph
from ..mode import monitor_takes_fgraph
from .errors import describe_node
from .linker_py import PyRunner, non_finite

log = logging.getLogger(__name__)

__all__ = ["DebugRunner", "MonitorHooks", "tolerance"]

#: Theano's tolerances of ``DebugMode`` (``theano.tensor.basic``: float32_rtol and so on; numpy's
#: ``allclose`` defaults for float64), by the real dtype's size in bytes.
_TOLERANCES = {2: (1e-3, 1e-3), 4: (1e-5, 1e-5), 8: (1e-5, 1e-8)}

_REPORT = (
    "If the op is one of fncache's own, this is a bug in fncache: please report it with this "
    "message and the function's graph (fc.debugprint(f)). If it is your own op, make its perform "
    "give the same values from the same inputs. DebugMode(check_c_code=False) leaves this "
    "comparison out."
)


def tolerance(dtype: np.dtype) -> tuple[float, float] | None:
    """(rtol, atol) within which two values of ``dtype`` count as equal; None: only equal
    values do (integers, booleans)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return _TOLERANCES.get(dtype.itemsize // 2, _TOLERANCES[8])
    if dtype.kind == "f":
        return _TOLERANCES.get(dtype.itemsize, _TOLERANCES[8])
    return None


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _disagreement(py: np.ndarray, c: np.ndarray) -> str | None:
    """How ``c`` differs from ``py`` beyond the tolerance of their dtype; None when it does not.
    NaNs in the same places and equal infinities agree, as in Theano."""
    if py.dtype != c.dtype or py.shape != c.shape:
        return f"numpy perform: {py.dtype}{list(py.shape)}, C run-time: {c.dtype}{list(c.shape)}"
    tol = tolerance(py.dtype)
    if tol is None:
        bad = py != c
    else:
        bad = ~np.isclose(c, py, rtol=tol[0], atol=tol[1], equal_nan=True)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    lines = [f"first difference at index {where}: numpy perform {py[where]}, C run-time {c[where]}"]
    if tol is not None:
        with np.errstate(all="ignore"):
            diff = np.abs(c.astype(np.complex128 if py.dtype.kind == "c" else np.float64) - py)
            finite = np.isfinite(diff)
            worst_abs = float(np.max(diff[finite])) if finite.any() else float("inf")
            rel = diff / np.abs(py)
            rel_finite = rel[np.isfinite(rel)]
            worst_rel = float(np.max(rel_finite)) if rel_finite.size else float("inf")
        lines.append(
            f"max abs difference {worst_abs:.3g}, max rel difference {worst_rel:.3g} "
            f"(tolerance rtol={tol[0]:g}, atol={tol[1]:g})"
        )
    else:
        lines.append(f"{int(bad.sum())} of {bad.size} values differ ({py.dtype}: compared exactly)")
    lines.append(f"numpy perform: {np.array2string(py, threshold=20)}")
    lines.append(f"C run-time:    {np.array2string(c, threshold=20)}")
    return "\n".join(lines)


def _same_layout(c: np.ndarray, py_strides: Any) -> bool:
    """Whether ``c`` has the strides the numpy perform's output (of ``c``'s shape, as
    :func:`_disagreement` checked) had, along the axes where a stride means something (longer
    than 1; an empty array has no layout). True where perform gave no ndarray."""
    if py_strides is None or c.size == 0:
        return True
    return all(n == 1 or a == b for n, a, b in zip(c.shape, c.strides, py_strides))


def _invalid(v: Variable, value: Any) -> str | None:
    """What makes ``value`` no value of ``v``'s type, in words; None when it is one."""
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"a {type(value).__name__}, not an ndarray"
    a = np.asarray(value)
    if a.dtype.name != v.type.dtype:
        return f"dtype {a.dtype.name}, not {v.type.dtype}"
    if not v.type.fits_shape(a.shape):
        return f"shape {a.shape}, which does not fit the static shape {v.type.shape} (ndim {v.type.ndim})"
    return None


class _DebugCall:
    """The checks of one call (:class:`~fncache.runtime.linker_py.NodeHooks`): what each node
    may do to its inputs and must give, and what the C run-time is then given."""

    def __init__(self, runner: "DebugRunner") -> None:
        self.runner = runner
        self.kept: list[Any] = []
        #: step -> (its inputs as they were before it ran, its outputs, their strides as
        #: perform laid them out), for the C comparison
        self.seen: dict[int, tuple[list[np.ndarray], list[np.ndarray], list[Any]]] = {}

    def before(self, step: int, node: Apply, inputs: list[Any]) -> list[Any]:
        self.kept = [np.array(v, copy=True) for v in inputs]
        return inputs

    def after(self, step: int, node: Apply, inputs: list[Any], outputs: list[Any]) -> list[Any]:
        destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
        for k, (now, was) in enumerate(zip(inputs, self.kept)):
            if k not in destroyed and not _same_bits(np.asarray(now), was):
                raise BadDestroyMap(
                    f"DebugMode: {node.op}'s perform changed its input {k} ({node.inputs[k]}), which its "
                    f"destroy_map ({dict(node.op.destroy_map)}) does not declare destroyed; it must "
                    "not write into its inputs (copy first), or declare destroy_map = {output: [input]}.\n"
                    + describe_node(node, self.kept)
                )
        self._check_views(node, inputs, outputs)
        if len(outputs) != len(node.outputs):
            raise InvalidValueError(
                f"DebugMode: {node.op}'s perform gave {len(outputs)} outputs; the node has "
                f"{len(node.outputs)}.\n" + describe_node(node, self.kept)
            )
        for j, (v, value) in enumerate(zip(node.outputs, outputs)):
            why = _invalid(v, value) or (
                self.runner.finite and (f := non_finite("ni", value)) and f"{f} (check_isfinite)"
            )
            if why:
                raise InvalidValueError(
                    f"DebugMode: output {j} of {node.op} is {why}; the node declares {v.type}.\n"
                    + describe_node(node, self.kept)
                )
        if step in self.runner.compared:
            strides = [getattr(r, "strides", None) for r in outputs]
            self.seen[step] = (self.kept, [np.array(r, copy=True) for r in outputs], strides)
        return outputs

    def _check_views(self, node: Apply, inputs: list[Any], outputs: list[Any]) -> None:
        """An output sharing memory with an input its op declares neither viewed nor destroyed:
        the graph would take it for a buffer of its own (and may write into it in place)."""
        op = node.op
        if op.may_return_input:
            return
        for j, out in enumerate(outputs):
            if not isinstance(out, np.ndarray):
                continue
            declared = set(op.view_map.get(j, ())) | set(op.destroy_map.get(j, ()))
            for k, value in enumerate(inputs):
                if k not in declared and isinstance(value, np.ndarray) and np.shares_memory(out, value):
                    raise BadViewMap(
                        f"DebugMode: output {j} of {node.op} shares memory with its input {k} "
                        f"({node.inputs[k]}), which its view_map ({dict(op.view_map)}) does not "
                        "declare; return a copy, or declare view_map = {output: [input]}.\n"
                        + describe_node(node, self.kept)
                    )


class DebugRunner:
    """``fc.DebugMode``'s runner: the numpy linker with every node checked (:class:`_DebugCall`),
    then, with ``check_c``, the C run-time running each node once more on the same inputs, all
    nodes side by side in one program (one kernel library), and every output compared. Returns
    the numpy values. Nodes that run an inner function (``scan``, ``ifelse``) are not run twice:
    their inner functions are compiled under DebugMode themselves."""

    def __init__(self, fgraph: FunctionGraph, allow_gc: bool, checks: str, name: str) -> None:
        self.py = PyRunner(fgraph, allow_gc=allow_gc)
        self.finite = "f" in checks
        #: require_matching_strides: 0 no check, 1 warn, 2 raise
        self.strides = 1 if "w" in checks else 2 if "s" in checks else 0
        self.compared: dict[int, Apply] = {}
        self.c_runner: Any = None
        self.c_inputs: list[tuple[int, int]] = []  # (step, input index) of each C input
        self.origin: dict[int, Apply] = {}  # id of each node the C run-time runs -> the graph's node
        if "c" in checks:
            self._link_c(name)

    def _link_c(self, name: str) -> None:
        from ..codegen.c_linker import build_c_runner
        from ..tensor.inner_graph import InnerGraphOp

        ins: list[Variable] = []
        outs: list[Variable] = []
        for step, (node, *_rest) in enumerate(self.py.plan):
            if isinstance(node.op, InnerGraphOp):
                continue
            fresh: dict[int, Variable] = {}  # one input per distinct variable, as the node reads it
            for k, v in enumerate(node.inputs):
                if not isinstance(v, Constant) and id(v) not in fresh:
                    fresh[id(v)] = v.type()
                    ins.append(fresh[id(v)])
                    self.c_inputs.append((step, k))
            copy = Apply(
                node.op,
                [v if isinstance(v, Constant) else fresh[id(v)] for v in node.inputs],
                [o.type for o in node.outputs],
                tag=dict(node.tag),
            )
            outs += copy.outputs
            self.origin[id(copy)] = node
            self.compared[step] = node
        if not outs:
            return

        def unexpected_kwargs(*args: Any, **kwargs: Any) -> Any:
            raise TypeError("DebugMode's C run-time is called with values by position only")

        self.c_runner = build_c_runner(
            FunctionGraph(ins, outs, clone=False),
            f"{name}_debug",
            n_explicit=len(ins),
            single=False,
            converter=lambda i, value: np.asarray(value),
            on_error=lambda e: e,
            on_kwargs=unexpected_kwargs,
        )

    def __call__(self, *inputs: Any) -> list[np.ndarray]:
        call = _DebugCall(self)
        outputs = self.py.run(inputs, call)
        if self.c_runner is not None:
            self._compare(call.seen)
        return outputs

    def _compare(self, seen: dict[int, tuple[list[np.ndarray], list[np.ndarray], list[Any]]]) -> None:
        args = [np.array(seen[step][0][k], copy=True) for step, k in self.c_inputs]
        try:
            c_values = self.c_runner.native(*args)
        except Exception as e:
            failed = self.c_runner.failed_node()
            node = self.origin.get(id(failed)) if failed is not None else None
            inputs = next((seen[s][0] for s, n in self.compared.items() if n is node), None)
            raise DebugModeError(
                f"DebugMode: the C run-time raised {type(e).__name__}: {e}, where the numpy perform "
                "did not.\n" + (describe_node(node, inputs) + "\n" if node is not None else "") + _REPORT
            ) from e
        at = 0
        for step, node in self.compared.items():
            kept, py_values, py_strides = seen[step]
            for j, py in enumerate(py_values):
                c = np.asarray(c_values[at + j])
                why = _disagreement(np.asarray(py), c)
                if why:
                    raise BadThunkOutput(
                        f"DebugMode: the C run-time and the numpy perform disagree on output {j} of "
                        f"{node.op} (node {step} of the optimized graph), from the same inputs.\n"
                        f"{why}\n{describe_node(node, kept)}\n{_REPORT}"
                    )
                # A declared view or destroyed input comes back from the C program as a copy of
                # its own (a function never returns its inputs' memory): its layout says nothing.
                aliased = j in node.op.view_map or j in node.op.destroy_map
                if self.strides and not aliased and not _same_layout(c, py_strides[j]):
                    self._strides_mismatch(node, step, j, py_strides[j], c, kept)
            at += len(node.outputs)

    def _strides_mismatch(
        self, node: Apply, step: int, j: int, py_strides: Any, c: np.ndarray, kept: list[np.ndarray]
    ) -> None:
        msg = (
            f"DebugMode: stride mismatch on output {j} of {node.op} (node {step} of the optimized "
            f"graph), shape {c.shape}: numpy perform strides {py_strides}, C run-time strides "
            f"{c.strides}. The values agree; code that depends on the layout (a C kernel reading "
            "its input's strides as contiguous) may not. require_matching_strides=0 leaves this "
            "check out.\n" + describe_node(node, kept)
        )
        if self.strides == 2:
            raise StridesMismatch(msg)
        log.warning("%s", msg)

    def free(self) -> None:
        """Nothing is kept between calls by this linker."""

    def time_nodes(self) -> Callable[[], list[tuple[Apply, float, int]]]:
        """Times the numpy runs of each node (:meth:`PyRunner.time_nodes`)."""
        return self.py.time_nodes()


class _Cells:
    """Theano's thunk as ``MonitorMode``'s functions see it: ``inputs`` and ``outputs``, lists
    of one-element lists holding the node's values."""

    __slots__ = ("inputs", "outputs")

    def __init__(self, inputs: Sequence[Any], n_outputs: int) -> None:
        self.inputs = [[v] for v in inputs]
        self.outputs: list[list[Any]] = [[None] for _ in range(n_outputs)]


def _with_fgraph(func: Callable[..., Any] | None, fgraph: FunctionGraph | None) -> Callable[..., Any] | None:
    """``func`` as the hooks call it, ``(i, node, fn)``: PyTensor's form gets ``fgraph`` first."""
    if func is not None and monitor_takes_fgraph(func):
        return functools.partial(func, fgraph)
    return func


class MonitorHooks:
    """``fc.MonitorMode``'s calls around each node (:class:`~fncache.runtime.linker_py.NodeHooks`)."""

    def __init__(
        self,
        pre_func: Callable[..., Any] | None,
        post_func: Callable[..., Any] | None,
        fgraph: FunctionGraph | None = None,
    ) -> None:
        self.pre_func = _with_fgraph(pre_func, fgraph)
        self.post_func = _with_fgraph(post_func, fgraph)
        self.cells: _Cells | None = None

    def before(self, step: int, node: Apply, inputs: list[Any]) -> list[Any]:
        self.cells = cells = _Cells(inputs, len(node.outputs))
        if self.pre_func is not None:
            self.pre_func(step, node, cells)
        return [c[0] for c in cells.inputs]

    def after(self, step: int, node: Apply, inputs: list[Any], outputs: list[Any]) -> list[Any]:
        cells = self.cells if self.cells is not None else _Cells(inputs, len(node.outputs))
        for cell, value in zip(cells.outputs, outputs):
            cell[0] = value
        if self.post_func is not None:
            self.post_func(step, node, cells)
        return [c[0] for c in cells.outputs]
