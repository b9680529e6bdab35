"""Theano's random streams by their names and signatures: ``RandomStreams`` (Theano's
``theano.tensor.shared_randomstreams``) and ``MRG_RandomStreams`` (``theano.sandbox.rng_mrg``).

Both draw from an ``fc.RandomStream`` -- the same numbers as it for the same seed and the same
variables made in the same order -- with Theano's argument order: ``size`` first, Theano's
parameter names (``avg``, ``std``, ``pvals``) and ``ndim``, the output's number of dimensions
where ``size`` does not say it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable
from .array_ops import argsort
from .basic import as_tensor_variable
from .elemwise import cast, elemwise
from .index_ops import permute_row_elements
from .pyop import check_value
from .random import RandomStream

__all__ = ["RandomStreams", "MRG_RandomStreams"]

#: the standard deviation of a standard normal cut at -2 and 2
_CUT_STD = 0.87962566103423978


def _size(size: Any, ndim: int | None, what: str) -> Any:
    """Theano's ``size``: None or () for the parameters' broadcast shape; a symbolic vector
    whose length is not known is split into ``ndim`` entries."""
    if size is None or (isinstance(size, (tuple, list)) and len(size) == 0):
        return None
    if isinstance(size, Variable) and size.ndim == 1:
        length = size.type.shape[0]
        if length is None:
            if ndim is None:
                raise TypeError(f"{what}: size {size} has no known length; pass ndim=its length")
            return [size[i] for i in range(ndim)]
        if ndim is not None and ndim != length:
            raise ValueError(
                f"{what}: ndim={ndim} but size has {length} entries; give ndim={length} or leave it out"
            )
        return size
    if ndim is not None:
        length = len(size) if isinstance(size, (tuple, list)) else 1
        if ndim != length:
            raise ValueError(
                f"{what}: ndim={ndim} but size {size!r} has {length} entries; give ndim={length} or leave it out"
            )
    return size


class RandomStreams:
    """Theano's ``RandomStreams(seed)``: ``srng.uniform(size, low, high)``, ``srng.normal(size,
    avg, std)``, ``srng.binomial(size, n, p)`` (the dropout mask ``srng.binomial(size=x.shape,
    n=1, p=keep)``), ``random_integers`` (both ends included), ``choice``, ``poisson``,
    ``permutation``, ``multinomial``, ``shuffle_row_elements``; ``seed(s)`` and ``updates()``. ``stream``: the
    ``fc.RandomStream`` it draws from."""

    def __init__(self, seed: int | None = None) -> None:
        self.stream = RandomStream(seed)
        #: Theano's ``gen_seedgen``: a ``numpy.random.RandomState`` of the seed, for code that
        #: draws further seeds from it (this stream's own draws are keyed by its seed)
        self.gen_seedgen = np.random.RandomState(self.stream.default_instance_seed % (1 << 32))

    @property
    def default_instance_seed(self) -> int:
        return self.stream.default_instance_seed

    @property
    def state_updates(self) -> list:
        return self.stream.state_updates

    def seed(self, seed: int | None = None) -> None:
        """Seed every variable made so far, and those made later, again (``RandomStream.seed``)."""
        self.stream.seed(seed)
        self.gen_seedgen.seed(self.stream.default_instance_seed % (1 << 32))

    def updates(self) -> list:
        return self.stream.updates()

    def uniform(
        self, size: Any = None, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None, dtype: Any = None
    ) -> Variable:
        return self.stream.uniform(low, high, size=_size(size, ndim, "uniform"), dtype=dtype)

    def normal(
        self, size: Any = None, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None, dtype: Any = None
    ) -> Variable:
        return self.stream.normal(avg, std, size=_size(size, ndim, "normal"), dtype=dtype)

    def binomial(
        self,
        size: Any = None,
        n: Any = 1,
        p: Any = 0.5,
        ndim: int | None = None,
        dtype: Any = "int64",
        prob: Any = None,
    ) -> Variable:
        """``prob``: Theano's older name of ``p``."""
        if prob is not None:
            p = prob
        return self.stream.binomial(n, p, size=_size(size, ndim, "binomial"), dtype=dtype)

    def random_integers(
        self, size: Any = None, low: Any = 0, high: Any = 1, ndim: int | None = None, dtype: Any = "int64"
    ) -> Variable:
        return self.stream.random_integers(low, high, size=_size(size, ndim, "random_integers"), dtype=dtype)

    def choice(
        self,
        size: Any = None,
        a: Any = 2,
        replace: bool = True,
        p: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Elements of ``a`` (an int: of ``range(a)``, in ``dtype``)."""
        draw = self.stream.choice(a, size=_size(size, ndim, "choice"), replace=replace, p=p)
        return draw if draw.owner.inputs[2].ndim or draw.dtype == dtype else cast(draw, dtype)

    def poisson(
        self, size: Any = None, lam: Any = 1.0, ndim: int | None = None, dtype: Any = "int64"
    ) -> Variable:
        return self.stream.poisson(lam, size=_size(size, ndim, "poisson"), dtype=dtype)

    def permutation(
        self, size: Any = None, n: Any = 1, ndim: int | None = None, dtype: Any = "int64"
    ) -> Variable:
        """A permutation of ``range(n)``; with a ``size``, one per entry of ``size`` (shape
        ``size + (n,)``), each the order that sorts ``n`` uniforms (as Theano's shape)."""
        shape = _size(size, ndim, "permutation")
        if shape is None:
            draw = self.stream.permutation(n)
        else:
            if isinstance(shape, Variable):
                shape = [shape[i] for i in range(shape.type.shape[0])]
            elif not isinstance(shape, (tuple, list)):
                shape = [shape]
            draw = argsort(self.stream.uniform(size=[*shape, n]), axis=-1)
        return draw if draw.dtype == dtype else cast(draw, dtype)

    def shuffle_row_elements(self, input: Any) -> Variable:
        """Theano's ``shuffle_row_elements``: ``input`` with the elements of each row (its
        last dim) in an order of their own, a ``permutation`` of the row's length per row; the
        result's ``permutation`` attribute is that draw (``out[..., i] = input[..., perm[..., i]]``)."""
        x = as_tensor_variable(input)
        if x.ndim < 1:
            raise TypeError(f"shuffle_row_elements: input must have at least 1 dimension, got {x.type}")
        perm = self.permutation(size=[x.shape[d] for d in range(x.ndim - 1)], n=x.shape[-1])
        shuffled = permute_row_elements(x, perm)
        shuffled.permutation = perm
        return shuffled

    def multinomial(
        self,
        size: Any = None,
        n: Any = 1,
        pvals: Any = (0.5, 0.5),
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Counts of ``n`` draws over each row of ``pvals`` (``n=1``: one-hot rows)."""
        return self.stream.multinomial(n, pvals, size=_size(size, ndim, "multinomial"), dtype=dtype)


class MRG_RandomStreams(RandomStreams):
    """Theano's ``MRG_RandomStreams(seed=12345)`` by its signatures (``nstreams`` is taken and
    has no effect: every element has its own Philox counter). Its numbers are fncache's, not
    MRG31k3p's."""

    def __init__(self, seed: int = 12345) -> None:
        super().__init__(seed)

    @property
    def rstate(self) -> np.ndarray:
        """Theano's MRG state, here the stream's seed (a uint64 0-d array). Setting it (from
        another stream's ``rstate``) keys every draw by that seed without rewinding any
        counter, so copying ``rstate`` and the counters of ``state_updates`` from another
        stream makes this one draw what it draws (Theano's ``copy_random_state``)."""
        return self.stream.seed_var.get_value()

    @rstate.setter
    def rstate(self, value: Any) -> None:
        seed = np.asarray(value)
        if seed.ndim != 0 or seed.dtype.kind not in "iu" or int(seed) < 0:
            raise TypeError(
                f"MRG_RandomStreams.rstate: expected another stream's rstate (a non-negative int), got {value!r}"
            )
        self.stream.seed_var.set_value(np.array(int(seed), dtype=np.uint64))

    def uniform(  # type: ignore[override]
        self,
        size: Any = None,
        low: Any = 0.0,
        high: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
        nstreams: Any = None,
    ) -> Variable:
        return super().uniform(size, low, high, ndim, dtype)

    def normal(  # type: ignore[override]
        self,
        size: Any = None,
        avg: Any = 0.0,
        std: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
        nstreams: Any = None,
        truncate: bool = False,
    ) -> Variable:
        """``truncate=True``: the normal cut at 2 ``std`` (redrawn beyond), whose standard
        deviation is then 0.8796 ``std``."""
        if truncate:
            return self.stream.truncated_normal(avg, std, size=_size(size, ndim, "normal"), dtype=dtype)
        return super().normal(size, avg, std, ndim, dtype)

    def truncated_normal(
        self,
        size: Any = None,
        avg: Any = 0.0,
        std: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
        nstreams: Any = None,
    ) -> Variable:
        """The normal cut at 2 standard deviations, scaled so its standard deviation is ``std``
        (the cut standard normal's is 0.87962566103423978)."""
        return self.normal(size, avg, std / _CUT_STD, ndim, dtype, truncate=True)

    def binomial(  # type: ignore[override]
        self,
        size: Any = None,
        n: Any = 1,
        p: Any = 0.5,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: Any = None,
    ) -> Variable:
        return super().binomial(size, n, p, ndim, dtype)

    def multinomial(  # type: ignore[override]
        self,
        size: Any = None,
        n: Any = 1,
        pvals: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: Any = None,
    ) -> Variable:
        if pvals is None:
            raise TypeError("multinomial: pass pvals, the probabilities of each row's categories")
        return super().multinomial(size, n, pvals, ndim, dtype)

    def choice(  # type: ignore[override]
        self,
        size: Any = 1,
        a: Any = None,
        replace: bool = True,
        p: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: Any = None,
    ) -> Variable:
        """Theano's MRG ``choice(size, p=pvals, replace=False)``: for each row of the matrix
        ``p`` (unnormalized probabilities), ``size`` distinct column indices drawn one after
        another, each with the remaining columns' probabilities (shape ``(rows, size)``). With
        ``a`` given (or ``p`` not a matrix) it is ``RandomStreams.choice``, which Theano's MRG
        stream did not have."""
        if a is not None or p is None or as_tensor_variable(p).ndim != 2:
            return super().choice(size, 2 if a is None else a, replace, p, ndim, dtype)
        if replace:
            raise ValueError(
                "MRG_RandomStreams.choice: a matrix p is drawn from without replacement only, as "
                "Theano's; pass replace=False"
            )
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice: ndim is not used with a matrix p; leave it out")
        return self._rows_without_replacement(as_tensor_variable(p), as_tensor_variable(size), dtype)

    def multinomial_wo_replacement(
        self,
        size: Any = None,
        n: Any = 0,
        pvals: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: Any = None,
    ) -> Variable:
        """Theano's older name of ``choice(size=n, p=pvals, replace=False)``."""
        if size is not None:
            raise ValueError(
                "multinomial_wo_replacement: size must be None; n is the number of draws per row"
            )
        return self.choice(n, None, False, pvals, ndim, dtype)

    def _rows_without_replacement(self, p: Variable, n: Variable, dtype: Any) -> Variable:
        """The ``n`` largest of ``log(p) + Gumbel noise`` per row, largest first: the order of
        successive draws without replacement (the Gumbel top-k). A column of probability 0 is
        never drawn, so each row needs ``n`` positive entries."""
        if n.ndim != 0 or n.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"MRG_RandomStreams.choice: size must be an int (draws per row), got {n.type}")
        positive = (p > 0).sum(axis=1).min()
        p = check_value(
            p,
            positive >= n,
            "MRG_RandomStreams.choice: {} draws without replacement per row, but a row of p has only {} "
            "positive probabilities; draw fewer or give more categories",
            n,
            positive,
        )
        keys = elemwise("log", p) + self.stream.gumbel(
            size=p.shape, dtype=p.dtype if p.dtype[:5] == "float" else None
        )
        draw = argsort(-keys, axis=1)[:, :n]
        return draw if draw.dtype == dtype else cast(draw, dtype)
