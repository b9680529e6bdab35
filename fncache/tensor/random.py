"""The random-number op behind ``fc.RandomStream(seed)`` (the stream itself: ``fncache.runtime.random_stream``).

Each random variable a stream makes draws from its own Philox-4x64 counter-based generator
(numpy's ``np.random.Philox``, C code): the key is (seed, the variable's number in its stream)
and the 256-bit counter lives in a shared variable that the compiled function advances on every
call (a *default update*: ``fc.function`` adds it without being told). The numbers are therefore
a function of the seed and of how many calls came before, only: the same on every host and
platform numpy supports, with 1 or many threads (the draw itself is one numpy call), on a cache
hit in another process, and after a pickle round trip (pickles carry the counter's value).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.types import TensorType

__all__ = ["RandomVariable"]

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
