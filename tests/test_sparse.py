"""fncache.sparse: scipy.sparse csr/csc matrices in graphs, checked against scipy and numpy
(every op, both formats, float32 and float64, random shapes and densities), gradients against
central differences, a CAR prior's log-density, pickles, and the errors for bad values."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import fncache as fc  # noqa: E402
import fncache.sparse as S  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from fcutil import fd_gradient  # noqa: E402

FORMATS = ("csr", "csc")
DTYPES = ("float32", "float64")
CASES = [(f, d) for f in FORMATS for d in DTYPES]


def _tol(dtype: str) -> dict[str, float]:
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}


def _rand(
    rng: np.random.Generator, shape: tuple[int, int], fmt: str, dtype: str, density: float | None = None
) -> object:
    density = rng.uniform(0.1, 0.6) if density is None else density
    m = sp.random(*shape, density=density, format=fmt, dtype=np.float64, random_state=rng)
    m.data = rng.uniform(-2, 2, size=m.nnz)
    return m.astype(dtype)


def _shape(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(2, 7)), int(rng.integers(2, 7))


def _var(fmt: str, dtype: str, name: str = "x") -> object:
    return S.matrix(fmt, name, dtype)


# -- types, variables, function inputs and outputs ---------------------------------------------
def test_types_and_constructors() -> None:
    x = S.csr_matrix("x", dtype="float32")
    assert x.type == S.SparseTensorType("csr", "float32") and x.format == "csr" and x.ndim == 2
    assert S.csc_matrix("y").type == S.SparseTensorType("csc", fc.config.floatX)
    assert S.SparseTensorType("csr", "float64") != S.SparseTensorType("csc", "float64")
    assert S.csr_dmatrix("w").type == S.SparseTensorType("csr", "float64")
    assert S.csc_fmatrix("w").dtype == "float32"
    assert pickle.loads(pickle.dumps(x.type)) == x.type
    assert fc.sparse.csr_matrix is S.csr_matrix
    c = S.as_sparse_variable(sp.csc_matrix(np.eye(3)))
    assert isinstance(c, S.SparseConstant) and c.type == S.SparseTensorType("csc", "float64")
    assert S.as_sparse_variable(x) is x
    assert S.as_sparse_or_tensor_variable(np.ones((2, 2))).type == ft.TensorType("float64", (2, 2))
    assert S.as_sparse_or_tensor_variable(sp.csr_matrix(np.eye(2))).format == "csr"
    with pytest.raises(ValueError, match="format must be one of"):
        S.SparseTensorType("coo", "float64")


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_identity_returns_a_copy_of_the_declared_type(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    x = _var(fmt, dtype)
    f = fc.function([x], x)
    a = _rand(rng, (4, 5), fmt, dtype)
    out = f(a)
    assert out.format == fmt and out.dtype == dtype and out is not a
    assert out.data is not a.data and not np.shares_memory(out.data, a.data)
    np.testing.assert_array_equal(out.toarray(), a.toarray())


def test_a_sparse_constant_alone_runs() -> None:
    # the graph's only sparse value is a constant (no input, no result of a node is sparse)
    a = _rand(np.random.default_rng(36), (4, 3), "csr", "float64")
    y = ft.dmatrix("y")
    f = fc.function([y], S.dot(S.as_sparse_variable(a), y))
    np.testing.assert_allclose(f(np.ones((3, 2))), a @ np.ones((3, 2)), rtol=1e-12)


def test_nanguard_reads_stored_values() -> None:
    x = S.csr_matrix("x", "float64")
    f = fc.function([x], S.structured_log(x), mode=fc.NanGuardMode(nan_is_error=True, inf_is_error=True))
    assert f(sp.csr_matrix(np.array([[0.0, 2.0]]))).nnz == 1
    with pytest.raises(AssertionError, match="NanGuardMode found NaN"):
        f(sp.csr_matrix(np.array([[0.0, -2.0]])))


def test_input_errors_name_the_input_and_the_fix() -> None:
    x, y = S.csr_matrix("x", "float32"), ft.fmatrix("y")
    f = fc.function([x, y], S.dot(x, y))
    a = _rand(np.random.default_rng(1), (3, 3), "csr", "float32")
    b = np.ones((3, 2), "float32")
    with pytest.raises(
        TypeError, match=r"input 0 \('x'\).*csr sparse matrix.*dense.*scipy.sparse.csr_matrix"
    ):
        f(a.toarray(), b)
    with pytest.raises(TypeError, match=r"input 0 \('x'\).*got a csc.*x.tocsr\(\)"):
        f(a.tocsc(), b)
    with pytest.raises(TypeError, match=r"input 0 \('x'\).*float64.*could lose data.*astype\('float32'\)"):
        f(a.astype("float64"), b)
    with pytest.raises(TypeError, match=r"input 0 \('x'\).*got a coo"):
        f(a.tocoo(), b)
    # a safe cast is made, as for dense inputs; a sparse array becomes the matrix class
    z = S.csr_matrix("z", "float64")
    h = fc.function([z], S.sp_sum(z))
    assert np.isclose(h(a), a.astype("float64").sum())
    assert np.isclose(h(sp.csr_array(a.astype("float64"))), a.sum())


def test_duplicate_entries_are_summed_on_input() -> None:
    m = sp.csr_matrix((np.array([1.0, 2.0, 5.0]), np.array([1, 1, 0]), np.array([0, 2, 3])), shape=(2, 2))
    x = S.csr_matrix("x", "float64")
    f = fc.function([x], S.structured_exp(x))
    out = f(m)
    np.testing.assert_allclose(out.toarray(), [[0, np.exp(3.0)], [np.exp(5.0), 0]])


def test_shared_sparse_variables() -> None:
    a = _rand(np.random.default_rng(2), (4, 3), "csc", "float64")
    w = fc.shared(a, name="W")
    assert isinstance(w, S.SparseSharedVariable) and w.type == S.SparseTensorType("csc", "float64")
    v = w.get_value()
    assert v is not a and v.format == "csc"
    np.testing.assert_array_equal(v.toarray(), a.toarray())
    with pytest.raises(TypeError, match="old value kept.*got a csr"):
        w.set_value(a.tocsr())
    with pytest.raises(TypeError, match="dense"):
        w.set_value(a.toarray())
    assert w.get_value().format == "csc"
    assert S.shared(a.tocsr(), name="V").format == "csr"
    f = fc.function([], S.sp_sum(w), updates={w: w * 2.0})
    assert np.isclose(f(), a.sum()) and np.isclose(f(), 2 * a.sum())
    np.testing.assert_allclose(w.get_value().toarray(), 4 * a.toarray())
    with pytest.raises(TypeError, match="update must be a symbolic sparse matrix"):
        fc.function([], S.sp_sum(w), updates={w: w.toarray()})


def test_eval_givens_copy_and_disconnected_gradients() -> None:
    a = _rand(np.random.default_rng(3), (4, 3), "csr", "float64")
    x = S.csr_matrix("x", "float64")
    np.testing.assert_allclose((x * 2).eval({x: a}).toarray(), 2 * a.toarray())
    w = fc.shared(a, name="W")
    assert np.isclose(S.sp_sum(w).eval(), a.sum())
    f = fc.function([], S.sp_sum(x), givens={x: w})
    assert np.isclose(f(), a.sum()) and np.isclose(f.copy()(), a.sum())
    y = ft.dvector("y")
    gy, gw = fc.grad((y**2).sum(), [y, w], disconnected_inputs="ignore")
    assert gw.type == w.type  # zeros of the sparse type
    zeros = fc.function([], gw)()
    assert zeros.format == "csr" and zeros.shape == a.shape and not zeros.toarray().any()


# -- the ops, against scipy and numpy ----------------------------------------------------------
def _check(fmt: str, dtype: str, build, expect, seed: int, n_dense: int = 0, dense_shape=None) -> None:
    """Compile ``build(x, *dense)`` over a ``fmt`` matrix and compare, on three random values,
    with ``expect(a, *dense values)``."""
    rng = np.random.default_rng(seed)
    x = _var(fmt, dtype)
    ds = [ft.TensorType(dtype, (None, None))(f"d{k}") for k in range(n_dense)]
    f = fc.function([x, *ds], build(x, *ds))
    for _ in range(3):
        shape = _shape(rng)
        a = _rand(rng, shape, fmt, dtype)
        vals = [
            rng.uniform(-1, 1, size=dense_shape(shape) if dense_shape else shape).astype(dtype) for _ in ds
        ]
        got, want = f(a, *vals), expect(a, *vals)
        pairs = zip(got, want) if isinstance(want, list) else [(got, want)]
        for g, w in pairs:
            if sp.issparse(w):
                assert sp.issparse(g) and g.format == w.format, f"expected a {w.format} matrix, got {g!r}"
                assert g.dtype == w.dtype
                g, w = g.toarray(), w.toarray()
            assert not sp.issparse(g) and np.asarray(g).dtype == dtype
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), **_tol(dtype))


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_conversions(fmt: str, dtype: str) -> None:
    _check(
        fmt,
        dtype,
        lambda x: [x.toarray(), x.todense(), S.dense_from_sparse(x)],
        lambda a: [a.toarray()] * 3,
        3,
    )
    _check(fmt, dtype, lambda x: x.T, lambda a: a.T, 4)
    _check(fmt, dtype, lambda x: S.transpose(x).T, lambda a: a, 5)
    d = ft.TensorType(dtype, (None, None))("d")
    for make, other in ((S.csr_from_dense, "csr"), (S.csc_from_dense, "csc")):
        f = fc.function([d], make(d))
        v = np.array([[0, 1.5, 0], [2, 0, -3]], dtype=dtype)
        out = f(v)
        assert out.format == other and out.dtype == dtype and out.nnz == 3
        np.testing.assert_array_equal(out.toarray(), v)


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_csm_properties_and_constructor(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(6)
    x = _var(fmt, dtype)
    data, indices, indptr, shape = S.csm_properties(x)
    f = fc.function([x], [data, indices, indptr, shape, S.CSM(fmt)(data * 2, indices, indptr, shape)])
    a = _rand(rng, (5, 4), fmt, dtype)
    d, i, p, s, rebuilt = f(a)
    np.testing.assert_array_equal(d, a.data)
    np.testing.assert_array_equal(i, a.indices)
    np.testing.assert_array_equal(p, a.indptr)
    assert tuple(s) == a.shape and d.dtype == dtype and i.dtype == np.int32
    assert not np.shares_memory(d, a.data)  # an output never views the caller's value
    assert rebuilt.format == fmt
    np.testing.assert_allclose(rebuilt.toarray(), 2 * a.toarray())
    # PyTensor's CSR(data, indices, indptr, shape) from dense parts
    dv, iv, pv, sv = ft.dvector("d"), ft.ivector("i"), ft.ivector("p"), ft.lvector("s")
    g = fc.function([dv, iv, pv, sv], S.CSR(dv, iv, pv, sv))
    m = g(np.array([1.0, 2.0]), np.array([2, 0], "int32"), np.array([0, 1, 2], "int32"), np.array([2, 3]))
    np.testing.assert_array_equal(m.toarray(), [[0, 0, 1], [2, 0, 0]])
    with pytest.raises(ValueError, match="do not make a csr matrix"):
        g(np.array([1.0, 2.0]), np.array([5, 0], "int32"), np.array([0, 1, 2], "int32"), np.array([2, 3]))


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_sums(fmt: str, dtype: str) -> None:
    _check(
        fmt,
        dtype,
        lambda x: [S.sp_sum(x), S.sp_sum(x, 0), S.sp_sum(x, 1), x.sum(axis=1, sparse_grad=True)],
        lambda a: [
            a.sum(),
            np.asarray(a.sum(0)).ravel(),
            np.asarray(a.sum(1)).ravel(),
            np.asarray(a.sum(1)).ravel(),
        ],
        7,
    )


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_elementwise(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(8)
    x, y = _var(fmt, dtype), _var(fmt, dtype, "y")
    d = ft.TensorType(dtype, (None, None))("d")
    s = ft.TensorType(dtype, ())("s")
    outs = [
        x + y,
        x - y,
        x * y,
        -x,
        x + d,
        d + x,
        x - d,
        d - x,
        x * d,
        d * x,
        x * s,
        S.mul(s, x),
        x * 2,
        abs(x),
    ]
    f = fc.function([x, y, d, s], outs)
    for _ in range(3):
        shape = _shape(rng)
        a, b = _rand(rng, shape, fmt, dtype), _rand(rng, shape, fmt, dtype)
        dv = rng.uniform(-1, 1, size=shape).astype(dtype)
        sv = np.asarray(1.5, dtype=dtype)
        want = [
            a + b, a - b, a.multiply(b), -a, a + dv, dv + a, a - dv, dv - a,
            a.multiply(dv), a.multiply(dv), a * sv, a * sv, a * 2, abs(a),
        ]  # fmt: skip
        got = f(a, b, dv, sv)
        for k, (g, w) in enumerate(zip(got, want)):
            is_sparse = k not in (4, 5, 6, 7)  # sparse with dense: dense, as in PyTensor
            assert sp.issparse(g) == is_sparse, k
            if is_sparse:
                assert g.format == fmt and g.dtype == dtype, k
                g = g.toarray()
            np.testing.assert_allclose(
                g, np.asarray(w.toarray() if sp.issparse(w) else w), **_tol(dtype), err_msg=str(k)
            )
    # sparse * dense keeps the sparse operand's entries only
    a = _rand(rng, (3, 3), fmt, dtype)
    assert f(a, a, np.ones((3, 3), dtype), np.asarray(1, dtype))[8].nnz == a.nnz


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_structured_elementwise(fmt: str, dtype: str) -> None:
    def on_data(fn):
        def apply(a):
            b = a.copy()
            b.data = fn(b.data).astype(dtype)
            return b

        return apply

    funcs = [
        (S.structured_sigmoid, lambda v: 1 / (1 + np.exp(-v))),
        (S.structured_exp, np.exp),
        (S.sqr, np.square),
        (S.abs_, np.abs),
        (S.tanh, np.tanh),
        (lambda x: S.sqrt(S.abs_(x)), lambda v: np.sqrt(np.abs(v))),
        (lambda x: S.structured_add(x, 3), lambda v: v + 3),
    ]
    _check(fmt, dtype, lambda x: [f(x) for f, _ in funcs], lambda a: [on_data(g)(a) for _, g in funcs], 9)


@pytest.mark.parametrize("fmt,dtype", CASES)
def test_products(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(10)
    x, y = _var(fmt, dtype), _var(fmt, dtype, "y")
    b = ft.TensorType(dtype, (None, None))("b")
    c = ft.TensorType(dtype, (None, None))("c")
    outs = [
        S.dot(x, b),
        S.dot(c, x),
        S.dot(x, y.T),
        x @ b,
        c @ x,
        S.structured_dot(x, b),
        S.structured_dot(c, x),
    ]
    outs.append(S.structured_dot(x, y.T))
    f = fc.function([x, y, b, c], outs)
    for _ in range(3):
        m, n, k = (int(v) for v in rng.integers(2, 7, size=3))
        a, a2 = _rand(rng, (m, n), fmt, dtype), _rand(rng, (m, n), fmt, dtype)
        bv = rng.uniform(-1, 1, size=(n, k)).astype(dtype)
        cv = rng.uniform(-1, 1, size=(k, m)).astype(dtype)
        got = f(a, a2, bv, cv)
        want = [a @ bv, cv @ a, (a @ a2.T).toarray(), a @ bv, cv @ a, a @ bv, cv @ a, (a @ a2.T).toarray()]
        for k_, (g, w) in enumerate(zip(got, want)):
            if k_ == 7:
                assert sp.issparse(g) and g.format == fmt
                g = g.toarray()
            assert isinstance(g, np.ndarray) and g.dtype == dtype, k_
            np.testing.assert_allclose(
                g,
                np.asarray(w),
                rtol=1e-4 if dtype == "float32" else 1e-12,
                atol=1e-5 if dtype == "float32" else 1e-12,
            )


def test_mixed_formats_and_dtypes() -> None:
    rng = np.random.default_rng(11)
    x, y = S.csr_matrix("x", "float32"), S.csc_matrix("y", "float64")
    f = fc.function([x, y], [x + y, x * y, S.cast(x, "float64"), S.dot(x, y.T)])
    a, b = _rand(rng, (4, 3), "csr", "float32"), _rand(rng, (4, 3), "csc", "float64")
    s, p, c, d = f(a, b)
    assert (s.format, s.dtype, p.format, p.dtype, c.dtype) == ("csr", "float64", "csr", "float64", "float64")
    np.testing.assert_allclose(s.toarray(), (a + b).toarray())
    np.testing.assert_allclose(p.toarray(), a.multiply(b).toarray())
    np.testing.assert_allclose(d, (a @ b.T).toarray(), rtol=1e-6)


def test_run_time_errors() -> None:
    x, y = S.csr_matrix("x", "float64"), S.csr_matrix("y", "float64")
    d = ft.dmatrix("d")
    a, b = sp.csr_matrix(np.eye(3)), sp.csr_matrix(np.eye(2))
    with pytest.raises(ValueError, match=r"AddSS.*shapes differ, \(3, 3\) and \(2, 2\)"):
        fc.function([x, y], x + y)(a, b)
    with pytest.raises(ValueError, match="Dot.*not aligned"):
        fc.function([x, d], S.dot(x, d))(a, np.ones((2, 2)))
    with pytest.raises(ValueError, match="MulSD.*does not fit"):
        fc.function([x, d], x * d)(a, np.ones((1, 3)))
    row = ft.dvector("r")
    np.testing.assert_array_equal(
        fc.function([x, row], x * row.dimshuffle("x", 0))(a, np.arange(3.0)).toarray(), np.diag([0.0, 1, 2])
    )
    with pytest.raises(TypeError, match="not a tensor.*structured_exp.*toarray"):
        ft.exp(x)
    with pytest.raises(TypeError, match="not a tensor.*fncache.sparse.dot"):
        ft.blas.Dot()(d, x)
    assert isinstance(ft.dot(d, x).owner.op, S.Dot) and isinstance((d @ x).owner.op, S.Dot)
    with pytest.raises(TypeError, match="neither operand is sparse"):
        S.add(d, d)
    with pytest.raises(TypeError, match="csr_from_dense"):
        S.transpose(d)
    with pytest.raises(TypeError, match=r"x.tocsr\(\)"):
        S.as_sparse_variable(sp.coo_matrix(np.eye(2)))
    with pytest.raises(ValueError, match="axis must be None, 0 or 1"):
        S.sp_sum(x, 2)


# -- gradients, against central differences ----------------------------------------------------


def _sparse_grad_check(
    fmt: str, cost, ref, structured: bool, seed: int, n_dense: int = 0, same_shape: bool = False
) -> None:
    """``fc.grad(cost(x, *dense), [x, *dense])`` against central differences of the numpy
    ``ref(dense x, *dense values)``: at every entry for a regular gradient with respect to the
    sparse ``x``, at its stored entries (zeros elsewhere) for a structured one."""
    rng = np.random.default_rng(seed)
    x = _var(fmt, "float64")
    ds = [ft.dmatrix(f"d{k}") for k in range(n_dense)]
    c = cost(x, *ds)
    grads = fc.grad(c, [x, *ds])
    f = fc.function([x, *ds], [c, *grads])
    m, n, k = (int(v) for v in rng.integers(2, 6, size=3))
    a = _rand(rng, (m, n), fmt, "float64", density=0.5)
    vals = [rng.uniform(-1, 1, size=(m, n) if same_shape else (n, k)) for _ in range(n_dense)]
    got = f(a, *vals)
    np.testing.assert_allclose(got[0], ref(a.toarray(), *vals), rtol=1e-12)
    gx = got[1]
    assert sp.issparse(gx) and gx.format == fmt and gx.dtype == "float64"
    want = fd_gradient(lambda v: ref(v, *vals), a.toarray())
    if structured:
        want = want * (a.toarray() != 0)
        assert gx.nnz <= a.nnz
    np.testing.assert_allclose(gx.toarray(), want, rtol=1e-6, atol=1e-7)
    for j, (g, v) in enumerate(zip(got[2:], vals)):
        others = list(vals)

        def with_j(w, j=j, others=others):
            others = list(others)
            others[j] = w
            return ref(a.toarray(), *others)

        np.testing.assert_allclose(g, fd_gradient(with_j, v), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fmt", FORMATS)
def test_grad_structured_dot(fmt: str) -> None:
    _sparse_grad_check(
        fmt, lambda x, b: ft.sin(S.structured_dot(x, b)).sum(), lambda a, b: np.sin(a @ b).sum(), True, 20, 1
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_grad_dot_is_regular(fmt: str) -> None:
    _sparse_grad_check(
        fmt, lambda x, b: (S.dot(x, b) ** 2).sum(), lambda a, b: ((a @ b) ** 2).sum(), False, 21, 1
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_grad_dense_sparse_products(fmt: str) -> None:
    # dense @ sparse, through the transposes
    _sparse_grad_check(
        fmt,
        lambda x, b: ft.cos(S.structured_dot(b.T, x.T)).sum(),
        lambda a, b: np.cos(b.T @ a.T).sum(),
        True,
        22,
        1,
    )
    _sparse_grad_check(
        fmt,
        lambda x, b: ft.exp(ft.dot(b.T, x.T) / 4).sum(),  # ft.dot of a sparse operand
        lambda a, b: np.exp(b.T @ a.T / 4).sum(),
        False,
        23,
        1,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_grad_conversions_and_sums(fmt: str) -> None:
    _sparse_grad_check(
        fmt,
        lambda x: (ft.sin(x.toarray()) * 0.5).sum() + (x.toarray() ** 3).sum(),
        lambda a: (np.sin(a) * 0.5).sum() + (a**3).sum(),
        True,
        24,
    )
    for axis in (None, 0, 1):
        for sparse_grad in (False, True):

            def cost(x, axis=axis, sparse_grad=sparse_grad):
                return ft.sqr(S.sp_sum(x.T.T, axis, sparse_grad)).sum()

            def ref(a, axis=axis):
                return (np.asarray(a.sum(axis)) ** 2).sum()

            _sparse_grad_check(fmt, cost, ref, sparse_grad, 25)


@pytest.mark.parametrize("fmt", FORMATS)
def test_grad_elementwise(fmt: str) -> None:
    # sparse * dense: the sparse operand's gradient at its entries, the dense one's everywhere
    _sparse_grad_check(
        fmt, lambda x, d: S.sp_sum(S.sqr(x * d)), lambda a, d: ((a * d) ** 2).sum(), True, 26, 1, True
    )
    rng = np.random.default_rng(27)
    x, y = S.matrix(fmt, "x", "float64"), S.matrix(fmt, "y", "float64")
    d = ft.dmatrix("d")
    cost = S.sp_sum(S.structured_exp(x * y) * d) + (x + d).sum() + S.sp_sum(x - y)
    f = fc.function([x, y, d], [cost, *fc.grad(cost, [x, y, d])])
    a, b = _rand(rng, (4, 5), fmt, "float64", 0.6), _rand(rng, (4, 5), fmt, "float64", 0.6)
    dv = rng.uniform(-1, 1, size=(4, 5))

    def ref(av, bv, dv):
        sa, sb = sp.csr_matrix(av), sp.csr_matrix(bv)
        p = sa.multiply(sb).tocsr()
        p.data = np.exp(p.data)
        return p.multiply(dv).sum() + (av + dv).sum() + (av - bv).sum()

    c, ga, gb, gd = f(a, b, dv)
    assert np.isclose(c, ref(a.toarray(), b.toarray(), dv))
    # structured in x and y (their entries only; an entry of one the other lacks has x*y = 0)
    mask_a, mask_b = a.toarray() != 0, b.toarray() != 0
    np.testing.assert_allclose(
        ga.toarray() * mask_a,
        fd_gradient(lambda v: ref(v * mask_a, b.toarray(), dv), a.toarray()) * mask_a,
        atol=1e-7,
    )
    np.testing.assert_allclose(
        gb.toarray() * mask_b,
        fd_gradient(lambda v: ref(a.toarray(), v * mask_b, dv), b.toarray()) * mask_b,
        atol=1e-7,
    )
    np.testing.assert_allclose(gd, fd_gradient(lambda v: ref(a.toarray(), b.toarray(), v), dv), atol=1e-7)


def test_grad_with_respect_to_a_scalar_factor() -> None:
    x, s = S.csr_matrix("x", "float64"), ft.dscalar("s")
    cost = S.sp_sum(S.sqr(x * s))
    f = fc.function([x, s], fc.grad(cost, s))
    a = _rand(np.random.default_rng(28), (4, 4), "csr", "float64")
    assert np.isclose(f(a, 1.5), 2 * 1.5 * (a.data**2).sum())


@pytest.mark.parametrize("fmt", FORMATS)
def test_sampling_dot_true_dot_and_scales(fmt: str) -> None:
    rng = np.random.default_rng(29)
    x, y, s = ft.dmatrix("x"), ft.dmatrix("y"), ft.dvector("s")
    p = S.matrix(fmt, "p", "float64")
    z = S.sampling_dot(x, y, p)
    t = S.true_dot(p, y)
    cost = S.sp_sum(S.sqr(z)) + S.sp_sum(S.sqr(t)) + S.sp_sum(S.row_scale(p, s[:4]) * S.col_scale(p, s))
    f = fc.function([x, y, p, s], [z, t, S.true_dot(y.T, p.T), p.shape, cost, *fc.grad(cost, [x, y, p, s])])
    xv, yv, sv = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (5, 3)), rng.uniform(-1, 1, 5)
    pv = _rand(rng, (4, 5), fmt, "float64", 0.5)
    pd, mask = pv.toarray(), pv.toarray() != 0
    zv, tv, tt, shape, c, gx, gy, gp, gs = f(xv, yv, pv, sv)
    assert zv.format == fmt and tv.format == fmt and tt.format == S.transpose(p).format
    np.testing.assert_allclose(zv.toarray(), pd * (xv @ yv.T), rtol=1e-12)
    np.testing.assert_allclose(tv.toarray(), pd @ yv, rtol=1e-12)
    np.testing.assert_allclose(tt.toarray(), (pd @ yv).T, rtol=1e-12)
    assert tuple(shape) == (4, 5)

    def ref(xv, yv, pd, sv):
        return (
            ((pd * (xv @ yv.T)) ** 2).sum()
            + ((pd @ yv) ** 2).sum()
            + ((pd * sv[:4, None]) * (pd * sv[None, :5])).sum()
        )

    assert np.isclose(c, ref(xv, yv, pd, sv))
    np.testing.assert_allclose(gx, fd_gradient(lambda v: ref(v, yv, pd, sv), xv), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gy, fd_gradient(lambda v: ref(xv, v, pd, sv), yv), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gs, fd_gradient(lambda v: ref(xv, yv, pd, v), sv), rtol=1e-6, atol=1e-7)
    # true_dot's part is regular (every entry), the others' structured (p's entries only)
    regular = fd_gradient(lambda v: ((v @ yv) ** 2).sum(), pd)
    structured = fd_gradient(lambda v: ref(xv, yv, v, sv) - ((v @ yv) ** 2).sum(), pd) * mask
    np.testing.assert_allclose(gp.toarray(), regular + structured, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fmt", FORMATS)
def test_indexing_and_its_gradient(fmt: str) -> None:
    rng = np.random.default_rng(33)
    a = _rand(rng, (6, 5), fmt, "float64", 0.5)
    A = a.toarray()
    x, i = S.matrix(fmt, "x", "float64"), ft.lscalar("i")
    v, u = ft.lvector("v"), ft.lvector("u")
    outs = [x[1:4], x[i : i + 2, ::2], x[v], x[:, u], x[v, 1:], x[-2:, u]]
    f = fc.function([x, i, v, u], outs)
    got = f(a, 2, np.array([0, 5, 0]), np.array([4, 0]))
    want = [A[1:4], A[2:4, ::2], A[[0, 5, 0]], A[:, [4, 0]], A[[0, 5, 0], 1:], A[-2:][:, [4, 0]]]
    for g, w in zip(got, want):
        assert g.format == fmt
        np.testing.assert_array_equal(g.toarray(), w)
    with pytest.raises(IndexError, match=r"GetItem2d.*out of range for a matrix of shape \(6, 5\)"):
        f(a, 2, np.array([6]), np.array([0]))
    with pytest.raises(TypeError, match="integer vector"):
        x[ft.dvector("f")]
    # rows taken twice get the gradient twice; a regular sum's gradient fills its slice
    cost = S.sp_sum(S.sqr(x[v])) + S.sp_sum(x[i : i + 2, ::2] * 3.0)
    gx = fc.function([x, i, v], fc.grad(cost, x))(a, 2, np.array([0, 5, 0]))
    expect = np.zeros_like(A)
    for k in (0, 5, 0):
        expect[k] += 2 * A[k]
    expect[2:4, ::2] += 3
    assert gx.format == fmt
    np.testing.assert_allclose(gx.toarray(), expect, rtol=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_stacking_and_its_gradient(fmt: str) -> None:
    rng = np.random.default_rng(35)
    a, b = _rand(rng, (3, 4), fmt, "float64", 0.5), _rand(rng, (3, 2), "csr", "float32", 0.5)
    c = _rand(rng, (2, 4), "csc", "float64", 0.5)
    x, y, z = S.matrix(fmt, "x", "float64"), S.csr_matrix("y", "float32"), S.csc_matrix("z", "float64")
    h, v = S.hstack([x, y]), S.vstack([x, z], format="csc")
    cost = S.sp_sum(S.sqr(h) * 2.0) + S.sp_sum(S.structured_exp(v))
    f = fc.function([x, y, z], [h, v, *fc.grad(cost, [x, y, z])])
    hv, vv, gx, gy, gz = f(a, b, c)
    assert (hv.format, hv.dtype, vv.format) == (fmt, "float64", "csc")
    np.testing.assert_array_equal(hv.toarray(), np.hstack([a.toarray(), b.toarray()]))
    np.testing.assert_array_equal(vv.toarray(), np.vstack([a.toarray(), c.toarray()]))
    assert (gx.format, gy.format, gy.dtype, gz.format) == (fmt, "csr", "float32", "csc")
    ad, cd = a.toarray(), c.toarray()
    np.testing.assert_allclose(gx.toarray(), 4 * ad + np.exp(ad) * (ad != 0), rtol=1e-12)
    np.testing.assert_allclose(gy.toarray(), 4 * b.toarray(), rtol=1e-6)
    np.testing.assert_allclose(gz.toarray(), np.exp(cd) * (cd != 0), rtol=1e-12)
    with pytest.raises(ValueError, match="sizes along axis 0 differ"):
        f(a, _rand(rng, (4, 2), "csr", "float32"), c)


def test_minibatches_of_a_sparse_design_matrix() -> None:
    # the Theano tutorials' minibatch pattern, on sparse data: givens slice a shared matrix
    rng = np.random.default_rng(34)
    data = _rand(rng, (20, 6), "csr", "float64", 0.3)
    X = fc.shared(data, name="X")
    w = fc.shared(np.zeros(6), name="w")
    x, index, n = S.csr_matrix("x", "float64"), ft.lscalar("index"), 5
    err = S.dot(x, w.dimshuffle(0, "x")).flatten() - 1.0
    cost = (err**2).mean()
    train = fc.function(
        [index], cost, updates={w: w - 0.1 * fc.grad(cost, w)}, givens={x: X[index * n : (index + 1) * n]}
    )
    wv, dense = np.zeros(6), data.toarray()
    for step in range(8):
        rows = dense[(step % 4) * n : (step % 4 + 1) * n]
        e = rows @ wv - 1.0
        assert np.isclose(train(step % 4), (e**2).mean())
        wv = wv - 0.1 * 2 * rows.T @ e / n
    np.testing.assert_allclose(w.get_value(), wv, rtol=1e-12)


def test_theano_names_and_remove0() -> None:
    assert S.SparseType is S.SparseTensorType
    assert fc.sparse.basic.add_s_s is S.add_s_s and S.mul_s_d is fc.sparse.basic.mul_s_d
    m = sp.csr_matrix((np.array([1.0, 0.0, 2.0]), np.array([0, 1, 1]), np.array([0, 2, 3])), shape=(2, 2))
    x = S.csr_matrix("x", "float64")
    f = fc.function([x], [S.remove0(x), fc.grad(S.sp_sum(S.sqr(S.remove0(x))), x)])
    r, g = f(m)
    assert r.nnz == 2 and m.nnz == 3
    np.testing.assert_array_equal(r.toarray(), m.toarray())
    np.testing.assert_array_equal(g.toarray(), 2 * m.toarray())


# -- a CAR prior's log-density (PyMC's CAR with a sparse adjacency matrix) --------------------
def test_car_log_density_and_gradient() -> None:
    rng = np.random.default_rng(30)
    n = 40
    adj = sp.random(n, n, density=0.1, format="csr", random_state=rng)
    adj = ((adj + adj.T) > 0).astype("float64").tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    W = fc.shared(adj, name="W")
    phi, tau, alpha = ft.dvector("phi"), ft.dscalar("tau"), ft.dscalar("alpha")
    D = S.sp_sum(W, axis=1)
    Wphi = S.dot(W, phi.dimshuffle(0, "x")).flatten()
    # -0.5 tau (phi' D phi - alpha phi' W phi): the quadratic form of the CAR precision
    logp = -0.5 * tau * ((D * phi * phi).sum() - alpha * (phi * Wphi).sum())
    f = fc.function([phi, tau, alpha], [logp, fc.grad(logp, phi)])
    pv = rng.normal(size=n)
    dense = adj.toarray()
    prec = np.diag(dense.sum(1)) - 0.9 * dense
    lp, g = f(pv, 2.0, 0.9)
    assert np.isclose(lp, -0.5 * 2.0 * pv @ prec @ pv, rtol=1e-12)
    np.testing.assert_allclose(g, -2.0 * prec @ pv, rtol=1e-10)


# -- pickles -----------------------------------------------------------------------------------
def test_pickle_round_trip() -> None:
    rng = np.random.default_rng(31)
    a = _rand(rng, (5, 4), "csc", "float64")
    w = fc.shared(_rand(rng, (4, 3), "csr", "float64"), name="W")
    x, b = S.csc_matrix("x", "float64"), ft.dmatrix("b")
    out = S.structured_dot(x, b) + S.dot(x, w.toarray()) + S.sp_sum(x * 2.0)
    f = fc.function([x, b], [out, fc.grad(out.sum(), x), S.structured_exp(x) + S.as_sparse_variable(a)])
    bv = rng.uniform(size=(4, 3))
    want = f(a, bv)
    for g in (pickle.loads(pickle.dumps(f)), fc.loads(fc.dumps(f))):
        got = g(a, bv)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        for k in (1, 2):
            assert got[k].format == "csc"
            np.testing.assert_allclose(got[k].toarray(), want[k].toarray(), rtol=1e-12)
    # a pickled shared value comes back as a sparse shared variable of its type
    g, w2 = fc.loads(fc.dumps([f, w]))
    assert isinstance(w2, S.SparseSharedVariable) and w2.type == w.type and w2 in g.shared_variables
    np.testing.assert_array_equal(w2.get_value().toarray(), w.get_value().toarray())
    assert isinstance(pickle.loads(pickle.dumps(w)), S.SparseSharedVariable)


# -- PyTensor itself, where it is installed ----------------------------------------------------
#: costs written once for both libraries: (sparse module, tensor module, x sparse, b dense, d dense)
PYTENSOR_COSTS = {
    "structured_dot": lambda S_, T, x, b, d: T.sin(S_.structured_dot(x, b)).sum(),
    "dot": lambda S_, T, x, b, d: (S_.dot(x, b) ** 2).sum(),
    "dense_dot": lambda S_, T, x, b, d: T.exp(S_.dot(d.T, x) / 4).sum(),
    "sp_sum": lambda S_, T, x, b, d: (
        (S_.sp_sum(x, axis=0) ** 2).sum() + S_.sp_sum(x, axis=1, sparse_grad=True).sum()
    ),
    "mul": lambda S_, T, x, b, d: S_.sp_sum(S_.multiply(x, d)),
    "add": lambda S_, T, x, b, d: (S_.add(x, d) ** 2).sum(),
    "structured": lambda S_, T, x, b, d: S_.sp_sum(S_.structured_exp(x) + S_.sqr(S_.structured_sigmoid(x))),
    "dense_from_sparse": lambda S_, T, x, b, d: (T.tanh(S_.dense_from_sparse(S_.transpose(x))) * d.T).sum(),
    "true_dot": lambda S_, T, x, b, d: S_.sp_sum(S_.true_dot(x, b) * S_.true_dot(x, b)),
    "scales": lambda S_, T, x, b, d: S_.sp_sum(S_.row_scale(x, d[:, 0]) * S_.col_scale(x, b[:, 0])),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(PYTENSOR_COSTS))
def test_against_pytensor_sparse(name: str, fmt: str) -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.sparse as ps
    import pytensor.tensor as pt

    build = PYTENSOR_COSTS[name]
    rng = np.random.default_rng(32)
    a = _rand(rng, (5, 4), fmt, "float64", 0.5)
    bv, dv = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (5, 4))
    px, pb, pd = ps.matrix(fmt, "x", dtype="float64"), pt.dmatrix("b"), pt.dmatrix("d")
    pc = build(ps, pt, px, pb, pd)
    mode = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
    pf = pytensor.function(
        [px, pb, pd],
        [pc, *pytensor.grad(pc, [px, pb, pd], disconnected_inputs="ignore")],
        mode=mode,
        on_unused_input="ignore",
    )
    x, b, d = S.matrix(fmt, "x", "float64"), ft.dmatrix("b"), ft.dmatrix("d")
    c = build(S, ft, x, b, d)
    f = fc.function(
        [x, b, d], [c, *fc.grad(c, [x, b, d], disconnected_inputs="ignore")], on_unused_input="ignore"
    )
    mine, theirs = f(a, bv, dv), pf(a, bv, dv)
    assert np.isclose(mine[0], theirs[0], rtol=1e-12)
    assert sp.issparse(mine[1]) and mine[1].format == fmt
    # PyTensor's regular gradient through dot is a dense array: the same values
    their_x = theirs[1].toarray() if sp.issparse(theirs[1]) else theirs[1]
    np.testing.assert_allclose(mine[1].toarray(), their_x, rtol=1e-10, atol=1e-12)
    for g, h in zip(mine[2:], theirs[2:]):
        np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12)


def test_without_scipy_a_sparse_function_says_what_to_install():
    # scipy is not a dependency of fncache: a sparse value needs it, and the error says so
    code = """
import sys
sys.modules["scipy"] = None  # as where scipy is not installed
import numpy as np, fncache as fc, fncache.tensor as ft, fncache.sparse as sp
x = ft.dmatrix("x")
f = fc.function([x], sp.sp_sum(sp.csr_from_dense(x)))
try:
    f(np.eye(3))
except ModuleNotFoundError as e:
    print(e)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "scipy.sparse, which is not installed" in r.stdout and "pip install scipy" in r.stdout, r.stdout
