"""Reproducible random numbers: ``fc.RandomStream(seed)``.

Each call of a random variable draws from fresh numpy ``SFC64`` generators (C code) seeded by
``SeedSequence((seed, the variable's number in its stream, the call's number))``, and a normal
draw by blocks of NORMAL_BLOCK elements, block j from the seed with j appended: a counter-based
scheme whose counter, the number of calls so far, lives in a shared variable that the compiled
function advances on every call (a *default update*: ``fc.function`` adds it without being
told). The numbers are therefore a function of the seed and of how many calls came before,
only: the same on every host and platform numpy supports, with 1 or many threads (a large
normal draw fills its blocks in parallel, each from its own seed), on a cache hit in another
process, and after a pickle round trip (pickles carry the counter's value). SFC64 rather than
Philox: numpy's ziggurat normal over SFC64 is faster than over its default PCG64, while
Philox-4x64 is slower than both.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType, is_float, is_int, normalize_dtype
from .basic import as_tensor_variable, constant
from .shape_ops import as_shape_vector

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["RandomStream", "RandomVariable"]

#: Elements per independently seeded block of a normal draw: large enough that seeding one
#: (about 10 us) is noise next to drawing it, small enough to stay in cache and to spread a
#: large draw over the threads. Part of the stream's definition: changing it changes numbers.
NORMAL_BLOCK = 1 << 16

#: threads -> the pool that fills a large draw's blocks (emptied in a forked child, whose copy
#: of a pool has no threads)
_POOLS: dict[int, ThreadPoolExecutor] = {}
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.clear)


def _each_block(fill: Callable[[int], None], blocks: int) -> None:
    """``fill(j)`` for every block j, on up to ``config.threads`` threads (0: every core)."""
    threads = min(blocks, int(config.threads) or os.cpu_count() or 1)
    if threads <= 1:
        for j in range(blocks):
            fill(j)
        return
    pool = _POOLS.get(threads)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor  # not on a cache hit's import path
        pool = _POOLS.setdefault(threads, ThreadPoolExecutor(threads, "fncache-random"))
    list(pool.map(fill, range(blocks)))


#: distribution -> names of its parameters, in input order
_PARAMS = {"uniform": ("low", "high"), "normal": ("loc", "scale"), "integers": ("low", "high"),
           "choice": ("a", "p"), "permutation": ("x",)}


class RandomVariable(Op):
    """One draw of ``dist`` from the SFC64 generator seeded by (``key``, the counter).

    Inputs: the counter (a uint64 scalar: the calls so far), the requested size (an int64
    vector; ``has_size`` false: numpy's ``size=None``) and the distribution's parameters.
    Outputs: the advanced counter and the sample.
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
                     [TensorType("uint64", ()), TensorType(self.dtype, static)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        counter, size, *params = inputs
        call = int(counter)
        shape = tuple(int(s) for s in size) if self.has_size else None
        p = [q[()] if q.ndim == 0 else q for q in params]
        try:
            if self.dist == "normal":
                sample = self._normal((*self.key, call), shape, p[0], p[1])
            else:
                seed = np.random.SeedSequence((*self.key, call))
                sample = self._draw(np.random.Generator(np.random.SFC64(seed)), shape, p)
        except ValueError as e:
            raise ValueError(f"{self}: {e}") from None
        new = np.array((call + 1) % (1 << 64), dtype=np.uint64)
        return [new, np.asarray(sample, dtype=self.dtype)]

    def _normal(self, seed: tuple[int, ...], shape: tuple | None, loc: Any,
                scale: Any) -> np.ndarray:
        """loc + scale * z, z numpy's ziggurat standard normals in the output dtype, block j
        of NORMAL_BLOCK elements (C order) drawn from SFC64 seeded by (*seed, j): blocks fill
        in parallel and the numbers do not depend on the thread count."""
        loc, scale = np.asarray(loc), np.asarray(scale)
        if np.any(scale < 0):
            raise ValueError("scale < 0")
        try:
            full = np.broadcast_shapes(loc.shape, scale.shape, () if shape is None else shape)
        except ValueError:
            full = None
        if full is None or (shape is not None and full != shape):
            where = "together" if shape is None else f"to size {shape}"
            raise ValueError(f"loc and scale of shapes {loc.shape} and {scale.shape} do not "
                             f"broadcast {where}")
        shape = full
        out = np.empty(shape, self.dtype)
        flat, kind = out.reshape(-1), out.dtype.type
        scalar = loc.ndim == 0 and scale.ndim == 0

        def fill(j: int) -> None:
            block = flat[j * NORMAL_BLOCK:(j + 1) * NORMAL_BLOCK]
            gen = np.random.Generator(np.random.SFC64(np.random.SeedSequence((*seed, j))))
            gen.standard_normal(out=block, dtype=out.dtype)
            if scalar:          # numpy's normal: loc + scale * z, in the output dtype
                np.multiply(block, kind(scale), out=block)
                np.add(block, kind(loc), out=block)

        _each_block(fill, -(-flat.size // NORMAL_BLOCK))
        return out if scalar else loc + scale * out

    def _draw(self, gen: np.random.Generator, shape: tuple | None, p: list) -> Any:
        if self.dist == "uniform":
            return gen.uniform(p[0], p[1], size=shape)
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
        counter = shared(np.array(0, dtype=np.uint64), name=f"rng_{self.seed}_{k}")
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
