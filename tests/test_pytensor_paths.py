"""PyTensor's and Theano's module paths a ported script imports from (``fncache.tensor.math``,
``.basic``, ``.type``, ``.var``, ``.sort``, ``.elemwise``, ``.xlogx``, ``.linalg``,
``.nnet.sigm``, ``.signal.conv``, ``.random``, ``fncache.scan``, ``fncache.graph.fg``,
``fncache.misc.pkl_utils``, ``fncache.printing.pydotprint``): each name is fncache's own, and
computes what numpy and scipy do."""

from __future__ import annotations

import importlib
import types
import io
import shutil

import numpy as np
import pytest
import scipy.special
import scipy.signal

import fncache as fc
from fncache import tensor as ft

from fcutil import fd_check_grads, run_python

#: each new module path and names that are fncache's own names (``ft.<name>`` unless given)
PATHS = {
    "fncache.tensor.math": ["sum", "dot", "mean", "max", "logsumexp", "exp", "clip", "psi", "max_and_argmax"],
    "fncache.tensor.basic": ["zeros", "ones", "alloc", "choose", "stack", "concatenate", "join"],
    "fncache.tensor.type": ["TensorType", "dmatrix", "fvector", "tensor", "scalar", "tensor3"],
    "fncache.tensor.var": ["TensorVariable", "TensorConstant"],
    "fncache.tensor.sort": ["sort", "argsort", "topk", "argtopk", "topk_and_argtopk"],
    "fncache.tensor.xlogx": ["xlogx", "xlogy0"],
    # (its qr is PyTensor's, slinalg.qr: tests/test_pytensor_surface5.py)
    "fncache.tensor.linalg": ["det", "inv", "solve", "cholesky", "svd", "kron"],
    "fncache.tensor.nnet.sigm": ["sigmoid", "softplus"],
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_module_paths_hold_the_front_ends_names(path: str) -> None:
    module = importlib.import_module(path)
    for name in PATHS[path]:
        front = getattr(ft, name)  # ft.xlogx: Theano's module, callable as its function
        front = front.__wrapped__ if isinstance(front, types.ModuleType) else front
        assert getattr(module, name) is front, (path, name)
    for name in getattr(module, "__all__", ()):
        getattr(module, name)  # every name it lists resolves
    # importing a module named as a front-end function leaves the function in place
    assert ft.sort is ft.array_ops.sort and ft.var is ft.reduction.var


def test_each_module_is_a_place_of_existing_code() -> None:
    from fncache.graph.fg import FunctionGraph
    from fncache.graph.fgraph import FunctionGraph as Own
    from fncache.tensor.elemwise import DimShuffle, Elemwise
    from fncache.tensor.linalg import norm
    from fncache.tensor.nnet.sigm import hard_sigmoid, ultra_fast_sigmoid
    from fncache.tensor.var import TensorSharedVariable

    assert FunctionGraph is Own
    assert norm is ft.nlinalg.norm
    assert (hard_sigmoid, ultra_fast_sigmoid) == (ft.nnet.hard_sigmoid, ft.nnet.ultra_fast_sigmoid)
    assert ft.nnet.sigm is importlib.import_module("fncache.tensor.nnet.sigm")
    x = ft.dmatrix("x")
    assert isinstance(x.T.owner.op, DimShuffle) and isinstance(ft.exp(x).owner.op, Elemwise)
    assert isinstance(fc.shared(np.ones(2)), TensorSharedVariable)
    assert isinstance(x, importlib.import_module("fncache.tensor.var").TensorVariable)
    from fncache.tensor.random.utils import RandomStream

    assert RandomStream is fc.RandomStream
    from fncache.misc import pkl_utils

    assert callable(pkl_utils.dump) and callable(pkl_utils.load)
    with pytest.raises(AttributeError, match="fncache.tensor.basic' has no attribute 'nope'"):
        importlib.import_module("fncache.tensor.basic").nope  # noqa: B018
    # PyTensor's pt.random.normal, pt.math.sum, pt.linalg.norm: the modules as ft's attributes,
    # left out of a star import (Python's math, random and type would be shadowed)
    for name in ("random", "math", "linalg", "type"):
        assert getattr(ft, name) is importlib.import_module(f"fncache.tensor.{name}")
        assert name not in ft.__all__
    assert ft.linalg.norm is norm and ft.math.logsumexp is ft.logsumexp
    # the sub-modules of ft.nnet stay where they were (ft.nnet.conv is fncache.tensor.conv)
    assert ft.nnet.conv is importlib.import_module("fncache.tensor.conv") and callable(ft.nnet.conv2d)


def test_the_paths_compute_as_numpy() -> None:
    from fncache.tensor import basic, linalg, math
    from fncache.tensor.sort import sort, topk
    from fncache.tensor.xlogx import xlogx, xlogy0

    # as in PyTensor, ``from fncache.tensor import sort`` is the function (ft.sort), not the module
    from fncache.tensor import sort as same

    assert same is sort is ft.sort

    a, m, k = ft.dvector("a"), ft.dmatrix("m"), ft.lvector("k")
    outs = [
        math.sum(m, axis=0),
        math.dot(m, a),
        math.mean(m),
        math.max(m, axis=1),
        basic.concatenate([a, basic.zeros(2)]),
        basic.stack([a, basic.ones(3)]),
        basic.choose(k, [a, a * 10]),
        basic.alloc(1.5, 2, 3),
        sort(a),
        topk(a, 2),
        xlogx(basic.concatenate([a, basic.zeros(1)]) ** 2),
        xlogy0(a * 0, a),
        linalg.norm(m),
        linalg.det(math.dot(m, m.T)),
    ]
    f = fc.function([a, m, k], outs)
    av, mv, kv = np.array([0.5, -2.0, 3.0]), np.arange(6.0).reshape(2, 3) - 1, np.array([1, 0, 1])
    sq = np.concatenate([av, [0.0]]) ** 2
    want = [
        mv.sum(0),
        mv @ av,
        mv.mean(),
        mv.max(1),
        np.concatenate([av, np.zeros(2)]),
        np.stack([av, np.ones(3)]),
        np.choose(kv, [av, av * 10]),
        np.full((2, 3), 1.5),
        np.sort(av),
        np.sort(av)[::-1][:2],
        np.where(sq == 0, 0.0, sq * np.log(np.where(sq == 0, 1, sq))),
        np.zeros(3),
        np.linalg.norm(mv),
        np.linalg.det(mv @ mv.T),
    ]
    for got, ref in zip(f(av, mv, kv), want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


# -- logsumexp ---------------------------------------------------------------------------------
LSE_ROWS = np.array(
    [
        [0.5, -1.0, 2.0, 3.0],
        [-np.inf, -np.inf, -np.inf, -np.inf],
        [np.inf, 1.0, 2.0, -np.inf],
        [np.inf, np.inf, 0.0, 0.0],
        [1000.0, 1000.0, -1000.0, 999.0],
        [-1000.0, -1001.0, -np.inf, -1002.0],
        [np.nan, 1.0, 2.0, 3.0],
        [-np.inf, 0.0, -np.inf, -np.inf],
    ]
)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_against_scipy(axis: object, keepdims: bool) -> None:
    from fncache.tensor.math import logsumexp

    x = ft.dmatrix("x")
    f = fc.function([x], logsumexp(x, axis=axis, keepdims=keepdims))
    rows = LSE_ROWS if axis not in (None, 0, (0, 1)) else LSE_ROWS[[0, 4, 5]]  # finite columns too
    with np.errstate(invalid="ignore"):
        want = scipy.special.logsumexp(rows, axis=axis, keepdims=keepdims)
    got = f(rows)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)
    if axis in (1, -1):
        assert got.ravel()[1] == -np.inf and got.ravel()[2] == np.inf and got.ravel()[3] == np.inf


def test_logsumexp_float32_and_gradient() -> None:
    from fncache.tensor.math import logsumexp

    x32 = ft.fmatrix("x32")
    v = np.array([[80.0, 81.0, -3.0], [-200.0, -201.0, -199.0]], dtype=np.float32)
    out = fc.function([x32], logsumexp(x32, axis=1))(v)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, scipy.special.logsumexp(v.astype(np.float64), axis=1), rtol=1e-6)
    x = ft.dmatrix("x")
    # the gradient is the softmax, finite for inputs whose exp overflows
    g = fc.function([x], fc.grad(logsumexp(x, axis=1).sum(), x))
    big = np.array([[1000.0, 1000.0, 990.0], [0.1, -0.3, 2.0]])
    np.testing.assert_allclose(g(big), scipy.special.softmax(big, axis=1), rtol=1e-12)
    fd_check_grads(
        [x],
        {
            "lse": (lambda x: logsumexp(x, axis=1), [0]),
            "lse_all": (lambda x: logsumexp(x, keepdims=True), [0]),
        },
        [[np.array([[0.3, -1.2, 2.0], [5.0, 4.5, -0.5]])]],
    )


# -- hard_sigmoid, ultra_fast_sigmoid ----------------------------------------------------------
def _hard(x: np.ndarray) -> np.ndarray:
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _ultra_fast(x: np.ndarray) -> np.ndarray:
    """Theano's C code of UltraFastScalarSigmoid, written out for each element."""
    out = []
    for v in np.asarray(x, dtype=np.float64).ravel():
        h = 0.5 * v
        u = abs(h)
        z = (
            1.5 * u / (1 + u)
            if u < 1.7
            else (0.935409070603099 + 0.0458812946797165 * (u - 1.7) if u < 3 else 0.99505475368673)
        )
        out.append(0.5 * ((z if h >= 0 else -z) + 1.0))
    return np.array(out).reshape(np.shape(x))


SIGM_X = np.array(
    [-20.0, -6.0, -5.0, -3.4, -3.0, -2.5, -1.0, -1e-3, 0.0, 0.7, 2.5, 3.39, 3.41, 5.9, 6.1, 40.0]
)


def test_hard_and_ultra_fast_sigmoid_are_theanos_formulas() -> None:
    from fncache.tensor.nnet.sigm import hard_sigmoid, sigmoid, ultra_fast_sigmoid

    x, x32 = ft.dvector("x"), ft.fvector("x32")
    f = fc.function(
        [x, x32],
        [hard_sigmoid(x), ultra_fast_sigmoid(x), sigmoid(x), hard_sigmoid(x32), ultra_fast_sigmoid(x32)],
    )
    h, u, s, h32, u32 = f(SIGM_X, SIGM_X.astype(np.float32))
    np.testing.assert_allclose(h, _hard(SIGM_X), rtol=0, atol=1e-15)
    np.testing.assert_allclose(u, _ultra_fast(SIGM_X), rtol=0, atol=1e-15)
    np.testing.assert_allclose(s, scipy.special.expit(SIGM_X), rtol=1e-14)
    assert h32.dtype == u32.dtype == np.float32
    np.testing.assert_allclose(h32, _hard(SIGM_X), atol=1e-6)
    np.testing.assert_allclose(u32, _ultra_fast(SIGM_X), atol=1e-6)
    # the approximations stay within Theano's stated errors of the sigmoid
    dense = np.linspace(-12, 12, 2001)
    hd, ud, _, _, _ = f(dense, dense.astype(np.float32))
    assert np.abs(hd - scipy.special.expit(dense)).max() < 0.08
    assert np.abs(ud - scipy.special.expit(dense)).max() < 0.03
    # an int input is computed in float, as Theano's upgrade_to_float
    i = ft.lvector("i")
    np.testing.assert_allclose(fc.function([i], hard_sigmoid(i))(np.array([-3, 0, 1])), [0.0, 0.5, 0.7])


def test_hard_and_ultra_fast_sigmoid_gradients() -> None:
    from fncache.tensor.nnet.sigm import hard_sigmoid, ultra_fast_sigmoid

    x = ft.dvector("x")
    gh = fc.function([x], fc.grad(hard_sigmoid(x).sum(), x))
    np.testing.assert_array_equal(gh(np.array([-4.0, -1.0, 0.0, 2.0, 3.0])), [0.0, 0.2, 0.2, 0.2, 0.0])
    # away from the kinks (|x| = 2.5 for hard_sigmoid; |x| = 3.4 and 6 for ultra_fast_sigmoid)
    away = np.array([-7.0, -4.2, -2.0, -0.3, 0.4, 1.1, 3.0, 4.5, 8.0])
    fd_check_grads(
        [x],
        {"hard": (lambda x: hard_sigmoid(x), [0]), "ultra_fast": (lambda x: ultra_fast_sigmoid(x), [0])},
        [[away]],
    )


# -- signal.conv.conv2d ------------------------------------------------------------------------
def _scipy_conv(xv: np.ndarray, wv: np.ndarray, mode: str, step: tuple[int, int]) -> np.ndarray:
    xs, ws = (xv if xv.ndim == 3 else xv[None]), (wv if wv.ndim == 3 else wv[None])
    out = np.array(
        [[scipy.signal.convolve2d(a, b, mode=mode)[:: step[0], :: step[1]] for b in ws] for a in xs]
    )
    # an operand given as a matrix has no axis in the result
    out = out[0] if xv.ndim == 2 else out
    return out[..., 0, :, :] if wv.ndim == 2 else out


@pytest.mark.parametrize("x_ndim", [2, 3])
@pytest.mark.parametrize("w_ndim", [2, 3])
def test_signal_conv2d_against_scipy(x_ndim: int, w_ndim: int) -> None:
    from fncache.tensor.signal.conv import conv2d

    rng = np.random.default_rng(7)
    X, W = rng.normal(size=(3, 7, 6)), rng.normal(size=(2, 3, 2))
    xv, wv = (X if x_ndim == 3 else X[0]), (W if w_ndim == 3 else W[0])
    x, w = ft.tensor("x", ndim=x_ndim), ft.tensor("w", ndim=w_ndim)
    outs = [conv2d(x, w), conv2d(x, w, border_mode="full", subsample=(2, 1))]
    outs.append(conv2d(x, w, image_shape=xv.shape, filter_shape=wv.shape))
    f = fc.function([x, w], outs)
    got = f(xv, wv)
    np.testing.assert_allclose(got[0], _scipy_conv(xv, wv, "valid", (1, 1)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], _scipy_conv(xv, wv, "full", (2, 1)), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[2], got[0])
    assert outs[2].type.shape == got[0].shape  # the declared shapes give the static one
    assert ft.signal.conv.conv2d is conv2d


def test_signal_conv2d_gradient_and_errors() -> None:
    from fncache.tensor.signal.conv import conv2d

    x, w = ft.dtensor3("x"), ft.dmatrix("w")
    rng = np.random.default_rng(2)
    fd_check_grads(
        [x, w],
        {"conv": (lambda x, w: conv2d(x, w, border_mode="full"), [0, 1])},
        [[rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 2))]],
    )
    with pytest.raises(ValueError, match="border_mode must be 'valid' or 'full'.*got 'half'"):
        conv2d(x, w, border_mode="half")
    with pytest.raises(TypeError, match="images must be a matrix .* or a 3-d tensor.*ft.nnet.conv2d"):
        conv2d(ft.dtensor4("x4"), w)
    with pytest.raises(ValueError, match="image_shape must have 3 entries"):
        conv2d(x, w, image_shape=(4, 3))


# -- fncache.tensor.random ---------------------------------------------------------------------
def test_random_functions_draw_from_the_given_stream() -> None:
    import fncache.tensor.random as R
    from fncache.tensor.random.basic import normal

    assert normal is R.normal and R.basic.uniform is R.uniform
    assert set(R.DRAWS) <= set(R.basic.__all__)
    a = R.normal(1.0, 2.0, size=(4,), rng=fc.RandomStream(5))
    b = fc.RandomStream(5).normal(1.0, 2.0, size=(4,))
    c = R.integers(0, 10, size=3, rng=fc.RandomStream(5))
    d = fc.RandomStream(5).integers(0, 10, size=3)
    f = fc.function([], [a, b, c, d])
    for _ in range(2):  # and again on the next call, where both streams advanced
        got = f()
        np.testing.assert_array_equal(got[0], got[1])
        np.testing.assert_array_equal(got[2], got[3])
    free = fc.function([], R.uniform(2.0, 3.0, size=(1000,)))()
    assert free.shape == (1000,) and (free >= 2).all() and (free < 3).all() and 2.4 < free.mean() < 2.6
    with pytest.raises(
        TypeError,
        match=r"normal: rng must be a random state, an fc.RandomStream .* got Generator; make it a shared random state",
    ):
        R.normal(rng=np.random.default_rng(0))
    with pytest.raises(AttributeError):
        R.no_such_distribution  # noqa: B018


# -- fncache.scan ------------------------------------------------------------------------------
def test_scan_package_paths_and_the_callable() -> None:
    import fncache.scan
    import fncache.scan.utils as utils
    from fncache.scan.basic import scan
    from fncache.scan.checkpoints import scan_checkpoints
    from fncache.scan.op import Scan
    from fncache.scan.views import foldl, map

    assert fc.scan is fncache.scan and callable(fc.scan)
    assert scan is ft.scan is fc.scan.scan and utils.until is ft.until is fc.until
    assert fc.scan.utils.until is ft.until and fc.scan.foldl is foldl is fc.foldl and map is fc.map
    assert (
        scan_checkpoints is fc.scan_checkpoints
        and Scan is importlib.import_module("fncache.tensor.scan").Scan
    )
    x = ft.dvector("x")
    # a loop with a stop condition, written with the module paths and with fc.scan(...)
    step = lambda v, acc: (acc + v, utils.until(acc + v > 4.0))  # noqa: E731
    for loop in (fc.scan, scan):
        out, _ = loop(step, sequences=x, outputs_info=ft.constant(0.0))
        got = fc.function([x], out)(np.array([1.0, 2.0, 3.0, 4.0]))
        np.testing.assert_array_equal(got, [1.0, 3.0, 6.0])
    assert any(isinstance(n.op, Scan) for n in fc.function([x], out).optimized_graph.toposort())
    import inspect

    assert "outputs_info" in inspect.signature(fc.scan).parameters
    c = ft.dscalar("c")
    assert fc.function([c], fc.ifelse(c > 0, c, -c))(-2.0) == 2.0  # fc.ifelse is callable as before


# -- fncache.misc.pkl_utils --------------------------------------------------------------------
def test_pkl_utils_dump_and_load(tmp_path) -> None:
    from fncache.misc.pkl_utils import dump, load

    x = ft.dvector("x")
    w = fc.shared(np.array([1.0, 2.0]), "w")
    f = fc.function([x], (x * w).sum())
    model = {"f": f, "w": w, "scale": np.float64(3.0)}
    path = tmp_path / "model.pkl"
    dump(model, str(path))
    with open(tmp_path / "model2.pkl", "wb") as fh:
        dump(model, fh)
    for back in (load(path), load(open(tmp_path / "model2.pkl", "rb"))):
        assert back["f"](np.array([1.0, 1.0])) == 3.0
        np.testing.assert_array_equal(back["w"].get_value(), [1.0, 2.0])
        np.testing.assert_array_equal(back["f"].shared_variables[0].get_value(), [1.0, 2.0])
        assert back["scale"] == 3.0
    with pytest.raises(TypeError, match="dump: the file is open in text mode; open it in binary mode"):
        dump(model, io.StringIO())
    with open(path, "r") as text:
        with pytest.raises(TypeError, match=r"load: the file is open in text mode.*'rb'"):
            load(text)


# -- fncache.printing.pydotprint ---------------------------------------------------------------
def test_pydotprint_writes_dot_text(tmp_path) -> None:
    from fncache.printing import pydotprint

    x = ft.dvector("x")
    w = fc.shared(np.ones(2), "w")
    f = fc.function([x], [(ft.exp(x) * w).sum(), x * 2])
    text = pydotprint(f, tmp_path / "g.dot", format="dot")
    assert (tmp_path / "g.dot").read_text() == text
    assert text.startswith("digraph fncache_graph {") and text.rstrip().endswith("}")
    assert '[label="x float64[None]"' in text and '[label="w float64[None]"' in text
    assert 'out0 [label="out0 float64[]"' in text and 'out1 [label="out1 float64[None]"' in text
    assert text.count(" -> out") == 2 and "shape=ellipse" in text
    # variables too, with quotes in a name escaped
    y = ft.dvector('y"q')
    text = pydotprint([(y * 2 + 1).sum()], tmp_path / "h.dot", format="dot")
    assert 'y\\"q float64[None]' in text and '"add"' in text
    with pytest.raises(ValueError, match="format must be a Graphviz output format"):
        pydotprint(f, tmp_path / "g.x", format="../png")
    with pytest.raises(TypeError, match="pydotprint: expected a Function, a graph, variables or a node"):
        pydotprint(3, tmp_path / "g.dot", format="dot")


def test_pydotprint_without_graphviz_says_how_to_get_the_text(tmp_path, monkeypatch) -> None:
    from fncache.printing import pydotprint
    from fncache.runtime import graphviz

    x = ft.dvector("x")
    monkeypatch.setattr(graphviz.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"format='png' needs Graphviz's 'dot' program.*format='dot'"):
        pydotprint([x * 2], tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_pydotprint_renders_with_graphviz(tmp_path) -> None:
    from fncache.printing import pydotprint

    x = ft.dvector("x")
    pydotprint([x * 2], tmp_path / "g.svg", format="svg")
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_import_fncache_loads_none_of_the_new_modules() -> None:
    new = [
        "fncache.tensor.math",
        "fncache.tensor.type",
        "fncache.tensor.var",
        "fncache.tensor.sort",
        "fncache.tensor.xlogx",
        "fncache.tensor.linalg",
        "fncache.tensor.nnet.sigm",
        "fncache.tensor.signal.conv",
        "fncache.tensor.random.basic",
        "fncache.tensor.random.utils",
        "fncache.scan",
        "fncache.graph.fg",
        "fncache.misc",
        "fncache.misc.pkl_utils",
        "fncache.runtime.graphviz",
    ]
    out = run_python(
        "import sys, fncache, fncache.tensor as ft; ft.dvector('x');"
        f"print([m for m in {new!r} if m in sys.modules])"
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize("sub", ["bn", "neighbours", "abstract_conv", "conv", "ctc"])
def test_theanos_nnet_submodules_import_by_path(sub: str) -> None:
    # `from theano.tensor.nnet.bn import batch_normalization_train`, as ported scripts write it
    import importlib

    mod = importlib.import_module(f"fncache.tensor.nnet.{sub}")
    assert mod is importlib.import_module(f"fncache.tensor.{sub}") is getattr(ft.nnet, sub)
    exec(f"from fncache.tensor.nnet.{sub} import {mod.__all__[0]}", {})
