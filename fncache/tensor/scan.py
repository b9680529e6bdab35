"""Loops: ``fc.scan``, Theano/PyTensor's symbolic loop, as one op holding the step's graph.

``scan`` calls the user's ``fn`` once, on placeholders for one step (a slice of each sequence,
the previous value of each recurrent output, the non-sequences), and keeps the graph it returns
as the inner graph of a `Scan` node. Everything that graph reads without depending on the step
(the non-sequences, variables ``fn`` closes over, expressions of them such as ``W.T``) is
computed once, outside, and passed in. At run time the node's ``perform`` loops over the steps
calling the inner graph compiled by fncache like any function (under the outer function's mode:
C kernels for the C linker), writing each step's outputs into preallocated arrays of shape
``(n_steps,) + step shape``. Steps are not fused: each is one call of the compiled step.

Its gradient (``scan_grad.py``) is backpropagation through time: another `Scan`, over the
reversed steps, of the step graph's own gradient.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Variable, ancestors, clone_graph
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise
from .inner_graph import InnerGraphOp, outer_values
from .random import draws_made

__all__ = ["Scan", "scan", "scan_node"]

#: the kinds of a scan output: stacked and fed back, fed back with only the last value
#: returned (the gradient's carries and sums), stacked and not fed back
KINDS = ("rec", "last", "map")


class Scan(InnerGraphOp):
    """Inputs: ``n_steps`` (an int64 scalar), the ``n_seqs`` sequences (each of ``n_steps``
    rows: step t reads row t), the initial value of each recurrent output (kind
    ``rec`` or ``last``, in output order), then the non-sequences. The inner graph's inputs are
    one row of each sequence, the previous value of each recurrent output and the
    non-sequences; its outputs are one step of each output, ``kinds[j]`` saying what output
    ``j`` is: ``rec`` (fed back; all steps stacked: ``(n_steps,) + shape``), ``last`` (fed back;
    only the final value, the initial one after zero steps) or ``map`` (not fed back;
    stacked)."""

    __props__ = ("inner_key", "n_seqs", "kinds")

    inner_name = "scan"

    def __init__(
        self, inner: FunctionGraph, n_seqs: int, kinds: Sequence[str], name: str | None = None
    ) -> None:
        bad = [k for k in kinds if k not in KINDS]
        if bad or len(kinds) != len(inner.outputs):
            raise ValueError(f"Scan: kinds must be one of {KINDS} per inner output, got {kinds!r}")
        self.n_seqs = n_seqs
        self.kinds = tuple(kinds)
        self.name = name
        super().__init__(inner)

    def __str__(self) -> str:
        return f"Scan{{{self.name or self.inner_key[:12]}}}"

    @property
    def recurrent(self) -> list[int]:
        """The indices of the outputs fed back, in the order of their initial values."""
        return [j for j, k in enumerate(self.kinds) if k != "map"]

    @property
    def n_nonseqs(self) -> int:
        return len(self.inner.inputs) - self.n_seqs - len(self.recurrent)

    def make_node(self, n_steps: Variable, *args: Variable) -> Apply:
        n_rec = len(self.recurrent)
        want = self.n_seqs + n_rec + self.n_nonseqs
        if n_steps.ndim != 0 or n_steps.dtype != "int64" or len(args) != want:
            raise ValueError(
                f"{self}: expected an int64 scalar of steps, {self.n_seqs} sequences, {n_rec} "
                f"initial values and {self.n_nonseqs} non-sequences, got {n_steps.type} and "
                f"{len(args)} variables"
            )
        for i, (v, p) in enumerate(zip(args, self.inner.inputs)):
            rows = i < self.n_seqs
            if v.dtype != p.dtype or v.ndim != p.ndim + rows:
                expected = f"a sequence of {p.type} rows" if rows else str(p.type)
                raise TypeError(f"{self}: input {i + 1} must be {expected}, got {v.type}")
        inits = args[self.n_seqs : self.n_seqs + n_rec]
        shapes = {j: v.type.shape for j, v in zip(self.recurrent, inits)}
        steps = int(n_steps.data) if isinstance(n_steps, Constant) else None
        out_types = []
        for j, (kind, o) in enumerate(zip(self.kinds, self.inner.outputs)):
            shape = shapes.get(j, o.type.shape)
            out_types.append(TensorType(o.dtype, shape if kind == "last" else (steps,) + shape))
        return Apply(self, [n_steps, *args], out_types)

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        n = int(inputs[0])
        seqs = inputs[1 : 1 + self.n_seqs]
        rec = self.recurrent
        states = list(inputs[1 + self.n_seqs : 1 + self.n_seqs + len(rec)])
        nonseqs = inputs[1 + self.n_seqs + len(rec) :]
        if n < 0:
            raise ValueError(f"{self}: n_steps is {n}; scan runs a non-negative number of steps")
        for i, s in enumerate(seqs):
            if s.shape[0] != n:
                # `scan` slices every sequence to the steps: its gradient has the rows it read
                raise ValueError(
                    f"{self}: sequence {i} has {s.shape[0]} rows for {n} steps; it needs one per step"
                )
        dtypes = [np.dtype(o.dtype) for o in node.outputs]
        # The shape of each output's step: a recurrent output keeps its initial value's shape,
        # a map output the shape of its first step (or its static shape when there are none).
        shapes: list[tuple | None] = [None] * len(self.kinds)
        for j, s in zip(rec, states):
            shapes[j] = s.shape
        if n == 0:
            return [self._empty(j, shapes[j], dtypes[j], states) for j in range(len(self.kinds))]
        fn = self.node_function(node)
        outs: list[np.ndarray | None] = [None] * len(self.kinds)
        for t in range(n):
            # [t, ...]: a row of a vector is a 0-d array (a view), not a numpy scalar, which the
            # step function would take through its input conversion (25 µs instead of 1)
            res = fn(*[s[t, ...] for s in seqs], *states, *nonseqs)
            for j, r in enumerate(res):
                if t == 0 and shapes[j] is None:
                    shapes[j] = r.shape
                if r.shape != shapes[j] or r.dtype != dtypes[j]:
                    self._bad_step(t, j, r, shapes[j], dtypes[j])
                if self.kinds[j] == "last":
                    outs[j] = r  # held until the next step: the step function makes a new one
                    continue
                if outs[j] is None:
                    outs[j] = np.empty((n,) + r.shape, dtypes[j])
                outs[j][t] = r  # type: ignore[index]
            states = [outs[j] if self.kinds[j] == "last" else outs[j][t, ...] for j in rec]  # type: ignore[index]
        # A `last` value may be one of the step's inputs passed through (a sequence's row): the
        # node's output is a copy of its own.
        return [np.array(o, copy=True) if k == "last" else o for o, k in zip(outs, self.kinds)]

    def _empty(self, j: int, shape: tuple | None, dtype: np.dtype, states: list[np.ndarray]) -> np.ndarray:
        """Output ``j`` after zero steps."""
        if self.kinds[j] == "last":
            return np.array(states[self.recurrent.index(j)], dtype=dtype, copy=True)
        if shape is None:
            static = self.inner.outputs[j].type.shape
            if any(d is None for d in static):
                raise ValueError(
                    f"{self}: zero steps, and the shape of a step of output {j} ({self.inner.outputs[j].type}) "
                    "is known only once a step runs; run at least one step, or give that output "
                    "a static shape (ft.specify_shape in fn)"
                )
            shape = static
        return np.empty((0,) + tuple(shape), dtype)

    def _bad_step(self, t: int, j: int, r: np.ndarray, shape: tuple | None, dtype: np.dtype) -> None:
        why = (
            "a recurrent output keeps its initial value's shape and dtype"
            if j in self.recurrent
            else "every step of an output has the shape and dtype of the first"
        )
        raise ValueError(
            f"{self}: step {t} returned output {j} as {r.dtype}{list(r.shape)}, expected "
            f"{dtype}{list(shape or ())} ({why}); make fn return the same shape at every step"
        )

    def outputs_of(self, inputs: Sequence[Variable]) -> list[Variable]:
        """The inner graph's outputs as a graph of ``inputs`` (in place of its inputs): one
        step, for building graphs over it (its gradient)."""
        ins = self.inner.inputs
        return clone_graph(ins, self.inner.outputs, replace=dict(zip(ins, inputs)))[1]


def scan_node(
    step_inputs: Sequence[Variable],
    step_outputs: Sequence[Variable],
    kinds: Sequence[str],
    n_steps: Variable,
    seqs: Sequence[Variable],
    inits: Sequence[Variable],
    name: str | None = None,
) -> list[Variable]:
    """The outputs of a `Scan` node running ``step_outputs`` (a graph of ``step_inputs``: one
    placeholder per sequence row, then one per recurrent output's previous value) for
    ``n_steps`` steps over ``seqs`` from ``inits``. What the step reads besides its
    placeholders becomes the node's non-sequences."""
    values = outer_values(step_inputs, step_outputs)
    fresh = {v: v.type.make_variable(v.name) for v in [*step_inputs, *values]}
    ins, outs, _ = clone_graph([*step_inputs, *values], list(step_outputs), replace=fresh)
    op = Scan(FunctionGraph(ins, outs, clone=False), len(seqs), kinds, name)
    res = op(n_steps, *seqs, *inits, *values)
    return list(res) if isinstance(res, list) else [res]


# -- fc.scan ---------------------------------------------------------------------------------


def _refuse(argument: str, got: Any, supported: str, fix: str) -> None:
    raise NotImplementedError(f"scan: {argument}={got!r} is not supported; {supported}. {fix}")


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _sequence(s: Any, i: int) -> Variable:
    if isinstance(s, dict):
        taps = s.get("taps", [0])
        if list(taps or [0]) != [0] or set(s) - {"input", "taps"}:
            _refuse(
                f"sequences[{i}]",
                s,
                "a sequence is read one row per step (taps [0])",
                "Pass shifted slices as sequences instead (x[1:] and x[:-1] for taps [-1, 0]).",
            )
        s = s["input"]
    v = as_tensor_variable(s)
    if v.ndim < 1:
        raise TypeError(f"scan: sequences[{i}] must have at least one dimension (its steps), got {v.type}")
    return v


def _output_info(o: Any, j: int) -> Variable | None:
    """The initial value of output ``j``, or None for an output not fed back."""
    if isinstance(o, dict):
        taps = o.get("taps", [-1])
        if set(o) - {"initial", "taps"} or (o.get("initial") is not None and list(taps or []) != [-1]):
            _refuse(
                f"outputs_info[{j}]",
                o,
                "an output is fed back from the previous step only (taps [-1])",
                "Carry older values in a state of their own (return [h_t, h_prev] with initial "
                "values for both).",
            )
        o = o.get("initial")
    return None if o is None else as_tensor_variable(o)


def _n_steps(n_steps: Any) -> Variable:
    if isinstance(n_steps, (bool, np.bool_)) or not isinstance(n_steps, (int, np.integer, Variable)):
        raise TypeError(f"scan: n_steps must be an int or a symbolic integer scalar, got {n_steps!r}")
    if isinstance(n_steps, Variable):
        if n_steps.ndim != 0 or not n_steps.dtype.startswith(("int", "uint")):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps.type}")
        return n_steps if n_steps.dtype == "int64" else cast(n_steps, "int64")
    if n_steps < 0:
        raise ValueError(f"scan: n_steps must be >= 0, got {n_steps}")
    return constant(np.int64(n_steps))


def _step_outputs(res: Any, n_info: int | None) -> list[Variable]:
    if isinstance(res, dict) or (isinstance(res, tuple) and any(isinstance(r, dict) for r in res)):
        raise NotImplementedError(
            "scan: fn returned updates (a dict); shared-variable updates inside fn are not "
            "supported. Return the new value as a recurrent output instead, and update the "
            "shared variable from the scan's result (fc.function(..., updates=...))"
        )
    items = list(res) if isinstance(res, (list, tuple)) else [res]
    outs = []
    for j, r in enumerate(items):
        try:
            outs.append(as_tensor_variable(r))
        except (TypeError, ValueError):
            raise TypeError(
                f"scan: fn must return a variable or a list of variables, got {r!r} as output "
                f"{j} (stop conditions (until) and updates are not supported)"
            ) from None
    if n_info is not None and len(outs) != n_info:
        raise ValueError(
            f"scan: fn returned {len(outs)} outputs but outputs_info has {n_info} entries; give "
            "one entry per output (None for an output not fed back)"
        )
    return outs


def scan(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    n_steps: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
    profile: Any = False,
    allow_gc: Any = None,
    strict: bool = False,
    return_list: bool = False,
) -> tuple[Any, dict]:
    """A symbolic loop, called as Theano/PyTensor's ``scan``: ``(outputs, updates)``.

    ``fn`` receives, in order, the current row of each of ``sequences``, the previous value of
    each output whose ``outputs_info`` entry is not None (a variable, or ``{"initial": v,
    "taps": [-1]}``), then ``non_sequences``; it returns the step's outputs (one or a list).
    Each output is returned stacked over the steps, ``(n_steps,) + its shape``. The loop runs
    over the shortest sequence, and at most ``n_steps`` (an int or a symbolic integer scalar,
    required without sequences) steps; ``go_backwards`` runs it from the sequences' last rows.
    ``updates`` is always an empty dict: updates of shared variables inside ``fn`` are
    refused. Refused as well, each with its own error: taps other than a sequence's [0] and an
    output's [-1], ``truncate_gradient``, ``mode``, ``profile``, ``allow_gc`` and stop
    conditions. ``strict``: ``fn`` may read only its arguments (and constants).
    """
    if truncate_gradient != -1:
        _refuse(
            "truncate_gradient",
            truncate_gradient,
            "the gradient runs through every step (-1)",
            "Cut the graph yourself with ft.disconnected_grad where the gradient should stop.",
        )
    if mode is not None:
        _refuse(
            "mode",
            mode,
            "the step is compiled under the outer function's mode",
            "Pass the mode to fc.function instead.",
        )
    if profile:
        _refuse("profile", profile, "scan has no profiler of its own", "Leave profile=False.")
    if allow_gc is not None:
        _refuse(
            "allow_gc",
            allow_gc,
            "the step always keeps its buffers from step to step",
            "Leave allow_gc=None.",
        )
    seqs = [_sequence(s, i) for i, s in enumerate(_as_list(sequences))]
    infos = (
        None if outputs_info is None else [_output_info(o, j) for j, o in enumerate(_as_list(outputs_info))]
    )
    nonseqs = [as_tensor_variable(v) for v in _as_list(non_sequences)]
    if not seqs and n_steps is None:
        raise ValueError("scan: without sequences, n_steps is required (the number of steps to run)")
    if go_backwards:
        seqs = [s[::-1] for s in seqs]
    n = _n_steps(n_steps) if n_steps is not None else None
    for s in seqs:
        n = s.shape[0] if n is None else elemwise("minimum", n, s.shape[0])
    assert n is not None
    seqs = [s if n_steps is None and len(seqs) == 1 else s[:n] for s in seqs]

    rows = [
        TensorType(s.dtype, s.type.shape[1:]).make_variable(f"{s.name}[t]" if s.name else None) for s in seqs
    ]
    inits = [v for v in (infos or []) if v is not None]
    prev = [v.type.make_variable(f"{v.name}[t-1]" if v.name else None) for v in inits]
    draws = draws_made()
    res = fn(*rows, *prev, *nonseqs)
    if draws_made() != draws:
        raise NotImplementedError(
            "scan: fn draws random numbers; random draws inside scan are not supported (a "
            "draw is made once, not per step, and its generator's update would be lost). "
            "Draw the noise for every step outside and pass it as a sequence"
        )
    outs = _step_outputs(res, None if infos is None else len(infos))
    kinds = ["map" if infos is None or infos[j] is None else "rec" for j in range(len(outs))]
    _check_recurrent(outs, kinds, inits)
    if strict:
        _check_strict(outs, [*rows, *prev, *nonseqs])
    results = scan_node([*rows, *prev], outs, kinds, n, seqs, inits, name)
    return (results[0] if len(results) == 1 and not return_list else results), {}


def _check_recurrent(outs: list[Variable], kinds: list[str], inits: list[Variable]) -> None:
    for j, init in zip([j for j, k in enumerate(kinds) if k == "rec"], inits):
        o = outs[j]
        if o.dtype != init.dtype or o.ndim != init.ndim or not _same_static_shape(o.type, init.type):
            raise TypeError(
                f"scan: output {j} of fn is {o.type} but its initial value (outputs_info[{j}]) "
                f"is {init.type}; a recurrent output must keep its initial value's dtype and "
                f"shape. Cast one to the other (ft.cast(..., {init.dtype!r}) in fn, or the "
                "initial value)"
            )


def _same_static_shape(a: TensorType, b: TensorType) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a.shape, b.shape))


def _check_strict(outs: list[Variable], arguments: list[Variable]) -> None:
    """Refuse a step (of ``strict=True``) reading a variable that is neither one of its
    ``arguments`` nor a constant."""
    passed = {id(v) for v in arguments}
    for v in ancestors(outs, blockers=arguments):
        if v.owner is None and id(v) not in passed and not isinstance(v, Constant):
            raise ValueError(
                f"scan: strict=True and fn reads {v!r}, which is not one of its arguments; "
                "pass it in non_sequences"
            )
