"""float32 gradients, as a Theano or PyTensor user with ``floatX=float32`` trains: for every
case of ``test_grad_higher``'s audit (every registered gradient rule) built on float32 inputs,
each gradient has its input's dtype and type, and no node of the graph makes a float64 from
operands without one (the float64 that doubles memory and slows the GPU path); the float32
gradients equal the float64 ones within float32's rounding; ``warn_float64`` names the float64
a float32 user makes by accident; and the tutorial's logistic regression trained in float32."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import fncache as fc
from fncache import tensor as ft
from fncache.errors import Float64Error
from fncache.graph.basic import Constant, Variable, ancestors
from fncache.tensor import basic

MODE = "FAST_COMPILE"

#: the cases whose float64 is the forward function's own, by design
FORWARD_FLOAT64 = {
    "discrete_are": "solve_discrete_are is float64 for float32 operands, as scipy's",
    "order2 shapes_and_indexing": "the cost casts to float64 itself",
}
#: the cases that cannot be built on float32 inputs
NOT_FLOAT32 = {"inner_graphs": "its OpFromGraph and as_op declare float64 inputs"}


def _is_f64(v: Variable) -> bool:
    return getattr(v, "dtype", None) == "float64"


def float64_sources(outputs: list[Variable]) -> list[str]:
    """The nodes of ``outputs``' graph that make a float64 from operands none of which is a
    float64 variable (constants aside: a rule's float64 constant is such an upcast too)."""
    found = []
    for v in ancestors(outputs):
        node = v.owner
        if node is None or not _is_f64(v):
            continue
        if not any(_is_f64(i) and not isinstance(i, Constant) for i in node.inputs):
            found.append(f"{node.op} of ({', '.join(str(getattr(i, 'type', i)) for i in node.inputs)})")
    return sorted(set(found))


def _float32_cases() -> dict[str, Any]:
    """The audit's cases that take float32 inputs."""
    from test_grad_higher import _all_cases

    return {k: v for k, v in _all_cases().items() if k not in NOT_FLOAT32}


def _build(case: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list, Any, list]:
    """The case's float32 inputs, cost and gradients. Its numpy constants (float64 arrays, as
    numpy makes them) are made float32, as a float32 user writes them, while it builds its
    cost: the gradient rules run unchanged."""
    cost_of, vals, wrt = case
    normalize, grad = basic.normalize_dtype, fc.grad

    def float32_constants(dtype: Any, what: str) -> str:
        dt = normalize(dtype, what)
        return "float32" if dt == "float64" else dt

    def rules_unchanged(*args: Any, **kwargs: Any) -> Any:
        # a gradient taken inside the cost (a case of a gradient's gradient) is built as fc.grad's
        monkeypatch.setattr(basic, "normalize_dtype", normalize)
        try:
            return grad(*args, **kwargs)
        finally:
            monkeypatch.setattr(basic, "normalize_dtype", float32_constants)

    xs = [ft.tensor(f"x{i}", "float32", shape=(None,) * v.ndim) for i, v in enumerate(vals)]
    monkeypatch.setattr(basic, "normalize_dtype", float32_constants)
    monkeypatch.setattr(fc, "grad", rules_unchanged)
    try:
        cost = cost_of(*xs)
    finally:
        monkeypatch.setattr(basic, "normalize_dtype", normalize)
        monkeypatch.setattr(fc, "grad", grad)
    return xs, cost, fc.grad(cost, [xs[i] for i in wrt], disconnected_inputs="ignore")


def test_every_rule_keeps_float32_gradients_float32_of_their_inputs_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Built with ``warn_float64='raise'`` (an elementwise op, a reduction or a dot making a
    float64 from float32 raises), and the graph walked for every other op's float64."""
    wrong, upcasts = [], []
    with fc.config.change_flags(floatX="float32", warn_float64="raise"):
        for name, case in _float32_cases().items():
            try:
                with fc.config.change_flags(warn_float64="ignore" if name in FORWARD_FLOAT64 else "raise"):
                    xs, cost, gs = _build(case, monkeypatch)
            except Float64Error as e:
                upcasts.append(f"{name}: {e}")
                continue
            for i, g in zip(case[2], gs):
                w = xs[i].type
                same = g.ndim == w.ndim and all(a in (None, b) for a, b in zip(w.shape, g.type.shape))
                if g.dtype != "float32" or not same:
                    wrong.append(f"{name}: gradient {g.type} of input {w}")
            if name not in FORWARD_FLOAT64:
                upcasts += [f"{name}: {s}" for s in float64_sources([cost, *gs])]
    assert not wrong, "\n".join(wrong)
    assert not upcasts, "float64 made from float32:\n" + "\n".join(upcasts)


#: float32 gradients' distance from the float64 ones, relative to the largest entry: float32's
#: rounding (eps 1.2e-7) grown by the cases' conditioning (the largest now 5 eps)
RTOL32 = 1e-5


def test_float32_gradients_equal_the_float64_ones_within_float32_rounding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each case's gradients at the same (float32) values, in float32 and in float64, one
    function each."""
    cases = _float32_cases()
    ins32, outs32, ins64, outs64, values = [], [], [], [], []
    with fc.config.change_flags(floatX="float32"):
        for case in cases.values():
            xs, _, gs = _build(case, monkeypatch)
            ins32 += xs
            outs32 += gs
            values += [v.astype("float32") for v in case[1]]
    for cost_of, vals, wrt in cases.values():
        xs = [ft.tensor(dtype="float64", shape=(None,) * v.ndim) for v in vals]
        ins64 += xs
        outs64 += fc.grad(cost_of(*xs), [xs[i] for i in wrt], disconnected_inputs="ignore")
    got = fc.function(ins32, outs32, mode=MODE)(*values)
    want = fc.function(ins64, outs64, mode=MODE)(*[v.astype("float64") for v in values])
    names = [(name, i) for name, case in cases.items() for i in case[2]]
    for (name, i), g32, g64 in zip(names, got, want):
        assert g32.dtype == np.float32, f"{name}: gradient {i} is {g32.dtype}"
        scale = max(float(np.max(np.abs(g64), initial=0.0)), 1e-3)
        np.testing.assert_allclose(g32, g64, rtol=0, atol=RTOL32 * scale, err_msg=f"{name}, input {i}")


def _mixes(t: Any, x: Any, i8: Any, i16: Any) -> dict[str, Any]:
    """A float32 matrix ``x`` with Python numbers and small ints, in module ``t`` (fncache's
    tensor or PyTensor's): all float32 in Theano and PyTensor with ``floatX=float32``."""
    return {
        "x * 2": x * 2,
        "x / 3": x / 3,
        "x ** 2": x**2,
        "x ** 0.5 * 1.5": x**0.5 * 1.5,
        "mean(x)": t.mean(x),
        "mean(x, axis=0) - 0.1": t.mean(x, axis=0) - 0.1,
        "var(x) + std(x)": t.var(x) + t.std(x),
        "x + int8": x + i8,
        "x * int16 / int8": x * i16 / i8,
        "x ** int16": x**i16,
        "2 ** x": 2**x,
        "switch(x > 0, x, 0.01 * x)": t.switch(x > 0, x, 0.01 * x),
        "clip(x, 0, 1) + maximum(x, 0)": t.clip(x, 0, 1) + t.maximum(x, 0),
    }


def test_python_numbers_and_small_ints_keep_float32_forward_and_gradient_as_pytensor() -> None:
    """With ``warn_float64='raise'``, so that none of the graphs holds a float64."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    with pytensor.config.change_flags(floatX="float32"):
        x = pt.matrix("x", dtype="float32")
        theirs = {
            k: v.dtype for k, v in _mixes(pt, x, pt.scalar(dtype="int8"), pt.scalar(dtype="int16")).items()
        }
    with fc.config.change_flags(floatX="float32", warn_float64="raise"):
        x = ft.matrix("x", dtype="float32")
        for name, y in _mixes(ft, x, ft.scalar(dtype="int8"), ft.scalar(dtype="int16")).items():
            g = fc.grad(ft.sum(y), x)
            assert (y.dtype, g.dtype) == (theirs[name], "float32"), f"{name}: {y.dtype}, gradient {g.dtype}"
            assert not float64_sources([g]), f"{name}: {float64_sources([g])}"


def _accidents(x: Any) -> dict[str, tuple[Any, str]]:
    """The float64 a float32 user makes by accident, and the function each names."""
    from fncache.tensor import data_ops, fft, linalg_extra, linalg_scipy

    m, n = ft.fmatrix("m"), ft.imatrix("n")  # float32 with int32: float64, as numpy's
    return {
        "x / x.shape[0]": (lambda: x / x.shape[0], "true_div"),
        "x * int64 vector": (lambda: x * ft.lvector("n"), "mul"),
        "mean of ints": (lambda: ft.mean(ft.lvector("n")), "mean"),
        "var of ints": (lambda: ft.var(ft.lvector("n")), "var"),
        "median of ints": (lambda: ft.median(ft.lvector("n")), "median"),
        "cov of ints": (lambda: ft.cov(ft.lmatrix("n")), "cov"),
        "rfft of ints": (lambda: fft.rfft(ft.lmatrix("n")), "rfft"),
        "bincount of int weights": (
            lambda: data_ops.bincount(ft.lvector("n"), weights=ft.lvector("w")),
            "bincount",
        ),
        "solve_discrete_are of ints": (
            lambda: linalg_scipy.solve_discrete_are(m, m, m, n),
            "solve_discrete_are",
        ),
        "solve_discrete_lyapunov of ints": (
            lambda: linalg_extra.solve_discrete_lyapunov(m, n),
            "solve_discrete_lyapunov",
        ),
    }


def test_warn_float64_names_the_float64_a_float32_user_makes_and_the_fix() -> None:
    """'raise' raises Float64Error, 'warn' warns, naming the function, the operands' dtypes
    and the cast to write; 'ignore' says nothing."""
    silent = []
    with fc.config.change_flags(floatX="float32"):
        x = ft.fvector("x")
        for name, (make, op) in _accidents(x).items():
            with fc.config.change_flags(warn_float64="raise"):
                try:
                    make()
                except Float64Error as e:
                    msg = str(e)
                else:
                    silent.append(name)
                    continue
            assert msg.startswith(f"{op}: creates a float64 result from inputs of dtype "), f"{name}: {msg}"
            assert "'float32')" in msg and "warn_float64='ignore'" in msg, f"{name}: {msg}"
            with fc.config.change_flags(warn_float64="warn"), pytest.warns(UserWarning, match=f"^{op}: "):
                assert make().dtype == "float64"
            with fc.config.change_flags(warn_float64="ignore"), warnings.catch_warnings():
                warnings.simplefilter("error")
                make()
    assert not silent, f"float64 made without warn_float64: {silent}"


def test_bincount_of_float32_weights_sums_in_float32_as_pytensor() -> None:
    """numpy's sums (in float64) rounded to float32, PyTensor's dtype; the weights' gradient
    float32, each weight its bin's."""
    pt = pytest.importorskip("pytensor.tensor")
    from fncache.tensor import data_ops

    values, weights = np.array([0, 2, 2, 1, 5]), np.array([0.1, 0.2, 0.3, 1e-8, 3.0], "float32")
    assert pt.extra_ops.bincount(values, weights=pt.fvector()).dtype == "float32"
    w = ft.fvector("w")
    sums = data_ops.bincount(values, weights=w, minlength=7)
    g = fc.grad(ft.sum(sums * np.arange(7, dtype="float32")), w)
    got, got_g = fc.function([w], [sums, g], mode=MODE)(weights)
    assert (got.dtype, got_g.dtype) == (np.float32, np.float32)
    np.testing.assert_array_equal(got, np.bincount(values, weights, 7).astype("float32"))
    np.testing.assert_array_equal(got_g, values.astype("float32"))


def test_logistic_regression_tutorial_trains_in_float32_as_numpy_float32() -> None:
    """The tutorial's 400 x 784 logistic regression under ``floatX=float32`` (and
    ``warn_float64='raise'``): the gradients and the shared values stay float32 through five
    steps, each equal to numpy's float32 steps."""
    rng = np.random.default_rng(32)
    data, labels = (
        rng.standard_normal((400, 784)).astype("float32"),
        rng.integers(0, 2, 400).astype("float32"),
    )
    w0 = (rng.standard_normal(784) * 0.01).astype("float32")
    with fc.config.change_flags(floatX="float32", warn_float64="raise"):
        x, y = ft.matrix("x"), ft.vector("y")
        w, b = fc.shared(w0.copy(), name="w"), fc.shared(0.0, name="b")
        p_1 = 1 / (1 + ft.exp(-ft.dot(x, w) - b))
        xent = -y * ft.log(p_1) - (1 - y) * ft.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w**2).sum()
        gw, gb = fc.grad(cost, [w, b])
        assert (gw.type, gb.type) == (w.type, b.type) and not float64_sources([cost, gw, gb])
        train = fc.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
        costs = [train(data, labels) for _ in range(5)]
    want_w, want_b, want_costs = w0.copy(), np.float32(0), []
    for _ in range(5):
        p = 1 / (1 + np.exp(-(data @ want_w) - want_b))
        want_costs.append(
            np.mean(-labels * np.log(p) - (1 - labels) * np.log(1 - p)) + 0.01 * np.sum(want_w**2)
        )
        err = (p - labels) / np.float32(400)
        want_w, want_b = want_w - 0.1 * (data.T @ err + 0.02 * want_w), want_b - 0.1 * np.sum(err)
    assert want_w.dtype == want_b.dtype == np.float32
    got_w, got_b = w.get_value(), b.get_value()
    assert (got_w.dtype, np.asarray(got_b).dtype, np.asarray(costs[-1]).dtype) == (np.float32,) * 3
    np.testing.assert_allclose(costs, want_costs, rtol=1e-5)
    np.testing.assert_allclose(got_w, want_w, rtol=0, atol=1e-5 * np.max(np.abs(want_w)))
    np.testing.assert_allclose(got_b, want_b, rtol=1e-5, atol=1e-7)


def test_warn_float64_pdb_warns_then_stops_in_the_debugger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Theano's 'pdb': the warning, then the debugger, once per float64 made."""
    import pdb

    stops = []
    monkeypatch.setattr(pdb, "set_trace", lambda: stops.append(1))
    with fc.config.change_flags(floatX="float32", warn_float64="pdb"):
        x = ft.fvector("x")
        with pytest.warns(UserWarning, match="^true_div: creates a float64"):
            x / x.shape[0]
        assert stops == [1]
        fc.grad(ft.sum(x / 3 * 2.5), x)
        assert stops == [1]
