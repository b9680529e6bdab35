"""TensorVariable: operators and methods that build graph nodes."""

from __future__ import annotations

from typing import Any

from ..graph.basic import Constant, Variable, ancestors
from ..graph.types import TensorType, use_variable_classes
from .hooks import function_compiler

__all__ = ["TensorVariable", "TensorConstant", "Evaluable"]


def _ew(name: str, *args: Any) -> Variable:
    from .elemwise import elemwise

    if any(isinstance(a, Variable) and not isinstance(a.type, TensorType) for a in args):
        # a sparse matrix's own operators answer (``dense + sparse`` is fncache.sparse.add)
        return NotImplemented

    return elemwise(name, *args)


class Evaluable:
    """Mixin: ``x.eval()``, for tensors and the other variables of the front end (sparse
    matrices)."""

    def eval(self, inputs: dict | None = None) -> Any:
        """The value of this variable: compiles a function of the keys of ``inputs`` (once per
        set of keys, kept on the variable) and calls it with their values. A key may also be
        the name of one of the graph's inputs (PyTensor's ``y.eval({"x": [1.0, 2.0]})``)."""
        given = dict(inputs or {})
        if any(isinstance(k, str) for k in given):
            given = {self._input_named(k) if isinstance(k, str) else k: v for k, v in given.items()}
        keys = tuple(given)
        fns = self.__dict__.setdefault("_eval_fns", {})
        if keys not in fns:
            fns[keys] = function_compiler()(list(keys), self)
        return fns[keys](*[given[k] for k in keys])

    def _input_named(self, name: str) -> Variable:
        """The one input of this variable's graph (a root that is no constant) named ``name``."""
        roots = [v for v in ancestors([self]) if v.owner is None and not isinstance(v, Constant)]
        found = [v for v in roots if v.name == name]
        if len(found) != 1:
            named = sorted({v.name for v in roots if v.name})
            why = "no input" if not found else f"{len(found)} inputs"
            raise ValueError(
                f"eval: {why} of this graph is named {name!r}; give the variable itself as the key "
                f"(the named inputs are {named})"
            )
        return found[0]


class _TensorOps(Evaluable):
    """Mixin: numpy-like operators for symbolic tensors."""

    # numpy arrays and scalars on the left (``np.arange(3) - x``) must defer to our reflected
    # operators instead of broadcasting over the variable as an object.
    __array_ufunc__ = None

    def __add__(self, o):
        return _ew("add", self, o)

    def __radd__(self, o):
        return _ew("add", o, self)

    def __sub__(self, o):
        return _ew("sub", self, o)

    def __rsub__(self, o):
        return _ew("sub", o, self)

    def __mul__(self, o):
        return _ew("mul", self, o)

    def __rmul__(self, o):
        return _ew("mul", o, self)

    def __truediv__(self, o):
        return _ew("true_div", self, o)

    def __rtruediv__(self, o):
        return _ew("true_div", o, self)

    def __floordiv__(self, o):
        return _ew("floor_div", self, o)

    def __rfloordiv__(self, o):
        return _ew("floor_div", o, self)

    def __mod__(self, o):
        return _ew("mod", self, o)

    def __rmod__(self, o):
        return _ew("mod", o, self)

    def __divmod__(self, o):  # Theano's and PyTensor's: (x // o, x % o)
        return _ew("floor_div", self, o), _ew("mod", self, o)

    def __rdivmod__(self, o):
        return _ew("floor_div", o, self), _ew("mod", o, self)

    def __pow__(self, o):
        return _ew("pow", self, o)

    def __rpow__(self, o):
        return _ew("pow", o, self)

    def __neg__(self):
        return _ew("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew("abs", self)

    def __lt__(self, o):
        return _ew("lt", self, o)

    def __le__(self, o):
        return _ew("le", self, o)

    def __gt__(self, o):
        return _ew("gt", self, o)

    def __ge__(self, o):
        return _ew("ge", self, o)

    def __and__(self, o):
        return _ew("and_", self, o)

    def __rand__(self, o):
        return _ew("and_", o, self)

    def __or__(self, o):
        return _ew("or_", self, o)

    def __ror__(self, o):
        return _ew("or_", o, self)

    def __xor__(self, o):
        return _ew("xor", self, o)

    def __rxor__(self, o):
        return _ew("xor", o, self)

    def __invert__(self):
        return _ew("invert", self)

    def __lshift__(self, o):
        return _ew("lshift", self, o)

    def __rlshift__(self, o):
        return _ew("lshift", o, self)

    def __rshift__(self, o):
        return _ew("rshift", self, o)

    def __rrshift__(self, o):
        return _ew("rshift", o, self)

    def __matmul__(self, o):
        from .blas import matmul

        return matmul(self, o)

    def __rmatmul__(self, o):
        from .blas import matmul

        return matmul(o, self)

    # Variables hash by identity, so == cannot build a graph node: use ft.eq / ft.neq.
    __hash__ = Variable.__hash__

    def __len__(self):
        raise TypeError(
            f"object of type '{type(self).__name__}' has no len(): a symbolic variable's length "
            "is only known when the function runs. Use var.shape[0] instead."
        )

    def __iter__(self):
        """A vector whose length is known when the graph is built (``x.shape``, a constant, a
        ``specify_shape``'d vector) iterates over its entries, as in PyTensor: ``n, m =
        x.shape``. Other variables cannot be iterated."""
        from .constant_value import get_vector_length

        try:
            n = get_vector_length(self) if self.ndim == 1 else None
        except ValueError:
            n = None
        if n is None:
            raise TypeError(
                f"symbolic variable {self!r} cannot be iterated (only a vector of a length known when"
                " the graph is built can); index it (x[i]) or use ft.stack/ft.concatenate, and"
                " ft.sum/ft.max rather than Python's sum/max"
            )
        return iter([self[i] for i in range(n)])

    def __getitem__(self, idx):
        from .subtensor import getitem

        return getitem(self, idx)

    def set(self, y: Any) -> Variable:
        """``ft.set_subtensor(self, y)``: ``self`` is ``x[idx]`` (PyTensor's spelling)."""
        from .inc_subtensor import set_subtensor

        return set_subtensor(self, y)

    def inc(self, y: Any) -> Variable:
        """``ft.inc_subtensor(self, y)``: ``self`` is ``x[idx]`` (PyTensor's spelling)."""
        from .inc_subtensor import inc_subtensor

        return inc_subtensor(self, y)

    # -- shape ----------------------------------------------------------------------------
    @property
    def shape(self) -> Variable:
        from .shape_ops import shape

        return shape(self)

    @property
    def T(self) -> Variable:
        return self.transpose()

    @property
    def mT(self) -> Variable:
        """The transpose of the matrices on the last two dims (numpy's ``mT``)."""
        from .arrange import matrix_transpose

        return matrix_transpose(self)

    def transpose(self, *axes: Any) -> Variable:
        from .shape_ops import transpose

        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def swapaxes(self, axis1: Any, axis2: Any) -> Variable:
        from .shape_ops import swapaxes

        return swapaxes(self, axis1, axis2)

    def dimshuffle(self, *pattern: Any) -> Variable:
        from .shape_ops import dimshuffle

        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return dimshuffle(self, pattern)

    def reshape(self, *shape: Any, ndim: Any = None) -> Variable:
        from .shape_ops import reshape

        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return reshape(self, shape, ndim=ndim)

    def flatten(self, ndim: Any = 1) -> Variable:
        from .shape_ops import flatten

        return flatten(self, ndim)

    def astype(self, dtype: Any) -> Variable:
        from .elemwise import cast

        return cast(self, dtype)

    # -- reductions -----------------------------------------------------------------------
    def sum(
        self, axis: Any = None, dtype: Any = None, keepdims: Any = False, acc_dtype: Any = None
    ) -> Variable:
        from . import reduction

        return reduction.sum(self, axis=axis, keepdims=keepdims, dtype=dtype, acc_dtype=acc_dtype)

    def prod(
        self,
        axis: Any = None,
        dtype: Any = None,
        keepdims: Any = False,
        acc_dtype: Any = None,
        no_zeros_in_input: bool = False,
    ) -> Variable:
        from . import reduction

        return reduction.prod(
            self,
            axis=axis,
            keepdims=keepdims,
            dtype=dtype,
            acc_dtype=acc_dtype,
            no_zeros_in_input=no_zeros_in_input,
        )

    def max(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.min(self, axis=axis, keepdims=keepdims)

    def mean(
        self, axis: Any = None, dtype: Any = None, keepdims: Any = False, acc_dtype: Any = None
    ) -> Variable:
        from . import reduction

        return reduction.mean(self, axis=axis, keepdims=keepdims, dtype=dtype, acc_dtype=acc_dtype)

    def var(self, axis: Any = None, ddof: Any = 0, keepdims: Any = False, corrected: Any = False) -> Variable:
        from . import reduction

        return reduction.var(self, axis=axis, keepdims=keepdims, ddof=ddof, corrected=corrected)

    def std(self, axis: Any = None, ddof: Any = 0, keepdims: Any = False, corrected: Any = False) -> Variable:
        from . import reduction

        return reduction.std(self, axis=axis, keepdims=keepdims, ddof=ddof, corrected=corrected)

    def argmax(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.any(self, axis=axis, keepdims=keepdims)

    def norm(self, L: Any, axis: Any = None, keepdims: Any = False) -> Variable:
        from . import reduction

        return reduction.norm(self, L, axis=axis, keepdims=keepdims)

    # -- numpy's other array methods (Theano's and PyTensor's variables have them) ---------
    def copy(self, name: str | None = None) -> Variable:
        """A copy of the value (an identity node: the result never shares the input's memory),
        named ``name``."""
        out = _ew("identity", self)
        out.name = name
        return out

    def diagonal(self, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> Variable:
        from .array_ops import diagonal

        return diagonal(self, offset, axis1, axis2)

    def transfer(self, target: str) -> Variable:
        """PyTensor's ``x.transfer(target)``: ``ft.transfer(x, target)``."""
        from .basic import transfer

        return transfer(self, target)

    def trace(self, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> Variable:
        from .array_ops import trace

        return trace(self, offset, axis1, axis2)

    @property
    def size(self) -> Variable:
        """The number of elements (a symbolic int64 scalar)."""
        from . import reduction
        from .shape_ops import shape

        return reduction.prod(shape(self))

    def ravel(self) -> Variable:
        return self.flatten()

    def squeeze(self, axis: Any = None) -> Variable:
        from .array_ops import squeeze

        return squeeze(self, axis)

    def clip(self, a_min: Any, a_max: Any) -> Variable:
        from . import clip

        return clip(self, a_min, a_max)

    def round(self, mode: str | None = None) -> Variable:
        """PyTensor's ``x.round(mode)``: ``"half_to_even"`` (the default) or
        ``"half_away_from_zero"``."""
        from . import round

        return round(self, mode)

    def repeat(self, repeats: Any, axis: Any = None) -> Variable:
        from .array_ops import repeat

        return repeat(self, repeats, axis)

    def take(self, indices: Any, axis: Any = None, mode: Any = "raise") -> Variable:
        from .advanced_subtensor import take

        return take(self, indices, axis, mode)

    def fill(self, value: Any) -> Variable:
        """PyTensor's method: ``ft.fill(self, value)``, this tensor's shape filled with
        ``value``."""
        from .extra_ops import fill

        return fill(self, value)

    def sort(
        self, axis: Any = -1, kind: str | None = None, order: Any = None, *, stable: bool | None = None
    ) -> Variable:
        from .array_ops import sort

        return sort(self, axis, kind, order, stable=stable)

    def argsort(
        self, axis: Any = -1, kind: str | None = None, order: Any = None, *, stable: bool | None = None
    ) -> Variable:
        from .array_ops import argsort

        return argsort(self, axis, kind, order, stable=stable)

    def nonzero(self, return_matrix: Any = False) -> Any:
        from .data_ops import nonzero

        return nonzero(self, return_matrix)

    def nonzero_values(self) -> Variable:
        from .data_ops import nonzero_values

        return nonzero_values(self)

    def cumsum(self, axis: Any = None) -> Variable:
        from .array_ops import cumsum

        return cumsum(self, axis)

    def cumprod(self, axis: Any = None) -> Variable:
        from .array_ops import cumprod

        return cumprod(self, axis)

    def zeros_like(self, dtype: Any = None) -> Variable:
        from .creation import zeros_like

        return zeros_like(self, dtype)

    def ones_like(self, dtype: Any = None) -> Variable:
        from .creation import ones_like

        return ones_like(self, dtype)

    def dot(self, o: Any) -> Variable:
        from .blas import dot

        return dot(self, o)

    @property
    def real(self) -> Variable:
        return _ew("real", self)

    @property
    def imag(self) -> Variable:
        return _ew("imag", self)

    def conj(self) -> Variable:
        return _ew("conj", self)

    conjugate = conj

    def searchsorted(self, v: Any, side: str = "left", sorter: Any = None) -> Variable:
        from .data_ops import searchsorted

        return searchsorted(self, v, side, sorter)

    def choose(self, choices: Any, mode: str = "raise") -> Variable:
        from .extra_ops import choose

        return choose(self, choices, mode)

    def ptp(self, axis: Any = None, keepdims: bool = False) -> Variable:
        from .stat_reductions import ptp

        return ptp(self, axis, keepdims)


def _elementwise_method(name: str) -> Any:
    def method(self: _TensorOps) -> Variable:
        return _ew(name, self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``ft.{name}(x)`` as a method: ``x.{name}()`` (PyTensor's)."
    return method


# PyTensor's tensors have a method for each of these elementwise functions (``x.exp()``)
for _name in (
    "arccos arccosh arcsin arcsinh arctan arctanh ceil cos cosh deg2rad exp exp2 expm1 floor log "
    "log10 log1p log2 rad2deg sin sinh sqrt tan tanh trunc"
).split():
    setattr(_TensorOps, _name, _elementwise_method(_name))


class TensorVariable(_TensorOps, Variable):
    """A symbolic tensor."""


class TensorConstant(_TensorOps, Constant):
    """A constant tensor (its value is in ``.data``)."""


use_variable_classes(TensorVariable, TensorConstant)
