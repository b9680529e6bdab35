"""Property test: indexing, ``set_subtensor`` and ``inc_subtensor`` of random keys over random
tensors give numpy's values, dtypes and shapes, in FAST_RUN (C) and FAST_COMPILE (numpy).

A case is a tensor ``x`` (ndim 0 to 4, sizes 0 to 4 with 1s, dtypes float64 float32 int8
int64 uint8 bool, its static shape declared, only its size-1 dims declared, or nothing;
its value passed contiguous, reversed, stepped or transposed) and a numpy-valid key:
ints (negative too), slices of every step sign with constant or symbolic start, stop and
step, new axes, an ellipsis, int index arrays (constant lists and arrays, symbolic inputs
of several int dtypes; negative and repeated entries, several dims, broadcast between
several, apart or side by side: numpy's rule on where their dims go) and boolean masks
(constant or symbolic, over one or several dims, not always all). Each case checks

* ``x[key]`` against numpy's ``x[key]`` (some examples: read by a compiled loop too);
* ``set_subtensor(x[key], y)`` (or ``x[key].set(y)``) against numpy's ``x[key] = y``, for a
  ``y`` that broadcasts to the region (symbolic, constant or a Python number, of x's dtype or
  one numpy casts from): of a repeated index the last write stays, numpy's (and PyTensor's,
  checked against PyTensor below) assignment;
* ``inc_subtensor(x[key], y)`` (or ``x[key].inc(y)``) against ``np.add.at``: a repeated
  index adds each of its values (PyTensor's default, ``ignore_duplicates=False``);
* every declared static size of a result against the result, and the input left unchanged.

A key numpy refuses (an index out of range, a mask of the wrong size, a zero step), or a
``y`` that does not fit the region, must be refused with IndexError or ValueError naming the
indexing, when the graph is built or when the function runs, in both modes. Writing into
``x[...]``, ``x[:]`` or new axes over basic indexing is refused with TypeError, as documented
(those are ``x`` itself or a view of another shape, not a region of ``x``).

Each example compiles one function per mode holding a few cases (the compile is the cost).
The run is deterministic; set FNCACHE_HYPOTHESIS_RANDOM=1 and raise
FNCACHE_HYPOTHESIS_EXAMPLES to explore new keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from fcutil import MODES, add_at, assert_same, fuzz_settings, numpy_errstate, sample  # noqa: E402

import fncache as fc  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from fncache.tensor.advanced_subtensor import AdvancedSubtensor  # noqa: E402
from fncache.tensor.subtensor import Subtensor  # noqa: E402

X_DTYPES = ("float64", "float32", "int8", "int64", "uint8", "bool")
INDEX_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "uint16", "uint64")
#: cases per example (one function per mode holds them all)
CASES = 3


@dataclass
class Case:
    """One key over one tensor: the symbolic and numpy keys, the inputs (``x`` first, unless
    it is a constant) and their values."""

    x: Any
    xv: np.ndarray
    key: tuple
    npkey: tuple
    inputs: list = field(default_factory=list)
    values: list = field(default_factory=list)

    def symbolic(self, rng: np.random.Generator, dtype: str, value: Any) -> Any:
        """A symbolic int scalar or array input holding ``value``, its shape declared or not."""
        a = np.asarray(value).astype(dtype)
        shape = a.shape if rng.random() < 0.3 else (None,) * a.ndim
        v = ft.TensorType(dtype, shape)(f"i{len(self.inputs)}")
        self.inputs.append(v)
        self.values.append(a)
        return v


def _layout(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    """``a``'s values in a random memory layout: contiguous, reversed, stepped or transposed."""
    form = rng.integers(4)
    if form == 1 or a.ndim == 0:
        return a
    if form == 0:
        flip = tuple(slice(None, None, -1) if rng.random() < 0.5 else slice(None) for _ in a.shape)
        return np.ascontiguousarray(a[flip])[flip]
    if form == 2:
        big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
        big[(slice(None, None, 2),) * a.ndim] = a
        return big[(slice(None, None, 2),) * a.ndim]
    perm = rng.permutation(a.ndim)
    return np.ascontiguousarray(a.transpose(perm)).transpose(np.argsort(perm))


def _index_dtype(rng: np.random.Generator, lo: int) -> str:
    return str(rng.choice([d for d in INDEX_DTYPES if lo >= 0 or not d.startswith("u")]))


def _int_entry(case: Case, rng: np.random.Generator, n: int) -> tuple[Any, Any]:
    # sometimes out of range (always in a dim of size 0): numpy refuses the key
    bad = n == 0 or rng.random() < 0.04
    v = int(rng.choice([-n - 1, n, n + 2])) if bad else int(rng.integers(-n, n))
    if rng.random() < 0.4:
        return case.symbolic(rng, _index_dtype(rng, v), v), v
    return v, v


def _bound(case: Case, rng: np.random.Generator, n: int, step: bool) -> tuple[Any, Any]:
    r = rng.random()
    if r < 0.3:
        return None, None
    if step:
        v = int(rng.choice([1, 2, 3, -1, -2, -3]))
        if rng.random() < 0.02:
            v = 0  # numpy refuses a zero step
    else:
        v = int(rng.integers(-n - 2, n + 3))
    if r < 0.6:
        return v, v
    return case.symbolic(rng, _index_dtype(rng, v), v), v


def _slice_entry(case: Case, rng: np.random.Generator, n: int) -> tuple[Any, Any]:
    parts = [_bound(case, rng, n, step) for step in (False, False, True)]
    return slice(*(p[0] for p in parts)), slice(*(p[1] for p in parts))


def _array_entry(case: Case, rng: np.random.Generator, n: int, shape: tuple) -> tuple[Any, Any]:
    """An int index array of ``shape`` into a dim of size ``n``: negative and repeated entries,
    a constant list or array, or a symbolic input."""
    size = int(np.prod(shape))
    a = rng.integers(-n, max(n, 1), shape)
    if size and (n == 0 or rng.random() < 0.04):  # out of range: numpy refuses the key
        # (far out too; a narrower dtype wraps it, in the numpy key as well)
        a.flat[rng.integers(size)] = int(rng.choice([-n - 1, n, n + 3, 2**40, -(2**62)]))
    dtype = _index_dtype(rng, int(a.min()) if size else 0)
    a = a.astype(dtype)
    form = rng.integers(3)
    if form == 0:
        return case.symbolic(rng, dtype, a), a
    if form == 1 and a.ndim == 1 and a.size and rng.random() < 0.3:
        # a list holding a symbolic int scalar: x[[i, 0]] (a signed one: numpy makes a list of
        # Python ints and a uint64 float64, which no index is)
        j = int(rng.integers(a.size))
        entries: list = a.tolist()
        entries[j] = case.symbolic(rng, _index_dtype(rng, -1), a[j])
        return entries, a
    # (an empty list of lists is [], numpy's 1-D empty index)
    return (a.tolist() if form == 1 and a.size else a), a


def _mask_entry(case: Case, rng: np.random.Generator, shape: tuple) -> tuple[Any, Any]:
    if shape and rng.random() < 0.04:  # a mask of the wrong size: numpy refuses the key
        shape = shape[:-1] + (shape[-1] + 1,)
    m = rng.random(shape) < 0.5
    if rng.random() < 0.5:
        return case.symbolic(rng, "bool", m), m
    return m, m


def random_case(rng: np.random.Generator) -> Case:
    nd = int(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 3, 4]))
    shape = tuple(int(rng.choice([0, 1, 1, 2, 3, 3, 4, 4])) for _ in range(nd))
    dtype = str(rng.choice(X_DTYPES))
    xv = _layout(rng, sample(dtype, shape, seed=int(rng.integers(2**31))))
    declared = rng.integers(3)
    xshape = shape if declared == 0 else tuple(1 if declared == 1 and s == 1 else None for s in shape)
    case = Case(ft.TensorType(dtype, xshape)("x"), xv, (), ())
    if rng.random() < 0.1:
        case.x = ft.constant(xv)  # indexing a constant: folded when the graph is rewritten
    else:
        case.inputs.append(case.x)
        case.values.append(xv)
    # the index arrays' common shape: each array is its last dims, some of them 1
    bshape = tuple(int(rng.choice([0, 1, 2, 3])) for _ in range(rng.choice([0, 1, 1, 2])))
    if 0 in bshape and rng.random() < 0.7:
        bshape = tuple(s or 2 for s in bshape)
    masked = False
    key: list = []
    npkey: list = []
    d = 0
    ellipsis = False
    while d < nd or (rng.random() < 0.2 and len(key) < 6):
        if rng.random() < 0.15:
            key.append(None)
            npkey.append(None)
            continue
        if d == nd:
            break
        if not ellipsis and rng.random() < 0.12:
            ellipsis = True
            key.append(Ellipsis)
            npkey.append(Ellipsis)
            d += int(rng.integers(0, nd - d + 1))
            continue
        if not ellipsis and rng.random() < 0.06:
            break  # the remaining dims taken whole
        n = shape[d]
        kind = rng.choice(["i", "s", "s", "a", "a", "m"])
        if kind == "m" and (not masked or rng.random() < 0.2) and len(bshape) <= 1:
            # (a second mask's count must match the first's: most such keys are refused)
            w = int(rng.integers(1, nd - d + 1))
            masked = True
            bshape = (1,) * len(bshape)  # broadcasts against the mask's count
            k, v = _mask_entry(case, rng, shape[d : d + w])
            d += w
        elif kind == "a":
            ashape = tuple(
                1 if rng.random() < 0.3 else s for s in bshape[int(rng.integers(len(bshape) + 1)) :]
            )
            k, v = _array_entry(case, rng, n, ashape)
            d += 1
        elif kind == "i":
            k, v = _int_entry(case, rng, n)
            d += 1
        else:
            k, v = _slice_entry(case, rng, n)
            d += 1
        key.append(k)
        npkey.append(v)
    case.key, case.npkey = tuple(key), tuple(npkey)
    return case


@dataclass
class Checked:
    """A case's outputs and numpy's values of them."""

    outs: list = field(default_factory=list)
    wants: list = field(default_factory=list)
    what: list = field(default_factory=list)


def _y(case: Case, rng: np.random.Generator, region: tuple) -> tuple[Any, np.ndarray]:
    """A ``y`` broadcasting to a region of shape ``region``: its last dims, some of them 1; a
    symbolic input (its shape declared or not) or a constant."""
    yshape = tuple(1 if rng.random() < 0.25 else s for s in region[int(rng.integers(len(region) + 1)) :])
    dtype = case.x.dtype
    if dtype != "bool" and rng.random() < 0.3:
        # cast to x's dtype, numpy's same-kind rule
        dtype = {"float64": "int8", "int64": "int8", "float32": "float32"}.get(dtype, "bool")
    yv = _layout(rng, sample(dtype, yshape, seed=int(rng.integers(2**31))))
    r = rng.random()
    if r < 0.1:
        return ft.constant(yv), yv
    if r < 0.2:
        # a Python number takes x's dtype where it fits, as numpy's
        py = {"b": True, "f": 1.5}.get(np.dtype(case.x.dtype).kind, 3)
        return py, np.asarray(py)
    y = ft.TensorType(dtype, yshape if rng.random() < 0.3 else (None,) * len(yshape))("y")
    case.inputs.append(y)
    case.values.append(yv)
    return y, yv


def _writable(region: Any) -> bool:
    return region.owner is not None and isinstance(region.owner.op, (Subtensor, AdvancedSubtensor))


def build(case: Case, rng: np.random.Generator, out: Checked) -> None:
    """``case``'s read, set and inc, and numpy's values of them, appended to ``out``."""
    xv, npkey = case.xv, case.npkey
    want = xv[npkey]
    region = case.x[case.key]
    out.outs.append(region)
    out.wants.append(want)
    out.what.append(f"x[key] of {case.x.type}, key {case.key!r}")
    if rng.random() < 0.25:
        # the region read by a compiled loop (a view: any strides, negative too)
        out.outs.append(region * region if case.x.dtype != "bool" else ~region)
        with numpy_errstate():  # (int products wrap, as fncache's)
            out.wants.append(want * want if case.x.dtype != "bool" else ~want)
        out.what.append(f"x[key] ** 2 of {case.x.type}, key {case.key!r}")
    if not _writable(region):
        # x itself (x[...], x[:]) or new axes over basic indexing: not a region of x to write
        # into, refused as documented
        with pytest.raises(
            TypeError, match="set_subtensor: the first argument must be the result of indexing"
        ):
            ft.set_subtensor(region, region)
        return
    if rng.random() < 0.05:
        check_y_that_does_not_fit(case, rng, region, want.shape)
    if want.ndim and rng.random() < 0.15:
        # y read from x itself, the region reversed: a write in place into x must not
        # overwrite what y still reads
        y, yv = region[::-1], want[::-1].copy()
    else:
        y, yv = _y(case, rng, want.shape)
    want_set, want_inc = xv.copy(), add_at(xv, npkey, yv)
    want_set[npkey] = yv
    methods = rng.random() < 0.5
    out.outs += [
        region.set(y) if methods else ft.set_subtensor(region, y),
        region.inc(y) if methods else ft.inc_subtensor(region, y),
    ]
    out.wants += [want_set, want_inc]
    out.what += [
        f"x[key] {k} y {getattr(y, 'type', y)!r}, key {case.key!r} of {case.x.type}" for k in ("set", "inc")
    ]
    if rng.random() < 0.2:
        # an inc into the set's result at the same key, both outputs: done in place, the
        # inc must leave the set's result alone
        out.outs.append(ft.inc_subtensor(out.outs[-2][case.key], y))
        out.wants.append(add_at(want_set, npkey, yv))
        out.what.append(f"x[key] set y, then inc y, key {case.key!r} of {case.x.type}")


def _raises_in_both_modes(case: Case, out: Any, inputs: list, values: list, match: str) -> None:
    for mode in MODES:
        f = fc.function([*case.inputs, *inputs], out, mode=mode, on_unused_input="ignore")
        with pytest.raises((IndexError, ValueError), match=match):
            f(*case.values, *values)


def check_y_that_does_not_fit(case: Case, rng: np.random.Generator, region: Any, shape: tuple) -> None:
    """A ``y`` numpy cannot broadcast to the region (one size off, or a dim more): the set or
    inc raises ValueError naming it, when the graph is built or when the function runs."""
    if shape:
        d = int(rng.integers(len(shape)))
        shape = shape[:d] + (shape[d] + 1,) + shape[d + 1 :]
    else:
        shape = (2,)
    yv = np.zeros(shape, case.x.dtype)
    try:
        case.xv.copy()[case.npkey] = yv
        return  # (an empty region takes a y of size 1)
    except ValueError:
        pass
    write = ft.set_subtensor if rng.random() < 0.5 else ft.inc_subtensor
    y = ft.TensorType(case.x.dtype, (None,) * len(shape))("y")
    try:
        out = write(region, ft.specify_shape(y, shape) if rng.random() < 0.5 else y)
    except ValueError as e:
        assert write.__name__ in str(e), e
        return
    _raises_in_both_modes(case, out, [y], [yv], r"(?i)subtensor.*(y|shape)")


def _numpy_refuses(case: Case) -> bool:
    try:
        case.xv[case.npkey]
    except (IndexError, ValueError):
        return True
    return False


def check_refused(case: Case, rng: np.random.Generator) -> None:
    """A key numpy refuses: building the graph, or running it in each mode, raises IndexError
    or ValueError naming the indexing (no crash, no garbage)."""
    try:
        out = case.x[case.key]
        if _writable(out):
            write = [None, ft.set_subtensor, ft.inc_subtensor][int(rng.integers(3))]
            out = write(out, ft.constant(np.zeros((), case.x.dtype))) if write else out
    except (IndexError, ValueError):
        return
    _raises_in_both_modes(case, out, [], [], r"(?i)subtensor|index|slice|bound|mask")


def check(seed: int) -> None:
    rng = np.random.default_rng(seed)
    checked = Checked()
    inputs: list = []
    values: list = []
    for _ in range(CASES):
        case = random_case(rng)
        if _numpy_refuses(case):
            check_refused(case, rng)
            continue
        build(case, rng, checked)
        inputs += case.inputs
        values += case.values
    if not checked.outs:
        return
    for out, want, what in zip(checked.outs, checked.wants, checked.what):
        assert out.ndim == want.ndim, f"{what}: ndim {out.ndim}, numpy gives {want.shape}"
        for s, w in zip(out.type.shape, want.shape):
            assert s is None or s == w, f"{what}: declared shape {out.type.shape}, numpy gives {want.shape}"
    before = [np.copy(v) for v in values]
    for mode in MODES:
        f = fc.function(inputs, checked.outs, mode=mode, on_unused_input="ignore")
        # twice: a second call finds its constants and inputs unchanged, and leaves the first
        # call's results alone
        first = f(*values)
        for k, got in enumerate([first, f(*values)]):
            for g, want, what in zip(got, checked.wants, checked.what):
                assert_same(np.asarray(g), want, f"{mode}, call {k + 1}: {what}")
        for v, b in zip(values, before):
            np.testing.assert_array_equal(v, b, err_msg=f"{mode}: an input was modified")


@fuzz_settings(20)
@given(seed=st.integers(0, 2**31))
def test_random_keys(seed: int) -> None:
    check(seed)


# -- regressions the fuzzer found, shrunk ------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_0d_index_arrays_on_the_leading_axes(mode: str) -> None:
    """0-d int arrays as the whole key (``x[np.array(-1), np.array(1)]``, numpy reads them as
    ints) of a read and an inc: the run-time's gather, which takes 1-D index arrays, read the
    length of the first one from a dims list a 0-d array does not have, and crashed FAST_RUN."""
    x, y, i = ft.fmatrix("x"), ft.fscalar("y"), ft.TensorType("int8", ())("i")
    xv = np.arange(8, dtype=np.float32).reshape(2, 4)
    keys = [
        (np.array(-1, np.int16), np.array(1, np.int8)),
        (np.array(1),),
        (ft.as_tensor_variable(np.array(0)), i),
    ]
    outs = [f(x[k], y) for k in keys for f in (lambda r, y: r, ft.inc_subtensor, ft.set_subtensor)]
    got = fc.function([x, y, i], outs, mode=mode)(xv, np.float32(7), np.int8(-2))
    for k, npk in enumerate([(-1, 1), (1,), (0, -2)]):
        want_inc, want_set = xv.copy(), xv.copy()
        want_inc[npk] += 7
        want_set[npk] = 7
        for g, w in zip(got[3 * k : 3 * k + 3], [xv[npk], want_inc, want_set]):
            assert_same(g, w, f"{mode}: key {keys[k]}")


@pytest.mark.parametrize("mode", MODES)
def test_an_ellipsis_of_no_dims_parts_index_arrays(mode: str) -> None:
    """An ellipsis standing for no dims between two index entries still parts them, as numpy
    reads it: ``x[ivec, ..., 0]`` of a matrix puts the index dims first, as ``x[ivec, :, 0]``
    does of a 3-d tensor; expanded to nothing, the two entries were taken as side by side (the
    index dims in place), a wrong declared shape and wrong values. Reads, sets, incs and the
    gradient."""
    x = ft.tensor("x", "float64", shape=(1, 3, 4))
    xv = sample("float64", (1, 3, 4), special=False)
    i = ft.lmatrix("i")
    iv = np.array([[-3, 1], [2, 0], [-3, -1]])
    keys = [
        (slice(None, None, -2), i, Ellipsis, -2),
        (0, Ellipsis, i),
        (Ellipsis, 0, i, -1),
        (i % 1, Ellipsis, i),
    ]
    npkeys = [
        (slice(None, None, -2), iv, Ellipsis, -2),
        (0, Ellipsis, iv),
        (Ellipsis, 0, iv, -1),
        (iv % 1, Ellipsis, iv),
    ]
    outs, wants = [], []
    for k, npk in zip(keys, npkeys):
        region = x[k]
        want = xv[npk]
        declared = region.type.shape
        assert len(declared) == want.ndim and all(s in (None, w) for s, w in zip(declared, want.shape)), k
        want_set, want_inc = xv.copy(), add_at(xv, npk, 1.5)
        want_set[npk] = 1.5
        outs += [region, ft.set_subtensor(region, 1.5), ft.inc_subtensor(region, 1.5)]
        outs += fc.grad(ft.sum(region * region), [x])
        want_grad = add_at(np.zeros_like(xv), npk, 2 * want)
        wants += [want, want_set, want_inc, want_grad]
    got = fc.function([x, i], outs, mode=mode)(xv, iv)
    for k, (g, w) in enumerate(zip(got, wants)):
        assert_same(g, w, f"{mode}: output {k} of key {keys[k // 4]}")


@pytest.mark.parametrize("mode", MODES)
def test_index_arrays_broadcast_to_empty_read_no_entry(mode: str) -> None:
    """numpy checks an index array's entries only as it reads them: index arrays broadcast to
    an empty shape index nothing (``x[[5], []]`` is empty; an int, ``x[5, []]``, is still
    checked). A constant entry out of a static size was refused when the graph was built;
    it is where the broadcast shape is known not to be empty, else when the function runs."""
    x, sm = ft.tensor("x", "float64", shape=(0, 3)), ft.TensorType("bool", (None,))("m")
    xv = np.zeros((0, 3))
    m = np.zeros(3, bool)
    keys = [([-1], m), ([-1], []), (Ellipsis, [0], np.zeros((2, 0), np.int64)), ([-1], sm)]
    npkeys = keys[:3] + [([-1], m)]
    outs = [x[k] for k in keys] + [ft.inc_subtensor(x[k], 1.0) for k in keys]
    f = fc.function([x, sm], outs, mode=mode)
    for g, want, k in zip(f(xv, m), [xv[k] for k in npkeys] + [xv] * len(keys), keys + keys):
        assert_same(g, want, f"{mode}: key {k}")
    with pytest.raises(IndexError, match=r"AdvancedSubtensor.*index -1 is out of bounds"):
        f(xv, ~m)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 0"):
        ft.tensor("x", "float64", shape=(0, 0))[5, []]


@pytest.mark.parametrize("mode", MODES)
def test_inc_of_a_vector_at_an_index_matrix_by_fewer_dims(mode: str) -> None:
    """``inc_subtensor(x[imat], y)`` of a vector ``x`` with ``y`` of fewer dims than the region:
    numpy's own ``np.add.at`` (2.4) reads such a ``y`` wrongly (uninitialized values), and the
    op gave what it gave; ``y`` now has the region's dims when it is added. The reference is
    ``np.add.at`` through flat positions, which numpy gets right."""
    x, i, y = ft.dvector("x"), ft.lmatrix("i"), ft.dvector("y")
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([10.0, 200.0])
    iv = np.array([[0, 0], [0, -1], [2, 1]])
    outs = [ft.inc_subtensor(x[i], y), ft.inc_subtensor(x[i], 5.0), ft.inc_subtensor(x[i[:, :1]], y[:1])]
    got = fc.function([x, i, y], outs, mode=mode)(xv, iv, yv)
    for g, (k, v) in zip(got, [(iv, yv), (iv, 5.0), (iv[:, :1], yv[:1])]):
        assert_same(g, add_at(xv, k, v), f"{mode}: inc at {k.tolist()} by {v}")


@pytest.mark.parametrize("mode", MODES)
def test_constant_mask_of_the_wrong_size_is_refused_when_the_function_runs(mode: str) -> None:
    """A constant mask's true positions are known when the graph is built, and its size is
    checked against the static sizes of the axes it indexes; where those are not declared,
    it was never checked: ``x[[True, False, False, False]]`` of a 3-vector gave ``x[[0]]``
    where numpy raises IndexError. The sizes are now checked when the function runs, the
    mask's count still known when the graph is built."""
    x, m3 = ft.dvector("x"), ft.dtensor3("m3")
    xv, m3v = np.arange(3.0), np.zeros((0, 4, 2))
    mask, mask2 = np.array([True, False, False, False]), np.zeros((0, 5), bool)
    read = x[mask]
    assert read.type.shape == (1,)
    outs = [read, ft.set_subtensor(x[mask], 1.0), ft.inc_subtensor(x[mask], 1.0), m3[mask2, 1]]
    for out in outs:
        f = fc.function([x, m3], out, mode=mode, on_unused_input="ignore")
        with pytest.raises(
            IndexError, match=r"mask.*did not match indexed array along axis (0|1); size of axis is (3|4)"
        ):
            f(xv, m3v)
    f = fc.function([x, m3], outs, mode=mode)
    got = f(np.arange(4.0), np.zeros((0, 5, 2)))
    for g, w in zip(
        got, [np.array([0.0]), np.array([1.0, 1, 2, 3]), np.array([1.0, 1, 2, 3]), np.zeros((0,))]
    ):
        assert_same(g, w, f"{mode}")


def test_repeated_indices_write_as_pytensor_writes() -> None:
    """Of a repeated index, a set keeps the last write and an inc adds every value: PyTensor's
    behaviour (its numpy assignment and ``np.add.at``), checked against PyTensor itself."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    xv = sample("float64", (4, 3), special=False)
    iv, jv = np.array([[0, 3, 0], [-4, 1, 3]]), np.array([2, 2, -1])
    yv = sample("float64", (2, 3), seed=1, special=False)
    results = []
    for lib in (ft, pt):
        x, i, j, y = lib.dmatrix("x"), lib.lmatrix("i"), lib.lvector("j"), lib.dmatrix("y")
        regions = [(x[i[0]], y[:1]), (x[:, j], y[:1]), (x[i, j], y), (x[i[1], 1:], y.T[:, :2])]
        outs = [w(r, v) for r, v in regions for w in (lib.set_subtensor, lib.inc_subtensor)]
        if lib is ft:
            f = fc.function([x, i, j, y], outs, mode="FAST_RUN")
        else:
            f = pytensor.function([x, i, j, y], outs, mode="FAST_COMPILE")
        results.append(f(xv, iv, jv, yv))
    for k, (got, want) in enumerate(zip(*results)):
        assert_same(np.asarray(got), np.asarray(want), f"write {k}")
