"""Compiled functions pickle with both graphs and run where they are loaded, whatever ops they
hold: a bank of functions (linear algebra real and complex with the cofactors of a determinant's
gradient, a scan with taps and a truncated gradient, shared variables with updates, random
streams, an OpFromGraph, ifelse, sparse ops, in both modes) pickled by ``fc.dumps``, ``pickle``
and ``cloudpickle``, loaded in this process and in one fresh process, computes what the original
does (random draws continue the original's). And a pickle written before an op class had a prop
the constructor gives a default loads as the op built with that default."""

from __future__ import annotations

import copyreg
import inspect
import os
import pickle
from typing import Any, Callable, Sequence

import cloudpickle
import numpy as np
import pytest

import fncache as fc
from fncache import sparse
from fncache import tensor as ft
from fncache.gradient import undefined_grad
from fncache.graph.basic import Op
from fncache.printing import Print
from fncache.raise_op import CheckAndRaise
from fncache.tensor.pyop import BroadcastCheck, CheckAndReport
from fncache.tensor.einsum import einsum
from fncache.tensor import conv, data_ops, fft, index_ops, linalg_extra, linalg_scipy, neighbours, optimize
from fncache.tensor.ctc import ctc
from fncache.tensor.hyp2f1 import hyp2f1
from fncache.tensor.signal import pool
from fcutil import in_tests_dir, run_python
from test_op_identity import OP_CLASSES, _entry, _name

# -- a prop an older pickle lacks ----------------------------------------------------------------


def _defaulted_props() -> list[Any]:
    cases = []
    for cls in OP_CLASSES:
        if cls.__init__ is object.__init__:
            continue
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.name in cls.__props__ and p.default is not inspect.Parameter.empty:
                cases.append(pytest.param(cls, p.name, p.default, id=f"{cls.__qualname__}-{p.name}"))
    return cases


class _Older:
    """Pickles as an op of ``cls`` whose state is ``state``: what an fncache from before the
    class had one of its props wrote."""

    def __init__(self, cls: type[Op], state: dict[str, Any]) -> None:
        self.cls, self.state = cls, state

    def __reduce__(self) -> tuple:
        return copyreg._reconstructor, (self.cls, object, None), self.state


@pytest.mark.parametrize("cls, prop, default", _defaulted_props())
def test_a_pickle_from_before_a_prop_loads_with_its_default(cls: type[Op], prop: str, default: Any) -> None:
    entry = _entry(cls)
    op = cls(**{**(entry[0] if entry else {}), prop: default})
    reduced = op.__reduce_ex__(pickle.DEFAULT_PROTOCOL)
    state = dict(reduced[2])
    assert prop in state, f"{_name(cls)}: prop {prop} is not in the pickled state"
    del state[prop]
    back = pickle.loads(pickle.dumps(_Older(cls, state)))
    assert type(back) is cls and back == op and back.signature() == op.signature()


# -- functions of every kind, pickled three ways ---------------------------------------------------

#: a function's inputs, outputs and further ``fc.function`` arguments (updates): each builder
#: of the bank gives its graph (with its arguments), so other tests reuse the bank's graphs
Graph = tuple[list, list, dict[str, Any]]


def _graph(inputs: list, outputs: Any, **kwargs: Any) -> Graph:
    return inputs, list(outputs) if isinstance(outputs, (list, tuple)) else [outputs], kwargs


_RNG = np.random.default_rng(7)
_A = _RNG.standard_normal((3, 3)) + 3 * np.eye(3)
_Z = _A + 1j * _RNG.standard_normal((3, 3))
_V = _RNG.standard_normal(4)


def _linalg() -> tuple[Graph, list]:
    a = ft.dmatrix("a")
    outs = [
        ft.det(a),
        ft.grad(ft.det(a), a),  # the cofactors
        ft.matrix_inverse(a),
        ft.slinalg.solve(a, a[0]),
        ft.slinalg.cholesky(a @ a.T),
        ft.nlinalg.eigh(a + a.T)[0],
        ft.nlinalg.svd(a, compute_uv=False),
        ft.nlinalg.qr(a)[1],
        ft.nlinalg.slogdet(a)[1],
        ft.nlinalg.pinv(a),
        ft.nlinalg.lstsq(a, a[1])[0],
        ft.slinalg.solve_triangular(ft.tril(a), a[2], lower=True),
    ]
    return _graph([a], outs), [_A]


def _complex_linalg() -> tuple[Graph, list]:
    z = ft.zmatrix("z")
    outs = [ft.matrix_inverse(z), ft.det(z), ft.real(ft.grad(ft.real(ft.det(z)), z)), ft.nlinalg.eig(z)[0]]
    return _graph([z], outs), [_Z]


def _scan_taps() -> tuple[Graph, list]:
    x = ft.dvector("x")

    def step(y2: Any, y1: Any, c: Any) -> Any:
        return y1 * 0.5 + y2 * c

    ys, _ = fc.scan(
        step,
        outputs_info=[{"initial": ft.stack([x[0], x[1]]), "taps": [-2, -1]}],
        non_sequences=[x[2]],
        n_steps=5,
        truncate_gradient=2,
    )
    g = ft.grad(ys.sum(), x)
    return _graph([x], [ys, g]), [_V]


def _shared_updates() -> tuple[Graph, list]:
    w = fc.shared(np.arange(3.0), name="w")
    x = ft.dvector("x")
    return _graph([x], (w * x).sum(), updates=[(w, w * 1.5 + x)]), [_V[:3]]


def _random() -> tuple[Graph, list]:
    srng = fc.RandomStreams(seed=3)
    return _graph([], [srng.normal(size=(3,)), srng.uniform(size=(2,))]), []


def _ofg_ifelse() -> tuple[Graph, list]:
    x, y = ft.dvectors("x", "y")
    op = fc.OpFromGraph([x, y], [x * y + ft.exp(x)])
    out = fc.ifelse(ft.gt(x.sum(), 0), op(x, y), op(y, x))
    return _graph([x, y], [out, ft.grad(out.sum(), x)]), [_V, _V[::-1].copy()]


def _csr(a: np.ndarray) -> Any:
    import scipy.sparse as sp

    return sp.csr_matrix(a)


@ft.as_op(itypes=[ft.dvector], otypes=[ft.dvector])
def _twice(v: np.ndarray) -> np.ndarray:
    return v * 2


def _sparse() -> tuple[Graph, list]:
    s = sparse.csr_matrix("s")
    d = ft.dmatrix("d")
    outs = [
        sparse.dense_from_sparse(sparse.add(s, s)),
        sparse.structured_dot(s, d),
        sparse.sp_sum(s, axis=0),
        sparse.dense_from_sparse(sparse.transpose(s)),
        ft.grad(sparse.sp_sum(sparse.mul(s, d), sparse_grad=False), d),
    ]
    return _graph([s, d], outs), [_csr(_A * (_A > 0.5)), _A]


def _tensor_ops() -> tuple[Graph, list]:
    x, m = ft.dvector("x"), ft.dmatrix("m")
    outs = [
        ft.cumsum(x),
        ft.sort(x),
        ft.argsort(x),
        ft.repeat(x, 2),
        ft.tile(x, 2),
        ft.concatenate([x, x]),
        ft.reshape(m, (9,)),
        m[1:, ::2],
        ft.set_subtensor(m[0], x[:3]),
        m[[0, 2]],
        ft.inc_subtensor(m[[0, 0]], 1.0),
        ft.argmax(m, axis=0),
        ft.arange(4),
        ft.eye(3),
        ft.alloc(x[0], 2, 2),
        ft.tensordot(m, m, 1),
        ft.matmul(m, m),
        ft.dot(m, x[:3]),
        ft.softmax(m),
        ft.var(m, axis=1),
        ft.grad((ft.sort(x) * ft.arange(4)).sum() + ft.repeat(x, 2).sum() + m[1:, ::2].sum(), x),
    ]
    return _graph([x, m], outs), [_V, _A]


_IMAGE = _RNG.standard_normal((1, 1, 5, 5))


def _nnet() -> tuple[Graph, list]:
    x, w = ft.dtensor4("x"), ft.dtensor4("w")
    c = conv.conv2d(x, w)
    p = pool.pool_2d(x, (2, 2), True)
    n = neighbours.images2neibs(x[:, :, :4, :4], (2, 2))
    cost = c.sum() + (p**2).sum() + pool.pool_2d(x, (2, 2), True, mode="average_exc_pad").sum() + (n**2).sum()
    max_grad_grad = ft.grad((ft.grad((p**2).sum(), x) ** 2).sum(), x)
    return _graph([x, w], [c, p, n, ft.grad(cost, x), ft.grad(cost, w), max_grad_grad]), [
        _IMAGE,
        _RNG.standard_normal((1, 1, 2, 2)),
    ]


def _conv3d_ctc() -> tuple[Graph, list]:
    x, w = ft.dtensor5("x"), ft.dtensor5("w")
    a, labels, lengths = ft.dtensor3("a"), ft.imatrix("l"), ft.ivector("n")
    c, loss = conv.conv3d(x, w), ctc(a, labels, lengths)
    hess = ft.grad((ft.grad(loss.sum(), a) ** 2).sum(), a)  # the Hessian times a direction
    outs = [c, ft.grad(c.sum(), x), ft.grad(c.sum(), w), loss, ft.grad(loss.sum(), a), hess]
    args = [
        _RNG.standard_normal((1, 1, 3, 3, 3)),
        _RNG.standard_normal((1, 1, 2, 2, 2)),
        _RNG.standard_normal((4, 1, 3)),
        np.array([[1, 2]], "int32"),
        np.array([4], "int32"),
    ]
    return _graph([x, w, a, labels, lengths], outs), args


def _extras() -> tuple[Graph, list]:
    x, m, i = ft.dvector("x"), ft.dmatrix("m"), ft.lvector("i")
    h = hyp2f1(0.5, 0.3, 1.5, x * 0.1)
    marked = ft.grad_clip(x, -1, 1) * ft.grad_scale(x, 2) * ft.zero_grad(x) * ft.disconnected_grad(x)
    outs = [
        fft.irfft(fft.rfft(m)),
        data_ops.unique(i),
        data_ops.bincount(i),
        data_ops.searchsorted(ft.sort(x), x),
        data_ops.nonzero(i)[0],
        h,
        ft.grad(h.sum(), x),
        linalg_extra.expm(m),
        linalg_extra.lu_solve(linalg_extra.lu_factor(m), x[:3]),
        linalg_scipy.schur(m)[0],
        linalg_scipy.qz(m, m + 1)[0],
        linalg_scipy.qr(m, pivoting=True)[0],
        linalg_scipy.solve_discrete_are(m * 0.1, m, ft.eye(3), ft.eye(3)),
        linalg_scipy.tridiagonal_lu_solve(
            linalg_scipy.tridiagonal_lu_factor(m + 4 * ft.eye(3)), x[:3], b_ndim=1
        ),
        index_ops.ravel_multi_index((i, i), (5, 5)),
        index_ops.unravel_index(i, (2, 3))[0],
        ft.specify_shape(x, (4,)),
        ft.unbroadcast(ft.shape_padleft(x), 0),
        Print("extras")(x),
        ft.assert_op(x, ft.gt(x.sum(), -100)),
        ft.grad(marked.sum(), x),
        undefined_grad(x),
        _twice(x),
        optimize.minimize(((x - 3) ** 2).sum(), x)[0],
        ft.jacobian(ft.exp(x), x),
        ft.batched_tensordot(ft.shape_padleft(m), ft.shape_padleft(m), 1),
    ]
    return _graph([x, m, i], outs), [_V, _A, np.array([0, 1, 1, 4])]


def _sparse_more() -> tuple[Graph, list]:
    s, t = sparse.csr_matrix("s"), sparse.csr_matrix("t")
    d, i, v = ft.dmatrix("d"), ft.lvector("i"), ft.dvector("v")
    sd = sparse.csr_from_dense(d)
    through = (
        sparse.get_item_scalar(sd, 1, 2) ** 3
        + (sparse.get_item_2lists(sd, i, i) ** 3).sum()
        + (sparse.dense_from_sparse(sd[0:2, 1:3]) ** 3).sum()
        + sparse.sp_sum(sparse.sqr(sparse.get_item_list(sd, i)), sparse_grad=True)
        + (sparse.structured_dot(sd, d) ** 2).sum()
        + sparse.sp_sum(sparse.sqr(sparse.add_s_s_data(sd, sd)), sparse_grad=True)
    )
    outs = [
        sparse.get_item_scalar(s, 1, 1),
        sparse.get_item_2lists(s, i, i),
        sparse.true_dot(s, d),
        sparse.usmm(2.0, s, d, d),
        sparse.csm_properties(s)[0],
        sparse.dense_from_sparse(sparse.hstack([s, t])),
        sparse.dense_from_sparse(sparse.remove0(s)),
        sparse.dense_from_sparse(sparse.ensure_sorted_indices(s)),
        sparse.dense_from_sparse(sparse.lt(s, t)),
        sparse.lt(s, d),
        sparse.add(s, d),
        sparse.dense_from_sparse(sparse.neg(s)),
        sparse.diag(s),
        sparse.dense_from_sparse(sparse.square_diagonal(v)),
        ft.grad(through, d),
    ]
    args = [_csr(_A * (_A > 0.5)), _csr(_A * (_A < 0)), _A, np.array([0, 2, 1, 0]), _V[:3]]
    return _graph([s, t, d, i, v], outs), args


def _more() -> tuple[Graph, list]:
    x, m, t = ft.dvector("x"), ft.dmatrix("m"), ft.dtensor3("t")
    i, k, s = ft.lvector("i"), ft.lscalar("k"), sparse.csr_matrix("s")
    srng = fc.RandomStream(seed=5)
    indexed = (m[i[:2]] ** 2).sum() + (ft.set_subtensor(m[i[:2]], 1.0) ** 2).sum()
    outs = [
        ft.matmul(t, t),
        ft.argsort(x, kind="stable"),
        ft.sort(x, axis=k),
        einsum("ij,jk->ik", m, m),
        einsum("bij,bjk->bik", t, t),
        ft.topk(x, k + 2),
        CheckAndRaise(ValueError, "negative")(x, ft.gt(x.sum(), -100)),
        CheckAndReport(ValueError, "sum {0} too small")(x, ft.gt(x.sum(), -100), x.sum()),
        BroadcastCheck("mul", 0)(x, ft.eq(x.shape[0], x.shape[0]), x.shape[0], x.shape[0]),
        srng.normal(size=(2,)),
        srng.choice(5, size=(3,), replace=False),
        sparse.dense_from_sparse(sparse.fcast(s)),
        sparse.dot(s, s),
        ft.grad(ft.grad(ft.det(m), m).sum(), m),  # the cofactors' gradient
        ft.grad(hyp2f1(x * 0.1 + 1, 0.3, 1.5, 0.2).sum(), x),
        ft.grad(ft.grad(ft.gammainc(x**2 + 1, 1.5).sum(), x).sum(), x),  # gammainc's second in k
        ft.grad(ft.grad(ft.betainc(x**2 + 1, 2.0, 0.3).sum(), x).sum(), x),  # betainc's in a
        ft.grad(indexed, m),
        ft.grad((sparse.sparse_grad(m[i[:2]]) ** 2).sum(), m),
        ft.grad(ft.mean(m) + ft.repeat(x, i).sum(), [m, x])[1],
    ]
    args = [_V, _A, _RNG.standard_normal((2, 3, 3)), np.array([0, 2, 1, 1]), 0, _csr(_A * (_A > 0.5))]
    return _graph([x, m, t, i, k, s], outs), args


GRAPHS: dict[str, Callable[[], tuple[Graph, list]]] = {
    "more": _more,
    "nnet": _nnet,
    "conv3d_ctc": _conv3d_ctc,
    "extras": _extras,
    "sparse_more": _sparse_more,
    "linalg": _linalg,
    "complex_linalg": _complex_linalg,
    "scan_taps": _scan_taps,
    "shared_updates": _shared_updates,
    "random": _random,
    "ofg_ifelse": _ofg_ifelse,
    "sparse": _sparse,
    "tensor_ops": _tensor_ops,
}


def _compiled(graph: Graph, args: list) -> tuple[fc.Function, list]:
    inputs, outputs, kwargs = graph
    return fc.function(inputs, outputs, **kwargs), args


def _values(out: Any) -> list:
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [o.toarray() if hasattr(o, "toarray") else np.asarray(o) for o in outs]


def _pickles(f: fc.Function) -> dict[str, bytes]:
    return {"fc": fc.dumps(f), "pickle": pickle.dumps(f), "cloudpickle": cloudpickle.dumps(f)}


def _load(how: str, data: bytes) -> fc.Function:
    return fc.loads(data) if how == "fc" else pickle.loads(data)


def _two_calls(f: fc.Function, args: list) -> list:
    """Two calls' outputs and then the shared values: updates and draws continue."""
    first, second = _values(f(*args)), _values(f(*args))
    return first + second + [np.asarray(sv.get_value()) for sv in f.shared_variables]


def _check(got: list, want: list, what: str) -> None:
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"{what}: output {k}")


#: the functions built in FAST_COMPILE too (those whose graph that mode leaves different and
#: that compile fast: the whole bank twice would double the test's time)
FAST_COMPILE = ("scan_taps", "shared_updates", "random", "ofg_ifelse", "sparse")


def build_bank(mode: str, names: Sequence[str]) -> dict[str, tuple[dict[str, bytes], list, list]]:
    """name -> (the function's pickles, its arguments, what two calls of the original give)."""
    with fc.config.change_flags(mode=mode):
        made = {name: _compiled(*GRAPHS[name]()) for name in names}
    bank = {}
    for name, (f, args) in made.items():
        data = _pickles(f)  # before the calls: the loaded function starts from the same state
        bank[name] = (data, args, _two_calls(f, args))
    return bank


def check_bank(bank: dict[str, tuple[dict[str, bytes], list, list]]) -> None:
    for name, (data, args, want) in bank.items():
        for how, payload in data.items():
            f = _load(how, payload)
            assert f.original_graph is not None and f.optimized_graph is not None
            _check(_two_calls(f, args), want, f"{name} by {how}")


@pytest.fixture(scope="module")
def banks() -> dict[str, dict]:
    return {
        "FAST_RUN": build_bank("FAST_RUN", list(GRAPHS)),
        "FAST_COMPILE": build_bank("FAST_COMPILE", FAST_COMPILE),
    }


#: op class -> why no function of the bank holds one (each is pickled as an op alone by
#: test_op_identity)
NOT_IN_BANK = {
    "fncache.tensor.advanced_subtensor._AdvancedIndexOp": "a base class",
    "fncache.tensor.conv._ConvOp": "a base class",
    "fncache.tensor.neighbours._NeibsOp": "a base class",
    "fncache.tensor.signal.pool._PoolOp": "a base class",
    "fncache.tensor.inner_graph.InnerGraphOp": "a base class",
    "fncache.tensor.grad_markers.GradMarker": "a base class",
    "fncache.tensor.gamma_shape._ShapeDerivative": "a base class",
    "fncache.tensor.ifelse_op.IfElseBranch": "a branch of a LazyIfElse, built where it runs",
    "fncache.tensor.advanced_subtensor.AdvancedSetGrad": "no public call in the bank reaches it",
    "fncache.tensor.blas.RowPass": "no public call in the bank reaches it",
    "fncache.tensor.conv.ConvForward": "no public call in the bank reaches it",
    "fncache.tensor.conv.ConvGradInputs": "no public call in the bank reaches it",
    "fncache.tensor.conv.ConvGradWeights": "no public call in the bank reaches it",
    "fncache.tensor.grad_ops.ReducedSize": "no public call in the bank reaches it",
    "fncache.tensor.grad_ops.ZerosSum": "no public call in the bank reaches it",
    "fncache.tensor.random.RandomDraw": "no public call in the bank reaches it",
}


def _op_classes(graph: Any, found: set[type]) -> set[type]:
    for node in graph.toposort():
        found.add(type(node.op))
        for inner in node.op.inner_ops() if hasattr(node.op, "inner_ops") else ():
            _op_classes(inner.inner, found)
    return found


def test_the_bank_holds_every_op_class(banks: dict) -> None:
    found: set[type] = set()
    for data, _, _ in banks["FAST_RUN"].values():
        f = fc.loads(data["fc"])
        _op_classes(f.original_graph, found)
        _op_classes(f.optimized_graph, found)
    missing = [_name(c) for c in OP_CLASSES if c not in found and _name(c) not in NOT_IN_BANK]
    assert not missing, f"op classes no pickled function holds: {missing}"


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_functions_load_and_compute_alike_in_this_process(banks: dict, mode: str) -> None:
    check_bank(banks[mode])


def test_functions_load_and_compute_alike_in_a_fresh_process(banks: dict, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bank.pkl"
    path.write_bytes(pickle.dumps(banks))
    # the compiledir of this process: the fresh one links the native code compiled here (as a
    # worker sharing a cluster's compiledir does) instead of compiling the bank again
    code = in_tests_dir(fc.config.compiledir, "from test_pickle_every_op import check_bank") + (
        f"import pickle\nfor bank in pickle.loads(open({str(path)!r}, 'rb').read()).values():\n"
        "    check_bank(bank)\nprint('ok')\n"
    )
    assert run_python(code, os.path.dirname(os.path.abspath(__file__))).splitlines()[-1] == "ok"
