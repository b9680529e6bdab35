"""Variable constructors: ``ft.vector``, ``ft.matrix``..., constants and conversions."""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

import numpy as np

from ..config import config
from ..errors import OutOfRangeError
from ..graph.args import as_int, entry_point, int_arg
from ..graph.basic import Variable
from ..graph.types import DTYPES, MAX_DIMS, TensorType, normalize_dtype, shape_entries
from .variable import TensorConstant, TensorVariable
from .scalar_ops import result_type
from .op_call import op_call

__all__ = [
    "tensor",
    "scalar",
    "vector",
    "matrix",
    "constant",
    "as_tensor_variable",
    "as_tensor",
    "tensor3",
    "tensor4",
]


def tensor(
    name: str | None = None,
    dtype: Any = None,
    ndim: int | None = None,
    shape: Sequence[int | bool | None] | None = None,
    broadcastable: Sequence[bool] | None = None,
) -> TensorVariable:
    """A symbolic input of ``dtype`` (default ``config.floatX``) with ``ndim`` dims.

    ``shape`` may give static sizes (``None`` for unknown); a static 1 marks a broadcastable dim
    (Theano's ``broadcastable=(False, True)`` is taken too).
    """
    if isinstance(name, (np.dtype, type)) or (isinstance(name, str) and name in DTYPES):
        raise TypeError(
            f"tensor(): the first argument is the name; did you mean tensor(dtype={name!r}, "
            "shape=...)? (Theano's tensor(dtype, broadcastable) is ft.TensorType(dtype, broadcastable))"
        )
    if name is not None and not isinstance(name, str):
        raise TypeError(f"tensor(): the name must be a str or None, got {name!r}")
    t = TensorType(normalize_dtype(dtype, f"tensor {name!r}"), shape, broadcastable=broadcastable)
    if shape is None and broadcastable is None:
        if ndim is None:
            raise TypeError("tensor(): give ndim (or shape)")
        t = t.clone(shape=(None,) * int_arg(ndim, "tensor()", "ndim", minimum=0, maximum=MAX_DIMS))
    elif ndim is not None and ndim != t.ndim:
        raise TypeError(f"tensor(): ndim={ndim} does not match shape={t.shape}")
    return t.make_variable(name)


_KINDS = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    **{f"tensor{n}": (None,) * n for n in range(3, 8)},
}


def _kind(kind: str, default: tuple[int | None, ...]):
    """``ft.vector`` & co.: a variable of ``len(default)`` dims, ``shape`` giving static sizes
    (a row's first dim and a col's second are 1)."""
    ndim = len(default)

    def make(
        name: str | None = None, dtype: Any = None, shape: Sequence[int | None] | None = None
    ) -> TensorVariable:
        if shape is None:
            shape = default
        elif len(shape := shape_entries(shape, f"{kind}()")) != ndim:
            raise ValueError(f"{kind}(): shape {tuple(shape)} has {len(shape)} entries, a {kind} has {ndim}")
        for d, s in enumerate(default):
            if s == 1 and shape[d] != 1:
                raise ValueError(f"{kind}: dim {d} of a {kind} is 1, got shape {tuple(shape)}; use ft.matrix")
        return tensor(name, dtype, shape=shape)

    make.__name__ = make.__qualname__ = kind
    make.__doc__ = f"A symbolic {kind} (dtype default config.floatX)."
    return make


scalar, vector, matrix, row, col, tensor3, tensor4, tensor5, tensor6, tensor7 = (
    _kind(k, shape) for k, shape in _KINDS.items()
)


def refuse_type(value: Any, what: str) -> None:
    """A type given where a value or variable belongs (``ft.exp(ft.dvector)``): the types are
    callable, and forgetting the call is easy when porting Theano code."""
    if isinstance(value, TensorType):
        raise TypeError(
            f"{what}: got the type {value!r}, not a variable; call it to make one (e.g. x = ft.dvector('x'))"
        )


def refuse_python_bool(value: Any, what: str) -> None:
    """A Python bool given where a tensor belongs. ``==`` and ``!=`` between symbolic variables
    compare identity (a graph holds its variables by identity, as Theano's and PyTensor's do)
    and give a Python bool, so taking one as a constant would make ``ft.mean(pred == y)``
    silently ``mean(False)``: refused, as PyTensor's ``as_tensor_variable`` refuses it. A
    constant bool is explicit: ``np.bool_(True)``, ``ft.constant(True)`` or a list of bools."""
    if isinstance(value, bool):
        raise TypeError(
            f"{entry_point(what)}: got the Python bool {value!r} where a tensor is expected; it "
            "probably comes from == or != between symbolic variables, which compare identity: use "
            f"ft.eq(a, b) or ft.neq(a, b) to compare elementwise (or give np.bool_({value!r}) or "
            f"ft.constant({value!r}) for a constant)"
        )


def as_array(value: Any, dtype: Any = None) -> np.ndarray:
    """``value`` as numpy takes it to make a constant: numpy's ValueError of a ragged nested
    list (and its TypeError of a value that takes no dtype) named after the function the user
    called, with the fix."""
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise ValueError(
            f"{entry_point('constant()')}: cannot make an array of {value!r}: {e}; give a number, "
            "a nested list whose rows all have one length, an array or a symbolic variable"
        ) from None
    if dtype is None:
        return arr
    target = np.dtype(dtype)
    if not _in_range(arr, target):
        # numpy's cast would wrap 300 into an int8 44 (or make 1e300 a float32 inf): a
        # constant of another value than the one written
        raise OutOfRangeError(
            f"{entry_point('constant()')}: {value!r} does not fit dtype {target.name}; give "
            f"values in its range, or a wider dtype"
        )
    try:
        return np.asarray(value, dtype=target)
    except OverflowError:  # a Python int beyond int64, which numpy holds as an object
        raise OutOfRangeError(
            f"{entry_point('constant()')}: {value!r} does not fit dtype {target.name}; give "
            f"values in its range, or a wider dtype"
        ) from None


def _in_range(arr: np.ndarray, target: np.dtype) -> bool:
    """Whether the values of ``arr`` lie in ``target``'s range (a real ``target``): an
    infinity or a NaN only in a float one."""
    if arr.size == 0 or arr.dtype.kind not in "biuf" or target.kind not in "iuf":
        return True
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if finite.size < arr.size and target.kind != "f":
        return False
    if finite.size == 0:
        return True
    info = np.iinfo(target) if target.kind in "iu" else np.finfo(target)
    return bool(finite.min() >= info.min and finite.max() <= info.max)


def constant(
    value: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None
) -> TensorConstant:
    """A constant. Python floats become ``config.floatX`` unless ``dtype`` is given. ``ndim``
    (PyTensor's) adds leading dims of size 1, or drops them, to reach it."""
    if isinstance(value, Variable):
        raise TypeError(f"constant(): {value!r} is already symbolic")
    refuse_type(value, "constant()")
    if dtype is None and isinstance(value, float):
        dtype = config.floatX
    arr = as_array(value, dtype)
    if arr.dtype.kind in "OUSV":
        raise TypeError(
            f"{entry_point('constant()')}: cannot make a numeric constant from {value!r} (numpy dtype "
            f"{arr.dtype}); give a number, a (nested) list of numbers, an array or a symbolic variable"
        )
    dt = normalize_dtype(arr.dtype, "constant")
    arr = arr.astype(dt, copy=False)
    if ndim is not None:
        ndim = int_arg(ndim, "constant", "ndim", minimum=0)
        lead = arr.shape[: max(arr.ndim - ndim, 0)]
        if any(d != 1 for d in lead):
            raise ValueError(
                f"{entry_point('constant')}(): ndim={ndim} would drop the leading dims of sizes {lead} of a value of "
                f"shape {arr.shape}; only dims of size 1 can be dropped: give a value of {ndim} dims"
            )
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape[len(lead) :])
    return TensorConstant(TensorType(dt, arr.shape), arr, name=name)


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None) -> Variable:
    """Variables pass through; numbers, lists and arrays become constants, and a list or
    tuple holding a variable (``[x.shape[0], 2]``) is its entries stacked, as PyTensor's.
    ``ndim`` (as PyTensor's): leading dims known to be 1 are dropped, or broadcastable ones
    added, to reach it."""
    if ndim is not None:
        ndim = int_arg(ndim, "as_tensor_variable", "ndim", minimum=0, maximum=MAX_DIMS)
    if isinstance(x, Variable):
        v = x
        no_value = getattr(v.type, "no_value", None)
        if no_value is not None:  # a gradient placeholder (NullType, DisconnectedType)
            raise TypeError(f"{v!r} is {no_value}")
    elif isinstance(x, (list, tuple)) and _holds_variable(x):
        from .shape_ops import stack

        v = stack(weak_numbers_cast([as_tensor_variable(e) if not _is_number(e) else e for e in x]))
        if name is not None:
            v.name = name
    else:
        refuse_python_bool(x, "as_tensor_variable")
        return constant(x, name=name, ndim=ndim)  # a value is a constant of ndim dims, as PyTensor's
    if ndim is None or v.ndim == ndim:
        return v
    from .shape_ops import dimshuffle

    extra = v.ndim - ndim
    if extra < 0:
        return dimshuffle(v, ["x"] * -extra + list(range(v.ndim)))
    if any(s != 1 for s in v.type.shape[:extra]):
        raise ValueError(
            f"as_tensor_variable: {v!r} ({v.type}) has {v.ndim} dims, and ndim={ndim} was asked; "
            "only leading dims known to be 1 can be dropped (index or reshape it instead)"
        )
    return dimshuffle(v, list(range(extra, v.ndim)))


as_tensor = as_tensor_variable


def _is_number(e: Any) -> bool:
    return isinstance(e, (bool, int, float, complex)) and not isinstance(e, np.generic)


def weak_numbers_cast(entries: list) -> list[Variable]:
    """Python numbers among tensors made constants of the dtype they take with them (numpy's
    NEP 50, as for an operator: ``[float32 scalar, 1.5]`` is float32); a number that does not
    fit that dtype keeps its own. A Python bool is refused (:func:`refuse_python_bool`)."""
    tensors = [np.dtype(e.dtype) for e in entries if isinstance(e, Variable)]
    out = []
    for e in entries:
        if isinstance(e, Variable):
            out.append(e)
            continue
        refuse_python_bool(e, "as_tensor_variable")
        try:
            dt = result_type(*tensors, e)
            data = np.asarray(e, dtype=dt)
            fits = data == e
        except (OverflowError, TypeError):
            fits = False
        out.append(constant(data if fits else e))
    return out


def _holds_variable(seq: list | tuple) -> bool:
    """Whether a (nested) list or tuple has a variable among its entries."""
    return any(isinstance(e, Variable) or (isinstance(e, (list, tuple)) and _holds_variable(e)) for e in seq)


#: Theano's and PyTensor's dtype letters, except ``b``: bool in fncache, int8 there.
_LETTERS = {
    "c": "complex64",
    "z": "complex128",
    "f": "float32",
    "d": "float64",
    "b": "bool",
    "w": "int16",
    "i": "int32",
    "l": "int64",
}


def _plural(make: Callable[[str | None], TensorVariable], what: str) -> Callable[..., Any]:
    """Theano's ``dvectors("a", "b")``: one variable per name, or ``dvectors(3)``: a list of
    three unnamed ones. A lone name of one letter gives the variable itself; a lone longer
    string is, as in Theano and PyTensor, one name per letter (``scalars("abcd")``)."""

    def many(*names: Any) -> Any:
        if len(names) == 1 and as_int(names[0]) is not None:
            return [make(None) for _ in range(int_arg(names[0], what, "the count", minimum=0))]
        if len(names) == 1 and isinstance(names[0], str) and len(names[0]) > 1:
            names = tuple(names[0])
        if len(names) == 1:
            return make(names[0])
        return [make(n) for n in names]

    return many


def _shorthands() -> dict[str, Any]:
    """``dvector``, ``fmatrix``, ``zrow``...: types, as in Theano; calling one makes a variable.
    Also the unsigned scalars ``ubscalar``...``ulscalar`` and the plurals (``dvectors``)."""
    out: dict[str, Any] = {}
    for letter, dt in _LETTERS.items():
        for kind, shape in _KINDS.items():
            out[letter + kind] = TensorType(dt, shape)
    for letter, dt in (("ub", "uint8"), ("uw", "uint16"), ("ui", "uint32"), ("ul", "uint64")):
        out[letter + "scalar"] = TensorType(dt, ())
    for kind in _KINDS:
        plural = "matrices" if kind == "matrix" else kind + "s"
        out[plural] = _plural(globals()[kind], plural)
        for letter in "fdil":
            out[letter + plural] = _plural(out[letter + kind], letter + plural)
    return out


_SHORTHANDS = _shorthands()
globals().update(_SHORTHANDS)
__all__ += ["row", "col", "tensor5", "tensor6", "tensor7"] + list(_SHORTHANDS)


def _type_groups() -> dict[str, tuple[TensorType, ...]]:
    """PyTensor's groups of types (``pytensor.tensor.type``): tuples of the types of each
    dtype of a kind, PyTensor's dtypes in its order, of 0, 1 or 2 dims: ``float_scalar_types``
    is ``(fscalar, dscalar)``, ``int_vector_types`` the vectors of int8, int16, int32 and int64
    (no unsigned nor bool; fncache's ``bvector`` is bool), ``complex_matrix_types``
    ``(cmatrix, zmatrix)``; ``float_types``, ``int_types`` and ``complex_types`` are the
    scalar ones."""
    kinds = {
        "float": ("float32", "float64"),
        "int": ("int8", "int16", "int32", "int64"),
        "complex": ("complex64", "complex128"),
    }
    out = {
        f"{kind}_{shape}_types": tuple(TensorType(dt, _KINDS[shape]) for dt in dtypes)
        for kind, dtypes in kinds.items()
        for shape in ("scalar", "vector", "matrix")
    }
    out.update({f"{kind}_types": out[f"{kind}_scalar_types"] for kind in kinds})
    return out


_TYPE_GROUPS = _type_groups()
globals().update(_TYPE_GROUPS)
__all__ += list(_TYPE_GROUPS)


def _scalar_value(x: Any, what: str) -> TensorVariable:
    v = as_tensor_variable(x)
    if v.ndim != 0:
        raise TypeError(
            f"{what}: takes a scalar (0-d tensor), got {v.type}; index a value out first (x[0]) "
            "or reduce it (ft.sum(x))"
        )
    return v


def scalar_from_tensor(x: Any) -> TensorVariable:
    """PyTensor's ``scalar_from_tensor``: the value of a 0-d tensor as a scalar. fncache's
    scalars are 0-d tensors (there is no separate scalar type), so this is ``x`` itself."""
    return _scalar_value(x, "scalar_from_tensor")


@op_call
def tensor_from_scalar(x: Any) -> TensorVariable:
    """PyTensor's ``tensor_from_scalar``: a scalar as a 0-d tensor, ``x`` itself in fncache
    (whose scalars are 0-d tensors); a Python number becomes a constant."""
    return _scalar_value(x, "tensor_from_scalar")


def is_flat(var: Any, ndim: int = 1) -> bool:
    """PyTensor's ``is_flat``: whether ``var`` has ``ndim`` dims (as after ``flatten(var,
    ndim)``)."""
    return as_tensor_variable(var).ndim == int_arg(ndim, "is_flat", "ndim")


def transfer(var: Any, target: str) -> TensorVariable:
    """PyTensor's ``transfer``: ``var`` moved to ``target``. ``"cpu"`` gives ``var`` itself (as
    a tensor). fncache places no variable on a device: a whole function runs on the device its
    mode names, so any other target is refused with how to ask for it."""
    if target == "cpu":
        return as_tensor_variable(var)
    if target in ("cuda", "gpu") or isinstance(target, str) and target.startswith(("cuda", "gpu")):
        raise ValueError(
            f"transfer: fncache does not place variables on a device (got target {target!r}); "
            "a function runs wholly on its mode's device: compile it with "
            "fc.function(..., mode=fc.Mode(device='cuda')) (or config device=cuda)"
        )
    raise ValueError(f"transfer: can't transfer to target {target!r}; the only target is 'cpu'")


__all__ += ["scalar_from_tensor", "tensor_from_scalar", "is_flat", "transfer"]


def __getattr__(name: str) -> Any:
    # Theano's tensor.basic held the whole front end (``from theano.tensor.basic import
    # zeros, stack, sum``) and PyTensor's still holds the array constructors: this module
    # answers every public name of the package (built after this module, so looked up on use)
    package = sys.modules[__package__]
    if name in getattr(package, "__all__", ()):
        return getattr(package, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
