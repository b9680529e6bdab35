"""Every integer argument an op takes when the graph is built (a count, an offset, an axis, an
order) takes what numpy takes as an int: a Python int, a numpy integer scalar or a 0-d integer
array (or a symbolic integer scalar known when the graph is built: a constant), all giving the
same graph values; a bool, a float or a 1-element vector is refused with
a TypeError naming the op and the argument."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.graph.basic import graph_inputs
from fncache.graph.types import TensorType

x, m, v, iv = ft.dtensor3("x"), ft.dmatrix("m"), ft.dvector("v"), ft.lvector("iv")
SQ = ft.dmatrix("sq")
VALUES = {
    x: np.arange(24.0).reshape(2, 3, 4) / 7,
    m: np.arange(12.0).reshape(3, 4) / 5 - 1,
    v: np.array([0.5, np.nan, 2.0, 3.5]),
    iv: np.array([0, 2, 2, 3]),
    SQ: np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]),
}

#: (op and argument, the graph built with the argument k, k, what the argument refuses: "f" a
#: float, "v" a 1-element vector (where a vector is not another of its forms), "b" a bool
#: (where it is no symbolic int scalar, which may be a bool as in numpy)): k given as a Python
#: int, a numpy integer and a 0-d array must give the same values
CASES: list[tuple[str, Callable[[Any], Any], int, str]] = [
    ("split n_splits", lambda k: ft.split(v, [1, 3], k), 2, "fvb"),
    ("split sections", lambda k: ft.split(m, k, axis=1), 2, "fvb"),
    ("split axis", lambda k: ft.split(m, 3, axis=k), 0, "fvb"),
    ("diff n", lambda k: ft.diff(m, k), 2, "fvb"),
    ("bincount minlength", lambda k: ft.bincount(iv, minlength=k), 7, "fvb"),
    ("nanvar ddof", lambda k: ft.nanvar(v, ddof=k), 1, "fvb"),
    ("nanstd ddof", lambda k: ft.nanstd(v, ddof=k), 1, "fvb"),
    ("cov ddof", lambda k: ft.cov(m, ddof=k), 2, "fvb"),
    ("var ddof", lambda k: ft.var(m, ddof=k), 1, "fvb"),
    ("linspace num", lambda k: ft.linspace(0.0, 1.0, k), 5, "fvb"),
    ("logspace num", lambda k: ft.logspace(0.0, 1.0, k), 3, "fvb"),
    ("geomspace num", lambda k: ft.geomspace(1.0, 8.0, k), 4, "fvb"),
    ("rot90 k", lambda k: ft.rot90(m, k), 3, "fvb"),
    ("atleast_Nd n", lambda k: ft.atleast_Nd(v, n=k), 3, "fvb"),
    ("join_dims start_axis", lambda k: ft.join_dims(x, k), 1, "fvb"),
    ("join_dims n_axes", lambda k: ft.join_dims(x, 0, k), 2, "fvb"),
    ("split_dims size", lambda k: ft.split_dims(v, (k, 2)), 2, "fvb"),
    ("polygamma n", lambda k: ft.polygamma(k, v), 2, "fvb"),
    ("topk kth", lambda k: ft.topk(m, k), 2, "fvb"),
    ("argtopk kth", lambda k: ft.argtopk(m, k), -2, "fvb"),
    ("matrix_power n", lambda k: ft.matrix_power(SQ, k), 3, "fvb"),
    ("tensordot axes", lambda k: ft.tensordot(m, m.T, k), 1, "fvb"),
    ("batched_tensordot axes", lambda k: ft.batched_tensordot(x, x.dimshuffle(0, 2, 1), k), 1, "fvb"),
    ("diagonal offset", lambda k: ft.diagonal(m, k), 1, "fvb"),
    ("diagonal axis1", lambda k: ft.diagonal(x, 0, k, 2), 1, "fvb"),
    ("diag k", lambda k: ft.diag(v, k), -1, "fvb"),
    ("tri k", lambda k: ft.tri(3, 4, k), 1, "fvb"),
    ("triu k", lambda k: ft.triu(m, k), 1, "fvb"),
    ("roll shift", lambda k: ft.roll(m, k, 1), 3, "fvb"),
    ("take axis", lambda k: ft.take(m, iv[:2], axis=k), 1, "fvb"),
    ("take_along_axis axis", lambda k: ft.take_along_axis(m, ft.argsort(m, axis=1), k), 1, "fvb"),
    ("join axis", lambda k: ft.join(k, m, m), 1, "fvb"),
    ("concatenate axis", lambda k: ft.concatenate([m, m], axis=k), 1, "fvb"),
    ("concat_with_broadcast axis", lambda k: ft.concat_with_broadcast([m, m[:1]], axis=k), 0, "fvb"),
    ("sum axis", lambda k: ft.sum(x, axis=k), 2, "fb"),
    ("cumsum axis", lambda k: ft.cumsum(m, axis=k), 1, "fvb"),
    ("expand_dims axis", lambda k: ft.expand_dims(m, k), 1, "fb"),
    ("moveaxis source", lambda k: ft.moveaxis(x, k, 0), 2, "fb"),
    ("swapaxes axis", lambda k: ft.swapaxes(x, k, 0), 2, "fvb"),
    ("sort axis", lambda k: ft.sort(m, axis=k), 0, "fvb"),
    ("max_and_argmax axis", lambda k: ft.max_and_argmax(m, axis=k), 1, "fb"),
    ("specify_shape size", lambda k: ft.specify_shape(m, (k, None)), 3, "fvb"),
    ("tile reps", lambda k: ft.tile(m, (k, 1)), 2, "fvb"),
    ("tile reps scalar", lambda k: ft.tile(v, k), 2, "fb"),
    ("repeat repeats", lambda k: ft.repeat(v, k), 2, "fb"),
    ("reshape ndim", lambda k: ft.reshape(x, (6, 4), ndim=k), 2, "fvb"),
    ("flatten ndim", lambda k: ft.flatten(x, k), 2, "fvb"),
    ("shape_padleft n_ones", lambda k: ft.shape_padleft(v, k), 2, "fvb"),
    ("shape_padright n_ones", lambda k: ft.shape_padright(v, k), 2, "fvb"),
    ("shape_padaxis axis", lambda k: ft.shape_padaxis(m, k), 1, "fvb"),
    ("tensorinv ind", lambda k: ft.tensorinv(ft.reshape(SQ, (3, 3)), k), 1, "fvb"),
    ("pad pad_width", lambda k: ft.pad(m, k), 1, "fb"),
    ("pack keep_axes", lambda k: ft.pack(x, keep_axes=k)[0], 0, "fvb"),
    ("histogram bins", lambda k: ft.histogram(v[:1], k)[0], 3, "fb"),
    ("fill_diagonal_offset offset", lambda k: ft.fill_diagonal_offset(m, 5.0, k), 1, "fvb"),
    ("to_one_hot nb_class", lambda k: ft.to_one_hot(iv, k), 5, "fvb"),
    ("eye k", lambda k: ft.eye(3, 4, k), 1, "fv"),
    ("dimshuffle pattern", lambda k: ft.dimshuffle(m, (k, "x", 0)), 1, "fvb"),
    ("trace offset", lambda k: ft.trace(m, k), 1, "fvb"),
    ("full shape", lambda k: ft.full(k, 2.0), 3, "fb"),
    ("unique axis", lambda k: ft.unique(m, axis=k), 0, "fvb"),
    ("as_tensor_variable ndim", lambda k: ft.as_tensor_variable(v, ndim=k), 3, "fvb"),
    # a whole float (len(x) / 2) is taken as PyTensor takes it; 3.5 is refused (test_scan_random_port)
    ("scan n_steps", lambda k: fc.scan(lambda a: a * 2, outputs_info=[v], n_steps=k)[0], 3, "vb"),
]


def _forms(k: int) -> list[Any]:
    return [k, np.int64(k), np.array(k), np.uint8(k) if k >= 0 else np.int8(k)]


def _values(outputs: Any) -> list[np.ndarray]:
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    ins = [i for i in VALUES if any(i in graph_inputs([o]) for o in outs)]
    f = fc.function(ins, outs, mode=fc.Mode(linker="py"), on_unused_input="ignore")
    return [np.asarray(r) for r in f(*(VALUES[i] for i in ins))]


@pytest.mark.parametrize("build,k", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_numpy_integers_give_what_a_python_int_gives(build: Callable[[Any], Any], k: int) -> None:
    want = _values(build(k))
    for form in _forms(k)[1:]:
        got = _values(build(form))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=f"{type(form).__name__} {form!r}")


@pytest.mark.parametrize("build,k", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_a_constant_graph_gives_what_a_python_int_gives(build: Callable[[Any], Any], k: int) -> None:
    """A symbolic integer scalar known when the graph is built (a constant of any int dtype,
    arithmetic on constants) is the int it holds, as numpy's integers are."""
    want = _values(build(k))
    for form in (ft.constant(k), ft.constant(np.int8(k)), ft.constant(k + 1) - 1):
        outs = build(form)
        got = _values(outs)
        assert len(got) == len(want)
        for out, g, w in zip(outs if isinstance(outs, (list, tuple)) else [outs], got, want):
            np.testing.assert_array_equal(g, w, err_msg=f"{form!r}")
            # the static shape the int gives, never one the result contradicts
            assert all(s is None or s == n for s, n in zip(out.type.shape, g.shape)), (out.type, g.shape)


@pytest.mark.parametrize("build,k,refuse", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bool_a_float_or_a_vector_is_refused(build: Callable[[Any], Any], k: int, refuse: str) -> None:
    bad = {"f": 2.0 + k, "v": np.array([k]), "b": bool(k)}
    for form in refuse:
        with pytest.raises(TypeError, match=r"^\S.*: .*\bgot\b"):
            build(bad[form])


def test_an_int_arg_message_names_the_op_the_argument_and_the_fix() -> None:
    with pytest.raises(
        TypeError, match=r"^diff: n must be a non-negative int, got True; give a Python int, a numpy integer"
    ):
        ft.diff(m, True)
    with pytest.raises(
        TypeError, match=r"^linspace: num must be a non-negative int, got an array of shape \(1,\)"
    ):
        ft.linspace(0, 1, np.array([3]))
    with pytest.raises(
        TypeError, match=r"^rot90: k must be an int, got the symbolic k .*known when the graph is built"
    ):
        ft.rot90(m, ft.iscalar("k"))
    with pytest.raises(ValueError, match=r"^bincount: minlength must be a non-negative int, got -1$"):
        ft.bincount(iv, minlength=np.int64(-1))
    with pytest.raises(ValueError, match=r"^split: n_splits must be a positive int, got 0$"):
        ft.split(v, [4], np.array(0))


def test_graph_level_int_arguments_take_numpy_integers() -> None:
    assert TensorType("float64", (np.int64(3), np.array(2))).shape == (3, 2)
    assert ft.tensor("t", "float64", ndim=np.array(2)).type == ft.dmatrix().type
    assert fc.debugprint(v * 2, depth=np.int64(1)) == fc.debugprint(v * 2, depth=1)
    with pytest.raises(TypeError, match=r"debugprint: depth must be an int"):
        fc.debugprint(v * 2, depth=1.0)


#: ops that work along one axis: a tuple of axes was taken as its first axis
ONE_AXIS: list[tuple[str, Callable[[Any], Any]]] = [
    ("cumsum", lambda a: ft.cumsum(m, axis=a)),
    ("sort", lambda a: ft.sort(m, axis=a)),
    ("argsort", lambda a: ft.argsort(m, axis=a)),
    ("split", lambda a: ft.split(m, 1, axis=a)),
    ("swapaxes", lambda a: ft.swapaxes(x, a, 0)),
    ("repeat", lambda a: ft.repeat(m, 2, axis=a)),
    ("unique", lambda a: ft.unique(m, axis=a)),
    ("topk", lambda a: ft.topk(m, 1, axis=a)),
    ("shape_padaxis", lambda a: ft.shape_padaxis(m, a)),
    ("diff", lambda a: ft.diff(m, 1, a)),
    ("take", lambda a: ft.take(m, iv[:1], axis=a)),
    ("concat_with_broadcast", lambda a: ft.concat_with_broadcast([m, m], axis=a)),
]


@pytest.mark.parametrize("what,build", ONE_AXIS, ids=[c[0] for c in ONE_AXIS])
def test_an_op_along_one_axis_refuses_a_tuple_of_axes(what: str, build: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match=rf"^{what}: axis must be an int, got \(1, 0\); give a Python int"):
        build((1, 0))


def test_integer_arguments_of_the_other_front_end_functions_take_numpy_integers() -> None:
    from fncache.tensor.signal.pool_3d import pool_3d

    h0 = ft.dscalar("h0")
    for k in _forms(2):
        fc.scan_checkpoints(lambda h: h * 2, outputs_info=h0, n_steps=k, save_every_N=k)
        fc.scan(lambda a: a * 2, outputs_info=[v], n_steps=4, truncate_gradient=k)
        ft.verify_grad(ft.exp, [np.ones(2)], n_tests=k, rng=k)
        ft.nnet.conv2d(ft.dtensor4(), ft.dtensor4(), subsample=k, border_mode=k)
        pool_3d(ft.dtensor5(), (k, k, k))
        fc.shared(np.zeros((2, 3)), shape=(k, None))
        ft.random.RandomStream(seed=k)
        assert ft.is_flat(m, k) and ft.slice_at_axis(slice(1), k) == np.s_[:, :, :1, ...]
    with pytest.raises(TypeError, match=r"^scan_checkpoints: save_every_N must be a positive int, got 2.0"):
        fc.scan_checkpoints(lambda h: h * 2, outputs_info=h0, n_steps=4, save_every_N=2.0)
    with pytest.raises(
        TypeError, match=r"^scan: truncate_gradient must be an int, got True; .*-1 for no truncation"
    ):
        fc.scan(lambda a: a * 2, outputs_info=[v], n_steps=4, truncate_gradient=True)
    with pytest.raises(TypeError, match=r"^is_flat: ndim must be an int, got True"):
        ft.is_flat(m, True)
    with pytest.raises(TypeError, match=r"^slice_at_axis: axis must be an int, got 1.0"):
        ft.slice_at_axis(slice(1), 1.0)
    with pytest.raises(TypeError, match=r"^verify_grad: n_tests must be a positive int, got 1.0"):
        ft.verify_grad(ft.exp, [np.ones(2)], n_tests=1.0)
