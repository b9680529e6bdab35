"""Reproducible random numbers: ``fc.RandomStream(seed)``.

uniform, normal, integers, choice and permutation are drawn here; the other distributions'
checks and transforms are in random_dists.

The numbers come from Philox4x64-10 (a counter-based generator: a block of four 64-bit words
is a pure function of a 256-bit counter and a 128-bit key) in fncache's C run-time
(codegen/c_random.c), with transforms of fncache's own: element i of call c of a stream's
variable k is a function of (seed, k), c and i only. The call number is a counter that lives in
a shared variable the compiled function advances by one on every call (a *default update*:
``fc.function`` adds it without being told). So the numbers are the same bits on every x86-64
host, with any number of threads (a draw is split into chunks by element index), with any numpy
version, on a cache hit in another process and after a pickle round trip (pickles carry the
counter's value).

PyTensor's functional draws (``pt.random.normal(rng=state, return_next_rng=True)``) draw the
same numbers from a random state, ``[seed, counter]`` (``type.py``, ``variable.py``): a
`RandomDraw` returns the next state instead of advancing a shared counter.
"""

from __future__ import annotations

import importlib
import math
from typing import Any, Sequence

import numpy as np

from ...config import config
from ...graph.args import as_int
from ...graph.basic import Apply, Op, Variable
from ...graph.types import TensorType, is_float, is_int, normalize_dtype
from ..basic import as_tensor_variable, constant
from ..elemwise import broadcast_shapes, broadcast_static_shape
from ..shape_ops import as_shape_vector, check_array_fits, constant_entries, static_int
from ..hooks import c_runtime
from ..random_dists import BOUNDED as _BOUNDED
from ..random_dists import DISTRIBUTIONS, Source
from ..random_dists import EXPONENTIAL as _EXPONENTIAL
from ..random_dists import NORMAL as _NORMAL
from ..random_dists import UNIFORM as _UNIFORM
from ..random_dists import fill as _fill
from .type import STATE_STREAM, random_generator_type

__all__ = [
    "COUNT_DISTS",
    "RandomDraw",
    "RandomStream",
    "RandomVariable",
    "STREAM_FORMAT",
    "StateDraws",
    "draws_made",
]

#: the draws every stream of this process has made (`scan` refuses a step function making one)
_draws = [0]


def draws_made() -> int:
    """How many random variables the streams of this process have made so far."""
    return _draws[0]


#: The version of the stream's definition (generator, counter layout, transforms): the same
#: seed gives the same numbers for the same version. 1: numpy's SFC64 and Generator (fncache
#: before this version); 2: Philox4x64-10 and fncache's transforms.
STREAM_FORMAT = 2


def _shuffled(n: int, k: int, key: tuple[int, int], call: int) -> np.ndarray:
    """The first k of a Fisher-Yates shuffle of range(n) (int64)."""
    out = np.empty(k, np.int64)
    c_runtime().random_shuffle(out, n, key, call)
    return out


def _sample_shape(shape: tuple | None, /, **params: np.ndarray) -> tuple:
    """``size``, or the parameters' broadcast shape without one; parameters must broadcast to
    ``size`` (numpy's rule)."""
    shapes = [np.shape(p) for p in params.values()]
    if shape is not None:
        if any(s < 0 for s in shape):
            raise ValueError(f"size {shape} has a negative entry; sizes are >= 0")
        check_array_fits("size", shape, 8, "draw fewer numbers at a time")
    full = broadcast_shapes(*shapes, () if shape is None else shape)
    if full is None or (shape is not None and full != shape):
        where = "together" if shape is None else f"to size {shape}"
        names = " and ".join(params)
        raise ValueError(f"{names} of shapes {' and '.join(map(str, shapes))} do not broadcast {where}")
    return full


def _check_format(op: Any) -> None:
    """Refuse to draw for an op made by an fncache of another STREAM_FORMAT (other numbers)."""
    if op.stream != STREAM_FORMAT:
        raise ValueError(
            f"{op}: this random variable was made by an fncache whose random "
            f"streams are format {op.stream}; this one draws format "
            f"{STREAM_FORMAT}, other numbers for the same seed. Build the "
            "function again from its graph to draw the new numbers, or load "
            "the pickle with the fncache that made it"
        )


def _sample_type(op: Any, size: Variable, params: Sequence[Variable]) -> TensorType:
    """The sample's type for a draw op (its ``dist``, ``dtype``, ``ndim``, ``has_size``): the
    static sizes ``size`` tells (its constant entries and static sizes read into it), and
    where it does not, those of the parameters it broadcasts (a run draws that shape or
    fails)."""
    if getattr(op, "seeded", False):
        params = params[:-1]  # the seed is no parameter
    dist = DISTRIBUTIONS.get(op.dist)
    n_batch = op.ndim - 1 if dist is not None and dist.core_out else op.ndim
    static: tuple = (None,) * n_batch
    if op.dist == "permutation":
        n = None if params[0].ndim else static_int(params[0])
        static = params[0].type.shape if params[0].ndim else (n if n is not None and n >= 0 else None,)
    elif op.dist != "choice":  # choice's parameters are the population, not the sample
        ndims = dist.ndims() if dist is not None else (0,) * len(params)
        try:
            static = broadcast_static_shape(
                [p.type.shape[: p.ndim - k] for p, k in zip(params, ndims)], op.dist
            )
        except ValueError:
            pass  # the draw raises numpy's error when it runs
    if op.has_size:
        entries = constant_entries(size) or (None,) * n_batch
        if any(s is not None and s < 0 for s in entries):
            raise ValueError(f"{op.dist}: size {entries} has a negative entry; sizes are >= 0")
        # the parameters broadcast to size: a parameter's size other than 1 is size's there
        lead = n_batch - len(static)
        static = tuple(
            e
            if e is not None or not 0 <= d - lead < len(static) or static[d - lead] == 1
            else static[d - lead]
            for d, e in enumerate(entries)
        )
    if len(static) != n_batch:
        static = (None,) * n_batch
    if dist is not None and dist.core_out:
        static = static + params[len(dist.params) - 1].type.shape[-1:]
    return TensorType(op.dtype, static)


class RandomVariable(Op):
    """One draw of ``dist`` from Philox keyed by ``key`` (seed, variable number) at the counter.

    Inputs: the counter (a uint64 scalar: the calls so far), the requested size (an int64
    vector; ``has_size`` false: numpy's ``size=None``), the distribution's parameters and, when
    ``seeded``, the stream's seed (a uint64 scalar, which then replaces the key's first word, so
    ``RandomStream.seed`` reaches compiled functions). Outputs: the advanced counter and the
    sample. ``stream``: the STREAM_FORMAT the op draws.
    """

    __props__ = ("dist", "dtype", "key", "ndim", "has_size", "replace", "endpoint", "stream", "seeded")
    #: ops unpickled from an fncache that predates these fields: exclusive high, format 1, the
    #: seed in the key only
    endpoint = False
    stream = 1
    seeded = False

    def __init__(
        self,
        dist: str,
        dtype: str,
        key: tuple[int, int],
        ndim: int,
        has_size: bool,
        replace: bool = True,
        endpoint: bool = False,
        seeded: bool = False,
    ) -> None:
        self.dist = dist
        self.dtype = dtype
        self.key = tuple(int(k) for k in key)
        self.ndim = ndim
        self.has_size = has_size
        self.replace = bool(replace)
        self.endpoint = bool(endpoint)
        self.stream = STREAM_FORMAT
        self.seeded = bool(seeded)

    def __str__(self) -> str:
        return f"Random{{{self.dist}, {self.dtype}}}"

    def make_node(self, counter: Variable, size: Variable, *params: Variable) -> Apply:
        return Apply(
            self,
            [counter, size, *params],
            [TensorType("uint64", ()), _sample_type(self, size, params)],
        )

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        _check_format(self)
        counter, size, *params = inputs
        call = int(counter)
        shape = tuple(int(s) for s in size) if self.has_size else None
        key = self.key
        if self.seeded:
            *params, seed = params
            key = (int(seed), key[1])
        draw = getattr(self, f"_{self.dist}", None) or self._transform
        try:
            sample = draw(key, call, shape, *params)
        except ValueError as e:
            raise ValueError(f"{self}: {e}") from None
        new = np.array((call + 1) % (1 << 64), dtype=np.uint64)
        return [new, np.asarray(sample, dtype=self.dtype)]

    def _affine(
        self, kind: int, key: tuple[int, int], call: int, shape: tuple, a: np.ndarray, b: np.ndarray
    ) -> np.ndarray:
        """uniform: a + (b - a) * u; normal: a + b * z -- in the output dtype, the scalar case
        in C and the broadcast case as the same operations in numpy (the same bits)."""
        out = np.empty(shape, self.dtype)
        if a.ndim == 0 and b.ndim == 0:
            return _fill(kind, out, key, call, float(a), float(b))
        x = _fill(kind, out, key, call)
        a, b = a.astype(self.dtype), b.astype(self.dtype)
        return a + (b - a) * x if kind == _UNIFORM else a + b * x

    def _uniform(
        self, key: tuple[int, int], call: int, shape: tuple | None, low: np.ndarray, high: np.ndarray
    ) -> np.ndarray:
        with np.errstate(all="ignore"):
            width = high.astype(self.dtype) - low.astype(self.dtype)
        if not np.all(np.isfinite(width)):
            raise ValueError(f"high - low must be finite in {self.dtype}")
        return self._affine(_UNIFORM, key, call, _sample_shape(shape, low=low, high=high), low, high)

    def _normal(
        self, key: tuple[int, int], call: int, shape: tuple | None, loc: np.ndarray, scale: np.ndarray
    ) -> np.ndarray:
        if np.any(scale < 0):
            raise ValueError("scale < 0")
        return self._affine(_NORMAL, key, call, _sample_shape(shape, loc=loc, scale=scale), loc, scale)

    def _integers(
        self, key: tuple[int, int], call: int, shape: tuple | None, low: np.ndarray, high: np.ndarray
    ) -> np.ndarray:
        full = _sample_shape(shape, low=low, high=high)
        lo, top = low.astype(object), high.astype(object)  # exact: any int64 or uint64 range
        if not self.endpoint:
            top = top - 1
        if np.any(lo > top):
            raise ValueError("the range is empty: low must be below high (at most high with endpoint=True)")
        info = np.iinfo(self.dtype)
        if np.any(lo < info.min) or np.any(lo > info.max):
            raise ValueError(f"low is out of bounds for {self.dtype}")
        if np.any(top > info.max) or np.any(top < info.min):
            raise ValueError(f"high is out of bounds for {self.dtype}")
        span = np.asarray(top - lo).astype(np.uint64)  # the largest offset, < 2**64
        base = np.asarray(lo % (1 << 64)).astype(np.uint64)
        out = np.empty(full, np.uint64)
        if span.ndim == 0:
            _fill(_BOUNDED, out, key, call, 0.0, int(span))
        else:
            _fill(_BOUNDED, out, key, call, 0.0, np.ascontiguousarray(np.broadcast_to(span, full)))
        out += base  # modulo 2**64: low + offset
        return (out.view(np.int64) if info.min < 0 else out).astype(self.dtype)

    def _choice(
        self, key: tuple[int, int], call: int, shape: tuple | None, a: np.ndarray, p: np.ndarray
    ) -> Any:
        k = math.prod(shape) if shape is not None else 1
        n = int(a) if a.ndim == 0 else len(a)
        probs = None if p.size == 0 else p
        if n <= 0 and k:
            raise ValueError(
                "a must be a positive integer unless no samples are taken"
                if a.ndim == 0
                else "a cannot be empty unless no samples are taken"
            )
        if probs is not None:
            probs = np.asarray(probs, dtype=np.float64)
            if probs.shape != (n,):
                raise ValueError(
                    f"a and p must have same size (p has shape {probs.shape}, a has {n} elements)"
                )
            if not np.all(probs >= 0) or not np.all(np.isfinite(probs)):
                raise ValueError("probabilities are not non-negative")
            if abs(math.fsum(probs) - 1.0) > np.sqrt(np.finfo(np.float64).eps):
                raise ValueError("probabilities do not sum to 1")
        if self.replace:
            if probs is None:
                idx = _fill(_BOUNDED, np.empty(k, np.uint64), key, call, 0.0, max(n - 1, 0))
            else:  # the inverse of the cumulative distribution at uniforms
                cdf = np.cumsum(probs)
                cdf /= cdf[-1]
                u = _fill(_UNIFORM, np.empty(k), key, call)
                idx = np.searchsorted(cdf, u, side="right")
        else:
            if k > n:
                raise ValueError("Cannot take a larger sample than population when replace is False")
            if probs is None:
                idx = _shuffled(n, k, key, call)
            else:  # successive draws proportional to p: the k first of exponential
                #             clocks E_j / p_j to ring (Efraimidis and Spirakis)
                if np.count_nonzero(probs) < k:
                    raise ValueError("Fewer non-zero entries in p than size")
                e = _fill(_EXPONENTIAL, np.empty(n), key, call)
                with np.errstate(divide="ignore"):
                    idx = np.argsort(e / probs, kind="stable")[:k]
        idx = np.asarray(idx, dtype=np.intp).reshape(() if shape is None else shape)
        return idx if a.ndim == 0 else a[idx]

    def _permutation(self, key: tuple[int, int], call: int, shape: tuple | None, x: np.ndarray) -> np.ndarray:
        if x.ndim == 0:
            if int(x) < 0:
                raise ValueError(f"x must be a non-negative integer or an array, got {int(x)}")
            return _shuffled(int(x), int(x), key, call)
        return x[_shuffled(len(x), len(x), key, call)]

    def _transform(
        self, key: tuple[int, int], call: int, shape: tuple | None, *params: np.ndarray
    ) -> np.ndarray:
        """The distributions of random_dists: checked, broadcast against ``size`` (a parameter
        with a category axis by its other axes) and drawn flat."""
        dist = DISTRIBUTIONS[self.dist]
        named = dict(zip(dist.params, params))
        ndims = dist.ndims()
        batch = {
            name: v if k == 0 else np.broadcast_to(np.zeros(()), v.shape[: v.ndim - k])
            for (name, v), k in zip(named.items(), ndims)
        }
        full = _sample_shape(shape, **batch)  # first: the checks may compare parameters
        dist.check(**named)
        count = math.prod(full)
        flat = [
            np.broadcast_to(v, full + v.shape[v.ndim - k :]).reshape(count, *v.shape[v.ndim - k :])
            for v, k in zip(params, ndims)
        ]
        with np.errstate(all="ignore"):  # the transforms' infinities are their values' edges
            sample = dist.sample(Source(key, call), np.arange(count), *flat)
        return sample.reshape(full + sample.shape[1:])


def _seed_value(seed: int | None, what: str) -> int:
    """A seed as the key's first word: a non-negative int, or a fresh one for None."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 63))
    if as_int(seed) is None or seed < 0:
        raise TypeError(f"{what}: seed must be a non-negative int, got {seed!r}")
    return as_int(seed) % (1 << 64)


def _draw_shape(dist: str, size: Any, params: Sequence[Variable]) -> tuple[Variable, int]:
    """A draw's size input (an int64 vector; empty for numpy's ``size=None``) and its sample's
    number of dims, from ``size`` or the parameters' (a category axis added where the
    distribution has one)."""
    ndims = DISTRIBUTIONS[dist].ndims() if dist in DISTRIBUTIONS else (0,) * len(params)
    if size is None:
        ndim = max((p.ndim - k for p, k in zip(params, ndims)), default=0)
        if dist == "choice":
            ndim = 0
        if dist == "permutation":
            ndim = max(params[0].ndim, 1)
        size_v: Variable = constant(np.zeros(0, dtype="int64"))
    else:
        size_v = as_shape_vector(size, f"{dist}: size")
        ndim = size_v.type.shape[0]
        if ndim is None:
            raise TypeError(f"{dist}: give size as ints or int scalars (its length must be known)")
    for p, k, name in zip(params, ndims, DISTRIBUTIONS[dist].params if dist in DISTRIBUTIONS else ()):
        if p.ndim >= k:
            continue
        if k == 1 and not DISTRIBUTIONS[dist].core_ndims:
            raise ValueError(f"{dist}: {name} must have a category axis (its last), got a scalar")
        raise ValueError(f"{dist}: {name} must have at least {k} axes (its core ones), got {p.type}")
    if dist in DISTRIBUTIONS and DISTRIBUTIONS[dist].core_out:
        ndim += 1
    return size_v, ndim


class _Draws:
    """The distributions, with numpy's parameters: each method checks its dtype and parameters
    and hands the draw to ``_make``, which a source of random numbers defines (a
    ``RandomStream``'s variables advance their own counters; a random state's draws return the
    next state)."""

    def _make(
        self,
        dist: str,
        dtype: str,
        size: Any,
        params: Sequence[Variable],
        replace: bool = True,
        endpoint: bool = False,
    ) -> Variable:
        raise NotImplementedError

    @staticmethod
    def _float_dtype(dtype: Any, what: str) -> str:
        dt = normalize_dtype(dtype if dtype is not None else config.floatX, what)
        if not is_float(dt):
            raise TypeError(f"{what}: dtype must be float32 or float64, got {dt}")
        return dt

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Uniform on [low, high) (numpy ``Generator.uniform``)."""
        dt = self._float_dtype(dtype, "uniform")
        return self._make("uniform", dt, size, [as_tensor_variable(low), as_tensor_variable(high)])

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Normal with mean ``loc`` and standard deviation ``scale`` (``Generator.normal``)."""
        dt = self._float_dtype(dtype, "normal")
        return self._make("normal", dt, size, [as_tensor_variable(loc), as_tensor_variable(scale)])

    def integers(
        self, low: Any, high: Any = None, size: Any = None, dtype: Any = "int64", endpoint: bool = False
    ) -> Variable:
        """Integers in [low, high) (``Generator.integers``; one argument: [0, low));
        ``endpoint=True``: in [low, high]. Every range of the dtype can be drawn, the whole of
        uint64 as ``integers(0, 2**64)`` or ``integers(0, 2**64 - 1, endpoint=True)``."""
        if high is None:
            low, high = 0, low
        dt = normalize_dtype(dtype, "integers")
        if not is_int(dt):
            raise TypeError(f"integers: dtype must be an integer dtype, got {dt}")
        if not endpoint and as_int(high) is not None:
            # a constant high is kept inclusive, so 2**64 (no uint64) needs no constant
            high, endpoint = as_int(high) - 1, True
        lv, hv = as_tensor_variable(low), as_tensor_variable(high)
        for name, v in (("low", lv), ("high", hv)):
            if not is_int(v.dtype):
                raise TypeError(
                    f"integers: {name} must be an integer, got {v.type}; give "
                    "ints (round a float bound first)"
                )
        return self._make("integers", dt, size, [lv, hv], endpoint=endpoint)

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

    @staticmethod
    def _count_dtype(dtype: Any, what: str) -> str:
        """A dtype for counts and indices: any int or float dtype (Theano's dropout masks are
        often ``floatX``)."""
        dt = normalize_dtype(dtype, what)
        if not (is_int(dt) or is_float(dt)):
            raise TypeError(f"{what}: dtype must be an int or float dtype, got {dt}")
        return dt

    def _drawn(self, dist: str, dtype: str, size: Any, *params: Any) -> Variable:
        """A draw of a distribution of random_dists."""
        return self._make(dist, dtype, size, [as_tensor_variable(p) for p in params])

    def bernoulli(self, p: Any = 0.5, size: Any = None, dtype: Any = "int64") -> Variable:
        """1 with probability ``p``, else 0: element i is ``u_i < p`` for the uniform fill's
        ``u_i`` (PyTensor's ``bernoulli``)."""
        return self._drawn("bernoulli", self._count_dtype(dtype, "bernoulli"), size, p)

    def binomial(self, n: Any, p: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """Successes in ``n`` trials of probability ``p`` (``Generator.binomial``); ``size``
        may be symbolic (``x.shape``)."""
        return self._drawn("binomial", self._count_dtype(dtype, "binomial"), size, n, p)

    def poisson(self, lam: Any = 1.0, size: Any = None, dtype: Any = "int64") -> Variable:
        """Poisson with mean ``lam`` (``Generator.poisson``)."""
        return self._drawn("poisson", self._count_dtype(dtype, "poisson"), size, lam)

    def exponential(self, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Exponential with mean ``scale`` (``Generator.exponential``)."""
        return self._drawn("exponential", self._float_dtype(dtype, "exponential"), size, scale)

    def gamma(self, shape: Any, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Gamma with ``shape`` and ``scale`` (``Generator.gamma``; mean shape * scale)."""
        return self._drawn("gamma", self._float_dtype(dtype, "gamma"), size, shape, scale)

    def beta(self, a: Any, b: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Beta with ``a, b > 0`` (``Generator.beta``)."""
        return self._drawn("beta", self._float_dtype(dtype, "beta"), size, a, b)

    def standard_normal(self, size: Any = None, dtype: Any = None) -> Variable:
        """``normal(0.0, 1.0, size, dtype)``."""
        return self._make(
            "normal", self._float_dtype(dtype, "standard_normal"), size, [constant(0.0), constant(1.0)]
        )

    def truncated_normal(
        self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None
    ) -> Variable:
        """``loc + scale * z``, ``z`` a standard normal cut at 2: redrawn while ``|z| > 2``
        (Theano's ``MRG_RandomStreams.normal(truncate=True)``; its standard deviation is
        0.8796 ``scale``)."""
        dt = self._float_dtype(dtype, "truncated_normal")
        return self._drawn("truncated_normal", dt, size, loc, scale)

    def random_integers(self, low: Any, high: Any = None, size: Any = None, dtype: Any = "int64") -> Variable:
        """Integers in [low, high], both ends included (numpy's legacy ``random_integers``;
        one argument: [1, low])."""
        if high is None:
            low, high = 1, low
        return self.integers(low, high, size=size, dtype=dtype, endpoint=True)

    def lognormal(self, mean: Any = 0.0, sigma: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """exp of a normal with mean ``mean`` and standard deviation ``sigma``."""
        return self._drawn("lognormal", self._float_dtype(dtype, "lognormal"), size, mean, sigma)

    def laplace(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Laplace (double exponential): ``loc + scale * (E1 - E2)``."""
        return self._drawn("laplace", self._float_dtype(dtype, "laplace"), size, loc, scale)

    def logistic(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Logistic: ``loc + scale * (log E1 - log E2)`` (a difference of two Gumbels)."""
        return self._drawn("logistic", self._float_dtype(dtype, "logistic"), size, loc, scale)

    def gumbel(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Gumbel (largest extreme value): ``loc - scale * log E``."""
        return self._drawn("gumbel", self._float_dtype(dtype, "gumbel"), size, loc, scale)

    def multinomial(self, n: Any, pvals: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """Counts of ``n`` draws over the categories of ``pvals``' last axis, which must sum to
        1 (``Generator.multinomial``); ``n=1`` gives one-hot rows. The sample has ``size``
        (or the broadcast of ``n`` and ``pvals`` without its last axis) and the category axis."""
        return self._drawn("multinomial", self._count_dtype(dtype, "multinomial"), size, n, pvals)

    def dirichlet(self, alphas: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Dirichlet with concentrations ``alphas`` (last axis), each row summing to 1."""
        return self._drawn("dirichlet", self._float_dtype(dtype, "dirichlet"), size, alphas)

    def categorical(self, p: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """The index of a category drawn with the probabilities of ``p``'s last axis
        (PyTensor's ``categorical``)."""
        return self._drawn("categorical", self._count_dtype(dtype, "categorical"), size, p)

    def halfnormal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Half-normal: ``loc + scale * |z|`` (PyTensor's and scipy's ``halfnorm``)."""
        return self._drawn("halfnormal", self._float_dtype(dtype, "halfnormal"), size, loc, scale)

    def cauchy(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Cauchy: ``loc + scale * z1 / z2``, a ratio of two normals."""
        return self._drawn("cauchy", self._float_dtype(dtype, "cauchy"), size, loc, scale)

    def halfcauchy(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Half-Cauchy: ``loc + scale * |z1 / z2|``."""
        return self._drawn("halfcauchy", self._float_dtype(dtype, "halfcauchy"), size, loc, scale)

    def chisquare(self, df: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Chi-square with ``df`` degrees of freedom: ``gamma(df / 2, 2)``, as PyTensor builds it
        (the draw is a gamma)."""
        return self.gamma(as_tensor_variable(df) / 2.0, 2.0, size=size, dtype=dtype)

    def invgamma(self, shape: Any, scale: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Inverse gamma: ``scale / Gamma(shape, 1)`` (PyTensor's ``1 / gamma(shape, 1 /
        scale)``; mean ``scale / (shape - 1)``)."""
        return self._drawn("invgamma", self._float_dtype(dtype, "invgamma"), size, shape, scale)

    def weibull(self, shape: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Weibull of scale 1 (``Generator.weibull``): ``E ** (1 / shape)``."""
        return self._drawn("weibull", self._float_dtype(dtype, "weibull"), size, shape)

    def pareto(self, b: Any, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Pareto of shape ``b`` above ``scale`` (scipy's ``pareto``, PyTensor's): ``scale *
        U ** (-1 / b)``."""
        return self._drawn("pareto", self._float_dtype(dtype, "pareto"), size, b, scale)

    def wald(self, mean: Any = 1.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Wald (inverse Gaussian) of mean ``mean`` and shape ``scale`` (``Generator.wald``)."""
        return self._drawn("wald", self._float_dtype(dtype, "wald"), size, mean, scale)

    def truncexpon(
        self, b: Any, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None
    ) -> Variable:
        """Exponential cut at ``b`` (scipy's ``truncexpon``): ``loc + scale * x``, x on [0, b]."""
        return self._drawn("truncexpon", self._float_dtype(dtype, "truncexpon"), size, b, loc, scale)

    def triangular(self, left: Any, mode: Any, right: Any, size: Any = None, dtype: Any = None) -> Variable:
        """Triangular on [left, right] peaking at ``mode`` (``Generator.triangular``)."""
        return self._drawn("triangular", self._float_dtype(dtype, "triangular"), size, left, mode, right)

    def t(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None) -> Variable:
        """Student's t with ``df`` degrees of freedom, ``loc + scale * z / sqrt(chi2(df) /
        df)`` (scipy's ``t``)."""
        return self._drawn("t", self._float_dtype(dtype, "t"), size, df, loc, scale)

    def gengamma(
        self, alpha: Any = 1.0, p: Any = 1.0, lambd: Any = 1.0, size: Any = None, dtype: Any = None
    ) -> Variable:
        """Generalized gamma, density ``x**(alpha - 1) exp(-(x / lambd)**p)``: ``lambd *
        Gamma(alpha / p) ** (1 / p)`` (PyTensor's; scipy's ``gengamma(alpha / p, p, scale=lambd)``)."""
        return self._drawn("gengamma", self._float_dtype(dtype, "gengamma"), size, alpha, p, lambd)

    def vonmises(self, mu: Any, kappa: Any, size: Any = None, dtype: Any = None) -> Variable:
        """von Mises on [-pi, pi] about ``mu`` with concentration ``kappa``
        (``Generator.vonmises``)."""
        return self._drawn("vonmises", self._float_dtype(dtype, "vonmises"), size, mu, kappa)

    def geometric(self, p: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """Trials up to the first success, each of probability ``p`` in (0, 1]; at least 1
        (``Generator.geometric``)."""
        return self._drawn("geometric", self._count_dtype(dtype, "geometric"), size, p)

    def negative_binomial(self, n: Any, p: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """Failures before the ``n``-th success (``n > 0``, may be fractional), each trial of
        probability ``p`` in (0, 1] (``Generator.negative_binomial``, scipy's ``nbinom``)."""
        return self._drawn("negative_binomial", self._count_dtype(dtype, "negative_binomial"), size, n, p)

    nbinom = negative_binomial

    def betabinom(self, n: Any, a: Any, b: Any, size: Any = None, dtype: Any = "int64") -> Variable:
        """Beta-binomial: ``binomial(n, Beta(a, b))`` (scipy's ``betabinom``)."""
        return self._drawn("beta_binomial", self._count_dtype(dtype, "betabinom"), size, n, a, b)

    def hypergeometric(
        self, ngood: Any, nbad: Any, nsample: Any, size: Any = None, dtype: Any = "int64"
    ) -> Variable:
        """Good items among ``nsample`` drawn without replacement from ``ngood`` good and
        ``nbad`` bad ones (``Generator.hypergeometric``)."""
        return self._drawn(
            "hypergeometric", self._count_dtype(dtype, "hypergeometric"), size, ngood, nbad, nsample
        )

    def multivariate_normal(
        self, mean: Any, cov: Any, size: Any = None, method: str | None = None, dtype: Any = None
    ) -> Variable:
        """Multivariate normal: ``mean + A z`` with ``A A^T = cov`` from ``method``:
        "cholesky" (the default; cov positive definite), "eigh" or "svd" (positive
        semi-definite). ``mean`` (..., n) and ``cov`` (..., n, n) broadcast by their other axes;
        the sample has ``size`` (or that broadcast) and n."""
        method = "cholesky" if method is None else method
        if method not in ("cholesky", "eigh", "svd"):
            raise ValueError(
                f"multivariate_normal: method must be 'cholesky', 'eigh' or 'svd', got {method!r}"
            )
        dist = "multivariate_normal" + ("" if method == "cholesky" else f"_{method}")
        return self._drawn(dist, self._float_dtype(dtype, "multivariate_normal"), size, mean, cov)


class RandomStream(_Draws):
    """A seeded source of random variables (Theano's and PyTensor's ``RandomStream``).

    Each call (``rs.normal(size=(3, 4))``) returns a new random variable whose value changes on
    every call of a function using it, reproducibly: two streams with the same seed, built the
    same way, give the same numbers in any process and on any host.
    """

    def __init__(self, seed: int | None = None) -> None:
        from ..shared import shared

        self.default_instance_seed = _seed_value(seed, "RandomStream")
        #: the seed every variable of the stream draws with (``seed`` sets it)
        self.seed_var = shared(np.array(self.default_instance_seed, dtype=np.uint64), name="rng_seed")
        #: each variable's counter (its ``rng``) and the counter's advanced value, in the order
        #: the variables were made (Theano's and PyTensor's ``state_updates``)
        self.state_updates: list[tuple[Any, Variable]] = []
        #: PyTensor's ``gen_seedgen``: a ``SeedSequence`` of the seed, for code that derives
        #: further seeds from the stream's (the stream's own draws are keyed by its seed)
        self.gen_seedgen = np.random.SeedSequence(self.default_instance_seed)

    def seed(self, seed: int | None = None) -> None:
        """Seed the stream again (Theano's and PyTensor's ``seed``): every variable it made,
        in every function already compiled, and every one it makes later, draws from then on
        as a new ``RandomStream(seed)`` making the same variables would."""
        self.default_instance_seed = _seed_value(seed, "RandomStream.seed")
        self.gen_seedgen = np.random.SeedSequence(self.default_instance_seed)
        self.seed_var.set_value(np.array(self.default_instance_seed, dtype=np.uint64))
        for counter, _ in self.state_updates:
            counter.set_value(np.array(0, dtype=np.uint64))

    def _make(
        self,
        dist: str,
        dtype: str,
        size: Any,
        params: Sequence[Variable],
        replace: bool = True,
        endpoint: bool = False,
    ) -> Variable:
        from ..shared import shared

        size_v, ndim = _draw_shape(dist, size, params)
        k = len(self.state_updates)
        counter = shared(np.array(0, dtype=np.uint64), name=f"rng_{self.default_instance_seed}_{k}")
        op = RandomVariable(
            dist,
            dtype,
            (self.default_instance_seed, k),
            ndim,
            size is not None,
            replace,
            endpoint,
            seeded=True,
        )
        new_counter, sample = op(counter, size_v, *params, self.seed_var)
        counter.default_update = new_counter
        self.state_updates.append((counter, new_counter))
        # Theano's names on a draw: its generator's state (PyTensor's x.owner.inputs[0]) and
        # that state's update
        sample.rng = counter
        sample.update = (counter, new_counter)
        _draws[0] += 1
        return sample

    def updates(self) -> list[tuple[Any, Variable]]:
        """Each variable's counter and its advanced value (Theano's ``updates()``)."""
        return list(self.state_updates)


class RandomDraw(Op):
    """A draw from a random state (PyTensor's functional draws): inputs the state (``[seed,
    counter]``, a ``RandomGeneratorType`` value), the requested size and the distribution's
    parameters; outputs the next state ``[seed, counter + 1]`` and the sample. The sample is the
    one a ``RandomVariable`` keyed ``(seed, STATE_STREAM)`` draws at call ``counter``
    (:meth:`counter_op`; the ``random_state`` rewrite puts that op in its place, so compiled
    functions draw with the run-time's native steps)."""

    __props__ = ("dist", "dtype", "ndim", "has_size", "replace", "endpoint", "stream")

    def __init__(
        self, dist: str, dtype: str, ndim: int, has_size: bool, replace: bool = True, endpoint: bool = False
    ) -> None:
        self.dist = dist
        self.dtype = dtype
        self.ndim = ndim
        self.has_size = has_size
        self.replace = bool(replace)
        self.endpoint = bool(endpoint)
        self.stream = STREAM_FORMAT

    def __str__(self) -> str:
        return f"RandomDraw{{{self.dist}, {self.dtype}}}"

    def counter_op(self) -> RandomVariable:
        """The op drawing this op's sample from the state's counter, size, parameters and seed."""
        return RandomVariable(
            self.dist,
            self.dtype,
            (0, STATE_STREAM),
            self.ndim,
            self.has_size,
            self.replace,
            self.endpoint,
            seeded=True,
        )

    def make_node(self, state: Variable, size: Variable, *params: Variable) -> Apply:
        return Apply(self, [state, size, *params], [random_generator_type, _sample_type(self, size, params)])

    def perform(self, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
        _check_format(self)
        state, *rest = inputs
        seed, counter = np.array(state[0], dtype=np.uint64), np.array(state[1], dtype=np.uint64)
        new, sample = self.counter_op().perform(node, [counter, *rest, seed])
        return [np.array([seed, new], dtype=np.uint64), sample]


class StateDraws(_Draws):
    """The distributions drawn from the random state ``state`` (a ``RandomGeneratorType``
    variable): each method returns the sample, whose ``owner.outputs`` are ``(next state,
    sample)`` (``fncache.tensor.random.basic``'s functions and a state's methods return both)."""

    def __init__(self, state: Variable) -> None:
        self.state = state

    def _make(
        self,
        dist: str,
        dtype: str,
        size: Any,
        params: Sequence[Variable],
        replace: bool = True,
        endpoint: bool = False,
    ) -> Variable:
        size_v, ndim = _draw_shape(dist, size, params)
        op = RandomDraw(dist, dtype, ndim, size is not None, replace, endpoint)
        _, sample = op(self.state, size_v, *params)
        return sample


#: the distributions whose draws are counts (drawn in an int or a float ``dtype``): a draw is a
#: step function of the parameters (``u < p`` for the uniform fill's ``u``), so its gradient in
#: them is zero, whatever the dtype (an int draw has none to give), as Theano's MRG
#: ``binomial``'s (``cast(uniform < p, dtype)``)
COUNT_DISTS = frozenset(
    (
        "bernoulli",
        "binomial",
        "poisson",
        "multinomial",
        "categorical",
        "geometric",
        "negative_binomial",
        "beta_binomial",
        "hypergeometric",
    )
)

#: PyTensor's functions of ``pytensor.tensor.random`` (``pt.random.normal(0, 1, size=3)``):
#: each is the ``RandomStream`` method of the same name (``fncache/tensor/random/basic.py``)
DRAWS = (
    "uniform",
    "normal",
    "integers",
    "choice",
    "permutation",
    "bernoulli",
    "binomial",
    "poisson",
    "exponential",
    "gamma",
    "beta",
    "standard_normal",
    "truncated_normal",
    "random_integers",
    "lognormal",
    "laplace",
    "logistic",
    "gumbel",
    "multinomial",
    "dirichlet",
    "categorical",
    "halfnormal",
    "cauchy",
    "halfcauchy",
    "chisquare",
    "invgamma",
    "weibull",
    "pareto",
    "wald",
    "truncexpon",
    "triangular",
    "t",
    "gengamma",
    "vonmises",
    "geometric",
    "negative_binomial",
    "nbinom",
    "betabinom",
    "hypergeometric",
    "multivariate_normal",
)


#: PyTensor's random states (``pt.random.rng("rng")``, ``pt.random.shared_rng(seed=1)``), from
#: ``fncache/tensor/random/variable.py``
STATES = ("rng", "shared_rng", "RandomGeneratorVariable", "RandomGeneratorSharedVariable")


def __getattr__(name: str) -> Any:
    # PyTensor's module paths (``fncache.tensor.random.basic``, ``.utils``, ``.variable``,
    # ``.var``), the draws and the random states load on first use: a graph drawing from a
    # RandomStream needs none of them
    if name in ("basic", "utils", "variable", "var"):
        return importlib.import_module(f".{name}", __package__)
    if name in DRAWS:
        return getattr(importlib.import_module(".basic", __package__), name)
    if name in STATES:
        return getattr(importlib.import_module(".variable", __package__), name)
    if name == "default_rng":
        raise AttributeError(
            f"module {__name__!r} has no 'default_rng' (PyTensor's op making a numpy Generator "
            "in the graph): random states are data here; make one with shared_rng(seed=...) or "
            "fc.shared(np.random.default_rng(seed)), or a function input with rng('rng')"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
