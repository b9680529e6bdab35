"""`Shape`, `Reshape`, `Subtensor` (basic indexing) and `SubtensorGrad` (its gradient) run as
steps of the C run-time, not as calls into Python: checked against numpy and the Python linker for views,
copies, ``-1``, empty arrays, symbolic bounds of several int dtypes, negative steps and
broadcast gradients; what the fast path does not handle (a shape that does not fit, an index out
of range, a zero step) reaches the op's perform, which raises the same error as in Python."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.codegen import c_program
from fncache.codegen.c_module import render_module
from fncache.tensor.array_ops import SpecifyShape
from fncache.tensor.grad_ops import SubtensorGrad
from fncache.tensor.pyop import Assert


def _steps(f) -> list[tuple[int, str]]:
    """(kind, op name) of each step of ``f``'s C program."""
    program = render_module(f.optimized_graph, n_explicit=len(f.inputs), single=False).program
    return [(st[0], st[6]) for st in program[4]]


def _kinds(f) -> list[int]:
    return [kind for kind, _ in _steps(f)]


def _both(inputs: list, outputs: list) -> tuple:
    return (
        fc.function(inputs, outputs, on_unused_input="ignore"),
        fc.function(inputs, outputs, mode="FAST_COMPILE", on_unused_input="ignore"),
    )


def test_shape_and_reshape_are_native_and_match_numpy() -> None:
    x, i = ft.dmatrix("x"), ft.iscalar("i")
    outs = [ft.shape(x), ft.reshape(x, (-1,)), ft.reshape(x, ft.stack([i, ft.cast(-1, "int32")]), ndim=2)]
    outs.append(ft.reshape(x, (x.shape[1], x.shape[0])))
    c, py = _both([x, i], outs)
    kinds = _kinds(c)
    assert c_program.ST_SHAPE in kinds and kinds.count(c_program.ST_RESHAPE) == 3
    # (the shape's entries and the stacked vector are still built in Python)
    assert not [name for kind, name in _steps(c) if kind == c_program.ST_PERFORM and "hape" in name]
    for xv, iv in (
        (np.arange(12.0).reshape(3, 4), 2),
        (np.arange(12.0).reshape(4, 3).T, 6),  # not contiguous: numpy copies
        (np.zeros((0, 5)), 3),
        (np.ones((1, 1)), 1),
    ):
        want = [
            np.asarray(xv.shape),
            xv.reshape(-1),
            xv.reshape(iv, -1),
            xv.reshape(xv.shape[1], xv.shape[0]),
        ]
        for got in (c(xv, np.int32(iv)), py(xv, np.int32(iv))):
            for g, w in zip(got, want):
                assert g.dtype == w.dtype and g.shape == w.shape
                np.testing.assert_array_equal(g, w)
    xv = np.arange(12.0).reshape(3, 4)
    # a shape that does not fit: the perform's error, from both linkers
    for f in (c, py):
        with pytest.raises(
            ValueError, match=r"reshape: cannot reshape an array of shape \(3, 4\) into \(5, -1\)"
        ):
            f(xv, np.int32(5))
        with pytest.raises(ValueError, match=r"cannot reshape .* into \(0, -1\)"):
            f(xv, np.int32(0))
    # the result of a native reshape is the caller's: writing it leaves the input alone
    r = c(xv, np.int32(2))[1]
    r[:] = -1
    assert xv[0, 0] == 0.0


CASES = [
    # (index structure, x shape, g shape, bounds, numpy index)
    ((("i", ("v", 0)),), (5,), (), [np.int64(3)], (3,)),
    ((("i", ("v", 0)),), (5,), (), [np.int32(-5)], (-5,)),
    (
        (("s", ("v", 0), None, ("c", -1)), ("i", ("c", 1))),
        (4, 3),
        (3,),
        [np.int16(2)],
        (slice(2, None, -1), 1),
    ),
    ((("s", None, None, ("c", 2)),), (7, 2), (4, 2), [], (slice(None, None, 2),)),
    ((("s", ("c", 1), ("v", 0), None),), (6,), (1,), [np.uint8(4)], (slice(1, 4),)),  # g broadcast
    ((("s", ("c", 10), None, None),), (3, 2), (0, 2), [], (slice(10, None),)),  # empty slice
    ((("i", ("c", 0)),), (2, 0, 3), (0, 3), [], (0,)),
    # every element written: no zeros needed
    ((("s", None, None, ("c", -1)),), (5,), (5,), [], (slice(None, None, -1),)),
    ((("s", None, None, None),), (3, 2), (2,), [], (slice(None),)),  # g broadcast over rows
    ((), (), (), [], ()),
]


@pytest.mark.parametrize("idx, xshape, gshape, bounds, index", CASES)
def test_subtensor_grad_is_native_and_matches_numpy(idx, xshape, gshape, bounds, index) -> None:
    x = ft.TensorType("float64", (None,) * len(xshape))("x")
    g = ft.TensorType("float64", (None,) * len(gshape))("g")
    bs = [ft.TensorType(np.asarray(b).dtype.name, ())(f"b{k}") for k, b in enumerate(bounds)]
    out = SubtensorGrad(idx)(x, g, *bs)
    c, py = _both([x, g, *bs], [out])
    assert _kinds(c) == [c_program.ST_SUBTENSOR_GRAD]
    rng = np.random.default_rng(0)
    xv, gv = rng.standard_normal(xshape), rng.standard_normal(gshape)
    want = np.zeros(xshape)
    want[index] = gv
    for f in (c, py):
        (got,) = f(xv, gv, *bounds)
        assert got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def test_subtensor_grad_refusals_come_from_the_perform() -> None:
    x, g, k, s = ft.dvector("x"), ft.dvector("g"), ft.lscalar("k"), ft.lscalar("s")
    at_k = SubtensorGrad((("i", ("v", 0)),))(x, ft.sum(g), k)
    stepped = SubtensorGrad((("s", None, None, ("v", 0)),))(x, g, s)
    c, py = _both([x, g, k, s], [at_k, stepped])
    assert c_program.ST_PERFORM not in _kinds(c)
    xv = np.zeros(4)
    for f in (c, py):
        with pytest.raises(IndexError):
            f(xv, np.ones(2), 4, 1)
        with pytest.raises(ValueError, match="step cannot be zero"):
            f(xv, np.ones(4), 0, 0)
        with pytest.raises(ValueError, match="broadcast"):
            f(xv, np.ones(3), 0, 1)
    big = SubtensorGrad((("i", ("c", 2**40)),))(ft.dvector("y"), ft.dscalar("h"))
    f = fc.function([big.owner.inputs[0], big.owner.inputs[1]], big)
    assert _kinds(f) == [c_program.ST_PERFORM]  # a bound beyond a C int stays with the perform
    with pytest.raises(IndexError):
        f(np.zeros(3), 1.0)


@pytest.mark.parametrize("idx, xshape, gshape, bounds, index", CASES)
def test_subtensor_grad_refills_its_kept_buffer(idx, xshape, gshape, bounds, index) -> None:
    """With allow_gc off the step zeroes and refills one buffer from call to call (a Jacobian's
    row seed): every call gives numpy's result whatever the previous one wrote, and a result
    the caller still holds is never written again."""
    x = ft.TensorType("float64", (None,) * len(xshape))("x")
    g = ft.TensorType("float64", (None,) * len(gshape))("g")
    bs = [ft.TensorType(np.asarray(b).dtype.name, ())(f"b{k}") for k, b in enumerate(bounds)]
    with fc.config.change_flags(allow_gc=False):
        f = fc.function([x, g, *bs], SubtensorGrad(idx)(x, g, *bs))
    rng = np.random.default_rng(1)
    xv = rng.standard_normal(xshape)
    held = []
    for call in range(4):
        gv = rng.standard_normal(gshape)
        want = np.zeros(xshape)
        want[index] = gv
        got = f(xv, gv, *bounds)
        np.testing.assert_array_equal(got, want, err_msg=f"call {call}")
        if call % 2:
            held.append((got, want))  # kept by the caller: the next call needs another buffer
    for got, want in held:
        np.testing.assert_array_equal(got, want)


def test_a_one_hot_moves_from_call_to_call() -> None:
    """The seed of a Jacobian's rows, one position after another on one kept buffer: exactly
    one nonzero each time (the previous call's is cleared), empty and one-element vectors."""
    x, k = ft.dvector("x"), ft.lscalar("k")
    with fc.config.change_flags(allow_gc=False):
        f = fc.function([x, k], SubtensorGrad((("i", ("v", 0)),))(x, ft.constant(2.5), k) * 1.0)
    for n in (1, 2, 7):
        for i in [*range(n), *range(-n, 0)]:
            want = np.zeros(n)
            want[i] = 2.5
            np.testing.assert_array_equal(f(np.ones(n), i), want)
    with pytest.raises(IndexError):
        f(np.zeros(0), 0)


def _random_basic_index(rng: np.random.Generator, shape: tuple) -> tuple:
    """A numpy basic index of ``shape``'s leading dims: ints (negative too), slices with any
    bounds (beyond the size too) and steps (negative too)."""
    idx = []
    for n in shape[: rng.integers(0, len(shape) + 1)]:
        if n and rng.random() < 0.3:
            idx.append(int(rng.integers(-n, n)))
        else:
            b = [None if rng.random() < 0.3 else int(rng.integers(-n - 2, n + 3)) for _ in range(2)]
            step = None if rng.random() < 0.4 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            idx.append(slice(b[0], b[1], step))
    return tuple(idx)


def _symbolic_index(index: tuple, dtypes: list[str]) -> tuple[tuple, list, list]:
    """``index`` with every bound a symbolic int scalar of one of ``dtypes`` (in turn), the
    scalars and their values."""
    syms: list = []
    vals: list = []

    def sym(b: int | None):
        if b is None:
            return None
        dt = dtypes[len(syms) % len(dtypes)]
        if np.iinfo(dt).min == 0 and b < 0:
            dt = "int64"
        syms.append(ft.TensorType(dt, ())(f"b{len(syms)}"))
        vals.append(np.asarray(b, dtype=dt))
        return syms[-1]

    out = tuple(
        sym(e) if isinstance(e, int) else slice(sym(e.start), sym(e.stop), sym(e.step)) for e in index
    )
    return out, syms, vals


@pytest.mark.parametrize("seed", range(6))
def test_subtensor_is_native_and_matches_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random basic indices of random shapes (empty dims, 0-d results), with constant and
    symbolic bounds of several int dtypes: the C step gives numpy's values, shapes and dtypes,
    as the Python linker does, and no index reaches Python (not even at run time: the op's
    perform is never called by the C linker)."""
    from fncache.tensor.subtensor import Subtensor

    performed: list = []
    real = Subtensor.perform
    rng = np.random.default_rng(seed)
    for _ in range(12):
        shape = tuple(int(n) for n in rng.integers(0, 5, size=rng.integers(0, 4)))
        dtype = str(rng.choice(["float64", "float32", "int16", "bool"]))
        xv = (rng.standard_normal(shape) * 10).astype(dtype)
        index = _random_basic_index(rng, shape)
        x = ft.TensorType(dtype, (None,) * len(shape))("x")
        sym_index, syms, vals = _symbolic_index(index, ["int64", "int32", "uint8", "int16"])
        outs = [x[index] if index else x[()], x[sym_index] * 1 if index else x * 1]
        c, py = _both([x, *syms], outs)
        assert c_program.ST_PERFORM not in _kinds(c), (index, _steps(c))
        wants = [xv[index], xv[index] * 1]
        for f in (c, py):
            monkeypatch.setattr(
                Subtensor,
                "perform",
                lambda self, node, ins, f=f: performed.append(f) or real(self, node, ins),
            )
            for got, want in zip(f(xv, *vals), wants):
                assert got.dtype == want.dtype and got.shape == want.shape, (index, shape)
                np.testing.assert_array_equal(got, want)
        assert c not in performed, (index, shape)


def test_subtensor_refusals_come_from_the_perform() -> None:
    """An index out of range, a zero step and a bound of a dtype the step does not read (uint64)
    raise the perform's errors, from both linkers; a bound beyond a C int stays with the perform."""
    x, k, s = ft.dmatrix("x"), ft.lscalar("k"), ft.lscalar("s")
    u = ft.TensorType("uint64", ())("u")
    c, py = _both([x, k, s, u], [x[k, ::s] + 0, x[u] + 0])
    assert c_program.ST_PERFORM not in _kinds(c)
    xv = np.arange(6.0).reshape(2, 3)
    for f in (c, py):
        with pytest.raises(IndexError, match="out of bounds"):
            f(xv, 2, 1, np.uint64(0))
        with pytest.raises(IndexError, match="out of bounds"):
            f(xv, -3, 1, np.uint64(0))
        with pytest.raises(ValueError, match="step cannot be zero"):
            f(xv, 0, 0, np.uint64(0))
        np.testing.assert_array_equal(f(xv, -1, -1, np.uint64(1))[1], xv[1])
        with pytest.raises(IndexError):
            f(xv, 0, 1, np.uint64(2**63 + 5))
    y = ft.dvector("y")
    big = fc.function([y], y[2**40 :] + 0)
    assert c_program.ST_PERFORM in _kinds(big)
    assert big(np.ones(3)).shape == (0,)


def test_subtensor_views_never_reach_the_caller() -> None:
    """The step's result is a view of the input; returned as an output it is copied (writing it
    leaves the input alone), and an input that is read-only still works."""
    x = ft.dmatrix("x")
    f = fc.function([x], [x[1:, ::-1], x[0]])
    assert c_program.ST_SUBTENSOR in _kinds(f)
    xv = np.arange(6.0).reshape(2, 3)
    a, b = f(xv)
    a[:] = -1
    b[:] = -1
    np.testing.assert_array_equal(xv, np.arange(6.0).reshape(2, 3))
    xv.flags.writeable = False
    np.testing.assert_array_equal(f(xv)[0], xv[1:, ::-1])


def test_concatenate_alloc_and_make_vector_are_native_and_match_numpy() -> None:
    """``concatenate`` (any axis, negative too, empty pieces), ``alloc``/``zeros_like``/``full``
    (a value broadcast to a symbolic shape, zero sizes) and the symbolic shape vector they read
    run as run-time steps, with numpy's values, shapes and dtypes, as the Python linker gives."""
    x, y, k = ft.dmatrix("x"), ft.dmatrix("y"), ft.iscalar("k")
    b = ft.TensorType("int16", (None,))("b")
    outs = [
        ft.concatenate([x, y, x], axis=0),
        ft.concatenate([x, y], axis=-1),
        ft.concatenate([b, b[:k]]),
        ft.zeros_like(x) + y,
        ft.full((k, x.shape[1]), 2.5),
        ft.alloc(x[0], k, x.shape[1]),
        ft.ones_like(b),
    ]
    c, py = _both([x, y, k, b], outs)
    kinds = _kinds(c)
    assert c_program.ST_PERFORM not in kinds, _steps(c)
    assert kinds.count(c_program.ST_CONCATENATE) == 3 and c_program.ST_ALLOC in kinds
    assert c_program.ST_MAKE_VECTOR in kinds
    rng = np.random.default_rng(3)
    for m, n, kv in ((2, 3, 2), (0, 3, 0), (3, 0, 1), (1, 1, 5)):
        xv, yv = rng.standard_normal((m, n)), rng.standard_normal((m, n))
        bv = rng.integers(-9, 9, size=m + 1).astype("int16")
        want = [
            np.concatenate([xv, yv, xv]),
            np.concatenate([xv, yv], axis=-1),
            np.concatenate([bv, bv[:kv]]),
            yv.copy(),
            np.full((kv, n), 2.5),
            np.broadcast_to(xv[0], (kv, n)) if m else None,
            np.ones_like(bv),
        ]
        for f in (c, py):
            if not m:  # x[0] of an empty x: the index error, from both linkers
                with pytest.raises(IndexError):
                    f(xv, yv, kv, bv)
                continue
            for got, w in zip(f(xv, yv, np.int32(kv), bv), want):
                assert got.dtype == w.dtype and got.shape == w.shape
                np.testing.assert_array_equal(got, w)


def test_concatenate_and_alloc_refusals_come_from_the_perform() -> None:
    """Shapes that do not fit, a negative size and inputs of mixed dtypes reach the op's perform:
    the same errors and values as the Python linker."""
    x, y, k = ft.dmatrix("x"), ft.dmatrix("y"), ft.lscalar("k")
    i = ft.imatrix("i")
    c, py = _both(
        [x, y, k, i], [ft.concatenate([x, y], axis=1), ft.alloc(x, k, x.shape[1]), ft.concatenate([x, i])]
    )
    xv, iv = np.ones((2, 3)), np.arange(6, dtype="int32").reshape(2, 3)
    for f in (c, py):
        with pytest.raises(ValueError, match=r"concatenate\(axis=1\): shapes \[\(2, 3\), \(3, 3\)\]"):
            f(xv, np.ones((3, 3)), 2, iv)
        with pytest.raises(ValueError, match="negative"):
            f(xv, xv, -1, iv)
        with pytest.raises(ValueError, match="cannot be broadcast"):
            f(xv, xv, 3, iv)
        got = f(xv, xv, 2, iv)
        np.testing.assert_array_equal(got[2], np.concatenate([xv, iv]))
        assert got[2].dtype == np.float64


@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "uint8"])
def test_arange_is_native_and_matches_numpy(dtype: str) -> None:
    """``arange`` with symbolic bounds (shape entries, negative steps, empty and huge ranges,
    float bounds): the run-time's values, as numpy's and the Python linker's; a zero step is
    the perform's error."""
    kind = "float64" if dtype == "float64" else "int64"
    a, b, c = (ft.TensorType(kind, ())(n) for n in "abc")
    x = ft.dmatrix("x")
    outs = [ft.arange(a, b, c, dtype=dtype), ft.arange(x.shape[0], dtype=dtype)]
    cf, py = _both([a, b, c, x], outs)
    assert c_program.ST_PERFORM not in _kinds(cf) and c_program.ST_ARANGE in _kinds(cf)
    xv = np.ones((4, 2))
    bounds = [(0, 5, 1), (5, 0, -1), (3, 3, 1), (-7, 11, 3), (10, -10, -4), (1, 0, 1)]
    if kind == "float64":
        bounds += [(0.5, 3.2, 0.7), (-1.0, 1.0, 0.25)]
    elif dtype == "int64":  # beyond what the run-time's own loop takes: numpy's arange
        bounds += [(-(2**62) + 3, -(2**62), -1), (2**62 + 1, 2**62 + 4, 1)]
    elif dtype == "uint8":  # (numpy refuses a negative bound or step for it)
        bounds = [bs for bs in bounds if min(bs) >= 0]
    for start, stop, step in bounds:
        want = [np.arange(start, stop, step, dtype=dtype), np.arange(4, dtype=dtype)]
        for f in (cf, py):
            for got, w in zip(f(start, stop, step, xv), want):
                assert got.dtype == w.dtype and got.shape == w.shape, (start, stop, step)
                np.testing.assert_array_equal(got, w)
    for f in (cf, py):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and nothing else on the way
            with pytest.raises(ValueError, match="step must not be zero"):
                f(0, 3, 0, xv)


def test_specify_shape_and_assert_pass_their_input_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """``specify_shape`` and ``assert_op`` are checks the run-time makes itself: the input
    passes through where they hold (no call into Python, for a condition array too), the
    perform's error where they do not (a wrong size, a false condition)."""
    x, k = ft.dmatrix("x"), ft.lscalar("k")
    m = ft.bmatrix("m")
    outs = [
        ft.specify_shape(x, (None, 3)) * 2,
        ft.assert_op(x, ft.gt(k, 0), "k must be positive") + 1,
        ft.assert_op(x, m, "m must hold") - 1,
    ]
    c, py = _both([x, k, m], outs)
    kinds = _kinds(c)
    assert c_program.ST_PERFORM not in kinds
    assert c_program.ST_SPECIFY_SHAPE in kinds and kinds.count(c_program.ST_ASSERT) == 2
    xv, ok = np.arange(6.0).reshape(2, 3), np.ones((2, 3), bool)
    performed = []
    for op in (SpecifyShape, Assert):
        monkeypatch.setattr(
            op, "perform", lambda self, node, ins, f=op.perform: performed.append(self) or f(self, node, ins)
        )
    c(xv, 1, ok)
    assert not performed
    for f in (c, py):
        got = f(xv, 1, ok)
        for g, w in zip(got, [xv * 2, xv + 1, xv - 1]):
            np.testing.assert_array_equal(g, w)
        with pytest.raises(ValueError, match=r"specify_shape: the value has shape \(3, 2\)"):
            f(xv.T.copy(), 1, ok.T.copy())
        with pytest.raises(AssertionError, match="k must be positive"):
            f(xv, 0, ok)
        bad = ok.copy()
        bad[1, 2] = False
        with pytest.raises(AssertionError, match="m must hold"):
            f(xv, 1, bad)
    # returned as it is, the checked input is copied for the caller
    f = fc.function([x], ft.specify_shape(x, (2, 3)))
    out = f(xv)
    out[:] = 0
    assert xv[1, 2] == 5.0


@pytest.mark.parametrize("seed", range(4))
def test_tensordot_is_native_and_matches_numpy(seed: int) -> None:
    """Random tensordots (0 to 3 contracted axes in any order, empty dims, transposed operands,
    float32 and float64) in the run-time, N-d ``dot`` too: numpy's values and shapes, as the
    Python linker's; operands of mixed dtypes go through the perform, and so do sizes that
    differ (its error)."""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        dt = str(rng.choice(["float64", "float32"]))
        na, nb = (int(n) for n in rng.integers(1, 4, size=2))
        n = int(rng.integers(0, min(na, nb) + 1))
        ca = [int(i) for i in rng.permutation(na)[:n]]
        cb = [int(i) for i in rng.permutation(nb)[:n]]
        ash = [int(s) for s in rng.integers(0, 4, size=na)]
        bsh = [int(s) for s in rng.integers(0, 4, size=nb)]
        for i, j in zip(ca, cb):
            bsh[j] = ash[i]
        a = ft.TensorType(dt, (None,) * na)("a")
        b = ft.TensorType(dt, (None,) * nb)("b")
        c, py = _both([a, b], [ft.tensordot(a, b, (ca, cb))])
        assert _kinds(c) == [c_program.ST_TENSORDOT]
        av = rng.standard_normal(ash).astype(dt)
        bv = rng.standard_normal(bsh[::-1]).astype(dt).T  # not contiguous
        want = np.tensordot(av, bv, (ca, cb))
        tol = 1e-5 if dt == "float32" else 1e-12
        for f in (c, py):
            (got,) = f(av, bv)
            assert got.dtype == want.dtype and got.shape == want.shape, (ash, bsh, ca, cb)
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    x, y, i = ft.tensor3("x"), ft.dmatrix("y"), ft.imatrix("i")
    c, py = _both([x, y, i], [ft.dot(x, y), ft.tensordot(y, i, 1)])
    xv, yv, iv = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), np.ones((5, 2), "int32")
    for f in (c, py):
        got = f(xv, yv, iv)
        np.testing.assert_allclose(got[0], np.dot(xv, yv), rtol=1e-12)
        np.testing.assert_allclose(got[1], np.tensordot(yv, iv, 1), rtol=1e-12)
        # an N-d dot's mismatch names dot, the function called, not the tensordot it is built on
        with pytest.raises(ValueError, match=r"^dot: .*last dim of a \(size 4\) and dim 0 of b \(size 3\)"):
            f(xv, np.ones((3, 5)), iv)
