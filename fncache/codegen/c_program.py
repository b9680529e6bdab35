"""The layout of the program fncache's C run-time executes: the Python half of ``c_runtime.h``.

The run-time reads a program as nested tuples (``c_runtime.c``: ``parse_program``,
``parse_step``); this module is the one place Python builds them.  ``PROGRAM_FORMAT`` and
``STEP_FORMAT`` are the run-time's ``PyArg_ParseTuple`` formats, ``STEP_KINDS`` its enum of step
kinds; ``tests/test_c_runtime.py`` checks that the two sides agree.  This file is one of the
run-time's sources (``c_linker.RUNTIME_SOURCES``, ``setup.py``): a layout changed here without
rebuilding the run-time is refused when the run-time is loaded, as a change to the C side is.
"""

from __future__ import annotations

from typing import Sequence

__all__ = [
    "STEP_KINDS",
    "STEP_FORMAT",
    "STEP_KERNELS",
    "PROGRAM_FORMAT",
    "step",
    "program",
    "c_text",
    "ST_ELEMWISE",
    "ST_REDUCE",
    "ST_DOT",
    "ST_ARGREDUCE",
    "ST_DIMSHUFFLE",
    "ST_PERFORM",
    "ST_SUM_TO_SHAPE",
    "ST_REDUCED_SIZE",
    "ST_ROWPASS",
    "ST_SHAPE",
    "ST_RESHAPE",
    "ST_SUBTENSOR_GRAD",
    "ST_SUBTENSOR",
    "ST_MAKE_VECTOR",
    "ST_ALLOC",
    "ST_CONCATENATE",
    "ST_SPECIFY_SHAPE",
    "ST_ASSERT",
    "ST_ARANGE",
    "ST_TENSORDOT",
    "ST_ADV_INDEX",
    "ST_CUMOP",
    "ST_EYE",
    "ST_REPEAT",
    "ST_TILE",
    "ST_REPEAT_GRAD",
    "ST_SORT",
    "ST_SORT_GRAD",
    "ST_MATMUL",
    "ST_POOL",
    "ST_RANDOM",
    "RANDOM_DISTS",
]

(
    ST_ELEMWISE,
    ST_REDUCE,
    ST_DOT,
    ST_ARGREDUCE,
    ST_DIMSHUFFLE,
    ST_PERFORM,
    ST_SUM_TO_SHAPE,
    ST_REDUCED_SIZE,
    ST_ROWPASS,
    ST_SHAPE,
    ST_RESHAPE,
    ST_SUBTENSOR_GRAD,
    ST_SUBTENSOR,
    ST_MAKE_VECTOR,
    ST_ALLOC,
    ST_CONCATENATE,
    ST_SPECIFY_SHAPE,
    ST_ASSERT,
    ST_ARANGE,
    ST_TENSORDOT,
    ST_ADV_INDEX,
    ST_CUMOP,
    ST_EYE,
    ST_REPEAT,
    ST_TILE,
    ST_REPEAT_GRAD,
    ST_SORT,
    ST_SORT_GRAD,
    ST_MATMUL,
    ST_POOL,
    ST_RANDOM,
) = range(31)

#: ``c_runtime.h``'s step kinds, by their C names.
STEP_KINDS = {
    "ST_ELEMWISE": ST_ELEMWISE,
    "ST_REDUCE": ST_REDUCE,
    "ST_DOT": ST_DOT,
    "ST_ARGREDUCE": ST_ARGREDUCE,
    "ST_DIMSHUFFLE": ST_DIMSHUFFLE,
    "ST_PERFORM": ST_PERFORM,
    "ST_SUM_TO_SHAPE": ST_SUM_TO_SHAPE,
    "ST_REDUCED_SIZE": ST_REDUCED_SIZE,
    "ST_ROWPASS": ST_ROWPASS,
    "ST_SHAPE": ST_SHAPE,
    "ST_RESHAPE": ST_RESHAPE,
    "ST_SUBTENSOR_GRAD": ST_SUBTENSOR_GRAD,
    "ST_SUBTENSOR": ST_SUBTENSOR,
    "ST_MAKE_VECTOR": ST_MAKE_VECTOR,
    "ST_ALLOC": ST_ALLOC,
    "ST_CONCATENATE": ST_CONCATENATE,
    "ST_SPECIFY_SHAPE": ST_SPECIFY_SHAPE,
    "ST_ASSERT": ST_ASSERT,
    "ST_ARANGE": ST_ARANGE,
    "ST_TENSORDOT": ST_TENSORDOT,
    "ST_ADV_INDEX": ST_ADV_INDEX,
    "ST_CUMOP": ST_CUMOP,
    "ST_EYE": ST_EYE,
    "ST_REPEAT": ST_REPEAT,
    "ST_TILE": ST_TILE,
    "ST_REPEAT_GRAD": ST_REPEAT_GRAD,
    "ST_SORT": ST_SORT,
    "ST_SORT_GRAD": ST_SORT_GRAD,
    "ST_MATMUL": ST_MATMUL,
    "ST_POOL": ST_POOL,
    "ST_RANDOM": ST_RANDOM,
}

#: The distributions of ``fc.RandomStream`` an ``ST_RANDOM`` step draws, by their number there
#: (``c_random.c``'s ``RD_*``); the others run their perform.
RANDOM_DISTS = (
    "bernoulli",
    "binomial",
    "poisson",
    "exponential",
    "gamma",
    "beta",
    "lognormal",
    "laplace",
    "logistic",
    "gumbel",
    "truncated_normal",
    "halfnormal",
    "cauchy",
    "halfcauchy",
    "invgamma",
    "weibull",
    "pareto",
    "wald",
    "truncexpon",
    "triangular",
    "t",
    "gengamma",
    "geometric",
    "negative_binomial",
    "beta_binomial",
    "vonmises",
    "hypergeometric",
    "multivariate_normal",
)

#: (kind, in_slots, out_slots, dying_slots, ints, kernels, name, msg, nd, errcheck)
STEP_FORMAT = "iO!O!O!O!O!ssii"
#: Where a step holds its kernels' symbols.
STEP_KERNELS = 5
#: (n_slots, n_keep, inputs, const_slots, steps, out_slots, copies, single)
PROGRAM_FORMAT = "iiO!O!O!O!O!p"


def c_text(text: str) -> str:
    """A message the run-time holds as a C string (which cannot contain NUL)."""
    return text.replace("\0", "")


def step(
    kind: int,
    ins: Sequence[int],
    outs: Sequence[int],
    dying: Sequence[int],
    ints: Sequence[int],
    kernels: Sequence[str],
    name: str,
    msg: str,
    nd: int,
    errcheck: bool,
) -> tuple:
    """One step: a node's kind, its slots, the slots released after it, its kind's integer
    parameters, its kernels' symbols, its name and error message, its loop rank."""
    return (
        int(kind),
        tuple(ins),
        tuple(outs),
        tuple(dying),
        tuple(int(i) for i in ints),
        tuple(kernels),
        c_text(name),
        c_text(msg),
        int(nd),
        int(errcheck),
    )


def program(
    n_slots: int,
    n_keep: int,
    inputs: Sequence[tuple],
    const_slots: Sequence[int],
    steps: Sequence[tuple],
    outs: Sequence[int],
    copies: Sequence[int],
    single: bool,
) -> tuple:
    """A whole program: slot counts, the inputs' checks, where the constants go, the steps,
    where the outputs are and which must be copied, and whether one output is returned bare."""
    return (
        int(n_slots),
        int(n_keep),
        tuple(inputs),
        tuple(const_slots),
        tuple(steps),
        tuple(outs),
        tuple(copies),
        bool(single),
    )
