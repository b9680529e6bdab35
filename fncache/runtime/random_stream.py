"""``fc.RandomStream(seed)``: a seeded source of random variables.

Each variable's Philox counter is a shared variable (``fncache.runtime.shared``) that the
compiled function advances on every call; the op that draws is ``fncache.tensor.random``'s.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Variable
from ..graph.types import is_float, is_int, normalize_dtype
from ..tensor.basic import as_tensor_variable, constant
from ..tensor.random import RandomVariable
from ..tensor.shape_ops import as_shape_vector
from .shared import shared

__all__ = ["RandomStream"]


class RandomStream:
    """A seeded source of random variables (Theano's and PyTensor's ``RandomStream``).

    Each call (``rs.normal(size=(3, 4))``) returns a new random variable whose value changes on
    every call of a function using it, reproducibly: two streams with the same seed, built the
    same way, give the same numbers in any process and on any host.
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (1 << 63))
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise TypeError(f"RandomStream: seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed) % (1 << 64)
        self.state_updates: list[tuple[Any, Variable]] = []

    def _make(self, dist: str, dtype: str, size: Any, params: Sequence[Variable],
              replace: bool = True) -> Variable:
        if size is None:
            ndim = max((p.ndim for p in params), default=0) if dist != "choice" else 0
            if dist == "permutation":
                ndim = max(params[0].ndim, 1)
            size_v: Variable = constant(np.zeros(0, dtype="int64"))
        else:
            size_v = as_shape_vector(size)
            ndim = size_v.type.shape[0]
            if ndim is None:
                raise TypeError(f"{dist}: give size as ints or int scalars (its length must be "
                                "known)")
        k = len(self.state_updates)
        counter = shared(np.zeros(4, dtype=np.uint64), name=f"rng_{self.seed}_{k}")
        op = RandomVariable(dist, dtype, (self.seed, k), ndim, size is not None, replace)
        new_counter, sample = op(counter, size_v, *params)
        counter.default_update = new_counter
        self.state_updates.append((counter, new_counter))
        return sample

    @staticmethod
    def _float_dtype(dtype: Any, what: str) -> str:
        dt = normalize_dtype(dtype if dtype is not None else config.floatX, what)
        if not is_float(dt):
            raise TypeError(f"{what}: dtype must be float32 or float64, got {dt}")
        return dt

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None,
                dtype: Any = None) -> Variable:
        """Uniform on [low, high) (numpy ``Generator.uniform``)."""
        dt = self._float_dtype(dtype, "uniform")
        return self._make("uniform", dt, size, [as_tensor_variable(low),
                                                as_tensor_variable(high)])

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None,
               dtype: Any = None) -> Variable:
        """Normal with mean ``loc`` and standard deviation ``scale`` (``Generator.normal``)."""
        dt = self._float_dtype(dtype, "normal")
        return self._make("normal", dt, size, [as_tensor_variable(loc),
                                               as_tensor_variable(scale)])

    def integers(self, low: Any, high: Any = None, size: Any = None,
                 dtype: Any = "int64") -> Variable:
        """Integers in [low, high) (``Generator.integers``; one argument: [0, low))."""
        if high is None:
            low, high = 0, low
        dt = normalize_dtype(dtype, "integers")
        if not is_int(dt):
            raise TypeError(f"integers: dtype must be an integer dtype, got {dt}")
        return self._make("integers", dt, size, [as_tensor_variable(low),
                                                 as_tensor_variable(high)])

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None) -> Variable:
        """Elements of the 1-D ``a`` (or of ``arange(a)`` for an int), with probabilities
        ``p`` (``Generator.choice``)."""
        av = as_tensor_variable(a)
        if av.ndim > 1:
            raise ValueError(f"choice: a must be an int or 1-D, got {av.type}")
        pv = as_tensor_variable(np.zeros(0) if p is None else p)
        dt = "int64" if av.ndim == 0 else av.dtype
        return self._make("choice", dt, size, [av, pv], replace)

    def permutation(self, x: Any) -> Variable:
        """A shuffled copy of ``x`` along its first axis, or of ``arange(x)`` for an int."""
        xv = as_tensor_variable(x)
        dt = "int64" if xv.ndim == 0 else xv.dtype
        return self._make("permutation", dt, None, [xv])
