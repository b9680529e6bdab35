"""Reproducible random numbers: ``fc.RandomStream(seed)``.

Each random variable a stream makes draws from its own Philox-4x64 counter-based generator
(numpy's ``np.random.Philox``, C code): the key is (seed, the variable's number in its stream)
and the 256-bit counter lives in a shared variable that the compiled function advances on every
call (a *default update*: ``fc.function`` adds it without being told). The numbers are therefore
a function of the seed and of how many calls came before, only: the same on every host and
platform numpy supports, with 1 or many threads (the draw itself is one numpy call), on a cache
hit in another process, and after a pickle round trip (pickles carry the counter's value).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_float, is_int, normalize_dtype
from .basic import as_tensor_variable, constant
from .shape_ops import as_shape_vector

__all__ = ["RandomStream", "RandomVariable"]

#: distribution -> names of its parameters, in input order
_PARAMS = {"uniform": ("low", "high"), "normal": ("loc", "scale"), "integers": ("low", "high"),
           "choice": ("a", "p"), "permutation": ("x",)}


class RandomVariable(Op):
    """One draw of ``dist`` from the Philox generator with ``key``.

    Inputs: the counter (uint64, 4 words), the requested size (an int64 vector; ``has_size``
    false: numpy's ``size=None``) and the distribution's parameters. Outputs: the advanced
    counter and the sample.
    """

    __props__ = ("dist", "dtype", "key", "ndim", "has_size", "replace")

    def __init__(self, dist: str, dtype: str, key: tuple[int, int], ndim: int,
                 has_size: bool, replace: bool = True) -> None:
        self.dist = dist
        self.dtype = dtype
        self.key = tuple(int(k) for k in key)
        self.ndim = ndim
        self.has_size = has_size
        self.replace = bool(replace)

    def __str__(self) -> str:
        return f"Random{{{self.dist}, {self.dtype}}}"

    def make_node(self, counter: Variable, size: Variable, *params: Variable) -> Apply:
        static: tuple = (None,) * self.ndim
        if self.has_size and isinstance(size, Constant):
            static = tuple(int(s) for s in size.data)
        elif self.dist == "permutation" and params[0].ndim:
            static = params[0].type.shape
        return Apply(self, [counter, size, *params],
                     [TensorType("uint64", (4,)), TensorType(self.dtype, static)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        counter, size, *params = inputs
        bits = np.random.Philox(key=np.array(self.key, dtype=np.uint64),
                                counter=np.array(counter, dtype=np.uint64))
        gen = np.random.Generator(bits)
        shape = tuple(int(s) for s in size) if self.has_size else None
        try:
            sample = self._draw(gen, shape, [p[()] if p.ndim == 0 else p for p in params])
        except ValueError as e:
            raise ValueError(f"{self}: {e}") from None
        new = np.array(bits.state["state"]["counter"], dtype=np.uint64)
        return [new, np.asarray(sample, dtype=self.dtype)]

    def _draw(self, gen: np.random.Generator, shape: tuple | None, p: list) -> Any:
        if self.dist == "uniform":
            return gen.uniform(p[0], p[1], size=shape)
        if self.dist == "normal":
            if self.dtype == "float32" and np.ndim(p[0]) == 0 and np.ndim(p[1]) == 0:
                # numpy's float32 ziggurat: half the bits and time of a float64 draw
                return gen.standard_normal(shape, dtype=np.float32) * np.float32(p[1]) + \
                    np.float32(p[0])
            return gen.normal(p[0], p[1], size=shape)
        if self.dist == "integers":
            return gen.integers(p[0], p[1], size=shape, dtype=self.dtype)
        if self.dist == "choice":
            prob = None if np.size(p[1]) == 0 else p[1]
            return gen.choice(p[0], size=shape, replace=self.replace, p=prob)
        return gen.permutation(p[0])


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
        from .shared import shared
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
