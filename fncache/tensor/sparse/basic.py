"""The sparse ops (Theano's and PyTensor's ``sparse.basic`` and ``sparse.math``): conversions,
the compressed matrix's parts, transposition, sums, elementwise sums and products, products
with sparse operands, and their gradients.

Each op's ``perform`` is numpy and scipy. A gradient with respect to a sparse matrix is a
sparse matrix of its format and dtype; a *structured* one (``structured_dot``, ``sp_sum(...,
sparse_grad=True)``, ``dense_from_sparse``, the structured elementwise functions) has values at
the matrix's stored entries only, as in PyTensor, a regular one (``dot``, ``sp_sum``) is the
dense gradient made sparse.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any, Callable

import numpy as np

from ... import tensor as ft
from ...graph.basic import Apply, Op, Variable
from ...graph.types import TensorType, normalize_dtype
from ..advanced_subtensor import AdvancedSubtensor
from ..basic import as_tensor_variable
from ..gradient import register_grad
from .type import (
    FORMATS,
    SparseConstant,
    SparseTensorType,
    scipy_sparse,
    is_sparse_value,
    is_sparse_variable,
)

__all__ = [
    "as_sparse_variable",
    "as_sparse",
    "as_sparse_or_tensor_variable",
    "matrix",
    "csr_matrix",
    "csc_matrix",
    "csr_dmatrix",
    "csc_dmatrix",
    "csr_fmatrix",
    "csc_fmatrix",
    "CSMProperties",
    "CSM",
    "CSMGrad",
    "CSR",
    "CSC",
    "csm_properties",
    "csm_data",
    "csm_indices",
    "csm_indptr",
    "csm_shape",
    "AsSparseType",
    "Transpose",
    "DenseFromSparse",
    "SparseFromDense",
    "dense_from_sparse",
    "csr_from_dense",
    "csc_from_dense",
    "transpose",
    "cast",
    "SpSum",
    "sp_sum",
    "Neg",
    "neg",
    "AddSS",
    "AddSD",
    "add_s_s",
    "add_s_d",
    "mul_s_s",
    "mul_s_d",
    "Remove0",
    "remove0",
    "EnsureSortedIndices",
    "ensure_sorted_indices",
    "clean",
    "Diag",
    "diag",
    "square_diagonal",
    "AddSSData",
    "add_s_s_data",
    "ConstructSparseFromList",
    "construct_sparse_from_list",
    "SparseGradTake",
    "sparse_grad",
    "as_symbolic_sparse",
    "bcast",
    "wcast",
    "icast",
    "lcast",
    "fcast",
    "dcast",
    "ccast",
    "zcast",
    "GetItem2d",
    "GetItem2dGrad",
    "GetItemScalar",
    "GetItemScalarGrad",
    "get_item",
    "get_item_scalar",
    "get_item_2d",
    "get_item_list",
    "get_item_list_grad",
    "GetItem2Lists",
    "GetItem2ListsGrad",
    "get_item_2lists",
    "get_item_2lists_grad",
    "Stack",
    "hstack",
    "vstack",
    "add",
    "sub",
    "subtract",
    "MulSS",
    "MulSD",
    "mul",
    "multiply",
    "Dot",
    "dot",
    "StructuredDot",
    "StructuredDotGrad",
    "structured_dot",
    "structured_dot_grad",
    "TrueDot",
    "true_dot",
    "sampling_dot",
    "row_scale",
    "col_scale",
    "ComparisonSS",
    "ComparisonSD",
    "eq",
    "neq",
    "lt",
    "gt",
    "le",
    "ge",
    "equal_s_s",
    "not_equal_s_s",
    "less_than_s_s",
    "greater_than_s_s",
    "less_equal_s_s",
    "greater_equal_s_s",
    "equal_s_d",
    "not_equal_s_d",
    "less_than_s_d",
    "greater_than_s_d",
    "less_equal_s_d",
    "greater_equal_s_d",
    "mul_s_v",
    "structured_add_s_v",
    "Usmm",
    "usmm",
    "sp_ones_like",
    "sp_zeros_like",
    "structured_sigmoid",
    "structured_exp",
    "structured_log",
    "structured_add",
    "structured_pow",
    "structured_minimum",
    "structured_maximum",
    "structured_conjugate",
    "structured_elemwise",
    "conj",
    "conjugate",
    "rint",
    "abs",
    "sqr",
    "sqrt",
    "abs_",
    "sin",
    "tan",
    "tanh",
    "arcsin",
    "arctan",
    "sinh",
    "arcsinh",
    "arctanh",
    "log1p",
    "expm1",
    "floor",
    "ceil",
    "trunc",
    "sign",
    "deg2rad",
    "rad2deg",
]

_FLIP = {"csr": "csc", "csc": "csr"}


# -- variables -----------------------------------------------------------------------------------
def as_sparse_variable(x: Any, name: str | None = None) -> Variable:
    """A sparse variable: a sparse variable itself, a csr or csc scipy.sparse matrix as a
    constant; anything else is a TypeError with the conversion to make."""
    if is_sparse_variable(x):
        return x
    if isinstance(x, Variable):
        raise TypeError(
            f"as_sparse_variable: {x!r} is a dense {x.type}; make it sparse with "
            "fncache.sparse.csr_from_dense(x) or csc_from_dense(x)"
        )
    if is_sparse_value(x):
        if x.format not in FORMATS:
            raise TypeError(
                f"as_sparse_variable: a {x.format} matrix; fncache's sparse matrices are csr or "
                "csc: convert it with x.tocsr() or x.tocsc()"
            )
        return SparseConstant(SparseTensorType(x.format, x.dtype), x, name=name)
    raise TypeError(
        f"as_sparse_variable: expected a sparse variable or a scipy.sparse matrix, got "
        f"{type(x).__name__}; make a dense value sparse with scipy.sparse.csr_matrix(x)"
    )


as_sparse = as_sparse_variable
#: PyTensor's name of `as_sparse_variable`
as_symbolic_sparse = as_sparse_variable


def as_sparse_or_tensor_variable(x: Any, name: str | None = None) -> Variable:
    """A sparse variable for a sparse variable or a scipy.sparse matrix, else a tensor."""
    if is_sparse_variable(x) or is_sparse_value(x):
        return as_sparse_variable(x, name)
    return as_tensor_variable(x, name=name)


def _operands(x: Any, y: Any) -> tuple[Variable, Variable]:
    """``x`` and ``y`` as variables; a Python number beside a float matrix takes its dtype, as
    numpy's weak scalars do (``x * 2`` of a float32 matrix is float32)."""

    def weak(v: Any, other: Any) -> bool:
        return (
            type(v) in (int, float) and isinstance(other, Variable) and other.dtype in ("float32", "float64")
        )

    if weak(x, y):
        x = ft.constant(x, dtype=y.dtype)
    if weak(y, x):
        y = ft.constant(y, dtype=x.dtype)
    return as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)


def matrix(format: str, name: str | None = None, dtype: Any = None) -> Variable:
    """A symbolic sparse matrix of ``format`` (``"csr"`` or ``"csc"``) and ``dtype``
    (``config.floatX`` by default)."""
    return SparseTensorType(format, dtype)(name)


def csr_matrix(name: str | None = None, dtype: Any = None) -> Variable:
    """A symbolic csr matrix (PyTensor's ``sparse.csr_matrix``)."""
    return matrix("csr", name, dtype)


def csc_matrix(name: str | None = None, dtype: Any = None) -> Variable:
    """A symbolic csc matrix (PyTensor's ``sparse.csc_matrix``)."""
    return matrix("csc", name, dtype)


csr_dmatrix = SparseTensorType("csr", "float64")
csc_dmatrix = SparseTensorType("csc", "float64")
csr_fmatrix = SparseTensorType("csr", "float32")
csc_fmatrix = SparseTensorType("csc", "float32")


def _sparse_in(op: Any, x: Any) -> Variable:
    try:
        return as_sparse_variable(x)
    except TypeError as e:
        raise TypeError(f"{op}: {e}") from None


def _dense_in(op: Any, x: Any, ndims: tuple[int, ...]) -> Variable:
    if is_sparse_variable(x) or is_sparse_value(x):
        raise TypeError(f"{op}: expected a dense tensor, got the sparse {x!r}; use the sparse-sparse form")
    v = as_tensor_variable(x)
    if v.ndim not in ndims:
        counts = ", ".join(map(str, ndims[:-1])) + " or " * (len(ndims) > 1) + str(ndims[-1])
        raise TypeError(f"{op}: expected a dense tensor of {counts} dims, got {v.type}")
    return v


def _upcast(*dtypes: str) -> str:
    return normalize_dtype(np.result_type(*[np.dtype(d) for d in dtypes]))


def _matrix_class(fmt: str) -> Any:
    return getattr(scipy_sparse(), f"{fmt}_matrix")


def _as_type(value: Any, t: SparseTensorType) -> Any:
    """A computed scipy value as a matrix of ``t`` (scipy picks its own formats, classes and
    index dtypes for some results)."""
    sp = scipy_sparse()
    if not sp.issparse(value):
        value = sp.csr_matrix(np.asarray(value))
    if value.format != t.format:
        value = value.asformat(t.format)
    if value.dtype.name != t.dtype:
        value = value.astype(t.dtype)
    cls = _matrix_class(t.format)
    return value if type(value) is cls else cls(value)


def _coords(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of each stored entry of a csr or csc matrix, in storage order."""
    major = np.repeat(np.arange(len(x.indptr) - 1), np.diff(x.indptr))
    return (major, x.indices) if x.format == "csr" else (x.indices, major)


def _like(g: Variable, v: Variable) -> Variable:
    """Sparse gradient ``g`` as ``v``'s type (its format and dtype)."""
    if g.type == v.type:
        return g
    return AsSparseType(v.type.format, v.type.dtype)(g)


# -- the compressed matrix's parts ---------------------------------------------------------------
class CSMProperties(Op):
    """A csr or csc matrix's parts: ``data``, ``indices``, ``indptr`` (int32, as scipy stores
    them) and ``shape`` (two int64). Its gradient with respect to the matrix is ``data``'s,
    at the stored entries."""

    __props__ = ()
    # the parts are the matrix's own arrays: an output returned as it is is copied first
    view_map = {0: [0], 1: [0], 2: [0]}

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        types = [
            TensorType(x.type.dtype, (None,)),
            TensorType("int32", (None,)),
            TensorType("int32", (None,)),
            TensorType("int64", (2,)),
        ]
        return Apply(self, [x], types)

    def perform(self, node: Apply, inputs: list) -> list:
        (x,) = inputs
        return [
            x.data,
            x.indices.astype(np.int32, copy=False),
            x.indptr.astype(np.int32, copy=False),
            np.asarray(x.shape, dtype=np.int64),
        ]


csm_properties = CSMProperties()


def csm_data(x: Any) -> Variable:
    return csm_properties(x)[0]


def csm_indices(x: Any) -> Variable:
    return csm_properties(x)[1]


def csm_indptr(x: Any) -> Variable:
    return csm_properties(x)[2]


def csm_shape(x: Any) -> Variable:
    return csm_properties(x)[3]


class CSM(Op):
    """A ``format`` matrix from its parts: ``CSM("csr")(data, indices, indptr, shape)``
    (PyTensor's ``CSR``/``CSC``), checked as scipy checks them. Its gradient with respect to
    ``data`` is the output gradient's values at the entries the parts store."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in FORMATS:
            raise ValueError(f"CSM: format must be one of {FORMATS}, got {format!r}")
        self.format = format

    def make_node(self, data: Any, indices: Any, indptr: Any, shape: Any) -> Apply:
        data = _dense_in(self, data, (1,))
        parts = [as_tensor_variable(v) for v in (indices, indptr, shape)]
        for what, v, n in zip(("indices", "indptr", "shape"), parts, (1, 1, 1)):
            if v.ndim != n or v.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"):
                raise TypeError(f"{self}: {what} must be an integer vector, got {v.type}")
        return Apply(self, [data, *parts], [SparseTensorType(self.format, data.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        data, indices, indptr, shape = inputs
        if shape.shape != (2,):
            raise ValueError(f"{self}: shape must hold 2 sizes, got {shape.tolist()}")
        try:
            # copies: the parts are other values of the graph (or the caller's arrays)
            value = _matrix_class(self.format)(
                (data, indices, indptr), shape=tuple(int(s) for s in shape), copy=True
            )
            value.check_format(full_check=True)
        except ValueError as e:
            raise ValueError(
                f"{self}: the parts do not make a {self.format} matrix of shape {tuple(shape)} "
                f"({len(data)} values, {len(indices)} indices, {len(indptr)} indptr entries): {e}"
            ) from None
        return [value]


CSR = CSM("csr")
CSC = CSM("csc")


class CSMGrad(Op):
    """The values of sparse matrix ``g`` at the entries a matrix of parts ``(indices,
    indptr)`` and ``format`` stores, in its storage order: the gradient of `CSM` with respect
    to its data."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in FORMATS:
            raise ValueError(f"CSMGrad: format must be one of {FORMATS}, got {format!r}")
        self.format = format

    def make_node(self, indices: Any, indptr: Any, g: Any) -> Apply:
        g = _sparse_in(self, g)
        return Apply(
            self, [as_tensor_variable(indices), as_tensor_variable(indptr), g], [TensorType(g.dtype, (None,))]
        )

    def perform(self, node: Apply, inputs: list) -> list:
        indices, indptr, g = inputs
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        rows, cols = (major, indices) if self.format == "csr" else (indices, major)
        return [_sample(g, rows, cols)]


def _sample(m: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The values of matrix ``m`` (sparse or dense) at ``(rows, cols)``."""
    if len(rows) == 0:
        return np.zeros(0, dtype=m.dtype)
    if is_sparse_value(m):
        return np.asarray(m.tocsr()[rows, cols]).ravel()
    return np.asarray(m)[rows, cols]


def sp_ones_like(x: Any) -> Variable:
    """A matrix with ``x``'s stored entries, each 1."""
    data, indices, indptr, shape = csm_properties(x)
    return CSM(x.format)(ft.ones_like(data), indices, indptr, shape)


def sp_zeros_like(x: Any) -> Variable:
    """A matrix of zeros of ``x``'s shape and type, storing no entry (PyTensor's)."""
    data, indices, indptr, shape = csm_properties(x)
    return CSM(x.format)(data[:0], indices[:0], ft.zeros_like(indptr), shape)


@register_grad(CSMProperties)
def _csm_properties_grad(node: Apply, out_grads: list) -> list:
    g = out_grads[0]
    if g is None:
        return [None]
    x = node.inputs[0]
    _, indices, indptr, shape = node.outputs
    return [CSM(x.format)(ft.cast(g, x.dtype), indices, indptr, shape)]


@register_grad(CSM)
def _csm_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None, None, None]
    _, indices, indptr, _ = node.inputs
    return [CSMGrad(node.op.format)(indices, indptr, g), None, None, None]


# The gradient ops below are linear in the gradient they place or sample: each one's gradient
# is the op it is the gradient of (sampling the entries it placed, placing what it sampled).
@register_grad(CSMGrad)
def _csm_grad_grad(node: Apply, out_grads: list) -> list:
    (h,) = out_grads
    indices, indptr, g = node.inputs
    if h is None:
        return [None, None, None]
    shape = csm_properties(g)[3]
    return [None, None, _like(CSM(node.op.format)(ft.cast(h, g.dtype), indices, indptr, shape), g)]


# -- conversions ---------------------------------------------------------------------------------
class AsSparseType(Op):
    """A sparse matrix as another format and/or dtype (``cast``; the gradients of the ops whose
    operands differ in format)."""

    __props__ = ("format", "dtype")

    def __init__(self, format: str, dtype: Any) -> None:
        if format not in FORMATS:
            raise ValueError(f"AsSparseType: format must be one of {FORMATS}, got {format!r}")
        self.format = format
        self.dtype = normalize_dtype(dtype, "AsSparseType")

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [SparseTensorType(self.format, self.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        return [_as_type(inputs[0], node.outputs[0].type)]


@register_grad(AsSparseType)
def _as_sparse_type_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    return [None if g is None else _like(g, node.inputs[0])]


def cast(x: Any, dtype: Any) -> Variable:
    """Sparse ``x`` with values of ``dtype``."""
    x = _sparse_in("sparse.cast", x)
    dtype = normalize_dtype(dtype, "sparse.cast")
    return x if dtype == x.dtype else AsSparseType(x.format, dtype)(x)


def _caster(dtype: str) -> Callable[[Any], Variable]:
    def cast_to(x: Any) -> Variable:
        return cast(x, dtype)

    cast_to.__doc__ = f"Sparse ``x`` with values of dtype {dtype} (PyTensor's ``Cast({dtype!r})``)."
    return cast_to


bcast = _caster("int8")
wcast = _caster("int16")
icast = _caster("int32")
lcast = _caster("int64")
fcast = _caster("float32")
dcast = _caster("float64")
ccast = _caster("complex64")
zcast = _caster("complex128")


class Transpose(Op):
    """The transpose: a csr matrix's is csc over the same arrays, and the other way round."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [SparseTensorType(_FLIP[x.format], x.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        return [_as_type(inputs[0].T, node.outputs[0].type)]


_transpose = Transpose()


def transpose(x: Any) -> Variable:
    """The transpose of sparse ``x`` (``x.T``): csr becomes csc and csc csr."""
    return _transpose(x)


@register_grad(Transpose)
def _transpose_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    return [None if g is None else _like(transpose(g), node.inputs[0])]


class DenseFromSparse(Op):
    """A sparse matrix as a dense one (``x.toarray()``). Its gradient is structured: the dense
    output gradient's values at the matrix's stored entries (PyTensor's default)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [TensorType(x.dtype, (None, None))])

    def perform(self, node: Apply, inputs: list) -> list:
        return [np.asarray(inputs[0].toarray(), dtype=node.outputs[0].dtype)]


dense_from_sparse = DenseFromSparse()


@register_grad(DenseFromSparse)
def _dense_from_sparse_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None]
    x = node.inputs[0]
    return [_like(mul(sp_ones_like(x), ft.cast(g, x.dtype)), x)]


class SparseFromDense(Op):
    """A dense matrix as a ``format`` one, storing its non-zero entries; a scalar or a vector
    is a 1 x 1 or 1 x n matrix, as scipy makes it (PyTensor's)."""

    __props__ = ("format",)

    def __init__(self, format: str) -> None:
        if format not in FORMATS:
            raise ValueError(f"SparseFromDense: format must be one of {FORMATS}, got {format!r}")
        self.format = format

    def make_node(self, x: Any) -> Apply:
        x = _dense_in(self, x, (0, 1, 2))
        return Apply(self, [x], [SparseTensorType(self.format, x.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        return [_matrix_class(self.format)(np.atleast_2d(inputs[0]))]


csr_from_dense = SparseFromDense("csr")
csc_from_dense = SparseFromDense("csc")


@register_grad(SparseFromDense)
def _sparse_from_dense_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None]
    dense, ndim = dense_from_sparse(g), node.inputs[0].ndim
    # a scalar's or a vector's gradient: the one row of the 1 x 1 or 1 x n matrix
    return [dense if ndim == 2 else dense[0] if ndim == 1 else dense[0, 0]]


class _SameType:
    """``make_node`` of an op of one sparse matrix whose result has the matrix's type."""

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [x.type])  # type: ignore[arg-type]


class Remove0(_SameType, Op):
    """The matrix without its explicitly stored zeros (Theano's and PyTensor's ``remove0``);
    the gradient passes as it is."""

    __props__ = ()

    def perform(self, node: Apply, inputs: list) -> list:
        z = inputs[0].copy()
        z.eliminate_zeros()
        return [z]


remove0 = Remove0()


class EnsureSortedIndices(_SameType, Op):
    """The matrix with each row's (csr) or column's (csc) indices in increasing order (PyTensor's
    ``ensure_sorted_indices``): a matrix built from parts (`CSM`) may store them in any order,
    which other libraries refuse. The gradient passes as it is."""

    __props__ = ()

    def perform(self, node: Apply, inputs: list) -> list:
        return [inputs[0].sorted_indices()]


ensure_sorted_indices = EnsureSortedIndices()


@register_grad(Remove0, EnsureSortedIndices)
def _same_matrix_grad(node: Apply, out_grads: list) -> list:
    return [out_grads[0]]  # the stored values are the same: the gradient passes as it is


def clean(x: Any) -> Variable:
    """``x`` without its explicitly stored zeros and with its indices sorted (PyTensor's
    ``clean``): `remove0`, then `ensure_sorted_indices`."""
    return ensure_sorted_indices(remove0(x))


class Diag(Op):
    """The diagonal of a square sparse matrix as a dense vector (PyTensor's ``diag``); a matrix
    that is not square is a ValueError. Its gradient is regular: `square_diagonal` of the
    output gradient, as ``x``'s type."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [TensorType(x.dtype, (None,))])

    def perform(self, node: Apply, inputs: list) -> list:
        (x,) = inputs
        if x.shape[0] != x.shape[1]:
            raise ValueError(
                f"{self}: the matrix must be square, got shape {x.shape}; x[:k, :k] takes a square part"
            )
        return [np.asarray(x.diagonal(), dtype=node.outputs[0].dtype)]


diag = Diag()


@register_grad(Diag)
def _diag_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None]
    x = node.inputs[0]
    return [_like(square_diagonal(ft.cast(g, x.dtype)), x)]


def square_diagonal(diag: Any) -> Variable:
    """A square csc matrix holding dense vector ``diag`` on its diagonal, each of its values
    stored, zeros too (PyTensor's ``square_diagonal``)."""
    data = _dense_in("square_diagonal", diag, (1,))
    n = data.shape[0]
    index = ft.arange(n, dtype="int32")
    return CSC(data, index, ft.arange(n + 1, dtype="int32"), ft.stack([n, n]))


class AddSSData(Op):
    """The sum of two sparse matrices of one format, dtype and structure, computed on their
    stored values alone (PyTensor's ``add_s_s_data``); operands that store different entries
    are a ValueError (`add` sums any two). Its gradients are the output gradient, for each."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _sparse_in(self, y)
        if x.type != y.type:
            raise TypeError(
                f"{self}: the operands must have one format and dtype, got {x.type} and {y.type}; "
                "convert one with fncache.sparse.cast (dtype) or transpose it twice (format), or use add"
            )
        return Apply(self, [x, y], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        _same_shape(self, x, y)
        if not (np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)):
            raise ValueError(
                f"{self}: the operands store different entries ({x.nnz} and {y.nnz} stored); "
                "add_s_s_data needs one structure, add (x + y) sums any two"
            )
        z = x.copy()
        z.data = z.data + y.data
        return [z]


add_s_s_data = AddSSData()


@register_grad(AddSSData)
def _add_s_s_data_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    return [None, None] if g is None else [_like(g, v) for v in node.inputs]


class ConstructSparseFromList(Op):
    """A csc matrix of ``shape`` (an integer vector of 2) and ``values``' dtype whose row
    ``ilist[k]`` holds dense row ``values[k]`` (rows given twice summed; PyTensor's
    ``construct_sparse_from_list(x, values, ilist)`` takes the shape of a matrix ``x``): the
    gradient of ``x[ilist]`` made sparse. Its gradient with respect to ``values`` is the output
    gradient's rows ``ilist``, dense."""

    __props__ = ()

    def make_node(self, shape: Any, values: Any, ilist: Any) -> Apply:
        values = _dense_in(self, values, (2,))
        ilist = as_tensor_variable(ilist)
        if ilist.ndim != 1 or not ilist.dtype.startswith(("int", "uint")):
            raise TypeError(f"{self}: ilist must be an integer vector, got {ilist.type}")
        shape = as_tensor_variable(shape)
        if shape.ndim != 1 or not shape.dtype.startswith(("int", "uint")):
            raise TypeError(f"{self}: shape must be an integer vector of 2 sizes, got {shape.type}")
        return Apply(self, [shape, values, ilist], [SparseTensorType("csc", values.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        shape, values, ilist = inputs
        shape = tuple(int(n) for n in shape)
        if len(shape) != 2 or values.shape != (len(ilist), shape[1]):
            raise ValueError(
                f"{self}: values must hold one row of {shape[1:]} columns for each of the "
                f"{len(ilist)} indices, got shape {values.shape} (output shape {shape})"
            )
        if len(ilist) and not (-shape[0] <= ilist.min() and ilist.max() < shape[0]):
            raise IndexError(f"{self}: a row index of {ilist.tolist()} is out of range for shape {shape}")
        rows = np.repeat(ilist % max(shape[0], 1), shape[1])
        cols = np.tile(np.arange(shape[1]), len(ilist))
        coo = scipy_sparse().coo_matrix((values.ravel(), (rows, cols)), shape=shape)
        return [_as_type(coo, node.outputs[0].type)]  # the conversion sums repeated rows


construct_sparse_from_list_op = ConstructSparseFromList()


def construct_sparse_from_list(x: Any, values: Any, ilist: Any) -> Variable:
    """A csc matrix of dense matrix ``x``'s shape holding row ``values[k]`` at row ``ilist[k]``
    (PyTensor's ``construct_sparse_from_list``; see `ConstructSparseFromList`)."""
    return construct_sparse_from_list_op(
        _dense_in("construct_sparse_from_list", x, (2,)).shape, values, ilist
    )


@register_grad(ConstructSparseFromList)
def _construct_sparse_from_list_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None, None]
    _, values, ilist = node.inputs
    return [None, ft.cast(dense_from_sparse(get_item(g, ilist)), values.dtype), None]


class SparseGradTake(Op):
    """Rows ``ilist`` of dense matrix ``x`` (``x[ilist]``), whose gradient with respect to ``x``
    is sparse: a csc matrix holding the output gradient's rows at rows ``ilist`` (summed where
    a row is taken twice; `ConstructSparseFromList`). What `sparse_grad` makes."""

    __props__ = ()

    def make_node(self, x: Any, ilist: Any) -> Apply:
        x = _dense_in(self, x, (2,))
        ilist = _int_vector(self, ilist)
        return Apply(self, [x, ilist], [TensorType(x.dtype, (None, x.type.shape[1]))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, ilist = inputs
        if len(ilist) and not (-x.shape[0] <= ilist.min() and ilist.max() < x.shape[0]):
            raise IndexError(f"{self}: a row index of {ilist.tolist()} is out of range for shape {x.shape}")
        return [x[ilist]]


@register_grad(SparseGradTake)
def _sparse_grad_take_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    x, ilist = node.inputs
    return [construct_sparse_from_list_op(x.shape, ft.cast(g, x.dtype), ilist), None]


def sparse_grad(var: Any) -> Variable:
    """``var``, rows of a dense matrix taken by an integer vector (``m[idx]``), as a variable
    whose gradient with respect to the matrix is sparse (PyTensor's ``sparse_grad``): a csc
    matrix holding the gradient's rows at rows ``idx`` (see `SparseGradTake`). Anything else
    is a TypeError."""
    node = getattr(var, "owner", None)
    if (
        node is None
        or not isinstance(node.op, AdvancedSubtensor)
        or node.op.key != (("a", 0),)
        or node.inputs[0].ndim != 2
        or node.inputs[1].ndim != 1
    ):
        raise TypeError(
            f"sparse_grad: expected rows of a dense matrix taken by one integer vector (m[idx]), "
            f"got {var!r}; the gradient is made sparse for that indexing only"
        )
    return SparseGradTake()(*node.inputs)


# -- indexing ------------------------------------------------------------------------------------
#: How one dim of `GetItem2d` is indexed: all of it, a slice (which of start, stop and step are
#: inputs: the others are None), or an integer vector (an input).
_ALL = ("all",)


def _index_spec(key: Any, what: str) -> tuple[tuple, list[Variable]]:
    """One dim's key as (its spec, the variables it reads)."""
    if isinstance(key, slice):
        parts = [key.start, key.stop, key.step]
        if all(p is None for p in parts):
            return _ALL, []
        given = [as_tensor_variable(p) for p in parts if p is not None]
        for v in given:
            if v.ndim != 0 or not v.dtype.startswith(("int", "uint")):
                raise TypeError(f"{what}: a slice's start, stop and step must be integers, got {v.type}")
        return ("slice", *(p is not None for p in parts)), given
    v = as_tensor_variable(key)
    if v.ndim == 1 and v.dtype.startswith(("int", "uint")):
        return ("list",), [v]
    raise TypeError(
        f"{what}: each index must be a slice (of integers, constant or symbolic) or an integer "
        f"vector, got {v.type}; a single element is x[i, j] (two integers), a row x[i:i + 1]"
    )


def _keys(spec: tuple, values: list) -> list[Any]:
    """The numpy keys of both dims from ``spec`` and the values of its inputs."""
    keys, at = [], 0
    for dim in spec:
        if dim[0] == "all":
            keys.append(slice(None))
        elif dim[0] == "list":
            keys.append(np.asarray(values[at]))
            at += 1
        else:
            parts = []
            for given in dim[1:]:
                parts.append(int(values[at]) if given else None)
                at += int(given)
            keys.append(slice(*parts))
    return keys


class GetItem2d(Op):
    """``x[rows, cols]``: each a slice (its bounds constants or symbolic integers) or an
    integer vector (rows or columns taken in that order, repeats allowed); sparse, of ``x``'s
    type. Its gradient is the output gradient put back at the entries taken (summed where one
    was taken twice)."""

    __props__ = ("spec",)

    def __init__(self, spec: tuple) -> None:
        self.spec = tuple(tuple(d) for d in spec)

    def make_node(self, x: Any, *index: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x, *map(as_tensor_variable, index)], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        x = inputs[0]
        rows, cols = _keys(self.spec, inputs[1:])
        try:
            z = x[rows, :][:, cols]
        except IndexError as e:
            raise IndexError(f"{self}: index out of range for a matrix of shape {x.shape}: {e}") from None
        return [_as_type(z, node.outputs[0].type)]


class GetItem2dGrad(Op):
    """The gradient of `GetItem2d`: ``g`` (the part's gradient) at the entries of ``x`` the part
    was taken from, in a matrix of ``x``'s shape and type."""

    __props__ = ("spec",)

    def __init__(self, spec: tuple) -> None:
        self.spec = tuple(tuple(d) for d in spec)

    def make_node(self, x: Any, g: Any, *index: Any) -> Apply:
        x, g = _sparse_in(self, x), _sparse_in(self, g)
        return Apply(self, [x, g, *index], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        x, g = inputs[0], inputs[1].tocoo()
        rows, cols = _keys(self.spec, inputs[2:])
        at_rows, at_cols = np.arange(x.shape[0])[rows], np.arange(x.shape[1])[cols]
        coo = scipy_sparse().coo_matrix((g.data, (at_rows[g.row], at_cols[g.col])), shape=x.shape)
        return [_as_type(coo, node.outputs[0].type)]  # the conversion sums repeated entries


@register_grad(GetItem2d)
def _get_item_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None] * len(node.inputs)
    x, *index = node.inputs
    return [GetItem2dGrad(node.op.spec)(x, _like(g, x), *index), *[None] * len(index)]


@register_grad(GetItem2dGrad)
def _get_item_2d_grad_grad(node: Apply, out_grads: list) -> list:
    (h,) = out_grads
    x, g, *index = node.inputs
    if h is None:
        return [None] * len(node.inputs)
    return [None, _like(GetItem2d(node.op.spec)(_like(h, x), *index), g), *[None] * len(index)]


class GetItemScalar(Op):
    """``x[i, j]``: one element of sparse ``x`` as a 0-d dense tensor of its dtype (zero where
    ``x`` stores none); ``i`` and ``j`` integer scalars, negative ones counted from the end.
    Its gradient is regular: a matrix of ``x``'s type holding the output gradient at (i, j)
    (PyTensor's has none)."""

    __props__ = ()

    def make_node(self, x: Any, i: Any, j: Any) -> Apply:
        x = _sparse_in(self, x)
        index = [_int_scalar(self, v) for v in (i, j)]
        return Apply(self, [x, *index], [TensorType(x.dtype, ())])

    def perform(self, node: Apply, inputs: list) -> list:
        x, i, j = inputs
        i, j = _element(self, x.shape, i, j)
        return [np.asarray(x[i, j], dtype=node.outputs[0].dtype)]


class GetItemScalarGrad(Op):
    """The gradient of `GetItemScalar`: a matrix of ``x``'s shape and type holding the 0-d
    ``g`` at (i, j) and nothing else."""

    __props__ = ()

    def make_node(self, x: Any, g: Any, i: Any, j: Any) -> Apply:
        x = _sparse_in(self, x)
        g = _dense_in(self, g, (0,))
        return Apply(self, [x, g, _int_scalar(self, i), _int_scalar(self, j)], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        x, g, i, j = inputs
        i, j = _element(self, x.shape, i, j)
        coo = scipy_sparse().coo_matrix(([g], ([i], [j])), shape=x.shape)
        return [_as_type(coo, node.outputs[0].type)]


def _int_scalar(op: Any, v: Any) -> Variable:
    v = as_tensor_variable(v)
    if v.ndim != 0 or not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"{op}: an element's index must be an integer scalar, got {v.type}")
    return v


def _element(op: Op, shape: tuple[int, int], i: Any, j: Any) -> tuple[int, int]:
    """``(i, j)`` counted from the start, or an IndexError naming ``op`` where either is
    out of range for ``shape``."""
    i, j = int(i), int(j)
    if not (-shape[0] <= i < shape[0] and -shape[1] <= j < shape[1]):
        raise IndexError(
            f"{op}: index ({i}, {j}) is out of range for a matrix of shape {shape} "
            f"(rows -{shape[0]}..{shape[0] - 1}, columns -{shape[1]}..{shape[1] - 1})"
        )
    return i % shape[0], j % shape[1]


get_item_scalar = GetItemScalar()


@register_grad(GetItemScalar)
def _get_item_scalar_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None, None]
    x, i, j = node.inputs
    return [GetItemScalarGrad()(x, ft.cast(g, x.dtype), i, j), None, None]


@register_grad(GetItemScalarGrad)
def _get_item_scalar_grad_grad(node: Apply, out_grads: list) -> list:
    (h,) = out_grads
    x, g, i, j = node.inputs
    if h is None:
        return [None] * 4
    return [None, ft.cast(GetItemScalar()(_like(h, x), i, j), g.dtype), None, None]


def _is_int_scalar(k: Any) -> bool:
    if isinstance(k, (int, np.integer, np.ndarray)) and not isinstance(k, bool):
        return np.ndim(k) == 0 and np.asarray(k).dtype.kind in "iu"
    return isinstance(k, Variable) and k.ndim == 0 and k.dtype.startswith(("int", "uint"))


def get_item(x: Any, key: Any) -> Variable:
    """``x[key]`` (``SparseVariable.__getitem__``): one element for two integer scalars (see
    `GetItemScalar`), elements ``x[rows[k], cols[k]]`` for two integer vectors (a dense vector,
    see `GetItem2Lists`), else rows, or rows and columns (see `GetItem2d`)."""
    x = _sparse_in("sparse indexing", x)
    keys = list(key) if isinstance(key, tuple) else [key]
    if len(keys) > 2:
        raise IndexError(f"sparse indexing: a matrix takes 2 indices, got {len(keys)}")
    if len(keys) == 2 and all(map(_is_int_scalar, keys)):
        return get_item_scalar(x, *keys)
    keys += [slice(None)] * (2 - len(keys))
    spec, inputs = [], []
    for k in keys:
        dim, given = _index_spec(k, "sparse indexing")
        spec.append(dim)
        inputs += given
    if spec == [_ALL, _ALL]:
        return x
    if spec == [("list",), ("list",)]:
        # two index vectors pair up, as numpy's, scipy's and PyTensor's do: elements
        return get_item_2lists(x, *inputs)
    return GetItem2d(tuple(spec))(x, *inputs)


def get_item_2d(x: Any, index: Any) -> Variable:
    """``x[index]`` for ``index`` a pair of slices or integer vectors (PyTensor's
    ``get_item_2d(x, [rows, cols])``): sparse, of ``x``'s type (see `GetItem2d`)."""
    return get_item(x, tuple(index))


_ROWS = (("list",), _ALL)


def get_item_list(x: Any, index: Any) -> Variable:
    """Rows ``index`` (an integer vector) of sparse ``x``, sparse of its type (PyTensor's
    ``get_item_list``; ``x[index]``)."""
    dim, given = _index_spec(index, "get_item_list")
    if dim != _ROWS[0]:
        raise TypeError(f"get_item_list: index must be an integer vector, got {index!r}")
    return GetItem2d(_ROWS)(x, *given)


def get_item_list_grad(x: Any, index: Any, gz: Any) -> Variable:
    """The gradient of ``get_item_list(x, index)`` given its gradient ``gz`` (sparse): ``gz``'s
    rows at rows ``index`` of a matrix of ``x``'s shape and type, summed where a row was taken
    twice."""
    x = _sparse_in("get_item_list_grad", x)
    return GetItem2dGrad(_ROWS)(x, _like(_sparse_in("get_item_list_grad", gz), x), as_tensor_variable(index))


def _int_vector(op: Any, v: Any) -> Variable:
    v = as_tensor_variable(v)
    if v.ndim != 1 or not v.dtype.startswith(("int", "uint")):
        raise TypeError(f"{op}: the indices must be integer vectors, got {v.type}")
    return v


def _pairs(
    op: Op, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index vectors ``rows`` and ``cols`` counted from the start, or an error naming ``op``
    where their lengths differ or one is out of range for ``shape``."""
    if rows.shape != cols.shape:
        raise ValueError(f"{op}: the row and column indices differ in length, {len(rows)} and {len(cols)}")
    for what, v, n in (("row", rows, shape[0]), ("column", cols, shape[1])):
        if len(v) and not (-n <= v.min() and v.max() < n):
            raise IndexError(f"{op}: a {what} index of {v.tolist()} is out of range for shape {shape}")
    return rows % max(shape[0], 1), cols % max(shape[1], 1)


class GetItem2Lists(Op):
    """``x[ind1[k], ind2[k]]`` for each k: elements of sparse ``x`` as a dense vector of its
    dtype (PyTensor's ``get_item_2lists``; zero where ``x`` stores none). Its gradient is
    regular: the output gradient at those elements, summed where one was taken twice."""

    __props__ = ()

    def make_node(self, x: Any, ind1: Any, ind2: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(
            self, [x, _int_vector(self, ind1), _int_vector(self, ind2)], [TensorType(x.dtype, (None,))]
        )

    def perform(self, node: Apply, inputs: list) -> list:
        x, ind1, ind2 = inputs
        rows, cols = _pairs(self, x.shape, ind1, ind2)
        return [np.asarray(_sample(x, rows, cols), dtype=node.outputs[0].dtype)]


class GetItem2ListsGrad(Op):
    """The gradient of `GetItem2Lists`: dense vector ``gz`` at ``(ind1[k], ind2[k])`` in a
    matrix of ``x``'s shape and type, summed where a pair repeats."""

    __props__ = ()

    def make_node(self, x: Any, ind1: Any, ind2: Any, gz: Any) -> Apply:
        x = _sparse_in(self, x)
        gz = _dense_in(self, gz, (1,))
        return Apply(self, [x, _int_vector(self, ind1), _int_vector(self, ind2), gz], [x.type])

    def perform(self, node: Apply, inputs: list) -> list:
        x, ind1, ind2, gz = inputs
        rows, cols = _pairs(self, x.shape, ind1, ind2)
        if gz.shape != rows.shape:
            raise ValueError(f"{self}: gz holds {len(gz)} values for {len(rows)} index pairs")
        coo = scipy_sparse().coo_matrix((gz, (rows, cols)), shape=x.shape)
        return [_as_type(coo, node.outputs[0].type)]  # the conversion sums repeated pairs


get_item_2lists = GetItem2Lists()
get_item_2lists_grad = GetItem2ListsGrad()


@register_grad(GetItem2Lists)
def _get_item_2lists_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None, None]
    x, ind1, ind2 = node.inputs
    return [get_item_2lists_grad(x, ind1, ind2, ft.cast(g, x.dtype)), None, None]


@register_grad(GetItem2ListsGrad)
def _get_item_2lists_grad_grad(node: Apply, out_grads: list) -> list:
    (h,) = out_grads
    x, ind1, ind2, gz = node.inputs
    if h is None:
        return [None] * 4
    return [None, None, None, ft.cast(get_item_2lists(_like(h, x), ind1, ind2), gz.dtype)]


class Stack(Op):
    """Sparse matrices side by side (``axis`` 1, ``hstack``) or one above the other (0,
    ``vstack``), as a ``format`` matrix of ``dtype``; the gradient of each block is its part of
    the output gradient."""

    __props__ = ("axis", "format", "dtype")

    def __init__(self, axis: int, format: str, dtype: Any) -> None:
        if axis not in (0, 1) or isinstance(axis, bool):
            raise ValueError(f"Stack: axis must be 0 or 1, got {axis!r}")
        if format not in FORMATS:
            raise ValueError(f"Stack: format must be one of {FORMATS}, got {format!r}")
        self.axis = axis
        self.format = format
        self.dtype = normalize_dtype(dtype, "Stack")

    def make_node(self, *blocks: Any) -> Apply:
        if not blocks:
            raise ValueError(f"{self}: give at least one block")
        return Apply(self, [_sparse_in(self, b) for b in blocks], [SparseTensorType(self.format, self.dtype)])

    def perform(self, node: Apply, inputs: list) -> list:
        other = 1 - self.axis
        if len({b.shape[other] for b in inputs}) > 1:
            raise ValueError(
                f"{self}: the blocks' sizes along axis {other} differ: {[b.shape for b in inputs]}"
            )
        join = scipy_sparse().hstack if self.axis == 1 else scipy_sparse().vstack
        return [_as_type(join(inputs, format=self.format, dtype=self.dtype), node.outputs[0].type)]


@register_grad(Stack)
def _stack_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None] * len(node.inputs)
    axis, start, out = node.op.axis, ft.constant(0, dtype="int64"), []
    for block in node.inputs:
        stop = start + csm_shape(block)[axis]
        part = g[:, start:stop] if axis == 1 else g[start:stop]
        out.append(_like(part, block))
        start = stop
    return out


def _stack(axis: int, blocks: Any, format: str | None, dtype: Any) -> Variable:
    blocks = [_sparse_in("sparse stacking", b) for b in blocks]
    if not blocks:
        raise ValueError("sparse stacking: give at least one block")
    dtype = dtype or _upcast(*[b.dtype for b in blocks])
    return Stack(axis, format or blocks[0].format, dtype)(*blocks)


def hstack(blocks: Any, format: str | None = None, dtype: Any = None) -> Variable:
    """Sparse ``blocks`` side by side (PyTensor's ``sparse.hstack``): ``format`` the first
    block's and ``dtype`` their upcast unless given."""
    return _stack(1, blocks, format, dtype)


def vstack(blocks: Any, format: str | None = None, dtype: Any = None) -> Variable:
    """Sparse ``blocks`` one above the other (PyTensor's ``sparse.vstack``)."""
    return _stack(0, blocks, format, dtype)


# -- sums ----------------------------------------------------------------------------------------
class SpSum(Op):
    """The sum of a sparse matrix's values (``axis`` None), or of each column (0) or row (1),
    as a dense tensor of its dtype. ``sparse_grad``: a structured gradient (values at the
    stored entries only); otherwise the regular one, made sparse."""

    __props__ = ("axis", "sparse_grad")

    def __init__(self, axis: int | None = None, sparse_grad: bool = False) -> None:
        if axis not in (None, 0, 1) or isinstance(axis, bool):
            raise ValueError(f"sp_sum: axis must be None, 0 or 1, got {axis!r}")
        self.axis = axis
        self.sparse_grad = bool(sparse_grad)

    def make_node(self, x: Any) -> Apply:
        x = _sparse_in(self, x)
        return Apply(self, [x], [TensorType(x.dtype, () if self.axis is None else (None,))])

    def perform(self, node: Apply, inputs: list) -> list:
        (x,) = inputs
        dtype = node.outputs[0].dtype
        if self.axis is None:
            return [np.asarray(x.sum(), dtype=dtype)]
        return [np.asarray(x.sum(axis=self.axis), dtype=dtype).ravel()]


def sp_sum(x: Any, axis: int | None = None, sparse_grad: bool = False) -> Variable:
    """The sum of sparse ``x`` (``axis`` None, 0 or 1), dense (PyTensor's ``sp_sum``)."""
    return SpSum(axis, sparse_grad)(x)


@register_grad(SpSum)
def _sp_sum_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None]
    x, axis = node.inputs[0], node.op.axis
    g = ft.cast(g, x.dtype)
    if axis == 0:
        g = g.dimshuffle("x", 0)
    elif axis == 1:
        g = g.dimshuffle(0, "x")
    if node.op.sparse_grad:
        return [_like(mul(sp_ones_like(x), g), x)]
    dense = ft.zeros_like(dense_from_sparse(x)) + g
    return [SparseFromDense(x.format)(dense)]


# -- elementwise ---------------------------------------------------------------------------------
class Neg(_SameType, Op):
    __props__ = ()

    def perform(self, node: Apply, inputs: list) -> list:
        return [-inputs[0]]


neg = Neg()


@register_grad(Neg)
def _neg_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    return [None if g is None else neg(g)]


class _SparseSparse:
    """An elementwise op of two sparse matrices of one shape, ``_combine(x, y)``: sparse, of the
    first operand's format and the dtypes' upcast."""

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _sparse_in(self, y)
        return Apply(self, [x, y], [SparseTensorType(x.format, _upcast(x.dtype, y.dtype))])  # type: ignore[arg-type]

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        _same_shape(self, x, y)  # type: ignore[arg-type]
        return [_as_type(self._combine(x, y), node.outputs[0].type)]  # type: ignore[attr-defined]


class AddSS(_SparseSparse, Op):
    """Sparse + sparse, sparse (the first operand's format, the dtypes' upcast)."""

    __props__ = ()

    def _combine(self, x: Any, y: Any) -> Any:
        return x + y


class AddSD(Op):
    """Sparse + dense, dense."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _dense_in(self, y, (2,))
        return Apply(self, [x, y], [TensorType(_upcast(x.dtype, y.dtype), (None, None))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        _same_shape(self, x, y)
        return [np.asarray(x + y, dtype=node.outputs[0].dtype)]


def _same_shape(op: Op, x: Any, y: Any) -> None:
    if x.shape != y.shape:
        raise ValueError(f"{op}: the operands' shapes differ, {x.shape} and {y.shape}")


add_s_s = AddSS()
add_s_d = AddSD()


def add(x: Any, y: Any) -> Variable:
    """``x + y``, one of them sparse: sparse for two sparse matrices, else dense."""
    x, y = _operands(x, y)
    if is_sparse_variable(x) and is_sparse_variable(y):
        return add_s_s(x, y)
    if is_sparse_variable(x):
        return add_s_d(x, y)
    if is_sparse_variable(y):
        return add_s_d(y, x)
    raise TypeError("sparse.add: neither operand is sparse; use ft.add (or +) for dense tensors")


def sub(x: Any, y: Any) -> Variable:
    """``x - y``, one of them sparse."""
    x, y = _operands(x, y)
    return add(x, neg(y) if is_sparse_variable(y) else -y)


subtract = sub


@register_grad(AddSS)
def _add_ss_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    return [None, None] if g is None else [_like(g, v) for v in node.inputs]


@register_grad(AddSD)
def _add_sd_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    x = node.inputs[0]
    # the sparse operand's gradient is structured, as in PyTensor
    return [_like(mul(sp_ones_like(x), ft.cast(g, x.dtype)), x), g]


class MulSS(_SparseSparse, Op):
    """Sparse * sparse elementwise, sparse."""

    __props__ = ()

    def _combine(self, x: Any, y: Any) -> Any:
        return x.multiply(y)


class MulSD(Op):
    """Sparse * dense elementwise: a sparse matrix with ``x``'s stored entries, each times the
    dense value there. ``y`` is a scalar or a matrix of ``x``'s shape; a dim of size 1 broadcasts
    only where ``y``'s type declares it (``y.dimshuffle("x", 0)``)."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _dense_in(self, y, (0, 2))
        return Apply(self, [x, y], [SparseTensorType(x.format, _upcast(x.dtype, y.dtype))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        t = node.outputs[0].type
        z = x.astype(t.dtype) if x.dtype.name != t.dtype else x.copy()
        if y.ndim == 0:
            z.data *= y
            return [z]
        declared = node.inputs[1].type.shape
        for d in range(2):
            if y.shape[d] != x.shape[d] and not (y.shape[d] == 1 and declared[d] == 1):
                raise ValueError(
                    f"{self}: the dense operand's shape {y.shape} does not fit the sparse one's "
                    f"{x.shape}; a dim of size 1 broadcasts only where its type declares it "
                    "(y.dimshuffle('x', 0) for a row)"
                )
        rows, cols = _coords(z)
        z.data *= np.broadcast_to(y, x.shape)[rows, cols]
        return [z]


mul_s_s = MulSS()
mul_s_d = MulSD()


def mul(x: Any, y: Any) -> Variable:
    """``x * y`` elementwise, one of them sparse: sparse, with the stored entries of the
    sparse operand (both operands' for two sparse matrices). The other may be a dense matrix
    of the same shape or a scalar."""
    x, y = _operands(x, y)
    if is_sparse_variable(x) and is_sparse_variable(y):
        return mul_s_s(x, y)
    if is_sparse_variable(y):
        x, y = y, x
    if not is_sparse_variable(x):
        raise TypeError("sparse.mul: neither operand is sparse; use ft.mul (or *) for dense tensors")
    return mul_s_d(x, y)


multiply = mul


@register_grad(MulSS)
def _mul_ss_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    x, y = node.inputs
    return [_like(mul(y, g), x), _like(mul(x, g), y)]


@register_grad(MulSD)
def _mul_sd_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    x, y = node.inputs
    gx = _like(mul(g, y), x)
    xg = mul(x, g)
    gy = sp_sum(xg) if y.ndim == 0 else dense_from_sparse(xg)
    return [gx, gy]


# -- comparisons ---------------------------------------------------------------------------------
#: each comparison's function, and its mirror (``a < b`` is ``b > a``)
_COMPARISONS = {
    "eq": (operator.eq, "eq"),
    "neq": (operator.ne, "neq"),
    "lt": (operator.lt, "gt"),
    "gt": (operator.gt, "lt"),
    "le": (operator.le, "ge"),
    "ge": (operator.ge, "le"),
}


def _comparison_name(op: str, where: str) -> str:
    if op not in _COMPARISONS:
        raise ValueError(f"{where}: op must be one of {sorted(_COMPARISONS)}, got {op!r}")
    return op


class ComparisonSS(Op):
    """Sparse ``x`` compared with sparse ``y`` elementwise (``op`` one of eq, neq, lt, gt, le,
    ge): a sparse uint8 matrix of ``x``'s format holding the 1s, as PyTensor's ``EqualSS``,
    ``LessThanSS``... (eq, le and ge hold a 1 wherever both matrices are zero)."""

    __props__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = _comparison_name(op, "ComparisonSS")

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _sparse_in(self, y)
        return Apply(self, [x, y], [SparseTensorType(x.format, "uint8")])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        _same_shape(self, x, y)
        with warnings.catch_warnings():
            # eq, le and ge are true where neither matrix stores an entry: scipy warns that
            # the result is dense in a sparse matrix, which is what PyTensor's is
            warnings.simplefilter("ignore", scipy_sparse().SparseEfficiencyWarning)
            z = _COMPARISONS[self.op][0](x, y)
        z.eliminate_zeros()
        return [_as_type(z, node.outputs[0].type)]


class ComparisonSD(Op):
    """Sparse ``x`` compared with dense ``y`` (a matrix of ``x``'s shape, or a scalar)
    elementwise: a dense uint8 matrix, as PyTensor's ``EqualSD``, ``LessThanSD``..."""

    __props__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = _comparison_name(op, "ComparisonSD")

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), _dense_in(self, y, (0, 2))
        return Apply(self, [x, y], [TensorType("uint8", (None, None))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        if y.ndim == 2:
            _same_shape(self, x, y)
        # a dense operand makes scipy's comparison dense
        z = _COMPARISONS[self.op][0](x, np.broadcast_to(y, x.shape))
        return [np.asarray(z, dtype="uint8")]


@register_grad(ComparisonSS, ComparisonSD)
def _comparison_grad(node: Apply, out_grads: list) -> list:
    return [None, None]  # the outputs are integers: nothing flows back


def _comparison(op: str) -> Callable[[Any, Any], Variable]:
    def compare(x: Any, y: Any) -> Variable:
        x, y = _operands(x, y)
        if is_sparse_variable(x) and is_sparse_variable(y):
            return ComparisonSS(op)(x, y)
        if is_sparse_variable(x):
            return ComparisonSD(op)(x, y)
        if is_sparse_variable(y):
            return ComparisonSD(_COMPARISONS[op][1])(y, x)
        raise TypeError(f"sparse.{op}: neither operand is sparse; compare dense tensors with ft.{op}")

    compare.__name__ = compare.__qualname__ = op
    compare.__doc__ = (
        f"``{op}(x, y)`` elementwise, one or both sparse (PyTensor's ``sparse.{op}``): a sparse "
        "uint8 matrix (``x``'s format) for two sparse operands, else a dense uint8 matrix."
    )
    return compare


eq = _comparison("eq")
neq = _comparison("neq")
lt = _comparison("lt")
gt = _comparison("gt")
le = _comparison("le")
ge = _comparison("ge")

# PyTensor's names of the comparisons of two sparse matrices (``equal_s_s``) and of a sparse
# with a dense matrix (``equal_s_d``)
equal_s_s, equal_s_d = ComparisonSS("eq"), ComparisonSD("eq")
not_equal_s_s, not_equal_s_d = ComparisonSS("neq"), ComparisonSD("neq")
less_than_s_s, less_than_s_d = ComparisonSS("lt"), ComparisonSD("lt")
greater_than_s_s, greater_than_s_d = ComparisonSS("gt"), ComparisonSD("gt")
less_equal_s_s, less_equal_s_d = ComparisonSS("le"), ComparisonSD("le")
greater_equal_s_s, greater_equal_s_d = ComparisonSS("ge"), ComparisonSD("ge")


def _structured(fn: Callable[..., Variable], name: str) -> Callable[..., Variable]:
    """``fn`` applied to a sparse matrix's stored values only (its structure kept)."""

    def apply(x: Any, *args: Any) -> Variable:
        x = _sparse_in(f"sparse.{name}", x)
        data, indices, indptr, shape = csm_properties(x)
        return CSM(x.format)(fn(data, *args), indices, indptr, shape)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"``{fn.__name__}`` of sparse ``x``'s stored values (its structure kept)."
    return apply


structured_sigmoid = _structured(ft.sigmoid, "structured_sigmoid")
structured_exp = _structured(ft.exp, "structured_exp")
structured_log = _structured(ft.log, "structured_log")
structured_add = _structured(ft.add, "structured_add")
structured_pow = _structured(ft.pow, "structured_pow")
sqr = _structured(ft.sqr, "sqr")
sqrt = _structured(ft.sqrt, "sqrt")
abs_ = _structured(ft.abs, "abs_")
sin = _structured(ft.sin, "sin")
tan = _structured(ft.tan, "tan")
tanh = _structured(ft.tanh, "tanh")
arcsin = _structured(ft.arcsin, "arcsin")
arctan = _structured(ft.arctan, "arctan")
sinh = _structured(ft.sinh, "sinh")
arcsinh = _structured(ft.arcsinh, "arcsinh")
arctanh = _structured(ft.arctanh, "arctanh")
log1p = _structured(ft.log1p, "log1p")
expm1 = _structured(ft.expm1, "expm1")
floor = _structured(ft.floor, "floor")
ceil = _structured(ft.ceil, "ceil")
trunc = _structured(ft.trunc, "trunc")
sign = _structured(ft.sign, "sign")
deg2rad = _structured(ft.deg2rad, "deg2rad")
rad2deg = _structured(ft.rad2deg, "rad2deg")
structured_minimum = _structured(ft.minimum, "structured_minimum")
structured_maximum = _structured(ft.maximum, "structured_maximum")
rint = _structured(ft.rint, "rint")
_conjugate = _structured(ft.conj, "structured_conjugate")


def structured_conjugate(x: Any) -> Variable:
    """The complex conjugate of sparse ``x``'s stored values; ``x`` itself where its values are
    real (PyTensor's ``conj``)."""
    x = _sparse_in("sparse.conj", x)
    return _conjugate(x) if x.dtype.startswith("complex") else x


conj = conjugate = structured_conjugate
#: PyTensor's name of `abs_` (``fncache.sparse.abs``; the builtin is not used in this module)
abs = abs_


def structured_elemwise(tensor_op: Callable[..., Variable]) -> Callable[[Callable], Callable[..., Variable]]:
    """PyTensor's decorator of a structured function: ``@structured_elemwise(ft.exp)`` over
    ``def f(x)`` makes ``f(x, *args)`` apply ``tensor_op(values, *args)`` to sparse ``x``'s
    stored values, its structure kept (the decorated body is not run)."""

    def decorate(f: Callable) -> Callable[..., Variable]:
        apply = _structured(tensor_op, f.__name__)
        apply.__doc__ = f.__doc__ or apply.__doc__
        apply.__module__ = f.__module__
        return apply

    return decorate


# -- products ------------------------------------------------------------------------------------
class Dot(Op):
    """The matrix product of two matrices, one or both sparse: dense. Its gradient with
    respect to a sparse operand is regular (the dense gradient, made sparse)."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
        if not (is_sparse_variable(x) or is_sparse_variable(y)):
            raise TypeError("sparse.dot: neither operand is sparse; use ft.dot for dense tensors")
        for v in (x, y):
            if v.ndim != 2:
                raise TypeError(f"{self}: the operands must be matrices, got {v.type}")
        return Apply(self, [x, y], [TensorType(_upcast(x.dtype, y.dtype), (None, None))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        if x.shape[1] != y.shape[0]:
            raise ValueError(f"{self}: shapes {x.shape} and {y.shape} are not aligned")
        z = x @ y
        if is_sparse_value(z):
            z = z.toarray()
        return [np.asarray(z, dtype=node.outputs[0].dtype)]


_dot = Dot()


def dot(x: Any, y: Any) -> Variable:
    """``x @ y``, one or both sparse: a dense matrix (PyTensor's ``sparse.dot``); with a dense
    vector for the other operand, a dense vector, as numpy's (the vector as a one-column or
    one-row matrix)."""
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    for v in (x, y):
        if v.ndim not in (1, 2):
            raise TypeError(f"sparse.dot: the operands must be matrices or vectors, got {v.type}")
    if y.ndim == 1:
        return _dot(x, y.dimshuffle(0, "x")).flatten()
    if x.ndim == 1:
        return _dot(x.dimshuffle("x", 0), y).flatten()
    return _dot(x, y)


def _product(a: Variable, b: Variable) -> Variable:
    """``a @ b`` as a dense matrix, whichever operands are sparse."""
    if is_sparse_variable(a) or is_sparse_variable(b):
        return dot(a, b)
    return ft.dot(a, b)


def _t(v: Variable) -> Variable:
    return transpose(v) if is_sparse_variable(v) else v.T


def _dense_grad_as(g: Variable, v: Variable) -> Variable:
    """Dense gradient ``g`` as the gradient of ``v``: made sparse of ``v``'s type for a sparse one."""
    if not is_sparse_variable(v):
        return g
    return SparseFromDense(v.format)(ft.cast(g, v.dtype))


@register_grad(Dot)
def _dot_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    return _product_grads(g, *node.inputs)


def _product_grads(g: Variable, x: Variable, y: Variable) -> list[Variable]:
    """The gradients of ``x @ y`` with respect to ``x`` and ``y`` given the product's ``g``:
    regular (made sparse for a sparse operand)."""
    return [_dense_grad_as(_product(g, _t(y)), x), _dense_grad_as(_product(_t(x), g), y)]


class StructuredDot(Op):
    """The product of sparse ``a`` and a matrix ``b``: dense for a dense ``b``, sparse (``a``'s
    format) for a sparse one. Its gradient with respect to ``a`` is structured: the product's
    gradient at ``a``'s stored entries only (`StructuredDotGrad`)."""

    __props__ = ()

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _sparse_in(self, a), as_sparse_or_tensor_variable(b)
        if b.ndim != 2:
            raise TypeError(f"{self}: b must be a matrix, got {b.type}")
        dtype = _upcast(a.dtype, b.dtype)
        out = SparseTensorType(a.format, dtype) if is_sparse_variable(b) else TensorType(dtype, (None, None))
        return Apply(self, [a, b], [out])

    def perform(self, node: Apply, inputs: list) -> list:
        a, b = inputs
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"{self}: shapes {a.shape} and {b.shape} are not aligned")
        t = node.outputs[0].type
        z = a @ b
        if isinstance(t, SparseTensorType):
            return [_as_type(z, t)]
        return [np.asarray(z, dtype=t.dtype)]


_structured_dot = StructuredDot()


def structured_dot(x: Any, y: Any) -> Variable:
    """``x @ y`` with one or both operands sparse; the gradient with respect to a sparse
    operand is structured (values at its stored entries only)."""
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    if is_sparse_variable(x):
        return _structured_dot(x, y)
    if not is_sparse_variable(y):
        raise TypeError("structured_dot: neither operand is sparse; use ft.dot for dense tensors")
    return _structured_dot(transpose(y), x.T).T


class StructuredDotGrad(Op):
    """The gradient of ``a @ b`` with respect to sparse ``a`` at its stored entries, given the
    product's gradient ``g``: at entry (i, j), ``g[i] . b[j]``; a matrix of ``a``'s type and
    structure."""

    __props__ = ()

    def make_node(self, a: Any, b: Any, g: Any) -> Apply:
        a, b, g = _sparse_in(self, a), as_sparse_or_tensor_variable(b), as_sparse_or_tensor_variable(g)
        return Apply(self, [a, b, g], [a.type])

    def perform(self, node: Apply, inputs: list) -> list:
        a, b, g = inputs
        rows, cols = _coords(a)
        if is_sparse_value(b) or is_sparse_value(g):
            values = _sample(g @ b.T, rows, cols)
        else:
            values = np.einsum("ij,ij->i", np.asarray(g)[rows], np.asarray(b)[cols])
        z = a.copy()
        z.data = np.asarray(values, dtype=z.dtype)
        return [z]


structured_dot_grad = StructuredDotGrad()


@register_grad(StructuredDotGrad)
def _structured_dot_grad_grad(node: Apply, out_grads: list) -> list:
    # z[i, j] = g[i] . b[j] at a's stored entries: the output gradient (of a's structure) gives
    # b's and g's; a's structure carries none
    (gz,) = out_grads
    if gz is None:
        return [None, None, None]
    _, b, g = node.inputs
    return [None, _dense_grad_as(dot(transpose(gz), g), b), _dense_grad_as(dot(gz, b), g)]


def sampling_dot(x: Any, y: Any, p: Any) -> Variable:
    """``p * (x @ y.T)`` at ``p``'s stored entries only (PyTensor's ``sampling_dot``): ``x``
    and ``y`` dense matrices, ``p`` sparse; sparse, of ``p``'s format. The product is computed
    at those entries alone."""
    p = _sparse_in("sampling_dot", p)
    x, y = _dense_in("sampling_dot", x, (2,)), _dense_in("sampling_dot", y, (2,))
    return mul(p, structured_dot_grad(p, y, x))


def row_scale(x: Any, s: Any) -> Variable:
    """Sparse ``x`` with row i's stored values times ``s[i]`` (a dense vector)."""
    return mul(x, _dense_in("row_scale", s, (1,)).dimshuffle(0, "x"))


def _by_columns(what: str, x: Any, v: Any) -> tuple[Variable, Variable]:
    """Sparse ``x`` and dense vector ``v`` as a row to broadcast over ``x``'s rows."""
    return _sparse_in(what, x), _dense_in(what, v, (1,)).dimshuffle("x", 0)


def col_scale(x: Any, s: Any) -> Variable:
    """Sparse ``x`` with column j's stored values times ``s[j]`` (a dense vector)."""
    return mul(*_by_columns("col_scale", x, s))


def mul_s_v(x: Any, y: Any) -> Variable:
    """Sparse ``x`` times dense vector ``y`` broadcast over its rows (PyTensor's ``mul_s_v``):
    sparse, with ``x``'s stored entries. Its gradients are PyTensor's: ``x``'s the output
    gradient times ``y`` at those entries, ``y``'s the column sums of ``x`` times it."""
    return mul(*_by_columns("mul_s_v", x, y))


def structured_add_s_v(x: Any, y: Any) -> Variable:
    """Sparse ``x`` with ``y[j]`` added to each stored value of column j (PyTensor's
    ``structured_add_s_v``; ``y`` a dense vector): sparse, of ``x``'s format. Its gradients are
    structured: ``x``'s the output gradient, ``y``'s its column sums at ``x``'s entries."""
    x, row = _by_columns("structured_add_s_v", x, y)
    return add(x, mul(sp_ones_like(x), row))


class Usmm(Op):
    """``z + alpha * (x @ y)``, dense (PyTensor's ``usmm``): ``x`` or ``y`` sparse, the other
    a sparse or dense matrix, ``z`` a dense matrix of the product's shape, ``alpha`` a scalar
    (or a tensor of one element, its dims declared of size 1).
    Its gradients with respect to ``x`` and ``y`` are those of `Dot` (regular); PyTensor's
    ``Usmm`` has none."""

    __props__ = ()

    def make_node(self, alpha: Any, x: Any, y: Any, z: Any) -> Apply:
        x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
        if not (is_sparse_variable(x) or is_sparse_variable(y)):
            raise TypeError(
                f"{self}: neither x nor y is sparse; use z + alpha * ft.dot(x, y) for dense tensors"
            )
        for v in (x, y):
            if v.ndim != 2:
                raise TypeError(f"{self}: x and y must be matrices, got {v.type}")
        alpha = as_tensor_variable(alpha)
        if alpha.ndim and all(d == 1 for d in alpha.type.shape):
            alpha = alpha.dimshuffle()  # PyTensor's rewrites give alpha as a (1, 1) tensor
        alpha, z = _dense_in(self, alpha, (0,)), _dense_in(self, z, (2,))
        dtype = _upcast(alpha.dtype, x.dtype, y.dtype, z.dtype)
        return Apply(self, [alpha, x, y, z], [TensorType(dtype, (None, None))])

    def perform(self, node: Apply, inputs: list) -> list:
        alpha, x, y, z = inputs
        if x.shape[1] != y.shape[0]:
            raise ValueError(f"{self}: shapes {x.shape} and {y.shape} are not aligned")
        if z.shape != (x.shape[0], y.shape[1]):
            raise ValueError(f"{self}: z's shape {z.shape} is not the product's {(x.shape[0], y.shape[1])}")
        xy = x @ y
        if is_sparse_value(xy):
            xy = xy.toarray()
        dtype = node.outputs[0].dtype
        return [np.asarray(z + alpha * np.asarray(xy), dtype=dtype)]


usmm = Usmm()


@register_grad(Usmm)
def _usmm_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None] * 4
    alpha, x, y, z = node.inputs
    ga = (ft.cast(g, alpha.dtype) * ft.cast(_product(x, y), alpha.dtype)).sum()
    return [ga, *_product_grads(g * alpha, x, y), ft.cast(g, z.dtype)]


class TrueDot(Op):
    """The product of sparse ``x`` and a matrix ``y`` as a sparse matrix of ``x``'s format
    (PyTensor's ``true_dot``); its gradients are regular (sparse for a sparse operand, dense
    for a dense one)."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = _sparse_in(self, x), as_sparse_or_tensor_variable(y)
        if y.ndim != 2:
            raise TypeError(f"{self}: y must be a matrix, got {y.type}")
        return Apply(self, [x, y], [SparseTensorType(x.format, _upcast(x.dtype, y.dtype))])

    def perform(self, node: Apply, inputs: list) -> list:
        x, y = inputs
        if x.shape[1] != y.shape[0]:
            raise ValueError(f"{self}: shapes {x.shape} and {y.shape} are not aligned")
        return [_as_type(x @ y, node.outputs[0].type)]


_true_dot = TrueDot()


def true_dot(x: Any, y: Any) -> Variable:
    """``x @ y`` as a sparse matrix, one or both operands sparse."""
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    if is_sparse_variable(x):
        return _true_dot(x, y)
    if not is_sparse_variable(y):
        raise TypeError("true_dot: neither operand is sparse; use ft.dot for dense tensors")
    return transpose(_true_dot(transpose(y), x.T))


@register_grad(TrueDot)
def _true_dot_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    x, y = node.inputs
    gy = true_dot(transpose(x), g)
    return [_like(true_dot(g, _t(y)), x), _like(gy, y) if is_sparse_variable(y) else dense_from_sparse(gy)]


@register_grad(StructuredDot)
def _structured_dot_grad(node: Apply, out_grads: list) -> list:
    (g,) = out_grads
    if g is None:
        return [None, None]
    a, b = node.inputs
    gb = structured_dot(transpose(a), g)
    return [structured_dot_grad(a, b, g), _like(gb, b) if is_sparse_variable(b) else gb]
