"""Loops: ``fc.scan``, Theano/PyTensor's symbolic loop, as one op holding the step's graph.

``scan`` calls the user's ``fn`` once, on placeholders for one step (a slice of each sequence,
the previous value of each recurrent output, the non-sequences), and keeps the graph it returns
as the inner graph of a `Scan` node. Everything that graph reads without depending on the step
(the non-sequences, variables ``fn`` closes over, expressions of them such as ``W.T``) is
computed once, outside, and passed in. At run time the node's ``perform`` loops over the steps
calling the inner graph compiled by fncache like any function (under the outer function's mode:
C kernels for the C linker), writing each step's outputs into preallocated arrays of shape
``(n_steps,) + step shape``. Steps are not fused: each is one call of the compiled step.

The rest of PyTensor's forms are rewritten into that one loop by ``scan`` itself: a sequence
read at several taps is one sequence per tap (each a slice of it); an output read at several
past steps keeps its last values as states of their own, each step shifting them by one; a
shared variable updated by ``fn`` (or read by a random draw made in it, through its counter's
default update) is a state whose final value is the update returned. A stop condition
(``until``) is the step graph's last output, read after each step.

Its gradient (``scan_grad.py``) is backpropagation through time: another `Scan`, over the
reversed steps (the last ``truncate_gradient`` of them, if given), of the step graph's own
gradient; a loop that stopped itself is differentiated as the same loop over the steps it ran.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from ..config import config
from ..graph.basic import (
    Apply,
    Constant,
    Variable,
    ancestors,
    clone_graph,
    has_side_effects,
    substitute,
    toposort,
)
from ..graph.fgraph import FunctionGraph
from ..graph.types import TensorType
from .array_ops import specify_shape
from ..graph.args import as_int, int_arg
from .basic import as_tensor_variable, constant
from .elemwise import cast, elemwise
from .inner_graph import SIZE_ERRORS, InnerGraphOp, lift_inner_graph
from .pyop import check_value
from .replace import fit_update
from .shape_ops import Shape, static_int
from .random import RandomVariable
from .shared import SharedVariable
from .updates import OrderedUpdates

__all__ = ["Scan", "loop_steps", "scan", "scan_node", "until"]

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
    stacked). ``until``: the inner graph has one more output, a scalar condition; the loop
    stops after the first step where it is true (``n_steps`` is then the most it runs), the
    stacked outputs have the rows of the steps run and the node has one more output, the
    number of steps run. ``truncate``: the gradient runs through the last ``truncate`` steps
    only (-1: all of them). ``shifts``: pairs ``(r, s)`` of recurrent outputs (indices among
    the fed-back ones) where ``scan`` made output ``r`` pass along the previous value of ``s``
    (an older value of an output with taps): truncated, the gradient of an initial value
    down such a chain is the carry of the state that held it when the last steps began."""

    __props__ = ("inner_key", "n_seqs", "kinds", "until", "truncate", "shifts")

    inner_name = "scan"

    def __init__(
        self,
        inner: FunctionGraph,
        n_seqs: int,
        kinds: Sequence[str],
        name: str | None = None,
        until: bool = False,
        truncate: int = -1,
        shifts: Sequence[tuple[int, int]] = (),
    ) -> None:
        bad = [k for k in kinds if k not in KINDS]
        if bad or len(kinds) + bool(until) != len(inner.outputs):
            raise ValueError(f"Scan: kinds must be one of {KINDS} per inner output, got {kinds!r}")
        self.n_seqs = n_seqs
        self.kinds = tuple(kinds)
        self.name = name
        self.until = bool(until)
        self.truncate = int(truncate)
        self.shifts = tuple(sorted((int(r), int(src)) for r, src in shifts))
        super().__init__(inner)

    def __str__(self) -> str:
        return f"Scan{{{self.name or self.inner_key[:12]}}}"

    def derived(self, outputs: Sequence[Variable], kinds: Sequence[str], until: bool | None = None) -> "Scan":
        """A loop over the same inputs running ``outputs`` (of this op's inner inputs) as
        ``kinds``, with this op's name, truncation and shifts (the fed-back outputs being the
        same) and stop condition unless ``until`` says otherwise (its condition is then the
        last of ``outputs``)."""
        inner = FunctionGraph(self.inner.inputs, list(outputs))
        until = self.until if until is None else until
        return Scan(inner, self.n_seqs, kinds, self.name, until, self.truncate, self.shifts)

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
        steps = None
        if not self.until:
            # every sequence has one row per step (checked when the loop runs), so a static
            # length of one, or a count known when the graph is built, is the steps' count
            known = [static_int(n_steps)] + [v.type.shape[0] for v in args[: self.n_seqs]]
            steps = next((k for k in known if k is not None and k >= 0), None)
        out_types = []
        for j, (kind, o) in enumerate(zip(self.kinds, self.inner.outputs)):
            shape = shapes.get(j, o.type.shape)
            out_types.append(TensorType(o.dtype, shape if kind == "last" else (steps,) + shape))
        if self.until:
            out_types.append(TensorType("int64", ()))
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
        kinds = self.kinds
        dtypes = [np.dtype(o.dtype) for o in node.outputs[: len(kinds)]]
        # The shape of each output's step: a recurrent output keeps its initial value's shape,
        # a map output the shape of its first step (or its static shape when there are none).
        shapes: list[tuple | None] = [None] * len(kinds)
        for j, s in zip(rec, states):
            shapes[j] = s.shape
        ran = [np.array(0, np.int64)] if self.until else []
        if n == 0:
            return [self._empty(j, shapes[j], dtypes[j], inputs[1:]) for j in range(len(kinds))] + ran
        fn = self.node_function(node)
        outs: list[np.ndarray | None] = [None] * len(kinds)
        steps = n
        for t in range(n):
            # [t, ...]: a row of a vector is a 0-d array (a view), not a numpy scalar, which the
            # step function would take through its input conversion (25 µs instead of 1)
            rows = [s[t, ...] for s in seqs]
            try:
                res = fn(*rows, *states, *nonseqs)
            except SIZE_ERRORS as e:
                said = self.named_outside(e, node)
                said.add_note(self._step_inputs(t, rows, states, nonseqs))
                raise said from None
            except Exception as e:
                e.add_note(self._step_inputs(t, rows, states, nonseqs))
                raise
            for j, kind in enumerate(kinds):
                r = res[j]
                if t == 0 and shapes[j] is None:
                    shapes[j] = r.shape
                if r.shape != shapes[j] or r.dtype != dtypes[j]:
                    self._bad_step(t, j, r, shapes[j], dtypes[j])
                if kind == "last":
                    outs[j] = r  # held until the next step: the step function makes a new one
                    continue
                if outs[j] is None:
                    outs[j] = np.empty((n,) + r.shape, dtypes[j])
                outs[j][t] = r  # type: ignore[index]
            states = [outs[j] if kinds[j] == "last" else outs[j][t, ...] for j in rec]  # type: ignore[index]
            if self.until and res[-1]:
                steps = t + 1
                break
        if self.until:
            ran = [np.array(steps, np.int64)]
        # A `last` value may be one of the step's inputs passed through (a sequence's row): the
        # node's output is a copy of its own. Stacked outputs of a loop stopped early keep
        # the rows of the steps run.
        return [
            np.array(o, copy=True) if k == "last" else o if steps == n else o[:steps].copy()  # type: ignore[index]
            for o, k in zip(outs, kinds)
        ] + ran

    def _empty(self, j: int, shape: tuple | None, dtype: np.dtype, values: list[np.ndarray]) -> np.ndarray:
        """Output ``j`` after zero steps (``values``: the node's inputs after ``n_steps``)."""
        if self.kinds[j] == "last":
            return np.array(values[self.n_seqs + self.recurrent.index(j)], dtype=dtype, copy=True)
        if shape is None:
            shape = self._step_shape(j, values)
        if shape is None:
            raise ValueError(
                f"{self}: zero steps, and the shape of a step of output {j} ({self.inner.outputs[j].type}) "
                "is known only once a step runs; run at least one step, or give that output "
                "a static shape (ft.specify_shape in fn)"
            )
        return np.empty((0,) + tuple(shape), dtype)

    def _step_shape(self, j: int, values: list[np.ndarray]) -> tuple | None:
        """The shape of a step of output ``j`` as the static shapes of the step's ops give it
        when its inputs have the shapes of ``values`` (a sequence: of its rows), or None where
        it depends on the values themselves. No step runs: only the nodes' types are made,
        and the sizes read from shapes known so (a loop in the step running ``len(v)``
        steps) computed."""
        memo: dict = {
            p: TensorType(p.dtype, v.shape[1:] if i < self.n_seqs else v.shape).make_variable(p.name)
            for i, (p, v) in enumerate(zip(self.inner.inputs, values))
        }
        out = self.inner.outputs[j]
        try:
            for node in toposort([out], blockers=self.inner.inputs):
                ins = [memo.get(v, v) for v in node.inputs]
                remade = node.op.make_node(*ins)
                memo.update(zip(node.outputs, _fold_sizes(remade)))
        except (TypeError, ValueError, NotImplementedError):
            return None  # an op refusing the shapes: the step would fail as well
        shape = memo.get(out, out).type.shape
        return None if any(d is None for d in shape) else tuple(shape)

    def given_whole(self, node: Apply) -> dict[int, Variable]:
        """The non-sequences (the sequences come in by rows, the outputs' previous values as
        the states the loop names ``h[t-1]``)."""
        first = self.n_seqs + len(self.recurrent)
        return {k: node.inputs[1 + k] for k in range(first, len(self.inner.inputs))}

    def _step_inputs(self, t: int, rows: list, states: list, nonseqs: list) -> str:
        """What step ``t``, which raised, was given: the error names neither the loop nor the
        step, and an initial value of another shape than fn's output shows only here."""
        parts = [
            f"{what} {', '.join(_shape_of(v) for v in vals)}"
            for what, vals in (
                ("the rows of the sequences", rows),
                (
                    "the previous values of the outputs"
                    + (" (their initial values, outputs_info)" if t == 0 else ""),
                    states,
                ),
                ("the non-sequences", nonseqs),
            )
            if vals
        ]
        return f"(raised in step {t} of {self}, given {'; '.join(parts) or 'no inputs'})"

    def _bad_step(self, t: int, j: int, r: np.ndarray, shape: tuple | None, dtype: np.dtype) -> None:
        why = (
            "a recurrent output keeps its initial value's shape and dtype"
            if j in self.recurrent
            else "every step of an output has the shape and dtype of the first"
        )
        raise ValueError(
            f"{self}: step {t} returned output {j} as {_shape_of(r)}, expected "
            f"{dtype}{list(shape or ())} ({why}); make fn return the same shape at every step"
        )

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """``[input][output]``: whether output j depends on input i through the loop (an output
        reads a recurrent output's past values, hence everything that output depends on; with
        a stop condition, every output depends on what the condition reads, as the steps run
        do, with a zero gradient). Neither ``n_steps`` nor the count of steps run carries a
        gradient."""
        from .gradient import connected_ancestors

        ins, n_out = self.inner.inputs, len(self.kinds)
        index = {id(v): i for i, v in enumerate(ins)}
        direct = [{index[k] for k in connected_ancestors([o], ins) if k in index} for o in self.inner.outputs]
        prev = {self.n_seqs + r: j for r, j in enumerate(self.recurrent)}
        reach = [set(d) for d in direct]
        changed = True
        while changed:
            changed = False
            for r in reach:
                more = set().union(*(direct[prev[i]] for i in r if i in prev)) - r
                if more:
                    r |= more
                    changed = True
        if self.until:
            for r in reach[:n_out]:
                r |= reach[-1]
        count = [False] * int(self.until)
        return [[False] * len(node.outputs)] + [
            [i in r for r in reach[:n_out]] + count for i in range(len(ins))
        ]

    def outputs_of(self, inputs: Sequence[Variable]) -> list[Variable]:
        """The inner graph's outputs as a graph of ``inputs`` (in place of its inputs): one
        step, for building graphs over it (its gradient)."""
        ins = self.inner.inputs
        return clone_graph(ins, self.inner.outputs, replace=dict(zip(ins, inputs)))[1]


def _shape_of(a: np.ndarray) -> str:
    """``a``'s dtype and shape, as ``float64[3, 2]``."""
    return f"{a.dtype}{list(a.shape)}"


#: the most elements of a constant that `_fold_sizes` computes with
_SIZE_ELEMENTS = 32


def _fold_sizes(node: Apply) -> list[Variable]:
    """``node``'s outputs, as constants where they are sizes known from static shapes: the
    shape of a tensor of static shape, an integer op of small integer constants."""
    if isinstance(node.op, Shape) and None not in node.inputs[0].type.shape:
        return [constant(np.asarray(node.inputs[0].type.shape, dtype="int64"))]
    small = all(
        isinstance(v, Constant) and v.dtype.startswith(("int", "uint")) and v.data.size <= _SIZE_ELEMENTS
        for v in node.inputs
    )
    ints = all(getattr(o, "dtype", "").startswith(("int", "uint")) for o in node.outputs)
    if not small or not node.inputs or not ints or has_side_effects(node.op):
        return node.outputs
    try:
        res = node.op.perform(node, [v.data for v in node.inputs])
    except Exception:  # a check failing, an op without perform: the size stays unknown
        return node.outputs
    return [constant(np.asarray(r, dtype=o.dtype)) for r, o in zip(res, node.outputs)]


def scan_node(
    step_inputs: Sequence[Variable],
    step_outputs: Sequence[Variable],
    kinds: Sequence[str],
    n_steps: Variable,
    seqs: Sequence[Variable],
    inits: Sequence[Variable],
    name: str | None = None,
    until: bool = False,
    truncate: int = -1,
    shifts: Sequence[tuple[int, int]] = (),
) -> list[Variable]:
    """The outputs of a `Scan` node running ``step_outputs`` (a graph of ``step_inputs``: one
    placeholder per sequence row, then one per recurrent output's previous value; with
    ``until``, the last output is the stop condition) for ``n_steps`` steps over ``seqs`` from
    ``inits``. What the step reads besides its placeholders becomes the node's
    non-sequences."""
    inner, values = lift_inner_graph(step_inputs, step_outputs)
    op = Scan(inner, len(seqs), kinds, name, until, truncate, shifts)
    res = op(n_steps, *seqs, *inits, *values)
    return list(res) if isinstance(res, list) else [res]


# -- fc.scan ---------------------------------------------------------------------------------


class until:
    """A stop condition, returned by ``fn`` after its outputs (PyTensor's
    ``pytensor.scan.utils.until``): the loop stops after the first step where ``condition`` (a
    scalar) is true, and ``n_steps`` is the most steps it runs."""

    def __init__(self, condition: Any) -> None:
        c = as_tensor_variable(condition)
        if c.ndim != 0:
            raise TypeError(
                f"until: the condition must be a scalar, got {c.type}; reduce it first "
                "(ft.any(...) or ft.all(...))"
            )
        self.condition = c


def _plain_mode(mode: Any) -> bool:
    """Whether ``mode`` only chooses a linker and rewrites (a name, or a mode of the C or the
    Python linker), which change no value the loop computes."""
    if isinstance(mode, str):
        return mode.upper() in ("FAST_RUN", "FAST_COMPILE", "MODE")
    return type(mode).__name__ == "Mode" and getattr(mode, "linker", None) in ("c", "py")


def _refuse(argument: str, got: Any, supported: str, fix: str) -> None:
    raise NotImplementedError(f"scan: {argument}={got!r} is not supported; {supported}. {fix}")


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _taps(taps: Any, where: str) -> list[int]:
    """``taps`` (an int or a list of them) as a list of distinct ints."""
    items = list(taps) if isinstance(taps, (list, tuple)) else [taps]
    if not items or any(as_int(k) is None for k in items) or len(set(as_int(k) for k in items)) != len(items):
        raise ValueError(f"scan: {where} has taps {taps!r}; give a non-empty list of distinct ints")
    return [as_int(k) for k in items]


def _sequence(s: Any, i: int) -> tuple[Variable, list[int]]:
    """Sequence ``i`` and its taps: step t reads row ``t + k - min(taps, 0)`` for each tap k."""
    taps = [0]
    if isinstance(s, dict):
        if "input" not in s or set(s) - {"input", "taps"}:
            raise ValueError(
                f"scan: sequences[{i}] is a dict with keys {sorted(s)}; give "
                "{'input': x, 'taps': [...]} (taps default to [0])"
            )
        taps = [0] if s.get("taps") is None else _taps(s["taps"], f"sequences[{i}]")
        s = s["input"]
    v = _tensor(s, f"sequences[{i}]")
    if v.ndim < 1:
        raise TypeError(f"scan: sequences[{i}] must have at least one dimension (its steps), got {v.type}")
    return v, taps


def _tap_slices(v: Variable, taps: list[int], go_backwards: bool) -> list[Variable]:
    """One slice of ``v`` per tap, row t of each being what step t reads (PyTensor's cut: the
    steps run over the rows every tap can read, tap 0 counted as read)."""
    lo, hi = min(*taps, 0), max(*taps, 0)
    out = []
    for k in taps:
        s = v if k - lo == 0 and k == hi else v[k - lo :] if k == hi else v[k - lo : k - hi]
        out.append(s[::-1] if go_backwards else s)
    return out


def _output_info(o: Any, j: int) -> tuple[Variable, list[int]] | None:
    """The initial value of output ``j`` and its taps (all negative), or None for an output
    not fed back. With taps other than [-1] the initial value has one leading row per step
    before the first, ``-min(taps)`` of them: row ``-min(taps) + k`` is the value at step k."""
    taps = [-1]
    if isinstance(o, dict):
        if set(o) - {"initial", "taps"}:
            raise ValueError(
                f"scan: outputs_info[{j}] is a dict with keys {sorted(o)}; give "
                "{'initial': x0, 'taps': [...]} (taps default to [-1])"
            )
        if o.get("initial") is None:
            if o.get("taps"):
                raise ValueError(
                    f"scan: outputs_info[{j}] has taps {o['taps']!r} but no initial value; give "
                    "'initial' (the values before the first step)"
                )
            return None
        taps = [-1] if o.get("taps") is None else _taps(o["taps"], f"outputs_info[{j}]")
        if any(k >= 0 for k in taps):
            raise ValueError(
                f"scan: outputs_info[{j}] has taps {taps}; an output's taps are past steps "
                "(negative: -1 the previous step)"
            )
        o = o["initial"]
    if o is None:
        return None
    init = _tensor(o, f"outputs_info[{j}]")
    if taps != [-1]:
        rows = -min(taps)
        if init.ndim < 1 or init.type.shape[0] not in (None, rows):
            raise ValueError(
                f"scan: outputs_info[{j}] has taps {taps}: its initial value needs {rows} leading "
                f"rows (the values of steps -{rows} .. -1), got {init.type}"
            )
        if init.type.shape[0] is None:
            # PyTensor reads the first rows of a longer value: fncache takes no such guess
            need = (
                f"scan: outputs_info[{j}] has taps {taps}: its initial value needs {rows} leading rows "
                f"(the values of steps -{rows} .. -1), got {{0}}; give {rows} rows (x0[:{rows}] "
                "are the rows PyTensor reads of a longer one)"
            )
            init = check_value(init, elemwise("eq", init.shape[0], rows), need, init.shape[0])
        init = specify_shape(init, (rows,) + init.type.shape[1:])
    return init, taps


def _tensor(x: Any, where: str) -> Variable:
    """``x`` (argument ``where`` of scan) as a tensor variable."""
    try:
        return as_tensor_variable(x)
    except (TypeError, ValueError):
        raise TypeError(
            f"scan: {where} must be a tensor (a variable, or a number or array to make a "
            f"constant of), got {x!r}"
        ) from None


def _check_arity(fn: Callable[..., Any], n_rows: int, n_taps: int, n_nonseqs: int) -> None:
    """Refuse an ``fn`` whose parameters cannot take the step's arguments, before calling it
    (Python's own error would name neither scan nor where the arguments come from)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a callable without a signature: its call says what it takes
    n = n_rows + n_taps + n_nonseqs
    try:
        sig.bind(*range(n))
    except TypeError:
        names = ", ".join(sig.parameters)
        raise TypeError(
            f"scan: fn takes the arguments ({names}) but scan passes it {n}: one row per sequence "
            f"tap ({n_rows}), one value per output tap ({n_taps}), then the {n_nonseqs} "
            "non-sequences; make fn take them in that order"
        ) from None


def _n_steps(n_steps: Any, caller: str) -> Variable:
    if isinstance(n_steps, Variable):
        if n_steps.ndim != 0 or not n_steps.dtype.startswith(("int", "uint")):
            raise TypeError(f"{caller}: n_steps must be an integer scalar, got {n_steps.type}")
        return n_steps if n_steps.dtype == "int64" else cast(n_steps, "int64")
    if isinstance(n_steps, (float, np.floating)) and float(n_steps).is_integer():
        # a count computed with Python 3's division (``len(x) / 2``, an int in Python 2's
        # Theano scripts) is taken where it is whole, as PyTensor takes a float; a fractional
        # one is refused below (PyTensor cuts it)
        n_steps = int(n_steps)
    n_steps = int_arg(n_steps, caller, "n_steps", minimum=0, fix="or a symbolic integer scalar")
    return constant(np.int64(n_steps))


def loop_steps(
    n_steps: Any, seq_taps: list[tuple[Variable, list[int]]], caller: str = "scan"
) -> tuple[Variable | None, list[tuple[Variable, list[int]]]]:
    """``n_steps`` (argument of ``caller``) as an int64 scalar, None when not given, and the
    sequences with their taps, each checked to hold the rows its taps read over that many
    steps (``n_steps + max(taps, 0) - min(taps, 0)``). As Theano: a loop given more steps than a
    sequence has rows for raises instead of running fewer steps than asked (a known count
    when the graph is built, else when the function runs)."""
    if n_steps is None:
        return None, seq_taps
    n = _n_steps(n_steps, caller)
    known = static_int(n)
    if known is None:
        # checked here, before the sequences' rows are counted against it
        msg = f"{caller}: n_steps is {{0}}; {caller} runs a non-negative number of steps"
        n = check_value(n, elemwise("ge", n, 0), msg, n)
    checked = []
    for i, (v, taps) in enumerate(seq_taps):
        span = max(*taps, 0) - min(*taps, 0)
        read = f", and its taps {taps} read {span} more rows than the steps" if span else ""
        msg = (
            f"{caller}: n_steps is {{0}} but sequences[{i}] has {{1}} rows{read}: enough for "
            f"{{2}} steps; give n_steps <= {{2}}, or leave n_steps out to run over the "
            "sequences' rows"
        )
        rows = v.type.shape[0]
        if known is not None and rows is not None:
            if rows - span < known:
                raise ValueError(msg.format(known, rows, max(rows - span, 0)))
        else:
            most = elemwise("maximum", v.shape[0] - span, 0)
            v = check_value(v, elemwise("le", n, most), msg, n, v.shape[0], most)
        checked.append((v, taps))
    return n, checked


def _as_updates(x: Any) -> dict | None:
    """``x`` as an updates dict when it is one: a dict, or (PyTensor's other spelling) a
    non-empty list of ``(shared variable, new value)`` pairs; else None."""
    if isinstance(x, dict):
        return x
    pairs = isinstance(x, (list, tuple)) and len(x) > 0
    if pairs and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable) for p in x
    ):
        return OrderedDict(x)
    return None


def _split_return(res: Any) -> tuple[list, dict, Variable | None]:
    """``fn``'s return value as (outputs, updates, stop condition): outputs, then optionally
    an updates dict (or a list of ``(shared, new value)`` pairs) and an `until`, in any order
    after them (PyTensor's forms)."""
    if _as_updates(res) is not None:
        return [], dict(_as_updates(res)), None
    items = list(res) if isinstance(res, (list, tuple)) else [res]
    updates: dict = {}
    cond = None
    while items and (isinstance(items[-1], until) or _as_updates(items[-1]) is not None):
        last = items.pop()
        if isinstance(last, until):
            if cond is not None:
                raise ValueError("scan: fn returned two stop conditions (until); return one")
            cond = last.condition
        else:
            updates = {**_as_updates(last), **updates}
    if len(items) == 1 and isinstance(items[0], (list, tuple)):
        items = list(items[0])
    for j, r in enumerate(items):
        if isinstance(r, until) or _as_updates(r) is not None:
            raise TypeError(
                f"scan: fn returned {'until' if isinstance(r, until) else 'updates'} as output {j}; "
                "return the outputs first, then the updates dict and the until condition"
            )
    return items, updates, cond


def _step_outputs(items: list, n_info: int | None) -> list[Variable]:
    outs = []
    for j, r in enumerate(items):
        try:
            outs.append(as_tensor_variable(r))
        except (TypeError, ValueError):
            raise TypeError(
                f"scan: fn must return a variable or a list of variables (then optionally an "
                f"updates dict and an until condition), got {r!r} as output {j}"
            ) from None
    if n_info is not None and len(outs) != n_info:
        raise ValueError(
            f"scan: fn returned {len(outs)} outputs but outputs_info has {n_info} entries; give "
            "one entry per output (None for an output not fed back)"
        )
    return outs


def _step_updates(updates: dict, reads: list[Variable], blockers: list[Variable]) -> tuple[dict, list]:
    """The shared variables the loop updates at every step, each with its new value: those of
    ``updates`` (fn's) and those ``reads`` reads, short of ``blockers``, that have a default
    update (as Theano; the counters of the random draws fn reads: a draw per step). Each new
    value is fitted to its variable's type as ``fc.function``'s updates are (its value is fed
    to the next step and stored into the variable). Also the list of those counters."""
    out = {v: fit_update(v, new, "scan: fn's updates") for v, new in updates.items()}
    drawn = []
    for v in ancestors([*reads, *out.values()], blockers=blockers):
        if isinstance(v, SharedVariable) and v.default_update is not None and v not in out:
            out[v] = fit_update(v, v.default_update, "scan: default_update")
            if v.default_update.owner is not None and isinstance(v.default_update.owner.op, RandomVariable):
                drawn.append(v)
    return out, drawn


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
    return_updates: bool = True,
) -> Any:
    """A symbolic loop, called as Theano/PyTensor's ``scan``: ``(outputs, updates)``.

    ``fn`` receives, in order, the rows of each of ``sequences`` it reads, the past values of
    each output whose ``outputs_info`` entry is not None, then ``non_sequences``; it returns
    the step's outputs (one or a list), optionally followed by an updates dict (or a list of
    ``(shared, new value)`` pairs) and an ``until`` stop condition.

    * A sequence is a variable (step t reads row t) or ``{"input": x, "taps": [-2, 0, 1]}``
      (step t reads rows t-2, t and t+1, shifted so that the first step reads rows 0, 2 and 3:
      the loop runs over ``len(x) - (max(taps, 0) - min(taps, 0))`` steps).
    * An output's entry is its initial value (fed the previous step's value), ``None`` (not
      fed back) or ``{"initial": x0, "taps": [-2, -1]}``: fn reads the values of steps t-2 and
      t-1, and ``x0`` holds the ``-min(taps)`` values before the first step, oldest first.
    * Each output is returned stacked over the steps, ``(n_steps,) + its shape`` (without the
      initial rows). The loop runs ``n_steps`` steps (an int or a symbolic integer scalar,
      required without sequences; a sequence without the rows for them raises), or without
      it over the shortest sequence; ``go_backwards`` runs it from the sequences' last rows.
    * Updates: fn's dict maps shared variables to their new values; each step reads the value
      the previous step gave, and the returned ``updates`` maps each to its value after the
      last step (pass it to ``fc.function(..., updates=updates)``); so does a shared variable
      fn reads that has a default update, with that update. A random draw made in fn
      draws anew at every step: its counter is updated the same way (it is in ``updates``,
      and the function applies it even when not given them). Each new value is checked and
      fitted to its variable's type as ``fc.function``'s updates are (docs/porting.md).
    * ``until(cond)``: the loop stops after the first step where ``cond`` is true; the outputs
      have the rows of the steps run.
    * ``truncate_gradient=k``: the gradient runs back through the last k steps only (the
      earlier steps, the sequences' earlier rows and the initial values get none, but for
      the initial rows of an output with taps that those steps read).

    * ``return_updates=False`` (PyTensor's): the outputs alone. A random draw's counters are
      applied without being given; any other update the loop makes is refused then (it would
      be lost), naming the variables.

    ``mode``: a plain mode (``"FAST_RUN"``, ``"FAST_COMPILE"``, ``fc.Mode(linker=...)``) is
    taken, the step being compiled under the outer function's mode (the values are the same
    under every linker and optimizer).

    Refused, each with its own error: a ``mode`` that checks or watches values, ``profile``
    and ``allow_gc=True`` (the step keeps its buffers from step to step, which
    ``allow_gc=False`` asks for). ``strict``: ``fn`` may read no shared variable but
    its arguments (as Theano's and PyTensor's).
    """
    truncate_gradient = int_arg(truncate_gradient, "scan", "truncate_gradient", fix="-1 for no truncation")
    if truncate_gradient == 0 or truncate_gradient < -1:
        raise ValueError(
            f"scan: truncate_gradient={truncate_gradient}; give the number of steps the gradient "
            "runs back through (>= 1), or -1 for all of them"
        )
    if mode is not None and not _plain_mode(mode):
        _refuse(
            "mode",
            mode,
            "the step is compiled under the outer function's mode, so a mode that checks or "
            "watches values (DebugMode, NanGuardMode, MonitorMode) would not reach it",
            "Pass the mode to fc.function instead.",
        )
    if profile:
        _refuse("profile", profile, "scan has no profiler of its own", "Leave profile=False.")
    if allow_gc is not None and allow_gc is not False:
        # False (Theano's default for scan) is what the loop does: it keeps its buffers
        _refuse(
            "allow_gc",
            allow_gc,
            "the step always keeps its buffers from step to step",
            "Leave allow_gc=None or False.",
        )
    seq_taps = [_sequence(s, i) for i, s in enumerate(_as_list(sequences))]
    # no entries (None or [], PyTensor's spelling): no output is fed back
    infos = [_output_info(o, j) for j, o in enumerate(_as_list(outputs_info))] or None
    nonseqs = [_tensor(v, f"non_sequences[{k}]") for k, v in enumerate(_as_list(non_sequences))]
    if not seq_taps and n_steps is None:
        raise ValueError("scan: without sequences, n_steps is required (the number of steps to run)")
    n, seq_taps = loop_steps(n_steps, seq_taps)
    seqs = [sl for v, taps in seq_taps for sl in _tap_slices(v, taps, go_backwards)]
    for s in seqs if n_steps is None else []:
        n = s.shape[0] if n is None else elemwise("minimum", n, s.shape[0])
    assert n is not None
    seqs = [s if n_steps is None and len(seqs) == 1 else s[:n] for s in seqs]
    rows = [
        TensorType(s.dtype, s.type.shape[1:]).make_variable(_tap_name(v.name, k))
        for s, (v, k) in zip(seqs, [(v, k) for v, taps in seq_taps for k in taps])
    ]

    # The state of an output with taps [-3, -1] is its last three values: fn reads two of
    # them, and each step shifts them by one (the older ones are outputs of their own).
    inits, older_inits, prev, older, args = [], [], [], [], []
    for init, taps in (info for info in infos or [] if info is not None):
        if taps == [-1]:
            inits.append(init)
            prev.append(init.type.make_variable(_tap_name(init.name, -1)))
            args.append(prev[-1])
            continue
        lag = -min(taps)
        values = [init[lag - i] for i in range(1, lag + 1)]  # the values of steps -1 .. -lag
        past = [v.type.make_variable(_tap_name(init.name, -i)) for i, v in enumerate(values, 1)]
        inits.append(values[0])
        prev.append(past[0])
        older_inits += values[1:]
        older.append(past)
        args += [past[-k - 1] for k in taps]
    _check_arity(fn, len(rows), len(args), len(nonseqs))
    # the step is built on stand-ins without test values; the loop's node is evaluated whole
    with config.change_flags(compute_test_value="off"):
        res = fn(*rows, *args, *nonseqs)
    items, fn_updates, cond = _split_return(res)
    outs = _step_outputs(items, None if infos is None else len(infos))
    if not outs and not fn_updates and cond is None:
        raise ValueError("scan: fn returned nothing; return the step's outputs (or updates)")
    kinds = ["map" if infos is None or infos[j] is None else "rec" for j in range(len(outs))]
    _check_recurrent(outs, kinds, inits)
    shifts = [v for past in older for v in past[:-1]]

    placeholders = [*rows, *prev, *(v for past in older for v in past[1:])]
    reads = [*outs, *shifts] + ([cond] if cond is not None else [])
    # the non-sequences are values computed once, outside: a draw among them is not redrawn
    # (a draw read from fn's closure is, as in Theano)
    updates, drawn = _step_updates(fn_updates, reads, [*placeholders, *nonseqs])
    shared = list(updates)
    last = [v.type.make_variable(_tap_name(v.name, -1)) for v in shared]
    step = substitute([*reads, *updates.values()], dict(zip(shared, last)))
    if strict:
        _check_strict(step, [*placeholders, *last, *nonseqs])
    step = [
        *step[: len(outs) + len(shifts)],
        *step[len(reads) :],
        *step[len(outs) + len(shifts) : len(reads)],
    ]
    kinds += ["rec"] * len(shifts) + ["last"] * len(shared)
    # the states after fn's own: each shift passes along the value another state held
    state = {id(v): r for r, v in enumerate(placeholders[len(rows) :])}
    passes = [(len(prev) + i, state[id(v)]) for i, v in enumerate(shifts)]
    results = scan_node(
        [*placeholders, *last],
        step,
        kinds,
        n,
        seqs,
        [*inits, *older_inits, *shared],
        name,
        until=cond is not None,
        truncate=int(truncate_gradient),
        shifts=passes,
    )
    finals = results[len(outs) + len(shifts) : len(outs) + len(shifts) + len(shared)]
    new_values = OrderedUpdates(zip(shared, finals))
    for v in drawn:
        # The function draws anew on its next call even when it is not given the updates (a
        # counter is read by its own draw only; a user's default update is left as it is).
        v.default_update = new_values[v]
    outputs = results[: len(outs)]
    result = outputs[0] if len(outputs) == 1 and not return_list else outputs
    if return_updates:
        return result, new_values
    kept = [v for v in new_values if v not in drawn]
    if kept:
        names = ", ".join(repr(v) for v in kept)
        raise ValueError(
            f"scan: return_updates=False, but the loop updates {names}; call scan with "
            "return_updates=True and give the updates to fc.function(..., updates=updates)"
        )
    return result


def _tap_name(name: str | None, k: int) -> str | None:
    return None if name is None else f"{name}[t{k:+d}]" if k else f"{name}[t]"


def _check_recurrent(outs: list[Variable], kinds: list[str], inits: list[Variable]) -> None:
    """Each fed-back output against its state's initial value (for an output with taps, the
    value before the first step)."""
    for j, init in zip([j for j, k in enumerate(kinds) if k == "rec"], inits):
        o = outs[j]
        if o.dtype != init.dtype:
            raise TypeError(
                f"scan: output {j} of fn is {o.type} but its initial value (outputs_info[{j}]) "
                f"is {init.type}; a recurrent output must keep its initial value's dtype and "
                f"shape. Cast one to the other (ft.cast(..., {init.dtype!r}) in fn, or the "
                "initial value)"
            )
        if o.ndim != init.ndim:
            raise TypeError(
                f"scan: output {j} of fn has {o.ndim} dimensions but its initial value "
                f"(outputs_info[{j}]) has {init.ndim} ({o.type}, {init.type}); a recurrent "
                "output is fed back as fn's next argument, so fn must return a value of its "
                "initial value's shape"
            )
        if not _same_static_shape(o.type, init.type):
            raise TypeError(
                f"scan: output {j} of fn has shape {_static(o.type)} but its initial value "
                f"(outputs_info[{j}]) has {_static(init.type)}; a recurrent output is fed back "
                "as fn's next argument, so fn must return a value of its initial value's shape"
            )


def _static(t: TensorType) -> str:
    """``t``'s static shape as a tuple, ``?`` for a size known only when the loop runs."""
    return str(tuple("?" if d is None else d for d in t.shape)).replace("'", "")


def _same_static_shape(a: TensorType, b: TensorType) -> bool:
    return all(x is None or y is None or x == y for x, y in zip(a.shape, b.shape))


def _check_strict(outs: list[Variable], arguments: list[Variable]) -> None:
    """Refuse a step (of ``strict=True``) reading a shared variable that is not one of its
    ``arguments``, as Theano's and PyTensor's strict (a symbolic variable fn closes over is
    the loop's input either way). A random stream's seed is the stream's state, as its
    counters are (they arrive as arguments, being updated): PyTensor's strict leaves a draw's
    generator out of the check too."""
    passed = {id(v) for v in arguments}
    seen = ancestors(outs, blockers=arguments)
    for v in seen:
        if v.owner is not None and isinstance(v.owner.op, RandomVariable) and v.owner.op.seeded:
            passed.add(id(v.owner.inputs[-1]))
    for v in seen:
        if isinstance(v, SharedVariable) and id(v) not in passed:
            raise ValueError(
                f"scan: strict=True and fn reads {v!r}, a shared variable that is not one of "
                "its arguments; pass it in non_sequences"
            )
