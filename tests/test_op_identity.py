"""Op identity, class by class: what `merge`, constant folding and the function cache read.

Two ops that compute different things must never compare equal, hash alike or give a graph the
same function key (a merged node or a cache hit would then silently return the other op's
values); equal ops must be equal, hash alike and survive a pickle as themselves. Every op class
of fncache is checked: one without constructor arguments is covered as it is; every other one
has an entry in ``EXAMPLES`` giving a base constructor call and, for each constructor argument,
another value. A new op class that is neither, or an entry that leaves an argument out, fails
:func:`test_every_op_class_is_covered`, and an attribute that is not a prop fails
:func:`test_every_attribute_is_a_prop` unless ``DERIVED`` says why it adds nothing, so no op can
join without its identity being checked. User op classes (identified by their attributes and
their code), the values each op computes in one process and in fresh processes sharing the
cache, and constants (identified by their value) follow.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from typing import Any, Callable

import numpy as np
import pytest

import fncache
import fncache.ifelse
from fncache import tensor as ft
from fncache.graph.basic import Apply, Op
from fncache.graph.fgraph import FunctionGraph
from fncache.graph.types import TensorType
from fncache.mode import get_mode
from fncache.runtime.compile import function_key
from fncache.tensor import scalar_ops as S
from fncache.tensor.elemwise import Elemwise

from fcutil import in_tests_dir, keys_in_fresh_processes, run_python


def _all_op_classes() -> list[type[Op]]:
    """Every subclass of `Op` defined in fncache, all of its modules imported."""
    for m in pkgutil.walk_packages(fncache.__path__, "fncache."):
        importlib.import_module(m.name)
    found: dict[type[Op], None] = {}
    stack = list(Op.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("fncache.") and cls not in found:
            found[cls] = None
        stack.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _unary(name: str) -> S.Composite:
    return S.Composite(("float64",), [(name, (("in", 0),), "float64")], [0])


def _inner(*outs: Callable[[Any], Any]) -> FunctionGraph:
    x = ft.dvector("x")
    return FunctionGraph([x], [f(x) for f in outs])


def _double(x: Any) -> Any:
    return x * 2


def _shift(x: Any) -> Any:
    return x + 2


def _stop(x: Any) -> Any:
    return x.sum() > 3


_DV, _FV = TensorType("float64", (None,)), TensorType("float32", (None,))
_X, _F = ft.dvector("x"), ft.fvector("x")
_POOL = {"ws": (2, 2), "stride": (2, 2), "pad": (0, 0), "ignore_border": True, "mode": "max"}
_POOL_ALT = {"ws": (3, 3), "stride": (1, 1), "pad": (1, 1), "ignore_border": False, "mode": "sum"}
_CONV = {"border": "valid", "subsample": (1, 1), "filter_flip": True, "dilation": (1, 1)}
_CONV_ALT = {"border": "full", "subsample": (2, 2), "filter_flip": False, "dilation": (2, 1)}
_NEIBS = {"neib_shape": (2, 2), "neib_step": (2, 2), "mode": "valid"}
_NEIBS_ALT = {"neib_shape": (3, 3), "neib_step": (1, 1), "mode": "wrap_centered"}
_ADV = {"key": (("a", 0),)}
_ADV_ALT = {"key": (("a", 0), ("a", 1))}
_SLICE = (("s", ("c", 1), ("c", 3), None),)
_INDEX = (("i", ("c", 2)),)

#: a scipy.optimize op's constructor arguments (the inner graph its objective)
_OPT: dict[str, Any] = {
    "inner": _inner(_double),
    "kind": "minimize",
    "method": "BFGS",
    "jac": True,
    "hess": False,
    "options": (),
}

#: class -> (base constructor arguments, {argument: the arguments that change it}); a class
#: without an entry uses its nearest base class's (the same constructor).
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    "fncache.tensor.elemwise.Elemwise": (
        {"composite": _unary("exp"), "inplace": ()},
        {"composite": {"composite": _unary("log")}, "inplace": {"inplace": ((0, 0),)}},
    ),
    "fncache.tensor.blas.RowPass": (
        {"nodes": ((Elemwise(_unary("exp")), (0,)),), "outs": (1,), "products": 1},
        {
            "nodes": {"nodes": ((Elemwise(_unary("log")), (0,)),)},
            "outs": {"outs": (0,)},
            "products": {"products": 2},
        },
    ),
    "fncache.tensor.grad_markers.GradClip": (
        {"lower": -1.0, "upper": 1.0},
        {"lower": {"lower": -2.0}, "upper": {"upper": 2.0}},
    ),
    "fncache.tensor.grad_markers.GradScale": ({"multiplier": 2.0}, {"multiplier": {"multiplier": 3.0}}),
    "fncache.tensor.subtensor.Subtensor": ({"idx": _SLICE}, {"idx": {"idx": _INDEX}}),
    "fncache.tensor.grad_ops.SumToShape": (
        {"spec": ((0, ((1, 0),)),)},
        {"spec": {"spec": ((1, ((1, 1),)),)}},
    ),
    "fncache.tensor.grad_ops.SubtensorGrad": (
        {"idx": _SLICE, "in_range": False},
        {"idx": {"idx": _INDEX}, "in_range": {"in_range": True}},
    ),
    "fncache.tensor.grad_ops.ReducedSize": (
        {"spec": (((0, 0),),), "dtype": "int64"},
        {"spec": {"spec": (((0, 1),),)}, "dtype": {"dtype": "float64"}},
    ),
    "fncache.tensor.grad_ops.SortGrad": (
        {"axis": 0, "gather": False},
        {"axis": {"axis": 1}, "gather": {"gather": True}},
    ),
    "fncache.tensor.grad_ops.RepeatGrad": ({"axis": 0}, {"axis": {"axis": 1}}),
    "fncache.tensor.grad_ops.ZerosSum": ({"axes": (0,)}, {"axes": {"axes": (1,)}}),
    "fncache.tensor.reduction.Reduce": (
        {"kind": "add", "axes": (0,), "out_dtype": "float64", "pre": None, "ddof": 0, "acc_dtype": None},
        {
            "kind": {"kind": "mul"},
            "axes": {"axes": (1,)},
            "out_dtype": {"out_dtype": "float32"},
            "pre": {"pre": _unary("sqr")},
            "ddof": {"ddof": 1},
            "acc_dtype": {"acc_dtype": "float64"},
        },
    ),
    "fncache.tensor.reduction.ArgReduce": (
        {"kind": "max", "axis": 0},
        {"kind": {"kind": "min"}, "axis": {"axis": 1}},
    ),
    "fncache.tensor.shape_ops.DimShuffle": (
        {"input_ndim": 2, "new_order": (1, 0)},
        {"input_ndim": {"input_ndim": 3}, "new_order": {"new_order": (1, "x", 0)}},
    ),
    "fncache.tensor.shape_ops.MakeVector": ({"what": "shape"}, {"what": {"what": "reps"}}),
    "fncache.tensor.shape_ops.Reshape": ({"ndim": 2}, {"ndim": {"ndim": 3}}),
    "fncache.tensor.shape_ops.Concatenate": ({"axis": 0}, {"axis": {"axis": 1}}),
    "fncache.tensor.inc_subtensor.IncSubtensor": (
        {"idx": _SLICE, "set_instead_of_inc": False},
        {"idx": {"idx": _INDEX}, "set_instead_of_inc": {"set_instead_of_inc": True}},
    ),
    "fncache.tensor.pyop.PythonOp": (
        {"fn": np.exp, "itypes": (_DV,), "otypes": (_DV,), "grad_fn": None, "complex_values": None},
        {
            "fn": {"fn": np.log},
            "itypes": {"itypes": (_FV,)},
            "otypes": {"otypes": (_FV,)},
            "grad_fn": {"grad_fn": lambda inputs, grads: [grads[0]]},
            "complex_values": {"complex_values": "linear"},
        },
    ),
    "fncache.tensor.pyop.Assert": (
        {"msg": "positive", "optional": False},
        {"msg": {"msg": "finite"}, "optional": {"optional": True}},
    ),
    "fncache.tensor.pyop.CheckAndRaise": (
        {"exc_type": ValueError, "msg": "positive", "optional": False},
        {
            "exc_type": {"exc_type": TypeError},
            "msg": {"msg": "finite"},
            "optional": {"optional": True},
        },
    ),
    "fncache.tensor.pyop.ArgumentCheck": (
        {"msg": "positive", "optional": False, "removable": True},
        {"msg": {"msg": "finite"}, "optional": {"optional": True}, "removable": {"removable": False}},
    ),
    "fncache.tensor.pyop.BroadcastCheck": (
        {"op_name": "mul", "axis": 1},
        {"op_name": {"op_name": "add"}, "axis": {"axis": 0}},
    ),
    "fncache.tensor.pyop.Print": (
        {"message": "x", "attrs": ("__str__",)},
        {"message": {"message": "y"}, "attrs": {"attrs": ("shape",)}},
    ),
    "fncache.tensor.sparse.basic.CSM": ({"format": "csr"}, {"format": {"format": "csc"}}),
    "fncache.tensor.sparse.basic.CSMGrad": ({"format": "csr"}, {"format": {"format": "csc"}}),
    "fncache.tensor.sparse.basic.SparseFromDense": ({"format": "csr"}, {"format": {"format": "csc"}}),
    "fncache.tensor.sparse.basic.AsSparseType": (
        {"format": "csr", "dtype": "float64"},
        {"format": {"format": "csc"}, "dtype": {"dtype": "float32"}},
    ),
    "fncache.tensor.sparse.basic.GetItem2d": (
        {"spec": (("all",), ("list",))},
        {"spec": {"spec": (("list",), ("all",))}},
    ),
    "fncache.tensor.sparse.basic.GetItem2dGrad": (
        {"spec": (("slice", True, False, False), ("all",))},
        {"spec": {"spec": (("slice", False, True, False), ("all",))}},
    ),
    "fncache.tensor.sparse.basic.Stack": (
        {"axis": 0, "format": "csr", "dtype": "float64"},
        {"axis": {"axis": 1}, "format": {"format": "csc"}, "dtype": {"dtype": "float32"}},
    ),
    "fncache.tensor.sparse.basic.ComparisonSS": ({"op": "lt"}, {"op": {"op": "gt"}}),
    "fncache.tensor.sparse.basic.ComparisonSD": ({"op": "eq"}, {"op": {"op": "neq"}}),
    "fncache.tensor.sparse.basic.SpSum": (
        {"axis": None, "sparse_grad": False},
        {"axis": {"axis": 0}, "sparse_grad": {"sparse_grad": True}},
    ),
    "fncache.tensor.array_ops.SpecifyShape": ({"shape": (2, None)}, {"shape": {"shape": (3, None)}}),
    "fncache.tensor.array_ops.Unbroadcast": ({"axes": (0,)}, {"axes": {"axes": (1,)}}),
    "fncache.tensor.array_ops.Repeat": ({"axis": 0}, {"axis": {"axis": None}}),
    "fncache.tensor.array_ops.Tile": ({"reps": (2,)}, {"reps": {"reps": (3,)}}),
    "fncache.tensor.array_ops.TensorDot": (
        {"a_axes": (1,), "b_axes": (0,)},
        {"a_axes": {"a_axes": (0,)}, "b_axes": {"b_axes": (1,)}},
    ),
    "fncache.tensor.array_ops.CumOp": (
        {"kind": "add", "axis": 0},
        {"kind": {"kind": "mul"}, "axis": {"axis": None}},
    ),
    "fncache.tensor.array_ops.StableArgsort": ({"axis": 0}, {"axis": {"axis": None}}),
    "fncache.tensor.array_ops.CheckAxis": (
        {"ndim": 2, "what": "sort"},
        {"ndim": {"ndim": 3}, "what": {"what": "argsort"}},
    ),
    "fncache.tensor.array_ops.Sort": (
        {"kind": "sort", "axis": 0},
        {"kind": {"kind": "argsort"}, "axis": {"axis": None}},
    ),
    "fncache.tensor.creation.Alloc": ({"ndim": 1}, {"ndim": {"ndim": 2}, "what": {"what": "broadcast_to"}}),
    "fncache.tensor.creation.ARange": ({"dtype": "int64"}, {"dtype": {"dtype": "float64"}}),
    "fncache.tensor.creation.Eye": ({"dtype": "int64"}, {"dtype": {"dtype": "float64"}}),
    "fncache.tensor.nlinalg.Cofactors": ({"over_det": False}, {"over_det": {"over_det": True}}),
    "fncache.tensor.nlinalg.Pinv": ({"hermitian": False}, {"hermitian": {"hermitian": True}}),
    "fncache.tensor.nlinalg.Eigh": ({"UPLO": "L"}, {"UPLO": {"UPLO": "U"}}),
    "fncache.tensor.nlinalg.SVD": (
        {"full_matrices": True, "compute_uv": True},
        {"full_matrices": {"full_matrices": False}, "compute_uv": {"compute_uv": False}},
    ),
    "fncache.tensor.nlinalg.QR": ({"mode": "reduced"}, {"mode": {"mode": "complete"}}),
    "fncache.tensor.nlinalg.Lstsq": (
        {"rcond": None, "rcond_input": False},
        {"rcond": {"rcond": 1e-3}, "rcond_input": {"rcond_input": True}},
    ),
    "fncache.tensor.nlinalg.CheckValue": (
        {"what": "solve", "check": "finite"},
        {"what": {"what": "cholesky", "check": "finite"}, "check": {"what": "solve", "check": "square"}},
    ),
    "fncache.tensor.slinalg.SolveTriangular": ({"lower": True}, {"lower": {"lower": False}}),
    "fncache.tensor.slinalg.Cholesky": ({"on_error": "raise"}, {"on_error": {"on_error": "nan"}}),
    "fncache.tensor.linalg_extra.PivotOrder": (
        {"what": "lu_solve"},
        {"what": {"what": "pivot_to_permutation"}},
    ),
    "fncache.tensor.linalg_scipy.Schur": (
        {"output": "real", "sort": None},
        {"output": {"output": "complex", "sort": None}, "sort": {"output": "real", "sort": "lhp"}},
    ),
    "fncache.tensor.linalg_scipy.QZ": (
        {"output": "real", "sort": None, "eigenvalues": False},
        {
            "output": {"output": "complex", "sort": None, "eigenvalues": False},
            "sort": {"output": "real", "sort": "iuc", "eigenvalues": False},
            "eigenvalues": {"output": "real", "sort": None, "eigenvalues": True},
        },
    ),
    "fncache.tensor.linalg_scipy.PivotedQR": ({"mode": "full"}, {"mode": {"mode": "economic"}}),
    "fncache.tensor.linalg_scipy.TridiagonalLUSolve": (
        {"b_ndim": 1, "transposed": False},
        {"b_ndim": {"b_ndim": 2, "transposed": False}, "transposed": {"b_ndim": 1, "transposed": True}},
    ),
    "fncache.tensor.hyp2f1.Hyp2F1Grad": ({"wrt": 0}, {"wrt": {"wrt": 2}}),
    "fncache.tensor.gamma_shape.BetaincD2": ({"wrt": (0, 1)}, {"wrt": {"wrt": (1, 1)}}),
    "fncache.tensor.advanced_subtensor.AdvancedSubtensor": (_ADV, {"key": _ADV_ALT}),
    "fncache.tensor.advanced_subtensor.AdvancedSubtensorGrad": (_ADV, {"key": _ADV_ALT}),
    "fncache.tensor.advanced_subtensor.AdvancedSetGrad": (_ADV, {"key": _ADV_ALT}),
    "fncache.tensor.advanced_subtensor.AdvancedIncSubtensor": (
        {**_ADV, "set_instead_of_inc": False},
        {"key": _ADV_ALT, "set_instead_of_inc": {"set_instead_of_inc": True}},
    ),
    "fncache.tensor.inner_graph.InnerGraphOp": (
        {"inner": _inner(_double)},
        {"inner": {"inner": _inner(_shift)}},
    ),
    "fncache.tensor.optimize.ScipyOptimizeOp": (
        _OPT,
        {
            "inner": {**_OPT, "inner": _inner(_shift)},
            "kind": {**_OPT, "kind": "root"},
            "method": {**_OPT, "method": "CG"},
            "jac": {**_OPT, "jac": False},
            "hess": {**_OPT, "hess": True},
            "options": {**_OPT, "options": ("dict", (("tol", 1e-3),))},
        },
    ),
    "fncache.tensor.ifelse_op.LazyIfElse": (
        {"inner": _inner(_double, _shift, _double, _shift), "n_outs": 2},
        {"inner": {"inner": _inner(_shift, _double, _double, _shift)}, "n_outs": {"n_outs": 1}},
    ),
    "fncache.tensor.scan.Scan": (
        {
            "inner": _inner(_double),
            "n_seqs": 0,
            "kinds": ("rec",),
            "name": "a",
            "until": False,
            "truncate": -1,
            "shifts": (),
        },
        {
            "inner": {"inner": _inner(_shift)},
            "n_seqs": {"n_seqs": 1},
            "kinds": {"kinds": ("map",)},
            "until": {"inner": _inner(_double, _stop), "until": True},
            "truncate": {"truncate": 3},
            "shifts": {"shifts": ((0, 0),)},
        },
    ),
    "fncache.tensor.op_from_graph.OpFromGraph": (
        {"inputs": [_X], "outputs": [_double(_X)]},
        {"inputs": {"inputs": [_F], "outputs": [_double(_F)]}, "outputs": {"outputs": [_shift(_X)]}},
    ),
    "fncache.tensor.ifelse_op.IfElse": ({"n_outs": 1}, {"n_outs": {"n_outs": 2}}),
    "fncache.tensor.conv._ConvOp": (_CONV, {k: {k: v} for k, v in _CONV_ALT.items()}),
    "fncache.tensor.random.RandomVariable": (
        {
            "dist": "normal",
            "dtype": "float64",
            "key": (1, 2),
            "ndim": 1,
            "has_size": True,
            "replace": True,
            "endpoint": False,
            "seeded": False,
        },
        {
            "dist": {"dist": "uniform"},
            "dtype": {"dtype": "float32"},
            "key": {"key": (1, 3)},
            "ndim": {"ndim": 2},
            "has_size": {"has_size": False},
            "replace": {"replace": False},
            "endpoint": {"endpoint": True},
            "seeded": {"seeded": True},
        },
    ),
    "fncache.tensor.random.RandomDraw": (
        {
            "dist": "normal",
            "dtype": "float64",
            "ndim": 1,
            "has_size": True,
            "replace": True,
            "endpoint": False,
        },
        {
            "dist": {"dist": "uniform"},
            "dtype": {"dtype": "float32"},
            "ndim": {"ndim": 2},
            "has_size": {"has_size": False},
            "replace": {"replace": False},
            "endpoint": {"endpoint": True},
        },
    ),
    "fncache.tensor.data_ops.Unique": (
        {"return_index": False, "return_inverse": False, "return_counts": False, "axis": None},
        {
            "return_index": {"return_index": True},
            "return_inverse": {"return_inverse": True},
            "return_counts": {"return_counts": True},
            "axis": {"axis": 0},
        },
    ),
    "fncache.tensor.data_ops.BinCount": (
        {"minlength": 0, "weighted": False},
        {"minlength": {"minlength": 5}, "weighted": {"weighted": True}},
    ),
    "fncache.tensor.data_ops.SearchSorted": (
        {"side": "left", "with_sorter": False},
        {"side": {"side": "right"}, "with_sorter": {"with_sorter": True}},
    ),
    "fncache.tensor.signal.pool._PoolOp": (_POOL, {k: {k: v} for k, v in _POOL_ALT.items()}),
    "fncache.tensor.index_ops.RavelMultiIndex": (
        {"mode": "raise", "order": "C"},
        {"mode": {"mode": "wrap"}, "order": {"order": "F"}},
    ),
    "fncache.tensor.index_ops.UnravelIndex": (
        {"order": "C", "ndims": 2},
        {"order": {"order": "F"}, "ndims": {"ndims": 3}},
    ),
    "fncache.tensor.neighbours._NeibsOp": (_NEIBS, {k: {k: v} for k, v in _NEIBS_ALT.items()}),
}

#: (class, constructor argument) -> why it is not part of the op's identity: ops differing
#: only there compute the same values, so they are equal (and merge).
NOT_IDENTITY = {
    ("fncache.tensor.scan.Scan", "name"): "the name only labels the loop in printed graphs",
    ("fncache.tensor.pyop.PythonOp", "grad_fn"): "read only while a gradient graph is built",
    ("fncache.tensor.pyop.PythonOp", "complex_values"): "read only while a gradient graph is built",
    **{
        ("fncache.tensor.op_from_graph.OpFromGraph", arg): "read only while a gradient graph is built"
        for arg in (
            "lop_overrides",
            "grad_overrides",
            "rop_overrides",
            "pullback",
            "pushforward",
            "connection_pattern",
        )
    },
    ("fncache.tensor.op_from_graph.OpFromGraph", "inline"): "every op is put inline alike",
    ("fncache.tensor.op_from_graph.OpFromGraph", "strict"): "only refuses implicit inputs",
    ("fncache.tensor.op_from_graph.OpFromGraph", "name"): "the name only labels the op in printed graphs",
    ("fncache.tensor.op_from_graph.OpFromGraph", "kwargs"): "the outer function's mode and options apply",
}

#: (class, attribute) -> why an attribute that is not a prop says nothing more than the props.
DERIVED = {
    ("fncache.tensor.shape_ops.DimShuffle", "dropped"): "computed from in_ndim and pattern",
    ("fncache.tensor.shape_ops.DimShuffle", "perm"): "computed from in_ndim and pattern",
    ("fncache.tensor.inner_graph.InnerGraphOp", "inner"): "identified by its signature, inner_key",
    ("fncache.tensor.inner_graph.InnerGraphOp", "functions"): "the inner graph compiled, per mode",
    ("fncache.tensor.inner_graph.InnerGraphOp", "side_effects"): "whether a node of the inner graph has one",
    (
        "fncache.tensor.inner_graph.InnerGraphOp",
        "user_code",
    ): "whether a node of the inner graph runs a user's op",
    ("fncache.tensor.ifelse_op.LazyIfElse", "branches"): "one op per half of the inner graph's outputs",
    ("fncache.tensor.op_from_graph.OpFromGraph", "is_inline"): "the inline argument",
    ("fncache.tensor.op_from_graph.OpFromGraph", "given_pattern"): "the connection_pattern argument",
    ("fncache.tensor.op_from_graph.OpFromGraph", "shared_inputs"): "what a call appends: node inputs",
    ("fncache.tensor.op_from_graph.OpFromGraph", "n_explicit"): "how many inputs a call gives",
}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _params(cls: type[Op]) -> list[str]:
    """The constructor's arguments (none for a class that keeps Op's constructor)."""
    if cls.__init__ is object.__init__:
        return []
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def _entry(cls: type[Op]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    for base in cls.__mro__:
        if base.__init__ is not cls.__init__:
            return None  # a base with another constructor: its example does not fit
        entry = EXAMPLES.get(_name(base))
        if entry is not None:
            return entry
    return None


OP_CLASSES = _all_op_classes()
CASES = [
    pytest.param(cls, param, id=f"{cls.__qualname__}-{param}")
    for cls in OP_CLASSES
    if _entry(cls) is not None
    for param in _entry(cls)[1]
]


def _in_identity(cls: type[Op], param: str, outside: dict[tuple[str, str], str] = NOT_IDENTITY) -> bool:
    return not any((_name(base), param) in outside for base in cls.__mro__)


def _base(cls: type[Op]) -> Op:
    entry = _entry(cls)
    return cls(**entry[0]) if entry is not None else cls()


def _variant(cls: type[Op], param: str) -> Op:
    base, variants = _entry(cls)  # type: ignore[misc]
    return cls(**{**base, **variants[param]})


def _key(op: Op) -> Any:
    """The function key of a one-node graph applying ``op`` (its inputs and outputs do not
    matter to the key beyond their types, and are the same for every op)."""
    x = ft.dvector("x")
    node = Apply(op, [x], [x.type])
    return function_key(FunctionGraph([x], node.outputs, clone=False), get_mode(None))


def test_every_op_class_is_covered() -> None:
    """Each op class keeps Op's constructor or has an example varying every constructor
    argument that is part of its identity; an example names only real arguments."""
    assert len(OP_CLASSES) > 60
    missing = []
    for cls in OP_CLASSES:
        params = _params(cls)
        if not params:
            continue
        entry = _entry(cls)
        if entry is None:
            missing.append(f"{_name(cls)}: no example (add one to EXAMPLES)")
            continue
        base, variants = entry
        left_out = [p for p in params if p not in variants and _in_identity(cls, p)]
        unknown = sorted((set(base) | set(variants)) - set(params))
        if left_out or unknown:
            missing.append(f"{_name(cls)}: arguments not varied {left_out}, not arguments {unknown}")
    assert not missing, "\n".join(missing)
    assert set(EXAMPLES) <= {_name(c) for c in OP_CLASSES}


@pytest.mark.parametrize("cls", OP_CLASSES, ids=lambda c: c.__qualname__)
def test_every_attribute_is_a_prop(cls: type[Op]) -> None:
    """What an op holds is its identity, or computed from it, or said above why not: a new
    attribute that changes what the op computes cannot stay out of its props unnoticed."""
    op = _base(cls)
    op.signature()
    others = [
        a
        for a in vars(op)
        if a not in cls.__props__
        and a not in ("_signature", "_identity_watch")
        and _in_identity(cls, a)
        and _in_identity(cls, a, DERIVED)
    ]
    assert not others, f"{_name(cls)}: attributes {others} are neither props nor in NOT_IDENTITY or DERIVED"


@pytest.mark.parametrize("cls", OP_CLASSES, ids=lambda c: c.__qualname__)
def test_equal_ops_are_equal_hash_alike_and_survive_pickles(cls: type[Op]) -> None:
    a, b = _base(cls), _base(cls)
    assert a == b and hash(a) == hash(b) and a.signature() == b.signature()
    assert _key(a) == _key(b)
    back = pickle.loads(pickle.dumps(a))
    assert type(back) is cls and back == a and hash(back) == hash(a) and _key(back) == _key(a)
    assert back.signature() == a.signature()


@pytest.mark.parametrize("cls, param", CASES)
def test_ops_differing_in_one_argument_are_different_ops(cls: type[Op], param: str) -> None:
    a, b = _base(cls), _variant(cls, param)
    if not _in_identity(cls, param):
        assert a == b and _key(a) == _key(b)
        return
    assert a != b and b != a and a.signature() != b.signature()
    assert _key(a) != _key(b)
    back = pickle.loads(pickle.dumps(b))
    assert back == b and back != a and _key(back) == _key(b)


# -- ops of user classes -------------------------------------------------------------------------

_USER_OP = """
import numpy as np
import fncache as fc
from fncache import tensor as ft

FACTOR = {factor}
OFFSETS = {{"shift": {shift}}}


def scale(v):
    return v * FACTOR + OFFSETS["shift"]


class ScaleOp(fc.Op):
    {props}
    def make_node(self, x):
        x = ft.as_tensor_variable(x)
        return fc.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = {body}
"""


def _user_op(body: str = "scale(inputs[0])", factor: int = 2, props: str = "", shift: int = 0) -> Op:
    """An instance of a user's op class ``user_ops.ScaleOp`` whose ``perform`` stores
    ``body``: each call defines the class anew, as a script edited between two runs does."""
    namespace: dict[str, Any] = {"__name__": "user_ops"}
    exec(_USER_OP.format(body=body, factor=factor, props=props, shift=shift), namespace)
    return namespace["ScaleOp"]()


@pytest.mark.parametrize("props", ["", "__props__ = ()"])
def test_a_user_op_class_is_identified_by_its_code(props: str) -> None:
    """Two versions of a user's class (the same module and name) compute differently: never
    the same identity nor the same key, whether or not the class lists ``__props__``; the same
    code is the same op."""
    a = _user_op(props=props)
    assert a.signature() == _user_op(props=props).signature() and _key(a) == _key(_user_op(props=props))
    for other in (
        _user_op("inputs[0] + 2", props=props),  # the method's code
        _user_op(factor=3, props=props),  # a module constant it reads
        _user_op(shift=1, props=props),  # a module-level table a function it calls reads
        _user_op("scale(inputs[0]) + 0", props=props),  # a constant inside the method
    ):
        assert a.signature() != other.signature() and _key(a) != _key(other)
    import cloudpickle  # the class lives in no importable module: pickled by value

    back = cloudpickle.loads(cloudpickle.dumps(a))
    assert back == a and back.signature() == a.signature()


def test_a_user_op_class_keys_alike_in_every_process(tmp_path) -> None:  # noqa: ANN001
    """The code hash leaves out what differs from process to process (object ids, where the
    class was loaded), so a script's function is a cache hit for the next run of the script."""
    code = _USER_OP.format(body="scale(inputs[0])", factor=2, props="", shift=0) + (
        "import abc\n"
        "class Checked(ScaleOp, abc.ABC):\n"  # abc's registry, a __slots__ member
        "    __slots__ = ('k',)\n"
        "x = ft.dvector('x')\n"
        "print(fc.function([x], [ScaleOp()(x), Checked()(x)]).cache_key)\n"
    )
    assert len(keys_in_fresh_processes(code, tmp_path / "cd", 2)) == 1


def _scale_op_class(k: float) -> type[Op]:
    """A user's op class made by a factory: every class has the same name and code, and
    multiplies by the ``k`` it closes over."""

    class ScaleOp(Op):
        def make_node(self, x: Any) -> Apply:
            x = ft.as_tensor_variable(x)
            return Apply(self, [x], [x.type()])

        def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
            output_storage[0][0] = inputs[0] * k

    return ScaleOp


def test_op_classes_made_by_a_factory_are_told_apart_by_what_they_close_over() -> None:
    two, three = _scale_op_class(2.0)(), _scale_op_class(3.0)()
    assert type(two).__qualname__ == type(three).__qualname__ and _key(two) != _key(three)
    assert _key(two) == _key(_scale_op_class(2.0)())
    x = ft.dvector("x")
    f2, f3 = (fncache.function([x], op(x)) for op in (two, three))
    np.testing.assert_array_equal(f3(np.ones(2)), [3.0, 3.0])
    np.testing.assert_array_equal(f2(np.ones(2)), [2.0, 2.0])


# -- differential: ops differing in one argument, compiled in one process and across processes ----

_RNG = np.random.default_rng(7)
_IMAGE = _RNG.normal(size=(1, 1, 5, 5))
_FILTER = _RNG.normal(size=(1, 1, 2, 2))
_VECTOR = _RNG.normal(size=6)


def _windows(
    x: np.ndarray, ws: tuple[int, int], st: tuple[int, int], ignore_border: bool
) -> list[list[np.ndarray]]:
    """The pooling windows of the last two axes (the ones that pass the border clipped)."""
    (h, w), out = x.shape[-2:], []
    n = [(s - k) // t + 1 if ignore_border else -(-(s - k) // t) + 1 for s, k, t in zip((h, w), ws, st)]
    for i in range(n[0]):
        out.append(
            [x[..., i * st[0] : i * st[0] + ws[0], j * st[1] : j * st[1] + ws[1]] for j in range(n[1])]
        )
    return out


def _pool_ref(
    x: np.ndarray, ws=(2, 2), stride=None, pad=(0, 0), ignore_border=True, mode="max"
) -> np.ndarray:  # noqa: ANN001
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])], constant_values=fill)
    reduce = {"max": np.max, "sum": np.sum, "average_inc_pad": np.mean}[mode]
    rows = _windows(xp, ws, stride or ws, ignore_border)
    return np.array([[reduce(win, axis=(-2, -1)) for win in row] for row in rows]).transpose(2, 3, 0, 1)


def _correlate_ref(x: np.ndarray, k: np.ndarray, flip: bool = True, sub=(1, 1), dil=(1, 1)) -> np.ndarray:  # noqa: ANN001
    k = k[..., ::-1, ::-1] if flip else k
    kd = np.zeros(k.shape[:2] + ((k.shape[2] - 1) * dil[0] + 1, (k.shape[3] - 1) * dil[1] + 1))
    kd[..., :: dil[0], :: dil[1]] = k
    rows = _windows(x, kd.shape[-2:], (1, 1), True)
    full = np.array([[np.sum(win * kd[0, 0]) for win in row] for row in rows])
    return full[:: sub[0], :: sub[1]][None, None]


def _neibs_ref(x: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    return np.array([win.ravel() for row in _windows(x[:, :, :4, :4], (2, 2), step, True) for win in row])


def _scan(step: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def build(x: Any) -> Any:
        ys, _ = fncache.scan(step, outputs_info=[x], n_steps=3)
        return ys[-1]

    return build


def _ifelse(other: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def build(x: Any) -> Any:
        return fncache.ifelse.ifelse(ft.lt(x.sum(), -100.0), x * 2, other(x))

    return build


#: name -> (the input, one graph builder per argument value, the numpy result of each). The two
#: graphs differ in one op argument only (an inner graph, for scan and ifelse).
DIFFERENTIAL: dict[str, tuple[np.ndarray, tuple[Callable, Callable], tuple[Any, Any]]] = {
    "pool_mode": (
        _IMAGE,
        tuple(
            lambda x, m=m: ft.signal.pool.pool_2d(x, (2, 2), True, mode=m) for m in ("max", "average_inc_pad")
        ),
        (_pool_ref(_IMAGE), _pool_ref(_IMAGE, mode="average_inc_pad")),
    ),
    "pool_ignore_border": (
        _IMAGE,
        tuple(lambda x, b=b: ft.signal.pool.pool_2d(x, (2, 2), b) for b in (True, False)),
        (_pool_ref(_IMAGE), _pool_ref(_IMAGE, ignore_border=False)),
    ),
    "pool_stride": (
        _IMAGE,
        tuple(lambda x, s=s: ft.signal.pool.pool_2d(x, (2, 2), True, stride=s) for s in ((2, 2), (1, 1))),
        (_pool_ref(_IMAGE), _pool_ref(_IMAGE, stride=(1, 1))),
    ),
    "pool_pad": (
        _IMAGE,
        tuple(
            lambda x, p=p: ft.signal.pool.pool_2d(x, (2, 2), True, pad=p, mode="sum")
            for p in ((0, 0), (1, 1))
        ),
        (_pool_ref(_IMAGE, mode="sum"), _pool_ref(_IMAGE, pad=(1, 1), mode="sum")),
    ),
    "conv_filter_flip": (
        _IMAGE,
        tuple(lambda x, f=f: ft.nnet.conv2d(x, ft.constant(_FILTER), filter_flip=f) for f in (True, False)),
        (_correlate_ref(_IMAGE, _FILTER), _correlate_ref(_IMAGE, _FILTER, flip=False)),
    ),
    "conv_subsample": (
        _IMAGE,
        tuple(lambda x, s=s: ft.nnet.conv2d(x, ft.constant(_FILTER), subsample=s) for s in ((1, 1), (2, 2))),
        (_correlate_ref(_IMAGE, _FILTER), _correlate_ref(_IMAGE, _FILTER, sub=(2, 2))),
    ),
    "conv_dilation": (
        _IMAGE,
        tuple(
            lambda x, d=d: ft.nnet.conv2d(x, ft.constant(_FILTER), filter_dilation=d)
            for d in ((1, 1), (2, 2))
        ),
        (_correlate_ref(_IMAGE, _FILTER), _correlate_ref(_IMAGE, _FILTER, dil=(2, 2))),
    ),
    "neibs_step": (
        _IMAGE,
        tuple(
            lambda x, s=s: ft.nnet.neighbours.images2neibs(x[:, :, :4, :4], (2, 2), s)
            for s in ((2, 2), (1, 1))
        ),
        (_neibs_ref(_IMAGE, (2, 2)), _neibs_ref(_IMAGE, (1, 1))),
    ),
    "topk_kth": (
        _VECTOR,
        tuple(lambda x, k=k: ft.topk(x, k) for k in (1, 2)),
        (np.sort(_VECTOR)[::-1][:1], np.sort(_VECTOR)[::-1][:2]),
    ),
    "cum_kind": (_VECTOR, (ft.cumsum, ft.cumprod), (np.cumsum(_VECTOR), np.cumprod(_VECTOR))),
    "sort_kind": (_VECTOR, (ft.sort, ft.argsort), (np.sort(_VECTOR), np.argsort(_VECTOR))),
    "scan_inner": (_VECTOR, (_scan(_double), _scan(_shift)), (_VECTOR * 8, _VECTOR + 6)),
    "ifelse_inner": (_VECTOR, (_ifelse(_double), _ifelse(_shift)), (_VECTOR * 2, _VECTOR + 2)),
}


def outputs_of(name: str, which: int) -> list:
    """Graph ``which`` of case ``name`` compiled and run on its input (as a list, to print)."""
    value, builders, _ = DIFFERENTIAL[name]
    x = ft.TensorType("float64", (None,) * value.ndim)("x")
    return fncache.function([x], builders[which](x))(value).tolist()


@pytest.mark.parametrize("name", DIFFERENTIAL)
def test_ops_differing_in_one_argument_compute_their_own_values(name: str) -> None:
    want = DIFFERENTIAL[name][2]
    assert np.shape(want[0]) != np.shape(want[1]) or not np.allclose(want[0], want[1])
    for which in (0, 1, 0):  # the last one is a hit of the first
        np.testing.assert_allclose(outputs_of(name, which), want[which], rtol=1e-12, atol=1e-12)


def test_a_fresh_process_sharing_the_cache_computes_each_ops_own_values(tmp_path) -> None:  # noqa: ANN001
    """The two graphs of each case compiled by two fresh processes sharing one compiledir, then
    the first again: every process gets its own graph's values (never the other's entry)."""
    import json
    import os

    code = (
        in_tests_dir(tmp_path / "cd", "from test_op_identity import DIFFERENTIAL, outputs_of")
        + "import json\n"
        + "print(json.dumps({n: outputs_of(n, int(sys.argv[2])) for n in DIFFERENTIAL}))\n"
    )
    tests = os.path.dirname(os.path.abspath(__file__))
    for which in (0, 1, 0):
        got = json.loads(run_python(code, tests, str(which)))
        for name, (_, _, want) in DIFFERENTIAL.items():
            np.testing.assert_allclose(got[name], want[which], rtol=1e-12, atol=1e-12, err_msg=name)


def test_print_ops_print_their_own_message_in_processes_sharing_the_cache(tmp_path) -> None:  # noqa: ANN001
    """Print's message and attributes are its identity: a second process printing another
    message (or attribute) of the same value is not answered with the first one's function."""
    script = in_tests_dir(tmp_path / "cd", "from fncache.printing import Print") + (
        "x = ft.dvector('x')\n"
        "f = fc.function([x], Print(sys.argv[2], (sys.argv[3],))(x) * 2)\n"
        "print('result', f(np.array([1.0, 2.0])).tolist())\n"
    )
    for message, attr in (
        ("first", "__str__"),
        ("second", "__str__"),
        ("second", "shape"),
        ("first", "__str__"),
    ):
        out = run_python(script, "", message, attr)
        want = "[1. 2.]" if attr == "__str__" else "(2,)"
        assert out.splitlines() == [f"{message} {attr} = {want}", "result [2.0, 4.0]"]


def test_an_edited_user_op_class_is_not_answered_from_the_cache(tmp_path) -> None:  # noqa: ANN001
    """A script applying its own op class to a constant (folded at compile time), run, edited
    (another ``perform``) and run again with the same compiledir, prints the new code's values."""
    script = (
        in_tests_dir(tmp_path / "cd", "")
        + _USER_OP
        + ("f = fc.function([], ScaleOp()(ft.constant(np.array([1.0, 2.0]))))\nprint(f().tolist())\n")
    )
    for body, want in (
        ("scale(inputs[0])", [2.0, 4.0]),
        ("inputs[0] + 1", [2.0, 3.0]),
        ("scale(inputs[0])", [2.0, 4.0]),
    ):
        assert run_python(script.format(body=body, factor=2, props="", shift=0), "").strip() == str(want)
    assert (
        run_python(script.format(body="scale(inputs[0])", factor=5, props="", shift=0), "").strip()
        == "[5.0, 10.0]"
    )


# -- constants -----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", [False, True], ids=["array", "view"])
def test_a_constant_keeps_the_value_it_was_made_with(view: bool) -> None:
    """A constant is keyed and merged by its value: writing to the array it was made from (or
    to the array it views) afterwards changes neither what it computes nor its key, so another
    function using it is never answered with an entry for other values."""
    base = np.zeros(2)
    c = ft.constant(base[:] if view else base)
    x = ft.dvector("x")
    f = fncache.function([x], x + c)
    base[:] = 5.0
    np.testing.assert_array_equal(c.data, [0.0, 0.0])
    np.testing.assert_array_equal(f(np.ones(2)), [1.0, 1.0])
    np.testing.assert_array_equal(fncache.function([x], x + c)(np.ones(2)), [1.0, 1.0])
    np.testing.assert_array_equal(fncache.function([x], x + ft.constant(base))(np.ones(2)), [6.0, 6.0])
