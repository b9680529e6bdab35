"""fncache.sparse, the less used ops: one element (``x[i, j]``), ``mul_s_v``,
``structured_add_s_v``, ``usmm`` and the comparisons, checked against scipy and numpy, their
gradients against central differences, and against PyTensor where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import fncache as fc  # noqa: E402
import fncache.sparse as S  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from fcutil import fd_gradient  # noqa: E402

FORMATS = ("csr", "csc")


def _rand(rng: np.random.Generator, shape: tuple[int, int], fmt: str, dtype: str = "float64") -> object:
    m = sp.random(*shape, density=0.5, format=fmt, dtype=np.float64, random_state=rng)
    m.data = rng.uniform(-2, 2, size=m.nnz)
    return m.astype(dtype)


# -- one element -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_single_element(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(1)
    a = _rand(rng, (5, 4), fmt, dtype)
    A = a.toarray()
    x, i, j = S.matrix(fmt, "x", dtype), ft.lscalar("i"), ft.iscalar("j")
    outs = [x[i, j], x[2, -1], x[np.int64(-5), np.array(0, "uint8")]]
    f = fc.function([x, i, j], outs)
    assert all(o.type == ft.TensorType(dtype, ()) for o in outs)
    for r, c in [(0, 0), (4, 3), (-1, -4), (-5, 2)] + [(k, m) for k in range(5) for m in range(4)]:
        got = f(a, r, c)
        assert got[0].shape == () and got[0].dtype == dtype
        assert got[0] == A[r, c]
        assert got[1] == A[2, -1] and got[2] == A[-5, 0]
    for r, c in [(5, 0), (-6, 0), (0, 4), (0, -5)]:
        with pytest.raises(IndexError, match=rf"GetItemScalar: index \({r}, {c}\) is out of range.*\(5, 4\)"):
            f(a, r, c)
    with pytest.raises(TypeError, match="integer scalar"):
        S.get_item_scalar(x, ft.dscalar("f"), 0)
    # a slice or an integer vector beside an integer keeps its error
    with pytest.raises(TypeError, match=r"a single element is x\[i, j\]"):
        x[i, 1:]


@pytest.mark.parametrize("fmt", FORMATS)
def test_single_element_gradient(fmt: str) -> None:
    rng = np.random.default_rng(2)
    a = _rand(rng, (4, 3), fmt)
    x, i = S.matrix(fmt, "x", "float64"), ft.lscalar("i")
    # elements stored or not, one taken twice: the gradient is regular and sums
    cost = ft.sin(x[i, 1]) * x[-1, -1] + x[i, 1] ** 2 + S.sp_sum(S.sqr(x))
    f = fc.function([x, i], [cost, fc.grad(cost, x)])

    def ref(v: np.ndarray, r: int) -> float:
        return np.sin(v[r, 1]) * v[-1, -1] + v[r, 1] ** 2 + (v * v).sum()

    for r in (0, -2, 3):
        c, g = f(a, r)
        assert np.isclose(c, ref(a.toarray(), r), rtol=1e-12)
        assert sp.issparse(g) and g.format == fmt and g.dtype == "float64"
        want = fd_gradient(lambda v, r=r: ref(v, r), a.toarray())
        # the sqr term's gradient is structured: the dense difference there is 2v at every entry
        want -= 2 * a.toarray() * (a.toarray() == 0)
        np.testing.assert_allclose(g.toarray(), want, rtol=1e-6, atol=1e-7)


def test_single_element_against_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.sparse as ps
    import pytensor.tensor as pt

    a = _rand(np.random.default_rng(3), (4, 5), "csr")
    px, pi = ps.csr_matrix("x", dtype="float64"), pt.iscalar("i")
    pf = pytensor.function([px, pi], px[pi, 2], mode=pytensor.compile.mode.Mode(linker="py"))
    x, i = S.csr_matrix("x", "float64"), ft.iscalar("i")
    f = fc.function([x, i], x[i, 2])
    for r in range(4):
        theirs, mine = pf(a, r), f(a, r)
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape and mine == theirs


# -- a sparse matrix and a dense vector, usmm --------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mul_s_v_and_structured_add_s_v(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(4)
    x, y = S.matrix(fmt, "x", dtype), ft.TensorType(dtype, (None,))("y")
    f = fc.function([x, y], [S.mul_s_v(x, y), S.structured_add_s_v(x, y)])
    tol = {"rtol": 2e-6} if dtype == "float32" else {"rtol": 1e-14}
    for shape in [(3, 5), (6, 2), (1, 4)]:
        a, v = _rand(rng, shape, fmt, dtype), rng.uniform(-1, 1, shape[1]).astype(dtype)
        A = a.toarray()
        prod, summed = f(a, v)
        for got in (prod, summed):
            assert sp.issparse(got) and got.format == fmt and got.dtype == dtype
        np.testing.assert_allclose(prod.toarray(), A * v, **tol)
        np.testing.assert_allclose(summed.toarray(), A + (A != 0) * v, **tol)
        # only the stored entries are touched
        assert prod.nnz <= a.nnz and summed.nnz <= a.nnz
    with pytest.raises(ValueError, match="does not fit"):
        f(_rand(rng, (3, 4), fmt, dtype), np.ones(3, dtype))
    with pytest.raises(TypeError, match=r"mul_s_v: expected a dense tensor of 1 dims"):
        S.mul_s_v(x, ft.matrix("m", dtype))
    with pytest.raises(TypeError, match=r"structured_add_s_v: .*dense"):
        S.structured_add_s_v(ft.matrix("m", dtype), y)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mul_s_v_and_structured_add_s_v_gradients(fmt: str) -> None:
    rng = np.random.default_rng(5)
    a, v = _rand(rng, (4, 3), fmt), rng.uniform(-1, 1, 3)
    mask = a.toarray() != 0
    x, y = S.matrix(fmt, "x", "float64"), ft.dvector("y")
    cost = S.sp_sum(S.sqr(S.mul_s_v(x, y))) + S.sp_sum(S.sin(S.structured_add_s_v(x, y) * 2.0))

    def ref(w: np.ndarray, u: np.ndarray) -> float:
        # the structure is a's: only the stored entries enter
        return float(((w * u) ** 2)[mask].sum() + np.sin(2 * (w + u))[mask].sum())

    c, gx, gy = fc.function([x, y], [cost, *fc.grad(cost, [x, y])])(a, v)
    assert np.isclose(c, ref(a.toarray(), v), rtol=1e-12)
    assert sp.issparse(gx) and gx.format == fmt
    # both gradients with respect to x are structured
    np.testing.assert_allclose(
        gx.toarray(), fd_gradient(lambda w: ref(w, v), a.toarray()) * mask, rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(gy, fd_gradient(lambda u: ref(a.toarray(), u), v), rtol=1e-6, atol=1e-7)


def _usmm_operands(kind: str, fmt: str, rng: np.random.Generator) -> tuple[list, list]:
    """The symbolic x and y of usmm and their values: ``kind`` says which are sparse."""
    shapes = [(3, 4), (4, 2)]
    syms, vals = [], []
    for k, (c, shape) in enumerate(zip(kind, shapes)):
        if c == "s":
            syms.append(S.matrix(fmt, "xy"[k], "float64"))
            vals.append(_rand(rng, shape, fmt))
        else:
            syms.append(ft.dmatrix("xy"[k]))
            vals.append(rng.uniform(-1, 1, shape))
    return syms, vals


def _dense(v: object) -> np.ndarray:
    return v.toarray() if sp.issparse(v) else np.asarray(v)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["sd", "ds", "ss"])
def test_usmm_and_its_gradients(kind: str, fmt: str) -> None:
    rng = np.random.default_rng(6)
    (x, y), (xv, yv) = _usmm_operands(kind, fmt, rng)
    alpha, z = ft.dscalar("alpha"), ft.dmatrix("z")
    out = S.usmm(alpha, x, y, z)
    assert out.type == ft.TensorType("float64", (None, None))
    cost = (ft.tanh(out) * ft.constant(np.arange(6.0).reshape(3, 2))).sum()
    f = fc.function([alpha, x, y, z], [out, cost, *fc.grad(cost, [alpha, x, y, z])])
    av, zv = np.float64(-1.5), rng.uniform(-1, 1, (3, 2))
    X, Y = _dense(xv), _dense(yv)
    w = np.arange(6.0).reshape(3, 2)

    def ref(a: float, p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
        return float((np.tanh(r + a * p @ q) * w).sum())

    got, c, ga, gx, gy, gz = f(av, xv, yv, zv)
    np.testing.assert_allclose(got, zv + av * X @ Y, rtol=1e-13)
    assert np.isclose(c, ref(av, X, Y, zv), rtol=1e-12)
    assert np.isclose(ga, fd_gradient(lambda a: ref(a[()], X, Y, zv), np.array(av)), rtol=1e-6)
    # the gradients with respect to x and y are regular: every entry, stored or not
    for g, v, want in [
        (gx, xv, fd_gradient(lambda p: ref(av, p, Y, zv), X)),
        (gy, yv, fd_gradient(lambda q: ref(av, X, q, zv), Y)),
    ]:
        assert sp.issparse(g) == sp.issparse(v)
        np.testing.assert_allclose(_dense(g), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gz, fd_gradient(lambda r: ref(av, X, Y, r), zv), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match=r"Usmm: z's shape \(2, 2\) is not the product's \(3, 2\)"):
        f(av, xv, yv, zv[:2])


def test_usmm_errors() -> None:
    x, d = S.csr_matrix("x", "float64"), ft.dmatrix("d")
    with pytest.raises(TypeError, match="Usmm: neither x nor y is sparse"):
        S.usmm(1.0, d, d, d)
    with pytest.raises(TypeError, match="Usmm: expected a dense tensor of 0 dims"):
        S.usmm(ft.dvector("a"), x, d, d)
    # alpha as PyTensor's rewrites give it, a (1, 1) tensor
    one = ft.TensorType("float64", (1, 1))("one")
    z = ft.dmatrix("z")
    g = fc.function([one, x, d, z], S.usmm(one, x, d, z))
    np.testing.assert_allclose(
        g([[2.0]], sp.csr_matrix(np.eye(2)), np.ones((2, 2)), np.eye(2)), np.eye(2) + 2
    )
    f = fc.function([x, d], S.usmm(2.0, x, d, d))
    with pytest.raises(ValueError, match="Usmm: shapes .* are not aligned"):
        f(sp.csr_matrix(np.eye(3)), np.ones((2, 2)))


def test_vector_ops_and_usmm_against_pytensor() -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.sparse as ps
    import pytensor.tensor as pt

    rng = np.random.default_rng(7)
    a, v = _rand(rng, (4, 3), "csc"), rng.uniform(-1, 1, 3)
    bv, zv = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (4, 2))

    def build(S_, T, x, y, b, z):
        c = S_.sp_sum(S_.mul_s_v(x, y) * S_.structured_add_s_v(x, y), sparse_grad=True)
        return c, S_.usmm(T.constant(0.5), x, b, z)

    px, py, pb, pz = ps.csc_matrix("x", dtype="float64"), pt.dvector("y"), pt.dmatrix("b"), pt.dmatrix("z")
    pc, pu = build(ps, pt, px, py, pb, pz)
    pf = pytensor.function([px, py, pb, pz], [pc, pu, *pytensor.grad(pc, [px, py])], mode="FAST_COMPILE")
    x, y, b, z = S.csc_matrix("x", "float64"), ft.dvector("y"), ft.dmatrix("b"), ft.dmatrix("z")
    c, u = build(S, ft, x, y, b, z)
    f = fc.function([x, y, b, z], [c, u, *fc.grad(c, [x, y])])
    mine, theirs = f(a, v, bv, zv), pf(a, v, bv, zv)
    assert np.isclose(mine[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-12)
    assert sp.issparse(mine[2]) and mine[2].format == "csc"
    np.testing.assert_allclose(mine[2].toarray(), theirs[2].toarray(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine[3], theirs[3], rtol=1e-10, atol=1e-12)


# -- comparisons -------------------------------------------------------------------------------
COMPARE = {
    "eq": np.equal,
    "neq": np.not_equal,
    "lt": np.less,
    "gt": np.greater,
    "le": np.less_equal,
    "ge": np.greater_equal,
}


def _with_ties(rng: np.random.Generator, shape: tuple[int, int], fmt: str, dtype: str) -> object:
    """A random matrix of small integers (equal entries are common), zeros stored or not."""
    m = _rand(rng, shape, fmt, dtype)
    m.data = rng.integers(-2, 3, size=m.nnz).astype(dtype)
    return m


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_comparisons(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(8)
    other = "csc" if fmt == "csr" else "csr"
    x, y, d = S.matrix(fmt, "x", dtype), S.matrix(other, "y", "float64"), ft.matrix("d", dtype)
    names = sorted(COMPARE)
    outs = [getattr(S, n)(x, y) for n in names] + [getattr(S, n)(x, d) for n in names]
    outs += [getattr(S, n)(d, x) for n in names]
    ops = [x < d, x <= y, x > 0.5, x >= d]
    f = fc.function([x, y, d], outs + ops)
    for _ in range(3):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        a, b = _with_ties(rng, shape, fmt, dtype), _with_ties(rng, shape, other, "float64")
        dv = rng.integers(-2, 3, size=shape).astype(dtype)
        A, B = a.toarray(), b.toarray()
        got = f(a, b, dv)
        want = [COMPARE[n](A, B) for n in names] + [COMPARE[n](A, dv) for n in names]
        want += [COMPARE[n](dv, A) for n in names] + [A < dv, A <= B, A > 0.5, A >= dv]
        for k, (g, w) in enumerate(zip(got, want)):
            sparse_out = k < len(names) or k == len(got) - 3
            assert sp.issparse(g) == sparse_out
            if sparse_out:
                # the 1s only, in x's format
                assert g.format == fmt and (g.data == 1).all()
                g = g.toarray()
            assert g.dtype == np.uint8
            np.testing.assert_array_equal(g, w.astype(np.uint8))
    with pytest.raises(ValueError, match=r"ComparisonSD.*shapes differ"):
        f(_rand(rng, (3, 3), fmt, dtype), _rand(rng, (3, 3), other), np.ones((3, 2), dtype))
    with pytest.raises(TypeError, match="neither operand is sparse"):
        S.lt(d, d)
    with pytest.raises(TypeError, match="ComparisonSD.*expected a dense tensor of 0 or 2 dims"):
        S.lt(x, ft.dvector("v"))
    with pytest.raises(ValueError, match="op must be one of"):
        S.ComparisonSS("lte")
    # no gradient flows through a comparison; the cost's other terms still have theirs
    cost = S.sp_sum(x * ft.cast(S.gt(x, d), dtype), sparse_grad=True)
    g = fc.function([x, d], fc.grad(cost, x))(a, dv)
    stored = a.copy()
    stored.data[:] = 1  # zeros stored too: the gradient of mul is at the stored entries
    np.testing.assert_array_equal(g.toarray(), (a.toarray() > dv) * stored.toarray())


@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")  # PyTensor's own
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(COMPARE))
def test_comparisons_against_pytensor(name: str, fmt: str) -> None:
    pytensor = pytest.importorskip("pytensor")
    import pytensor.sparse as ps
    import pytensor.tensor as pt

    rng = np.random.default_rng(9)
    a, b = _with_ties(rng, (4, 3), fmt, "float64"), _with_ties(rng, (4, 3), fmt, "float64")
    dv = rng.integers(-2, 3, size=(4, 3)).astype("float64")

    def build(S_, x, y, d):
        op = getattr(S_, name)
        return [op(x, y), op(x, d), op(d, x)]

    px, py, pd = ps.matrix(fmt, "x", dtype="float64"), ps.matrix(fmt, "y", dtype="float64"), pt.dmatrix("d")
    pf = pytensor.function([px, py, pd], build(ps, px, py, pd), mode=pytensor.compile.mode.Mode(linker="py"))
    x, y, d = S.matrix(fmt, "x", "float64"), S.matrix(fmt, "y", "float64"), ft.dmatrix("d")
    f = fc.function([x, y, d], build(S, x, y, d))
    for mine, theirs in zip(f(a, b, dv), pf(a, b, dv)):
        assert sp.issparse(mine) == sp.issparse(theirs) and mine.dtype == theirs.dtype
        if sp.issparse(mine):
            assert mine.format == theirs.format
            mine, theirs = mine.toarray(), theirs.toarray()
        np.testing.assert_array_equal(mine, theirs)


# -- other formats -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_other_formats_are_refused_with_the_conversion_to_make(fmt: str) -> None:
    # PyTensor converts a coo (or any) matrix given for a csr input, a copy at every call;
    # fncache asks for the declared format, as it does for csc given for csr
    x = S.matrix(fmt, "x", "float64")
    f = fc.function([x], S.sp_sum(x))
    eye = np.eye(3)
    for value in [
        sp.coo_matrix(eye),
        sp.coo_array(eye),
        sp.bsr_matrix(eye),
        sp.dok_matrix(eye),
        sp.lil_matrix(eye),
    ]:
        with pytest.raises(
            TypeError, match=rf"input 0 \('x'\).*expected a {fmt} .*got a {value.format} "
        ) as e:
            f(value)
        msg = str(e.value)
        assert f"x.to{fmt}()" in msg and "declare the input" not in msg
        assert "fncache's sparse matrices are csr or csc" in msg
    assert f(sp.coo_matrix(eye).asformat(fmt)) == 3.0
    w = fc.shared(sp.csr_matrix(eye), name="w")
    with pytest.raises(TypeError, match=r"'w' \(old value kept\).*got a coo.*x.tocsr\(\)"):
        w.set_value(sp.coo_matrix(eye))
    with pytest.raises(TypeError, match=r"sparse shared variable 'v'.*got a coo.*x.tocsr\(\) or x.tocsc\(\)"):
        fc.shared(sp.coo_matrix(eye), name="v")
