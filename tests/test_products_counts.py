"""Products and counts against numpy: ``repeat``'s static shapes (never contradicting the
result), counts that fix the graph (refused with a clear error when symbolic, read when a
constant graph holds them), and size mismatches in the functions built on other products
(``batched_dot`` on ``matmul``), whose errors name the function called."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fncache as fc
from fncache import tensor as ft
from fcutil import fd_check_grads, fuzz_settings

# -- repeat: static shapes ---------------------------------------------------------------------

#: (x's value, whether x's static shape is declared, counts, axis): counts as numpy takes them
#: (an int, a single count in a vector, one per element, 0), some given as a constant graph
REPEAT_CASES: list[tuple[np.ndarray, bool, Any, int | None]] = [
    (np.arange(3.0), False, 3, None),
    (np.arange(3.0), True, 3, None),
    (np.arange(3.0), False, 0, None),
    (np.arange(3.0), False, [2], None),
    (np.arange(3.0), True, [2], None),
    (np.arange(3.0), True, np.array([2], "uint8"), 0),
    (np.arange(3.0), False, [1, 0, 2], None),
    (np.arange(3.0), False, [1, 0, 2], -1),
    (np.zeros(0), False, [5], None),
    (np.arange(6.0).reshape(2, 3), True, 2, None),
    (np.arange(6.0).reshape(2, 3), False, 2, 1),
    (np.arange(6.0).reshape(2, 3), True, 2, 1),
    (np.arange(6.0).reshape(2, 3), False, [3], 1),
    (np.arange(6.0).reshape(2, 3), False, [3, 1], 0),
    (np.arange(6.0).reshape(2, 3), True, np.int8(4), 0),
    (np.arange(6.0).reshape(2, 3), True, "constant 3", 1),
    (np.arange(6.0).reshape(2, 3), True, "folded 3", 0),
    (np.array(2.0), False, 3, 0),
    (np.array(2.0), True, [3], -1),
]


def _counts(r: Any) -> tuple[Any, Any]:
    """The counts as given to ``ft.repeat`` and as numpy takes them."""
    if r == "constant 3":
        return ft.constant(3), 3
    if r == "folded 3":
        return ft.constant(1) + 2, 3
    return r, r


def test_repeat_declares_numpys_length_where_it_is_known() -> None:
    """The static shape of ``repeat`` is the result's wherever the counts and the sizes they
    multiply are known (a single count in a vector is numpy's broadcast count, 0 makes 0
    whatever x's size), and never another."""
    ins, outs, vals, wants, known = [], [], [], [], []
    for k, (a, static, r, axis) in enumerate(REPEAT_CASES):
        x = ft.tensor(f"x{k}", "float64", shape=a.shape if static else (None,) * a.ndim)
        arg, counts = _counts(r)
        out = ft.repeat(x, arg, axis=axis)
        want = np.repeat(a, counts, axis=axis)
        ins.append(x)
        outs.append(out)
        vals.append(a)
        wants.append(want)
        flat = np.asarray(counts).reshape(-1)
        one = flat.size == 1
        size_known = static or a.ndim == 0 or (one and flat[0] == 0) or not one
        known.append(size_known)
    got = fc.function(ins, outs, mode="FAST_COMPILE")(*vals)
    for case, out, g, w, size_known in zip(REPEAT_CASES, outs, got, wants, known):
        np.testing.assert_array_equal(g, w, err_msg=str(case))
        assert out.ndim == w.ndim, case
        for s, n in zip(out.type.shape, w.shape):
            assert s is None or s == n, f"{case}: static shape {out.type.shape}, numpy's {w.shape}"
        length_axis = 0 if case[3] is None or w.ndim == 1 else case[3]
        assert (out.type.shape[length_axis] is not None) == size_known, f"{case}: {out.type.shape}"


@st.composite
def repeat_cases(draw: Any) -> tuple[np.ndarray, bool, Any, int | None, str]:
    """x (0 to 2 dims, sizes 0 to 3, its shape static or not), counts (one, a single one in a
    vector, or one per element; 0 to 3 each), axis (None or one of x's), and how the counts
    are given: values, a constant graph, or a symbolic input."""
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    axis = draw(st.sampled_from([None, *range(len(shape)), *range(-len(shape), 0)]))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    form = draw(st.sampled_from(["one", "single", "each"]))
    counts: Any = (
        draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        if form == "each"
        else draw(st.integers(0, 3))
    )
    counts = np.array([counts], "int64") if form == "single" else np.asarray(counts, "int64")
    how = draw(st.sampled_from(["values", "constant", "symbolic"]))
    return (
        np.arange(float(np.prod(shape))).reshape(shape),
        draw(st.booleans()),
        counts,
        axis,
        how,
    )


@fuzz_settings(40)
@given(case=repeat_cases())
def test_repeat_static_shape_never_contradicts_the_result(case: tuple) -> None:
    a, static, counts, axis, how = case
    x = ft.tensor("x", "float64", shape=a.shape if static else (None,) * a.ndim)
    r = ft.tensor("r", "int64", shape=(None,) * counts.ndim)
    arg = {"values": counts, "constant": ft.constant(counts), "symbolic": r}[how]
    out = ft.repeat(x, arg, axis=axis)
    got = fc.function([x, r], out, mode="FAST_COMPILE", on_unused_input="ignore")(a, counts)
    want = np.repeat(a, counts, axis=axis)
    np.testing.assert_array_equal(got, want)
    assert out.ndim == want.ndim and all(s is None or s == n for s, n in zip(out.type.shape, want.shape)), (
        f"static shape {out.type.shape}, numpy's {want.shape}"
    )
    if how != "symbolic" and (static or a.ndim == 0):
        assert None not in out.type.shape, f"{out.type.shape}: every size is known"


def test_repeat_gradient_by_a_single_count_at_run_time() -> None:
    """A vector of counts whose length is known only when the function runs may hold numpy's
    single count for every element: the gradient sums each element's copies."""
    x, r = ft.dvector("x"), ft.lvector("r")
    w = np.linspace(-1.0, 2.0, 6)
    f = fc.function([x, r], fc.grad(ft.sum(ft.repeat(x, r) * w[:6]), x), mode="FAST_COMPILE")
    np.testing.assert_allclose(f(np.arange(3.0), np.array([2])), w.reshape(3, 2).sum(axis=1))
    np.testing.assert_allclose(f(np.arange(3.0), np.array([1, 2, 3])), [w[0], w[1] + w[2], w[3:].sum()])
    fd_check_grads(
        [x],
        {
            "repeat by 2": (lambda v: ft.repeat(v, [2]), [0]),
            "repeat by counts": (lambda v: ft.repeat(v, [1, 0, 2]), [0]),
        },
        [[np.array([0.5, -1.0, 2.0])]],
        mode="FAST_COMPILE",
    )


# -- counts that fix the graph -------------------------------------------------------------------

m, t3, v = ft.dmatrix("m"), ft.dtensor3("t3"), ft.dvector("v")

#: (function, argument, the graph built with the count k): each count decides the number of
#: outputs or dims, or the graph's structure, so it must be known when the graph is built
COUNTS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("split", "n_splits", lambda k: ft.split(v, [1, 3], k)),
    ("split", "the number of sections", lambda k: ft.split(m, k, axis=1)),
    ("tensordot", "axes", lambda k: ft.tensordot(m, m.T, k)),
    ("batched_tensordot", "axes", lambda k: ft.batched_tensordot(t3, t3, k)),
    ("diff", "n", lambda k: ft.diff(m, k)),
    ("matrix_power", "n", lambda k: ft.matrix_power(m, k)),
    ("rot90", "k", lambda k: ft.rot90(m, k)),
    ("flatten", "ndim", lambda k: ft.flatten(t3, k)),
    ("reshape", "ndim", lambda k: ft.reshape(t3, (6, 4), ndim=k)),
    ("sum", "axis", lambda k: ft.sum(t3, axis=k)),
    ("concatenate", "axis", lambda k: ft.concatenate([m, m], axis=k)),
]


@pytest.mark.parametrize("what,arg,build", COUNTS, ids=[f"{c[0]} {c[1]}" for c in COUNTS])
def test_a_symbolic_count_is_refused_naming_the_function_the_argument_and_the_fix(
    what: str, arg: str, build: Callable[[Any], Any]
) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^{what}: {arg} must be .*, got the symbolic k \(TensorType\(int32, \(\)\)\), whose value "
        r"is known only when the function runs; give a Python int or a constant integer \(ft.constant\(2\)",
    ):
        build(ft.iscalar("k"))
    with pytest.raises(
        TypeError, match=rf"^{what}: {arg} must be .*, got the symbolic .*not an integer scalar"
    ):
        build(ft.constant(1.0))


def test_a_count_read_from_a_static_size_or_a_constant_is_that_int() -> None:
    """PyTensor refuses ``diff(x, pt.constant(2))`` and ``flatten(x, pt.constant(2))``
    (``TensorVariable cannot be converted``); a constant graph is its value here, a static size
    too, with the static shape the int gives."""
    sized = ft.tensor("sized", "float64", shape=(None, 2, 4))
    for k in (ft.constant(np.int16(2)), sized.shape[1], ft.constant(5) - 3):
        assert ft.flatten(sized, k).type.shape == (None, 8)
        assert ft.diff(sized, k, axis=2).type.shape == (None, 2, 2)
        assert len(ft.split(sized, k, axis=1)) == 2
        assert ft.tensordot(sized, ft.dmatrix(), k - 1).ndim == 3


# -- run-time sizes: the error names the function the user called -----------------------------


def _run(
    build: Callable[..., Any], *arrays: np.ndarray, mode: str = "FAST_COMPILE", static: bool = False
) -> Any:
    ins = [
        ft.tensor(f"x{k}", a.dtype.name, shape=a.shape if static else (None,) * a.ndim)
        for k, a in enumerate(arrays)
    ]
    return fc.function(ins, build(*ins), mode=mode)(*arrays)


def _z(*shape: int) -> np.ndarray:
    return np.zeros(shape)


#: a @ b's refusal: matmul's own where the sizes are static, else its Dot's (shapes, a's size
#: and dim, b's size)
_MATMUL = r"^(matmul|dot \(also a @ b and matmul\)): shapes {} are not aligned: {} != {} \(dim 0\)"

#: (function built on another op, operands whose sizes only the run time knows, the error)
RUN_TIME_SIZES: list[tuple[Callable[..., Any], tuple[np.ndarray, ...], str]] = [
    (
        ft.batched_dot,
        (_z(2, 3, 4), _z(3, 4, 5)),
        r"^batched_dot: the batch sizes \(dim 0\) are 2 and 3; give equal",
    ),
    (ft.batched_dot, (_z(2, 3), _z(3, 3)), r"^batched_dot: the batch sizes \(dim 0\) are 2 and 3"),
    (ft.batched_dot, (_z(2), _z(3, 4)), r"^batched_dot: the batch sizes \(dim 0\) are 2 and 3"),
    (
        ft.batched_dot,
        (_z(2, 3, 4), _z(2, 5, 5)),
        r"^batched_dot: the last dim of a \(size 4\) and dim 1 of b \(size 5\) differ; the summed dims",
    ),
    (
        lambda a, b: ft.batched_tensordot(a, b, [[2], [1]]),
        (_z(2, 3, 4), _z(3, 4, 5)),
        r"^batched_tensordot: the batch sizes \(dim 0\) are 2 and 3",
    ),
    (
        lambda a, b: ft.batched_tensordot(a, b, [[2], [1]]),
        (_z(2, 3, 4), _z(2, 5, 5)),
        r"^batched_tensordot: axis 2 of x \(size 4\) and axis 1 of y \(size 5\) differ",
    ),
    (ft.inner, (_z(3, 4), _z(5, 6)), r"^inner: the last dims differ \(4 and 6\)"),
    # a Dot (no node to name matmul: it would keep the product from the rewrites), named by both
    (lambda a, b: a @ b, (_z(2, 3), _z(4)), _MATMUL.format(r"\(2, 3\) and \(4,\)", r"3 \(dim 1\)", 4)),
    (ft.matmul, (_z(3), _z(4, 2)), _MATMUL.format(r"\(3,\) and \(4, 2\)", r"3 \(dim 0\)", 4)),
    (
        ft.dot,
        (_z(2, 3, 4), _z(5, 6)),
        r"^dot: shapes not aligned: the last dim of a \(size 4\) and dim 0 of b",
    ),
    (
        ft.matvec,
        (_z(3, 4), _z(5)),
        r"^matvec: the lengths of x1's columns and x2's vectors differ \(4 and 5\)",
    ),
    (
        ft.matvec,
        (_z(2, 3, 4), _z(3, 4)),
        r"^matvec: the stack dims of x1 and x2 do not broadcast: sizes 2 and 3",
    ),
    (ft.vecmat, (_z(3), _z(5, 4)), r"^vecmat: the lengths of x1's vectors and x2's rows differ \(3 and 5\)"),
    (ft.vecdot, (_z(3), _z(5)), r"^vecdot: the vectors along axis -1 have lengths 3 and 5"),
    # numpy's vectors do not broadcast a length 1 (the elementwise product would)
    (ft.vecdot, (_z(3), _z(1)), r"^vecdot: the vectors along axis -1 have lengths 3 and 1"),
    (
        ft.vecdot,
        (_z(2, 3), _z(4, 3)),
        r"^vecdot: the stack dims of x1 and x2 do not broadcast: sizes 2 and 4",
    ),
    # 4-vectors gave the cross product of their first 3 components
    (ft.cross, (_z(4), _z(4)), r"^cross: a .* has 4 components along axis -1 where a cross product takes 3"),
    (ft.cross, (_z(2, 3), _z(4, 3)), r"^cross: the stack dims of a and b do not broadcast: sizes 2 and 4"),
    # lu_solve solved with the first 3 of 4 right-hand sides (its pivots' permutation took them)
    (
        lambda a, b: ft.linalg.lu_solve(ft.linalg.lu_factor(a), b),
        (np.eye(3), _z(4)),
        r"^lu_solve: .*b needs 3 rows",
    ),
    (
        lambda c, b: ft.linalg.cho_solve((c, True), b),
        (np.eye(3), _z(4)),
        r"^cho_solve: b needs 3 rows, as c has",
    ),
    (
        ft.linalg.solve_continuous_lyapunov,
        (np.eye(3), np.eye(2)),
        r"^solve_continuous_lyapunov: .*needs 3 rows",
    ),
    (
        lambda a, b: ft.linalg.eigh(a, b)[0],
        (np.eye(3), np.eye(2)),
        r"^eigh: b needs 3 rows, as a has, and has 2",
    ),
    (
        ft.linalg.tensorsolve,
        (np.eye(3), _z(4)),
        r"^tensorsolve: dim 0 of a \(size 3\) and of b \(size 4\) differ",
    ),
    (
        lambda *a: ft.linalg.multi_dot(list(a)),
        (_z(2, 3), _z(3, 4), _z(3, 2)),
        r"^multi_dot: array 1 .* and array 2 .*not aligned",
    ),
    (
        lambda a, b: ft.linalg.multi_dot([a, b]),
        (_z(2, 3, 4), _z(5, 3, 2)),
        r"^multi_dot: array 0 .* and array 1 .*not aligned: 4 columns, 3 rows",
    ),
    (ft.vdot, (_z(2, 3), _z(5)), r"^vdot: a has 6 elements and b 5"),
    (
        ft.linalg.matrix_dot,
        (_z(2, 3), _z(3, 4), _z(3, 2)),
        r"^matrix_dot: the product of arguments 0 to 1 and",
    ),
    # scipy's own errors name no function
    (
        lambda a, b: ft.linalg.qz(a, b)[0],
        (np.eye(3), np.eye(2)),
        r"^qz: A is .*of sizes 3 and 2; give two square",
    ),
    (
        ft.linalg.solve_discrete_are,
        (np.eye(3) / 2, np.ones((3, 1)), np.eye(2), np.eye(1)),
        r"^solve_discrete_are: .*Q's size must be 3, not 2",
    ),
]


@pytest.mark.parametrize("static", [False, True], ids=["run time", "static"])
@pytest.mark.parametrize("build,arrays,match", RUN_TIME_SIZES)
def test_a_size_mismatch_names_the_function_called(
    build: Callable[..., Any], arrays: tuple[np.ndarray, ...], match: str, static: bool
) -> None:
    """Where the sizes are static the graph is refused when it is built, else the function
    raises when it runs: the same error, naming the function called, not the op it is built on."""
    with pytest.raises(ValueError, match=match):
        _run(build, *arrays, static=static)


def test_a_run_time_size_mismatch_names_the_function_called_in_c() -> None:
    with pytest.raises(ValueError, match=r"^batched_dot: the batch sizes \(dim 0\) are 2 and 3"):
        _run(ft.batched_dot, _z(2, 3, 4), _z(3, 4, 5), mode="FAST_RUN")
    # a @ b's Dot in C: as its own step, and in a linear model's gradient (one pass over X)
    for build in (lambda a, b: (a @ b) * 2.0, lambda a, b: fc.grad(ft.tanh(a @ b).sum(), b)):
        with pytest.raises(ValueError, match=_MATMUL.format(r"\(3, 4\) and \(5,\)", r"4 \(dim 1\)", 5)):
            _run(build, _z(3, 4), _z(5), mode="FAST_RUN")


def test_vecdot_takes_numpys_axis_of_each_operand() -> None:
    """numpy's ``axis`` names each operand's own dim (a gufunc's core dim), the other dims
    broadcast: a matrix's axis 0 with a vector."""
    a, b = np.arange(6.0).reshape(3, 2), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(_run(lambda x, y: ft.vecdot(x, y, axis=0), a, b), np.vecdot(a, b, axis=0))
    c = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_allclose(_run(lambda x, y: ft.vecdot(x, y, axis=1), c, a.T), np.vecdot(c, a.T, axis=1))


# -- vdot and multi_dot against numpy ------------------------------------------------------------

PAIR_DTYPES = ("bool", "int8", "uint8", "int64", "float32", "float64", "complex64", "complex128")


def _values(dtype: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Values of ``dtype``; integers large enough that products and sums wrap."""
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    if dtype.startswith("complex"):
        return (rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape)).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -120), min(info.max, 120), shape, endpoint=True).astype(dtype)


def _assert_numpys(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{what}: {got.dtype}{got.shape}, {want.dtype}{want.shape}"
    )
    if want.dtype.kind in "fc":
        rtol = 1e-4 if want.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


#: (name, fncache's product, numpy's, operand shapes): every pair of PAIR_DTYPES is one output
PRODUCTS: list[tuple[str, Callable[..., Any], Callable[..., Any], tuple[tuple[int, ...], ...]]] = [
    ("vdot", ft.vdot, np.vdot, ((2, 3), (3, 2))),
    ("vdot 0-d", ft.vdot, np.vdot, ((), (1,))),
    (
        "multi_dot",
        lambda a, b: ft.linalg.multi_dot([a, b, a.T]),
        lambda a, b: np.linalg.multi_dot([a, b, a.T]),
        ((2, 3), (3, 3)),
    ),
    (
        "multi_dot vectors",
        lambda a, b: ft.linalg.multi_dot([a, b, b, a]),
        lambda a, b: np.linalg.multi_dot([a, b, b, a]),
        ((3,), (3, 3)),
    ),
    ("dot", ft.dot, np.dot, ((2, 2, 3), (3, 2))),
    ("inner", ft.inner, np.inner, ((2, 3), (4, 3))),
    ("outer", ft.outer, np.outer, ((2, 3), (4,))),
    ("kron", ft.kron, np.kron, ((2, 3), (2, 2))),
    ("tensordot", lambda a, b: ft.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), ((2, 3), (3, 2))),
    ("matmul", ft.matmul, np.matmul, ((2, 2, 3), (2, 3, 2))),
    (
        "einsum",
        lambda a, b: ft.einsum("ij,jk->ik", a, b),
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        ((2, 3), (3, 2)),
    ),
]


@pytest.mark.parametrize("name,build,ref,shapes", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products_give_numpys_dtype_and_values_for_every_dtype_pair(
    name: str, build: Callable[..., Any], ref: Callable[..., Any], shapes: tuple[tuple[int, ...], ...]
) -> None:
    """Narrow integers wrap in their dtype, bool products are numpy's ``and``/``or``, complex64
    stays complex64 with float32 and becomes complex128 with float64 or int64; the declared
    dtype and the run-time one are numpy's."""
    rng = np.random.default_rng(len(name))
    ins, outs, vals, wants = [], [], [], []
    for da in PAIR_DTYPES:
        for db in PAIR_DTYPES:
            a, b = _values(da, shapes[0], rng), _values(db, shapes[1], rng)
            x, y = ft.tensor(dtype=da, shape=(None,) * a.ndim), ft.tensor(dtype=db, shape=(None,) * b.ndim)
            out = build(x, y)
            with np.errstate(all="ignore"):
                want = np.asarray(ref(a, b))
            assert out.dtype == want.dtype.name, (
                f"{name} {da} {db}: declared {out.dtype}, numpy's {want.dtype}"
            )
            ins += [x, y]
            outs.append(out)
            vals += [a, b]
            wants.append((want, f"{name} {da} {db}"))
    for got, (want, what) in zip(fc.function(ins, outs, mode="FAST_COMPILE")(*vals), wants):
        _assert_numpys(got, want, what)


def test_vdot_and_multi_dot_in_c_static_shapes_or_not() -> None:
    """One compiled function: complex conjugation, mixed dtypes, numpy's multiplication order
    (with static shapes, integer products wrap as numpy's do in that order) and symbolic
    sizes (left to right)."""
    rng = np.random.default_rng(7)
    cases = [
        (ft.vdot, np.vdot, [_values("complex64", (2, 3), rng), _values("float32", (6,), rng)]),
        (ft.vdot, np.vdot, [_values("int8", (4,), rng), _values("uint8", (2, 2), rng)]),
        (
            lambda *a: ft.linalg.multi_dot(list(a)),
            lambda *a: np.linalg.multi_dot(list(a)),
            [
                _values(d, s, rng)
                for d, s in (("int8", (5, 1)), ("int8", (1, 6)), ("int64", (6, 2)), ("int8", (2,)))
            ],
        ),
        (
            lambda *a: ft.linalg.multi_dot(list(a)),
            lambda *a: np.linalg.multi_dot(list(a)),
            [
                _values(d, s, rng)
                for d, s in (("complex128", (3,)), ("float64", (3, 4)), ("complex64", (4, 2)))
            ],
        ),
    ]
    ins, outs, vals, wants = [], [], [], []
    for static in (True, False):
        for build, ref, arrays in cases:
            xs = [
                ft.tensor(dtype=a.dtype.name, shape=a.shape if static else (None,) * a.ndim) for a in arrays
            ]
            ins += xs
            outs.append(build(*xs))
            vals += arrays
            with np.errstate(all="ignore"):
                wants.append(np.asarray(ref(*arrays)))
    got = fc.function(ins, outs, mode="FAST_RUN")(*vals)
    for out, g in zip(outs, got):
        assert out.ndim == g.ndim and all(s is None or s == n for s, n in zip(out.type.shape, g.shape))
    for k, (g, w) in enumerate(zip(got, wants)):
        if k == 6:  # mixed integer dtypes, symbolic sizes: left to right, not numpy's order
            continue
        _assert_numpys(g, w, f"case {k % 4}, static {k < 4}")


def test_multi_dot_of_two_arrays_is_numpys_dot_of_any_dims() -> None:
    """Two arrays of any dims (0 to 3 each) are numpy's multi_dot, which is then its dot (the
    last axis of the first with the second-to-last of the second); the gradient of N-d pairs
    against central differences."""
    rng = np.random.default_rng(11)
    shapes = {0: (), 1: (3,), 2: (2, 3), 3: (4, 2, 3)}  # the second's: the last two swapped
    ins, outs, vals, wants = [], [], [], []
    for da in range(4):
        for db in range(4):
            a = rng.standard_normal(shapes[da])
            b = rng.standard_normal(shapes[db][:-2] + shapes[db][-2:][::-1])
            x, y = (ft.tensor(dtype="float64", shape=(None,) * v.ndim) for v in (a, b))
            ins += [x, y]
            outs.append(ft.linalg.multi_dot([x, y]))
            vals += [a, b]
            wants.append(np.linalg.multi_dot([a, b]))
    for k, (g, w) in enumerate(zip(fc.function(ins, outs, mode="FAST_COMPILE")(*vals), wants)):
        _assert_numpys(g, w, f"dims {divmod(k, 4)}")
    a, b, c, s = ft.dtensor3("a"), ft.dtensor3("b"), ft.dvector("c"), ft.dscalar("s")
    fd_check_grads(
        [a, b, c, s],
        {
            "3-d 3-d": (lambda a, b, c, s: ft.nlinalg.multi_dot([a, b]), [0, 1]),
            "3-d 1-d": (lambda a, b, c, s: ft.linalg.multi_dot([a, c]), [0, 2]),
            "0-d 3-d": (lambda a, b, c, s: ft.linalg.multi_dot([s, b]), [1, 3]),
        },
        [
            [
                rng.standard_normal((2, 2, 3)),
                rng.standard_normal((2, 3, 2)),
                rng.standard_normal(3),
                np.array(0.7),
            ]
        ],
        mode="FAST_COMPILE",
    )


def test_multi_dot_chooses_numpys_order_from_static_sizes() -> None:
    """The order numpy's cost model picks for the same sizes (the first cheapest split), left
    to right where a size is symbolic."""
    from fncache.tensor.blas import Dot
    from fncache.tensor.pyop import CheckAndReport

    def order(shapes: list[tuple[int | None, ...]]) -> str:
        names = iter("ABCDEFG")
        vs = [ft.tensor(next(names), "float64", shape=s) for s in shapes]

        def show(v: Any) -> str:
            if v.owner is None:
                return v.name
            if isinstance(v.owner.op, CheckAndReport):  # a size checked when the function runs
                return show(v.owner.inputs[0])
            assert isinstance(v.owner.op, Dot)
            return f"({show(v.owner.inputs[0])}{show(v.owner.inputs[1])})"

        return show(ft.linalg.multi_dot(vs))

    assert order([(10, 100), (100, 5), (5, 50)]) == "((AB)C)"
    assert order([(50, 5), (5, 100), (100, 10)]) == "(A(BC))"
    assert order([(30, 35), (35, 15), (15, 5), (5, 10), (10, 20), (20, 25)]) == "((A(BC))((DE)F))"
    assert order([(3,), (3, 3), (3, 3)]) == "((AB)C)"  # a tie: numpy's A(BC) only when cheaper
    # a size static on one side of a product is that size (checked on the other when it runs)
    assert order([(50, 5), (5, None), (100, 10)]) == "(A(BC))"
    assert order([(50, 5), (5, None), (None, 10)]) == "((AB)C)"


def test_vdot_and_multi_dot_gradients_match_central_differences() -> None:
    a, b, c, v = ft.dmatrix("a"), ft.dmatrix("b"), ft.dmatrix("c"), ft.dvector("v")
    rng = np.random.default_rng(3)
    fd_check_grads(
        [a, b, c, v],
        {
            "vdot": (lambda a, b, c, v: ft.vdot(a, b.T), [0, 1]),
            "multi_dot": (lambda a, b, c, v: ft.linalg.multi_dot([v, a, b, c]), [0, 1, 2, 3]),
            "multi_dot 2": (lambda a, b, c, v: ft.linalg.multi_dot([a, b]), [0, 1]),
        },
        [
            [
                rng.standard_normal((2, 3)),
                rng.standard_normal((3, 2)),
                rng.standard_normal((2, 4)),
                rng.standard_normal(2),
            ]
        ],
        mode="FAST_COMPILE",
    )


@pytest.mark.parametrize(
    "build,error,match",
    [
        (
            lambda: ft.linalg.multi_dot([ft.dmatrix()]),
            ValueError,
            r"^multi_dot: takes at least two arrays, got 1",
        ),
        (lambda: ft.linalg.multi_dot(ft.dmatrix()), TypeError, r"^multi_dot: arrays must be a list or tuple"),
        (
            lambda: ft.linalg.multi_dot([ft.dmatrix(), ft.dvector(), ft.dmatrix()]),
            ValueError,
            r"^multi_dot: array 1 is .* \(1 dims\); of three or more arrays the first and last must be 1-d or "
            "2-d and the others 2-d",
        ),
        (
            lambda: ft.linalg.multi_dot([ft.dtensor3(), ft.dmatrix(), ft.dmatrix()]),
            ValueError,
            r"^multi_dot: array 0 is .* \(3 dims\); of three or more arrays .*numpy's dot of any dims.*ft.matmul",
        ),
        (
            lambda: ft.linalg.multi_dot(
                [ft.tensor(dtype="float64", shape=(3,)), ft.tensor(dtype="float64", shape=(4, 2))]
            ),
            ValueError,
            r"^multi_dot: array 0 .* and array 1 .* are not aligned: 3 columns, 4 rows",
        ),
        (
            lambda: ft.vdot(ft.tensor(dtype="float64", shape=(2, 3)), ft.tensor(dtype="float64", shape=(5,))),
            ValueError,
            r"^vdot: a has 6 elements and b 5; vdot flattens both: give arrays of one size",
        ),
    ],
)
def test_vdot_and_multi_dot_refuse_bad_input_clearly(
    build: Callable[[], Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        build()


def test_a_static_matmul_mismatch_names_matmul() -> None:
    """``a @ b`` of vectors and matrices is a ``Dot`` op, whose own error names ``dot``."""
    a, b = ft.tensor(dtype="float64", shape=(2, 3)), ft.tensor(dtype="float64", shape=(4,))
    with pytest.raises(
        ValueError, match=r"^matmul: shapes \(2, 3\) and \(4,\) are not aligned: 3 \(dim 1\) != 4"
    ):
        a @ b
