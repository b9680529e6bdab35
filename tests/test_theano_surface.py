"""A Theano/PyTensor user's surface, attacked: every type name those libraries define, the
arguments of ``TensorType``, and arguments that declare a type (``reshape``'s ``ndim``,
``specify_shape``'s sizes, ``as_op``'s ``itypes``) refused clearly or honoured at run time."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft

#: Theano's and PyTensor's dtype letters; ``b`` is int8 there, bool in fncache (its contract).
LETTERS = {
    "c": "complex64",
    "z": "complex128",
    "f": "float32",
    "d": "float64",
    "b": "bool",
    "w": "int16",
    "i": "int32",
    "l": "int64",
}
KINDS = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None,) * 3,
    "tensor4": (None,) * 4,
    "tensor5": (None,) * 5,
    "tensor6": (None,) * 6,
    "tensor7": (None,) * 7,
}


@pytest.mark.parametrize("letter", LETTERS)
def test_every_theano_type_name_is_a_type(letter: str) -> None:
    for kind, shape in KINDS.items():
        t = getattr(ft, letter + kind)
        assert isinstance(t, ft.TensorType), letter + kind
        assert (t.dtype, t.shape) == (LETTERS[letter], shape), letter + kind
        v = t("v")
        assert v.type == t and v.name == "v"
    for letter2, dt in (("ub", "uint8"), ("uw", "uint16"), ("ui", "uint32"), ("ul", "uint64")):
        assert getattr(ft, letter2 + "scalar") == ft.TensorType(dt, ())


def test_constructor_functions_and_plurals() -> None:
    assert ft.row("r").type.shape == (1, None) and ft.col("c", "int32").type == ft.icol
    assert ft.tensor5("t", dtype="float64").type == ft.dtensor5
    assert (ft.tensor6().ndim, ft.tensor7().ndim) == (6, 7)
    assert ft.vector("v", dtype="float64", shape=(3,)).type == ft.TensorType("float64", (3,))
    assert ft.matrix("m", shape=(None, 2)).type.shape == (None, 2)
    with pytest.raises(ValueError, match="row: dim 0 of a row is 1"):
        ft.row("r", shape=(2, None))
    with pytest.raises(ValueError, match=r"matrix\(\): shape \(3,\) has 1 entries, a matrix has 2"):
        ft.matrix("m", shape=(3,))
    a, b = ft.dvectors("a", "b")
    assert (a.name, b.name, a.type) == ("a", "b", ft.dvector)
    assert ft.dscalars("s").name == "s"
    three = ft.fmatrices(3)
    assert len(three) == 3 and all(m.type == ft.fmatrix for m in three)
    assert [v.name for v in ft.vectors("p", "q")] == ["p", "q"]
    r = ft.drow("r")
    f = fc.function([a, r], a + r)
    np.testing.assert_array_equal(f(np.ones(2), np.ones((1, 2))), [[2.0, 2.0]])


def test_tensortype_arguments_as_pytensor() -> None:
    assert ft.TensorType("float64", (True, False)).shape == (1, None)  # booleans mean broadcastable
    assert ft.TensorType("float64", [np.int64(3), None]).shape == (3, None)
    assert ft.TensorType("floatX", (None,)).dtype == fc.config.floatX
    x = ft.vector("x", dtype="floatX")
    with fc.config.change_flags(floatX="float32"):
        assert (x.dtype, ft.cast(x, "floatX").dtype, x.astype("floatX").dtype) == (
            "float64",
            "float32",
            "float32",
        )
        assert ft.scalar("s", "floatX").dtype == ft.TensorType("floatX").dtype == "float32"
    t = ft.TensorType("float32", (None, 1), name="mycol")
    assert t == ft.fcol and hash(t) == hash(ft.fcol)
    with pytest.raises(ValueError, match=r"TensorType: shape entry -1 .*None"):
        ft.TensorType("float64", (-1, None))
    for bad in [(2.5,), ("a",), (np.array([2, 3]),)]:
        with pytest.raises(TypeError, match=r"TensorType: each shape entry must be"):
            ft.TensorType("float64", bad)
    with pytest.raises(TypeError, match=r"TensorType: shape must be a tuple .* got 2.5"):
        ft.TensorType("float64", 2.5)
    assert pickle.loads(pickle.dumps(ft.drow)) == ft.drow


def test_tensortype_filter_clone_numpy_dtype() -> None:
    t = ft.dvector
    assert t.numpy_dtype == np.dtype("float64")
    assert t.clone(dtype="float32") == ft.fvector and t.clone(shape=(1,)).shape == (1,)
    assert ft.dmatrix.clone(broadcastable=(True, False)) == ft.drow
    out = t.filter([1, 2, 3])
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0, 3.0]
    assert t.filter(np.arange(3.0)).dtype == np.float64
    assert ft.ivector.filter(np.arange(3.0), allow_downcast=True).dtype == np.int32
    with pytest.raises(TypeError, match=r"TensorType\(int32, \(\?\)\).filter.*could lose data"):
        ft.ivector.filter(np.arange(3.0))
    with pytest.raises(TypeError, match="strict"):
        t.filter(np.arange(3, dtype="int64"), strict=True)
    with pytest.raises(TypeError, match="wrong number of dimensions"):
        t.filter(np.ones((2, 2)))
    with pytest.raises(TypeError, match="dim 0 must have size 1"):
        ft.drow.filter(np.ones((2, 2)))
    with pytest.raises(TypeError, match="symbolic"):
        t.filter(ft.dvector("x"))


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_complex_inputs_take_complex_values(mode: str) -> None:
    z = ft.zvector("z")
    f = fc.function([z], z * 2, mode=mode)
    np.testing.assert_array_equal(f(np.array([1 + 2j, 3], "complex64")), [2 + 4j, 6])
    np.testing.assert_array_equal(f([1 + 2j, 3]), [2 + 4j, 6])
    np.testing.assert_array_equal(f([1, 2]), [2, 4])
    d = ft.dvector("d")
    g = fc.function([d], d * 2, mode=mode)
    with pytest.raises(TypeError, match="converting complex128 to float64 could lose data"):
        g([1 + 2j])


# -- arguments that declare an output type ----------------------------------------------------
def test_declared_ndim_and_sizes_are_checked_when_the_graph_is_built() -> None:
    x, s = ft.dmatrix("x"), ft.lvector("s")
    with pytest.raises(ValueError, match=r"reshape: ndim must be a non-negative int, got -1"):
        x.reshape(s, ndim=-1)
    with pytest.raises(TypeError, match=r"reshape: ndim must be a non-negative int, got 2.0"):
        x.reshape(s, ndim=2.0)
    with pytest.raises(TypeError, match=r"flatten: ndim must be a non-negative int, got 1.5"):
        x.flatten(1.5)
    assert x.reshape(s, ndim=np.int64(3)).ndim == 3
    with pytest.raises(TypeError, match=r"tensor\(\): ndim must be a non-negative int, got 2.5"):
        ft.tensor("t", "float64", ndim=2.5)
    with pytest.raises(ValueError, match=r"specify_shape: size -2 .* None"):
        ft.specify_shape(x, (-2, 3))
    with pytest.raises(TypeError, match=r"specify_shape: each size must be"):
        ft.specify_shape(x, (2.5, 3))


def test_specify_shape_bool_size_is_refused() -> None:
    # a symbolic int scalar size is checked when the function runs (test_symbolic_sizes.py)
    x = ft.dmatrix("x")
    with pytest.raises(
        TypeError, match=r"specify_shape: each size must be an int, an int scalar or None, got True"
    ):
        ft.specify_shape(x, (True, None))


# -- as_op ------------------------------------------------------------------------------------
@ft.as_op(itypes=[ft.dvector], otypes=[ft.dscalar])
def loglike(theta: np.ndarray) -> np.ndarray:
    return np.asarray(-0.5 * np.sum(theta**2))


def test_as_op_static_input_shape_is_checked_at_run_time() -> None:
    three = ft.TensorType("float64", (3,))
    op = ft.as_op(itypes=[three], otypes=[ft.dvector])(lambda v: v * 2)
    x = ft.dvector("x")
    f = fc.function([x], op(x))
    np.testing.assert_array_equal(f(np.ones(3)), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"PythonOp\{<lambda>\}: input 0 has shape \(4,\), itypes declares"):
        f(np.ones(4))
    with pytest.raises(TypeError, match=r"input 0 must be TensorType\(float64, \(3\)\), got .*\(4\)"):
        op(ft.TensorType("float64", (4,))("y"))


def test_as_op_bad_arguments_name_as_op() -> None:
    with pytest.raises(TypeError, match="as_op: itypes must be"):
        ft.as_op(itypes=None, otypes=[ft.dvector])
    with pytest.raises(TypeError, match="as_op: the decorated object must be callable"):
        ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])(3)
    gen = ft.as_op(itypes=[ft.dvector], otypes=[ft.dscalar, ft.dvector])(lambda v: (a for a in [v.sum(), v]))
    x = ft.dvector("x")
    with pytest.raises(TypeError, match=r"PythonOp\{<lambda>\}: .*returned a generator.*tuple or list"):
        fc.function([x], gen(x))(np.ones(3))


def test_as_op_pickles_and_runs_in_a_subprocess(tmp_path) -> None:
    """The op itself pickles (a module-level decorated function, a lambda), and a function
    using it runs in another process."""
    for op in [loglike, ft.as_op([ft.dvector], [ft.dvector], grad=lambda i, g: g)(lambda v: v + 1)]:
        back = pickle.loads(pickle.dumps(op))
        assert isinstance(back, type(op)) and back.__name__ == op.__name__ and back.otypes == op.otypes
        x = ft.dvector("x")
        np.testing.assert_array_equal(fc.function([x], back(x))(np.ones(2)), op.fn(np.ones(2)))
    x = ft.dvector("x")
    np.testing.assert_array_equal(fc.function([x], fc.grad(back(x).sum(), x))(np.ones(2)), [1.0, 1.0])
    theta = ft.dvector("theta")
    f = fc.function([theta], loglike(theta) * 2.0)
    path = tmp_path / "f.pkl"
    path.write_bytes(pickle.dumps(f))
    code = (
        "import pickle, sys, numpy as np; sys.path.insert(0, sys.argv[2]);"
        "f = pickle.loads(open(sys.argv[1], 'rb').read()); print(float(f(np.array([1.0, 2.0]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(__import__("pathlib").Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == -5.0


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_as_op_cannot_change_what_the_graph_reads(mode: str) -> None:
    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
    def doubled_in_place(v):
        v *= 2
        return v

    @ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
    def same(v):
        return v

    x = ft.dvector("x")
    f = fc.function([x], [doubled_in_place(x), x + 0], mode=mode)
    xv = np.ones(2)
    with pytest.raises(ValueError, match="read-only") as e:
        f(xv)
    assert "copy one before modifying it" in "".join(getattr(e.value, "__notes__", []))
    np.testing.assert_array_equal(xv, [1.0, 1.0])
    g = fc.function([x], [same(x), same(x) * 2 + 1], mode=mode)
    a, b = g(xv)
    a[0] = 7.0  # the caller's copy: writeable, and not the input
    np.testing.assert_array_equal(xv, [1.0, 1.0])
    np.testing.assert_array_equal(b, [3.0, 3.0])


# -- axes given in an order (tensordot, transpose) ------------------------------------------
def test_ordered_axes_out_of_range_are_refused_not_wrapped() -> None:
    a, b = ft.dtensor3("a"), ft.dmatrix("b")
    with pytest.raises(ValueError, match=r"tensordot: axis 5 is out of bounds for a tensor of ndim 3"):
        ft.tensordot(a, b, ([5], [0]))
    with pytest.raises(ValueError, match=r"tensordot: axis 3 is out of bounds for a tensor of ndim 2"):
        ft.tensordot(a, b, ([2], [3]))
    with pytest.raises(TypeError, match=r"tensordot: axis must be"):
        ft.tensordot(a, b, ([2], [0.0]))
    with pytest.raises(ValueError, match=r"tensordot: axis 0 is repeated"):
        ft.tensordot(a, b, ([0, 0], [0, 1]))
    with pytest.raises(ValueError, match=r"transpose: axis -3 is out of bounds for a tensor of ndim 2"):
        ft.transpose(b, (-3, 0))
    with pytest.raises(ValueError, match=r"transpose: axes \(0,\) are not a permutation of 2 dims"):
        b.transpose(0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_ordered_axes_and_numpy_spellings(mode: str) -> None:
    a, b = ft.dtensor3("a"), ft.dmatrix("b")
    av, bv = np.arange(24.0).reshape(2, 3, 4), np.arange(12.0).reshape(4, 3)
    outs = [
        ft.tensordot(a, b, ([-1], [0])),
        ft.tensordot(a, b, ([1, 2], [1, 0])),
        ft.transpose(b, (-1, 0)),
        b.swapaxes(0, 1),
        ft.swapaxes(a, -1, 0),
        ft.concatenate([b, b], axis=None),
    ]
    want = [
        np.tensordot(av, bv, ([-1], [0])),
        np.tensordot(av, bv, ([1, 2], [1, 0])),
        np.transpose(bv, (-1, 0)),
        bv.swapaxes(0, 1),
        np.swapaxes(av, -1, 0),
        np.concatenate([bv, bv], axis=None),
    ]
    for got, w in zip(fc.function([a, b], outs, mode=mode)(av, bv), want):
        np.testing.assert_array_equal(got, w)
        assert got.shape == w.shape


# -- dot with 0-d and N-d operands ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "int8"), ("bool", "bool")])
def test_dot_of_any_ndims_is_numpys(mode: str, dtypes: tuple) -> None:
    """numpy's (and Theano's) dot: a 0-d operand multiplies, N-d operands contract a's last
    axis with b's second to last."""
    shapes = {0: (), 1: (3,), 2: (3, 3), 3: (2, 3, 3)}
    rng = np.random.default_rng(4)
    pairs = [(i, j) for i in shapes for j in shapes]
    ins, outs, vals, want = [], [], [], []
    for i, j in pairs:
        a, b = ft.tensor(f"a{i}{j}", dtypes[0], i), ft.tensor(f"b{i}{j}", dtypes[1], j)
        av = (rng.integers(-3, 4, shapes[i]) % (2 if dtypes[0] == "bool" else 7)).astype(dtypes[0])
        bv = (rng.integers(-3, 4, shapes[j]) % (2 if dtypes[1] == "bool" else 7)).astype(dtypes[1])
        ins += [a, b]
        outs.append(ft.dot(a, b))
        vals += [av, bv]
        want.append(np.dot(av, bv))
    for (i, j), got, w in zip(pairs, fc.function(ins, outs, mode=mode)(*vals), want):
        assert got.dtype == w.dtype and got.shape == w.shape, (i, j, got.dtype, got.shape, w.dtype, w.shape)
        np.testing.assert_allclose(got, w, rtol=1e-6, err_msg=f"dot {i}-d . {j}-d")


def test_as_op_narrowed_outputs_keep_their_values() -> None:
    """An output of a wider dtype than otypes declares is narrowed only when its values fit:
    int64 300 is not an int8, 1e300 not a float32; 3 is an int8 and 0.1 a float32."""
    x = ft.dvector("x")
    to_int8 = ft.as_op([ft.dvector], [ft.TensorType("int8", (None,))])(lambda v: v.astype("int64"))
    to_f32 = ft.as_op([ft.dvector], [ft.fvector])(lambda v: v)
    f = fc.function([x], [to_int8(x), to_f32(x)])
    a, b = f(np.array([3.0, -128.0]))
    assert a.dtype == np.int8 and a.tolist() == [3, -128] and b.dtype == np.float32
    with pytest.raises(ValueError, match=r"output 0 has int64 values that int8 .* cannot hold"):
        f(np.array([300.0, 1.0]))
    with pytest.raises(ValueError, match=r"output 0 has float64 values that float32 .* cannot hold"):
        fc.function([x], to_f32(x))(np.array([1e300]))
    np.testing.assert_array_equal(
        fc.function([x], to_f32(x))(np.array([np.inf, 0.1])), np.float32([np.inf, 0.1])
    )


# -- symbolic shapes of the wrong dtype or range ----------------------------------------------
def test_shape_arguments_of_the_wrong_dtype_name_the_op() -> None:
    x = ft.dmatrix("x")
    with pytest.raises(TypeError, match=r"reshape: the shape must be an int vector .*float64.*ft.cast"):
        x.reshape(ft.dvector("s"), ndim=2)
    with pytest.raises(TypeError, match=r"reshape: each shape entry must be an int .*float64"):
        x.reshape((ft.dscalar("n"), 3))
    with pytest.raises(TypeError, match=r"zeros: each shape entry must be an int .*float64"):
        ft.zeros((ft.dscalar("n"), 3))
    with pytest.raises(TypeError, match=r"normal: size: each shape entry"):
        fc.RandomStream(0).normal(size=(ft.dscalar("n"),))
    with pytest.raises(ValueError, match=r"reshape: invalid shape \(-1, -1\)"):
        x.reshape((-1, -1))


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_uint64_sizes_beyond_int64_are_refused(mode: str) -> None:
    x, n = ft.dmatrix("x"), ft.tensor("n", "uint64", 0)
    f = fc.function([x, n], [x.reshape((n, -1)), ft.zeros((n, 2))], mode=mode)
    got = f(np.ones((2, 3)), np.uint64(3))
    assert got[0].shape == (3, 2) and got[1].shape == (3, 2)
    with pytest.raises(ValueError, match=r"reshape: shape entry 0 is 18446744073709551615, beyond"):
        f(np.ones((2, 3)), np.uint64(2**64 - 1))
    i = ft.tensor("i", "uint64", 0)
    g = fc.function([x, i], x[0, i], mode=mode)
    assert g(np.arange(6.0).reshape(2, 3), np.uint64(2)) == 2.0
    with pytest.raises(IndexError, match=r"Subtensor\[0, \$0\]: .*index \(0, 18446744073709551615\)"):
        g(np.ones((2, 3)), np.uint64(2**64 - 1))


# -- Theano's broadcasting helpers and as_tensor_variable(ndim=) ------------------------------
@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_theano_broadcasting_helpers(mode: str) -> None:
    x, c = ft.dmatrix("x"), ft.dmatrix("c")
    assert ft.shape_padleft(x).type.shape == (1, None, None)
    assert ft.shape_padright(x, 2).type.shape == (None, None, 1, 1)
    assert ft.shape_padaxis(x, -1).type.shape == (None, None, 1)
    col = ft.addbroadcast(c, 1)
    assert col.type.shape == (None, 1) and ft.specify_broadcastable(c, 1).type == col.type
    assert ft.addbroadcast(x) is x
    outs = [ft.shape_padleft(x) + 0, ft.shape_padright(x), ft.shape_padaxis(x, 1), x + col]
    f = fc.function([x, c], outs, mode=mode)
    xv, cv = np.arange(6.0).reshape(2, 3), np.ones((2, 1))
    want = [xv[None], xv[:, :, None], xv[:, None, :], xv + cv]
    for got, w in zip(f(xv, cv), want):
        np.testing.assert_array_equal(got, w)
        assert got.shape == w.shape
    with pytest.raises(ValueError, match=r"specify_shape: the value has shape \(2, 3\)"):
        f(xv, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"addbroadcast: axis 2 is out of bounds"):
        ft.addbroadcast(c, 2)
    with pytest.raises(TypeError, match=r"shape_padleft: n_ones must be a non-negative int, got 1.5"):
        ft.shape_padleft(x, 1.5)


def test_as_tensor_variable_with_ndim() -> None:
    assert ft.as_tensor_variable(np.ones(3), ndim=1).type.shape == (3,)
    assert ft.as_tensor_variable(np.ones((1, 1, 3)), ndim=1).type.shape == (3,)
    assert ft.as_tensor(np.ones(3), ndim=3).type.shape == (1, 1, 3)
    r = ft.drow("r")
    assert ft.as_tensor_variable(r, ndim=1).type.shape == (None,)
    with pytest.raises(ValueError, match=r"as_tensor_variable: .* has 2 dims, and ndim=1 was asked"):
        ft.as_tensor_variable(ft.dmatrix("m"), ndim=1)
    with pytest.raises(TypeError, match=r"as_tensor_variable: ndim must be a non-negative int"):
        ft.as_tensor_variable(np.ones(3), ndim=-1.0)


@pytest.mark.parametrize("mode", ["FAST_RUN", "py"])
def test_a_list_of_variables_is_stacked_where_a_tensor_is_expected(mode: str) -> None:
    """PyTensor's ``as_tensor_variable`` stacks a (nested) list or tuple holding variables, so
    ``pt.sum([pt.sum(t) for t in terms])`` (how PyMC sums its log-density terms),
    ``ft.exp([a, b])`` and ``x + [a, 1.0]`` take one."""
    a, b = ft.dscalar("a"), ft.dscalar("b")
    v = ft.dvector("v")
    assert ft.as_tensor_variable([a, b]).type.shape == (2,)
    assert ft.as_tensor_variable(([a, 1.0], (2, b))).type.shape == (2, 2)
    outs = [
        ft.sum([ft.sum(v), a, b]),
        ft.exp([a, b]),
        v[:2] + [a, 1.0],
        ft.dot([[a, 0.0], [0.0, b]], v[:2]),
        ft.as_tensor_variable([v, 2 * v]),
    ]
    f = fc.function([a, b, v], outs, mode=fc.Mode(linker="py") if mode == "py" else mode)
    av, bv, vv = 0.5, -2.0, np.array([1.0, 3.0, 4.0])
    got = f(av, bv, vv)
    want = [
        vv.sum() + av + bv,
        np.exp([av, bv]),
        vv[:2] + [av, 1.0],
        np.array([av, bv]) * vv[:2],
        np.stack([vv, 2 * vv]),
    ]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-15)
    # its gradient reaches every element
    ga, gb = fc.grad(ft.sum(ft.sqr([a, b, 3.0])), [a, b])
    assert fc.function([a, b], [ga, gb], mode=fc.Mode(linker="py") if mode == "py" else mode)(av, bv) == [
        1.0,
        -4.0,
    ]
    # elements of different dims or sizes are refused, naming stack or its join
    with pytest.raises(
        ValueError, match=r"stack: the tensors must have the same number of dims, got \[0, 1\]"
    ):
        ft.as_tensor_variable([a, v])
    with pytest.raises(ValueError, match=r"concatenate\(axis=0\): shapes \[\(1, 3\), \(1, 2\)\]"):
        fc.function([v], ft.as_tensor_variable([v, v[:2]]))(vv)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_numpy_array_methods_on_variables(mode: str) -> None:
    x = ft.dmatrix("x")
    xv = np.array([[3.5, -1.0, 2.5], [0.5, 7.0, -2.5]])
    names = ["size", "ravel", "clip", "round", "repeat", "sort", "argsort", "cumsum", "cumprod", "zeros_like"]
    outs = [x.size, x.ravel(), x.clip(0, 3), x.round(), x.repeat(2, axis=1), x.sort(axis=0), x.argsort()]
    outs += [x.cumsum(axis=1), x.cumprod(), x.zeros_like(dtype="int32")]
    want = [
        np.array(xv.size),
        xv.ravel(),
        xv.clip(0, 3),
        xv.round(),
        xv.repeat(2, axis=1),
        np.sort(xv, axis=0),
    ]
    want += [xv.argsort(), xv.cumsum(axis=1), xv.cumprod(), np.zeros_like(xv, dtype="int32")]
    for n, got, w in zip(names, fc.function([x], outs, mode=mode)(xv), want):
        assert got.dtype == w.dtype and got.shape == w.shape, n
        np.testing.assert_array_equal(got, w, err_msg=n)
    r = ft.drow("r")
    assert r.squeeze().type == ft.dvector and r.ones_like().ndim == 2


def test_a_type_where_a_variable_belongs_says_to_call_it() -> None:
    x = ft.dvector("x")
    for build in [lambda: ft.exp(ft.dvector), lambda: x + ft.dvector, lambda: fc.shared(ft.dvector)]:
        with pytest.raises(
            TypeError, match=r"got the type TensorType\(float64, \(\?\)\), not a variable; call it"
        ):
            build()
    with pytest.raises(TypeError, match=r"input 0 must be a symbolic variable"):
        fc.function([ft.dvector], x)


def test_negative_constant_draw_sizes_name_the_draw() -> None:
    rs = fc.RandomStream(0)
    with pytest.raises(ValueError, match=r"normal: size \(-2,\) has a negative entry"):
        rs.normal(size=(-2,))
    with pytest.raises(ValueError, match=r"integers: size \(2, -2\) has a negative entry"):
        rs.integers(0, 3, size=(2, -2))
