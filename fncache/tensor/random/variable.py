"""``fncache.tensor.random.variable``: PyTensor's random states as variables.

``rng("rng")`` is a symbolic state (a function input: give it ``state.get_value()`` or a numpy
``Generator``); ``shared_rng(seed=1)``, ``shared_rng(np.random.default_rng(1))`` and
``fc.shared(np.random.default_rng(1))`` are shared ones. A state's methods draw from it
(``next_rng, x = rng.normal()``), as ``pt.random.normal(rng=rng, return_next_rng=True)``
does. Values are ``[seed, counter]`` uint64 arrays (``fncache/tensor/random/type.py``): a
``Generator`` given for one is turned into its seed, so the numbers are fncache's, the same in
every process, and not numpy's.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from ...errors import PickleError
from ..shared import SharedVariable
from ..variable import TensorVariable
from . import DRAWS, basic
from .type import random_generator_type, state_from_generator

__all__ = ["RandomGeneratorVariable", "RandomGeneratorSharedVariable", "rng", "shared_rng"]

#: ``seed=`` not given (None is a seed: a fresh one)
UNSET: Any = object()


def _method(which: str) -> Callable[..., Any]:
    def method(self: "RandomGeneratorVariable", *args: Any, **kwargs: Any) -> Any:
        if self.tag.get("used"):
            # the same state drawn from twice gives the same numbers twice
            warnings.warn(
                f"random state {self!r} has already been drawn from: a second draw from it "
                "repeats the first one's numbers; draw from the next state the first draw "
                f"returned (next_rng, x = rng.{which}(...); next_rng.{which}(...))",
                UserWarning,
                stacklevel=2,
            )
        self.tag.used = True
        return getattr(basic, which)(*args, rng=self, return_next_rng=True, **kwargs)

    method.__name__ = which
    method.__qualname__ = f"RandomGeneratorVariable.{which}"
    method.__doc__ = f"``(next_rng, draw)``: ``pt.random.{which}(..., rng=self, return_next_rng=True)``."
    return method


class RandomGeneratorVariable(TensorVariable):
    """A random state (PyTensor's ``RandomGeneratorVariable``): ``next_rng, x = rng.normal(0,
    1, size=3)`` draws from it; each distribution of ``fncache.tensor.random`` is a method."""


for _which in DRAWS:
    setattr(RandomGeneratorVariable, _which, _method(_which))


def _state(value: Any, seed: Any, what: str) -> np.ndarray:
    """The state a ``Generator``, a state array or ``seed=`` (what ``np.random.default_rng``
    takes; None: fresh entropy) gives."""
    if value is None:
        if seed is UNSET:
            raise ValueError(f"{what}: give a numpy Generator, a state (rng.get_value()) or seed=")
        try:
            value = np.random.default_rng(seed)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"{what}: seed={seed!r} is not a seed np.random.default_rng takes ({e}); give an int >= 0"
            ) from None
    elif seed is not UNSET:
        raise ValueError(f"{what}: give a value or seed=, not both")
    if isinstance(value, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        return state_from_generator(value, what)
    return random_generator_type.convert(value, False, what)


class RandomGeneratorSharedVariable(SharedVariable, RandomGeneratorVariable):
    """A shared random state (PyTensor's ``RandomGeneratorSharedVariable``). Its value is the
    ``[seed, counter]`` array: ``get_value()`` saves it and ``set_value(saved)`` replays the
    draws from there; ``set_value(np.random.default_rng(s))`` or ``set_value(seed=s)`` seeds it
    again."""

    def __init__(self, value: np.ndarray, name: str | None = None) -> None:
        super().__init__(value, name=name, shape=(2,))
        self.type = random_generator_type

    @classmethod
    def from_pickle(
        cls, value: np.ndarray, name: str | None, shape: tuple, strict: bool
    ) -> RandomGeneratorSharedVariable:
        """A random state from its pickle: a state value (two uint64 words), nothing else."""
        if value.dtype != np.uint64 or value.shape != (2,):
            raise PickleError(
                f"the pickle of random state {name!r} is malformed: its value is {value.dtype} of "
                f"shape {value.shape}, not a state (two uint64 words)"
            )
        return cls(value, name)

    def set_value(self, new_value: Any = None, borrow: bool = False, *, seed: Any = UNSET) -> None:
        """Replace the state: a numpy ``Generator``, a state (``get_value()``), or ``seed=``
        (as ``np.random.default_rng(seed)``). An error keeps the old state."""
        what = f"random state {self.name or '<unnamed>'!r}: set_value"
        super().set_value(_state(new_value, seed, what))


def rng(name: str | None = None) -> RandomGeneratorVariable:
    """A symbolic random state (PyTensor's ``pt.random.rng``), a function input: a call gives it
    a state (``shared.get_value()``) or a numpy ``Generator``."""
    return random_generator_type(name)


def shared_rng(
    value: Any = None, *, seed: Any = UNSET, name: str | None = None, borrow: bool = False
) -> RandomGeneratorSharedVariable:
    """A shared random state (PyTensor's ``pt.random.shared_rng``) from a numpy ``Generator``
    (its seed: ``fncache.tensor.random.type.state_from_generator``; the generator is not
    advanced), a state array, or ``seed=`` (as ``np.random.default_rng(seed)``; None: a fresh
    one). ``borrow`` changes nothing: the state is always a new array."""
    return RandomGeneratorSharedVariable(_state(value, seed, f"shared_rng({name!r})"), name=name)
