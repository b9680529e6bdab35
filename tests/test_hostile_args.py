"""Bad arguments to the public functions: each is refused with a TypeError or a ValueError (or a
subclass, such as fncache's own errors) whose message names the function or the argument,
never an exception from inside (AttributeError, KeyError, IndexError, OverflowError...), a hang
or a value silently computed from a guess. A sweep over the public names with a few hostile
values per argument, then one test per bug the sweep found."""

from __future__ import annotations

import inspect
import signal
import types
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import fncache as fc
from fcutil import MODES
from fncache import tensor as ft

SUBMODULES = (
    "linalg",
    "slinalg",
    "nlinalg",
    "special",
    "random",
    "extra_ops",
    "nnet",
    "signal",
    "math",
    "fft",
)

#: Names the sweep leaves out, each for a reason:
ALLOWED = {
    # the random-draw ops: their constructors take what the draw functions built and checked
    "RandomDraw",
    "RandomVariable",
}


def public_callables() -> list[tuple[str, Callable]]:
    """Each public callable of ``fncache.tensor`` and its submodules once, by its first name."""
    seen: set[int] = set()
    out: list[tuple[str, Callable]] = []
    modules = [("ft", ft, ft.__all__)] + [
        (f"ft.{m}", getattr(ft, m), getattr(ft, m).__all__) for m in SUBMODULES
    ]
    modules += [("fc", fc, ["function", "grad", "shared", "scan", "In", "Out"])]
    for prefix, mod, names in modules:
        for name in names:
            obj = getattr(mod, name, None)
            if obj is None or isinstance(obj, types.ModuleType) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if name not in ALLOWED:
                out.append((f"{prefix}.{name}", obj))
    return out


#: hostile values by the argument they are given to: ("axis", 1.5) is numpy's TypeError
HOSTILE: dict[str, list[Any]] = {
    "axis": [1.5, "banana", 5],
    "keepdims": ["banana"],
    "dtype": ["banana"],
    "shape": [1.5, [[1, 2], [3]]],
    "ndim": [2**70, -3],
    "n": [2**70],
    "k": [2**70],
    "offset": [2**70],
    "ddof": [2**70],
    "n_steps": [2**70],
    "size": [1.5],
}
FIRST = [None, [[1.0, 2.0], [3.0]]]  # given as the first required argument


def default_value(param: inspect.Parameter) -> Any:
    """A well-formed value for an argument the sweep leaves alone."""
    if param.default is not inspect.Parameter.empty:
        return param.default
    name = param.name.lower()
    if name in ("axis", "k", "n", "offset", "num", "repeats", "kth"):
        return 1
    if name in ("shape", "size", "newshape"):
        return (2, 3)
    if name == "dtype":
        return "float64"
    return ft.dmatrix(param.name[:8])


def calls(fn: Callable) -> Iterator[tuple[str, list, dict]]:
    """(argument, positional args, keyword args) with one hostile value each."""
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        return
    required = [p for p in params if p.default is inspect.Parameter.empty and p.kind != p.KEYWORD_ONLY]

    def build(target: str, value: Any) -> tuple[list, dict]:
        args = [value if p.name == target else default_value(p) for p in required]
        kwargs = {target: value} if target not in [p.name for p in required] else {}
        return args, kwargs

    if required:
        for value in FIRST:
            yield (required[0].name, *build(required[0].name, value))
    for p in params:
        for value in HOSTILE.get(p.name, []):
            yield (p.name, *build(p.name, value))


class Hang(BaseException):
    pass


def _alarm(*_: Any) -> None:
    raise Hang


@pytest.mark.parametrize("name,fn", public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_arguments_are_refused_by_name(name: str, fn: Callable) -> None:
    short = name.rsplit(".", 1)[1]
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for arg, args, kwargs in calls(fn):
            signal.alarm(5)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(*args, **kwargs)
            except (TypeError, ValueError, NotImplementedError) as e:
                # the function (under any of its names: ft.inv is matrix_inverse) or the argument
                msg = str(e)
                named = short in msg or arg in msg or getattr(fn, "__name__", short) in msg
                assert named, f"{name}({arg}=...): {type(e).__name__} names neither: {msg}"
            except Hang:
                pytest.fail(f"{name}({arg}=...): no answer in 5 s")
            except Exception as e:  # noqa: BLE001 - the point: any other exception is a bug
                pytest.fail(f"{name}({arg}=...): {type(e).__name__} from inside: {e}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)


# -- the bugs the sweep found, one by one ------------------------------------------------------

m, v = ft.dmatrix("m"), ft.dvector("v")

#: (call, exception, what the message says): each raised an exception from inside (before:
#: the comment), or took a value it should refuse
REFUSED: list[tuple[Callable[[], Any], type, str]] = [
    # an int past int64: OverflowError, or numpy's object dtype, or building 2**70 nodes
    (lambda: ft.diagonal(m, offset=2**70), ValueError, "diagonal: offset must be .* int64"),
    (lambda: ft.reshape(m, 2**70), ValueError, "reshape: a shape entry must be .* int64"),
    (lambda: ft.zeros((2, 2**70)), ValueError, "zeros: a shape entry must be .* int64"),
    (lambda: ft.diff(v, n=2**70), ValueError, "diff: n must be .* int64"),
    (lambda: fc.scan(lambda: v, n_steps=2**70), ValueError, "scan: n_steps must be .* int64"),
    (lambda: ft.dscalars(2**70), ValueError, "dscalars: the count must be .* int64"),
    (lambda: ft.arange(2**70), ValueError, "arange: stop must be .* int64"),
    # more dims than numpy's arrays have: OverflowError, or a list of 2**70 entries
    (lambda: ft.tensor(ndim=100), ValueError, r"tensor\(\): ndim must be at most 64"),
    (lambda: ft.shape_padleft(m, 2**70), ValueError, "shape_padleft: n_ones must be at most"),
    (lambda: ft.atleast_Nd(m, n=2**70), ValueError, "atleast_Nd: n must be at most"),
    # arange of what is no number: KeyError 'O' / 'V', or numpy reading the string as a dtype
    (lambda: ft.arange([]), ValueError, "arange: stop must be a scalar"),
    (lambda: ft.arange(np.array(object())), TypeError, "arange: stop must be a number"),
    (lambda: ft.arange(1, "banana"), TypeError, "arange: stop must be a number"),
    # linspace of a list: numpy read it as a structured dtype ("Field elements must be...")
    (lambda: ft.linspace([[1.0, 2.0], [3.0]], 1), ValueError, "linspace: start must be a scalar"),
    (lambda: ft.geomspace("a", 2), TypeError, "geomspace: start must be a number"),
    # a value that is no array: the message named constant() or nothing, not the function called
    (lambda: ft.exp(None), TypeError, "exp: cannot make a numeric constant from None"),
    (lambda: ft.add(m, [[1.0], [2.0, 3.0]]), ValueError, "add: cannot make an array of"),
    (lambda: fc.shared([[1.0, 2.0], [3.0]]), ValueError, "shared: cannot make an array of"),
    (lambda: ft.concatenate(None), TypeError, "concatenate: seq must be a list or tuple"),
    (lambda: ft.stack(None), TypeError, "stack: seq must be a list or tuple"),
    (lambda: ft.vstack([[1.0, 2.0], [3.0]]), ValueError, "vstack: concatenate: input shapes differ"),
    # keepdims: any value was taken for its truth ("banana" kept the dims)
    (lambda: ft.sum(m, axis=0, keepdims="banana"), TypeError, "sum: keepdims must be True or False"),
    (lambda: ft.argmax(m, axis=0, keepdims=None), TypeError, "argmax: keepdims must be True or False"),
    (lambda: ft.median(m, keepdims=np.array([1, 2])), TypeError, "median: keepdims must be True or False"),
    # a shape that is no sequence: "'float' object is not iterable", "has no len()"
    (lambda: ft.dmatrix("x", shape=1.5), TypeError, r"shape must be a tuple of sizes .*got 1.5"),
    (lambda: ft.matrix(shape=1.5), TypeError, r"matrix\(\): shape must be a tuple of sizes"),
    (lambda: ft.specify_shape(m, 1.5), TypeError, "specify_shape: shape must be a tuple of sizes"),
    (lambda: ft.specify_shape(m, "ab"), TypeError, "specify_shape: shape must be a tuple of sizes"),
    (lambda: ft.tensor(name=[1]), TypeError, r"tensor\(\): the name must be a str"),
    # op constructors: IndexError / KeyError / AttributeError from inside
    (lambda: ft.signal.pool.Pool((), (1, 1), (0, 0), True, "max"), ValueError, "Pool: ws must be a pair"),
    (lambda: ft.nnet.neighbours.Images2Neibs({}, (1, 1), "valid"), ValueError, "Images2Neibs: neib_shape"),
    (lambda: ft.TensorConstant(None, 1), TypeError, "TensorConstant: type must be a type"),
    (lambda: ft.sharedvar.SharedVariable(1.5), TypeError, "SharedVariable: value must be a numpy array"),
    # empty bin edges: IndexError of edges[-1]
    (lambda: ft.histogram(v, bins=()), ValueError, "histogram: the bin edges .* are empty"),
    # a quantile of no values: IndexError of the last sorted value (numpy's own, from inside)
    (lambda: ft.percentile([], 50), ValueError, "percentile: no values to take the quantile of"),
    (lambda: ft.quantile(ft.dmatrix(shape=(2, 0)), 0.5, axis=1), ValueError, "quantile: no values"),
]


@pytest.mark.parametrize("call,exc,match", REFUSED, ids=[m for _, _, m in REFUSED])
def test_bad_argument_is_refused(call: Callable[[], Any], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_the_arguments_numpy_takes_still_work() -> None:
    """What the checks above refuse is only what numpy refuses or cannot compute: an int
    keepdims (numpy's is an int), a 0-d array bound, a numpy int, a shape as a list."""
    assert ft.sum(m, axis=0, keepdims=1).type.shape == (1, None)
    assert ft.sum(m, axis=0, keepdims=np.bool_(False)).type.shape == (None,)
    assert ft.arange(np.array(3), np.int8(7)).type.shape == (4,)
    assert ft.dmatrix("x", shape=[2, None]).type.shape == (2, None)
    assert ft.reshape(m, [np.int64(-1)]).ndim == 1
    # an exact product of sizes: one past int64 no longer wraps to the axis's size 0
    with pytest.raises(ValueError, match="make 18446744073709551616 elements, not the 0"):
        ft.split_dims(ft.dvector(shape=(0,)), (2**32, 2**32))


@pytest.mark.parametrize("mode", MODES)
def test_nan_quantiles_of_no_values_are_nan_as_numpy(mode: str) -> None:
    """numpy's nanmedian / nanquantile of a slice of no values is NaN; fncache's raised an
    IndexError when the function ran (the sorted slice read past its end)."""
    f = fc.function(
        [m],
        [
            ft.nanmedian(m),
            ft.nanmedian(m, axis=1),
            ft.nanquantile(m, 0.3, axis=0),
            ft.nanpercentile(m, 40, axis=1),
        ],
        mode=mode,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a in (
            np.zeros((0, 0)),
            np.zeros((2, 0)),
            np.zeros((0, 3)),
            np.array([[1.0, np.nan, 3.0], [np.nan] * 3]),
        ):
            want = [
                np.nanmedian(a),
                np.nanmedian(a, axis=1),
                np.nanquantile(a, 0.3, axis=0),
                np.nanpercentile(a, 40, axis=1),
            ]
            for got, exp in zip(f(a), want):
                assert got.shape == np.shape(exp)
                np.testing.assert_array_equal(got, exp)


@pytest.mark.parametrize("mode", MODES)
def test_quantile_of_no_values_names_the_function_when_it_runs(mode: str) -> None:
    """numpy's quantile of no values is an IndexError from inside; fncache's named its
    Subtensor. Now a ValueError naming percentile, and a slice count of 0 still gives numpy's
    empty result."""
    f = fc.function([m], ft.percentile(m, [10, 50], axis=1), mode=mode)
    np.testing.assert_array_equal(f(np.zeros((0, 3))), np.percentile(np.zeros((0, 3)), [10, 50], axis=1))
    with pytest.raises(ValueError, match="percentile: no values to take the quantile of"):
        f(np.zeros((3, 0)))


def test_scipy_errors_name_the_function() -> None:
    """scipy's ValueError of a matrix it does not take ("expected square matrix") is named after
    the function called, with the shapes given."""
    f = fc.function([m], ft.linalg.schur(m), mode="FAST_COMPILE")
    with pytest.raises(
        ValueError, match=r"schur: expected square matrix \(given matrices of shapes \(2, 3\)\)"
    ):
        f(np.ones((2, 3)))
