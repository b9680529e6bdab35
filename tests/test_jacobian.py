"""``ft.jacobian`` and ``ft.hessian`` of expressions whose sizes are known only at run time
(``ft.dvector``): one compiled function for every length (0 included), checked against central
finite differences and analytic derivatives in float64, under the C runner and the Python
linker, pickled, and keyed the same in every process."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.tensor.jacobian_rows import JacobianRows

from fcutil import fd_jacobian, keys_in_fresh_processes


def _compiles() -> int:
    return int(fc.cache.stats()["compiles"])


def _rows_nodes(f) -> list:
    return [n for n in f.optimized_graph.toposort() if isinstance(n.op, JacobianRows)]


@pytest.mark.parametrize("linker", ["c", "py"])
def test_vector_to_vector_every_length_from_one_function(linker: str) -> None:
    x = ft.dvector("x")
    y = ft.exp(x) * x[::-1] + ft.sin(x).sum() * x
    mode = fc.Mode(linker)
    f = fc.function([x], ft.jacobian(y, x), mode=mode)
    fwd = fc.function([x], y, mode=mode)
    (node,) = _rows_nodes(f)
    inner = node.tag["inner_function"]
    assert inner.mode.linker == linker
    before = _compiles()
    rng = np.random.default_rng(1)
    for n in (0, 1, 7, 3):
        v = rng.uniform(-1, 1, n)
        got = f(v)
        assert got.shape == (n, n) and got.dtype == np.float64
        want = np.diag(np.exp(v) * v[::-1]) + np.exp(v)[:, None] * np.eye(n)[::-1]
        want += np.diag(np.full(n, np.sin(v).sum())) + np.outer(v, np.cos(v))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got, fd_jacobian(fwd, [v], 0), rtol=1e-6, atol=1e-8)
    # different sizes at run time, nothing compiled again: one inner function, no new entry
    assert _compiles() == before
    assert node.tag["inner_function"] is inner


def test_matrix_and_several_wrt() -> None:
    m, x, s = ft.dmatrix("m"), ft.dvector("x"), ft.dscalar("s")
    vec_of_matrix = ft.tanh(ft.dot(m, x)) * s  # matrix -> vector
    mat_of_vector = ft.outer(ft.sin(x), x) + s**2  # vector -> matrix
    jm = ft.jacobian(vec_of_matrix, [m, x, s])
    jv = ft.jacobian(mat_of_vector, [x, s])
    f = fc.function([m, x, s], [*jm, *jv])
    fwd_vm = fc.function([m, x, s], vec_of_matrix)
    fwd_mv = fc.function([m, x, s], mat_of_vector, on_unused_input="ignore")
    rng = np.random.default_rng(2)
    for rows, cols in ((3, 4), (1, 1), (0, 2), (2, 0)):
        args = [rng.uniform(-1, 1, (rows, cols)), rng.uniform(-1, 1, cols), np.asarray(0.7)]
        got = f(*args)
        shapes = [(rows, rows, cols), (rows, cols), (rows,), (cols, cols, cols), (cols, cols)]
        assert [g.shape for g in got] == shapes
        for g, j in zip(got[:3], (0, 1, 2)):
            np.testing.assert_allclose(g, fd_jacobian(fwd_vm, args, j), rtol=1e-6, atol=1e-8)
        for g, j in zip(got[3:], (1, 2)):
            np.testing.assert_allclose(g, fd_jacobian(fwd_mv, args, j), rtol=1e-6, atol=1e-8)


def test_static_shapes_keep_their_types_and_float32() -> None:
    x = ft.tensor("x", "float64", shape=(20,))
    j = ft.jacobian(x**2, x)
    assert j.type.shape == (20, 20)
    v = np.linspace(-1, 1, 20)
    np.testing.assert_allclose(fc.function([x], j)(v), np.diag(2 * v), rtol=1e-12)
    xf = ft.fvector("xf")
    jf = ft.jacobian(xf * xf, xf)
    assert jf.dtype == "float32"
    got = fc.function([xf], jf)(np.arange(3, dtype="float32"))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.diag([0.0, 2.0, 4.0]).astype("float32"))


@pytest.mark.parametrize("linker", ["c", "py"])
def test_hessian_of_a_dvector_cost(linker: str) -> None:
    x = ft.dvector("x")
    cost = ft.sum(ft.exp(x) * x) + ft.sum(x) ** 2
    h = ft.hessian(cost, x)
    f = fc.function([x], h, mode=fc.Mode(linker))
    g = fc.function([x], ft.grad(cost, x))
    for n in (0, 1, 5):
        v = np.linspace(-1, 1.5, n)
        got = f(v)
        want = np.diag(np.exp(v) * (2 + v)) + 2.0
        assert got.shape == (n, n)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(got, fd_jacobian(g, [v], 0), rtol=1e-6, atol=1e-8)


def test_shared_variables_and_an_intermediate_wrt() -> None:
    w = fc.shared(np.array([0.5, -1.0, 2.0]), name="w")
    x = ft.dvector("x")
    h = ft.sin(x)
    y = w * h * ft.sum(h)
    jw, jh = ft.jacobian(y, [w, h])
    f = fc.function([x], [jw, jh])
    v = np.array([0.1, 0.4, -0.3])
    hv, wv = np.sin(v), w.get_value()
    got = f(v)
    np.testing.assert_allclose(got[0], np.diag(hv * hv.sum()), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.diag(wv * hv.sum()) + np.outer(wv * hv, np.ones(3)), rtol=1e-12)
    w.set_value(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(f(v)[0], np.diag(hv * hv.sum()), rtol=1e-12)


@pytest.mark.verify_hits
def test_pickle_round_trip_and_the_same_key(tmp_path) -> None:
    def build():
        x, m = ft.dvector("x"), ft.dmatrix("m")
        return fc.function([x, m], [ft.jacobian(ft.dot(m, ft.tanh(x)), x), ft.hessian(ft.sum(x**4), x)])

    f1, f2 = build(), build()
    assert f1.cache_key == f2.cache_key
    g = pickle.loads(pickle.dumps(f1))
    assert g.cache_key == f1.cache_key
    for n in (0, 4):
        args = (np.linspace(-1, 1, n), np.arange(2.0 * n).reshape(2, n))
        for got, want in zip(g(*args), f1(*args)):
            np.testing.assert_array_equal(got, want)
    # the op's identity is recomputed from its inner graph where it is loaded
    (node,) = _rows_nodes(g)[:1]
    op = pickle.loads(pickle.dumps(node.op))
    assert op == node.op and op.inner_key == node.op.inner_key and "functions" not in op.__getstate__()


KEY_CODE = """
import fncache as fc
from fncache import tensor as ft
x, m = ft.dvector("x"), ft.dmatrix("m")
c = ft.sum(ft.exp(ft.dot(m, x)))
print(fc.function([x, m], [*ft.jacobian(ft.dot(m, x) * x.sum(), [x, m]), ft.hessian(c, x)]).cache_key)
"""


def test_cache_key_is_the_same_in_every_process(tmp_path) -> None:
    keys = keys_in_fresh_processes(KEY_CODE, tmp_path, 2)
    assert len(keys) == 1 and len(keys.pop().strip()) > 10


def test_consider_constant_and_disconnected_inputs() -> None:
    x, y = ft.dvector("x"), ft.dvector("y")
    h = ft.sin(x)
    e = h * x
    j_const = ft.jacobian(e, x, consider_constant=[h])
    f = fc.function([x], [ft.jacobian(e, x), j_const])
    v = np.array([0.3, -0.8])
    full, const = f(v)
    np.testing.assert_allclose(full, np.diag(np.cos(v) * v + np.sin(v)), rtol=1e-12)
    np.testing.assert_allclose(const, np.diag(np.sin(v)), rtol=1e-12)
    with pytest.raises(ValueError, match="does not depend on y"):
        ft.jacobian(x * 2, [x, y])
    with pytest.raises(ValueError, match="does not depend on y"):
        ft.hessian(ft.sum(x**2), y)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        jy_warn = ft.jacobian(x * 2, y, disconnected_inputs="warn")
    assert any("does not depend on y" in str(m.message) for m in w)
    jx, jy = ft.jacobian(x * 2, [x, y], disconnected_inputs="ignore")
    g = fc.function([x, y], [jx, jy, jy_warn])
    got = g(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(got[0], 2 * np.eye(2))
    np.testing.assert_array_equal(got[1], np.zeros((2, 3)))
    np.testing.assert_array_equal(got[2], np.zeros((2, 3)))


def test_refusals_name_the_input() -> None:
    x = ft.dvector("x")
    with pytest.raises(TypeError, match="hessian: cost must be a scalar"):
        ft.hessian(x**2, x)
    with pytest.raises(TypeError, match="dtype int64"):
        ft.jacobian(x * 2, ft.lvector("i"))


def test_a_row_of_the_wrong_shape_is_an_error_naming_it() -> None:
    """The op promises rows of its row-shape inputs' shapes; the run-time's loop checks each."""
    from fncache.graph.fgraph import FunctionGraph

    k, v = ft.lscalar("k"), ft.dvector("v")
    op = JacobianRows(FunctionGraph([k, v], [v * ft.cast(k, "float64")]))
    rows, like, val = ft.dvector("rows"), ft.dvector("like"), ft.dvector("val")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = fc.function([rows, like, val], op(rows, like, val), mode=mode)
        np.testing.assert_array_equal(f(np.zeros(3), np.zeros(2), np.ones(2)), [[0, 0], [1, 1], [2, 2]])
        with pytest.raises(ValueError, match=r"row 0 of output 0 is float64\[2\], expected float64\[3\]"):
            f(np.zeros(3), np.zeros(3), np.ones(2))


def test_an_error_in_a_row_is_the_row_function_s_own() -> None:
    """The run-time runs a compiled row function's program itself, row by row: an error in a
    row is the one a call of that function raises, naming the same node."""
    from fncache.graph.fgraph import FunctionGraph

    k, v = ft.lscalar("k"), ft.dvector("v")
    op = JacobianRows(FunctionGraph([k, v], [v * v[k + 1]]))
    rows, like, val = ft.dvector("rows"), ft.dvector("like"), ft.dvector("val")
    with fc.config.change_flags(exception_verbosity="high"):
        f = fc.function([rows, like, val], op(rows, like, val))
        np.testing.assert_array_equal(f(np.zeros(2), np.zeros(3), np.arange(3.0)), [[0, 1, 2], [0, 2, 4]])
        with pytest.raises(IndexError) as direct:
            _rows_nodes(f)[0].tag["inner_function"](np.int64(2), np.arange(3.0))
        with pytest.raises(IndexError) as in_rows:
            f(np.zeros(3), np.zeros(3), np.arange(3.0))
    assert "index 3 is out of bounds" in str(direct.value) and "Subtensor" in str(direct.value)
    assert str(in_rows.value) == str(direct.value)


def test_the_run_time_row_loop() -> None:
    """rows() calls any callable once per row: rows it returns contiguous or strided are
    stored, a row of the wrong shape or dtype goes to on_bad, anything else is an error."""
    from fncache.codegen.c_linker import runtime

    rt = runtime()
    f64 = (np.dtype("float64").num,)
    like, a = np.zeros(2), np.arange(4.0)

    def never(*args):
        raise AssertionError(f"on_bad{args}")

    def bad(k, j, *args):
        raise ValueError(f"bad row {k} of output {j}")

    (out,) = rt.rows(lambda k, a: [a[:2] * k], f64, never, np.zeros(4), like, a)
    np.testing.assert_array_equal(out, [[0, 0], [0, 1], [0, 2], [0, 3]])
    (out,) = rt.rows(lambda k, a: [a[::2] + k], f64, never, np.zeros(4), like, a)
    np.testing.assert_array_equal(out, [[0, 2], [1, 3], [2, 4], [3, 5]])
    (out,) = rt.rows(lambda k, a: [a[k % 2 :: 2]], f64, never, np.zeros(4), like, a)
    np.testing.assert_array_equal(out, [[0, 2], [1, 3], [0, 2], [1, 3]])  # strided rows
    with pytest.raises(ValueError, match="bad row 1 of output 0"):
        rt.rows(lambda k, a: [a[: 2 + int(k)]], f64, bad, np.zeros(4), like, a)
    with pytest.raises(ValueError, match="bad row 0 of output 0"):
        rt.rows(lambda k: [np.zeros(2, np.float32)], f64, bad, np.zeros(4), like)
    with pytest.raises(TypeError, match="expected a list of 1 arrays"):
        rt.rows(lambda k: np.zeros(2), f64, never, np.zeros(4), like)
    with pytest.raises(ZeroDivisionError):
        rt.rows(lambda k: [np.zeros(2) / 0 if k else 1 // 0], f64, never, np.zeros(4), like)


def test_the_run_time_rows_of_a_node() -> None:
    """rows(): a JacobianRows node's outputs, allocated and filled by the run-time (what the C
    linker calls for the node): shapes from the row-shape inputs, no rows, several outputs, a
    row of the wrong kind reported through on_bad, and arguments that do not fit refused."""
    from fncache.codegen.c_linker import runtime

    rt = runtime()
    f64, f32 = np.dtype("float64").num, np.dtype("float32").num

    def never(*args):
        raise AssertionError(f"on_bad{args}")

    got = rt.rows(
        lambda k, a: [a * k, np.float32(k) + np.zeros((2, 1), np.float32)],
        (f64, f32),
        never,
        np.zeros(3),
        np.zeros(4),
        np.zeros((2, 1)),
        np.arange(4.0),
    )
    assert [g.dtype for g in got] == [np.float64, np.float32]
    np.testing.assert_array_equal(got[0], np.outer(np.arange(3.0), np.arange(4.0)))
    np.testing.assert_array_equal(
        got[1], np.arange(3.0, dtype=np.float32)[:, None, None] + np.zeros((3, 2, 1))
    )
    strided = np.arange(8.0)[::-2]  # read by every row: made contiguous once, same rows
    got = rt.rows(lambda k, a: [a * k], (f64,), never, np.zeros(3), np.zeros(4), strided)
    np.testing.assert_array_equal(got[0], np.outer(np.arange(3.0), strided))
    empty = rt.rows(never, (f64,), never, np.zeros(0), np.zeros((5, 2)))
    assert empty[0].shape == (0, 5, 2)
    seen = []

    def report(k, j, rows, like, a):
        seen.append((k, j, rows.shape, like.shape, a.shape))
        raise ValueError(f"row {k} of output {j}")

    with pytest.raises(ValueError, match="row 1 of output 0"):
        rt.rows(lambda k, a: [a[: 2 + int(k)]], (f64,), report, np.zeros(3), np.zeros(2), np.arange(4.0))
    assert seen == [(1, 0, (3,), (2,), (4,))]
    with pytest.raises(ValueError, match="not its output's shape"):
        rt.rows(lambda k: [np.zeros(3)], (f64,), lambda *a: None, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="expected a tuple of typenums"):
        rt.rows(never, [f64], never, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="expected a tuple of typenums"):
        rt.rows(never, (f64, f64), never, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="must be an array"):
        rt.rows(never, (f64,), never, np.zeros(2), [1.0, 2.0])


@pytest.mark.parametrize("repeat", [False, True], ids=["distinct", "an-output-twice"])
def test_compiled_rows_are_written_in_place_and_only_during_the_loop(repeat: bool) -> None:
    """A compiled row function computes its elementwise and reduced outputs straight into the
    rows (outputs that are inputs, views or repeated are copied): every kind gives numpy's
    rows, and once the loop is over the function never writes into those arrays again."""
    from fncache.codegen.c_linker import runtime

    k, a = ft.lscalar("k"), ft.dvector("a")
    y = ft.exp(a) * k + 1
    outs = [y, ft.sum(a * k), a, a[::-1], y * 2] + ([y] if repeat else [])
    with fc.config.change_flags(allow_gc=False):
        fn = fc.function([k, a], outs, trust_input=True)
    v = np.linspace(-1.0, 1.0, 5)
    ys = np.stack([np.exp(v) * i + 1 for i in range(3)])
    ref = [ys, np.array([np.sum(v * i) for i in range(3)]), np.stack([v] * 3)]
    ref += [np.stack([v[::-1]] * 3), ys * 2] + ([ys] if repeat else [])
    typenums = tuple(np.dtype(r.dtype).num for r in ref)
    rows = runtime().rows(fn.__call__, typenums, None, np.zeros(3), *(np.asarray(r[0]) for r in ref), v)
    for j, (got, want) in enumerate(zip(rows, ref)):
        np.testing.assert_allclose(got, want, rtol=1e-15, err_msg=f"output {j}")
    kept = [r.copy() for r in rows]
    for i in range(3):
        again = fn(np.int64(7), v + i)
        assert not any(np.shares_memory(x, r) for x in again for r in rows)
        del again
    for j, (got, want) in enumerate(zip(rows, kept)):
        np.testing.assert_array_equal(got, want, err_msg=f"output {j} changed after the loop")


@pytest.mark.parametrize("linker", ["c", "py"])
def test_jacobians_and_hessians_differentiate_again(linker: str) -> None:
    """The gradient of a `JacobianRows` node sums, row by row, the gradient of its rows
    against the fixed output gradients: third derivatives and gradients of Hessians."""
    x, w = ft.dvector("x"), ft.dmatrix("w")
    mode = fc.Mode(linker)
    j = ft.jacobian(ft.sin(x) * x.sum(), x)
    cost = ft.sum(ft.exp(x) * x) + ft.sum(x) ** 2
    h_cost = ft.sum(ft.hessian(cost, x) ** 2) + ft.sum(j * w)
    f = fc.function([x, w], [ft.jacobian(j, x), ft.grad(h_cost, x)], mode=mode)
    fj = fc.function([x], j, mode=mode)
    fh = fc.function([x, w], h_cost, mode=mode)
    rng = np.random.default_rng(3)
    for n in (0, 1, 4):
        v, wv = rng.uniform(-1, 1, n), rng.uniform(-1, 1, (n, n))
        third, g = f(v, wv)
        assert third.shape == (n, n, n) and g.shape == (n,)
        np.testing.assert_allclose(third, fd_jacobian(fj, [v], 0), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(g, fd_jacobian(fh, [v, wv], 0), rtol=1e-6, atol=1e-6)


LOAD_CODE = """
import pickle, sys
import numpy as np
f = pickle.loads(open(sys.argv[1], "rb").read())
np.save(sys.argv[2], f(np.linspace(-1, 1, 5)))
"""


def test_a_pickled_hessian_runs_in_a_fresh_process(tmp_path) -> None:
    """The receiving process builds no gradient: unpickling brings the op and its inner graph."""
    import os
    import subprocess
    import sys

    x = ft.dvector("x")
    f = fc.function([x], ft.hessian(ft.sum(ft.exp(x) * x) + ft.sum(x) ** 2, x))
    (tmp_path / "f.pkl").write_bytes(pickle.dumps(f))
    env = dict(os.environ, FNCACHE_FLAGS=f"compiledir={tmp_path / 'other'}")
    subprocess.run(
        [sys.executable, "-c", LOAD_CODE, str(tmp_path / "f.pkl"), str(tmp_path / "h.npy")],
        env=env,
        check=True,
        timeout=300,
    )
    v = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(np.load(tmp_path / "h.npy"), f(v))


def test_pytensor_vectorize_keyword_gives_the_same_graph() -> None:
    # PyTensor's jacobian/hessian take vectorize=; here the rows are one node either way
    from fncache.gradient import hessian, jacobian

    x = ft.dvector("x")
    y = ft.tanh(x) * x.sum()
    for build in (jacobian, lambda e, w, **k: hessian((e**2).sum(), w, **k)):
        plain, vec = build(y, x), build(y, x, vectorize=True)
        f = fc.function([x], [plain, vec])
        a, b = f(np.array([0.3, -1.2, 2.0]))
        np.testing.assert_array_equal(a, b)
        assert fc.function([x], plain).cache_key == fc.function([x], vec).cache_key
    with pytest.raises(TypeError, match=r"jacobian: vectorize must be True or False, got 'yes'"):
        jacobian(y, x, vectorize="yes")
    with pytest.raises(TypeError, match=r"hessian: vectorize must be True or False, got 1"):
        hessian(y.sum(), x, vectorize=1)
