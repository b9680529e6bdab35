"""The debugging linkers over the Python linker: ``fc.DebugMode``'s (every node run by numpy
and checked, then by the C run-time on the same inputs and the two compared) and
``fc.MonitorMode``'s (the user's functions called around each node)."""

from __future__ import annotations

import functools
import logging
import threading
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
from ..tensor.elemwise import Elemwise
from .errors import annotate_runtime_error, describe_node
from .linker_py import PyRunner, holds_object, is_sparse, non_finite

log = logging.getLogger(__name__)

__all__ = ["DebugRunner", "MonitorHooks", "PREALLOCATED_RUNS", "tolerance"]

#: Theano's tolerances of ``DebugMode`` (``theano.tensor.basic``: float32_rtol and so on; numpy's
#: ``allclose`` defaults for float64), by the real dtype's size in bytes.
_TOLERANCES = {2: (1e-3, 1e-3), 4: (1e-5, 1e-5), 8: (1e-5, 1e-8)}

_REPORT = (
    "If the op is one of fncache's own, this is a bug in fncache: please report it with this "
    "message and the function's graph (fc.debugprint(f)). If it is your own op, make its perform "
    "give the same values from the same inputs. DebugMode(check_c_code=False) leaves this "
    "comparison out."
)

_TWICE_REPORT = (
    "The C code of a node gave other values on a second run from the same inputs: it is not "
    "deterministic, or it reads memory it does not own. If the op is one of fncache's own, this "
    "is a bug in fncache: please report it with this message and the function's graph "
    "(fc.debugprint(f)). If it is your own op, make its perform give the same values from the "
    "same inputs."
)

_TWICE_PERFORM_REPORT = (
    "An op whose perform gives other values from the same inputs is not deterministic, or keeps "
    "state between calls: if the op is one of fncache's own, this is a bug in fncache (please "
    "report it with this message and fc.debugprint(f)). DebugMode(check_c_code=False) leaves "
    "this check out."
)

_PREALLOCATED_REPORT = (
    "A kernel that gives other values when its output buffer holds other values reads that "
    "buffer before writing it, or leaves part of it unwritten: if the op is one of fncache's "
    "own, this is a bug in fncache (please report it with this message and fc.debugprint(f)). "
    "DebugMode(check_preallocated_output=None) leaves this check out."
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


def _copy(value: Any) -> Any:
    """A copy of a node's value that shares no memory with it: an array, or a sparse matrix."""
    return value.copy() if is_sparse(value) else np.array(value, copy=True)


def _buffers(value: Any) -> list[np.ndarray]:
    """The arrays ``value`` keeps its numbers in: itself, or a sparse matrix's parts."""
    if is_sparse(value):
        return [value.data, value.indices, value.indptr]
    return [value] if isinstance(value, np.ndarray) else []


def _same_bits(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` hold the same bits: arrays, or sparse matrices (format, shape
    and the parts)."""
    if is_sparse(a) or is_sparse(b):
        return (
            is_sparse(a)
            and is_sparse(b)
            and a.format == b.format
            and a.shape == b.shape
            and all(_same_bits(x, y) for x, y in zip(_buffers(a), _buffers(b)))
        )
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _disagreement(
    py: np.ndarray, c: np.ndarray, names: tuple[str, str] = ("numpy perform", "C run-time")
) -> str | None:
    """How ``c`` differs from ``py`` beyond the tolerance of their dtype; None when it does not.
    NaNs in the same places and equal infinities agree, as in Theano. ``names``: what gave
    each, in the message."""
    a, b = names
    if py.dtype != c.dtype or py.shape != c.shape:
        return f"{a}: {py.dtype}{list(py.shape)}, {b}: {c.dtype}{list(c.shape)}"
    tol = tolerance(py.dtype)
    bad = _mismatch(py, c)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    lines = [f"first difference at index {where}: {a} {py[where]}, {b} {c[where]}"]
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
    width = max(len(a), len(b)) + 1
    lines.append(f"{a + ':':<{width}} {np.array2string(py, threshold=20)}")
    lines.append(f"{b + ':':<{width}} {np.array2string(c, threshold=20)}")
    return "\n".join(lines)


def _mismatch(py: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Where ``c`` differs from ``py`` (one dtype and shape) beyond their dtype's tolerance."""
    tol = tolerance(py.dtype)
    if tol is None:
        return py != c
    return ~np.isclose(c, py, rtol=tol[0], atol=tol[1], equal_nan=True)


def _sparse_disagreement(py: Any, c: Any, names: tuple[str, str]) -> str | None:
    """:func:`_disagreement` of two sparse matrices: their formats, dtypes and shapes, then
    their values at every entry either stores (an entry one stores as a zero and the other
    not at all agrees), within the dtype's tolerance."""
    a, b = names
    if not (is_sparse(py) and is_sparse(c)):
        return f"{a}: {type(py).__name__}, {b}: {type(c).__name__}"
    if (py.format, py.dtype, py.shape) != (c.format, c.dtype, c.shape):
        return f"{a}: {py.format} {py.dtype}{list(py.shape)}, {b}: {c.format} {c.dtype}{list(c.shape)}"
    union = (abs(py) + abs(c)).tocoo()  # NaN stays stored: a NaN on either side is compared
    if union.nnz == 0:
        return None
    rows, cols = union.row, union.col
    at_py = np.asarray(py.tocsr()[rows, cols], dtype=py.dtype).ravel()
    at_c = np.asarray(c.tocsr()[rows, cols], dtype=c.dtype).ravel()
    bad = _mismatch(at_py, at_c)
    if not bad.any():
        return None
    k = int(np.argmax(bad))
    return (
        f"first difference at entry ({int(rows[k])}, {int(cols[k])}): {a} {at_py[k]}, {b} {at_c[k]}; "
        f"{int(bad.sum())} of the {len(bad)} entries either stores differ\n"
        f"the values at those entries:\n" + _disagreement(at_py, at_c, names)
    )


def _same_layout(c: np.ndarray, py_strides: Any) -> bool:
    """Whether ``c`` has the strides the numpy perform's output (of ``c``'s shape, as
    :func:`_disagreement` checked) had, along the axes where a stride means something (longer
    than 1; an empty array has no layout). True where perform gave no ndarray."""
    if py_strides is None or c.size == 0:
        return True
    return all(n == 1 or a == b for n, a, b in zip(c.shape, c.strides, py_strides))


def _invalid(v: Variable, value: Any) -> str | None:
    """What makes ``value`` no value of ``v``'s type, in words; None when it is one."""
    if holds_object(v):
        return _invalid_sparse(v, value)
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"a {type(value).__name__}, not an ndarray"
    a = np.asarray(value)
    if a.dtype.name != v.type.dtype:
        return f"dtype {a.dtype.name}, not {v.type.dtype}"
    if not v.type.fits_shape(a.shape):
        return f"shape {a.shape}, which does not fit the static shape {v.type.shape} (ndim {v.type.ndim})"
    return None


def _invalid_sparse(v: Variable, value: Any) -> str | None:
    """What makes ``value`` no value of sparse ``v``'s type: another class, format or dtype,
    or parts that do not make a matrix (indices out of range, a wrong indptr)."""
    t = v.type
    if not is_sparse(value):
        return f"a {type(value).__name__}, not a scipy.sparse {t.format}_matrix"
    if not t.is_compatible(value):
        return f"a {value.format} {type(value).__name__} of dtype {value.dtype}, not a {t.format}_matrix of {t.dtype}"
    try:
        value.check_format(full_check=True)
    except ValueError as e:
        return f"a {t.format} matrix whose parts are inconsistent ({e})"
    return None


def _check_outputs(node: Apply, outputs: list[Any], finite: bool, inputs: list[Any], who: str) -> None:
    """``outputs``, what ``who`` gave for ``node``, are as many as its outputs, each a value of
    its variable's type (and, with ``finite``, free of NaN and infinities): else
    ``InvalidValueError``."""
    if len(outputs) != len(node.outputs):
        raise InvalidValueError(
            f"DebugMode: {node.op}'s {who} gave {len(outputs)} outputs; the node has "
            f"{len(node.outputs)}.\n" + describe_node(node, inputs)
        )
    for j, (v, value) in enumerate(zip(node.outputs, outputs)):
        why = _invalid(v, value) or (finite and (f := non_finite("ni", value)) and f"{f} (check_isfinite)")
        if why:
            raise InvalidValueError(
                f"DebugMode: output {j} of {node.op} ({who}) is {why}; the node declares {v.type}.\n"
                + describe_node(node, inputs)
            )


#: One node's values as the reference run saw them: its inputs before it ran, its outputs, and
#: their strides (None where the reference has no layout to compare).
_Seen = tuple[list[np.ndarray], list[np.ndarray], list[Any]]


class _DebugCall:
    """The checks of one call (:class:`~fncache.runtime.linker_py.NodeHooks`): what each node
    may do to its inputs and must give, and what the C run-time is then given."""

    def __init__(self, runner: "DebugRunner") -> None:
        self.runner = runner
        self.kept: list[Any] = []
        #: step -> its values (:data:`_Seen`), for the C comparison
        self.seen: dict[int, _Seen] = {}

    def before(self, step: int, node: Apply, inputs: list[Any]) -> list[Any]:
        self.kept = [_copy(v) for v in inputs]
        return inputs

    def after(self, step: int, node: Apply, inputs: list[Any], outputs: list[Any]) -> list[Any]:
        destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
        for k, (now, was) in enumerate(zip(inputs, self.kept)):
            if k not in destroyed and not _same_bits(now, was):
                raise BadDestroyMap(
                    f"DebugMode: {node.op}'s perform changed its input {k} ({node.inputs[k]}), which its "
                    f"destroy_map ({dict(node.op.destroy_map)}) does not declare destroyed; it must "
                    "not write into its inputs (copy first), or declare destroy_map = {output: [input]}.\n"
                    + describe_node(node, self.kept)
                )
        self._check_views(node, inputs, outputs)
        _check_outputs(node, outputs, self.runner.finite, self.kept, "perform")
        if step in self.runner.compared:
            strides = [getattr(r, "strides", None) for r in outputs]
            self.seen[step] = (self.kept, [np.array(r, copy=True) for r in outputs], strides)
        elif step in self.runner.rerun:
            self._run_again(step, node, outputs)
        return outputs

    def _run_again(self, step: int, node: Apply, outputs: list[Any]) -> None:
        """A node the C run-time cannot run (its values are sparse matrices): its perform runs
        once more on copies of the inputs it had, and must give the same values."""
        perform = self.runner.py.plan[step][1]
        again = perform([_copy(v) for v in self.kept])
        names = ("first perform", "second perform")
        for j, (first, second) in enumerate(zip(outputs, again)):
            if is_sparse(first) or is_sparse(second):
                why = _sparse_disagreement(first, second, names)
            else:
                why = _disagreement(np.asarray(first), np.asarray(second), names)
            if why:
                raise BadThunkOutput(
                    f"DebugMode: two runs of the perform of {node.op} (node {step} of the optimized "
                    f"graph, whose sparse values the C run-time does not hold) disagree on output {j}, "
                    f"from the same inputs.\n{why}\n{describe_node(node, self.kept)}\n{_TWICE_PERFORM_REPORT}"
                )

    def _check_views(self, node: Apply, inputs: list[Any], outputs: list[Any]) -> None:
        """An output sharing memory with an input its op declares neither viewed nor destroyed:
        the graph would take it for a buffer of its own (and may write into it in place)."""
        op = node.op
        if op.may_return_input:
            return
        for j, out in enumerate(outputs):
            parts = _buffers(out)
            declared = set(op.view_map.get(j, ())) | set(op.destroy_map.get(j, ()))
            for k, value in enumerate(inputs):
                if k in declared:
                    continue
                if any(np.shares_memory(p, q) for p in parts for q in _buffers(value)):
                    raise BadViewMap(
                        f"DebugMode: output {j} of {node.op} shares memory with its input {k} "
                        f"({node.inputs[k]}), which its view_map ({dict(op.view_map)}) does not "
                        "declare; return a copy, or declare view_map = {output: [input]}.\n"
                        + describe_node(node, self.kept)
                    )


#: ``check_preallocated_output``'s runs of the nodes' C program after the first, by the mode's
#: flag: Theano's name, what the run does, and the byte
#: the run-time fills it with first (None: not filled). With any of them, the first run's
#: buffers are zeroed first, so that it is compared on known buffers too.
PREALLOCATED_RUNS = (
    (
        "p",
        "previous",
        "each step's output buffer holding its previous run's output, as allow_gc=False's kept buffers do",
        None,
    ),
    (
        "i",
        "initial",
        "each step's output buffer filled with garbage first: every bit set, NaN in floats, -1 in integers",
        0xFF,
    ),
)


def _c_program(fgraph: FunctionGraph, name: str) -> Any:
    """The C run-time's runner of ``fgraph``, called by position with exactly typed values and
    returning every output in a list, its errors raised as they are."""
    from ..codegen.c_linker import build_c_runner

    def unexpected_kwargs(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"DebugMode's C run-time takes its {len(fgraph.inputs)} inputs by position only, "
            f"got {len(args)} by position and {len(kwargs)} by name"
        )

    return build_c_runner(
        fgraph,
        name,
        n_explicit=len(fgraph.inputs),
        single=False,
        converter=lambda i, value: np.asarray(value),
        on_error=lambda e: e,
        on_kwargs=unexpected_kwargs,
        checked=False,  # the user's ops' values as they give them, which DebugMode checks
    )


class DebugRunner:
    """``fc.DebugMode``'s runner: the numpy linker with every node checked (:class:`_DebugCall`),
    then, with ``check_c``, the C run-time running each node once more on the same inputs, all
    nodes side by side in one program (one kernel library), and every output compared; with
    ``check_preallocated_output``, that program runs again with its output buffers holding the
    previous run's outputs or garbage, and is compared again. Returns the numpy values.

    Without the numpy perform (``check_py_code=False``, flag "n"), the C run-time runs the whole
    graph, every node's outputs returned (the reference values, checked for their types and
    NaN), then the nodes' program runs each node again on the inputs the first run gave it: two
    runs of the C code that must agree. Returns the C run-time's values.

    Nodes that run an inner function (``scan``, ``ifelse``) are not run twice: their inner
    functions are compiled under DebugMode themselves."""

    def __init__(self, fgraph: FunctionGraph, allow_gc: bool, checks: str, name: str) -> None:
        from .compile import holds_objects

        # the values of the user's ops as their perform gives them: a wrong type is reported
        # (InvalidValueError) where the other modes would convert it to the declared one
        self.py = PyRunner(fgraph, allow_gc=allow_gc, checked=False)
        self.finite = "f" in checks
        self.py_code = "n" not in checks
        #: require_matching_strides: 0 no check, 1 warn, 2 raise
        self.strides = 1 if "w" in checks else 2 if "s" in checks else 0
        self.preallocated = [tuple(run) for flag, *run in PREALLOCATED_RUNS if flag in checks]
        self.compared: dict[int, Apply] = {}
        #: the steps whose values the C run-time cannot hold (sparse matrices): with "c", their
        #: perform runs twice instead
        self.rerun: set[int] = set()
        self.c_runner: Any = None
        self.c_inputs: list[tuple[int, int]] = []  # (step, input index) of each C input
        self.origin: dict[int, Apply] = {}  # id of each node the C run-time runs -> the graph's node
        # check_py_code=False: the C run-time's runner of the whole graph, what it returns, the
        # inputs of each node it ran, and the nodes whose values it does not keep
        self.whole: Any = None
        self.whole_outputs: list[Variable] = []
        self.unsure: set[int] = set()
        #: Held while a C program runs: the run-time keeps how it fills output buffers, the
        #: buffers kept between runs and the failing step per program, not per call, so two
        #: threads calling the function run the programs one at a time (each call's own values
        #: are kept by the call). Reentrant: a Python op of the graph may call the function.
        self.c_lock = threading.RLock()
        #: How the nodes' program fills its output buffers now (``Runner.fill_outputs``).
        self.fill: int | None = None
        if not self.py_code and holds_objects(fgraph):
            # the C run-time cannot run a graph of sparse values whole: perform is the reference
            log.warning(
                "fncache: DebugMode(check_py_code=False): the graph holds sparse matrices, which "
                "the C run-time does not hold; its nodes run by their perform, checked as with "
                "check_py_code=True"
            )
            self.py_code = True
        if "c" in checks:
            self._link_c(name)
        if not self.py_code:
            self._link_whole(name)

    def _link_c(self, name: str) -> None:
        from ..config import config
        from ..tensor.inner_graph import InnerGraphOp

        ins: list[Variable] = []
        outs: list[Variable] = []
        for step, (node, *_rest) in enumerate(self.py.plan):
            if isinstance(node.op, InnerGraphOp):
                continue
            if any(holds_object(v) for v in (*node.inputs, *node.outputs)):
                self.rerun.add(step)
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
        # "previous": the run-time refills the buffers it kept from the run before (allow_gc
        # off), as a function compiled with allow_gc=False does on every call after its first
        with config.change_flags(allow_gc=not any(n == "previous" for n, *_ in self.preallocated)):
            self.c_runner = _c_program(FunctionGraph(ins, outs, clone=False), f"{name}_debug")

    def _link_whole(self, name: str) -> None:
        """The C run-time's runner of the whole graph, returning its outputs and then every other
        value a node computes (check_py_code=False's reference run)."""
        from ..config import config

        fgraph = self.py.fgraph
        outs = list(fgraph.outputs)
        have = {id(v) for v in outs}
        for node, *_rest in self.py.plan:
            for o in node.outputs:
                if id(o) not in have:
                    have.add(id(o))
                    outs.append(o)
        self.whole_outputs = outs
        # Left out of the comparison: a Python op that declares it destroys an input (its
        # perform overwrote the value the run returns for that input), and the node that made
        # that value. (The run-time's own in-place loops write into no value the run returns.)
        destroyers = [n for n, *_rest in self.py.plan if n.op.destroy_map and not isinstance(n.op, Elemwise)]
        destroyed = {id(n.inputs[i]) for n in destroyers for ins in n.op.destroy_map.values() for i in ins}
        for step, (node, *_rest) in enumerate(self.py.plan):
            if any(node is n for n in destroyers) or any(id(o) in destroyed for o in node.outputs):
                self.unsure.add(step)
        # allow_gc off: an in-place loop never overwrites a value that is an output, and every
        # value is one here, so each keeps what its node gave
        with config.change_flags(allow_gc=False):
            self.whole = _c_program(FunctionGraph(list(fgraph.inputs), outs, clone=False), f"{name}_debug_c")
        if self.preallocated:  # its buffers zeroed, as the nodes' first run's: known buffers
            self.whole.native.fill_outputs(0)

    def __call__(self, *inputs: Any) -> list[np.ndarray]:
        given: dict[int, list[Any]] = {}  # check_py_code=False: each node's inputs, this call's
        if self.py_code:
            call = _DebugCall(self)
            outputs = self.py.run(inputs, call)
            seen = call.seen
        else:
            outputs, seen = self._run_whole(inputs, given)
        if self.c_runner is not None:
            self._compare(seen, given, None)
            for run in self.preallocated:
                self._compare(seen, given, run)
        return outputs

    def _run_whole(
        self, inputs: Sequence[Any], given: dict[int, list[Any]]
    ) -> tuple[list[np.ndarray], dict[int, _Seen]]:
        """check_py_code=False's reference run: the whole graph by the C run-time, each node's
        outputs checked (types, NaN); the function's values and what each node saw (the inputs
        of the nodes compared also in ``given``)."""
        with self.c_lock:
            try:
                values = list(self.whole.native(*inputs))
            except Exception as e:
                node = self.whole.failed_node()
                raise (annotate_runtime_error(e, node) if node is not None else e) from None
        value = {id(v): x for v, x in zip(self.whole_outputs, values)}
        for v, x in zip(self.py.fgraph.inputs, inputs):
            value.setdefault(id(v), x)
        seen: dict[int, _Seen] = {}
        for step, (node, *_rest) in enumerate(self.py.plan):
            ins = [v.data if isinstance(v, Constant) else value[id(v)] for v in node.inputs]
            outs = [value[id(o)] for o in node.outputs]
            _check_outputs(node, outs, self.finite, ins, "C run-time")
            if step in self.compared:
                given[step] = ins
            if step in self.compared and step not in self.unsure:
                # no perform: no layout to hold the C run-time's strides against
                seen[step] = (
                    [np.array(x, copy=True) for x in ins],
                    [np.array(x, copy=True) for x in outs],
                    [None] * len(outs),
                )
        return values[: len(self.py.fgraph.outputs)], seen

    @staticmethod
    def _input_of(seen: dict[int, _Seen], given: dict[int, list[Any]], step: int, k: int) -> Any:
        """Input ``k`` of node ``step`` as the reference run gave it."""
        return seen[step][0][k] if step in seen else given[step][k]

    def _compare(
        self,
        seen: dict[int, _Seen],
        given: dict[int, list[Any]],
        preallocated: tuple[str, str, int | None] | None,
    ) -> None:
        """Run the nodes' C program on the inputs each node had in the reference run and compare
        every output with the reference's; ``preallocated``: the (name, what, fill) of the
        ``check_preallocated_output`` run this is (None: the first run)."""
        ref, got = ("numpy perform", "C run-time") if self.py_code else ("first C run", "second C run")
        if preallocated is not None:
            got += f" ({preallocated[0]})"
        how = (
            f"with check_preallocated_output={preallocated[0]!r} ({preallocated[1]}), "
            if preallocated
            else ""
        )
        args = [np.array(self._input_of(seen, given, step, k), copy=True) for step, k in self.c_inputs]
        fill = preallocated[2] if preallocated is not None else 0 if self.preallocated else None
        with self.c_lock:
            try:
                c_values = self._run_filled(args, fill)
            except Exception as e:
                failed = self.c_runner.failed_node()
                node = self.origin.get(id(failed)) if failed is not None else None
                inputs = next((seen[s][0] for s, n in self.compared.items() if n is node), None)
                raise DebugModeError(
                    f"DebugMode: {how}the C run-time raised {type(e).__name__}: {e}, where the {ref} "
                    "did not.\n" + (describe_node(node, inputs) + "\n" if node is not None else "") + _REPORT
                ) from e
        self._check_inputs_kept(args, seen)
        what = (
            "the C run-time and the numpy perform disagree"
            if self.py_code
            else "two runs of the C run-time (the whole graph, then each node alone) disagree"
        )
        at = 0
        for step, node in self.compared.items():
            if step not in seen:
                at += len(node.outputs)
                continue
            kept, ref_values, ref_strides = seen[step]
            for j, expected in enumerate(ref_values):
                c = np.asarray(c_values[at + j])
                why = _disagreement(np.asarray(expected), c, (ref, got))
                if why:
                    raise BadThunkOutput(
                        f"DebugMode: {how}{what} on output {j} of {node.op} (node {step} of the "
                        f"optimized graph), from the same inputs.\n{why}\n{describe_node(node, kept)}\n"
                        + (
                            _PREALLOCATED_REPORT
                            if preallocated
                            else _REPORT
                            if self.py_code
                            else _TWICE_REPORT
                        )
                    )
                # A declared view or destroyed input comes back from the C program as a copy of
                # its own (a function never returns its inputs' memory): its layout says nothing.
                aliased = j in node.op.view_map or j in node.op.destroy_map
                if self.strides and not aliased and not _same_layout(c, ref_strides[j]):
                    self._strides_mismatch(node, step, j, ref_strides[j], c, kept)
            at += len(node.outputs)

    def _run_filled(self, args: list[np.ndarray], fill: int | None) -> Any:
        """The nodes' program on ``args``, its output buffers filled with ``fill`` (None: as
        they are), then left filling what it filled before (a call of the function made by a
        Python op of the graph, in this thread, runs inside the outer call's run). Under
        ``c_lock``."""
        native, before = self.c_runner.native, self.fill
        if fill is None:
            return native(*args)
        native.fill_outputs(fill)
        self.fill = fill
        try:
            return native(*args)
        finally:
            native.fill_outputs(before)
            self.fill = before

    def _check_inputs_kept(self, args: list[np.ndarray], seen: dict[int, _Seen]) -> None:
        """The nodes' C program wrote into no input a node does not declare destroyed."""
        for arg, (step, k) in zip(args, self.c_inputs):
            node = self.compared[step]
            if step not in seen:
                continue
            destroyed = {id(node.inputs[i]) for ins in node.op.destroy_map.values() for i in ins}
            if id(node.inputs[k]) not in destroyed and not _same_bits(arg, seen[step][0][k]):
                raise BadDestroyMap(
                    f"DebugMode: the C run-time's step of {node.op} changed its input {k} "
                    f"({node.inputs[k]}), which its destroy_map ({dict(node.op.destroy_map)}) does "
                    "not declare destroyed.\n" + describe_node(node, seen[step][0]) + "\n" + _REPORT
                )

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
