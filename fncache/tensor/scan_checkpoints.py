"""``scan_checkpoints``: a loop whose gradient keeps one state every ``save_every_N`` steps
and recomputes the steps between two of them while it runs back (Theano/PyTensor's
checkpointed ``scan``, README "Loops: scan").

It is two nested loops: the outer one runs over blocks of ``save_every_N`` steps and keeps
the state at the end of each block; the inner one runs a block's steps from the state before
it. The gradient of the outer loop stores only the outer loop's states, and differentiates
each block with the inner loop's own gradient, which runs the block forward again from its
stored start and keeps its ``save_every_N`` states only while that block is differentiated."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..graph.args import int_arg
from ..graph.basic import Variable
from .basic import as_tensor_variable, constant
from .creation import arange, zeros
from .scan import loop_steps, scan
from .shape_ops import concatenate

__all__ = ["scan_checkpoints"]


def scan_checkpoints(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    name: str = "checkpointscan_fn",
    n_steps: Any = None,
    save_every_N: int = 10,
    padding: bool = True,
    return_updates: bool = True,
) -> Any:
    """``scan(fn, sequences, outputs_info, non_sequences, n_steps)`` with checkpointed
    gradients. Returns ``(outputs, updates)`` as ``scan``, each output holding only the
    states at the end of each block of ``save_every_N`` steps (steps ``N-1, 2N-1, ...``
    and the last step), as Theano's.

    As Theano's, every sequence is read at tap 0 and every output is fed back at tap -1 from
    an initial value (no ``None`` entries, no taps dicts, no updates). ``padding`` is
    accepted for Theano's signature: the last block simply runs fewer steps.
    ``return_updates=False`` (PyTensor's): the outputs alone."""
    seqs = [_plain(s, "sequences") for s in _listed(sequences)]
    infos = _listed(outputs_info)
    if not infos:
        raise ValueError("scan_checkpoints: outputs_info must give an initial value for every output")
    inits = [_plain(o, "outputs_info") for o in infos]
    save_every_N = int_arg(save_every_N, "scan_checkpoints", "save_every_N", minimum=1)
    del padding  # the last block runs fewer steps instead of reading padded rows
    if n_steps is None and not seqs:
        raise ValueError("scan_checkpoints: give sequences or n_steps")
    steps, checked = loop_steps(n_steps, [(s, [0]) for s in seqs], "scan_checkpoints")
    seqs = [s for s, _ in checked]
    for s in seqs if steps is None else []:
        steps = s.shape[0] if steps is None else _min(steps, s.shape[0])
    assert steps is not None
    steps = steps.astype("int64")
    block = constant(np.int64(save_every_N))
    n_blocks = (steps + block - 1) // block
    # each sequence padded with rows of zeros to whole blocks, then one block per outer row
    blocked = []
    for s in seqs:
        s = s[:steps]
        pad = zeros([n_blocks * block - steps, *[s.shape[d] for d in range(1, s.ndim)]], dtype=s.dtype)
        blocked.append(
            concatenate([s, pad]).reshape([n_blocks, block, *[s.shape[d] for d in range(1, s.ndim)]])
        )

    def outer_step(*args: Any) -> list[Variable]:
        k = args[0]
        rows = list(args[1 : 1 + len(seqs)])
        states = list(args[1 + len(seqs) : 1 + len(seqs) + len(inits)])
        consts = list(args[1 + len(seqs) + len(inits) :])
        # the last block runs only the steps left
        count = _min(block, steps - k * block)
        outs, updates = scan(
            fn,
            sequences=rows,
            outputs_info=states,
            non_sequences=consts,
            n_steps=count,
            name=f"{name}_inner",
            return_list=True,
        )
        if updates:
            raise NotImplementedError(
                "scan_checkpoints: fn returned updates; use scan for loops with updates"
            )
        return [o[-1] for o in outs]

    outs, updates = scan(
        outer_step,
        sequences=[arange(n_blocks), *blocked],
        outputs_info=inits,
        non_sequences=_listed(non_sequences),
        name=name,
        return_list=True,
    )
    result = outs[0] if len(outs) == 1 else outs
    return (result, updates) if return_updates else result


def _listed(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _plain(v: Any, what: str) -> Variable:
    if v is None or isinstance(v, dict):
        raise ValueError(
            f"scan_checkpoints: {what} must be variables (tap 0 for sequences, -1 for outputs), "
            f"got {v!r}; use scan for taps and outputs that are not fed back"
        )
    return as_tensor_variable(v)


def _min(a: Any, b: Any) -> Variable:
    from .elemwise import elemwise

    return elemwise("minimum", a, b)
