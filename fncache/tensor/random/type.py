"""``fncache.tensor.random.type``, PyTensor's module path of ``RandomGeneratorType`` and
``random_generator_type``: the type of a random state (``pt.random.rng("rng")``,
``random_generator_type("rng")``, ``fc.shared(np.random.default_rng(seed))``).

A random state is two uint64 words, ``[seed, counter]``: a draw from it reads Philox4x64-10
keyed by ``(seed, STATE_STREAM)`` at call number ``counter`` (the numbers of
``fc.RandomStream``), and its next state is ``[seed, counter + 1]``. So a state is plain data:
it is the same bits in every process and on every host, it pickles and it keys the cache as any
array does, and no numpy ``Generator`` runs inside a compiled function. A numpy ``Generator``
given where a state belongs becomes the state :func:`state_from_generator` derives from it.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np

from ...graph.types import TensorType

__all__ = ["RandomGeneratorType", "random_generator_type", "state_from_generator", "STATE_STREAM"]

#: The key's second word of every draw from a random state (a ``RandomStream``'s draws have
#: their number in their stream there, from 0 up): below 2**31, as the run-time's native draw
#: steps take it
STATE_STREAM = 2**31 - 1


def state_from_generator(generator: Any, what: str) -> np.ndarray:
    """The state ``[seed, 0]`` of a numpy ``Generator``: its seed is the next 64-bit word of a
    copy of its bit generator (the generator itself is not advanced). Bit generators' words are
    stable across numpy versions, so ``np.random.default_rng(42)`` gives the same state, hence
    the same draws, in every process; they are fncache's numbers, not numpy's."""
    if isinstance(generator, np.random.RandomState):
        raise TypeError(
            f"{what}: got a numpy RandomState; random states are made from a numpy Generator "
            "(np.random.default_rng(seed)), as PyTensor's are"
        )
    if isinstance(generator, np.random.BitGenerator):
        raise TypeError(
            f"{what}: got a numpy {type(generator).__name__} bit generator; wrap it in a "
            "Generator first (np.random.Generator(bit_generator))"
        )
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{what}: expected a numpy Generator, got {type(generator).__name__}")
    seed = copy.deepcopy(generator.bit_generator).random_raw()
    return np.array([seed, 0], dtype=np.uint64)


class RandomGeneratorType(TensorType):
    """The type of a random state (PyTensor's ``RandomGeneratorType``): a uint64 vector of two
    words, ``[seed, counter]``. Calling it makes a symbolic state (a function input); a value
    given for one is such an array (``rng.get_value()``) or a numpy ``Generator``, converted by
    :func:`state_from_generator`."""

    __slots__ = ()
    #: One type, one repr: a graph's key reads it (canonical.type_text).
    _repr_is_identity: ClassVar[bool] = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__("uint64", (2,), name=name)

    def make_variable(self, name: str | None = None) -> Any:
        from .variable import RandomGeneratorVariable

        return RandomGeneratorVariable(self, name=name)

    def convert(
        self, value: Any, allow_downcast: bool | None, where: str, strict: bool = False
    ) -> np.ndarray:
        if isinstance(value, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
            return state_from_generator(value, where)
        return super().convert(value, allow_downcast, where, strict)

    def __repr__(self) -> str:
        return "RandomGeneratorType"

    def __reduce__(self):
        return (RandomGeneratorType, (self.name,))


#: PyTensor's ``random_generator_type``: ``random_generator_type("rng")`` is a symbolic state
random_generator_type = RandomGeneratorType()
