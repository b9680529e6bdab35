"""fncache.sparse, the rest of PyTensor's sparse namespace: sorted indices, ``clean``, the
diagonal, ``add_s_s_data``, elements and rows by index lists, ``construct_sparse_from_list``,
the structured minimum, maximum, rint and conjugate, the casts and the comparisons' PyTensor
names; checked against scipy and numpy, gradients against central differences, and against
PyTensor where it is installed. Then DebugMode's checks on sparse values, and cases of
PyTensor's own sparse tests."""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import fncache as fc  # noqa: E402
import fncache.sparse as S  # noqa: E402
from fncache import tensor as ft  # noqa: E402
from fncache.errors import BadDestroyMap, BadThunkOutput, BadViewMap, InvalidValueError  # noqa: E402
from fncache.graph.basic import Apply, Op  # noqa: E402
from fcutil import fd_gradient  # noqa: E402

FORMATS = ("csr", "csc")


def _rand(rng: np.random.Generator, shape: tuple[int, int], fmt: str, dtype: str = "float64") -> object:
    m = sp.random(*shape, density=0.5, format=fmt, dtype=np.float64, random_state=rng)
    m.data = rng.uniform(-2, 2, size=m.nnz)
    return m.astype(dtype)


def _same_matrix(got: object, want: object, fmt: str, dtype: str) -> None:
    """``got`` is a scipy matrix of ``fmt`` and ``dtype`` equal to ``want`` (dense or sparse)."""
    assert sp.issparse(got) and got.format == fmt and got.dtype == dtype
    want = want.toarray() if sp.issparse(want) else np.asarray(want)
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-6)


def _sparse_fd(fn, a: object) -> np.ndarray:
    """Central differences of scalar ``fn`` at each stored entry of sparse ``a`` (dense, of
    ``a``'s shape; zero where ``a`` stores nothing)."""

    def at(data: np.ndarray) -> float:
        b = a.copy()
        b.data = data
        return float(fn(b))

    g = fd_gradient(at, a.data.astype(np.float64))
    b = a.copy()
    b.data = g
    return b.toarray()


# -- sorted indices, clean -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_ensure_sorted_indices_and_clean(fmt: str) -> None:
    data, indices, indptr = ft.dvector("d"), ft.ivector("i"), ft.ivector("p")
    shape = ft.lvector("s")
    m = S.CSM(fmt)(data, indices, indptr, shape)
    outs = [S.ensure_sorted_indices(m), S.clean(m)]
    parts = [p for o in outs for p in S.csm_properties(o)[:3]]
    f = fc.function([data, indices, indptr, shape], [*outs, *parts])
    # unsorted indices in each compressed row (column), an explicit zero among them
    d, i, p = np.array([3.0, 0.0, 1.0, 5.0]), np.array([2, 0, 1, 1], "int32"), np.array([0, 3, 4], "int32")
    want = getattr(sp, f"{fmt}_matrix")((d, i, p), shape=(2, 3) if fmt == "csr" else (3, 2))
    srt, cln, sd, si, sp_, cd, ci, cp = f(d, i, p, np.array(want.shape))
    _same_matrix(srt, want, fmt, "float64")
    _same_matrix(cln, want, fmt, "float64")
    assert srt.has_sorted_indices and cln.has_sorted_indices
    np.testing.assert_array_equal(si, [0, 1, 2, 1])
    np.testing.assert_array_equal(sd, [0.0, 1.0, 3.0, 5.0])  # values move with their indices
    np.testing.assert_array_equal(cd, [1.0, 3.0, 5.0])  # the zero removed
    np.testing.assert_array_equal(ci, [1, 2, 1])
    np.testing.assert_array_equal(cp, [0, 2, 3])
    # the gradient passes through as it is
    x = S.matrix(fmt, "x")
    cost = S.sp_sum(S.sqr(S.clean(x)), sparse_grad=True)
    a = _rand(np.random.default_rng(3), (4, 5), fmt)
    _same_matrix(fc.function([x], fc.grad(cost, x))(a), 2 * a.toarray(), fmt, "float64")


# -- the diagonal --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_diag_and_square_diagonal(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(4)
    a = _rand(rng, (5, 5), fmt, dtype)
    x, v = S.matrix(fmt, "x", dtype), ft.vector("v", dtype=dtype)
    d, sq = S.diag(x), S.square_diagonal(v)
    assert d.type == ft.TensorType(dtype, (None,)) and sq.type == S.SparseTensorType("csc", dtype)
    f = fc.function([x, v], [d, sq])
    vec = np.array([1, 0, 3], dtype)
    got_d, got_sq = f(a, vec)
    assert got_d.dtype == dtype
    np.testing.assert_array_equal(got_d, a.diagonal())
    _same_matrix(got_sq, np.diag(vec), "csc", dtype)
    assert got_sq.nnz == 3  # PyTensor's stores the zero too
    with pytest.raises(ValueError, match=r"Diag: the matrix must be square, got shape \(5, 4\)"):
        f(_rand(rng, (5, 4), fmt, dtype), vec)
    with pytest.raises(TypeError, match="square_diagonal: expected a dense tensor of 1 dims"):
        S.square_diagonal(ft.dmatrix())


@pytest.mark.parametrize("fmt", FORMATS)
def test_diag_gradients(fmt: str) -> None:
    rng = np.random.default_rng(5)
    a, w = _rand(rng, (4, 4), fmt), rng.normal(size=4)
    x, v = S.matrix(fmt, "x"), ft.dvector("v")
    cost = (ft.sin(S.diag(x)) * w).sum()
    g = fc.function([x], fc.grad(cost, x))(a)
    # regular: every diagonal element, stored or not
    _same_matrix(g, np.diag(np.cos(a.diagonal()) * w), fmt, "float64")
    cost_v = S.sp_sum(S.sqr(S.square_diagonal(v)) * 3.0)
    gv = fc.function([v], fc.grad(cost_v, v))(w)
    np.testing.assert_allclose(gv, fd_gradient(lambda u: 3.0 * (u**2).sum(), w), rtol=1e-6)


def test_diag_matches_pytensor() -> None:
    pt = pytest.importorskip("pytensor")
    import pytensor.sparse as PS

    a = _rand(np.random.default_rng(6), (4, 4), "csr")
    w = np.arange(4.0)
    x = PS.csr_matrix("x", dtype="float64")
    pg = pt.function([x], pt.grad((PS.diag(x) * w).sum(), x), mode="FAST_COMPILE")(a)
    fx = S.csr_matrix("x", dtype="float64")
    fg = fc.function([fx], fc.grad((S.diag(fx) * w).sum(), fx))(a)
    np.testing.assert_allclose(fg.toarray(), pg.toarray())


# -- add_s_s_data --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_add_s_s_data(fmt: str) -> None:
    rng = np.random.default_rng(7)
    a = _rand(rng, (4, 6), fmt)
    b = a.copy()
    b.data = rng.normal(size=b.nnz)
    x, y = S.matrix(fmt, "x"), S.matrix(fmt, "y")
    z = S.add_s_s_data(x, y)
    cost = S.sp_sum(S.sqr(z), sparse_grad=True)
    f = fc.function([x, y], [z, *fc.grad(cost, [x, y])])
    got, gx, gy = f(a, b)
    _same_matrix(got, a + b, fmt, "float64")
    np.testing.assert_allclose(
        gx.toarray(), _sparse_fd(lambda m: ((m.data + b.data) ** 2).sum(), a), rtol=1e-5, atol=1e-7
    )
    _same_matrix(gy, gx, fmt, "float64")
    with pytest.raises(ValueError, match="AddSSData: the operands store different entries"):
        f(a, _rand(rng, (4, 6), fmt))
    with pytest.raises(TypeError, match="one format and dtype"):
        S.add_s_s_data(x, S.matrix(fmt, "w", "float32"))


# -- elements and rows by index lists ------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_get_item_2lists(fmt: str, dtype: str) -> None:
    rng = np.random.default_rng(8)
    a = _rand(rng, (5, 4), fmt, dtype)
    x, r, c = S.matrix(fmt, "x", dtype), ft.lvector("r"), ft.ivector("c")
    out = S.get_item_2lists(x, r, c)
    assert out.type == ft.TensorType(dtype, (None,))
    f = fc.function([x, r, c], out)
    rows, cols = np.array([0, 4, -1, 2, 2]), np.array([3, 0, 1, 2, 2], "int32")
    got = f(a, rows, cols)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, a.toarray()[rows, cols])
    assert f(a, rows[:0], cols[:0]).shape == (0,)
    with pytest.raises(IndexError, match="GetItem2Lists: a row index .* out of range for shape"):
        f(a, np.array([5]), np.array([0], "int32"))
    with pytest.raises(ValueError, match="differ in length, 2 and 1"):
        f(a, np.array([0, 1]), np.array([0], "int32"))
    with pytest.raises(TypeError, match="integer vectors"):
        S.get_item_2lists(x, ft.dvector(), c)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_2lists_gradient(fmt: str) -> None:
    rng = np.random.default_rng(9)
    a = _rand(rng, (4, 5), fmt)
    rows, cols = np.array([0, 3, 3, 1, 3]), np.array([1, 4, 4, 0, 2])  # (3, 4) twice
    x = S.matrix(fmt, "x")
    w = rng.normal(size=5)
    cost = (ft.exp(S.get_item_2lists(x, rows, cols)) * w).sum()
    g = fc.function([x], fc.grad(cost, x))(a)
    dense = fd_gradient(lambda m: (np.exp(m[rows, cols]) * w).sum(), a.toarray())
    _same_matrix(g, dense, fmt, "float64")  # regular: repeated pairs summed, unstored ones too


def test_get_item_2lists_matches_pytensor() -> None:
    pt = pytest.importorskip("pytensor")
    import pytensor.sparse as PS

    a = _rand(np.random.default_rng(10), (4, 5), "csc")
    rows, cols = np.array([0, 3, 1]), np.array([1, 4, 0])
    x = PS.csc_matrix("x", dtype="float64")
    want = pt.function([x], PS.get_item_2lists(x, rows, cols), mode="FAST_COMPILE")(a)
    fx = S.csc_matrix("x", dtype="float64")
    np.testing.assert_array_equal(fc.function([fx], S.get_item_2lists(fx, rows, cols))(a), want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_item_list_and_its_gradient(fmt: str) -> None:
    rng = np.random.default_rng(11)
    a = _rand(rng, (5, 3), fmt)
    x, idx = S.matrix(fmt, "x"), ft.lvector("i")
    rows = S.get_item_list(x, idx)
    gz = S.matrix(fmt, "gz")
    f = fc.function([x, idx, gz], [rows, S.get_item_list_grad(x, idx, gz)])
    index = np.array([4, 0, 4, -2])
    g = _rand(rng, (4, 3), fmt)
    got, back = f(a, index, g)
    _same_matrix(got, a.toarray()[index], fmt, "float64")
    want = np.zeros((5, 3))
    np.add.at(want, index, g.toarray())  # a row taken twice: its gradients summed
    _same_matrix(back, want, fmt, "float64")
    with pytest.raises(TypeError, match="integer vector"):
        S.get_item_list(x, ft.dvector())


# -- construct_sparse_from_list ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_construct_sparse_from_list(dtype: str) -> None:
    rng = np.random.default_rng(12)
    m, values, ilist = ft.matrix("m", dtype=dtype), ft.matrix("v", dtype=dtype), ft.lvector("i")
    out = S.construct_sparse_from_list(m, values, ilist)
    assert out.type == S.SparseTensorType("csc", dtype)
    w = rng.normal(size=(5, 3))
    cost = S.sp_sum(S.sqr(out) * w.astype(dtype))
    f = fc.function([m, values, ilist], [out, fc.grad(cost, values)])
    vals, index = rng.normal(size=(4, 3)).astype(dtype), np.array([1, 4, 1, -1])
    got, gv = f(np.zeros((5, 3), dtype), vals, index)
    want = np.zeros((5, 3))
    np.add.at(want, index, vals)
    _same_matrix(got, want, "csc", dtype)

    def cost_of(v: np.ndarray) -> float:
        z = np.zeros((5, 3))
        np.add.at(z, index, v)
        return float((z**2 * w).sum())

    np.testing.assert_allclose(gv, fd_gradient(cost_of, vals.astype("float64")), rtol=1e-3, atol=1e-3)
    assert gv.dtype == dtype
    with pytest.raises(IndexError, match="ConstructSparseFromList: a row index"):
        f(np.zeros((5, 3), dtype), vals, np.array([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="one row of"):
        f(np.zeros((5, 3), dtype), vals, index[:2])


def test_construct_sparse_from_list_matches_pytensor() -> None:
    pt = pytest.importorskip("pytensor")
    import pytensor.sparse as PS
    import pytensor.tensor as pt_t

    vals, index = np.arange(6.0).reshape(2, 3), np.array([3, 0])
    m, v = pt_t.dmatrix("m"), pt_t.dmatrix("v")
    want = pt.function([m, v], PS.construct_sparse_from_list(m, v, index), mode="FAST_COMPILE")(
        np.zeros((4, 3)), vals
    )
    fm, fv = ft.dmatrix("m"), ft.dmatrix("v")
    got = fc.function([fm, fv], S.construct_sparse_from_list(fm, fv, index))(np.zeros((4, 3)), vals)
    _same_matrix(got, want, "csc", "float64")


# -- structured functions ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_structured_minimum_maximum_rint(fmt: str) -> None:
    rng = np.random.default_rng(13)
    a = _rand(rng, (4, 5), fmt)
    a.data[0] = 2.5  # rint: half to even
    x = S.matrix(fmt, "x")
    outs = [S.structured_minimum(x, 0.5), S.structured_maximum(x, -0.5), S.rint(x), S.abs(x), S.conj(x)]
    got = fc.function([x], outs)(a)
    for fn, g in zip(
        [lambda d: np.minimum(d, 0.5), lambda d: np.maximum(d, -0.5), np.rint, np.abs, np.conj], got
    ):
        want = a.copy()
        want.data = fn(a.data)
        _same_matrix(g, want, fmt, "float64")
        assert g.nnz == a.nnz  # structured: unstored zeros stay unstored (max(0, -0.5) is 0)
    cost = S.sp_sum(
        S.structured_minimum(x, 0.5) * 2.0 + S.sqr(S.structured_maximum(x, -0.5)), sparse_grad=True
    )
    g = fc.function([x], fc.grad(cost, x))(a)
    numeric = _sparse_fd(lambda m: (2 * np.minimum(m.data, 0.5) + np.maximum(m.data, -0.5) ** 2).sum(), a)
    np.testing.assert_allclose(g.toarray(), numeric, rtol=1e-5, atol=1e-7)


def test_structured_conjugate_of_complex_values() -> None:
    a = sp.csr_matrix(np.array([[1 + 2j, 0], [0, -3j]]))
    x = S.matrix("csr", "x", "complex128")
    got = fc.function([x], S.structured_conjugate(x))(a)
    _same_matrix(got, a.conj(), "csr", "complex128")


def test_structured_elemwise_decorator() -> None:
    @S.structured_elemwise(ft.mul)
    def scale(x, y):
        """Stored values times ``y``."""

    assert scale.__name__ == "scale" and "times" in scale.__doc__
    a = _rand(np.random.default_rng(14), (3, 4), "csr")
    x = S.csr_matrix("x", dtype="float64")
    _same_matrix(fc.function([x], scale(x, 3.0))(a), a * 3.0, "csr", "float64")


# -- casts and PyTensor's names ------------------------------------------------------------------
def test_casts_and_comparison_names() -> None:
    a = _rand(np.random.default_rng(15), (3, 4), "csc")
    x = S.csc_matrix("x", dtype="float64")
    casts = {"bcast": "int8", "wcast": "int16", "icast": "int32", "lcast": "int64"}
    casts.update({"fcast": "float32", "dcast": "float64", "ccast": "complex64", "zcast": "complex128"})
    outs = [getattr(S, name)(x) for name in casts]
    assert [o.type for o in outs] == [S.SparseTensorType("csc", d) for d in casts.values()]
    for got, dtype in zip(fc.function([x], outs)(a), casts.values()):
        _same_matrix(got, a.astype(dtype), "csc", dtype)
    y, d = S.csc_matrix("y", dtype="float64"), ft.dmatrix("d")
    b, dense = _rand(np.random.default_rng(16), (3, 4), "csc"), np.random.default_rng(17).normal(size=(3, 4))
    names = ["equal", "not_equal", "less_than", "greater_than", "less_equal", "greater_equal"]
    ops = [np.equal, np.not_equal, np.less, np.greater, np.less_equal, np.greater_equal]
    outs = [getattr(S, f"{n}_s_s")(x, y) for n in names] + [getattr(S, f"{n}_s_d")(x, d) for n in names]
    got = fc.function([x, y, d], outs)(a, b, dense)
    for k, op in enumerate(ops):
        _same_matrix(got[k], op(a.toarray(), b.toarray()), "csc", "uint8")
        np.testing.assert_array_equal(got[k + 6], op(a.toarray(), dense).astype("uint8"))
    assert S.as_symbolic_sparse(a).type == S.SparseTensorType("csc", "float64")


def test_pytensor_sparse_names_are_provided() -> None:
    """Every public function and op instance of PyTensor's sparse namespace has a name here but
    for those this module documents as left out (other formats, op classes of its own split)."""
    pytest.importorskip("pytensor")
    import pytensor.sparse as PS

    left_out = {"bsr_matrix", "bsr_dmatrix", "bsr_fmatrix", "csm_grad", "sdg_csr", "sdg_csc"}
    missing = []
    for name in dir(PS):
        obj = getattr(PS, name)
        module = getattr(obj, "__module__", None) or type(obj).__module__
        if name.startswith("_") or not str(module).startswith("pytensor.sparse") or isinstance(obj, type):
            continue
        if name not in left_out and not hasattr(S, name):
            missing.append(name)
    assert missing == []


def test_get_item_2d_takes_pytensor_form() -> None:
    a = _rand(np.random.default_rng(18), (5, 4), "csr")
    x = S.csr_matrix("x", dtype="float64")
    got = fc.function([x], S.get_item_2d(x, [slice(1, 4), np.array([3, 0])]))(a)
    _same_matrix(got, a.toarray()[1:4][:, [3, 0]], "csr", "float64")


# -- DebugMode on sparse values --------------------------------------------------------------------
class _SparseOp(Op):
    """A sparse op that goes wrong as ``how`` says: "noisy" (other values at each run),
    "writes" (into its input), "view" (returns its input's arrays), "format" (a csc matrix
    for a csr output), "dtype", "dense" (an array), "parts" (an index out of range)."""

    __props__ = ("how",)

    def __init__(self, how: str) -> None:
        self.how = how

    def make_node(self, x: object) -> Apply:
        x = S.as_sparse_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list) -> list:
        (x,) = inputs
        z = x.copy()
        if self.how == "noisy":
            z.data += np.random.default_rng().uniform(0.1, 1.0, z.nnz)
        elif self.how == "writes":
            x.data *= 2
        elif self.how == "view":
            z = sp.csr_matrix((x.data, x.indices, x.indptr), shape=x.shape)
        elif self.how == "format":
            z = z.tocsc()
        elif self.how == "dtype":
            z = z.astype("float32")
        elif self.how == "dense":
            z = z.toarray()
        elif self.how == "parts":
            z.indices[0] = x.shape[1]
        return [z]


class _NoisyDense(Op):
    """A dense op whose perform is not deterministic (the C run-time's run of it disagrees)."""

    __props__ = ()

    def make_node(self, x: object) -> Apply:
        x = ft.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list) -> list:
        return [inputs[0] + np.random.default_rng().uniform(0.1, 1.0, inputs[0].shape)]


def test_debug_mode_checks_sparse_values() -> None:
    a = _rand(np.random.default_rng(19), (4, 5), "csr")
    x, v = S.csr_matrix("x", dtype="float64"), ft.dvector("v")
    outs = [
        S.sp_sum(S.sqr(x) * 2.0),
        S.structured_exp(S.clean(x)),
        S.dense_from_sparse(S.row_scale(x, v)) + 1,
    ]
    outs.append(fc.grad(outs[0] + outs[2].sum(), x))
    vals = fc.function([x, v], outs, mode=fc.DebugMode())(a, np.arange(4.0))
    for got, want in zip(vals, fc.function([x, v], outs)(a, np.arange(4.0))):
        if sp.issparse(want):
            _same_matrix(got, want, want.format, want.dtype)
        else:
            np.testing.assert_allclose(got, want)
    # nodes of sparse values, and dense ones in the same graph (compared with the C run-time)
    cases = [
        (
            "noisy",
            BadThunkOutput,
            r"two runs of the perform of _SparseOp\{noisy\}.*first difference at entry",
        ),
        ("writes", BadDestroyMap, r"_SparseOp\{writes\}'s perform changed its input 0"),
        ("view", BadViewMap, r"output 0 of _SparseOp\{view\} shares memory with its input 0"),
        ("format", InvalidValueError, r"is a csc csc_matrix of dtype float64, not a csr_matrix of float64"),
        ("dtype", InvalidValueError, r"of dtype float32, not a csr_matrix of float64"),
        ("dense", InvalidValueError, r"is a ndarray, not a scipy.sparse csr_matrix"),
        ("parts", InvalidValueError, r"whose parts are inconsistent"),
    ]
    for how, error, message in cases:
        f = fc.function([x], S.sp_sum(_SparseOp(how)(x * 2.0)), mode=fc.DebugMode())
        with pytest.raises(error, match=f"(?s){message}"):
            f(a)
    f = fc.function([x], _NoisyDense()(S.dense_from_sparse(x)) * 2, mode=fc.DebugMode())
    with pytest.raises(
        BadThunkOutput, match="the C run-time and the numpy perform disagree on output 0 of _NoisyDense"
    ):
        f(a)
    # check_isfinite reads the stored values
    with pytest.raises(InvalidValueError, match=r"NaN \(check_isfinite\)"):
        fc.function([x], S.structured_log(x), mode=fc.DebugMode())(a)
    assert np.isnan(
        fc.function([x], S.structured_log(x), mode=fc.DebugMode(check_isfinite=False))(a).data
    ).any()
    # without check_c_code nothing runs twice; without check_py_code, perform is the reference
    fc.function([x], S.sp_sum(_SparseOp("noisy")(x)), mode=fc.DebugMode(check_c_code=False))(a)
    g = fc.function([x], S.sp_sum(_SparseOp("noisy")(x)), mode=fc.DebugMode(check_py_code=False))
    with pytest.raises(BadThunkOutput, match="two runs of the perform"):
        g(a)


def test_sparse_disagreement_reads_every_stored_entry() -> None:
    from fncache.runtime.linker_debug import _sparse_disagreement

    names = ("first", "second")
    a = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan]]))
    b = a.copy()
    b.data[0] = 0.0  # stored as a zero
    assert _sparse_disagreement(a, a.copy(), names) is None  # NaN in the same place agrees
    assert "first difference at entry (0, 0): first 1.0, second 0.0" in _sparse_disagreement(a, b, names)
    c = a.copy()
    c.data[0] = 1 + 1e-9  # within float64's tolerance
    assert _sparse_disagreement(a, c, names) is None
    zero = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan]]))
    zero.data[0] = 0.0
    zero.eliminate_zeros()
    assert _sparse_disagreement(b, zero, names) is None  # a stored zero and no entry agree
    assert "csc" in _sparse_disagreement(a, a.tocsc(), names)
    assert _sparse_disagreement(sp.csr_matrix((2, 2)), sp.csr_matrix((2, 2)), names) is None


# -- cases of PyTensor's tests/sparse/test_basic.py ------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_two_index_lists_take_elements_as_numpy_and_pytensor(fmt: str) -> None:
    """``x[[0, 0, 1, 3], [0, 1, 2, 4]]`` pairs the lists, as numpy, scipy and PyTensor do
    (``get_item_2lists``): four elements, a dense vector, not a 4 x 4 part."""
    a = _rand(np.random.default_rng(20), (4, 5), fmt)
    x, r, c = S.matrix(fmt, "x"), ft.lvector("r"), ft.lvector("c")
    rows, cols = [0, 0, 1, 3], [0, 1, 2, 4]
    outs = [x[rows, cols], x[r, c], x[np.array(rows), cols]]
    assert all(o.type == ft.TensorType("float64", (None,)) for o in outs)
    f = fc.function([x, r, c], outs)
    for got in f(a, np.array(rows), np.array(cols)):
        np.testing.assert_array_equal(got, np.asarray(a[rows, cols]).ravel())
    for bad in ([0, 5], [0, 3]), ([0, 3], [0, 5]):
        with pytest.raises(IndexError, match="GetItem2Lists"):
            f(a, np.array(bad[0]), np.array(bad[1]))
    # a list beside a slice still takes rows (or columns) whole
    np.testing.assert_array_equal(fc.function([x], x[rows, 1:])(a).toarray(), a.toarray()[rows, 1:])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("ndim", [0, 1, 2])
def test_sparse_from_dense_of_fewer_dims(fmt: str, ndim: int) -> None:
    """A scalar or a vector made sparse is a 1 x 1 or 1 x n matrix, as scipy's (PyTensor's
    ``check_format_ndim``); its gradient has the dense operand's shape."""
    x = ft.TensorType("float64", (None,) * ndim)("x")
    s = S.SparseFromDense(fmt)(x)
    cost = S.dense_from_sparse(-s).sum() + S.sp_sum(S.sqr(s))
    f = fc.function([x], [s, fc.grad(cost, x)])
    values = [np.array(0.0, ndmin=ndim), np.array(7.0, ndmin=ndim)]
    if ndim:
        values.append(np.array([[-1.0, 0.0, 2.0]]).reshape((1, 3)[2 - ndim :]))
    for v in values:
        got, g = f(v)
        _same_matrix(got, getattr(sp, f"{fmt}_matrix")(v), fmt, "float64")
        assert g.shape == v.shape
        # structured through dense_from_sparse, as PyTensor's: nothing where no entry is stored
        np.testing.assert_allclose(g, np.where(v != 0, -1 + 2 * v, 0.0))
    with pytest.raises(TypeError, match="0, 1 or 2 dims"):
        S.csr_from_dense(ft.tensor3())


def test_pytensor_conversion_of_a_vector() -> None:
    pt = pytest.importorskip("pytensor")
    import pytensor.sparse as PS

    v = np.arange(1.0, 4.0)
    want = PS.csc_from_dense(pt.tensor.as_tensor_variable(v)).eval()
    got = S.csc_from_dense(ft.as_tensor_variable(v)).eval()
    _same_matrix(got, want, "csc", "float64")


@pytest.mark.parametrize("fmt", FORMATS)
def test_variable_methods_of_pytensor(fmt: str) -> None:
    """``x.size`` (stored entries, explicit zeros included, as scipy's ``size``), ``x.astype``,
    ``x.conj()``, ``x.zeros_like()`` (no entry stored, as PyTensor's ``sp_zeros_like``) and
    ``x.ones_like()``."""
    x = S.matrix(fmt, "x")
    f = fc.function(
        [x], [x.size, x.astype("float32"), x.conj(), x.zeros_like(), x.ones_like(), S.sp_zeros_like(x)]
    )
    y = getattr(sp, f"{fmt}_matrix")((5, 7))
    for change in (None, (0, 0, 1.0), (0, 1, 0.0)):  # an entry, then an explicit zero
        if change:
            with warnings.catch_warnings():  # a new entry in a csr or csc matrix: a warning
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                y[change[0], change[1]] = change[2]
        size, as32, conj, zeros, ones, zeros2 = f(y)
        assert size == y.size
        _same_matrix(as32, y, fmt, "float32")
        _same_matrix(conj, y, fmt, "float64")
        for z in (zeros, zeros2):
            _same_matrix(z, np.zeros((5, 7)), fmt, "float64")
            assert z.nnz == 0
        stored = y.tocoo()
        want = np.zeros(y.shape)
        want[stored.row, stored.col] = 1.0  # a 1 at every stored entry, the explicit zero's too
        _same_matrix(ones, want, fmt, "float64")


@pytest.mark.parametrize("fmt", FORMATS)
def test_dot_with_a_dense_vector(fmt: str) -> None:
    """``dot(x, v)`` and ``dot(v, x)`` with a dense vector: a dense vector, as numpy's and
    PyTensor's (its ``TestDots.test_csr_dense``), through ``ft.dot`` and ``@`` too; the
    gradients are regular."""
    rng = np.random.default_rng(21)
    a = _rand(rng, (10, 20), fmt)
    x, v, u = S.matrix(fmt, "x"), ft.dvector("v"), ft.dvector("u")
    outs = [S.dot(x, v), S.dot(u, x), ft.dot(x, v), x @ v, u @ x]
    assert all(o.type == ft.TensorType("float64", (None,)) for o in outs)
    cost = (ft.sin(outs[0]) * 2.0).sum() + (outs[1] ** 2).sum()
    f = fc.function([x, v, u], [*outs, *fc.grad(cost, [x, v, u])])
    vv, uv = rng.normal(size=20), rng.normal(size=10)
    *got, gx, gv, gu = f(a, vv, uv)
    A = a.toarray()
    for g, want in zip(got, [A @ vv, uv @ A, A @ vv, A @ vv, uv @ A]):
        np.testing.assert_allclose(g, want, rtol=1e-12)

    def ref(m: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
        return float((np.sin(m @ p) * 2.0).sum() + ((q @ m) ** 2).sum())

    assert gx.format == fmt and gx.dtype == "float64"
    np.testing.assert_allclose(gx.toarray(), fd_gradient(lambda m: ref(m, vv, uv), A), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gv, fd_gradient(lambda p: ref(A, p, uv), vv), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gu, fd_gradient(lambda q: ref(A, vv, q), uv), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="matrices or vectors"):
        S.dot(x, ft.tensor3())


def test_conjugate_of_real_values_is_the_matrix() -> None:
    x = S.csr_matrix("x", dtype="float64")
    assert x.conj() is x and S.conj(x) is x
    z = S.csr_matrix("z", dtype="complex128")
    assert z.conj() is not z


_UNARY = ["__ceil__", "__floor__", "__trunc__", "any", "all", "flatten", "ravel", "arccos", "arcsin"]
_UNARY += ["arctan", "arccosh", "arcsinh", "arctanh", "ceil", "cos", "cosh", "deg2rad", "exp", "exp2"]
_UNARY += ["expm1", "floor", "log", "log10", "log1p", "log2", "rad2deg", "sin", "sinh", "sqrt", "tan"]
_UNARY += ["tanh", "copy", "prod", "mean", "var", "std", "min", "max", "argmin", "argmax", "nonzero"]
_UNARY += ["nonzero_values", "argsort", "round", "trace", "cumsum", "cumprod", "ptp", "squeeze", "diagonal"]


@pytest.mark.parametrize("method", _UNARY)
def test_methods_computed_on_the_dense_form(method: str) -> None:
    """PyTensor's ``TestSparseVariable.test_unary``: a method a sparse variable does not define
    computes on its dense form, with a warning, and gives numpy's values."""
    x = S.csr_from_dense(ft.dmatrix("x"))
    with pytest.warns(UserWarning, match="converted to dense"):
        z = getattr(x, method)()
    outs = list(z) if isinstance(z, tuple) else [z]
    assert all(isinstance(o.type, ft.TensorType) for o in outs)
    value = np.array([[1.1, 0.0, 2.0], [-1.0, 0.0, 0.0]])
    with np.errstate(all="ignore"):
        got = fc.function([x.owner.inputs[0]], outs)(value)
        if method in ("nonzero_values",):
            want = [value[value != 0]]
        elif method.startswith("__"):
            want = [getattr(np, method.strip("_"))(value)]
        else:
            want = getattr(np, method)(value) if hasattr(np, method) else getattr(value, method)()
            want = list(want) if isinstance(want, tuple) else [want]
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, w, equal_nan=True)


@pytest.mark.parametrize(
    "method",
    ["__and__", "__or__", "__xor__", "__pow__", "__mod__", "__divmod__", "__truediv__", "__floordiv__"],
)
def test_binary_methods_computed_on_the_dense_form(method: str) -> None:
    x, y = ft.lmatrix("x"), ft.lmatrix("y")
    xs, ys = S.csr_from_dense(x), S.csr_from_dense(y)
    with pytest.warns(UserWarning, match="converted to dense"):
        z = getattr(xs, method)(ys)
    outs = list(z) if isinstance(z, tuple) else [z]
    a, b = np.array([[1, 0, 2], [-1, 0, 0]]), np.array([[1, 1, 2], [1, 4, 1]])
    got = fc.function([x, y], outs)(a, b)
    want = getattr(operator, method)(a, b) if method != "__divmod__" else divmod(a, b)
    for g, w in zip(got, want if isinstance(want, tuple) else [want]):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, w)


def test_reshape_dimshuffle_repeat_on_the_dense_form() -> None:
    x = ft.dmatrix("x")
    xs = S.csr_from_dense(x)
    with pytest.warns(UserWarning, match="converted to dense"):
        outs = [xs.reshape((3, 2)), xs.dimshuffle((1, 0)), xs.repeat(2, axis=1)]
    value = np.array([[1.1, 0.0, 2.0], [-1.0, 0.0, 0.0]])
    got = fc.function([x], outs)(value)
    for g, w in zip(got, [value.reshape((3, 2)), value.T, value.repeat(2, axis=1)]):
        np.testing.assert_array_equal(g, w)
    # what a sparse variable defines stays sparse, with no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = [
            xs[:, :2],
            xs.T,
            xs * 2.0,
            -xs,
            xs.sum(),
            xs.zeros_like(),
            xs.ones_like(),
            xs.astype("float32"),
        ]
    assert [S.is_sparse_variable(k) for k in kept] == [True] * 4 + [False] + [True] * 3  # sum is dense


def test_sparse_grad_of_rows_taken_by_a_vector() -> None:
    """PyTensor's ``TestConstructSparseFromList``: ``sparse_grad(m[v])`` takes the same rows,
    and its gradient with respect to ``m`` is a csc matrix (the dense one without it), summed
    with a dense gradient where another path gives one."""
    m, v = ft.dmatrix("m"), ft.lvector("v")
    with pytest.raises(TypeError, match="sparse_grad: expected rows"):
        S.sparse_grad(v)
    with pytest.raises(TypeError, match="sparse_grad: expected rows"):
        S.sparse_grad(m[v, v])
    with pytest.raises(TypeError, match="sparse_grad: expected rows"):
        S.sparse_grad(ft.tensor3("t")[v])
    assert not S.is_sparse_variable(fc.grad(m[v].sum(), m))  # not by default
    sub = S.sparse_grad(m[v])
    cost = (ft.sin(sub) * 3.0).sum()
    g = fc.grad(cost, m)
    assert g.type == S.SparseTensorType("csc", "float64")
    both = fc.grad(cost + (m**2).sum(), m)
    rng = np.random.default_rng(22)
    mv, iv = rng.normal(size=(5, 4)), np.array([4, 0, 4, -1])
    taken, gv, bothv = fc.function([m, v], [sub, g, both])(mv, iv)
    np.testing.assert_array_equal(taken, mv[iv])
    want = fd_gradient(lambda a: float((np.sin(a[iv]) * 3.0).sum()), mv)
    _same_matrix(gv, want, "csc", "float64")
    np.testing.assert_allclose(bothv, want + 2 * mv, rtol=1e-6, atol=1e-8)
    with pytest.raises(IndexError, match="SparseGradTake: a row index"):
        fc.function([m, v], sub)(mv, np.array([5]))
    # an embedding's update, as PyTensor's users write it: dense minus the sparse gradient
    emb = fc.shared(np.ones((5, 3)), name="emb")
    step = fc.function([v], [], updates={emb: emb - 0.1 * fc.grad((S.sparse_grad(emb[v]) ** 2).sum(), emb)})
    step(np.array([0, 2, 2]))
    np.testing.assert_allclose(emb.get_value(), np.ones((5, 3)) - 0.2 * np.array([1, 0, 2, 0, 0])[:, None])


def test_sparse_grad_matches_pytensor() -> None:
    pt = pytest.importorskip("pytensor")
    import pytensor.sparse as PS
    import pytensor.tensor as pt_t

    mv, iv = np.arange(12.0).reshape(4, 3), np.array([1, 3, 1])
    pm = pt_t.dmatrix("m")
    want = pt.function([pm], pt.grad((PS.sparse_grad(pm[iv]) ** 2).sum(), pm), mode="FAST_COMPILE")(mv)
    m = ft.dmatrix("m")
    got = fc.function([m], fc.grad((S.sparse_grad(m[iv]) ** 2).sum(), m))(mv)
    _same_matrix(got, want, "csc", "float64")


@pytest.mark.parametrize(("d1", "d2"), [("float64", "int8"), ("int8", "float64"), ("float32", "float64")])
def test_add_and_mul_of_mixed_dtypes_and_formats(d1: str, d2: str) -> None:
    """PyTensor's ``TestAddMul``: sparse with sparse (any two formats) and with a dense
    operand on either side (an array, a constant, a shared variable)."""
    a1, a2 = np.array([[1.0, 0], [3, 0], [0, 6]]), np.array([[0, 2.0], [0, 4], [5, 0]])
    for f1, f2 in [("csr", "csc"), ("csc", "csr"), ("csr", "csr")]:
        a = S.as_sparse_variable(getattr(sp, f"{f1}_matrix")(a1).astype(d1))
        b = S.as_sparse_variable(getattr(sp, f"{f2}_matrix")(a2).astype(d2))
        s, p = fc.function([], [S.add(a, b), S.mul(a, b)])()
        _same_matrix(s, a1 + a2, f1, np.result_type(d1, d2).name)
        _same_matrix(p, a1 * a2, f1, np.result_type(d1, d2).name)
        for dense in (a1.astype(d1), ft.as_tensor_variable(a1.astype(d1)), fc.shared(a1.astype(d1))):
            s1, s2, p1, p2 = fc.function(
                [], [S.add(dense, b), S.add(b, dense), S.mul(dense, b), S.mul(b, dense)]
            )()
            np.testing.assert_array_equal(s1, a1 + a2)
            np.testing.assert_array_equal(s2, a1 + a2)
            for prod in (p1, p2):
                _same_matrix(prod, a1 * a2, f2, np.result_type(d1, d2).name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_comparisons_with_a_dense_operand_first(fmt: str) -> None:
    """PyTensor's ``TestComparison``: ``gt(dense, sparse)`` and the others, and all-zero
    operands (``test_equality_case``)."""
    rng = np.random.default_rng(23)
    m, d = _rand(rng, (10, 40), fmt), rng.uniform(-1000, 1000, (10, 40))
    x, y = S.matrix(fmt, "x"), ft.dmatrix("y")
    ops = {"gt": np.greater, "lt": np.less, "ge": np.greater_equal, "le": np.less_equal}
    got = fc.function([y, x], [getattr(S, n)(y, x) for n in ops])
    for res, ref in zip(got(d, m), ops.values()):
        np.testing.assert_array_equal(res, ref(d, m.toarray()).astype("uint8"))
    for res, ref in zip(got(np.zeros((2, 2)), getattr(sp, f"{fmt}_matrix")((2, 2))), ops.values()):
        np.testing.assert_array_equal(res, ref(np.zeros((2, 2)), 0).astype("uint8"))


def test_structured_dot_true_dot_and_sampling_dot_dtypes() -> None:
    """PyTensor's ``TestStructuredDot.test_upcast``, ``TestTrueDot`` and
    ``TestSamplingDot.test_negative_stride``: the result's dtype is numpy's upcast and its
    values scipy's, for integer, float and complex operands."""
    rng = np.random.default_rng(24)
    mask = rng.random((4, 3)) < 0.5
    for sd, dd in [
        ("int8", "float32"),
        ("int64", "int16"),
        ("float32", "complex64"),
        ("complex128", "float64"),
    ]:
        a, b = S.SparseTensorType("csc", sd)("a"), ft.matrix("b", dtype=dd)
        sm = sp.csc_matrix((rng.integers(1, 9, (4, 3)) * mask).astype(sd))
        mat = (rng.standard_normal((3, 5)) * 9).astype(dd)
        want = sm @ mat
        sdot, tdot = fc.function([a, b], [S.structured_dot(a, b), S.true_dot(a, b)])(sm, mat)
        assert sdot.dtype == want.dtype and tdot.dtype == want.dtype and tdot.format == "csc"
        np.testing.assert_allclose(sdot, want, rtol=1e-5)
        np.testing.assert_allclose(tdot.toarray(), want, rtol=1e-5)
    x, y, p = ft.dmatrix("x"), ft.dmatrix("y"), S.csr_matrix("p", dtype="float64")
    xv, yv = rng.integers(0, 5, (4, 3)).astype(float), rng.integers(0, 5, (5, 3)).astype(float)
    pv = sp.csr_matrix(rng.integers(0, 2, (4, 5)).astype(float))
    got = fc.function([x, y, p], S.sampling_dot(x, y, p))(xv[::-1], yv[:, ::-1], pv)
    _same_matrix(got, pv.multiply(xv[::-1] @ yv[:, ::-1].T), "csr", "float64")


@pytest.mark.parametrize("fmt", FORMATS)
def test_remove0_and_clean_of_explicit_zeros(fmt: str) -> None:
    """PyTensor's ``TestRemove0`` and ``TestClean``: explicit zeros (stored by setting entries
    to 0) are removed, and their sizes are scipy's after ``eliminate_zeros``."""
    a = _rand(np.random.default_rng(25), (6, 8), fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        a[0, 0] = a[1, 1] = 0.0
    assert 0 in a.data
    x = S.matrix(fmt, "x")
    r0, cl, size = fc.function([x], [S.remove0(x), S.clean(x), x.size])(a)
    assert size == a.size
    want = a.copy()
    want.eliminate_zeros()
    for got in (r0, cl):
        _same_matrix(got, want, fmt, "float64")
        assert got.size == want.size and 0 not in got.data


def test_a_sparse_shared_variable_keeps_allow_downcast_as_a_dense_one_does():
    """``shared(csr, allow_downcast=True)``: a later value of a wider dtype is cast to the
    variable's (it was dropped: set_value refused it as without the argument); without it the
    cast is refused naming the variable and the old value kept; a pickle keeps the setting."""
    import pickle

    small = sp.csr_matrix(np.eye(3, dtype="float32"))
    wide = sp.csr_matrix(2 * np.eye(3))  # float64
    lax = fc.shared(small, name="lax", allow_downcast=True)
    lax.set_value(wide)
    assert lax.get_value().dtype == np.float32
    np.testing.assert_array_equal(lax.get_value().toarray(), 2 * np.eye(3))
    again = pickle.loads(pickle.dumps(lax))
    again.set_value(3 * wide)
    assert again.get_value().dtype == np.float32 and again.allow_downcast is True
    strict = fc.shared(small, name="kept")
    with pytest.raises(TypeError, match="kept"):
        strict.set_value(wide)
    np.testing.assert_array_equal(strict.get_value().toarray(), np.eye(3))
