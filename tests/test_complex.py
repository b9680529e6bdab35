"""complex64 and complex128 against numpy in both modes: the elementwise ops numpy defines for
them, real/imag/conj/abs/angle, promotion with real dtypes and Python complex numbers (weak, as
NEP 50 says), reductions, dot, pickles; the CUDA backend refuses them clearly."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fcutil import MODES, assert_same, numpy_errstate
import test_elemwise as E

COMPLEX = ("complex64", "complex128")
#: float tolerance of each complex dtype (its real parts are float32 / float64)
RTOL = {"complex64": 1e-5, "complex128": 1e-12}


def csample(dtype: str, shape: tuple, seed: int, special: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    a = rng.uniform(-3, 3, n) + 1j * rng.uniform(-3, 3, n)
    if special and n >= 8:
        a[:6] = [np.nan + 1j, complex(np.inf, 0), 0j, complex(-0.0, -0.0), 1j, -2 + 0j]
        rng.shuffle(a)
    return a.astype(dtype).reshape(shape)


def assert_same_c(got: np.ndarray, want, what: str = "", rtol: float = 1e-12) -> None:
    """assert_same for complex results too: the dtype, then the real and imaginary parts."""
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, numpy gives {want.dtype}"
    if want.dtype.kind != "c":
        assert_same(got, want, what, rtol=rtol, atol=1e-30)
        return
    assert_same(got.real, want.real, f"{what} (real part)", rtol=rtol, atol=1e-30)
    assert_same(got.imag, want.imag, f"{what} (imaginary part)", rtol=rtol, atol=1e-30)


def _check(got: list, want: list, names: list[str], dtype: str) -> None:
    failures = []
    for name, g, w in zip(names, got, want):
        try:
            assert_same_c(g, w, name, rtol=RTOL[dtype])
        except AssertionError as e:
            failures.append(f"{name}: {str(e)[:300]}")
    assert not failures, "\n".join(failures)


#: the unary ops of test_elemwise numpy defines for complex values
UNARY = [
    n
    for n in E.UNARY
    if n
    in (
        "neg",
        "abs_op",
        "abs",
        "exp",
        "log",
        "log1p",
        "expm1",
        "log2",
        "log10",
        "sqrt",
        "sqr",
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "sign",
        "isnan",
        "isinf",
    )
]
BINARY = [
    n for n in E.BINARY if n in ("add", "sub", "mul", "true_div", "eq", "neq", "lt", "maximum", "minimum")
]
PARTS = {
    "real": (lambda z: z.real, np.real),
    "imag": (lambda z: z.imag, np.imag),
    "conj": (lambda z: z.conj(), np.conjugate),
    "angle": (ft.angle, np.angle),
    "abs": (abs, np.abs),
    "ft_real": (ft.real, np.real),
    "ft_imag": (ft.imag, np.imag),
    "ft_conj": (ft.conj, np.conjugate),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", COMPLEX)
def test_elementwise_ops(mode: str, dtype: str) -> None:
    z, w = ft.matrix("z", dtype), ft.matrix("w", dtype)
    unary = [E.UNARY[n] for n in UNARY] + list(PARTS.values())
    binary = [E.BINARY[n] for n in BINARY] + [E.POW["pow"]]
    names = UNARY + list(PARTS) + BINARY + ["pow"]
    f = fc.function([z, w], [s(z) for s, _ in unary] + [s(z, w) for s, _ in binary], mode=mode)
    for k, (sa, sb) in enumerate([((3, 4), (3, 4)), ((1, 4), (3, 1)), ((0, 4), (1, 4))]):
        a, b = csample(dtype, sa, k), csample(dtype, sb, k + 10)
        for va in (a, a.T.copy().T):
            with numpy_errstate():
                want = [r(va) for _, r in unary] + [r(va, b) for _, r in binary]
            _check(f(va, b), want, names, dtype)


@pytest.mark.parametrize("mode", MODES)
def test_promotion_and_weak_python_complex(mode: str) -> None:
    x, c = ft.fvector("x"), ft.vector("c", "complex64")
    d, i = ft.dvector("d"), ft.lvector("i")
    outs = [x * 1j, c * 2.5, c + 1j, c * d, i + c, x + c, c**2, ft.exp(x * 1j)]
    f = fc.function([x, c, d, i], outs, mode=mode)
    xv = np.array([1.5, -2, 0], "float32")
    cv = np.array([1 + 1j, -2j, 3], "complex64")
    dv, iv = np.array([0.5, 2, -1.0]), np.array([1, 2, 3])
    with numpy_errstate():
        want = [xv * 1j, cv * 2.5, cv + 1j, cv * dv, iv + cv, xv + cv, cv**2, np.exp(xv * 1j)]
    for k, (g, w) in enumerate(zip(f(xv, cv, dv, iv), want)):
        assert_same_c(g, w, f"output {k}", rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", COMPLEX)
def test_reductions_and_dot(mode: str, dtype: str) -> None:
    z = ft.matrix("z", dtype)
    v = ft.vector("v", dtype)
    outs = [
        z.sum(),
        z.sum(axis=0),
        ft.prod(z, axis=1),
        z.mean(axis=1),
        ft.var(z),
        ft.std(z),
        z.max(axis=0),
        ft.dot(z, v),
        ft.dot(v, v),
        ft.sum(z.real * z.imag),
    ]
    refs = [
        lambda a, b: a.sum(),
        lambda a, b: a.sum(axis=0),
        lambda a, b: np.prod(a, axis=1),
        lambda a, b: a.mean(axis=1),
        lambda a, b: np.var(a),
        lambda a, b: np.std(a),
        lambda a, b: a.max(axis=0),
        np.dot,
        lambda a, b: np.dot(b, b),
        lambda a, b: np.sum(a.real * a.imag),
    ]
    f = fc.function([z, v], outs, mode=mode)
    a, b = csample(dtype, (5, 4), 1, special=False), csample(dtype, (4,), 2, special=False)
    for k, (g, r) in enumerate(zip(f(a, b), refs)):
        assert_same_c(g, r(a, b), f"output {k}", rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("mode", MODES)
def test_a_reduction_of_real_parts_of_complex_values_made_from_real_inputs(mode: str) -> None:
    """The reduction's input is real, its fused body computes complex values: it runs on numpy
    as any node with complex values (the kernels are written for real types)."""
    a, b, c = ft.dmatrix("a"), ft.dmatrix("b"), ft.dvector("c")
    z = ft.complex(a, b)
    outs = [
        ft.sum(ft.real(ft.complex(c, c))),
        ft.sum(ft.real(z)),
        ft.sum(ft.abs(z * z), axis=0),
        ft.mean(ft.imag(z * 2j + a), axis=1),
    ]
    rng = np.random.default_rng(7)
    av, bv, cv = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(5)
    zv = av + 1j * bv
    refs = [cv.sum(), zv.real.sum(), np.abs(zv * zv).sum(axis=0), (zv * 2j + av).imag.mean(axis=1)]
    for k, (g, r) in enumerate(zip(fc.function([a, b, c], outs, mode=mode)(av, bv, cv), refs)):
        assert_same(g, r, f"output {k}", rtol=1e-12)


def test_complex_functions_pickle() -> None:
    z = ft.vector("z", "complex128")
    f = fc.function([z], [ft.exp(z) * z.conj(), ft.angle(z)])
    g = pickle.loads(pickle.dumps(f))
    a = csample("complex128", (9,), 3)
    for x, y in zip(f(a), g(a)):
        assert_same_c(x, y)


def test_real_dtypes_keep_their_dtype_through_the_parts() -> None:
    x, i = ft.fvector("x"), ft.bvector("b")
    assert (x.real.dtype, x.imag.dtype, x.conj().dtype, ft.angle(x).dtype) == ("float32",) * 4
    f = fc.function([x, i], [x.real, x.imag, ft.angle(x), i.conj()])
    xv, iv = np.array([-1.5, 0.0, -0.0, np.nan], "float32"), np.array([True, False])
    want = [xv.real, xv.imag, np.angle(xv), np.conjugate(iv)]
    for g, w in zip(f(xv, iv), want):
        assert_same(g, w)


def test_cuda_backend_leaves_complex_nodes_to_the_host() -> None:
    """No kernel computes complex values (the runner computes those nodes with numpy); the
    real work after them is still a kernel, and a complex output is copied as real pairs."""
    from fncache.codegen.cuda.render import render_graph
    from fncache.graph.fgraph import FunctionGraph

    z = ft.vector("z", "complex64")
    fg = FunctionGraph([z], [ft.exp(z) * 2, ft.abs(z) * 3, (z * z).sum()], clone=True)
    csrc = render_graph(fg)
    order = fg.toposort()
    on_device = [order[i] for i in csrc.on_device]
    assert on_device and all(n.outputs[0].dtype == "float32" for n in on_device)
    assert not any(v.dtype == "complex64" for n in on_device for v in n.inputs)
    assert ("float32", "float32", 2) in csrc.copies  # complex64 vectors, as (re, im) pairs
