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
from typing import Any, Callable

import cloudpickle
import numpy as np
import pytest

import fncache as fc
from fncache import sparse
from fncache import tensor as ft
from fncache.graph.basic import Op
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

_RNG = np.random.default_rng(7)
_A = _RNG.standard_normal((3, 3)) + 3 * np.eye(3)
_Z = _A + 1j * _RNG.standard_normal((3, 3))
_V = _RNG.standard_normal(4)


def _linalg() -> tuple[fc.Function, list]:
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
    return fc.function([a], outs), [_A]


def _complex_linalg() -> tuple[fc.Function, list]:
    z = ft.zmatrix("z")
    outs = [ft.matrix_inverse(z), ft.det(z), ft.real(ft.grad(ft.real(ft.det(z)), z)), ft.nlinalg.eig(z)[0]]
    return fc.function([z], outs), [_Z]


def _scan_taps() -> tuple[fc.Function, list]:
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
    return fc.function([x], [ys, g]), [_V]


def _shared_updates() -> tuple[fc.Function, list]:
    w = fc.shared(np.arange(3.0), name="w")
    x = ft.dvector("x")
    return fc.function([x], (w * x).sum(), updates=[(w, w * 1.5 + x)]), [_V[:3]]


def _random() -> tuple[fc.Function, list]:
    srng = fc.RandomStreams(seed=3)
    return fc.function([], [srng.normal(size=(3,)), srng.uniform(size=(2,))]), []


def _ofg_ifelse() -> tuple[fc.Function, list]:
    x, y = ft.dvectors("x", "y")
    op = fc.OpFromGraph([x, y], [x * y + ft.exp(x)])
    out = fc.ifelse(ft.gt(x.sum(), 0), op(x, y), op(y, x))
    return fc.function([x, y], [out, ft.grad(out.sum(), x)]), [_V, _V[::-1].copy()]


def _sparse() -> tuple[fc.Function, list]:
    import scipy.sparse as sp

    s = sparse.csr_matrix("s")
    d = ft.dmatrix("d")
    outs = [
        sparse.dense_from_sparse(sparse.add(s, s)),
        sparse.structured_dot(s, d),
        sparse.sp_sum(s, axis=0),
        sparse.dense_from_sparse(sparse.transpose(s)),
        ft.grad(sparse.sp_sum(sparse.mul(s, d), sparse_grad=False), d),
    ]
    return fc.function([s, d], outs), [sp.csr_matrix(_A * (_A > 0.5)), _A]


def _tensor_ops() -> tuple[fc.Function, list]:
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
    return fc.function([x, m], outs), [_V, _A]


BANK: dict[str, Callable[[], tuple[fc.Function, list]]] = {
    "linalg": _linalg,
    "complex_linalg": _complex_linalg,
    "scan_taps": _scan_taps,
    "shared_updates": _shared_updates,
    "random": _random,
    "ofg_ifelse": _ofg_ifelse,
    "sparse": _sparse,
    "tensor_ops": _tensor_ops,
}


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


def build_bank(mode: str) -> dict[str, tuple[dict[str, bytes], list, list]]:
    """name -> (the function's pickles, its arguments, what two calls of the original give)."""
    with fc.config.change_flags(mode=mode):
        made = {name: build() for name, build in BANK.items()}
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
    return {mode: build_bank(mode) for mode in ("FAST_RUN", "FAST_COMPILE")}


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_functions_load_and_compute_alike_in_this_process(banks: dict, mode: str) -> None:
    check_bank(banks[mode])


def test_functions_load_and_compute_alike_in_a_fresh_process(banks: dict, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bank.pkl"
    path.write_bytes(pickle.dumps(banks))
    code = in_tests_dir(tmp_path / "cd", "from test_pickle_every_op import check_bank") + (
        f"import pickle\nfor bank in pickle.loads(open({str(path)!r}, 'rb').read()).values():\n"
        "    check_bank(bank)\nprint('ok')\n"
    )
    assert run_python(code, os.path.dirname(os.path.abspath(__file__))).strip() == "ok"
