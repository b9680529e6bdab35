"""The contraction family (einsum, tensordot, dot, matmul, inner, outer, kron, batched_dot,
batched_tensordot) against numpy: random einsum subscripts (repeated indices, ellipses, implicit
and permuted outputs, size-0 and size-1 dims), every dtype pair (integer products wrap as
numpy's), non-contiguous inputs, static shapes matching the run-time ones, clear errors for bad
input, and gradients against central differences."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fncache as fc
from fncache import tensor as ft
from fcutil import FD_ATOL, FD_RTOL, MODES, assert_same, fd_jacobian, fuzz_settings

AUDIT_DTYPES = ("bool", "int8", "uint8", "int64", "float32", "float64", "complex128")


def _values(dtype: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Values of ``dtype``: integers over their whole range (so products and sums wrap)."""
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("float32", "float64"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    if dtype == "complex128":
        return rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def _noncontiguous(a: np.ndarray) -> np.ndarray:
    """``a``'s values in a Fortran-ordered, strided buffer."""
    if a.ndim == 0:
        return a
    buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype, order="F")
    view = buf[..., ::2]
    view[...] = a
    return view


def _check(
    build: Callable[..., Any],
    ref: Callable[..., Any],
    arrays: list[np.ndarray],
    mode: str,
    static: bool,
    what: str,
) -> None:
    """``build`` of symbolic inputs like ``arrays`` (static shapes or not) compiled in ``mode``
    gives numpy's ``ref`` of them, contiguous or not, of a shape its static one allows."""
    ins = [
        ft.tensor(f"x{k}", a.dtype.name, shape=a.shape if static else (None,) * a.ndim)
        for k, a in enumerate(arrays)
    ]
    out = build(*ins)
    f = fc.function(ins, out, mode=mode)
    with np.errstate(all="ignore"):
        want = np.asarray(ref(*arrays))
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    rtol = 1e-4 if np.float32 in floats and np.float64 not in floats else 1e-10
    for vals in (arrays, [_noncontiguous(a) for a in arrays]):
        got = f(*vals)
        if want.dtype.kind == "c":
            assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, numpy gives {want.dtype}"
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 10, err_msg=what)
        else:
            assert_same(got, want, what, rtol=rtol, atol=rtol * 10)
        assert len(out.type.shape) == got.ndim and all(
            s is None or s == n for s, n in zip(out.type.shape, got.shape)
        ), f"{what}: static shape {out.type.shape}, run-time {got.shape}"


@st.composite
def einsum_cases(draw: Any) -> tuple[str, list[tuple[int, ...]], list[str]]:
    """Subscripts with their operands' shapes and dtypes: indices repeated within and across
    operands, ellipses, implicit or explicit (any order, any subset) outputs, sizes 0 to 3,
    and dims of size 1 that broadcast."""
    letters = "abcd"
    size = {
        c: draw(st.sampled_from([0, 1, 2, 3] if draw(st.integers(0, 9)) == 0 else [1, 2, 3])) for c in letters
    }
    n_ell = draw(st.integers(0, 2))
    ell_sizes = [draw(st.integers(1, 3)) for _ in range(n_ell)]
    terms, shapes, any_ell = [], [], False
    for _ in range(draw(st.integers(1, 3))):
        term = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3))
        has_ell = n_ell > 0 and draw(st.booleans())
        shape = [size[c] for c in term]
        if has_ell:
            any_ell = True
            k = draw(st.integers(0, n_ell))
            ell = [1 if draw(st.integers(0, 3)) == 0 else n for n in ell_sizes[n_ell - k :]]
            at = draw(st.integers(0, len(term)))
            term = term[:at] + ["..."] + term[at:]
            shape = shape[:at] + ell + shape[at:]
        # a letter of size 1 in this operand only broadcasts against the others' size
        if shape and draw(st.integers(0, 4)) == 0:
            d = draw(st.integers(0, len(shape) - 1))
            if term.count(term[d] if d < len(term) else "") <= 1 and not has_ell:
                shape[d] = 1
        terms.append("".join(term))
        shapes.append(tuple(shape))
    subs = ",".join(terms)
    if draw(st.booleans()):
        used = sorted(set("".join(terms)) - {"."})
        out = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        if any_ell:
            at = draw(st.integers(0, len(out)))
            out = out[:at] + ["..."] + out[at:]
        subs += "->" + "".join(out)
    dtypes = [draw(st.sampled_from(AUDIT_DTYPES)) for _ in terms]
    return subs, shapes, dtypes


@pytest.mark.parametrize("mode", MODES)
@fuzz_settings(15)
@given(case=einsum_cases(), static=st.booleans(), seed=st.integers(0, 2**16))
def test_einsum_matches_numpy(mode: str, case: Any, static: bool, seed: int) -> None:
    subs, shapes, dtypes = case
    rng = np.random.default_rng(seed)
    arrays = [_values(dt, s, rng) for dt, s in zip(dtypes, shapes)]
    try:
        with np.errstate(all="ignore"):
            np.einsum(subs, *arrays)
    except ValueError:
        # numpy refuses it (e.g. a size-1 dim of a repeated index): fncache must refuse it
        # too, at build or at run time, and never answer
        with pytest.raises(ValueError, match="einsum"):
            _check(lambda *v: ft.einsum(subs, *v), lambda *a: np.einsum(subs, *a), arrays, mode, static, subs)
        return
    _check(
        lambda *v: ft.einsum(subs, *v),
        lambda *a: np.einsum(subs, *a),
        arrays,
        mode,
        static,
        f"{subs} {shapes} {dtypes}",
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "subs, dtypes",
    [
        ("i,i,i->i", ("int8", "int8", "float32")),  # int8 * int8 wrapped before the float
        (",,", ("int8", "int8", "uint8")),  # int8 * int8 wrapped before the int16
        ("ij,j,j->i", ("uint8", "uint8", "int16")),
        ("i,i,i", ("bool", "int8", "int8")),
        ("ij,j,j->i", ("int8", "int8", "complex128")),
    ],
)
def test_einsum_multiplies_in_the_result_dtype(mode: str, subs: str, dtypes: tuple[str, ...]) -> None:
    """numpy's einsum takes every operand in the result dtype before any product: a product of
    two narrow operands must not wrap in their own dtype first."""
    rng = np.random.default_rng(1)
    shapes = {"i,i,i->i": [(3,)] * 3, ",,": [()] * 3, "ij,j,j->i": [(2, 3), (3,), (3,)], "i,i,i": [(4,)] * 3}
    arrays = [_values(dt, s, rng) for dt, s in zip(dtypes, shapes[subs])]
    arrays = [
        a if a.dtype.kind in "bf" else np.full_like(a, 100 if a.dtype != np.int8 else 99) for a in arrays
    ]
    _check(lambda *v: ft.einsum(subs, *v), lambda *a: np.einsum(subs, *a), arrays, mode, False, subs)


def _td(axes: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    return (lambda a, b: ft.tensordot(a, b, axes)), (lambda a, b: np.tensordot(a, b, axes))


#: (what, fncache's, numpy's, operand shapes): 0-d and 1-d operands, broadcast batch dims,
#: size-0 and size-1 dims
PAIR_CASES: list[tuple[str, Callable[..., Any], Callable[..., Any], list[tuple[int, ...]]]] = [
    ("dot 2x2", ft.dot, np.dot, [(3, 4), (4, 2)]),
    ("dot 1x1", ft.dot, np.dot, [(4,), (4,)]),
    ("dot 0-d", ft.dot, np.dot, [(), (2, 3)]),
    ("dot 3x2", ft.dot, np.dot, [(2, 3, 4), (4, 2)]),
    ("dot 3x3", ft.dot, np.dot, [(2, 3, 4), (5, 4, 2)]),
    ("matmul 2x2", ft.matmul, np.matmul, [(3, 4), (4, 2)]),
    ("matmul 1x3", ft.matmul, np.matmul, [(4,), (2, 4, 5)]),
    ("matmul 3x1", ft.matmul, np.matmul, [(2, 3, 4), (4,)]),
    ("matmul broadcast", ft.matmul, np.matmul, [(2, 1, 3, 4), (5, 4, 2)]),
    ("matmul size 0", ft.matmul, np.matmul, [(2, 3, 0), (0, 2)]),
    ("matmul batch 0", ft.matmul, np.matmul, [(0, 3, 4), (4, 2)]),
    ("tensordot 2", *_td(2), [(2, 3, 4), (3, 4)]),
    ("tensordot 0", *_td(0), [(2, 3), (3,)]),
    ("tensordot pairs", *_td([[1, 2], [1, 0]]), [(2, 3, 4), (4, 3, 5)]),
    ("tensordot negative", *_td([[-1], [0]]), [(2, 3), (3,)]),
    ("inner", ft.inner, np.inner, [(2, 3, 4), (5, 4)]),
    ("inner 0-d", ft.inner, np.inner, [(), (3,)]),
    ("outer", ft.outer, np.outer, [(2, 3), (4,)]),
    ("kron", ft.kron, np.kron, [(2, 3), (4, 1)]),
    ("kron 1x2", ft.kron, np.kron, [(3,), (2, 4)]),
    ("kron 3x2", ft.kron, np.kron, [(2, 2, 2), (3, 1)]),
    ("batched_dot", ft.batched_dot, np.matmul, [(2, 3, 4), (2, 4, 5)]),
    ("batched_dot 2x3", ft.batched_dot, lambda a, b: np.einsum("bj,bjk->bk", a, b), [(2, 4), (2, 4, 5)]),
    ("batched_dot 2x2", ft.batched_dot, lambda a, b: np.einsum("bj,bj->b", a, b), [(3, 4), (3, 4)]),
    ("batched_dot 1x3", ft.batched_dot, lambda a, b: a[:, None, None] * b, [(2,), (2, 3, 4)]),
    (
        "batched_tensordot",
        lambda a, b: ft.batched_tensordot(a, b, [[1, 3], [2, 1]]),
        lambda a, b: np.einsum("bicj,bjix->bcx", a, b),
        [(2, 2, 3, 2), (2, 2, 2, 3)],
    ),
    (
        "batched_tensordot 1",
        lambda a, b: ft.batched_tensordot(a, b, 1),
        lambda a, b: np.einsum("bij,bjk->bik", a, b),
        [(2, 3, 4), (2, 4, 5)],
    ),
]


@pytest.mark.parametrize("mode", MODES)
@fuzz_settings(20)
@given(
    k=st.integers(0, len(PAIR_CASES) - 1),
    dtypes=st.tuples(st.sampled_from(AUDIT_DTYPES), st.sampled_from(AUDIT_DTYPES)),
    static=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_products_match_numpy(mode: str, k: int, dtypes: tuple[str, str], static: bool, seed: int) -> None:
    what, build, ref, shapes = PAIR_CASES[k]
    rng = np.random.default_rng(seed)
    arrays = [_values(dt, s, rng) for dt, s in zip(dtypes, shapes)]
    _check(build, ref, arrays, mode, static, f"{what} {dtypes}")


def _run(build: Callable[..., Any], *arrays: np.ndarray) -> Any:
    ins = [ft.tensor(f"x{k}", a.dtype.name, shape=(None,) * a.ndim) for k, a in enumerate(arrays)]
    return fc.function(ins, build(*ins), mode="FAST_COMPILE")(*arrays)


def _m(*shape: int) -> Any:
    return ft.tensor(dtype="float64", shape=shape)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: ft.einsum("i1,j->ij", _m(2), _m(2)), "einsum: subscripts are letters"),
        # numpy's subscripts are the ASCII letters: another letter must not pass as an index
        (lambda: ft.einsum("i\u00e9->i", _m(2, 2)), "einsum: subscripts are letters a-z, A-Z"),
        (lambda: ft.einsum("ij,jk->ik", _m(2, 2)), "einsum: 'ij,jk->ik' names 2 operands, 1 were given"),
        (lambda: ft.einsum("ijk->i", _m(2, 2)), "einsum: operand 0 .* names 3"),
        (lambda: ft.einsum("ij->k", _m(2, 2)), "einsum: output subscript 'k' names no dim"),
        (lambda: ft.einsum("ij->ii", _m(2, 2)), "einsum: output subscript 'i' is repeated"),
        (lambda: ft.einsum("...i...->i", _m(2, 2)), "einsum: '.' only comes as one ellipsis"),
        (lambda: ft.einsum("ij,jk->ik", _m(2, 3), _m(4, 2)), "einsum: subscript 'j' has sizes 3 and 4"),
        (
            lambda: ft.einsum("ii->i", _m(2, 3)),
            "einsum: the dims of the repeated subscript 'i' have sizes 2 and 3",
        ),
        (lambda: ft.einsum(_m(2), _m(2)), "einsum: the subscripts must be a string"),
        (lambda: ft.einsum("i->i"), "einsum: give at least one operand"),
        (lambda: ft.tensordot(_m(2, 3), _m(3, 2), [[0, 1], [0]]), "tensordot"),
        (lambda: ft.tensordot(_m(2, 3), _m(3, 2), 3), "tensordot"),
        (lambda: ft.tensordot(_m(2, 3), _m(4, 2), 1), "tensordot"),
        (lambda: ft.matmul(ft.scalar("s"), _m(2, 2)), "matmul: input operand 0 .* has ndim 0"),
        (lambda: _m(2, 2) @ ft.scalar("s"), "matmul: input operand 1 .* has ndim 0"),
        (lambda: ft.matmul(_m(2, 3), _m(4, 2)), "not aligned: 3 .* != 4"),
        (lambda: ft.matmul(_m(2, 2, 3), _m(3, 3, 2)), "matmul: shapes .* cannot be broadcast"),
        (lambda: ft.dot(_m(2, 3), _m(4, 2)), "dot"),
        (lambda: ft.batched_dot(ft.scalar("s"), _m(2, 2)), "batched_dot: a must have a batch dim"),
        (lambda: ft.batched_dot(_m(2, 2, 2, 2), _m(2, 2)), "batched_dot: a has 4 dims"),
        (
            lambda: ft.batched_dot(_m(2, 3), _m(2, 4, 5)),
            r"batched_dot: the last dim of a \(size 3\) and dim 1 of b \(size 4\) differ",
        ),
        (lambda: ft.batched_dot(_m(2, 3), _m(3, 3)), r"batched_dot: the batch sizes \(dim 0\) are 2 and 3"),
        (
            lambda: ft.batched_tensordot(_m(2, 3), _m(2, 3), [[0], [1]]),
            "batched_tensordot: axes .* batch dim",
        ),
        (lambda: ft.batched_tensordot(_m(2, 3), _m(2, 3), 2), "batched_tensordot: axes=2 is out of range"),
        # the run-time sizes of a function without static shapes
        (
            lambda: _run(lambda a, b: ft.einsum("ij,jk->ik", a, b), np.zeros((2, 3)), np.zeros((4, 2))),
            "einsum",
        ),
        (
            lambda: _run(lambda a: ft.einsum("ii->i", a), np.zeros((2, 3))),
            "einsum: .* sizes 2 and 3 in 'ii->i'",
        ),
        (
            lambda: _run(lambda a, b: ft.einsum("...i,...i->...", a, b), np.zeros((2, 3)), np.zeros((4, 3))),
            r"einsum: ellipsis dim -1 has sizes 2, 4 in '...i,...i->...'; .* equal or 1",
        ),
        (
            lambda: _run(
                lambda a, b, c: ft.einsum("ij,ij,i", a, b, c), np.zeros((2, 3)), np.zeros((1, 3)), np.zeros(4)
            ),
            r"einsum: subscript 'i' has sizes 2, 1, 4 in 'ij,ij,i'",
        ),
        (
            lambda: ft.batched_tensordot(_m(2, 2, 3), _m(2, 4, 2), [[2], [1]]),
            r"batched_tensordot: axis 2 of x \(size 3\) and axis 1 of y \(size 4\) differ",
        ),
        (
            lambda: ft.batched_tensordot(_m(2, 2, 3), _m(3, 3, 2), [[2], [1]]),
            r"batched_tensordot: the batch sizes \(dim 0\) are 2 and 3",
        ),
        (lambda: _run(lambda a, b: ft.tensordot(a, b, 1), np.zeros((2, 1)), np.zeros((3, 2))), "tensordot"),
        (lambda: _run(ft.dot, np.zeros(3), np.zeros(4)), "dot"),
        (lambda: _run(ft.matmul, np.zeros((2, 2, 1)), np.zeros((2, 3, 2))), "matmul"),
        (lambda: _run(ft.inner, np.zeros((2, 3)), np.zeros(4)), r"inner: the last dims differ \(3 and 4\)"),
        (
            lambda: _run(ft.batched_dot, np.zeros((2, 2, 3)), np.zeros((2, 4, 2))),
            r"batched_dot: the last dim of a \(size 3\) and dim 1 of b \(size 4\) differ",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(build: Callable[[], Any], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        build()


GRAD_CASES = [
    (lambda a, b: ft.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    (lambda a, b: ft.einsum("ii,i->i", a, b), lambda a, b: np.einsum("ii,i->i", a, b), [(3, 3), (3,)]),
    (lambda a: ft.einsum("iji->j", a), lambda a: np.einsum("iji->j", a), [(2, 3, 2)]),
    (
        lambda a, b: ft.einsum("...ij,...j", a, b),
        lambda a, b: np.einsum("...ij,...j", a, b),
        [(2, 2, 3), (1, 3)],
    ),
    (
        lambda a, b: ft.einsum("ij,kj->ikj", a, b),
        lambda a, b: np.einsum("ij,kj->ikj", a, b),
        [(2, 1), (3, 2)],
    ),
    (
        lambda a, b: ft.tensordot(a, b, [[0, 2], [1, 0]]),
        lambda a, b: np.tensordot(a, b, [[0, 2], [1, 0]]),
        [(2, 3, 2), (2, 2)],
    ),
    (ft.matmul, np.matmul, [(2, 1, 2, 3), (4, 3, 2)]),
    (ft.matmul, np.matmul, [(3,), (2, 3, 2)]),
    (ft.matmul, np.matmul, [(2, 2, 3), (3,)]),
    (ft.batched_dot, lambda a, b: np.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 2)]),
    (ft.batched_dot, lambda a, b: np.einsum("bj,bjk->bk", a, b), [(2, 3), (2, 3, 2)]),
    (
        lambda a, b: ft.batched_tensordot(a, b, [[1, 3], [2, 1]]),
        lambda a, b: np.einsum("bicj,bjix->bcx", a, b),
        [(2, 2, 3, 2), (2, 2, 2, 3)],
    ),
]


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("k", range(len(GRAD_CASES)))
def test_gradient_matches_central_differences(k: int, static: bool) -> None:
    build, ref, shapes = GRAD_CASES[k]
    rng = np.random.default_rng(k)
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    ins = [
        ft.tensor(f"x{j}", "float64", shape=s if static else (None,) * len(s)) for j, s in enumerate(shapes)
    ]
    out = build(*ins)
    w = rng.uniform(-1, 1, np.shape(ref(*arrays)))
    cost = ft.sum(out * w)
    f = fc.function(ins, ft.grad(cost, ins), mode="FAST_COMPILE")
    for j, g in enumerate(f(*arrays)):
        want = fd_jacobian(lambda *a: np.sum(ref(*a) * w), arrays, j)
        np.testing.assert_allclose(g, want, rtol=FD_RTOL, atol=FD_ATOL, err_msg=f"d/dx{j}")


@fuzz_settings(10)
@given(case=einsum_cases(), static=st.booleans(), seed=st.integers(0, 2**16))
def test_einsum_gradient_matches_central_differences(case: Any, static: bool, seed: int) -> None:
    """Random subscripts (repeated indices, ellipses, size-1 dims that broadcast) in float64:
    each operand's gradient of a weighted sum of the result is numpy's central differences."""
    subs, shapes, _ = case
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    try:
        w = rng.uniform(-1, 1, np.shape(np.einsum(subs, *arrays)))
    except ValueError:
        return  # numpy refuses it: test_einsum_matches_numpy checks fncache refuses it too
    ins = [
        ft.tensor(f"x{k}", "float64", shape=s if static else (None,) * len(s)) for k, s in enumerate(shapes)
    ]
    f = fc.function(
        ins, ft.grad(ft.sum(ft.einsum(subs, *ins) * w), ins), mode="FAST_COMPILE", on_unused_input="ignore"
    )
    for j, g in enumerate(f(*arrays)):
        want = fd_jacobian(lambda *a: np.sum(np.einsum(subs, *a) * w), arrays, j)
        np.testing.assert_allclose(g, want, rtol=FD_RTOL, atol=FD_ATOL, err_msg=f"{subs} {shapes} d/dx{j}")


@pytest.mark.parametrize("subs, shapes", [("a,a", [(0,), (1,)]), ("ab,b,ab->a", [(2, 1), (0,), (2, 1)])])
def test_einsum_size_1_broadcasts_against_size_0_at_run_time(
    subs: str, shapes: list[tuple[int, ...]]
) -> None:
    arrays = [np.ones(s) for s in shapes]
    _check(
        lambda *v: ft.einsum(subs, *v), lambda *a: np.einsum(subs, *a), arrays, "FAST_COMPILE", False, subs
    )
