"""Every public function of ``ft``, ``ft.math``, ``ft.extra_ops``, ``ft.linalg`` (``nlinalg``,
``slinalg``), ``ft.special`` and ``ft.nnet`` returns values of exactly the type it declares.

The functions are found by walking the modules (not listed by hand); each is called with
arguments generated from its signature: tensors of every dtype (bool to complex128, float16
given as numpy's), ranks 0 to 3, static sizes known or unknown, and the options its signature
names (``axis`` as an int, a negative int, a tuple or None, ``keepdims``, ``dtype``, ``ndim``,
``ddof``...) one at a time. Building a graph either succeeds or raises ``TypeError`` /
``ValueError``; every graph built is compiled in FAST_COMPILE and FAST_RUN (one function per
module and mode, so one gcc call per module), and each value must have its variable's dtype,
ndim and every static size, and equal numpy's function of the same name (dtype included)
where numpy has one, but for the differences docs/numpy.md documents (``NUMPY_DIFFERS``).
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import Variable

#: The modules walked, by the name the cases are reported under.
MODULES = ("ft", "math", "extra_ops", "linalg", "nlinalg", "slinalg", "special", "nnet")

#: Public callables that are not functions of tensors returning tensors: gradients and graph
#: utilities, constructors of symbolic inputs, ops over user functions or other ops, and
#: functions whose arguments the generic rules below cannot spell (convolutions, neighbours).
NOT_TENSOR_FUNCTIONS = frozenset(
    "Lop Rop grad hessian jacobian hessian_vector_product verify_grad as_op assert_op ifelse "
    "vectorize vectorize_graph interpolate1d get_scalar_constant_value "
    "get_underlying_scalar_constant_value get_vector_length is_flat slice_at_axis make_slice transfer "
    "constant as_tensor as_tensor_variable broadcast_shape inc_subtensor set_subtensor einsum "
    "scalar_from_tensor tensor_from_scalar pack unpack h_softmax conv2d conv2d_transpose conv3d "
    "images2neibs neibs2images batch_normalization piecewise dimshuffle specify_shape "
    "patternbroadcast consider_constant zero_grad disconnected_grad grad_clip grad_scale shape "
    "empty empty_like".split()
)
#: ``ft.bvector``, ``ft.dmatrices``, ``ft.tensor3``...: constructors of symbolic inputs
_TYPE_CONSTRUCTOR = re.compile(
    r"[bwilfdczu]?[lwib]?(scalar|vector|matrix|row|col|tensor\d?)s?|matrices"
    r"|[bwilfdcz](matrices|rows|cols|scalars|vectors|tensor\ds)"
)

#: Names numpy gives another function, and differences docs/numpy.md documents.
NUMPY_DIFFERS = {
    "identity": "PyTensor's tensor_copy (numpy's identity is the identity matrix)",
    "stack": "one tensor is Theano's stack(a, b, ...) of that tensor (deprecated: it warns)",
    "rint": "PyTensor's round: integers stay integers (docs/numpy.md, rounding)",
    "reciprocal": "the integer reciprocal of 0 is 0 (docs/numpy.md, arithmetic)",
    "quantile": "a symbolic integer q is read as float64 levels (docs/numpy.md, quantile)",
    "nanquantile": "as quantile",
    "cov": "size-1 dims known when the graph is built are squeezed (docs/numpy.md, cov)",
    "corrcoef": "as cov",
    "i0": "PyTensor's elementwise i0: small ints give float32 (docs/numpy.md), numpy's float64",
    "fill_diagonal": "a function returning the filled copy, as PyTensor's (docs/numpy.md); numpy's fills in place",
}

DTYPES = ("bool", "int8", "uint8", "int32", "int64", "uint64", "float16", "float32", "float64", "complex128")
#: Mixed dtypes for functions of two or more tensors (NEP 50 promotion).
PAIRS = (("int8", "uint8"), ("int64", "uint64"), ("int32", "float32"), ("complex128", "float32"))
#: Required parameters of these names take a Python int, not a tensor (but where overridden).
INT_PARAMS = {
    "n": 2, "kth": 2, "shift": 1, "repeats": 2, "N": 3, "M": 3, "ind": 1, "n_ones": 1,
    "offset": 1, "axis1": 0, "axis2": 1, "k": 1, "nb_class": 5, "num": 4, "start_axis": 0,
    "n_axes": 2, "n_splits": 2, "b_ndim": 1, "shape": (3, 2), "shp": (-1,), "reps": (2, 1),
    "dims": (2, 3), "axes": 1, "axis": 1,
}  # fmt: skip
TENSOR_PARAMS = {("gammal", "k"), ("gammau", "k"), ("chi2sf", "k"), ("kn", "n"), ("poch", "m")}
#: The values tried for the options a signature names, one option at a time.
OPTIONS: dict[str, tuple] = {
    "axis": (None, 0, -1, (0, 1), (-1, 0), ()),
    "keepdims": (True,),
    "dtype": ("int8", "uint64", "float32", "bool", "float16", "complex128"),
    "acc_dtype": ("float64", "int64"),
    "ndim": (1, 2),
    "ddof": (0, 1),
    "corrected": (True,),
    "lower": (False,),
    "UPLO": ("U",),
    "full_matrices": (False,),
    "compute_uv": (False,),
    "mode": ("r", "complete", "raw", "wrap", "clip", "same", "valid", "full"),
    "hermitian": (True,),
    "idx_dtype": ("int32",),
    "sorted": (False,),
    "return_index": (True,),
    "return_inverse": (True,),
    "return_counts": (True,),
    "endpoint": (False,),
    "right": (True,),
    "side": ("right",),
    "equal_nan": (True,),
    "rowvar": (False,),
    "bias": (True,),
    "ord": (1, 2, np.inf, "fro", -1),
    "trans": (1,),
    "unit_diagonal": (True,),
    "assume_a": ("sym", "pos"),
    "transposed": (True,),
    "k": (-1, 2),
    "offset": (-1,),
    "n": (1, 3),
    "inverse": (True,),
    "p_indices": (True,),
    "permute_l": (True,),
    "alpha": (0.5,),
    "posinf": (1.0,),
    "neginf": (-1.0,),
}
#: Shapes of rank 3, the lower ranks their trailing sizes; linear algebra gets square
#: (symmetric positive definite) matrices.
RECT, SQUARE, ONES = (2, 3, 4), (2, 3, 3), (2, 1, 4)


def _values(dtype: str, shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = "float32" if dtype == "float16" else dtype  # float16 is float32 (docs/numpy.md)
    if dt == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.startswith(("int", "uint")):
        v = rng.integers(0 if dt.startswith("u") else -3, 6, size=shape).astype(dt)
    elif dt.startswith("complex"):
        v = (rng.uniform(-2, 2, size=shape) + 1j * rng.uniform(-2, 2, size=shape)).astype(dt)
    else:
        v = rng.uniform(-2, 2, size=shape).astype(dt)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        n = shape[-1]
        v = (v + np.swapaxes(v, -1, -2) + 3 * n * np.eye(n, dtype=dt)).astype(dt)
    return v


@functools.lru_cache(maxsize=None)
def _input(dtype: str, shape: tuple, static: bool) -> tuple[Variable, np.ndarray]:
    """One symbolic input per (dtype, shape, static) with its value, shared by the cases."""
    var = ft.tensor(f"x_{dtype}_{len(shape)}", dtype, shape=shape if static else (None,) * len(shape))
    return var, _values(dtype, shape, hash((dtype, shape)) % 1000)


def public_functions() -> list[tuple[str, str, Callable[..., Any]]]:
    """(module, name, function) of every public function of MODULES, each function once."""
    seen: set[int] = set()
    found = []
    for mname in MODULES:
        m = ft if mname == "ft" else getattr(ft, mname)
        for name in sorted(getattr(m, "__all__", None) or dir(m)):
            if name.startswith("_") or name in NOT_TENSOR_FUNCTIONS or _TYPE_CONSTRUCTOR.fullmatch(name):
                continue
            fn = getattr(m, name, None)
            if not callable(fn) or inspect.isclass(fn) or id(fn) in seen:
                continue
            seen.add(id(fn))
            found.append((mname, name, fn))
    return found


#: (label, [(dtype, shape, static)] of the tensor arguments, their parameter names, options)
Case = tuple[str, list, list, dict]


def cases_of(mname: str, name: str, fn: Callable[..., Any]) -> list[Case]:
    """The calls tried for ``fn``: every dtype, then ranks and static sizes, then options."""
    params = list(inspect.signature(fn).parameters.values())
    tensors: list[str] = []
    fixed: dict[str, Any] = {}
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            tensors = tensors or ["*", "*"]
        elif p.kind != p.VAR_KEYWORD and p.default is p.empty:
            if p.name in INT_PARAMS and (name, p.name) not in TENSOR_PARAMS:
                fixed[p.name] = INT_PARAMS[p.name]
            else:
                tensors.append(p.name)
    if not tensors:
        return []
    nt = len(tensors)
    linalg = "linalg" in fn.__module__ or mname.endswith("linalg")
    big = SQUARE if linalg else RECT
    opts = [{}] + [
        {p.name: v} for p in params if p.default is not p.empty and p.name in OPTIONS for v in OPTIONS[p.name]
    ]
    names = {p.name for p in params}
    if {"axis", "keepdims"} <= names:
        opts += [{"axis": a, "keepdims": True} for a in OPTIONS["axis"]]
    calls: list[tuple] = []
    # every dtype (and mixed pairs) at rank 2; float64 at the other ranks, sizes unknown and
    # a size 1 known; each option at rank 3, and with int8 where it is a dtype
    for k, d in enumerate(DTYPES):
        calls.append(([d] * nt, [2] * nt, big, k % 2 == 0, {}))
    for d in ("int8", "uint64", "float32", "bool"):  # functions of scalars (arange, eye...)
        calls.append(([d] * nt, [0] * nt, big, True, {}))
    if nt >= 2:
        calls += [([a] + [b] * (nt - 1), [2] * nt, big, True, {}) for a, b in PAIRS]
        calls += [(["float64"] * nt, [2] + [0] * (nt - 1), big, True, {})]
    for r in (0, 3):
        calls.append((["float64"] * nt, [r] * nt, big, True, {}))
    calls.append((["int64"] * nt, [3] * nt, ONES, True, {}))
    for o in opts[1:]:
        calls.append(([o.get("dtype") and "int8" or "float64"] * nt, [3] * nt, big, True, o))
    out = []
    for dts, ranks, fam, static, o in calls:
        specs = [(d, fam[3 - r :], static) for d, r in zip(dts, ranks)]
        kwargs = {**fixed, **o}
        args = [f"{d}{list(s)}{'' if st else '?'}" for d, s, st in specs]
        label = f"{mname}.{name}(" + ", ".join(args + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
        out.append((label, specs, tensors, kwargs))
    return out


def _call(fn: Callable[..., Any], params: list[str], args: list, kwargs: dict) -> Any:
    if params[0] == "*":
        return fn(*args, **kwargs)
    return fn(**dict(zip(params, args)), **kwargs)


def _flat(o: Any) -> list:
    if isinstance(o, (list, tuple)):
        return [x for y in o for x in _flat(y)]
    return [o]


def _numpy_function(mname: str, name: str) -> Callable[..., Any] | None:
    if name in NUMPY_DIFFERS or mname in ("nnet", "special"):
        return None
    m = np.linalg if mname.endswith("linalg") else np
    ref = getattr(m, name, None)
    return ref if callable(ref) and not inspect.isclass(ref) else None


def _numpy_value(ref: Callable[..., Any], params: list[str], vals: list, kwargs: dict, n: int) -> list | None:
    """numpy's outputs for the same call, or None where numpy refuses it or has no such call."""
    # copies: a numpy function that writes into its argument must not change the inputs the
    # later cases share
    vals = [v.copy() if isinstance(v, np.ndarray) else v for v in vals]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = _flat(_call(ref, params, vals, kwargs) if params[0] == "*" else ref(*vals, **kwargs))
    except Exception:  # numpy refusing a call fncache takes is not this test's subject
        return None
    return want if len(want) == n else None


#: (label, outputs, numpy's values or None) of the graphs built, and the inputs with values
Built = tuple[str, list, list | None, list]


@functools.lru_cache(maxsize=None)
def build_all(mname: str) -> tuple[list[Built], list[str]]:
    """Build every case of module ``mname``'s functions; the refusals that are neither
    TypeError nor ValueError are returned as problems."""
    built: list[Built] = []
    problems: list[str] = []
    for mod, name, fn in public_functions():
        if mod != mname:
            continue
        ref = _numpy_function(mname, name)
        for label, specs, params, kwargs in cases_of(mname, name, fn):
            ins = [_input(*s) for s in specs]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = _call(fn, params, [v for v, _ in ins], kwargs)
            except (TypeError, ValueError):
                continue
            except Exception as e:  # noqa: BLE001 - the kind of refusal is what is checked
                problems.append(f"{label}: {type(e).__name__}: {e}")
                continue
            outs = [o for o in _flat(out) if isinstance(o, Variable) and hasattr(o.type, "ndim")]
            if outs:
                want = (
                    None if ref is None else _numpy_value(ref, params, [v for _, v in ins], kwargs, len(outs))
                )
                built.append((label, outs, want, ins))
    return built, problems


def _run(built: list[Built], mode: str) -> list[tuple[Built, list | BaseException]]:
    """Compile the cases as one function and run it; a group that fails is halved until the
    failing case is alone (its error is its result)."""
    if not built:
        return []
    ins: dict[int, tuple[Variable, np.ndarray]] = {}
    for b in built:
        for v, val in b[3]:
            ins[id(v)] = (v, val)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = fc.function(
                [v for v, _ in ins.values()],
                [o for b in built for o in b[1]],
                mode=mode,
                on_unused_input="ignore",
            )
            res = f(*[val for _, val in ins.values()])
    except Exception as e:  # noqa: BLE001
        if len(built) == 1:
            return [(built[0], e)]
        return _run(built[: len(built) // 2], mode) + _run(built[len(built) // 2 :], mode)
    out, k = [], 0
    for b in built:
        out.append((b, res[k : k + len(b[1])]))
        k += len(b[1])
    return out


def _contradictions(label: str, outs: list, got: list, want: list | None) -> list[str]:
    bad = []
    for j, (o, g) in enumerate(zip(outs, got)):
        t, what = o.type, f"{label}[{j}]" if len(outs) > 1 else label
        if not isinstance(g, np.ndarray):
            bad.append(f"{what}: returned a {type(g).__name__}, not an array")
            continue
        if g.dtype != np.dtype(t.dtype) or g.ndim != t.ndim:
            bad.append(f"{what}: declared {t}, value {g.dtype} of shape {g.shape}")
        elif any(s is not None and s != n for s, n in zip(t.shape, g.shape)):
            bad.append(f"{what}: declared sizes {t.shape}, value shape {g.shape}")
        if want is None:
            continue
        w = np.asarray(want[j])
        if w.dtype == np.float16:
            # float16 is never produced (docs/numpy.md): float32, whose values are not float16's
            w, want = w.astype("float32"), None
        if w.dtype != g.dtype or w.shape != g.shape:
            bad.append(f"{what}: numpy gives {w.dtype} {w.shape}, fncache {g.dtype} {g.shape}")
        elif want is None:
            continue
        elif w.dtype.kind in "fc":
            if not np.allclose(g, w, rtol=1e-4, atol=1e-6, equal_nan=True):
                bad.append(f"{what}: values differ from numpy's")
        elif not np.array_equal(g, w):
            bad.append(f"{what}: values differ from numpy's")
    return bad


#: Errors a run may raise for arguments it cannot take (non-square or singular matrices,
#: indices out of range, unsorted bins): each names the op.
RUN_ERRORS = (TypeError, ValueError, IndexError, AssertionError, np.linalg.LinAlgError)


#: Every how many cases that ran in FAST_COMPILE is compiled to C as well (each C output
#: costs gcc time; the sample takes every dtype, rank and option of some function).
C_STRIDE = 16


@pytest.mark.parametrize("mname", MODULES)
def test_every_value_has_its_declared_type(mname: str) -> None:
    built, problems = build_all(mname)
    bad = list(problems)
    by_function: dict[str, list[Built]] = {}
    for b in built:
        by_function.setdefault(b[0].split("(")[0], []).append(b)
    # one function per op in FAST_COMPILE: a case refused at run time is found in few halvings
    ran = [r for group in by_function.values() for r in _run(group, "FAST_COMPILE")]
    for b, got in ran:
        if isinstance(got, BaseException):
            if not isinstance(got, RUN_ERRORS):
                bad.append(f"{b[0]} [FAST_COMPILE]: {type(got).__name__}: {got}")
            continue
        bad += [f"[FAST_COMPILE] {m}" for m in _contradictions(b[0], b[1], got, b[2])]
    # the C linker compiles a sample of the cases that ran: one gcc call for the module
    ok = [b for b, got in ran if not isinstance(got, BaseException)]
    for b, got in _run(ok[::C_STRIDE], "FAST_RUN"):
        if isinstance(got, BaseException):
            bad.append(f"{b[0]} [FAST_RUN]: {type(got).__name__}: {got}")
            continue
        bad += [f"[FAST_RUN] {m}" for m in _contradictions(b[0], b[1], got, b[2])]
    assert not bad, f"{len(bad)} of {len(built)} calls:\n" + "\n".join(bad[:60])


def test_the_walk_finds_the_functions() -> None:
    """The walk reaches the modules' functions (a broken walk would check nothing)."""
    found = {f"{m}.{n}" for m, n, _ in public_functions()}
    assert len(found) > 300
    for name in ("ft.sum", "ft.argmax", "ft.cumsum", "ft.eigh", "ft.sort", "linalg.norm", "special.poch"):
        assert name in found
    assert sum(len(build_all(m)[0]) for m in ("special", "nnet")) > 200


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_a_bool_accumulator_tests_values_against_zero(mode: str) -> None:
    """numpy adds bools by ``or`` and multiplies them by ``and``: ``sum(x, dtype=bool)`` of 0.5
    is True, ``prod`` of 256 is True; the C loops truncated them to a byte (0.5 and 256 gave
    False) in the accumulator and in the cast of the result."""
    v, i, m = ft.dvector("v"), ft.lvector("i"), ft.dmatrix("m")
    outs = [
        ft.sum(v, dtype="bool"),
        ft.sum(i, dtype="bool"),
        ft.prod(i, dtype="bool"),
        ft.sum(i, dtype="bool", acc_dtype="int64"),
        ft.mean(v, dtype="bool"),
        ft.sum(m, axis=1, dtype="bool"),
        ft.prod(m, axis=0, dtype="bool"),
        ft.mean(m, axis=0, dtype="bool"),
    ]
    vv, iv = np.array([0.5, -0.25]), np.array([256, 2])
    mv = np.array([[0.5, 0.0], [0.25, -0.5]])
    want = [
        np.sum(vv, dtype=bool),
        np.sum(iv, dtype=bool),
        np.prod(iv, dtype=bool),
        np.sum(iv, dtype="int64").astype(bool),
        np.mean(vv, dtype=bool),
        np.sum(mv, axis=1, dtype=bool),
        np.prod(mv, axis=0, dtype=bool),
        np.mean(mv, axis=0, dtype=bool),
    ]
    for k, (got, w) in enumerate(zip(fc.function([v, i, m], outs, mode=mode)(vv, iv, mv), want)):
        assert got.dtype == bool and np.array_equal(got, w), (k, got, w)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_arange_takes_numpy_dtype_of_symbolic_bounds(mode: str) -> None:
    """numpy's arange takes its bounds as Python numbers: an int8 or uint8 bound gives int64, a
    float32 one float64, a uint64 one float64; a complex ``dtype`` counts from real bounds
    (complex bounds count no values, which made ``arange(n, dtype=complex128)`` empty)."""
    outs, want = [], []
    ins, vals = [], []
    for dt in ("int8", "uint8", "int32", "uint32", "uint64", "float32"):
        x = ft.tensor(f"n_{dt}", dt, shape=())
        v = np.asarray(4, dtype=dt)
        ins.append(x)
        vals.append(v)
        outs += [ft.arange(x), ft.arange(1, x), ft.arange(x, dtype="complex128"), ft.arange(0.5, x)]
        want += [np.arange(v), np.arange(1, v), np.arange(v, dtype="complex128"), np.arange(0.5, v)]
    outs.append(ft.arange(np.int8(3)))
    want.append(np.arange(np.int8(3)))
    for got, o, w in zip(fc.function(ins, outs, mode=mode)(*vals), outs, want):
        assert got.dtype == w.dtype == o.dtype and np.array_equal(got, w), (o, got, w)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_quantile_of_uint64_levels(mode: str) -> None:
    """Integer levels (0, 1) read the values themselves, of numpy's dtype: uint64 levels too
    (their index, a uint64 times the int64 size, was float64, which take refused)."""
    u, i = ft.tensor("u", "uint64", shape=(None,)), ft.lvector("i")
    uv = np.arange(5, dtype="uint64")[::-1].copy()
    iv = uv.astype("int64")
    q1, q01 = np.uint64(1), np.array([0, 1], dtype="uint64")
    outs = [ft.quantile(u, q1), ft.quantile(i, q1), ft.nanquantile(u, q1), ft.quantile(u, q01)]
    outs += [ft.quantile(i, np.uint64(0), method="lower"), ft.percentile(u, np.uint64(100))]
    want = [np.quantile(uv, q1), np.quantile(iv, q1), np.nanquantile(uv, q1), np.quantile(uv, q01)]
    want += [np.quantile(iv, np.uint64(0), method="lower"), np.percentile(uv, np.uint64(100))]
    for got, o, w in zip(fc.function([u, i], outs, mode=mode)(uv, iv), outs, want):
        assert got.dtype == np.asarray(w).dtype == o.dtype and np.array_equal(got, w), (o, got, w)


def test_a_symbolic_dtype_or_axis_is_refused_naming_the_function() -> None:
    """A variable given for ``dtype`` raised numpy's ValueError, and one given for
    ``expand_dims``'s axis the error of iterating a variable: neither named the function."""
    x, d, a = ft.dvector("x"), ft.dscalar("d"), ft.lvector("a")
    for call, msg in [
        (lambda: ft.cast(x, d), "cast: unsupported dtype"),
        (lambda: ft.sum(x, dtype=d), "sum: dtype: unsupported dtype"),
        (lambda: ft.expand_dims(x, a), "expand_dims: axis must be"),
        (lambda: ft.expand_dims(x, ft.lscalar("s")), "expand_dims: axis must be"),
    ]:
        with pytest.raises(TypeError, match=msg):
            call()
    assert ft.expand_dims(x, np.array([0, -1])).type.shape == (1, None, 1)
